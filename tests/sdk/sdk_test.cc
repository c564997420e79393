// Guests written beyond C: the Rust SDK's example tool (sdk/rust/examples/http_get.rs, built to
// build/guest/http_get.wasm by Debian's rustc) run by `wasmcap run --manifest --config` against a
// real HTTPS server on 127.0.0.1, and the C++ example (guest/cpp/wordfreq.cc, libc++ for
// wasm32-wasi).
#include <nlohmann/json.hpp>

#include "https_test_server.h"
#include "test_support.h"

namespace wasmcap {
namespace {

using nlohmann::json;
using testing::HttpsTestServer;
using testing::ProcResult;
using testing::TempDir;
using testing::TestPki;

const std::string kSecret = "rust-sdk-secret-0b7d1f";

struct World {
  TempDir dir;
  TestPki pki;
  HttpsTestServer server;
  std::string manifest, config, audit;

  bool setup() {
    if (!pki.generate(dir.str() + "/pki", {"api.test", "other.test"})) {
      ADD_FAILURE() << pki.error();
      return false;
    }
    if (!server.start(pki)) {
      ADD_FAILURE() << server.error();
      return false;
    }
    std::string secret_file = dir.str() + "/tok";
    testing::write_text(secret_file, kSecret);
    audit = dir.str() + "/audit.jsonl";
    manifest = dir.str() + "/manifest.json";
    config = dir.str() + "/config.json";
    std::filesystem::copy_file(testing::guest_path("http_get"), dir.path() / "http_get.wasm");
    json rule = {{"host", "api.test"}, {"methods", {"GET"}}, {"path_prefix", "/"}};
    json m = {{"name", "http-get"}, {"version", "0.1.0"},
              {"module", "http_get.wasm"},
              {"permissions", {{"host_api", {{"https", {{"allow", {rule}}, {"secrets", {"tok"}}}}}}}}};
    testing::write_text(manifest, m.dump());
    json c = {{"plugins",
               {{"http-get",
                 {{"grants",
                   {{"host_api",
                     {{"https",
                       {{"allow", {rule}},
                        {"secrets", {{"tok", {{"file", secret_file}, {"hosts", {"api.test"}}}}}}}}}}}}}}}},
              {"network",
               {{"resolve", {{"api.test", "127.0.0.1"}, {"other.test", "127.0.0.1"}}},
                {"allow_private", {"127.0.0.1/32"}},
                {"ca_file", pki.ca_file()}}},
              {"audit", {{"file", audit}}}};
    testing::write_text(config, c.dump());
    return true;
  }

  ProcResult call(const json& args) {
    testing::ProcOptions o;
    o.stdin_data = args.dump();
    return testing::run_cli({"run", "--manifest", manifest, "--config", config}, o);
  }
};

json parse_one(const std::string& out) {
  if (out.empty() || out.back() != '\n' || out.find('\n') != out.size() - 1) return json();
  return json::parse(out, nullptr, false);
}

TEST(RustSdk, ToolGetsTheResponseThroughTheHttpsAbi) {
  World w;
  ASSERT_TRUE(w.setup());
  ProcResult r = w.call({{"url", w.server.url("api.test", "/echo?q=1")},
                         {"headers", {{"X-Api-Key", "secret:tok"}}}});
  ASSERT_EQ(r.exit_code, 0) << testing::describe(r);
  json out = parse_one(r.out);
  ASSERT_TRUE(out.is_object()) << r.out;
  EXPECT_EQ(out["status"], 200);
  EXPECT_EQ(out["truncated"], false);
  json echo = json::parse(out["body"].get<std::string>(), nullptr, false);
  ASSERT_TRUE(echo.is_object()) << out["body"];
  EXPECT_EQ(echo["method"], "GET");
  EXPECT_EQ(echo["path"], "/echo");
  // The secret reached the server (injected host-side), never the plugin's output.
  EXPECT_NE(w.server.requests().find(kSecret), std::string::npos);
  EXPECT_EQ(r.out.find(kSecret), std::string::npos);
  // run_start, the attempt (written before the request left), the outcome, run_end; all with
  // the same invocation id.
  auto lines = testing::lines_of(testing::read_text(w.audit));
  ASSERT_EQ(lines.size(), 4u) << testing::read_text(w.audit);
  json start = json::parse(lines[0]), attempt = json::parse(lines[1]), req = json::parse(lines[2]),
       end = json::parse(lines[3]);
  EXPECT_EQ(start["event"], "run_start");
  EXPECT_EQ(attempt["event"], "https_attempt");
  EXPECT_EQ(attempt["invocation_id"], start["invocation_id"]);
  EXPECT_EQ(req["event"], "https_request");
  EXPECT_EQ(req["decision"], "allowed");
  EXPECT_EQ(end["event"], "run_end");
  EXPECT_EQ(end["exit_code"], 0);
  EXPECT_EQ(req["invocation_id"], start["invocation_id"]);
  EXPECT_EQ(end["invocation_id"], start["invocation_id"]);
}

TEST(RustSdk, DeniedRequestIsAToolErrorWithTheHostsCode) {
  World w;
  ASSERT_TRUE(w.setup());
  ProcResult r = w.call({{"url", w.server.url("other.test", "/echo")}});
  EXPECT_EQ(r.exit_code, 1) << testing::describe(r);
  json out = parse_one(r.out);
  ASSERT_TRUE(out.is_object()) << r.out;
  EXPECT_EQ(out["error"]["code"], "grant_denied");
  EXPECT_EQ(testing::lines_of(w.server.requests()).size(), 0u);
}

TEST(RustSdk, BadArgumentsAreAToolError) {
  World w;
  ASSERT_TRUE(w.setup());
  for (const std::string& text : {std::string("{"), std::string("{\"url\": 5}")}) {
    testing::ProcOptions o;
    o.stdin_data = text;
    ProcResult r = testing::run_cli({"run", "--manifest", w.manifest, "--config", w.config}, o);
    EXPECT_EQ(r.exit_code, 1) << testing::describe(r);
    EXPECT_EQ(parse_one(r.out)["error"]["code"], "invalid_arguments") << r.out;
  }
}

TEST(CppGuest, WordFrequenciesWithLibcxx) {
  testing::ProcOptions o;
  o.stdin_data = "The cat and the hat. THE END, and-the cat!";
  ProcResult r = testing::run_cli({"run", testing::guest_path("wordfreq"), "-n", "3"}, o);
  ASSERT_EQ(r.exit_code, 0) << testing::describe(r);
  EXPECT_EQ(r.out, "4 the\n2 and\n2 cat\n");
  ProcResult bad = testing::run_cli({"run", testing::guest_path("wordfreq"), "-n", "x"});
  EXPECT_EQ(bad.exit_code, 2) << testing::describe(bad);
}

}  // namespace
}  // namespace wasmcap

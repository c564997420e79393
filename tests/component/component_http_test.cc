// wasi:http end to end: a JavaScript component built by componentize-js (tests/component/js/,
// js_components.sh runs this with WASMCAP_TEST_JS_COMPONENT) calls `fetch` against a real HTTPS
// server on 127.0.0.1 (tests/support/https_test_server.h), through `wasmcap call --manifest
// --config`: the request goes out only as the https grant allows, reaches the server with the
// secret the header referenced, comes back scrubbed of it, and leaves its audit records; a
// denied host, a component whose manifest asks for no https and a response over the bound are
// refused or flagged. WASMCAP_TEST_ENGINE=aot (component_http-aot) runs the same cases on the aot
// engine, from the object js_components.sh compiled into WASMCAP_TEST_AOT_CACHE.
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "https_test_server.h"
#include "test_support.h"

namespace wasmcap {
namespace {

using nlohmann::json;
using testing::count_of;

const std::string kSecret = "js-s3cr3t-5d0c8e1f";

class ComponentHttp : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* c = std::getenv("WASMCAP_TEST_JS_COMPONENT");
    ASSERT_NE(c, nullptr) << "WASMCAP_TEST_JS_COMPONENT is not set: run through js_components.sh";
    // The manifest names its module relative to its own directory.
    component_ = dir_.str() + "/js.wasm";
    std::filesystem::copy_file(c, component_);
    ASSERT_TRUE(pki_.generate(dir_.str() + "/pki", {"api.test", "other.test"})) << pki_.error();
    ASSERT_TRUE(server_.start(pki_)) << server_.error();
    secret_file_ = dir_.str() + "/tok";
    testing::write_text(secret_file_, kSecret);
    audit_ = dir_.str() + "/audit.jsonl";
  }
  // The manifest (asking for https to api.test when `request`) and the host config granting it
  // with at most `max_response_bytes` of a response.
  void write_policy(bool request, uint64_t max_response_bytes = 1 << 20) {
    const json rule = {{"host", "api.test"}, {"methods", {"GET", "POST"}}, {"path_prefix", "/"}};
    // StarlingMonkey reads the clocks and random when it starts.
    json m = {{"name", "js"}, {"version", "0.1.0"}, {"module", "js.wasm"},
              {"permissions", {{"clocks", {"wall", "monotonic"}}, {"random", true}}}};
    if (request) m["permissions"]["host_api"]["https"] = {{"allow", {rule}}, {"secrets", {"tok"}}};
    testing::write_text(manifest_, m.dump());
    json grants;
    grants["host_api"]["https"] = {{"allow", {rule}},
                                   {"secrets", {{"tok", {{"file", secret_file_}, {"hosts", {"api.test"}}}}}},
                                   {"max_response_bytes", max_response_bytes}};
    json c = {{"plugins", {{"js", {{"grants", grants}}}}},
              {"network",
               {{"resolve", {{"api.test", "127.0.0.1"}, {"other.test", "127.0.0.1"}}},
                {"allow_private", {"127.0.0.1/32"}},
                {"ca_file", pki_.ca_file()}}},
              {"audit", {{"file", audit_}}}};
    testing::write_text(config_, c.dump());
  }
  // `wasmcap call` of the component's get(url, method, body): its JSON string result.
  std::string get(const std::string& url, const std::string& method = "GET", const std::string& body = "") {
    testing::ProcOptions po;
    po.timeout_ms = 120000;
    const char* e = std::getenv("WASMCAP_TEST_ENGINE");
    const std::string engine = e != nullptr && std::string(e) == "aot" ? "aot" : "interp";
    std::vector<std::string> argv = {"call", "--engine", engine};
    if (engine == "aot") {
      const char* cache = std::getenv("WASMCAP_TEST_AOT_CACHE");
      EXPECT_NE(cache, nullptr) << "WASMCAP_TEST_AOT_CACHE is not set: run through js_components.sh";
      // Compiled before by js_components.sh: a run that had to compile would fail here.
      if (cache != nullptr) argv.insert(argv.end(), {"--cache-dir", cache, "--compile-timeout-ms", "1"});
    }
    argv.insert(argv.end(), {"--manifest", manifest_, "--config", config_, component_, "get", "--json",
                             json{{"url", url}, {"method", method}, {"body", body}}.dump()});
    last_ = testing::run_cli(argv, po);
    EXPECT_EQ(last_.exit_code, 0) << testing::describe(last_);
    json j = json::parse(last_.out, nullptr, false);
    return j.is_string() ? j.get<std::string>() : "<" + last_.out + ">";
  }
  std::vector<json> records(const std::string& event) const {
    std::vector<json> out;
    for (const std::string& l : testing::lines_of(testing::read_text(audit_))) {
      json j = json::parse(l, nullptr, false);
      if (j.value("event", "") == event) out.push_back(j);
    }
    return out;
  }
  size_t server_requests() const { return testing::lines_of(server_.requests()).size(); }
  void expect_no_secret() const {
    EXPECT_EQ(count_of(last_.out, kSecret), 0u) << "the secret reached the component's result";
    EXPECT_EQ(count_of(last_.err, kSecret), 0u) << "the secret reached stderr";
    EXPECT_EQ(count_of(testing::read_text(audit_), kSecret), 0u) << "the secret reached the audit file";
  }

  testing::TempDir dir_;
  testing::TestPki pki_;
  testing::HttpsTestServer server_;
  std::string component_, secret_file_, audit_;
  std::string manifest_ = dir_.str() + "/manifest.json", config_ = dir_.str() + "/config.json";
  testing::ProcResult last_;
};

TEST_F(ComponentHttp, AGrantedFetchGoesThroughTheHttpsPolicyWithTheSecretByReference) {
  write_policy(true);
  const std::string got = get(server_.url("api.test", "/echo?x=1"), "POST", "hi there");
  ASSERT_EQ(got.rfind("200 ", 0), 0u) << got;
  const json echo = json::parse(got.substr(4), nullptr, false);
  ASSERT_TRUE(echo.is_object()) << got;
  EXPECT_EQ(echo.value("method", ""), "POST");
  EXPECT_EQ(echo.value("body", ""), "hi there");
  // The server got the secret's value for the header that named it; the echo of it came back
  // scrubbed, so the component never saw it.
  const std::string seen = server_.requests();
  EXPECT_EQ(count_of(seen, kSecret), 1u) << seen;
  EXPECT_EQ(count_of(seen, "secret:tok"), 0u) << seen;
  expect_no_secret();
  const auto done = records("https_request");
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].value("decision", ""), "allowed");
  EXPECT_EQ(done[0].value("method", ""), "POST");
  EXPECT_EQ(done[0].value("status", 0), 200);
  EXPECT_EQ(records("https_attempt").size(), 1u);
}

TEST_F(ComponentHttp, AHostTheGrantDoesNotNameIsRefusedBeforeAnythingLeaves) {
  write_policy(true);
  const std::string got = get(server_.url("other.test", "/echo"));
  EXPECT_EQ(got.rfind("error ", 0), 0u) << got;
  EXPECT_EQ(server_requests(), 0u);
  const auto done = records("https_request");
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].value("decision", ""), "denied");
  // A method the grant does not name, on the granted host, too.
  EXPECT_EQ(get(server_.url("api.test", "/echo"), "DELETE").rfind("error ", 0), 0u);
  EXPECT_EQ(server_requests(), 0u);
}

// The rest of the policy holds as for a core module, through the same client: a path outside the
// grant's prefix, a redirect to a host the grant does not name (followed only as far as allowed:
// here redirects are not granted at all), an address the operator did not allow.
TEST_F(ComponentHttp, PathRedirectAndAddressRulesHold) {
  write_policy(true);
  // Narrow the grant to /echo: /status is outside it.
  std::string m = testing::read_text(manifest_), c = testing::read_text(config_);
  for (std::string* t : {&m, &c}) {
    const std::string from = "\"path_prefix\":\"/\"", to = "\"path_prefix\":\"/echo\"";
    ASSERT_NE(t->find(from), std::string::npos);
    t->replace(t->find(from), from.size(), to);
  }
  testing::write_text(manifest_, m);
  testing::write_text(config_, c);
  EXPECT_EQ(get(server_.url("api.test", "/status/200")).rfind("error ", 0), 0u);
  EXPECT_EQ(server_requests(), 0u);
  EXPECT_EQ(get(server_.url("api.test", "/echo")).rfind("200 ", 0), 0u);
  EXPECT_EQ(server_requests(), 1u);
  // /echo/../redirect is not under /echo once normalized; a redirect to other.test is denied.
  write_policy(true);
  const std::string to = server_.url("other.test", "/echo");
  // Redirects are not granted (max_redirects 0): the client hands the 302 back rather than
  // follow it; StarlingMonkey's fetch then follows it itself, with a new request to other.test,
  // which the grant refuses. Either way no request for other.test reaches the server.
  const std::string redirected = get(server_.url("api.test", "/redirect?to=" + to));
  EXPECT_TRUE(redirected.rfind("error ", 0) == 0 || redirected.rfind("302 ", 0) == 0) << redirected;
  const size_t seen = server_requests();
  EXPECT_EQ(seen, 2u);  // the redirect itself was asked for; the hop to other.test never left
  for (const std::string& l : testing::lines_of(server_.requests())) {
    EXPECT_NE(json::parse(l, nullptr, false).value("host", "").rfind("other.test", 0), 0u) << l;
  }
  const auto hops = records("https_request");
  ASSERT_FALSE(hops.empty());
  EXPECT_EQ(hops.back().value("decision", ""), redirected.rfind("302 ", 0) == 0 ? "allowed" : "denied")
      << redirected;
  // 127.0.0.1 is reachable only because the operator allowed it: without allow_private, refused.
  std::string nc = testing::read_text(config_);
  const std::string allow = "\"allow_private\":[\"127.0.0.1/32\"],";
  ASSERT_NE(nc.find(allow), std::string::npos) << nc;
  nc.erase(nc.find(allow), allow.size());
  testing::write_text(config_, nc);
  EXPECT_EQ(get(server_.url("api.test", "/echo")).rfind("error ", 0), 0u);
  EXPECT_EQ(server_requests(), seen);
  const auto done = records("https_request");
  ASSERT_FALSE(done.empty());
  EXPECT_EQ(done.back().value("decision", ""), "denied");
}

TEST_F(ComponentHttp, WithoutAnHttpsRequestInTheManifestNothingLeaves) {
  write_policy(false);
  EXPECT_EQ(get(server_.url("api.test", "/echo")).rfind("error ", 0), 0u);
  EXPECT_EQ(server_requests(), 0u);
  EXPECT_TRUE(records("https_request").empty());
}

// A response over the grant's bound is cut, and the body's stream says so at its end
// (HTTP-response-body-size): the component's read fails instead of taking a short body as whole.
TEST_F(ComponentHttp, AResponseOverTheBoundIsNotTakenAsWhole) {
  write_policy(true, 1000);
  const std::string got = get(server_.url("api.test", "/big?n=5000"));
  EXPECT_EQ(got.rfind("error ", 0), 0u) << got.substr(0, 200);
  const auto done = records("https_request");
  ASSERT_EQ(done.size(), 1u);
  EXPECT_TRUE(done[0].value("truncated", false));
}

}  // namespace
}  // namespace wasmcap

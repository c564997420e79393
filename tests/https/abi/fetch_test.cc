// guest/fetch.c (built to build/guest/fetch.wasm) and the guest SDK, run in-process through
// run_module with a scripted client (RunOptions::https_client): argument parsing, the request the
// host receives, and the one JSON object printed — escaping, header combining, chunked body.
#include <nlohmann/json.hpp>

#include "fake_client.h"
#include "test_support.h"
#include "wasmcap/https.h"

namespace wasmcap {
namespace {

using nlohmann::json;
using testing::Captured;
using testing::FakeClient;
using testing::failure;
using testing::ok_response;

struct FetchRun {
  Captured c;
  json out;  // parsed stdout (null when it is not one JSON object)
};

FetchRun run_fetch(const std::shared_ptr<FakeClient>& client, std::vector<std::string> args) {
  RunOptions o;
  o.host_apis.add(Capability::kHostApiHttps);
  o.https_client = client;
  o.wasi.args = {"fetch"};
  for (auto& a : args) o.wasi.args.push_back(std::move(a));
  FetchRun r;
  r.c = testing::run_guest("fetch", o);
  // Exactly one line, one object.
  if (!r.c.out.empty() && r.c.out.back() == '\n' &&
      r.c.out.find('\n') == r.c.out.size() - 1) {
    r.out = json::parse(r.c.out, nullptr, /*allow_exceptions=*/false);
  }
  return r;
}

int exit_code(const FetchRun& r) { return r.c.report ? r.c.report->exit_code : -1000; }

TEST(FetchGuest, GetPrintsStatusHeadersBodyAndTruncated) {
  auto client = std::make_shared<FakeClient>([](const https::Request&) {
    return ok_response(200, "{\"ok\":true}",
                       {{"Content-Type", "application/json"}, {"X-Multi", "a"}, {"x-multi", "b"}});
  });
  FetchRun r = run_fetch(client, {"https://api.example.com/v1/x"});
  ASSERT_EQ(exit_code(r), 0) << r.c.err;
  ASSERT_TRUE(r.out.is_object()) << r.c.out;
  EXPECT_EQ(r.out["status"], 200);
  EXPECT_EQ(r.out["headers"]["content-type"], "application/json");
  EXPECT_EQ(r.out["headers"]["x-multi"], "a, b") << "repeated headers are combined";
  EXPECT_EQ(r.out["headers"].size(), 2u);
  EXPECT_EQ(r.out["body"], "{\"ok\":true}");
  EXPECT_EQ(r.out["truncated"], false);
  ASSERT_EQ(client->seen.size(), 1u);
  EXPECT_EQ(client->seen[0].method, "GET");
  EXPECT_EQ(client->seen[0].url, "https://api.example.com/v1/x");
  EXPECT_TRUE(client->seen[0].headers.empty());
  EXPECT_TRUE(client->seen[0].body.empty());
  EXPECT_FALSE(client->seen[0].strict);
}

TEST(FetchGuest, MethodHeadersBodyAndStrictReachTheHost) {
  auto client = std::make_shared<FakeClient>(
      [](const https::Request&) { return ok_response(201, "", {}, true); });
  FetchRun r = run_fetch(client, {"-X", "post", "-H", "Accept: application/json", "-H",
                                  "Authorization:secret:tok", "-H", "X-Empty:", "-d",
                                  "a=1&b=\"2\"", "--strict", "https://h.example/p"});
  ASSERT_EQ(exit_code(r), 0) << r.c.err;
  EXPECT_EQ(r.out["status"], 201);
  EXPECT_EQ(r.out["truncated"], true);
  ASSERT_EQ(client->seen.size(), 1u);
  const https::Request& q = client->seen[0];
  EXPECT_EQ(q.method, "POST");
  ASSERT_EQ(q.headers.size(), 3u);
  EXPECT_EQ(q.headers[0].name, "Accept");
  EXPECT_EQ(q.headers[0].value, "application/json");
  EXPECT_EQ(q.headers[1].name, "Authorization");
  EXPECT_EQ(q.headers[1].value, "secret:tok") << "secret references pass through unresolved";
  EXPECT_EQ(q.headers[2].value, "");
  EXPECT_EQ(q.body, "a=1&b=\"2\"");
  EXPECT_TRUE(q.strict);
}

TEST(FetchGuest, ErrorsAreOneJsonObjectAndExitOne) {
  auto client = std::make_shared<FakeClient>([](const https::Request&) {
    return failure(https::HttpsError::kGrantDenied,
                   "no grant allows GET https://evil.example/ (\"quoted\"\n)");
  });
  FetchRun r = run_fetch(client, {"https://evil.example/"});
  EXPECT_EQ(exit_code(r), 1);
  ASSERT_TRUE(r.out.is_object()) << r.c.out;
  EXPECT_EQ(r.out.size(), 1u);
  EXPECT_EQ(r.out["error"]["code"], "grant_denied");
  EXPECT_EQ(r.out["error"]["message"], "no grant allows GET https://evil.example/ (\"quoted\"\n)");
}

TEST(FetchGuest, UsageErrorsExitTwoWithoutARequest) {
  auto client = std::make_shared<FakeClient>([](const https::Request&) { return ok_response(200, ""); });
  for (const auto& args : std::vector<std::vector<std::string>>{
           {}, {"-X"}, {"-H", "NoColon", "https://a/"}, {"--bogus", "https://a/"},
           {"https://a/", "https://b/"}, {"-H", ": v", "https://a/"}}) {
    FetchRun r = run_fetch(client, args);
    EXPECT_EQ(exit_code(r), 2) << r.c.out << r.c.err;
    EXPECT_TRUE(r.c.out.empty());
    EXPECT_NE(r.c.err.find("usage: fetch"), std::string::npos);
  }
  EXPECT_TRUE(client->seen.empty());
}

// The JSON string escaping of the body: every byte value, invalid UTF-8, and multi-byte sequences
// split across the guest's 16 KiB read chunks.
TEST(FetchGuest, BodyEscapingIsValidJsonForAnyBytes) {
  std::string body;
  for (int i = 0; i < 256; ++i) body += static_cast<char>(i);
  body += "\"\\/</script>\xE2\x82\xAC \xF0\x9F\x98\x80 \xC3\xA9";  // quotes, €, emoji, é
  body += "\xC0\xAF \xED\xA0\x80 \xF4\x90\x80\x80 \xE2\x82";  // overlong, surrogate, >U+10FFFF, cut
  auto client = std::make_shared<FakeClient>([&](const https::Request&) { return ok_response(200, body); });
  FetchRun r = run_fetch(client, {"https://a.example/"});
  ASSERT_EQ(exit_code(r), 0) << r.c.err;
  ASSERT_TRUE(r.out.is_object()) << "stdout is not valid JSON: " << r.c.out.substr(0, 500);
  std::string got = r.out["body"];
  // Expected: ASCII as is; 0x80..0xFF alone are invalid → U+FFFD each; valid sequences kept.
  std::string want;
  for (int i = 0; i < 128; ++i) want += static_cast<char>(i);
  for (int i = 128; i < 256; ++i) want += "\xEF\xBF\xBD";
  want += "\"\\/</script>\xE2\x82\xAC \xF0\x9F\x98\x80 \xC3\xA9";
  const std::string R = "\xEF\xBF\xBD";
  want += R + R + " " + R + R + R + " " + R + R + R + R + " " + R + R;
  EXPECT_EQ(got, want);
  // Control characters are escaped, never raw, in the output line.
  for (char c = 0; c < 0x20; ++c) {
    if (c == '\n') continue;
    EXPECT_EQ(r.c.out.find(c), std::string::npos) << "raw control char " << int(c);
  }
}

TEST(FetchGuest, LargeBodyIsStreamedInChunksWithSplitSequences) {
  // 200 KB of 3- and 4-byte characters at odd alignments: many cross a 16 KiB chunk boundary.
  std::string unit = "a\xE2\x82\xAC\xF0\x9F\x98\x80\"\n";  // 1 + 3 + 4 + 1 + 1 = 10 bytes
  std::string body;
  while (body.size() < 200000) body += unit;
  auto client = std::make_shared<FakeClient>([&](const https::Request&) { return ok_response(200, body); });
  FetchRun r = run_fetch(client, {"https://a.example/big"});
  ASSERT_EQ(exit_code(r), 0) << r.c.err;
  ASSERT_TRUE(r.out.is_object()) << r.c.out.substr(0, 300);
  EXPECT_EQ(r.out["body"], body);
}

TEST(FetchGuest, HeaderValuesAreEscapedToo) {
  auto client = std::make_shared<FakeClient>([](const https::Request&) {
    return ok_response(204, "", {{"X-Weird", "a\"b\\c\x01\xFF"}, {"X-Ok", "v"}});
  });
  FetchRun r = run_fetch(client, {"https://a.example/"});
  ASSERT_EQ(exit_code(r), 0);
  ASSERT_TRUE(r.out.is_object()) << r.c.out;
  EXPECT_EQ(r.out["headers"]["x-weird"], "a\"b\\c\x01\xEF\xBF\xBD");
  EXPECT_EQ(r.out["body"], "");
}

}  // namespace
}  // namespace wasmcap

namespace wasmcap {
namespace {

testing::Captured run_sdk(const std::shared_ptr<testing::FakeClient>& client,
                          std::vector<std::string> args) {
  RunOptions o;
  o.host_apis.add(Capability::kHostApiHttps);
  o.https_client = client;
  o.wasi.args = {"https_sdk"};
  for (auto& a : args) o.wasi.args.push_back(std::move(a));
  return testing::run_guest("https_sdk", o);
}

TEST(GuestSdk, HighLevelRequestReadsTheWholeResponse) {
  std::string body(70000, 'q');
  body[5] = '\0';  // binary-safe: the length, not strlen, counts
  auto client = std::make_shared<testing::FakeClient>([&](const https::Request&) {
    return testing::ok_response(203, body, {{"A", "1"}, {"Long-Header", std::string(300, 'L')}},
                                true);
  });
  auto c = run_sdk(client, {"high", "https://x.example/", "Authorization", "secret:tok"});
  ASSERT_TRUE(c.report.has_value()) << c.report.error().to_string();
  EXPECT_EQ(c.report->exit_code, 0) << c.out;
  EXPECT_NE(c.out.find("ok=1\nstatus=203\nheaders=2\nh=A:1 (1,1)\nh=Long-Header:" +
                       std::string(300, 'L') + " (11,300)\nbody_len=70000\ntruncated=1\nnul=1\n"),
            std::string::npos)
      << c.out.substr(0, 600);
  EXPECT_NE(c.out.find(body + "\nfreed=1\n"), std::string::npos);
  ASSERT_EQ(client->seen.size(), 1u);
  EXPECT_EQ(client->seen[0].method, "GET");
  ASSERT_EQ(client->seen[0].headers.size(), 1u);
  EXPECT_EQ(client->seen[0].headers[0].value, "secret:tok");
}

TEST(GuestSdk, HighLevelRequestReportsStructuredErrors) {
  auto client = std::make_shared<testing::FakeClient>([](const https::Request&) {
    return testing::failure(https::HttpsError::kPrivateAddress, "10.0.0.1 is a private address");
  });
  auto c = run_sdk(client, {"high", "https://x.example/"});
  ASSERT_TRUE(c.report.has_value());
  EXPECT_EQ(c.report->exit_code, 1);
  EXPECT_EQ(c.out, "ok=0\nerror=private_address\nmessage=10.0.0.1 is a private address\n");
}

TEST(GuestSdk, AbiErrorsBecomeAbiErrorCodes) {
  auto client = std::make_shared<testing::FakeClient>(
      [](const https::Request&) { return testing::ok_response(200, ""); });
  // A header name the ABI refuses (not a token): the SDK reports abi_error, nothing is sent.
  auto c = run_sdk(client, {"high", "https://x.example/", "Bad Name", "v"});
  ASSERT_TRUE(c.report.has_value());
  EXPECT_EQ(c.report->exit_code, 1);
  EXPECT_EQ(c.out, "ok=0\nerror=abi_error\nmessage=wasmcap_https request failed: inval\n");
  EXPECT_TRUE(client->seen.empty());
}

TEST(GuestSdk, NinthOpenHandleIsRefusedAndNotSent) {
  auto client = std::make_shared<testing::FakeClient>(
      [](const https::Request&) { return testing::ok_response(200, "x"); });
  auto c = run_sdk(client, {"leak", "https://x.example/"});
  ASSERT_TRUE(c.report.has_value());
  std::string want;
  for (int i = 0; i < 8; ++i) want += "rc[" + std::to_string(i) + "]=ok\n";
  want += "rc[8]=toomany\n";
  EXPECT_EQ(c.out, want);
  EXPECT_EQ(client->seen.size(), 8u);
}

}  // namespace
}  // namespace wasmcap

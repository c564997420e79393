// Issue #10 items 2 and 9 at the ABI boundary, with the real https::Client (src/https) behind
// register_https_abi and a host buffer standing in for guest memory (the callbacks are called
// directly, as an engine would): a request over a bound is refused before its bytes are copied,
// so host memory stays O(bounds) however the guest aliases its buffers; every audit record stays
// under audit::kMaxRecordBytes; the run's deadline reaches the transfer and ends the run.
#include <sys/resource.h>

#include <chrono>
#include <cstring>

#include <nlohmann/json.hpp>

#include "https_test_server.h"
#include "test_support.h"
#include "wasmcap/audit.h"
#include "wasmcap/https.h"
#include "wasmcap/https_abi.h"

namespace wasmcap {
namespace {

using nlohmann::json;

constexpr uint32_t kBig = 16u << 20;  // the guest's 16 MiB buffer
constexpr uint32_t kMethod = 0, kUrl = 64, kTable = 4096, kOut = 32768, kInfo = 32800,
                   kBuf = 33000, kData = 65536;

long max_rss_kib() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_maxrss;
}

struct Abi {
  std::vector<uint8_t> memory = std::vector<uint8_t>(kData + kBig + 4096, 'a');
  std::vector<std::string> audit;
  HostFuncTable table;
  ExecLimits limits;

  explicit Abi(const policy::HttpsPlan& plan, const policy::NetworkConfig& net = {}) {
    https::ClientOptions o;
    o.plugin = "fetch";
    o.invocation_id = "inv";
    o.audit = audit::callback_sink([this](std::string_view l) { audit.emplace_back(l); });
    auto c = https::Client::create(plan, net, std::move(o));
    EXPECT_TRUE(c) << c.error().to_string();
    https::register_https_abi(std::shared_ptr<https::Client>(std::move(*c)), table);
  }
  void put(uint32_t at, std::string_view s) { std::memcpy(memory.data() + at, s.data(), s.size()); }
  void put32(uint32_t at, uint32_t v) { std::memcpy(memory.data() + at, &v, 4); }
  uint32_t get32(uint32_t at) {
    uint32_t v;
    std::memcpy(&v, memory.data() + at, 4);
    return v;
  }
  HostCallResult call(const char* name, std::vector<uint32_t> args, uint32_t* result) {
    HostContext ctx;
    ctx.memory = GuestMemory(memory.data(), memory.size());
    ctx.limits = &limits;
    std::vector<Value> a;
    for (uint32_t x : args) a.push_back(Value::I32(x));
    Value r[1];
    HostCallResult out = table.find(https::kAbiModule, name)->callback(ctx, a.data(), r);
    *result = r[0].i32;
    return out;
  }
  // The error code behind a handle ("" for a response).
  std::string error_code(uint32_t handle) {
    uint32_t e = 0;
    call("error_code", {handle, kBuf, 64, kBuf + 64}, &e);
    if (e != 0) return "";
    return std::string(reinterpret_cast<char*>(memory.data() + kBuf), get32(kBuf + 64));
  }
};

policy::HttpsPlan plan_for_api() {
  policy::HttpsPlan plan;
  plan.allow = {policy::HttpsRule{"api.test", {"GET", "POST"}, "/"}};
  return plan;
}

// 1024 headers whose names and values all alias one 16 MiB buffer (the 21 GB RSS case):
// refused as request_too_large from the declared lengths, host peak RSS grows by far less than
// one copy of the buffer, and the audit record is small.
TEST(HttpsAbiBounds, AliasedHeadersAreRefusedBeforeAnyCopy) {
  Abi abi(plan_for_api());
  const std::string url = "https://api.test/v1";
  abi.put(kMethod, "GET");
  abi.put(kUrl, url);
  for (uint32_t i = 0; i < https::kMaxRequestHeaders; ++i) {
    abi.put32(kTable + 16 * i + 0, kData);
    abi.put32(kTable + 16 * i + 4, kBig);
    abi.put32(kTable + 16 * i + 8, kData);
    abi.put32(kTable + 16 * i + 12, kBig);
  }
  const long before = max_rss_kib();
  uint32_t e = 99;
  auto r = abi.call("request",
                    {kMethod, 3, kUrl, static_cast<uint32_t>(url.size()), kTable,
                     https::kMaxRequestHeaders, kData, kBig, 0, kOut},
                    &e);
  const long grew_kib = max_rss_kib() - before;
  ASSERT_EQ(r.status, HostStatus::kOk) << r.message;
  ASSERT_EQ(e, 0u);
  EXPECT_EQ(abi.error_code(abi.get32(kOut)), "request_too_large");
  EXPECT_LT(grew_kib, 8 * 1024) << "host peak RSS grew by " << grew_kib << " KiB";
  ASSERT_EQ(abi.audit.size(), 1u);
  EXPECT_LT(abi.audit[0].size(), audit::kMaxRecordBytes);
  json a = json::parse(abi.audit[0]);
  EXPECT_EQ(a["rule"], "max_request_headers");
  EXPECT_EQ(a["request_headers"].size(), 0u);
}

// Each bound on its own, checked on the declared length before copying; the record of each
// refusal is small whatever the declared size.
TEST(HttpsAbiBounds, EveryBoundIsCheckedOnDeclaredLengths) {
  policy::HttpsPlan plan = plan_for_api();
  plan.bounds.max_requests = 5;
  Abi abi(plan);
  abi.put(kMethod, "GET");
  const std::string url = "https://api.test/v1";
  abi.put(kUrl, url);
  const uint32_t ul = static_cast<uint32_t>(url.size());
  struct Case {
    std::vector<uint32_t> args;
    const char* rule;
  };
  // 65 small headers, the first one aliasing the big buffer as its value (16 MiB >
  // max_request_header_bytes).
  abi.put(kBuf, "X-A");
  for (uint32_t i = 0; i < 65; ++i) {
    abi.put32(kTable + 16 * i, kBuf);
    abi.put32(kTable + 16 * i + 4, 3);
    abi.put32(kTable + 16 * i + 8, kBuf);
    abi.put32(kTable + 16 * i + 12, 3);
  }
  abi.put32(kTable + 8, kData);
  abi.put32(kTable + 12, kBig);
  const Case cases[] = {
      {{kMethod, 3, kData, kBig, 0, 0, 0, 0, 0, kOut}, "max_url_bytes"},
      {{kMethod, 3, kUrl, ul, kTable, 65, 0, 0, 0, kOut}, "max_request_headers"},
      {{kMethod, 3, kUrl, ul, kTable, 1, 0, 0, 0, kOut}, "max_request_header_bytes"},
      {{kMethod, 3, kUrl, ul, 0, 0, kData, kBig, 0, kOut}, "max_request_bytes"},
  };
  for (const auto& c : cases) {
    const long before = max_rss_kib();
    uint32_t e = 99;
    ASSERT_EQ(abi.call("request", c.args, &e).status, HostStatus::kOk);
    ASSERT_EQ(e, 0u) << c.rule;
    EXPECT_LT(max_rss_kib() - before, 8 * 1024) << c.rule;
    EXPECT_EQ(abi.error_code(abi.get32(kOut)), "request_too_large") << c.rule;
    json a = json::parse(abi.audit.back());
    EXPECT_EQ(a["rule"], c.rule);
    EXPECT_LT(abi.audit.back().size(), 1024u) << abi.audit.back();
    uint32_t ignored;
    abi.call("close", {abi.get32(kOut)}, &ignored);
  }
  // Four refusals counted; the fifth request is a grant denial (policy reached: the bounds
  // passed), the sixth is rate limited before its 16 MiB URL is even looked at.
  uint32_t e = 99;
  abi.put(kBuf, "https://nope.test/");
  ASSERT_EQ(abi.call("request", {kMethod, 3, kBuf, 18, 0, 0, 0, 0, 0, kOut}, &e).status,
            HostStatus::kOk);
  EXPECT_EQ(abi.error_code(abi.get32(kOut)), "grant_denied");
  ASSERT_EQ(abi.call("request", {kMethod, 3, kData, kBig, 0, 0, 0, 0, 0, kOut + 4}, &e).status,
            HostStatus::kOk);
  EXPECT_EQ(abi.error_code(abi.get32(kOut + 4)), "rate_limited");
  EXPECT_EQ(abi.audit.size(), 6u);
}

// Item 9: the run's deadline (HostContext::limits) reaches the transfer: a stalled server is
// left at the deadline, the call ends the run with deadline_exceeded, and the request has both
// its attempt and its outcome record.
TEST(HttpsAbiBounds, RunDeadlineEndsTheCallAndTheRun) {
  testing::TempDir dir;
  testing::TestPki pki;
  ASSERT_TRUE(pki.generate(dir.str() + "/pki", {"api.test"})) << pki.error();
  testing::HttpsTestServer server;
  ASSERT_TRUE(server.start(pki)) << server.error();
  policy::HttpsPlan plan = plan_for_api();
  plan.bounds.timeout_ms = 20000;
  policy::NetworkConfig net;
  policy::IpAddress lo;
  lo.bytes = {127, 0, 0, 1};
  net.resolve.emplace_back("api.test", lo);
  net.allow_private.push_back(policy::Cidr{lo, 32});
  net.ca_file = pki.ca_file();
  Abi abi(plan, net);
  const std::string url = server.url("api.test", "/stall?ms=15000");
  abi.put(kMethod, "GET");
  abi.put(kUrl, url);
  auto t0 = std::chrono::steady_clock::now();
  abi.limits.deadline = t0 + std::chrono::milliseconds(1000);
  uint32_t e = 99;
  auto r = abi.call("request",
                    {kMethod, 3, kUrl, static_cast<uint32_t>(url.size()), 0, 0, 0, 0, 0, kOut}, &e);
  auto took = std::chrono::steady_clock::now() - t0;
  EXPECT_EQ(r.status, HostStatus::kFail);
  EXPECT_EQ(r.error_code, ErrorCode::kDeadlineExceeded) << r.message;
  EXPECT_LT(took, std::chrono::milliseconds(2000));
  ASSERT_EQ(abi.audit.size(), 2u);
  EXPECT_EQ(json::parse(abi.audit[0])["event"], "https_attempt");
  json outcome = json::parse(abi.audit[1]);
  EXPECT_EQ(outcome["event"], "https_request");
  EXPECT_EQ(outcome["error"], "timeout");
}

}  // namespace
}  // namespace wasmcap

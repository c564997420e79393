// The wasmcap_https ABI boundary (src/https/abi), driven through a real interpreter instance of
// guest/tests/wat/https_abi_probe.wat (trampolines over every import) and a scripted client.
// Every hostile pointer/length/handle must come back as an ABI errno: no crash, no trap, no
// request sent, no byte written outside the guest's buffer.
#include <cstring>
#include <random>

#include "fake_client.h"
#include "test_support.h"
#include "wasmcap/https_abi.h"

namespace wasmcap {
namespace {

using https::AbiErrno;
using testing::FakeClient;
using testing::failure;
using testing::ok_response;

constexpr uint32_t kMem = 65536;  // the probe's one page

struct Probe {
  std::shared_ptr<FakeClient> client;
  std::unique_ptr<Engine> engine = make_fast_engine();
  HostFuncTable table;
  std::unique_ptr<Instance> instance;

  explicit Probe(FakeClient::Responder r) : client(std::make_shared<FakeClient>(std::move(r))) {
    https::register_https_abi(client, table);
    auto bytes = testing::guest_bytes("https_abi_probe");
    auto m = engine->load(bytes.data(), bytes.size());
    EXPECT_TRUE(m.has_value()) << m.error().to_string();
    if (!m) return;
    auto inst = engine->instantiate(*m, table, ExecLimits{});
    EXPECT_TRUE(inst.has_value()) << inst.error().to_string();
    if (inst) instance = std::move(*inst);
  }

  uint8_t* mem() { return instance->memory().range(0, kMem); }
  void put(uint32_t at, std::string_view s) { std::memcpy(mem() + at, s.data(), s.size()); }
  void put32(uint32_t at, uint32_t v) { std::memcpy(mem() + at, &v, 4); }
  uint32_t get32(uint32_t at) {
    uint32_t v;
    std::memcpy(&v, mem() + at, 4);
    return v;
  }
  uint64_t get64(uint32_t at) {
    uint64_t v;
    std::memcpy(&v, mem() + at, 8);
    return v;
  }
  std::string str(uint32_t at, uint32_t n) { return std::string(reinterpret_cast<char*>(mem() + at), n); }

  // Calls export `name`; the ABI errno (or 0xFFFFFFFF when the call itself failed).
  uint32_t call(const std::string& name, std::vector<Value> args) {
    auto r = instance->call(name, args);
    EXPECT_TRUE(r.has_value()) << name << ": " << r.error().to_string();
    if (!r || r->results.empty()) return 0xFFFFFFFFu;
    return r->results[0].i32;
  }
  static std::vector<Value> i32s(std::initializer_list<uint32_t> v) {
    std::vector<Value> out;
    for (uint32_t x : v) out.push_back(Value::I32(x));
    return out;
  }
  uint32_t request(uint32_t mp, uint32_t ml, uint32_t up, uint32_t ul, uint32_t hp, uint32_t hc,
                   uint32_t bp, uint32_t bl, uint32_t flags, uint32_t out) {
    return call("request", i32s({mp, ml, up, ul, hp, hc, bp, bl, flags, out}));
  }
  uint32_t body_read(uint32_t h, uint64_t off, uint32_t buf, uint32_t len, uint32_t out) {
    return call("body_read", {Value::I32(h), Value::I64(off), Value::I32(buf), Value::I32(len),
                              Value::I32(out)});
  }
};

constexpr uint32_t E(AbiErrno e) { return static_cast<uint32_t>(e); }

// Layout used by the tests: strings at fixed offsets, a header array, out slots.
constexpr uint32_t kMethod = 100, kUrl = 200, kHdrName = 400, kHdrVal = 500, kSecName = 600,
                   kSecVal = 700, kHeaders = 800, kBody = 1000, kOut = 2000, kInfo = 2100,
                   kBuf = 4096;
const std::string kUrlText = "https://api.example.com/v1/items?q=1";

// Writes a GET request with two headers (one a secret reference) and returns the request args.
void lay_out(Probe& p) {
  p.put(kMethod, "POST");
  p.put(kUrl, kUrlText);
  p.put(kHdrName, "Accept");
  p.put(kHdrVal, "application/json");
  p.put(kSecName, "Authorization");
  p.put(kSecVal, "secret:tok");
  p.put32(kHeaders + 0, kHdrName);
  p.put32(kHeaders + 4, 6);
  p.put32(kHeaders + 8, kHdrVal);
  p.put32(kHeaders + 12, 16);
  p.put32(kHeaders + 16, kSecName);
  p.put32(kHeaders + 20, 13);
  p.put32(kHeaders + 24, kSecVal);
  p.put32(kHeaders + 28, 10);
  p.put(kBody, "{\"a\":1}");
}

uint32_t good_request(Probe& p, uint32_t flags = 0) {
  return p.request(kMethod, 4, kUrl, static_cast<uint32_t>(kUrlText.size()), kHeaders, 2, kBody, 7,
                   flags, kOut);
}

TEST(HttpsAbi, VersionIsOne) {
  Probe p([](const https::Request&) { return ok_response(200, ""); });
  ASSERT_TRUE(p.instance);
  EXPECT_EQ(p.call("version", {}), https::kAbiVersion);
  EXPECT_EQ(https::kAbiVersion, 1u);
}

TEST(HttpsAbi, RequestReachesTheClientExactlyAndInfoDescribesTheResponse) {
  Probe p([](const https::Request&) {
    return ok_response(201, "hello body", {{"content-type", "text/plain"}, {"x-a", "b"}}, true);
  });
  ASSERT_TRUE(p.instance);
  lay_out(p);
  ASSERT_EQ(good_request(p, 1), E(AbiErrno::kOk));
  ASSERT_EQ(p.client->seen.size(), 1u);
  const https::Request& r = p.client->seen[0];
  EXPECT_EQ(r.method, "POST");
  EXPECT_EQ(r.url, kUrlText);
  ASSERT_EQ(r.headers.size(), 2u);
  EXPECT_EQ(r.headers[0].name, "Accept");
  EXPECT_EQ(r.headers[0].value, "application/json");
  // The secret travels as a reference: the ABI never resolves it (the client does, host-side).
  EXPECT_EQ(r.headers[1].value, "secret:tok");
  EXPECT_EQ(r.body, "{\"a\":1}");
  EXPECT_TRUE(r.strict);

  uint32_t h = p.get32(kOut);
  EXPECT_NE(h, 0u);
  ASSERT_EQ(p.call("response_info", Probe::i32s({h, kInfo})), E(AbiErrno::kOk));
  EXPECT_EQ(p.get32(kInfo + 0), 0u);    // kind: response
  EXPECT_EQ(p.get32(kInfo + 4), 201u);  // status
  EXPECT_EQ(p.get64(kInfo + 8), 10u);   // body_len
  EXPECT_EQ(p.get32(kInfo + 16), 2u);   // header_count
  EXPECT_EQ(p.get32(kInfo + 20), 1u);   // flags: truncated
  EXPECT_EQ(p.call("close", Probe::i32s({h})), E(AbiErrno::kOk));
}

TEST(HttpsAbi, NonStrictFlagAndEmptyPieces) {
  Probe p([](const https::Request&) { return ok_response(204, ""); });
  ASSERT_TRUE(p.instance);
  lay_out(p);
  // No headers, no body; zero-length ranges may point anywhere up to the end of memory.
  ASSERT_EQ(p.request(kMethod, 3, kUrl, 10, kMem, 0, kMem, 0, 0, kOut), E(AbiErrno::kOk));
  ASSERT_EQ(p.client->seen.size(), 1u);
  EXPECT_FALSE(p.client->seen[0].strict);
  EXPECT_TRUE(p.client->seen[0].headers.empty());
  EXPECT_TRUE(p.client->seen[0].body.empty());
}

// Every (ptr, len) argument of request(), pushed out of memory in every way: the call fails with
// fault, the client is never called, and the handle slot is left untouched.
TEST(HttpsAbi, RequestOutOfRangePointersAreFaultsAndSendNothing) {
  Probe p([](const https::Request&) { return ok_response(200, "x"); });
  ASSERT_TRUE(p.instance);
  const std::vector<std::pair<uint32_t, uint32_t>> bad = {
      {kMem, 1},          {kMem - 1, 2},         {kMem + 1, 0},         {0xFFFFFFFFu, 1},
      {0xFFFFFFFFu, 0},   {1, 0xFFFFFFFFu},      {0xFFFFFFF0u, 0x20u},  {0, kMem + 1},
      {kMem / 2, kMem / 2 + 1}, {0x80000000u, 0x80000000u}};
  for (const auto& [ptr, len] : bad) {
    for (int which = 0; which < 4; ++which) {
      lay_out(p);
      p.put32(kOut, 0xA5A5A5A5u);
      uint32_t a[10] = {kMethod, 4, kUrl, static_cast<uint32_t>(kUrlText.size()), kHeaders, 2,
                        kBody, 7, 0, kOut};
      if (which == 0) { a[0] = ptr; a[1] = len; }
      if (which == 1) { a[2] = ptr; a[3] = len; }
      if (which == 2) { a[6] = ptr; a[7] = len; }
      if (which == 3) {  // the 4-byte handle slot
        if (uint64_t{ptr} + 4 <= kMem) continue;  // a valid slot for 4 bytes
        a[9] = ptr;
      }
      // An over-long method is refused for its length before its range is looked at.
      const uint32_t want = which == 0 && len > https::kMaxMethodBytes ? E(AbiErrno::kInval)
                                                                         : E(AbiErrno::kFault);
      uint32_t rc = p.request(a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8], a[9]);
      EXPECT_EQ(rc, want) << "arg " << which << " ptr=" << ptr << " len=" << len;
      EXPECT_EQ(p.get32(kOut), 0xA5A5A5A5u) << "handle slot written on a failed call";
    }
  }
  // The header array itself, and each field of an entry.
  for (const auto& [ptr, len] : bad) {
    lay_out(p);
    // Array pointer out of range (count 2 = 32 bytes).
    if (uint64_t{ptr} + 2 * https::kHeaderEntrySize > kMem) {
      EXPECT_EQ(p.request(kMethod, 4, kUrl, 10, ptr, 2, kBody, 7, 0, kOut), E(AbiErrno::kFault))
          << "headers ptr=" << ptr;
    }
    // Name range, then value range, out of memory.
    lay_out(p);
    p.put32(kHeaders + 16, ptr);
    p.put32(kHeaders + 20, len);
    EXPECT_EQ(good_request(p), E(AbiErrno::kFault)) << "header name ptr=" << ptr << " len=" << len;
    lay_out(p);
    p.put32(kHeaders + 24, ptr);
    p.put32(kHeaders + 28, len);
    EXPECT_EQ(good_request(p), E(AbiErrno::kFault)) << "header value ptr=" << ptr << " len=" << len;
  }
  // An array straddling the end of memory: the last entry's fields are beyond it.
  lay_out(p);
  EXPECT_EQ(p.request(kMethod, 4, kUrl, 10, kMem - 24, 2, kBody, 7, 0, kOut), E(AbiErrno::kFault));
  EXPECT_TRUE(p.client->seen.empty()) << "a faulting call reached the client";
}

TEST(HttpsAbi, MalformedRequestsAreInvalAndSendNothing) {
  Probe p([](const https::Request&) { return ok_response(200, "x"); });
  ASSERT_TRUE(p.instance);
  struct Case {
    const char* what;
    std::function<uint32_t(Probe&)> run;
  };
  const std::vector<Case> cases = {
      {"unknown flag bit", [](Probe& q) { return good_request(q, 2); }},
      {"high flag bit", [](Probe& q) { return good_request(q, 0x80000000u); }},
      {"too many headers",
       [](Probe& q) {
         return q.request(kMethod, 4, kUrl, 10, kHeaders, https::kMaxRequestHeaders + 1, kBody, 7,
                          0, kOut);
       }},
      {"huge header count",
       [](Probe& q) { return q.request(kMethod, 4, kUrl, 10, 0, 0xFFFFFFFFu, kBody, 7, 0, kOut); }},
      {"method too long",
       [](Probe& q) {
         return q.request(kMethod, https::kMaxMethodBytes + 1, kUrl, 10, kHeaders, 2, kBody, 7, 0,
                          kOut);
       }},
      {"empty method",
       [](Probe& q) { return q.request(kMethod, 0, kUrl, 10, kHeaders, 2, kBody, 7, 0, kOut); }},
      {"space in method",
       [](Probe& q) {
         q.put(kMethod, "GE T");
         return good_request(q);
       }},
      {"CRLF in header name",
       [](Probe& q) {
         q.put(kHdrName, "Ac\r\nX");
         return good_request(q);
       }},
      {"colon in header name",
       [](Probe& q) {
         q.put(kHdrName, "Acc:pt");
         return good_request(q);
       }},
      {"empty header name",
       [](Probe& q) {
         q.put32(kHeaders + 4, 0);
         return good_request(q);
       }},
      {"LF in header value",
       [](Probe& q) {
         q.put(kHdrVal, "application\n/json");
         return good_request(q);
       }},
      {"CR in header value",
       [](Probe& q) {
         q.put(kHdrVal, "application\r/json");
         return good_request(q);
       }},
      {"NUL in header value",
       [](Probe& q) {
         q.put(kHdrVal, std::string("appli\0ation/json", 16));
         return good_request(q);
       }},
  };
  for (const auto& c : cases) {
    lay_out(p);
    p.put32(kOut, 0xA5A5A5A5u);
    EXPECT_EQ(c.run(p), E(AbiErrno::kInval)) << c.what;
    EXPECT_EQ(p.get32(kOut), 0xA5A5A5A5u) << c.what;
  }
  EXPECT_TRUE(p.client->seen.empty()) << "a malformed call reached the client";
}

TEST(HttpsAbi, HandleLimitIsCheckedBeforeTheRequestGoesOut) {
  Probe p([](const https::Request&) { return ok_response(200, "x"); });
  ASSERT_TRUE(p.instance);
  lay_out(p);
  std::vector<uint32_t> handles;
  for (uint32_t i = 0; i < https::kMaxOpenHandles; ++i) {
    ASSERT_EQ(good_request(p), E(AbiErrno::kOk));
    handles.push_back(p.get32(kOut));
  }
  p.put32(kOut, 0xA5A5A5A5u);
  EXPECT_EQ(good_request(p), E(AbiErrno::kTooManyHandles));
  EXPECT_EQ(p.get32(kOut), 0xA5A5A5A5u);
  EXPECT_EQ(p.client->seen.size(), https::kMaxOpenHandles) << "the refused request was sent";
  ASSERT_EQ(p.call("close", Probe::i32s({handles[3]})), E(AbiErrno::kOk));
  ASSERT_EQ(good_request(p), E(AbiErrno::kOk));
  uint32_t fresh = p.get32(kOut);
  for (uint32_t h : handles) EXPECT_NE(fresh, h) << "a closed handle number was reused";
}

TEST(HttpsAbi, InvalidAndClosedHandlesAreBadHandleEverywhere) {
  Probe p([](const https::Request&) { return ok_response(200, "body", {{"a", "b"}}); });
  ASSERT_TRUE(p.instance);
  lay_out(p);
  ASSERT_EQ(good_request(p), E(AbiErrno::kOk));
  uint32_t live = p.get32(kOut);
  ASSERT_EQ(good_request(p), E(AbiErrno::kOk));
  uint32_t closed = p.get32(kOut);
  ASSERT_EQ(p.call("close", Probe::i32s({closed})), E(AbiErrno::kOk));
  for (uint32_t h : {0u, closed, live + 1000, 0xFFFFFFFFu, 0x80000000u}) {
    EXPECT_EQ(p.call("response_info", Probe::i32s({h, kInfo})), E(AbiErrno::kBadHandle)) << h;
    EXPECT_EQ(p.call("header_name", Probe::i32s({h, 0, kBuf, 16, kOut})), E(AbiErrno::kBadHandle));
    EXPECT_EQ(p.call("header_value", Probe::i32s({h, 0, kBuf, 16, kOut})), E(AbiErrno::kBadHandle));
    EXPECT_EQ(p.body_read(h, 0, kBuf, 16, kOut), E(AbiErrno::kBadHandle));
    EXPECT_EQ(p.call("error_code", Probe::i32s({h, kBuf, 16, kOut})), E(AbiErrno::kBadHandle));
    EXPECT_EQ(p.call("error_message", Probe::i32s({h, kBuf, 16, kOut})), E(AbiErrno::kBadHandle));
    EXPECT_EQ(p.call("close", Probe::i32s({h})), E(AbiErrno::kBadHandle));
  }
  EXPECT_EQ(p.call("response_info", Probe::i32s({live, kInfo})), E(AbiErrno::kOk));
}

TEST(HttpsAbi, BodyIsReadInChunksAtAnyOffset) {
  std::string body(200000, '\0');
  for (size_t i = 0; i < body.size(); ++i) body[i] = static_cast<char>((i * 7919) >> 3);
  Probe p([&](const https::Request&) { return ok_response(200, body); });
  ASSERT_TRUE(p.instance);
  lay_out(p);
  ASSERT_EQ(good_request(p), E(AbiErrno::kOk));
  uint32_t h = p.get32(kOut);
  ASSERT_EQ(p.call("response_info", Probe::i32s({h, kInfo})), E(AbiErrno::kOk));
  EXPECT_EQ(p.get64(kInfo + 8), body.size());
  // The body is larger than the guest's whole memory; read it through a 3000-byte window.
  std::string got;
  for (uint64_t off = 0;;) {
    ASSERT_EQ(p.body_read(h, off, kBuf, 3000, kOut), E(AbiErrno::kOk));
    uint32_t n = p.get32(kOut);
    if (n == 0) break;
    ASSERT_LE(n, 3000u);
    got += p.str(kBuf, n);
    off += n;
  }
  EXPECT_EQ(got, body);
  // Random offsets and lengths.
  std::mt19937 rng(7);
  for (int i = 0; i < 200; ++i) {
    uint64_t off = rng() % (body.size() + 10);
    uint32_t len = rng() % 5000;
    ASSERT_EQ(p.body_read(h, off, kBuf, len, kOut), E(AbiErrno::kOk));
    uint32_t n = p.get32(kOut);
    uint64_t want = off >= body.size() ? 0 : std::min<uint64_t>(len, body.size() - off);
    ASSERT_EQ(n, want);
    EXPECT_EQ(p.str(kBuf, n), body.substr(off < body.size() ? off : body.size(), n));
  }
  // At or past the end (including offsets that would wrap a 64-bit pointer sum): 0 bytes.
  for (uint64_t off : {uint64_t{body.size()}, uint64_t{1} << 32, ~uint64_t{0}, uint64_t{1} << 63}) {
    p.put32(kOut, 77);
    ASSERT_EQ(p.body_read(h, off, kBuf, 100, kOut), E(AbiErrno::kOk));
    EXPECT_EQ(p.get32(kOut), 0u);
  }
}

// The host writes at most buf_len bytes, and nothing at all when any range is bad.
TEST(HttpsAbi, NeverWritesPastTheGuestBuffer) {
  const std::string value(1000, 'v');
  Probe p([&](const https::Request&) {
    return ok_response(200, std::string(1000, 'b'), {{"x-long", value}});
  });
  ASSERT_TRUE(p.instance);
  lay_out(p);
  ASSERT_EQ(good_request(p), E(AbiErrno::kOk));
  uint32_t h = p.get32(kOut);
  std::memset(p.mem() + kBuf, 0xAA, 4096);
  ASSERT_EQ(p.call("header_value", Probe::i32s({h, 0, kBuf, 3, kOut})), E(AbiErrno::kOk));
  EXPECT_EQ(p.get32(kOut), 1000u) << "full length reported";
  EXPECT_EQ(p.str(kBuf, 3), "vvv");
  EXPECT_EQ(static_cast<uint8_t>(p.mem()[kBuf + 3]), 0xAA) << "byte past buf_len written";
  std::memset(p.mem() + kBuf, 0xAA, 16);
  ASSERT_EQ(p.call("header_name", Probe::i32s({h, 0, kBuf, 0, kOut})), E(AbiErrno::kOk));
  EXPECT_EQ(p.get32(kOut), 6u);
  EXPECT_EQ(static_cast<uint8_t>(p.mem()[kBuf]), 0xAA) << "buf_len 0 wrote a byte";
  ASSERT_EQ(p.body_read(h, 0, kBuf, 5, kOut), E(AbiErrno::kOk));
  EXPECT_EQ(p.get32(kOut), 5u);
  EXPECT_EQ(static_cast<uint8_t>(p.mem()[kBuf + 5]), 0xAA);

  // A buffer that starts inside memory and runs past its end: fault, and its in-range part
  // is left alone.
  std::memset(p.mem() + kMem - 16, 0xAA, 16);
  EXPECT_EQ(p.body_read(h, 0, kMem - 16, 17, kOut), E(AbiErrno::kFault));
  EXPECT_EQ(p.call("header_value", Probe::i32s({h, 0, kMem - 16, 17, kOut})), E(AbiErrno::kFault));
  EXPECT_EQ(p.call("header_name", Probe::i32s({h, 0, kMem - 16, 0xFFFFFFFFu, kOut})),
            E(AbiErrno::kFault));
  EXPECT_EQ(p.call("response_info", Probe::i32s({h, kMem - 16})), E(AbiErrno::kFault));
  for (uint32_t i = kMem - 16; i < kMem; ++i) {
    ASSERT_EQ(static_cast<uint8_t>(p.mem()[i]), 0xAA) << "byte written by a faulting call at " << i;
  }
  // A bad out-length slot fails the call before the buffer is touched.
  std::memset(p.mem() + kBuf, 0xAA, 16);
  EXPECT_EQ(p.body_read(h, 0, kBuf, 16, kMem - 3), E(AbiErrno::kFault));
  EXPECT_EQ(p.call("header_value", Probe::i32s({h, 0, kBuf, 16, kMem})), E(AbiErrno::kFault));
  EXPECT_EQ(p.call("header_value", Probe::i32s({h, 0, kBuf, 16, 0xFFFFFFFEu})), E(AbiErrno::kFault));
  for (uint32_t i = 0; i < 16; ++i) ASSERT_EQ(static_cast<uint8_t>(p.mem()[kBuf + i]), 0xAA);
}

TEST(HttpsAbi, HeadersByIndex) {
  Probe p([](const https::Request&) {
    return ok_response(200, "", {{"content-type", "text/plain"}, {"set-cookie", "a=1"}});
  });
  ASSERT_TRUE(p.instance);
  lay_out(p);
  ASSERT_EQ(good_request(p), E(AbiErrno::kOk));
  uint32_t h = p.get32(kOut);
  ASSERT_EQ(p.call("header_name", Probe::i32s({h, 1, kBuf, 64, kOut})), E(AbiErrno::kOk));
  EXPECT_EQ(p.str(kBuf, p.get32(kOut)), "set-cookie");
  ASSERT_EQ(p.call("header_value", Probe::i32s({h, 0, kBuf, 64, kOut})), E(AbiErrno::kOk));
  EXPECT_EQ(p.str(kBuf, p.get32(kOut)), "text/plain");
  for (uint32_t i : {2u, 3u, 0xFFFFFFFFu}) {
    EXPECT_EQ(p.call("header_name", Probe::i32s({h, i, kBuf, 64, kOut})), E(AbiErrno::kRange));
    EXPECT_EQ(p.call("header_value", Probe::i32s({h, i, kBuf, 64, kOut})), E(AbiErrno::kRange));
  }
  // A response handle has no error.
  EXPECT_EQ(p.call("error_code", Probe::i32s({h, kBuf, 64, kOut})), E(AbiErrno::kWrongKind));
  EXPECT_EQ(p.call("error_message", Probe::i32s({h, kBuf, 64, kOut})), E(AbiErrno::kWrongKind));
}

TEST(HttpsAbi, FailuresAreStructuredErrorsBehindAHandle) {
  Probe p([](const https::Request&) {
    return failure(https::HttpsError::kGrantDenied, "no grant for host api.example.com");
  });
  ASSERT_TRUE(p.instance);
  lay_out(p);
  ASSERT_EQ(good_request(p), E(AbiErrno::kOk));
  uint32_t h = p.get32(kOut);
  ASSERT_EQ(p.call("response_info", Probe::i32s({h, kInfo})), E(AbiErrno::kOk));
  EXPECT_EQ(p.get32(kInfo + 0), 1u);  // kind: error
  EXPECT_EQ(p.get32(kInfo + 4), 0u);
  EXPECT_EQ(p.get64(kInfo + 8), 0u);
  EXPECT_EQ(p.get32(kInfo + 16), 0u);
  ASSERT_EQ(p.call("error_code", Probe::i32s({h, kBuf, 64, kOut})), E(AbiErrno::kOk));
  EXPECT_EQ(p.str(kBuf, p.get32(kOut)), "grant_denied");
  ASSERT_EQ(p.call("error_message", Probe::i32s({h, kBuf, 5, kOut})), E(AbiErrno::kOk));
  EXPECT_EQ(p.get32(kOut), 33u);
  EXPECT_EQ(p.str(kBuf, 5), "no gr");
  EXPECT_EQ(p.body_read(h, 0, kBuf, 16, kOut), E(AbiErrno::kWrongKind));
  EXPECT_EQ(p.call("header_name", Probe::i32s({h, 0, kBuf, 16, kOut})), E(AbiErrno::kWrongKind));
}

TEST(HttpsAbi, EveryErrorCodeHasItsStableName) {
  const std::vector<std::pair<https::HttpsError, std::string>> all = {
#define WASMCAP_X(e, name) {https::HttpsError::e, name},
      WASMCAP_HTTPS_ERRORS(WASMCAP_X)
#undef WASMCAP_X
  };
  for (const auto& [code, name] : all) {
    Probe p([code = code](const https::Request&) { return failure(code, "m"); });
    ASSERT_TRUE(p.instance);
    lay_out(p);
    ASSERT_EQ(good_request(p), E(AbiErrno::kOk));
    ASSERT_EQ(p.call("error_code", Probe::i32s({p.get32(kOut), kBuf, 64, kOut})), E(AbiErrno::kOk));
    EXPECT_EQ(p.str(kBuf, p.get32(kOut)), name);
  }
}

// Random arguments to every function: only documented errnos come back, and the instance (and
// the host) survive.
TEST(HttpsAbi, RandomArgumentsNeverCrash) {
  Probe p([](const https::Request&) { return ok_response(200, std::string(5000, 'z'), {{"a", "b"}}); });
  ASSERT_TRUE(p.instance);
  lay_out(p);
  ASSERT_EQ(good_request(p), E(AbiErrno::kOk));
  const uint32_t live = p.get32(kOut);
  std::mt19937 rng(12345);
  auto pick = [&]() -> uint32_t {
    switch (rng() % 6) {
      case 0: return rng();
      case 1: return rng() % (kMem + 64);
      case 2: return kMem - rng() % 64;
      case 3: return 0xFFFFFFFFu - rng() % 64;
      case 4: return rng() % 64;
      default: return live;
    }
  };
  for (int i = 0; i < 3000; ++i) {
    uint32_t rc = 0;
    switch (rng() % 7) {
      case 0: rc = p.call("response_info", Probe::i32s({pick(), pick()})); break;
      case 1: rc = p.call("header_name", Probe::i32s({pick(), pick(), pick(), pick(), pick()})); break;
      case 2: rc = p.call("header_value", Probe::i32s({pick(), pick(), pick(), pick(), pick()})); break;
      case 3: rc = p.body_read(pick(), (uint64_t{pick()} << 32) | pick(), pick(), pick(), pick()); break;
      case 4: rc = p.call("error_code", Probe::i32s({pick(), pick(), pick(), pick()})); break;
      case 5: rc = p.call("error_message", Probe::i32s({pick(), pick(), pick(), pick()})); break;
      default:
        rc = p.request(pick(), pick() % 40, pick(), pick(), pick(), pick() % 4, pick(), pick(),
                       rng() % 2, pick());
        if (rc == 0) p.call("close", Probe::i32s({p.get32(kOut)}));
        break;
    }
    ASSERT_LE(rc, 6u) << "undocumented errno " << rc;
  }
  EXPECT_EQ(p.call("response_info", Probe::i32s({live, kInfo})), E(AbiErrno::kOk));
}

}  // namespace
}  // namespace wasmcap

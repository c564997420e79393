// libFuzzer target for the wasmcap_https ABI (src/https/abi): a guest memory image and a sequence
// of calls with fuzzed arguments go straight to the registered host callbacks, served by a stub
// client that never touches the network. Invariants: no crash or sanitizer report (ASan catches
// any host read or write outside the image), every callback returns HostStatus::kOk with a known
// ABI errno, no request larger than the ABI's pre-copy maximums reaches the client, and host
// allocation stays bounded (scripts/fuzz.sh runs this target with -malloc_limit_mb: a request
// that aliases one buffer for 1024 headers must be refused before it is copied).
#include <fuzzer/FuzzedDataProvider.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "wasmcap/engine.h"
#include "wasmcap/https.h"
#include "wasmcap/https_abi.h"

namespace {

using namespace wasmcap;

constexpr size_t kMemory = 65536;  // one wasm page

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "fuzz_https_abi: invariant violated: %s\n", what);
  std::abort();
}

// Answers every request from memory: a response with headers and a body, or a failure.
class StubClient final : public https::Client {
 public:
  https::Outcome fetch(const https::Request& r) override {
    uint64_t header_bytes = 0;
    for (const auto& h : r.headers) header_bytes += h.name.size() + h.value.size() + 4;
    if (r.url.size() > https::kAbiMaxUrlBytes || header_bytes > https::kAbiMaxRequestHeaderBytes ||
        r.body.size() > https::kAbiMaxRequestBytes ||
        r.headers.size() > https::kMaxRequestHeaders) {
      fail("a request over the ABI's maximums reached the client");
    }
    if (r.url.size() % 3 == 0) {
      return tl::unexpected(https::Failure{https::HttpsError::kGrantDenied, "denied: " + r.url});
    }
    https::Response resp;
    resp.status = 200;
    resp.headers = {{"Content-Type", "text/plain"}, {"X-Url", r.url}};
    resp.body = r.method + " " + r.url + " " + r.body;
    resp.truncated = r.strict;
    return resp;
  }
};

// Argument values: mostly near the interesting edges of a 64 KiB memory.
uint32_t arg(FuzzedDataProvider& in) {
  switch (in.ConsumeIntegralInRange<int>(0, 4)) {
    case 0:
      return in.ConsumeIntegralInRange<uint32_t>(0, 64);
    case 1:
      return in.ConsumeIntegralInRange<uint32_t>(0, kMemory);
    case 2:
      return static_cast<uint32_t>(kMemory) - in.ConsumeIntegralInRange<uint32_t>(0, 32);
    case 3:
      return in.ConsumeIntegralInRange<uint32_t>(0, 1100);  // header counts around the cap
    default:
      return in.ConsumeIntegral<uint32_t>();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider in(data, size);
  std::vector<uint8_t> memory(kMemory, 0);
  std::vector<uint8_t> image = in.ConsumeBytes<uint8_t>(in.ConsumeIntegralInRange<size_t>(0, kMemory));
  std::copy(image.begin(), image.end(), memory.begin());

  HostFuncTable table;
  https::register_https_abi(std::make_shared<StubClient>(), table);
  const auto& names = https::https_abi_function_names();
  ExecLimits limits;
  HostContext ctx;
  ctx.memory = GuestMemory(memory.data(), memory.size());
  ctx.limits = &limits;

  const int calls = in.ConsumeIntegralInRange<int>(1, 24);
  for (int i = 0; i < calls && in.remaining_bytes() > 0; ++i) {
    // One choice past the function list: a well-formed request whose header table the harness
    // writes, every entry naming the same fuzzed range (the aliasing amplification of issue #10).
    const size_t pick = in.ConsumeIntegralInRange<size_t>(0, names.size());
    const bool aliased = pick == names.size();
    const std::string& name = aliased ? std::string("request") : names[pick];
    const HostFunc* f = table.find(https::kAbiModule, name);
    if (f == nullptr) fail("a listed function is not registered");
    std::vector<Value> args;
    if (aliased) {
      constexpr uint32_t kUrlAt = 16, kTableAt = 1024;
      const std::string url = "https://api.test/v1";
      std::memcpy(memory.data(), "GET", 3);
      std::memcpy(memory.data() + kUrlAt, url.data(), url.size());
      const uint32_t count = in.ConsumeIntegralInRange<uint32_t>(0, https::kMaxRequestHeaders);
      const uint32_t ptr = in.ConsumeIntegralInRange<uint32_t>(0, kMemory);
      const uint32_t len = in.ConsumeIntegralInRange<uint32_t>(0, kMemory - ptr);
      // Token bytes, so that the request is well-formed and only its size can stop it.
      if (in.ConsumeBool()) std::memset(memory.data() + ptr, 'a', len);
      for (uint32_t k = 0; k < count && kTableAt + 16 * k + 16 <= kMemory; ++k) {
        const uint32_t entry[4] = {ptr, len, ptr, len};
        std::memcpy(memory.data() + kTableAt + 16 * k, entry, sizeof entry);
      }
      for (uint32_t v : {0u, 3u, kUrlAt, static_cast<uint32_t>(url.size()), kTableAt, count,
                         ptr, len, 0u, static_cast<uint32_t>(kMemory) - 4}) {
        args.push_back(Value::I32(v));
      }
    } else {
      for (ValType t : f->sig.params) {
        args.push_back(t == ValType::kI64 ? Value::I64(in.ConsumeIntegral<uint64_t>())
                                          : Value::I32(arg(in)));
      }
    }
    Value result[1] = {Value::I32(0xDEADu)};
    HostCallResult r = f->callback(ctx, args.data(), result);
    if (r.status != HostStatus::kOk) fail("a callback did not return ok (trap or failure)");
    if (name != "version" && result[0].i32 > static_cast<uint32_t>(https::AbiErrno::kWrongKind)) {
      fail("unknown ABI errno");
    }
  }
  return 0;
}

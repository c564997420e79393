// The load budget (wasmcap/runtime.h, docs/security-model.md "Bulk work and loading"): what loading
// a module costs the host is estimated from its section headers before any engine sees it, the
// estimate bounds what both interpreters really allocate (interp and wabt's, the tests' oracle
// since it left the product; its per-item costs were set from both: wasmcap/runtime.h; measured
// here, per shape of module, with the allocator's own counters), and a module whose estimate is
// above the budget (the memory limit, at least kMinLoadBudgetBytes) is refused before it is loaded.
#include <malloc.h>

#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "test_support.h"
#include "wabt_engine.h"
#include "wasmcap/engine.h"
#include "wasmcap/runtime.h"

namespace wasmcap {
namespace {

using Bytes = std::vector<uint8_t>;

void leb(Bytes& b, uint64_t v) {
  do {
    uint8_t x = v & 0x7f;
    v >>= 7;
    b.push_back(v != 0 ? (x | 0x80) : x);
  } while (v != 0);
}
void section(Bytes& m, uint8_t id, const Bytes& payload) {
  m.push_back(id);
  leb(m, payload.size());
  m.insert(m.end(), payload.begin(), payload.end());
}
Bytes header() { return {0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00}; }
Bytes vec(uint64_t n, const std::function<void(Bytes&, uint64_t)>& item) {
  Bytes b;
  leb(b, n);
  for (uint64_t i = 0; i < n; ++i) item(b, i);
  return b;
}
void one_type(Bytes& m) { section(m, 1, {0x01, 0x60, 0x00, 0x00}); }
// n functions of type 0 with the body `body` (locals declaration included).
void functions(Bytes& m, uint64_t n, const Bytes& body = {0x00, 0x0b}) {
  section(m, 3, vec(n, [](Bytes& b, uint64_t) { b.push_back(0x00); }));
  section(m, 10, vec(n, [&](Bytes& b, uint64_t) {
            leb(b, body.size());
            b.insert(b.end(), body.begin(), body.end());
          }));
}

// The shapes: each makes one kind of item numerous, in a module of about 1-2 MB.
struct Shape {
  const char* name;
  Bytes bytes;
};
// The module, scaled: `n` empty functions, the first exported as _start.
Bytes empty_functions(uint64_t n) {
  Bytes m = header();
  one_type(m);
  section(m, 3, vec(n, [](Bytes& b, uint64_t) { b.push_back(0x00); }));
  section(m, 7, {0x01, 0x06, '_', 's', 't', 'a', 'r', 't', 0x00, 0x00});
  section(m, 10, vec(n, [](Bytes& b, uint64_t) { b.insert(b.end(), {0x02, 0x00, 0x0b}); }));
  return m;
}

std::vector<Shape> shapes() {
  std::vector<Shape> out;
  out.push_back({"empty functions", empty_functions(250000)});  // the issue's, scaled down 4x
  {  // many types
    Bytes m = header();
    section(m, 1, vec(200000, [](Bytes& b, uint64_t i) {
              b.insert(b.end(), {0x60, 0x01, static_cast<uint8_t>(i % 2 ? 0x7f : 0x7e), 0x00});
            }));
    out.push_back({"types", m});
  }
  {  // many exports
    Bytes ex = vec(150000, [](Bytes& b, uint64_t i) {
      std::string name = "e" + std::to_string(i);
      leb(b, name.size());
      b.insert(b.end(), name.begin(), name.end());
      b.push_back(0x00);
      b.push_back(0x00);
    });
    // (exports come before code: section order 7 < 10)
    Bytes fixed = header();
    one_type(fixed);
    section(fixed, 3, {0x01, 0x00});
    section(fixed, 7, ex);
    section(fixed, 10, {0x01, 0x02, 0x00, 0x0b});
    out.push_back({"exports", fixed});
  }
  {  // many globals
    Bytes m = header();
    section(m, 6, vec(200000, [](Bytes& b, uint64_t) {
              b.insert(b.end(), {0x7f, 0x00, 0x41, 0x00, 0x0b});
            }));
    out.push_back({"globals", m});
  }
  {  // one active element segment of 500,000 elements
    Bytes m = header();
    one_type(m);
    section(m, 3, {0x01, 0x00});
    Bytes table = {0x01, 0x70, 0x00};
    leb(table, 500000);
    section(m, 4, table);
    Bytes elem = {0x01, 0x00, 0x41, 0x00, 0x0b};
    leb(elem, 500000);
    elem.insert(elem.end(), 500000, 0x00);
    section(m, 9, elem);
    section(m, 10, {0x01, 0x02, 0x00, 0x0b});
    out.push_back({"elements", m});
  }
  {  // one big body: 2 MB of i32.const 0 / drop
    Bytes body = {0x00};
    for (int i = 0; i < 700000; ++i) body.insert(body.end(), {0x41, 0x00, 0x1a});
    body.push_back(0x0b);
    Bytes m = header();
    one_type(m);
    functions(m, 1, body);
    out.push_back({"code", m});
  }
  {  // a 4 MB data segment
    Bytes m = header();
    section(m, 5, {0x01, 0x00, 0x41});  // memory: 65 pages
    Bytes data = {0x01, 0x00, 0x41, 0x00, 0x0b};
    leb(data, 4u << 20);
    data.insert(data.end(), 4u << 20, 0x61);
    section(m, 11, data);
    out.push_back({"data", m});
  }
  return out;
}

// interp by name, or the wabt oracle (make_engine does not know it).
Result<std::unique_ptr<Engine>> engine_named(const std::string& name) {
  if (name == "wabt") return testing::make_wabt_reference_engine();
  return make_engine(name);
}

// run_module by options.engine's name, or on the wabt oracle.
Result<RunReport> run_named(const std::vector<uint8_t>& bytes, const RunOptions& o) {
  if (o.engine == "wabt") return run_module(*testing::make_wabt_reference_engine(), bytes, o);
  return run_module(bytes, o);
}

uint64_t allocated() {
  struct mallinfo2 mi = mallinfo2();
  return mi.uordblks + mi.hblkhd;
}

// The estimate bounds what loading and instantiating costs each interpreter, shape by shape.
TEST(LoadBudget, EstimateBoundsWhatTheInterpretersAllocate) {
#if defined(__SANITIZE_ADDRESS__)
  GTEST_SKIP() << "AddressSanitizer's allocator does not keep glibc's counters";
#endif
  for (const Shape& s : shapes()) {
    LoadCost cost = estimate_load_cost(s.bytes.data(), s.bytes.size());
    for (const char* name : {"interp", "wabt"}) {
      auto engine = engine_named(name);
      ASSERT_TRUE(engine.has_value());
      uint64_t before = allocated();
      auto m = (*engine)->load(s.bytes.data(), s.bytes.size());
      ASSERT_TRUE(m.has_value()) << s.name << ": " << m.error().to_string();
      HostFuncTable host;
      ExecLimits limits;
      limits.max_memory_pages = 65;  // the data shape's memory, no more (wabt reserves the cap)
      auto inst = (*engine)->instantiate(*m, host, limits);
      ASSERT_TRUE(inst.has_value()) << s.name << ": " << inst.error().to_string();
      // Linear memory is not loading: it counts against the memory limit itself (wabt's is a
      // vector of the allocator's, fast's a mapping of its own).
      uint64_t memory = std::string(name) == "wabt" ? (*inst)->memory().size() : 0;
      uint64_t used = allocated() - std::min(before, allocated());
      used -= std::min(used, memory);
      RecordProperty(std::string(name) + " " + s.name, std::to_string(used));
      std::printf("%-6s %-16s module %8zu B  allocated %10llu B (%6.1f per module byte)  "
                  "estimate %10llu B\n",
                  name, s.name, s.bytes.size(), static_cast<unsigned long long>(used),
                  static_cast<double>(used) / static_cast<double>(s.bytes.size()),
                  static_cast<unsigned long long>(cost.host_bytes));
      EXPECT_LE(used, cost.host_bytes) << name << ", " << s.name;
    }
  }
}

// The module scaled down: 500,000 empty functions (2 MB) under --max-memory-mb 16 are
// refused before any engine loads them (they take 135-180 bytes of host memory per module byte:
// ~270 MB on interp, ~365 MB on wabt), quickly, allocating next to nothing, and with a message that
// says what to do; under a memory limit that covers the estimate a module of that shape loads and
// runs.
TEST(LoadBudget, ModuleAboveTheBudgetIsRefusedBeforeLoading) {
  Bytes m = empty_functions(500000);
  for (const char* engine : {"interp", "wabt", "auto"}) {
    RunOptions o;
    o.engine = engine;
    o.max_memory_bytes = 16ull << 20;
    uint64_t before = allocated();
    auto start = std::chrono::steady_clock::now();
    auto r = run_named(m, o);
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                  std::chrono::steady_clock::now() - start).count();
    uint64_t used = allocated() - std::min(before, allocated());
    ASSERT_FALSE(r.has_value()) << engine << ": loaded under a 16 MiB memory limit";
    EXPECT_EQ(r.error().code, ErrorCode::kMemoryLimit) << r.error().to_string();
    EXPECT_NE(r.error().message.find("--max-memory-mb"), std::string::npos) << r.error().message;
    EXPECT_LT(used, 4 * m.size()) << engine << ": the refusal itself allocated " << used;
    EXPECT_LT(ms, 2000) << engine;  // a bound (the load it replaces took seconds)
  }
  RunOptions ok;
  ok.engine = "interp";
  ok.max_memory_bytes = 1ull << 30;
  auto r = run_module(empty_functions(250000), ok);
  EXPECT_TRUE(r.has_value()) << r.error().to_string();
}

// Loading counts against the deadline: a run whose deadline passes while its module loads ends
// with deadline_exceeded, not exit 0 (it ran 1.9 s past a 300 ms deadline and then ran).
TEST(LoadBudget, LoadingPastTheDeadlineEndsTheRun) {
  Bytes m = empty_functions(250000);  // ~0.5 s to load on either interpreter
  for (const char* engine : {"interp", "wabt"}) {
    RunOptions o;
    o.engine = engine;
    o.max_memory_bytes = 1ull << 30;
    o.timeout_ms = 1;
    auto r = run_named(m, o);
    ASSERT_FALSE(r.has_value()) << engine << ": ran after its deadline";
    EXPECT_EQ(r.error().code, ErrorCode::kDeadlineExceeded) << r.error().to_string();
  }
}

// The estimate itself: per item, from the section headers; counts beyond a section's size
// (malformed) are capped at it; never throws or reads out of bounds on a truncated module.
TEST(LoadBudget, EstimateCountsItemsFromTheHeaders) {
  Bytes m = empty_functions(250000);
  LoadCost c = estimate_load_cost(m.data(), m.size());
  EXPECT_EQ(c.functions, 250000u);
  EXPECT_EQ(c.types, 1u);
  EXPECT_GE(c.host_bytes, 250000u * kLoadBytesPerFunction);
  for (size_t n = 0; n < 64; ++n) (void)estimate_load_cost(m.data(), n);
  Bytes lying = header();
  section(lying, 3, {0xff, 0xff, 0xff, 0xff, 0x0f});  // 4 billion functions in 5 bytes
  EXPECT_LE(estimate_load_cost(lying.data(), lying.size()).functions, 5u);
}

// A component's core modules (its section 1) cost what each would loaded alone, nested
// components' too (section 4): a component wrapping the module is refused as the module
// is, before the component is decoded or any engine sees it.
TEST(LoadBudget, AComponentCostsWhatItsCoreModulesCost) {
  Bytes core = empty_functions(500000);
  Bytes component = {0x00, 0x61, 0x73, 0x6d, 0x0d, 0x00, 0x01, 0x00};
  section(component, 1, core);
  Bytes outer = {0x00, 0x61, 0x73, 0x6d, 0x0d, 0x00, 0x01, 0x00};
  section(outer, 4, component);
  for (const Bytes* c : {&component, &outer}) {
    LoadCost cost = estimate_load_cost(c->data(), c->size());
    EXPECT_EQ(cost.functions, 500000u);
    EXPECT_GE(cost.host_bytes, estimate_load_cost(core.data(), core.size()).host_bytes);
    RunOptions o;
    o.max_memory_bytes = 16ull << 20;
    auto r = run_module(*c, o);
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code, ErrorCode::kMemoryLimit) << r.error().to_string();
  }
  // Nesting deeper than the decoder allows is not followed (and not a stack overflow).
  Bytes deep = {0x00, 0x61, 0x73, 0x6d, 0x0d, 0x00, 0x01, 0x00};
  section(deep, 1, empty_functions(10));
  EXPECT_EQ(estimate_load_cost(deep.data(), deep.size()).functions, 10u);
  for (int i = 0; i < 3000; ++i) {
    Bytes up = {0x00, 0x61, 0x73, 0x6d, 0x0d, 0x00, 0x01, 0x00};
    section(up, 4, deep);
    deep = std::move(up);
  }
  EXPECT_EQ(estimate_load_cost(deep.data(), deep.size()).functions, 0u);
}

}  // namespace
}  // namespace wasmcap

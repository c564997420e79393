// Bulk work under the limits (docs/security-model.md, "Bulk work and loading"): every bulk
// memory and table instruction costs fuel in proportion to the bytes or elements it touches
// (wasmcap/engine.h, kFuelBytesPerUnit), the same on every engine that meters fuel, and a long
// one is stopped by the deadline part-way (it runs in chunks, engine/bulk.h). Runs once per
// engine (engine_test's variants).
#include <atomic>
#include <chrono>
#include <cstring>
#include <thread>

#include "test_support.h"
#include "wasmcap/engine.h"

namespace wasmcap {
namespace {

using testing::guest_bytes;

// The engine under test: interp for the unprefixed run, aot for the aot: variant.
std::string engine_name() { return testing::test_engine_name(); }
std::unique_ptr<Engine> engine_under_test() { return testing::make_test_engine(); }
bool meters_fuel() { return engine_under_test()->capabilities().has(Capability::kLimitFuel); }
#define SKIP_UNLESS_FUEL()                                                             \
  do {                                                                                 \
    if (!meters_fuel()) GTEST_SKIP() << "engine " << engine_name() << " has no fuel"; \
  } while (0)

struct Run {
  std::unique_ptr<Engine> engine = engine_under_test();
  std::shared_ptr<const Module> module;
  HostFuncTable host;
  std::unique_ptr<Instance> instance;
};

std::unique_ptr<Run> start(const ExecLimits& limits) {
  auto r = std::make_unique<Run>();
  auto bytes = guest_bytes("bulk_ops");
  auto m = r->engine->load(bytes.data(), bytes.size());
  EXPECT_TRUE(m.has_value()) << m.error().to_string();
  if (!m) return nullptr;
  r->module = *m;
  auto inst = r->engine->instantiate(r->module, r->host, limits);
  EXPECT_TRUE(inst.has_value()) << inst.error().to_string();
  if (!inst) return nullptr;
  r->instance = std::move(*inst);
  return r;
}

// Fuel one call of `func(arg)` consumes, on a fresh instance (after `setup`, if any).
uint64_t fuel_of(const std::string& func, uint32_t arg, const std::string& setup = "",
                 uint32_t setup_arg = 0) {
  ExecLimits limits;
  limits.fuel = 1'000'000'000;
  auto r = start(limits);
  if (!r) return 0;
  if (!setup.empty()) {
    auto s = r->instance->call(setup, {Value::I32(setup_arg)});
    EXPECT_TRUE(s.has_value()) << setup << ": " << s.error().to_string();
  }
  uint64_t before = r->instance->fuel_consumed();
  auto c = r->instance->call(func, {Value::I32(arg)});
  EXPECT_TRUE(c.has_value()) << func << "(" << arg << "): " << c.error().to_string();
  return r->instance->fuel_consumed() - before;
}

// Each bulk instruction costs its length at 1 unit per 16 bytes (a table element: 8 bytes) on
// top of its own unit: the difference between a long and an empty one is exactly that, on every
// engine that meters fuel (the rest of the call costs the same both times).
TEST(BulkFuel, EachBulkInstructionCostsItsBytes) {
  SKIP_UNLESS_FUEL();
  static_assert(kFuelBytesPerUnit == 16 && kFuelBytesPerTableElement == 8);
  EXPECT_EQ(fuel_of("fill", 65536) - fuel_of("fill", 0), 65536u / 16);
  EXPECT_EQ(fuel_of("fill", 17) - fuel_of("fill", 0), 2u);  // rounded up
  EXPECT_EQ(fuel_of("copy", 32768) - fuel_of("copy", 0), 32768u / 16);
  EXPECT_EQ(fuel_of("init", 512) - fuel_of("init", 0), 512u / 16);
  EXPECT_EQ(fuel_of("grow", 3) - fuel_of("grow", 0), 3u * 65536 / 16);
  EXPECT_EQ(fuel_of("table_fill", 16) - fuel_of("table_fill", 0), 16u * 8 / 16);
  EXPECT_EQ(fuel_of("table_copy", 16) - fuel_of("table_copy", 0), 16u * 8 / 16);
  EXPECT_EQ(fuel_of("table_init", 16) - fuel_of("table_init", 0), 16u * 8 / 16);
  EXPECT_EQ(fuel_of("table_grow", 1000) - fuel_of("table_grow", 0), 1000u * 8 / 16);
  // A failed grow makes nothing available: its one unit only.
  EXPECT_EQ(fuel_of("grow", 70000), fuel_of("grow", 0));
  // Deterministic: the same call costs the same again.
  EXPECT_EQ(fuel_of("fill", 65536), fuel_of("fill", 65536));
}

// A trapping bulk instruction (out of bounds) is checked before it is charged: a trap, not
// fuel_exhausted, whatever its length.
TEST(BulkFuel, OutOfBoundsTrapsBeforeItIsCharged) {
  ExecLimits limits;
  if (meters_fuel()) limits.fuel = 20000;
  auto r = start(limits);
  ASSERT_TRUE(r);
  auto c = r->instance->call("fill", {Value::I32(0x7fffffff)});
  ASSERT_FALSE(c.has_value());
  EXPECT_EQ(c.error().code, ErrorCode::kTrapMemoryOutOfBounds) << c.error().to_string();
  if (engine_name() != "aot") {  // the interpreters name the function (aot: docs/aot.md)
    EXPECT_NE(c.error().message.find("(in function 1)"), std::string::npos) << c.error().message;
  }
}

// The bound: under --fuel 20000 a guest cannot make the host fill more than 20000 x 16 bytes.
// One fill of 1 MiB (65,536 units) is refused before it writes a byte: the run ends with
// fuel_exhausted and the memory is untouched (before the rule it ran for one unit, and a loop
// of 256 MiB fills ran 15-35 s under that budget).
TEST(BulkFuel, FuelBoundsTheBytesWritten) {
  SKIP_UNLESS_FUEL();
  ExecLimits limits;
  limits.fuel = 20000;
  auto r = start(limits);
  ASSERT_TRUE(r);
  auto g = r->instance->call("grow", {Value::I32(15)});  // 16 pages: 1 MiB
  ASSERT_FALSE(g.has_value()) << "growing 15 pages costs 61,440 units, more than 20,000";
  EXPECT_EQ(g.error().code, ErrorCode::kFuelExhausted) << g.error().to_string();

  limits.fuel = 20000;
  r = start(limits);
  ASSERT_TRUE(r);
  auto c = r->instance->call("fill_loop", {Value::I32(65536), Value::I32(1000)});
  ASSERT_FALSE(c.has_value()) << "1000 fills of 64 KiB ran under 20,000 units of fuel";
  EXPECT_EQ(c.error().code, ErrorCode::kFuelExhausted) << c.error().to_string();
  EXPECT_NE(c.error().message.find("--fuel"), std::string::npos) << c.error().message;
  EXPECT_LE(r->instance->fuel_consumed(), 20000u + 20000u);
  // 4096 units per fill: at most 4 fills ran.
  EXPECT_LT(r->instance->fuel_consumed(), 1000u * 4096u);
}

// A long bulk instruction is stopped by the interrupt (or deadline) part-way, not after it: one
// memory.fill of 256 MiB, interrupted as soon as its first bytes are written, leaves the end of
// the range unwritten. Before the rule it ran to the end (a 4 GiB fill is about a second).
TEST(BulkDeadline, ALongFillStopsPartWay) {
  std::atomic<bool> stop{false};
  ExecLimits limits;
  limits.interrupt = &stop;
  auto r = start(limits);
  ASSERT_TRUE(r);
  constexpr uint32_t kPages = 4096;  // 256 MiB
  auto g = r->instance->call("grow", {Value::I32(kPages - 1)});
  ASSERT_TRUE(g.has_value()) << g.error().to_string();
  GuestMemory mem = r->instance->memory();
  ASSERT_EQ(mem.size(), uint64_t{kPages} * 65536);
  volatile uint8_t* first = mem.range(0, 1);
  volatile uint8_t* last = mem.range(mem.size() - 2, 1);
  std::thread watcher([&] {
    while (*first != 7) std::this_thread::yield();
    stop.store(true);
  });
  auto c = r->instance->call("fill", {Value::I32(kPages * 65536u - 1)});
  watcher.join();
  ASSERT_FALSE(c.has_value());
  EXPECT_EQ(c.error().code, ErrorCode::kDeadlineExceeded) << c.error().to_string();
  EXPECT_EQ(*first, 7);
  EXPECT_EQ(*last, 0) << "the fill ran to its end after the interrupt";
}

// A memory without a maximum grows to wasm32's limit, 65,536 pages (4 GiB), under a 4 GiB cap
// on every engine (aot stopped at 65,535: wasm2c keeps the byte size in 32 bits), and bulk
// instructions are bounds-checked against the whole 4 GiB.
TEST(BulkMemory, NoMaximumGrowsToTheWasm32Limit) {
  ExecLimits limits;  // max_memory_pages = 65536
  auto r = start(limits);
  ASSERT_TRUE(r);
  auto g = r->instance->call("grow", {Value::I32(65535)});
  ASSERT_TRUE(g.has_value()) << g.error().to_string();
  EXPECT_EQ(g->results.at(0).i32, 1u) << "memory.grow to 65,536 pages was refused";
  auto size = r->instance->call("size", {});
  ASSERT_TRUE(size.has_value()) << size.error().to_string();
  EXPECT_EQ(size->results.at(0).i32, 65536u);
  EXPECT_EQ(r->instance->memory().size(), uint64_t{1} << 32);
  // The last 256 bytes can be filled; one byte more is out of bounds.
  auto top = r->instance->call("fill_at", {Value::I32(0xffffff00u), Value::I32(0x100)});
  EXPECT_TRUE(top.has_value()) << top.error().to_string();
  auto last = r->instance->call("load8", {Value::I32(0xffffffffu)});
  ASSERT_TRUE(last.has_value()) << last.error().to_string();
  EXPECT_EQ(last->results.at(0).i32, 7u);
  auto over = r->instance->call("fill_at", {Value::I32(0xffffff01u), Value::I32(0x100)});
  ASSERT_FALSE(over.has_value());
  EXPECT_EQ(over.error().code, ErrorCode::kTrapMemoryOutOfBounds) << over.error().to_string();
}

}  // namespace
}  // namespace wasmcap

// Rules of the fast interpreter (src/engine/fast, docs/fast-interp.md) that the shared engine
// suites (engine_test, runtime_test, spec, wasi-testsuite, all also run on it) do not pin down:
// exact per-block fuel, growth in place, no host recursion on hostile nesting, clean refusal of
// features it does not run yet, the wide (v128) layout at the host boundary.
#include <gtest/gtest.h>
#include <malloc.h>
#include <pthread.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <fstream>
#include <iterator>
#include <memory>
#include <new>
#include <string>
#include <thread>
#include <vector>

#include "engine/fast/fast.h"
#include "engine/fast/translate.h"
#include "test_support.h"
#include "wasmcap/engine.h"

namespace wasmcap {
namespace {

using Bytes = std::vector<uint8_t>;

void leb(Bytes& out, uint64_t v) {
  do {
    uint8_t b = v & 0x7f;
    v >>= 7;
    out.push_back(static_cast<uint8_t>(b | (v != 0 ? 0x80 : 0)));
  } while (v != 0);
}

void section(Bytes& m, uint8_t id, const Bytes& content) {
  m.push_back(id);
  leb(m, content.size());
  m.insert(m.end(), content.begin(), content.end());
}

// A module of one type, one function exported as "f", optional memory (pages) and extra
// sections appended raw.
Bytes module_with(const Bytes& type, const Bytes& body, int memory_pages = -1,
                  int memory_max = -1, const Bytes& tag_section = {}) {
  Bytes m = {0, 'a', 's', 'm', 1, 0, 0, 0};
  Bytes types = {1};
  types.insert(types.end(), type.begin(), type.end());
  section(m, 1, types);
  section(m, 3, {1, 0});
  if (memory_pages >= 0) {
    Bytes mem = {1};
    if (memory_max >= 0) {
      mem.push_back(1);
      leb(mem, static_cast<uint64_t>(memory_pages));
      leb(mem, static_cast<uint64_t>(memory_max));
    } else {
      mem.push_back(0);
      leb(mem, static_cast<uint64_t>(memory_pages));
    }
    section(m, 5, mem);
  }
  if (!tag_section.empty()) section(m, 13, tag_section);
  section(m, 7, {1, 1, 'f', 0, 0});
  Bytes code = {1};
  leb(code, body.size());
  code.insert(code.end(), body.begin(), body.end());
  section(m, 10, code);
  return m;
}

struct Run {
  std::unique_ptr<Engine> engine = make_fast_engine();
  std::shared_ptr<const Module> module;
  HostFuncTable host;
  std::unique_ptr<Instance> instance;
};

std::unique_ptr<Run> instantiate(const Bytes& bytes, ExecLimits limits = {}) {
  auto r = std::make_unique<Run>();
  auto m = r->engine->load(bytes.data(), bytes.size());
  EXPECT_TRUE(m.has_value()) << m.error().to_string();
  if (!m) return r;
  r->module = *m;
  auto inst = r->engine->instantiate(r->module, r->host, limits);
  EXPECT_TRUE(inst.has_value()) << inst.error().to_string();
  if (inst) r->instance = std::move(*inst);
  return r;
}

// (func (param i32) (loop (local.set 0 (i32.sub (local.get 0) (i32.const 1)))
//                         (br_if 0 (local.get 0))))
// Fuel: 1 (loop) + 6 per iteration; the loop's fall-through segment is empty.
const Bytes kCountdownType = {0x60, 1, 0x7f, 0};
const Bytes kCountdownBody = {0,    0x03, 0x40, 0x20, 0, 0x41, 1, 0x6b, 0x21,
                              0,    0x20, 0,    0x0d, 0, 0x0b, 0x0b};

TEST(FastFuel, ChargedExactlyPerBasicBlock) {
  auto r = instantiate(module_with(kCountdownType, kCountdownBody));
  ASSERT_TRUE(r->instance);
  auto out = r->instance->call("f", {Value::I32(10)});
  ASSERT_TRUE(out.has_value()) << out.error().to_string();
  EXPECT_EQ(r->instance->fuel_consumed(), 1u + 6u * 10u);
  // Deterministic: the same call costs the same again.
  ASSERT_TRUE(r->instance->call("f", {Value::I32(10)}).has_value());
  EXPECT_EQ(r->instance->fuel_consumed(), 2u * (1u + 6u * 10u));
}

// A function is translated once per module, by the first instance that calls it; every other
// instance of the module (a shell session's next command, a prepared module's next run) runs that
// code. Before, each instance translated what it ran: half the CPU of a `cat` in a live shell.
// Instances on several threads at once share it too, each with its own fuel and state.
TEST(FastTranslate, InstancesOfAModuleShareItsTranslatedCode) {
  auto engine = make_fast_engine();
  const Bytes bytes = module_with(kCountdownType, kCountdownBody);
  auto m = engine->load(bytes.data(), bytes.size());
  ASSERT_TRUE(m.has_value()) << m.error().to_string();
  HostFuncTable host;
  auto fresh = [&] {
    auto inst = engine->instantiate(*m, host, ExecLimits{});
    EXPECT_TRUE(inst.has_value()) << inst.error().to_string();
    return inst ? std::move(*inst) : nullptr;
  };
  const uint64_t before = fast::translate_test_hooks::translations.load();
  auto first = fresh();
  ASSERT_TRUE(first);
  ASSERT_TRUE(first->call("f", {Value::I32(10)}).has_value());
  EXPECT_EQ(fast::translate_test_hooks::translations.load(), before + 1);
  auto second = fresh();
  ASSERT_TRUE(second);
  ASSERT_TRUE(second->call("f", {Value::I32(10)}).has_value());
  EXPECT_EQ(fast::translate_test_hooks::translations.load(), before + 1) << "translated again";
  EXPECT_EQ(second->fuel_consumed(), 1u + 6u * 10u);

  // Another load of the same bytes is another module: its own translations.
  auto other = engine->load(bytes.data(), bytes.size());
  ASSERT_TRUE(other.has_value());
  auto third = engine->instantiate(*other, host, ExecLimits{});
  ASSERT_TRUE(third.has_value());
  ASSERT_TRUE((*third)->call("f", {Value::I32(1)}).has_value());
  EXPECT_EQ(fast::translate_test_hooks::translations.load(), before + 2);

  std::vector<std::thread> threads;
  std::atomic<int> right{0};
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 20; ++i) {
        auto inst = engine->instantiate(*m, host, ExecLimits{});
        if (!inst || !(*inst)->call("f", {Value::I32(t + i + 1)}).has_value()) return;
        if ((*inst)->fuel_consumed() != 1u + 6u * static_cast<uint64_t>(t + i + 1)) return;
      }
      ++right;
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(right.load(), 8);
  EXPECT_EQ(fast::translate_test_hooks::translations.load(), before + 2);
}

TEST(FastFuel, BudgetIsExactAndNeverExceeded) {
  ExecLimits enough;
  enough.fuel = 61;
  auto ok = instantiate(module_with(kCountdownType, kCountdownBody), enough);
  ASSERT_TRUE(ok->instance);
  auto out = ok->instance->call("f", {Value::I32(10)});
  ASSERT_TRUE(out.has_value()) << out.error().to_string();
  EXPECT_EQ(ok->instance->fuel_consumed(), 61u);

  ExecLimits short_by_one;
  short_by_one.fuel = 60;
  auto no = instantiate(module_with(kCountdownType, kCountdownBody), short_by_one);
  ASSERT_TRUE(no->instance);
  auto err = no->instance->call("f", {Value::I32(10)});
  ASSERT_FALSE(err.has_value());
  EXPECT_EQ(err.error().code, ErrorCode::kFuelExhausted) << err.error().to_string();
  // The block that did not fit was not run: consumption stops at the last whole block.
  EXPECT_EQ(no->instance->fuel_consumed(), 55u);
}

TEST(FastMemory, GrowsInPlaceUpToTheCap) {
  // (func (param i32) (result i32) (memory.grow (local.get 0)))
  Bytes type = {0x60, 1, 0x7f, 1, 0x7f};
  Bytes body = {0, 0x20, 0, 0x40, 0, 0x0b};
  ExecLimits limits;
  limits.max_memory_pages = 8;
  auto r = instantiate(module_with(type, body, 1), limits);
  ASSERT_TRUE(r->instance);
  uint8_t* base = r->instance->memory().range(0, 1);
  ASSERT_NE(base, nullptr);
  base[0] = 42;
  auto g = r->instance->call("f", {Value::I32(5)});
  ASSERT_TRUE(g.has_value()) << g.error().to_string();
  EXPECT_EQ(g->results[0].i32, 1u);  // old size
  GuestMemory after = r->instance->memory();
  EXPECT_EQ(after.size(), 6 * kWasmPageSize);
  EXPECT_EQ(after.range(0, 1), base) << "memory moved on growth";
  EXPECT_EQ(base[0], 42);
  // Beyond the cap: -1, and the memory is unchanged.
  auto over = r->instance->call("f", {Value::I32(3)});
  ASSERT_TRUE(over.has_value());
  EXPECT_EQ(over->results[0].i32, 0xffffffffu);
  EXPECT_EQ(r->instance->memory().size(), 6 * kWasmPageSize);
  auto to_cap = r->instance->call("f", {Value::I32(2)});
  ASSERT_TRUE(to_cap.has_value());
  EXPECT_EQ(to_cap->results[0].i32, 6u);
  EXPECT_EQ(r->instance->memory().size(), 8 * kWasmPageSize);
}

TEST(FastMemory, OutOfBoundsAccessTraps) {
  // (func (param i32) (result i32) (i32.load offset=2 (local.get 0)))
  Bytes type = {0x60, 1, 0x7f, 1, 0x7f};
  Bytes body = {0, 0x20, 0, 0x28, 2, 2, 0x0b};
  auto r = instantiate(module_with(type, body, 1));
  ASSERT_TRUE(r->instance);
  ASSERT_TRUE(r->instance->call("f", {Value::I32(65536 - 6)}).has_value());
  auto e = r->instance->call("f", {Value::I32(65536 - 5)});
  ASSERT_FALSE(e.has_value());
  EXPECT_EQ(e.error().code, ErrorCode::kTrapMemoryOutOfBounds) << e.error().to_string();
  auto wrap = r->instance->call("f", {Value::I32(0xffffffffu)});
  ASSERT_FALSE(wrap.has_value());
  EXPECT_EQ(wrap.error().code, ErrorCode::kTrapMemoryOutOfBounds);
}

// Loading, translating, running and freeing a module that nests blocks 100,000 deep, on a
// thread with a 256 KiB stack: nothing on the way may recurse per nesting level.
TEST(FastHostStack, DeepNestingNeedsNoHostRecursion) {
  constexpr size_t kDepth = 100000;
  Bytes body = {0};
  for (size_t i = 0; i < kDepth; ++i) {
    body.push_back(0x02);
    body.push_back(0x40);
  }
  body.insert(body.end(), kDepth + 1, 0x0b);
  struct Ctx {
    Bytes bytes;
    bool ok = false;
    std::string error;
  } ctx;
  ctx.bytes = module_with({0x60, 0, 0}, body);
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setstacksize(&attr, 256 * 1024);
  pthread_t t;
  auto fn = [](void* p) -> void* {
    auto* c = static_cast<Ctx*>(p);
    auto engine = make_fast_engine();
    auto m = engine->load(c->bytes.data(), c->bytes.size());
    if (!m) {
      c->error = m.error().to_string();
      return nullptr;
    }
    HostFuncTable host;
    auto inst = engine->instantiate(*m, host, ExecLimits{});
    if (!inst) {
      c->error = inst.error().to_string();
      return nullptr;
    }
    auto r = (*inst)->call("f", {});
    c->ok = r.has_value();
    if (!r) c->error = r.error().to_string();
    return nullptr;
  };
  ASSERT_EQ(pthread_create(&t, &attr, fn, &ctx), 0);
  pthread_join(t, nullptr);
  pthread_attr_destroy(&attr);
  EXPECT_TRUE(ctx.ok) << ctx.error;
}

// Load cost is bounded by the module's size (docs/fast-interp.md, "Load"): a 3 MB function of
// nested blocks is loaded in a child process whose address space is capped at 64 bytes per
// module byte above what it already uses (wabt's validator needs ~35 bytes per byte of such a
// body; wabt's IR of the whole module, which loading used to build and keep, needs ~140, so
// building it at load again fails this test), and the loaded module keeps less than 2 bytes
// of heap per module byte. (Running such a function is DeepNestingNeedsNoHostRecursion's job.)
#if defined(__SANITIZE_ADDRESS__)
#define WASMCAP_TEST_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define WASMCAP_TEST_ASAN 1
#endif
#endif
TEST(FastLoad, MemoryIsBoundedByModuleSize) {
#ifdef WASMCAP_TEST_ASAN
  GTEST_SKIP() << "address-space caps do not apply under AddressSanitizer";
#else
  constexpr size_t kDepth = 1000000;  // 2 MB of `block`, 1 MB of `end`
  Bytes body = {0};
  for (size_t i = 0; i < kDepth; ++i) {
    body.push_back(0x02);
    body.push_back(0x40);
  }
  body.insert(body.end(), kDepth + 1, 0x0b);
  Bytes bytes = module_with({0x60, 0, 0}, body);
  auto engine = make_fast_engine();
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    long pages = 0;
    {
      std::ifstream statm("/proc/self/statm");
      statm >> pages;
    }
    uint64_t vm = static_cast<uint64_t>(pages) * static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
    struct rlimit lim;
    if (getrlimit(RLIMIT_AS, &lim) != 0) _exit(10);
    lim.rlim_cur = vm + 64 * bytes.size();  // the soft limit only
    if (setrlimit(RLIMIT_AS, &lim) != 0) _exit(10);
    size_t heap_before = mallinfo2().uordblks;
    bool loaded = false;
    size_t kept = 0;
    std::shared_ptr<const Module> m;
    try {
      auto r = engine->load(bytes.data(), bytes.size());
      if (r) {
        loaded = true;
        m = *r;
        kept = mallinfo2().uordblks - heap_before;
      }
    } catch (const std::bad_alloc&) {
      _exit(11);
    }
    if (!loaded) _exit(12);
    if (kept > 2 * bytes.size()) _exit(13);
    _exit(0);
  }
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status)) << "child died (signal " << WTERMSIG(status) << ")";
  EXPECT_EQ(WEXITSTATUS(status), 0)
      << "10: setrlimit failed, 11: out of memory under the cap while loading, 12: load failed, "
         "13: the loaded module keeps more than 2 bytes per module byte";
#endif
}

// Loads `m` on the fast engine and calls its export "f" in a forked child that has 60 s of
// wall time (SIGALRM). Returns the child's wait status (exit 0: ran, 1: load failed, 2: run
// failed), or -1 if the child could not be started or waited for.
int load_and_call_f_in_child(const Bytes& m) {
  auto engine = make_fast_engine();
  pid_t pid = fork();
  if (pid < 0) return -1;
  if (pid == 0) {
    alarm(60);
    auto mod = engine->load(m.data(), m.size());
    if (!mod) _exit(1);
    HostFuncTable host;
    auto inst = engine->instantiate(*mod, host, ExecLimits{});
    if (!inst || !(*inst)->call("f", {})) _exit(2);
    _exit(0);
  }
  int status = 0;
  if (waitpid(pid, &status, 0) != pid) return -1;
  return status;
}

// Load time is linear in the type section too: 100,000 distinct function types (1.2 MB) load
// and run in well under a second. Canonical type ids used to compare each type with every
// earlier one (5e9 signature comparisons here: minutes); the child has 60 s (SIGALRM).
TEST(FastLoad, ManyDistinctTypesLoadInLinearTime) {
  constexpr uint32_t kTypes = 100000;
  constexpr int kParams = 9;  // 4^9 distinct parameter lists
  Bytes types;
  leb(types, kTypes + 1);
  types.insert(types.end(), {0x60, 0, 0});  // type 0: () -> (), the function's
  const uint8_t kValTypes[4] = {0x7f, 0x7e, 0x7d, 0x7c};
  for (uint32_t i = 0; i < kTypes; ++i) {
    types.push_back(0x60);
    types.push_back(kParams);
    for (int k = 0, v = static_cast<int>(i); k < kParams; ++k, v /= 4) types.push_back(kValTypes[v % 4]);
    types.push_back(0);
  }
  Bytes m = {0, 'a', 's', 'm', 1, 0, 0, 0};
  section(m, 1, types);
  section(m, 3, {1, 0});
  section(m, 7, {1, 1, 'f', 0, 0});
  section(m, 10, {1, 3, 0, 0x01, 0x0b});  // nop
  int status = load_and_call_f_in_child(m);
  ASSERT_NE(status, -1) << "fork or waitpid failed";
  ASSERT_TRUE(WIFEXITED(status)) << "child killed by signal " << WTERMSIG(status)
                                 << " (SIGALRM: loading took over 60 s)";
  EXPECT_EQ(WEXITSTATUS(status), 0) << "1: load failed, 2: run failed";
}

// Reading a body at its first call costs the body's size, not the module's: 5,000 functions
// called once each in a module of 200,000 types. When each body was read together with the
// whole type section, this took 5,000 readings of 200,000 types (minutes); the child has 60 s.
TEST(FastLoad, BodyReadCostIsIndependentOfTheTypeSection) {
  constexpr uint32_t kTypes = 200000;
  constexpr uint32_t kFuncs = 5000;
  Bytes types;
  leb(types, kTypes);
  for (uint32_t i = 0; i < kTypes; ++i) types.insert(types.end(), {0x60, 0, 0});
  Bytes funcs;
  leb(funcs, kFuncs);
  for (uint32_t i = 0; i < kFuncs; ++i) {
    leb(funcs, (i * 7919u) % kTypes);  // all () -> (), spread over the type indices
  }
  Bytes code;
  leb(code, kFuncs);
  for (uint32_t i = 0; i < kFuncs; ++i) {
    Bytes body = {0};  // no locals
    if (i + 1 < kFuncs) {
      body.push_back(0x10);  // call i + 1
      leb(body, i + 1);
    }
    body.push_back(0x0b);
    leb(code, body.size());
    code.insert(code.end(), body.begin(), body.end());
  }
  Bytes m = {0, 'a', 's', 'm', 1, 0, 0, 0};
  section(m, 1, types);
  section(m, 3, funcs);
  section(m, 7, {1, 1, 'f', 0, 0});
  section(m, 10, code);
  int status = load_and_call_f_in_child(m);
  ASSERT_NE(status, -1) << "fork or waitpid failed";
  ASSERT_TRUE(WIFEXITED(status)) << "child killed by signal " << WTERMSIG(status)
                                 << " (SIGALRM: over 60 s)";
  EXPECT_EQ(WEXITSTATUS(status), 0) << "1: load failed, 2: run failed";
}

// A 4-byte body may declare 2^28 locals: more than the value stack holds, so its call traps
// `trap_stack_exhausted` on the frame check; it must do so without translating the function
// (the translator's per-local state took 6 GB and ~15 s). The child's address space is capped
// at 512 MiB above what it uses.
TEST(FastLoad, HugeLocalCountTrapsWithoutTranslating) {
#ifdef WASMCAP_TEST_ASAN
  GTEST_SKIP() << "address-space caps do not apply under AddressSanitizer";
#else
  Bytes body = {1};  // one local declaration
  leb(body, 0x0ffffffe);
  body.push_back(0x7f);  // i32
  body.push_back(0x0b);
  Bytes bytes = module_with({0x60, 0, 0}, body);
  auto engine = make_fast_engine();
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    alarm(60);
    auto mod = engine->load(bytes.data(), bytes.size());
    if (!mod) _exit(1);
    HostFuncTable host;
    auto inst = engine->instantiate(*mod, host, ExecLimits{});
    if (!inst) _exit(2);
    long pages = 0;
    {
      std::ifstream statm("/proc/self/statm");
      statm >> pages;
    }
    struct rlimit lim;
    if (getrlimit(RLIMIT_AS, &lim) != 0) _exit(3);
    lim.rlim_cur = static_cast<uint64_t>(pages) * static_cast<uint64_t>(sysconf(_SC_PAGESIZE)) +
                   (512u << 20);
    if (setrlimit(RLIMIT_AS, &lim) != 0) _exit(3);
    try {
      auto r = (*inst)->call("f", {});
      if (r || r.error().code != ErrorCode::kTrapStackExhausted) _exit(4);
    } catch (const std::bad_alloc&) {
      _exit(5);
    }
    _exit(0);
  }
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status)) << "child killed by signal " << WTERMSIG(status);
  EXPECT_EQ(WEXITSTATUS(status), 0) << "1: load failed, 2: instantiate failed, 3: setrlimit, "
                                       "4: not trap_stack_exhausted, 5: out of memory";
#endif
}

// The segment after a br_if is charged by the branch itself when it falls through (its _f
// form, docs/fast-interp.md "Fuel"): same units, same point as a separate `fuel` instruction,
// and a fall-through that does not fit the budget does not run.
// (func (param i32) (block (br_if 0 (local.get 0)) (nop) (nop) (nop)))
// Segments: block, local.get, br_if = 3; the fall-through: 3 nops = 3.
TEST(FastFuel, FallThroughOfABranchIsChargedBeforeItRuns) {
  const Bytes body = {0, 0x02, 0x40, 0x20, 0, 0x0d, 0, 0x01, 0x01, 0x01, 0x0b, 0x0b};
  auto taken = instantiate(module_with(kCountdownType, body));
  ASSERT_TRUE(taken->instance);
  ASSERT_TRUE(taken->instance->call("f", {Value::I32(1)}).has_value());
  EXPECT_EQ(taken->instance->fuel_consumed(), 3u);
  ASSERT_TRUE(taken->instance->call("f", {Value::I32(0)}).has_value());
  EXPECT_EQ(taken->instance->fuel_consumed(), 3u + 6u);

  ExecLimits five;
  five.fuel = 5;
  auto no = instantiate(module_with(kCountdownType, body), five);
  ASSERT_TRUE(no->instance);
  auto err = no->instance->call("f", {Value::I32(0)});
  ASSERT_FALSE(err.has_value());
  EXPECT_EQ(err.error().code, ErrorCode::kFuelExhausted) << err.error().to_string();
  EXPECT_EQ(no->instance->fuel_consumed(), 3u);
}

// Translated code is 32-bit words with 32-bit relative branch offsets (fast.h, kMaxCodeWords):
// a function whose code would not fit is refused cleanly when it is first called
// (module_unsupported), and does not stop other functions from running. The bound is lowered
// for the test; a function big enough for the real one (2^31 words) would need gigabytes.
TEST(FastCode, FunctionLargerThanTheCodeBoundIsRefused) {
  struct Restore {
    ~Restore() { fast::set_max_code_words_for_testing(0); }
  } restore;
  fast::set_max_code_words_for_testing(256);
  // (func (param i32) (local.set 0 (i32.add (local.get 0) (local.get 0))) x N): one i32.add
  // instruction (4 words) per line.
  auto body_of = [](int lines) {
    Bytes b = {0};
    for (int i = 0; i < lines; ++i) {
      for (uint8_t x : {0x20, 0, 0x20, 0, 0x6a, 0x21, 0}) b.push_back(x);
    }
    b.push_back(0x0b);
    return b;
  };
  auto small = instantiate(module_with(kCountdownType, body_of(20)));
  ASSERT_TRUE(small->instance);
  EXPECT_TRUE(small->instance->call("f", {Value::I32(1)}).has_value());

  auto big = instantiate(module_with(kCountdownType, body_of(100)));
  ASSERT_TRUE(big->instance);
  for (int i = 0; i < 2; ++i) {  // the refusal is kept: the second call fails the same way
    auto err = big->instance->call("f", {Value::I32(1)});
    ASSERT_FALSE(err.has_value());
    EXPECT_EQ(err.error().code, ErrorCode::kModuleUnsupported) << err.error().to_string();
    EXPECT_NE(err.error().to_string().find("too large"), std::string::npos)
        << err.error().to_string();
  }
}

// A host function that calls back into the instance running it must not run on top of the
// live value stack: the inner call starts above the outer one's frames (Runtime::entry_fp), and
// the outer call finishes intact.
TEST(FastHostBoundary, ReentrantCallRunsAboveTheOuterCall) {
  // (import "h" "cb" (func (result i32)))
  // (func (export "f") (param i32) (result i32) (i32.add (local.get 0) (call 0)))
  Bytes m = {0, 'a', 's', 'm', 1, 0, 0, 0};
  section(m, 1, {2, 0x60, 0, 1, 0x7f, 0x60, 1, 0x7f, 1, 0x7f});
  section(m, 2, {1, 1, 'h', 2, 'c', 'b', 0, 0});
  section(m, 3, {1, 1});
  section(m, 7, {1, 1, 'f', 0, 1});
  Bytes body = {0, 0x20, 0, 0x10, 0, 0x6a, 0x0b};
  Bytes code = {1};
  leb(code, body.size());
  code.insert(code.end(), body.begin(), body.end());
  section(m, 10, code);

  auto engine = make_fast_engine();
  auto mod = engine->load(m.data(), m.size());
  ASSERT_TRUE(mod.has_value()) << mod.error().to_string();
  Instance* self = nullptr;
  std::string inner_error;
  bool entered = false;
  HostFuncTable host;
  host.add(HostFunc{"h", "cb", FuncSig{{}, {ValType::kI32}},
                    [&](HostContext&, const Value*, Value* results) {
                      if (entered) {  // once
                        results[0] = Value::I32(5);
                        return HostCallResult::ok();
                      }
                      entered = true;
                      auto r = self->call("f", {Value::I32(1000)});
                      inner_error = r ? "ran: " + std::to_string(r->results[0].i32)
                                      : r.error().to_string();
                      results[0] = Value::I32(5);
                      return HostCallResult::ok();
                    }});
  auto inst = engine->instantiate(*mod, host, ExecLimits{});
  ASSERT_TRUE(inst.has_value()) << inst.error().to_string();
  self = inst->get();
  auto out = (*inst)->call("f", {Value::I32(37)});
  ASSERT_TRUE(out.has_value()) << out.error().to_string();
  EXPECT_EQ(out->results[0].i32, 42u);
  EXPECT_EQ(inner_error, "ran: 1005");
}

TEST(FastExceptions, TagSectionLoadsAndRuns) {
  // A tag section (exception handling): run by this engine (tests/engine/exceptions_test.cc has
  // the semantics, and the refusals by name of the engines that do not run it).
  Bytes m = module_with({0x60, 0, 0}, {0, 0x0b}, -1, -1, {1, 0, 0});
  auto r = instantiate(m);
  ASSERT_TRUE(r->instance);
  EXPECT_TRUE(r->instance->call("f", {}).has_value());
}

// SIMD: every wasm instruction costs one unit, v128 ones included (same rule as scalar code).
// (func (param i32) (result i32) (local v128)
//   (loop (local.set 1 (i32x4.add (local.get 1) (i32x4.splat (local.get 0))))
//         (br_if 0 (local.tee 0 (i32.sub (local.get 0) (i32.const 1)))))
//   (i32x4.extract_lane 3 (local.get 1)))
// Fuel: 1 (loop) + 10 per iteration + 2 after the loop.
const Bytes kSimdType = {0x60, 1, 0x7f, 1, 0x7f};
const Bytes kSimdBody = {1,    1,    0x7b, 0x03, 0x40, 0x20, 1, 0x20, 0,    0xfd, 0x11,
                         0xfd, 0xae, 0x01, 0x21, 1,    0x20, 0, 0x41, 1,    0x6b, 0x22,
                         0,    0x0d, 0,    0x0b, 0x20, 1,    0xfd, 0x1b, 3, 0x0b};

TEST(FastSimd, FuelChargedPerInstruction) {
  auto r = instantiate(module_with(kSimdType, kSimdBody));
  ASSERT_TRUE(r->instance);
  auto out = r->instance->call("f", {Value::I32(10)});
  ASSERT_TRUE(out.has_value()) << out.error().to_string();
  EXPECT_EQ(out->results[0].i32, 55u);
  EXPECT_EQ(r->instance->fuel_consumed(), 1u + 10u * 10u + 2u);

  ExecLimits exact;
  exact.fuel = 103;
  auto ok = instantiate(module_with(kSimdType, kSimdBody), exact);
  ASSERT_TRUE(ok->instance);
  ASSERT_TRUE(ok->instance->call("f", {Value::I32(10)}).has_value());
  ExecLimits short_by_one;
  short_by_one.fuel = 102;
  auto no = instantiate(module_with(kSimdType, kSimdBody), short_by_one);
  ASSERT_TRUE(no->instance);
  auto err = no->instance->call("f", {Value::I32(10)});
  ASSERT_FALSE(err.has_value());
  EXPECT_EQ(err.error().code, ErrorCode::kFuelExhausted) << err.error().to_string();
  EXPECT_EQ(no->instance->fuel_consumed(), 101u);  // the last block (2 units) did not run
}

// In a module that uses v128 every value takes 16 bytes (docs/fast-interp.md, "SIMD"): scalar
// arguments and results of host calls, v128 arguments and results at the engine boundary,
// v128 globals and wasm-to-wasm calls mixing v128 and scalars must all land where expected.
TEST(FastSimd, WideModuleHostCallsAndResults) {
  Bytes bytes = testing::guest_bytes("simd_host");
  ASSERT_FALSE(bytes.empty());
  auto engine = make_fast_engine();
  HostFuncTable host;
  FuncSig sig;
  sig.params = {ValType::kI32, ValType::kI64, ValType::kF64, ValType::kI32};
  sig.results = {ValType::kI64, ValType::kI32};
  host.add(HostFunc{"env", "mix", sig, [](HostContext&, const Value* a, Value* res) {
                         res[0] = Value::I64(a[0].i32 * 1000ull + a[1].i64 +
                                             static_cast<uint64_t>(a[2].f64 * 10) * 100 + a[3].i32);
                         res[1] = Value::I32(77);
                         return HostCallResult::ok();
                       }});
  auto m = engine->load(bytes.data(), bytes.size());
  ASSERT_TRUE(m.has_value()) << m.error().to_string();
  auto inst = engine->instantiate(*m, host, ExecLimits{});
  ASSERT_TRUE(inst.has_value()) << inst.error().to_string();
  uint8_t v[16];
  uint64_t lo = 0x1111111111111111ull, hi = 0xfffffffffffffff0ull;
  std::memcpy(v, &lo, 8);
  std::memcpy(v + 8, &hi, 8);
  for (int rep = 1; rep <= 2; ++rep) {
    auto out = (*inst)->call("f", {Value::I32(7), Value::V128(v), Value::I64(40)});
    ASSERT_TRUE(out.has_value()) << out.error().to_string();
    ASSERT_EQ(out->results.size(), 2u);
    ASSERT_EQ(out->results[0].type, ValType::kV128);
    uint64_t got_lo, got_hi;
    std::memcpy(&got_lo, out->results[0].v128, 8);
    std::memcpy(&got_hi, out->results[0].v128 + 8, 8);
    // The global accumulates v + (5, 6) once per call.
    EXPECT_EQ(got_lo, 5 + rep * lo) << rep;
    EXPECT_EQ(got_hi, 6 + rep * hi) << rep;
    EXPECT_EQ(out->results[1].i64, 7000u + 40u + 2500u + 9u) << rep;
  }
}

}  // namespace
}  // namespace wasmcap

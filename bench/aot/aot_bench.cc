// In-process AOT benchmarks (bench/aot/README.md). Measures, never asserts.
//  - instantiate+run of a cached hello module (WASI host + link + instantiate + _start), on aot
//    and, for reference, on the interpreter;
//  - the interrupt instrumentation's cost: one CPU-bound kernel compiled with and without the
//    checks, run in the same process.
#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstdlib>

#include "wasmcap/engine.h"
#include "wasmcap/runtime.h"
#include "wasmcap/wasi.h"

namespace {

using namespace wasmcap;

std::vector<uint8_t> bytes_of(const char* path) {
  auto b = read_file_bytes(path);
  if (!b) {
    std::fprintf(stderr, "%s\n", b.error().to_string().c_str());
    std::exit(1);
  }
  return *b;
}

AotOptions options(bool interruptible) {
  AotOptions o;
  o.cache_dir = AOT_BENCH_CACHE;
  o.opt_level = 2;  // benchmarks measure what users get
  o.interruptible = interruptible;
  return o;
}

std::shared_ptr<const Module> load(Engine& e, const std::vector<uint8_t>& b) {
  auto m = e.load(b.data(), b.size());
  if (!m) {
    std::fprintf(stderr, "%s\n", m.error().to_string().c_str());
    std::exit(1);
  }
  return *m;
}

// One full run of a loaded module: WASI host, host table, instantiate, _start.
void run_once(Engine& engine, const std::shared_ptr<const Module>& module) {
  WasiConfig cfg;
  cfg.args = {"hello"};
  cfg.stdout_sink = [](const uint8_t*, size_t) { return true; };
  cfg.stderr_sink = [](const uint8_t*, size_t) { return true; };
  auto host = make_wasi_host(std::move(cfg));
  HostFuncTable table;
  register_wasi(*host, table);
  auto inst = engine.instantiate(module, table, ExecLimits{});
  if (!inst) std::abort();
  auto r = (*inst)->call("_start", {});
  if (!r) std::abort();
  benchmark::DoNotOptimize(r->exit_code);
}

void BM_HelloInstantiateRun_Aot(benchmark::State& state) {
  static auto engine = make_aot_engine(options(true));
  static auto module = load(*engine, bytes_of(AOT_BENCH_HELLO));
  for (auto _ : state) run_once(*engine, module);
}
BENCHMARK(BM_HelloInstantiateRun_Aot)->Unit(benchmark::kMicrosecond);

void BM_HelloInstantiateRun_Interp(benchmark::State& state) {
  static auto engine = make_fast_engine();  // interp
  static auto module = load(*engine, bytes_of(AOT_BENCH_HELLO));
  for (auto _ : state) run_once(*engine, module);
}
BENCHMARK(BM_HelloInstantiateRun_Interp)->Unit(benchmark::kMicrosecond);

// load() of an already compiled module in a fresh engine: validation + cache key + lookup.
void BM_HelloLoadCached_Aot(benchmark::State& state) {
  static auto bytes = bytes_of(AOT_BENCH_HELLO);
  { auto warm = make_aot_engine(options(true)); load(*warm, bytes); }
  for (auto _ : state) {
    auto engine = make_aot_engine(options(true));
    benchmark::DoNotOptimize(load(*engine, bytes));
  }
}
BENCHMARK(BM_HelloLoadCached_Aot)->Unit(benchmark::kMicrosecond);

void kernel(benchmark::State& state, bool interruptible) {
  auto engine = make_aot_engine(options(interruptible));
  auto module = load(*engine, bytes_of(AOT_BENCH_KERNEL));
  for (auto _ : state) run_once(*engine, module);
}
void BM_Kernel_Interruptible(benchmark::State& state) { kernel(state, true); }
void BM_Kernel_Plain(benchmark::State& state) { kernel(state, false); }
BENCHMARK(BM_Kernel_Plain)->Unit(benchmark::kMillisecond)->MinTime(2.0);
BENCHMARK(BM_Kernel_Interruptible)->Unit(benchmark::kMillisecond)->MinTime(2.0);

}  // namespace

BENCHMARK_MAIN();

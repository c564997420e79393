// component_calls COMPONENT ENGINE CALLS: the host -> guest call of bench/components.py. The
// component (calls.wat) is instantiated once on ENGINE (interp or aot); its `echo(s: string,
// items: list<item>) -> tuple<string, list<item>>` is called CALLS times with a 1 KiB string and
// 100 records (id, a 10-byte name, score), in 5 batches. Prints one JSON line: nanoseconds per
// call (the best batch), the same for copying the arguments alone (each call consumes its copy),
// and whether the result equalled the arguments.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "component/host.h"
#include "component/instance.h"
#include "wasmcap/engine.h"

using wasmcap::component::Val;

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: component_calls COMPONENT interp|aot CALLS\n");
    return 2;
  }
  std::ifstream in(argv[1], std::ios::binary);
  std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const long calls = std::atol(argv[3]);
  auto engine = wasmcap::make_engine(argv[2]);
  if (!engine) {
    std::fprintf(stderr, "%s\n", engine.error().to_string().c_str());
    return 1;
  }
  wasmcap::component::HostRegistry host;
  wasmcap::ExecLimits limits;
  auto instance = wasmcap::component::ComponentInstance::instantiate(**engine, bytes.data(), bytes.size(), host, limits);
  if (!instance) {
    std::fprintf(stderr, "%s\n", instance.error().to_string().c_str());
    return 1;
  }
  std::vector<Val> items;
  for (uint32_t i = 0; i < 100; ++i) {
    items.push_back(Val::tuple({Val::u32(i), Val::string("item-" + std::to_string(10000 + i)), Val::f64(i * 0.5)}));
  }
  const std::vector<Val> args{Val::string(std::string(1024, 'x')), Val::list(items)};
  using Clock = std::chrono::steady_clock;
  double best_call = 1e300, best_copy = 1e300;
  bool equal = true;
  for (int batch = 0; batch < 5; ++batch) {
    auto t0 = Clock::now();
    for (long i = 0; i < calls; ++i) {
      std::vector<Val> a = args;
      auto r = (*instance)->call("echo", std::move(a));
      if (!r) {
        std::fprintf(stderr, "%s\n", r.error().to_string().c_str());
        return 1;
      }
      if (i == 0 && batch == 0) equal = r->results.size() == 1 && r->results[0] == Val::tuple(args);
    }
    auto t1 = Clock::now();
    for (long i = 0; i < calls; ++i) {
      std::vector<Val> a = args;
      if (a.size() != 2) return 1;  // keeps the copy
    }
    auto t2 = Clock::now();
    best_call = std::min(best_call, std::chrono::duration<double, std::nano>(t1 - t0).count() / calls);
    best_copy = std::min(best_copy, std::chrono::duration<double, std::nano>(t2 - t1).count() / calls);
  }
  std::printf("{\"engine\": \"%s\", \"ns_per_call\": %.0f, \"ns_per_argument_copy\": %.0f, \"result_equal\": %s}\n",
              argv[2], best_call, best_copy, equal ? "true" : "false");
  return equal ? 0 : 1;
}

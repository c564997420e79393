// Helpers of the engine suite (interp_engine_test.cc, engine_run_test.cc): a loaded and
// instantiated guest with its host table, host functions, and raw module bytes.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string>
#include <vector>

#include "test_support.h"
#include "wasmcap/engine.h"

namespace wasmcap::engine_test {

using testing::guest_bytes;

// A loaded module plus the host table its instance links against. The table must outlive
// the instance (host functions refer to its callbacks), hence the member order.
struct Loaded {
  std::unique_ptr<Engine> engine = testing::make_test_engine();
  std::shared_ptr<const Module> module;
  HostFuncTable host;
  std::unique_ptr<Instance> instance;
};

inline std::shared_ptr<const Module> load_or_die(Engine& engine,
                                                const std::vector<uint8_t>& bytes) {
  auto m = engine.load(bytes.data(), bytes.size());
  EXPECT_TRUE(m.has_value()) << m.error().to_string();
  return m ? *m : nullptr;
}

// Loads and instantiates guest `name` with `host`; fails the test on error.
inline std::unique_ptr<Loaded> instantiate(const std::string& name, HostFuncTable host = {},
                                           ExecLimits limits = {}) {
  auto l = std::make_unique<Loaded>();
  l->host = std::move(host);
  l->module = load_or_die(*l->engine, guest_bytes(name));
  if (!l->module) return l;
  auto inst = l->engine->instantiate(l->module, l->host, limits);
  EXPECT_TRUE(inst.has_value()) << inst.error().to_string();
  if (inst) l->instance = std::move(*inst);
  return l;
}

inline Result<std::unique_ptr<Instance>> try_instantiate(Loaded& l, const std::string& name,
                                                  const ExecLimits& limits = {}) {
  l.module = load_or_die(*l.engine, guest_bytes(name));
  if (!l.module) return make_error(ErrorCode::kInternal, "load failed");
  return l.engine->instantiate(l.module, l.host, limits);
}

inline HostFunc host_func(std::string module, std::string name, FuncSig sig, HostCallback cb) {
  HostFunc f;
  f.module = std::move(module);
  f.name = std::move(name);
  f.sig = std::move(sig);
  f.callback = std::move(cb);
  return f;
}

inline HostFuncTable exit_only_table() {
  HostFuncTable t;
  t.add(host_func("wasi_snapshot_preview1", "proc_exit", {{ValType::kI32}, {}},
                  [](HostContext&, const Value* a, Value*) {
                    return HostCallResult::exit(static_cast<int32_t>(a[0].i32));
                  }));
  return t;
}

inline std::vector<uint8_t> bytes_of(std::initializer_list<int> v) {
  std::vector<uint8_t> b;
  for (int x : v) b.push_back(static_cast<uint8_t>(x));
  return b;
}

inline const std::vector<uint8_t> kHeader =
    bytes_of({0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00});

inline std::vector<uint8_t> with_header(std::initializer_list<int> rest) {
  auto b = kHeader;
  for (int x : rest) b.push_back(static_cast<uint8_t>(x));
  return b;
}

}  // namespace wasmcap::engine_test

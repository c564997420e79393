// Internal: WASI 0.2 command components in the run pipeline (component_run.cc).
#pragma once

#include <memory>
#include <mutex>
#include <string>

#include "component/host.h"
#include "component/instance.h"
#include "wasi/core.h"
#include "wasip2/host.h"
#include "wasmcap/runtime.h"

namespace wasmcap::runtime_detail {

// Every WASI 0.2 interface wasmcap serves (src/wasip2/host.h), over `core`; wasi:http's
// outgoing requests over `http.client` (none: every request refused).
void add_wasip2_host(component::HostRegistry& host, wasi::Core& core, wasip2::HttpOptions http = {});

// Decodes the component, refuses it (link_error) naming every import the WASI 0.2 host over
// `core` does not serve, instantiates it on `engine` under `limits` and calls its
// wasi:cli/run@0.2.x#run: its exit status (wasi:cli/exit), else 0 for ok and 1 for err. With
// `call`, the export it names instead, its arguments converted before anything is instantiated
// (check_component_call's rules) and its result in RunReport::result_json. A trap or an ended
// run (deadline, output cap) is an error as a core module's. wasi:http requests go through
// `http.client`.
// `decoded`: the bytes' decoding when the caller has it (a prepared component's, decoded once);
// null: decoded here.
// `loaded`: core modules already loaded on `engine` for `decoded` (a prepared component's), and
// where to keep those this run loads; null: the run loads its own.
Result<RunReport> run_component(Engine& engine, const ModuleBytes& bytes, wasi::Core& core,
                                const ExecLimits& limits, const std::optional<ComponentCall>& call,
                                wasip2::HttpOptions http = {},
                                std::shared_ptr<const component::Decoded> decoded = nullptr,
                                std::shared_ptr<component::LoadedCoreModules> loaded = nullptr);

// check_component_call on a decoding the caller has (PreparedModule::check_call).
Result<void> check_call(const component::Decoded& d, const ComponentCall& call);

// A prepared component's engines (PreparedModule::run): one per fuel metering (a metered run's
// engine loads code that counts fuel), each with the core modules its runs loaded, made on the
// first run that needs it and shared by every later one, from any thread: a run instantiates the
// loaded core modules instead of loading them again
// (ComponentRun.PreparedComponentLoadsItsCoreModulesOnce, tests/component/component_run_test.cc).
struct PreparedComponentEngines {
  // Engines of `engine_name` ("interp" or "aot") with `aot`'s options.
  PreparedComponentEngines(std::string engine_name, AotOptions aot)
      : engine_name_(std::move(engine_name)), aot_(std::move(aot)) {}
  struct Slot {
    std::unique_ptr<Engine> engine;
    std::shared_ptr<component::LoadedCoreModules> loaded;
  };
  // The slot for `metered`, its engine made on first use.
  Result<Slot*> get(bool metered);

 private:
  const std::string engine_name_;
  const AotOptions aot_;
  std::mutex mu_;
  Slot slots_[2];
};

// Decodes and validates a component (the decoder's error otherwise), for a caller that keeps the
// decoding (PreparedModule): what run_component takes as `decoded`.
Result<std::shared_ptr<const component::Decoded>> decode_component_shared(const uint8_t* bytes, size_t size);
// component_functions of a decoding.
std::vector<ComponentFunction> functions_of(const component::Decoded& d);

}  // namespace wasmcap::runtime_detail

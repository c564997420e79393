// Instantiating a component and calling its exports (layers 2 and 3 of running components,
// docs/components.md): the core modules inside run on an existing engine (interp, aot, auto),
// linked through the component's instance graph; imports are satisfied by a HostRegistry
// (host.h); exported functions are called with component-level values (val.h) through the
// Canonical ABI.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "component/component.h"
#include "component/host.h"
#include "component/val.h"
#include "wasmcap/engine.h"
#include "wasmcap/error.h"

namespace wasmcap::component {

// Core modules loaded once and shared by every instantiation of one decoded component on one
// engine (a prepared component's runs, PreparedModule): each instantiation takes a loaded core
// module from here instead of loading (validating, translating or mapping) it again. Loaded
// modules are immutable and shared across threads, as a prepared core module is; the map is
// keyed by the core module's definition in the one decoding the instantiations share.
struct LoadedCoreModules {
  std::mutex mu;
  std::map<const CoreModule*, std::shared_ptr<const Module>> modules;
};

// Bounds of one instantiation (docs/components.md, "Bounds of running a component").
struct InstantiateOptions {
  // Live handles in one component instance's handle table (the spec allows 2^28 - 1).
  uint32_t max_handles = 100000;
  // Host memory the values lifted out of guest memory by one call may take (strings' bytes,
  // lists' elements at sizeof(Val) each): beyond it the call traps, before allocating.
  uint64_t max_lift_bytes = uint64_t{64} << 20;
  // Core instances one instantiation may create, nested components included.
  uint32_t max_core_instances = 1000;
  // Component instances (nested instantiations) one instantiation may create.
  uint32_t max_component_instances = 1000;
  // Core modules already loaded on this instantiation's engine for this decoding (and where to
  // keep the ones it loads); null: each instantiation loads its own.
  std::shared_ptr<LoadedCoreModules> loaded;
};

// How a call ended: values returned, or the guest exited.
struct CallResult {
  bool exited = false;
  int32_t exit_code = 0;
  std::vector<Val> results;
};

struct InstanceState;
struct Shared;

class ComponentInstance {
 public:
  // Decodes `bytes` (copied), loads every core module on `engine`, and instantiates the root
  // component: imports from `host` (a missing function or resource is link_error naming the
  // interface and function), definitions in order, start functions run. `engine` and `host`
  // must outlive the instance.
  static Result<std::unique_ptr<ComponentInstance>> instantiate(Engine& engine, const uint8_t* bytes,
                                                                size_t size, const HostRegistry& host,
                                                                const ExecLimits& limits,
                                                                InstantiateOptions options = {});
  // The same on a component the caller decoded from `bytes`: with a keeper, the bytes are kept
  // (not copied), else copied once; the core modules' loads keep views of them. With the file
  // they were read from (bytes.file()), each core module is a byte range of that unchanged file
  // for the cache's records of module hashes.
  static Result<std::unique_ptr<ComponentInstance>> instantiate(Engine& engine, const ModuleBytes& bytes,
                                                                std::shared_ptr<const Decoded> decoded,
                                                                const HostRegistry& host,
                                                                const ExecLimits& limits,
                                                                InstantiateOptions options = {});
  ~ComponentInstance();

  // Calls an exported function: "name" for a function the component exports, "iface#name" for a
  // function of an instance it exports ("wasi:cli/run@0.2.0#run"). Arguments must match the
  // function's parameter types (invalid_argument otherwise); traps are errors.
  Result<CallResult> call(std::string_view name, std::vector<Val> args);
  // The component's definitions and types: the types of an export (exported_func_type,
  // component.h) for converting its arguments and results (json_val.h).
  const Decoded& decoded() const;
  // The names call() accepts, sorted.
  std::vector<std::string> exported_functions() const;
  // The run-time type of a resource the component exports ("r" or "iface#r"); null when none.
  const ResourceType* exported_resource(std::string_view name) const;
  // Drops an own handle of a guest resource the host was given: runs its destructor.
  Result<void> drop(const Val& own);
  // Fuel the component's guest code has used so far (interp; aot meters none: 0), summed over
  // the calls the host made into it (instantiation's start functions, call(), drop()). With
  // ExecLimits::fuel set, a call after which the sum is over it fails with fuel_exhausted, and
  // the instance takes no more calls (each engine stops a core instance's code at the budget;
  // the sum over the component's core instances is checked when the host's call returns).
  uint64_t fuel_consumed() const;
  // Live handles of the root instance's handle table (for tests).
  size_t live_handles() const;

 private:
  // Instantiates the root component of shared_ (its bytes and decoding set): `self` back, or the error.
  Result<std::unique_ptr<ComponentInstance>> build(std::unique_ptr<ComponentInstance> self);
  ComponentInstance() = default;
  bool trapped_ = false;  // a call trapped: the instance's state is unknown, no more calls
  bool calling_ = false;  // inside call(): a host function calling back in is refused
  std::unique_ptr<Shared> shared_;
  std::unique_ptr<InstanceState> root_;
};

// Core modules loaded (engine load() calls) by component instantiations in this process: a
// prepared component's runs load each once (LoadedCoreModules). Process-wide, relaxed; for tests.
uint64_t core_module_loads_for_tests();

}  // namespace wasmcap::component

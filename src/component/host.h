// Host functions and resource types a component's imports are satisfied with (layer 2,
// docs/components.md, "Host functions"). A registry is keyed by (interface name, function name):
// the import `(import "wasi:cli/environment@0.2.3" (instance (export "get-arguments" (func ...))))`
// asks for ("wasi:cli/environment@0.2.3", "get-arguments"); a function imported directly
// (`(import "f" (func ...))`) for ("", "f"). Functions take and return component-level values
// (val.h); the Canonical ABI between them and the guest is the instance's (canon.cc), so a host
// function never sees guest memory or a guest pointer.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "component/val.h"
#include "wasmcap/engine.h"
#include "wasmcap/error.h"

namespace wasmcap::component {

class ComponentInstance;
struct InstanceState;

// A resource type at run time. The host's are made by HostRegistry::add_resource; a component
// instance makes one for each resource type it defines (every instance its own: handles of two
// instances' `r` are not interchangeable). Identity is the pointer.
struct ResourceType {
  std::string name;                // for messages: "wasi:io/streams#output-stream", "counter"
  InstanceState* impl = nullptr;   // the defining component instance; null: the host's
  // The host's destructor, called with the representation when an own handle is dropped.
  std::function<void(uint32_t rep)> host_dtor;
  // A guest resource's destructor (its `dtor` core function), set by the instance defining it.
  std::function<HostCallResult(uint32_t rep, HostContext* caller)> guest_dtor;
};

// What a host function is given besides its arguments.
struct HostCallInfo {
  std::string_view interface;  // the import's interface name ("" for a function imported directly)
  std::string_view function;   // the function's name within it
  const ExecLimits* limits = nullptr;
  // The core call's context when guest code called the import (null when the host called an
  // export that reached this function otherwise): a host function charges the fuel its work costs
  // with context->charge_fuel (wasmcap/engine.h, kFuelBytesPerUnit), as the P1 host does.
  HostContext* context = nullptr;
};

// A host function: arguments as the component type declares them (already lifted and checked);
// it sets `results` (0 or 1 value of the declared result type; anything else is refused as a host
// error) and returns how the call ends: HostCallResult::ok(), trap(...), exit(code), fail(error).
using HostFn =
    std::function<HostCallResult(const HostCallInfo& info, std::vector<Val>& args, std::vector<Val>& results)>;

class HostRegistry {
 public:
  // Adds or replaces (interface, function). An interface name without "@version" matches every
  // version of it an import names ("wasi:cli/environment" serves "wasi:cli/environment@0.2.3"),
  // after an exact match. A name ending in a semver series, "@0.2" (or "@1" for 1.x), serves the
  // imports of every version semver calls compatible with it ("@0.2.0" .. "@0.2.N", pre-releases
  // of them included, never "@0.3.0"); it is tried before the unversioned name.
  void add_function(std::string interface, std::string function, HostFn fn);
  // Adds (or returns the existing) host resource type `name` of `interface`, imported as
  // (export "name" (type (sub resource))) of that interface. The version rule above applies.
  const ResourceType* add_resource(std::string interface, std::string name,
                                   std::function<void(uint32_t rep)> dtor = {});

  const HostFn* find_function(std::string_view interface, std::string_view function) const;
  const ResourceType* find_resource(std::string_view interface, std::string_view name) const;

 private:
  std::map<std::pair<std::string, std::string>, HostFn, std::less<>> functions_;
  std::map<std::pair<std::string, std::string>, std::unique_ptr<ResourceType>, std::less<>> resources_;
};

}  // namespace wasmcap::component

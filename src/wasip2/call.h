// Internal: what every WASI 0.2 host function does around Core (host.h).
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "component/host.h"
#include "wasi/core.h"
#include "wasip2/host.h"

namespace wasmcap::wasip2 {

// The names every binding file uses.
using component::HostCallInfo;
using component::ResourceType;
using component::Val;
using Args = std::vector<Val>;

// A host call's view of Core: the calling instance's deadline and interrupt reach Core for the
// length of the call (Core::begin_call), as the Preview 1 binding's calls do.
class CallScope {
 public:
  CallScope(wasi::Core& core, const component::HostCallInfo& info) : core_(core) {
    ctx_.limits = info.limits;
    core_.begin_call(ctx_);
  }
  ~CallScope() { core_.end_call(); }
  CallScope(const CallScope&) = delete;
  CallScope& operator=(const CallScope&) = delete;

 private:
  wasi::Core& core_;
  HostContext ctx_;
};

inline std::string where(const component::HostCallInfo& info) {
  return std::string(info.interface) + "#" + std::string(info.function);
}

// A refusal 0.2 has no error result for: a trap naming the function and the grant.
inline HostCallResult refused(const component::HostCallInfo& info, wasi::Errc e, const char* grant) {
  if (e == wasi::Errc::kNotCapable) {
    return HostCallResult::trap(where(info) + ": the run is not granted " + grant);
  }
  return HostCallResult::trap(where(info) + ": " + wasi::errc_name(e));
}

// A run that must end (deadline, interrupt, fuel, the output cap) ends it; a broken pipe under
// exit_on_broken_pipe exits as P1's would.
inline std::optional<HostCallResult> run_ended(wasi::Core& core) {
  if (auto t = core.take_termination()) return HostCallResult::fail(std::move(*t));
  if (auto code = core.take_exit()) return HostCallResult::exit(*code);
  return std::nullopt;
}

inline HostCallResult ended_or_refused(wasi::Core& core, const component::HostCallInfo& info, wasi::Errc e,
                                       const char* grant) {
  if (auto r = run_ended(core)) return std::move(*r);
  return refused(info, e, grant);
}

// Named for both ways a run is granted them: flags, and a manifest's request granted by the host
// config (docs/manifest.md "Clocks and random").
inline constexpr const char* kClockGrant =
    "a clock (--clock host|fixed=..., or the manifest's \"clocks\" granted by the host config)";
inline constexpr const char* kRandomGrant =
    "random (--random host|seed=N, or the manifest's \"random\" granted by the host config)";

inline std::string iface(const char* name) { return std::string(name) + kSeries; }

// Host memory a value a host function returns may take (a list<u8> is sizeof(Val) a byte until
// lowered): the default of InstantiateOptions::max_lift_bytes, the bound on values lifted from
// the guest.
inline constexpr uint64_t kMaxValBytes = uint64_t{64} << 20;

}  // namespace wasmcap::wasip2

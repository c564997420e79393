// The fast interpreter's side of the host boundary (src/engine/host_call.h): its
// stack-to-argv step (a host import's arguments and results are its value-stack slots at `sp`)
// and the deadline/interrupt check its loop makes between slices.
#include <algorithm>
#include <chrono>

#include "engine/fast/fast.h"
#include "engine/host_call.h"

namespace wasmcap::fast {

bool check_deadline(Runtime& rt) {
  if (!deadline_reached(*rt.limits)) return true;
  rt.error = deadline_error(*rt.limits);
  return false;
}

bool charge_bulk(Runtime& rt, uint64_t units) {
  const ExecLimits& l = *rt.limits;
  if (l.fuel != 0) {
    uint64_t left = l.fuel - std::min(l.fuel, rt.consumed);
    if (left < units) {
      rt.error = Error(ErrorCode::kFuelExhausted,
                       "fuel exhausted after " + std::to_string(rt.consumed) +
                           " units: a bulk memory or table instruction needs " +
                           std::to_string(units) + " more (1 unit per " +
                           std::to_string(kFuelBytesPerUnit) + " bytes); raise --fuel");
      return false;
    }
  }
  rt.consumed += units;
  return check_deadline(rt);
}

Stop call_host(Runtime& rt, uint32_t host, Slot* sp) {
  engine::HostCall call;
  call.memory = rt.memory ? GuestMemory(rt.memory->base, rt.memory->size) : GuestMemory();
  call.limits = rt.limits;
  call.fuel_used = rt.consumed;
  // Arguments and results share the callee's frame at sp, `stride` slots apart (simd_ops.h).
  engine::HostCallEnd end =
      engine::invoke_host(*rt.hosts[host], call, sp, sp, rt.stride * sizeof(Slot));
  // The caller re-reads its fuel budget from rt.consumed before the next block.
  rt.consumed += call.fuel_charged;
  switch (end) {
    case engine::HostCallEnd::kContinue: return Stop::kReturn;
    case engine::HostCallEnd::kExit: rt.exit_code = call.exit_code; return Stop::kExit;
    case engine::HostCallEnd::kStop: rt.error = std::move(call.error); return Stop::kTrap;
  }
  return Stop::kTrap;
}

Stop call_host_from(Runtime& rt, const FuncEntry& fe, Slot* sp, size_t depth) {
  Slot* const saved_fp = rt.entry_fp;
  const size_t saved_depth = rt.entry_depth;
  // The import's arguments and results occupy [sp, sp + max(params, results) values).
  rt.entry_fp = sp + size_t{std::max(fe.nparams, fe.nresults)} * rt.stride;
  rt.entry_depth = depth;
  Stop s = call_host(rt, static_cast<uint32_t>(fe.host), sp);
  rt.entry_fp = saved_fp;
  rt.entry_depth = saved_depth;
  return s;
}

uint64_t shared_ref(Runtime& rt, Table& t, uint64_t v) {
  if (v == 0) return 0;
  if ((v & kSharedRef) == 0) {
    const uint32_t func = static_cast<uint32_t>(v - 1);
    FuncHandles& mine = *rt.handles;
    if (mine.by_func.size() < rt.funcs.size()) mine.by_func.resize(rt.funcs.size());
    std::unique_ptr<FuncHandle>& h = mine.by_func[func];
    if (!h) {
      h.reset(new FuncHandle{&mine, func, rt.type_sigs[rt.funcs[func].type_id]});
    }
    v = kSharedRef | reinterpret_cast<uintptr_t>(h.get());
  }
  FuncHandles* owner = reinterpret_cast<const FuncHandle*>(v & ~kSharedRef)->owner;
  // The sets are few (one per instance whose functions the table holds): a linear search.
  bool kept = false;
  for (const auto& k : t.keep) kept = kept || k.get() == owner;
  if (!kept) t.keep.push_back(owner->self.lock());
  return v;
}

Stop call_shared(Runtime& rt, const FuncHandle& h, uint32_t type, Slot* sp, size_t depth) {
  if (h.owner->callee == nullptr) {
    rt.error = Error(ErrorCode::kTrapIndirectCallNull,
                     "uninitialized element: the instance that defines this function is gone");
    return Stop::kTrap;
  }
  if (rt.type_sigs[type] != h.sig) {
    rt.error = Error(ErrorCode::kTrapIndirectCallMismatch, "indirect call type mismatch");
    return Stop::kTrap;
  }
  Slot* const saved_fp = rt.entry_fp;
  const size_t saved_depth = rt.entry_depth;
  rt.entry_fp = sp + std::max(h.sig.params.size(), h.sig.results.size()) * rt.stride;
  rt.entry_depth = depth;
  Stop s = h.owner->callee->call_from(rt, h.func, h.sig, sp);
  rt.entry_fp = saved_fp;
  rt.entry_depth = saved_depth;
  if (s == Stop::kReturn && rt.limits->fuel != 0 && rt.consumed > rt.limits->fuel) {
    rt.error = Error(ErrorCode::kFuelExhausted,
                     "fuel exhausted after " + std::to_string(rt.consumed) +
                         " units (a call into another instance included); raise --fuel");
    return Stop::kTrap;
  }
  if (s == Stop::kReturn && !check_deadline(rt)) return Stop::kTrap;
  return s;
}

}  // namespace wasmcap::fast

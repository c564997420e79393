// The fast interpreter's host boundary: calls into the HostFuncTable (WASI, https) with
// arguments taken from the value stack, and the deadline/interrupt check that follows every
// host call (a host call may block, so the deadline is checked as soon as it returns).
#include <algorithm>
#include <bit>
#include <chrono>

#include "engine/fast/fast.h"

namespace wasmcap::fast {
namespace {

Value to_value(ValType t, Slot s) {
  switch (t) {
    case ValType::kI32: return Value::I32(static_cast<uint32_t>(s));
    case ValType::kI64: return Value::I64(s);
    case ValType::kF32: return Value::F32(std::bit_cast<float>(static_cast<uint32_t>(s)));
    case ValType::kF64: return Value::F64(std::bit_cast<double>(s));
    default: return Value::I64(s);
  }
}

Slot from_value(ValType t, const Value& v) {
  switch (t) {
    case ValType::kI32: return v.i32;
    case ValType::kI64: return v.i64;
    case ValType::kF32: return std::bit_cast<uint32_t>(v.f32);
    case ValType::kF64: return std::bit_cast<uint64_t>(v.f64);
    default: return v.i64;
  }
}

}  // namespace

bool check_deadline(Runtime& rt) {
  const ExecLimits& l = *rt.limits;
  if (l.interrupt != nullptr && l.interrupt->load(std::memory_order_relaxed)) {
    rt.error = Error(ErrorCode::kDeadlineExceeded, "execution interrupted by the host");
    return false;
  }
  if (l.deadline != std::chrono::steady_clock::time_point::max() &&
      std::chrono::steady_clock::now() >= l.deadline) {
    rt.error = Error(ErrorCode::kDeadlineExceeded,
                     "wall-clock deadline exceeded; raise --timeout-ms");
    return false;
  }
  return true;
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
  const HostImport& imp = rt.hosts[host];
  const FuncSig& sig = imp.func->sig;
  Value small_args[16];
  std::vector<Value> big_args;
  Value* args = small_args;
  if (sig.params.size() > 16) {
    big_args.resize(sig.params.size());
    args = big_args.data();
  }
  const size_t stride = rt.stride;  // 2 in a module that uses v128 (simd_ops.h)
  for (size_t i = 0; i < sig.params.size(); ++i) args[i] = to_value(sig.params[i], sp[i * stride]);
  Value small_rets[4];
  std::vector<Value> big_rets;
  Value* rets = small_rets;
  if (sig.results.size() > 4) {
    big_rets.resize(sig.results.size());
    rets = big_rets.data();
  }
  HostContext ctx;
  ctx.memory = rt.has_memory ? GuestMemory(rt.mem, rt.mem_size) : GuestMemory();
  ctx.limits = rt.limits;
  const uint64_t fuel = rt.limits->fuel;
  if (fuel != 0) ctx.fuel_left = fuel - std::min(fuel, rt.consumed);
  HostCallResult r = imp.func->callback(ctx, args, rets);
  // Host work is metered like instructions (HostContext::charge_fuel: bytes moved), so a loop
  // of cheap-looking host calls cannot do unbounded work under a fuel budget. The caller
  // re-reads its budget from rt.consumed before the next block.
  rt.consumed += ctx.fuel_charged;
  switch (r.status) {
    case HostStatus::kOk:
      for (size_t i = 0; i < sig.results.size(); ++i) {
        sp[i * stride] = from_value(sig.results[i], rets[i]);
      }
      if (fuel != 0 && ctx.fuel_spent()) {
        rt.error = Error(ErrorCode::kFuelExhausted,
                         "fuel exhausted after " + std::to_string(rt.consumed) +
                             " units (host work included); raise --fuel");
        return Stop::kTrap;
      }
      if (!check_deadline(rt)) return Stop::kTrap;
      return Stop::kReturn;
    case HostStatus::kExit:
      rt.exit_code = r.exit_code;
      return Stop::kExit;
    case HostStatus::kTrap:
      rt.error = Error(ErrorCode::kTrapHost, imp.qualified + ": " + r.message);
      return Stop::kTrap;
    case HostStatus::kFail:
      rt.error = Error(r.error_code, r.message);
      return Stop::kTrap;
  }
  rt.error = Error(ErrorCode::kInternal, "host call returned an unknown status");
  return Stop::kTrap;
}

}  // namespace wasmcap::fast

// The one host-call boundary (docs/architecture.md, "How a host call works"): every engine links
// its imports with link_host_functions() and runs a host function with invoke_host(). What an
// engine adds is only its stack-to-argv step: where the arguments of the call are (the fast
// interpreter's value stack, the AOT trampoline's array, wabt's Values) and what it does with
// the outcome (continue, unwind an exit, stop with the error). The conversion of raw slots to
// Values and back, the HostContext, fuel charged by host work, the status switch, exceptions
// escaping a host function and the deadline check after the call are all here, once, so the
// engines cannot drift apart on them (they had: only the AOT engine caught exceptions).
//
// Private to src/engine, and to the tests' wabt oracle (tests/support/wabt_engine, an engine kept
// outside the product). C++17: the engines' C++17 files include it.
#pragma once

#include <cstdint>
#include <cstring>
#include <vector>

#include "wasmcap/engine.h"
#include "wasmcap/error.h"

namespace wasmcap::engine {

// A value as the engines keep it: 64 untyped bits, an i32 or f32 in the low half (the high half
// is zero when written here and ignored when read). A v128 takes two slots, low half first.
using RawSlot = uint64_t;

// The raw slot of `v` read as scalar type `t` (i32/i64/f32/f64): the bits of that type,
// whatever type `v` says it has; 0 for any other type. Host-call results go through this.
inline RawSlot raw_from_scalar(ValType t, const Value& v) {
  switch (t) {
    case ValType::kI32: return v.i32;
    case ValType::kI64: return v.i64;
    case ValType::kF32: {
      uint32_t bits;
      std::memcpy(&bits, &v.f32, 4);
      return bits;
    }
    case ValType::kF64: {
      RawSlot bits;
      std::memcpy(&bits, &v.f64, 8);
      return bits;
    }
    default: return 0;  // only scalars cross a host call (link_host_functions)
  }
}

// The Value of scalar type `t` held in `raw`; any other type reads as an i64.
inline Value scalar_from_raw(ValType t, RawSlot raw) {
  switch (t) {
    case ValType::kI32: return Value::I32(static_cast<uint32_t>(raw));
    case ValType::kF32: {
      uint32_t bits = static_cast<uint32_t>(raw);
      float f;
      std::memcpy(&f, &bits, 4);
      return Value::F32(f);
    }
    case ValType::kF64: {
      double d;
      std::memcpy(&d, &raw, 8);
      return Value::F64(d);
    }
    default: return Value::I64(raw);
  }
}

// Writes `v` as raw slot(s) of its own type at `out`: two slots for a v128, else one.
inline void raw_from_value(const Value& v, RawSlot* out) {
  if (v.type == ValType::kV128) {
    std::memcpy(out, v.v128, 16);
  } else {
    *out = raw_from_scalar(v.type, v);
  }
}

// The Value of type `t` held in the raw slot(s) at `in`: two slots for a v128, else one.
inline Value value_from_raw(ValType t, const RawSlot* in) {
  if (t == ValType::kV128) {
    uint8_t bytes[16];
    std::memcpy(bytes, in, 16);
    return Value::V128(bytes);
  }
  return scalar_from_raw(t, *in);
}

// Links a module's imports against `host`, in import order: only host functions can be
// imported (link_error "unsupported import"), each must be in the table (link_error "unknown
// import", naming it and its signature) with the import's exact signature (link_error naming
// both). Returns the host function of each import, in order. Import names come from the module
// and are quoted as untrusted text.
// Memory, table and global imports: with `shared` null they are refused (link_error); otherwise
// each is looked up with HostFuncTable::find_extern and must be of the import's kind and of the
// engine `engine` (link_error naming the import otherwise); `shared` receives them in import
// order, for the engine to check their types and limits. The result then holds the function
// imports only, in order.
Result<std::vector<const HostFunc*>> link_host_functions(
    const ModuleInfo& info, const HostFuncTable& host,
    std::vector<std::shared_ptr<SharedExtern>>* shared = nullptr, std::string_view engine = {});

// The type checks of a shared memory or global import, as the spec links them (every engine
// that shares them uses these, so the rules and messages are one): link_error naming the import
// (`name`: "MODULE.NAME", untrusted) unless the memory linked has at least the import's minimum
// pages now and, when the import declares a maximum, a declared maximum within it; unless the
// global linked has the import's value type and mutability.
Result<void> check_memory_import(std::string_view name, const MemoryLimits& import,
                                 uint64_t pages, bool has_max, uint64_t declared_max);
Result<void> check_global_import(std::string_view name, ValType import_type, bool import_mut,
                                 ValType linked_type, bool linked_mut);
// The same for a table (`name` as above): the element type equal (funcref or externref), the
// linked table's current size at least the import's minimum, a declared maximum within the
// import's when it declares one.
Result<void> check_table_import(std::string_view name, bool import_funcref, uint64_t import_min,
                                bool import_has_max, uint64_t import_max, bool linked_funcref,
                                uint64_t linked_size, bool linked_has_max,
                                uint64_t linked_declared_max);

// What an engine hands invoke_host about the running instance, and what it learns back.
struct HostCall {
  // --- in ---
  GuestMemory memory;                  // the instance's memory as it is now
  const ExecLimits* limits = nullptr;  // the instance's limits (never null)
  uint64_t fuel_used = 0;  // fuel the run has used so far (metered engines; else leave 0)
  // --- out ---
  uint64_t fuel_charged = 0;  // fuel the host work cost: add it to the run's count, always
  int32_t exit_code = 0;      // HostCallEnd::kExit
  Error error;                // HostCallEnd::kStop
};

// What the engine does once invoke_host returns.
enum class HostCallEnd : uint8_t {
  kContinue,  // results are written: the guest continues
  kExit,      // the guest exits with call.exit_code (proc_exit): unwind it, not an error
  kStop,      // the run ends with call.error (a host trap or failure, a limit): unwind it
};

// Runs host function `f` for a guest call. `args` holds f.sig.params.size() raw slots and
// `results` receives f.sig.results.size() (both may be the same array: every argument is read
// before any result is written), `slot_bytes` apart (8, or 16 on a stack that keeps two slots per
// value). Slots are read and written with memcpy, so any 8-byte-per-value array type works.
//
// The host function gets a HostContext with `call.memory`, `call.limits` and the fuel left. Then:
//   - ok: results are written; the run stops if the host work spent the fuel left
//     (fuel_exhausted) or the deadline passed or the interrupt came during the call
//     (deadline_exceeded: a host call may block);
//   - exit: kExit with the code;
//   - trap: kStop with trap_host "MODULE.NAME: message";
//   - fail: kStop with the host's own error;
//   - an exception escaping the host function: kStop, never an exception through the engine
//     (an interpreter's state, the AOT runtime's C frames): std::bad_alloc is memory_limit (the
//     host ran out of memory serving the call), anything else trap_host "MODULE.NAME: host function
//     failed: WHAT" (WHAT quoted: it may carry guest bytes, e.g. a path).
HostCallEnd invoke_host(const HostFunc& f, HostCall& call, const void* args, void* results,
                        size_t slot_bytes);

// Adds to a trap's message that linear memory sits at the run's cap, since a refused memory.grow
// is the usual cause of a later trap (allocators abort on failure). Only for traps raised by the
// guest's own code: a host trap (trap_host) has its own reason. Every engine's call() and start
// function use it.
// Also when the run's memory pool (ExecLimits::memory_pool) refused a growth during the run.
void note_memory_at_cap(Error* error, const GuestMemory& memory, const ExecLimits& limits);

// The message of an instantiation refused because the memory pool has fewer than `pages` left
// for the memory's initial size (memory_limit; both engines).
std::string memory_pool_short(const wasmcap_memory_pool& pool, uint64_t pages);

}  // namespace wasmcap::engine

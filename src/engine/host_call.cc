// The one host-call boundary: see host_call.h for the contract, docs/architecture.md ("How a
// host call works") for where it sits. The order of the steps in invoke_host is the rule:
//   1. arguments: raw slots -> Values of the import's declared types;
//   2. the HostContext: the memory as it is now, the limits, the fuel left;
//   3. the host function, inside a catch-all: an exception must never unwind through an engine
//      (an interpreter keeps state across the call; the AOT engine's caller is C code that
//      unwinds with longjmp), and it ends the run with an error, the same on every engine;
//   4. the fuel the host work cost goes back to the engine whatever the outcome (it was spent);
//   5. the status: ok writes the results, then fuel and the deadline are checked (a host call
//      may block for long: the run stops as soon as it returns, not at the engine's next check);
//      exit, trap and fail end the run.
#include "engine/host_call.h"

#include <algorithm>
#include <exception>
#include <new>
#include <type_traits>
#include <string>

namespace wasmcap::engine {
namespace {

// Argument and result arrays of this size live on the C stack; larger signatures (rare: WASI's
// largest takes 9 parameters) use the heap.
constexpr size_t kInlineArgs = 16;
constexpr size_t kInlineResults = 4;

// Room for up to N Values, none constructed: a call constructs only the values it has. (A
// default-constructed Value array zeroes every element: for 16 + 4 of them that was a third of
// the boundary's instructions on a call like args_sizes_get; bench/hostcalls.py --callgrind.)
// Value is trivially destructible, so nothing is destroyed either.
template <size_t N>
union ValueSlots {
  ValueSlots() {}
  Value v[N];
};
static_assert(std::is_trivially_destructible_v<Value>);

bool scalar(ValType t) {
  return t == ValType::kI32 || t == ValType::kI64 || t == ValType::kF32 || t == ValType::kF64;
}

bool scalar_only(const FuncSig& sig) {
  for (ValType t : sig.params) {
    if (!scalar(t)) return false;
  }
  for (ValType t : sig.results) {
    if (!scalar(t)) return false;
  }
  return true;
}

std::string qualified(const HostFunc& f) { return f.module + "." + f.name; }

// Runs the callback; an exception becomes the error that ends the run (step 3 above).
HostCallResult run_guarded(const HostFunc& f, HostContext& ctx, const Value* args, Value* rets) {
  try {
    return f.callback(ctx, args, rets);
  } catch (const std::bad_alloc&) {
    return HostCallResult::fail(Error(
        ErrorCode::kMemoryLimit,
        qualified(f) + ": the host ran out of memory serving this call; lower the run's memory "
                       "use or give the host more"));
  } catch (const std::exception& e) {
    // what() may quote guest bytes (a path, a name): untrusted text in a message.
    return HostCallResult::fail(Error(ErrorCode::kTrapHost, qualified(f) +
                                                                ": host function failed: " +
                                                                quote_untrusted(e.what(), 200)));
  } catch (...) {
    return HostCallResult::fail(
        Error(ErrorCode::kTrapHost, qualified(f) + ": host function failed (unknown exception)"));
  }
}

// What to do about an import module that names another WASI than the Preview 1 wasmcap hosts:
// the module was built for it, so the fix is in the build.
std::string toolchain_hint(const std::string& module) {
  if (module.rfind("wasi:", 0) == 0) {
    return " (a WASI 0.2 interface of the component model: this is a wasm32-wasip2 core module "
           "that was never made a component. wasmcap runs WASI 0.2 components and WASI Preview 1 "
           "core modules: make it a component with `wasm-tools component new MODULE.wasm -o "
           "COMPONENT.wasm` (wasm-component-ld, the linker of wasm32-wasip2 builds, does this "
           "step), or build for wasm32-wasip1, e.g. rustc --target wasm32-wasip1 or clang "
           "--target=wasm32-wasip1)";
  }
  return "";
}

}  // namespace

Result<void> check_memory_import(std::string_view name, const MemoryLimits& import,
                                 uint64_t pages, bool has_max, uint64_t declared_max) {
  const std::string quoted = quote_untrusted(name);
  if (pages < import.min_pages) {
    return make_error(ErrorCode::kLinkError,
                      "import " + quoted + " needs a memory of at least " +
                          std::to_string(import.min_pages) + " pages; the one linked has " +
                          std::to_string(pages));
  }
  if (import.has_max && (!has_max || declared_max > import.max_pages)) {
    return make_error(ErrorCode::kLinkError,
                      "import " + quoted + " needs a memory of at most " +
                          std::to_string(import.max_pages) + " pages; the one linked " +
                          (has_max ? "may grow to " + std::to_string(declared_max)
                                   : std::string("has no maximum")));
  }
  return {};
}

Result<void> check_table_import(std::string_view name, bool import_funcref, uint64_t import_min,
                                bool import_has_max, uint64_t import_max, bool linked_funcref,
                                uint64_t linked_size, bool linked_has_max,
                                uint64_t linked_declared_max) {
  std::string problem;
  if (import_funcref != linked_funcref) {
    problem = std::string("is a table of ") + (linked_funcref ? "funcref" : "externref") +
              ", the import wants " + (import_funcref ? "funcref" : "externref");
  } else if (linked_size < import_min) {
    problem = "has " + std::to_string(linked_size) + " elements, the import needs " +
              std::to_string(import_min);
  } else if (import_has_max && !linked_has_max) {
    problem = "has no maximum, the import wants one of at most " + std::to_string(import_max);
  } else if (import_has_max && linked_declared_max > import_max) {
    problem = "may grow to " + std::to_string(linked_declared_max) +
              " elements, the import allows at most " + std::to_string(import_max);
  }
  if (problem.empty()) return {};
  return make_error(ErrorCode::kLinkError, "incompatible import type: the table linked to import " +
                                               quote_untrusted(name) + " " + problem);
}

Result<void> check_global_import(std::string_view name, ValType import_type, bool import_mut,
                                 ValType linked_type, bool linked_mut) {
  if (import_type != linked_type || import_mut != linked_mut) {
    return make_error(ErrorCode::kLinkError,
                      "import " + quote_untrusted(name) + " is a " +
                          (import_mut ? "mutable " : "") + "global of another type than the " +
                          (linked_mut ? "mutable " : "") + std::string(val_type_name(linked_type)) +
                          " global linked");
  }
  return {};
}

Result<std::vector<const HostFunc*>> link_host_functions(
    const ModuleInfo& info, const HostFuncTable& host,
    std::vector<std::shared_ptr<SharedExtern>>* shared, std::string_view engine) {
  std::vector<const HostFunc*> out;
  out.reserve(info.imports.size());
  for (const ImportDesc& imp : info.imports) {
    const std::string name = quote_untrusted(imp.module + "." + imp.name);
    if (shared != nullptr && (imp.kind == ExternKind::kMemory || imp.kind == ExternKind::kTable ||
                              imp.kind == ExternKind::kGlobal)) {
      const std::string kind(extern_kind_name(imp.kind));
      std::shared_ptr<SharedExtern> ext = host.find_extern(imp.module, imp.name);
      if (ext == nullptr) {
        return make_error(ErrorCode::kLinkError, "unknown import " + name + " (" + kind +
                                                     "): no instance exports a " + kind +
                                                     " under that name to this one");
      }
      if (ext->kind() != imp.kind) {
        return make_error(ErrorCode::kLinkError,
                          "import " + name + " is a " + kind + ", what is linked as it is a " +
                              std::string(extern_kind_name(ext->kind())));
      }
      if (ext->engine() != engine) {
        return make_error(ErrorCode::kLinkError,
                          "import " + name + " (" + kind + ") comes from an instance of engine " +
                              std::string(ext->engine()) + ": a " + kind +
                              " is shared only between instances of one engine (this is " +
                              std::string(engine) + ")");
      }
      shared->push_back(std::move(ext));
      continue;
    }
    if (imp.kind != ExternKind::kFunc) {
      // Tags too: exceptions cross no instance boundary here (host functions neither throw
      // nor catch them), so an imported tag could never be thrown by anyone else.
      return make_error(ErrorCode::kLinkError,
                        "unsupported import " + name + " (" +
                            std::string(extern_kind_name(imp.kind)) +
                            "): wasmcap provides only host functions");
    }
    const HostFunc* hf = host.find(imp.module, imp.name);
    if (hf == nullptr) {
      return make_error(ErrorCode::kLinkError, "unknown import " + name + " " +
                                                   imp.sig.to_string() +
                                                   ": no host function of that name is granted" +
                                                   toolchain_hint(imp.module));
    }
    if (hf->sig != imp.sig) {
      return make_error(ErrorCode::kLinkError, "import " + name + " has signature " +
                                                   imp.sig.to_string() + ", host provides " +
                                                   hf->sig.to_string());
    }
    if (!scalar_only(hf->sig)) {
      // Host functions take and return i32/i64/f32/f64 (wasmcap/engine.h, Value): the slots of
      // a v128 or a reference have no meaning on the host side, and an engine would hand the
      // host function (or the guest) bits of the wrong width.
      return make_error(ErrorCode::kLinkError,
                        "import " + name + " has signature " + imp.sig.to_string() +
                            ": host functions take and return only i32, i64, f32 and f64");
    }
    out.push_back(hf);
  }
  return out;
}

HostCallEnd invoke_host(const HostFunc& f, HostCall& call, const void* args, void* results,
                        size_t slot_bytes) {
  const FuncSig& sig = f.sig;
  const size_t nparams = sig.params.size();
  const size_t nresults = sig.results.size();

  // 1. Arguments.
  ValueSlots<kInlineArgs> inline_args;
  std::vector<Value> heap_args;
  Value* av = inline_args.v;
  if (nparams > kInlineArgs) {
    heap_args.resize(nparams);
    av = heap_args.data();
  }
  const auto* in = static_cast<const unsigned char*>(args);
  for (size_t i = 0; i < nparams; ++i) {
    RawSlot raw;
    std::memcpy(&raw, in + i * slot_bytes, sizeof raw);
    new (&av[i]) Value(scalar_from_raw(sig.params[i], raw));
  }
  ValueSlots<kInlineResults> inline_rets;
  std::vector<Value> heap_rets;
  Value* rv = inline_rets.v;
  if (nresults > kInlineResults) {
    heap_rets.resize(nresults);
    rv = heap_rets.data();
  } else {
    for (size_t i = 0; i < nresults; ++i) new (&rv[i]) Value();
  }

  // 2. The context.
  const ExecLimits& limits = *call.limits;
  HostContext ctx;
  ctx.memory = call.memory;
  ctx.limits = &limits;
  if (limits.fuel != 0) ctx.fuel_left = limits.fuel - std::min(limits.fuel, call.fuel_used);

  // 3. The host function.
  HostCallResult r = run_guarded(f, ctx, av, rv);

  // 4. Host work is metered like instructions (HostContext::charge_fuel: bytes moved), so a
  //    loop of cheap-looking host calls cannot do unbounded work under a fuel budget.
  call.fuel_charged = ctx.fuel_charged;

  // 5. The status.
  switch (r.status) {
    case HostStatus::kOk: {
      auto* out = static_cast<unsigned char*>(results);
      for (size_t i = 0; i < nresults; ++i) {
        // By the declared type (scalars only: link_host_functions refuses the rest), whatever
        // the host wrote, so the slot is always the width the guest's code expects.
        const RawSlot raw = raw_from_scalar(sig.results[i], rv[i]);
        std::memcpy(out + i * slot_bytes, &raw, sizeof raw);
      }
      if (limits.fuel != 0 && ctx.fuel_spent()) {
        const uint64_t used = call.fuel_used + ctx.fuel_charged < call.fuel_used
                                  ? UINT64_MAX
                                  : call.fuel_used + ctx.fuel_charged;
        call.error = Error(ErrorCode::kFuelExhausted,
                           "fuel exhausted after " + std::to_string(used) +
                               " units (host work included); raise --fuel");
        return HostCallEnd::kStop;
      }
      if (deadline_reached(limits)) {
        call.error = deadline_error(limits);
        return HostCallEnd::kStop;
      }
      return HostCallEnd::kContinue;
    }
    case HostStatus::kExit:
      call.exit_code = r.exit_code;
      return HostCallEnd::kExit;
    case HostStatus::kTrap:
      call.error = Error(ErrorCode::kTrapHost, qualified(f) + ": " + r.message);
      return HostCallEnd::kStop;
    case HostStatus::kFail:
      call.error = Error(r.error_code, std::move(r.message));
      return HostCallEnd::kStop;
  }
  call.error = Error(ErrorCode::kInternal,
                     qualified(f) + ": the host function returned an unknown status");
  return HostCallEnd::kStop;
}

namespace {
std::string mib(uint64_t pages) { return std::to_string(pages * kWasmPageSize >> 20) + " MiB"; }
}  // namespace

std::string memory_pool_short(const wasmcap_memory_pool& pool, uint64_t pages) {
  const uint64_t used = std::min(wasmcap_memory_pool_used(&pool), pool.max_pages);
  return "the module needs " + std::to_string(pages) + " pages (" + mib(pages) +
         ") of memory initially, but the memory this run shares with the others of its group (" +
         mib(pool.max_pages) + ") has " + mib(pool.max_pages - used) + " left";
}

void note_memory_at_cap(Error* error, const GuestMemory& memory, const ExecLimits& limits) {
  if (!is_trap(error->code) || error->code == ErrorCode::kTrapHost) return;
  if (limits.memory_pool && wasmcap_memory_pool_refusals(limits.memory_pool.get()) != 0) {
    error->message += " (note: linear memory could not grow: the memory this run shares with "
                      "the others of its group (" + mib(limits.memory_pool->max_pages) +
                      ") was in use)";
    return;
  }
  if (limits.max_memory_pages >= 65536 || !memory.valid()) return;
  if (memory.size() / kWasmPageSize < limits.max_memory_pages) return;
  error->message += " (note: linear memory is at the limit of " +
                    std::to_string(limits.max_memory_pages) +
                    " pages; raise --max-memory-mb if the guest needs more)";
}

}  // namespace wasmcap::engine

// Instance::call: the export-call prologue and epilogue every engine shares (wasmcap/engine.h
// lists the steps). The engine's part is run_export(): running the export with its arguments
// in raw slots. Keeping the rest here is what makes the engines refuse, stop and report calls
// identically: before it, each engine had its own copy, and they had drifted (the fast engine
// alone refused re-entrant calls; the AOT engine alone checked the deadline before calling a
// re-exported host import).
#include <algorithm>
#include <string>
#include <vector>

#include "engine/host_call.h"
#include "wasmcap/engine.h"

namespace wasmcap {
namespace {
// Instance::call()s running on this thread, nested through host functions.
thread_local uint32_t call_nesting = 0;
}  // namespace

Result<CallOutcome> Instance::call(std::string_view export_name, const std::vector<Value>& args) {
  if (start_exit_) {
    CallOutcome out;
    out.exited = true;
    out.exit_code = *start_exit_;
    return out;
  }
  const std::vector<ExportDesc>& exports = module_info().exports;
  size_t index = exports.size();
  for (size_t i = 0; i < exports.size(); ++i) {
    if (exports[i].name == export_name && exports[i].kind == ExternKind::kFunc) index = i;
  }
  if (index == exports.size()) {
    return make_error(ErrorCode::kNoEntryPoint,
                      "module has no exported function " + quote_untrusted(export_name));
  }
  const FuncSig& sig = exports[index].sig;
  WASMCAP_TRY(check_call_args(export_name, sig, args));
  // A host function that calls back into the instance running it (re-entrant) runs guest code
  // on top of the live call: an engine that keeps each call's state apart says so (reentrant();
  // the interpreter starts the inner call above the outer one's frames); the others refuse it,
  // and the outer call goes on intact.
  if (running_ != 0 && !reentrant()) {
    return make_error(ErrorCode::kInvalidArgument,
                      "re-entrant call into a running instance (from a host function) is not "
                      "supported");
  }
  // Calls nested through host functions (guest -> host -> guest, into this instance or
  // another) each take host stack: bounded per thread, so a guest that makes a host function
  // call back into it endlessly traps instead of overflowing the host's stack.
  if (call_nesting >= kMaxCallNesting) {
    return make_error(ErrorCode::kTrapStackExhausted,
                      "call stack exhausted: calls nested through host functions more than " +
                          std::to_string(kMaxCallNesting) + " deep");
  }
  // An interrupted run, or one past its deadline, runs no more code, not even a host function
  // re-exported as this export (which no engine's loop would check before running it).
  const ExecLimits& limits = exec_limits();
  if (deadline_reached(limits)) return tl::unexpected(deadline_error(limits));

  const uint32_t stride = raw_stride();
  auto is_v128 = [](ValType t) { return t == ValType::kV128; };
  if (stride < 2 && (std::any_of(sig.params.begin(), sig.params.end(), is_v128) ||
                     std::any_of(sig.results.begin(), sig.results.end(), is_v128))) {
    return make_error(ErrorCode::kModuleUnsupported,
                      "export " + quote_untrusted(export_name) + " has signature " +
                          sig.to_string() + ", which this engine cannot call");
  }
  // (+1: never an empty array, so data() is a valid pointer for a function without values.)
  std::vector<engine::RawSlot> raw_args(args.size() * stride + 1, 0);
  std::vector<engine::RawSlot> raw_results(sig.results.size() * stride + 1, 0);
  for (size_t i = 0; i < args.size(); ++i) engine::raw_from_value(args[i], &raw_args[i * stride]);

  ++running_;
  ++call_nesting;
  struct Done {
    uint32_t* running;
    ~Done() {
      --*running;
      --call_nesting;
    }
  } done{&running_};
  auto end = run_export(index, raw_args.data(), raw_results.data());
  if (!end) {
    Error e = std::move(end.error());
    engine::note_memory_at_cap(&e, memory(), limits);
    return tl::unexpected(std::move(e));
  }
  CallOutcome out;
  if (end->exited) {
    out.exited = true;
    out.exit_code = end->exit_code;
    return out;
  }
  out.results.reserve(sig.results.size());
  for (size_t i = 0; i < sig.results.size(); ++i) {
    out.results.push_back(engine::value_from_raw(sig.results[i], &raw_results[i * stride]));
  }
  return out;
}

}  // namespace wasmcap

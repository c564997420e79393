// The run pipeline (runtime.h, "The run pipeline"): every front end's run goes through
// resolve_run, so grants come from one source, limits narrow by one rule and every run has one
// invocation id, whoever asked for it.
#include "wasmcap/runtime.h"

#include <cstdint>

#include "runtime/run_id.h"

namespace wasmcap {

namespace {

// RunOptions' limits as bounds: 0 is "unlimited" for fuel and the deadline; memory always has
// a value (4 GiB when nothing narrowed it).
RunBounds bounds_of(const RunOptions& o) {
  RunBounds b;
  b.max_memory_bytes = o.max_memory_bytes;
  if (o.timeout_ms != 0) b.timeout_ms = o.timeout_ms;
  if (o.fuel != 0) b.fuel = o.fuel;
  return b;
}

}  // namespace

RunBounds narrow_bounds(const RunBounds& a, const RunBounds& b) {
  RunBounds n;
  n.max_memory_bytes = policy::smaller_limit(a.max_memory_bytes, b.max_memory_bytes);
  n.timeout_ms = policy::smaller_limit(a.timeout_ms, b.timeout_ms);
  n.fuel = policy::smaller_limit(a.fuel, b.fuel);
  n.max_write_bytes = policy::smaller_limit(a.max_write_bytes, b.max_write_bytes);
  return n;
}

RunBounds bounds_of(const policy::Limits& limits) {
  RunBounds b;
  // Manifests and host configs bound memory at 4096 MiB; other callers' values saturate.
  if (limits.max_memory_mb) {
    b.max_memory_bytes = *limits.max_memory_mb > (UINT64_MAX >> 20) ? UINT64_MAX : *limits.max_memory_mb << 20;
  }
  b.timeout_ms = limits.timeout_ms;
  b.fuel = limits.fuel;
  if (limits.max_write_mb) {
    b.max_write_bytes = *limits.max_write_mb > (UINT64_MAX >> 20) ? UINT64_MAX : *limits.max_write_mb << 20;
  }
  return b;
}

Result<RunOptions> resolve_run(RunRequest request) {
  RunOptions o = std::move(request.options);
  if (request.plan) {
    // One source of grants: the host config is the whole story of what the plugin may touch.
    if (!o.wasi.preopens.empty() || !o.wasi.env.empty()) {
      return make_error(ErrorCode::kInvalidArgument,
                        "a run with a plan takes its directories and environment from the plan "
                        "only: grant them in the host config instead");
    }
    RunOptions granted;
    WASMCAP_TRY_ASSIGN(granted,
                       run_options_from_plan(std::move(request.plan), std::move(request.argv), request.degrade));
    o.wasi.args = std::move(granted.wasi.args);
    o.wasi.preopens = std::move(granted.wasi.preopens);
    o.wasi.env = std::move(granted.wasi.env);
    o.wasi.clock = granted.wasi.clock;
    o.wasi.clock_wall = granted.wasi.clock_wall;
    o.wasi.clock_monotonic = granted.wasi.clock_monotonic;
    o.wasi.random = granted.wasi.random;
    o.host_apis = granted.host_apis;
    o.plan = std::move(granted.plan);
    o.max_memory_bytes = granted.max_memory_bytes;
    o.timeout_ms = granted.timeout_ms;
    o.fuel = granted.fuel;
    o.wasi.max_write_bytes = granted.wasi.max_write_bytes;
  } else {
    o.wasi.args = std::move(request.argv);
  }
  // The operator's bounds narrow the source's limits (the one rule, in bytes).
  RunBounds limits = narrow_bounds(bounds_of(o), request.bounds);
  o.max_memory_bytes = limits.max_memory_bytes.value_or(o.max_memory_bytes);
  o.timeout_ms = limits.timeout_ms.value_or(0);
  o.fuel = limits.fuel.value_or(0);
  // The write budget: the operator's bound, narrowed by the plan's limit (the host config's and
  // the manifest's, already the smaller of the two), replaces the default; it may exceed it.
  std::optional<uint64_t> write = request.bounds.max_write_bytes;
  if (o.plan) write = policy::smaller_limit(write, bounds_of(o.plan->limits).max_write_bytes);
  if (write) o.wasi.max_write_bytes = *write;
  pin_clock(o.wasi, request.clock_pin);
  pin_random(o.wasi, request.random_pin);
  // One id ties the run's records and its https events together: the caller's, or a new one.
  WASMCAP_TRY(runtime_detail::settle_invocation_id(o.invocation_id));
  return o;
}

Result<RunReport> run_request(RunRequest request, const std::vector<uint8_t>& module_bytes) {
  RunOptions o;
  WASMCAP_TRY_ASSIGN(o, resolve_run(std::move(request)));
  return run_module(module_bytes, std::move(o));
}

Result<RunReport> run_request(RunRequest request, const PreparedModule& module) {
  RunOptions o;
  WASMCAP_TRY_ASSIGN(o, resolve_run(std::move(request)));
  return module.run(std::move(o));
}

std::string run_end_not_written(const RunReport& report) {
  std::string why = report.audit_error ? report.audit_error->to_string() : "record was not written";
  return "the run finished (status " + std::to_string(report.exit_code & 0xff) + ") but its run_end " + why;
}

}  // namespace wasmcap

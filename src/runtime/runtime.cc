#include "wasmcap/runtime.h"

#include <cerrno>
#include <cstring>
#include <fstream>

namespace wasmcap {

Result<std::vector<uint8_t>> read_file_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return make_error(errno == ENOENT ? ErrorCode::kNotFound : ErrorCode::kIo,
                      "cannot read '" + path + "': " + std::strerror(errno));
  }
  std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) return make_error(ErrorCode::kIo, "error reading '" + path + "'");
  return bytes;
}

Result<std::unique_ptr<Engine>> make_engine(const std::string& name, const AotOptions& aot) {
  if (name == "interp") return make_interp_engine();
  if (name == "aot") return make_aot_engine(aot);
  // auto: native speed when this machine can compile; otherwise the interpreter, which needs
  // nothing. Both enforce the same contract, except fuel (aot refuses it: capability check).
  if (name == "auto") return aot_available(aot) ? make_aot_engine(aot) : make_interp_engine();
  return make_error(ErrorCode::kInvalidArgument,
                    "unknown engine '" + name + "'; available engines: interp, aot, auto");
}

CapabilitySet host_build_capabilities() {
  // host_api.https arrives with the https host API; until then a plan requesting it is refused.
  return CapabilitySet()
      .add(Capability::kWasiArgs)
      .add(Capability::kWasiEnv)
      .add(Capability::kWasiClocks)
      .add(Capability::kWasiRandom)
      .add(Capability::kWasiStdio)
      .add(Capability::kWasiFs);
}

CapabilitySet required_capabilities(const RunOptions& options) {
  CapabilitySet s = options.host_apis;
  // register_wasi() links stdio, clocks and random into every instance.
  s.add(Capability::kWasiStdio).add(Capability::kWasiClocks).add(Capability::kWasiRandom);
  if (options.wasi.args.size() > 1) s.add(Capability::kWasiArgs);
  if (!options.wasi.env.empty()) s.add(Capability::kWasiEnv);
  if (!options.wasi.preopens.empty()) s.add(Capability::kWasiFs);
  if (options.fuel != 0) s.add(Capability::kLimitFuel);
  if (options.timeout_ms != 0) s.add(Capability::kLimitTimeout);
  if (options.max_memory_bytes / kWasmPageSize < 65536) s.add(Capability::kLimitMemory);
  return s;
}

Result<RunOptions> run_options_from_plan(std::shared_ptr<const policy::Plan> plan,
                                         std::vector<std::string> argv, bool degrade) {
  if (!plan) return make_error(ErrorCode::kInvalidArgument, "no plan given");
  if (!degrade) {
    if (auto r = policy::require_fully_granted(*plan); !r) return tl::unexpected(r.error());
  }
  // Arguments are the operator's to give, but only to a plugin that says it takes them; passing
  // them anyway would be a silent ignore of the manifest.
  if (argv.size() > 1 && !plan->args) {
    return make_error(ErrorCode::kGrantDenied,
                      "guest arguments given, but plugin " + plan->plugin +
                          "'s manifest does not request args (\"permissions\": {\"args\": true})");
  }
  RunOptions o;
  o.wasi.args = std::move(argv);
  for (const auto& m : plan->fs) {
    Preopen p;
    p.guest_path = m.guest;
    p.host_path = m.host;
    p.read_only = m.access == policy::Access::kReadOnly;
    p.denied = m.denied;
    o.wasi.preopens.push_back(std::move(p));
  }
  o.wasi.env = plan->env;
  if (plan->limits.max_memory_mb) o.max_memory_bytes = *plan->limits.max_memory_mb << 20;
  if (plan->limits.fuel) o.fuel = *plan->limits.fuel;
  if (plan->limits.timeout_ms) o.timeout_ms = *plan->limits.timeout_ms;
  o.host_apis = policy::requested_host_apis(*plan);
  o.plan = std::move(plan);
  return o;
}

Result<RunReport> run_module(const std::vector<uint8_t>& module_bytes, RunOptions options) {
  if (options.engine == "auto") {
    // auto picks the engine that can run this request: the interpreter when fuel is asked for
    // (aot does not meter), when no C compiler is found, or when the AOT translator refuses the
    // module (module_unsupported, e.g. SIMD); otherwise aot.
    bool aot = aot_available(options.aot) &&
               !required_capabilities(options).has(Capability::kLimitFuel);
    if (aot) {
      auto engine = make_aot_engine(options.aot);
      auto probe = engine->load(module_bytes.data(), module_bytes.size());
      if (probe || probe.error().code != ErrorCode::kModuleUnsupported) {
        return run_module(*engine, module_bytes, std::move(options));
      }
    }
    auto interp = make_interp_engine();
    return run_module(*interp, module_bytes, std::move(options));
  }
  auto engine = make_engine(options.engine, options.aot);
  if (!engine) return tl::unexpected(engine.error());
  return run_module(**engine, module_bytes, std::move(options));
}

Result<RunReport> run_module(Engine& engine, const std::vector<uint8_t>& module_bytes,
                             RunOptions options) {
  auto start = std::chrono::steady_clock::now();
  // No silent ignore: a limit or host API the engine or build cannot provide stops the run
  // here, before the module is even loaded.
  if (auto r = policy::check_capabilities(required_capabilities(options), engine,
                                          host_build_capabilities());
      !r) {
    return tl::unexpected(r.error());
  }
  auto module = engine.load(module_bytes.data(), module_bytes.size());
  if (!module) return tl::unexpected(module.error());
  // A module reaching for a host API its manifest did not request is refused outright (even
  // under --degrade): the manifest is the plugin's complete statement of what it uses.
  if (auto r = policy::check_imports((*module)->info(), options.host_apis); !r) {
    return tl::unexpected(r.error());
  }

  ExecLimits limits;
  limits.max_memory_pages = std::min<uint64_t>(options.max_memory_bytes / kWasmPageSize, 65536);
  limits.fuel = options.fuel;
  limits.interrupt = options.interrupt;
  if (options.timeout_ms != 0) {
    // Clamp: a huge timeout must mean "far future", not overflow into the past.
    constexpr uint64_t kMaxTimeoutMs = 1000ull * 60 * 60 * 24 * 365 * 100;  // a century
    // Counted from the end of loading: the deadline bounds guest execution, not an AOT compile
    // on a cold cache (which is bounded by the module's size, not by the guest).
    limits.deadline = std::chrono::steady_clock::now() +
                      std::chrono::milliseconds(std::min(options.timeout_ms, kMaxTimeoutMs));
  }

  auto host = make_wasi_host(std::move(options.wasi));
  if (!host) return tl::unexpected(host.error());
  HostFuncTable table;
  register_wasi(*host, table);

  auto instance = engine.instantiate(*module, table, limits);
  if (!instance) return tl::unexpected(instance.error());

  const ModuleInfo& info = (*module)->info();
  if (options.entry != "_start" || info.find_export("_start") == nullptr) {
    if (const ExportDesc* init = info.find_export("_initialize");
        init != nullptr && init->kind == ExternKind::kFunc) {
      auto r = (*instance)->call("_initialize", {});
      if (!r) return tl::unexpected(r.error());
      if (r->exited) {  // proc_exit during initialisation ends the run
        RunReport report;
        report.exit_code = r->exit_code;
        report.fuel_consumed = (*instance)->fuel_consumed();
        return report;
      }
    }
  }
  auto outcome = (*instance)->call(options.entry, {});
  RunReport report;
  report.fuel_consumed = (*instance)->fuel_consumed();
  report.wall_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  if (!outcome) return tl::unexpected(outcome.error());
  if (outcome->exited) report.exit_code = outcome->exit_code;
  return report;
}

}  // namespace wasmcap

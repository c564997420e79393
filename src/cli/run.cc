// `wasmcap run`: a module (or an installed bundle) in a sandbox, with its grants from flags, a
// manifest + host config, or the registry; the run itself (grants, narrowing, invocation id, audit
// records) is the library's run pipeline (wasmcap/runtime.h RunRequest), this file only gathers
// what the user asked for.
#include "cli/cli.h"
#include "cli/commands.h"

#include <sys/resource.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cerrno>
#include <chrono>
#include <climits>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iterator>
#include <nlohmann/json.hpp>
#include <string_view>

#include "policy/syntax.h"
#include "wasmcap/audit.h"
#include "wasmcap/audit_events.h"
#include "wasmcap/bundle.h"
#include "wasmcap/policy.h"
#include "wasmcap/registry.h"
#include "wasmcap/runtime.h"
#include "wasmcap/workspace.h"

namespace wasmcap::cli {

namespace {

// Options every kind of run shares beyond the grants: --json and --invocation-id.
struct RunExtras {
  bool json = false;
  std::string invocation_id;
  bool audit_stderr = false;
  std::vector<std::string> allow_https;  // --allow-https HOST[/PREFIX][:METHODS]
  std::vector<std::string> secrets;      // --secret NAME=FILE@HOST[,HOST...]
  bool quiet = false;             // -q: no engine notice
  bool wait_for_compile = false;  // --engine auto: compile in the foreground when not cached
  std::string clock;                     // --clock host|deny|fixed=INSTANT[,step=D]
  std::string random;                    // --random host|deny|seed=N
  bool default_deadline = false;  // no --timeout-ms: a run no plan bounds gets the default deadline
  // The host config's defaults.timeout_ms (0 = no default deadline); absent: policy::kDefaultTimeoutMs.
  std::optional<uint64_t> configured_timeout_ms;
  // `wasmcap call`: the component's export to call instead of its wasi:cli/run (call.cc).
  std::optional<ComponentCall> call;
};

// "60 s", or "1500 ms" when not whole seconds.
std::string duration_text(uint64_t ms) {
  return ms % 1000 == 0 ? std::to_string(ms / 1000) + " s" : std::to_string(ms) + " ms";
}

// A run's extras with what the host config sets for commands that leave a bound unset.
RunExtras with_config_defaults(const RunExtras& extras, const policy::HostConfig& config) {
  RunExtras x = extras;
  if (config.defaults.timeout_ms) x.configured_timeout_ms = config.defaults.timeout_ms;
  return x;
}

// A flag-based run with --allow-https/--secret: the flags are both the request and the grant of
// an implicit plugin "cli" (nothing else is granted or intersected in), and its https events are
// audited to stderr.
Result<std::shared_ptr<policy::Plan>> flag_https_plan(const RunExtras& x, const std::string& module_path) {
  policy::Manifest m;
  m.name = "cli";
  m.version = "0.0.0";
  m.module = module_path;
  m.permissions.args = true;
  // Flag runs keep the WASI baseline of host clocks and random (--clock/--random pin them).
  m.permissions.clocks = {true, true};
  m.permissions.random = true;
  policy::HttpsRequest req;
  policy::HttpsGrant grant;
  for (const auto& spec : x.allow_https) {
    policy::HttpsRule r;
    WASMCAP_TRY_ASSIGN(r, from_flag("--allow-https", policy::parse_https_grant(spec)));
    req.allow.push_back(r);
    grant.allow.push_back(r);
  }
  if (req.allow.empty()) {
    return make_error(ErrorCode::kInvalidArgument, "--secret needs --allow-https for its hosts");
  }
  for (const auto& spec : x.secrets) {
    policy::SecretRef ref;
    WASMCAP_TRY_ASSIGN(ref, from_flag("--secret", policy::parse_secret_grant(spec)));
    for (const auto& s : grant.secrets) {
      if (s.name == ref.name) {
        return make_error(ErrorCode::kInvalidArgument, "--secret " + ref.name + " given twice");
      }
    }
    req.secrets.push_back(ref.name);
    grant.secrets.push_back(ref);
  }
  m.permissions.https = req;
  policy::HostConfig config;
  policy::PluginConfig pc;
  pc.grants.https = grant;
  config.plugins.emplace_back("cli", pc);
  auto plan = std::make_shared<policy::Plan>(policy::make_plan(m, config, ""));
  plan->module_path = module_path;
  return plan;
}


// A module without _start run without --invoke: name its function exports.
std::string reactor_hint(const std::vector<uint8_t>& bytes) {
  auto module = make_fast_engine()->load(bytes.data(), bytes.size());
  if (!module) return "";
  std::string names;
  size_t n = 0;
  for (const auto& e : (*module)->info().exports) {
    if (e.kind != ExternKind::kFunc || e.name == "_initialize") continue;
    if (n++ == 10) {
      names += ", ...";
      break;
    }
    names += (names.empty() ? "" : ", ") + printable(e.name);
  }
  return " -- this module has no _start (a reactor or library): call one of its exports with "
         "--invoke NAME" + (names.empty() ? std::string() : " (function exports: " + names + ")");
}

// `--invoke FUNC ARGS...`: ARGS typed by FUNC's signature (i32/i64: decimal or 0x hex, signed
// or unsigned; f32/f64: decimal, inf, nan).
Result<std::vector<Value>> parse_invoke_args(const std::vector<uint8_t>& bytes, const std::string& entry,
                                             const std::vector<std::string>& args) {
  std::shared_ptr<const Module> module;
  WASMCAP_TRY_ASSIGN(module, make_fast_engine()->load(bytes.data(), bytes.size()));
  const ExportDesc* e = module->info().find_export(entry);
  if (e == nullptr || e->kind != ExternKind::kFunc) return std::vector<Value>{};  // run reports it
  if (e->sig.params.size() != args.size()) {
    return make_error(ErrorCode::kInvalidArgument,
                      "--invoke " + printable(entry) + " takes " + std::to_string(e->sig.params.size()) +
                          " argument(s) " + e->sig.to_string() + ", got " + std::to_string(args.size()));
  }
  std::vector<Value> out;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    ValType t = e->sig.params[i];
    auto bad = [&]() {
      return make_error(ErrorCode::kInvalidArgument, "--invoke argument " + std::to_string(i + 1) + " '" +
                                                         printable(a) + "' is not a valid " +
                                                         std::string(val_type_name(t)));
    };
    errno = 0;
    char* end = nullptr;
    if (t == ValType::kI32 || t == ValType::kI64) {
      bool neg = !a.empty() && a[0] == '-';
      uint64_t v = neg ? static_cast<uint64_t>(std::strtoll(a.c_str(), &end, 0)) : std::strtoull(a.c_str(), &end, 0);
      if (a.empty() || errno != 0 || *end != '\0' || (!neg && a[0] == '+' && a.size() == 1)) return bad();
      if (t == ValType::kI32) {
        int64_t sv = static_cast<int64_t>(v);
        if (neg ? sv < INT32_MIN : v > UINT32_MAX) return bad();
        out.push_back(Value::I32(static_cast<uint32_t>(v)));
      } else {
        out.push_back(Value::I64(v));
      }
    } else if (t == ValType::kF32 || t == ValType::kF64) {
      double d = std::strtod(a.c_str(), &end);
      if (a.empty() || *end != '\0') return bad();
      out.push_back(t == ValType::kF32 ? Value::F32(static_cast<float>(d)) : Value::F64(d));
    } else {
      return make_error(ErrorCode::kInvalidArgument, "--invoke: " + std::string(val_type_name(t)) +
                                                         " parameters cannot be given on the command line");
    }
  }
  return out;
}

std::string value_text(const Value& v) {
  char b[64];
  switch (v.type) {
    case ValType::kI32: std::snprintf(b, sizeof b, "%d", static_cast<int32_t>(v.i32)); break;
    case ValType::kI64: std::snprintf(b, sizeof b, "%lld", static_cast<long long>(static_cast<int64_t>(v.i64))); break;
    case ValType::kF32: std::snprintf(b, sizeof b, "%.9g", static_cast<double>(v.f32)); break;
    case ValType::kF64: std::snprintf(b, sizeof b, "%.17g", v.f64); break;
    default: return "<" + std::string(val_type_name(v.type)) + ">";
  }
  return b;
}

// What every kind of run asks of the run pipeline beyond its grants: the clock and random pins
// (they only narrow, runtime.h pin_clock) and the invocation id (--invocation-id; else the
// pipeline makes one, so that --json names it even for a run that fails before it starts).
Result<void> add_extras(const RunExtras& x, RunRequest& request) {
  if (!x.clock.empty()) {
    auto c = parse_clock_source(x.clock);
    if (!c) return make_error(c.error().code, "--clock: " + c.error().message);
    request.clock_pin = *c;
  }
  if (!x.random.empty()) {
    auto r = parse_random_source(x.random);
    if (!r) return make_error(r.error().code, "--random: " + r.error().message);
    request.random_pin = *r;
  }
  request.options.invocation_id = x.invocation_id;
  return {};
}

// The run as the pipeline resolves it (runtime.h resolve_run): grants, narrowed limits, pins,
// invocation id.
Result<RunOptions> resolve(RunRequest request, const RunExtras& x) {
  WASMCAP_TRY(add_extras(x, request));
  return resolve_run(std::move(request));
}

// Runs the module and reports: the guest's exit status, or the error; with --json one result
// object on stdout (docs/cli.md "run --json") holding the guest's output. `opts` are resolved
// (resolve()).
// BYTES shared: a component run keeps views of them rather than a copy (run_module).
int finish_run(std::shared_ptr<const std::vector<uint8_t>> bytes, RunOptions opts, const RunExtras& x) {
  const std::string invocation_id = opts.invocation_id;
  if (x.call) {
    // `wasmcap call`: the function and its arguments are checked before the run starts, so a
    // refused call runs nothing and leaves no run records; the run checks them again (the same
    // check, runtime.h check_component_call) before it instantiates the component.
    if (auto c = check_component_call(bytes->data(), bytes->size(), *x.call); !c) return report_error(c.error());
    opts.component_call = x.call;
  }
  if (opts.entry != "_start" && !is_component_binary(bytes->data(), bytes->size())) {
    // --invoke FUNC ARGS...: the arguments are FUNC's, not the guest's argv (a component's run
    // refuses --invoke).
    std::vector<std::string> args(opts.wasi.args.size() > 1 ? opts.wasi.args.begin() + 1 : opts.wasi.args.end(),
                                  opts.wasi.args.end());
    auto values = parse_invoke_args(*bytes, opts.entry, args);
    if (!values) return report_error(values.error());
    opts.entry_args = std::move(*values);
    if (!opts.entry_args.empty() || !args.empty()) opts.wasi.args.resize(1);
  }
  // --engine auto says which engine runs the module, one line on stderr (also when stderr is
  // not a terminal: logs of non-interactive runs show it too); -q silences it.
  if (!x.quiet) {
    opts.notice = [](const std::string& line) {
      std::fprintf(stderr, "wasmcap: %s\n", line.c_str());
      std::fflush(stderr);
    };
  }
  opts.wait_for_compile = x.wait_for_compile;
  const uint64_t fallback_ms = x.configured_timeout_ms.value_or(policy::kDefaultTimeoutMs);
  const bool default_deadline = x.default_deadline && opts.timeout_ms == 0 && fallback_ms != 0;
  if (default_deadline) opts.timeout_ms = fallback_ms;
  // --audit-stderr: the run's records (and its https events) also on stderr.
  if (x.audit_stderr && !opts.audit_sink) opts.audit_sink = audit::stderr_sink();
  std::string requested_engine = opts.engine;
  std::string entry = opts.entry;
  // --json captures the guest's output into the result; without --max-output-bytes it is capped
  // at 16 MiB so the object stays bounded.
  auto out = std::make_shared<std::string>();
  auto err = std::make_shared<std::string>();
  auto out_bytes = std::make_shared<uint64_t>(0);
  auto err_bytes = std::make_shared<uint64_t>(0);
  if (x.json) {
    if (opts.wasi.max_output_bytes == 0) opts.wasi.max_output_bytes = 16u << 20;
    opts.wasi.stdout_sink = [out, out_bytes](const uint8_t* d, size_t n) {
      out->append(reinterpret_cast<const char*>(d), n);
      *out_bytes += n;
      return true;
    };
    opts.wasi.stderr_sink = [err, err_bytes](const uint8_t* d, size_t n) {
      err->append(reinterpret_cast<const char*>(d), n);
      *err_bytes += n;
      return true;
    };
  }
  rusage before{}, after{};
  getrusage(RUSAGE_SELF, &before);
  auto start = std::chrono::steady_clock::now();
  std::fflush(stdout);
  auto report = run_module(bytes, std::move(opts));
  double wall = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  getrusage(RUSAGE_SELF, &after);
  auto ms = [](const timeval& t) { return t.tv_sec * 1000.0 + t.tv_usec / 1000.0; };
  double cpu = ms(after.ru_utime) + ms(after.ru_stime) - ms(before.ru_utime) - ms(before.ru_stime);
  std::optional<Error> error;
  if (!report) {
    error = report.error();
    if (error->code == ErrorCode::kNoEntryPoint && entry == "_start") error->message += reactor_hint(*bytes);
    if (error->code == ErrorCode::kDeadlineExceeded && default_deadline) {
      error->message += (x.configured_timeout_ms ? " (the host config's defaults.timeout_ms of "
                                                 : " (wasmcap run's default deadline of ") +
                        duration_text(fallback_ms) +
                        "; --timeout-ms MS sets another, --timeout-ms 0 none)";
    }
  }
  int status = error ? error_exit_code(error->code) : (report->exit_code & 0xff);
  std::optional<Error> audit_error = report ? report->audit_error : std::nullopt;
  if (error) std::fprintf(stderr, "wasmcap: error: %s\n", error->to_string().c_str());
  if (audit_error) {
    // The run happened and its run_start record says so, but its end is not recorded: the run
    // fails (74) with a warning, whatever the guest's own status was.
    std::fprintf(stderr, "wasmcap: warning: %s\n", run_end_not_written(*report).c_str());
    status = error_exit_code(ErrorCode::kIo);
  }
  if (!x.json) {
    if (report) {
      for (const auto& v : report->results) std::printf("%s\n", value_text(v).c_str());
      if (x.call && x.call->args_wave) {
        // WAVE: the result as WAVE (nothing for a function without one; a wasi:cli/exit status
        // leaves both empty).
        if (!report->result_wave.empty()) std::printf("%s\n", report->result_wave.c_str());  // escaped by val_to_wave
      } else if (x.call && !report->result_json.empty()) {
        std::printf("%s\n", report->result_json.c_str());
      }
      std::fflush(stdout);
    }
    if (audit_error) return status;
    return error ? status : report->exit_code;
  }
  nlohmann::json j;
  j["exit_code"] = error ? nlohmann::json(nullptr) : nlohmann::json(report->exit_code);
  j["error"] = error ? nlohmann::json{{"code", std::string(error_code_name(error->code))},
                                      {"message", error->message}}
                     : nlohmann::json(nullptr);
  j["status"] = status;
  if (audit_error) j["audit_error"] = audit_error->message;
  j["engine"] = report ? report->engine : requested_engine;
  j["wall_ms"] = wall;
  j["cpu_ms"] = cpu;
  j["fuel_consumed"] = report ? report->fuel_consumed : 0;
  j["stdout_bytes"] = *out_bytes;
  j["stderr_bytes"] = *err_bytes;
  j["stdout"] = *out;
  j["stderr"] = *err;
  j["invocation_id"] = invocation_id;
  nlohmann::json results = nlohmann::json::array();
  if (report) {
    for (const auto& v : report->results) results.push_back(value_text(v));
  }
  j["results"] = results;
  std::string text = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  std::fwrite(text.data(), 1, text.size(), stdout);
  std::fflush(stdout);
  if (audit_error) return status;
  return error ? status : report->exit_code;
}

int cmd_run_installed(const registry::Reference& ref, const std::vector<std::string>& guest_args,
                      const std::vector<std::string>& dirs, const std::vector<std::string>& envs,
                      const std::string& engine, uint64_t max_output_bytes,
                      const std::string& invoke, const std::string& argv0, const PlanFlags& flags,
                      const AotOptions& aot, const RunExtras& extras);

int cmd_run(const std::string& module_path, const std::vector<std::string>& guest_args,
            const std::vector<std::string>& dirs, const std::vector<std::string>& envs,
            const std::string& engine, uint64_t fuel, uint64_t timeout_ms, uint64_t max_memory_mb,
            uint64_t max_output_bytes, const std::string& invoke, const std::string& argv0,
            const PlanFlags& flags, const AotOptions& aot, const RunExtras& extras) {
  if (!flags.manifest.empty()) {
    // One source of grants: mixing flag grants into a manifest run would make the host config
    // no longer the whole story of what the plugin may touch.
    if (!dirs.empty() || !envs.empty()) {
      return report_error(Error(ErrorCode::kInvalidArgument,
                                std::string(!dirs.empty() ? "--dir" : "--env") +
                                    " cannot be combined with --manifest: grants come from the "
                                    "host config (--config) only"));
    }
    policy::HostConfig config;
    auto plan = build_plan(flags, module_path, &config);
    if (!plan) return report_error(plan.error());
    AotOptions configured = aot;
    apply_aot_config(config, configured);
    const RunExtras x = with_config_defaults(extras, config);
    RunRequest request;
    request.plan = *plan;
    request.degrade = flags.degrade;
    request.bounds = flags.bounds;
    request.argv = {argv0.empty() ? (*plan)->module_path : argv0};
    request.argv.insert(request.argv.end(), guest_args.begin(), guest_args.end());
    RunOptions& o = request.options;
    o.engine = engine;
    if (flags.audit_stderr) o.audit_sink = audit::stderr_sink();
    o.aot = configured;
    o.wasi.max_output_bytes = max_output_bytes;
    o.wasi.stdin_fd = STDIN_FILENO;
    if (!invoke.empty()) o.entry = invoke;
    auto opts = resolve(std::move(request), x);
    if (!opts) return report_error(opts.error());
    if (flags.degrade && !(*plan)->denied.empty()) {
      // Degraded runs are loud: each missing grant is named, then fails at call time.
      for (const auto& d : (*plan)->denied) {
        std::fprintf(stderr, "wasmcap: warning: --degrade: %s\n", d.c_str());
      }
    }
    auto file = read_module_file((*plan)->module_path);
    if (!file) return report_error(file.error());
    opts->module_file = std::move(file->file);
    return finish_run(std::make_shared<const std::vector<uint8_t>>(std::move(file->bytes)), std::move(*opts), x);
  }
  if (auto ref = bundle_reference(module_path)) {
    return cmd_run_installed(*ref, guest_args, dirs, envs, engine, max_output_bytes, invoke, argv0,
                             flags, aot, extras);
  }
  if (flags.degrade || flags.audit_stderr) {
    return report_error(Error(ErrorCode::kInvalidArgument,
                              std::string(flags.degrade ? "--degrade" : "--audit-stderr") +
                                  " needs --manifest or an installed bundle NAME[@VERSION]"));
  }
  if (module_path.empty()) {
    return report_error(Error(ErrorCode::kInvalidArgument,
                              "run: MODULE.wasm is required (or --manifest with --config)"));
  }
  // Flag grants: the flags are the whole grant (runtime.h RunRequest, no plan).
  RunRequest request;
  RunOptions& o = request.options;
  o.aot = aot;  // before the host config's aot section
  if (!extras.allow_https.empty() || !extras.secrets.empty()) {
    // --allow-https/--secret: the implicit plan's rules serve the https host API.
    auto plan = flag_https_plan(extras, module_path);
    if (!plan) return report_error(plan.error());
    if (auto g = policy::require_fully_granted(**plan); !g) return report_error(g.error());
    o.host_apis = policy::requested_host_apis(**plan);
    o.plan = std::move(*plan);
    o.audit_sink = audit::stderr_sink();
  }
  RunExtras x = extras;
  if (!flags.config.empty()) {
    // A flag run's grants are its flags alone; of a host config it takes the operator's audit
    // log (audit.file, audit.on_failure: docs/host-config.md#audit), so trials are recorded
    // where every other run is, and the host-wide sections (aot, defaults).
    auto config = policy::load_host_config(flags.config);
    if (!config) return report_error(config.error());
    apply_aot_config(*config, o.aot);
    x = with_config_defaults(extras, *config);
    if (config->audit.file) {
      auto file = audit::open_configured_sink(config->audit);
      if (!file) return report_error(file.error());
      o.audit_sink = o.audit_sink ? audit::tee_sink(*file, o.audit_sink) : *file;
    }
  }
  o.no_plan_grant =
      "grant the hosts it may reach: wasmcap run --allow-https HOST[/PREFIX][:METHODS] "
      "MODULE.wasm";
  o.engine = engine;
  o.fuel = fuel;
  o.timeout_ms = timeout_ms;
  o.max_memory_bytes = max_memory_mb * (1ull << 20);
  request.bounds.max_write_bytes = flags.bounds.max_write_bytes;  // --max-write-mb
  o.wasi.max_output_bytes = max_output_bytes;
  o.wasi.stdin_fd = STDIN_FILENO;
  request.argv.push_back(argv0.empty() ? module_path : argv0);
  for (const auto& a : guest_args) request.argv.push_back(a);
  for (const auto& d : dirs) {
    auto p = parse_dir_spec(d);
    if (!p) return report_error(p.error());
    o.wasi.preopens.push_back(*p);
  }
  for (const auto& e : envs) {
    auto kv = parse_env_spec(e);
    if (!kv) return report_error(kv.error());
    o.wasi.env.push_back(*kv);
  }
  if (!invoke.empty()) o.entry = invoke;
  auto file = read_module_file(module_path);
  if (!file) return report_error(file.error());
  o.module_file = std::move(file->file);
  auto opts = resolve(std::move(request), x);
  if (!opts) return report_error(opts.error());
  return finish_run(std::make_shared<const std::vector<uint8_t>>(std::move(file->bytes)), std::move(*opts), x);
}

Result<void> add_flag_grants(policy::HostConfig& config, const std::string& plugin,
                             const std::vector<std::string>& dirs,
                             const std::vector<std::string>& envs) {
  policy::PluginConfig* pc = nullptr;
  for (auto& [name, entry] : config.plugins) {
    if (name == plugin) pc = &entry;
  }
  if (pc == nullptr) {
    config.plugins.emplace_back(plugin, policy::PluginConfig{});
    pc = &config.plugins.back().second;
  }
  for (const auto& d : dirs) {
    Preopen p;
    WASMCAP_TRY_ASSIGN(p, parse_dir_spec(d));
    if (auto problem = policy::check_guest_path(p.guest_path)) {
      return make_error(ErrorCode::kInvalidArgument,
                        "--dir '" + d + "': guest path " + *problem +
                            " (an installed bundle's requests name absolute guest paths: "
                            "--dir HOST::/GUEST)");
    }
    std::error_code ec;
    std::string host = std::filesystem::absolute(p.host_path, ec).lexically_normal().string();
    if (ec) return make_error(ErrorCode::kInvalidArgument, "--dir '" + d + "': " + ec.message());
    if (host.size() > 1 && host.back() == '/') host.pop_back();
    for (const auto& g : pc->grants.fs) {
      if (g.guest == p.guest_path) {
        return make_error(ErrorCode::kInvalidArgument,
                          "--dir '" + d + "': guest path " + p.guest_path +
                              " is already granted (by the host config or another --dir)");
      }
    }
    pc->grants.fs.push_back(policy::FsGrant{
        p.guest_path, host, p.read_only ? policy::Access::kReadOnly : policy::Access::kReadWrite});
  }
  for (const auto& e : envs) {
    std::pair<std::string, std::string> kv;
    WASMCAP_TRY_ASSIGN(kv, parse_env_spec(e));
    if (auto problem = policy::check_env_name(kv.first)) {
      return make_error(ErrorCode::kInvalidArgument, "--env '" + kv.first + "': " + *problem);
    }
    for (const auto& [name, value] : pc->grants.env) {
      if (name == kv.first) {
        return make_error(ErrorCode::kInvalidArgument,
                          "--env " + kv.first + " is already granted (by the host config or "
                                                "another --env)");
      }
    }
    pc->grants.env.push_back(std::move(kv));
  }
  return {};
}

int cmd_run_installed(const registry::Reference& ref, const std::vector<std::string>& guest_args,
                      const std::vector<std::string>& dirs, const std::vector<std::string>& envs,
                      const std::string& engine, uint64_t max_output_bytes,
                      const std::string& invoke, const std::string& argv0, const PlanFlags& flags,
                      const AotOptions& aot, const RunExtras& extras) {
  auto ctx = open_registry(flags.config);
  if (!ctx) return report_error(ctx.error());
  // Verified before anything else looks at it: signature, trust, revocation, module hash.
  auto resolved = ctx->reg->resolve(ref.name, ref.version, ctx->trust);
  if (!resolved) return report_error(resolved.error());
  if (!resolved->signer_trusted) {
    std::fprintf(stderr,
                 "wasmcap: warning: %s@%s is signed by key %s, which is not trusted (installed "
                 "with --allow-untrusted)\n",
                 ref.name.c_str(), resolved->installed.version.c_str(),
                 resolved->installed.signer_id.c_str());
  }
  // Without --config, the operator's command line is the whole grant (an entry with exactly the
  // flags' grants); with it, the flags add to the config's entry for the plugin.
  if (flags.config.empty() || !dirs.empty() || !envs.empty()) {
    if (auto r = add_flag_grants(ctx->config, resolved->manifest.name, dirs, envs); !r) {
      return report_error(r.error());
    }
  }
  auto plan = std::make_shared<policy::Plan>(registry::plan_for_installed(*resolved, ctx->config));
  if (auto b = bind_workspaces(*plan); !b) return report_error(b.error());
  RunRequest request;
  request.plan = plan;
  request.degrade = flags.degrade;
  request.bounds = flags.bounds;
  request.argv = {argv0.empty() ? resolved->manifest.name : argv0};
  request.argv.insert(request.argv.end(), guest_args.begin(), guest_args.end());
  RunOptions& o = request.options;
  o.engine = engine;
  o.module_sha256 = resolved->module_sha256;
  o.aot = aot;
  apply_aot_config(ctx->config, o.aot);
  const RunExtras x = with_config_defaults(extras, ctx->config);
  if (flags.audit_stderr) o.audit_sink = audit::stderr_sink();
  o.wasi.max_output_bytes = max_output_bytes;
  o.wasi.stdin_fd = STDIN_FILENO;
  if (!invoke.empty()) o.entry = invoke;
  auto opts = resolve(std::move(request), x);
  if (!opts) return report_error(opts.error());
  if (flags.degrade) {
    for (const auto& d : plan->denied) {
      std::fprintf(stderr, "wasmcap: warning: --degrade: %s\n", d.c_str());
    }
  }
  return finish_run(resolved->module_bytes, std::move(*opts), x);
}

}  // namespace

struct RunCommand {
  CLI::App* cmd = nullptr;
  std::string module_path, engine = "interp", invoke, argv0, workspace;
  std::vector<std::string> dirs, envs;
  uint64_t fuel = 0, timeout_ms = 0, max_memory_mb = 4096, max_output_bytes = 0, aot_stack_mb = 0;
  uint64_t max_write_mb = 0;
  AotOptions aot;
  RunExtras extras;
  PlanFlags flags;
  std::vector<std::string> args_help;  // shown in --help; split_run_arguments fills guest_tail
  std::vector<std::string> guest_tail;
  bool dashdash = false;
};

// run's flags on `cmd` (run, or `call` without run's own: --invoke, --argv0, --allow-https,
// --secret, --json; call.cc).
static void add_run_flags(CLI::App* cmd, RunCommand* r, bool call) {
  cmd->add_option("--dir", r->dirs,
                  "Preopen a host directory: HOST[::GUEST][:ro|:rw] (GUEST defaults to HOST; "
                  ":ro makes it read-only). Repeatable.")
      ->allow_extra_args(false);
  cmd->add_option("--workspace", r->workspace,
                  "Preopen this shadow workspace's tree read-write at /work (docs/workspace.md); "
                  "not with --manifest (grant it in the host config instead)");
  cmd->add_option("--env", r->envs, "Give the guest an environment variable NAME=VALUE. Repeatable.")
      ->allow_extra_args(false);
  cmd->add_option("--engine", r->engine,
                  "Engine: interp (the default: wasmcap's own interpreter; "
                  "docs/fast-interp.md), aot (compiled to native code, cached) or auto (aot "
                  "when the module's compiled object is cached; else interp while it compiles "
                  "in the background; docs/aot.md). Default interp.")
      ->check(CLI::IsMember(engine_names()));
  cmd->add_flag("-q,--quiet", r->extras.quiet,
                "Do not print which engine --engine auto chose (one line on stderr)");
  cmd->add_flag("--wait-for-compile", r->extras.wait_for_compile,
                "--engine auto: when the module has no compiled object yet, compile it before "
                "the run instead of interpreting this run while it compiles in the background");
  cmd->add_option("--cache-dir", r->aot.cache_dir,
                  "AOT cache directory (default $WASMCAP_CACHE_DIR, else "
                  "$XDG_CACHE_HOME/wasmcap/aot, else ~/.cache/wasmcap/aot)");
  add_compile_bounds(cmd, r->aot);
  cmd->add_option("--aot-stack-mb", r->aot_stack_mb,
                  "AOT: size of the stack guest code runs on, in MiB (default 8, 1..1024); "
                  "deeper recursion traps with trap_stack_exhausted")
      ->check(CLI::Range(1, 1024));
  cmd->add_option("--fuel", r->fuel, "Instruction budget (0 = unlimited)")
      ->check(non_negative());
  cmd->add_option("--timeout-ms", r->timeout_ms,
                  "Wall-clock deadline in ms (0 = unlimited). Default: the plan's limit, else "
                  "60000")
      ->check(non_negative());
  cmd->add_option("--max-memory-mb", r->max_memory_mb, "Linear memory cap in MiB (default 4096)")
      ->check(CLI::Range(uint64_t{1}, uint64_t{4096}));
  cmd->add_option("--max-write-mb", r->max_write_mb,
                  "Write budget in MiB: what the guest's file writes may add to the host's disk "
                  "(growth past files' ends; each new file, directory or link costs 4 KiB); "
                  "beyond it writes fail with ENOSPC. 0 = the host config's limits.max_write_mb, "
                  "else 4096")
      ->check(CLI::Range(uint64_t{0}, policy::kMaxWriteMb));
  cmd->add_option("--max-output-bytes", r->max_output_bytes,
                  "Cap on bytes written to stdout+stderr (0 = unlimited)")
      ->check(non_negative());
  if (!call) {
    cmd->add_option("--invoke", r->invoke, "Call this export instead of _start (reactor modules)");
  }
  if (!call) {
    cmd->add_option("--argv0", r->argv0, "argv[0] the guest sees (default: the module path)");
  }
  cmd->add_option("--manifest", r->flags.manifest,
                  "Plugin manifest (JSON): what the plugin requests. Needs --config; excludes "
                  "--dir/--env. MODULE defaults to the manifest's module.");
  cmd->add_option("--config", r->flags.config,
                  "Host config (JSON): what the operator grants. The run gets the intersection. "
                  "With --manifest, or for an installed bundle; a MODULE.wasm run with --dir/"
                  "--env flags takes only its audit section (audit.file).");
  cmd->add_flag("--degrade", r->flags.degrade,
                "Run even if some requests are not granted; each use of a missing grant fails at "
                "call time (denied directories: ENOTCAPABLE)");
  if (!call) {
    cmd->add_option("--allow-https", r->extras.allow_https,
                    "Quick trials without a manifest: allow https requests to HOST[/PREFIX][:METHOD,...] "
                    "(default GET /). Audited to stderr. Repeatable.")
        ->allow_extra_args(false);
  }
  if (!call) {
    cmd->add_option("--secret", r->extras.secrets,
                    "With --allow-https: secret NAME read from FILE, sent only to HOST "
                    "(NAME=FILE@HOST[,HOST...]; header value secret:NAME). Repeatable.")
        ->allow_extra_args(false);
  }
  cmd->add_option("--clock", r->extras.clock,
                  "Pin the guest's clocks: fixed=YYYY-MM-DDTHH:MM:SSZ[,step=1us] (wall clock "
                  "starts there, monotonic at 0; both advance by STEP per read and by each "
                  "sleep, never with host time), or deny (ENOTCAPABLE). Only narrows the grant.");
  cmd->add_option("--random", r->extras.random,
                  "Pin random_get: seed=N (a ChaCha20 stream from N, docs/wasi-support.md) or "
                  "deny (ENOTCAPABLE). Only narrows the grant.");
  cmd->add_flag("--audit-stderr", r->flags.audit_stderr,
                "Also write the run's audit records (run_start, https requests, run_end; JSON "
                "Lines) to stderr, besides the host config's audit.file");
  if (!call) {
    cmd->add_flag("--json", r->extras.json,
                  "Print one JSON result object on stdout (exit code, error, engine, wall and CPU "
                  "ms, fuel, the guest's output and its size, invocation id)");
  }
  cmd->add_option("--invocation-id", r->extras.invocation_id,
                  "Id for this run's audit events (e.g. the agent's tool-call id; "
                  "[A-Za-z0-9._:-], at most 128 bytes). Default: random")
      ->check(CLI::Validator(
          [](std::string& v) {
            return is_valid_invocation_id(v) ? std::string()
                                             : std::string("1-128 characters of [A-Za-z0-9._:-]");
          },
          "ID", "invocation id"));
}

std::shared_ptr<RunCommand> add_run_command(CLI::App& app) {
  auto r = std::make_shared<RunCommand>();
  r->aot.progress = true;
  CLI::App* cmd = r->cmd = app.add_subcommand("run", "Run a WASI command module in a sandbox");
  add_run_flags(cmd, r.get(), false);
  cmd->add_option("module", r->module_path,
                  "The .wasm module (required without --manifest; with it, a path ending in .wasm "
                  "overrides the manifest's module, anything else is the guest's first argument), "
                  "or an installed bundle NAME[@VERSION] (no '/', not ending in .wasm)");
  cmd->add_option("args", r->args_help,
                  "Arguments for the guest (argv[1..]), passed verbatim, even ones that look like "
                  "options");
  cmd->prefix_command();
  return r;
}

std::shared_ptr<RunCommand> add_call_run_flags(CLI::App* cmd) {
  auto r = std::make_shared<RunCommand>();
  r->aot.progress = true;
  r->cmd = cmd;
  add_run_flags(cmd, r.get(), true);
  return r;
}

void set_component_call(RunCommand& r, std::string component, ComponentCall call) {
  r.module_path = std::move(component);
  r.extras.call = std::move(call);
}

std::vector<char*> split_run_arguments(RunCommand& r, int argc, char** argv) {
  // `wasmcap run` splits its arguments here rather than in CLI11: everything after MODULE is the
  // guest's, verbatim (even "--" and things that look like wasmcap options), and a "--" before
  // any positional ends wasmcap's options: with --manifest all that follows goes to the guest
  // (the module comes from the manifest); without, the first is the module.
  std::vector<char*> cli_args(argv, argv + argc);
  if (argc > 1 && std::string_view(argv[1]) == "run") {
    for (int i = 2; i < argc; ++i) {
      std::string_view tok = argv[i];
      if (tok == "--") {
        r.dashdash = true;
        r.guest_tail.assign(argv + i + 1, argv + argc);
        cli_args.resize(static_cast<size_t>(i));
        break;
      }
      if (tok.size() < 2 || tok[0] != '-') {  // MODULE
        r.guest_tail.assign(argv + i + 1, argv + argc);
        cli_args.resize(static_cast<size_t>(i) + 1);
        break;
      }
      if (tok.find('=') != std::string_view::npos) continue;
      const CLI::Option* opt = r.cmd->get_option_no_throw(std::string(tok));
      if (opt == nullptr) break;  // CLI11 reports it
      if (opt->get_expected_min() > 0) ++i;  // skip the option's value
    }
  }
  return cli_args;
}

// `wasmcap run MODULE --timeout-ms 5`: everything after MODULE is the guest's, so the option
// never reached wasmcap. Said once, on stderr, for the first argument that is one of run's own
// long options (--NAME or --NAME=VALUE); `run -- MODULE ARGS...` says the arguments are meant
// for the guest, and is silent. Not for the names tools use for options of their own
// (`md5sum -c --quiet`, `tool --json`, `--config FILE`, `--help`): there the guest's reading is
// the likely one, and a warning would be noise in its stderr.
static void warn_of_run_options_after_module(const CLI::App& cmd, const std::vector<std::string>& guest_args) {
  static constexpr std::string_view kToolsOwn[] = {"help", "quiet", "json", "config"};
  for (const std::string& a : guest_args) {
    if (a.size() < 3 || a.compare(0, 2, "--") != 0) continue;
    const size_t eq = a.find('=');
    std::string name = a.substr(2, eq == std::string::npos ? std::string::npos : eq - 2);
    if (std::find(std::begin(kToolsOwn), std::end(kToolsOwn), name) != std::end(kToolsOwn)) continue;
    for (const CLI::Option* o : cmd.get_options()) {
      const auto& names = o->get_lnames();
      if (std::find(names.begin(), names.end(), name) == names.end()) continue;
      std::fprintf(stderr,
                   "wasmcap: warning: '--%s' comes after MODULE, so it is the guest's argument, not "
                   "wasmcap's: put wasmcap's options before MODULE (`wasmcap run -- MODULE ARGS...` "
                   "passes guest arguments without this warning)\n",
                   printable(name).c_str());
      return;
    }
  }
}

std::optional<int> execute_run(RunCommand& run) {
  RunCommand* r = &run;
  if (!*r->cmd) return std::nullopt;
  // Limits given explicitly bound a manifest run further (the smaller value wins).
  if (r->cmd->count("--fuel") != 0 && r->fuel != 0) r->flags.bounds.fuel = r->fuel;
  if (r->cmd->count("--timeout-ms") != 0 && r->timeout_ms != 0) r->flags.bounds.timeout_ms = r->timeout_ms;
  if (r->cmd->count("--max-memory-mb") != 0) r->flags.bounds.max_memory_bytes = r->max_memory_mb << 20;
  if (r->max_write_mb != 0) r->flags.bounds.max_write_bytes = r->max_write_mb << 20;
  // Arguments after MODULE were split off above, so anything CLI11 left over came before it:
  // an option wasmcap does not know. Refuse it rather than drop it.
  set_json_errors(r->extras.json);
  if (!r->cmd->remaining().empty()) {
    return report_error(Error(ErrorCode::kInvalidArgument,
                              "unknown option '" + printable(r->cmd->remaining().front()) +
                                  "' (see wasmcap " + r->cmd->get_name() + " --help)"));
  }
  if (r->aot_stack_mb != 0) r->aot.stack_bytes = r->aot_stack_mb << 20;
  std::vector<std::string> guest_args = r->guest_tail;
  if (r->dashdash) {
    if (r->flags.manifest.empty() && !guest_args.empty()) {
      r->module_path = guest_args.front();
      guest_args.erase(guest_args.begin());
    }
  } else if (!r->flags.manifest.empty() && !r->module_path.empty() &&
             !is_module_path(r->module_path)) {
    // `run --manifest M --config C ARGS...`: the module comes from the manifest unless a
    // .wasm (or .wat) path is given, so the first word is the guest's first argument.
    guest_args.insert(guest_args.begin(), r->module_path);
    r->module_path.clear();
  }
  r->extras.default_deadline = r->cmd->count("--timeout-ms") == 0;
  if (!r->dashdash) warn_of_run_options_after_module(*r->cmd, guest_args);
  r->extras.audit_stderr = r->flags.audit_stderr;
  if ((!r->extras.allow_https.empty() || !r->extras.secrets.empty()) &&
      (!r->flags.manifest.empty() || bundle_reference(r->module_path))) {
    return report_error(Error(ErrorCode::kInvalidArgument,
                              "--allow-https/--secret are grants for a MODULE.wasm run; with "
                              "--manifest or an installed bundle, grants come from the host "
                              "config (--config)"));
  }
  if (!r->workspace.empty()) {
    // --workspace NAME is --dir TREE::/work for the workspace's tree: the same grant path
    // (flag run, or an operator grant for an installed bundle), so the same checks apply.
    if (!r->flags.manifest.empty()) {
      return report_error(Error(ErrorCode::kInvalidArgument,
                                "--workspace cannot be combined with --manifest: grant the "
                                "workspace in the host config (grants.fs[].workspace)"));
    }
    auto home = registry::default_home();
    if (!home) return report_error(home.error());
    auto info = workspace::open(*home, r->workspace);
    if (!info) return report_error(info.error());
    auto hold = workspace::hold_for_tools(*home, r->workspace);
    if (!hold) return report_error(hold.error());
    workspace_holds().push_back(std::move(*hold));
    r->dirs.insert(r->dirs.begin(), info->tree + "::/work");
  }
  return cmd_run(r->module_path, guest_args, r->dirs, r->envs, r->engine, r->fuel, r->timeout_ms,
                 r->max_memory_mb, r->max_output_bytes, r->invoke, r->argv0, r->flags, r->aot, r->extras);
}

}  // namespace wasmcap::cli

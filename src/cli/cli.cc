// The `wasmcap` command line. Flags are parsed here into typed options; policy decisions
// happen in the library, never in this file.
#include "cli/cli.h"
#include "cli/cli_mcp.h"
#include "cli/ws_cli.h"

#include <sys/resource.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cctype>
#include <chrono>
#include <climits>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>

#include <ctime>
#include <nlohmann/json.hpp>

#include "common/escape.h"
#include "common/json.h"
#include "policy/json_doc.h"
#include "policy/syntax.h"
#include "wasmcap/audit.h"
#include "wasmcap/audit_events.h"
#include "wasmcap/bundle.h"
#include "wasmcap/policy.h"
#include "wasmcap/registry.h"
#include "wasmcap/runtime.h"
#include "wasmcap/version.h"
#include "wasmcap/workspace.h"
#include "cli/ecosystem.h"
#include "engine/aot/aot_link.h"

namespace wasmcap::cli {

namespace {

// A grant flag's value, parsed by the library (wasmcap/policy.h, "Grants written on one line"),
// its error naming the flag it came from.
template <class T>
Result<T> from_flag(const char* flag, Result<T> r) {
  if (!r) return make_error(r.error().code, std::string(flag) + " " + r.error().message);
  return r;
}

}  // namespace

Result<Preopen> parse_dir_spec(const std::string& spec) {
  return from_flag("--dir", policy::parse_dir_grant(spec));
}

Result<std::pair<std::string, std::string>> parse_env_spec(const std::string& spec) {
  return from_flag("--env", policy::parse_env_grant(spec));
}

namespace {

// --json on the running command: errors are also one JSON object on stdout.
bool g_json_errors = false;

int report_error(const Error& e) {
  std::fprintf(stderr, "wasmcap: error: %s\n", e.to_string().c_str());
  if (g_json_errors) {
    nlohmann::json j = {{"error", {{"code", std::string(error_code_name(e.code))}, {"message", e.message}}},
                        {"status", error_exit_code(e.code)}};
    std::string text = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
    std::fwrite(text.data(), 1, text.size(), stdout);
    std::fflush(stdout);
  }
  return error_exit_code(e.code);
}

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
};

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

// Untrusted text (names from a module) made printable: bytes outside printable ASCII as \xNN.
std::string printable(std::string_view s) { return text::escape_ascii(s, 128, "\\"); }

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
  auto module = make_fast_engine()->load(bytes.data(), bytes.size());
  if (!module) return tl::unexpected(module.error());
  const ExportDesc* e = (*module)->info().find_export(entry);
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

// Runs the module and reports: the guest's exit status, or the error; with --json one result
// object on stdout (docs/cli.md "run --json") holding the guest's output.
int finish_run(const std::vector<uint8_t>& bytes, RunOptions opts, const RunExtras& x) {
  // --clock / --random pin what the plan (or the flag run's host default) serves; they only
  // narrow (runtime.h pin_clock).
  if (!x.clock.empty()) {
    auto c = parse_clock_source(x.clock);
    if (!c) return report_error(Error(c.error().code, "--clock: " + c.error().message));
    pin_clock(opts.wasi, *c);
  }
  if (!x.random.empty()) {
    auto r = parse_random_source(x.random);
    if (!r) return report_error(Error(r.error().code, "--random: " + r.error().message));
    pin_random(opts.wasi, *r);
  }
  // The library writes the run's records (run_start / run_end) to the plan's audit file and to
  // opts.audit_sink (runtime.h, RunOptions::record_run), under this id: made here when not given,
  // so that --json names it even for a run that fails before it starts.
  if (!x.invocation_id.empty()) {
    opts.invocation_id = x.invocation_id;
  } else {
    auto id = make_invocation_id();
    if (!id) return report_error(id.error());
    opts.invocation_id = *id;
  }
  const std::string invocation_id = opts.invocation_id;
  if (opts.entry != "_start") {
    // --invoke FUNC ARGS...: the arguments are FUNC's, not the guest's argv.
    std::vector<std::string> args(opts.wasi.args.size() > 1 ? opts.wasi.args.begin() + 1 : opts.wasi.args.end(),
                                  opts.wasi.args.end());
    auto values = parse_invoke_args(bytes, opts.entry, args);
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
    if (error->code == ErrorCode::kNoEntryPoint && entry == "_start") error->message += reactor_hint(bytes);
  }
  int status = error ? error_exit_code(error->code) : (report->exit_code & 0xff);
  std::optional<Error> audit_error = report ? report->audit_error : std::nullopt;
  if (error) std::fprintf(stderr, "wasmcap: error: %s\n", error->to_string().c_str());
  if (audit_error) {
    // The run happened and its run_start record says so, but its end is not recorded: the run
    // fails (74) with a warning, whatever the guest's own status was.
    std::fprintf(stderr, "wasmcap: warning: the run finished (status %d) but its run_end %s\n",
                 status, audit_error->to_string().c_str());
    status = error_exit_code(ErrorCode::kIo);
  }
  if (!x.json) {
    if (report) {
      for (const auto& v : report->results) std::printf("%s\n", value_text(v).c_str());
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

// Where the grants of a run come from: a manifest + host config, or (without --manifest) the
// --dir/--env flags, which form an implicit manifest and grant of exactly what they name.
struct PlanFlags {
  std::string manifest;
  std::string config;
  bool degrade = false;
  bool audit_stderr = false;  // https audit events also to stderr
  policy::Limits bounds;  // --fuel / --timeout-ms / --max-memory-mb given explicitly
};

// The ToolHolds on the workspaces this process runs tools on: kept until exit, so that
// `wasmcap ws apply` refuses while the run is in progress (docs/workspace.md).
std::vector<workspace::ToolHold>& workspace_holds() {
  static std::vector<workspace::ToolHold> holds;
  return holds;
}

// Points the plan's workspace grants (host config grants.fs[].workspace) at the workspaces'
// trees in $WASMCAP_HOME, holding each for the run. A plan without one needs no home.
Result<void> bind_workspaces(policy::Plan& plan) {
  bool any = false;
  for (const auto& m : plan.fs) any = any || !m.workspace.empty();
  if (!any) return {};
  std::string home;
  WASMCAP_TRY_ASSIGN(home, registry::default_home());
  return workspace::bind_plan(plan, home, "", &workspace_holds());
}

// Parses both documents and intersects them. `module_override` (the MODULE argument) replaces
// the manifest's module path.
Result<std::shared_ptr<policy::Plan>> build_plan(const PlanFlags& flags,
                                                 const std::string& module_override) {
  if (flags.config.empty()) {
    return make_error(ErrorCode::kInvalidArgument,
                      "--manifest needs --config (the host config holding the operator's grants)");
  }
  auto manifest = policy::load_manifest(flags.manifest);
  if (!manifest) return tl::unexpected(manifest.error());
  auto config = policy::load_host_config(flags.config);
  if (!config) return tl::unexpected(config.error());
  std::string dir = std::filesystem::path(flags.manifest).parent_path().string();
  auto plan = std::make_shared<policy::Plan>(policy::make_plan(*manifest, *config, dir));
  if (!module_override.empty()) plan->module_path = module_override;
  policy::bound_limits(*plan, flags.bounds);
  WASMCAP_TRY(bind_workspaces(*plan));
  return plan;
}

int cmd_plan(const PlanFlags& flags, const std::string& module_override, const std::string& engine_name,
             const AotOptions& aot, bool json) {
  auto plan = build_plan(flags, module_override);
  if (!plan) return report_error(plan.error());
  auto engine = make_engine(engine_name, aot);
  if (!engine) return report_error(engine.error());
  policy::PlanReport report;
  report.engine = std::string((*engine)->name());
  report.unavailable = policy::unavailable_capabilities(policy::required_capabilities(**plan),
                                                        **engine, host_build_capabilities());
  if (auto bytes = read_file_bytes((*plan)->module_path); !bytes) {
    report.imports_note = bytes.error().message;
  } else if (auto module = (*engine)->load(bytes->data(), bytes->size()); !module) {
    report.imports_note = module.error().to_string();
  } else {
    report.imports_checked = true;
    if (auto r = policy::check_imports((*module)->info(), policy::requested_host_apis(**plan)); !r) {
      report.imports_problem = r.error().message;
    }
  }
  // Everything the run checks before the module starts (secrets, audit file, CA file, module).
  auto preflight = preflight_checks(**plan);
  std::string out = json ? policy::plan_to_json(**plan, report) : policy::plan_to_text(**plan, report);
  if (json) {
    // Our own output, re-read to add the preflight (the decoder bounds every parse).
    nlohmann::json j = json::parse(out, json::Limits{out.size(), json::kMaxDepth}).value_or(nullptr);
    if (j.is_object()) {
      j["preflight"] = preflight ? nlohmann::json{{"ok", true}, {"checked", *preflight}}
                                 : nlohmann::json{{"ok", false},
                                                  {"error", {{"code", std::string(error_code_name(preflight.error().code))},
                                                             {"message", preflight.error().message}}}};
      out = j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
    }
  } else if (preflight) {
    for (const auto& c : *preflight) out += "preflight ok: " + c + "\n";
  } else {
    out += "preflight FAILED: " + preflight.error().to_string() + "\n";
  }
  std::fwrite(out.data(), 1, out.size(), stdout);
  std::fflush(stdout);
  if (auto r = policy::require_fully_granted(**plan); !r) return report_error(r.error());
  if (!report.imports_problem.empty()) {
    return report_error(Error(ErrorCode::kGrantDenied, report.imports_problem));
  }
  if (auto r = policy::check_capabilities(policy::required_capabilities(**plan), **engine,
                                          host_build_capabilities());
      !r) {
    return report_error(r.error());
  }
  if (!preflight) return report_error(preflight.error());
  return 0;
}

std::optional<registry::Reference> bundle_reference(const std::string& arg);
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
    auto plan = build_plan(flags, module_path);
    if (!plan) return report_error(plan.error());
    std::vector<std::string> argv{argv0.empty() ? (*plan)->module_path : argv0};
    argv.insert(argv.end(), guest_args.begin(), guest_args.end());
    std::string path = (*plan)->module_path;
    auto opts = run_options_from_plan(*plan, std::move(argv), flags.degrade);
    if (!opts) return report_error(opts.error());
    if (flags.degrade && !(*plan)->denied.empty()) {
      // Degraded runs are loud: each missing grant is named, then fails at call time.
      for (const auto& d : (*plan)->denied) {
        std::fprintf(stderr, "wasmcap: warning: --degrade: %s\n", d.c_str());
      }
    }
    opts->engine = engine;
    if (flags.audit_stderr) opts->audit_sink = audit::stderr_sink();
    opts->aot = aot;
    opts->wasi.max_output_bytes = max_output_bytes;
    opts->wasi.stdin_fd = STDIN_FILENO;
    if (!invoke.empty()) opts->entry = invoke;
    auto file = read_module_file(path);
    if (!file) return report_error(file.error());
    opts->module_file = std::move(file->file);
    return finish_run(file->bytes, std::move(*opts), extras);
  }
  if (auto ref = bundle_reference(module_path)) {
    return cmd_run_installed(*ref, guest_args, dirs, envs, engine, max_output_bytes, invoke, argv0,
                             flags, aot, extras);
  }
  if (!flags.config.empty() || flags.degrade || flags.audit_stderr) {
    return report_error(Error(ErrorCode::kInvalidArgument,
                              std::string(flags.degrade        ? "--degrade"
                                          : flags.audit_stderr ? "--audit-stderr"
                                                               : "--config") +
                                  " needs --manifest or an installed bundle NAME[@VERSION]"));
  }
  if (module_path.empty()) {
    return report_error(Error(ErrorCode::kInvalidArgument,
                              "run: MODULE.wasm is required (or --manifest with --config)"));
  }
  RunOptions opts;
  if (!extras.allow_https.empty() || !extras.secrets.empty()) {
    auto plan = flag_https_plan(extras, module_path);
    if (!plan) return report_error(plan.error());
    auto o = run_options_from_plan(*plan, {argv0.empty() ? module_path : argv0}, false);
    if (!o) return report_error(o.error());
    opts = std::move(*o);
    opts.wasi.args.clear();
    opts.audit_sink = audit::stderr_sink();
  }
  opts.engine = engine;
  opts.aot = aot;
  opts.fuel = fuel;
  opts.timeout_ms = timeout_ms;
  opts.max_memory_bytes = max_memory_mb * (1ull << 20);
  opts.wasi.max_output_bytes = max_output_bytes;
  opts.wasi.stdin_fd = STDIN_FILENO;
  opts.wasi.args.push_back(argv0.empty() ? module_path : argv0);
  for (const auto& a : guest_args) opts.wasi.args.push_back(a);
  for (const auto& d : dirs) {
    auto p = parse_dir_spec(d);
    if (!p) return report_error(p.error());
    opts.wasi.preopens.push_back(*p);
  }
  for (const auto& e : envs) {
    auto kv = parse_env_spec(e);
    if (!kv) return report_error(kv.error());
    opts.wasi.env.push_back(*kv);
  }
  if (!invoke.empty()) opts.entry = invoke;
  auto file = read_module_file(module_path);
  if (!file) return report_error(file.error());
  opts.module_file = std::move(file->file);
  return finish_run(file->bytes, std::move(opts), extras);
}

std::string limits_str(const MemoryLimits& m) {
  std::string s = "pages min=" + std::to_string(m.min_pages);
  s += m.has_max ? " max=" + std::to_string(m.max_pages) : " max=none";
  if (m.is64) s += " memory64";
  if (m.shared) s += " shared";
  return s;
}

nlohmann::json limits_json(const MemoryLimits& m) {
  nlohmann::json j = {{"min_pages", m.min_pages}, {"max_pages", nullptr}, {"memory64", m.is64},
                      {"shared", m.shared}};
  if (m.has_max) j["max_pages"] = m.max_pages;
  return j;
}

int cmd_inspect(const std::string& module_path, bool json) {
  auto bytes = read_file_bytes(module_path);
  if (!bytes) return report_error(bytes.error());
  auto engine = make_fast_engine();
  auto module = engine->load(bytes->data(), bytes->size());
  if (!module) return report_error(module.error());
  const ModuleInfo& info = (*module)->info();
  if (json) {
    // Names are the module's (untrusted) bytes: JSON-escaped, invalid UTF-8 replaced.
    nlohmann::json imports = nlohmann::json::array(), exports = nlohmann::json::array(),
                   memories = nlohmann::json::array();
    for (const auto& i : info.imports) {
      nlohmann::json o = {{"kind", std::string(extern_kind_name(i.kind))}, {"module", i.module},
                          {"name", i.name}};
      if (i.kind == ExternKind::kFunc) o["signature"] = i.sig.to_string();
      if (i.kind == ExternKind::kMemory) o["memory"] = limits_json(i.memory);
      imports.push_back(o);
    }
    for (const auto& e : info.exports) {
      nlohmann::json o = {{"kind", std::string(extern_kind_name(e.kind))}, {"name", e.name}};
      if (e.kind == ExternKind::kFunc) o["signature"] = e.sig.to_string();
      if (e.kind == ExternKind::kMemory) o["memory"] = limits_json(e.memory);
      exports.push_back(o);
    }
    for (const auto& m : info.memories) memories.push_back(limits_json(m));
    nlohmann::json j = {{"module", module_path},
                        {"size_bytes", info.size_bytes},
                        {"sha256", bundle::sha256_hex(*bytes)},
                        {"functions", info.defined_funcs},
                        {"imports", imports},
                        {"exports", exports},
                        {"memories", memories}};
    std::string text = j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
    std::fwrite(text.data(), 1, text.size(), stdout);
    return 0;
  }
  std::printf("module: %s (%llu bytes, %u functions)\n", module_path.c_str(),
              static_cast<unsigned long long>(info.size_bytes), info.defined_funcs);
  std::printf("imports (%zu):\n", info.imports.size());
  for (const auto& i : info.imports) {
    // Module names are untrusted text: quoted and escaped, never raw bytes on the terminal.
    std::printf("  %s %s.%s", std::string(extern_kind_name(i.kind)).c_str(),
                display_untrusted(i.module).c_str(), display_untrusted(i.name).c_str());
    if (i.kind == ExternKind::kFunc) std::printf(" %s", i.sig.to_string().c_str());
    if (i.kind == ExternKind::kMemory) std::printf(" %s", limits_str(i.memory).c_str());
    std::printf("\n");
  }
  std::printf("exports (%zu):\n", info.exports.size());
  for (const auto& e : info.exports) {
    std::printf("  %s %s", std::string(extern_kind_name(e.kind)).c_str(),
                display_untrusted(e.name).c_str());
    if (e.kind == ExternKind::kFunc) std::printf(" %s", e.sig.to_string().c_str());
    if (e.kind == ExternKind::kMemory) std::printf(" %s", limits_str(e.memory).c_str());
    std::printf("\n");
  }
  std::printf("memories (%zu):\n", info.memories.size());
  for (size_t i = 0; i < info.memories.size(); ++i) {
    std::printf("  memory %zu %s\n", i, limits_str(info.memories[i]).c_str());
  }
  return 0;
}

// --- Installed bundles (docs/bundles.md#the-local-registry) ---------------------------------------

// What `wasmcap run X` means: X is an installed bundle NAME[@VERSION] when it does not end in
// ".wasm", contains no '/', and is a valid plugin name (optionally @ a SemVer version); otherwise
// it is a module path. The rule is syntax only, never "does a file of that name exist": a file a
// plugin wrote into the working directory cannot turn `wasmcap run coreutils` into a run of an
// unverified module.
std::optional<registry::Reference> bundle_reference(const std::string& arg) {
  if (arg.empty() || arg.find('/') != std::string::npos) return std::nullopt;
  if (arg.size() >= 5 && arg.compare(arg.size() - 5, 5, ".wasm") == 0) return std::nullopt;
  return registry::parse_reference(arg);
}

struct RegistryContext {
  std::string home;
  policy::HostConfig config;
  bundle::TrustStore trust;
  std::optional<registry::Registry> reg;
};

// The registry, the host config (when given) and the trust store it and $WASMCAP_HOME/trust form.
Result<RegistryContext> open_registry(const std::string& config_path) {
  RegistryContext c;
  WASMCAP_TRY_ASSIGN(c.home, registry::default_home());
  if (!config_path.empty()) WASMCAP_TRY_ASSIGN(c.config, policy::load_host_config(config_path));
  WASMCAP_TRY_ASSIGN(c.trust, registry::load_trust_store(c.home, &c.config.trust));
  // Read-only when the host config says so or the registry is not writable (a shared volume):
  // runs and listing work, install/remove are refused naming the read-only registry.
  WASMCAP_TRY_ASSIGN(c.reg, registry::Registry::open(c.home, c.config.registry.read_only
                                                                 ? registry::Access::kReadOnly
                                                                 : registry::Access::kAuto));
  return c;
}

// --dir/--env of a run of an installed bundle: the operator's grants for that plugin, added to
// its host config entry (created when missing). A guest path or variable granted twice is refused
// rather than resolved by precedence.
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
  auto plan = std::make_shared<policy::Plan>(
      policy::make_plan(resolved->manifest, ctx->config, resolved->installed.dir + "/modules"));
  plan->module_path = resolved->module_path;
  policy::bound_limits(*plan, flags.bounds);
  if (auto b = bind_workspaces(*plan); !b) return report_error(b.error());
  std::vector<std::string> argv{argv0.empty() ? resolved->manifest.name : argv0};
  argv.insert(argv.end(), guest_args.begin(), guest_args.end());
  auto opts = run_options_from_plan(plan, std::move(argv), flags.degrade);
  if (!opts) return report_error(opts.error());
  if (flags.degrade) {
    for (const auto& d : plan->denied) {
      std::fprintf(stderr, "wasmcap: warning: --degrade: %s\n", d.c_str());
    }
  }
  opts->engine = engine;
  opts->module_sha256 = resolved->module_sha256;
  opts->aot = aot;
  if (flags.audit_stderr) opts->audit_sink = audit::stderr_sink();
  opts->wasi.max_output_bytes = max_output_bytes;
  opts->wasi.stdin_fd = STDIN_FILENO;
  if (!invoke.empty()) opts->entry = invoke;
  return finish_run(resolved->module_bytes, std::move(*opts), extras);
}

const char* outcome_text(registry::InstallOutcome o) {
  switch (o) {
    case registry::InstallOutcome::kInstalled: return "installed";
    case registry::InstallOutcome::kAlreadyInstalled: return "already installed";
    case registry::InstallOutcome::kReplaced: return "replaced";
  }
  return "installed";
}

std::string flags_of(const registry::Installed& i) {
  std::string f;
  auto add = [&](const char* s) { f += (f.empty() ? "" : ",") + std::string(s); };
  if (i.allow_untrusted) add("allow-untrusted");
  if (i.forced_downgrade) add("forced-downgrade");
  if (i.forced_replace) add("forced-replace");
  return f.empty() ? "-" : f;
}

std::string utc_time(int64_t t) {
  std::time_t tt = static_cast<std::time_t>(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

int cmd_bundle_install(const std::string& path, bool allow_untrusted, bool force,
                       const std::string& config) {
  auto ctx = open_registry(config);
  if (!ctx) return report_error(ctx.error());
  registry::InstallOptions o;
  o.allow_untrusted = allow_untrusted;
  o.force = force;
  auto r = ctx->reg->install(path, ctx->trust, o);
  if (!r) return report_error(r.error());
  const auto& i = r->installed;
  const bool recorded = registry_audit(
      "bundle_install",
      {{"plugin", i.name}, {"version", i.version}, {"signer_key_id", i.signer_id},
       {"trust", registry::trust_status(i, ctx->trust)}, {"outcome", outcome_text(r->outcome)},
       {"source", path}, {"flags", flags_of(i)}},
      ctx->config.audit);
  // The trust word is the one `bundle list` shows (registry::trust_status).
  std::string trust = registry::trust_status(i, ctx->trust);
  std::printf("%s %s@%s, signed by key %s (trust: %s%s)\n", outcome_text(r->outcome), i.name.c_str(),
              i.version.c_str(), i.signer_id.c_str(), trust.c_str(),
              trust == "untrusted-allowed"
                  ? ": the key is not in the trust store; installed because of --allow-untrusted"
                  : "");
  if (i.forced_downgrade) std::printf("  forced downgrade (recorded)\n");
  for (const auto& v : r->replaced) std::printf("  replaced the content of %s (forced, recorded)\n", v.c_str());
  for (const auto& c : r->tool_changes) {
    std::printf("  %s%s\n", c.blocking ? "changed (forced, recorded): " : "", c.line.c_str());
  }
  return recorded ? 0 : error_exit_code(ErrorCode::kIo);
}

int cmd_bundle_list(bool json, const std::string& config) {
  auto ctx = open_registry(config);
  if (!ctx) return report_error(ctx.error());
  auto all = ctx->reg->list();
  if (!all) return report_error(all.error());
  if (json) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& i : *all) {
      nlohmann::json modules = nlohmann::json::object();
      for (const auto& [p, h] : i.modules) modules[p] = {{"sha256", h}};
      out.push_back({{"name", i.name},
                     {"version", i.version},
                     {"signer_key_id", i.signer_id},
                     {"signer_key", i.signer_key},
                     {"trust", registry::trust_status(i, ctx->trust)},
                     {"trusted_at_install", i.trusted_at_install},
                     {"allow_untrusted", i.allow_untrusted},
                     {"forced_downgrade", i.forced_downgrade},
                     {"forced_replace", i.forced_replace},
                     {"installed_at", utc_time(i.installed_at)},
                     {"source", i.source},
                     {"manifest_sha256", i.manifest_sha256},
                     {"modules", modules},
                     {"path", i.dir}});
    }
    std::string text = out.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
    std::fwrite(text.data(), 1, text.size(), stdout);
    return 0;
  }
  if (all->empty()) {
    std::printf("no bundles installed in %s (wasmcap bundle install FILE)\n", ctx->home.c_str());
    return 0;
  }
  std::printf("%-24s %-14s %-16s %-17s %-20s %s\n", "NAME", "VERSION", "SIGNER", "TRUST",
              "INSTALLED", "FLAGS");
  for (const auto& i : *all) {
    std::printf("%-24s %-14s %-16s %-17s %-20s %s\n", i.name.c_str(), i.version.c_str(),
                i.signer_id.c_str(), registry::trust_status(i, ctx->trust).c_str(),
                utc_time(i.installed_at).c_str(), flags_of(i).c_str());
  }
  return 0;
}

int cmd_bundle_remove(const std::string& what) {
  auto ref = registry::parse_reference(what);
  if (!ref) {
    return report_error(Error(ErrorCode::kInvalidArgument,
                              "'" + what + "' is not NAME or NAME@VERSION"));
  }
  auto ctx = open_registry("");
  if (!ctx) return report_error(ctx.error());
  auto removed = ctx->reg->remove(ref->name, ref->version);
  if (!removed) return report_error(removed.error());
  bool recorded = true;
  for (const auto& i : *removed) {
    std::printf("removed %s@%s\n", i.name.c_str(), i.version.c_str());
    if (!registry_audit("bundle_remove", {{"plugin", i.name}, {"version", i.version}}, ctx->config.audit)) {
      recorded = false;
    }
  }
  return recorded ? 0 : error_exit_code(ErrorCode::kIo);
}

// Compiles MODULE for the AOT engine into the cache, so later runs start at native speed.
int cmd_compile(const std::string& module_path, const AotOptions& aot, bool json) {
  auto bytes = read_file_bytes(module_path);
  if (!bytes) return report_error(bytes.error());
  // The load hashes the module for the cache key; --json reports that same sha256 (notes)
  // instead of hashing the bytes a second time.
  AotLoadNotes notes;
  auto engine = make_aot_engine_linked(aot, nullptr, nullptr, &notes);
  auto start = std::chrono::steady_clock::now();
  auto module = engine->load(bytes->data(), bytes->size());
  if (!module) return report_error(module.error());
  double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (json) {
    std::string sha = notes.module_sha256.empty() ? bundle::sha256_hex(*bytes) : notes.module_sha256;
    nlohmann::json j = {{"module", module_path}, {"engine", "aot"},
                        {"sha256", sha}, {"seconds", s}, {"cached", true}};
    std::string text = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
    std::fwrite(text.data(), 1, text.size(), stdout);
    return 0;
  }
  std::printf("compiled %s for the aot engine (%.2f s; cached)\n", module_path.c_str(), s);
  return 0;
}

int cmd_bundle_keygen(const std::string& dir, const std::string& name) {
  auto pk = bundle::keygen(dir, name);
  if (!pk) return report_error(pk.error());
  std::string base = (std::filesystem::path(dir) / name).string();
  std::printf("secret key: %s.key (keep it private)\npublic key: %s.pub (id %s)\n", base.c_str(),
              base.c_str(), pk->id().c_str());
  return 0;
}

int cmd_bundle_pack(const std::string& manifest, const std::string& key_path,
                    const std::string& out) {
  auto key = bundle::load_secret_key(key_path);
  if (!key) {
    if (bundle::load_public_key(key_path)) {
      return report_error(Error(ErrorCode::kInvalidArgument,
                                "--key " + key_path + " is a public key; bundle pack signs with "
                                "the secret key: pass the .key file that bundle keygen wrote next "
                                "to it (keep it private)"));
    }
    return report_error(key.error());
  }
  if (auto r = bundle::pack_to_file(manifest, *key, out); !r) return report_error(r.error());
  std::printf("packed %s, signed by key %s\n", out.c_str(), key->public_key().id().c_str());
  return 0;
}

int cmd_bundle_verify(const std::string& path, const std::vector<std::string>& trust, bool json) {
  std::vector<bundle::PublicKey> keys;
  for (const auto& t : trust) {
    auto k = bundle::load_public_key(t);
    if (!k) return report_error(k.error());
    keys.push_back(*k);
  }
  auto b = bundle::verify_file(path, keys);
  if (!b) return report_error(b.error());
  if (json) {
    nlohmann::json modules = nlohmann::json::array();
    for (const auto& [name, data] : b->modules) {
      modules.push_back({{"name", name}, {"bytes", data.size()}, {"sha256", bundle::sha256_hex(data)}});
    }
    nlohmann::json j = {{"ok", true}, {"name", b->manifest.name}, {"version", b->manifest.version},
                        {"signer_key_id", b->signer.id()}, {"trusted", b->trusted},
                        {"modules", modules}};
    std::string text = j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
    std::fwrite(text.data(), 1, text.size(), stdout);
    return 0;
  }
  std::printf("ok: %s %s, signed by key %s\n", b->manifest.name.c_str(),
              b->manifest.version.c_str(), b->signer.id().c_str());
  for (const auto& [name, data] : b->modules) {
    std::printf("  %s %zu bytes sha256 %s\n", name.c_str(), data.size(),
                bundle::sha256_hex(data).c_str());
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"wasmcap: a capability-secure WebAssembly (WASI Preview 1) runtime"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "wasmcap " WASMCAP_VERSION);

  std::string module_path, engine = "interp", invoke, argv0;
  std::vector<std::string> dirs, envs;
  uint64_t fuel = 0, timeout_ms = 0, max_memory_mb = 4096, max_output_bytes = 0;

  // CLI11 converts "-5" to an unsigned option by wrapping it to 2^64-5: refuse the sign first.
  const CLI::Validator kNonNegative(
      [](std::string& v) {
        return v.find('-') != std::string::npos ? std::string("must not be negative") : std::string();
      },
      "NONNEGATIVE", "non-negative");
  RunExtras run_extras;
  CLI::App* run = app.add_subcommand("run", "Run a WASI command module in a sandbox");
  run->add_option("--dir", dirs,
                  "Preopen a host directory: HOST[::GUEST][:ro|:rw] (GUEST defaults to HOST; "
                  ":ro makes it read-only). Repeatable.")
      ->allow_extra_args(false);
  std::string run_workspace;
  run->add_option("--workspace", run_workspace,
                  "Preopen this shadow workspace's tree read-write at /work (docs/workspace.md); "
                  "not with --manifest (grant it in the host config instead)");
  run->add_option("--env", envs, "Give the guest an environment variable NAME=VALUE. Repeatable.")
      ->allow_extra_args(false);
  AotOptions aot;
  aot.progress = true;
  run->add_option("--engine", engine,
                  "Engine: interp (the default: wasmcap's own interpreter; "
                  "docs/fast-interp.md), aot (compiled to native code, cached) or auto (aot "
                  "when the module's compiled object is cached; else interp while it compiles "
                  "in the background; docs/aot.md). Default interp.")
      ->check(CLI::IsMember({"interp", "aot", "auto"}));
  run->add_flag("-q,--quiet", run_extras.quiet,
                "Do not print which engine --engine auto chose (one line on stderr)");
  run->add_flag("--wait-for-compile", run_extras.wait_for_compile,
                "--engine auto: when the module has no compiled object yet, compile it before "
                "the run instead of interpreting this run while it compiles in the background");
  run->add_option("--cache-dir", aot.cache_dir,
                  "AOT cache directory (default $WASMCAP_CACHE_DIR, else "
                  "$XDG_CACHE_HOME/wasmcap/aot, else ~/.cache/wasmcap/aot)");
  uint64_t aot_stack_mb = 0;
  auto add_compile_bounds = [&aot](CLI::App* cmd) {
    cmd->add_option("--compile-timeout-ms", aot.compile_timeout_ms,
                    "AOT: wall-clock limit of one C compile in ms (default 120000 + 150000 "
                    "per MiB of wasm code, at most 1800000); the compiler is killed past it "
                    "(compile_limit)")
        ->check(CLI::PositiveNumber);
    cmd->add_option("--compile-memory-mb", aot.compile_memory_mb,
                    "AOT: address-space limit of each C compiler process in MiB (default 4096)")
        ->check(CLI::PositiveNumber);
    cmd->add_option("--compile-jobs", aot.compile_jobs,
                    "AOT: C compilers at once for a module split into units (default "
                    "$WASMCAP_AOT_JOBS, else the number of CPUs; at most 64)")
        ->check(CLI::Range(1, 64));
  };
  add_compile_bounds(run);
  run->add_option("--aot-stack-mb", aot_stack_mb,
                  "AOT: size of the stack guest code runs on, in MiB (default 8, 1..1024); "
                  "deeper recursion traps with trap_stack_exhausted")
      ->check(CLI::Range(1, 1024));
  run->add_option("--fuel", fuel, "Instruction budget (0 = unlimited)")
      ->check(kNonNegative);
  run->add_option("--timeout-ms", timeout_ms, "Wall-clock deadline in ms (0 = unlimited)")
      ->check(kNonNegative);
  run->add_option("--max-memory-mb", max_memory_mb, "Linear memory cap in MiB (default 4096)")
      ->check(CLI::Range(uint64_t{1}, uint64_t{4096}));
  run->add_option("--max-output-bytes", max_output_bytes,
                  "Cap on bytes written to stdout+stderr (0 = unlimited)")
      ->check(kNonNegative);
  run->add_option("--invoke", invoke, "Call this export instead of _start (reactor modules)");
  run->add_option("--argv0", argv0, "argv[0] the guest sees (default: the module path)");
  PlanFlags run_flags;
  run->add_option("--manifest", run_flags.manifest,
                  "Plugin manifest (JSON): what the plugin requests. Needs --config; excludes "
                  "--dir/--env. MODULE defaults to the manifest's module.");
  run->add_option("--config", run_flags.config,
                  "Host config (JSON): what the operator grants. The run gets the intersection. "
                  "With --manifest, or for an installed bundle.");
  run->add_flag("--degrade", run_flags.degrade,
                "Run even if some requests are not granted; each use of a missing grant fails at "
                "call time (denied directories: ENOTCAPABLE)");
  run->add_option("--allow-https", run_extras.allow_https,
                  "Quick trials without a manifest: allow https requests to HOST[/PREFIX][:METHOD,...] "
                  "(default GET /). Audited to stderr. Repeatable.")
      ->allow_extra_args(false);
  run->add_option("--secret", run_extras.secrets,
                  "With --allow-https: secret NAME read from FILE, sent only to HOST "
                  "(NAME=FILE@HOST[,HOST...]; header value secret:NAME). Repeatable.")
      ->allow_extra_args(false);
  run->add_option("--clock", run_extras.clock,
                  "Pin the guest's clocks: fixed=YYYY-MM-DDTHH:MM:SSZ[,step=1us] (wall clock "
                  "starts there, monotonic at 0; both advance by STEP per read and by each "
                  "sleep, never with host time), or deny (ENOTCAPABLE). Only narrows the grant.");
  run->add_option("--random", run_extras.random,
                  "Pin random_get: seed=N (a ChaCha20 stream from N, docs/wasi-support.md) or "
                  "deny (ENOTCAPABLE). Only narrows the grant.");
  run->add_flag("--audit-stderr", run_flags.audit_stderr,
                "Also write https audit events (JSON Lines) to stderr, besides the host config's "
                "audit.file");
  run->add_flag("--json", run_extras.json,
                "Print one JSON result object on stdout (exit code, error, engine, wall and CPU "
                "ms, fuel, the guest's output and its size, invocation id)");
  run->add_option("--invocation-id", run_extras.invocation_id,
                  "Id for this run's audit events (e.g. the agent's tool-call id; "
                  "[A-Za-z0-9._:-], at most 128 bytes). Default: random")
      ->check(CLI::Validator(
          [](std::string& v) {
            return is_valid_invocation_id(v) ? std::string()
                                             : std::string("1-128 characters of [A-Za-z0-9._:-]");
          },
          "ID", "invocation id"));
  run->add_option("module", module_path,
                  "The .wasm module (required without --manifest; with it, a path ending in .wasm "
                  "overrides the manifest's module, anything else is the guest's first argument), "
                  "or an installed bundle NAME[@VERSION] (no '/', not ending in .wasm)");
  std::vector<std::string> run_args_help;  // shown in --help; the split below fills guest_tail
  run->add_option("args", run_args_help,
                  "Arguments for the guest (argv[1..]), passed verbatim, even ones that look like "
                  "options");
  run->prefix_command();

  // Splits run's arguments, parses, and runs `run`; nullopt when another command was parsed.
  auto parse_and_run = [&]() -> std::optional<int> {
    // `wasmcap run` splits its arguments here rather than in CLI11: everything after MODULE is the
    // guest's, verbatim (even "--" and things that look like wasmcap options), and a "--" before
    // any positional ends wasmcap's options: with --manifest all that follows goes to the guest
    // (the module comes from the manifest); without, the first is the module.
    std::vector<char*> cli_args(argv, argv + argc);
    std::vector<std::string> guest_tail;
    bool dashdash = false;
    if (argc > 1 && std::string_view(argv[1]) == "run") {
      for (int i = 2; i < argc; ++i) {
        std::string_view tok = argv[i];
        if (tok == "--") {
          dashdash = true;
          guest_tail.assign(argv + i + 1, argv + argc);
          cli_args.resize(static_cast<size_t>(i));
          break;
        }
        if (tok.size() < 2 || tok[0] != '-') {  // MODULE
          guest_tail.assign(argv + i + 1, argv + argc);
          cli_args.resize(static_cast<size_t>(i) + 1);
          break;
        }
        if (tok.find('=') != std::string_view::npos) continue;
        const CLI::Option* opt = run->get_option_no_throw(std::string(tok));
        if (opt == nullptr) break;  // CLI11 reports it
        if (opt->get_expected_min() > 0) ++i;  // skip the option's value
      }
    }


    try {
      app.parse(static_cast<int>(cli_args.size()), cli_args.data());
    } catch (const CLI::ParseError& e) {
      // --help / --version: CLI11 prints them. Anything else is a usage error, reported in the
      // documented form "wasmcap: error: invalid_argument: ...".
      if (e.get_exit_code() == 0) return app.exit(e);
      std::fprintf(stderr, "wasmcap: error: %s: %s (see wasmcap help%s)\n",
                   std::string(error_code_name(ErrorCode::kInvalidArgument)).c_str(), e.what(),
                   argc > 1 && argv[1][0] != '-' ? (std::string(" ") + printable(argv[1])).c_str() : "");
      return error_exit_code(ErrorCode::kInvalidArgument);
    }
    if (*run) {
      // Limits given explicitly bound a manifest run further (the smaller value wins).
      if (run->count("--fuel") != 0 && fuel != 0) run_flags.bounds.fuel = fuel;
      if (run->count("--timeout-ms") != 0 && timeout_ms != 0) run_flags.bounds.timeout_ms = timeout_ms;
      if (run->count("--max-memory-mb") != 0) run_flags.bounds.max_memory_mb = max_memory_mb;
      // Arguments after MODULE were split off above, so anything CLI11 left over came before it:
      // an option wasmcap does not know. Refuse it rather than drop it.
      if (!run->remaining().empty()) {
        std::fprintf(stderr, "wasmcap: error: %s: unknown option '%s' (see wasmcap run --help)\n",
                     std::string(error_code_name(ErrorCode::kInvalidArgument)).c_str(),
                     run->remaining().front().c_str());
        return error_exit_code(ErrorCode::kInvalidArgument);
      }
      if (aot_stack_mb != 0) aot.stack_bytes = aot_stack_mb << 20;
      std::vector<std::string> guest_args = guest_tail;
      if (dashdash) {
        if (run_flags.manifest.empty() && !guest_args.empty()) {
          module_path = guest_args.front();
          guest_args.erase(guest_args.begin());
        }
      } else if (!run_flags.manifest.empty() && !module_path.empty() &&
                 !(module_path.size() >= 5 &&
                   module_path.compare(module_path.size() - 5, 5, ".wasm") == 0)) {
        // `run --manifest M --config C ARGS...`: the module comes from the manifest unless a
        // .wasm path is given, so the first word is the guest's first argument.
        guest_args.insert(guest_args.begin(), module_path);
        module_path.clear();
      }
      g_json_errors = run_extras.json;
      run_extras.audit_stderr = run_flags.audit_stderr;
      if ((!run_extras.allow_https.empty() || !run_extras.secrets.empty()) &&
          (!run_flags.manifest.empty() || bundle_reference(module_path))) {
        return report_error(Error(ErrorCode::kInvalidArgument,
                                  "--allow-https/--secret are grants for a MODULE.wasm run; with "
                                  "--manifest or an installed bundle, grants come from the host "
                                  "config (--config)"));
      }
      if (!run_workspace.empty()) {
        // --workspace NAME is --dir TREE::/work for the workspace's tree: the same grant path
        // (flag run, or an operator grant for an installed bundle), so the same checks apply.
        if (!run_flags.manifest.empty()) {
          return report_error(Error(ErrorCode::kInvalidArgument,
                                    "--workspace cannot be combined with --manifest: grant the "
                                    "workspace in the host config (grants.fs[].workspace)"));
        }
        auto home = registry::default_home();
        if (!home) return report_error(home.error());
        auto info = workspace::open(*home, run_workspace);
        if (!info) return report_error(info.error());
        auto hold = workspace::hold_for_tools(*home, run_workspace);
        if (!hold) return report_error(hold.error());
        workspace_holds().push_back(std::move(*hold));
        dirs.insert(dirs.begin(), info->tree + "::/work");
      }
      return cmd_run(module_path, guest_args, dirs, envs, engine, fuel, timeout_ms,
                     max_memory_mb, max_output_bytes, invoke, argv0, run_flags, aot, run_extras);
    }
    return std::nullopt;
  };
  // `wasmcap run ...`, the cold-start path (docs/aot.md, "Cold start"), builds only `run`:
  // building every other command's options cost 10% of a cached aot hello's CPU
  // (bench/notes/2026-11-23-hello-cli.md). Everything else (help, --help, --version, completions, man and the
  // other commands) builds them all, so help and completions stay complete.
  if (argc > 1 && std::string_view(argv[1]) == "run") {
    int rc = parse_and_run().value_or(0);
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
    return rc;  // the sanitizers' leak and race checks run at exit
#else
    // The run is over (its instance, module, sinks and files were released inside cmd_run):
    // what exit() would still do is destroy the CLI11 tree and static objects and run the
    // libraries' finalisers, ~0.3 ms of a 1.7 ms cached aot hello (bench/notes/2026-11-23-hello-cli.md). stdio
    // is flushed; nothing else holds buffered output (audit files are written unbuffered).
    std::fflush(nullptr);
    _exit(rc);
#endif
  }

  // Every other command builds only the top-level command argv[1] names (with its own
  // subcommands): building all of them cost every process ~0.3 ms of CPU, a quarter of
  // `wasmcap --version` (bench/notes/2026-11-23-hello-cli.md, "process start-up common to every command").
  // Anything else -- no command, an option (--help; --version with more arguments), `help`,
  // `completions` and `man` (which describe every command), a name that is not a command --
  // builds them all, so help, completions, the man page and the unknown-command error stay
  // complete. A command missing from kBuiltAlone is
  // only slower, never wrong; tests/cli (CliHelp.EachCommandBuiltAloneHasTheSameHelp) compares
  // each command's --help built alone with `wasmcap help COMMAND` built in full.
  static constexpr std::string_view kBuiltAlone[] = {"plan", "compile", "inspect", "bundle", "mcp",
                                                     "tool", "ws",      "sh",      "trust",  "audit"};
  const std::string_view first = argc > 1 ? std::string_view(argv[1]) : std::string_view();
  // `wasmcap --version` alone names no command, so none is built (CLI11 prints the version
  // before it would ask for one).
  const bool version_only = argc == 2 && first == "--version";
  const bool build_all =
      !version_only &&
      std::find(std::begin(kBuiltAlone), std::end(kBuiltAlone), first) == std::end(kBuiltAlone);
  auto wanted = [&](std::initializer_list<std::string_view> names) {
    return build_all || std::find(names.begin(), names.end(), first) != names.end();
  };
  auto selected = [](const CLI::App* cmd) { return cmd != nullptr && static_cast<bool>(*cmd); };

  PlanFlags plan_flags;
  std::string plan_module, plan_engine = "interp";
  bool plan_json = false;
  std::string plan_bundle;
  CLI::App* plan = nullptr;
  if (wanted({"plan"})) {
    plan = app.add_subcommand("plan",
                              "Show what a plugin would get: manifest requests x host config grants");
    plan->add_option("--manifest", plan_flags.manifest, "Plugin manifest (JSON)");
    plan->add_option("--config", plan_flags.config, "Host config (JSON)")->required();
    plan->add_option("--engine", plan_engine,
                     "Engine to check capabilities against: interp, aot or auto")
        ->check(CLI::IsMember({"interp", "aot", "auto"}));
    plan->add_option("--cache-dir", aot.cache_dir, "AOT cache directory (see run --cache-dir)");
    plan->add_option("--bundle", plan_bundle,
                     "Plan a bundle file before installing it: its signed manifest x --config "
                     "(instead of --manifest)");
    plan->add_flag("--json", plan_json, "Print the plan as JSON");
    plan->add_option("module", plan_module, "The .wasm module (default: the manifest's module)");
  }

  std::string compile_path;
  bool compile_json = false;
  CLI::App* compile = nullptr;
  if (wanted({"compile"})) {
    compile = app.add_subcommand(
        "compile", "Precompile a module for the aot engine into the cache (docs/aot.md)");
    compile->add_option("module", compile_path, "The .wasm module")->required();
    compile->add_option("--cache-dir", aot.cache_dir, "AOT cache directory (see run --cache-dir)");
    add_compile_bounds(compile);
    compile->add_flag("--json", compile_json, "Print the result as one JSON object");
  }

  std::string inspect_path;
  bool inspect_json = false;
  CLI::App* inspect = nullptr;
  if (wanted({"inspect"})) {
    inspect = app.add_subcommand("inspect", "List a module's imports, exports and memory");
    inspect->add_option("module", inspect_path, "The .wasm module")->required();
    inspect->add_flag("--json", inspect_json, "Print one JSON object (names JSON-escaped)");
  }

  // `bundle` also when `trust` or `audit` runs: their adder (add_ecosystem_commands) adds
  // `bundle inspect` too.
  const bool ecosystem_wanted = wanted({"bundle", "trust", "audit"});
  std::string keygen_dir, keygen_name = "wasmcap-signing";
  std::string pack_manifest, pack_key, pack_out;
  std::string verify_path;
  std::vector<std::string> verify_trust;
  bool verify_json = false;
  std::string install_path, install_config, list_config, remove_what;
  bool install_untrusted = false, install_force = false, list_json = false;
  CLI::App *keygen = nullptr, *pack = nullptr, *verify = nullptr, *install = nullptr,
           *list = nullptr, *remove = nullptr, *bundle_cmd = nullptr;
  if (ecosystem_wanted) {
    bundle_cmd = app.add_subcommand("bundle", "Signed plugin bundles (docs/bundles.md)");
    bundle_cmd->require_subcommand(1);
    keygen = bundle_cmd->add_subcommand("keygen", "Generate an Ed25519 signing key pair");
    keygen->add_option("--out", keygen_dir, "Directory for NAME.key (0600) and NAME.pub")->required();
    keygen->add_option("--name", keygen_name, "Key file base name (default wasmcap-signing)");
    pack = bundle_cmd->add_subcommand("pack", "Pack and sign a plugin bundle");
    pack->add_option("--manifest", pack_manifest, "Plugin manifest (JSON)")->required();
    pack->add_option("--key", pack_key, "Secret key file (from bundle keygen)")->required();
    pack->add_option("--out", pack_out, "Bundle file to write")->required();
    verify = bundle_cmd->add_subcommand("verify", "Verify a bundle against trusted keys");
    verify->add_option("bundle", verify_path, "The bundle file")->required();
    verify->add_option("--trust", verify_trust, "Trusted public key file (*.pub). Repeatable.")
        ->allow_extra_args(false);
    verify->add_flag("--json", verify_json, "Print the result as one JSON object");
    install = bundle_cmd->add_subcommand(
        "install", "Verify a bundle and install it into the local registry ($WASMCAP_HOME)");
    install->add_option("bundle", install_path, "The bundle file")->required();
    install->add_flag("--allow-untrusted", install_untrusted,
                      "Install a bundle whose (valid) signature is by a key that is not trusted; "
                      "recorded. Never allows a revoked key.");
    install->add_flag("--force", install_force,
                      "Install a lower version than one installed now or before, or replace the "
                      "same version's other content; recorded");
    install->add_option("--config", install_config, "Host config whose trust section applies");
    list = bundle_cmd->add_subcommand("list", "List installed bundles");
    list->add_flag("--json", list_json, "Print a JSON array");
    list->add_option("--config", list_config, "Host config whose trust section applies");
    remove = bundle_cmd->add_subcommand("remove", "Remove NAME (all versions) or NAME@VERSION");
    remove->add_option("name", remove_what, "NAME or NAME@VERSION")->required();
  }

  std::shared_ptr<McpCommands> mcp_cmds;
  if (wanted({"mcp", "tool"})) mcp_cmds = add_mcp_commands(app);
  // Subcommands that live in their own files (cli/ws_cli.h).
  std::vector<Dispatch> extra_commands;
  if (wanted({"ws"})) extra_commands.push_back(add_ws_commands(app));
  if (wanted({"sh"})) extra_commands.push_back(add_sh_command(app));

  // Subcommands of docs/cli.md added for issue #16 (trust, audit, bundle inspect, completions,
  // man): defined and run in ecosystem.cc.
  std::optional<EcosystemCommands> eco;
  if (ecosystem_wanted) eco = add_ecosystem_commands(app, *bundle_cmd);

  // An unknown command or subcommand is named (CLI11 would only say that one is required).
  if (argc > 1 && std::string_view(argv[1]) != "help") {
    CLI::App* at = &app;
    std::string path = "wasmcap";
    for (int i = 1; i < argc && argv[i][0] != '-' && !at->get_subcommands({}).empty(); ++i) {
      CLI::App* next = nullptr;
      std::string names;
      for (CLI::App* c : at->get_subcommands({})) {
        if (c->get_name() == argv[i]) next = c;
        names += (names.empty() ? "" : ", ") + c->get_name();
      }
      if (next == nullptr) {
        std::fprintf(stderr, "wasmcap: error: invalid_argument: %s: unknown command '%s' (commands: %s%s)\n",
                     path.c_str(), printable(argv[i]).c_str(), names.c_str(), at == &app ? ", help" : "");
        return error_exit_code(ErrorCode::kInvalidArgument);
      }
      at = next;
      path += " " + next->get_name();
    }
  }

  // `wasmcap help [COMMAND...]`: the --help of that command.
  if (argc > 1 && std::string_view(argv[1]) == "help") {
    CLI::App* target = &app;
    for (int i = 2; i < argc; ++i) {
      CLI::App* sub = nullptr;
      for (CLI::App* c : target->get_subcommands({})) {
        if (c->get_name() == argv[i]) sub = c;
      }
      if (sub == nullptr) {
        std::fprintf(stderr, "wasmcap: error: invalid_argument: no command '%s' (see wasmcap help)\n",
                     printable(argv[i]).c_str());
        return error_exit_code(ErrorCode::kInvalidArgument);
      }
      target = sub;
    }
    std::string text = target->help();
    std::fwrite(text.data(), 1, text.size(), stdout);
    return 0;
  }

  if (auto rc = parse_and_run()) return *rc;
  if (selected(plan) && !plan_bundle.empty()) {
    if (!plan_flags.manifest.empty()) {
      return report_error(Error(ErrorCode::kInvalidArgument, "plan: give --manifest or --bundle, not both"));
    }
    return cmd_plan_bundle(plan_bundle, plan_flags.config, plan_engine, aot, plan_json);
  }
  if (selected(plan) && plan_flags.manifest.empty()) {
    return report_error(Error(ErrorCode::kInvalidArgument, "plan needs --manifest M (or --bundle FILE) and --config C"));
  }
  if (mcp_cmds) {
    if (auto r = run_mcp_commands(*mcp_cmds)) return *r;
  }
  for (const Dispatch& d : extra_commands) {
    if (auto rc = d()) return *rc;
  }
  if (selected(plan)) return cmd_plan(plan_flags, plan_module, plan_engine, aot, plan_json);
  g_json_errors = (selected(compile) && compile_json) || (selected(inspect) && inspect_json) ||
                  (selected(verify) && verify_json);
  if (selected(compile)) return cmd_compile(compile_path, aot, compile_json);
  if (selected(inspect)) return cmd_inspect(inspect_path, inspect_json);
  if (selected(keygen)) return cmd_bundle_keygen(keygen_dir, keygen_name);
  if (selected(pack)) return cmd_bundle_pack(pack_manifest, pack_key, pack_out);
  if (selected(verify)) return cmd_bundle_verify(verify_path, verify_trust, verify_json);
  if (eco) {
    if (auto rc = eco->dispatch()) return *rc;
  }
  if (selected(install)) return cmd_bundle_install(install_path, install_untrusted, install_force, install_config);
  if (selected(list)) return cmd_bundle_list(list_json, list_config);
  if (selected(remove)) return cmd_bundle_remove(remove_what);
  return 0;
}

}  // namespace wasmcap::cli

// The `wasmcap` command line. Flags are parsed here into typed options; policy decisions
// happen in the library, never in this file.
#include "cli/cli.h"
#include "cli/ws_cli.h"

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>

#include <ctime>
#include <nlohmann/json.hpp>

#include "policy/json_doc.h"
#include "policy/syntax.h"
#include "wasmcap/audit.h"
#include "wasmcap/bundle.h"
#include "wasmcap/policy.h"
#include "wasmcap/registry.h"
#include "wasmcap/runtime.h"

namespace wasmcap::cli {

Result<Preopen> parse_dir_spec(const std::string& spec) {
  Preopen p;
  std::string s = spec;
  // Optional access suffix, only on the last part.
  auto ends_with = [&](const char* suf) {
    size_t n = std::strlen(suf);
    return s.size() > n && s.compare(s.size() - n, n, suf) == 0;
  };
  // The suffix is an access mode only when it does not complete a "::" separator:
  // "/data::ro" is host /data with guest path "ro".
  auto is_suffix = [&](const char* suf) {
    return ends_with(suf) && (s.size() < 4 || s[s.size() - 4] != ':');
  };
  if (is_suffix(":ro")) {
    p.read_only = true;
    s.resize(s.size() - 3);
  } else if (is_suffix(":rw")) {
    s.resize(s.size() - 3);
  }
  size_t sep = s.find("::");
  if (sep == std::string::npos) {
    p.host_path = s;
    p.guest_path = s;
  } else {
    p.host_path = s.substr(0, sep);
    p.guest_path = s.substr(sep + 2);
  }
  // A part that starts with ':' is a mistyped separator or suffix (":ro", "/a:::ro").
  if (!p.host_path.empty() && p.host_path.front() == ':') p.host_path.clear();
  if (!p.guest_path.empty() && p.guest_path.front() == ':') p.guest_path.clear();
  if (p.host_path.empty()) {
    return make_error(ErrorCode::kInvalidArgument,
                      "--dir '" + spec + "': empty host path; use HOST[::GUEST][:ro]");
  }
  if (p.guest_path.empty()) {
    return make_error(ErrorCode::kInvalidArgument,
                      "--dir '" + spec + "': empty guest path; use HOST[::GUEST][:ro]");
  }
  return p;
}

Result<std::pair<std::string, std::string>> parse_env_spec(const std::string& spec) {
  size_t eq = spec.find('=');
  if (eq == std::string::npos || eq == 0) {
    return make_error(ErrorCode::kInvalidArgument,
                      "--env '" + spec + "': expected NAME=VALUE");
  }
  return std::make_pair(spec.substr(0, eq), spec.substr(eq + 1));
}

namespace {

int report_error(const Error& e) {
  std::fprintf(stderr, "wasmcap: error: %s\n", e.to_string().c_str());
  return error_exit_code(e.code);
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
  std::string out = json ? policy::plan_to_json(**plan, report) : policy::plan_to_text(**plan, report);
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
  return 0;
}

std::optional<registry::Reference> bundle_reference(const std::string& arg);
int cmd_run_installed(const registry::Reference& ref, const std::vector<std::string>& guest_args,
                      const std::vector<std::string>& dirs, const std::vector<std::string>& envs,
                      const std::string& engine, uint64_t max_output_bytes,
                      const std::string& invoke, const std::string& argv0, const PlanFlags& flags,
                      const AotOptions& aot);

int cmd_run(const std::string& module_path, const std::vector<std::string>& guest_args,
            const std::vector<std::string>& dirs, const std::vector<std::string>& envs,
            const std::string& engine, uint64_t fuel, uint64_t timeout_ms, uint64_t max_memory_mb,
            uint64_t max_output_bytes, const std::string& invoke, const std::string& argv0,
            const PlanFlags& flags, const AotOptions& aot) {
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
    auto bytes = read_file_bytes(path);
    if (!bytes) return report_error(bytes.error());
    std::fflush(stdout);
    auto report = run_module(*bytes, std::move(*opts));
    if (!report) return report_error(report.error());
    return report->exit_code;
  }
  if (auto ref = bundle_reference(module_path)) {
    return cmd_run_installed(*ref, guest_args, dirs, envs, engine, max_output_bytes, invoke, argv0,
                             flags, aot);
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
  auto bytes = read_file_bytes(module_path);
  if (!bytes) return report_error(bytes.error());
  std::fflush(stdout);
  auto report = run_module(*bytes, std::move(opts));
  if (!report) return report_error(report.error());
  return report->exit_code;
}

std::string limits_str(const MemoryLimits& m) {
  std::string s = "pages min=" + std::to_string(m.min_pages);
  s += m.has_max ? " max=" + std::to_string(m.max_pages) : " max=none";
  if (m.is64) s += " memory64";
  if (m.shared) s += " shared";
  return s;
}

int cmd_inspect(const std::string& module_path) {
  auto bytes = read_file_bytes(module_path);
  if (!bytes) return report_error(bytes.error());
  auto engine = make_interp_engine();
  auto module = engine->load(bytes->data(), bytes->size());
  if (!module) return report_error(module.error());
  const ModuleInfo& info = (*module)->info();
  std::printf("module: %s (%llu bytes, %u functions)\n", module_path.c_str(),
              static_cast<unsigned long long>(info.size_bytes), info.defined_funcs);
  std::printf("imports (%zu):\n", info.imports.size());
  for (const auto& i : info.imports) {
    std::printf("  %s %s.%s", std::string(extern_kind_name(i.kind)).c_str(), i.module.c_str(),
                i.name.c_str());
    if (i.kind == ExternKind::kFunc) std::printf(" %s", i.sig.to_string().c_str());
    if (i.kind == ExternKind::kMemory) std::printf(" %s", limits_str(i.memory).c_str());
    std::printf("\n");
  }
  std::printf("exports (%zu):\n", info.exports.size());
  for (const auto& e : info.exports) {
    std::printf("  %s %s", std::string(extern_kind_name(e.kind)).c_str(), e.name.c_str());
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
  WASMCAP_TRY_ASSIGN(c.reg, registry::Registry::open(c.home));
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
                      const AotOptions& aot) {
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
  std::fflush(stdout);
  auto report = run_module(resolved->module_bytes, std::move(*opts));
  if (!report) return report_error(report.error());
  return report->exit_code;
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
  std::printf("%s %s@%s, signed by key %s (%s)\n", outcome_text(r->outcome), i.name.c_str(),
              i.version.c_str(), i.signer_id.c_str(),
              i.trusted_at_install ? "trusted" : "NOT trusted: installed with --allow-untrusted");
  if (i.forced_downgrade) std::printf("  forced downgrade (recorded)\n");
  for (const auto& v : r->replaced) std::printf("  replaced the content of %s (forced, recorded)\n", v.c_str());
  return 0;
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
  for (const auto& i : *removed) std::printf("removed %s@%s\n", i.name.c_str(), i.version.c_str());
  return 0;
}

// Compiles MODULE for the AOT engine into the cache, so later runs start at native speed.
int cmd_compile(const std::string& module_path, const AotOptions& aot) {
  auto bytes = read_file_bytes(module_path);
  if (!bytes) return report_error(bytes.error());
  auto engine = make_aot_engine(aot);
  auto start = std::chrono::steady_clock::now();
  auto module = engine->load(bytes->data(), bytes->size());
  if (!module) return report_error(module.error());
  double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
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
  if (!key) return report_error(key.error());
  if (auto r = bundle::pack_to_file(manifest, *key, out); !r) return report_error(r.error());
  std::printf("packed %s, signed by key %s\n", out.c_str(), key->public_key().id().c_str());
  return 0;
}

int cmd_bundle_verify(const std::string& path, const std::vector<std::string>& trust) {
  std::vector<bundle::PublicKey> keys;
  for (const auto& t : trust) {
    auto k = bundle::load_public_key(t);
    if (!k) return report_error(k.error());
    keys.push_back(*k);
  }
  auto b = bundle::verify_file(path, keys);
  if (!b) return report_error(b.error());
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
  app.set_version_flag("--version", "wasmcap 0.1.0");

  std::string module_path, engine = "interp", invoke, argv0;
  std::vector<std::string> dirs, envs;
  uint64_t fuel = 0, timeout_ms = 0, max_memory_mb = 4096, max_output_bytes = 0;

  // CLI11 converts "-5" to an unsigned option by wrapping it to 2^64-5: refuse the sign first.
  const CLI::Validator kNonNegative(
      [](std::string& v) {
        return v.find('-') != std::string::npos ? std::string("must not be negative") : std::string();
      },
      "NONNEGATIVE", "non-negative");
  CLI::App* run = app.add_subcommand("run", "Run a WASI command module in a sandbox");
  run->add_option("--dir", dirs,
                  "Preopen a host directory: HOST[::GUEST][:ro|:rw] (GUEST defaults to HOST; "
                  ":ro makes it read-only). Repeatable.")
      ->allow_extra_args(false);
  run->add_option("--env", envs, "Give the guest an environment variable NAME=VALUE. Repeatable.")
      ->allow_extra_args(false);
  AotOptions aot;
  aot.progress = true;
  run->add_option("--engine", engine,
                  "Engine: interp, aot (compiled to native code, cached) or auto (aot when a C "
                  "compiler is available, else interp). Default interp.")
      ->check(CLI::IsMember({"interp", "aot", "auto"}));
  run->add_option("--cache-dir", aot.cache_dir,
                  "AOT cache directory (default $WASMCAP_CACHE_DIR, else "
                  "$XDG_CACHE_HOME/wasmcap/aot, else ~/.cache/wasmcap/aot)");
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
  run->add_flag("--audit-stderr", run_flags.audit_stderr,
                "Also write https audit events (JSON Lines) to stderr, besides the host config's "
                "audit.file");
  run->add_option("module", module_path,
                  "The .wasm module (required without --manifest; with it, overrides the "
                  "manifest's module), or an installed bundle NAME[@VERSION] (no '/', not ending "
                  "in .wasm)");
  run->prefix_command();

  PlanFlags plan_flags;
  std::string plan_module, plan_engine = "interp";
  bool plan_json = false;
  CLI::App* plan = app.add_subcommand(
      "plan", "Show what a plugin would get: manifest requests x host config grants");
  plan->add_option("--manifest", plan_flags.manifest, "Plugin manifest (JSON)")->required();
  plan->add_option("--config", plan_flags.config, "Host config (JSON)")->required();
  plan->add_option("--engine", plan_engine,
                   "Engine to check capabilities against: interp, aot or auto")
      ->check(CLI::IsMember({"interp", "aot", "auto"}));
  plan->add_option("--cache-dir", aot.cache_dir, "AOT cache directory (see run --cache-dir)");

  std::string compile_path;
  CLI::App* compile = app.add_subcommand(
      "compile", "Precompile a module for the aot engine into the cache (docs/aot.md)");
  compile->add_option("module", compile_path, "The .wasm module")->required();
  compile->add_option("--cache-dir", aot.cache_dir, "AOT cache directory (see run --cache-dir)");
  plan->add_flag("--json", plan_json, "Print the plan as JSON");
  plan->add_option("module", plan_module, "The .wasm module (default: the manifest's module)");

  std::string inspect_path;
  CLI::App* inspect = app.add_subcommand("inspect", "List a module's imports, exports and memory");
  inspect->add_option("module", inspect_path, "The .wasm module")->required();

  CLI::App* bundle_cmd = app.add_subcommand("bundle", "Signed plugin bundles (docs/bundles.md)");
  bundle_cmd->require_subcommand(1);
  std::string keygen_dir, keygen_name = "wasmcap-signing";
  CLI::App* keygen = bundle_cmd->add_subcommand("keygen", "Generate an Ed25519 signing key pair");
  keygen->add_option("--out", keygen_dir, "Directory for NAME.key (0600) and NAME.pub")->required();
  keygen->add_option("--name", keygen_name, "Key file base name (default wasmcap-signing)");
  std::string pack_manifest, pack_key, pack_out;
  CLI::App* pack = bundle_cmd->add_subcommand("pack", "Pack and sign a plugin bundle");
  pack->add_option("--manifest", pack_manifest, "Plugin manifest (JSON)")->required();
  pack->add_option("--key", pack_key, "Secret key file (from bundle keygen)")->required();
  pack->add_option("--out", pack_out, "Bundle file to write")->required();
  std::string verify_path;
  std::vector<std::string> verify_trust;
  CLI::App* verify = bundle_cmd->add_subcommand("verify", "Verify a bundle against trusted keys");
  verify->add_option("bundle", verify_path, "The bundle file")->required();
  verify->add_option("--trust", verify_trust, "Trusted public key file (*.pub). Repeatable.")
      ->allow_extra_args(false);
  std::string install_path, install_config, list_config, remove_what;
  bool install_untrusted = false, install_force = false, list_json = false;
  CLI::App* install = bundle_cmd->add_subcommand(
      "install", "Verify a bundle and install it into the local registry ($WASMCAP_HOME)");
  install->add_option("bundle", install_path, "The bundle file")->required();
  install->add_flag("--allow-untrusted", install_untrusted,
                    "Install a bundle whose (valid) signature is by a key that is not trusted; "
                    "recorded. Never allows a revoked key.");
  install->add_flag("--force", install_force,
                    "Install a lower version than one installed now or before, or replace the "
                    "same version's other content; recorded");
  install->add_option("--config", install_config, "Host config whose trust section applies");
  CLI::App* list = bundle_cmd->add_subcommand("list", "List installed bundles");
  list->add_flag("--json", list_json, "Print a JSON array");
  list->add_option("--config", list_config, "Host config whose trust section applies");
  CLI::App* remove = bundle_cmd->add_subcommand("remove", "Remove NAME (all versions) or NAME@VERSION");
  remove->add_option("name", remove_what, "NAME or NAME@VERSION")->required();

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

  // Subcommands that live in their own files (cli/ws_cli.h).
  std::vector<Dispatch> extra_commands = {add_ws_commands(app), add_sh_command(app)};

  try {
    app.parse(static_cast<int>(cli_args.size()), cli_args.data());
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    return code == 0 ? 0 : error_exit_code(ErrorCode::kInvalidArgument);
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
    std::vector<std::string> guest_args = guest_tail;
    if (dashdash) {
      if (run_flags.manifest.empty() && !guest_args.empty()) {
        module_path = guest_args.front();
        guest_args.erase(guest_args.begin());
      }
    }
    return cmd_run(module_path, guest_args, dirs, envs, engine, fuel, timeout_ms,
                   max_memory_mb, max_output_bytes, invoke, argv0, run_flags, aot);
  }
  for (const Dispatch& d : extra_commands) {
    if (auto rc = d()) return *rc;
  }
  if (*plan) return cmd_plan(plan_flags, plan_module, plan_engine, aot, plan_json);
  if (*compile) return cmd_compile(compile_path, aot);
  if (*inspect) return cmd_inspect(inspect_path);
  if (*keygen) return cmd_bundle_keygen(keygen_dir, keygen_name);
  if (*pack) return cmd_bundle_pack(pack_manifest, pack_key, pack_out);
  if (*verify) return cmd_bundle_verify(verify_path, verify_trust);
  if (*install) return cmd_bundle_install(install_path, install_untrusted, install_force, install_config);
  if (*list) return cmd_bundle_list(list_json, list_config);
  if (*remove) return cmd_bundle_remove(remove_what);
  return 0;
}

}  // namespace wasmcap::cli

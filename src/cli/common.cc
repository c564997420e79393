// The pieces several `wasmcap` commands share (commands.h).
#include "cli/cli.h"
#include "cli/commands.h"

#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "common/escape.h"
#include "wasmcap/runtime.h"

namespace wasmcap::cli {

Result<Preopen> parse_dir_spec(const std::string& spec) {
  return from_flag("--dir", policy::parse_dir_grant(spec));
}

Result<std::pair<std::string, std::string>> parse_env_spec(const std::string& spec) {
  return from_flag("--env", policy::parse_env_grant(spec));
}

namespace {
bool g_json_errors = false;
}  // namespace

void set_json_errors(bool on) { g_json_errors = on; }

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


std::string printable(std::string_view s) { return text::escape_ascii(s, 128, "\\"); }

const CLI::Validator& non_negative() {
  static const CLI::Validator v(
      [](std::string& s) {
        return s.find('-') != std::string::npos ? std::string("must not be negative") : std::string();
      },
      "NONNEGATIVE", "non-negative");
  return v;
}

void add_compile_bounds(CLI::App* cmd, AotOptions& aot) {
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
}

void apply_aot_config(const policy::HostConfig& config, AotOptions& aot) {
  if (config.aot.cache_max_mb) aot.cache_max_bytes = *config.aot.cache_max_mb << 20;
  if (config.aot.background_jobs) aot.background_jobs = *config.aot.background_jobs;
}

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
                                                 const std::string& module_override,
                                                 policy::HostConfig* config_out) {
  if (flags.config.empty()) {
    return make_error(ErrorCode::kInvalidArgument,
                      "--manifest needs --config (the host config holding the operator's grants)");
  }
  policy::Manifest manifest;
  WASMCAP_TRY_ASSIGN(manifest, policy::load_manifest(flags.manifest));
  policy::HostConfig config;
  WASMCAP_TRY_ASSIGN(config, policy::load_host_config(flags.config));
  std::string dir = std::filesystem::path(flags.manifest).parent_path().string();
  auto plan = std::make_shared<policy::Plan>(policy::make_plan(manifest, config, dir));
  if (!module_override.empty()) plan->module_path = module_override;
  WASMCAP_TRY(bind_workspaces(*plan));
  if (config_out != nullptr) *config_out = std::move(config);
  return plan;
}

bool is_module_path(const std::string& arg) {
  auto ends = [&](std::string_view ext) {
    return arg.size() >= ext.size() && arg.compare(arg.size() - ext.size(), ext.size(), ext) == 0;
  };
  return ends(".wasm") || ends(".wat");
}

std::optional<registry::Reference> bundle_reference(const std::string& arg) {
  if (arg.empty() || arg.find('/') != std::string::npos) return std::nullopt;
  if (is_module_path(arg)) return std::nullopt;
  return registry::parse_reference(arg);
}

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

}  // namespace wasmcap::cli

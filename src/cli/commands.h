// What the `wasmcap` commands share (src/cli/): error reporting, the engine names, the AOT
// compile bounds, the grant sources of a run (manifest + host config, installed bundles) and the
// registry. Each command lives in its own file, whose add_*_command registers its flags on the
// app and returns the Dispatch that runs it (ws_cli.h); cli.cc's main() only dispatches.
#pragma once

#include <CLI/CLI.hpp>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cli/ws_cli.h"
#include "wasmcap/bundle.h"
#include "wasmcap/engine.h"
#include "wasmcap/error.h"
#include "wasmcap/policy.h"
#include "wasmcap/registry.h"
#include "wasmcap/runtime.h"
#include "wasmcap/workspace.h"

namespace wasmcap::cli {

// --- Errors ---------------------------------------------------------------------------------------

// --json on the running command: errors are also one JSON object on stdout.
void set_json_errors(bool on);
// Prints "wasmcap: error: CODE: MESSAGE" (and the JSON object under --json); returns the
// documented exit status of the error's code.
int report_error(const Error& e);
// Untrusted text (names from a module) made printable: bytes outside printable ASCII as \xNN.
std::string printable(std::string_view s);

// --- Flags shared by several commands ---------------------------------------------------------

// `--engine` (run, plan, mcp, tool, sh) accepts wasmcap::engine_names(), the engines' one table.
// CLI11 converts "-5" to an unsigned option by wrapping it to 2^64-5: refuse the sign first.
const CLI::Validator& non_negative();
// --compile-timeout-ms, --compile-memory-mb, --compile-jobs into `aot` (run, compile).
void add_compile_bounds(CLI::App* cmd, AotOptions& aot);
// The host config's aot section (docs/host-config.md#aot): the cache's size cap and the
// background compile's job count, over AotOptions' defaults.
void apply_aot_config(const policy::HostConfig& config, AotOptions& aot);

// --- Grant sources ------------------------------------------------------------------------------

// A grant flag's value, parsed by the library (wasmcap/policy.h, "Grants written on one line"),
// its error naming the flag it came from.
template <class T>
Result<T> from_flag(const char* flag, Result<T> r) {
  if (!r) return make_error(r.error().code, std::string(flag) + " " + r.error().message);
  return r;
}

// Where the grants of a run come from: a manifest + host config, or (without --manifest) the
// --dir/--env flags, which form an implicit manifest and grant of exactly what they name.
struct PlanFlags {
  std::string manifest;
  std::string config;
  bool degrade = false;
  bool audit_stderr = false;  // https audit events also to stderr
  // --fuel / --timeout-ms / --max-memory-mb given explicitly: they narrow the run's limits
  // (runtime.h RunRequest::bounds; memory in bytes).
  RunBounds bounds;
};

// The ToolHolds on the workspaces this process runs tools on: kept until exit, so that
// `wasmcap ws apply` refuses while the run is in progress (docs/workspace.md).
std::vector<workspace::ToolHold>& workspace_holds();

// Points the plan's workspace grants (host config grants.fs[].workspace) at the workspaces'
// trees in $WASMCAP_HOME, holding each for the run. A plan without one needs no home.
Result<void> bind_workspaces(policy::Plan& plan);

// Parses both documents and intersects them. `module_override` (the MODULE argument) replaces
// the manifest's module path.
// `config`, when given, receives the host config read (for its host-wide sections: aot,
// defaults).
Result<std::shared_ptr<policy::Plan>> build_plan(const PlanFlags& flags,
                                                 const std::string& module_override,
                                                 policy::HostConfig* config = nullptr);

// --- Installed bundles (docs/bundles.md#the-local-registry) ---------------------------------------

// A module path by its name: it ends in ".wasm" or ".wat" (a text module).
bool is_module_path(const std::string& arg);
// What `wasmcap run X` means: X is an installed bundle NAME[@VERSION] when it does not end in
// ".wasm" or ".wat", contains no '/', and is a valid plugin name (optionally @ a SemVer version); otherwise
// it is a module path. The rule is syntax only, never "does a file of that name exist": a file a
// plugin wrote into the working directory cannot turn `wasmcap run coreutils` into a run of an
// unverified module.
std::optional<registry::Reference> bundle_reference(const std::string& arg);

struct RegistryContext {
  std::string home;
  policy::HostConfig config;
  bundle::TrustStore trust;
  std::optional<registry::Registry> reg;
};

// The registry, the host config (when given) and the trust store it and $WASMCAP_HOME/trust form.
Result<RegistryContext> open_registry(const std::string& config_path);

// --- The commands (one file each) ---------------------------------------------------------------

// `wasmcap run` (run.cc): its flags, and the guest's arguments kept aside from CLI11.
struct RunCommand;
std::shared_ptr<RunCommand> add_run_command(CLI::App& app);
// The arguments CLI11 is to parse of `wasmcap ARGV...`: for `run`, everything after MODULE (or
// after a "--" before any positional) is the guest's, kept verbatim in `run` instead.
std::vector<char*> split_run_arguments(RunCommand& run, int argc, char** argv);
// Runs `run` when it is the command parsed; nullopt otherwise.
std::optional<int> execute_run(RunCommand& run);

// `wasmcap call` (call.cc): run's flags but those of run alone (--invoke, --argv0, --json,
// --allow-https, --secret) registered on `cmd`; then the component and its call, and
// execute_run runs it as `wasmcap run` would, with RunOptions::component_call.
std::shared_ptr<RunCommand> add_call_run_flags(CLI::App* cmd);
void set_component_call(RunCommand& run, std::string component, ComponentCall call);
Dispatch add_call_command(CLI::App& app);

// `wasmcap plan` (plan.cc), `wasmcap compile` (compile.cc), `wasmcap inspect` (inspect.cc).
Dispatch add_plan_command(CLI::App& app);
Dispatch add_compile_command(CLI::App& app);
Dispatch add_inspect_command(CLI::App& app);
// `wasmcap cache list|prune|clear` (cache_cli.cc).
Dispatch add_cache_command(CLI::App& app);

// `wasmcap bundle keygen|pack|verify|install|list|remove` (bundle.cc); `*bundle` receives the
// `bundle` command (ecosystem.cc adds `bundle inspect` to it).
Dispatch add_bundle_commands(CLI::App& app, CLI::App** bundle);
// `wasmcap bundle install FILE` without its flags (bundle.cc), for `wasmcap setup`.
int run_bundle_install(const std::string& path);
// `wasmcap setup` (setup_cli.cc): trust the shipped keys, install the shipped bundles.
Dispatch add_setup_command(CLI::App& app);

}  // namespace wasmcap::cli

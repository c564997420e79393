// CLI commands beyond run/plan/compile/inspect/bundle (issue #16): trust management, bundle
// review before install, shell completions and the man page (both generated from the CLI11
// definitions, so they cannot drift from the parser). Kept apart from cli.cc so that file stays
// the parser of the core commands.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "wasmcap/engine.h"
#include "wasmcap/policy.h"

namespace CLI {
class App;
}

namespace wasmcap::cli {

struct EcosystemCommands {
  // The exit status when one of these commands was selected, else nullopt.
  std::function<std::optional<int>()> dispatch;
};

// Adds `trust`, `completions`, `man` to `app` and `inspect` to `bundle`.
EcosystemCommands add_ecosystem_commands(CLI::App& app, CLI::App& bundle);

// `wasmcap plan --bundle FILE --config C`: the plan a bundle would get, without installing it.
int cmd_plan_bundle(const std::string& bundle_path, const std::string& config_path,
                    const std::string& engine_name, const AotOptions& aot, bool json);

// Appends a registry/trust audit record ("bundle_install", "trust_add", ...) to
// $WASMCAP_HOME/audit.jsonl and, when it names one, the host config's audit file. The change
// itself already happened: a record that cannot be written is warned about on stderr and makes
// this return false (the command then exits 74), unless audit.on_failure is "continue".
bool registry_audit(const std::string& event,
                    const std::vector<std::pair<std::string, std::string>>& fields,
                    const policy::AuditConfig& config);

// `wasmcap trust add KEY.pub` (its output, records and exit status); `wasmcap setup` runs it
// for each shipped key.
int run_trust_add(const std::string& key_path);

// The bash / zsh completion script and the man page (troff) for `app`.
std::string completion_script(const CLI::App& app, const std::string& shell);
std::string man_page(const CLI::App& app);

}  // namespace wasmcap::cli

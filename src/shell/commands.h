// Where a command name comes from (docs/shell.md "Commands"): the table built from every
// installed, trusted bundle's manifest "commands", the order that settles conflicts, and what
// `command -v`, `type` and `hash` report. No executor dependency: exec.cc asks through
// Resolver.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "wasmcap/error.h"
#include "wasmcap/policy.h"
#include "wasmcap/shell.h"

namespace wasmcap::bundle {
struct TrustStore;
}
namespace wasmcap::registry {
class Registry;
}

namespace wasmcap::shell {

// One installed bundle's offer: its verified module (in `tool`, whose `tool` field is unset)
// and the commands its manifest declares.
struct BundleOffer {
  Tool tool;
  std::vector<policy::ShellCommand> commands;
};

// A command a bundle declared that another bundle's declaration of the same name shadows.
struct Shadowed {
  std::string name;
  std::string bundle;     // the one that lost
  std::string winner;     // the one that provides `name`
};

struct CommandTable {
  std::map<std::string, Tool> commands;
  std::vector<Shadowed> shadowed;
};

// The bundles' precedence: those named in `order` (host config shell.bundle_order) first, in
// that order, then the rest by bundle name; the first bundle declaring a name provides it.
// Deterministic whatever order the registry lists bundles in.
CommandTable build_command_table(std::vector<BundleOffer> offers,
                                 const std::vector<std::string>& order);

// The table from every installed bundle (its newest version), its signed manifest resolved and
// verified as `wasmcap run NAME` would (Registry::resolve_manifest); a bundle whose manifest does
// not verify, or whose signer is not trusted now (revoked, or installed only with
// --allow-untrusted), provides no command. Its module and data tree are checked on the first use
// of one of its commands (ToolModule, include/wasmcap/shell.h): a bundle modified in the store is
// refused then, before it runs. Its data tree, if any, is mounted read-only for its commands as
// for a run. `wasmcap sh` and the MCP server's `bash` tool
// both build their tables here (src/shell/registry_table.cc).
Result<CommandTable> command_table_from_registry(registry::Registry& reg,
                                                 const bundle::TrustStore& trust,
                                                 const std::vector<std::string>& order);

// How a name resolves, in the shell's lookup order.
// kPathFile: an executable file found on PATH beneath the preopens (Resolver::find_on_path).
enum class NameKind { kKeyword, kFunction, kBuiltin, kNestedShell, kTool, kPathFile, kNotFound };

// What the executor knows: its builtins (and later functions), and the command table.
struct Resolver {
  std::function<bool(std::string_view)> is_builtin;
  const std::map<std::string, Tool>* commands = nullptr;
  // The path of an executable file PATH names for NAME (after the command table), if any.
  std::function<std::optional<std::string>(std::string_view)> find_on_path = {};
  // bash's hash table: the names run by a PATH search so far, their paths and hits (`hash`
  // lists them), forgetting them, and entering a tool's or the nested shell's path (`hash NAME`).
  struct Hashed {
    std::string name, path;
    uint64_t hits;
  };
  std::vector<Hashed> hashed = {};
  std::function<void()> forget_hashed = {};
  std::function<void(std::string_view)> hash_program = {};
  // True if NAME is a function the script defined (found before builtins, as in bash).
  std::function<bool(std::string_view)> is_function = {};
  // Where PATH finds a tool or sh/bash: DIR/NAME for its first command directory (files.cc
  // program_on_path); none: the name is printed.
  std::function<std::optional<std::string>(std::string_view)> program_path = {};
};

// The names `sh` and `bash`: a nested `wasmcap sh` in the same sandbox (src/shell/nested.cc).
bool is_nested_shell_name(std::string_view name);

NameKind resolve_name(const Resolver& r, std::string_view name);

// `command -v|-V NAME...`, `type [-t] NAME...`, `hash [-r] [NAME...]`: `argv[0]` names the
// builtin.
// Output is appended to *out and *err (names shown escaped: they may come from anywhere);
// returns the exit status (1 when a name is not found, 2 for a bad option).
int resolution_builtin(const Resolver& r, const std::vector<std::string_view>& argv,
                       std::string* out, std::string* err);

// True for argv of `command` that runs a command (`command NAME ARGS...`, `command -p ...`)
// rather than reporting (-v/-V); *skip is how many words precede NAME.
bool command_runs(const std::vector<std::string_view>& argv, size_t* skip);

}  // namespace wasmcap::shell

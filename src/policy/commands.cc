// The manifest's "commands" section. A bundle is hostile input until verified, and even a
// trusted bundle should not be able to change what the shell's own words mean: command names
// are short words of a fixed charset, and the shell's reserved words, its special builtins, the
// builtins that report resolution and the nested shell's names are refused (check_command_name).
#include "policy/commands.h"

#include <algorithm>
#include <array>

#include "policy/fields.h"

namespace wasmcap::policy {

namespace {

Result<ShellCommand> read_command(const Doc& d, const std::string& name, const Json& v,
                                  const std::string& path) {
  WASMCAP_TRY(d.object(v, path, {"argv0", "fallback"}));
  ShellCommand c;
  c.name = name;
  c.argv0 = name;
  if (const Json* a = member(v, "argv0")) {
    WASMCAP_TRY_ASSIGN(c.argv0, checked_string(d, *a, member_path(path, "argv0"),
                                               check_command_word));
  }
  if (const Json* f = member(v, "fallback")) {
    WASMCAP_TRY_ASSIGN(c.fallback, d.boolean(*f, member_path(path, "fallback")));
  }
  return c;
}

}  // namespace

Result<std::vector<ShellCommand>> read_commands(const Doc& d, const Json& v,
                                                const std::string& path) {
  WASMCAP_TRY(d.map(v, path));
  if (v.size() > kMaxCommands) {
    return d.fail(path, "at most " + std::to_string(kMaxCommands) + " commands");
  }
  std::vector<ShellCommand> out;
  for (const auto& [name, spec] : v.items()) {
    std::string p = member_path(path, name);
    if (auto problem = check_command_name(name)) return d.fail(p, "command name " + *problem);
    ShellCommand c;
    WASMCAP_TRY_ASSIGN(c, read_command(d, name, spec, p));
    out.push_back(std::move(c));
  }
  return out;
}

}  // namespace wasmcap::policy

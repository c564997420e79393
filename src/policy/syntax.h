// Internal: the lexical rules of policy documents. Each check returns nullopt when the text is
// valid, else a short description of the problem (used after "FILE: PATH: ").
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "wasmcap/policy.h"

namespace wasmcap::policy {

using Problem = std::optional<std::string>;

Problem check_plugin_name(std::string_view s);   // [a-z0-9][a-z0-9._-]{0,63}
// The sandbox user's name (host config shell.user): POSIX's portable [a-z_][a-z0-9_-]{0,31},
// the rule the coreutils bundle's id, whoami and ls apply to the USER they are given.
Problem check_user_name(std::string_view s);
Problem check_secret_name(std::string_view s);   // [A-Za-z0-9_][A-Za-z0-9_.-]{0,63}
Problem check_env_name(std::string_view s);      // [A-Za-z_][A-Za-z0-9_]{0,255}
Problem check_env_value(std::string_view s);     // no NUL, at most 32 KiB
Problem check_semver(std::string_view s);        // SemVer 2.0.0
Problem check_guest_path(std::string_view s);    // absolute, normalized, no NUL
Problem check_host_path(std::string_view s);     // absolute, no NUL
// A shadow workspace name: [A-Za-z0-9][A-Za-z0-9._-]{0,63} (the rule of
// workspace::validate_name; tests/workspace checks that the two agree).
Problem check_workspace_name(std::string_view s);
Problem check_module_path(std::string_view s);   // relative, inside the manifest's directory
// A word the shell runs a module as (manifest "commands", docs/manifest.md#commands):
// [A-Za-z0-9_][A-Za-z0-9._+-]{0,63}: no '/' (it would be a path), no leading '-' or '.'.
Problem check_command_word(std::string_view s);
// A command name: a command word that is none of the words the shell keeps for itself
// (reserved_command_names()).
Problem check_command_name(std::string_view s);
// The shell's reserved words, its special builtins, the builtins that report how a name
// resolves (command, type, hash, builtin) and the nested shell (sh, bash), sorted.
const std::vector<std::string_view>& reserved_command_names();
Problem check_path_prefix(std::string_view s);   // "/..." of URL path characters

// The canonical HTTP methods wasmcap grants, in canonical order.
const std::vector<std::string>& known_methods();
// Uppercases and checks a method against known_methods().
Result<std::string> normalize_method(std::string_view s);
// Position of a (normalized) method in canonical order.
size_t method_rank(std::string_view m);

std::optional<IpAddress> parse_ip(std::string_view s);
// "ADDR/LEN" with host bits zero.
Result<Cidr> parse_cidr(std::string_view s);

}  // namespace wasmcap::policy

// Internal: the manifest's "commands" section (docs/manifest.md#commands): the names under
// which `wasmcap sh` runs the bundle's module.
#pragma once

#include <string>
#include <vector>

#include "policy/json_doc.h"
#include "wasmcap/policy.h"

namespace wasmcap::policy {

// At most this many commands per manifest: coreutils declares 13, a busybox-like bundle a few
// hundred; the bound caps what every `wasmcap sh` start builds from each installed bundle.
constexpr size_t kMaxCommands = 512;

// Reads "commands": {"NAME": {"argv0"?: NAME}, ...}.
Result<std::vector<ShellCommand>> read_commands(const Doc& d, const Json& v,
                                                const std::string& path);

}  // namespace wasmcap::policy

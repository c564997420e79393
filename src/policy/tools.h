// Internal: the manifest's "tools" section (docs/manifest.md#tools).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "policy/json_doc.h"
#include "wasmcap/policy.h"

namespace wasmcap::policy {

// At most this many tools per manifest, and argv template parts per tool: generous for real
// plugins, and a bound on what listing and rendering cost.
constexpr size_t kMaxTools = 256;
constexpr size_t kMaxArgvParts = 256;

// An MCP tool name as wasmcap gives them: [A-Za-z0-9_-]{1,64} (a manifest's tools, and the
// tools derived from a component's exports).
bool valid_tool_name(std::string_view s);

// Reads "tools": an array of tool declarations, checked against `perms` (an argv template
// needs "args": true).
Result<std::vector<Tool>> read_tools(const Doc& d, const Json& v, const std::string& path,
                                     const Permissions& perms);

// Reads "component_tools": true / false, or an array of at most kMaxTools distinct export names
// (1-256 characters of [A-Za-z0-9:/@.+_-], as WIT spells interface and function names).
Result<void> read_component_tools(const Doc& d, const Json& v, const std::string& path,
                                  Manifest* m);

}  // namespace wasmcap::policy

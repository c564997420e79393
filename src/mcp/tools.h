// Internal pieces of the tool layer, exposed for unit tests: argv rendering and annotation
// derivation (docs/abi-tools.md, docs/mcp.md#annotations).
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "wasmcap/error.h"
#include "wasmcap/policy.h"

namespace wasmcap::mcp {

using Json = nlohmann::json;

// 128 random bits as 32 lowercase hex digits (invocation and session ids): the runtime's
// make_invocation_id, so every component mints ids the same way.
Result<std::string> random_id();

// Renders a tool's argv template (after argv[0]) with validated `args`. invalid_argument when a
// value cannot be passed safely: it starts with '-' where no literal "--" precedes it (it would
// be read as an option: argument injection), or it contains NUL.
Result<std::vector<std::string>> render_argv(const std::vector<policy::ArgvPart>& parts,
                                             const Json& args);

// Narrows a plan for a tool declared readOnlyHint: true: every fs mount read-only, https
// methods limited to GET, HEAD and OPTIONS (rules left without a method are dropped).
void narrow_read_only(policy::Plan& plan);

// The annotations a tool is listed with: derived from the (narrowed) plan, never more
// permissive than it (docs/mcp.md#annotations).
Json effective_annotations(const policy::Tool& tool, const policy::Plan& plan);

}  // namespace wasmcap::mcp

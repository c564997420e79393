// `wasmcap mcp` and `wasmcap tool list|call`: flags parsed here, everything else in
// wasmcap_mcp (include/wasmcap/mcp.h).
#pragma once

#include <CLI/CLI.hpp>
#include <memory>
#include <optional>

namespace wasmcap::cli {

struct McpCommands;

// Adds the subcommands to `app`; the returned object holds their flags.
std::shared_ptr<McpCommands> add_mcp_commands(CLI::App& app);

// Runs the selected subcommand; nullopt when none of them was selected.
std::optional<int> run_mcp_commands(const McpCommands& cmds);

}  // namespace wasmcap::cli

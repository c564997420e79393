// Subcommands kept out of cli.cc: each adder registers its subcommands on the app and returns a
// dispatcher that runs the one parsed (nullopt when none of its subcommands was given).
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <optional>

namespace wasmcap::cli {

using Dispatch = std::function<std::optional<int>()>;

// `wasmcap ws create|list|diff|apply|discard` (docs/workspace.md).
Dispatch add_ws_commands(CLI::App& app);

}  // namespace wasmcap::cli

namespace wasmcap::cli {

// `wasmcap sh` (docs/shell.md).
Dispatch add_sh_command(CLI::App& app);

}  // namespace wasmcap::cli

// `wasmcap sh`: a POSIX sh subset whose every command is a sandboxed WASI tool (docs/shell.md).
//
// The parser (src/shell/parse.h) is host code that knows nothing of WASI; the executor here
// runs builtins in the host and everything else as a WASI module from an installed bundle,
// looked up in the command table. There is no fallback to host executables.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "wasmcap/audit.h"
#include "wasmcap/engine.h"
#include "wasmcap/error.h"
#include "wasmcap/wasi.h"

namespace wasmcap::shell {

// One command the table maps to a module: `name` runs `tool` (argv[0]) of `bundle`.
struct Tool {
  std::string bundle;  // "coreutils"
  std::string tool;    // argv[0] the module sees ("ls"): multi-call modules pick by it
  std::shared_ptr<const std::vector<uint8_t>> module;  // verified module bytes
  std::string module_sha256;
};

// The documented command table (docs/shell.md "Commands"): name -> (bundle, tool).
const std::vector<std::pair<std::string, std::string>>& command_table_spec();

struct Options {
  std::vector<Preopen> preopens;  // what every tool (and redirection) may reach
  std::string cwd;                // guest path; default: the first preopen's guest path
  std::map<std::string, Tool> commands;  // resolved command table (name -> tool)
  std::string engine = "interp";
  AotOptions aot;
  int stdin_fd = -1;  // the script's stdin (-1: EOF)
  int stdout_fd = 1;
  int stderr_fd = 2;
  // Limits for the whole script.
  uint64_t deadline_ms = 60000;       // wall clock (0 = none)
  uint64_t max_output_bytes = 64u << 20;  // all commands' stdout+stderr together (0 = none)
  uint64_t max_commands = 10000;      // commands started (builtins included)
  uint64_t max_memory_bytes = 1ull << 30;  // per tool instance
  // One `shell_command` JSON record per command (docs/shell.md "Audit"). Null: none.
  std::shared_ptr<audit::Sink> audit;
  std::string invocation_id;  // joins the records; generated when empty
};

struct Outcome {
  int exit_code = 0;
  uint64_t commands = 0;
};

// Parses and runs `text`. Parse errors and exhausted script limits are errors
// (invalid_argument, deadline_exceeded, output_limit); a command's failure is its exit status.
Result<Outcome> run_script(const std::string& text, Options options);

}  // namespace wasmcap::shell

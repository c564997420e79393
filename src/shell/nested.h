// `sh` and `bash` inside `wasmcap sh`, and scripts run by path (`./tool.py`): what their
// command lines and `#!` lines ask for (docs/shell.md "Nested shells and #! scripts"). Pure
// parsing of hostile text; exec.cc runs the result in the same sandbox.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "wasmcap/error.h"

namespace wasmcap::shell {

// Nested shells (sh -c '...' inside sh -c '...') at most this deep. Each level is a parse and a
// recursion of the executor on the host's stack; past it the command fails with status 2.
// Threat: `sh -c "$0 -c ..."`-style self-recursion growing the host stack without end.
constexpr size_t kMaxNestedShells = 16;

// A `#!` line is read up to this many bytes (Linux reads 256 for binfmt_script); a longer one
// is refused. Threat: a script's first "line" being its whole (huge) content.
constexpr size_t kMaxShebangBytes = 256;

// What `sh|bash [OPTIONS] [-c SCRIPT [NAME [ARGS...]] | FILE [ARGS...]]` asks for.
struct NestedInvocation {
  enum class Source { kString, kFile, kStdin };
  Source source = Source::kStdin;
  std::string text;  // the -c script, or the FILE (a guest path)
  std::string arg0;  // $0: NAME after -c SCRIPT, else FILE, else the shell's name
  std::vector<std::string> args;  // $1...
  // `set` options in order: a letter (`-e`, `+x`) or a name (`-o pipefail`), and on/off.
  std::vector<std::pair<std::string, bool>> options;
  bool interactive = false;  // -i: an expansion error abandons its line only (bash -i)
};

// -c, -s and -i, and the options `set` takes (`-e -u -x ...`, `-o NAME`, `+` turning one off) for
// which `settable` is true (null: none). Any other option is refused, naming it: a nested shell
// that silently ignored an option (-e) would run on past failures the script meant to stop at.
Result<NestedInvocation> parse_nested_argv(
    const std::vector<std::string_view>& argv,
    const std::function<bool(std::string_view)>& settable = nullptr);

// What a `#!` line asks for: run `interpreter` (a command name: the last component of the
// path, or with `/usr/bin/env NAME` the NAME) with `arg` (optional) before the script's path.
struct Shebang {
  std::string interpreter;
  std::string arg;  // "" when the line has no argument
};

// `head`: the file's first bytes (at most kMaxShebangBytes + 1 of them). No `#!`: nullopt-like
// empty interpreter (the file is a shell script, as sh runs a file without one). Errors: a line
// longer than kMaxShebangBytes, a relative interpreter path, `env` without a name or with
// options.
Result<Shebang> parse_shebang(std::string_view head);

}  // namespace wasmcap::shell

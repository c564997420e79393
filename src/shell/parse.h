// The shell's front end: lexer (lex.h) + parser for the grammar of docs/shell.md. It knows
// nothing about WASI, tools or files: it turns text into an AST (ast.h) or a parse error naming
// the construct it does not support.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "shell/ast.h"
#include "wasmcap/error.h"

namespace wasmcap::shell {

class Budget;  // budget.h

// Command substitutions may nest at most this deep (`$(a $(b $(c)))` is 3): the executor holds
// a capture pipe and a reader thread per level.
inline constexpr int kMaxSubstitutionDepth = 16;

// Every kind of nesting together (compound commands, groups, subshells, substitutions, ${...}
// operands, quotes inside them) at most this deep. Threat: `((((((...` or `{ { { ...` 100,000
// levels deep: the parser and the executor recurse once per level, and a hostile script must
// not overflow the host stack.
inline constexpr int kMaxNestingDepth = 200;

// Parses a whole script. Errors are kInvalidArgument "line L: ..." naming the construct.
// `incomplete` (optional) is set when the text ends inside a construct that more input could
// finish: an open quote, `$(`, `${` or backtick, a trailing `|`, `&&` or `||`, an open compound
// command (`if` without `fi`, `{` without `}`, ...), a here-document whose delimiter line has
// not come yet, or a final line continuation (`\` + newline; the parse itself succeeds then).
// The interactive shell reads another line.
//
// `budget` (optional, budget.h): the script's nodes and text are charged to it as they are made
// (an estimate that covers containers' growth), so a huge script cannot make the parser hold
// many times its size unbounded. On success `*charged` (required with a budget) is what the
// caller releases when it drops the Script; on failure nothing stays charged. A function's body
// is charged apart: it releases its own charge when the last holder drops it (it may outlive the
// Script), so the budget must outlive every body parsed against it. Past the budget
// the error is kMemoryLimit, past the budget's deadline kDeadlineExceeded.
Result<Script> parse(const std::string& text, bool* incomplete = nullptr, Budget* budget = nullptr,
                     uint64_t* charged = nullptr);

}  // namespace wasmcap::shell

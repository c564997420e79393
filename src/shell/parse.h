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

// Alias expansion (parse_unit) is bounded per complete command: the bytes of alias values put
// into the text, the bytes of text moved to make room for them, and how many aliases may be
// being expanded at once (each a different one). Threat: `alias a='b b b b '` chains and long
// values that make the parser re-read a growing text without end.
inline constexpr uint64_t kMaxAliasBytes = uint64_t{1} << 20;
inline constexpr uint64_t kMaxAliasMoved = uint64_t{64} << 20;
inline constexpr size_t kMaxAliasDepth = 100;

// Reads a script one complete command at a time, as bash does when it expands aliases: a line,
// or the lines an open construct on it spans (here-document bodies included), parsed with the
// aliases given at that moment (null: none), so that an alias defined by one command applies
// from the next line on. An alias' value that holds newlines makes more than one command;
// what is left of it is read next. Every parse is charged to `budget` as parse() does.
class UnitReader {
 public:
  UnitReader(const std::string& text, size_t pos, int line, Budget* budget);
  ~UnitReader();
  bool done() const;
  // The next command (its items; none at the end of the text), `*charged` as parse()'s.
  Result<Script> next(const AliasTable* aliases, uint64_t* charged);
  int line() const { return line_; }

 private:
  struct Carry;
  const std::string& text_;
  size_t pos_;  // the text's bytes before it are in buf_ or were read
  int line_;
  Budget* budget_;
  std::string buf_;  // what is read next (with the aliases of the last command expanded)
  std::unique_ptr<Carry> carry_;  // the aliases being expanded across commands
};

}  // namespace wasmcap::shell

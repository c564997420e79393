// The shell's front end: lexer + parser for the POSIX sh subset of docs/shell.md. It knows
// nothing about WASI, tools or files: it turns text into an AST or a parse error naming the
// construct it does not support.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "wasmcap/error.h"

namespace wasmcap::shell {

struct Script;
class Budget;  // budget.h

// Command substitutions may nest at most this deep (`$(a $(b $(c)))` is 3): bounds the
// parser's recursion and the executor's (each level holds a capture pipe and a reader thread).
inline constexpr int kMaxSubstitutionDepth = 16;

// A word is a sequence of parts; quoting is kept per part so the executor knows what may be
// split (unquoted variables and substitutions) and globbed (unquoted literal * ? [).
struct WordPart {
  enum class Kind { kLiteral, kVar, kSubst };
  Kind kind = Kind::kLiteral;
  std::string text;  // literal text, the variable name ("?" for $?), or kSubst: the source
                     // text between "$(" and ")"
  bool quoted = false;
  std::shared_ptr<const Script> script{};  // kSubst: the parsed inner script
};

struct Word {
  std::vector<WordPart> parts;
};

struct Redirect {
  enum class Op { kOut, kAppend, kIn, kDup };  // >  >>  <  N>&M
  int fd = 1;
  Op op = Op::kOut;
  Word target;     // kOut / kAppend / kIn
  int dup_to = 1;  // kDup
};

struct Command {
  std::vector<std::pair<std::string, Word>> assigns;  // NAME=value prefixes
  std::vector<Word> words;
  std::vector<Redirect> redirects;
};

struct Pipeline {
  std::vector<Command> commands;
};

struct AndOr {
  std::vector<Pipeline> pipelines;
  std::vector<bool> and_ops;  // between pipelines[i] and [i+1]: true = &&, false = ||
};

struct Script {
  std::vector<AndOr> items;  // separated by ';' or newlines
};

// Parses a whole script. Errors are kInvalidArgument "line L: ..." naming the construct.
// `incomplete` (optional) is set when the text ends inside a construct that more input could
// finish: an open quote or `$(`, a trailing `|`, `&&` or `||`, or a final line continuation
// (`\` + newline; the parse itself succeeds then). The interactive shell reads another line.
//
// `budget` (optional, budget.h): the script's nodes and text are charged to it as they are made
// (an estimate that covers containers' growth), so a huge script cannot make the parser hold
// many times its size unbounded. On success `*charged` (required with a budget) is what the
// caller releases when it drops the Script; on failure nothing stays charged. Past the budget
// the error is kMemoryLimit, past the budget's deadline kDeadlineExceeded.
Result<Script> parse(const std::string& text, bool* incomplete = nullptr, Budget* budget = nullptr,
                     uint64_t* charged = nullptr);

}  // namespace wasmcap::shell

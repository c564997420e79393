// Pathname expansion (docs/shell.md "Grammar"): the fields word expansion (expand.cc) builds,
// globbed against the preopened trees.
#pragma once

#include <string>

#include "shell/state.h"

namespace wasmcap::shell {

// One field of a word being expanded: its text and, per byte, whether it may glob.
struct Field {
  explicit Field(Budget* b) : text(BudgetAlloc<char>(b)), glob(BudgetAlloc<bool>(b)) {}
  Str text;
  Vec<bool> glob;    // per byte: an unquoted * ? [ ] - ! ^, or an expansion's backslash
  bool any = false;  // the field exists even if empty (quoted "")
};

// Expands the glob characters of `f` against the tree (bash semantics without options: sorted,
// dotfiles only by an explicit '.', no match = the word unchanged) and appends the words to
// `out`. Threat: products like `*/../*/../*`: every candidate list is charged and capped at the
// word cap, and every directory entry read is a deadline check.
// `utf8`: `?` and brackets match a UTF-8 character (a UTF-8 locale), else a byte. From `st`:
// the working directory, `shopt -s extglob` (groups), `shopt -s failglob` (no match throws
// LimitHit "no match: WORD": the command fails with status 1, as bash's) and `shopt
// globskipdots` (on by default: `.` and `..` are never matched; off, a pattern with an explicit
// leading '.' matches them too, `.*`).
void glob(Ctx& ctx, const State& st, bool utf8, Field& f, Vec<Str>& out);

}  // namespace wasmcap::shell

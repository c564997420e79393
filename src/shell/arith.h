// Shell arithmetic (`$(( ))`, `(( ))`, `for ((;;))`, `let`, indexed arrays' subscripts) as bash
// evaluates it. A pure module: it reads and writes variables only through ArithEnv, which the
// executor implements.
//
// Semantics (bash's): 64-bit signed integers that wrap (INT64_MIN / -1 is INT64_MIN, % -1 is 0,
// shifts count modulo 64); every C operator with bash's precedence and associativity, `**`
// (right-associative, binding less tightly than unary minus: -3**2 is 9, a negative exponent is
// an error); `&&`, `||` and `?:` evaluate only the branch taken (the other is parsed, with no
// assignments, lookups or errors); literals decimal, octal `017`, hex `0x1F`, `base#digits`
// (base 2..64, digits 0-9 a-z A-Z @ _); a variable's value is itself an expression, evaluated
// when referenced (unset or empty is 0); `a[expr]` elements through ArithEnv. Errors are values
// with bash's messages: `1/0 : division by 0 (error token is "0 ")`, with the untrusted text in
// them escaped (non-printable bytes as \xNN).
//
// Why ours: no well-kept C/C++ library evaluates bash's arithmetic (its literal forms, lvalues,
// recursive variable evaluation, error texts) bounded against hostile input.
//
// Bounds: nesting (parentheses, unary operators, ternaries, a variable whose value refers to
// another) is at most ArithLimits::max_depth deep (bash's "expression recursion level exceeded";
// this also bounds the C++ stack), and an evaluation lexes at most max_steps tokens in all its
// nested evaluations (a chain of variables `x1=x0+x0, x2=x1+x1, ...` would otherwise cost 2^n).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "wasmcap/error.h"

namespace wasmcap::shell {

// The element of an array an expression names: `a[i]` with i evaluated (indexed arrays; a
// negative index counts from the end, as the executor decides) or, when ArithEnv::is_assoc says
// so, the subscript's text as the key.
struct ArrayKey {
  bool assoc = false;
  int64_t index = 0;
  std::string key;
};

// The variables an expression reads and writes. An error from any method (an unset variable
// under `set -u`, a readonly one) stops the evaluation and is returned as it is.
class ArithEnv {
 public:
  virtual ~ArithEnv() = default;
  // A scalar's value (for an array, its element 0), nullopt when unset.
  virtual Result<std::optional<std::string>> get(std::string_view name) = 0;
  virtual Result<void> set(std::string_view name, int64_t value) = 0;
  virtual bool is_assoc(std::string_view /*name*/) { return false; }
  virtual Result<std::optional<std::string>> get_element(std::string_view name,
                                                         const ArrayKey& key) = 0;
  virtual Result<void> set_element(std::string_view name, const ArrayKey& key, int64_t value) = 0;
};

struct ArithLimits {
  // Nesting depth (bash allows 1024; a lower bound keeps the C++ stack small in pipeline
  // threads, and no real script nests this deep).
  int max_depth = 256;
  // Tokens lexed in one evaluation, nested variable evaluations included.
  uint64_t max_steps = 1'000'000;
};

// Evaluates `expr` (already expanded: `$x` and `$(...)` replaced, quotes removed). The empty or
// blank expression is 0. Errors: kInvalidArgument with bash's message (syntax, division by 0,
// bad constants, assignment to a non-variable, recursion too deep), kFuelExhausted past
// max_steps, or the environment's own error.
Result<int64_t> eval_arith(std::string_view expr, ArithEnv& env, const ArithLimits& limits = {});

// Parses an integer constant as bash's arithmetic does (`017`, `0x1F`, `36#z`, wrapping on
// overflow); for callers that convert a single number (test's -eq operands use plain decimal
// instead). Errors as eval_arith's.
Result<int64_t> parse_arith_constant(std::string_view token);

}  // namespace wasmcap::shell

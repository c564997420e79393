// `expr` (docs/shell.md "Commands"): GNU coreutils' expr, evaluated by the shell. Its `:` and
// `match` read a POSIX basic regular expression (GNU's dialect: \( \) \{ \} \| \+ \?), translated
// to the extended syntax and matched by the shell's bounded matcher (regex.h, RE2: time linear
// in the string, memory capped) instead of the C library's, which has no bound on either.
//
// What differs from GNU's (which computes with arbitrary precision through GMP): arithmetic is
// in 64-bit integers, and a result or an operand of + - * / % beyond them is refused (status 3)
// rather than wrapped; comparisons, `substr` and the null test read integers of any length, as
// GNU's. Back-references (\1) are refused (status 2: regex.h has none); a regex that does not
// compile is status 2 with regex.h's message where GNU prints glibc's. Strings are bytes (the C
// locale).
//
// Bounds: nesting (parentheses, and the prefix operators length/match/index/substr/+) at most
// kMaxExprDepth levels; the regex's own bounds are regex.h's.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace wasmcap::shell {

inline constexpr size_t kMaxExprDepth = 1024;

struct ExprResult {
  std::string out;  // the value and a newline, or nothing after an error
  std::string err;  // "expr: ..." lines
  int status = 0;   // 0 value neither null nor 0, 1 null or 0, 2 invalid expression, 3 other error
};

// argv without the command name: `expr ARGS...`.
ExprResult eval_expr(const std::vector<std::string_view>& args);

// A GNU basic regular expression as the extended syntax regex.h reads, and its number of
// \( groups. Exposed for the tests.
struct TranslatedBre {
  std::string ere;
  size_t groups = 0;
};
TranslatedBre translate_bre(std::string_view bre);

}  // namespace wasmcap::shell

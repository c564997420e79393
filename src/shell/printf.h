// The printf builtin's format language, `echo -e`'s escapes and `%q`'s shell quoting, as bash's.
// A pure module: it returns the output as a string and the messages for stderr; the executor
// writes them.
//
// printf: conversions `%d %i %o %u %x %X %f %F %e %E %g %G %a %A %c %s %b %q %(fmt)T %%`; flags
// `- + space # 0 '`; width and precision as digits or `*` (an argument; a negative width
// left-justifies); length modifiers (`l ll h j z t L`) accepted and ignored. The format is
// reused until the arguments are consumed; missing arguments are "" or 0. Numeric arguments
// are C constants (`10`, `0x1F`, `017`, leading blanks allowed) or `'c` / `"c` (the character's
// code); a bad one is "invalid number" with status 1 while the output goes on (its valid prefix
// is used), an out-of-range one a warning with the value clamped (bash). Escapes in the format:
// `\a \b \e \E \f \n \r \t \v \\ \" \' \? \NNN \xHH \uHHHH \UHHHHHHHH`; `%b` expands an
// argument's escapes as `echo -e` does plus `\NNN`, and its `\c` ends all output.
//
// Why ours: the C library's printf takes a va_list, not strings, and knows neither `%b`, `%q`,
// nor bash's argument conversion and format reuse; no well-kept library implements them. Only
// the formatting of one number is delegated to snprintf, after its width and precision are
// checked against the output bound.
//
// Bounds: the output is at most PrintfOptions::max_output bytes (past it kOutputLimit, before
// anything that large is formatted or allocated: `%999999999d` is refused, not padded); the
// messages are at most kMaxPrintfMessages, each quoting at most 64 bytes of an argument, escaped.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "wasmcap/error.h"

namespace wasmcap::shell {

inline constexpr size_t kMaxPrintfMessages = 100;

struct PrintfOptions {
  // Characters are UTF-8 (a UTF-8 locale): `\u` and `\U` encode UTF-8 (in the C locale a code
  // point above 0x7F prints as the escape `\u00E9`), `%q` keeps printable non-ASCII characters,
  // `'c` is the code point of a UTF-8 character.
  bool utf8 = false;
  size_t max_output = 1 << 20;
  // For `%(fmt)T`: the argument -1 (or none) is `now`, -2 is `shell_start` (seconds since the
  // epoch); times are shown in UTC (the host's time zone is not the script's business, and
  // reading it would be I/O).
  int64_t now = 0;
  int64_t shell_start = 0;
};

struct PrintfOutput {
  std::string out;
  // 0, or 1 when an argument was not a number or the format was malformed (bash's status).
  int status = 0;
  // For stderr, each without the "printf: " prefix, untrusted text escaped:
  // "abc: invalid number", "`%z': missing format character".
  std::vector<std::string> messages;
};

// Formats `args` by `format`. Errors: kOutputLimit past max_output.
Result<PrintfOutput> format_printf(std::string_view format, const std::vector<std::string>& args,
                                   const PrintfOptions& opts = {});

// `echo -e`'s escapes in one argument: `\a \b \c \e \E \f \n \r \t \v \\ \0NNN \xHH \uHHHH
// \UHHHHHHHH`, anything else kept with its backslash. `\c` ends the output: *stop is set and
// what came before it is returned; echo prints nothing after it (no newline either).
std::string echo_escapes(std::string_view arg, bool utf8, bool* stop);

// `%q` / `${x@Q}`-style quoting: `s` as one shell word that reads back as `s`: '' for the empty
// string, $'...' when it holds a control or (in the C locale) non-ASCII byte, otherwise each
// special character backslash-escaped (`a\ b\'c`).
std::string shell_quote(std::string_view s, bool utf8);

}  // namespace wasmcap::shell

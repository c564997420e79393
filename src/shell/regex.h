// `[[ s =~ re ]]`'s regular expressions: POSIX extended regular expressions as bash reads them
// (glibc's dialect: GNU's \w \W \s \S \b \B \` \' escapes, `{,m}`, stacked repetition), matched
// leftmost-longest, with BASH_REMATCH's groups.
//
// Why RE2 and not the C library's regcomp/regexec (bash's own engine): glibc's matcher has no
// bound on time or memory. Its DFA grows a state per subject position for regexes like
// `(a|b)*a(a|b){20}` (a 4 MB subject took 2.9 GB and ran past 13 minutes, and nothing can
// interrupt it), and its compiler's epsilon closures are quadratic in the regex (`(){2000}`:
// 65 MB; a 98-byte regex found by fuzzing: past 2 GB). RE2 (a well-kept library) guarantees time
// linear in the subject and memory bounded by an option; what it reads differently from POSIX
// (a backslash inside brackets, collating elements, `{,m}`, GNU escapes) is translated here, and
// what it cannot do (back-references, GNU's \< \>) is refused with a message.
//
// Bounds, each an error (status 2) rather than a cost to the host:
// - the regex is at most kMaxRegexBytes long and compiles within kRegexMemory (RE2's max_mem:
//   the program and the DFA's cache; past the cache RE2 falls back to its NFA);
// - a repetition counts at most 1000 and nested repetitions multiply to at most 1000 (RE2's);
// - a match costs at most kMaxRegexWork: the subject's bytes times the program's instructions
//   (the NFA's worst case; about a second).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "wasmcap/error.h"

namespace wasmcap::shell {

inline constexpr size_t kMaxRegexBytes = 4096;
inline constexpr int64_t kRegexMemory = 4 << 20;
inline constexpr uint64_t kMaxRegexWork = uint64_t{1} << 28;

// The search's result. `groups` (BASH_REMATCH) holds the whole match then each group ("" for one
// that did not take part); empty when there is no match.
struct RegexMatch {
  bool matched = false;
  std::vector<std::string> groups;
};

// Searches `regex` (POSIX ERE) in `subject`. A regex that does not compile, or is past the
// bounds above, is kInvalidArgument with a message (bash prints nothing for a bad regex; status 2
// either way).
Result<RegexMatch> regex_match(std::string_view subject, std::string_view regex,
                               bool ignore_case = false);

// `text` with every ERE special character escaped: how a caller passes the quoted parts of
// =~'s right side (`[[ $x =~ "a.b" ]]` matches a literal dot).
std::string quote_regex(std::string_view text);

// The RE2 syntax `regex` (POSIX ERE) is translated to, or the reason it is refused. Exposed for
// the tests.
Result<std::string> translate_ere(std::string_view regex);

}  // namespace wasmcap::shell

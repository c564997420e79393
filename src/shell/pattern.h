// Shell pattern matching (`case`, `[[ == ]]`, pathname expansion, `${x#p}` `${x%p}` `${x/p/r}`)
// as bash does it: `*`, `?`, bracket expressions (`[abc] [a-z] [!x] [^x] []x] [[:alpha:]]`,
// `[[=a=]]`, `[[.a.]]`), backslash escapes. A pure module: no I/O, no executor state.
//
// Why ours: glibc's fnmatch backtracks exponentially (`*a*a*a*a*a*b` against 10,000 `a`s runs for
// hours), has no search forms (shortest/longest prefix, suffix, leftmost-longest) and knows
// nothing of a work bound; no well-kept C/C++ library implements bash's pattern semantics bounded
// against hostile input. Here a pattern compiles to a flat program of one-character steps and
// stars, and every form runs one forward pass of a position-set (NFA) simulation over the
// subject: at most (subject characters + 1) x (pattern steps + 1) steps, whatever the pattern.
//
// Bounds: a pattern is at most PatternOptions::max_pattern_bytes long (compile fails past it);
// every match charges its steps to a MatchWork the caller gives, and fails (kFuelExhausted) past
// the work's limit instead of running on; replace() fails (kMemoryLimit) past its output bound.
//
// Quoting: the caller marks quoted characters by escaping them with a backslash, as bash does
// internally: the quoted word "*.c" becomes the pattern `\*.c` (quote_pattern() does this for a
// whole quoted string). An unescaped backslash escapes the next character; a trailing backslash
// is a literal backslash.
//
// Bracket expressions: `]` first (after an optional `!` or `^`) is a member; `a-z` a range by
// character value; `-` first or last is a member; a backslash escapes a member; classes are the
// twelve POSIX ones plus bash's `word` (ASCII only; an unknown class matches nothing);
// `[=c=]` and `[.c.]` are the character c. A bracket without its closing `]` is a literal `[`
// (bash). In the default C mode characters are bytes; with `utf8` (bash in a UTF-8 locale) `?`,
// `*` and brackets step over one UTF-8 character at a time and invalid bytes stand for
// themselves.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "wasmcap/error.h"

namespace wasmcap::shell {

// The longest pattern compile() takes by default: a pattern longer than this is a mistake or an
// attack (memory for its program, steps per subject character).
inline constexpr size_t kMaxPatternBytes = 64 * 1024;
// How deep extglob groups may nest (the compiler recurses once per level).
inline constexpr int kMaxGroupDepth = 64;

struct PatternOptions {
  // Pathname expansion: `*`, `?` and brackets never match `/`, nor a `.` at the start of the
  // subject or after a `/` (only a literal, possibly escaped, `.` does).
  bool pathname = false;
  // Characters are UTF-8 sequences instead of bytes (see above).
  bool utf8 = false;
  // ASCII letters match either case (bash's nocasematch / nocaseglob).
  bool ignore_case = false;
  // bash's extglob: `?(p|q)` (zero or one), `*(p|q)` (zero or more), `+(p|q)` (one or more),
  // `@(p|q)` (exactly one), `!(p|q)` (any text none of them matches). Groups compile to
  // split/jump steps (a Thompson NFA: still one pass, no backtracking); a `!( )` group runs, from
  // each offset a thread reaches it, a simulation of its own of the group, which says at each
  // later offset whether the text so far is one the group matches. Every such thread charges
  // the work at every character, so their number and memory are bounded by the work limit.
  // A group without its `)` is literal text; groups nest at most kMaxGroupDepth deep.
  bool extglob = false;
  size_t max_pattern_bytes = kMaxPatternBytes;
};

// The work one or more matches may do: one unit per live pattern position per subject
// character. A caller gives each expansion (or each script) a limit; past it a match fails with
// kFuelExhausted instead of running on.
class MatchWork {
 public:
  explicit MatchWork(uint64_t limit) : limit_(limit) {}
  uint64_t used() const { return used_; }
  uint64_t limit() const { return limit_; }
  // Adds `steps`; an error (kFuelExhausted) once the total exceeds the limit.
  Result<void> charge(uint64_t steps);

 private:
  uint64_t limit_;
  uint64_t used_ = 0;
};

// [begin, end) byte offsets into the subject.
struct Span {
  size_t begin = 0;
  size_t end = 0;
};

class Pattern {
 public:
  // Compiles `text` (quoted characters backslash-escaped). Fails only past max_pattern_bytes
  // (kInvalidArgument): every text is a pattern, malformed brackets being literal.
  static Result<Pattern> compile(std::string_view text, const PatternOptions& opts = {});

  // True when the pattern has no `*`, `?` or bracket expression: it matches only literal().
  bool is_literal() const;
  // The text a literal pattern matches (escapes removed; with ignore_case, in lower case).
  std::string literal() const;
  // True for the empty pattern (it matches only the empty string).
  bool empty() const { return steps_.empty(); }

  // Whole match: `case`, `[[ s == p ]]`, one pathname component.
  Result<bool> match(std::string_view s, MatchWork& work) const;

  enum class Length { kShortest, kLongest };
  // `${x#p}` (shortest) / `${x##p}` (longest): the length of the matching prefix, or nullopt.
  Result<std::optional<size_t>> match_prefix(std::string_view s, Length which,
                                             MatchWork& work) const;
  // `${x%p}` (shortest) / `${x%%p}` (longest): where the matching suffix starts, or nullopt.
  Result<std::optional<size_t>> match_suffix(std::string_view s, Length which,
                                             MatchWork& work) const;
  // `${x/p/r}`: the leftmost match starting at or after `from` (a character boundary), the
  // longest one there; nullopt when none (or `from` is past the end).
  Result<std::optional<Span>> find(std::string_view s, size_t from, MatchWork& work) const;

  // One compiled step (public for the matcher in pattern.cc; callers need not look inside).
  struct Step {
    // kSplit and kJump consume nothing (to `value` and `alt` / to `value`); kNot consumes any
    // text its sub-pattern (subs_[value]) does not match.
    enum class Kind : uint8_t { kChar, kAny, kStar, kSet, kSplit, kJump, kNot };
    Kind kind = Kind::kChar;
    uint32_t value = 0;  // kChar: the character; kSet: index into sets_; kSplit, kJump: a step
    uint32_t alt = 0;    // kSplit: the other step
  };
  struct Set {
    uint64_t ascii[2] = {0, 0};                          // members below 128
    std::vector<std::pair<uint32_t, uint32_t>> ranges;  // other members, inclusive ranges
    bool negated = false;
    bool contains(uint32_t c) const;
  };

 private:
  friend class PatternCompiler;
  friend class PatternMatcher;
  PatternOptions opts_;
  std::vector<Step> steps_;
  std::vector<Set> sets_;
  std::vector<std::shared_ptr<const Pattern>> subs_;  // the groups of `!( )`
};

// `${x/p/r}` (kFirst), `${x//p/r}` (kAll), `${x/#p/r}` (kPrefix), `${x/%p/r}` (kSuffix): `s`
// with the longest match(es) replaced by `rep`. An empty pattern replaces nothing in kFirst and
// kAll, and matches the empty prefix/suffix in kPrefix/kSuffix (bash). Fails (kMemoryLimit) when
// the result would exceed `max_out` bytes.
//
// `match_at` is for bash's patsub_replacement (on by default): the offsets in `rep` where the
// matched text goes, ascending and at most rep.size(). The caller removes each unquoted `&` from
// the replacement and records its offset (a quoted or backslash-escaped `&` stays in `rep`):
// `${x/b/[&]}` on abc is `replace(p, "abc", "[]", kFirst, w, max, {1})`, giving a[b]c.
enum class ReplaceMode { kFirst, kAll, kPrefix, kSuffix };
Result<std::string> replace(const Pattern& p, std::string_view s, std::string_view rep,
                            ReplaceMode mode, MatchWork& work, size_t max_out,
                            const std::vector<size_t>& match_at = {});

// True when `word` (quoted characters backslash-escaped) has an unescaped `*` or `?`, or a
// bracket expression that closes: it is a pattern rather than a literal (bash's test before
// pathname expansion).
// With `extglob`, a closed group counts too.
bool has_glob_chars(std::string_view word, bool extglob = false);

// `text` with every character that means something in a pattern (`\ * ? [ ]`, and the group
// characters of extglob `( ) | + @ !`) escaped: how a caller passes quoted text into a pattern.
std::string quote_pattern(std::string_view text);

}  // namespace wasmcap::shell

// Shell pattern matching (pattern.h): a compiler from pattern text to steps, and one matcher that
// simulates the steps as a set of live positions over the subject, so no pattern can make it
// backtrack.
#include "shell/pattern.h"

#include <algorithm>
#include <limits>

#include "shell/utf8.h"

namespace wasmcap::shell {

namespace {

// Characters that stand for a raw byte that is not part of valid UTF-8 (utf8 mode): above every
// code point, so they only ever equal the same raw byte.
constexpr uint32_t kRawByteBase = 0x110000;
constexpr size_t kDead = std::numeric_limits<size_t>::max();

struct Char {
  uint32_t value;
  size_t len;
};

// One character at s[i]: a byte, or (utf8) a UTF-8 sequence, an invalid byte standing for
// itself above every code point.
Char decode(std::string_view s, size_t i, bool utf8) {
  if (!utf8) return {static_cast<unsigned char>(s[i]), 1};
  utf8::Char c = utf8::decode(s, i);
  return {c.valid ? c.value : kRawByteBase + c.value, c.len};
}

uint32_t fold(uint32_t c) { return c >= 'A' && c <= 'Z' ? c + 32 : c; }

bool in_class(std::string_view name, unsigned c) {
  if (name == "alnum") return (c >= '0' && c <= '9') || fold(c) - 'a' < 26;
  if (name == "alpha") return fold(c) - 'a' < 26;
  if (name == "blank") return c == ' ' || c == '\t';
  if (name == "cntrl") return c < 0x20 || c == 0x7F;
  if (name == "digit") return c >= '0' && c <= '9';
  if (name == "graph") return c > 0x20 && c < 0x7F;
  if (name == "lower") return c >= 'a' && c <= 'z';
  if (name == "print") return c >= 0x20 && c < 0x7F;
  if (name == "punct") {
    return c > 0x20 && c < 0x7F && !((c >= '0' && c <= '9') || fold(c) - 'a' < 26);
  }
  if (name == "space") return c == ' ' || (c >= '\t' && c <= '\r');
  if (name == "upper") return c >= 'A' && c <= 'Z';
  if (name == "xdigit") return (c >= '0' && c <= '9') || fold(c) - 'a' < 6;
  if (name == "word") return c == '_' || (c >= '0' && c <= '9') || fold(c) - 'a' < 26;
  return false;  // an unknown class matches nothing (bash)
}

void set_add(Pattern::Set* set, uint32_t lo, uint32_t hi) {
  if (set == nullptr || lo > hi) return;
  for (uint32_t c = lo; c <= hi && c < 128; ++c) set->ascii[c / 64] |= uint64_t{1} << (c % 64);
  if (hi >= 128) set->ranges.emplace_back(std::max<uint32_t>(lo, 128), hi);
}

// One member of a bracket expression at text[i]: a character (plain, escaped, or `[.c.]` /
// `[=c=]`) or a class `[:name:]`.
struct Member {
  enum class Kind { kChar, kClass, kNothing, kPoison } kind = Kind::kChar;
  uint32_t value = 0;
  std::string_view class_name;
  size_t next = 0;  // index after the member
};

}  // namespace

// Parses pattern text into steps (pattern.h describes the language).
class PatternCompiler {
 public:
  PatternCompiler(std::string_view text, const PatternOptions& opts) : t_(text), opts_(opts) {}

  // Fills `out` (or only scans, when null). Returns whether any step is not a literal character.
  bool run(Pattern* out) {
    bool magic = false;
    size_t i = 0;
    while (i < t_.size()) {
      char c = t_[i];
      if (c == '*') {
        magic = true;
        // Consecutive stars are one star: fewer positions to track, same language.
        if (out && (out->steps_.empty() || out->steps_.back().kind != Pattern::Step::Kind::kStar)) {
          out->steps_.push_back({Pattern::Step::Kind::kStar, 0});
        }
        ++i;
      } else if (c == '?') {
        magic = true;
        if (out) out->steps_.push_back({Pattern::Step::Kind::kAny, 0});
        ++i;
      } else if (c == '[' && bracket(i, out)) {
        magic = true;
      } else {
        if (c == '\\' && i + 1 < t_.size()) ++i;
        Char ch = decode(t_, i, opts_.utf8);
        if (out) out->steps_.push_back({Pattern::Step::Kind::kChar, literal_value(ch.value)});
        i += ch.len;
      }
    }
    return magic;
  }

 private:
  uint32_t literal_value(uint32_t c) const { return opts_.ignore_case ? fold(c) : c; }

  // A bracket expression at t_[i] ('['). When it closes, appends a kSet step (if `out`),
  // advances i past it and returns true; otherwise returns false and the '[' is literal.
  bool bracket(size_t& i, Pattern* out) {
    Pattern::Set set;
    Pattern::Set* s = out ? &set : nullptr;
    size_t q = i + 1;
    if (q < t_.size() && (t_[q] == '!' || t_[q] == '^')) {
      set.negated = true;
      ++q;
    }
    bool first = true;
    while (q < t_.size()) {
      if (t_[q] == ']' && !first) {
        if (out) {
          if (opts_.ignore_case) fold_set(set);
          out->sets_.push_back(std::move(set));
          out->steps_.push_back(
              {Pattern::Step::Kind::kSet, static_cast<uint32_t>(out->sets_.size() - 1)});
        }
        i = q + 1;
        return true;
      }
      first = false;
      Member m = member(q);
      q = m.next;
      if (m.kind == Member::Kind::kClass) {
        if (s) {
          for (unsigned c = 0; c < 128; ++c) {
            if (in_class(m.class_name, c)) set_add(s, c, c);
          }
        }
        continue;
      }
      if (m.kind == Member::Kind::kNothing) continue;
      if (m.kind == Member::Kind::kPoison) {
        // bash: an unterminated `[.` makes the pattern match nothing from here on.
        if (out) {
          out->sets_.emplace_back();
          out->steps_.push_back(
              {Pattern::Step::Kind::kSet, static_cast<uint32_t>(out->sets_.size() - 1)});
        }
        i = t_.size();
        return true;
      }
      // A range: `-` between two characters (a `-` before the closing `]` is a member).
      if (q + 1 < t_.size() && t_[q] == '-' && t_[q + 1] != ']') {
        Member hi = member(q + 1);
        if (hi.kind == Member::Kind::kChar) {
          set_add(s, m.value, hi.value);
          q = hi.next;
          continue;
        }
      }
      set_add(s, m.value, m.value);
    }
    return false;
  }

  Member member(size_t q) {
    Member m;
    if (t_[q] == '[' && q + 1 < t_.size() &&
        (t_[q + 1] == ':' || t_[q + 1] == '=' || t_[q + 1] == '.')) {
      char kind = t_[q + 1];
      const char close[] = {kind, ']', '\0'};
      size_t end = t_.find(close, q + 2);
      if (end != std::string_view::npos) {
        std::string_view inner = t_.substr(q + 2, end - (q + 2));
        m.next = end + 2;
        if (kind == ':') {
          m.kind = Member::Kind::kClass;
          m.class_name = inner;
          return m;
        }
        // `[=c=]` / `[.c.]`: in the C locale, exactly one character; a named collating
        // element (`[.hyphen.]`) matches nothing, as bash's does.
        Char ch = inner.empty() ? Char{0, 0} : decode(inner, 0, opts_.utf8);
        if (inner.empty() || ch.len != inner.size()) {
          m.kind = Member::Kind::kNothing;
        } else {
          m.value = ch.value;
        }
        return m;
      }
      // Unterminated, as bash: `[:` drops its `[`, `[.` poisons the pattern, `[=` is plain.
      if (kind == ':') {
        m.kind = Member::Kind::kNothing;
        m.next = q + 1;
        return m;
      }
      if (kind == '.') {
        m.kind = Member::Kind::kPoison;
        return m;
      }
    }
    if (t_[q] == '\\' && q + 1 < t_.size()) ++q;
    Char ch = decode(t_, q, opts_.utf8);
    m.value = ch.value;
    m.next = q + ch.len;
    return m;
  }

  static void fold_set(Pattern::Set& set) {
    for (uint32_t c = 'a'; c <= 'z'; ++c) {
      uint32_t up = c - 32;
      bool either = ((set.ascii[c / 64] >> (c % 64)) & 1) || ((set.ascii[up / 64] >> (up % 64)) & 1);
      if (either) {
        set.ascii[c / 64] |= uint64_t{1} << (c % 64);
        set.ascii[up / 64] |= uint64_t{1} << (up % 64);
      }
    }
  }

  std::string_view t_;
  const PatternOptions& opts_;
};

bool Pattern::Set::contains(uint32_t c) const {
  bool in = false;
  if (c < 128) {
    in = (ascii[c / 64] >> (c % 64)) & 1;
  } else {
    for (const auto& [lo, hi] : ranges) in = in || (c >= lo && c <= hi);
  }
  return in != negated;
}

Result<void> MatchWork::charge(uint64_t steps) {
  used_ += steps;
  if (used_ > limit_) {
    return make_error(ErrorCode::kFuelExhausted,
                      "pattern matching needs more than " + std::to_string(limit_) +
                          " steps (the shell's bound on one expansion's matching)");
  }
  return {};
}

Result<Pattern> Pattern::compile(std::string_view text, const PatternOptions& opts) {
  if (text.size() > opts.max_pattern_bytes) {
    return make_error(ErrorCode::kInvalidArgument,
                      "pattern too long: " + std::to_string(text.size()) + " bytes (at most " +
                          std::to_string(opts.max_pattern_bytes) + ")");
  }
  Pattern p;
  p.opts_ = opts;
  PatternCompiler(text, p.opts_).run(&p);
  return p;
}

bool Pattern::is_literal() const {
  return std::all_of(steps_.begin(), steps_.end(),
                     [](const Step& s) { return s.kind == Step::Kind::kChar; });
}

std::string Pattern::literal() const {
  std::string out;
  for (const Step& s : steps_) {
    if (s.kind != Step::Kind::kChar) continue;
    uint32_t c = s.value;
    if (c >= kRawByteBase) {
      out += static_cast<char>(c - kRawByteBase);
    } else if (c < 0x80 || !opts_.utf8) {
      out += static_cast<char>(c);
    } else {
      utf8::append(out, c);
    }
  }
  return out;
}

// The position-set simulation. Position k means "steps [0, k) matched"; position m (the number
// of steps) accepts. Each live position remembers one start offset: two threads at the same
// position have the same future, so keeping the smallest (leftmost / longest suffix) or the
// largest (shortest suffix) start loses no answer.
class PatternMatcher {
 public:
  enum class Keep { kMin, kMax };
  PatternMatcher(const Pattern& p, std::string_view s, Keep keep, MatchWork& work)
      : p_(p), s_(s), keep_(keep), work_(work), m_(p.steps_.size()),
        cur_(m_ + 1, kDead), next_(m_ + 1, kDead) {}

  void add(size_t k, size_t start) { add_to(cur_, k, start); }
  size_t accepted() const { return cur_[m_]; }
  bool any_live() const { return live_ != 0; }

  // Consumes the character at offset i; returns its length.
  Result<size_t> advance(size_t i) {
    WASMCAP_TRY(work_.charge(std::max<size_t>(live_, 1)));
    Char ch = decode(s_, i, p_.opts_.utf8);
    uint32_t c = p_.opts_.ignore_case ? fold(ch.value) : ch.value;
    bool special = p_.opts_.pathname && (c == '/' || (c == '.' && (i == 0 || s_[i - 1] == '/')));
    std::fill(next_.begin(), next_.end(), kDead);
    size_t live = 0;
    for (size_t k = 0; k < m_; ++k) {
      size_t start = cur_[k];
      if (start == kDead) continue;
      const Pattern::Step& st = p_.steps_[k];
      switch (st.kind) {
        case Pattern::Step::Kind::kStar:
          if (!special) live += add_to(next_, k, start);
          break;
        case Pattern::Step::Kind::kAny:
          if (!special) live += add_to(next_, k + 1, start);
          break;
        case Pattern::Step::Kind::kSet:
          if (!special && p_.sets_[st.value].contains(c)) live += add_to(next_, k + 1, start);
          break;
        case Pattern::Step::Kind::kChar:
          if (st.value == c) live += add_to(next_, k + 1, start);
          break;
      }
    }
    cur_.swap(next_);
    live_ = live;
    return ch.len;
  }

 private:
  // Merges `start` into position k (and, past a star, k + 1: a star may match nothing).
  // Returns how many positions became live.
  size_t add_to(std::vector<size_t>& set, size_t k, size_t start) {
    size_t added = 0;
    while (true) {
      size_t& slot = set[k];
      if (slot == kDead) ++added;
      if (slot == kDead || (keep_ == Keep::kMin ? start < slot : start > slot)) slot = start;
      if (k == m_ || p_.steps_[k].kind != Pattern::Step::Kind::kStar) break;
      ++k;
    }
    if (&set == &cur_) live_ += added;
    return added;
  }

  const Pattern& p_;
  std::string_view s_;
  Keep keep_;
  MatchWork& work_;
  size_t m_;
  std::vector<size_t> cur_, next_;
  size_t live_ = 0;
};

Result<std::optional<size_t>> Pattern::match_prefix(std::string_view s, Length which,
                                                    MatchWork& work) const {
  PatternMatcher m(*this, s, PatternMatcher::Keep::kMin, work);
  m.add(0, 0);
  std::optional<size_t> found;
  size_t i = 0;
  while (true) {
    if (m.accepted() != kDead) {
      found = i;
      if (which == Length::kShortest) return found;
    }
    if (i == s.size() || !m.any_live()) return found;
    size_t len{};
    WASMCAP_TRY_ASSIGN(len, m.advance(i));
    i += len;
  }
}

Result<bool> Pattern::match(std::string_view s, MatchWork& work) const {
  std::optional<size_t> longest{};
    WASMCAP_TRY_ASSIGN(longest, match_prefix(s, Length::kLongest, work));
  return longest == s.size();
}

Result<std::optional<size_t>> Pattern::match_suffix(std::string_view s, Length which,
                                                    MatchWork& work) const {
  // Longest suffix: the smallest start that reaches the end accepted; shortest: the largest.
  PatternMatcher m(*this, s, which == Length::kLongest ? PatternMatcher::Keep::kMin
                                                       : PatternMatcher::Keep::kMax,
                   work);
  size_t i = 0;
  while (true) {
    m.add(0, i);
    if (i == s.size()) break;
    size_t len{};
    WASMCAP_TRY_ASSIGN(len, m.advance(i));
    i += len;
  }
  if (m.accepted() == kDead) return std::nullopt;
  return m.accepted();
}

Result<std::optional<Span>> Pattern::find(std::string_view s, size_t from, MatchWork& work) const {
  if (from > s.size()) return std::nullopt;
  PatternMatcher m(*this, s, PatternMatcher::Keep::kMin, work);
  std::optional<Span> best;
  size_t i = from;
  while (true) {
    // New starts only until a match is known: a later start cannot be more leftmost.
    if (!best) m.add(0, i);
    size_t start = m.accepted();
    if (start != kDead && (!best || start < best->begin || (start == best->begin && i > best->end))) {
      best = Span{start, i};
    }
    if (i >= s.size() || (best && !m.any_live())) return best;
    size_t len{};
    WASMCAP_TRY_ASSIGN(len, m.advance(i));
    i += len;
  }
}

Result<std::string> replace(const Pattern& p, std::string_view s, std::string_view rep,
                            ReplaceMode mode, MatchWork& work, size_t max_out,
                            const std::vector<size_t>& match_at) {
  std::string out;
  auto append = [&](std::string_view piece) -> Result<void> {
    if (piece.size() > max_out - out.size()) {
      return make_error(ErrorCode::kMemoryLimit,
                        "pattern substitution result exceeds " + std::to_string(max_out) +
                            " bytes");
    }
    out.append(piece);
    return {};
  };
  // The replacement for the match s[begin, end): `rep` with the match at each of match_at.
  auto append_rep = [&](size_t begin, size_t end) -> Result<void> {
    size_t done = 0;
    for (size_t at : match_at) {
      at = std::min(std::max(at, done), rep.size());
      WASMCAP_TRY(append(rep.substr(done, at - done)));
      WASMCAP_TRY(append(s.substr(begin, end - begin)));
      done = at;
    }
    return append(rep.substr(done));
  };
  if (mode == ReplaceMode::kPrefix || mode == ReplaceMode::kSuffix) {
    std::optional<size_t> cut;
    if (mode == ReplaceMode::kPrefix) {
      WASMCAP_TRY_ASSIGN(cut, p.match_prefix(s, Pattern::Length::kLongest, work));
      if (!cut) return std::string(s);
      WASMCAP_TRY(append_rep(0, *cut));
      WASMCAP_TRY(append(s.substr(*cut)));
    } else {
      WASMCAP_TRY_ASSIGN(cut, p.match_suffix(s, Pattern::Length::kLongest, work));
      if (!cut) return std::string(s);
      WASMCAP_TRY(append(s.substr(0, *cut)));
      WASMCAP_TRY(append_rep(*cut, s.size()));
    }
    return out;
  }
  // An empty pattern replaces nothing (bash: ${x//} is $x).
  if (p.empty()) return std::string(s);
  size_t from = 0;
  while (from < s.size() || (from == 0 && s.empty())) {
    std::optional<Span> hit{};
    WASMCAP_TRY_ASSIGN(hit, p.find(s, from, work));
    if (!hit) break;
    WASMCAP_TRY(append(s.substr(from, hit->begin - from)));
    WASMCAP_TRY(append_rep(hit->begin, hit->end));
    from = hit->end;
    if (hit->end == hit->begin) {
      // An empty match (a star-only pattern at the end): nothing more to replace.
      break;
    }
    if (mode == ReplaceMode::kFirst) break;
  }
  if (from < s.size()) WASMCAP_TRY(append(s.substr(from)));
  return out;
}

bool has_glob_chars(std::string_view word) {
  PatternOptions opts;
  opts.max_pattern_bytes = std::numeric_limits<size_t>::max();
  return PatternCompiler(word, opts).run(nullptr);
}

std::string quote_pattern(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    if (c == '\\' || c == '*' || c == '?' || c == '[' || c == ']') out += '\\';
    out += c;
  }
  return out;
}

}  // namespace wasmcap::shell

// Shell pattern matching (pattern.h): a compiler from pattern text to steps, and one matcher that
// simulates the steps as a set of live positions over the subject, so no pattern can make it
// backtrack.
#include "shell/pattern.h"

#include <algorithm>
#include <limits>

#include "common/utf8.h"

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

  // Fills `out` (or only scans, when null). Returns whether any step is not a literal
  // character; fails past kMaxGroupDepth.
  Result<bool> run(Pattern* out) { return seq(0, t_.size(), out, 0); }

 private:
  // Compiles t_[i, end) (a whole pattern, or one alternative of a group).
  Result<bool> seq(size_t i, size_t end, Pattern* out, int depth) {
    bool magic = false;
    // Where the last group ended: a star right after one is not merged into a star before it
    // (a jump past the group lands between the two).
    size_t barrier = out ? out->steps_.size() : 0;
    while (i < end) {
      char c = t_[i];
      size_t close = 0;
      if (opts_.extglob && i + 1 < end && t_[i + 1] == '(' &&
          (c == '?' || c == '*' || c == '+' || c == '@' || c == '!') &&
          (close = group_end(i + 1, end)) != 0) {
        if (depth + 1 > kMaxGroupDepth) {
          return make_error(ErrorCode::kInvalidArgument,
                            "extended glob groups nested deeper than " +
                                std::to_string(kMaxGroupDepth));
        }
        magic = true;
        if (out) {
          WASMCAP_TRY(group(c, i + 2, close, out, depth + 1));
          barrier = out->steps_.size();
        } else {
          WASMCAP_TRY(seq(i + 2, close, nullptr, depth + 1));
        }
        i = close + 1;
      } else if (c == '*') {
        magic = true;
        // Consecutive stars are one star: fewer positions to track, same language.
        if (out && (out->steps_.size() == barrier ||
                    out->steps_.back().kind != Pattern::Step::Kind::kStar)) {
          out->steps_.push_back({Pattern::Step::Kind::kStar, 0});
        }
        ++i;
      } else if (c == '?') {
        magic = true;
        if (out) out->steps_.push_back({Pattern::Step::Kind::kAny, 0});
        ++i;
      } else if (c == '[' && bracket(i, end, out)) {
        magic = true;
      } else {
        if (c == '\\' && i + 1 < end) ++i;
        Char ch = decode(t_.substr(0, end), i, opts_.utf8);
        if (out) out->steps_.push_back({Pattern::Step::Kind::kChar, literal_value(ch.value)});
        i += ch.len;
      }
    }
    return magic;
  }

  // The ')' closing the group whose '(' is t_[open], or 0 when it does not close before `end`
  // (then its opening characters are literal, as bash's). A backslash escapes, a bracket
  // expression is one character (`@([)]|x)`), every '(' nests. Matched once for the whole
  // text (closes()), so a pattern of many unclosed groups is not scanned once per group.
  size_t group_end(size_t open, size_t end) {
    if (!closes_) {
      own_closes_.assign(t_.size(), 0);
      std::vector<uint32_t> stack;
      for (size_t i = 0; i < t_.size(); ++i) {
        char c = t_[i];
        size_t past = i;
        if (c == '\\') {
          ++i;
        } else if (c == '[' && bracket(past, t_.size(), nullptr)) {
          i = past - 1;
        } else if (c == '(') {
          stack.push_back(static_cast<uint32_t>(i));
        } else if (c == ')' && !stack.empty()) {
          own_closes_[stack.back()] = static_cast<uint32_t>(i);
          stack.pop_back();
        }
      }
      closes_ = &own_closes_;
    }
    size_t close = (*closes_)[open];
    return close < end ? close : 0;
  }

  // The alternatives of the group t_[i, close): [begin, end) ranges split at '|' outside
  // nested parentheses.
  std::vector<std::pair<size_t, size_t>> alternatives(size_t i, size_t close) {
    std::vector<std::pair<size_t, size_t>> alts;
    int open = 0;
    size_t from = i;
    for (; i < close; ++i) {
      char c = t_[i];
      size_t past = i;
      if (c == '\\') {
        ++i;
      } else if (c == '[' && bracket(past, close, nullptr)) {
        i = past - 1;
      } else if (c == '(') {
        ++open;
      } else if (c == ')') {
        --open;
      } else if (c == '|' && open == 0) {
        alts.emplace_back(from, i);
        from = i + 1;
      }
    }
    alts.emplace_back(from, close);
    return alts;
  }

  // Appends the steps of `kind(alternatives)` (a Thompson construction).
  Result<void> group(char kind, size_t i, size_t close, Pattern* out, int depth) {
    using K = Pattern::Step::Kind;
    auto& st = out->steps_;
    auto here = [&] { return static_cast<uint32_t>(st.size()); };
    if (kind == '!') {
      auto sub = std::make_shared<Pattern>();
      sub->opts_ = opts_;
      PatternCompiler inner(t_.substr(0, close), sub->opts_);
      inner.closes_ = closes_;
      // The sub-pattern is the group as `@( )`: the same alternatives.
      WASMCAP_TRY(inner.group('@', i, close, sub.get(), depth));
      out->subs_.push_back(std::move(sub));
      st.push_back({K::kNot, static_cast<uint32_t>(out->subs_.size() - 1)});
      return {};
    }
    size_t loop = st.size();
    if (kind == '?' || kind == '*') st.push_back({K::kSplit, here() + 1, 0});
    std::vector<size_t> jumps;
    auto alts = alternatives(i, close);
    for (size_t a = 0; a < alts.size(); ++a) {
      size_t split = st.size();
      bool last = a + 1 == alts.size();
      if (!last) st.push_back({K::kSplit, here() + 1, 0});
      WASMCAP_TRY(seq(alts[a].first, alts[a].second, out, depth));
      if (!last) {
        jumps.push_back(st.size());
        st.push_back({K::kJump, 0, 0});
        st[split].alt = here();
      }
    }
    for (size_t j : jumps) st[j].value = here();  // each alternative's end: what follows them
    if (kind == '*') st.push_back({K::kJump, static_cast<uint32_t>(loop), 0});
    if (kind == '+') st.push_back({K::kSplit, static_cast<uint32_t>(loop), here() + 1});
    if (kind == '?' || kind == '*') st[loop].alt = here();
    return {};
  }

  uint32_t literal_value(uint32_t c) const { return opts_.ignore_case ? fold(c) : c; }

  // A bracket expression at t_[i] ('['). When it closes, appends a kSet step (if `out`),
  // advances i past it and returns true; otherwise returns false and the '[' is literal.
  bool bracket(size_t& i, size_t end, Pattern* out) {
    std::string_view whole = t_;
    t_ = t_.substr(0, end);  // (a bracket never reaches past its alternative)
    bool closed = bracket_in(i, out);
    t_ = whole;
    return closed;
  }
  bool bracket_in(size_t& i, Pattern* out) {
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
  // closes_[k]: the ')' matching a '(' at k (0: none); shared with the compilers of `!( )`.
  const std::vector<uint32_t>* closes_ = nullptr;
  std::vector<uint32_t> own_closes_;
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
  WASMCAP_TRY(PatternCompiler(text, p.opts_).run(&p));
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
// largest (shortest suffix) start loses no answer. A `!( )` step (kNot) reached at offset o
// starts a negation thread: a matcher of its group from o; after each later character, when
// that matcher does not accept, the text since o is one the group does not match, and the
// thread's start moves on past the step. Threads started at different offsets have different
// futures and are kept apart, except once their group can match nothing more (then each
// matches every further end: one per step is kept).
class PatternMatcher {
 public:
  enum class Keep { kMin, kMax };
  PatternMatcher(const Pattern& p, std::string_view s, size_t pos, Keep keep, MatchWork& work)
      : p_(p), s_(s), keep_(keep), work_(work), m_(p.steps_.size()),
        cur_(m_ + 1, kDead), next_(m_ + 1, kDead), pos_(pos) {}

  // A thread at step k starting at `start`, at the current offset.
  Result<void> add(size_t k, size_t start) {
    WASMCAP_TRY_ASSIGN(live_, add_to(cur_, k, start, pos_, live_));
    return {};
  }
  size_t accepted() const { return cur_[m_]; }
  bool any_live() const { return live_ != 0 || !nots_.empty(); }

  // Consumes the character at the current offset; returns its length.
  Result<size_t> advance() {
    size_t i = pos_;
    WASMCAP_TRY(work_.charge(std::max<size_t>(live_ + nots_.size(), 1)));
    Char ch = decode(s_, i, p_.opts_.utf8);
    uint32_t c = p_.opts_.ignore_case ? fold(ch.value) : ch.value;
    bool special = p_.opts_.pathname && (c == '/' || (c == '.' && (i == 0 || s_[i - 1] == '/')));
    std::fill(next_.begin(), next_.end(), kDead);
    size_t at = i + ch.len;
    size_t live = 0;
    // The negation threads that take this character: those started before it (add_to below
    // starts new ones, at `at`, after them).
    const size_t n = nots_.size();
    for (size_t k = 0; k < m_; ++k) {
      size_t start = cur_[k];
      if (start == kDead) continue;
      const Pattern::Step& st = p_.steps_[k];
      bool step = false;
      size_t to = k + 1;
      switch (st.kind) {
        case Pattern::Step::Kind::kStar:
          step = !special;
          to = k;
          break;
        case Pattern::Step::Kind::kAny: step = !special; break;
        case Pattern::Step::Kind::kSet: step = !special && p_.sets_[st.value].contains(c); break;
        case Pattern::Step::Kind::kChar: step = st.value == c; break;
        default: break;  // consume nothing (their threads are in nots_)
      }
      if (step) WASMCAP_TRY_ASSIGN(live, add_to(next_, to, start, at, live));
    }
    // The negation threads: each group's matcher takes the character too.
    size_t keep = 0;
    for (size_t t = 0; t < n; ++t) {
      if (special) continue;  // `!( )` never matches a '/' or a leading '.' in a path name
      bool matches = false;
      if (nots_[t].sub) {
        auto moved = nots_[t].sub->advance();
        if (!moved) return tl::unexpected(moved.error());
        matches = nots_[t].sub->accepted() != kDead;
        if (!nots_[t].sub->any_live()) nots_[t].sub.reset();  // its group can match no more
      }
      if (!matches) {
        // (add_to may start threads: nots_ grows, so no reference into it is held across.)
        size_t step = nots_[t].step, start = nots_[t].start;
        WASMCAP_TRY_ASSIGN(live, add_to(next_, step + 1, start, at, live));
      }
      Not& th = nots_[t];
      if (!th.sub) {
        // One thread per step once its group is done: the one with the better start.
        bool dup = false;
        for (size_t u = 0; u < keep && !dup; ++u) {
          Not& other = nots_[u];
          if (other.sub || other.step != th.step) continue;
          dup = true;
          if (better(th.start, other.start)) other.start = th.start;
        }
        if (dup) continue;
      }
      if (keep != t) nots_[keep] = std::move(th);
      ++keep;
    }
    // Threads started during this round (at `at`) follow the kept ones.
    if (keep != n) {
      std::move(nots_.begin() + static_cast<long>(n), nots_.end(),
                nots_.begin() + static_cast<long>(keep));
      nots_.resize(nots_.size() - (n - keep));
    }
    cur_.swap(next_);
    live_ = live;
    pos_ = at;
    return ch.len;
  }

 private:
  struct Not {
    size_t step = 0;
    size_t start = 0;
    size_t origin = 0;  // the offset it started at
    std::unique_ptr<PatternMatcher> sub;
  };

  bool better(size_t start, size_t slot) const {
    return slot == kDead || (keep_ == Keep::kMin ? start < slot : start > slot);
  }

  // Merges `start` into position k of `set` (the positions at offset `at`) and every position
  // reachable from it without consuming (a star's next step, a split's two, a jump's target);
  // a kNot position starts (or improves) its negation thread. Returns `live` plus the
  // positions that became live.
  Result<size_t> add_to(std::vector<size_t>& set, size_t k0, size_t start, size_t at,
                        size_t live) {
    stack_.clear();
    stack_.push_back(k0);
    while (!stack_.empty()) {
      size_t k = stack_.back();
      stack_.pop_back();
      size_t& slot = set[k];
      if (!better(start, slot)) continue;
      if (slot == kDead) ++live;
      slot = start;
      if (k == m_) continue;
      const Pattern::Step& st = p_.steps_[k];
      switch (st.kind) {
        case Pattern::Step::Kind::kStar: stack_.push_back(k + 1); break;
        case Pattern::Step::Kind::kSplit:
          stack_.push_back(st.alt);
          stack_.push_back(st.value);
          break;
        case Pattern::Step::Kind::kJump: stack_.push_back(st.value); break;
        case Pattern::Step::Kind::kNot: {
          bool empty_matches = false;
          WASMCAP_TRY_ASSIGN(empty_matches, start_not(k, start, at));
          if (!empty_matches) stack_.push_back(k + 1);
          break;
        }
        default: break;
      }
    }
    return live;
  }

  // Starts (or, with a better start, updates) the negation thread of step k at offset `at`;
  // returns whether its group matches the empty text there.
  Result<bool> start_not(size_t k, size_t start, size_t at) {
    // (Threads started at this offset are the last ones.)
    for (size_t t = nots_.size(); t > 0 && nots_[t - 1].origin == at; --t) {
      Not& th = nots_[t - 1];
      if (th.step != k) continue;
      if (better(start, th.start)) th.start = start;
      return th.sub && th.sub->accepted() != kDead;
    }
    const Pattern& sub = *p_.subs_[p_.steps_[k].value];
    WASMCAP_TRY(work_.charge(sub.steps_.size() + 1));  // its memory, charged as work
    Not th;
    th.step = k;
    th.start = start;
    th.origin = at;
    th.sub = std::make_unique<PatternMatcher>(sub, s_, at, Keep::kMin, work_);
    WASMCAP_TRY(th.sub->add(0, at));
    bool empty = th.sub->accepted() != kDead;
    // (stack_ is in use: the sub-matcher has its own.)
    nots_.push_back(std::move(th));
    return empty;
  }

  const Pattern& p_;
  std::string_view s_;
  Keep keep_;
  MatchWork& work_;
  size_t m_;
  std::vector<size_t> cur_, next_;
  size_t pos_;
  size_t live_ = 0;
  std::vector<size_t> stack_;
  std::vector<Not> nots_;
};

Result<std::optional<size_t>> Pattern::match_prefix(std::string_view s, Length which,
                                                    MatchWork& work) const {
  PatternMatcher m(*this, s, 0, PatternMatcher::Keep::kMin, work);
  WASMCAP_TRY(m.add(0, 0));
  std::optional<size_t> found;
  size_t i = 0;
  while (true) {
    if (m.accepted() != kDead) {
      found = i;
      if (which == Length::kShortest) return found;
    }
    if (i == s.size() || !m.any_live()) return found;
    size_t len{};
    WASMCAP_TRY_ASSIGN(len, m.advance());
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
  PatternMatcher m(*this, s, 0,
                   which == Length::kLongest ? PatternMatcher::Keep::kMin
                                             : PatternMatcher::Keep::kMax,
                   work);
  size_t i = 0;
  while (true) {
    WASMCAP_TRY(m.add(0, i));
    if (i == s.size()) break;
    size_t len{};
    WASMCAP_TRY_ASSIGN(len, m.advance());
    i += len;
  }
  if (m.accepted() == kDead) return std::nullopt;
  return m.accepted();
}

Result<std::optional<Span>> Pattern::find(std::string_view s, size_t from, MatchWork& work) const {
  if (from > s.size()) return std::nullopt;
  PatternMatcher m(*this, s, from, PatternMatcher::Keep::kMin, work);
  std::optional<Span> best;
  size_t i = from;
  while (true) {
    // New starts only until a match is known: a later start cannot be more leftmost.
    if (!best) WASMCAP_TRY(m.add(0, i));
    size_t start = m.accepted();
    if (start != kDead && (!best || start < best->begin || (start == best->begin && i > best->end))) {
      best = Span{start, i};
    }
    if (i >= s.size() || (best && !m.any_live())) return best;
    size_t len{};
    WASMCAP_TRY_ASSIGN(len, m.advance());
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

bool has_glob_chars(std::string_view word, bool extglob) {
  PatternOptions opts;
  opts.max_pattern_bytes = std::numeric_limits<size_t>::max();
  opts.extglob = extglob;
  auto magic = PatternCompiler(word, opts).run(nullptr);
  return !magic || *magic;  // (too deeply nested: a pattern, whose compile then fails)
}

std::string quote_pattern(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    if (c == '\\' || c == '*' || c == '?' || c == '[' || c == ']' || c == '(' || c == ')' ||
        c == '|' || c == '+' || c == '@' || c == '!') {
      out += '\\';
    }
    out += c;
  }
  return out;
}

}  // namespace wasmcap::shell

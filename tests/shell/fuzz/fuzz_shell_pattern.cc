// libFuzzer target: shell pattern matching (src/shell/pattern.h) on arbitrary patterns and
// subjects. Patterns come from scripts (case, [[ ]], ${x#p}, globs), so the compiler and matcher
// see hostile text. Input: one flags byte (pathname, utf8, ignore_case, extglob), then the
// pattern, a NUL, the subject. Beyond "no crash, no sanitizer report, no hang", the forms must agree:
// - match(s) iff the longest prefix is all of s iff the longest suffix starts at 0;
// - shortest prefix <= longest prefix, shortest suffix start >= longest suffix start;
// - find() returns a span inside s starting at or after `from`;
// - each call's work is at most (subject + 1) x (pattern + 2) steps: no backtracking (with
//   extglob, whose `!( )` threads make it polynomial of a higher degree, a call may instead stop
//   at its work bound with kFuelExhausted, and a compile may refuse groups nested too deep);
// - has_glob_chars(p) iff the compiled pattern is not literal.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "shell/pattern.h"

using namespace wasmcap;
using namespace wasmcap::shell;

namespace {
void check(bool ok) {
  if (!ok) std::abort();
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  PatternOptions opts;
  opts.pathname = data[0] & 1;
  opts.utf8 = data[0] & 2;
  opts.ignore_case = data[0] & 4;
  opts.extglob = data[0] & 8;
  std::string_view rest(reinterpret_cast<const char*>(data + 1), size - 1);
  size_t nul = rest.find('\0');
  std::string_view pat = rest.substr(0, nul);
  std::string_view s = nul == std::string_view::npos ? std::string_view() : rest.substr(nul + 1);
  auto p = Pattern::compile(pat, opts);
  if (opts.extglob && !p) {
    check(p.error().code == ErrorCode::kInvalidArgument);  // groups nested too deep
    return 0;
  }
  check(p.has_value());
  if (!opts.pathname && !opts.utf8 && !opts.ignore_case && !opts.extglob) {
    check(has_glob_chars(pat) == !p->is_literal());
  }
  // A group is a pattern even when its only alternative is literal (`@(a)`).
  if (opts.extglob && !p->is_literal()) check(has_glob_chars(pat, true));
  const uint64_t per_call = (s.size() + 1) * (pat.size() + 2) * (opts.extglob ? 4 : 1);
  if (opts.extglob) {
    // Either within the bound, or stopped at it: never another error, never past it.
    auto ok = [](const auto& r) {
      return r.has_value() || r.error().code == ErrorCode::kFuelExhausted;
    };
    MatchWork w = MatchWork(per_call);
    auto whole = p->match(s, w);
    check(ok(whole));
    MatchWork wp = MatchWork(per_call);
    auto pre = p->match_prefix(s, Pattern::Length::kLongest, wp);
    check(ok(pre));
    if (whole && pre) check(*whole == (*pre == s.size()));
    MatchWork ws = MatchWork(per_call);
    auto suf = p->match_suffix(s, Pattern::Length::kLongest, ws);
    check(ok(suf));
    if (whole && suf) check(*whole == (*suf == size_t{0}));
    MatchWork wf = MatchWork(per_call);
    auto hit = p->find(s, 0, wf);
    check(ok(hit));
    if (hit && *hit) check((*hit)->begin <= (*hit)->end && (*hit)->end <= s.size());
    return 0;
  }
  auto fresh = [&] { return MatchWork(per_call); };
  using L = Pattern::Length;
  MatchWork w0 = fresh(), w1 = fresh(), w2 = fresh(), w3 = fresh(), w4 = fresh(), w5 = fresh();
  auto whole = p->match(s, w0);
  auto shortest_pre = p->match_prefix(s, L::kShortest, w1);
  auto longest_pre = p->match_prefix(s, L::kLongest, w2);
  auto shortest_suf = p->match_suffix(s, L::kShortest, w3);
  auto longest_suf = p->match_suffix(s, L::kLongest, w4);
  // Every form finishes within its bound: an error here would be work past it.
  check(whole && shortest_pre && longest_pre && shortest_suf && longest_suf);
  check(*whole == (*longest_pre == s.size()));
  check(*whole == (*longest_suf == size_t{0}));
  check(shortest_pre->has_value() == longest_pre->has_value());
  if (*longest_pre) check(**shortest_pre <= **longest_pre && **longest_pre <= s.size());
  check(shortest_suf->has_value() == longest_suf->has_value());
  if (*longest_suf) check(**shortest_suf >= **longest_suf && **shortest_suf <= s.size());
  size_t from = s.empty() ? 0 : data[0] % (s.size() + 1);
  if (opts.utf8) from = 0;  // a character boundary
  auto hit = p->find(s, from, w5);
  check(hit.has_value());
  if (*hit) check((*hit)->begin >= from && (*hit)->begin <= (*hit)->end && (*hit)->end <= s.size());
  if (*hit && from == 0) check(*longest_pre ? (*hit)->begin == 0 : true);
  MatchWork wr(per_call * (s.size() + 2));
  auto rep = replace(*p, s, "R", ReplaceMode::kAll, wr, s.size() * 2 + 2);
  check(rep.has_value());
  return 0;
}

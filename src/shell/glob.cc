// Pathname expansion (glob.h): each field's unquoted * ? [ matched against the names in the
// preopened trees, resolved beneath them (platform), sorted; every directory read is a deadline
// check and every candidate list is charged and capped at the word cap.
#include "shell/glob.h"

#include <dirent.h>
#include <fcntl.h>

#include <algorithm>

#include "shell/pattern.h"

namespace wasmcap::shell {

namespace {

// The names in guest directory `dir` that match `pattern`, sorted. Every name read is a
// deadline check; the matches are charged and count toward the word cap.
Vec<Str> matching_names(Ctx& ctx, const std::string& cwd, const Str& dir, const Str& pattern,
                        bool utf8, bool extglob, bool skip_dots, MatchWork& work) {
  Vec<Str> names(ctx.alloc());
  PatternOptions po;
  po.pathname = true;  // a leading '.' only by an explicit '.'
  po.utf8 = utf8;
  po.extglob = extglob;
  Pattern pat = pattern_result(Pattern::compile(view(pattern), po));
  auto f = resolve_guest(ctx, cwd, dir.empty() ? std::string_view(".") : view(dir));
  if (!f) return names;
  Fd fd;
  if (platform::open_file_or_dir(f->rp, O_RDONLY | O_DIRECTORY, 0, false, &fd) != 0) return names;
  DIR* d = ::fdopendir(fd.get());
  if (d == nullptr) return names;
  fd.release();  // the DIR owns it now
  try {
    while (dirent* e = ::readdir(d)) {
      ctx.budget->check();
      std::string_view n = e->d_name;
      if (skip_dots && (n == "." || n == "..")) continue;
      if (!pattern_result(pat.match(n, work))) continue;
      names.push_back(ctx.str(n));
      ctx.budget->check_words(names.size());
    }
  } catch (...) {
    ::closedir(d);
    throw;
  }
  ::closedir(d);
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace

void glob(Ctx& ctx, const State& st, bool utf8, Field& f, Vec<Str>& out) {
  const std::string& cwd = st.cwd;
  const bool extglob = st.opt_extglob;
  const bool skip_dots = st.opt_globskipdots;
  // Only * ? [ (and with extglob a group) make a pattern; a '\' from an unquoted expansion
  // (glob-flagged) escapes the character after it in one (bash: `v='*\*'; echo $v` matches
  // names ending in '*').
  bool has = false;
  for (size_t i = 0; i < f.text.size(); ++i) {
    char c = f.text[i];
    has = has || (f.glob[i] && (c == '*' || c == '?' || c == '[' ||
                                (extglob && i + 1 < f.text.size() && f.text[i + 1] == '(' &&
                                 f.glob[i + 1] && (c == '+' || c == '@' || c == '!'))));
  }
  if (!has) {
    out.push_back(std::move(f.text));
    ctx.budget->check_words(out.size());
    return;
  }
  // Split into components, each with a pattern (quoted specials escaped, pattern.h).
  Vec<std::pair<Str, Str>> comps(ctx.alloc());  // (literal text, pattern)
  Str lit = ctx.str(), pat = ctx.str();
  bool absolute = !f.text.empty() && f.text[0] == '/';
  for (size_t i = absolute ? 1 : 0; i <= f.text.size(); ++i) {
    if (i == f.text.size() || f.text[i] == '/') {
      comps.emplace_back(lit, pat);
      lit.clear();
      pat.clear();
      continue;
    }
    char c = f.text[i];
    lit.push_back(c);
    bool special = c == '*' || c == '?' || c == '[' || c == ']' || c == '\\' || c == '-' ||
                   c == '!' || c == '^' || c == '(' || c == ')' || c == '|' || c == '+' ||
                   c == '@';
    if (!f.glob[i] && special) pat.push_back('\\');
    pat.push_back(c);
  }
  MatchWork work(kPatternWork);
  Vec<Str> cur(ctx.alloc());
  cur.push_back(ctx.str(absolute ? "/" : ""));
  for (size_t k = 0; k < comps.size(); ++k) {
    const auto& [l, p] = comps[k];
    bool is_pat = false;
    for (size_t i = 0; i < p.size(); ++i) {
      if (p[i] == '\\') {
        ++i;
        continue;
      }
      if (p[i] == '*' || p[i] == '?' || p[i] == '[') is_pat = true;
    }
    is_pat = is_pat || (extglob && has_glob_chars(view(p), true));
    Vec<Str> next(ctx.alloc());
    auto join = [&](const Str& base, std::string_view name) {
      Str s = base;
      if (!base.empty() && base.back() != '/') s.push_back('/');
      s.append(name.data(), name.size());
      next.push_back(std::move(s));
      ctx.budget->check_words(next.size());
    };
    Str unescaped = ctx.str();  // a component without * ? [: its name, escapes removed
    if (!is_pat) {
      for (size_t i = 0; i < p.size(); ++i) {
        unescaped.push_back(p[i] == '\\' && i + 1 < p.size() ? p[++i] : p[i]);
      }
    }
    for (const auto& base : cur) {
      if (!is_pat) {
        join(base, view(unescaped));
        continue;
      }
      for (const auto& n : matching_names(ctx, cwd, base, p, utf8, extglob, skip_dots, work)) {
        join(base, view(n));
      }
    }
    cur = std::move(next);
    if (cur.empty()) break;
  }
  // Candidates from literal components must exist.
  size_t before = out.size();
  for (auto& c : cur) {
    ctx.budget->check();
    if (!stat_guest(ctx, cwd, view(c))) continue;
    out.push_back(std::move(c));
    ctx.budget->check_words(out.size());
  }
  if (out.size() == before) {
    if (st.opt_failglob) {
      throw LimitHit(Error(ErrorCode::kNotFound, "no match: " + shown(view(f.text))), false);
    }
    out.push_back(std::move(f.text));
    ctx.budget->check_words(out.size());
    return;
  }
  std::sort(out.begin() + static_cast<long>(before), out.end());
}

}  // namespace wasmcap::shell

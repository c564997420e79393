// Pathname expansion (glob.h): each field's unquoted * ? [ matched against the names in the
// preopened trees, resolved beneath them (platform), sorted; every directory read is a deadline
// check and every candidate list is charged and capped at the word cap.
#include "shell/glob.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>

#include <algorithm>

#include "shell/pattern.h"

namespace wasmcap::shell {

namespace {

// The shopt options a glob reads.
struct GlobOptions {
  bool utf8 = false, extglob = false, skip_dots = true, dotglob = false, nocase = false;
};

// `base` + '/' + `name` (no second '/').
Str joined(const Str& base, std::string_view name) {
  Str s = base;
  if (!base.empty() && base.back() != '/') s.push_back('/');
  s.append(name.data(), name.size());
  return s;
}

// Calls `each(name, is_dir)` for the entries of guest directory `dir` (none when it cannot be
// read). is_dir (only with `types`; else false): a directory itself, not a symlink to one (`**`
// does not follow them, as bash 4.3+). Every name read is a deadline check.
template <typename F>
void read_dir(Ctx& ctx, const std::string& cwd, const Str& dir, bool types, F each) {
  std::string_view path = dir.empty() ? std::string_view(".") : view(dir);
  if (auto v = virtual_entry(ctx, cwd, path)) {
    // A directory above the preopens (the virtual root: `echo /*`, `ls /usr/*`): its names.
    if (v->kind != wasi::VirtualTree::Found::Kind::kDir) return;
    for (size_t i = 0, n = ctx.tree->entry_count(*v->node); i < n; ++i) {
      ctx.budget->check();
      auto e = ctx.tree->entry(*v->node, i);
      if (!e.name.empty()) each(e.name, types && e.dir);
    }
    return;
  }
  auto f = resolve_guest(ctx, cwd, path);
  if (!f) return;
  Fd fd;
  if (platform::open_file_or_dir(f->rp, O_RDONLY | O_DIRECTORY, 0, false, &fd) != 0) return;
  DIR* d = ::fdopendir(fd.get());
  if (d == nullptr) return;
  fd.release();  // the DIR owns it now
  try {
    while (dirent* e = ::readdir(d)) {
      ctx.budget->check();
      bool is_dir = types && e->d_type == DT_DIR;
      if (types && e->d_type == DT_UNKNOWN) {  // (a file system without d_type: stat it)
        struct stat sb {};
        is_dir = ::fstatat(::dirfd(d), e->d_name, &sb, AT_SYMLINK_NOFOLLOW) == 0 &&
                 S_ISDIR(sb.st_mode);
      }
      each(std::string_view(e->d_name), is_dir);
    }
  } catch (...) {
    ::closedir(d);
    throw;
  }
  ::closedir(d);
}

// The names in guest directory `dir` that match `pattern`, sorted. The matches are charged and
// count toward the word cap.
Vec<Str> matching_names(Ctx& ctx, const std::string& cwd, const Str& dir, const Str& pattern,
                        const GlobOptions& go, MatchWork& work) {
  Vec<Str> names(ctx.alloc());
  PatternOptions po;
  // A leading '.' only by an explicit '.' (pathname), or by a wildcard too with dotglob (a
  // component has no '/' for pathname's other rule to see).
  po.pathname = !go.dotglob;
  po.utf8 = go.utf8;
  po.extglob = go.extglob;
  po.ignore_case = go.nocase;
  Pattern pat = pattern_result(Pattern::compile(view(pattern), po));
  read_dir(ctx, cwd, dir, false, [&](std::string_view n, bool) {
    // . and ..: never with globskipdots, nor by dotglob's wildcards (bash: only by a leading '.').
    if ((n == "." || n == "..") && (go.skip_dots || (go.dotglob && pattern[0] != '.'))) return;
    if (!pattern_result(pat.match(n, work))) return;
    names.push_back(ctx.str(n));
    ctx.budget->check_words(names.size());
  });
  std::sort(names.begin(), names.end());
  return names;
}

// globstar's `**` (a whole component), as bash 5.2 expands it under `base`:
//   kDirs (`**/x`): `base` itself, then every directory at any depth (x is then looked for in
//     each: at the top too);
//   kDirsLast (`**/`): `base/`, then every directory at any depth, symlinks to directories
//     included (the `/` joined after; an empty base gives "", which the caller drops);
//   kAll (`**` last): `base/` (unless base is empty), then every entry at any depth.
// Hidden names only with dotglob. A symlink to a directory is never entered (bash 4.3+).
// Iterative (a deep tree costs no host stack); every entry is a deadline check and counts toward
// the word cap.
enum class Star2 { kDirs, kDirsLast, kAll };
// `bare`: kAll from `X/**/**` (two or more), whose first word is `X` itself, not `X/` (bash).
void descend(Ctx& ctx, const std::string& cwd, const Str& base, Star2 mode, const GlobOptions& go,
             Vec<Str>& next, bool bare = false) {
  const bool files = mode == Star2::kAll;
  if (mode != Star2::kAll || !base.empty()) {
    next.push_back(files && !bare ? joined(base, "") : base);
    ctx.budget->check_words(next.size());
  }
  Vec<Str> todo(ctx.alloc());
  todo.push_back(base);
  while (!todo.empty()) {
    Str dir = std::move(todo.back());
    todo.pop_back();
    Vec<std::pair<Str, bool>> entries(ctx.alloc());
    read_dir(ctx, cwd, dir, true, [&](std::string_view n, bool is_dir) {
      if (n == "." || n == ".." || (!go.dotglob && n[0] == '.')) return;
      entries.emplace_back(ctx.str(n), is_dir);
      ctx.budget->check_words(next.size() + todo.size() + entries.size());
    });
    std::sort(entries.begin(), entries.end());
    for (auto it = entries.rbegin(); it != entries.rend(); ++it) {
      if (it->second) todo.push_back(joined(dir, view(it->first)));
    }
    for (const auto& [n, is_dir] : entries) {
      Str path = joined(dir, view(n));
      if (!files && !is_dir) {
        if (mode != Star2::kDirsLast) continue;
        auto sb = stat_guest(ctx, cwd, view(path));  // a symlink, followed beneath the preopens
        if (!sb || !S_ISDIR(sb->st_mode)) continue;
      }
      next.push_back(std::move(path));
      ctx.budget->check_words(next.size() + todo.size());
    }
  }
}

}  // namespace

void glob(Ctx& ctx, const State& st, bool utf8, Field& f, Vec<Str>& out) {
  const std::string& cwd = st.cwd;
  const bool extglob = st.opt_extglob;
  GlobOptions go;
  go.utf8 = utf8;
  go.extglob = extglob;
  go.skip_dots = st.opt_globskipdots;
  go.dotglob = st.opt_dotglob;
  go.nocase = st.opt_nocaseglob;
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
  bool bare_last = false;  // a last `**` that stood for `**/**` (descend's `bare`)
  if (st.opt_globstar) {  // `**/**/x` is `**/x` (bash)
    for (size_t k = comps.size(); k-- > 1;) {
      if (view(comps[k].second) == "**" && view(comps[k - 1].second) == "**") {
        bare_last = bare_last || k + 1 == comps.size();
        comps.erase(comps.begin() + static_cast<long>(k));
      }
    }
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
      next.push_back(joined(base, name));
      ctx.budget->check_words(next.size());
    };
    Str unescaped = ctx.str();  // a component without * ? [: its name, escapes removed
    if (!is_pat) {
      for (size_t i = 0; i < p.size(); ++i) {
        unescaped.push_back(p[i] == '\\' && i + 1 < p.size() ? p[++i] : p[i]);
      }
    }
    // globstar: `**` unquoted as a whole component is any depth of directories.
    const bool star2 = st.opt_globstar && view(p) == "**";
    for (const auto& base : cur) {
      if (!is_pat) {
        join(base, view(unescaped));
        continue;
      }
      if (star2) {
        Star2 mode = k + 1 == comps.size() ? Star2::kAll
                     : k + 2 == comps.size() && comps[k + 1].first.empty() ? Star2::kDirsLast
                                                                            : Star2::kDirs;
        descend(ctx, cwd, base, mode, go, next, bare_last && mode == Star2::kAll);
        continue;
      }
      for (const auto& n : matching_names(ctx, cwd, base, p, go, work)) {
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
    if (c.empty() || !stat_guest(ctx, cwd, view(c))) continue;  // ("" from `**/` at the top)
    out.push_back(std::move(c));
    ctx.budget->check_words(out.size());
  }
  if (out.size() == before) {
    if (st.opt_failglob) {
      throw LimitHit(Error(ErrorCode::kNotFound, "no match: " + shown(view(f.text))), false);
    }
    if (st.opt_nullglob) return;  // no word at all
    out.push_back(std::move(f.text));
    ctx.budget->check_words(out.size());
    return;
  }
  std::sort(out.begin() + static_cast<long>(before), out.end());
}

}  // namespace wasmcap::shell

// The rules that leave paths out of a workspace: ignore.h.
#include "workspace/ignore.h"

#include "workspace/internal.h"

#include <optional>

namespace wasmcap::workspace::detail {

namespace {

// Matches one [...] set at p (p[0] == '['); *end is set past it. False (and *end = 0) when the
// set is not closed: the '[' is then an ordinary character, as in git's wildmatch.
bool match_set(std::string_view p, char c, size_t* end, bool* matched) {
  size_t i = 1;
  bool negate = false;
  if (i < p.size() && (p[i] == '!' || p[i] == '^')) {
    negate = true;
    ++i;
  }
  bool hit = false;
  bool first = true;
  while (i < p.size() && (p[i] != ']' || first)) {
    first = false;
    char lo = p[i];
    if (lo == '\\' && i + 1 < p.size()) lo = p[++i];
    ++i;
    char hi = lo;
    if (i + 1 < p.size() && p[i] == '-' && p[i + 1] != ']') {
      hi = p[i + 1];
      if (hi == '\\' && i + 2 < p.size()) {
        hi = p[i + 2];
        ++i;
      }
      i += 2;
    }
    if (static_cast<unsigned char>(c) >= static_cast<unsigned char>(lo) &&
        static_cast<unsigned char>(c) <= static_cast<unsigned char>(hi)) {
      hit = true;
    }
  }
  if (i >= p.size()) {
    *end = 0;
    return false;
  }
  *end = i + 1;
  *matched = hit != negate;
  return true;
}

// One pattern character at p against c: how many pattern bytes it took (0: no match).
size_t match_one(std::string_view p, char c) {
  if (p[0] == '?') return 1;
  if (p[0] == '[') {
    size_t end = 0;
    bool matched = false;
    if (match_set(p, c, &end, &matched)) return matched ? end : 0;
    return c == '[' ? 1 : 0;
  }
  if (p[0] == '\\' && p.size() > 1) return p[1] == c ? 2 : 0;
  return p[0] == c ? 1 : 0;
}

std::vector<std::string> split(std::string_view s) {
  std::vector<std::string> out;
  size_t at = 0;
  while (at <= s.size()) {
    size_t slash = s.find('/', at);
    if (slash == std::string_view::npos) slash = s.size();
    out.emplace_back(s.substr(at, slash - at));
    at = slash + 1;
  }
  return out;
}

// Pattern segments (with "**" as a segment of any number of components) against components:
// one pass of dynamic programming, O(|segments| x |components|) component matches.
bool match_segments(const std::vector<std::string>& segs, const std::vector<std::string>& parts) {
  const size_t n = parts.size();
  std::vector<char> cur(n + 1, 0), next(n + 1, 0);
  cur[0] = 1;  // no segment used, no component consumed
  for (size_t i = 0; i < segs.size(); ++i) {
    const std::string& seg = segs[i];
    std::fill(next.begin(), next.end(), 0);
    if (seg == "**") {
      // Any number of components; a trailing "/**" at least one ("abc/**" is everything inside
      // abc, not abc itself, so "!abc/keep" can still re-include a file in it).
      const bool last = i + 1 == segs.size() && i > 0;
      bool any = false;
      for (size_t j = 0; j <= n; ++j) {
        if (!last) any = any || cur[j];
        next[j] = any;
        if (last) any = any || cur[j];
      }
    } else {
      for (size_t j = 0; j < n; ++j) {
        if (cur[j] && glob_match(seg, parts[j])) next[j + 1] = 1;
      }
    }
    cur.swap(next);
  }
  return cur[n] != 0;
}

}  // namespace

bool glob_match(std::string_view p, std::string_view s) {
  size_t pi = 0, si = 0;
  size_t star_p = std::string_view::npos, star_s = 0;
  while (si < s.size()) {
    if (pi < p.size() && p[pi] == '*') {
      while (pi < p.size() && p[pi] == '*') ++pi;
      star_p = pi;
      star_s = si;
      continue;
    }
    if (pi < p.size()) {
      if (size_t took = match_one(p.substr(pi), s[si]); took != 0) {
        pi += took;
        ++si;
        continue;
      }
    }
    if (star_p == std::string_view::npos) return false;
    pi = star_p;  // the last star takes one more character
    si = ++star_s;
  }
  while (pi < p.size() && p[pi] == '*') ++pi;
  return pi == p.size();
}

Result<std::optional<Ignore::Rule>> Ignore::parse_line(const std::string& base, std::string_view line) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  // Trailing spaces go, unless escaped with a backslash.
  while (!line.empty() && line.back() == ' ' &&
         !(line.size() >= 2 && line[line.size() - 2] == '\\')) {
    line.remove_suffix(1);
  }
  if (line.empty() || line[0] == '#') return std::optional<Rule>();
  if (line.size() > kMaxPatternBytes) {
    return make_error(ErrorCode::kInvalidArgument,
                      "a pattern longer than " + std::to_string(kMaxPatternBytes) + " bytes");
  }
  Rule r;
  r.base = base;
  if (line[0] == '!') {
    r.negate = true;
    line.remove_prefix(1);
  } else if (line[0] == '\\' && line.size() > 1 && (line[1] == '#' || line[1] == '!')) {
    line.remove_prefix(1);
  }
  if (!line.empty() && line.back() == '/') {
    r.dir_only = true;
    line.remove_suffix(1);
  }
  if (line.empty()) return std::optional<Rule>();
  // A slash at the start or in the middle anchors the pattern to its directory; without one it
  // matches a name at any depth below.
  r.anchored = line.find('/') != std::string_view::npos;
  if (r.anchored) {
    if (line[0] == '/') line.remove_prefix(1);
    r.segments = split(line);
  } else if (line == "**") {
    r.anchored = true;
    r.segments = {"**"};
  } else {
    r.name = std::string(line);
  }
  return std::optional<Rule>(std::move(r));
}

bool Ignore::matches(const Rule& r, const std::string& path, bool is_dir) {
  if (r.dir_only && !is_dir) return false;
  std::string_view rel = path;
  if (!r.base.empty()) {
    if (path.size() <= r.base.size() || path.compare(0, r.base.size(), r.base) != 0 ||
        path[r.base.size()] != '/') {
      return false;
    }
    rel.remove_prefix(r.base.size() + 1);
  }
  if (!r.anchored) {
    const size_t slash = rel.rfind('/');
    return glob_match(r.name, slash == std::string_view::npos ? rel : rel.substr(slash + 1));
  }
  return match_segments(r.segments, split(rel));
}

Result<void> Ignore::count() {
  if (rules_.size() + excludes_.size() > kMaxRules) {
    return make_error(ErrorCode::kInvalidArgument,
                      "more than " + std::to_string(kMaxRules) +
                          " .gitignore and --exclude rules; create the workspace with "
                          "--no-gitignore, or from a smaller tree");
  }
  return {};
}

Result<void> Ignore::add_file(const std::string& base, std::string_view text,
                              const std::string& file) {
  // (Messages built by appending: GCC 12's -Wrestrict misreads "'" + std::string.)
  std::string shown = "'";
  shown += display_path(file);
  shown += "'";
  if (text.size() > kMaxFileBytes) {
    return make_error(ErrorCode::kInvalidArgument,
                      shown + " is larger than " + std::to_string(kMaxFileBytes) +
                          " bytes; create the workspace with --no-gitignore (and --exclude)");
  }
  size_t at = 0;
  while (at < text.size()) {
    size_t nl = text.find('\n', at);
    if (nl == std::string_view::npos) nl = text.size();
    const std::string_view line = text.substr(at, nl - at);
    at = nl + 1;
    auto rule = parse_line(base, line);
    if (!rule) {
      return make_error(ErrorCode::kInvalidArgument, shown + ": " + rule.error().message);
    }
    if (!*rule) continue;
    rules_.push_back(std::move(**rule));
    recorded_.push_back({base, std::string(line)});
    WASMCAP_TRY(count());
  }
  return {};
}

Result<void> Ignore::add_exclude(const std::string& pattern) {
  auto rule = parse_line("", pattern);
  if (!rule) return make_error(ErrorCode::kInvalidArgument, "--exclude: " + rule.error().message);
  if (!*rule) {
    std::string msg = "--exclude '";
    msg += display_path(pattern);
    msg += "' is empty or a comment";
    return make_error(ErrorCode::kInvalidArgument, msg);
  }
  excludes_.push_back(std::move(**rule));
  exclude_text_.push_back(pattern);
  return count();
}

bool Ignore::ignored(const std::string& path, bool is_dir) const {
  bool out = false;
  for (const Rule& r : rules_) {
    if (matches(r, path, is_dir)) out = !r.negate;
  }
  for (const Rule& r : excludes_) {
    if (matches(r, path, is_dir)) out = !r.negate;
  }
  return out;
}

Result<void> ignore_of(const Info& info, Ignore& out) {
  // Each file's lines in its directory, in the order create read them.
  for (const IgnoreRule& r : info.ignore) {
    WASMCAP_TRY(out.add_file(r.base, r.pattern, join(r.base, ".gitignore")));
  }
  for (const std::string& p : info.exclude) WASMCAP_TRY(out.add_exclude(p));
  return {};
}

}  // namespace wasmcap::workspace::detail

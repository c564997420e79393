// Word expansion (docs/shell.md "Grammar"): tilde, parameters and their operators, command
// substitution, field splitting by IFS, globbing against the preopened trees, quote removal.
// Every container allocates through the session's Budget; every loop that may run long checks
// the deadline.
#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <thread>

#include "shell/lex.h"
#include "shell/pattern.h"
#include "shell/state.h"

namespace wasmcap::shell {

using detail::is_name_start;

namespace {

struct Field {
  explicit Field(Budget* b) : text(BudgetAlloc<char>(b)), glob(BudgetAlloc<bool>(b)) {}
  Str text;
  Vec<bool> glob;    // per byte: an unquoted * ? [ that may glob
  bool any = false;  // the field exists even if empty (quoted "")
};

// The names in guest directory `dir` that match `pattern`, sorted. Every name read is a
// deadline check; the matches are charged and count toward the word cap.
Vec<Str> matching_names(Ctx& ctx, const std::string& cwd, const Str& dir, const Str& pattern,
                        MatchWork& work) {
  Vec<Str> names(ctx.alloc());
  PatternOptions po;
  po.pathname = true;  // a leading '.' only by an explicit '.'
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
      if (n == "." || n == "..") continue;
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

// Expands the glob characters of `f` against the tree (bash semantics without options: sorted,
// dotfiles only by an explicit '.', no match = the word unchanged) and appends the words to
// `out`. Threat: products like `*/../*/../*`: every candidate list is charged and capped at the
// word cap, and every directory entry read is a deadline check.
void glob(Ctx& ctx, const std::string& cwd, Field& f, Vec<Str>& out) {
  bool has = false;
  for (size_t i = 0; i < f.text.size(); ++i) has = has || f.glob[i];
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
    bool special = c == '*' || c == '?' || c == '[' || c == ']' || c == '\\';
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
    Vec<Str> next(ctx.alloc());
    auto join = [&](const Str& base, std::string_view name) {
      Str s = base;
      if (!base.empty() && base.back() != '/') s.push_back('/');
      s.append(name.data(), name.size());
      next.push_back(std::move(s));
      ctx.budget->check_words(next.size());
    };
    for (const auto& base : cur) {
      if (!is_pat) {
        join(base, view(l));
        continue;
      }
      for (const auto& n : matching_names(ctx, cwd, base, p, work)) join(base, view(n));
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
    out.push_back(std::move(f.text));
    ctx.budget->check_words(out.size());
    return;
  }
  std::sort(out.begin() + static_cast<long>(before), out.end());
}

// $(...): runs the inner script in this executor (no process, no fork) on a copy of the state,
// so cd, assignments and exit stay inside, as in a subshell. Its stdout goes into a pipe that a
// reader thread drains into a buffer of at most max_substitution_bytes (past that the script
// stops with output_limit; the reader keeps draining, so writers never block or see EPIPE) and
// charged to the budget (past it, this command fails). Its stdin and stderr are the enclosing
// command's, before that command's redirections (as in sh). Trailing newlines are removed.
// `*status` is the inner script's exit status.
Str substitute(Ctx& ctx, const State& st, const Script& inner, const Io& io, int* status) {
  // A running command (a reader thread and a pipe) until it ends: `f() { echo $(f); }` is
  // bounded by --max-live-commands. Throws LimitHit (this command fails).
  Budget::Commands running = ctx.budget->start_commands(1);
  State sub = st.subshell();  // charged; before any thread exists, so a LimitHit leaks nothing
  sub.opt_errexit = false;      // bash (without inherit_errexit): not inside $(...)
  Str captured = ctx.str();
  int p[2];
  if (::pipe2(p, O_CLOEXEC) != 0) {
    emit(ctx, io.err(), std::string("wasmcap sh: pipe: ") + std::strerror(errno) + "\n");
    *status = 1;
    return captured;
  }
  Fd rd(p[0]), wr(p[1]);
  const uint64_t cap = ctx.o.max_substitution_bytes;
  std::optional<LimitHit> hit;  // the reader's; rethrown here once it is joined
  std::thread reader([&]() {
    char buf[16384];
    bool over = false;
    for (;;) {
      ssize_t n = ::read(rd.get(), buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      if (over) continue;
      if (cap != 0 && captured.size() + static_cast<size_t>(n) > cap) {
        over = true;
        ctx.set_fatal(Error(ErrorCode::kOutputLimit,
                            "a command substitution produced more than " + std::to_string(cap) +
                                " bytes (shell::Options::max_substitution_bytes)"));
        continue;
      }
      try {
        captured.append(buf, static_cast<size_t>(n));
      } catch (const LimitHit& h) {
        over = true;
        hit = h;
      }
    }
  });
  Io inner_io = io;
  inner_io.fd[1] = wr.get();
  run_list(ctx, sub, inner.items, inner_io);  // never throws (run_pipeline)
  sub.jobs.reset();  // its background jobs end before the capture does (joined by Jobs' owner)
  wr.reset();  // every writer is done (pipeline stages are joined): the reader sees EOF
  reader.join();
  if (hit) throw *hit;
  *status = sub.last;
  while (!captured.empty() && captured.back() == '\n') captured.pop_back();
  return captured;
}

bool is_digits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

// The characters of a UTF-8 string (bytes that do not continue a sequence): ${#x} counts them.
size_t char_count(std::string_view s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

std::string_view ifs_of(const State& st, std::string* tmp) {
  auto v = param_value(st, "IFS", tmp);
  return v ? *v : std::string_view(" \t\n");
}

// Builds the fields of one word. A word's parts append to the current field; unquoted
// expansions split it by IFS; "$@" ends a field per positional parameter.
class Expander {
 public:
  Expander(Ctx& ctx, State& st, const Io& io, int* subst_status, Vec<Field>& fields)
      : ctx_(ctx), st_(st), io_(io), subst_status_(subst_status), fields_(fields) {}

  void word(const Word& w, bool force_quoted) {
    // "$@" with no positional parameters is no word at all: the empty quoted literal the lexer
    // puts at every opening quote (so that "" is a word) does not count in a word holding it.
    bool quoted_at = false;
    for (const WordPart& p : w.parts) {
      quoted_at = quoted_at || ((p.quoted || force_quoted) && p.kind == WordPart::Kind::kVar &&
                                p.text == "@");
    }
    for (const WordPart& p : w.parts) {
      if (quoted_at && p.kind == WordPart::Kind::kLiteral && p.text.empty()) continue;
      part(p, force_quoted);
    }
  }

 private:
  Field& cur() { return fields_.back(); }
  void add(char c, bool g) {
    cur().text.push_back(c);
    cur().glob.push_back(g);
    cur().any = true;
  }
  void new_field() {
    ctx_.budget->check_words(fields_.size());
    fields_.emplace_back(ctx_.budget);
  }
  // (']' too: it closes a bracket expression, so it must reach the pattern unescaped.)
  static bool glob_char(char c) { return c == '*' || c == '?' || c == '[' || c == ']'; }

  void part(const WordPart& p, bool force_quoted) {
    ctx_.budget->check();
    bool quoted = p.quoted || force_quoted;
    switch (p.kind) {
      case WordPart::Kind::kLiteral:
        if (quoted) cur().any = true;
        for (char c : p.text) add(c, !quoted && glob_char(c));
        return;
      case WordPart::Kind::kTilde: {
        std::string tmp;
        auto home = p.text.empty() ? param_value(st_, "HOME", &tmp) : std::nullopt;
        if (home) {
          append_value(*home, true);
        } else {  // no such user database in the sandbox: the word stays as written
          add('~', false);
          for (char c : p.text) add(c, false);
        }
        return;
      }
      case WordPart::Kind::kSubst: {
        int status = 0;
        Str v = substitute(ctx_, st_, *p.script, io_, &status);
        if (subst_status_ != nullptr) *subst_status_ = status;
        append_value(view(v), quoted);
        return;
      }
      case WordPart::Kind::kVar:
        param(p, quoted);
        return;
      case WordPart::Kind::kArith: {
        Str e = expand_string(ctx_, st_, *p.arith, io_, subst_status_);
        auto v = arith_eval(ctx_, st_, view(e));
        if (!v) fail(v.error().message, 1);  // bash: the shell ends with status 1
        append_value(std::to_string(*v), quoted);
        return;
      }
    }
  }

  // A value from an expansion: quoted, one piece of the field; unquoted, split by IFS, and its
  // glob characters may glob (as in sh).
  void append_value(std::string_view v, bool quoted) {
    if (quoted) {
      cur().any = true;
      cur().text.append(v.data(), v.size());
      cur().glob.resize(cur().text.size(), false);
      return;
    }
    std::string tmp;
    std::string_view ifs = ifs_of(st_, &tmp);
    bool just_ws = false;  // the last delimiter was IFS white space that ended a field
    for (char c : v) {
      bool delim = ifs.find(c) != std::string_view::npos;
      if (!delim) {
        add(c, glob_char(c));
        just_ws = false;
        continue;
      }
      bool ws = c == ' ' || c == '\t' || c == '\n';
      if (ws) {
        if (cur().any) {
          new_field();
          just_ws = true;
        }
        continue;
      }
      if (cur().any) {
        new_field();
      } else if (!just_ws) {
        cur().any = true;  // an empty field between two delimiters
        new_field();
      }
      just_ws = false;
    }
  }

  // The values of a parameter: one (or none when unset), or the positional parameters for @ *.
  bool values(const std::string& name, Vec<Str>& out) {
    if (name == "@" || name == "*") {
      for (const auto& a : st_.positional) out.push_back(a);
      return true;
    }
    std::string tmp;
    auto v = param_value(st_, name, &tmp);
    if (!v) return false;
    out.push_back(ctx_.str(*v));
    return true;
  }

  [[noreturn]] void fail(const std::string& msg, int status = 127) {  // bash's status
    emit(ctx_, io_.err(), "wasmcap sh: " + msg + "\n");
    throw ExpansionError{status};
  }

  void param(const WordPart& p, bool quoted) {
    const std::string& name = p.text;
    ParamOp none;
    const ParamOp& op = p.op ? *p.op : none;
    bool list = name == "@" || name == "*";
    Vec<Str> vals(ctx_.alloc());
    bool set = values(name, vals);
    if (list) set = !vals.empty();
    bool empty = !set || (vals.size() == 1 && vals[0].empty()) || (list && vals.empty());
    if (list && vals.size() == 1) empty = vals[0].empty();
    bool use_arg = op.colon ? empty : !set;
    using K = ParamOp::Kind;
    switch (op.kind) {
      case K::kLength: {
        if (list) return append_value(std::to_string(vals.size()), true);
        if (!set && st_.opt_nounset) fail(shown(name) + ": unbound variable");
        return append_value(std::to_string(set ? char_count(view(vals[0])) : 0), true);
      }
      case K::kDefault:
        if (use_arg) return operand(op.arg.get(), quoted);
        break;
      case K::kAssign:
        if (use_arg) {
          if (list || is_digits(name) || (name.size() == 1 && !is_name_start(name[0]))) {
            fail("$" + shown(name) + ": cannot assign in this way");
          }
          Str v = op.arg ? expand_string(ctx_, st_, *op.arg, io_, subst_status_) : ctx_.str();
          set_var(ctx_, st_, name, v);
          return append_value(view(v), quoted);
        }
        break;
      case K::kError:
        if (use_arg) {
          Str m = op.arg ? expand_string(ctx_, st_, *op.arg, io_, subst_status_) : ctx_.str();
          fail(shown(name) + ": " +
               (m.empty() ? std::string(op.colon ? "parameter null or not set"
                                                 : "parameter not set")
                          : shown(view(m))));
        }
        break;
      case K::kAlternative:
        if (!use_arg) return operand(op.arg.get(), quoted);
        return;
      default:
        break;
    }
    if (!set && !list && st_.opt_nounset) fail(shown(name) + ": unbound variable");
    if (op.kind == K::kTrimPrefix || op.kind == K::kTrimSuffix || op.kind == K::kReplace) {
      Str pat = op.arg ? expand_pattern(ctx_, st_, *op.arg, io_) : ctx_.str();
      std::vector<size_t> match_at;  // ${x/p/r}: where an unquoted & in r puts the match (bash)
      Str rep = op.arg2 ? replacement(*op.arg2, &match_at) : ctx_.str();
      for (auto& v : vals) {
        v = op.kind == K::kReplace ? replace(v, pat, rep, op, match_at) : trim(v, pat, op);
      }
    } else if (op.kind == K::kSlice) {
      slice(vals, op, list);
    }
    emit_values(vals, name, quoted, list);
  }

  // The word of ${x-word} ${x+word}: inside "...", one piece; unquoted, its literal text is
  // split by IFS like an expansion's value (bash: ${u:-a   b} is two fields).
  void operand(const Word* w, bool quoted) {
    if (w == nullptr) {
      if (quoted) cur().any = true;
      return;
    }
    if (quoted) return word(*w, true);
    for (const WordPart& p : w->parts) {
      if (p.kind == WordPart::Kind::kLiteral && !p.quoted) {
        append_value(p.text, false);
      } else {
        part(p, false);
      }
    }
  }

  // "$@" makes a field per value; "$*" joins them with IFS's first character; unquoted, each
  // value is split on its own.
  void emit_values(const Vec<Str>& vals, const std::string& name, bool quoted, bool list) {
    if (!list) {
      if (!vals.empty()) append_value(view(vals[0]), quoted);
      else if (quoted) cur().any = true;
      return;
    }
    if (quoted && name == "*") {
      std::string tmp;
      std::string_view ifs = ifs_of(st_, &tmp);
      Str joined = ctx_.str();
      for (size_t k = 0; k < vals.size(); ++k) {
        if (k > 0 && !ifs.empty()) joined.push_back(ifs[0]);
        joined.append(vals[k]);
      }
      return append_value(view(joined), true);
    }
    for (size_t k = 0; k < vals.size(); ++k) {
      if (k > 0 && (quoted || cur().any)) new_field();
      append_value(view(vals[k]), quoted);
    }
  }

  // ${x#p} ${x##p} ${x%p} ${x%%p}: the shortest or longest matching prefix or suffix removed.
  Str trim(const Str& v, const Str& pat, const ParamOp& op) {
    Pattern p = pattern_result(Pattern::compile(view(pat)));
    auto len = op.longest ? Pattern::Length::kLongest : Pattern::Length::kShortest;
    std::string_view all = view(v);
    if (op.kind == ParamOp::Kind::kTrimPrefix) {
      auto n = pattern_result(p.match_prefix(all, len, work_));
      return n ? ctx_.str(all.substr(*n)) : v;
    }
    auto at = pattern_result(p.match_suffix(all, len, work_));
    return at ? ctx_.str(all.substr(0, *at)) : v;
  }

  // ${x/p/r} ${x//p/r} ${x/#p/r} ${x/%p/r}: bounded by the shell's memory budget.
  // The replacement of ${x/p/r}: r expanded, each unquoted `&` taken out and its offset kept
  // (bash's patsub_replacement: the matched text goes there; `\&` and "&" stay literal).
  Str replacement(const Word& w, std::vector<size_t>* match_at) {
    Str out = ctx_.str();
    for (const WordPart& p : w.parts) {
      if (p.kind == WordPart::Kind::kLiteral && !p.quoted) {
        for (char c : p.text) {
          if (c == '&') {
            match_at->push_back(out.size());
          } else {
            out.push_back(c);
          }
        }
        continue;
      }
      Word one;
      one.parts.push_back(p);
      out.append(expand_string(ctx_, st_, one, io_, subst_status_));
    }
    return out;
  }

  Str replace(const Str& v, const Str& pat, const Str& rep, const ParamOp& op,
              const std::vector<size_t>& match_at) {
    Pattern p = pattern_result(Pattern::compile(view(pat)));
    ReplaceMode mode = op.anchor == ParamOp::Anchor::kAll     ? ReplaceMode::kAll
                       : op.anchor == ParamOp::Anchor::kStart ? ReplaceMode::kPrefix
                       : op.anchor == ParamOp::Anchor::kEnd   ? ReplaceMode::kSuffix
                                                              : ReplaceMode::kFirst;
    uint64_t cap = ctx_.budget->limits().memory_bytes;
    size_t max_out = cap == 0 ? SIZE_MAX : static_cast<size_t>(cap);
    std::string out =
        pattern_result(shell::replace(p, view(v), view(rep), mode, work_, max_out, match_at));
    Budget::Lease held(ctx_.budget, out.size());  // the plain copy, until it is in a Str
    return ctx_.str(out);
  }

  long long number(const Word* w) {
    if (w == nullptr) return 0;
    Str s = expand_string(ctx_, st_, *w, io_, subst_status_);
    std::string t(view(s));
    size_t b = t.find_first_not_of(" \t\n");
    if (b == std::string::npos) return 0;
    t = t.substr(b, t.find_last_not_of(" \t\n") - b + 1);
    char* end = nullptr;
    errno = 0;
    long long v = std::strtoll(t.c_str(), &end, 10);
    if (errno != 0 || end == nullptr || *end != '\0' || t.empty()) {
      fail(shown(t) + ": an offset or length must be an integer (arithmetic is not supported "
                      "yet)");
    }
    return v;
  }

  // ${x:o} ${x:o:l} (a negative o counts from the end; a negative l leaves that many off);
  // on "$@", o counts from $0 as in bash.
  void slice(Vec<Str>& vals, const ParamOp& op, bool list) {
    long long off = number(op.arg.get());
    bool has_len = op.arg2 != nullptr;
    long long len = has_len ? number(op.arg2.get()) : 0;
    auto cut = [&](long long n, long long& b, long long& e) {
      b = off < 0 ? std::max(0LL, n + off) : std::min(off, n);
      if (off < 0 && n + off < 0) b = n + 1;  // bash: out of range gives nothing
      e = !has_len ? n : len < 0 ? n + len : std::min(n, b + len);
      if (b > n) e = b = n;
      if (e < b) {
        if (len < 0 && !list) fail(std::to_string(len) + ": substring expression < 0");
        e = b;
      }
    };
    if (!list) {
      if (vals.empty()) return;
      long long b, e;
      cut(static_cast<long long>(vals[0].size()), b, e);
      vals[0] = ctx_.str(view(vals[0]).substr(static_cast<size_t>(b), static_cast<size_t>(e - b)));
      return;
    }
    Vec<Str> all(ctx_.alloc());
    all.push_back(ctx_.str(st_.arg0));
    for (auto& v : vals) all.push_back(std::move(v));
    long long b, e;
    cut(static_cast<long long>(all.size()), b, e);
    Vec<Str> out(ctx_.alloc());
    for (long long k = b; k < e; ++k) out.push_back(std::move(all[static_cast<size_t>(k)]));
    vals = std::move(out);
  }

  Ctx& ctx_;
  State& st_;
  const Io& io_;
  int* subst_status_;
  Vec<Field>& fields_;
  MatchWork work_{kPatternWork};
};

}  // namespace

std::optional<std::string_view> param_value(const State& st, std::string_view name,
                                            std::string* tmp) {
  if (name.size() == 1) {
    switch (name[0]) {
      case '?': return *tmp = std::to_string(st.last);
      case '#': return *tmp = std::to_string(st.positional.size());
      case '$': return *tmp = std::to_string(::getpid());
      case '!':
        if (st.last_job == 0) return std::nullopt;
        return *tmp = std::to_string(st.last_job);
      case '-': {
        *tmp = "h";
        if (st.opt_errexit) *tmp += 'e';
        if (st.opt_noglob) *tmp += 'f';
        if (st.opt_nounset) *tmp += 'u';
        if (st.opt_xtrace) *tmp += 'x';
        return *tmp;
      }
      case '0': return st.arg0;
      case '@':
      case '*': {
        tmp->clear();
        for (size_t k = 0; k < st.positional.size(); ++k) {
          if (k) tmp->push_back(' ');
          tmp->append(view(st.positional[k]));
        }
        return *tmp;
      }
      default: break;
    }
  }
  if (is_digits(name)) {
    size_t k = name.size() > 9 ? SIZE_MAX : std::stoul(std::string(name));
    if (k == 0) return st.arg0;
    if (k > st.positional.size()) return std::nullopt;
    return view(st.positional[k - 1]);
  }
  if (name == "PWD") return st.cwd;
  auto it = st.vars.find(name);
  if (it == st.vars.end()) return std::nullopt;
  return view(*it->second);
}

void set_var(Ctx& ctx, State& st, std::string_view name, Str value) {
  VarValue v = std::allocate_shared<Str>(BudgetAlloc<Str>(ctx.budget), std::move(value));
  auto it = st.vars.find(name);
  if (it != st.vars.end()) {
    it->second = std::move(v);
  } else {
    st.vars.emplace(ctx.str(name), std::move(v));
  }
}

void unset_var(State& st, std::string_view name) {
  auto it = st.vars.find(name);
  if (it != st.vars.end()) st.vars.erase(it);
  auto e = st.exported.find(name);
  if (e != st.exported.end()) st.exported.erase(e);
}

void expand(Ctx& ctx, State& st, const Word& w, bool do_glob, const Io& io, int* subst_status,
            Vec<Str>& out) {
  // Words (not assignments, patterns or here-documents) are brace-expanded first.
  if (do_glob && brace_expand(ctx, w, [&](const Word& b) {
        expand(ctx, st, b, true, io, subst_status, out);
      })) {
    return;
  }
  Vec<Field> fields(ctx.alloc());
  fields.emplace_back(ctx.budget);
  Expander(ctx, st, io, subst_status, fields).word(w, false);
  for (Field& f : fields) {
    if (!f.any) continue;
    if (!do_glob || st.opt_noglob) {
      out.push_back(std::move(f.text));
      ctx.budget->check_words(out.size());
      continue;
    }
    glob(ctx, st.cwd, f, out);
  }
}

Str expand_string(Ctx& ctx, State& st, const Word& w, const Io& io, int* subst_status) {
  Vec<Field> fields(ctx.alloc());
  fields.emplace_back(ctx.budget);
  Expander(ctx, st, io, subst_status, fields).word(w, true);
  Str joined = ctx.str();
  bool first = true;
  for (Field& f : fields) {
    if (!f.any && f.text.empty()) continue;
    if (!first) joined.push_back(' ');
    first = false;
    joined.append(f.text);
  }
  return joined;
}

Str expand_pattern(Ctx& ctx, State& st, const Word& w, const Io& io) {
  Str out = ctx.str();
  for (const WordPart& p : w.parts) {
    Word one;
    one.parts.push_back(p);
    Str v = p.kind == WordPart::Kind::kLiteral ? ctx.str(p.text)
                                               : expand_string(ctx, st, one, io, nullptr);
    for (char c : v) {
      if (p.quoted && (c == '*' || c == '?' || c == '[' || c == ']' || c == '\\')) {
        out.push_back('\\');
      }
      out.push_back(c);
    }
  }
  return out;
}

}  // namespace wasmcap::shell

// The shell's executor (docs/shell.md): expansion, globbing, redirections confined beneath the
// preopens, builtins, and tools run as WASI modules, concurrently in pipelines. Every container
// of shell state allocates through the session's Budget (budget.h), which also carries the
// deadline: the executor's own work is bounded like a guest's.
#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <csignal>
#include <fnmatch.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <thread>

#include "shell/budget.h"
#include "shell/commands.h"
#include "shell/nested.h"
#include "shell/parse.h"
#include "common/escape.h"
#include "platform/beneath.h"
#include "platform/fd.h"
#include "wasmcap/runtime.h"
#include "wasmcap/shell.h"

namespace wasmcap::shell {

namespace {

using Clock = std::chrono::steady_clock;

struct State {  // what a subshell (a pipeline stage, a $(...)) copies
  explicit State(Budget* b) : vars(BudgetAlloc<char>(b)) {}
  std::string cwd;  // a normalized guest path of an existing directory
  VarMap vars;      // names and values charged to the session's budget
  int last = 0;
  bool exit_requested = false;
  size_t nesting = 0;  // nested shells (sh -c) this state runs in; bounded by kMaxNestedShells
};

struct Ctx {
  Options o;
  Budget* budget = nullptr;  // the session's
  Clock::time_point deadline = Clock::time_point::max();
  std::atomic<uint64_t> out_bytes{0};
  std::atomic<uint64_t> commands{0};
  std::atomic<bool> interrupt{false};
  std::mutex mu;
  std::optional<Error> fatal;  // a script limit was hit: stop everything

  void set_fatal(Error e) {
    std::lock_guard<std::mutex> lock(mu);
    if (!fatal) fatal = std::move(e);
    interrupt = true;
  }
  bool stopped() {
    std::lock_guard<std::mutex> lock(mu);
    return fatal.has_value();
  }
  BudgetAlloc<char> alloc() const { return BudgetAlloc<char>(budget); }
  Str str(std::string_view s = {}) const { return Str(s.data(), s.size(), alloc()); }
};

// The one owning-descriptor type (src/platform/fd.h).
using Fd = platform::UniqueFd;

bool write_all(int fd, const char* p, size_t n) {
  if (fd < 0) return true;  // discarded
  while (n > 0) {
    ssize_t w = ::write(fd, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    p += w;
    n -= static_cast<size_t>(w);
  }
  return true;
}

// Every byte the script writes goes through here: tools' stdout/stderr, builtins' output and
// the shell's own messages, wherever they go (a terminal, a file, a pipe, a $(...) capture,
// /dev/null). Threat: output that escapes --max-output-bytes because a builtin wrote it. Past
// the cap nothing of the chunk is written and the script stops with output_limit.
bool emit(Ctx& ctx, int fd, std::string_view s, std::atomic<uint64_t>* count = nullptr) {
  uint64_t total = ctx.out_bytes.fetch_add(s.size()) + s.size();
  if (ctx.o.max_output_bytes != 0 && total > ctx.o.max_output_bytes) {
    ctx.set_fatal(Error(ErrorCode::kOutputLimit,
                        "the script wrote more than " + std::to_string(ctx.o.max_output_bytes) +
                            " bytes (--max-output-bytes)"));
    return false;
  }
  if (count != nullptr) *count += s.size();
  return write_all(fd, s.data(), s.size());
}

// A word shown in a message (a command name, a path). Threat: words can come from a tool's
// output through $(...) or a file name a glob found, and a message goes to a terminal: control
// bytes could forge lines or inject terminal escapes, and a huge expansion would make a huge
// message. Printable ASCII is kept, every other byte is \xNN, at most 256 bytes then "...".
std::string shown(std::string_view s) {
  constexpr size_t kMaxShown = 256;
  return text::escape_ascii(s, kMaxShown, "\\");
}

// --- paths: guest path -> (preopen, relative path), never outside a preopen -----------------

// Threat: a path built from a huge expansion. No host path resolves beyond PATH_MAX, and
// refusing it early keeps the shell from copying it around.
constexpr size_t kMaxPathBytes = 4096;

struct Located {
  const Preopen* preopen = nullptr;
  std::vector<std::string> rel;  // components beneath the preopen
  std::string guest;             // normalized guest path
};

std::vector<std::string> components(std::string_view p) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < p.size()) {
    size_t j = p.find('/', i);
    if (j == std::string_view::npos) j = p.size();
    if (j > i) out.emplace_back(p.substr(i, j - i));
    i = j + 1;
  }
  return out;
}

// Lexical part: the guest path made absolute and normalized, and the preopen with the longest
// guest prefix. The physical part (symlinks, types) is the platform resolver's, with the WASI
// host's rules (resolve_guest).
Result<Located> locate(const Ctx& ctx, const std::string& cwd, std::string_view path) {
  if (path.size() > kMaxPathBytes) {
    return make_error(ErrorCode::kInvalidArgument, shown(path) + ": File name too long");
  }
  std::string abs = !path.empty() && path[0] == '/' ? std::string(path)
                                                    : cwd + "/" + std::string(path);
  std::vector<std::string> norm;
  for (auto& c : components(abs)) {
    if (c == ".") continue;
    if (c == "..") {
      if (norm.empty()) {
        return make_error(ErrorCode::kGrantDenied, shown(path) + ": outside the granted directories");
      }
      norm.pop_back();
      continue;
    }
    norm.push_back(std::move(c));
  }
  Located best;
  size_t best_len = 0;
  for (const Preopen& p : ctx.o.preopens) {
    if (p.denied) continue;
    auto pc = components(p.guest_path);
    if (pc.size() > norm.size() || (best.preopen != nullptr && pc.size() < best_len)) continue;
    if (!std::equal(pc.begin(), pc.end(), norm.begin())) continue;
    best.preopen = &p;
    best_len = pc.size();
  }
  if (best.preopen == nullptr) {
    return make_error(ErrorCode::kGrantDenied, shown(path) + ": outside the granted directories");
  }
  best.rel.assign(norm.begin() + static_cast<long>(best_len), norm.end());
  best.guest = "/";
  for (size_t k = 0; k < norm.size(); ++k) best.guest += (k ? "/" : "") + norm[k];
  return best;
}

// What a platform-layer errno (src/platform/beneath.h) means, for the shell's messages.
std::string errno_text(int e) {
  switch (e) {
    case EXDEV: return "outside the granted directories (a symlink on the path leads out)";
    case ENOTSUP:
      return "not a regular file or directory (FIFOs, sockets and devices are never opened)";
    default: return std::strerror(e);
  }
}

struct Found {
  const Preopen* preopen = nullptr;
  std::string guest;      // normalized guest path
  platform::Resolved rp;  // beneath the preopen's host directory, final symlinks followed
};

// The shell's one resolution of a guest path (redirections, cd, test, globbing): the lexical
// part above, then the confinement primitive (src/platform/beneath.h) from the preopen's
// directory with the rules a tool opening the same path gets from the WASI host (src/wasi/
// path.h): symlinks are followed only while they stay beneath the preopen (absolute or climbing
// targets are refused), at most platform::kMaxSymlinkHops.
Result<Found> resolve_guest(const Ctx& ctx, const std::string& cwd, std::string_view path) {
  Located loc;
  WASMCAP_TRY_ASSIGN(loc, locate(ctx, cwd, path));
  Found f;
  f.preopen = loc.preopen;
  f.guest = loc.guest;
  Fd root(::open(loc.preopen->host_path.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!root.valid()) {
    return make_error(ErrorCode::kIo, f.guest + ": " + std::strerror(errno));
  }
  std::string rel;
  for (const auto& c : loc.rel) rel += (rel.empty() ? "" : "/") + c;
  if (rel.empty()) rel = ".";
  if (platform::has_trailing_slash(path)) rel += "/";
  platform::BeneathOptions beneath;
  beneath.symlinks = platform::Symlinks::kFollowBeneath;
  beneath.follow_final = true;
  if (int e = platform::resolve_beneath(root.get(), rel, beneath, &f.rp)) {
    return make_error(e == EXDEV ? ErrorCode::kGrantDenied : ErrorCode::kIo,
                      shown(path) + ": " + errno_text(e));
  }
  return f;
}

// Opens a file for a redirection beneath its preopen: the resolver, then the same type-checked,
// non-blocking open as WASI path_open (platform::open_file_or_dir). Threat: a FIFO, socket or
// device in the tree (`echo x > fifo` blocked past the deadline; a device was written).
Result<Fd> open_redirect(const Ctx& ctx, const std::string& cwd, std::string_view path, int flags) {
  Found f;
  WASMCAP_TRY_ASSIGN(f, resolve_guest(ctx, cwd, path));
  bool writes = (flags & (O_WRONLY | O_RDWR)) != 0;
  if (writes && f.preopen->read_only) {
    return make_error(ErrorCode::kGrantDenied, shown(path) + ": read-only directory");
  }
  if (f.rp.name == "." || f.rp.trailing_slash) {
    return make_error(ErrorCode::kInvalidArgument, shown(path) + ": Is a directory");
  }
  Fd fd;
  struct stat st {};
  if (int e = platform::open_file_or_dir(f.rp, flags, 0644, false, &fd, &st)) {
    return make_error(ErrorCode::kIo, shown(path) + ": " + errno_text(e));
  }
  if (S_ISDIR(st.st_mode)) {
    return make_error(ErrorCode::kInvalidArgument, shown(path) + ": Is a directory");
  }
  return fd;
}

// stat of a guest path beneath its preopen (for test -e/-f/-d, cd, globbing), through the
// resolver: a final symlink is followed while it stays inside.
std::optional<struct stat> stat_guest(const Ctx& ctx, const std::string& cwd, std::string_view p) {
  auto f = resolve_guest(ctx, cwd, p);
  if (!f) return std::nullopt;
  struct stat st {};
  if (::fstatat(f->rp.dir.get(), f->rp.name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
    return std::nullopt;
  }
  return st;
}

// --- expansion ----------------------------------------------------------------------------

struct Field {
  explicit Field(Budget* b) : text(BudgetAlloc<char>(b)), glob(BudgetAlloc<bool>(b)) {}
  Str text;
  Vec<bool> glob;    // per byte: an unquoted * ? [ that may glob
  bool any = false;  // the field exists even if empty (quoted "")
};

// The names in guest directory `dir` that match `pattern`, sorted. Every name read is a
// deadline check; the matches are charged and count toward the word cap.
Vec<Str> matching_names(Ctx& ctx, const std::string& cwd, const Str& dir, const Str& pattern) {
  Vec<Str> names(ctx.alloc());
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
      if (::fnmatch(pattern.c_str(), e->d_name, FNM_PERIOD) != 0) continue;
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
  // Split into components, each with a pattern (quoted specials escaped for fnmatch).
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
    if (!f.glob[i] && (c == '*' || c == '?' || c == '[' || c == '\\')) pat.push_back('\\');
    pat.push_back(c);
  }
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
      for (const auto& n : matching_names(ctx, cwd, base, p)) join(base, view(n));
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

// A variable's value: `tmp` holds it when it is computed ($?, $PWD).
std::string_view var_value(const State& st, const std::string& name, std::string* tmp) {
  if (name == "?") return *tmp = std::to_string(st.last);
  if (name == "PWD") return st.cwd;
  auto it = st.vars.find(std::string_view(name));
  return it == st.vars.end() ? std::string_view() : view(*it->second);
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

struct Io {  // a command's stdio (borrowed fds; -1 = none)
  int in = -1, out = -1, err = -1;
};

int run_list(Ctx& ctx, State& st, const Script& script, const Io& io);

// $(...): runs the inner script in this executor (no process, no fork) on a copy of the state,
// so cd, assignments and exit stay inside, as in a subshell. Its stdout goes into a pipe that a
// reader thread drains into a buffer of at most max_substitution_bytes (past that the script
// stops with output_limit; the reader keeps draining, so writers never block or see EPIPE) and
// charged to the budget (past it, this command fails). Its stdin and stderr are the enclosing
// command's, before that command's redirections (as in sh). Trailing newlines are removed.
// `*status` is the inner script's exit status.
Str substitute(Ctx& ctx, const State& st, const Script& inner, const Io& io, int* status) {
  State sub = st;  // charged; before any thread exists, so a LimitHit here leaks nothing
  sub.exit_requested = false;
  Str captured = ctx.str();
  int p[2];
  if (::pipe2(p, O_CLOEXEC) != 0) {
    emit(ctx, io.err, std::string("wasmcap sh: pipe: ") + std::strerror(errno) + "\n");
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
  run_list(ctx, sub, inner, Io{io.in, wr.get(), io.err});  // never throws (run_pipeline)
  wr.reset();  // every writer is done (pipeline stages are joined): the reader sees EOF
  reader.join();
  if (hit) throw *hit;
  *status = sub.last;
  while (!captured.empty() && captured.back() == '\n') captured.pop_back();
  return captured;
}

// Expands one word into fields appended to `out` (the command's words so far: the word cap
// counts them all). `io` is where substitutions read and report; `subst_status` (may be null)
// receives the exit status of the last substitution run.
void expand(Ctx& ctx, const State& st, const Word& w, bool do_glob, const Io& io,
            int* subst_status, Vec<Str>& out) {
  Budget& b = *ctx.budget;
  Vec<Field> fields(ctx.alloc());
  fields.emplace_back(&b);
  auto add = [&](char c, bool g) {
    fields.back().text.push_back(c);
    fields.back().glob.push_back(g);
    fields.back().any = true;
  };
  for (const WordPart& p : w.parts) {
    b.check();
    if (p.kind == WordPart::Kind::kLiteral) {
      if (p.quoted) fields.back().any = true;
      for (char c : p.text) add(c, !p.quoted && (c == '*' || c == '?' || c == '['));
      continue;
    }
    Str subst = ctx.str();
    std::string tmp;
    std::string_view v;
    if (p.kind == WordPart::Kind::kSubst) {
      int status = 0;
      subst = substitute(ctx, st, *p.script, io, &status);
      if (subst_status != nullptr) *subst_status = status;
      v = view(subst);
    } else {
      v = var_value(st, p.text, &tmp);
    }
    if (p.quoted) {
      fields.back().any = true;
      fields.back().text.append(v.data(), v.size());
      fields.back().glob.resize(fields.back().text.size(), false);
      continue;
    }
    // Unquoted: split on blanks (IFS unset); the value's glob characters stay literal
    // (documented difference from sh). The same for a substitution's output.
    for (char c : v) {
      if (c == ' ' || c == '\t' || c == '\n') {
        if (fields.back().any) {
          b.check_words(out.size() + fields.size());
          fields.emplace_back(&b);
        }
      } else {
        add(c, false);
      }
    }
  }
  for (Field& f : fields) {
    if (!f.any) continue;
    if (!do_glob) {
      out.push_back(std::move(f.text));
      b.check_words(out.size());
      continue;
    }
    glob(ctx, st.cwd, f, out);
  }
}

// --- builtins -------------------------------------------------------------------------------

bool is_builtin(std::string_view n) {
  return n == "cd" || n == "pwd" || n == "echo" || n == "true" || n == "false" || n == "test" ||
         n == "[" || n == "exit" || n == "command" || n == "type" || n == "hash";
}

bool parse_int(std::string_view sv, long long* v) {
  if (sv.empty() || sv.size() > 64) return false;
  std::string s(sv);
  char* end = nullptr;
  errno = 0;
  *v = std::strtoll(s.c_str(), &end, 10);
  return errno == 0 && end != nullptr && *end == '\0';
}

// test / [ : 0 true, 1 false, 2 usage error.
int builtin_test(Ctx& ctx, const State& st, std::vector<std::string_view> a, int err,
                 std::atomic<uint64_t>* err_b) {
  auto usage = [&](std::string_view m) {
    emit(ctx, err, "test: " + std::string(m) + "\n", err_b);
    return 2;
  };
  bool neg = false;
  if (!a.empty() && a[0] == "!") {
    neg = true;
    a.erase(a.begin());
  }
  int r;
  if (a.empty()) {
    r = 1;
  } else if (a.size() == 1) {
    r = a[0].empty() ? 1 : 0;
  } else if (a.size() == 2) {
    std::string_view op = a[0];
    if (op == "-n") r = a[1].empty() ? 1 : 0;
    else if (op == "-z") r = a[1].empty() ? 0 : 1;
    else if (op == "-e" || op == "-f" || op == "-d" || op == "-s" || op == "-r" || op == "-w") {
      auto s = stat_guest(ctx, st.cwd, a[1]);
      if (!s) r = 1;
      else if (op == "-f") r = S_ISREG(s->st_mode) ? 0 : 1;
      else if (op == "-d") r = S_ISDIR(s->st_mode) ? 0 : 1;
      else if (op == "-s") r = s->st_size > 0 ? 0 : 1;
      else r = 0;
    } else {
      return usage(shown(op) + ": unary operator expected");
    }
  } else if (a.size() == 3) {
    std::string_view op = a[1];
    if (op == "=" || op == "==") r = a[0] == a[2] ? 0 : 1;
    else if (op == "!=") r = a[0] != a[2] ? 0 : 1;
    else if (op == "-eq" || op == "-ne" || op == "-lt" || op == "-le" || op == "-gt" || op == "-ge") {
      long long x, y;
      if (!parse_int(a[0], &x)) return usage(shown(a[0]) + ": integer expression expected");
      if (!parse_int(a[2], &y)) return usage(shown(a[2]) + ": integer expression expected");
      bool b = op == "-eq" ? x == y : op == "-ne" ? x != y : op == "-lt" ? x < y
             : op == "-le" ? x <= y : op == "-gt" ? x > y : x >= y;
      r = b ? 0 : 1;
    } else {
      return usage(shown(op) + ": binary operator expected");
    }
  } else {
    return usage("too many arguments (no -a/-o)");
  }
  return neg ? 1 - r : r;
}

int run_builtin(Ctx& ctx, State& st, const Vec<Str>& argv, int out, int err,
                std::atomic<uint64_t>* out_b, std::atomic<uint64_t>* err_b) {
  std::string_view n = view(argv[0]);
  std::vector<std::string_view> a;
  for (size_t k = 1; k < argv.size(); ++k) a.push_back(view(argv[k]));
  auto say = [&](const std::string& m) { emit(ctx, err, m, err_b); };
  if (n == "true") return 0;
  if (n == "false") return 1;
  if (n == "command" || n == "type" || n == "hash") {  // reports: src/shell/commands.cc
    std::vector<std::string_view> words{n};
    words.insert(words.end(), a.begin(), a.end());
    std::string o, e;
    int code = resolution_builtin(Resolver{is_builtin, &ctx.o.commands}, words, &o, &e);
    if (!e.empty()) say(e);
    return emit(ctx, out, o, out_b) ? code : 1;
  }
  if (n == "pwd") return emit(ctx, out, st.cwd + "\n", out_b) ? 0 : 1;
  if (n == "echo") {
    bool newline = true;
    size_t i = 0;
    if (!a.empty() && a[0] == "-n") {
      newline = false;
      i = 1;
    }
    Str s = ctx.str();  // charged: one more copy of the words
    size_t total = newline ? 1 : 0;
    for (size_t k = i; k < a.size(); ++k) total += a[k].size() + 1;
    s.reserve(total);
    for (size_t k = i; k < a.size(); ++k) {
      if (k > i) s.push_back(' ');
      s.append(a[k].data(), a[k].size());
    }
    if (newline) s.push_back('\n');
    return emit(ctx, out, view(s), out_b) ? 0 : 1;
  }
  if (n == "exit") {
    long long v = st.last;
    if (!a.empty() && !parse_int(a[0], &v)) {
      say("exit: " + shown(a[0]) + ": numeric argument required\n");
      v = 2;
    }
    st.exit_requested = true;
    return static_cast<int>(v & 0xff);
  }
  if (n == "test" || n == "[") {
    if (n == "[") {
      if (a.empty() || a.back() != "]") {
        say("[: missing ']'\n");
        return 2;
      }
      a.pop_back();
    }
    return builtin_test(ctx, st, a, err, err_b);
  }
  if (n == "cd") {
    std::string target = a.empty() ? (ctx.o.preopens.empty() ? "/" : ctx.o.preopens[0].guest_path)
                                   : std::string(a[0].substr(0, kMaxPathBytes + 1));
    auto f = resolve_guest(ctx, st.cwd, target);
    struct stat s {};
    if (!f) {
      say("cd: " + f.error().message + "\n");
      return 1;
    }
    if (::fstatat(f->rp.dir.get(), f->rp.name.c_str(), &s, AT_SYMLINK_NOFOLLOW) != 0 ||
        !S_ISDIR(s.st_mode)) {
      say("cd: " + shown(target) + ": No such directory\n");
      return 1;
    }
    st.cwd = f->guest;
    return 0;
  }
  return 127;
}

// --- commands ------------------------------------------------------------------------------

// The shell_command_start record, written before the command does anything (opens its
// redirections, runs): record or refuse (docs/audit.md). When it fails the command does not run
// and the script stops with the error (exit 74).
bool audit_command_start(Ctx& ctx, const Vec<Str>& argv) {
  if (!ctx.o.audit) return true;
  nlohmann::json args = nlohmann::json::array();
  for (const auto& a : argv) args.push_back(std::string(view(a)));
  nlohmann::json j = {{"time", audit::now_rfc3339()},
                      {"event", "shell_command_start"},
                      {"invocation_id", ctx.o.invocation_id},
                      {"argv", std::move(args)}};
  auto w = ctx.o.audit->append(j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  if (w) return true;
  ctx.set_fatal(Error(ErrorCode::kIo, w.error().message +
                                          "; the command was not run and the script stopped"));
  return false;
}

// The shell_command record after the command. When it fails, the script stops with the error
// (exit 74): the command ran, its start is recorded, its outcome is not.
void audit_command(Ctx& ctx, const Vec<Str>& argv, const std::string& kind, int exit_code,
                   double ms, uint64_t out_b, uint64_t err_b) {
  if (!ctx.o.audit) return;
  nlohmann::json args = nlohmann::json::array();
  for (const auto& a : argv) args.push_back(std::string(view(a)));
  nlohmann::json j = {{"time", audit::now_rfc3339()},
                      {"event", "shell_command"},
                      {"invocation_id", ctx.o.invocation_id},
                      {"argv", std::move(args)},
                      {"kind", kind},
                      {"exit", exit_code},
                      {"duration_ms", ms},
                      {"stdout_bytes", out_b},
                      {"stderr_bytes", err_b}};
  auto w = ctx.o.audit->append(j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  if (!w) {
    ctx.set_fatal(Error(ErrorCode::kIo, "the command ran (status " + std::to_string(exit_code) +
                                            ") but " + w.error().message +
                                            "; the script stopped"));
  }
}

// A bound of the budget was hit by a command: as sh after a failed expansion, the message goes
// to the shell's stderr and the command fails with status 1; the script goes on. The deadline
// and a stopped script stop the script instead (nothing more to say: the error is recorded).
int limit_status(Ctx& ctx, const LimitHit& h, int err) {
  if (h.stop()) {
    if (h.error().code == ErrorCode::kDeadlineExceeded) ctx.set_fatal(h.error());
    return 1;
  }
  emit(ctx, err, "wasmcap sh: " + h.error().message + "\n");
  return 1;
}

// --- nested shells and #! scripts (what they ask for is parsed in nested.cc) -----------------

// Reads at most `limit` bytes of `fd` into a charged string; false on a read error. Waits in
// slices so that the deadline (budget check, throws LimitHit) also ends a wait on a terminal or
// a pipe whose writer never finishes (`sh` reading its script from stdin).
bool read_bounded(Ctx& ctx, int fd, size_t limit, Str* out) {
  char buf[16384];
  while (out->size() < limit) {
    ctx.budget->check();
    struct pollfd p = {fd, POLLIN, 0};
    int ready = ::poll(&p, 1, 50);
    if (ready < 0 && errno == EINTR) continue;
    if (ready < 0) return false;
    if (ready == 0) continue;
    ssize_t n = ::read(fd, buf, std::min(sizeof buf, limit - out->size()));
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (n < 0) return false;
    if (n == 0) break;
    out->append(buf, static_cast<size_t>(n));
  }
  return true;
}

// The variables a nested shell inherits: the exported ones. The executor has no `export` yet,
// so those are the environment the session started with (Options::variables), at their
// current values, as in sh.
void inherit_exported(Ctx& ctx, const State& from, State& to) {
  for (const auto& [name, value] : ctx.o.variables) {
    auto it = from.vars.find(std::string_view(name));
    if (it != from.vars.end()) to.vars.emplace(it->first, it->second);
  }
}

// `sh ARGS` / `bash ARGS`: a nested shell in the same sandbox and on the same session counters
// (commands, output, live commands, deadline, memory budget): its own state (variables: the
// exported ones; cwd: the caller's), parsed and run like the top-level script. Its parse error
// or a refused option is its status 2, as sh.
int run_nested_shell(Ctx& ctx, const State& st, const Vec<Str>& argv, const int fds[3],
                     std::atomic<uint64_t>* err_b) {
  auto say = [&](const std::string& m) { emit(ctx, fds[2], "wasmcap sh: " + m + "\n", err_b); };
  if (st.nesting >= kMaxNestedShells) {
    say(shown(view(argv[0])) + ": nested shells are at most " + std::to_string(kMaxNestedShells) +
        " deep");
    return 2;
  }
  std::vector<std::string_view> words;
  for (const auto& w : argv) words.push_back(view(w));
  auto inv = parse_nested_argv(words);
  if (!inv) {
    say(inv.error().message);
    return 2;
  }
  constexpr size_t kMaxScript = 16u << 20;  // as a script FILE or stdin of `wasmcap sh`
  Str text = ctx.str();
  if (inv->source == NestedInvocation::Source::kString) {
    text.assign(inv->text.data(), inv->text.size());
  } else {
    Fd owned;
    int fd = fds[0];
    if (inv->source == NestedInvocation::Source::kFile) {
      auto f = open_redirect(ctx, st.cwd, inv->text, O_RDONLY);
      if (!f) {
        say(f.error().message);  // (names the path)
        return 127;
      }
      owned = std::move(*f);
      fd = owned.get();
    }
    if (fd >= 0 && (!read_bounded(ctx, fd, kMaxScript + 1, &text) || text.size() > kMaxScript)) {
      say(shown(view(argv[0])) + ": cannot read the script (at most 16 MiB)");
      return 2;
    }
  }
  uint64_t ast_bytes = 0;
  Budget::Lease copy(ctx.budget, text.size());  // the parser's copy of the text
  auto script = parse(std::string(view(text)), nullptr, ctx.budget, &ast_bytes);
  Budget::Lease ast(ctx.budget, ast_bytes, Budget::Lease::kAdopt);
  if (!script) {
    say(shown(inv->arg0) + ": " + script.error().message);
    return 2;
  }
  State child(ctx.budget);
  child.cwd = st.cwd;
  child.nesting = st.nesting + 1;
  inherit_exported(ctx, st, child);
  // $0 and $1... (inv->arg0, inv->args) are set once the executor has positional parameters.
  return run_list(ctx, child, *script, Io{fds[0], fds[1], fds[2]});
}

// A command word holding '/' names a script (`./tool.py`): it must be a readable, executable
// regular file beneath a preopen. Its `#!` line (read through the same resolver as a
// redirection) names the interpreter, a command looked up like any other; without one it is a
// shell script. argv becomes INTERPRETER [ARG] PATH ARGS... (PATH made absolute: the tool's
// working directory is not the shell's). Returns -1 when argv is ready, else a status.
int prepare_script(Ctx& ctx, const State& st, Vec<Str>& argv, int err, std::atomic<uint64_t>* err_b) {
  auto say = [&](const std::string& m) { emit(ctx, err, "wasmcap sh: " + m + "\n", err_b); };
  std::string path(view(argv[0]));
  auto f = open_redirect(ctx, st.cwd, path, O_RDONLY);
  if (!f) {
    say(f.error().message);  // (names the path)
    return 127;
  }
  struct stat sb;
  if (::fstat(f->get(), &sb) != 0 || !S_ISREG(sb.st_mode) || (sb.st_mode & 0111) == 0) {
    say(shown(path) + ": Permission denied (not an executable file)");
    return 126;
  }
  Str head = ctx.str();
  if (!read_bounded(ctx, f->get(), kMaxShebangBytes + 1, &head)) {
    say(shown(path) + ": cannot read it");
    return 126;
  }
  auto sb_line = parse_shebang(view(head));
  if (!sb_line) {
    say(shown(path) + ": " + sb_line.error().message);
    return 126;
  }
  std::string interp = sb_line->interpreter.empty() ? "sh" : sb_line->interpreter;
  auto where = locate(ctx, st.cwd, path);  // opened above: it locates
  if (!where) return 127;
  argv[0] = ctx.str(where->guest);
  if (!sb_line->arg.empty()) argv.insert(argv.begin(), ctx.str(sb_line->arg));
  argv.insert(argv.begin(), ctx.str(interp));
  return -1;
}

// Runs one simple command with the given stdio (borrowed fds; -1 = none). Throws LimitHit.
int run_command_unguarded(Ctx& ctx, State& st, const Command& cmd, const Io& io) {
  const int in = io.in, out = io.out, err = io.err;
  if (ctx.stopped()) return 1;
  if (ctx.commands.fetch_add(1) >= ctx.o.max_commands && ctx.o.max_commands != 0) {
    ctx.set_fatal(Error(ErrorCode::kFuelExhausted,
                        "the script started more than " + std::to_string(ctx.o.max_commands) +
                            " commands (--max-commands)"));
    return 1;
  }
  auto start = Clock::now();
  Vec<Str> argv(ctx.alloc());
  int subst_status = 0;  // a command of assignments only exits with its last substitution's
  for (const Word& w : cmd.words) expand(ctx, st, w, true, io, &subst_status, argv);
  Vec<std::pair<std::string_view, Str>> assigns(ctx.alloc());
  for (const auto& [name, w] : cmd.assigns) {
    Vec<Str> v(ctx.alloc());
    expand(ctx, st, w, false, io, &subst_status, v);
    Str joined = ctx.str();
    for (size_t k = 0; k < v.size(); ++k) {
      if (k) joined.push_back(' ');
      joined.append(v[k]);
    }
    assigns.emplace_back(name, std::move(joined));
  }
  if (ctx.stopped()) return 1;  // a substitution hit a script limit
  if ((!argv.empty() || !cmd.redirects.empty()) && !audit_command_start(ctx, argv)) return 1;
  // Redirections, in order.
  int fds[3] = {in, out, err};
  std::vector<Fd> owned;
  for (const Redirect& r : cmd.redirects) {
    if (r.op == Redirect::Op::kDup) {
      fds[r.fd] = fds[r.dup_to];
      continue;
    }
    Vec<Str> t(ctx.alloc());
    expand(ctx, st, r.target, true, io, &subst_status, t);
    if (t.size() != 1) {
      emit(ctx, fds[2], "wasmcap sh: ambiguous redirect\n");
      return 1;
    }
    if (view(t[0]) == "/dev/null") {  // the one virtual file: writes discarded, reads see EOF
      fds[r.fd] = -1;
      continue;
    }
    int flags = r.op == Redirect::Op::kIn ? O_RDONLY
                : r.op == Redirect::Op::kOut ? (O_WRONLY | O_CREAT | O_TRUNC)
                                             : (O_WRONLY | O_CREAT | O_APPEND);
    auto f = open_redirect(ctx, st.cwd, view(t[0]), flags);
    if (!f) {
      emit(ctx, fds[2], "wasmcap sh: " + f.error().message + "\n");
      return 1;
    }
    fds[r.fd] = f->get();
    owned.push_back(std::move(*f));
  }
  if (ctx.stopped()) return 1;  // a substitution hit a script limit
  if (argv.empty()) {
    for (auto& [k, v] : assigns) set_var(ctx, st, k, std::move(v));
    return subst_status;
  }
  std::atomic<uint64_t> out_b{0}, err_b{0};
  auto finish = [&](const std::string& kind, int code) {
    double ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
    audit_command(ctx, argv, kind, code, ms, out_b, err_b);
    return code;
  };
  if (view(argv[0]) == "command") {  // `command NAME ARGS...` runs NAME (no functions to skip yet)
    std::vector<std::string_view> words;
    for (const auto& w : argv) words.push_back(view(w));
    size_t skip = 0;
    if (command_runs(words, &skip)) argv.erase(argv.begin(), argv.begin() + static_cast<long>(skip));
  }
  if (view(argv[0]).find('/') != std::string_view::npos) {  // a script by path: ./tool.py
    int code = prepare_script(ctx, st, argv, fds[2], &err_b);
    if (code >= 0) return finish(code == 127 ? "not_found" : "script", code);
  }
  if (is_builtin(view(argv[0]))) {
    int code = run_builtin(ctx, st, argv, fds[1], fds[2], &out_b, &err_b);
    return finish("builtin", code);
  }
  if (is_nested_shell_name(view(argv[0]))) {
    return finish("shell", run_nested_shell(ctx, st, argv, fds, &err_b));
  }
  // (Command names are short: a longer argv[0] is not copied just to be looked up.)
  auto tool = argv[0].size() > kMaxPathBytes ? ctx.o.commands.end()
                                             : ctx.o.commands.find(std::string(view(argv[0])));
  if (tool == ctx.o.commands.end()) {
    emit(ctx, fds[2], "wasmcap sh: " + shown(view(argv[0])) + ": command not found\n", &err_b);
    return finish("not_found", 127);
  }
  // The tool's argv and environment are plain strings (RunOptions): charged while they live.
  size_t copied = 0;
  for (const auto& a : argv) copied += a.size() + sizeof(std::string);
  for (const auto& [k, v] : assigns) copied += k.size() + v.size() + 2 * sizeof(std::string);
  Budget::Lease lease(ctx.budget, copied);
  RunOptions ro;
  ro.engine = ctx.o.engine;
  ro.aot = ctx.o.aot;
  ro.aot.progress = false;
  ro.max_memory_bytes = ctx.o.max_memory_bytes;
  ro.interrupt = &ctx.interrupt;
  ro.record_run = false;  // the command's own records (shell_command_start, shell_command) stand for it
  ro.module_sha256 = tool->second.module_sha256;
  if (ctx.deadline != Clock::time_point::max()) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(ctx.deadline - Clock::now());
    ro.timeout_ms = left.count() > 1 ? static_cast<uint64_t>(left.count()) : 1;
  }
  for (const auto& a : argv) ro.wasi.args.emplace_back(view(a));
  ro.wasi.args[0] = tool->second.tool;
  ro.wasi.env.emplace_back("PWD", st.cwd);
  for (auto& [k, v] : assigns) ro.wasi.env.emplace_back(std::string(k), std::string(view(v)));
  ro.wasi.preopens = ctx.o.preopens;
  if (tool->second.data) ro.wasi.preopens.push_back(*tool->second.data);
  if (tool->second.https) {
    // Linked so that the module loads; a plan granting no rule refuses every request.
    auto plan = std::make_shared<policy::Plan>();
    plan->plugin = tool->second.bundle;
    plan->version = tool->second.version;
    plan->https.emplace();
    ro.plan = std::move(plan);
    ro.host_apis.add(Capability::kHostApiHttps);
  }
  ro.wasi.stdin_fd = fds[0];
  ro.wasi.clock_wall = tool->second.clock_wall;
  ro.wasi.clock_monotonic = tool->second.clock_monotonic;
  if (!tool->second.random) ro.wasi.random.kind = RandomSource::Kind::kDeny;
  pin_clock(ro.wasi, ctx.o.clock);
  pin_random(ro.wasi, ctx.o.random);
  auto sink = [&ctx](int fd, std::atomic<uint64_t>* count) {
    return [&ctx, fd, count](const uint8_t* p, size_t n) -> bool {
      return emit(ctx, fd, std::string_view(reinterpret_cast<const char*>(p), n), count);
    };
  };
  ro.wasi.stdout_sink = sink(fds[1], &out_b);
  ro.wasi.stderr_sink = sink(fds[2], &err_b);
  auto report = run_module(*tool->second.module, std::move(ro));
  int code;
  if (report) {
    code = report->exit_code;
  } else {
    if (report.error().code == ErrorCode::kDeadlineExceeded) {
      ctx.set_fatal(Error(ErrorCode::kDeadlineExceeded,
                          "the script ran past its deadline (--timeout-ms)"));
    }
    emit(ctx, fds[2], "wasmcap sh: " + shown(view(argv[0])) + ": " + report.error().to_string() + "\n");
    code = error_exit_code(report.error().code);
  }
  return finish("tool", code & 0xff);
}

// The command boundary: a bound hit anywhere inside (expansion, globbing, a substitution,
// a variable) fails this command only.
int run_command(Ctx& ctx, State& st, const Command& cmd, const Io& io) {
  try {
    return run_command_unguarded(ctx, st, cmd, io);
  } catch (const LimitHit& h) {
    return limit_status(ctx, h, io.err);
  }
}

int run_pipeline(Ctx& ctx, State& st, const Pipeline& p, const Io& io) {
  size_t n = p.commands.size();
  // Threat: `a | a | a ...` thousands of stages deep, or pipelines nested in $(...): each
  // stage is a thread and a tool instance. Stages per pipeline and commands running at once in
  // the session are capped; over either, the pipeline fails before anything starts.
  std::optional<Budget::Commands> running;
  try {
    running.emplace(ctx.budget->start_commands(n));
  } catch (const LimitHit& h) {
    return limit_status(ctx, h, io.err);
  }
  if (n == 1) return run_command(ctx, st, p.commands[0], io);
  // pipes[i]: from stage i to stage i+1. Bounded by the kernel's pipe buffer: a fast writer
  // blocks until the reader catches up.
  std::vector<Fd> rd(n), wr(n);
  for (size_t i = 0; i + 1 < n; ++i) {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) {
      emit(ctx, io.err, std::string("wasmcap sh: pipe: ") + std::strerror(errno) + "\n");
      return 1;
    }
    rd[i] = Fd(fds[0]);
    wr[i] = Fd(fds[1]);
  }
  std::vector<int> codes(n, 0);
  std::vector<std::thread> threads;
  for (size_t i = 0; i < n; ++i) {
    threads.emplace_back([&, i]() {
      // A stage whose reader has exited (`echo a | true`) must see EPIPE, never kill the host
      // process: SIGPIPE from write(2) goes to the writing thread, so blocking it here keeps it
      // pending on this thread (discarded when the thread ends) whatever the embedder's
      // disposition. The CLI ignores SIGPIPE as well; the library must not depend on that.
      sigset_t pipe_only;
      sigemptyset(&pipe_only);
      sigaddset(&pipe_only, SIGPIPE);
      pthread_sigmask(SIG_BLOCK, &pipe_only, nullptr);
      int in = i == 0 ? io.in : rd[i - 1].get();
      int out = i + 1 == n ? io.out : wr[i].get();
      try {
        State local = st;  // each stage is a subshell: cd/exit/assignments stay local
        codes[i] = run_command(ctx, local, p.commands[i], Io{in, out, io.err});
      } catch (const LimitHit& h) {  // the copy of the state did not fit
        codes[i] = limit_status(ctx, h, io.err);
      }
      // Done: close this stage's ends so the next sees EOF and the previous sees EPIPE.
      if (i + 1 < n) wr[i].reset();
      if (i > 0) rd[i - 1].reset();
    });
  }
  for (auto& t : threads) t.join();
  return codes.back();
}

int run_list(Ctx& ctx, State& st, const Script& script, const Io& io) {
  for (const AndOr& ao : script.items) {
    if (st.exit_requested || ctx.stopped()) break;
    int code = run_pipeline(ctx, st, ao.pipelines[0], io);
    for (size_t k = 1; k < ao.pipelines.size() && !st.exit_requested && !ctx.stopped(); ++k) {
      st.last = code;
      bool run = ao.and_ops[k - 1] ? code == 0 : code != 0;
      if (run) code = run_pipeline(ctx, st, ao.pipelines[k], io);
    }
    st.last = code;
  }
  return st.last;
}

}  // namespace

struct Session::Impl {
  explicit Impl(Options opts)
      : o(std::move(opts)),
        budget(Budget::Limits{o.max_shell_memory_bytes, o.max_words, o.max_pipeline_stages,
                              o.max_live_commands}),
        st(&budget) {}
  Options o;
  Budget budget;  // before st: the state's memory is returned to it when st is destroyed
  State st;
};

Result<std::unique_ptr<Session>> Session::create(Options options) {
  auto impl = std::make_unique<Impl>(std::move(options));
  if (impl->o.invocation_id.empty()) {
    WASMCAP_TRY_ASSIGN(impl->o.invocation_id, make_invocation_id());
  }
  impl->st.cwd = !impl->o.cwd.empty()         ? impl->o.cwd
                 : impl->o.preopens.empty() ? "/"
                                            : impl->o.preopens[0].guest_path;
  for (const auto& [name, value] : impl->o.variables) {
    Ctx ctx;
    ctx.budget = &impl->budget;
    try {
      set_var(ctx, impl->st, name, ctx.str(value));
    } catch (const LimitHit& h) {
      return tl::unexpected(h.error());
    }
  }
  return std::unique_ptr<Session>(new Session(std::move(impl)));
}

Session::Session(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Session::~Session() = default;
bool Session::exited() const { return impl_->st.exit_requested; }
int Session::last_status() const { return impl_->st.last; }
std::string Session::cwd() const { return impl_->st.cwd; }
uint64_t Session::memory_in_use() const { return impl_->budget.used(); }

Result<Outcome> Session::run(const std::string& text) {
  if (impl_->st.exit_requested) {
    return make_error(ErrorCode::kInvalidArgument, "the shell session has exited");
  }
  Ctx ctx;  // limits, counters and the deadline are per script
  ctx.o = impl_->o;
  ctx.budget = &impl_->budget;
  if (ctx.o.deadline_ms != 0) {
    ctx.deadline = Clock::now() + std::chrono::milliseconds(ctx.o.deadline_ms);
  }
  // The budget checks this script's deadline and stop flag on every charge and in long loops,
  // from the parse on.
  struct Disarm {
    Budget& b;
    ~Disarm() { b.disarm(); }
  } disarm{impl_->budget};
  impl_->budget.arm(ctx.deadline, &ctx.interrupt);
  uint64_t ast_bytes = 0;
  auto script = parse(text, nullptr, &impl_->budget, &ast_bytes);
  if (!script) {
    impl_->st.last = 2;  // as sh after a syntax error
    return tl::unexpected(script.error());
  }
  Budget::Lease ast(&impl_->budget, ast_bytes, Budget::Lease::kAdopt);  // held by the AST
  State& st = impl_->st;
  // A watchdog turns the deadline into an interrupt for builtins' waits and running tools.
  std::atomic<bool> done{false};
  std::thread watchdog;
  if (ctx.o.deadline_ms != 0) {
    watchdog = std::thread([&]() {
      while (!done) {
        if (Clock::now() >= ctx.deadline) {
          ctx.set_fatal(Error(ErrorCode::kDeadlineExceeded,
                              "the script ran past its deadline (--timeout-ms)"));
          return;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
      }
    });
  }
  run_list(ctx, st, *script, Io{ctx.o.stdin_fd, ctx.o.stdout_fd, ctx.o.stderr_fd});
  done = true;
  if (watchdog.joinable()) watchdog.join();
  if (ctx.fatal) {
    st.last = error_exit_code(ctx.fatal->code);
    return tl::unexpected(*ctx.fatal);
  }
  return Outcome{st.last, ctx.commands.load()};
}

bool needs_more_input(const std::string& text) {
  // The interactive shell asks this for every line of a growing input: the parse is bounded by
  // a budget of the default size (over it the input counts as complete, and the session's own
  // parse then reports the bound).
  Budget scratch(Budget::Limits{Options{}.max_shell_memory_bytes, 0, 0, 0});
  bool incomplete = false;
  uint64_t charged = 0;
  (void)parse(text, &incomplete, &scratch, &charged);
  return incomplete;
}

Result<Outcome> run_script(const std::string& text, Options options) {
  // The session's run parses (within its budget) before anything runs.
  std::unique_ptr<Session> session;
  WASMCAP_TRY_ASSIGN(session, Session::create(std::move(options)));
  return session->run(text);
}

}  // namespace wasmcap::shell

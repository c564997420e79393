// The shell's executor (docs/shell.md): expansion, globbing, redirections confined beneath the
// preopens, builtins, and tools run as WASI modules, concurrently in pipelines.
#include <dirent.h>
#include <fcntl.h>
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

#include "shell/parse.h"
#include "wasi/path.h"
#include "wasmcap/runtime.h"
#include "wasmcap/shell.h"

namespace wasmcap::shell {

const std::vector<std::pair<std::string, std::string>>& command_table_spec() {
  static const std::vector<std::pair<std::string, std::string>> kTable = {
      {"ls", "coreutils"},   {"cat", "coreutils"},  {"grep", "coreutils"}, {"mkdir", "coreutils"},
      {"rm", "coreutils"},   {"cp", "coreutils"},   {"mv", "coreutils"},   {"head", "coreutils"},
      {"tail", "coreutils"}, {"wc", "coreutils"},   {"find", "coreutils"}, {"sed", "coreutils"},
      {"touch", "coreutils"}};
  return kTable;
}

namespace {

using Clock = std::chrono::steady_clock;

struct State {  // what a subshell (a pipeline stage) copies
  std::string cwd;
  std::map<std::string, std::string> vars;
  int last = 0;
  bool exit_requested = false;
};

struct Ctx {
  Options o;
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
};

// The one owning-descriptor type (src/wasi/path.h), shared with the WASI layer.
using Fd = wasi::UniqueFd;

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
bool write_str(int fd, const std::string& s) { return write_all(fd, s.data(), s.size()); }

// --- paths: guest path -> (preopen, relative path), never outside a preopen -----------------

struct Located {
  const Preopen* preopen = nullptr;
  std::vector<std::string> rel;  // components beneath the preopen
  std::string guest;             // normalized guest path
};

std::vector<std::string> components(const std::string& p) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < p.size()) {
    size_t j = p.find('/', i);
    if (j == std::string::npos) j = p.size();
    if (j > i) out.push_back(p.substr(i, j - i));
    i = j + 1;
  }
  return out;
}

Result<Located> locate(const Ctx& ctx, const std::string& cwd, const std::string& path) {
  std::string abs = !path.empty() && path[0] == '/' ? path : cwd + "/" + path;
  std::vector<std::string> norm;
  for (const auto& c : components(abs)) {
    if (c == ".") continue;
    if (c == "..") {
      if (norm.empty()) {
        return make_error(ErrorCode::kGrantDenied, path + ": outside the granted directories");
      }
      norm.pop_back();
      continue;
    }
    norm.push_back(c);
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
    return make_error(ErrorCode::kGrantDenied, path + ": outside the granted directories");
  }
  best.rel.assign(norm.begin() + static_cast<long>(best_len), norm.end());
  best.guest = "/";
  for (size_t k = 0; k < norm.size(); ++k) best.guest += (k ? "/" : "") + norm[k];
  return best;
}

// Opens the directory holding loc's last component (or the preopen itself when rel is empty and
// `want_parent` is false), never following a symlink on the way.
Result<Fd> open_dir_beneath(const Located& loc, size_t depth) {
  Fd cur(::open(loc.preopen->host_path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (cur.get() < 0) return make_error(ErrorCode::kIo, loc.guest + ": " + std::strerror(errno));
  for (size_t k = 0; k < depth; ++k) {
    int fd = ::openat(cur.get(), loc.rel[k].c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
      return make_error(ErrorCode::kIo, loc.guest + ": " + std::strerror(errno == ELOOP ? ENOTDIR : errno));
    }
    cur = Fd(fd);
  }
  return cur;
}

// Opens a file for a redirection beneath its preopen.
Result<Fd> open_redirect(const Ctx& ctx, const std::string& cwd, const std::string& path, int flags) {
  auto loc = locate(ctx, cwd, path);
  if (!loc) return tl::unexpected(loc.error());
  bool writes = (flags & (O_WRONLY | O_RDWR)) != 0;
  if (writes && loc->preopen->read_only) {
    return make_error(ErrorCode::kGrantDenied, path + ": read-only directory");
  }
  if (loc->rel.empty()) return make_error(ErrorCode::kInvalidArgument, path + ": is a directory");
  auto dir = open_dir_beneath(*loc, loc->rel.size() - 1);
  if (!dir) return tl::unexpected(dir.error());
  int fd = ::openat(dir->get(), loc->rel.back().c_str(), flags | O_NOFOLLOW | O_CLOEXEC, 0644);
  if (fd < 0) {
    return make_error(ErrorCode::kIo, path + ": " +
                                          (errno == ELOOP ? std::string("is a symlink (not followed)")
                                                          : std::string(std::strerror(errno))));
  }
  struct stat st;
  if (::fstat(fd, &st) != 0 || S_ISDIR(st.st_mode)) {
    ::close(fd);
    return make_error(ErrorCode::kInvalidArgument, path + ": is a directory");
  }
  return Fd(fd);
}

// lstat of a guest path beneath its preopen (for test -e/-f/-d, cd). Symlinks are not followed.
std::optional<struct stat> stat_guest(const Ctx& ctx, const std::string& cwd, const std::string& p) {
  auto loc = locate(ctx, cwd, p);
  if (!loc) return std::nullopt;
  struct stat st;
  if (loc->rel.empty()) {
    if (::stat(loc->preopen->host_path.c_str(), &st) != 0) return std::nullopt;
    return st;
  }
  auto dir = open_dir_beneath(*loc, loc->rel.size() - 1);
  if (!dir) return std::nullopt;
  if (::fstatat(dir->get(), loc->rel.back().c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) return std::nullopt;
  return st;
}

// --- expansion ----------------------------------------------------------------------------

struct Field {
  std::string text;
  std::vector<bool> glob;  // per byte: an unquoted * ? [ that may glob
  bool any = false;        // the field exists even if empty (quoted "")
};

std::vector<std::string> list_names(const Ctx& ctx, const std::string& cwd, const std::string& dir) {
  std::vector<std::string> names;
  auto loc = locate(ctx, cwd, dir.empty() ? "." : dir);
  if (!loc) return names;
  auto fd = open_dir_beneath(*loc, loc->rel.size());
  if (!fd) return names;
  int dup = ::dup(fd->get());
  DIR* d = dup >= 0 ? ::fdopendir(dup) : nullptr;
  if (d == nullptr) {
    if (dup >= 0) ::close(dup);
    return names;
  }
  while (dirent* e = ::readdir(d)) {
    std::string n = e->d_name;
    if (n != "." && n != "..") names.push_back(n);
    if (names.size() > 100000) break;  // bounds one glob's host memory
  }
  ::closedir(d);
  std::sort(names.begin(), names.end());
  return names;
}

// Expands the glob characters of `f` against the tree (bash semantics without options: sorted,
// dotfiles only by an explicit '.', no match = the word unchanged).
std::vector<std::string> glob(const Ctx& ctx, const std::string& cwd, const Field& f) {
  bool has = false;
  for (size_t i = 0; i < f.text.size(); ++i) has = has || f.glob[i];
  if (!has) return {f.text};
  // Split into components, each with a pattern (quoted specials escaped for fnmatch).
  std::vector<std::pair<std::string, std::string>> comps;  // (literal text, pattern)
  std::string lit, pat;
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
  std::vector<std::string> cur = {absolute ? "/" : ""};
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
    std::vector<std::string> next;
    for (const auto& base : cur) {
      std::string sep = base.empty() || base.back() == '/' ? "" : "/";
      if (!is_pat) {
        next.push_back(base + sep + l);
        continue;
      }
      for (const auto& n : list_names(ctx, cwd, base)) {
        if (::fnmatch(p.c_str(), n.c_str(), FNM_PERIOD) == 0) next.push_back(base + sep + n);
      }
    }
    cur = std::move(next);
    if (cur.empty()) break;
  }
  // Candidates from literal components must exist.
  std::vector<std::string> out;
  for (const auto& c : cur) {
    if (stat_guest(ctx, cwd, c)) out.push_back(c);
  }
  if (out.empty()) return {f.text};
  std::sort(out.begin(), out.end());
  return out;
}

std::string var_value(const State& st, const std::string& name) {
  if (name == "?") return std::to_string(st.last);
  if (name == "PWD") return st.cwd;
  auto it = st.vars.find(name);
  return it == st.vars.end() ? "" : it->second;
}

struct Io {  // a command's stdio (borrowed fds; -1 = none)
  int in = -1, out = -1, err = -1;
};

int run_list(Ctx& ctx, State& st, const Script& script, const Io& io);

// $(...): runs the inner script in this executor (no process, no fork) on a copy of the state,
// so cd, assignments and exit stay inside, as in a subshell. Its stdout goes into a pipe that a
// reader thread drains into a buffer of at most max_substitution_bytes (past that the script
// stops with output_limit; the reader keeps draining, so writers never block or see EPIPE). Its
// stdin and stderr are the enclosing command's, before that command's redirections (as in sh).
// Trailing newlines are removed. `*status` is the inner script's exit status.
std::string substitute(Ctx& ctx, const State& st, const Script& inner, const Io& io, int* status) {
  int p[2];
  if (::pipe2(p, O_CLOEXEC) != 0) {
    write_str(io.err, std::string("wasmcap sh: pipe: ") + std::strerror(errno) + "\n");
    *status = 1;
    return "";
  }
  Fd rd(p[0]), wr(p[1]);
  std::string captured;
  const uint64_t cap = ctx.o.max_substitution_bytes;
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
      captured.append(buf, static_cast<size_t>(n));
    }
  });
  State sub = st;
  sub.exit_requested = false;
  run_list(ctx, sub, inner, Io{io.in, wr.get(), io.err});
  wr.reset();  // every writer is done (pipeline stages are joined): the reader sees EOF
  reader.join();
  *status = sub.last;
  while (!captured.empty() && captured.back() == '\n') captured.pop_back();
  return captured;
}

// Expands one word into fields. `io` is where substitutions read and report; `subst_status`
// (may be null) receives the exit status of the last substitution run.
std::vector<std::string> expand(Ctx& ctx, const State& st, const Word& w, bool do_glob,
                                const Io& io, int* subst_status) {
  std::vector<Field> fields(1);
  auto add = [&](char c, bool g) {
    fields.back().text.push_back(c);
    fields.back().glob.push_back(g);
    fields.back().any = true;
  };
  for (const WordPart& p : w.parts) {
    if (p.kind == WordPart::Kind::kLiteral) {
      if (p.quoted) fields.back().any = true;
      for (char c : p.text) add(c, !p.quoted && (c == '*' || c == '?' || c == '['));
      continue;
    }
    std::string v;
    if (p.kind == WordPart::Kind::kSubst) {
      int status = 0;
      v = substitute(ctx, st, *p.script, io, &status);
      if (subst_status != nullptr) *subst_status = status;
    } else {
      v = var_value(st, p.text);
    }
    if (p.quoted) {
      fields.back().any = true;
      for (char c : v) add(c, false);
      continue;
    }
    // Unquoted: split on blanks (IFS unset); the value's glob characters stay literal
    // (documented difference from sh). The same for a substitution's output.
    for (char c : v) {
      if (c == ' ' || c == '\t' || c == '\n') {
        if (fields.back().any) fields.emplace_back();
      } else {
        add(c, false);
      }
    }
  }
  std::vector<std::string> out;
  for (const Field& f : fields) {
    if (!f.any) continue;
    if (!do_glob) {
      out.push_back(f.text);
      continue;
    }
    for (auto& s : glob(ctx, st.cwd, f)) out.push_back(std::move(s));
  }
  return out;
}

// --- builtins -------------------------------------------------------------------------------

bool is_builtin(const std::string& n) {
  return n == "cd" || n == "pwd" || n == "echo" || n == "true" || n == "false" || n == "test" ||
         n == "[" || n == "exit";
}

bool parse_int(const std::string& s, long long* v) {
  if (s.empty()) return false;
  char* end = nullptr;
  errno = 0;
  *v = std::strtoll(s.c_str(), &end, 10);
  return errno == 0 && end != nullptr && *end == '\0';
}

// test / [ : 0 true, 1 false, 2 usage error.
int builtin_test(const Ctx& ctx, const State& st, std::vector<std::string> a, int err) {
  auto usage = [&](const std::string& m) {
    write_str(err, "test: " + m + "\n");
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
    const std::string& op = a[0];
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
      return usage(op + ": unary operator expected");
    }
  } else if (a.size() == 3) {
    const std::string& op = a[1];
    if (op == "=" || op == "==") r = a[0] == a[2] ? 0 : 1;
    else if (op == "!=") r = a[0] != a[2] ? 0 : 1;
    else if (op == "-eq" || op == "-ne" || op == "-lt" || op == "-le" || op == "-gt" || op == "-ge") {
      long long x, y;
      if (!parse_int(a[0], &x)) return usage(a[0] + ": integer expression expected");
      if (!parse_int(a[2], &y)) return usage(a[2] + ": integer expression expected");
      bool b = op == "-eq" ? x == y : op == "-ne" ? x != y : op == "-lt" ? x < y
             : op == "-le" ? x <= y : op == "-gt" ? x > y : x >= y;
      r = b ? 0 : 1;
    } else {
      return usage(op + ": binary operator expected");
    }
  } else {
    return usage("too many arguments (no -a/-o)");
  }
  return neg ? 1 - r : r;
}

int run_builtin(const Ctx& ctx, State& st, const std::vector<std::string>& argv, int out, int err) {
  const std::string& n = argv[0];
  std::vector<std::string> a(argv.begin() + 1, argv.end());
  if (n == "true") return 0;
  if (n == "false") return 1;
  if (n == "pwd") return write_str(out, st.cwd + "\n") ? 0 : 1;
  if (n == "echo") {
    bool newline = true;
    size_t i = 0;
    if (!a.empty() && a[0] == "-n") {
      newline = false;
      i = 1;
    }
    std::string s;
    for (size_t k = i; k < a.size(); ++k) s += (k > i ? " " : "") + a[k];
    if (newline) s += "\n";
    return write_str(out, s) ? 0 : 1;
  }
  if (n == "exit") {
    long long v = st.last;
    if (!a.empty() && !parse_int(a[0], &v)) {
      write_str(err, "exit: " + a[0] + ": numeric argument required\n");
      v = 2;
    }
    st.exit_requested = true;
    return static_cast<int>(v & 0xff);
  }
  if (n == "test" || n == "[") {
    if (n == "[") {
      if (a.empty() || a.back() != "]") {
        write_str(err, "[: missing ']'\n");
        return 2;
      }
      a.pop_back();
    }
    return builtin_test(ctx, st, a, err);
  }
  if (n == "cd") {
    std::string target = a.empty() ? (ctx.o.preopens.empty() ? "/" : ctx.o.preopens[0].guest_path)
                                   : a[0];
    auto loc = locate(ctx, st.cwd, target);
    auto s = loc ? stat_guest(ctx, st.cwd, target) : std::nullopt;
    if (!loc || !s || !S_ISDIR(s->st_mode)) {
      write_str(err, "cd: " + target + ": " +
                         (!loc ? "outside the granted directories" : "No such directory") + "\n");
      return 1;
    }
    st.cwd = loc->guest;
    return 0;
  }
  return 127;
}

// --- commands ------------------------------------------------------------------------------


void audit_command(Ctx& ctx, const std::vector<std::string>& argv, const std::string& kind,
                   int exit_code, double ms, uint64_t out_b, uint64_t err_b) {
  if (!ctx.o.audit) return;
  nlohmann::json j = {{"time", audit::now_rfc3339()},
                      {"event", "shell_command"},
                      {"invocation_id", ctx.o.invocation_id},
                      {"argv", argv},
                      {"kind", kind},
                      {"exit", exit_code},
                      {"duration_ms", ms},
                      {"stdout_bytes", out_b},
                      {"stderr_bytes", err_b}};
  ctx.o.audit->write(j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

// Runs one simple command with the given stdio (borrowed fds; -1 = none).
int run_command(Ctx& ctx, State& st, const Command& cmd, const Io& io) {
  const int in = io.in, out = io.out, err = io.err;
  if (ctx.stopped()) return 1;
  if (ctx.commands.fetch_add(1) >= ctx.o.max_commands && ctx.o.max_commands != 0) {
    ctx.set_fatal(Error(ErrorCode::kFuelExhausted,
                        "the script started more than " + std::to_string(ctx.o.max_commands) +
                            " commands (--max-commands)"));
    return 1;
  }
  auto start = Clock::now();
  std::vector<std::string> argv;
  int subst_status = 0;  // a command of assignments only exits with its last substitution's
  for (const Word& w : cmd.words) {
    for (auto& s : expand(ctx, st, w, true, io, &subst_status)) argv.push_back(std::move(s));
  }
  std::vector<std::pair<std::string, std::string>> assigns;
  for (const auto& [name, w] : cmd.assigns) {
    auto v = expand(ctx, st, w, false, io, &subst_status);
    std::string joined;
    for (size_t k = 0; k < v.size(); ++k) joined += (k ? " " : "") + v[k];
    assigns.emplace_back(name, joined);
  }
  // Redirections, in order.
  int fds[3] = {in, out, err};
  std::vector<Fd> owned;
  for (const Redirect& r : cmd.redirects) {
    if (r.op == Redirect::Op::kDup) {
      fds[r.fd] = fds[r.dup_to];
      continue;
    }
    auto t = expand(ctx, st, r.target, true, io, &subst_status);
    if (t.size() != 1) {
      write_str(fds[2], "wasmcap sh: ambiguous redirect\n");
      return 1;
    }
    if (t[0] == "/dev/null") {  // the one virtual file: writes discarded, reads see EOF
      fds[r.fd] = -1;
      continue;
    }
    int flags = r.op == Redirect::Op::kIn ? O_RDONLY
                : r.op == Redirect::Op::kOut ? (O_WRONLY | O_CREAT | O_TRUNC)
                                             : (O_WRONLY | O_CREAT | O_APPEND);
    auto f = open_redirect(ctx, st.cwd, t[0], flags);
    if (!f) {
      write_str(fds[2], "wasmcap sh: " + f.error().message + "\n");
      return 1;
    }
    fds[r.fd] = f->get();
    owned.push_back(std::move(*f));
  }
  if (ctx.stopped()) return 1;  // a substitution hit a script limit
  if (argv.empty()) {
    for (auto& [k, v] : assigns) st.vars[k] = v;
    return subst_status;
  }
  std::atomic<uint64_t> out_b{0}, err_b{0};
  auto finish = [&](const std::string& kind, int code) {
    double ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
    audit_command(ctx, argv, kind, code, ms, out_b, err_b);
    return code;
  };
  if (is_builtin(argv[0])) {
    int code = run_builtin(ctx, st, argv, fds[1], fds[2]);
    return finish("builtin", code);
  }
  auto tool = ctx.o.commands.find(argv[0]);
  if (tool == ctx.o.commands.end()) {
    write_str(fds[2], "wasmcap sh: " + argv[0] + ": command not found\n");
    return finish("not_found", 127);
  }
  RunOptions ro;
  ro.engine = ctx.o.engine;
  ro.aot = ctx.o.aot;
  ro.aot.progress = false;
  ro.max_memory_bytes = ctx.o.max_memory_bytes;
  ro.interrupt = &ctx.interrupt;
  ro.module_sha256 = tool->second.module_sha256;
  if (ctx.deadline != Clock::time_point::max()) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(ctx.deadline - Clock::now());
    ro.timeout_ms = left.count() > 1 ? static_cast<uint64_t>(left.count()) : 1;
  }
  ro.wasi.args = argv;
  ro.wasi.args[0] = tool->second.tool;
  ro.wasi.env.emplace_back("PWD", st.cwd);
  for (auto& kv : assigns) ro.wasi.env.push_back(kv);
  ro.wasi.preopens = ctx.o.preopens;
  ro.wasi.stdin_fd = fds[0];
  ro.wasi.clock_wall = tool->second.clock_wall;
  ro.wasi.clock_monotonic = tool->second.clock_monotonic;
  if (!tool->second.random) ro.wasi.random.kind = RandomSource::Kind::kDeny;
  pin_clock(ro.wasi, ctx.o.clock);
  pin_random(ro.wasi, ctx.o.random);
  auto sink = [&ctx](int fd, std::atomic<uint64_t>* count) {
    return [&ctx, fd, count](const uint8_t* p, size_t n) -> bool {
      uint64_t total = ctx.out_bytes.fetch_add(n) + n;
      if (ctx.o.max_output_bytes != 0 && total > ctx.o.max_output_bytes) {
        ctx.set_fatal(Error(ErrorCode::kOutputLimit,
                            "the script wrote more than " + std::to_string(ctx.o.max_output_bytes) +
                                " bytes (--max-output-bytes)"));
        return false;
      }
      *count += n;
      return write_all(fd, reinterpret_cast<const char*>(p), n);
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
    write_str(fds[2], "wasmcap sh: " + argv[0] + ": " + report.error().to_string() + "\n");
    code = error_exit_code(report.error().code);
  }
  return finish("tool", code & 0xff);
}

int run_pipeline(Ctx& ctx, State& st, const Pipeline& p, const Io& io) {
  if (p.commands.size() == 1) return run_command(ctx, st, p.commands[0], io);
  size_t n = p.commands.size();
  // pipes[i]: from stage i to stage i+1. Bounded by the kernel's pipe buffer: a fast writer
  // blocks until the reader catches up.
  std::vector<Fd> rd(n), wr(n);
  for (size_t i = 0; i + 1 < n; ++i) {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) {
      write_str(io.err, std::string("wasmcap sh: pipe: ") + std::strerror(errno) + "\n");
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
      State local = st;  // each stage is a subshell: cd/exit/assignments stay local
      int in = i == 0 ? io.in : rd[i - 1].get();
      int out = i + 1 == n ? io.out : wr[i].get();
      codes[i] = run_command(ctx, local, p.commands[i], Io{in, out, io.err});
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
  Options o;
  State st;
};

Result<std::unique_ptr<Session>> Session::create(Options options) {
  auto impl = std::make_unique<Impl>();
  impl->o = std::move(options);
  if (impl->o.invocation_id.empty()) {
    auto id = make_invocation_id();
    if (!id) return tl::unexpected(id.error());
    impl->o.invocation_id = *id;
  }
  impl->st.cwd = !impl->o.cwd.empty()         ? impl->o.cwd
                 : impl->o.preopens.empty() ? "/"
                                            : impl->o.preopens[0].guest_path;
  return std::unique_ptr<Session>(new Session(std::move(impl)));
}

Session::Session(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Session::~Session() = default;
bool Session::exited() const { return impl_->st.exit_requested; }
int Session::last_status() const { return impl_->st.last; }
std::string Session::cwd() const { return impl_->st.cwd; }

Result<Outcome> Session::run(const std::string& text) {
  if (impl_->st.exit_requested) {
    return make_error(ErrorCode::kInvalidArgument, "the shell session has exited");
  }
  auto script = parse(text);
  if (!script) {
    impl_->st.last = 2;  // as sh after a syntax error
    return tl::unexpected(script.error());
  }
  Ctx ctx;  // limits, counters and the deadline are per script
  ctx.o = impl_->o;
  if (ctx.o.deadline_ms != 0) {
    ctx.deadline = Clock::now() + std::chrono::milliseconds(ctx.o.deadline_ms);
  }
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
  bool incomplete = false;
  (void)parse(text, &incomplete);
  return incomplete;
}

Result<Outcome> run_script(const std::string& text, Options options) {
  // Parse before anything else (an invocation id is not needed to refuse a script).
  auto script = parse(text);
  if (!script) return tl::unexpected(script.error());
  auto session = Session::create(std::move(options));
  if (!session) return tl::unexpected(session.error());
  return (*session)->run(text);
}

}  // namespace wasmcap::shell

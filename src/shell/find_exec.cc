// `find ... -exec CMD {} ;` / `-exec CMD {} +` / `-execdir` (docs/shell.md "find -exec"): the
// find guest (GNU find from the toolbox, or coreutils' own) cannot start a process, so the shell
// runs the walk and the commands. The expression must be PREDICATES ACTIONS: predicates the
// guest evaluates (no action among them but -prune and -quit, no top-level `,`), then a chain of
// actions (-exec, -execdir, -print, -print0) the shell evaluates for each path in order, as GNU's
// find would: an -exec ... ; that fails is false and ends the chain for that path; -exec ... +
// is true and runs its batches as GNU's do. The guest runs first with PREDICATES -print0 and its
// whole output is read (charged to the shell's memory), then the commands run. Anything else
// with -exec is refused with a message, never approximated.
#include <fcntl.h>
#include <unistd.h>

#include <cstring>

#include "common/escape.h"
#include "shell/commands.h"
#include "shell/state.h"

namespace wasmcap::shell {

namespace {

constexpr size_t kArgMax = 131072;  // GNU's command buffer for -exec ... + (as xargs')

std::string said(std::string_view s) { return text::escape_ascii(s, 256, ""); }

struct Action {
  enum Kind { kPrint, kPrint0, kExec } kind = kPrint;
  bool dir = false;    // -execdir
  bool batch = false;  // ... {} +
  std::vector<std::string> words;  // the command, `{}` still in it (batch: without the `{}`)
  // a batch being built: its paths, their bytes (+1 each), and the directory (-execdir)
  std::vector<std::string> pending;
  size_t pending_chars = 0;
  std::string pending_dir;
  bool failed = false;
};

bool is_exec(std::string_view w) {
  return w == "-exec" || w == "-execdir" || w == "-ok" || w == "-okdir";
}

// GNU find's actions other than -exec*, -print, -print0, -prune and -quit.
bool is_guest_action(std::string_view w) {
  return w == "-delete" || w == "-printf" || w == "-fprintf" || w == "-fprint" ||
         w == "-fprint0" || w == "-ls" || w == "-fls";
}

struct Refusal {
  std::string message;
  bool gnu = false;  // GNU's own message (no pointer to the docs)
};

// Splits argv (find's words) into the guest's (starting points and predicates) and the actions.
void plan(const Vec<Str>& argv, std::vector<std::string>& guest, std::vector<Action>& actions) {
  size_t i = 1;
  guest.push_back("find");
  for (; i < argv.size(); ++i) {
    std::string_view w = view(argv[i]);
    if ((!w.empty() && w[0] == '-') || w == "!" || w == "(") break;
    guest.emplace_back(w);
  }
  int depth = 0;
  bool in_chain = false;
  for (; i < argv.size(); ++i) {
    std::string_view w = view(argv[i]);
    if (w == "-ok" || w == "-okdir") {
      throw Refusal{std::string(w) + ": refused: there is no terminal to ask on"};
    }
    if (w == "-exec" || w == "-execdir") {
      if (depth != 0) throw Refusal{std::string(w) + " inside ( ): refused (use it at the top level, after the tests)"};
      std::string_view prev = view(argv[i - 1]);
      if (prev == "!" || prev == "-not") throw Refusal{"! " + std::string(w) + ": refused"};
      Action a;
      a.kind = Action::kExec;
      a.dir = w == "-execdir";
      size_t k = i + 1;
      for (; k < argv.size(); ++k) {
        std::string_view x = view(argv[k]);
        if (x == ";") break;
        if (x == "+" && k > i + 1 && view(argv[k - 1]) == "{}") {
          a.batch = true;
          break;
        }
        a.words.emplace_back(x);
      }
      if (k == argv.size() || a.words.empty()) {
        throw Refusal{"missing argument to `" + std::string(w) + "'", true};
      }
      if (a.batch) {
        a.words.pop_back();  // the `{}` before `+`
        for (const auto& x : a.words) {
          if (x.find("{}") != std::string::npos) {
            throw Refusal{"Only one instance of {} is supported with " + std::string(w) +
                              " ... +",
                          true};
          }
        }
      }
      actions.push_back(std::move(a));
      in_chain = true;
      i = k;
      continue;
    }
    if (w == "-print" || w == "-print0") {
      if (depth != 0) {
        // An action among the tests: its output would mix with the paths read back.
        throw Refusal{std::string(w) + " inside ( ) with -exec: refused (put the actions after "
                      "the tests)"};
      }
      Action a;
      a.kind = w == "-print" ? Action::kPrint : Action::kPrint0;
      actions.push_back(std::move(a));
      in_chain = true;  // always true: the chain starts here
      continue;
    }
    if (!in_chain && is_guest_action(w)) {
      // GNU find's own output or deletion among the tests: what it prints would mix with the
      // paths read back, and it would delete before the commands run.
      throw Refusal{std::string(w) + " with -exec: refused (the actions the shell runs are "
                    "-exec, -execdir, -print and -print0; -prune and -quit may be among the tests)"};
    }
    if (in_chain) {
      if (w == "-a" || w == "-and") continue;
      throw Refusal{"'" + said(w) +
                    "' after -exec: refused (only -exec, -execdir, -print and -print0 may follow "
                    "it; put the tests before)"};
    }
    // A top-level -o is fine: A -o B ACTIONS is A -o (B -a ACTIONS) (-a binds tighter), so the
    // guest's A -o B -print0 lists exactly the paths the actions see (A: tests, -prune or
    // -quit only, as `find . -name vendor -prune -o -name '*.go' -exec ...`). Not `,`.
    if (depth == 0 && w == ",") {
      throw Refusal{"a top-level , with -exec: refused (group the list: \\( A , B \\) -exec ...)"};
    }
    if (w == "(") ++depth;
    if (w == ")") --depth;
    guest.emplace_back(w);
  }
  guest.push_back("-print0");
}

class FindExec {
 public:
  FindExec(Ctx& ctx, State& st, const Io& io, std::atomic<uint64_t>* out_b,
           std::atomic<uint64_t>* err_b)
      : ctx_(ctx), st_(st), io_(io), out_b_(out_b), err_b_(err_b) {
    cio_ = io;
  }
  int run(const std::vector<std::string>& guest, std::vector<Action>& actions);

 private:
  bool run_cmd(Vec<Str> argv, const std::string& dir) {
    std::string_view name = view(argv[0]);
    if (!is_program(ctx_, name)) {
      emit(ctx_, io_.err(), "find: '" + said(name) + "': No such file or directory\n", err_b_);
      return false;
    }
    State sub = st_.subshell();  // a program cannot change the shell
    if (!dir.empty()) sub.cwd = dir;
    return run_words(ctx_, sub, std::move(argv), cio_).code == 0;
  }
  // -execdir: the directory holding `path` (a guest path) and `./NAME`.
  std::pair<std::string, std::string> split_dir(const std::string& path) {
    size_t slash = path.find_last_of('/');
    std::string parent = slash == std::string::npos ? "." : path.substr(0, slash == 0 ? 1 : slash);
    std::string base = slash == std::string::npos ? path : path.substr(slash + 1);
    auto where = resolve_guest(ctx_, st_.cwd, parent);
    if (!where) throw Refusal{said(parent) + ": " + where.error().message};
    return {where->guest, "./" + base};
  }
  void flush(Action& a) {
    if (a.pending.empty()) return;
    Vec<Str> argv(ctx_.alloc());
    for (const auto& w : a.words) argv.push_back(ctx_.str(w));
    for (const auto& p : a.pending) argv.push_back(ctx_.str(p));
    ctx_.budget->check_words(argv.size());
    if (!run_cmd(std::move(argv), a.dir ? a.pending_dir : std::string())) a.failed = true;
    a.pending.clear();
    a.pending_chars = 0;
  }
  bool apply(Action& a, const std::string& path);

  Ctx& ctx_;
  State& st_;
  const Io& io_;
  Io cio_;
  std::atomic<uint64_t>* out_b_;
  std::atomic<uint64_t>* err_b_;
};

bool FindExec::apply(Action& a, const std::string& path) {
  if (a.kind != Action::kExec) {
    std::string line = path;
    line.push_back(a.kind == Action::kPrint ? '\n' : '\0');
    emit(ctx_, io_.out(), line, out_b_);
    return true;
  }
  std::string dir, arg = path;
  if (a.dir) std::tie(dir, arg) = split_dir(path);
  if (a.batch) {
    size_t fixed = 0;
    for (const auto& w : a.words) fixed += w.size() + 1;
    if (!a.pending.empty() &&
        (fixed + a.pending_chars + arg.size() + 1 > kArgMax || (a.dir && dir != a.pending_dir))) {
      flush(a);
    }
    a.pending.push_back(arg);
    a.pending_chars += arg.size() + 1;
    a.pending_dir = dir;
    return true;
  }
  Vec<Str> argv(ctx_.alloc());
  for (const auto& w : a.words) {  // every `{}` in a word is the path (GNU's -exec ... ;)
    Str out = ctx_.str();
    for (size_t p = 0;;) {
      size_t hit = w.find("{}", p);
      out.append(w, p, hit == std::string::npos ? std::string::npos : hit - p);
      if (hit == std::string::npos) break;
      out.append(arg);
      p = hit + 2;
    }
    argv.push_back(std::move(out));
  }
  return run_cmd(std::move(argv), dir);
}

int FindExec::run(const std::vector<std::string>& guest, std::vector<Action>& actions) {
  // The walk: the guest, its stdout into a pipe a reader thread drains into `paths` (charged).
  Budget::Commands running = ctx_.budget->start_commands(1);
  Str paths = ctx_.str();
  int p[2];
  if (::pipe2(p, O_CLOEXEC) != 0) {
    emit(ctx_, io_.err(), std::string("wasmcap sh: pipe: ") + std::strerror(errno) + "\n",
         err_b_);
    return 1;
  }
  Fd rd(p[0]), wr(p[1]);
  std::optional<LimitHit> hit;
  ExecThread reader([&]() {
    char buf[16384];
    for (;;) {
      ssize_t n = ::read(rd.get(), buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      if (hit) continue;  // keep draining: the guest never blocks
      try {
        paths.append(buf, static_cast<size_t>(n));
      } catch (const LimitHit& h) {
        hit = h;
      }
    }
  }, kHelperStackBytes);
  if (!reader.started()) {
    throw LimitHit(Error(ErrorCode::kInternal, reader.failure("find -exec")), false);
  }
  Vec<Str> gargv(ctx_.alloc());
  for (const auto& w : guest) gargv.push_back(ctx_.str(w));
  Io gio = io_;
  gio.fd[1] = wr.get();
  WordsRun walk{1, false};
  {
    State sub = st_.subshell();
    try {
      walk = run_words(ctx_, sub, std::move(gargv), gio);
    } catch (...) {
      wr.reset();
      reader.join();
      throw;
    }
  }
  wr.reset();
  reader.join();
  if (hit) throw *hit;
  if (!walk.ran) return walk.code;
  if (walk.code > 1 || ctx_.stopped()) return walk.code;  // the guest refused its arguments
  int status = walk.code;
  std::string_view all = view(paths);
  size_t k = 0;
  while (k < all.size()) {
    if (ctx_.stopped()) return 1;
    size_t end = all.find('\0', k);
    if (end == std::string_view::npos) end = all.size();
    std::string path(all.substr(k, end - k));
    k = end + 1;
    for (Action& a : actions) {
      if (!apply(a, path)) break;
    }
  }
  for (Action& a : actions) {
    if (a.kind == Action::kExec && a.batch) {
      flush(a);
      if (a.failed) status = 1;
    }
  }
  return status;
}

}  // namespace

bool find_has_exec(const Vec<Str>& argv) {
  if (argv.empty() || view(argv[0]) != "find") return false;
  for (const auto& w : argv) {
    if (is_exec(view(w))) return true;
  }
  return false;
}

int run_find_exec(Ctx& ctx, State& st, const Vec<Str>& argv, const Io& io,
                  std::atomic<uint64_t>* out_b, std::atomic<uint64_t>* err_b) {
  std::vector<std::string> guest;
  std::vector<Action> actions;
  try {
    plan(argv, guest, actions);
    FindExec f(ctx, st, io, out_b, err_b);
    return f.run(guest, actions);
  } catch (const Refusal& r) {
    emit(ctx, io.err(),
         "find: " + r.message + (r.gnu ? "" : " (docs/shell.md \"find -exec\")") + "\n", err_b);
    return 1;
  }
}

}  // namespace wasmcap::shell

// A shell session (include/wasmcap/shell.h): its state across scripts, one script's run under
// its limits, and what every part of the executor writes through (emit).
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>

#include <chrono>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <optional>
#include <random>
#include <thread>

#include "common/escape.h"
#include "common/failpoint.h"
#include "policy/syntax.h"
#include "shell/parse.h"
#include "shell/state.h"
#include "wasmcap/runtime.h"
#include "wasmcap/workspace.h"

namespace wasmcap::shell {

using Fd = platform::UniqueFd;

thread_local bool t_broken_pipe = false;

namespace {
// PATH when nothing gives one: the command directories (docs/shell.md "Command paths"),
// exported in a session's login environment, a shell variable in a nested shell.
constexpr const char* kDefaultPath = "/usr/bin:/bin";

// What a builtin of this thread (a pipeline stage, a subshell: each its own thread) has written
// into pipes whose reader had already left, taken as written. Why: under bash the writer of
// `{ echo hi; exit 55; } | false` is a process that usually writes before its reader exits, so
// the bytes land in the kernel's pipe buffer and the script goes on (status 55); here the stages
// are threads and the reader often leaves first, so the same script was 141 or 55 by chance
// (the Oils case "Wait for job and PIPESTATUS"). Taking up to one pipe buffer's worth of bytes
// as written is an outcome bash can give (reader leaves after the writes, unread), so every
// result stays one bash can print, and the common one becomes the only one. Past it, or past 64
// such writes (a loop of `echo y` would otherwise run 32,768 commands before it stops), the
// writer is ended as SIGPIPE ends bash's (t_broken_pipe).
constexpr size_t kPipeBufferBytes = 64 * 1024;  // Linux's default pipe capacity
constexpr size_t kUnreadWrites = 64;
thread_local size_t t_unread_pipe_bytes = 0;
thread_local size_t t_unread_pipe_writes = 0;
}  // namespace

bool write_all(int fd, const char* p, size_t n) {
  if (fd == kClosed) return false;  // `N>&-`: EBADF, as write(2) on a closed descriptor
  if (fd < 0) return true;  // discarded (/dev/null)
  while (n > 0) {
    ssize_t w = ::write(fd, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      if (errno == EPIPE) {
        if (n <= kPipeBufferBytes - t_unread_pipe_bytes && t_unread_pipe_writes < kUnreadWrites) {
          t_unread_pipe_bytes += n;
          ++t_unread_pipe_writes;
          return true;
        }
        t_broken_pipe = true;
      }
      return false;
    }
    p += w;
    n -= static_cast<size_t>(w);
  }
  return true;
}

// Every byte the script writes goes through here: tools' stdout/stderr, builtins' output and
// the shell's own messages, wherever they go (a terminal, a file, a pipe, a $(...) capture,
// /dev/null). Each destination has its bound:
// - the run's stdout and stderr (the operator's: a terminal, `wasmcap sh > log`, an MCP call's
//   capture), however the script reaches them (`>&2`, `exec 3>&1`, /dev/stdout, a background
//   job's or `{v}>&1`'s copy of the descriptor: the same open file, Ctx::out_ids), and any
//   destination not named below: --max-output-bytes. Threat: output that escapes it because a
//   builtin wrote it, or a copy of the descriptor. Past the cap nothing of the chunk is written
//   and the script stops with output_limit.
// - a regular file: the session's write budget (below), as a tool's WASI writes are;
// - a pipe between two commands: nothing but the deadline and the reader. The kernel's pipe
//   buffer holds at most 64 KiB, so the bytes cost the host no memory, and the reader's own
//   output is bounded where it goes: `seq 1 1000000 | sort | tail -1` writes one line, as in
//   bash. (Before, every byte between stages counted: a one-line result failed at 1 MiB.)
//   A $(...) capture is such a pipe; its reader bounds it (--max-substitution-bytes).
// - /dev/null (fd < 0): discarded; a closed descriptor: EBADF.
bool emit(Ctx& ctx, int fd, std::string_view s, std::atomic<uint64_t>* count) {
  if (fd < 0) {  // discarded (/dev/null), or closed (`N>&-`: write_all's EBADF)
    if (count != nullptr) *count += s.size();
    return write_all(fd, s.data(), s.size());
  }
  bool operators = fd == ctx.o.stdout_fd || fd == ctx.o.stderr_fd;
  struct stat st {};
  const bool have_st = !operators && ::fstat(fd, &st) == 0;
  for (const auto& id : ctx.out_ids) {
    operators = operators || (have_st && id.set && id.dev == st.st_dev && id.ino == st.st_ino);
  }
  const bool budgeted_file =
      !operators && have_st && S_ISREG(st.st_mode) && ctx.o.write_budget != nullptr;
  const bool pipe = !operators && have_st && S_ISFIFO(st.st_mode);
  if (!budgeted_file && !pipe) {
    uint64_t total = ctx.out_bytes.fetch_add(s.size()) + s.size();
    if (ctx.o.max_output_bytes != 0 && total > ctx.o.max_output_bytes) {
      ctx.set_fatal(Error(ErrorCode::kOutputLimit,
                          "the script wrote more than " + std::to_string(ctx.o.max_output_bytes) +
                              " bytes (--max-output-bytes)"));
      return false;
    }
  }
  if (count != nullptr) *count += s.size();
  // The session's write budget (wasi.h WriteBudget): what a write adds to a regular file (a
  // redirection's, a tool's output into one) is charged as a WASI write's is; what fits is
  // written, then ENOSPC, as on a full disk. The session's own stdout and stderr are the
  // operator's, not charged (an MCP call's capture, `wasmcap sh > log`).
  if (budgeted_file && !s.empty()) {
    const int fl = ::fcntl(fd, F_GETFL);
    auto w = ctx.o.write_budget->reserve_write(fd, -1, fl >= 0 && (fl & O_APPEND) != 0, s.size());
    const bool ok = w.may > 0 && write_all(fd, s.data(), w.may);
    ctx.o.write_budget->settle_write(w, static_cast<int64_t>(w.may));  // charged as written
    if (ok && w.may < s.size()) errno = ENOSPC;
    if (w.may == 0) errno = w.err;
    return ok && w.may == s.size();
  }
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


// The observer of the run this thread works for (RunControls::thread_observer): set by run()
// on its caller's thread for the run, and by ExecThread on each thread it starts, so threads
// started by threads are the run's too.
thread_local ThreadObserver* t_observer = nullptr;

ExecThread::ExecThread(std::function<void()> fn, size_t stack_bytes) {
  if (int e = failpoint::hit("shell.thread")) {  // tests: as if pthread_create had failed
    error_ = e;
    return;
  }
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setstacksize(&attr, stack_bytes);
  auto* heap = new std::function<void()>(
      [observer = t_observer, fn = std::move(fn)] {
        t_observer = observer;
        if (observer != nullptr) observer->thread_started();
        fn();
        if (observer != nullptr) observer->thread_ended();
      });
  auto entry = [](void* p) -> void* {
    std::unique_ptr<std::function<void()>> f(static_cast<std::function<void()>*>(p));
    // A stage whose reader has exited (`echo a | true`) must see EPIPE, never kill the host
    // process: SIGPIPE from write(2) goes to the writing thread, so blocking it here keeps it
    // pending on this thread (discarded when the thread ends) whatever the embedder's
    // disposition. The CLI ignores SIGPIPE as well; the library must not depend on that.
    sigset_t pipe_only;
    sigemptyset(&pipe_only);
    sigaddset(&pipe_only, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe_only, nullptr);
    (*f)();
    return nullptr;
  };
  int e = pthread_create(&t_, &attr, entry, heap);
  pthread_attr_destroy(&attr);
  if (e != 0) {
    delete heap;  // never ran
    error_ = e;
    return;
  }
  started_ = true;
}

std::string ExecThread::failure(std::string_view what) const {
  return "cannot start a thread for " + std::string(what) + " (" + std::strerror(error_) +
         "): the host is out of memory or threads; the command did not run";
}

void ExecThread::join() {
  if (!started_ || joined_) return;
  joined_ = true;
  pthread_join(t_, nullptr);
}

int run_script_text(Ctx& ctx, State& st, const std::string& text, const Io& io,
                    const char* what) {
  uint64_t charged = 0;
  auto script = parse(text, nullptr, ctx.budget, &charged);
  if (!script) {
    if (script.error().code == ErrorCode::kDeadlineExceeded) {
      ctx.set_fatal(script.error());
      return 1;
    }
    if (read_as_bash(ctx, st, text)) return run_units(ctx, st, text, 0, 1, io, what);
    emit(ctx, io.err(), std::string("wasmcap sh: ") + what + ": " +
                            shown(script.error().message) + "\n");
    return 2;
  }
  Budget::Lease ast(ctx.budget, charged, Budget::Lease::kAdopt);  // held by the AST
  return run_lines(ctx, st, text, script->items, io, what);
}

struct Session::Impl {
  explicit Impl(Options opts)
      : o(std::move(opts)),
        budget(Budget::Limits{o.max_shell_memory_bytes, o.max_words, o.max_pipeline_stages,
                              o.max_live_commands}),
        st(&budget) {
    st.jobs = std::make_shared<Jobs>();
  }
  // First: removed last, after every tool of the session has ended.
  std::unique_ptr<workspace::Scratch> tmp, home;
  Options o;
  std::shared_ptr<const wasi::VirtualTree> tree;  // over o.preopens (Ctx::tree)
  Budget budget;  // before st: the state's memory is returned to it when st is destroyed
  State st;
};

// One of the session's scratch directories (Options::private_tmp_home, workspace::Scratch), an
// ordinary read-write preopen at `guest_path`, so tools and redirections reach it through the
// one path resolver; `held` keeps it (removed with the session). False, and nothing made, when
// there is no wasmcap home or a preopen is already there (the caller's own wins).
static Result<bool> preopen_scratch(Options& o, std::unique_ptr<workspace::Scratch>& held,
                                    const std::string& guest_path, const char* what,
                                    bool sticky) {
  if (o.private_tmp_home.empty()) return false;
  for (const Preopen& p : o.preopens) {
    if (p.guest_path == guest_path) return false;
  }
  auto made = workspace::Scratch::create(o.private_tmp_home, sticky);
  if (!made) {
    return make_error(made.error().code,
                      std::string("the session's private ") + what + ": " + made.error().message);
  }
  held = std::move(*made);
  Preopen p;
  p.host_path = held->path();
  p.guest_path = guest_path;
  o.preopens.push_back(p);
  return true;
}

static bool has_variable(const std::vector<std::pair<std::string, std::string>>& variables,
                         std::string_view name) {
  for (const auto& v : variables) {
    if (v.first == name) return true;
  }
  return false;
}

// The session's private /tmp (docs/shell.md "/tmp"), TMPDIR=/tmp unless the variables set one
// (--dir HOST::/tmp: the caller's own /tmp, none made).
static Result<void> add_private_tmp(Options& o, std::unique_ptr<workspace::Scratch>& tmp,
                                    std::vector<std::pair<std::string, std::string>>& variables) {
  auto made = preopen_scratch(o, tmp, "/tmp", "/tmp", /*sticky=*/true);  // as a system /tmp
  if (!made) return tl::unexpected(made.error());
  if (*made && !has_variable(variables, "TMPDIR")) variables.emplace_back("TMPDIR", "/tmp");
  return {};
}

// The session's private home (docs/shell.md "Login environment"): as its /tmp, at /home/NAME
// (shell.user; /home/user when the user is nameless), HOME set to it. None when the variables
// give HOME.
static Result<void> add_private_home(Options& o, std::unique_ptr<workspace::Scratch>& home,
                                     std::vector<std::pair<std::string, std::string>>& variables) {
  if (has_variable(variables, "HOME")) return {};
  std::string path = "/home/" + (o.user.empty() ? std::string("user") : o.user);
  auto made = preopen_scratch(o, home, path, "home", /*sticky=*/false);
  if (!made) return tl::unexpected(made.error());
  if (*made) variables.emplace_back("HOME", path);
  return {};
}

Result<std::unique_ptr<Session>> Session::create(Options options) {
  // The user's name becomes a path (/home/NAME) and variables: one that is not a portable user
  // name is refused here too, whatever the caller checked.
  if (!options.user.empty()) {
    if (auto p = policy::check_user_name(options.user)) {
      return make_error(ErrorCode::kInvalidArgument, "the shell's user name " + *p);
    }
  }
  auto impl = std::make_unique<Impl>(std::move(options));
  if (impl->o.invocation_id.empty()) {
    WASMCAP_TRY_ASSIGN(impl->o.invocation_id, make_invocation_id());
  }
  impl->st.command_string = impl->o.command_string;
  // The interactive session (`wasmcap sh` at a terminal, the MCP bash tool's) is bash -i's
  // shell: `$-` has i, an expansion error (`set -u`, ${x:?}) abandons its line and the shell
  // reads the next one, and aliases are expanded.
  impl->st.interactive = impl->o.interactive;
  impl->st.opt_expand_aliases = impl->o.interactive;
  impl->st.user = impl->o.user;
  if (impl->o.write_budget == nullptr) {  // one per session: every run() and tool shares it
    impl->o.write_budget =
        std::make_shared<WriteBudget>(impl->o.max_write_bytes, impl->o.max_write_entries);
  }
  impl->st.cwd = !impl->o.cwd.empty()         ? impl->o.cwd
                 : impl->o.preopens.empty() ? "/"
                                            : impl->o.preopens[0].guest_path;
  // The environment the session starts with (`--env`): variables, exported (as sh imports its
  // environment), so tools and nested shells see them. PWD is the working directory (as sh
  // sets it at startup), exported; `cd` keeps it and OLDPWD.
  if (!impl->o.arg0.empty()) impl->st.arg0 = impl->o.arg0;
  for (const auto& a : impl->o.args) {
    Ctx ctx;
    ctx.budget = &impl->budget;
    try {
      impl->st.positional.push_back(ctx.str(a));
    } catch (const LimitHit& h) {
      return tl::unexpected(h.error());
    }
  }
  // The login environment (docs/shell.md "Login environment"), exported, before the caller's
  // variables (which may change any of it): USER and LOGNAME when the user is named, PATH the
  // command directories, SHELL this shell (/bin/bash is it: "Command paths"), HOME the private
  // home.
  std::vector<std::pair<std::string, std::string>> variables;
  if (!impl->o.user.empty()) {
    variables.emplace_back("USER", impl->o.user);
    variables.emplace_back("LOGNAME", impl->o.user);
  }
  variables.emplace_back("PATH", kDefaultPath);
  variables.emplace_back("SHELL", "/bin/bash");
  variables.insert(variables.end(), impl->o.variables.begin(), impl->o.variables.end());
  variables.emplace_back("PWD", impl->st.cwd);
  WASMCAP_TRY(add_private_tmp(impl->o, impl->tmp, variables));
  WASMCAP_TRY(add_private_home(impl->o, impl->home, variables));
  for (const auto& [name, value] : variables) {
    Ctx ctx;
    ctx.budget = &impl->budget;
    try {
      set_var(ctx, impl->st, name, ctx.str(value));
      if (impl->st.exported.find(std::string_view(name)) == impl->st.exported.end()) {
        impl->st.exported.emplace(ctx.str(name), VarValue());
      }
    } catch (const LimitHit& h) {
      return tl::unexpected(h.error());
    }
  }
  {
    Ctx ctx;
    ctx.budget = &impl->budget;
    try {
      init_shell_vars(ctx, impl->st, 0);
    } catch (const LimitHit& h) {
      return tl::unexpected(h.error());
    }
  }
  impl->tree = make_virtual_root(impl->o);  // after the private /tmp and home
  const RandomSource& rs = impl->o.random;
  if (rs.kind == RandomSource::Kind::kHost) {
    std::random_device dev;
    impl->st.random->state = (uint64_t{dev()} << 32) | dev();
  } else {
    impl->st.random->state = rs.kind == RandomSource::Kind::kSeed ? rs.seed : 0;
  }
  return std::unique_ptr<Session>(new Session(std::move(impl)));
}

int ShellRandom::next() {
  std::lock_guard<std::mutex> lock(mu);
  uint64_t z = (state += 0x9e3779b97f4a7c15u);  // splitmix64
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
  return static_cast<int>((z ^ (z >> 31)) >> 49);  // 15 bits
}

void init_shell_vars(Ctx& ctx, State& st, int64_t ppid) {
  // bash's ids, readonly (`UID=0 cmd` fails as in bash): fixed values, not the host's.
  const std::pair<const char*, std::string> ids[] = {
      {"UID", kShellUid}, {"EUID", kShellUid}, {"PPID", std::to_string(ppid)}};
  for (const auto& [name, value] : ids) {
    set_var(ctx, st, name, ctx.str(value));
    st.attrs.insert_or_assign(ctx.str(name), unsigned{kAttrReadonly});
  }
  std::string tmp;
  if (!param_value(st, "OSTYPE", &tmp)) set_var(ctx, st, "OSTYPE", ctx.str("wasi"));  // (env's)
  // The sandbox's name, as the coreutils bundle's `hostname` prints it, never the host's
  // (the environment's if given; not exported, as bash's).
  if (!param_value(st, "HOSTNAME", &tmp)) set_var(ctx, st, "HOSTNAME", ctx.str("localhost"));
  // PATH, when the environment gives none (--env, a nested shell's exports): the command
  // directories (docs/shell.md "Command paths"), a shell variable, not exported, as bash sets
  // its default PATH. `command -v ls` prints /usr/bin/ls from it, as on Debian.
  if (!param_value(st, "PATH", &tmp)) set_var(ctx, st, "PATH", ctx.str(kDefaultPath));
  // bash's: PS4 (set -x's prefix) unless the environment gave one; IFS always space, tab,
  // newline (an inherited IFS is ignored, as bash ignores it); SHELLOPTS readonly, its value
  // the options (dynamic_value).
  if (!param_value(st, "PS4", &tmp)) set_var(ctx, st, "PS4", ctx.str("+ "));
  if (!(attrs_of(st, "IFS") & kAttrReadonly)) set_var(ctx, st, "IFS", ctx.str(" \t\n"));
  st.attrs.insert_or_assign(ctx.str("SHELLOPTS"), unsigned{kAttrReadonly});
  // An interactive shell's history variables, as bash sets them (`sh -i`): HISTFILE in the
  // home, HISTSIZE and HISTFILESIZE 500. Nothing reads or writes the file (there is no history
  // list: docs/shell.md "Differences from bash").
  if (st.interactive) {
    std::string home;
    if (!param_value(st, "HISTFILE", &tmp) && param_value(st, "HOME", &home)) {
      set_var(ctx, st, "HISTFILE", ctx.str(home + "/.bash_history"));
    }
    for (const char* n : {"HISTSIZE", "HISTFILESIZE"}) {
      if (!param_value(st, n, &tmp)) set_var(ctx, st, n, ctx.str("500"));
    }
  }
  // getopts starts at the first word: OPTIND is 1, whatever the environment said (exported
  // only if it came from there; a readonly one inherited stays as it is).
  try {
    set_var(ctx, st, "OPTIND", ctx.str("1"));
  } catch (const AssignError&) {
  }
}

Session::Session(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Session::~Session() = default;
bool Session::exited() const { return impl_->st.exit_requested; }
int Session::last_status() const { return impl_->st.last; }
std::string Session::cwd() const { return impl_->st.cwd; }
uint64_t Session::memory_in_use() const { return impl_->budget.used(); }

Result<Outcome> Session::run(const std::string& text) { return run(text, RunControls{}); }

Result<Outcome> Session::run(const std::string& text, const RunControls& controls) {
  return run_impl(&text, -1, controls);
}

Result<Outcome> Session::run_input(int fd, const RunControls& controls) {
  return run_impl(nullptr, fd, controls);
}

Result<Outcome> Session::run_impl(const std::string* text_in, int fd,
                                  const RunControls& controls) {
  static const std::string kNoText;
  const std::string& text = text_in != nullptr ? *text_in : kNoText;
  if (impl_->st.exit_requested) {
    return make_error(ErrorCode::kInvalidArgument, "the shell session has exited");
  }
  // This run's threads report to its observer (and none to an earlier run's).
  struct ObserverScope {
    ThreadObserver* prev = t_observer;
    explicit ObserverScope(ThreadObserver* o) { t_observer = o; }
    ~ObserverScope() { t_observer = prev; }
  } observer_scope(controls.thread_observer);
  // The calling thread's pipe-write counts are per run: it may have run an earlier script (a
  // live session) or an earlier call of another client (the MCP server keeps its threads).
  t_broken_pipe = false;
  t_unread_pipe_bytes = 0;
  t_unread_pipe_writes = 0;
  Ctx ctx;  // limits, counters and the deadline are per script
  ctx.o = impl_->o;
  ctx.tree = impl_->tree;
  if (controls.deadline_ms) ctx.o.deadline_ms = *controls.deadline_ms;
  if (controls.stdout_fd) ctx.o.stdout_fd = *controls.stdout_fd;
  if (controls.stderr_fd) ctx.o.stderr_fd = *controls.stderr_fd;
  for (int i = 0; i < 2; ++i) {
    const int out = i == 0 ? ctx.o.stdout_fd : ctx.o.stderr_fd;
    struct stat st {};
    if (out >= 0 && ::fstat(out, &st) == 0) ctx.out_ids[i] = {true, st.st_dev, st.st_ino};
  }
  if (!controls.invocation_id.empty()) ctx.o.invocation_id = controls.invocation_id;
  const std::atomic<bool>* cancel = controls.cancel;
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
  // The input read as it runs has nothing to parse first.
  auto script = text_in != nullptr ? parse(text, nullptr, &impl_->budget, &ast_bytes)
                                   : Result<Script>(Script{});
  // A syntax error: nothing runs, unless aliases may make it parse (read_as_bash).
  bool by_units = !script && script.error().code == ErrorCode::kInvalidArgument &&
                  read_as_bash(ctx, impl_->st, text);
  if (!script && !by_units) {
    impl_->st.last = 2;  // as sh after a syntax error
    return tl::unexpected(script.error());
  }
  Budget::Lease ast(&impl_->budget, ast_bytes, Budget::Lease::kAdopt);  // held by the AST
  State& st = impl_->st;
  // A watchdog turns the deadline (and a caller's cancellation) into an interrupt for
  // builtins' waits and running tools. It sleeps until the deadline or the script's end,
  // whichever comes first (it used to poll in 5 ms steps, which cost up to 5 ms at every
  // script's end: of every `wasmcap sh -c true`); a caller's cancellation flag, which cannot
  // wake it, is polled every 5 ms.
  std::mutex watch_mu;
  std::condition_variable watch_cv;
  bool done = false;
  std::optional<ExecThread> watchdog;
  if (ctx.o.deadline_ms != 0 || cancel != nullptr) {
    watchdog.emplace([&]() {
      std::unique_lock<std::mutex> lock(watch_mu);
      while (!done) {
        if (cancel != nullptr && cancel->load()) {
          lock.unlock();
          ctx.set_fatal(Error(ErrorCode::kDeadlineExceeded, "the script was cancelled"));
          return;
        }
        auto now = Clock::now();
        if (now >= ctx.deadline) {
          lock.unlock();
          ctx.set_fatal(Error(ErrorCode::kDeadlineExceeded,
                              "the script ran past its deadline (--timeout-ms)"));
          return;
        }
        auto until = ctx.deadline;
        if (cancel != nullptr) until = std::min(until, now + std::chrono::milliseconds(5));
        watch_cv.wait_until(lock, until);
      }
    }, kHelperStackBytes);
    if (!watchdog->started()) {
      st.last = error_exit_code(ErrorCode::kInternal);
      return make_error(ErrorCode::kInternal, watchdog->failure("the script's deadline"));
    }
  }
  Io io;
  io.fd[0] = ctx.o.stdin_fd;
  io.fd[1] = ctx.o.stdout_fd;
  io.fd[2] = ctx.o.stderr_fd;
  // The script runs on a thread whose stack holds kMaxExecDepth levels of recursion. Its
  // background jobs end with it (they are joined: no thread outlives the script).
  ExecThread script_thread([&]() {
    if (text_in == nullptr) {
      shell::run_input(ctx, st, fd, io, "script");
    } else if (by_units) {
      run_units(ctx, st, text, 0, 1, io, "script");
    } else {
      run_lines(ctx, st, text, script->items, io, "script");
    }
    // The EXIT trap: when the shell exits (a script's end, or `exit` in the interactive one).
    if (!ctx.o.interactive || st.exit_requested) run_exit_trap(ctx, st, io);
    std::vector<std::shared_ptr<Job>> jobs;
    jobs.swap(st.jobs->list);
    for (auto& j : jobs) j->thread->join();
  }, kScriptStackBytes);
  script_thread.join();
  {
    std::lock_guard<std::mutex> lock(watch_mu);
    done = true;
  }
  watch_cv.notify_all();
  if (watchdog) watchdog->join();
  if (!script_thread.started()) {
    st.last = error_exit_code(ErrorCode::kInternal);
    return make_error(ErrorCode::kInternal, script_thread.failure("the script"));
  }
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

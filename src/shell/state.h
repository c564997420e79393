// The executor's shared internals (exec.cc, expand.cc, redirect.cc, paths.cc, builtins.cc):
// the per-script context, the shell state a subshell copies, stdio tables, and the functions
// the files call in each other. Not a public header.
#pragma once

#include <pthread.h>
#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <sys/stat.h>
#include <vector>

#include "platform/beneath.h"
#include "platform/fd.h"
#include "shell/ast.h"
#include "shell/budget.h"
#include "wasi/virtual_root.h"
#include "wasmcap/shell.h"

namespace wasmcap::shell {

class TestEnv;  // test_expr.h

using Clock = std::chrono::steady_clock;
using Fd = platform::UniqueFd;  // the one owning-descriptor type (src/platform/fd.h)

// Function calls may nest at most this deep (bash's FUNCNEST, which is unlimited by default):
// a recursive function is a loop of host recursion.
inline constexpr int kMaxFunctionDepth = 1000;

// The executor recurses on the host stack: every level of it (a function call's command and
// body, a compound command, a subshell, an `eval` or `.`, a $(...), a nested shell) is a
// run_command frame and the frames between it and the next. Each thread that runs shell code
// bounds the levels it may hold (State::max_depth, checked by run_command), and its stack is
// sized from that bound:  levels x kExecLevelBytes + kExecReserveBytes,
// where kExecLevelBytes covers the most stack one level takes and kExecReserveBytes the bounded
// recursion that runs on top of the deepest level without a level of its own: a parse (at most
// kMaxNestingDepth levels, parse.h), an arithmetic expression (256 levels, arith.h), a test
// expression (kMaxTestNesting, test_expr.h), a tool's run.
//
// Measured (Release, GCC 12 -O3, x86-64; the deepest stack a thread touched / its levels, at
// 2,000-4,000 levels): a function call 1.7 KiB a level (3 levels for `f() { if ...; then f; fi; }`),
// nested groups 1.6 KiB, a subshell 1.7 KiB, `eval` 3.0 KiB, `.` 3.5 KiB (21 KiB before its
// 16 KiB read buffer left its frame), a $(...) 2.5 KiB, a nested `sh` 4.3 KiB (16 levels at
// most). On top of one level: a parse 190 levels deep 510 KiB, arithmetic at its recursion
// bound 575 KiB, a test at its bound 135 KiB, a tool's run (interp) 80 KiB. So 6 KiB a level
// and 1.5 MiB of reserve (x1.7 and x2.6 the largest). Unoptimized and sanitizer builds have
// larger frames: kStackScale.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
inline constexpr size_t kStackScale = 12;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
inline constexpr size_t kStackScale = 12;
#elif !defined(__OPTIMIZE__)
inline constexpr size_t kStackScale = 4;
#else
inline constexpr size_t kStackScale = 1;
#endif
#elif !defined(__OPTIMIZE__)
inline constexpr size_t kStackScale = 4;
#else
inline constexpr size_t kStackScale = 1;
#endif
inline constexpr size_t kExecLevelBytes = size_t{6} << 10;
inline constexpr size_t kExecReserveBytes = size_t{3} << 19;  // 1.5 MiB
// The script's thread: the script's own recursion. 25 MiB of stack (virtual, touched as used).
inline constexpr int kMaxExecDepth = 4000;
// A pipeline stage or a background job: a thread of its own, up to --max-live-commands (128)
// of them at once, so a smaller stack each; a deeper recursion inside one is refused with the
// same message, never a crash. 7.4 MiB each: 128 of them reserve 0.9 GiB. Before, every such
// thread reserved 512 MiB (64 GiB for 128), which strict overcommit (vm.overcommit_memory=2)
// refuses.
inline constexpr int kMaxStageDepth = 1000;
constexpr size_t exec_stack_bytes(int levels) {
  return (static_cast<size_t>(levels) * kExecLevelBytes + kExecReserveBytes) * kStackScale;
}
inline constexpr size_t kScriptStackBytes = exec_stack_bytes(kMaxExecDepth);
inline constexpr size_t kStageStackBytes = exec_stack_bytes(kMaxStageDepth);
// Threads that run no shell code (a $(...)'s reader, the deadline's watchdog).
inline constexpr size_t kHelperStackBytes = (size_t{256} << 10) * kStackScale;

// A thread for the shell: SIGPIPE blocked (a stage whose reader is gone sees EPIPE). When it
// cannot be created (out of memory or threads, or the "shell.thread" failpoint in tests),
// started() is false, `fn` never runs and error() is the errno: the caller fails its command
// cleanly (running it inline instead could deadlock a pipeline on a pipe nobody reads).
class ExecThread {
 public:
  ExecThread(std::function<void()> fn, size_t stack_bytes);
  ExecThread(ExecThread&& o) noexcept
      : t_(o.t_), started_(o.started_), joined_(o.joined_), error_(o.error_) {
    o.joined_ = true;
  }
  ExecThread(const ExecThread&) = delete;
  ~ExecThread() { join(); }
  bool started() const { return started_; }
  int error() const { return error_; }
  // "cannot start a thread for WHAT (strerror); ..." for the command's error message.
  std::string failure(std::string_view what) const;
  void join();

 private:
  pthread_t t_{};
  bool started_ = false;  // (stays true once joined)
  bool joined_ = false;
  int error_ = 0;
};

// Descriptors a command sees: 0-9 (borrowed; kNull = /dev/null: writes discarded, reads see
// EOF; kClosed: `N>&-` or never opened).
inline constexpr int kNull = -1;
inline constexpr int kClosed = -2;
struct Io {
  Io() {
    for (int k = 3; k < kMaxFds; ++k) fd[k] = kClosed;
  }
  int fd[kMaxFds] = {kNull, kNull, kNull};
  // The `exec` generation (State::exec_gen) these descriptors include: a list that starts with
  // an older one takes the later `exec`s' descriptors (a loop body after `exec {v}>f` in it).
  uint64_t exec_gen = 0;
  int in() const { return fd[0]; }
  int out() const { return fd[1]; }
  int err() const { return fd[2]; }
};

// `kill` of a background job (jobs.cc): the signal it was sent (0: none) and the interrupt
// flag its tools' engines watch. A job started inside a job has the outer one as `parent`:
// killing the outer kills it too. Registered in Ctx::job_kills while the job lives.
struct JobKill {
  std::atomic<bool> interrupt{false};
  std::atomic<int> signal{0};
  std::shared_ptr<JobKill> parent;
};

struct Ctx {
  Options o;
  // The session's virtual root over o.preopens (paths.cc make_virtual_root; src/wasi/
  // virtual_root.h): the names above the preopens the shell and its tools share. Null: none
  // (a Ctx that runs nothing).
  std::shared_ptr<const wasi::VirtualTree> tree;
  Budget* budget = nullptr;  // the session's
  Clock::time_point deadline = Clock::time_point::max();
  std::atomic<uint64_t> out_bytes{0};
  // The open files behind this run's stdout and stderr, by device and inode (set by run_impl):
  // a descriptor the shell duplicated from them (a background job's copies, `{v}>&1`) has
  // another number and is still the operator's output (emit).
  struct FileId {
    bool set = false;
    dev_t dev = 0;
    ino_t ino = 0;
  } out_ids[2];
  std::atomic<uint64_t> commands{0};
  std::atomic<bool> interrupt{false};
  std::mutex mu;
  std::optional<Error> fatal;  // a script limit was hit: stop everything
  // The background jobs' kill flags (JobKill, under mu): a job's tools watch its own interrupt
  // flag, which set_fatal raises too.
  std::vector<std::weak_ptr<JobKill>> job_kills;

  void set_fatal(Error e) {
    std::lock_guard<std::mutex> lock(mu);
    if (!fatal) fatal = std::move(e);
    interrupt = true;
    raise_jobs_locked(nullptr, 0);
  }
  // Raises the interrupt flag of `job` and of every job started inside it (all jobs when null)
  // and records `signal` (when not 0) in those not signalled yet. Under mu.
  void raise_jobs_locked(const JobKill* job, int signal);
  bool stopped() {
    std::lock_guard<std::mutex> lock(mu);
    return fatal.has_value();
  }
  BudgetAlloc<char> alloc() const { return BudgetAlloc<char>(budget); }
  Str str(std::string_view s = {}) const { return Str(s.data(), s.size(), alloc()); }
};

using FuncMap = std::map<Str, std::shared_ptr<const Command>, std::less<>,
                         BudgetAlloc<std::pair<const Str, std::shared_ptr<const Command>>>>;

// Background jobs of one shell (not of its subshells): threads joined by `wait`, by the next
// job's start once they are done (no finished thread keeps its stack), or at the end of the
// script (jobs.cc).
struct Job {
  int id = 0;
  std::string text;       // the list as written, for `jobs`
  bool done = false;      // under JobSync::mu, as are status and finished
  bool reported = false;  // `jobs` showed it as done
  int status = 0;
  uint64_t finished = 0;  // its place in the order jobs ended (1, 2, ...): `wait -n`
  std::shared_ptr<JobKill> kill;
  std::unique_ptr<ExecThread> thread;  // last: destroyed (joined) first
};
// What a job's thread signals when it ends; shared with the threads, which may outlive a
// subshell's table only until that table's destructor joins them.
struct JobSync {
  std::mutex mu;
  std::condition_variable cv;
  uint64_t finished = 0;
};
struct Jobs {
  std::shared_ptr<JobSync> sync = std::make_shared<JobSync>();
  std::vector<std::shared_ptr<Job>> list;  // by id; touched by the owning shell's thread only
  int next_id = 1;
  // A subshell's copy of its parent's list when it started, for `jobs` only (bash lists them;
  // its `wait` cannot wait for them): read under the parent's sync, never changed.
  std::vector<std::shared_ptr<Job>> inherited;
  std::shared_ptr<JobSync> inherited_sync;
};

// Indexed arrays (bash's): sparse, by index; every element is charged to the session's budget
// (map nodes and values), so `a[i]=x` in an endless loop ends at --max-shell-memory. Shared
// between a state and its subshells' copies, copied on the first write to a shared one.
using ArrayElems =
    std::map<int64_t, Str, std::less<>, BudgetAlloc<std::pair<const int64_t, Str>>>;
using ArrayValue = std::shared_ptr<ArrayElems>;
using ArrMap = std::map<Str, ArrayValue, std::less<>, BudgetAlloc<std::pair<const Str, ArrayValue>>>;
// Associative arrays (declare -A): key -> value, charged to the session's budget as indexed
// arrays are, shared with subshells' copies and copied on the first write to a shared one.
// They list (${a[@]}, ${!a[@]}, declare -p) in bash's order: its hash table's buckets in order
// (FNV-1 of the key, 1024 buckets growing x4 once they hold twice as many keys), the key added
// last first within a bucket. `seq` orders the additions and `grown` keeps when the table grew,
// so assoc_order() rebuilds that order from the keys present (vars.cc).
struct AssocEntry {
  AssocEntry(Str v, uint64_t s) : value(std::move(v)), seq(s) {}
  Str value;
  uint64_t seq;
};
using AssocElems =
    std::map<Str, AssocEntry, std::less<>, BudgetAlloc<std::pair<const Str, AssocEntry>>>;
struct Assoc {
  explicit Assoc(Budget* b) : elems(BudgetAlloc<char>(b)) {}
  AssocElems elems;
  uint64_t next_seq = 0;
  uint64_t buckets = 1024;
  std::vector<uint64_t> grown;  // the seq of each key whose addition grew the table (<= 16)
  bool assigned = false;  // given a value (`declare -A a` alone leaves it unset, as bash)
};
using AssocValue = std::shared_ptr<Assoc>;
using AssocMap = std::map<Str, AssocValue, std::less<>, BudgetAlloc<std::pair<const Str, AssocValue>>>;
// Variable attributes (declare -r -i -l -u, readonly); the export attribute is State::exported.
enum VarAttr : unsigned { kAttrReadonly = 1, kAttrInteger = 2, kAttrLower = 4, kAttrUpper = 8 };
using AttrMap = std::map<Str, unsigned, std::less<>, BudgetAlloc<std::pair<const Str, unsigned>>>;

// An assignment the shell refuses (a readonly variable, an integer attribute's bad expression):
// the command fails with status 1 after the message (run_command catches it).
struct AssignError {
  std::string message;
};

// $RANDOM's generator, one per session (its subshells and nested shells draw from it too).
// Seeded from the session's random pin (`--random seed:N`: the same numbers on every run;
// `deny`: seed 0, as reproducible), else from the host's entropy.
struct ShellRandom {
  std::mutex mu;
  uint64_t state = 0;
  int next();  // 0-32767 (expand.cc)
};

// The process ids a script sees ($$, $BASHPID, $PPID) are the sandbox's own, never the host's:
// the session's shell is 1 and its parent 0 (none in the sandbox); each subshell and nested
// shell takes the next number from a counter the session's states share.
inline constexpr int64_t kShellPid = 1;
// $UID and $EUID (readonly): the sandbox has no users; a fixed, unprivileged id.
inline constexpr const char* kShellUid = "1000";

// The process substitutions `<(list)` and `>(list)` of the command being run (procsub.cc): each
// list runs on a thread of its own with its stdout (its stdin) into (from) a pipe, whose read
// (write) end the command sees as descriptor N (63 down, as bash) and its word as /dev/fd/N.
// When the command is done its ends are closed (a `<(list)` still writing sees EPIPE, as
// SIGPIPE would end it; a `>(list)` reads to the end) and the lists are joined: none outlives
// the command that named it.
struct ProcSubs {
  struct One {
    int num = -1;
    Fd end;  // the command's end of the pipe
    std::unique_ptr<ExecThread> thread;
  };
  ProcSubs() = default;
  ProcSubs(const ProcSubs&) = delete;
  ProcSubs& operator=(const ProcSubs&) = delete;
  ~ProcSubs() {
    for (auto& o : list) o.end.reset();
    for (auto& o : list) o.thread->join();
  }
  // The command's descriptor table, once it exists: ends added before it are put in then.
  void attach(Io& table) {
    io = &table;
    for (const auto& o : list) table.fd[o.num] = o.end.get();
  }
  bool taken(int num) const {
    if (io != nullptr && io->fd[num] != kClosed) return true;
    for (const auto& o : list) {
      if (o.num == num) return true;
    }
    return false;
  }
  std::vector<One> list;
  Io* io = nullptr;
};

struct State {  // what a subshell (a pipeline stage, a $(...), ( )) copies
  explicit State(Budget* b)
      : vars(BudgetAlloc<char>(b)), exported(BudgetAlloc<char>(b)), arrays(BudgetAlloc<char>(b)),
        assocs(BudgetAlloc<char>(b)), attrs(BudgetAlloc<char>(b)), positional(BudgetAlloc<Str>(b)),
        dirstack(BudgetAlloc<Str>(b)), funcs(BudgetAlloc<char>(b)),
        last_arg(BudgetAlloc<char>(b)), hashed(BudgetAlloc<char>(b)) {}
  std::string cwd;  // a normalized guest path of an existing directory
  VarMap vars;      // names and values charged to the session's budget (scalars)
  VarMap exported;  // names only (values unused): `export NAME`
  ArrMap arrays;    // indexed arrays (a name is in one of vars, arrays, assocs at most)
  AssocMap assocs;  // associative arrays
  AttrMap attrs;    // names with attributes
  Vec<Str> positional;  // $1 ... $N
  // pushd's remembered directories, the latest first; `dirs` shows the working directory before
  // them (builtins.cc). Charged to the budget as the variables are.
  Vec<Str> dirstack;
  FuncMap funcs;
  std::string arg0 = "sh";  // $0: a nested shell's name or script
  // The sandbox user's name (host config shell.user; empty: nameless), for ~NAME: the sandbox's
  // user database is root (home /root) and this user (home: $HOME), as the tools' (uid 1000).
  std::string user;
  int lineno = 0;            // $LINENO: the line of the command running
  // set -x's nesting (bash): eval, `.`/source, $(...) and <(...)/>(...) each add one `+` to the
  // trace's prefix (`++ cmd`); functions and subshells do not.
  int trace_depth = 0;
  size_t getopts_char = 0;   // getopts: the next letter in the word at $OPTIND (0: a new word)
  bool command_string = false;  // a -c script: expansion errors exit 127 (else 1), as bash
  Str last_arg;              // $_: the last word of the previous simple command (charged)
  int64_t pid = kShellPid;   // $$: this shell's (a subshell keeps it; a nested shell has its own)
  int64_t bashpid = kShellPid;  // $BASHPID: this shell's or subshell's
  std::shared_ptr<std::atomic<int64_t>> pids = std::make_shared<std::atomic<int64_t>>(kShellPid);
  std::shared_ptr<ShellRandom> random = std::make_shared<ShellRandom>();
  // bash's hash table (files.cc): name -> the path a command was found at (a script on PATH, or
  // PATH's first command directory for a tool) and how many times it ran from there, kept until
  // `hash -r` or a new PATH (a file removed since is "No such file", not searched again).
  struct Hashed {
    Hashed(Str p, uint64_t h) : path(std::move(p)), hits(h) {}
    Str path;
    uint64_t hits;
  };
  std::map<Str, Hashed, std::less<>, BudgetAlloc<std::pair<const Str, Hashed>>> hashed;
  Clock::time_point started = Clock::now();  // $SECONDS counts from here
  size_t nesting = 0;  // nested shells (sh -c) this state runs in; bounded by kMaxNestedShells
  int last = 0;
  bool exit_requested = false;
  // An interactive shell (the interactive session, `sh -i`): an expansion error (`set -u`,
  // ${x:?}) abandons the rest of its command line (abort_line) instead of ending the shell.
  bool interactive = false;
  bool abort_line = false;
  // set -e -u -x -f -o pipefail
  bool opt_errexit = false;
  bool opt_nounset = false;
  bool opt_xtrace = false;
  bool opt_noglob = false;
  bool opt_pipefail = false;
  bool opt_allexport = false;  // set -a: every variable assigned is exported
  bool opt_verbose = false;    // set -v: accepted, shown in $- (input lines are not echoed)
  bool opt_noclobber = false;  // set -C: `>` and `&>` do not overwrite a file (`>|` does)
  // shopt -s lastpipe nocasematch extglob failglob, -u globskipdots
  bool opt_lastpipe = false;
  bool opt_nocasematch = false;
  bool opt_globskipdots = true;  // shopt globskipdots (bash 5.2's default): globs never yield . ..
  bool opt_extglob = false;   // extglob groups in patterns (pattern.h)
  bool opt_failglob = false;  // a glob that matches nothing fails the command (status 1)
  bool opt_nullglob = false;  // a glob that matches nothing is removed (no word)
  bool opt_dotglob = false;   // wildcards match a leading '.' (never . or ..)
  bool opt_globstar = false;  // `**` as a whole component: any depth of directories (glob.cc)
  bool opt_nocaseglob = false;  // globs match ASCII letters in either case
  // shopt -s expand_aliases (off in a script, as bash's) and the aliases (alias.cc), shared
  // with subshells' copies until one changes them (then it copies).
  bool opt_expand_aliases = false;
  std::shared_ptr<AliasTable> aliases;
  int errexit_off = 0;  // > 0 inside conditions, non-final && || parts, `!` (errexit ignored)
  // The last list's failing status is one errexit ignored (`false && x`, `! true`): a group,
  // if, case or loop ending with it does not end the shell either (bash).
  bool status_exempt = false;
  // Unwinding for break / continue / return: set by the builtin, consumed by the loop or the
  // function; every list stops running while it is set.
  enum class Flow { kNone, kBreak, kContinue, kReturn } flow = Flow::kNone;
  int flow_count = 0;  // break N / continue N: loops still to leave
  int loops = 0;       // loops enclosing the command now running (in this function)
  int func_depth = 0;
  int source_depth = 0;  // `.` / source files running (return leaves them)
  int depth = 0;  // levels of the executor's recursion on this thread (run_command)
  int max_depth = kMaxExecDepth;  // this thread's bound (kMaxStageDepth in a stage or job)
  // `local` inside functions: per call frame, the variables' values before the call.
  struct Saved {
    std::string name;
    std::optional<VarValue> value;
    std::optional<ArrayValue> array = std::nullopt;
    std::optional<AssocValue> assoc = std::nullopt;
    unsigned attrs = 0;
    bool exported = false;
  };
  std::vector<std::vector<Saved>> frames;
  // `exec` with redirections only: descriptors that hold for the rest of this shell (kUnset:
  // not changed). Shared and immutable, so a subshell's copy costs a pointer and an `exec` in
  // it changes only its own. Every list re-reads them after a command that changed them
  // (exec_gen).
  struct ExecFds {
    static constexpr int kUnset = -3;
    ExecFds() {
      for (int& f : fd) f = kUnset;
    }
    int fd[kMaxFds];
    uint64_t gen[kMaxFds] = {};  // the exec_gen that set each
    std::vector<std::shared_ptr<Fd>> owned;  // the files they opened (only those still used)
  };
  std::shared_ptr<const ExecFds> exec_fds;
  uint64_t exec_gen = 0;
  // trap: each condition's handler text ("EXIT", "ERR", signal names without SIG); an empty
  // text ignores the signal. At most one per condition name (trap.cc's fixed list).
  std::map<std::string, Str> traps;
  bool in_trap = false;  // an EXIT or ERR handler is running: neither fires again inside it
  std::shared_ptr<Jobs> jobs;  // a copy for a subshell gets its own (empty) table
  int last_job = 0;            // $!
  std::shared_ptr<JobKill> job_kill;  // inside a background job: its kill flags (jobs.cc)
  // Where a `<(list)` expanding now registers (the innermost command running on this thread;
  // null in a copy for another thread or a subshell, whose commands set their own).
  ProcSubs* procsubs = nullptr;

  // The copy a subshell runs on: same variables and functions, no jobs, no pending flow.
  State subshell() const {
    State s = *this;
    s.bashpid = ++*pids;
    s.jobs = std::make_shared<Jobs>();
    if (jobs && !jobs->list.empty()) {
      s.jobs->inherited = jobs->list;
      s.jobs->inherited_sync = jobs->sync;
    } else if (jobs) {
      s.jobs->inherited = jobs->inherited;
      s.jobs->inherited_sync = jobs->inherited_sync;
    }
    s.exit_requested = false;
    s.procsubs = nullptr;
    s.interactive = false;  // a subshell of an interactive shell is not (bash)
    s.command_string = false;  // its expansion error exits 1: 127 is only the -c shell's own
    s.abort_line = false;
    s.flow = Flow::kNone;
    s.loops = 0;
    // Handlers are not inherited (bash); ignored signals stay ignored.
    for (auto it = s.traps.begin(); it != s.traps.end();) {
      it = it->second.empty() ? std::next(it) : s.traps.erase(it);
    }
    return s;
  }
  // The copy a new thread (a pipeline stage, a background job) runs on: a subshell whose
  // recursion starts afresh on the thread's own stack, within kMaxStageDepth levels.
  State on_new_thread() const {
    State s = subshell();
    s.depth = 0;
    s.max_depth = kMaxStageDepth;
    return s;
  }
};

// set's options by name or letter (builtins.cc): settable (known, and not fixed off), and set
// (0; 1: unknown; 2: known but not supported in that state).
bool set_option_settable(std::string_view name);
int apply_set_option(State& st, std::string_view name, bool on);
// $SHELLOPTS (bash's, readonly and always current): the set -o options that are on, by name,
// ':'-separated in alphabetical order.
std::string shell_opts(const State& st);
// The value of a dynamic variable (LINENO, SECONDS, RANDOM, BASHPID, SHELLOPTS, _) the script
// has not set itself, with the attribute flags `declare -p` shows for it ("i" or ""); nullopt
// for any other name (expand.cc).
std::optional<std::string_view> dynamic_value(const State& st, std::string_view name,
                                              std::string* tmp, const char** flags = nullptr);

// The variables every shell starts with (session.cc, and each nested shell): UID and EUID
// (kShellUid), PPID (`ppid`), all three readonly; OSTYPE ("wasi", unless the environment
// gave one).
void init_shell_vars(Ctx& ctx, State& st, int64_t ppid);

// --- output and messages (exec.cc) ---------------------------------------------------------

bool write_all(int fd, const char* p, size_t n);
// Set by write_all when a write met a pipe with no reader (EPIPE): a builtin that did so ends
// its shell as SIGPIPE ends bash (status 141; exec.cc), unless `trap '' PIPE` ignores it.
extern thread_local bool t_broken_pipe;
bool emit(Ctx& ctx, int fd, std::string_view s, std::atomic<uint64_t>* count = nullptr);
std::string shown(std::string_view s);
int limit_status(Ctx& ctx, const LimitHit& h, int err);

// --- paths (paths.cc) ---------------------------------------------------------------------

// Threat: a path built from a huge expansion. No host path resolves beyond PATH_MAX, and
// refusing it early keeps the shell from copying it around.
inline constexpr size_t kMaxPathBytes = 4096;

struct Found {
  const Preopen* preopen = nullptr;
  std::string guest;      // normalized guest path
  platform::Resolved rp;  // beneath the preopen's host directory, final symlinks followed
  Fd root;                // the preopen's host directory (O_PATH)
};
// `follow_final`: a final symlink is followed (else it is what is found: test -h).
// `physical`: a `..` is taken by the resolver after the symlinks before it (cd -P), not
// removed with the component before it from the path as written.
Result<Found> resolve_guest(const Ctx& ctx, const std::string& cwd, std::string_view path,
                            bool follow_final = true, bool physical = false);
// The guest path of the directory `path` names, logical or `physical` (cd, pwd); "/" is one
// even when no preopen holds it.
Result<std::string> guest_directory(const Ctx& ctx, const std::string& cwd, std::string_view path,
                                    bool physical);
Result<Fd> open_redirect(const Ctx& ctx, const std::string& cwd, std::string_view path, int flags);
std::optional<struct stat> stat_guest(const Ctx& ctx, const std::string& cwd, std::string_view p);
// True for a device of the tools' virtual /dev (paths.cc): /dev/null, zero, urandom, random,
// stdin, stdout, stderr.
bool is_guest_device(const Ctx& ctx, const std::string& cwd, std::string_view path);
// /dev/fd/N as the shell names it (redirections, `.`, test): the command's descriptor N in `io`
// (kNull, or kClosed when N is not open or the name is no number 0-63); nullopt for a path that
// does not start with /dev/fd/.
std::optional<int> shell_dev_fd(const Io& io, std::string_view path);
// The session's virtual root (paths.cc; docs/shell.md "The file system"): a tree over
// o.preopens (and the tools' /dev) whose command directories list every program the shell runs
// by name (a bundle's command, sh/bash, a builtin that is also a program). Made once per
// session; its tools' WASI hosts make theirs with the same names (tool.cc).
std::shared_ptr<const wasi::VirtualTree> make_virtual_root(const Options& o);
// A name of the virtual root, above the preopens (not in one): nullopt for a path in a
// preopen, in the tools' /dev, or when there is no tree.
std::optional<wasi::VirtualTree::Found> virtual_entry(const Ctx& ctx, const std::string& cwd,
                                                      std::string_view path);
// The command directories (docs/shell.md "Command paths"): /usr/bin, /bin and /usr/local/bin,
// however written, hold every program the shell runs by name, as a Debian system's do.
bool is_command_dir(const Ctx& ctx, const std::string& cwd, std::string_view dir);
// NAME when `path` is DIR/NAME for a command directory DIR and a program NAME (and no preopen
// holds that path): the command `path` runs is NAME's, as a bare NAME's is.
std::optional<std::string> installed_command(const Ctx& ctx, const std::string& cwd,
                                             std::string_view path);

// --- variables (expand.cc) ----------------------------------------------------------------

// A parameter's value, or nullopt when unset. `tmp` holds a computed value.
std::optional<std::string_view> param_value(const State& st, std::string_view name,
                                            std::string* tmp);
// Sets a scalar (an array's element 0), applying its attributes. Throws AssignError for a
// readonly variable or an integer attribute's bad expression.
void set_var(Ctx& ctx, State& st, std::string_view name, Str value);
void unset_var(State& st, std::string_view name);

// --- arrays and attributes (vars.cc) -----------------------------------------------------------

const ArrayElems* find_array(const State& st, std::string_view name);
// The array `name` for writing (created empty, or from the scalar's value as element 0; a copy
// when it is shared with another state). Throws AssignError when readonly.
ArrayElems& array_for_write(Ctx& ctx, State& st, std::string_view name);
// a[index] = value; a negative index counts from the end (AssignError when before the start).
void set_element(Ctx& ctx, State& st, std::string_view name, int64_t index, Str value);
// unset a[index]: false (after nothing) when a negative index is before the start.
bool unset_element(State& st, std::string_view name, int64_t index);
// NAME=(values) (append: NAME+=(values)): `keys` holds [k]=v elements' subscripts, expanded
// (nullopt: none): an indexed array evaluates each as arithmetic, an associative one uses it
// as the key (and without subscripts takes the values as key value key value ..., bash 5.1).
void assign_array(Ctx& ctx, State& st, std::string_view name, const Vec<Str>& values,
                  const std::vector<std::optional<Str>>& keys, bool append);
unsigned attrs_of(const State& st, std::string_view name);
// --- associative arrays (vars.cc) ---
const Assoc* find_assoc(const State& st, std::string_view name);
// The associative array `name` for writing: an existing one (a copy when shared), or a new one
// made from the scalar's value as key "0". Throws AssignError when readonly or indexed.
Assoc& assoc_for_write(Ctx& ctx, State& st, std::string_view name);
void set_assoc_element(Ctx& ctx, State& st, std::string_view name, Str key, Str value);
void unset_assoc_element(State& st, std::string_view name, std::string_view key);
// The entries in bash's listing order.
std::vector<const AssocElems::value_type*> assoc_order(const Assoc& a);
// A variable's value, array and attributes, and putting them back (local, prefix bindings).
State::Saved save_var(const State& st, std::string_view name);
void restore_var(Ctx& ctx, State& st, const State::Saved& s);
// declare/typeset/local/readonly/export (declare.cc).
int declare_builtin(Ctx& ctx, State& st, const Io& io, std::string_view cmd,
                    const std::vector<std::string_view>& args, std::atomic<uint64_t>* out_b,
                    std::atomic<uint64_t>* err_b);
void check_writable(const State& st, std::string_view name);  // throws AssignError
// A value quoted so the shell reads it back: bash's ${x@Q} and declare -p forms.
std::string quote_single(std::string_view v);   // 'it'\''s'
std::string quote_double(std::string_view v);   // "a\"b" (declare -p)
std::string quote_value(std::string_view v);    // quote_double, or $'...' with a control character
std::string quote_for_reuse(std::string_view v);  // '...', or $'...' with control characters
std::string quote_assoc_key(std::string_view k);  // as it is, "..." or $'...' (declare -p)
// ${a[@]@K}: `key "value" ...` of an array (nullopt: not an array).
std::optional<std::string> key_value_words(Ctx& ctx, const State& st, std::string_view name);
// declare -p's line for `name` (empty when neither set nor with attributes).
std::string declare_line(const State& st, std::string_view name);

// --- expansion (expand.cc) ----------------------------------------------------------------

// Expands one word into fields appended to `out` (the command's words so far: the word cap
// counts them all). `io` is where substitutions read and report; `subst_status` (may be null)
// receives the exit status of the last substitution run. Throws LimitHit; an expansion error
// (${x:?}, an unset variable under set -u) throws ExpansionError after its message is written.
void expand(Ctx& ctx, State& st, const Word& w, bool do_glob, const Io& io, int* subst_status,
            Vec<Str>& out);
// Brace expansion (brace.cc): calls `each` with every word `w` expands to, in order; false
// (and no call) when `w` has no brace expansion.
bool brace_expand(Ctx& ctx, const Word& w, const std::function<void(const Word&)>& each);
// NAME=(...)'s words: each expanded (split, globbed) into elements; `[k]=v` sets subscript k
// (v not split), its expanded text in `keys` (nullopt: the next index).
void expand_array(Ctx& ctx, State& st, const std::vector<Word>& elems, const Io& io,
                  int* subst_status, Vec<Str>& values, std::vector<std::optional<Str>>& keys);
// One string, no splitting or globbing (assignments, here-documents, case subjects).
Str expand_string(Ctx& ctx, State& st, const Word& w, const Io& io, int* subst_status);
// Whether the locale's characters are UTF-8 (LC_ALL, else LC_CTYPE, else LANG; none set: UTF-8)
// or bytes (C, POSIX, others): how patterns, ${#x} and ${x:o:l} count characters.
bool utf8_locale(const State& st);
// A pattern for fnmatch: quoted characters escaped (case patterns, ${x#p}).
Str expand_pattern(Ctx& ctx, State& st, const Word& w, const Io& io);
struct ExpansionError {
  int status = 1;
};

// --- patterns (pattern.h, expand.cc) --------------------------------------------------------

// The matching work one command's patterns may do (case arms, ${x#p}, ${x/p/r}, one word's
// globs): pattern.h bounds every match by it, on top of the deadline. Threat: `${x//*a*a*a/}`
// on a long value.
inline constexpr uint64_t kPatternWork = uint64_t{1} << 28;
// A pattern's result, or LimitHit naming the bound (the command fails, the script goes on).
template <class T>
T pattern_result(Result<T> r) {
  if (!r) throw LimitHit(Error(r.error().code, "pattern: " + r.error().message), false);
  return std::move(*r);
}
inline void pattern_result(Result<void> r) {
  if (!r) throw LimitHit(Error(r.error().code, "pattern: " + r.error().message), false);
}

// --- arithmetic and test (envs.cc: arith.h and test_expr.h over the shell's state) -------------

Result<int64_t> arith_eval(Ctx& ctx, State& st, std::string_view expr);
Result<bool> test_eval(Ctx& ctx, State& st, const Io& io, const std::vector<std::string>& argv,
                       bool bracket);
// The environment test and [[ ]] query (files beneath the preopens, variables, options).
std::unique_ptr<TestEnv> make_test_env(Ctx& ctx, State& st, const Io& io);

// --- [[ ]] (cond.cc) -------------------------------------------------------------------------

// Runs `[[ expr ]]`: 0 true, 1 false, 2 after an error's message (a bad regex, arithmetic).
int run_cond(Ctx& ctx, State& st, const CondExpr& e, const Io& io);

// --- redirections (redirect.cc) -------------------------------------------------------------

// What a command's redirections opened, held while it runs.
struct Opened {
  std::vector<Fd> fds;
  std::vector<std::unique_ptr<Budget::Lease>> leases;  // here-document bodies in memfds
  std::vector<int> named;  // the descriptors {NAME} redirections chose
};
// Applies `redirects` in order to `io`; false after writing the error (the command fails).
bool apply_redirects(Ctx& ctx, State& st, const std::vector<Redirect>& redirects, Io& io,
                     Opened& opened, int* subst_status);

// --- executor (exec.cc) and builtins (builtins.cc) ---------------------------------------------

// exec.cc: one command (simple or compound) with its redirections; a limit hit, an expansion
// error or a refused assignment inside it is its status.
int run_command(Ctx& ctx, State& st, const Command& cmd, const Io& io);
// errexit is off while a condition runs (if/while/until), for all but the last command of an
// && || list, and under `!` (as bash): those failures are tested, not fatal.
struct NoErrexit {
  explicit NoErrexit(State& s) : st(s) { ++st.errexit_off; }
  ~NoErrexit() { --st.errexit_off; }
  State& st;
};
// lists.cc: a list of and-or lists (pipelines, background jobs).
int run_list(Ctx& ctx, State& st, std::span<const AndOr> items, const Io& io);
// `<(inner)` (procsub.cc): starts `inner` with its output into a pipe registered in
// st.procsubs (`>(inner)`, to_list: its input from one), and returns the word it expands to
// ("/dev/fd/63"). Throws LimitHit (the command fails) when the commands running at once, a
// descriptor (10-63), a pipe or a thread run out.
std::string start_process_substitution(Ctx& ctx, State& st, std::shared_ptr<const Script> inner,
                                       bool to_list, const Io& io);
// Makes st.procsubs this command's own for its life (run_simple, run_compound).
class ProcSubScope {
 public:
  explicit ProcSubScope(State& st) : st_(st), saved_(st.procsubs) { st.procsubs = &subs_; }
  ~ProcSubScope() { st_.procsubs = saved_; }  // then subs_ closes its ends and joins
  ProcSubScope(const ProcSubScope&) = delete;
  ProcSubScope& operator=(const ProcSubScope&) = delete;
  void attach(Io& io) { subs_.attach(io); }
  bool any() const { return !subs_.list.empty(); }

 private:
  State& st_;
  ProcSubs* saved_;
  ProcSubs subs_;
};
// A shell's input, as run_list; an interactive shell's (State::interactive) line by line: an
// expansion error abandons the rest of its line and the next line runs (bash -i).
// `text` is what `items` were parsed from (AndOr::line_begin): when aliases are on (shopt -s
// expand_aliases and at least one alias), the rest is read again from the next line, one
// complete command at a time with the aliases expanded (alias.cc run_units). `what` names the
// input in a syntax error's message (a script, eval, ...).
int run_lines(Ctx& ctx, State& st, const std::string& text, const std::vector<AndOr>& items,
              const Io& io, const char* what);
// The shell's input from `pos` (on line `line`) read one complete command at a time, each parsed
// with the aliases of that moment (parse.h UnitReader), as bash reads a script. A syntax error
// is reported on `io`'s stderr and ends it with status 2 (and sets *syntax_error when given).
int run_units(Ctx& ctx, State& st, const std::string& text, size_t pos, int line, const Io& io,
              const char* what, bool* syntax_error = nullptr);
// input.cc: the script read from `fd` as it runs, a complete command at a time, never read past
// (Session::run_input, include/wasmcap/shell.h; a nested `sh` reading its stdin). `what` names
// the input in a syntax error's message.
int run_input(Ctx& ctx, State& st, int fd, const Io& io, const char* what);
// A script that failed to parse whole is read as bash reads it (run_units from its start) when
// aliases are on, or when a command before the failing one runs `alias`: an alias may make the
// failing command parse (`alias LEFT='{'` ... `LEFT echo; }`). Otherwise nothing runs.
bool read_as_bash(Ctx& ctx, const State& st, const std::string& text);
bool is_alias_builtin(std::string_view n);
// Signals by Linux's numbers, as bash names them (builtins_ctl.cc: trap's and kill's): the name
// of number n ("HUP"; "" for none), the number of a name or number (`hup`, `SIGHUP`, `1`; 0 for
// "0"; -1 for none), and `trap -l`'s / `kill -l`'s table.
std::string_view signal_name(int n);
int signal_number(std::string_view spec);
std::string signal_table();
// Whether this state runs in a background job that was sent a signal (kill).
inline bool job_killed(const State& st) {
  return st.job_kill != nullptr && st.job_kill->signal.load() != 0;
}  // alias, unalias (alias.cc)
int run_alias_builtin(Ctx& ctx, State& st, const Vec<Str>& argv, const Io& io,
                      std::atomic<uint64_t>* out_b, std::atomic<uint64_t>* err_b);
// Whether a list stops here: exit, an abandoned line, break/continue/return, or the script's
// deadline or a fatal error (exec.cc).
bool stopping(Ctx& ctx, const State& st);
// nested_exec.cc: `sh ...` / `bash ...`, and a script by path (argv rewritten to its
// interpreter; -1 when ready, else the status).
int run_nested_shell(Ctx& ctx, const State& st, const Vec<Str>& argv, const Io& io,
                     std::atomic<uint64_t>* err_b);
int prepare_script(Ctx& ctx, const State& st, Vec<Str>& argv, int err,
                   std::atomic<uint64_t>* err_b);
int run_script_text(Ctx& ctx, State& st, const std::string& text, const Io& io,
                    const char* what);
// nested_exec.cc: one read(2) of at most `n` bytes of `fd`, waiting for it in slices that see
// the deadline (throws LimitHit): what read returned (0 at the end, -1 on an error).
ssize_t read_waiting(Ctx& ctx, int fd, char* buf, size_t n);
// At most `limit` bytes of `fd` into `out`, read as read_waiting reads; false on a read error.
// (Its buffer is in its own frame, not in the frame of a recursion such as `.`.)
bool read_bounded(Ctx& ctx, int fd, size_t limit, Str* out);
bool is_builtin(std::string_view n);
// builtins.cc: the entry of the directory stack (0: the working directory, then pushd's) that a
// +N (from the left) or -N (from the right) word names, as dirs, pushd, popd and ~N read it;
// -1 when out of range, nullopt when the word is no such number (or too large to read).
std::optional<long long> dir_stack_index(const State& st, std::string_view w);
// Builtins that are also programs (echo printf true false test [ pwd expr which): what xargs and find
// -exec may run, as GNU's would find /usr/bin/echo.
bool is_program_builtin(std::string_view n);
// exec.cc: runs words built by a builtin (xargs, find -exec) as a command (docs/shell.md
// "xargs"). `ran` is false when it could not start: not found (127) or refused (126), after
// the message.
struct WordsRun {
  int code = 0;
  bool ran = false;
};
WordsRun run_words(Ctx& ctx, State& st, Vec<Str> argv, const Io& io);
// nested_exec.cc: `env [NAME=VALUE]... COMMAND...` run by the shell (nullopt: the env tool's).
std::optional<int> run_env(Ctx& ctx, const State& st, const Vec<Str>& argv, const Io& io);
// What xargs and find -exec may run: a word with `/` (a script by path), a builtin that is also
// a program, `sh`/`bash`, or a name in the command table.
bool is_program(const Ctx& ctx, std::string_view name);
// find_exec.cc: `find` with -exec/-execdir/-ok/-okdir, run by the shell (docs/shell.md
// "find -exec").
bool find_has_exec(const Vec<Str>& argv);
int run_find_exec(Ctx& ctx, State& st, const Vec<Str>& argv, const Io& io,
                  std::atomic<uint64_t>* out_b, std::atomic<uint64_t>* err_b);
// xargs.cc: the xargs builtin.
int run_xargs(Ctx& ctx, State& st, const Vec<Str>& argv, const Io& io,
              std::atomic<uint64_t>* out_b, std::atomic<uint64_t>* err_b);
// timeout.cc: `timeout [OPTION] DURATION COMMAND [ARG]...`, GNU's, run by the shell.
int run_timeout(Ctx& ctx, State& st, const Vec<Str>& argv, const Io& io,
                std::atomic<uint64_t>* out_b, std::atomic<uint64_t>* err_b);
// builtins_ctl.cc: the EXIT trap when a shell (the script, a nested shell, a ( ) subshell)
// ends, and the ERR trap after a failure errexit would see (`code`: that status, kept as $?).
void run_exit_trap(Ctx& ctx, State& st, const Io& io);
void run_err_trap(Ctx& ctx, State& st, const Io& io, int code);
// builtins_ctl.cc: shopt, trap (and the other control builtins), dispatched by run_builtin.
bool is_ctl_builtin(std::string_view n);
bool is_file_builtin(std::string_view n);  // chmod, which (files.cc)
// mapfile.cc: mapfile and readarray.
bool is_mapfile_builtin(std::string_view n);
int run_mapfile_builtin(Ctx& ctx, State& st, const Vec<Str>& argv, const Io& io,
                        std::atomic<uint64_t>* err_b);
int run_file_builtin(Ctx& ctx, State& st, const Vec<Str>& argv, const Io& io,
                     std::atomic<uint64_t>* out_b, std::atomic<uint64_t>* err_b);
// The first `DIR/name` on PATH (each DIR resolved beneath the preopens; empty DIR: `.`) that
// is a regular file, executable when `executable`; none for a name with '/' or no PATH.
// With `all`, every such file is appended to it (the first is still returned).
std::optional<std::string> search_path(Ctx& ctx, const State& st, std::string_view name,
                                       bool executable, std::vector<std::string>* all = nullptr);
// Where PATH finds the program NAME (a bundle's command, sh/bash, a program builtin): DIR/NAME
// for the first command directory DIR on PATH (as written); none when PATH names none of them.
std::optional<std::string> program_on_path(Ctx& ctx, const State& st, std::string_view name);
// search_path for a command, through State::hashed.
std::optional<std::string> find_path_command(Ctx& ctx, State& st, std::string_view name);
// A command NAME runs by a PATH search (a script found there, a tool or the nested shell): bash's
// hash table counts the hit, a tool's path being PATH's first command directory (none: no entry).
void hash_hit(Ctx& ctx, State& st, std::string_view name);
// `hash NAME` for a tool or the nested shell: its path enters the table with no hits.
void hash_program(Ctx& ctx, State& st, std::string_view name);
int run_ctl_builtin(Ctx& ctx, State& st, const Vec<Str>& argv, const Io& io,
                    std::atomic<uint64_t>* out_b, std::atomic<uint64_t>* err_b);
// jobs.cc: wait, jobs; the table's upkeep (joins ended jobs' threads before a job starts) and a
// job's end, signalled on its own thread.
bool is_job_builtin(std::string_view n);
int run_job_builtin(Ctx& ctx, State& st, const Vec<Str>& argv, const Io& io,
                    std::atomic<uint64_t>* out_b, std::atomic<uint64_t>* err_b);
void reap_jobs(Jobs& jobs);
void finish_job(JobSync& sync, Job& j, int status);
int run_builtin(Ctx& ctx, State& st, const Vec<Str>& argv, const Io& io,
                std::atomic<uint64_t>* out_b, std::atomic<uint64_t>* err_b);

}  // namespace wasmcap::shell

// The shell's lists (docs/shell.md "Grammar"): pipelines whose stages run at once on their own
// threads, `time`, and-or lists and errexit, background jobs, and the lists of commands
// run_list runs; each command is run_command's (exec.cc). Every container of shell state
// allocates through the session's Budget (budget.h), which also carries the deadline.
#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <optional>

#include "common/failpoint.h"
#include "shell/state.h"

namespace wasmcap::shell {

namespace {

// PIPESTATUS: each stage's status after a pipeline, or a simple command's (bash leaves it to
// the pipelines inside a compound command). Charged as any array; a readonly one stays.
// Over the budget, it is left as it was (the pipeline's status stands).
void set_pipestatus(Ctx& ctx, State& st, const std::vector<int>& codes) {
  try {
    Vec<Str> values(ctx.alloc());
    for (int c : codes) values.push_back(ctx.str(std::to_string(c)));
    assign_array(ctx, st, "PIPESTATUS", values, {}, false);
  } catch (const AssignError&) {
  } catch (const LimitHit&) {
  }
}

int run_pipeline(Ctx& ctx, State& st, const Pipeline& p, const Io& io) {
  size_t n = p.commands.size();
  // A single command runs on this thread: a function's recursion is bounded by its depth
  // (kMaxFunctionDepth), not by the commands running at once.
  if (n == 1) {
    int code = run_command(ctx, st, p.commands[0], io);
    if (p.commands[0].kind == Command::Kind::kSimple) set_pipestatus(ctx, st, {code});
    return code;
  }
  // Threat: `a | a | a ...` thousands of stages deep, or pipelines nested in $(...): each
  // stage is a thread and a tool instance. Stages per pipeline and commands running at once in
  // the session are capped; over either, the pipeline fails before anything starts.
  std::optional<Budget::Commands> running;
  try {
    running.emplace(ctx.budget->start_commands(n));
  } catch (const LimitHit& h) {
    return limit_status(ctx, h, io.err());
  }
  // pipes[i]: from stage i to stage i+1. Bounded by the kernel's pipe buffer: a fast writer
  // blocks until the reader catches up.
  std::vector<Fd> rd(n), wr(n);
  for (size_t i = 0; i + 1 < n; ++i) {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) {
      emit(ctx, io.err(), std::string("wasmcap sh: pipe: ") + std::strerror(errno) + "\n");
      return 1;
    }
    rd[i] = Fd(fds[0]);
    wr[i] = Fd(fds[1]);
  }
  std::vector<int> codes(n, 0);
  // Each stage is a subshell (cd/exit/assignments stay local), on its own thread; with
  // `shopt -s lastpipe` the last runs in this shell, on this thread (bash without job control).
  // The copies are made before any stage runs, so none reads the state while another changes it.
  const bool lastpipe = st.opt_lastpipe;
  const size_t copies = lastpipe ? n - 1 : n;
  std::vector<std::optional<State>> locals(copies);
  try {
    for (auto& l : locals) l.emplace(st.on_new_thread());
  } catch (const LimitHit& h) {  // the copies of the state did not fit
    return limit_status(ctx, h, io.err());
  }
  auto stage = [&](size_t i, State& s) {
    Io sio = io;
    sio.fd[0] = i == 0 ? io.in() : rd[i - 1].get();
    sio.fd[1] = i + 1 == n ? io.out() : wr[i].get();
    codes[i] = run_command(ctx, s, p.commands[i], sio);
    // Done: close this stage's ends so the next sees EOF and the previous sees EPIPE.
    if (i + 1 < n) wr[i].reset();
    if (i > 0) rd[i - 1].reset();
  };
  // Every stage's thread is created before any stage runs: when one cannot be, none runs and the
  // pipeline fails (a stage started alone could block on a pipe nobody will read).
  struct Gate {
    std::mutex mu;
    std::condition_variable cv;
    bool open = false, go = false;
    bool wait() {
      std::unique_lock<std::mutex> lock(mu);
      cv.wait(lock, [this] { return open; });
      return go;
    }
    void release(bool run) {
      {
        std::lock_guard<std::mutex> lock(mu);
        open = true;
        go = run;
      }
      cv.notify_all();
    }
  } gate;
  std::vector<std::unique_ptr<ExecThread>> threads;
  const ExecThread* failed = nullptr;
  for (size_t i = 0; i < copies && failed == nullptr; ++i) {
    threads.push_back(std::make_unique<ExecThread>(
        [&, i]() {
          if (gate.wait()) stage(i, *locals[i]);
        },
        kStageStackBytes));
    if (!threads.back()->started()) failed = threads.back().get();
  }
  gate.release(failed == nullptr);
  if (failed == nullptr && lastpipe) stage(n - 1, st);
  for (auto& t : threads) t->join();
  if (failed != nullptr) {
    emit(ctx, io.err(), "wasmcap sh: " + failed->failure("a pipeline stage") + "\n");
    return 1;
  }
  set_pipestatus(ctx, st, codes);
  if (st.opt_pipefail) {
    for (auto it = codes.rbegin(); it != codes.rend(); ++it) {
      if (*it != 0) return *it;
    }
  }
  return codes.back();
}

// A compound command whose status is its last list's (a group, if, case, a loop; not a
// subshell or a function call, as bash).
bool passes_status_through(const Pipeline& p) {
  if (p.commands.size() != 1) return false;
  switch (p.commands[0].kind) {
    case Command::Kind::kGroup:
    case Command::Kind::kIf:
    case Command::Kind::kWhile:
    case Command::Kind::kUntil:
    case Command::Kind::kFor:
    case Command::Kind::kArithFor:
    case Command::Kind::kCase: return true;
    default: return false;
  }
}

// `time [-p] PIPELINE`: the pipeline, then its elapsed time and the CPU time the process spent
// meanwhile (its tools run on its threads) on stderr, in bash's format.
int run_timed(Ctx& ctx, State& st, const Pipeline& p, const Io& io) {
  struct rusage r0 {}, r1 {};
  ::getrusage(RUSAGE_SELF, &r0);
  auto t0 = Clock::now();
  int code = run_pipeline(ctx, st, p, io);
  double real = std::chrono::duration<double>(Clock::now() - t0).count();
  ::getrusage(RUSAGE_SELF, &r1);
  auto secs = [](const timeval& a, const timeval& b) {
    return static_cast<double>(b.tv_sec - a.tv_sec) + static_cast<double>(b.tv_usec - a.tv_usec) / 1e6;
  };
  double t[3] = {real, secs(r0.ru_utime, r1.ru_utime), secs(r0.ru_stime, r1.ru_stime)};
  const char* names[3] = {"real", "user", "sys"};
  std::string out = p.time_posix ? "" : "\n";
  char line[64];
  for (int k = 0; k < 3; ++k) {
    double v = t[k] < 0 ? 0 : t[k];
    if (p.time_posix) {
      std::snprintf(line, sizeof line, "%s %.2f\n", names[k], v);
    } else {
      auto m = static_cast<long>(v / 60);
      std::snprintf(line, sizeof line, "%s\t%ldm%.3fs\n", names[k], m, v - 60.0 * static_cast<double>(m));
    }
    out += line;
  }
  emit(ctx, io.err(), out);
  return code;
}

int run_and_or(Ctx& ctx, State& st, const AndOr& ao, const Io& io) {
  size_t last = ao.pipelines.size() - 1;
  int code = 0;
  bool exempt = false;  // the status is a failure errexit ignored (st.status_exempt)
  for (size_t k = 0; k <= last; ++k) {
    if (k > 0) {
      st.last = code;
      bool run = ao.and_ops[k - 1] ? code == 0 : code != 0;
      if (!run) continue;  // (exempt: set by the part before)
    }
    const Pipeline& p = ao.pipelines[k];
    {
      std::optional<NoErrexit> quiet;
      if (k < last || p.negate) quiet.emplace(st);
      st.status_exempt = false;
      code = p.timed ? run_timed(ctx, st, p, io) : run_pipeline(ctx, st, p, io);
    }
    // `{ false && x; }`: the group's status is its list's, a failure errexit ignored there.
    exempt = p.negate || k < last || (passes_status_through(p) && st.status_exempt);
    if (p.negate) code = code == 0 ? 1 : 0;
    if (stopping(ctx, st)) return code;
    if (k == last && code != 0 && !exempt && st.errexit_off == 0) {
      run_err_trap(ctx, st, io, code);  // trap ... ERR: where errexit would look
      if (st.opt_errexit) st.exit_requested = true;  // set -e: an untested failure ends the shell
    }
  }
  st.status_exempt = code != 0 && exempt;
  return code;
}

// `LIST &`: the and-or list runs on its own thread with a copy of the state (a subshell), and
// counts as a running command (--max-live-commands) until it ends; `wait` or the end of the
// script joins it. It keeps its own copy of the list, which may come from an `eval`'s text.
int run_background(Ctx& ctx, State& st, const AndOr& ao, const Io& io) {
  std::optional<Budget::Commands> slot;
  try {
    slot.emplace(ctx.budget->start_commands(1));
  } catch (const LimitHit& h) {
    return limit_status(ctx, h, io.err());
  }
  reap_jobs(*st.jobs);
  auto job = std::make_shared<Job>();
  job->text = ao.text;
  auto list = std::make_shared<AndOr>(ao);
  list->background = false;
  auto sub = std::make_shared<State>(st.on_new_thread());
  auto kill = std::make_shared<JobKill>();  // `kill` (jobs.cc); a job inside a job: both
  kill->parent = st.job_kill;
  sub->job_kill = kill;
  job->kill = kill;
  // (A test's delay here opens the window the ancestors' check below closes:
  // tests/shell/shell_process_test.cc ShellJobs.AJobStartedByAKilledJobIsKilledToo.)
  (void)failpoint::hit("shell.job.register");
  {
    std::lock_guard<std::mutex> lock(ctx.mu);
    auto& k = ctx.job_kills;  // (the ended jobs' entries go; live ones are bounded by jobs)
    k.erase(std::remove_if(k.begin(), k.end(), [](const auto& w) { return w.expired(); }), k.end());
    k.push_back(kill);
    if (ctx.fatal) kill->interrupt = true;
    // A job started by a job that was killed before this one was registered (the kill ran
    // between the outer job's start and this line: raise_jobs_locked did not see it) is killed
    // with it now, as its parent's kill would have; under mu, so no kill falls in between.
    // Without this the inner job outlived the outer one's kill (`{ loop & wait; } & kill %+`).
    for (const JobKill* p = kill->parent.get(); p != nullptr; p = p->parent.get()) {
      if (int s = p->signal.load()) {
        kill->signal = s;
        kill->interrupt = true;
        break;
      }
    }
  }
  Job* j = job.get();
  auto running = std::make_shared<Budget::Commands>(std::move(*slot));
  // The job's own copies of the descriptors: the command that opened them (`{ a & } > f`) may
  // close its own before the job ends.
  auto owned = std::make_shared<std::vector<Fd>>();
  Io jio = io;
  for (int& fd : jio.fd) {
    if (fd < 0) continue;
    int copy = ::fcntl(fd, F_DUPFD_CLOEXEC, 10);
    if (copy < 0) {
      fd = kClosed;
      continue;
    }
    owned->emplace_back(copy);
    fd = copy;
  }
  std::shared_ptr<JobSync> sync = st.jobs->sync;
  j->thread = std::make_unique<ExecThread>([&ctx, j, sync, list, sub, jio, running, owned]() {
    int code;
    try {
      code = run_and_or(ctx, *sub, *list, jio);
    } catch (const LimitHit& h) {
      code = limit_status(ctx, h, jio.err());
    }
    if (int s = sub->job_kill->signal.load()) code = 128 + s;  // ended by `kill`, as by a signal
    finish_job(*sync, *j, code);
  }, kStageStackBytes);
  if (!j->thread->started()) {  // no job: `wait` and $! know nothing of it
    emit(ctx, io.err(), "wasmcap sh: " + j->thread->failure("a background job") + "\n");
    return 1;
  }
  job->id = st.jobs->next_id++;
  st.jobs->list.push_back(job);
  st.last_job = job->id;
  return 0;
}

}  // namespace

int run_list(Ctx& ctx, State& st, std::span<const AndOr> items, const Io& io) {
  Io cur = io;
  // The descriptors `exec` set after `io` was made (and after each command here) hold; those
  // it set before are already in `io`, or a redirection of an enclosing command overrides them.
  auto take_exec = [&]() {
    if (cur.exec_gen == st.exec_gen || !st.exec_fds) return;
    for (int k = 0; k < kMaxFds; ++k) {
      if (st.exec_fds->fd[k] != State::ExecFds::kUnset && st.exec_fds->gen[k] > cur.exec_gen) {
        cur.fd[k] = st.exec_fds->fd[k];
      }
    }
    cur.exec_gen = st.exec_gen;
  };
  take_exec();
  for (const AndOr& ao : items) {
    if (stopping(ctx, st)) break;
    st.last = ao.background ? run_background(ctx, st, ao, cur) : run_and_or(ctx, st, ao, cur);
    take_exec();
  }
  return st.last;
}

}  // namespace wasmcap::shell

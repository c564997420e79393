// Background jobs' table and the builtins that read it (docs/shell.md "Grammar", background
// jobs): `wait`, `jobs` and `kill`. A job is a thread (exec.cc, run_background) that signals its
// end through the table's JobSync; its id is what `$!` and `jobs -p` show. Jobs run inside the
// shell, so `kill` signals no process: it raises the job's interrupt flag (its tools' engines
// stop, its commands stop at the next one) and the job ends with 128 + the signal's number.
#include <algorithm>
#include <charconv>

#include "common/failpoint.h"
#include "shell/state.h"

namespace wasmcap::shell {

namespace {

using Args = std::vector<std::string_view>;

// Threat: `while :; do true & done` with no `wait`. Every finished job's thread is joined when
// the next one starts (so at most --max-live-commands threads exist), and at most this many
// finished jobs' statuses are kept for a later `wait ID` (bash keeps a bounded list too); the
// oldest are dropped first.
constexpr size_t kMaxFinishedJobs = 1024;

struct Out {
  Ctx& ctx;
  const Io& io;
  std::atomic<uint64_t>* out_b;
  std::atomic<uint64_t>* err_b;
  bool out(std::string_view s) { return emit(ctx, io.out(), s, out_b); }
  void say(std::string_view builtin, const std::string& m) {
    emit(ctx, io.err(), "wasmcap sh: " + std::string(builtin) + ": " + m + "\n", err_b);
  }
};

// A job by the spec bash takes: N (as `$!` shows it), %N, %+ / %% / % (the current job: the
// last started), %- (the one before). nullptr: no such job; *valid is false when the text is
// no job spec at all.
std::shared_ptr<Job> find_job(const std::vector<std::shared_ptr<Job>>& l, std::string_view spec,
                              bool* valid) {
  *valid = true;
  if (spec == "%+" || spec == "%%" || spec == "%") return l.empty() ? nullptr : l.back();
  if (spec == "%-") return l.size() < 2 ? nullptr : l[l.size() - 2];
  std::string_view num = !spec.empty() && spec[0] == '%' ? spec.substr(1) : spec;
  int id = 0;
  auto [end, ec] = std::from_chars(num.data(), num.data() + num.size(), id);
  if (num.empty() || ec != std::errc() || end != num.data() + num.size()) {
    *valid = spec[0] == '%';  // %name (a command's name): bash's, never one of ours
    return nullptr;
  }
  for (const auto& j : l) {
    if (j->id == id) return j;
  }
  return nullptr;
}

// bash's descriptions of the signals that end a job (strsignal's), for `wait` and `jobs`.
std::string describe(int sig) {
  static const char* const kText[] = {
      "", "Hangup", "Interrupt", "Quit", "Illegal instruction", "Trace/breakpoint trap",
      "Aborted", "Bus error", "Floating point exception", "Killed", "User defined signal 1",
      "Segmentation fault", "User defined signal 2", "Broken pipe", "Alarm clock", "Terminated",
      "Stack fault", "Child exited", "Continued", "Stopped (signal)", "Stopped",
      "Stopped (tty input)", "Stopped (tty output)", "Urgent I/O condition",
      "CPU time limit exceeded", "File size limit exceeded", "Virtual timer expired",
      "Profiling timer expired", "Window changed", "I/O possible", "Power failure",
      "Bad system call"};
  return sig > 0 && static_cast<size_t>(sig) < std::size(kText) ? kText[sig]
                                                                 : "Signal " + std::to_string(sig);
}

// The signal that ended a job by `kill` (0: none).
int killed_by(const Job& j) { return j.kill ? j.kill->signal.load() : 0; }

// bash's report when `wait` collects a job a signal ended (not for INT, PIPE and TERM, which
// bash leaves unsaid in a script): "line L: ID Hangup   TEXT" on wait's stderr.
void report_killed(Out& o, const State& st, const Job& j) {
  int sig = killed_by(j);
  if (sig == 0 || sig == 2 || sig == 13 || sig == 15) return;
  std::string d = describe(sig);
  d.resize(std::max<size_t>(d.size() + 1, 24), ' ');
  emit(o.ctx, o.io.err(),
       "wasmcap sh: line " + std::to_string(st.lineno) + ": " + std::to_string(j.id) + " " + d +
           shown(j.text) + "\n",
       o.err_b);
}

std::string no_such_job(std::string_view spec) {
  if (!spec.empty() && spec[0] == '%') return shown(spec) + ": no such job";
  return "pid " + shown(spec) + " is not a child of this shell";
}

void forget(Jobs& jobs, const std::shared_ptr<Job>& j) {
  auto& l = jobs.list;
  l.erase(std::remove(l.begin(), l.end(), j), l.end());
}

// The job's status once it has ended (its thread joined), and the job out of the table.
int collect(Jobs& jobs, const std::shared_ptr<Job>& j) {
  j->thread->join();
  forget(jobs, j);
  std::lock_guard<std::mutex> lock(jobs.sync->mu);
  return j->status;
}

// wait -n [ID...]: the first of these jobs (every job without IDs) to end, or the one that
// ended first when some already have; 127 when there is none.
int wait_next(Out& o, const State& st, Jobs& jobs, const Args& ids) {
  std::vector<std::shared_ptr<Job>> cands;
  if (ids.empty()) cands = jobs.list;
  for (auto spec : ids) {
    bool valid = true;
    auto j = find_job(jobs.list, spec, &valid);
    if (j == nullptr) {
      o.say("wait", shown(spec) + ": no such job");
    } else if (std::find(cands.begin(), cands.end(), j) == cands.end()) {
      cands.push_back(j);
    }
  }
  if (cands.empty()) return 127;
  std::shared_ptr<Job> first;
  {
    std::unique_lock<std::mutex> lock(jobs.sync->mu);
    jobs.sync->cv.wait(lock, [&] {
      for (const auto& j : cands) {
        if (j->done && (first == nullptr || j->finished < first->finished)) first = j;
      }
      return first != nullptr;
    });
  }
  int status = collect(jobs, first);
  report_killed(o, st, *first);
  return status;
}

// wait [-n] [ID...]: without IDs every job (status 0); with IDs each in turn, the status the
// last one's (127 for one that is no job of this shell, 2 for a word that is no job spec;
// bash 5.2 says 1, POSIX's usage error is 2, as dash).
int b_wait(Out& o, State& st, const Args& a) {
  Jobs& jobs = *st.jobs;
  size_t i = 0;
  bool next = false;
  for (; i < a.size() && a[i].size() > 1 && a[i][0] == '-'; ++i) {
    if (a[i] == "--") {
      ++i;
      break;
    }
    if (a[i] != "-n") {
      o.say("wait", shown(a[i]) + ": invalid option\nwait: usage: wait [-n] [id ...]");
      return 2;
    }
    next = true;
  }
  Args ids(a.begin() + static_cast<long>(i), a.end());
  if (next) return wait_next(o, st, jobs, ids);
  if (ids.empty()) {
    for (auto& j : jobs.list) {
      j->thread->join();
      report_killed(o, st, *j);
    }
    jobs.list.clear();
    return 0;
  }
  int status = 0;
  for (auto spec : ids) {
    bool valid = true;
    auto j = find_job(jobs.list, spec, &valid);
    if (!valid) {
      std::string m = "`";
      m += shown(spec);
      m += "': not a pid or valid job spec";
      o.say("wait", m);
      status = 2;
    } else if (j == nullptr) {
      o.say("wait", no_such_job(spec));
      status = 127;
    } else {
      status = collect(jobs, j);
      report_killed(o, st, *j);
    }
  }
  return status;
}

// kill [-s SIG | -n NUM | -SIG] ID... and kill -l [SIG|STATUS...] (bash's). An ID is a job of
// this shell, as `$!` and `jobs` show it (N or %N, %+, %-): nothing outside the shell is ever
// signalled, so any other number is "No such process". A job that is still running stops as
// if the signal had ended it (status 128 + the number); one that has ended is left as it is.
// Stopping a job (STOP, TSTP, TTIN, TTOU) is refused: there is no job control.
int b_kill(Out& o, State& st, const Args& a) {
  auto usage = [&] {
    o.say("kill", "usage: kill [-s sigspec | -n signum | -sigspec] pid | jobspec ... or kill -l "
                  "[sigspec]");
    return 2;
  };
  if (a.empty()) return usage();
  if (a[0] == "-l" || a[0] == "-L") {
    if (a.size() == 1) return o.out(signal_table()) ? 0 : 1;
    std::string text;
    int status = 0;
    for (size_t k = 1; k < a.size(); ++k) {
      int n = signal_number(a[k]);
      bool numeric = !a[k].empty() && std::all_of(a[k].begin(), a[k].end(), [](char c) {
        return c >= '0' && c <= '9';
      });
      if (numeric && a[k].size() < 6) {
        int v = std::stoi(std::string(a[k]));
        n = v > 128 ? v - 128 : v;  // an exit status: the signal that made it
        if (signal_name(n).empty()) n = -1;
        if (n != -1) text += std::string(signal_name(n)) + "\n";
      } else if (n > 0) {
        text += std::to_string(n) + "\n";
      } else {
        n = -1;
      }
      if (n <= 0) {
        o.say("kill", shown(a[k]) + ": invalid signal specification");
        status = 1;
      }
    }
    return o.out(text) ? status : 1;
  }
  int sig = 15;  // TERM
  size_t i = 0;
  if (a[0] == "-s" || a[0] == "-n") {
    if (a.size() < 2) return usage();
    sig = signal_number(a[1]);
    i = 2;
    if (sig < 0) {
      o.say("kill", shown(a[1]) + ": invalid signal specification");
      return 1;
    }
  } else if (a[0].size() > 1 && a[0][0] == '-' && a[0] != "--") {
    sig = signal_number(a[0].substr(1));
    i = 1;
    if (sig < 0) {
      o.say("kill", shown(a[0].substr(1)) + ": invalid signal specification");
      return 1;
    }
  }
  if (i < a.size() && a[i] == "--") ++i;
  if (i == a.size()) return usage();
  if (sig >= 19 && sig <= 22) {  // STOP TSTP TTIN TTOU
    o.say("kill", std::string(signal_name(sig)) +
                      ": stopping a job is not supported (the shell has no job control)");
    return 1;
  }
  int status = 0;
  for (; i < a.size(); ++i) {
    bool valid = true;
    auto j = find_job(st.jobs->list, a[i], &valid);
    if (j == nullptr) {
      if (!a[i].empty() && a[i][0] == '%') {
        o.say("kill", shown(a[i]) + ": no such job");
      } else if (valid) {
        std::string m = "(";
        m += shown(a[i]);
        m += ") - No such process (only this shell's jobs, as $! and jobs name them, can be "
             "signalled)";
        o.say("kill", m);
      } else {
        o.say("kill", shown(a[i]) + ": arguments must be process or job IDs");
      }
      status = 1;
      continue;
    }
    bool done;
    {
      std::lock_guard<std::mutex> lock(st.jobs->sync->mu);
      done = j->done;
    }
    // Signals whose default action is to do nothing (CHLD, CONT, URG, WINCH) and 0 (is it
    // there?) leave a job running.
    if (done || sig == 0 || sig == 17 || sig == 18 || sig == 23 || sig == 28) continue;
    (void)failpoint::hit("shell.job.kill");  // (a test's delay: lists.cc shell.job.register)
    std::lock_guard<std::mutex> lock(o.ctx.mu);
    o.ctx.raise_jobs_locked(j->kill.get(), sig);
  }
  return status;
}

// jobs [-lpnrs] [ID...]: bash's listing of the table ("[1]+  Running    sleep 1 &"; a job that
// has ended is listed once more, as Done or Exit N); -p: the ids only.
int b_jobs(Out& o, State& st, const Args& a) {
  Jobs& jobs = *st.jobs;
  bool ids_only = false, long_form = false, running_only = false, stopped_only = false;
  size_t i = 0;
  for (; i < a.size() && a[i].size() > 1 && a[i][0] == '-'; ++i) {
    if (a[i] == "--") {
      ++i;
      break;
    }
    for (char c : a[i].substr(1)) {
      if (c == 'p') ids_only = true;
      else if (c == 'l') long_form = true;
      else if (c == 'r') running_only = true;
      else if (c == 's') stopped_only = true;
      else if (c != 'n') {
        std::string m = "-";
        m += c;
        m += ": invalid option\njobs: usage: jobs [-lnprs] [jobspec ...]";
        o.say("jobs", m);
        return 2;
      }
    }
  }
  // A subshell (`jobs | wc -l`) lists its parent's jobs as they were when it started (bash).
  const bool inherited = jobs.list.empty() && !jobs.inherited.empty();
  const auto& list = inherited ? jobs.inherited : jobs.list;
  JobSync& sync = inherited ? *jobs.inherited_sync : *jobs.sync;
  std::vector<std::shared_ptr<Job>> shown_jobs;
  int status = 0;
  if (i == a.size()) {
    shown_jobs = list;
  } else {
    for (; i < a.size(); ++i) {
      bool valid = true;
      auto j = find_job(list, a[i], &valid);
      if (j == nullptr) {
        o.say("jobs", shown(a[i]) + ": no such job");
        status = 1;
      } else {
        shown_jobs.push_back(j);
      }
    }
  }
  std::string text;
  {
    std::lock_guard<std::mutex> lock(sync.mu);
    const Job* current = list.empty() ? nullptr : list.back().get();
    const Job* previous = list.size() < 2 ? nullptr : list[list.size() - 2].get();
    for (const auto& j : shown_jobs) {
      if (j->reported || stopped_only || (running_only && j->done)) continue;
      if (ids_only) {
        text += std::to_string(j->id) + "\n";
        continue;
      }
      std::string state = !j->done             ? "Running"
                          : killed_by(*j) != 0 ? describe(killed_by(*j))
                          : j->status == 0     ? "Done"
                                               : "Exit " + std::to_string(j->status);
      char mark = j.get() == current ? '+' : j.get() == previous ? '-' : ' ';
      std::string line = "[";
      line += std::to_string(j->id);
      line += ']';
      line += mark;
      line += ' ';
      line += (long_form ? std::to_string(j->id) : std::string()) + " " + state;
      line.resize(std::max(line.size() + 1, line.size() - state.size() + 24), ' ');
      text += line + j->text + (j->done ? "\n" : " &\n");
      if (j->done && !inherited) j->reported = true;
    }
  }
  return o.out(text) ? status : 1;
}

}  // namespace

// Before a job starts: joins the threads of the jobs that have ended and keeps at most
// kMaxFinishedJobs of their statuses.
void reap_jobs(Jobs& jobs) {
  size_t finished = 0;
  for (auto it = jobs.list.rbegin(); it != jobs.list.rend(); ++it) {
    bool done;
    {
      std::lock_guard<std::mutex> lock(jobs.sync->mu);
      done = (*it)->done;
    }
    if (!done) continue;
    (*it)->thread->join();
    if (++finished > kMaxFinishedJobs) (*it)->id = 0;  // dropped below
  }
  auto& l = jobs.list;
  l.erase(std::remove_if(l.begin(), l.end(), [](const auto& j) { return j->id == 0; }), l.end());
}

// On the job's thread, as it ends.
void finish_job(JobSync& sync, Job& j, int status) {
  {
    std::lock_guard<std::mutex> lock(sync.mu);
    j.status = status;
    j.done = true;
    j.finished = ++sync.finished;
  }
  sync.cv.notify_all();
}

void Ctx::raise_jobs_locked(const JobKill* job, int signal) {
  for (const auto& w : job_kills) {
    auto k = w.lock();
    if (k == nullptr) continue;
    bool inside = job == nullptr;
    for (const JobKill* p = k.get(); p != nullptr && !inside; p = p->parent.get()) {
      inside = p == job;
    }
    if (!inside) continue;
    int none = 0;
    if (signal != 0) k->signal.compare_exchange_strong(none, signal);
    k->interrupt = true;
  }
}

bool is_job_builtin(std::string_view n) { return n == "wait" || n == "jobs" || n == "kill"; }

int run_job_builtin(Ctx& ctx, State& st, const Vec<Str>& argv, const Io& io,
                    std::atomic<uint64_t>* out_b, std::atomic<uint64_t>* err_b) {
  Out o{ctx, io, out_b, err_b};
  Args a;
  for (size_t k = 1; k < argv.size(); ++k) a.push_back(view(argv[k]));
  std::string_view n = view(argv[0]);
  if (n == "wait") return b_wait(o, st, a);
  if (n == "jobs") return b_jobs(o, st, a);
  if (n == "kill") return b_kill(o, st, a);
  return 127;
}

}  // namespace wasmcap::shell

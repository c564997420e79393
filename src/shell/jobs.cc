// Background jobs' table and the builtins that read it (docs/shell.md "Grammar", background
// jobs): `wait` and `jobs`. A job is a thread (exec.cc, run_background) that signals its end
// through the table's JobSync; its id is what `$!` and `jobs -p` show.
#include <algorithm>
#include <charconv>

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
int wait_next(Out& o, Jobs& jobs, const Args& ids) {
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
  return collect(jobs, first);
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
  if (next) return wait_next(o, jobs, ids);
  if (ids.empty()) {
    for (auto& j : jobs.list) j->thread->join();
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
    }
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
      std::string state = !j->done          ? "Running"
                          : j->status == 0 ? "Done"
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

bool is_job_builtin(std::string_view n) { return n == "wait" || n == "jobs"; }

int run_job_builtin(Ctx& ctx, State& st, const Vec<Str>& argv, const Io& io,
                    std::atomic<uint64_t>* out_b, std::atomic<uint64_t>* err_b) {
  Out o{ctx, io, out_b, err_b};
  Args a;
  for (size_t k = 1; k < argv.size(); ++k) a.push_back(view(argv[k]));
  std::string_view n = view(argv[0]);
  if (n == "wait") return b_wait(o, st, a);
  if (n == "jobs") return b_jobs(o, st, a);
  return 127;
}

}  // namespace wasmcap::shell

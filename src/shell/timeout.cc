// The timeout builtin (docs/shell.md "timeout"): GNU coreutils' timeout, in the shell because a
// WASI guest can neither start a process nor signal one. COMMAND runs as xargs runs one
// (run_words: a tool, a nested shell, a script by path or a builtin that is also a program;
// never a function), under a kill flag of its own: when DURATION passes, a watchdog raises it
// as `kill` raises a background job's (jobs.cc), so the running tool's engine stops at its next
// check and the shell code of a nested shell unwinds; jobs the command started are stopped with
// it. The script goes on, with GNU's status: 124, or 128+SIG with --preserve-status (137 for
// KILL, which GNU cannot survive either).
//
// There is no process that could catch the signal, so every signal ends the command at once;
// `-k DURATION` (GNU's second signal, KILL, for a command that ignored the first) is needed only
// after signal 0 (`-s 0`), which GNU sends without effect: the command runs on past DURATION
// (status 124 when it ends) until KILL ends it DURATION later (137). `--foreground` (a
// terminal's process group) changes nothing. The command's run stays inside the script's own
// limits (its deadline, output, commands).
#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdlib>
#include <mutex>

#include "common/escape.h"
#include "shell/state.h"

namespace wasmcap::shell {

namespace {

// Untrusted text in a message: printable ASCII as GNU prints it (C locale), other bytes \xNN.
std::string said(std::string_view s) {
  std::string out(1, '\'');
  out += text::escape_ascii(s, 256, "");
  out += '\'';
  return out;
}

constexpr int kTimedOut = 124;   // GNU: the command timed out (without --preserve-status)
constexpr int kFailed = 125;     // timeout itself failed (usage, a bad interval or signal)
constexpr int kNotFound = 127;   // GNU: the command was not found
constexpr int kSigKill = 9;
constexpr int kSigTerm = 15;

// GNU's parse_duration: a floating-point number (C locale) and at most one unit suffix, s (the
// default), m, h or d; negative or not a number is invalid. Seconds, or nullopt.
std::optional<double> parse_duration(std::string_view text) {
  std::string s(text);
  if (s.empty() || s.size() > 64) return std::nullopt;
  const char* begin = s.c_str();
  char* end = nullptr;
  errno = 0;
  double v = std::strtod(begin, &end);
  if (end == begin || std::isnan(v) || v < 0) return std::nullopt;
  if (*end != '\0') {
    double unit = 0;
    switch (*end) {
      case 's': unit = 1; break;
      case 'm': unit = 60; break;
      case 'h': unit = 3600; break;
      case 'd': unit = 86400; break;
      default: return std::nullopt;
    }
    if (end[1] != '\0') return std::nullopt;
    v *= unit;
  }
  return v;
}

constexpr std::string_view kTry = "Try 'timeout --help' for more information.\n";

constexpr std::string_view kUsage =
    "Usage: timeout [OPTION] DURATION COMMAND [ARG]...\n"
    "  or:  timeout [OPTION]\n"
    "Start COMMAND, and kill it if still running after DURATION.\n"
    "\n"
    "Mandatory arguments to long options are mandatory for short options too.\n"
    "      --preserve-status\n"
    "                 exit with the same status as COMMAND, even when the\n"
    "                   command times out\n"
    "      --foreground\n"
    "                 when not running timeout directly from a shell prompt,\n"
    "                   allow COMMAND to read from the TTY and get TTY signals;\n"
    "                   in this mode, children of COMMAND will not be timed out\n"
    "  -k, --kill-after=DURATION\n"
    "                 also send a KILL signal if COMMAND is still running\n"
    "                   this long after the initial signal was sent\n"
    "  -s, --signal=SIGNAL\n"
    "                 specify the signal to be sent on timeout;\n"
    "                   SIGNAL may be a name like 'HUP' or a number;\n"
    "                   see 'kill -l' for a list of signals\n"
    "  -v, --verbose  diagnose to stderr any signal sent upon timeout\n"
    "      --help        display this help and exit\n"
    "      --version     output version information and exit\n"
    "\n"
    "DURATION is a floating point number with an optional suffix:\n"
    "'s' for seconds (the default), 'm' for minutes, 'h' for hours or 'd' for days.\n"
    "A duration of 0 disables the associated timeout.\n"
    "\n"
    "Upon timeout, send the TERM signal to COMMAND, if no other SIGNAL specified.\n"
    "The TERM signal kills any process that does not block or catch that signal.\n"
    "It may be necessary to use the KILL signal, since this signal cannot be caught.\n"
    "\n"
    "Exit status:\n"
    "  124  if COMMAND times out, and --preserve-status is not specified\n"
    "  125  if the timeout command itself fails\n"
    "  126  if COMMAND is found but cannot be invoked\n"
    "  127  if COMMAND cannot be found\n"
    "  137  if COMMAND (or timeout itself) is sent the KILL (9) signal (128+9)\n"
    "  -    otherwise, the exit status of COMMAND\n"
    "\n"
    "In wasmcap sh the command runs in the sandbox; every signal ends it at once.\n";

}  // namespace

int run_timeout(Ctx& ctx, State& st, const Vec<Str>& argv, const Io& io,
                std::atomic<uint64_t>* out_b, std::atomic<uint64_t>* err_b) {
  auto fail = [&](const std::string& m, bool try_help) {
    emit(ctx, io.err(), "timeout: " + m + "\n" + (try_help ? std::string(kTry) : ""), err_b);
    return kFailed;
  };
  int sig = kSigTerm;
  std::optional<double> kill_after;  // -k: KILL this long after signal 0 (see above)
  bool preserve = false;
  bool verbose = false;
  size_t k = 1;
  // GNU's getopt_long with "+": options end at the first operand (DURATION).
  auto set_signal = [&](const std::string& spec) {
    int n = signal_number(spec);
    if (n < 0 && !spec.empty() && spec.find_first_not_of("0123456789") == std::string::npos &&
        spec.size() <= 3) {
      n = std::atoi(spec.c_str());  // a number beyond the names: GNU takes it up to 64
      if (n > 64) n = -1;
    }
    if (n < 0) return false;
    sig = n;
    return true;
  };
  for (; k < argv.size(); ++k) {
    std::string_view a = view(argv[k]);
    if (a == "--") {
      ++k;
      break;
    }
    if (a.size() < 2 || a[0] != '-') break;
    if (a[1] == '-') {
      std::string_view name = a.substr(2);
      std::string_view inline_v;
      bool has_eq = false;
      if (size_t eq = name.find('='); eq != std::string_view::npos) {
        inline_v = name.substr(eq + 1);
        name = name.substr(0, eq);
        has_eq = true;
      }
      // GNU accepts any unambiguous prefix of a long option.
      static constexpr std::string_view kLong[] = {"preserve-status", "foreground", "kill-after",
                                                   "signal", "verbose", "help", "version"};
      std::string_view match;
      int matches = 0;
      for (std::string_view l : kLong) {
        if (l == name) {
          match = l;
          matches = 1;
          break;
        }
        if (!name.empty() && l.substr(0, name.size()) == name) {
          match = l;
          ++matches;
        }
      }
      if (matches != 1) {
        return fail((matches == 0 ? "unrecognized option " : "option ") + said(a) +
                        (matches == 0 ? "" : " is ambiguous"),
                    true);
      }
      bool takes = match == "kill-after" || match == "signal";
      if (!takes && has_eq) {
        return fail("option '--" + std::string(match) + "' doesn't allow an argument", true);
      }
      std::string v(inline_v);
      if (takes && !has_eq) {
        if (k + 1 >= argv.size()) {
          return fail("option '--" + std::string(match) + "' requires an argument", true);
        }
        v = std::string(view(argv[++k]));
      }
      if (match == "preserve-status") {
        preserve = true;
      } else if (match == "foreground") {
      } else if (match == "verbose") {
        verbose = true;
      } else if (match == "help") {
        return emit(ctx, io.out(), kUsage, out_b) ? 0 : 1;
      } else if (match == "version") {
        return emit(ctx, io.out(), "timeout (wasmcap sh) 9.1\n", out_b) ? 0 : 1;
      } else if (match == "signal") {
        if (!set_signal(v)) return fail(said(v) + ": invalid signal", true);
      } else if (!(kill_after = parse_duration(v))) {  // kill-after
        return fail("invalid time interval " + said(v), true);
      }
      continue;
    }
    for (size_t c = 1; c < a.size(); ++c) {
      char o = a[c];
      if (o == 'v') {
        verbose = true;
        continue;
      }
      if (o == 's' || o == 'k') {
        std::string v;
        if (c + 1 < a.size()) {
          v = std::string(a.substr(c + 1));
        } else if (k + 1 < argv.size()) {
          v = std::string(view(argv[++k]));
        } else {
          return fail(std::string("option requires an argument -- '") + o + "'", true);
        }
        if (o == 's' && !set_signal(v)) return fail(said(v) + ": invalid signal", true);
        if (o == 'k' && !(kill_after = parse_duration(v))) {
          return fail("invalid time interval " + said(v), true);
        }
        break;
      }
      return fail(std::string("invalid option -- '") + text::escape_ascii(std::string_view(&a[c], 1), 8, "") + "'", true);
    }
  }
  if (k + 1 >= argv.size()) {  // GNU: usage (no DURATION or no COMMAND), only "Try ..."
    emit(ctx, io.err(), kTry, err_b);
    return kFailed;
  }
  std::optional<double> seconds = parse_duration(view(argv[k]));
  if (!seconds) return fail("invalid time interval " + said(view(argv[k])), true);
  ++k;
  std::string_view name = view(argv[k]);
  if (name.find('/') == std::string_view::npos && !is_program(ctx, name) &&
      !installed_command(ctx, st.cwd, name)) {
    emit(ctx, io.err(),
         "timeout: failed to run command " + said(name) + ": No such file or directory\n", err_b);
    return kNotFound;
  }

  State sub = st.subshell();
  auto kill = std::make_shared<JobKill>();
  kill->parent = st.job_kill;
  sub.job_kill = kill;
  {
    std::lock_guard<std::mutex> lock(ctx.mu);
    auto& ks = ctx.job_kills;
    ks.erase(std::remove_if(ks.begin(), ks.end(), [](const auto& w) { return w.expired(); }),
             ks.end());
    ks.push_back(kill);
    if (ctx.fatal) kill->interrupt = true;
    for (const JobKill* p = kill->parent.get(); p != nullptr; p = p->parent.get()) {
      if (int s = p->signal.load()) {  // killed before this line: killed with it (lists.cc)
        kill->signal = s;
        kill->interrupt = true;
        break;
      }
    }
  }
  // 0 disables the timeout; a duration beyond the script's deadline is that deadline's.
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;
  bool timed_out = false;
  bool killed = false;  // signal 0's KILL (-k) was sent
  std::optional<ExecThread> watchdog;
  if (*seconds > 0) {
    // (capped at ~31 years: the clock's range, not a limit)
    auto after = [](double secs) {
      return std::chrono::duration_cast<Clock::duration>(
          std::chrono::duration<double>(std::min(secs, 1e9)));
    };
    auto until = Clock::now() + after(*seconds);
    watchdog.emplace([&, until]() {
      std::unique_lock<std::mutex> lock(mu);
      if (cv.wait_until(lock, until, [&] { return done; })) return;
      timed_out = true;
      int send = sig;
      if (sig == 0) {  // nothing happens to the command; KILL after -k's duration, if given
        if (!kill_after || cv.wait_until(lock, until + after(*kill_after), [&] { return done; })) {
          return;
        }
        killed = true;
        send = kSigKill;
      }
      lock.unlock();
      std::lock_guard<std::mutex> g(ctx.mu);
      ctx.raise_jobs_locked(kill.get(), send);
    }, kHelperStackBytes);
    if (!watchdog->started()) {
      return fail(watchdog->failure("the command's timeout"), false);
    }
  }
  Vec<Str> words(argv.begin() + static_cast<long>(k), argv.end(), ctx.alloc());
  int code = run_words(ctx, sub, std::move(words), io).code;
  if (watchdog) {
    {
      std::lock_guard<std::mutex> lock(mu);
      done = true;
    }
    cv.notify_all();
    watchdog->join();
  }
  if (!timed_out || ctx.stopped()) return code;  // (the script's own end: its status stands)
  if (verbose) {
    for (int sent : {sig, killed ? kSigKill : -1}) {
      if (sent < 0) continue;
      emit(ctx, io.err(),
           "timeout: sending signal " + std::string(sent == 0 ? "EXIT" : signal_name(sent)) +
               " to command " + said(name) + "\n",
           err_b);
    }
  }
  if (killed || sig == kSigKill) return 128 + kSigKill;  // (GNU's own KILL ends it too)
  if (sig == 0) return preserve ? code : kTimedOut;     // the command ended on its own
  return preserve ? 128 + sig : kTimedOut;
}

}  // namespace wasmcap::shell

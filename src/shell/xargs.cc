// The xargs builtin (docs/shell.md "xargs"): GNU findutils' xargs, in the shell because a WASI
// guest cannot start a process. It reads the builtin's stdin as GNU's xargs does (blanks and
// newlines separate items, with its quote and backslash rules; or -0 / -d DELIM), builds command
// lines as GNU's buildcmd does (the 128 KiB command buffer, -s, -n, -L, -I), and runs each through
// run_words: the command table, counted and audited like a simple command, never a host
// program. -P N runs at most N at once, each a live command (--max-live-commands).
#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <condition_variable>
#include <cstring>
#include <list>

#include "common/escape.h"
#include "shell/commands.h"
#include "shell/state.h"

namespace wasmcap::shell {

namespace {

// Untrusted text in a message: printable ASCII as GNU prints it, every other byte as \xNN.
std::string said(std::string_view s) { return text::escape_ascii(s, 256, ""); }

constexpr size_t kDefaultArgMax = 131072;  // GNU's default command buffer (xargs --show-limits)
constexpr long kMaxArgMax = 2095104;       // GNU's ceiling for -s (with an empty environment)
constexpr long kMaxProcs = 2147483647;

// GNU's exit statuses.
constexpr int kChildNonzero = 123, kChild255 = 124, kCannotRun = 126, kNotFound = 127;

struct Opts {
  int delim = -1;  // -0 / -d: items end at this byte (no quotes); -1: blanks and newlines
  std::optional<std::string> eof_str;
  std::optional<std::string> replace;
  std::optional<std::string> arg_file;  // -a FILE: items from FILE; commands keep the stdin
  long lines = 0, args = 0, procs = 1;
  size_t arg_max = kDefaultArgMax;
  bool no_run_empty = false, trace = false;
};

struct Usage {  // a bad option: the message, then GNU's "Try" line (status 1)
  std::string message;
  bool try_help = true;
};

std::string dash(char c) {
  std::string s;
  s.reserve(2);
  s.push_back('-');
  s.push_back(c);
  return s;
}

// GNU's parse_num: strtol, then the bounds (`fatal`: a usage error, else clamped with a warning).
long parse_num(std::string_view s, char opt, long min, long max, bool fatal, std::string* warn) {
  std::string str(s);
  char* end = nullptr;
  errno = 0;
  long v = std::strtol(str.c_str(), &end, 10);
  if (str.empty() || *end != '\0' || errno == ERANGE) {
    throw Usage{"invalid number \"" + said(s) + "\" for " + dash(opt) + " option"};
  }
  if (v < min || (max >= 0 && v > max)) {
    std::string m = "value " + said(s) + " for " + dash(opt) + " option should be " +
                    (v < min ? ">= " + std::to_string(min) : "<= " + std::to_string(max));
    if (fatal) throw Usage{m};
    *warn += "xargs: " + m + "\n";
    v = v < min ? min : max;
  }
  return v;
}

// GNU's get_input_delimiter: one character, a letter escape, \NNN (octal) or \xHH.
int parse_delim(std::string_view s) {
  if (s.size() == 1) return static_cast<unsigned char>(s[0]);
  if (s.size() < 2 || s[0] != '\\') {
    throw Usage{"Invalid input delimiter specification " + said(s) +
                    ": the delimiter must be either a single character or an escape sequence "
                    "starting with \\.",
                false};
  }
  switch (s[1]) {
    case 'a': return '\a';
    case 'b': return '\b';
    case 'f': return '\f';
    case 'n': return '\n';
    case 'r': return '\r';
    case 't': return '\t';
    case 'v': return '\v';
    case '\\': return '\\';
    default: break;
  }
  int base = s[1] == 'x' ? 16 : 8;
  if (base == 8 && (s[1] < '0' || s[1] > '9')) {
    throw Usage{"Invalid escape sequence " + said(s) + " in input delimiter specification.",
                false};
  }
  std::string digits(s.substr(base == 16 ? 2 : 1));
  char* end = nullptr;
  errno = 0;
  unsigned long v = std::strtoul(digits.c_str(), &end, base);
  if (errno == ERANGE || v > 255) {
    throw Usage{"Invalid escape sequence " + said(s) +
                    " in input delimiter specification; character values must not exceed " +
                    (base == 16 ? "ff." : "377."),
                false};
  }
  if (*end != '\0') {
    throw Usage{"Invalid escape sequence " + said(s) +
                    " in input delimiter specification; trailing characters " + said(end) +
                    " not recognised.",
                false};
  }
  return static_cast<unsigned char>(v);
}

void exclusive(std::string* warn, const char* previous, const char* option) {
  *warn += std::string("xargs: warning: options ") + previous + " and " + option +
           " are mutually exclusive, ignoring previous " + previous + " value\n";
}

// GNU's options (getopt_long with "+0a:E:e::i::I:l::L:n:prs:txP:d:": no permutation). Returns
// the index of the command's first word.
size_t parse_options(const Vec<Str>& argv, Opts& o, std::string* warn) {
  struct Long {
    const char* name;
    char opt;
    int arg;  // 0 none, 1 required, 2 optional
  };
  static const Long kLong[] = {
      {"null", '0', 0},          {"delimiter", 'd', 1}, {"eof", 'e', 2},
      {"replace", 'i', 2},       {"max-lines", 'l', 2}, {"max-args", 'n', 1},
      {"max-procs", 'P', 1},     {"no-run-if-empty", 'r', 0}, {"max-chars", 's', 1},
      {"verbose", 't', 0},       {"interactive", 'p', 0}, {"arg-file", 'a', 1},
      {"exit", 'x', 0},          {"open-tty", 'o', 0}, {"show-limits", 'S', 0},
      {"process-slot-var", 'V', 1}, {"help", 'H', 0}, {"version", 'Z', 0}};
  auto apply = [&](char c, std::optional<std::string_view> arg) {
    switch (c) {
      case '0': o.delim = 0; break;
      case 'd': o.delim = parse_delim(*arg); break;
      case 'E': o.eof_str = std::string(*arg); break;
      case 'e':
        if (arg) o.eof_str = std::string(*arg);
        else o.eof_str.reset();
        break;
      case 'I':
      case 'i':
        if (o.args != 0) exclusive(warn, "--max-args", "--replace/-I/-i");
        o.args = 0;
        o.lines = 1;
        o.replace = std::string(arg ? *arg : std::string_view("{}"));
        break;
      case 'L':
      case 'l':
        if (o.args != 0) exclusive(warn, "--max-args", "-L");
        o.args = 0;
        o.lines = arg ? parse_num(*arg, c, 1, -1, true, warn) : 1;
        break;
      case 'n':
        if (o.lines != 0) exclusive(warn, "--max-lines", "--max-args/-n");
        o.lines = 0;
        o.args = parse_num(*arg, 'n', 1, -1, true, warn);
        break;
      case 's':
        o.arg_max = static_cast<size_t>(parse_num(*arg, 's', 1, kMaxArgMax, false, warn));
        break;
      case 'P': o.procs = parse_num(*arg, 'P', 0, kMaxProcs, true, warn); break;
      case 'r': o.no_run_empty = true; break;
      case 'a': o.arg_file = std::string(*arg); break;
      case 't': o.trace = true; break;
      case 'p':
      case 'o':
        throw Usage{dash(c) +
                        ": refused: commands run without a terminal in the shell (docs/shell.md "
                        "\"xargs\")",
                    false};
      default:
        throw Usage{std::string(c == 'x' || c == 'S' || c == 'V' || c == 'H' ||
                                        c == 'Z'
                                    ? "option not offered by the shell's xargs (docs/shell.md "
                                      "\"xargs\")"
                                    : "invalid option"),
                    true};
    }
  };
  static const std::string_view kReq = "adELnsPI", kOpt = "eil", kNone = "0rtpxo";
  size_t i = 1;
  for (; i < argv.size(); ++i) {
    std::string_view w = view(argv[i]);
    if (w == "--") return i + 1;
    if (w.size() < 2 || w[0] != '-') break;
    if (w[1] == '-') {
      std::string_view body = w.substr(2), val;
      bool has_val = false;
      if (auto eq = body.find('='); eq != std::string_view::npos) {
        val = body.substr(eq + 1);
        body = body.substr(0, eq);
        has_val = true;
      }
      const Long* hit = nullptr;
      for (const Long& l : kLong) {
        if (std::string_view(l.name).substr(0, body.size()) == body) {
          if (std::string_view(l.name) == body || hit == nullptr) hit = &l;
        }
      }
      if (hit == nullptr) throw Usage{"unrecognized option '" + said(w) + "'"};
      std::optional<std::string_view> arg;
      if (hit->arg == 1) {
        if (has_val) arg = val;
        else if (i + 1 < argv.size()) arg = view(argv[++i]);
        else throw Usage{"option '--" + std::string(hit->name) + "' requires an argument"};
      } else if (hit->arg == 2 && has_val) {
        arg = val;
      } else if (hit->arg == 0 && has_val) {
        throw Usage{"option '--" + std::string(hit->name) + "' doesn't allow an argument"};
      }
      apply(hit->opt, arg);
      continue;
    }
    for (size_t k = 1; k < w.size(); ++k) {
      char c = w[k];
      if (kReq.find(c) != std::string_view::npos) {
        std::optional<std::string_view> arg;
        if (k + 1 < w.size()) arg = w.substr(k + 1);
        else if (i + 1 < argv.size()) arg = view(argv[++i]);
        else throw Usage{"option requires an argument -- '" + said(std::string_view(&w[k], 1)) + "'"};
        apply(c, arg);
        break;
      }
      if (kOpt.find(c) != std::string_view::npos) {
        std::optional<std::string_view> arg;
        if (k + 1 < w.size()) arg = w.substr(k + 1);
        apply(c, arg);
        break;
      }
      if (kNone.find(c) == std::string_view::npos) {
        throw Usage{"invalid option -- '" + said(std::string_view(&w[k], 1)) + "'"};
      }
      apply(c, std::nullopt);
    }
  }
  return i;
}

// An error that ends xargs with `status` after the message (GNU's error(STATUS, ...)).
struct Fatal {
  int status;
  std::string message;
};

class Xargs {
 public:
  Xargs(Ctx& ctx, State& st, const Io& io, int in_fd, std::atomic<uint64_t>* err_b,
        const Opts& o)
      : ctx_(ctx), st_(st), io_(io), in_fd_(in_fd), err_b_(err_b), o_(o), args_(ctx.alloc()),
        item_(ctx.str()) {
    cio_ = io;
    // GNU: the commands' stdin is /dev/null, or xargs' own when the items come from -a FILE
    if (!o.arg_file) cio_.fd[0] = kNull;
  }
  ~Xargs() { wait_all(); }

  int run(const Vec<Str>& argv, size_t first);

 private:
  // --- input: the builtin's stdin, read in slices that see the deadline ---
  int getc() {
    if (pos_ == len_) {
      if (in_eof_) return -1;
      fill();
      if (pos_ == len_) return -1;
    }
    return static_cast<unsigned char>(buf_[pos_++]);
  }
  void fill() {
    int fd = in_fd_;
    pos_ = len_ = 0;
    if (fd < 0) {
      in_eof_ = true;
      return;
    }
    for (;;) {
      ctx_.budget->check();
      struct pollfd p = {fd, POLLIN, 0};
      int ready = ::poll(&p, 1, 50);
      if (ready < 0 && errno == EINTR) continue;
      if (ready == 0) continue;
      ssize_t n = ready < 0 ? -1 : ::read(fd, buf_, sizeof buf_);
      if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
      if (n <= 0) {
        in_eof_ = true;
        return;
      }
      len_ = static_cast<size_t>(n);
      return;
    }
  }
  void put(int c) {
    // GNU: "the args must not grow past" the buffer, less the initial arguments and the NUL.
    // (When the initial arguments alone do not fit, GNU's limit wraps around and the item is
    // refused whole by push_arg; it is still bounded by the shell's memory budget.)
    if (o_.arg_max > initial_chars_ && item_.size() >= o_.arg_max - initial_chars_ - 1) {
      exec_if_possible();
      throw Fatal{1, "argument line too long"};
    }
    item_.push_back(static_cast<char>(c));
  }
  bool is_eof_str() const {
    if (!o_.eof_str) return false;
    std::string_view v = view(item_);
    return v.substr(0, v.find('\0')) == *o_.eof_str;
  }
  bool read_line();    // GNU's read_line: blanks, newlines, quotes, backslashes
  bool read_string();  // GNU's read_string: -0 / -d
  bool read_item() { return o_.delim >= 0 ? read_string() : read_line(); }

  // --- command lines (GNU's buildcmd) ---
  void push_arg(std::string_view a) {
    size_t len = a.size() + 1;
    if (chars_ + len > o_.arg_max) {
      if (args_.size() == initial_argc_) {
        throw Fatal{1, "cannot fit single argument within argument list size limit"};
      }
      exec();
    }
    if (o_.args != 0 && args_.size() - initial_argc_ == static_cast<size_t>(o_.args)) exec();
    ctx_.budget->check_words(args_.size() + 1);
    args_.push_back(ctx_.str(a));
    chars_ += len;
  }
  void exec_if_possible() {
    if (args_.size() != initial_argc_) exec();
  }
  void exec();
  void launch(Vec<Str> argv);
  void reap(bool all);
  void wait_all();
  void settle(const WordsRun& r, const std::string& name);

  Ctx& ctx_;
  State& st_;
  const Io& io_;
  int in_fd_;  // where the items come from
  Io cio_;
  std::atomic<uint64_t>* err_b_;
  const Opts& o_;
  Vec<Str> args_;
  Str item_;
  std::vector<std::string> initial_;
  size_t initial_argc_ = 0, initial_chars_ = 0, chars_ = 0;
  size_t lineno_ = 0;
  uint64_t executed_ = 0;
  int child_error_ = 0;
  std::optional<Fatal> abort_;  // a command's status stops xargs (255, not found)
  char buf_[16384];
  size_t pos_ = 0, len_ = 0;
  bool in_eof_ = false, eof_ = false, nul_warned_ = false;

  struct Child {
    std::unique_ptr<ExecThread> thread;
    std::optional<State> state;
    std::optional<Budget::Commands> slot;
    Vec<Str> argv;
    WordsRun result;
    bool done = false;
    explicit Child(Vec<Str> a) : argv(std::move(a)) {}
  };
  std::list<Child> running_;
  std::mutex mu_;
  std::condition_variable cv_;
};

bool Xargs::read_line() {
  enum { kNorm, kSpace, kQuote, kBackslash } state = kSpace;
  int c = -1, prevc, quotc = 0;
  bool first = true, seen_arg = false;
  if (eof_) return false;
  item_.clear();
  auto unmatched = [&]() {
    exec_if_possible();
    throw Fatal{1, std::string("unmatched ") + (quotc == '"' ? "double" : "single") +
                       " quote; by default quotes are special to xargs unless you use the -0 "
                       "option"};
  };
  for (;;) {
    prevc = c;
    c = getc();
    if (c < 0) {
      eof_ = true;
      if (item_.empty()) return false;
      if (state == kQuote) unmatched();
      if (first && is_eof_str()) return false;
      if (!o_.replace) push_arg(view(item_));
      return true;
    }
    bool append = true;
    switch (state) {
      case kSpace:
        if (c == ' ' || (c >= '\t' && c <= '\r')) continue;
        state = kNorm;
        [[fallthrough]];
      case kNorm:
        if (c == '\n') {
          if (prevc != ' ' && prevc != '\t') ++lineno_;
          if (item_.empty() && !seen_arg) {
            state = kSpace;
            continue;
          }
          if (is_eof_str()) {
            eof_ = true;
            return !first;
          }
          if (!o_.replace) push_arg(view(item_));
          return true;
        }
        seen_arg = true;
        if (!o_.replace && (c == ' ' || c == '\t')) {
          if (is_eof_str()) {
            eof_ = true;
            return !first;
          }
          push_arg(view(item_));
          item_.clear();
          state = kSpace;
          first = false;
          continue;
        }
        if (c == '\\') {
          state = kBackslash;
          append = false;
        } else if (c == '\'' || c == '"') {
          state = kQuote;
          quotc = c;
          append = false;
        }
        break;
      case kQuote:
        if (c == '\n') unmatched();
        if (c == quotc) {
          state = kNorm;
          seen_arg = true;
          append = false;
        }
        break;
      case kBackslash:
        state = kNorm;
        break;
    }
    if (!append) continue;
    if (c == 0 && !nul_warned_) {
      emit(ctx_, io_.err(),
           "xargs: WARNING: a NUL character occurred in the input.  It cannot be passed through "
           "in the argument list.  Did you mean to use the --null option?\n",
           err_b_);
      nul_warned_ = true;
    }
    put(c);
  }
}

bool Xargs::read_string() {
  if (eof_) return false;
  item_.clear();
  for (;;) {
    int c = getc();
    if (c < 0) {
      eof_ = true;
      if (item_.empty()) return false;
      if (!o_.replace) push_arg(view(item_));
      return true;
    }
    if (c == o_.delim) {
      ++lineno_;
      if (!o_.replace) push_arg(view(item_));
      return true;
    }
    put(c);
  }
}

// GNU's -t: each word as a shell would read it back (quoted only when it must be; bytes that
// are not printable ASCII as $'\t' or $'\NNN'), so the line is also safe for a terminal.
std::string traced(std::string_view w) {
  auto printable = [](char c) { return c >= 0x20 && c < 0x7f; };
  bool plain = !w.empty(), all_printable = true, squote = false;
  for (char c : w) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) ||
          std::strchr("%+,-./:=@_^", c) != nullptr) || c == 0) {
      plain = false;
    }
    if (!printable(c)) all_printable = false;
    if (c == '\'') squote = true;
  }
  if (plain) return std::string(w);
  if (all_printable && squote && w.find_first_of("$`\\\"!") == std::string_view::npos) {
    return "\"" + std::string(w) + "\"";
  }
  if (all_printable) return quote_single(w);
  std::string out;
  for (size_t i = 0; i < w.size();) {
    size_t j = i;
    if (printable(w[i])) {
      while (j < w.size() && printable(w[j])) ++j;
      out += quote_single(w.substr(i, j - i));
    } else {
      out += "$'";
      for (; j < w.size() && !printable(w[j]); ++j) {
        static const char kEsc[] = "\a\b\t\n\v\f\r";
        unsigned char u = static_cast<unsigned char>(w[j]);
        const char* e = u != 0 ? std::strchr(kEsc, static_cast<char>(u)) : nullptr;
        if (e != nullptr) {
          out.push_back('\\');
          out.push_back("abtnvfr"[e - kEsc]);
        } else {
          char oct[8];
          std::snprintf(oct, sizeof oct, "\\%03o", u);
          out += oct;
        }
      }
      out += "'";
    }
    i = j;
  }
  return out;
}

void Xargs::exec() {
  Vec<Str> argv(ctx_.alloc());
  for (const auto& a : args_) {
    std::string_view v = view(a);
    argv.push_back(ctx_.str(v.substr(0, v.find('\0'))));  // a C string ends at its NUL
  }
  args_.erase(args_.begin() + static_cast<long>(initial_argc_), args_.end());
  chars_ = initial_chars_;
  lineno_ = 0;
  ++executed_;
  if (abort_) return;
  if (o_.trace) {
    std::string line;
    for (size_t k = 0; k < argv.size(); ++k) {
      if (k > 0) line.push_back(' ');
      line.append(traced(view(argv[k])));
    }
    line.push_back('\n');
    emit(ctx_, io_.err(), line, err_b_);
  }
  std::string_view name = view(argv[0]);
  if (!is_program(ctx_, name)) {
    abort_ = Fatal{kNotFound, said(name) + ": No such file or directory"};
    return;
  }
  if (o_.procs == 1) {
    State sub = st_.subshell();  // a program cannot change the shell (cd, printf -v)
    settle(run_words(ctx_, sub, std::move(argv), cio_), std::string(name));
    return;
  }
  launch(std::move(argv));
}

// What a finished command means for xargs (GNU's wait_for_proc).
void Xargs::settle(const WordsRun& r, const std::string& name) {
  if (abort_) return;
  if (!r.ran) {
    abort_ = Fatal{r.code == 127 ? kNotFound : kCannotRun, ""};
  } else if (r.code == 255) {
    abort_ = Fatal{kChild255, said(name) + ": exited with status 255; aborting"};
  } else if (r.code != 0) {
    child_error_ = kChildNonzero;
  }
}

// -P: at most o_.procs at once (0: as many as --max-live-commands allows), each on its own
// thread and counted as a live command; when the session's bound is reached, the next waits
// for one of ours to end (none of ours running: the bound's message, and xargs stops).
void Xargs::launch(Vec<Str> argv) {
  for (;;) {
    reap(false);
    if (abort_) return;
    uint64_t cap = ctx_.budget->limits().live_commands;
    size_t most = o_.procs != 0 ? static_cast<size_t>(o_.procs)
                                : static_cast<size_t>(cap != 0 ? cap : 128);
    if (running_.size() >= most) {
      reap(true);
      continue;
    }
    std::optional<Budget::Commands> slot;
    try {
      slot.emplace(ctx_.budget->start_commands(1));
    } catch (const LimitHit&) {
      if (running_.empty()) throw;
      reap(true);
      continue;
    }
    State copy = st_.on_new_thread();  // (may throw LimitHit: before the child exists)
    running_.emplace_back(std::move(argv));
    Child& c = running_.back();
    c.slot.emplace(std::move(*slot));
    c.state.emplace(std::move(copy));
    Child* cp = &c;
    c.thread = std::make_unique<ExecThread>(
        [this, cp]() {
          WordsRun r{1, true};
          try {
            r = run_words(ctx_, *cp->state, cp->argv, cio_);
          } catch (const LimitHit& h) {
            r.code = limit_status(ctx_, h, cio_.err());
          }
          std::lock_guard<std::mutex> lock(mu_);
          cp->result = r;
          cp->done = true;
          cv_.notify_all();
        },
        kStageStackBytes);
    if (!c.thread->started()) {
      std::string m = c.thread->failure("an xargs command");
      running_.pop_back();
      throw Fatal{1, m};
    }
    return;
  }
}

// Joins the commands that ended (`block`: waits for at least one).
void Xargs::reap(bool block) {
  std::vector<std::list<Child>::iterator> done;
  {
    std::unique_lock<std::mutex> lock(mu_);
    auto any = [&]() {
      for (auto& c : running_) {
        if (c.done) return true;
      }
      return false;
    };
    if (block && !running_.empty()) cv_.wait(lock, any);
    for (auto it = running_.begin(); it != running_.end(); ++it) {
      if (it->done) done.push_back(it);
    }
  }
  for (auto it : done) {
    it->thread->join();
    settle(it->result, std::string(view(it->argv[0])));
    running_.erase(it);
  }
}

void Xargs::wait_all() {
  while (!running_.empty()) reap(true);
}

int Xargs::run(const Vec<Str>& argv, size_t first) {
  if (first == argv.size()) {
    args_.push_back(ctx_.str("echo"));  // GNU's default command
  } else {
    for (size_t k = first; k < argv.size(); ++k) args_.push_back(argv[k]);
  }
  initial_argc_ = args_.size();
  for (const auto& a : args_) initial_chars_ += view(a).size() + 1;
  chars_ = initial_chars_;
  int status = 0;
  try {
    if (!o_.replace) {
      while (!abort_ && read_item()) {
        if (o_.lines != 0 && lineno_ >= static_cast<size_t>(o_.lines)) exec();
      }
      if (!abort_ && (args_.size() != initial_argc_ || (!o_.no_run_empty && executed_ == 0))) {
        exec();
      }
    } else {
      // -I: each item (a line, leading blanks dropped) replaces every R in every initial word.
      Vec<Str> initial(args_);
      while (!abort_ && read_item()) {
        std::string_view item = view(item_);
        item = item.substr(0, item.find('\0'));
        args_.clear();
        size_t total = 0;
        for (const auto& w : initial) {
          std::string_view v = view(w);
          Str out = ctx_.str();
          for (size_t p = 0;;) {
            size_t hit = o_.replace->empty() ? std::string_view::npos : v.find(*o_.replace, p);
            out.append(v.substr(p, hit == std::string_view::npos ? v.npos : hit - p));
            if (hit == std::string_view::npos) break;
            out.append(item);
            p = hit + o_.replace->size();
          }
          total += out.size() + 1;
          if (total > o_.arg_max) throw Fatal{1, "command too long"};
          args_.push_back(std::move(out));
        }
        exec();
      }
    }
  } catch (const Fatal& f) {
    wait_all();
    emit(ctx_, io_.err(), "xargs: " + f.message + "\n", err_b_);
    return f.status;
  } catch (...) {
    wait_all();
    throw;
  }
  wait_all();
  if (abort_) {
    if (!abort_->message.empty()) {
      emit(ctx_, io_.err(), "xargs: " + abort_->message + "\n", err_b_);
    }
    return abort_->status;
  }
  status = child_error_;
  return status;
}

}  // namespace

int run_xargs(Ctx& ctx, State& st, const Vec<Str>& argv, const Io& io,
              std::atomic<uint64_t>* /*out_b*/, std::atomic<uint64_t>* err_b) {
  Opts o;
  std::string warn;
  size_t first = 0;
  try {
    first = parse_options(argv, o, &warn);
  } catch (const Usage& u) {
    emit(ctx, io.err(),
         warn + "xargs: " + u.message + "\n" +
             (u.try_help ? "Try 'xargs --help' for more information.\n" : ""),
         err_b);
    return 1;
  }
  if (!warn.empty()) emit(ctx, io.err(), warn, err_b);
  Fd file;
  if (o.arg_file) {
    auto f = open_redirect(ctx, st.cwd, *o.arg_file, O_RDONLY);
    if (!f) {
      // GNU's words: "Cannot open input file 'PATH': REASON" (the resolver's message is
      // "PATH: REASON", with PATH escaped).
      std::string m = f.error().message, prefix = shown(*o.arg_file) + ": ";
      std::string reason = m.rfind(prefix, 0) == 0 ? m.substr(prefix.size()) : m;
      emit(ctx, io.err(),
           "xargs: Cannot open input file '" + said(*o.arg_file) + "': " + reason + "\n", err_b);
      return 1;
    }
    file = std::move(*f);
  }
  Xargs x(ctx, st, io, o.arg_file ? file.get() : io.in(), err_b, o);
  return x.run(argv, first);
}

}  // namespace wasmcap::shell

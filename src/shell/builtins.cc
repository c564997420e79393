// The shell's builtins (docs/shell.md "Commands"): host code that runs in the shell's own state.
// Their output goes through emit() like a tool's, so it counts toward --max-output-bytes.
#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cerrno>
#include <cstring>
#include <ctime>

#include "shell/commands.h"
#include "shell/expr.h"
#include "shell/lex.h"
#include "shell/printf.h"
#include "shell/read_split.h"
#include "shell/state.h"
#include "shell/test_expr.h"

namespace wasmcap::shell {

namespace {

using Args = std::vector<std::string_view>;

struct B {  // what every builtin gets
  Ctx& ctx;
  State& st;
  const Io& io;
  std::atomic<uint64_t>* out_b;
  std::atomic<uint64_t>* err_b;
  std::string_view name;  // the builtin's
  // A write that fails on a full disk (or the session's write budget) says so as bash's does
  // ("echo: write error: No space left on device"); the status is the builtin's to give.
  bool out(std::string_view s) {
    if (emit(ctx, io.out(), s, out_b)) return true;
    if (errno == ENOSPC) {
      emit(ctx, io.err(), "wasmcap sh: " + std::string(name) + ": write error: " +
                              std::strerror(ENOSPC) + "\n", err_b);
    }
    return false;
  }
  int say(const std::string& m, int status = 1) {
    emit(ctx, io.err(), m, err_b);
    return status;
  }
};

bool parse_int(std::string_view sv, long long* v) {
  if (sv.empty() || sv.size() > 64) return false;
  std::string s(sv);
  char* end = nullptr;
  errno = 0;
  *v = std::strtoll(s.c_str(), &end, 10);
  return errno == 0 && end != nullptr && *end == '\0';
}

bool valid_name(std::string_view s) {
  if (s.empty() || !detail::is_name_start(s[0])) return false;
  for (char c : s) {
    if (!detail::is_name_char(c)) return false;
  }
  return true;
}

// echo [-neE]... ARG...: options only while every character is n, e or E (bash); -e expands
// backslash escapes (printf.h), where \c ends all output.
int b_echo(B& b, const Args& a) {
  bool newline = true, escapes = false;
  size_t i = 0;
  for (; i < a.size(); ++i) {
    std::string_view o = a[i];
    if (o.size() < 2 || o[0] != '-' || o.find_first_not_of("neE", 1) != std::string_view::npos) {
      break;
    }
    for (char c : o.substr(1)) {
      if (c == 'n') newline = false;
      else escapes = c == 'e';
    }
  }
  Str s = b.ctx.str();  // charged: one more copy of the words
  bool stop = false;
  for (size_t k = i; k < a.size() && !stop; ++k) {
    if (k > i) s.push_back(' ');
    if (escapes) {
      std::string e = echo_escapes(a[k], true, &stop);
      s.append(e.data(), e.size());
    } else {
      s.append(a[k].data(), a[k].size());
    }
  }
  if (newline && !stop) s.push_back('\n');
  return b.out(view(s)) ? 0 : 1;
}

// printf [-v NAME] FORMAT [ARG...] (printf.h): bounded by the shell's memory budget.
int b_printf(B& b, const Args& a) {
  size_t i = 0;
  std::optional<std::string_view> var;
  if (i + 1 < a.size() && a[i] == "-v") {
    var = a[i + 1];
    i += 2;
  }
  if (i < a.size() && a[i] == "--") ++i;
  if (i >= a.size()) return b.say("printf: usage: printf [-v var] format [arguments]\n", 2);
  // -v NAME or NAME[SUBSCRIPT] (an array element, the subscript an arithmetic expression).
  std::string_view var_name = var ? *var : std::string_view();
  std::optional<std::string_view> subscript;
  if (size_t br = var_name.find('['); var && br != std::string_view::npos && var_name.back() == ']') {
    subscript = var_name.substr(br + 1, var_name.size() - br - 2);
    var_name = var_name.substr(0, br);
  }
  if (var && !valid_name(var_name)) {
    return b.say("printf: '" + shown(*var) + "': not a valid identifier\n", 2);
  }
  std::vector<std::string> args;
  for (size_t k = i + 1; k < a.size(); ++k) args.emplace_back(a[k]);
  PrintfOptions po;
  po.utf8 = true;
  uint64_t cap = b.ctx.budget->limits().memory_bytes;
  po.max_output = cap == 0 ? (size_t{64} << 20) : static_cast<size_t>(cap);
  po.now = static_cast<int64_t>(std::time(nullptr));
  po.shell_start = po.now;
  auto r = format_printf(a[i], args, po);
  if (!r) return b.say("printf: " + shown(r.error().message) + "\n");
  Budget::Lease held(b.ctx.budget, r->out.size());
  for (const auto& m : r->messages) b.say("printf: " + m + "\n");
  if (var && subscript && find_assoc(b.st, var_name) != nullptr) {
    set_assoc_element(b.ctx, b.st, var_name, b.ctx.str(*subscript), b.ctx.str(r->out));
    return r->status;
  }
  if (var && subscript) {
    auto index = arith_eval(b.ctx, b.st, *subscript);
    if (!index) return b.say("printf: " + shown(index.error().message) + "\n");
    int64_t i = *index;
    const ArrayElems* arr = find_array(b.st, var_name);
    if (i < 0 && arr != nullptr && !arr->empty()) i += arr->rbegin()->first + 1;
    if (i < 0) return b.say("printf: " + shown(*var) + ": bad array subscript\n");
    set_element(b.ctx, b.st, var_name, i, b.ctx.str(r->out));
    return r->status;
  }
  if (var) {
    set_var(b.ctx, b.st, var_name, b.ctx.str(r->out));
    return r->status;
  }
  if (!b.out(r->out)) return 1;
  return r->status;
}

int b_exit(B& b, const Args& a) {
  long long v = b.st.last;
  if (!a.empty() && !parse_int(a[0], &v)) {
    b.say("exit: " + shown(a[0]) + ": numeric argument required\n");
    v = 2;
  }
  b.st.exit_requested = true;
  return static_cast<int>(v & 0xff);
}

// test / [ (test_expr.h): files resolve beneath the preopens; usage errors are status 2.
int b_test(B& b, const Args& a, bool bracket) {
  std::vector<std::string> args(a.begin(), a.end());
  // `test -t FD` with FD not a descriptor number is a usage error (status 2, the Oils spec's
  // expectation; bash answers 1), not "not a terminal".
  size_t n = args.size() - (bracket && !args.empty() && args.back() == "]" ? 1 : 0);
  long long fd = 0;
  if (n == 2 && args[0] == "-t" && (!parse_int(args[1], &fd) || fd < 0 || fd > INT32_MAX)) {
    return b.say(std::string(bracket ? "[: " : "test: ") + shown(args[1]) +
                     ": integer expression expected\n",
                 2);
  }
  auto r = test_eval(b.ctx, b.st, b.io, args, bracket);
  if (!r) return b.say(std::string(bracket ? "[: " : "test: ") + r.error().message + "\n", 2);
  return *r ? 0 : 1;
}

// let EXPR...: the status is the last expression's (0 when it is non-zero).
int b_let(B& b, const Args& a) {
  if (a.empty()) return b.say("let: expression expected\n");
  int64_t v = 0;
  for (auto e : a) {
    auto r = arith_eval(b.ctx, b.st, e);
    if (!r) return b.say("let: " + r.error().message + "\n");
    v = *r;
  }
  return v != 0 ? 0 : 1;
}

// cd [-L | -P] [--] [DIR | -] [IGNORED...]: DIR as a logical path by default (`..` removes the
// last component of $PWD, as bash's -L, after checking the directory before it exists) or, with
// -P, the physical one (symlinks resolved and `..` taken after them, by the resolver); no DIR:
// $HOME; `-`: $OLDPWD, printed. Sets OLDPWD and PWD (both exported, as bash). "/" and the other
// directories above the preopens are directories (guest_directory).
int b_cd(B& b, const Args& a) {
  size_t i = 0;
  bool physical = false;
  for (; i < a.size() && a[i].size() > 1 && a[i][0] == '-'; ++i) {
    if (a[i] == "--") {
      ++i;
      break;
    }
    if (a[i].find_first_not_of("LPe@", 1) != std::string_view::npos) {
      return b.say("cd: " + shown(a[i]) + ": invalid option\ncd: usage: cd [-L|-P] [dir]\n", 2);
    }
    for (char c : a[i]) {  // the last of -L and -P wins, as in bash
      if (c == 'L' || c == 'P') physical = c == 'P';
    }
  }
  // Words after DIR are ignored (dash, mksh, bash 4; bash 5 refuses them: the Oils cases take
  // the first behaviour).
  std::string tmp;
  std::string target;
  bool print = false;
  if (i == a.size()) {
    auto home = param_value(b.st, "HOME", &tmp);
    if (!home) return b.say(std::string(b.name) + ": HOME not set\n");
    target = std::string(*home);
  } else if (a[i] == "-") {
    auto old = param_value(b.st, "OLDPWD", &tmp);
    if (!old) return b.say(std::string(b.name) + ": OLDPWD not set\n");
    target = std::string(*old);
    print = true;
  } else {
    target = std::string(a[i].substr(0, kMaxPathBytes + 1));
  }
  if (target.empty()) target = ".";  // bash: `cd ''` stays
  auto is_dir = [&](const std::string& path) {
    return guest_directory(b.ctx, b.st.cwd, path, physical);
  };
  // Every directory a `..` leaves must exist (bash: `cd missing/..` fails). At most
  // kMaxPathBytes / 3 checks, each of a path of at most kMaxPathBytes. (-P: the resolver
  // walks through each of them.)
  for (size_t p = target.find(".."); !physical && p != std::string::npos;
       p = target.find("..", p + 2)) {
    bool component = (p == 0 || target[p - 1] == '/') &&
                     (p + 2 == target.size() || target[p + 2] == '/');
    if (!component || p == 0) continue;
    if (!is_dir(target.substr(0, p))) {
      return b.say(std::string(b.name) + ": " + shown(target) + ": No such file or directory\n");
    }
  }
  auto dir = is_dir(target);
  // CDPATH: a relative DIR not starting with . or .. is looked for in each of its entries
  // first (an empty entry: the current directory); found there, the new directory is printed.
  std::string tmp2;
  auto cdpath = param_value(b.st, "CDPATH", &tmp2);
  if (cdpath && !cdpath->empty() && target[0] != '/' && target.rfind("./", 0) != 0 &&
      target.rfind("../", 0) != 0 && target != "." && target != "..") {
    std::string_view cp = *cdpath;
    for (size_t k = 0; k <= cp.size();) {
      size_t e = std::min(cp.find(':', k), cp.size());
      std::string_view entry = cp.substr(k, e - k);
      k = e + 1;
      b.ctx.budget->check();  // a CDPATH of a million entries ends at the deadline
      if (entry.empty() || entry.size() + target.size() > kMaxPathBytes) continue;
      auto d = is_dir(std::string(entry) + "/" + target);
      if (d) {
        dir = std::move(d);
        print = true;
        break;
      }
    }
  }
  if (!dir) return b.say(std::string(b.name) + ": " + dir.error().message + "\n");
  std::string old = b.st.cwd;
  b.st.cwd = *dir;
  for (const char* name : {"OLDPWD", "PWD"}) {
    set_var(b.ctx, b.st, name, b.ctx.str(name[0] == 'O' ? old : b.st.cwd));
    if (b.st.exported.find(std::string_view(name)) == b.st.exported.end()) {
      b.st.exported.emplace(b.ctx.str(name), VarValue());
    }
  }
  if (print) return b.out(b.st.cwd + "\n") ? 0 : 1;
  return 0;
}

// pushd, popd, dirs (bash's): a stack of directories whose top is the working directory. What
// dirs shows: the working directory, then st.dirstack; $HOME's prefix as ~ unless -l.
std::string dir_shown(const State& st, std::string_view d, bool full) {
  std::string tmp;
  auto home = param_value(st, "HOME", &tmp);
  if (full || !home || home->size() < 2 || d.substr(0, home->size()) != *home ||
      (d.size() > home->size() && d[home->size()] != '/')) {
    return std::string(d);
  }
  return "~" + std::string(d.substr(home->size()));
}

std::vector<std::string_view> dir_list(const State& st) {
  std::vector<std::string_view> l{st.cwd};
  for (const Str& d : st.dirstack) l.push_back(view(d));
  return l;
}

// A word with a sign: +N or -N, or something else that starts like one (`-n`, `-x`).
bool signed_word(std::string_view w) { return w.size() > 1 && (w[0] == '+' || w[0] == '-'); }
bool is_stack_number(std::string_view w) {
  return signed_word(w) && w.find_first_not_of("0123456789", 1) == std::string_view::npos;
}

// dirs with its options, of the entries [from, to) of dir_list (-v: numbered as dirs -v numbers
// them, a line each; -p: a line each; else on one line), charged: as large as the stack.
int show_dirs(B& b, size_t from, size_t to, bool full, bool lines, bool numbered) {
  auto l = dir_list(b.st);
  Str out = b.ctx.str("");
  for (size_t k = from; k < to; ++k) {
    if (numbered) {
      out += (k < 10 ? " " : "") + std::to_string(k) + "  ";
    } else if (k > from) {
      out += lines ? "\n" : " ";
    }
    out += dir_shown(b.st, l[k], full);
    if (numbered) out += "\n";
  }
  if (!numbered) out += "\n";
  return b.out(view(out)) ? 0 : 1;
}

// What pushd and popd print after a change: the whole stack on one line.
int print_dirs(B& b) { return show_dirs(b, 0, b.st.dirstack.size() + 1, false, false, false); }

// The working directory becomes `dir` as cd makes it (its messages under the builtin's name).
bool change_to(B& b, std::string_view dir) { return b_cd(b, {"--", dir}) == 0; }

// dirs [-clpv] [+N | -N]: each option its own word, as bash (`-lv` is not two).
int b_dirs(B& b, const Args& a) {
  bool full = false, lines = false, numbered = false, cleared = false;
  std::optional<std::string_view> which;
  for (std::string_view w : a) {
    if (w == "-c") {
      b.st.dirstack.clear();
      cleared = true;
    } else if (w == "-l") {
      full = true;
    } else if (w == "-p") {
      lines = true;
    } else if (w == "-v") {
      lines = numbered = true;
    } else if (signed_word(w)) {
      which = w;
    } else {
      return b.say("dirs: " + shown(w) + ": invalid option\n"
                   "dirs: usage: dirs [-clpv] [+N] [-N]\n", 2);
    }
  }
  if (which) {
    auto k = dir_stack_index(b.st, *which);
    if (!k) {
      return b.say("dirs: " + shown(*which) + ": invalid number\n"
                   "dirs: usage: dirs [-clpv] [+N] [-N]\n", 2);
    }
    if (*k < 0 && b.st.dirstack.empty()) return b.say("dirs: directory stack empty\n");
    if (*k < 0) {
      return b.say("dirs: " + shown(which->substr(1)) + ": directory stack index out of range\n");
    }
    auto at = static_cast<size_t>(*k);
    return show_dirs(b, at, at + 1, full, lines, numbered);
  }
  if (cleared) return 0;
  return show_dirs(b, 0, b.st.dirstack.size() + 1, full, lines, numbered);
}

// pushd [-n] [+N | -N | DIR]: DIR: the working directory is remembered and DIR becomes it (as
// cd makes it: `-`, CDPATH); +N / -N: the stack rotated so that entry becomes the top, the
// working directory; no word: the top two exchanged. -n: the stack changes, the working
// directory does not. The stack is printed after, as bash does.
int b_pushd(B& b, const Args& a) {
  bool no_cd = false;
  std::optional<std::string_view> dir, number;
  size_t i = 0;
  for (; i < a.size(); ++i) {
    if (a[i] == "-n") {
      no_cd = true;
    } else if (a[i] == "--") {
      ++i;
      break;
    } else if (signed_word(a[i])) {
      if (!is_stack_number(a[i])) {
        return b.say("pushd: " + shown(a[i]) + ": invalid number\n"
                     "pushd: usage: pushd [-n] [+N | -N | dir]\n", 2);
      }
      number = a[i];
    } else {
      break;
    }
  }
  if (i < a.size()) dir = a[i++];
  if (i < a.size()) return b.say("pushd: too many arguments\n");
  Vec<Str>& s = b.st.dirstack;
  if (dir) {
    if (no_cd) {
      s.insert(s.begin(), b.ctx.str(*dir));
      return print_dirs(b);
    }
    std::string old = b.st.cwd;
    if (!change_to(b, *dir)) return 1;
    s.insert(s.begin(), b.ctx.str(old));
    return print_dirs(b);
  }
  if (!number) {
    if (s.empty()) return b.say("pushd: no other directory\n");
    if (no_cd) return 0;  // (bash: nothing changes, nothing printed)
    std::string old = b.st.cwd;
    std::string top(view(s.front()));
    if (!change_to(b, top)) return 1;
    s.front() = b.ctx.str(old);
    return print_dirs(b);
  }
  auto l = dir_list(b.st);
  auto k = dir_stack_index(b.st, *number);
  if (!k || *k < 0) {
    if (s.empty()) return b.say("pushd: directory stack empty\n");
    return b.say("pushd: " + shown(*number) + ": directory stack index out of range\n");
  }
  std::vector<std::string> rotated;
  for (size_t j = 0; j < l.size(); ++j) {
    rotated.emplace_back(l[(j + static_cast<size_t>(*k)) % l.size()]);
  }
  if (!no_cd && *k != 0 && !change_to(b, rotated[0])) return 1;
  // (-n: bash keeps the working directory and drops the rotated list's top.)
  Vec<Str> next(b.ctx.alloc());
  for (size_t j = 1; j < rotated.size(); ++j) next.push_back(b.ctx.str(rotated[j]));
  s = std::move(next);
  return no_cd ? 0 : print_dirs(b);  // (bash prints a rotation only when it changed directory)
}

// popd [-n] [+N | -N]: the top removed and the working directory becomes the next; +N / -N:
// that entry removed (+0: the top, as popd). -n: the entry after the top removed (the working
// directory stays). The stack is printed after.
int b_popd(B& b, const Args& a) {
  bool no_cd = false;
  std::optional<std::string_view> number;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i] == "-n") {
      no_cd = true;
    } else if (a[i] == "--") {
      continue;
    } else if (is_stack_number(a[i])) {
      number = a[i];
    } else {
      return b.say("popd: " + shown(a[i]) + ": invalid argument\n"
                   "popd: usage: popd [-n] [+N | -N]\n", 2);
    }
  }
  Vec<Str>& s = b.st.dirstack;
  if (s.empty()) return b.say("popd: directory stack empty\n");
  long long k = 0;
  if (number) {
    auto n = dir_stack_index(b.st, *number);
    if (!n || *n < 0) {
      return b.say("popd: " + shown(*number) + ": directory stack index out of range\n");
    }
    k = *n;
  }
  if (no_cd && k == 0) k = 1;
  if (k == 0) {
    if (!change_to(b, std::string(view(s.front())))) return 1;
    s.erase(s.begin());
  } else {
    s.erase(s.begin() + (k - 1));
  }
  return print_dirs(b);
}

// pwd [-L | -P]: the working directory, logical (as cd made it) or physical (symlinks resolved
// by the resolver, as cd -P would make it). Words that are not options are ignored, as bash.
int b_pwd(B& b, const Args& a) {
  bool physical = false;
  for (size_t i = 0; i < a.size() && a[i].size() > 1 && a[i][0] == '-'; ++i) {
    if (a[i] == "--") break;
    if (a[i].find_first_not_of("LP", 1) != std::string_view::npos) {
      return b.say("pwd: " + shown(a[i]) + ": invalid option\npwd: usage: pwd [-LP]\n", 2);
    }
    for (char c : a[i]) {
      if (c == 'L' || c == 'P') physical = c == 'P';
    }
  }
  if (!physical) return b.out(b.st.cwd + "\n") ? 0 : 1;
  auto dir = guest_directory(b.ctx, "/", b.st.cwd, true);
  if (!dir) return b.say("pwd: " + dir.error().message + "\n");
  return b.out(*dir + "\n") ? 0 : 1;
}

// break [N] / continue [N]: leave (or go on with) the Nth enclosing loop.
// break/continue [N], as bash: outside a loop a message and status 0 (whatever N is); N must be
// a number (else "numeric argument required" and the shell ends with 128, as bash's fatal
// error; interactive: the rest of the line is abandoned), at least 1 (else "loop count out of
// range", status 1, and every enclosing loop is left, continue's too).
int b_loop_control(B& b, const Args& a, State::Flow flow, const char* name) {
  if (b.st.loops == 0) {
    // bash: a message and status 0; the script goes on.
    b.say(std::string(name) + ": only meaningful in a 'for', 'while', or 'until' loop\n");
    return 0;
  }
  int64_t n = 1;
  int status = 0;
  if (!a.empty()) {
    auto v = legal_number(a[0]);
    if (!v) {
      b.say(std::string(name) + ": " + shown(a[0]) + ": numeric argument required\n");
      (b.st.interactive ? b.st.abort_line : b.st.exit_requested) = true;
      return 128;
    }
    if (*v < 1) {  // bash leaves every enclosing loop, break or continue
      b.say(std::string(name) + ": " + shown(a[0]) + ": loop count out of range\n");
      flow = State::Flow::kBreak;
      n = b.st.loops;
      status = 1;
    } else {
      n = *v;
    }
  }
  b.st.flow = flow;
  b.st.flow_count = static_cast<int>(std::min<int64_t>(n, b.st.loops));
  return status;
}

int b_return(B& b, const Args& a) {
  long long v = b.st.last;
  if (!a.empty() && !parse_int(a[0], &v)) {
    b.say("return: " + shown(a[0]) + ": numeric argument required\n");
    v = 2;
  }
  if (b.st.func_depth == 0 && b.st.source_depth == 0) {  // bash: a usage error, status 2
    return b.say("return: can only 'return' from a function or sourced script\n", 2);
  }
  b.st.flow = State::Flow::kReturn;
  return static_cast<int>(v & 0xff);
}

int b_shift(B& b, const Args& a) {
  long long n = 1;
  if (!a.empty() && (!parse_int(a[0], &n) || n < 0)) {
    return b.say("shift: " + shown(a[0]) + ": numeric argument required\n", 2);
  }
  if (static_cast<size_t>(n) > b.st.positional.size()) return 1;
  b.st.positional.erase(b.st.positional.begin(), b.st.positional.begin() + n);
  return 0;
}

// set's options: bash's names and letters. Those marked fixed are accepted and keep their value
// (braceexpand and hashall are always on here; the others bash lists are always off and refused
// when turned on, never ignored).
struct SetOption {
  const char* name;
  char letter;
  bool State::*flag;  // null: fixed
  bool fixed_value;
};
constexpr SetOption kSetOptions[] = {
    {"allexport", 'a', &State::opt_allexport, false},
    {"braceexpand", 'B', nullptr, true},
    {"emacs", 0, nullptr, false},
    {"errexit", 'e', &State::opt_errexit, false},
    {"errtrace", 'E', nullptr, false},
    {"functrace", 'T', nullptr, false},
    {"hashall", 'h', nullptr, true},
    {"histexpand", 'H', nullptr, false},
    {"history", 0, nullptr, false},
    {"ignoreeof", 0, nullptr, false},
    {"interactive-comments", 0, nullptr, true},
    {"keyword", 'k', nullptr, false},
    {"monitor", 'm', nullptr, false},
    {"noclobber", 'C', &State::opt_noclobber, false},
    {"noexec", 'n', nullptr, false},
    {"noglob", 'f', &State::opt_noglob, false},
    {"nolog", 0, nullptr, false},
    {"notify", 'b', nullptr, false},
    {"nounset", 'u', &State::opt_nounset, false},
    {"onecmd", 't', nullptr, false},
    {"physical", 'P', nullptr, false},
    {"pipefail", 0, &State::opt_pipefail, false},
    {"posix", 0, nullptr, false},
    {"privileged", 'p', nullptr, false},
    {"verbose", 'v', &State::opt_verbose, false},
    {"vi", 0, nullptr, false},
    {"xtrace", 'x', &State::opt_xtrace, false},
};

// 0: set; 1: unknown; 2: known but not supported in that state.
int set_option(State& st, std::string_view name, bool on) {
  for (const auto& o : kSetOptions) {
    if (name != o.name && !(name.size() == 1 && o.letter != 0 && name[0] == o.letter)) continue;
    if (o.flag != nullptr) {
      st.*o.flag = on;
      return 0;
    }
    return on == o.fixed_value ? 0 : 2;
  }
  return 1;
}

bool option_on(const State& st, const SetOption& o) {
  return o.flag != nullptr ? st.*o.flag : o.fixed_value;
}

// set [-abefhuvxBC...] [+...] [-o NAME] [+o NAME] [-] [--] [ARG...]; `set -o` / `set +o` list
// the options; `set` alone the variables, quoted so they read back.
int b_set(B& b, const Args& a) {
  size_t i = 0;
  bool args_follow = false;
  auto refuse = [&](std::string_view what, int why) {
    return b.say("set: " + shown(what) +
                     (why == 1 ? ": invalid option name\n"
                               : ": this option is not supported (wasmcap sh)\n"),
                 2);
  };
  for (; i < a.size(); ++i) {
    std::string_view arg = a[i];
    if (arg == "--") {
      ++i;
      args_follow = true;
      break;
    }
    if (arg == "-") {  // the end of the options; -x and -v off (bash)
      b.st.opt_xtrace = false;
      b.st.opt_verbose = false;
      ++i;
      break;
    }
    if (arg == "+") continue;  // ignored
    if (arg.size() < 2 || (arg[0] != '-' && arg[0] != '+')) break;
    bool on = arg[0] == '-';
    if (arg.substr(1) == "o") {
      if (i + 1 >= a.size() || a[i + 1].empty() || a[i + 1][0] == '-' || a[i + 1][0] == '+') {
        std::string list;
        for (const auto& o : kSetOptions) {
          bool v = option_on(b.st, o);
          if (on) {
            char line[64];
            std::snprintf(line, sizeof line, "%-15s\t%s\n", o.name, v ? "on" : "off");
            list += line;
          } else {
            list += std::string("set ") + (v ? "-o " : "+o ") + o.name + "\n";
          }
        }
        if (!b.out(list)) return 1;
        continue;
      }
      int r = set_option(b.st, a[++i], on);
      if (r != 0) return refuse(a[i], r);
      continue;
    }
    for (char c : arg.substr(1)) {
      int r = set_option(b.st, std::string_view(&c, 1), on);
      if (r != 0) return refuse(std::string(1, arg[0]) + c, r == 1 ? 1 : 2);
    }
  }
  if (i < a.size() || args_follow) {
    Vec<Str> args(b.ctx.alloc());
    for (size_t k = i; k < a.size(); ++k) args.push_back(b.ctx.str(a[k]));
    b.st.positional = std::move(args);
  }
  if (a.empty()) {  // the variables and arrays, sorted, quoted so they read back
    std::vector<std::string_view> names;
    for (const auto& [k, v] : b.st.vars) names.push_back(view(k));
    for (const auto& [k, v] : b.st.arrays) names.push_back(view(k));
    for (const auto& [k, v] : b.st.assocs) names.push_back(view(k));
    std::sort(names.begin(), names.end());
    Str s = b.ctx.str();
    for (auto n : names) {
      b.ctx.budget->check();
      s.append(n.data(), n.size());
      s.push_back('=');
      if (const ArrayElems* arr = find_array(b.st, n)) {
        s.push_back('(');
        bool first = true;
        for (const auto& [k, e] : *arr) {
          if (!first) s.push_back(' ');
          first = false;
          s.append("[" + std::to_string(k) + "]=" + quote_double(view(e)));
        }
        s.append(")\n");
        continue;
      }
      if (find_assoc(b.st, n) != nullptr) {  // declare -p's =(...) part (bash's form)
        std::string line = declare_line(b.st, n);
        size_t eq = line.find("=(");
        s.append(eq == std::string::npos ? std::string("()\n") : line.substr(eq + 1));
        continue;
      }
      std::string_view v = view(*b.st.vars.find(n)->second);
      bool plain = !v.empty();
      for (char c : v) {
        plain = plain && (std::isalnum(static_cast<unsigned char>(c)) ||
                          std::strchr("_-./:,+@%=", c) != nullptr);
      }
      s.append(plain ? std::string(v) : quote_for_reuse(v));
      s.push_back('\n');
    }
    return b.out(view(s)) ? 0 : 1;
  }
  return 0;
}

// eval's and source's text is traced one level deeper (set -x: `++ cmd`), for as long as it runs.
struct TraceLevel {
  explicit TraceLevel(State& s) : st(s) { ++st.trace_depth; }
  ~TraceLevel() { --st.trace_depth; }
  TraceLevel(const TraceLevel&) = delete;
  TraceLevel& operator=(const TraceLevel&) = delete;
  State& st;
};

int b_eval(B& b, const Args& a) {
  // Options as bash's: a leading `--` ends them; any other -X is an invalid option (status 2).
  // A lone `-` is an argument.
  size_t first = 0;
  if (!a.empty() && a[0] == "--") {
    first = 1;
  } else if (!a.empty() && a[0].size() > 1 && a[0][0] == '-') {
    return b.say("eval: " + shown(a[0].substr(0, 2)) + ": invalid option\neval: usage: eval [arg ...]\n",
                 2);
  }
  std::string text;
  for (size_t k = first; k < a.size(); ++k) {
    if (k > first) text.push_back(' ');
    text.append(a[k]);
  }
  Budget::Lease lease(b.ctx.budget, text.size());
  TraceLevel nested(b.st);
  return run_script_text(b.ctx, b.st, text, b.io, "eval");
}

// . FILE [ARG...]: a script from inside the sandbox, run in this shell's state.
int b_source(B& b, const Args& args, const char* name) {
  Args a = args;
  if (!a.empty() && a[0] == "--") a.erase(a.begin());  // bash: `--` ends the options
  if (a.empty()) return b.say(std::string(name) + ": a file name is needed\n", 2);
  // /dev/stdin is the builtin's own stdin (a here-document, a pipe), /dev/fd/N its descriptor N;
  // anything else is a file beneath a preopen.
  int fd = b.io.in();
  Result<Fd> f = Fd();
  auto dev_fd = shell_dev_fd(b.io, a[0]);  // /dev/fd/N: `source <(list)`
  if (dev_fd) {
    if (*dev_fd == kClosed) {
      return b.say(std::string(name) + ": " + shown(a[0]) + ": No such file or directory\n");
    }
    fd = *dev_fd;
  } else if (a[0] != "/dev/stdin") {
    // A name without '/' is looked for on PATH first (a readable file), then here (bash).
    auto on_path = search_path(b.ctx, b.st, a[0], false);
    f = open_redirect(b.ctx, b.st.cwd, on_path ? std::string_view(*on_path) : a[0], O_RDONLY);
    if (!f) return b.say(std::string(name) + ": " + f.error().message + "\n");
    fd = f->get();
  }
  constexpr size_t kMaxScript = 16u << 20;  // as `wasmcap sh FILE`
  Str text = b.ctx.str();
  // (/dev/null or closed: empty.) A pipe may feed it slowly: the deadline still holds.
  if (fd >= 0) (void)read_bounded(b.ctx, fd, kMaxScript + 1, &text);  // an error: what was read
  if (text.size() > kMaxScript) {
    return b.say(std::string(name) + ": " + shown(a[0]) + ": larger than 16 MiB\n");
  }
  std::optional<Vec<Str>> saved;
  if (a.size() > 1) {
    saved = b.st.positional;
    Vec<Str> args(b.ctx.alloc());
    for (size_t k = 1; k < a.size(); ++k) args.push_back(b.ctx.str(a[k]));
    b.st.positional = std::move(args);
  }
  ++b.st.source_depth;
  TraceLevel nested(b.st);
  int status = run_script_text(b.ctx, b.st, std::string(view(text)), b.io, name);
  --b.st.source_depth;
  if (b.st.flow == State::Flow::kReturn) b.st.flow = State::Flow::kNone;
  if (saved) b.st.positional = std::move(*saved);
  return status;
}

// The longest -t wait taken as written (about 35 years); the script's deadline comes first.
constexpr int64_t kMaxReadTimeoutMs = int64_t{1} << 40;

// read -t's SECONDS as bash reads them: digits, optionally a '.' and more digits (`5`, `0.5`,
// `.5`, `5.`; empty is 0), in milliseconds (saturating: the script's deadline ends any wait);
// nullopt for anything else (`-1`, `1e1`, `0x1`).
std::optional<int64_t> read_timeout_ms(std::string_view v) {
  int64_t ms = 0;
  size_t i = 0;
  for (; i < v.size() && v[i] >= '0' && v[i] <= '9'; ++i) {
    ms = ms > kMaxReadTimeoutMs / 10 ? kMaxReadTimeoutMs : ms * 10 + (v[i] - '0');
  }
  ms = ms > kMaxReadTimeoutMs / 1000 ? kMaxReadTimeoutMs : ms * 1000;
  if (i < v.size() && v[i] == '.') {
    int64_t scale = 100;
    for (++i; i < v.size() && v[i] >= '0' && v[i] <= '9'; ++i, scale /= 10) ms += (v[i] - '0') * scale;
    // A fraction below a millisecond still waits: `-t 0.0001` is not `-t 0`.
    if (ms == 0 && v.find_first_of("123456789") != std::string_view::npos) ms = 1;
  }
  if (i != v.size()) return std::nullopt;
  return std::min(ms, kMaxReadTimeoutMs);
}

// read [-r] [-d DELIM] [-n N] [-N N] [-p PROMPT] [-t SECONDS] [-u FD] [NAME...] (read_split.h).
// Reads a byte at a time (the rest of the input stays for the next command, as bash on a pipe),
// waiting with poll() so the deadline still holds when nothing comes; -t ends the wait sooner.
int b_read(B& b, const Args& a) {
  ReadRecord::Options ro;
  std::vector<std::string_view> names;
  std::optional<std::string_view> array;  // -a NAME: every field into an indexed array
  std::optional<std::string_view> prompt;
  bool no_chars = false;  // -n 0: reads nothing
  std::optional<int64_t> timeout_ms;  // -t SECONDS
  int fd = b.io.in();
  for (size_t i = 0; i < a.size(); ++i) {
    std::string_view o = a[i];
    if (!names.empty() || o.size() < 2 || o[0] != '-') {
      names.push_back(o);
      continue;
    }
    if (o == "--") {
      names.insert(names.end(), a.begin() + static_cast<long>(i) + 1, a.end());
      break;
    }
    // Letters may be grouped (`-rn1`, `-rd ''`): a letter that takes a value takes the rest of
    // the word, else the next word (bash's getopts rules).
    for (size_t k = 1; k < o.size(); ++k) {
      char f = o[k];
      if (f == 'r') {
        ro.raw = true;
        continue;
      }
      if (f == 's') continue;  // no echo to turn off: the shell never drives a terminal's modes
      if (std::string_view("dnNpuat").find(f) == std::string_view::npos) {
        return b.say("read: -" + shown(std::string_view(&f, 1)) + ": invalid option\n", 2);
      }
      std::string_view v;
      if (k + 1 < o.size()) {
        v = o.substr(k + 1);
      } else if (i + 1 < a.size()) {
        v = a[++i];
      } else {
        return b.say("read: -" + std::string(1, f) + ": option requires an argument\n", 2);
      }
      if (f == 't') {
        timeout_ms = read_timeout_ms(v);
        if (!timeout_ms) return b.say("read: " + shown(v) + ": invalid timeout specification\n");
      } else if (f == 'd') {
        ro.delim = v.empty() ? '\0' : v[0];
      } else if (f == 'n' || f == 'N') {
        long long n = 0;
        if (!parse_int(v, &n) || n < 0) return b.say("read: " + shown(v) + ": invalid number\n", 2);
        ro.nchars = static_cast<size_t>(n);
        ro.exact = f == 'N';
        no_chars = n == 0;
      } else if (f == 'p') {
        prompt = v;  // on stderr, and only when the input is a terminal (bash)
      } else if (f == 'u') {
        long long n = 0;
        if (!parse_int(v, &n) || n < 0 || n >= kMaxFds) {
          return b.say("read: " + shown(v) + ": invalid file descriptor\n");
        }
        fd = b.io.fd[n];
      } else if (f == 'a') {
        if (!valid_name(v)) return b.say("read: '" + shown(v) + "': not a valid identifier\n");
        array = v;
      }
      break;
    }
  }
  for (auto n : names) {
    if (!valid_name(n)) return b.say("read: '" + shown(n) + "': not a valid identifier\n");
  }
  uint64_t cap = b.ctx.budget->limits().memory_bytes;
  ro.max_bytes = cap == 0 ? (size_t{16} << 20) : static_cast<size_t>(cap);
  // -t 0: whether input is waiting, nothing read, no variable set (bash; /dev/null's EOF is
  // input, a closed descriptor is not).
  if (timeout_ms == 0) {
    if (fd == kNull) return 0;
    struct pollfd p {fd, POLLIN, 0};
    return fd >= 0 && ::poll(&p, 1, 0) == 1 ? 0 : 1;
  }
  ReadRecord rec(ro);
  if (prompt && fd >= 0 && ::isatty(fd) == 1) b.say(std::string(*prompt));
  bool eof = fd < 0 || no_chars;
  bool timed_out = false;
  auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms.value_or(0));
  while (!eof) {
    b.ctx.budget->check();  // the script's deadline bounds every wait, -t or not
    int wait_ms = 50;       // not-timing: a wait that re-checks the deadline
    if (timeout_ms) {
      // (Rounded up: the wait is never shorter than asked.)
      auto left = std::chrono::ceil<std::chrono::milliseconds>(
                      until - std::chrono::steady_clock::now()).count();
      if (left <= 0) {
        timed_out = true;
        break;
      }
      wait_ms = static_cast<int>(std::min<int64_t>(left, wait_ms));
    }
    struct pollfd p {fd, POLLIN, 0};
    int r = ::poll(&p, 1, wait_ms);
    if (r < 0 && errno != EINTR) break;
    if (r <= 0) continue;
    char c;
    ssize_t n = ::read(fd, &c, 1);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (n <= 0) break;
    auto st = rec.feed(c);
    if (!st) return b.say("read: " + st.error().message + "\n");
    if (*st == ReadRecord::State::kDone) break;
  }
  Budget::Lease held(b.ctx.budget, rec.text().size());
  std::string tmp;
  Ifs ifs(param_value(b.st, "IFS", &tmp));
  if (array) {
    Vec<Str> values(b.ctx.alloc());
    for (auto& f : read_fields(rec, ifs)) {
      values.push_back(b.ctx.str(f));
      b.ctx.budget->check_words(values.size());
    }
    assign_array(b.ctx, b.st, *array, values, {}, false);
  } else if (names.empty()) {
    set_var(b.ctx, b.st, "REPLY", b.ctx.str(rec.text()));
  } else {
    auto values = read_assign(rec, ifs, names.size());
    for (size_t k = 0; k < names.size(); ++k) {
      set_var(b.ctx, b.st, names[k], b.ctx.str(k < values.size() ? values[k] : std::string()));
    }
  }
  // Timed out: what was read is assigned, and the status is 128 + SIGALRM (bash).
  if (timed_out) return 142;
  return no_chars || rec.saw_delim() || (ro.nchars != 0 && rec.text().size() >= ro.nchars) ? 0 : 1;
}

}  // namespace

std::optional<long long> dir_stack_index(const State& st, std::string_view w) {
  long long n = 0;
  if (!is_stack_number(w) || !parse_int(w.substr(1), &n)) return std::nullopt;
  const auto size = static_cast<long long>(st.dirstack.size()) + 1;
  if (n >= size) return -1;
  return w[0] == '+' ? n : size - 1 - n;
}

bool is_builtin(std::string_view n) {
  static const char* kNames[] = {"cd",    "pwd",    "echo",  "true",  "false",    "test",
                                 "[",     "exit",   ":",     "break", "continue", "return",
                                 "local", "export", "unset", "shift", "set",      "eval",
                                 ".",     "source", "exec",     "printf",
                                 "let",   "read",   "command", "type",    "hash",
                                 "declare", "typeset", "readonly", "xargs", "builtin", "expr",
                                 "timeout", "pushd", "popd", "dirs"};
  for (const char* k : kNames) {
    if (n == k) return true;
  }
  return is_ctl_builtin(n) || is_job_builtin(n) || is_file_builtin(n) || is_alias_builtin(n) ||
         is_mapfile_builtin(n);
}

namespace {

int dispatch_builtin(Ctx& ctx, State& st, const Vec<Str>& argv, const Io& io,
                     std::atomic<uint64_t>* out_b, std::atomic<uint64_t>* err_b) {
  std::string_view n = view(argv[0]);
  B b{ctx, st, io, out_b, err_b, n};
  Args a;
  for (size_t k = 1; k < argv.size(); ++k) a.push_back(view(argv[k]));
  if (is_ctl_builtin(n)) return run_ctl_builtin(ctx, st, argv, io, out_b, err_b);
  if (is_file_builtin(n)) return run_file_builtin(ctx, st, argv, io, out_b, err_b);
  if (is_alias_builtin(n)) return run_alias_builtin(ctx, st, argv, io, out_b, err_b);
  if (is_mapfile_builtin(n)) return run_mapfile_builtin(ctx, st, argv, io, err_b);
  if (n == "true" || n == ":") return 0;
  if (n == "false") return 1;
  if (n == "pwd") return b_pwd(b, a);
  if (n == "echo") return b_echo(b, a);
  if (n == "printf") return b_printf(b, a);
  if (n == "let") return b_let(b, a);
  if (n == "read") return b_read(b, a);
  if (n == "command" || n == "type" || n == "hash") {  // reports: src/shell/commands.cc
    std::vector<std::string_view> words{n};
    words.insert(words.end(), a.begin(), a.end());
    std::string o, e;
    Resolver r{is_builtin, &ctx.o.commands, {}, {}, {}};
    r.find_on_path = [&](std::string_view name) { return find_path_command(ctx, st, name); };
    for (const auto& [name, h] : st.hashed) {
      r.hashed.push_back({std::string(view(name)), std::string(view(h.path)), h.hits});
    }
    r.forget_hashed = [&] { st.hashed.clear(); };
    r.hash_program = [&](std::string_view name) { hash_program(ctx, st, name); };
    r.is_function = [&](std::string_view name) { return st.funcs.find(name) != st.funcs.end(); };
    r.program_path = [&](std::string_view name) { return program_on_path(ctx, st, name); };
    int code = resolution_builtin(r, words, &o, &e);
    if (!e.empty()) b.say(e);
    return b.out(o) ? code : 1;
  }
  if (n == "exit") return b_exit(b, a);
  if (n == "test" || n == "[") return b_test(b, a, n == "[");
  if (n == "cd") return b_cd(b, a);
  if (n == "pushd") return b_pushd(b, a);
  if (n == "popd") return b_popd(b, a);
  if (n == "dirs") return b_dirs(b, a);
  if (n == "break") return b_loop_control(b, a, State::Flow::kBreak, "break");
  if (n == "continue") return b_loop_control(b, a, State::Flow::kContinue, "continue");
  if (n == "return") return b_return(b, a);
  if (n == "local" || n == "export" || n == "unset" || n == "declare" || n == "typeset" ||
      n == "readonly") {
    return declare_builtin(ctx, st, io, n, a, out_b, err_b);
  }
  if (n == "shift") return b_shift(b, a);
  if (n == "set") return b_set(b, a);
  if (n == "eval") return b_eval(b, a);
  if (n == "." || n == "source") return b_source(b, a, n == "." ? "." : "source");
  if (is_job_builtin(n)) return run_job_builtin(ctx, st, argv, io, out_b, err_b);
  if (n == "xargs") return run_xargs(ctx, st, argv, io, out_b, err_b);
  if (n == "timeout") return run_timeout(ctx, st, argv, io, out_b, err_b);
  if (n == "expr") {  // src/shell/expr.h
    ExprResult r = eval_expr(a);
    if (!r.err.empty()) b.say(r.err);
    return b.out(r.out) ? r.status : 3;
  }
  return 127;
}

}  // namespace

int run_builtin(Ctx& ctx, State& st, const Vec<Str>& argv, const Io& io,
                std::atomic<uint64_t>* out_b, std::atomic<uint64_t>* err_b) {
  // An assignment a builtin makes and the shell refuses (read, mapfile, printf -v into a
  // readonly variable) is reported on the builtin's stderr, after its redirections, as bash's.
  try {
    return dispatch_builtin(ctx, st, argv, io, out_b, err_b);
  } catch (const AssignError& e) {
    emit(ctx, io.err(), "wasmcap sh: " + shown(e.message) + "\n", err_b);
    return 1;
  }
}

// `sh -e -o pipefail ...`: the options of set a nested shell may start with (nested_exec.cc).
bool set_option_settable(std::string_view name) {
  State scratch(nullptr);  // (only its flags are touched)
  return set_option(scratch, name, true) == 0 && set_option(scratch, name, false) == 0;
}
int apply_set_option(State& st, std::string_view name, bool on) { return set_option(st, name, on); }

std::string shell_opts(const State& st) {
  std::string s;
  for (const auto& o : kSetOptions) {
    if (!option_on(st, o)) continue;
    if (!s.empty()) s.push_back(':');
    s += o.name;
  }
  return s;
}

}  // namespace wasmcap::shell

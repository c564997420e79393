// Builtins for the shell's control (docs/shell.md "Commands"): shopt, trap, getopts. Kept apart from
// builtins.cc (the variable and I/O builtins) so each file stays small.
#include <algorithm>
#include <cctype>
#include <charconv>
#include <optional>

#include "shell/lex.h"
#include "shell/state.h"

namespace wasmcap::shell {

namespace {

// bash's shopt options this shell implements, and where each lives in the state.
struct ShoptOption {
  const char* name;
  bool State::*flag;
};
constexpr ShoptOption kShoptOptions[] = {
    {"expand_aliases", &State::opt_expand_aliases},
    {"extglob", &State::opt_extglob},
    {"dotglob", &State::opt_dotglob},
    {"failglob", &State::opt_failglob},
    {"globskipdots", &State::opt_globskipdots},
    {"globstar", &State::opt_globstar},
    {"lastpipe", &State::opt_lastpipe},
    {"nocaseglob", &State::opt_nocaseglob},
    {"nocasematch", &State::opt_nocasematch},
    {"nullglob", &State::opt_nullglob},
};

// bash's other shopt options: accepted by name, refused when set (never silently ignored), and
// reported off.
constexpr const char* kShoptOthers[] = {
    "autocd", "assoc_expand_once", "cdable_vars", "cdspell", "checkhash", "checkjobs",
    "checkwinsize", "cmdhist", "compat31", "compat32", "compat40", "compat41", "compat42",
    "compat43", "compat44", "complete_fullquote", "direxpand", "dirspell", "execfail",
    "extdebug", "extquote", "force_fignore",
    "globasciiranges", "gnu_errfmt", "histappend", "histreedit",
    "histverify", "hostcomplete", "huponexit", "inherit_errexit", "interactive_comments",
    "lithist", "localvar_inherit", "localvar_unset", "login_shell", "mailwarn",
    "no_empty_cmd_completion", "noexpand_translation",
    "patsub_replacement", "progcomp", "progcomp_alias", "promptvars", "restricted_shell",
    "shift_verbose", "sourcepath", "varredir_close", "xpg_echo"};

const ShoptOption* find_option(std::string_view n) {
  for (const auto& o : kShoptOptions) {
    if (n == o.name) return &o;
  }
  return nullptr;
}

bool is_other(std::string_view n) {
  for (const char* o : kShoptOthers) {
    if (n == o) return true;
  }
  return false;
}

// shopt [-s|-u] [-p] [-q] [-o] [NAME...]: bash's. Without -s/-u it reports (status 1 when a
// named option is off); -o names set -o options, which `set -o` handles here.
int b_shopt(Ctx& ctx, State& st, const std::vector<std::string_view>& a, const Io& io,
            std::atomic<uint64_t>* out_b, std::atomic<uint64_t>* err_b) {
  auto say = [&](const std::string& m, int status) {
    emit(ctx, io.err(), "wasmcap sh: shopt: " + m + "\n", err_b);
    return status;
  };
  char mode = 0;  // 's' set, 'u' unset, 0 report
  bool print = false, quiet = false;
  size_t i = 0;
  for (; i < a.size() && a[i].size() > 1 && a[i][0] == '-'; ++i) {
    if (a[i] == "--") {
      ++i;
      break;
    }
    for (char c : a[i].substr(1)) {
      if (c == 's' || c == 'u') {
        mode = c;
      } else if (c == 'p') {
        print = true;
      } else if (c == 'q') {
        quiet = true;
      } else if (c == 'o') {
        return say("-o: set -o options are set with 'set -o NAME'", 2);
      } else {
        return say(std::string("-") + c + ": invalid option\nshopt: usage: shopt [-pqsu] [optname ...]",
                   2);
      }
    }
  }
  std::string out;
  auto report = [&](std::string_view name, bool on) {
    if (quiet) return;
    if (print || mode != 0) {
      out += on ? "shopt -s " : "shopt -u ";
      out.append(name.data(), name.size());
      out += '\n';
      return;
    }
    std::string n(name);
    n.resize(std::max<size_t>(n.size(), 15), ' ');
    out += n + "\t" + (on ? "on" : "off") + "\n";
  };
  int status = 0;
  if (i == a.size()) {  // every option (with -s / -u: those set / unset)
    for (const auto& o : kShoptOptions) {
      bool on = st.*(o.flag);
      if (mode == 0 || (mode == 's') == on) report(o.name, on);
    }
    for (const char* o : kShoptOthers) {
      if (mode != 's') report(o, false);
    }
    emit(ctx, io.out(), out, out_b);
    return 0;
  }
  for (; i < a.size(); ++i) {
    const ShoptOption* o = find_option(a[i]);
    if (o == nullptr && !is_other(a[i])) {
      status = say(shown(a[i]) + ": invalid shell option name", 1);
      continue;
    }
    if (mode == 0) {
      bool on = o != nullptr && st.*(o->flag);
      report(a[i], on);
      if (!on) status = 1;
      continue;
    }
    if (o == nullptr) {
      if (mode == 'u') continue;  // it is off
      status = say(shown(a[i]) + ": not supported by wasmcap sh (docs/shell.md)", 1);
      continue;
    }
    st.*(o->flag) = mode == 's';
  }
  emit(ctx, io.out(), out, out_b);
  return status;
}

// trap's conditions: EXIT (0), ERR, and the signals by number (Linux's), as bash names them.
// No signal reaches a script inside the sandbox, so a signal's handler is kept (and listed)
// but never runs; DEBUG and RETURN are refused (not implemented, never silently ignored).
constexpr const char* kSignals[] = {
    "EXIT", "HUP",  "INT",    "QUIT", "ILL",    "TRAP", "ABRT",  "BUS",  "FPE",  "KILL",  "USR1",
    "SEGV", "USR2", "PIPE",   "ALRM", "TERM",   "STKFLT", "CHLD", "CONT", "STOP", "TSTP", "TTIN",
    "TTOU", "URG",  "XCPU",   "XFSZ", "VTALRM", "PROF", "WINCH", "IO",   "PWR",  "SYS"};

// The condition's name ("EXIT", "ERR", "INT"...), or "" when it is none.
std::string condition(std::string_view spec) {
  std::string u;
  for (char c : spec.substr(0, 16)) u.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
  if (spec.size() > 16) return "";
  if (!u.empty() && std::all_of(u.begin(), u.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    size_t n = std::stoul(u);
    return n < std::size(kSignals) ? kSignals[n] : "";
  }
  if (u.rfind("SIG", 0) == 0) u.erase(0, 3);
  if (u == "ERR" || u == "DEBUG" || u == "RETURN") return u;
  for (const char* s : kSignals) {
    if (u == s) return u;
  }
  return "";
}

}  // namespace

std::string_view signal_name(int n) {
  return n > 0 && static_cast<size_t>(n) < std::size(kSignals) ? kSignals[n] : "";
}

int signal_number(std::string_view spec) {
  std::string name = condition(spec);
  for (size_t k = 1; k < std::size(kSignals); ++k) {
    if (name == kSignals[k]) return static_cast<int>(k);
  }
  return spec == "0" ? 0 : -1;
}

std::string signal_table() {
  std::string out;
  for (size_t k = 1; k < std::size(kSignals); ++k) {
    std::string n = std::to_string(k);
    out += (n.size() < 2 ? " " : "") + n + ") SIG" + kSignals[k] + (k % 5 == 0 ? "\n" : "\t");
  }
  if (out.back() == '\t') out.back() = '\n';
  return out;
}

namespace {

int condition_number(const std::string& name) {
  for (size_t k = 0; k < std::size(kSignals); ++k) {
    if (name == kSignals[k]) return static_cast<int>(k);
  }
  return 100;  // ERR after the signals
}

std::string single_quoted(std::string_view s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  return out + "'";
}

// trap [-lp] [[ACTION] CONDITION...]: bash's. ACTION `-` (or a lone CONDITION) resets, '' ignores.
int b_trap(Ctx& ctx, State& st, const std::vector<std::string_view>& args, const Io& io,
           std::atomic<uint64_t>* out_b, std::atomic<uint64_t>* err_b) {
  auto say = [&](const std::string& m, int status) {
    emit(ctx, io.err(), "wasmcap sh: trap: " + m + "\n", err_b);
    return status;
  };
  std::vector<std::string_view> a = args;
  bool print = false;
  if (!a.empty() && a[0] == "-l") {
    emit(ctx, io.out(), signal_table(), out_b);
    return 0;
  }
  if (!a.empty() && a[0] == "-p") {
    print = true;
    a.erase(a.begin());
  } else if (!a.empty() && a[0] == "--") {
    a.erase(a.begin());
  } else if (!a.empty() && a[0].size() > 1 && a[0][0] == '-' && condition(a[0]).empty()) {
    return say(shown(a[0]) + ": invalid option\ntrap: usage: trap [-lp] [[arg] signal_spec ...]",
               2);
  }
  if (a.empty() || print) {  // the handlers, as commands that set them again
    std::vector<std::pair<int, std::string>> set;
    for (const auto& [name, text] : st.traps) {
      bool wanted = a.empty();
      for (auto n : a) wanted = wanted || condition(n) == name;
      if (wanted) set.emplace_back(condition_number(name), name);
    }
    std::sort(set.begin(), set.end());
    std::string out;
    for (const auto& [num, name] : set) {
      out += "trap -- " + single_quoted(view(st.traps.at(name))) + " " +
             (name == "EXIT" || name == "ERR" ? name : "SIG" + name) + "\n";
    }
    emit(ctx, io.out(), out, out_b);
    return 0;
  }
  bool reset = a[0] == "-" || (a.size() == 1 && !condition(a[0]).empty());
  size_t first = reset && a[0] == "-" ? 1 : (a.size() == 1 ? 0 : 1);
  int status = 0;
  for (size_t k = first; k < a.size(); ++k) {
    std::string name = condition(a[k]);
    if (name.empty()) {
      status = say(shown(a[k]) + ": invalid signal specification", 1);
      continue;
    }
    if (name == "DEBUG" || name == "RETURN") {
      status = say(name + " traps are not supported by wasmcap sh", 1);
      continue;
    }
    if (reset) {
      st.traps.erase(name);
    } else {
      st.traps.insert_or_assign(name, ctx.str(a[0]));
    }
  }
  return status;
}

// Runs a handler in the shell's state; $? inside it is `status`. Returns whether it ran `exit`.
bool run_handler(Ctx& ctx, State& st, const Io& io, std::string_view text, int status) {
  std::string code(text);
  st.in_trap = true;
  st.last = status;
  run_script_text(ctx, st, code, io, "trap");
  st.in_trap = false;
  return st.exit_requested;
}

// getopts OPTSTRING NAME [ARG...]: POSIX's and bash's. Parses the words (else $1...) one option a
// call: NAME is the letter, OPTARG its argument, OPTIND the next word; the letter inside a word
// is State::getopts_char (reset when OPTIND is assigned). A leading ':' in OPTSTRING is the
// silent mode (no message; NAME ':' or '?' with OPTARG the letter); OPTERR=0 silences too.
// Status 1 at the end of the options (NAME '?'), 2 on a usage error.
int b_getopts(Ctx& ctx, State& st, const std::vector<std::string_view>& a, const Io& io,
              std::atomic<uint64_t>* err_b) {
  auto say = [&](const std::string& m) { emit(ctx, io.err(), m, err_b); };
  if (a.size() < 2) {
    say("wasmcap sh: getopts: usage: getopts optstring name [arg ...]\n");
    return 2;
  }
  std::string_view opts = a[0], name = a[1];
  bool ok = !name.empty() && detail::is_name_start(name[0]);
  for (char c : name) ok = ok && detail::is_name_char(c);
  if (!ok) {
    say("wasmcap sh: getopts: `" + shown(name) + "': not a valid identifier\n");
    return 1;
  }
  std::vector<std::string_view> args;
  if (a.size() > 2) {
    args.assign(a.begin() + 2, a.end());
  } else {
    for (const auto& p : st.positional) args.push_back(view(p));
  }
  bool silent = !opts.empty() && opts[0] == ':';
  if (silent) opts.remove_prefix(1);
  std::string tmp;
  auto opterr = param_value(st, "OPTERR", &tmp);
  bool report = !silent && !(opterr && *opterr == "0");
  size_t ind = 1;
  if (auto v = param_value(st, "OPTIND", &tmp)) {
    long long n = 0;
    auto [p, ec] = std::from_chars(v->data(), v->data() + v->size(), n);
    if (ec == std::errc() && p == v->data() + v->size() && n > 0) ind = static_cast<size_t>(n);
  }
  size_t pos = st.getopts_char;
  auto finish = [&](std::string_view letter, std::optional<std::string_view> optarg) {
    set_var(ctx, st, name, ctx.str(letter));
    if (optarg) {
      set_var(ctx, st, "OPTARG", ctx.str(*optarg));
    } else {
      check_writable(st, "OPTARG");
      unset_var(st, "OPTARG");
    }
    set_var(ctx, st, "OPTIND", ctx.str(std::to_string(ind)));
    st.getopts_char = pos;  // after OPTIND's assignment, which resets it
  };
  auto at_end = [&](size_t next) {
    ind = next;
    pos = 0;
    finish("?", std::nullopt);
    return 1;
  };
  if (ind > args.size()) return at_end(ind);
  std::string_view word = args[ind - 1];
  if (pos == 0 || pos >= word.size()) {
    if (word.size() < 2 || word[0] != '-') return at_end(ind);
    if (word == "--") return at_end(ind + 1);
    pos = 1;
  }
  char c = word[pos++];
  bool last = pos >= word.size();
  auto next_word = [&] {
    ++ind;
    pos = 0;
  };
  std::string letter(1, c);
  std::string arg0 = shown(st.arg0);
  size_t spec = c == ':' ? std::string_view::npos : opts.find(c);
  if (spec == std::string_view::npos) {
    if (report) say(arg0 + ": illegal option -- " + shown(letter) + "\n");
    if (last) next_word();
    finish("?", silent ? std::optional<std::string_view>(letter) : std::nullopt);
    return 0;
  }
  if (spec + 1 < opts.size() && opts[spec + 1] == ':') {
    std::string_view optarg;
    if (!last) {
      optarg = word.substr(pos);
    } else if (ind < args.size()) {
      optarg = args[ind];
      ++ind;
    } else {
      if (report) say(arg0 + ": option requires an argument -- " + shown(letter) + "\n");
      next_word();
      if (silent) {
        finish(":", letter);
      } else {
        finish("?", std::nullopt);
      }
      return 0;
    }
    next_word();
    finish(letter, optarg);
    return 0;
  }
  if (last) next_word();
  finish(letter, std::nullopt);
  return 0;
}

}  // namespace

void run_exit_trap(Ctx& ctx, State& st, const Io& io) {
  auto it = st.traps.find("EXIT");
  if (it == st.traps.end() || it->second.empty() || st.in_trap || ctx.stopped()) return;
  Str text = std::move(it->second);  // (moved, not copied: nothing to charge, nothing throws)
  st.traps.erase(it);  // runs once: an `exit` inside it does not run it again
  int status = st.last;
  bool was_exiting = st.exit_requested;
  st.exit_requested = false;
  st.flow = State::Flow::kNone;
  if (!run_handler(ctx, st, io, view(text), status)) {
    st.last = status;  // the shell's status is the one it had, unless the handler exits
    st.exit_requested = was_exiting;
  }
}

void run_err_trap(Ctx& ctx, State& st, const Io& io, int code) {
  auto it = st.traps.find("ERR");
  if (it == st.traps.end() || it->second.empty() || st.in_trap || ctx.stopped()) return;
  std::string text(view(it->second));  // the handler may replace itself while it runs
  if (!run_handler(ctx, st, io, text, code)) st.last = code;
}

bool is_ctl_builtin(std::string_view n) {
  return n == "shopt" || n == "trap" || n == "getopts";
}

int run_ctl_builtin(Ctx& ctx, State& st, const Vec<Str>& argv, const Io& io,
                    std::atomic<uint64_t>* out_b, std::atomic<uint64_t>* err_b) {
  std::vector<std::string_view> a;
  for (size_t k = 1; k < argv.size(); ++k) a.push_back(view(argv[k]));
  std::string_view n = view(argv[0]);
  if (n == "shopt") return b_shopt(ctx, st, a, io, out_b, err_b);
  if (n == "trap") return b_trap(ctx, st, a, io, out_b, err_b);
  if (n == "getopts") return b_getopts(ctx, st, a, io, err_b);
  return 127;
}

}  // namespace wasmcap::shell

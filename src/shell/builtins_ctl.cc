// Builtins for the shell's control (docs/shell.md "Commands"): shopt. Kept apart from
// builtins.cc (the variable and I/O builtins) so each file stays small.
#include "shell/state.h"

namespace wasmcap::shell {

namespace {

// bash's shopt options this shell implements, and where each lives in the state.
struct ShoptOption {
  const char* name;
  bool State::*flag;
};
constexpr ShoptOption kShoptOptions[] = {
    {"lastpipe", &State::opt_lastpipe},
    {"nocasematch", &State::opt_nocasematch},
};

// bash's other shopt options: accepted by name, refused when set (never silently ignored), and
// reported off.
constexpr const char* kShoptOthers[] = {
    "autocd", "assoc_expand_once", "cdable_vars", "cdspell", "checkhash", "checkjobs",
    "checkwinsize", "cmdhist", "compat31", "compat32", "compat40", "compat41", "compat42",
    "compat43", "compat44", "complete_fullquote", "direxpand", "dirspell", "dotglob", "execfail",
    "expand_aliases", "extdebug", "extglob", "extquote", "failglob", "force_fignore",
    "globasciiranges", "globskipdots", "globstar", "gnu_errfmt", "histappend", "histreedit",
    "histverify", "hostcomplete", "huponexit", "inherit_errexit", "interactive_comments",
    "lithist", "localvar_inherit", "localvar_unset", "login_shell", "mailwarn",
    "no_empty_cmd_completion", "nocaseglob", "noexpand_translation", "nullglob",
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

}  // namespace

bool is_ctl_builtin(std::string_view n) { return n == "shopt"; }

int run_ctl_builtin(Ctx& ctx, State& st, const Vec<Str>& argv, const Io& io,
                    std::atomic<uint64_t>* out_b, std::atomic<uint64_t>* err_b) {
  std::vector<std::string_view> a;
  for (size_t k = 1; k < argv.size(); ++k) a.push_back(view(argv[k]));
  std::string_view n = view(argv[0]);
  if (n == "shopt") return b_shopt(ctx, st, a, io, out_b, err_b);
  return 127;
}

}  // namespace wasmcap::shell

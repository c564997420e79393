// Nested shells (`sh -c ...`, `bash FILE`) and scripts run by path (`./tool.py` with its `#!`
// line): what they ask for is parsed in nested.cc; here they run on the executor
// (docs/shell.md "Nested shells and `#!` scripts").
#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include "shell/commands.h"
#include "shell/lex.h"
#include "shell/nested.h"
#include "shell/parse.h"
#include "shell/state.h"

namespace wasmcap::shell {

// Reads at most `limit` bytes of `fd` into a charged string; false on a read error. Waits in
// slices so that the deadline (budget check, throws LimitHit) also ends a wait on a terminal or
// a pipe whose writer never finishes (`sh` reading its script from stdin).
ssize_t read_waiting(Ctx& ctx, int fd, char* buf, size_t n) {
  for (;;) {
    ctx.budget->check();
    struct pollfd p = {fd, POLLIN, 0};
    int ready = ::poll(&p, 1, 50);
    if (ready < 0 && errno == EINTR) continue;
    if (ready < 0) return -1;
    if (ready == 0) continue;
    ssize_t r = ::read(fd, buf, n);
    if (r < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    return r;
  }
}

bool read_bounded(Ctx& ctx, int fd, size_t limit, Str* out) {
  char buf[16384];
  while (out->size() < limit) {
    ssize_t n = read_waiting(ctx, fd, buf, std::min(sizeof buf, limit - out->size()));
    if (n < 0) return false;
    if (n == 0) break;
    out->append(buf, static_cast<size_t>(n));
  }
  return true;
}

namespace {

// The variables a nested shell inherits: the exported ones (`export`, and the environment the
// session started with), at their current values, as in sh.
void inherit_exported(const State& from, State& to) {
  for (const auto& [name, unused] : from.exported) {
    auto it = from.vars.find(view(name));
    if (it != from.vars.end()) to.vars.emplace(it->first, it->second);
    to.exported.emplace(name, unused);
  }
}

// bash's start-up directory: an exported PWD that names the working directory is kept (the
// logical path, through whatever links the caller cd'd); otherwise the shell starts in the
// physical path (`unset PWD; sh -c pwd` prints where the links lead). Either way PWD is set and
// exported, as bash does.
void start_in_directory(Ctx& ctx, const std::string& cwd, State& child) {
  std::string tmp;
  std::string pwd;
  bool keep = false;
  if (auto v = param_value(child, "PWD", &tmp); v && !v->empty() && v->front() == '/' &&
      child.exported.find(std::string_view("PWD")) != child.exported.end()) {
    pwd = std::string(*v);
    auto a = stat_guest(ctx, "/", pwd);
    auto b = stat_guest(ctx, "/", cwd);
    keep = a && b && S_ISDIR(a->st_mode) && a->st_dev == b->st_dev && a->st_ino == b->st_ino;
  }
  if (keep) {
    child.cwd = pwd;
  } else {
    auto physical = guest_directory(ctx, "/", cwd, true);
    if (physical) child.cwd = *physical;
  }
  try {
    set_var(ctx, child, "PWD", ctx.str(child.cwd));
  } catch (const AssignError&) {  // (attributes are not inherited: not readonly here)
  }
  if (child.exported.find(std::string_view("PWD")) == child.exported.end()) {
    child.exported.emplace(ctx.str("PWD"), VarValue());
  }
}

}  // namespace

// `sh ARGS` / `bash ARGS`: a nested shell in the same sandbox and on the same session counters
// (commands, output, live commands, deadline, memory budget): its own state (variables: the
// exported ones; cwd: the caller's), parsed and run like the top-level script. Its parse error
// or a refused option is its status 2, as sh.
int run_nested_shell(Ctx& ctx, const State& st, const Vec<Str>& argv, const Io& io,
                     std::atomic<uint64_t>* err_b) {
  const int fds[3] = {io.fd[0], io.fd[1], io.fd[2]};
  auto say = [&](const std::string& m) { emit(ctx, fds[2], "wasmcap sh: " + m + "\n", err_b); };
  if (st.nesting >= kMaxNestedShells) {
    say(shown(view(argv[0])) + ": nested shells are at most " + std::to_string(kMaxNestedShells) +
        " deep");
    return 2;
  }
  std::vector<std::string_view> words;
  for (const auto& w : argv) words.push_back(view(w));
  auto inv = parse_nested_argv(words, set_option_settable);
  if (!inv) {
    say(inv.error().message);
    return 2;
  }
  constexpr size_t kMaxScript = 16u << 20;  // as a script FILE of `wasmcap sh`
  // A script on stdin (`... | sh`, `sh -s`) is read as it runs, as the session's own
  // (input.cc): its commands read the rest of that stdin, as bash's do.
  const bool from_stdin = inv->source == NestedInvocation::Source::kStdin;
  Str text = ctx.str();
  if (inv->source == NestedInvocation::Source::kString) {
    text.assign(inv->text.data(), inv->text.size());
  } else if (inv->source == NestedInvocation::Source::kFile) {
    auto f = open_redirect(ctx, st.cwd, inv->text, O_RDONLY);
    if (!f) {
      say(f.error().message);  // (names the path)
      return 127;
    }
    Fd owned = std::move(*f);
    if (!read_bounded(ctx, owned.get(), kMaxScript + 1, &text) || text.size() > kMaxScript) {
      say(shown(view(argv[0])) + ": cannot read the script (at most 16 MiB)");
      return 2;
    }
  }
  uint64_t ast_bytes = 0;
  Budget::Lease copy(ctx.budget, text.size());  // the parser's copy of the text
  std::string source(view(text));
  auto script = from_stdin ? Result<Script>(Script{})
                           : parse(source, nullptr, ctx.budget, &ast_bytes);
  Budget::Lease ast(ctx.budget, ast_bytes, Budget::Lease::kAdopt);
  State child(ctx.budget);
  // A syntax error: nothing runs, unless aliases may make it parse (read_as_bash).
  bool by_units = !script && script.error().code == ErrorCode::kInvalidArgument &&
                  read_as_bash(ctx, child, source);
  if (!script && !by_units) {
    say(shown(inv->arg0) + ": " + script.error().message);
    return 2;
  }
  child.cwd = st.cwd;
  child.job_kill = st.job_kill;  // inside a job (or a timeout): its kill ends this shell too
  child.nesting = st.nesting + 1;
  child.depth = st.depth;  // the executor's recursion bound spans nested shells
  child.max_depth = st.max_depth;  // (on this thread's stack)
  child.jobs = std::make_shared<Jobs>();
  child.arg0 = inv->arg0;
  child.user = st.user;
  child.command_string = inv->source == NestedInvocation::Source::kString;
  child.interactive = inv->interactive;
  child.opt_expand_aliases = inv->interactive;  // bash -i expands aliases
  for (const auto& a : inv->args) child.positional.push_back(ctx.str(a));
  inherit_exported(st, child);
  start_in_directory(ctx, st.cwd, child);
  child.pids = st.pids;
  child.pid = child.bashpid = ++*st.pids;
  child.random = st.random;
  init_shell_vars(ctx, child, st.bashpid);
  for (const auto& [opt, on] : inv->options) apply_set_option(child, opt, on);  // (settable)
  Io cio;
  for (int k = 0; k < 3; ++k) cio.fd[k] = fds[k];
  if (from_stdin) {
    run_input(ctx, child, fds[0], cio, shown(inv->arg0).c_str());
  } else if (by_units) {
    run_units(ctx, child, source, 0, 1, cio, shown(inv->arg0).c_str());
  } else {
    run_lines(ctx, child, source, script->items, cio, shown(inv->arg0).c_str());
  }
  run_exit_trap(ctx, child, cio);
  return child.last;
}

// A command word holding '/' names a script (`./tool.py`): it must be a readable, executable
// regular file beneath a preopen. Its `#!` line (read through the same resolver as a
// redirection) names the interpreter, a command looked up like any other; without one it is a
// shell script. argv becomes INTERPRETER [ARG] PATH ARGS... (PATH made absolute: the tool's
// working directory is not the shell's). Returns -1 when argv is ready, else a status.
int prepare_script(Ctx& ctx, const State& st, Vec<Str>& argv, int err, std::atomic<uint64_t>* err_b) {
  auto say = [&](const std::string& m) { emit(ctx, err, "wasmcap sh: " + m + "\n", err_b); };
  std::string path(view(argv[0]));
  auto f = open_redirect(ctx, st.cwd, path, O_RDONLY);
  if (!f) {
    say(f.error().message);  // (names the path)
    return 127;
  }
  struct stat sb;
  if (::fstat(f->get(), &sb) != 0 || !S_ISREG(sb.st_mode) || (sb.st_mode & 0111) == 0) {
    say(shown(path) + ": Permission denied (not an executable file)");
    return 126;
  }
  Str head = ctx.str();
  if (!read_bounded(ctx, f->get(), kMaxShebangBytes + 1, &head)) {
    say(shown(path) + ": cannot read it");
    return 126;
  }
  auto sb_line = parse_shebang(view(head));
  if (!sb_line) {
    say(shown(path) + ": " + sb_line.error().message);
    return 126;
  }
  std::string interp = sb_line->interpreter.empty() ? "sh" : sb_line->interpreter;
  auto where = resolve_guest(ctx, st.cwd, path);  // opened above: it resolves
  if (!where) return 127;
  argv[0] = ctx.str(where->guest);
  if (!sb_line->arg.empty()) argv.insert(argv.begin(), ctx.str(sb_line->arg));
  argv.insert(argv.begin(), ctx.str(interp));
  return -1;
}

// `env [-i] [-u NAME]... [--] [NAME=VALUE]... COMMAND [ARG]...`: the env tool cannot start a
// program, so the shell runs COMMAND as env would (a program, run_words: never a function), in a
// copy of the state with the environment changed and the assignments exported. nullopt: no
// COMMAND, or an option below does not handle: the env tool's (it prints the environment, or
// says what it cannot do).
std::optional<int> run_env(Ctx& ctx, const State& st, const Vec<Str>& argv, const Io& io) {
  // GNU env's options that change the command's environment: -i / --ignore-environment / a
  // lone "-" (start from an empty one), -u NAME / -uNAME / --unset[=]NAME (remove NAME); short
  // options may be grouped (-iu NAME). Anything else (-0, -v, -S, -C, a bad option) is left to
  // the env tool, which prints the environment or the error, as GNU's does.
  size_t k = 1;
  bool ignore = false;
  std::vector<std::string> unset;
  while (k < argv.size()) {
    std::string_view a = view(argv[k]);
    if (a == "--") {
      ++k;
      break;
    }
    if (a == "-" || a == "--ignore-environment") {
      ignore = true;
      ++k;
      continue;
    }
    if (a == "--unset") {
      if (k + 1 >= argv.size()) return std::nullopt;
      unset.emplace_back(view(argv[k + 1]));
      k += 2;
      continue;
    }
    if (a.substr(0, 8) == "--unset=") {
      unset.emplace_back(a.substr(8));
      ++k;
      continue;
    }
    if (a.size() < 2 || a[0] != '-' || a[1] == '-') break;
    ++k;
    for (size_t c = 1; c < a.size(); ++c) {
      if (a[c] == 'i') {
        ignore = true;
      } else if (a[c] == 'u') {
        if (c + 1 < a.size()) {
          unset.emplace_back(a.substr(c + 1));
        } else if (k < argv.size()) {
          unset.emplace_back(view(argv[k++]));
        } else {
          return std::nullopt;
        }
        break;
      } else {
        return std::nullopt;
      }
    }
  }
  for (const std::string& n : unset) {
    // GNU refuses a name with '=' or an empty one ("cannot unset"): its tool says so.
    if (n.empty() || n.find('=') != std::string::npos) return std::nullopt;
  }
  size_t first = k;
  auto assignment = [](std::string_view w) {
    size_t eq = w.find('=');
    if (eq == std::string_view::npos || eq == 0 || !detail::is_name_start(w[0])) return false;
    for (char c : w.substr(0, eq)) {
      if (!detail::is_name_char(c)) return false;
    }
    return true;
  };
  while (k < argv.size() && assignment(view(argv[k]))) ++k;
  if (k == argv.size() || view(argv[k]).empty() || view(argv[k])[0] == '-') return std::nullopt;
  State sub = st.subshell();
  if (ignore) {
    // The command starts with no environment: every exported variable is gone (the shell's own,
    // unexported ones, PATH among them, are not an environment).
    std::vector<std::string> names;
    for (const auto& e : sub.exported) names.emplace_back(view(e.first));
    for (const std::string& n : names) unset_var(sub, n);
  }
  for (const std::string& n : unset) {
    if (sub.exported.find(std::string_view(n)) != sub.exported.end()) unset_var(sub, n);
  }
  for (size_t j = first; j < k; ++j) {
    std::string_view w = view(argv[j]);
    size_t eq = w.find('=');
    set_var(ctx, sub, w.substr(0, eq), ctx.str(w.substr(eq + 1)));
    if (sub.exported.find(w.substr(0, eq)) == sub.exported.end()) {
      sub.exported.emplace(ctx.str(w.substr(0, eq)), VarValue());
    }
  }
  Vec<Str> words(argv.begin() + static_cast<long>(k), argv.end(), ctx.alloc());
  return run_words(ctx, sub, std::move(words), io).code;
}

}  // namespace wasmcap::shell

// The shell's executor (docs/shell.md): simple commands (builtins, functions, tools) and
// compound commands; the lists they are combined into (pipelines, and-or lists, background
// jobs): lists.cc. Every container of shell state allocates through the session's Budget
// (budget.h), which also carries the deadline: the executor's own work is bounded like a guest's.
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstring>
#include <optional>

#include "common/escape.h"
#include "shell/commands.h"
#include "shell/lex.h"
#include "shell/pattern.h"
#include "shell/state.h"

namespace wasmcap::shell {

// tool.cc
bool audit_command_start(Ctx& ctx, const Vec<Str>& argv);
void audit_command(Ctx& ctx, const Vec<Str>& argv, const std::string& kind, int exit_code,
                   double ms, uint64_t out_b, uint64_t err_b);
std::optional<int> run_tool(Ctx& ctx, State& st, const Vec<Str>& argv,
                            const Vec<std::pair<std::string_view, Str>>& assigns, const Io& io,
                            std::atomic<uint64_t>& out_b, std::atomic<uint64_t>& err_b);

bool stopping(Ctx& ctx, const State& st) {
  return st.exit_requested || st.abort_line || st.flow != State::Flow::kNone || job_killed(st) ||
         ctx.stopped();
}

namespace {



// Declaration builtins take NAME=value words as assignments (no splitting, no globbing).
bool is_declaration(const Word& w) {
  if (w.parts.size() != 1 || w.parts[0].kind != WordPart::Kind::kLiteral || w.parts[0].quoted) {
    return false;
  }
  const std::string& t = w.parts[0].text;
  return t == "local" || t == "export" || t == "declare" || t == "typeset" || t == "readonly";
}

// The words of a simple command, expanded. After a declaration builtin, NAME=value words are
// expanded as assignments.
void expand_words(Ctx& ctx, State& st, const Command& cmd, const Io& io, int* subst_status,
                  Vec<Str>& argv) {
  bool decl = !cmd.words.empty() && is_declaration(cmd.words[0]);
  for (size_t k = 0; k < cmd.words.size(); ++k) {
    const Word& w = cmd.words[k];
    if (decl && k > 0 && !w.parts.empty() && w.parts[0].kind == WordPart::Kind::kLiteral &&
        !w.parts[0].quoted) {
      const std::string& t = w.parts[0].text;
      size_t eq = t.find('=');
      if (eq != std::string::npos && eq > 0) {
        Word value = w;
        value.parts[0].text.erase(0, eq + 1);
        Str v = ctx.str(std::string_view(t).substr(0, eq + 1));
        v.append(expand_string(ctx, st, value, io, subst_status));
        argv.push_back(std::move(v));
        ctx.budget->check_words(argv.size());
        continue;
      }
    }
    expand(ctx, st, w, true, io, subst_status, argv);
  }
}

// set -x: the command on stderr, words quoted where needed so the line reads back. (Built with
// append: GCC 12 -O3 reports a bogus -Wrestrict on `a + b` temporaries here.)
// The prefix is PS4 expanded as a here-document's body is (parameters, $(...), arithmetic), its
// first character repeated once per nesting level (bash: `++ cmd` inside eval); nothing when
// PS4 is unset or empty. As bash: an expansion error is reported and PS4 is used as written,
// the expansion itself is not traced, and $? stays the command's.
std::string trace_prefix(Ctx& ctx, State& st, const Io& io) {
  std::string tmp;
  auto ps4 = param_value(st, "PS4", &tmp);
  if (!ps4 || ps4->empty()) return {};
  std::string text(*ps4);
  if (text.find_first_of("$`\\") != std::string::npos) {
    detail::ScopedParse parse(ctx.budget);  // every trace line parses PS4 again
    detail::Lexer lx(text, 0, st.lineno, 0, &parse.pc);
    auto w = lx.heredoc_body();
    if (w) {
      struct Quiet {  // no trace of the expansion's own commands; $? kept
        State& st;
        bool xtrace = st.opt_xtrace;
        int last = st.last;
        ~Quiet() {
          st.opt_xtrace = xtrace;
          st.last = last;
        }
      } quiet{st};
      st.opt_xtrace = false;
      try {
        text = std::string(view(expand_string(ctx, st, *w, io, nullptr)));
      } catch (const ExpansionError&) {  // reported by the expansion: PS4 as written
      }
    }
  }
  if (text.empty()) return {};
  return std::string(static_cast<size_t>(std::clamp(st.trace_depth, 0, 1000)), text[0]) + text;
}

// A word of a trace line: as it is when it reads back as itself, else in '...' (bash's). Bytes
// other than printable ASCII are \xNN (a trace goes to a terminal: no control byte reaches
// it), a backslash stays one (`+ echo 'a\b'`, as bash's), at most 256 bytes then "...".
std::string trace_word(std::string_view w) {
  auto shown = [](std::string_view s) { return text::escape_ascii(s, 256, ""); };
  bool plain = !w.empty();
  for (char c : w) {
    plain = plain && (std::isalnum(static_cast<unsigned char>(c)) ||
                      std::strchr("_-./=:,+@%", c) != nullptr);
  }
  if (plain) return shown(w);
  std::string q(1, '\'');
  for (char c : w) {
    if (c == '\'') {
      q.append("'\\''");
    } else {
      q.push_back(c);
    }
  }
  q.push_back('\'');
  return shown(q);
}

void trace(Ctx& ctx, State& st, const Vec<Str>& argv,
           const Vec<std::pair<std::string_view, Str>>& assigns, const Io& io) {
  std::string line = shown(trace_prefix(ctx, st, io));
  bool first = true;
  auto add = [&line, &first](std::string_view w, std::string_view prefix) {
    if (!first) line.push_back(' ');
    first = false;
    line.append(prefix.data(), prefix.size());
    if (prefix.empty() || !w.empty()) line.append(trace_word(w));  // `x= cmd`: x= (bash)
  };
  for (const auto& [k, v] : assigns) {
    std::string prefix(k);
    prefix.push_back('=');
    add(view(v), prefix);
  }
  for (const auto& a : argv) add(view(a), {});
  line.push_back('\n');
  emit(ctx, io.err(), line);
}

// A function call: its arguments are the positional parameters, `local` saves into its frame,
// `return` ends it. Bounded depth (kMaxFunctionDepth): a recursive function is host recursion.
int call_function(Ctx& ctx, State& st, const Command& body, const Vec<Str>& argv,
                  const Io& io) {
  if (st.func_depth >= kMaxFunctionDepth) {
    emit(ctx, io.err(), "wasmcap sh: " + shown(view(argv[0])) +
                            ": maximum function nesting level exceeded (" +
                            std::to_string(kMaxFunctionDepth) + ")\n");
    return 1;
  }
  Vec<Str> args(ctx.alloc());
  for (size_t k = 1; k < argv.size(); ++k) args.push_back(argv[k]);
  std::swap(st.positional, args);
  ++st.func_depth;
  int loops = st.loops;
  st.loops = 0;  // break/continue do not cross a function boundary
  st.frames.emplace_back();
  int code = run_command(ctx, st, body, io);
  for (auto it = st.frames.back().rbegin(); it != st.frames.back().rend(); ++it) {
    restore_var(ctx, st, *it);
  }
  st.frames.pop_back();
  st.loops = loops;
  --st.func_depth;
  std::swap(st.positional, args);
  if (st.flow == State::Flow::kReturn) {
    st.flow = State::Flow::kNone;
    code = st.last;
  }
  return code;
}

// `exec` without a command: its redirections (already applied: `io` before, `rio` after) hold
// for the rest of the shell. The files they opened move into the shell's state; those no
// descriptor uses any more are closed (`exec 3>a; exec 3>b` keeps one file open, not two).
void persist_redirects(State& st, const Io& io, const Io& rio, Opened& opened) {
  auto next = std::make_shared<State::ExecFds>(st.exec_fds ? *st.exec_fds : State::ExecFds{});
  ++st.exec_gen;
  for (int k = 0; k < kMaxFds; ++k) {
    if (rio.fd[k] != io.fd[k]) {
      next->fd[k] = rio.fd[k];
      next->gen[k] = st.exec_gen;
    }
  }
  for (auto& f : opened.fds) next->owned.push_back(std::make_shared<Fd>(std::move(f)));
  opened.fds.clear();
  std::vector<std::shared_ptr<Fd>> used;
  for (auto& f : next->owned) {
    if (std::find(std::begin(next->fd), std::end(next->fd), f->get()) != std::end(next->fd)) {
      used.push_back(f);
    }
  }
  next->owned = std::move(used);
  st.exec_fds = std::move(next);
  opened.named.clear();  // kept already
}

// A descriptor a simple command's {NAME} redirection opened stays open in the shell after the
// command, as after `exec` (bash without varredir_close); closed by `{NAME}>&-` or `exec
// N>&-`. One that duplicates another (`{v}>&1`, `{v}>/dev/stdout`) is a copy of its own, which
// outlives the command's descriptors. Bounded: descriptors above kMaxFds - 1 are refused.
void keep_named_fds(State& st, const Io& io, const Io& rio, Opened& opened) {
  if (opened.named.empty()) return;
  Io keep = io;
  for (int k : opened.named) {
    int fd = rio.fd[k];
    keep.fd[k] = fd;
    if (fd < 0 || std::any_of(opened.fds.begin(), opened.fds.end(),
                              [fd](const Fd& f) { return f.get() == fd; })) {
      continue;
    }
    int copy = ::fcntl(fd, F_DUPFD_CLOEXEC, 10);
    keep.fd[k] = copy < 0 ? kClosed : copy;
    if (copy >= 0) opened.fds.emplace_back(copy);
  }
  persist_redirects(st, io, keep, opened);
}

// NAME+=v: the old value, then the new; for an integer (-i) variable, the expression old+(v)
// (an unset old value counts as 0).
Str appended(Ctx& ctx, const State& st, const std::string& name,
             std::optional<std::string_view> old, Str v) {
  if (attrs_of(st, name) & kAttrInteger) {
    Str sum = ctx.str(old ? *old : std::string_view("0"));
    sum.append("+(");
    sum.append(v);
    sum.push_back(')');
    return sum;
  }
  if (!old) return v;
  Str joined = ctx.str(*old);
  joined.append(v);
  return joined;
}

// The k-th assignment of a command of assignments only: NAME=value, NAME+=value,
// NAME[i]=value, NAME=(...), NAME+=(...). set -x traces each.
void assign(Ctx& ctx, State& st, const Command& cmd, size_t k, const Io& io, int* subst_status) {
  const auto& [name, w] = cmd.assigns[k];
  const Command::AssignTarget* t =
      k < cmd.assign_targets.size() ? &cmd.assign_targets[k] : nullptr;
  bool append = t != nullptr && t->append;
  if (w.parts.size() == 1 && w.parts[0].kind == WordPart::Kind::kArray) {
    Vec<Str> values(ctx.alloc());
    std::vector<std::optional<Str>> keys;
    expand_array(ctx, st, *w.parts[0].elems, io, subst_status, values, keys);
    if (st.opt_xtrace) {
      std::string line = shown(trace_prefix(ctx, st, io));
      line += name;
      line += append ? "+=(" : "=(";
      for (size_t i = 0; i < values.size(); ++i) {
        if (i > 0) line += ' ';
        line += trace_word(view(values[i]));
      }
      emit(ctx, io.err(), line + ")\n");
    }
    assign_array(ctx, st, name, values, keys, append);
    return;
  }
  Str v = expand_string(ctx, st, w, io, subst_status);
  std::optional<int64_t> index;
  if (t != nullptr && t->index && find_assoc(st, name) != nullptr) {  // NAME[key]=value
    Str key = expand_string(ctx, st, *t->index, io, subst_status);
    if (st.opt_xtrace) {
      std::string line = shown(trace_prefix(ctx, st, io));
      line += name + "[" + shown(view(key)) + "]" + (append ? "+=" : "=") + trace_word(view(v));
      emit(ctx, io.err(), line + "\n");
    }
    if (append) {
      const Assoc* as = find_assoc(st, name);
      auto e = as->elems.find(view(key));
      std::optional<std::string_view> old;
      if (e != as->elems.end()) old = view(e->second.value);
      v = appended(ctx, st, name, old, std::move(v));
    }
    set_assoc_element(ctx, st, name, std::move(key), std::move(v));
    return;
  }
  if (t != nullptr && t->index) {
    Str e = expand_string(ctx, st, *t->index, io, subst_status);
    auto i = arith_eval(ctx, st, view(e));
    if (!i) throw AssignError{i.error().message};
    index = *i;
  }
  if (st.opt_xtrace) {
    std::string line = shown(trace_prefix(ctx, st, io));
    line += name + (index ? "[" + std::to_string(*index) + "]" : "") + (append ? "+=" : "=");
    if (!v.empty()) line += trace_word(view(v));  // `x=`: x= (bash)
    emit(ctx, io.err(), line + "\n");
  }
  if (append) {
    std::string tmp;
    std::optional<std::string_view> old;
    const ArrayElems* arr = find_array(st, name);
    if (index && arr != nullptr) {
      int64_t i = *index;
      if (i < 0 && !arr->empty()) i += arr->rbegin()->first + 1;
      auto e = arr->find(i);
      if (e != arr->end()) old = view(e->second);
    } else if (!index || *index == 0) {
      old = param_value(st, name, &tmp);
    }
    v = appended(ctx, st, name, old, std::move(v));
  }
  if (index) {
    set_element(ctx, st, name, *index, std::move(v));
  } else {
    set_var(ctx, st, name, std::move(v));
  }
}

// Runs one simple command with the given stdio. Throws LimitHit and ExpansionError.
int run_simple(Ctx& ctx, State& st, const Command& cmd, const Io& io) {
  if (ctx.stopped()) return 1;
  if (ctx.commands.fetch_add(1) >= ctx.o.max_commands && ctx.o.max_commands != 0) {
    ctx.set_fatal(Error(ErrorCode::kFuelExhausted,
                        "the script started more than " + std::to_string(ctx.o.max_commands) +
                            " commands (--max-commands)"));
    return 1;
  }
  auto start = Clock::now();
  ProcSubScope procsubs(st);  // its `<(list)`s: joined when it is done (after rio below)
  Vec<Str> argv(ctx.alloc());
  int subst_status = 0;  // a command of assignments only exits with its last substitution's
  expand_words(ctx, st, cmd, io, &subst_status, argv);
  // $_: the command's last word; empty after assignments alone; NAME after a declaration's
  // NAME=(...) (bash).
  if (argv.empty()) {
    st.last_arg = ctx.str();
  } else {
    st.last_arg = argv.back();
    const Word& w = cmd.words.back();
    bool array_literal = std::any_of(w.parts.begin(), w.parts.end(), [](const WordPart& p) {
      return p.kind == WordPart::Kind::kArray;
    });
    size_t eq = view(st.last_arg).find('=');
    if (array_literal && eq != std::string_view::npos) {
      st.last_arg.resize(eq > 0 && st.last_arg[eq - 1] == '+' ? eq - 1 : eq);
    }
  }
  Vec<std::pair<std::string_view, Str>> assigns(ctx.alloc());
  // NAME=value prefixes of a command hold for the command only; each is visible to the ones
  // after it (bash). Restored when the command is done, however it ends.
  struct Restore {
    Ctx& ctx;
    State& st;
    std::vector<State::Saved> saved;
    ~Restore() {
      for (auto it = saved.rbegin(); it != saved.rend(); ++it) restore_var(ctx, st, *it);
    }
  } restore{ctx, st, {}};
  if (argv.empty()) {  // assignments only: each in order, for good
    for (size_t k = 0; k < cmd.assigns.size(); ++k) {
      assign(ctx, st, cmd, k, io, &subst_status);
      if (ctx.stopped()) return 1;  // a substitution hit a script limit
    }
  } else {
    for (const auto& [name, w] : cmd.assigns) {
      Str v = expand_string(ctx, st, w, io, &subst_status);
      restore.saved.push_back(save_var(st, name));
      set_var(ctx, st, name, v);
      // Exported for the command's life: a function's tools see it too (bash).
      if (st.exported.find(std::string_view(name)) == st.exported.end()) {
        st.exported.emplace(ctx.str(name), VarValue());
      }
      assigns.emplace_back(name, std::move(v));
    }
  }
  if (ctx.stopped()) return 1;  // a substitution hit a script limit
  if (st.opt_xtrace && !argv.empty()) trace(ctx, st, argv, assigns, io);
  if ((!argv.empty() || !cmd.redirects.empty()) && !audit_command_start(ctx, argv)) return 1;
  Io rio = io;
  procsubs.attach(rio);
  Opened opened;
  if (!apply_redirects(ctx, st, cmd.redirects, rio, opened, &subst_status)) return 1;
  if (ctx.stopped()) return 1;  // a substitution hit a script limit
  if (argv.empty()) {
    keep_named_fds(st, io, rio, opened);
    return subst_status;
  }
  std::atomic<uint64_t> out_b{0}, err_b{0};
  auto finish = [&](const std::string& kind, int code) {
    keep_named_fds(st, io, rio, opened);
    double ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
    audit_command(ctx, argv, kind, code, ms, out_b, err_b);
    return code;
  };
  // exec: alone, its redirections stay; with a command, the shell ends with the command's
  // status (there is no process to replace).
  bool exec_then_exit = false;
  if (view(argv[0]) == "exec") {
    if (argv.size() == 1 && procsubs.any()) {
      // Its list would have to outlive the command: refused rather than cut short.
      emit(ctx, rio.err(), "wasmcap sh: exec: a process substitution cannot stay open after the "
                           "command (use `CMD < <(LIST)` or a pipeline)\n", &err_b);
      return finish("builtin", 1);
    }
    if (argv.size() == 1) {
      persist_redirects(st, io, rio, opened);
      return finish("builtin", 0);
    }
    argv.erase(argv.begin());
    exec_then_exit = true;
  }
  struct ExitAfter {
    State& st;
    bool on;
    ~ExitAfter() {
      if (on) st.exit_requested = true;
    }
  } exit_after{st, exec_then_exit};
  // `command NAME ARGS...` runs NAME, skipping functions; -v/-V report (a builtin).
  // `builtin NAME ARGS...` runs the builtin NAME (bash); the two nest (`builtin command ...`).
  bool skip_functions = false;
  for (;;) {
    if (view(argv[0]) == "command") {
      std::vector<std::string_view> words;
      for (const auto& w : argv) words.push_back(view(w));
      size_t skip = 0;
      if (!command_runs(words, &skip)) break;
      argv.erase(argv.begin(), argv.begin() + static_cast<long>(skip));
    } else if (view(argv[0]) == "builtin") {
      argv.erase(argv.begin());
      if (!argv.empty() && !is_builtin(view(argv[0]))) {
        emit(ctx, rio.err(), "wasmcap sh: builtin: " + shown(view(argv[0])) +
                                 ": not a shell builtin\n", &err_b);
        return finish("builtin", 1);
      }
    } else {
      break;
    }
    skip_functions = true;
    if (argv.empty()) return finish("builtin", 0);
  }
  if (auto prog = installed_command(ctx, st.cwd, view(argv[0]))) {  // /usr/bin/ls: ls
    argv[0] = ctx.str(*prog);
    skip_functions = true;  // a path never names a function (nor a builtin that is no program)
  }
  if (view(argv[0]).find('/') != std::string_view::npos) {  // a script by path: ./tool.py
    int code = prepare_script(ctx, st, argv, rio.err(), &err_b);
    if (code >= 0) return finish(code == 127 ? "not_found" : "script", code);
  }
  std::string_view name = view(argv[0]);
  auto fn = skip_functions ? st.funcs.end() : st.funcs.find(name);
  if (fn != st.funcs.end() || is_builtin(name)) {
    int code;
    if (fn != st.funcs.end()) {
      std::shared_ptr<const Command> body = fn->second;  // the call may redefine it
      // The NAME=value prefixes are a frame of their own around the call, as a caller's
      // locals: `unset NAME` in the function reveals the value they shadow (bash).
      // Handed back to `restore` however the call ends (frames an error left are undone).
      struct TempFrame {
        Ctx& ctx;
        State& st;
        size_t depth;
        std::vector<State::Saved>& into;
        ~TempFrame() {
          for (; st.frames.size() > depth + 1; st.frames.pop_back()) {
            auto& f = st.frames.back();
            for (auto it = f.rbegin(); it != f.rend(); ++it) restore_var(ctx, st, *it);
          }
          if (st.frames.size() == depth + 1) {
            into = std::move(st.frames.back());
            st.frames.pop_back();
          }
        }
      } temp{ctx, st, st.frames.size(), restore.saved};
      st.frames.push_back(std::move(restore.saved));
      restore.saved.clear();
      code = call_function(ctx, st, *body, argv, rio);
    } else {
      t_broken_pipe = false;
      code = run_builtin(ctx, st, argv, rio, &out_b, &err_b);
      // Its reader is gone (`while :; do echo y; done | head -1`, `head -1 <(yes-like loop)`):
      // bash is ended by SIGPIPE, status 141, unless the signal is ignored.
      auto pipe_trap = st.traps.find("PIPE");
      if (t_broken_pipe && (pipe_trap == st.traps.end() || !pipe_trap->second.empty())) {
        st.exit_requested = true;
        code = 128 + 13;
      }
      t_broken_pipe = false;
    }
    return finish(fn != st.funcs.end() ? "function" : "builtin", code);
  }
  bool script_found = false;  // its interpreter is not a hit of its own (bash: the kernel runs it)
  if (!is_nested_shell_name(name) && ctx.o.commands.count(std::string(name)) == 0) {
    // Not a bundle's command: a script on PATH beneath the preopens (files.cc)? argv then
    // starts with its interpreter, a nested shell or a command.
    if (auto path = find_path_command(ctx, st, name)) {
      hash_hit(ctx, st, name);
      script_found = true;
      argv[0] = ctx.str(*path);
      int code = prepare_script(ctx, st, argv, rio.err(), &err_b);
      if (code >= 0) return finish(code == 127 ? "not_found" : "script", code);
      name = view(argv[0]);
    }
  }
  if (!script_found &&
      (is_nested_shell_name(name) || ctx.o.commands.count(std::string(name)) != 0)) {
    hash_hit(ctx, st, name);  // bash's table: sh, ls, ... found in PATH's command directory
  }
  if (is_nested_shell_name(name)) {
    return finish("shell", run_nested_shell(ctx, st, argv, rio, &err_b));
  }
  if (find_has_exec(argv) && ctx.o.commands.count("find") != 0) {
    // The find guest cannot run commands: the shell runs the walk and the -exec actions.
    return finish("builtin", run_find_exec(ctx, st, argv, rio, &out_b, &err_b));
  }
  if (name == "env") {  // with a command: the shell runs it (the env tool cannot)
    if (auto code = run_env(ctx, st, argv, rio)) return finish("builtin", *code);
  }
  auto code = run_tool(ctx, st, argv, assigns, rio, out_b, err_b);
  if (!code) return finish("not_found", 127);
  return finish("tool", *code);
}

// A loop's body ran: consume a break or continue aimed at this loop. True: leave the loop.
bool loop_should_end(State& st) {
  if (st.flow == State::Flow::kBreak || st.flow == State::Flow::kContinue) {
    bool brk = st.flow == State::Flow::kBreak;
    if (--st.flow_count > 0) return true;  // aimed at an enclosing loop: keep unwinding
    st.flow = State::Flow::kNone;
    return brk;
  }
  return st.flow != State::Flow::kNone || st.exit_requested || st.abort_line;
}

struct LoopScope {
  explicit LoopScope(State& s) : st(s) { ++st.loops; }
  ~LoopScope() { --st.loops; }
  State& st;
};

int run_loop(Ctx& ctx, State& st, const Command& cmd, const Io& io) {
  LoopScope scope(st);
  int code = 0;
  bool exempt = false;
  for (;;) {
    ctx.budget->check();  // `while :; do :; done` ends at the deadline
    int cond;
    {
      NoErrexit quiet(st);
      cond = run_list(ctx, st, cmd.conds[0], io);
    }
    if (stopping(ctx, st)) {
      if (loop_should_end(st) || stopping(ctx, st)) break;
      continue;
    }
    if ((cond == 0) != (cmd.kind == Command::Kind::kWhile)) break;
    code = run_list(ctx, st, cmd.body, io);
    exempt = st.status_exempt;
    if (stopping(ctx, st) && loop_should_end(st)) break;
  }
  st.status_exempt = code != 0 && exempt;  // the body's, not the condition's
  return code;
}

int run_for(Ctx& ctx, State& st, const Command& cmd, const Io& io) {
  Vec<Str> items(ctx.alloc());
  if (cmd.for_in) {
    for (const Word& w : cmd.words) expand(ctx, st, w, true, io, nullptr, items);
  } else {
    items = st.positional;
  }
  LoopScope scope(st);
  int code = 0;
  for (auto& item : items) {
    ctx.budget->check();
    set_var(ctx, st, cmd.name, std::move(item));
    code = run_list(ctx, st, cmd.body, io);
    if (stopping(ctx, st) && loop_should_end(st)) break;
  }
  return code;
}

int run_case(Ctx& ctx, State& st, const Command& cmd, const Io& io) {
  Str subject = expand_string(ctx, st, cmd.words[0], io, nullptr);
  bool fall = false;  // ;& ran the previous arm: this one runs without a test
  int code = 0;
  MatchWork work(kPatternWork);
  for (const CaseItem& item : cmd.items) {
    bool match = fall;
    for (size_t k = 0; !match && k < item.patterns.size(); ++k) {
      Str pat = expand_pattern(ctx, st, item.patterns[k], io);
      PatternOptions po;
      po.ignore_case = st.opt_nocasematch;  // shopt -s nocasematch
      po.utf8 = utf8_locale(st);
      po.extglob = st.opt_extglob;
      Pattern p = pattern_result(Pattern::compile(view(pat), po));
      match = pattern_result(p.match(view(subject), work));
    }
    if (!match) continue;
    code = run_list(ctx, st, item.body, io);
    if (stopping(ctx, st)) break;
    if (item.end == CaseItem::End::kBreak) break;
    fall = item.end == CaseItem::End::kFallThrough;
  }
  return code;
}

// An arithmetic command's or loop's expression: its value, or nullopt after the message.
std::optional<int64_t> arith_command(Ctx& ctx, State& st, const Word& w, const Io& io) {
  Str e = expand_string(ctx, st, w, io, nullptr);
  auto v = arith_eval(ctx, st, view(e));
  if (!v) {
    emit(ctx, io.err(), "wasmcap sh: ((: " + v.error().message + "\n");
    return std::nullopt;
  }
  return *v;
}

// for (( init; cond; step )): an empty condition is true.
int run_arith_for(Ctx& ctx, State& st, const Command& cmd, const Io& io) {
  auto empty = [](const Word& w) {
    for (const auto& p : w.parts) {
      if (p.kind != WordPart::Kind::kLiteral) return false;
      if (p.text.find_first_not_of(" \t\n") != std::string::npos) return false;
    }
    return true;
  };
  if (!empty(cmd.words[0]) && !arith_command(ctx, st, cmd.words[0], io)) return 1;
  LoopScope scope(st);
  int code = 0;
  for (;;) {
    ctx.budget->check();
    if (!empty(cmd.words[1])) {
      st.lineno = cmd.line;  // the condition's $LINENO is the loop's line, not the body's (bash)
      auto c = arith_command(ctx, st, cmd.words[1], io);
      if (!c) return 1;
      if (*c == 0) break;
    }
    code = run_list(ctx, st, cmd.body, io);
    if (stopping(ctx, st) && loop_should_end(st)) break;
    st.lineno = cmd.line;
    if (!empty(cmd.words[2]) && !arith_command(ctx, st, cmd.words[2], io)) return 1;
  }
  return code;
}

int run_if(Ctx& ctx, State& st, const Command& cmd, const Io& io) {
  for (size_t k = 0; k < cmd.conds.size(); ++k) {
    int cond;
    {
      NoErrexit quiet(st);
      cond = run_list(ctx, st, cmd.conds[k], io);
    }
    if (stopping(ctx, st)) return cond;
    if (cond == 0) return run_list(ctx, st, cmd.bodies[k], io);
  }
  return cmd.has_else ? run_list(ctx, st, cmd.body, io) : 0;
}

// Not inlined into run_command: its locals (a descriptor table, the redirections' files, its
// process substitutions) would then be on the stack of every level of recursion, simple
// commands' too (`.` recursing in a pipeline stage overran kExecLevelBytes: state.h).
[[gnu::noinline]] int run_compound(Ctx& ctx, State& st, const Command& cmd, const Io& outer) {
  if (ctx.stopped()) return 1;
  Io io = outer;
  ProcSubScope procsubs(st);  // `done < <(list)`, `for f in <(list)`: the compound's own
  procsubs.attach(io);
  Opened opened;
  if (!cmd.redirects.empty()) {
    if (!audit_command_start(ctx, Vec<Str>(ctx.alloc()))) return 1;
    if (!apply_redirects(ctx, st, cmd.redirects, io, opened, nullptr)) return 1;
  }
  switch (cmd.kind) {
    case Command::Kind::kGroup: return run_list(ctx, st, cmd.body, io);
    case Command::Kind::kSubshell: {
      State sub = st.subshell();
      run_list(ctx, sub, cmd.body, io);
      run_exit_trap(ctx, sub, io);
      return sub.last;
    }
    case Command::Kind::kIf: return run_if(ctx, st, cmd, io);
    case Command::Kind::kWhile:
    case Command::Kind::kUntil: return run_loop(ctx, st, cmd, io);
    case Command::Kind::kFor: return run_for(ctx, st, cmd, io);
    case Command::Kind::kCase: return run_case(ctx, st, cmd, io);
    case Command::Kind::kFunction: {
      auto it = st.funcs.find(std::string_view(cmd.name));
      if (it != st.funcs.end()) {
        it->second = cmd.function_body;
      } else {
        st.funcs.emplace(ctx.str(cmd.name), cmd.function_body);
      }
      return 0;
    }
    case Command::Kind::kArith:
    case Command::Kind::kCond: {
      if (ctx.commands.fetch_add(1) >= ctx.o.max_commands && ctx.o.max_commands != 0) {
        ctx.set_fatal(Error(ErrorCode::kFuelExhausted,
                            "the script started more than " + std::to_string(ctx.o.max_commands) +
                                " commands (--max-commands)"));
        return 1;
      }
      if (cmd.kind == Command::Kind::kCond) return run_cond(ctx, st, *cmd.cond, io);
      auto v = arith_command(ctx, st, cmd.words[0], io);
      return v && *v != 0 ? 0 : 1;
    }
    case Command::Kind::kArithFor: return run_arith_for(ctx, st, cmd, io);
    case Command::Kind::kSimple: break;
  }
  return run_simple(ctx, st, cmd, io);
}

}  // namespace

// The command boundary: a bound hit anywhere inside (expansion, globbing, a substitution,
// a variable) fails this command only; an expansion error ends the shell (bash, non-interactive).
int run_command(Ctx& ctx, State& st, const Command& cmd, const Io& io) {
  if (st.depth >= st.max_depth) {
    emit(ctx, io.err(),
         "wasmcap sh: commands nested deeper than " + std::to_string(st.max_depth) +
             " levels (function calls, compound commands, eval)" +
             (st.max_depth == kMaxStageDepth ? " in a pipeline stage or background job" : "") +
             "\n");
    return 1;
  }
  ++st.depth;
  st.lineno = cmd.line;
  struct Up {
    State& st;
    ~Up() { --st.depth; }
  } up{st};
  try {
    if (cmd.kind == Command::Kind::kSimple) return run_simple(ctx, st, cmd, io);
    return run_compound(ctx, st, cmd, io);
  } catch (const LimitHit& h) {
    return limit_status(ctx, h, io.err());
  } catch (const ExpansionError& e) {
    // Non-interactive, the shell ends; interactive, the rest of the line is abandoned.
    (st.interactive ? st.abort_line : st.exit_requested) = true;
    return e.status;
  } catch (const AssignError& e) {
    emit(ctx, io.err(), "wasmcap sh: " + shown(e.message) + "\n");
    return 1;
  }
}


// xargs (and find -exec): a command from words the builtin built, not from the script. Counted
// (--max-commands) and audited like a simple command; resolved as GNU xargs' execvp would find a
// program: a tool, `sh`/`bash` (nested), a script by path, or a builtin that is also a program
// (is_program_builtin); never a function. Stdin is `io`'s (xargs gives /dev/null).
WordsRun run_words(Ctx& ctx, State& st, Vec<Str> argv, const Io& io) {
  if (ctx.stopped() || argv.empty()) return {1, false};
  if (ctx.commands.fetch_add(1) >= ctx.o.max_commands && ctx.o.max_commands != 0) {
    ctx.set_fatal(Error(ErrorCode::kFuelExhausted,
                        "the script started more than " + std::to_string(ctx.o.max_commands) +
                            " commands (--max-commands)"));
    return {1, false};
  }
  auto start = Clock::now();
  if (!audit_command_start(ctx, argv)) return {1, false};
  std::atomic<uint64_t> out_b{0}, err_b{0};
  auto finish = [&](const std::string& kind, int code, bool ran) {
    double ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
    audit_command(ctx, argv, kind, code, ms, out_b, err_b);
    return WordsRun{code, ran};
  };
  if (auto prog = installed_command(ctx, st.cwd, view(argv[0]))) argv[0] = ctx.str(*prog);
  if (view(argv[0]).find('/') != std::string_view::npos) {
    int code = prepare_script(ctx, st, argv, io.err(), &err_b);
    if (code >= 0) return finish(code == 127 ? "not_found" : "script", code, false);
  }
  std::string_view name = view(argv[0]);
  if (is_program_builtin(name)) return finish("builtin", run_builtin(ctx, st, argv, io, &out_b, &err_b), true);
  if (is_nested_shell_name(name)) {
    return finish("shell", run_nested_shell(ctx, st, argv, io, &err_b), true);
  }
  if (find_has_exec(argv) && ctx.o.commands.count("find") != 0) {  // `xargs find ... -exec`
    // (Nesting, `find -exec find -exec`, is bounded by --max-live-commands: each walk is one.)
    return finish("builtin", run_find_exec(ctx, st, argv, io, &out_b, &err_b), true);
  }
  Vec<std::pair<std::string_view, Str>> assigns(ctx.alloc());
  auto code = run_tool(ctx, st, argv, assigns, io, out_b, err_b);
  if (!code) return finish("not_found", 127, false);
  return finish("tool", *code, true);
}

bool is_program(const Ctx& ctx, std::string_view name) {
  return name.find('/') != std::string_view::npos || is_program_builtin(name) ||
         is_nested_shell_name(name) || ctx.o.commands.count(std::string(name)) != 0;
}

bool is_program_builtin(std::string_view n) {
  return n == "echo" || n == "printf" || n == "true" || n == "false" || n == "test" ||
         n == "[" || n == "pwd" || n == "expr" || n == "which" || n == "timeout" ||
         n == "xargs";
}

}  // namespace wasmcap::shell

// Word expansion (docs/shell.md "Grammar"): tilde, parameters and their operators, command
// substitution, field splitting by IFS, globbing (glob.cc), quote removal. The value operators
// of ${...} (case, @ transforms, # % trims, / replacement) are in param_ops.cc.
// Every container allocates through the session's Budget; every loop that may run long checks
// the deadline.
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <thread>

#include "shell/glob.h"
#include "shell/lex.h"
#include "shell/param_ops.h"
#include "shell/pattern.h"
#include "shell/state.h"
#include "common/utf8.h"

namespace wasmcap::shell {

using detail::is_name_start;

namespace {

// `$(< FILE)` (bash): one simple command of nothing but one redirection of stdin from a file;
// its value is the file's contents, as `$(cat FILE)`'s without a command. Null for any other
// script.
const Redirect* file_read_form(const Script& inner) {
  if (inner.items.size() != 1 || inner.items[0].background ||
      inner.items[0].pipelines.size() != 1) {
    return nullptr;
  }
  const Pipeline& p = inner.items[0].pipelines[0];
  if (p.negate || p.timed || p.commands.size() != 1) return nullptr;
  const Command& c = p.commands[0];
  if (c.kind != Command::Kind::kSimple || !c.words.empty() || !c.assigns.empty() ||
      c.redirects.size() != 1) {
    return nullptr;
  }
  const Redirect& r = c.redirects[0];
  return r.op == Redirect::Op::kIn && r.fd == 0 && r.fd_var.empty() ? &r : nullptr;
}

// The file `$(< FILE)` names, opened as the redirection opens it (the same resolver, the
// virtual /dev files and /dev/fd/N), copied into the substitution's pipe: read in steps that see
// the deadline (a `<(list)` may be slow), what the reader takes bounded as any output is.
// The status: 0, or 1 when the file does not open (the redirection's message) or a read fails.
int read_file_into(Ctx& ctx, State& sub, const Redirect& r, const Io& io, int out) {
  Io fio = io;
  ProcSubScope procsubs(sub);  // `$(< <(list))`
  procsubs.attach(fio);
  Opened opened;
  int subst_status = 0;
  if (!apply_redirects(ctx, sub, {r}, fio, opened, &subst_status)) return 1;
  const int in = fio.fd[0];
  if (in < 0) return in == kClosed ? 1 : 0;  // a closed stdin; /dev/null: nothing
  char buf[16384];
  for (;;) {
    ssize_t n = read_waiting(ctx, in, buf, sizeof buf);  // the deadline: throws
    if (n < 0) {
      emit(ctx, io.err(), std::string("wasmcap sh: read error: ") + std::strerror(errno) + "\n");
      return 1;
    }
    if (n == 0) return 0;
    if (!write_all(out, buf, static_cast<size_t>(n))) return 1;
  }
}

// $(...): runs the inner script in this executor (no process, no fork) on a copy of the state,
// so cd, assignments and exit stay inside, as in a subshell. Its stdout goes into a pipe that a
// reader thread drains into a buffer of at most max_substitution_bytes (past that the script
// stops with output_limit; the reader keeps draining, so writers never block or see EPIPE) and
// charged to the budget (past it, this command fails). Its stdin and stderr are the enclosing
// command's, before that command's redirections (as in sh). Trailing newlines are removed.
// `*status` is the inner script's exit status.
Str substitute(Ctx& ctx, const State& st, const Script& inner, const Io& io, int* status) {
  // A running command (a reader thread and a pipe) until it ends: `f() { echo $(f); }` is
  // bounded by --max-live-commands. Throws LimitHit (this command fails).
  Budget::Commands running = ctx.budget->start_commands(1);
  State sub = st.subshell();  // charged; before any thread exists, so a LimitHit leaks nothing
  sub.opt_errexit = false;      // bash (without inherit_errexit): not inside $(...)
  ++sub.trace_depth;
  Str captured = ctx.str();
  int p[2];
  if (::pipe2(p, O_CLOEXEC) != 0) {
    emit(ctx, io.err(), std::string("wasmcap sh: pipe: ") + std::strerror(errno) + "\n");
    *status = 1;
    return captured;
  }
  Fd rd(p[0]), wr(p[1]);
  const uint64_t cap = ctx.o.max_substitution_bytes;
  std::optional<LimitHit> hit;  // the reader's; rethrown here once it is joined
  ExecThread reader([&]() {
    char buf[16384];
    bool over = false;
    for (;;) {
      ssize_t n = ::read(rd.get(), buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      if (over) continue;
      if (cap != 0 && captured.size() + static_cast<size_t>(n) > cap) {
        over = true;
        ctx.set_fatal(Error(ErrorCode::kOutputLimit,
                            "a command substitution produced more than " + std::to_string(cap) +
                                " bytes (shell::Options::max_substitution_bytes)"));
        continue;
      }
      try {
        captured.append(buf, static_cast<size_t>(n));
      } catch (const LimitHit& h) {
        over = true;
        hit = h;
      }
    }
  }, kHelperStackBytes);
  if (!reader.started()) {  // nothing ran: this command fails
    throw LimitHit(Error(ErrorCode::kInternal, reader.failure("a $(...)")), false);
  }
  Io inner_io = io;
  inner_io.fd[1] = wr.get();
  if (const Redirect* file = file_read_form(inner)) {
    try {
      sub.last = read_file_into(ctx, sub, *file, inner_io, wr.get());
    } catch (const LimitHit&) {  // (the deadline): the reader ends before its buffer does
      wr.reset();
      reader.join();
      throw;
    }
  } else {
    run_list(ctx, sub, inner.items, inner_io);  // never throws (run_pipeline)
  }
  run_exit_trap(ctx, sub, inner_io);  // a trap set inside it runs when it ends (bash)
  sub.jobs.reset();  // its background jobs end before the capture does (joined by Jobs' owner)
  wr.reset();  // every writer is done (pipeline stages are joined): the reader sees EOF
  reader.join();
  if (hit) throw *hit;
  *status = sub.last;
  while (!captured.empty() && captured.back() == '\n') captured.pop_back();
  return captured;
}

bool is_digits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}


// Whether `ch` (one UTF-8 character) is one of IFS's characters.
bool has_char(std::string_view ifs, std::string_view ch) {
  for (size_t i = 0; i < ifs.size();) {
    size_t len = utf8::decode(ifs, i).len;
    if (ifs.substr(i, len) == ch) return true;
    i += len;
  }
  return false;
}

// Whether the byte `c` (ASCII, or invalid UTF-8 in a UTF-8 locale) is an IFS character.
bool is_ifs_byte(std::string_view ifs, char c, bool utf8) {
  if (!utf8 || static_cast<unsigned char>(c) < 0x80) return ifs.find(c) != std::string_view::npos;
  return has_char(ifs, std::string_view(&c, 1));
}

// The characters of a string: UTF-8 sequences (an invalid byte is one character) or bytes.
size_t char_count(std::string_view s, bool utf8) {
  if (!utf8) return s.size();
  size_t n = 0;
  for (size_t i = 0; i < s.size(); i += utf8::decode(s, i).len) ++n;
  return n;
}

// The byte offset of character `k` (at most the end).
size_t char_offset(std::string_view s, size_t k, bool utf8) {
  if (!utf8) return std::min(k, s.size());
  size_t i = 0;
  for (; i < s.size() && k > 0; --k) i += utf8::decode(s, i).len;
  return i;
}

std::string_view ifs_of(const State& st, std::string* tmp) {
  auto v = param_value(st, "IFS", tmp);
  return v ? *v : std::string_view(" \t\n");
}

// Builds the fields of one word. A word's parts append to the current field; unquoted
// expansions split it by IFS; "$@" ends a field per positional parameter.
class Expander {
 public:
  Expander(Ctx& ctx, State& st, const Io& io, int* subst_status, Vec<Field>& fields)
      : ctx_(ctx), st_(st), io_(io), subst_status_(subst_status), fields_(fields) {}

  void word(const Word& w, bool force_quoted) {
    // "$@" with no positional parameters is no word at all: the empty quoted literal the lexer
    // puts at every opening quote (so that "" is a word) does not count in a word holding it.
    bool quoted_at = false;
    for (const WordPart& p : w.parts) {
      quoted_at = quoted_at || ((p.quoted || force_quoted) && p.kind == WordPart::Kind::kVar &&
                                (p.text == "@" || (p.op && p.op->sub == ParamOp::Sub::kAll)));
    }
    for (const WordPart& p : w.parts) {
      if (quoted_at && p.kind == WordPart::Kind::kLiteral && p.text.empty()) continue;
      part(p, force_quoted);
    }
  }

 private:
  Field& cur() { return fields_.back(); }
  void add(char c, bool g) {
    cur().text.push_back(c);
    cur().glob.push_back(g);
    cur().any = true;
  }
  void new_field() {
    ctx_.budget->check_words(fields_.size());
    fields_.emplace_back(ctx_.budget);
  }
  // (']' too: it closes a bracket expression, so it must reach the pattern unescaped; and - ! ^,
  // a range or a negation inside one, which a quoted one is not: `[C\-D]` is C, - or D.)
  static bool glob_char(char c) {
    return c == '*' || c == '?' || c == '[' || c == ']' || c == '-' || c == '!' || c == '^' ||
           c == '(' || c == ')' || c == '|' || c == '+' || c == '@';  // (extglob's groups)
  }

  // ~ ($HOME), ~+ ($PWD), ~- ($OLDPWD), ~N ~+N ~-N (the directory stack's entries as `dirs -l`
  // numbers them: 0 is the working directory), ~NAME from the sandbox's user database (below);
  // an unknown name, an unset variable or an entry out of range stay as written (nullopt).
  std::optional<std::string_view> tilde_dir(std::string_view t, std::string* tmp) {
    if (t.empty()) return param_value(st_, "HOME", tmp);
    if (t == "+") return param_value(st_, "PWD", tmp);
    if (t == "-") return param_value(st_, "OLDPWD", tmp);
    // ~NAME: a user's home, from the sandbox's user database (State::user): no other name is a
    // user, so ~nobody stays as written, as bash leaves an unknown user's.
    if (t == "root") return std::string_view("/root");
    if (t == st_.user) return param_value(st_, "HOME", tmp);
    std::string w(t);
    if (w[0] != '+' && w[0] != '-') w.insert(w.begin(), '+');  // ~N is ~+N
    auto k = dir_stack_index(st_, w);
    if (!k || *k < 0) return std::nullopt;
    if (*k == 0) return *tmp = st_.cwd;
    return view(st_.dirstack[static_cast<size_t>(*k - 1)]);
  }
  void part(const WordPart& p, bool force_quoted) {
    ctx_.budget->check();
    bool quoted = p.quoted || force_quoted;
    switch (p.kind) {
      case WordPart::Kind::kLiteral:
        if (quoted) cur().any = true;
        for (char c : p.text) add(c, !quoted && glob_char(c));
        return;
      case WordPart::Kind::kTilde: {
        if (p.quoted) {  // "${x:-~}": no expansion inside double quotes
          add('~', false);
          for (char c : p.text) add(c, false);
          return;
        }
        std::string tmp;
        auto home = tilde_dir(p.text, &tmp);
        if (home) {
          append_value(*home, true);
        } else {  // no such user, variable or entry: the word stays as written
          add('~', false);
          for (char c : p.text) add(c, false);
        }
        return;
      }
      case WordPart::Kind::kSubst: {
        int status = 0;
        Str v = substitute(ctx_, st_, *p.script, io_, &status);
        if (subst_status_ != nullptr) *subst_status_ = status;
        st_.last = status;  // bash: `echo "$(false)" $?` prints 1 (dash: 0)
        append_value(view(v), quoted);
        return;
      }
      case WordPart::Kind::kProcSub: {  // a name of its own: never split nor globbed
        std::string path = start_process_substitution(ctx_, st_, p.script, p.to_list, io_);
        cur().any = true;
        for (char c : path) add(c, false);
        return;
      }
      case WordPart::Kind::kVar:
        param(p, quoted);
        return;
      case WordPart::Kind::kArray: {  // declare NAME=(...): the elements, quoted to read back
        Vec<Str> vals(ctx_.alloc());
        std::vector<std::optional<Str>> keys;
        expand_array(ctx_, st_, *p.elems, io_, subst_status_, vals, keys);
        Str text = ctx_.str("(");
        for (size_t k = 0; k < vals.size(); ++k) {
          if (k > 0) text.push_back(' ');
          if (keys[k]) text.append("[" + quote_single(view(*keys[k])) + "]=");
          text.append(quote_single(view(vals[k])));
        }
        text.push_back(')');
        append_value(view(text), true);
        return;
      }
      case WordPart::Kind::kArith: {
        Str e = expand_string(ctx_, st_, *p.arith, io_, subst_status_);
        auto v = arith_eval(ctx_, st_, view(e));
        if (!v) fail(v.error().message, 1);  // bash: the shell ends with status 1
        append_value(std::to_string(*v), quoted);
        return;
      }
    }
  }

  // A value from an expansion: quoted, one piece of the field; unquoted, split by IFS, and its
  // glob characters may glob (as in sh).
  void append_value(std::string_view v, bool quoted) {
    if (quoted) {
      cur().any = true;
      cur().text.append(v.data(), v.size());
      cur().glob.resize(cur().text.size(), false);
      return;
    }
    std::string tmp;
    std::string_view ifs = ifs_of(st_, &tmp);
    bool just_ws = false;  // the last delimiter was IFS white space that ended a field
    bool u = utf8_locale(st_);
    for (size_t i = 0; i < v.size();) {
      char c = v[i];
      // In a UTF-8 locale IFS holds characters (IFS=ç splits at ç, not at either of its bytes).
      size_t len = u && static_cast<unsigned char>(c) >= 0x80 ? utf8::decode(v, i).len : 1;
      bool delim = len == 1 ? is_ifs_byte(ifs, c, u) : has_char(ifs, v.substr(i, len));
      if (!delim) {
        for (size_t k = 0; k < len; ++k) {
          add(v[i + k], glob_char(v[i + k]) || v[i + k] == '\\');  // (a '\' escapes the next one in a glob: bash)
        }
        i += len;
        just_ws = false;
        continue;
      }
      i += len;
      bool ws = c == ' ' || c == '\t' || c == '\n';
      if (ws) {
        if (cur().any) {
          new_field();
          just_ws = true;
        }
        continue;
      }
      if (cur().any) {
        new_field();
      } else if (!just_ws) {
        cur().any = true;  // an empty field between two delimiters
        new_field();
      }
      just_ws = false;
    }
  }

  // The values of a parameter: one (or none when unset), or the positional parameters for @ *.
  bool values(const std::string& name, Vec<Str>& out) {
    if (name == "@" || name == "*") {
      for (const auto& a : st_.positional) out.push_back(a);
      return true;
    }
    std::string tmp;
    auto v = param_value(st_, name, &tmp);
    if (!v) return false;
    out.push_back(ctx_.str(*v));
    return true;
  }

  // bash's status: 127 in a -c script, else 1 (unless given).
  [[noreturn]] void fail(const std::string& msg, int status = -1) {
    emit(ctx_, io_.err(), "wasmcap sh: " + msg + "\n");
    throw ExpansionError{status >= 0                                  ? status
                         : st_.command_string && !st_.interactive ? 127
                                                                  : 1};
  }

  // An arithmetic subscript or offset: expanded, then evaluated (bash: an error ends the shell).
  int64_t arith(const Word& w) {
    Str e = expand_string(ctx_, st_, w, io_, subst_status_);
    auto v = arith_eval(ctx_, st_, view(e));
    if (!v) fail(v.error().message, 1);
    return *v;
  }

  // What a parameter expansion reads: a name and its subscript (after ${!x} indirection).
  struct Target {
    std::string name;
    ParamOp::Sub sub = ParamOp::Sub::kNone;
    int64_t index = 0;
    std::string key;  // kIndex of an associative array: the subscript's expanded text
  };

  // The subscript of NAME[sub]: an associative array's key (the text expanded), else an index
  // (an arithmetic expression). The empty key is bash's "bad array subscript".
  void subscript(Target& t, const Word* w, std::string_view text) {
    if (find_assoc(st_, t.name) != nullptr) {
      if (w != nullptr) {
        t.key = std::string(view(expand_string(ctx_, st_, *w, io_, subst_status_)));
      } else {
        t.key = std::string(text);
      }
      if (t.key.empty()) fail(shown(t.name) + "[]: bad array subscript", 1);
      return;
    }
    if (w != nullptr) {
      t.index = arith(*w);
    } else {
      auto k = arith_eval(ctx_, st_, text);
      if (!k) fail(k.error().message, 1);
      t.index = *k;
    }
  }

  // ${!x}: x's value names the parameter (NAME, NAME[i], NAME[@], a positional or special).
  Target indirect(const Target& t) {
    Vec<Str> v(ctx_.alloc());
    element_values(t, v);
    if (v.empty()) fail(shown(t.name) + ": invalid indirect expansion", 1);
    std::string ref(view(v[0]));
    Target r;
    size_t n = 0;
    while (n < ref.size() && (n == 0 ? is_name_start(ref[n]) : detail::is_name_char(ref[n]))) ++n;
    if (n > 0 && n < ref.size() && ref[n] == '[' && ref.back() == ']') {
      r.name = ref.substr(0, n);
      std::string inner = ref.substr(n + 1, ref.size() - n - 2);
      if (inner == "@" || inner == "*") {
        r.sub = inner == "@" ? ParamOp::Sub::kAll : ParamOp::Sub::kStar;
      } else {
        r.sub = ParamOp::Sub::kIndex;
        subscript(r, nullptr, inner);
      }
      return r;
    }
    bool special = ref.size() == 1 && std::string_view("@*#?$!-0").find(ref[0]) != std::string_view::npos;
    if ((n > 0 && n == ref.size()) || is_digits(ref) || special) {
      r.name = ref;
      return r;
    }
    fail(shown(ref) + ": invalid variable name", 1);
  }

  // The values of one target: a parameter's, an array's elements, or one element.
  // `keys` (${!a[@]}): the indices or keys instead of the values.
  bool element_values(const Target& t, Vec<Str>& out, Vec<int64_t>* indices = nullptr,
                      bool keys = false) {
    if (const Assoc* as = find_assoc(st_, t.name)) {
      if (t.sub == ParamOp::Sub::kAll || t.sub == ParamOp::Sub::kStar) {
        int64_t pos = 0;  // ${a[@]:1:2} slices the listing order
        for (const auto* e : assoc_order(*as)) {
          ctx_.budget->check_words(out.size());
          out.push_back(keys ? e->first : e->second.value);
          if (indices != nullptr) indices->push_back(pos++);
        }
        return !as->elems.empty();
      }
      auto it = as->elems.find(t.sub == ParamOp::Sub::kIndex ? std::string_view(t.key) : "0");
      if (it == as->elems.end()) return false;
      out.push_back(keys ? it->first : it->second.value);
      if (indices != nullptr) indices->push_back(0);
      return true;
    }
    const ArrayElems* arr = find_array(st_, t.name);
    if (t.sub == ParamOp::Sub::kAll || t.sub == ParamOp::Sub::kStar) {
      if (arr != nullptr) {
        for (const auto& [k, e] : *arr) {
          ctx_.budget->check_words(out.size());
          out.push_back(e);
          if (indices != nullptr) indices->push_back(k);
        }
        return !arr->empty();
      }
      std::string tmp;
      auto v = param_value(st_, t.name, &tmp);
      if (v) {
        out.push_back(ctx_.str(*v));
        if (indices != nullptr) indices->push_back(0);
      }
      return v.has_value();
    }
    if (t.sub == ParamOp::Sub::kIndex) {
      int64_t i = t.index;
      if (arr == nullptr) {
        std::string tmp;
        auto v = param_value(st_, t.name, &tmp);
        if (i < 0 && v) fail(shown(t.name) + ": bad array subscript", 1);
        if (i != 0 || !v) return false;
        out.push_back(ctx_.str(*v));
        return true;
      }
      if (i < 0) {
        int64_t end = arr->empty() ? 0 : arr->rbegin()->first + 1;
        if (end + i < 0) {
          emit(ctx_, io_.err(), "wasmcap sh: " + shown(t.name) + ": bad array subscript\n");
          return false;
        }
        i += end;
      }
      auto it = arr->find(i);
      if (it == arr->end()) return false;
      out.push_back(it->second);
      return true;
    }
    return values(t.name, out);
  }

  // The names of the set variables that start with `prefix` (${!prefix*}), sorted.
  void names_with(const std::string& prefix, Vec<Str>& out) {
    std::vector<std::string_view> all;
    for (const auto& [k, v] : st_.vars) {
      if (view(k).substr(0, prefix.size()) == prefix) all.push_back(view(k));
    }
    for (const auto& [k, v] : st_.arrays) {
      if (view(k).substr(0, prefix.size()) == prefix) all.push_back(view(k));
    }
    for (const auto& [k, v] : st_.assocs) {
      if (view(k).substr(0, prefix.size()) == prefix) all.push_back(view(k));
    }
    std::sort(all.begin(), all.end());
    all.erase(std::unique(all.begin(), all.end()), all.end());
    for (auto n : all) {
      ctx_.budget->check_words(out.size());
      out.push_back(ctx_.str(n));
    }
  }

  void param(const WordPart& p, bool quoted) {
    ParamOp none;
    const ParamOp& op = p.op ? *p.op : none;
    if (op.bad_length) fail("${#" + shown(p.text) + "...}: bad substitution", 1);  // ${#v:1:3}
    using S = ParamOp::Sub;
    Target t{p.text, op.sub, 0, {}};
    if (t.sub == S::kIndex) subscript(t, op.index.get(), "");
    if (op.indirect) t = indirect(t);
    const std::string& name = t.name;
    bool array_list = t.sub == S::kAll || t.sub == S::kStar;
    bool list = name == "@" || name == "*" || array_list || op.keys || op.names;
    bool star = (name == "*" && !array_list) || t.sub == S::kStar;
    Vec<Str> vals(ctx_.alloc());
    Vec<int64_t> indices(ctx_.alloc());
    bool set;
    if (op.names) {
      names_with(name, vals);
      set = true;
    } else if (op.keys && find_assoc(st_, name) != nullptr) {
      element_values(t, vals, nullptr, true);
      set = true;
    } else if (op.keys) {
      element_values(t, vals, &indices);
      vals.clear();
      for (int64_t k : indices) vals.push_back(ctx_.str(std::to_string(k)));
      set = true;
    } else {
      set = element_values(t, vals, array_list ? &indices : nullptr);
    }
    if (list) set = !vals.empty();
    bool empty = !set || (vals.size() == 1 && vals[0].empty()) || (list && vals.empty());
    if (list && vals.size() == 1) empty = vals[0].empty();
    if (star && quoted && vals.size() > 1) {  // "${*:-w}": null when the joined value is
      std::string tmp;
      empty = ifs_of(st_, &tmp).empty() &&
              std::all_of(vals.begin(), vals.end(), [](const Str& v) { return v.empty(); });
    }
    bool use_arg = op.colon ? empty : !set;
    using K = ParamOp::Kind;
    switch (op.kind) {
      case K::kLength: {
        // Unquoted, the number is split by IFS like any expansion (IFS=5: ${#v} of hello is
        // no field, as in bash).
        if (list) return append_value(std::to_string(vals.size()), quoted);
        if (!set && st_.opt_nounset) fail(shown(name) + ": unbound variable");
        return append_value(
            std::to_string(set ? char_count(view(vals[0]), utf8_locale(st_)) : 0), quoted);
      }
      case K::kDefault:
        if (use_arg) return operand(op.arg.get(), quoted);
        break;
      case K::kAssign:
        if (use_arg) {
          if ((list && !array_list) || is_digits(name) ||
              (name.size() == 1 && !is_name_start(name[0]))) {
            fail("$" + shown(name) + ": cannot assign in this way");
          }
          if (array_list) fail(shown(name) + "[" + (star ? "*" : "@") + "]: bad array subscript", 1);
          Str v = op.arg ? expand_string(ctx_, st_, *op.arg, io_, subst_status_) : ctx_.str();
          if (t.sub == S::kIndex && find_assoc(st_, name) != nullptr) {
            set_assoc_element(ctx_, st_, name, ctx_.str(t.key), v);
          } else if (t.sub == S::kIndex) {
            set_element(ctx_, st_, name, t.index, v);
          } else {
            set_var(ctx_, st_, name, v);
          }
          return append_value(view(v), quoted);
        }
        break;
      case K::kError:
        if (use_arg) {
          Str m = op.arg ? expand_string(ctx_, st_, *op.arg, io_, subst_status_) : ctx_.str();
          fail(shown(name) + ": " +
               (m.empty() ? std::string(op.colon ? "parameter null or not set"
                                                 : "parameter not set")
                          : shown(view(m))));
        }
        break;
      case K::kAlternative:
        if (!use_arg) return operand(op.arg.get(), quoted);
        return;
      default:
        break;
    }
    if (!set && !list && st_.opt_nounset) {
      std::string sub = find_assoc(st_, name) != nullptr ? t.key : std::to_string(t.index);
      fail(shown(name) + (t.sub == S::kIndex ? "[" + shown(sub) + "]" : "") +
           ": unbound variable");
    }
    if (op.kind == K::kTrimPrefix || op.kind == K::kTrimSuffix || op.kind == K::kReplace) {
      Str pat = op.arg ? expand_pattern(ctx_, st_, *op.arg, io_) : ctx_.str();
      std::vector<size_t> match_at;  // ${x/p/r}: where an unquoted & in r puts the match (bash)
      Str rep = op.arg2 ? replacement(*op.arg2, &match_at) : ctx_.str();
      for (auto& v : vals) {
        v = op.kind == K::kReplace ? replace_value(ctx_, st_, v, pat, rep, op, match_at, work_)
                                    : trim_value(ctx_, st_, v, pat, op, work_);
      }
    } else if (op.kind == K::kSlice) {
      // ${x:} (no offset, unlike ${x: } and ${x::}) is bash's "bad substitution".
      if (!op.arg2 && (!op.arg || op.arg->parts.empty())) {
        fail(shown(p.text) + ": bad substitution", 1);
      }
      if (array_list) {
        slice_array(vals, indices, op);
      } else {
        slice(vals, op, list);
      }
    } else if (op.kind == K::kCase) {
      Str pat = op.arg ? expand_pattern(ctx_, st_, *op.arg, io_) : ctx_.str();
      for (auto& v : vals) v = convert_case(ctx_, v, pat, op, work_);
    } else if (op.kind == K::kTransform) {
      for (size_t k = 0; k < vals.size(); ++k) {
        vals[k] = transform_value(ctx_, st_, t.name, t.sub, vals[k], op.transform, set);
      }
      if (!set && !list) vals.clear();
      bool any_array = find_array(st_, name) != nullptr || find_assoc(st_, name) != nullptr;
      if (op.transform == 'a' && !set && !list && any_array) {  // an array's element 0 unset
        vals.push_back(transform_value(ctx_, st_, t.name, t.sub, ctx_.str(), 'a', true));
        set = true;
      }
      if (op.transform == 'K' && array_list) {  // one word: key "value" key "value" ...
        auto kv = key_value_words(ctx_, st_, name);  // (a scalar: its quoted value, as is)
        if (kv) vals.assign(1, ctx_.str(*kv));
        if (!set) vals.clear();
      }
      if (op.transform == 'A' && array_list) {  // one declaration of the whole array
        vals.clear();
        std::string line = declare_line(st_, name);
        if (!line.empty()) line.pop_back();
        if (!line.empty()) vals.push_back(ctx_.str(line));
      }
    }
    emit_values(vals, star, quoted, list);
  }

  // ${a[@]:o:l}: the elements whose index is at least o (a negative o counts from one past the
  // last index), at most l of them.
  void slice_array(Vec<Str>& vals, const Vec<int64_t>& indices, const ParamOp& op) {
    int64_t off = op.arg ? arith(*op.arg) : 0;
    bool has_len = op.arg2 != nullptr;
    int64_t len = has_len ? arith(*op.arg2) : 0;
    if (has_len && len < 0) fail(std::to_string(len) + ": substring expression < 0", 1);
    if (off < 0) {
      int64_t end = indices.empty() ? 0 : indices.back() + 1;
      off += end;
      if (off < 0) {
        vals.clear();
        return;
      }
    }
    Vec<Str> out(ctx_.alloc());
    for (size_t k = 0; k < vals.size(); ++k) {
      if (indices[k] < off) continue;
      if (has_len && static_cast<int64_t>(out.size()) >= len) break;
      out.push_back(std::move(vals[k]));
    }
    vals = std::move(out);
  }

  // The word of ${x-word} ${x+word}: inside "...", one piece; unquoted, its literal text is
  // split by IFS like an expansion's value (bash: ${u:-a   b} is two fields).
  void operand(const Word* w, bool quoted) {
    if (w == nullptr) {
      if (quoted) cur().any = true;
      return;
    }
    if (quoted) return word(*w, true);
    for (const WordPart& p : w->parts) {
      if (p.kind == WordPart::Kind::kLiteral && !p.quoted) {
        append_value(p.text, false);
      } else {
        part(p, false);
      }
    }
  }

  // "$@" makes a field per value; "$*" joins them with IFS's first character; unquoted, each
  // value is split on its own.
  void emit_values(const Vec<Str>& vals, bool star, bool quoted, bool list) {
    if (!list) {
      if (!vals.empty()) append_value(view(vals[0]), quoted);
      else if (quoted) cur().any = true;
      return;
    }
    if (quoted && star) {
      std::string tmp;
      std::string_view ifs = ifs_of(st_, &tmp);
      Str joined = ctx_.str();
      for (size_t k = 0; k < vals.size(); ++k) {
        if (k > 0 && !ifs.empty()) joined.push_back(ifs[0]);
        joined.append(vals[k]);
      }
      return append_value(view(joined), true);
    }
    for (size_t k = 0; k < vals.size(); ++k) {
      if (k > 0 && (quoted || cur().any)) new_field();
      append_value(view(vals[k]), quoted);
    }
  }

  // ${x/p/r} ${x//p/r} ${x/#p/r} ${x/%p/r}: bounded by the shell's memory budget.
  // The replacement of ${x/p/r}: r expanded, each unquoted `&` taken out and its offset kept
  // (bash's patsub_replacement: the matched text goes there; `\&` and "&" stay literal).
  Str replacement(const Word& w, std::vector<size_t>* match_at) {
    Str out = ctx_.str();
    for (const WordPart& p : w.parts) {
      if (p.kind == WordPart::Kind::kLiteral && !p.quoted) {
        for (char c : p.text) {
          if (c == '&') {
            match_at->push_back(out.size());
          } else {
            out.push_back(c);
          }
        }
        continue;
      }
      Word one;
      one.parts.push_back(p);
      out.append(expand_string(ctx_, st_, one, io_, subst_status_));
    }
    return out;
  }

  long long number(const Word* w) { return w == nullptr ? 0 : arith(*w); }

  // ${x:o} ${x:o:l} (a negative o counts from the end; a negative l leaves that many off);
  // on "$@", o counts from $0 as in bash.
  void slice(Vec<Str>& vals, const ParamOp& op, bool list) {
    long long off = number(op.arg.get());
    bool has_len = op.arg2 != nullptr;
    long long len = has_len ? number(op.arg2.get()) : 0;
    auto cut = [&](long long n, long long& b, long long& e) {
      b = off < 0 ? std::max(0LL, n + off) : std::min(off, n);
      if (off < 0 && n + off < 0) b = n + 1;  // bash: out of range gives nothing
      e = !has_len ? n : len < 0 ? n + len : std::min(n, b + len);
      if (b > n) e = b = n;
      if (e < b) {
        if (len < 0 && !list) fail(std::to_string(len) + ": substring expression < 0");
        e = b;
      }
    };
    if (!list) {  // by characters
      if (vals.empty()) return;
      bool u = utf8_locale(st_);
      std::string_view v = view(vals[0]);
      long long b, e;
      cut(static_cast<long long>(char_count(v, u)), b, e);
      size_t from = char_offset(v, static_cast<size_t>(b), u);
      size_t to = from + char_offset(v.substr(from), static_cast<size_t>(e - b), u);
      vals[0] = ctx_.str(v.substr(from, to - from));
      return;
    }
    Vec<Str> all(ctx_.alloc());
    all.push_back(ctx_.str(st_.arg0));
    for (auto& v : vals) all.push_back(std::move(v));
    long long b, e;
    cut(static_cast<long long>(all.size()), b, e);
    Vec<Str> out(ctx_.alloc());
    for (long long k = b; k < e; ++k) out.push_back(std::move(all[static_cast<size_t>(k)]));
    vals = std::move(out);
  }

  Ctx& ctx_;
  State& st_;
  const Io& io_;
  int* subst_status_;
  Vec<Field>& fields_;
  MatchWork work_{kPatternWork};
};

}  // namespace

// Whether characters are UTF-8 sequences (bash's locale rule: LC_ALL, else LC_CTYPE, else
// LANG; the sandbox's default, with none of them set, is UTF-8) or bytes (C, POSIX, others).
bool utf8_locale(const State& st) {
  for (const char* n : {"LC_ALL", "LC_CTYPE", "LANG"}) {
    std::string tmp;
    auto v = param_value(st, n, &tmp);
    if (!v || v->empty()) continue;
    std::string l;
    for (char c : *v) l.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
    return l.find("utf-8") != std::string::npos || l.find("utf8") != std::string::npos;
  }
  return true;
}

// Dynamic variables (bash's), unless the script set its own (param_value looks here only for a
// name with no value of its own).
std::optional<std::string_view> dynamic_value(const State& st, std::string_view name,
                                              std::string* tmp, const char** flags) {
  const char* f = "i";
  std::optional<std::string_view> v;
  if (name == "LINENO") {
    f = "";
    v = *tmp = std::to_string(st.lineno);
  } else if (name == "_") {
    f = "";
    v = view(st.last_arg);
  } else if (name == "SECONDS") {
    auto s = std::chrono::duration_cast<std::chrono::seconds>(Clock::now() - st.started);
    v = *tmp = std::to_string(s.count());
  } else if (name == "RANDOM") {
    v = *tmp = std::to_string(st.random->next());
  } else if (name == "BASHPID") {
    v = *tmp = std::to_string(st.bashpid);
  } else if (name == "SHELLOPTS") {
    f = "";  // (its readonly attribute is a real one: init_shell_vars)
    v = *tmp = shell_opts(st);
  }
  if (v && flags != nullptr) *flags = f;
  return v;
}

std::optional<std::string_view> param_value(const State& st, std::string_view name,
                                            std::string* tmp) {
  if (name.size() == 1) {
    switch (name[0]) {
      case '?': return *tmp = std::to_string(st.last);
      case '#': return *tmp = std::to_string(st.positional.size());
      case '$': return *tmp = std::to_string(st.pid);
      case '!':
        if (st.last_job == 0) return std::nullopt;
        return *tmp = std::to_string(st.last_job);
      case '-': {
        *tmp = "h";
        if (st.interactive) *tmp += 'i';
        if (st.opt_allexport) *tmp += 'a';
        if (st.opt_errexit) *tmp += 'e';
        if (st.opt_noglob) *tmp += 'f';
        if (st.opt_nounset) *tmp += 'u';
        if (st.opt_verbose) *tmp += 'v';
        if (st.opt_xtrace) *tmp += 'x';
        if (st.opt_noclobber) *tmp += 'C';
        return *tmp;
      }
      case '0': return st.arg0;
      case '@':
      case '*': {
        tmp->clear();
        for (size_t k = 0; k < st.positional.size(); ++k) {
          if (k) tmp->push_back(' ');
          tmp->append(view(st.positional[k]));
        }
        return *tmp;
      }
      default: break;
    }
  }
  if (is_digits(name)) {
    size_t k = name.size() > 9 ? SIZE_MAX : std::stoul(std::string(name));
    if (k == 0) return st.arg0;
    if (k > st.positional.size()) return std::nullopt;
    return view(st.positional[k - 1]);
  }
  auto it = st.vars.find(name);
  if (it == st.vars.end()) {
    const ArrayElems* arr = find_array(st, name);  // an array's value is its element 0
    if (const Assoc* as = find_assoc(st, name)) {  // an associative array's: its key "0"
      auto e = as->elems.find(std::string_view("0"));
      if (e == as->elems.end()) return std::nullopt;
      return view(e->second.value);
    }
    if (arr == nullptr) return dynamic_value(st, name, tmp);
    auto e = arr->find(0);
    if (e == arr->end()) return std::nullopt;
    return view(e->second);
  }
  return view(*it->second);
}

void expand(Ctx& ctx, State& st, const Word& w, bool do_glob, const Io& io, int* subst_status,
            Vec<Str>& out) {
  // Words (not assignments, patterns or here-documents) are brace-expanded first.
  if (do_glob && brace_expand(ctx, w, [&](const Word& b) {
        expand(ctx, st, b, true, io, subst_status, out);
      })) {
    return;
  }
  Vec<Field> fields(ctx.alloc());
  fields.emplace_back(ctx.budget);
  Expander(ctx, st, io, subst_status, fields).word(w, false);
  for (Field& f : fields) {
    if (!f.any) continue;
    if (!do_glob || st.opt_noglob) {
      out.push_back(std::move(f.text));
      ctx.budget->check_words(out.size());
      continue;
    }
    glob(ctx, st, utf8_locale(st), f, out);
  }
}

void expand_array(Ctx& ctx, State& st, const std::vector<Word>& elems, const Io& io,
                  int* subst_status, Vec<Str>& values, std::vector<std::optional<Str>>& keys) {
  for (const Word& w : elems) {
    ctx.budget->check();
    // [k]=v: the index up to the first unquoted "]=" of the literal text.
    if (!w.parts.empty() && w.parts[0].kind == WordPart::Kind::kLiteral && !w.parts[0].quoted &&
        !w.parts[0].text.empty() && w.parts[0].text[0] == '[') {
      Word key, value;
      bool in_value = false;
      for (size_t k = 0; k < w.parts.size(); ++k) {
        const WordPart& p = w.parts[k];
        if (in_value) {
          value.parts.push_back(p);
          continue;
        }
        size_t at = std::string::npos;
        if (p.kind == WordPart::Kind::kLiteral && !p.quoted) at = p.text.find("]=");
        if (at == std::string::npos) {
          key.parts.push_back(p);
          if (k == 0) key.parts.back().text.erase(0, 1);  // the '['
          continue;
        }
        WordPart kp = p;
        kp.text = p.text.substr(k == 0 ? 1 : 0, at - (k == 0 ? 1 : 0));
        key.parts.push_back(std::move(kp));
        WordPart vp = p;
        vp.text = p.text.substr(at + 2);
        value.parts.push_back(std::move(vp));
        in_value = true;
      }
      if (in_value) {
        Str ks = expand_string(ctx, st, key, io, subst_status);
        values.push_back(expand_string(ctx, st, value, io, subst_status));
        keys.emplace_back(std::move(ks));
        ctx.budget->check_words(values.size());
        continue;
      }
    }
    size_t before = values.size();
    expand(ctx, st, w, true, io, subst_status, values);
    keys.resize(keys.size() + (values.size() - before));
  }
}

Str expand_string(Ctx& ctx, State& st, const Word& w, const Io& io, int* subst_status) {
  Vec<Field> fields(ctx.alloc());
  fields.emplace_back(ctx.budget);
  Expander(ctx, st, io, subst_status, fields).word(w, true);
  Str joined = ctx.str();
  bool first = true;
  for (Field& f : fields) {
    if (!f.any && f.text.empty()) continue;
    if (!first) joined.push_back(' ');
    first = false;
    joined.append(f.text);
  }
  return joined;
}

Str expand_pattern(Ctx& ctx, State& st, const Word& w, const Io& io) {
  Str out = ctx.str();
  for (const WordPart& p : w.parts) {
    Word one;
    one.parts.push_back(p);
    Str v = p.kind == WordPart::Kind::kLiteral ? ctx.str(p.text)
                                               : expand_string(ctx, st, one, io, nullptr);
    for (char c : v) {
      if (p.quoted) {
        out.append(quote_pattern(std::string_view(&c, 1)));
        continue;
      }
      out.push_back(c);
    }
  }
  return out;
}

}  // namespace wasmcap::shell

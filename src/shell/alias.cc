// Aliases (docs/shell.md "Aliases"): the alias and unalias builtins, and reading the shell's
// input as bash does when aliases are on: one complete command at a time, each parsed with the
// aliases defined by the commands before it (the parser expands them: alias_parse.cc).
#include <algorithm>
#include <span>

#include "shell/parse.h"
#include "shell/state.h"

namespace wasmcap::shell {

namespace {

// The aliases one shell may hold, names and values together. Threat: a loop defining aliases
// without end; each subshell that changes them holds its own copy, so the bound holds per copy.
constexpr size_t kMaxAliasTableBytes = size_t{1} << 20;

bool aliases_on(const State& st) {
  return st.opt_expand_aliases && st.aliases && !st.aliases->empty();
}

// bash's legal_alias_name: no blank, shell metacharacter, quote, `$`, `/` or `=`.
bool valid_alias_name(std::string_view n) {
  return !n.empty() && n.find_first_of(" \t\n|&;()<>'\"\\`$/=") == std::string_view::npos;
}

size_t table_bytes(const AliasTable& t) {
  size_t n = 0;
  for (const auto& [k, v] : t) n += k.size() + v.size();
  return n;
}

// The table for writing: this state's own (a subshell's copy is made here, on its first change).
AliasTable& writable(State& st) {
  if (!st.aliases) {
    st.aliases = std::make_shared<AliasTable>();
  } else if (st.aliases.use_count() > 1) {
    st.aliases = std::make_shared<AliasTable>(*st.aliases);
  }
  return *st.aliases;
}

std::string alias_line(const std::string& name, const std::string& value) {
  return "alias " + name + "=" + quote_single(value) + "\n";
}

int b_alias(Ctx& ctx, State& st, std::span<const std::string_view> args, const Io& io,
            std::atomic<uint64_t>* out_b, std::atomic<uint64_t>* err_b) {
  size_t k = 0;
  bool print = false;
  for (; k < args.size() && args[k].size() > 1 && args[k][0] == '-'; ++k) {
    if (args[k] == "--") {
      ++k;
      break;
    }
    if (args[k] != "-p") {
      emit(ctx, io.err(), "wasmcap sh: alias: " + shown(args[k]) +
                              ": invalid option\nalias: usage: alias [-p] [name[=value] ... ]\n",
           err_b);
      return 2;
    }
    print = true;
  }
  std::string out;
  int status = 0;
  if (k == args.size() || print) {
    if (st.aliases) {
      for (const auto& [name, value] : *st.aliases) out += alias_line(name, value);
    }
  }
  for (; k < args.size(); ++k) {
    std::string_view a = args[k];
    size_t eq = a.find('=');
    if (eq == std::string_view::npos) {
      auto it = st.aliases ? st.aliases->find(a) : AliasTable::iterator{};
      if (!st.aliases || it == st.aliases->end()) {  // (the default iterator is not compared)
        emit(ctx, io.err(), "wasmcap sh: alias: " + shown(a) + ": not found\n", err_b);
        status = 1;
      } else {
        out += alias_line(it->first, it->second);
      }
      continue;
    }
    std::string name(a.substr(0, eq));
    if (!valid_alias_name(name)) {
      emit(ctx, io.err(), "wasmcap sh: alias: `" + shown(name) + "': invalid alias name\n", err_b);
      status = 1;
      continue;
    }
    AliasTable& t = writable(st);
    auto old = t.find(name);
    size_t now = table_bytes(t) - (old == t.end() ? 0 : old->first.size() + old->second.size());
    if (now + name.size() + (a.size() - eq - 1) > kMaxAliasTableBytes) {
      emit(ctx, io.err(),
           "wasmcap sh: alias: " + shown(name) + ": the aliases would hold more than " +
               std::to_string(kMaxAliasTableBytes >> 20) + " MiB (unalias some)\n",
           err_b);
      status = 1;
      continue;
    }
    t.insert_or_assign(std::move(name), std::string(a.substr(eq + 1)));
  }
  if (!out.empty() && !emit(ctx, io.out(), out, out_b)) return 1;
  return status;
}

int b_unalias(Ctx& ctx, State& st, std::span<const std::string_view> args, const Io& io,
              std::atomic<uint64_t>* err_b) {
  size_t k = 0;
  if (k < args.size() && args[k] == "-a") {
    if (st.aliases) writable(st).clear();
    return 0;
  }
  if (k < args.size() && args[k] == "--") ++k;
  if (k == args.size()) {
    emit(ctx, io.err(), "wasmcap sh: unalias: usage: unalias [-a] name [name ...]\n", err_b);
    return 2;
  }
  int status = 0;
  for (; k < args.size(); ++k) {
    if (!st.aliases || st.aliases->find(args[k]) == st.aliases->end()) {
      emit(ctx, io.err(), "wasmcap sh: unalias: " + shown(args[k]) + ": not found\n", err_b);
      status = 1;
      continue;
    }
    AliasTable& t = writable(st);
    t.erase(t.find(args[k]));
  }
  return status;
}

// The last line a command list's commands start on (an `if` spanning lines 2-4 whose last
// command is on line 4: 4). The AST's nesting is bounded by the parser.
int last_line(std::span<const AndOr> items);
int last_line(const Command& c) {
  int l = c.line;
  auto list = [&](std::span<const AndOr> v) { l = std::max(l, last_line(v)); };
  list(c.body);
  for (const auto& v : c.conds) list(v);
  for (const auto& v : c.bodies) list(v);
  for (const auto& it : c.items) list(it.body);
  if (c.function_body) l = std::max(l, last_line(*c.function_body));
  return l;
}
int last_line(std::span<const AndOr> items) {
  int l = 0;
  for (const AndOr& ao : items) {
    for (const Pipeline& p : ao.pipelines) {
      for (const Command& c : p.commands) l = std::max(l, last_line(c));
    }
  }
  return l;
}
int first_line(const AndOr& ao) {
  return ao.pipelines.empty() || ao.pipelines[0].commands.empty() ? 0
                                                                   : ao.pipelines[0].commands[0].line;
}

// Whether a parsed command list runs `alias` at its top level.
bool runs_alias(const std::vector<AndOr>& items) {
  for (const AndOr& ao : items) {
    for (const Pipeline& p : ao.pipelines) {
      for (const Command& c : p.commands) {
        if (!c.words.empty() && c.words[0].parts.size() == 1 &&
            c.words[0].parts[0].kind == WordPart::Kind::kLiteral &&
            !c.words[0].parts[0].quoted && c.words[0].parts[0].text == "alias") {
          return true;
        }
      }
    }
  }
  return false;
}

}  // namespace

bool is_alias_builtin(std::string_view n) { return n == "alias" || n == "unalias"; }

int run_alias_builtin(Ctx& ctx, State& st, const Vec<Str>& argv, const Io& io,
                      std::atomic<uint64_t>* out_b, std::atomic<uint64_t>* err_b) {
  std::vector<std::string_view> a;
  for (size_t k = 1; k < argv.size(); ++k) a.push_back(view(argv[k]));
  if (view(argv[0]) == "alias") return b_alias(ctx, st, a, io, out_b, err_b);
  return b_unalias(ctx, st, a, io, err_b);
}

int run_lines(Ctx& ctx, State& st, const std::string& text, const std::vector<AndOr>& items,
              const Io& io, const char* what) {
  size_t k = 0;
  while (k < items.size() && !stopping(ctx, st)) {
    if (items[k].line_begin != std::string::npos && aliases_on(st)) {
      return run_units(ctx, st, text, items[k].line_begin, items[k].line_no, io, what);
    }
    run_list(ctx, st, std::span<const AndOr>(items).subspan(k, 1), io);
    int end = last_line(std::span<const AndOr>(items).subspan(k, 1));
    ++k;
    if (!st.interactive || !st.abort_line) continue;
    // bash reads a line (and the lines a compound command on it spans) before running it: an
    // expansion error abandons what is left of that input, and the next line runs.
    st.abort_line = false;
    while (k < items.size() && first_line(items[k]) <= end) ++k;
  }
  return st.last;
}

int run_units(Ctx& ctx, State& st, const std::string& text, size_t pos, int line, const Io& io,
              const char* what, bool* syntax_error) {
  UnitReader reader(text, pos, line, ctx.budget);
  while (!reader.done() && !stopping(ctx, st)) {
    uint64_t charged = 0;
    auto script = reader.next(aliases_on(st) ? st.aliases.get() : nullptr, &charged);
    if (!script) {
      if (script.error().code == ErrorCode::kDeadlineExceeded) {
        ctx.set_fatal(script.error());
        return st.last = 1;
      }
      emit(ctx, io.err(),
           std::string("wasmcap sh: ") + what + ": " + shown(script.error().message) + "\n");
      if (syntax_error != nullptr) *syntax_error = true;
      return st.last = 2;
    }
    Budget::Lease ast(ctx.budget, charged, Budget::Lease::kAdopt);  // held by the AST
    run_list(ctx, st, script->items, io);
    st.abort_line = false;  // (sh -i: an expansion error abandoned this line; the next runs)
  }
  return st.last;
}

bool read_as_bash(Ctx& ctx, const State& st, const std::string& text) {
  if (aliases_on(st)) return true;
  UnitReader reader(text, 0, 1, ctx.budget);
  while (!reader.done()) {
    uint64_t charged = 0;
    auto script = reader.next(nullptr, &charged);
    if (!script) return false;
    Budget::Lease ast(ctx.budget, charged, Budget::Lease::kAdopt);
    if (runs_alias(script->items)) return true;
  }
  return false;
}

}  // namespace wasmcap::shell

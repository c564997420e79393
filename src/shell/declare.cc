// The builtins that declare, describe and remove variables: declare (typeset), local, readonly,
// export, unset. bash's options as far as scripts use them: -a (indexed array), -i (integer),
// -A (associative array), -l -u (case), -r (readonly), -x (exported), -g (global inside a
// function), -p (print in declare's own form). Name references (-n) are not supported: the
// builtin refuses them by name.
#include <algorithm>

#include "shell/lex.h"
#include "shell/state.h"

namespace wasmcap::shell {

namespace {

struct Out {
  Ctx& ctx;
  const Io& io;
  std::atomic<uint64_t>* out_b;
  std::atomic<uint64_t>* err_b;
  bool out(std::string_view s) { return emit(ctx, io.out(), s, out_b); }
  int say(const std::string& m, int status = 1) {
    emit(ctx, io.err(), "wasmcap sh: " + m + "\n", err_b);
    return status;
  }
};

bool valid_name(std::string_view s) {
  if (s.empty() || !detail::is_name_start(s[0])) return false;
  return std::all_of(s.begin(), s.end(), [](char c) { return detail::is_name_char(c); });
}

// "(w1 w2 [k]=w3)" as the executor renders an array literal for a declaration builtin (each
// word and key single-quoted), or as a user wrote it in one quoted word: the words and their
// subscripts' text (evaluated by assign_array: arithmetic for an indexed array).
void parse_array_text(Ctx& ctx, std::string_view text, Vec<Str>& values,
                      std::vector<std::optional<Str>>& keys) {
  std::string_view in = text.substr(1, text.size() - 2);
  size_t i = 0;
  // Reads up to an unquoted character of `stops` (or the end) into `out`, quotes removed.
  auto read = [&](std::string_view stops, Str& out) {
    while (i < in.size() && stops.find(in[i]) == std::string_view::npos) {
      char c = in[i++];
      if (c == '\'' || c == '"') {
        size_t end = in.find(c, i);
        if (end == std::string_view::npos) end = in.size();
        out.append(in.substr(i, end - i));
        i = std::min(end + 1, in.size());
      } else if (c == '\\' && i < in.size()) {
        out.push_back(in[i++]);
      } else {
        out.push_back(c);
      }
    }
  };
  while (i < in.size()) {
    ctx.budget->check();
    if (in[i] == ' ' || in[i] == '\t' || in[i] == '\n') {
      ++i;
      continue;
    }
    std::optional<Str> key;
    if (in[i] == '[') {
      size_t start = i++;
      Str k = ctx.str();
      read("]", k);
      if (i + 1 < in.size() && in[i] == ']' && in[i + 1] == '=') {
        key = std::move(k);
        i += 2;
      } else {
        i = start;  // not [k]=: a plain word
      }
    }
    Str v = ctx.str();
    read(" \t\n", v);
    values.push_back(std::move(v));
    keys.push_back(std::move(key));
    ctx.budget->check_words(values.size());
  }
}

// Every variable's name (scalars, arrays, attributes only), sorted.
std::vector<std::string> all_names(const State& st) {
  std::vector<std::string> names;
  for (const auto& [k, v] : st.vars) names.emplace_back(view(k));
  for (const auto& [k, v] : st.arrays) names.emplace_back(view(k));
  for (const auto& [k, v] : st.assocs) names.emplace_back(view(k));
  for (const auto& [k, v] : st.attrs) names.emplace_back(view(k));
  for (const auto& [k, v] : st.exported) names.emplace_back(view(k));
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  return names;
}

int unset_builtin(Ctx& ctx, State& st, Out& o, const std::vector<std::string_view>& args) {
  bool functions = false;
  int status = 0;
  for (auto arg : args) {
    if (arg == "-f" || arg == "-v") {
      functions = arg == "-f";
      continue;
    }
    if (functions) {
      auto it = st.funcs.find(arg);
      if (it != st.funcs.end()) st.funcs.erase(it);
      continue;
    }
    size_t br = arg.find('[');
    std::string_view name = arg.substr(0, br);
    if (!valid_name(name) || (br != std::string_view::npos && arg.back() != ']')) {
      status = o.say("unset: '" + shown(arg) + "': not a valid identifier");
      continue;
    }
    if (attrs_of(st, name) & kAttrReadonly) {
      status = o.say("unset: " + shown(name) + ": cannot unset: readonly variable");
      continue;
    }
    if (br != std::string_view::npos && find_assoc(st, name) != nullptr) {  // unset 'a[key]'
      // The key is expanded as a subscript is ('a["$k"]' names the key $k holds, bash).
      std::string_view sub = arg.substr(br + 1, arg.size() - br - 2);
      std::string text = std::string(sub) + "]";
      detail::ScopedParse parse(ctx.budget);
      detail::Lexer lx(text, 0, 1, 0, &parse.pc);
      auto w = lx.word(detail::Lexer::Mode::kBraceIndex);
      Str key = w && lx.pos() + 1 == text.size() ? expand_string(ctx, st, *w, o.io, nullptr)
                                                  : ctx.str(sub);
      if (key.empty()) {
        status = o.say("unset: " + shown(name) + "[]: bad array subscript");
        continue;
      }
      unset_assoc_element(st, name, view(key));
      continue;
    }
    if (br != std::string_view::npos) {  // unset a[i]
      auto i = arith_eval(ctx, st, arg.substr(br + 1, arg.size() - br - 2));
      if (!i) {
        status = o.say("unset: " + shown(i.error().message));
        continue;
      }
      if (!unset_element(st, name, *i)) {
        status = o.say("unset: [" + std::to_string(*i) + "]: bad array subscript");
      }
      continue;
    }
    // A local of a calling function (not of the one running, whose own local just becomes
    // unset): unsetting it reveals the value it shadows and it is no longer local (bash's
    // dynamic scope, without localvar_unset).
    auto local_here = [&](const std::vector<State::Saved>& f) {
      return std::any_of(f.begin(), f.end(), [&](const State::Saved& s) { return s.name == name; });
    };
    bool revealed = !st.frames.empty() && local_here(st.frames.back());
    if (revealed) {
      unset_var(st, name);
      continue;
    }
    for (auto f = st.frames.rbegin(); f != st.frames.rend() && !revealed; ++f) {
      auto it = std::find_if(f->begin(), f->end(),
                             [&](const State::Saved& s) { return s.name == name; });
      if (it == f->end()) continue;
      restore_var(ctx, st, *it);
      f->erase(it);
      revealed = true;
    }
    if (revealed) continue;
    if (find_array(st, name) == nullptr && find_assoc(st, name) == nullptr &&
        st.vars.find(name) == st.vars.end() && attrs_of(st, name) == 0 && st.funcs.find(name) != st.funcs.end()) {
      st.funcs.erase(st.funcs.find(name));  // bash: no such variable, so the function
      continue;
    }
    unset_var(st, name);
  }
  return status;
}

}  // namespace

int declare_builtin(Ctx& ctx, State& st, const Io& io, std::string_view cmd,
                    const std::vector<std::string_view>& args, std::atomic<uint64_t>* out_b,
                    std::atomic<uint64_t>* err_b) {
  Out o{ctx, io, out_b, err_b};
  if (cmd == "unset") return unset_builtin(ctx, st, o, args);
  std::string c(cmd);
  bool local = cmd == "local";
  if (local && st.frames.empty()) return o.say("local: can only be used in a function");
  unsigned add = 0, remove = 0;
  bool array = false, assoc = false, print = false, global = false, exp = false, unexp = false;
  if (cmd == "readonly") add |= kAttrReadonly;
  if (cmd == "export") exp = true;
  size_t i = 0;
  for (; i < args.size(); ++i) {
    std::string_view a = args[i];
    if (a == "--") {
      ++i;
      break;
    }
    if (a.size() < 2 || (a[0] != '-' && a[0] != '+')) break;
    bool on = a[0] == '-';
    for (char f : a.substr(1)) {
      unsigned bit = f == 'i'   ? unsigned{kAttrInteger}
                     : f == 'r' ? unsigned{kAttrReadonly}
                     : f == 'l' ? unsigned{kAttrLower}
                     : f == 'u' ? unsigned{kAttrUpper}
                                : 0u;
      if (bit != 0) {
        (on ? add : remove) |= bit;
        if (on && bit == kAttrLower) remove |= kAttrUpper;
        if (on && bit == kAttrUpper) remove |= kAttrLower;
      } else if (f == 'a') {
        array = on;
      } else if (f == 'x') {
        (on ? exp : unexp) = true;
      } else if (f == 'n' && cmd == "export") {
        unexp = on;
        exp = false;
      } else if (f == 'p') {
        print = true;
      } else if (f == 'g') {
        global = true;
      } else if (f == 'f' || f == 'F') {
        return o.say(c + ": -" + f + ": listing functions is not supported", 2);
      } else if (f == 'A') {
        assoc = on;
      } else if (f == 'n') {
        return o.say(c + ": -n: name references are not supported", 2);
      } else {
        return o.say(c + ": -" + std::string(1, f) + ": invalid option", 2);
      }
    }
  }
  if (remove & kAttrReadonly) {
    return o.say(c + ": +r: a readonly variable stays readonly", 1);
  }
  std::vector<std::string_view> names(args.begin() + static_cast<long>(i), args.end());
  if (names.empty() || print) {  // describe
    std::string text;
    int status = 0;
    if (names.empty()) {
      bool plain = !print && cmd != "readonly" && cmd != "export" && add == 0 && !exp && !array &&
                   !assoc;
      for (const auto& n : all_names(st)) {
        ctx.budget->check();
        unsigned at = attrs_of(st, n);
        if ((add & ~at) != 0) continue;
        if (exp && st.exported.find(std::string_view(n)) == st.exported.end()) continue;
        if (array && find_array(st, n) == nullptr) continue;
        if (assoc && find_assoc(st, n) == nullptr) continue;
        if (plain) {
          auto v = st.vars.find(std::string_view(n));
          if (v != st.vars.end()) text += n + "=" + quote_single(view(*v->second)) + "\n";
          continue;
        }
        text += declare_line(st, n);
      }
    } else {
      for (auto n : names) {
        std::string line = declare_line(st, n);
        if (line.empty()) {
          status = o.say(c + ": " + shown(n) + ": not found");
          continue;
        }
        text += line;
      }
    }
    return o.out(text) ? status : 1;
  }
  int status = 0;
  for (auto arg : names) {
    size_t eq = arg.find('=');
    std::string_view name = arg.substr(0, eq);
    bool append = false;
    if (eq != std::string_view::npos && eq > 0 && name.back() == '+') {
      name.remove_suffix(1);
      append = true;
    }
    if (!valid_name(name)) {
      status = o.say(c + ": '" + shown(arg) + "': not a valid identifier");
      continue;
    }
    std::optional<std::string_view> value;
    if (eq != std::string_view::npos) value = arg.substr(eq + 1);
    bool in_function = !st.frames.empty();
    if ((local || (in_function && !global && cmd != "readonly" && cmd != "export"))) {
      auto& frame = st.frames.back();
      bool saved = std::any_of(frame.begin(), frame.end(),
                               [&](const State::Saved& s) { return s.name == name; });
      if (!saved) {
        frame.push_back(save_var(st, name));
        // A new local starts unset, without the global's attributes (bash).
        if (!(attrs_of(st, name) & kAttrReadonly)) {
          bool exported = st.exported.find(name) != st.exported.end();
          unset_var(st, name);
          if (exported) st.exported.emplace(ctx.str(name), VarValue());
        }
      }
    }
    unsigned cur = attrs_of(st, name);
    if ((cur & kAttrReadonly) && (value || ((array || assoc) && find_array(st, name) == nullptr &&
                                            find_assoc(st, name) == nullptr))) {
      status = o.say(shown(name) + ": readonly variable");
      continue;
    }
    unsigned next = (cur | (add & ~kAttrReadonly)) & ~remove;
    if (next != cur) {
      if (next == 0) {
        st.attrs.erase(st.attrs.find(name));
      } else {
        st.attrs.insert_or_assign(ctx.str(name), next);
      }
    }
    if (array && find_array(st, name) == nullptr) array_for_write(ctx, st, name);
    if (assoc && find_assoc(st, name) == nullptr) assoc_for_write(ctx, st, name);
    if (value) {
      if (value->size() >= 2 && value->front() == '(' && value->back() == ')') {
        Vec<Str> values(ctx.alloc());
        std::vector<std::optional<Str>> keys;
        parse_array_text(ctx, *value, values, keys);
        assign_array(ctx, st, name, values, keys, append);
      } else {
        Str v = ctx.str(*value);
        if (append) {
          std::string tmp;
          auto old = param_value(st, name, &tmp);
          if (old) {
            Str joined = ctx.str(*old);
            if (next & kAttrInteger) {
              joined.append("+(");
              joined.append(v);
              joined.push_back(')');
            } else {
              joined.append(v);
            }
            v = std::move(joined);
          }
        }
        set_var(ctx, st, name, std::move(v));
      }
    }
    if (add & kAttrReadonly) st.attrs.insert_or_assign(ctx.str(name), next | kAttrReadonly);
    if (exp && st.exported.find(name) == st.exported.end()) {
      st.exported.emplace(ctx.str(name), VarValue());
    }
    if (unexp) {
      auto e = st.exported.find(name);
      if (e != st.exported.end()) st.exported.erase(e);
    }
  }
  return status;
}

}  // namespace wasmcap::shell

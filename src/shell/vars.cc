// Indexed arrays and variable attributes (state.h): bash's semantics over the shell's state.
// Every element is a node of a budget-charged map, so an array grows only as far as
// --max-shell-memory allows.
#include <algorithm>
#include <cstdio>

#include "shell/state.h"

namespace wasmcap::shell {

const ArrayElems* find_array(const State& st, std::string_view name) {
  auto it = st.arrays.find(name);
  return it == st.arrays.end() ? nullptr : it->second.get();
}

unsigned attrs_of(const State& st, std::string_view name) {
  auto it = st.attrs.find(name);
  return it == st.attrs.end() ? 0 : it->second;
}

void check_writable(const State& st, std::string_view name) {
  if (attrs_of(st, name) & kAttrReadonly) {
    throw AssignError{std::string(name) + ": readonly variable"};
  }
}

ArrayElems& array_for_write(Ctx& ctx, State& st, std::string_view name) {
  check_writable(st, name);
  auto it = st.arrays.find(name);
  if (it == st.arrays.end()) {
    auto fresh = std::allocate_shared<ArrayElems>(BudgetAlloc<ArrayElems>(ctx.budget),
                                                  BudgetAlloc<char>(ctx.budget));
    auto v = st.vars.find(name);
    if (v != st.vars.end()) {  // a scalar becomes element 0
      fresh->emplace(0, *v->second);
      st.vars.erase(v);
    }
    it = st.arrays.emplace(ctx.str(name), std::move(fresh)).first;
  } else if (it->second.use_count() > 1) {  // shared with a subshell's copy: copy on write
    it->second = std::allocate_shared<ArrayElems>(BudgetAlloc<ArrayElems>(ctx.budget),
                                                  *it->second);
  }
  return *it->second;
}

namespace {

// The value an attribute makes of `value` (-i: the arithmetic value, -l/-u: the case).
Str with_attrs(Ctx& ctx, State& st, unsigned a, Str value) {
  if (a & kAttrInteger) {
    auto v = arith_eval(ctx, st, view(value));
    if (!v) throw AssignError{v.error().message};
    return ctx.str(std::to_string(*v));
  }
  if (a & (kAttrLower | kAttrUpper)) {
    for (char& c : value) {
      c = static_cast<char>((a & kAttrLower) ? std::tolower(static_cast<unsigned char>(c))
                                             : std::toupper(static_cast<unsigned char>(c)));
    }
  }
  return value;
}

}  // namespace

void set_var(Ctx& ctx, State& st, std::string_view name, Str value) {
  unsigned a = attrs_of(st, name);
  if (a & kAttrReadonly) throw AssignError{std::string(name) + ": readonly variable"};
  if (a != 0) value = with_attrs(ctx, st, a, std::move(value));
  if (name == "OPTIND") st.getopts_char = 0;  // an assignment restarts getopts (bash)
  if (name == "PATH") st.hashed.clear();        // a new PATH forgets what was found (bash)
  if (st.arrays.find(name) != st.arrays.end()) {
    array_for_write(ctx, st, name).insert_or_assign(0, std::move(value));
    return;
  }
  if (st.opt_allexport && st.exported.find(name) == st.exported.end()) {  // set -a
    st.exported.emplace(ctx.str(name), VarValue());
  }
  VarValue v = std::allocate_shared<Str>(BudgetAlloc<Str>(ctx.budget), std::move(value));
  auto it = st.vars.find(name);
  if (it != st.vars.end()) {
    it->second = std::move(v);
  } else {
    st.vars.emplace(ctx.str(name), std::move(v));
  }
}

void unset_var(State& st, std::string_view name) {
  if (name == "PATH") st.hashed.clear();
  auto it = st.vars.find(name);
  if (it != st.vars.end()) st.vars.erase(it);
  auto ar = st.arrays.find(name);
  if (ar != st.arrays.end()) st.arrays.erase(ar);
  auto at = st.attrs.find(name);
  if (at != st.attrs.end()) st.attrs.erase(at);
  auto e = st.exported.find(name);
  if (e != st.exported.end()) st.exported.erase(e);
}

void set_element(Ctx& ctx, State& st, std::string_view name, int64_t index, Str value) {
  unsigned a = attrs_of(st, name);
  if (a & kAttrReadonly) throw AssignError{std::string(name) + ": readonly variable"};
  if (a != 0) value = with_attrs(ctx, st, a, std::move(value));
  ArrayElems& arr = array_for_write(ctx, st, name);
  if (index < 0) {
    int64_t end = arr.empty() ? 0 : arr.rbegin()->first + 1;
    if (end + index < 0) {
      throw AssignError{std::string(name) + "[" + std::to_string(index) +
                        "]: bad array subscript"};
    }
    index += end;
  }
  arr.insert_or_assign(index, std::move(value));
}

bool unset_element(State& st, std::string_view name, int64_t index) {
  auto it = st.arrays.find(name);
  if (it == st.arrays.end()) {
    if (index == 0 || index == -1) {
      auto v = st.vars.find(name);
      if (v != st.vars.end()) st.vars.erase(v);
    }
    return true;
  }
  const ArrayElems& arr = *it->second;
  if (index < 0) {
    int64_t end = arr.empty() ? 0 : arr.rbegin()->first + 1;
    if (end + index < 0) return false;
    index += end;
  }
  if (arr.find(index) == arr.end()) return true;
  if (it->second.use_count() > 1) {
    it->second = std::allocate_shared<ArrayElems>(
        BudgetAlloc<ArrayElems>(arr.get_allocator().budget()), arr);
  }
  it->second->erase(index);
  return true;
}

void assign_array(Ctx& ctx, State& st, std::string_view name, const Vec<Str>& values,
                  const std::vector<std::optional<int64_t>>& keys, bool append) {
  unsigned a = attrs_of(st, name);
  if (a & kAttrReadonly) throw AssignError{std::string(name) + ": readonly variable"};
  if (!append) {
    auto v = st.vars.find(name);
    if (v != st.vars.end()) st.vars.erase(v);
    auto ar = st.arrays.find(name);
    if (ar != st.arrays.end()) st.arrays.erase(ar);
  }
  ArrayElems& arr = array_for_write(ctx, st, name);
  int64_t next = arr.empty() ? 0 : arr.rbegin()->first + 1;
  for (size_t k = 0; k < values.size(); ++k) {
    ctx.budget->check();
    int64_t at = k < keys.size() && keys[k] ? *keys[k] : next;
    if (at < 0) {
      int64_t end = arr.empty() ? 0 : arr.rbegin()->first + 1;
      if (end + at < 0) {
        throw AssignError{std::string(name) + "[" + std::to_string(at) + "]: bad array subscript"};
      }
      at += end;
    }
    Str v = a != 0 ? with_attrs(ctx, st, a, values[k]) : values[k];
    arr.insert_or_assign(at, std::move(v));
    next = at + 1;
  }
}

State::Saved save_var(const State& st, std::string_view name) {
  State::Saved s{std::string(name), std::nullopt};
  auto v = st.vars.find(name);
  if (v != st.vars.end()) s.value = v->second;
  auto a = st.arrays.find(name);
  if (a != st.arrays.end()) s.array = a->second;
  s.attrs = attrs_of(st, name);
  s.exported = st.exported.find(name) != st.exported.end();
  return s;
}

void restore_var(Ctx& ctx, State& st, const State::Saved& s) {
  unset_var(st, s.name);
  if (s.exported) st.exported.emplace(ctx.str(s.name), VarValue());
  if (s.value) st.vars.emplace(ctx.str(s.name), *s.value);
  if (s.array) st.arrays.emplace(ctx.str(s.name), *s.array);
  if (s.attrs != 0) st.attrs.emplace(ctx.str(s.name), s.attrs);
}

std::string quote_single(std::string_view v) {
  std::string q = "'";
  for (char c : v) {
    if (c == '\'') {
      q += "'\\''";
    } else {
      q.push_back(c);
    }
  }
  q.push_back('\'');
  return q;
}

std::string quote_for_reuse(std::string_view v) {
  bool ctl = false;
  for (unsigned char c : v) ctl = ctl || c < 0x20 || c == 0x7f;
  if (!ctl) return quote_single(v);
  std::string q = "$'";
  for (unsigned char c : v) {
    switch (c) {
      case '\n': q += "\\n"; break;
      case '\t': q += "\\t"; break;
      case '\r': q += "\\r"; break;
      case 0x1b: q += "\\E"; break;
      case '\a': q += "\\a"; break;
      case '\b': q += "\\b"; break;
      case '\f': q += "\\f"; break;
      case '\v': q += "\\v"; break;
      case '\'': q += "\\'"; break;
      case '\\': q += "\\\\"; break;
      default:
        if (c < 0x20 || c == 0x7f) {
          char b[8];
          std::snprintf(b, sizeof b, "\\%03o", c);
          q += b;
        } else {
          q.push_back(static_cast<char>(c));
        }
    }
  }
  q.push_back('\'');
  return q;
}


std::string quote_double(std::string_view v) {
  std::string q = "\"";
  for (char c : v) {
    if (c == '"' || c == '\\' || c == '$' || c == '`') q.push_back('\\');
    q.push_back(c);
  }
  q.push_back('"');
  return q;
}

std::string declare_line(const State& st, std::string_view name) {
  unsigned a = attrs_of(st, name);
  const ArrayElems* arr = find_array(st, name);
  auto v = st.vars.find(name);
  bool exported = st.exported.find(name) != st.exported.end();
  if (arr == nullptr && v == st.vars.end() && a == 0 && !exported) return "";
  std::string flags;
  if (arr != nullptr) flags += 'a';
  if (a & kAttrInteger) flags += 'i';
  if (a & kAttrLower) flags += 'l';
  if (a & kAttrReadonly) flags += 'r';
  if (a & kAttrUpper) flags += 'u';
  if (exported) flags += 'x';
  std::string line = "declare -";
  line.append(flags.empty() ? std::string("-") : flags);
  line.push_back(' ');
  line.append(name.data(), name.size());
  if (arr != nullptr) {
    line += "=(";
    bool first = true;
    for (const auto& [k, e] : *arr) {
      if (!first) line.push_back(' ');
      first = false;
      line.push_back('[');
      line.append(std::to_string(k));
      line.append("]=");
      line.append(quote_double(view(e)));
    }
    line += ")";
  } else if (v != st.vars.end()) {
    line.push_back('=');
    line.append(quote_double(view(*v->second)));
  }
  line.push_back('\n');
  return line;
}

}  // namespace wasmcap::shell

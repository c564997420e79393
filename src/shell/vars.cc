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
  if (find_assoc(st, name) != nullptr) {
    throw AssignError{std::string(name) + ": cannot convert associative to indexed array"};
  }
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

const Assoc* find_assoc(const State& st, std::string_view name) {
  auto it = st.assocs.find(name);
  return it == st.assocs.end() ? nullptr : it->second.get();
}

Assoc& assoc_for_write(Ctx& ctx, State& st, std::string_view name) {
  check_writable(st, name);
  if (find_array(st, name) != nullptr) {
    throw AssignError{std::string(name) + ": cannot convert indexed to associative array"};
  }
  auto it = st.assocs.find(name);
  if (it == st.assocs.end()) {
    auto fresh = std::allocate_shared<Assoc>(BudgetAlloc<Assoc>(ctx.budget), ctx.budget);
    auto v = st.vars.find(name);
    if (v != st.vars.end()) {  // a scalar becomes key "0" (bash)
      fresh->elems.emplace(ctx.str("0"), AssocEntry{*v->second, fresh->next_seq++});
      fresh->assigned = true;
      st.vars.erase(v);
    }
    it = st.assocs.emplace(ctx.str(name), std::move(fresh)).first;
  } else if (it->second.use_count() > 1) {  // shared with a subshell's copy: copy on write
    it->second = std::allocate_shared<Assoc>(BudgetAlloc<Assoc>(ctx.budget), *it->second);
  }
  return *it->second;
}

namespace {

// Adds or replaces a[key]; a new key takes the next seq, and grows bash's table first when it
// holds twice as many keys as buckets.
void assoc_put(Ctx& ctx, Assoc& a, Str key, Str value) {
  a.assigned = true;
  auto it = a.elems.find(view(key));
  if (it != a.elems.end()) {
    it->second.value = std::move(value);
    return;
  }
  if (a.elems.size() >= a.buckets * 2) {
    a.buckets *= 4;
    a.grown.push_back(a.next_seq);
  }
  ctx.budget->check();
  a.elems.emplace(std::move(key), AssocEntry{std::move(value), a.next_seq++});
}

uint32_t fnv1(std::string_view s) {
  uint32_t h = 2166136261u;
  for (unsigned char c : s) {
    h *= 16777619u;
    h ^= c;
  }
  return h;
}

}  // namespace

std::vector<const AssocElems::value_type*> assoc_order(const Assoc& a) {
  // Replays the additions of the keys present (a removal reorders nothing) into chains of
  // bash's table: each addition goes to its bucket's head; a growth re-adds every key, bucket
  // by bucket, each chain from its head, to its new bucket's head.
  std::vector<const AssocElems::value_type*> byseq;
  byseq.reserve(a.elems.size());
  for (const auto& e : a.elems) byseq.push_back(&e);
  std::sort(byseq.begin(), byseq.end(),
            [](const auto* x, const auto* y) { return x->second.seq < y->second.seq; });
  constexpr uint32_t kNone = UINT32_MAX;
  std::vector<uint32_t> next(byseq.size(), kNone);
  std::vector<uint32_t> head(1024, kNone);
  auto bucket = [&](uint32_t i) { return fnv1(view(byseq[i]->first)) & (head.size() - 1); };
  size_t g = 0;
  for (uint32_t i = 0; i < byseq.size(); ++i) {
    while (g < a.grown.size() && a.grown[g] <= byseq[i]->second.seq) {
      std::vector<uint32_t> old(head.size() * 4, kNone);
      old.swap(head);
      for (uint32_t c : old) {
        while (c != kNone) {
          uint32_t after = next[c];
          size_t b = bucket(c);
          next[c] = head[b];
          head[b] = c;
          c = after;
        }
      }
      ++g;
    }
    size_t b = bucket(i);
    next[i] = head[b];
    head[b] = i;
  }
  std::vector<const AssocElems::value_type*> out;
  out.reserve(byseq.size());
  for (uint32_t c : head) {
    for (; c != kNone; c = next[c]) out.push_back(byseq[c]);
  }
  return out;
}

void unset_assoc_element(State& st, std::string_view name, std::string_view key) {
  auto it = st.assocs.find(name);
  if (it == st.assocs.end() || it->second->elems.find(key) == it->second->elems.end()) return;
  if (it->second.use_count() > 1) {
    it->second = std::allocate_shared<Assoc>(
        BudgetAlloc<Assoc>(it->second->elems.get_allocator().budget()), *it->second);
  }
  it->second->elems.erase(it->second->elems.find(key));
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

void set_assoc_element(Ctx& ctx, State& st, std::string_view name, Str key, Str value) {
  if (key.empty()) throw AssignError{std::string(name) + "[]: bad array subscript"};
  unsigned a = attrs_of(st, name);
  if (a & kAttrReadonly) throw AssignError{std::string(name) + ": readonly variable"};
  if (a != 0) value = with_attrs(ctx, st, a, std::move(value));
  assoc_put(ctx, assoc_for_write(ctx, st, name), std::move(key), std::move(value));
}

namespace {

// RANDOM=N's seed: N's leading decimal number (as bash's strtol), mixed so that nearby seeds
// start far apart.
uint64_t seed_of(std::string_view v) {
  size_t k = 0;
  while (k < v.size() && (v[k] == ' ' || v[k] == '\t')) ++k;
  bool neg = k < v.size() && v[k] == '-';
  if (k < v.size() && (v[k] == '-' || v[k] == '+')) ++k;
  uint64_t n = 0;
  for (; k < v.size() && v[k] >= '0' && v[k] <= '9'; ++k) {
    n = n * 10 + static_cast<uint64_t>(v[k] - '0');
  }
  if (neg) n = ~n + 1;
  return (n ^ 0x5851f42d4c957f2du) * 0x2545f4914f6cdd1du;
}

}  // namespace

void set_var(Ctx& ctx, State& st, std::string_view name, Str value) {
  unsigned a = attrs_of(st, name);
  if (a & kAttrReadonly) throw AssignError{std::string(name) + ": readonly variable"};
  if (a != 0) value = with_attrs(ctx, st, a, std::move(value));
  if (name == "OPTIND") st.getopts_char = 0;  // an assignment restarts getopts (bash)
  if (name == "RANDOM" && st.vars.find(name) == st.vars.end() && find_array(st, name) == nullptr &&
      find_assoc(st, name) == nullptr) {
    // bash: RANDOM=N seeds the generator (the same N, the same numbers after it) and RANDOM
    // stays dynamic. This state's own generator from here: a subshell's seed stays there.
    auto r = std::make_shared<ShellRandom>();
    r->state = seed_of(view(value));
    st.random = std::move(r);
    return;
  }
  if (name == "PATH") st.hashed.clear();        // a new PATH forgets what was found (bash)
  if (st.arrays.find(name) != st.arrays.end()) {
    array_for_write(ctx, st, name).insert_or_assign(0, std::move(value));
    return;
  }
  if (st.assocs.find(name) != st.assocs.end()) {  // an associative array's key "0" (bash)
    assoc_put(ctx, assoc_for_write(ctx, st, name), ctx.str("0"), std::move(value));
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
  auto as = st.assocs.find(name);
  if (as != st.assocs.end()) st.assocs.erase(as);
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
                  const std::vector<std::optional<Str>>& keys, bool append) {
  unsigned a = attrs_of(st, name);
  if (a & kAttrReadonly) throw AssignError{std::string(name) + ": readonly variable"};
  auto keyed = [&](size_t k) { return k < keys.size() && keys[k].has_value(); };
  if (find_assoc(st, name) != nullptr) {
    Assoc& as = assoc_for_write(ctx, st, name);
    if (!append) as.elems.clear();
    as.assigned = true;
    bool any_key = false;
    for (size_t k = 0; k < values.size(); ++k) any_key = any_key || keyed(k);
    std::string unkeyed;  // bash skips a value without a key, and says so
    for (size_t k = 0; k < values.size(); ++k) {
      ctx.budget->check();
      if (!any_key) {  // key value key value ... (a last key without a value: empty)
        if (values[k].empty()) throw AssignError{std::string(name) + "[]: bad array subscript"};
        Str v = k + 1 < values.size() ? values[k + 1] : ctx.str();
        if (a != 0) v = with_attrs(ctx, st, a, std::move(v));
        assoc_put(ctx, as, values[k], std::move(v));
        ++k;
        continue;
      }
      if (!keyed(k)) {
        if (unkeyed.empty()) unkeyed = std::string(view(values[k]));
        continue;
      }
      if (keys[k]->empty()) throw AssignError{std::string(name) + "[]: bad array subscript"};
      Str v = a != 0 ? with_attrs(ctx, st, a, values[k]) : values[k];
      assoc_put(ctx, as, *keys[k], std::move(v));
    }
    if (!unkeyed.empty()) {
      throw AssignError{std::string(name) + ": " + unkeyed +
                        ": must use subscript when assigning associative array"};
    }
    return;
  }
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
    int64_t at = next;
    if (keyed(k)) {
      auto i = arith_eval(ctx, st, view(*keys[k]));
      if (!i) throw AssignError{i.error().message};
      at = *i;
    }
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
  auto as = st.assocs.find(name);
  if (as != st.assocs.end()) s.assoc = as->second;
  s.attrs = attrs_of(st, name);
  s.exported = st.exported.find(name) != st.exported.end();
  return s;
}

void restore_var(Ctx& ctx, State& st, const State::Saved& s) {
  unset_var(st, s.name);
  if (s.exported) st.exported.emplace(ctx.str(s.name), VarValue());
  if (s.value) st.vars.emplace(ctx.str(s.name), *s.value);
  if (s.array) st.arrays.emplace(ctx.str(s.name), *s.array);
  if (s.assoc) st.assocs.emplace(ctx.str(s.name), *s.assoc);
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

// A value in declare -p and ${a[@]@K}: "double-quoted", or $'...' when it holds a control
// character (bash 5.2's ansic_shouldquote; its C locale's octal for bytes past 0x7f is not
// followed: the shell's default locale is UTF-8).
std::string quote_value(std::string_view v) {
  for (unsigned char c : v) {
    if (c < 0x20 || c == 0x7f) return quote_for_reuse(v);
  }
  return quote_double(v);
}

// An associative array's key in declare -p: as it is, "double-quoted" when it holds a character
// the shell reads specially, $'...' with a control character (bash's choice).
std::string quote_assoc_key(std::string_view k) {
  bool meta = false;
  for (size_t i = 0; i < k.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(k[i]);
    if (c < 0x20 || c == 0x7f) return quote_for_reuse(k);
    if (std::string_view(" \t\n'\"\\|&;()<>!{}*[?]^$`").find(static_cast<char>(c)) !=
        std::string_view::npos) {
      meta = true;
    } else if (c == '~' && (i == 0 || k[i - 1] == '=' || k[i - 1] == ':')) {
      meta = true;
    } else if (c == '#' && i == 0) {
      meta = true;
    }
  }
  return meta ? quote_double(k) : std::string(k);
}

std::optional<std::string> key_value_words(Ctx& ctx, const State& st, std::string_view name) {
  std::string kv;
  if (const Assoc* as = find_assoc(st, name)) {
    for (const auto* e : assoc_order(*as)) {  // (bash: each pair followed by a space)
      ctx.budget->check();
      kv += quote_assoc_key(view(e->first)) + " " + quote_value(view(e->second.value)) + " ";
    }
    return kv;
  }
  const ArrayElems* arr = find_array(st, name);
  if (arr == nullptr) return std::nullopt;
  for (const auto& [k, e] : *arr) {
    ctx.budget->check();
    if (!kv.empty()) kv.push_back(' ');
    kv += std::to_string(k) + " " + quote_value(view(e));
  }
  return kv;
}

std::string declare_line(const State& st, std::string_view name) {
  unsigned a = attrs_of(st, name);
  const ArrayElems* arr = find_array(st, name);
  const Assoc* as = find_assoc(st, name);
  auto v = st.vars.find(name);
  bool exported = st.exported.find(name) != st.exported.end();
  std::string tmp;
  const char* dyn_flags = "";
  std::optional<std::string_view> dyn;
  if (arr == nullptr && as == nullptr && v == st.vars.end()) {
    dyn = dynamic_value(st, name, &tmp, &dyn_flags);
  }
  if (arr == nullptr && as == nullptr && v == st.vars.end() && !dyn && a == 0 && !exported) {
    return "";
  }
  std::string flags;
  if (arr != nullptr) flags += 'a';
  if (as != nullptr) flags += 'A';
  if ((a & kAttrInteger) || *dyn_flags == 'i') flags += 'i';
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
      line.append(quote_value(view(e)));
    }
    line += ")";
  } else if (as != nullptr) {
    // bash: `declare -A a` alone shows no value; each entry is followed by a space.
    if (as->assigned || !as->elems.empty()) {
      line += "=(";
      for (const auto* e : assoc_order(*as)) {
        line.push_back('[');
        line.append(quote_assoc_key(view(e->first)));
        line.append("]=");
        line.append(quote_value(view(e->second.value)));
        line.push_back(' ');
      }
      line += ")";
    }
  } else if (v != st.vars.end() || dyn) {
    line.push_back('=');
    line.append(quote_value(dyn ? *dyn : view(*v->second)));
  }
  line.push_back('\n');
  return line;
}

}  // namespace wasmcap::shell

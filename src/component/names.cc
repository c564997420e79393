// Import and export names (Explainer.md, "Import and Export Definitions"): plain names (labels,
// [constructor]/[method]/[static] annotated) and interface names (ns:pkg/iface@semver), their
// strong uniqueness, and the host-facing summary of a component's imports.
#include <algorithm>
#include <string>
#include <string_view>

#include "component/component.h"

namespace wasmcap::component {
namespace {

bool lower(char c) { return c >= 'a' && c <= 'z'; }
bool upper(char c) { return c >= 'A' && c <= 'Z'; }
bool digit(char c) { return c >= '0' && c <= '9'; }

// words ::= first-word ('-' word)*  (lowercase only)
bool valid_words(std::string_view s) {
  if (s.empty() || !lower(s[0])) return false;
  bool after_dash = false;
  for (char c : s) {
    if (c == '-') {
      if (after_dash) return false;
      after_dash = true;
    } else if (lower(c) || digit(c)) {
      after_dash = false;
    } else {
      return false;
    }
  }
  return !after_dash;
}

// A numeric semver part: 0 or no leading zero.
bool semver_number(std::string_view s) {
  if (s.empty() || s.size() > 20) return false;
  for (char c : s) {
    if (!digit(c)) return false;
  }
  return s.size() == 1 || s[0] != '0';
}

// Dot-separated identifiers of [0-9A-Za-z-]; numeric ones without leading zeros when `pre`.
bool semver_idents(std::string_view s, bool pre) {
  if (s.empty()) return false;
  size_t start = 0;
  while (true) {
    size_t dot = s.find('.', start);
    std::string_view id = s.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
    if (id.empty()) return false;
    bool numeric = true;
    for (char c : id) {
      if (!(lower(c) || upper(c) || digit(c) || c == '-')) return false;
      if (!digit(c)) numeric = false;
    }
    if (pre && numeric && id.size() > 1 && id[0] == '0') return false;
    if (dot == std::string_view::npos) return true;
    start = dot + 1;
  }
}

bool valid_semver(std::string_view v) {
  size_t plus = v.find('+');
  if (plus != std::string_view::npos) {
    if (!semver_idents(v.substr(plus + 1), false)) return false;
    v = v.substr(0, plus);
  }
  size_t dash = v.find('-');
  if (dash != std::string_view::npos) {
    if (!semver_idents(v.substr(dash + 1), true)) return false;
    v = v.substr(0, dash);
  }
  size_t d1 = v.find('.');
  if (d1 == std::string_view::npos) return false;
  size_t d2 = v.find('.', d1 + 1);
  if (d2 == std::string_view::npos) return false;
  return semver_number(v.substr(0, d1)) && semver_number(v.substr(d1 + 1, d2 - d1 - 1)) &&
         semver_number(v.substr(d2 + 1));
}

bool valid_interface_name(std::string_view s) {
  size_t colon = s.find(':');
  if (colon == std::string_view::npos || !valid_words(s.substr(0, colon))) return false;
  std::string_view rest = s.substr(colon + 1);
  size_t at = rest.find('@');
  std::string_view path = rest.substr(0, at);
  if (at != std::string_view::npos && !valid_semver(rest.substr(at + 1))) return false;
  size_t slash = path.find('/');
  if (slash == std::string_view::npos) return false;
  return valid_words(path.substr(0, slash)) && valid_label(path.substr(slash + 1));
}

bool starts_with(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

}  // namespace

bool valid_label(std::string_view s) {
  if (s.empty()) return false;
  size_t start = 0;
  bool first = true;
  while (true) {
    size_t dash = s.find('-', start);
    std::string_view frag =
        s.substr(start, dash == std::string_view::npos ? std::string_view::npos : dash - start);
    if (frag.empty()) return false;
    if (first && !lower(frag[0]) && !upper(frag[0])) return false;
    // A word ([0-9a-z]+) or an acronym ([0-9A-Z]+), never both cases in one fragment.
    bool has_lower = false, has_upper = false;
    for (char c : frag) {
      if (lower(c)) {
        has_lower = true;
      } else if (upper(c)) {
        has_upper = true;
      } else if (!digit(c)) {
        return false;
      }
    }
    if (has_lower && has_upper) return false;
    if (dash == std::string_view::npos) return true;
    start = dash + 1;
    first = false;
  }
}

bool valid_extern_name(std::string_view s) {
  if (s.find(':') != std::string_view::npos) return valid_interface_name(s);
  if (starts_with(s, "[constructor]")) return valid_label(s.substr(13));
  for (std::string_view p : {std::string_view("[method]"), std::string_view("[static]")}) {
    if (starts_with(s, p)) {
      std::string_view rest = s.substr(p.size());
      size_t dot = rest.find('.');
      return dot != std::string_view::npos && valid_label(rest.substr(0, dot)) &&
             valid_label(rest.substr(dot + 1));
    }
  }
  return valid_label(s);
}

std::string strongly_unique_key(std::string_view s) {
  std::string k(s);
  for (char& c : k) {
    if (upper(c)) c = static_cast<char>(c - 'A' + 'a');
  }
  for (std::string_view p : {std::string_view("[method]"), std::string_view("[static]")}) {
    if (starts_with(k, p)) {
      std::string rest = k.substr(p.size());
      size_t dot = rest.find('.');
      if (dot != std::string::npos && rest.substr(0, dot) == rest.substr(dot + 1)) {
        return rest.substr(0, dot);
      }
      return rest;
    }
  }
  return k;
}

const char* sort_name(Sort s) {
  static const char* const names[] = {
      "core func", "core table", "core memory", "core global", "core tag", "core type",
      "core module", "core instance", "func", "value", "type", "component", "instance"};
  return names[static_cast<size_t>(s)];
}

ExportPath split_export_path(std::string_view name) {
  size_t hash = name.find('#');
  if (hash == std::string_view::npos) return ExportPath{false, {}, name};
  return ExportPath{true, name.substr(0, hash), name.substr(hash + 1)};
}

uint32_t exported_func_type(const Decoded& d, std::string_view name) {
  // Exports are looked up by exact name, as the run-time instance's export map is (instantiate.cc).
  auto find = [&](uint32_t type, std::string_view n, Sort sort) -> const Decl* {
    if (type >= d.types.size()) return nullptr;
    for (const Decl& e : d.types[type].exports) {
      if (e.name == n && e.desc.sort == sort) return &e;
    }
    return nullptr;
  };
  ExportPath p = split_export_path(name);
  uint32_t scope = d.root.type;
  if (p.in_instance) {
    const Decl* inst = find(scope, p.instance, Sort::kInstance);
    if (inst == nullptr) return kNone;
    scope = inst->desc.type;
  }
  const Decl* f = find(scope, p.func, Sort::kFunc);
  if (f == nullptr || f->desc.type >= d.types.size() || d.types[f->desc.type].kind != TypeKind::kFunc) return kNone;
  return f->desc.type;
}

std::vector<std::string> exported_function_names(const Decoded& d) {
  std::vector<std::string> out;
  if (d.root.type >= d.types.size()) return out;
  for (const Decl& e : d.types[d.root.type].exports) {
    if (e.desc.sort == Sort::kFunc) out.push_back(e.name);
    if (e.desc.sort != Sort::kInstance || e.desc.type >= d.types.size()) continue;
    for (const Decl& f : d.types[e.desc.type].exports) {
      if (f.desc.sort == Sort::kFunc) out.push_back(e.name + "#" + f.name);
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

namespace {

// Appends `t`'s WIT text to `out` until it is longer than `max`: every call appends before it
// recurses, so the work is bounded by `max` whatever the type's expansion.
void append_wit(const Decoded& d, ValType t, std::string& out, size_t max) {
  if (out.size() > max) return;
  if (t.is_prim) {
    out += prim_name(t.prim);
    return;
  }
  if (t.type >= d.types.size()) {
    out += "?";
    return;
  }
  const TypeDef& def = d.types[t.type];
  auto list = [&](const char* open, bool named, bool typed, const char* sep_type, const char* close) {
    out += open;
    for (size_t i = 0; i < def.fields.size() && out.size() <= max; ++i) {
      if (i > 0) out += ", ";
      if (named) out += def.fields[i].name;
      if (typed && def.fields[i].has_type) {
        out += sep_type;
        append_wit(d, def.fields[i].type, out, max);
        if (std::string_view(sep_type) == "(") out += ")";
      }
    }
    out += close;
  };
  switch (def.kind) {
    case TypeKind::kPrimAlias: out += prim_name(def.prim); return;
    case TypeKind::kList:
    case TypeKind::kOption:
      out += def.kind == TypeKind::kList ? "list<" : "option<";
      append_wit(d, def.a, out, max);
      out += ">";
      return;
    case TypeKind::kResult:
      out += "result";
      if (!def.has_a && !def.has_b) return;
      out += "<";
      if (def.has_a) append_wit(d, def.a, out, max);
      else out += "_";
      if (def.has_b) {
        out += ", ";
        append_wit(d, def.b, out, max);
      }
      out += ">";
      return;
    case TypeKind::kTuple: list("tuple<", false, true, "", ">"); return;
    case TypeKind::kRecord: list("record { ", true, true, ": ", " }"); return;
    case TypeKind::kVariant: list("variant { ", true, true, "(", " }"); return;
    case TypeKind::kEnum: list("enum { ", true, false, "", " }"); return;
    case TypeKind::kFlags: list("flags { ", true, false, "", " }"); return;
    case TypeKind::kOwn: out += "own<resource>"; return;
    case TypeKind::kBorrow: out += "borrow<resource>"; return;
    default: out += "?"; return;
  }
}

std::string cut(std::string s, size_t max) {
  if (s.size() > max) s = s.substr(0, max) + "...";
  return s;
}

}  // namespace

std::string wit_type_text(const Decoded& d, ValType t, size_t max_chars) {
  std::string out;
  append_wit(d, t, out, max_chars);
  return cut(std::move(out), max_chars);
}

std::string wit_func_text(const Decoded& d, const TypeDef& func, size_t max_chars) {
  std::string out = "(";
  for (size_t i = 0; i < func.fields.size() && out.size() <= max_chars; ++i) {
    if (i > 0) out += ", ";
    out += func.fields[i].name + ": " + wit_type_text(d, func.fields[i].type);
  }
  out += ")";
  if (func.has_a) out += " -> " + wit_type_text(d, func.a);
  return cut(std::move(out), max_chars);
}

std::string describe_imports(const Decoded& d, size_t max_listed) {
  const std::vector<Import>& imports = d.root.imports;
  if (imports.empty()) return "no imports";
  std::string s = std::to_string(imports.size()) + (imports.size() == 1 ? " import: " : " imports: ");
  for (size_t i = 0; i < imports.size() && i < max_listed; ++i) {
    if (i > 0) s += ", ";
    s += display_untrusted(imports[i].name, 128);
    s += " (";
    s += sort_name(imports[i].desc.sort);
    s += ")";
  }
  if (imports.size() > max_listed) s += ", ... (" + std::to_string(imports.size() - max_listed) + " more)";
  return s;
}

}  // namespace wasmcap::component

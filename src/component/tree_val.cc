// Component values <-> typed trees (tree_val.h; docs/components.md, "Values as trees").
#include "component/tree_val.h"

#include <cmath>
#include <limits>

#include "common/json.h"
#include "common/utf8.h"
#include "component/runtime.h"
#include "component/val_rules.h"

namespace wasmcap::component {
namespace {

using Kind = ComponentValue::Kind;
using val_rules::bad;
using val_rules::Budget;
using val_rules::find_field;
using val_rules::is_option;
using val_rules::kF32Overflow;
using val_rules::names_of;

// ComponentValue's kinds are val.h's ValKind in the same order (without own and borrow): a
// kind converts by its number.
static_assert(static_cast<int>(Kind::kString) == static_cast<int>(ValKind::kString) &&
                  static_cast<int>(Kind::kList) == static_cast<int>(ValKind::kList) &&
                  static_cast<int>(Kind::kFlags) == static_cast<int>(ValKind::kFlags),
              "ComponentValue::Kind and ValKind moved apart");
static_assert(static_cast<int>(Kind::kString) == static_cast<int>(Prim::kString) &&
                  static_cast<int>(Kind::kChar) == static_cast<int>(Prim::kChar),
              "ComponentValue::Kind and Prim moved apart");

// The tree kind of a WIT type (never called for own/borrow: resources are refused first).
Kind kind_for(const Ty& t) {
  return static_cast<Kind>(static_cast<uint8_t>(kind_of(t)));
}

std::string type_text(const Ty& t) {
  if (t.prim) return prim_name(t.p);
  return tree_kind_name(kind_for(t));
}

// ---- tree -> Val ----

struct In {
  const Decoded& d;
  Budget b;

  tl::unexpected<Error> wrong(const std::string& path, const Ty& t, const ComponentValue& v) {
    return tl::unexpected(bad(path, "expected " + type_text(t) + ", got " + tree_kind_name(v.kind)));
  }

  Result<Val> integer(Prim p, const ComponentValue& v, const std::string& path) {
    int64_t lo = 0;
    uint64_t hi = 0;
    switch (p) {
      case Prim::kS8: lo = INT8_MIN, hi = INT8_MAX; break;
      case Prim::kU8: hi = UINT8_MAX; break;
      case Prim::kS16: lo = INT16_MIN, hi = INT16_MAX; break;
      case Prim::kU16: hi = UINT16_MAX; break;
      case Prim::kS32: lo = INT32_MIN, hi = INT32_MAX; break;
      case Prim::kU32: hi = UINT32_MAX; break;
      case Prim::kS64: lo = INT64_MIN, hi = INT64_MAX; break;
      default: hi = UINT64_MAX; break;
    }
    const bool is_signed = lo < 0;
    const bool in_range = is_signed ? static_cast<int64_t>(v.bits) >= lo && static_cast<int64_t>(v.bits) <= static_cast<int64_t>(hi)
                                    : v.bits <= hi;
    if (!in_range) {
      return tl::unexpected(bad(path, std::string("a ") + prim_name(p) + " out of range (" +
                                          (is_signed ? std::to_string(static_cast<int64_t>(v.bits)) : std::to_string(v.bits)) +
                                          ")"));
    }
    return int_val(p, v.bits);
  }

  Result<Val> conv(ValType vt, const ComponentValue& v, const std::string& path);
};

Result<Val> In::conv(ValType vt, const ComponentValue& v, const std::string& path) {
  WASMCAP_TRY(b.node(path));
  const Ty t = resolve(d, vt);
  if (t.prim) {
    if (static_cast<uint8_t>(v.kind) != static_cast<uint8_t>(t.p)) return wrong(path, t, v);
    switch (t.p) {
      case Prim::kBool:
        if (v.bits > 1) return tl::unexpected(bad(path, "a bool is 0 or 1, got " + std::to_string(v.bits)));
        return Val::boolean(v.bits != 0);
      case Prim::kF32:
        if (std::isfinite(v.f) && std::fabs(v.f) >= kF32Overflow) {
          return tl::unexpected(bad(path, "an f32 of magnitude beyond 3.4028235677973366e38"));
        }
        return Val::f32(static_cast<float>(v.f));
      case Prim::kF64: return Val::f64(v.f);
      case Prim::kChar:
        if (!utf8::is_scalar_value(v.bits)) {
          return tl::unexpected(bad(path, "a char is a Unicode scalar value, got " + std::to_string(v.bits)));
        }
        return Val::character(static_cast<uint32_t>(v.bits));
      case Prim::kString:
        if (!valid_utf8(reinterpret_cast<const uint8_t*>(v.text.data()), v.text.size())) {
          return tl::unexpected(bad(path, "a string that is not valid UTF-8"));
        }
        WASMCAP_TRY(b.take(path, v.text.size()));
        return Val::string(v.text);
      default: return integer(t.p, v, path);
    }
  }
  const TypeDef& def = *t.def;
  if (def.kind == TypeKind::kOwn || def.kind == TypeKind::kBorrow) {
    return tl::unexpected(bad(path, "resource handles are not values a caller can give (docs/components.md)"));
  }
  if (v.kind != kind_for(t)) return wrong(path, t, v);
  switch (def.kind) {
    case TypeKind::kList: {
      WASMCAP_TRY(b.fits(path, v.items.size()));
      std::vector<Val> items;
      items.reserve(v.items.size());
      for (size_t i = 0; i < v.items.size(); ++i) {
        Val e{};
        WASMCAP_TRY_ASSIGN(e, conv(def.a, v.items[i], json::index_path(path, i)));
        items.push_back(std::move(e));
      }
      return Val::list(std::move(items));
    }
    case TypeKind::kTuple: {
      if (v.items.size() != def.fields.size()) {
        return tl::unexpected(bad(path, "a tuple of " + std::to_string(def.fields.size()) + " elements, got " +
                                            std::to_string(v.items.size())));
      }
      std::vector<Val> items;
      for (size_t i = 0; i < v.items.size(); ++i) {
        Val e{};
        WASMCAP_TRY_ASSIGN(e, conv(def.fields[i].type, v.items[i], json::index_path(path, i)));
        items.push_back(std::move(e));
      }
      return Val::tuple(std::move(items));
    }
    case TypeKind::kRecord: {
      if (v.names.size() != v.items.size()) {
        return tl::unexpected(bad(path, "a record names each of its values (" + std::to_string(v.names.size()) +
                                            " names for " + std::to_string(v.items.size()) + " values)"));
      }
      std::vector<int> given(def.fields.size(), -1);
      for (size_t i = 0; i < v.names.size(); ++i) {
        const int f = find_field(def.fields, v.names[i]);
        const std::string fpath = json::member_path(path, v.names[i]);
        if (f < 0) return tl::unexpected(bad(fpath, "unknown field (the record's fields: " + names_of(def.fields) + ")"));
        if (given[static_cast<size_t>(f)] >= 0) return tl::unexpected(bad(fpath, "field given twice"));
        given[static_cast<size_t>(f)] = static_cast<int>(i);
      }
      std::vector<Val> items;
      for (size_t f = 0; f < def.fields.size(); ++f) {
        const Field& field = def.fields[f];
        if (given[f] < 0) {
          // An option field left out is none (as in JSON).
          if (is_option(d, field.type)) {
            items.push_back(Val::none());
            continue;
          }
          return tl::unexpected(bad(path, "missing field " + field.name));
        }
        Val e{};
        WASMCAP_TRY_ASSIGN(e, conv(field.type, v.items[static_cast<size_t>(given[f])], json::member_path(path, field.name)));
        items.push_back(std::move(e));
      }
      return Val::record(std::move(items));
    }
    case TypeKind::kVariant: {
      const int c = find_field(def.fields, v.text);
      if (c < 0) return tl::unexpected(bad(path, "expected a case of " + names_of(def.fields) + ", got " + json::quote(v.text)));
      const Field& f = def.fields[static_cast<size_t>(c)];
      if (!f.has_type) {
        if (!v.items.empty()) return tl::unexpected(bad(path, "case " + f.name + " has no payload"));
        return Val::variant(static_cast<uint32_t>(c));
      }
      if (v.items.size() != 1) return tl::unexpected(bad(path, "case " + f.name + " needs one payload"));
      Val p{};
      WASMCAP_TRY_ASSIGN(p, conv(f.type, v.items[0], json::member_path(path, f.name)));
      return Val::variant(static_cast<uint32_t>(c), std::move(p));
    }
    case TypeKind::kEnum: {
      const int c = find_field(def.fields, v.text);
      if (c < 0) return tl::unexpected(bad(path, "expected one of " + names_of(def.fields) + ", got " + json::quote(v.text)));
      return Val::enumeration(static_cast<uint32_t>(c));
    }
    case TypeKind::kFlags: {
      uint32_t set = 0;
      for (size_t i = 0; i < v.names.size(); ++i) {
        WASMCAP_TRY(b.node(path));
        const int c = find_field(def.fields, v.names[i]);
        if (c < 0) {
          return tl::unexpected(bad(path, "expected labels of " + names_of(def.fields) + ", got " + json::quote(v.names[i])));
        }
        const uint32_t bit = uint32_t{1} << c;
        if (set & bit) return tl::unexpected(bad(path, "flag " + v.names[i] + " given twice"));
        set |= bit;
      }
      return Val::flags(set);
    }
    case TypeKind::kOption: {
      if (v.items.empty()) return Val::none();
      if (v.items.size() != 1) return tl::unexpected(bad(path, "an option holds at most one value"));
      Val p{};
      WASMCAP_TRY_ASSIGN(p, conv(def.a, v.items[0], path));
      return Val::some(std::move(p));
    }
    case TypeKind::kResult: {
      if (v.bits > 1) return tl::unexpected(bad(path, "a result is ok (0) or err (1), got " + std::to_string(v.bits)));
      const bool err = v.bits == 1;
      const bool has = err ? def.has_b : def.has_a;
      const char* which = err ? "err" : "ok";
      if (!has) {
        if (!v.items.empty()) return tl::unexpected(bad(path, std::string("this result's ") + which + " has no payload"));
        return err ? Val::err() : Val::ok();
      }
      if (v.items.size() != 1) return tl::unexpected(bad(path, std::string("this result's ") + which + " needs one payload"));
      Val p{};
      WASMCAP_TRY_ASSIGN(p, conv(err ? def.b : def.a, v.items[0], json::member_path(path, which)));
      return err ? Val::err(std::move(p)) : Val::ok(std::move(p));
    }
    default: return wrong(path, t, v);
  }
}

// ---- Val -> tree ----

struct Out {
  const Decoded& d;
  Budget b;

  Result<ComponentValue> conv(ValType vt, const Val& v, const std::string& path);
};

Result<ComponentValue> Out::conv(ValType vt, const Val& v, const std::string& path) {
  WASMCAP_TRY(b.node(path));
  const Ty t = resolve(d, vt);
  const ValKind want = kind_of(t);
  if (v.kind != want || want == ValKind::kOwn || want == ValKind::kBorrow) {
    return tl::unexpected(bad(path, std::string("a ") + val_kind_name(v.kind) + " where the type is " +
                                        val_kind_name(want)));
  }
  ComponentValue out;
  out.kind = kind_for(t);
  if (t.prim) {
    switch (t.p) {
      case Prim::kF32: case Prim::kF64: out.f = v.f; break;
      case Prim::kString:
        if (!valid_utf8(reinterpret_cast<const uint8_t*>(v.str.data()), v.str.size())) {
          return tl::unexpected(bad(path, "a string that is not valid UTF-8"));
        }
        WASMCAP_TRY(b.take(path, v.str.size()));
        out.text = v.str;
        break;
      case Prim::kChar:
        if (!utf8::is_scalar_value(v.bits)) {
          return tl::unexpected(bad(path, "a char that is not a Unicode scalar value"));
        }
        out.bits = v.bits;
        break;
      default: out.bits = int_val(t.p, v.bits).bits; break;
    }
    return out;
  }
  const TypeDef& def = *t.def;
  auto payload = [&](ValType pt, const std::string& ppath) -> Result<void> {
    ComponentValue p;
    WASMCAP_TRY_ASSIGN(p, conv(pt, v.items[0], ppath));
    out.items.push_back(std::move(p));
    return {};
  };
  switch (def.kind) {
    case TypeKind::kList:
      WASMCAP_TRY(b.fits(path, v.items.size()));
      out.items.reserve(v.items.size());
      for (size_t i = 0; i < v.items.size(); ++i) {
        ComponentValue e;
        WASMCAP_TRY_ASSIGN(e, conv(def.a, v.items[i], json::index_path(path, i)));
        out.items.push_back(std::move(e));
      }
      return out;
    case TypeKind::kTuple:
    case TypeKind::kRecord:
      if (v.items.size() != def.fields.size()) return tl::unexpected(bad(path, "a value of the wrong arity"));
      for (size_t i = 0; i < v.items.size(); ++i) {
        const Field& f = def.fields[i];
        ComponentValue e;
        WASMCAP_TRY_ASSIGN(e, conv(f.type, v.items[i],
                                   def.kind == TypeKind::kRecord ? json::member_path(path, f.name) : json::index_path(path, i)));
        out.items.push_back(std::move(e));
        if (def.kind == TypeKind::kRecord) out.names.push_back(f.name);
      }
      return out;
    case TypeKind::kVariant: {
      if (v.bits >= def.fields.size()) return tl::unexpected(bad(path, "a case out of range"));
      const Field& f = def.fields[v.bits];
      out.text = f.name;
      if (f.has_type != !v.items.empty()) return tl::unexpected(bad(path, "a payload that does not match its case"));
      if (f.has_type) WASMCAP_TRY(payload(f.type, json::member_path(path, f.name)));
      return out;
    }
    case TypeKind::kEnum:
      if (v.bits >= def.fields.size()) return tl::unexpected(bad(path, "a case out of range"));
      out.text = def.fields[v.bits].name;
      return out;
    case TypeKind::kFlags:
      for (size_t i = 0; i < def.fields.size() && i < 32; ++i) {
        if (v.bits & (uint64_t{1} << i)) out.names.push_back(def.fields[i].name);
      }
      if (def.fields.size() < 64 && (v.bits >> def.fields.size()) != 0) return tl::unexpected(bad(path, "flags out of range"));
      return out;
    case TypeKind::kOption:
      if (v.bits > 1 || v.items.size() != v.bits) return tl::unexpected(bad(path, "an option of the wrong shape"));
      if (v.bits == 1) WASMCAP_TRY(payload(def.a, path));
      return out;
    case TypeKind::kResult: {
      if (v.bits > 1) return tl::unexpected(bad(path, "a result of the wrong shape"));
      const bool err = v.bits == 1;
      out.bits = v.bits;
      const bool has = err ? def.has_b : def.has_a;
      if (has != !v.items.empty()) return tl::unexpected(bad(path, "a result payload that does not match its type"));
      if (has) WASMCAP_TRY(payload(err ? def.b : def.a, json::member_path(path, err ? "err" : "ok")));
      return out;
    }
    default: return tl::unexpected(bad(path, "a value of an unsupported type"));
  }
}

}  // namespace

const char* tree_kind_name(ComponentValue::Kind k) {
  switch (k) {
    case Kind::kList: return "list";
    case Kind::kRecord: return "record";
    case Kind::kTuple: return "tuple";
    case Kind::kVariant: return "variant";
    case Kind::kEnum: return "enum";
    case Kind::kOption: return "option";
    case Kind::kResult: return "result";
    case Kind::kFlags: return "flags";
    default:
      if (static_cast<uint8_t>(k) <= static_cast<uint8_t>(Kind::kString)) return prim_name(static_cast<Prim>(k));
      return "an unknown kind";
  }
}

Result<std::vector<Val>> tree_to_args(const Decoded& d, const TypeDef& func, const std::vector<ComponentValue>& args,
                                      const JsonValOptions& o) {
  if (args.size() != func.fields.size()) {
    return tl::unexpected(bad(o.path, "the function takes " + std::to_string(func.fields.size()) + " arguments (" +
                                          names_of(func.fields) + "), got " + std::to_string(args.size())));
  }
  In in{d, Budget{o, "values"}};
  std::vector<Val> out;
  for (size_t i = 0; i < args.size(); ++i) {
    Val v{};
    WASMCAP_TRY_ASSIGN(v, in.conv(func.fields[i].type, args[i], json::member_path(o.path, func.fields[i].name)));
    out.push_back(std::move(v));
  }
  return out;
}

Result<Val> tree_to_val(const Decoded& d, ValType t, const ComponentValue& v, const JsonValOptions& o) {
  In in{d, Budget{o, "values"}};
  return in.conv(t, v, o.path);
}

Result<ComponentValue> val_to_tree(const Decoded& d, ValType t, const Val& v, const JsonValOptions& o) {
  Out out{d, Budget{o, "values"}};
  return out.conv(t, v, o.path);
}

}  // namespace wasmcap::component

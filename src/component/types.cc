// Type definitions of the component binary format (Binary.md, "Type Definitions"): defined value
// types with their Canonical ABI sizes and flattening (CanonicalABI.md), function types,
// component and instance types with their declarators, resource types.
#include <algorithm>
#include <set>

#include "component/decoder.h"

namespace wasmcap::component {
namespace {

constexpr uint32_t kFlatSaturate = 1000;

bool prim_of(uint8_t b, Prim* p) {
  if (b < 0x73 || b > 0x7f) return false;
  *p = static_cast<Prim>(0x7f - b);
  return true;
}

struct Info {
  uint32_t depth = 0, size = 1, flat = 1;
  uint64_t elem = 1;
  uint32_t align = 1;
  bool list_or_string = false, borrow = false;
};

Info prim_info(Prim p) {
  Info i;
  switch (p) {
    case Prim::kBool: case Prim::kS8: case Prim::kU8: i.elem = 1, i.align = 1; break;
    case Prim::kS16: case Prim::kU16: i.elem = 2, i.align = 2; break;
    case Prim::kS32: case Prim::kU32: case Prim::kF32: case Prim::kChar: i.elem = 4, i.align = 4; break;
    case Prim::kS64: case Prim::kU64: case Prim::kF64: i.elem = 8, i.align = 8; break;
    case Prim::kString: i.elem = 8, i.align = 4, i.flat = 2, i.list_or_string = true; break;
  }
  return i;
}

uint64_t align_to(uint64_t n, uint32_t a) { return (n + a - 1) / a * a; }
uint64_t sat_elem(uint64_t n) { return std::min<uint64_t>(n, kMaxElemSize * 2); }
uint32_t sat_add(uint32_t a, uint32_t b, uint32_t cap) { return std::min<uint64_t>(uint64_t{a} + b, cap); }
uint32_t disc_size(size_t cases) { return cases <= 256 ? 1 : cases <= 65536 ? 2 : 4; }

}  // namespace

const char* prim_name(Prim p) {
  static const char* const names[] = {"bool", "s8", "u8", "s16", "u16", "s32", "u32",
                                      "s64", "u64", "f32", "f64", "char", "string"};
  return names[static_cast<size_t>(p)];
}

bool is_value_kind(TypeKind k) {
  return k <= TypeKind::kPrimAlias;
}

uint32_t Decoder::new_type(Reader& r, TypeDef&& t) {
  if (!r.ok()) return kNone;
  if (out.types.size() >= kMaxTypes) {
    r.unsupported("more than wasmcap's bound of " + std::to_string(kMaxTypes) + " type definitions");
    return kNone;
  }
  out.types.push_back(std::move(t));
  return static_cast<uint32_t>(out.types.size() - 1);
}

const TypeDef* Decoder::type_of(Reader& r, Scope& s, uint32_t idx, size_t offset) {
  const SpaceEntry* e = at(r, s, Sort::kType, idx, "type", offset);
  if (e == nullptr || e->type >= out.types.size()) return nullptr;
  return &out.types[e->type];
}

bool Decoder::valtype(Reader& r, Scope& s, ValType* v) {
  if (!r.ok()) return false;
  size_t at_off = r.offset();
  if (r.at_end()) return r.fail("unexpected end while reading a value type");
  uint8_t b = r.base()[r.offset()];
  if (b == 0x64) return r.unsupported("error-context (component model 0.3) is not supported");
  Prim p;
  if (prim_of(b, &p)) {
    r.byte("value type");
    *v = ValType{true, p, kNone};
    return true;
  }
  int64_t idx = r.s33("value type index");
  if (!r.ok()) return false;
  if (idx < 0) return r.fail_at(at_off, "unknown value type code");
  const TypeDef* t = type_of(r, s, static_cast<uint32_t>(idx), at_off);
  if (t == nullptr) return false;
  if (!is_value_kind(t->kind)) {
    return r.fail_at(at_off, "type " + std::to_string(idx) + " used as a value type is not a defined value type");
  }
  *v = ValType{false, Prim::kBool, s.space(Sort::kType)[idx].type};
  return true;
}

// Computes depth, size, flattening and memory layout of a value type from its parts, and checks
// the bounds on them.
bool Decoder::finish_valtype(Reader& r, TypeDef* t, size_t offset) {
  auto info_of = [&](const ValType& v) {
    if (v.is_prim) return prim_info(v.prim);
    const TypeDef& d = out.types[v.type];
    Info i;
    i.depth = d.depth, i.size = d.size_nodes, i.flat = d.flat_count, i.elem = d.elem_size;
    i.align = d.align, i.list_or_string = d.has_list_or_string, i.borrow = d.has_borrow;
    return i;
  };
  Info res;
  res.depth = 0;
  auto child = [&](const Info& c) {
    res.depth = std::max(res.depth, c.depth);
    res.size = sat_add(res.size, c.size, kMaxTypeSize + 1);
    res.list_or_string |= c.list_or_string;
    res.borrow |= c.borrow;
  };
  // A variant-like type: cases with optional payloads.
  auto variant = [&](const std::vector<const ValType*>& payloads, size_t ncases) {
    uint32_t dsize = disc_size(ncases);
    uint32_t max_align = 1;
    uint64_t max_size = 0;
    uint32_t max_flat = 0;
    for (const ValType* p : payloads) {
      if (p == nullptr) continue;
      Info c = info_of(*p);
      child(c);
      max_align = std::max(max_align, c.align);
      max_size = std::max(max_size, c.elem);
      max_flat = std::max(max_flat, c.flat);
    }
    res.align = std::max(dsize, max_align);
    res.elem = sat_elem(align_to(align_to(dsize, max_align) + max_size, res.align));
    res.flat = sat_add(1, max_flat, kFlatSaturate);
  };
  switch (t->kind) {
    case TypeKind::kPrimAlias:
      res = prim_info(t->prim);
      res.depth = 0;
      break;
    case TypeKind::kRecord:
    case TypeKind::kTuple: {
      uint64_t size = 0;
      uint32_t align = 1, flat = 0;
      for (const Field& f : t->fields) {
        Info c = info_of(f.type);
        child(c);
        size = sat_elem(align_to(size, c.align) + c.elem);
        align = std::max(align, c.align);
        flat = sat_add(flat, c.flat, kFlatSaturate);
      }
      res.elem = sat_elem(align_to(size, align));
      res.align = align;
      res.flat = flat;
      break;
    }
    case TypeKind::kVariant: {
      std::vector<const ValType*> p;
      p.reserve(t->fields.size());
      for (const Field& f : t->fields) p.push_back(f.has_type ? &f.type : nullptr);
      variant(p, t->fields.size());
      break;
    }
    case TypeKind::kOption: variant({nullptr, &t->a}, 2); break;
    case TypeKind::kResult:
      variant({t->has_a ? &t->a : nullptr, t->has_b ? &t->b : nullptr}, 2);
      break;
    case TypeKind::kList: {
      child(info_of(t->a));
      res.elem = 8, res.align = 4, res.flat = 2, res.list_or_string = true;
      break;
    }
    case TypeKind::kFlags: {
      size_t n = t->fields.size();
      res.elem = res.align = n <= 8 ? 1 : n <= 16 ? 2 : 4;
      res.flat = 1;
      break;
    }
    case TypeKind::kEnum:
      res.elem = res.align = disc_size(t->fields.size());
      res.flat = 1;
      break;
    case TypeKind::kOwn:
    case TypeKind::kBorrow:
      res.elem = res.align = 4, res.flat = 1;
      res.borrow = t->kind == TypeKind::kBorrow;
      break;
    default:
      return r.fail_at(offset, "internal: not a value type");
  }
  res.depth += 1;
  if (res.depth > kMaxValTypeDepth) {
    return r.unsupported_at(offset, "value type nested deeper than wasmcap's bound of " +
                                        std::to_string(kMaxValTypeDepth));
  }
  if (res.size > kMaxTypeSize) {
    return r.unsupported_at(offset, "value type larger than wasmcap's bound of " +
                                        std::to_string(kMaxTypeSize) + " nodes");
  }
  // (The spec's elem_size < 2^28 follows from the node bound: static_assert in component.h.)
  t->depth = res.depth, t->size_nodes = res.size, t->flat_count = res.flat;
  t->elem_size = res.elem, t->align = res.align;
  t->has_list_or_string = res.list_or_string, t->has_borrow = res.borrow;
  return true;
}

uint32_t Decoder::flat_count(const ValType& v) const {
  if (v.is_prim) return prim_info(v.prim).flat;
  return out.types[v.type].flat_count;
}

bool Decoder::needs_memory(const ValType& v) const {
  if (v.is_prim) return v.prim == Prim::kString;
  return out.types[v.type].has_list_or_string;
}

bool Decoder::defvaltype(Reader& r, Scope& s, uint8_t op, TypeDef* t) {
  size_t at_off = r.offset() - 1;
  // Labels of one record, variant, flags or enum: valid and strongly-unique.
  std::set<std::string> keys;
  auto label = [&](Field* f, const char* what) {
    size_t lo = r.offset();
    f->name = std::string(r.name(what));
    if (!r.ok()) return false;
    if (!valid_label(f->name)) {
      return r.fail_at(lo, std::string(what) + " " + quote_untrusted(f->name) + " is not a valid label");
    }
    if (!keys.insert(strongly_unique_key(f->name)).second) {
      return r.fail_at(lo, std::string(what) + " " + quote_untrusted(f->name) + " is not unique");
    }
    return true;
  };
  auto nonempty = [&](uint32_t n, const char* what) {
    return n > 0 || r.fail_at(at_off, std::string(what) + " with no elements");
  };
  Prim p;
  if (prim_of(op, &p)) {
    t->kind = TypeKind::kPrimAlias;
    t->prim = p;
  } else {
    switch (op) {
      case 0x72: {  // record
        t->kind = TypeKind::kRecord;
        uint32_t n = r.count("record field", kMaxItems);
        if (!nonempty(n, "record") && r.ok()) return false;
        t->fields.resize(n);
        for (Field& f : t->fields) {
          if (!label(&f, "record field") || !valtype(r, s, &f.type)) return false;
          f.has_type = true;
        }
        break;
      }
      case 0x71: {  // variant
        t->kind = TypeKind::kVariant;
        uint32_t n = r.count("variant case", kMaxItems);
        if (!nonempty(n, "variant") && r.ok()) return false;
        t->fields.resize(n);
        for (Field& f : t->fields) {
          if (!label(&f, "variant case")) return false;
          uint8_t has = r.byte("variant case payload flag");
          if (has == 1) {
            f.has_type = true;
            if (!valtype(r, s, &f.type)) return false;
          } else if (has != 0 && r.ok()) {
            return r.fail_at(r.offset() - 1, "variant case payload flag must be 0 or 1");
          }
          size_t ro = r.offset();
          if (r.byte("variant case refinement") != 0 && r.ok()) {
            return r.fail_at(ro, "variant case refinement must be 0x00");
          }
        }
        break;
      }
      case 0x70:
        t->kind = TypeKind::kList;
        t->has_a = valtype(r, s, &t->a);
        break;
      case 0x67:
        return r.unsupported_at(at_off, "fixed-length lists are not supported");
      case 0x6f: {  // tuple
        t->kind = TypeKind::kTuple;
        uint32_t n = r.count("tuple element", kMaxItems);
        if (!nonempty(n, "tuple") && r.ok()) return false;
        t->fields.resize(n);
        for (Field& f : t->fields) {
          if (!valtype(r, s, &f.type)) return false;
          f.has_type = true;
        }
        break;
      }
      case 0x6e:
      case 0x6d: {  // flags, enum
        t->kind = op == 0x6e ? TypeKind::kFlags : TypeKind::kEnum;
        const char* what = op == 0x6e ? "flags label" : "enum case";
        size_t co = r.offset();
        uint32_t n = r.count(what, kMaxItems);
        if (!nonempty(n, op == 0x6e ? "flags" : "enum") && r.ok()) return false;
        if (op == 0x6e && n > kMaxFlags) {
          return r.fail_at(co, "flags with " + std::to_string(n) + " labels (at most 32)");
        }
        t->fields.resize(n);
        for (Field& f : t->fields) {
          if (!label(&f, what)) return false;
        }
        break;
      }
      case 0x6b:
        t->kind = TypeKind::kOption;
        t->has_a = valtype(r, s, &t->a);
        break;
      case 0x6a: {  // result
        t->kind = TypeKind::kResult;
        for (int k = 0; k < 2; ++k) {
          size_t fo = r.offset();
          uint8_t has = r.byte("result payload flag");
          if (has > 1) return r.fail_at(fo, "result payload flag must be 0 or 1");
          if (has == 1) {
            ValType* v = k == 0 ? &t->a : &t->b;
            if (!valtype(r, s, v)) return false;
            (k == 0 ? t->has_a : t->has_b) = true;
          }
        }
        break;
      }
      case 0x69:
      case 0x68: {  // own, borrow
        t->kind = op == 0x69 ? TypeKind::kOwn : TypeKind::kBorrow;
        size_t io = r.offset();
        uint32_t idx = r.u32("resource type index");
        const TypeDef* rt = type_of(r, s, idx, io);
        if (rt == nullptr) return false;
        if (rt->kind != TypeKind::kResource) {
          return r.fail_at(io, std::string(op == 0x69 ? "own" : "borrow") + " of type " +
                                   std::to_string(idx) + ", which is not a resource type");
        }
        t->resource = s.space(Sort::kType)[idx].type;
        break;
      }
      case 0x66:
      case 0x65:
        return r.unsupported_at(at_off, "streams and futures (component model 0.3) are not supported");
      case 0x63:
        return r.unsupported_at(at_off, "map types are not supported");
      default: {
        char b[8];
        std::snprintf(b, sizeof b, "0x%02x", op);
        return r.fail_at(at_off, std::string("unknown type definition code ") + b);
      }
    }
  }
  if (!r.ok()) return false;
  return finish_valtype(r, t, at_off);
}

bool Decoder::functype(Reader& r, Scope& s, TypeDef* t) {
  t->kind = TypeKind::kFunc;
  std::set<std::string> keys;
  uint32_t n = r.count("function parameter", kMaxItems);
  t->fields.resize(n);
  for (Field& f : t->fields) {
    size_t lo = r.offset();
    f.name = std::string(r.name("parameter name"));
    if (!r.ok()) return false;
    if (!valid_label(f.name)) {
      return r.fail_at(lo, "parameter name " + quote_untrusted(f.name) + " is not a valid label");
    }
    if (!keys.insert(strongly_unique_key(f.name)).second) {
      return r.fail_at(lo, "parameter name " + quote_untrusted(f.name) + " is not unique");
    }
    if (!valtype(r, s, &f.type)) return false;
    f.has_type = true;
  }
  size_t ro = r.offset();
  uint8_t kind = r.byte("result list");
  if (kind == 0x00) {
    if (!valtype(r, s, &t->a)) return false;
    t->has_a = true;
    if (!t->a.is_prim && out.types[t->a.type].has_borrow) {
      return r.fail_at(ro, "a function result contains a borrow handle");
    }
  } else if (kind == 0x01) {
    if (r.byte("empty result list") != 0 && r.ok()) {
      return r.fail_at(ro, "named function results are not part of the component model any more");
    }
  } else if (r.ok()) {
    return r.fail_at(ro, "unknown result list code");
  }
  return r.ok();
}

bool Decoder::type_scope(Reader& r, Scope& parent, bool component_type, uint32_t* id) {
  if (parent.depth + 1 > kMaxScopeDepth) {
    return r.unsupported("component and instance types nested deeper than wasmcap's bound of " +
                         std::to_string(kMaxScopeDepth));
  }
  TypeDef t;
  t.kind = component_type ? TypeKind::kComponent : TypeKind::kInstance;
  uint32_t tid = new_type(r, std::move(t));
  if (tid == kNone) return false;
  Scope s;
  s.kind = component_type ? ScopeKind::kComponentType : ScopeKind::kInstanceType;
  s.parent = &parent;
  s.depth = parent.depth + 1;
  s.type = tid;
  uint32_t n = r.count("declarator", kMaxIndexSpace);
  for (uint32_t i = 0; i < n && r.ok(); ++i) {
    size_t doff = r.offset();
    uint8_t d = r.byte("declarator");
    if (d == 0x03 && component_type) {
      Decl decl;
      if (!import_or_export_decl(r, s, true, &decl)) return false;
      out.types[tid].imports.push_back(std::move(decl));
    } else if (d == 0x00) {
      if (!core_type_entry(r, s)) return false;
    } else if (d == 0x01) {
      if (!r.at_end() && r.base()[r.offset()] == 0x3f) {
        return r.fail("resource type definitions are not allowed in component and instance types");
      }
      if (!type_entry(r, s)) return false;
    } else if (d == 0x02) {
      Alias a;
      if (!alias(r, s, true, &a)) return false;
    } else if (d == 0x04) {
      Decl decl;
      if (!import_or_export_decl(r, s, false, &decl)) return false;
      out.types[tid].exports.push_back(std::move(decl));
    } else if (r.ok()) {
      return r.fail_at(doff, "unknown " + std::string(component_type ? "component" : "instance") +
                                 " type declarator");
    }
  }
  if (!r.ok()) return false;
  index_exports(tid);
  *id = tid;
  return true;
}

bool Decoder::type_entry(Reader& r, Scope& s) {
  size_t at_off = r.offset();
  uint8_t op = r.byte("type definition");
  if (!r.ok()) return false;
  uint32_t id = kNone;
  if (op == 0x40) {
    TypeDef t;
    if (!functype(r, s, &t)) return false;
    id = new_type(r, std::move(t));
  } else if (op == 0x43) {
    return r.unsupported_at(at_off, "async function types (component model 0.3) are not supported");
  } else if (op == 0x41 || op == 0x42) {
    if (!type_scope(r, s, op == 0x41, &id)) return false;
  } else if (op == 0x3f) {
    TypeDef t;
    t.kind = TypeKind::kResource;
    t.resource_local = true;
    size_t ro = r.offset();
    if (r.byte("resource representation") != 0x7f && r.ok()) {
      return r.fail_at(ro, "a resource's representation must be i32");
    }
    uint8_t has = r.byte("resource destructor flag");
    if (has == 1) {
      size_t fo = r.offset();
      uint32_t f = r.u32("resource destructor");
      if (at(r, s, Sort::kCoreFunc, f, "core func (resource destructor)", fo) == nullptr) return false;
      t.resource_dtor = f;
    } else if (has != 0 && r.ok()) {
      return r.fail_at(r.offset() - 1, "resource destructor flag must be 0 or 1");
    }
    id = new_type(r, std::move(t));
  } else {
    TypeDef t;
    if (!defvaltype(r, s, op, &t)) return false;
    id = new_type(r, std::move(t));
  }
  if (id == kNone) return false;
  return push(r, s, Sort::kType, SpaceEntry{Origin::kDefinition, id, id});
}

bool Decoder::externtype(Reader& r, Scope& s, ExternDesc* d) {
  size_t at_off = r.offset();
  uint8_t k = r.byte("extern type");
  if (!r.ok()) return false;
  auto want = [&](TypeKind kind, const char* what) {
    size_t io = r.offset();
    uint32_t idx = r.u32("type index");
    const TypeDef* t = type_of(r, s, idx, io);
    if (t == nullptr) return false;
    if (t->kind != kind) {
      return r.fail_at(io, "type " + std::to_string(idx) + " is not a " + what + " type");
    }
    d->type = s.space(Sort::kType)[idx].type;
    return true;
  };
  switch (k) {
    case 0x00: {
      size_t mo = r.offset();
      if (r.byte("core module extern type") != 0x11 && r.ok()) {
        return r.fail_at(mo, "a core extern type must be a core module (0x11)");
      }
      d->sort = Sort::kCoreModule;
      uint32_t idx = r.u32("core type index");
      const SpaceEntry* e = at(r, s, Sort::kCoreType, idx, "core type", mo + 1);
      if (e == nullptr) return false;
      if (out.types[e->type].kind != TypeKind::kCoreModule) {
        return r.fail_at(mo + 1, "core type " + std::to_string(idx) + " is not a module type");
      }
      d->type = e->type;
      return true;
    }
    case 0x01: d->sort = Sort::kFunc; return want(TypeKind::kFunc, "function");
    case 0x02:
      return r.unsupported_at(at_off, "value imports and exports are not supported");
    case 0x03: {
      d->sort = Sort::kType;
      size_t bo = r.offset();
      uint8_t bound = r.byte("type bound");
      if (bound == 0x00) {
        uint32_t idx = r.u32("type index");
        if (at(r, s, Sort::kType, idx, "type", bo + 1) == nullptr) return false;
        d->type = s.space(Sort::kType)[idx].type;
        return true;
      }
      if (bound == 0x01) {
        TypeDef t;
        t.kind = TypeKind::kResource;
        d->type = new_type(r, std::move(t));
        d->sub_resource = true;
        return d->type != kNone;
      }
      return r.ok() && r.fail_at(bo, "unknown type bound");
    }
    case 0x04: d->sort = Sort::kComponent; return want(TypeKind::kComponent, "component");
    case 0x05: d->sort = Sort::kInstance; return want(TypeKind::kInstance, "instance");
    default: return r.fail_at(at_off, "unknown extern type");
  }
}

void Decoder::index_exports(uint32_t type) {
  if (export_index_.size() <= type) {
    export_index_.resize(type + 1);
    core_export_index_.resize(type + 1);
  }
  const TypeDef& t = out.types[type];
  std::vector<uint32_t>& e = export_index_[type];
  e.resize(t.exports.size());
  for (uint32_t i = 0; i < e.size(); ++i) e[i] = i;
  std::sort(e.begin(), e.end(), [&](uint32_t a, uint32_t b) { return t.exports[a].name < t.exports[b].name; });
  std::vector<uint32_t>& c = core_export_index_[type];
  c.resize(t.core_exports.size());
  for (uint32_t i = 0; i < c.size(); ++i) c[i] = i;
  std::sort(c.begin(), c.end(),
            [&](uint32_t a, uint32_t b) { return t.core_exports[a].name < t.core_exports[b].name; });
}

int Decoder::find_export(uint32_t type, std::string_view name) const {
  if (type >= export_index_.size()) return -1;
  const TypeDef& t = out.types[type];
  const std::vector<uint32_t>& e = export_index_[type];
  auto it = std::lower_bound(e.begin(), e.end(), name,
                             [&](uint32_t a, std::string_view n) { return t.exports[a].name < n; });
  if (it == e.end() || t.exports[*it].name != name) return -1;
  return static_cast<int>(*it);
}

int Decoder::find_core_export(uint32_t type, std::string_view name) const {
  if (type >= core_export_index_.size()) return -1;
  const TypeDef& t = out.types[type];
  const std::vector<uint32_t>& e = core_export_index_[type];
  auto it = std::lower_bound(e.begin(), e.end(), name, [&](uint32_t a, std::string_view n) {
    return t.core_exports[a].name < n;
  });
  if (it == e.end() || t.core_exports[*it].name != name) return -1;
  return static_cast<int>(*it);
}

}  // namespace wasmcap::component

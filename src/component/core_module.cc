// Core definitions inside a component: core types (function and module types, Binary.md
// "core:type"), and the scan of an embedded core module's imports and exports, which the
// component's core instantiations and core export aliases are checked against. The module itself
// (code, its own index spaces) is validated by the engine that loads it (src/engine).
#include <cstring>

#include "component/decoder.h"

namespace wasmcap::component {
namespace {

// An unsigned LEB128 of at most 64 bits; the value is not needed, only its validity.
bool skip_u64(Reader& r, const char* what) {
  size_t start = r.offset();
  for (int i = 0; i < 10; ++i) {
    uint8_t b = r.byte(what);
    if (!r.ok()) return false;
    if (i == 9 && (b & 0xfe) != 0) return r.fail_at(start, std::string("integer too large (") + what + ")");
    if ((b & 0x80) == 0) return true;
  }
  return r.fail_at(start, std::string("integer representation too long (") + what + ")");
}

bool limits(Reader& r) {
  size_t fo = r.offset();
  uint8_t flags = r.byte("limits flags");
  if (flags & ~0x0fu) return r.fail_at(fo, "unknown limits flags");
  if (flags & 0x04) {  // 64-bit
    if (!skip_u64(r, "limits minimum")) return false;
    if ((flags & 0x01) && !skip_u64(r, "limits maximum")) return false;
  } else {
    r.u32("limits minimum");
    if (flags & 0x01) r.u32("limits maximum");
  }
  if (flags & 0x08) r.u32("page size");
  return r.ok();
}

}  // namespace

bool Decoder::core_valtype(Reader& r, uint8_t* out_type) {
  size_t at_off = r.offset();
  uint8_t b = r.byte("core value type");
  if (!r.ok()) return false;
  *out_type = b;
  switch (b) {
    case 0x7f: case 0x7e: case 0x7d: case 0x7c: case 0x7b:  // i32 i64 f32 f64 v128
    case 0x70: case 0x6f:                                    // funcref externref
      return true;
    case 0x64: case 0x63:                                    // (ref ht), (ref null ht)
      r.s33("heap type");
      return r.ok();
    default:
      return r.fail_at(at_off, "unknown core value type");
  }
}

bool Decoder::core_importdesc(Reader& r, Scope* s, Sort* sort) {
  size_t at_off = r.offset();
  uint8_t k = r.byte("core extern kind");
  if (!r.ok()) return false;
  uint8_t vt;
  switch (k) {
    case 0x00: {
      *sort = Sort::kCoreFunc;
      size_t io = r.offset();
      uint32_t idx = r.u32("core type index");
      if (s != nullptr) {
        const SpaceEntry* e = at(r, *s, Sort::kCoreType, idx, "core type", io);
        if (e == nullptr) return false;
        if (out.types[e->type].kind != TypeKind::kCoreFunc) {
          return r.fail_at(io, "core type " + std::to_string(idx) + " is not a function type");
        }
      }
      return r.ok();
    }
    case 0x01:
      *sort = Sort::kCoreTable;
      return core_valtype(r, &vt) && limits(r);
    case 0x02:
      *sort = Sort::kCoreMemory;
      return limits(r);
    case 0x03: {
      *sort = Sort::kCoreGlobal;
      if (!core_valtype(r, &vt)) return false;
      size_t mo = r.offset();
      if (r.byte("global mutability") > 1) return r.fail_at(mo, "global mutability must be 0 or 1");
      return r.ok();
    }
    case 0x04:
      *sort = Sort::kCoreTag;
      r.byte("tag attribute");
      r.u32("tag type index");
      return r.ok();
    default:
      return r.fail_at(at_off, "unknown core extern kind");
  }
}

bool Decoder::module_type(Reader& r, Scope& parent, uint32_t* id) {
  if (parent.depth + 1 > kMaxScopeDepth) {
    return r.unsupported("module types nested deeper than wasmcap's bound of " +
                         std::to_string(kMaxScopeDepth));
  }
  TypeDef t;
  t.kind = TypeKind::kCoreModule;
  uint32_t tid = new_type(r, std::move(t));
  if (tid == kNone) return false;
  Scope s;
  s.kind = ScopeKind::kModuleType;
  s.parent = &parent;
  s.depth = parent.depth + 1;
  std::set<std::string> exports;
  uint32_t n = r.count("module type declarator", kMaxIndexSpace);
  for (uint32_t i = 0; i < n && r.ok(); ++i) {
    size_t doff = r.offset();
    uint8_t d = r.byte("module type declarator");
    if (d == 0x00 || d == 0x03) {
      CoreExtern e;
      if (d == 0x00) e.module = std::string(r.name("import module name"));
      size_t no = r.offset();
      e.name = std::string(r.name(d == 0x00 ? "import name" : "export name"));
      if (!core_importdesc(r, &s, &e.sort)) return false;
      if (d == 0x03) {
        if (!exports.insert(e.name).second) {
          return r.fail_at(no, "duplicate export name " + quote_untrusted(e.name) + " in a module type");
        }
        out.types[tid].core_exports.push_back(std::move(e));
      } else {
        out.types[tid].core_imports.push_back(std::move(e));
      }
    } else if (d == 0x01) {
      if (!r.at_end() && r.base()[r.offset()] == 0x50) {
        return r.fail("module types are not allowed inside module types");
      }
      if (!core_type_entry(r, s)) return false;
    } else if (d == 0x02) {
      size_t ao = r.offset();
      if ((r.byte("core alias sort") != 0x10 || r.byte("core alias kind") != 0x01) && r.ok()) {
        return r.fail_at(ao, "a module type's alias must be an outer alias of a core type");
      }
      size_t co = r.offset();
      uint32_t ct = r.u32("outer alias count");
      uint32_t idx = r.u32("outer alias index");
      if (!r.ok()) return false;
      Scope* target = &s;
      for (uint32_t k = 0; k < ct && target != nullptr; ++k) target = target->parent;
      if (target == nullptr) return r.fail_at(co, "outer alias count " + std::to_string(ct) + " exceeds the enclosing scopes");
      const SpaceEntry* e = at(r, *target, Sort::kCoreType, idx, "core type (outer alias)", co);
      if (e == nullptr) return false;
      if (out.types[e->type].kind == TypeKind::kCoreModule) {
        return r.fail_at(co, "an outer alias in a module type may not refer to a module type");
      }
      if (!push(r, s, Sort::kCoreType, SpaceEntry{Origin::kAliasOuter, kNone, e->type})) return false;
    } else if (r.ok()) {
      return r.fail_at(doff, "unknown module type declarator");
    }
  }
  if (!r.ok()) return false;
  index_exports(tid);
  *id = tid;
  return true;
}

bool Decoder::core_type_entry(Reader& r, Scope& s) {
  size_t at_off = r.offset();
  uint8_t op = r.byte("core type");
  if (!r.ok()) return false;
  uint32_t id = kNone;
  if (op == 0x60) {
    TypeDef t;
    t.kind = TypeKind::kCoreFunc;
    for (int k = 0; k < 2; ++k) {
      uint32_t n = r.count(k == 0 ? "core function parameter" : "core function result", kMaxItems);
      std::vector<uint8_t>& v = k == 0 ? t.core_params : t.core_results;
      v.resize(n);
      for (uint8_t& b : v) {
        if (!core_valtype(r, &b)) return false;
      }
    }
    if (!r.ok()) return false;
    id = new_type(r, std::move(t));
  } else if (op == 0x50) {
    if (!module_type(r, s, &id)) return false;
  } else if (op == 0x4e || op == 0x4f || op == 0x00 || op == 0x5f || op == 0x5e) {
    return r.unsupported_at(at_off, "core GC types (recursive, sub, struct, array) are not supported");
  } else {
    return r.fail_at(at_off, "unknown core type code");
  }
  if (id == kNone) return false;
  return push(r, s, Sort::kCoreType, SpaceEntry{Origin::kDefinition, id, id});
}

uint32_t Decoder::scan_core_module(Reader& outer, size_t begin, size_t end) {
  Reader r(base_, begin, end, outer.sink());
  static const uint8_t kPreamble[8] = {0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00};
  if (r.remaining() < 8 || std::memcmp(base_ + begin, kPreamble, 8) != 0) {
    r.fail("an embedded core module does not start with the core module preamble "
           "(\\0asm, version 1)");
    return kNone;
  }
  r.skip(8);
  TypeDef t;
  t.kind = TypeKind::kCoreModule;
  std::set<std::string> exports;
  while (!r.at_end() && r.ok()) {
    uint8_t id = r.byte("core section id");
    uint32_t len = r.u32("core section size");
    if (!r.ok()) return kNone;
    if (len > r.remaining()) {
      r.fail("core section size " + std::to_string(len) + " exceeds the " +
             std::to_string(r.remaining()) + " bytes left in the module");
      return kNone;
    }
    size_t section_end = r.offset() + len;
    if (id == 2 || id == 7) {
      Reader s(base_, r.offset(), section_end, r.sink());
      uint32_t n = s.count(id == 2 ? "core import" : "core export", kMaxIndexSpace);
      for (uint32_t i = 0; i < n && s.ok(); ++i) {
        CoreExtern e;
        if (id == 2) e.module = std::string(s.name("core import module name"));
        size_t no = s.offset();
        e.name = std::string(s.name(id == 2 ? "core import name" : "core export name"));
        if (id == 2) {
          if (!core_importdesc(s, nullptr, &e.sort)) return kNone;
          t.core_imports.push_back(std::move(e));
        } else {
          size_t ko = s.offset();
          uint8_t kind = s.byte("core export kind");
          s.u32("core export index");
          if (!s.ok()) return kNone;
          if (kind > 4) {
            s.fail_at(ko, "unknown core export kind");
            return kNone;
          }
          e.sort = static_cast<Sort>(kind);
          if (!exports.insert(e.name).second) {
            s.fail_at(no, "duplicate core export name " + quote_untrusted(e.name));
            return kNone;
          }
          t.core_exports.push_back(std::move(e));
        }
      }
      if (s.ok() && !s.at_end()) {
        s.fail("core section has " + std::to_string(s.remaining()) + " bytes after its entries");
      }
      if (!s.ok()) return kNone;
    }
    r.skip(len);
  }
  if (!r.ok()) return kNone;
  uint32_t tid = new_type(r, std::move(t));
  if (tid != kNone) index_exports(tid);
  return tid;
}

}  // namespace wasmcap::component

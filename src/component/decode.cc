// The component binary format's sections (Binary.md): the preamble, core modules, core
// instances, nested components, instances, aliases, canonical definitions, start, imports and
// exports, each checked against the index spaces of its scope as it is read (component.h).
#include <cstring>
#include <map>

#include "component/decoder.h"

namespace wasmcap::component {
namespace {

std::string hex(uint32_t v) {
  char b[16];
  std::snprintf(b, sizeof b, "0x%02x", v);
  return b;
}

bool is_core(Sort s) { return s <= Sort::kCoreInstance; }

}  // namespace

bool is_component(const uint8_t* bytes, size_t size) {
  return bytes != nullptr && size >= 8 && std::memcmp(bytes, "\0asm", 4) == 0 && bytes[6] == 1 &&
         bytes[7] == 0;
}

bool Decoder::push(Reader& r, Scope& s, Sort sort, SpaceEntry e) {
  if (!r.ok()) return false;
  std::vector<SpaceEntry>& v = s.space(sort);
  if (v.size() >= kMaxIndexSpace) {
    return r.unsupported(std::string("more than wasmcap's bound of ") + std::to_string(kMaxIndexSpace) +
                         " entries in the " + sort_name(sort) + " index space");
  }
  v.push_back(e);
  return true;
}

const SpaceEntry* Decoder::at(Reader& r, Scope& s, Sort sort, uint32_t idx, const char* what,
                              size_t offset) {
  if (!r.ok()) return nullptr;
  const std::vector<SpaceEntry>& v = s.space(sort);
  if (idx >= v.size()) {
    r.fail_at(offset, std::string(what) + " index " + std::to_string(idx) + " is out of range (" +
                          std::to_string(v.size()) + " defined)");
    return nullptr;
  }
  return &v[idx];
}

bool Decoder::core_sort(Reader& r, Sort* out_sort) {
  size_t o = r.offset();
  uint8_t b = r.byte("core sort");
  if (!r.ok()) return false;
  if (b <= 0x04) {
    *out_sort = static_cast<Sort>(b);
    return true;
  }
  if (b >= 0x10 && b <= 0x12) {
    *out_sort = static_cast<Sort>(static_cast<uint8_t>(Sort::kCoreType) + (b - 0x10));
    return true;
  }
  return r.fail_at(o, "unknown core sort " + hex(b));
}

bool Decoder::sort(Reader& r, Sort* out_sort) {
  size_t o = r.offset();
  uint8_t b = r.byte("sort");
  if (!r.ok()) return false;
  switch (b) {
    case 0x00: return core_sort(r, out_sort);
    case 0x01: *out_sort = Sort::kFunc; return true;
    case 0x02: *out_sort = Sort::kValue; return true;
    case 0x03: *out_sort = Sort::kType; return true;
    case 0x04: *out_sort = Sort::kComponent; return true;
    case 0x05: *out_sort = Sort::kInstance; return true;
    default: return r.fail_at(o, "unknown sort " + hex(b));
  }
}

bool Decoder::extern_name(Reader& r, std::string* out_name, const char* what) {
  size_t o = r.offset();
  uint8_t b = r.byte("name kind");
  if (!r.ok()) return false;
  if (b > 0x02) return r.fail_at(o, std::string("unknown ") + what + " name kind " + hex(b));
  *out_name = std::string(r.name(what));
  if (b == 0x02) {  // attributes: each kind at most once
    uint32_t n = r.count("name attribute", 3);
    bool seen[3] = {false, false, false};
    for (uint32_t i = 0; i < n && r.ok(); ++i) {
      size_t ao = r.offset();
      uint8_t k = r.byte("name attribute");
      if (k > 2 && r.ok()) return r.fail_at(ao, "unknown name attribute " + hex(k));
      if (!r.ok()) return false;
      if (seen[k]) return r.fail_at(ao, "a name attribute appears twice");
      seen[k] = true;
      r.name("name attribute");
    }
  }
  return r.ok();
}

bool Decoder::add_name(Reader& r, Scope& s, bool is_import, const std::string& name,
                       const ExternDesc& d, size_t offset) {
  const char* what = is_import ? "import" : "export";
  if (!valid_extern_name(name)) {
    return r.fail_at(offset, std::string(what) + " name " + quote_untrusted(name) +
                                 " is neither a plain name (a label, [constructor]r, [method]r.f, "
                                 "[static]r.f) nor an interface name (ns:pkg/iface@semver)");
  }
  std::set<std::string>& keys = is_import ? s.import_keys : s.export_keys;
  if (!keys.insert(strongly_unique_key(name)).second) {
    return r.fail_at(offset, std::string(what) + " name " + quote_untrusted(name) +
                                 " is not unique (names are compared ignoring case and annotations)");
  }
  if (name[0] == '[') {
    if (d.sort != Sort::kFunc) {
      return r.fail_at(offset, std::string(what) + " " + quote_untrusted(name) +
                                   " is annotated as a constructor, method or static function but is "
                                   "not a function");
    }
    std::string_view rest = std::string_view(name).substr(name.find(']') + 1);
    std::string resource(rest.substr(0, rest.find('.')));
    if (s.resource_names.count(resource) == 0) {
      return r.fail_at(offset, std::string(what) + " " + quote_untrusted(name) +
                                   " names a resource not imported or exported before it");
    }
  }
  if (d.sort == Sort::kType && d.type < out.types.size() &&
      out.types[d.type].kind == TypeKind::kResource && name.find(':') == std::string::npos) {
    s.resource_names.insert(name);
  }
  return true;
}

bool Decoder::import_or_export_decl(Reader& r, Scope& s, bool is_import, Decl* decl) {
  size_t no = r.offset();
  if (!extern_name(r, &decl->name, is_import ? "import" : "export")) return false;
  if (!externtype(r, s, &decl->desc)) return false;
  if (!add_name(r, s, is_import, decl->name, decl->desc, no)) return false;
  return push(r, s, decl->desc.sort,
              SpaceEntry{is_import ? Origin::kImport : Origin::kExport, kNone, decl->desc.type});
}

bool Decoder::alias(Reader& r, Scope& s, bool declarator, Alias* a) {
  size_t o = r.offset();
  if (!sort(r, &a->sort)) return false;
  size_t ko = r.offset();
  uint8_t k = r.byte("alias kind");
  if (!r.ok()) return false;
  if (k == 0x00) {  // export of an instance
    a->kind = AliasKind::kExport;
    if (declarator && a->sort != Sort::kInstance && a->sort != Sort::kType) {
      return r.fail_at(o, "an alias declarator of an export may only alias an instance or a type");
    }
    size_t io = r.offset();
    a->instance = r.u32("instance index");
    a->name = std::string(r.name("alias export name"));
    const SpaceEntry* e = at(r, s, Sort::kInstance, a->instance, "instance", io);
    if (e == nullptr) return false;
    int x = find_export(e->type, a->name);
    if (x < 0) {
      return r.fail_at(io, "instance " + std::to_string(a->instance) + " has no export named " +
                               quote_untrusted(a->name));
    }
    const ExternDesc& d = out.types[e->type].exports[x].desc;
    if (d.sort != a->sort) {
      return r.fail_at(io, "export " + quote_untrusted(a->name) + " of instance " +
                               std::to_string(a->instance) + " is a " + sort_name(d.sort) +
                               ", aliased as a " + sort_name(a->sort));
    }
    return push(r, s, a->sort, SpaceEntry{Origin::kAliasExport, kNone, d.type});
  }
  if (k == 0x01) {  // export of a core instance
    a->kind = AliasKind::kCoreExport;
    if (declarator) return r.fail_at(ko, "alias declarators cannot alias core instance exports");
    if (!is_core(a->sort)) return r.fail_at(o, "a core export alias must have a core sort");
    size_t io = r.offset();
    a->instance = r.u32("core instance index");
    a->name = std::string(r.name("alias core export name"));
    const SpaceEntry* e = at(r, s, Sort::kCoreInstance, a->instance, "core instance", io);
    if (e == nullptr) return false;
    int x = find_core_export(e->type, a->name);
    if (x < 0) {
      return r.fail_at(io, "core instance " + std::to_string(a->instance) +
                               " has no export named " + quote_untrusted(a->name));
    }
    Sort got = out.types[e->type].core_exports[x].sort;
    if (got != a->sort) {
      return r.fail_at(io, "export " + quote_untrusted(a->name) + " of core instance " +
                               std::to_string(a->instance) + " is a " + sort_name(got) +
                               ", aliased as a " + sort_name(a->sort));
    }
    return push(r, s, a->sort, SpaceEntry{Origin::kAliasCoreExport, kNone, kNone});
  }
  if (k == 0x02) {  // outer
    a->kind = AliasKind::kOuter;
    bool allowed = declarator ? (a->sort == Sort::kCoreType || a->sort == Sort::kType)
                              : (a->sort == Sort::kCoreModule || a->sort == Sort::kCoreType ||
                                 a->sort == Sort::kType || a->sort == Sort::kComponent);
    if (!allowed) {
      return r.fail_at(o, std::string("an outer alias cannot alias a ") + sort_name(a->sort));
    }
    size_t co = r.offset();
    a->outer_count = r.u32("outer alias count");
    a->outer_index = r.u32("outer alias index");
    if (!r.ok()) return false;
    Scope* target = &s;
    bool crosses_component = false;
    for (uint32_t i = 0; i < a->outer_count && target != nullptr; ++i) {
      if (target->kind == ScopeKind::kComponent) crosses_component = true;
      target = target->parent;
    }
    if (target == nullptr) {
      return r.fail_at(co, "outer alias count " + std::to_string(a->outer_count) +
                               " exceeds the " + std::to_string(s.depth) + " enclosing scopes");
    }
    const SpaceEntry* e = at(r, *target, a->sort, a->outer_index, sort_name(a->sort), co);
    if (e == nullptr) return false;
    if (a->sort == Sort::kType && crosses_component && e->type < out.types.size() &&
        (out.types[e->type].kind == TypeKind::kResource ||
         (is_value_kind(out.types[e->type].kind) &&
          (out.types[e->type].kind == TypeKind::kOwn || out.types[e->type].kind == TypeKind::kBorrow)))) {
      return r.fail_at(co, "an outer alias may not carry a resource type out of its component");
    }
    return push(r, s, a->sort, SpaceEntry{Origin::kAliasOuter, kNone, e->type});
  }
  return r.fail_at(ko, "unknown alias kind " + hex(k));
}

namespace {

// The core instance, instance, canon, start, import and export sections (component scope only).
struct Sections {
  Decoder& d;
  Reader& r;
  Scope& s;
  Component& c;

  uint32_t def(size_t n) const { return static_cast<uint32_t>(n); }
  void order(DefKind k, size_t i) { c.order.push_back(Definition{k, static_cast<uint32_t>(i)}); }

  bool core_instance() {
    size_t o = r.offset();
    uint8_t k = r.byte("core instance kind");
    CoreInstance ci;
    uint32_t type = kNone;
    if (k == 0x00) {
      ci.instantiate = true;
      ci.module = r.u32("core module index");
      const SpaceEntry* m = d.at(r, s, Sort::kCoreModule, ci.module, "core module", o + 1);
      if (m == nullptr) return false;
      type = m->type;
      uint32_t n = r.count("core instantiation argument", kMaxItems);
      std::map<std::string, uint32_t> by_name;
      for (uint32_t i = 0; i < n && r.ok(); ++i) {
        InstantiateArg a;
        size_t ao = r.offset();
        a.name = std::string(r.name("core instantiation argument name"));
        if (r.byte("core instantiation argument sort") != 0x12 && r.ok()) {
          return r.fail_at(ao, "a core instantiation argument must be a core instance (0x12)");
        }
        size_t io = r.offset();
        a.index = r.u32("core instance index");
        const SpaceEntry* e = d.at(r, s, Sort::kCoreInstance, a.index, "core instance", io);
        if (e == nullptr) return false;
        if (!by_name.emplace(a.name, e->type).second) {
          return r.fail_at(ao, "duplicate core instantiation argument " + quote_untrusted(a.name));
        }
        ci.args.push_back(std::move(a));
      }
      if (!r.ok()) return false;
      // Every import of the module is supplied, with the right sort.
      for (const CoreExtern& im : d.out.types[type].core_imports) {
        auto it = by_name.find(im.module);
        if (it == by_name.end()) {
          return r.fail_at(o, "core module " + std::to_string(ci.module) + " imports " +
                                  quote_untrusted(im.module) + " " + quote_untrusted(im.name) +
                                  " but no instantiation argument is named " + quote_untrusted(im.module));
        }
        int x = d.find_core_export(it->second, im.name);
        if (x < 0 || d.out.types[it->second].core_exports[x].sort != im.sort) {
          return r.fail_at(o, "core module " + std::to_string(ci.module) + " imports " +
                                  quote_untrusted(im.module) + " " + quote_untrusted(im.name) +
                                  " (a " + sort_name(im.sort) + "), which its argument does not export");
        }
      }
    } else if (k == 0x01) {
      TypeDef t;
      t.kind = TypeKind::kCoreModule;
      std::set<std::string> names;
      uint32_t n = r.count("core inline export", kMaxIndexSpace);
      for (uint32_t i = 0; i < n && r.ok(); ++i) {
        InstantiateArg a;
        size_t no = r.offset();
        a.name = std::string(r.name("core export name"));
        if (!d.core_sort(r, &a.sort)) return false;
        size_t io = r.offset();
        a.index = r.u32("core index");
        if (d.at(r, s, a.sort, a.index, sort_name(a.sort), io) == nullptr) return false;
        if (!names.insert(a.name).second) {
          return r.fail_at(no, "duplicate core export name " + quote_untrusted(a.name));
        }
        t.core_exports.push_back(CoreExtern{"", a.name, a.sort});
        ci.exports.push_back(std::move(a));
      }
      if (!r.ok()) return false;
      type = d.new_type(r, std::move(t));
      if (type == kNone) return false;
      d.index_exports(type);
    } else {
      return r.ok() && r.fail_at(o, "unknown core instance kind " + hex(k));
    }
    if (!d.push(r, s, Sort::kCoreInstance, SpaceEntry{k == 0 ? Origin::kInstantiate : Origin::kInlineExports,
                                                     def(c.core_instances.size()), type})) {
      return false;
    }
    order(DefKind::kCoreInstance, c.core_instances.size());
    c.core_instances.push_back(std::move(ci));
    return true;
  }

  bool instance() {
    size_t o = r.offset();
    uint8_t k = r.byte("instance kind");
    Instance in;
    uint32_t type = kNone;
    if (k == 0x00) {
      in.instantiate = true;
      in.component = r.u32("component index");
      const SpaceEntry* ce = d.at(r, s, Sort::kComponent, in.component, "component", o + 1);
      if (ce == nullptr) return false;
      type = ce->type;
      uint32_t n = r.count("instantiation argument", kMaxItems);
      std::map<std::string, Sort> by_name;
      for (uint32_t i = 0; i < n && r.ok(); ++i) {
        InstantiateArg a;
        size_t ao = r.offset();
        a.name = std::string(r.name("instantiation argument name"));
        if (!d.sort(r, &a.sort)) return false;
        size_t io = r.offset();
        a.index = r.u32("index");
        if (d.at(r, s, a.sort, a.index, sort_name(a.sort), io) == nullptr) return false;
        if (!by_name.emplace(a.name, a.sort).second) {
          return r.fail_at(ao, "duplicate instantiation argument " + quote_untrusted(a.name));
        }
        in.args.push_back(std::move(a));
      }
      if (!r.ok()) return false;
      for (const Decl& im : d.out.types[type].imports) {
        auto it = by_name.find(im.name);
        if (it == by_name.end()) {
          return r.fail_at(o, "component " + std::to_string(in.component) + " imports " +
                                  quote_untrusted(im.name) + " but no instantiation argument supplies it");
        }
        if (it->second != im.desc.sort) {
          return r.fail_at(o, "component " + std::to_string(in.component) + " imports " +
                                  quote_untrusted(im.name) + " as a " + sort_name(im.desc.sort) +
                                  ", its instantiation argument is a " + sort_name(it->second));
        }
      }
    } else if (k == 0x01) {
      TypeDef t;
      t.kind = TypeKind::kInstance;
      Scope names;  // the strong uniqueness of the instance's export names
      uint32_t n = r.count("inline export", kMaxIndexSpace);
      for (uint32_t i = 0; i < n && r.ok(); ++i) {
        InstantiateArg a;
        size_t no = r.offset();
        if (!d.extern_name(r, &a.name, "export")) return false;
        if (!d.sort(r, &a.sort)) return false;
        size_t io = r.offset();
        a.index = r.u32("index");
        const SpaceEntry* e = d.at(r, s, a.sort, a.index, sort_name(a.sort), io);
        if (e == nullptr) return false;
        if (is_core(a.sort) && a.sort != Sort::kCoreModule) {
          return r.fail_at(io, std::string("an instance cannot export a ") + sort_name(a.sort));
        }
        ExternDesc desc{a.sort, e->type, false};
        if (!d.add_name(r, names, false, a.name, desc, no)) return false;
        t.exports.push_back(Decl{a.name, desc});
        in.exports.push_back(std::move(a));
      }
      if (!r.ok()) return false;
      type = d.new_type(r, std::move(t));
      if (type == kNone) return false;
      d.index_exports(type);
    } else {
      return r.ok() && r.fail_at(o, "unknown instance kind " + hex(k));
    }
    if (!d.push(r, s, Sort::kInstance, SpaceEntry{k == 0 ? Origin::kInstantiate : Origin::kInlineExports,
                                                 def(c.instances.size()), type})) {
      return false;
    }
    order(DefKind::kInstance, c.instances.size());
    c.instances.push_back(std::move(in));
    return true;
  }

  bool options(CanonOptions* opt, bool lift) {
    uint32_t n = r.count("canon option", kMaxItems);
    bool enc = false;
    for (uint32_t i = 0; i < n && r.ok(); ++i) {
      size_t o = r.offset();
      uint8_t k = r.byte("canon option");
      if (!r.ok()) return false;
      auto dup = [&](bool seen) {
        return !seen || r.fail_at(o, "duplicate or conflicting canon option " + hex(k));
      };
      if (k <= 0x02) {
        if (!dup(enc)) return false;
        enc = true;
        opt->encoding = static_cast<StringEncoding>(k);
      } else if (k == 0x03) {
        if (!dup(opt->memory != kNone)) return false;
        uint32_t idx = r.u32("memory index");
        if (d.at(r, s, Sort::kCoreMemory, idx, "core memory", o + 1) == nullptr) return false;
        opt->memory = idx;
      } else if (k == 0x04 || k == 0x05) {
        uint32_t* slot = k == 0x04 ? &opt->realloc : &opt->post_return;
        if (!dup(*slot != kNone)) return false;
        if (k == 0x05 && !lift) return r.fail_at(o, "post-return is only allowed on canon lift");
        uint32_t idx = r.u32("core func index");
        if (d.at(r, s, Sort::kCoreFunc, idx, k == 0x04 ? "core func (realloc)" : "core func (post-return)",
                 o + 1) == nullptr) {
          return false;
        }
        *slot = idx;
      } else if (k == 0x06 || k == 0x07) {
        return r.unsupported_at(o, "async canon options (component model 0.3) are not supported");
      } else {
        return r.fail_at(o, "unknown canon option " + hex(k));
      }
    }
    return r.ok();
  }

  // The options a lift or lower of this function type needs (CanonicalABI.md, "canon lift",
  // "canon lower"): memory to pass strings and lists or spilled values, realloc to allocate them.
  bool required_options(const CanonOptions& opt, uint32_t ftype, bool lift, size_t o) {
    if (opt.realloc != kNone && opt.memory == kNone) {
      return r.fail_at(o, "canon option realloc needs a memory option");
    }
    const TypeDef& ft = d.out.types[ftype];
    bool params_mem = false;
    uint32_t params_flat = 0;
    for (const Field& f : ft.fields) {
      params_mem |= d.needs_memory(f.type);
      params_flat = std::min<uint32_t>(params_flat + d.flat_count(f.type), 1000);
    }
    bool result_mem = ft.has_a && d.needs_memory(ft.a);
    uint32_t results_flat = ft.has_a ? d.flat_count(ft.a) : 0;
    const char* op = lift ? "canon lift" : "canon lower";
    bool need_realloc = lift ? (params_mem || params_flat > 16) : result_mem;
    bool need_memory = need_realloc || (lift ? result_mem || results_flat > 1
                                             : params_mem || params_flat > 16 || results_flat > 1);
    if (need_realloc && opt.realloc == kNone) {
      return r.fail_at(o, std::string(op) + " of this function type needs a realloc option (it " +
                              (lift ? "receives strings, lists or more than 16 flat parameters"
                                    : "returns strings or lists") + ")");
    }
    if (need_memory && opt.memory == kNone) {
      return r.fail_at(o, std::string(op) + " of this function type needs a memory option (strings, "
                              "lists or values spilled to memory)");
    }
    return true;
  }

  bool canon() {
    size_t o = r.offset();
    uint8_t k = r.byte("canon kind");
    if (!r.ok()) return false;
    Canon cn;
    Sort sort = Sort::kCoreFunc;
    Origin origin = Origin::kCanonLower;
    uint32_t type = kNone;
    if (k == 0x00 || k == 0x01) {
      size_t so = r.offset();
      if (r.byte("canon sort") != 0x00 && r.ok()) return r.fail_at(so, "canon lift/lower must be of a function (0x00)");
      size_t fo = r.offset();
      cn.func = r.u32("function index");
      if (k == 0x00) {
        cn.kind = CanonKind::kLift;
        if (d.at(r, s, Sort::kCoreFunc, cn.func, "core func", fo) == nullptr) return false;
        if (!options(&cn.options, true)) return false;
        size_t to = r.offset();
        uint32_t idx = r.u32("type index");
        const TypeDef* t = d.type_of(r, s, idx, to);
        if (t == nullptr) return false;
        if (t->kind != TypeKind::kFunc) return r.fail_at(to, "type " + std::to_string(idx) + " is not a function type");
        cn.type = type = s.space(Sort::kType)[idx].type;
        sort = Sort::kFunc;
        origin = Origin::kCanonLift;
        if (!required_options(cn.options, type, true, o)) return false;
      } else {
        cn.kind = CanonKind::kLower;
        const SpaceEntry* f = d.at(r, s, Sort::kFunc, cn.func, "func", fo);
        if (f == nullptr) return false;
        uint32_t ftype = f->type;
        if (!options(&cn.options, false)) return false;
        if (ftype == kNone || d.out.types[ftype].kind != TypeKind::kFunc) {
          return r.fail_at(fo, "func " + std::to_string(cn.func) + " has no function type");
        }
        cn.type = ftype;
        if (!required_options(cn.options, ftype, false, o)) return false;
      }
    } else if (k >= 0x02 && k <= 0x04) {
      cn.kind = k == 0x02 ? CanonKind::kResourceNew : k == 0x03 ? CanonKind::kResourceDrop : CanonKind::kResourceRep;
      origin = k == 0x02 ? Origin::kCanonResourceNew : k == 0x03 ? Origin::kCanonResourceDrop : Origin::kCanonResourceRep;
      size_t to = r.offset();
      uint32_t idx = r.u32("resource type index");
      const TypeDef* t = d.type_of(r, s, idx, to);
      if (t == nullptr) return false;
      if (t->kind != TypeKind::kResource) return r.fail_at(to, "type " + std::to_string(idx) + " is not a resource type");
      if (k != 0x03 && !t->resource_local) {
        return r.fail_at(to, "resource.new and resource.rep need a resource defined by this component");
      }
      cn.type = s.space(Sort::kType)[idx].type;
    } else if (k == 0x07) {
      return r.unsupported_at(o, "resource.drop async (component model 0.3) is not supported");
    } else {
      return r.unsupported_at(o, "canon built-in " + hex(k) +
                                     " (async, threads or error contexts; component model 0.3) is not supported");
    }
    if (!d.push(r, s, sort, SpaceEntry{origin, def(c.canons.size()), type})) return false;
    order(DefKind::kCanon, c.canons.size());
    c.canons.push_back(std::move(cn));
    return true;
  }

  bool start() {
    Start st;
    size_t fo = r.offset();
    st.func = r.u32("start function index");
    const SpaceEntry* f = d.at(r, s, Sort::kFunc, st.func, "func", fo);
    if (f == nullptr) return false;
    uint32_t ftype = f->type;
    uint32_t n = r.count("start argument", kMaxItems);
    for (uint32_t i = 0; i < n && r.ok(); ++i) {
      size_t vo = r.offset();
      uint32_t v = r.u32("value index");
      if (d.at(r, s, Sort::kValue, v, "value", vo) == nullptr) return false;
      st.args.push_back(v);
    }
    size_t ro = r.offset();
    st.results = r.u32("start result count");
    if (!r.ok()) return false;
    if (st.results > kMaxStartResults) return r.unsupported_at(ro, "too many start results");
    if (ftype == kNone || d.out.types[ftype].kind != TypeKind::kFunc) {
      return r.fail_at(fo, "the start function has no function type");
    }
    const TypeDef& ft = d.out.types[ftype];
    if (ft.fields.size() != st.args.size() || (ft.has_a ? 1u : 0u) != st.results) {
      return r.fail_at(fo, "the start function's arity does not match its arguments and results");
    }
    for (uint32_t i = 0; i < st.results; ++i) {
      if (!d.push(r, s, Sort::kValue, SpaceEntry{Origin::kStart, def(c.starts.size()), kNone})) return false;
    }
    order(DefKind::kStart, c.starts.size());
    c.starts.push_back(std::move(st));
    return true;
  }

  bool import() {
    Import im;
    size_t no = r.offset();
    if (!d.extern_name(r, &im.name, "import")) return false;
    if (!d.externtype(r, s, &im.desc)) return false;
    if (!d.add_name(r, s, true, im.name, im.desc, no)) return false;
    if (!d.push(r, s, im.desc.sort, SpaceEntry{Origin::kImport, def(c.imports.size()), im.desc.type})) {
      return false;
    }
    d.out.types[c.type].imports.push_back(Decl{im.name, im.desc});
    order(DefKind::kImport, c.imports.size());
    c.imports.push_back(std::move(im));
    return true;
  }

  bool export_() {
    Export ex;
    size_t no = r.offset();
    if (!d.extern_name(r, &ex.name, "export")) return false;
    if (!d.sort(r, &ex.sort)) return false;
    size_t io = r.offset();
    ex.index = r.u32("export index");
    if (!r.ok()) return false;
    if (is_core(ex.sort) && ex.sort != Sort::kCoreModule) {
      return r.fail_at(io, std::string("a component cannot export a ") + sort_name(ex.sort));
    }
    if (ex.sort == Sort::kValue) return r.unsupported_at(io, "value exports are not supported");
    const SpaceEntry* e = d.at(r, s, ex.sort, ex.index, sort_name(ex.sort), io);
    if (e == nullptr) return false;
    ex.desc = ExternDesc{ex.sort, e->type, false};
    size_t ao = r.offset();
    uint8_t has = r.byte("export type flag");
    if (has == 1) {
      ExternDesc ascribed;
      if (!d.externtype(r, s, &ascribed)) return false;
      if (ascribed.sort != ex.sort) {
        return r.fail_at(ao, "an export's type is a " + std::string(sort_name(ascribed.sort)) +
                                 ", its item a " + sort_name(ex.sort));
      }
      if (ex.sort == Sort::kType && ascribed.sub_resource) {
        if (d.out.types[e->type].kind != TypeKind::kResource) {
          return r.fail_at(ao, "an export typed (sub resource) is not a resource");
        }
        ex.desc = ascribed;  // a fresh abstract type outside
      } else if (ex.sort != Sort::kType) {
        ex.desc.type = ascribed.type;
      }
    } else if (has != 0 && r.ok()) {
      return r.fail_at(ao, "export type flag must be 0 or 1");
    }
    if (!d.add_name(r, s, false, ex.name, ex.desc, no)) return false;
    if (!d.push(r, s, ex.sort, SpaceEntry{Origin::kExport, def(c.exports.size()), ex.desc.type})) return false;
    d.out.types[c.type].exports.push_back(Decl{ex.name, ex.desc});
    order(DefKind::kExport, c.exports.size());
    c.exports.push_back(std::move(ex));
    return true;
  }
};

}  // namespace

bool Decoder::component(Reader& r, Component& c, Scope* parent, uint32_t depth) {
  c.offset = r.offset();
  c.size = r.remaining();
  static const uint8_t kMagic[4] = {0x00, 0x61, 0x73, 0x6d};
  if (r.remaining() < 8 || std::memcmp(base_ + r.offset(), kMagic, 4) != 0) {
    return r.fail("not a WebAssembly binary (missing \\0asm magic)");
  }
  const uint8_t* p = base_ + r.offset();
  uint32_t version = p[4] | p[5] << 8, layer = p[6] | p[7] << 8;
  if (layer != 1) return r.fail("not a component (layer " + std::to_string(layer) + ", components are layer 1)");
  if (version != 0x0d) {
    return r.unsupported("component binary version " + hex(version) + " (wasmcap decodes version 0x0d)");
  }
  r.skip(8);
  Scope s;
  s.kind = ScopeKind::kComponent;
  s.parent = parent;
  s.depth = depth;
  TypeDef self;
  self.kind = TypeKind::kComponent;
  c.type = s.type = new_type(r, std::move(self));
  while (!r.at_end() && r.ok()) {
    size_t so = r.offset();
    uint8_t id = r.byte("section id");
    uint32_t len = r.u32("section size");
    if (!r.ok()) break;
    if (++out.sections > kMaxSections) {
      return r.unsupported_at(so, "more than wasmcap's bound of " + std::to_string(kMaxSections) + " sections");
    }
    if (len > r.remaining()) {
      return r.fail_at(so, "section " + std::to_string(id) + " size " + std::to_string(len) +
                               " exceeds the " + std::to_string(r.remaining()) + " bytes left");
    }
    size_t end = r.offset() + len;
    Reader sr(base_, r.offset(), end, r.sink());
    auto each = [&](const char* what, auto&& one) {
      uint32_t n = sr.count(what, kMaxIndexSpace);
      for (uint32_t i = 0; i < n && sr.ok(); ++i) {
        if (!one()) break;
      }
    };
    Sections ss{*this, sr, s, c};
    switch (id) {
      case 0:
        sr.name("custom section name");
        sr.skip(sr.remaining());
        break;
      case 1: {
        uint32_t t = scan_core_module(sr, sr.offset(), end);
        if (t == kNone) break;
        push(sr, s, Sort::kCoreModule, SpaceEntry{Origin::kDefinition, static_cast<uint32_t>(c.modules.size()), t});
        c.order.push_back(Definition{DefKind::kCoreModule, static_cast<uint32_t>(c.modules.size())});
        c.modules.push_back(CoreModule{ByteSpan{sr.offset(), len}, t});
        sr.skip(len);
        break;
      }
      case 2: each("core instance", [&] { return ss.core_instance(); }); break;
      case 3:
        each("core type", [&] {
          if (!core_type_entry(sr, s)) return false;
          c.order.push_back(Definition{DefKind::kCoreType, s.space(Sort::kCoreType).back().type});
          return true;
        });
        break;
      case 4: {
        if (depth + 1 > kMaxScopeDepth) {
          return r.unsupported_at(so, "components nested deeper than wasmcap's bound of " +
                                          std::to_string(kMaxScopeDepth));
        }
        c.components.emplace_back();
        size_t ci = c.components.size() - 1;
        // (component() may grow c.components only of the child, never of c.)
        if (!component(sr, c.components[ci], &s, depth + 1)) break;
        push(sr, s, Sort::kComponent, SpaceEntry{Origin::kDefinition, static_cast<uint32_t>(ci), c.components[ci].type});
        c.order.push_back(Definition{DefKind::kComponent, static_cast<uint32_t>(ci)});
        break;
      }
      case 5: each("instance", [&] { return ss.instance(); }); break;
      case 6:
        each("alias", [&] {
          Alias a;
          if (!alias(sr, s, false, &a)) return false;
          c.order.push_back(Definition{DefKind::kAlias, static_cast<uint32_t>(c.aliases.size())});
          c.aliases.push_back(std::move(a));
          return true;
        });
        break;
      case 7:
        each("type", [&] {
          if (!type_entry(sr, s)) return false;
          c.order.push_back(Definition{DefKind::kType, s.space(Sort::kType).back().type});
          return true;
        });
        break;
      case 8: each("canon", [&] { return ss.canon(); }); break;
      case 9: ss.start(); break;
      case 10: each("import", [&] { return ss.import(); }); break;
      case 11: each("export", [&] { return ss.export_(); }); break;
      case 12: return r.unsupported_at(so, "value sections are not supported");
      default: return r.fail_at(so, "unknown section id " + std::to_string(id));
    }
    if (!sr.ok()) return false;
    if (!sr.at_end()) {
      return sr.fail("section " + std::to_string(id) + " has " + std::to_string(sr.remaining()) +
                     " bytes after its contents");
    }
    r.skip(len);
  }
  if (!r.ok()) return false;
  for (size_t i = 0; i < kNumSorts; ++i) c.spaces[i] = std::move(s.spaces[i]);
  index_exports(c.type);
  return true;
}

Result<Decoded> decode(const uint8_t* bytes, size_t size) {
  if (bytes == nullptr || size == 0) return make_error(ErrorCode::kModuleMalformed, "component: empty input");
  if (size > kMaxComponentBytes) {
    return make_error(ErrorCode::kModuleUnsupported,
                      "component: " + std::to_string(size) + " bytes exceed wasmcap's bound of " +
                          std::to_string(kMaxComponentBytes));
  }
  Decoder d(bytes, size);
  Reader r(bytes, 0, size, &d.sink);
  if (!d.component(r, d.out.root, nullptr, 0) || d.sink.failed) {
    return make_error(d.sink.failed ? d.sink.code : ErrorCode::kInternal,
                      d.sink.failed ? d.sink.message : "component: decoding failed without an error");
  }
  return std::move(d.out);
}

}  // namespace wasmcap::component

// The decoder's internals (component.h): a scope per component definition, component type,
// instance type or core module type, each with its own index spaces, and the functions of
// decode.cc (sections, instances, aliases, canon, imports, exports), types.cc (type definitions
// and their Canonical ABI sizes) and core_module.cc (core types, a core module's imports and
// exports).
#pragma once

#include <set>
#include <string>
#include <vector>

#include "component/component.h"
#include "component/reader.h"

namespace wasmcap::component {

enum class ScopeKind : uint8_t { kComponent, kComponentType, kInstanceType, kModuleType };

struct Scope {
  ScopeKind kind = ScopeKind::kComponent;
  Scope* parent = nullptr;
  uint32_t depth = 0;                     // scopes above this one
  std::vector<SpaceEntry> spaces[kNumSorts];
  std::set<std::string> import_keys, export_keys;  // strongly-unique forms
  std::set<std::string> resource_names;             // resources imported/exported here
  uint32_t type = kNone;  // the TypeDef collecting this scope's imports/exports (types, components)

  std::vector<SpaceEntry>& space(Sort s) { return spaces[static_cast<size_t>(s)]; }
};

class Decoder {
 public:
  Decoder(const uint8_t* base, size_t size) : base_(base), size_(size) {}

  ErrorSink sink;
  Decoded out;

  // decode.cc
  bool component(Reader& r, Component& c, Scope* parent, uint32_t depth);
  // Adds an entry to an index space of a scope (bounded by kMaxIndexSpace).
  bool push(Reader& r, Scope& s, Sort sort, SpaceEntry e);
  // The entry at idx of a sort's space, or nullptr after recording an error naming `what`.
  const SpaceEntry* at(Reader& r, Scope& s, Sort sort, uint32_t idx, const char* what, size_t offset);
  // sort / sortidx / name attributes / alias
  bool sort(Reader& r, Sort* out);
  bool core_sort(Reader& r, Sort* out);
  bool extern_name(Reader& r, std::string* out, const char* what);
  bool alias(Reader& r, Scope& s, bool declarator, Alias* out);
  bool import_or_export_decl(Reader& r, Scope& s, bool is_import, Decl* out);
  bool add_name(Reader& r, Scope& s, bool is_import, const std::string& name, const ExternDesc& d,
                size_t offset);

  // types.cc
  bool type_entry(Reader& r, Scope& s);     // one `type`, appended to s's type space
  bool valtype(Reader& r, Scope& s, ValType* out);
  bool externtype(Reader& r, Scope& s, ExternDesc* out);
  uint32_t new_type(Reader& r, TypeDef&& t);  // kNone after an error
  const TypeDef* type_of(Reader& r, Scope& s, uint32_t idx, size_t offset);  // a type index
  uint32_t flat_count(const ValType& v) const;
  bool needs_memory(const ValType& v) const;  // contains a list or a string
  // Sorted indices of a TypeDef's exports / core exports (for lookups by name).
  int find_export(uint32_t type, std::string_view name) const;
  int find_core_export(uint32_t type, std::string_view name) const;
  void index_exports(uint32_t type);

  // core_module.cc
  bool core_type_entry(Reader& r, Scope& s);  // one core:type, appended to s's core type space
  bool core_valtype(Reader& r, uint8_t* out);
  bool core_importdesc(Reader& r, Scope* s, Sort* sort);  // s: check func type indices in it
  uint32_t scan_core_module(Reader& r, size_t begin, size_t end);  // a kCoreModule TypeDef

  const uint8_t* base() const { return base_; }

 private:
  bool type_scope(Reader& r, Scope& parent, bool component_type, uint32_t* id);
  bool defvaltype(Reader& r, Scope& s, uint8_t opcode, TypeDef* t);
  bool functype(Reader& r, Scope& s, TypeDef* t);
  bool finish_valtype(Reader& r, TypeDef* t, size_t offset);
  bool module_type(Reader& r, Scope& s, uint32_t* id);

  const uint8_t* base_;
  size_t size_;
  // Sorted name indices per TypeDef id (built once, when the type is complete).
  std::vector<std::vector<uint32_t>> export_index_, core_export_index_;
};

}  // namespace wasmcap::component

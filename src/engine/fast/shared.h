// The fast interpreter's memories and globals shared between instances (wasmcap/engine.h,
// SharedExtern; docs/fast-interp.md, "Shared memories and globals"): what an instance exports
// to another instantiation, and how an instantiation links what it imports.
#pragma once

#include <memory>
#include <string_view>
#include <vector>

#include "engine/fast/fast.h"
#include "wasmcap/engine.h"

namespace wabt {
struct Module;
}

namespace wasmcap::fast {

// A memory, table or global of an interp instance, as another interp instance imports it. It
// holds the storage (the memory, the table, the store of the global's slots), so an importer
// outlives the exporter safely.
class FastShared final : public SharedExtern {
 public:
  ExternKind kind() const override { return kind_; }
  std::string_view engine() const override { return "interp"; }

  ExternKind kind_ = ExternKind::kMemory;
  std::shared_ptr<Memory> memory;              // kMemory
  std::shared_ptr<Table> table;                // kTable
  std::shared_ptr<void> group;                 // kTable: the exporter's FastGroup (fast_engine.cc)
  std::shared_ptr<std::vector<Slot>> store;    // kGlobal: the exporter's globals
  size_t slot = 0;                             // the global's first slot in `store`
  ValType type = ValType::kI32;                // kGlobal
  bool mut = false;                            // kGlobal
};

// Links a module's memory and global imports (`shared`: link_host_functions' result, in import
// order) into `rt`: the memory becomes rt.memory, each global's storage an entry of
// rt.global_imports, its value copied into its slot of rt.global_store (constant expressions
// read it). Checks the import's type against what is linked (link_error naming the import):
// a memory's or table's current size at least the import's minimum, a declared maximum within
// the import's, a table's element type equal; a global's value type and mutability equal. An
// imported table becomes an entry of rt.tables (the exporter's, shared). `globals` receives the
// handle of each imported global (re-exports).
Result<void> link_shared(Runtime& rt, const wabt::Module& m,
                         const std::vector<std::shared_ptr<SharedExtern>>& shared,
                         std::vector<std::shared_ptr<FastShared>>* globals);

// The handle of export `name` (a memory, table or global) of an instance running `rt`. An
// exported funcref table holds shared refs from then on (fast.h, Table::shared).
Result<std::shared_ptr<SharedExtern>> export_shared(
    Runtime& rt, const wabt::Module& m, std::string_view name,
    const std::vector<std::shared_ptr<FastShared>>& imported_globals);

}  // namespace wasmcap::fast

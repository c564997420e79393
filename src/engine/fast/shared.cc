// Shared memories, tables and globals of the fast interpreter (shared.h). C++17: sees wabt's IR.
#include "engine/fast/shared.h"

#include <string>

#include "engine/host_call.h"
#include "engine/wabt_shared.h"
#include "wabt/cast.h"
#include "wabt/ir.h"
#include "wasmcap/error.h"

namespace wasmcap::fast {
namespace {

std::string import_name(const wabt::Import& imp) {
  return quote_untrusted(imp.module_name + "." + imp.field_name);
}

bool scalar_or_v128(wabt::Type t) {
  return t == wabt::Type::I32 || t == wabt::Type::I64 || t == wabt::Type::F32 ||
         t == wabt::Type::F64 || t == wabt::Type::V128;
}

}  // namespace

Result<void> link_shared(Runtime& rt, const wabt::Module& m,
                         const std::vector<std::shared_ptr<SharedExtern>>& shared,
                         std::vector<std::shared_ptr<FastShared>>* globals) {
  size_t next = 0;
  uint32_t global_index = 0;
  for (const wabt::Import* imp : m.imports) {
    const wabt::ExternalKind kind = imp->kind();
    if (kind == wabt::ExternalKind::Func || kind == wabt::ExternalKind::Tag) continue;
    if (next >= shared.size()) {
      return make_error(ErrorCode::kLinkError, "import " + import_name(*imp) + " is not linked");
    }
    // link_host_functions checked the kind and the engine.
    auto* ext = static_cast<FastShared*>(shared[next++].get());
    if (kind == wabt::ExternalKind::Table) {
      // The core spec's import matching for tables (the rules every engine uses).
      const wabt::Table& want = wabt::cast<wabt::TableImport>(imp)->table;
      const Table& have = *ext->table;
      WASMCAP_TRY(engine::check_table_import(
          imp->module_name + "." + imp->field_name, want.elem_type != wabt::Type::ExternRef,
          want.elem_limits.initial, want.elem_limits.has_max, want.elem_limits.max, have.funcref,
          have.elems.size(), have.has_max, have.declared_max));
      rt.tables.push_back(ext->table);
      continue;
    }
    if (kind == wabt::ExternalKind::Memory) {
      const wabt::Limits& l = wabt::cast<wabt::MemoryImport>(imp)->memory.page_limits;
      const Memory& mem = *ext->memory;
      MemoryLimits want;
      want.min_pages = l.initial;
      want.has_max = l.has_max;
      want.max_pages = l.max;
      WASMCAP_TRY(engine::check_memory_import(imp->module_name + "." + imp->field_name, want,
                                              mem.size / kWasmPageSize, mem.has_max,
                                              mem.declared_max));
      rt.memory = ext->memory;
      continue;
    }
    // A global.
    const wabt::Global& g = wabt::cast<wabt::GlobalImport>(imp)->global;
    // (A reference-typed import never matches: no such global is shared.)
    WASMCAP_TRY(engine::check_global_import(
        imp->module_name + "." + imp->field_name,
        scalar_or_v128(g.type) ? engine_wabt::from_wabt(g.type) : ValType::kFuncRef, g.mutable_,
        ext->type, ext->mut));
    if (ext->type == ValType::kV128 && rt.stride < 2) {
      return make_error(ErrorCode::kLinkError, "import " + import_name(*imp) +
                                                   " (a v128 global) needs a module that uses v128");
    }
    if (ext->type == ValType::kV128) {
      return make_error(ErrorCode::kLinkError,
                        "import " + import_name(*imp) +
                            ": v128 globals are not shared between instances yet");
    }
    Slot* cell = ext->store->data() + ext->slot;
    rt.global_imports.push_back(cell);
    (*rt.global_store)[size_t{global_index} * rt.stride] = *cell;
    globals->push_back(std::static_pointer_cast<FastShared>(shared[next - 1]));
    ++global_index;
  }
  return {};
}

Result<std::shared_ptr<SharedExtern>> export_shared(
    Runtime& rt, const wabt::Module& m, std::string_view name,
    const std::vector<std::shared_ptr<FastShared>>& imported_globals) {
  for (const wabt::Export* e : m.exports) {
    if (e->name != name) continue;
    auto out = std::make_shared<FastShared>();
    switch (e->kind) {
      case wabt::ExternalKind::Memory:
        out->kind_ = ExternKind::kMemory;
        out->memory = rt.memory;
        return std::shared_ptr<SharedExtern>(out);
      case wabt::ExternalKind::Global: {
        uint32_t g = m.GetGlobalIndex(e->var);
        if (g < m.num_global_imports) {
          return std::shared_ptr<SharedExtern>(imported_globals.at(g));
        }
        const wabt::Global& gl = *m.globals[g];
        if (!scalar_or_v128(gl.type) || gl.type == wabt::Type::V128) {
          return make_error(ErrorCode::kModuleUnsupported,
                            "exported global " + quote_untrusted(name) +
                                " is of a type not shared between instances yet");
        }
        out->kind_ = ExternKind::kGlobal;
        out->store = rt.global_store;
        out->slot = size_t{g} * rt.stride;
        out->type = engine_wabt::from_wabt(gl.type);
        out->mut = gl.mutable_;
        return std::shared_ptr<SharedExtern>(out);
      }
      case wabt::ExternalKind::Table: {
        const std::shared_ptr<Table>& t = rt.tables.at(m.GetTableIndex(e->var));
        if (!t->shared) {
          // From now on the table holds shared refs only (fast.h, kSharedRef): the ones this
          // instance has stored so far become shared refs too.
          t->shared = true;
          if (t->funcref) {
            for (uint64_t& v : t->elems) v = shared_ref(rt, *t, v);
          }
        }
        out->kind_ = ExternKind::kTable;
        out->table = t;
        return std::shared_ptr<SharedExtern>(out);
      }
      default:
        return make_error(ErrorCode::kInvalidArgument,
                          "export " + quote_untrusted(name) + " is not a memory, table or global");
    }
  }
  return make_error(ErrorCode::kNotFound, "module has no export " + quote_untrusted(name));
}

}  // namespace wasmcap::fast

// The AOT translator's checks on the module's bytes: the bounds (before any IR exists), exception
// handling, and the non-function imports the engine cannot take from another instance.
// Built as C++17: wabt headers (NOTES-toolchain.md).
#include "engine/aot/translate_internal.h"
#include "engine/test_hooks.h"
#include "engine/wabt_shared.h"

#include <atomic>
#include <string>

#include "wabt/binary-reader.h"
#include "wabt/cast.h"
#include "wabt/feature.h"
#include "wabt/ir.h"

namespace wasmcap::aot {
namespace detail {

wabt::Features all_features() {
  // The same feature set as the interpreter backends: the engines accept the same modules.
  // Exceptions are read (so that such a module is module_unsupported naming the feature, and
  // --engine auto falls back to the interpreter), never translated: see UsesExceptions.
  wabt::Features f = engine_wabt::wasm2_features();
  f.enable_exceptions();
  return f;
}

// --- Bounds, checked on the bytes before any IR exists ------------------------------------------
// wabt's C writer recurses once per nesting level and wabt's IR frees nested blocks
// recursively, so nesting is bounded before the IR is built (the interpreter needs no such
// bound: it never builds the IR). Locals, parameters, br_table targets and function counts
// cost C text and translator memory per unit while costing the module a byte or less each (a
// local count is one LEB): they are bounded so that the C, and the translator's memory, stay
// proportional to the module's size. The per-function numbers are the JS API's implementation
// limits (what browsers accept), so real modules meet them. The numbers: engine/aot_bounds.h.

namespace {

// Exception handling (tags, try/catch/delegate/throw/rethrow). wasm2c 1.0.32's support for it
// keeps the exception state in globals of its single-threaded runtime (NOTES-toolchain.md); the
// AOT engine does not run it: such a module is module_unsupported and runs on an interpreter.
class UsesExceptions : public QuietReader {
 public:
  bool found = false;
  wabt::Result OnTagCount(wabt::Index n) override { return mark(n != 0); }
  wabt::Result OnTryExpr(wabt::Type) override { return mark(true); }
  wabt::Result OnThrowExpr(wabt::Index) override { return mark(true); }
  wabt::Result OnRethrowExpr(wabt::Index) override { return mark(true); }
  wabt::Result OnDelegateExpr(wabt::Index) override { return mark(true); }
  wabt::Result OnCatchExpr(wabt::Index) override { return mark(true); }
  wabt::Result OnCatchAllExpr() override { return mark(true); }

 private:
  wabt::Result mark(bool yes) {
    found = found || yes;
    return found ? wabt::Result::Error : wabt::Result::Ok;  // stop reading at the first one
  }
};

class BoundsCheck : public QuietReader {
 public:
  std::string violation;  // empty: within bounds

  wabt::Result OnFuncType(wabt::Index, wabt::Index params, wabt::Type*, wabt::Index results,
                          wabt::Type*) override {
    if (params > kMaxFunctionParams) {
      return fail("a function type has " + std::to_string(params) + " parameters (at most " +
                  std::to_string(kMaxFunctionParams) + ")");
    }
    if (results > kMaxFunctionResults) {
      return fail("a function type has " + std::to_string(results) + " results (at most " +
                  std::to_string(kMaxFunctionResults) + ")");
    }
    return wabt::Result::Ok;
  }
  wabt::Result OnImportFunc(wabt::Index, std::string_view, std::string_view, wabt::Index,
                            wabt::Index) override {
    return count_functions(1);
  }
  wabt::Result OnFunctionCount(wabt::Index count) override { return count_functions(count); }
  wabt::Result BeginFunctionBody(wabt::Index, wabt::Offset size) override {
    depth_ = 0;
    locals_ = 0;
    if (size > kMaxFunctionBodySize) {
      return fail("a function body has " + std::to_string(size) + " bytes (at most " +
                  std::to_string(kMaxFunctionBodySize) + ")");
    }
    return wabt::Result::Ok;
  }
  wabt::Result OnLocalDecl(wabt::Index, wabt::Index count, wabt::Type) override {
    locals_ += count;
    total_locals_ += count;
    if (locals_ > kMaxFunctionLocals) {
      return fail("a function declares " + std::to_string(locals_) + "+ locals (at most " +
                  std::to_string(kMaxFunctionLocals) + ")");
    }
    if (total_locals_ > kMaxTotalLocals) {
      return fail("the functions declare " + std::to_string(total_locals_) +
                  "+ locals in all (at most " + std::to_string(kMaxTotalLocals) + ")");
    }
    return wabt::Result::Ok;
  }
  wabt::Result OnBlockExpr(wabt::Type) override { return enter(); }
  wabt::Result OnLoopExpr(wabt::Type) override { return enter(); }
  wabt::Result OnIfExpr(wabt::Type) override { return enter(); }
  wabt::Result OnTryExpr(wabt::Type) override { return enter(); }
  wabt::Result OnEndExpr() override {
    if (depth_ > 0) --depth_;
    return wabt::Result::Ok;
  }
  wabt::Result OnBrTableExpr(wabt::Index targets, wabt::Index*, wabt::Index) override {
    if (targets > kMaxBrTableTargets) {
      return fail("a br_table has " + std::to_string(targets) + " targets (at most " +
                  std::to_string(kMaxBrTableTargets) + ")");
    }
    return wabt::Result::Ok;
  }

 private:
  wabt::Result fail(std::string what) {
    violation = std::move(what);
    return wabt::Result::Error;
  }
  wabt::Result enter() {
    if (++depth_ > kMaxNestingDepth) {
      return fail("blocks are nested more than " + std::to_string(kMaxNestingDepth) + " deep");
    }
    return wabt::Result::Ok;
  }
  wabt::Result count_functions(uint64_t n) {
    functions_ += n;
    if (functions_ > kMaxFunctions) {
      return fail("the module has " + std::to_string(functions_) + " functions (at most " +
                  std::to_string(kMaxFunctions) + ")");
    }
    return wabt::Result::Ok;
  }

  uint64_t depth_ = 0;
  uint64_t locals_ = 0;
  uint64_t total_locals_ = 0;
  uint64_t functions_ = 0;
};

}  // namespace

bool uses_exceptions(const uint8_t* bytes, size_t size, const wabt::ReadBinaryOptions& options) {
  UsesExceptions eh;
  (void)wabt::ReadBinary(bytes, size, &eh, options);
  return eh.found;
}

// Why a non-function import cannot be translated, or "": memories (32-bit, not shared), tables
// (docs/aot.md, "Shared tables": an element names its instance, and call_indirect switches to
// it) and i32/i64/f32/f64 globals are imported from another aot instance; reference-typed
// globals are not shared. `type`: a global's; `limits`: a memory's.
namespace {

std::string extern_import_refusal(wabt::ExternalKind kind, std::string_view module,
                                  std::string_view field, wabt::Type type,
                                  const wabt::Limits* limits) {
  const std::string name = quote_name(std::string(module) + "." + std::string(field));
  switch (kind) {
    case wabt::ExternalKind::Memory:
      if (limits != nullptr && (limits->is_64 || limits->is_shared)) {
        return "import " + name + " (memory): 64-bit and shared memories are not shared "
               "between instances on aot; run with --engine interp";
      }
      return "";
    case wabt::ExternalKind::Global:
      if (type == wabt::Type::I32 || type == wabt::Type::I64 || type == wabt::Type::F32 ||
          type == wabt::Type::F64) {
        return "";
      }
      return "import " + name + " (global): globals of type " + type.GetName() +
             " are not shared between instances on aot; run with --engine interp";
    case wabt::ExternalKind::Table:
      return "";
    default:
      return "unsupported import " + name + " (" + std::string(wabt::GetKindName(kind)) +
             "): wasmcap provides only host functions";
  }
}

}  // namespace

std::string extern_import_refusal(const wabt::Import& imp) {
  switch (imp.kind()) {
    case wabt::ExternalKind::Memory:
      return extern_import_refusal(imp.kind(), imp.module_name, imp.field_name, wabt::Type::Void,
                                   &wabt::cast<wabt::MemoryImport>(&imp)->memory.page_limits);
    case wabt::ExternalKind::Global:
      return extern_import_refusal(imp.kind(), imp.module_name, imp.field_name,
                                   wabt::cast<wabt::GlobalImport>(&imp)->global.type, nullptr);
    default:
      return extern_import_refusal(imp.kind(), imp.module_name, imp.field_name, wabt::Type::Void,
                                   nullptr);
  }
}

namespace {

// The first import check_extern_imports refuses (the decoding pass of load()).
class ExternImports : public QuietReader {
 public:
  std::string refusal;
  wabt::Result OnImportTable(wabt::Index, std::string_view mod, std::string_view field,
                             wabt::Index, wabt::Type, const wabt::Limits*) override {
    return note(extern_import_refusal(wabt::ExternalKind::Table, mod, field, wabt::Type::Void,
                                      nullptr));
  }
  wabt::Result OnImportMemory(wabt::Index, std::string_view mod, std::string_view field,
                              wabt::Index, const wabt::Limits* limits) override {
    return note(extern_import_refusal(wabt::ExternalKind::Memory, mod, field, wabt::Type::Void,
                                      limits));
  }
  wabt::Result OnImportGlobal(wabt::Index, std::string_view mod, std::string_view field,
                              wabt::Index, wabt::Type type, bool) override {
    return note(extern_import_refusal(wabt::ExternalKind::Global, mod, field, type, nullptr));
  }
  wabt::Result OnImportTag(wabt::Index, std::string_view mod, std::string_view field,
                           wabt::Index, wabt::Index) override {
    return note(extern_import_refusal(wabt::ExternalKind::Tag, mod, field, wabt::Type::Void,
                                      nullptr));
  }
  // Nothing after the import section matters.
  wabt::Result EndImportSection() override { return wabt::Result::Error; }

 private:
  wabt::Result note(std::string why) {
    if (refusal.empty() && !why.empty()) refusal = std::move(why);
    return wabt::Result::Ok;
  }
};

}  // namespace
}  // namespace detail

using namespace detail;

namespace {
std::atomic<uint64_t> g_bounds_passes{0};  // engine_test_hooks::aot_bounds_passes()
}

Result<void> check_extern_imports(const uint8_t* bytes, size_t size) {
  wabt::Features features = all_features();
  wabt::ReadBinaryOptions options(features, nullptr, false, true, false);
  ExternImports imports;
  (void)wabt::ReadBinary(bytes, size, &imports, options);  // stops after the import section
  if (!imports.refusal.empty()) return make_error(ErrorCode::kLinkError, imports.refusal);
  return {};
}

Result<void> check_bounds(const uint8_t* bytes, size_t size) {
  g_bounds_passes.fetch_add(1, std::memory_order_relaxed);
  wabt::Features features = all_features();
  wabt::ReadBinaryOptions options(features, nullptr, false, true, false);
  BoundsCheck bounds;
  (void)wabt::ReadBinary(bytes, size, &bounds, options);  // malformed: translate() says so
  if (!bounds.violation.empty()) {
    return make_error(ErrorCode::kModuleUnsupported,
                      "the module is beyond the AOT translator's bounds: " + bounds.violation +
                          "; run with --engine interp (docs/aot.md)");
  }
  return {};
}

}  // namespace wasmcap::aot

uint64_t wasmcap::engine_test_hooks::aot_bounds_passes() {
  return wasmcap::aot::g_bounds_passes.load(std::memory_order_relaxed);
}

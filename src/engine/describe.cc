// See describe.h. C++17 (wabt headers, NOTES-toolchain.md).
#include "engine/describe.h"

#include <string>
#include <vector>

#include "engine/fast/translate.h"
#include "engine/fast/validate.h"
#include "engine/wabt_shared.h"
#include "wabt/binary-reader-nop.h"
#include "wabt/binary-reader.h"

namespace wasmcap {
namespace {

using engine_wabt::from_wabt;

// A memory's limits as wabt's interp reader reports them: it sets the maximum of a memory
// without one to the largest size (wabt::interp::MemoryType; max_pages is meaningful only with
// has_max, but the description is compared and stored as the wabt oracle gives it).
MemoryLimits as_interp(MemoryLimits m) {
  if (!m.has_max) m.max_pages = m.is64 ? WABT_MAX_PAGES64 : WABT_MAX_PAGES32;
  return m;
}
MemoryLimits limits_from(const wabt::Limits& l) { return as_interp(engine_wabt::limits_from(l)); }
using wabt::Index;
using WResult = wabt::Result;

// The declarations of a valid module, as wabt's interp reader describes them (imports and
// exports with their function signatures or memory limits, the memories it defines). Bodies
// are skipped; every index was checked by the validator, and is checked again here.
class Describer final : public wabt::BinaryReaderNop {
 public:
  ModuleInfo info;
  bool bad_index = false;

  bool OnError(const wabt::Error&) override { return true; }

  WResult OnFuncType(Index, Index nparams, wabt::Type* params, Index nresults,
                    wabt::Type* results) override {
    FuncSig s;
    for (Index i = 0; i < nparams; ++i) s.params.push_back(from_wabt(params[i]));
    for (Index i = 0; i < nresults; ++i) s.results.push_back(from_wabt(results[i]));
    types_.push_back(std::move(s));
    return WResult::Ok;
  }
  WResult OnImportFunc(Index, std::string_view module, std::string_view name, Index,
                      Index sig) override {
    ImportDesc& d = import(module, name, ExternKind::kFunc);
    funcs_.push_back(sig);
    return sig_of_type(sig, &d.sig);
  }
  WResult OnImportTable(Index, std::string_view module, std::string_view name, Index, wabt::Type,
                       const wabt::Limits*) override {
    import(module, name, ExternKind::kTable);
    return WResult::Ok;
  }
  WResult OnImportMemory(Index, std::string_view module, std::string_view name, Index,
                        const wabt::Limits* limits) override {
    import(module, name, ExternKind::kMemory).memory = limits_from(*limits);
    memories_.push_back(limits_from(*limits));
    return WResult::Ok;
  }
  WResult OnImportGlobal(Index, std::string_view module, std::string_view name, Index, wabt::Type,
                        bool) override {
    import(module, name, ExternKind::kGlobal);
    return WResult::Ok;
  }
  WResult OnImportTag(Index, std::string_view module, std::string_view name, Index,
                     Index) override {
    import(module, name, ExternKind::kTag);
    return WResult::Ok;
  }
  WResult OnFunction(Index, Index sig) override {
    funcs_.push_back(sig);
    ++info.defined_funcs;
    return WResult::Ok;
  }
  WResult OnMemory(Index, const wabt::Limits* limits) override {
    memories_.push_back(limits_from(*limits));
    info.memories.push_back(limits_from(*limits));
    return WResult::Ok;
  }
  WResult OnExport(Index, wabt::ExternalKind kind, Index item, std::string_view name) override {
    ExportDesc d;
    d.name = std::string(name);
    d.kind = engine_wabt::kind_from(kind);
    if (kind == wabt::ExternalKind::Func) {
      if (item >= funcs_.size()) return index_error();
      if (sig_of_type(funcs_[item], &d.sig) != WResult::Ok) return WResult::Error;
    } else if (kind == wabt::ExternalKind::Memory) {
      if (item >= memories_.size()) return index_error();
      d.memory = memories_[item];
    }
    info.exports.push_back(std::move(d));
    return WResult::Ok;
  }

 private:
  ImportDesc& import(std::string_view module, std::string_view name, ExternKind kind) {
    ImportDesc d;
    d.module = std::string(module);
    d.name = std::string(name);
    d.kind = kind;
    info.imports.push_back(std::move(d));
    return info.imports.back();
  }
  WResult sig_of_type(Index type, FuncSig* out) {
    if (type >= types_.size()) return index_error();
    *out = types_[type];
    return WResult::Ok;
  }
  WResult index_error() {
    bad_index = true;
    return WResult::Error;
  }

  std::vector<FuncSig> types_;
  std::vector<Index> funcs_;  // type index per function, imports first
  std::vector<MemoryLimits> memories_;  // imports first
};

wabt::ReadBinaryOptions wasm2_options() {
  // The wabt oracle's load options (tests/support/wabt_engine/wabt_engine.cc).
  return wabt::ReadBinaryOptions(engine_wabt::wasm2_features(), /*log_stream=*/nullptr,
                                 /*read_debug_names=*/false, /*stop_on_first_error=*/true,
                                 /*fail_on_custom_section_error=*/true);
}

}  // namespace

Result<ModuleInfo> describe_module(const uint8_t* bytes, size_t size, bool* within_aot_bounds) {
  if (within_aot_bounds != nullptr) *within_aot_bounds = false;
  WASMCAP_TRY(check_module_preamble(bytes, size));
  wabt::ReadBinaryOptions options = wasm2_options();
  wabt::Errors errors;
  fast::FeatureScan scan;
  // Bodies on as many threads as the hardware runs at once above the threshold, as the fast
  // engine's load: the same verdict and first error whatever the number.
  wabt::Result r = fast::validate_module(bytes, size, options, &errors, &scan, /*max_threads=*/0);
  if (wabt::Failed(r)) {
    // As the wabt oracle: refused without exceptions but valid with them is "unsupported".
    wabt::Errors eh_errors;
    fast::FeatureScan eh_scan;
    if (wabt::Succeeded(fast::validate_module(bytes, size, fast::load_options(), &eh_errors,
                                              &eh_scan, 0))) {
      return tl::unexpected(engine_wabt::exceptions_unsupported_error());
    }
    return tl::unexpected(engine_wabt::invalid_module_error(errors));
  }
  Describer d;
  options.skip_function_bodies = true;
  d.info.size_bytes = size;
  if (wabt::Failed(wabt::ReadBinary(bytes, size, &d, options)) || d.bad_index) {
    // Unreachable for a module the validator accepted: say so rather than describe it wrongly.
    return make_error(ErrorCode::kInternal,
                      "a validated module's declarations cannot be read again");
  }
  if (within_aot_bounds != nullptr) *within_aot_bounds = !scan.beyond_aot_bounds;
  return std::move(d.info);
}

Result<ModuleInfo> describe_fast_loaded(const Module& fast_module, bool* within_aot_bounds) {
  if (within_aot_bounds != nullptr) *within_aot_bounds = false;
  std::optional<bool> eh = fast::module_uses_exceptions(fast_module);
  if (!eh) {
    return make_error(ErrorCode::kInvalidArgument,
                      "describe_fast_loaded: the module was not loaded by the fast engine");
  }
  if (*eh) return tl::unexpected(engine_wabt::exceptions_unsupported_error());
  ModuleInfo info = fast_module.info();
  for (ImportDesc& d : info.imports) {
    if (d.kind == ExternKind::kMemory) d.memory = as_interp(d.memory);
  }
  for (ExportDesc& d : info.exports) {
    if (d.kind == ExternKind::kMemory) d.memory = as_interp(d.memory);
  }
  for (MemoryLimits& m : info.memories) m = as_interp(m);
  if (within_aot_bounds != nullptr) {
    *within_aot_bounds = fast::module_within_aot_bounds(fast_module);
  }
  return info;
}

Result<ModuleInfo> describe_via_fast(Engine& fast_engine, const ModuleBytes& module,
                                     std::shared_ptr<const Module>* loaded, bool* within_aot_bounds) {
  auto m = fast_engine.load(module);
  if (!m) return describe_module(module.data(), module.size(), within_aot_bounds);
  *loaded = std::move(*m);
  return describe_fast_loaded(**loaded, within_aot_bounds);
}

}  // namespace wasmcap

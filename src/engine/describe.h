// A module's verdict and description (ModuleInfo) without wabt's interp reader (describe.cc).
// No wabt types: C++20 translation units (the AOT engine, the runtime) include it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "wasmcap/engine.h"

namespace wasmcap {

// What wabt's interpreter's load() answers for `bytes` (the tests' wabt oracle,
// tests/support/wabt_engine, once the product's first engine) — the same error code and message
// (module_malformed with wabt's first error and its byte offset; module_unsupported for exception
// handling and component binaries) or the same ModuleInfo — without building wabt's interpreter
// code for every function (~0.5 s for a 20 MB module): validate_module (fast/validate.h, the
// interp reader's verdicts and first errors, tests/engine validate_equiv) with WebAssembly 2.0,
// then the declarations read once more, function bodies skipped, for the description. The AOT
// engine describes a module it has no stored description of with it (docs/aot.md, "Cold start").
// `within_aot_bounds` (if given) is set to whether the validating pass found every bound of the
// AOT translator held (engine/aot_bounds.h; false when unknown): true spares the AOT engine
// aot::check_bounds' own decoding pass.
Result<ModuleInfo> describe_module(const uint8_t* bytes, size_t size,
                                   bool* within_aot_bounds = nullptr);

// The same answer from a module the fast engine loaded — validated there already, with the
// exceptions feature on — without validating it again: its ModuleInfo, or the wabt oracle's
// refusal when it uses exception handling (a module valid with exceptions that uses none of
// them is valid without: `describe_equiv`, tests/engine/CMakeLists.txt). `fast_module` must come
// from make_fast_engine()'s load (else invalid_argument). --engine auto's probe uses it.
// `within_aot_bounds`: as describe_module's, from the fast engine's validating pass or record.
Result<ModuleInfo> describe_fast_loaded(const Module& fast_module,
                                        bool* within_aot_bounds = nullptr);

// --engine auto's describer (src/engine/tiered): loads `module` on `fast_engine`
// (make_fast_engine()) and answers with describe_fast_loaded(), keeping the loaded module in
// `*loaded` for the run; when the fast engine refuses the module, with describe_module() (the wabt
// oracle's own verdict and first error: its first error can differ from the fast engine's,
// which reads with exceptions on). The fast engine's validated-module record is looked up by
// the hash `module` carries (the AOT engine's load learnt or computed it), not hashed again.
Result<ModuleInfo> describe_via_fast(Engine& fast_engine, const ModuleBytes& module,
                                     std::shared_ptr<const Module>* loaded,
                                     bool* within_aot_bounds = nullptr);

namespace fast {
// Whether a module the fast engine loaded uses exception handling (FeatureScan::exceptions);
// nullopt for a module of another engine. Defined in fast_engine.cc.
std::optional<bool> module_uses_exceptions(const Module& module);
// Whether a module the fast engine loaded is within every bound of the AOT translator (its
// validating pass or validated-module record said so); false for any other module.
bool module_within_aot_bounds(const Module& module);
}  // namespace fast

}  // namespace wasmcap

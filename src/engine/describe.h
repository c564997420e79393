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

// --engine auto's describer (runtime.cc): loads `bytes` on `fast_engine` (make_fast_engine())
// and answers with describe_fast_loaded(), keeping the loaded module in `*loaded` for the run;
// when the fast engine refuses the module, with describe_module() (the wabt oracle's own
// verdict and first error: its first error can differ from the fast engine's, which reads
// with exceptions on). `module_sha256`: the bytes' sha256 when the caller has it (the AOT
// engine's load: verified, see fast::load_fast_known_sha256), so that the fast engine's
// validated-module record is looked up without hashing them again; "" for none.
Result<ModuleInfo> describe_via_fast(Engine& fast_engine, const uint8_t* bytes, size_t size,
                                     std::shared_ptr<const Module>* loaded,
                                     const std::string& module_sha256 = {},
                                     bool* within_aot_bounds = nullptr);

namespace fast {
// Whether a module the fast engine loaded uses exception handling (FeatureScan::exceptions);
// nullopt for a module of another engine. Defined in fast_engine.cc.
std::optional<bool> module_uses_exceptions(const Module& module);
// Whether a module the fast engine loaded is within every bound of the AOT translator (its
// validating pass or validated-module record said so); false for any other module.
bool module_within_aot_bounds(const Module& module);
// `fast_engine`'s load (make_fast_engine(); any other engine: its plain load) of bytes whose
// sha256 the caller has — verified: hashed from exactly these bytes, or a trusted record or
// signed manifest of them (RunOptions::module_sha256) — so that the validated-module record is
// looked up without hashing them again. `module_sha256` "": as load_file_bytes (`file`) or load.
Result<std::shared_ptr<const Module>> load_fast_known_sha256(Engine& fast_engine,
                                                            const uint8_t* bytes, size_t size,
                                                            const ModuleFileIdentity* file,
                                                            const std::string& module_sha256);
}  // namespace fast

}  // namespace wasmcap

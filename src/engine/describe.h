// A module's verdict and description (ModuleInfo) without wabt's interp reader (describe.cc).
// No wabt types: C++20 translation units (the AOT engine, the runtime) include it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>

#include "wasmcap/engine.h"

namespace wasmcap {

// What the wabt backend's load() answers for `bytes` — the same error code and message
// (module_malformed with wabt's first error and its byte offset; module_unsupported for exception
// handling and component binaries) or the same ModuleInfo — without building wabt's interpreter
// code for every function (~0.5 s for a 20 MB module): validate_module (fast/validate.h, the
// interp reader's verdicts and first errors, tests/engine validate_equiv) with WebAssembly 2.0,
// then the declarations read once more, function bodies skipped, for the description. The AOT
// engine describes a module it has no stored description of with it (docs/aot.md, "Cold start").
Result<ModuleInfo> describe_module(const uint8_t* bytes, size_t size);

// The same answer from a module the fast engine loaded — validated there already, with the
// exceptions feature on — without validating it again: its ModuleInfo, or the wabt backend's
// refusal when it uses exception handling (a module valid with exceptions that uses none of
// them is valid without: `describe_equiv`, tests/engine/CMakeLists.txt). `fast_module` must come
// from make_fast_engine()'s load (else invalid_argument). --engine auto's probe uses it.
Result<ModuleInfo> describe_fast_loaded(const Module& fast_module);

// --engine auto's describer (runtime.cc): loads `bytes` on `fast_engine` (make_fast_engine())
// and answers with describe_fast_loaded(), keeping the loaded module in `*loaded` for the run;
// when the fast engine refuses the module, with describe_module() (the wabt backend's own
// verdict and first error: its first error can differ from the fast engine's, which reads
// with exceptions on).
Result<ModuleInfo> describe_via_fast(Engine& fast_engine, const uint8_t* bytes, size_t size,
                                     std::shared_ptr<const Module>* loaded);

namespace fast {
// Whether a module the fast engine loaded uses exception handling (FeatureScan::exceptions);
// nullopt for a module of another engine. Defined in fast_engine.cc.
std::optional<bool> module_uses_exceptions(const Module& module);
}  // namespace fast

}  // namespace wasmcap

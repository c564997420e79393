// The AOT translator's bounds (reasons: docs/security-model.md, "AOT translation"), in a header
// of their own with no wabt types: the translator checks them on the bytes before a module is
// translated (aot::check_bounds, translate.h), and the fast engine's validating pass notes in
// the same pass whether a module may exceed one (FeatureScan::beyond_aot_bounds, validate.cc),
// so that the AOT engine need not decode a never-seen module once more only to check them
// (docs/aot.md, "Cold start"). Beyond one, the module is module_unsupported for the AOT engine
// and --engine auto runs it on the interpreter.
#pragma once

#include <cstdint>

namespace wasmcap::aot {

constexpr uint32_t kMaxNestingDepth = 10000;  // wabt's C writer recurses per level
constexpr uint64_t kMaxFunctionLocals = 50000;
constexpr uint32_t kMaxFunctionParams = 1000;
constexpr uint32_t kMaxFunctionResults = 1000;
constexpr uint32_t kMaxBrTableTargets = 65520;
constexpr uint32_t kMaxFunctions = 1000000;
// Locals, parameters, br_table targets and function counts cost C text and translator memory
// per unit while costing the module a byte or less each (a local count is one LEB): they are
// bounded so that the C, and the translator's memory, stay proportional to the module's size.
// The per-function numbers are the JS API's implementation limits (what browsers accept).
constexpr uint64_t kMaxTotalLocals = 4000000;       // declared locals over all functions: ~80 MB of C
constexpr uint64_t kMaxFunctionBodySize = 7654321;  // bytes (JS API)

}  // namespace wasmcap::aot

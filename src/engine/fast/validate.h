// Validation for the fast engine's load (validate.cc). C++17 (wabt headers), see fast.h.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "engine/fast/translate.h"
#include "wabt/binary-reader.h"
#include "wabt/error.h"

namespace wasmcap::fast {

// The fast engine's feature set: the wabt oracle's (WebAssembly 2.0) plus exceptions (the
// legacy try/catch form, which wabt 1.0.32 reads; exnref's try_table/throw_ref it does not
// know).
wabt::Features load_features();
// The reader options of the load: those features, no debug names, stop at the first error, a
// malformed custom section is an error.
wabt::ReadBinaryOptions load_options();

// Validates the module in one decoding pass through wabt's SharedValidator and collects the
// feature scan's facts in the same pass (FeatureScan, translate.h). Accepts and rejects exactly
// the modules wabt's interp reader (wabt::interp::ReadBinaryInterp) accepts and rejects with
// the same `options`, with the same first error (message and byte offset) in `errors`: it makes
// the same validator calls in the same order (except kInstructionAfterFunctionEnd below;
// tests/engine/validate_equiv: the spec suite and
// mutants of it through both; tests/engine/fuzz/fuzz_fast_diff.cc compares the two verdicts).
// `scan` is filled only as far as the pass got; it is meaningful when the result is Ok.
//
// Above a size threshold the function bodies are validated in parallel (at most
// `max_threads` threads, ≤ 4, each with a validator of its own over the same declarations;
// "Parallel validation" in validate.cc); the verdict and the reported error are those of the
// sequential pass whatever the number of threads. max_threads 0: as many as the hardware runs
// at once (the engine's load), 1: sequential.
// `threshold`: the code section's size from which bodies are validated in parallel (tests set
// it to 0 to put small modules through the parallel path). `instructions`, if given, receives
// the number of instructions each pass read (tests: the passes share the bodies out).
constexpr size_t kParallelValidateThreshold = 1 << 20;
// The first error of a function body that goes on after the `end` closing its own label: the
// one verdict that differs from wabt 1.0.32's interp reader, which accepts such a body.
inline constexpr const char* kInstructionAfterFunctionEnd =
    "function body continues after the end of the function (malformed body)";
wabt::Result validate_module(const uint8_t* bytes, size_t size,
                             const wabt::ReadBinaryOptions& options, wabt::Errors* errors,
                             FeatureScan* scan, unsigned max_threads = 1,
                             size_t threshold = kParallelValidateThreshold,
                             std::vector<uint64_t>* instructions = nullptr);

// How validate_module would split the work: `threads` < 2 means one sequential pass; else
// thread t validates bodies [first_body[t], first_body[t + 1]) of the code section.
struct ParallelPlan {
  unsigned threads = 1;
  std::vector<size_t> first_body;
};
ParallelPlan parallel_plan(const uint8_t* bytes, size_t size, unsigned max_threads,
                           size_t threshold = kParallelValidateThreshold);

// Tests only: `copied_options` makes the parallel passes send their skip requests to a copy of
// the reader's options, as if wabt's reader copied them (the fallback to one pass is tested).
namespace validate_test_hooks {
extern bool copied_options;
}

}  // namespace wasmcap::fast

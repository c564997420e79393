// Validation for the fast engine's load (validate.cc). C++17 (wabt headers), see fast.h.
#pragma once

#include <cstddef>
#include <cstdint>

#include "engine/fast/translate.h"
#include "wabt/binary-reader.h"
#include "wabt/error.h"

namespace wasmcap::fast {

// The fast engine's feature set: the wabt backend's (WebAssembly 2.0) plus exceptions (the
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
// the same validator calls in the same order (tests/engine/validate_equiv: the spec suite and
// mutants of it through both; tests/engine/fuzz/fuzz_fast_diff.cc compares the two verdicts).
// `scan` is filled only as far as the pass got; it is meaningful when the result is Ok.
//
// Above a size threshold the function bodies are validated in parallel (at most
// `max_threads` threads, ≤ 4, each with a validator of its own over the same declarations;
// "Parallel validation" in validate.cc); the verdict and the reported error are those of the
// sequential pass whatever the number of threads. max_threads 0: the hardware's threads.
wabt::Result validate_module(const uint8_t* bytes, size_t size,
                             const wabt::ReadBinaryOptions& options, wabt::Errors* errors,
                             FeatureScan* scan, unsigned max_threads = 1);

}  // namespace wasmcap::fast

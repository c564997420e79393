// The fast engine's validating reader against wabt's interp reader on one module (compare.cc):
// shared by tests/engine/validate_equiv.cc and the differential fuzz target. No wabt types in
// this header, so C++20 translation units can include it (wabt's interp headers are C++17).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace wasmcap::fast_test {

struct ValidatorVerdicts {
  std::string reference;  // wabt::interp::ReadBinaryInterp: "accepts" / "refuses: MSG (at byte offset N)"
  std::string ours;       // wasmcap::fast::validate_module, the same form
  bool reference_ok = false;
  // The documented departure (engine/fast/validate.h, kInstructionAfterFunctionEnd): wabt's
  // interp reader accepts a body that goes on after the end of the function, the fast validator
  // and wabt's IR reader refuse it; `reference` is then ours.
  bool departure = false;
  bool same() const { return reference == ours; }
};

// Both readers with the fast engine's options (load_options()); `threads` and `threshold` go to
// validate_module (threads 1: sequential; threshold 0: any module of two bodies per thread or
// more goes through the parallel path).
ValidatorVerdicts compare_validators(const uint8_t* bytes, size_t size, unsigned threads = 1,
                                     size_t threshold = 0);

// How many threads validate_module would use for this module (1: the sequential pass).
unsigned parallel_threads(const uint8_t* bytes, size_t size, unsigned threads,
                          size_t threshold = 0);

}  // namespace wasmcap::fast_test

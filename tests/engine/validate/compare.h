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
  bool same() const { return reference == ours; }
};

// Both readers with the fast engine's options (load_options()); `threads` goes to
// validate_module (1: sequential).
ValidatorVerdicts compare_validators(const uint8_t* bytes, size_t size, unsigned threads = 1);

}  // namespace wasmcap::fast_test

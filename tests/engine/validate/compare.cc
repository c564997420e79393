// See compare.h. C++17 (wabt's interp headers).
#include "validate/compare.h"

#include "engine/fast/validate.h"
#include "wabt/interp/binary-reader-interp.h"

namespace wasmcap::fast_test {
namespace {

std::string verdict(wabt::Result r, const wabt::Errors& errors) {
  if (wabt::Succeeded(r)) return "accepts";
  if (errors.empty()) return "refuses: (no message)";
  return "refuses: " + errors.front().message + " (at byte offset " +
         std::to_string(errors.front().loc.offset) + ")";
}

}  // namespace

ValidatorVerdicts compare_validators(const uint8_t* bytes, size_t size, unsigned threads,
                                     size_t threshold) {
  ValidatorVerdicts v;
  {
    wabt::Errors errors;
    wabt::interp::ModuleDesc desc;
    wabt::Result r = wabt::interp::ReadBinaryInterp("module.wasm", bytes, size,
                                                    fast::load_options(), &errors, &desc);
    v.reference_ok = wabt::Succeeded(r);
    v.reference = verdict(r, errors);
  }
  {
    wabt::Errors errors;
    fast::FeatureScan scan;
    wabt::Result r =
        fast::validate_module(bytes, size, fast::load_options(), &errors, &scan, threads, threshold);
    v.ours = verdict(r, errors);
  }
  return v;
}

unsigned parallel_threads(const uint8_t* bytes, size_t size, unsigned threads,
                          size_t threshold) {
  return fast::parallel_plan(bytes, size, threads, threshold).threads;
}

}  // namespace wasmcap::fast_test

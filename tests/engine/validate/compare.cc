// See compare.h. C++17 (wabt's interp headers).
#include "validate/compare.h"

#include "engine/fast/validate.h"
#include "wabt/binary-reader-ir.h"
#include "wabt/interp/binary-reader-interp.h"
#include "wabt/ir.h"

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
  wabt::Errors reference_errors;
  {
    wabt::interp::ModuleDesc desc;
    wabt::Result r = wabt::interp::ReadBinaryInterp("module.wasm", bytes, size,
                                                    fast::load_options(), &reference_errors, &desc);
    v.reference_ok = wabt::Succeeded(r);
    v.reference = verdict(r, reference_errors);
  }
  wabt::Errors errors;
  {
    fast::FeatureScan scan;
    wabt::Result r =
        fast::validate_module(bytes, size, fast::load_options(), &errors, &scan, threads, threshold);
    v.ours = verdict(r, errors);
  }
  // The one documented departure (validate.h, kInstructionAfterFunctionEnd): a body that goes
  // on after the end of the function. wabt 1.0.32's interp reader accepts it, or refuses it for
  // another error of what follows (its own first error, earlier or later: it reads the body
  // on). Agreement there means the same verdict: the interp reader refuses the module too, or it
  // accepts it and wabt's IR reader (what wasm-validate uses) refuses it. A valid module refused
  // here is never agreement (the IR reader accepts it).
  if (!v.same() && !errors.empty() && errors.front().message == fast::kInstructionAfterFunctionEnd) {
    bool agreed = !v.reference_ok;
    if (!agreed) {
      wabt::Errors ir_errors;
      wabt::Module module;
      wabt::ReadBinaryOptions options = fast::load_options();
      agreed = wabt::Failed(
          wabt::ReadBinaryIr("module.wasm", bytes, size, options, &ir_errors, &module));
    }
    if (agreed) {
      v.reference = v.ours;
      v.reference_ok = false;
      v.departure = true;
    }
  }
  return v;
}

unsigned parallel_threads(const uint8_t* bytes, size_t size, unsigned threads,
                          size_t threshold) {
  return fast::parallel_plan(bytes, size, threads, threshold).threads;
}

}  // namespace wasmcap::fast_test

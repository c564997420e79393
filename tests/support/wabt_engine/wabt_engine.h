// wabt's interpreter behind the Engine interface (wabt_engine.cc): the tests' reference oracle, as
// Fizzy keeps reference engines in its tests. Not part of the product (issue #29: the product's
// engines are interp, aot and auto, and make_engine() does not know this one); tests link the
// library wasmcap_wabt_oracle (tests/CMakeLists.txt). Differential tests compare the product's
// engines with it: fast_differential_test, fast_code_test, validate_equiv --describe (the AOT
// engine's module descriptions), the fast_diff fuzz target, determinism_test, load_budget_test,
// and host_boundary_test runs its suite on it too.
//
// Its name() is "wabt". It meters fuel in wabt's own instructions (not wasm instructions), enforces
// the deadline and interrupt between slices, and refuses exception handling by name
// (module_unsupported), as it did in the product.
#pragma once

#include <memory>

#include "wasmcap/engine.h"

namespace wasmcap::testing {

std::unique_ptr<Engine> make_wabt_reference_engine();

}  // namespace wasmcap::testing

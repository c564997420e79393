// Internal counters for tests (no wabt types: C++20 tests include it). Process-wide, relaxed.
#pragma once

#include <cstdint>

namespace wasmcap::engine_test_hooks {

// Modules validated by fast::validate_module in this process (the fast engine's load, the AOT
// engine's describe_module, the AOT translator): tests check that --engine auto validates a
// never-seen module once in the foreground (docs/aot.md, "Cold start"). Defined in validate.cc.
uint64_t module_validations();

// Calls of the wabt backend's load() (wabt's interp reader: it validates and also builds wabt's
// interpreter code). The AOT engine no longer uses it to describe modules. Defined in
// interp_engine.cc.
uint64_t wabt_backend_loads();

}  // namespace wasmcap::engine_test_hooks

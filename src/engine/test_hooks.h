// Internal counters for tests (no wabt types: C++20 tests include it). Process-wide, relaxed.
#pragma once

#include <cstdint>

namespace wasmcap::engine_test_hooks {

// Modules validated by fast::validate_module in this process (the fast engine's load, the AOT
// engine's describe_module, the AOT translator): tests check that --engine auto validates a
// never-seen module once in the foreground (docs/aot.md, "Cold start"). Defined in validate.cc.
uint64_t module_validations();

// Decoding passes of aot::check_bounds (the AOT translator's bounds on the bytes) in this
// process: the AOT engine takes a never-seen module's verdict from the validating pass instead
// (docs/aot.md, "Cold start"); translate() still makes its own. Defined in aot/translate_check.cc.
uint64_t aot_bounds_passes();

// sha256s of a module's bytes computed in this process for the AOT cache key, a module file's
// record or a validated-module record (cache::module_bytes_sha256): a run hashes a module at most
// once (docs/aot.md, "Cold start"). Defined in cache_files.cc.
uint64_t module_hashes();

}  // namespace wasmcap::engine_test_hooks

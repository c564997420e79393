// Internal counters of the runtime for tests. Process-wide, relaxed.
#pragma once

#include <cstdint>

namespace wasmcap::runtime_test_hooks {

// Link-check tables (the host functions' names and signatures the AOT engine checks imports
// against before it compiles) built in this process: one per kind (WASI only, WASI + https),
// shared by every run after it (docs/aot.md, "Cold start"). Defined in runtime.cc.
uint64_t link_signature_tables();

}  // namespace wasmcap::runtime_test_hooks

// Internal hooks of the registry for tests. Process-wide, relaxed.
#pragma once

#include <cstdint>

namespace wasmcap::registry::test_hooks {

// How long every file a verification read must have been unchanged, when it was stamped, for
// the conclusion to be kept (registry.cc, "Verified state"). 2 s unless a test sets it.
void set_settled_ns(int64_t ns);
// Full verifications (the bundle read, its signature checked and its files hashed) resolve()
// has made in this process.
uint64_t full_verifications();

}  // namespace wasmcap::registry::test_hooks

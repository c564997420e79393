// Where a test finds the build's programs and guests and the checkout's files.
//
// Read at run time from one small generated source (tests/support/test_paths.cc.in, configured
// into the build tree as test_paths.cc), never from compile definitions: an object compiled with
// a checkout's path in its flags is a different compile in every checkout, so ccache could
// never share the tests' objects between two clones and CI recompiled every one on every run.
// With the paths here, a test object depends on its source only.
#pragma once

namespace test_paths {

const char* guest_dir();     // the build's test guests (*.wasm)
const char* cli();           // the build's wasmcap
const char* source_dir();    // the checkout
const char* bundle_dir();    // the build's bundles (coreutils, oils-helpers, ...)
const char* aot_test_cache();// the aot tests' shared cache: one compile per module per build
const char* policy_probe();  // tests/policy's fs_probe.wasm; "" where clang-19 was not found

}  // namespace test_paths

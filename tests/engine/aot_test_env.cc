// The AOT engine's own tests (aot_*_test.cc, one executable) use the shared test cache at the
// tests' -O1 (aot_test_support.h: shared_options()); so do the wasmcap CLIs they start, through
// the environment, set here once before any test runs.
#include <cstdlib>

#include "test_paths.h"

namespace {

const bool kAotTestEnv = [] {
  setenv("WASMCAP_AOT_OPT", "1", 1);
  setenv("WASMCAP_CACHE_DIR", test_paths::aot_test_cache(), 1);
  return true;
}();

}  // namespace

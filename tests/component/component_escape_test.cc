// The sandbox-escape suite (guest/tests/escape.c: 85 ways out, 11 controls) as a WASI 0.2
// component: the clang-built guest wrapped by `jco new --wasi-command` (jco_components.sh, which
// runs this with WASMCAP_TEST_COMPONENT_DIR), so every path it opens, stats, links, renames or
// removes reaches the host through the preview1 adapter and wasi:filesystem (src/wasip2/fs.cc),
// not through the P1 binding. The same layout and checks as the P1 run
// (tests/support/escape_harness.h), on both product engines.
#include <cstdlib>
#include <filesystem>
#include <string>

#include "escape_harness.h"
#include "test_support.h"

namespace wasmcap {
namespace {

std::string component() {
  const char* dir = std::getenv("WASMCAP_TEST_COMPONENT_DIR");
  return dir == nullptr ? std::string() : (std::filesystem::path(dir) / "escape.component.wasm").string();
}

class ComponentEscape : public ::testing::TestWithParam<const char*> {};

TEST_P(ComponentEscape, EveryAttemptIsRefusedAndEveryControlWorks) {
  const std::string c = component();
  ASSERT_FALSE(c.empty()) << "WASMCAP_TEST_COMPONENT_DIR is not set: run through jco_components.sh";
  ASSERT_TRUE(std::filesystem::exists(c)) << c;
  testing::TempDir tmp;
  testing::EscapeLayout layout(tmp.path());
  std::vector<std::string> args = layout.run_args(c);
  args.insert(args.begin() + 1, {"--engine", GetParam()});
  testing::ProcOptions po;
  po.timeout_ms = 240000;  // aot compiles the adapter and the guest on a cold cache
  layout.check(testing::run_cli(args, po));
}

INSTANTIATE_TEST_SUITE_P(Engines, ComponentEscape, ::testing::Values("interp", "aot"));

}  // namespace
}  // namespace wasmcap

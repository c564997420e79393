// Sandbox escape: runs guest/tests/escape.c through the CLI against a workspace full of
// traps (symlinks pointing out, a secret file next to it, a read-only preopen) and checks
// both what the guest reports and what actually happened on the host filesystem
// (tests/support/escape_harness.h).
#include "escape_harness.h"
#include "test_support.h"

namespace wasmcap {
namespace {

TEST(EscapeTest, EveryAttemptIsRefusedAndEveryControlWorks) {
  testing::TempDir tmp;
  testing::EscapeLayout layout(tmp.path());
  testing::ProcOptions po;
  po.timeout_ms = 60000;
  layout.check(testing::run_cli(layout.run_args(testing::guest_path("escape")), po));
}

}  // namespace
}  // namespace wasmcap

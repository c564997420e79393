// run_module: entry points (commands, reactors, --invoke), and how outcomes map to results.
#include "test_support.h"

namespace wasmcap {
namespace {

using testing::Captured;
using testing::guest_bytes;
using testing::run_guest;

TEST(RunModule, CommandRunsStart) {
  RunOptions o;
  o.wasi.args = {"hello", "x"};
  Captured c = run_guest("hello", o);
  ASSERT_TRUE(c.report.has_value()) << c.report.error().to_string();
  EXPECT_EQ(c.report->exit_code, 0);
  EXPECT_EQ(c.out, "hello from wasm\narg[1]=x\n");
  EXPECT_GE(c.report->wall_ms, 0.0);
  // Engines that meter count instructions; others (aot) report 0.
  if (testing::test_engine_has(Capability::kLimitFuel)) {
    EXPECT_GT(c.report->fuel_consumed, 0u);
  }
}

TEST(RunModule, ReactorInitializeRunsBeforeTheInvokedExport) {
  RunOptions o;
  o.entry = "run";
  Captured c = run_guest("reactor", o);
  ASSERT_TRUE(c.report.has_value()) << c.report.error().to_string();
  EXPECT_EQ(c.report->exit_code, 7);  // the state _initialize set
}

// If _initialize calls proc_exit, the run is over: the invoked export must not run and the
// status is _initialize's.
TEST(RunModule, ExitDuringInitializeEndsTheRun) {
  RunOptions o;
  o.entry = "run";
  Captured c = run_guest("reactor_init_exits", o);
  ASSERT_TRUE(c.report.has_value()) << c.report.error().to_string();
  EXPECT_EQ(c.report->exit_code, 3) << "the export ran after _initialize exited";
}

TEST(RunModule, MissingEntryIsNoEntryPoint) {
  RunOptions o;
  Captured c = run_guest("values", o);  // no _start
  ASSERT_FALSE(c.report.has_value());
  EXPECT_EQ(c.report.error().code, ErrorCode::kNoEntryPoint);
  o.entry = "nope";
  Captured d = run_guest("hello", o);
  ASSERT_FALSE(d.report.has_value());
  EXPECT_EQ(d.report.error().code, ErrorCode::kNoEntryPoint);
  EXPECT_NE(d.report.error().message.find("nope"), std::string::npos);
}

TEST(RunModule, TrapsKeepTheirCode) {
  RunOptions o;
  o.entry = "div_zero_s";
  Captured c = run_guest("traps", o);
  ASSERT_FALSE(c.report.has_value());
  EXPECT_EQ(c.report.error().code, ErrorCode::kTrapIntegerDivideByZero);
  o.entry = "recurse_forever";
  Captured d = run_guest("traps", o);
  ASSERT_FALSE(d.report.has_value());
  EXPECT_EQ(d.report.error().code, ErrorCode::kTrapStackExhausted);
}

// A huge timeout means "practically unlimited"; it must not overflow into a deadline in the
// past (which would fail every run at once with deadline_exceeded).
TEST(RunModule, HugeTimeoutDoesNotOverflow) {
  for (uint64_t ms : {uint64_t{10000000000000}, ~uint64_t{0}}) {
    RunOptions o;
    o.timeout_ms = ms;
    o.wasi.args = {"hello"};
    Captured c = run_guest("hello", o);
    if (c.report.has_value()) {
      EXPECT_EQ(c.out, "hello from wasm\n");
    } else {
      EXPECT_EQ(c.report.error().code, ErrorCode::kInvalidArgument)
          << "timeout_ms=" << ms << ": " << c.report.error().to_string();
    }
  }
}

TEST(RunModule, UnknownEngineIsRefused) {
  RunOptions o;
  o.engine = "v8";
  Captured c = run_guest("hello", o);
  ASSERT_FALSE(c.report.has_value());
  EXPECT_EQ(c.report.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(c.report.error().message.find("interp"), std::string::npos);
}

TEST(RunModule, MissingPreopenDirectoryIsAnError) {
  RunOptions o;
  o.wasi.preopens.push_back(Preopen{"/nonexistent/wasmcap/dir", "/x", false});
  Captured c = run_guest("hello", o);
  ASSERT_FALSE(c.report.has_value());
  EXPECT_EQ(c.report.error().code, ErrorCode::kNotFound);
  EXPECT_NE(c.report.error().message.find("/nonexistent/wasmcap/dir"), std::string::npos);
}

TEST(RunModule, MalformedBytesAreModuleMalformed) {
  std::vector<uint8_t> junk = {'n', 'o', 't', ' ', 'w', 'a', 's', 'm'};
  RunOptions o;
  Captured c = run_guest(junk, o);
  ASSERT_FALSE(c.report.has_value());
  EXPECT_EQ(c.report.error().code, ErrorCode::kModuleMalformed);
}

}  // namespace
}  // namespace wasmcap

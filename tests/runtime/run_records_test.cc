// The run's own audit records, written by the library (runtime.h RunOptions::record_run;
// docs/audit.md "run_start / run_end"): every front end that calls run_module gets them, with one
// invocation id shared with the run's https records; record or refuse when a sink fails.
#include <nlohmann/json.hpp>

#include <cstdio>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "test_support.h"
#include "wasmcap/audit.h"
#include "wasmcap/runtime.h"

namespace wasmcap {
namespace {

using nlohmann::json;

// Keeps the records; refuses every record from the `fail_from`-th on (1-based; 0: never), as a
// full disk would.
struct Recorder : audit::Sink {
  explicit Recorder(size_t fail_from = 0) : fail_from(fail_from) {}
  Result<void> append(std::string_view line) override {
    std::lock_guard<std::mutex> l(mu);
    ++calls;
    if (fail_from != 0 && calls >= fail_from) {
      return make_error(ErrorCode::kIo, "audit record not written: No space left on device");
    }
    lines.push_back(json::parse(line));
    return {};
  }
  std::mutex mu;
  size_t fail_from;
  size_t calls = 0;
  std::vector<json> lines;
};

bool is_sha256_hex(const json& v) {
  if (!v.is_string()) return false;
  const std::string s = v;
  return s.size() == 64 && s.find_first_not_of("0123456789abcdef") == std::string::npos;
}

RunOptions hello_options(std::shared_ptr<Recorder> sink) {
  RunOptions o;
  o.wasi.args = {"hello", "world"};
  o.audit_sink = std::move(sink);
  return o;
}

TEST(RunRecords, RunStartAndRunEndReachTheEmbeddersSinkUnderOneId) {
  auto sink = std::make_shared<Recorder>();
  testing::Captured c = testing::run_guest("hello", hello_options(sink));
  ASSERT_TRUE(c.report) << c.report.error().to_string();
  EXPECT_EQ(c.out, "hello from wasm\narg[1]=world\n");
  ASSERT_EQ(sink->lines.size(), 2u);
  const json& start = sink->lines[0];
  const json& end = sink->lines[1];
  EXPECT_EQ(start["event"], "run_start");
  EXPECT_EQ(start["module"], "hello");  // argv[0] of a run without a plan
  EXPECT_TRUE(is_sha256_hex(start["module_sha256"])) << start.dump();
  EXPECT_EQ(start["grants"]["args"], true);
  EXPECT_EQ(end["event"], "run_end");
  EXPECT_EQ(end["outcome"], "exit");
  EXPECT_EQ(end["exit_code"], 0);
  EXPECT_EQ(c.report->invocation_id.size(), 32u);
  EXPECT_EQ(start["invocation_id"], c.report->invocation_id);
  EXPECT_EQ(end["invocation_id"], c.report->invocation_id);
  EXPECT_FALSE(c.report->audit_error);
}

// A write budget refusal is in run_end once, however many writes it refused (bounded audit
// bytes): a cp that fails on ENOSPC, a run record each, no record per write.
TEST(RunRecords, RunEndSaysTheWriteBudgetRefusedOnce) {
  testing::TempDir dir;
  dir.write("big", std::string(256u << 10, 'b'));
  auto run = [&](uint64_t budget) {
    auto sink = std::make_shared<Recorder>();
    RunOptions o;
    o.wasi.args = {"coreutils", "cp", "/d/big", "/d/copy"};
    o.wasi.preopens.push_back({dir.str(), "/d", false});
    o.wasi.max_write_bytes = budget;
    o.audit_sink = sink;
    testing::Captured c = testing::run_guest("coreutils", std::move(o));
    EXPECT_TRUE(c.report) << c.report.error().to_string();
    EXPECT_EQ(sink->lines.size(), 2u);
    std::remove((dir / "copy").c_str());
    return std::make_pair(c.report ? c.report->write_budget_refused : false,
                          sink->lines.empty() ? json() : sink->lines.back());
  };
  auto [refused, end] = run(64u << 10);
  EXPECT_TRUE(refused);
  EXPECT_EQ(end["write_budget_refused"], true) << end.dump();
  EXPECT_NE(end["exit_code"], 0) << end.dump();
  auto [fine, end2] = run(1u << 20);
  EXPECT_FALSE(fine);
  EXPECT_EQ(end2["write_budget_refused"], false) << end2.dump();
  EXPECT_EQ(end2["exit_code"], 0) << end2.dump();
}

// The record says what the run gets as it runs: a run without a plan names its directories,
// environment names (never values) and limits; a limit narrowed after the plan is the one recorded.
TEST(RunRecords, RunStartNamesTheEffectiveGrantsAndLimits) {
  testing::TempDir dir;
  auto sink = std::make_shared<Recorder>();
  RunOptions o = hello_options(sink);
  Preopen p;
  p.guest_path = "/work";
  p.host_path = dir.str();
  p.read_only = true;
  o.wasi.preopens.push_back(p);
  o.wasi.env.emplace_back("WHO", "value-not-recorded-71");
  o.timeout_ms = 60000;
  o.max_memory_bytes = 64ull << 20;
  testing::Captured c = testing::run_guest("hello", o);
  ASSERT_TRUE(c.report) << c.report.error().to_string();
  ASSERT_EQ(sink->lines.size(), 2u);
  const json& start = sink->lines[0];
  EXPECT_EQ(start["grants"]["fs"], json::parse(R"([{"guest":"/work","access":"ro","denied":false}])"))
      << start.dump();
  EXPECT_EQ(start["grants"]["env"], json::array({"WHO"}));
  EXPECT_EQ(start["limits"]["timeout_ms"], 60000);
  EXPECT_EQ(start["limits"]["max_memory_mb"], 64);
  EXPECT_TRUE(start["limits"]["fuel"].is_null());
  EXPECT_EQ(start.dump().find("value-not-recorded-71"), std::string::npos);
  EXPECT_EQ(start.dump().find(dir.str()), std::string::npos);  // host paths are the operator's

  // A plan's timeout narrowed by the caller (as the C API's config does): the smaller is recorded.
  auto plan = std::make_shared<policy::Plan>();
  plan->plugin = "hello";
  plan->args = true;
  plan->limits.timeout_ms = 600000;
  auto from_plan = run_options_from_plan(plan, {"hello"}, false);
  ASSERT_TRUE(from_plan) << from_plan.error().to_string();
  from_plan->timeout_ms = 50000;
  auto narrowed = std::make_shared<Recorder>();
  from_plan->audit_sink = narrowed;
  testing::Captured n = testing::run_guest("hello", std::move(*from_plan));
  ASSERT_TRUE(n.report) << n.report.error().to_string();
  ASSERT_EQ(narrowed->lines.size(), 2u);
  EXPECT_EQ(narrowed->lines[0]["limits"]["timeout_ms"], 50000);
  EXPECT_EQ(narrowed->lines[0]["plugin"], "hello");
}

TEST(RunRecords, TheCallersInvocationIdIsUsedAndAMalformedOneRefused) {
  auto sink = std::make_shared<Recorder>();
  RunOptions o = hello_options(sink);
  o.invocation_id = "call_42";
  testing::Captured c = testing::run_guest("hello", o);
  ASSERT_TRUE(c.report) << c.report.error().to_string();
  EXPECT_EQ(c.report->invocation_id, "call_42");
  ASSERT_EQ(sink->lines.size(), 2u);
  EXPECT_EQ(sink->lines[0]["invocation_id"], "call_42");
  // It lands in audit records: a quote or a newline in it never does.
  auto bad = std::make_shared<Recorder>();
  RunOptions b = hello_options(bad);
  b.invocation_id = "x\"\n{\"event\":\"forged\"}";
  testing::Captured r = testing::run_guest("hello", b);
  ASSERT_FALSE(r.report);
  EXPECT_EQ(r.report.error().code, ErrorCode::kInvalidArgument);
  EXPECT_TRUE(bad->lines.empty());
  EXPECT_EQ(r.out, "");
}

// Record or refuse: no run_start, no run.
TEST(RunRecords, ARunStartThatCannotBeWrittenMeansTheModuleNeverStarts) {
  auto sink = std::make_shared<Recorder>(1);
  testing::Captured c = testing::run_guest("hello", hello_options(sink));
  ASSERT_FALSE(c.report);
  EXPECT_EQ(c.report.error().code, ErrorCode::kIo);
  EXPECT_NE(c.report.error().message.find("the run was not started"), std::string::npos)
      << c.report.error().message;
  EXPECT_EQ(c.out, "");  // the guest never ran
  EXPECT_EQ(sink->calls, 1u);
}

// A run_end that cannot be written: the run happened (its report says how it ended) and the
// report carries the failure for the front end to fail the run with.
TEST(RunRecords, ARunEndThatCannotBeWrittenIsReportedWithTheRun) {
  auto sink = std::make_shared<Recorder>(2);
  testing::Captured c = testing::run_guest("hello", hello_options(sink));
  ASSERT_TRUE(c.report) << c.report.error().to_string();
  EXPECT_EQ(c.out, "hello from wasm\narg[1]=world\n");
  ASSERT_TRUE(c.report->audit_error);
  EXPECT_EQ(c.report->audit_error->code, ErrorCode::kIo);
  ASSERT_EQ(sink->lines.size(), 1u);
  EXPECT_EQ(sink->lines[0]["event"], "run_start");
}

// A run that fails (a trap) keeps its own error; a failed run_end is named in its message.
TEST(RunRecords, AFailedRunKeepsItsErrorAndSaysItsRunEndWasNotWritten) {
  auto ok = std::make_shared<Recorder>();
  RunOptions o;
  o.entry = "div_zero_s";
  o.audit_sink = ok;
  testing::Captured c = testing::run_guest("traps", o);
  ASSERT_FALSE(c.report);
  const ErrorCode trap = c.report.error().code;
  EXPECT_EQ(trap, ErrorCode::kTrapIntegerDivideByZero);
  ASSERT_EQ(ok->lines.size(), 2u);
  EXPECT_EQ(ok->lines[1]["outcome"], "error");
  EXPECT_EQ(ok->lines[1]["error"], std::string(error_code_name(trap)));

  auto failing = std::make_shared<Recorder>(2);
  o.audit_sink = failing;
  testing::Captured f = testing::run_guest("traps", o);
  ASSERT_FALSE(f.report);
  EXPECT_EQ(f.report.error().code, trap);
  EXPECT_NE(f.report.error().message.find("its run_end record was not written"), std::string::npos)
      << f.report.error().message;
}

// Front ends with records of their own (MCP tool calls, shell commands) turn the run's off; a run
// with no destination writes nothing and hashes nothing.
TEST(RunRecords, NothingIsWrittenWhenTurnedOffOrWithoutADestination) {
  auto sink = std::make_shared<Recorder>();
  RunOptions o = hello_options(sink);
  o.record_run = false;
  testing::Captured c = testing::run_guest("hello", o);
  ASSERT_TRUE(c.report) << c.report.error().to_string();
  EXPECT_TRUE(sink->lines.empty());
  EXPECT_EQ(c.report->invocation_id.size(), 32u);  // still made: https events carry it
}

}  // namespace
}  // namespace wasmcap

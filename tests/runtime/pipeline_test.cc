// The run pipeline (runtime.h RunRequest, resolve_run, run_request): one narrowing rule with
// memory in bytes, each grant source resolved as the front ends resolved it before they called
// the pipeline, the invocation id the pipeline owns, and runs on bytes or a prepared module.
#include <nlohmann/json.hpp>

#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "test_support.h"
#include "wasmcap/audit.h"
#include "wasmcap/policy.h"
#include "wasmcap/runtime.h"

namespace wasmcap {
namespace {

using nlohmann::json;

// The run-relevant facts of RunOptions, one string: two resolutions are the same run when these
// are equal (the invocation id and the sinks aside).
std::string facts(const RunOptions& o) {
  json j;
  j["args"] = o.wasi.args;
  json fs = json::array();
  for (const auto& p : o.wasi.preopens) fs.push_back({p.guest_path, p.host_path, p.read_only, p.denied});
  j["fs"] = fs;
  j["env"] = o.wasi.env;
  j["clock"] = clock_source_string(o.wasi.clock);
  j["clock_wall"] = o.wasi.clock_wall;
  j["clock_monotonic"] = o.wasi.clock_monotonic;
  j["random"] = random_source_string(o.wasi.random);
  j["max_memory_bytes"] = o.max_memory_bytes;
  j["timeout_ms"] = o.timeout_ms;
  j["fuel"] = o.fuel;
  j["https"] = o.host_apis.has(Capability::kHostApiHttps);
  j["plan"] = o.plan ? o.plan->plugin : "-";
  j["engine"] = o.engine;
  j["entry"] = o.entry;
  j["stdin_fd"] = o.wasi.stdin_fd;
  j["max_output_bytes"] = o.wasi.max_output_bytes;
  return j.dump();
}

// Manifest p (fs /work ro, env LANG, args, clocks, random; limits as given) x a host config
// granting them, with the host config's limits.
std::shared_ptr<policy::Plan> make_test_plan(const std::string& manifest_limits,
                                             const std::string& config_limits,
                                             const std::string& fs_grant = R"([{"guest":"/work","host":"/srv/ws","access":"rw"}])") {
  auto m = policy::parse_manifest(
      R"({"name":"p","version":"1.0.0","module":"p.wasm","permissions":{"fs":[{"guest":"/work","access":"ro"}],)"
      R"("env":["LANG"],"args":true,"clocks":["wall","monotonic"],"random":true},"limits":)" +
          manifest_limits + "}",
      "m.json");
  auto h = policy::parse_host_config(R"({"plugins":{"p":{"grants":{"fs":)" + fs_grant +
                                         R"(,"env":{"LANG":"C"}},"limits":)" + config_limits + "}}}",
                                     "c.json");
  EXPECT_TRUE(m.has_value()) << (m ? "" : m.error().message);
  EXPECT_TRUE(h.has_value()) << (h ? "" : h.error().message);
  if (!m || !h) return std::make_shared<policy::Plan>();
  return std::make_shared<policy::Plan>(policy::make_plan(*m, *h, "/plugins/p"));
}

// --- The one narrowing rule ----------------------------------------------------------------

TEST(RunPipelineNarrowing, SmallerWinsAndAbsentTakesTheOther) {
  RunBounds a{100u << 20, std::nullopt, 50, std::nullopt};
  RunBounds b{200u << 20, 300, std::nullopt, std::nullopt};
  RunBounds n = narrow_bounds(a, b);
  EXPECT_EQ(n.max_memory_bytes, uint64_t{100} << 20);  // smaller wins
  EXPECT_EQ(n.timeout_ms, 300u);                      // absent takes the other
  EXPECT_EQ(n.fuel, 50u);
  EXPECT_EQ(narrow_bounds(b, a).max_memory_bytes, uint64_t{100} << 20);  // either side
  RunBounds none = narrow_bounds(RunBounds{}, RunBounds{});
  EXPECT_FALSE(none.max_memory_bytes || none.timeout_ms || none.fuel);
}

TEST(RunPipelineNarrowing, PlanLimitsBecomeBytes) {
  policy::Limits l;
  l.max_memory_mb = 64;
  l.fuel = 7;
  RunBounds b = bounds_of(l);
  EXPECT_EQ(b.max_memory_bytes, uint64_t{64} << 20);
  EXPECT_FALSE(b.timeout_ms);
  EXPECT_EQ(b.fuel, 7u);
  l.max_memory_mb = UINT64_MAX;  // an embedder's value: saturates, never wraps to a small bound
  EXPECT_EQ(bounds_of(l).max_memory_bytes, UINT64_MAX);
}

// A bound that is not a whole MiB (the C API's byte-exact wasmcap_config_set_max_memory)
// narrows a plan's MiB limit in bytes, not rounded to MiB either way.
TEST(RunPipelineNarrowing, MemoryNarrowsInBytes) {
  RunRequest r;
  r.plan = make_test_plan(R"({"max_memory_mb":64})", "{}");
  r.argv = {"p"};
  r.bounds.max_memory_bytes = (uint64_t{3} << 20) + 12345;
  auto o = resolve_run(r);
  ASSERT_TRUE(o) << o.error().to_string();
  EXPECT_EQ(o->max_memory_bytes, (uint64_t{3} << 20) + 12345);
  r.bounds.max_memory_bytes = (uint64_t{64} << 20) + 1;  // one byte above the plan's: the plan's
  o = resolve_run(r);
  ASSERT_TRUE(o);
  EXPECT_EQ(o->max_memory_bytes, uint64_t{64} << 20);
}

// The operator's bounds only narrow: a larger bound never raises the plan's limit, and a bound
// fills in a limit the plan leaves absent.
TEST(RunPipelineNarrowing, BoundsNarrowAPlanRunNeverWiden) {
  RunRequest r;
  r.plan = make_test_plan(R"({"max_memory_mb":64,"fuel":1000})", R"({"timeout_ms":9000})");
  r.argv = {"p"};
  r.bounds = RunBounds{uint64_t{4096} << 20, 500, 5000, std::nullopt};
  auto o = resolve_run(r);
  ASSERT_TRUE(o) << o.error().to_string();
  EXPECT_EQ(o->max_memory_bytes, uint64_t{64} << 20);
  EXPECT_EQ(o->timeout_ms, 500u);
  EXPECT_EQ(o->fuel, 1000u);
  r.bounds = RunBounds{};
  o = resolve_run(r);
  ASSERT_TRUE(o);
  EXPECT_EQ(o->timeout_ms, 9000u);
  EXPECT_EQ(o->fuel, 1000u);
}

TEST(RunPipelineNarrowing, BoundsNarrowAFlagRun) {
  RunRequest r;
  r.argv = {"m.wasm"};
  r.options.fuel = 100;  // the flag grants' own limits
  r.options.max_memory_bytes = uint64_t{32} << 20;
  r.bounds = RunBounds{uint64_t{16} << 20, 250, 1000, std::nullopt};
  auto o = resolve_run(r);
  ASSERT_TRUE(o) << o.error().to_string();
  EXPECT_EQ(o->fuel, 100u);
  EXPECT_EQ(o->timeout_ms, 250u);  // 0 (unlimited) takes the bound
  EXPECT_EQ(o->max_memory_bytes, uint64_t{16} << 20);
}

// The write budget: the operator's bound replaces the default (it may raise it, unlike the
// other limits), the plan's limits.max_write_mb (host config and manifest, the smaller) narrows
// it, and absent everything the default stays.
TEST(RunPipelineNarrowing, WriteBudgetBoundsReplaceTheDefaultAndThePlanNarrows) {
  RunRequest flag;
  flag.argv = {"m.wasm"};
  auto o = resolve_run(flag);
  ASSERT_TRUE(o);
  EXPECT_EQ(o->wasi.max_write_bytes, kDefaultMaxWriteBytes);
  flag.bounds.max_write_bytes = uint64_t{8} << 30;
  o = resolve_run(flag);
  ASSERT_TRUE(o);
  EXPECT_EQ(o->wasi.max_write_bytes, uint64_t{8} << 30);

  RunRequest r;
  r.plan = make_test_plan(R"({"max_write_mb":64})", R"({"max_write_mb":32})");
  r.argv = {"p"};
  o = resolve_run(r);
  ASSERT_TRUE(o) << o.error().to_string();
  EXPECT_EQ(o->wasi.max_write_bytes, uint64_t{32} << 20);
  r.bounds.max_write_bytes = uint64_t{1} << 40;  // above the plan's: the plan's
  o = resolve_run(r);
  ASSERT_TRUE(o);
  EXPECT_EQ(o->wasi.max_write_bytes, uint64_t{32} << 20);
  r.bounds.max_write_bytes = uint64_t{5} << 20;
  o = resolve_run(r);
  ASSERT_TRUE(o);
  EXPECT_EQ(o->wasi.max_write_bytes, uint64_t{5} << 20);
  // A host config's limit out of range is refused when the config is read.
  auto h = policy::parse_host_config(R"({"plugins":{"p":{"limits":{"max_write_mb":0}}}})", "c.json");
  EXPECT_FALSE(h.has_value());
}

// --- Each grant source, as the front ends resolved it before the pipeline --------------------

// `wasmcap run --manifest`/`run NAME` and the MCP server narrowed the plan (policy::bound_limits,
// MiB) and then made its run options; pins after.
TEST(RunPipelineSources, PlanGivesTheOptionsTheCliAndMcpMade) {
  auto plan = make_test_plan(R"({"max_memory_mb":64,"timeout_ms":5000})", R"({"fuel":10000})");
  policy::Limits cli_bounds;
  cli_bounds.max_memory_mb = 32;
  cli_bounds.fuel = 20000;
  ClockSource pin{ClockSource::Kind::kDeny};
  // Before: the CLI's own assembly.
  auto narrowed = std::make_shared<policy::Plan>(*plan);
  policy::bound_limits(*narrowed, cli_bounds);
  auto before = run_options_from_plan(narrowed, {"p", "x"}, false);
  ASSERT_TRUE(before) << before.error().to_string();
  before->engine = "aot";
  before->wasi.stdin_fd = 0;
  before->wasi.max_output_bytes = 99;
  pin_clock(before->wasi, pin);
  // Now: one request.
  RunRequest r;
  r.plan = plan;
  r.argv = {"p", "x"};
  r.bounds = bounds_of(cli_bounds);
  r.clock_pin = pin;
  r.options.engine = "aot";
  r.options.wasi.stdin_fd = 0;
  r.options.wasi.max_output_bytes = 99;
  auto now = resolve_run(r);
  ASSERT_TRUE(now) << now.error().to_string();
  EXPECT_EQ(facts(*now), facts(*before));
  EXPECT_EQ(now->plan, plan);  // the plan itself, not a copy: host APIs read their rules from it
  EXPECT_EQ(now->max_memory_bytes, uint64_t{32} << 20);
  EXPECT_EQ(now->wasi.clock.kind, ClockSource::Kind::kDeny);
}

// The C API narrowed the plan's run options in bytes (0: no bound).
TEST(RunPipelineSources, PlanGivesTheOptionsTheCApiMade) {
  auto plan = make_test_plan(R"({"max_memory_mb":64})", R"({"timeout_ms":5000})");
  auto before = run_options_from_plan(plan, {"p"}, false);
  ASSERT_TRUE(before);
  before->max_memory_bytes = std::min<uint64_t>(before->max_memory_bytes, 1000000);
  before->fuel = 77;  // the plan has none: the config's
  RunRequest r;
  r.plan = plan;
  r.argv = {"p"};
  r.bounds.max_memory_bytes = 1000000;
  r.bounds.fuel = 77;
  auto now = resolve_run(r);
  ASSERT_TRUE(now);
  EXPECT_EQ(facts(*now), facts(*before));
}

// Flag grants (`wasmcap run MODULE --dir --env`, a shell command, a C API config without a plan)
// are the caller's options as they were, argv from the request.
TEST(RunPipelineSources, FlagGrantsAreTheCallersOptions) {
  RunOptions before;
  before.wasi.args = {"m.wasm", "a"};
  before.wasi.preopens.push_back(Preopen{"/tmp", ".", true});
  before.wasi.env = {{"A", "1"}};
  before.wasi.clock_wall = false;
  before.wasi.random.kind = RandomSource::Kind::kDeny;
  before.fuel = 5;
  before.max_memory_bytes = uint64_t{8} << 20;
  auto https_plan = std::make_shared<policy::Plan>();
  https_plan->plugin = "cli";
  https_plan->https.emplace();
  before.plan = https_plan;
  before.host_apis.add(Capability::kHostApiHttps);
  RunRequest r;
  r.options = before;
  r.options.wasi.args.clear();
  r.argv = {"m.wasm", "a"};
  auto now = resolve_run(r);
  ASSERT_TRUE(now) << now.error().to_string();
  EXPECT_EQ(facts(*now), facts(before));
  EXPECT_EQ(now->plan, https_plan);
}

// One source of grants: a run with a plan takes no directories or environment from elsewhere.
TEST(RunPipelineSources, APlanRefusesDirectoriesOrEnvironmentBesideIt) {
  RunRequest r;
  r.plan = make_test_plan("{}", "{}");
  r.argv = {"p"};
  r.options.wasi.preopens.push_back(Preopen{"/etc", "/etc", true});
  auto o = resolve_run(r);
  ASSERT_FALSE(o);
  EXPECT_EQ(o.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(o.error().message.find("from the plan only"), std::string::npos) << o.error().message;
  r.options.wasi.preopens.clear();
  r.options.wasi.env = {{"HOME", "/root"}};
  o = resolve_run(r);
  ASSERT_FALSE(o);
  EXPECT_EQ(o.error().code, ErrorCode::kInvalidArgument);
}

// Whatever the caller's options say of grants, a plan run's are the plan's.
TEST(RunPipelineSources, APlanReplacesTheOptionsGrants) {
  RunRequest r;
  r.plan = make_test_plan("{}", "{}");
  r.argv = {"p"};
  r.options.fuel = 1;  // not a bound: the plan's (none) stands
  r.options.host_apis.add(Capability::kHostApiHttps);
  auto o = resolve_run(r);
  ASSERT_TRUE(o) << o.error().to_string();
  EXPECT_EQ(o->fuel, 0u);
  EXPECT_FALSE(o->host_apis.has(Capability::kHostApiHttps));
}

TEST(RunPipelineSources, DenialsRefuseUnlessDegraded) {
  RunRequest r;
  r.plan = make_test_plan("{}", "{}", "[]");  // /work requested, not granted
  r.argv = {"p"};
  auto o = resolve_run(r);
  ASSERT_FALSE(o);
  EXPECT_EQ(o.error().code, ErrorCode::kGrantDenied);
  r.degrade = true;
  o = resolve_run(r);
  ASSERT_TRUE(o) << o.error().to_string();
  ASSERT_EQ(o->wasi.preopens.size(), 1u);
  EXPECT_TRUE(o->wasi.preopens[0].denied);
}

// Pins only narrow: a denied clock stays denied, a granted one is pinned.
TEST(RunPipelineSources, PinsNarrowTheSourcesClocksAndRandom) {
  RunRequest r;
  r.argv = {"m"};
  r.clock_pin = ClockSource{ClockSource::Kind::kDeny};
  r.random_pin = RandomSource{RandomSource::Kind::kSeed, 3};
  auto o = resolve_run(r);
  ASSERT_TRUE(o);
  EXPECT_EQ(o->wasi.clock.kind, ClockSource::Kind::kDeny);
  EXPECT_EQ(o->wasi.random.kind, RandomSource::Kind::kSeed);
  r.options.wasi.random.kind = RandomSource::Kind::kDeny;
  o = resolve_run(r);
  ASSERT_TRUE(o);
  EXPECT_EQ(o->wasi.random.kind, RandomSource::Kind::kDeny);
}

// --- The invocation id -----------------------------------------------------------------------

TEST(RunPipelineInvocationId, ANewOneWhenNoneIsGiven) {
  std::set<std::string> ids;
  for (int i = 0; i < 3; ++i) {
    RunRequest r;
    r.argv = {"m"};
    auto o = resolve_run(r);
    ASSERT_TRUE(o);
    EXPECT_EQ(o->invocation_id.size(), 32u);
    EXPECT_EQ(o->invocation_id.find_first_not_of("0123456789abcdef"), std::string::npos);
    ids.insert(o->invocation_id);
  }
  EXPECT_EQ(ids.size(), 3u);
}

TEST(RunPipelineInvocationId, TheCallersIsKeptOrRefused) {
  RunRequest r;
  r.argv = {"m"};
  r.options.invocation_id = "call-7:a.b";
  auto o = resolve_run(r);
  ASSERT_TRUE(o);
  EXPECT_EQ(o->invocation_id, "call-7:a.b");
  r.options.invocation_id = "two words";
  o = resolve_run(r);
  ASSERT_FALSE(o);
  EXPECT_EQ(o.error().code, ErrorCode::kInvalidArgument);
}

struct Lines : audit::Sink {
  Result<void> append(std::string_view line) override {
    std::lock_guard<std::mutex> l(mu);
    lines.push_back(json::parse(line));
    return {};
  }
  std::mutex mu;
  std::vector<json> lines;
};

// The id resolve_run settles is the run's: in its report and in its run_start / run_end.
TEST(RunPipelineInvocationId, TheResolvedIdIsTheRunsOnBytesAndPreparedModules) {
  auto bytes = testing::guest_bytes("hello");
  auto prepared = PreparedModule::prepare(bytes);
  ASSERT_TRUE(prepared) << prepared.error().to_string();
  for (bool on_prepared : {false, true}) {
    SCOPED_TRACE(on_prepared ? "prepared" : "bytes");
    auto sink = std::make_shared<Lines>();
    RunRequest r;
    r.argv = {"hello", "world"};
    r.options.audit_sink = sink;
    r.options.wasi.stdout_fd = -1;
    auto report = on_prepared ? run_request(r, **prepared) : run_request(r, bytes);
    ASSERT_TRUE(report) << report.error().to_string();
    EXPECT_EQ(report->exit_code, 0);
    EXPECT_EQ(report->invocation_id.size(), 32u);
    ASSERT_EQ(sink->lines.size(), 2u);
    EXPECT_EQ(sink->lines[0]["event"], "run_start");
    EXPECT_EQ(sink->lines[0]["invocation_id"], report->invocation_id);
    EXPECT_EQ(sink->lines[1]["invocation_id"], report->invocation_id);
  }
}

// A request's refusal is the run's: nothing runs and nothing is recorded.
TEST(RunPipelineInvocationId, ARefusedRequestRecordsNothing) {
  auto sink = std::make_shared<Lines>();
  RunRequest r;
  r.plan = make_test_plan("{}", "{}", "[]");
  r.argv = {"p"};
  r.options.audit_sink = sink;
  auto report = run_request(r, testing::guest_bytes("hello"));
  ASSERT_FALSE(report);
  EXPECT_EQ(report.error().code, ErrorCode::kGrantDenied);
  EXPECT_TRUE(sink->lines.empty());
}

TEST(RunPipeline, RunEndNotWrittenSaysTheStatusAndWhy) {
  RunReport report;
  report.exit_code = 3;
  report.audit_error = Error(ErrorCode::kIo, "audit record not written: disk full");
  EXPECT_EQ(run_end_not_written(report),
            "the run finished (status 3) but its run_end io_error: audit record not written: disk full");
}

}  // namespace
}  // namespace wasmcap

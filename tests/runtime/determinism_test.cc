// Clocks and random as grants, and deterministic runs (docs/wasi-support.md#clocks-and-random):
// pinned runs are byte-identical across runs and across the engines (interp, aot, and wabt's
// interpreter, the tests' oracle: tests/support/wabt_engine);
// unpinned runs differ; denied or unrequested clocks and random answer ENOTCAPABLE; the *_NOW
// timestamp flags follow the pinned clock; a fixed clock never sleeps host time; pins only narrow.
#include <sys/stat.h>

#include <chrono>
#include <cstdlib>

#include "test_support.h"
#include "wabt_engine.h"
#include "wasmcap/policy.h"

namespace wasmcap {
namespace {

using testing::Captured;
using testing::key_values;
using testing::TempDir;

// 2026-01-01T00:00:00Z in ns since the epoch.
constexpr uint64_t kEpoch2026 = 1767225600ull * 1000000000ull;
constexpr const char* kEnotcapable = "76";

ClockSource fixed_clock(uint64_t step_ns = 1000) {
  ClockSource c;
  c.kind = ClockSource::Kind::kFixed;
  c.epoch_ns = kEpoch2026;
  c.step_ns = step_ns;
  return c;
}

RandomSource seeded(uint64_t seed) {
  RandomSource r;
  r.kind = RandomSource::Kind::kSeed;
  r.seed = seed;
  return r;
}

RunOptions options_for(const std::string& engine) {
  RunOptions o;
  o.engine = engine;
  o.aot.cache_dir = test_paths::aot_test_cache();
  setenv("WASMCAP_AOT_OPT", "1", 0);  // behaviour tests: -O1 compiles about twice as fast
  return o;
}

const std::vector<std::string>& engines() {
  static const std::vector<std::string> kEngines{"interp", "aot", "wabt"};
  return kEngines;
}

// testing::run_guest, and for "wabt" the same on the oracle (not a product engine: make_engine
// does not know it).
Captured run_guest_on(const std::string& engine, const std::vector<uint8_t>& bytes, RunOptions o) {
  if (engine != "wabt") return testing::run_guest(bytes, std::move(o));
  auto wabt = testing::make_wabt_reference_engine();
  return testing::run_guest_on(wabt.get(), bytes, std::move(o));
}

// time_random.wasm with `dir` preopened at /out (it stamps /out/stamp) under `o`.
Captured run_time_random(RunOptions o, const std::string& dir) {
  o.wasi.args = {"time_random", "/out"};
  o.wasi.preopens.push_back(Preopen{dir, "/out", false, false});
  const std::string engine = o.engine;
  return run_guest_on(engine, testing::guest_bytes("time_random"), std::move(o));
}

TEST(Determinism, PinnedGuestIsByteIdenticalAcrossRunsAndEngines) {
  std::vector<std::string> outs;
  for (const auto& engine : engines()) {
    for (int run = 0; run < 2; ++run) {
      TempDir dir;
      RunOptions o = options_for(engine);
      o.wasi.clock = fixed_clock();
      o.wasi.random = seeded(42);
      Captured c = run_time_random(std::move(o), dir.str());
      ASSERT_TRUE(c.report) << engine << ": " << c.report.error().to_string();
      EXPECT_EQ(c.report->exit_code, 0) << c.out << c.err;
      outs.push_back(c.out);
      // The stamp's mtime on the host is pinned too (fd_filestat_set_times with *_NOW).
      struct stat st {};
      ASSERT_EQ(::stat((dir.path() / "stamp").c_str(), &st), 0);
      // One wall-clock read after the 1.5 s sleep and 7 reads: 2026-01-01T00:00:01.500007Z.
      EXPECT_EQ(static_cast<uint64_t>(st.st_mtim.tv_sec), kEpoch2026 / 1000000000ull + 1) << engine;
      EXPECT_EQ(st.st_mtim.tv_nsec, 500007000) << engine;
    }
  }
  for (size_t i = 1; i < outs.size(); ++i) {
    EXPECT_EQ(outs[i], outs[0]) << engines()[i / 2] << " run " << i % 2 << " differs";
  }
  // The documented virtual clock: one time for all clocks, +step after each read, the wall clock
  // offset by the instant; resolution = the step; a sleep advances by its timeout.
  auto kv = key_values(outs[0]);
  EXPECT_EQ(kv["realtime_res"], "1000");
  EXPECT_EQ(kv["monotonic_res"], "1000");
  // (key_values keeps the last of repeated keys: realtime and monotonic are read again below.)
  EXPECT_NE(outs[0].find("realtime=" + std::to_string(kEpoch2026) + "\n"), std::string::npos)
      << outs[0];
  EXPECT_NE(outs[0].find("monotonic=1000\n"), std::string::npos) << outs[0];
  EXPECT_EQ(kv["realtime"], std::to_string(kEpoch2026 + 4000)) << outs[0];
  EXPECT_EQ(kv["process_cputime"], "2000");
  EXPECT_EQ(kv["thread_cputime"], "3000");
  EXPECT_NE(outs[0].find("sleep_errno=0 events=1 event_errno=0"), std::string::npos) << outs[0];
  // Reads after the sleep: realtime (+4000), monotonic (5000), sleep 1.5 s, monotonic again.
  EXPECT_NE(outs[0].find("monotonic=" + std::to_string(1500000000ull + 6000)), std::string::npos)
      << outs[0];
  EXPECT_EQ(kv["random32"].size(), 64u);
  EXPECT_EQ(kv["random200"].size(), 400u);
  EXPECT_EQ(kv["stamp_mtime"], std::to_string(kEpoch2026 / 1000000000ull + 1) + ".500007000")
      << outs[0];
}

TEST(Determinism, FixedClockNeverSleepsHostTime) {
  TempDir dir;
  RunOptions o = options_for("interp");
  o.wasi.clock = fixed_clock();
  auto start = std::chrono::steady_clock::now();
  Captured c = run_time_random(std::move(o), dir.str());
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                                  start)
                .count();
  ASSERT_TRUE(c.report) << c.report.error().to_string();
  // The guest sleeps 1.5 s of virtual time; the host must not (bound, not a timing measurement:
  // a host sleep would take at least 1500 ms).
  EXPECT_LT(ms, 1500) << c.out;
}

// An infinite wait (poll_oneoff with a relative timeout of UINT64_MAX ns) under a fixed clock
// waits until the deadline, as on the host clock: it neither returns at once nor moves the
// virtual clock to the year 2318 (docs/wasi-support.md, "Clocks and random").
TEST(Determinism, FixedClockInfiniteWaitWaitsForTheDeadline) {
  RunOptions o = options_for("interp");
  o.wasi.clock = fixed_clock();
  o.wasi.args = {"poll_sleep", "forever"};
  o.timeout_ms = 300;
  auto start = std::chrono::steady_clock::now();
  Captured c = testing::run_guest("poll_sleep", std::move(o));
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                                  start)
                .count();
  ASSERT_FALSE(c.report.has_value()) << "the infinite wait returned: " << c.out;
  EXPECT_EQ(c.report.error().code, ErrorCode::kDeadlineExceeded) << c.report.error().to_string();
  EXPECT_EQ(c.out.find("rel_errno"), std::string::npos) << c.out;
  EXPECT_GE(ms, 250);  // it waited for the deadline (a bound, not a timing measurement)
}

TEST(Determinism, DifferentSeedsAndStepsGiveDifferentRuns) {
  TempDir d1, d2, d3;
  RunOptions a = options_for("interp"), b = options_for("interp"), s = options_for("interp");
  a.wasi.clock = b.wasi.clock = fixed_clock();
  s.wasi.clock = fixed_clock(1000000);
  a.wasi.random = s.wasi.random = seeded(1);
  b.wasi.random = seeded(2);
  auto ka = key_values(run_time_random(std::move(a), d1.str()).out);
  auto kb = key_values(run_time_random(std::move(b), d2.str()).out);
  auto ks = key_values(run_time_random(std::move(s), d3.str()).out);
  EXPECT_NE(ka["random32"], kb["random32"]);
  EXPECT_EQ(ka["random32"], ks["random32"]);
  EXPECT_EQ(ka["process_cputime"], "2000");
  EXPECT_EQ(ks["process_cputime"], "2000000");
  EXPECT_EQ(ks["monotonic_res"], "1000000");
}

TEST(Determinism, UnpinnedRunsDiffer) {
  TempDir d1, d2;
  auto a = key_values(run_time_random(options_for("interp"), d1.str()).out);
  auto b = key_values(run_time_random(options_for("interp"), d2.str()).out);
  ASSERT_EQ(a["random32"].size(), 64u);
  EXPECT_NE(a["random32"], b["random32"]);
  EXPECT_NE(a["realtime"], b["realtime"]);
  // The host clock is the real time (after 2026-01-01, before 2200).
  EXPECT_GT(std::stoull(a["realtime"]), kEpoch2026);
}

TEST(Determinism, DeniedClockAndRandomAreEnotcapable) {
  TempDir dir;
  RunOptions o = options_for("interp");
  o.wasi.clock.kind = ClockSource::Kind::kDeny;
  o.wasi.random.kind = RandomSource::Kind::kDeny;
  Captured c = run_time_random(std::move(o), dir.str());
  ASSERT_TRUE(c.report) << c.report.error().to_string();
  auto kv = key_values(c.out);
  for (const char* name : {"realtime", "monotonic", "process_cputime", "thread_cputime"}) {
    EXPECT_EQ(kv[std::string(name) + "_errno"], kEnotcapable) << name << "\n" << c.out;
    EXPECT_EQ(kv[std::string(name) + "_res_errno"], kEnotcapable) << name;
    EXPECT_EQ(kv.count(name), 0u) << "a denied clock leaked a value: " << c.out;
  }
  EXPECT_NE(c.out.find("sleep_errno=0 events=1 event_errno=76"), std::string::npos) << c.out;
  EXPECT_EQ(kv["random32_errno"], kEnotcapable);
  EXPECT_EQ(kv["random200_errno"], kEnotcapable);
  EXPECT_EQ(kv["futimens_errno"], kEnotcapable) << c.out;
}

TEST(Determinism, WallAndMonotonicAreSeparateGrants) {
  TempDir d1, d2;
  RunOptions no_wall = options_for("interp");
  no_wall.wasi.clock_wall = false;
  auto a = key_values(run_time_random(std::move(no_wall), d1.str()).out);
  EXPECT_EQ(a["realtime_errno"], kEnotcapable);
  EXPECT_EQ(a["futimens_errno"], kEnotcapable);  // *_NOW needs the wall clock
  EXPECT_EQ(a.count("monotonic_errno"), 0u);
  EXPECT_FALSE(a["monotonic"].empty());

  RunOptions no_mono = options_for("interp");
  no_mono.wasi.clock_monotonic = false;
  no_mono.wasi.clock = fixed_clock();
  auto b = key_values(run_time_random(std::move(no_mono), d2.str()).out);
  EXPECT_EQ(b["monotonic_errno"], kEnotcapable);
  EXPECT_EQ(b["process_cputime_errno"], kEnotcapable);
  EXPECT_EQ(b["thread_cputime_errno"], kEnotcapable);
  EXPECT_EQ(b["realtime"], std::to_string(kEpoch2026 + 1000));  // 2nd read; denied reads don't tick
  EXPECT_EQ(b.count("futimens_errno"), 0u);
}

TEST(Determinism, PinsOnlyNarrow) {
  WasiConfig w;
  w.clock.kind = ClockSource::Kind::kDeny;
  pin_clock(w, fixed_clock());
  EXPECT_EQ(w.clock.kind, ClockSource::Kind::kDeny);  // a denied clock stays denied
  w.random.kind = RandomSource::Kind::kDeny;
  pin_random(w, seeded(3));
  EXPECT_EQ(w.random.kind, RandomSource::Kind::kDeny);

  WasiConfig f;
  f.clock = fixed_clock();
  pin_clock(f, ClockSource{});  // "host" is no pin: it never widens a fixed clock
  EXPECT_EQ(f.clock.kind, ClockSource::Kind::kFixed);
  f.random = seeded(3);
  pin_random(f, RandomSource{});
  EXPECT_EQ(f.random.kind, RandomSource::Kind::kSeed);
  pin_random(f, seeded(4));
  EXPECT_EQ(f.random.seed, 4u);
  ClockSource deny;
  deny.kind = ClockSource::Kind::kDeny;
  pin_clock(f, deny);
  EXPECT_EQ(f.clock.kind, ClockSource::Kind::kDeny);
}

// A plan whose manifest requests nothing: clocks and random are ENOTCAPABLE (fail closed); one
// that requests them gets the host's by default, the operator's pins, or a denial.
std::shared_ptr<const policy::Plan> plan_of(const std::string& permissions, const std::string& grants) {
  auto m = policy::parse_manifest(
      R"({"name":"p","version":"1.0.0","module":"time_random.wasm","permissions":{"args":true,"fs":[{"guest":"/out","access":"rw"}])" +
          permissions + "}}",
      "manifest.json");
  EXPECT_TRUE(m) << m.error().to_string();
  auto c = policy::parse_host_config(
      R"({"plugins":{"p":{"grants":{"fs":[{"guest":"/out","host":"/tmp","access":"rw"}])" + grants +
          "}}}}",
      "config.json");
  EXPECT_TRUE(c) << c.error().to_string();
  return std::make_shared<policy::Plan>(policy::make_plan(*m, *c, ""));
}

Captured run_plan(std::shared_ptr<const policy::Plan> plan, const std::string& dir, bool degrade) {
  auto o = run_options_from_plan(plan, {"time_random", "/out"}, degrade);
  EXPECT_TRUE(o) << o.error().to_string();
  if (!o) return {};
  o->wasi.preopens.at(0).host_path = dir;
  o->engine = "interp";
  return testing::run_guest("time_random", std::move(*o));
}

TEST(Determinism, PlanWithoutRequestsGetsNoClockOrRandom) {
  TempDir dir;
  auto plan = plan_of("", R"(,"clocks":"host","random":"host")");
  EXPECT_TRUE(plan->denied.empty());
  Captured c = run_plan(plan, dir.str(), false);
  ASSERT_TRUE(c.report) << c.report.error().to_string();
  auto kv = key_values(c.out);
  EXPECT_EQ(kv["realtime_errno"], kEnotcapable) << c.out;
  EXPECT_EQ(kv["monotonic_errno"], kEnotcapable);
  EXPECT_EQ(kv["random32_errno"], kEnotcapable);
  EXPECT_EQ(kv["futimens_errno"], kEnotcapable);
}

TEST(Determinism, PlanServesRequestsAsTheOperatorSays) {
  TempDir d1, d2, d3;
  // Requested, no operator key: the host's.
  auto host = plan_of(R"(,"clocks":["wall","monotonic"],"random":true)", "");
  EXPECT_TRUE(host->denied.empty());
  auto a = key_values(run_plan(host, d1.str(), false).out);
  EXPECT_GT(std::stoull(a["realtime"]), kEpoch2026);
  EXPECT_EQ(a["random32"].size(), 64u);
  // Pinned by the operator.
  auto pinned = plan_of(R"(,"clocks":["wall","monotonic"],"random":true)",
                        R"(,"clocks":"fixed=2026-01-01T00:00:00Z","random":"seed=42")");
  auto b = key_values(run_plan(pinned, d2.str(), false).out);
  EXPECT_EQ(b["realtime"], std::to_string(kEpoch2026 + 4000));
  TempDir d4;
  RunOptions direct = options_for("interp");
  direct.wasi.clock = fixed_clock();
  direct.wasi.random = seeded(42);
  auto direct_kv = key_values(run_time_random(std::move(direct), d4.str()).out);
  EXPECT_EQ(b["random200"], direct_kv["random200"]);
  // Denied by the operator: a named denial; under --degrade the calls answer ENOTCAPABLE.
  auto denied = plan_of(R"(,"clocks":["wall"],"random":true)", R"(,"clocks":"deny","random":"deny")");
  ASSERT_EQ(denied->denied.size(), 2u);
  EXPECT_EQ(denied->denied[0], "clocks wall: requested, not granted");
  EXPECT_EQ(denied->denied[1], "random: requested, not granted");
  EXPECT_FALSE(run_options_from_plan(denied, {"x"}, false));
  auto c = key_values(run_plan(denied, d3.str(), true).out);
  EXPECT_EQ(c["realtime_errno"], kEnotcapable);
  EXPECT_EQ(c["random32_errno"], kEnotcapable);
}

// coreutils: `touch` sets file times with the *_NOW flags, `ls -l` prints them; pinned, the
// listing is byte-identical across runs and engines, and differs from an unpinned one.
std::string touch_and_list(const std::string& engine, bool pinned, int* touch_exit = nullptr,
                           bool wall = true) {
  TempDir ws;
  std::string listing;
  for (const std::vector<std::string>& argv :
       {std::vector<std::string>{"touch", "a", "b"}, std::vector<std::string>{"ls", "-l"}}) {
    RunOptions o = options_for(engine);
    o.wasi.args = argv;
    o.wasi.preopens.push_back(Preopen{ws.str(), "/work", false, false});
    if (pinned) o.wasi.clock = fixed_clock();
    o.wasi.clock_wall = wall;
    Captured c = run_guest_on(engine, testing::guest_bytes("coreutils"), std::move(o));
    EXPECT_TRUE(c.report) << engine << ": " << c.report.error().to_string();
    if (argv[0] == "touch" && touch_exit != nullptr && c.report) *touch_exit = c.report->exit_code;
    listing += c.out + c.err;
  }
  return listing;
}

TEST(Determinism, CoreutilsTimestampsArePinnedAcrossEngines) {
  std::string first = touch_and_list("interp", true);
  EXPECT_NE(first.find("Jan  1 00:00 a"), std::string::npos) << first;
  EXPECT_EQ(touch_and_list("interp", true), first);
  EXPECT_EQ(touch_and_list("aot", true), first);
  EXPECT_EQ(touch_and_list("wabt", true), first);
  EXPECT_NE(touch_and_list("interp", false), first);
}

TEST(Determinism, CoreutilsTouchWithoutWallClockFails) {
  int exit_code = -1;
  std::string out = touch_and_list("interp", false, &exit_code, false);
  EXPECT_EQ(exit_code, 1);
  EXPECT_NE(out.find("Capabilities insufficient"), std::string::npos) << out;
}

}  // namespace
}  // namespace wasmcap

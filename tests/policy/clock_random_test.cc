// Clocks and random in the policy layer: the source spellings (parse_clock_source /
// parse_random_source), the manifest's permissions.clocks / permissions.random, the host
// config's grants.clocks / grants.random, how they meet in the plan, and plan output.
#include <gtest/gtest.h>

#include <algorithm>

#include <nlohmann/json.hpp>

#include "wasmcap/policy.h"

namespace wasmcap::policy {
namespace {

TEST(ClockSource, ParsesTheDocumentedForms) {
  auto host = parse_clock_source("host");
  ASSERT_TRUE(host);
  EXPECT_EQ(host->kind, ClockSource::Kind::kHost);
  auto deny = parse_clock_source("deny");
  ASSERT_TRUE(deny);
  EXPECT_EQ(deny->kind, ClockSource::Kind::kDeny);
  auto f = parse_clock_source("fixed=2026-01-01T00:00:00Z");
  ASSERT_TRUE(f) << f.error().to_string();
  EXPECT_EQ(f->kind, ClockSource::Kind::kFixed);
  EXPECT_EQ(f->epoch_ns, 1767225600ull * 1000000000ull);
  EXPECT_EQ(f->step_ns, 1000u);  // default step: 1 us
  EXPECT_EQ(clock_source_string(*f), "fixed=2026-01-01T00:00:00Z,step=1us");
  // Leap day, fraction, each step unit; canonical spelling round-trips.
  auto g = parse_clock_source("fixed=2024-02-29T23:59:59.5Z,step=250ms");
  ASSERT_TRUE(g) << g.error().to_string();
  EXPECT_EQ(g->epoch_ns, 1709251199ull * 1000000000ull + 500000000ull);
  EXPECT_EQ(g->step_ns, 250000000u);
  EXPECT_EQ(clock_source_string(*g), "fixed=2024-02-29T23:59:59.5Z,step=250ms");
  EXPECT_EQ(parse_clock_source("fixed=1970-01-01T00:00:00Z,step=0")->step_ns, 0u);
  EXPECT_EQ(parse_clock_source("fixed=1970-01-01T00:00:00Z,step=7ns")->step_ns, 7u);
  EXPECT_EQ(parse_clock_source("fixed=1970-01-01T00:00:00Z,step=2s")->step_ns, 2000000000u);
  EXPECT_EQ(parse_clock_source("fixed=1970-01-01T00:00:00Z,step=3600s")->step_ns, kMaxClockStepNs);
  for (const char* spec : {"fixed=2200-12-31T23:59:59.999999999Z", "fixed=2000-02-29T12:00:00Z"}) {
    auto c = parse_clock_source(spec);
    ASSERT_TRUE(c) << spec;
    auto again = parse_clock_source(clock_source_string(*c));
    ASSERT_TRUE(again) << clock_source_string(*c);
    EXPECT_EQ(again->epoch_ns, c->epoch_ns);
  }
}

TEST(ClockSource, RefusesEverythingElse) {
  for (const char* spec :
       {"", "Host", "fixed", "fixed=", "fixed=2026-01-01", "fixed=2026-01-01T00:00:00",
        "fixed=2026-01-01T00:00:00+01:00", "fixed=2026-01-01 00:00:00Z", "fixed=2026-02-29T00:00:00Z",
        "fixed=1900-02-29T00:00:00Z", "fixed=1969-12-31T23:59:59Z", "fixed=2201-01-01T00:00:00Z",
        "fixed=2026-13-01T00:00:00Z", "fixed=2026-01-32T00:00:00Z", "fixed=2026-01-01T24:00:00Z",
        "fixed=2026-01-01T00:60:00Z", "fixed=2026-01-01T00:00:60Z", "fixed=2026-01-01T00:00:00.Z",
        "fixed=2026-01-01T00:00:00.1234567890Z", "fixed=2026-01-01T00:00:00Z,step=",
        "fixed=2026-01-01T00:00:00Z,step=5", "fixed=2026-01-01T00:00:00Z,step=1m",
        "fixed=2026-01-01T00:00:00Z,step=3601s", "fixed=2026-01-01T00:00:00Z,step=-1s",
        "fixed=2026-01-01T00:00:00Z,step=99999999999999999999999s",
        "fixed=2026-01-01T00:00:00Z,speed=1s", "fixed=2026-01-01T00:00:00Z,step=1s,step=1s"}) {
    auto c = parse_clock_source(spec);
    EXPECT_FALSE(c) << "accepted '" << spec << "'";
    if (!c) {
      EXPECT_EQ(c.error().code, ErrorCode::kInvalidArgument);
    }
  }
}

TEST(RandomSource, ParsesSeedsExactly) {
  EXPECT_EQ(parse_random_source("host")->kind, RandomSource::Kind::kHost);
  EXPECT_EQ(parse_random_source("deny")->kind, RandomSource::Kind::kDeny);
  auto r = parse_random_source("seed=0");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->kind, RandomSource::Kind::kSeed);
  EXPECT_EQ(r->seed, 0u);
  EXPECT_EQ(parse_random_source("seed=18446744073709551615")->seed, UINT64_MAX);
  EXPECT_EQ(random_source_string(*parse_random_source("seed=42")), "seed=42");
  // One spelling per seed (the decimal text is hashed into the key).
  for (const char* spec : {"", "seed", "seed=", "seed=01", "seed=+1", "seed=-1", "seed=1.0",
                           "seed=0x10", "seed=18446744073709551616", "Seed=1", "seed=1 "}) {
    EXPECT_FALSE(parse_random_source(spec)) << "accepted '" << spec << "'";
  }
}

Manifest manifest_with(const std::string& permissions) {
  auto m = parse_manifest(R"({"name":"p","version":"1.0.0","module":"m.wasm","permissions":{)" +
                              permissions + "}}",
                          "manifest.json");
  EXPECT_TRUE(m) << m.error().to_string();
  return m ? *m : Manifest{};
}

HostConfig config_with(const std::string& grants) {
  auto c = parse_host_config(R"({"plugins":{"p":{"grants":{)" + grants + "}}}}", "config.json");
  EXPECT_TRUE(c) << c.error().to_string();
  return c ? *c : HostConfig{};
}

TEST(ClockRandomManifest, ParsesRequests) {
  Manifest none = manifest_with("");
  EXPECT_FALSE(none.permissions.clocks.any());
  EXPECT_FALSE(none.permissions.random);
  Manifest m = manifest_with(R"("clocks":["monotonic","wall"],"random":true)");
  EXPECT_TRUE(m.permissions.clocks.wall);
  EXPECT_TRUE(m.permissions.clocks.monotonic);
  EXPECT_TRUE(m.permissions.random);
  EXPECT_TRUE(manifest_with(R"("clocks":[])").permissions.clocks.any() == false);
  struct Bad {
    const char* perms;
    const char* message;
  };
  for (const Bad& b : {Bad{R"("clocks":["wall","wall"])", "$.permissions.clocks[1]: duplicate clock"},
                       Bad{R"("clocks":["utc"])", "$.permissions.clocks[0]: must be \"wall\" or \"monotonic\""},
                       Bad{R"("clocks":"wall")", "$.permissions.clocks"},
                       Bad{R"("random":"yes")", "$.permissions.random"},
                       Bad{R"("clock":["wall"])", "clock"}}) {
    auto r = parse_manifest(std::string(R"({"name":"p","version":"1.0.0","module":"m.wasm","permissions":{)") +
                                b.perms + "}}",
                            "manifest.json");
    ASSERT_FALSE(r) << b.perms;
    EXPECT_EQ(r.error().code, ErrorCode::kManifestInvalid);
    EXPECT_NE(r.error().message.find(b.message), std::string::npos) << r.error().message;
  }
}

TEST(ClockRandomHostConfig, ParsesGrants) {
  HostConfig c = config_with(R"("clocks":"fixed=2026-01-01T00:00:00Z,step=1ms","random":"seed=7")");
  const PluginConfig* pc = c.find("p");
  ASSERT_NE(pc, nullptr);
  ASSERT_TRUE(pc->grants.clocks);
  EXPECT_EQ(pc->grants.clocks->step_ns, 1000000u);
  ASSERT_TRUE(pc->grants.random);
  EXPECT_EQ(pc->grants.random->seed, 7u);
  EXPECT_FALSE(config_with("").find("p")->grants.clocks);
  for (const char* g : {R"("clocks":"sometimes")", R"("clocks":true)", R"("random":"seed=x")",
                        R"("random":42)"}) {
    auto r = parse_host_config(std::string(R"({"plugins":{"p":{"grants":{)") + g + "}}}}", "config.json");
    ASSERT_FALSE(r) << g;
    EXPECT_EQ(r.error().code, ErrorCode::kConfigInvalid);
    EXPECT_NE(r.error().message.find("$.plugins.p.grants."), std::string::npos) << r.error().message;
  }
}

TEST(ClockRandomPlan, RequestsMeetGrants) {
  // Not requested: nothing, whatever the operator grants (and no denial).
  Plan none = make_plan(manifest_with(""), config_with(R"("clocks":"host","random":"host")"), "");
  EXPECT_TRUE(none.denied.empty());
  EXPECT_FALSE(none.clock_wall);
  EXPECT_FALSE(none.clock_monotonic);
  EXPECT_EQ(none.clock.kind, ClockSource::Kind::kDeny);
  EXPECT_EQ(none.random.kind, RandomSource::Kind::kDeny);

  // Requested, no operator key: the host's.
  Plan host = make_plan(manifest_with(R"("clocks":["wall"],"random":true)"), config_with(""), "");
  EXPECT_TRUE(host.denied.empty());
  EXPECT_TRUE(host.clock_wall);
  EXPECT_FALSE(host.clock_monotonic);
  EXPECT_EQ(host.clock.kind, ClockSource::Kind::kHost);
  EXPECT_EQ(host.random.kind, RandomSource::Kind::kHost);

  // Pinned by the operator: granted, served pinned (not a denial).
  Plan pinned = make_plan(manifest_with(R"("clocks":["wall","monotonic"],"random":true)"),
                          config_with(R"("clocks":"fixed=2026-01-01T00:00:00Z","random":"seed=9")"), "");
  EXPECT_TRUE(pinned.denied.empty());
  EXPECT_EQ(pinned.clock.kind, ClockSource::Kind::kFixed);
  EXPECT_EQ(pinned.random.seed, 9u);

  // Denied by the operator: named denials.
  Plan denied = make_plan(manifest_with(R"("clocks":["monotonic"],"random":true)"),
                          config_with(R"("clocks":"deny","random":"deny")"), "");
  EXPECT_EQ(denied.denied, (std::vector<std::string>{"clocks monotonic: requested, not granted",
                                                     "random: requested, not granted"}));
  EXPECT_FALSE(denied.clock_monotonic);
  EXPECT_EQ(denied.random.kind, RandomSource::Kind::kDeny);
  EXPECT_FALSE(require_fully_granted(denied));

  // No host config entry: granted nothing, these included.
  Plan orphan = make_plan(manifest_with(R"("clocks":["wall","monotonic"],"random":true)"), HostConfig{}, "");
  EXPECT_NE(std::find(orphan.denied.begin(), orphan.denied.end(),
                      "clocks wall,monotonic: requested, not granted"),
            orphan.denied.end());
  EXPECT_NE(std::find(orphan.denied.begin(), orphan.denied.end(), "random: requested, not granted"),
            orphan.denied.end());
  EXPECT_FALSE(orphan.clock_wall);
}

TEST(ClockRandomPlan, ShownInPlanOutput) {
  Plan pinned = make_plan(manifest_with(R"("clocks":["wall","monotonic"],"random":true)"),
                          config_with(R"("clocks":"fixed=2026-01-01T00:00:00Z","random":"seed=9")"), "");
  std::string text = plan_to_text(pinned, {});
  EXPECT_NE(text.find("  clocks  wall, monotonic from fixed=2026-01-01T00:00:00Z,step=1us (pinned)"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("  random  seed=9 (pinned: ChaCha20 stream)"), std::string::npos) << text;
  auto j = nlohmann::json::parse(plan_to_json(pinned, {}));
  EXPECT_EQ(j["grants"]["clocks"]["wall"], true);
  EXPECT_EQ(j["grants"]["clocks"]["source"], "fixed=2026-01-01T00:00:00Z,step=1us");
  EXPECT_EQ(j["grants"]["random"], "seed=9");

  Plan none = make_plan(manifest_with(""), config_with(""), "");
  std::string t2 = plan_to_text(none, {});
  EXPECT_NE(t2.find("  clocks  none (every clock read: ENOTCAPABLE)"), std::string::npos) << t2;
  EXPECT_NE(t2.find("  random  none (random_get: ENOTCAPABLE)"), std::string::npos) << t2;
  auto j2 = nlohmann::json::parse(plan_to_json(none, {}));
  EXPECT_TRUE(j2["grants"]["clocks"]["source"].is_null());
  EXPECT_TRUE(j2["grants"]["random"].is_null());
}

}  // namespace
}  // namespace wasmcap::policy

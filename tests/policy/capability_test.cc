// The capability contract ("no silent ignore"), the import check, and plan → run options.
#include <gtest/gtest.h>

#include "wasmcap/policy.h"
#include "wasmcap/runtime.h"

namespace wasmcap::policy {
namespace {

// An engine that declares a chosen capability set and counts load attempts: a refused run must
// never reach load().
class FakeEngine final : public Engine {
 public:
  explicit FakeEngine(std::optional<CapabilitySet> caps) : caps_(caps) {}
  std::string_view name() const override { return "fake"; }
  CapabilitySet capabilities() const override {
    return caps_ ? *caps_ : Engine::capabilities();  // nullopt: the interface default
  }
  Result<std::shared_ptr<const Module>> load_module(const ModuleBytes&) override {
    ++loads;
    return make_error(ErrorCode::kInternal, "fake engine: load reached");
  }
  Result<std::unique_ptr<Instance>> instantiate(std::shared_ptr<const Module>, const HostFuncTable&,
                                                const ExecLimits&) override {
    return make_error(ErrorCode::kInternal, "fake engine: instantiate reached");
  }
  int loads = 0;

 private:
  std::optional<CapabilitySet> caps_;
};

std::shared_ptr<Plan> plan_from(const std::string& perms, const std::string& grants,
                                const std::string& limits = "{}") {
  auto m = parse_manifest(R"({"name":"p","version":"1.0.0","module":"p.wasm","permissions":)" +
                              perms + R"(,"limits":)" + limits + "}",
                          "m.json");
  auto h = parse_host_config(R"({"plugins":{"p":{"grants":)" + grants + "}}}", "c.json");
  EXPECT_TRUE(m && h);
  return std::make_shared<Plan>(make_plan(*m, *h, ""));
}

const std::vector<uint8_t> kEmptyModule = {0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00};

// (module (import "MODULE" "NAME" (func)))
std::vector<uint8_t> module_importing(const std::string& mod, const std::string& name) {
  std::vector<uint8_t> b = {0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
                            0x01, 0x04, 0x01, 0x60, 0x00, 0x00};  // type section: () -> ()
  std::vector<uint8_t> imp = {0x01, static_cast<uint8_t>(mod.size())};
  imp.insert(imp.end(), mod.begin(), mod.end());
  imp.push_back(static_cast<uint8_t>(name.size()));
  imp.insert(imp.end(), name.begin(), name.end());
  imp.push_back(0x00);  // func
  imp.push_back(0x00);  // type 0
  b.push_back(0x02);
  b.push_back(static_cast<uint8_t>(imp.size()));
  b.insert(b.end(), imp.begin(), imp.end());
  return b;
}

ModuleInfo info_of(const std::vector<uint8_t>& bytes) {
  auto engine = make_fast_engine();
  auto m = engine->load(bytes.data(), bytes.size());
  EXPECT_TRUE(m) << (m ? "" : m.error().message);
  return m ? (*m)->info() : ModuleInfo();
}

TEST(PolicyCapability, FakeEngineWithoutFuelRefusesAPlanThatNeedsFuel) {
  auto plan = plan_from("{}", "{}", R"({"fuel":1000})");
  FakeEngine engine(CapabilitySet::all().remove(Capability::kLimitFuel));
  auto check = check_capabilities(required_capabilities(*plan), engine, host_build_capabilities());
  ASSERT_FALSE(check);
  EXPECT_EQ(check.error().code, ErrorCode::kCapabilityUnavailable);
  EXPECT_EQ(check.error().message,
            "engine fake cannot provide limits.fuel (the run needs it; wasmcap never runs without "
            "a capability it was asked to provide)");

  // The runtime refuses before the module is even loaded.
  auto opts = run_options_from_plan(plan, {"p.wasm"}, false);
  ASSERT_TRUE(opts) << opts.error().message;
  auto run = run_module(engine, kEmptyModule, *opts);
  ASSERT_FALSE(run);
  EXPECT_EQ(run.error().code, ErrorCode::kCapabilityUnavailable);
  EXPECT_EQ(engine.loads, 0);
}

TEST(PolicyCapability, FakeEngineWithFuelGetsToLoad) {
  auto plan = plan_from("{}", "{}", R"({"fuel":1000})");
  FakeEngine engine(CapabilitySet::all());
  auto opts = run_options_from_plan(plan, {"p.wasm"}, false);
  ASSERT_TRUE(opts);
  auto run = run_module(engine, kEmptyModule, *opts);
  ASSERT_FALSE(run);
  EXPECT_EQ(run.error().message, "fake engine: load reached");
  EXPECT_EQ(engine.loads, 1);
}

TEST(PolicyCapability, EachMissingLimitIsNamed) {
  auto plan = plan_from("{}", "{}", R"({"fuel":1,"timeout_ms":5,"max_memory_mb":16})");
  FakeEngine engine(CapabilitySet::all()
                        .remove(Capability::kLimitFuel)
                        .remove(Capability::kLimitTimeout)
                        .remove(Capability::kLimitMemory));
  EXPECT_EQ(unavailable_capabilities(required_capabilities(*plan), engine, host_build_capabilities()),
            (std::vector<std::string>{"engine fake cannot provide limits.fuel",
                                      "engine fake cannot provide limits.timeout",
                                      "engine fake cannot provide limits.memory"}));
  // 4096 MiB is wasm32's whole address space: no memory limit is needed for it.
  auto unbounded = plan_from("{}", "{}", R"({"max_memory_mb":4096})");
  EXPECT_TRUE(unavailable_capabilities(required_capabilities(*unbounded), engine,
                                       host_build_capabilities())
                  .empty());
}

TEST(PolicyCapability, EngineThatDeclaresNothingFailsClosed) {
  FakeEngine engine(std::nullopt);
  RunOptions opts;  // a flag-based run with nothing granted still needs stdio, clocks, random
  auto run = run_module(engine, kEmptyModule, opts);
  ASSERT_FALSE(run);
  EXPECT_EQ(run.error().code, ErrorCode::kCapabilityUnavailable);
  EXPECT_NE(run.error().message.find("engine fake cannot provide wasi.stdio"), std::string::npos)
      << run.error().message;
  EXPECT_EQ(engine.loads, 0);
}

TEST(PolicyCapability, FlagRunsAreCheckedTooNotJustManifests) {
  FakeEngine engine(CapabilitySet::all().remove(Capability::kLimitTimeout));
  RunOptions opts;
  opts.timeout_ms = 100;
  auto run = run_module(engine, kEmptyModule, opts);
  ASSERT_FALSE(run);
  EXPECT_NE(run.error().message.find("engine fake cannot provide limits.timeout"), std::string::npos);
  EXPECT_EQ(engine.loads, 0);
}

// host_api.https needs both sides: this build provides it (src/https + src/https/abi), and a
// build or an engine without it refuses the plan before loading anything, even under --degrade.
TEST(PolicyCapability, HttpsNeedsTheBuildAndTheEngine) {
  auto plan = plan_from(R"({"host_api":{"https":{"allow":[{"host":"a.test","methods":["GET"]}]}}})",
                        R"({"host_api":{"https":{"allow":[{"host":"a.test","methods":["GET"]}]}}})");
  EXPECT_TRUE(host_build_capabilities().has(Capability::kHostApiHttps));
  auto interp = make_fast_engine();
  EXPECT_TRUE(unavailable_capabilities(required_capabilities(*plan), *interp, host_build_capabilities())
                  .empty());
  CapabilitySet without = host_build_capabilities();
  without.remove(Capability::kHostApiHttps);
  EXPECT_EQ(unavailable_capabilities(required_capabilities(*plan), *interp, without),
            std::vector<std::string>{"this wasmcap build cannot provide host_api.https"});
  FakeEngine engine(CapabilitySet::all().remove(Capability::kHostApiHttps));
  EXPECT_EQ(unavailable_capabilities(required_capabilities(*plan), engine, host_build_capabilities()),
            std::vector<std::string>{"engine fake cannot provide host_api.https"});
  auto opts = run_options_from_plan(plan, {"p.wasm"}, true);
  ASSERT_TRUE(opts);
  auto run = run_module(engine, kEmptyModule, *opts);
  ASSERT_FALSE(run);
  EXPECT_EQ(run.error().code, ErrorCode::kCapabilityUnavailable);
  EXPECT_EQ(engine.loads, 0);
}

TEST(PolicyCapability, InterpDeclaresEveryLimitAndWasi) {
  auto engine = make_fast_engine();
  CapabilitySet caps = engine->capabilities();
  for (Capability c : {Capability::kWasiArgs, Capability::kWasiEnv, Capability::kWasiClocks,
                       Capability::kWasiRandom, Capability::kWasiStdio, Capability::kWasiFs,
                       Capability::kLimitFuel, Capability::kLimitTimeout, Capability::kLimitMemory}) {
    EXPECT_TRUE(caps.has(c)) << capability_name(c);
    if (is_host_capability(c)) {
      EXPECT_TRUE(host_build_capabilities().has(c)) << capability_name(c);
    }
  }
}

TEST(PolicyCapability, PlanAndItsRunOptionsNeedTheSameCapabilities) {
  auto plan = plan_from(R"({"fs":[{"guest":"/w","access":"ro"}],"env":["A"],"args":true})",
                        R"({"fs":[{"guest":"/w","host":"/tmp","access":"ro"}],"env":{"A":"1"}})",
                        R"({"fuel":5,"timeout_ms":10,"max_memory_mb":32})");
  auto opts = run_options_from_plan(plan, {"p.wasm", "arg"}, false);
  ASSERT_TRUE(opts) << opts.error().message;
  EXPECT_TRUE(required_capabilities(*plan) == required_capabilities(*opts));
  EXPECT_EQ(opts->fuel, 5u);
  EXPECT_EQ(opts->timeout_ms, 10u);
  EXPECT_EQ(opts->max_memory_bytes, 32u << 20);
  ASSERT_EQ(opts->wasi.preopens.size(), 1u);
  EXPECT_TRUE(opts->wasi.preopens[0].read_only);
  EXPECT_EQ(opts->wasi.env, (std::vector<std::pair<std::string, std::string>>{{"A", "1"}}));
  EXPECT_EQ(opts->wasi.args, (std::vector<std::string>{"p.wasm", "arg"}));
}

// --- plan → run options --------------------------------------------------------------------------

TEST(PlanRunOptions, DenialsRefuseUnlessDegraded) {
  auto plan = plan_from(R"({"fs":[{"guest":"/work","access":"ro"},{"guest":"/out","access":"rw"}]})",
                        R"({"fs":[{"guest":"/out","host":"/tmp","access":"ro"}]})");
  auto strict = run_options_from_plan(plan, {"p.wasm"}, false);
  ASSERT_FALSE(strict);
  EXPECT_EQ(strict.error().code, ErrorCode::kGrantDenied);
  // /out (rw requested, ro granted) is narrowed, not denied: only /work is named.
  EXPECT_EQ(strict.error().message,
            "plugin p: 1 request not granted: fs /work: requested ro, not granted");
  EXPECT_EQ(plan->narrowed, (std::vector<std::string>{"fs /out: requested rw, granted ro"}));

  auto degraded = run_options_from_plan(plan, {"p.wasm"}, true);
  ASSERT_TRUE(degraded) << degraded.error().message;
  ASSERT_EQ(degraded->wasi.preopens.size(), 2u);
  EXPECT_EQ(degraded->wasi.preopens[0].guest_path, "/work");
  EXPECT_TRUE(degraded->wasi.preopens[0].denied);
  EXPECT_EQ(degraded->wasi.preopens[1].guest_path, "/out");
  EXPECT_FALSE(degraded->wasi.preopens[1].denied);
  EXPECT_TRUE(degraded->wasi.preopens[1].read_only);
}

TEST(PlanRunOptions, ArgumentsOnlyWhenTheManifestAsks) {
  auto plan = plan_from(R"({"args":false})", "{}");
  EXPECT_TRUE(run_options_from_plan(plan, {"p.wasm"}, false));
  auto r = run_options_from_plan(plan, {"p.wasm", "--flag"}, true);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kGrantDenied);
  EXPECT_EQ(r.error().message,
            "guest arguments given, but plugin p's manifest does not request args "
            "(\"permissions\": {\"args\": true})");
}

// --- imports -----------------------------------------------------------------------------------

TEST(PolicyImports, HostApiImportNotRequestedIsRefused) {
  ModuleInfo info = info_of(module_importing("wasmcap_https", "request"));
  auto r = check_imports(info, CapabilitySet());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kGrantDenied);
  EXPECT_EQ(r.error().message,
            "module imports 'wasmcap_https.request' but the plan does not request host_api.https "
            "(a plugin must list it under permissions.host_api in its manifest)");
  EXPECT_TRUE(check_imports(info, CapabilitySet().add(Capability::kHostApiHttps)));
}

TEST(PolicyImports, UnknownHostApiModuleIsRefused) {
  ModuleInfo info = info_of(module_importing("wasmcap_smtp", "send"));
  auto r = check_imports(info, CapabilitySet::all());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message,
            "module imports 'wasmcap_smtp.send', which is not a host API wasmcap provides (known: "
            "wasmcap_https)");
}

TEST(PolicyImports, WasiAndOtherModulesAreNotHostApis) {
  EXPECT_TRUE(check_imports(info_of(module_importing("wasi_snapshot_preview1", "fd_write")), CapabilitySet()));
  EXPECT_TRUE(check_imports(info_of(module_importing("env", "f")), CapabilitySet()));
}

TEST(PolicyImports, RuntimeRefusesBeforeInstantiationEvenDegraded) {
  auto bytes = module_importing("wasmcap_https", "request");
  // Flag-based run: no manifest, so no host API.
  auto flag_run = run_module(bytes, RunOptions());
  ASSERT_FALSE(flag_run);
  EXPECT_EQ(flag_run.error().code, ErrorCode::kGrantDenied);
  // Manifest run under --degrade, manifest without https.
  auto plan = plan_from(R"({"fs":[{"guest":"/w","access":"ro"}]})", "{}");
  auto opts = run_options_from_plan(plan, {"p.wasm"}, true);
  ASSERT_TRUE(opts);
  auto run = run_module(bytes, *opts);
  ASSERT_FALSE(run);
  EXPECT_EQ(run.error().code, ErrorCode::kGrantDenied);
  EXPECT_NE(run.error().message.find("does not request host_api.https"), std::string::npos);
}

}  // namespace
}  // namespace wasmcap::policy

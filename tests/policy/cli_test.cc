// `wasmcap plan` and `wasmcap run --manifest/--config/--degrade` end to end: exit codes, the
// messages naming each missing grant, and what a guest sees in a degraded run.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "test_support.h"
#include "wasmcap/error.h"

namespace wasmcap::policy {
namespace {

using testing::TempDir;
using CliResult = testing::ProcResult;
using Args = std::vector<std::string>;

Args operator+(Args a, const Args& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

std::string probe_path() { return test_paths::policy_probe(); }

int code(ErrorCode c) { return error_exit_code(c); }

// A plugin directory with fs_probe.wasm as its module, a manifest and a host config.
class PolicyCli : public ::testing::Test {
 protected:
  void SetUp() override {
    if (probe_path().empty()) GTEST_SKIP() << "clang-19 not found: no test guest";
    std::filesystem::create_directories(dir / "plugin");
    std::filesystem::copy_file(probe_path(), dir / "plugin/probe.wasm");
  }
  std::string manifest(const std::string& perms, const std::string& extra = "") {
    return dir.write("plugin/manifest.json",
                     R"({"name":"probe","version":"1.0.0","module":"probe.wasm","permissions":)" +
                         perms + extra + "}");
  }
  std::string config(const std::string& grants) {
    return dir.write("config.json", R"({"plugins":{"probe":{"grants":)" + grants + "}}}");
  }
  // `wasmcap ARGS` in `cwd` (empty: the test's).
  CliResult cli(const Args& args, const std::string& cwd = "") {
    testing::ProcOptions o;
    o.cwd = cwd;
    return testing::run_cli(args, o);
  }
  Args plan_args() {
    return {"--manifest", dir / "plugin/manifest.json", "--config", dir / "config.json"};
  }

  TempDir dir;
};

TEST_F(PolicyCli, PlanPrintsTheEffectivePlanAndExitsZeroWhenFullyGranted) {
  std::filesystem::create_directories(dir / "ws");
  manifest(R"({"fs":[{"guest":"/work","access":"ro"}],"env":["LANG"]})",
           R"(,"limits":{"fuel":100000000})");
  config(R"({"fs":[{"guest":"/work","host":")" + (dir / "ws") +
         R"(","access":"rw"}],"env":{"LANG":"C.UTF-8","EXTRA":"no"}})");
  CliResult r = cli(Args{"plan"} + plan_args());
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err, "");
  EXPECT_NE(r.out.find("plugin  probe 1.0.0\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("module  " + (dir / "plugin/probe.wasm") + "\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("  fs      /work -> " + (dir / "ws") + " (ro)\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("  env     LANG=C.UTF-8\n"), std::string::npos);
  EXPECT_EQ(r.out.find("EXTRA"), std::string::npos);
  EXPECT_NE(r.out.find("fuel=100000000"), std::string::npos);
  EXPECT_NE(r.out.find("imports: ok\n"), std::string::npos);
  EXPECT_NE(r.out.find("result: ok\n"), std::string::npos);
}

TEST_F(PolicyCli, PlanRefusalNamesEachMissingGrant) {
  manifest(R"({"host_api":{"https":{"allow":[{"host":"api.github.com","methods":["GET"],"path_prefix":"/repos/"}]}},
               "fs":[{"guest":"/work","access":"ro"}],"env":["TZ"]})");
  config(R"({"env":{"LANG":"C"}})");
  CliResult r = cli(Args{"plan"} + plan_args());
  EXPECT_EQ(r.exit_code, code(ErrorCode::kGrantDenied)) << r.err;
  EXPECT_EQ(r.exit_code, 77);
  EXPECT_EQ(r.err,
            "wasmcap: error: grant_denied: plugin probe: 3 requests not granted: https "
            "api.github.com GET /repos/: no matching grant; fs /work: requested ro, not granted; "
            "env TZ: requested, not granted\n");
  EXPECT_NE(r.out.find("denied (requested, not granted):\n"
                       "  https api.github.com GET /repos/: no matching grant\n"
                       "  fs /work: requested ro, not granted\n"
                       "  env TZ: requested, not granted\n"),
            std::string::npos)
      << r.out;
  // https itself is available in this build: only the grants are missing.
  EXPECT_EQ(r.out.find("unavailable:"), std::string::npos) << r.out;
}

TEST_F(PolicyCli, PlanOfAGrantedHttpsPluginIsOk) {
  manifest(R"({"host_api":{"https":{"allow":[{"host":"api.github.com","methods":["GET"]}]}}})");
  config(R"({"host_api":{"https":{"allow":[{"host":"api.github.com","methods":["GET"]}]}}})");
  CliResult r = cli(Args{"plan"} + plan_args());
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out.find("unavailable:"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("result: ok\n"), std::string::npos) << r.out;
}

TEST_F(PolicyCli, PlanJsonIsMachineReadable) {
  manifest(R"({"fs":[{"guest":"/data","access":"rw"}],"args":true})");
  config(R"({})");
  CliResult r = cli(Args{"plan", "--json"} + plan_args());
  EXPECT_EQ(r.exit_code, 77);
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["plugin"], "probe");
  EXPECT_EQ(j["ok"], false);
  EXPECT_EQ(j["denied"][0], "fs /data: requested rw, not granted");
  EXPECT_EQ(j["grants"]["fs"][0]["guest"], "/data");
  EXPECT_EQ(j["grants"]["fs"][0]["denied"], true);
  EXPECT_EQ(j["grants"]["args"], true);
  EXPECT_EQ(j["imports"]["checked"], true);
  EXPECT_EQ(j["engine"], "interp");  // one name for the interpreter everywhere (docs/cli.md)
}

TEST_F(PolicyCli, RunRefusesByDefaultAndNamesEachMissingGrant) {
  manifest(R"({"fs":[{"guest":"/data","access":"ro"}],"env":["LANG"],"args":true})");
  config(R"({"env":{}})");
  CliResult r = cli(Args{"run"} + plan_args() + Args{"--", "/data"});
  EXPECT_EQ(r.exit_code, 77);
  EXPECT_EQ(r.out, "");  // the guest never ran
  EXPECT_EQ(r.err,
            "wasmcap: error: grant_denied: plugin probe: 2 requests not granted: fs /data: "
            "requested ro, not granted; env LANG: requested, not granted\n");
}

TEST_F(PolicyCli, DegradedRunShowsTheGuestEnotcapableOnTheDeniedDirectory) {
  std::filesystem::create_directories(dir / "ws");
  dir.write("ws/existing.txt", "hi");
  manifest(R"({"fs":[{"guest":"/granted","access":"rw"},{"guest":"/denied","access":"rw"}],"args":true})");
  config(R"({"fs":[{"guest":"/granted","host":")" + (dir / "ws") + R"(","access":"rw"}]})");
  CliResult r = cli(Args{"run", "--degrade"} + plan_args() + Args{"--", "/granted", "/denied"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err, "wasmcap: warning: --degrade: fs /denied: requested rw, not granted\n");
  EXPECT_EQ(r.out,
            "stat /granted: ok\nopendir /granted: ok\nread /granted: ok\ncreate /granted: ok\n"
            "mkdir /granted: ok\n"
            "stat /denied: ENOTCAPABLE\nopendir /denied: ENOTCAPABLE\nread /denied: ENOTCAPABLE\n"
            "create /denied: ENOTCAPABLE\nmkdir /denied: ENOTCAPABLE\n");
}

// A read-only grant for a read-write request narrows: the run starts (with or without
// --degrade, which has nothing to relax here) and the directory is mounted read-only.
TEST_F(PolicyCli, ANarrowedDirectoryIsMountedReadOnlyWithOrWithoutDegrade) {
  std::filesystem::create_directories(dir / "ws");
  dir.write("ws/existing.txt", "hi");
  manifest(R"({"fs":[{"guest":"/work","access":"rw"}],"args":true})");
  config(R"({"fs":[{"guest":"/work","host":")" + (dir / "ws") + R"(","access":"ro"}]})");
  for (bool degrade : {false, true}) {
    CliResult r = cli(Args{"run"} + (degrade ? Args{"--degrade"} : Args{}) + plan_args() +
                      Args{"--", "/work"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.err, "") << degrade;
    EXPECT_NE(r.out.find("read /work: ok\n"), std::string::npos) << r.out;
    EXPECT_EQ(r.out.find("create /work: ok"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("create /work: E"), std::string::npos) << r.out;
    EXPECT_FALSE(std::filesystem::exists(dir / "ws/created.txt"));
  }
  CliResult p = cli(Args{"plan"} + plan_args());
  EXPECT_EQ(p.exit_code, 0) << p.err;
  EXPECT_NE(p.out.find("narrowed (granted with less access: writes fail as on a read-only "
                       "mount):\n  fs /work: requested rw, granted ro\n"),
            std::string::npos)
      << p.out;
}

TEST_F(PolicyCli, ModuleDefaultsToTheManifestsModuleRelativeToItsDirectory) {
  manifest(R"({"args":true})");
  config("{}");
  // Run from another directory: the module is found beside the manifest.
  CliResult r = cli(Args{"run"} + plan_args() + Args{"--", "/nothing"}, "/");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("stat /nothing: "), std::string::npos);
  // An explicit MODULE overrides it (and may take arguments after it).
  CliResult o = cli(Args{"run"} + plan_args() + Args{dir / "plugin/missing.wasm", "x"});
  EXPECT_EQ(o.exit_code, code(ErrorCode::kNotFound)) << o.err;
}

TEST_F(PolicyCli, ArgumentsWithoutArgsPermissionAreRefused) {
  manifest("{}");
  config("{}");
  EXPECT_EQ(cli(Args{"run"} + plan_args()).exit_code, 0);
  CliResult r = cli(Args{"run"} + plan_args() + Args{"--", "/x"});
  EXPECT_EQ(r.exit_code, 77);
  EXPECT_NE(r.err.find("guest arguments given, but plugin probe's manifest does not request args"),
            std::string::npos)
      << r.err;
}

TEST_F(PolicyCli, OneSourceOfGrants) {
  manifest("{}");
  config("{}");
  CliResult r = cli(Args{"run"} + plan_args() + Args{"--dir", "/tmp"});
  EXPECT_EQ(r.exit_code, 64);
  EXPECT_EQ(r.err,
            "wasmcap: error: invalid_argument: --dir cannot be combined with --manifest: grants "
            "come from the host config (--config) only\n");
  EXPECT_EQ(cli(Args{"run"} + plan_args() + Args{"--env", "A=b"}).exit_code, 64);
  EXPECT_EQ(cli({"run", "--manifest", dir / "plugin/manifest.json"}).exit_code, 64);
  EXPECT_EQ(cli({"run", "--degrade", probe_path()}).exit_code, 64);
}

TEST_F(PolicyCli, BadDocumentsExitWithTheirCodesAndPaths) {
  manifest(R"({"fs":[{"guest":"/w","access":"write"}]})");
  config("{}");
  CliResult m = cli(Args{"plan"} + plan_args());
  EXPECT_EQ(m.exit_code, 65);
  EXPECT_EQ(m.err, "wasmcap: error: manifest_invalid: " + (dir / "plugin/manifest.json") +
                       ": $.permissions.fs[0].access: must be \"ro\" or \"rw\", got 'write'\n");
  manifest("{}");
  config(R"({"fs":[{"guest":"/w","host":"relative/dir","access":"ro"}]})");
  CliResult c = cli(Args{"run"} + plan_args());
  EXPECT_EQ(c.exit_code, 78);
  EXPECT_EQ(c.err, "wasmcap: error: config_invalid: " + (dir / "config.json") +
                       ": $.plugins.probe.grants.fs[0].host: must be an absolute path\n");
}

TEST_F(PolicyCli, ModuleImportingAnUnrequestedHostApiIsRefused) {
  // (module (import "wasmcap_https" "request" (func)))
  static const char kWasm[] = "\0asm\1\0\0\0\1\4\1\x60\0\0\2\x19\1\x0dwasmcap_https\7request\0\0";
  // Named *.wasm: with --manifest, a positional not ending in .wasm is the guest's first argument.
  dir.write("plugin/probe_https.wasm", std::string(kWasm, sizeof kWasm - 1));
  manifest("{}");
  config("{}");
  std::string module = dir / "plugin/probe_https.wasm";
  CliResult p = cli(Args{"plan"} + plan_args() + Args{module});
  EXPECT_EQ(p.exit_code, 77);
  EXPECT_NE(p.out.find("imports: refused: module imports 'wasmcap_https.request' but the plan does "
                       "not request host_api.https"),
            std::string::npos)
      << p.out;
  CliResult r = cli(Args{"run", "--degrade"} + plan_args() + Args{module});
  EXPECT_EQ(r.exit_code, 77);
  EXPECT_NE(r.err.find("grant_denied: module imports 'wasmcap_https.request'"), std::string::npos)
      << r.err;
  // Without a manifest there are no host APIs at all.
  EXPECT_EQ(cli({"run", module}).exit_code, 77);
}

TEST_F(PolicyCli, FlagsWithoutManifestStillWork) {
  std::filesystem::create_directories(dir / "ws");
  CliResult r = cli({"run", "--fuel", "100000000", "--dir", dir / "ws" + "::/w", probe_path(), "/w"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("create /w: ok\n"), std::string::npos) << r.out;
  CliResult dd = cli({"run", "--", probe_path(), "/none"});
  EXPECT_EQ(dd.exit_code, 0) << dd.err;
  EXPECT_NE(dd.out.find("stat /none: "), std::string::npos);
}

TEST_F(PolicyCli, ExplicitCliLimitsNarrowAManifestRun) {
  manifest("{}", R"(,"limits":{"fuel":1000000000})");
  config("{}");
  CliResult r = cli(Args{"run", "--fuel", "10"} + plan_args());
  EXPECT_EQ(r.exit_code, code(ErrorCode::kFuelExhausted)) << r.err;
}

}  // namespace
}  // namespace wasmcap::policy

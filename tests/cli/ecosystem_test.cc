// CLI frictions of issue #16: the documented error format for usage errors, `help`, `run`
// argument splitting with --manifest, run --json and --invocation-id, the component message, the
// reactor hint, inspect/verify/compile --json, bundle pack with a public key, trust management,
// bundle inspect and plan --bundle, completions and the man page.
#include <nlohmann/json.hpp>

#include <sched.h>
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <memory>
#include <random>
#include <set>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>

#include "test_support.h"
#include "wasmcap/bundle.h"
#include "wasmcap/runtime.h"

namespace wasmcap {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using testing::describe;
using testing::guest_path;
using testing::ProcResult;
using testing::run_cli;
using testing::TempDir;

bool starts_with(const std::string& s, const std::string& p) { return s.rfind(p, 0) == 0; }

// A temp dir that is also $WASMCAP_HOME for the commands run through it.
struct Home {
  TempDir dir;
  testing::ProcOptions opts() const {
    testing::ProcOptions o;
    o.extra_env = {{"WASMCAP_HOME", dir.str() + "/home"}};
    return o;
  }
  ProcResult cli(const std::vector<std::string>& args) const { return run_cli(args, opts()); }
  std::string path(const std::string& name) const { return dir.str() + "/" + name; }
  // A new home holding a copy of `original`'s WASMCAP_HOME (no wasmcap may be running in it).
  // The registry keeps store paths relative to the home, so the copy is a home of its own: the
  // fault tests copy one prepared home per case instead of re-running the commands that made it.
  static std::unique_ptr<Home> copy_of(const Home& original) {
    auto h = std::make_unique<Home>();
    std::error_code ec;
    fs::copy(original.path("home"), h->path("home"),
             fs::copy_options::recursive | fs::copy_options::copy_symlinks, ec);
    EXPECT_FALSE(ec) << "copy of " << original.path("home") << ": " << ec.message();
    return h;
  }
  // keys/NAME.key + .pub
  void keygen(const std::string& name) const {
    ProcResult r = cli({"bundle", "keygen", "--out", path("keys"), "--name", name});
    ASSERT_EQ(r.exit_code, 0) << describe(r);
  }
  // hello.wcb: hello.wasm signed by keys/NAME.key, with a manifest requesting args and one env.
  std::string pack_hello(const std::string& key) const {
    fs::copy_file(guest_path("hello"), path("hello.wasm"), fs::copy_options::overwrite_existing);
    testing::write_text(path("manifest.json"),
                        R"({"name":"hello","version":"1.2.3","module":"hello.wasm",)"
                        R"("description":"says \u001b[31mhello","permissions":{"args":true,"env":["WHO"]}})");
    ProcResult r = cli({"bundle", "pack", "--manifest", path("manifest.json"), "--key",
                        path("keys/" + key + ".key"), "--out", path("hello.wcb")});
    EXPECT_EQ(r.exit_code, 0) << describe(r);
    return path("hello.wcb");
  }
};

void expect_usage_error(const ProcResult& r, const std::string& needle) {
  EXPECT_EQ(r.exit_code, 64) << describe(r);
  EXPECT_TRUE(starts_with(r.err, "wasmcap: error: invalid_argument: ")) << r.err;
  EXPECT_NE(r.err.find(needle), std::string::npos) << r.err;
}

// --- errors and help ----------------------------------------------------------------------------

TEST(CliErrors, UsageErrorsFollowTheDocumentedFormat) {
  expect_usage_error(run_cli({"frobnicate"}), "frobnicate");
  expect_usage_error(run_cli({"run", "--fuel", "lots", guest_path("hello")}), "--fuel");
  expect_usage_error(run_cli({"run", "--engine", "jit", guest_path("hello")}), "jit");
  expect_usage_error(run_cli({"inspect"}), "module");
  expect_usage_error(run_cli({"bundle", "frob"}), "frob");
  expect_usage_error(run_cli({"run", "--invocation-id", "has space", guest_path("hello")}),
                     "invocation");
}

// The engines are interp, aot and auto in every command that takes --engine: wabt's interpreter
// left the product (it is the tests' reference oracle) and "fast" was another name of interp, so
// both are usage errors that list the engines there are.
TEST(CliErrors, EnginesAreInterpAotAndAuto) {
  TempDir dir;
  for (const std::string gone : {"wabt", "fast"}) {
    for (const std::vector<std::string>& args :
         {std::vector<std::string>{"run", "--engine", gone, guest_path("hello")},
          std::vector<std::string>{"plan", "--config", (dir.path() / "c.json").string(),
                                   "--engine", gone, guest_path("hello")},
          std::vector<std::string>{"sh", "--engine", gone, "-c", "true"}}) {
      ProcResult r = run_cli(args);
      expect_usage_error(r, gone);
      EXPECT_NE(r.err.find("{interp,aot,auto}"), std::string::npos) << args[0] << ": " << r.err;
    }
  }
  ProcResult help = run_cli({"help", "run"});
  ASSERT_EQ(help.exit_code, 0) << describe(help);
  EXPECT_EQ(help.out.find("wabt"), std::string::npos) << help.out;
}

TEST(CliHelp, HelpCommandPrintsEachCommandsHelp) {
  ProcResult top = run_cli({"help"});
  ASSERT_EQ(top.exit_code, 0) << describe(top);
  for (const char* cmd : {"run", "plan", "inspect", "bundle", "trust", "completions", "man"}) {
    EXPECT_NE(top.out.find(cmd), std::string::npos) << cmd;
  }
  ProcResult run = run_cli({"help", "run"});
  ASSERT_EQ(run.exit_code, 0) << describe(run);
  EXPECT_NE(run.out.find("args"), std::string::npos) << "run --help must show the guest ARGS";
  EXPECT_NE(run.out.find("--invocation-id"), std::string::npos);
  EXPECT_NE(run_cli({"run", "--help"}).out.find("[args...]"), std::string::npos);
  ProcResult nested = run_cli({"help", "bundle", "inspect"});
  EXPECT_EQ(nested.exit_code, 0);
  EXPECT_NE(nested.out.find("--json"), std::string::npos);
  expect_usage_error(run_cli({"help", "nope"}), "nope");
}

// --- run ------------------------------------------------------------------------------------------

TEST(CliRun, ManifestRunTakesArgumentsWithoutDashDash) {
  TempDir d;
  fs::copy_file(guest_path("hello"), d.path() / "hello.wasm");
  testing::write_text(d.path() / "m.json",
                      R"({"name":"hello","version":"1.0.0","module":"hello.wasm","permissions":{"args":true}})");
  testing::write_text(d.path() / "c.json", R"({"plugins":{"hello":{}}})");
  std::string m = (d.path() / "m.json").string(), c = (d.path() / "c.json").string();
  // The documented form: the module comes from the manifest, every word goes to the guest.
  ProcResult a = run_cli({"run", "--manifest", m, "--config", c, "first", "--second"});
  ASSERT_EQ(a.exit_code, 0) << describe(a);
  EXPECT_EQ(a.out, "hello from wasm\narg[1]=first\narg[2]=--second\n");
  // The same as with "--".
  ProcResult b = run_cli({"run", "--manifest", m, "--config", c, "--", "first", "--second"});
  EXPECT_EQ(b.out, a.out);
  // A .wasm path still overrides the manifest's module.
  ProcResult o = run_cli({"run", "--manifest", m, "--config", c, guest_path("args_env"), "x"});
  ASSERT_EQ(o.exit_code, 0) << describe(o);
  EXPECT_NE(o.out.find("arg[1]=[x]"), std::string::npos) << o.out;
}

TEST(CliRun, JsonPrintsOneResultObject) {
  ProcResult r = run_cli({"run", "--json", "--engine", "interp", "--fuel", "100000000",
                          guest_path("hello"), "a b"});
  ASSERT_EQ(r.exit_code, 0) << describe(r);
  ASSERT_EQ(testing::lines_of(r.out).size(), 1u) << r.out;
  json j = json::parse(r.out);
  EXPECT_EQ(j["exit_code"], 0);
  EXPECT_TRUE(j["error"].is_null());
  EXPECT_EQ(j["status"], 0);
  EXPECT_EQ(j["engine"], "interp");  // one name for the interpreter everywhere (docs/cli.md)
  EXPECT_EQ(j["stdout"], "hello from wasm\narg[1]=a b\n");
  EXPECT_EQ(j["stdout_bytes"], 27);
  EXPECT_EQ(j["stderr_bytes"], 0);
  EXPECT_GT(j["fuel_consumed"].get<uint64_t>(), 0u);
  EXPECT_GE(j["wall_ms"].get<double>(), 0.0);
  EXPECT_GE(j["cpu_ms"].get<double>(), 0.0);
  EXPECT_EQ(j["invocation_id"].get<std::string>().size(), 32u);

  ProcResult id = run_cli({"run", "--json", "--invocation-id", "call_42:a-b.c", guest_path("hello")});
  EXPECT_EQ(json::parse(id.out)["invocation_id"], "call_42:a-b.c");

  ProcResult exit = run_cli({"run", "--json", guest_path("exit_status"), "7"});
  EXPECT_EQ(exit.exit_code, 7);
  EXPECT_EQ(json::parse(exit.out)["exit_code"], 7);

  ProcResult fuel = run_cli({"run", "--json", "--engine", "interp", "--fuel", "1000", guest_path("spin")});
  EXPECT_EQ(fuel.exit_code, 81) << describe(fuel);
  json f = json::parse(fuel.out);
  EXPECT_TRUE(f["exit_code"].is_null());
  EXPECT_EQ(f["error"]["code"], "fuel_exhausted");
  EXPECT_EQ(f["status"], 81);

  ProcResult missing = run_cli({"run", "--json", "/nonexistent/x.wasm"});
  EXPECT_EQ(missing.exit_code, 66);
  EXPECT_EQ(json::parse(missing.out)["error"]["code"], "not_found") << missing.out;
}

TEST(CliRun, InvokePassesTypedArgumentsAndPrintsResults) {
  ProcResult ok = run_cli({"run", "--invoke", "ok", guest_path("traps")});
  ASSERT_EQ(ok.exit_code, 0) << describe(ok);
  EXPECT_EQ(ok.out, "42\n");
  // spin's count(n) returns n.
  ProcResult n = run_cli({"run", "--invoke", "count", guest_path("spin"), "0x10"});
  ASSERT_EQ(n.exit_code, 0) << describe(n);
  EXPECT_EQ(n.out, "16\n");
  EXPECT_EQ(json::parse(run_cli({"run", "--json", "--invoke", "count", guest_path("spin"), "5"}).out)["results"][0], "5");
  expect_usage_error(run_cli({"run", "--invoke", "count", guest_path("spin")}), "takes 1 argument");
  expect_usage_error(run_cli({"run", "--invoke", "count", guest_path("spin"), "x"}), "not a valid i32");
  expect_usage_error(run_cli({"run", "--invoke", "count", guest_path("spin"), "4294967296"}), "not a valid i32");
}

TEST(CliRun, ReactorWithoutInvokeIsHinted) {
  ProcResult r = run_cli({"run", guest_path("reactor")});
  EXPECT_EQ(r.exit_code, 67) << describe(r);
  EXPECT_NE(r.err.find("--invoke NAME"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("function exports: run"), std::string::npos) << r.err;
}

TEST(CliRun, ComponentIsExplained) {
  TempDir d;
  std::string p = (d.path() / "component.wasm").string();
  testing::write_text(p, std::string("\0asm\x0d\0\x01\0", 8));
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"run", p}, std::vector<std::string>{"inspect", p}}) {
    ProcResult r = run_cli(args);
    EXPECT_EQ(r.exit_code, 65) << describe(r);
    EXPECT_NE(r.err.find("module_unsupported: this is a WebAssembly component (WASI Preview 2"),
              std::string::npos) << r.err;
    EXPECT_NE(r.err.find("wasmcap runs WASI Preview 1 core modules"), std::string::npos) << r.err;
  }
  // Other versions are malformed, not components.
  testing::write_text(p, std::string("\0asm\x02\0\0\0", 8));
  ProcResult v2 = run_cli({"inspect", p});
  EXPECT_EQ(v2.exit_code, 65);
  EXPECT_NE(v2.err.find("module_malformed"), std::string::npos) << v2.err;
}

TEST(CliInspect, JsonListsImportsAndExports) {
  ProcResult r = run_cli({"inspect", "--json", guest_path("reactor")});
  ASSERT_EQ(r.exit_code, 0) << describe(r);
  json j = json::parse(r.out);
  EXPECT_EQ(j["sha256"].get<std::string>().size(), 64u);
  ASSERT_EQ(j["imports"].size(), 1u);
  EXPECT_EQ(j["imports"][0]["module"], "wasi_snapshot_preview1");
  EXPECT_EQ(j["imports"][0]["name"], "proc_exit");
  EXPECT_EQ(j["imports"][0]["signature"], "(i32) -> ()");
  bool has_run = false;
  for (const auto& e : j["exports"]) has_run = has_run || e["name"] == "run";
  EXPECT_TRUE(has_run) << r.out;
}

TEST(CliCompile, JsonReportsTheCompile) {
  TempDir d;
  ProcResult r = run_cli({"compile", "--json", "--cache-dir", (d.path() / "cache").string(),
                          guest_path("reactor")});
  if (r.exit_code == 66) GTEST_SKIP() << "no C compiler for the AOT engine: " << r.err;
  ASSERT_EQ(r.exit_code, 0) << describe(r);
  json j = json::parse(r.out);
  EXPECT_EQ(j["engine"], "aot");
  EXPECT_EQ(j["cached"], true);
  // The module's sha256, as the load that keyed the cache computed it (hashed once), on the
  // compile and on a second, cached one.
  auto bytes = read_file_bytes(guest_path("reactor"));
  ASSERT_TRUE(bytes.has_value());
  const std::string sha = bundle::sha256_hex(*bytes);
  EXPECT_EQ(j["sha256"], sha);
  EXPECT_GE(j["seconds"].get<double>(), 0.0);
  ProcResult again = run_cli({"compile", "--json", "--cache-dir", (d.path() / "cache").string(),
                              guest_path("reactor")});
  ASSERT_EQ(again.exit_code, 0) << describe(again);
  EXPECT_EQ(json::parse(again.out)["sha256"], sha);
  ProcResult bad = run_cli({"compile", "--json", "/nonexistent.wasm"});
  EXPECT_EQ(bad.exit_code, 66);
  EXPECT_EQ(json::parse(bad.out)["error"]["code"], "not_found") << bad.out;
}

// --- bundles and trust ----------------------------------------------------------------------------

TEST(CliBundle, PackWithAPublicKeyIsAnInvalidArgumentWithAHint) {
  Home h;
  h.keygen("acme");
  fs::copy_file(guest_path("hello"), h.path("hello.wasm"));
  testing::write_text(h.path("m.json"), R"({"name":"hello","version":"1.0.0","module":"hello.wasm"})");
  ProcResult r = h.cli({"bundle", "pack", "--manifest", h.path("m.json"), "--key",
                        h.path("keys/acme.pub"), "--out", h.path("x.wcb")});
  EXPECT_EQ(r.exit_code, 64) << describe(r);
  EXPECT_NE(r.err.find("invalid_argument: --key"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("is a public key"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find(".key"), std::string::npos) << r.err;
}

TEST(CliTrust, AddListRemoveRevoke) {
  Home h;
  h.keygen("acme");
  h.keygen("other");
  // Fresh home: no trust/ directory yet; add creates it.
  ProcResult empty = h.cli({"trust", "list"});
  EXPECT_EQ(empty.exit_code, 0) << describe(empty);
  ProcResult add = h.cli({"trust", "add", h.path("keys/acme.pub")});
  ASSERT_EQ(add.exit_code, 0) << describe(add);
  EXPECT_TRUE(fs::is_directory(h.path("home/trust")));
  EXPECT_EQ(fs::status(h.path("home/trust")).permissions() & fs::perms::others_all, fs::perms::none);
  EXPECT_EQ(h.cli({"trust", "add", h.path("keys/acme.pub")}).exit_code, 0) << "idempotent";
  // A secret key is refused with a hint.
  ProcResult secret = h.cli({"trust", "add", h.path("keys/acme.key")});
  EXPECT_EQ(secret.exit_code, 64) << describe(secret);
  EXPECT_NE(secret.err.find("SECRET key"), std::string::npos) << secret.err;

  json list = json::parse(h.cli({"trust", "list", "--json"}).out);
  ASSERT_EQ(list.size(), 1u);
  std::string id = list[0]["id"];
  EXPECT_EQ(list[0]["status"], "trusted");
  EXPECT_EQ(id.size(), 16u);

  // A bundle signed by it installs as trusted (the registry reads the same store).
  std::string wcb = h.pack_hello("acme");
  ProcResult install = h.cli({"bundle", "install", wcb});
  ASSERT_EQ(install.exit_code, 0) << describe(install);
  EXPECT_NE(install.out.find("(trust: trusted)"), std::string::npos) << install.out;

  // Remove: no longer trusted, so the installed bundle no longer runs.
  EXPECT_EQ(h.cli({"trust", "remove", id}).exit_code, 0);
  EXPECT_EQ(h.cli({"trust", "remove", id}).exit_code, 66);
  EXPECT_EQ(h.cli({"run", "hello"}).exit_code, 77);

  // Revoke (by file, never trusted): refused from then on, and cannot be re-added.
  ProcResult revoke = h.cli({"trust", "revoke", h.path("keys/acme.pub")});
  ASSERT_EQ(revoke.exit_code, 0) << describe(revoke);
  ProcResult readd = h.cli({"trust", "add", h.path("keys/acme.pub")});
  EXPECT_EQ(readd.exit_code, 77) << describe(readd);
  EXPECT_NE(readd.err.find("revoked"), std::string::npos);
  EXPECT_EQ(h.cli({"run", "hello"}).exit_code, 77);
  // Revoke by id needs a trusted key of that id.
  EXPECT_EQ(h.cli({"trust", "revoke", "0123456789abcdef"}).exit_code, 66);
  ASSERT_EQ(h.cli({"trust", "add", h.path("keys/other.pub")}).exit_code, 0);
  std::string other = json::parse(h.cli({"trust", "list", "--json"}).out)[0]["id"];
  EXPECT_EQ(h.cli({"trust", "revoke", other}).exit_code, 0);
  json after = json::parse(h.cli({"trust", "list", "--json"}).out);
  for (const auto& k : after) EXPECT_EQ(k["status"], "revoked") << after.dump();
}

TEST(CliBundle, InstallForceRepairsATamperedInstalledCopy) {
  Home h;
  h.keygen("acme");
  ASSERT_EQ(h.cli({"trust", "add", h.path("keys/acme.pub")}).exit_code, 0);
  std::string wcb = h.pack_hello("acme");
  ASSERT_EQ(h.cli({"bundle", "install", wcb}).exit_code, 0);
  json list = json::parse(h.cli({"bundle", "list", "--json"}).out);
  std::string module;
  for (const auto& e : fs::recursive_directory_iterator(list[0]["path"].get<std::string>())) {
    if (e.path().filename() == "hello.wasm") module = e.path().string();
  }
  ASSERT_FALSE(module.empty());
  std::string bytes = testing::read_text(module);
  bytes[bytes.size() / 2] ^= 0x55;
  fs::permissions(module, fs::perms::owner_write, fs::perm_options::add);
  testing::write_text(module, bytes);
  EXPECT_EQ(h.cli({"run", "hello"}).exit_code, 65) << "a tampered copy is refused";
  ProcResult again = h.cli({"bundle", "install", wcb});
  EXPECT_EQ(again.exit_code, 0);
  EXPECT_NE(again.out.find("already installed"), std::string::npos) << again.out;
  EXPECT_EQ(h.cli({"run", "hello"}).exit_code, 65);
  ProcResult force = h.cli({"bundle", "install", "--force", wcb});
  ASSERT_EQ(force.exit_code, 0) << describe(force);
  ProcResult run = h.cli({"run", "--env", "WHO=me", "hello"});
  EXPECT_EQ(run.exit_code, 0) << describe(run);
  EXPECT_EQ(run.out, "hello from wasm\nWHO=me\n");
  json after = json::parse(h.cli({"bundle", "list", "--json"}).out);
  EXPECT_EQ(after[0]["forced_replace"], false) << "same content: a repair, not a replacement";
}

TEST(CliBundle, InspectAndPlanABundleBeforeInstalling) {
  Home h;
  h.keygen("acme");
  std::string wcb = h.pack_hello("acme");
  ProcResult text = h.cli({"bundle", "inspect", wcb});
  ASSERT_EQ(text.exit_code, 0) << describe(text);
  EXPECT_NE(text.out.find("\"hello\" \"1.2.3\""), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("(untrusted: not in the trust store"), std::string::npos) << text.out;
  EXPECT_EQ(text.out.find('\x1b'), std::string::npos) << "bundle text must be escaped";
  EXPECT_NE(text.out.find("\"WHO\""), std::string::npos) << "requested permissions: " << text.out;

  ASSERT_EQ(h.cli({"trust", "add", h.path("keys/acme.pub")}).exit_code, 0);
  json j = json::parse(h.cli({"bundle", "inspect", "--json", wcb}).out);
  EXPECT_EQ(j["name"], "hello");
  EXPECT_EQ(j["version"], "1.2.3");
  EXPECT_EQ(j["trust"], "trusted");
  EXPECT_EQ(j["permissions"]["env"][0], "WHO");
  ASSERT_EQ(j["modules"].size(), 1u);
  EXPECT_EQ(j["modules"][0]["name"], "hello.wasm");
  EXPECT_EQ(j["modules"][0]["sha256"].get<std::string>().size(), 64u);

  // plan --bundle: nothing granted -> 77 with each denial; granted -> 0. Nothing is installed.
  testing::write_text(h.path("none.json"), R"({"plugins":{}})");
  ProcResult denied = h.cli({"plan", "--bundle", wcb, "--config", h.path("none.json")});
  EXPECT_EQ(denied.exit_code, 77) << describe(denied);
  EXPECT_NE(denied.out.find("signed by key"), std::string::npos) << denied.out;
  testing::write_text(h.path("grant.json"),
                      R"({"plugins":{"hello":{"grants":{"env":{"WHO":"x"}}}}})");
  ProcResult ok = h.cli({"plan", "--bundle", wcb, "--config", h.path("grant.json"), "--json"});
  ASSERT_EQ(ok.exit_code, 0) << describe(ok);
  EXPECT_EQ(json::parse(ok.out)["bundle"]["trust"], "trusted");
  EXPECT_EQ(h.cli({"bundle", "list", "--json"}).out, "[]\n");

  // A tampered bundle is refused by inspect as by verify.
  std::string bytes = testing::read_text(wcb);
  bytes[bytes.size() - 10] ^= 1;
  testing::write_text(h.path("bad.wcb"), bytes);
  EXPECT_EQ(h.cli({"bundle", "inspect", h.path("bad.wcb")}).exit_code, 65);

  json v = json::parse(h.cli({"bundle", "verify", "--json", wcb, "--trust", h.path("keys/acme.pub")}).out);
  EXPECT_EQ(v["ok"], true);
  EXPECT_EQ(v["name"], "hello");
}

// --- plan checks what run checks ------------------------------------------------------------------

TEST(CliPlan, PlanChecksWhatTheRunChecksBeforeStarting) {
  TempDir d;
  fs::copy_file(guest_path("fetch"), d.path() / "fetch.wasm");
  testing::write_text(d.path() / "m.json",
                      R"({"name":"fetch","version":"1.0.0","module":"fetch.wasm","permissions":{"args":true,)"
                      R"("host_api":{"https":{"allow":[{"host":"api.test","methods":["GET"]}],"secrets":["tok"]}}}})");
  auto config = [&](const std::string& secret_file, const std::string& audit_file) {
    testing::write_text(d.path() / "c.json",
                        R"({"plugins":{"fetch":{"grants":{"host_api":{"https":{"allow":[{"host":"api.test","methods":["GET"]}],)"
                        R"("secrets":{"tok":{"file":")" + secret_file + R"(","hosts":["api.test"]}}}}}}},)"
                        R"("audit":{"file":")" + audit_file + R"("}})");
  };
  std::string m = (d.path() / "m.json").string(), c = (d.path() / "c.json").string();
  testing::write_text(d.path() / "tok", "value");
  config((d.path() / "tok").string(), (d.path() / "audit.jsonl").string());
  ProcResult ok = run_cli({"plan", "--manifest", m, "--config", c});
  ASSERT_EQ(ok.exit_code, 0) << describe(ok);
  EXPECT_NE(ok.out.find("preflight ok: audit file writable"), std::string::npos) << ok.out;
  EXPECT_NE(ok.out.find("preflight ok: https: 1 secret file(s) readable"), std::string::npos) << ok.out;
  EXPECT_FALSE(fs::exists(d.path() / "audit.jsonl")) << "plan must not create the audit file";

  // Each failure plan now reports is the one run would have hit: same code.
  struct Case {
    std::string secret, audit;
    int exit;
    const char* needle;
  } cases[] = {
      {(d.path() / "missing-tok").string(), (d.path() / "audit.jsonl").string(), 74, "secret tok"},
      {(d.path() / "tok").string(), (d.path() / "no-dir/audit.jsonl").string(), 74, "audit file"},
  };
  for (const auto& k : cases) {
    config(k.secret, k.audit);
    ProcResult p = run_cli({"plan", "--manifest", m, "--config", c});
    EXPECT_EQ(p.exit_code, k.exit) << describe(p);
    EXPECT_NE(p.out.find("preflight FAILED"), std::string::npos) << p.out;
    EXPECT_NE(p.err.find(k.needle), std::string::npos) << p.err;
    ProcResult r = run_cli({"run", "--manifest", m, "--config", c, "https://api.test/"});
    EXPECT_EQ(r.exit_code, k.exit) << "run fails the same way: " << describe(r);
    json j = json::parse(run_cli({"plan", "--json", "--manifest", m, "--config", c}).out);
    EXPECT_EQ(j["preflight"]["ok"], false);
  }
}

// --- fault injection: registry and trust changes (#37) --------------------------------------
//
// Every failpoint `bundle install`, `bundle remove` and the trust commands reach (listed through
// WASMCAP_FAILPOINT_TRACE, so a new step is covered as soon as it has a failpoint), armed in turn
// with ENOSPC, EIO and SIGKILL: afterwards the registry's SQLite index passes its integrity check,
// the old version still runs, the trust store still reads, and a retry of the command finishes
// with nothing left behind (no staged tree, no store tree without a row, no temporary key file).

// hello VERSION signed by `signer`'s key in `keys`, packed to keys/hello-VERSION.wcb.
std::string pack_version(const Home& keys, const std::string& signer, const std::string& version) {
  fs::copy_file(guest_path("hello"), keys.path("hello.wasm"), fs::copy_options::overwrite_existing);
  testing::write_text(keys.path("manifest.json"),
                      R"({"name":"hello","version":")" + version +
                          R"(","module":"hello.wasm","permissions":{"args":true,"env":["WHO"]}})");
  std::string out = keys.path("hello-" + version + ".wcb");
  ProcResult r = keys.cli({"bundle", "pack", "--manifest", keys.path("manifest.json"), "--key",
                           keys.path("keys/" + signer + ".key"), "--out", out});
  EXPECT_EQ(r.exit_code, 0) << describe(r);
  return out;
}

ProcResult faulted(const Home& h, const std::vector<std::string>& args, const std::string& failpoints,
                   const std::string& trace = "") {
  testing::ProcOptions o = h.opts();
  if (!failpoints.empty()) o.extra_env.emplace_back("WASMCAP_FAILPOINTS", failpoints);
  if (!trace.empty()) o.extra_env.emplace_back("WASMCAP_FAILPOINT_TRACE", trace);
  return run_cli(args, o);
}

// The distinct failpoints `args` reaches in `h` (in first-hit order) whose names start with one of
// `prefixes`; empty when wasmcap has no failpoints compiled in.
std::vector<std::string> failpoints_reached(const Home& h, const std::vector<std::string>& args,
                                            const std::vector<std::string>& prefixes) {
  const std::string trace = h.path("trace");
  fs::remove(trace);
  ProcResult r = faulted(h, args, "", trace);
  EXPECT_EQ(r.exit_code, 0) << describe(r);
  std::vector<std::string> out;
  for (const auto& name : testing::lines_of(testing::read_text(trace))) {
    bool wanted = false;
    for (const auto& p : prefixes) wanted = wanted || starts_with(name, p);
    if (wanted && std::find(out.begin(), out.end(), name) == out.end()) out.push_back(name);
  }
  return out;
}

void expect_registry_intact(const Home& h) {
  const std::string db = h.path("home/registry/index.sqlite3");
  if (::access("/usr/bin/sqlite3", X_OK) == 0 && fs::exists(db)) {
    testing::ProcOptions o;
    ProcResult ic = testing::run_process({"/usr/bin/sqlite3", db, "PRAGMA integrity_check;"}, o);
    EXPECT_EQ(ic.out, "ok\n") << describe(ic);
  }
  ProcResult list = h.cli({"bundle", "list", "--json"});
  EXPECT_EQ(list.exit_code, 0) << describe(list);
}

// Installed versions, from `bundle list --json`.
std::vector<std::string> installed_versions(const Home& h) {
  std::vector<std::string> out;
  ProcResult list = h.cli({"bundle", "list", "--json"});
  json j = json::parse(list.out, nullptr, false);
  if (!j.is_array()) return out;
  for (const auto& e : j) out.push_back(e["version"]);
  return out;
}

// No staged tree, and one store tree per installed version.
void expect_nothing_leaked(const Home& h) {
  std::error_code ec;
  size_t staged = 0, stored = 0;
  for (const auto& e : fs::directory_iterator(h.path("home/registry/tmp"), ec)) {
    (void)e;
    ++staged;
  }
  for (const auto& e : fs::directory_iterator(h.path("home/registry/store"), ec)) {
    (void)e;
    ++stored;
  }
  EXPECT_EQ(staged, 0u);
  EXPECT_EQ(stored, installed_versions(h).size());
}

void expect_runs(const Home& h, const std::string& ref) {
  ProcResult r = h.cli({"run", "--env", "WHO=me", ref});
  EXPECT_EQ(r.exit_code, 0) << ref << ": " << describe(r);
  EXPECT_EQ(r.out, "hello from wasm\nWHO=me\n");
}

struct FaultCase {
  std::string point, action;
  std::string spec() const { return point + "=" + action; }
};

// One line per fault case on stdout, which ctest shows for a failed or timed-out test: how long
// each case and its faulted run took, so a slow or stuck case is named in the CI log.
class CaseLog {
 public:
  CaseLog(std::string what, size_t index, size_t count)
      : what_(std::move(what)), index_(index), count_(count), start_(std::chrono::steady_clock::now()) {}
  void faulted(const ProcResult& r) { faulted_ms_ = r.wall_ms; }
  ~CaseLog() {
    double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start_).count();
    std::printf("[case %zu/%zu] %s: %.0f ms (the faulted run %.0f ms)\n", index_ + 1, count_, what_.c_str(),
                ms, faulted_ms_);
    std::fflush(stdout);
  }

 private:
  std::string what_;
  size_t index_, count_;
  std::chrono::steady_clock::time_point start_;
  double faulted_ms_ = 0;
};

// Every failpoint with every action (ENOSPC, EIO, SIGKILL) in the Release run. Under the
// sanitizers, whose child runs are 3-5x slower, each failpoint gets one action, in turn, so that
// every point and every action still run there (the point of that run is memory errors on the
// failure paths) within the tests' bound.
std::vector<FaultCase> cases_for(const std::vector<std::string>& points) {
  static constexpr const char* kActions[] = {"enospc", "eio", "kill"};
  std::vector<FaultCase> out;
  for (size_t i = 0; i < points.size(); ++i) {
#if defined(__SANITIZE_ADDRESS__)
    out.push_back({points[i], kActions[i % 3]});
#else
    for (const char* a : kActions) out.push_back({points[i], a});
#endif
  }
  return out;
}

TEST(Faults, BundleInstallAndRemoveAtEveryFailpoint) {
  Home keys;
  keys.keygen("acme");
  const std::string v1 = pack_version(keys, "acme", "1.0.0"), v2 = pack_version(keys, "acme", "1.1.0");
  auto prepare = [&](bool with_v2) {
    auto h = std::make_unique<Home>();
    EXPECT_EQ(h->cli({"trust", "add", keys.path("keys/acme.pub")}).exit_code, 0);
    EXPECT_EQ(h->cli({"bundle", "install", v1}).exit_code, 0);
    if (with_v2) {
      EXPECT_EQ(h->cli({"bundle", "install", v2}).exit_code, 0);
    }
    return h;
  };
  // Each case starts from a copy of one of these (Home::copy_of).
  const auto with_v1 = prepare(false), with_both = prepare(true);
  auto fresh = [&](bool with_v2) { return Home::copy_of(with_v2 ? *with_both : *with_v1); };
  std::vector<std::string> install_points, remove_points;
  {
    auto h = fresh(false);
    install_points = failpoints_reached(*h, {"bundle", "install", v2}, {"registry.", "audit."});
    remove_points = failpoints_reached(*h, {"bundle", "remove", "hello@1.1.0"}, {"registry.", "audit."});
  }
  if (install_points.empty()) GTEST_SKIP() << "wasmcap built without WASMCAP_FAILPOINTS=ON";
  for (const char* step : {"registry.install.write", "registry.install.rename", "registry.install.commit"}) {
    EXPECT_NE(std::find(install_points.begin(), install_points.end(), step), install_points.end()) << step;
  }
  EXPECT_NE(std::find(remove_points.begin(), remove_points.end(), "registry.remove.commit"), remove_points.end());

  const auto install_cases = cases_for(install_points), remove_cases = cases_for(remove_points);
  for (size_t i = 0; i < install_cases.size(); ++i) {
    const FaultCase& c = install_cases[i];
    SCOPED_TRACE("bundle install at " + c.spec());
    CaseLog log("bundle install at " + c.spec(), i, install_cases.size());
    auto h = fresh(false);
    ProcResult r = faulted(*h, {"bundle", "install", v2}, c.spec());
    log.faulted(r);
    if (c.action == "kill") {
      EXPECT_EQ(r.term_signal, SIGKILL) << describe(r);
    }
    if (c.action != "kill" && r.exit_code != 0) {
      EXPECT_NE(r.err.find(std::strerror(c.action == "enospc" ? ENOSPC : EIO)), std::string::npos) << r.err;
    }
    expect_registry_intact(*h);
    expect_runs(*h, "hello@1.0.0");  // the old version stays usable
    ProcResult retry = h->cli({"bundle", "install", v2});
    EXPECT_EQ(retry.exit_code, 0) << describe(retry);
    EXPECT_EQ(installed_versions(*h), (std::vector<std::string>{"1.0.0", "1.1.0"}));
    expect_runs(*h, "hello");
    expect_nothing_leaked(*h);
  }
  for (size_t i = 0; i < remove_cases.size(); ++i) {
    const FaultCase& c = remove_cases[i];
    SCOPED_TRACE("bundle remove at " + c.spec());
    CaseLog log("bundle remove at " + c.spec(), i, remove_cases.size());
    auto h = fresh(true);
    ProcResult r = faulted(*h, {"bundle", "remove", "hello@1.1.0"}, c.spec());
    log.faulted(r);
    if (c.action == "kill") {
      EXPECT_EQ(r.term_signal, SIGKILL) << describe(r);
    }
    expect_registry_intact(*h);
    expect_runs(*h, "hello@1.0.0");
    ProcResult retry = h->cli({"bundle", "remove", "hello@1.1.0"});
    EXPECT_TRUE(retry.exit_code == 0 || retry.exit_code == 66) << describe(retry);
    EXPECT_EQ(installed_versions(*h), std::vector<std::string>{"1.0.0"});
    // A tree a kill left after the commit goes with the next change's garbage collection.
    ASSERT_EQ(h->cli({"bundle", "install", v2}).exit_code, 0);
    expect_nothing_leaked(*h);
  }
}

// Starts `wasmcap ARGS` with $WASMCAP_HOME of `h`, output discarded; returns its pid.
pid_t spawn_cli(const Home& h, const std::vector<std::string>& args) {
  pid_t pid = ::fork();
  if (pid == 0) {
    int null = ::open("/dev/null", O_RDWR);
    ::dup2(null, 0);
    ::dup2(null, 1);
    ::dup2(null, 2);
    ::setenv("WASMCAP_HOME", h.path("home").c_str(), 1);
    std::vector<std::string> argv{testing::cli_path()};
    argv.insert(argv.end(), args.begin(), args.end());
    std::vector<char*> cargv;
    for (auto& a : argv) cargv.push_back(a.data());
    cargv.push_back(nullptr);
    ::execv(cargv[0], cargv.data());
    ::_exit(127);
  }
  return pid;
}

// Random kills per command: 25 (#37's fault-run criterion) in the Release run; 4 under the
// sanitizers, whose runs are 3-5x slower (25 would pass the tests' 120 s bound), and where the
// point is memory errors on the interrupted paths, not the count.
#if defined(__SANITIZE_ADDRESS__)
constexpr int kRandomKills = 4;
#else
constexpr int kRandomKills = 25;
#endif

// Kills `args`, each time in a home `fresh()` makes, at `kills` random moments within the
// command's measured duration (SIGKILL; every fourth a SIGINT, as a Ctrl-C), then calls
// `check(home)`, which verifies the state and finishes the command. In addition to the
// failpoints, which need a build that has them. Returns how many runs the signal ended.
int kill_at_random_moments(const std::function<std::unique_ptr<Home>()>& fresh,
                           const std::vector<std::string>& args, uint32_t seed,
                           const std::function<void(Home&)>& check, int kills = kRandomKills) {
  double wall_ms;
  {
    auto h = fresh();
    ProcResult r = h->cli(args);
    EXPECT_EQ(r.exit_code, 0) << describe(r);
    wall_ms = r.wall_ms;
  }
  std::mt19937 rng(seed);
  int killed = 0;
  for (int i = 0; i < kills; ++i) {
    auto h = fresh();
    const auto delay_us = static_cast<useconds_t>(std::uniform_real_distribution<double>(0, wall_ms)(rng) * 1000);
    const int sig = i % 4 == 3 ? SIGINT : SIGKILL;
    SCOPED_TRACE(args[0] + " " + args[1] + ": signal " + std::to_string(sig) + " after " +
                 std::to_string(delay_us) + " us of ~" + std::to_string(wall_ms) + " ms");
    pid_t pid = spawn_cli(*h, args);
    ::usleep(delay_us);
    ::kill(pid, sig);
    int status = 0;
    ::waitpid(pid, &status, 0);
    killed += WIFSIGNALED(status);
    check(*h);
  }
  return killed;
}

// 25 random kills of `bundle install`: each leaves a registry that passes its integrity check,
// runs the old version, and finishes the install on a retry.
TEST(Faults, BundleInstallKilledAtRandomMoments) {
  Home keys;
  keys.keygen("acme");
  const std::string v1 = pack_version(keys, "acme", "1.0.0"), v2 = pack_version(keys, "acme", "1.1.0");
  auto fresh = [&] {
    auto h = std::make_unique<Home>();
    EXPECT_EQ(h->cli({"trust", "add", keys.path("keys/acme.pub")}).exit_code, 0);
    EXPECT_EQ(h->cli({"bundle", "install", v1}).exit_code, 0);
    return h;
  };
  int killed = kill_at_random_moments(fresh, {"bundle", "install", v2}, 37, [&](Home& h) {
    expect_registry_intact(h);
    expect_runs(h, "hello@1.0.0");
    ProcResult retry = h.cli({"bundle", "install", v2});
    EXPECT_EQ(retry.exit_code, 0) << describe(retry);
    EXPECT_EQ(installed_versions(h), (std::vector<std::string>{"1.0.0", "1.1.0"}));
    expect_runs(h, "hello");
    expect_nothing_leaked(h);
  });
  EXPECT_GT(killed, 0);
}

// 25 random kills of `bundle remove`: the registry passes its integrity check, the other version
// runs, the retry finishes the removal (or finds it done), and the next change leaves nothing
// behind.
TEST(Faults, BundleRemoveKilledAtRandomMoments) {
  Home keys;
  keys.keygen("acme");
  const std::string v1 = pack_version(keys, "acme", "1.0.0"), v2 = pack_version(keys, "acme", "1.1.0");
  auto fresh = [&] {
    auto h = std::make_unique<Home>();
    EXPECT_EQ(h->cli({"trust", "add", keys.path("keys/acme.pub")}).exit_code, 0);
    EXPECT_EQ(h->cli({"bundle", "install", v1}).exit_code, 0);
    EXPECT_EQ(h->cli({"bundle", "install", v2}).exit_code, 0);
    return h;
  };
  int killed = kill_at_random_moments(fresh, {"bundle", "remove", "hello@1.1.0"}, 38, [&](Home& h) {
    expect_registry_intact(h);
    expect_runs(h, "hello@1.0.0");
    ProcResult retry = h.cli({"bundle", "remove", "hello@1.1.0"});
    EXPECT_TRUE(retry.exit_code == 0 || retry.exit_code == 66) << describe(retry);
    EXPECT_EQ(installed_versions(h), std::vector<std::string>{"1.0.0"});
    ASSERT_EQ(h.cli({"bundle", "install", v2}).exit_code, 0);
    expect_nothing_leaked(h);
  });
  EXPECT_GT(killed, 0);
}

// The trust store after a fault: readable (no torn or half-written key file under a .pub name).
json trust_list(const Home& h) {
  ProcResult r = h.cli({"trust", "list", "--json"});
  EXPECT_EQ(r.exit_code, 0) << describe(r);
  return json::parse(r.out, nullptr, false);
}

void expect_no_temporaries(const Home& h) {
  std::error_code ec;
  for (const auto& e : fs::recursive_directory_iterator(h.path("home/trust"), ec)) {
    EXPECT_EQ(e.path().extension(), e.is_directory() ? "" : ".pub") << e.path();
  }
}

// The trust changes under fault: a signer key, a bundle it signed, and each command with the
// store's state before it and the status it leaves.
struct TrustFaults {
  struct Command {
    std::vector<std::string> args;
    bool trusted_before;
    std::string status_after;  // "trusted", "revoked" or "" (not listed)
  };
  Home keys;
  std::string wcb, pub, id;
  std::vector<Command> commands;

  TrustFaults() {
    keys.keygen("acme");
    wcb = pack_version(keys, "acme", "1.0.0");
    pub = keys.path("keys/acme.pub");
    Home h;
    EXPECT_EQ(h.cli({"trust", "add", pub}).exit_code, 0);
    id = trust_list(h)[0]["id"];
    commands = {{{"trust", "add", pub}, false, "trusted"},
                {{"trust", "revoke", id}, true, "revoked"},
                {{"trust", "remove", id}, true, ""}};
  }
  // A home with the bundle installed and its signer trusted (or not, removed again): a copy of
  // one prepared once for each state (Home::copy_of).
  std::unique_ptr<Home> fresh(const Command& cmd) {
    std::unique_ptr<Home>& prepared = cmd.trusted_before ? trusted_ : untrusted_;
    if (!prepared) {
      prepared = std::make_unique<Home>();
      EXPECT_EQ(prepared->cli({"trust", "add", pub}).exit_code, 0);
      EXPECT_EQ(prepared->cli({"bundle", "install", wcb}).exit_code, 0);
      if (!cmd.trusted_before) {
        EXPECT_EQ(prepared->cli({"trust", "remove", id}).exit_code, 0);
      }
    }
    return Home::copy_of(*prepared);
  }
  // After an interrupted `cmd`: the store reads, the bundle runs exactly when its signer is
  // listed as trusted and not revoked, the retry reaches the command's result and no temporary
  // is left.
  static void expect_recovers(Home& h, const Command& cmd) {
    json before = trust_list(h);
    ASSERT_TRUE(before.is_array());
    bool trusted = false, revoked = false;
    for (const auto& k : before) {
      trusted = trusted || k["status"] == "trusted";
      revoked = revoked || k["status"] == "revoked";
    }
    ProcResult run = h.cli({"run", "--env", "WHO=me", "hello"});
    EXPECT_EQ(run.exit_code, trusted && !revoked ? 0 : 77) << before.dump() << describe(run);
    ProcResult retry = h.cli(cmd.args);
    EXPECT_TRUE(retry.exit_code == 0 || (cmd.args[1] == "remove" && retry.exit_code == 66))
        << describe(retry);
    json after = trust_list(h);
    if (cmd.status_after.empty()) {
      EXPECT_TRUE(after.empty()) << after.dump();
    } else {
      ASSERT_EQ(after.size(), 1u) << after.dump();
      EXPECT_EQ(after[0]["status"], cmd.status_after);
    }
    expect_no_temporaries(h);
  }

 private:
  std::unique_ptr<Home> trusted_, untrusted_;
};

TEST(Faults, TrustChangesAtEveryFailpoint) {
  TrustFaults t;
  bool any = false;
  for (const auto& cmd : t.commands) {
    std::vector<std::string> points;
    {
      auto h = t.fresh(cmd);
      points = failpoints_reached(*h, cmd.args, {"trust.", "audit."});
    }
    if (points.empty()) continue;
    any = true;
    const auto cases = cases_for(points);
    for (size_t i = 0; i < cases.size(); ++i) {
      const FaultCase& c = cases[i];
      SCOPED_TRACE(cmd.args[1] + " at " + c.spec());
      CaseLog log("trust " + cmd.args[1] + " at " + c.spec(), i, cases.size());
      auto h = t.fresh(cmd);
      ProcResult r = faulted(*h, cmd.args, c.spec());
      log.faulted(r);
      if (c.action == "kill") {
        EXPECT_EQ(r.term_signal, SIGKILL) << describe(r);
      }
      TrustFaults::expect_recovers(*h, cmd);
    }
  }
  if (!any) GTEST_SKIP() << "wasmcap built without WASMCAP_FAILPOINTS=ON";
}

// 25 random kills of each trust change (add, revoke, remove), checked as above.
TEST(Faults, TrustChangesKilledAtRandomMoments) {
  TrustFaults t;
  uint32_t seed = 40;
  for (const auto& cmd : t.commands) {
    kill_at_random_moments([&] { return t.fresh(cmd); }, cmd.args, seed++,
                           [&](Home& h) { TrustFaults::expect_recovers(h, cmd); });
  }
}

// #37: a trust write killed between its temporary and the rename left ID.pub.tmp for good (a
// retry of the same command reused the name; any other change did not look). Now every change
// removes the temporaries of killed changes, in trust/ and trust/revoked/, under the store's lock.
TEST(Faults, TrustChangesSweepKilledTemporaries) {
  Home keys;
  keys.keygen("acme");
  keys.keygen("other");
  Home h;
  ProcResult traced = faulted(h, {"trust", "add", keys.path("keys/acme.pub")}, "", h.path("trace"));
  ASSERT_EQ(traced.exit_code, 0) << describe(traced);
  if (testing::read_text(h.path("trace")).find("trust.add.rename") == std::string::npos) {
    GTEST_SKIP() << "wasmcap built without WASMCAP_FAILPOINTS=ON (scripts/test.sh turns it on)";
  }
  ASSERT_EQ(h.cli({"trust", "remove", trust_list(h)[0]["id"]}).exit_code, 0);
  auto temporaries = [&] {
    std::vector<std::string> out;
    std::error_code ec;
    for (const auto& e : fs::recursive_directory_iterator(h.path("home/trust"), ec)) {
      const std::string rel = fs::relative(e.path(), h.path("home/trust")).string();
      if (rel.find(".pub.tmp") != std::string::npos) out.push_back(rel);
    }
    return out;
  };
  // A revoke (in advance, of a key never trusted) killed before its rename leaves
  // revoked/OTHER.pub.tmp; the next change, of another key, removes it.
  ProcResult k1 = faulted(h, {"trust", "revoke", keys.path("keys/other.pub")}, "trust.revoke.rename=kill");
  EXPECT_EQ(k1.term_signal, SIGKILL) << describe(k1);
  ASSERT_EQ(temporaries().size(), 1u) << "the kill left no temporary for this test to sweep";
  EXPECT_EQ(temporaries()[0].rfind("revoked/", 0), 0u) << temporaries()[0];
  ProcResult add = h.cli({"trust", "add", keys.path("keys/acme.pub")});
  EXPECT_EQ(add.exit_code, 0) << describe(add);
  EXPECT_EQ(temporaries(), std::vector<std::string>{});
  // An add killed the same way leaves trust/OTHER.pub.tmp; a remove of another key removes it.
  ProcResult k2 = faulted(h, {"trust", "add", keys.path("keys/other.pub")}, "trust.add.rename=kill");
  EXPECT_EQ(k2.term_signal, SIGKILL) << describe(k2);
  ASSERT_EQ(temporaries().size(), 1u);
  ProcResult rm = h.cli({"trust", "remove", trust_list(h)[0]["id"]});
  EXPECT_EQ(rm.exit_code, 0) << describe(rm);
  EXPECT_EQ(temporaries(), std::vector<std::string>{});
  expect_no_temporaries(h);
  EXPECT_TRUE(trust_list(h).empty()) << trust_list(h).dump();
}

// --- audit ----------------------------------------------------------------------------------------

// --- record or refuse (#37) ------------------------------------------------------------------

// A hello manifest and a host config whose audit.file is `log` (on_failure: "" = not set).
void audited_hello(const Home& h, const std::string& log, const std::string& on_failure = "") {
  fs::copy_file(guest_path("hello"), h.path("hello.wasm"), fs::copy_options::overwrite_existing);
  testing::write_text(h.path("m.json"),
                      R"({"name":"hello","version":"1.0.0","module":"hello.wasm","permissions":{"args":true}})");
  testing::write_text(h.path("c.json"),
                      R"({"plugins":{"hello":{}},"audit":{"file":")" + log + "\"" +
                          (on_failure.empty() ? "" : R"(,"on_failure":")" + on_failure + "\"") + "}}");
}

ProcResult run_hello(const Home& h, const std::string& failpoints = "",
                     const std::string& trace = "") {
  testing::ProcOptions o = h.opts();
  if (!failpoints.empty()) o.extra_env.emplace_back("WASMCAP_FAILPOINTS", failpoints);
  if (!trace.empty()) o.extra_env.emplace_back("WASMCAP_FAILPOINT_TRACE", trace);
  return run_cli({"run", "--manifest", h.path("m.json"), "--config", h.path("c.json"), "x"}, o);
}

// Every line of an audit file is one whole JSON record.
void expect_whole_lines(const std::string& text) {
  EXPECT_TRUE(text.empty() || text.back() == '\n') << text;
  for (const auto& l : testing::lines_of(text)) {
    EXPECT_FALSE(json::parse(l, nullptr, false).is_discarded()) << "torn line: " << l;
  }
}

// Before: with the audit file's disk full, runs exited 0 and did their work unrecorded. Now the
// run_start record is written before the guest starts, or the run does not start (74); a run
// whose run_end record fails exits 74 with a warning; a kill at the write leaves no work done.
TEST(CliAudit, RunIsRecordedBeforeItStartsOrRefused) {
  Home h;
  const std::string log = h.path("audit.jsonl");
  audited_hello(h, log);
  ProcResult traced = run_hello(h, "", h.path("trace"));
  ASSERT_EQ(traced.exit_code, 0) << describe(traced);
  if (testing::read_text(h.path("trace")).find("audit.write.append") == std::string::npos) {
    GTEST_SKIP() << "wasmcap built without WASMCAP_FAILPOINTS=ON (scripts/test.sh turns it on)";
  }
  for (const char* action : {"enospc", "eio"}) {
    SCOPED_TRACE(action);
    const std::string before = testing::read_text(log);
    ProcResult r = run_hello(h, std::string("audit.write.append=") + action);
    EXPECT_EQ(r.exit_code, 74) << describe(r);
    EXPECT_EQ(r.out.find("hello from wasm"), std::string::npos) << "the guest ran: " << describe(r);
    EXPECT_NE(r.err.find("io_error: audit record not written to " + log), std::string::npos) << r.err;
    EXPECT_NE(r.err.find(std::strerror(std::string(action) == "enospc" ? ENOSPC : EIO)), std::string::npos)
        << r.err;
    EXPECT_NE(r.err.find("the run was not started"), std::string::npos) << r.err;
    EXPECT_EQ(testing::read_text(log), before);

    // The run_end record (the second write) fails: the guest ran, the run fails with a warning.
    ProcResult e = run_hello(h, std::string("audit.write.append=") + action + "@2");
    EXPECT_EQ(e.exit_code, 74) << describe(e);
    EXPECT_NE(e.out.find("hello from wasm"), std::string::npos) << describe(e);
    EXPECT_NE(e.err.find("warning: the run finished (status 0) but its run_end io_error: audit record not written"),
              std::string::npos)
        << e.err;
    auto lines = testing::lines_of(testing::read_text(log));
    ASSERT_FALSE(lines.empty());
    EXPECT_EQ(json::parse(lines.back())["event"], "run_start");
    expect_whole_lines(testing::read_text(log));
  }
  // Killed while writing the record before the run: nothing ran, nothing torn.
  const std::string before = testing::read_text(log);
  ProcResult k = run_hello(h, "audit.write.append=kill");
  EXPECT_EQ(k.term_signal, SIGKILL) << describe(k);
  EXPECT_EQ(k.out.find("hello from wasm"), std::string::npos) << describe(k);
  EXPECT_EQ(testing::read_text(log), before);
  // The retry.
  ProcResult ok = run_hello(h);
  EXPECT_EQ(ok.exit_code, 0) << describe(ok);
  expect_whole_lines(testing::read_text(log));
}

// audit.on_failure = "continue": the operator's explicit choice to run without the record, with
// a warning; an unknown value is a config error.
TEST(CliAudit, OnFailureContinueRunsWithAWarning) {
  Home h;
  const std::string log = h.path("audit.jsonl");
  audited_hello(h, log, "continue");
  ProcResult traced = run_hello(h, "", h.path("trace"));
  ASSERT_EQ(traced.exit_code, 0) << describe(traced);
  if (testing::read_text(h.path("trace")).find("audit.write.append") == std::string::npos) {
    GTEST_SKIP() << "wasmcap built without WASMCAP_FAILPOINTS=ON (scripts/test.sh turns it on)";
  }
  ProcResult r = run_hello(h, "audit.write.append=enospc");
  EXPECT_EQ(r.exit_code, 0) << describe(r);
  EXPECT_NE(r.out.find("hello from wasm"), std::string::npos);
  EXPECT_NE(r.err.find("warning: audit record not written"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("audit.on_failure is \"continue\""), std::string::npos) << r.err;
  audited_hello(h, log, "ignore");
  ProcResult bad = run_hello(h);
  EXPECT_EQ(bad.exit_code, 78) << describe(bad);
  EXPECT_NE(bad.err.find("$.audit.on_failure"), std::string::npos) << bad.err;
}

// Many runs at once on one audit file, half of them killed at varying moments: no two records
// are ever glued, a torn line (a kill inside a record's write) is at most one per killed run and
// ended by the next record, and every run whose guest printed anything has its run_start.
TEST(CliAudit, ConcurrentRunsAndKillsNeverLoseOrGlueRecords) {
  Home h;
  const std::string log = h.path("audit.jsonl");
  audited_hello(h, log);
  constexpr int kRuns = 16;
  std::vector<pid_t> pids;
  for (int i = 0; i < kRuns; ++i) {
    pid_t pid = ::fork();
    if (pid == 0) {
      int out = ::open(h.path("out-" + std::to_string(i)).c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
      int null = ::open("/dev/null", O_WRONLY);
      ::dup2(out, 1);
      ::dup2(null, 2);
      ::setenv("WASMCAP_HOME", h.path("home").c_str(), 1);
      std::string id = "run-" + std::to_string(i);
      ::execl(testing::cli_path().c_str(), "wasmcap", "run", "--engine", "interp", "--manifest",
              h.path("m.json").c_str(), "--config", h.path("c.json").c_str(), "--invocation-id",
              id.c_str(), "x", static_cast<char*>(nullptr));
      ::_exit(127);
    }
    pids.push_back(pid);
  }
  for (int i = 0; i < kRuns; i += 2) {
    ::usleep(static_cast<useconds_t>(1500 * i));
    ::kill(pids[i], SIGKILL);
  }
  for (pid_t pid : pids) {
    int status = 0;
    ::waitpid(pid, &status, 0);
  }
  const std::string text = testing::read_text(log);
  std::set<std::string> started;
  int torn = 0;
  for (const auto& l : testing::lines_of(text)) {
    json j = json::parse(l, nullptr, false);
    if (j.is_discarded()) {
      ++torn;
      EXPECT_EQ(l.find("}{"), std::string::npos) << "glued records: " << l;
      continue;
    }
    if (j["event"] == "run_start") started.insert(j["invocation_id"]);
  }
  EXPECT_LE(torn, kRuns / 2);
  for (int i = 0; i < kRuns; ++i) {
    if (testing::read_text(h.path("out-" + std::to_string(i))).find("hello from wasm") == std::string::npos) continue;
    EXPECT_EQ(started.count("run-" + std::to_string(i)), 1u) << "run " << i << " ran unrecorded";
  }
  // The runs not killed are complete.
  for (int i = 1; i < kRuns; i += 2) EXPECT_EQ(started.count("run-" + std::to_string(i)), 1u) << i;
  // The next record starts a line of its own whatever the kills left.
  ProcResult ok = run_hello(h);
  EXPECT_EQ(ok.exit_code, 0) << describe(ok);
  EXPECT_EQ(json::parse(testing::lines_of(testing::read_text(log)).back())["event"], "run_end");
}

// The same on a real full disk: a 64 KiB tmpfs. Full: no run starts, the audit file is unchanged.
// With room for less than a record: the kernel writes part of it, the rest fails, and the part is
// truncated back (no torn line). Room for run_start but not run_end: the guest ran, the run
// fails with a warning, and run_start is the last (whole) line. Space freed: the retry works.
TEST(CliAudit, FullDiskRefusesRunsAndTearsNoLine) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to mount a small tmpfs";
  if (::unshare(CLONE_NEWNS) != 0) GTEST_SKIP() << "no mount namespace: " << std::strerror(errno);
  if (::mount("none", "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) {
    GTEST_SKIP() << "cannot make mounts private: " << std::strerror(errno);
  }
  Home h;
  const std::string disk = h.path("disk");
  fs::create_directories(disk);
  if (::mount("tmpfs", disk.c_str(), "tmpfs", 0, "size=64k") != 0) {
    GTEST_SKIP() << "cannot mount a tmpfs: " << std::strerror(errno);
  }
  struct Unmount {
    std::string d;
    ~Unmount() { ::umount2(d.c_str(), MNT_DETACH); }
  } unmount{disk};
  const std::string log = disk + "/audit.jsonl", filler = disk + "/filler";
  audited_hello(h, log);
  auto fill = [&] {  // fills the disk to the last byte
    std::ofstream f(filler, std::ios::binary | std::ios::app);
    std::string block(512, 'f');
    while (f.write(block.data(), block.size()) && f.flush()) {
    }
    std::ofstream(filler, std::ios::binary | std::ios::app) << 'f';  // partial blocks
  };
  // Learn the records' sizes from a run with room.
  ProcResult first = run_hello(h);
  ASSERT_EQ(first.exit_code, 0) << describe(first);
  auto first_lines = testing::lines_of(testing::read_text(log));
  ASSERT_EQ(first_lines.size(), 2u);
  const size_t start_len = first_lines[0].size() + 1;
  // Pads the log so that the last page of the file has exactly `room` bytes left.
  auto pad_to_room = [&](size_t room) {
    size_t size = fs::file_size(log);
    size_t target = (size / 4096 + 1) * 4096 - room;
    if (target < size + 12) target += 4096;
    std::ofstream(log, std::ios::app) << "{\"pad\":\"" << std::string(target - size - 11, 'p') << "\"}\n";
    ASSERT_EQ(fs::file_size(log), target);
  };

  std::string before;
  {
    SCOPED_TRACE("full, and the log's page full too");
    pad_to_room(0);
    fill();
    before = testing::read_text(log);
    ProcResult r = run_hello(h);
    EXPECT_EQ(r.exit_code, 74) << describe(r);
    EXPECT_EQ(r.out.find("hello from wasm"), std::string::npos) << describe(r);
    EXPECT_NE(r.err.find("No space left on device"), std::string::npos) << r.err;
    EXPECT_EQ(testing::read_text(log), before);
  }
  fs::remove(filler);
  {
    SCOPED_TRACE("room for part of run_start");
    pad_to_room(start_len / 2);
    fill();
    before = testing::read_text(log);
    ProcResult r = run_hello(h);
    EXPECT_EQ(r.exit_code, 74) << describe(r);
    EXPECT_EQ(r.out.find("hello from wasm"), std::string::npos) << describe(r);
    EXPECT_NE(r.err.find("No space left on device"), std::string::npos) << r.err;
    EXPECT_EQ(testing::read_text(log), before) << "the partial record is truncated back";
  }
  fs::remove(filler);
  {
    SCOPED_TRACE("room for run_start, not run_end");
    pad_to_room(start_len + 16);
    fill();
    ProcResult r = run_hello(h);
    EXPECT_EQ(r.exit_code, 74) << describe(r);
    EXPECT_NE(r.out.find("hello from wasm"), std::string::npos) << describe(r);
    EXPECT_NE(r.err.find("warning: the run finished (status 0) but its run_end"), std::string::npos) << r.err;
    auto lines = testing::lines_of(testing::read_text(log));
    EXPECT_EQ(json::parse(lines.back())["event"], "run_start");
    expect_whole_lines(testing::read_text(log));
  }
  fs::remove(filler);
  ProcResult ok = run_hello(h);
  EXPECT_EQ(ok.exit_code, 0) << describe(ok);
  auto lines = testing::lines_of(testing::read_text(log));
  EXPECT_EQ(json::parse(lines.back())["event"], "run_end");
  expect_whole_lines(testing::read_text(log));
}

TEST(CliAudit, RunStartAndEndAreAuditedAndQueryable) {
  Home h;
  fs::copy_file(guest_path("hello"), h.path("hello.wasm"));
  testing::write_text(h.path("m.json"),
                      R"({"name":"hello","version":"1.0.0","module":"hello.wasm",)"
                      R"("permissions":{"args":true,"env":["WHO"]}})");
  std::string log = h.path("audit.jsonl");
  testing::write_text(h.path("c.json"), R"({"plugins":{"hello":{"grants":{"env":{"WHO":"s3cret-value"}}}},)"
                                        R"("audit":{"file":")" + log + R"("}})");
  ProcResult r = h.cli({"run", "--manifest", h.path("m.json"), "--config", h.path("c.json"),
                        "--invocation-id", "tool-call-7", "x"});
  ASSERT_EQ(r.exit_code, 0) << describe(r);
  auto lines = testing::lines_of(testing::read_text(log));
  ASSERT_EQ(lines.size(), 2u) << testing::read_text(log);
  json start = json::parse(lines[0]), end = json::parse(lines[1]);
  EXPECT_EQ(start["event"], "run_start");
  EXPECT_EQ(start["plugin"], "hello");
  EXPECT_EQ(start["version"], "1.0.0");
  EXPECT_EQ(start["invocation_id"], "tool-call-7");
  EXPECT_EQ(start["engine"], testing::test_engine_name());
  EXPECT_EQ(start["module_sha256"].get<std::string>().size(), 64u);
  EXPECT_EQ(start["grants"]["env"][0], "WHO");
  EXPECT_EQ(start["grants"]["args"], true);
  EXPECT_EQ(end["event"], "run_end");
  // The engine that ran, by the name it was asked for ("interp" is one engine everywhere).
  EXPECT_EQ(end["engine"], start["engine"]);
  EXPECT_EQ(end["outcome"], "exit");
  EXPECT_EQ(end["exit_code"], 0);
  EXPECT_TRUE(end["limit_hit"].is_null());
  EXPECT_EQ(testing::read_text(log).find("s3cret-value"), std::string::npos) << "env values are not audited";

  // A limit hit is named.
  ProcResult spin = h.cli({"run", "--manifest", h.path("m.json"), "--config", h.path("c.json"),
                           "--timeout-ms", "50", guest_path("spin")});
  EXPECT_EQ(spin.exit_code, 82) << describe(spin);
  json last = json::parse(testing::lines_of(testing::read_text(log)).back());
  EXPECT_EQ(last["outcome"], "error");
  EXPECT_EQ(last["limit_hit"], "deadline_exceeded");

  // Query.
  ProcResult q = h.cli({"audit", log, "--event", "run_end", "--json"});
  ASSERT_EQ(q.exit_code, 0) << describe(q);
  EXPECT_EQ(testing::lines_of(q.out).size(), 2u) << q.out;
  EXPECT_EQ(testing::lines_of(h.cli({"audit", log, "--invocation-id", "tool-call-7", "--json"}).out).size(), 2u);
  EXPECT_EQ(h.cli({"audit", log, "--plugin", "nope", "--json"}).out, "");
  EXPECT_EQ(testing::lines_of(h.cli({"audit", log, "--since", "1d", "--json"}).out).size(), 4u);
  EXPECT_EQ(h.cli({"audit", log, "--since", "2999-01-01", "--json"}).out, "");
  EXPECT_EQ(h.cli({"audit", "--config", h.path("c.json"), "--since", "2000-01-01T00:00", "--json"}).out,
            h.cli({"audit", log, "--json"}).out);
  ProcResult text = h.cli({"audit", log, "--event", "run_start"});
  EXPECT_NE(text.out.find("run_start"), std::string::npos);
  EXPECT_NE(text.out.find("tool-call-7"), std::string::npos);
  expect_usage_error(h.cli({"audit", log, "--since", "yesterday"}), "--since");
  EXPECT_EQ(h.cli({"audit", h.path("missing.jsonl")}).exit_code, 66);
  // Hostile lines: skipped with a warning; control bytes in fields are escaped in text output.
  std::ofstream(log, std::ios::app) << "not json\n"
                                    << R"({"event":"run_start","plugin":"\u001b[2Jevil","time":"2030-01-01T00:00:00.000Z"})" << "\n";
  ProcResult hostile = h.cli({"audit", log, "--event", "run_start"});
  EXPECT_EQ(hostile.exit_code, 0);
  EXPECT_NE(hostile.err.find("skipped 1 malformed"), std::string::npos) << hostile.err;
  EXPECT_EQ(hostile.out.find('\x1b'), std::string::npos);
  EXPECT_NE(hostile.out.find("\\x1b[2Jevil"), std::string::npos) << hostile.out;
}

TEST(CliAudit, UnwritableAuditFileStopsTheRunBeforeItStarts) {
  Home h;
  fs::copy_file(guest_path("hello"), h.path("hello.wasm"));
  testing::write_text(h.path("m.json"), R"({"name":"hello","version":"1.0.0","module":"hello.wasm"})");
  testing::write_text(h.path("c.json"), R"({"plugins":{"hello":{}},"audit":{"file":")" +
                                            h.path("no-such-dir/audit.jsonl") + R"("}})");
  ProcResult r = h.cli({"run", "--manifest", h.path("m.json"), "--config", h.path("c.json")});
  EXPECT_EQ(r.exit_code, 74) << describe(r);
  EXPECT_EQ(r.out, "") << "the guest must not have run";
}

TEST(CliAudit, RegistryAndTrustChangesAreAudited) {
  Home h;
  h.keygen("acme");
  ASSERT_EQ(h.cli({"trust", "add", h.path("keys/acme.pub")}).exit_code, 0);
  ASSERT_EQ(h.cli({"bundle", "install", h.pack_hello("acme")}).exit_code, 0);
  ASSERT_EQ(h.cli({"bundle", "remove", "hello"}).exit_code, 0);
  auto lines = testing::lines_of(testing::read_text(h.path("home/audit.jsonl")));
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(json::parse(lines[0])["event"], "trust_add");
  json inst = json::parse(lines[1]);
  EXPECT_EQ(inst["event"], "bundle_install");
  EXPECT_EQ(inst["plugin"], "hello");
  EXPECT_EQ(inst["version"], "1.2.3");
  EXPECT_EQ(inst["trust"], "trusted");
  EXPECT_EQ(json::parse(lines[2])["event"], "bundle_remove");
  ProcResult q = h.cli({"audit", "--event", "bundle_install"});
  EXPECT_NE(q.out.find("hello"), std::string::npos) << describe(q);
}

// --- flag https grants -------------------------------------------------------------------------------

TEST(CliAllowHttps, FlagGrantsAreTheWholeGrantAndAudited) {
  TempDir d;
  testing::write_text(d.path() / "tok", "flag-secret-value-93");
  std::string secret = "tok=" + (d.path() / "tok").string() + "@api.test";
  // other.test is not granted: refused by policy before any DNS or connection, audited.
  ProcResult r = run_cli({"run", "--allow-https", "api.test/v1/:GET,post", "--secret", secret,
                          guest_path("fetch"), "-H", "Authorization: secret:tok",
                          "https://other.test/v1/x"});
  EXPECT_EQ(r.exit_code, 1) << describe(r);
  EXPECT_NE(r.out.find("grant_denied"), std::string::npos) << r.out;
  // The run's records around its https event, all on stderr under one invocation id.
  const auto lines = testing::lines_of(r.err);
  ASSERT_EQ(lines.size(), 3u) << r.err;
  json start = json::parse(lines[0]), ev = json::parse(lines[1]), end = json::parse(lines[2]);
  EXPECT_EQ(start["event"], "run_start");
  EXPECT_EQ(start["grants"]["https"], json::array({"GET,POST api.test /v1/"})) << start.dump();
  EXPECT_EQ(start["grants"]["secrets"], json::array({"tok"})) << start.dump();
  EXPECT_EQ(ev["plugin"], "cli");
  EXPECT_EQ(ev["decision"], "denied");
  EXPECT_EQ(end["event"], "run_end");
  EXPECT_EQ(end["exit_code"], 1);
  EXPECT_EQ(start["invocation_id"], ev["invocation_id"]);
  EXPECT_EQ(start["invocation_id"], end["invocation_id"]);
  // A granted host, a path outside the prefix: denied too.
  ProcResult p = run_cli({"run", "--allow-https", "api.test/v1/", guest_path("fetch"), "https://api.test/v2/x"});
  EXPECT_EQ(p.exit_code, 1) << describe(p);
  EXPECT_NE(p.out.find("grant_denied"), std::string::npos) << p.out;
  EXPECT_EQ((r.out + r.err + p.out + p.err).find("flag-secret-value-93"), std::string::npos);
  // Without the flags, the module cannot import wasmcap_https at all.
  ProcResult none = run_cli({"run", guest_path("fetch"), "https://api.test/"});
  EXPECT_EQ(none.exit_code, 77) << describe(none);

  expect_usage_error(run_cli({"run", "--allow-https", "bad host", guest_path("fetch")}), "--allow-https");
  expect_usage_error(run_cli({"run", "--allow-https", "api.test:FETCH", guest_path("fetch")}), "FETCH");
  expect_usage_error(run_cli({"run", "--secret", secret, guest_path("fetch")}), "--allow-https");
  expect_usage_error(run_cli({"run", "--allow-https", "api.test", "--secret", "tok=x", guest_path("fetch")}),
                     "NAME=FILE@HOST");
  expect_usage_error(run_cli({"run", "--allow-https", "api.test", "--manifest", "m.json", "--config",
                              "c.json"}),
                     "host config");
}

// --- completions and man page ---------------------------------------------------------------------

TEST(CliGenerated, CompletionsAndManPageCoverEveryCommandAndOption) {
  ProcResult bash = run_cli({"completions", "bash"});
  ASSERT_EQ(bash.exit_code, 0) << describe(bash);
  TempDir d;
  testing::write_text(d.path() / "c.bash", bash.out);
  ProcResult syntax = testing::run_process({"/bin/bash", "-n", (d.path() / "c.bash").string()});
  EXPECT_EQ(syntax.exit_code, 0) << describe(syntax);
  // Completing "wasmcap bundle i" offers inspect and install; "wasmcap run --ti" offers --timeout-ms.
  testing::write_text(d.path() / "t.bash",
                      "source " + (d.path() / "c.bash").string() + "\n"
                      "COMP_WORDS=(wasmcap bundle i); COMP_CWORD=2; _wasmcap; echo \"${COMPREPLY[*]}\"\n"
                      "COMP_WORDS=(wasmcap run --ti); COMP_CWORD=2; _wasmcap; echo \"${COMPREPLY[*]}\"\n");
  ProcResult t = testing::run_process({"/bin/bash", (d.path() / "t.bash").string()});
  EXPECT_EQ(t.out, "install inspect\n--timeout-ms\n") << describe(t);
  ProcResult zsh = run_cli({"completions", "zsh"});
  EXPECT_NE(zsh.out.find("bashcompinit"), std::string::npos);

  ProcResult man = run_cli({"man"});
  ASSERT_EQ(man.exit_code, 0) << describe(man);
  EXPECT_TRUE(starts_with(man.out, ".\\\""));
  EXPECT_NE(man.out.find(".TH WASMCAP 1"), std::string::npos);
  for (const char* s : {"wasmcap run", "wasmcap bundle inspect", "wasmcap trust revoke",
                        "\\-\\-invocation\\-id", "\\-\\-max\\-output\\-bytes", "\\-\\-allow\\-untrusted"}) {
    EXPECT_NE(man.out.find(s), std::string::npos) << s;
  }
}

}  // namespace
}  // namespace wasmcap

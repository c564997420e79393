// CLI frictions of issue #16: the documented error format for usage errors, `help`, `run`
// argument splitting with --manifest, run --json and --invocation-id, the component message, the
// reactor hint, inspect/verify/compile --json, bundle pack with a public key, trust management,
// bundle inspect and plan --bundle, flag https grants, completions and the man page. The fault
// runs of the registry and trust changes: ecosystem_fault_test.cc; the audit log:
// ecosystem_audit_test.cc (the home they share: cli_home.h).
#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <functional>
#include <random>
#include <set>

#include "cli_home.h"
#include "wasmcap/bundle.h"
#include "wasmcap/runtime.h"

namespace wasmcap::cli_test {
namespace {

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
  // `run` runs WASI 0.2 commands (docs/components.md): one exporting no wasi:cli/run is not one.
  ProcResult empty = run_cli({"run", p});
  EXPECT_EQ(empty.exit_code, 67) << describe(empty);
  EXPECT_NE(empty.err.find("no_entry_point: the component exports no wasi:cli/run@0.2.x#run"),
            std::string::npos) << empty.err;
  // `inspect` describes it; `compile` compiles its core modules (here none: cli_components.sh
  // compiles a component that has some).
  ProcResult shown = run_cli({"inspect", p});
  EXPECT_EQ(shown.exit_code, 0) << describe(shown);
  EXPECT_NE(shown.out.find("imports (0):\nexports (0 functions):\ngrants its imports read: none"), std::string::npos)
      << shown.out;
  TempDir cache;
  ProcResult r = run_cli({"compile", "--cache-dir", cache.path().string(), p});
  EXPECT_EQ(r.exit_code, 0) << describe(r);
  EXPECT_NE(r.out.find("embeds no core module: nothing to compile"), std::string::npos) << r.out;
  // A component is decoded: what it imports is named (docs/components.md), and `run` names what
  // the host does not serve (here a type import, not an interface) before anything runs...
  std::string imports("\0asm\x0d\0\x01\0", 8);
  imports += std::string("\x0a\x1a\x01\x00\x15" "wasi:cli/stdout@0.2.0" "\x03\x01", 28);
  testing::write_text(p, imports);
  ProcResult listed = run_cli({"inspect", p});
  EXPECT_EQ(listed.exit_code, 0) << describe(listed);
  EXPECT_NE(listed.out.find("imports (1):\n  wasi:cli/stdout@0.2.0\nnot served by wasmcap's WASI 0.2 host (a run "
                            "is refused):\n  \"wasi:cli/stdout@0.2.0\" (type)"),
            std::string::npos)
      << listed.out;
  ProcResult unserved = run_cli({"run", p});
  EXPECT_EQ(unserved.exit_code, 67) << describe(unserved);
  EXPECT_NE(unserved.err.find("does not provide: \"wasi:cli/stdout@0.2.0\" (type)"), std::string::npos)
      << unserved.err;
  // ... and a malformed one gets the decoder's error, with its offset.
  testing::write_text(p, std::string("\0asm\x0d\0\x01\0\x07\x03\x01\x70\x05", 13));
  ProcResult bad = run_cli({"inspect", p});
  EXPECT_EQ(bad.exit_code, 65) << describe(bad);
  EXPECT_NE(bad.err.find("module_malformed: component: at byte 12: type index 5 is out of range"),
            std::string::npos) << bad.err;
  ProcResult bad_run = run_cli({"run", p});
  EXPECT_EQ(bad_run.exit_code, 65) << describe(bad_run);
  EXPECT_NE(bad_run.err.find("module_malformed: component: at byte 12"), std::string::npos) << bad_run.err;
  ProcResult bad_compile = run_cli({"compile", "--cache-dir", cache.path().string(), p});
  EXPECT_EQ(bad_compile.exit_code, 65) << describe(bad_compile);
  EXPECT_NE(bad_compile.err.find("module_malformed: component: at byte 12"), std::string::npos) << bad_compile.err;
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

// verify answers as install would: the trust store's keys are trusted without --trust, and a
// revoked key (store or host config) is refused even when --trust names it.
TEST(CliBundle, VerifyUsesTheTrustStoreAndItsRevocations) {
  Home h;
  h.keygen("acme");
  std::string wcb = h.pack_hello("acme");
  ProcResult none = h.cli({"bundle", "verify", wcb});
  EXPECT_EQ(none.exit_code, 77) << describe(none);
  EXPECT_NE(none.err.find("bundle_untrusted"), std::string::npos) << none.err;
  ASSERT_EQ(h.cli({"trust", "add", h.path("keys/acme.pub")}).exit_code, 0);
  ProcResult stored = h.cli({"bundle", "verify", "--json", wcb});
  ASSERT_EQ(stored.exit_code, 0) << describe(stored);
  EXPECT_EQ(json::parse(stored.out)["trusted"], true);
  std::string id = json::parse(stored.out)["signer_key_id"];

  // Revoked in the host config: refused, --trust or not.
  testing::write_text(h.path("revoke.json"), R"({"trust":{"revoked":[")" + id + R"("]}})");
  ProcResult by_config = h.cli({"bundle", "verify", wcb, "--config", h.path("revoke.json"),
                                "--trust", h.path("keys/acme.pub")});
  EXPECT_EQ(by_config.exit_code, 77) << describe(by_config);
  EXPECT_NE(by_config.err.find("bundle_revoked"), std::string::npos) << by_config.err;

  // Revoked in the store: the same.
  ASSERT_EQ(h.cli({"trust", "revoke", id}).exit_code, 0);
  ProcResult by_store = h.cli({"bundle", "verify", wcb, "--trust", h.path("keys/acme.pub")});
  EXPECT_EQ(by_store.exit_code, 77) << describe(by_store);
  EXPECT_NE(by_store.err.find("bundle_revoked"), std::string::npos) << by_store.err;
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
}  // namespace wasmcap::cli_test

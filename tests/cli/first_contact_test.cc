// What a new user meets first (issue #32): `wasmcap` alone, `wasmcap version`, `wasmcap mcp`
// serving nothing, the advice of a refused install. Each message says what to do next.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <chrono>
#include <string>

#include "cli_home.h"

namespace wasmcap::cli_test {
namespace {

bool has(const std::string& text, const std::string& needle) {
  return text.find(needle) != std::string::npos;
}

TEST(FirstContact, NoCommandPrintsTheUsage) {
  ProcResult r = run_cli({});
  EXPECT_EQ(r.exit_code, 64) << describe(r);  // a usage error, as documented
  EXPECT_TRUE(r.out.empty()) << r.out;
  // The command list, then the documented error line.
  EXPECT_TRUE(has(r.err, "Subcommands:")) << r.err;
  for (const char* c : {"run", "sh", "bundle", "mcp", "version"}) {
    EXPECT_TRUE(has(r.err, "\n  " + std::string(c) + " ")) << c << " missing:\n" << r.err;
  }
  EXPECT_TRUE(has(r.err, "wasmcap: error: invalid_argument: give a command")) << r.err;
}

TEST(FirstContact, VersionIsACommandToo) {
  ProcResult flag = run_cli({"--version"});
  ProcResult cmd = run_cli({"version"});
  EXPECT_EQ(cmd.exit_code, 0) << describe(cmd);
  EXPECT_EQ(cmd.out, flag.out);
  EXPECT_TRUE(cmd.err.empty()) << cmd.err;
  EXPECT_EQ(run_cli({"version", "extra"}).exit_code, 64);
}

TEST(FirstContact, McpServingNoToolsSaysWhy) {
  Home h;
  // No --config: nothing is granted. The server still serves (stdin at EOF ends it), and says so.
  ProcResult bare = h.cli({"mcp"});
  EXPECT_EQ(bare.exit_code, 0) << describe(bare);
  EXPECT_TRUE(has(bare.err, "wasmcap mcp: serving no tools: no --config given")) << bare.err;
  EXPECT_TRUE(has(bare.err, "Client configuration")) << bare.err;
  // A config that grants nothing: the other reason.
  testing::write_text(h.path("config.json"), "{}");
  ProcResult empty = h.cli({"mcp", "--config", h.path("config.json")});
  EXPECT_EQ(empty.exit_code, 0) << describe(empty);
  EXPECT_TRUE(has(empty.err, "serving no tools: no installed plugin is fully granted")) << empty.err;
}

TEST(FirstContact, AnUntrustedInstallNamesTheCommandThatTrusts) {
  Home h;
  ASSERT_EQ(h.cli({"bundle", "keygen", "--out", h.path("keys"), "--name", "acme"}).exit_code, 0);
  fs::copy_file(testing::guest_path("hello"), h.path("hello.wasm"));
  testing::write_text(h.path("manifest.json"),
                      R"({"name":"hello","version":"1.0.0","module":"hello.wasm"})");
  ASSERT_EQ(h.cli({"bundle", "pack", "--manifest", h.path("manifest.json"), "--key",
                   h.path("keys/acme.key"), "--out", h.path("hello.wcb")})
                .exit_code,
            0);
  ProcResult r = h.cli({"bundle", "install", h.path("hello.wcb")});
  EXPECT_EQ(r.exit_code, 77) << describe(r);
  EXPECT_TRUE(has(r.err, "run `wasmcap trust add SIGNER.pub`")) << r.err;
  // Doing what it says works.
  ASSERT_EQ(h.cli({"trust", "add", h.path("keys/acme.pub")}).exit_code, 0);
  ProcResult again = h.cli({"bundle", "install", h.path("hello.wcb")});
  EXPECT_EQ(again.exit_code, 0) << describe(again);
}

TEST(FirstContact, AnUnknownBundleNameSuggestsTheNearestInstalledOne) {
  Home h;
  ASSERT_EQ(h.cli({"bundle", "keygen", "--out", h.path("keys"), "--name", "acme"}).exit_code, 0);
  ASSERT_EQ(h.cli({"trust", "add", h.path("keys/acme.pub")}).exit_code, 0);
  fs::copy_file(testing::guest_path("hello"), h.path("hello.wasm"));
  testing::write_text(h.path("manifest.json"),
                      R"({"name":"hello","version":"1.0.0","module":"hello.wasm"})");
  ASSERT_EQ(h.cli({"bundle", "pack", "--manifest", h.path("manifest.json"), "--key",
                   h.path("keys/acme.key"), "--out", h.path("hello.wcb")})
                .exit_code,
            0);
  ASSERT_EQ(h.cli({"bundle", "install", h.path("hello.wcb")}).exit_code, 0);
  // A typo (a swap, a missing letter) names the installed bundle; a name far from any says how
  // to install one.
  for (const char* typo : {"hlelo", "hell", "helloo"}) {
    ProcResult r = h.cli({"run", typo});
    EXPECT_EQ(r.exit_code, 66) << describe(r);
    EXPECT_TRUE(has(r.err, "no installed bundle " + std::string(typo) + "; did you mean hello?"))
        << r.err;
  }
  ProcResult far = h.cli({"run", "coreutils"});
  EXPECT_EQ(far.exit_code, 66) << describe(far);
  EXPECT_FALSE(has(far.err, "did you mean")) << far.err;
  EXPECT_TRUE(has(far.err, "install it with: wasmcap bundle install FILE")) << far.err;
}

TEST(FirstContact, ShOperandsAreDollarZeroAndTheArgumentsAsInSh) {
  Home h;
  // -c SCRIPT NAME ARGS...: NAME is $0; everything after it is the script's, options included.
  ProcResult c = h.cli({"sh", "-c", "echo \"$0|$1|$2|$#\"", "name", "a b", "--dir"});
  EXPECT_EQ(c.exit_code, 0) << describe(c);
  EXPECT_EQ(c.out, "name|a b|--dir|2\n");
  ProcResult bare = h.cli({"sh", "-c", "echo \"$0|$#\""});
  EXPECT_EQ(bare.out, "sh|0\n") << describe(bare);
  // FILE ARGS...: $0 is FILE.
  testing::write_text(h.path("s.sh"), "echo \"$1-$2-$#\"\nshift\necho \"$@\"\n");
  ProcResult f = h.cli({"sh", h.path("s.sh"), "x", "--timeout-ms", "5"});
  EXPECT_EQ(f.exit_code, 0) << describe(f);
  EXPECT_EQ(f.out, "x---timeout-ms-3\n--timeout-ms 5\n");
}

TEST(FirstContact, ShWithNoCommandsSaysHowToInstallThem) {
  Home h;  // an empty registry
  ProcResult r = h.cli({"sh", "-c", "ls"});
  EXPECT_EQ(r.exit_code, 127) << describe(r);
  EXPECT_TRUE(has(r.err, "ls: command not found")) << r.err;
  EXPECT_TRUE(has(r.err, "wasmcap sh: no commands installed")) << r.err;
  EXPECT_TRUE(has(r.err, "`wasmcap setup` installs the bundles shipped with wasmcap")) << r.err;
  EXPECT_TRUE(has(r.err, "`wasmcap trust add SIGNER.pub` then `wasmcap bundle install")) << r.err;
  // Builtins alone need no commands: no note.
  ProcResult ok = h.cli({"sh", "-c", "echo hi"});
  EXPECT_EQ(ok.exit_code, 0) << describe(ok);
  EXPECT_TRUE(ok.err.empty()) << ok.err;
}

// A script whose tools reach no file because no directory was granted says why at the end
// (the interactive mode says it before the first prompt: tests/shell/interactive.py); a script
// that succeeds, or one given a directory, does not.
TEST(FirstContact, ShWithNoDirectorySaysSoWhenAScriptFails) {
  Home h;
  const std::string shipped =
      fs::path(testing::guest_path("hello")).parent_path().parent_path().string() + "/bundles";
  ASSERT_EQ(h.cli({"setup", "--from", shipped}).exit_code, 0);
  const std::string note = "wasmcap sh: no directory granted: commands reach no files; give --workspace NAME";
  ProcResult failed = h.cli({"sh", "-c", "cat notes.txt"});
  EXPECT_NE(failed.exit_code, 0) << describe(failed);
  EXPECT_TRUE(has(failed.err, note)) << failed.err;
  EXPECT_EQ(failed.err.find(note), failed.err.rfind(note)) << "once:\n" << failed.err;
  ProcResult ok = h.cli({"sh", "-c", "echo hi | wc -c"});
  EXPECT_EQ(ok.out, "3\n") << describe(ok);
  EXPECT_FALSE(has(ok.err, "no directory granted")) << ok.err;
  fs::create_directories(h.path("ws"));
  ProcResult granted = h.cli({"sh", "--dir", h.path("ws") + "::/work", "-c", "cat notes.txt"});
  EXPECT_NE(granted.exit_code, 0);
  EXPECT_FALSE(has(granted.err, "no directory granted")) << granted.err;
}

TEST(FirstContact, TrustRevokeCanBeUndoneAndIsRecorded) {
  Home h;
  ASSERT_EQ(h.cli({"bundle", "keygen", "--out", h.path("keys"), "--name", "acme"}).exit_code, 0);
  ASSERT_EQ(h.cli({"trust", "add", h.path("keys/acme.pub")}).exit_code, 0);
  ProcResult revoke = h.cli({"trust", "revoke", h.path("keys/acme.pub")});
  ASSERT_EQ(revoke.exit_code, 0) << describe(revoke);
  EXPECT_EQ(h.cli({"trust", "add", h.path("keys/acme.pub")}).exit_code, 77) << "revoked";
  auto listed = nlohmann::json::parse(h.cli({"trust", "list", "--json"}).out);
  ASSERT_EQ(listed.size(), 1u);
  ASSERT_EQ(listed[0]["status"], "revoked");
  std::string id = listed[0]["id"];
  ProcResult un = h.cli({"trust", "unrevoke", id});
  ASSERT_EQ(un.exit_code, 0) << describe(un);
  EXPECT_TRUE(has(un.out, "no longer revoked; it is not trusted either")) << un.out;
  EXPECT_TRUE(nlohmann::json::parse(h.cli({"trust", "list", "--json"}).out).empty())
      << "neither trusted nor revoked";
  EXPECT_FALSE(fs::exists(h.path("home/trust/revoked/" + id + ".pub")));
  // Trusting it again is an explicit add, which now works.
  EXPECT_EQ(h.cli({"trust", "add", h.path("keys/acme.pub")}).exit_code, 0);
  // Undoing what is not revoked is not_found, naming where it looked.
  ProcResult again = h.cli({"trust", "unrevoke", id});
  EXPECT_EQ(again.exit_code, 66) << describe(again);
  EXPECT_TRUE(has(again.err, "no revoked key with id")) << again.err;
  // Recorded, as every trust change.
  ProcResult audit = h.cli({"audit", "--event", "trust_unrevoke", "--json"});
  EXPECT_EQ(audit.exit_code, 0) << describe(audit);
  EXPECT_TRUE(has(audit.out, "\"event\":\"trust_unrevoke\"")) << audit.out;
  EXPECT_TRUE(has(audit.out, id)) << audit.out;
}

TEST(FirstContact, CacheListPruneClear) {
  Home h;
  const std::string dir = h.path("cache");
  fs::create_directory(dir);
  fs::permissions(dir, fs::perms::owner_all);
  const std::string a(64, 'a'), b(64, 'b'), c(64, 'c');
  for (const std::string& k : {a, b, c}) {
    testing::write_text(dir + "/" + k + ".so", std::string(1000, 'x'));
    testing::write_text(dir + "/" + k + ".meta", "m");
  }
  testing::write_text(dir + "/valid-0123", "r");
  fs::create_directory(dir + "/tmp-" + a + "-XXXXXX");  // a killed compile's: no lock held
  testing::write_text(dir + "/tmp-" + a + "-XXXXXX/out.c", "int x;");
  // a used long ago, b now; c is being compiled (its lock held).
  auto old = fs::file_time_type::clock::now() - std::chrono::hours(24 * 40);
  fs::last_write_time(dir + "/" + a + ".so", old);
  struct timespec times[2] = {{0, 0}, {0, 0}};  // atime and mtime: 1970
  utimensat(AT_FDCWD, (dir + "/" + a + ".so").c_str(), times, 0);
  int lock = open((dir + "/" + c + ".lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  ASSERT_GE(lock, 0);
  ASSERT_EQ(flock(lock, LOCK_EX), 0);

  ProcResult list = h.cli({"cache", "--cache-dir", dir, "list", "--json"});
  ASSERT_EQ(list.exit_code, 0) << describe(list);
  auto j = nlohmann::json::parse(list.out);
  EXPECT_EQ(j["objects"].size(), 3u);
  EXPECT_EQ(j["objects"][2]["key"], a) << "least recently used last";
  EXPECT_EQ(j["object_bytes"], 3 * 1001);
  EXPECT_EQ(j["records"], 1);
  EXPECT_EQ(j["temporaries"], 1);

  // The default prune: objects unused for 30 days (a), and killed compiles' temporaries.
  ProcResult prune = h.cli({"cache", "--cache-dir", dir, "prune"});
  ASSERT_EQ(prune.exit_code, 0) << describe(prune);
  EXPECT_FALSE(fs::exists(dir + "/" + a + ".so"));
  EXPECT_FALSE(fs::exists(dir + "/" + a + ".meta"));
  EXPECT_FALSE(fs::exists(dir + "/tmp-" + a + "-XXXXXX"));
  EXPECT_TRUE(fs::exists(dir + "/" + b + ".so"));
  EXPECT_TRUE(fs::exists(dir + "/valid-0123")) << "records go only with clear";
  // A size cap: least recently used first, but never an object a compile holds.
  ProcResult cap = h.cli({"cache", "--cache-dir", dir, "prune", "--unused-days", "0", "--max-mb", "1"});
  EXPECT_EQ(cap.exit_code, 0) << describe(cap);
  EXPECT_TRUE(fs::exists(dir + "/" + b + ".so")) << "under the cap";
  ProcResult clear = h.cli({"cache", "--cache-dir", dir, "clear"});
  ASSERT_EQ(clear.exit_code, 0) << describe(clear);
  EXPECT_TRUE(has(clear.out, "left 1 object(s) a compile is using")) << clear.out;
  EXPECT_FALSE(fs::exists(dir + "/" + b + ".so"));
  EXPECT_FALSE(fs::exists(dir + "/valid-0123"));
  EXPECT_TRUE(fs::exists(dir + "/" + c + ".so")) << "busy";
  close(lock);
  EXPECT_EQ(h.cli({"cache", "--cache-dir", dir, "clear"}).exit_code, 0);
  EXPECT_FALSE(fs::exists(dir + "/" + c + ".so"));
  // A cache directory others may write is refused, as for every use of it.
  fs::permissions(dir, fs::perms::group_write, fs::perm_options::add);
  EXPECT_EQ(h.cli({"cache", "--cache-dir", dir, "list"}).exit_code, 74);
}

TEST(FirstContact, AFlagRunsHttpsRefusalNamesTheFlag) {
  Home h;
  fs::create_directories(h.path("d"));
  // fetch imports the https host API; a flag run without --allow-https grants none. The refusal
  // names the flag that grants it, not a manifest the user never wrote.
  ProcResult r = h.cli({"run", "--dir", h.path("d"), testing::guest_path("fetch"),
                        "https://example.test/"});
  EXPECT_EQ(r.exit_code, 77) << describe(r);
  EXPECT_TRUE(has(r.err, "module imports 'wasmcap_https.")) << r.err;
  EXPECT_TRUE(has(r.err, "wasmcap run --allow-https HOST")) << r.err;
  EXPECT_FALSE(has(r.err, "manifest")) << r.err;
}

// `wasmcap run` bounds every run by default (60 s, as sh and mcp), unless --timeout-ms or the
// plan's limits say otherwise; --timeout-ms 0 lifts it. The run_start record names the deadline
// the run got (waiting out the 60 s here would make a slow test; the record is what the runtime
// enforces, runtime.h RunOptions::timeout_ms).
TEST(FirstContact, RunHasADefaultDeadline) {
  Home h;
  fs::copy_file(testing::guest_path("hello"), h.path("hello.wasm"));
  auto timeout_of = [](const ProcResult& r) -> nlohmann::json {
    std::string line;
    for (size_t at = 0; at < r.err.size();) {
      size_t nl = r.err.find('\n', at);
      if (nl == std::string::npos) nl = r.err.size();
      line = r.err.substr(at, nl - at);
      at = nl + 1;
      if (has(line, "\"event\":\"run_start\"")) {
        return nlohmann::json::parse(line)["limits"]["timeout_ms"];
      }
    }
    ADD_FAILURE() << "no run_start record:\n" << r.err;
    return nullptr;
  };
  // A flag run (--allow-https audits to stderr).
  ProcResult d = h.cli({"run", "--allow-https", "example.test", h.path("hello.wasm")});
  EXPECT_EQ(d.exit_code, 0) << describe(d);
  EXPECT_EQ(timeout_of(d), 60000);
  ProcResult none = h.cli({"run", "--timeout-ms", "0", "--allow-https", "example.test",
                           h.path("hello.wasm")});
  EXPECT_EQ(none.exit_code, 0) << describe(none);
  EXPECT_TRUE(timeout_of(none).is_null()) << none.err;
  ProcResult given = h.cli({"run", "--timeout-ms", "90000", "--allow-https", "example.test",
                            h.path("hello.wasm")});
  EXPECT_EQ(timeout_of(given), 90000);
  // A manifest run: the plan's limit replaces the default, a plan without one gets it.
  testing::write_text(h.path("m.json"),
                      R"({"name":"hello","version":"1.0.0","module":"hello.wasm",)"
                      R"("limits":{"timeout_ms":120000}})");
  testing::write_text(h.path("plain.json"),
                      R"({"name":"hello","version":"1.0.0","module":"hello.wasm"})");
  testing::write_text(h.path("c.json"), R"({"plugins":{"hello":{"limits":{"timeout_ms":120000}}}})");
  ProcResult planned = h.cli({"run", "--audit-stderr", "--manifest", h.path("m.json"), "--config",
                              h.path("c.json")});
  EXPECT_EQ(planned.exit_code, 0) << describe(planned);
  EXPECT_EQ(timeout_of(planned), 120000);
  testing::write_text(h.path("c2.json"), R"({"plugins":{"hello":{}}})");
  ProcResult plain = h.cli({"run", "--audit-stderr", "--manifest", h.path("plain.json"),
                            "--config", h.path("c2.json")});
  EXPECT_EQ(plain.exit_code, 0) << describe(plain);
  EXPECT_EQ(timeout_of(plain), 60000);
}

// The host config's defaults.timeout_ms replaces the built-in 60 s in every command that has a
// default deadline: run (flag, manifest and bundle runs), sh and the MCP server's calls (here
// `tool call`, the server's code path); a flag or the plan's limit still wins, and 0 is none.
TEST(FirstContact, TheHostConfigSetsTheDefaultDeadline) {
  Home h;
  fs::copy_file(testing::guest_path("hello"), h.path("hello.wasm"));
  fs::copy_file(testing::guest_path("spin"), h.path("spin.wasm"));
  auto timeout_of = [](const ProcResult& r) -> nlohmann::json {
    for (const std::string& line : testing::lines_of(r.err)) {
      if (has(line, "\"event\":\"run_start\"")) return nlohmann::json::parse(line)["limits"]["timeout_ms"];
    }
    ADD_FAILURE() << "no run_start record:\n" << r.err;
    return nullptr;
  };
  testing::write_text(h.path("c.json"),
                      R"({"defaults":{"timeout_ms":300},"plugins":{"hello":{},"spin":{},)"
                      R"("limited":{"limits":{"timeout_ms":120000}}}})");
  testing::write_text(h.path("none.json"), R"({"defaults":{"timeout_ms":0}})");
  const std::string message = "(the host config's defaults.timeout_ms of 300 ms; --timeout-ms MS";
  // A flag run given the config.
  ProcResult spun = h.cli({"run", "--config", h.path("c.json"), h.path("spin.wasm")});
  EXPECT_EQ(spun.exit_code, 82) << describe(spun);
  EXPECT_TRUE(has(spun.err, message)) << spun.err;
  auto flag_run = [&](const std::string& config, std::vector<std::string> extra) {
    std::vector<std::string> args = {"run", "--config", h.path(config), "--allow-https", "example.test"};
    args.insert(args.end(), extra.begin(), extra.end());
    args.push_back(h.path("hello.wasm"));
    return h.cli(args);
  };
  EXPECT_EQ(timeout_of(flag_run("c.json", {})), 300);
  EXPECT_EQ(timeout_of(flag_run("c.json", {"--timeout-ms", "90000"})), 90000);
  EXPECT_TRUE(timeout_of(flag_run("none.json", {})).is_null()) << "0: no default deadline";
  // Manifest runs: the plan's limit wins; a plan without one gets the config's default.
  testing::write_text(h.path("plain.json"), R"({"name":"hello","version":"1.0.0","module":"hello.wasm"})");
  testing::write_text(h.path("limited.json"),
                      R"({"name":"limited","version":"1.0.0","module":"hello.wasm"})");
  EXPECT_EQ(timeout_of(h.cli({"run", "--audit-stderr", "--manifest", h.path("plain.json"), "--config",
                              h.path("c.json")})),
            300);
  EXPECT_EQ(timeout_of(h.cli({"run", "--audit-stderr", "--manifest", h.path("limited.json"), "--config",
                              h.path("c.json")})),
            120000);
  // `plan` shows the deadline the run will get, not "unlimited".
  testing::write_text(h.path("bare.json"), R"({"plugins":{"hello":{}}})");
  testing::write_text(h.path("zero.json"), R"({"defaults":{"timeout_ms":0},"plugins":{"hello":{}}})");
  auto plan_of = [&](const std::string& manifest, const std::string& config) {
    return h.cli({"plan", "--manifest", h.path(manifest), "--config", h.path(config)}).out;
  };
  EXPECT_TRUE(has(plan_of("plain.json", "c.json"), " timeout_ms=300(defaults.timeout_ms) "));
  EXPECT_TRUE(has(plan_of("plain.json", "bare.json"), " timeout_ms=60000(default) "));
  EXPECT_TRUE(has(plan_of("plain.json", "zero.json"), " timeout_ms=unlimited(defaults.timeout_ms=0) "));
  EXPECT_TRUE(has(plan_of("limited.json", "c.json"), " timeout_ms=120000 "));
  auto plan_json = [&](const std::string& manifest, const std::string& config) {
    ProcResult r = h.cli({"plan", "--json", "--manifest", h.path(manifest), "--config", h.path(config)});
    return nlohmann::json::parse(r.out, nullptr, false)["limits"];
  };
  EXPECT_EQ(plan_json("plain.json", "c.json")["default_timeout_ms"], 300);
  EXPECT_EQ(plan_json("plain.json", "bare.json")["default_timeout_ms"], 60000);
  EXPECT_TRUE(plan_json("plain.json", "zero.json")["default_timeout_ms"].is_null());
  EXPECT_TRUE(plan_json("limited.json", "c.json")["default_timeout_ms"].is_null());
  // An installed bundle, run and called as a tool.
  h.keygen("acme");
  ASSERT_EQ(h.cli({"trust", "add", h.path("keys/acme.pub")}).exit_code, 0);
  testing::write_text(h.path("spin-manifest.json"),
                      R"({"name":"spin","version":"1.0.0","module":"spin.wasm","tools":[{"name":"spin",)"
                      R"("input_schema":{"type":"object"},"invoke":{}}]})");
  ASSERT_EQ(h.cli({"bundle", "pack", "--manifest", h.path("spin-manifest.json"), "--key",
                   h.path("keys/acme.key"), "--out", h.path("spin.wcb")})
                .exit_code,
            0);
  ASSERT_EQ(h.cli({"bundle", "install", h.path("spin.wcb")}).exit_code, 0);
  ProcResult bundle = h.cli({"run", "--config", h.path("c.json"), "spin"});
  EXPECT_EQ(bundle.exit_code, 82) << describe(bundle);
  EXPECT_TRUE(has(bundle.err, message)) << bundle.err;
  // (Each spinning command here would take the built-in 60 s without the config's default: the
  // harness's 20 s watchdog kills it, and its status is not the one expected.)
  ProcResult call = h.cli({"tool", "call", "spin", "--config", h.path("c.json")});
  EXPECT_EQ(call.exit_code, 1) << describe(call);
  EXPECT_TRUE(has(call.out, "deadline")) << call.out;
  // sh: the whole script's deadline.
  ProcResult sh = h.cli({"sh", "--config", h.path("c.json"), "--max-commands", "0", "-c",
                         "while :; do :; done"});
  EXPECT_EQ(sh.exit_code, 82) << describe(sh);
  ProcResult sh_given = h.cli({"sh", "--config", h.path("c.json"), "--timeout-ms", "60000", "-c",
                               "echo ok"});
  EXPECT_EQ(sh_given.out, "ok\n") << describe(sh_given);
  // A bad value is a config error naming the field.
  testing::write_text(h.path("bad.json"), R"({"defaults":{"timeout_ms":-1}})");
  ProcResult bad = h.cli({"run", "--config", h.path("bad.json"), h.path("hello.wasm")});
  EXPECT_EQ(bad.exit_code, 78) << describe(bad);
  EXPECT_TRUE(has(bad.err, "$.defaults.timeout_ms")) << bad.err;
}

// `run --json` answers a bad flag with its JSON object too (docs/cli.md "run --json"): an
// unknown option and a value CLI11 cannot convert, each one object on stdout, exit 64.
TEST(FirstContact, RunJsonReportsFlagErrorsAsJson) {
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"run", "--json", "--bogus", "x.wasm"},
        std::vector<std::string>{"run", "--json", "--fuel", "abc", "x.wasm"}}) {
    ProcResult r = run_cli(args);
    EXPECT_EQ(r.exit_code, 64) << describe(r);
    auto j = nlohmann::json::parse(r.out, nullptr, false);
    ASSERT_TRUE(j.is_object()) << r.out;
    EXPECT_EQ(j["error"]["code"], "invalid_argument") << r.out;
    EXPECT_EQ(j["status"], 64) << r.out;
    EXPECT_TRUE(has(r.err, "wasmcap: error: invalid_argument: ")) << r.err;
  }
  ProcResult plain = run_cli({"run", "--fuel", "abc", "x.wasm"});
  EXPECT_EQ(plain.exit_code, 64);
  EXPECT_TRUE(plain.out.empty()) << plain.out;
}

// wasmcap's own options after MODULE are the guest's arguments (passed as given) and a warning
// says so, once; `run -- MODULE ARGS` is the way to mean them for the guest, without it.
TEST(FirstContact, RunWarnsOfItsOwnOptionsAfterTheModule) {
  const std::string hello = testing::guest_path("hello");
  ProcResult r = run_cli({"run", hello, "--timeout-ms", "5", "--dir=x", "--not-ours"});
  EXPECT_EQ(r.exit_code, 0) << describe(r);
  EXPECT_TRUE(has(r.out, "arg[1]=--timeout-ms\narg[2]=5\narg[3]=--dir=x\narg[4]=--not-ours\n")) << r.out;
  const std::string warning = "wasmcap: warning: '--timeout-ms' comes after MODULE, so it is the guest's";
  EXPECT_TRUE(has(r.err, warning)) << r.err;
  EXPECT_EQ(r.err.find("wasmcap: warning:"), r.err.rfind("wasmcap: warning:")) << "once:\n" << r.err;
  ProcResult eq = run_cli({"run", hello, "--dir=x"});
  EXPECT_TRUE(has(eq.err, "'--dir' comes after MODULE")) << eq.err;
  ProcResult quiet = run_cli({"run", "--", hello, "--timeout-ms", "5"});
  EXPECT_EQ(quiet.exit_code, 0) << describe(quiet);
  EXPECT_FALSE(has(quiet.err, "warning")) << quiet.err;
  ProcResult guests_own = run_cli({"run", hello, "--verbose", "-x"});
  EXPECT_FALSE(has(guests_own.err, "warning")) << guests_own.err;
  // Names run has too, but tools use for options of their own (md5sum -c --quiet): the guest's.
  for (const char* own : {"--quiet", "--json", "--help", "--config=c.json"}) {
    ProcResult r2 = run_cli({"run", hello, "-c", own});
    EXPECT_EQ(r2.exit_code, 0) << describe(r2);
    EXPECT_FALSE(has(r2.err, "warning")) << own << ": " << r2.err;
  }
}

// `wasmcap tool list/call` log as `wasmcap tool:` (not as the server), each reason once, and an
// unknown tool points to `wasmcap tool list`, not to the MCP method.
TEST(FirstContact, ToolCommandsLogUnderTheirOwnNameOnce) {
  Home h;
  h.keygen("acme");
  ASSERT_EQ(h.cli({"trust", "add", h.path("keys/acme.pub")}).exit_code, 0);
  fs::copy_file(testing::guest_path("spin"), h.path("spin.wasm"));
  testing::write_text(h.path("m.json"),
                      R"({"name":"spin","version":"1.0.0","module":"spin.wasm","permissions":{"env":["X"]},)"
                      R"("tools":[{"name":"spin","input_schema":{"type":"object"},"invoke":{}}]})");
  ASSERT_EQ(h.cli({"bundle", "pack", "--manifest", h.path("m.json"), "--key", h.path("keys/acme.key"),
                   "--out", h.path("s.wcb")})
                .exit_code,
            0);
  ASSERT_EQ(h.cli({"bundle", "install", h.path("s.wcb")}).exit_code, 0);
  testing::write_text(h.path("c.json"), "{}");
  const std::string reason = "wasmcap tool: no tools from spin: not fully granted by the host config";
  for (const char* command : {"list", "call"}) {
    std::vector<std::string> args = {"tool", command};
    if (std::string(command) == "call") args.push_back("nope");
    args.insert(args.end(), {"--config", h.path("c.json")});
    ProcResult r = h.cli(args);
    EXPECT_EQ(r.exit_code, std::string(command) == "list" ? 0 : 64) << describe(r);
    EXPECT_TRUE(has(r.err, reason)) << r.err;
    EXPECT_EQ(r.err.find(reason), r.err.rfind(reason)) << "once:\n" << r.err;
    EXPECT_FALSE(has(r.err, "wasmcap mcp:")) << r.err;
    if (std::string(command) == "call") {
      EXPECT_TRUE(has(r.err, "unknown tool 'nope' (see wasmcap tool list)")) << r.err;
    }
  }
}

// `plan` warns when the module calls clocks or random_get the plan does not serve (every call
// would be ENOTCAPABLE); a manifest that requests them gets no warning.
TEST(FirstContact, PlanWarnsOfUnrequestedClocksAndRandom) {
  Home h;
  fs::copy_file(testing::guest_path("time_random"), h.path("tr.wasm"));
  testing::write_text(h.path("bare.json"), R"({"name":"tr","version":"1.0.0","module":"tr.wasm"})");
  testing::write_text(h.path("full.json"),
                      R"({"name":"tr","version":"1.0.0","module":"tr.wasm",)"
                      R"("permissions":{"clocks":["wall","monotonic"],"random":true}})");
  testing::write_text(h.path("c.json"), R"({"plugins":{"tr":{}}})");
  ProcResult bare = h.cli({"plan", "--manifest", h.path("bare.json"), "--config", h.path("c.json")});
  EXPECT_EQ(bare.exit_code, 0) << describe(bare);  // a warning, not a refusal
  EXPECT_TRUE(has(bare.out, "warning: the module imports wasi_snapshot_preview1.clock_time_get but "
                            "the manifest requests no clock")) << bare.out;
  EXPECT_TRUE(has(bare.out, "warning: the module imports wasi_snapshot_preview1.random_get but the "
                            "manifest requests no random")) << bare.out;
  ProcResult js = h.cli({"plan", "--json", "--manifest", h.path("bare.json"), "--config",
                         h.path("c.json")});
  auto j = nlohmann::json::parse(js.out, nullptr, false);
  ASSERT_TRUE(j.is_object()) << js.out;
  EXPECT_EQ(j["warnings"].size(), 3u) << js.out;  // clock_res_get, clock_time_get, random_get
  ProcResult full = h.cli({"plan", "--manifest", h.path("full.json"), "--config", h.path("c.json")});
  EXPECT_EQ(full.exit_code, 0) << describe(full);
  EXPECT_FALSE(has(full.out, "warning:")) << full.out;
  // Requested and denied by the operator: already a denial, not repeated as a warning.
  testing::write_text(h.path("deny.json"),
                      R"({"plugins":{"tr":{"grants":{"clocks":"deny","random":"deny"}}}})");
  ProcResult denied = h.cli({"plan", "--manifest", h.path("full.json"), "--config",
                             h.path("deny.json")});
  EXPECT_FALSE(has(denied.out, "warning:")) << denied.out;
}

// `wasmcap setup` trusts the shipped keys and installs the shipped bundles (an installed
// wasmcap's DATADIR/wasmcap/bundles; here the build's own, build/bundles, which also holds the
// secret key: never trusted, never installed). Afterwards `sh` has its commands; a second run
// changes nothing.
TEST(FirstContact, SetupInstallsTheShippedBundles) {
  Home h;
  const std::string shipped =
      fs::path(testing::guest_path("hello")).parent_path().parent_path().string() + "/bundles";
  ASSERT_TRUE(fs::exists(shipped + "/coreutils.wcb")) << shipped;
  ProcResult r = h.cli({"setup", "--from", shipped});
  EXPECT_EQ(r.exit_code, 0) << describe(r);
  EXPECT_TRUE(has(r.out, "trusted key ")) << r.out;
  EXPECT_TRUE(has(r.out, "installed coreutils@")) << r.out;
  fs::create_directories(h.path("ws"));
  ProcResult ls = h.cli({"sh", "--dir", h.path("ws") + "::/work", "-c", "echo hi | wc -c"});
  EXPECT_EQ(ls.exit_code, 0) << describe(ls);
  EXPECT_EQ(ls.out, "3\n");
  ProcResult again = h.cli({"setup", "--from", shipped});
  EXPECT_EQ(again.exit_code, 0) << describe(again);
  EXPECT_TRUE(has(again.out, "is already trusted")) << again.out;
  EXPECT_TRUE(has(again.out, "already installed coreutils@")) << again.out;
  // Nothing shipped: says where it looked and what to do.
  fs::create_directories(h.path("empty"));
  ProcResult none = h.cli({"setup", "--from", h.path("empty")});
  EXPECT_EQ(none.exit_code, 66) << describe(none);
  EXPECT_TRUE(has(none.err, "no shipped bundles (*.wcb) in " + h.path("empty"))) << none.err;
}

// ls -l in the sandbox shows modes from the file type and the grant: a read-only grant is
// r--r--r--, a writable one rw-r--r--, directories carry x (WASI has no permission bits; what
// the tool may do is what the grant lets it do), and the sandbox's user as owner and group.
TEST(FirstContact, LsLongShowsModesFromTheGrant) {
  Home h;
  fs::create_directories(h.path("t/sub"));
  testing::write_text(h.path("t/f"), "hi\n");
  ProcResult r = h.cli({"run", "--dir", h.path("t") + "::/rw", "--dir", h.path("t") + "::/ro:ro",
                        testing::guest_path("coreutils"), "ls", "-l", "/rw", "/ro"});
  ASSERT_EQ(r.exit_code, 0) << describe(r);
  const size_t rw_at = r.out.find("/rw:\n");
  ASSERT_NE(rw_at, std::string::npos) << r.out;
  const std::string ro = r.out.substr(0, rw_at), rw = r.out.substr(rw_at);
  EXPECT_TRUE(has(ro, "\n-r--r--r-- 1 1000 1000 ")) << r.out;
  EXPECT_TRUE(has(ro, "\ndr-xr-xr-x ")) << r.out;
  EXPECT_TRUE(has(rw, "\n-rw-r--r-- 1 1000 1000 ")) << r.out;
  EXPECT_TRUE(has(rw, "\ndrwxr-xr-x ")) << r.out;
  EXPECT_FALSE(has(r.out, "?????????")) << r.out;
}

// Files belong to the sandbox's user, uid/gid 1000 as $UID says, shown as numbers; a host config
// that names the user (shell.user) makes ls -l, id, whoami and $USER show that name. Never the
// host's owners.
TEST(FirstContact, TheSandboxUserIsNumberedOrNamedByTheOperator) {
  Home h;
  const std::string shipped =
      fs::path(testing::guest_path("hello")).parent_path().parent_path().string() + "/bundles";
  ProcResult setup = h.cli({"setup", "--from", shipped});
  ASSERT_EQ(setup.exit_code, 0) << describe(setup);
  fs::create_directories(h.path("ws"));
  testing::write_text(h.path("ws/f"), "x\n");
  const std::string script = "echo $UID; id -u; id; ls -l /work; whoami; echo \"[$USER]\"";
  ProcResult plain = h.cli({"sh", "--dir", h.path("ws") + "::/work", "-c", script});
  EXPECT_EQ(plain.exit_code, 0) << describe(plain);  // (the last command is echo)
  // (`wasmcap setup` installs the toolbox: `ls` is GNU ls, whose blocks are estimated as ext4's.)
  EXPECT_TRUE(starts_with(plain.out, "1000\n1000\nuid=1000 gid=1000 groups=1000\ntotal 4\n"
                                     "-rw-r--r-- 1 1000 1000 2 "))
      << plain.out;
  EXPECT_TRUE(has(plain.out, " f\n[]\n")) << plain.out;
  EXPECT_TRUE(has(plain.err, "whoami: cannot find name for user ID 1000")) << plain.err;
  testing::write_text(h.path("c.json"), R"({"shell":{"user":"agent"}})");
  ProcResult named = h.cli({"sh", "--config", h.path("c.json"), "--dir", h.path("ws") + "::/work",
                            "-c", "id -un; id -gn; id; ls -l /work; whoami; echo \"[$USER][$LOGNAME]\""});
  EXPECT_EQ(named.exit_code, 0) << describe(named);
  EXPECT_TRUE(has(named.out, "agent\nagent\nuid=1000(agent) gid=1000(agent) groups=1000(agent)\n"))
      << named.out;
  EXPECT_TRUE(has(named.out, "\n-rw-r--r-- 1 agent agent 2 ")) << named.out;
  EXPECT_TRUE(has(named.out, " f\nagent\n[agent][agent]\n")) << named.out;
  // A name outside POSIX's portable set is a config error, not a name.
  testing::write_text(h.path("bad.json"), R"({"shell":{"user":"Root\u001b"}})");
  ProcResult bad = h.cli({"sh", "--config", h.path("bad.json"), "-c", "true"});
  EXPECT_EQ(bad.exit_code, 78) << describe(bad);
  EXPECT_TRUE(has(bad.err, "$.shell.user")) << bad.err;
}

// A flag run and `wasmcap sh` given a host config write their records to its audit.file, as a
// manifest run does; the flags stay the whole grant.
TEST(FirstContact, FlagRunsAndShAuditToTheConfigsFile) {
  Home h;
  testing::write_text(h.path("c.json"), R"({"audit":{"file":")" + h.path("audit.jsonl") +
                                            R"("},"plugins":{"cli":{"grants":{"env":{"X":"1"}}}}})");
  fs::create_directories(h.path("t"));
  ProcResult run = h.cli({"run", "--config", h.path("c.json"), "--dir", h.path("t") + "::/t",
                          testing::guest_path("hello")});
  EXPECT_EQ(run.exit_code, 0) << describe(run);
  std::string log = testing::read_text(h.path("audit.jsonl"));
  EXPECT_TRUE(has(log, "\"event\":\"run_start\"")) << log;
  EXPECT_TRUE(has(log, "\"event\":\"run_end\"")) << log;
  EXPECT_TRUE(has(log, "\"guest\":\"/t\"")) << log;
  EXPECT_FALSE(has(log, "\"X\"")) << "the config's plugin grants are not the flag run's: " << log;
  ProcResult sh = h.cli({"sh", "--config", h.path("c.json"), "--audit-file", h.path("own.jsonl"),
                         "-c", "echo hi"});
  EXPECT_EQ(sh.exit_code, 0) << describe(sh);
  log = testing::read_text(h.path("audit.jsonl"));
  EXPECT_TRUE(has(log, "\"event\":\"shell_command\"")) << log;
  EXPECT_TRUE(has(testing::read_text(h.path("own.jsonl")), "\"event\":\"shell_command\""));
  // Fail closed: an audit file that cannot be opened stops the run before it starts.
  testing::write_text(h.path("nodir.json"), R"({"audit":{"file":")" + h.path("no/such/a.jsonl") +
                                                R"("}})");
  ProcResult refused = h.cli({"run", "--config", h.path("nodir.json"), testing::guest_path("hello")});
  EXPECT_EQ(refused.exit_code, 74) << describe(refused);
  EXPECT_TRUE(refused.out.empty()) << refused.out;
}

// `.wat` files run, plan and inspect as the binary they describe; wasi_unstable's clock import
// gets plan's warning as Preview 1's does.
TEST(FirstContact, TextModulesRunPlanAndInspect) {
  Home h;
  testing::write_text(h.path("t.wat"), R"((module
    (import "wasi_unstable" "clock_time_get" (func $c (param i32 i64 i32) (result i32)))
    (import "wasi_unstable" "proc_exit" (func $exit (param i32)))
    (memory (export "memory") 1)
    (func (export "_start") (call $exit (i32.const 7))))
)");
  ProcResult run = h.cli({"run", h.path("t.wat")});
  EXPECT_EQ(run.exit_code, 7) << describe(run);
  ProcResult inspect = h.cli({"inspect", h.path("t.wat")});
  EXPECT_EQ(inspect.exit_code, 0) << describe(inspect);
  EXPECT_TRUE(has(inspect.out, "wasi_unstable")) << inspect.out;
  testing::write_text(h.path("m.json"), R"({"name":"t","version":"1.0.0","module":"t.wat"})");
  testing::write_text(h.path("c.json"), R"({"plugins":{"t":{}}})");
  ProcResult plan = h.cli({"plan", "--manifest", h.path("m.json"), "--config", h.path("c.json")});
  EXPECT_EQ(plan.exit_code, 0) << describe(plan);
  EXPECT_TRUE(has(plan.out, "warning: the module imports wasi_unstable.clock_time_get but the "
                            "manifest requests no clock")) << plan.out;
  testing::write_text(h.path("bad.wat"), "(module\n  (func\n    (i32.bogus)))\n");
  ProcResult bad = h.cli({"run", h.path("bad.wat")});
  EXPECT_EQ(bad.exit_code, 65) << describe(bad);
  EXPECT_TRUE(has(bad.err, h.path("bad.wat") + ":3:")) << bad.err;
}

// `wasmcap audit` shows a shell command's argv and exit status, not just its event name.
TEST(FirstContact, AuditShowsShellCommandsArgvAndStatus) {
  Home h;
  testing::write_text(
      h.path("audit.jsonl"),
      R"({"time":"2026-11-23T05:06:25.135Z","event":"shell_command_start","invocation_id":"5f0c","argv":["grep","-c","foo bar","a.txt"]})"
      "\n"
      R"({"time":"2026-11-23T05:06:25.138Z","event":"shell_command","invocation_id":"5f0c","argv":["grep","-c","foo bar","a.txt"],"kind":"tool","exit":1,"duration_ms":3.2,"stdout_bytes":2,"stderr_bytes":0})"
      "\n");
  ProcResult r = h.cli({"audit", h.path("audit.jsonl")});
  EXPECT_EQ(r.exit_code, 0) << describe(r);
  EXPECT_TRUE(has(r.out, R"(shell_command_start - 5f0c argv=["grep","-c","foo bar","a.txt"])"))
      << r.out;
  EXPECT_TRUE(has(r.out, R"(shell_command  - 5f0c argv=["grep","-c","foo bar","a.txt"] exit=1)"))
      << r.out;
}

// The host config's aot section (docs/host-config.md#aot): cache_max_mb caps the AOT cache after
// the run's compile (an old 2 MiB object goes under a 1 MiB cap: it stayed under the default
// 2 GiB); flag runs take it too; out-of-range values are config errors.
TEST(FirstContact, TheHostConfigCapsTheAotCache) {
  Home h;
  const std::string cache = h.path("cache");
  fs::create_directory(cache);
  fs::permissions(cache, fs::perms::owner_all);
  auto plant = [&](char c) {
    const std::string key(64, c);
    int fd = open((cache + "/" + key + ".so").c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
    EXPECT_GE(fd, 0);
    EXPECT_EQ(ftruncate(fd, 2 << 20), 0);
    close(fd);
    testing::write_text(cache + "/" + key + ".meta", "m");
    struct timespec times[2] = {{1000, 0}, {1000, 0}};
    utimensat(AT_FDCWD, (cache + "/" + key + ".so").c_str(), times, 0);
    return cache + "/" + key + ".so";
  };
  fs::copy_file(testing::guest_path("hello"), h.path("hello.wasm"));
  testing::write_text(h.path("m.json"), R"({"name":"hello","version":"1.0.0","module":"hello.wasm"})");
  testing::write_text(h.path("c.json"), R"({"plugins":{"hello":{}},"aot":{"cache_max_mb":1}})");
  testing::ProcOptions po = h.opts();
  po.extra_env.push_back({"WASMCAP_AOT_OPT", "0"});
  const std::string planted = plant('e');
  ProcResult r = run_cli({"run", "--engine", "aot", "--cache-dir", cache, "--manifest",
                          h.path("m.json"), "--config", h.path("c.json")}, po);
  ASSERT_EQ(r.exit_code, 0) << describe(r);
  EXPECT_EQ(r.out, "hello from wasm\n");
  EXPECT_FALSE(fs::exists(planted)) << "the config's cap was not applied";
  // A flag run with --config: a module not compiled yet (a module with one more byte of a custom
  // section has another key) compiles and prunes under the config's cap.
  {
    std::string bytes = testing::read_text(h.path("hello.wasm"));
    bytes += std::string("\x00\x02\x01x", 4);  // custom section "x", empty
    testing::write_text(h.path("hello2.wasm"), bytes);
  }
  const std::string planted2 = plant('d');
  ProcResult f = run_cli({"run", "--engine", "aot", "--cache-dir", cache, "--config",
                          h.path("c.json"), h.path("hello2.wasm")}, po);
  ASSERT_EQ(f.exit_code, 0) << describe(f);
  EXPECT_FALSE(fs::exists(planted2)) << "a flag run ignored the config's cap";
  for (const char* bad : {R"({"aot":{"cache_max_mb":0}})", R"({"aot":{"background_jobs":65}})",
                          R"({"aot":{"jobs":1}})"}) {
    testing::write_text(h.path("bad.json"), bad);
    ProcResult b = run_cli({"run", "--engine", "aot", "--cache-dir", cache, "--config",
                            h.path("bad.json"), h.path("hello.wasm")}, po);
    EXPECT_EQ(b.exit_code, 78) << bad << "\n" << describe(b);
    EXPECT_TRUE(has(b.err, "$.aot")) << b.err;
  }
}

}  // namespace
}  // namespace wasmcap::cli_test

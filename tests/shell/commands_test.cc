// Where a command name comes from (src/shell/commands.h): the table built from the bundles'
// manifests, the order that settles conflicts, and what command -v / type / hash report.
#include <gtest/gtest.h>

#include <chrono>

#include "shell/commands.h"
#include "test_support.h"

namespace wasmcap::shell {
namespace {

BundleOffer offer(const std::string& bundle, std::vector<std::pair<std::string, std::string>> cmds) {
  BundleOffer o;
  o.tool.bundle = bundle;
  o.tool.version = "1.0.0";
  for (auto& [n, a] : cmds) o.commands.push_back(policy::ShellCommand{n, a});
  return o;
}

std::vector<BundleOffer> two_cats() {
  // Listed in an order that is neither the default nor the configured one.
  return {offer("zeta", {{"cat", "cat"}, {"zcat", "zcat"}}),
          offer("alpha", {{"cat", "cat"}, {"ls", "ls"}}),
          offer("mid", {{"cat", "kitty"}})};
}

// Without shell.bundle_order the bundle names decide, whatever order the registry lists them in.
TEST(CommandTable, ConflictsGoToTheFirstBundleByName) {
  auto t = build_command_table(two_cats(), {});
  ASSERT_EQ(t.commands.size(), 3u);
  EXPECT_EQ(t.commands.at("cat").bundle, "alpha");
  EXPECT_EQ(t.commands.at("ls").bundle, "alpha");
  EXPECT_EQ(t.commands.at("zcat").bundle, "zeta");
  ASSERT_EQ(t.shadowed.size(), 2u);
  EXPECT_EQ(t.shadowed[0].bundle, "mid");
  EXPECT_EQ(t.shadowed[0].winner, "alpha");
  EXPECT_EQ(t.shadowed[1].bundle, "zeta");
}

// The host config's order comes first; unnamed bundles follow by name.
TEST(CommandTable, HostConfigOrderWins) {
  auto t = build_command_table(two_cats(), {"mid", "zeta"});
  EXPECT_EQ(t.commands.at("cat").bundle, "mid");
  EXPECT_EQ(t.commands.at("cat").tool, "kitty");  // its argv0
  EXPECT_EQ(t.commands.at("ls").bundle, "alpha");
  auto z = build_command_table(two_cats(), {"zeta"});
  EXPECT_EQ(z.commands.at("cat").bundle, "zeta");
  // A named bundle that is not installed changes nothing.
  auto n = build_command_table(two_cats(), {"not-installed"});
  EXPECT_EQ(n.commands.at("cat").bundle, "alpha");
}

struct Reports : ::testing::Test {
  std::map<std::string, Tool> table = build_command_table(two_cats(), {}).commands;
  Resolver r{[](std::string_view n) { return n == "echo" || n == "type" || n == "command"; },
             &table};
  std::string out, err;
  int run(std::vector<std::string_view> argv) {
    out.clear();
    err.clear();
    return resolution_builtin(r, argv, &out, &err);
  }
};

TEST_F(Reports, TypeNamesTheSource) {
  EXPECT_EQ(run({"type", "cat", "echo", "sh", "bash", "if"}), 0);
  EXPECT_EQ(out, "cat is cat from bundle alpha@1.0.0\necho is a shell builtin\n"
                 "sh is the shell itself (a nested wasmcap sh in the same sandbox)\n"
                 "bash is the shell itself (a nested wasmcap sh in the same sandbox)\n"
                 "if is a shell keyword\n");
  EXPECT_EQ(run({"type", "nope", "ls"}), 1);
  EXPECT_EQ(out, "ls is ls from bundle alpha@1.0.0\n");
  EXPECT_EQ(err, "wasmcap sh: type: nope: not found\n");
}

// A function the script defined comes before builtins and commands (bash's order): `type`,
// `type -t` (one word; nothing for a name not found) and `command -v/-V` say so.
TEST_F(Reports, FunctionsComeBeforeBuiltinsAndCommands) {
  r.is_function = [](std::string_view n) { return n == "f" || n == "echo" || n == "cat"; };
  EXPECT_EQ(run({"type", "f", "echo", "cat"}), 0);
  EXPECT_EQ(out, "f is a function\necho is a function\ncat is a function\n");
  EXPECT_EQ(run({"type", "-t", "f", "nope", "type", "if", "ls", "sh"}), 1);
  EXPECT_EQ(out, "function\nbuiltin\nkeyword\nfile\nfile\n");
  EXPECT_EQ(err, "");
  EXPECT_EQ(run({"type", "-tt", "--", "f"}), 0);
  EXPECT_EQ(out, "function\n");
  EXPECT_EQ(run({"type", "-p", "f"}), 2);
  EXPECT_EQ(err, "wasmcap sh: type: -p: invalid option (only -t)\n");
  EXPECT_EQ(run({"command", "-v", "f"}), 0);
  EXPECT_EQ(out, "f\n");
  EXPECT_EQ(run({"command", "-V", "f"}), 0);
  EXPECT_EQ(out, "f is a function\n");
  EXPECT_EQ(run({"hash", "f"}), 0);
}

TEST_F(Reports, CommandV) {
  EXPECT_EQ(run({"command", "-v", "cat", "echo"}), 0);
  EXPECT_EQ(out, "cat\necho\n");
  EXPECT_EQ(run({"command", "-v", "nope"}), 1);
  EXPECT_EQ(out, "");
  EXPECT_EQ(err, "");  // -v is silent about what it does not find, as in sh
  EXPECT_EQ(run({"command", "-V", "zcat", "nope"}), 1);
  EXPECT_EQ(out, "zcat is zcat from bundle zeta@1.0.0\n");
  EXPECT_EQ(err, "wasmcap sh: command: nope: not found\n");
  EXPECT_EQ(run({"command", "-x", "cat"}), 2);
}

TEST_F(Reports, HashListsTheTableAndChecksNames) {
  EXPECT_EQ(run({"hash"}), 0);
  EXPECT_EQ(out, "hash: hash table empty\n");  // bash's words: nothing was run by a PATH search
  EXPECT_EQ(run({"hash", "ls"}), 0);
  EXPECT_EQ(run({"hash", "-r"}), 0);
  EXPECT_EQ(run({"hash", "nope"}), 1);
  EXPECT_EQ(err, "wasmcap sh: hash: nope: not found\n");
}

// A name typed in a script can hold any byte: reports show it escaped, never raw (a terminal
// escape in `type $(cat file)` must not reach the terminal).
TEST_F(Reports, NamesAreShownEscaped) {
  EXPECT_EQ(run({"type", "a\x1b]0;x\x07"}), 1);
  EXPECT_EQ(err, "wasmcap sh: type: a\\x1b]0;x\\x07: not found\n");
  EXPECT_EQ(run({"command", "-V", "\n"}), 1);
  EXPECT_EQ(err, "wasmcap sh: command: \\x0a: not found\n");
}

TEST(CommandRuns, SkipsToTheName) {
  size_t skip = 0;
  EXPECT_TRUE(command_runs({"command", "ls", "-l"}, &skip));
  EXPECT_EQ(skip, 1u);
  EXPECT_TRUE(command_runs({"command", "-p", "--", "ls"}, &skip));
  EXPECT_EQ(skip, 3u);
  EXPECT_FALSE(command_runs({"command", "-v", "ls"}, &skip));
  EXPECT_FALSE(command_runs({"command"}, &skip));
}

// --- through the CLI: the table comes from the installed bundles' manifests ------------------

namespace fs = std::filesystem;
using wasmcap::testing::ProcOptions;
using wasmcap::testing::ProcResult;

struct Installed : ::testing::Test {
  wasmcap::testing::TempDir tmp;
  std::string bundles = test_paths::bundle_dir();
  std::string home() { return (tmp.path() / "home").string(); }
  fs::path work() { return tmp.path() / "work"; }
  void SetUp() override {
    for (const char* b : {"coreutils.wcb", "oils_helpers.wcb"}) {
      if (!fs::exists(bundles + "/" + b)) GTEST_SKIP() << "no " << b << " built";
    }
    fs::create_directories(fs::path(home()) / "trust");
    fs::copy_file(bundles + "/wasmcap-test.pub", fs::path(home()) / "trust/wasmcap-test.pub");
    install(bundles + "/coreutils.wcb");
    install(bundles + "/oils_helpers.wcb");
    fs::create_directories(work());
  }
  ProcResult cli(std::vector<std::string> args) {
    ProcOptions o;
    o.extra_env.emplace_back("WASMCAP_HOME", home());
    if (!args.empty() && args[0] == "sh") {
      args.insert(args.begin() + 1, {"--engine", wasmcap::testing::test_engine_name()});
    }
    return wasmcap::testing::run_cli(args, o);
  }
  void install(const std::string& wcb) {
    auto i = cli({"bundle", "install", wcb});
    ASSERT_EQ(i.exit_code, 0) << wasmcap::testing::describe(i);
  }
  ProcResult script(const std::string& s, std::vector<std::string> extra = {}) {
    std::vector<std::string> a{"sh", "--dir", work().string() + "::/work"};
    a.insert(a.end(), extra.begin(), extra.end());
    a.insert(a.end(), {"-c", s});
    return cli(a);
  }
  // A signed bundle (the test key) of the helpers' module declaring `commands`.
  std::string pack(const std::string& name, const std::string& commands) {
    fs::path dir = tmp.path() / ("pack-" + name);
    fs::create_directories(dir);
    fs::copy_file(std::string(test_paths::guest_dir()) + "/oils_helpers.wasm", dir / "m.wasm");
    wasmcap::testing::write_text(dir / "manifest.json",
        R"({"name":")" + name + R"(","version":"2.0.0","module":"m.wasm",)"
        R"("permissions":{"args":true},"commands":)" + commands + "}");
    std::string out = (dir / (name + ".wcb")).string();
    auto p = cli({"bundle", "pack", "--manifest", (dir / "manifest.json").string(), "--key",
                  bundles + "/wasmcap-test.key", "--out", out});
    EXPECT_EQ(p.exit_code, 0) << wasmcap::testing::describe(p);
    return out;
  }
};

TEST_F(Installed, CommandsComeFromEveryInstalledBundle) {
  auto r = script("argv.py a 'b c' \"it's\"; ls; type ls argv.py echo; command -v wc; ls; hash;"
                  " hash -r; hash wc; hash");
  ASSERT_EQ(r.exit_code, 0) << wasmcap::testing::describe(r);
  EXPECT_EQ(r.out,
            "['a', 'b c', \"it's\"]\n"
            "ls is ls from bundle coreutils@0.1.0\n"
            "argv.py is argv.py from bundle oils-helpers@0.1.0\n"
            "echo is a shell builtin\n"
            "/usr/bin/wc\n"  // PATH's first command directory (docs/shell.md "Command paths")
            // bash's hash table: hits and PATH's first command directory, by name; `hash -r`
            // empties it, `hash NAME` enters NAME with no hits
            "hits\tcommand\n   1\t/usr/bin/argv.py\n   2\t/usr/bin/ls\n"
            "hits\tcommand\n   0\t/usr/bin/wc\n");
  // `command NAME` runs it.
  auto c = script("command argv.py x");
  EXPECT_EQ(c.out, "['x']\n") << wasmcap::testing::describe(c);
}

// timeout: GNU's statuses and messages (C locale). The watchdog raises the command's own kill
// flag: the tool stops, a nested shell unwinds, jobs the command started stop with it, and the
// script goes on (a timeout is no script limit). Each `sleep 30` would hold the test 30 s.
// Signal 0 does nothing (the command runs on: 124, or its own status with --preserve-status)
// until -k's KILL (137).
TEST_F(Installed, TimeoutAsGnu) {
  auto start = std::chrono::steady_clock::now();
  auto r = script(
      "timeout 0.2 sleep 30; echo plain=$?\n"
      "timeout -s KILL 0.2 sleep 30; echo kill=$?\n"
      "timeout --preserve-status -s INT 0.2 sleep 30; echo preserve=$?\n"
      "timeout -v 0.2 sh -c 'sleep 30; echo after'; echo nested=$?\n"
      "timeout 0.2 sh -c 'sleep 30 & wait; echo after'; echo job=$?\n"
      "sh -c 'timeout 0.2 sleep 30; echo inner=$?' & wait; echo outer=$?\n"
      "timeout 30 sh -c 'exit 3'; echo status=$?\n"
      "timeout 0 echo zero; echo a b | timeout 30 xargs echo\n"
      "f() { :; }; timeout 1 f; echo function=$?\n"
      "timeout 1x true; echo interval=$?; timeout -s FOO 1 true; echo signal=$?\n"
      "timeout 5; echo usage=$?; timeout --bogus 1 true; echo option=$?\n"
      "timeout -s 0 0.2 sleep 0.6; echo zero=$?\n"
      "timeout --preserve-status -s 0 0.2 sh -c 'sleep 0.6; exit 3'; echo zpreserve=$?\n"
      "timeout -v -s 0 -k 0.2 0.2 sleep 30; echo zkill=$?\n");
  ASSERT_EQ(r.exit_code, 0) << wasmcap::testing::describe(r);
  EXPECT_EQ(r.out,
            "plain=124\nkill=137\npreserve=130\nnested=124\njob=124\ninner=124\nouter=0\n"
            "status=3\nzero\na b\nfunction=127\ninterval=125\nsignal=125\nusage=125\n"
            "option=125\nzero=124\nzpreserve=3\nzkill=137\n")
      << r.err;
  EXPECT_EQ(r.err,
            "timeout: sending signal TERM to command 'sh'\n"
            "timeout: failed to run command 'f': No such file or directory\n"
            "timeout: invalid time interval '1x'\n"
            "Try 'timeout --help' for more information.\n"
            "timeout: 'FOO': invalid signal\n"
            "Try 'timeout --help' for more information.\n"
            "Try 'timeout --help' for more information.\n"
            "timeout: unrecognized option '--bogus'\n"
            "Try 'timeout --help' for more information.\n"
            "timeout: sending signal EXIT to command 'sleep'\n"
            "timeout: sending signal KILL to command 'sleep'\n");
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(25));
}

// Two bundles declare `cat`: the bundle names decide by default, the host config's
// shell.bundle_order overrides, and the winner's argv0 picks the helper program.
// `<(list)` read by tools (GNU's semantics): each is a pipe at /dev/fd/N, streamed (more than a
// pipe's buffer: seq 20000 is 108,894 bytes; larger counts took > 20 s under the sanitizers),
// ended early when the tool stops reading (head), two in one tool.
TEST_F(Installed, ProcessSubstitutionFeedsTools) {
  auto r = script(
      "comm -3 <(printf 'a\\nb\\n') <(printf 'a\\nc\\n')\n"
      "wc -l < <(seq 30000); wc -l <(seq 20000) | cut -d' ' -f1\n"
      "head -n 1 <(seq 100000000); paste -d: <(seq 2) <(echo x; echo y)\n"
      "cat <(echo a) - <<< b; sort -r <(printf '1\\n3\\n2\\n') | head -n 1\n");
  ASSERT_EQ(r.exit_code, 0) << wasmcap::testing::describe(r);
  EXPECT_EQ(r.out, "b\n\tc\n30000\n20000\n1\n1:x\n2:y\na\nb\n3\n") << r.err;
}

// `>(list)` written by tools: tee writes each copy into a pipe at /dev/fd/N that the list
// reads as it drains (more than a pipe's buffer), two at once; a list that stops reading early
// (head) ends the writer as SIGPIPE ends it in bash: 141, no message.
TEST_F(Installed, OutputProcessSubstitutionTakesToolsOutput) {
  auto r = script(
      "seq 30000 | tee >(wc -l > n1) >(tail -n 1 > n2) | sed -n '$p'; cat n1 n2\n"
      "echo abc | tee >(tr a-z A-Z) > /dev/null\n"
      "seq 100000 | tee >(head -n 1) > /dev/null; echo ended $?\n");
  ASSERT_EQ(r.exit_code, 0) << wasmcap::testing::describe(r);
  EXPECT_EQ(r.out, "30000\n30000\n30000\nABC\n1\nended 141\n") << r.err;
  EXPECT_EQ(r.err, "");
}

// A tool blocked writing to a `>(list)` that never reads ends at the deadline (its write waits
// in steps as a read of stdin does), and so does the list.
TEST_F(Installed, OutputProcessSubstitutionEndsAtTheDeadline) {
  auto start = std::chrono::steady_clock::now();
  auto r = script("seq 10000000 | tee >(while :; do :; done) > /dev/null; echo after",
                  {"--timeout-ms", "1500", "--max-commands", "0"});
  EXPECT_EQ(r.exit_code, 82) << wasmcap::testing::describe(r);
  EXPECT_EQ(r.out, "");
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(30));
}

// A tool blocked reading a `<(list)` that never writes ends at the deadline (its read waits as a
// read of stdin does), and so does the list.
TEST_F(Installed, ProcessSubstitutionEndsAtTheDeadline) {
  auto start = std::chrono::steady_clock::now();
  auto r = script("cat <(while :; do :; done); echo after", {"--timeout-ms", "1500", "--max-commands", "0"});
  EXPECT_EQ(r.exit_code, 82) << wasmcap::testing::describe(r);
  EXPECT_EQ(r.out, "");
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(30));
}

TEST_F(Installed, ConflictsFollowTheHostConfigOrder) {
  install(pack("a-cats", R"({"cat":{"argv0":"argv.py"}})"));
  auto by_name = script("type cat; cat x");
  EXPECT_EQ(by_name.out, "cat is argv.py from bundle a-cats@2.0.0\n['x']\n")
      << wasmcap::testing::describe(by_name);
  fs::path config = tmp.path() / "host.json";
  wasmcap::testing::write_text(config, R"({"shell":{"bundle_order":["coreutils"]}})");
  wasmcap::testing::write_text(work() / "x", "from coreutils\n");
  auto ordered = script("type cat; cat x", {"--config", config.string()});
  EXPECT_EQ(ordered.out, "cat is cat from bundle coreutils@0.1.0\nfrom coreutils\n")
      << wasmcap::testing::describe(ordered);
}

// A command declared "fallback" (coreutils' grep, egrep, fgrep, ls, cat) yields to any other
// bundle's declaration of the name, whatever the bundles' names; a fallback never beats a plain
// one; the host config's bundle_order still decides when it names the bundle.
TEST_F(Installed, FallbackCommandsYieldToOtherBundles) {
  install(pack("z-greps", R"({"grep":{"argv0":"argv.py"}})"));
  install(pack("a-fallbacks", R"({"head":{"argv0":"argv.py","fallback":true},)"
                              R"("egrep":{"argv0":"argv.py","fallback":true}})"));
  wasmcap::testing::write_text(work() / "x", "x\n");
  auto r = script("type grep head egrep; grep -c x x; head x");
  EXPECT_EQ(r.out,
            "grep is argv.py from bundle z-greps@2.0.0\n"       // z- after coreutils by name
            "head is head from bundle coreutils@0.1.0\n"        // a- first by name, but a fallback
            "egrep is argv.py from bundle a-fallbacks@2.0.0\n"  // two fallbacks: by name
            "['-c', 'x', 'x']\nx\n")
      << wasmcap::testing::describe(r);
  fs::path config = tmp.path() / "host.json";
  wasmcap::testing::write_text(config, R"({"shell":{"bundle_order":["coreutils"]}})");
  auto ordered = script("type grep egrep; grep -c x x", {"--config", config.string()});
  EXPECT_EQ(ordered.out,
            "grep is grep from bundle coreutils@0.1.0\negrep is egrep from bundle coreutils@0.1.0\n1\n")
      << wasmcap::testing::describe(ordered);
}

// A bundle's data tree (the python bundle's standard library) is mounted read-only for its own
// commands only, as `wasmcap run NAME` mounts it.
TEST_F(Installed, DataTreeIsMountedForTheBundlesCommandsOnly) {
  fs::path dir = tmp.path() / "pack-data";
  fs::create_directories(dir / "root");
  fs::copy_file(std::string(test_paths::guest_dir()) + "/coreutils.wasm", dir / "m.wasm");
  wasmcap::testing::write_text(dir / "root/hello.txt", "from the data tree\n");
  wasmcap::testing::write_text(dir / "manifest.json",
      R"({"name":"datacat","version":"1.0.0","module":"m.wasm","data":{"path":"root","guest":"/data"},)"
      R"("permissions":{"args":true},"commands":{"dcat":{"argv0":"cat"},"dtouch":{"argv0":"touch"}}})");
  std::string wcb = (dir / "datacat.wcb").string();
  auto p = cli({"bundle", "pack", "--manifest", (dir / "manifest.json").string(), "--key",
                bundles + "/wasmcap-test.key", "--out", wcb});
  ASSERT_EQ(p.exit_code, 0) << wasmcap::testing::describe(p);
  install(wcb);
  auto r = script("dcat /data/hello.txt; dtouch /data/new; echo st=$?; cat /data/hello.txt; "
                  "echo st=$?");
  EXPECT_EQ(r.out, "from the data tree\nst=1\nst=1\n") << wasmcap::testing::describe(r);
}

// The module and data tree of a bundle are checked on the first use of one of its commands
// (ToolModule), not when the shell starts: a bundle modified in the store after install still
// runs nothing. One byte of coreutils' module (in its name section: the module still loads, so
// without the check `ls` would list) and one byte of a data file are changed; the other bundles'
// commands run, the modified ones are refused with the integrity error and print nothing.
TEST_F(Installed, BundleModifiedAfterInstallIsRefusedOnFirstUse) {
  fs::path dir = tmp.path() / "pack-data";
  fs::create_directories(dir / "root");
  fs::copy_file(std::string(test_paths::guest_dir()) + "/oils_helpers.wasm", dir / "m.wasm");
  wasmcap::testing::write_text(dir / "root/hello.txt", "from the data tree\n");
  wasmcap::testing::write_text(dir / "manifest.json",
      R"({"name":"datahelp","version":"1.0.0","module":"m.wasm","data":{"path":"root","guest":"/data"},)"
      R"("permissions":{"args":true},"commands":{"dargv":{"argv0":"argv.py"}}})");
  std::string wcb = (dir / "datahelp.wcb").string();
  auto p = cli({"bundle", "pack", "--manifest", (dir / "manifest.json").string(), "--key",
                bundles + "/wasmcap-test.key", "--out", wcb});
  ASSERT_EQ(p.exit_code, 0) << wasmcap::testing::describe(p);
  install(wcb);
  wasmcap::testing::write_text(work() / "x", "x\n");
  auto before = script("ls; dargv a");
  ASSERT_EQ(before.out, "x\n['a']\n") << wasmcap::testing::describe(before);
  auto flip_last_byte = [](const fs::path& f) {
    fs::permissions(f, fs::perms::owner_write, fs::perm_options::add);
    std::string b = wasmcap::testing::read_text(f);
    ASSERT_FALSE(b.empty());
    b.back() = static_cast<char>(b.back() ^ 0x20);
    wasmcap::testing::write_text(f, b);
  };
  int flipped = 0;
  for (const auto& e : fs::recursive_directory_iterator(fs::path(home()) / "registry/store")) {
    std::string n = e.path().filename().string();
    if (n == "coreutils.wasm" || n == "hello.txt") {
      flip_last_byte(e.path());
      ++flipped;
    }
  }
  ASSERT_EQ(flipped, 2);
  auto r = script("argv.py first; ls; echo ls=$?; dargv b; echo dargv=$?; ls; echo again=$?");
  EXPECT_EQ(r.out, "['first']\nls=65\ndargv=65\nagain=65\n") << wasmcap::testing::describe(r);
  EXPECT_NE(r.err.find("ls: bundle_invalid: installed bundle coreutils@0.1.0 was modified in the "
                       "registry "
                       "(module coreutils.wasm: sha256 mismatch)"),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("dargv: bundle_invalid: installed bundle datahelp@1.0.0 was modified in "
                       "the registry "
                       "(data file root/hello.txt: sha256 mismatch)"),
            std::string::npos)
      << r.err;
}

// A bundle whose manifest requests host_api.https (the python bundle does) loads in the shell,
// and every request is refused: commands in the shell have no network.
TEST_F(Installed, HttpsIsLinkedButNothingIsGranted) {
  fs::path dir = tmp.path() / "pack-fetch";
  fs::create_directories(dir);
  fs::copy_file(std::string(test_paths::guest_dir()) + "/fetch.wasm", dir / "m.wasm");
  wasmcap::testing::write_text(dir / "manifest.json",
      R"({"name":"fetcher","version":"1.0.0","module":"m.wasm","permissions":{"args":true,)"
      R"("host_api":{"https":{"allow":[{"host":"*","methods":["GET"]}],"optional":true}}},)"
      R"("commands":{"fetch":{}}})");
  std::string wcb = (dir / "fetcher.wcb").string();
  auto p = cli({"bundle", "pack", "--manifest", (dir / "manifest.json").string(), "--key",
                bundles + "/wasmcap-test.key", "--out", wcb});
  ASSERT_EQ(p.exit_code, 0) << wasmcap::testing::describe(p);
  install(wcb);
  auto r = script("fetch https://example.com/; echo st=$?");
  EXPECT_NE(r.out.find("\"code\":\"grant_denied\""), std::string::npos)
      << wasmcap::testing::describe(r);
  EXPECT_NE(r.out.find("st=1\n"), std::string::npos) << r.out;
}

// A bundle whose signer is revoked provides nothing; the others still do.
TEST_F(Installed, RevokedSignerProvidesNoCommand) {
  fs::path config = tmp.path() / "host.json";
  wasmcap::testing::write_text(config, R"({"trust":{"revoked":[")" + (bundles + "/wasmcap-test.pub") + R"("]}})");
  auto r = script("argv.py x; ls", {"--config", config.string()});
  EXPECT_EQ(r.exit_code, 127) << wasmcap::testing::describe(r);
  EXPECT_NE(r.err.find("argv.py: command not found"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("ls: command not found"), std::string::npos) << r.err;
}

// argv.py prints what Python 3's print(sys.argv[1:]) prints: the quote Python picks, escapes of
// controls and of non-printable code points, and bytes that are not UTF-8 as \udcXX.
TEST_F(Installed, ArgvPyMatchesPythonRepr) {
  auto r = script("argv.py '' 'a\\b' 'q\"' \"s'\" \"both'\\\"\" '\t\x01\x7f' '\xce\xbc' '\xc2\xa0' "
                  "'\xe2\x80\xa8' 'a\xff" "b' '\xed\xa0\x80' '\xf0\x9f\x98\x80' '\xf4\x90\x80\x80'");
  ASSERT_EQ(r.exit_code, 0) << wasmcap::testing::describe(r);
  EXPECT_EQ(r.out,
            "['', 'a\\\\b', 'q\"', \"s'\", 'both\\'\"', '\\t\\x01\\x7f', '\xce\xbc', '\\xa0', "
            "'\\u2028', 'a\\udcffb', '\\udced\\udca0\\udc80', '\xf0\x9f\x98\x80', "
            "'\\udcf4\\udc90\\udc80\\udc80']\n");
}

// A tool gets the descriptors 3-63 the script has open, at their numbers, as a child of bash
// inherits them (docs/shell.md "Redirections"), with the access they were opened with, and no
// other: a number the script did not open is closed in the tool; the preopens come after the
// highest one passed, and the tool's libc still finds them (cat opens /work/f).
TEST_F(Installed, ToolsGetTheScriptsDescriptorsAtTheirNumbers) {
  wasmcap::testing::write_text(work() / "f", "file\n");
  auto r = script("read_from_fd.py 0 3 5 <<A 3<<B 5<f\na\nA\nb\nB\n"
                  "exec 7<f; read_from_fd.py 7; exec 7<&-; read_from_fd.py 7; echo st=$?\n"
                  "read_from_fd.py 63 63<f; cat /work/f 62<f");
  EXPECT_EQ(r.out, "0: a\n3: b\n5: file\n7: file\nst=1\n63: file\nfile\n")
      << wasmcap::testing::describe(r);
  EXPECT_NE(r.err.find("Error reading from fd 7: [Errno 8]"), std::string::npos) << r.err;
  // The table the tool sees: only what the script opened, each with its access (< and a
  // here-document read only, > and >> write only, <> both), then the preopens (the grant and
  // the session's private /tmp and home, then the virtual /dev and the virtual root:
  // docs/wasi-support.md "/dev" and "The virtual root").
  auto t = script("show_fd_table.py 3<f 4>g 5>>g 6<>f 8<<EOF\nx\nEOF\n"
                  "read_from_fd.py 8 4 8<<EOF\nx\nEOF\n");
  EXPECT_EQ(t.out,
            "0 stdin\n1 stdout\n2 stderr\n3 r\n4 w\n5 w\n6 rw\n8 r\n9 /work\n10 /tmp\n11 /home/user\n"
            "12 /dev\n13 /\n8: x\n")
      << wasmcap::testing::describe(t);
  EXPECT_NE(t.err.find("Error reading from fd 4: [Errno 8] Bad file descriptor"),
            std::string::npos) << t.err;
}

// The session's private /tmp (docs/shell.md "/tmp"; shell_tmp_test.cc for its lifetime):
// mktemp and mktemp -d land under /tmp ($TMPDIR is /tmp), redirections reach it, and nothing
// is left once the shell exits.
TEST_F(Installed, PrivateTmpServesMktempAndRedirections) {
  auto r = script(
      "echo TMPDIR=$TMPDIR; t=$(mktemp) && case $t in /tmp/tmp.*) echo file-under-tmp;; esac\n"
      "echo hello > \"$t\"; cat \"$t\"; rm \"$t\"\n"
      "d=$(mktemp -d) && case $d in /tmp/*) echo dir-under-tmp;; esac; echo y > $d/f; cat $d/f\n"
      "echo x > /tmp/a; cat /tmp/a; ls /tmp | wc -l\n");
  ASSERT_EQ(r.exit_code, 0) << wasmcap::testing::describe(r);
  EXPECT_EQ(r.out, "TMPDIR=/tmp\nfile-under-tmp\nhello\ndir-under-tmp\ny\nx\n2\n");
  EXPECT_TRUE(fs::is_empty(fs::path(home()) / "tmp")) << "the session's /tmp outlived it";
}

// Escapes from /tmp fail as from any preopen: symlinks made in it that lead out of it (to its
// parent, HOME/tmp, or an absolute host path) are refused, for tools and for the shell's own
// redirections, and `..` stays in the guest's tree.
TEST_F(Installed, PrivateTmpEscapesFail) {
  wasmcap::testing::write_text(fs::path(home()) / "secret", "host secret\n");
  auto r = script(
      "ln -s .. /tmp/up; ln -s ../../secret /tmp/s; ln -s " + home() + "/secret /tmp/abs\n"
      "cat /tmp/s 2>/dev/null || echo s-refused; cat /tmp/abs 2>/dev/null || echo abs-refused\n"
      "ls /tmp/up/ 2>/dev/null || echo up-refused; cat < /tmp/s 2>/dev/null || echo redir-refused\n"
      "echo x > /tmp/up/planted 2>/dev/null || echo write-refused\n"
      "cat /tmp/../../secret 2>/dev/null || echo dotdot-refused\n");
  EXPECT_EQ(r.out,
            "s-refused\nabs-refused\nup-refused\nredir-refused\nwrite-refused\ndotdot-refused\n")
      << wasmcap::testing::describe(r);
  EXPECT_FALSE(fs::exists(fs::path(home()) / "tmp" / "planted"));
}

}  // namespace
}  // namespace wasmcap::shell


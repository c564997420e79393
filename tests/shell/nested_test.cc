// Nested shells (`sh -c`, `sh FILE`, `bash`) and scripts run by path (`./tool.py`): the
// parsing of their command lines and #! lines (src/shell/nested.cc), and their runs through the
// CLI in the same sandbox and on the same counters.
#include <gtest/gtest.h>

#include "shell/nested.h"
#include "test_support.h"
#include "wasmcap/shell.h"

namespace wasmcap::shell {
namespace {

namespace fs = std::filesystem;

TEST(NestedArgv, DashCTakesTheScriptThenNameAndArgs) {
  auto a = parse_nested_argv({"sh", "-c", "echo hi", "name", "x", "y"});
  ASSERT_TRUE(a);
  EXPECT_EQ(a->source, NestedInvocation::Source::kString);
  EXPECT_EQ(a->text, "echo hi");
  EXPECT_EQ(a->arg0, "name");
  EXPECT_EQ(a->args, (std::vector<std::string>{"x", "y"}));
  auto b = parse_nested_argv({"bash", "-c", "true"});
  ASSERT_TRUE(b);
  EXPECT_EQ(b->arg0, "bash");
  auto f = parse_nested_argv({"sh", "script.sh", "1"});
  ASSERT_TRUE(f);
  EXPECT_EQ(f->source, NestedInvocation::Source::kFile);
  EXPECT_EQ(f->arg0, "script.sh");
  EXPECT_EQ(f->args, std::vector<std::string>{"1"});
  auto s = parse_nested_argv({"sh", "-s"});
  ASSERT_TRUE(s);
  EXPECT_EQ(s->source, NestedInvocation::Source::kStdin);
  auto dd = parse_nested_argv({"sh", "--", "-file"});
  ASSERT_TRUE(dd);
  EXPECT_EQ(dd->text, "-file");
}

// bash's startup-file options, as agent harnesses start it (`bash -lc CMD`, `bash --noprofile
// --norc -c CMD`): taken, and a nested shell reads no startup file either way.
TEST(NestedArgv, StartupFileOptionsAreTaken) {
  for (const auto& argv : std::vector<std::vector<std::string_view>>{
           {"bash", "-lc", "echo hi"},
           {"bash", "--login", "-c", "echo hi"},
           {"bash", "--noprofile", "--norc", "-c", "echo hi"},
           {"bash", "--rcfile", "/dev/null", "-l", "-c", "echo hi"},
           {"sh", "--init-file", "x", "-c", "echo hi"}}) {
    auto r = parse_nested_argv(argv);
    ASSERT_TRUE(r) << argv[1] << ": " << r.error().message;
    EXPECT_EQ(r->source, NestedInvocation::Source::kString);
    EXPECT_EQ(r->text, "echo hi");
    EXPECT_TRUE(r->options.empty());
  }
  auto missing = parse_nested_argv({"bash", "--rcfile"});
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().message, "bash: --rcfile: option requires an argument");
  EXPECT_FALSE(parse_nested_argv({"bash", "--posix", "-c", "true"}));
  EXPECT_FALSE(parse_nested_argv({"bash", "+l", "-c", "true"}));
}

// The options of set are taken (`-eu`, `+x`, `-o pipefail`) when the caller says they can be
// set; any other option is refused, naming it: ignored, -e would let the script run on past
// the failures it meant to stop at.
TEST(NestedArgv, SetOptionsAreTakenOthersRefused) {
  auto settable = [](std::string_view n) { return n == "e" || n == "u" || n == "pipefail"; };
  auto ok = parse_nested_argv({"sh", "-eu", "+e", "-o", "pipefail", "-c", "true"}, settable);
  ASSERT_TRUE(ok) << ok.error().message;
  EXPECT_EQ(ok->options, (std::vector<std::pair<std::string, bool>>{
                             {"e", true}, {"u", true}, {"e", false}, {"pipefail", true}}));
  EXPECT_EQ(ok->text, "true");
  auto k = parse_nested_argv({"sh", "-k", "-c", "true"}, settable);
  ASSERT_FALSE(k);
  EXPECT_EQ(k.error().message,
            "sh: -k: option not supported (only -c, -s, -i, -l, --login, --norc, --noprofile, --rcfile and the options of set)");
  auto o = parse_nested_argv({"sh", "-o", "vi"}, settable);
  ASSERT_FALSE(o);
  EXPECT_EQ(o.error().message,
            "sh: -o vi: option not supported (only -c, -s, -i, -l, --login, --norc, --noprofile, --rcfile and the options of set)");
  auto e = parse_nested_argv({"sh", "-e", "-c", "false; echo no"});
  ASSERT_FALSE(e);
  EXPECT_EQ(e.error().message, "sh: -e: option not supported (only -c, -s, -i, -l, --login, --norc, --noprofile and --rcfile)");
  auto esc = parse_nested_argv({"bash", "-\x1b[2J"}, settable);
  ASSERT_FALSE(esc);
  EXPECT_EQ(esc.error().message,
            "bash: -\\x1b[2J: option not supported (only -c, -s, -i, -l, --login, --norc, --noprofile, --rcfile and the options of set)");
  auto c = parse_nested_argv({"sh", "-c"});
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().message, "sh: -c: option requires an argument");
}

TEST(Shebang, NamesTheInterpreterCommand) {
  auto env = parse_shebang("#!/usr/bin/env python3\nprint(1)\n");
  ASSERT_TRUE(env);
  EXPECT_EQ(env->interpreter, "python3");
  EXPECT_EQ(env->arg, "");
  auto direct = parse_shebang("#! /usr/bin/python3 -u \r\nx");
  ASSERT_TRUE(direct);
  EXPECT_EQ(direct->interpreter, "python3");
  EXPECT_EQ(direct->arg, "-u");
  auto sh = parse_shebang("#!/bin/sh");
  ASSERT_TRUE(sh);
  EXPECT_EQ(sh->interpreter, "sh");
  auto none = parse_shebang("echo hi\n");
  ASSERT_TRUE(none);
  EXPECT_EQ(none->interpreter, "");
}

// The #! line is hostile text: bounded, absolute, and `env` takes exactly a name.
TEST(Shebang, BadLinesAreRefused) {
  std::string longest = "#!/" + std::string(kMaxShebangBytes - 3, 'a') + "\n";
  EXPECT_TRUE(parse_shebang(longest));
  std::string too_long = "#!/" + std::string(kMaxShebangBytes - 2, 'a') + "\n";
  auto l = parse_shebang(too_long);
  ASSERT_FALSE(l);
  EXPECT_EQ(l.error().message, "the #! line is longer than 256 bytes");
  auto no_newline = parse_shebang("#!/" + std::string(kMaxShebangBytes, 'a'));
  ASSERT_FALSE(no_newline);
  struct Case {
    const char* line;
    const char* want;
  } cases[] = {
      {"#!python3\n", "the #! line names no absolute interpreter path: python3"},
      {"#!\n", "the #! line names no absolute interpreter path: "},
      {"#!/usr/bin/\n", "the #! line's interpreter is a directory: /usr/bin/"},
      {"#!/usr/bin/env\n", "#!/usr/bin/env names no interpreter"},
      {"#!/usr/bin/env -S python3 -u\n",
       "#!/usr/bin/env with options or several words is not supported: -S python3 -u"},
      {"#!/usr/bin/env /opt/python3\n",
       "#!/usr/bin/env takes a command name, not a path: /opt/python3"},
      {"#!/usr/bin/env python3 -u\n",
       "#!/usr/bin/env with options or several words is not supported: python3 -u"},
  };
  for (const auto& c : cases) {
    auto r = parse_shebang(c.line);
    ASSERT_FALSE(r) << c.line;
    EXPECT_EQ(r.error().message, c.want);
  }
}

// --- through the CLI -------------------------------------------------------------------------

struct NestedCli : ::testing::Test {
  wasmcap::testing::TempDir tmp;
  std::string bundles = test_paths::bundle_dir();
  std::string home() { return (tmp.path() / "home").string(); }
  fs::path work() { return tmp.path() / "work"; }
  void SetUp() override {
    fs::create_directories(fs::path(home()) / "trust");
    fs::create_directories(work());
    if (!fs::exists(bundles + "/oils_helpers.wcb")) GTEST_SKIP() << "no oils_helpers bundle";
    fs::copy_file(bundles + "/wasmcap-test.pub", fs::path(home()) / "trust/wasmcap-test.pub");
    auto i = cli({"bundle", "install", bundles + "/oils_helpers.wcb"});
    ASSERT_EQ(i.exit_code, 0) << wasmcap::testing::describe(i);
  }
  wasmcap::testing::ProcResult cli(std::vector<std::string> args) {
    wasmcap::testing::ProcOptions o;
    o.extra_env.emplace_back("WASMCAP_HOME", home());
    if (!args.empty() && args[0] == "sh") {
      args.insert(args.begin() + 1, {"--engine", wasmcap::testing::test_engine_name()});
    }
    return wasmcap::testing::run_cli(args, o);
  }
  wasmcap::testing::ProcResult script(const std::string& s, std::vector<std::string> extra = {}) {
    std::vector<std::string> a{"sh", "--dir", work().string() + "::/work"};
    a.insert(a.end(), extra.begin(), extra.end());
    a.insert(a.end(), {"-c", s});
    return cli(a);
  }
  void executable(const std::string& rel, const std::string& text) {
    wasmcap::testing::write_text(work() / rel, text);
    fs::permissions(work() / rel, fs::perms::owner_all);
  }
};

TEST_F(NestedCli, ShDashCRunsInTheSameSandbox) {
  wasmcap::testing::write_text(work() / "f", "x");
  auto r = script("sh -c 'echo in; cd /work; test -f f && echo sees-f; exit 3'; echo st=$?; "
                  "bash -c 'X=1'; echo x=$X; sh -c 'if'; echo parse=$?",
                  {"--env", "E=from-env"});
  EXPECT_EQ(r.out, "in\nsees-f\nst=3\nx=\nparse=2\n") << wasmcap::testing::describe(r);
  // Exported variables (the environment) are inherited at their current values; others not.
  auto e = script("E=changed; L=local; sh -c 'echo $E $L.'", {"--env", "E=from-env"});
  EXPECT_EQ(e.out, "changed .\n") << wasmcap::testing::describe(e);
  // set's options are taken (-e: the nested shell stops at the failure); a refused option is
  // status 2 with a message naming it.
  auto o = script("sh -e -c 'false; echo no'; echo st=$?; sh --posix -c 'echo no'; echo st=$?");
  EXPECT_EQ(o.out, "st=1\nst=2\n");
  EXPECT_NE(o.err.find("sh: --posix: option not supported"), std::string::npos) << o.err;
}

TEST_F(NestedCli, ShFileAndStdin) {
  wasmcap::testing::write_text(work() / "s.sh", "echo from-file; argv.py a\n");
  auto r = script("sh s.sh; echo 'echo from-stdin' > in.sh; sh < in.sh; sh nope.sh; echo st=$?");
  EXPECT_EQ(r.out, "from-file\n['a']\nfrom-stdin\nst=127\n") << wasmcap::testing::describe(r);
  // A script outside the preopens is refused like a redirection.
  auto out = script("sh /etc/passwd; echo st=$?");
  EXPECT_EQ(out.out, "st=127\n");
  EXPECT_NE(out.err.find("/etc/passwd: No such file or directory"), std::string::npos)
      << out.err;  // (no /etc above the preopens: the virtual root's names only)
}

// The nested shell's commands count toward the session's limits: a loop of nested shells is
// stopped by --max-commands like any other script.
TEST_F(NestedCli, NestedCommandsCountTowardTheSessionLimits) {
  auto r = script("sh -c 'true; true; true; true'", {"--max-commands", "3"});
  EXPECT_EQ(r.exit_code, 81) << wasmcap::testing::describe(r);
  auto out = script("sh -c 'echo 0123456789'", {"--max-output-bytes", "5"});
  EXPECT_EQ(out.exit_code, 84) << wasmcap::testing::describe(out);
}

// `sh` reading its script from a stdin that never ends waits no longer than the deadline.
TEST_F(NestedCli, StdinScriptWaitEndsAtTheDeadline) {
  // timing: the shell's --timeout-ms ends the nested shell's wait on an open, empty stdin
  wasmcap::testing::ProcOptions o;
  o.keep_stdin_open = true;
  o.timeout_ms = 10000;
  o.extra_env.emplace_back("WASMCAP_HOME", home());
  auto r = wasmcap::testing::run_cli({"sh", "--engine", wasmcap::testing::test_engine_name(),
                                      "--dir", work().string() + "::/work", "--timeout-ms", "300",
                                      "-c", "sh"}, o);
  EXPECT_EQ(r.exit_code, 82) << wasmcap::testing::describe(r);
  EXPECT_FALSE(r.timed_out);
}

// Nesting is bounded: 16 levels run, the 17th fails with status 2 and a message.
TEST_F(NestedCli, NestingDepthIsBounded) {
  // s.sh runs itself again with one more x, printing its depth, until the bound stops it.
  wasmcap::testing::write_text(work() / "s.sh", "echo level; sh s.sh\n");
  auto r = script("sh s.sh; echo st=$?");
  size_t levels = 0;
  for (size_t p = r.out.find("level"); p != std::string::npos; p = r.out.find("level", p + 1)) ++levels;
  EXPECT_EQ(levels, kMaxNestedShells) << wasmcap::testing::describe(r);
  EXPECT_NE(r.err.find("sh: nested shells are at most 16 deep"), std::string::npos) << r.err;
  EXPECT_NE(r.out.find("st=2\n"), std::string::npos) << r.out;
}

TEST_F(NestedCli, ScriptsRunThroughTheirShebang) {
  executable("tool.py", "#!/usr/bin/env argv.py\nignored\n");
  executable("direct", "#!/opt/bin/argv.py -x\n");
  executable("plain.sh", "echo plain\n");
  executable("bad", "#!/usr/bin/env -S argv.py\n");
  executable("missing", "#!/usr/bin/env python9\n");
  executable("long", "#!/" + std::string(300, 'a') + "\n");
  wasmcap::testing::write_text(work() / "noexec", "#!/usr/bin/env argv.py\n");
  auto r = script("./tool.py a b; /work/direct c; ./plain.sh; ./bad; echo st=$?; ./missing; "
                  "echo st=$?; ./long; echo st=$?; ./noexec; echo st=$?; ./nope; echo st=$?");
  EXPECT_EQ(r.out,
            "['/work/tool.py', 'a', 'b']\n['-x', '/work/direct', 'c']\nplain\nst=126\nst=127\n"
            "st=126\nst=126\nst=127\n")
      << wasmcap::testing::describe(r);
  EXPECT_NE(r.err.find("./bad: #!/usr/bin/env with options"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("python9: command not found"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("./long: the #! line is longer than 256 bytes"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("./noexec: Permission denied"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace wasmcap::shell

// The `wasmcap` command line: flag parsing (--dir, --env), subcommands, exit codes for each
// error class, `inspect` output, help and version.
#include <algorithm>
#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include "cli/cli.h"
#include "common/failpoint.h"
#include "test_support.h"

namespace wasmcap {
namespace {

namespace fs = std::filesystem;
using testing::describe;
using testing::guest_path;
using testing::run_cli;

// --- --dir ------------------------------------------------------------------------------------

struct DirCase {
  const char* spec;
  const char* host;
  const char* guest;
  bool read_only;
};

TEST(CliDirSpec, ValidSpecs) {
  const DirCase cases[] = {
      {"/data", "/data", "/data", false},
      {"data", "data", "data", false},
      {"/data::/work", "/data", "/work", false},
      {"/data::/work:ro", "/data", "/work", true},
      {"/data::/work:rw", "/data", "/work", false},
      {"/data:ro", "/data", "/data", true},
      {"/data:rw", "/data", "/data", false},
      {"./rel/dir::sandbox", "./rel/dir", "sandbox", false},
      {"/a b/c::/x y:ro", "/a b/c", "/x y", true},
      {"/tmp/x::.", "/tmp/x", ".", false},
  };
  for (const auto& c : cases) {
    auto p = cli::parse_dir_spec(c.spec);
    ASSERT_TRUE(p.has_value()) << c.spec << ": " << p.error().to_string();
    EXPECT_EQ(p->host_path, c.host) << c.spec;
    EXPECT_EQ(p->guest_path, c.guest) << c.spec;
    EXPECT_EQ(p->read_only, c.read_only) << c.spec;
  }
}

TEST(CliDirSpec, EmptyPartsAreRejected) {
  for (const char* spec : {"", "::", "::/work", "/data::", "::/work:ro", "/data:::ro", ":ro",
                           ":rw", "::ro"}) {
    auto p = cli::parse_dir_spec(spec);
    if (p.has_value()) {
      ADD_FAILURE() << "'" << spec << "' was accepted as host='" << p->host_path << "' guest='"
                    << p->guest_path << "' ro=" << p->read_only;
      continue;
    }
    EXPECT_EQ(p.error().code, ErrorCode::kInvalidArgument) << spec;
    EXPECT_NE(p.error().message.find("HOST[::GUEST]"), std::string::npos)
        << "the message should show the syntax: " << p.error().message;
  }
}

// The :ro/:rw suffix belongs after the guest part; stripping it must not cut into the "::"
// separator ("/data::ro" is host /data with guest "ro", or an error -- never host "/data:").
TEST(CliDirSpec, AccessSuffixDoesNotEatTheSeparator) {
  for (const char* spec : {"/data::ro", "/data::rw"}) {
    auto p = cli::parse_dir_spec(spec);
    if (!p.has_value()) continue;
    EXPECT_EQ(p->host_path, "/data") << spec << " -> host '" << p->host_path << "' guest '"
                                     << p->guest_path << "'";
  }
}

// A grant flag is exact or refused (issue #10 item 11): "HOST::GUEST:readonly" used to become
// a writable mount at guest path "GUEST:readonly". Any suffix other than :ro/:rw is an error and
// a guest path never holds ':'. The whole message is checked, so it stays helpful.
TEST(CliDirSpec, EveryMalformedGrantIsRefusedWithAnExactError) {
  struct Case {
    const char* spec;
    const char* message;
  };
  const Case cases[] = {
      {"/data::/work:readonly",
       "--dir '/data::/work:readonly': unknown access mode 'readonly' (only ro or rw); use "
       "HOST[::GUEST][:ro|:rw]"},
      {"/data::/work:RO",
       "--dir '/data::/work:RO': unknown access mode 'RO' (only ro or rw); use "
       "HOST[::GUEST][:ro|:rw]"},
      {"/data::/work:",
       "--dir '/data::/work:': unknown access mode '' (only ro or rw); use HOST[::GUEST][:ro|:rw]"},
      {"/data:readonly",
       "--dir '/data:readonly': unknown access mode 'readonly' (only ro or rw); use "
       "HOST[::GUEST][:ro|:rw]"},
      {"/data::/a:b:ro",
       "--dir '/data::/a:b:ro': a guest path cannot contain ':'; use HOST[::GUEST][:ro|:rw]"},
      {"/data::/work:ro:rw",
       "--dir '/data::/work:ro:rw': a guest path cannot contain ':'; use HOST[::GUEST][:ro|:rw]"},
      {"/a:b:ro",
       "--dir '/a:b:ro': a path with ':' needs the HOST::GUEST form, and a guest path cannot "
       "contain ':'; use HOST[::GUEST][:ro|:rw]"},
      {"/data::", "--dir '/data::': empty guest path; use HOST[::GUEST][:ro|:rw]"},
      {"::/work", "--dir '::/work': empty host path; use HOST[::GUEST][:ro|:rw]"},
      {"/data:::ro", "--dir '/data:::ro': empty guest path; use HOST[::GUEST][:ro|:rw]"},
  };
  for (const auto& c : cases) {
    auto p = cli::parse_dir_spec(c.spec);
    if (p.has_value()) {
      ADD_FAILURE() << "'" << c.spec << "' was accepted as host='" << p->host_path
                    << "' guest='" << p->guest_path << "' ro=" << p->read_only;
      continue;
    }
    EXPECT_EQ(p.error().code, ErrorCode::kInvalidArgument) << c.spec;
    EXPECT_EQ(p.error().message, c.message) << c.spec;
  }
}

// The same refusal through the CLI: the run does not start (exit 64, invalid_argument).
TEST(CliDirSpec, MalformedGrantStopsTheRun) {
  testing::TempDir dir;
  auto r = testing::run_cli({"run", "--dir", dir.str() + "::/w:readonly",
                             testing::guest_path("hello")});
  EXPECT_EQ(r.exit_code, 64) << testing::describe(r);
  EXPECT_NE(r.err.find("unknown access mode 'readonly'"), std::string::npos)
      << testing::describe(r);
  EXPECT_EQ(r.out, "") << "the guest ran";
}

// --- --max-write-mb -----------------------------------------------------------------------------

// The write budget through the CLI (docs/security-model.md, "Write budget"): cp of a 3 MiB file
// under --max-write-mb 1 writes what fits (1 MiB less the new file's 4 KiB) and fails with
// ENOSPC, as on a full disk; the default budget (4 GiB) lets it through, and --max-write-mb
// may raise it.
TEST(CliWriteBudget, MaxWriteMbBoundsWhatAGuestAddsToTheDisk) {
  testing::TempDir dir;
  fs::create_directories(dir.path() / "src");
  fs::create_directories(dir.path() / "out");
  dir.write("src/big", std::string(3u << 20, 'b'));
  auto cp = [&](const std::vector<std::string>& flags, const std::string& to) {
    std::vector<std::string> argv = {"run", "--dir", dir / "src" + "::/src:ro", "--dir",
                                     dir / "out" + "::/out"};
    argv.insert(argv.end(), flags.begin(), flags.end());
    for (std::string a : {guest_path("coreutils"), std::string("cp"), std::string("/src/big"),
                          "/out/" + to}) {
      argv.push_back(a);
    }
    return run_cli(argv);
  };
  auto cut = cp({"--max-write-mb", "1"}, "cut");
  EXPECT_NE(cut.exit_code, 0) << describe(cut);
  EXPECT_NE(cut.err.find("No space left on device"), std::string::npos) << describe(cut);
  EXPECT_EQ(fs::file_size(dir.path() / "out" / "cut"), (1u << 20) - 4096u);
  auto fits = cp({}, "whole");
  EXPECT_EQ(fits.exit_code, 0) << describe(fits);
  EXPECT_EQ(fs::file_size(dir.path() / "out" / "whole"), 3u << 20);
  auto raised = cp({"--max-write-mb", "5000"}, "raised");
  EXPECT_EQ(raised.exit_code, 0) << describe(raised);
  auto bad = run_cli({"run", "--max-write-mb", "-1", guest_path("hello")});
  EXPECT_EQ(bad.exit_code, 64) << describe(bad);
}

// --- --env ------------------------------------------------------------------------------------

TEST(CliEnvSpec, ValidSpecs) {
  struct Case {
    const char* spec;
    const char* name;
    const char* value;
  } cases[] = {{"A=1", "A", "1"},
               {"EMPTY=", "EMPTY", ""},
               {"X=a=b=c", "X", "a=b=c"},
               {"PATH=/bin:/usr/bin", "PATH", "/bin:/usr/bin"},
               {"SP=has space", "SP", "has space"},
               {"lower_case=v", "lower_case", "v"}};
  for (const auto& c : cases) {
    auto kv = cli::parse_env_spec(c.spec);
    ASSERT_TRUE(kv.has_value()) << c.spec;
    EXPECT_EQ(kv->first, c.name) << c.spec;
    EXPECT_EQ(kv->second, c.value) << c.spec;
  }
}

TEST(CliEnvSpec, NamesAreValidatedWithAnExactError) {
  struct Case {
    const char* spec;
    const char* message;
  };
  const char* rule =
      "must be an environment variable name: [A-Za-z_][A-Za-z0-9_]*, at most 256 bytes; "
      "expected NAME=VALUE";
  const Case cases[] = {
      {"1ABC=x", "--env '1ABC=x': NAME "},
      {"A-B=x", "--env 'A-B=x': NAME "},
      {"A B=x", "--env 'A B=x': NAME "},
      {"PATH\n=x", "--env 'PATH\n=x': NAME "},
      {"A.B=x", "--env 'A.B=x': NAME "},
  };
  for (const auto& c : cases) {
    auto kv = cli::parse_env_spec(c.spec);
    if (kv.has_value()) {
      ADD_FAILURE() << "'" << c.spec << "' was accepted as " << kv->first << "=" << kv->second;
      continue;
    }
    EXPECT_EQ(kv.error().code, ErrorCode::kInvalidArgument) << c.spec;
    EXPECT_EQ(kv.error().message, std::string(c.message) + rule) << c.spec;
  }
  std::string long_name(257, 'A');
  EXPECT_FALSE(cli::parse_env_spec(long_name + "=x").has_value());
  EXPECT_TRUE(cli::parse_env_spec(std::string(256, 'A') + "=x").has_value());
  auto kv = cli::parse_env_spec("_A1=a=b");  // the value may hold '='
  ASSERT_TRUE(kv.has_value());
  EXPECT_EQ(kv->second, "a=b");
}

TEST(CliEnvSpec, InvalidSpecsAreRejected) {
  for (const char* spec : {"", "=", "=value", "NOEQUALS"}) {
    auto kv = cli::parse_env_spec(spec);
    ASSERT_FALSE(kv.has_value()) << "'" << spec << "' accepted";
    EXPECT_EQ(kv.error().code, ErrorCode::kInvalidArgument) << spec;
    EXPECT_NE(kv.error().message.find("NAME=VALUE"), std::string::npos) << kv.error().message;
  }
}

// --- exit codes -------------------------------------------------------------------------------

// One line on stderr: "wasmcap: error: <code_name>: <message>", and the documented exit code.
void expect_error(const testing::ProcResult& r, ErrorCode code, const std::string& needle = "") {
  ASSERT_TRUE(r.exited) << describe(r);
  EXPECT_EQ(r.exit_code, error_exit_code(code)) << describe(r);
  const std::string prefix = "wasmcap: error: " + std::string(error_code_name(code)) + ": ";
  EXPECT_EQ(r.err.rfind(prefix, 0), 0u) << describe(r);
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << "one line expected\n" << r.err;
  if (!needle.empty()) {
    EXPECT_NE(r.err.find(needle), std::string::npos) << describe(r);
  }
}

TEST(CliExitCodes, MissingModuleIsNotFound66) {
  auto r = run_cli({"run", "/nonexistent/dir/missing.wasm"});
  expect_error(r, ErrorCode::kNotFound, "/nonexistent/dir/missing.wasm");
  EXPECT_EQ(r.exit_code, 66);
  auto i = run_cli({"inspect", "/nonexistent/dir/missing.wasm"});
  expect_error(i, ErrorCode::kNotFound, "missing.wasm");
}

TEST(CliExitCodes, MalformedModuleIs65) {
  testing::TempDir dir;
  const fs::path junk = dir.path() / "junk.wasm";
  testing::write_text(junk, "this is not a wasm module at all");
  auto r = run_cli({"run", junk.string()});
  expect_error(r, ErrorCode::kModuleMalformed);
  EXPECT_EQ(r.exit_code, 65);
  const fs::path empty = dir.path() / "empty.wasm";
  testing::write_text(empty, "");
  expect_error(run_cli({"run", empty.string()}), ErrorCode::kModuleMalformed);
  const fs::path truncated = dir.path() / "truncated.wasm";
  auto bytes = testing::guest_bytes("hello");
  testing::write_text(truncated, std::string(bytes.begin(), bytes.begin() + bytes.size() / 2));
  expect_error(run_cli({"run", truncated.string()}), ErrorCode::kModuleMalformed);
  expect_error(run_cli({"inspect", junk.string()}), ErrorCode::kModuleMalformed);
}

TEST(CliExitCodes, UsageErrorsAre64) {
  for (const std::vector<std::string>& args :
       std::vector<std::vector<std::string>>{{},
                                             {"frobnicate"},
                                             {"frobnicate", "x.wasm"},
                                             {"run"},
                                             {"run", "--bogus-flag", guest_path("hello")},
                                             {"--bogus-flag"},
                                             {"run", "--fuel", "lots", guest_path("hello")},
                                             {"run", "--fuel", "-5", guest_path("hello")},
                                             {"run", "--max-memory-mb", "0", guest_path("hello")},
                                             {"run", "--max-memory-mb", "5000", guest_path("hello")},
                                             {"run", "--engine", "v8", guest_path("hello")},
                                             // wabt's interpreter left the product (the tests'
                                             // oracle); fast was another name of interp.
                                             {"run", "--engine", "wabt", guest_path("hello")},
                                             {"run", "--engine", "fast", guest_path("hello")},
                                             {"inspect"}}) {
    auto r = run_cli(args);
    std::string joined;
    for (const auto& a : args) joined += a + " ";
    ASSERT_TRUE(r.exited) << joined << describe(r);
    EXPECT_EQ(r.exit_code, 64) << "wasmcap " << joined << "\n" << describe(r);
    EXPECT_FALSE(r.err.empty()) << joined;
  }
}

TEST(CliExitCodes, BadDirAndEnvFlagsAre64) {
  expect_error(run_cli({"run", "--dir", "::/work", guest_path("hello")}),
               ErrorCode::kInvalidArgument, "::/work");
  expect_error(run_cli({"run", "--dir", "/tmp::", guest_path("hello")}),
               ErrorCode::kInvalidArgument);
  expect_error(run_cli({"run", "--env", "=x", guest_path("hello")}), ErrorCode::kInvalidArgument,
               "NAME=VALUE");
  expect_error(run_cli({"run", "--env", "NOVALUE", guest_path("hello")}),
               ErrorCode::kInvalidArgument);
}

TEST(CliExitCodes, PreopenThatIsNotADirectory) {
  testing::TempDir dir;
  expect_error(run_cli({"run", "--dir", (dir.path() / "absent").string() + "::/x",
                        guest_path("hello")}),
               ErrorCode::kNotFound, "absent");
  const fs::path file = dir.path() / "file.txt";
  testing::write_text(file, "x");
  auto r = run_cli({"run", "--dir", file.string() + "::/x", guest_path("hello")});
  ASSERT_TRUE(r.exited) << describe(r);
  EXPECT_NE(r.exit_code, 0) << describe(r);
  EXPECT_NE(r.err.find("file.txt"), std::string::npos) << describe(r);
}

TEST(CliExitCodes, LinkTrapAndEntryErrors) {
  expect_error(run_cli({"run", guest_path("info")}), ErrorCode::kLinkError, "env.log");
  expect_error(run_cli({"run", guest_path("values")}), ErrorCode::kNoEntryPoint, "_start");
  expect_error(run_cli({"run", "--invoke", "nope", guest_path("hello")}), ErrorCode::kNoEntryPoint,
               "nope");
  expect_error(run_cli({"run", "--invoke", "unreachable", guest_path("traps")}),
               ErrorCode::kTrapUnreachable);
  expect_error(run_cli({"run", "--invoke", "div_zero_s", guest_path("traps")}),
               ErrorCode::kTrapIntegerDivideByZero);
  expect_error(run_cli({"run", "--invoke", "mem_oob_load", guest_path("traps")}),
               ErrorCode::kTrapMemoryOutOfBounds);
}

// --- run ------------------------------------------------------------------------------------

TEST(CliRun, HelloWithArgsAndEnv) {
  auto r = run_cli({"run", "--env", "WHO=tester", guest_path("hello"), "one", "two"});
  ASSERT_TRUE(r.exited) << describe(r);
  EXPECT_EQ(r.exit_code, 0) << describe(r);
  EXPECT_EQ(r.out, "hello from wasm\narg[1]=one\narg[2]=two\nWHO=tester\n");
  EXPECT_EQ(r.err, "");
}

TEST(CliRun, FlagsAfterTheModuleBelongToTheGuest) {
  auto r = run_cli({"run", guest_path("hello"), "--env", "WHO=x", "--help"});
  ASSERT_TRUE(r.exited) << describe(r);
  EXPECT_EQ(r.exit_code, 0) << describe(r);
  EXPECT_EQ(r.out, "hello from wasm\narg[1]=--env\narg[2]=WHO=x\narg[3]=--help\n");
}

// A reader that stops reading stdout cannot hold the run past its deadline: the guest's writes
// wait for room in the deadline's steps (a blocked write(2) would see no deadline: before, this
// run hung until the watchdog's 20 s; stderr is written by the same code).
// Also without our own non-blocking description of the pipe (failpoint wasi.pipe.reopen: as
// on a system without /proc), where each write waits for room and writes at most PIPE_BUF.
TEST(CliRun, AStalledStdoutPipeEndsAtTheDeadline) {
  for (const char* fp : {"", "wasi.pipe.reopen=eio"}) {
    if (*fp != '\0' && !failpoint::compiled_in()) continue;
    testing::ProcOptions po;
    po.stall_stdout = true;
    if (*fp != '\0') po.extra_env.emplace_back("WASMCAP_FAILPOINTS", fp);
    auto r =
        run_cli({"run", "--timeout-ms", "1000", "--argv0", "yes", guest_path("coreutils")}, po);
    ASSERT_TRUE(r.exited) << fp << describe(r);
    EXPECT_EQ(r.exit_code, 82) << fp << describe(r);
    EXPECT_LT(r.wall_ms, 15000) << fp << describe(r);
    EXPECT_NE(r.err.find("deadline_exceeded"), std::string::npos) << fp << describe(r);
  }
}

TEST(CliRun, StdinIsPassedThrough) {
  testing::ProcOptions po;
  po.stdin_data = "abc";
  auto r = run_cli({"run", guest_path("stdin_read")}, po);
  ASSERT_TRUE(r.exited) << describe(r);
  EXPECT_EQ(r.exit_code, 3) << describe(r);
}

// --- inspect ----------------------------------------------------------------------------------

TEST(CliInspect, ListsImportsExportsAndMemory) {
  auto r = run_cli({"inspect", guest_path("info")});
  ASSERT_TRUE(r.exited) << describe(r);
  EXPECT_EQ(r.exit_code, 0) << describe(r);
  const auto lines = testing::lines_of(r.out);
  auto has = [&](const std::string& line) {
    return std::find(lines.begin(), lines.end(), line) != lines.end();
  };
  ASSERT_FALSE(lines.empty());
  EXPECT_EQ(lines[0].rfind("module: ", 0), 0u) << r.out;
  EXPECT_NE(lines[0].find("3 functions"), std::string::npos) << r.out;
  EXPECT_TRUE(has("imports (2):")) << r.out;
  EXPECT_TRUE(has("  func env.log (i32, i64) -> (f32)")) << r.out;
  EXPECT_TRUE(has("  func wasi_snapshot_preview1.proc_exit (i32) -> ()")) << r.out;
  EXPECT_TRUE(has("exports (5):")) << r.out;
  EXPECT_TRUE(has("  memory memory pages min=2 max=10")) << r.out;
  EXPECT_TRUE(has("  global counter")) << r.out;
  EXPECT_TRUE(has("  table tbl")) << r.out;
  EXPECT_TRUE(has("  func run (f64) -> (i32, i64)")) << r.out;
  EXPECT_TRUE(has("  func _start () -> ()")) << r.out;
  EXPECT_TRUE(has("memories (1):")) << r.out;
  EXPECT_TRUE(has("  memory 0 pages min=2 max=10")) << r.out;
}

TEST(CliInspect, RealGuest) {
  auto r = run_cli({"inspect", guest_path("hello")});
  ASSERT_TRUE(r.exited) << describe(r);
  EXPECT_EQ(r.exit_code, 0) << describe(r);
  EXPECT_NE(r.out.find("  func wasi_snapshot_preview1.fd_write (i32, i32, i32, i32) -> (i32)"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("  func _start () -> ()"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("memory memory pages min="), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("max=none"), std::string::npos) << r.out;
}

// --- help / version -----------------------------------------------------------------------------

TEST(CliHelp, HelpAndVersion) {
  auto h = run_cli({"--help"});
  ASSERT_TRUE(h.exited) << describe(h);
  EXPECT_EQ(h.exit_code, 0) << describe(h);
  EXPECT_NE(h.out.find("run"), std::string::npos) << h.out;
  EXPECT_NE(h.out.find("inspect"), std::string::npos) << h.out;

  auto rh = run_cli({"run", "--help"});
  ASSERT_TRUE(rh.exited) << describe(rh);
  EXPECT_EQ(rh.exit_code, 0) << describe(rh);
  for (const char* flag : {"--dir", "--env", "--fuel", "--timeout-ms", "--max-memory-mb",
                           "--max-output-bytes", "--invoke"}) {
    EXPECT_NE(rh.out.find(flag), std::string::npos) << flag << " missing from run --help";
  }

  auto v = run_cli({"--version"});
  ASSERT_TRUE(v.exited) << describe(v);
  EXPECT_EQ(v.exit_code, 0);
  EXPECT_NE(v.out.find("wasmcap"), std::string::npos) << v.out;
  // `--version` alone builds no command (cli.cc); with more arguments every command is built.
  // Both print the same single line and nothing else.
  EXPECT_TRUE(v.err.empty()) << v.err;
  EXPECT_EQ(v.out.find('\n'), v.out.size() - 1) << v.out;
  auto v2 = run_cli({"--version", "run"});
  EXPECT_EQ(v2.exit_code, 0) << describe(v2);
  EXPECT_EQ(v2.out, v.out);
  EXPECT_TRUE(v2.err.empty()) << v2.err;
}

// The names listed under "Subcommands:" in a --help text.
std::vector<std::string> subcommands_in_help(const std::string& help) {
  std::vector<std::string> names;
  size_t at = help.find("Subcommands:\n");
  if (at == std::string::npos) return names;
  std::istringstream lines(help.substr(at + 13));
  std::string line;
  while (std::getline(lines, line) && line.rfind("  ", 0) == 0) {
    std::istringstream words(line);
    std::string name;
    words >> name;
    names.push_back(name);
  }
  return names;
}

// `wasmcap help X Y` prints "Usage: Y ..." (nothing was parsed, so CLI11 names the command
// alone), `wasmcap X Y --help` "Usage: /path/to/wasmcap X Y ...": the rest must be the same.
std::string without_program_name(std::string help, const std::string& parents = "") {
  const std::string prefix = "Usage: " + testing::cli_path() + " " + parents;
  size_t at = help.find(prefix);
  if (at != std::string::npos) help.replace(at, prefix.size(), "Usage: ");
  return help;
}

// A command named by argv[1] is built alone (cli.cc, kBuiltAlone: start-up cost), while
// `wasmcap help ...` builds every command. Each command and subcommand, built alone, must have
// exactly the --help it has in the full tree, and an unknown subcommand must be told the same
// list of subcommands that help shows.
TEST(CliHelp, EachCommandBuiltAloneHasTheSameHelp) {
  auto top = run_cli({"--help"});
  ASSERT_EQ(top.exit_code, 0) << describe(top);
  std::vector<std::string> commands = subcommands_in_help(top.out);
  ASSERT_GE(commands.size(), 13u) << top.out;
  size_t checked = 0;
  for (const std::string& c : commands) {
    auto full = run_cli({"help", c});
    auto alone = run_cli({c, "--help"});
    ASSERT_EQ(full.exit_code, 0) << describe(full);
    EXPECT_EQ(alone.exit_code, 0) << c << ": " << describe(alone);
    EXPECT_EQ(without_program_name(alone.out), full.out) << c;
    ++checked;
    std::vector<std::string> subs = subcommands_in_help(full.out);
    for (const std::string& s : subs) {
      auto sub_full = run_cli({"help", c, s});
      auto sub_alone = run_cli({c, s, "--help"});
      EXPECT_EQ(sub_alone.exit_code, 0) << c << " " << s << ": " << describe(sub_alone);
      EXPECT_EQ(without_program_name(sub_alone.out, c + " "), sub_full.out) << c << " " << s;
      ++checked;
    }
    if (!subs.empty()) {
      auto unknown = run_cli({c, "no-such-subcommand"});
      EXPECT_EQ(unknown.exit_code, 64) << describe(unknown);
      std::string names;
      for (const std::string& s : subs) names += (names.empty() ? "" : ", ") + s;
      EXPECT_NE(unknown.err.find("(commands: " + names + ")"), std::string::npos)
          << c << ": " << unknown.err;
    }
  }
  EXPECT_GE(checked, 30u);
}

}  // namespace
}  // namespace wasmcap

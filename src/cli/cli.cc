// The `wasmcap` command line: main() builds the commands the arguments need and dispatches to
// the one parsed. Each command is its own file (run.cc, plan.cc, compile.cc, inspect.cc,
// bundle.cc, cli_mcp.cc, ws_cli.cc, sh_cli.cc, ecosystem.cc): flags are parsed there into typed
// options; policy decisions happen in the library, never in the CLI.
#include "cli/cli.h"

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "cli/cli_mcp.h"
#include "cli/commands.h"
#include "cli/ecosystem.h"
#include "cli/ws_cli.h"
#include "platform/signal_cleanup.h"
#include "wasmcap/version.h"

namespace wasmcap::cli {

int main(int argc, char** argv) {
  // What a signal must not leave behind (a session's /tmp, an AOT compile's temporary
  // directory) is removed before SIGINT, SIGTERM or SIGHUP ends the process: three sigactions,
  // no thread until something registers (src/platform/signal_cleanup.h).
  platform::run_cleanups_on_signals();
  CLI::App app{"wasmcap: a capability-secure WebAssembly (WASI Preview 1) runtime"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "wasmcap " WASMCAP_VERSION);
  std::shared_ptr<RunCommand> run = add_run_command(app);

  // Parses the arguments (run's guest arguments split off first) and runs `run`; nullopt when
  // another command was parsed.
  auto parse_and_run = [&]() -> std::optional<int> {
    std::vector<char*> cli_args = split_run_arguments(*run, argc, argv);
    try {
      app.parse(static_cast<int>(cli_args.size()), cli_args.data());
    } catch (const CLI::ParseError& e) {
      // --help / --version: CLI11 prints them. Anything else is a usage error, reported in the
      // documented form "wasmcap: error: invalid_argument: ...".
      if (e.get_exit_code() == 0) return app.exit(e);
      // `run --json` promises one JSON object on stdout whatever the outcome, a bad flag
      // included (docs/cli.md "run --json"): --json among wasmcap's own arguments turns it on.
      if (argc > 1 && std::string_view(argv[1]) == "run" &&
          std::any_of(cli_args.begin(), cli_args.end(), [](const char* a) { return std::string_view(a) == "--json"; })) {
        set_json_errors(true);
      }
      return report_error(Error(ErrorCode::kInvalidArgument,
                                std::string(e.what()) + " (see wasmcap help" +
                                    (argc > 1 && argv[1][0] != '-' ? " " + printable(argv[1]) : "") + ")"));
    }
    return execute_run(*run);
  };
  // `wasmcap run ...`, the cold-start path (docs/aot.md, "Cold start"), builds only `run`:
  // building every other command's options cost 10% of a cached aot hello's CPU
  // (bench/notes/2026-11-23-hello-cli.md). Everything else (help, --help, --version, completions, man and the
  // other commands) builds them all, so help and completions stay complete.
  if (argc > 1 && std::string_view(argv[1]) == "run") {
    int rc = parse_and_run().value_or(0);
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
    return rc;  // the sanitizers' leak and race checks run at exit
#else
    // The run is over (its instance, module, sinks and files were released inside cmd_run):
    // what exit() would still do is destroy the CLI11 tree and static objects and run the
    // libraries' finalisers, ~0.3 ms of a 1.7 ms cached aot hello (bench/notes/2026-11-23-hello-cli.md). stdio
    // is flushed; nothing else holds buffered output (audit files are written unbuffered).
    std::fflush(nullptr);
    _exit(rc);
#endif
  }

  // Every other command builds only the top-level command argv[1] names (with its own
  // subcommands): building all of them cost every process ~0.3 ms of CPU, a quarter of
  // `wasmcap --version` (bench/notes/2026-11-23-hello-cli.md, "process start-up common to every command").
  // Anything else -- no command, an option (--help; --version with more arguments), `help`,
  // `completions` and `man` (which describe every command), a name that is not a command --
  // builds them all, so help, completions, the man page and the unknown-command error stay
  // complete. A command missing from kBuiltAlone is
  // only slower, never wrong; tests/cli (CliHelp.EachCommandBuiltAloneHasTheSameHelp) compares
  // each command's --help built alone with `wasmcap help COMMAND` built in full.
  static constexpr std::string_view kBuiltAlone[] = {"plan", "compile", "inspect", "bundle", "mcp",
                                                     "tool", "ws",      "sh",      "trust",  "audit",
                                                     "cache", "setup", "call"};
  const std::string_view first = argc > 1 ? std::string_view(argv[1]) : std::string_view();
  // `wasmcap --version` alone names no command, so none is built (CLI11 prints the version
  // before it would ask for one).
  const bool version_only = argc == 2 && first == "--version";
  const bool build_all =
      !version_only &&
      std::find(std::begin(kBuiltAlone), std::end(kBuiltAlone), first) == std::end(kBuiltAlone);
  auto wanted = [&](std::initializer_list<std::string_view> names) {
    return build_all || std::find(names.begin(), names.end(), first) != names.end();
  };

  // The commands in the order help lists them; each returns its dispatcher.
  std::vector<Dispatch> commands;
  if (wanted({"call"})) commands.push_back(add_call_command(app));
  if (wanted({"plan"})) commands.push_back(add_plan_command(app));
  if (wanted({"compile"})) commands.push_back(add_compile_command(app));
  if (wanted({"inspect"})) commands.push_back(add_inspect_command(app));
  if (wanted({"cache"})) commands.push_back(add_cache_command(app));
  if (wanted({"setup"})) commands.push_back(add_setup_command(app));
  // `bundle` also when `trust` or `audit` runs: their adder (add_ecosystem_commands) adds
  // `bundle inspect` too.
  const bool ecosystem_wanted = wanted({"bundle", "trust", "audit"});
  CLI::App* bundle_cmd = nullptr;
  if (ecosystem_wanted) commands.push_back(add_bundle_commands(app, &bundle_cmd));
  std::shared_ptr<McpCommands> mcp_cmds;
  if (wanted({"mcp", "tool"})) mcp_cmds = add_mcp_commands(app);
  if (wanted({"ws"})) commands.push_back(add_ws_commands(app));
  if (wanted({"sh"})) commands.push_back(add_sh_command(app));
  // Subcommands of docs/cli.md added for issue #16 (trust, audit, bundle inspect, completions,
  // man): defined and run in ecosystem.cc.
  if (ecosystem_wanted) commands.push_back(add_ecosystem_commands(app, *bundle_cmd).dispatch);
  // `wasmcap version`: what --version prints, as a command too (as `git version`, `go version`).
  CLI::App* version = app.add_subcommand("version", "Print wasmcap's version (as --version)");
  commands.push_back([version]() -> std::optional<int> {
    if (!*version) return std::nullopt;
    std::printf("wasmcap %s\n", WASMCAP_VERSION);
    return 0;
  });

  // `wasmcap` alone: the usage, on stderr as for every usage error (exit 64, docs/cli.md).
  if (argc <= 1) {
    std::string text = app.help();
    std::fprintf(stderr, "%s\nwasmcap: error: invalid_argument: give a command (see wasmcap help "
                         "COMMAND)\n", text.c_str());
    return error_exit_code(ErrorCode::kInvalidArgument);
  }

  // An unknown command or subcommand is named (CLI11 would only say that one is required).
  if (argc > 1 && std::string_view(argv[1]) != "help") {
    CLI::App* at = &app;
    std::string path = "wasmcap";
    for (int i = 1; i < argc && argv[i][0] != '-' && !at->get_subcommands({}).empty(); ++i) {
      CLI::App* next = nullptr;
      std::string names;
      for (CLI::App* c : at->get_subcommands({})) {
        if (c->get_name() == argv[i]) next = c;
        names += (names.empty() ? "" : ", ") + c->get_name();
      }
      if (next == nullptr) {
        std::fprintf(stderr, "wasmcap: error: invalid_argument: %s: unknown command '%s' (commands: %s%s)\n",
                     path.c_str(), printable(argv[i]).c_str(), names.c_str(), at == &app ? ", help" : "");
        return error_exit_code(ErrorCode::kInvalidArgument);
      }
      at = next;
      path += " " + next->get_name();
    }
  }

  // `wasmcap help [COMMAND...]`: the --help of that command.
  if (argc > 1 && std::string_view(argv[1]) == "help") {
    CLI::App* target = &app;
    for (int i = 2; i < argc; ++i) {
      CLI::App* sub = nullptr;
      for (CLI::App* c : target->get_subcommands({})) {
        if (c->get_name() == argv[i]) sub = c;
      }
      if (sub == nullptr) {
        std::fprintf(stderr, "wasmcap: error: invalid_argument: no command '%s' (see wasmcap help)\n",
                     printable(argv[i]).c_str());
        return error_exit_code(ErrorCode::kInvalidArgument);
      }
      target = sub;
    }
    std::string text = target->help();
    std::fwrite(text.data(), 1, text.size(), stdout);
    return 0;
  }

  if (auto rc = parse_and_run()) return *rc;
  if (mcp_cmds) {
    if (auto rc = run_mcp_commands(*mcp_cmds)) return *rc;
  }
  for (const Dispatch& d : commands) {
    if (auto rc = d()) return *rc;
  }
  return 0;
}

}  // namespace wasmcap::cli

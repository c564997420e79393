// `wasmcap sh`: a thin parser over include/wasmcap/shell.h.
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <map>
#include <memory>

#include "cli/cli.h"
#include "cli/commands.h"
#include "cli/ws_cli.h"
#include "common/escape.h"
#include "shell/commands.h"
#include "wasmcap/audit.h"
#include "wasmcap/audit_events.h"
#include "wasmcap/policy.h"
#include "wasmcap/registry.h"
#include "wasmcap/shell.h"
#include "wasmcap/workspace.h"

namespace wasmcap::cli {

namespace {

// A script FILE is at most this long: it is held whole, then parsed.
constexpr size_t kMaxScriptBytes = 16u << 20;

// What a shell with nothing to work on says (docs/shell.md, "Starting").
constexpr const char* kNoDirectoryNote =
    "wasmcap sh: no directory granted: commands reach no files; give --workspace NAME (a shadow "
    "of a project, docs/workspace.md) or --dir HOST::/GUEST\n";
constexpr const char* kNoCommandsNote =
    "wasmcap sh: no commands installed: every command is a tool from a trusted, installed bundle; "
    "`wasmcap setup` installs the bundles shipped with wasmcap, or `wasmcap trust add SIGNER.pub` "
    "then `wasmcap bundle install BUNDLE.wcb` (a build's own: build/bundles/wasmcap-test.pub, "
    "build/bundles/coreutils.wcb)\n";

int fail(const Error& e) {
  std::fprintf(stderr, "wasmcap: error: %s\n", e.to_string().c_str());
  return error_exit_code(e.code);
}

// Reads one line from `fd` (without its newline) a byte at a time, so nothing past the line is
// consumed: the tools of the line just entered read the same terminal. False at EOF with
// nothing read. Lines are bounded (the rest of an overlong line is discarded).
bool read_line(int fd, std::string* line, bool* overlong) {
  constexpr size_t kMaxLine = 1u << 20;
  line->clear();
  *overlong = false;
  bool any = false;
  for (;;) {
    char c;
    ssize_t n = ::read(fd, &c, 1);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return any;
    any = true;
    if (c == '\n') return true;
    if (line->size() < kMaxLine) {
      line->push_back(c);
    } else {
      *overlong = true;
    }
  }
}

void say(const std::string& s) {
  size_t off = 0;
  while (off < s.size()) {
    ssize_t w = ::write(STDERR_FILENO, s.data() + off, s.size() - off);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return;
    off += static_cast<size_t>(w);
  }
}

// The interactive mode: a prompt on stderr ("wasmcap$ ", "> " for a continuation line), one
// script per complete input, state kept across inputs; `exit` or EOF ends it with $?.
int interactive(shell::Options so) {
  so.interactive = true;
  auto session = shell::Session::create(std::move(so));
  if (!session) return fail(session.error());
  std::string buf, line;
  for (;;) {
    say(buf.empty() ? "wasmcap$ " : "> ");
    bool overlong = false;
    if (!read_line(STDIN_FILENO, &line, &overlong)) {
      if (!buf.empty()) say("\nwasmcap sh: unexpected end of input\n");
      else say("\n");
      (void)(*session)->run("exit");  // EOF exits the shell: its EXIT trap runs
      break;
    }
    if (overlong) {
      say("wasmcap sh: line longer than 1 MiB discarded\n");
      buf.clear();
      continue;
    }
    buf += line;
    buf += '\n';
    if (shell::needs_more_input(buf) && buf.size() < (16u << 20)) continue;
    auto r = (*session)->run(buf);
    buf.clear();
    if (!r) say("wasmcap sh: " + r.error().to_string() + "\n");
    if ((*session)->exited()) break;
  }
  return (*session)->last_status();
}

// `--env NAME=VALUE`: NAME as sh's variable names ([A-Za-z_][A-Za-z0-9_]*).
Result<std::pair<std::string, std::string>> parse_variable(const std::string& spec) {
  size_t eq = spec.find('=');
  std::string name = spec.substr(0, eq);
  bool ok = eq != std::string::npos && !name.empty() &&
            !std::isdigit(static_cast<unsigned char>(name[0]));
  for (char c : name) ok = ok && (std::isalnum(static_cast<unsigned char>(c)) || c == '_');
  if (!ok) {
    return make_error(ErrorCode::kInvalidArgument,
                      "--env '" + spec.substr(0, 64) + "': give NAME=VALUE with NAME made of "
                      "letters, digits and _ (not starting with a digit)");
  }
  return std::make_pair(name, spec.substr(eq + 1));
}

// The shell's command table from the registry (shell::command_table_from_registry), in the
// host config's order (shell.bundle_order).
Result<std::map<std::string, shell::Tool>> command_table(const std::string& config) {
  RegistryContext ctx;
  WASMCAP_TRY_ASSIGN(ctx, open_registry(config));
  shell::CommandTable table;
  WASMCAP_TRY_ASSIGN(table, shell::command_table_from_registry(*ctx.reg, ctx.trust,
                                                               ctx.config.shell.bundle_order));
  return std::move(table.commands);
}

struct ShOpts {
  std::vector<std::string> dirs;
  std::vector<std::string> env;
  std::vector<std::string> operands;  // FILE ARGS... or, after -c SCRIPT, NAME ARGS...
  std::string workspace, script, file, engine = "interp", audit_file, clock, random, cwd, config;
  uint64_t timeout_ms = policy::kDefaultTimeoutMs, max_output_bytes = 64u << 20, max_commands = 10000,
           max_substitution_bytes = 1u << 20;
  bool timeout_given = false;  // --timeout-ms given: the host config's defaults.timeout_ms does not apply
  // Defaults: shell::Options (include/wasmcap/shell.h), where each bound's threat is given.
  uint64_t max_shell_memory = shell::Options{}.max_shell_memory_bytes,
           max_words = shell::Options{}.max_words,
           max_pipeline_stages = shell::Options{}.max_pipeline_stages,
           max_live_commands = shell::Options{}.max_live_commands;
  uint64_t max_write_mb = 0;  // 0: shell::Options' default (kDefaultMaxWriteBytes)
};

}  // namespace

Dispatch add_sh_command(CLI::App& app) {
  auto o = std::make_shared<ShOpts>();
  CLI::App* sh = app.add_subcommand(
      "sh", "Run a shell script whose every command is a sandboxed WASI tool (docs/shell.md)");
  sh->add_option("--dir", o->dirs, "Preopen HOST[::GUEST][:ro] for every command. Repeatable.")
      ->allow_extra_args(false);
  sh->add_option("--workspace", o->workspace,
                 "Work in this shadow workspace (its tree is mounted at /work; docs/workspace.md)");
  sh->add_option("--cwd", o->cwd,
                 "The working directory the script starts in: a guest path beneath a preopen "
                 "(default: the first preopen)");
  sh->add_option("--env", o->env,
                 "NAME=VALUE: a variable the shell starts with (as sh imports its environment; "
                 "nothing of wasmcap's own environment is imported). Repeatable.")
      ->allow_extra_args(false);
  sh->add_option("--config", o->config,
                 "Host config (JSON): its trust keys and revocations, its audit.file (every "
                 "command's record, besides --audit-file's), and shell.bundle_order, the order "
                 "that settles commands declared by several bundles");
  sh->add_option("-c", o->script, "The script text");
  sh->add_option("operands", o->operands,
                 "FILE [ARGS...]: a script file (host path) and its $1...; with -c: NAME [ARGS...], "
                 "$0 and $1... (as sh -c). Without -c or FILE: interactive when stdin is a "
                 "terminal, else the script is read from stdin");
  // As sh: everything after the first operand is the script's ($1...), options included.
  sh->positionals_at_end();
  sh->add_option("--engine", o->engine, "interp, aot or auto (default interp)")
      ->check(CLI::IsMember(engine_names()));
  sh->add_option("--clock", o->clock,
                 "Pin every command's clocks: fixed=YYYY-MM-DDTHH:MM:SSZ[,step=1us] or deny (as "
                 "`wasmcap run --clock`; only narrows what each command's manifest requests)");
  sh->add_option("--random", o->random,
                 "Pin every command's random_get: seed=N or deny (as `wasmcap run --random`)");
  sh->add_option("--timeout-ms", o->timeout_ms,
                 "Deadline for the whole script, aot compiles included (default: the host config's "
                 "defaults.timeout_ms, else 60000; 0 = none)")
      ->each([o](const std::string&) { o->timeout_given = true; });
  sh->add_option("--max-output-bytes", o->max_output_bytes,
                 "Cap on all commands' stdout+stderr together (0 = none)");
  sh->add_option("--max-commands", o->max_commands, "Cap on commands started (0 = none)");
  sh->add_option("--max-write-mb", o->max_write_mb,
                 "Write budget of the session in MiB: what all its tools and redirections may "
                 "add to the disk together (growth past files' ends; 4 KiB per file, directory or "
                 "link created); beyond it ENOSPC (0 = the default, 4096)")
      ->check(CLI::Range(uint64_t{0}, policy::kMaxWriteMb));
  sh->add_option("--max-substitution-bytes", o->max_substitution_bytes,
                 "Cap on what one $(...) captures (0 = none)");
  sh->add_option("--max-shell-memory", o->max_shell_memory,
                 "Cap on the shell's own memory: words, variables, glob results, $(...) output "
                 "(default 64 MiB; 0 = none)");
  sh->add_option("--max-words", o->max_words,
                 "Cap on the words one command expands to, and on one glob's candidates "
                 "(default 100000; 0 = none)");
  sh->add_option("--max-pipeline-stages", o->max_pipeline_stages,
                 "Cap on the commands of one pipeline (default 64; 0 = none)");
  sh->add_option("--max-live-commands", o->max_live_commands,
                 "Cap on commands running at once: pipeline stages and nested $(...) "
                 "(default 128; 0 = none)");
  sh->add_option("--audit-file", o->audit_file,
                 "Append one shell_command JSON record per command to this file");
  return [=]() -> std::optional<int> {
    if (!*sh) return std::nullopt;
    std::signal(SIGPIPE, SIG_IGN);  // a pipeline reader that exits early is EPIPE, not death
    shell::Options so;
    so.command_string = sh->count("-c") > 0;
    // sh's operands: -c SCRIPT [NAME [ARGS...]] or FILE [ARGS...].
    if (!o->operands.empty()) {
      if (!so.command_string) o->file = o->operands[0];
      so.arg0 = o->operands[0];
      so.args.assign(o->operands.begin() + 1, o->operands.end());
    }
    auto home = registry::default_home();
    workspace::ToolHold hold;  // keeps `ws apply` out of the tree while the shell runs
    if (!o->workspace.empty()) {
      if (!home) return fail(home.error());
      auto info = workspace::open(*home, o->workspace);
      if (!info) return fail(info.error());
      auto h = workspace::hold_for_tools(*home, o->workspace);
      if (!h) return fail(h.error());
      hold = std::move(*h);
      Preopen p;
      p.host_path = info->tree;
      p.guest_path = "/work";
      so.preopens.push_back(p);
    }
    for (const auto& d : o->dirs) {
      auto p = parse_dir_spec(d);
      if (!p) return fail(p.error());
      if (p->guest_path.empty() || p->guest_path[0] != '/') {
        return fail(Error(ErrorCode::kInvalidArgument,
                          "--dir '" + d + "': wasmcap sh needs an absolute guest path "
                          "(HOST::/GUEST), the shell's paths are absolute"));
      }
      so.preopens.push_back(*p);
    }
    // The host config's host-wide parts the shell takes: the sandbox user's name, the audit log
    // and the aot section (its trust keys and bundle order: command_table).
    policy::HostConfig config;
    if (!o->config.empty()) {
      auto c = policy::load_host_config(o->config);
      if (!c) return fail(c.error());
      config = std::move(*c);
    }
    so.user = config.shell.user;  // USER and LOGNAME; --env may still say otherwise
    apply_aot_config(config, so.aot);  // the AOT cache's cap, the background compile's jobs
    for (const auto& e : o->env) {
      auto v = parse_variable(e);
      if (!v) return fail(v.error());
      so.variables.push_back(std::move(*v));
    }
    if (!o->cwd.empty()) {
      // The session takes it as a normalized guest path (its relative paths are joined to it
      // and then matched to a preopen): absolute, no empty, `.` or `..` component.
      bool normal = o->cwd[0] == '/' && (o->cwd.size() == 1 || o->cwd.back() != '/');
      for (size_t i = 1; normal && i < o->cwd.size();) {
        size_t j = std::min(o->cwd.find('/', i), o->cwd.size());
        std::string part = o->cwd.substr(i, j - i);
        normal = !part.empty() && part != "." && part != "..";
        i = j + 1;
      }
      if (!normal) {
        return fail(Error(ErrorCode::kInvalidArgument,
                          "--cwd: give a normalized absolute guest path (no ., .. or //)"));
      }
      so.cwd = o->cwd;
    }
    std::string text = o->script;
    if (!o->file.empty()) {
      std::ifstream f(o->file, std::ios::binary);
      if (!f) return fail(Error(ErrorCode::kNotFound, "cannot read script " + o->file));
      // At most 16 MiB (as one command of a script on stdin): the file is read, then parsed
      // within the shell's memory budget, never read whole whatever its size.
      text.resize(kMaxScriptBytes + 1);
      f.read(text.data(), static_cast<std::streamsize>(text.size()));
      text.resize(static_cast<size_t>(f.gcount()));
      if (text.size() > kMaxScriptBytes) {
        return fail(Error(ErrorCode::kInvalidArgument, "the script " + o->file + " exceeds 16 MiB"));
      }
    }
    // Neither -c nor FILE: a terminal gets the interactive mode, anything else is the script,
    // read as it runs (Session::run_input).
    const bool from_stdin = o->file.empty() && sh->count("-c") == 0;
    const bool is_interactive = from_stdin && ::isatty(STDIN_FILENO) == 1;
    // The command table: every installed bundle resolved (signature, trust, revocation, module
    // hash) once, its manifest's commands in the host config's order (shell.bundle_order).
    if (home) {
      auto table = command_table(o->config);
      if (!table) return fail(table.error());
      so.commands = std::move(*table);
    }
    // The session's private /tmp (docs/shell.md "/tmp"), removed on exit and on SIGINT,
    // SIGTERM and SIGHUP (cli.cc main: platform/signal_cleanup.h).
    if (home) so.private_tmp_home = *home;
    so.engine = o->engine;
    if (!o->clock.empty()) {
      auto c = parse_clock_source(o->clock);
      if (!c) return fail(c.error());
      so.clock = *c;
    }
    if (!o->random.empty()) {
      auto r = parse_random_source(o->random);
      if (!r) return fail(r.error());
      so.random = *r;
    }
    // A script on stdin shares it with its commands: they read what follows the command
    // running (as bash's).
    so.stdin_fd = STDIN_FILENO;
    so.deadline_ms = !o->timeout_given && config.defaults.timeout_ms ? *config.defaults.timeout_ms
                                                                      : o->timeout_ms;
    so.max_output_bytes = o->max_output_bytes;
    so.max_commands = o->max_commands;
    if (o->max_write_mb != 0) so.max_write_bytes = o->max_write_mb << 20;
    so.max_substitution_bytes = o->max_substitution_bytes;
    so.max_shell_memory_bytes = o->max_shell_memory;
    so.max_words = o->max_words;
    so.max_pipeline_stages = o->max_pipeline_stages;
    so.max_live_commands = o->max_live_commands;
    if (!o->audit_file.empty()) {
      auto s = audit::open_file_sink(o->audit_file);
      if (!s) return fail(s.error());
      so.audit = *s;
    }
    if (config.audit.file) {
      // The operator's audit log records every command too, besides --audit-file's
      // (docs/host-config.md#audit).
      auto s = audit::open_configured_sink(config.audit);
      if (!s) return fail(s.error());
      so.audit = so.audit ? audit::tee_sink(*s, so.audit) : *s;
    }
    std::fflush(stdout);
    const bool no_commands = so.commands.empty();
    const bool no_directory = so.preopens.empty();
    if (is_interactive) {
      // A person at a terminal: say what this shell cannot do before the first prompt.
      if (no_directory) say(kNoDirectoryNote);
      if (no_commands) say(kNoCommandsNote);
      return interactive(std::move(so));
    }
    auto session = shell::Session::create(std::move(so));
    if (!session) return fail(session.error());
    auto r = from_stdin ? (*session)->run_input(STDIN_FILENO) : (*session)->run(text);
    // A command not found (127) in a shell that has no commands at all: say why. A script that
    // failed in a shell with commands but no directory (its tools reached no file: `ls` says
    // "Capabilities insufficient"): say that, once, at the end.
    if (r && r->exit_code == 127 && no_commands) say(kNoCommandsNote);
    if (r && r->exit_code != 0 && no_directory && !no_commands) say(kNoDirectoryNote);
    if (!r) {
      // A syntax error in the script (the only invalid_argument a first run() returns) exits 2
      // with the message, as bash and dash do; wasmcap's own codes are for its own failures
      // (limits, deadline, usage). docs/cli.md "Exit codes".
      if (r.error().code == ErrorCode::kInvalidArgument) {
        say("wasmcap sh: " + text::escape_ascii(r.error().message, 4096, "") + "\n");
        return 2;
      }
      return fail(r.error());
    }
    return r->exit_code;
  };
}

}  // namespace wasmcap::cli

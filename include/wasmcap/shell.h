// `wasmcap sh`: a POSIX sh subset whose every command is a sandboxed WASI tool (docs/shell.md).
//
// The parser (src/shell/parse.h) is host code that knows nothing of WASI; the executor here
// runs builtins in the host and everything else as a WASI module from an installed bundle,
// looked up in the command table. There is no fallback to host executables.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "wasmcap/audit.h"
#include "wasmcap/engine.h"
#include "wasmcap/error.h"
#include "wasmcap/wasi.h"

namespace wasmcap {
class PreparedModule;  // runtime.h
}

namespace wasmcap::shell {

// A bundle's module as its commands share it: checked on the first use of one of them in the
// session, once (docs/shell.md "Start-up"). The check (registry::Registry::contents_check) reads
// the module, hashes it against its signed SHA-256 and checks the data tree; the bytes it returns
// are the bytes that run, so a store modified after the check cannot change what runs. A failed
// check is kept too: every later command of that bundle gets the same refusal, none of it runs.
// Thread-safe (pipeline stages of one bundle start at once; one checks, the others wait).
class ToolModule {
 public:
  using Bytes = std::shared_ptr<const std::vector<uint8_t>>;
  using Check = std::function<Result<std::vector<uint8_t>>()>;
  explicit ToolModule(Check check) : check_(std::move(check)) {}
  // Bytes verified by the caller already.
  static std::shared_ptr<ToolModule> verified(std::vector<uint8_t> bytes);
  // The verified bytes; the first call runs the check.
  Result<Bytes> get();
  // The verified module loaded on the interpreter (PreparedModule), on the first call and
  // shared by every later command of the bundle: each run instantiates it afresh (nothing of one
  // run is seen by the next), and none decodes the module again (the toolbox's 2.9 MB took
  // 3.5 ms a command). The load is checked against `max_memory_bytes` (the load budget; each
  // run checks it again against its own limit; a load over one caller's budget is tried again
  // by the next). Null when the check failed or the module does not load: the caller then runs
  // the bytes, which reports the error as before.
  std::shared_ptr<const PreparedModule> interp(uint64_t max_memory_bytes,
                                               const std::string& module_sha256);

 private:
  std::mutex mu_;
  Check check_;
  std::optional<Result<Bytes>> done_;
  std::mutex prepare_mu_;
  bool prepare_tried_ = false;
  std::shared_ptr<const PreparedModule> interp_;
};

// One command the table maps to a module: `name` runs `tool` (argv[0]) of `bundle`.
struct Tool {
  std::string bundle;  // "coreutils"
  std::string version;  // the bundle's version ("0.1.0"), for `type` and `hash`
  std::string tool;    // argv[0] the module sees ("ls"): multi-call modules pick by it
  std::shared_ptr<ToolModule> module;  // verified before it runs (on first use)
  std::string module_sha256;
  // What the bundle's manifest requests (permissions.clocks / permissions.random): a command
  // gets these and nothing more; the rest answer ENOTCAPABLE (docs/shell.md, "Clocks and random").
  bool clock_wall = false;
  bool clock_monotonic = false;
  bool random = false;
  // The manifest requests host_api.https (the python bundle, optionally): the import module is
  // linked so the module loads, and every request is refused (grant_denied): commands in the
  // shell have no network.
  bool https = false;
  // The bundle's read-only data tree (manifest "data"; the python bundle's standard library),
  // added to the shell's preopens for this command only, as `wasmcap run NAME` mounts it.
  std::optional<Preopen> data;
};

struct Options {
  std::vector<Preopen> preopens;  // what every tool (and redirection) may reach
  // The script was given as a string (`wasmcap sh -c`): an expansion error (`${x?}`, an unset
  // variable under `set -u`) ends the shell with status 127, as `bash -c`'s does; else (a
  // script from a file or stdin) with 1, as bash's.
  bool command_string = false;
  // $0 and $1... of the script (`wasmcap sh -c SCRIPT NAME ARGS...`, `wasmcap sh FILE ARGS...`,
  // as sh's). Empty arg0: "sh". The arguments are charged to the shell's memory budget.
  std::string arg0;
  std::vector<std::string> args;
  std::string cwd;                // guest path; default: the first preopen's guest path
  // The session's private /tmp (docs/shell.md "/tmp"): with a wasmcap home here, the session
  // makes a workspace::Scratch directory in it, preopens it read-write at /tmp for every tool
  // and redirection, exports TMPDIR=/tmp unless `variables` set TMPDIR, and removes it when the
  // session ends. None when empty, or when a preopen is already at /tmp (the caller's wins).
  std::string private_tmp_home;
  // Variables the session starts with (`wasmcap sh --env NAME=VALUE`), as sh imports its
  // environment; nothing of the host's environment is imported otherwise. Names are checked by
  // the caller ([A-Za-z_][A-Za-z0-9_]*); values are charged to the shell's memory budget.
  std::vector<std::pair<std::string, std::string>> variables;
  // The sandbox user's name (host config shell.user, docs/host-config.md#shell): the session
  // starts with USER and LOGNAME set to it, exported, as login sets them (before `variables`,
  // which may override them). Empty: neither is set. Checked by the caller
  // (policy::check_user_name).
  std::string user;
  // The command table (name -> tool): built from the installed bundles' manifests by the caller
  // (src/shell/commands.h build_command_table; docs/shell.md "Commands").
  std::map<std::string, Tool> commands;
  // The interactive shell: an EXIT trap runs when the session exits (`exit`), not at the end of
  // each input. Otherwise each run() is a whole script and its EXIT trap runs when it ends.
  bool interactive = false;
  std::string engine = "interp";
  AotOptions aot;
  // Pins for every command's clocks and random (`wasmcap sh --clock/--random`, as for `run`):
  // they only narrow what a command's manifest requests; kHost = no pin. Each command starts its
  // own virtual clock and seeded stream.
  ClockSource clock;
  RandomSource random;
  int stdin_fd = -1;  // the script's stdin (-1: EOF)
  int stdout_fd = 1;
  int stderr_fd = 2;
  // Limits for the whole script.
  uint64_t deadline_ms = 60000;       // wall clock (0 = none)
  uint64_t max_output_bytes = 64u << 20;  // all commands' stdout+stderr together (0 = none)
  uint64_t max_commands = 10000;      // commands started (builtins included)
  uint64_t max_memory_bytes = 1ull << 30;  // per tool instance
  // Optional: the linear memory all the session's running tools may hold together
  // (ExecLimits::memory_pool; make_memory_pool): a tool's memory.grow past what the others left
  // fails as at its own cap. The MCP `bash` tool sets one per shell (docs/mcp.md). Null: none.
  std::shared_ptr<wasmcap_memory_pool> memory_pool;
  // What one command substitution `$(...)` may capture (0 = none); past it: output_limit.
  uint64_t max_substitution_bytes = 1u << 20;
  // Limits of the shell's own host-side work, for the whole session (docs/shell.md "Limits";
  // src/shell/budget.h). Past one of them the command fails with status 1 and a message naming
  // the bound; the script goes on, as sh after a failed expansion.
  // The memory the shell itself holds (0 = none): words and fields being expanded, glob
  // candidates, variables, $(...) captures, builtin output, a tool's argv and environment.
  // Threat: `A=$A$A` doubling a variable, glob products (`*/../*/../*`).
  uint64_t max_shell_memory_bytes = 64u << 20;
  // Words one command expands to, and candidates one glob pattern holds (0 = none). Threat:
  // glob products and huge word splits that would take seconds and gigabytes to build.
  uint64_t max_words = 100000;
  // Commands in one pipeline, and commands running at once in the session (pipeline stages
  // and the commands of nested $(...)), each a thread and possibly a tool instance with up to
  // max_memory_bytes of linear memory (0 = none). Threat: `true | true | ...` 3000 stages deep.
  uint64_t max_pipeline_stages = 64;
  uint64_t max_live_commands = 128;
  // The session's write budget (wasi.h WriteBudget; docs/shell.md "Limits"): what all its tools
  // and its own redirections (files they create, bytes written into files) may add to the
  // host's disk, together, for the whole session: running more tools or scripts does not reset
  // it. Beyond it a tool's write fails with ENOSPC and a redirection with "No space left on
  // device". write_budget, when set, is used instead (an embedder's budget shared beyond one
  // session: the MCP server's per workspace copy); else Session::create makes one.
  uint64_t max_write_bytes = kDefaultMaxWriteBytes;
  uint64_t max_write_entries = kDefaultMaxWriteEntries;
  std::shared_ptr<WriteBudget> write_budget;
  // One `shell_command` JSON record per command (docs/shell.md "Audit"). Null: none.
  std::shared_ptr<audit::Sink> audit;
  std::string invocation_id;  // joins the records; generated when empty
};

struct Outcome {
  int exit_code = 0;
  uint64_t commands = 0;
};

// What one run() of a session sets for itself (the MCP server's `bash` tool: every call has its
// own deadline, output, cancellation and audit join key; docs/mcp.md "The bash tool"). Unset
// fields keep the session's Options.
// Told of every thread a run starts (pipeline stages, `$(...)`, background jobs, nested `sh`, at
// any depth), on that thread: thread_started() before it runs anything, thread_ended() as its
// last act. What an embedder needs to account or prioritise a run's CPU as a whole: the MCP
// server's scheduler counts a `bash` call's threads' CPU as the call's and demotes them with it
// (docs/mcp.md "Tenants"). Thread-safe; must outlive the run (every thread has ended when run()
// returns: background jobs end with the input that started them).
class ThreadObserver {
 public:
  virtual ~ThreadObserver() = default;
  virtual void thread_started() = 0;
  virtual void thread_ended() = 0;
};

struct RunControls {
  std::optional<uint64_t> deadline_ms;  // wall clock of this run (0 = none)
  std::optional<int> stdout_fd, stderr_fd;
  // Set by another thread: the script stops as at its deadline (deadline_exceeded, "cancelled").
  const std::atomic<bool>* cancel = nullptr;
  std::string invocation_id;  // non-empty: this run's audit records carry it
  ThreadObserver* thread_observer = nullptr;  // null: none
};

// A shell whose state ($?, variables, working directory) lasts from one script to the next: the
// interactive `wasmcap sh` runs each complete input as one script of a session. Limits
// (deadline, output, commands) apply to each run(); audit records of all runs share the
// session's invocation id. A parse error runs nothing and sets $? to 2; an exhausted limit sets
// it to that error's exit code (docs/cli.md).
class Session {
 public:
  static Result<std::unique_ptr<Session>> create(Options options);
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;
  Result<Outcome> run(const std::string& text);
  Result<Outcome> run(const std::string& text, const RunControls& controls);
  // Runs the script read from `fd` as bash reads one from a pipe or a file: a complete command
  // at a time, each run before the next is read and never read past (a pipe a byte at a time;
  // a regular file in blocks, its offset put back before a command runs), so the commands that
  // read `fd` (Options::stdin_fd, the same descriptor) get the rest of the input, and a writer
  // that keeps the pipe open drives a live shell. One script for the limits (deadline, output,
  // commands), as run(); a syntax error ends it with status 2 after the commands before it ran;
  // one command's text is at most 16 MiB (a longer one is refused: invalid_argument).
  Result<Outcome> run_input(int fd, const RunControls& controls = {});
  bool exited() const;  // `exit` ran: run() refuses from now on
  int last_status() const;
  std::string cwd() const;
  // Bytes of the session's shell memory budget in use (variables, between runs).
  uint64_t memory_in_use() const;

 private:
  struct Impl;
  explicit Session(std::unique_ptr<Impl> impl);
  // run() and run_input(): `text` parsed before anything runs, or (null) the input `fd` read as
  // it runs.
  Result<Outcome> run_impl(const std::string* text, int fd, const RunControls& controls);
  std::unique_ptr<Impl> impl_;
};

// True when `text` ends inside a construct more input could finish (an open quote or "$(",
// a trailing |, && or ||, a final backslash-newline): the interactive shell's continuation test.
bool needs_more_input(const std::string& text);

// Parses and runs `text`. Parse errors and exhausted script limits are errors
// (invalid_argument, deadline_exceeded, output_limit); a command's failure is its exit status.
Result<Outcome> run_script(const std::string& text, Options options);

}  // namespace wasmcap::shell

// The MCP server's `bash`, `workspace_diff` and `workspace_apply` tools (bash_tool.h).
#include "mcp/bash_tool.h"

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "mcp/output_budget.h"
#include "mcp/protocol.h"
#include "mcp/scheduler.h"
#include "mcp/sessions.h"
#include "wasmcap/workspace.h"

namespace wasmcap::mcp {

using Json = nlohmann::json;

namespace {

// Where the session's copy is mounted, and where its shell starts (as `wasmcap sh --workspace`).
constexpr const char* kGuestRoot = "/work";

// A memfd for one stream of a call's output (bounded by the shell's --max-output-bytes).
Result<int> output_fd(const char* name) {
  int fd = memfd_create(name, MFD_CLOEXEC);
  if (fd < 0) return make_error(ErrorCode::kIo, std::string("memfd_create: ") + std::strerror(errno));
  return fd;
}

std::string read_all(int fd) {
  std::string s;
  off_t end = ::lseek(fd, 0, SEEK_END);
  if (end <= 0) return s;
  s.resize(static_cast<size_t>(end));
  size_t off = 0;
  while (off < s.size()) {
    ssize_t n = ::pread(fd, s.data() + off, s.size() - off, static_cast<off_t>(off));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    off += static_cast<size_t>(n);
  }
  s.resize(off);
  return s;
}

struct FdCloser {
  int fd = -1;
  ~FdCloser() {
    if (fd >= 0) ::close(fd);
  }
};

BuiltinAnswer tool_error(const Error& e) {
  BuiltinAnswer a;
  a.is_error = true;
  a.outcome = std::string(error_code_name(e.code));
  a.message = e.to_string();
  a.texts.push_back(a.message);
  return a;
}

BuiltinAnswer refused(const Sessions::Refusal& r) {
  if (r.rpc_code == 0) return tool_error(r.error);
  BuiltinAnswer a;
  a.rpc_code = r.rpc_code;
  a.outcome = r.rpc_code == kSessionNotFound ? "session_not_found" : "server_busy";
  a.message = r.error.message;
  return a;
}

Json annotations(bool read_only) {
  return {{"readOnlyHint", read_only},
          {"destructiveHint", !read_only},
          {"idempotentHint", read_only},
          {"openWorldHint", false}};
}

}  // namespace

// One session's shell: its state (cwd, variables, functions, options) lasts from call to call.
// `mu` makes the session's calls take turns, as commands typed into one terminal do.
struct BashTools::Shell {
  std::mutex mu;
  std::string copy;  // the workspace copy the shell's /work is
  std::unique_ptr<shell::Session> session;
  // The write budget of the session's copy (wasi.h WriteBudget): every call's tools and
  // redirections share it, and a new shell after `exit` keeps it (it goes with the copy).
  std::shared_ptr<WriteBudget> budget;
};

BashTools::BashTools(Options options) : o_(std::move(options)) {}
BashTools::~BashTools() = default;

std::vector<Json> BashTools::listed() const {
  std::vector<Json> out;
  Json meta = {{"io.wasmcap/builtin", true}};
  Json bash;
  bash["name"] = kBashTool;
  bash["title"] = "Bash (sandboxed)";
  bash["description"] =
      "Runs a shell command line (pipelines, redirections, here-documents, loops, functions) "
      "with `wasmcap sh` in this session's copy of the project, mounted at /work. Every command "
      "is a sandboxed WebAssembly tool (coreutils, grep, sed, ... and any installed bundle's "
      "commands); nothing outside /work is reachable and there is no network. The working "
      "directory, variables and functions persist across calls of the same session. The real "
      "project changes only through workspace_apply. Result: stdout, stderr, and the exit "
      "status (isError when it is not 0).";
  bash["inputSchema"] = {
      {"type", "object"},
      {"properties",
       {{"command",
         {{"type", "string"}, {"minLength", 1}, {"maxLength", kMaxBashCommandChars},
          {"description", "The command line(s) to run, as for bash -c"}}},
        {"timeout_ms",
         {{"type", "integer"}, {"minimum", 1}, {"maximum", 86400000},
          {"description", "Deadline of this call (the server's deadline wins when lower)"}}}}},
      {"required", {"command"}},
      {"additionalProperties", false}};
  bash["annotations"] = annotations(false);
  bash["_meta"] = meta;
  out.push_back(bash);
  Json diff;
  diff["name"] = kDiffTool;
  diff["title"] = "Workspace diff";
  diff["description"] =
      "Shows what this session's commands changed in /work against the real project: a "
      "unified diff per changed file, then the change set's digest (workspace_apply takes it).";
  diff["inputSchema"] = {{"type", "object"}, {"additionalProperties", false}};
  diff["annotations"] = annotations(true);
  diff["_meta"] = meta;
  out.push_back(diff);
  if (o_.config.apply) {
    Json apply;
    apply["name"] = kApplyTool;
    apply["title"] = "Apply the workspace";
    apply["description"] =
        "Writes this session's changes into the real project, exactly the change set "
        "workspace_diff showed: give its digest. Nothing is written when the changes differ from "
        "that digest or conflict with the project as it is now.";
    apply["inputSchema"] = {
        {"type", "object"},
        {"properties",
         {{"digest",
           {{"type", "string"}, {"minLength", 64}, {"maxLength", 64},
            {"description", "The digest workspace_diff reported"}}}}},
        {"required", {"digest"}},
        {"additionalProperties", false}};
    apply["annotations"] = annotations(false);
    apply["_meta"] = meta;
    out.push_back(apply);
  }
  return out;
}

std::shared_ptr<BashTools::Shell> BashTools::shell_for(const std::string& session) {
  std::lock_guard<std::mutex> l(mu_);
  // Shells of sessions that ended (expired, closed) go with them: the table holds only live
  // sessions that own a copy, which Sessions caps (--max-session-workspaces).
  for (auto it = shells_.begin(); it != shells_.end();) {
    if (it->first != session && !o_.sessions->known(it->first)) {
      it = shells_.erase(it);
    } else {
      ++it;
    }
  }
  auto& s = shells_[session];
  if (!s) s = std::make_shared<Shell>();
  return s;
}

void BashTools::close_session(const std::string& id) {
  std::lock_guard<std::mutex> l(mu_);
  shells_.erase(id);
}

uint64_t BashTools::memory_mb() const { return o_.memory_mb; }

size_t BashTools::live_shells() {
  std::lock_guard<std::mutex> l(mu_);
  return shells_.size();
}

BuiltinAnswer BashTools::call(const std::string& tool, const Json& args, const CallContext& ctx,
                              const std::string& invocation_id) {
  if (tool == kBashTool) return bash(args, ctx, invocation_id);
  if (tool == kDiffTool) return diff(ctx, invocation_id);
  if (tool == kApplyTool && o_.config.apply) return apply(args, ctx, invocation_id);
  return tool_error(Error(ErrorCode::kGrantDenied, "the host config does not offer " + tool));
}

namespace {

// The plan of the one mount the tools use: the configured workspace, per session, read-write.
policy::Plan workspace_plan(const std::string& base) {
  policy::Plan plan;
  policy::FsMount m;
  m.guest = kGuestRoot;
  m.access = policy::Access::kReadWrite;
  m.workspace = base;
  m.per_session = true;
  plan.fs.push_back(m);
  return plan;
}

}  // namespace

BuiltinAnswer BashTools::bash(const Json& args, const CallContext& ctx,
                              const std::string& invocation_id) {
  const std::string command = args.at("command").get<std::string>();
  // The call's deadline: the client's timeout_ms, never past the server's --timeout-ms.
  uint64_t deadline = o_.call_timeout_ms;
  if (args.contains("timeout_ms")) {
    uint64_t asked = args.at("timeout_ms").get<uint64_t>();
    deadline = deadline == 0 ? asked : std::min(deadline, asked);
  }
  // Counted from admission: the time the call waited for a slot is gone from its run (the
  // messages name the deadline the caller asked for).
  const uint64_t run_deadline = deadline_after_wait(deadline, ctx);
  // The session's copy (made on its first call; a session-less call gets one of its own that
  // goes when the call ends), held for tools while the commands run.
  policy::Plan plan = workspace_plan(o_.config.workspace);
  auto lease = o_.sessions->bind(plan, ctx.workspace_session, invocation_id, ctx.principal);
  if (!lease) return refused(lease.error());
  if ((*lease)->names().size() != 1) {
    return tool_error(Error(ErrorCode::kInternal, "the session's workspace copy was not made"));
  }
  const std::string copy = (*lease)->names()[0];
  std::shared_ptr<Shell> sh = ctx.workspace_session.empty()
                                  ? std::make_shared<Shell>()
                                  : shell_for(ctx.workspace_session);
  // The session's turn first, then the hold (released before the turn): a call waiting for its
  // turn holds nothing that would make the session's workspace_apply refuse.
  std::lock_guard<std::mutex> turn(sh->mu);
  auto hold = workspace::hold_for_tools(o_.home, copy);
  if (!hold) return tool_error(hold.error());
  BuiltinAnswer a;
  if (!sh->session || sh->session->exited() || sh->copy != copy) {
    // A new shell, as a new terminal: after `exit`, or on the session's first call.
    shell::Options so = o_.shell;
    Preopen p;
    p.host_path = plan.fs[0].host;
    p.guest_path = kGuestRoot;
    so.preopens = {p};
    so.cwd = kGuestRoot;
    so.interactive = true;  // its EXIT trap runs at `exit`, not after every call
    so.private_tmp_home = o_.home;  // its own /tmp, removed with the shell (docs/mcp.md)
    so.command_string = true;
    so.stdin_fd = -1;
    so.max_output_bytes = o_.max_output_bytes;
    so.max_shell_memory_bytes = kBashShellMemoryBytes;
    if (o_.memory_mb != 0) so.memory_pool = make_memory_pool(o_.memory_mb << 20);
    if (!sh->budget || sh->copy != copy) {
      sh->budget = std::make_shared<WriteBudget>(so.max_write_bytes, so.max_write_entries);
    }
    so.write_budget = sh->budget;
    auto made = shell::Session::create(std::move(so));
    if (!made) return tool_error(made.error());
    if (sh->session) a.texts.push_back("(the shell had exited: this is a new one, in " +
                                       std::string(kGuestRoot) + ")");
    sh->session = std::move(*made);
    sh->copy = copy;
  }
  auto out = output_fd("wasmcap-bash-stdout");
  if (!out) return tool_error(out.error());
  FdCloser out_closer{*out};
  auto err = output_fd("wasmcap-bash-stderr");
  if (!err) return tool_error(err.error());
  FdCloser err_closer{*err};
  shell::RunControls rc;
  rc.deadline_ms = run_deadline;
  rc.stdout_fd = *out;
  rc.stderr_fd = *err;
  rc.cancel = ctx.cancel;
  rc.invocation_id = invocation_id;
  rc.thread_observer = ctx.threads;
  auto r = sh->session->run(command, rc);
  std::string stdout_text = read_all(*out), stderr_text = read_all(*err);
  a.bytes_out = stdout_text.size() + stderr_text.size();
  // The shell stops at --max-output-bytes of raw output; the bound also holds for what the
  // output takes as JSON text (stdout first, stderr the rest).
  uint64_t budget = json_budget(o_.max_output_bytes);
  bool truncated = cut_to_json_budget(stdout_text, budget);
  truncated = cut_to_json_budget(stderr_text, budget) || truncated;
  if (!stdout_text.empty()) a.texts.push_back(stdout_text);
  if (!stderr_text.empty()) a.texts.push_back(stderr_text);
  a.exit_code = sh->session->last_status();
  if (!r) {
    const Error& e = r.error();
    a.is_error = true;
    if (e.code == ErrorCode::kDeadlineExceeded && ctx.cancel != nullptr && ctx.cancel->load()) {
      a.cancelled = true;
      a.outcome = "cancelled";
      a.message = "the call was cancelled";
    } else if (e.code == ErrorCode::kDeadlineExceeded) {
      a.outcome = "timeout";
      a.message = "the command did not finish within its deadline (" + std::to_string(deadline) +
                  " ms); the shell's state is kept";
    } else if (e.code == ErrorCode::kOutputLimit) {
      a.outcome = "output_limit";
      a.message = "[output truncated: the command wrote more than " +
                  std::to_string(o_.max_output_bytes) + " bytes and was stopped]";
    } else if (e.code == ErrorCode::kInvalidArgument) {
      a.outcome = "tool_error";  // a syntax error: nothing ran, $? is 2
      a.message = "wasmcap sh: " + e.message;
    } else {
      a.outcome = std::string(error_code_name(e.code));
      a.message = e.to_string();
    }
    a.texts.push_back(a.message);
    if (a.outcome != "tool_error") a.texts.push_back("exit status " + std::to_string(*a.exit_code));
    return a;
  }
  a.exit_code = r->exit_code;
  a.is_error = r->exit_code != 0;
  if (truncated) {
    a.texts.push_back("[output truncated: more than " + std::to_string(o_.max_output_bytes) +
                      " bytes as JSON text]");
  }
  a.message = "exit status " + std::to_string(r->exit_code);
  a.outcome = a.is_error ? "tool_error" : "ok";
  a.texts.push_back(a.message);
  return a;
}

BuiltinAnswer BashTools::diff(const CallContext& ctx, const std::string& invocation_id) {
  if (ctx.workspace_session.empty()) {
    return tool_error(Error(ErrorCode::kInvalidArgument,
                            "workspace_diff needs a session: without one every bash call works "
                            "on a copy of its own, gone when it ends (connect over stdio, or "
                            "send initialize over HTTP)"));
  }
  policy::Plan plan = workspace_plan(o_.config.workspace);
  auto lease = o_.sessions->bind(plan, ctx.workspace_session, invocation_id, ctx.principal);
  if (!lease) return refused(lease.error());
  const std::string copy = (*lease)->names().at(0);
  std::shared_ptr<Shell> sh = shell_for(ctx.workspace_session);
  std::lock_guard<std::mutex> turn(sh->mu);  // not while a command of the session runs
  auto d = workspace::diff(o_.home, copy);
  if (!d) return tool_error(d.error());
  BuiltinAnswer a;
  // Paths and content escaped as for a terminal (ws diff): the text is what a reviewer reads.
  std::string text = d->changes.empty() ? "no changes\n" : workspace::render_diff_text(*d);
  a.bytes_out = text.size();
  if (uint64_t budget = json_budget(o_.max_output_bytes); cut_to_json_budget(text, budget)) {
    text += "\n[diff truncated at " + std::to_string(o_.max_output_bytes) + " bytes; digest " +
            d->digest + "]\n";
  }
  a.texts.push_back(text);
  a.structured = {{"changes", d->changes.size()}, {"digest", d->digest}};
  a.message = std::to_string(d->changes.size()) + " changes";
  return a;
}

BuiltinAnswer BashTools::apply(const Json& args, const CallContext& ctx,
                               const std::string& invocation_id) {
  if (ctx.workspace_session.empty()) {
    return tool_error(Error(ErrorCode::kInvalidArgument,
                            "workspace_apply needs a session (connect over stdio, or send "
                            "initialize over HTTP)"));
  }
  policy::Plan plan = workspace_plan(o_.config.workspace);
  auto lease = o_.sessions->bind(plan, ctx.workspace_session, invocation_id, ctx.principal);
  if (!lease) return refused(lease.error());
  const std::string copy = (*lease)->names().at(0);
  std::shared_ptr<Shell> sh = shell_for(ctx.workspace_session);
  std::lock_guard<std::mutex> turn(sh->mu);
  workspace::ApplyOptions ao;
  ao.expect = args.at("digest").get<std::string>();
  auto r = workspace::apply(o_.home, copy, ao);
  if (!r) return tool_error(r.error());
  BuiltinAnswer a;
  a.structured = {{"digest", r->digest},          {"written", r->written},
                  {"removed", r->removed},        {"dirs_created", r->dirs_created},
                  {"modes_changed", r->modes_changed}, {"conflicts", r->conflicts.size()}};
  if (!r->conflicts.empty()) {
    a.is_error = true;
    a.outcome = "workspace_conflict";
    std::string text = "nothing was applied: " + std::to_string(r->conflicts.size()) +
                       " changes conflict with the project as it is now:\n";
    for (size_t i = 0; i < r->conflicts.size() && i < kMaxConflictsShown; ++i) {
      text += "  " + workspace::display_path(r->conflicts[i].path) + ": " +
              r->conflicts[i].reason + "\n";
    }
    if (r->conflicts.size() > kMaxConflictsShown) {
      text += "  and " + std::to_string(r->conflicts.size() - kMaxConflictsShown) + " more\n";
    }
    a.message = std::to_string(r->conflicts.size()) + " conflicts, nothing applied";
    a.texts.push_back(text);
    return a;
  }
  a.message = "applied " + r->digest + ": " + std::to_string(r->written) + " written, " +
              std::to_string(r->removed) + " removed";
  a.texts.push_back(a.message + ", " + std::to_string(r->dirs_created) + " directories created, " +
                    std::to_string(r->modes_changed) + " modes changed");
  return a;
}

}  // namespace wasmcap::mcp

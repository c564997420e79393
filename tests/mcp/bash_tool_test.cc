// The MCP server's built-in `bash`, `workspace_diff` and `workspace_apply` tools
// (src/mcp/bash_tool.h, docs/mcp.md "The bash tool"): offered only as the host config says,
// shell state kept per session, every bound (command length, output, deadline, copies per
// client) and refusal asserted by its exact message, the real tree reached only by an apply of
// the reviewed digest, one audit record per call.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>

#include "mcp_fixture.h"

namespace wasmcap::mcp::test {
namespace {

class BashToolTest : public McpFixture {
 protected:
  void SetUp() override {
    reply_wait_ = std::chrono::seconds(30);
    make_home();
    // The project: the real tree the workspace shadows.
    fs::create_directories(dir_ / "proj/src");
    write_text(dir_ / "proj/notes.txt", "alpha\nbeta\n");
    write_text(dir_ / "proj/src/main.c", "int main(void) { return 0; }\n");
    write_text(dir_ / "secret.txt", "outside the project\n");
    // coreutils as installed: its manifest's shell commands (cat, grep, sed, seq, ...).
    install(coreutils_manifest(), "coreutils");
    ASSERT_TRUE(workspace::create(home_, (dir_ / "proj").string(), "proj"));
  }

  // mcp_ is the host config's "mcp" member ("" = none).
  std::shared_ptr<ToolHost> host(ServerOptions o = {}) {
    return make_host(std::move(o), R"({"plugins": {"coreutils": {}})" +
                                       (mcp_.empty() ? std::string() : R"(, "mcp": )" + mcp_) + "}");
  }

  // One connection with a session of its own, as stdio has.
  struct Conn {
    BashToolTest* t;
    std::string session;
    std::unique_ptr<Protocol> proto;
    int next = 1;
    Json call(const std::string& tool, const Json& args) {
      Json id = "c" + std::to_string(next++) + "-" + session.substr(0, 6);
      Json p{{"name", tool}, {"arguments", args}};
      proto->handle(Json({{"jsonrpc", "2.0"}, {"id", id}, {"method", "tools/call"}, {"params", p}}).dump());
      return t->reply(id);
    }
    Json bash(const std::string& command) { return call("bash", {{"command", command}}); }
  };
  std::unique_ptr<Conn> connect(const std::shared_ptr<ToolHost>& h,
                                std::shared_ptr<Scheduler> scheduler = nullptr) {
    auto c = std::make_unique<Conn>();
    c->t = this;
    Protocol::Settings s;
    s.session = true;
    s.scheduler = std::move(scheduler);
    c->session = h->open_session("stdio").value_or("");
    s.session_id = c->session;
    s.workspace_session = c->session;
    c->proto = std::make_unique<Protocol>(h, s, collector());
    c->proto->handle(Json({{"jsonrpc", "2.0"}, {"id", "init-" + c->session}, {"method", "initialize"},
                           {"params", {{"protocolVersion", "2025-11-25"}}}}).dump());
    reply("init-" + c->session);
    return c;
  }
  // All text content of a result, joined.
  static std::string text(const Json& r) {
    std::string s;
    for (const auto& c : r["result"]["content"]) s += c["text"].get<std::string>();
    return s;
  }
  std::vector<Json> records(const std::string& event) {
    std::lock_guard<std::mutex> g(mu_);
    std::vector<Json> out;
    for (const auto& a : audit_) {
      if (a["event"] == event) out.push_back(a);
    }
    return out;
  }
  std::vector<std::string> names(const std::shared_ptr<ToolHost>& h) { return h->tool_names(); }
  static bool has(const std::vector<std::string>& v, const std::string& s) {
    return std::find(v.begin(), v.end(), s) != v.end();
  }

  std::string mcp_ = R"({"bash": {"workspace": "proj"}})";
};

// Off unless the host config grants it: no mcp.bash, no tool (a call is an unknown tool);
// workspace_apply only with "apply": true; a configured workspace that does not exist offers
// nothing (fail closed) and says why on the log.
TEST_F(BashToolTest, OfferedOnlyAsTheHostConfigSays) {
  mcp_.clear();
  auto h = host();
  EXPECT_FALSE(has(names(h), "bash"));
  EXPECT_FALSE(has(names(h), "workspace_diff"));
  auto c = connect(h);
  Json r = c->bash("echo hi");
  ASSERT_TRUE(r.contains("error")) << r.dump();
  EXPECT_EQ(r["error"]["code"], kInvalidParamsCode);

  mcp_ = R"({"bash": {"workspace": "proj"}})";
  h = host();
  EXPECT_TRUE(has(names(h), "bash"));
  EXPECT_TRUE(has(names(h), "workspace_diff"));
  EXPECT_FALSE(has(names(h), "workspace_apply"));
  c = connect(h);
  r = c->call("workspace_apply", {{"digest", std::string(64, '0')}});
  ASSERT_TRUE(r.contains("error")) << r.dump();
  EXPECT_EQ(r["error"]["code"], kInvalidParamsCode);

  mcp_ = R"({"bash": {"workspace": "proj", "apply": true}})";
  EXPECT_TRUE(has(names(host()), "workspace_apply"));

  mcp_ = R"({"bash": {"workspace": "nosuch", "apply": true}})";
  log_.clear();
  h = host();
  EXPECT_FALSE(has(names(h), "bash"));
  EXPECT_FALSE(has(names(h), "workspace_apply"));
  bool said = false;
  for (const auto& l : log_) said = said || l.find("workspace nosuch") != std::string::npos;
  EXPECT_TRUE(said);
  // The config itself: unknown keys and a bad workspace name are refused.
  EXPECT_FALSE(policy::parse_host_config(R"({"mcp": {"bash": {"workspace": "p", "sudo": 1}}})", "c"));
  EXPECT_FALSE(policy::parse_host_config(R"({"mcp": {"bash": {"workspace": "../x"}}})", "c"));
  EXPECT_FALSE(policy::parse_host_config(R"({"mcp": {"bash": {"apply": true}}})", "c"));
}

// A session's shell keeps its state from call to call, as a terminal: working directory,
// variables, functions. Another session has its own shell and its own copy; the real tree is
// untouched.
TEST_F(BashToolTest, ShellStatePersistsPerSession) {
  auto h = host();
  auto a = connect(h);
  Json r = a->bash("cd src && export GREETING=hello && count=3 && f() { echo \"f:$1\"; }");
  ASSERT_EQ(r["result"]["isError"], false) << r.dump();
  r = a->bash("pwd; echo $GREETING $count; f x; ls");
  ASSERT_EQ(r["result"]["isError"], false) << r.dump();
  EXPECT_EQ(text(r), "/work/src\nhello 3\nf:x\nmain.c\nexit status 0") << r.dump();
  // Pipelines, here-documents, redirections: a file made in the session's copy only.
  r = a->bash("cat > /work/made.txt <<EOF\none $GREETING\ntwo\nEOF\ngrep -c o /work/made.txt | tr -d '\\n'");
  EXPECT_EQ(text(r), "2exit status 0") << r.dump();
  EXPECT_FALSE(fs::exists(dir_ / "proj/made.txt"));
  auto b = connect(h);
  r = b->bash("pwd; echo \"[$GREETING]\"; ls /work");
  EXPECT_EQ(text(r), "/work\n[]\nnotes.txt\nsrc\nexit status 0") << r.dump();
  // An expansion error abandons the rest of its line, as in a terminal (bash -i): the shell
  // and its state stay (no new one), and `$-` says interactive.
  r = a->bash("set -u; echo $nope; echo same line\necho next line");
  EXPECT_EQ(r["result"]["isError"], false) << r.dump();
  EXPECT_NE(text(r).find("nope: unbound variable"), std::string::npos) << r.dump();
  EXPECT_EQ(text(r).find("same line"), std::string::npos) << r.dump();
  r = a->bash("set +u; echo $GREETING; pwd; case $- in *i*) echo interactive;; esac");
  EXPECT_EQ(text(r), "hello\n/work/src\ninteractive\nexit status 0") << r.dump();
  // `exit` ends the shell; the next call gets a new one (the copy stays).
  r = a->bash("exit 3");
  EXPECT_EQ(r["result"]["isError"], true);
  r = a->bash("pwd; cat /work/made.txt | head -n 1");
  EXPECT_NE(text(r).find("new one"), std::string::npos) << r.dump();
  EXPECT_NE(text(r).find("/work\none hello\n"), std::string::npos) << r.dump();
}

// The write budget (--max-write-mb) is the session's copy's, across its calls and a shell
// that exited: no call, and no new shell, renews it. Another session has its own.
TEST_F(BashToolTest, TheWriteBudgetSpansTheSessionsCalls) {
  ServerOptions o;
  o.call_max_write_mb = 1;
  auto h = host(o);
  auto a = connect(h);
  // 728,895 bytes by a tool (seq), then 600,000 by a redirection: the second does not fit.
  Json r = a->bash("seq 1 120000 > /work/one; wc -c < /work/one");
  EXPECT_EQ(text(r), "728895\nexit status 0") << r.dump();
  r = a->bash("exit 0");
  r = a->bash("printf '%0600000d' 0 > /work/two; echo st=$?; wc -c < /work/two");
  EXPECT_NE(text(r).find("No space left on device"), std::string::npos) << r.dump();
  EXPECT_NE(text(r).find("st=1\n"), std::string::npos) << r.dump();
  auto b = connect(h);
  r = b->bash("printf '%0600000d' 0 > /work/two; wc -c < /work/two");
  EXPECT_EQ(text(r), "600000\nexit status 0") << r.dump();
}

// A non-zero status is isError with the status; a syntax error runs nothing (status 2).
TEST_F(BashToolTest, StatusAndSyntaxErrors) {
  auto h = host();
  auto c = connect(h);
  Json r = c->bash("grep nothing-like-this /work/notes.txt");
  EXPECT_EQ(r["result"]["isError"], true);
  EXPECT_EQ(text(r), "exit status 1") << r.dump();
  r = c->bash("if then fi; touch /work/ran");
  EXPECT_EQ(r["result"]["isError"], true);
  EXPECT_NE(text(r).find("wasmcap sh: "), std::string::npos) << r.dump();
  r = c->bash("echo $?; ls /work");
  EXPECT_EQ(text(r), "2\nnotes.txt\nsrc\nexit status 0") << r.dump();
}

// The command line is bounded (schema maxLength): past it nothing runs.
TEST_F(BashToolTest, CommandLengthIsBounded) {
  auto h = host();
  auto c = connect(h);
  std::string cmd = "touch /work/ran #" + std::string(65536, 'x');
  Json r = c->bash(cmd);
  EXPECT_EQ(r["result"]["isError"], true);
  EXPECT_EQ(text(r), "invalid arguments: $.command: longer than 65536 characters") << r.dump();
  r = c->bash("ls /work");
  EXPECT_EQ(text(r), "notes.txt\nsrc\nexit status 0");
}

// Output is bounded by --max-output-bytes (tools' and builtins' alike), and the cut is marked.
TEST_F(BashToolTest, OutputIsBoundedAndTruncationMarked) {
  ServerOptions o;
  o.max_output_bytes = 1000;
  auto h = host(o);
  auto c = connect(h);
  // A background job writes through its own copy of the capture's descriptor: still output.
  for (const char* cmd : {"seq 1 100000", "while :; do echo builtin-output; done",
                          "seq 1 100000 & wait"}) {
    SCOPED_TRACE(cmd);
    Json r = c->bash(cmd);
    EXPECT_EQ(r["result"]["isError"], true);
    std::string out = r["result"]["content"][0]["text"];
    EXPECT_LE(out.size(), 1000u);
    EXPECT_NE(text(r).find("[output truncated: the command wrote more than 1000 bytes and was "
                           "stopped]"),
              std::string::npos) << r.dump();
  }
  // 400 control bytes are within the bound, their 2,400 bytes as JSON text are not: cut to
  // what fits (6 bytes each) and marked.
  Json r = c->bash("printf '\\001%.0s' {1..400}");
  std::string out = r["result"]["content"][0]["text"];
  EXPECT_EQ(out, std::string(166, '\x01')) << r.dump().substr(0, 300);
  EXPECT_NE(text(r).find("[output truncated: more than 1000 bytes as JSON text]"), std::string::npos)
      << r.dump().substr(0, 300);
}

// The deadline: the server's --timeout-ms, or the call's timeout_ms when lower (never higher).
TEST_F(BashToolTest, DeadlineStopsTheCommandAndKeepsTheShell) {
  // timing: the scripts' `sleep` runs until the call's deadline (400 ms, then 150 ms).
  ServerOptions o;
  o.call_timeout_ms = 400;
  auto h = host(o);
  auto c = connect(h);
  auto t0 = std::chrono::steady_clock::now();
  Json r = c->call("bash", {{"command", "x=kept; sleep 30"}, {"timeout_ms", 100000}});
  double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_EQ(r["result"]["isError"], true);
  EXPECT_NE(text(r).find("did not finish within its deadline (400 ms)"), std::string::npos) << r.dump();
  EXPECT_LT(s, 10.0);
  r = c->call("bash", {{"command", "sleep 5"}, {"timeout_ms", 150}});
  EXPECT_NE(text(r).find("(150 ms)"), std::string::npos) << r.dump();
  r = c->bash("echo $x");
  EXPECT_EQ(text(r), "kept\nexit status 0") << r.dump();
  auto timeouts = records("tool_call");
  EXPECT_EQ(std::count_if(timeouts.begin(), timeouts.end(),
                          [](const Json& j) { return j["outcome"] == "timeout"; }),
            2);
}

// The deadline runs from admission (docs/mcp.md "Tenants"): a call admitted 5 s ago with a 6 s
// deadline has 1 s left to run, and its message names the 6 s the caller asked for.
TEST_F(BashToolTest, TheDeadlineRunsFromAdmission) {
  // timing: the script's `sleep` runs until the second its deadline has left.
  auto h = host();
  CallContext ctx;
  ctx.admitted = std::chrono::steady_clock::now() - std::chrono::seconds(5);
  auto t0 = std::chrono::steady_clock::now();
  CallOutcome out = h->call("bash", R"({"command": "sleep 30", "timeout_ms": 6000})", ctx);
  double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  ASSERT_FALSE(out.protocol_error) << out.error_message;
  Json r = Json::parse(out.result_json);
  EXPECT_EQ(r["isError"], true);
  EXPECT_NE(r.dump().find("did not finish within its deadline (6000 ms)"), std::string::npos) << r.dump();
  EXPECT_LT(s, 4.0) << "the time waited before the run was not taken from its deadline";
}

// The commands of one call share mcp.bash.memory_mb (a pool per shell): a stage holding 10 MiB
// of a 16 MiB pool leaves the next one what remains, not its own cap; the scheduler reserves the
// pool for the call, so a budget smaller than it refuses the call; the pages come back when the
// commands end (the next call gets the same).
TEST_F(BashToolTest, TheCommandsOfACallShareItsMemory) {
  Json holder{{"name", "holder"}, {"version", "1.0.0"}, {"permissions", {{"args", true}}},
              {"commands", {{"mem_hold", Json::object()}}}};
  install(holder, "mem_hold");
  Json bomb{{"name", "bomb"}, {"version", "1.0.0"}, {"commands", {{"malloc_bomb", Json::object()}}}};
  install(bomb, "malloc_bomb");
  mcp_ = R"({"bash": {"workspace": "proj", "memory_mb": 16}})";
  auto h = host();
  EXPECT_EQ(h->memory_cap_mb("bash"), 16u);
  EXPECT_EQ(h->memory_cap_mb("workspace_diff"), 0u);
  auto c = connect(h);
  // Alone, a command has the whole pool (its own cap narrowed to it).
  std::string alone = text(c->bash("malloc_bomb"));
  unsigned long kib = 0;
  ASSERT_EQ(std::sscanf(alone.c_str(), "malloc failed cleanly after %lu KiB", &kib), 1) << alone;
  EXPECT_GT(kib, 14ul << 10) << alone;
  EXPECT_LE(kib, 16ul << 10) << alone;
  for (int round = 0; round < 2; ++round) {
    // mem_hold has its 10 MiB (and keeps writing) before the group's `read` returns, and
    // holds them until the group ends.
    std::string both = text(c->bash("mem_hold 10 | { read line; echo \"$line\"; malloc_bomb; }"));
    EXPECT_NE(both.find("holding 10 MiB"), std::string::npos) << both;
    const size_t at = both.find("malloc failed cleanly after ");
    ASSERT_NE(at, std::string::npos) << both;
    kib = std::stoul(both.substr(at + 28));
    EXPECT_LT(kib, 6ul << 10) << "the second stage had more than the pool left it: " << both;
    EXPECT_GT(kib, 4ul << 10) << both;
  }

  // The scheduler reserves the pool: a server budget below it refuses the call at admission.
  mcp_ = R"({"bash": {"workspace": "proj", "memory_mb": 16}, "tenancy": {"memory_budget_mb": 8}})";
  auto small = host();
  auto c2 = connect(small);
  Json r = c2->bash("echo never");
  ASSERT_TRUE(r.contains("error")) << r.dump();
  EXPECT_NE(r.dump().find("may use 16 MiB of memory, more than the server's budget for all "
                          "running calls (8 MiB"), std::string::npos) << r.dump();
  EXPECT_NE(r.dump().find("mcp.bash.memory_mb"), std::string::npos) << r.dump();

  // The default: four times the call cap.
  mcp_ = R"({"bash": {"workspace": "proj"}})";
  EXPECT_EQ(host()->memory_cap_mb("bash"), 4 * kDefaultCallMaxMemoryMb);
  ServerOptions o;
  o.call_max_memory_mb = 10;
  EXPECT_EQ(host(o)->memory_cap_mb("bash"), 40u);
  EXPECT_FALSE(policy::parse_host_config(R"({"mcp": {"bash": {"workspace": "p", "memory_mb": 0}}})", "c"));
}

// A bash call's pipeline stages run on threads of their own: their CPU is the call's (the
// scheduler's principal metrics, its demotion and CPU share), not only the call thread's, which
// waits for them.
TEST_F(BashToolTest, APipelinesCpuIsTheCalls) {
  ServerOptions o;
  auto h = host(o);
  auto sched = std::make_shared<Scheduler>(SchedulerLimits{});
  auto c = connect(h, sched);
  std::string out = text(c->bash("seq 1 40000 | sort -r | sort | wc -l"));
  EXPECT_NE(out.find("40000"), std::string::npos) << out;
  Scheduler::Snapshot snap = sched->snapshot();
  ASSERT_EQ(snap.principals.size(), 1u);
  EXPECT_GE(snap.principals[0].usage.cpu_seconds, 0.2) << "the stages' CPU was not counted";
}

// Nothing outside the session's copy is reachable: not the host's files, not the project's
// real tree (changes land in the copy), not other sessions' copies.
TEST_F(BashToolTest, NoHostPathOutsideTheCopy) {
  auto h = host();
  auto c = connect(h);
  std::string secret = (dir_ / "secret.txt").string();
  std::string real = (dir_ / "proj/notes.txt").string();
  for (const std::string& cmd :
       {"cat " + secret, "cat /work/../../../../../.." + secret, "cd / && cat ." + secret,
        "cat < " + secret, "echo x > " + real, std::string("cat /etc/passwd")}) {
    SCOPED_TRACE(cmd);
    Json r = c->bash(cmd);
    EXPECT_EQ(r["result"]["isError"], true) << r.dump();
    EXPECT_EQ(text(r).find("outside the project"), std::string::npos) << r.dump();
    EXPECT_EQ(text(r).find("root:"), std::string::npos) << r.dump();
  }
  Json r = c->bash("rm /work/notes.txt && ls /work");
  EXPECT_EQ(text(r), "src\nexit status 0");
  EXPECT_EQ(testing::read_text(dir_ / "proj/notes.txt"), "alpha\nbeta\n");
}

// The real tree changes only through workspace_apply, granted by the config, of the digest
// workspace_diff reported: another digest writes nothing.
TEST_F(BashToolTest, DiffThenApplyTheReviewedDigest) {
  mcp_ = R"({"bash": {"workspace": "proj", "apply": true}})";
  auto h = host();
  auto c = connect(h);
  Json r = c->call("workspace_diff", Json::object());
  EXPECT_EQ(r["result"]["structuredContent"]["changes"], 0) << r.dump();
  r = c->bash("sed -i 's/beta/gamma/' /work/notes.txt && echo new > /work/added.txt");
  ASSERT_EQ(r["result"]["isError"], false) << r.dump();
  r = c->call("workspace_diff", Json::object());
  ASSERT_EQ(r["result"]["isError"], false) << r.dump();
  EXPECT_EQ(r["result"]["structuredContent"]["changes"], 2) << r.dump();
  std::string digest = r["result"]["structuredContent"]["digest"];
  EXPECT_NE(text(r).find("-beta\n+gamma"), std::string::npos) << r.dump();
  // A change after the review: the reviewed digest no longer matches, nothing is written.
  c->bash("echo sneaky > /work/later.txt");
  r = c->call("workspace_apply", {{"digest", digest}});
  EXPECT_EQ(r["result"]["isError"], true) << r.dump();
  EXPECT_NE(text(r).find("workspace_conflict"), std::string::npos) << r.dump();
  EXPECT_EQ(testing::read_text(dir_ / "proj/notes.txt"), "alpha\nbeta\n");
  EXPECT_FALSE(fs::exists(dir_ / "proj/added.txt"));
  c->bash("rm /work/later.txt");
  r = c->call("workspace_apply", {{"digest", digest}});
  ASSERT_EQ(r["result"]["isError"], false) << r.dump();
  EXPECT_EQ(r["result"]["structuredContent"]["written"], 2) << r.dump();
  EXPECT_EQ(testing::read_text(dir_ / "proj/notes.txt"), "alpha\ngamma\n");
  EXPECT_EQ(testing::read_text(dir_ / "proj/added.txt"), "new\n");
  r = c->call("workspace_diff", Json::object());
  EXPECT_EQ(r["result"]["structuredContent"]["changes"], 0) << r.dump();
}

// A session's calls take turns: workspace_apply made while the session's command runs waits for
// it, instead of finding the copy in use by a running tool (workspace_conflict).
TEST_F(BashToolTest, ApplyTakesItsTurnAfterTheSessionsCommand) {
  mcp_ = R"({"bash": {"workspace": "proj", "apply": true}})";
  auto h = host();
  auto c = connect(h);
  ASSERT_EQ(c->bash("echo x > /work/f.txt")["result"]["isError"], false);
  std::string digest = c->call("workspace_diff", Json::object())["result"]["structuredContent"]["digest"];
  Json p{{"name", "bash"}, {"arguments", {{"command", "sleep 1"}}}};
  c->proto->handle(Json({{"jsonrpc", "2.0"}, {"id", "long"}, {"method", "tools/call"}, {"params", p}}).dump());
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // the sleep is running
  Json r = c->call("workspace_apply", {{"digest", digest}});
  EXPECT_EQ(r["result"]["isError"], false) << r.dump();
  EXPECT_EQ(reply("long")["result"]["isError"], false);
  EXPECT_EQ(testing::read_text(dir_ / "proj/f.txt"), "x\n");
}

// Copies per client: each session's shell works on a copy, and copies are capped
// (--max-session-workspaces): past it a new session's bash is refused before anything is copied.
TEST_F(BashToolTest, SessionsAreCappedByTheWorkspaceCopies) {
  ServerOptions o;
  o.max_session_workspaces = 1;
  auto h = host(o);
  auto a = connect(h);
  auto b = connect(h);
  EXPECT_EQ(a->bash("true")["result"]["isError"], false);
  Json r = b->bash("true");
  ASSERT_TRUE(r.contains("error")) << r.dump();
  EXPECT_EQ(r["error"]["code"], kServerBusy);
  EXPECT_NE(r["error"]["message"].get<std::string>().find("--max-session-workspaces"),
            std::string::npos) << r.dump();
  // The first session ends: its unchanged copy goes, and the other session can start.
  EXPECT_TRUE(h->close_session(a->session, "stdio"));
  EXPECT_EQ(b->bash("true")["result"]["isError"], false);
}

// One tool_call record per call (after its tool_call_start), as for plugins' tools: no plugin,
// the outcome and exit status; the shell's own shell_command records carry the same invocation
// id. No command text, no output in the tool_call record.
TEST_F(BashToolTest, OneAuditRecordPerCall) {
  auto h = host();
  auto c = connect(h);
  c->bash("echo secret-output | tr a-z A-Z");
  c->bash("false");
  auto calls = records("tool_call");
  auto starts = records("tool_call_start");
  ASSERT_EQ(calls.size(), 2u);
  ASSERT_EQ(starts.size(), 2u);
  EXPECT_EQ(calls[0]["tool"], "bash");
  EXPECT_TRUE(calls[0]["plugin"].is_null());
  EXPECT_EQ(calls[0]["outcome"], "ok");
  EXPECT_EQ(calls[1]["outcome"], "tool_error");
  EXPECT_EQ(calls[1]["exit_code"], 1);
  EXPECT_EQ(calls[0]["session_id"], c->session);
  EXPECT_EQ(calls[0]["invocation_id"], starts[0]["invocation_id"]);
  EXPECT_EQ(calls[0].dump().find("SECRET-OUTPUT"), std::string::npos);
  auto cmds = records("shell_command");
  ASSERT_GE(cmds.size(), 2u);
  EXPECT_EQ(cmds[0]["invocation_id"], calls[0]["invocation_id"]);
}

// Without a session (a 2026-07-28 request, `wasmcap tool call`), each call has a fresh shell on a
// copy of its own that goes when it ends: nothing is kept, so there is nothing to diff or apply.
TEST_F(BashToolTest, SessionlessCallsKeepNothing) {
  mcp_ = R"({"bash": {"workspace": "proj", "apply": true}})";
  auto h = host();
  CallContext ctx;
  auto r = h->call("bash", R"({"command": "cd src; x=1; touch /work/t; pwd"})", ctx);
  EXPECT_EQ(Json::parse(r.result_json)["content"][0]["text"], "/work/src\n") << r.result_json;
  r = h->call("bash", R"({"command": "pwd; echo \"[$x]\"; ls /work"})", ctx);
  EXPECT_EQ(Json::parse(r.result_json)["content"][0]["text"], "/work\n[]\nnotes.txt\nsrc\n")
      << r.result_json;
  r = h->call("workspace_diff", "{}", ctx);
  EXPECT_TRUE(r.is_error);
  EXPECT_NE(r.result_json.find("needs a session"), std::string::npos) << r.result_json;
}

}  // namespace
}  // namespace wasmcap::mcp::test

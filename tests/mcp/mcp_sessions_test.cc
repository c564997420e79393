// MCP calls in workspaces: a workspace grant writes the shadow, per-session copies and who may
// own them (issue #28), their caps, the stdio connection as one session, deep tool output, and
// the session table on its own (src/mcp/sessions.h).
#include <gtest/gtest.h>

#include <httplib.h>
#include <unistd.h>

#include <map>

#include "mcp/sessions.h"
#include "mcp/transport_stdio.h"
#include "mcp_fixture.h"

namespace wasmcap::mcp::test {
namespace {

// A workspace grant: the tools work on the shadow's tree; the real tree is untouched until
// `ws apply`, and the change shows in the workspace's diff.
TEST_F(ServerTest, WorkspaceGrantCallsWriteTheShadow) {
  auto ws = workspace::create(home_, (dir_ / "ws").string(), "proj");
  ASSERT_TRUE(ws) << ws.error().to_string();
  coreutils_fs_ = R"({"guest": "/work", "workspace": "proj", "access": "rw"})";
  start();
  initialize();
  Json r = call(1, "cp", {{"source", "notes.txt"}, {"destination", "copy.txt"}});
  ASSERT_EQ(r["result"]["isError"], false) << r.dump();
  EXPECT_FALSE(fs::exists(dir_ / "ws/copy.txt"));
  EXPECT_EQ(testing::read_text(fs::path(ws->tree) / "copy.txt"), "alpha\nbeta\n");
  auto d = workspace::diff(home_, "proj");
  ASSERT_TRUE(d);
  ASSERT_EQ(d->changes.size(), 1u);
  EXPECT_EQ(d->changes[0].path, "copy.txt");
  EXPECT_EQ(d->changes[0].kind, workspace::Change::Kind::kAdded);
  // A workspace that does not exist is a tool error, never a fallback to some directory.
  ASSERT_TRUE(workspace::discard(home_, "proj"));
  r = call(2, "mkdir", {{"paths", {"m"}}});
  EXPECT_EQ(r["result"]["isError"], true) << r.dump();
  EXPECT_NE(r["result"]["content"][0]["text"].get<std::string>().find("no workspace 'proj'"),
            std::string::npos) << r.dump();
  EXPECT_FALSE(fs::exists(dir_ / "ws/m"));
}

// per_session: each session gets its own shadow of the workspace's source, made on its first
// call; sessions do not see each other's changes.
TEST_F(ServerTest, PerSessionWorkspaces) {
  ASSERT_TRUE(workspace::create(home_, (dir_ / "ws").string(), "proj"));
  coreutils_fs_ =
      R"({"guest": "/work", "workspace": "proj", "per_session": true, "access": "rw"})";
  start();  // a session opened on the host, as stdio does
  initialize();
  Json r = call(1, "mkdir", {{"paths", {"mine"}}});
  ASSERT_EQ(r["result"]["isError"], false) << r.dump();
  EXPECT_FALSE(fs::exists(dir_ / "ws/mine"));
  auto base = workspace::open(home_, "proj");
  ASSERT_TRUE(base);
  EXPECT_FALSE(fs::exists(fs::path(base->tree) / "mine"));
  auto s1 = workspace::open(home_, workspace::session_workspace_name("proj", session_));
  ASSERT_TRUE(s1);
  EXPECT_TRUE(fs::is_directory(fs::path(s1->tree) / "mine"));
  EXPECT_EQ(s1->source, base->source);
  // Another session: a fresh shadow without "mine".
  Protocol::Settings s;
  s.session = true;
  s.session_id = "sess-2";
  s.workspace_session = host_->open_session("stdio").value_or("");
  auto other = std::make_unique<Protocol>(host_, s, collector());
  other->handle(Json({{"jsonrpc", "2.0"}, {"id", "i2"}, {"method", "initialize"},
                      {"params", {{"protocolVersion", "2025-11-25"}, {"capabilities", Json::object()},
                                  {"clientInfo", {{"name", "t"}, {"version", "1"}}}}}}).dump());
  reply("i2");
  other->handle(Json({{"jsonrpc", "2.0"}, {"id", "l2"}, {"method", "tools/call"},
                      {"params", {{"name", "ls"}, {"arguments", Json::object()}}}}).dump());
  Json l = reply("l2");
  EXPECT_EQ(l["result"]["content"][0]["text"], "notes.txt\n") << l.dump();
  auto s2 = workspace::open(home_, workspace::session_workspace_name("proj", s.workspace_session));
  ASSERT_TRUE(s2);
  EXPECT_NE(s2->name, s1->name);
  // The session ends (stdio EOF): its changed copy stays for review, the other's unchanged one
  // is deleted.
  EXPECT_TRUE(host_->close_session(session_, "stdio"));
  EXPECT_TRUE(host_->close_session(s.workspace_session, "stdio"));
  EXPECT_TRUE(workspace::open(home_, s1->name));
  EXPECT_FALSE(workspace::open(home_, s2->name));
}

// A call holds the per-session copy it works on, as every tool run holds its workspace: while
// the operator applies that copy, a call of its session is refused (workspace_conflict) instead
// of writing into the tree being applied. The apply's own test hook makes the call mid-apply.
TEST_F(ServerTest, CallsHoldTheirSessionCopyAgainstApply) {
  ASSERT_TRUE(workspace::create(home_, (dir_ / "ws").string(), "proj"));
  coreutils_fs_ =
      R"({"guest": "/work", "workspace": "proj", "per_session": true, "access": "rw"})";
  start();
  initialize();
  Json r = call(1, "mkdir", {{"paths", {"mine"}}});
  ASSERT_EQ(r["result"]["isError"], false) << r.dump();
  std::string copy = workspace::session_workspace_name("proj", session_);
  using Self = std::remove_pointer_t<decltype(this)>;
  struct Mid {
    Self* t;
    Json answer;
    bool fired = false;
  } mid{this, Json(), false};
  workspace::set_apply_write_hook_for_testing(
      [](const std::string&, void* arg) {
        auto* m = static_cast<Mid*>(arg);
        if (m->fired) return;
        m->fired = true;
        m->answer = m->t->call(2, "mkdir", {{"paths", {"during"}}});
      },
      &mid);
  auto applied = workspace::apply(home_, copy);
  workspace::set_apply_write_hook_for_testing(nullptr, nullptr);
  ASSERT_TRUE(applied) << applied.error().to_string();
  ASSERT_TRUE(mid.fired);
  EXPECT_EQ(mid.answer["result"]["isError"], true) << mid.answer.dump();
  EXPECT_NE(mid.answer.dump().find("workspace_conflict"), std::string::npos) << mid.answer.dump();
  EXPECT_TRUE(fs::is_directory(dir_ / "ws/mine"));
  EXPECT_FALSE(fs::exists(dir_ / "ws/during"));
}


// --- Issue #28: deep tool output, and who may own per-session workspace copies -----------------

// A "stdout": "json" tool's output is decoded within kMaxToolOutputDepth levels while parsing:
// at the bound it is structuredContent (and the response message, two levels deeper, still
// within kMaxJsonDepth, which the HTTP transport re-reads it with); one level more is a tool
// error; 400,000 levels (800 KB, under the output cap) used to kill the server with SIGSEGV
// when the value was copied into the result.
// jcat PATH: cat as a "stdout": "json" tool (its output is structuredContent).
Json jsoncat_manifest() {
  return Json{{"name", "jsoncat"}, {"version", "1.0.0"}, {"module", "plugin.wasm"},
              {"permissions", {{"args", true}, {"fs", Json::array({{{"guest", "/work"}, {"access", "ro"}}})}}},
              {"tools", Json::array({{{"name", "jcat"},
                                      {"input_schema", {{"type", "object"},
                                                        {"properties", {{"path", {{"type", "string"}}}}}}},
                                      {"invoke", {{"argv", Json::array({"cat", "--", {{"arg", "path"}}})},
                                                  {"stdout", "json"}}}}})}};
}

// A tool's result goes out as the tool layer wrote it, stamped for the stateless revision
// (resultType, _meta serverInfo: spliced in, or merged when the result's text holds those names
// as members), whatever it holds: the names quoted in its text, or as members of its
// structuredContent, which keeps its own.
TEST_F(ServerTest, StatelessResultsAreStampedWhateverTheyHold) {
  install(jsoncat_manifest(), "coreutils");
  write_text(dir_ / "ws/meta.json", R"({"_meta": {"mine": 1}, "resultType": "mine", "x": "\"_meta\""})");
  write_text(dir_ / "ws/quoted.txt", "\"_meta\" \"resultType\" {}\n");
  start();
  initialize();
  Json meta{{"io.modelcontextprotocol/protocolVersion", "2026-07-28"},
            {"io.modelcontextprotocol/clientCapabilities", Json::object()}};
  Json plain = call(1, "cat", {{"paths", {"quoted.txt"}}}, meta);
  ASSERT_EQ(plain["result"]["isError"], false) << plain.dump();
  EXPECT_EQ(plain["result"]["content"][0]["text"], "\"_meta\" \"resultType\" {}\n");
  EXPECT_EQ(plain["result"]["resultType"], "complete");
  EXPECT_EQ(plain["result"]["_meta"]["io.modelcontextprotocol/serverInfo"]["name"], "wasmcap") << plain.dump();
  Json own = call(2, "jcat", {{"path", "meta.json"}}, meta);
  ASSERT_EQ(own["result"]["isError"], false) << own.dump();
  EXPECT_EQ(own["result"]["resultType"], "complete");
  EXPECT_EQ(own["result"]["_meta"]["io.modelcontextprotocol/serverInfo"]["name"], "wasmcap") << own.dump();
  EXPECT_EQ(own["result"]["structuredContent"]["_meta"]["mine"], 1);
  EXPECT_EQ(own["result"]["structuredContent"]["resultType"], "mine");
  // The session revision's results are not stamped.
  Json session = call(3, "cat", {{"paths", {"quoted.txt"}}});
  ASSERT_EQ(session["result"]["isError"], false) << session.dump();
  EXPECT_FALSE(session["result"].contains("resultType")) << session.dump();
  EXPECT_FALSE(session["result"].contains("_meta")) << session.dump();
}

// The output bound holds for the output as JSON text: 400 control bytes (2,400 bytes escaped)
// against a 1,000-byte bound are cut to what fits and the call is an output_limit error; 900
// plain bytes pass whole.
TEST_F(ServerTest, TheOutputBoundCountsTheOutputAsJson) {
  write_text(dir_ / "ws/ctl.bin", std::string(400, '\x01'));
  write_text(dir_ / "ws/plain.txt", std::string(900, 'a'));
  ServerOptions o;
  o.max_output_bytes = 1000;
  start(o);
  initialize();
  Json r = call(1, "cat", {{"paths", {"ctl.bin"}}});
  ASSERT_TRUE(r.contains("result")) << r.dump().substr(0, 300);
  EXPECT_EQ(r["result"]["isError"], true);
  EXPECT_EQ(r["result"]["content"][0]["text"], std::string(166, '\x01'));
  std::string last = r["result"]["content"].back()["text"];
  EXPECT_NE(last.find("takes more than 1000 bytes as JSON text"), std::string::npos) << last;
  Json ok = call(2, "cat", {{"paths", {"plain.txt"}}});
  EXPECT_EQ(ok["result"]["isError"], false);
  EXPECT_EQ(ok["result"]["content"][0]["text"], std::string(900, 'a'));
  auto a = audits();
  ASSERT_EQ(a.size(), 2u);
  EXPECT_EQ(a[0]["outcome"], "output_limit");
  EXPECT_EQ(a[0]["bytes_out"], 400) << "the guest's bytes, as written";
  EXPECT_EQ(a[1]["outcome"], "ok");
}

TEST_F(ServerTest, DeepToolOutputIsAToolErrorNotACrash) {
  install(jsoncat_manifest(), "coreutils");
  // {"a": [[...]]}: `levels` levels of nesting in all.
  auto nested = [](size_t levels) {
    return "{\"a\":" + std::string(levels - 1, '[') + std::string(levels - 1, ']') + "}";
  };
  write_text(dir_ / "ws/ok.json", nested(kMaxToolOutputDepth));
  write_text(dir_ / "ws/deep.json", nested(kMaxToolOutputDepth + 1));
  write_text(dir_ / "ws/bomb.json", nested(400000));
  start();
  initialize();
  Json ok = call(1, "jcat", {{"path", "ok.json"}});
  ASSERT_EQ(ok["result"]["isError"], false) << ok.dump().substr(0, 400);
  EXPECT_EQ(json::depth(ok["result"]["structuredContent"]), kMaxToolOutputDepth);
  int id = 2;
  for (const char* file : {"deep.json", "bomb.json"}) {
    SCOPED_TRACE(file);
    Json r = call(id++, "jcat", {{"path", file}});
    ASSERT_TRUE(r.contains("result")) << r.dump().substr(0, 400);
    EXPECT_EQ(r["result"]["isError"], true);
    EXPECT_FALSE(r["result"].contains("structuredContent"));
    std::string last = r["result"]["content"].back()["text"];
    EXPECT_NE(last.find("the tool's JSON output is refused: $.a[0]"), std::string::npos) << last;
    EXPECT_NE(last.find("nested deeper than " + std::to_string(kMaxToolOutputDepth) + " levels"),
              std::string::npos) << last;
    EXPECT_LT(last.size(), 400u);  // the path is cut, not 400,000 "[0]"s
  }
  auto a = audits();
  ASSERT_EQ(a.size(), 3u);
  EXPECT_EQ(a[1]["outcome"], "bad_output");
  EXPECT_EQ(a[2]["outcome"], "bad_output");
  // Over HTTP the answer at the bound travels too (the transport re-reads every message it
  // sends within kMaxJsonDepth), and the bomb is a tool error there as well.
  HttpServer srv(host_);
  ASSERT_NE(srv.port.load(), 0);
  httplib::Client c("127.0.0.1", srv.port);
  c.set_read_timeout(60, 0);
  for (const char* file : {"ok.json", "bomb.json"}) {
    Json req{{"jsonrpc", "2.0"}, {"id", file}, {"method", "tools/call"},
             {"params", {{"name", "jcat"}, {"arguments", {{"path", file}}}}}};
    auto r = c.Post("/mcp", req.dump(), "application/json");
    ASSERT_TRUE(r) << file;
    EXPECT_EQ(r->status, 200) << file;
    Json j = Json::parse(r->body);
    EXPECT_EQ(j["result"]["isError"], std::string(file) != "ok.json") << file;
  }
}

// An HTTP server over a per_session workspace grant, with `o`'s bounds.
struct SessionServer {
  SessionServer(ServerTest* t, std::shared_ptr<ToolHost> h) : srv(std::move(h)), c("127.0.0.1", srv.port) {
    c.set_read_timeout(60, 0);
    (void)t;
  }
  // initialize: the session id the server issued.
  // `token`: the principal's bearer token ("" = none).
  std::string initialize(const std::string& token = "") {
    httplib::Headers h;
    if (!token.empty()) h.emplace("Authorization", "Bearer " + token);
    auto r = c.Post("/mcp", h,
                    R"({"jsonrpc":"2.0","id":"i","method":"initialize","params":{"protocolVersion":"2025-11-25"}})",
                    "application/json");
    return r ? r->get_header_value("Mcp-Session-Id") : "";
  }
  // tools/call of coreutils `tool` with `args`, under Mcp-Session-Id `session` ("" = none;
  // `modern`: a 2026-07-28 request). The JSON-RPC response.
  Json call(const std::string& session, const std::string& tool, const Json& args, bool modern = false,
            const std::string& token = "") {
    Json params{{"name", tool}, {"arguments", args}};
    httplib::Headers h;
    if (modern) {
      params["_meta"] = {{"io.modelcontextprotocol/protocolVersion", "2026-07-28"},
                         {"io.modelcontextprotocol/clientCapabilities", Json::object()}};
      h = {{"MCP-Protocol-Version", "2026-07-28"}, {"Mcp-Method", "tools/call"}, {"Mcp-Name", tool}};
    }
    if (!session.empty()) h.emplace("Mcp-Session-Id", session);
    if (!token.empty()) h.emplace("Authorization", "Bearer " + token);
    Json req{{"jsonrpc", "2.0"}, {"id", 1}, {"method", "tools/call"}, {"params", params}};
    auto r = c.Post("/mcp", h, req.dump(), "application/json");
    return r ? Json::parse(r->body, nullptr, false) : Json();
  }
  // DELETE /mcp under Mcp-Session-Id `session` ("" = none) as `token`'s principal: the status.
  int end(const std::string& session, const std::string& token = "") {
    httplib::Headers h;
    if (!session.empty()) h.emplace("Mcp-Session-Id", session);
    if (!token.empty()) h.emplace("Authorization", "Bearer " + token);
    auto r = c.Delete("/mcp", h);
    return r ? r->status : -1;
  }
  HttpServer srv;
  httplib::Client c;
};

// Names of the session (s-*) and per-call (c-*) copies in the home's workspaces folder.
std::vector<std::string> copies_in(const std::string& home) {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(fs::path(home) / "workspaces", ec)) {
    std::string n = e.path().filename().string();
    if (n.rfind("s-", 0) == 0 || n.rfind("c-", 0) == 0) out.push_back(n);
  }
  return out;
}

// Only a session the server issued owns a copy: 30 invented Mcp-Session-Ids (no initialize)
// made 30 full copies of the project; now each is refused with -32001 and nothing is copied.
TEST_F(ServerTest, InventedSessionIdsOwnNoWorkspace) {
  ASSERT_TRUE(workspace::create(home_, (dir_ / "ws").string(), "proj"));
  coreutils_fs_ = R"({"guest": "/work", "workspace": "proj", "per_session": true, "access": "rw"})";
  SessionServer s(this, host());
  for (int i = 0; i < 30; ++i) {
    Json r = s.call("invented-" + std::to_string(i), "ls", Json::object());
    ASSERT_TRUE(r.contains("error")) << r.dump();
    EXPECT_EQ(r["error"]["code"], kSessionNotFound);
    EXPECT_NE(r["error"]["message"].get<std::string>().find("send initialize"), std::string::npos);
  }
  EXPECT_TRUE(copies_in(home_).empty());
  // An issued one works, and keeps its copy between calls.
  std::string id = s.initialize();
  ASSERT_EQ(id.size(), 32u);
  Json r = s.call(id, "mkdir", {{"paths", {"made-by-a"}}});
  ASSERT_EQ(r["result"]["isError"], false) << r.dump();
  r = s.call(id, "ls", Json::object());
  EXPECT_EQ(r["result"]["content"][0]["text"], "made-by-a\nnotes.txt\n") << r.dump();
  EXPECT_EQ(copies_in(home_).size(), 1u);
  // Tools without a per_session grant need no session at all.
  Json e = s.call("invented-x", "count_stdin", Json::object());
  EXPECT_TRUE(e.contains("result")) << e.dump();
}

// Session-less requests (2026-07-28, or legacy without Mcp-Session-Id) each get a copy of their
// own, removed when the call ends: B never lists the directory A made.
TEST_F(ServerTest, SessionlessCallsGetTheirOwnCopy) {
  ASSERT_TRUE(workspace::create(home_, (dir_ / "ws").string(), "proj"));
  coreutils_fs_ = R"({"guest": "/work", "workspace": "proj", "per_session": true, "access": "rw"})";
  SessionServer s(this, host());
  for (bool modern : {false, true}) {
    SCOPED_TRACE(modern ? "2026-07-28" : "legacy without a session");
    Json a = s.call("", "mkdir", {{"paths", {"made-by-a"}}}, modern);
    ASSERT_EQ(a["result"]["isError"], false) << a.dump();
    Json b = s.call("", "ls", Json::object(), modern);
    ASSERT_EQ(b["result"]["isError"], false) << b.dump();
    EXPECT_EQ(b["result"]["content"][0]["text"], "notes.txt\n") << b.dump();
    EXPECT_TRUE(copies_in(home_).empty());  // each call's copy went with it
  }
  EXPECT_FALSE(fs::exists(dir_ / "ws/made-by-a"));
}

// Live copies are capped in number and in total bytes; past the cap a call is refused with
// -32000 before anything is copied (the 30 sessions of the report made 30 copies).
TEST_F(ServerTest, SessionWorkspaceCopiesAreCapped) {
  ASSERT_TRUE(workspace::create(home_, (dir_ / "ws").string(), "proj"));
  coreutils_fs_ = R"({"guest": "/work", "workspace": "proj", "per_session": true, "access": "rw"})";
  {
    ServerOptions o;
    o.max_session_workspaces = 2;
    SessionServer s(this, host(o));
    std::vector<std::string> ids;
    for (int i = 0; i < 3; ++i) ids.push_back(s.initialize());
    EXPECT_EQ(s.call(ids[0], "ls", Json::object())["result"]["isError"], false);
    EXPECT_EQ(s.call(ids[1], "ls", Json::object())["result"]["isError"], false);
    Json r = s.call(ids[2], "ls", Json::object());
    ASSERT_TRUE(r.contains("error")) << r.dump();
    EXPECT_EQ(r["error"]["code"], kServerBusy);
    EXPECT_NE(r["error"]["message"].get<std::string>().find("--max-session-workspaces"),
              std::string::npos) << r.dump();
    EXPECT_EQ(copies_in(home_).size(), 2u);
    // A session-less call needs a copy too: refused the same way while the cap is reached.
    EXPECT_EQ(s.call("", "ls", Json::object())["error"]["code"], kServerBusy);
    // The sessions that own copies keep working.
    EXPECT_EQ(s.call(ids[0], "ls", Json::object())["result"]["isError"], false);
  }
  for (const auto& n : copies_in(home_)) ASSERT_TRUE(workspace::discard(home_, n));
  // Bytes: a 64 KiB project under a 100 KiB total fits once.
  write_text(dir_ / "ws/big.bin", std::string(64 << 10, 'x'));
  ASSERT_TRUE(workspace::discard(home_, "proj"));
  ASSERT_TRUE(workspace::create(home_, (dir_ / "ws").string(), "proj"));
  ServerOptions o;
  o.max_session_workspace_bytes = 100 << 10;
  SessionServer s(this, host(o));
  std::string a = s.initialize(), b = s.initialize();
  EXPECT_EQ(s.call(a, "ls", Json::object())["result"]["isError"], false);
  Json r = s.call(b, "ls", Json::object());
  ASSERT_TRUE(r.contains("error")) << r.dump();
  EXPECT_EQ(r["error"]["code"], kServerBusy);
  EXPECT_NE(r["error"]["message"].get<std::string>().find("--max-session-workspace-mb"),
            std::string::npos) << r.dump();
  EXPECT_EQ(copies_in(home_).size(), 1u);
}


// A session is its principal's: another principal presenting its id is answered as for an id
// never issued (nothing copied, nothing of the owner's reached), and each principal holds at
// most its share of the copies (half of --max-session-workspaces by default), so one principal
// opening sessions cannot take every copy from another.
TEST_F(ServerTest, ASessionBelongsToItsPrincipal) {
  ASSERT_TRUE(workspace::create(home_, (dir_ / "ws").string(), "proj"));
  coreutils_fs_ = R"({"guest": "/work", "workspace": "proj", "per_session": true, "access": "rw"})";
  write_text(dir_ / "alice.token", "alice-0123456789abcdef\n");
  write_text(dir_ / "bob.token", "bob-0123456789abcdef\n");
  Json cfg = Json::parse(config_text());
  cfg["mcp"]["tenancy"]["principals"] = {{"alice", {{"token_file", (dir_ / "alice.token").string()}}},
                                         {"bob", {{"token_file", (dir_ / "bob.token").string()}}}};
  write_text(dir_ / "metrics.token", "metrics-0123456789abcdef\n");
  cfg["mcp"]["tenancy"]["metrics_token_file"] = (dir_ / "metrics.token").string();
  ServerOptions o;
  o.max_session_workspaces = 4;  // each principal's share: 2
  SessionServer s(this, make_host(o, cfg.dump()));
  const std::string alice = "alice-0123456789abcdef", bob = "bob-0123456789abcdef";
  std::string a1 = s.initialize(alice), a2 = s.initialize(alice), a3 = s.initialize(alice);
  std::string b1 = s.initialize(bob);
  ASSERT_EQ(a1.size(), 32u);
  ASSERT_EQ(b1.size(), 32u);
  // Bob holding alice's id gets nothing: no copy is made for him, and the answer is the one an
  // invented id gets (it does not say the id exists).
  Json r = s.call(a1, "ls", Json::object(), false, bob);
  ASSERT_TRUE(r.contains("error")) << r.dump();
  EXPECT_EQ(r["error"]["code"], kSessionNotFound);
  Json invented = s.call("0123456789abcdef0123456789abcdef", "ls", Json::object(), false, bob);
  EXPECT_EQ(r["error"]["message"], invented["error"]["message"]);
  EXPECT_TRUE(copies_in(home_).empty());
  // Alice's session works for her; once it has a copy bob still cannot reach it.
  r = s.call(a1, "mkdir", {{"paths", {"alices"}}}, false, alice);
  ASSERT_EQ(r["result"]["isError"], false) << r.dump();
  r = s.call(a1, "ls", Json::object(), false, bob);
  EXPECT_EQ(r["error"]["code"], kSessionNotFound) << r.dump();
  EXPECT_EQ(s.call(a1, "ls", Json::object(), false, alice)["result"]["content"][0]["text"], "alices\nnotes.txt\n");
  // Nor end it: his DELETE is answered as for an unknown session, and hers lives on.
  EXPECT_EQ(s.end(a1, bob), 404);
  EXPECT_EQ(s.call(a1, "ls", Json::object(), false, alice)["result"]["isError"], false);
  // Her second copy fits her share, a third does not (sessions' and session-less calls' alike).
  EXPECT_EQ(s.call(a2, "ls", Json::object(), false, alice)["result"]["isError"], false);
  r = s.call(a3, "ls", Json::object(), false, alice);
  ASSERT_TRUE(r.contains("error")) << r.dump();
  EXPECT_EQ(r["error"]["code"], kServerBusy);
  EXPECT_NE(r["error"]["message"].get<std::string>().find("principal 'alice'"), std::string::npos) << r.dump();
  EXPECT_EQ(s.call("", "ls", Json::object(), true, alice)["error"]["code"], kServerBusy);
  // Bob is within his: his session and his session-less calls get copies although alice holds two.
  EXPECT_EQ(s.call(b1, "ls", Json::object(), false, bob)["result"]["isError"], false);
  r = s.call("", "ls", Json::object(), true, bob);
  EXPECT_EQ(r["result"]["isError"], false) << r.dump();
  EXPECT_EQ(copies_in(home_).size(), 3u);
  // What each holds, in /metrics (the session-less copies went with their calls).
  auto m = s.c.Get("/metrics", {{"Authorization", "Bearer metrics-0123456789abcdef"}});
  ASSERT_TRUE(m);
  ASSERT_EQ(m->status, 200);
  EXPECT_NE(m->body.find("\nwasmcap_mcp_principal_sessions{principal=\"alice\"} 3\n"), std::string::npos) << m->body;
  EXPECT_NE(m->body.find("\nwasmcap_mcp_principal_workspace_copies{principal=\"alice\"} 2\n"), std::string::npos) << m->body;
  EXPECT_NE(m->body.find("\nwasmcap_mcp_principal_sessions{principal=\"bob\"} 1\n"), std::string::npos) << m->body;
  EXPECT_NE(m->body.find("\nwasmcap_mcp_principal_workspace_copies{principal=\"bob\"} 1\n"), std::string::npos) << m->body;
}

// DELETE ends a session (transports/streamable-http, "Session Management"): its unchanged copy
// goes at once, and requests under its id get 404 from then on; ids never issued get 404.
TEST_F(ServerTest, DeleteEndsASession) {
  ASSERT_TRUE(workspace::create(home_, (dir_ / "ws").string(), "proj"));
  coreutils_fs_ = R"({"guest": "/work", "workspace": "proj", "per_session": true, "access": "rw"})";
  SessionServer s(this, host());
  std::string id = s.initialize();
  ASSERT_EQ(id.size(), 32u);
  EXPECT_EQ(s.call(id, "ls", Json::object())["result"]["isError"], false);
  EXPECT_EQ(copies_in(home_).size(), 1u);
  EXPECT_EQ(s.end(""), 400);
  EXPECT_EQ(s.end("0123456789abcdef0123456789abcdef"), 404);
  EXPECT_EQ(s.end(id), 204);
  EXPECT_TRUE(copies_in(home_).empty()) << "the unchanged copy outlived its session";
  auto r = s.c.Post("/mcp", {{"Mcp-Session-Id", id}}, R"({"jsonrpc":"2.0","id":7,"method":"tools/list"})",
                    "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 404);
  Json j = Json::parse(r->body);
  EXPECT_EQ(j["error"]["code"], kSessionNotFound) << r->body;
  EXPECT_EQ(j["id"], 7);
  EXPECT_EQ(s.end(id), 404) << "ended once";
  // A new session starts as before; GET is still not served.
  std::string again = s.initialize();
  EXPECT_EQ(again.size(), 32u);
  EXPECT_NE(again, id);
  auto g = s.c.Get("/mcp");
  ASSERT_TRUE(g);
  EXPECT_EQ(g->status, 405);
  EXPECT_EQ(g->get_header_value("Allow"), "POST, DELETE");
  // The 2026-07-28 revision has no sessions to end.
  auto d = s.c.Delete("/mcp", {{"Mcp-Session-Id", again}, {"MCP-Protocol-Version", "2026-07-28"}});
  ASSERT_TRUE(d);
  EXPECT_EQ(d->status, 405);
  EXPECT_EQ(s.call(again, "ls", Json::object())["result"]["isError"], false) << "the session lives on";
}

// stdio: the connection is one session. Its calls share its copy; at EOF a changed copy is kept
// for review and an unchanged one deleted; the next connection is a new session with a fresh
// copy (before, every connection of one server process shared one copy).
TEST_F(ServerTest, StdioConnectionIsOneSession) {
  ASSERT_TRUE(workspace::create(home_, (dir_ / "ws").string(), "proj"));
  coreutils_fs_ = R"({"guest": "/work", "workspace": "proj", "per_session": true, "access": "rw"})";
  auto h = host();
  // Runs one stdio connection with `requests` (after initialize); the responses by id.
  auto connection = [&](const std::vector<Json>& requests) {
    int in[2], out[2];
    EXPECT_EQ(::pipe(in), 0);
    EXPECT_EQ(::pipe(out), 0);
    std::thread server([&] { serve_stdio(h, in[0], out[1]); ::close(out[1]); });
    std::string text = Json({{"jsonrpc", "2.0"}, {"id", "i"}, {"method", "initialize"},
                             {"params", {{"protocolVersion", "2025-11-25"}}}}).dump() + "\n";
    for (const auto& r : requests) text += r.dump() + "\n";
    // One request at a time would need a reader; calls are answered in any order, so send all
    // and read until every id has its answer, then close stdin.
    EXPECT_EQ(::write(in[1], text.data(), text.size()), static_cast<ssize_t>(text.size()));
    std::map<std::string, Json> answers;
    std::string buf;
    char chunk[4096];
    while (answers.size() < requests.size() + 1) {
      ssize_t n = ::read(out[0], chunk, sizeof chunk);
      if (n <= 0) break;
      buf.append(chunk, static_cast<size_t>(n));
      for (size_t nl; (nl = buf.find('\n')) != std::string::npos; buf.erase(0, nl + 1)) {
        Json m = Json::parse(buf.substr(0, nl));
        if (m.contains("id")) answers[m["id"].dump()] = m;
      }
    }
    ::close(in[1]);
    server.join();
    ::close(in[0]);
    ::close(out[0]);
    return answers;
  };
  auto call_req = [](int id, const std::string& tool, const Json& args) {
    return Json{{"jsonrpc", "2.0"}, {"id", id}, {"method", "tools/call"},
                {"params", {{"name", tool}, {"arguments", args}}}};
  };
  auto first = connection({call_req(1, "mkdir", {{"paths", {"made-in-1"}}})});
  ASSERT_EQ(first["1"]["result"]["isError"], false) << first["1"].dump();
  auto kept = copies_in(home_);
  ASSERT_EQ(kept.size(), 1u);  // changed: kept for review after EOF
  EXPECT_TRUE(fs::is_directory(fs::path(home_) / "workspaces" / kept[0] / "tree/made-in-1"));
  auto second = connection({call_req(2, "ls", Json::object())});
  EXPECT_EQ(second["2"]["result"]["content"][0]["text"], "notes.txt\n") << second["2"].dump();
  EXPECT_EQ(copies_in(home_), kept);  // the second session's unchanged copy went at EOF
}

// The session table on its own (src/mcp/sessions.h), on a clock the test moves.
class SessionTable : public ::testing::Test {
 protected:
  void SetUp() override {
    home_ = (tmp_.path() / "home").string();
    fs::create_directories(tmp_.path() / "src");
    write_text(tmp_.path() / "src/f.txt", "x\n");
    ASSERT_TRUE(workspace::create(home_, (tmp_.path() / "src").string(), "proj"));
    now_ = std::chrono::steady_clock::now();
  }
  Sessions::Options options() {
    Sessions::Options o;
    o.home = home_;
    o.max_copies = 8;
    o.max_bytes = uint64_t{1} << 30;
    o.idle_timeout_ms = 60000;
    o.now = [this] { return now_; };
    return o;
  }
  static policy::Plan plan() {
    policy::Plan p;
    p.fs.push_back(policy::FsMount{"/work", "", policy::Access::kReadWrite, false, false, "proj", true});
    return p;
  }
  TempDir tmp_;
  std::string home_;
  std::chrono::steady_clock::time_point now_;
};

// A session idle for the timeout expires: its unchanged copy is deleted, a changed one is kept
// for review and still counted until the operator removes it; its id owns nothing any more. A
// session with a call in flight never expires.
TEST_F(SessionTable, IdleSessionsExpire) {
  Sessions s(options());
  std::string a = *s.open("p"), b = *s.open("p"), busy = *s.open("p");
  policy::Plan pa = plan(), pb = plan(), pbusy = plan();
  ASSERT_TRUE(s.bind(pa, a, "", "p"));  // the lease ends at once: the call is over
  {
    auto lb = s.bind(pb, b, "", "p");
    ASSERT_TRUE(lb);
    write_text(fs::path(pb.fs[0].host) / "new.txt", "b\n");
  }
  auto running = s.bind(pbusy, busy, "", "p");
  ASSERT_TRUE(running);
  EXPECT_EQ(s.live_copies(), 3u);
  now_ += std::chrono::seconds(59);
  std::string c = *s.open("p");  // sweeps: nothing idle long enough yet
  EXPECT_TRUE(s.known(a));
  now_ += std::chrono::seconds(2);
  (void)s.open("p");  // sweeps: a and b expire; c (2 s idle) and the busy one stay
  EXPECT_FALSE(s.known(a));
  EXPECT_FALSE(s.known(b));
  EXPECT_TRUE(s.known(c));
  EXPECT_TRUE(s.known(busy));
  EXPECT_FALSE(fs::exists(pa.fs[0].host));
  EXPECT_TRUE(fs::exists(fs::path(pb.fs[0].host) / "new.txt"));
  EXPECT_EQ(s.live_copies(), 2u);  // b's kept copy + the busy one
  policy::Plan again = plan();
  auto r = s.bind(again, a, "", "p");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().rpc_code, kSessionNotFound);
  EXPECT_TRUE(again.fs[0].host.empty());
  // The operator discards the kept copy: it stops counting.
  ASSERT_TRUE(workspace::discard(home_, fs::path(pb.fs[0].host).parent_path().filename().string()));
  (void)s.open("p");
  EXPECT_EQ(s.live_copies(), 1u);
}

// Copies are made outside the table's lock: while one session's copy is in progress, another
// session binds (and copies) at once; the one in progress holds its reservation meanwhile.
TEST_F(SessionTable, CopiesRunOutsideTheLock) {
  std::mutex mu;
  std::condition_variable cv;
  bool a_copying = false, b_done = false;
  std::string first;
  Sessions::Options o = options();
  o.max_copies = 2;
  o.before_copy = [&](const std::string& name) {
    std::unique_lock<std::mutex> l(mu);
    if (!first.empty()) return;
    first = name;
    a_copying = true;
    cv.notify_all();
    cv.wait_for(l, std::chrono::seconds(30), [&] { return b_done; });
  };
  Sessions s(o);
  std::string a = *s.open("p"), b = *s.open("p"), c = *s.open("p");
  policy::Plan pa = plan(), pb = plan(), pc = plan();
  std::thread ta([&] { EXPECT_TRUE(s.bind(pa, a, "", "p")); });
  {
    std::unique_lock<std::mutex> l(mu);
    ASSERT_TRUE(cv.wait_for(l, std::chrono::seconds(30), [&] { return a_copying; }));
  }
  std::atomic<bool> b_bound{false};
  std::thread tb([&] {
    b_bound = static_cast<bool>(s.bind(pb, b, "", "p"));
    std::lock_guard<std::mutex> l(mu);
    b_done = true;
    cv.notify_all();
  });
  {
    std::unique_lock<std::mutex> l(mu);
    cv.wait_for(l, std::chrono::seconds(20), [&] { return b_done; });
    EXPECT_TRUE(b_done) << "b's copy waited for a's: the copy ran under the lock";
    b_done = true;  // let a finish either way
    cv.notify_all();
  }
  tb.join();
  ta.join();
  EXPECT_TRUE(b_bound);
  EXPECT_FALSE(pb.fs[0].host.empty());
  // Both slots are taken: a third session is refused.
  auto r = s.bind(pc, c, "", "p");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().rpc_code, kServerBusy);
}

// A session is used only by the principal that opened it, and closed only by it.
TEST_F(SessionTable, ASessionIsItsPrincipals) {
  Sessions s(options());
  std::string a = *s.open("alice");
  policy::Plan p = plan();
  auto r = s.bind(p, a, "", "bob");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().rpc_code, kSessionNotFound);
  EXPECT_TRUE(p.fs[0].host.empty());
  EXPECT_EQ(s.live_copies(), 0u);
  EXPECT_TRUE(s.bind(p, a, "", "alice"));
  EXPECT_EQ(s.live_copies(), 1u);
  EXPECT_FALSE(s.close(a, "bob"));
  EXPECT_TRUE(s.known(a));
  EXPECT_TRUE(s.close(a, "alice"));
  EXPECT_FALSE(s.known(a));
}

// Each principal holds at most its share of copies (per-call copies included); another's share
// is untouched by it.
TEST_F(SessionTable, APrincipalHoldsItsShareOfCopies) {
  Sessions::Options o = options();
  o.caps = [](const std::string& principal) {
    Sessions::Options::PrincipalCaps c;
    if (principal == "bob") c.max_copies = 2;
    return c;
  };
  Sessions s(o);
  std::string b1 = *s.open("bob"), b2 = *s.open("bob"), b3 = *s.open("bob"), a = *s.open("alice");
  policy::Plan p1 = plan(), p2 = plan(), p3 = plan(), pc = plan(), pa = plan();
  ASSERT_TRUE(s.bind(p1, b1, "", "bob"));
  ASSERT_TRUE(s.bind(p2, b2, "", "bob"));
  auto r = s.bind(p3, b3, "", "bob");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().rpc_code, kServerBusy);
  EXPECT_NE(r.error().error.message.find("principal 'bob'"), std::string::npos) << r.error().error.message;
  EXPECT_FALSE(s.bind(pc, "", "0123456789abcdef-call", "bob"));
  EXPECT_TRUE(s.bind(pa, a, "", "alice"));
  EXPECT_EQ(s.live_copies(), 3u);
}

// One principal's flood of sessions forgets its own, never another's: at its share its least
// recently used idle session goes, and when the whole table is full the principal holding the
// most sessions loses one. A principal whose sessions all own copies is refused a new one.
TEST_F(SessionTable, AFloodOfSessionsForgetsOnlyTheFloodersOwn) {
  Sessions::Options o = options();
  o.max_sessions = 8;
  o.caps = [](const std::string& principal) {
    Sessions::Options::PrincipalCaps c;
    if (principal == "bob") c.max_sessions = 3;
    return c;
  };
  {
    Sessions s(o);
    std::string idle = *s.open("alice");
    std::vector<std::string> bobs;
    for (int i = 0; i < 20; ++i) {
      now_ += std::chrono::milliseconds(1);
      bobs.push_back(*s.open("bob"));
    }
    EXPECT_TRUE(s.known(idle));
    for (size_t i = 0; i < bobs.size(); ++i) EXPECT_EQ(s.known(bobs[i]), i >= 17) << i;
    // Bob's three own copies: a fourth session is refused, none of his is forgotten.
    std::vector<policy::Plan> plans(3, plan());
    for (int i = 0; i < 3; ++i) ASSERT_TRUE(s.bind(plans[i], bobs[17 + i], "", "bob"));
    auto refused = s.open("bob");
    ASSERT_FALSE(refused);
    EXPECT_NE(refused.error().message.find("principal 'bob'"), std::string::npos) << refused.error().message;
    EXPECT_TRUE(s.known(bobs[17]));
  }
  // No share (carol's): the table's bound, and the one holding most pays.
  o.caps = nullptr;
  Sessions s(o);
  std::string alices = *s.open("alice");
  now_ += std::chrono::milliseconds(1);
  std::vector<std::string> carols;
  for (int i = 0; i < 20; ++i) {
    now_ += std::chrono::milliseconds(1);
    carols.push_back(*s.open("carol"));
  }
  EXPECT_TRUE(s.known(alices)) << "the oldest session, but not of the principal holding most";
  EXPECT_TRUE(s.known(carols.back()));
  EXPECT_FALSE(s.known(carols.front()));
}

// A refused open still finishes what its sweep ended: an expired session's unchanged copy is
// deleted and stops counting (it stayed "closing", counted, on disk).
TEST_F(SessionTable, ARefusedOpenStillEndsExpiredSessions) {
  Sessions::Options o = options();
  o.caps = [](const std::string& principal) {
    Sessions::Options::PrincipalCaps c;
    if (principal == "bob") c.max_sessions = 1;
    return c;
  };
  Sessions s(o);
  std::string a = *s.open("alice"), b = *s.open("bob");
  policy::Plan pa = plan(), pb = plan();
  ASSERT_TRUE(s.bind(pa, a, "", "alice"));
  auto running = s.bind(pb, b, "", "bob");  // bob's call runs on: his session never expires
  ASSERT_TRUE(running);
  EXPECT_EQ(s.live_copies(), 2u);
  now_ += std::chrono::seconds(61);
  EXPECT_FALSE(s.open("bob")) << "bob's one session runs a call: no room for another";
  EXPECT_FALSE(s.known(a));
  EXPECT_FALSE(fs::exists(pa.fs[0].host));
  EXPECT_EQ(s.live_copies(), 1u);
}

// A session its client ends while a call uses its copy keeps the copy until that call is over,
// and takes no new call meanwhile; only its principal can end it.
TEST_F(SessionTable, TerminateEndsASessionAfterItsLastCall) {
  Sessions s(options());
  std::string a = *s.open("alice");
  policy::Plan pa = plan();
  auto running = s.bind(pa, a, "", "alice");
  ASSERT_TRUE(running);
  EXPECT_FALSE(s.terminate(a, "bob"));
  EXPECT_FALSE(s.terminated(a));
  EXPECT_TRUE(s.terminate(a, "alice"));
  EXPECT_TRUE(s.terminated(a));
  policy::Plan again = plan();
  auto r = s.bind(again, a, "", "alice");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().rpc_code, kSessionNotFound);
  EXPECT_TRUE(fs::exists(pa.fs[0].host)) << "the copy went while its call ran";
  running->reset();
  EXPECT_FALSE(fs::exists(pa.fs[0].host));
  EXPECT_FALSE(s.known(a));
  EXPECT_EQ(s.live_copies(), 0u);
  EXPECT_TRUE(s.terminated(a));
  EXPECT_FALSE(s.terminate(a, "alice"));
}

}  // namespace
}  // namespace wasmcap::mcp::test

// The MCP protocol's 2026-07-28 revision over HTTP (requests validated against their headers,
// the per-request log level), and cancellation across replicas: closing a stream stops its call
// wherever it runs; a notifications/cancelled for another replica's request does nothing.
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <httplib.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "mcp_fixture.h"

namespace wasmcap::mcp::test {
namespace {

// --- The 2026-07-28 revision over HTTP, and cancellation across replicas --------------------------

Json modern_meta() {
  return {{"io.modelcontextprotocol/protocolVersion", "2026-07-28"},
          {"io.modelcontextprotocol/clientCapabilities", Json::object()}};
}

httplib::Headers modern_headers(const std::string& method, const std::string& name = "") {
  httplib::Headers h{{"MCP-Protocol-Version", "2026-07-28"}, {"Mcp-Method", method}};
  if (!name.empty()) h.emplace("Mcp-Name", name);
  return h;
}

TEST_F(ServerTest, ModernHttpRequestsAreValidatedAgainstTheirHeaders) {
  ServerOptions o;
  HttpServer srv(host(o));
  ASSERT_NE(srv.port.load(), 0);
  httplib::Client c("127.0.0.1", srv.port);
  Json list{{"jsonrpc", "2.0"}, {"id", 1}, {"method", "tools/list"}, {"params", {{"_meta", modern_meta()}}}};
  auto r = c.Post("/mcp", modern_headers("tools/list"), list.dump(), "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200) << r->body;
  Json j = Json::parse(r->body);
  EXPECT_EQ(j["result"]["resultType"], "complete");
  EXPECT_EQ(j["result"]["ttlMs"], kListTtlMs);  // CacheableResult
  EXPECT_EQ(j["result"]["cacheScope"], "private");
  EXPECT_EQ(j["result"]["_meta"]["io.modelcontextprotocol/serverInfo"]["name"], "wasmcap");
  EXPECT_FALSE(r->has_header("Mcp-Session-Id"));
  auto expect_reject = [&](const httplib::Headers& h, const Json& body, int status, int code) -> Json {
    auto x = c.Post("/mcp", h, body.dump(), "application/json");
    if (!x) {
      ADD_FAILURE() << "no response";
      return Json();
    }
    EXPECT_EQ(x->status, status) << x->body;
    Json e = Json::parse(x->body, nullptr, false);
    EXPECT_EQ(e["error"]["code"], code) << x->body;
    return e;
  };
  // Missing or contradicting headers: 400 HeaderMismatch.
  httplib::Headers no_version{{"Mcp-Method", "tools/list"}};
  expect_reject(no_version, list, 400, kHeaderMismatch);
  expect_reject(modern_headers("tools/call"), list, 400, kHeaderMismatch);
  httplib::Headers no_method{{"MCP-Protocol-Version", "2026-07-28"}};
  expect_reject(no_method, list, 400, kHeaderMismatch);
  Json call{{"jsonrpc", "2.0"}, {"id", 2}, {"method", "tools/call"},
            {"params", {{"name", "cat"}, {"arguments", {{"paths", {"notes.txt"}}}}, {"_meta", modern_meta()}}}};
  expect_reject(modern_headers("tools/call"), call, 400, kHeaderMismatch);
  expect_reject(modern_headers("tools/call", "ls"), call, 400, kHeaderMismatch);
  // Mcp-Name may carry the name Base64-encoded ("cat").
  r = c.Post("/mcp", modern_headers("tools/call", "=?base64?Y2F0?="), call.dump(), "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200) << r->body;
  r = c.Post("/mcp", modern_headers("tools/call", "=?base64?Y2F?="), call.dump(), "application/json");
  EXPECT_EQ(r->status, 400) << r->body;
  // Unsupported version: 400 with the supported list (-32022 since the release).
  Json future = list;
  future["params"]["_meta"]["io.modelcontextprotocol/protocolVersion"] = "2031-01-01";
  httplib::Headers fh{{"MCP-Protocol-Version", "2031-01-01"}, {"Mcp-Method", "tools/list"}};
  Json e = expect_reject(fh, future, 400, kUnsupportedProtocolVersion);
  EXPECT_EQ(e["error"]["data"]["supported"], Json(supported_versions()));
  EXPECT_EQ(e["error"]["data"]["requested"], "2031-01-01");
  // A method of the legacy era only: 404 Method not found.
  Json ping{{"jsonrpc", "2.0"}, {"id", 3}, {"method", "ping"}, {"params", {{"_meta", modern_meta()}}}};
  expect_reject(modern_headers("ping"), ping, 404, kMethodNotFound);
  // Missing clientCapabilities: 400.
  Json nocaps = list;
  nocaps["params"]["_meta"].erase("io.modelcontextprotocol/clientCapabilities");
  expect_reject(modern_headers("tools/list"), nocaps, 400, kInvalidParamsCode);
  // A session id on a modern request is ignored, and none is minted.
  httplib::Headers with_session = modern_headers("tools/list");
  with_session.emplace("Mcp-Session-Id", "legacy-session");
  r = c.Post("/mcp", with_session, list.dump(), "application/json");
  EXPECT_EQ(r->status, 200);
  EXPECT_FALSE(r->has_header("Mcp-Session-Id"));
  // Legacy requests keep working beside them.
  r = c.Post("/mcp", R"({"jsonrpc":"2.0","id":9,"method":"ping"})", "application/json");
  EXPECT_EQ(r->status, 200);
}

TEST_F(ServerTest, ModernLogLevelIsPerRequest) {
  start({}, false);
  Json meta = modern_meta();
  Json r = call(1, "cat", {{"paths", {"notes.txt"}}}, meta);
  ASSERT_EQ(r["result"]["isError"], false) << r.dump();
  for (const auto& m : messages()) EXPECT_NE(m.value("method", ""), "notifications/message") << m.dump();
  meta["io.modelcontextprotocol/logLevel"] = "info";
  r = call(2, "cat", {{"paths", {"notes.txt"}}}, meta);
  ASSERT_EQ(r["result"]["isError"], false) << r.dump();
  int logs = 0;
  for (const auto& m : messages()) logs += m.value("method", "") == "notifications/message";
  EXPECT_EQ(logs, 1);
  meta["io.modelcontextprotocol/logLevel"] = "loud";
  EXPECT_EQ(call(3, "cat", {{"paths", {"notes.txt"}}}, meta)["error"]["code"], kInvalidParamsCode);
}

// Sends one raw HTTP POST and returns the connected socket (the test closes it mid-call).
int post_raw(uint16_t port, const std::string& body, bool sse, const std::string& extra_headers = "") {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    ::close(fd);
    return -1;
  }
  std::string req = "POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                    "MCP-Protocol-Version: 2026-07-28\r\nMcp-Method: tools/call\r\nMcp-Name: spin\r\n"
                    "Accept: " + std::string(sse ? "application/json, text/event-stream" : "application/json") +
                    "\r\n" + extra_headers + "Content-Length: " + std::to_string(body.size()) +
                    "\r\n\r\n" + body;
  if (::send(fd, req.data(), req.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(req.size())) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// Tenants (docs/mcp.md "Tenants"): each token of mcp.tenancy names a principal. One principal's
// spinning calls hold at most its share of the slots and of the queue, and past its share it is
// refused with 429 and Retry-After, while another principal's call runs at once; the audit
// record names the principal; a request with no known token is 401.
TEST_F(ServerTest, PrincipalsShareTheServer) {
  // timing: the 429 is held its Retry-After second, which the test measures
  write_text(dir_ / "alice.token", "alice-0123456789abcdef\n");
  write_text(dir_ / "bob.token", "bob-0123456789abcdef\n");
  write_text(dir_ / "metrics.token", "metrics-0123456789abcdef\n");
  Json cfg = Json::parse(config_text());
  cfg["mcp"]["tenancy"]["principals"] = {{"alice", {{"token_file", (dir_ / "alice.token").string()}}},
                                         {"bob", {{"token_file", (dir_ / "bob.token").string()}}}};
  cfg["mcp"]["tenancy"]["metrics_token_file"] = (dir_ / "metrics.token").string();
  ServerOptions o;
  o.max_concurrency = 2;  // a principal's share: 1 running, 1 waiting (half of 2 each)
  o.max_queue = 2;
  o.call_timeout_ms = 30000;
  HttpServer srv(make_host(o, cfg.dump()));
  ASSERT_NE(srv.port.load(), 0);
  const std::string alice = "Authorization: Bearer alice-0123456789abcdef\r\n";
  Json spin{{"jsonrpc", "2.0"}, {"id", 1}, {"method", "tools/call"},
            {"params", {{"name", "spin"}, {"_meta", modern_meta()}}}};
  int fd1 = post_raw(srv.port, spin.dump(), false, alice);
  int fd2 = post_raw(srv.port, spin.dump(), false, alice);
  ASSERT_GE(fd1, 0);
  ASSERT_GE(fd2, 0);
  httplib::Client c("127.0.0.1", srv.port);
  Json quick{{"jsonrpc", "2.0"}, {"id", 2}, {"method", "tools/call"},
             {"params", {{"name", "cat"}, {"arguments", {{"paths", {"notes.txt"}}}}, {"_meta", modern_meta()}}}};
  auto as = [](const std::string& token) {
    httplib::Headers h = modern_headers("tools/call", "cat");
    h.emplace("Authorization", "Bearer " + token);
    return h;
  };
  // Alice's third call is over her share once both spins are in (one running, one waiting):
  // the metrics say when (a call sent before the second spin would wait in her queue instead).
  httplib::Headers mh{{"Authorization", "Bearer metrics-0123456789abcdef"}};
  auto both_spins_in = [&] {
    auto m = c.Get("/metrics", mh);
    return m && m->body.find("\nwasmcap_mcp_principal_calls_queued{principal=\"alice\"} 1\n") != std::string::npos;
  };
  for (int i = 0; i < 500 && !both_spins_in(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));  // not-timing: a bounded wait for the spins
  }
  int status = 0;
  std::string body, retry_after;
  auto sent = std::chrono::steady_clock::now();
  auto a = c.Post("/mcp", as("alice-0123456789abcdef"), quick.dump(), "application/json");
  ASSERT_TRUE(a);
  auto answered_after = std::chrono::steady_clock::now() - sent;
  status = a->status;
  body = a->body;
  retry_after = a->get_header_value("Retry-After");
  ASSERT_EQ(status, 429) << "alice was never refused: " << body;
  EXPECT_EQ(retry_after, "1");
  // The refusal is sent when its Retry-After has passed: a client that retries the moment it is
  // answered cannot turn refusals into a flood.
  EXPECT_GE(answered_after, std::chrono::milliseconds(950)) << "the 429 was not held for its Retry-After";
  // Refused at admission, a client that accepts an event stream gets the same 429 (no stream).
  httplib::Headers sse = as("alice-0123456789abcdef");
  sse.emplace("Accept", "application/json, text/event-stream");
  auto refused_sse = c.Post("/mcp", sse, quick.dump(), "application/json");
  ASSERT_TRUE(refused_sse);
  EXPECT_EQ(refused_sse->status, 429) << refused_sse->body;
  EXPECT_EQ(refused_sse->get_header_value("Retry-After"), "1");
  Json busy = Json::parse(body);
  EXPECT_EQ(busy["error"]["code"], kServerBusy);
  EXPECT_NE(busy["error"]["message"].get<std::string>().find("principal 'alice'"), std::string::npos) << busy.dump();
  // Bob is within his share: his call runs now, on the slot alice may not take.
  auto t0 = std::chrono::steady_clock::now();
  auto r = c.Post("/mcp", as("bob-0123456789abcdef"), quick.dump(), "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(Json::parse(r->body)["result"]["isError"], false) << r->body;
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(10)) << "bob waited for alice's spin";
  Json record;
  for (const auto& a : audits()) {
    if (a.value("tool", "") == "cat" && a.value("outcome", "") == "ok") record = a;
  }
  EXPECT_EQ(record["principal"], "bob") << record.dump();
  // No token, or one no principal has: 401 before anything runs.
  r = c.Post("/mcp", modern_headers("tools/call", "cat"), quick.dump(), "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 401);
  r = c.Post("/mcp", as("carol-0123456789abcdef"), quick.dump(), "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 401);
  // GET /metrics, for its own token only: what each principal and plugin runs and has used.
  for (const char* token : {"", "alice-0123456789abcdef", "metrics-0123456789abcde"}) {
    httplib::Headers h;
    if (*token != '\0') h.emplace("Authorization", std::string("Bearer ") + token);
    auto m = c.Get("/metrics", h);
    ASSERT_TRUE(m);
    EXPECT_EQ(m->status, 401) << token;
  }
  auto posted = c.Post("/metrics", mh, "{}", "application/json");
  ASSERT_TRUE(posted);
  EXPECT_EQ(posted->status, 405);
  auto m = c.Get("/metrics", mh);
  ASSERT_TRUE(m);
  ASSERT_EQ(m->status, 200) << m->body;
  EXPECT_NE(m->get_header_value("Content-Type").find("text/plain; version=0.0.4"), std::string::npos);
  // The value of one sample line ("NAME{LABEL} VALUE"), or -1.
  auto sample = [&](const std::string& series) {
    size_t at = m->body.find("\n" + series + " ");
    return at == std::string::npos ? -1.0 : std::stod(m->body.substr(at + series.size() + 2));
  };
  EXPECT_EQ(sample("wasmcap_mcp_principal_calls_running{principal=\"alice\"}"), 1) << m->body;
  EXPECT_EQ(sample("wasmcap_mcp_principal_calls_queued{principal=\"alice\"}"), 1) << m->body;
  EXPECT_EQ(sample("wasmcap_mcp_principal_calls_refused_total{principal=\"alice\"}"), 2) << m->body;
  EXPECT_EQ(sample("wasmcap_mcp_principal_calls_admitted_total{principal=\"bob\"}"), 1) << m->body;
  EXPECT_EQ(sample("wasmcap_mcp_principal_calls_refused_total{principal=\"bob\"}"), 0) << m->body;
  EXPECT_GT(sample("wasmcap_mcp_principal_cpu_seconds_total{principal=\"bob\"}"), 0) << m->body;
  EXPECT_GT(sample("wasmcap_mcp_principal_output_bytes_total{principal=\"bob\"}"), 0) << m->body;
  EXPECT_GT(sample("wasmcap_mcp_principal_memory_reserved_bytes{principal=\"alice\"}"), 0) << m->body;
  EXPECT_EQ(sample("wasmcap_mcp_plugin_calls_running{plugin=\"spinner\"}"), 1) << m->body;
  EXPECT_EQ(sample("wasmcap_mcp_calls_running"), 1) << m->body;
  ::close(fd1);
  ::close(fd2);
}

// /metrics exists only with a metrics token, and that token is no principal's.
TEST_F(ServerTest, MetricsNeedTheirOwnToken) {
  {
    HttpServer srv(host());
    ASSERT_NE(srv.port.load(), 0);
    httplib::Client c("127.0.0.1", srv.port);
    auto m = c.Get("/metrics");
    ASSERT_TRUE(m);
    EXPECT_EQ(m->status, 404);
  }
  write_text(dir_ / "alice.token", "alice-0123456789abcdef\n");
  Json cfg = Json::parse(config_text());
  cfg["mcp"]["tenancy"]["principals"] = {{"alice", {{"token_file", (dir_ / "alice.token").string()}}}};
  cfg["mcp"]["tenancy"]["metrics_token_file"] = (dir_ / "alice.token").string();
  auto r = serve_http(make_host({}, cfg.dump()), HttpOptions{});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kConfigInvalid);
  EXPECT_NE(r.error().message.find("a token of its own"), std::string::npos) << r.error().message;
}

// A server that stops while a refusal is held for its Retry-After sends it at once and stops
// (libmicrohttpd must not stop with a connection suspended).
TEST_F(ServerTest, AHeldRefusalIsSentWhenTheServerStops) {
  ServerOptions o;
  o.max_concurrency = 1;
  o.max_queue = 0;
  // The server stops once the spin has (its workers finish their calls): before the refusal's
  // second is over, so the stop (not the timer) sends it.
  o.call_timeout_ms = 700;
  int refused = -1, running = -1;
  {
    HttpServer srv(host(o));
    ASSERT_NE(srv.port.load(), 0);
    Json spin{{"jsonrpc", "2.0"}, {"id", 1}, {"method", "tools/call"},
              {"params", {{"name", "spin"}, {"_meta", modern_meta()}}}};
    running = post_raw(srv.port, spin.dump(), false);
    ASSERT_GE(running, 0);
    // not-timing: the spin takes the one slot (its tool_call_start record) before the second
    // call arrives
    for (int i = 0; i < 500 && audits_all().empty(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    refused = post_raw(srv.port, spin.dump(), false);
    ASSERT_GE(refused, 0);
    std::this_thread::sleep_for(std::chrono::milliseconds(100));  // let it be refused
  }  // the server stops here, the 429 still held
  std::string got;
  char buf[4096];
  pollfd p{refused, POLLIN, 0};
  while (::poll(&p, 1, 5000) == 1) {
    ssize_t n = ::recv(refused, buf, sizeof buf, 0);
    if (n <= 0) break;
    got.append(buf, static_cast<size_t>(n));
  }
  EXPECT_NE(got.find("HTTP/1.1 429"), std::string::npos) << got;
  ::close(refused);
  ::close(running);
}

TEST_F(ServerTest, TheStdioPeerIsItsOwnPrincipal) {
  start();
  initialize();
  Json r = call(1, "cat", {{"paths", {"notes.txt"}}});
  ASSERT_EQ(r["result"]["isError"], false) << r.dump();
  ASSERT_FALSE(audits().empty());
  EXPECT_EQ(audits().back()["principal"], "stdio") << audits().back().dump();
}

// The 2026-07-28 revision cancels a request on HTTP only by closing its stream: whichever
// replica runs the call sees the disconnect, stops the instance (audit outcome "cancelled") and
// frees its concurrency slot, for JSON and for SSE responses.
TEST_F(ServerTest, HttpDisconnectStopsTheCallAndFreesItsSlot) {
  for (bool sse : {false, true}) {
    SCOPED_TRACE(sse ? "SSE response" : "JSON response");
    {
      std::lock_guard<std::mutex> g(mu_);
      audit_.clear();
    }
    ServerOptions o;
    o.max_concurrency = 1;
    o.max_queue = 0;
    o.call_timeout_ms = 30000;
    HttpServer srv(host(o));
    ASSERT_NE(srv.port.load(), 0);
    Json spin{{"jsonrpc", "2.0"}, {"id", 1}, {"method", "tools/call"},
              {"params", {{"name", "spin"}, {"_meta", modern_meta()}}}};
    int fd = post_raw(srv.port, spin.dump(), sse);
    ASSERT_GE(fd, 0);
    // The slot is taken while it runs: a second call is refused as busy.
    httplib::Client c("127.0.0.1", srv.port);
    Json quick{{"jsonrpc", "2.0"}, {"id", 2}, {"method", "tools/call"},
              {"params", {{"name", "cat"}, {"arguments", {{"paths", {"notes.txt"}}}}, {"_meta", modern_meta()}}}};
    // On a loaded machine the spin request can reach the server after a quick call took the
    // only slot; then the spin call itself is refused as busy (its connection gets an answer
    // while a spinning call never answers) and is sent again.
    auto answered = [](int s) {
      pollfd p{s, POLLIN, 0};
      return ::poll(&p, 1, 0) > 0;
    };
    Json busy;
    for (int i = 0; i < 1000; ++i) {
      auto r = c.Post("/mcp", modern_headers("tools/call", "cat"), quick.dump(), "application/json");
      ASSERT_TRUE(r);
      busy = Json::parse(r->body, nullptr, false);
      if (busy.contains("error")) break;
      if (answered(fd)) {
        ::close(fd);
        fd = post_raw(srv.port, spin.dump(), sse);
        ASSERT_GE(fd, 0);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    ASSERT_EQ(busy["error"]["code"], kServerBusy) << "the spin call never took the slot: " << busy.dump();
    // Busy counts queued calls too: give the admitted call time to start running (a call
    // cancelled while still queued never starts; its record says "cancelled before it started").
    std::this_thread::sleep_for(std::chrono::seconds(2));
    auto start = std::chrono::steady_clock::now();
    ::close(fd);  // the client goes away mid-call
    Json record;
    for (int i = 0; i < 200 && record.is_null(); ++i) {
      for (const auto& a : audits()) {
        if (a.value("tool", "") == "spin") record = a;
      }
      if (record.is_null()) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    ASSERT_FALSE(record.is_null()) << "the instance was not stopped within 10 s";
    EXPECT_EQ(record["outcome"], "cancelled") << record.dump();
    EXPECT_LT(seconds, 10.0);
    // The slot is free again: the next call runs (long before the 30 s deadline would free it).
    Json ok;
    for (int i = 0; i < 200; ++i) {
      auto r = c.Post("/mcp", modern_headers("tools/call", "cat"), quick.dump(), "application/json");
      ASSERT_TRUE(r);
      ok = Json::parse(r->body, nullptr, false);
      if (ok.contains("result")) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    EXPECT_EQ(ok["result"]["isError"], false) << ok.dump();
  }
}

// notifications/cancelled reaching a replica that does not run the request does nothing (202,
// no effect on the calls it does run); on the initialize era it is routed only within the same
// Mcp-Session-Id, and a 2026-07-28 request is never reached by it (close the stream instead).
TEST_F(ServerTest, CancelNotificationForAnotherReplicasRequestIsHarmless) {
  ServerOptions o;
  o.call_timeout_ms = 30000;
  HttpServer srv(host(o));
  ASSERT_NE(srv.port.load(), 0);
  httplib::Client c("127.0.0.1", srv.port);
  std::string cancel1 = R"({"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":1}})";
  auto r = c.Post("/mcp", cancel1, "application/json");  // nothing runs here: accepted, ignored
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 202);
  r = c.Post("/mcp", {{"Mcp-Session-Id", "other"}}, cancel1, "application/json");
  EXPECT_EQ(r->status, 202);
  // A legacy-session call and a modern call, both with request id 1, both running.
  httplib::Client legacy("127.0.0.1", srv.port), modern("127.0.0.1", srv.port);
  legacy.set_read_timeout(60, 0);
  modern.set_read_timeout(60, 0);
  std::atomic<bool> legacy_done{false};
  std::thread t1([&] {
    legacy.Post("/mcp", {{"Mcp-Session-Id", "sess-a"}},
                R"({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"spin"}})",
                "application/json");
    legacy_done = true;
  });
  Json spin{{"jsonrpc", "2.0"}, {"id", 1}, {"method", "tools/call"},
            {"params", {{"name", "spin"}, {"_meta", modern_meta()}}}};
  int fd = post_raw(srv.port, spin.dump(), false, "Mcp-Session-Id: sess-a\r\n");
  ASSERT_GE(fd, 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(1000));  // both running, not queued
  // Other session: no effect on either.
  r = c.Post("/mcp", {{"Mcp-Session-Id", "sess-b"}}, cancel1, "application/json");
  EXPECT_EQ(r->status, 202);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_TRUE(audits().empty()) << audits().front().dump();
  // The legacy call's own session: that call (only) is cancelled. (Sent again until the call
  // ends: on a loaded machine the call may not have reached the server yet, and a cancel for a
  // request the replica does not know is ignored.)
  for (int i = 0; i < 100 && !legacy_done; ++i) {
    r = c.Post("/mcp", {{"Mcp-Session-Id", "sess-a"}}, cancel1, "application/json");
    EXPECT_EQ(r->status, 202);
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  t1.join();
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  auto a = audits();
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(a[0]["outcome"], "cancelled");
  EXPECT_EQ(a[0]["session_id"], "sess-a");
  // The modern call still runs; closing its connection is what stops it.
  ::close(fd);
  for (int i = 0; i < 200 && audits().size() < 2; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  a = audits();
  ASSERT_EQ(a.size(), 2u);
  EXPECT_EQ(a[1]["outcome"], "cancelled");
  EXPECT_TRUE(a[1]["session_id"].is_null()) << a[1].dump();
}

// notifications/cancelled reaches a call only from the principal that made it: another
// principal naming the same session and request id cancels nothing.
TEST_F(ServerTest, AnotherPrincipalsCancelCancelsNothing) {
  write_text(dir_ / "alice.token", "alice-0123456789abcdef\n");
  write_text(dir_ / "bob.token", "bob-0123456789abcdef\n");
  Json cfg = Json::parse(config_text());
  cfg["mcp"]["tenancy"]["principals"] = {{"alice", {{"token_file", (dir_ / "alice.token").string()}}},
                                         {"bob", {{"token_file", (dir_ / "bob.token").string()}}}};
  ServerOptions o;
  o.call_timeout_ms = 30000;
  HttpServer srv(make_host(o, cfg.dump()));
  ASSERT_NE(srv.port.load(), 0);
  httplib::Client c("127.0.0.1", srv.port), legacy("127.0.0.1", srv.port);
  legacy.set_read_timeout(60, 0);
  std::atomic<bool> done{false};
  std::thread t([&] {
    legacy.Post("/mcp", {{"Mcp-Session-Id", "sess-a"}, {"Authorization", "Bearer alice-0123456789abcdef"}},
                R"({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"spin"}})",
                "application/json");
    done = true;
  });
  // not-timing: the spin has started (its tool_call_start record) before the cancels are sent
  for (int i = 0; i < 500 && audits_all().empty(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  std::string cancel1 = R"({"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":1}})";
  for (int i = 0; i < 3; ++i) {
    auto r = c.Post("/mcp", {{"Mcp-Session-Id", "sess-a"}, {"Authorization", "Bearer bob-0123456789abcdef"}},
                    cancel1, "application/json");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 202);
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(500));  // room for a wrong cancel to land
  EXPECT_FALSE(done);
  EXPECT_TRUE(audits().empty()) << audits().front().dump();
  // Alice's own cancel stops it.
  for (int i = 0; i < 100 && !done; ++i) {
    c.Post("/mcp", {{"Mcp-Session-Id", "sess-a"}, {"Authorization", "Bearer alice-0123456789abcdef"}}, cancel1,
           "application/json");
    std::this_thread::sleep_for(std::chrono::milliseconds(200));  // not-timing: retried until the call ends
  }
  t.join();
  for (int i = 0; i < 100 && audits().empty(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(20));  // not-timing
  auto a = audits();
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(a[0]["outcome"], "cancelled");
  EXPECT_EQ(a[0]["principal"], "alice");
}

}  // namespace
}  // namespace wasmcap::mcp::test

// The MCP tests' fixtures (mcp_*_test.cc, bash_tool_test.cc): a home with a trusted signing key
// and bundles signed and installed into its registry, a ToolHost whose audit records and
// messages the test reads, and ServerTest: the protocol over the test plugins (coreutils, spin,
// sleep, count_stdin, fetch). Named namespace, not an anonymous one: the test files share one
// fixture type per suite (GoogleTest refuses a suite whose tests use different fixture types).
#pragma once

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <functional>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "mcp/protocol.h"
#include "mcp/transport_http.h"
#include "policy/json_doc.h"
#include "test_support.h"
#include "wasmcap/audit.h"
#include "wasmcap/bundle.h"
#include "wasmcap/mcp.h"
#include "wasmcap/registry.h"
#include "wasmcap/workspace.h"

namespace wasmcap::mcp::test {

namespace fs = std::filesystem;
using Json = nlohmann::json;
using wasmcap::testing::TempDir;
using wasmcap::testing::write_text;

inline Json coreutils_manifest() {
  return Json::parse(testing::read_text(fs::path(test_paths::source_dir()) / "guest/coreutils/manifest.json"));
}

// What the MCP fixtures share: a home (dir_/home) trusting a new signing key, bundles installed
// into it, the audit records of a ToolHost and the messages its Protocols send, under mu_.
class McpFixture : public ::testing::Test {
 protected:
  // dir_/home, trusting the key dir_/keys/k.key (key_). First in SetUp.
  void make_home() {
    dir_ = tmp_.path();
    home_ = (dir_ / "home").string();
    ASSERT_TRUE(bundle::keygen((dir_ / "keys").string(), "k"));
    auto key = bundle::load_secret_key((dir_ / "keys/k.key").string());
    ASSERT_TRUE(key);
    key_ = *key;
    fs::create_directories(fs::path(home_) / "trust");
    fs::copy_file(dir_ / "keys/k.pub", fs::path(home_) / "trust/k.pub");
  }

  // Signs `manifest` with the guest `guest` as its module (plugin.wasm) and installs it.
  void install(Json manifest, const std::string& guest) {
    auto reg = registry::Registry::open(home_);
    ASSERT_TRUE(reg);
    auto trust = registry::load_trust_store(home_, nullptr);
    ASSERT_TRUE(trust);
    manifest["module"] = "plugin.wasm";
    fs::path p = dir_ / ("src-" + manifest["name"].get<std::string>());
    fs::create_directories(p);
    fs::copy_file(testing::guest_path(guest), p / "plugin.wasm");
    write_text(p / "manifest.json", manifest.dump());
    auto packed = bundle::pack_to_file((p / "manifest.json").string(), key_, (p / "b.wcb").string());
    ASSERT_TRUE(packed) << packed.error().to_string();
    auto r = reg->install((p / "b.wcb").string(), *trust, {});
    ASSERT_TRUE(r) << r.error().to_string();
  }

  // A ToolHost over the home with `config_text` as its host config; its audit records go to
  // audit_ (refused, as a full disk would, once audit_ok_left_ reaches 0; -1: never), its log
  // lines to log_.
  std::shared_ptr<ToolHost> make_host(ServerOptions o, const std::string& config_text) {
    o.home = home_;
    auto c = policy::parse_host_config(config_text, "config.json");
    EXPECT_TRUE(c) << c.error().to_string();
    if (c) o.config = *c;
    struct FixtureSink : audit::Sink {
      McpFixture* t;
      explicit FixtureSink(McpFixture* f) : t(f) {}
      Result<void> append(std::string_view l) override {
        std::lock_guard<std::mutex> g(t->mu_);
        if (t->audit_ok_left_ == 0) return make_error(ErrorCode::kIo, "audit record not written: disk full");
        if (t->audit_ok_left_ > 0) --t->audit_ok_left_;
        t->audit_.push_back(Json::parse(l));
        return {};
      }
    };
    o.audit_sink = std::make_shared<FixtureSink>(this);
    o.log = [this](const std::string& l) {
      std::lock_guard<std::mutex> g(mu_);
      log_.push_back(l);
    };
    auto h = ToolHost::create(std::move(o));
    EXPECT_TRUE(h) << h.error().to_string();
    return *h;
  }

  // A Protocol's output callback: keeps each message in out_ (`check` sees it first, under mu_).
  Protocol::Emit collector(std::function<void(const Json&)> check = {}) {
    return [this, check](const Outgoing& m) {
      std::lock_guard<std::mutex> g(mu_);
      out_.push_back(Json::parse(m.json));
      // What the message says it is (the transports route on it without reading the JSON).
      const Json& j = out_.back();
      EXPECT_EQ(m.response, j.contains("id") && !j.contains("method")) << m.json.substr(0, 200);
      EXPECT_EQ(m.error, j.contains("error") ? j["error"].value("code", 0) : 0) << m.json.substr(0, 200);
      if (check) check(out_.back());
      cv_.notify_all();
    };
  }

  // The reply to request `id` (waits up to reply_wait_; null when none came).
  Json reply(const Json& id) {
    std::unique_lock<std::mutex> l(mu_);
    Json found;
    cv_.wait_for(l, reply_wait_, [&] {
      for (const auto& m : out_) {
        if (m.contains("id") && m["id"] == id) {
          found = m;
          return true;
        }
      }
      return false;
    });
    return found;
  }

  TempDir tmp_;
  fs::path dir_;
  std::string home_;
  bundle::SecretKey key_;
  std::chrono::seconds reply_wait_{20};
  int audit_ok_left_ = -1;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Json> out_, audit_;
  std::vector<std::string> log_;
};

// The protocol over the test plugins, one connection (start()), its session owning per_session
// workspace copies, as on stdio.
class ServerTest : public McpFixture {
 protected:
  void SetUp() override {
    make_home();
    fs::create_directories(dir_ / "ws");
    write_text(dir_ / "ws/notes.txt", "alpha\nbeta\n");
    install(coreutils_manifest(), "coreutils");
    Json spin{{"name", "spinner"}, {"version", "1.0.0"}, {"module", "plugin.wasm"},
              {"tools", Json::array({{{"name", "spin"},
                                      {"description", "never ends"},
                                      {"input_schema", {{"type", "object"}}},
                                      {"invoke", Json::object()}}})}};
    install(spin, "spin");
    // It sleeps on the monotonic clock: a grant it must request (unrequested: ENOTCAPABLE).
    Json sleeper{{"name", "sleeper"}, {"version", "1.0.0"}, {"module", "plugin.wasm"},
                 {"permissions", {{"args", true}, {"clocks", Json::array({"monotonic"})}}},
                 {"tools", Json::array({{{"name", "sleep"},
                                         {"input_schema",
                                          {{"type", "object"},
                                           {"properties", {{"ms", {{"type", "integer"}, {"minimum", 0}}}}}}},
                                         {"invoke", {{"argv", Json::array({{{"arg", "ms"}}})}}}}})}};
    install(sleeper, "poll_sleep");
    Json reader{{"name", "reader"}, {"version", "1.0.0"}, {"module", "plugin.wasm"},
                {"tools", Json::array({{{"name", "count_stdin"},
                                        {"input_schema", {{"type", "object"}}},
                                        {"invoke", {{"stdin", "json"}}}}})}};
    install(reader, "stdin_read");
    Json fetch = Json::parse(testing::read_text(fs::path(test_paths::source_dir()) / "examples/fetch/manifest.json"));
    fetch["permissions"]["host_api"]["https"].erase("secrets");
    install(fetch, "fetch");
  }

  std::string config_text() {
    return R"({"plugins": {
        "coreutils": {"grants": {"fs": [)" + (!coreutils_fs_.empty() ? coreutils_fs_ :
                       R"({"guest": "/work", "host": ")" + (dir_ / "ws").string() +
                           R"(", "access": "rw"})") + R"(]}},
        "spinner": {}, "sleeper": {}, "reader": {},
        "jsoncat": {"grants": {"fs": [{"guest": "/work", "host": ")" + (dir_ / "ws").string() +
                       R"(", "access": "ro"}]}},
        "datacat": {"grants": {"fs": [{"guest": "/work", "host": ")" +
                       (dir_ / "ws").string() + R"(", "access": "rw"}]}},
        "fetch": {"grants": {"host_api": {"https": {"allow": [
            {"host": "api.github.com", "methods": ["GET"], "path_prefix": "/"}]}}}}}})";
  }
  std::shared_ptr<ToolHost> host(ServerOptions o = {}) { return make_host(std::move(o), config_text()); }

  void start(ServerOptions o = {}, bool session = true) {
    host_ = host(std::move(o));
    Protocol::Settings s;
    s.session = session;
    s.session_id = "sess-1";
    // The connection's session, as on stdio: the one that owns per_session workspace copies.
    session_ = host_->open_session("stdio").value_or("");
    s.workspace_session = session_;
    proto_ = std::make_unique<Protocol>(host_, s, collector([this](const Json& j) {
      // Every answered tool call is recorded before its answer is sent (#37).
      if (j.contains("id") && j.contains("result") && j["result"].contains("isError")) {
        std::string id = j["id"].is_string() ? j["id"].get<std::string>() : j["id"].dump();
        bool recorded = false;
        for (const auto& a : audit_) recorded = recorded || (a["event"] == "tool_call" && a["request_id"] == id);
        if (!recorded) answered_unrecorded_.push_back(id);
      }
    }));
  }

  void send(const Json& m) { proto_->handle(m.dump()); }
  void initialize() {
    send({{"jsonrpc", "2.0"}, {"id", "init"}, {"method", "initialize"},
          {"params", {{"protocolVersion", "2025-11-25"}, {"capabilities", Json::object()},
                      {"clientInfo", {{"name", "t"}, {"version", "1"}}}}}});
    EXPECT_EQ(reply("init")["result"]["protocolVersion"], "2025-11-25");
  }
  Json call(const Json& id, const std::string& tool, const Json& args, Json meta = nullptr) {
    Json p{{"name", tool}, {"arguments", args}};
    if (!meta.is_null()) p["_meta"] = meta;
    send({{"jsonrpc", "2.0"}, {"id", id}, {"method", "tools/call"}, {"params", p}});
    return reply(id);
  }

  std::vector<Json> messages() {
    std::lock_guard<std::mutex> l(mu_);
    return out_;
  }
  // The tool_call (and https) records, without the tool_call_start records before each run.
  std::vector<Json> audits() {
    std::lock_guard<std::mutex> l(mu_);
    std::vector<Json> out;
    for (const auto& j : audit_) {
      if (j["event"] != "tool_call_start") out.push_back(j);
    }
    return out;
  }
  std::vector<Json> audits_all() {
    std::lock_guard<std::mutex> l(mu_);
    return audit_;
  }
  std::vector<std::string> answered_unrecorded_;  // ids of tool calls answered before recorded

  std::string coreutils_fs_;  // the coreutils fs grant (JSON object); "" = ws/ read-write
  std::string session_;       // the session start() opened on the host
  std::shared_ptr<ToolHost> host_;
  std::unique_ptr<Protocol> proto_;
};

// A server on a free loopback port for the test's lifetime.
struct HttpServer {
  std::atomic<uint16_t> port{0};
  std::atomic<bool> stop{false};
  std::thread thread;
  explicit HttpServer(std::shared_ptr<ToolHost> h) {
    HttpOptions ho;
    ho.on_listening = [this](uint16_t p) { port = p; };
    thread = std::thread([this, h, ho] { EXPECT_TRUE(serve_http(h, ho, &stop)); });
    // not-timing: a bounded wait for the server to start
    for (int i = 0; i < 500 && port == 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ~HttpServer() {
    stop = true;
    thread.join();
  }
};

}  // namespace wasmcap::mcp::test

// MCP over JSON-RPC 2.0: message validation, version negotiation (initialize lifecycle of
// 2025-11-25 / 2025-06-18, and the stateless 2026-07-28 revision), tools/list, tools/call with
// concurrency limits, cancellation and progress, ping, logging/setLevel. docs/mcp.md.
#include "mcp/protocol.h"

#include <algorithm>
#include <array>
#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <optional>
#include <system_error>
#include <thread>

#include "mcp/tools.h"
#include "mcp/workers.h"
#include "wasmcap/shell.h"
#include "policy/json_doc.h"
#include "wasmcap/version.h"

namespace wasmcap::mcp {

namespace {

// The threads a running call starts beside its own (CallContext::threads), attached to its
// ticket: their CPU is the call's, and they are demoted with it.
class TicketThreads final : public shell::ThreadObserver {
 public:
  TicketThreads(Scheduler& s, Scheduler::Ticket& t) : s_(s), t_(t) {}
  void thread_started() override { s_.attach_thread(t_); }
  void thread_ended() override { s_.detach_thread(t_); }

 private:
  Scheduler& s_;
  Scheduler::Ticket& t_;
};

constexpr const char* kMetaVersion = "io.modelcontextprotocol/protocolVersion";
constexpr const char* kMetaCapabilities = "io.modelcontextprotocol/clientCapabilities";
constexpr const char* kMetaLogLevel = "io.modelcontextprotocol/logLevel";
constexpr const char* kMetaServerInfo = "io.modelcontextprotocol/serverInfo";
constexpr std::array<std::string_view, 8> kLogLevels = {
    "debug", "info", "notice", "warning", "error", "critical", "alert", "emergency"};

std::string dump(const Json& j) { return j.dump(-1, ' ', false, Json::error_handler_t::replace); }

Outgoing error_message(int code, const std::string& message, const Json& id,
                       const Json* data = nullptr) {
  Json e{{"code", code}, {"message", message}};
  if (data != nullptr) e["data"] = *data;
  return Outgoing{dump(Json{{"jsonrpc", "2.0"}, {"id", id}, {"error", e}}), true, code};
}

Outgoing result_message(const Json& id, Json result) {
  return Outgoing{dump(Json{{"jsonrpc", "2.0"}, {"id", id}, {"result", std::move(result)}}), true, 0};
}

// A response around a result that is already JSON text (a tool call's, built and bounded by the
// tool layer), spliced rather than parsed and written again: a result can be megabytes. `stamp`
// (a JSON object's members, without braces, or empty) goes first among the result's members;
// the caller makes sure the result has none of the same names.
Outgoing result_message_text(const Json& id, const std::string& result, const std::string& stamp) {
  Outgoing o;
  o.response = true;
  std::string head = "{\"id\":" + dump(id) + ",\"jsonrpc\":\"2.0\",\"result\":";
  o.json.reserve(head.size() + result.size() + stamp.size() + 2);
  o.json = head;
  if (stamp.empty()) {
    o.json += result;
  } else {
    o.json += '{';
    o.json += stamp;
    if (result.size() > 2) o.json += ',';
    o.json.append(result, 1, std::string::npos);
  }
  o.json += '}';
  return o;
}

Outgoing notification_message(const Json& n) { return Outgoing{dump(n), false, 0}; }

int level_rank(std::string_view l) {
  auto it = std::find(kLogLevels.begin(), kLogLevels.end(), l);
  return it == kLogLevels.end() ? -1 : static_cast<int>(it - kLogLevels.begin());
}

}  // namespace

struct Protocol::Impl : std::enable_shared_from_this<Protocol::Impl> {
  std::shared_ptr<ToolHost> host;
  Settings settings;
  Emit emit;

  std::mutex mu;
  std::condition_variable cv;
  bool initialized = false;
  std::string version;     // negotiated (session mode)
  int log_level = -1;      // -1: no log notifications until logging/setLevel
  std::shared_ptr<Scheduler> scheduler;
  std::atomic<bool> stopping{false};
  // In-flight tools/call requests by id (JSON text) → their cancel flag.
  std::map<std::string, std::shared_ptr<std::atomic<bool>>> inflight;

  // `request_level`: the 2026-07-28 per-request _meta logLevel (-1: none, so no notification);
  // nullopt: the connection's logging/setLevel.
  void log_notify(const std::string& level, const Json& data, std::optional<int> request_level) {
    int rank = level_rank(level);
    {
      std::lock_guard<std::mutex> l(mu);
      int threshold = request_level ? *request_level : log_level;
      if (threshold < 0 || rank < threshold) return;
    }
    emit(notification_message(Json{{"jsonrpc", "2.0"},
                   {"method", "notifications/message"},
                   {"params", {{"level", level}, {"logger", "wasmcap"}, {"data", data}}}}));
  }

  Json server_info() const { return Json{{"name", "wasmcap"}, {"version", WASMCAP_VERSION}}; }
  Json capabilities() const {
    return Json{{"tools", {{"listChanged", false}}}, {"logging", Json::object()}};
  }

  void handle(std::string_view text);
  void request(const Json& id, const std::string& method, const Json& params, bool stateless);
  void notification(const std::string& method, const Json& params);
  void tools_call(const Json& id, const Json& params, bool stateless, std::optional<int> log_level);
  // 2026-07-28 results: resultType, and the server's identity in _meta (SHOULD, SEP-2575).
  void stamp(Json& result) const {
    result["resultType"] = "complete";
    Json meta = result.contains("_meta") && result["_meta"].is_object() ? result["_meta"] : Json::object();
    meta[kMetaServerInfo] = server_info();
    result["_meta"] = std::move(meta);
  }
  // stamp()'s members for a result without _meta, as JSON text without the braces.
  std::string stamp_members() const {
    Json s = Json::object();
    stamp(s);
    std::string t = dump(s);
    return t.substr(1, t.size() - 2);
  }
};

void Protocol::Impl::handle(std::string_view text) {
  const Json null_id = nullptr;
  if (text.size() > host->options().max_message_bytes) {
    emit(error_message(kInvalidRequest, "message larger than " +
                                            std::to_string(host->options().max_message_bytes) +
                                            " bytes",
                       null_id));
    return;
  }
  // Bounded while parsing: no value deeper than kMaxJsonDepth is ever built.
  auto parsed = json::parse(text, json::Limits{host->options().max_message_bytes, kMaxJsonDepth});
  if (!parsed) {
    emit(error_message(kParseError,
                       parsed.error().kind == json::ParseError::Kind::kTooDeep
                           ? "Parse error: " + parsed.error().message
                           : std::string("Parse error: not valid JSON"),
                       null_id));
    return;
  }
  Json msg = std::move(*parsed);
  if (msg.is_array()) {
    emit(error_message(kInvalidRequest, "Invalid Request: JSON-RPC batches are not supported by MCP",
                       null_id));
    return;
  }
  if (!msg.is_object() || msg.value("jsonrpc", Json()) != "2.0") {
    emit(error_message(kInvalidRequest, "Invalid Request: not a JSON-RPC 2.0 message", null_id));
    return;
  }
  const Json* method = policy::member(msg, "method");
  const Json* id = policy::member(msg, "id");
  if (method == nullptr) {
    // A response from the client: this server sends no requests, so there is nothing to match.
    return;
  }
  bool valid_id = id != nullptr && (id->is_string() || id->is_number_integer() ||
                                    id->is_number_unsigned());
  if (!method->is_string() || (id != nullptr && !valid_id)) {
    emit(error_message(kInvalidRequest,
                       "Invalid Request: method must be a string and id a string or integer",
                       valid_id ? *id : null_id));
    return;
  }
  Json params = msg.value("params", Json::object());
  if (!params.is_object()) {
    if (id != nullptr) emit(error_message(kInvalidParamsCode, "params must be an object", *id));
    return;
  }
  const std::string& m = method->get_ref<const std::string&>();
  if (id == nullptr) {
    notification(m, params);
    return;
  }
  // The stateless revision: every request names its version in _meta.
  const Json* meta = policy::member(params, "_meta");
  const Json* v = meta != nullptr && meta->is_object() ? policy::member(*meta, kMetaVersion) : nullptr;
  if (v != nullptr) {
    if (!v->is_string() || *v != kStatelessVersion) {
      Json data{{"supported", supported_versions()}, {"requested", *v}};
      emit(error_message(kUnsupportedProtocolVersion, "Unsupported protocol version", *id, &data));
      return;
    }
    const Json* caps = policy::member(*meta, kMetaCapabilities);
    if (caps == nullptr || !caps->is_object()) {
      emit(error_message(kInvalidParamsCode,
                         std::string("Invalid params: _meta.") + kMetaCapabilities +
                             " (an object) is required with protocol version " + kStatelessVersion,
                         *id));
      return;
    }
    if (const Json* lv = policy::member(*meta, kMetaLogLevel);
        lv != nullptr && (!lv->is_string() || level_rank(lv->get<std::string>()) < 0)) {
      emit(error_message(kInvalidParamsCode,
                         std::string("Invalid params: _meta.") + kMetaLogLevel +
                             " must be one of debug, info, notice, warning, error, critical, "
                             "alert, emergency",
                         *id));
      return;
    }
    request(*id, m, params, true);
    return;
  }
  request(*id, m, params, false);
}

void Protocol::Impl::notification(const std::string& method, const Json& params) {
  if (method == "notifications/initialized") {
    std::lock_guard<std::mutex> l(mu);
    initialized = true;
  } else if (method == "notifications/cancelled") {
    const Json* rid = policy::member(params, "requestId");
    if (rid == nullptr) return;
    std::lock_guard<std::mutex> l(mu);
    auto it = inflight.find(dump(*rid));
    if (it != inflight.end()) it->second->store(true);
    cv.notify_all();
    scheduler->wake();
  }
  // Other notifications need nothing from this server.
}

void Protocol::Impl::request(const Json& id, const std::string& method, const Json& params,
                             bool stateless) {
  auto reply = [&](Json result) {
    if (stateless) stamp(result);
    emit(result_message(id, std::move(result)));
  };
  if (method == "server/discover") {
    // DiscoverResult (a CacheableResult). serverInfo also stays a top-level member, as the
    // pre-release drafts had it: clients of either shape find it.
    Json r{{"supportedVersions", supported_versions()},
           {"capabilities", Json{{"tools", {{"listChanged", false}}}}},
           {"serverInfo", server_info()},
           {"instructions", "Tools of the signed plugins installed in this wasmcap registry; each "
                            "call runs in a fresh sandbox with the operator's grants."},
           {"ttlMs", kListTtlMs},
           {"cacheScope", "private"}};
    stamp(r);
    emit(result_message(id, std::move(r)));
    return;
  }
  if (!stateless) {
    if (method == "initialize") {
      const Json* pv = policy::member(params, "protocolVersion");
      if (pv == nullptr || !pv->is_string()) {
        emit(error_message(kInvalidParamsCode, "Invalid params: protocolVersion (a string) is required", id));
        return;
      }
      // The initialize lifecycle: the requested version when we speak it, else our latest
      // session version (the client decides whether it can live with that). 2026-07-28 has no
      // initialize, so a request for it gets the latest session version too.
      std::string chosen = kLatestSessionVersion;
      if (*pv == "2025-11-25" || *pv == "2025-06-18") chosen = pv->get<std::string>();
      {
        std::lock_guard<std::mutex> l(mu);
        version = chosen;
        initialized = true;  // requests may follow before notifications/initialized arrives
      }
      reply(Json{{"protocolVersion", chosen},
                 {"capabilities", capabilities()},
                 {"serverInfo", server_info()}});
      return;
    }
    if (method == "ping") {
      reply(Json::object());
      return;
    }
    bool ready = false;
    {
      std::lock_guard<std::mutex> l(mu);
      ready = initialized || !settings.session;
    }
    if (!ready) {
      emit(error_message(kInvalidRequest,
                         "Invalid Request: send initialize first (or use protocol version " +
                             std::string(kStatelessVersion) + " with _meta on every request)",
                         id));
      return;
    }
    if (method == "logging/setLevel") {
      const Json* lv = policy::member(params, "level");
      int rank = lv != nullptr && lv->is_string() ? level_rank(lv->get<std::string>()) : -1;
      if (rank < 0) {
        emit(error_message(kInvalidParamsCode,
                           "Invalid params: level must be one of debug, info, notice, warning, "
                           "error, critical, alert, emergency",
                           id));
        return;
      }
      {
        std::lock_guard<std::mutex> l(mu);
        log_level = rank;
      }
      reply(Json::object());
      return;
    }
  }
  if (method == "tools/list") {
    std::string cursor;
    if (const Json* c = policy::member(params, "cursor")) {
      if (!c->is_string()) {
        emit(error_message(kInvalidParamsCode, "Invalid params: cursor must be a string", id));
        return;
      }
      cursor = c->get<std::string>();
    }
    auto page = host->list(cursor);
    if (!page) {
      emit(error_message(kInvalidParamsCode, "Invalid params: " + page.error().message, id));
      return;
    }
    // The host's own listing (bounded schemas), re-read through the one decoder.
    auto tools = json::parse(page->tools_json, json::Limits{page->tools_json.size(), kMaxJsonDepth});
    if (!tools) {
      emit(error_message(kInternalError, "Internal error: tools/list page unreadable", id));
      return;
    }
    Json r{{"tools", std::move(*tools)}};
    if (!page->next_cursor.empty()) r["nextCursor"] = page->next_cursor;
    if (stateless) {
      r["ttlMs"] = kListTtlMs;  // ListToolsResult is a CacheableResult in 2026-07-28
      r["cacheScope"] = "private";
    }
    reply(std::move(r));
    return;
  }
  if (method == "tools/call") {
    std::optional<int> level;
    if (stateless) {
      // Per request (2026-07-28): no _meta logLevel, no notifications/message (validated above).
      level = -1;
      const Json* meta = policy::member(params, "_meta");
      if (const Json* lv = meta != nullptr ? policy::member(*meta, kMetaLogLevel) : nullptr) {
        level = level_rank(lv->get<std::string>());
      }
    }
    tools_call(id, params, stateless, level);
    return;
  }
  std::string hint = stateless && (method == "ping" || method == "logging/setLevel" ||
                                   method == "initialize")
                         ? " (not part of protocol version " + std::string(kStatelessVersion) + ")"
                         : "";
  emit(error_message(kMethodNotFound, "Method not found: " + policy::quote(method) + hint, id));
}

void Protocol::Impl::tools_call(const Json& id, const Json& params, bool stateless,
                                std::optional<int> log_level) {
  const Json* name = policy::member(params, "name");
  if (name == nullptr || !name->is_string()) {
    emit(error_message(kInvalidParamsCode, "Invalid params: name (a string) is required", id));
    return;
  }
  std::string args;
  if (const Json* a = policy::member(params, "arguments")) {
    if (!a->is_object()) {
      emit(error_message(kInvalidParamsCode, "Invalid params: arguments must be an object", id));
      return;
    }
    args = dump(*a);
  }
  Json progress_token;
  if (const Json* meta = policy::member(params, "_meta"); meta != nullptr && meta->is_object()) {
    if (const Json* t = policy::member(*meta, "progressToken");
        t != nullptr && (t->is_string() || t->is_number_integer())) {
      progress_token = *t;
    }
  }
  std::string key = dump(id);
  auto cancel = std::make_shared<std::atomic<bool>>(false);
  std::string tool = name->get<std::string>();
  std::shared_ptr<Scheduler::Ticket> ticket;
  {
    std::lock_guard<std::mutex> l(mu);
    if (stopping) return;
    if (inflight.count(key) != 0) {
      emit(error_message(kInvalidRequest, "Invalid Request: request id already in use", id));
      return;
    }
    // Admitted (running at once, or waiting its principal's turn) or refused now: the
    // scheduler's rules (scheduler.h). Everything admitted counts until it is released.
    Scheduler::Refusal refusal;
    ticket = scheduler->admit(settings.principal, host->plugin_of(tool), &refusal, host->memory_cap_mb(tool));
    if (!ticket) {
      emit(error_message(kServerBusy, refusal.message, id));
      return;
    }
    inflight[key] = cancel;
  }
  auto self = shared_from_this();
  auto body = [self, id, key, cancel, ticket, tool, args, progress_token, stateless, log_level]() mutable {
    Impl& im = *self;
    const ServerOptions& o = im.host->options();
    std::string refused;
    Scheduler::Wait w = im.scheduler->wait(*ticket, cancel.get(), &im.stopping, &refused);
    const bool run = w == Scheduler::Wait::kRun;
    const bool busy = w == Scheduler::Wait::kTimedOut || w == Scheduler::Wait::kEvicted;
    bool done = false;
    std::thread ticker;
    if (run && !progress_token.is_null()) {
      // Progress for long calls: elapsed seconds, strictly increasing, until the call ends.
      ticker = std::thread([&im, &done, progress_token, &o] {
        auto start = std::chrono::steady_clock::now();
        uint64_t n = 0;
        std::unique_lock<std::mutex> l(im.mu);
        while (!im.cv.wait_for(l, std::chrono::milliseconds(o.progress_interval_ms),
                               [&] { return done; })) {
          ++n;
          double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
          l.unlock();
          im.emit(notification_message(Json{{"jsonrpc", "2.0"},
                            {"method", "notifications/progress"},
                            {"params",
                             {{"progressToken", progress_token},
                              {"progress", n},
                              {"message", "running for " + std::to_string(static_cast<int>(s)) + " s"}}}}));
          l.lock();
        }
      });
    }
    CallOutcome outcome;
    // A call cancelled while queued goes through call() too: it returns at once with a
    // tool_call record (outcome "cancelled"), so no call is missing from the audit trail.
    if (run || (w == Scheduler::Wait::kCancelled && !im.stopping)) {
      CallContext ctx;
      ctx.request_id = dump(id);
      ctx.session_id = im.settings.session_id;
      ctx.workspace_session = im.settings.workspace_session;
      ctx.cancel = cancel.get();
      ctx.principal = im.settings.principal;
      ctx.admitted = im.scheduler->admitted(*ticket);
      TicketThreads threads(*im.scheduler, *ticket);
      if (run) ctx.threads = &threads;
      outcome = im.host->call(tool, args, ctx);
    }
    {
      std::lock_guard<std::mutex> l(im.mu);
      done = true;
      im.cv.notify_all();
    }
    if (ticker.joinable()) ticker.join();
    if (run) {
      // The result counts against its principal's output budget before the slot is given back.
      im.scheduler->charge_output(*ticket, outcome.result_json.size());
      im.scheduler->release(*ticket);
    }
    // A cancelled request gets no response (the client has stopped waiting for it).
    bool cancelled = cancel->load() || outcome.cancelled || (!run && !busy);
    if (busy && !cancelled) {
      // It waited past the queue's timeout, or gave way to another principal's call.
      im.emit(error_message(kServerBusy, refused, id));
    } else if (!cancelled) {
      im.log_notify(outcome.is_error || outcome.protocol_error ? "warning" : "info",
                    Json{{"tool", tool}, {"isError", outcome.is_error || outcome.protocol_error}},
                    log_level);
      if (outcome.protocol_error) {
        im.emit(error_message(outcome.error_code, outcome.error_message, id));
      } else if (const std::string& text = outcome.result_json;
                 text.size() >= 2 && text.front() == '{' && text.back() == '}' &&
                 (!stateless || (text.find("\"_meta\"") == std::string::npos &&
                                 text.find("\"resultType\"") == std::string::npos))) {
        // The tool layer's result (a JSON object it wrote; its structuredContent bounded by
        // kMaxToolOutputDepth, so the response fits kMaxJsonDepth) goes out as it is, stamped
        // by splicing when it has no member of the stamp's names (no name of the stamp appears
        // anywhere in it unescaped).
        im.emit(result_message_text(id, text, stateless ? im.stamp_members() : std::string()));
      } else {
        // Re-read to merge the stamp into a _meta of its own (or to refuse what is not a result).
        auto r = json::parse(outcome.result_json,
                             json::Limits{outcome.result_json.size(), kMaxJsonDepth});
        if (!r || !r->is_object()) {
          im.emit(error_message(kInternalError, "Internal error: the call's result is unreadable", id));
        } else {
          if (stateless) im.stamp(*r);
          im.emit(result_message(id, std::move(*r)));
        }
      }
    }
    // This thread runs the next call unless its priority was lowered (workers.h).
    const bool keep_thread = !im.scheduler->demoted(*ticket);
    // The ticket goes before `self` can: the scheduler (which `self` may be the last to hold)
    // must outlive it.
    ticket.reset();
    {
      std::lock_guard<std::mutex> l(im.mu);
      im.inflight.erase(key);
      im.cv.notify_all();
    }
    return keep_thread;
  };
  if (!Workers::process().run(std::move(body))) {
    // No thread for it (the process is at its thread limit): the call gives its place back.
    scheduler->release(*ticket);
    {
      std::lock_guard<std::mutex> l(mu);
      inflight.erase(key);
      cv.notify_all();
    }
    emit(error_message(kServerBusy, "server busy: no thread to run the call; retry later", id));
  }
}

Protocol::Protocol(std::shared_ptr<ToolHost> host, Settings settings, Emit emit)
    : impl_(std::make_shared<Impl>()) {
  impl_->host = std::move(host);
  impl_->settings = std::move(settings);
  impl_->emit = std::move(emit);
  impl_->scheduler = impl_->settings.scheduler ? impl_->settings.scheduler
                                               : std::make_shared<Scheduler>(scheduler_limits(impl_->host->options(), false));
}

Protocol::~Protocol() { cancel_all_and_wait(); }

void Protocol::handle(std::string_view message) { impl_->handle(message); }

void Protocol::cancel_all_and_wait() {
  std::unique_lock<std::mutex> l(impl_->mu);
  impl_->stopping = true;
  for (auto& [k, flag] : impl_->inflight) flag->store(true);
  impl_->cv.notify_all();
  impl_->scheduler->wake();
  impl_->cv.wait(l, [&] { return impl_->inflight.empty(); });
}

bool Protocol::idle() {
  std::lock_guard<std::mutex> l(impl_->mu);
  return impl_->inflight.empty();
}

void Protocol::wait_idle() {
  std::unique_lock<std::mutex> l(impl_->mu);
  impl_->cv.wait(l, [&] { return impl_->inflight.empty(); });
}

}  // namespace wasmcap::mcp

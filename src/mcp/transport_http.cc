// The Streamable HTTP transport at /mcp, on GNU libmicrohttpd (Debian's libmicrohttpd-dev): we
// parse no HTTP ourselves. The server lives in the module wasmcap-mcp-http.so behind the C table
// of httpd_abi.h (loaded on first use, httpd_loader.cc), so processes that serve no HTTP never
// map it; HttpReq/HttpRes/HttpSink below give the handlers request/response shapes over it. The
// module owns reading requests within bounds (docs/security-model.md, "HTTP request reading");
// this file owns the policy: admit() (Host, Origin, token) runs as soon as a request's headers
// are in, before its body is read, and the handlers see only admitted, complete requests.
// The server is stateless: every POST is answered on its own (one Protocol per request, the
// concurrency limit shared through one CallGate), so replicas behind any load balancer are
// interchangeable (docs/mcp.md#deployment).
#include "mcp/transport_http.h"

#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <fstream>
#include <cstdlib>
#include <map>
#include <mutex>
#include <optional>
#include <thread>

#include "mcp/protocol.h"
#include "mcp/tools.h"
#include "wasmcap/mcp.h"
#include "wasmcap/tenancy.h"

namespace wasmcap::mcp {

namespace {

// A request, response and body sink of the HTTP module, with the members the handlers use.
std::string to_string(wasmcap_httpd_str s) { return std::string(s.data, s.size); }

// The scheduler's metrics (docs/mcp.md "Metrics"), served when mcp.tenancy has a metrics token.
constexpr char kMetricsPath[] = "/metrics";

struct HttpReq {
  HttpReq(const wasmcap_httpd_api* a, const wasmcap_httpd_req* r)
      : api(a), q(r), body(to_string(a->body(r))), local_addr(to_string(a->local_addr(r))),
        remote_addr(to_string(a->remote_addr(r))), local_port(a->local_port(r)),
        remote_port(a->remote_port(r)) {}
  std::string get_header_value(const char* name) const { return to_string(api->header(q, name)); }
  bool has_header(const char* name) const { return api->has_header(q, name) != 0; }
  bool is_metrics() const { return to_string(api->path(q)) == kMetricsPath; }
  const std::string& method() const { return verb; }

  const wasmcap_httpd_api* api;
  const wasmcap_httpd_req* q;
  std::string body, local_addr, remote_addr;
  int local_port, remote_port;
  std::string verb;  // GET, POST or DELETE
};

struct HttpSink {
  bool write(const char* data, size_t n) { return api->sink_write(k, data, n) != 0; }
  void done() { api->sink_done(k); }
  const wasmcap_httpd_api* api;
  wasmcap_httpd_sink* k;
};

struct HttpRes {
  void set_status(int status) { api->set_status(r, status); }
  void set_header(const char* name, const std::string& value) { api->set_header(r, name, value.c_str()); }
  void set_content(const std::string& body, const char* type) {
    api->set_content(r, body.data(), body.size(), type);
  }
  // The response goes out `ms` after the handler returns; the connection waits, no worker does.
  void set_delay(unsigned ms) { api->set_delay(r, ms); }
  // A chunked body: `provider` until it calls sink.done() or returns false; `release(success)`
  // once at the end, whatever happened.
  void set_chunked_content_provider(const char* type, std::function<bool(size_t, HttpSink&)> provider,
                                    std::function<void(bool)> release) {
    struct Body {
      const wasmcap_httpd_api* api;
      std::function<bool(size_t, HttpSink&)> provider;
      std::function<void(bool)> release;
    };
    auto* b = new Body{api, std::move(provider), std::move(release)};
    api->set_chunked(
        r, type,
        [](void* u, wasmcap_httpd_sink* k) -> int {
          auto* body = static_cast<Body*>(u);
          HttpSink sink{body->api, k};
          try {
            return body->provider(0, sink) ? 1 : 0;
          } catch (...) {
            return 0;
          }
        },
        [](void* u, int success) {
          std::unique_ptr<Body> body(static_cast<Body*>(u));
          try {
            body->release(success != 0);
          } catch (...) {
          }
        },
        b);
  }
  const wasmcap_httpd_api* api;
  wasmcap_httpd_res* r;
};

bool ieq(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

// "host[:port]" → host (brackets kept for IPv6), or "" when malformed: the port, when present,
// is 1-5 digits and nothing else follows ("127.0.0.1:80@evil.com" is malformed, not loopback).
std::string_view host_part(std::string_view hp) {
  std::string_view host, rest;
  if (!hp.empty() && hp.front() == '[') {
    size_t close = hp.find(']');
    if (close == std::string_view::npos) return {};
    host = hp.substr(0, close + 1);
    rest = hp.substr(close + 1);
  } else {
    size_t colon = hp.find(':');
    host = hp.substr(0, colon);
    rest = colon == std::string_view::npos ? std::string_view() : hp.substr(colon);
  }
  if (!rest.empty()) {
    std::string_view port = rest.substr(1);
    bool digits = rest.front() == ':' && !port.empty() && port.size() <= 5 &&
                  std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; });
    if (!digits) return {};
  }
  return host;
}

bool is_loopback_name(std::string_view h) {
  if (ieq(h, "localhost") || h == "[::1]") return true;
  // 127.0.0.0/8, dotted quad only.
  if (h.rfind("127.", 0) != 0) return false;
  int dots = 0;
  for (char c : h) {
    if (c == '.') {
      ++dots;
    } else if (c < '0' || c > '9') {
      return false;
    }
  }
  return dots == 3;
}

bool is_loopback_bind(std::string_view h) {
  return h == "localhost" || h == "::1" || is_loopback_name(h);
}

std::string jsonrpc_error(int code, const std::string& message) {
  return Json{{"jsonrpc", "2.0"}, {"id", nullptr}, {"error", {{"code", code}, {"message", message}}}}
      .dump();
}

bool constant_time_equal(std::string_view a, std::string_view b) {
  // Compare every byte regardless of where they differ, so timing says nothing of the token.
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  size_t n = std::max(a.size(), b.size());
  for (size_t i = 0; i < n; ++i) {
    unsigned char x = i < a.size() ? static_cast<unsigned char>(a[i]) : 0;
    unsigned char y = i < b.size() ? static_cast<unsigned char>(b[i]) : 0;
    diff |= x ^ y;
  }
  return diff == 0;
}

// The token a request presents ("Authorization: Bearer TOKEN", the scheme in any case); empty
// when it presents none. The one reading of the header: principals' tokens and /metrics'.
std::string bearer_of(const HttpReq& req) {
  std::string auth = req.get_header_value("Authorization");
  if (auth.size() <= 7 || !ieq(std::string_view(auth).substr(0, 7), "Bearer ")) return {};
  return auth.substr(7);
}

// Printable ASCII, at most 128 bytes: the only form a client-chosen id reaches the audit log in.
std::string clean_id(const std::string& s) {
  std::string out;
  for (char c : s.substr(0, 128)) {
    if (c > 0x20 && c < 0x7f) out += c;
  }
  return out;
}

// Server busy (over the server's or a principal's share) is HTTP 429 with this Retry-After, and
// is sent once that time has passed (below).
constexpr unsigned kBusyRetryAfterS = 1;

// A response that refuses its request as server busy.
bool is_busy_answer(const Outgoing& m) { return m.response && m.error == kServerBusy; }

// The socket of the connection a request arrived on (for poll only), or -1: disconnects of JSON
// responses then go unnoticed until the call ends; SSE streams still notice by a failed write.
int connection_fd(const HttpReq& req) { return req.api->connection_fd(req.q); }

// The client closed (or reset) the connection. The request body has been read whole, so the
// socket turns readable only by the peer's FIN/RST (or a pipelined request, which is not a
// disconnect: recv peeks data then).
bool peer_gone(int fd) {
  if (fd < 0) return false;
  pollfd p{fd, static_cast<short>(POLLIN | POLLRDHUP), 0};
  if (::poll(&p, 1, 0) <= 0) return false;
  if (p.revents & (POLLRDHUP | POLLHUP | POLLERR)) return true;
  char c;
  ssize_t n = ::recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);
  return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR);
}

// decode_header_value (transport_http.h), here so the checks below can use it.
std::optional<std::string> decode_base64_sentinel(const std::string& v) {
  static const std::string_view kPrefix = "=?base64?", kSuffix = "?=";
  if (v.size() < kPrefix.size() + kSuffix.size() || v.compare(0, kPrefix.size(), kPrefix) != 0 ||
      v.compare(v.size() - kSuffix.size(), kSuffix.size(), kSuffix) != 0) {
    return v;
  }
  std::string_view b64(v.data() + kPrefix.size(), v.size() - kPrefix.size() - kSuffix.size());
  if (b64.size() % 4 != 0) return std::nullopt;
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  size_t pad = 0;
  for (size_t i = 0; i < b64.size(); ++i) {
    char c = b64[i];
    int val;
    if (c >= 'A' && c <= 'Z') {
      val = c - 'A';
    } else if (c >= 'a' && c <= 'z') {
      val = c - 'a' + 26;
    } else if (c >= '0' && c <= '9') {
      val = c - '0' + 52;
    } else if (c == '+') {
      val = 62;
    } else if (c == '/') {
      val = 63;
    } else if (c == '=' && i + 2 >= b64.size()) {
      ++pad;
      continue;
    } else {
      return std::nullopt;
    }
    if (pad != 0) return std::nullopt;  // data after padding
    acc = (acc << 6) | static_cast<uint32_t>(val);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((acc >> bits) & 0xff);
    }
  }
  return out;
}

// Header values allowed by RFC 9110: visible ASCII, space, tab.
bool header_value_ok(const std::string& v) {
  return std::all_of(v.begin(), v.end(), [](char c) {
    return c == '\t' || (static_cast<unsigned char>(c) >= 0x20 && static_cast<unsigned char>(c) < 0x7f);
  });
}

// One POST's outgoing messages, filled by the Protocol's threads.
struct Exchange {
  std::mutex mu;
  std::condition_variable cv;
  std::deque<Outgoing> messages;
  bool answered = false;  // the response to the request is among `messages`
  Json id;
};

}  // namespace

std::optional<std::string> decode_header_value(const std::string& v) { return decode_base64_sentinel(v); }

bool origin_allowed(std::string_view origin, const std::vector<std::string>& allowed) {
  for (const auto& a : allowed) {
    if (origin == a) return true;
  }
  std::string_view rest;
  if (origin.rfind("http://", 0) == 0) {
    rest = origin.substr(7);
  } else if (origin.rfind("https://", 0) == 0) {
    rest = origin.substr(8);
  } else {
    return false;  // "null", other schemes, garbage
  }
  if (rest.find('/') != std::string_view::npos) return false;
  return is_loopback_name(host_part(rest));
}

bool host_allowed(std::string_view host, const std::vector<std::string>& allowed) {
  std::string_view h = host_part(host);
  for (const auto& a : allowed) {
    if (ieq(h, a) || ieq(host, a)) return true;
  }
  return is_loopback_name(h);
}

Result<std::string> read_token_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return make_error(ErrorCode::kNotFound, "cannot read the token file '" + path + "'");
  std::string text(4097, '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<size_t>(in.gcount()));
  if (text.size() > 4096) {
    return make_error(ErrorCode::kInvalidArgument, "token file '" + path + "' is larger than 4 KiB");
  }
  text = text.substr(0, text.find('\n'));
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.pop_back();
  size_t start = 0;
  while (start < text.size() && std::isspace(static_cast<unsigned char>(text[start]))) ++start;
  text = text.substr(start);
  if (text.empty()) return make_error(ErrorCode::kInvalidArgument, "token file '" + path + "' is empty");
  return text;
}

Result<void> serve_http(std::shared_ptr<ToolHost> host, const HttpOptions& options,
                        const std::atomic<bool>* stop) {
  if (!options.allow_remote && !is_loopback_bind(options.host)) {
    return make_error(ErrorCode::kInvalidArgument,
                      "refusing to listen on non-loopback address '" + options.host +
                          "' without --allow-remote (put TLS and --token-file in front of it)");
  }
  const wasmcap_httpd_api* api = nullptr;
  WASMCAP_TRY_ASSIGN(api, load_http_module());
  const ServerOptions& so = host->options();

  // The callers the server tells apart (docs/mcp.md "Tenants"): each bearer token names a
  // principal, the --token-file one "token" and each of mcp.tenancy's principals its own. A
  // server with no token has one principal, "anonymous".
  std::vector<std::pair<std::string, std::string>> tokens;  // principal, token
  if (!options.bearer_token.empty()) tokens.emplace_back(policy::kPrincipalToken, options.bearer_token);
  const policy::TenancyConfig* tenancy = so.config.mcp.tenancy.get();
  if (tenancy != nullptr) {
    for (const auto& p : tenancy->principals) {
      auto t = read_token_file(p.token_file);
      if (!t) {
        return make_error(t.error().code, "principal '" + p.name + "' (host config mcp.tenancy): " + t.error().message);
      }
      for (const auto& [other, token] : tokens) {
        if (token == *t) {
          return make_error(ErrorCode::kConfigInvalid, "principals '" + other + "' and '" + p.name +
                                                           "' have the same token; give each its own");
        }
      }
      tokens.emplace_back(p.name, *t);
    }
  }
  // GET /metrics: its own token, which no principal may share (a principal would read every
  // other's usage with it).
  std::string metrics_token;
  if (tenancy != nullptr && tenancy->metrics_token_file) {
    auto t = read_token_file(*tenancy->metrics_token_file);
    if (!t) return make_error(t.error().code, "metrics_token_file (host config mcp.tenancy): " + t.error().message);
    for (const auto& [other, token] : tokens) {
      if (token == *t) {
        return make_error(ErrorCode::kConfigInvalid, "mcp.tenancy metrics_token_file holds principal '" + other +
                                                         "''s token; give /metrics a token of its own");
      }
    }
    metrics_token = *t;
  }
  // The principal whose token the request presents; "" when it presents none that is known.
  // Every token is compared, in full, whichever matches: timing says nothing of which.
  auto principal_of = [&tokens](const HttpReq& req) -> std::string {
    if (tokens.empty()) return policy::kPrincipalAnonymous;
    const std::string presented = bearer_of(req);
    if (presented.empty()) return "";
    const std::string* found = nullptr;
    for (const auto& [name, token] : tokens) {
      if (constant_time_equal(presented, token) && found == nullptr) found = &name;
    }
    return found != nullptr ? *found : std::string();
  };
  auto scheduler = std::make_shared<Scheduler>(scheduler_limits(so, tokens.size() > 1));

  // Checks shared by every method: DNS rebinding (Host, Origin) and the bearer token (for
  // /metrics, its own token, and GET only).
  auto admit = [&options, &principal_of, &metrics_token](const HttpReq& req, HttpRes& res) {
    bool host_ok = (options.allow_remote && options.allowed_hosts.empty()) ||
                   host_allowed(req.get_header_value("Host"), options.allowed_hosts);
    if (!host_ok || (req.has_header("Origin") &&
                     !origin_allowed(req.get_header_value("Origin"), options.allowed_origins))) {
      res.set_status(403);
      res.set_content(jsonrpc_error(kInvalidRequest, "Forbidden: Host or Origin not allowed"),
                      "application/json");
      return false;
    }
    if (req.is_metrics()) {
      const std::string presented = bearer_of(req);
      if (presented.empty() || !constant_time_equal(presented, metrics_token)) {
        res.set_status(401);
        res.set_header("WWW-Authenticate", "Bearer");
        res.set_content("unauthorized\n", "text/plain; charset=utf-8");
        return false;
      }
      if (req.method() != "GET") {
        res.set_status(405);
        res.set_header("Allow", "GET");
        return false;
      }
      return true;
    }
    if (principal_of(req).empty()) {
      res.set_status(401);
      res.set_header("WWW-Authenticate", "Bearer");
      res.set_content(jsonrpc_error(kInvalidRequest, "Unauthorized"), "application/json");
      return false;
    }
    return true;
  };

  // Calls in flight by (principal, session id, request id): a notifications/cancelled POST of
  // the same principal and session is routed to the Protocol running the call (another
  // principal holding the id cancels nothing). Without a session id there is no routing
  // (request ids are only unique per client); such clients cancel by closing the stream.
  std::mutex calls_mu;
  std::map<std::string, std::weak_ptr<Protocol>> calls;
  auto call_key = [](const std::string& principal, const std::string& session, const Json& id) {
    return principal + "\n" + session + "\n" + id.dump();
  };

  // Handlers see admitted requests only: the module calls admit (below) before reading a body.
  auto post = [&, host, scheduler](const HttpReq& req, HttpRes& res) {
    std::string ct = req.get_header_value("Content-Type");
    if (!ct.empty() && ct.find("application/json") == std::string::npos) {
      res.set_status(415);
      res.set_content(jsonrpc_error(kInvalidRequest, "Content-Type must be application/json"),
                      "application/json");
      return;
    }
    std::vector<std::string> versions = supported_versions();
    std::string hv = req.get_header_value("MCP-Protocol-Version");
    // Classify the message; the Protocol does the full validation and answers errors itself.
    Json msg = json::parse(req.body, json::Limits{so.max_message_bytes, kMaxJsonDepth}).value_or(nullptr);
    bool is_request = msg.is_object() && msg.contains("method") && msg.contains("id");
    bool is_message = msg.is_object() && (msg.contains("method") || msg.contains("result") ||
                                          msg.contains("error"));
    // A modern (2026-07-28) request names its version in _meta (or in the header): it is served
    // statelessly, with the revision's header validation and HTTP status codes.
    const Json* meta_version = nullptr;
    if (is_request && msg["params"].is_object() && msg["params"].contains("_meta") &&
        msg["params"]["_meta"].is_object()) {
      const Json& meta = msg["params"]["_meta"];
      auto it = meta.find("io.modelcontextprotocol/protocolVersion");
      if (it != meta.end()) meta_version = &*it;
    }
    bool modern = is_request && (meta_version != nullptr || hv == kStatelessVersion);
    // An error answer with the request's id (null when the message has none, or is no object).
    auto reject = [&](int status, int code, const std::string& message, const Json* data = nullptr) {
      Json e{{"code", code}, {"message", message}};
      if (data != nullptr) e["data"] = *data;
      res.set_status(status);
      res.set_content(Json{{"jsonrpc", "2.0"}, {"id", msg.is_object() ? msg.value("id", Json()) : Json()},
                           {"error", e}}.dump(),
                      "application/json");
    };
    if (modern) {
      // Server validation (transports/streamable-http#server-validation): the headers a load
      // balancer may route on must say what the body says.
      std::string method = msg["method"].is_string() ? msg["method"].get<std::string>() : "";
      if (meta_version != nullptr && meta_version->is_string() && *meta_version != kStatelessVersion &&
          (hv.empty() || hv == *meta_version)) {
        Json data{{"supported", versions}, {"requested", *meta_version}};
        reject(400, kUnsupportedProtocolVersion, "Unsupported protocol version", &data);
        return;
      }
      if (hv.empty()) {
        reject(400, kHeaderMismatch, "Header mismatch: MCP-Protocol-Version header is required");
        return;
      }
      if (meta_version == nullptr) {
        reject(400, kInvalidParamsCode,
               "Invalid params: _meta.io.modelcontextprotocol/protocolVersion is required with "
               "MCP-Protocol-Version " + hv);
        return;
      }
      if (*meta_version != hv) {
        reject(400, kHeaderMismatch,
               "Header mismatch: MCP-Protocol-Version header does not match _meta "
               "io.modelcontextprotocol/protocolVersion");
        return;
      }
      std::string hm = req.get_header_value("Mcp-Method");
      if (!req.has_header("Mcp-Method") || !header_value_ok(hm) || hm != method) {
        reject(400, kHeaderMismatch,
               req.has_header("Mcp-Method") ? "Header mismatch: Mcp-Method header does not match "
                                              "the request's method"
                                            : "Header mismatch: Mcp-Method header is required");
        return;
      }
      if (method == "tools/call") {
        const Json& name = msg["params"].is_object() ? msg["params"].value("name", Json()) : Json();
        std::string hn = req.get_header_value("Mcp-Name");
        auto decoded = header_value_ok(hn) ? decode_base64_sentinel(hn) : std::nullopt;
        if (!req.has_header("Mcp-Name") || !decoded || !name.is_string() || *decoded != name) {
          reject(400, kHeaderMismatch,
                 req.has_header("Mcp-Name") ? "Header mismatch: Mcp-Name header does not match "
                                              "params.name"
                                            : "Header mismatch: Mcp-Name header is required for "
                                              "tools/call");
          return;
        }
      }
    } else if (!hv.empty() && std::find(versions.begin(), versions.end(), hv) == versions.end()) {
      res.set_status(400);
      res.set_content(jsonrpc_error(kInvalidRequest, "Bad Request: unsupported MCP-Protocol-Version"),
                      "application/json");
      return;
    }
    // The 2026-07-28 revision has no sessions: a modern request's Mcp-Session-Id is ignored (no
    // audit correlation, no cancellation routing, none minted).
    std::string session = modern ? std::string() : clean_id(req.get_header_value("Mcp-Session-Id"));
    // A session its client ended (DELETE) is gone: 404, as the spec has it, so the client starts
    // a new one. (Ids another replica ended are not known here: any replica serves any id.)
    if (!session.empty() && host->session_terminated(session)) {
      reject(404, kSessionNotFound,
             "Session not found: the session was ended (DELETE); send initialize (without "
             "Mcp-Session-Id) to start a new session");
      return;
    }
    if (!is_request && msg.is_object() && msg.value("method", Json()) == "notifications/cancelled" &&
        !session.empty() && msg["params"].is_object() && msg["params"].contains("requestId")) {
      std::shared_ptr<Protocol> owner;
      {
        std::lock_guard<std::mutex> l(calls_mu);
        auto it = calls.find(call_key(principal_of(req), session, msg["params"]["requestId"]));
        if (it != calls.end()) owner = it->second.lock();
      }
      if (owner) owner->handle(req.body);
      res.set_status(202);
      return;
    }
    auto ex = std::make_shared<Exchange>();
    if (is_request) ex->id = msg["id"];
    Protocol::Settings settings;
    settings.session = false;
    settings.scheduler = scheduler;
    settings.principal = principal_of(req);
    bool initialize = is_request && msg["method"] == "initialize";
    if (initialize && session.empty()) {
      // A correlation id for this client's later requests (audit records, cancellation), and
      // the only kind of id that may own per_session workspace copies: the host remembers the
      // ids it issued (sessions.h). Requests need no state under it otherwise: any replica
      // serves any session id for everything else.
      // (When none can be opened, the client goes on without a session: per-call copies.)
      if (auto opened = host->open_session(settings.principal)) {
        session = *opened;
        res.set_header("Mcp-Session-Id", session);
      }
    }
    settings.session_id = session;
    // A client-chosen id the host did not issue owns no copies (its calls that need one are
    // refused); no id at all (2026-07-28, or legacy without the header): per-call copies.
    settings.workspace_session = session;
    auto proto = std::make_shared<Protocol>(host, settings, [ex](const Outgoing& m) {
      std::lock_guard<std::mutex> l(ex->mu);
      ex->messages.push_back(m);
      if (m.response) ex->answered = true;
      ex->cv.notify_all();
    });
    bool is_call = is_request && msg["method"] == "tools/call" && !session.empty();
    std::string key = is_call ? call_key(settings.principal, session, msg["id"]) : std::string();
    if (is_call) {
      std::lock_guard<std::mutex> l(calls_mu);
      calls[key] = proto;
    }
    auto unregister = [&calls_mu, &calls, key] {
      if (key.empty()) return;
      std::lock_guard<std::mutex> l(calls_mu);
      calls.erase(key);
    };
    proto->handle(req.body);
    if (!is_request) {
      std::lock_guard<std::mutex> l(ex->mu);
      if (is_message && ex->messages.empty()) {
        res.set_status(202);  // notifications and responses: accepted, no body
        return;
      }
      res.set_status(400);
      res.set_content(ex->messages.empty() ? jsonrpc_error(kInvalidRequest, "Invalid Request")
                                           : ex->messages.front().json,
                      "application/json");
      return;
    }
    // A call refused at admission is answered 429 whatever the client accepts: nothing streams.
    bool refused_now = false;
    {
      std::lock_guard<std::mutex> l(ex->mu);
      for (const auto& m : ex->messages) refused_now = refused_now || is_busy_answer(m);
    }
    bool sse = req.get_header_value("Accept").find("text/event-stream") != std::string::npos &&
               msg["method"] == "tools/call" && !refused_now;
    // The connection, watched while the call runs: a client that goes away cancels its call
    // (the 2026-07-28 revision's only cancellation on HTTP; any revision's disconnect).
    int conn = msg["method"] == "tools/call" ? connection_fd(req) : -1;
    if (sse) {
      // Streamed: progress notifications, then the response. A client that goes away is noticed
      // by the socket turning readable with EOF (checked every 250 ms) or by a failed write (a
      // comment line every second), and its call is stopped.
      res.set_header("X-Accel-Buffering", "no");  // proxies must not hold events back
      res.set_chunked_content_provider(
          "text/event-stream",
          [ex, proto, conn, ticks = 0](size_t, HttpSink& sink) mutable {
            std::unique_lock<std::mutex> l(ex->mu);
            ex->cv.wait_for(l, std::chrono::milliseconds(250), [&] { return !ex->messages.empty(); });
            if (ex->messages.empty() && !ex->answered && peer_gone(conn)) {
              l.unlock();
              proto->cancel_all_and_wait();
              return false;
            }
            if (ex->messages.empty() && ++ticks % 4 != 0) return true;
            if (ex->messages.empty() && !ex->answered && proto->idle()) {
              sink.done();  // cancelled: the stream ends without a response
              return true;
            }
            if (ex->messages.empty()) {
              l.unlock();
              if (!sink.write(": waiting\n\n", 11)) {
                proto->cancel_all_and_wait();
                return false;
              }
              return true;
            }
            std::string m = std::move(ex->messages.front().json);
            ex->messages.pop_front();
            bool last = ex->answered && ex->messages.empty();
            l.unlock();
            std::string event = "event: message\ndata: " + m + "\n\n";
            if (!sink.write(event.data(), event.size())) {
              proto->cancel_all_and_wait();
              return false;
            }
            if (last) sink.done();
            return true;
          },
          [proto, unregister](bool) {
            unregister();
            proto->cancel_all_and_wait();
          });
      return;
    }
    std::unique_lock<std::mutex> l(ex->mu);
    // A cancelled call sends no response: stop waiting once nothing is in flight. Meanwhile
    // watch the connection: a client that closed it has its call stopped now, not at the end.
    bool gone = false;
    while (!ex->answered) {
      ex->cv.wait_for(l, std::chrono::milliseconds(100), [&] { return ex->answered; });
      if (ex->answered) break;
      l.unlock();
      if (peer_gone(conn)) {
        gone = true;
        proto->cancel_all_and_wait();
      }
      bool idle = proto->idle();
      l.lock();
      if (gone || (idle && !ex->answered)) break;
    }
    unregister();
    if (!ex->answered || gone) {
      res.set_status(204);  // cancelled: no response (the client stopped waiting)
      return;
    }
    // Only the response: notifications (progress, log) need a stream.
    for (const auto& m : ex->messages) {
      if (m.response) {
        if (is_busy_answer(m)) {
          // Over the server's or the principal's share: 429, as HTTP says, with when to retry;
          // sent when that second has passed. A client that retries the moment it is answered
          // (ignoring Retry-After) then sends at most one refused request a second on each of
          // its connections, instead of as many as the server can answer: refusals flood
          // neither the server's event loop and workers nor the cores the other principals'
          // calls run on. The connection is held without a worker (counted against the
          // connection caps, as any open connection is).
          res.set_status(429);
          res.set_header("Retry-After", std::to_string(kBusyRetryAfterS));
          res.set_delay(kBusyRetryAfterS * 1000);
        } else if (modern && m.error != 0) {
          // 2026-07-28 status codes: a method this server lacks is 404 (so a client can tell it
          // from a legacy server's), a request it cannot serve as sent is 400. (An error is a
          // small message of our own: read again for its text.)
          Json j = json::parse(m.json, json::Limits{m.json.size(), kMaxJsonDepth}).value_or(nullptr);
          int code = m.error;
          std::string text = j.is_object() && j["error"].is_object() ? j["error"].value("message", std::string())
                                                                     : std::string();
          if (code == kMethodNotFound) {
            res.set_status(404);
          } else if (code == kUnsupportedProtocolVersion || code == kMissingRequiredClientCapability ||
                     code == kHeaderMismatch || code == kInvalidRequest || code == kParseError ||
                     (code == kInvalidParamsCode && text.rfind("Invalid params: _meta.", 0) == 0)) {
            res.set_status(400);
          }
        }
        res.set_content(m.json, "application/json");
        break;
      }
    }
  };
  auto not_allowed = [&, host, scheduler](const HttpReq& req, HttpRes& res) {
    if (req.is_metrics()) {  // admitted: GET with the metrics token
      Scheduler::Snapshot snap = scheduler->snapshot();
      for (const auto& [principal, held] : host->sessions_by_principal()) {
        if (!principal.empty()) add_sessions(snap, principal, held.first, held.second);
      }
      res.set_content(prometheus_text(snap), "text/plain; version=0.0.4; charset=utf-8");
      return;
    }
    // DELETE ends a session its principal opened here (transports/streamable-http, "Session
    // Management"): its unchanged workspace copies are deleted at once, changed ones kept for
    // review, its share of sessions freed, and requests under its id get 404 from then on. An
    // id this replica did not issue to that principal (another's, invented, expired, another
    // replica's): 404, as for any unknown session.
    // (The 2026-07-28 revision has no sessions: its DELETE is 405, as its GET.)
    if (req.method() == "DELETE" && req.get_header_value("MCP-Protocol-Version") != kStatelessVersion) {
      std::string id = clean_id(req.get_header_value("Mcp-Session-Id"));
      if (id.empty()) {
        res.set_status(400);
        res.set_content(jsonrpc_error(kInvalidRequest, "Bad Request: DELETE needs the Mcp-Session-Id to end"),
                        "application/json");
      } else if (host->terminate_session(id, principal_of(req))) {
        res.set_status(204);
      } else {
        res.set_status(404);
        res.set_content(jsonrpc_error(kSessionNotFound, "Session not found"), "application/json");
      }
      return;
    }
    // No server-initiated stream (GET).
    res.set_status(405);
    res.set_header("Allow", "POST, DELETE");
  };

  // Every request to /mcp, on one of the module's workers. Nothing may unwind into the module.
  struct Routes {
    const wasmcap_httpd_api* api;
    std::function<bool(const HttpReq&, HttpRes&)> admit;
    std::function<void(const HttpReq&, HttpRes&)> post, other;
  } routes{api, admit, post, not_allowed};
  wasmcap_httpd_config config{};
  // Enough workers for every admitted call plus a few for quick requests; beyond that, complete
  // requests wait in the module's queue and the Scheduler answers "server busy" for calls over the
  // limit. Reading requests takes no worker (the module's event loop does it).
  config.workers = so.max_concurrency + so.max_queue + 4;
  config.max_payload = so.max_message_bytes;
  config.max_header_bytes = options.max_header_bytes;
  config.max_header_count = options.max_header_count;
  config.max_connections = options.max_connections;
  // A peer may always hold as many connections as the server admits calls (running + queued +
  // the workers' spare): a client with a legitimate burst meets "server busy", not resets.
  config.max_connections_per_peer =
      options.max_connections_per_peer == 0 ? 0 : std::max(options.max_connections_per_peer, config.workers);
  config.header_timeout_ms = options.header_timeout_ms;
  config.body_timeout_ms = options.body_timeout_ms;
  config.idle_timeout_s = options.idle_timeout_s;
  config.keep_alive_max = 100;
  config.path = "/mcp";
  config.path2 = metrics_token.empty() ? nullptr : kMetricsPath;
  config.user = &routes;
  // On the module's event loop, headers in, body unread: quick checks only (no I/O, no locks).
  config.admit = [](void* user, const char* method, const wasmcap_httpd_req* q, wasmcap_httpd_res* r) -> int {
    auto* rt = static_cast<Routes*>(user);
    HttpRes res{rt->api, r};
    try {
      HttpReq req(rt->api, q);
      req.verb = method;
      return rt->admit(req, res) ? 1 : 0;
    } catch (...) {
      res.set_status(500);
      res.set_content(jsonrpc_error(kInternalError, "Internal error"), "application/json");
      return 0;
    }
  };
  config.handler = [](void* user, const char* method, const wasmcap_httpd_req* q, wasmcap_httpd_res* r) {
    auto* rt = static_cast<Routes*>(user);
    HttpRes res{rt->api, r};
    try {
      HttpReq req(rt->api, q);
      req.verb = method;
      (std::string_view(method) == "POST" ? rt->post : rt->other)(req, res);
    } catch (...) {
      res.set_status(500);
      res.set_content(jsonrpc_error(kInternalError, "Internal error"), "application/json");
    }
  };
  std::unique_ptr<wasmcap_httpd_server, void (*)(wasmcap_httpd_server*)> svr(api->create(&config),
                                                                               api->destroy);
  if (!svr) return make_error(ErrorCode::kInternal, "the HTTP transport module could not create a server");
  int port = api->bind(svr.get(), options.host.c_str(), options.port);
  if (port < 0) {
    return make_error(ErrorCode::kIo, options.port == 0 ? "cannot bind " + options.host
                                                        : "cannot bind " + options.host + ":" +
                                                              std::to_string(options.port) +
                                                              " (in use? permission?)");
  }
  if (options.on_listening) options.on_listening(static_cast<uint16_t>(port));
  std::thread watcher;
  std::atomic<bool> finished{false};
  if (stop != nullptr) {
    watcher = std::thread([&] {
      while (!finished.load() && !stop->load()) std::this_thread::sleep_for(std::chrono::milliseconds(50));
      api->stop(svr.get());
    });
  }
  bool ok = api->listen(svr.get()) != 0;
  finished.store(true);
  if (watcher.joinable()) watcher.join();
  if (!ok && (stop == nullptr || !stop->load())) {
    return make_error(ErrorCode::kIo, "the HTTP server stopped unexpectedly");
  }
  return {};
}

}  // namespace wasmcap::mcp

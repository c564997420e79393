// The https host API, host side: the only way a plugin reaches the network.
//
// A Client enforces one plugin's HttpsPlan (the intersection of its manifest and the host config)
// plus the operator's NetworkConfig for every request: strict URL parsing (https only), grant
// match on host + method + path prefix, public-address check on the resolved addresses with the
// connection pinned to exactly the checked address, re-checks on every redirect hop, bounds on
// request and response, secret injection by reference (never into guest memory), and one audit
// event per request (see wasmcap/audit.h). The guest-facing ABI that sits on top of it is
// documented in docs/abi-https.md.
//
// Split of responsibilities:
//   - src/https/        this header: policy checks, the libcurl transfer, secrets, audit events;
//   - src/https/abi*    the wasmcap_https import module (guest memory <-> Request/Response).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "wasmcap/error.h"
#include "wasmcap/policy.h"

namespace wasmcap {
namespace audit {
class Sink;
}

namespace https {

// Structured failure codes, stable strings in the guest ABI and the audit log.
// X-macro: (enumerator, stable name).
#define WASMCAP_HTTPS_ERRORS(X)                  \
  X(kGrantDenied, "grant_denied")                \
  X(kUrlRejected, "url_rejected")                \
  X(kPrivateAddress, "private_address")          \
  X(kMethodNotAllowed, "method_not_allowed")     \
  X(kRequestTooLarge, "request_too_large")       \
  X(kRedirectDenied, "redirect_denied")          \
  X(kTooManyRedirects, "too_many_redirects")     \
  X(kTimeout, "timeout")                         \
  X(kResponseTooLarge, "response_too_large")     \
  X(kTlsError, "tls_error")                      \
  X(kNetworkError, "network_error")              \
  X(kRateLimited, "rate_limited")                \
  X(kUnscrubbableResponse, "unscrubbable_response")

enum class HttpsError : uint8_t {
#define WASMCAP_X(e, name) e,
  WASMCAP_HTTPS_ERRORS(WASMCAP_X)
#undef WASMCAP_X
};

// "grant_denied", ...
std::string_view https_error_name(HttpsError e);

// Headers the host controls, whatever a plugin asks (Host, the framing and hop-by-hop headers,
// Proxy-*): Client::fetch denies a request that names one; wasi:http's fields refuse them as
// `forbidden` (Content-Length excepted there: wasi:http checks it against the body).
bool is_host_controlled_header(std::string_view name);

struct Header {
  std::string name;
  std::string value;  // in a Request, "secret:NAME" is a reference to the operator's secret NAME
};

struct Request {
  std::string method;  // uppercase token: GET, POST, ...
  std::string url;
  std::vector<Header> headers;
  std::string body;
  // Over the response-size bound: fail with response_too_large instead of truncating.
  bool strict = false;
  // The run's own bounds (the ABI takes them from HostContext::limits): the transfer, name
  // resolution included, ends at the earlier of this deadline and the grant's timeout_ms, and as
  // soon as *interrupt is set (failure: timeout). Defaults: no run deadline, no interrupt.
  std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max();
  const std::atomic<bool>* interrupt = nullptr;
  // Shorter bounds the plugin asked for (wasi:http request-options), each per hop; zero: none.
  // They only shorten the operator's: the connection within min(connect_timeout, the grant's
  // connect_timeout_ms); the response's first byte within first_byte_timeout of the request
  // being sent (the connection and TLS made);
  // no pause between response bytes longer than between_bytes_timeout. The last two are checked
  // as libcurl reports progress (at least once a second while the transfer waits), so a transfer
  // ends within about a second after either passes. Failure: timeout, naming which.
  std::chrono::milliseconds connect_timeout{0};
  std::chrono::milliseconds first_byte_timeout{0};
  std::chrono::milliseconds between_bytes_timeout{0};
};

// A request's sizes as the guest declared them, read from the call's arguments before any of
// its bytes are copied into host memory (the ABI's pre-copy check, Client::precheck).
struct RequestShape {
  std::string method;         // copied (at most kMaxMethodBytes of the ABI)
  std::string url;            // copied only when url_bytes <= kAbiMaxUrlBytes; else empty
  uint64_t url_bytes = 0;
  uint64_t header_count = 0;
  uint64_t header_bytes = 0;  // sum over headers of name + value + 4 ("Name: value\r\n")
  uint64_t body_bytes = 0;
};

struct Response {
  uint16_t status = 0;
  std::vector<Header> headers;  // after scrubbing (secret values replaced)
  std::string body;             // after scrubbing; at most the response-size bound
  bool truncated = false;       // the body was cut at the bound
};

// A refused or failed request. The message tells the plugin author what happened and never
// contains a secret value.
struct Failure {
  HttpsError code = HttpsError::kNetworkError;
  std::string message;
  // For kTimeout: which bound ended the request (the plugin's own bounds: Request).
  enum class Timeout : uint8_t { kTransfer, kConnect, kFirstByte, kBetweenBytes } timeout = Timeout::kTransfer;
};

using Outcome = tl::expected<Response, Failure>;

// The TCP connect step, injectable so tests can prove that a denied request never reached the
// network (a recorder that fails the test when called) without naming a reachable address.
// Production: nullptr (libcurl connects to the pinned, checked address).
using ConnectObserver = std::function<void(const policy::IpAddress& address, uint16_t port)>;

// Name resolution, injectable so tests can play a DNS-rebinding resolver. Returns every address
// the name resolves to (all of them are checked; the connection goes to the first). An error's
// message is shown to the plugin as a network_error. Production: nullptr (getaddrinfo). Names
// pinned by network.resolve never reach the resolver. It is called on a thread of its own that
// the request waits for only until its deadline: it must be thread-safe, and one that stalls may
// still be running (holding its copy of the function) after the request has failed.
using Resolver = std::function<Result<std::vector<policy::IpAddress>>(const std::string& host)>;

// Defaults for the operator's bounds (policy::HttpsBounds), used when the grant leaves one unset.
// Each is the safe end of "enough for a tool call"; docs/https.md explains them.
inline constexpr uint64_t kDefaultMaxRedirects = 0;                // redirects off unless granted
inline constexpr uint64_t kDefaultMaxResponseBytes = 1u << 20;     // 1 MiB body to the plugin
inline constexpr uint64_t kDefaultMaxRequestBytes = 1u << 20;      // 1 MiB request body
inline constexpr uint64_t kDefaultTimeoutMs = 10000;               // whole request, all hops
inline constexpr uint64_t kDefaultConnectTimeoutMs = 5000;         // each TCP + TLS connect
inline constexpr uint64_t kDefaultMaxRequests = 100;               // per Client (one invocation)
inline constexpr uint64_t kDefaultMaxRequestHeaders = 64;          // header lines from the plugin
inline constexpr uint64_t kDefaultMaxRequestHeaderBytes = 16384;   // their total size
inline constexpr uint64_t kDefaultMaxUrlBytes = 8192;              // the URL as given
inline constexpr uint64_t kDefaultMaxResponseHeaderBytes = 65536;  // all response header lines
// Hard maximums of the ABI's pre-copy check, whatever the client (the largest values a host
// config may set): a request over one is refused before any of its bytes are copied.
inline constexpr uint64_t kAbiMaxUrlBytes = 1u << 16;              // max_url_bytes cap
inline constexpr uint64_t kAbiMaxRequestHeaderBytes = 1u << 20;    // max_request_header_bytes cap
inline constexpr uint64_t kAbiMaxRequestBytes = 1u << 30;          // max_request_bytes cap
// Not configurable: a response with more header lines than this is refused (response_too_large).
inline constexpr uint64_t kMaxResponseHeaders = 256;
// A secret file larger than this is refused by Client::create (a header value, not a blob).
inline constexpr uint64_t kMaxSecretBytes = 16384;

struct ClientOptions {
  std::string plugin;         // for audit events
  std::string invocation_id;  // for audit events; one per run
  std::shared_ptr<audit::Sink> audit;  // may be null: no audit output (embedders' choice)
  ConnectObserver on_connect;          // called just before each connection attempt
  Resolver resolver;                   // nullptr: getaddrinfo
};

class Client {
 public:
  virtual ~Client() = default;

  // Creates a client for one plugin invocation. Loads secret values from the files the host
  // config names (errors name the secret and file, never the value). Fails closed: an unreadable
  // secret or CA file is an error here, not a per-request surprise.
  static Result<std::unique_ptr<Client>> create(const policy::HttpsPlan& plan,
                                                const policy::NetworkConfig& network,
                                                ClientOptions options);

  // Performs one request synchronously under the plan. Every call (allowed or denied) produces
  // exactly one audit event. Denials happen before any DNS lookup or connection.
  virtual Outcome fetch(const Request& request) = 0;

  // The check the ABI makes on a request's declared sizes before it copies any of its bytes:
  // max_requests first, then max_url_bytes, max_request_headers, max_request_header_bytes and
  // max_request_bytes. A refusal counts as a request and produces its one audit event (with the
  // method and, when it was copied, the redacted URL; never headers or body); nullopt means
  // "copy the request and call fetch()", which checks everything again. The default (for
  // embedders' own clients) applies only the ABI's hard maximums above and audits nothing.
  virtual std::optional<Failure> precheck(const RequestShape& shape);

  // The ABI's hard maximums alone (the default precheck; the ABI re-applies them after any).
  static std::optional<Failure> precheck_maximums(const RequestShape& shape);
};

inline std::optional<Failure> Client::precheck(const RequestShape& shape) {
  return precheck_maximums(shape);
}

inline std::optional<Failure> Client::precheck_maximums(const RequestShape& shape) {
  if (shape.url_bytes > kAbiMaxUrlBytes || shape.header_bytes > kAbiMaxRequestHeaderBytes ||
      shape.body_bytes > kAbiMaxRequestBytes) {
    return Failure{HttpsError::kRequestTooLarge,
                   "the request is larger than the https ABI accepts (URL 64 KiB, headers 1 MiB, "
                   "body 1 GiB)"};
  }
  return std::nullopt;
}

}  // namespace https
}  // namespace wasmcap

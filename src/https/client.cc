// The https host API client: every rule of docs/https.md, in the order a request meets them.
//
//   1. rate limit, URL length          (before anything else: cheap, stops floods)
//   2. strict URL parse (https only)   url_rejected
//   3. grant match (host, path, method) grant_denied / method_not_allowed
//   4. headers, secrets, body bounds   grant_denied / request_too_large
//   5. resolve + check every address   private_address / network_error
//   6. transfer pinned to the checked address (libcurl; no second resolution)
//   7. redirects: back to 2-5 for each hop, failures become redirect_denied
//   8. response bounds, secret scrubbing, one audit record
//
// Steps 1-4 happen before any DNS lookup or connection. Steps 5-6's mechanics (the bounded
// lookup, the pinned socket, libcurl's callbacks that bound the response) are in transfer.cc.
#include <arpa/inet.h>
#include <curl/curl.h>
#include <fcntl.h>
#include <netdb.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <climits>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <optional>
#include <set>
#include <thread>

#include "https/address.h"
#include "https/transfer.h"
#include "https/url.h"
#include "wasmcap/audit.h"
#include "wasmcap/https.h"

namespace wasmcap::https {

std::string_view https_error_name(HttpsError e) {
  switch (e) {
#define WASMCAP_X(e, name) \
  case HttpsError::e:      \
    return name;
    WASMCAP_HTTPS_ERRORS(WASMCAP_X)
#undef WASMCAP_X
  }
  return "network_error";
}

namespace {

using transfer::Clock;
using namespace transfer;  // the lookup and the transfer's callbacks (transfer.h)

double ms_since(Clock::time_point t) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t).count();
}

tl::unexpected<Failure> failure(HttpsError code, std::string message) {
  return tl::unexpected<Failure>(Failure{code, std::move(message)});
}

// The methods a grant can name (policy::HttpsRule), in canonical order.
constexpr std::string_view kMethods[] = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"};

tl::unexpected<Failure> timeout_failure(Failure::Timeout which, std::string message) {
  Failure f{HttpsError::kTimeout, std::move(message)};
  f.timeout = which;
  return tl::unexpected<Failure>(std::move(f));
}

// Whether the transfer's TCP connection was made (libcurl records its time once it is).
bool connected(CURL* c) {
  curl_off_t t = 0;
  return curl_easy_getinfo(c, CURLINFO_CONNECT_TIME_T, &t) == CURLE_OK && t > 0;
}

bool known_method(std::string_view m) {
  return std::find(std::begin(kMethods), std::end(kMethods), m) != std::end(kMethods);
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
  return out;
}

// RFC 9110 token characters.
bool is_token(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    unsigned char u = static_cast<unsigned char>(c);
    if (std::isalnum(u)) continue;
    if (std::strchr("!#$%&'*+-.^_`|~", c) != nullptr && c != '\0') continue;
    return false;
  }
  return true;
}

// Header values may not contain CR, LF, NUL or other controls (tab allowed): a CR/LF would let
// a plugin inject headers or a second request.
bool is_header_value(std::string_view s) {
  for (char c : s) {
    unsigned char u = static_cast<unsigned char>(c);
    if ((u < 0x20 && u != '\t') || u == 0x7f) return false;
  }
  return true;
}

// Header names a redirect to another origin must not carry when they hold literal credentials.
bool is_credential_header(std::string_view name) {
  std::string n = lower(name);
  return n == "authorization" || n == "cookie";
}

// Request headers that select a compressed or partial representation of the response. Refused
// on a request that carries a secret (TE is forbidden for every request).
bool is_representation_header(std::string_view name) {
  std::string n = lower(name);
  return n == "accept-encoding" || n == "range" || n == "if-range";
}

// Response headers that hash the body.
bool is_body_digest_header(std::string_view name) {
  std::string n = lower(name);
  return n == "content-md5" || n == "digest" || n == "content-digest" || n == "repr-digest";
}

std::string trim_lower(std::string_view v) {
  while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
  while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
  return lower(v);
}

// Why a response header makes the body unreadable for the scrubber, or nullopt.
std::optional<std::string> unscrubbable(const Header& h) {
  std::string n = lower(h.name);
  std::string v = trim_lower(h.value);
  if (n == "content-encoding" && !v.empty() && v != "identity") {
    return "Content-Encoding: " + h.value.substr(0, 64);
  }
  // libcurl decodes chunked (and only chunked, CURLOPT_TRANSFER_ENCODING being off).
  if (n == "transfer-encoding" && !v.empty() && v != "chunked" && v != "identity") {
    return "Transfer-Encoding: " + h.value.substr(0, 64);
  }
  if (n == "content-range") return std::string("a Content-Range (a partial body)");
  return std::nullopt;
}

std::string rule_text(const policy::HttpsRule& r) {
  std::string methods;
  for (const auto& m : r.methods) methods += (methods.empty() ? "" : ",") + m;
  return methods + " " + r.host + " " + r.path_prefix;
}

struct Secret {
  std::string name;
  std::string value;
  std::vector<std::string> hosts;
};

bool secret_allowed_for(const Secret& s, std::string_view host) {
  for (const auto& h : s.hosts) {
    if (policy::host_matches(h, host)) return true;
  }
  return false;
}

struct Bounds {
  uint64_t max_redirects, max_response_bytes, max_request_bytes, timeout_ms, connect_timeout_ms,
      max_requests, max_request_headers, max_request_header_bytes, max_url_bytes,
      max_response_header_bytes;
};

Bounds resolve_bounds(const policy::HttpsBounds& b) {
  return Bounds{b.max_redirects.value_or(kDefaultMaxRedirects),
                b.max_response_bytes.value_or(kDefaultMaxResponseBytes),
                b.max_request_bytes.value_or(kDefaultMaxRequestBytes),
                b.timeout_ms.value_or(kDefaultTimeoutMs),
                b.connect_timeout_ms.value_or(kDefaultConnectTimeoutMs),
                b.max_requests.value_or(kDefaultMaxRequests),
                b.max_request_headers.value_or(kDefaultMaxRequestHeaders),
                b.max_request_header_bytes.value_or(kDefaultMaxRequestHeaderBytes),
                b.max_url_bytes.value_or(kDefaultMaxUrlBytes),
                b.max_response_header_bytes.value_or(kDefaultMaxResponseHeaderBytes)};
}

// A header the client will send: `secret` indexes Client::secrets_ when the plugin gave a
// reference (value then holds the secret's value), -1 for a literal.
struct OutHeader {
  std::string name;
  std::string value;
  int secret = -1;
};

Result<std::string> read_secret_file(const policy::SecretRef& ref) {
  auto io = [&](const std::string& what) {
    return make_error(ErrorCode::kIo, "secret " + ref.name + ": " + what + " " + ref.ref +
                                          " (check host_api.https.secrets." + ref.name +
                                          ".file in the host config)");
  };
  int fd = ::open(ref.ref.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) return io(std::string("cannot open (") + std::strerror(errno) + ")");
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return io("is not a regular file:");
  }
  if (static_cast<uint64_t>(st.st_size) > kMaxSecretBytes) {
    ::close(fd);
    return io("is larger than " + std::to_string(kMaxSecretBytes) + " bytes:");
  }
  std::string value;
  char buf[4096];
  while (true) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      ::close(fd);
      return io(std::string("cannot read (") + std::strerror(errno) + ")");
    }
    if (n == 0) break;
    value.append(buf, static_cast<size_t>(n));
    if (value.size() > kMaxSecretBytes) {
      ::close(fd);
      return io("is larger than " + std::to_string(kMaxSecretBytes) + " bytes:");
    }
  }
  ::close(fd);
  // Files written by editors and `echo` end in a newline that is not part of the credential.
  if (!value.empty() && value.back() == '\n') value.pop_back();
  if (!value.empty() && value.back() == '\r') value.pop_back();
  if (value.empty()) {
    return make_error(ErrorCode::kConfigInvalid,
                      "secret " + ref.name + ": the file " + ref.ref + " is empty");
  }
  if (!is_header_value(value)) {
    return make_error(ErrorCode::kConfigInvalid,
                      "secret " + ref.name + ": the file " + ref.ref +
                          " contains control characters (a secret is sent as one header value)");
  }
  return value;
}

class ClientImpl final : public Client {
 public:
  ClientImpl(policy::HttpsPlan plan, policy::NetworkConfig network, ClientOptions options,
             std::vector<Secret> secrets, std::string cainfo, std::string capath)
      : plan_(std::move(plan)),
        network_(std::move(network)),
        options_(std::move(options)),
        secrets_(std::move(secrets)),
        cainfo_(std::move(cainfo)),
        capath_(std::move(capath)),
        bounds_(resolve_bounds(plan_.bounds)) {
    for (const auto& s : secrets_) {
      secret_values_.push_back(s.value);
      max_secret_len_ = std::max(max_secret_len_, s.value.size());
    }
  }

  Outcome fetch(const Request& request) override;
  std::optional<Failure> precheck(const RequestShape& shape) override;

 private:
  struct Context {
    Clock::time_point start = Clock::now();
    audit::Event event;
  };

  struct Refusal {
    HttpsError code;
    std::string message;
    std::string rule;
  };
  // max_requests (counting this request: `n` is its number) and the size bounds, in that order.
  std::optional<Refusal> check_sizes(uint64_t n, uint64_t url_bytes, uint64_t header_count,
                                     uint64_t header_bytes, uint64_t body_bytes) const;
  // A fresh record for request number `n`.
  Context start_context(uint64_t n, std::string_view method) const;
  // The `https_attempt` record, written before a hop's request leaves the host.
  // The request does not go out when it fails (record or refuse, docs/audit.md).
  Result<void> audit_attempt(const Context& ctx, uint64_t hop, const ParsedUrl& url,
                             const policy::IpAddress& address, const std::string& method,
                             const std::vector<OutHeader>& headers, uint64_t body_bytes) const;

  Outcome finish(Context& ctx, Outcome outcome);
  Outcome deny(Context& ctx, HttpsError code, std::string message, std::string rule);

  // Grant match for one URL + method: the matching rule's text, or the failure.
  tl::expected<std::string, Failure> match_grant(const ParsedUrl& url, std::string_view method) const;
  // Resolves (or takes the literal / pinned address) and checks every candidate.
  tl::expected<policy::IpAddress, Failure> destination(const ParsedUrl& url, Context& ctx,
                                                      Clock::time_point deadline,
                                                      const std::atomic<bool>* interrupt) const;
  struct HopResult {
    uint16_t status = 0;
    std::vector<Header> headers;
    std::string body;
    bool over = false;
  };
  tl::expected<HopResult, Failure> transfer(const ParsedUrl& url, const policy::IpAddress& address,
                                            const std::string& method, const std::string& body,
                                            const std::vector<OutHeader>& headers, const Request& request,
                                            Clock::time_point deadline, bool run_deadline,
                                            Context& ctx) const;

  policy::HttpsPlan plan_;
  policy::NetworkConfig network_;
  ClientOptions options_;
  std::vector<Secret> secrets_;
  std::vector<std::string> secret_values_;
  size_t max_secret_len_ = 0;
  std::string cainfo_;
  std::string capath_;
  Bounds bounds_;
  std::atomic<uint64_t> requests_{0};
};

Outcome ClientImpl::finish(Context& ctx, Outcome outcome) {
  audit::Event& e = ctx.event;
  if (outcome) {
    e.status = outcome->status;
    e.response_bytes = outcome->body.size();
    e.truncated = outcome->truncated;
    e.response_headers.clear();
    for (const auto& h : outcome->headers) e.response_headers.emplace_back(h.name, h.value);
  } else {
    // Messages can quote server-provided text (curl errors, Location values): scrub them too.
    outcome.error().message = audit::scrub(outcome.error().message, secret_values_);
    e.error = std::string(https_error_name(outcome.error().code));
    e.message = outcome.error().message;
  }
  if (e.decision.empty()) e.decision = "allowed";
  e.durations.total_ms = ms_since(ctx.start);
  if (options_.audit) options_.audit->write(audit::to_json_line(e, secret_values_));
  return outcome;
}

Outcome ClientImpl::deny(Context& ctx, HttpsError code, std::string message, std::string rule) {
  ctx.event.decision = "denied";
  ctx.event.rule = std::move(rule);
  return finish(ctx, failure(code, std::move(message)));
}

tl::expected<std::string, Failure> ClientImpl::match_grant(const ParsedUrl& url,
                                                           std::string_view method) const {
  bool host_and_path = false;
  for (const auto& rule : plan_.allow) {
    // Segment-aware: a grant for "/v1" must not also cover "/v1-admin".
    if (!policy::host_matches(rule.host, url.host) || !path_has_prefix(url.path, rule.path_prefix)) {
      continue;
    }
    host_and_path = true;
    if (std::find(rule.methods.begin(), rule.methods.end(), method) != rule.methods.end()) {
      return rule_text(rule);
    }
  }
  if (host_and_path) {
    return failure(HttpsError::kMethodNotAllowed,
                   "method " + std::string(method) + " is not granted for https://" +
                       url.authority_host() + url.path +
                       " (add it to the grant's \"methods\" in the manifest and host config)");
  }
  return failure(HttpsError::kGrantDenied,
                 "no https grant covers " + url.authority_host() + url.path +
                     " (grants: host_api.https.allow in the manifest and the host config)");
}

tl::expected<policy::IpAddress, Failure> ClientImpl::destination(
    const ParsedUrl& url, Context& ctx, Clock::time_point deadline,
    const std::atomic<bool>* interrupt) const {
  std::vector<policy::IpAddress> candidates;
  if (url.literal) {
    candidates.push_back(*url.literal);
  } else {
    for (const auto& [name, address] : network_.resolve) {
      if (name == url.host) candidates.push_back(address);
    }
    if (candidates.empty()) {
      auto t0 = Clock::now();
      auto bounded = bounded_resolve(options_.resolver, url.host, deadline, interrupt);
      ctx.event.durations.dns_ms += ms_since(t0);
      if (!bounded) {
        return failure(HttpsError::kTimeout,
                       bounded.error() == Stop::kInterrupt
                           ? "the run was interrupted while resolving " + url.host
                           : "resolving " + url.host + " did not finish before the deadline");
      }
      auto& r = *bounded;
      if (!r) return failure(HttpsError::kNetworkError, r.error().message);
      candidates = std::move(*r);
      if (candidates.empty()) {
        return failure(HttpsError::kNetworkError, "cannot resolve " + url.host + " (no addresses)");
      }
    }
  }
  // Every candidate must pass, not just the one used: a name that mixes public and private
  // answers is a rebinding attempt or a misconfiguration, and fails closed.
  for (const auto& a : candidates) {
    auto cls = classify_address(a);
    if (!cls) continue;
    bool allowed = false;
    for (const auto& cidr : network_.allow_private) allowed = allowed || cidr_contains(cidr, a);
    if (!allowed) {
      std::string via = url.literal ? "" : url.host + " resolves to ";
      return failure(HttpsError::kPrivateAddress,
                     via + a.to_string() + ", a " + *cls +
                         " address; plugins may reach only public addresses (operators can allow "
                         "a range with network.allow_private in the host config)");
    }
  }
  return candidates.front();
}

tl::expected<ClientImpl::HopResult, Failure> ClientImpl::transfer(
    const ParsedUrl& url, const policy::IpAddress& address, const std::string& method,
    const std::string& body, const std::vector<OutHeader>& headers, const Request& request,
    Clock::time_point deadline, bool run_deadline, Context& ctx) const {
  const bool strict = request.strict;
  const std::atomic<bool>* interrupt = request.interrupt;
  auto timed_out = [&]() {
    if (interrupt != nullptr && interrupt->load(std::memory_order_relaxed)) {
      return failure(HttpsError::kTimeout, "the run was interrupted during the request");
    }
    if (run_deadline) {
      return failure(HttpsError::kTimeout,
                     "the run's deadline ended the request (the run's timeout is shorter than "
                     "the grant's timeout_ms " + std::to_string(bounds_.timeout_ms) + " ms)");
    }
    return failure(HttpsError::kTimeout, "the request took longer than " +
                                             std::to_string(bounds_.timeout_ms) +
                                             " ms (timeout_ms in the host config)");
  };
  auto remaining = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  if (remaining.count() <= 0 || run_stop(deadline, interrupt) != Stop::kNone) return timed_out();
  Easy easy(curl_easy_init());
  if (!easy) return failure(HttpsError::kNetworkError, "internal: cannot create a transfer");
  CURL* c = easy.get();
  Transfer t;
  t.pinned = address;
  t.port = url.port;
  t.observer = &options_.on_connect;
  t.max_header_bytes = bounds_.max_response_header_bytes;
  // Keep the secret scrubbing window past the cap so a secret cut by truncation is still found.
  t.keep = static_cast<size_t>(bounds_.max_response_bytes) +
           (max_secret_len_ > 0 ? max_secret_len_ - 1 : 0);
  t.run_deadline = deadline;
  t.interrupt = interrupt;
  t.first_byte = request.first_byte_timeout;
  t.between_bytes = request.between_bytes_timeout;

  std::string target = url.url();
  Slist resolve;
  if (!url.literal) {
    // Pin the name to the checked address: libcurl never resolves it itself.
    std::string addr = address.v6 ? "[" + address.to_string() + "]" : address.to_string();
    if (!slist_append(resolve, url.host + ":" + std::to_string(url.port) + ":" + addr)) {
      return failure(HttpsError::kNetworkError, "internal: out of memory");
    }
  }
  Slist hdrs;
  bool ok = true;
  for (const auto& h : headers) {
    // "Name;" is curl's spelling of a header with an empty value ("Name:" would remove it).
    ok = ok && slist_append(hdrs, h.value.empty() ? h.name + ";" : h.name + ": " + h.value);
  }
  ok = ok && slist_append(hdrs, "Expect:");  // no 100-continue round trip
  if (!ok) return failure(HttpsError::kNetworkError, "internal: out of memory");

  char errbuf[CURL_ERROR_SIZE] = {0};
  uint64_t connect_bound = std::min<uint64_t>(bounds_.connect_timeout_ms, static_cast<uint64_t>(remaining.count()));
  const bool plugin_connect = request.connect_timeout.count() > 0 &&
                              static_cast<uint64_t>(request.connect_timeout.count()) < connect_bound;
  if (plugin_connect) connect_bound = static_cast<uint64_t>(request.connect_timeout.count());
  long connect_ms = static_cast<long>(std::min<uint64_t>(connect_bound, LONG_MAX));
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
  curl_easy_setopt(c, CURLOPT_URL, target.c_str());
  // Defence in depth: even if a URL slipped past parse_url, libcurl speaks only https.
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "https");
  curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "https");
  curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);  // redirects are followed here, re-checked
  curl_easy_setopt(c, CURLOPT_MAXREDIRS, 0L);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  if (resolve) curl_easy_setopt(c, CURLOPT_RESOLVE, resolve.get());
  curl_easy_setopt(c, CURLOPT_OPENSOCKETFUNCTION, open_socket);
  curl_easy_setopt(c, CURLOPT_OPENSOCKETDATA, &t);
  // No ambient configuration: no proxy from http(s)_proxy/ALL_PROXY, no .netrc, no cookies
  // (the cookie engine is off unless CURLOPT_COOKIEFILE is set), no HSTS/alt-svc caches.
  curl_easy_setopt(c, CURLOPT_PROXY, "");
  curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
  curl_easy_setopt(c, CURLOPT_NETRC, static_cast<long>(CURL_NETRC_IGNORED));
  // Trust: the system store (libcurl's built-in paths, never SSL_CERT_FILE & co) plus the
  // operator's network.ca_file.
  curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
  curl_easy_setopt(c, CURLOPT_SSLVERSION, static_cast<long>(CURL_SSLVERSION_TLSv1_2));
  curl_easy_setopt(c, CURLOPT_CAINFO, cainfo_.empty() ? nullptr : cainfo_.c_str());
  curl_easy_setopt(c, CURLOPT_CAPATH, capath_.empty() ? nullptr : capath_.c_str());
  // No automatic decompression: the body cap bounds exactly what the server sent.
  curl_easy_setopt(c, CURLOPT_HTTP_CONTENT_DECODING, 0L);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, std::max(1L, connect_ms));
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(std::max<int64_t>(1, remaining.count())));
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs.get());
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, &t);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &t);
  curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
  curl_easy_setopt(c, CURLOPT_XFERINFODATA, &t);
  if (request.first_byte_timeout.count() > 0) {
    curl_easy_setopt(c, CURLOPT_PREREQFUNCTION, on_prereq);
    curl_easy_setopt(c, CURLOPT_PREREQDATA, &t);
  }
  if (method == "HEAD") {
    curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
  } else if (method == "GET" && body.empty()) {
    curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
  } else {
    if (!body.empty() || method == "POST" || method == "PUT" || method == "PATCH") {
      curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
      curl_easy_setopt(c, CURLOPT_POSTFIELDS, body.data());
    }
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method.c_str());
  }

  CURLcode rc = curl_easy_perform(c);

  curl_off_t dns = 0, conn = 0, app = 0;
  curl_easy_getinfo(c, CURLINFO_NAMELOOKUP_TIME_T, &dns);
  curl_easy_getinfo(c, CURLINFO_CONNECT_TIME_T, &conn);
  curl_easy_getinfo(c, CURLINFO_APPCONNECT_TIME_T, &app);
  if (conn > dns) ctx.event.durations.connect_ms += static_cast<double>(conn - dns) / 1000.0;
  if (app > conn) ctx.event.durations.tls_ms += static_cast<double>(app - conn) / 1000.0;

  if (t.refused_address) {
    return failure(HttpsError::kNetworkError,
                   "refused a connection to an address the policy did not check (internal "
                   "error; please report it)");
  }
  if (t.headers_too_large) {
    return failure(HttpsError::kResponseTooLarge,
                   "the response headers exceed " + std::to_string(t.max_header_bytes) +
                       " bytes or " + std::to_string(kMaxResponseHeaders) +
                       " lines (max_response_header_bytes in the host config)");
  }
  if (t.late != Transfer::Late::kNone) {
    const bool first = t.late == Transfer::Late::kFirstByte;
    const auto ms = first ? request.first_byte_timeout : request.between_bytes_timeout;
    return timeout_failure(first ? Failure::Timeout::kFirstByte : Failure::Timeout::kBetweenBytes, std::string(first ? "no response from " : "the response from ") +
                                             url.authority_host() +
                                             (first ? " within the plugin's first-byte timeout of "
                                                    : " paused longer than the plugin's between-bytes timeout of ") +
                                             std::to_string(ms.count()) + " ms");
  }
  if (rc != CURLE_OK && !(rc == CURLE_WRITE_ERROR && t.over)) {
    std::string detail = errbuf[0] != '\0' ? errbuf : curl_easy_strerror(rc);
    if (rc == CURLE_ABORTED_BY_CALLBACK ||
        (rc == CURLE_OPERATION_TIMEDOUT && run_deadline &&
         Clock::now() + std::chrono::milliseconds(50) >= deadline)) {
      return timed_out();
    }
    if (rc == CURLE_OPERATION_TIMEDOUT && plugin_connect && !connected(c)) {
      return timeout_failure(Failure::Timeout::kConnect, "no connection to " + url.authority_host() +
                                               " within the plugin's connect timeout of " +
                                               std::to_string(connect_bound) + " ms");
    }
    if (rc == CURLE_OPERATION_TIMEDOUT) {
      return failure(HttpsError::kTimeout, "https://" + url.authority_host() + " did not answer in time (" +
                                               detail + "); limits: timeout_ms " +
                                               std::to_string(bounds_.timeout_ms) +
                                               ", connect_timeout_ms " +
                                               std::to_string(bounds_.connect_timeout_ms));
    }
    if (is_tls_failure(rc)) {
      return failure(HttpsError::kTlsError,
                     "TLS with " + url.authority_host() + " failed: " + detail +
                         " (the server's certificate must chain to the system CA store or to "
                         "network.ca_file)");
    }
    return failure(HttpsError::kNetworkError,
                   "request to " + url.authority_host() + " failed: " + detail);
  }
  if (t.over && strict) {
    return failure(HttpsError::kResponseTooLarge,
                   "the response body is larger than " + std::to_string(bounds_.max_response_bytes) +
                       " bytes (max_response_bytes in the host config; without strict the body "
                       "is truncated instead)");
  }
  long status = 0;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
  HopResult r;
  r.status = static_cast<uint16_t>(status);
  r.headers = std::move(t.headers);
  r.body = std::move(t.body);
  r.over = t.over;
  return r;
}

ClientImpl::Context ClientImpl::start_context(uint64_t n, std::string_view method) const {
  Context ctx;
  ctx.event.plugin = options_.plugin;
  ctx.event.invocation_id = options_.invocation_id;
  ctx.event.request = n;
  ctx.event.method = std::string(method);
  return ctx;
}

std::optional<ClientImpl::Refusal> ClientImpl::check_sizes(uint64_t n, uint64_t url_bytes,
                                                            uint64_t header_count,
                                                            uint64_t header_bytes,
                                                            uint64_t body_bytes) const {
  if (n > bounds_.max_requests) {
    return Refusal{HttpsError::kRateLimited,
                   "this invocation already made " + std::to_string(bounds_.max_requests) +
                       " requests (max_requests in the host config)",
                   "max_requests"};
  }
  if (url_bytes > bounds_.max_url_bytes) {
    return Refusal{HttpsError::kRequestTooLarge,
                   "the URL is " + std::to_string(url_bytes) + " bytes, over the " +
                       std::to_string(bounds_.max_url_bytes) + "-byte limit (max_url_bytes)",
                   "max_url_bytes"};
  }
  if (header_count > bounds_.max_request_headers) {
    return Refusal{HttpsError::kRequestTooLarge,
                   std::to_string(header_count) + " request headers, over the limit of " +
                       std::to_string(bounds_.max_request_headers) + " (max_request_headers)",
                   "max_request_headers"};
  }
  if (header_bytes > bounds_.max_request_header_bytes) {
    return Refusal{HttpsError::kRequestTooLarge,
                   "the request headers total " + std::to_string(header_bytes) +
                       " bytes, over the " + std::to_string(bounds_.max_request_header_bytes) +
                       "-byte limit (max_request_header_bytes)",
                   "max_request_header_bytes"};
  }
  if (body_bytes > bounds_.max_request_bytes) {
    return Refusal{HttpsError::kRequestTooLarge,
                   "the request body is " + std::to_string(body_bytes) + " bytes, over the " +
                       std::to_string(bounds_.max_request_bytes) +
                       "-byte limit (max_request_bytes)",
                   "max_request_bytes"};
  }
  return std::nullopt;
}

std::optional<Failure> ClientImpl::precheck(const RequestShape& shape) {
  // Nothing is counted unless the request is refused here: an accepted shape is counted once,
  // by the fetch() that follows.
  const uint64_t n = requests_.load() + 1;
  auto refusal = check_sizes(n, shape.url_bytes, shape.header_count, shape.header_bytes,
                             shape.body_bytes);
  if (!refusal) {
    if (auto hard = precheck_maximums(shape)) {
      refusal = Refusal{hard->code, hard->message, "abi_maximum"};
    }
  }
  if (!refusal) return std::nullopt;
  ++requests_;
  Context ctx = start_context(n, shape.method);
  // The record names what the guest asked for without copying it: the method and the redacted
  // URL when it was copied (within the ABI maximum); headers and body never.
  if (!shape.url.empty() && shape.url_bytes <= bounds_.max_url_bytes) {
    ctx.event.url = audit::redact_url(shape.url);
  }
  Outcome o = deny(ctx, refusal->code, std::move(refusal->message), std::move(refusal->rule));
  return o.error();
}

Result<void> ClientImpl::audit_attempt(const Context& ctx, uint64_t hop, const ParsedUrl& url,
                                       const policy::IpAddress& address, const std::string& method,
                                       const std::vector<OutHeader>& headers,
                                       uint64_t body_bytes) const {
  if (!options_.audit) return {};
  audit::Event a;
  a.event = audit::kEventAttempt;
  a.plugin = options_.plugin;
  a.invocation_id = options_.invocation_id;
  a.request = ctx.event.request;
  a.hop = hop;
  a.method = method;
  a.url = audit::redact_url(url.url());
  a.address = address.to_string();
  a.decision = "allowed";
  a.rule = ctx.event.rule;
  for (const auto& h : headers) a.request_headers.emplace_back(h.name, h.value);
  a.request_bytes = body_bytes;
  // The sink's write(2) returns before libcurl opens the connection: a request the server
  // received has this record even if the process is killed during the transfer.
  return options_.audit->append(audit::to_json_line(a, secret_values_));
}

Outcome ClientImpl::fetch(const Request& request) {
  uint64_t n = ++requests_;
  Context ctx = start_context(n, request.method);
  audit::Event& ev = ctx.event;

  // 1. Rate limit and every size bound: cheap checks first, so a flood costs the host little
  //    (the ABI makes the same checks before copying a request out of guest memory). A request
  //    refused here is audited without its headers.
  uint64_t header_bytes = 0;
  for (const auto& h : request.headers) header_bytes += h.name.size() + h.value.size() + 4;
  if (auto r = check_sizes(n, request.url.size(), request.headers.size(), header_bytes,
                           request.body.size())) {
    if (request.url.size() <= bounds_.max_url_bytes) ev.url = audit::redact_url(request.url);
    return deny(ctx, r->code, std::move(r->message), std::move(r->rule));
  }
  ev.url = audit::redact_url(request.url);
  // As the plugin gave them (a denial is audited with them too); replaced by the headers as sent
  // once the request is allowed. Sanitized when the record is serialized.
  for (const auto& h : request.headers) ev.request_headers.emplace_back(h.name, h.value);

  // 2. Strict parse.
  auto parsed = parse_url(request.url);
  if (!parsed) return deny(ctx, HttpsError::kUrlRejected, "URL rejected: " + parsed.error(), "url");
  ParsedUrl url = std::move(*parsed);
  ev.url = audit::redact_url(url.url());
  if (!known_method(request.method)) {
    return deny(ctx, HttpsError::kMethodNotAllowed,
                "method " + request.method +
                    " is not supported (one of GET HEAD POST PUT PATCH DELETE OPTIONS)",
                "method");
  }
  // 3. Grant.
  auto rule = match_grant(url, request.method);
  if (!rule) return deny(ctx, rule.error().code, rule.error().message, "grant");
  ev.rule = *rule;

  // 4. Headers and secrets.
  std::vector<OutHeader> out;
  std::string secret_sent;  // the name of a secret this request carries ("" if none)
  for (const auto& h : request.headers) {
    if (!is_token(h.name)) {
      return deny(ctx, HttpsError::kGrantDenied,
                  "invalid header name \"" + audit::scrub(h.name, secret_values_) + "\"", "headers");
    }
    if (is_host_controlled_header(h.name)) {
      return deny(ctx, HttpsError::kGrantDenied,
                  "the header " + h.name + " is set by the host, not by plugins", "headers");
    }
    if (!is_header_value(h.value)) {
      return deny(ctx, HttpsError::kGrantDenied,
                  "the value of header " + h.name + " contains control characters (CR, LF, NUL)",
                  "headers");
    }
    OutHeader o{h.name, h.value, -1};
    constexpr std::string_view kRef = "secret:";
    if (h.value.rfind(kRef, 0) == 0) {
      std::string name = h.value.substr(kRef.size());
      auto it = std::find_if(secrets_.begin(), secrets_.end(),
                             [&](const Secret& s) { return s.name == name; });
      if (it == secrets_.end()) {
        return deny(ctx, HttpsError::kGrantDenied,
                    "secret " + name + " (header " + h.name +
                        ") is not granted to this plugin (host_api.https.secrets)",
                    "secret " + name);
      }
      if (!secret_allowed_for(*it, url.host)) {
        return deny(ctx, HttpsError::kGrantDenied,
                    "secret " + name + " may be sent only to its bound hosts, not to " + url.host,
                    "secret " + name);
      }
      o.value = it->value;
      o.secret = static_cast<int>(it - secrets_.begin());
      secret_sent = name;
    }
    out.push_back(std::move(o));
  }
  if (!secret_sent.empty()) {
    // A response the scrubber can read whole: no compressed or partial representation of
    // anything the server reflects. The plugin may not ask for one; the host asks for identity.
    for (const auto& h : out) {
      if (is_representation_header(h.name)) {
        return deny(ctx, HttpsError::kGrantDenied,
                    "the header " + h.name + " cannot be sent with a secret (secret " +
                        secret_sent +
                        "): a compressed or partial response could carry the secret past the "
                        "scrubber; the host requests the identity encoding itself",
                    "secret " + secret_sent);
      }
    }
    out.push_back(OutHeader{"Accept-Encoding", "identity", -1});
  }

  // 5-7. Resolve, check, transfer; follow redirects under the same checks.
  // The earlier of the grant's timeout and the run's deadline bounds every step from here on:
  // name resolution, each hop's connect and transfer.
  const Clock::time_point grant_deadline =
      ctx.start + std::chrono::milliseconds(bounds_.timeout_ms);
  const bool run_deadline = request.deadline < grant_deadline;
  const Clock::time_point deadline = run_deadline ? request.deadline : grant_deadline;
  std::string method = request.method;
  std::string body = request.body;
  std::set<std::string> visited;
  visited.insert(method + " " + url.url());
  for (uint64_t hop = 0;; ++hop) {
    auto address = destination(url, ctx, deadline, request.interrupt);
    if (!address && address.error().code != HttpsError::kPrivateAddress) {
      // Name resolution failed or ran out of time: the policy allowed the request and the
      // network failed it, recorded as `allowed` with its error (docs/https.md, audit fields),
      // never as a denial an operator would look for a rule behind.
      if (hop == 0) return finish(ctx, failure(address.error().code, address.error().message));
      ev.hops.back().reason = address.error().message;
      return finish(ctx, failure(address.error().code,
                                 "redirect to " + audit::redact_url(url.url()) + ": " +
                                     address.error().message));
    }
    if (!address) {
      if (hop == 0) return deny(ctx, address.error().code, address.error().message, "address");
      ev.hops.back().decision = "denied";
      ev.hops.back().reason = address.error().message;
      return deny(ctx, HttpsError::kRedirectDenied,
                  "redirect to " + audit::redact_url(url.url()) + " refused: " +
                      std::string(https_error_name(address.error().code)) + ": " +
                      address.error().message,
                  "redirect");
    }
    if (hop == 0) {
      ev.address = address->to_string();
      ev.request_headers.clear();
      for (const auto& h : out) ev.request_headers.emplace_back(h.name, h.value);
      ev.request_bytes = body.size();
    } else {
      ev.hops.back().address = address->to_string();
    }
    const bool hop_secret = std::any_of(out.begin(), out.end(),
                                        [](const OutHeader& h) { return h.secret >= 0; });
    if (auto rec = audit_attempt(ctx, hop, url, *address, method, out, body.size()); !rec) {
      return finish(ctx, failure(HttpsError::kNetworkError, "not sent: " + rec.error().message));
    }
    auto r = transfer(url, *address, method, body, out, request, deadline, run_deadline, ctx);
    if (!r) return finish(ctx, tl::unexpected<Failure>(r.error()));

    bool redirect = r->status == 301 || r->status == 302 || r->status == 303 ||
                    r->status == 307 || r->status == 308;
    const Header* location = nullptr;
    for (const auto& h : r->headers) {
      if (lower(h.name) == "location") location = &h;
    }
    if (redirect && location != nullptr && bounds_.max_redirects > 0) {
      std::string where = audit::redact_url(location->value);
      if (hop + 1 > bounds_.max_redirects) {
        ev.hops.push_back(audit::Hop{where, r->status, "", "denied", "too many redirects"});
        return deny(ctx, HttpsError::kTooManyRedirects,
                    "more than " + std::to_string(bounds_.max_redirects) +
                        " redirects (max_redirects in the host config)",
                    "max_redirects");
      }
      auto next = resolve_redirect(url, location->value);
      if (!next) {
        ev.hops.push_back(audit::Hop{where, r->status, "", "denied", next.error()});
        return deny(ctx, HttpsError::kRedirectDenied,
                    "redirect refused: url_rejected: " + next.error(), "redirect");
      }
      where = audit::redact_url(next->url());
      // 303 always, and 301/302 after POST, continue as GET without a body (what browsers and
      // curl do); 307/308 repeat the request as it was.
      if (r->status == 303 && method != "HEAD") {
        method = "GET";
        body.clear();
      } else if ((r->status == 301 || r->status == 302) && method == "POST") {
        method = "GET";
        body.clear();
      }
      if (!visited.insert(method + " " + next->url()).second) {
        ev.hops.push_back(audit::Hop{where, r->status, "", "denied", "redirect loop"});
        return deny(ctx, HttpsError::kTooManyRedirects,
                    "redirect loop: " + where + " was already requested", "redirect");
      }
      auto g = match_grant(*next, method);
      if (!g) {
        ev.hops.push_back(audit::Hop{where, r->status, "", "denied", g.error().message});
        return deny(ctx, HttpsError::kRedirectDenied,
                    "redirect to " + where + " refused: " +
                        std::string(https_error_name(g.error().code)) + ": " + g.error().message,
                    "redirect");
      }
      ev.hops.push_back(audit::Hop{where, r->status, "", "allowed", ""});
      // Credentials follow a redirect only where they may go: secrets to their bound hosts,
      // literal Authorization/Cookie to the same origin.
      bool same_origin = next->host == url.host && next->port == url.port;
      std::vector<OutHeader> kept;
      for (auto& h : out) {
        if (h.secret >= 0 && !secret_allowed_for(secrets_[static_cast<size_t>(h.secret)], next->host)) {
          continue;
        }
        if (h.secret < 0 && !same_origin && is_credential_header(h.name)) continue;
        kept.push_back(std::move(h));
      }
      out = std::move(kept);
      url = std::move(*next);
      continue;
    }

    // 8. The response, scrubbed of secrets before the plugin (or the audit log) sees it.
    if (hop_secret && !r->body.empty()) {
      // The scrubber reads the body as sent; a body it cannot read (compressed, or a part of a
      // representation that may start inside a secret) is withheld when a secret was sent.
      for (const auto& h : r->headers) {
        if (auto why = unscrubbable(h)) {
          return finish(ctx, failure(HttpsError::kUnscrubbableResponse,
                                     "the response to a request that carried a secret has " +
                                         *why + "; the scrubber cannot inspect it, so it is "
                                         "withheld (ask the server for an identity, complete "
                                         "response)"));
        }
      }
    }
    Response resp;
    resp.status = r->status;
    for (auto& h : r->headers) {
      // Digests of a body that held a secret are digests of the secret; they go with the body.
      if (hop_secret && is_body_digest_header(h.name)) continue;
      resp.headers.push_back(Header{audit::scrub(h.name, secret_values_),
                                    audit::scrub(h.value, secret_values_)});
    }
    size_t cap = static_cast<size_t>(bounds_.max_response_bytes);
    resp.truncated = r->over || r->body.size() > cap;
    if (resp.truncated && request.strict) {
      return finish(ctx, failure(HttpsError::kResponseTooLarge,
                                 "the response body is larger than " + std::to_string(cap) +
                                     " bytes (max_response_bytes in the host config)"));
    }
    const size_t raw_kept = std::min(r->body.size(), cap);
    resp.body = audit::scrub(r->body, secret_values_, cap);
    if (resp.body.size() > cap) resp.body.resize(cap);
    if (hop_secret || resp.body.size() != raw_kept ||
        resp.body.compare(0, raw_kept, r->body, 0, raw_kept) != 0) {
      // The server's Content-Length counts the secret's bytes: report the body as delivered.
      for (auto& h : resp.headers) {
        if (lower(h.name) == "content-length") h.value = std::to_string(resp.body.size());
      }
    }
    return finish(ctx, std::move(resp));
  }
}

std::once_flag g_curl_once;
CURLcode g_curl_init = CURLE_OK;

}  // namespace

// Headers the host controls. Host would let a plugin reach another virtual host than the one the
// grant matched; the framing headers would let it smuggle a second request; Proxy-* target
// proxies (none is used).
bool is_host_controlled_header(std::string_view name) {
  static const char* const kForbidden[] = {
      "host",    "content-length", "transfer-encoding", "connection", "keep-alive",
      "upgrade", "te",             "trailer",           "expect",     "proxy-connection",
      "http2-settings"};
  std::string n = lower(name);
  for (const char* f : kForbidden) {
    if (n == f) return true;
  }
  return n.rfind("proxy-", 0) == 0;
}

Result<std::unique_ptr<Client>> Client::create(const policy::HttpsPlan& plan,
                                               const policy::NetworkConfig& network,
                                               ClientOptions options) {
  std::call_once(g_curl_once, [] { g_curl_init = curl_global_init(CURL_GLOBAL_DEFAULT); });
  if (g_curl_init != CURLE_OK) {
    return make_error(ErrorCode::kInternal, std::string("libcurl initialization failed: ") +
                                                curl_easy_strerror(g_curl_init));
  }
  // libcurl must speak https; a build without TLS cannot provide this API at all.
  const curl_version_info_data* info = curl_version_info(CURLVERSION_NOW);
  if (info == nullptr || (info->features & CURL_VERSION_SSL) == 0) {
    return make_error(ErrorCode::kCapabilityUnavailable,
                      "this libcurl has no TLS support, so host_api.https is unavailable");
  }
  std::vector<Secret> secrets;
  for (const auto& ref : plan.secrets) {
    if (ref.source != policy::SecretSource::kFile) {
      return make_error(ErrorCode::kConfigInvalid, "secret " + ref.name + ": only file secrets exist");
    }
    auto value = read_secret_file(ref);
    WASMCAP_TRY(value);
    secrets.push_back(Secret{ref.name, std::move(*value), ref.hosts});
  }
  // The trust anchors: libcurl's compiled-in system store, read once here (never from
  // SSL_CERT_FILE/CURL_CA_BUNDLE), with network.ca_file replacing the bundle file and the system
  // directory kept so both are trusted.
  std::string cainfo, capath;
  {
    Easy probe(curl_easy_init());
    if (!probe) return make_error(ErrorCode::kInternal, "libcurl: cannot create a handle");
    char* p = nullptr;
    if (curl_easy_getinfo(probe.get(), CURLINFO_CAINFO, &p) == CURLE_OK && p != nullptr) cainfo = p;
    p = nullptr;
    if (curl_easy_getinfo(probe.get(), CURLINFO_CAPATH, &p) == CURLE_OK && p != nullptr) capath = p;
  }
  if (network.ca_file) {
    int fd = ::open(network.ca_file->c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) {
      return make_error(ErrorCode::kIo, "network.ca_file " + *network.ca_file + ": " +
                                            std::strerror(errno) + " (check the host config)");
    }
    ::close(fd);
    if (capath.empty()) capath = "/etc/ssl/certs";
    cainfo = *network.ca_file;
  }
  return std::unique_ptr<Client>(new ClientImpl(plan, network, std::move(options),
                                                std::move(secrets), std::move(cainfo),
                                                std::move(capath)));
}

}  // namespace wasmcap::https

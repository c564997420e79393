#include "https/transfer.h"

#include <arpa/inet.h>
#include <netdb.h>

#include <algorithm>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <system_error>
#include <thread>

namespace wasmcap::https::transfer {
namespace {
// Lookups abandoned at their deadline and still running (bounded_resolve).
std::atomic<int> g_stalled_lookups{0};

// One lookup's result, shared by its thread and the request waiting for it.
struct Lookup {
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;
  bool abandoned = false;
  Result<std::vector<policy::IpAddress>> result = std::vector<policy::IpAddress>{};
};

}  // namespace

policy::IpAddress from_sockaddr(const struct sockaddr* sa, uint16_t* port) {
  policy::IpAddress a;
  if (sa->sa_family == AF_INET6) {
    const auto* s6 = reinterpret_cast<const struct sockaddr_in6*>(sa);
    a.v6 = true;
    std::memcpy(a.bytes.data(), &s6->sin6_addr, 16);
    *port = ntohs(s6->sin6_port);
  } else if (sa->sa_family == AF_INET) {
    const auto* s4 = reinterpret_cast<const struct sockaddr_in*>(sa);
    std::memcpy(a.bytes.data(), &s4->sin_addr, 4);
    *port = ntohs(s4->sin_port);
  } else {
    *port = 0;
  }
  return a;
}

bool same_address(const policy::IpAddress& a, const policy::IpAddress& b) {
  return a.v6 == b.v6 && std::memcmp(a.bytes.data(), b.bytes.data(), a.v6 ? 16 : 4) == 0;
}

Result<std::vector<policy::IpAddress>> system_resolve(const std::string& host) {
  struct addrinfo hints {};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_ADDRCONFIG;
  struct addrinfo* res = nullptr;
  int rc = ::getaddrinfo(host.c_str(), nullptr, &hints, &res);
  if (rc != 0) {
    return make_error(ErrorCode::kNotFound,
                      "cannot resolve " + host + " (" + gai_strerror(rc) + ")");
  }
  std::vector<policy::IpAddress> out;
  for (auto* ai = res; ai != nullptr; ai = ai->ai_next) {
    uint16_t port = 0;
    if (ai->ai_family != AF_INET && ai->ai_family != AF_INET6) continue;
    policy::IpAddress a = from_sockaddr(ai->ai_addr, &port);
    bool dup = false;
    for (const auto& b : out) dup = dup || same_address(a, b);
    if (!dup) out.push_back(a);
  }
  ::freeaddrinfo(res);
  return out;
}

Stop run_stop(Clock::time_point deadline, const std::atomic<bool>* interrupt) {
  if (interrupt != nullptr && interrupt->load(std::memory_order_relaxed)) return Stop::kInterrupt;
  if (Clock::now() >= deadline) return Stop::kDeadline;
  return Stop::kNone;
}

tl::expected<Result<std::vector<policy::IpAddress>>, Stop> bounded_resolve(
    const Resolver& resolver, const std::string& host, Clock::time_point deadline,
    const std::atomic<bool>* interrupt) {
  if (Stop st = run_stop(deadline, interrupt); st != Stop::kNone) return tl::unexpected(st);
  if (g_stalled_lookups.load() >= kMaxStalledLookups) {
    return Result<std::vector<policy::IpAddress>>(
        make_error(ErrorCode::kIo, "cannot resolve " + host + ": " +
                                       std::to_string(kMaxStalledLookups) +
                                       " earlier lookups are still stalled (check the system "
                                       "resolver)"));
  }
  auto lookup = std::make_shared<Lookup>();
  try {
    std::thread([lookup, resolver, host] {
      auto r = resolver ? resolver(host) : system_resolve(host);
      std::lock_guard<std::mutex> lock(lookup->mu);
      lookup->result = std::move(r);
      lookup->done = true;
      if (lookup->abandoned) g_stalled_lookups.fetch_sub(1);
      lookup->cv.notify_all();
    }).detach();
  } catch (const std::system_error&) {
    return Result<std::vector<policy::IpAddress>>(
        make_error(ErrorCode::kIo, "cannot resolve " + host + ": no thread for the lookup"));
  }
  std::unique_lock<std::mutex> lock(lookup->mu);
  while (!lookup->done) {
    if (Stop st = run_stop(deadline, interrupt); st != Stop::kNone) {
      lookup->abandoned = true;
      g_stalled_lookups.fetch_add(1);
      return tl::unexpected(st);
    }
    // Bounded steps: the interrupt flag has no way to wake this wait.
    auto step = std::min(deadline, Clock::now() + std::chrono::milliseconds(50));
    lookup->cv.wait_until(lock, step);
  }
  return std::move(lookup->result);
}

int on_progress(void* clientp, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  auto* t = static_cast<Transfer*>(clientp);
  t->stopped = run_stop(t->run_deadline, t->interrupt);
  if (t->stopped != Stop::kNone) return 1;  // non-zero aborts the transfer
  const auto now = Clock::now();
  if (!t->got_byte && now >= t->first_byte_by) {
    t->late = Transfer::Late::kFirstByte;
    return 1;
  }
  if (t->got_byte && t->between_bytes.count() > 0 && now - t->last_byte > t->between_bytes) {
    t->late = Transfer::Late::kBetweenBytes;
    return 1;
  }
  return 0;
}

int on_prereq(void* clientp, char*, char*, int, int) {
  auto* t = static_cast<Transfer*>(clientp);
  if (t->first_byte.count() > 0) t->first_byte_by = Clock::now() + t->first_byte;
  return CURL_PREREQFUNC_OK;
}

namespace {
void arrived(Transfer* t) {
  if (t->first_byte.count() == 0 && t->between_bytes.count() == 0) return;
  t->got_byte = true;
  t->last_byte = Clock::now();
}
}  // namespace

curl_socket_t open_socket(void* clientp, curlsocktype purpose, struct curl_sockaddr* addr) {
  auto* t = static_cast<Transfer*>(clientp);
  if (purpose != CURLSOCKTYPE_IPCXN) return CURL_SOCKET_BAD;
  uint16_t port = 0;
  policy::IpAddress a = from_sockaddr(&addr->addr, &port);
  // The last line of the pin: whatever libcurl resolved or chose, a socket is opened only for the
  // exact address (and port) the policy checked.
  if ((addr->family != AF_INET && addr->family != AF_INET6) || !same_address(a, t->pinned) ||
      port != t->port) {
    t->refused_address = true;
    return CURL_SOCKET_BAD;
  }
  if (t->observer != nullptr && *t->observer) (*t->observer)(a, port);
  return ::socket(addr->family, addr->socktype | SOCK_CLOEXEC, addr->protocol);
}

size_t on_header(char* data, size_t size, size_t n, void* userp) {
  auto* t = static_cast<Transfer*>(userp);
  arrived(t);
  size_t len = size * n;
  t->header_bytes += len;
  if (t->header_bytes > t->max_header_bytes) {
    t->headers_too_large = true;
    return 0;  // aborts the transfer
  }
  std::string_view line(data, len);
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.remove_suffix(1);
  if (line.rfind("HTTP/", 0) == 0) {
    t->headers.clear();  // a new response block (after 1xx): only the final one counts
    return len;
  }
  if (line.empty()) return len;
  if (line[0] == ' ' || line[0] == '\t') {  // obsolete line folding: part of the previous value
    if (!t->headers.empty()) {
      std::string& value = t->headers.back().value;
      value += ' ';
      value.append(line.substr(1));
    }
    return len;
  }
  size_t colon = line.find(':');
  if (colon == std::string_view::npos) return len;
  if (t->headers.size() >= kMaxResponseHeaders) {
    t->headers_too_large = true;
    return 0;
  }
  std::string_view value = line.substr(colon + 1);
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
  t->headers.push_back(Header{std::string(line.substr(0, colon)), std::string(value)});
  return len;
}

size_t on_body(char* data, size_t size, size_t n, void* userp) {
  auto* t = static_cast<Transfer*>(userp);
  arrived(t);
  size_t len = size * n;
  size_t room = t->keep - std::min(t->keep, t->body.size());
  if (len <= room) {
    t->body.append(data, len);
    return len;
  }
  // Over the cap: keep what fits and stop reading now (a hostile server cannot make the host
  // download more than the cap plus one buffer).
  t->body.append(data, room);
  t->over = true;
  return 0;
}

bool slist_append(Slist& l, const std::string& s) {
  curl_slist* n = curl_slist_append(l.get(), s.c_str());
  if (n == nullptr) return false;
  l.release();
  l.reset(n);
  return true;
}

bool is_tls_failure(CURLcode rc) {
  switch (rc) {
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
    case CURLE_SSL_CRL_BADFILE:
    case CURLE_SSL_SHUTDOWN_FAILED:
    case CURLE_SSL_ENGINE_NOTFOUND:
    case CURLE_SSL_ENGINE_SETFAILED:
    case CURLE_SSL_ENGINE_INITFAILED:
    case CURLE_USE_SSL_FAILED:
      return true;
    default:
      return false;
  }
}

}  // namespace wasmcap::https::transfer

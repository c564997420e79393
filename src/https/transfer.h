// Internal to the https client (client.cc): name resolution under the request's deadline, and
// one libcurl transfer's state and callbacks (steps 5-6 of client.cc's list: the lookup, the
// socket pinned to the checked address, and the response's bounds as it arrives).
#pragma once

#include <curl/curl.h>
#include <sys/socket.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "wasmcap/error.h"
#include "wasmcap/https.h"
#include "wasmcap/policy.h"

namespace wasmcap::https::transfer {

using Clock = std::chrono::steady_clock;

// The address (and port) of a socket address; 0.0.0.0 and port 0 for a family other than IPv4
// and IPv6.
policy::IpAddress from_sockaddr(const struct sockaddr* sa, uint16_t* port);
bool same_address(const policy::IpAddress& a, const policy::IpAddress& b);
// getaddrinfo's addresses of `host`, IPv4 and IPv6, without duplicates.
Result<std::vector<policy::IpAddress>> system_resolve(const std::string& host);

// Name resolution under the request's deadline. getaddrinfo cannot be cancelled or given a
// timeout, so it runs on a thread of its own and the request waits for it only until the deadline
// (or the run's interrupt); a lookup still running then is abandoned, finishes on its own, and is
// counted: while kMaxStalledLookups are still running, further lookups fail at once instead of
// piling up threads.
constexpr int kMaxStalledLookups = 4;

enum class Stop { kNone, kDeadline, kInterrupt };
// Whether the run must stop now: its interrupt flag is raised, or `deadline` has passed.
Stop run_stop(Clock::time_point deadline, const std::atomic<bool>* interrupt);
// `resolver`'s (or the system's) addresses of `host`, or why the wait stopped.
tl::expected<Result<std::vector<policy::IpAddress>>, Stop> bounded_resolve(
    const Resolver& resolver, const std::string& host, Clock::time_point deadline,
    const std::atomic<bool>* interrupt);

// Per-transfer state shared with libcurl's callbacks.
struct Transfer {
  // Connection pinning.
  policy::IpAddress pinned;
  uint16_t port = 0;
  const ConnectObserver* observer = nullptr;
  bool refused_address = false;

  // Response.
  std::vector<Header> headers;
  uint64_t header_bytes = 0;
  uint64_t max_header_bytes = 0;
  bool headers_too_large = false;
  std::string body;
  size_t keep = 0;  // bytes of body kept: the cap plus the scrubbing window
  bool over = false;  // more body arrived than `keep`

  // The run's deadline and interrupt, checked by on_progress (CURLOPT_TIMEOUT_MS covers the
  // deadline too; the callback is what notices an interrupt).
  Clock::time_point run_deadline = Clock::time_point::max();
  const std::atomic<bool>* interrupt = nullptr;
  Stop stopped = Stop::kNone;

  // The plugin's own bounds (Request::first_byte_timeout, between_bytes_timeout; zero: none),
  // checked by on_progress: the first response byte (a header line) within first_byte of the
  // request being sent (on_prereq sets first_byte_by: after the connection and TLS, as the
  // connect timeout covers those), and between response bytes no pause over between_bytes.
  // `last_byte` is when the last arrived.
  Clock::duration first_byte{0};
  Clock::time_point first_byte_by = Clock::time_point::max();
  Clock::duration between_bytes{0};
  bool got_byte = false;
  Clock::time_point last_byte{};
  enum class Late { kNone, kFirstByte, kBetweenBytes } late = Late::kNone;
};

// libcurl's callbacks, each given the Transfer: CURLOPT_XFERINFOFUNCTION (stops on the deadline
// or interrupt), CURLOPT_OPENSOCKETFUNCTION (a socket only for the pinned address and port),
// CURLOPT_HEADERFUNCTION (the final response's headers, bounded in bytes and count),
// CURLOPT_WRITEFUNCTION (the body, bounded by `keep`).
int on_progress(void* clientp, curl_off_t, curl_off_t, curl_off_t, curl_off_t);
// CURLOPT_PREREQFUNCTION: the connection is made and the request is about to be sent.
int on_prereq(void* clientp, char*, char*, int, int);
curl_socket_t open_socket(void* clientp, curlsocktype purpose, struct curl_sockaddr* addr);
size_t on_header(char* data, size_t size, size_t n, void* userp);
size_t on_body(char* data, size_t size, size_t n, void* userp);

struct SlistDeleter {
  void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};
using Slist = std::unique_ptr<curl_slist, SlistDeleter>;

struct EasyDeleter {
  void operator()(CURL* c) const { curl_easy_cleanup(c); }
};
using Easy = std::unique_ptr<CURL, EasyDeleter>;

// Appends `s` to `l`; false when libcurl could not allocate.
bool slist_append(Slist& l, const std::string& s);
// Whether libcurl's `rc` says the TLS handshake or certificate check failed.
bool is_tls_failure(CURLcode rc);

}  // namespace wasmcap::https::transfer

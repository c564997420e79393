// wasmcap-mcp-http.so: the HTTP/1.1 server behind the plain-C table of httpd_abi.h, on GNU
// libmicrohttpd (Debian libmicrohttpd-dev). Built as a loadable module, the only wasmcap object
// that links libmicrohttpd (and through it GnuTLS); loaded by mcp::serve_http only
// (httpd_loader.cc). Everything here is hidden except the entry.
//
// Why libmicrohttpd: a network peer must not be able to hold the server's memory or threads
// before it has authenticated (docs/security-model.md, "HTTP request reading"). A
// thread-per-connection server (cpp-httplib, which this module wrapped before) reads each request
// whole, chunked body included, on a worker before any handler can look at the headers, and an
// idle connection holds its worker for the read timeout. Here, as in nginx and haproxy, one event
// loop (epoll, one thread) reads every connection:
//   - the request line and headers are read into a per-connection pool of fixed size (431/414
//     past it), their count is checked (431), and a deadline runs from accept (or the previous
//     response) to the end of the headers (closed past it: slowloris);
//   - then, before a byte of the body is read, the caller's admit() decides (Host/Origin, the
//     token): a refused request gets its 401/403 and the connection is closed, its body unread;
//     so does a Content-Length over max_payload (413);
//   - an admitted body is delivered piece by piece (Content-Length or chunked alike) and counted
//     against max_payload; past it the connection is answered 413 and closed at once;
//   - only a complete, admitted request takes a worker: the connection is suspended (the event
//     loop stops watching it) while the handler runs on the worker pool, and resumed with the
//     response. A streamed (SSE) response is produced on that worker into a bounded buffer which
//     the event loop drains. A response the handler asked to delay (set_delay: the caller's
//     refusals) stays suspended until its time, on the sweeper's timer, holding no worker.
// Connections are capped in total and per client address (more are closed on accept), and a
// connection without progress for idle_timeout_s is closed by libmicrohttpd.
#include <microhttpd.h>
#include <fcntl.h>
#include <netdb.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_set>
#include <utility>
#include <vector>

#include "mcp/httpd_abi.h"

namespace {

using Clock = std::chrono::steady_clock;

// A streamed response body waiting for the client to read it: the producer (the worker running
// the provider) waits past this many unsent bytes, so a client that reads slowly costs at most
// this much memory per stream.
constexpr size_t kStreamBufferBytes = 64 * 1024;

// How often the deadline sweeper looks at the connections reading a request. Deadlines are met
// within this much.
constexpr auto kSweepInterval = std::chrono::milliseconds(100);

// How long a stopping server waits for the answers in progress to be sent.
constexpr auto kStopGrace = std::chrono::seconds(2);

bool ieq(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

// One connection, from accept to close. `phase` and `since` drive the read deadlines: while a
// connection waits for a request's headers or reads its body, the sweeper closes it once the
// phase's deadline has passed (shutdown(2) on `fd`, a second descriptor of the socket: it
// keeps the socket's number from being reused while the sweeper may still act on it, and
// shutdown makes libmicrohttpd see the end of the connection and close it the usual way).
struct Conn {
  enum Phase : int { kHeaders, kBody, kBusy };
  int fd = -1;
  std::atomic<int> phase{kHeaders};
  std::atomic<Clock::rep> since{Clock::now().time_since_epoch().count()};
  bool shut = false;  // sweeper only
  int requests = 0;   // event loop only

  void enter(Phase p) {
    since.store(Clock::now().time_since_epoch().count());
    phase.store(p);
  }
};

}  // namespace

struct wasmcap_httpd_server;

// A streamed response body (the ABI's sink): written by the provider on its worker, read by the
// event loop's content reader. Shared by both; the connection's side may end first.
struct wasmcap_httpd_sink {
  wasmcap_httpd_server* server = nullptr;
  MHD_Connection* connection = nullptr;
  std::mutex mu;
  std::condition_variable cv;
  std::string buf;
  size_t off = 0;
  bool done = false;       // the provider finished the body
  bool aborted = false;    // the provider gave up (its peer went away, an error)
  bool closed = false;     // the connection's request is over (sent, failed, or server stopping)
  bool suspended = false;  // the content reader suspended the connection waiting for data

  // Under `mu`: whether the event loop suspended the connection for want of data; if so, the
  // caller resumes it (resume_if) once `mu` is released, so that no lock of ours is held while
  // libmicrohttpd takes its own. Only the producer's thread resumes: one resume per suspend.
  bool wake() {
    bool was = suspended;
    suspended = false;
    return was;
  }
  void resume_if(bool woken) {
    if (woken) MHD_resume_connection(connection);
  }
};

struct wasmcap_httpd_req {
  std::string method, path;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::string local_addr, remote_addr;
  int local_port = 0, remote_port = 0;
  int fd = -1;  // set for the handler, -1 in admit
};

struct wasmcap_httpd_res {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string content;
  std::string content_type;
  unsigned delay_ms = 0;  // set_delay: held this long after the handler (whole responses only)
  // A streamed body (set_chunked); owned until handed to a worker.
  wasmcap_httpd_provider provider = nullptr;
  wasmcap_httpd_releaser releaser = nullptr;
  void* user = nullptr;
  std::string stream_type;

  wasmcap_httpd_res() = default;
  wasmcap_httpd_res(const wasmcap_httpd_res&) = delete;
  wasmcap_httpd_res& operator=(const wasmcap_httpd_res&) = delete;
  ~wasmcap_httpd_res() {
    if (releaser != nullptr) releaser(user, 0);
  }
};

struct wasmcap_httpd_server {
  wasmcap_httpd_config cfg{};
  std::string path, path2;
  int listen_fd = -1;
  MHD_Daemon* daemon = nullptr;

  // The worker pool: admitted requests and response streams.
  std::mutex mu;
  std::condition_variable cv;
  std::deque<std::function<void()>> jobs;
  bool workers_stop = false;
  std::vector<std::thread> workers;

  // Connections, for the read deadlines.
  std::mutex conns_mu;
  std::unordered_set<Conn*> conns;
  std::thread sweeper;
  bool sweeper_stop = false;
  std::condition_variable sweeper_cv;
  // Answered connections whose response is delayed (set_delay), by when to resume them; under
  // conns_mu. Once `stopping`, nothing is held: resumed at once (the daemon must not stop with a
  // suspended connection).
  std::multimap<Clock::time_point, MHD_Connection*> held;

  // listen() runs until stop().
  std::mutex stop_mu;
  std::condition_variable stop_cv;
  bool stop_requested = false;
  // Requests begun and not yet completed (answered, failed or abandoned), under stop_mu: a
  // stopping server waits for them (at most kStopGrace) so that the answers of calls that ran
  // to the end, and held refusals, are sent rather than cut off.
  size_t active = 0;
  std::atomic<bool> stopping{false};  // streams end (sink_write returns 0)

  ~wasmcap_httpd_server() {
    if (listen_fd >= 0 && daemon == nullptr) ::close(listen_fd);
  }
};

namespace {

// The state of one request (libmicrohttpd's per-request context).
struct Request {
  enum Phase { kBody, kRunning, kReady };
  wasmcap_httpd_req req;
  wasmcap_httpd_res res;
  Phase phase = kBody;
  std::shared_ptr<wasmcap_httpd_sink> stream;
};

Conn* conn_of(MHD_Connection* c) {
  const MHD_ConnectionInfo* i = MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
  return i != nullptr ? static_cast<Conn*>(i->socket_context) : nullptr;
}

int fd_of(MHD_Connection* c) {
  const MHD_ConnectionInfo* i = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
  return i != nullptr ? i->connect_fd : -1;
}

void endpoint(const sockaddr_storage& a, socklen_t n, std::string& ip, int& port) {
  char host[NI_MAXHOST], serv[NI_MAXSERV];
  if (::getnameinfo(reinterpret_cast<const sockaddr*>(&a), n, host, sizeof host, serv, sizeof serv,
                    NI_NUMERICHOST | NI_NUMERICSERV) == 0) {
    ip = host;
    port = std::atoi(serv);
  }
}

// Queues a job for the workers; false once they are stopping (the job is not run). `before`
// runs under the queue's lock when the job is accepted, so a connection suspended there is
// certain to be resumed by a worker.
bool run_job(wasmcap_httpd_server* s, std::function<void()> job, const std::function<void()>& before = {}) {
  std::lock_guard<std::mutex> l(s->mu);
  if (s->workers_stop) return false;
  if (before) before();
  s->jobs.push_back(std::move(job));
  s->cv.notify_one();
  return true;
}

void worker_loop(wasmcap_httpd_server* s) {
  for (;;) {
    std::function<void()> job;
    {
      std::unique_lock<std::mutex> l(s->mu);
      s->cv.wait(l, [s] { return s->workers_stop || !s->jobs.empty(); });
      // Jobs queued before stop still run: each resumes a suspended connection, which must
      // happen before the daemon may stop.
      if (s->jobs.empty()) return;
      job = std::move(s->jobs.front());
      s->jobs.pop_front();
    }
    job();
  }
}

// Takes the held connections due by `until` out of the list (under conns_mu); the caller resumes
// them once the lock is released (libmicrohttpd takes its own locks, and calls
// notify_connection, which takes conns_mu, with them held).
std::vector<MHD_Connection*> take_held(wasmcap_httpd_server* s, Clock::time_point until) {
  std::vector<MHD_Connection*> due;
  auto end = s->held.upper_bound(until);
  for (auto it = s->held.begin(); it != end; ++it) due.push_back(it->second);
  s->held.erase(s->held.begin(), end);
  return due;
}

// A delayed response (set_delay) is held until its time; called on the worker that ran the
// handler, instead of resuming the connection at once.
void hold(wasmcap_httpd_server* s, MHD_Connection* c, unsigned ms) {
  {
    std::lock_guard<std::mutex> l(s->conns_mu);
    if (!s->stopping.load()) {
      s->held.emplace(Clock::now() + std::chrono::milliseconds(ms), c);
      s->sweeper_cv.notify_all();
      return;
    }
  }
  MHD_resume_connection(c);
}

void sweeper_loop(wasmcap_httpd_server* s) {
  const auto header_limit = std::chrono::milliseconds(s->cfg.header_timeout_ms);
  const auto body_limit = std::chrono::milliseconds(s->cfg.body_timeout_ms);
  std::unique_lock<std::mutex> l(s->conns_mu);
  while (!s->sweeper_stop) {
    auto wake = Clock::now() + kSweepInterval;
    if (!s->held.empty()) wake = std::min(wake, s->held.begin()->first);
    s->sweeper_cv.wait_until(l, wake);
    auto now = Clock::now();
    if (!s->held.empty() && s->held.begin()->first <= now) {
      std::vector<MHD_Connection*> due = take_held(s, now);
      l.unlock();
      for (MHD_Connection* c : due) MHD_resume_connection(c);
      l.lock();
      now = Clock::now();
    }
    for (Conn* c : s->conns) {
      int phase = c->phase.load();
      if (c->shut || phase == Conn::kBusy) continue;
      auto waited = now - Clock::time_point(Clock::duration(c->since.load()));
      if ((phase == Conn::kHeaders && s->cfg.header_timeout_ms != 0 && waited > header_limit) ||
          (phase == Conn::kBody && s->cfg.body_timeout_ms != 0 && waited > body_limit)) {
        // Past its read deadline: the peer is too slow (or holding the connection on purpose).
        ::shutdown(c->fd, SHUT_RDWR);
        c->shut = true;
      }
    }
  }
}

void notify_connection(void* cls, MHD_Connection* c, void** socket_context, MHD_ConnectionNotificationCode code) {
  auto* s = static_cast<wasmcap_httpd_server*>(cls);
  if (code == MHD_CONNECTION_NOTIFY_STARTED) {
    auto* conn = new Conn;
    int fd = fd_of(c);
    conn->fd = fd >= 0 ? ::fcntl(fd, F_DUPFD_CLOEXEC, 0) : -1;
    *socket_context = conn;
    // Without the second descriptor (out of descriptors) the connection has no read deadline, only
    // libmicrohttpd's idle timeout; the descriptor limit is raised for the cap at start.
    if (conn->fd < 0) return;
    std::lock_guard<std::mutex> l(s->conns_mu);
    s->conns.insert(conn);
  } else if (code == MHD_CONNECTION_NOTIFY_CLOSED) {
    auto* conn = static_cast<Conn*>(*socket_context);
    if (conn == nullptr) return;
    {
      std::lock_guard<std::mutex> l(s->conns_mu);
      s->conns.erase(conn);
    }
    if (conn->fd >= 0) ::close(conn->fd);
    delete conn;
    *socket_context = nullptr;
  }
}

// A kept-alive connection is closed when the next request's headers are not in within the
// header deadline: say so (clients such as Node's undici then stop reusing it a little earlier,
// instead of sending a request into a connection the server is closing).
void keep_alive_hint(MHD_Response* r, unsigned header_timeout_ms) {
  if (header_timeout_ms < 2000) return;
  std::string v = "timeout=" + std::to_string(header_timeout_ms / 1000);
  MHD_add_response_header(r, "Keep-Alive", v.c_str());
}

MHD_Result queue(MHD_Connection* c, wasmcap_httpd_res& res, bool close, unsigned header_timeout_ms = 0) {
  MHD_Response* r = MHD_create_response_from_buffer(res.content.size(), res.content.data(),
                                                    MHD_RESPMEM_MUST_COPY);
  if (r == nullptr) return MHD_NO;
  for (const auto& [name, value] : res.headers) MHD_add_response_header(r, name.c_str(), value.c_str());
  if (!res.content_type.empty()) MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, res.content_type.c_str());
  if (close) {
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONNECTION, "close");
  } else {
    keep_alive_hint(r, header_timeout_ms);
  }
  MHD_Result ok = MHD_queue_response(c, static_cast<unsigned>(res.status), r);
  MHD_destroy_response(r);
  return ok;
}

// A refusal made by the module itself (limits, routing): text/plain, and the connection closes.
MHD_Result refuse(MHD_Connection* c, Request* rq, int status, const std::string& why) {
  wasmcap_httpd_res& res = rq->res;
  res.status = status;
  res.content = why + "\n";
  res.content_type = "text/plain; charset=utf-8";
  return queue(c, res, true);
}

// The body outgrew max_payload after it began: libmicrohttpd queues responses only before the
// body or after all of it, so the 413 is written to the socket here (nothing else of this
// request has been sent: its response comes after its body) and the connection is dropped
// without reading further. A client that does not read it still has its connection closed.
MHD_Result refuse_mid_body(MHD_Connection* c, size_t max_payload) {
  std::string body = "the request body is larger than " + std::to_string(max_payload) + " bytes\n";
  std::string head = "HTTP/1.1 413 Content Too Large\r\nConnection: close\r\n"
                     "Content-Type: text/plain; charset=utf-8\r\nContent-Length: " +
                     std::to_string(body.size()) + "\r\n\r\n";
  std::string all = head + body;
  int fd = fd_of(c);
  if (fd >= 0) (void)::send(fd, all.data(), all.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
  return MHD_NO;
}

MHD_Result collect_header(void* cls, MHD_ValueKind, const char* key, const char* value) {
  auto* h = static_cast<std::vector<std::pair<std::string, std::string>>*>(cls);
  // A field value excludes the whitespace around it (RFC 9110 5.5); libmicrohttpd keeps some.
  std::string_view v = value != nullptr ? value : "";
  while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
  while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
  h->emplace_back(key != nullptr ? key : "", v);
  return MHD_YES;
}

// Reads the stream into libmicrohttpd's buffer, on the event loop. Nothing to send yet: the
// connection is suspended (the event loop must never wait) until the producer writes or ends.
ssize_t read_stream(void* cls, uint64_t, char* out, size_t max) {
  wasmcap_httpd_sink* k = static_cast<std::shared_ptr<wasmcap_httpd_sink>*>(cls)->get();
  std::lock_guard<std::mutex> l(k->mu);
  if (k->off < k->buf.size()) {
    size_t n = std::min(max, k->buf.size() - k->off);
    std::memcpy(out, k->buf.data() + k->off, n);
    k->off += n;
    if (k->off == k->buf.size()) {
      k->buf.clear();
      k->off = 0;
    }
    k->cv.notify_all();
    return static_cast<ssize_t>(n);
  }
  if (k->aborted) return MHD_CONTENT_READER_END_WITH_ERROR;
  if (k->done) return MHD_CONTENT_READER_END_OF_STREAM;
  k->suspended = true;
  MHD_suspend_connection(k->connection);
  return 0;
}

// Streams end when libmicrohttpd frees the response (sent, failed or the server stopping).
void free_stream(void* cls) {
  auto* k = static_cast<std::shared_ptr<wasmcap_httpd_sink>*>(cls);
  {
    std::lock_guard<std::mutex> l((*k)->mu);
    (*k)->closed = true;
    (*k)->cv.notify_all();
  }
  delete k;
}

// The worker's part of a streamed response: the provider until it ends, then its releaser.
void produce(std::shared_ptr<wasmcap_httpd_sink> k, wasmcap_httpd_provider provider,
             wasmcap_httpd_releaser releaser, void* user) {
  for (;;) {
    {
      std::unique_lock<std::mutex> l(k->mu);
      if (k->closed || k->done || k->aborted) break;
      if (k->server->stopping.load()) {
        // The server is stopping: end the stream whether or not the provider writes again (the
        // daemon may stop only once no connection is left suspended).
        k->aborted = true;
        bool woken = k->wake();
        l.unlock();
        k->resume_if(woken);
        break;
      }
    }
    if (provider(user, k.get()) == 0) {
      bool woken;
      {
        std::lock_guard<std::mutex> l(k->mu);
        k->aborted = true;
        woken = k->wake();
      }
      k->resume_if(woken);
      break;
    }
  }
  bool success;
  {
    std::lock_guard<std::mutex> l(k->mu);
    success = k->done && !k->aborted;
  }
  releaser(user, success ? 1 : 0);
}

// Runs an admitted request's handler on a worker, then resumes its connection with the answer.
MHD_Result dispatch(wasmcap_httpd_server* s, MHD_Connection* c, Request* rq) {
  rq->phase = Request::kRunning;
  rq->req.fd = fd_of(c);
  if (rq->req.fd >= 0) {
    sockaddr_storage a{};
    socklen_t n = sizeof a;
    if (::getsockname(rq->req.fd, reinterpret_cast<sockaddr*>(&a), &n) == 0) {
      endpoint(a, n, rq->req.local_addr, rq->req.local_port);
    }
    n = sizeof a;
    if (::getpeername(rq->req.fd, reinterpret_cast<sockaddr*>(&a), &n) == 0) {
      endpoint(a, n, rq->req.remote_addr, rq->req.remote_port);
    }
  }
  bool queued = run_job(
      s,
      [s, c, rq] {
        s->cfg.handler(s->cfg.user, rq->req.method.c_str(), &rq->req, &rq->res);
        rq->phase = Request::kReady;
        if (rq->res.delay_ms != 0 && rq->res.provider == nullptr) {
          hold(s, c, rq->res.delay_ms);  // resumed by the sweeper at its time
        } else {
          MHD_resume_connection(c);  // the event loop queues the response
        }
      },
      [c] { MHD_suspend_connection(c); });
  if (!queued) return refuse(c, rq, MHD_HTTP_SERVICE_UNAVAILABLE, "the server is stopping");
  return MHD_YES;
}

MHD_Result access(void* cls, MHD_Connection* c, const char* url, const char* method, const char*,
                  const char* upload_data, size_t* upload_data_size, void** con_cls) {
  auto* s = static_cast<wasmcap_httpd_server*>(cls);
  auto* rq = static_cast<Request*>(*con_cls);
  if (rq == nullptr) {
    // The headers are in; not a byte of the body has been read.
    Conn* conn = conn_of(c);
    if (conn != nullptr) {
      conn->enter(Conn::kBody);
      ++conn->requests;
    }
    rq = new Request;
    *con_cls = rq;
    {
      std::lock_guard<std::mutex> l(s->stop_mu);
      ++s->active;
    }
    rq->req.method = method;
    MHD_get_connection_values(c, MHD_HEADER_KIND, collect_header, &rq->req.headers);
    const MHD_ConnectionInfo* hs = MHD_get_connection_info(c, MHD_CONNECTION_INFO_REQUEST_HEADER_SIZE);
    if (rq->req.headers.size() > s->cfg.max_header_count) {
      return refuse(c, rq, MHD_HTTP_REQUEST_HEADER_FIELDS_TOO_LARGE,
                    "more than " + std::to_string(s->cfg.max_header_count) + " header lines");
    }
    if (hs != nullptr && hs->header_size > s->cfg.max_header_bytes) {
      return refuse(c, rq, MHD_HTTP_REQUEST_HEADER_FIELDS_TOO_LARGE,
                    "the request's headers are larger than " + std::to_string(s->cfg.max_header_bytes) + " bytes");
    }
    // Framing (RFC 9112 section 6.3): a request whose body could be delimited two ways is refused
    // (400 and close) before anything else, as haproxy and nginx do: with both Transfer-Encoding
    // and Content-Length, two Content-Length lines, or a transfer coding other than "chunked", a
    // proxy in front of this server and the server could disagree on where the body ends and
    // read the rest as another request (request smuggling).
    size_t lengths = 0, codings = 0;
    bool chunked_only = true;
    for (const auto& [name, value] : rq->req.headers) {
      if (ieq(name, MHD_HTTP_HEADER_CONTENT_LENGTH)) ++lengths;
      if (ieq(name, MHD_HTTP_HEADER_TRANSFER_ENCODING)) {
        ++codings;
        chunked_only = chunked_only && ieq(value, "chunked");
      }
    }
    if (lengths > 1 || codings > 1 || (lengths != 0 && codings != 0) || !chunked_only) {
      return refuse(c, rq, MHD_HTTP_BAD_REQUEST,
                    "the request's body is framed ambiguously (Content-Length with Transfer-Encoding, "
                    "two of either, or a transfer coding other than chunked)");
    }
    if (s->path != url && (s->path2.empty() || s->path2 != url)) {
      return refuse(c, rq, MHD_HTTP_NOT_FOUND, "not found");
    }
    rq->req.path = url;
    std::string_view m = method;
    if (m != "POST" && m != "GET" && m != "DELETE") {
      rq->res.headers.emplace_back("Allow", "GET, POST, DELETE");
      return refuse(c, rq, MHD_HTTP_METHOD_NOT_ALLOWED, "method not allowed");
    }
    // The caller's policy (Host, Origin, token) before the body: a refused request is answered
    // now and its body is never read.
    if (s->cfg.admit != nullptr && s->cfg.admit(s->cfg.user, method, &rq->req, &rq->res) == 0) {
      return queue(c, rq->res, true);
    }
    for (const auto& [name, value] : rq->req.headers) {
      if (!ieq(name, MHD_HTTP_HEADER_CONTENT_LENGTH)) continue;
      // libmicrohttpd has validated the number; only its size matters here.
      unsigned long long n = std::strtoull(value.c_str(), nullptr, 10);
      if (n > s->cfg.max_payload) {
        return refuse(c, rq, MHD_HTTP_CONTENT_TOO_LARGE,
                      "the request body is larger than " + std::to_string(s->cfg.max_payload) + " bytes");
      }
    }
    return MHD_YES;
  }
  if (*upload_data_size != 0) {
    // A piece of the body (Content-Length or chunked alike), counted against the bound.
    if (rq->phase != Request::kBody || *upload_data_size > s->cfg.max_payload - rq->req.body.size()) {
      return refuse_mid_body(c, s->cfg.max_payload);
    }
    rq->req.body.append(upload_data, *upload_data_size);
    *upload_data_size = 0;
    return MHD_YES;
  }
  if (rq->phase == Request::kBody) {
    if (Conn* conn = conn_of(c)) conn->enter(Conn::kBusy);
    return dispatch(s, c, rq);
  }
  if (rq->phase != Request::kReady) return MHD_NO;  // not reached: suspended while running
  Conn* conn = conn_of(c);
  bool close = conn != nullptr && s->cfg.keep_alive_max > 0 && conn->requests >= s->cfg.keep_alive_max;
  if (rq->res.provider == nullptr) return queue(c, rq->res, close, s->cfg.header_timeout_ms);
  // A streamed body: produced on a worker, drained here.
  auto k = std::make_shared<wasmcap_httpd_sink>();
  k->server = s;
  k->connection = c;
  rq->stream = k;
  wasmcap_httpd_provider provider = rq->res.provider;
  wasmcap_httpd_releaser releaser = rq->res.releaser;
  void* user = rq->res.user;
  rq->res.provider = nullptr;
  rq->res.releaser = nullptr;
  if (!run_job(s, [k, provider, releaser, user] { produce(k, provider, releaser, user); })) {
    releaser(user, 0);
    return refuse(c, rq, MHD_HTTP_SERVICE_UNAVAILABLE, "the server is stopping");
  }
  // The reader's reference, dropped by free_stream when libmicrohttpd frees the response.
  auto* ref = new std::shared_ptr<wasmcap_httpd_sink>(k);
  MHD_Response* r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 32 * 1024, read_stream, ref, free_stream);
  if (r == nullptr) {
    free_stream(ref);  // the producer sees the stream closed and stops
    return MHD_NO;
  }
  for (const auto& [name, value] : rq->res.headers) MHD_add_response_header(r, name.c_str(), value.c_str());
  MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, rq->res.stream_type.c_str());
  if (close) {
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONNECTION, "close");
  } else {
    keep_alive_hint(r, s->cfg.header_timeout_ms);
  }
  MHD_Result ok = MHD_queue_response(c, static_cast<unsigned>(rq->res.status), r);
  MHD_destroy_response(r);
  return ok;
}

// The end of a request (answered, failed, timed out or the server stopping).
void completed(void* cls, MHD_Connection* c, void** con_cls, MHD_RequestTerminationCode) {
  if (*con_cls != nullptr) {
    auto* s = static_cast<wasmcap_httpd_server*>(cls);
    std::lock_guard<std::mutex> l(s->stop_mu);
    --s->active;
    s->stop_cv.notify_all();
  }
  delete static_cast<Request*>(*con_cls);
  *con_cls = nullptr;
  if (Conn* conn = conn_of(c)) conn->enter(Conn::kHeaders);  // the next request's deadline
}

wasmcap_httpd_server* create(const wasmcap_httpd_config* c) {
  try {
    auto s = std::make_unique<wasmcap_httpd_server>();
    s->cfg = *c;
    s->path = c->path;
    s->cfg.path = s->path.c_str();
    if (c->path2 != nullptr) s->path2 = c->path2;
    s->cfg.path2 = nullptr;
    if (s->cfg.workers == 0) s->cfg.workers = 1;
    return s.release();
  } catch (...) {
    return nullptr;
  }
}

void destroy(wasmcap_httpd_server* s) { delete s; }

int bind_port(wasmcap_httpd_server* s, const char* host, int port) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* list = nullptr;
  std::string service = std::to_string(port);
  if (::getaddrinfo(host, service.c_str(), &hints, &list) != 0) return -1;
  int fd = -1;
  for (addrinfo* a = list; a != nullptr && fd < 0; a = a->ai_next) {
    fd = ::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) continue;
    int yes = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
    if (::bind(fd, a->ai_addr, a->ai_addrlen) != 0 || ::listen(fd, SOMAXCONN) != 0) {
      ::close(fd);
      fd = -1;
    }
  }
  ::freeaddrinfo(list);
  if (fd < 0) return -1;
  sockaddr_storage bound{};
  socklen_t n = sizeof bound;
  std::string ip;
  int actual = -1;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &n) == 0) endpoint(bound, n, ip, actual);
  if (actual <= 0) {
    ::close(fd);
    return -1;
  }
  if (s->listen_fd >= 0) ::close(s->listen_fd);
  s->listen_fd = fd;
  return actual;
}

int listen_after_bind(wasmcap_httpd_server* s) {
  if (s->listen_fd < 0) return 0;
  try {
    // libmicrohttpd's own pool bounds what one connection buffers before its headers are in;
    // twice the header bound leaves room for the response's headers and the write buffer.
    size_t pool = std::max<size_t>(2 * s->cfg.max_header_bytes, 16 * 1024);
    // Each connection holds two descriptors (its socket and the sweeper's second one): make room
    // for the connection cap within the hard limit, as nginx's worker_rlimit_nofile does.
    rlimit nofile{};
    rlim_t want = static_cast<rlim_t>(2 * s->cfg.max_connections + 256);
    if (::getrlimit(RLIMIT_NOFILE, &nofile) == 0 && nofile.rlim_cur != RLIM_INFINITY && nofile.rlim_cur < want) {
      nofile.rlim_cur = nofile.rlim_max == RLIM_INFINITY ? want : std::min(want, nofile.rlim_max);
      ::setrlimit(RLIMIT_NOFILE, &nofile);
    }
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME;
    s->daemon = MHD_start_daemon(
        flags, 0, nullptr, nullptr, &access, s, MHD_OPTION_LISTEN_SOCKET, s->listen_fd,
        MHD_OPTION_CONNECTION_LIMIT, static_cast<unsigned>(s->cfg.max_connections),
        MHD_OPTION_PER_IP_CONNECTION_LIMIT, static_cast<unsigned>(s->cfg.max_connections_per_peer),
        MHD_OPTION_CONNECTION_TIMEOUT, s->cfg.idle_timeout_s, MHD_OPTION_CONNECTION_MEMORY_LIMIT, pool,
        MHD_OPTION_NOTIFY_COMPLETED, &completed, s, MHD_OPTION_NOTIFY_CONNECTION, &notify_connection, s,
        MHD_OPTION_LISTENING_ADDRESS_REUSE, 1u, MHD_OPTION_END);
    if (s->daemon == nullptr) return 0;
    s->listen_fd = -1;  // the daemon's now (closed by MHD_stop_daemon)
    for (size_t i = 0; i < s->cfg.workers; ++i) s->workers.emplace_back(worker_loop, s);
    s->sweeper = std::thread(sweeper_loop, s);
    {
      std::unique_lock<std::mutex> l(s->stop_mu);
      s->stop_cv.wait(l, [s] { return s->stop_requested; });
    }
    // Stop: no new connections; streams end (their writes fail), the workers finish what was
    // admitted and resume its connections (the daemon must not stop with a suspended one),
    // held answers are resumed now; then, once every answer begun is sent (or kStopGrace has
    // passed), the daemon closes every connection.
    s->stopping = true;
    MHD_socket quiesced = MHD_quiesce_daemon(s->daemon);
    if (quiesced != MHD_INVALID_SOCKET) ::close(quiesced);
    {
      std::lock_guard<std::mutex> l(s->mu);
      s->workers_stop = true;
      s->cv.notify_all();
    }
    for (auto& w : s->workers) w.join();
    s->workers.clear();
    std::vector<MHD_Connection*> held;
    {
      std::lock_guard<std::mutex> l(s->conns_mu);
      held = take_held(s, Clock::time_point::max());
    }
    for (MHD_Connection* c : held) MHD_resume_connection(c);
    {
      std::unique_lock<std::mutex> l(s->stop_mu);
      s->stop_cv.wait_for(l, kStopGrace, [s] { return s->active == 0; });
    }
    MHD_stop_daemon(s->daemon);
    s->daemon = nullptr;
    {
      std::lock_guard<std::mutex> l(s->conns_mu);
      s->sweeper_stop = true;
      s->sweeper_cv.notify_all();
    }
    s->sweeper.join();
    return 1;
  } catch (...) {
    return 0;
  }
}

void stop(wasmcap_httpd_server* s) {
  std::lock_guard<std::mutex> l(s->stop_mu);
  s->stop_requested = true;
  s->stop_cv.notify_all();
}

const std::string* find_header(const wasmcap_httpd_req* q, const char* name) {
  for (const auto& [key, value] : q->headers) {
    if (ieq(key, name)) return &value;
  }
  return nullptr;
}

int has_header(const wasmcap_httpd_req* q, const char* name) { return find_header(q, name) != nullptr; }

wasmcap_httpd_str str(const std::string& s) { return {s.data(), s.size()}; }

wasmcap_httpd_str header(const wasmcap_httpd_req* q, const char* name) {
  static const std::string empty;
  const std::string* v = find_header(q, name);
  return str(v != nullptr ? *v : empty);
}

wasmcap_httpd_str body(const wasmcap_httpd_req* q) { return str(q->body); }
wasmcap_httpd_str local_addr(const wasmcap_httpd_req* q) { return str(q->local_addr); }
wasmcap_httpd_str remote_addr(const wasmcap_httpd_req* q) { return str(q->remote_addr); }
int local_port(const wasmcap_httpd_req* q) { return q->local_port; }
int remote_port(const wasmcap_httpd_req* q) { return q->remote_port; }
int connection_fd(const wasmcap_httpd_req* q) { return q->fd; }
wasmcap_httpd_str request_path(const wasmcap_httpd_req* q) { return str(q->path); }

void set_status(wasmcap_httpd_res* s, int status) { s->status = status; }
void set_header(wasmcap_httpd_res* s, const char* n, const char* v) {
  for (auto& [key, value] : s->headers) {
    if (ieq(key, n)) {
      value = v;
      return;
    }
  }
  s->headers.emplace_back(n, v);
}
void set_content(wasmcap_httpd_res* s, const char* d, size_t n, const char* ct) {
  s->content.assign(d, n);
  s->content_type = ct;
}

void set_delay(wasmcap_httpd_res* s, unsigned ms) { s->delay_ms = std::min(ms, 60000u); }

void set_chunked(wasmcap_httpd_res* s, const char* ct, wasmcap_httpd_provider provider,
                 wasmcap_httpd_releaser releaser, void* user) {
  if (s->releaser != nullptr) s->releaser(s->user, 0);
  s->provider = provider;
  s->releaser = releaser;
  s->user = user;
  s->stream_type = ct;
}

int sink_write(wasmcap_httpd_sink* k, const char* d, size_t n) {
  std::unique_lock<std::mutex> l(k->mu);
  // Backpressure: a client that reads slowly makes the producer wait, not the buffer grow.
  k->cv.wait(l, [k] {
    return k->closed || k->aborted || k->server->stopping.load() || k->buf.size() - k->off < kStreamBufferBytes;
  });
  if (k->closed || k->aborted || k->server->stopping.load()) return 0;
  k->buf.append(d, n);
  bool woken = k->wake();
  l.unlock();
  k->resume_if(woken);
  return 1;
}

void sink_done(wasmcap_httpd_sink* k) {
  bool woken;
  {
    std::lock_guard<std::mutex> l(k->mu);
    k->done = true;
    woken = k->wake();
  }
  k->resume_if(woken);
}

const wasmcap_httpd_api kApi = {
    WASMCAP_HTTPD_ABI_VERSION, sizeof(wasmcap_httpd_api), create, destroy, bind_port,
    listen_after_bind, stop, has_header, header, body, local_addr, remote_addr, local_port,
    remote_port, set_status, set_header, set_content, set_chunked, sink_write, sink_done,
    connection_fd, set_delay, request_path,
};

}  // namespace

extern "C" __attribute__((visibility("default"))) const wasmcap_httpd_api* wasmcap_httpd_entry(
    uint32_t abi_version) {
  return abi_version == WASMCAP_HTTPD_ABI_VERSION ? &kApi : nullptr;
}

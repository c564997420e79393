// wasmcap-mcp-http.so: cpp-httplib behind the plain-C table of httpd_abi.h. Built as a loadable
// module, the only wasmcap object that links cpp-httplib (and through it OpenSSL, zlib, brotli);
// loaded by mcp::serve_http only (httpd_loader.cc). Everything here is hidden except the entry.
#include <httplib.h>
#include <sys/socket.h>

#include <memory>
#include <string>

#include "mcp/httpd_abi.h"

struct wasmcap_httpd_server {
  httplib::Server svr;
  int listen_fd = -1;
};
// Requests, responses and sinks are httplib's own objects behind the opaque C types.

namespace {

const httplib::Request& R(const wasmcap_httpd_req* q) {
  return *reinterpret_cast<const httplib::Request*>(q);
}
httplib::Response& S(wasmcap_httpd_res* s) { return *reinterpret_cast<httplib::Response*>(s); }
httplib::DataSink& K(wasmcap_httpd_sink* s) { return *reinterpret_cast<httplib::DataSink*>(s); }
wasmcap_httpd_str str(const std::string& s) { return {s.data(), s.size()}; }

wasmcap_httpd_server* create(const wasmcap_httpd_config* c) {
  try {
    auto s = std::make_unique<wasmcap_httpd_server>();
    size_t workers = c->workers == 0 ? 1 : c->workers;
    s->svr.new_task_queue = [workers] { return new httplib::ThreadPool(workers); };
    s->svr.set_payload_max_length(c->max_payload);
    s->svr.set_read_timeout(std::chrono::seconds(c->read_timeout_s));
    s->svr.set_write_timeout(std::chrono::seconds(c->write_timeout_s));
    s->svr.set_keep_alive_max_count(static_cast<size_t>(c->keep_alive_max));
    wasmcap_httpd_handler handler = c->handler;
    void* user = c->user;
    auto route = [handler, user](const char* method) {
      return [handler, user, method](const httplib::Request& req, httplib::Response& res) {
        handler(user, method, reinterpret_cast<const wasmcap_httpd_req*>(&req),
                reinterpret_cast<wasmcap_httpd_res*>(&res));
      };
    };
    std::string path = c->path;
    s->svr.Post(path, route("POST"));
    s->svr.Get(path, route("GET"));
    s->svr.Delete(path, route("DELETE"));
    // cpp-httplib 0.11 listens with a backlog of 5: a burst of clients would see resets. Keep
    // the listening socket's fd and raise the backlog after binding (listen(2) again is allowed).
    wasmcap_httpd_server* raw = s.get();
    s->svr.set_socket_options([raw](socket_t sock) {
      int yes = 1;
      ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
      raw->listen_fd = sock;
    });
    return s.release();
  } catch (...) {
    return nullptr;
  }
}

void destroy(wasmcap_httpd_server* s) { delete s; }

int bind_port(wasmcap_httpd_server* s, const char* host, int port) {
  try {
    if (port == 0) {
      port = s->svr.bind_to_any_port(host);
      if (port < 0) return -1;
    } else if (!s->svr.bind_to_port(host, port)) {
      return -1;
    }
    if (s->listen_fd >= 0) ::listen(s->listen_fd, SOMAXCONN);
    return port;
  } catch (...) {
    return -1;
  }
}

int listen_after_bind(wasmcap_httpd_server* s) {
  try {
    return s->svr.listen_after_bind() ? 1 : 0;
  } catch (...) {
    return 0;
  }
}

void stop(wasmcap_httpd_server* s) { s->svr.stop(); }

int has_header(const wasmcap_httpd_req* q, const char* name) { return R(q).headers.count(name) != 0; }

wasmcap_httpd_str header(const wasmcap_httpd_req* q, const char* name) {
  static const std::string empty;
  auto it = R(q).headers.find(name);
  return str(it == R(q).headers.end() ? empty : it->second);
}

wasmcap_httpd_str body(const wasmcap_httpd_req* q) { return str(R(q).body); }
wasmcap_httpd_str local_addr(const wasmcap_httpd_req* q) { return str(R(q).local_addr); }
wasmcap_httpd_str remote_addr(const wasmcap_httpd_req* q) { return str(R(q).remote_addr); }
int local_port(const wasmcap_httpd_req* q) { return R(q).local_port; }
int remote_port(const wasmcap_httpd_req* q) { return R(q).remote_port; }

void set_status(wasmcap_httpd_res* s, int status) { S(s).status = status; }
void set_header(wasmcap_httpd_res* s, const char* n, const char* v) { S(s).set_header(n, v); }
void set_content(wasmcap_httpd_res* s, const char* d, size_t n, const char* ct) {
  S(s).set_content(d, n, ct);
}

// The caller's state for one chunked body; released once (a copied Response would otherwise
// run the releaser twice).
struct Chunked {
  Chunked(wasmcap_httpd_provider p, wasmcap_httpd_releaser r, void* u) : provider(p), releaser(r), user(u) {}
  Chunked(const Chunked&) = delete;
  Chunked& operator=(const Chunked&) = delete;
  ~Chunked() {
    if (!released) releaser(user, 0);
  }
  wasmcap_httpd_provider provider;
  wasmcap_httpd_releaser releaser;
  void* user;
  bool released = false;
};

void set_chunked(wasmcap_httpd_res* s, const char* ct, wasmcap_httpd_provider provider,
                 wasmcap_httpd_releaser releaser, void* user) {
  auto st = std::make_shared<Chunked>(provider, releaser, user);
  S(s).set_chunked_content_provider(
      ct,
      [st](size_t, httplib::DataSink& sink) {
        return st->provider(st->user, reinterpret_cast<wasmcap_httpd_sink*>(&sink)) != 0;
      },
      [st](bool success) {
        if (st->released) return;
        st->released = true;
        st->releaser(st->user, success ? 1 : 0);
      });
}

int sink_write(wasmcap_httpd_sink* k, const char* d, size_t n) { return K(k).write(d, n) ? 1 : 0; }
void sink_done(wasmcap_httpd_sink* k) { K(k).done(); }

const wasmcap_httpd_api kApi = {
    WASMCAP_HTTPD_ABI_VERSION, sizeof(wasmcap_httpd_api), create, destroy, bind_port,
    listen_after_bind, stop, has_header, header, body, local_addr, remote_addr, local_port,
    remote_port, set_status, set_header, set_content, set_chunked, sink_write, sink_done,
};

}  // namespace

extern "C" __attribute__((visibility("default"))) const wasmcap_httpd_api* wasmcap_httpd_entry(
    uint32_t abi_version) {
  return abi_version == WASMCAP_HTTPD_ABI_VERSION ? &kApi : nullptr;
}

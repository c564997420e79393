/* The boundary between wasmcap and its HTTP server module (docs/mcp.md, "The HTTP transport
 * module"). The module (wasmcap-mcp-http.so, src/mcp/httpd_module.cc) wraps GNU libmicrohttpd
 * and is the only part of wasmcap that links it (and through it GnuTLS): a process that does not
 * serve HTTP never maps them. The module owns the mechanism (reading requests within bounds and
 * deadlines, workers, streaming); the caller owns the policy (admit, handler). `wasmcap mcp --listen` (mcp::serve_http) loads the
 * module on first use (src/mcp/httpd_loader.cc) from the install's own library directory.
 *
 * Plain C types only: the module and wasmcap may be built with different C++ runtimes, so no
 * C++ object, allocation or exception crosses this line. Strings handed out by the module stay
 * valid for the duration of the handler call they were obtained in. */
#ifndef WASMCAP_MCP_HTTPD_ABI_H
#define WASMCAP_MCP_HTTPD_ABI_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* 2: admit after the headers, the read limits and deadlines, connection_fd. 3: set_delay.
 * 4: a second path (path2), path(). */
#define WASMCAP_HTTPD_ABI_VERSION 4u
/* The one symbol the module exports: returns its table for `abi_version`, or NULL. */
#define WASMCAP_HTTPD_ENTRY "wasmcap_httpd_entry"

typedef struct wasmcap_httpd_server wasmcap_httpd_server;
typedef struct wasmcap_httpd_req wasmcap_httpd_req;
typedef struct wasmcap_httpd_res wasmcap_httpd_res;
typedef struct wasmcap_httpd_sink wasmcap_httpd_sink;

typedef struct {
  const char* data; /* never NULL */
  size_t size;
} wasmcap_httpd_str;

/* A request to the configured path (POST, GET or DELETE) whose headers are in and whose body has
 * not been read: called on the server's event loop, so it must be quick and never block. Returns
 * 1 to read the body (within max_payload) and run the handler; 0 to refuse with the status,
 * headers and content it set on `res`: that response is sent, the body is never read and the
 * connection is closed. body() is empty here. Must not unwind. */
typedef int (*wasmcap_httpd_admit)(void* user, const char* method, const wasmcap_httpd_req* req,
                                   wasmcap_httpd_res* res);
/* One admitted request with its whole body, on one of the server's workers (the only place a
 * worker is used: reading requests never holds one). Must not unwind: the caller's side catches
 * its own exceptions. */
typedef void (*wasmcap_httpd_handler)(void* user, const char* method, const wasmcap_httpd_req* req,
                                      wasmcap_httpd_res* res);
/* A chunked response body: called on the request's worker until it calls sink_done; returns 0
 * to abort the response. sink_write waits while the client reads slower than it is written
 * (a bounded buffer) and returns 0 once the client is gone or the server stops. */
typedef int (*wasmcap_httpd_provider)(void* user, wasmcap_httpd_sink* sink);
/* Called exactly once when the response is finished or abandoned (success: the body was sent
 * whole); `user` is not used after it returns. */
typedef void (*wasmcap_httpd_releaser)(void* user, int success);

/* Every bound is enforced by the module before a worker or the caller sees the request; the
 * caller chooses the values (HttpOptions, include/wasmcap/mcp.h, documents them). */
typedef struct {
  size_t workers;                  /* worker threads (admitted requests, response streams) */
  size_t max_payload;              /* request body, by Content-Length or chunked: 413 past it */
  size_t max_header_bytes;         /* request line and header lines together: 431 (414) past it */
  size_t max_header_count;         /* header lines: 431 past it */
  size_t max_connections;          /* open connections; more are closed as they are accepted */
  size_t max_connections_per_peer; /* open connections per client address (0: no such cap) */
  unsigned header_timeout_ms;      /* accept (or the previous response's end) to the headers' end */
  unsigned body_timeout_ms;        /* the headers' end to the body's end */
  unsigned idle_timeout_s;         /* no progress at all, reading or writing: closed */
  int keep_alive_max;              /* requests per connection */
  const char* path;                /* the path served ("/mcp"); others are 404 */
  const char* path2;               /* and this one (NULL: none) */
  wasmcap_httpd_admit admit;
  wasmcap_httpd_handler handler;
  void* user;
} wasmcap_httpd_config;

typedef struct {
  uint32_t abi_version; /* WASMCAP_HTTPD_ABI_VERSION */
  uint32_t size;        /* sizeof(wasmcap_httpd_api) as the module was built */

  wasmcap_httpd_server* (*create)(const wasmcap_httpd_config* config); /* NULL on failure */
  void (*destroy)(wasmcap_httpd_server* server);
  /* Binds host:port (port 0: any free port) with SO_REUSEADDR and a SOMAXCONN backlog; returns
   * the bound port, or -1. */
  int (*bind)(wasmcap_httpd_server* server, const char* host, int port);
  /* Serves until stop(); returns 1 when stopped, 0 when the server failed. */
  int (*listen)(wasmcap_httpd_server* server);
  void (*stop)(wasmcap_httpd_server* server); /* any thread */

  int (*has_header)(const wasmcap_httpd_req* req, const char* name);
  wasmcap_httpd_str (*header)(const wasmcap_httpd_req* req, const char* name); /* "" if absent */
  wasmcap_httpd_str (*body)(const wasmcap_httpd_req* req);
  wasmcap_httpd_str (*local_addr)(const wasmcap_httpd_req* req);  /* numeric */
  wasmcap_httpd_str (*remote_addr)(const wasmcap_httpd_req* req); /* numeric */
  int (*local_port)(const wasmcap_httpd_req* req);
  int (*remote_port)(const wasmcap_httpd_req* req);

  void (*set_status)(wasmcap_httpd_res* res, int status);
  void (*set_header)(wasmcap_httpd_res* res, const char* name, const char* value);
  void (*set_content)(wasmcap_httpd_res* res, const char* data, size_t size, const char* content_type);
  /* Takes ownership of `user` (released through `releaser`, also when never called). */
  void (*set_chunked)(wasmcap_httpd_res* res, const char* content_type, wasmcap_httpd_provider provider,
                      wasmcap_httpd_releaser releaser, void* user);

  int (*sink_write)(wasmcap_httpd_sink* sink, const char* data, size_t size); /* 0: peer gone */
  void (*sink_done)(wasmcap_httpd_sink* sink);

  /* The request's connection socket, for poll(2) only (never read, written or closed): valid
   * during the handler call; -1 in admit. */
  int (*connection_fd)(const wasmcap_httpd_req* req);

  /* A handler's whole (not streamed) response is sent `ms` milliseconds after the handler
   * returns (at most 60000): the connection is held meanwhile, taking no worker. The server
   * stopping sends it at once. */
  void (*set_delay)(wasmcap_httpd_res* res, unsigned ms);
  /* The request's path (config.path or config.path2). */
  wasmcap_httpd_str (*path)(const wasmcap_httpd_req* req);
} wasmcap_httpd_api;

typedef const wasmcap_httpd_api* (*wasmcap_httpd_entry_fn)(uint32_t abi_version);

#ifdef __cplusplus
}
#endif

#endif

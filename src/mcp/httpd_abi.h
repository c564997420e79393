/* The boundary between wasmcap and its HTTP server module (docs/mcp.md, "The HTTP transport
 * module"). The module (wasmcap-mcp-http.so, src/mcp/httpd_module.cc) wraps cpp-httplib and is
 * the only part of wasmcap that links it, and through it OpenSSL, zlib and brotli: a process
 * that does not serve HTTP never maps them. `wasmcap mcp --listen` (mcp::serve_http) loads the
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

#define WASMCAP_HTTPD_ABI_VERSION 1u
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

/* One request to the configured path (POST, GET or DELETE), on one of the server's workers.
 * Must not unwind: the caller's side catches its own exceptions. */
typedef void (*wasmcap_httpd_handler)(void* user, const char* method, const wasmcap_httpd_req* req,
                                      wasmcap_httpd_res* res);
/* A chunked response body: called until it calls sink_done; returns 0 to abort the response. */
typedef int (*wasmcap_httpd_provider)(void* user, wasmcap_httpd_sink* sink);
/* Called exactly once when the response is finished or abandoned (success: the body was sent
 * whole); `user` is not used after it returns. */
typedef void (*wasmcap_httpd_releaser)(void* user, int success);

typedef struct {
  size_t workers;         /* worker threads */
  size_t max_payload;     /* request body bound, bytes */
  int read_timeout_s;
  int write_timeout_s;
  int keep_alive_max;     /* requests per connection */
  const char* path;       /* the one path served ("/mcp"); others are 404 */
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
} wasmcap_httpd_api;

typedef const wasmcap_httpd_api* (*wasmcap_httpd_entry_fn)(uint32_t abi_version);

#ifdef __cplusplus
}
#endif

#endif

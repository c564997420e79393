/* wasmcap_https.h — guest SDK for wasmcap's outbound HTTPS host API (ABI v1, docs/abi-https.md).
 *
 * The only way a wasmcap plugin reaches the network. Every request is checked host-side against
 * the operator's grants (host, method, path prefix), the destination must be a public address,
 * and secrets are sent by reference: put "secret:NAME" as a header value and the host injects the
 * operator's secret NAME — its value never enters this module's memory.
 *
 * Usable from C and C++ (wasm32-wasi, clang). Two levels:
 *
 *   High level — one call, whole response in memory:
 *
 *     wasmcap_https_header_t h[] = {{"Accept", "application/json"},
 *                                 {"Authorization", "secret:github_token"}};
 *     wasmcap_https_request_t req = {0};
 *     req.method = "GET";
 *     req.url = "https://api.github.com/repos/o/r/issues";
 *     req.headers = h;
 *     req.header_count = 2;
 *     wasmcap_https_response_t resp;
 *     if (wasmcap_https_request(&req, &resp) == 0) {
 *       printf("%d %.*s\n", resp.status, (int)resp.body_len, (const char*)resp.body);
 *     } else {
 *       fprintf(stderr, "%s: %s\n", resp.error_code, resp.error_message);
 *     }
 *     wasmcap_https_response_free(&resp);
 *
 *   Low level — a handle, headers by index, the body read in chunks (for large bodies):
 *     wasmcap_https_send(), wasmcap_https_info_get(), wasmcap_https_header_get(),
 *     wasmcap_https_body_read(), wasmcap_https_error_get(), wasmcap_https_close().
 *
 * Error codes (resp.error_code) are the host's: grant_denied, url_rejected, private_address,
 * method_not_allowed, request_too_large, redirect_denied, too_many_redirects, timeout,
 * response_too_large, tls_error, network_error, rate_limited,
 * unscrubbable_response; plus two of the SDK's own:
 * "abi_error" (a host ABI call failed — see the message) and "out_of_memory".
 */
#ifndef WASMCAP_HTTPS_H_
#define WASMCAP_HTTPS_H_

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The ABI version this SDK speaks. */
#define WASMCAP_HTTPS_ABI_VERSION 1

/* ABI status codes returned by the low-level functions (0 = success). */
#define WASMCAP_HTTPS_OK 0
#define WASMCAP_HTTPS_EFAULT 1     /* a pointer/length reaches outside memory */
#define WASMCAP_HTTPS_EINVAL 2     /* malformed argument (flags, method, header name/value) */
#define WASMCAP_HTTPS_EBADF 3      /* not an open handle */
#define WASMCAP_HTTPS_EMFILE 4     /* too many open handles (8): close one */
#define WASMCAP_HTTPS_ERANGE 5     /* header index out of range */
#define WASMCAP_HTTPS_EWRONGKIND 6 /* response call on an error handle, or vice versa */
#define WASMCAP_HTTPS_EVERSION 100 /* SDK only: the host speaks another ABI version */
#define WASMCAP_HTTPS_ENOMEM 101   /* SDK only: malloc failed */

/* A request header. Both strings are NUL-terminated. A value of the form "secret:NAME" is a
 * reference to the operator's secret NAME, injected host-side. */
typedef struct wasmcap_https_header {
  const char* name;
  const char* value;
} wasmcap_https_header_t;

typedef struct wasmcap_https_request {
  const char* method;                  /* "GET", "POST", ...; NULL means "GET" */
  const char* url;                     /* https://host/path?query (NUL-terminated) */
  const wasmcap_https_header_t* headers; /* header_count entries (may be NULL when 0) */
  size_t header_count;                   /* at most 1024 */
  const void* body;                    /* body_len bytes (may be NULL when 0) */
  size_t body_len;
  int strict; /* nonzero: a response over the size cap fails (response_too_large) instead of
                 being truncated */
} wasmcap_https_request_t;

/* A response header (owned by the response; NUL-terminated copies, lengths exclude the NUL). */
typedef struct wasmcap_https_field {
  char* name;
  size_t name_len;
  char* value;
  size_t value_len;
} wasmcap_https_field_t;

typedef struct wasmcap_https_response {
  int ok;     /* 1: an HTTP response (the fields below up to truncated); 0: an error */
  int status; /* HTTP status code */
  wasmcap_https_field_t* headers;
  size_t header_count;
  unsigned char* body; /* body_len bytes, followed by a NUL (not counted) */
  size_t body_len;
  int truncated;       /* the body was cut at the operator's response-size cap */
  char* error_code;    /* when !ok: "grant_denied", ... (see above) */
  char* error_message; /* when !ok: a human-readable explanation */
} wasmcap_https_response_t;

/* Sends `req` and reads the whole response into `resp`. Returns 0 when an HTTP response arrived
 * (any status, resp->ok == 1) and -1 otherwise (resp->error_code / error_message set). Always
 * release `resp` with wasmcap_https_response_free(), whatever the result. */
int wasmcap_https_request(const wasmcap_https_request_t* req, wasmcap_https_response_t* resp);

/* Frees everything wasmcap_https_request() allocated in `resp` and zeroes it. */
void wasmcap_https_response_free(wasmcap_https_response_t* resp);

/* ---- Low level -------------------------------------------------------------------------- */

typedef uint32_t wasmcap_https_handle;

/* The fixed 24-byte struct the host fills (ABI v1). */
typedef struct wasmcap_https_info {
  uint32_t kind;         /* 0: response, 1: error */
  uint32_t status;       /* HTTP status (0 for errors) */
  uint64_t body_len;     /* bytes available through wasmcap_https_body_read() */
  uint32_t header_count; /* response headers */
  uint32_t flags;        /* bit 0: truncated */
} wasmcap_https_info_t;

#define WASMCAP_HTTPS_KIND_RESPONSE 0
#define WASMCAP_HTTPS_KIND_ERROR 1
#define WASMCAP_HTTPS_FLAG_TRUNCATED 1u

/* The host's ABI version (1 for this SDK). */
uint32_t wasmcap_https_abi_version(void);

/* Sends `req`; on success stores a handle holding the outcome (a response or a structured
 * error). Returns an ABI status code. Up to 8 handles may be open at once. */
int wasmcap_https_send(const wasmcap_https_request_t* req, wasmcap_https_handle* out);

int wasmcap_https_info_get(wasmcap_https_handle h, wasmcap_https_info_t* out);

/* Copies response header `index` into `out` (malloc'd; free with wasmcap_https_field_free). */
int wasmcap_https_header_get(wasmcap_https_handle h, uint32_t index, wasmcap_https_field_t* out);
void wasmcap_https_field_free(wasmcap_https_field_t* f);

/* Reads up to `len` body bytes starting at `offset` into `buf`; *nread = 0 at the end. */
int wasmcap_https_body_read(wasmcap_https_handle h, uint64_t offset, void* buf, size_t len,
                            size_t* nread);

/* For an error handle: the code and message (malloc'd, NUL-terminated; caller frees). */
int wasmcap_https_error_get(wasmcap_https_handle h, char** code, char** message);

int wasmcap_https_close(wasmcap_https_handle h);

/* "ok", "fault", "inval", "badhandle", "toomany", "range", "wrongkind", "version", "nomem". */
const char* wasmcap_https_errno_name(int e);

#ifdef __cplusplus
}
#endif

#endif /* WASMCAP_HTTPS_H_ */

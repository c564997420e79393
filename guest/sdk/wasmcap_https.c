/* wasmcap_https.c — the guest SDK over the wasmcap_https import module (ABI v1).
 * See wasmcap_https.h for the API and docs/abi-https.md for the ABI. */
#include "wasmcap_https.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WASMCAP_IMPORT(name) __attribute__((import_module("wasmcap_https"), import_name(name)))

/* The raw imports. Pointers and lengths are i32 in wasm32. */
WASMCAP_IMPORT("version") uint32_t __wasmcap_https_version(void);
WASMCAP_IMPORT("request")
uint32_t __wasmcap_https_request(const char* method, uint32_t method_len, const char* url,
                                 uint32_t url_len, const void* headers, uint32_t header_count,
                                 const void* body, uint32_t body_len, uint32_t flags,
                                 uint32_t* handle_out);
WASMCAP_IMPORT("response_info") uint32_t __wasmcap_https_response_info(uint32_t h, void* info);
WASMCAP_IMPORT("header_name")
uint32_t __wasmcap_https_header_name(uint32_t h, uint32_t index, void* buf, uint32_t buf_len,
                                     uint32_t* len_out);
WASMCAP_IMPORT("header_value")
uint32_t __wasmcap_https_header_value(uint32_t h, uint32_t index, void* buf, uint32_t buf_len,
                                      uint32_t* len_out);
WASMCAP_IMPORT("body_read")
uint32_t __wasmcap_https_body_read(uint32_t h, uint64_t offset, void* buf, uint32_t buf_len,
                                   uint32_t* nread_out);
WASMCAP_IMPORT("error_code")
uint32_t __wasmcap_https_error_code(uint32_t h, void* buf, uint32_t buf_len, uint32_t* len_out);
WASMCAP_IMPORT("error_message")
uint32_t __wasmcap_https_error_message(uint32_t h, void* buf, uint32_t buf_len,
                                       uint32_t* len_out);
WASMCAP_IMPORT("close") uint32_t __wasmcap_https_close(uint32_t h);

/* The ABI's header entry: {name_ptr, name_len, value_ptr, value_len}, 16 bytes on wasm32. */
typedef struct {
  const char* name;
  uint32_t name_len;
  const char* value;
  uint32_t value_len;
} abi_header;
_Static_assert(sizeof(abi_header) == 16, "ABI header entries are 16 bytes");
_Static_assert(sizeof(wasmcap_https_info_t) == 24, "response_info writes 24 bytes");

#define MAX_HEADERS 1024 /* the ABI bound (kMaxRequestHeaders) */

uint32_t wasmcap_https_abi_version(void) { return __wasmcap_https_version(); }

const char* wasmcap_https_errno_name(int e) {
  switch (e) {
    case WASMCAP_HTTPS_OK: return "ok";
    case WASMCAP_HTTPS_EFAULT: return "fault";
    case WASMCAP_HTTPS_EINVAL: return "inval";
    case WASMCAP_HTTPS_EBADF: return "badhandle";
    case WASMCAP_HTTPS_EMFILE: return "toomany";
    case WASMCAP_HTTPS_ERANGE: return "range";
    case WASMCAP_HTTPS_EWRONGKIND: return "wrongkind";
    case WASMCAP_HTTPS_EVERSION: return "version";
    case WASMCAP_HTTPS_ENOMEM: return "nomem";
    default: return "unknown";
  }
}

int wasmcap_https_send(const wasmcap_https_request_t* req, wasmcap_https_handle* out) {
  static int checked_version = 0;
  if (!checked_version) {
    if (__wasmcap_https_version() != WASMCAP_HTTPS_ABI_VERSION) return WASMCAP_HTTPS_EVERSION;
    checked_version = 1;
  }
  if (req == NULL || req->url == NULL || out == NULL) return WASMCAP_HTTPS_EINVAL;
  if (req->header_count > MAX_HEADERS) return WASMCAP_HTTPS_EINVAL;
  abi_header* entries = NULL;
  if (req->header_count > 0) {
    entries = (abi_header*)malloc(req->header_count * sizeof(abi_header));
    if (entries == NULL) return WASMCAP_HTTPS_ENOMEM;
  }
  for (size_t i = 0; i < req->header_count; ++i) {
    const wasmcap_https_header_t* h = &req->headers[i];
    if (h->name == NULL || h->value == NULL) {
      free(entries);
      return WASMCAP_HTTPS_EINVAL;
    }
    entries[i].name = h->name;
    entries[i].name_len = (uint32_t)strlen(h->name);
    entries[i].value = h->value;
    entries[i].value_len = (uint32_t)strlen(h->value);
  }
  const char* method = req->method != NULL ? req->method : "GET";
  int rc = (int)__wasmcap_https_request(method, (uint32_t)strlen(method), req->url,
                                        (uint32_t)strlen(req->url), entries,
                                        (uint32_t)req->header_count, req->body,
                                        (uint32_t)req->body_len, req->strict ? 1u : 0u, out);
  free(entries);
  return rc;
}

int wasmcap_https_info_get(wasmcap_https_handle h, wasmcap_https_info_t* out) {
  return (int)__wasmcap_https_response_info(h, out);
}

typedef uint32_t (*string_getter)(uint32_t h, uint32_t index, void* buf, uint32_t buf_len,
                                  uint32_t* len_out);

/* Fetches a host string in two steps: its length (buf_len 0), then exactly that many bytes. */
static int get_string(string_getter get, uint32_t h, uint32_t index, char** out, size_t* out_len) {
  uint32_t len = 0;
  int rc = (int)get(h, index, NULL, 0, &len);
  if (rc != 0) return rc;
  char* s = (char*)malloc((size_t)len + 1);
  if (s == NULL) return WASMCAP_HTTPS_ENOMEM;
  uint32_t again = 0;
  rc = (int)get(h, index, s, len, &again);
  if (rc != 0) {
    free(s);
    return rc;
  }
  s[len < again ? len : again] = '\0';
  *out = s;
  if (out_len != NULL) *out_len = len < again ? len : again;
  return 0;
}

static uint32_t get_error_code(uint32_t h, uint32_t index, void* buf, uint32_t n, uint32_t* len) {
  (void)index;
  return __wasmcap_https_error_code(h, buf, n, len);
}
static uint32_t get_error_message(uint32_t h, uint32_t index, void* buf, uint32_t n,
                                  uint32_t* len) {
  (void)index;
  return __wasmcap_https_error_message(h, buf, n, len);
}

int wasmcap_https_header_get(wasmcap_https_handle h, uint32_t index, wasmcap_https_field_t* out) {
  memset(out, 0, sizeof *out);
  int rc = get_string(__wasmcap_https_header_name, h, index, &out->name, &out->name_len);
  if (rc != 0) return rc;
  rc = get_string(__wasmcap_https_header_value, h, index, &out->value, &out->value_len);
  if (rc != 0) wasmcap_https_field_free(out);
  return rc;
}

void wasmcap_https_field_free(wasmcap_https_field_t* f) {
  free(f->name);
  free(f->value);
  memset(f, 0, sizeof *f);
}

int wasmcap_https_body_read(wasmcap_https_handle h, uint64_t offset, void* buf, size_t len,
                            size_t* nread) {
  uint32_t n = 0;
  int rc = (int)__wasmcap_https_body_read(h, offset, buf, (uint32_t)len, &n);
  if (nread != NULL) *nread = rc == 0 ? n : 0;
  return rc;
}

int wasmcap_https_error_get(wasmcap_https_handle h, char** code, char** message) {
  *code = NULL;
  *message = NULL;
  int rc = get_string(get_error_code, h, 0, code, NULL);
  if (rc != 0) return rc;
  rc = get_string(get_error_message, h, 0, message, NULL);
  if (rc != 0) {
    free(*code);
    *code = NULL;
  }
  return rc;
}

int wasmcap_https_close(wasmcap_https_handle h) { return (int)__wasmcap_https_close(h); }

/* ---- High level ---------------------------------------------------------------------------- */

static char* dup_str(const char* s) {
  size_t n = strlen(s);
  char* d = (char*)malloc(n + 1);
  if (d != NULL) memcpy(d, s, n + 1);
  return d;
}

/* Fills resp with an SDK-side error for ABI status `rc` during `step`. */
static int sdk_error(wasmcap_https_response_t* resp, int rc, const char* step) {
  resp->ok = 0;
  const int oom = rc == WASMCAP_HTTPS_ENOMEM;
  resp->error_code = dup_str(oom ? "out_of_memory" : "abi_error");
  char msg[160];
  if (rc == WASMCAP_HTTPS_EVERSION) {
    snprintf(msg, sizeof msg, "the host speaks wasmcap_https ABI version %u; this SDK needs %d",
             (unsigned)__wasmcap_https_version(), WASMCAP_HTTPS_ABI_VERSION);
  } else {
    snprintf(msg, sizeof msg, "wasmcap_https %s failed: %s", step, wasmcap_https_errno_name(rc));
  }
  resp->error_message = dup_str(msg);
  return -1;
}

int wasmcap_https_request(const wasmcap_https_request_t* req, wasmcap_https_response_t* resp) {
  memset(resp, 0, sizeof *resp);
  wasmcap_https_handle h = 0;
  int rc = wasmcap_https_send(req, &h);
  if (rc != 0) return sdk_error(resp, rc, "request");
  wasmcap_https_info_t info;
  rc = wasmcap_https_info_get(h, &info);
  if (rc != 0) {
    wasmcap_https_close(h);
    return sdk_error(resp, rc, "response_info");
  }
  if (info.kind != WASMCAP_HTTPS_KIND_RESPONSE) {
    rc = wasmcap_https_error_get(h, &resp->error_code, &resp->error_message);
    wasmcap_https_close(h);
    if (rc != 0) return sdk_error(resp, rc, "error_code");
    resp->ok = 0;
    return -1;
  }
  resp->status = (int)info.status;
  resp->truncated = (info.flags & WASMCAP_HTTPS_FLAG_TRUNCATED) != 0;
  if (info.body_len >= SIZE_MAX) {
    wasmcap_https_close(h);
    return sdk_error(resp, WASMCAP_HTTPS_ENOMEM, "body_read");
  }
  if (info.header_count > 0) {
    resp->headers =
        (wasmcap_https_field_t*)calloc(info.header_count, sizeof(wasmcap_https_field_t));
    if (resp->headers == NULL) {
      wasmcap_https_close(h);
      return sdk_error(resp, WASMCAP_HTTPS_ENOMEM, "header_name");
    }
    for (uint32_t i = 0; i < info.header_count; ++i) {
      rc = wasmcap_https_header_get(h, i, &resp->headers[i]);
      if (rc != 0) {
        wasmcap_https_close(h);
        return sdk_error(resp, rc, "header_name");
      }
      resp->header_count = i + 1;
    }
  }
  resp->body = (unsigned char*)malloc((size_t)info.body_len + 1);
  if (resp->body == NULL) {
    wasmcap_https_close(h);
    return sdk_error(resp, WASMCAP_HTTPS_ENOMEM, "body_read");
  }
  size_t got = 0;
  while (got < (size_t)info.body_len) {
    size_t n = 0;
    rc = wasmcap_https_body_read(h, got, resp->body + got, (size_t)info.body_len - got, &n);
    if (rc != 0) {
      wasmcap_https_close(h);
      return sdk_error(resp, rc, "body_read");
    }
    if (n == 0) break;
    got += n;
  }
  resp->body[got] = '\0';
  resp->body_len = got;
  wasmcap_https_close(h);
  resp->ok = 1;
  return 0;
}

void wasmcap_https_response_free(wasmcap_https_response_t* resp) {
  if (resp == NULL) return;
  for (size_t i = 0; i < resp->header_count; ++i) wasmcap_https_field_free(&resp->headers[i]);
  free(resp->headers);
  free(resp->body);
  free(resp->error_code);
  free(resp->error_message);
  memset(resp, 0, sizeof *resp);
}

/* fetch — a curl-like wasmcap plugin over the https host API.
 *
 *   fetch [-X METHOD] [-H 'Name: value']... [-H 'Name: secret:NAME'] [-d BODY] [--strict] URL
 *
 * Prints exactly one JSON object on stdout:
 *   {"status":200,"headers":{"content-type":"..."},"body":"...","truncated":false}   exit 0
 *   {"error":{"code":"grant_denied","message":"..."}}                                 exit 1
 * Usage errors go to stderr, exit 2.
 *
 * Header names are lowercased; repeated headers are joined with ", " (RFC 9110 field combining)
 * so "headers" stays a JSON object with distinct keys. The body is streamed from the host in
 * 16 KiB chunks and escaped as a JSON string: control characters, quotes and backslashes are
 * escaped, valid UTF-8 is kept, and every byte that is not part of valid UTF-8 becomes \uFFFD.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wasmcap_https.h"

#define CHUNK 16384
#define MAX_HEADERS 64

static void put(const char* s, size_t n) { fwrite(s, 1, n, stdout); }
static void puts_raw(const char* s) { put(s, strlen(s)); }

/* Length of the valid UTF-8 sequence starting at p[0] (1..4), 0 when p[0] starts no valid
 * sequence, or -1 when the bytes so far are a valid but incomplete prefix (more input needed). */
static int utf8_seq(const unsigned char* p, size_t n) {
  unsigned char c = p[0];
  if (c < 0x80) return 1;
  int len;
  unsigned char lo = 0x80, hi = 0xBF; /* allowed range of the second byte */
  if (c >= 0xC2 && c <= 0xDF) {
    len = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    len = 3;
    if (c == 0xE0) lo = 0xA0;            /* no overlong forms */
    if (c == 0xED) hi = 0x9F;            /* no surrogates */
  } else if (c >= 0xF0 && c <= 0xF4) {
    len = 4;
    if (c == 0xF0) lo = 0x90;            /* no overlong forms */
    if (c == 0xF4) hi = 0x8F;            /* nothing above U+10FFFF */
  } else {
    return 0;
  }
  for (int i = 1; i < len; ++i) {
    if ((size_t)i >= n) return -1;
    unsigned char lo_i = i == 1 ? lo : 0x80, hi_i = i == 1 ? hi : 0xBF;
    if (p[i] < lo_i || p[i] > hi_i) return 0;
  }
  return len;
}

/* Escapes p[0..n) as JSON string content. Returns how many bytes were consumed: all of them,
 * unless `more` is set and the input ends inside a valid but incomplete UTF-8 sequence (the
 * caller keeps those bytes for the next chunk). */
static size_t json_escape(const unsigned char* p, size_t n, int more) {
  size_t i = 0, run = 0; /* run: start of bytes that can be copied as they are */
  while (i < n) {
    unsigned char c = p[i];
    const char* esc = NULL;
    char ubuf[8];
    int seq = 1;
    if (c == '"') {
      esc = "\\\"";
    } else if (c == '\\') {
      esc = "\\\\";
    } else if (c < 0x20 || c == 0x7F) {
      switch (c) {
        case '\n': esc = "\\n"; break;
        case '\r': esc = "\\r"; break;
        case '\t': esc = "\\t"; break;
        case '\b': esc = "\\b"; break;
        case '\f': esc = "\\f"; break;
        default:
          snprintf(ubuf, sizeof ubuf, "\\u%04x", c);
          esc = ubuf;
      }
    } else if (c >= 0x80) {
      seq = utf8_seq(p + i, n - i);
      if (seq < 0) {
        if (more) break; /* incomplete at the chunk's end: wait for the rest */
        seq = 0;         /* truncated at the very end of the body: invalid */
      }
      if (seq == 0) {
        esc = "\\ufffd";
        seq = 1;
      }
    }
    if (esc != NULL) {
      put((const char*)p + run, i - run);
      puts_raw(esc);
      i += seq;
      run = i;
    } else {
      i += seq;
    }
  }
  put((const char*)p + run, i - run);
  return i;
}

static void json_string(const char* s, size_t n) {
  putchar('"');
  json_escape((const unsigned char*)s, n, 0);
  putchar('"');
}

static int print_error(const char* code, const char* message) {
  puts_raw("{\"error\":{\"code\":");
  json_string(code, strlen(code));
  puts_raw(",\"message\":");
  json_string(message, strlen(message));
  puts_raw("}}\n");
  fflush(stdout);
  return 1;
}

static int abi_error(const char* step, int rc) {
  char msg[128];
  snprintf(msg, sizeof msg, "wasmcap_https %s failed: %s", step, wasmcap_https_errno_name(rc));
  return print_error(rc == WASMCAP_HTTPS_ENOMEM ? "out_of_memory" : "abi_error", msg);
}

static int usage(const char* why) {
  fprintf(stderr,
          "fetch: %s\nusage: fetch [-X METHOD] [-H 'Name: value']... [-d BODY] [--strict] URL\n"
          "  a header value 'secret:NAME' sends the operator's secret NAME (injected by the "
          "host)\n",
          why);
  return 2;
}

static void lowercase(char* s) {
  for (; *s; ++s) *s = (char)tolower((unsigned char)*s);
}

static unsigned char chunk[CHUNK + 4];

int main(int argc, char** argv) {
  const char* method = "GET";
  const char* url = NULL;
  const char* body = NULL;
  int strict = 0;
  wasmcap_https_header_t headers[MAX_HEADERS];
  char* header_names[MAX_HEADERS];
  size_t nheaders = 0;
  for (int i = 1; i < argc; ++i) {
    const char* a = argv[i];
    if ((strcmp(a, "-X") == 0 || strcmp(a, "-H") == 0 || strcmp(a, "-d") == 0) && i + 1 >= argc) {
      return usage("option needs a value");
    }
    if (strcmp(a, "-X") == 0) {
      char* m = strdup(argv[++i]);
      if (m == NULL) return abi_error("args", WASMCAP_HTTPS_ENOMEM);
      for (char* c = m; *c; ++c) *c = (char)toupper((unsigned char)*c);
      method = m;
    } else if (strcmp(a, "-H") == 0) {
      const char* h = argv[++i];
      const char* colon = strchr(h, ':');
      if (colon == NULL || colon == h) return usage("-H needs 'Name: value'");
      if (nheaders == MAX_HEADERS) return usage("too many -H options");
      char* name = strndup(h, (size_t)(colon - h));
      if (name == NULL) return abi_error("args", WASMCAP_HTTPS_ENOMEM);
      const char* value = colon + 1;
      while (*value == ' ' || *value == '\t') ++value;
      header_names[nheaders] = name;
      headers[nheaders].name = name;
      headers[nheaders].value = value;
      ++nheaders;
    } else if (strcmp(a, "-d") == 0) {
      body = argv[++i];
    } else if (strcmp(a, "--strict") == 0) {
      strict = 1;
    } else if (a[0] == '-' && a[1] != '\0') {
      return usage("unknown option");
    } else if (url == NULL) {
      url = a;
    } else {
      return usage("more than one URL");
    }
  }
  if (url == NULL) return usage("no URL");

  wasmcap_https_request_t req;
  memset(&req, 0, sizeof req);
  req.method = method;
  req.url = url;
  req.headers = headers;
  req.header_count = nheaders;
  req.body = body;
  req.body_len = body != NULL ? strlen(body) : 0;
  req.strict = strict;

  wasmcap_https_handle h = 0;
  int rc = wasmcap_https_send(&req, &h);
  for (size_t i = 0; i < nheaders; ++i) free(header_names[i]);
  if (rc != 0) return abi_error("request", rc);

  wasmcap_https_info_t info;
  rc = wasmcap_https_info_get(h, &info);
  if (rc != 0) return abi_error("response_info", rc);
  if (info.kind != WASMCAP_HTTPS_KIND_RESPONSE) {
    char *code = NULL, *message = NULL;
    rc = wasmcap_https_error_get(h, &code, &message);
    if (rc != 0) return abi_error("error_code", rc);
    int r = print_error(code, message);
    free(code);
    free(message);
    wasmcap_https_close(h);
    return r;
  }

  /* All headers first (they are small and bounded by the host), then combine repeats. */
  wasmcap_https_field_t* fields = NULL;
  if (info.header_count > 0) {
    fields = (wasmcap_https_field_t*)calloc(info.header_count, sizeof *fields);
    if (fields == NULL) return abi_error("header_name", WASMCAP_HTTPS_ENOMEM);
  }
  for (uint32_t i = 0; i < info.header_count; ++i) {
    rc = wasmcap_https_header_get(h, i, &fields[i]);
    if (rc != 0) return abi_error("header_name", rc);
    lowercase(fields[i].name);
  }
  printf("{\"status\":%u,\"headers\":{", (unsigned)info.status);
  int first = 1;
  for (uint32_t i = 0; i < info.header_count; ++i) {
    if (fields[i].name == NULL) continue; /* already combined into an earlier one */
    if (!first) putchar(',');
    first = 0;
    json_string(fields[i].name, fields[i].name_len);
    puts_raw(":\"");
    json_escape((const unsigned char*)fields[i].value, fields[i].value_len, 0);
    for (uint32_t j = i + 1; j < info.header_count; ++j) {
      if (fields[j].name != NULL && strcmp(fields[j].name, fields[i].name) == 0) {
        puts_raw(", ");
        json_escape((const unsigned char*)fields[j].value, fields[j].value_len, 0);
        wasmcap_https_field_free(&fields[j]);
      }
    }
    putchar('"');
  }
  for (uint32_t i = 0; i < info.header_count; ++i) wasmcap_https_field_free(&fields[i]);
  free(fields);

  /* The body, streamed: a few bytes of an incomplete UTF-8 sequence carry over between chunks. */
  puts_raw("},\"body\":\"");
  uint64_t offset = 0;
  size_t carry = 0;
  for (;;) {
    size_t n = 0;
    rc = wasmcap_https_body_read(h, offset, chunk + carry, CHUNK, &n);
    if (rc != 0) {
      /* Cannot happen for an open response handle; keep the output one valid object anyway. */
      puts_raw("\",\"truncated\":true}\n");
      fflush(stdout);
      fprintf(stderr, "fetch: body_read failed: %s\n", wasmcap_https_errno_name(rc));
      return 1;
    }
    offset += n;
    size_t have = carry + n;
    size_t used = json_escape(chunk, have, n != 0);
    carry = have - used; /* at most 3 bytes */
    memmove(chunk, chunk + used, carry);
    if (n == 0) break;
  }
  printf("\",\"truncated\":%s}\n", (info.flags & WASMCAP_HTTPS_FLAG_TRUNCATED) ? "true" : "false");
  wasmcap_https_close(h);
  fflush(stdout);
  return 0;
}

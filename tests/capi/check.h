/* The C API tests' checks (capi_test.c, capi_call_test.c), in C: each failed check is printed
 * with its line and counted in `failures`, and the test goes on. */
#ifndef WASMCAP_TESTS_CAPI_CHECK_H
#define WASMCAP_TESTS_CAPI_CHECK_H

#include <stdio.h>
#include <string.h>

#include "wasmcap/wasmcap.h"

static int failures = 0;

#define CHECK(cond)                                                              \
  do {                                                                           \
    if (!(cond)) {                                                               \
      fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
      failures++;                                                                \
    }                                                                            \
  } while (0)

/* Checks that `err` is an error of `code`, whose message contains `needle` (if not NULL), and
 * frees it. */
#define CHECK_ERR(err, code, needle) check_err((err), (code), (needle), __LINE__)
static void check_err(wasmcap_error_t* err, wasmcap_errcode_t code, const char* needle, int line) {
  if (err == NULL) {
    fprintf(stderr, "%s:%d: expected error %s, got success\n", __FILE__, line, wasmcap_errcode_name(code));
    failures++;
    return;
  }
  if (wasmcap_error_code(err) != code) {
    fprintf(stderr, "%s:%d: expected error %s, got %s: %s\n", __FILE__, line, wasmcap_errcode_name(code),
            wasmcap_errcode_name(wasmcap_error_code(err)), wasmcap_error_message(err));
    failures++;
  } else if (needle != NULL && strstr(wasmcap_error_message(err), needle) == NULL) {
    fprintf(stderr, "%s:%d: message '%s' lacks '%s'\n", __FILE__, line, wasmcap_error_message(err), needle);
    failures++;
  }
  wasmcap_error_delete(err);
}

/* Checks that `err` is NULL (else prints and frees it); 1 when it was. */
#define CHECK_OK(err) check_ok((err), __LINE__)
static int check_ok(wasmcap_error_t* err, int line) {
  if (err != NULL) {
    fprintf(stderr, "%s:%d: unexpected error %s: %s\n", __FILE__, line,
            wasmcap_errcode_name(wasmcap_error_code(err)), wasmcap_error_message(err));
    failures++;
    wasmcap_error_delete(err);
    return 0;
  }
  return 1;
}

#endif

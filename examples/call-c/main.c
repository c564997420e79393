/* call-c: calls a function a WebAssembly component exports, with typed values, through the
 * wasmcap C API (wasmcap/wasmcap.h, docs/c-api.md "Calling a component's exports").
 *
 *   call-c COMPONENT                      lists the exported functions and their WIT types
 *   call-c COMPONENT FUNCTION [ARG...]    calls one; each ARG is KIND:VALUE, KIND one of
 *                                         bool s8 u8 s16 u16 s32 u32 s64 u64 f32 f64 char string
 *
 * The result is printed as a tree (records, variants, lists...). Everything in it is the
 * component's text: printed with anything but printable ASCII escaped. Exit status: 0, 1 when
 * the result is a result<T, E>'s err, else the error's (wasmcap_errcode_exit_status). */
#include <wasmcap/wasmcap.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int fail(wasmcap_error_t* err) {
  int status = wasmcap_errcode_exit_status(wasmcap_error_code(err));
  fprintf(stderr, "call-c: %s: %s\n", wasmcap_errcode_name(wasmcap_error_code(err)), wasmcap_error_message(err));
  wasmcap_error_delete(err);
  return status;
}

/* Untrusted text, printable ASCII only. */
static void print_text(const char* s, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    unsigned char c = (unsigned char)s[i];
    if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') putchar(c);
    else printf("\\x%02x", c);
  }
}

static void print_val(const wasmcap_val_t* v) {
  size_t n = 0;
  const char* s;
  switch (wasmcap_val_kind(v)) {
    case WASMCAP_VAL_BOOL: printf("%s", wasmcap_val_u64(v) ? "true" : "false"); break;
    case WASMCAP_VAL_S8: case WASMCAP_VAL_S16: case WASMCAP_VAL_S32: case WASMCAP_VAL_S64:
      printf("%" PRId64, wasmcap_val_s64(v));
      break;
    case WASMCAP_VAL_U8: case WASMCAP_VAL_U16: case WASMCAP_VAL_U32: case WASMCAP_VAL_U64:
      printf("%" PRIu64, wasmcap_val_u64(v));
      break;
    case WASMCAP_VAL_F32: case WASMCAP_VAL_F64: printf("%.17g", wasmcap_val_f64(v)); break;
    case WASMCAP_VAL_CHAR: printf("char U+%04" PRIX64, wasmcap_val_u64(v)); break;
    case WASMCAP_VAL_STRING:
      s = wasmcap_val_string(v, &n);
      putchar('"');
      print_text(s, n);
      putchar('"');
      break;
    case WASMCAP_VAL_ENUM: case WASMCAP_VAL_VARIANT:
      s = wasmcap_val_string(v, &n);
      print_text(s, n);
      if (wasmcap_val_count(v) == 1) {
        putchar('(');
        print_val(wasmcap_val_item(v, 0));
        putchar(')');
      }
      break;
    case WASMCAP_VAL_OPTION:
      if (wasmcap_val_count(v) == 0) {
        printf("none");
      } else {
        printf("some(");
        print_val(wasmcap_val_item(v, 0));
        putchar(')');
      }
      break;
    case WASMCAP_VAL_RESULT:
      printf("%s", wasmcap_val_u64(v) ? "err" : "ok");
      if (wasmcap_val_count(v) == 1) {
        putchar('(');
        print_val(wasmcap_val_item(v, 0));
        putchar(')');
      }
      break;
    case WASMCAP_VAL_RECORD:
      putchar('{');
      for (size_t i = 0; i < wasmcap_val_count(v); ++i) {
        const char* name = wasmcap_val_name(v, i);
        printf("%s", i ? ", " : "");
        print_text(name, strlen(name));
        printf(": ");
        print_val(wasmcap_val_item(v, i));
      }
      putchar('}');
      break;
    case WASMCAP_VAL_FLAGS:
      putchar('{');
      for (size_t i = 0; i < wasmcap_val_count(v); ++i) {
        const char* name = wasmcap_val_name(v, i);
        printf("%s", i ? ", " : "");
        print_text(name, strlen(name));
      }
      putchar('}');
      break;
    case WASMCAP_VAL_LIST: case WASMCAP_VAL_TUPLE: {
      int list = wasmcap_val_kind(v) == WASMCAP_VAL_LIST;
      putchar(list ? '[' : '(');
      for (size_t i = 0; i < wasmcap_val_count(v); ++i) {
        printf("%s", i ? ", " : "");
        print_val(wasmcap_val_item(v, i));
      }
      putchar(list ? ']' : ')');
      break;
    }
  }
}

/* KIND:VALUE as a new value; NULL (and a message) when it is not one. */
static wasmcap_val_t* parse_arg(const char* arg) {
  const char* colon = strchr(arg, ':');
  if (colon == NULL) {
    fprintf(stderr, "call-c: argument '%s' is not KIND:VALUE\n", arg);
    return NULL;
  }
  size_t kl = (size_t)(colon - arg);
  const char* v = colon + 1;
  char* end = NULL;
#define KIND(k) (kl == strlen(k) && strncmp(arg, k, kl) == 0)
  if (KIND("string")) return wasmcap_val_new_string(v, strlen(v));
  if (KIND("bool")) return wasmcap_val_new_bool(strcmp(v, "true") == 0);
  if (KIND("f32")) return wasmcap_val_new_f32(strtof(v, &end));
  if (KIND("f64")) return wasmcap_val_new_f64(strtod(v, &end));
  if (KIND("char")) return wasmcap_val_new_char((uint32_t)strtoul(v, &end, 0));
  if (KIND("s8") || KIND("s16") || KIND("s32") || KIND("s64")) {
    long long x = strtoll(v, &end, 10);
    if (KIND("s8")) return wasmcap_val_new_s8((int8_t)x);
    if (KIND("s16")) return wasmcap_val_new_s16((int16_t)x);
    if (KIND("s32")) return wasmcap_val_new_s32((int32_t)x);
    return wasmcap_val_new_s64((int64_t)x);
  }
  if (KIND("u8") || KIND("u16") || KIND("u32") || KIND("u64")) {
    unsigned long long x = strtoull(v, &end, 10);
    if (KIND("u8")) return wasmcap_val_new_u8((uint8_t)x);
    if (KIND("u16")) return wasmcap_val_new_u16((uint16_t)x);
    if (KIND("u32")) return wasmcap_val_new_u32((uint32_t)x);
    return wasmcap_val_new_u64((uint64_t)x);
  }
#undef KIND
  fprintf(stderr, "call-c: unknown kind in '%s'\n", arg);
  return NULL;
}

int main(int argc, char** argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: call-c COMPONENT [FUNCTION [KIND:VALUE...]]\n");
    return 64;
  }
  wasmcap_engine_t* engine = NULL;
  wasmcap_module_t* module = NULL;
  wasmcap_error_t* err = wasmcap_engine_new("interp", NULL, &engine);
  if (err) return fail(err);
  if ((err = wasmcap_module_new_from_file(engine, argv[1], &module))) {
    wasmcap_engine_delete(engine);
    return fail(err);
  }
  int status = 0;
  if (argc == 2) {
    for (size_t i = 0; i < wasmcap_module_export_count(module); ++i) {
      const char* name = wasmcap_module_export_name(module, i);
      const char* sig = wasmcap_module_export_signature(module, i);
      print_text(name, strlen(name));
      if (sig != NULL) print_text(sig, strlen(sig));
      putchar('\n');
    }
  } else {
    size_t nargs = (size_t)(argc - 3);
    wasmcap_val_t** args = calloc(nargs + 1, sizeof *args);
    for (size_t i = 0; i < nargs && status == 0; ++i) {
      if ((args[i] = parse_arg(argv[3 + i])) == NULL) status = 64;
    }
    if (status == 0) {
      wasmcap_config_t* config = wasmcap_config_new();
      wasmcap_config_set_timeout_ms(config, 5000);
      wasmcap_val_t* result = NULL;
      err = wasmcap_call(engine, module, config, argv[2], (const wasmcap_val_t* const*)args, nargs, &result, NULL);
      if (err) {
        status = fail(err);
      } else if (result != NULL) {
        print_val(result);
        putchar('\n');
        if (wasmcap_val_kind(result) == WASMCAP_VAL_RESULT && wasmcap_val_u64(result) == 1) status = 1;
        wasmcap_val_delete(result);
      }
      wasmcap_config_delete(config);
    }
    for (size_t i = 0; i < nargs; ++i) wasmcap_val_delete(args[i]);
    free(args);
  }
  wasmcap_module_delete(module);
  wasmcap_engine_delete(engine);
  return status;
}

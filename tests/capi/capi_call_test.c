/* Typed component calls through the C API (wasmcap_call, wasmcap_val_*), compiled as C: every
 * kind of WIT value as an argument and as a result, on real component binaries
 * (tests/component/wat/abi.wat and call.wat, made binaries by run_components.sh, which sets
 * WASMCAP_TEST_COMPONENT_WAT_DIR), the refusals of arguments that are not of their parameter's
 * kind (each naming its path), hostile results (a string that is not UTF-8, a list beyond the
 * guest's memory), traps and deadlines, and the value API's own errors. On interp, and on aot
 * when WASMCAP_CAPI_TEST_AOT is set.
 *
 *   capi_call_test */
#include "wasmcap/wasmcap.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"

static wasmcap_engine_t* engine;
static wasmcap_config_t* config;

/* Calls `fn` with one argument (taken: deleted here); the result, or NULL on an error (checked to
 * be none). */
static wasmcap_val_t* call1(wasmcap_module_t* m, const char* fn, wasmcap_val_t* arg, int line) {
  wasmcap_val_t* result = NULL;
  const wasmcap_val_t* args[1] = {arg};
  if (!check_ok(wasmcap_call(engine, m, config, fn, args, 1, &result, NULL), line)) result = NULL;
  wasmcap_val_delete(arg);
  return result;
}
#define CALL1(m, fn, arg) call1((m), (fn), (arg), __LINE__)

/* The refusal of a call with one argument (taken). */
static void refuse1(wasmcap_module_t* m, const char* fn, wasmcap_val_t* arg, wasmcap_errcode_t code,
                    const char* needle, int line) {
  wasmcap_val_t* result = (wasmcap_val_t*)&result; /* must be reset to NULL */
  const wasmcap_val_t* args[1] = {arg};
  check_err(wasmcap_call(engine, m, config, fn, args, 1, &result, NULL), code, needle, line);
  if (result != NULL) {
    fprintf(stderr, "%s:%d: a refused call left a result\n", __FILE__, line);
    failures++;
  }
  wasmcap_val_delete(arg);
}
#define REFUSE1(m, fn, arg, code, needle) refuse1((m), (fn), (arg), (code), (needle), __LINE__)

static int is_string(const wasmcap_val_t* v, const char* want, size_t want_len) {
  size_t len = 0;
  const char* s = wasmcap_val_string(v, &len);
  return s != NULL && len == want_len && memcmp(s, want, len) == 0;
}

static void test_scalars(wasmcap_module_t* m) {
  wasmcap_val_t* r;
  r = CALL1(m, "echo-bool", wasmcap_val_new_bool(1));
  CHECK(r && wasmcap_val_kind(r) == WASMCAP_VAL_BOOL && wasmcap_val_u64(r) == 1);
  wasmcap_val_delete(r);
  r = CALL1(m, "echo-s8", wasmcap_val_new_s8(-128));
  CHECK(r && wasmcap_val_kind(r) == WASMCAP_VAL_S8 && wasmcap_val_s64(r) == -128);
  wasmcap_val_delete(r);
  r = CALL1(m, "echo-s64", wasmcap_val_new_s64(INT64_MIN));
  CHECK(r && wasmcap_val_kind(r) == WASMCAP_VAL_S64 && wasmcap_val_s64(r) == INT64_MIN);
  wasmcap_val_delete(r);
  r = CALL1(m, "echo-f32", wasmcap_val_new_f32(-1.5f));
  CHECK(r && wasmcap_val_kind(r) == WASMCAP_VAL_F32 && wasmcap_val_f64(r) == -1.5);
  wasmcap_val_delete(r);
  r = CALL1(m, "echo-f64", wasmcap_val_new_f64(NAN));
  CHECK(r && wasmcap_val_kind(r) == WASMCAP_VAL_F64 && isnan(wasmcap_val_f64(r)));
  wasmcap_val_delete(r);
  r = CALL1(m, "echo-f64", wasmcap_val_new_f64(-INFINITY));
  CHECK(r && isinf(wasmcap_val_f64(r)) && wasmcap_val_f64(r) < 0);
  wasmcap_val_delete(r);
  r = CALL1(m, "echo-char", wasmcap_val_new_char(0x1F600));
  CHECK(r && wasmcap_val_kind(r) == WASMCAP_VAL_CHAR && wasmcap_val_u64(r) == 0x1F600);
  wasmcap_val_delete(r);
  /* A string with a NUL inside, and non-ASCII text, through UTF-8, UTF-16 and Latin-1 exports. */
  static const char text[] = "a\0b \xc3\xa9 \xe2\x82\xac";
  const size_t text_len = sizeof text - 1;
  r = CALL1(m, "echo-string", wasmcap_val_new_string(text, text_len));
  CHECK(r && wasmcap_val_kind(r) == WASMCAP_VAL_STRING && is_string(r, text, text_len));
  wasmcap_val_delete(r);
  r = CALL1(m, "echo-utf16", wasmcap_val_new_string(text, text_len));
  CHECK(r && is_string(r, text, text_len));
  wasmcap_val_delete(r);
  r = CALL1(m, "echo-string", wasmcap_val_new_string(NULL, 0));
  CHECK(r && is_string(r, "", 0));
  wasmcap_val_delete(r);
  r = CALL1(m, "string-len", wasmcap_val_new_string("hello", 5));
  CHECK(r && wasmcap_val_kind(r) == WASMCAP_VAL_U32 && wasmcap_val_u64(r) == 5);
  wasmcap_val_delete(r);
  /* add: two arguments. */
  const wasmcap_val_t* two[2];
  wasmcap_val_t* a = wasmcap_val_new_u32(4000000000u);
  wasmcap_val_t* b = wasmcap_val_new_u32(294967295u);
  two[0] = a, two[1] = b;
  r = NULL;
  CHECK_OK(wasmcap_call(engine, m, config, "add", two, 2, &r, NULL));
  CHECK(r && wasmcap_val_u64(r) == 4294967295u);
  wasmcap_val_delete(r);
  wasmcap_val_delete(a);
  wasmcap_val_delete(b);
}

static void test_compounds(wasmcap_module_t* m) {
  wasmcap_val_t* r;
  /* enum */
  r = CALL1(m, "echo-enum", wasmcap_val_new_enum("blue"));
  CHECK(r && wasmcap_val_kind(r) == WASMCAP_VAL_ENUM && strcmp(wasmcap_val_string(r, NULL), "blue") == 0);
  wasmcap_val_delete(r);
  /* flags: given in any order, returned in the type's order */
  wasmcap_val_t* f = wasmcap_val_new_flags();
  CHECK_OK(wasmcap_val_push_label(f, "z"));
  CHECK_OK(wasmcap_val_push_label(f, "x"));
  r = CALL1(m, "echo-flags", f);
  CHECK(r && wasmcap_val_kind(r) == WASMCAP_VAL_FLAGS && wasmcap_val_count(r) == 2 &&
        strcmp(wasmcap_val_name(r, 0), "x") == 0 && strcmp(wasmcap_val_name(r, 1), "z") == 0 &&
        wasmcap_val_name(r, 2) == NULL);
  wasmcap_val_delete(r);
  /* option: some and none */
  r = CALL1(m, "echo-opt", wasmcap_val_new_option(wasmcap_val_new_u64(UINT64_MAX)));
  CHECK(r && wasmcap_val_kind(r) == WASMCAP_VAL_OPTION && wasmcap_val_count(r) == 1 &&
        wasmcap_val_u64(wasmcap_val_item(r, 0)) == UINT64_MAX);
  wasmcap_val_delete(r);
  r = CALL1(m, "echo-opt", wasmcap_val_new_option(NULL));
  CHECK(r && wasmcap_val_kind(r) == WASMCAP_VAL_OPTION && wasmcap_val_count(r) == 0 && wasmcap_val_item(r, 0) == NULL);
  wasmcap_val_delete(r);
  /* result: ok and err, each with its payload */
  r = CALL1(m, "echo-res", wasmcap_val_new_result(0, wasmcap_val_new_f64(2.5)));
  CHECK(r && wasmcap_val_kind(r) == WASMCAP_VAL_RESULT && wasmcap_val_u64(r) == 0 &&
        wasmcap_val_f64(wasmcap_val_item(r, 0)) == 2.5);
  wasmcap_val_delete(r);
  r = CALL1(m, "echo-res", wasmcap_val_new_result(1, wasmcap_val_new_string("bad", 3)));
  CHECK(r && wasmcap_val_u64(r) == 1 && is_string(wasmcap_val_item(r, 0), "bad", 3));
  wasmcap_val_delete(r);
  /* variant: a case with a payload and one without */
  r = CALL1(m, "echo-v", wasmcap_val_new_variant("c", wasmcap_val_new_string("pay", 3)));
  CHECK(r && wasmcap_val_kind(r) == WASMCAP_VAL_VARIANT && strcmp(wasmcap_val_string(r, NULL), "c") == 0 &&
        wasmcap_val_count(r) == 1 && is_string(wasmcap_val_item(r, 0), "pay", 3));
  wasmcap_val_delete(r);
  r = CALL1(m, "echo-v", wasmcap_val_new_variant("d", NULL));
  CHECK(r && strcmp(wasmcap_val_string(r, NULL), "d") == 0 && wasmcap_val_count(r) == 0);
  wasmcap_val_delete(r);
  /* record in, tuple out: swap({a: 7, b: 2^40}) = (2^40, 7); fields in any order */
  wasmcap_val_t* rec = wasmcap_val_new_record();
  CHECK_OK(wasmcap_val_push_field(rec, "b", wasmcap_val_new_u64((uint64_t)1 << 40)));
  CHECK_OK(wasmcap_val_push_field(rec, "a", wasmcap_val_new_u8(7)));
  r = CALL1(m, "swap", rec);
  CHECK(r && wasmcap_val_kind(r) == WASMCAP_VAL_TUPLE && wasmcap_val_count(r) == 2 &&
        wasmcap_val_kind(wasmcap_val_item(r, 0)) == WASMCAP_VAL_U64 &&
        wasmcap_val_u64(wasmcap_val_item(r, 0)) == ((uint64_t)1 << 40) &&
        wasmcap_val_kind(wasmcap_val_item(r, 1)) == WASMCAP_VAL_U8 && wasmcap_val_u64(wasmcap_val_item(r, 1)) == 7);
  wasmcap_val_delete(r);
  /* a list of records: sum-recs([{name, n}...]) */
  wasmcap_val_t* l = wasmcap_val_new_list();
  for (uint32_t i = 1; i <= 100; ++i) {
    wasmcap_val_t* e = wasmcap_val_new_record();
    CHECK_OK(wasmcap_val_push_field(e, "name", wasmcap_val_new_string("item", 4)));
    CHECK_OK(wasmcap_val_push_field(e, "n", wasmcap_val_new_u32(i)));
    CHECK_OK(wasmcap_val_push(l, e));
  }
  r = CALL1(m, "sum-recs", l); /* the sum of each name's length and n */
  CHECK(r && wasmcap_val_kind(r) == WASMCAP_VAL_U64 && wasmcap_val_u64(r) == 5050 + 100 * 4);
  wasmcap_val_delete(r);
  /* a list as a result */
  r = CALL1(m, "make-list", wasmcap_val_new_u32(5));
  CHECK(r && wasmcap_val_kind(r) == WASMCAP_VAL_LIST && wasmcap_val_count(r) == 5 &&
        wasmcap_val_kind(wasmcap_val_item(r, 4)) == WASMCAP_VAL_U16 && wasmcap_val_item(r, 5) == NULL);
  wasmcap_val_delete(r);
}

/* Arguments that are not of their parameter's kind: refused before the component runs, the
 * message naming the path. */
static void test_refusals(wasmcap_module_t* m) {
  REFUSE1(m, "echo-s8", wasmcap_val_new_s64(1), WASMCAP_ERR_INVALID_ARGUMENT, "$.x: expected s8, got s64");
  REFUSE1(m, "echo-s64", wasmcap_val_new_u64(1), WASMCAP_ERR_INVALID_ARGUMENT, "expected s64, got u64");
  REFUSE1(m, "echo-char", wasmcap_val_new_char(0xD800), WASMCAP_ERR_INVALID_ARGUMENT, "Unicode scalar value");
  REFUSE1(m, "echo-string", wasmcap_val_new_string("\xff\xfe", 2), WASMCAP_ERR_INVALID_ARGUMENT, "not valid UTF-8");
  REFUSE1(m, "echo-enum", wasmcap_val_new_enum("purple"), WASMCAP_ERR_INVALID_ARGUMENT, "expected one of red, green, blue");
  wasmcap_val_t* f = wasmcap_val_new_flags();
  CHECK_OK(wasmcap_val_push_label(f, "x"));
  CHECK_OK(wasmcap_val_push_label(f, "x"));
  REFUSE1(m, "echo-flags", f, WASMCAP_ERR_INVALID_ARGUMENT, "flag x given twice");
  REFUSE1(m, "echo-v", wasmcap_val_new_variant("a", NULL), WASMCAP_ERR_INVALID_ARGUMENT, "case a needs one payload");
  REFUSE1(m, "echo-v", wasmcap_val_new_variant("d", wasmcap_val_new_u32(1)), WASMCAP_ERR_INVALID_ARGUMENT,
          "case d has no payload");
  REFUSE1(m, "echo-v", wasmcap_val_new_variant("a", wasmcap_val_new_s32(1)), WASMCAP_ERR_INVALID_ARGUMENT,
          "$.v.a: expected u32, got s32");
  REFUSE1(m, "echo-res", wasmcap_val_new_result(1, wasmcap_val_new_f64(1)), WASMCAP_ERR_INVALID_ARGUMENT,
          "$.r.err: expected string, got f64");
  wasmcap_val_t* rec = wasmcap_val_new_record();
  CHECK_OK(wasmcap_val_push_field(rec, "a", wasmcap_val_new_u8(1)));
  REFUSE1(m, "swap", rec, WASMCAP_ERR_INVALID_ARGUMENT, "missing field b");
  rec = wasmcap_val_new_record();
  CHECK_OK(wasmcap_val_push_field(rec, "a", wasmcap_val_new_u8(1)));
  CHECK_OK(wasmcap_val_push_field(rec, "b", wasmcap_val_new_u64(1)));
  CHECK_OK(wasmcap_val_push_field(rec, "c", wasmcap_val_new_u64(1)));
  REFUSE1(m, "swap", rec, WASMCAP_ERR_INVALID_ARGUMENT, "$.r.c: unknown field");
  wasmcap_val_t* l = wasmcap_val_new_list();
  CHECK_OK(wasmcap_val_push(l, wasmcap_val_new_u32(1)));
  CHECK_OK(wasmcap_val_push(l, wasmcap_val_new_string("x", 1)));
  REFUSE1(m, "sum-list", l, WASMCAP_ERR_INVALID_ARGUMENT, "$.l[1]: expected u32, got string");
  REFUSE1(m, "echo-s8", wasmcap_val_new_list(), WASMCAP_ERR_INVALID_ARGUMENT, "expected s8, got list");
  /* arity, an unknown export, NULL arguments */
  wasmcap_val_t* r = NULL;
  CHECK_ERR(wasmcap_call(engine, m, config, "add", NULL, 0, &r, NULL), WASMCAP_ERR_INVALID_ARGUMENT,
            "takes 2 arguments (a, b), got 0");
  CHECK_ERR(wasmcap_call(engine, m, config, "no-such", NULL, 0, &r, NULL), WASMCAP_ERR_NO_ENTRY_POINT,
            "exports no function");
  const wasmcap_val_t* nulls[1] = {NULL};
  CHECK_ERR(wasmcap_call(engine, m, config, "echo-s8", nulls, 1, &r, NULL), WASMCAP_ERR_INVALID_ARGUMENT,
            "argument 0 is NULL");
  CHECK_ERR(wasmcap_call(engine, m, config, "echo-s8", NULL, 1, &r, NULL), WASMCAP_ERR_INVALID_ARGUMENT, "args");
  CHECK_ERR(wasmcap_call(engine, m, config, "echo-s8", NULL, 0, NULL, NULL), WASMCAP_ERR_INVALID_ARGUMENT,
            "result_out");
}

/* What a hostile component returns: a list beyond the Canonical ABI's bounds and a char that is
 * not a Unicode scalar value trap, never become values; a bool is any non-zero i32. */
static void test_hostile_results(wasmcap_module_t* m) {
  const wasmcap_val_t* args[2];
  wasmcap_val_t* p = wasmcap_val_new_u32(0);
  wasmcap_val_t* n = wasmcap_val_new_u32(0x7fffffff);
  args[0] = p, args[1] = n;
  wasmcap_val_t* r = NULL;
  CHECK_ERR(wasmcap_call(engine, m, config, "pair-as-list", args, 2, &r, NULL), WASMCAP_ERR_TRAP_HOST,
            "exceeds the Canonical ABI's");
  CHECK(r == NULL);
  wasmcap_val_delete(p);
  wasmcap_val_delete(n);
  wasmcap_val_t* two = wasmcap_val_new_u32(2);
  args[0] = two;
  CHECK_OK(wasmcap_call(engine, m, config, "u32-as-bool", args, 1, &r, NULL));
  CHECK(r && wasmcap_val_kind(r) == WASMCAP_VAL_BOOL && wasmcap_val_u64(r) == 1);
  wasmcap_val_delete(r);
  r = NULL;
  wasmcap_val_delete(two);
  wasmcap_val_t* sur = wasmcap_val_new_u32(0xD800);
  args[0] = sur;
  CHECK_ERR(wasmcap_call(engine, m, config, "u32-as-char", args, 1, &r, NULL), WASMCAP_ERR_TRAP_HOST,
            "not a Unicode scalar value");
  CHECK(r == NULL);
  wasmcap_val_delete(sur);
}

static void test_call_component(wasmcap_module_t* c) {
  /* div: result<s32, string>; the err case is a successful call whose result says err */
  const wasmcap_val_t* args[2];
  wasmcap_val_t* a = wasmcap_val_new_s32(7);
  wasmcap_val_t* zero = wasmcap_val_new_s32(0);
  args[0] = a, args[1] = zero;
  wasmcap_val_t* r = NULL;
  wasmcap_run_result_t rr;
  CHECK_OK(wasmcap_call(engine, c, config, "div", args, 2, &r, &rr));
  CHECK(r && wasmcap_val_kind(r) == WASMCAP_VAL_RESULT && wasmcap_val_u64(r) == 1 &&
        is_string(wasmcap_val_item(r, 0), "division by zero", 16));
  wasmcap_val_delete(r);
  wasmcap_val_delete(zero);
  /* an exported interface's function */
  wasmcap_val_t* b = wasmcap_val_new_u32(5);
  wasmcap_val_t* a2 = wasmcap_val_new_u32(6);
  args[0] = a2, args[1] = b;
  CHECK_OK(wasmcap_call(engine, c, config, "example:call/ops#add", args, 2, &r, NULL));
  CHECK(r && wasmcap_val_u64(r) == 11);
  wasmcap_val_delete(r);
  wasmcap_val_delete(a2);
  wasmcap_val_delete(b);
  wasmcap_val_delete(a);
  /* a tuple argument */
  wasmcap_val_t* t = wasmcap_val_new_tuple();
  CHECK_OK(wasmcap_val_push(t, wasmcap_val_new_s32(-3)));
  CHECK_OK(wasmcap_val_push(t, wasmcap_val_new_s32(4)));
  r = CALL1(c, "norm2", t);
  CHECK(r && wasmcap_val_kind(r) == WASMCAP_VAL_U64 && wasmcap_val_u64(r) == 25);
  wasmcap_val_delete(r);
  /* a function without a result: none; a trap; the deadline */
  r = (wasmcap_val_t*)&r;
  CHECK_ERR(wasmcap_call(engine, c, config, "trap", NULL, 0, &r, NULL), WASMCAP_ERR_TRAP_UNREACHABLE, NULL);
  CHECK(r == NULL);
  wasmcap_config_t* quick = wasmcap_config_new();
  wasmcap_config_set_timeout_ms(quick, 200);
  CHECK_ERR(wasmcap_call(engine, c, quick, "spin", NULL, 0, &r, NULL), WASMCAP_ERR_DEADLINE_EXCEEDED, NULL);
  wasmcap_config_delete(quick);
  /* the signatures listed */
  int found = 0;
  for (size_t i = 0; i < wasmcap_module_export_count(c); ++i) {
    if (strcmp(wasmcap_module_export_name(c, i), "div") == 0) {
      found = 1;
      CHECK(strcmp(wasmcap_module_export_signature(c, i), "(a: s32, b: s32) -> result<s32, string>") == 0);
    }
  }
  CHECK(found);
  CHECK(wasmcap_module_export_signature(c, wasmcap_module_export_count(c)) == NULL);
}

/* The value API's own errors and accessors on the wrong kinds. */
static void test_value_api(void) {
  wasmcap_val_t* s = wasmcap_val_new_s32(-1);
  CHECK_ERR(wasmcap_val_push(s, wasmcap_val_new_u8(1)), WASMCAP_ERR_INVALID_ARGUMENT, "not a list or tuple");
  CHECK_ERR(wasmcap_val_push_field(s, "a", wasmcap_val_new_u8(1)), WASMCAP_ERR_INVALID_ARGUMENT, "not a record");
  CHECK_ERR(wasmcap_val_push_label(s, "a"), WASMCAP_ERR_INVALID_ARGUMENT, "not flags");
  CHECK_ERR(wasmcap_val_push(NULL, wasmcap_val_new_u8(1)), WASMCAP_ERR_INVALID_ARGUMENT, "container");
  CHECK_ERR(wasmcap_val_push(s, NULL), WASMCAP_ERR_INVALID_ARGUMENT, "item");
  CHECK(wasmcap_val_s64(s) == -1 && wasmcap_val_f64(s) == -1.0);
  CHECK(wasmcap_val_string(s, NULL) == NULL && wasmcap_val_count(s) == 0 && wasmcap_val_item(s, 0) == NULL &&
        wasmcap_val_name(s, 0) == NULL);
  wasmcap_val_delete(s);
  CHECK(wasmcap_val_new_variant(NULL, wasmcap_val_new_u8(1)) == NULL);
  CHECK(wasmcap_val_new_enum(NULL) == NULL);
  CHECK(wasmcap_val_new_string(NULL, 1) == NULL);
  wasmcap_val_delete(NULL);
  CHECK(wasmcap_val_kind(NULL) == WASMCAP_VAL_BOOL && wasmcap_val_count(NULL) == 0);
}

static void run_on(const char* engine_name, const char* dir) {
  char path[4096];
  CHECK_OK(wasmcap_engine_new(engine_name, NULL, &engine));
  config = wasmcap_config_new();
  wasmcap_module_t* abi = NULL;
  wasmcap_module_t* call = NULL;
  snprintf(path, sizeof path, "%s/abi.wasm", dir);
  CHECK_OK(wasmcap_module_new_from_file(engine, path, &abi));
  snprintf(path, sizeof path, "%s/call.wasm", dir);
  CHECK_OK(wasmcap_module_new_from_file(engine, path, &call));
  if (abi != NULL && call != NULL) {
    test_scalars(abi);
    test_compounds(abi);
    test_refusals(abi);
    test_hostile_results(abi);
    test_call_component(call);
  }
  /* A core module is not a component: wasmcap_call refuses it. */
  static const uint8_t core[] = {0, 'a', 's', 'm', 1, 0, 0, 0};
  wasmcap_module_t* plain = NULL;
  CHECK_OK(wasmcap_module_new(engine, core, sizeof core, &plain));
  wasmcap_val_t* r = NULL;
  CHECK_ERR(wasmcap_call(engine, plain, config, "f", NULL, 0, &r, NULL), WASMCAP_ERR_INVALID_ARGUMENT,
            "not a component");
  CHECK(wasmcap_module_export_signature(plain, 0) == NULL);
  wasmcap_module_delete(plain);
  wasmcap_module_delete(abi);
  wasmcap_module_delete(call);
  wasmcap_config_delete(config);
  wasmcap_engine_delete(engine);
  printf("capi_call_test: %s done\n", engine_name);
}

int main(void) {
  const char* dir = getenv("WASMCAP_TEST_COMPONENT_WAT_DIR");
  if (dir == NULL || *dir == '\0') {
    fprintf(stderr, "capi_call_test: WASMCAP_TEST_COMPONENT_WAT_DIR is not set (run it with run_components.sh)\n");
    return 2;
  }
  test_value_api();
  run_on("interp", dir);
  const char* aot = getenv("WASMCAP_CAPI_TEST_AOT");
  if (aot != NULL && *aot != '\0') run_on("aot", dir);
  if (failures != 0) {
    fprintf(stderr, "%d check(s) failed\n", failures);
    return 1;
  }
  printf("capi_call_test: all checks passed\n");
  return 0;
}

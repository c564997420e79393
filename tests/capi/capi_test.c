/* The C API (include/wasmcap/wasmcap.h), compiled as C: every function and its error paths.
 *
 *   capi_test GUEST_DIR TMP_DIR
 *
 * A self-contained C program (no C++ test framework: that the header compiles and links from C
 * is part of what is tested). Prints one line per failed check; exits 1 if any failed. */
#include "wasmcap/wasmcap.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "check.h"

static const char* guest_dir;
static const char* tmp_dir;

static char* path_of(const char* dir, const char* name) {
  static char buf[8][4096];
  static int next = 0;
  char* b = buf[next++ % 8];
  snprintf(b, sizeof buf[0], "%s/%s", dir, name);
  return b;
}

static wasmcap_module_t* load(wasmcap_engine_t* engine, const char* name) {
  wasmcap_module_t* m = NULL;
  CHECK_OK(wasmcap_module_new_from_file(engine, path_of(guest_dir, name), &m));
  return m;
}

/* Output capture. */
struct capture {
  char out[65536];
  size_t out_len;
  size_t err_len;
  int refuse;
};
static int on_output(void* user, int fd, const uint8_t* data, size_t len) {
  struct capture* c = (struct capture*)user;
  if (c->refuse) return 1;
  if (fd == 1) {
    size_t n = len < sizeof c->out - 1 - c->out_len ? len : sizeof c->out - 1 - c->out_len;
    memcpy(c->out + c->out_len, data, n);
    c->out_len += n;
    c->out[c->out_len] = '\0';
  } else {
    c->err_len += len;
  }
  return 0;
}

struct audit_capture {
  int count;
  char records[4][8192]; /* the first four, each NUL-terminated */
};
static void on_audit(void* user, const char* line, size_t len) {
  struct audit_capture* a = (struct audit_capture*)user;
  if (a->count < 4) {
    char* dst = a->records[a->count];
    size_t n = len < sizeof a->records[0] - 1 ? len : sizeof a->records[0] - 1;
    memcpy(dst, line, n);
    dst[n] = '\0';
  }
  a->count++;
}
/* The value of "invocation_id" in a record ("" when absent), into out[64]. */
static void invocation_id_of(const char* record, char out[64]) {
  const char* at = strstr(record, "\"invocation_id\":\"");
  out[0] = '\0';
  if (at == NULL) return;
  at += strlen("\"invocation_id\":\"");
  size_t n = 0;
  while (at[n] != '\0' && at[n] != '"' && n < 63) n++;
  memcpy(out, at, n);
  out[n] = '\0';
}

static void test_version_and_codes(void) {
  CHECK(strcmp(wasmcap_version(), WASMCAP_VERSION) == 0);
  CHECK(wasmcap_version_number() == WASMCAP_VERSION_NUMBER);
  CHECK(strcmp(wasmcap_errcode_name(WASMCAP_OK), "ok") == 0);
  CHECK(strcmp(wasmcap_errcode_name(WASMCAP_ERR_INVALID_ARGUMENT), "invalid_argument") == 0);
  CHECK(strcmp(wasmcap_errcode_name(WASMCAP_ERR_TRAP_UNREACHABLE), "trap_unreachable") == 0);
  CHECK(strcmp(wasmcap_errcode_name(WASMCAP_ERR_FUEL_EXHAUSTED), "fuel_exhausted") == 0);
  CHECK(strcmp(wasmcap_errcode_name(WASMCAP_ERR_INTERNAL), "internal_error") == 0);
  CHECK(strcmp(wasmcap_errcode_name(WASMCAP_ERR_COMPILE_LIMIT), "compile_limit") == 0);
  CHECK(strcmp(wasmcap_errcode_name((wasmcap_errcode_t)999), "unknown") == 0);
  CHECK(strcmp(wasmcap_errcode_name((wasmcap_errcode_t)-1), "unknown") == 0);
  CHECK(wasmcap_errcode_exit_status(WASMCAP_OK) == 0);
  CHECK(wasmcap_errcode_exit_status(WASMCAP_ERR_INVALID_ARGUMENT) == 64);
  CHECK(wasmcap_errcode_exit_status(WASMCAP_ERR_GRANT_DENIED) == 77);
  CHECK(wasmcap_errcode_exit_status((wasmcap_errcode_t)999) == 70);
  CHECK(wasmcap_errcode_is_trap(WASMCAP_ERR_TRAP_UNREACHABLE) == 1);
  CHECK(wasmcap_errcode_is_trap(WASMCAP_ERR_TRAP) == 1);
  CHECK(wasmcap_errcode_is_trap(WASMCAP_ERR_FUEL_EXHAUSTED) == 0);
  CHECK(wasmcap_errcode_is_trap(WASMCAP_OK) == 0);
  CHECK(wasmcap_errcode_is_trap((wasmcap_errcode_t)999) == 0);
  /* NULL is "no error" everywhere. */
  CHECK(wasmcap_error_code(NULL) == WASMCAP_OK);
  CHECK(strcmp(wasmcap_error_message(NULL), "") == 0);
  wasmcap_error_delete(NULL);
}

static void test_engine_and_module(void) {
  wasmcap_engine_t* engine = NULL;
  CHECK_ERR(wasmcap_engine_new("interp", NULL, NULL), WASMCAP_ERR_INVALID_ARGUMENT, "out");
  engine = (wasmcap_engine_t*)1;
  CHECK_ERR(wasmcap_engine_new("jit", NULL, &engine), WASMCAP_ERR_INVALID_ARGUMENT, "jit");
  CHECK(engine == NULL);
  /* wabt's interpreter left the product (the tests' oracle); "fast" was another name of interp. */
  CHECK_ERR(wasmcap_engine_new("wabt", NULL, &engine), WASMCAP_ERR_INVALID_ARGUMENT,
            "available engines: interp, aot, auto");
  CHECK_ERR(wasmcap_engine_new("fast", NULL, &engine), WASMCAP_ERR_INVALID_ARGUMENT, "fast");
  CHECK(engine == NULL);
  CHECK_OK(wasmcap_engine_new(NULL, NULL, &engine));
  CHECK(engine != NULL && strcmp(wasmcap_engine_name(engine), "interp") == 0);
  CHECK(strcmp(wasmcap_engine_name(NULL), "") == 0);
  wasmcap_engine_t* autoe = NULL;
  CHECK_OK(wasmcap_engine_new("auto", path_of(tmp_dir, "aot-cache"), &autoe));
  CHECK(autoe != NULL && strcmp(wasmcap_engine_name(autoe), "auto") == 0);
  wasmcap_engine_delete(autoe);
  wasmcap_engine_delete(NULL);

  wasmcap_module_t* m = (wasmcap_module_t*)1;
  static const uint8_t garbage[] = {0, 'a', 's', 'm', 9, 9, 9, 9};
  CHECK_ERR(wasmcap_module_new(engine, garbage, sizeof garbage, NULL), WASMCAP_ERR_INVALID_ARGUMENT, "out");
  CHECK_ERR(wasmcap_module_new(NULL, garbage, sizeof garbage, &m), WASMCAP_ERR_INVALID_ARGUMENT, "engine");
  CHECK(m == NULL);
  CHECK_ERR(wasmcap_module_new(engine, NULL, 8, &m), WASMCAP_ERR_INVALID_ARGUMENT, "bytes");
  CHECK_ERR(wasmcap_module_new(engine, garbage, sizeof garbage, &m), WASMCAP_ERR_MODULE_MALFORMED, NULL);
  CHECK_ERR(wasmcap_module_new(engine, NULL, 0, &m), WASMCAP_ERR_MODULE_MALFORMED, NULL);
  /* A WASI Preview 2 component is decoded and validated: an empty one is valid (no exports); a
   * section cut short gets the component decoder's error. */
  static const uint8_t component[] = {0, 'a', 's', 'm', 0x0d, 0, 1, 0};
  CHECK_OK(wasmcap_module_new(engine, component, sizeof component, &m));
  CHECK(m != NULL && wasmcap_module_export_count(m) == 0 && wasmcap_module_import_count(m) == 0);
  wasmcap_module_delete(m);
  m = NULL;
  static const uint8_t cut_component[] = {0, 'a', 's', 'm', 0x0d, 0, 1, 0, 7, 20, 1};
  CHECK_ERR(wasmcap_module_new(engine, cut_component, sizeof cut_component, &m),
            WASMCAP_ERR_MODULE_MALFORMED, "component");
  CHECK_ERR(wasmcap_module_new_from_file(engine, NULL, &m), WASMCAP_ERR_INVALID_ARGUMENT, "path");
  CHECK_ERR(wasmcap_module_new_from_file(engine, "x.wasm", NULL), WASMCAP_ERR_INVALID_ARGUMENT, "out");
  CHECK_ERR(wasmcap_module_new_from_file(engine, path_of(tmp_dir, "missing.wasm"), &m),
            WASMCAP_ERR_NOT_FOUND, "missing.wasm");

  m = load(engine, "hello.wasm");
  CHECK(m != NULL);
  CHECK(wasmcap_module_import_count(m) > 0);
  CHECK(strncmp(wasmcap_module_import_name(m, 0), "wasi_snapshot_preview1.", 23) == 0);
  CHECK(wasmcap_module_import_name(m, wasmcap_module_import_count(m)) == NULL);
  int has_start = 0;
  for (size_t i = 0; i < wasmcap_module_export_count(m); i++) {
    if (strcmp(wasmcap_module_export_name(m, i), "_start") == 0) has_start = 1;
  }
  CHECK(has_start);
  CHECK(wasmcap_module_export_name(m, wasmcap_module_export_count(m)) == NULL);
  CHECK(wasmcap_module_import_count(NULL) == 0 && wasmcap_module_export_count(NULL) == 0);
  CHECK(wasmcap_module_import_name(NULL, 0) == NULL && wasmcap_module_export_name(NULL, 0) == NULL);
  wasmcap_module_delete(m);
  wasmcap_module_delete(NULL);
  wasmcap_engine_delete(engine);
}

static void test_config_errors(void) {
  wasmcap_config_t* c = wasmcap_config_new();
  CHECK(c != NULL);
  CHECK_ERR(wasmcap_config_push_arg(NULL, "a"), WASMCAP_ERR_INVALID_ARGUMENT, "config");
  CHECK_ERR(wasmcap_config_push_arg(c, NULL), WASMCAP_ERR_INVALID_ARGUMENT, "arg");
  CHECK_ERR(wasmcap_config_push_env(NULL, "A", "b"), WASMCAP_ERR_INVALID_ARGUMENT, "config");
  CHECK_ERR(wasmcap_config_push_env(c, NULL, "b"), WASMCAP_ERR_INVALID_ARGUMENT, "name");
  CHECK_ERR(wasmcap_config_push_env(c, "A", NULL), WASMCAP_ERR_INVALID_ARGUMENT, "value");
  CHECK_ERR(wasmcap_config_push_env(c, "", "b"), WASMCAP_ERR_INVALID_ARGUMENT, "'='");
  CHECK_ERR(wasmcap_config_push_env(c, "A=B", "b"), WASMCAP_ERR_INVALID_ARGUMENT, "'='");
  CHECK_ERR(wasmcap_config_push_preopen(NULL, "/", "/", 1), WASMCAP_ERR_INVALID_ARGUMENT, "config");
  CHECK_ERR(wasmcap_config_push_preopen(c, NULL, "/", 1), WASMCAP_ERR_INVALID_ARGUMENT, "host_path");
  CHECK_ERR(wasmcap_config_push_preopen(c, "/", NULL, 1), WASMCAP_ERR_INVALID_ARGUMENT, "guest_path");
  CHECK_ERR(wasmcap_config_push_preopen(c, "", "/g", 1), WASMCAP_ERR_INVALID_ARGUMENT, "non-empty");
  CHECK_ERR(wasmcap_config_set_entry(NULL, "run"), WASMCAP_ERR_INVALID_ARGUMENT, "config");
  CHECK_ERR(wasmcap_config_set_entry(c, ""), WASMCAP_ERR_INVALID_ARGUMENT, "empty");
  CHECK_OK(wasmcap_config_set_entry(c, NULL));
  /* Setters on NULL are no-ops, not crashes. */
  wasmcap_config_set_plan(NULL, NULL, 0);
  wasmcap_config_set_stdio(NULL, -1, -1, -1);
  wasmcap_config_set_output_callback(NULL, on_output, NULL);
  wasmcap_config_set_audit_callback(NULL, on_audit, NULL);
  wasmcap_config_set_fuel(NULL, 1);
  wasmcap_config_set_timeout_ms(NULL, 1);
  wasmcap_config_set_max_memory_bytes(NULL, 1);
  wasmcap_config_set_max_output_bytes(NULL, 1);
  wasmcap_config_set_max_write_bytes(NULL, 1);
  wasmcap_config_set_interrupt(NULL, NULL);
  wasmcap_config_delete(c);
  wasmcap_config_delete(NULL);
}

/* Runs `module` with `config`, capturing output. Returns the error (caller checks it). */
static wasmcap_error_t* run_capture(wasmcap_engine_t* e, wasmcap_module_t* m, wasmcap_config_t* c,
                                    struct capture* cap, wasmcap_run_result_t* r) {
  memset(cap, 0, sizeof *cap);
  wasmcap_config_set_output_callback(c, on_output, cap);
  return wasmcap_run(e, m, c, r);
}

static void* trigger_later(void* arg) {
  struct timespec ts = {0, 100 * 1000 * 1000};
  nanosleep(&ts, NULL);
  wasmcap_interrupt_trigger((wasmcap_interrupt_t*)arg);
  return NULL;
}

static void test_runs(const char* engine_name) {
  wasmcap_engine_t* e = NULL;
  CHECK_OK(wasmcap_engine_new(engine_name, path_of(tmp_dir, "aot-cache"), &e));
  if (e == NULL) return;
  struct capture cap;
  wasmcap_run_result_t r;

  /* hello: default argv, output through the callback. */
  wasmcap_module_t* hello = load(e, "hello.wasm");
  wasmcap_config_t* c = wasmcap_config_new();
  CHECK_ERR(wasmcap_run(NULL, hello, c, &r), WASMCAP_ERR_INVALID_ARGUMENT, "engine");
  CHECK_ERR(wasmcap_run(e, NULL, c, &r), WASMCAP_ERR_INVALID_ARGUMENT, "module");
  CHECK_ERR(wasmcap_run(e, hello, NULL, &r), WASMCAP_ERR_INVALID_ARGUMENT, "config");
  CHECK_OK(run_capture(e, hello, c, &cap, &r));
  CHECK(r.exit_code == 0);
  CHECK(r.wall_ms > 0);
  CHECK(strcmp(cap.out, "hello from wasm\n") == 0);
  /* A refusing output callback: the guest's write fails, the run still ends normally. */
  memset(&cap, 0, sizeof cap);
  cap.refuse = 1;
  wasmcap_config_set_output_callback(c, on_output, &cap);
  CHECK_OK(wasmcap_run(e, hello, c, NULL));
  CHECK(cap.out_len == 0);
  /* stdio fds: output discarded. */
  wasmcap_config_set_output_callback(c, NULL, NULL);
  wasmcap_config_set_stdio(c, -1, -1, -1);
  CHECK_OK(wasmcap_run(e, hello, c, &r));
  wasmcap_config_delete(c);
  wasmcap_module_delete(hello);

  /* args and env: exactly what was pushed, nothing from the host. */
  wasmcap_module_t* args_env = load(e, "args_env.wasm");
  c = wasmcap_config_new();
  CHECK_OK(wasmcap_config_push_arg(c, "tool"));
  CHECK_OK(wasmcap_config_push_arg(c, "--flag"));
  CHECK_OK(wasmcap_config_push_env(c, "WHO", "c api"));
  CHECK_OK(run_capture(e, args_env, c, &cap, &r));
  CHECK(strstr(cap.out, "argc=2\narg[0]=[tool]\narg[1]=[--flag]\nenvc=1\nenv[0]=[WHO=c api]\n") != NULL);
  wasmcap_config_delete(c);
  wasmcap_module_delete(args_env);

  /* Preopens: a missing host directory is an error naming it. */
  c = wasmcap_config_new();
  CHECK_OK(wasmcap_config_push_preopen(c, path_of(tmp_dir, "no-such-dir"), "/data", 1));
  hello = load(e, "hello.wasm");
  CHECK_ERR(run_capture(e, hello, c, &cap, &r), WASMCAP_ERR_NOT_FOUND, "no-such-dir");
  wasmcap_config_delete(c);
  c = wasmcap_config_new();
  CHECK_OK(wasmcap_config_push_preopen(c, tmp_dir, "/data", 0));
  CHECK_OK(run_capture(e, hello, c, &cap, &r));
  wasmcap_config_delete(c);
  wasmcap_module_delete(hello);

  /* Exit status. */
  wasmcap_module_t* exits = load(e, "exit_status.wasm");
  c = wasmcap_config_new();
  CHECK_OK(wasmcap_config_push_arg(c, "exit_status"));
  CHECK_OK(wasmcap_config_push_arg(c, "42"));
  CHECK_OK(wasmcap_run(e, exits, c, &r));
  CHECK(r.exit_code == 42);
  wasmcap_config_delete(c);
  wasmcap_module_delete(exits);

  /* Reactor export via set_entry (its _initialize runs first: exit status 7). */
  wasmcap_module_t* reactor = load(e, "reactor.wasm");
  c = wasmcap_config_new();
  CHECK_OK(wasmcap_config_set_entry(c, "run"));
  CHECK_OK(wasmcap_run(e, reactor, c, &r));
  CHECK(r.exit_code == 7);
  CHECK_OK(wasmcap_config_set_entry(c, "nope"));
  CHECK_ERR(wasmcap_run(e, reactor, c, &r), WASMCAP_ERR_NO_ENTRY_POINT, "nope");
  wasmcap_config_delete(c);
  wasmcap_module_delete(reactor);

  /* Traps. */
  wasmcap_module_t* traps = load(e, "traps.wasm");
  c = wasmcap_config_new();
  CHECK_OK(wasmcap_config_set_entry(c, "unreachable"));
  wasmcap_error_t* err = wasmcap_run(e, traps, c, &r);
  CHECK(err != NULL && wasmcap_errcode_is_trap(wasmcap_error_code(err)));
  CHECK_ERR(err, WASMCAP_ERR_TRAP_UNREACHABLE, NULL);
  CHECK_OK(wasmcap_config_set_entry(c, "div_zero_s"));
  CHECK_ERR(wasmcap_run(e, traps, c, &r), WASMCAP_ERR_TRAP_INTEGER_DIVIDE_BY_ZERO, NULL);
  wasmcap_config_delete(c);
  wasmcap_module_delete(traps);

  /* Limits: deadline, interrupt from another thread, output, memory, fuel (interp only). */
  wasmcap_module_t* spin = load(e, "spin.wasm");
  c = wasmcap_config_new();
  wasmcap_config_set_timeout_ms(c, 50);
  CHECK_ERR(wasmcap_run(e, spin, c, &r), WASMCAP_ERR_DEADLINE_EXCEEDED, NULL);
  wasmcap_config_set_timeout_ms(c, 0);
  wasmcap_interrupt_t* intr = wasmcap_interrupt_new();
  CHECK(intr != NULL);
  wasmcap_config_set_interrupt(c, intr);
  pthread_t t;
  pthread_create(&t, NULL, trigger_later, intr);
  CHECK_ERR(wasmcap_run(e, spin, c, &r), WASMCAP_ERR_DEADLINE_EXCEEDED, NULL);
  pthread_join(t, NULL);
  /* Still triggered: the next run stops at once; after reset, a bounded run ends normally. */
  CHECK_ERR(wasmcap_run(e, spin, c, &r), WASMCAP_ERR_DEADLINE_EXCEEDED, NULL);
  wasmcap_interrupt_reset(intr);
  wasmcap_interrupt_trigger(NULL);
  wasmcap_interrupt_reset(NULL);
  wasmcap_config_set_interrupt(c, NULL);
  if (strcmp(engine_name, "interp") == 0) {
    wasmcap_config_set_fuel(c, 100000);
    CHECK_ERR(wasmcap_run(e, spin, c, &r), WASMCAP_ERR_FUEL_EXHAUSTED, NULL);
  } else {
    wasmcap_config_set_fuel(c, 100000);
    CHECK_ERR(wasmcap_run(e, spin, c, &r), WASMCAP_ERR_CAPABILITY_UNAVAILABLE, NULL);
  }
  wasmcap_config_delete(c);
  wasmcap_interrupt_delete(intr);
  wasmcap_interrupt_delete(NULL);
  wasmcap_module_delete(spin);

  wasmcap_module_t* flood = load(e, "flood.wasm");
  c = wasmcap_config_new();
  wasmcap_config_set_max_output_bytes(c, 4096);
  CHECK_ERR(run_capture(e, flood, c, &cap, &r), WASMCAP_ERR_OUTPUT_LIMIT, NULL);
  CHECK(cap.out_len <= 4096);
  wasmcap_config_delete(c);
  wasmcap_module_delete(flood);

  /* The write budget: coreutils' cp of 3 MiB under a 1 MiB budget writes 1 MiB less the
     file's 4 KiB entry and fails with ENOSPC; with no budget set, the default lets it all
     through. (interp only: the AOT compile of coreutils is not this test's.) */
  if (strcmp(engine_name, "interp") == 0) {
    const char* src = path_of(tmp_dir, "wb-src");
    const char* out = path_of(tmp_dir, "wb-out");
    const char* big_file = path_of(tmp_dir, "wb-src/big");
    CHECK(mkdir(src, 0700) == 0 && mkdir(out, 0700) == 0);
    FILE* f = fopen(big_file, "wb");
    CHECK(f != NULL);
    for (int i = 0; f != NULL && i < 3 * 1024; ++i) {
      char kib[1024];
      memset(kib, 'b', sizeof kib);
      fwrite(kib, 1, sizeof kib, f);
    }
    if (f != NULL) fclose(f);
    wasmcap_module_t* cu = load(e, "coreutils.wasm");
    for (int bounded = 1; bounded >= 0; --bounded) {
      c = wasmcap_config_new();
      CHECK_OK(wasmcap_config_push_preopen(c, src, "/src", 1));
      CHECK_OK(wasmcap_config_push_preopen(c, out, "/out", 0));
      CHECK_OK(wasmcap_config_push_arg(c, "coreutils"));
      CHECK_OK(wasmcap_config_push_arg(c, "cp"));
      CHECK_OK(wasmcap_config_push_arg(c, "/src/big"));
      CHECK_OK(wasmcap_config_push_arg(c, bounded ? "/out/cut" : "/out/whole"));
      if (bounded) wasmcap_config_set_max_write_bytes(c, 1u << 20);
      CHECK_OK(run_capture(e, cu, c, &cap, &r));
      struct stat st;
      CHECK(stat(path_of(tmp_dir, bounded ? "wb-out/cut" : "wb-out/whole"), &st) == 0);
      if (bounded) {
        CHECK(r.exit_code != 0);
        CHECK(st.st_size == (1 << 20) - 4096);
      } else {
        CHECK(r.exit_code == 0);
        CHECK(st.st_size == 3 << 20);
      }
      wasmcap_config_delete(c);
    }
    wasmcap_module_delete(cu);
  }

  wasmcap_module_t* big = load(e, "big_memory.wasm");
  c = wasmcap_config_new();
  wasmcap_config_set_max_memory_bytes(c, 1u << 20);
  err = wasmcap_run(e, big, c, &r);
  CHECK(err != NULL);
  wasmcap_error_delete(err);
  wasmcap_config_delete(c);
  wasmcap_module_delete(big);

  wasmcap_engine_delete(e);
}

static const char kManifest[] =
    "{\"name\":\"fetch\",\"version\":\"1.0.0\",\"module\":\"fetch.wasm\",\"permissions\":{"
    "\"args\":true,\"env\":[\"WHO\"],"
    "\"host_api\":{\"https\":{\"allow\":[{\"host\":\"api.example.com\",\"methods\":[\"GET\"]}]}}}}";
static const char kConfigGrantsAll[] =
    "{\"plugins\":{\"fetch\":{\"grants\":{\"env\":{\"WHO\":\"operator\"},\"host_api\":{\"https\":{"
    "\"allow\":[{\"host\":\"api.example.com\",\"methods\":[\"GET\"]}]}}}}}}";
static const char kConfigGrantsEnvOnly[] =
    "{\"plugins\":{\"fetch\":{\"grants\":{\"env\":{\"WHO\":\"operator\"}}}}}";

static void test_plans(void) {
  wasmcap_plan_t* p = (wasmcap_plan_t*)1;
  CHECK_ERR(wasmcap_plan_new(NULL, "c.json", &p), WASMCAP_ERR_INVALID_ARGUMENT, "manifest_path");
  CHECK(p == NULL);
  CHECK_ERR(wasmcap_plan_new("m.json", NULL, &p), WASMCAP_ERR_INVALID_ARGUMENT, "config_path");
  CHECK_ERR(wasmcap_plan_new("m.json", "c.json", NULL), WASMCAP_ERR_INVALID_ARGUMENT, "out");
  CHECK_ERR(wasmcap_plan_new(path_of(tmp_dir, "missing-manifest.json"), "c.json", &p),
            WASMCAP_ERR_NOT_FOUND, "missing-manifest.json");
  CHECK_ERR(wasmcap_plan_new_from_json(NULL, 0, "{}", 2, NULL, &p), WASMCAP_ERR_INVALID_ARGUMENT, "manifest_json");
  CHECK_ERR(wasmcap_plan_new_from_json("{}", 2, NULL, 0, NULL, &p), WASMCAP_ERR_INVALID_ARGUMENT, "config_json");
  CHECK_ERR(wasmcap_plan_new_from_json("{}", 2, "{}", 2, NULL, NULL), WASMCAP_ERR_INVALID_ARGUMENT, "out");
  CHECK_ERR(wasmcap_plan_new_from_json("{", 1, "{}", 2, NULL, &p), WASMCAP_ERR_MANIFEST_INVALID, NULL);
  CHECK_ERR(wasmcap_plan_new_from_json(kManifest, strlen(kManifest), "{\"plugins\":1}", 13, NULL, &p),
            WASMCAP_ERR_CONFIG_INVALID, NULL);
  CHECK_ERR(wasmcap_plan_check(NULL), WASMCAP_ERR_INVALID_ARGUMENT, "plan");
  CHECK(strcmp(wasmcap_plan_plugin(NULL), "") == 0 && strcmp(wasmcap_plan_module_path(NULL), "") == 0 &&
        strcmp(wasmcap_plan_json(NULL), "") == 0);

  /* Files: the module path resolves against the manifest's directory. */
  FILE* f = fopen(path_of(tmp_dir, "manifest.json"), "w");
  fputs(kManifest, f);
  fclose(f);
  f = fopen(path_of(tmp_dir, "config.json"), "w");
  fputs(kConfigGrantsAll, f);
  fclose(f);
  CHECK_OK(wasmcap_plan_new(path_of(tmp_dir, "manifest.json"), path_of(tmp_dir, "config.json"), &p));
  CHECK(strcmp(wasmcap_plan_plugin(p), "fetch") == 0);
  CHECK(strcmp(wasmcap_plan_module_path(p), path_of(tmp_dir, "fetch.wasm")) == 0);
  CHECK(strstr(wasmcap_plan_json(p), "api.example.com") != NULL);
  CHECK_OK(wasmcap_plan_check(p));
  wasmcap_plan_delete(p);
  wasmcap_plan_delete(NULL);

  /* A plan denying https: refused without degrade; with it, the guest's request is denied at
   * call time and the audit callback sees the denial. */
  CHECK_OK(wasmcap_plan_new_from_json(kManifest, strlen(kManifest), kConfigGrantsEnvOnly,
                                      strlen(kConfigGrantsEnvOnly), guest_dir, &p));
  CHECK_ERR(wasmcap_plan_check(p), WASMCAP_ERR_GRANT_DENIED, "api.example.com");
  wasmcap_engine_t* e = NULL;
  CHECK_OK(wasmcap_engine_new("interp", NULL, &e));
  wasmcap_module_t* fetch = NULL;
  CHECK_OK(wasmcap_module_new_from_file(e, wasmcap_plan_module_path(p), &fetch));
  wasmcap_config_t* c = wasmcap_config_new();
  CHECK_OK(wasmcap_config_push_arg(c, "fetch"));
  CHECK_OK(wasmcap_config_push_arg(c, "https://api.example.com/v1"));
  struct capture cap;
  wasmcap_run_result_t r;
  /* Without a plan no host API is linked: the refusal says how an embedder grants one (a plan),
   * not the CLI's flag. */
  {
    wasmcap_error_t* err = run_capture(e, fetch, c, &cap, &r);
    CHECK(err != NULL && wasmcap_error_code(err) == WASMCAP_ERR_GRANT_DENIED);
    CHECK(err != NULL && strstr(wasmcap_error_message(err), "wasmcap_config_set_plan") != NULL);
    CHECK(err != NULL && strstr(wasmcap_error_message(err), "--allow-https") == NULL);
    wasmcap_error_delete(err);
  }
  wasmcap_config_set_plan(c, p, 0);
  CHECK_ERR(run_capture(e, fetch, c, &cap, &r), WASMCAP_ERR_GRANT_DENIED, "api.example.com");
  struct audit_capture audit;
  memset(&audit, 0, sizeof audit);
  wasmcap_config_set_audit_callback(c, on_audit, &audit);
  wasmcap_config_set_plan(c, p, 1);
  CHECK_OK(run_capture(e, fetch, c, &cap, &r));
  CHECK(r.exit_code == 1);
  CHECK(strstr(cap.out, "grant_denied") != NULL);
  /* The library writes the run's own records around the https event (runtime.h record_run):
   * run_start, the denial, run_end, all under one invocation id. */
  CHECK(audit.count == 3);
  CHECK(strstr(audit.records[0], "\"event\":\"run_start\"") != NULL);
  CHECK(strstr(audit.records[1], "\"decision\":\"denied\"") != NULL);
  CHECK(strstr(audit.records[1], "\"plugin\":\"fetch\"") != NULL);
  CHECK(strstr(audit.records[2], "\"event\":\"run_end\"") != NULL);
  CHECK(strstr(audit.records[2], "\"exit_code\":1") != NULL);
  {
    char id0[64], id1[64], id2[64];
    invocation_id_of(audit.records[0], id0);
    invocation_id_of(audit.records[1], id1);
    invocation_id_of(audit.records[2], id2);
    CHECK(strlen(id0) == 32 && strcmp(id0, id1) == 0 && strcmp(id0, id2) == 0);
  }
  /* One source of grants: env/preopens pushed on a config with a plan are refused at the call;
   * pushed before the plan was set, at run. */
  CHECK_ERR(wasmcap_config_push_env(c, "WHO", "embedder"), WASMCAP_ERR_INVALID_ARGUMENT,
            "wasmcap_config_set_plan");
  CHECK_ERR(wasmcap_config_push_preopen(c, tmp_dir, "/work", 0), WASMCAP_ERR_INVALID_ARGUMENT,
            "wasmcap_config_set_plan");
  CHECK_OK(run_capture(e, fetch, c, &cap, &r)); /* the refused pushes left the config as it was */
  wasmcap_config_delete(c);
  c = wasmcap_config_new();
  CHECK_OK(wasmcap_config_push_env(c, "WHO", "embedder"));
  wasmcap_config_set_plan(c, p, 1);
  CHECK_ERR(run_capture(e, fetch, c, &cap, &r), WASMCAP_ERR_INVALID_ARGUMENT, "plan");
  wasmcap_config_delete(c);
  /* Arguments need the manifest's args request: a plan whose manifest lacks it refuses them. */
  static const char kNoArgs[] = "{\"name\":\"fetch\",\"version\":\"1.0.0\",\"module\":\"hello.wasm\"}";
  wasmcap_plan_t* p2 = NULL;
  static const char kEntry[] = "{\"plugins\":{\"fetch\":{}}}";
  CHECK_OK(wasmcap_plan_new_from_json(kNoArgs, strlen(kNoArgs), kEntry, strlen(kEntry), guest_dir, &p2));
  CHECK_OK(wasmcap_plan_check(p2));
  c = wasmcap_config_new();
  wasmcap_config_set_plan(c, p2, 0);
  CHECK_OK(wasmcap_config_push_arg(c, "hello"));
  CHECK_OK(wasmcap_config_push_arg(c, "extra"));
  CHECK_ERR(run_capture(e, fetch, c, &cap, &r), WASMCAP_ERR_GRANT_DENIED, "args");
  wasmcap_config_delete(c);
  wasmcap_plan_delete(p2);

  /* The plan's limits are bounded further by the config's (smaller wins). */
  static const char kLimited[] = "{\"name\":\"spin\",\"version\":\"1.0.0\",\"module\":\"spin.wasm\","
                                 "\"limits\":{\"timeout_ms\":600000}}";
  static const char kLimitedCfg[] = "{\"plugins\":{\"spin\":{\"limits\":{\"timeout_ms\":600000}}}}";
  CHECK_OK(wasmcap_plan_new_from_json(kLimited, strlen(kLimited), kLimitedCfg, strlen(kLimitedCfg),
                                      guest_dir, &p2));
  wasmcap_module_t* spin = load(e, "spin.wasm");
  c = wasmcap_config_new();
  wasmcap_config_set_plan(c, p2, 0);
  wasmcap_config_set_timeout_ms(c, 50);
  CHECK_ERR(wasmcap_run(e, spin, c, &r), WASMCAP_ERR_DEADLINE_EXCEEDED, NULL);
  wasmcap_config_delete(c);
  wasmcap_module_delete(spin);
  wasmcap_plan_delete(p2);

  wasmcap_module_delete(fetch);
  wasmcap_engine_delete(e);
  wasmcap_plan_delete(p);
}

/* Clocks and random: run-level pins through the C API (docs/wasi-support.md#clocks-and-random). */
static void test_clock_random_pins(void) {
  wasmcap_engine_t* e = NULL;
  CHECK_OK(wasmcap_engine_new("interp", NULL, &e));
  if (e == NULL) return;
  wasmcap_module_t* m = load(e, "time_random.wasm");
  struct capture cap;
  static char first[65536];
  wasmcap_run_result_t r;
  wasmcap_config_t* c = wasmcap_config_new();
  CHECK_ERR(wasmcap_config_set_clock(NULL, "deny"), WASMCAP_ERR_INVALID_ARGUMENT, "config");
  CHECK_ERR(wasmcap_config_set_clock(c, NULL), WASMCAP_ERR_INVALID_ARGUMENT, "spec");
  CHECK_ERR(wasmcap_config_set_clock(c, "fixed=2026-02-30T00:00:00Z"), WASMCAP_ERR_INVALID_ARGUMENT,
            "day out of range");
  CHECK_ERR(wasmcap_config_set_random(c, "seed=x"), WASMCAP_ERR_INVALID_ARGUMENT, "seed=N");
  /* Pinned: two runs print the same bytes, and the first wall-clock read is the instant. */
  CHECK_OK(wasmcap_config_set_clock(c, "fixed=2026-01-01T00:00:00Z"));
  CHECK_OK(wasmcap_config_set_random(c, "seed=42"));
  CHECK_OK(run_capture(e, m, c, &cap, &r));
  memcpy(first, cap.out, sizeof first);
  CHECK(strstr(first, "\nrealtime=1767225600000000000\n") != NULL);
  CHECK_OK(run_capture(e, m, c, &cap, &r));
  CHECK(strcmp(first, cap.out) == 0);
  /* Denied: ENOTCAPABLE (76). */
  CHECK_OK(wasmcap_config_set_clock(c, "deny"));
  CHECK_OK(wasmcap_config_set_random(c, "deny"));
  CHECK_OK(run_capture(e, m, c, &cap, &r));
  CHECK(strstr(cap.out, "realtime_errno=76") != NULL);
  CHECK(strstr(cap.out, "random32_errno=76") != NULL);
  wasmcap_config_delete(c);
  /* A plan that does not request clocks: a pin cannot turn them on. */
  static const char manifest[] = "{\"name\":\"p\",\"version\":\"1.0.0\",\"module\":\"m.wasm\"}";
  static const char config[] = "{\"plugins\":{\"p\":{}}}";
  wasmcap_plan_t* p = NULL;
  CHECK_OK(wasmcap_plan_new_from_json(manifest, strlen(manifest), config, strlen(config), NULL, &p));
  c = wasmcap_config_new();
  wasmcap_config_set_plan(c, p, 0);
  CHECK_OK(wasmcap_config_set_clock(c, "fixed=2026-01-01T00:00:00Z"));
  CHECK_OK(wasmcap_config_set_random(c, "seed=1"));
  CHECK_OK(run_capture(e, m, c, &cap, &r));
  CHECK(strstr(cap.out, "realtime_errno=76") != NULL);
  CHECK(strstr(cap.out, "random32_errno=76") != NULL);
  wasmcap_config_delete(c);
  wasmcap_plan_delete(p);
  wasmcap_module_delete(m);
  wasmcap_engine_delete(e);
}

int main(int argc, char** argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: capi_test GUEST_DIR TMP_DIR\n");
    return 2;
  }
  guest_dir = argv[1];
  tmp_dir = argv[2];
  test_version_and_codes();
  test_engine_and_module();
  test_config_errors();
  test_runs("interp");
  const char* aot = getenv("WASMCAP_CAPI_TEST_AOT");
  if (aot != NULL && *aot != '\0') test_runs("aot");
  test_plans();
  test_clock_random_pins();
  if (failures != 0) {
    fprintf(stderr, "%d check(s) failed\n", failures);
    return 1;
  }
  printf("capi_test: all checks passed\n");
  return 0;
}

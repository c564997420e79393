/* The C API's re-run cost (bench/capi_rerun.py): one module handle, many wasmcap_run calls.
 *
 *   rerun ENGINE MODULE RUNS
 *
 * Loads MODULE once (wasmcap_module_new_from_file) on ENGINE ("interp", "aot"; NULL cache dir:
 * the default), then calls wasmcap_run RUNS times with one config whose output goes to a callback
 * that drops it. Prints one line: the load's wall ms, then the median and the minimum wall ms of
 * one wasmcap_run, measured around the call (not the library's own wall_ms). Any error ends it
 * with status 1. Built against the headers and library of the build it measures. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "wasmcap/wasmcap.h"

static double now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec * 1000.0 + (double)t.tv_nsec / 1e6;
}

static int drop(void* user, int fd, const uint8_t* data, size_t len) {
  (void)user;
  (void)fd;
  (void)data;
  (void)len;
  return 0;
}

static int cmp(const void* a, const void* b) {
  double x = *(const double*)a, y = *(const double*)b;
  return x < y ? -1 : x > y;
}

static int fail(const char* what, wasmcap_error_t* e) {
  fprintf(stderr, "rerun: %s: %s\n", what, wasmcap_error_message(e));
  wasmcap_error_delete(e);
  return 1;
}

int main(int argc, char** argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: rerun ENGINE MODULE RUNS\n");
    return 2;
  }
  int runs = atoi(argv[3]);
  if (runs < 1 || runs > 100000) {
    fprintf(stderr, "rerun: RUNS must be 1..100000\n");
    return 2;
  }
  wasmcap_engine_t* engine = NULL;
  wasmcap_error_t* e = wasmcap_engine_new(argv[1], NULL, &engine);
  if (e) return fail("engine", e);
  double t0 = now_ms();
  wasmcap_module_t* module = NULL;
  e = wasmcap_module_new_from_file(engine, argv[2], &module);
  if (e) return fail("module", e);
  double load_ms = now_ms() - t0;
  wasmcap_config_t* config = wasmcap_config_new();
  e = wasmcap_config_push_arg(config, "hello");
  if (e) return fail("config", e);
  wasmcap_config_set_output_callback(config, drop, NULL);
  double* ms = malloc((size_t)runs * sizeof(double));
  if (ms == NULL) return 1;
  for (int i = 0; i < runs; ++i) {
    wasmcap_run_result_t r;
    double s = now_ms();
    e = wasmcap_run(engine, module, config, &r);
    ms[i] = now_ms() - s;
    if (e) return fail("run", e);
    if (r.exit_code != 0) {
      fprintf(stderr, "rerun: the guest exited with %d\n", (int)r.exit_code);
      return 1;
    }
  }
  qsort(ms, (size_t)runs, sizeof(double), cmp);
  printf("%.4f %.4f %.4f\n", load_ms, ms[runs / 2], ms[0]);
  free(ms);
  wasmcap_config_delete(config);
  wasmcap_module_delete(module);
  wasmcap_engine_delete(engine);
  return 0;
}

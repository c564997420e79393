/* typed_calls COMPONENT ENGINE CALLS: calls the component's `add(a: u32, b: u32) -> u32` export
 * CALLS times through the C API (wasmcap_call: a fresh instance per call, arguments and result as
 * value trees), in 5 batches; one JSON line: microseconds per call of the best batch, and whether
 * every result was right. bench/typed_calls.py runs it beside the CLI, MCP and jco. */
#include <wasmcap/wasmcap.h>

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

int main(int argc, char** argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: typed_calls COMPONENT ENGINE CALLS\n");
    return 2;
  }
  long calls = atol(argv[3]);
  wasmcap_engine_t* engine = NULL;
  wasmcap_module_t* module = NULL;
  wasmcap_error_t* err = wasmcap_engine_new(argv[2], NULL, &engine);
  if (err == NULL) err = wasmcap_module_new_from_file(engine, argv[1], &module);
  if (err != NULL) {
    fprintf(stderr, "typed_calls: %s\n", wasmcap_error_message(err));
    return 1;
  }
  wasmcap_config_t* config = wasmcap_config_new();
  int right = 1;
  double best = 1e30;
  for (int batch = 0; batch < 5; ++batch) {
    double t0 = now();
    for (long i = 0; i < calls; ++i) {
      wasmcap_val_t* a = wasmcap_val_new_u32((uint32_t)i);
      wasmcap_val_t* b = wasmcap_val_new_u32(2);
      const wasmcap_val_t* args[2] = {a, b};
      wasmcap_val_t* r = NULL;
      err = wasmcap_call(engine, module, config, "add", args, 2, &r, NULL);
      if (err != NULL) {
        fprintf(stderr, "typed_calls: %s\n", wasmcap_error_message(err));
        return 1;
      }
      right = right && wasmcap_val_u64(r) == (uint64_t)i + 2;
      wasmcap_val_delete(r);
      wasmcap_val_delete(a);
      wasmcap_val_delete(b);
    }
    double per = (now() - t0) / (double)calls;
    if (per < best) best = per;
  }
  printf("{\"via\": \"C API wasmcap_call (%s)\", \"us_per_call\": %.2f, \"right\": %s}\n", argv[2], best * 1e6,
         right ? "true" : "false");
  wasmcap_config_delete(config);
  wasmcap_module_delete(module);
  wasmcap_engine_delete(engine);
  return right ? 0 : 1;
}

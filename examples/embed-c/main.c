/* embed-c: the smallest useful embedder of wasmcap, in C.
 *
 *   embed-c MODULE.wasm [ARGS...]                      run with flag-style grants (none)
 *   embed-c --manifest M.json --config C.json [ARGS...] run a plugin under a plan
 *
 * Runs the module with a 10 s deadline and a 64 MiB memory cap, prints audit records to stderr,
 * and exits with the guest's status (or the CLI's exit status for wasmcap's own errors). */
#include <stdio.h>
#include <string.h>

#include <wasmcap/wasmcap.h>

static void print_audit(void* user, const char* json_line, size_t len) {
  (void)user;
  fprintf(stderr, "audit: %.*s\n", (int)len, json_line);
}

static int fail(wasmcap_error_t* err) {
  wasmcap_errcode_t code = wasmcap_error_code(err);
  fprintf(stderr, "embed-c: %s: %s\n", wasmcap_errcode_name(code), wasmcap_error_message(err));
  wasmcap_error_delete(err);
  return wasmcap_errcode_exit_status(code);
}

int main(int argc, char** argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: embed-c MODULE.wasm [ARGS...] | --manifest M --config C [ARGS...]\n");
    return 64;
  }
  int status = 0;
  int first_arg = 2;
  const char* module_path = argv[1];
  wasmcap_plan_t* plan = NULL;
  wasmcap_engine_t* engine = NULL;
  wasmcap_module_t* module = NULL;
  wasmcap_config_t* config = wasmcap_config_new();
  wasmcap_error_t* err = NULL;

  if (strcmp(argv[1], "--manifest") == 0) {
    if (argc < 5 || strcmp(argv[3], "--config") != 0) {
      fprintf(stderr, "usage: embed-c --manifest M --config C [ARGS...]\n");
      return 64;
    }
    if ((err = wasmcap_plan_new(argv[2], argv[4], &plan)) != NULL) goto done;
    if ((err = wasmcap_plan_check(plan)) != NULL) goto done;
    module_path = wasmcap_plan_module_path(plan);
    wasmcap_config_set_plan(config, plan, 0);
    first_arg = 5;
  }

  if ((err = wasmcap_engine_new("interp", NULL, &engine)) != NULL) goto done;
  if ((err = wasmcap_module_new_from_file(engine, module_path, &module)) != NULL) goto done;
  if ((err = wasmcap_config_push_arg(config, module_path)) != NULL) goto done;
  for (int i = first_arg; i < argc; i++) {
    if ((err = wasmcap_config_push_arg(config, argv[i])) != NULL) goto done;
  }
  wasmcap_config_set_timeout_ms(config, 10000);
  wasmcap_config_set_max_memory_bytes(config, 64u << 20);
  wasmcap_config_set_audit_callback(config, print_audit, NULL);

  wasmcap_run_result_t result;
  if ((err = wasmcap_run(engine, module, config, &result)) != NULL) goto done;
  status = result.exit_code;

done:
  if (err != NULL) status = fail(err);
  wasmcap_module_delete(module);
  wasmcap_engine_delete(engine);
  wasmcap_config_delete(config);
  wasmcap_plan_delete(plan);
  return status;
}

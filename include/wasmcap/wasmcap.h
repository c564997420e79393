/* wasmcap C API: embed the wasmcap runtime from C (and from any language with a C FFI).
 *
 * A stable C ABI: every object is an opaque handle made by a *_new function and released by the
 * matching *_delete (which accepts NULL). No C++ type crosses this header; it needs only the C
 * standard headers. Reference: docs/c-api.md.
 *
 * Errors: every fallible function returns a wasmcap_error_t* -- NULL on success, otherwise an
 * error the caller owns and releases with wasmcap_error_delete. An error has a stable numeric
 * code (WASMCAP_ERR_*; the same codes, names and exit statuses as the CLI, docs/cli.md) and a
 * message that says what to do next.
 *
 * Threads: handles are not synchronised; use one from one thread at a time. Exceptions:
 * wasmcap_interrupt_trigger may be called from any thread while a run is in progress, and an
 * engine or module may be shared by concurrent runs (each with its own config).
 *
 * Callbacks receive the void* user pointer given when they were set, and must not throw or
 * longjmp out of wasmcap. */
#ifndef WASMCAP_WASMCAP_H
#define WASMCAP_WASMCAP_H

#include <stddef.h>
#include <stdint.h>

#include "wasmcap/version.h"

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define WASMCAP_API __attribute__((visibility("default")))
#else
#define WASMCAP_API
#endif

/* Version of these headers (WASMCAP_VERSION, WASMCAP_VERSION_NUMBER and its parts):
 * wasmcap/version.h, generated from the CMake project version and installed next to this
 * header. wasmcap_version() is the library's. */

/* WASMCAP_VERSION of the library actually linked, e.g. "0.1.0". */
WASMCAP_API const char* wasmcap_version(void);
/* WASMCAP_VERSION_NUMBER of the library actually linked. */
WASMCAP_API int wasmcap_version_number(void);

/* --- Errors ---------------------------------------------------------------------------------- */

/* Stable error codes. Values never change; new codes are only appended. */
typedef enum wasmcap_errcode {
  WASMCAP_OK = 0,
  WASMCAP_ERR_INVALID_ARGUMENT = 1,
  WASMCAP_ERR_IO = 2,
  WASMCAP_ERR_NOT_FOUND = 3,
  WASMCAP_ERR_MODULE_MALFORMED = 4,
  WASMCAP_ERR_MODULE_UNSUPPORTED = 5,
  WASMCAP_ERR_LINK = 6,
  WASMCAP_ERR_NO_ENTRY_POINT = 7,
  WASMCAP_ERR_TRAP_UNREACHABLE = 8,
  WASMCAP_ERR_TRAP_MEMORY_OUT_OF_BOUNDS = 9,
  WASMCAP_ERR_TRAP_TABLE_OUT_OF_BOUNDS = 10,
  WASMCAP_ERR_TRAP_INTEGER_DIVIDE_BY_ZERO = 11,
  WASMCAP_ERR_TRAP_INTEGER_OVERFLOW = 12,
  WASMCAP_ERR_TRAP_INVALID_CONVERSION = 13,
  WASMCAP_ERR_TRAP_INDIRECT_CALL_NULL = 14,
  WASMCAP_ERR_TRAP_INDIRECT_CALL_MISMATCH = 15,
  WASMCAP_ERR_TRAP_STACK_EXHAUSTED = 16,
  WASMCAP_ERR_TRAP_HOST = 17,
  WASMCAP_ERR_TRAP = 18,
  WASMCAP_ERR_FUEL_EXHAUSTED = 19,
  WASMCAP_ERR_DEADLINE_EXCEEDED = 20,
  WASMCAP_ERR_MEMORY_LIMIT = 21,
  WASMCAP_ERR_OUTPUT_LIMIT = 22,
  WASMCAP_ERR_MANIFEST_INVALID = 23,
  WASMCAP_ERR_CONFIG_INVALID = 24,
  WASMCAP_ERR_GRANT_DENIED = 25,
  WASMCAP_ERR_CAPABILITY_UNAVAILABLE = 26,
  WASMCAP_ERR_BUNDLE_INVALID = 27,
  WASMCAP_ERR_BUNDLE_UNTRUSTED = 28,
  WASMCAP_ERR_BUNDLE_REVOKED = 29,
  WASMCAP_ERR_BUNDLE_CONFLICT = 30,
  WASMCAP_ERR_INTERNAL = 31,
  WASMCAP_ERR_COMPILE_LIMIT = 32,
  WASMCAP_ERR_WORKSPACE_CONFLICT = 33,
  WASMCAP_ERR_TRAP_UNCAUGHT_EXCEPTION = 34
} wasmcap_errcode_t;

typedef struct wasmcap_error wasmcap_error_t;

WASMCAP_API void wasmcap_error_delete(wasmcap_error_t* error);
WASMCAP_API wasmcap_errcode_t wasmcap_error_code(const wasmcap_error_t* error);
/* The message (UTF-8, never NULL); valid until the error is deleted. */
WASMCAP_API const char* wasmcap_error_message(const wasmcap_error_t* error);
/* Stable snake_case name of a code ("trap_unreachable"; "ok" for WASMCAP_OK; "unknown" for a
 * value this library does not know). Static storage. */
WASMCAP_API const char* wasmcap_errcode_name(wasmcap_errcode_t code);
/* The process exit status the wasmcap CLI uses for this code (docs/cli.md). */
WASMCAP_API int wasmcap_errcode_exit_status(wasmcap_errcode_t code);
/* 1 for the trap codes, else 0. */
WASMCAP_API int wasmcap_errcode_is_trap(wasmcap_errcode_t code);

/* --- Engine ---------------------------------------------------------------------------------- */

typedef struct wasmcap_engine wasmcap_engine_t;

/* name: "interp" (NULL means this), "aot" (compiled to native code; needs a C compiler at run
 * time, docs/aot.md) or "auto" (aot when the module's object is cached; otherwise the run is
 * interpreted while a detached, bounded process compiles it for the next run: docs/aot.md,
 * "Background compile"). aot_cache_dir: the AOT cache directory, or NULL for the default.
 * Errors: invalid_argument for an unknown name. */
WASMCAP_API wasmcap_error_t* wasmcap_engine_new(const char* name, const char* aot_cache_dir,
                                                wasmcap_engine_t** out);
WASMCAP_API void wasmcap_engine_delete(wasmcap_engine_t* engine);
/* "interp", "aot" or "auto", as given. */
WASMCAP_API const char* wasmcap_engine_name(const wasmcap_engine_t* engine);

/* --- Module ---------------------------------------------------------------------------------- */

typedef struct wasmcap_module wasmcap_module_t;

/* Validates and loads a WebAssembly core module (WASI Preview 1), or decodes and validates a
 * WASI 0.2 component (its runs instantiate it: docs/components.md). The bytes are copied.
 * Errors: module_malformed, module_unsupported (a feature the engine or the component decoder
 * does not support). */
WASMCAP_API wasmcap_error_t* wasmcap_module_new(wasmcap_engine_t* engine, const uint8_t* bytes,
                                                size_t len, wasmcap_module_t** out);
/* The same from a file. The module remembers the file's identity as read (device, inode, size,
 * times): on "aot" and "auto" engines, its load and every wasmcap_run of it take the module's
 * hash from the AOT cache's record of the unchanged file instead of hashing it (docs/aot.md,
 * "Cold start"). Errors: also not_found, io_error. */
WASMCAP_API wasmcap_error_t* wasmcap_module_new_from_file(wasmcap_engine_t* engine,
                                                          const char* path,
                                                          wasmcap_module_t** out);
WASMCAP_API void wasmcap_module_delete(wasmcap_module_t* module);
WASMCAP_API size_t wasmcap_module_import_count(const wasmcap_module_t* module);
WASMCAP_API size_t wasmcap_module_export_count(const wasmcap_module_t* module);
/* Import i as "module.name" / export i's name; NULL when i is out of range. Names are the
 * module's own (untrusted) bytes: escape them before showing them anywhere. Valid until the
 * module is deleted. A component lists its exported functions (as `wasmcap call` names them)
 * and no imports (its imports are interfaces: `wasmcap plan` names them). */
WASMCAP_API const char* wasmcap_module_import_name(const wasmcap_module_t* module, size_t i);
WASMCAP_API const char* wasmcap_module_export_name(const wasmcap_module_t* module, size_t i);

/* --- Plan: manifest requests x host config grants (docs/capabilities.md) ------------------- */

typedef struct wasmcap_plan wasmcap_plan_t;

/* Parses a manifest and a host config (files) and intersects them. The manifest's module path
 * is resolved against the manifest's directory. Errors: manifest_invalid, config_invalid,
 * not_found, io_error. A plan with denials is still made: see wasmcap_plan_check. */
WASMCAP_API wasmcap_error_t* wasmcap_plan_new(const char* manifest_path, const char* config_path,
                                              wasmcap_plan_t** out);
/* The same from JSON text; manifest_dir resolves a relative module path (NULL: "."). */
WASMCAP_API wasmcap_error_t* wasmcap_plan_new_from_json(const char* manifest_json,
                                                        size_t manifest_len,
                                                        const char* config_json,
                                                        size_t config_len,
                                                        const char* manifest_dir,
                                                        wasmcap_plan_t** out);
WASMCAP_API void wasmcap_plan_delete(wasmcap_plan_t* plan);
/* NULL when every request is granted; else grant_denied naming each denial. */
WASMCAP_API wasmcap_error_t* wasmcap_plan_check(const wasmcap_plan_t* plan);
/* The plugin name; the module path; the plan as JSON (the schema of `wasmcap plan --json`).
 * Valid until the plan is deleted. */
WASMCAP_API const char* wasmcap_plan_plugin(const wasmcap_plan_t* plan);
WASMCAP_API const char* wasmcap_plan_module_path(const wasmcap_plan_t* plan);
WASMCAP_API const char* wasmcap_plan_json(const wasmcap_plan_t* plan);

/* --- Installed bundles ------------------------------------------------------------------------ */

/* Opens the installed bundle `reference` ("NAME", the highest version, or "NAME@VERSION") from the
 * local registry at `home` (NULL: $WASMCAP_HOME, else $XDG_DATA_HOME/wasmcap, else
 * ~/.local/share/wasmcap), verified as `wasmcap run NAME` verifies it: the signature over the
 * stored manifest by the recorded signer, the signer's trust and revocation as the trust store
 * (HOME/trust and the host config's `trust` section) says now, and the module's SHA-256. The
 * registry is only read (never created or written). On success *module_out is the verified
 * module, loaded on `engine` from the bytes that were hashed (as wasmcap_module_new), and
 * *plan_out the bundle's manifest x the host config `config_json` (config_len bytes; NULL: an
 * empty config, which grants nothing): pass it to wasmcap_config_set_plan. A bundle installed
 * with --allow-untrusted whose signer is not trusted now is refused unless allow_untrusted != 0.
 * Errors: not_found (not installed, or no registry at home), bundle_invalid (the store was
 * modified), bundle_revoked, bundle_untrusted, invalid_argument (a bad reference or config). */
WASMCAP_API wasmcap_error_t* wasmcap_installed_open(wasmcap_engine_t* engine, const char* home,
                                                    const char* reference,
                                                    const char* config_json, size_t config_len,
                                                    int allow_untrusted,
                                                    wasmcap_module_t** module_out,
                                                    wasmcap_plan_t** plan_out);

/* --- Interrupt ------------------------------------------------------------------------------- */

typedef struct wasmcap_interrupt wasmcap_interrupt_t;

WASMCAP_API wasmcap_interrupt_t* wasmcap_interrupt_new(void);
/* Must outlive every run whose config uses it. */
WASMCAP_API void wasmcap_interrupt_delete(wasmcap_interrupt_t* interrupt);
/* Stops every run using this handle with WASMCAP_ERR_DEADLINE_EXCEEDED, promptly. Any thread.
 * The handle stays triggered until wasmcap_interrupt_reset. */
WASMCAP_API void wasmcap_interrupt_trigger(wasmcap_interrupt_t* interrupt);
WASMCAP_API void wasmcap_interrupt_reset(wasmcap_interrupt_t* interrupt);

/* --- Run configuration ----------------------------------------------------------------------- */

typedef struct wasmcap_config wasmcap_config_t;

/* Secure defaults: argv is just argv[0] = "plugin", no environment, no directories, stdin
 * empty, stdout/stderr to the process's fds 1 and 2, 4 GiB memory, no fuel or time limit. */
WASMCAP_API wasmcap_config_t* wasmcap_config_new(void);
WASMCAP_API void wasmcap_config_delete(wasmcap_config_t* config);

/* Enforce a plan: its directories, environment, limits and host APIs (https). A config with a
 * plan takes no wasmcap_config_push_env/push_preopen (grants come from the plan only:
 * invalid_argument at the call, or at run for one pushed before the plan was set); limits set below bound the plan's further (the smaller wins). degrade != 0
 * runs despite denials (each use of a missing grant fails at call time). The plan is copied. */
WASMCAP_API void wasmcap_config_set_plan(wasmcap_config_t* config, const wasmcap_plan_t* plan,
                                         int degrade);

/* WASI: argv (argv[0] first; the first push replaces the default argv[0]), environment, and
 * preopened directories (host directory shown to the guest as guest_path; read_only != 0 forbids
 * every change). Errors: invalid_argument for NULL or empty strings, '=' in an env name, NUL. */
WASMCAP_API wasmcap_error_t* wasmcap_config_push_arg(wasmcap_config_t* config, const char* arg);
WASMCAP_API wasmcap_error_t* wasmcap_config_push_env(wasmcap_config_t* config, const char* name,
                                                     const char* value);
WASMCAP_API wasmcap_error_t* wasmcap_config_push_preopen(wasmcap_config_t* config,
                                                         const char* host_path,
                                                         const char* guest_path, int read_only);
/* Host fds for guest stdio (-1: stdin reads EOF, output discarded). Not closed by wasmcap. */
WASMCAP_API void wasmcap_config_set_stdio(wasmcap_config_t* config, int stdin_fd, int stdout_fd,
                                          int stderr_fd);

/* Receives guest output (fd 1 or 2) instead of the stdio fds. Return 0 to accept, non-zero to
 * refuse (the guest's write fails with EIO). */
typedef int (*wasmcap_output_callback_t)(void* user, int fd, const uint8_t* data, size_t len);
WASMCAP_API void wasmcap_config_set_output_callback(wasmcap_config_t* config,
                                                    wasmcap_output_callback_t callback,
                                                    void* user);

/* Receives each audit record of a run (one JSON object, UTF-8, no newline): run_start before
 * the module is loaded, the https records of its requests, run_end after it (docs/audit.md),
 * besides the host config's audit.file. Called from the run's thread. */
typedef void (*wasmcap_audit_callback_t)(void* user, const char* json_line, size_t len);
WASMCAP_API void wasmcap_config_set_audit_callback(wasmcap_config_t* config,
                                                   wasmcap_audit_callback_t callback, void* user);

/* Limits (0 = unlimited; memory 0 = the 4 GiB default). */
WASMCAP_API void wasmcap_config_set_fuel(wasmcap_config_t* config, uint64_t fuel);
WASMCAP_API void wasmcap_config_set_timeout_ms(wasmcap_config_t* config, uint64_t timeout_ms);
WASMCAP_API void wasmcap_config_set_max_memory_bytes(wasmcap_config_t* config, uint64_t bytes);
WASMCAP_API void wasmcap_config_set_max_output_bytes(wasmcap_config_t* config, uint64_t bytes);
// The write budget (docs/security-model.md, "Write budget"): bytes the guest's file writes may
// add to the host's disk (each new file, directory or link costs 4 KiB of it); beyond it writes
// fail with ENOSPC. 0 (the default): the plan's limits.max_write_mb, else 4 GiB.
WASMCAP_API void wasmcap_config_set_max_write_bytes(wasmcap_config_t* config, uint64_t bytes);
/* The export to call instead of _start (a reactor's function; no arguments). NULL: _start. */
WASMCAP_API wasmcap_error_t* wasmcap_config_set_entry(wasmcap_config_t* config,
                                                      const char* export_name);
/* Clocks and random (docs/c-api.md, docs/wasi-support.md#clocks-and-random). spec for the clock:
 * "fixed=YYYY-MM-DDTHH:MM:SSZ[,step=N(ns|us|ms|s)]" (the wall clock starts at that instant and
 * monotonic at 0; both advance by the step, default 1us, per read and by each sleep, never with
 * host time), "deny" (every clock read fails with ENOTCAPABLE) or "host" (no pin). For random:
 * "seed=N" (the documented ChaCha20 stream from N), "deny" or "host". Pins only narrow: a plan's
 * denied or unrequested clock stays ENOTCAPABLE. Without a plan the default is the host's clocks
 * and random. Errors: invalid_argument naming the problem in spec. */
WASMCAP_API wasmcap_error_t* wasmcap_config_set_clock(wasmcap_config_t* config, const char* spec);
WASMCAP_API wasmcap_error_t* wasmcap_config_set_random(wasmcap_config_t* config, const char* spec);
/* A handle that can stop the run from another thread (NULL: none). Not owned. */
WASMCAP_API void wasmcap_config_set_interrupt(wasmcap_config_t* config,
                                              wasmcap_interrupt_t* interrupt);

/* --- Run --------------------------------------------------------------------------------------- */

typedef struct wasmcap_run_result {
  int32_t exit_code;      /* the guest's exit status (0 when _start returned) */
  uint64_t fuel_consumed; /* instructions metered (interp with fuel), else 0 */
  double wall_ms;         /* load + run wall-clock time */
} wasmcap_run_result_t;

/* Runs the module under the config on the engine. A guest exit (any status) is success with
 * result->exit_code; traps and limits are errors with their codes (fuel_exhausted,
 * deadline_exceeded -- also after wasmcap_interrupt_trigger --, memory_limit, output_limit,
 * trap_*). result may be NULL. The config may be reused for further runs. */
WASMCAP_API wasmcap_error_t* wasmcap_run(wasmcap_engine_t* engine, const wasmcap_module_t* module,
                                         const wasmcap_config_t* config,
                                         wasmcap_run_result_t* result);

/* --- Component calls: typed values (docs/components.md, "Calling from C") ------------------- */

/* A component value: a tree of WIT values, made by the wasmcap_val_new_* functions and released
 * with wasmcap_val_delete (which releases everything below it). Named where WIT names things
 * (record fields, variant and enum cases, flags labels); an argument must be exactly of its
 * parameter's kind (a u32 parameter takes WASMCAP_VAL_U32 only). */
typedef struct wasmcap_val wasmcap_val_t;

/* The kinds of WIT values. Values never change; new kinds are only appended. */
typedef enum wasmcap_val_kind {
  WASMCAP_VAL_BOOL = 0,
  WASMCAP_VAL_S8 = 1,
  WASMCAP_VAL_U8 = 2,
  WASMCAP_VAL_S16 = 3,
  WASMCAP_VAL_U16 = 4,
  WASMCAP_VAL_S32 = 5,
  WASMCAP_VAL_U32 = 6,
  WASMCAP_VAL_S64 = 7,
  WASMCAP_VAL_U64 = 8,
  WASMCAP_VAL_F32 = 9,
  WASMCAP_VAL_F64 = 10,
  WASMCAP_VAL_CHAR = 11,
  WASMCAP_VAL_STRING = 12,
  WASMCAP_VAL_LIST = 13,
  WASMCAP_VAL_RECORD = 14,
  WASMCAP_VAL_TUPLE = 15,
  WASMCAP_VAL_VARIANT = 16,
  WASMCAP_VAL_ENUM = 17,
  WASMCAP_VAL_OPTION = 18,
  WASMCAP_VAL_RESULT = 19,
  WASMCAP_VAL_FLAGS = 20
} wasmcap_val_kind_t;

/* Scalars. Each returns a new value the caller owns (NULL only when memory runs out). A char is
 * a Unicode scalar value; a string is `len` bytes of UTF-8 (copied; checked when it is used). */
WASMCAP_API wasmcap_val_t* wasmcap_val_new_bool(int value);
WASMCAP_API wasmcap_val_t* wasmcap_val_new_s8(int8_t value);
WASMCAP_API wasmcap_val_t* wasmcap_val_new_u8(uint8_t value);
WASMCAP_API wasmcap_val_t* wasmcap_val_new_s16(int16_t value);
WASMCAP_API wasmcap_val_t* wasmcap_val_new_u16(uint16_t value);
WASMCAP_API wasmcap_val_t* wasmcap_val_new_s32(int32_t value);
WASMCAP_API wasmcap_val_t* wasmcap_val_new_u32(uint32_t value);
WASMCAP_API wasmcap_val_t* wasmcap_val_new_s64(int64_t value);
WASMCAP_API wasmcap_val_t* wasmcap_val_new_u64(uint64_t value);
WASMCAP_API wasmcap_val_t* wasmcap_val_new_f32(float value);
WASMCAP_API wasmcap_val_t* wasmcap_val_new_f64(double value);
WASMCAP_API wasmcap_val_t* wasmcap_val_new_char(uint32_t scalar_value);
WASMCAP_API wasmcap_val_t* wasmcap_val_new_string(const char* utf8, size_t len);
/* Compound values, empty: add to them with wasmcap_val_push (list, tuple elements),
 * wasmcap_val_push_field (record fields) and wasmcap_val_push_label (flags labels). */
WASMCAP_API wasmcap_val_t* wasmcap_val_new_list(void);
WASMCAP_API wasmcap_val_t* wasmcap_val_new_tuple(void);
WASMCAP_API wasmcap_val_t* wasmcap_val_new_record(void);
WASMCAP_API wasmcap_val_t* wasmcap_val_new_flags(void);
/* A variant's case by name, with its payload or NULL for a case without one; an enum's case; an
 * option: some(value), or none for NULL; a result: ok (is_err 0) or err, with its payload or
 * NULL. A payload given is owned by the new value from here on (also when NULL is returned). */
WASMCAP_API wasmcap_val_t* wasmcap_val_new_variant(const char* case_name, wasmcap_val_t* payload);
WASMCAP_API wasmcap_val_t* wasmcap_val_new_enum(const char* case_name);
WASMCAP_API wasmcap_val_t* wasmcap_val_new_option(wasmcap_val_t* some);
WASMCAP_API wasmcap_val_t* wasmcap_val_new_result(int is_err, wasmcap_val_t* payload);
/* Appends `item` to a list or tuple; `value` as the record field `name`; the label `name` to
 * flags. The item or value is owned by the container from here on (also on an error).
 * Errors: invalid_argument (NULL, or a container of another kind). */
WASMCAP_API wasmcap_error_t* wasmcap_val_push(wasmcap_val_t* container, wasmcap_val_t* item);
WASMCAP_API wasmcap_error_t* wasmcap_val_push_field(wasmcap_val_t* record, const char* name,
                                                    wasmcap_val_t* value);
WASMCAP_API wasmcap_error_t* wasmcap_val_push_label(wasmcap_val_t* flags, const char* name);
WASMCAP_API void wasmcap_val_delete(wasmcap_val_t* value);

/* Reading a value (the result of a call is one). Strings and names are the component's own
 * (untrusted) bytes, valid UTF-8: escape them before showing them anywhere. Everything returned
 * is valid until the value it came from is deleted. */
WASMCAP_API wasmcap_val_kind_t wasmcap_val_kind(const wasmcap_val_t* value);
/* bool: 0 or 1; s8..s64: the value; u8..u64 and char: the value; f32, f64: the value; result:
 * 1 for err, 0 for ok. 0 for other kinds. */
WASMCAP_API int64_t wasmcap_val_s64(const wasmcap_val_t* value);
WASMCAP_API uint64_t wasmcap_val_u64(const wasmcap_val_t* value);
WASMCAP_API double wasmcap_val_f64(const wasmcap_val_t* value);
/* string: its bytes (NUL-terminated; *len, when len is not NULL, the length, which counts any NUL
 * inside); variant, enum: the case's name. NULL for other kinds. */
WASMCAP_API const char* wasmcap_val_string(const wasmcap_val_t* value, size_t* len);
/* How many values wasmcap_val_item gives: a list's or tuple's elements, a record's fields, an
 * option's value (0 or 1), a variant's or result's payload (0 or 1). flags: how many labels are
 * set (wasmcap_val_name). 0 for other kinds. */
WASMCAP_API size_t wasmcap_val_count(const wasmcap_val_t* value);
WASMCAP_API const wasmcap_val_t* wasmcap_val_item(const wasmcap_val_t* value, size_t i);
/* A record field's name; a set flags label. NULL when i is out of range or for other kinds. */
WASMCAP_API const char* wasmcap_val_name(const wasmcap_val_t* value, size_t i);

/* Calls the function `function` a component exports ("name", or "iface#name" for a function of an
 * exported instance, as wasmcap_module_export_name lists them), in a fresh instance under the
 * config, with nargs arguments (one per parameter, in order; not taken over). On success
 * *result_out is the function's result (the caller deletes it), or NULL for a function without
 * one; a result<T, E>'s err is a successful call whose result says err. When the component exits
 * (wasi:cli/exit) instead of returning, *result_out is NULL and run_result->exit_code its status.
 * run_result may be NULL. Errors: invalid_argument (not a component; an argument that is not of
 * its parameter's kind, the message naming its path: "$.b.x[2]: expected u32, got s64"),
 * no_entry_point (no such export), the traps and limits of wasmcap_run. */
WASMCAP_API wasmcap_error_t* wasmcap_call(wasmcap_engine_t* engine, const wasmcap_module_t* module,
                                          const wasmcap_config_t* config, const char* function,
                                          const wasmcap_val_t* const* args, size_t nargs,
                                          wasmcap_val_t** result_out,
                                          wasmcap_run_result_t* run_result);
/* A component's exported function i (as wasmcap_module_export_name) as WIT writes its type:
 * "(a: u32, b: u32) -> u32". NULL for a core module or when i is out of range. */
WASMCAP_API const char* wasmcap_module_export_signature(const wasmcap_module_t* module, size_t i);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* WASMCAP_WASMCAP_H */

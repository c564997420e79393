/* The binary interface between wasmcap's AOT runtime (the host) and a compiled module (a shared
 * object built from wasm2c output plus wasmcap's generated glue).
 *
 * The compiled object has no undefined symbols besides libc/libm (it is linked with -z defs):
 * every wasm-rt.h function the generated code calls is defined in the glue as a hidden
 * forwarder through the vtable below, which the host hands over once after dlopen. So no host
 * executable needs -rdynamic, and objects loaded with RTLD_LOCAL never see each other.
 *
 * This header is C, shared verbatim by the host runtime (aot_runtime.c) and the glue (it is
 * pasted into every generated glue file at build time), so the two cannot drift; the version
 * below is part of the cache key and is checked again after dlopen. */
#ifndef WASMCAP_AOT_ABI_H_
#define WASMCAP_AOT_ABI_H_

#include <stddef.h>
#include <stdint.h>

#include "wasm-rt.h"

/* 2: bulk_done (asynchronous preemption of guests spinning in memory.fill/copy/init).
 * 3: imported and exported memories and globals (import_descs, externs).
 * 4: tables shared between instances (cross_enter/cross_leave, tables in import_descs and
 *    externs, their limits; the host puts the instance's context just before its struct). */
#define WASMCAP_AOT_ABI_VERSION 4u

/* Trap codes beyond wasm_rt_trap_t, raised by the glue or the host runtime. */
#define WASMCAP_TRAP_TABLE_OOB 100        /* table.get/set/fill/copy/init out of bounds */
#define WASMCAP_TRAP_INDIRECT_NULL 101    /* call_indirect on a null table element */
#define WASMCAP_TRAP_INDIRECT_MISMATCH 102 /* call_indirect signature mismatch */
#define WASMCAP_TRAP_INDIRECT_OOB 103     /* call_indirect index beyond the table */
#define WASMCAP_TRAP_HOST 110             /* a host function ended the call (exit/trap/fail) */
#define WASMCAP_TRAP_RESOURCE 111         /* the host could not allocate memory for the guest */
#define WASMCAP_TRAP_UNSUPPORTED 112      /* a wasm feature the AOT runtime does not provide */

typedef union wasmcap_val {
  uint32_t i32;
  uint64_t i64;
  float f32;
  double f64;
} wasmcap_val_t;

/* Services of the host runtime. All of them run on the thread executing guest code. */
typedef struct wasmcap_rt_vtable {
  uint32_t abi_version;
  void (*trap)(int code); /* never returns */
  uint32_t (*register_func_type)(uint32_t params, uint32_t results, const int* types);
  void (*allocate_memory)(wasm_rt_memory_t* mem, uint32_t initial_pages, uint32_t max_pages);
  uint32_t (*grow_memory)(wasm_rt_memory_t* mem, uint32_t delta);
  void (*free_memory)(wasm_rt_memory_t* mem);
  void (*allocate_funcref_table)(wasm_rt_funcref_table_t* t, uint32_t n, uint32_t max);
  uint32_t (*grow_funcref_table)(wasm_rt_funcref_table_t* t, uint32_t delta,
                                 wasm_rt_funcref_t init);
  void (*free_funcref_table)(wasm_rt_funcref_table_t* t);
  void (*allocate_externref_table)(wasm_rt_externref_table_t* t, uint32_t n, uint32_t max);
  uint32_t (*grow_externref_table)(wasm_rt_externref_table_t* t, uint32_t delta,
                                   wasm_rt_externref_t init);
  void (*free_externref_table)(wasm_rt_externref_table_t* t);
  /* Calls host import `index` (the index among the module's function imports). Returns only
   * when the guest continues; otherwise unwinds (exit, trap, limit) from the runtime's C frame. */
  void (*host_call)(void* host_ctx, uint32_t index, const wasmcap_val_t* args,
                    wasmcap_val_t* results);
  /* Called after a bulk memory operation of 64 KiB or more (memory.fill/copy/init run in libc,
   * where a preemption signal does nothing): unwinds when the call's interrupt flag is up. */
  void (*bulk_done)(void);
  /* A call_indirect whose element belongs to another instance (a shared table, docs/aot.md
   * "Shared tables"): cross_enter(callee's struct) makes the callee's context the thread's
   * (its host functions, memory, interrupt flag) and returns the caller's, which cross_leave
   * restores when the call returns. A trap in the callee unwinds to the caller's trap
   * boundary, which restores the caller's context itself. */
  void* (*cross_enter)(void* callee_instance);
  void (*cross_leave)(void* caller_ctx);
} wasmcap_rt_vtable;

/* A thunk the host runtime calls inside its trap boundary: (instance, a, b). */
typedef void (*wasmcap_thunk_t)(void* instance, void* a, void* b);

typedef struct wasmcap_export_desc {
  const char* name;
  wasmcap_thunk_t call; /* (instance, const wasmcap_val_t* args, wasmcap_val_t* results) */
} wasmcap_export_desc;

/* A memory, table or global the module imports or exports (shared between instances,
 * docs/aot.md "Shared memories and globals", "Shared tables"). The kinds and value types are
 * wasmcap's ExternKind and ValType numbers; a table's element type is 0 funcref, 1 externref. */
#define WASMCAP_EXTERN_FUNC 0u
#define WASMCAP_EXTERN_TABLE 1u
#define WASMCAP_EXTERN_MEMORY 2u
#define WASMCAP_EXTERN_GLOBAL 3u
#define WASMCAP_VAL_OTHER 255u /* a global of a type not shared (funcref, externref) */
typedef struct wasmcap_extern_desc {
  const char* name; /* exports: "e<N>", the N-th export; imports: NULL */
  uint32_t kind;    /* WASMCAP_EXTERN_* */
  uint32_t type;    /* globals: 0 i32, 1 i64, 2 f32, 3 f64, else WASMCAP_VAL_OTHER */
  uint32_t mut;     /* globals: 1 when mutable */
  int32_t import;   /* exports: the import (index among all imports) it re-exports, or -1 */
  /* exports: the storage in `instance` (wasm_rt_memory_t*, wasm_rt_*_table_t*, or the
   * global's cell) */
  void* (*get)(void* instance);
  /* tables: the declared limits (has_max: 1 when a maximum is declared) */
  uint32_t table_min, table_max, has_max;
} wasmcap_extern_desc;

/* What a compiled module exports to the host: one symbol, wasmcap_aot_module_v1. */
typedef struct wasmcap_module_desc {
  uint32_t abi_version;
  uint32_t vtable_size;      /* sizeof(wasmcap_rt_vtable) as the glue saw it */
  uint32_t desc_size;        /* sizeof(wasmcap_module_desc) as the glue saw it */
  uint32_t num_func_imports;
  uint32_t num_exports; /* function exports callable through `exports` */
  const wasmcap_export_desc* exports;
  uint32_t num_tables;
  const uint32_t* table_initial; /* initial element counts of the defined tables */
  size_t instance_size;
  void (*bind)(const wasmcap_rt_vtable* rt);
  void (*init_module)(void);
  wasmcap_thunk_t instantiate; /* (instance, host_ctx, void* const* import storage) */
  void (*free_instance)(void* instance);
  wasm_rt_memory_t* (*memory)(void* instance);   /* NULL when the module has no memory */
  uint32_t* (*interrupt_flag)(void* instance);   /* the instrumented interrupt flag */
  /* Every import, in order (a function's kind only; a memory's, table's or global's type). The
   * instantiate thunk's third argument is an array of one pointer per import: the storage of
   * each imported memory (wasm_rt_memory_t*), table (wasm_rt_*_table_t*) and global (its
   * cell), NULL for functions. */
  uint32_t num_imports;
  const wasmcap_extern_desc* import_descs;
  uint32_t num_externs; /* exported memories, tables and globals */
  const wasmcap_extern_desc* externs;
} wasmcap_module_desc;

#endif /* WASMCAP_AOT_ABI_H_ */

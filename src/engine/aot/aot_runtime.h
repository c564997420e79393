/* wasmcap's implementation of the wasm-rt.h runtime services for AOT-compiled modules:
 * thread-safe (per-thread unwind target, per-thread alternate signal stack, locked type
 * registry), guard-page linear memory, and a SIGSEGV/SIGBUS handler that only claims faults of
 * guest code. Written in C: every frame a trap unwinds with siglongjmp is a C frame (guest code,
 * glue, this runtime), so no C++ destructor is ever skipped (docs/aot.md, "Soundness"). */
#ifndef WASMCAP_AOT_RUNTIME_H_
#define WASMCAP_AOT_RUNTIME_H_

#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/aot/aot_abi.h"
#include "wasmcap/memory_pool.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The guest was stopped by its interrupt flag (deadline or interrupt). */
#define WASMCAP_TRAP_INTERRUPTED 113

/* Bytes of linear-memory address space reserved per memory: every wasm32 address plus any
 * static offset (both < 4 GiB) lands inside it, so bounds checks are free (guard pages). */
#define WASMCAP_AOT_MEMORY_RESERVE (8ull << 30)

/* Per-instance runtime state. Owned (and zero-initialised) by the C++ instance. */
typedef struct wasmcap_aot_ctx {
  uint32_t max_pages;         /* memory cap: maxima are lowered to it at allocation */
  uint64_t table_room;        /* growth room per table (the table budget shared out) */
  uint8_t* mem_base;          /* the reservation of the memory the instance uses (its own, or
                               * the one it imports), for the fault handler */
  volatile uint32_t* flag;    /* the instrumented interrupt flag, once instantiated */
  void* host;                 /* the C++ instance, handed to wasmcap_aot_dispatch */
  size_t stack_size;          /* bytes of the guest stack its calls run on (0: the default) */
  uintptr_t code_lo, code_hi; /* the loaded object's executable segment: [code_lo, code_hi) */
  wasmcap_memory_pool* pool;  /* memory pages are taken from it (ExecLimits::memory_pool), or NULL */
  uint64_t pool_pages;        /* pages taken from `pool` by memories allocated or grown under
                               * this context; the C++ instance gives them back when its
                               * storage goes. Host-side only: not part of the objects' ABI. */
} wasmcap_aot_ctx;

/* The signal the watchdog sends a thread running guest code at a deadline or interrupt
 * (asynchronous preemption, docs/aot.md "Deadlines"). SIGURG: ignored by default, so a stray
 * one is harmless, and standard (not queued): repeated sends coalesce. */
#define WASMCAP_AOT_PREEMPT_SIGNAL SIGURG

/* Sends the preemption signal to `thread`, which runs (or ran) a call of `ctx` whose flag is
 * set. Harmless whatever the thread is doing: the handler unwinds only when the thread runs
 * guest code of the instance whose flag is up and the interrupted PC lies in its object's
 * code; otherwise it returns and the caller sends again a few ms later. */
int wasmcap_aot_preempt(pthread_t thread);

/* The calling thread's current interrupt flag: the flag of the instance whose code the thread
 * runs now (a call through a shared table switches it to the callee's, docs/aot.md "Shared
 * tables"). The watchdog raises the flag this slot names as well as the call's own, so a
 * deadline stops the callee too. Valid while the thread lives; read with __atomic loads. */
volatile uint32_t* volatile* wasmcap_aot_current_flag_slot(void);

/* The context (its `host`) whose host call ended the last call this thread unwound with
 * WASMCAP_TRAP_HOST: the caller's own, or that of an instance it called through a shared
 * table, whose outcome (exit, host error) becomes the caller's. NULL when none. */
void* wasmcap_aot_host_end(void);

/* The services table handed to every compiled module. */
const wasmcap_rt_vtable* wasmcap_aot_vtable(void);

/* Installs the SIGSEGV/SIGBUS handlers (once per process; later calls are no-ops). Returns 0,
 * or -1 when sigaction fails. */
int wasmcap_aot_init(void);

/* Runs fn(instance, a, b) as guest code of `ctx` on this thread, inside a trap boundary, on
 * this thread's guest stack (a mapping of ctx->stack_size bytes with a PROT_NONE guard below,
 * whatever RLIMIT_STACK says; overflowing it traps with WASM_RT_TRAP_EXHAUSTION).
 * Returns 0 when fn returned, else the trap code. Re-entrant (nested calls restore state and
 * stay on the guest stack). */
int wasmcap_aot_invoke(wasmcap_aot_ctx* ctx, wasmcap_thunk_t fn, void* instance, void* a,
                       void* b);

/* Implemented by the C++ engine: runs host import `index` of the instance `host`. Returns 0 when
 * the guest continues, non-zero when the call must unwind (the instance recorded why). Never
 * throws; every C++ object it creates is destroyed before it returns. */
int wasmcap_aot_dispatch(void* host, uint32_t index, const wasmcap_val_t* args,
                         wasmcap_val_t* results);

#ifdef __cplusplus
}
#endif

#endif /* WASMCAP_AOT_RUNTIME_H_ */

/* wasmcap's thread-safe wasm-rt runtime for AOT modules (see aot_runtime.h and docs/aot.md).
 *
 * Why not Debian's libwasm-rt-impl: it keeps the trap jump buffer, the type registry and the
 * signal alternate stack in process globals (single-threaded). Here the unwind target lives in
 * the per-instance context published through a thread-local pointer, every thread running guest
 * code gets its own alternate signal stack, and the type registry is locked. */
#define _GNU_SOURCE
#include "engine/aot/aot_runtime.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define PAGE_SIZE_WASM 65536u
/* memory.size is kept in a uint32_t byte count by wasm2c 1.0.32, so 65536 pages (4 GiB) would
 * wrap to 0: the AOT runtime caps memories one page below (docs/aot.md, known gaps). */
#define MAX_PAGES 65535u
/* Stack the host code of one import call may use (WASI, host APIs): a host call needing more
 * than what is left is refused as stack exhaustion *before* any C++ frame exists, so a stack
 * overflow never happens in C++ code (where unwinding would skip destructors). */
#define HOST_STACK_HEADROOM (256u << 10)
/* Stack a call into guest code needs to start with. */
#define ENTRY_STACK_HEADROOM (HOST_STACK_HEADROOM + (64u << 10))
/* Faults at most this far below the thread's stack (its guard area; compiled code uses
 * -fstack-clash-protection, so a big frame probes page by page and faults at the guard) count as
 * stack exhaustion of guest code. */
#define STACK_GUARD_SPAN (1u << 20)
#define ALT_STACK_SIZE (64u << 10)

typedef struct thread_state {
  wasmcap_aot_ctx* ctx;  /* the instance whose code this thread runs, or NULL */
  int in_guest;          /* 1 while guest code (not host code) runs on this thread */
  bool ready;
  uintptr_t stack_lo;    /* lowest usable address of this thread's stack */
  void* alt_stack;       /* our alternate signal stack (mapping base), if we installed one */
  size_t alt_size;
} thread_state;

static __thread thread_state tls;

static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static int init_result = 0;
static struct sigaction prev_segv;
static struct sigaction prev_bus;
static pthread_key_t alt_key;

/* --- Unwinding --------------------------------------------------------------------------- */

static _Noreturn void unwind(wasmcap_aot_ctx* ctx, int code) {
  ctx->trap = code;
  siglongjmp(*ctx->jmp, 1);
}

static _Noreturn void rt_trap(int code) {
  wasmcap_aot_ctx* ctx = tls.ctx;
  if (ctx == NULL || ctx->jmp == NULL) abort(); /* guest code outside a trap boundary: a bug */
  /* The instrumented interrupt check traps with `unreachable`; when the flag is up, that is
   * the deadline or the interrupt, not the guest's own unreachable. */
  if (code == WASM_RT_TRAP_UNREACHABLE && ctx->flag != NULL && *ctx->flag != 0) {
    code = WASMCAP_TRAP_INTERRUPTED;
  }
  unwind(ctx, code);
}

/* --- Signals ------------------------------------------------------------------------------ */

static void chain(int sig, siginfo_t* info, void* uc) {
  const struct sigaction* prev = sig == SIGBUS ? &prev_bus : &prev_segv;
  if (prev->sa_flags & SA_SIGINFO) {
    prev->sa_sigaction(sig, info, uc);
    return;
  }
  if (prev->sa_handler == SIG_DFL || prev->sa_handler == SIG_IGN) {
    /* Restore the default action and return: the faulting instruction runs again and the
     * process dies as it would have without wasmcap. */
    signal(sig, SIG_DFL);
    return;
  }
  prev->sa_handler(sig);
}

static void on_fault(int sig, siginfo_t* info, void* uc) {
  thread_state* t = &tls;
  /* Only faults of guest code are ours: a fault in host code (in_guest == 0, e.g. inside a WASI
   * function) or on a thread not running a guest goes to the previous handler untouched. */
  if (t->in_guest && t->ctx != NULL && t->ctx->jmp != NULL) {
    uintptr_t addr = (uintptr_t)info->si_addr;
    uintptr_t base = (uintptr_t)t->ctx->mem_base;
    if (base != 0 && addr >= base && addr - base < WASMCAP_AOT_MEMORY_RESERVE) {
      unwind(t->ctx, WASM_RT_TRAP_OOB);
    }
    if (t->stack_lo != 0 && addr < t->stack_lo + 4096 && addr + STACK_GUARD_SPAN >= t->stack_lo) {
      unwind(t->ctx, WASM_RT_TRAP_EXHAUSTION);
    }
  }
  chain(sig, info, uc);
}

static void free_alt_stack(void* p) {
  thread_state* t = (thread_state*)p;
  if (t == NULL || t->alt_stack == NULL) return;
  stack_t ss;
  memset(&ss, 0, sizeof ss);
  ss.ss_flags = SS_DISABLE;
  sigaltstack(&ss, NULL);
  munmap(t->alt_stack, t->alt_size);
  t->alt_stack = NULL;
}

static void init_process(void) {
  if (pthread_key_create(&alt_key, free_alt_stack) != 0) {
    init_result = -1;
    return;
  }
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = on_fault;
  sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER;
  sigemptyset(&sa.sa_mask);
  if (sigaction(SIGSEGV, &sa, &prev_segv) != 0 || sigaction(SIGBUS, &sa, &prev_bus) != 0) {
    init_result = -1;
  }
}

int wasmcap_aot_init(void) {
  pthread_once(&init_once, init_process);
  return init_result;
}

/* First guest call on this thread: learn the stack bounds and make sure a stack overflow can
 * be handled (the handler needs an alternate stack; the thread's own is exhausted then). */
static int thread_init(thread_state* t) {
  if (t->ready) return 0;
  pthread_attr_t attr;
  if (pthread_getattr_np(pthread_self(), &attr) != 0) return -1;
  void* lo = NULL;
  size_t size = 0;
  int rc = pthread_attr_getstack(&attr, &lo, &size);
  pthread_attr_destroy(&attr);
  if (rc != 0) return -1;
  t->stack_lo = (uintptr_t)lo;

  stack_t old;
  if (sigaltstack(NULL, &old) != 0) return -1;
  if ((old.ss_flags & SS_DISABLE) || old.ss_size < (size_t)MINSIGSTKSZ) {
    /* One guard page below the alternate stack, so a handler overflow cannot go unnoticed. */
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    size_t total = ALT_STACK_SIZE + page;
    void* p = mmap(NULL, total, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) return -1;
    mprotect(p, page, PROT_NONE);
    stack_t ss;
    memset(&ss, 0, sizeof ss);
    ss.ss_sp = (char*)p + page;
    ss.ss_size = ALT_STACK_SIZE;
    if (sigaltstack(&ss, NULL) != 0) {
      munmap(p, total);
      return -1;
    }
    t->alt_stack = p;
    t->alt_size = total;
    pthread_setspecific(alt_key, t); /* freed (and disabled) when the thread exits */
  }
  t->ready = true;
  return 0;
}

static uintptr_t stack_headroom(const thread_state* t) {
  uintptr_t sp = (uintptr_t)__builtin_frame_address(0);
  return sp > t->stack_lo ? sp - t->stack_lo : 0;
}

int wasmcap_aot_invoke(wasmcap_aot_ctx* ctx, wasmcap_thunk_t fn, void* instance, void* a,
                       void* b) {
  thread_state* t = &tls;
  if (thread_init(t) != 0) return WASMCAP_TRAP_RESOURCE;
  if (stack_headroom(t) < ENTRY_STACK_HEADROOM) return WASM_RT_TRAP_EXHAUSTION;
  wasmcap_aot_ctx* saved_ctx = t->ctx;
  int saved_in_guest = t->in_guest;
  sigjmp_buf* saved_jmp = ctx->jmp;
  sigjmp_buf jb;
  volatile int rc = 0;
  ctx->jmp = &jb;
  ctx->trap = 0;
  t->ctx = ctx;
  /* savemask = 1: a trap raised from the fault handler leaves SIGSEGV blocked unless the mask
   * is restored by siglongjmp. */
  if (sigsetjmp(jb, 1) == 0) {
    t->in_guest = 1;
    fn(instance, a, b);
  } else {
    rc = ctx->trap != 0 ? ctx->trap : WASM_RT_TRAP_UNREACHABLE;
  }
  t->in_guest = saved_in_guest;
  t->ctx = saved_ctx;
  ctx->jmp = saved_jmp;
  return rc;
}

/* --- Host calls ------------------------------------------------------------------------------ */

static void rt_host_call(void* host_ctx, uint32_t index, const wasmcap_val_t* args,
                         wasmcap_val_t* results) {
  thread_state* t = &tls;
  wasmcap_aot_ctx* ctx = (wasmcap_aot_ctx*)host_ctx;
  if (stack_headroom(t) < HOST_STACK_HEADROOM) unwind(ctx, WASM_RT_TRAP_EXHAUSTION);
  t->in_guest = 0;
  int status = wasmcap_aot_dispatch(ctx->host, index, args, results);
  t->in_guest = 1;
  /* The C++ dispatcher has fully returned: unwinding from here skips only C frames. */
  if (status != 0) unwind(ctx, WASMCAP_TRAP_HOST);
}

/* --- Function types ------------------------------------------------------------------------- */

typedef struct func_type {
  uint32_t params, results;
  int* types;
} func_type;

static pthread_mutex_t types_lock = PTHREAD_MUTEX_INITIALIZER;
static func_type* types;
static uint32_t types_len, types_cap;

/* Equal signatures get equal ids across every loaded module; 0 is the null funcref's. */
static uint32_t rt_register_func_type(uint32_t params, uint32_t results, const int* tv) {
  uint32_t n = params + results;
  uint32_t id = 0;
  pthread_mutex_lock(&types_lock);
  for (uint32_t i = 0; i < types_len; ++i) {
    if (types[i].params == params && types[i].results == results &&
        (n == 0 || memcmp(types[i].types, tv, n * sizeof(int)) == 0)) {
      id = i + 1;
      break;
    }
  }
  if (id == 0) {
    if (types_len == types_cap) {
      uint32_t cap = types_cap ? types_cap * 2 : 64;
      func_type* grown = (func_type*)realloc(types, cap * sizeof(func_type));
      if (grown == NULL) abort(); /* called at module load, outside guest code */
      types = grown;
      types_cap = cap;
    }
    int* copy = (int*)malloc((n ? n : 1) * sizeof(int));
    if (copy == NULL) abort();
    if (n) memcpy(copy, tv, n * sizeof(int));
    types[types_len].params = params;
    types[types_len].results = results;
    types[types_len].types = copy;
    id = ++types_len;
  }
  pthread_mutex_unlock(&types_lock);
  return id;
}

/* --- Linear memory ---------------------------------------------------------------------------- */

static void rt_allocate_memory(wasm_rt_memory_t* m, uint32_t initial, uint32_t max) {
  wasmcap_aot_ctx* ctx = tls.ctx;
  uint32_t cap = ctx->max_pages < MAX_PAGES ? ctx->max_pages : MAX_PAGES;
  if (max > cap) max = cap;
  if (initial > max) unwind(ctx, WASMCAP_TRAP_RESOURCE);
  /* Reserve the whole addressable range inaccessible; only [0, size) is ever read/write, so
   * every out-of-bounds access faults and becomes a trap (on_fault). */
  void* p = mmap(NULL, WASMCAP_AOT_MEMORY_RESERVE, PROT_NONE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (p == MAP_FAILED) unwind(ctx, WASMCAP_TRAP_RESOURCE);
  if (initial != 0 &&
      mprotect(p, (size_t)initial * PAGE_SIZE_WASM, PROT_READ | PROT_WRITE) != 0) {
    munmap(p, WASMCAP_AOT_MEMORY_RESERVE);
    unwind(ctx, WASMCAP_TRAP_RESOURCE);
  }
  m->data = (uint8_t*)p;
  m->pages = initial;
  m->max_pages = max;
  m->size = initial * PAGE_SIZE_WASM;
  if (ctx->mem_base == NULL) ctx->mem_base = (uint8_t*)p;
}

static uint32_t rt_grow_memory(wasm_rt_memory_t* m, uint32_t delta) {
  uint32_t old = m->pages;
  if (delta == 0) return old;
  uint64_t pages = (uint64_t)old + delta;
  /* Beyond the (capped) maximum: memory.grow returns -1 inside the guest, as in the
   * interpreter, and the guest decides (allocators report out of memory). */
  if (pages > m->max_pages) return UINT32_MAX;
  if (mprotect(m->data + (size_t)old * PAGE_SIZE_WASM, (size_t)delta * PAGE_SIZE_WASM,
               PROT_READ | PROT_WRITE) != 0) {
    return UINT32_MAX;
  }
  m->pages = (uint32_t)pages;
  m->size = (uint32_t)(pages * PAGE_SIZE_WASM);
  return old;
}

static void rt_free_memory(wasm_rt_memory_t* m) {
  if (m->data != NULL) munmap(m->data, WASMCAP_AOT_MEMORY_RESERVE);
  m->data = NULL;
  m->pages = 0;
  m->size = 0;
}

/* --- Tables ------------------------------------------------------------------------------------ */

static uint32_t table_max(uint32_t initial, uint32_t max) {
  wasmcap_aot_ctx* ctx = tls.ctx;
  uint64_t cap = (uint64_t)initial + ctx->table_room;
  return (uint64_t)max > cap ? (uint32_t)cap : max;
}

#define DEFINE_TABLE(kind, elem_t)                                                        \
  static void rt_allocate_##kind##_table(wasm_rt_##kind##_table_t* t, uint32_t n,         \
                                         uint32_t max) {                                  \
    t->data = NULL;                                                                       \
    if (n != 0) {                                                                         \
      t->data = (elem_t*)calloc(n, sizeof(elem_t));                                       \
      if (t->data == NULL) unwind(tls.ctx, WASMCAP_TRAP_RESOURCE);                        \
    }                                                                                     \
    t->size = n;                                                                          \
    t->max_size = table_max(n, max);                                                      \
  }                                                                                       \
  static uint32_t rt_grow_##kind##_table(wasm_rt_##kind##_table_t* t, uint32_t delta,     \
                                         elem_t init) {                                   \
    uint32_t old = t->size;                                                               \
    if (delta == 0) return old;                                                           \
    uint64_t n = (uint64_t)old + delta;                                                   \
    if (n > t->max_size) return UINT32_MAX;                                               \
    elem_t* grown = (elem_t*)realloc(t->data, (size_t)n * sizeof(elem_t));                \
    if (grown == NULL) return UINT32_MAX;                                                 \
    for (uint64_t i = old; i < n; ++i) grown[i] = init;                                   \
    t->data = grown;                                                                      \
    t->size = (uint32_t)n;                                                                \
    return old;                                                                           \
  }                                                                                       \
  static void rt_free_##kind##_table(wasm_rt_##kind##_table_t* t) {                       \
    free(t->data);                                                                        \
    t->data = NULL;                                                                       \
    t->size = 0;                                                                          \
  }

DEFINE_TABLE(funcref, wasm_rt_funcref_t)
DEFINE_TABLE(externref, wasm_rt_externref_t)

static const wasmcap_rt_vtable vtable = {
    WASMCAP_AOT_ABI_VERSION,
    rt_trap,
    rt_register_func_type,
    rt_allocate_memory,
    rt_grow_memory,
    rt_free_memory,
    rt_allocate_funcref_table,
    rt_grow_funcref_table,
    rt_free_funcref_table,
    rt_allocate_externref_table,
    rt_grow_externref_table,
    rt_free_externref_table,
    rt_host_call,
};

const wasmcap_rt_vtable* wasmcap_aot_vtable(void) { return &vtable; }

/* wasmcap's thread-safe wasm-rt runtime for AOT modules (see aot_runtime.h and docs/aot.md).
 *
 * Why not Debian's libwasm-rt-impl: it keeps the trap jump buffer, the type registry and the
 * signal alternate stack in process globals (single-threaded). Here the unwind target lives in
 * the per-instance context published through a thread-local pointer, every thread running guest
 * code gets its own alternate signal stack, and the type registry is locked. */
#define _GNU_SOURCE
#include "engine/aot/aot_runtime.h"
#include "engine/memory_slots.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <ucontext.h>
#include <unistd.h>

#if defined(__SANITIZE_ADDRESS__)
#define WASMCAP_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define WASMCAP_ASAN 1
#endif
#endif
#ifdef WASMCAP_ASAN
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
#endif

#define PAGE_SIZE_WASM 65536u
/* wasm32's limit: 65,536 pages (4 GiB), as on the interpreters. wasm2c 1.0.32 keeps a memory's
 * size in a uint32_t byte count, which cannot hold 4 GiB: it is kept saturated (mem_bytes32),
 * and the translator makes the generated bounds checks use the page count (translate_patch.cc,
 * patch 3d), so no generated code reads it. */
#define MAX_PAGES 65536u
static uint32_t mem_bytes32(uint64_t pages) {
  uint64_t bytes = pages * PAGE_SIZE_WASM;
  return bytes > UINT32_MAX ? UINT32_MAX : (uint32_t)bytes;
}
/* Stack the host code of one import call may use (WASI, host APIs): a host call needing more
 * than what is left is refused as stack exhaustion *before* any C++ frame exists, so a stack
 * overflow never happens in C++ code (where unwinding would skip destructors). */
#define HOST_STACK_HEADROOM (256u << 10)
/* Stack a call into guest code needs to start with. */
#define ENTRY_STACK_HEADROOM (HOST_STACK_HEADROOM + (64u << 10))
/* The PROT_NONE guard below every guest stack. Faults in it (compiled code uses
 * -fstack-clash-protection, so a big frame probes page by page and faults at the guard, never
 * past it) count as stack exhaustion of guest code. */
#define STACK_GUARD_SPAN (1u << 20)
#define DEFAULT_GUEST_STACK (8u << 20)
#define ALT_STACK_SIZE (64u << 10)

typedef struct thread_state {
  wasmcap_aot_ctx* ctx;  /* the instance whose code this thread runs, or NULL */
  /* The unwind target of the running call (the innermost trap boundary), NULL when idle, and
   * why the last call unwound (wasm_rt_trap_t or WASMCAP_TRAP_*). Per thread, not per
   * instance: a trap in an instance called through a shared table unwinds to its caller's
   * boundary (docs/aot.md, "Shared tables"). */
  sigjmp_buf* jmp;
  int trap;
  volatile uint32_t* cur_flag; /* ctx's interrupt flag (the watchdog reads it: atomics) */
  wasmcap_aot_ctx* host_end;   /* whose host call ended the last call (wasmcap_aot_host_end) */
  int in_guest;          /* 1 while guest code (not host code) runs on this thread */
  bool ready;
  uintptr_t stack_lo;    /* lowest usable address of this thread's guest stack */
  char* gstack;          /* the guest stack mapping (guard included), or NULL */
  size_t gstack_size;    /* its usable bytes (above the guard) */
  int on_gstack;         /* 1 while this thread runs on its guest stack */
  void* alt_stack;       /* our alternate signal stack (mapping base), if we installed one */
  size_t alt_size;
} thread_state;

static __thread thread_state tls;

static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static int init_result = 0;
static struct sigaction prev_segv;
static struct sigaction prev_bus;
static struct sigaction prev_preempt;
static pthread_key_t alt_key;

/* --- Unwinding --------------------------------------------------------------------------- */

static _Noreturn void unwind(wasmcap_aot_ctx* ctx, int code) {
  (void)ctx;
  tls.trap = code;
  siglongjmp(*tls.jmp, 1);
}

/* From a signal handler: the signal's delivery blocked the handler's sa_mask (the preemption
 * signal, for a fault) and, without SA_NODEFER, the signal itself. The trap boundary saved no
 * mask (sigsetjmp(jb, 0): a signal-mask system call per guest entry otherwise, which made each of
 * a component's realloc calls cost microseconds), so restore here the mask the interrupted guest
 * code ran with, as the kernel recorded it: what siglongjmp would have restored. */
static _Noreturn void unwind_from_signal(wasmcap_aot_ctx* ctx, int code, void* uc) {
  pthread_sigmask(SIG_SETMASK, &((ucontext_t*)uc)->uc_sigmask, NULL);
  unwind(ctx, code);
}

static _Noreturn void rt_trap(int code) {
  wasmcap_aot_ctx* ctx = tls.ctx;
  if (ctx == NULL || tls.jmp == NULL) abort(); /* guest code outside a trap boundary: a bug */
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
  if (t->in_guest && t->ctx != NULL && t->jmp != NULL) {
    uintptr_t addr = (uintptr_t)info->si_addr;
    uintptr_t base = (uintptr_t)t->ctx->mem_base;
    if (base != 0 && addr >= base && addr - base < WASMCAP_AOT_MEMORY_RESERVE) {
      unwind_from_signal(t->ctx, WASM_RT_TRAP_OOB, uc);
    }
    if (t->stack_lo != 0 && addr < t->stack_lo + 4096 && addr + STACK_GUARD_SPAN >= t->stack_lo) {
      unwind_from_signal(t->ctx, WASM_RT_TRAP_EXHAUSTION, uc);
    }
  }
  chain(sig, info, uc);
}

/* The interrupted PC, or 0 where the runtime cannot read it (then it never preempts, and the
 * translator polls instead: kAsyncPreemption in translate.h). */
static uintptr_t interrupted_pc(void* uc) {
#if defined(__linux__) && defined(__x86_64__)
  return (uintptr_t)((ucontext_t*)uc)->uc_mcontext.gregs[REG_RIP];
#elif defined(__linux__) && defined(__aarch64__)
  return (uintptr_t)((ucontext_t*)uc)->uc_mcontext.pc;
#else
  (void)uc;
  return 0;
#endif
}

/* Asynchronous preemption (docs/aot.md, "Deadlines"). The watchdog raised the flag of the
 * instance this thread runs and sent WASMCAP_AOT_PREEMPT_SIGNAL. Unwinding is safe only from
 * guest code: it holds no locks, owns no resources and has no destructors (every frame between
 * the PC and the trap boundary is a C frame of the guest object, its glue or the runtime's
 * trampoline). So the handler unwinds only when
 *   - this thread runs guest code (in_guest: not a host call, whose C++ frames must return),
 *   - inside a trap boundary of an instance whose flag is up (not a stray or late signal, not
 *     another instance's), and
 *   - the interrupted PC lies in that instance's object code (not libc's memcpy/memset for
 *     memory.copy/fill, not a runtime helper such as memory.grow or the type registry lock).
 * Otherwise it returns, and the watchdog sends again a few ms later; a host call checks the flag
 * itself when it returns (rt_host_call). */
static void on_preempt(int sig, siginfo_t* info, void* uc) {
  (void)sig;
  (void)info;
  thread_state* t = &tls;
  wasmcap_aot_ctx* ctx = t->ctx;
  if (!t->in_guest || ctx == NULL || t->jmp == NULL || ctx->flag == NULL || *ctx->flag == 0) {
    return;
  }
  uintptr_t pc = interrupted_pc(uc);
  if (pc == 0 || pc < ctx->code_lo || pc >= ctx->code_hi) return;
  unwind_from_signal(ctx, WASMCAP_TRAP_INTERRUPTED, uc);
}

int wasmcap_aot_preempt(pthread_t thread) { return pthread_kill(thread, WASMCAP_AOT_PREEMPT_SIGNAL); }

static void free_thread_stacks(void* p) {
  thread_state* t = (thread_state*)p;
  if (t == NULL) return;
  if (t->gstack != NULL) {
    munmap(t->gstack, t->gstack_size + STACK_GUARD_SPAN);
    t->gstack = NULL;
    t->stack_lo = 0;
  }
  if (t->alt_stack == NULL) return;
  stack_t ss;
  memset(&ss, 0, sizeof ss);
  ss.ss_flags = SS_DISABLE;
  sigaltstack(&ss, NULL);
  munmap(t->alt_stack, t->alt_size);
  t->alt_stack = NULL;
}

static void init_process(void) {
  if (pthread_key_create(&alt_key, free_thread_stacks) != 0) {
    init_result = -1;
    return;
  }
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = on_fault;
  sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER;
  sigemptyset(&sa.sa_mask);
  /* A fault handler is never interrupted by a preemption (it may be unwinding already). */
  sigaddset(&sa.sa_mask, WASMCAP_AOT_PREEMPT_SIGNAL);
  if (sigaction(SIGSEGV, &sa, &prev_segv) != 0 || sigaction(SIGBUS, &sa, &prev_bus) != 0) {
    init_result = -1;
  }
  /* Preemption: on the alternate stack (the guest stack may be nearly exhausted), SA_RESTART so
   * a host call's system call interrupted by a late signal is restarted, not failed. */
  struct sigaction sp;
  memset(&sp, 0, sizeof sp);
  sp.sa_sigaction = on_preempt;
  sp.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_RESTART;
  sigemptyset(&sp.sa_mask);
  if (sigaction(WASMCAP_AOT_PREEMPT_SIGNAL, &sp, &prev_preempt) != 0) init_result = -1;
}

int wasmcap_aot_init(void) {
  pthread_once(&init_once, init_process);
  return init_result;
}

/* First guest call on this thread: make sure a stack overflow can be handled (the handler
 * needs an alternate stack; the guest stack is exhausted then). */
static int thread_init(thread_state* t) {
  if (t->ready) return 0;
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
  }
  pthread_setspecific(alt_key, t); /* stacks freed (and the alt stack disabled) at thread exit */
  t->ready = true;
  return 0;
}

/* The guest stack: `size` bytes of lazily committed memory above a STACK_GUARD_SPAN PROT_NONE
 * guard, one per thread, kept for the thread's next calls. Guest code never runs on the
 * thread's own stack, so how deep it may recurse does not depend on RLIMIT_STACK (with
 * `ulimit -s unlimited` the main thread's stack would grow until the OOM killer fires). */
static int ensure_guest_stack(thread_state* t, size_t size) {
  size_t page = (size_t)sysconf(_SC_PAGESIZE);
  size = (size + page - 1) / page * page;
  if (t->gstack != NULL && t->gstack_size == size) return 0;
  if (t->gstack != NULL) {
    munmap(t->gstack, t->gstack_size + STACK_GUARD_SPAN);
    t->gstack = NULL;
    t->stack_lo = 0;
  }
  void* p = mmap(NULL, size + STACK_GUARD_SPAN, PROT_NONE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK, -1, 0);
  if (p == MAP_FAILED) return -1;
  if (mprotect((char*)p + STACK_GUARD_SPAN, size, PROT_READ | PROT_WRITE) != 0) {
    munmap(p, size + STACK_GUARD_SPAN);
    return -1;
  }
  t->gstack = (char*)p;
  t->gstack_size = size;
  t->stack_lo = (uintptr_t)p + STACK_GUARD_SPAN;
  return 0;
}

static uintptr_t stack_headroom(const thread_state* t) {
  uintptr_t sp = (uintptr_t)__builtin_frame_address(0);
  return sp > t->stack_lo ? sp - t->stack_lo : 0;
}

/* The trap boundary, on the guest stack. */
static int invoke_here(thread_state* t, wasmcap_aot_ctx* ctx, wasmcap_thunk_t fn,
                       void* instance, void* a, void* b) {
  if (stack_headroom(t) < ENTRY_STACK_HEADROOM) return WASM_RT_TRAP_EXHAUSTION;
  /* Everything a call may change on this thread, restored however it ends: a trap in an
   * instance called through a shared table unwinds here with that instance's context current
   * (docs/aot.md, "Shared tables"); restoring the caller's is this boundary's job. */
  wasmcap_aot_ctx* saved_ctx = t->ctx;
  int saved_in_guest = t->in_guest;
  sigjmp_buf* saved_jmp = t->jmp;
  volatile uint32_t* saved_flag = t->cur_flag;
  sigjmp_buf jb;
  volatile int rc = 0;
  t->jmp = &jb;
  t->trap = 0;
  t->ctx = ctx;
  __atomic_store_n(&t->cur_flag, ctx->flag, __ATOMIC_RELEASE);
  /* savemask = 0: no system call per entry. A trap from guest code leaves the mask as it was; one
   * from a signal handler restores it there (unwind_from_signal). */
  if (sigsetjmp(jb, 0) == 0) {
    t->in_guest = 1;
    fn(instance, a, b);
  } else {
    rc = t->trap != 0 ? t->trap : WASM_RT_TRAP_UNREACHABLE;
  }
  t->in_guest = saved_in_guest;
  t->ctx = saved_ctx;
  t->jmp = saved_jmp;
  __atomic_store_n(&t->cur_flag, saved_flag, __ATOMIC_RELEASE);
  return rc;
}

/* --- Switching to the guest stack ------------------------------------------------------------
 * wasmcap_call_on_stack(top, fn, arg) runs fn(arg) with the stack pointer at `top` and returns
 * on the caller's stack. A dozen instructions instead of makecontext/swapcontext: no signal-mask
 * system calls per call, and sanitizers are told about the switch explicitly (ASan warns about,
 * and mis-tracks, swapcontext). Traps never cross it: their siglongjmp target (invoke_here) is
 * on the guest stack, above every frame it unwinds. */
#if defined(__x86_64__)
#define HAVE_CALL_ON_STACK 1
__asm__(".text\n"
        ".p2align 4\n"
        ".globl wasmcap_call_on_stack\n"
        ".hidden wasmcap_call_on_stack\n"
        ".type wasmcap_call_on_stack, @function\n"
        "wasmcap_call_on_stack:\n"
        ".cfi_startproc\n"
        "  pushq %rbp\n"
        ".cfi_def_cfa_offset 16\n"
        ".cfi_offset %rbp, -16\n"
        "  movq %rsp, %rbp\n"
        ".cfi_def_cfa_register %rbp\n"
        "  movq %rdi, %rsp\n"
        "  movq %rdx, %rdi\n"
        "  callq *%rsi\n"
        "  movq %rbp, %rsp\n"
        "  popq %rbp\n"
        ".cfi_def_cfa %rsp, 8\n"
        "  retq\n"
        ".cfi_endproc\n"
        ".size wasmcap_call_on_stack, .-wasmcap_call_on_stack\n");
#elif defined(__aarch64__)
#define HAVE_CALL_ON_STACK 1
__asm__(".text\n"
        ".p2align 2\n"
        ".globl wasmcap_call_on_stack\n"
        ".hidden wasmcap_call_on_stack\n"
        ".type wasmcap_call_on_stack, %function\n"
        "wasmcap_call_on_stack:\n"
        ".cfi_startproc\n"
        "  stp x29, x30, [sp, #-16]!\n"
        ".cfi_def_cfa_offset 16\n"
        ".cfi_offset x29, -16\n"
        ".cfi_offset x30, -8\n"
        "  mov x29, sp\n"
        ".cfi_def_cfa_register x29\n"
        "  mov sp, x0\n"
        "  mov x0, x2\n"
        "  blr x1\n"
        "  mov sp, x29\n"
        ".cfi_def_cfa sp, 16\n"
        "  ldp x29, x30, [sp], #16\n"
        ".cfi_def_cfa_offset 0\n"
        ".cfi_restore x29\n"
        ".cfi_restore x30\n"
        "  ret\n"
        ".cfi_endproc\n"
        ".size wasmcap_call_on_stack, .-wasmcap_call_on_stack\n");
#endif

#ifdef HAVE_CALL_ON_STACK
void wasmcap_call_on_stack(void* top, void (*fn)(void*), void* arg);

typedef struct guest_call {
  thread_state* t;
  wasmcap_aot_ctx* ctx;
  wasmcap_thunk_t fn;
  void *instance, *a, *b;
  int rc;
#ifdef WASMCAP_ASAN
  const void* caller_bottom;
  size_t caller_size;
#endif
} guest_call;

static void guest_entry(void* p) {
  guest_call* c = (guest_call*)p;
#ifdef WASMCAP_ASAN
  __sanitizer_finish_switch_fiber(NULL, &c->caller_bottom, &c->caller_size);
#endif
  c->t->on_gstack = 1;
  c->rc = invoke_here(c->t, c->ctx, c->fn, c->instance, c->a, c->b);
  c->t->on_gstack = 0;
#ifdef WASMCAP_ASAN
  __sanitizer_start_switch_fiber(NULL, c->caller_bottom, c->caller_size);
#endif
}
#endif

int wasmcap_aot_invoke(wasmcap_aot_ctx* ctx, wasmcap_thunk_t fn, void* instance, void* a,
                       void* b) {
  thread_state* t = &tls;
  if (thread_init(t) != 0) return WASMCAP_TRAP_RESOURCE;
  /* Nested (a host call re-entering guest code): already on the guest stack. */
  if (t->on_gstack) return invoke_here(t, ctx, fn, instance, a, b);
#ifdef HAVE_CALL_ON_STACK
  if (ensure_guest_stack(t, ctx->stack_size ? ctx->stack_size : DEFAULT_GUEST_STACK) != 0) {
    return WASMCAP_TRAP_RESOURCE;
  }
  guest_call c;
  memset(&c, 0, sizeof c);
  c.t = t;
  c.ctx = ctx;
  c.fn = fn;
  c.instance = instance;
  c.a = a;
  c.b = b;
  void* top = (void*)((t->stack_lo + t->gstack_size) & ~(uintptr_t)15);
#ifdef WASMCAP_ASAN
  void* fake = NULL;
  __sanitizer_start_switch_fiber(&fake, (const void*)t->stack_lo, t->gstack_size);
#endif
  wasmcap_call_on_stack(top, guest_entry, &c);
#ifdef WASMCAP_ASAN
  __sanitizer_finish_switch_fiber(fake, NULL, NULL);
  /* Frames a trap unwound may leave poisoned redzones on the guest stack. */
  if (c.rc != 0) __asan_unpoison_memory_region((const void*)t->stack_lo, t->gstack_size);
#endif
  return c.rc;
#else
  /* No stack switch on this architecture: guest code runs on the thread's own stack, whose
   * bounds come from pthread (docs/aot.md, "Known gaps"). */
  if (t->stack_lo == 0) {
    pthread_attr_t attr;
    void* lo = NULL;
    size_t size = 0;
    if (pthread_getattr_np(pthread_self(), &attr) != 0) return WASMCAP_TRAP_RESOURCE;
    int rc = pthread_attr_getstack(&attr, &lo, &size);
    pthread_attr_destroy(&attr);
    if (rc != 0) return WASMCAP_TRAP_RESOURCE;
    t->stack_lo = (uintptr_t)lo;
  }
  return invoke_here(t, ctx, fn, instance, a, b);
#endif
}

/* --- Host calls ------------------------------------------------------------------------------ */

/* The instance comes from the thread, never from `host_ctx`: wasm2c 1.0.32 passes the wrong
 * pointer when an imported function is called through a table. For element segments it records
 * the import's instance as `(char*)instance + offsetof(instance_t, Z_h_instance)` — the address
 * of the field that holds the pointer, not the pointer — so a `call_indirect` of an imported
 * function handed the host a pointer into the guest instance's own struct (the spec suite's
 * table_copy and table_init crashed the host in the dispatcher, reading "ctx->host" out of a
 * table's size fields). The thread's context is always right: guest code on this thread belongs
 * to the instance that invoke_here published (nested calls save and restore it), or that a call
 * through a shared table switched to (rt_cross_enter; elements of imported functions name the
 * importer, translate_patch.cc patch 1c).
 * Test: AotIndirectImport.CallIndirectOfAnImportedFunctionReachesTheHost. */
static void rt_host_call(void* host_ctx, uint32_t index, const wasmcap_val_t* args,
                         wasmcap_val_t* results) {
  thread_state* t = &tls;
  wasmcap_aot_ctx* ctx = t->ctx;
  (void)host_ctx;
  if (ctx == NULL) abort(); /* guest code outside invoke_here: cannot happen */
  if (stack_headroom(t) < HOST_STACK_HEADROOM) unwind(ctx, WASM_RT_TRAP_EXHAUSTION);
  t->in_guest = 0;
  int status = wasmcap_aot_dispatch(ctx->host, index, args, results);
  t->in_guest = 1;
  /* The C++ dispatcher has fully returned: unwinding from here skips only C frames. Which
   * instance's host call it was tells the outermost caller whose outcome this is. */
  if (status != 0) {
    t->host_end = ctx;
    unwind(ctx, WASMCAP_TRAP_HOST);
  }
  /* The deadline passed or the interrupt came during the host call: the preemption signal found
   * host code and did nothing, so stop here rather than wait for the next one. */
  if (ctx->flag != NULL && *ctx->flag != 0) unwind(ctx, WASMCAP_TRAP_INTERRUPTED);
}

/* A bulk memory operation (memory.fill/copy/init, 64 KiB or more) has returned from libc. A
 * guest spending nearly all its time in memset/memmove is almost never interrupted with its PC
 * in guest code, so the preemption signal alone could not stop it; this check can. Unwinding
 * here is safe: the frames above are guest code and this C function. */
static void rt_bulk_done(void) {
  wasmcap_aot_ctx* ctx = tls.ctx;
  if (ctx != NULL && tls.jmp != NULL && ctx->flag != NULL && *ctx->flag != 0) {
    unwind(ctx, WASMCAP_TRAP_INTERRUPTED);
  }
}

/* --- Calls through shared tables (docs/aot.md, "Shared tables") ------------------------------
 * The host puts each instance's context in the pointer just before its wasm2c struct, so the
 * element's module_instance names its context. Only call_indirect's slow path (an element of
 * another instance) comes here: a same-instance call is one compare in the generated code. */
static wasmcap_aot_ctx* ctx_of(void* instance) { return ((wasmcap_aot_ctx* const*)instance)[-1]; }

static void set_current(thread_state* t, wasmcap_aot_ctx* ctx) {
  t->ctx = ctx;
  __atomic_store_n(&t->cur_flag, ctx->flag, __ATOMIC_RELEASE);
}

static int flag_up(const wasmcap_aot_ctx* ctx) {
  return ctx->flag != NULL && __atomic_load_n(ctx->flag, __ATOMIC_ACQUIRE) != 0;
}

/* The callee runs within the caller's deadline: the watchdog raises the thread's current flag
 * (the callee's from here on) as well as the call's own. Its flag is cleared first (a deadline
 * of an earlier call may have left it up), and the caller's checked after the switch, so a
 * deadline that passes during the switch is never lost. */
static void* rt_cross_enter(void* callee_instance) {
  thread_state* t = &tls;
  wasmcap_aot_ctx* caller = t->ctx;
  wasmcap_aot_ctx* callee = ctx_of(callee_instance);
  if (caller == NULL || t->jmp == NULL) abort(); /* guest code outside a trap boundary */
  if (callee == NULL) unwind(caller, WASMCAP_TRAP_INDIRECT_NULL); /* not instantiated */
  if (flag_up(caller)) unwind(caller, WASMCAP_TRAP_INTERRUPTED);
  if (callee == caller) return caller;
  if (callee->flag != NULL) __atomic_store_n(callee->flag, 0u, __ATOMIC_RELEASE);
  set_current(t, callee);
  if (flag_up(caller)) {
    set_current(t, caller);
    unwind(caller, WASMCAP_TRAP_INTERRUPTED);
  }
  return caller;
}

/* The callee returned: the caller's context again, and its deadline checked (raised in the
 * callee's flag while the callee ran, it stops the caller too). */
static void rt_cross_leave(void* caller_ctx) {
  thread_state* t = &tls;
  wasmcap_aot_ctx* callee = t->ctx;
  wasmcap_aot_ctx* caller = (wasmcap_aot_ctx*)caller_ctx;
  set_current(t, caller);
  if (callee != caller && flag_up(callee)) unwind(caller, WASMCAP_TRAP_INTERRUPTED);
  if (flag_up(caller)) unwind(caller, WASMCAP_TRAP_INTERRUPTED);
}

volatile uint32_t* volatile* wasmcap_aot_current_flag_slot(void) { return &tls.cur_flag; }

void* wasmcap_aot_host_end(void) {
  wasmcap_aot_ctx* ctx = tls.host_end;
  tls.host_end = NULL;
  return ctx != NULL ? ctx->host : NULL;
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
  if (!wasmcap_memory_pool_take(ctx->pool, initial)) unwind(ctx, WASMCAP_TRAP_RESOURCE);
  ctx->pool_pages += initial;
  /* Reserve the whole addressable range inaccessible; only [0, size) is ever read/write, so
   * every out-of-bounds access faults and becomes a trap (on_fault). A recycled range
   * (engine/memory_slots.h) comes zeroed. */
  uint8_t* p = wasmcap_slot_acquire(WASMCAP_AOT_MEMORY_RESERVE, (size_t)initial * PAGE_SIZE_WASM);
  if (p == NULL) unwind(ctx, WASMCAP_TRAP_RESOURCE);
  m->data = p;
  m->pages = initial;
  m->max_pages = max;
  m->size = mem_bytes32(initial);
  if (ctx->mem_base == NULL) ctx->mem_base = (uint8_t*)p;
}

static uint32_t rt_grow_memory(wasm_rt_memory_t* m, uint32_t delta) {
  uint32_t old = m->pages;
  if (delta == 0) return old;
  uint64_t pages = (uint64_t)old + delta;
  /* Beyond the (capped) maximum: memory.grow returns -1 inside the guest, as in the
   * interpreter, and the guest decides (allocators report out of memory). */
  if (pages > m->max_pages) return UINT32_MAX;
  /* The pool is the growing instance's (one run group shares one). */
  wasmcap_aot_ctx* ctx = tls.ctx;
  wasmcap_memory_pool* pool = ctx != NULL ? ctx->pool : NULL;
  if (!wasmcap_memory_pool_take(pool, delta)) return UINT32_MAX;
  if (mprotect(m->data + (size_t)old * PAGE_SIZE_WASM, (size_t)delta * PAGE_SIZE_WASM,
               PROT_READ | PROT_WRITE) != 0) {
    wasmcap_memory_pool_give(pool, delta);
    return UINT32_MAX;
  }
  if (pool != NULL) ctx->pool_pages += delta;
  m->pages = (uint32_t)pages;
  m->size = mem_bytes32(pages);
  return old;
}

static void rt_free_memory(wasm_rt_memory_t* m) {
  if (m->data != NULL) {
    wasmcap_slot_release(m->data, WASMCAP_AOT_MEMORY_RESERVE, (size_t)m->pages * PAGE_SIZE_WASM);
  }
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
    rt_bulk_done,
    rt_cross_enter,
    rt_cross_leave,
};

const wasmcap_rt_vtable* wasmcap_aot_vtable(void) { return &vtable; }

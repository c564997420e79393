/* Linear memory shared out among several instances: the instances of one run group (the tools
 * of one `bash` call, the core instances of one component) take the pages they commit from one
 * pool and give them back when their memory goes, so the group together never holds more than
 * the pool, whatever each instance's own cap allows (docs/mcp.md, "The bash tool").
 *
 * Plain C, so the AOT runtime (aot_runtime.c) and the interpreter share one definition. The
 * counters are updated only with the functions below (atomic; any thread). */
#ifndef WASMCAP_MEMORY_POOL_H
#define WASMCAP_MEMORY_POOL_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct wasmcap_memory_pool {
  uint64_t max_pages;  /* 64 KiB pages the group may commit together; set once at creation */
  uint64_t used_pages; /* committed now */
  uint64_t refusals;   /* growths refused because the pool was short (for the error's note) */
} wasmcap_memory_pool;

/* Takes `pages` from `pool` (NULL: no pool, always granted). 1 when granted, 0 when the pool
 * has fewer than `pages` left: nothing is taken and `refusals` counts it. */
static inline int wasmcap_memory_pool_take(wasmcap_memory_pool* pool, uint64_t pages) {
  if (pool == NULL || pages == 0) return 1;
  uint64_t used = __atomic_load_n(&pool->used_pages, __ATOMIC_RELAXED);
  do {
    if (pages > pool->max_pages || used > pool->max_pages - pages) {
      __atomic_fetch_add(&pool->refusals, 1, __ATOMIC_RELAXED);
      return 0;
    }
  } while (!__atomic_compare_exchange_n(&pool->used_pages, &used, used + pages, 1,
                                        __ATOMIC_RELAXED, __ATOMIC_RELAXED));
  return 1;
}

/* Gives back `pages` taken earlier. */
static inline void wasmcap_memory_pool_give(wasmcap_memory_pool* pool, uint64_t pages) {
  if (pool != NULL && pages != 0) __atomic_fetch_sub(&pool->used_pages, pages, __ATOMIC_RELAXED);
}

static inline uint64_t wasmcap_memory_pool_used(const wasmcap_memory_pool* pool) {
  return pool == NULL ? 0 : __atomic_load_n(&pool->used_pages, __ATOMIC_RELAXED);
}

static inline uint64_t wasmcap_memory_pool_refusals(const wasmcap_memory_pool* pool) {
  return pool == NULL ? 0 : __atomic_load_n(&pool->refusals, __ATOMIC_RELAXED);
}

#ifdef __cplusplus
}
#endif

#endif /* WASMCAP_MEMORY_POOL_H */

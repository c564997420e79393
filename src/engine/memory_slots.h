/* Linear memories' address ranges, recycled (both engines: the interpreter's fast/memory.cc and
 * the AOT runtime, aot_runtime.c; plain C for the latter).
 *
 * A linear memory is a large PROT_NONE reservation whose first `accessible` bytes are read/write.
 * Mapping a fresh one per instance and unmapping it after costs a short run most of its time
 * (bench/notes/2026-11-29-typed-calls.md): the kernel builds page tables and then frees them,
 * and every page the guest touches faults in from scratch. A released range is instead kept, up to
 * a bound, and handed to the next memory of the same reservation size, as wasmtime's pooling
 * allocator does. What the guest wrote never survives a release: the range's read/write bytes
 * are made zero before it is kept, pages still in memory with memset (they stay resident, so the
 * next instance touching them does not fault), every other page with madvise(MADV_DONTNEED)
 * (which drops it, swapped out or not: the next touch reads zeros). Every byte of a kept range
 * is zero, accessible or not.
 *
 * Bounds: at most WASMCAP_SLOT_CACHE_MAX ranges are kept, each with at most
 * WASMCAP_SLOT_KEEP_RESIDENT bytes still resident; the rest is unmapped or dropped. */
#ifndef WASMCAP_ENGINE_MEMORY_SLOTS_H
#define WASMCAP_ENGINE_MEMORY_SLOTS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define WASMCAP_SLOT_CACHE_MAX 32
#define WASMCAP_SLOT_KEEP_RESIDENT ((size_t)1 << 20)

/* A range of `reserve` bytes (a multiple of the page size) whose [0, accessible) is read/write
 * and zero and the rest inaccessible (PROT_NONE): a kept range of the same size, or a new one.
 * NULL when the address space or the protection change is refused (errno set). */
uint8_t* wasmcap_slot_acquire(size_t reserve, size_t accessible);

/* Gives back a range from wasmcap_slot_acquire: `accessible` is how much of it is read/write now
 * (the memory's size when it goes). Zeroed and kept, or unmapped. */
void wasmcap_slot_release(uint8_t* base, size_t reserve, size_t accessible);

#ifdef __cplusplus
}

namespace wasmcap::engine {
// For tests: ranges mapped new and ranges reused since the process started, and how many are kept.
struct SlotStats {
  uint64_t mapped = 0;
  uint64_t reused = 0;
  size_t kept = 0;
};
SlotStats slot_stats();
// Unmaps every kept range (tests; a process that wants its address space back).
void slot_cache_clear();
}  // namespace wasmcap::engine
#endif

#endif /* WASMCAP_ENGINE_MEMORY_SLOTS_H */

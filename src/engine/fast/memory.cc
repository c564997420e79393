// The fast interpreter's linear memory: the whole range up to the cap (min of the declared
// maximum and ExecLimits::max_memory_pages) is reserved once as PROT_NONE, and pages are made
// accessible as the memory grows. Growth never moves or copies the memory, and the host's
// resident memory stays within what the guest has grown to. The reservation comes from
// engine/memory_slots.h, which recycles it zeroed. Accesses are bounds-checked
// explicitly by the loop (exec.cc), so no guard region or signal handler is needed.
// With a pool (ExecLimits::memory_pool) every committed page is taken from it first and given
// back when the memory goes.
#include <sys/mman.h>

#include <cerrno>
#include <cstring>

#include "engine/fast/fast.h"
#include "engine/host_call.h"
#include "engine/memory_slots.h"

namespace wasmcap::fast {

Result<std::shared_ptr<Memory>> memory_create(uint64_t pages, uint64_t max_pages,
                                              std::shared_ptr<wasmcap_memory_pool> pool) {
  auto m = std::make_shared<Memory>();
  m->max_pages = max_pages;
  m->pool = std::move(pool);
  if (pages > max_pages) {
    return make_error(ErrorCode::kMemoryLimit,
                      "cannot commit " + std::to_string(pages) + " pages of linear memory");
  }
  if (!wasmcap_memory_pool_take(m->pool.get(), pages)) {
    return make_error(ErrorCode::kMemoryLimit, engine::memory_pool_short(*m->pool, pages));
  }
  // Reserve at least one page so that a zero-page memory still has a valid base.
  uint64_t reserve = max_pages * kWasmPageSize;
  if (reserve == 0) reserve = 4096;
  uint8_t* p = wasmcap_slot_acquire(reserve, pages * kWasmPageSize);
  if (p == nullptr) {
    wasmcap_memory_pool_give(m->pool.get(), pages);
    return make_error(ErrorCode::kMemoryLimit,
                      "cannot reserve " + std::to_string(reserve >> 20) +
                          " MiB of address space for linear memory (" + std::to_string(pages) +
                          " pages committed): " + std::strerror(errno));
  }
  m->base = p;
  m->reserved = reserve;
  m->size = pages * kWasmPageSize;
  return m;
}

int64_t memory_grow(Memory& m, uint64_t delta) {
  uint64_t old_pages = m.size / kWasmPageSize;
  if (delta > m.max_pages || old_pages + delta > m.max_pages) return -1;
  if (delta == 0) return static_cast<int64_t>(old_pages);
  uint64_t new_size = (old_pages + delta) * kWasmPageSize;
  if (!wasmcap_memory_pool_take(m.pool.get(), delta)) return -1;
  if (mprotect(m.base + m.size, new_size - m.size, PROT_READ | PROT_WRITE) != 0) {
    wasmcap_memory_pool_give(m.pool.get(), delta);
    return -1;
  }
  m.size = new_size;
  return static_cast<int64_t>(old_pages);
}

Memory::~Memory() {
  wasmcap_slot_release(base, reserved, size);
  wasmcap_memory_pool_give(pool.get(), size / kWasmPageSize);
}

}  // namespace wasmcap::fast

// Linear memories' address ranges, recycled: memory_slots.h says what and why.
#include "engine/memory_slots.h"

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <mutex>
#include <vector>

namespace {

// The system's page: mincore() reports one byte per page of this size.
size_t page_size() {
  static const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  return page;
}

struct Kept {
  uint8_t* base;
  size_t reserve;
  size_t rw;  // [0, rw) is read/write; every byte of the range is zero
};

std::mutex g_mu;
std::vector<Kept>& kept() {
  static auto* v = new std::vector<Kept>();  // never destroyed: releases may come at exit
  return *v;
}
std::atomic<uint64_t> g_mapped{0};
std::atomic<uint64_t> g_reused{0};

// Sets [lo, hi) of `base` to `prot`; true when done (or empty).
bool protect(uint8_t* base, size_t lo, size_t hi, int prot) {
  return lo >= hi || mprotect(base + lo, hi - lo, prot) == 0;
}

// Makes [0, accessible) zero: pages in memory with memset (they stay resident, up to
// WASMCAP_SLOT_KEEP_RESIDENT), every other page dropped. False when the kernel refused
// (the caller then unmaps the range instead of keeping it).
bool zero(uint8_t* base, size_t accessible) {
  const size_t page = page_size();
  size_t keep = std::min(accessible, WASMCAP_SLOT_KEEP_RESIDENT);
  unsigned char present[WASMCAP_SLOT_KEEP_RESIDENT / 4096];  // pages are 4 KiB or larger
  if (keep != 0 && mincore(base, keep, present) != 0) return false;
  // `keep` is a whole number of pages: sizes are multiples of 64 KiB (a wasm page) or of the
  // value stack's, and Linux's page sizes (4, 16, 64 KiB) divide them.
  size_t pages = keep / page;
  for (size_t i = 0; i < pages;) {
    size_t j = i;
    bool in = (present[i] & 1) != 0;
    while (j < pages && ((present[j] & 1) != 0) == in) ++j;
    if (in) {
      std::memset(base + i * page, 0, (j - i) * page);
    } else if (madvise(base + i * page, (j - i) * page, MADV_DONTNEED) != 0) {
      // A page not in memory may be swapped out with the guest's bytes: dropping it is what
      // makes it zero.
      return false;
    }
    i = j;
  }
  return accessible <= keep || madvise(base + keep, accessible - keep, MADV_DONTNEED) == 0;
}

}  // namespace

extern "C" uint8_t* wasmcap_slot_acquire(size_t reserve, size_t accessible) {
  if (accessible > reserve) {
    errno = EINVAL;
    return nullptr;
  }
  Kept slot{};
  bool have = false;
  {
    std::lock_guard<std::mutex> lock(g_mu);
    auto& v = kept();
    for (size_t i = v.size(); i-- > 0;) {
      if (v[i].reserve == reserve) {
        slot = v[i];
        v.erase(v.begin() + static_cast<std::ptrdiff_t>(i));
        have = true;
        break;
      }
    }
  }
  if (have) {
    if (protect(slot.base, accessible, slot.rw, PROT_NONE) &&
        protect(slot.base, slot.rw, accessible, PROT_READ | PROT_WRITE)) {
      g_reused.fetch_add(1, std::memory_order_relaxed);
      return slot.base;
    }
    munmap(slot.base, slot.reserve);
  }
  void* p = mmap(nullptr, reserve, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (p == MAP_FAILED && errno == ENOMEM) {
    // Out of address space (RLIMIT_AS, vm.max_map_count): the kept ranges go first.
    wasmcap::engine::slot_cache_clear();
    p = mmap(nullptr, reserve, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  }
  if (p == MAP_FAILED) return nullptr;
  auto* base = static_cast<uint8_t*>(p);
  if (!protect(base, 0, accessible, PROT_READ | PROT_WRITE)) {
    int e = errno;
    munmap(p, reserve);
    errno = e;
    return nullptr;
  }
  g_mapped.fetch_add(1, std::memory_order_relaxed);
  return base;
}

extern "C" void wasmcap_slot_release(uint8_t* base, size_t reserve, size_t accessible) {
  if (base == nullptr) return;
  bool full;
  {
    std::lock_guard<std::mutex> lock(g_mu);
    full = kept().size() >= WASMCAP_SLOT_CACHE_MAX;
  }
  // Zeroed outside the lock (other threads acquire meanwhile); checked again before keeping.
  if (full || accessible > reserve || !zero(base, accessible)) {
    munmap(base, reserve);
    return;
  }
  std::lock_guard<std::mutex> lock(g_mu);
  auto& v = kept();
  if (v.size() >= WASMCAP_SLOT_CACHE_MAX) {
    munmap(base, reserve);
    return;
  }
  v.push_back(Kept{base, reserve, accessible});
}

namespace wasmcap::engine {

SlotStats slot_stats() {
  SlotStats s;
  s.mapped = g_mapped.load(std::memory_order_relaxed);
  s.reused = g_reused.load(std::memory_order_relaxed);
  std::lock_guard<std::mutex> lock(g_mu);
  s.kept = kept().size();
  return s;
}

void slot_cache_clear() {
  std::vector<Kept> all;
  {
    std::lock_guard<std::mutex> lock(g_mu);
    all.swap(kept());
  }
  for (const Kept& k : all) munmap(k.base, k.reserve);
}

}  // namespace wasmcap::engine

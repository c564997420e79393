// The load budget (wasmcap/runtime.h, docs/security-model.md "Bulk work and loading").
#include <algorithm>
#include <string>

#include "wasmcap/runtime.h"

namespace wasmcap {
namespace {

// Unsigned LEB128 (at most 32 bits) at p; false past end or when overlong.
bool read_leb(const uint8_t*& p, const uint8_t* end, uint64_t* out) {
  uint64_t v = 0;
  for (int shift = 0; shift < 35; shift += 7) {
    if (p == end) return false;
    uint8_t b = *p++;
    v |= static_cast<uint64_t>(b & 0x7f) << shift;
    if ((b & 0x80) == 0) {
      *out = v;
      return true;
    }
  }
  return false;
}

uint64_t sat_add(uint64_t a, uint64_t b) { return a > UINT64_MAX - b ? UINT64_MAX : a + b; }
uint64_t sat_mul(uint64_t a, uint64_t b) {
  return b != 0 && a > UINT64_MAX / b ? UINT64_MAX : a * b;
}

// Components nest at most this deep (the decoder's bound, component.h): deeper ones are refused
// by the decoder, so their estimate stops here.
constexpr int kMaxComponentNesting = 32;

// The shapes of a module's sections, or of every core module a component holds (its section 1;
// nested components, section 4, likewise), summed: each is loaded as a module of its own.
void add_shapes(const uint8_t* bytes, size_t size, int depth, LoadCost& c) {
  if (size < 8) return;
  const bool component = bytes[6] == 1 && bytes[7] == 0;  // the preamble's layer
  const uint8_t* p = bytes + 8;
  const uint8_t* end = bytes + size;
  while (p < end) {
    uint8_t id = *p++;
    uint64_t n = 0;
    if (!read_leb(p, end, &n) || n > static_cast<uint64_t>(end - p)) break;  // the loader says why
    const uint8_t* payload = p;
    const uint8_t* pend = p + n;
    p = pend;
    if (component) {
      if ((id == 1 || id == 4) && depth < kMaxComponentNesting) add_shapes(payload, n, depth + 1, c);
      continue;
    }
    uint64_t count = 0;
    // Vectors: the count is the payload's first number; each entry takes at least one byte, so
    // a count beyond the payload's size is malformed (the loader refuses it): capped there.
    auto vec_count = [&] {
      const uint8_t* q = payload;
      uint64_t k = 0;
      if (!read_leb(q, pend, &k)) return uint64_t{0};
      return std::min<uint64_t>(k, static_cast<uint64_t>(pend - q));
    };
    switch (id) {
      case 1: c.types += vec_count(); break;
      case 2: {
        // Imports: only functions count as functions, but every import is an entry.
        count = vec_count();
        c.entries += count;
        c.functions += count;  // an upper bound (imported tables, memories, globals are fewer)
        break;
      }
      case 3: c.functions += vec_count(); break;
      case 6:
      case 7: c.entries += vec_count(); break;
      case 9: c.element_bytes += n; break;  // each element takes at least one byte
      case 10: c.code_bytes += n; break;
      default: break;
    }
  }
}

}  // namespace

LoadCost estimate_load_cost(const uint8_t* bytes, size_t size) {
  LoadCost c;
  c.module_bytes = size;
  add_shapes(bytes, size, 0, c);
  uint64_t total = sat_mul(c.module_bytes, kLoadBytesPerModuleByte);
  total = sat_add(total, sat_mul(c.functions, kLoadBytesPerFunction));
  total = sat_add(total, sat_mul(c.types, kLoadBytesPerType));
  total = sat_add(total, sat_mul(c.entries, kLoadBytesPerEntry));
  total = sat_add(total, sat_mul(c.element_bytes, kLoadBytesPerElementByte));
  total = sat_add(total, sat_mul(c.code_bytes, kLoadBytesPerCodeByte));
  c.host_bytes = total;
  return c;
}

uint64_t load_budget_bytes(uint64_t max_memory_bytes) {
  return std::max<uint64_t>(kMinLoadBudgetBytes, max_memory_bytes);
}

Result<void> check_load_budget(const uint8_t* bytes, size_t size, uint64_t max_memory_bytes) {
  LoadCost c = estimate_load_cost(bytes, size);
  uint64_t budget = load_budget_bytes(max_memory_bytes);
  if (c.host_bytes <= budget) return {};
  auto mib = [](uint64_t b) { return std::to_string((b + (1u << 20) - 1) >> 20); };
  return make_error(ErrorCode::kMemoryLimit,
                    "loading this module would take about " + mib(c.host_bytes) +
                        " MiB of host memory (" + std::to_string(c.functions) + " functions, " +
                        std::to_string(c.types) + " types, " + std::to_string(size) +
                        " bytes), above the load budget of " + mib(budget) +
                        " MiB (the memory limit, at least " + mib(kMinLoadBudgetBytes) +
                        " MiB); raise --max-memory-mb");
}

}  // namespace wasmcap

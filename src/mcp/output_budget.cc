#include "mcp/output_budget.h"

namespace wasmcap::mcp {

namespace {

// The JSON size of the unit of `s` starting at `i` (one character, or one maximal ill-formed
// subsequence, which the writer replaces by one U+FFFD), and its length in bytes. Well-formed
// UTF-8 as the Unicode standard's table 3-7 defines it (no overlongs, no surrogates, nothing past
// U+10FFFF), as the writer's decoder accepts it.
struct Unit {
  uint32_t bytes;
  uint32_t size;
};

Unit unit_at(std::string_view s, size_t i) {
  const auto c = static_cast<unsigned char>(s[i]);
  if (c < 0x80) {
    switch (c) {
      case '"': case '\\': case '\b': case '\f': case '\n': case '\r': case '\t':
        return {1, 2};
      default:
        return {1, c < 0x20 ? 6u : 1u};
    }
  }
  // The length of the sequence `c` starts, and the range its second byte must be in.
  uint32_t len = 0;
  unsigned char lo = 0x80, hi = 0xBF;
  if (c >= 0xC2 && c <= 0xDF) {
    len = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    len = 3;
    if (c == 0xE0) lo = 0xA0;
    if (c == 0xED) hi = 0x9F;
  } else if (c >= 0xF0 && c <= 0xF4) {
    len = 4;
    if (c == 0xF0) lo = 0x90;
    if (c == 0xF4) hi = 0x8F;
  } else {
    return {1, 3};  // a continuation byte or a byte no sequence starts with
  }
  uint32_t n = 1;
  while (n < len && i + n < s.size()) {
    const auto b = static_cast<unsigned char>(s[i + n]);
    if (n == 1 ? (b < lo || b > hi) : (b < 0x80 || b > 0xBF)) break;
    ++n;
  }
  if (n == len) return {len, len};
  return {n, 3};  // cut short: its well-formed prefix is one U+FFFD
}

}  // namespace

uint64_t json_text_size(std::string_view s) {
  uint64_t total = 0;
  for (size_t i = 0; i < s.size();) {
    Unit u = unit_at(s, i);
    total += u.size;
    i += u.bytes;
  }
  return total;
}

bool cut_to_json_budget(std::string& s, uint64_t& budget) {
  for (size_t i = 0; i < s.size();) {
    Unit u = unit_at(s, i);
    if (u.size > budget) {
      s.resize(i);
      budget = 0;
      return true;
    }
    budget -= u.size;
    i += u.bytes;
  }
  return false;
}

}  // namespace wasmcap::mcp

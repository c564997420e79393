// UTF-8: strict decoding, in which every byte that does not begin a valid sequence stands for
// itself, and encoding. For the shell's evaluation modules (patterns, printf, read) and the
// component values (the Canonical ABI's strings and chars, JSON, WAVE and trees).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace wasmcap::utf8 {

struct Char {
  uint32_t value;  // the code point, or the byte when !valid
  size_t len;      // bytes consumed (1 for an invalid byte)
  bool valid;
};

// One strict UTF-8 sequence at s[i] (i < s.size()): no over-long forms, surrogates or values
// past U+10FFFF (unless `allow_above_max`: glibc's decoder takes 4-byte sequences up to
// 0x1FFFFF); otherwise the single byte, invalid.
inline Char decode(std::string_view s, size_t i, bool allow_above_max = false) {
  auto b = [&](size_t k) { return static_cast<unsigned char>(s[i + k]); };
  unsigned char c0 = b(0);
  if (c0 < 0x80) return {c0, 1, true};
  size_t len = c0 >= 0xF0 ? 4 : c0 >= 0xE0 ? 3 : c0 >= 0xC2 ? 2 : 0;
  if (len == 0 || c0 > (allow_above_max ? 0xF7 : 0xF4) || i + len > s.size()) return {c0, 1, false};
  uint32_t v = c0 & (0x7F >> len);
  for (size_t k = 1; k < len; ++k) {
    if ((b(k) & 0xC0) != 0x80) return {c0, 1, false};
    v = (v << 6) | (b(k) & 0x3F);
  }
  static constexpr uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
  if (v < kMin[len] || (v > 0x10FFFF && !allow_above_max) || (v >= 0xD800 && v <= 0xDFFF)) {
    return {c0, 1, false};
  }
  return {v, len, true};
}

// A Unicode scalar value: a code point up to U+10FFFF that is not a surrogate (what a WIT char
// and every UTF-8 sequence decode() accepts hold).
inline bool is_scalar_value(uint64_t cp) { return cp <= 0x10FFFF && !(cp >= 0xD800 && cp <= 0xDFFF); }

// Appends code point `cp` (at most U+10FFFF) as UTF-8.
inline void append(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

}  // namespace wasmcap::utf8

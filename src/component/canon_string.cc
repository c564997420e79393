// Strings of the Canonical ABI (CanonicalABI.md, "Loading", "Storing"): lifted out of guest memory
// in utf8, utf16 or latin1+utf16 (validated while decoded: invalid UTF-8, an unpaired surrogate
// trap) into the host's UTF-8, and stored back in the guest's encoding through realloc. The
// string's bytes are checked against the Canonical ABI's bound, the memory, the alignment and the
// host's max_lift_bytes before anything is read or allocated.
#include <cstring>

#include "common/utf8.h"
#include "component/runtime.h"

namespace wasmcap::component {

// Decodes UTF-8 strictly (no overlong forms, surrogates or code points past U+10FFFF).
bool valid_utf8(const uint8_t* s, size_t n) {
  const std::string_view text(reinterpret_cast<const char*>(s), n);
  for (size_t i = 0; i < n;) {
    const utf8::Char c = utf8::decode(text, i);
    if (!c.valid) return false;
    i += c.len;
  }
  return true;
}

namespace {

void put_utf8(uint32_t cp, std::string& out) { utf8::append(out, cp); }

// The code points of valid UTF-8 (checked by the caller).
template <class F>
void each_code_point(std::string_view s, F f) {
  size_t i = 0;
  while (i < s.size()) {
    uint8_t c = static_cast<uint8_t>(s[i]);
    uint32_t cp;
    size_t len = c < 0x80 ? 1 : (c & 0xe0) == 0xc0 ? 2 : (c & 0xf0) == 0xe0 ? 3 : 4;
    cp = len == 1 ? c : len == 2 ? (c & 0x1f) : len == 3 ? (c & 0x0f) : (c & 0x07);
    for (size_t k = 1; k < len && i + k < s.size(); ++k) cp = cp << 6 | (static_cast<uint8_t>(s[i + k]) & 0x3f);
    f(cp);
    i += len;
  }
}

constexpr uint32_t kUtf16Tag = 0x80000000u;

}  // namespace

Result<Val> load_string_range(Cx& cx, uint32_t ptr, uint32_t tagged) {
  StringEncoding enc = cx.opts->encoding;
  enum { kU8, kU16, kLatin1 } src = kU8;
  uint64_t bytes = tagged;
  uint32_t align = 1;
  if (enc == StringEncoding::kUtf16) {
    src = kU16, bytes = uint64_t{tagged} * 2, align = 2;
  } else if (enc == StringEncoding::kLatin1Utf16) {
    align = 2;
    if (tagged & kUtf16Tag) src = kU16, bytes = uint64_t{tagged ^ kUtf16Tag} * 2;
    else src = kLatin1, bytes = tagged;
  }
  if (bytes > kMaxStringBytes) {
    return tl::unexpected(abi_trap("a string of " + std::to_string(bytes) + " bytes exceeds the Canonical ABI's " +
                                   std::to_string(kMaxStringBytes)));
  }
  GuestMemory m{};
  WASMCAP_TRY_ASSIGN(m, check_range(cx, ptr, bytes, align, "a string"));
  // UTF-8 out of UTF-16 takes at most 3 bytes a unit, out of Latin-1 at most 2 a byte.
  WASMCAP_TRY(charge(cx, src == kU8 ? bytes : src == kU16 ? bytes / 2 * 3 : bytes * 2));
  const uint8_t* p = m.range(ptr, bytes);
  std::string out;
  if (src == kU8) {
    if (!valid_utf8(p, bytes)) return tl::unexpected(abi_trap("a string is not valid UTF-8"));
    out.assign(reinterpret_cast<const char*>(p), bytes);
  } else if (src == kLatin1) {
    out.reserve(bytes);
    for (uint64_t i = 0; i < bytes; ++i) put_utf8(p[i], out);
  } else {
    out.reserve(bytes);
    for (uint64_t i = 0; i < bytes; i += 2) {
      uint32_t u = p[i] | uint32_t{p[i + 1]} << 8;
      if (u >= 0xd800 && u <= 0xdbff) {
        if (i + 3 >= bytes) return tl::unexpected(abi_trap("a string is not valid UTF-16 (unpaired surrogate)"));
        uint32_t lo = p[i + 2] | uint32_t{p[i + 3]} << 8;
        if (lo < 0xdc00 || lo > 0xdfff) {
          return tl::unexpected(abi_trap("a string is not valid UTF-16 (unpaired surrogate)"));
        }
        u = 0x10000 + ((u - 0xd800) << 10) + (lo - 0xdc00);
        i += 2;
      } else if (u >= 0xdc00 && u <= 0xdfff) {
        return tl::unexpected(abi_trap("a string is not valid UTF-16 (unpaired surrogate)"));
      }
      put_utf8(u, out);
    }
  }
  return Val::string(std::move(out));
}

// Stores a host string (valid UTF-8) in the guest's encoding: (pointer, tagged code units).
Result<std::pair<uint32_t, uint32_t>> store_string_range(Cx& cx, const std::string& s) {
  if (s.size() > kMaxStringBytes) {
    return tl::unexpected(abi_trap("a string of " + std::to_string(s.size()) + " bytes exceeds the Canonical ABI's " +
                                   std::to_string(kMaxStringBytes)));
  }
  StringEncoding enc = cx.opts->encoding;
  if (enc == StringEncoding::kUtf8) {
    uint32_t ptr{};
    WASMCAP_TRY_ASSIGN(ptr, allocate(cx, 1, s.size(), "a string"));
    GuestMemory m{};
    WASMCAP_TRY_ASSIGN(m, check_range(cx, ptr, s.size(), 1, "a string"));
    if (!s.empty()) std::memcpy(m.range(ptr, s.size()), s.data(), s.size());
    return std::pair<uint32_t, uint32_t>{ptr, static_cast<uint32_t>(s.size())};
  }
  std::vector<uint16_t> units;
  bool latin1 = true;
  each_code_point(s, [&](uint32_t cp) {
    if (cp >= 0x100) latin1 = false;
    if (cp >= 0x10000) {
      units.push_back(static_cast<uint16_t>(0xd800 + ((cp - 0x10000) >> 10)));
      units.push_back(static_cast<uint16_t>(0xdc00 + ((cp - 0x10000) & 0x3ff)));
    } else {
      units.push_back(static_cast<uint16_t>(cp));
    }
  });
  if (enc == StringEncoding::kLatin1Utf16 && latin1) {
    uint32_t ptr{};
    WASMCAP_TRY_ASSIGN(ptr, allocate(cx, 2, units.size(), "a string"));
    GuestMemory m{};
    WASMCAP_TRY_ASSIGN(m, check_range(cx, ptr, units.size(), 2, "a string"));
    uint8_t* p = m.range(ptr, units.size());
    for (size_t i = 0; i < units.size(); ++i) p[i] = static_cast<uint8_t>(units[i]);
    return std::pair<uint32_t, uint32_t>{ptr, static_cast<uint32_t>(units.size())};
  }
  const uint64_t bytes = uint64_t{units.size()} * 2;
  uint32_t ptr{};
  WASMCAP_TRY_ASSIGN(ptr, allocate(cx, 2, bytes, "a string"));
  GuestMemory m{};
  WASMCAP_TRY_ASSIGN(m, check_range(cx, ptr, bytes, 2, "a string"));
  uint8_t* p = m.range(ptr, bytes);
  for (size_t i = 0; i < units.size(); ++i) {
    p[2 * i] = static_cast<uint8_t>(units[i]);
    p[2 * i + 1] = static_cast<uint8_t>(units[i] >> 8);
  }
  uint32_t n = static_cast<uint32_t>(units.size());
  return std::pair<uint32_t, uint32_t>{ptr, enc == StringEncoding::kLatin1Utf16 ? n | kUtf16Tag : n};
}

}  // namespace wasmcap::component

// The one bounded reader of component bytes (component.h). Errors are sticky: the first failure
// is kept (with its byte offset) and every later read returns zero/empty, so a caller checks
// ok() after a loop rather than after every byte. A count read with count() is at most its bound
// and at most the bytes left, so a loop over it or a reserve() of it is bounded by the input.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

#include "component/component.h"

namespace wasmcap::component {

// The first error of one decode.
struct ErrorSink {
  bool failed = false;
  ErrorCode code = ErrorCode::kModuleMalformed;
  std::string message;

  bool fail(ErrorCode c, size_t offset, const std::string& what) {
    if (!failed) {
      failed = true;
      code = c;
      message = "component: at byte " + std::to_string(offset) + ": " + what;
    }
    return false;
  }
};

class Reader {
 public:
  Reader(const uint8_t* base, size_t begin, size_t end, ErrorSink* sink)
      : base_(base), pos_(begin), end_(end), sink_(sink) {}

  bool ok() const { return !sink_->failed; }
  size_t offset() const { return pos_; }
  size_t end() const { return end_; }
  size_t remaining() const { return end_ - pos_; }
  bool at_end() const { return pos_ >= end_; }
  const uint8_t* base() const { return base_; }
  ErrorSink* sink() const { return sink_; }

  bool fail(const std::string& what) { return sink_->fail(ErrorCode::kModuleMalformed, pos_, what); }
  bool fail_at(size_t offset, const std::string& what) {
    return sink_->fail(ErrorCode::kModuleMalformed, offset, what);
  }
  bool unsupported(const std::string& what) {
    return sink_->fail(ErrorCode::kModuleUnsupported, pos_, what);
  }
  bool unsupported_at(size_t offset, const std::string& what) {
    return sink_->fail(ErrorCode::kModuleUnsupported, offset, what);
  }

  uint8_t byte(const char* what) {
    if (!ok()) return 0;
    if (pos_ >= end_) {
      fail(std::string("unexpected end while reading ") + what);
      return 0;
    }
    return base_[pos_++];
  }

  // Unsigned LEB128 of at most 32 bits (5 bytes, the unused bits of the last byte zero).
  uint32_t u32(const char* what) {
    if (!ok()) return 0;
    size_t start = pos_;
    uint32_t result = 0;
    for (int i = 0; i < 5; ++i) {
      if (pos_ >= end_) {
        fail_at(start, std::string("unexpected end while reading ") + what);
        return 0;
      }
      uint8_t b = base_[pos_++];
      if (i == 4 && (b & 0x80) != 0) break;  // a sixth byte: too long
      if (i == 4 && (b & 0x70) != 0) {
        fail_at(start, std::string("integer too large (") + what + ")");
        return 0;
      }
      result |= static_cast<uint32_t>(b & 0x7f) << (7 * i);
      if ((b & 0x80) == 0) return result;
    }
    fail_at(start, std::string("integer representation too long (") + what + ")");
    return 0;
  }

  // Signed LEB128 of at most 33 bits (core heap types); only its validity matters here.
  int64_t s33(const char* what) {
    if (!ok()) return 0;
    size_t start = pos_;
    int64_t result = 0;
    int shift = 0;
    for (int i = 0; i < 5; ++i) {
      if (pos_ >= end_) {
        fail_at(start, std::string("unexpected end while reading ") + what);
        return 0;
      }
      uint8_t b = base_[pos_++];
      result |= static_cast<int64_t>(b & 0x7f) << shift;
      shift += 7;
      if ((b & 0x80) == 0) {
        if (i == 4 && (b & 0x70) != 0 && (b & 0x70) != 0x70) break;
        if (shift < 64 && (b & 0x40)) result |= -(int64_t{1} << shift);
        return result;
      }
    }
    fail_at(start, std::string("integer representation too long (") + what + ")");
    return 0;
  }

  // A vector's length: at most max (what the bound is named in the message) and at most the
  // bytes left times one element per byte.
  uint32_t count(const char* what, uint32_t max) {
    size_t start = pos_;
    uint32_t n = u32(what);
    if (!ok()) return 0;
    if (n > max) {
      sink_->fail(ErrorCode::kModuleUnsupported, start,
                  std::string(what) + " count " + std::to_string(n) + " exceeds wasmcap's bound of " +
                      std::to_string(max));
      return 0;
    }
    if (n > remaining()) {
      fail_at(start, std::string(what) + " count " + std::to_string(n) + " exceeds the " +
                         std::to_string(remaining()) + " bytes left");
      return 0;
    }
    return n;
  }

  // A length-prefixed UTF-8 string (core:name).
  std::string_view name(const char* what) {
    size_t start = pos_;
    uint32_t n = u32(what);
    if (!ok()) return {};
    if (n > kMaxNameBytes) {
      sink_->fail(ErrorCode::kModuleUnsupported, start,
                  std::string(what) + " of " + std::to_string(n) +
                      " bytes exceeds wasmcap's bound of " + std::to_string(kMaxNameBytes));
      return {};
    }
    if (n > remaining()) {
      fail_at(start, std::string(what) + " length " + std::to_string(n) + " exceeds the " +
                         std::to_string(remaining()) + " bytes left");
      return {};
    }
    std::string_view s(reinterpret_cast<const char*>(base_ + pos_), n);
    if (!valid_utf8(s)) {
      fail_at(start, std::string(what) + " is not valid UTF-8");
      return {};
    }
    pos_ += n;
    return s;
  }

  // Skips n bytes (n already bounded by the caller against remaining()).
  void skip(size_t n) {
    if (!ok()) return;
    if (n > remaining()) {
      fail("length " + std::to_string(n) + " exceeds the " + std::to_string(remaining()) +
           " bytes left");
      return;
    }
    pos_ += n;
  }

  static bool valid_utf8(std::string_view s) {
    size_t i = 0;
    while (i < s.size()) {
      uint8_t c = static_cast<uint8_t>(s[i]);
      size_t n;
      uint32_t cp;
      if (c < 0x80) {
        ++i;
        continue;
      } else if ((c & 0xe0) == 0xc0) {
        n = 1, cp = c & 0x1f;
      } else if ((c & 0xf0) == 0xe0) {
        n = 2, cp = c & 0x0f;
      } else if ((c & 0xf8) == 0xf0) {
        n = 3, cp = c & 0x07;
      } else {
        return false;
      }
      if (i + n >= s.size()) return false;  // the continuation bytes are past the end
      for (size_t k = 1; k <= n; ++k) {
        uint8_t cc = static_cast<uint8_t>(s[i + k]);
        if ((cc & 0xc0) != 0x80) return false;
        cp = cp << 6 | (cc & 0x3f);
      }
      if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
          cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
        return false;
      }
      i += n + 1;
    }
    return true;
  }

 private:
  const uint8_t* base_;
  size_t pos_;
  size_t end_;
  ErrorSink* sink_;
};

}  // namespace wasmcap::component

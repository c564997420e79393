#include "bundle/jcs.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <string_view>
#include <system_error>
#include <vector>

namespace wasmcap::bundle {

namespace {

using Json = nlohmann::json;

tl::unexpected<Error> invalid(std::string message) {
  return make_error(ErrorCode::kInvalidArgument, "canonical JSON: " + std::move(message));
}

// Decodes UTF-8 into UTF-16 code units. Refuses overlong forms, surrogate code points and
// values beyond U+10FFFF: invalid text would canonicalize (and sort) differently per parser.
bool to_utf16(std::string_view s, std::u16string* out) {
  out->clear();
  size_t i = 0;
  while (i < s.size()) {
    auto b = static_cast<unsigned char>(s[i]);
    uint32_t cp = 0;
    size_t len = 0;
    if (b < 0x80) {
      cp = b;
      len = 1;
    } else if ((b & 0xE0) == 0xC0) {
      cp = b & 0x1F;
      len = 2;
    } else if ((b & 0xF0) == 0xE0) {
      cp = b & 0x0F;
      len = 3;
    } else if ((b & 0xF8) == 0xF0) {
      cp = b & 0x07;
      len = 4;
    } else {
      return false;
    }
    if (i + len > s.size()) return false;
    for (size_t k = 1; k < len; ++k) {
      auto c = static_cast<unsigned char>(s[i + k]);
      if ((c & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (c & 0x3F);
    }
    static constexpr uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < kMin[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    if (cp >= 0x10000) {
      cp -= 0x10000;
      out->push_back(static_cast<char16_t>(0xD800 + (cp >> 10)));
      out->push_back(static_cast<char16_t>(0xDC00 + (cp & 0x3FF)));
    } else {
      out->push_back(static_cast<char16_t>(cp));
    }
    i += len;
  }
  return true;
}

Result<void> append_string(std::string_view s, std::string* out) {
  std::u16string ignored;
  if (!to_utf16(s, &ignored)) return invalid("string is not valid UTF-8");
  static constexpr char kHex[] = "0123456789abcdef";
  out->push_back('"');
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"': *out += "\\\""; break;
      case '\\': *out += "\\\\"; break;
      case '\b': *out += "\\b"; break;
      case '\f': *out += "\\f"; break;
      case '\n': *out += "\\n"; break;
      case '\r': *out += "\\r"; break;
      case '\t': *out += "\\t"; break;
      default:
        if (c < 0x20) {
          *out += "\\u00";
          out->push_back(kHex[c >> 4]);
          out->push_back(kHex[c & 0xF]);
        } else {
          out->push_back(ch);  // everything else, non-ASCII included, is written as is
        }
    }
  }
  out->push_back('"');
  return {};
}

Result<void> append(const Json& v, std::string* out) {
  switch (v.type()) {
    case Json::value_t::null: *out += "null"; return {};
    case Json::value_t::boolean: *out += v.get<bool>() ? "true" : "false"; return {};
    case Json::value_t::string: return append_string(v.get_ref<const std::string&>(), out);
    case Json::value_t::number_unsigned: {
      uint64_t u = v.get<uint64_t>();
      if (u > kMaxExactInteger) return invalid("integer beyond 2^53 cannot be canonicalized exactly");
      *out += std::to_string(u);
      return {};
    }
    case Json::value_t::number_integer: {
      int64_t i = v.get<int64_t>();
      uint64_t mag = i < 0 ? 0 - static_cast<uint64_t>(i) : static_cast<uint64_t>(i);
      if (mag > kMaxExactInteger) return invalid("integer beyond 2^53 cannot be canonicalized exactly");
      *out += std::to_string(i);  // -0 does not exist among integers
      return {};
    }
    case Json::value_t::number_float: {
      std::string s;
      WASMCAP_TRY_ASSIGN(s, format_number(v.get<double>()));
      *out += s;
      return {};
    }
    case Json::value_t::array: {
      out->push_back('[');
      bool first = true;
      for (const auto& e : v) {
        if (!first) out->push_back(',');
        first = false;
        if (auto r = append(e, out); !r) return r;
      }
      out->push_back(']');
      return {};
    }
    case Json::value_t::object: {
      // nlohmann orders keys by UTF-8 bytes (code point order); RFC 8785 wants UTF-16 code unit
      // order, which differs for characters above U+FFFF versus U+E000..U+FFFF.
      std::vector<std::pair<std::u16string, const Json::object_t::value_type*>> members;
      members.reserve(v.size());
      for (const auto& kv : v.get_ref<const Json::object_t&>()) {
        std::u16string key;
        if (!to_utf16(kv.first, &key)) return invalid("object key is not valid UTF-8");
        members.emplace_back(std::move(key), &kv);
      }
      std::sort(members.begin(), members.end(),
                [](const auto& a, const auto& b) { return a.first < b.first; });
      out->push_back('{');
      bool first = true;
      for (const auto& m : members) {
        if (!first) out->push_back(',');
        first = false;
        if (auto r = append_string(m.second->first, out); !r) return r;
        out->push_back(':');
        if (auto r = append(m.second->second, out); !r) return r;
      }
      out->push_back('}');
      return {};
    }
    case Json::value_t::binary:
    case Json::value_t::discarded:
      break;
  }
  return invalid("value has no JSON form");
}

}  // namespace

Result<std::string> format_number(double d) {
  if (!std::isfinite(d)) return invalid("NaN and infinities have no JSON form");
  if (d == 0) return std::string("0");  // also -0 (ECMAScript prints both as "0")
  // Shortest round-trip digits (what ECMAScript's Number::toString picks), then ECMAScript's
  // layout rules for where the decimal point and exponent go.
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof buf, d, std::chars_format::scientific);
  if (res.ec != std::errc()) return invalid("number formatting failed");
  std::string_view sci(buf, static_cast<size_t>(res.ptr - buf));  // [-]d[.ddd]e±XX
  std::string out;
  if (sci.front() == '-') {
    out.push_back('-');
    sci.remove_prefix(1);
  }
  size_t e = sci.find('e');
  std::string digits;
  for (char c : sci.substr(0, e)) {
    if (c != '.') digits.push_back(c);
  }
  while (digits.size() > 1 && digits.back() == '0') digits.pop_back();
  int exp10 = 0;
  std::string_view es = sci.substr(e + 1);
  if (!es.empty() && es.front() == '+') es.remove_prefix(1);
  std::from_chars(es.data(), es.data() + es.size(), exp10);
  const int k = static_cast<int>(digits.size());
  const int n = exp10 + 1;  // value = 0.DIGITS × 10^n
  if (k <= n && n <= 21) {
    out += digits;
    out.append(static_cast<size_t>(n - k), '0');
  } else if (0 < n && n <= 21) {
    out += digits.substr(0, static_cast<size_t>(n));
    out.push_back('.');
    out += digits.substr(static_cast<size_t>(n));
  } else if (-6 < n && n <= 0) {
    out += "0.";
    out.append(static_cast<size_t>(-n), '0');
    out += digits;
  } else {
    out.push_back(digits[0]);
    if (k > 1) {
      out.push_back('.');
      out += digits.substr(1);
    }
    out.push_back('e');
    out.push_back(n - 1 >= 0 ? '+' : '-');
    out += std::to_string(n - 1 >= 0 ? n - 1 : 1 - n);
  }
  return out;
}

Result<std::string> canonicalize(const nlohmann::json& value) {
  std::string out;
  WASMCAP_TRY(append(value, &out));
  return out;
}

}  // namespace wasmcap::bundle

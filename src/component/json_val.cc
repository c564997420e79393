// Component values <-> JSON (json_val.h; the table is docs/components.md, "Values as JSON").
//
// Both directions walk the WIT type, never the JSON: recursion is bounded by the type's depth
// (the decoder's kMaxValTypeDepth), and a JSON value nested deeper than its type is simply the
// wrong kind at the type's leaf. JSON nesting is still checked against max_depth before an array's
// or object's elements are read, so the bound holds whatever a caller passes. Every JSON value
// visited and every byte of string copied is counted against the options' bounds before the
// memory is taken (a list's length is checked before its elements are reserved).
#include "component/json_val.h"

#include <sodium.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>

#include "common/json.h"
#include "common/utf8.h"
#include "component/runtime.h"
#include "component/val_rules.h"

namespace wasmcap::component {
namespace {

using Json = nlohmann::json;
using val_rules::bad;
using val_rules::Budget;
using val_rules::find_field;
using val_rules::is_option;
using val_rules::kF32Overflow;
using val_rules::names_of;

bool is_byte_list(const Decoded& d, const TypeDef& t) {
  if (t.kind != TypeKind::kList) return false;
  Ty e = resolve(d, t.a);
  return e.prim && e.p == Prim::kU8;
}
// Integer ranges: [lo, hi] as (negative, magnitude) bounds.
struct IntRange {
  uint64_t neg_max;  // the largest magnitude of a negative value (0: unsigned)
  uint64_t pos_max;
  bool wide;         // s64/u64: beyond kJsonMaxSafeInteger only as decimal strings
};
IntRange int_range(Prim p) {
  switch (p) {
    case Prim::kS8: return {128, 127, false};
    case Prim::kU8: return {0, 0xff, false};
    case Prim::kS16: return {32768, 32767, false};
    case Prim::kU16: return {0, 0xffff, false};
    case Prim::kS32: return {uint64_t{1} << 31, (uint64_t{1} << 31) - 1, false};
    case Prim::kU32: return {0, 0xffffffffu, false};
    case Prim::kS64: return {uint64_t{1} << 63, (uint64_t{1} << 63) - 1, true};
    default: return {0, UINT64_MAX, true};
  }
}

std::string range_text(Prim p) {
  IntRange r = int_range(p);
  std::string lo = r.neg_max ? "-" + std::to_string(r.neg_max) : "0";
  if (!r.wide) return "an integer " + lo + ".." + std::to_string(r.pos_max);
  std::string safe = std::to_string(kJsonMaxSafeInteger);
  return "an integer " + (r.neg_max ? "-" + safe : std::string("0")) + ".." + safe + ", or a decimal string " + lo +
         ".." + std::to_string(r.pos_max);
}

// The code points of valid UTF-8 (checked first): how many, and the first.
size_t code_points(const std::string& s, uint32_t* first) {
  size_t n = 0;
  for (size_t i = 0; i < s.size();) {
    auto c = static_cast<uint8_t>(s[i]);
    size_t len = c < 0x80 ? 1 : (c & 0xe0) == 0xc0 ? 2 : (c & 0xf0) == 0xe0 ? 3 : 4;
    if (n == 0) {
      uint32_t cp = len == 1 ? c : len == 2 ? (c & 0x1f) : len == 3 ? (c & 0x0f) : (c & 0x07);
      for (size_t k = 1; k < len; ++k) cp = cp << 6 | (static_cast<uint8_t>(s[i + k]) & 0x3f);
      *first = cp;
    }
    ++n;
    i += len;
  }
  return n;
}
bool utf8_ok(const std::string& s) { return valid_utf8(reinterpret_cast<const uint8_t*>(s.data()), s.size()); }

// A short description of an untrusted JSON value for messages.
std::string describe(const Json& j) {
  switch (j.type()) {
    case Json::value_t::null: return "null";
    case Json::value_t::boolean: return j.get<bool>() ? "true" : "false";
    case Json::value_t::number_integer:
    case Json::value_t::number_unsigned:
    case Json::value_t::number_float: {
      if (j.is_number_float() && !std::isfinite(j.get<double>())) return "a non-finite number";
      return j.dump();
    }
    case Json::value_t::string: {
      const std::string& s = j.get_ref<const std::string&>();
      return "the string " + json::quote(s);
    }
    case Json::value_t::array: return "an array of " + std::to_string(j.size()) + " elements";
    case Json::value_t::object: return "an object";
    default: return "a value that is not JSON";
  }
}

// ---- JSON -> Val ----

struct In {
  const Decoded& d;
  Budget b;

  Result<Val> conv(ValType t, const Json& j, const std::string& path, size_t depth);

  tl::unexpected<Error> expected(const std::string& path, const std::string& what, const Json& j) {
    return tl::unexpected(bad(path, "expected " + what + ", got " + describe(j)));
  }

  // An integer of primitive p: a JSON number (integral, within range; for s64/u64 within
  // kJsonMaxSafeInteger) or, for s64/u64, a canonical decimal string.
  Result<Val> integer(Prim p, const Json& j, const std::string& path) {
    const IntRange r = int_range(p);
    const std::string what = std::string(prim_name(p)) + " (" + range_text(p) + ")";
    bool neg = false;
    uint64_t mag = 0;
    bool from_number = true;
    if (j.is_number_unsigned()) {
      mag = j.get<uint64_t>();
    } else if (j.is_number_integer()) {
      int64_t v = j.get<int64_t>();
      neg = v < 0;
      mag = neg ? uint64_t{0} - static_cast<uint64_t>(v) : static_cast<uint64_t>(v);
    } else if (j.is_number_float()) {
      // 1.0 and 1e2 are integers (JSON Schema's "integer" is the mathematical value); -0.0 is 0.
      double f = j.get<double>();
      if (!std::isfinite(f) || std::floor(f) != f || std::fabs(f) > static_cast<double>(kJsonMaxSafeInteger)) {
        return expected(path, what, j);
      }
      neg = f < 0;
      mag = static_cast<uint64_t>(std::fabs(f));
    } else if (j.is_string() && r.wide) {
      from_number = false;
      const std::string& s = j.get_ref<const std::string&>();
      size_t i = 0;
      if (!s.empty() && s[0] == '-' && r.neg_max != 0) neg = true, i = 1;
      // Canonical decimal only: no sign on positives, no leading zeros, no "-0", at most 20 digits.
      if (i == s.size() || s.size() - i > 20 || (s[i] == '0' && (s.size() - i > 1 || neg))) return expected(path, what, j);
      for (; i < s.size(); ++i) {
        if (s[i] < '0' || s[i] > '9') return expected(path, what, j);
        const uint64_t digit = static_cast<uint64_t>(s[i] - '0');
        if (mag > (UINT64_MAX - digit) / 10) return expected(path, what, j);
        mag = mag * 10 + digit;
      }
    } else {
      return expected(path, what, j);
    }
    if (mag == 0) neg = false;
    if (neg ? mag > r.neg_max : mag > r.pos_max) return expected(path, what, j);
    if (from_number && r.wide && mag > kJsonMaxSafeInteger) {
      return tl::unexpected(bad(path, std::string("expected ") + prim_name(p) + " (" + range_text(p) + "), got " +
                                          describe(j) + ": beyond " + std::to_string(kJsonMaxSafeInteger) +
                                          " a JSON number may have been rounded; give it as a decimal string"));
    }
    return int_val(p, neg ? uint64_t{0} - mag : mag);
  }

  // f32/f64: a finite JSON number (f32: rounded to nearest, refused when that is infinite), or
  // one of the strings "NaN", "Infinity", "-Infinity".
  Result<Val> floating(Prim p, const Json& j, const std::string& path) {
    const bool f32 = p == Prim::kF32;
    const std::string what = std::string(prim_name(p)) +
                             (f32 ? " (a number of magnitude below 3.4028235677973366e38" : " (a number") +
                             ", or \"NaN\", \"Infinity\", \"-Infinity\")";
    double x = 0;
    if (j.is_number()) {
      x = j.get<double>();
      if (!std::isfinite(x) || (f32 && std::fabs(x) >= kF32Overflow)) return expected(path, what, j);
    } else if (j.is_string()) {
      const std::string& s = j.get_ref<const std::string&>();
      if (s == "NaN") x = std::numeric_limits<double>::quiet_NaN();
      else if (s == "Infinity") x = std::numeric_limits<double>::infinity();
      else if (s == "-Infinity") x = -std::numeric_limits<double>::infinity();
      else return expected(path, what, j);
    } else {
      return expected(path, what, j);
    }
    if (f32) return Val::f32(static_cast<float>(x));
    return Val::f64(x);
  }

  Result<const std::string*> string_of(const Json& j, const std::string& path, const std::string& what) {
    if (!j.is_string()) return expected(path, what, j);
    const std::string& s = j.get_ref<const std::string&>();
    // nlohmann's parser only makes valid UTF-8, but a value built in code may hold any bytes.
    if (!utf8_ok(s)) return tl::unexpected(bad(path, "expected " + what + ", got a string that is not valid UTF-8"));
    WASMCAP_TRY(b.take(path, s.size()));
    return &s;
  }

  Result<Val> bytes(const Json& j, const std::string& path) {
    const std::string what = "list<u8> (a base64 string: RFC 4648 standard alphabet, padded)";
    const std::string* s = nullptr;
    WASMCAP_TRY_ASSIGN(s, string_of(j, path, what));
    const size_t cap = s->size() / 4 * 3;
    WASMCAP_TRY(b.node(path, cap));
    std::vector<unsigned char> raw(cap + 1);  // never empty: libsodium is not handed a null buffer
    size_t n = 0;
    const char* end = nullptr;
    // libsodium's decoder refuses a wrong alphabet, missing padding and non-zero bits after the
    // last byte (so each byte string has one spelling); `end` catches text after the padding.
    // (An empty string is the empty list: libsodium is not handed a null buffer for it.)
    if (!s->empty() &&
        (sodium_base642bin(raw.data(), raw.size(), s->data(), s->size(), nullptr, &n, &end,
                           sodium_base64_VARIANT_ORIGINAL) != 0 ||
         end != s->data() + s->size())) {
      return tl::unexpected(bad(path, "expected " + what + ", got " + describe(j) + ": not canonical base64"));
    }
    std::vector<Val> items;
    items.reserve(n);
    for (size_t i = 0; i < n; ++i) items.push_back(Val::u8(raw[i]));
    return Val::list(std::move(items));
  }

  // Members of an object checked against `allowed`; returns the member's path on the first other.
  Result<void> only_keys(const Json& j, const std::string& path, std::initializer_list<std::string_view> allowed,
                         const std::string& what) {
    for (auto it = j.begin(); it != j.end(); ++it) {
      bool ok = false;
      for (std::string_view a : allowed) ok = ok || it.key() == a;
      if (!ok) return tl::unexpected(bad(json::member_path(path, it.key()), "unknown key (" + what + ")"));
    }
    return {};
  }
};

Result<Val> In::conv(ValType vt, const Json& j, const std::string& path, size_t depth) {
  WASMCAP_TRY(b.node(path));
  const Ty t = resolve(d, vt);
  if (t.prim) {
    switch (t.p) {
      case Prim::kBool:
        if (!j.is_boolean()) return expected(path, "bool (true or false)", j);
        return Val::boolean(j.get<bool>());
      case Prim::kF32: case Prim::kF64: return floating(t.p, j, path);
      case Prim::kChar: {
        const std::string what = "char (a string of one Unicode scalar value)";
        const std::string* s = nullptr;
        WASMCAP_TRY_ASSIGN(s, string_of(j, path, what));
        uint32_t cp = 0;
        if (code_points(*s, &cp) != 1) return expected(path, what, j);
        return Val::character(cp);
      }
      case Prim::kString: {
        const std::string* s = nullptr;
        WASMCAP_TRY_ASSIGN(s, string_of(j, path, "string"));
        return Val::string(*s);
      }
      default: return integer(t.p, j, path);
    }
  }
  const TypeDef& def = *t.def;
  switch (def.kind) {
    case TypeKind::kList: {
      if (is_byte_list(d, def)) return bytes(j, path);
      if (!j.is_array()) return expected(path, "list (an array)", j);
      WASMCAP_TRY(b.enter(path, depth));
      // Every element is at least one value: a list longer than the bound left is refused here.
      WASMCAP_TRY(b.fits(path, j.size()));
      std::vector<Val> items;
      items.reserve(j.size());
      for (size_t i = 0; i < j.size(); ++i) {
        Val e{};
        WASMCAP_TRY_ASSIGN(e, conv(def.a, j[i], json::index_path(path, i), depth + 1));
        items.push_back(std::move(e));
      }
      return Val::list(std::move(items));
    }
    case TypeKind::kTuple: {
      const size_t n = def.fields.size();
      const std::string what = "tuple (an array of " + std::to_string(n) + " elements)";
      if (!j.is_array() || j.size() != n) return expected(path, what, j);
      WASMCAP_TRY(b.enter(path, depth));
      std::vector<Val> items;
      for (size_t i = 0; i < n; ++i) {
        Val e{};
        WASMCAP_TRY_ASSIGN(e, conv(def.fields[i].type, j[i], json::index_path(path, i), depth + 1));
        items.push_back(std::move(e));
      }
      return Val::tuple(std::move(items));
    }
    case TypeKind::kRecord: {
      if (!j.is_object()) return expected(path, "record (an object with the fields " + names_of(def.fields) + ")", j);
      WASMCAP_TRY(b.enter(path, depth));
      for (auto it = j.begin(); it != j.end(); ++it) {
        if (find_field(def.fields, it.key()) < 0) {
          return tl::unexpected(bad(json::member_path(path, it.key()),
                                    "unknown field (the record's fields: " + names_of(def.fields) + ")"));
        }
      }
      std::vector<Val> items;
      for (const Field& f : def.fields) {
        auto it = j.find(f.name);
        if (it == j.end()) {
          // An option field left out is none (as a parameter of that type is, json_to_args).
          if (is_option(d, f.type)) {
            items.push_back(Val::none());
            continue;
          }
          return tl::unexpected(bad(path, "missing field " + f.name));
        }
        Val e{};
        WASMCAP_TRY_ASSIGN(e, conv(f.type, *it, json::member_path(path, f.name), depth + 1));
        items.push_back(std::move(e));
      }
      return Val::record(std::move(items));
    }
    case TypeKind::kVariant: {
      const std::string what = "variant (an object {\"tag\": case, \"val\": payload}, cases " + names_of(def.fields) + ")";
      if (!j.is_object()) return expected(path, what, j);
      WASMCAP_TRY(b.enter(path, depth));
      WASMCAP_TRY(only_keys(j, path, {"tag", "val"}, "a variant has \"tag\" and \"val\""));
      auto tag = j.find("tag");
      if (tag == j.end()) return tl::unexpected(bad(path, "missing \"tag\" (" + what + ")"));
      const std::string tpath = json::member_path(path, "tag");
      WASMCAP_TRY(b.node(tpath));
      const int c = tag->is_string() ? find_field(def.fields, tag->get_ref<const std::string&>()) : -1;
      if (c < 0) return tl::unexpected(bad(tpath, "expected a case of " + names_of(def.fields) + ", got " + describe(*tag)));
      const Field& f = def.fields[static_cast<size_t>(c)];
      auto val = j.find("val");
      if (!f.has_type) {
        if (val != j.end()) return tl::unexpected(bad(json::member_path(path, "val"), "case " + f.name + " has no payload"));
        return Val::variant(static_cast<uint32_t>(c));
      }
      if (val == j.end()) return tl::unexpected(bad(path, "case " + f.name + " needs its payload in \"val\""));
      Val p{};
      WASMCAP_TRY_ASSIGN(p, conv(f.type, *val, json::member_path(path, "val"), depth + 1));
      return Val::variant(static_cast<uint32_t>(c), std::move(p));
    }
    case TypeKind::kEnum: {
      const std::string what = "enum (one of " + names_of(def.fields) + ")";
      const int c = j.is_string() ? find_field(def.fields, j.get_ref<const std::string&>()) : -1;
      if (c < 0) return expected(path, what, j);
      return Val::enumeration(static_cast<uint32_t>(c));
    }
    case TypeKind::kFlags: {
      const std::string what = "flags (an array of distinct labels of " + names_of(def.fields) + ")";
      if (!j.is_array()) return expected(path, what, j);
      WASMCAP_TRY(b.enter(path, depth));
      uint32_t set = 0;
      for (size_t i = 0; i < j.size(); ++i) {
        const std::string ipath = json::index_path(path, i);
        WASMCAP_TRY(b.node(ipath));
        const int c = j[i].is_string() ? find_field(def.fields, j[i].get_ref<const std::string&>()) : -1;
        if (c < 0) return tl::unexpected(bad(ipath, "expected a label of " + names_of(def.fields) + ", got " + describe(j[i])));
        const uint32_t bit = uint32_t{1} << c;
        if (set & bit) return tl::unexpected(bad(ipath, "flag " + def.fields[static_cast<size_t>(c)].name + " given twice"));
        set |= bit;
      }
      return Val::flags(set);
    }
    case TypeKind::kOption: {
      if (j.is_null()) return Val::none();
      if (!is_option(d, def.a)) {
        Val p{};
        WASMCAP_TRY_ASSIGN(p, conv(def.a, j, path, depth));
        return Val::some(std::move(p));
      }
      // option<option<T>>: null would not tell none from some(none), so some is {"some": v}.
      const std::string what = "option of an option (null, or {\"some\": value})";
      if (!j.is_object() || j.size() != 1 || !j.contains("some")) return expected(path, what, j);
      WASMCAP_TRY(b.enter(path, depth));
      Val p{};
      WASMCAP_TRY_ASSIGN(p, conv(def.a, j["some"], json::member_path(path, "some"), depth + 1));
      return Val::some(std::move(p));
    }
    case TypeKind::kResult: {
      const std::string what = "result (an object {\"ok\": value} or {\"err\": value})";
      if (!j.is_object() || j.size() != 1 || !(j.contains("ok") || j.contains("err"))) return expected(path, what, j);
      WASMCAP_TRY(b.enter(path, depth));
      const bool is_ok = j.contains("ok");
      const std::string key = is_ok ? "ok" : "err";
      const std::string ppath = json::member_path(path, key);
      const Json& payload = j[key];
      const bool has = is_ok ? def.has_a : def.has_b;
      if (!has) {
        WASMCAP_TRY(b.node(ppath));
        if (!payload.is_null()) return expected(ppath, "null (the " + key + " case has no payload)", payload);
        return is_ok ? Val::ok() : Val::err();
      }
      Val p{};
      WASMCAP_TRY_ASSIGN(p, conv(is_ok ? def.a : def.b, payload, ppath, depth + 1));
      return is_ok ? Val::ok(std::move(p)) : Val::err(std::move(p));
    }
    case TypeKind::kOwn: case TypeKind::kBorrow:
      return tl::unexpected(bad(path, std::string(def.kind == TypeKind::kOwn ? "own" : "borrow") +
                                          "<R>: resource handles cannot be given as JSON (the JSON mapping "
                                          "does not take resources yet)"));
    default:
      return tl::unexpected(bad(path, "not a value type"));
  }
}

// ---- Val -> JSON ----

// The shortest decimal that reads back as the same f32, as a JSON number: 0.1f is 0.1, not
// 0.10000000149011612 (its double). Read back as f32 (json_to_val rounds to nearest) it is the same.
Json f32_json(float f) {
  char buf[32];
  for (int prec = 1; prec <= 9; ++prec) {
    std::snprintf(buf, sizeof buf, "%.*g", prec, static_cast<double>(f));
    const double dv = std::strtod(buf, nullptr);
    if (std::strtof(buf, nullptr) == f && static_cast<float>(dv) == f) return Json(dv);
  }
  return Json(static_cast<double>(f));
}

struct Out {
  const Decoded& d;
  Budget b;

  Result<Json> conv(ValType t, const Val& v, const std::string& path, size_t depth);

  tl::unexpected<Error> mismatch(const std::string& path, const std::string& why) {
    return tl::unexpected(bad(path, "the value does not have its type: " + why));
  }
  Result<Json> str(const std::string& s, const std::string& path) {
    if (!utf8_ok(s)) return tl::unexpected(bad(path, "a string that is not valid UTF-8"));
    WASMCAP_TRY(b.take(path, s.size()));
    return Json(s);
  }
};

Result<Json> Out::conv(ValType vt, const Val& v, const std::string& path, size_t depth) {
  WASMCAP_TRY(b.node(path));
  const Ty t = resolve(d, vt);
  const ValKind want = kind_of(t);
  if (v.kind != want) {
    return mismatch(path, std::string("a ") + val_kind_name(v.kind) + " for a " + val_kind_name(want));
  }
  if (t.prim) {
    switch (t.p) {
      case Prim::kBool: return Json(v.bits != 0);
      case Prim::kF32: case Prim::kF64: {
        if (std::isnan(v.f)) return Json("NaN");
        if (std::isinf(v.f)) return Json(v.f > 0 ? "Infinity" : "-Infinity");
        return t.p == Prim::kF32 ? f32_json(static_cast<float>(v.f)) : Json(v.f);
      }
      case Prim::kChar: {
        if (!utf8::is_scalar_value(v.bits)) {
          return mismatch(path, "char " + std::to_string(v.bits) + " is not a Unicode scalar value");
        }
        std::string s;
        const auto cp = static_cast<uint32_t>(v.bits);
        if (cp < 0x80) {
          s += static_cast<char>(cp);
        } else if (cp < 0x800) {
          s += static_cast<char>(0xc0 | cp >> 6);
          s += static_cast<char>(0x80 | (cp & 0x3f));
        } else if (cp < 0x10000) {
          s += static_cast<char>(0xe0 | cp >> 12);
          s += static_cast<char>(0x80 | (cp >> 6 & 0x3f));
          s += static_cast<char>(0x80 | (cp & 0x3f));
        } else {
          s += static_cast<char>(0xf0 | cp >> 18);
          s += static_cast<char>(0x80 | (cp >> 12 & 0x3f));
          s += static_cast<char>(0x80 | (cp >> 6 & 0x3f));
          s += static_cast<char>(0x80 | (cp & 0x3f));
        }
        return str(s, path);
      }
      case Prim::kString: return str(v.str, path);
      default: break;
    }
    // Integers: in range for their type (a host-built Val may hold any bits), numbers within
    // kJsonMaxSafeInteger, decimal strings beyond.
    const IntRange r = int_range(t.p);
    const bool is_signed = r.neg_max != 0;
    const int64_t s = v.as_signed();
    const bool neg = is_signed && s < 0;
    const uint64_t mag = neg ? uint64_t{0} - v.bits : v.bits;
    if (neg ? mag > r.neg_max : mag > r.pos_max) return mismatch(path, std::string(prim_name(t.p)) + " out of range");
    if (mag > kJsonMaxSafeInteger) return Json(neg ? std::to_string(s) : std::to_string(v.bits));
    return neg ? Json(s) : Json(v.bits);
  }
  const TypeDef& def = *t.def;
  switch (def.kind) {
    case TypeKind::kList: {
      if (is_byte_list(d, def)) {
        std::vector<unsigned char> raw;
        raw.reserve(v.items.size() + 1);  // data() never null, even for an empty list
        for (const Val& e : v.items) {
          if (e.kind != ValKind::kU8 || e.bits > 0xff) return mismatch(path, "a list<u8> element is not a u8");
          raw.push_back(static_cast<unsigned char>(e.bits));
        }
        const size_t len = sodium_base64_ENCODED_LEN(raw.size(), sodium_base64_VARIANT_ORIGINAL);
        WASMCAP_TRY(b.take(path, len));
        std::string out(len, '\0');
        sodium_bin2base64(out.data(), len, raw.data(), raw.size(), sodium_base64_VARIANT_ORIGINAL);
        out.resize(len - 1);  // the terminating NUL
        return Json(std::move(out));
      }
      WASMCAP_TRY(b.enter(path, depth));
      WASMCAP_TRY(b.fits(path, v.items.size()));
      Json a = Json::array();
      for (size_t i = 0; i < v.items.size(); ++i) {
        Json e;
        WASMCAP_TRY_ASSIGN(e, conv(def.a, v.items[i], json::index_path(path, i), depth + 1));
        a.push_back(std::move(e));
      }
      return a;
    }
    case TypeKind::kTuple: case TypeKind::kRecord: {
      if (v.items.size() != def.fields.size()) {
        return mismatch(path, std::to_string(v.items.size()) + " fields for " + std::to_string(def.fields.size()));
      }
      WASMCAP_TRY(b.enter(path, depth));
      const bool rec = def.kind == TypeKind::kRecord;
      Json o = rec ? Json::object() : Json::array();
      for (size_t i = 0; i < def.fields.size(); ++i) {
        const std::string fpath = rec ? json::member_path(path, def.fields[i].name) : json::index_path(path, i);
        Json e;
        WASMCAP_TRY_ASSIGN(e, conv(def.fields[i].type, v.items[i], fpath, depth + 1));
        if (rec) o[def.fields[i].name] = std::move(e);
        else o.push_back(std::move(e));
      }
      return o;
    }
    case TypeKind::kEnum:
      if (v.bits >= def.fields.size() || !v.items.empty()) return mismatch(path, "enum case out of range");
      return Json(def.fields[v.bits].name);
    case TypeKind::kFlags: {
      if (def.fields.size() < 32 && v.bits >= (uint64_t{1} << def.fields.size())) {
        return mismatch(path, "flags beyond the labels");
      }
      WASMCAP_TRY(b.enter(path, depth));
      Json a = Json::array();
      for (size_t i = 0; i < def.fields.size(); ++i) {
        if (v.bits >> i & 1) {
          WASMCAP_TRY(b.node(path));
          a.push_back(def.fields[i].name);
        }
      }
      return a;
    }
    case TypeKind::kVariant: {
      if (v.bits >= def.fields.size()) return mismatch(path, "variant case out of range");
      const Field& f = def.fields[v.bits];
      if (v.items.size() != (f.has_type ? 1u : 0u)) return mismatch(path, "payload does not match case " + f.name);
      WASMCAP_TRY(b.enter(path, depth));
      Json o = Json::object();
      o["tag"] = f.name;
      if (f.has_type) {
        Json p;
        WASMCAP_TRY_ASSIGN(p, conv(f.type, v.items[0], json::member_path(path, "val"), depth + 1));
        o["val"] = std::move(p);
      }
      return o;
    }
    case TypeKind::kOption: {
      if (v.bits > 1 || v.items.size() != v.bits) return mismatch(path, "an option's payload does not match its case");
      if (v.bits == 0) return Json(nullptr);
      if (!is_option(d, def.a)) return conv(def.a, v.items[0], path, depth);
      WASMCAP_TRY(b.enter(path, depth));
      Json p;
      WASMCAP_TRY_ASSIGN(p, conv(def.a, v.items[0], json::member_path(path, "some"), depth + 1));
      Json o = Json::object();
      o["some"] = std::move(p);
      return o;
    }
    case TypeKind::kResult: {
      const bool is_ok = v.bits == 0;
      const bool has = is_ok ? def.has_a : def.has_b;
      if (v.bits > 1 || v.items.size() != (has ? 1u : 0u)) return mismatch(path, "a result's payload does not match its case");
      WASMCAP_TRY(b.enter(path, depth));
      const std::string key = is_ok ? "ok" : "err";
      Json p;
      if (has) WASMCAP_TRY_ASSIGN(p, conv(is_ok ? def.a : def.b, v.items[0], json::member_path(path, key), depth + 1));
      Json o = Json::object();
      o[key] = std::move(p);
      return o;
    }
    case TypeKind::kOwn: case TypeKind::kBorrow:
      return tl::unexpected(bad(path, "resource handles cannot be given as JSON (the JSON mapping does not take "
                                      "resources yet)"));
    default:
      return tl::unexpected(bad(path, "not a value type"));
  }
}

// ---- JSON Schema ----

// A regular expression for the canonical decimals 1..max (max: digits, no leading zero): the
// shorter numbers, then per position the numbers agreeing with max up to it and smaller there.
std::string decimal_up_to(const std::string& max) {
  const size_t k = max.size();
  std::string alts;
  auto add = [&](const std::string& a) {
    if (!alts.empty()) alts += '|';
    alts += a;
  };
  if (k >= 2) add("[1-9][0-9]{0," + std::to_string(k - 2) + "}");
  for (size_t i = 0; i < k; ++i) {
    const int lo = i == 0 ? 1 : 0;
    const int hi = max[i] - '0' - 1;
    if (hi < lo) continue;
    std::string a = max.substr(0, i);
    if (lo == hi) {
      a += static_cast<char>('0' + lo);
    } else {
      a += '[';
      a += static_cast<char>('0' + lo);
      a += '-';
      a += static_cast<char>('0' + hi);
      a += ']';
    }
    if (k - i - 1 > 0) {
      a += "[0-9]{";
      a += std::to_string(k - i - 1);
      a += '}';
    }
    add(a);
  }
  add(max);
  return "(?:" + alts + ")";
}

Json int_schema(Prim p) {
  const IntRange r = int_range(p);
  if (!r.wide) {
    return Json{{"type", "integer"}, {"minimum", -static_cast<int64_t>(r.neg_max)}, {"maximum", r.pos_max}};
  }
  const auto safe = static_cast<int64_t>(kJsonMaxSafeInteger);
  Json number{{"type", "integer"}, {"minimum", r.neg_max ? -safe : 0}, {"maximum", safe}};
  std::string pattern = "^(?:0|" + decimal_up_to(std::to_string(r.pos_max));
  if (r.neg_max) pattern += "|-" + decimal_up_to(std::to_string(r.neg_max));
  pattern += ")$";
  return Json{{"anyOf", Json::array({number, Json{{"type", "string"}, {"pattern", pattern}}})}};
}

Json schema_of(const Decoded& d, ValType vt) {
  const Ty t = resolve(d, vt);
  if (t.prim) {
    switch (t.p) {
      case Prim::kBool: return Json{{"type", "boolean"}};
      case Prim::kF32: case Prim::kF64: {
        Json number{{"type", "number"}};
        if (t.p == Prim::kF32) number["exclusiveMinimum"] = -kF32Overflow, number["exclusiveMaximum"] = kF32Overflow;
        return Json{{"anyOf", Json::array({number, Json{{"enum", Json::array({"NaN", "Infinity", "-Infinity"})}}})}};
      }
      case Prim::kChar: return Json{{"type", "string"}, {"minLength", 1}, {"maxLength", 1}};
      case Prim::kString: return Json{{"type", "string"}};
      default: return int_schema(t.p);
    }
  }
  const TypeDef& def = *t.def;
  auto names = [&] {
    Json a = Json::array();
    for (const Field& f : def.fields) a.push_back(f.name);
    return a;
  };
  switch (def.kind) {
    case TypeKind::kList:
      if (is_byte_list(d, def)) {
        // Canonical base64: whole quanta, then an optional padded one whose unused bits are zero.
        return Json{{"type", "string"},
                    {"contentEncoding", "base64"},
                    {"pattern", "^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/][AQgw]==|[A-Za-z0-9+/]{2}[AEIMQUYcgkosw048]=)?$"}};
      }
      return Json{{"type", "array"}, {"items", schema_of(d, def.a)}};
    case TypeKind::kTuple: {
      Json items = Json::array();
      for (const Field& f : def.fields) items.push_back(schema_of(d, f.type));
      Json s{{"type", "array"}, {"items", false}, {"minItems", def.fields.size()}, {"maxItems", def.fields.size()}};
      if (!def.fields.empty()) s["prefixItems"] = std::move(items);
      return s;
    }
    case TypeKind::kRecord: {
      Json props = Json::object();
      Json required = Json::array();
      for (const Field& f : def.fields) {
        props[f.name] = schema_of(d, f.type);
        if (!is_option(d, f.type)) required.push_back(f.name);
      }
      return Json{{"type", "object"}, {"properties", props}, {"required", required}, {"additionalProperties", false}};
    }
    case TypeKind::kVariant: {
      Json cases = Json::array();
      for (const Field& f : def.fields) {
        Json props{{"tag", Json{{"const", f.name}}}};
        Json required = Json::array({"tag"});
        if (f.has_type) props["val"] = schema_of(d, f.type), required.push_back("val");
        cases.push_back(Json{{"type", "object"}, {"properties", props}, {"required", required}, {"additionalProperties", false}});
      }
      return Json{{"oneOf", cases}};
    }
    case TypeKind::kEnum: return Json{{"type", "string"}, {"enum", names()}};
    case TypeKind::kFlags: {
      if (def.fields.empty()) return Json{{"type", "array"}, {"maxItems", 0}};
      return Json{{"type", "array"}, {"items", Json{{"enum", names()}}}, {"uniqueItems", true}};
    }
    case TypeKind::kOption: {
      Json some = schema_of(d, def.a);
      if (is_option(d, def.a)) {
        some = Json{{"type", "object"}, {"properties", Json{{"some", some}}}, {"required", Json::array({"some"})},
                    {"additionalProperties", false}};
      }
      return Json{{"anyOf", Json::array({Json{{"type", "null"}}, some})}};
    }
    case TypeKind::kResult: {
      auto side = [&](const char* key, bool has, ValType pt) {
        Json p = has ? schema_of(d, pt) : Json{{"type", "null"}};
        return Json{{"type", "object"}, {"properties", Json{{key, p}}}, {"required", Json::array({key})},
                    {"additionalProperties", false}};
      };
      return Json{{"oneOf", Json::array({side("ok", def.has_a, def.a), side("err", def.has_b, def.b)})}};
    }
    default:
      return Json(false);  // resources (and anything that is not a value type): nothing is accepted
  }
}

}  // namespace

Result<Val> json_to_val(const Decoded& d, ValType t, const Json& j, const JsonValOptions& o) {
  In in{d, Budget{o, "JSON values"}};
  return in.conv(t, j, o.path, 0);
}

Result<Json> val_to_json(const Decoded& d, ValType t, const Val& v, const JsonValOptions& o) {
  Out out{d, Budget{o, "JSON values"}};
  return out.conv(t, v, o.path, 0);
}

Result<std::vector<Val>> json_to_args(const Decoded& d, const TypeDef& func, const Json& args,
                                      const JsonValOptions& o) {
  In in{d, Budget{o, "JSON values"}};
  const std::string& path = o.path;
  if (!args.is_object()) {
    return tl::unexpected(bad(path, "expected an object of the function's parameters (" + names_of(func.fields) +
                                        "), got " + describe(args)));
  }
  WASMCAP_TRY(in.b.node(path));
  WASMCAP_TRY(in.b.enter(path, 0));
  for (auto it = args.begin(); it != args.end(); ++it) {
    if (find_field(func.fields, it.key()) < 0) {
      return tl::unexpected(bad(json::member_path(path, it.key()),
                                func.fields.empty() ? std::string("unknown parameter (the function takes none: {})")
                                                    : "unknown parameter (the function's parameters: " +
                                                          names_of(func.fields) + ")"));
    }
  }
  std::vector<Val> out;
  for (const Field& f : func.fields) {
    auto it = args.find(f.name);
    if (it == args.end()) {
      if (is_option(d, f.type)) {
        out.push_back(Val::none());
        continue;
      }
      return tl::unexpected(bad(path, "missing parameter " + f.name));
    }
    Val v{};
    WASMCAP_TRY_ASSIGN(v, in.conv(f.type, *it, json::member_path(path, f.name), 1));
    out.push_back(std::move(v));
  }
  return out;
}

Result<Json> results_to_json(const Decoded& d, const TypeDef& func, const std::vector<Val>& results,
                             const JsonValOptions& o) {
  if (results.size() != (func.has_a ? 1u : 0u)) {
    return tl::unexpected(bad(o.path, std::to_string(results.size()) + " results for a function with " +
                                          (func.has_a ? "one" : "none")));
  }
  if (!func.has_a) return Json(nullptr);
  return val_to_json(d, func.a, results[0], o);
}

Result<Json> parse_json_value(std::string_view text, const JsonValOptions& o) {
  json::Limits limits{static_cast<size_t>(o.max_bytes), o.max_depth, /*unique_keys=*/true};
  auto r = json::parse(text, limits);
  if (!r) return tl::unexpected(Error{ErrorCode::kInvalidArgument, r.error().to_string()});
  return std::move(*r);
}

Json json_schema(const Decoded& d, ValType t) {
  Json s = schema_of(d, t);
  if (s.is_object()) s["$schema"] = "https://json-schema.org/draft/2020-12/schema";
  return s;
}

Json params_schema(const Decoded& d, const TypeDef& func) {
  Json props = Json::object();
  Json required = Json::array();
  for (const Field& f : func.fields) {
    props[f.name] = schema_of(d, f.type);
    if (!is_option(d, f.type)) required.push_back(f.name);
  }
  return Json{{"$schema", "https://json-schema.org/draft/2020-12/schema"},
              {"type", "object"},
              {"properties", props},
              {"required", required},
              {"additionalProperties", false}};
}

Json result_schema(const Decoded& d, const TypeDef& func) {
  if (!func.has_a) return Json{{"$schema", "https://json-schema.org/draft/2020-12/schema"}, {"type", "null"}};
  return json_schema(d, func.a);
}

}  // namespace wasmcap::component

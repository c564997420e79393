// Component values <-> WAVE text (wave.h; docs/components.md, "WAVE").
#include "component/wave.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <optional>

#include "common/utf8.h"
#include "component/runtime.h"

namespace wasmcap::component {
namespace {

constexpr size_t kMaxQuoted = 40;  // bytes of the text quoted in an error

// One UTF-8 scalar value at s[i] (advancing i); false for anything that is not one (overlong,
// surrogate, beyond U+10FFFF, truncated).
bool utf8_next(std::string_view s, size_t& i, uint32_t* cp) {
  if (i >= s.size()) return false;
  const utf8::Char c = utf8::decode(s, i);
  if (!c.valid) return false;
  i += c.len;
  *cp = c.value;
  return true;
}

bool is_label_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
}
bool is_number_char(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '.' ||
         c == '-' || c == '+' || c == '_';
}

std::string names_of(const std::vector<Field>& fields) {
  std::string s;
  for (const Field& f : fields) s += (s.empty() ? "" : ", ") + f.name;
  return s.size() > 200 ? s.substr(0, 200) + "..." : s;
}

struct Parser {
  const Decoded& d;
  std::string_view s;
  const JsonValOptions& o;
  std::string ctx;  // "WAVE", or "the arguments (WAVE)"
  size_t pos = 0;
  uint64_t nodes = 0, bytes = 0;

  Error fail(size_t at, const std::string& what) const {
    return Error(ErrorCode::kInvalidArgument, ctx + " at byte " + std::to_string(at) + ": " + what);
  }

  void ws() {
    while (pos < s.size() && (s[pos] == ' ' || s[pos] == '\t' || s[pos] == '\n' || s[pos] == '\r')) ++pos;
  }
  // What is at pos, quoted and cut, for errors (the text is untrusted).
  std::string here() const {
    if (pos >= s.size()) return "the end of the text";
    return quote_untrusted(s.substr(pos, kMaxQuoted));
  }
  tl::unexpected<Error> expected(const std::string& what) const {
    return tl::unexpected(fail(pos, "expected " + what + ", got " + here()));
  }
  bool eat(char c) {
    ws();
    if (pos < s.size() && s[pos] == c) {
      ++pos;
      return true;
    }
    return false;
  }
  Result<void> need(char c, const std::string& what) {
    if (!eat(c)) return expected(what);
    return {};
  }
  // A label (a case, field or flag name, or a keyword); a leading % marks a name that would
  // read as a keyword (%none). "" when there is none here.
  std::string label(bool* escaped = nullptr) {
    ws();
    size_t p = pos;
    bool esc = p < s.size() && s[p] == '%';
    if (esc) ++p;
    size_t b = p;
    while (p < s.size() && is_label_char(s[p])) ++p;
    if (p == b) return "";
    pos = p;
    if (escaped != nullptr) *escaped = esc;
    return std::string(s.substr(b, p - b));
  }
  Result<void> node() {
    if (++nodes > o.max_nodes) return tl::unexpected(fail(pos, "more than " + std::to_string(o.max_nodes) + " values"));
    return {};
  }
  Result<void> take_bytes(size_t n) {
    if ((bytes += n) > o.max_bytes) return tl::unexpected(fail(pos, "more than " + std::to_string(o.max_bytes) + " bytes of strings"));
    return {};
  }

  // A quoted char ('x') or string ("..."), escapes decoded.
  Result<std::string> quoted(char q) {
    ws();
    if (pos >= s.size() || s[pos] != q) return expected(q == '"' ? "a string (\"...\")" : "a char ('x')");
    ++pos;
    std::string out;
    while (true) {
      if (pos >= s.size()) return tl::unexpected(fail(pos, "unterminated " + std::string(q == '"' ? "string" : "char")));
      const char c = s[pos];
      if (c == q) {
        ++pos;
        break;
      }
      if (c == '\\') {
        if (pos + 1 >= s.size()) return tl::unexpected(fail(pos, "unterminated escape"));
        const char e = s[pos + 1];
        pos += 2;
        switch (e) {
          case '\\': out += '\\'; break;
          case '"': out += '"'; break;
          case '\'': out += '\''; break;
          case 'n': out += '\n'; break;
          case 't': out += '\t'; break;
          case 'r': out += '\r'; break;
          case 'u': {
            size_t start = pos - 2;
            if (pos >= s.size() || s[pos] != '{') return tl::unexpected(fail(start, "expected \\u{HEX}"));
            size_t e2 = s.find('}', pos);
            if (e2 == std::string_view::npos || e2 == pos + 1 || e2 - pos - 1 > 6) {
              return tl::unexpected(fail(start, "expected \\u{HEX} with 1-6 hex digits"));
            }
            uint32_t cp = 0;
            for (size_t k = pos + 1; k < e2; ++k) {
              const char h = s[k];
              int v = h >= '0' && h <= '9' ? h - '0' : h >= 'a' && h <= 'f' ? h - 'a' + 10 : h >= 'A' && h <= 'F' ? h - 'A' + 10 : -1;
              if (v < 0) return tl::unexpected(fail(start, "expected \\u{HEX} with 1-6 hex digits"));
              cp = cp * 16 + static_cast<uint32_t>(v);
            }
            if (!utf8::is_scalar_value(cp)) {
              return tl::unexpected(fail(start, "\\u{...} is not a Unicode scalar value"));
            }
            utf8::append(out, cp);
            pos = e2 + 1;
            break;
          }
          default: return tl::unexpected(fail(pos - 2, "unknown escape \\" + std::string(1, e) + " (\\\\ \\\" \\' \\n \\t \\r \\u{HEX})"));
        }
        continue;
      }
      if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
        return tl::unexpected(fail(pos, "a control character inside quotes (write it as \\u{...})"));
      }
      size_t b = pos;
      uint32_t cp = 0;
      if (!utf8_next(s, pos, &cp)) return tl::unexpected(fail(b, "not UTF-8"));
      out.append(s.substr(b, pos - b));
    }
    WASMCAP_TRY(take_bytes(out.size()));
    return out;
  }

  Result<Val> integer(Prim p) {
    ws();
    size_t b = pos;
    while (pos < s.size() && is_number_char(s[pos])) ++pos;
    std::string tok(s.substr(b, pos - b));
    bool neg = !tok.empty() && tok[0] == '-';
    std::string digits = neg ? tok.substr(1) : tok;
    bool ok = !digits.empty() && digits.size() <= 20 &&
              std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; });
    uint64_t mag = 0;
    if (ok) {
      for (char c : digits) {
        uint64_t next = mag * 10 + static_cast<uint64_t>(c - '0');
        if (mag > (std::numeric_limits<uint64_t>::max() - 9) / 10 && next / 10 != mag) ok = false;
        mag = next;
      }
    }
    struct R { uint64_t neg_max, pos_max; const char* name; };
    R r{};
    switch (p) {
      case Prim::kS8: r = {128, 127, "s8"}; break;
      case Prim::kU8: r = {0, 0xff, "u8"}; break;
      case Prim::kS16: r = {32768, 32767, "s16"}; break;
      case Prim::kU16: r = {0, 0xffff, "u16"}; break;
      case Prim::kS32: r = {uint64_t{1} << 31, (uint64_t{1} << 31) - 1, "s32"}; break;
      case Prim::kU32: r = {0, 0xffffffffu, "u32"}; break;
      case Prim::kS64: r = {uint64_t{1} << 63, (uint64_t{1} << 63) - 1, "s64"}; break;
      default: r = {0, std::numeric_limits<uint64_t>::max(), "u64"}; break;
    }
    if (!ok || (neg && mag > r.neg_max) || (!neg && mag > r.pos_max)) {
      pos = b;
      return expected(std::string(r.name) + " (a decimal integer in its range)");
    }
    return int_val(p, neg ? uint64_t{0} - mag : mag);
  }

  Result<Val> floating(Prim p) {
    ws();
    size_t b = pos;
    while (pos < s.size() && is_number_char(s[pos])) ++pos;
    std::string tok(s.substr(b, pos - b));
    const char* what = p == Prim::kF32 ? "f32 (a decimal number, nan, inf or -inf)" : "f64 (a decimal number, nan, inf or -inf)";
    double v = 0;
    if (tok == "nan") {
      v = std::numeric_limits<double>::quiet_NaN();
    } else if (tok == "inf") {
      v = std::numeric_limits<double>::infinity();
    } else if (tok == "-inf") {
      v = -std::numeric_limits<double>::infinity();
    } else {
      // Decimal only: digits, one point, an exponent (strtod would also take hex, "infinity").
      bool ok = !tok.empty();
      size_t i = tok[0] == '-' ? 1 : 0;
      size_t digits = 0;
      while (i < tok.size() && tok[i] >= '0' && tok[i] <= '9') ++i, ++digits;
      if (i < tok.size() && tok[i] == '.') {
        ++i;
        while (i < tok.size() && tok[i] >= '0' && tok[i] <= '9') ++i, ++digits;
      }
      if (digits == 0) ok = false;
      if (ok && i < tok.size() && (tok[i] == 'e' || tok[i] == 'E')) {
        ++i;
        if (i < tok.size() && (tok[i] == '+' || tok[i] == '-')) ++i;
        size_t e = 0;
        while (i < tok.size() && tok[i] >= '0' && tok[i] <= '9') ++i, ++e;
        if (e == 0) ok = false;
      }
      if (!ok || i != tok.size()) {
        pos = b;
        return expected(what);
      }
      errno = 0;
      v = std::strtod(tok.c_str(), nullptr);
      if (std::isinf(v) || (p == Prim::kF32 && std::fabs(v) >= 0x1.ffffffp+127)) {
        pos = b;
        return tl::unexpected(fail(b, std::string(p == Prim::kF32 ? "f32" : "f64") + " out of range: " + quote_untrusted(tok.substr(0, kMaxQuoted))));
      }
    }
    return p == Prim::kF32 ? Val::f32(static_cast<float>(v)) : Val::f64(v);
  }

  // A label that must name one of `fields`; its index.
  Result<size_t> case_label(const std::vector<Field>& fields, const std::string& kind) {
    size_t at = (ws(), pos);
    std::string l = label();
    for (size_t i = 0; i < fields.size(); ++i) {
      if (!l.empty() && fields[i].name == l) return i;
    }
    pos = at;
    return expected("a " + kind + " of " + names_of(fields));
  }

  Result<Val> value(ValType vt) {
    WASMCAP_TRY(node());
    const Ty t = resolve(d, vt);
    if (t.prim) {
      switch (t.p) {
        case Prim::kBool: {
          size_t at = (ws(), pos);
          bool esc = false;
          std::string l = label(&esc);
          if (!esc && (l == "true" || l == "false")) return Val::boolean(l == "true");
          pos = at;
          return expected("bool (true or false)");
        }
        case Prim::kF32: case Prim::kF64: return floating(t.p);
        case Prim::kChar: {
          size_t at = (ws(), pos);
          std::string c;
          WASMCAP_TRY_ASSIGN(c, quoted('\''));
          size_t i = 0;
          uint32_t cp = 0;
          if (c.empty() || !utf8_next(c, i, &cp) || i != c.size()) {
            return tl::unexpected(fail(at, "expected a char of one Unicode scalar value"));
          }
          return Val::character(cp);
        }
        case Prim::kString: {
          std::string str;
          WASMCAP_TRY_ASSIGN(str, quoted('"'));
          return Val::string(std::move(str));
        }
        default: return integer(t.p);
      }
    }
    const TypeDef& def = *t.def;
    switch (def.kind) {
      case TypeKind::kList: {
        WASMCAP_TRY(need('[', "a list ([...])"));
        std::vector<Val> items;
        if (eat(']')) return Val::list({});
        while (true) {
          Val e{};
          WASMCAP_TRY_ASSIGN(e, value(def.a));
          items.push_back(std::move(e));
          if (eat(']')) break;
          WASMCAP_TRY(need(',', "',' or ']'"));
          if (eat(']')) break;
        }
        return Val::list(std::move(items));
      }
      case TypeKind::kTuple: {
        const size_t n = def.fields.size();
        WASMCAP_TRY(need('(', "a tuple of " + std::to_string(n) + " ((...))"));
        std::vector<Val> items;
        for (size_t i = 0; i < n; ++i) {
          Val e{};
          WASMCAP_TRY_ASSIGN(e, value(def.fields[i].type));
          items.push_back(std::move(e));
          if (i + 1 < n) WASMCAP_TRY(need(',', "',' (a tuple of " + std::to_string(n) + ")"));
        }
        if (n > 0) eat(',');
        WASMCAP_TRY(need(')', "')' (a tuple of " + std::to_string(n) + ")"));
        return Val::tuple(std::move(items));
      }
      case TypeKind::kRecord: {
        WASMCAP_TRY(need('{', "a record ({field: value, ...}) with the fields " + names_of(def.fields)));
        std::vector<std::optional<Val>> got(def.fields.size());
        if (eat(':')) {
          WASMCAP_TRY(need('}', "'}' ({:} is the empty record)"));
        } else if (!eat('}')) {
          while (true) {
            size_t i = 0;
            WASMCAP_TRY_ASSIGN(i, case_label(def.fields, "field"));
            if (got[i]) return tl::unexpected(fail(pos, "field " + def.fields[i].name + " given twice"));
            WASMCAP_TRY(need(':', "':' after the field name"));
            Val v{};
            WASMCAP_TRY_ASSIGN(v, value(def.fields[i].type));
            got[i] = std::move(v);
            if (eat('}')) break;
            WASMCAP_TRY(need(',', "',' or '}'"));
            if (eat('}')) break;
          }
        }
        std::vector<Val> items;
        for (size_t i = 0; i < def.fields.size(); ++i) {
          if (got[i]) {
            items.push_back(std::move(*got[i]));
            continue;
          }
          Ty ft = resolve(d, def.fields[i].type);
          if (ft.prim || ft.def->kind != TypeKind::kOption) {
            return tl::unexpected(fail(pos, "missing field " + def.fields[i].name));
          }
          items.push_back(Val::none());  // an option field left out is none
        }
        return Val::record(std::move(items));
      }
      case TypeKind::kVariant: {
        size_t c = 0;
        WASMCAP_TRY_ASSIGN(c, case_label(def.fields, "case"));
        const Field& f = def.fields[c];
        if (!f.has_type) return Val::variant(static_cast<uint32_t>(c));
        WASMCAP_TRY(need('(', "'(' and the payload of case " + f.name));
        Val p{};
        WASMCAP_TRY_ASSIGN(p, value(f.type));
        WASMCAP_TRY(need(')', "')' after the payload"));
        return Val::variant(static_cast<uint32_t>(c), std::move(p));
      }
      case TypeKind::kEnum: {
        size_t c = 0;
        WASMCAP_TRY_ASSIGN(c, case_label(def.fields, "case"));
        return Val::enumeration(static_cast<uint32_t>(c));
      }
      case TypeKind::kFlags: {
        WASMCAP_TRY(need('{', "flags ({a, b, ...}) of " + names_of(def.fields)));
        uint32_t set = 0;
        if (!eat('}')) {
          while (true) {
            size_t c = 0;
            WASMCAP_TRY_ASSIGN(c, case_label(def.fields, "flag"));
            const uint32_t bit = uint32_t{1} << c;
            if (set & bit) return tl::unexpected(fail(pos, "flag " + def.fields[c].name + " given twice"));
            set |= bit;
            if (eat('}')) break;
            WASMCAP_TRY(need(',', "',' or '}'"));
            if (eat('}')) break;
          }
        }
        return Val::flags(set);
      }
      case TypeKind::kOption: {
        size_t at = (ws(), pos);
        bool esc = false;
        std::string l = label(&esc);
        if (!esc && l == "none") return Val::none();
        if (esc || l != "some") {
          pos = at;
          return expected("an option (none or some(...))");
        }
        WASMCAP_TRY(need('(', "'(' after some"));
        Val p{};
        WASMCAP_TRY_ASSIGN(p, value(def.a));
        WASMCAP_TRY(need(')', "')' after the value of some"));
        return Val::some(std::move(p));
      }
      case TypeKind::kResult: {
        size_t at = (ws(), pos);
        bool esc = false;
        std::string l = label(&esc);
        if (esc || (l != "ok" && l != "err")) {
          pos = at;
          return expected("a result (ok, ok(...), err or err(...))");
        }
        const bool is_ok = l == "ok";
        const bool has = is_ok ? def.has_a : def.has_b;
        if (!has) {
          if (eat('(')) return tl::unexpected(fail(pos - 1, "the " + l + " case has no payload"));
          return is_ok ? Val::ok() : Val::err();
        }
        WASMCAP_TRY(need('(', "'(' and the payload of " + l));
        Val p{};
        WASMCAP_TRY_ASSIGN(p, value(is_ok ? def.a : def.b));
        WASMCAP_TRY(need(')', "')' after the payload"));
        return is_ok ? Val::ok(std::move(p)) : Val::err(std::move(p));
      }
      case TypeKind::kOwn: case TypeKind::kBorrow:
        return tl::unexpected(fail(pos, "resource handles cannot be written as WAVE (not mapped yet)"));
      default:
        return tl::unexpected(fail(pos, "not a value type"));
    }
  }
};

// ---- Val -> WAVE ----

void quote_into(std::string& out, std::string_view s, char q) {
  out += q;
  size_t i = 0;
  while (i < s.size()) {
    size_t b = i;
    uint32_t cp = 0;
    if (!utf8_next(s, i, &cp)) {  // not reached: strings are checked before printing
      out += "\\u{fffd}";
      i = b + 1;
      continue;
    }
    switch (cp) {
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      case '\r': out += "\\r"; break;
      default:
        if (cp == static_cast<uint32_t>(q)) {
          out += '\\';
          out += q;
        } else if (cp < 0x20 || (cp >= 0x7f && cp < 0xa0) || cp == 0x2028 || cp == 0x2029 ||
                   (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069)) {
          // Controls, line separators and bidi overrides: escaped, never raw on a terminal.
          char buf[16];
          std::snprintf(buf, sizeof buf, "\\u{%x}", cp);
          out += buf;
        } else {
          out.append(s.substr(b, i - b));
        }
    }
  }
  out += q;
}

std::string float_text(double v, bool f32) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  char buf[64];
  // The shortest decimal that reads back as the same value.
  for (int prec = 1; prec <= 17; ++prec) {
    std::snprintf(buf, sizeof buf, "%.*g", prec, v);
    double back = std::strtod(buf, nullptr);
    if (f32 ? static_cast<float>(back) == static_cast<float>(v) : back == v) break;
  }
  std::string t = buf;
  // WAVE floats are decimal: "1e+20" is fine, but a bare integer stays as it is (1 reads as 1.0).
  return t;
}

// `v` was checked against `vt` once, at the top (val_to_wave).
Result<void> print(const Decoded& d, ValType vt, const Val& v, std::string& out) {
  const Ty t = resolve(d, vt);
  if (t.prim) {
    switch (t.p) {
      case Prim::kBool: out += v.bits != 0 ? "true" : "false"; return {};
      case Prim::kF32: out += float_text(v.f, true); return {};
      case Prim::kF64: out += float_text(v.f, false); return {};
      case Prim::kChar: {
        std::string c;
        utf8::append(c, static_cast<uint32_t>(v.bits));
        quote_into(out, c, '\'');
        return {};
      }
      case Prim::kString: quote_into(out, v.str, '"'); return {};
      case Prim::kS8: case Prim::kS16: case Prim::kS32: case Prim::kS64:
        out += std::to_string(v.as_signed());
        return {};
      default: out += std::to_string(v.bits); return {};
    }
  }
  const TypeDef& def = *t.def;
  auto label = [&](const std::string& name) {
    static const char* kKeywords[] = {"true", "false", "nan", "inf", "none", "some", "ok", "err"};
    for (const char* k : kKeywords) {
      if (name == k) out += '%';
    }
    out += name;
  };
  switch (def.kind) {
    case TypeKind::kList: {
      out += '[';
      for (size_t i = 0; i < v.items.size(); ++i) {
        if (i) out += ", ";
        WASMCAP_TRY(print(d, def.a, v.items[i], out));
      }
      out += ']';
      return {};
    }
    case TypeKind::kTuple: {
      out += '(';
      for (size_t i = 0; i < v.items.size(); ++i) {
        if (i) out += ", ";
        WASMCAP_TRY(print(d, def.fields[i].type, v.items[i], out));
      }
      out += ')';
      return {};
    }
    case TypeKind::kRecord: {
      if (def.fields.empty()) {
        out += "{:}";
        return {};
      }
      out += '{';
      for (size_t i = 0; i < def.fields.size(); ++i) {
        if (i) out += ", ";
        label(def.fields[i].name);
        out += ": ";
        WASMCAP_TRY(print(d, def.fields[i].type, v.items[i], out));
      }
      out += '}';
      return {};
    }
    case TypeKind::kVariant: {
      const Field& f = def.fields[v.bits];
      label(f.name);
      if (f.has_type) {
        out += '(';
        WASMCAP_TRY(print(d, f.type, v.items[0], out));
        out += ')';
      }
      return {};
    }
    case TypeKind::kEnum: label(def.fields[v.bits].name); return {};
    case TypeKind::kFlags: {
      out += '{';
      bool first = true;
      for (size_t i = 0; i < def.fields.size(); ++i) {
        if (!(v.bits & (uint64_t{1} << i))) continue;
        if (!first) out += ", ";
        first = false;
        label(def.fields[i].name);
      }
      out += '}';
      return {};
    }
    case TypeKind::kOption:
      if (v.bits == 0) {
        out += "none";
        return {};
      }
      out += "some(";
      WASMCAP_TRY(print(d, def.a, v.items[0], out));
      out += ')';
      return {};
    case TypeKind::kResult: {
      const bool is_ok = v.bits == 0;
      out += is_ok ? "ok" : "err";
      if (!v.items.empty()) {
        out += '(';
        WASMCAP_TRY(print(d, is_ok ? def.a : def.b, v.items[0], out));
        out += ')';
      }
      return {};
    }
    default:
      return make_error(ErrorCode::kInvalidArgument, "WAVE: resource handles are not printed");
  }
}

}  // namespace

Result<Val> wave_to_val(const Decoded& d, ValType t, std::string_view text, const JsonValOptions& o) {
  Parser p{d, text, o, "WAVE"};
  Val v{};
  WASMCAP_TRY_ASSIGN(v, p.value(t));
  p.ws();
  if (p.pos != text.size()) return p.expected("the end of the value");
  return v;
}

Result<std::string> val_to_wave(const Decoded& d, ValType t, const Val& v) {
  WASMCAP_TRY(check_val(d, v, t, "the value"));
  std::string out;
  WASMCAP_TRY(print(d, t, v, out));
  return out;
}

Result<WaveCall> split_wave_call(std::string_view text) {
  size_t open = text.find('(');
  size_t b = 0;
  while (b < text.size() && (text[b] == ' ' || text[b] == '\t')) ++b;
  size_t e = text.size();
  while (e > b && (text[e - 1] == ' ' || text[e - 1] == '\t' || text[e - 1] == '\n')) --e;
  if (open == std::string_view::npos || open <= b || e == 0 || text[e - 1] != ')' || e - 1 < open) {
    return make_error(ErrorCode::kInvalidArgument,
                      "not a call in WAVE: expected NAME(ARG, ...), e.g. 'add(1, 2)'");
  }
  size_t ne = open;
  while (ne > b && (text[ne - 1] == ' ' || text[ne - 1] == '\t')) --ne;
  WaveCall c;
  c.function = std::string(text.substr(b, ne - b));
  c.args = std::string(text.substr(open + 1, e - 1 - open - 1));
  for (char ch : c.function) {
    bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              ch == '-' || ch == ':' || ch == '/' || ch == '@' || ch == '.' || ch == '+' || ch == '#';
    if (!ok || c.function.size() > 256) {
      return make_error(ErrorCode::kInvalidArgument,
                        "not a call in WAVE: the function name " +
                            quote_untrusted(c.function.substr(0, kMaxQuoted)) + " is not an export name");
    }
  }
  return c;
}

Result<std::vector<Val>> wave_to_args(const Decoded& d, const TypeDef& func, std::string_view args,
                                      const JsonValOptions& o) {
  Parser p{d, args, o, "the arguments (WAVE)"};
  std::vector<Val> out;
  const size_t n = func.fields.size();
  for (size_t i = 0; i < n; ++i) {
    Val v{};
    WASMCAP_TRY_ASSIGN(v, p.value(func.fields[i].type));
    out.push_back(std::move(v));
    if (i + 1 < n && !p.eat(',')) {
      return p.expected("',' and the next argument (" + std::to_string(n) + " parameters: " +
                        names_of(func.fields) + ")");
    }
  }
  if (n > 0) p.eat(',');
  p.ws();
  if (p.pos != args.size()) {
    return p.expected(n == 0 ? "no arguments (the function has no parameters)"
                             : "the end of the arguments (" + std::to_string(n) + " parameters: " + names_of(func.fields) + ")");
  }
  return out;
}

}  // namespace wasmcap::component

// printf's format language, echo -e's escapes and %q quoting (printf.h).
#include "shell/printf.h"

#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <optional>

#include "common/escape.h"
#include "common/utf8.h"

namespace wasmcap::shell {

namespace {

// How much of an argument a message quotes.
constexpr size_t kMessageTextBytes = 64;
// strftime's buffer for one %(fmt)T: bash's 128 bytes (a longer result prints nothing).
constexpr size_t kMaxTimeBytes = 128;

std::string shown(std::string_view s) { return text::escape_ascii(s, kMessageTextBytes, ""); }

// Concatenation by appends (GCC 12's -Wrestrict misfires on "literal" + std::string&&).
template <class... Parts>
std::string cat(const Parts&... parts) {
  std::string s;
  (s.append(std::string_view(parts)), ...);
  return s;
}

bool is_octal(char c) { return c >= '0' && c <= '7'; }
int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Where escapes are expanded; they differ in octal forms and `\c`.
enum class EscapeMode {
  kFormat,  // printf's format: \NNN (1-3 digits, a leading 0 counting), \" \' \?; \c literal
  kEcho,    // echo -e: \0NNN (0 then up to 3 digits); \c stops
  kArgB,    // %b: \0NNN and \NNN; \c stops
};

struct Escapes {
  bool utf8;
  bool* stop;
  std::vector<std::string>* messages;  // printf's "missing hex digit" notes (null for echo)
};

void note(std::vector<std::string>* messages, std::string m) {
  if (messages != nullptr && messages->size() < kMaxPrintfMessages) messages->push_back(std::move(m));
}

// \u / \U: the code point as UTF-8, or (C locale, above ASCII) as bash prints it.
void append_unicode(std::string& out, uint32_t cp, bool big, bool utf8) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (utf8 && cp <= 0x10FFFF && !(cp >= 0xD800 && cp <= 0xDFFF)) {
    utf8::append(out, cp);
  } else {
    char buf[16];
    std::snprintf(buf, sizeof buf, big ? "\\U%08" PRIX32 : "\\u%04" PRIX32, cp);
    out += buf;
  }
}

// Expands the escape at s[i] ('\\'), appending to out; returns the index after it.
size_t expand_one(std::string_view s, size_t i, EscapeMode mode, const Escapes& e,
                  std::string& out) {
  if (i + 1 >= s.size()) {
    out += '\\';
    return i + 1;
  }
  char c = s[i + 1];
  size_t j = i + 2;
  switch (c) {
    case 'a': out += '\a'; return j;
    case 'b': out += '\b'; return j;
    case 'e': case 'E': out += '\x1b'; return j;
    case 'f': out += '\f'; return j;
    case 'n': out += '\n'; return j;
    case 'r': out += '\r'; return j;
    case 't': out += '\t'; return j;
    case 'v': out += '\v'; return j;
    case '\\': out += '\\'; return j;
    default: break;
  }
  if (mode == EscapeMode::kFormat && (c == '"' || c == '\'' || c == '?')) {
    out += c;
    return j;
  }
  if (c == 'c' && mode != EscapeMode::kFormat) {
    *e.stop = true;
    return s.size();
  }
  // Octal: the digits after a leading 0 (echo, %b), or 1-3 digits including it (format, %b).
  bool zero_form = c == '0' && mode != EscapeMode::kFormat;
  if (zero_form || (is_octal(c) && mode != EscapeMode::kEcho)) {
    size_t k = zero_form ? i + 2 : i + 1;
    unsigned v = 0;
    for (size_t n = 0; n < 3 && k < s.size() && is_octal(s[k]); ++n, ++k) v = v * 8 + (s[k] - '0');
    out += static_cast<char>(v & 0xFF);
    return k;
  }
  if (c == 'x' || c == 'u' || c == 'U') {
    size_t max_digits = c == 'x' ? 2 : c == 'u' ? 4 : 8;
    size_t k = j;
    uint32_t v = 0;
    for (; k < s.size() && k - j < max_digits && hex_value(s[k]) >= 0; ++k) v = v * 16 + hex_value(s[k]);
    if (k == j) {
      note(e.messages, c == 'x' ? "missing hex digit for \\x" : std::string("missing unicode digit for \\") + c);
      out += '\\';
      out += c;
      return j;
    }
    if (c == 'x') {
      out += static_cast<char>(v);
    } else {
      append_unicode(out, v, c == 'U', e.utf8);
    }
    return k;
  }
  out += '\\';
  out += c;
  return j;
}

std::string expand(std::string_view s, EscapeMode mode, const Escapes& e) {
  std::string out;
  size_t i = 0;
  while (i < s.size() && !*e.stop) {
    if (s[i] == '\\') {
      i = expand_one(s, i, mode, e, out);
    } else {
      out += s[i++];
    }
  }
  return out;
}

}  // namespace

std::string echo_escapes(std::string_view arg, bool utf8, bool* stop) {
  *stop = false;
  return expand(arg, EscapeMode::kEcho, Escapes{utf8, stop, nullptr});
}

// --- %q ------------------------------------------------------------------------------------------

namespace {

// Characters bash's %q backslash-escapes anywhere in a word.
bool needs_backslash(char c) {
  switch (c) {
    case ' ': case '\'': case '"': case '\\': case '|': case '&': case ';': case '(': case ')':
    case '<': case '>': case '!': case '{': case '}': case '*': case '[': case ']': case '?':
    case '^': case '$': case '`': case ',':
      return true;
    default:
      return false;
  }
}

// True when `s` needs $'...': a control character, DEL, or a byte that is not a printable
// character (in the C locale every byte above 0x7F; in UTF-8, invalid sequences and C1 controls).
bool needs_ansi_c(std::string_view s, bool utf8) {
  for (size_t i = 0; i < s.size();) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x20 || c == 0x7F) return true;
    if (c < 0x80) {
      ++i;
      continue;
    }
    if (!utf8) return true;
    utf8::Char ch = utf8::decode(s, i);
    if (!ch.valid || ch.value < 0xA0) return true;
    i += ch.len;
  }
  return false;
}

std::string ansi_c_quote(std::string_view s, bool utf8) {
  std::string out = "$'";
  for (size_t i = 0; i < s.size();) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    const char* named = nullptr;
    switch (c) {
      case '\a': named = "\\a"; break;
      case '\b': named = "\\b"; break;
      case 0x1b: named = "\\E"; break;
      case '\f': named = "\\f"; break;
      case '\n': named = "\\n"; break;
      case '\r': named = "\\r"; break;
      case '\t': named = "\\t"; break;
      case '\v': named = "\\v"; break;
      case '\\': named = "\\\\"; break;
      case '\'': named = "\\'"; break;
      default: break;
    }
    if (named != nullptr) {
      out += named;
      ++i;
      continue;
    }
    if (c >= 0x20 && c < 0x7F) {
      out += static_cast<char>(c);
      ++i;
      continue;
    }
    if (utf8 && c >= 0x80) {
      utf8::Char ch = utf8::decode(s, i);
      if (ch.valid && ch.value >= 0xA0) {
        out.append(s.substr(i, ch.len));
        i += ch.len;
        continue;
      }
    }
    char buf[8];
    std::snprintf(buf, sizeof buf, "\\%03o", static_cast<unsigned>(c));
    out += buf;
    ++i;
  }
  return out + "'";
}

}  // namespace

std::string shell_quote(std::string_view s, bool utf8) {
  if (s.empty()) return "''";
  if (needs_ansi_c(s, utf8)) return ansi_c_quote(s, utf8);
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    // `#` starts a comment only at a word's start; `~` expands there and after `=` or `:`.
    bool quote = needs_backslash(c) || (c == '#' && i == 0) ||
                 (c == '~' && (i == 0 || s[i - 1] == '=' || s[i - 1] == ':'));
    if (quote) out += '\\';
    out += c;
  }
  return out;
}

// --- printf ----------------------------------------------------------------------------------------

namespace {

struct Spec {
  std::string flags;
  std::optional<int64_t> width;
  std::optional<int64_t> precision;
  char conv = 0;
  std::string time_format;  // %(...)T
};

class Printer {
 public:
  Printer(const std::vector<std::string>& args, const PrintfOptions& opts) : args_(args), opts_(opts) {}

  Result<PrintfOutput> run(std::string_view format) {
    do {
      size_t before = next_;
      WASMCAP_TRY(pass(format));
      if (stop_ || next_ == before) break;
    } while (next_ < args_.size());
    return std::move(result_);
  }

 private:
  // --- output ----------------------------------------------------------------------------------
  Result<void> reserve(uint64_t n) const {
    if (n > opts_.max_output - result_.out.size()) {
      return make_error(ErrorCode::kOutputLimit, "printf: output exceeds " +
                                                     std::to_string(opts_.max_output) + " bytes");
    }
    return {};
  }
  Result<void> emit(std::string_view s) {
    WASMCAP_TRY(reserve(s.size()));
    result_.out.append(s);
    return {};
  }
  // `s` padded to the spec's width (left-justified with '-').
  Result<void> emit_padded(std::string_view s, const Spec& spec) {
    uint64_t width = spec.width && *spec.width > 0 ? uint64_t(*spec.width) : 0;
    uint64_t pad = width > s.size() ? width - s.size() : 0;
    WASMCAP_TRY(reserve(uint64_t(s.size()) + pad));
    bool left = spec.flags.find('-') != std::string::npos;
    if (!left) result_.out.append(pad, ' ');
    result_.out.append(s);
    if (left) result_.out.append(pad, ' ');
    return {};
  }
  void message(std::string m) { note(&result_.messages, std::move(m)); }
  void invalid(std::string_view arg) {
    message(shown(arg) + ": invalid number");
    result_.status = 1;
  }

  // --- arguments -------------------------------------------------------------------------------
  const std::string* take() { return next_ < args_.size() ? &args_[next_++] : nullptr; }

  // `'c` / `"c`: the character's code (a byte, or a UTF-8 code point; as glibc's mbrtowc, which
  // bash calls, a 4-byte sequence past U+10FFFF still decodes).
  std::optional<uint64_t> char_code(const std::string& a) const {
    if (a.empty() || (a[0] != '\'' && a[0] != '"')) return std::nullopt;
    if (a.size() == 1) return 0;
    if (opts_.utf8) return utf8::decode(a, 1, /*allow_above_max=*/true).value;
    return static_cast<unsigned char>(a[1]);
  }

  // A C integer constant; `is_unsigned` as strtoumax reads it (-1 is 2^64-1).
  uint64_t integer(const std::string* a, bool is_unsigned) {
    if (a == nullptr || a->empty()) return 0;
    if (auto code = char_code(*a)) return *code;
    const char* begin = a->c_str();
    char* end = nullptr;
    errno = 0;
    uint64_t v = is_unsigned ? uint64_t(std::strtoumax(begin, &end, 0))
                             : uint64_t(std::strtoimax(begin, &end, 0));
    if (errno == ERANGE) message("warning: " + shown(*a) + ": Numerical result out of range");
    if (end == begin || *end != '\0' || end != begin + a->size()) invalid(*a);
    return v;
  }

  long double floating(const std::string* a) {
    if (a == nullptr || a->empty()) return 0;
    if (auto code = char_code(*a)) return static_cast<long double>(*code);
    const char* begin = a->c_str();
    char* end = nullptr;
    errno = 0;
    long double v = std::strtold(begin, &end);
    if (errno == ERANGE) message("warning: " + shown(*a) + ": Numerical result out of range");
    if (end == begin || end != begin + a->size()) invalid(*a);
    return v;
  }

  // --- one pass over the format -----------------------------------------------------------------
  Result<void> pass(std::string_view f) {
    size_t i = 0;
    Escapes esc{opts_.utf8, &stop_, &result_.messages};
    while (i < f.size() && !stop_) {
      if (f[i] == '\\') {
        std::string piece;
        i = expand_one(f, i, EscapeMode::kFormat, esc, piece);
        WASMCAP_TRY(emit(piece));
        continue;
      }
      if (f[i] != '%') {
        size_t j = f.find_first_of("\\%", i);
        if (j == std::string_view::npos) j = f.size();
        WASMCAP_TRY(emit(f.substr(i, j - i)));
        i = j;
        continue;
      }
      if (i + 1 < f.size() && f[i + 1] == '%') {
        WASMCAP_TRY(emit("%"));
        i += 2;
        continue;
      }
      Spec spec;
      size_t start = i;
      if (!parse_spec(f, i, spec)) {
        // bash: "`%5': missing format character" (the format ended) or "`y': invalid format
        // character"; nothing more is printed.
        if (spec.conv == 0) {
          message(cat("`", shown(f.substr(start, i - start)), "': missing format character"));
        } else {
          message(cat("`", shown(std::string_view(&spec.conv, 1)), "': invalid format character"));
        }
        result_.status = 1;
        stop_ = true;
        return {};
      }
      WASMCAP_TRY(convert(spec));
    }
    return {};
  }

  // Parses the conversion at f[i] ('%'); advances i past it. False when malformed.
  bool parse_spec(std::string_view f, size_t& i, Spec& spec) {
    ++i;
    while (i < f.size() && std::string_view("-+ #0'").find(f[i]) != std::string_view::npos) {
      spec.flags += f[i++];
    }
    spec.width = number_or_star(f, i);
    if (i < f.size() && f[i] == '.') {
      ++i;
      spec.precision = number_or_star(f, i);
      if (!spec.precision) spec.precision = 0;
    }
    while (i < f.size() && std::string_view("hlLjzt").find(f[i]) != std::string_view::npos) ++i;
    if (i >= f.size()) return false;
    if (f[i] == '(') {
      size_t close = f.find(")T", i);
      if (close == std::string_view::npos) {
        spec.conv = '(';
        ++i;
        return false;
      }
      spec.time_format = std::string(f.substr(i + 1, close - i - 1));
      spec.conv = 'T';
      i = close + 2;
      return true;
    }
    spec.conv = f[i++];
    return std::string_view("diouxXfFeEgGaAcsbq").find(spec.conv) != std::string_view::npos;
  }

  // Digits (saturating: any width past the output bound is refused later) or `*`.
  std::optional<int64_t> number_or_star(std::string_view f, size_t& i) {
    if (i < f.size() && f[i] == '*') {
      ++i;
      return static_cast<int64_t>(integer(take(), false));
    }
    if (i >= f.size() || f[i] < '0' || f[i] > '9') return std::nullopt;
    int64_t v = 0;
    for (; i < f.size() && f[i] >= '0' && f[i] <= '9'; ++i) {
      v = v > (INT64_MAX - 9) / 10 ? INT64_MAX : v * 10 + (f[i] - '0');
    }
    return v;
  }

  Result<void> convert(Spec spec) {
    // A negative `*` width left-justifies; a negative precision is none.
    if (spec.width && *spec.width < 0) {
      spec.flags += '-';
      spec.width = *spec.width == INT64_MIN ? INT64_MAX : -*spec.width;
    }
    if (spec.precision && *spec.precision < 0) spec.precision.reset();
    // Refused before anything that large is formatted or allocated.
    WASMCAP_TRY(reserve(spec.width ? uint64_t(*spec.width) : 0));
    switch (spec.conv) {
      case 's': return string_conv(take() ? args_[next_ - 1] : std::string(), spec);
      case 'b': return b_conv(spec);
      case 'q': {
        const std::string* a = take();
        return string_conv(shell_quote(a ? *a : std::string(), opts_.utf8), spec);
      }
      case 'c': return c_conv(spec);
      case 'T': return time_conv(spec);
      default: return number_conv(spec);
    }
  }

  Result<void> string_conv(std::string_view s, const Spec& spec) {
    if (spec.precision && uint64_t(*spec.precision) < s.size()) s = s.substr(0, *spec.precision);
    return emit_padded(s, spec);
  }

  Result<void> b_conv(const Spec& spec) {
    const std::string* a = take();
    Escapes esc{opts_.utf8, &stop_, &result_.messages};
    std::string text = a ? expand(*a, EscapeMode::kArgB, esc) : std::string();
    // `\c` ends printf with status 0, whatever came before (bash).
    if (stop_) result_.status = 0;
    return string_conv(text, spec);
  }

  Result<void> c_conv(const Spec& spec) {
    const std::string* a = take();
    std::string_view s = a ? std::string_view(*a) : std::string_view();
    // The first byte, even in UTF-8 (bash); an empty argument is a NUL byte.
    std::string one = s.empty() ? std::string(1, '\0') : std::string(s.substr(0, 1));
    return emit_padded(one, spec);
  }

  Result<void> time_conv(const Spec& spec) {
    const std::string* a = take();
    int64_t t = a && !a->empty() ? static_cast<int64_t>(integer(a, false)) : -1;
    if (t == -1) t = opts_.now;
    if (t == -2) t = opts_.shell_start;
    std::time_t tt = static_cast<std::time_t>(t);
    std::tm tm{};
    std::string text;
    if (::gmtime_r(&tt, &tm) != nullptr) {
      std::string fmt = spec.time_format.empty() ? "%X" : spec.time_format;
      std::string buf(kMaxTimeBytes, '\0');
      size_t n = std::strftime(buf.data(), buf.size(), fmt.c_str(), &tm);
      text = buf.substr(0, n);
    }
    return string_conv(text, spec);
  }

  Result<void> number_conv(const Spec& spec) {
    char conv = spec.conv;
    if (spec.precision) WASMCAP_TRY(reserve(uint64_t(*spec.precision)));
    std::string fmt = "%" + spec.flags;
    if (spec.width) fmt += std::to_string(*spec.width);
    if (spec.precision) fmt += cat(".", std::to_string(*spec.precision));
    bool is_float = std::string_view("fFeEgGaA").find(conv) != std::string_view::npos;
    bool is_unsigned = std::string_view("ouxX").find(conv) != std::string_view::npos;
    if (conv == 'i') conv = 'd';
    fmt += is_float ? "L" : "ll";
    fmt += conv;
    const std::string* a = take();
    if (is_float) {
      long double v = floating(a);
      return emit_formatted(fmt, v);
    }
    uint64_t v = integer(a, is_unsigned);
    if (is_unsigned) return emit_formatted(fmt, static_cast<unsigned long long>(v));
    return emit_formatted(fmt, static_cast<long long>(static_cast<int64_t>(v)));
  }

  template <class T>
  Result<void> emit_formatted(const std::string& fmt, T v) {
    int n = std::snprintf(nullptr, 0, fmt.c_str(), v);
    if (n < 0) return {};
    WASMCAP_TRY(reserve(uint64_t(n)));
    std::string buf(size_t(n) + 1, '\0');
    std::snprintf(buf.data(), buf.size(), fmt.c_str(), v);
    buf.resize(size_t(n));
    result_.out += buf;
    return {};
  }

  const std::vector<std::string>& args_;
  const PrintfOptions& opts_;
  size_t next_ = 0;
  bool stop_ = false;
  PrintfOutput result_;
};

}  // namespace

Result<PrintfOutput> format_printf(std::string_view format, const std::vector<std::string>& args,
                                   const PrintfOptions& opts) {
  Printer p(args, opts);
  return p.run(format);
}

}  // namespace wasmcap::shell

// expr (expr.h): GNU coreutils' grammar and messages, evaluated over argv.
#include "shell/expr.h"

#include <cstdint>
#include <limits>
#include <optional>

#include "shell/regex.h"

namespace wasmcap::shell {

namespace {

constexpr size_t kMessageTextBytes = 1024;

// An operand in a message as GNU's expr quotes it (quotearg's locale style in the C locale):
// in '', with C's escapes for \ ' and the control characters and \ooo for every other byte
// that is not printable ASCII, so nothing of it reaches a terminal raw; at most
// kMessageTextBytes of it, then "...".
std::string quoted(std::string_view s) {
  std::string o = "'";
  for (size_t i = 0; i < s.size() && i < kMessageTextBytes; ++i) {
    auto c = static_cast<unsigned char>(s[i]);
    const char* named = c == '\\' ? "\\\\" : c == '\'' ? "\\'" : c == '\a' ? "\\a"
                      : c == '\b' ? "\\b" : c == '\f' ? "\\f" : c == '\n' ? "\\n"
                      : c == '\r' ? "\\r" : c == '\t' ? "\\t" : c == '\v' ? "\\v" : nullptr;
    if (named != nullptr) {
      o += named;
    } else if (c < 0x20 || c >= 0x7f) {
      o += '\\';
      o += static_cast<char>('0' + (c >> 6));
      o += static_cast<char>('0' + ((c >> 3) & 7));
      o += static_cast<char>('0' + (c & 7));
    } else {
      o += static_cast<char>(c);
    }
  }
  if (s.size() > kMessageTextBytes) o += "...";
  return o + "'";
}

// An integer as GNU's expr reads one: an optional '-', then one or more digits.
bool looks_like_integer(std::string_view s) {
  size_t i = !s.empty() && s[0] == '-' ? 1 : 0;
  if (i >= s.size()) return false;
  for (; i < s.size(); ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
  }
  return true;
}

// Compares two integers of any length (GNU's strintcmp).
int intcmp(std::string_view a, std::string_view b) {
  bool na = a[0] == '-', nb = b[0] == '-';
  a.remove_prefix(na ? 1 : 0);
  b.remove_prefix(nb ? 1 : 0);
  while (a.size() > 1 && a[0] == '0') a.remove_prefix(1);
  while (b.size() > 1 && b[0] == '0') b.remove_prefix(1);
  if (a == "0") na = false;
  if (b == "0") nb = false;
  if (na != nb) return na ? -1 : 1;
  int mag = a.size() != b.size() ? (a.size() < b.size() ? -1 : 1) : a.compare(b);
  mag = mag < 0 ? -1 : mag > 0 ? 1 : 0;
  return na ? -mag : mag;
}

struct Value {
  bool is_int = false;
  int64_t i = 0;
  std::string s;
  static Value integer(int64_t v) { return Value{true, v, {}}; }
  static Value string(std::string_view v) { return Value{false, 0, std::string(v)}; }
  std::string text() const { return is_int ? std::to_string(i) : s; }
  bool null() const {
    if (is_int) return i == 0;
    if (s.empty()) return true;
    size_t k = s[0] == '-' ? 1 : 0;
    if (k >= s.size()) return false;
    for (; k < s.size(); ++k) {
      if (s[k] != '0') return false;
    }
    return true;
  }
};

// Unwinds an evaluation: the message and the status.
struct Stop {
  std::string message;
  int status;
};

class Eval {
 public:
  explicit Eval(const std::vector<std::string_view>& a) : args_(a) {}

  Value top() {
    Value v = eval(true);
    if (pos_ < args_.size()) {
      throw Stop{"syntax error: unexpected argument " + quoted(args_[pos_]), 2};
    }
    return v;
  }

 private:
  bool more() const { return pos_ < args_.size(); }
  bool next(std::string_view s) {
    if (!more() || args_[pos_] != s) return false;
    ++pos_;
    return true;
  }
  // One level of nesting (a parenthesis or a prefix operator) for the span of a call.
  struct Depth {
    explicit Depth(Eval& e) : ev(e) {
      if (++ev.depth_ > kMaxExprDepth) {
        throw Stop{"expression nested deeper than " + std::to_string(kMaxExprDepth) +
                       " levels (parentheses and prefix operators)",
                   2};
      }
    }
    ~Depth() { --ev.depth_; }
    Eval& ev;
  };

  // The operand as a 64-bit integer, or why not.
  static int64_t arith(const Value& v) {
    if (v.is_int) return v.i;
    if (!looks_like_integer(v.s)) throw Stop{"non-integer argument", 2};
    bool neg = v.s[0] == '-';
    uint64_t mag = 0;
    for (size_t k = neg ? 1 : 0; k < v.s.size(); ++k) {
      auto d = static_cast<uint64_t>(v.s[k] - '0');
      if (mag > (uint64_t{1} << 63) / 10 || mag * 10 > (uint64_t{1} << 63) - d) too_large();
      mag = mag * 10 + d;
    }
    if (!neg && mag > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) too_large();
    return neg ? static_cast<int64_t>(0 - mag) : static_cast<int64_t>(mag);
  }
  [[noreturn]] static void too_large() {
    throw Stop{"integer beyond 64 bits: this expr computes in 64-bit integers (GNU's expr in "
               "arbitrary precision)",
               3};
  }

  Value eval(bool ev) {  // |
    Value l = eval1(ev);
    while (next("|")) {
      Value r = eval1(ev && l.null());
      if (l.null()) {
        l = std::move(r);
        if (l.null()) l = Value::integer(0);
      }
    }
    return l;
  }

  Value eval1(bool ev) {  // &
    Value l = eval2(ev);
    while (next("&")) {
      Value r = eval2(ev && !l.null());
      if (l.null() || r.null()) l = Value::integer(0);
    }
    return l;
  }

  Value eval2(bool ev) {  // comparisons
    Value l = eval3(ev);
    while (more()) {
      std::string_view op = args_[pos_];
      if (op != "<" && op != "<=" && op != "=" && op != "==" && op != "!=" && op != ">=" &&
          op != ">") {
        break;
      }
      ++pos_;
      Value r = eval3(ev);
      bool val = false;
      if (ev) {
        std::string a = l.text(), b = r.text();
        int cmp = looks_like_integer(a) && looks_like_integer(b) ? intcmp(a, b) : a.compare(b);
        val = op == "<"    ? cmp < 0
              : op == "<=" ? cmp <= 0
              : op == ">"  ? cmp > 0
              : op == ">=" ? cmp >= 0
              : op == "!=" ? cmp != 0
                           : cmp == 0;
      }
      l = Value::integer(val ? 1 : 0);
    }
    return l;
  }

  Value eval3(bool ev) {  // + -
    Value l = eval4(ev);
    while (more() && (args_[pos_] == "+" || args_[pos_] == "-")) {
      bool plus = args_[pos_++] == "+";
      Value r = eval4(ev);
      if (!ev) continue;
      int64_t a = arith(l), b = arith(r), v = 0;
      if (plus ? __builtin_add_overflow(a, b, &v) : __builtin_sub_overflow(a, b, &v)) too_large();
      l = Value::integer(v);
    }
    return l;
  }

  Value eval4(bool ev) {  // * / %
    Value l = eval5(ev);
    while (more() && (args_[pos_] == "*" || args_[pos_] == "/" || args_[pos_] == "%")) {
      char op = args_[pos_++][0];
      Value r = eval5(ev);
      if (!ev) continue;
      int64_t a = arith(l), b = arith(r), v = 0;
      if (op != '*' && b == 0) throw Stop{"division by zero", 2};
      if (op == '*') {
        if (__builtin_mul_overflow(a, b, &v)) too_large();
      } else if (a == std::numeric_limits<int64_t>::min() && b == -1) {
        if (op == '/') too_large();
        v = 0;
      } else {
        v = op == '/' ? a / b : a % b;  // truncating, as GMP's tdiv
      }
      l = Value::integer(v);
    }
    return l;
  }

  Value eval5(bool ev) {  // :
    Value l = eval6(ev);
    while (next(":")) {
      Value r = eval6(ev);
      if (ev) l = colon(l, r);
    }
    return l;
  }

  Value eval6(bool ev) {  // prefix operators
    if (next("+")) {
      if (!more()) throw Stop{"syntax error: missing argument after " + quoted(args_[pos_ - 1]), 2};
      return Value::string(args_[pos_++]);
    }
    if (next("length")) {
      Depth d(*this);
      Value r = eval6(ev);
      return Value::integer(static_cast<int64_t>(r.text().size()));
    }
    if (next("match")) {
      Depth d(*this);
      Value l = eval6(ev);
      Value r = eval6(ev);
      return ev ? colon(l, r) : l;
    }
    if (next("index")) {
      Depth d(*this);
      std::string l = eval6(ev).text(), r = eval6(ev).text();
      size_t p = l.find_first_of(r);
      return Value::integer(p == std::string::npos ? 0 : static_cast<int64_t>(p + 1));
    }
    if (next("substr")) {
      Depth d(*this);
      std::string s = eval6(ev).text();
      Value i1 = eval6(ev), i2 = eval6(ev);
      std::string a = i1.text(), b = i2.text();
      if (!looks_like_integer(a) || !looks_like_integer(b)) return Value::string("");
      uint64_t pos = size_of(a), len = size_of(b);
      if (s.size() < pos || pos == 0 || len == 0) return Value::string("");
      return Value::string(std::string_view(s).substr(pos - 1, len));
    }
    return eval7(ev);
  }

  // GNU's getsize: a negative count is 0, a too large one the largest.
  static uint64_t size_of(std::string_view s) {
    if (s[0] == '-') return 0;
    uint64_t v = 0;
    for (char c : s) {
      auto d = static_cast<uint64_t>(c - '0');
      if (v > (UINT64_MAX - d) / 10) return UINT64_MAX;
      v = v * 10 + d;
    }
    return v;
  }

  Value eval7(bool ev) {  // ( ) and operands
    if (!more()) throw Stop{"syntax error: missing argument after " + quoted(args_[pos_ - 1]), 2};
    if (next("(")) {
      Depth d(*this);
      Value v = eval(ev);
      if (!more()) throw Stop{"syntax error: expecting ')' after " + quoted(args_[pos_ - 1]), 2};
      if (!next(")")) throw Stop{"syntax error: expecting ')' instead of " + quoted(args_[pos_]), 2};
      return v;
    }
    if (next(")")) throw Stop{"syntax error: unexpected ')'", 2};
    return Value::string(args_[pos_++]);
  }

  // STRING : REGEX, anchored at the start: the first group's text when the regex has \( \),
  // else the length of the match.
  static Value colon(const Value& sv, const Value& pv) {
    std::string subject = sv.text();
    TranslatedBre t = translate_bre(pv.text());
    // The regex anchored at the start, in a group of its own: the caller's first is group 2.
    auto m = regex_match(subject, "^(" + t.ere + ")");
    if (!m) throw Stop{m.error().message, 2};
    if (t.groups > 0) return Value::string(m->matched ? m->groups[2] : "");
    return Value::integer(m->matched ? static_cast<int64_t>(m->groups[0].size()) : 0);
  }

  const std::vector<std::string_view>& args_;
  size_t pos_ = 0;
  size_t depth_ = 0;
};

// An ERE-special character that is literal in a BRE, escaped.
void literal_char(std::string& out, char c) {
  if (std::string_view("(){}|+?*^$.[]\\").find(c) != std::string_view::npos) out += '\\';
  out += c;
}

}  // namespace

TranslatedBre translate_bre(std::string_view re) {
  TranslatedBre t;
  std::string& o = t.ere;
  bool start = true;  // where `*` is literal and `^` an anchor: the start, after \( or \|
  bool after_anchor = false;  // right after such a `^`: `*` is still literal, `^` is not
  for (size_t i = 0; i < re.size();) {
    char c = re[i];
    bool was_start = start, star_literal = start || after_anchor;
    start = after_anchor = false;
    if (c == '[') {  // a bracket expression, copied as it is: translate_ere reads it
      size_t j = i + 1;
      if (j < re.size() && re[j] == '^') ++j;
      if (j < re.size() && re[j] == ']') ++j;
      while (j < re.size() && re[j] != ']') {
        if (re[j] == '[' && j + 1 < re.size() && (re[j + 1] == ':' || re[j + 1] == '=' || re[j + 1] == '.')) {
          size_t close = re.find(std::string{re[j + 1], ']'}, j + 2);
          j = close == std::string_view::npos ? re.size() : close + 2;
        } else {
          ++j;
        }
      }
      size_t end = j < re.size() ? j + 1 : re.size();
      o.append(re.substr(i, end - i));
      i = end;
      continue;
    }
    if (c == '\\') {
      if (i + 1 >= re.size()) {  // a trailing backslash: translate_ere refuses it
        o += '\\';
        ++i;
        continue;
      }
      char n = re[i + 1];
      i += 2;
      switch (n) {
        case '(': o += '('; ++t.groups; start = true; break;
        case ')': o += ')'; break;
        case '|': o += '|'; start = true; break;
        case '{': o += '{'; break;
        case '}': o += '}'; break;
        case '+': case '?':
          if (star_literal) literal_char(o, n);
          else o += n;
          break;
        default:
          if ((n >= '1' && n <= '9') || n == 'w' || n == 'W' || n == 's' || n == 'S' || n == 'b' ||
              n == 'B' || n == '<' || n == '>' || n == '`' || n == '\'') {
            o += '\\';  // back-references and GNU's escapes: translate_ere's to read or refuse
            o += n;
          } else {
            literal_char(o, n);
          }
      }
      continue;
    }
    ++i;
    if (c == '*') {
      if (star_literal) literal_char(o, c);
      else o += c;
    } else if (c == '^') {
      if (was_start) {
        o += '^';
        after_anchor = true;  // `^*`: the star is literal
      } else {
        literal_char(o, c);
      }
    } else if (c == '$') {
      bool at_end = i == re.size() || (i + 1 < re.size() && re[i] == '\\' && (re[i + 1] == ')' || re[i + 1] == '|'));
      if (at_end) o += '$';
      else literal_char(o, c);
    } else if (c == '.') {
      o += '.';
    } else {
      literal_char(o, c);
    }
  }
  return t;
}

ExprResult eval_expr(const std::vector<std::string_view>& argv) {
  ExprResult r;
  std::vector<std::string_view> args = argv;
  if (!args.empty() && args[0] == "--") args.erase(args.begin());
  if (args.empty()) {
    r.err = "expr: missing operand\nTry 'expr --help' for more information.\n";
    r.status = 2;
    return r;
  }
  try {
    Eval e(args);
    Value v = e.top();
    r.out = v.text() + "\n";
    r.status = v.null() ? 1 : 0;
  } catch (const Stop& s) {
    r.err = "expr: " + s.message + "\n";
    r.status = s.status;
  }
  return r;
}

}  // namespace wasmcap::shell

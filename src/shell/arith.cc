// Shell arithmetic (arith.h): a recursive-descent evaluator that lexes as it goes, as bash's
// expr.c does, so an unevaluated branch is parsed with the same code but without effects.
#include "shell/arith.h"

#include <memory>

#include "common/escape.h"

namespace wasmcap::shell {

namespace {

// How much of the expression text an error message shows.
constexpr size_t kMessageTextBytes = 200;

std::string shown(std::string_view s) { return text::escape_ascii(s, kMessageTextBytes, ""); }

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool is_name_start(char c) { return is_alpha(c) || c == '_'; }
bool is_name_char(char c) { return is_name_start(c) || is_digit(c); }

// Wrapping arithmetic without signed overflow (UB, and UBSan runs in CI).
int64_t wrap(uint64_t v) { return static_cast<int64_t>(v); }
int64_t add(int64_t a, int64_t b) { return wrap(uint64_t(a) + uint64_t(b)); }
int64_t sub(int64_t a, int64_t b) { return wrap(uint64_t(a) - uint64_t(b)); }
int64_t mul(int64_t a, int64_t b) { return wrap(uint64_t(a) * uint64_t(b)); }
int64_t neg(int64_t a) { return wrap(0 - uint64_t(a)); }
int64_t power(int64_t base, int64_t exp) {
  uint64_t result = 1, b = uint64_t(base);
  for (uint64_t e = uint64_t(exp); e != 0; e >>= 1) {
    if (e & 1) result *= b;
    b *= b;
  }
  return wrap(result);
}

Error constant_error(std::string_view token, const char* what) {
  return Error(ErrorCode::kInvalidArgument, shown(token) + ": " + what + " (error token is \"" +
                                                shown(token) + "\")");
}

int digit_value(char c, int base) {
  if (is_digit(c)) return c - '0';
  if (c >= 'a' && c <= 'z') return c - 'a' + 10;
  if (c >= 'A' && c <= 'Z') return c - 'A' + (base <= 36 ? 10 : 36);
  if (c == '@') return 62;
  if (c == '_') return 63;
  return 64;  // never a digit
}

}  // namespace

Result<int64_t> parse_arith_constant(std::string_view token) {
  size_t i = 0;
  int base = 10;
  bool prefixed = false;
  if (token.size() > 1 && token[0] == '0') {
    prefixed = true;
    i = 1;
    if (token[1] == 'x' || token[1] == 'X') {
      base = 16;
      i = 2;
    } else {
      base = 8;
    }
  }
  uint64_t v = 0;
  for (; i < token.size(); ++i) {
    char c = token[i];
    if (c == '#') {
      // `base#digits`: only after a plain decimal base.
      if (prefixed || base != 10) return tl::unexpected(constant_error(token, "invalid number"));
      if (v < 2 || v > 64) return tl::unexpected(constant_error(token, "invalid arithmetic base"));
      base = static_cast<int>(v);
      v = 0;
      prefixed = true;
      if (i + 1 == token.size()) {
        return tl::unexpected(constant_error(token, "invalid integer constant"));
      }
      continue;
    }
    int d = digit_value(c, base);
    if (d >= base) return tl::unexpected(constant_error(token, "value too great for base"));
    v = v * uint64_t(base) + uint64_t(d);  // wraps, as bash's does
  }
  return wrap(v);
}

namespace {

enum class Tok {
  kEnd, kNum, kName, kOp, kBad,
};

struct Token {
  Tok kind = Tok::kEnd;
  std::string_view text;                // the number, the name, or the operator
  std::optional<std::string_view> sub;  // kName: the text inside `[...]`
  size_t start = 0;
};

// The operators, longest first so that the first prefix found is the longest.
constexpr std::string_view kOps[] = {
    "<<=", ">>=", "**", "<<", ">>", "<=", ">=", "==", "!=", "&&", "||", "++", "--", "*=", "/=",
    "%=",  "+=",  "-=", "&=", "^=", "|=", "+",  "-",  "*",  "/",  "%",  "<",  ">",  "=",  "!",
    "~",   "&",   "^",  "|",  "?",  ":",  ",",  "(",  ")"};

// A variable reference that can be assigned to.
struct LValue {
  std::string_view name;
  std::optional<std::string_view> sub;
};

struct Value {
  int64_t v = 0;
  std::optional<LValue> lv;  // set only when the expression is exactly a variable
};

struct Shared {
  ArithEnv& env;
  const ArithLimits& limits;
  uint64_t steps = 0;
};

class Evaluator {
 public:
  Evaluator(std::string_view expr, Shared& sh, int depth, bool noeval)
      : expr_(expr), sh_(sh), depth_(depth), noeval_(noeval ? 1 : 0) {
    while (!expr_.empty() && is_space(expr_.front())) expr_.remove_prefix(1);
  }

  Result<int64_t> run() {
    WASMCAP_TRY(enter());
    WASMCAP_TRY(lex());
    if (tok_.kind == Tok::kEnd) return 0;
    Value v;
    WASMCAP_TRY_ASSIGN(v, comma());
    if (tok_.kind != Tok::kEnd) {
      if (tok_.kind == Tok::kOp && tok_.text == ")") return fail("syntax error in expression");
      if (tok_.kind == Tok::kBad || tok_.kind == Tok::kOp) {
        return fail("syntax error: invalid arithmetic operator");
      }
      return fail("syntax error in expression");
    }
    return v.v;
  }

 private:
  // --- errors ---------------------------------------------------------------------------------
  tl::unexpected<Error> fail(std::string_view what) const {
    size_t at = tok_.kind == Tok::kEnd ? prev_start_ : tok_.start;
    return tl::unexpected(Error(ErrorCode::kInvalidArgument,
                                shown(expr_) + ": " + std::string(what) + " (error token is \"" +
                                    shown(expr_.substr(std::min(at, expr_.size()))) + "\")"));
  }
  // Errors found after an operand was read (division by zero, a negative exponent): bash points
  // at the operand.
  tl::unexpected<Error> fail_prev(std::string_view what) const {
    return tl::unexpected(Error(ErrorCode::kInvalidArgument,
                                shown(expr_) + ": " + std::string(what) + " (error token is \"" +
                                    shown(expr_.substr(std::min(prev_start_, expr_.size()))) +
                                    "\")"));
  }
  Result<void> enter() {
    if (depth_ > sh_.limits.max_depth) return fail("expression recursion level exceeded");
    return {};
  }

  // --- lexer -----------------------------------------------------------------------------------
  Result<void> lex() {
    if (++sh_.steps > sh_.limits.max_steps) {
      return make_error(ErrorCode::kFuelExhausted,
                        "arithmetic needs more than " + std::to_string(sh_.limits.max_steps) +
                            " steps (the shell's bound on one expression)");
    }
    prev_start_ = tok_.start;
    while (pos_ < expr_.size() && is_space(expr_[pos_])) ++pos_;
    tok_ = Token{};
    tok_.start = pos_;
    if (pos_ == expr_.size()) return {};
    char c = expr_[pos_];
    if (is_digit(c)) {
      size_t end = pos_;
      while (end < expr_.size() &&
             (is_name_char(expr_[end]) || expr_[end] == '#' || expr_[end] == '@')) {
        ++end;
      }
      tok_ = {Tok::kNum, expr_.substr(pos_, end - pos_), std::nullopt, pos_};
      pos_ = end;
      return {};
    }
    if (is_name_start(c)) {
      size_t end = pos_;
      while (end < expr_.size() && is_name_char(expr_[end])) ++end;
      tok_ = {Tok::kName, expr_.substr(pos_, end - pos_), std::nullopt, pos_};
      pos_ = end;
      if (pos_ < expr_.size() && expr_[pos_] == '[') return subscript();
      return {};
    }
    for (std::string_view op : kOps) {
      if (expr_.substr(pos_, op.size()) == op) {
        tok_ = {Tok::kOp, op, std::nullopt, pos_};
        pos_ += op.size();
        return {};
      }
    }
    tok_ = {Tok::kBad, expr_.substr(pos_, 1), std::nullopt, pos_};
    ++pos_;
    return {};
  }

  // `[...]` after a name, brackets nested.
  Result<void> subscript() {
    size_t open = pos_;
    int nest = 0;
    for (size_t i = open; i < expr_.size(); ++i) {
      if (expr_[i] == '[') ++nest;
      if (expr_[i] == ']' && --nest == 0) {
        tok_.sub = expr_.substr(open + 1, i - open - 1);
        pos_ = i + 1;
        return {};
      }
    }
    pos_ = expr_.size();
    return fail("bad array subscript");
  }

  bool is_op(std::string_view op) const { return tok_.kind == Tok::kOp && tok_.text == op; }

  // --- variables -------------------------------------------------------------------------------
  Result<ArrayKey> key(const LValue& lv) {
    ArrayKey k;
    k.assoc = sh_.env.is_assoc(lv.name);
    if (k.assoc) {
      k.key = std::string(*lv.sub);
      return k;
    }
    WASMCAP_TRY_ASSIGN(k.index, nested(*lv.sub));
    return k;
  }

  // A sub-expression's value: a subscript, or a variable's text.
  Result<int64_t> nested(std::string_view text) {
    Evaluator inner(text, sh_, depth_ + 1, noeval_ > 0);
    return inner.run();
  }

  Result<int64_t> read(const LValue& lv) {
    if (noeval_ > 0) return 0;
    std::optional<std::string> text;
    if (lv.sub) {
      ArrayKey k;
      WASMCAP_TRY_ASSIGN(k, key(lv));
      WASMCAP_TRY_ASSIGN(text, sh_.env.get_element(lv.name, k));
    } else {
      WASMCAP_TRY_ASSIGN(text, sh_.env.get(lv.name));
    }
    if (!text) return 0;
    // The value is an expression too (bash: `e=1+2; $((e+3))` is 6). A copy: the environment's
    // storage may change while it is evaluated.
    auto owned = std::make_unique<std::string>(std::move(*text));
    return nested(*owned);
  }

  Result<void> write(const LValue& lv, int64_t v) {
    if (noeval_ > 0) return {};
    if (lv.sub) {
      ArrayKey k;
      WASMCAP_TRY_ASSIGN(k, key(lv));
      return sh_.env.set_element(lv.name, k, v);
    }
    return sh_.env.set(lv.name, v);
  }

  // --- grammar, lowest precedence first ----------------------------------------------------------
  Result<Value> comma() {
    Value v;
    WASMCAP_TRY_ASSIGN(v, assign());
    while (is_op(",")) {
      WASMCAP_TRY(lex());
      WASMCAP_TRY_ASSIGN(v, assign());
      v.lv.reset();
    }
    return v;
  }

  static bool assign_op(std::string_view op) {
    return op == "=" || op == "*=" || op == "/=" || op == "%=" || op == "+=" || op == "-=" ||
           op == "<<=" || op == ">>=" || op == "&=" || op == "^=" || op == "|=";
  }

  Result<Value> assign() {
    Value lhs;
    WASMCAP_TRY_ASSIGN(lhs, cond());
    if (tok_.kind != Tok::kOp || !assign_op(tok_.text)) return lhs;
    if (!lhs.lv) return fail("attempted assignment to non-variable");
    std::string_view op = tok_.text;
    WASMCAP_TRY(lex());
    // `a=b=c=...` recurses here: counted, so a long chain cannot exhaust the C++ stack.
    WASMCAP_TRY(enter_nested());
    Value rhs;
    WASMCAP_TRY_ASSIGN(rhs, assign());
    --depth_;
    int64_t v = rhs.v;
    if (op != "=") {
      int64_t old = 0;
      WASMCAP_TRY_ASSIGN(old, read(*lhs.lv));
      std::string_view bin = op.substr(0, op.size() - 1);
      WASMCAP_TRY_ASSIGN(v, binary(bin, old, rhs.v));
    }
    WASMCAP_TRY(write(*lhs.lv, v));
    return Value{v, std::nullopt};
  }

  Result<Value> cond() {
    WASMCAP_TRY(enter_nested());
    Value c;
    WASMCAP_TRY_ASSIGN(c, logical_or());
    if (!is_op("?")) return leave(c);
    bool take = c.v != 0;
    WASMCAP_TRY(lex());
    if (tok_.kind == Tok::kEnd || is_op(":")) return fail("expression expected");
    Value yes, no;
    noeval_ += take ? 0 : 1;
    auto y = comma();
    noeval_ -= take ? 0 : 1;
    WASMCAP_TRY_ASSIGN(yes, std::move(y));
    if (!is_op(":")) return fail("`:' expected for conditional expression");
    WASMCAP_TRY(lex());
    if (tok_.kind == Tok::kEnd) return fail("expression expected");
    noeval_ += take ? 1 : 0;
    auto n = cond();
    noeval_ -= take ? 1 : 0;
    WASMCAP_TRY_ASSIGN(no, std::move(n));
    return leave(Value{take ? yes.v : no.v, std::nullopt});
  }

  Result<Value> logical_or() {
    Value l;
    WASMCAP_TRY_ASSIGN(l, logical_and());
    while (is_op("||")) {
      WASMCAP_TRY(lex());
      bool skip = l.v != 0;
      noeval_ += skip;
      auto r = logical_and();
      noeval_ -= skip;
      Value rv;
      WASMCAP_TRY_ASSIGN(rv, std::move(r));
      l = Value{skip ? 1 : (rv.v != 0), std::nullopt};
    }
    return l;
  }

  Result<Value> logical_and() {
    Value l;
    WASMCAP_TRY_ASSIGN(l, bitwise(0));
    while (is_op("&&")) {
      WASMCAP_TRY(lex());
      bool skip = l.v == 0;
      noeval_ += skip;
      auto r = bitwise(0);
      noeval_ -= skip;
      Value rv;
      WASMCAP_TRY_ASSIGN(rv, std::move(r));
      l = Value{skip ? 0 : (rv.v != 0), std::nullopt};
    }
    return l;
  }

  // The left-associative binary levels, loosest first: | ^ & (== !=) (< <= > >=) (<< >>)
  // (+ -) (* / %).
  static constexpr std::string_view kLevels[][4] = {
      {"|"}, {"^"}, {"&"}, {"==", "!="}, {"<", "<=", ">", ">="}, {"<<", ">>"}, {"+", "-"},
      {"*", "/", "%"}};
  static constexpr int kNumLevels = 8;

  bool at_level(int level) {
    if (tok_.kind != Tok::kOp) return false;
    // `++`/`--` after an operand that is not a variable (`5++`) is a binary `+`/`-` followed by
    // a unary one, as bash reads it.
    if (level == 6 && (tok_.text == "++" || tok_.text == "--")) {
      tok_.text = tok_.text.substr(0, 1);
      pos_ = tok_.start + 1;
      return true;
    }
    for (std::string_view op : kLevels[level]) {
      if (!op.empty() && tok_.text == op) return true;
    }
    return false;
  }

  Result<Value> bitwise(int level) {
    if (level == kNumLevels) return exponent();
    Value l;
    WASMCAP_TRY_ASSIGN(l, bitwise(level + 1));
    while (at_level(level)) {
      std::string_view op = tok_.text;
      WASMCAP_TRY(lex());
      Value r;
      WASMCAP_TRY_ASSIGN(r, bitwise(level + 1));
      int64_t v = 0;
      WASMCAP_TRY_ASSIGN(v, binary(op, l.v, r.v));
      l = Value{v, std::nullopt};
    }
    return l;
  }

  Result<int64_t> binary(std::string_view op, int64_t a, int64_t b) {
    if (op == "+") return add(a, b);
    if (op == "-") return sub(a, b);
    if (op == "*") return mul(a, b);
    if (op == "/" || op == "%") {
      if (noeval_ > 0) return 0;
      if (b == 0) return fail_prev("division by 0");
      if (b == -1) return op == "/" ? neg(a) : 0;  // INT64_MIN / -1 overflows in C++
      return op == "/" ? a / b : a % b;
    }
    if (op == "<<") return wrap(uint64_t(a) << (uint64_t(b) & 63));
    if (op == ">>") return a >> (uint64_t(b) & 63);
    if (op == "&") return a & b;
    if (op == "^") return a ^ b;
    if (op == "|") return a | b;
    if (op == "==") return a == b;
    if (op == "!=") return a != b;
    if (op == "<") return a < b;
    if (op == "<=") return a <= b;
    if (op == ">") return a > b;
    if (op == ">=") return a >= b;
    return fail("syntax error: invalid arithmetic operator");
  }

  // `**`: right-associative; its operands are unary expressions.
  Result<Value> exponent() {
    Value base;
    WASMCAP_TRY_ASSIGN(base, unary());
    if (!is_op("**")) return base;
    WASMCAP_TRY(lex());
    WASMCAP_TRY(enter_nested());
    Value e;
    WASMCAP_TRY_ASSIGN(e, exponent());
    --depth_;
    // Checked in an untaken branch too, as bash does (its operands read as 0 there).
    if (e.v < 0) return fail_prev("exponent less than 0");
    return Value{power(base.v, e.v), std::nullopt};
  }

  Result<Value> unary() {
    if (tok_.kind == Tok::kOp && (tok_.text == "++" || tok_.text == "--")) {
      // `++name`: a pre-increment; `++5` is two unary pluses (bash).
      size_t after = pos_;
      while (after < expr_.size() && is_space(expr_[after])) ++after;
      if (after < expr_.size() && is_name_start(expr_[after])) {
        int64_t delta = tok_.text == "++" ? 1 : -1;
        WASMCAP_TRY(lex());
        LValue lv{tok_.text, tok_.sub};
        WASMCAP_TRY(lex());
        int64_t old = 0;
        WASMCAP_TRY_ASSIGN(old, read(lv));
        int64_t v = add(old, delta);
        WASMCAP_TRY(write(lv, v));
        return Value{v, std::nullopt};
      }
      // Consume one character of the two: `--5` is -(-5).
      tok_.text = tok_.text.substr(0, 1);
      pos_ = tok_.start + 1;
    }
    if (tok_.kind == Tok::kOp &&
        (tok_.text == "!" || tok_.text == "~" || tok_.text == "-" || tok_.text == "+")) {
      char op = tok_.text[0];
      WASMCAP_TRY(lex());
      WASMCAP_TRY(enter_nested());
      Value v;
      WASMCAP_TRY_ASSIGN(v, unary());
      --depth_;
      int64_t r = op == '!' ? (v.v == 0) : op == '~' ? ~v.v : op == '-' ? neg(v.v) : v.v;
      return Value{r, std::nullopt};
    }
    return postfix();
  }

  Result<Value> postfix() {
    if (tok_.kind == Tok::kName) {
      LValue lv{tok_.text, tok_.sub};
      WASMCAP_TRY(lex());
      int64_t v = 0;
      WASMCAP_TRY_ASSIGN(v, read(lv));
      if (is_op("++") || is_op("--")) {
        int64_t delta = tok_.text == "++" ? 1 : -1;
        WASMCAP_TRY(lex());
        WASMCAP_TRY(write(lv, add(v, delta)));
        return Value{v, std::nullopt};
      }
      return Value{v, lv};
    }
    return primary();
  }

  Result<Value> primary() {
    if (tok_.kind == Tok::kNum) {
      int64_t v = 0;
      WASMCAP_TRY_ASSIGN(v, parse_arith_constant(tok_.text));
      WASMCAP_TRY(lex());
      return Value{v, std::nullopt};
    }
    if (is_op("(")) {
      WASMCAP_TRY(lex());
      WASMCAP_TRY(enter_nested());
      Value v;
      WASMCAP_TRY_ASSIGN(v, comma());
      --depth_;
      if (!is_op(")")) return fail("missing `)'");
      WASMCAP_TRY(lex());
      return Value{v.v, std::nullopt};
    }
    return fail("syntax error: operand expected");
  }

  Result<void> enter_nested() {
    ++depth_;
    return enter();
  }
  Result<Value> leave(Value v) {
    --depth_;
    return v;
  }

  std::string_view expr_;
  Shared& sh_;
  int depth_;
  int noeval_;
  size_t pos_ = 0;
  size_t prev_start_ = 0;
  Token tok_;
};

}  // namespace

Result<int64_t> eval_arith(std::string_view expr, ArithEnv& env, const ArithLimits& limits) {
  Shared sh{env, limits};
  Evaluator e(expr, sh, 0, false);
  return e.run();
}

}  // namespace wasmcap::shell

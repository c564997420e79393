// src/shell/arith.h: bash's arithmetic (operators, literals, lvalues, short-circuit, recursive
// variable evaluation), its error messages, the bounds on depth and steps, and a differential
// test against bash on generated expressions.
#include "shell/arith.h"

#include <gtest/gtest.h>

#include <functional>
#include <map>
#include <random>
#include <set>
#include <sstream>

#include "bash_oracle.h"

namespace wasmcap::shell {
namespace {

// Variables in maps; element keys as "name[index]" or "name[key]".
class MapEnv : public ArithEnv {
 public:
  std::map<std::string, std::string, std::less<>> vars;
  std::map<std::string, std::string, std::less<>> elems;
  std::set<std::string, std::less<>> assoc;
  bool nounset = false;
  int sets = 0;

  Result<std::optional<std::string>> get(std::string_view name) override {
    auto it = vars.find(name);
    if (it == vars.end()) {
      if (nounset) return make_error(ErrorCode::kInvalidArgument, std::string(name) + ": unbound variable");
      return std::optional<std::string>();
    }
    return std::optional<std::string>(it->second);
  }
  Result<void> set(std::string_view name, int64_t v) override {
    ++sets;
    vars[std::string(name)] = std::to_string(v);
    return {};
  }
  bool is_assoc(std::string_view name) override { return assoc.count(name) != 0; }
  static std::string elem(std::string_view name, const ArrayKey& k) {
    return std::string(name) + "[" + (k.assoc ? k.key : std::to_string(k.index)) + "]";
  }
  Result<std::optional<std::string>> get_element(std::string_view name, const ArrayKey& k) override {
    auto it = elems.find(elem(name, k));
    if (it == elems.end()) return std::optional<std::string>();
    return std::optional<std::string>(it->second);
  }
  Result<void> set_element(std::string_view name, const ArrayKey& k, int64_t v) override {
    ++sets;
    elems[elem(name, k)] = std::to_string(v);
    return {};
  }
};

int64_t eval(std::string_view e, MapEnv& env) {
  auto r = eval_arith(e, env);
  EXPECT_TRUE(r.has_value()) << e << ": " << (r ? "" : r.error().message);
  return r.value_or(-999);
}
int64_t eval(std::string_view e) {
  MapEnv env;
  return eval(e, env);
}
std::string error_of(std::string_view e) {
  MapEnv env;
  auto r = eval_arith(e, env);
  EXPECT_FALSE(r.has_value()) << e;
  return r ? "" : r.error().message;
}

constexpr int64_t kMin = INT64_MIN;
constexpr int64_t kMax = INT64_MAX;

// Each row checked against bash's $(( )).
TEST(Arith, ValuesAsBash) {
  const std::pair<const char*, int64_t> cases[] = {
      {"", 0},
      {"  ", 0},
      {"1 + 2 * 3", 7},
      {"(1 + 2) * 3", 9},
      {"7 / 2", 3},
      {"-7 / 2", -3},
      {"-7 % 3", -1},
      {"7 % -3", 1},
      {"2 ** 10", 1024},
      {"2 ** 3 ** 2", 512},
      {"-3 ** 2", 9},
      {"0 ** 0", 1},
      {"2 ** 63", kMin},
      {"2 ** 64", 0},
      {"1 << 3", 8},
      {"1 << 64", 1},
      {"1 << -1", kMin},
      {"-1 >> 1", -1},
      {"-16 >> 2", -4},
      {"5 & 3", 1},
      {"5 | 3", 7},
      {"5 ^ 3", 6},
      {"~0", -1},
      {"!0", 1},
      {"!5", 0},
      {"--5", 5},
      {"++5", 5},
      {"- -5", 5},
      {"-+-5", 5},
      {"1 < 2", 1},
      {"2 <= 2", 1},
      {"3 > 4", 0},
      {"3 >= 4", 0},
      {"1 == 1", 1},
      {"1 != 1", 0},
      {"1 && 0", 0},
      {"1 && 7", 1},
      {"0 || 0", 0},
      {"0 || 3", 1},
      {"1 ? 2 : 3", 2},
      {"0 ? 2 : 3", 3},
      {"1?2?3:4:5", 3},
      {"0 ? 1 : 0 ? 2 : 3", 3},
      {"1, 2, 3", 3},
      {"1 + 2 == 3 && 4 | 1", 1},
      {"5 - 3 - 1", 1},
      {"100 / 10 / 5", 2},
      {"2 + 3 << 1", 10},
      {"1 | 2 ^ 3 & 4", 3},
      {"0x1F", 31},
      {"0X1f", 31},
      {"0x", 0},
      {"017", 15},
      {"0", 0},
      {"0010", 8},
      {"2#101", 5},
      {"16#ff", 255},
      {"24#ag7", 6151},
      {"36#z", 35},
      {"37#z", 35},
      {"64#a", 10},
      {"64#Z", 61},
      {"64#@", 62},
      {"64#_", 63},
      {"9223372036854775807 + 1", kMin},
      {"-9223372036854775807 - 1", kMin},
      {"(-9223372036854775807 - 1) / -1", kMin},
      {"(-9223372036854775807 - 1) % -1", 0},
      {"(-9223372036854775807 - 1) * -1", kMin},
      {"-(-9223372036854775807 - 1)", kMin},
      {"9223372036854775808", kMin},
      {"99999999999999999999", 7766279631452241919},
      {"0x10000000000000000", 0},
      {"9223372036854775807", kMax},
      {"1\n+\n2", 3},
      {"undefined_var", 0},
      {"undefined_var + 5", 5},
      {"u[3]", 0},
  };
  for (const auto& [expr, value] : cases) EXPECT_EQ(eval(expr), value) << expr;
}

TEST(Arith, VariablesAndAssignment) {
  MapEnv env;
  env.vars = {{"a", "5"}, {"e", "1+2"}, {"foo", "5"}, {"bar", "foo"}, {"spam", "bar"},
              {"blank", ""}, {"space", " "}};
  EXPECT_EQ(eval("a + 1", env), 6);
  EXPECT_EQ(eval("e + 3", env), 6);  // the value is an expression
  EXPECT_EQ(eval("e * 2", env), 6);  // evaluated on its own: (1+2)*2
  EXPECT_EQ(eval("spam + 1", env), 6);
  EXPECT_EQ(eval("blank + space", env), 0);
  EXPECT_EQ(eval("x = 3", env), 3);
  EXPECT_EQ(env.vars["x"], "3");
  EXPECT_EQ(eval("x += 4", env), 7);
  EXPECT_EQ(eval("x -= 1", env), 6);
  EXPECT_EQ(eval("x *= 2", env), 12);
  EXPECT_EQ(eval("x /= 5", env), 2);
  EXPECT_EQ(eval("x %= 2", env), 0);
  EXPECT_EQ(eval("x |= 6", env), 6);
  EXPECT_EQ(eval("x &= 3", env), 2);
  EXPECT_EQ(eval("x ^= 1", env), 3);
  EXPECT_EQ(eval("x <<= 2", env), 12);
  EXPECT_EQ(eval("x >>= 1", env), 6);
  EXPECT_EQ(eval("y = z = 4", env), 4);
  EXPECT_EQ(env.vars["y"], "4");
  EXPECT_EQ(env.vars["z"], "4");
  EXPECT_EQ(eval("i++", env), 0);
  EXPECT_EQ(eval("i++", env), 1);
  EXPECT_EQ(eval("++i", env), 3);
  EXPECT_EQ(eval("--i", env), 2);
  EXPECT_EQ(eval("i--", env), 2);
  EXPECT_EQ(env.vars["i"], "1");
  EXPECT_EQ(eval("1 ? q = 1 : 42", env), 1);
  EXPECT_EQ(env.vars["q"], "1");
  EXPECT_EQ(eval("a+++1", env), 6);  // (a++) + 1
  EXPECT_EQ(env.vars["a"], "6");
}

TEST(Arith, ArrayElements) {
  MapEnv env;
  env.elems = {{"a[0]", "5"}, {"a[2]", "2*3"}};
  EXPECT_EQ(eval("a[0] + a[1+1]", env), 11);
  EXPECT_EQ(eval("a[5] = 9", env), 9);
  EXPECT_EQ(env.elems["a[5]"], "9");
  EXPECT_EQ(eval("a[0]++ + ++a[2]", env), 12);
  EXPECT_EQ(env.elems["a[0]"], "6");
  EXPECT_EQ(env.elems["a[2]"], "7");
  env.assoc.insert("h");
  EXPECT_EQ(eval("h[k x] = 4", env), 4);
  EXPECT_EQ(env.elems["h[k x]"], "4");
  EXPECT_EQ(eval("h[k x] * 2", env), 8);
}

// `&&`, `||` and `?:` skip the untaken branch: no assignment, no error.
TEST(Arith, ShortCircuitHasNoSideEffects) {
  MapEnv env;
  EXPECT_EQ(eval("0 && (x = 1)", env), 0);
  EXPECT_EQ(eval("1 || (x = 1)", env), 1);
  EXPECT_EQ(eval("1 ? 2 : (x = 1)", env), 2);
  EXPECT_EQ(eval("0 ? (x = 1) : 3", env), 3);
  EXPECT_EQ(eval("0 && 1/0", env), 0);
  EXPECT_EQ(eval("1 || 2**x", env), 1);
  // bash checks a negative exponent even there.
  EXPECT_FALSE(eval_arith("1 || 2**-1", env).has_value());
  EXPECT_EQ(eval("0 && x++", env), 0);
  EXPECT_EQ(eval("0 && a[i++]", env), 0);
  EXPECT_EQ(env.sets, 0);
  EXPECT_TRUE(env.vars.empty());
  // The untaken branch is still parsed.
  EXPECT_FALSE(eval_arith("0 && (1 +", env).has_value());
}

// Each message as bash prints it after its "line N: " prefix.
TEST(Arith, ErrorsAsBash) {
  EXPECT_EQ(error_of("1/0 "), "1/0 : division by 0 (error token is \"0 \")");
  EXPECT_EQ(error_of("5%0 "), "5%0 : division by 0 (error token is \"0 \")");
  EXPECT_EQ(error_of("42x "), "42x: value too great for base (error token is \"42x\")");
  EXPECT_EQ(error_of("x42+ "), "x42+ : syntax error: operand expected (error token is \"+ \")");
  EXPECT_EQ(error_of("2#A "), "2#A: value too great for base (error token is \"2#A\")");
  EXPECT_EQ(error_of("09"), "09: value too great for base (error token is \"09\")");
  EXPECT_EQ(error_of("02#0110"), "02#0110: invalid number (error token is \"02#0110\")");
  EXPECT_EQ(error_of("0#1"), "0#1: invalid number (error token is \"0#1\")");
  EXPECT_EQ(error_of("65#1"), "65#1: invalid arithmetic base (error token is \"65#1\")");
  EXPECT_EQ(error_of("1#1"), "1#1: invalid arithmetic base (error token is \"1#1\")");
  EXPECT_EQ(error_of("10#"), "10#: invalid integer constant (error token is \"10#\")");
  EXPECT_EQ(error_of(" 2**-1 "), "2**-1 : exponent less than 0 (error token is \"1 \")");
  EXPECT_EQ(error_of("1 + "), "1 + : syntax error: operand expected (error token is \"+ \")");
  EXPECT_EQ(error_of("a= "), "a= : syntax error: operand expected (error token is \"= \")");
  EXPECT_EQ(error_of("1=2 "),
            "1=2 : attempted assignment to non-variable (error token is \"=2 \")");
  EXPECT_EQ(error_of("(a+2)=3 "),
            "(a+2)=3 : attempted assignment to non-variable (error token is \"=3 \")");
  EXPECT_EQ(error_of("1[2]=3 "),
            "1[2]=3 : syntax error: invalid arithmetic operator (error token is \"[2]=3 \")");
  EXPECT_EQ(error_of("1 ? 2 "),
            "1 ? 2 : `:' expected for conditional expression (error token is \"2 \")");
  EXPECT_EQ(error_of("1 ? 2 : "), "1 ? 2 : : expression expected (error token is \": \")");
  EXPECT_EQ(error_of("a++ ++ "), "a++ ++ : syntax error: operand expected (error token is \"+ \")");
  EXPECT_EQ(error_of("-- "), "-- : syntax error: operand expected (error token is \"- \")");
  EXPECT_EQ(error_of("5++ "), "5++ : syntax error: operand expected (error token is \"+ \")");
  EXPECT_EQ(error_of("3 4 "), "3 4 : syntax error in expression (error token is \"4 \")");
  EXPECT_EQ(error_of("1.5 "),
            "1.5 : syntax error: invalid arithmetic operator (error token is \".5 \")");
  EXPECT_EQ(error_of("'1' "), "'1' : syntax error: operand expected (error token is \"'1' \")");
  EXPECT_EQ(error_of("1 , "), "1 , : syntax error: operand expected (error token is \", \")");
  EXPECT_EQ(error_of("5 > > 3 "),
            "5 > > 3 : syntax error: operand expected (error token is \"> 3 \")");
  EXPECT_EQ(error_of("b[1 "), "b[1 : bad array subscript (error token is \"b[1 \")");
  EXPECT_EQ(error_of("(1 "), "(1 : missing `)' (error token is \"1 \")");
  // Untrusted text in a message is escaped.
  EXPECT_EQ(error_of("1 + \x1b[2J"),
            "1 + \\x1b[2J: syntax error: operand expected (error token is \"\\x1b[2J\")");
}

TEST(Arith, EnvironmentErrorsPropagate) {
  MapEnv env;
  env.nounset = true;
  auto r = eval_arith("y + 5", env);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().message, "y: unbound variable");
  // Not looked up in an untaken branch.
  EXPECT_TRUE(eval_arith("0 && y", env).has_value());
}

// Recursion through variables stops at the depth bound: bash's "expression recursion level
// exceeded" for `x=x; $((x))`.
TEST(Arith, SelfReferenceHitsTheDepthBound) {
  MapEnv env;
  env.vars = {{"x", "x"}};
  auto r = eval_arith("x", env);
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message.find("expression recursion level exceeded"), std::string::npos);
  env.vars = {{"a", "b + 1"}, {"b", "a + 1"}};
  EXPECT_FALSE(eval_arith("a", env).has_value());
}

// Nesting within one expression counts too, so hostile text cannot exhaust the C++ stack, and
// the bound is what stops it (the same depth just below the bound evaluates).
TEST(Arith, NestingDepthIsBounded) {
  ArithLimits lim;
  lim.max_depth = 64;
  MapEnv env;
  for (const char* open : {"(", "-", "!", "~", "1?", "a=", "2**"}) {
    std::string deep, shallow;
    for (int i = 0; i < 200; ++i) deep += open;
    for (int i = 0; i < 20; ++i) shallow += open;
    std::string close_deep = std::string(open) == "(" ? std::string(200, ')') : "";
    std::string close_shallow = std::string(open) == "(" ? std::string(20, ')') : "";
    std::string tail = std::string(open) == "1?" ? "1" : "1";
    auto fill = [&](const std::string& prefix, int n, const std::string& close) {
      std::string e = prefix + tail;
      if (std::string(open) == "1?") {
        for (int i = 0; i < n; ++i) e += ":0";
      }
      return e + close;
    };
    auto d = eval_arith(fill(deep, 200, close_deep), env, lim);
    ASSERT_FALSE(d.has_value()) << open;
    EXPECT_NE(d.error().message.find("recursion level exceeded"), std::string::npos) << open;
    auto s = eval_arith(fill(shallow, 20, close_shallow), env, lim);
    EXPECT_TRUE(s.has_value()) << open << ": " << (s ? "" : s.error().message);
  }
  // The default bound holds against a megabyte of parentheses.
  std::string huge(1 << 20, '(');
  auto r = eval_arith(huge, env);
  EXPECT_FALSE(r.has_value());
}

// Variables that double at each level would cost 2^40 evaluations: the step bound stops them.
TEST(Arith, StepsAreBounded) {
  MapEnv env;
  env.vars["x0"] = "1";
  // (Appended piecewise: GCC 12's -Wrestrict misfires on "x" + std::to_string(i).)
  auto name = [](int i) {
    std::string s = "x";
    s += std::to_string(i);
    return s;
  };
  for (int i = 1; i <= 40; ++i) env.vars[name(i)] = name(i - 1) + "+" + name(i - 1);
  ArithLimits lim;
  lim.max_steps = 100000;
  auto r = eval_arith("x40", env, lim);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::kFuelExhausted);
  // Below the bound the same chain evaluates: x10 is 1024 ones.
  auto ok = eval_arith("x10", env, lim);
  ASSERT_TRUE(ok.has_value());
  EXPECT_EQ(*ok, 1024);
}

TEST(Arith, Constants) {
  EXPECT_EQ(*parse_arith_constant("0x1F"), 31);
  EXPECT_EQ(*parse_arith_constant("017"), 15);
  EXPECT_EQ(*parse_arith_constant("36#zz"), 35 * 36 + 35);
  EXPECT_FALSE(parse_arith_constant("08").has_value());
}

// Differential: random expressions over three variables, against bash's $(( )) in a subshell
// each (the result and the variables after, or an error).
TEST(Arith, DifferentialAgainstBash) {
  if (!testing::have_bash()) GTEST_SKIP() << "no " << testing::kBashPath;
  std::mt19937 rng(30);
  const char* atoms[] = {"0", "1", "2", "7", "-3", "0x1f", "017", "2#101", "a", "b", "c", "a++",
                         "--b", "c--", "(a=3)", "(b+=2)"};
  const char* binops[] = {"+", "-", "*", "/", "%", "**", "<<", ">>", "&", "|", "^", "&&", "||",
                          "<", "<=", ">", ">=", "==", "!=", ","};
  const char* unops[] = {"-", "!", "~", "+"};
  std::function<std::string(int)> gen = [&](int depth) -> std::string {
    int pick = static_cast<int>(rng() % 10);
    if (depth <= 0 || pick < 3) return atoms[rng() % std::size(atoms)];
    if (pick < 7) {
      return gen(depth - 1) + " " + binops[rng() % std::size(binops)] + " " + gen(depth - 1);
    }
    if (pick < 8) return std::string(unops[rng() % std::size(unops)]) + gen(depth - 1);
    if (pick < 9) return gen(depth - 1) + " ? " + gen(depth - 1) + " : " + gen(depth - 1);
    return "(" + gen(depth - 1) + ")";
  };
  std::vector<std::string> exprs;
  std::ostringstream script;
  for (int n = 0; n < 1500; ++n) {
    std::string e = gen(4);
    exprs.push_back(e);
    script << "( a=5 b=-2 c=0; r=$(( " << e << " )) && echo \"$r $a $b $c\" ) 2>/dev/null "
           << "|| echo ERR\n";
  }
  auto out = testing::run_bash(script.str());
  ASSERT_TRUE(out.has_value());
  std::istringstream lines(*out);
  int mismatches = 0;
  for (const std::string& e : exprs) {
    std::string expected;
    ASSERT_TRUE(std::getline(lines, expected));
    MapEnv env;
    env.vars = {{"a", "5"}, {"b", "-2"}, {"c", "0"}};
    auto r = eval_arith(e, env);
    std::string got = r ? std::to_string(*r) + " " + env.vars["a"] + " " + env.vars["b"] + " " +
                              env.vars["c"]
                        : "ERR";
    if (got != expected && ++mismatches <= 20) {
      ADD_FAILURE() << "$(( " << e << " ))\n  bash: " << expected << "\n  ours: " << got;
    }
  }
  EXPECT_EQ(mismatches, 0);
}

}  // namespace
}  // namespace wasmcap::shell

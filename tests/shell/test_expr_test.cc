// src/shell/test_expr.h: test / [ by argument count and bash's grammar, its messages, file tests
// through TestEnv, [[ ]]'s leaves (patterns, arithmetic operands, =~ with BASH_REMATCH), the
// regex bounds, and a differential test against bash's test on real files.
#include "shell/regex.h"
#include "shell/test_expr.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include "bash_oracle.h"

namespace wasmcap::shell {
namespace {

// Paths resolved under `dir` with the host's stat, as the executor resolves them under its
// preopens.
class DirEnv : public TestEnv {
 public:
  explicit DirEnv(std::string dir) : dir_(std::move(dir)) {}
  std::optional<FileInfo> stat(std::string_view path, bool follow) override {
    if (path.empty()) return std::nullopt;
    std::string p = dir_ + "/" + std::string(path);
    struct ::stat st {};
    if ((follow ? ::stat(p.c_str(), &st) : ::lstat(p.c_str(), &st)) != 0) return std::nullopt;
    FileInfo f;
    f.type = S_ISREG(st.st_mode)    ? FileInfo::Type::kRegular
             : S_ISDIR(st.st_mode)  ? FileInfo::Type::kDirectory
             : S_ISLNK(st.st_mode)  ? FileInfo::Type::kSymlink
             : S_ISFIFO(st.st_mode) ? FileInfo::Type::kFifo
                                    : FileInfo::Type::kOther;
    f.size = uint64_t(st.st_size);
    f.mode = st.st_mode & 07777;
    f.dev = st.st_dev;
    f.ino = st.st_ino;
    f.mtime_ns = int64_t(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
    f.atime_ns = int64_t(st.st_atim.tv_sec) * 1000000000 + st.st_atim.tv_nsec;
    return f;
  }
  bool access(std::string_view path, char mode) override {
    std::string p = dir_ + "/" + std::string(path);
    return ::access(p.c_str(), mode == 'r' ? R_OK : mode == 'w' ? W_OK : X_OK) == 0;
  }
  bool variable_set(std::string_view name) override { return name == "HOME"; }
  bool option_set(std::string_view name) override { return name == "errexit"; }

 private:
  std::string dir_;
};

// A scratch tree: f (a file with text), e (empty), d (a directory), l -> f, old (older than f).
class TestExprTree : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/wasmcap-test-expr-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    std::ofstream(dir_ + "/f") << "text";
    std::ofstream(dir_ + "/e");
    std::ofstream(dir_ + "/old") << "x";
    std::filesystem::create_directory(dir_ + "/d");
    std::filesystem::create_symlink("f", dir_ + "/l");
    std::filesystem::last_write_time(dir_ + "/old", std::filesystem::last_write_time(dir_ + "/f") -
                                                        std::chrono::hours(1));
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // 0 true, 1 false, 2 error.
  int status(const std::vector<std::string>& argv, bool bracket = false) {
    DirEnv env(dir_);
    auto r = eval_test(argv, bracket, env);
    return r ? (*r ? 0 : 1) : 2;
  }
  std::string message(const std::vector<std::string>& argv, bool bracket = false) {
    DirEnv env(dir_);
    auto r = eval_test(argv, bracket, env);
    return r ? "" : r.error().message;
  }

  std::string dir_;
};

// Each row checked against bash's test.
TEST_F(TestExprTree, ArgumentCountRulesAsBash) {
  const std::pair<std::vector<std::string>, int> cases[] = {
      {{}, 1},
      {{""}, 1},
      {{"x"}, 0},
      {{"-n"}, 0},
      {{"!"}, 0},
      {{"("}, 0},
      {{"="}, 0},
      {{"-f", "f"}, 0},
      {{"!", ""}, 0},
      {{"!", "x"}, 1},
      {{"-z", "="}, 1},
      {{"a", "b"}, 2},
      {{"a", "=", "a"}, 0},
      {{"a", "==", "a"}, 0},
      {{"a", "!=", "a"}, 1},
      {{"a", "=", "*"}, 1},  // no globbing in test
      {{"!", "=", "a"}, 1},
      {{"-a", "-a", "-a"}, 0},
      {{"", "-o", "x"}, 0},
      {{"", "-a", "x"}, 1},
      {{"!", "-z", "x"}, 0},
      {{"(", "", ")"}, 1},
      {{"(", "x", ")"}, 0},
      {{"a", "b", "c"}, 2},
      {{"!", "a", "=", "b"}, 0},
      {{"(", "-z", "x", ")"}, 1},
      {{"x", "-a", "y", "-o", ""}, 0},
      {{"", "-a", "y", "-o", ""}, 1},
      {{"", "-o", "y", "-a", ""}, 1},
      {{"(", "a", "=", "a", ")", "-a", "!", "(", "b", "=", "c", ")"}, 0},
      {{"a", "b", "c", "d", "e"}, 2},
      {{"1", "-eq", "1"}, 0},
      {{" 12 ", "-eq", "12"}, 0},
      {{"010", "-eq", "10"}, 0},
      {{"-1", "-lt", "0"}, 0},
      {{"+1", "-eq", "1"}, 0},
      {{"1+2", "-eq", "3"}, 2},
      {{"0x1", "-eq", "1"}, 2},
      {{"", "-eq", "0"}, 2},
      {{"1", "-eq", "99999999999999999999"}, 2},
      {{"-9223372036854775808", "-lt", "9223372036854775807"}, 0},
      {{"a", "<", "b"}, 0},
      {{"b", ">", "a"}, 0},
      {{"B", "<", "a"}, 0},
      {{"-t", "invalid"}, 1},
      {{"a", "-o", "b", "-o"}, 2},
  };
  for (const auto& [argv, want] : cases) {
    std::string shown;
    for (const auto& a : argv) {
      shown += '[';
      shown += a;
      shown += ']';
    }
    EXPECT_EQ(status(argv), want) << shown;
  }
}

TEST_F(TestExprTree, MessagesAsBash) {
  EXPECT_EQ(message({"a", "b"}), "a: unary operator expected");
  EXPECT_EQ(message({"a", "b", "c"}), "b: binary operator expected");
  EXPECT_EQ(message({"a", "b", "c", "d", "e"}), "too many arguments");
  EXPECT_EQ(message({"1", "-eq", "a"}), "a: integer expression expected");
  EXPECT_EQ(message({"a", "-o", "b", "-o"}), "argument expected");
  EXPECT_EQ(message({"a"}, true), "missing `]'");
  EXPECT_EQ(message({"a", "]"}, false), "a: unary operator expected");
  EXPECT_EQ(message({"a", "]", "]"}, true), "a: unary operator expected");
  EXPECT_EQ(message({"(", "a", "=", "a", "b", "c"}), "`)' expected, found b");
  // Untrusted text in a message is escaped.
  EXPECT_EQ(message({"1", "-eq", "\x1b[2J"}), "\\x1b[2J: integer expression expected");
  EXPECT_EQ(status({"a", "]"}, true), 0);
  EXPECT_EQ(status({"]"}, true), 1);
}

// The evaluator's recursion is bounded: `!` is counted (90,000 of them took 19 MB of stack,
// enough to overflow a pipeline stage's thread), `(` nests at most kMaxTestNesting levels.
TEST_F(TestExprTree, NestingIsBounded) {
  std::vector<std::string> bangs(200001, "!");
  bangs.back() = "x";
  EXPECT_EQ(status(bangs), 0);  // an even number of `!`
  bangs.erase(bangs.begin());
  EXPECT_EQ(status(bangs), 1);
  auto parens = [](int n) {
    std::vector<std::string> a(static_cast<size_t>(n), "(");
    a.push_back("x");
    a.insert(a.end(), static_cast<size_t>(n), ")");
    return a;
  };
  EXPECT_EQ(status(parens(kMaxTestNesting)), 0);
  EXPECT_EQ(message(parens(kMaxTestNesting + 1)),
            "expression nested deeper than 256 levels of `('");
  EXPECT_EQ(message(parens(100000)), "expression nested deeper than 256 levels of `('");
}

TEST_F(TestExprTree, FileTests) {
  EXPECT_EQ(status({"-e", "f"}), 0);
  EXPECT_EQ(status({"-a", "f"}), 0);
  EXPECT_EQ(status({"-e", "nosuch"}), 1);
  EXPECT_EQ(status({"-f", "f"}), 0);
  EXPECT_EQ(status({"-f", "d"}), 1);
  EXPECT_EQ(status({"-d", "d"}), 0);
  EXPECT_EQ(status({"-f", "l"}), 0);  // follows the link
  EXPECT_EQ(status({"-L", "l"}), 0);
  EXPECT_EQ(status({"-h", "f"}), 1);
  EXPECT_EQ(status({"-s", "f"}), 0);
  EXPECT_EQ(status({"-s", "e"}), 1);
  EXPECT_EQ(status({"-p", "f"}), 1);
  EXPECT_EQ(status({"-r", "f"}), 0);
  EXPECT_EQ(status({"-x", "nosuch"}), 1);
  EXPECT_EQ(status({"f", "-nt", "old"}), 0);
  EXPECT_EQ(status({"old", "-ot", "f"}), 0);
  EXPECT_EQ(status({"f", "-nt", "nosuch"}), 0);
  EXPECT_EQ(status({"nosuch", "-ot", "f"}), 0);
  EXPECT_EQ(status({"f", "-ef", "l"}), 0);
  EXPECT_EQ(status({"f", "-ef", "e"}), 1);
  EXPECT_EQ(status({"-v", "HOME"}), 0);
  EXPECT_EQ(status({"-o", "errexit"}), 0);
  EXPECT_EQ(status({"-o", "bogus"}), 1);
  EXPECT_EQ(status({"!", "-o", "bogus"}), 0);
}

// Differential: random argument lists over operators, parentheses and operands (files of the
// scratch tree among them), against bash's test in the same tree: the same status.
TEST_F(TestExprTree, DifferentialAgainstBash) {
  if (!testing::have_bash()) GTEST_SKIP() << "no " << testing::kBashPath;
  const char* vocab[] = {"f", "d", "l", "e", "old", "nosuch", "", "a", "b", "1", "-1", " 2 ",
                         "010", "x1", "!", "!", "(", ")", "-a", "-o", "=", "!=", "==", "<", ">",
                         "-eq", "-lt", "-ge", "-ne", "-n", "-z", "-f", "-d", "-e", "-L", "-s",
                         "-nt", "-ot", "-ef", "-h"};
  std::mt19937 rng(30);
  std::vector<std::vector<std::string>> cases;
  std::ostringstream script;
  script << "cd " << testing::bash_quote(dir_) << " || exit 1\n";
  for (int n = 0; n < 3000; ++n) {
    std::vector<std::string> argv;
    int len = static_cast<int>(rng() % 7);
    for (int k = 0; k < len; ++k) argv.push_back(vocab[rng() % std::size(vocab)]);
    script << "test";
    for (const auto& a : argv) script << " " << testing::bash_quote(a);
    script << " 2>/dev/null; echo $?\n";
    cases.push_back(argv);
  }
  auto out = testing::run_bash(script.str());
  ASSERT_TRUE(out.has_value());
  std::istringstream lines(*out);
  int mismatches = 0;
  for (const auto& argv : cases) {
    std::string line;
    ASSERT_TRUE(std::getline(lines, line));
    int want = std::stoi(line);
    int got = status(argv);
    if (got != want && ++mismatches <= 20) {
      std::string shown;
      for (const auto& a : argv) {
        shown += ' ';
        shown += testing::bash_quote(a);
      }
      ADD_FAILURE() << "test" << shown << "\n  bash: " << want << "\n  ours: " << got;
    }
  }
  EXPECT_EQ(mismatches, 0);
}

class ArithEnvStub : public TestEnv {
 public:
  std::optional<FileInfo> stat(std::string_view, bool) override { return std::nullopt; }
  bool access(std::string_view, char) override { return false; }
  Result<int64_t> arith(std::string_view expr) override {
    if (expr == "x") return 3;
    if (expr == "1+0") return 1;
    return TestEnv::arith(expr);
  }
};

TEST(DoubleBracket, BinaryLeaves) {
  ArithEnvStub env;
  MatchWork work(1000000);
  BinaryOptions o;
  o.dbracket = true;
  o.work = &work;
  EXPECT_TRUE(*test_binary("abc", "==", "a*", env, o));
  EXPECT_TRUE(*test_binary("abc", "=", "a?c", env, o));
  EXPECT_FALSE(*test_binary("abc", "!=", "[a]*", env, o));
  EXPECT_FALSE(*test_binary("a*", "==", "a\\*x", env, o));
  EXPECT_TRUE(*test_binary("a*", "==", "a\\*", env, o));
  // In test, == is plain string equality.
  EXPECT_FALSE(*test_binary("abc", "==", "a*", env));
  // [[ -eq ]] evaluates arithmetic.
  EXPECT_TRUE(*test_binary("1", "-eq", "1+0", env, o));
  EXPECT_TRUE(*test_binary("x", "-eq", "3", env, o));
  EXPECT_FALSE(test_binary("1+0", "-eq", "1", env).has_value());
  EXPECT_TRUE(*test_binary("a", "<", "b", env, o));
  // The pattern's work is bounded.
  MatchWork tiny(10);
  o.work = &tiny;
  auto r = test_binary(std::string(1000, 'a'), "==", "*a*a*a*b", env, o);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::kFuelExhausted);
  EXPECT_TRUE(is_test_binary_op("=~", true));
  EXPECT_FALSE(is_test_binary_op("=~", false));
  EXPECT_TRUE(is_test_unary_op("-f"));
  EXPECT_FALSE(is_test_unary_op("-q"));
}

TEST(DoubleBracket, RegexAndRematch) {
  auto m = regex_match("abc", "(b)(x)?c");
  ASSERT_TRUE(m.has_value());
  EXPECT_TRUE(m->matched);
  EXPECT_EQ(m->groups, (std::vector<std::string>{"bc", "b", ""}));
  m = regex_match("abc", "x");
  ASSERT_TRUE(m.has_value());
  EXPECT_FALSE(m->matched);
  EXPECT_TRUE(m->groups.empty());
  EXPECT_TRUE(regex_match("ABC", "^abc$", true)->matched);
  EXPECT_FALSE(regex_match("ABC", "^abc$", false)->matched);
  EXPECT_TRUE(regex_match("1.5", "^[0-9]+(\\.[0-9]+)?$")->matched);
  EXPECT_FALSE(regex_match("1x5", "^1" + quote_regex(".") + "5$")->matched);
  EXPECT_TRUE(regex_match("1.5", "^1" + quote_regex(".") + "5$")->matched);
  EXPECT_TRUE(regex_match(std::string("a\0b", 3), "b$")->matched);  // the whole subject
  EXPECT_FALSE(regex_match("a", "(").has_value());
}

// =~'s whole match, "<none>" when there is none, "<error>" for a refused regex.
std::string whole(std::string_view subject, std::string_view re) {
  auto r = regex_match(subject, re);
  if (!r) return "<error>";
  return r->matched ? r->groups.at(0) : std::string("<none>");
}

// The regex bounds: length, back-references, repetition counts and their products, the
// compiled program's memory, and the work of one match. The same shapes just inside the bounds
// compile.
TEST(DoubleBracket, RegexIsBounded) {
  EXPECT_FALSE(regex_match("a", std::string(kMaxRegexBytes + 1, 'a')).has_value());
  EXPECT_TRUE(regex_match("a", std::string(kMaxRegexBytes, 'a')).has_value());
  EXPECT_FALSE(regex_match("aa", "(a)\\1").has_value());
  EXPECT_FALSE(regex_match("a", "((a{100}){100}){100}").has_value());
  EXPECT_TRUE(regex_match("a", "((a{10}){10}){10}").has_value());
  EXPECT_FALSE(regex_match("a", "a{20000}").has_value());
  EXPECT_FALSE(regex_match("a", "(a|b|c|d){5000}").has_value());
  EXPECT_TRUE(regex_match("a", "(a|b|c|d){500}").has_value());
  EXPECT_FALSE(regex_match("a", "[a-z]{1,99999}").has_value());
  EXPECT_FALSE(regex_match("a", "((){100}){100}").has_value());
  EXPECT_TRUE(regex_match("a", "((){10}){10}").has_value());
  // The program's memory (kRegexMemory): 400 repetitions of 1000 compile to about 400,000
  // instructions, past the bound (RE2's default budget, 8 MiB, would take them); 10 compile.
  std::string big, small;
  for (int k = 0; k < 400; ++k) big += "(a{1000})";
  for (int k = 0; k < 10; ++k) small += "(a{1000})";
  auto refused = regex_match("a", big);
  ASSERT_FALSE(refused.has_value());
  EXPECT_NE(refused.error().message.find("too large"), std::string::npos) << refused.error().message;
  EXPECT_TRUE(regex_match("a", small).has_value());
  // One match's work (kMaxRegexWork): glibc's matcher took 2.9 GB and more than 13 minutes for
  // this regex on 4 MB of a and b; here 8 MB is refused before matching, 64 KB matches.
  std::string subject(8 << 20, 'a');
  for (size_t k = 0; k < subject.size(); k += 3) subject[k] = 'b';
  auto costly = regex_match(subject, "(a|b)*a(a|b){20}");
  ASSERT_FALSE(costly.has_value());
  EXPECT_NE(costly.error().message.find("cost too much"), std::string::npos);
  EXPECT_NE(whole(subject.substr(0, 64 << 10), "(a|b)*a(a|b){20}"), "<error>");
  // Found by fuzz_shell_test_expr: glibc's regcomp took more than 2 GB for these 98 bytes (the
  // epsilon closures of nested empty groups); RE2 compiles them in bounded memory or refuses.
  const std::string fuzzed =
      "(()(}(|)){1}(}(()2)\x84|||)||)(())0(()){75}|0*)(($()){750}10}(}(()2)\x84|||)||)(())(())"
      "\xff\x0e" "5}|0*)(()){750}";
  auto f = regex_match("a", fuzzed);
  EXPECT_TRUE(f.has_value() || f.error().code == ErrorCode::kInvalidArgument);
  // Stacked repetition is read as glibc reads it, `a**` as `(a*)*`, in linear time (glibc's
  // matching of 34 `+` ran out of memory; they were refused before RE2).
  EXPECT_EQ(whole("aaa", "a" + std::string(34, '+')), "aaa");
  EXPECT_EQ(whole("aaa", "a++"), "aaa");
  EXPECT_EQ(whole("xaa", "a{1}{2}"), "aa");
  EXPECT_EQ(whole("aaaaa", "a{2}*"), "aaaa");
  EXPECT_EQ(whole("xfoo", "^(.*?)foo$"), "xfoo");
  std::string deep = "a";
  for (int k = 0; k < 20; ++k) deep = "(" + deep + ")*";
  EXPECT_EQ(whole(std::string(1000, 'a') + "b", deep + "c"), "<none>");
}

// POSIX ERE as glibc reads it, translated for RE2: a backslash inside brackets is a member,
// collating elements, `{,m}`, GNU escapes; what glibc refuses is refused.
TEST(DoubleBracket, RegexTranslation) {
  auto m = whole;
  EXPECT_EQ(m("a\\b", "[\\]"), "\\");
  EXPECT_EQ(m("x]y", "[]]"), "]");
  EXPECT_EQ(m("]x", "[^]]"), "x");
  EXPECT_EQ(m("a-", "[a-]+"), "a-");
  EXPECT_EQ(m("b-", "[[.-.]]"), "-");
  EXPECT_EQ(m("xa", "[[=a=]]"), "a");
  EXPECT_EQ(m("aaaa", "a{,3}"), "aaa");
  EXPECT_EQ(m("ab_c d", "\\w+"), "ab_c");
  EXPECT_EQ(m("ab\vc", "\\s"), "\v");  // [[:space:]] holds \v, RE2's \s does not
  EXPECT_EQ(m("d", "\\d"), "d");          // glibc: an ordinary d
  EXPECT_EQ(m("a)", ")"), ")");            // an unmatched ) is ordinary
  EXPECT_EQ(m("a\nb", "a.b"), "a\nb");     // . matches a newline
  EXPECT_EQ(m("a\nb", "a[^x]b"), "a\nb");
  EXPECT_EQ(m("a\nb", "^b"), "<none>");     // ^ and $ only at the ends
  EXPECT_EQ(m("xabcd", "(a|ab)(c|bcd)(d*)"), "abcd");
  EXPECT_EQ(regex_match("xabcd", "(a|ab)(c|bcd)(d*)")->groups,
            (std::vector<std::string>{"abcd", "a", "bcd", ""}));
  EXPECT_EQ(m("caf\xc3\xa9", "^caf.$"), "caf\xc3\xa9");  // . is one character
  for (const char* bad : {"*a", "a|*", "(*a)", "^*", "$*", "\\b*", "{1}", "a{", "a{1", "a{x}",
                          "a{3,1}", "[b-a]", "[a", "(a", "\\", "[[:foo:]]", "[[:alpha:]-z]",
                          "[[.hyphen.]]", "\\<a", "a\\>"}) {
    EXPECT_FALSE(regex_match("a", bad).has_value()) << bad;
  }
}

}  // namespace
}  // namespace wasmcap::shell

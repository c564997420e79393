// src/shell/printf.h: printf's format language, echo -e's escapes and %q, their bound on output,
// and differential tests against bash's printf and echo.
#include "shell/printf.h"

#include <gtest/gtest.h>

#include <random>
#include <sstream>

#include "bash_oracle.h"

namespace wasmcap::shell {
namespace {

PrintfOutput pf(std::string_view format, std::vector<std::string> args = {},
                PrintfOptions opts = {}) {
  auto r = format_printf(format, args, opts);
  EXPECT_TRUE(r.has_value()) << format << ": " << (r ? "" : r.error().message);
  return r.value_or(PrintfOutput{});
}

// Each row checked against bash's printf (LC_ALL=C).
TEST(Printf, OutputAsBash) {
  struct Case {
    const char* format;
    std::vector<std::string> args;
    std::string out;
    int status;
  };
  const Case cases[] = {
      {"%d\\n", {"1", "2", "3"}, "1\n2\n3\n", 0},
      {"%s-%s\\n", {"a", "b", "c"}, "a-b\nc-\n", 0},
      {"x\\n", {"a", "b"}, "x\n", 0},
      {"%d", {"abc"}, "0", 1},
      {"%d|", {"12abc", "3"}, "12|3|", 1},
      {"%d", {"'A"}, "65", 0},
      {"%d", {"\"B"}, "66", 0},
      {"%x %o %X %u", {"255", "8", "255", "-1"}, "ff 10 FF 18446744073709551615", 0},
      {"%5.2f|%-8s|%08.3e", {"3.14159", "hi", "1234.5"}, " 3.14|hi      |1.234e+03", 0},
      {"%*d|%-*d|%.*f", {"5", "1", "4", "2", "2", "3.14159"}, "    1|2   |3.14", 0},
      {"%*d|", {"-5", "1"}, "1    |", 0},
      {"%.*d|", {"-3", "7"}, "7|", 0},
      {"%c", {"hello"}, "h", 0},
      {"%c|", {""}, std::string("\0|", 2), 0},
      {"%5c|", {"a"}, "    a|", 0},
      {"%i", {"0x10"}, "16", 0},
      {"%d", {"010"}, "8", 0},
      {"%d", {" 12"}, "12", 0},
      {"%d", {"12 "}, "12", 1},
      {"%d", {""}, "0", 0},
      {"%d", {}, "0", 0},
      {"%s", {}, "", 0},
      {"%d %s|", {}, "0 |", 0},
      {"%d", {"9999999999999999999"}, "9223372036854775807", 0},
      {"%d", {"-9999999999999999999"}, "-9223372036854775808", 0},
      {"%#x %#o", {"255", "8"}, "0xff 010", 0},
      {"%+d % d", {"5", "5"}, "+5  5", 0},
      {"%#5x|%-#8o|%+.3d|% 05d", {"10", "8", "7", "42"}, "  0xa|010     |+007| 0042", 0},
      {"%.3s", {"abcdef"}, "abc", 0},
      {"%a", {"1"}, "0x8p-3", 0},
      {"%g %G %e %E %F", {"0.0001", "1e20", "1", "1", "1"},
       "0.0001 1E+20 1.000000e+00 1.000000E+00 1.000000", 0},
      {"%f %f", {"inf", "nan"}, "inf nan", 0},
      {"%f", {"abc"}, "0.000000", 1},
      {"%f", {"1.5x"}, "1.500000", 1},
      {"%%", {}, "%", 0},
      {"%-5q|", {"a"}, "a    |", 0},
      {"%ld %lld %hd", {"1", "2", "3"}, "1 2 3", 0},
      {"%z", {"1"}, "", 1},
      {"a%", {}, "a", 1},
      {"%5", {}, "", 1},
      {"%5%", {}, "", 1},
      {"%y", {"1"}, "", 1},
      {"%.0d|", {"0"}, "|", 0},
      // Escapes in the format; \c is not special there.
      {"\\101\\x41\\0101", {}, "AA\b1", 0},
      {"\\u00e9|\\U0001F600|\\u41", {}, "\\u00E9|\\U0001F600|A", 0},
      {"x\\cy", {}, "x\\cy", 0},
      {"\\\"\\'\\?\\q", {}, "\"'?\\q", 0},
      {"\\e[m", {}, "\x1b[m", 0},
      // %b: echo's escapes plus \NNN; \c ends everything.
      {"%b", {"\\0101 \\101 \\x41"}, "A A A", 0},
      {"%b", {"a\\tb\\c zz"}, "a\tb", 0},
      {"%b", {"a\\cb", "c"}, "a", 0},
      {"%d%b", {"x", "\\c"}, "0", 0},  // \c ends printf with status 0
      {"%s\\c", {"a", "b"}, "a\\cb\\c", 0},
      {"%5.1b|%-4b|", {"\\tab", "x"}, "    \t|x   |", 0},
      {"%(%Y-%m-%d)T|%()T|%10(%H)T|", {"86400", "0", "0"}, "1970-01-02|00:00:00|        00|", 0},
      {"[%10.5(%Y-%m-%d)T]", {"1557978599"}, "[     2019-]", 0},
      // bash's strftime buffer is 128 bytes: 31 years fit, 32 print nothing.
      {"%(%Y%Y%Y%Y%Y%Y%Y%Y%Y%Y%Y%Y%Y%Y%Y%Y%Y%Y%Y%Y%Y%Y%Y%Y%Y%Y%Y%Y%Y%Y%Y)T", {"0"},
       "19701970197019701970197019701970197019701970197019701970197019701970197019701970197019701970"
       "19701970197019701970197019701970",
       0},
      {"%(%Y%Y%Y%Y%Y%Y%Y%Y%Y%Y%Y%Y%Y%Y%Y%Y%Y%Y%Y%Y%Y%Y%Y%Y%Y%Y%Y%Y%Y%Y%Y%Y)T", {"0"}, "", 0},
      {"%b|%b", {"\\558", "\\0558"}, "-8|-8", 0},
      {"[\\Z]", {}, "[\\Z]", 0},
  };
  for (const Case& c : cases) {
    PrintfOutput o = pf(c.format, c.args);
    EXPECT_EQ(o.out, c.out) << c.format;
    EXPECT_EQ(o.status, c.status) << c.format;
  }
}

TEST(Printf, MessagesAsBash) {
  EXPECT_EQ(pf("%d", {"abc"}).messages, std::vector<std::string>{"abc: invalid number"});
  EXPECT_EQ(pf("%z").messages, std::vector<std::string>{"`%z': missing format character"});
  EXPECT_EQ(pf("%5%").messages, std::vector<std::string>{"`%': invalid format character"});
  EXPECT_EQ(pf("%d", {"99999999999999999999"}).messages,
            std::vector<std::string>{"warning: 99999999999999999999: Numerical result out of range"});
  EXPECT_EQ(pf("%b", {"\\x"}).messages, std::vector<std::string>{"missing hex digit for \\x"});
  // Untrusted text in a message is escaped.
  EXPECT_EQ(pf("%d", {"\x1b]52;c;x\x07"}).messages,
            std::vector<std::string>{"\\x1b]52;c;x\\x07: invalid number"});
  // At most kMaxPrintfMessages, however many bad arguments.
  std::vector<std::string> bad(1000, "x");
  PrintfOutput o = pf("%d", bad);
  EXPECT_EQ(o.messages.size(), kMaxPrintfMessages);
  EXPECT_EQ(o.out, std::string(1000, '0'));
}

TEST(Printf, Utf8Mode) {
  PrintfOptions u;
  u.utf8 = true;
  EXPECT_EQ(pf("\\u00e9\\U0001F600", {}, u).out, "\xc3\xa9\xf0\x9f\x98\x80");
  EXPECT_EQ(pf("%d", {"'\xce\xbc"}, u).out, "956");
  EXPECT_EQ(pf("%d", {"'\xce\xbc"}).out, "206");
  // %c prints the first byte even in UTF-8 (bash).
  EXPECT_EQ(pf("%c", {"\xce\xbcx"}, u).out, "\xce");
  // 'c of bytes that are not UTF-8 is the first byte; of a 4-byte sequence past U+10FFFF, its
  // value (glibc's decoder, Oils' "Too large" case).
  EXPECT_EQ(pf("%x", {"'\xce\xce"}, u).out, "ce");
  EXPECT_EQ(pf("%x", {"'\xc1\x81"}, u).out, "c1");
  EXPECT_EQ(pf("%x", {"'\xe0\x81\x81"}, u).out, "e0");
  EXPECT_EQ(pf("%x", {"'\xf4\x91\x84\x91"}, u).out, "111111");
  EXPECT_EQ(pf("%x", {"'\xe4\xb8\x89"}, u).out, "4e09");
  EXPECT_EQ(pf("%q", {"\xc3\xa9"}, u).out, "\xc3\xa9");
  EXPECT_EQ(pf("%q", {"\xc3\xa9\x01"}, u).out, "$'\xc3\xa9\\001'");
  EXPECT_EQ(pf("%q", {"\xc3\xa9"}).out, "$'\\303\\251'");
}

// Widths and precisions are checked against the output bound before anything is formatted or
// allocated, and so is all output.
TEST(Printf, OutputIsBounded) {
  PrintfOptions o;
  o.max_output = 1000;
  for (const char* f : {"%999999999d", "%.999999999f", "%.999999999d", "%999999999s",
                        "%99999999999999999999999d", "%*d"}) {
    auto r = format_printf(f, {"1000000000", "1"}, o);
    ASSERT_FALSE(r.has_value()) << f;
    EXPECT_EQ(r.error().code, ErrorCode::kOutputLimit) << f;
  }
  // Exactly at the bound is fine; one byte over is not.
  EXPECT_TRUE(format_printf("%1000d", {"1"}, o).has_value());
  EXPECT_FALSE(format_printf("%1001d", {"1"}, o).has_value());
  EXPECT_FALSE(format_printf("%s", std::vector<std::string>(1001, "x"), o).has_value());
  EXPECT_TRUE(format_printf("%s", std::vector<std::string>(1000, "x"), o).has_value());
  EXPECT_FALSE(format_printf("%q", {std::string(300, '\x01')}, o).has_value());
  // A negative `*` width is a left-justified width, bounded the same way.
  EXPECT_FALSE(format_printf("%*d", {"-9223372036854775808", "1"}, o).has_value());
}

TEST(Printf, EchoEscapes) {
  bool stop = false;
  EXPECT_EQ(echo_escapes("a\\tb\\nc", false, &stop), "a\tb\nc");
  EXPECT_FALSE(stop);
  EXPECT_EQ(echo_escapes("\\101", false, &stop), "\\101");
  EXPECT_EQ(echo_escapes("\\0101", false, &stop), "A");
  EXPECT_EQ(echo_escapes("\\0", false, &stop), std::string(1, '\0'));
  EXPECT_EQ(echo_escapes("\\x41\\x", false, &stop), "A\\x");
  EXPECT_EQ(echo_escapes("\\u00e9", false, &stop), "\\u00E9");
  EXPECT_EQ(echo_escapes("\\u00e9", true, &stop), "\xc3\xa9");
  EXPECT_EQ(echo_escapes("\\e\\q\\\\", false, &stop), "\x1b\\q\\");
  EXPECT_EQ(echo_escapes("a\\cb", false, &stop), "a");
  EXPECT_TRUE(stop);
  EXPECT_EQ(echo_escapes("trailing\\", false, &stop), "trailing\\");
  EXPECT_FALSE(stop);
}

TEST(Printf, ShellQuoteAsBash) {
  const std::pair<const char*, const char*> cases[] = {
      {"", "''"},         {"a b", "a\\ b"},     {"a,b", "a\\,b"},    {"#a", "\\#a"},
      {"a#b", "a#b"},     {"~a", "\\~a"},       {"a~", "a~"},        {"a=~b", "a=\\~b"},
      {"a:~b", "a:\\~b"}, {"x{y}", "x\\{y\\}"}, {"a%+@-/.=:b", "a%+@-/.=:b"},
      {"a\tb", "$'a\\tb'"}, {"\x7f", "$'\\177'"}, {"a\x1b[m", "$'a\\E[m'"},
      {"it's", "it\\'s"},  {"a\\b", "a\\\\b"},   {"a|b&c;d(e)<f>", "a\\|b\\&c\\;d\\(e\\)\\<f\\>"},
      {"it's\n", "$'it\\'s\\n'"},
  };
  for (const auto& [in, want] : cases) EXPECT_EQ(shell_quote(in, false), want) << in;
}

// Splits bash's output at the "\n@@<status>@@\n" markers the script writes after each case.
std::vector<std::pair<std::string, int>> split_cases(const std::string& out) {
  std::vector<std::pair<std::string, int>> r;
  size_t at = 0;
  while (true) {
    size_t m = out.find("\n@@", at);
    if (m == std::string::npos) break;
    size_t end = out.find("@@\n", m + 3);
    if (end == std::string::npos) break;
    r.emplace_back(out.substr(at, m - at), std::stoi(out.substr(m + 3, end - m - 3)));
    at = end + 3;
  }
  return r;
}

// Differential: random formats (flags, widths, precisions, conversions, escapes) with random
// arguments (numbers in every form, bad numbers, text with specials), against bash's printf.
TEST(Printf, DifferentialAgainstBash) {
  if (!testing::have_bash()) GTEST_SKIP() << "no " << testing::kBashPath;
  std::mt19937 rng(30);
  const char* flags[] = {"", "", "-", "+", " ", "#", "0", "-0", "+ "};
  const char* widths[] = {"", "", "3", "8", "*"};
  const char* precs[] = {"", "", ".", ".0", ".2", ".*"};
  const char* convs[] = {"d", "i", "o", "u", "x", "X", "f", "e", "g", "G", "c", "s", "b", "q"};
  const char* texts[] = {"lit", " ", "\\n", "\\t", "\\101", "\\x4a", "\\\\", "\\q", "%%", ":"};
  const char* args[] = {"0", "1", "-7", "42", "0x1f", "017", "'A", "\"z", "3.5", "-0.25",
                        "1e3", "abc", "12abc", "", " 5", "a b", "it's", "\\t\\x41\\0101",
                        "~x", "#", "a\\cb", "*?", "$HOME", "-123"};
  // (No argument is a large number: as a `*` width, bash would print that many
  // spaces.)
  struct Item {
    std::string format;
    std::vector<std::string> args;
  };
  std::vector<Item> items;
  std::ostringstream script;
  for (int n = 0; n < 1200; ++n) {
    Item it;
    int pieces = 1 + static_cast<int>(rng() % 3);
    for (int k = 0; k < pieces; ++k) {
      if (rng() % 3 == 0) it.format += texts[rng() % std::size(texts)];
      it.format += std::string("%") + flags[rng() % std::size(flags)] +
                   widths[rng() % std::size(widths)] + precs[rng() % std::size(precs)] +
                   convs[rng() % std::size(convs)];
    }
    int nargs = static_cast<int>(rng() % 5);
    for (int k = 0; k < nargs; ++k) it.args.push_back(args[rng() % std::size(args)]);
    script << "printf " << testing::bash_quote(it.format);
    for (const auto& a : it.args) script << " " << testing::bash_quote(a);
    script << " 2>/dev/null; printf '\\n@@%d@@\\n' $?\n";
    items.push_back(std::move(it));
  }
  auto out = testing::run_bash(script.str());
  ASSERT_TRUE(out.has_value());
  auto got_cases = split_cases(*out);
  ASSERT_EQ(got_cases.size(), items.size());
  int mismatches = 0;
  for (size_t i = 0; i < items.size(); ++i) {
    auto r = format_printf(items[i].format, items[i].args);
    ASSERT_TRUE(r.has_value());
    if ((r->out != got_cases[i].first || r->status != got_cases[i].second) && ++mismatches <= 20) {
      std::string argv;
      for (const auto& a : items[i].args) {
        argv += ' ';
        argv += testing::bash_quote(a);
      }
      ADD_FAILURE() << "printf " << testing::bash_quote(items[i].format) << argv
                    << "\n  bash: [" << got_cases[i].first << "] " << got_cases[i].second
                    << "\n  ours: [" << r->out << "] " << r->status;
    }
  }
  EXPECT_EQ(mismatches, 0);
}

// %q's output read back by bash is the original string, and equals bash's own %q.
TEST(Printf, QuoteDifferentialAgainstBash) {
  if (!testing::have_bash()) GTEST_SKIP() << "no " << testing::kBashPath;
  std::mt19937 rng(7);
  std::vector<std::string> strings;
  std::ostringstream script;
  for (int n = 0; n < 400; ++n) {
    std::string s;
    int len = static_cast<int>(rng() % 6);
    for (int k = 0; k < len; ++k) {
      int pick = static_cast<int>(rng() % 4);
      s += pick == 0 ? static_cast<char>(1 + rng() % 255) : static_cast<char>(0x20 + rng() % 95);
    }
    strings.push_back(s);
    script << "printf '%q' " << testing::bash_quote(s) << "; printf '\\n@@0@@\\n'\n";
  }
  auto out = testing::run_bash(script.str());
  ASSERT_TRUE(out.has_value());
  auto cases = split_cases(*out);
  ASSERT_EQ(cases.size(), strings.size());
  int mismatches = 0;
  for (size_t i = 0; i < strings.size(); ++i) {
    std::string ours = shell_quote(strings[i], false);
    if (ours != cases[i].first && ++mismatches <= 20) {
      ADD_FAILURE() << "bash: " << cases[i].first << "\nours: " << ours;
    }
  }
  EXPECT_EQ(mismatches, 0);
}

// echo -e against bash's.
TEST(Printf, EchoDifferentialAgainstBash) {
  if (!testing::have_bash()) GTEST_SKIP() << "no " << testing::kBashPath;
  const char* pieces[] = {"a", "\\n", "\\t", "\\0", "\\01", "\\0101", "\\101", "\\x", "\\x4",
                          "\\x41", "\\xg", "\\u", "\\u41", "\\U1F600", "\\e", "\\E", "\\c",
                          "\\q", "\\\\", "\\", "\\a\\b\\f\\r\\v"};
  std::mt19937 rng(11);
  std::vector<std::string> argsv;
  std::ostringstream script;
  for (int n = 0; n < 300; ++n) {
    std::string a;
    int len = 1 + static_cast<int>(rng() % 4);
    for (int k = 0; k < len; ++k) a += pieces[rng() % std::size(pieces)];
    argsv.push_back(a);
    script << "echo -ne " << testing::bash_quote(a) << "; printf '\\n@@0@@\\n'\n";
  }
  auto out = testing::run_bash(script.str());
  ASSERT_TRUE(out.has_value());
  auto cases = split_cases(*out);
  ASSERT_EQ(cases.size(), argsv.size());
  int mismatches = 0;
  for (size_t i = 0; i < argsv.size(); ++i) {
    bool stop = false;
    std::string ours = echo_escapes(argsv[i], false, &stop);
    if (ours != cases[i].first && ++mismatches <= 20) {
      ADD_FAILURE() << "echo -ne " << argsv[i] << "\n  bash: " << cases[i].first
                    << "\n  ours: " << ours;
    }
  }
  EXPECT_EQ(mismatches, 0);
}

}  // namespace
}  // namespace wasmcap::shell

// `wasmcap sh`, aliases (src/shell/alias.cc, alias_parse.cc): the alias and unalias builtins,
// expansion as bash does it (expected outputs are bash 5's), and the bounds on expansion.
#include <gtest/gtest.h>

#include <string>

#include "shell/parse.h"
#include "shell_fixture.h"

namespace wasmcap::shell::testing {
namespace {

TEST_F(ShellFixture, AliasBuiltinsPrintAsBash) {
  auto r = run(
      "alias e=echo ll='ls -l' q=\"it's\"\n"
      "alias e ll q\nalias\n"
      "unalias e; alias e; echo st=$?\n"
      "unalias; echo st=$?\n"
      "unalias nope ll; echo st=$?\n"
      "alias 'a/b=x'; echo st=$?\n"
      "alias -p\nunalias -a; alias; echo st=$?\n");
  ASSERT_TRUE(r.result) << r.result.error().to_string();
  EXPECT_EQ(r.out,
            "alias e='echo'\nalias ll='ls -l'\nalias q='it'\\''s'\n"
            "alias e='echo'\nalias ll='ls -l'\nalias q='it'\\''s'\n"
            "st=1\nst=2\nst=1\nst=1\nalias q='it'\\''s'\nst=0\n")
      << r.err;
  EXPECT_NE(r.err.find("alias: e: not found"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("unalias: nope: not found"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("`a/b': invalid alias name"), std::string::npos) << r.err;
}

// Off in a script until `shopt -s expand_aliases` (bash's default); then a word where a command's
// name is, from the next line on (bash parses a line before it runs it); a value ending in a
// blank expands the next word too; an alias is not expanded in its own value; a value may open
// a compound command the script closes, hold newlines; subshells' aliases stay there; eval's
// apply after it; a function's body is expanded when it is defined.
TEST_F(ShellFixture, AliasesExpandAsBash) {
  auto r = run(
      "alias hi='echo off'\n"
      "hi 2>/dev/null || echo \"not expanded: $?\"\n"
      "shopt -s expand_aliases\n"
      "alias e=echo; e same-line 2>/dev/null || echo \"same line: $?\"\n"
      "e next-line\n"
      "alias echo='echo [' one='ONE ' two='TWO ' e_='echo one '\n"
      "echo guard\n"
      "e_ two one x\n"
      "alias LEFT='{' FOR='for i in 1 2; do echo $i;'\n"
      "LEFT echo in-group; }\n"
      "FOR done\n"
      "alias nl='echo a\necho b'\n"
      "nl c\n"
      "(alias sub=echo); sub x 2>/dev/null || echo \"sub: $?\"\n"
      "eval 'alias ev=\"echo from-eval\"\nev 1'\n"
      "ev 2\n"
      "f() { e in-f; }\n"
      "unalias e\n"
      "f\n"
      "'echo' quoted\n");
  ASSERT_TRUE(r.result) << r.result.error().to_string();
  EXPECT_EQ(r.out,
            "not expanded: 127\nsame line: 127\nnext-line\n[ guard\n[ one TWO ONE x\n"
            "[ in-group\n[ 1\n[ 2\n[ a\n[ b c\n[ sub: 127\n[ from-eval 1\n[ from-eval 2\n"
            "[ in-f\nquoted\n")
      << r.err;
  EXPECT_EQ(r.code, 0);
}

// Without aliases a syntax error still refuses the whole script; with an `alias` command
// before it, the script is read as bash reads it: what comes before runs, then the error
// (status 2).
TEST_F(ShellFixture, SyntaxErrorAfterAnAliasRunsWhatComesBefore) {
  auto r = run("echo before\necho }\n}\n");
  EXPECT_FALSE(r.result);
  EXPECT_EQ(r.out, "");
  r = run("alias x=y\necho before\n}\necho after\n");
  ASSERT_TRUE(r.result) << r.result.error().to_string();
  EXPECT_EQ(r.out, "before\n") << r.err;
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("line 3"), std::string::npos) << r.err;
}

// Threat: aliases that name each other, long values repeated by trailing blanks, and many
// expansions in one long command make the parser build or re-read text without end. Each
// bound ends the script as a syntax error would (status 2), naming the bound.
TEST_F(ShellFixture, AliasExpansionIsBounded) {
  std::string chain = "shopt -s expand_aliases\n";
  for (size_t i = 0; i < kMaxAliasDepth + 10; ++i) {
    chain += "alias a" + std::to_string(i) + "=a" + std::to_string(i + 1) + "\n";
  }
  chain += "alias a" + std::to_string(kMaxAliasDepth + 10) + "=echo\n";
  auto r = run(chain + "a20 deep-ok\na0 too-deep\necho after\n");
  ASSERT_TRUE(r.result) << r.result.error().to_string();
  EXPECT_EQ(r.out, "deep-ok\n") << r.err;
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("nested deeper than 100 aliases"), std::string::npos) << r.err;

  // A value of 400 KB ending in a blank, three times in a row: 1.2 MB of values.
  std::string big = "shopt -s expand_aliases\nalias x='echo " + std::string(400000, 'y') +
                    " '\nx ok\nx x x\necho after\n";
  r = run(big);
  ASSERT_TRUE(r.result) << r.result.error().to_string();
  EXPECT_EQ(r.out.size(), 400000 + 4) << r.err.substr(0, 300);
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("more than 1 MiB of alias values"), std::string::npos) << r.err;

  // 12,000 expansions of a blank in one 24 KB line: each makes the parser move what follows.
  std::string many = "shopt -s expand_aliases\nalias e=' '\ne e e echo short\n";
  for (int i = 0; i < 12000; ++i) many += "e ";
  r = run(many + "echo long\necho after\n");
  ASSERT_TRUE(r.result) << r.result.error().to_string();
  EXPECT_EQ(r.out, "short\n") << r.err;
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("re-reads more than 64 MiB"), std::string::npos) << r.err;
}

// The table itself is bounded (1 MiB of names and values per shell).
TEST_F(ShellFixture, AliasTableIsBounded) {
  auto r = run("v=$(printf '%0600000d' 0)\nalias a=$v; echo st=$?\nalias b=$v; echo st=$?\n"
               "alias b=short; echo st=$?\nunalias a; alias b=$v; echo st=$?\n");
  ASSERT_TRUE(r.result) << r.result.error().to_string();
  EXPECT_EQ(r.out, "st=0\nst=1\nst=0\nst=0\n") << r.err;
  EXPECT_NE(r.err.find("the aliases would hold more than 1 MiB"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace wasmcap::shell::testing

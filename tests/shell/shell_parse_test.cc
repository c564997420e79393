// `wasmcap sh`'s parser: every refusal names its construct, random and fuzz-found inputs, the
// round trip through the printer (tests/shell/shell_ast.h), incomplete input, the tree's shape.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "shell/parse.h"
#include "shell_ast.h"

using namespace wasmcap;

namespace {

// --- parser -------------------------------------------------------------------------------

void refused(const std::string& script, const std::string& names) {
  auto r = shell::parse(script);
  ASSERT_FALSE(r) << script;
  EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(r.error().message.find(names), std::string::npos)
      << script << " -> " << r.error().message;
}

TEST(ShellParse, UnsupportedConstructsAreNamed) {
  refused("echo $((1+2", "unterminated arithmetic expression");
  refused("echo $((1+2)x)", "')' without '('");
  refused("for ((i = 0; i < 3)); do :; done", "'for ((...))' needs three expressions");
  refused("for (i); do :; done", "'for (' needs '(('");
  // [[ ]]: what is not an expression is refused before anything runs (bash: status 2).
  refused("[[ ]]", "syntax error in '[[ ]]' near ']]': an expression expected");
  refused("[[ && ]]", "an expression expected");
  refused("[[ -z ]]", "an operand of '-z' expected");
  refused("[[ -f < ]]", "an operand of '-f' expected");
  refused("[[ a == ]]", "an operand of '==' expected");
  refused("[[ a b ]]", "near 'b': a binary operator");
  refused("op='=='; [[ a $op a ]]", "a binary operator");
  refused("[[ a 3< b ]]", "near '<': a binary operator");
  refused("[[ -z a b ]]", "near 'b': '&&', '||' or ']]' expected");
  refused("[[ ( a ]]", "')' expected");
  refused("[[ a =~ ]]", "a regular expression after '=~' expected");
  refused("[[ a =~ (b ]]", "unterminated '(' in the regular expression");
  refused("[[ a ]] b", "after a compound command");
  refused("a[1]=(x)", "an array element cannot be assigned an array");
  refused("a=(x; y)", "syntax error in an array ('NAME=(...)' holds words only)");
  refused("a=x(y)", "syntax error near '(' (an array needs 'NAME=(...)')");
  refused("echo ${!x[1]}", "indirect expansion of an element ('${!NAME[i]}') is not supported");
  refused("echo ${x@Z}", "'${NAME@Z}' is not a supported transformation");
  refused("echo ${a[1}", "unterminated parameter expansion");
  refused("echo ${x;}", "bad substitution: unknown operator ';'");
  refused("echo ${}", "bad substitution: '${' needs a parameter name");
  refused("echo $[1+2]", "'$[...]'");
  refused("select x in a; do :; done", "'select' is not supported");
  refused("coproc ls", "'coproc' is not supported");
  refused("echo x | time ls", "'time' is not supported");
  refused("ls 64>x", "descriptor 64 is not supported (0-63)");
  refused("ls 123>x", "descriptor 123");
  refused("cat <<$(x)\nb\n$(x)", "here-document delimiter with a substitution");
  refused("echo 'abc", "unterminated single quote");
  refused("echo \"abc", "unterminated double quote");
  refused("echo $'abc", "unterminated $'...' quote");
  refused("echo `ls", "unterminated command substitution");
  refused("echo ${x", "unterminated parameter expansion");
  refused("echo ${x:-a", "unterminated parameter expansion");
  refused("echo $(ls", "unterminated command substitution");
  refused("echo \"$(ls\"", "unterminated");
  refused("echo $(ls |)", "a command is missing");
  refused("echo $(;)", "';' with no command");
  refused("echo ls)", "syntax error near unexpected ')'");
  refused("ls |", "a command is missing");
  refused("ls && ", "a command is missing");
  refused("! ", "a command is missing");
  refused("; ls", "';' with no command");
  refused("& ls", "'&' with no command");
  refused("ls >", "'>' needs a file name");
  refused("ls ;;", "';;' outside a case");
  refused("echo a\necho b ;;", "line 2:");
  // A here-document body that runs to the end of the text: errors in it name a line of the text
  // (fuzz finding: the body's added last newline counted as a line).
  refused("cat <<EOF\n${x", "line 2:");
  refused("cat <<EOF\na\n$(b", "line 3:");
  refused("{ cat <<EOF\na\nb", "line 3:");  // the end of the text, inside the body's last line
  refused("echo $(cat <<EOF)\nx\nEOF\n", "must have its body inside the '$(...)'");
  // Compound commands: every missing or misplaced part is named.
  refused("if true; then ls; fi fi", "syntax error near 'fi'");
  refused("fi", "reserved word out of place");
  refused("then ls", "reserved word out of place");
  refused("if true; ls; fi", "'then' expected in 'if'");
  refused("if; then ls; fi", "';' with no command before it");
  refused("if\nthen ls; fi", "empty 'if' condition");
  refused("if true; then fi", "empty 'then' branch");
  refused("if true; then ls; else fi", "empty 'else' branch");
  refused("while true; ls; done", "'do' expected in a loop");
  refused("while true; do done", "empty loop body");
  refused("for 1 in a; do ls; done", "'for' needs a variable name");
  refused("for x in a b do ls; done", "'do' expected");
  refused("case x in a) ls;; b ls;; esac", "')' expected after a 'case' pattern");
  refused("case x in a) ls; b) ls;; esac", "syntax error near");
  refused("case x in a) ls;; esac esac", "syntax error near 'esac'");
  refused("{ }", "empty '{ }' group");
  refused("{ ls; } x", "after a compound command");
  refused("( )", "empty '( )' subshell");
  refused("f() ls", "a function body must be a compound command");
  refused("f(x) { ls; }", "a function needs '()'");
  refused("function { ls; }", "bad function name");
  refused("echo a (", "syntax error near unexpected '('");
  refused("x=1 (ls)", "syntax error near unexpected '('");
}

// Scripts are untrusted text: random inputs over the shell's alphabet parse or fail with an
// error, never crash or hang (run under ASan in the sanitizer pass).
TEST(ShellParse, RandomInputNeverCrashes) {
  const std::string alphabet = "ab =$?{}()'\"\\|&;<>12#*`\n\t!-";
  uint32_t x = 12345;
  for (int round = 0; round < 20000; ++round) {
    std::string s;
    size_t n = (x = x * 1103515245u + 12345u) % 40;
    for (size_t k = 0; k < n; ++k) s.push_back(alphabet[(x = x * 1103515245u + 12345u) % alphabet.size()]);
    auto r = shell::parse(s);
    if (!r) {
      EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument) << s;
    }
  }
}

// `<(list)`: a word part wherever it stands in an unquoted word (bash), not a redirection; after
// `<` it is the redirection's file (`< <(list)`); quoted, it is text.
TEST(ShellParse, ProcessSubstitution) {
  auto r = shell::parse("diff <(sort a | uniq) x<(b)y < <(c) \"<(d)\" '<(e)'");
  ASSERT_TRUE(r) << r.error().to_string();
  const auto& c = r->items[0].pipelines[0].commands[0];
  ASSERT_EQ(c.words.size(), 5u);
  ASSERT_EQ(c.words[1].parts.size(), 1u);
  EXPECT_EQ(c.words[1].parts[0].kind, shell::WordPart::Kind::kProcSub);
  EXPECT_EQ(c.words[1].parts[0].text, "sort a | uniq");
  EXPECT_EQ(c.words[1].parts[0].script->items[0].pipelines[0].commands.size(), 2u);
  ASSERT_EQ(c.words[2].parts.size(), 3u);
  EXPECT_EQ(c.words[2].parts[1].kind, shell::WordPart::Kind::kProcSub);
  EXPECT_EQ(c.words[2].parts[2].text, "y");
  for (size_t k : {3u, 4u}) {
    for (const auto& p : c.words[k].parts) EXPECT_NE(p.kind, shell::WordPart::Kind::kProcSub);
  }
  ASSERT_EQ(c.redirects.size(), 1u);
  EXPECT_EQ(c.redirects[0].op, shell::Redirect::Op::kIn);
  EXPECT_EQ(c.redirects[0].target.parts[0].kind, shell::WordPart::Kind::kProcSub);
  EXPECT_FALSE(shell::parse("cat <(echo"));
  // `>(list)` likewise; a descriptor number before it is a word of its own (`2>(c)`: "2" then
  // the substitution, as bash's), `> >(d)` a redirection to one.
  auto w = shell::parse("tee >(a | b) x>(c)y 2>(c) > >(d)");
  ASSERT_TRUE(w) << w.error().to_string();
  const auto& t = w->items[0].pipelines[0].commands[0];
  ASSERT_EQ(t.words.size(), 4u);
  EXPECT_EQ(t.words[1].parts[0].kind, shell::WordPart::Kind::kProcSub);
  EXPECT_TRUE(t.words[1].parts[0].to_list);
  EXPECT_EQ(t.words[1].parts[0].text, "a | b");
  EXPECT_TRUE(t.words[2].parts[1].to_list);
  ASSERT_EQ(t.words[3].parts.size(), 2u);
  EXPECT_EQ(t.words[3].parts[0].text, "2");
  EXPECT_TRUE(t.words[3].parts[1].to_list);
  ASSERT_EQ(t.redirects.size(), 1u);
  EXPECT_EQ(t.redirects[0].op, shell::Redirect::Op::kOut);
  EXPECT_TRUE(t.redirects[0].target.parts[0].to_list);
  EXPECT_FALSE(c.words[1].parts[0].to_list);
}

TEST(ShellParse, CommandSubstitution) {
  auto r = shell::parse("X=$(a b | c) d \"q $(e \"f)\") $(g $(h))\"$()x");
  ASSERT_TRUE(r) << r.error().to_string();
  const auto& c = r->items[0].pipelines[0].commands[0];
  ASSERT_EQ(c.assigns.size(), 1u);
  ASSERT_EQ(c.assigns[0].second.parts.size(), 2u);  // "" literal + the substitution
  const auto& sub = c.assigns[0].second.parts[1];
  EXPECT_EQ(sub.kind, shell::WordPart::Kind::kSubst);
  EXPECT_EQ(sub.text, "a b | c");
  EXPECT_FALSE(sub.quoted);
  ASSERT_TRUE(sub.script);
  ASSERT_EQ(sub.script->items.size(), 1u);
  EXPECT_EQ(sub.script->items[0].pipelines[0].commands.size(), 2u);
  ASSERT_EQ(c.words.size(), 2u);
  // "q $(e "f)") $(g $(h))" then $() then x: quotes inside $( ) are the inner script's own.
  const auto& w = c.words[1];
  ASSERT_EQ(w.parts.size(), 6u);
  EXPECT_EQ(w.parts[1].kind, shell::WordPart::Kind::kSubst);
  EXPECT_TRUE(w.parts[1].quoted);
  EXPECT_EQ(w.parts[1].text, "e \"f)\"");
  EXPECT_EQ(w.parts[1].script->items[0].pipelines[0].commands[0].words[1].parts[0].text, "f)");
  EXPECT_EQ(w.parts[3].text, "g $(h)");
  const auto& nested = w.parts[3].script->items[0].pipelines[0].commands[0].words[1];
  EXPECT_EQ(nested.parts[0].kind, shell::WordPart::Kind::kSubst);
  EXPECT_EQ(w.parts[4].kind, shell::WordPart::Kind::kSubst);  // $()
  EXPECT_TRUE(w.parts[4].script->items.empty());
  EXPECT_EQ(w.parts[5].text, "x");
  // Lines inside a substitution count: an error after it names the right line.
  auto l = shell::parse("echo $(a\nb\nc) )");
  ASSERT_FALSE(l);
  EXPECT_NE(l.error().message.find("line 3:"), std::string::npos) << l.error().message;
  // Nesting is bounded: 16 levels parse, 17 are refused (the bound holds the recursion).
  auto nest = [](int n) {
    std::string s = "echo ";
    for (int i = 0; i < n; ++i) s += "$(echo ";
    s += "x";
    for (int i = 0; i < n; ++i) s += ")";
    return s;
  };
  EXPECT_TRUE(shell::parse(nest(shell::kMaxSubstitutionDepth)));
  refused(nest(shell::kMaxSubstitutionDepth + 1), "nested deeper than 16 levels");
  refused(nest(100000), "nested deeper than 16 levels");
}

// The fuzz oracle (fuzz_shell_parser) on known inputs: every AST prints back to text with the
// same AST, whatever quoting produced it; backslash-newline vanishes even after '$'.
TEST(ShellParse, RoundTripsThroughThePrinter) {
  for (const char* s :
       {"echo a 'b c' \"d $x ${y}$?\" e\\ f > o 2>&1 < i >> a | wc -l && X=1 Y= z || q",
        "echo $(ls $(echo a) \"$(cat f)\") \"q$()\" x$(true)y", "a$\\\nb 'c\nd'e\\ f",
        "echo $ $. \"$\" '$' a$'x' $\"y\"", "echo \"\" '' x\"\"y #c\n\nls;ls", "X=$(a | b) 2>f",
        "if a; then b; elif c; then d; else e; fi > o; while ! x; do break 2; done & until y\ndo z; done",
        "for i in a \"b c\" $x; do echo $i; done; for j; do :; done; "
        "case $x in a|b) echo 1;; (c*) ;& *) echo 2;;& esac",
        "echo ${x/~/~} ${x//~u/a} ${x/#~/a} ${x/%~} \"${x/~/~/b}\" ${p#~} \"${p%%~}\" {a,~}/b",
        "f() { local x=1; return; } 2>&1; function g { (cd d; ls) | wc; }; "
        "{ a; b & } <<<str 3<>f 4>&- &>o &>>p >|q 0<&3",
        "cat <<EOF; cat <<-'Q' | x\nline $a `b` \\$c\nEOF\n\tq\n\tQ\necho $(cat <<E\nin\nE\n)",
        "echo ${x:-a b} ${x=1} ${x:?m} ${x+\"y\"} ${#x} ${#} ${x#*.} ${x##a} ${x%.*} ${x%%b} "
        "${x/a/b} ${x//a} ${x/#a/b} ${x/%a/b} ${x:1:2} ${x: -1} \"${@:-q}\" $1 ${10} $@ $* $# $$ "
        "$! $- $0 ~ ~/a ~u/b X=~/c `echo \\`x\\``",
        "echo $((1 + (2 * $x) - ${y:-3} + $(echo 4))) \"$((a[1] += 'x' ? \\( : \"$z\"))\"; "
        "((i++ , j = (2))); for ((i = 0; i < 3; i++)); do echo $i; done; for ((;;)) { break; }",
        "wd <<E\n\\b;c\\",  // (a body whose last line ends in a continuation: fuzz finding)
        "c <<e\n${e=hx:5${hx:0:2}=h${x:1:2}o }O $??",  // (${x=w} in a body: fuzz finding)
        "c <<e\n${x-\"\"} \"${y-\"\"}\"",  // (a quoted empty word there: fuzz finding)
        "c <<e\n${e=\"'\"} \"${f-\"'\"}\"",  // (a quoted ' there: fuzz finding)
        "a ~\\\nb ~\\\n/x",  // (a line continuation inside a tilde prefix: fuzz finding)
        "${b,\\\n} ${c^\\\n^} ${d,\\\n,x}",  // (continuations in a case operator: fuzz finding)
        "${x:\\\n?r} ${y:\\\n1} ${z#\\\n#a} ${w/\\\n/b/c} \"${x:0:\\\n~}\" ${u-\\\n~}",  // (fuzz findings)
        "\"${x=${x/${x=''?}}}\"",  // (a quoted operand's pattern reads its quotes: fuzz finding)
        "echo t?$`echo x` $\"$(b)\" x$ $",  // (a lone $ before a substitution: fuzz finding)
        ">o ! x; 2>&1 if; <i { y",  // (reserved words after a redirection: fuzz finding)
        "a <<E | (b; c)\nbody\nE\nd <<F | while x; do :; done\nf\nF\n",  // (bodies after a compound)
        "[[ a == b* && ( -f \"$x\" || ! $y ) ]] >o; ! [[ x =~ ^(a|b c)$'\\t'~ ]] || [[ a < b ]]",
        "a 2>e |& b >o |& c",  // |& is 2>&1 after the command's own redirections
        "exec {fd}>f 3>&5- 2>&$x >&$y 4<&\"$z\" {g}>&- 12>x >&13 0<&7-",
        "[[\n( a || b ) && ! ( c && d ) || e == e\n&& f ]] && [[ ']]' ]] | [[ -n ~ ]]",
        // extglob groups: one word, blanks, operators and expansions inside
        "echo @(a b|c;d) x*(y|$(z))'q' !(a) | a !(b)\ncase x in ?(a|b)) ;; +(c)) esac",
        "!(false) && ! (true); [[ $x == @(a|b) ]]",
        "echo ${#v:1:3} \"${#v-x}\" ${#a[0]/b/c} ${#v@Q}",  // (runtime "bad substitution")
        // process substitution: in a word, after `<`, with a subshell body, nested
        "diff <(sort a | uniq) x<(b)y <((c)) < <(d <(e)) \"<(q)\" $(<(f))"}) {
    auto r = shell::parse(s);
    ASSERT_TRUE(r) << s << ": " << r.error().to_string();
    std::string printed = shell::testing::print(*r);
    auto again = shell::parse(printed);
    ASSERT_TRUE(again) << printed << ": " << again.error().to_string();
    EXPECT_EQ(shell::testing::dump(*again), shell::testing::dump(*r)) << s << "\n" << printed;
  }
  auto c = shell::parse("echo a$\\\nb $\\\n{c} \"$d\\\ne\"");
  ASSERT_TRUE(c);
  const auto& w = c->items[0].pipelines[0].commands[0].words;
  ASSERT_EQ(w.size(), 4u);
  EXPECT_EQ(w[1].parts[1].kind, shell::WordPart::Kind::kVar);
  EXPECT_EQ(w[1].parts[1].text, "b");
  EXPECT_EQ(w[2].parts[0].text, "c");
  EXPECT_EQ(w[3].parts[1].text, "de");
}

TEST(ShellParse, IncompleteInputIsReported) {
  for (const char* s : {"echo 'a", "echo \"a", "echo $(ls", "ls |", "ls &&", "ls ||",
                        "echo \"$(echo 'x", "ls &&\n", "echo a \\\n", "if true; then",
                        "if true; then ls; else", "for x in a; do", "while true\n", "{ ls;",
                        "(ls", "f() {", "case x in", "case x in a) ls;;", "cat <<EOF\nx",
                        "cat <<EOF", "echo ${x", "echo `ls", "echo $'a", "! ", "echo $((1 +",
                        "((x", "for ((i=0; i<2; i++)); do", "[[ a", "[[ a ==", "[[ ( a",
                        "[[ a =~ (b", "[[ a &&", "echo @(a", "echo x!(a|(b)"}) {
    bool incomplete = false;
    (void)shell::parse(s, &incomplete);
    EXPECT_TRUE(incomplete) << s;
  }
  for (const char* s : {"echo a", "ls &", "echo a)", "ls ;;", "echo $((1))", "ls |\n;",
                        "if true; then ls; fi", "fi", "{ ls; }", "cat <<EOF\nx\nEOF\n"}) {
    bool incomplete = true;
    (void)shell::parse(s, &incomplete);
    EXPECT_FALSE(incomplete) << s;
  }
}

TEST(ShellParse, Structure) {
  auto r = shell::parse("a | b c | d && e || f; g\n\nh 2>&1 >out <in");
  ASSERT_TRUE(r) << r.error().to_string();
  ASSERT_EQ(r->items.size(), 3u);
  ASSERT_EQ(r->items[0].pipelines.size(), 3u);
  EXPECT_EQ(r->items[0].pipelines[0].commands.size(), 3u);
  EXPECT_EQ(r->items[0].and_ops, (std::vector<bool>{true, false}));
  const auto& h = r->items[2].pipelines[0].commands[0];
  ASSERT_EQ(h.redirects.size(), 3u);
  EXPECT_EQ(h.redirects[0].op, shell::Redirect::Op::kDup);
  EXPECT_EQ(h.redirects[0].fd, 2);
  EXPECT_EQ(h.redirects[0].dup_to, 1);
  EXPECT_EQ(h.redirects[1].op, shell::Redirect::Op::kOut);
  EXPECT_EQ(h.redirects[2].op, shell::Redirect::Op::kIn);
  auto q = shell::parse("X=1 echo 'a $b' \"c $d\" e\\ f # comment");
  ASSERT_TRUE(q);
  const auto& c = q->items[0].pipelines[0].commands[0];
  ASSERT_EQ(c.assigns.size(), 1u);
  EXPECT_EQ(c.assigns[0].first, "X");
  ASSERT_EQ(c.words.size(), 4u);
  EXPECT_EQ(c.words[1].parts[0].text, "a $b");
  EXPECT_TRUE(c.words[1].parts[0].quoted);
  ASSERT_EQ(c.words[2].parts.size(), 2u);
  EXPECT_EQ(c.words[2].parts[1].kind, shell::WordPart::Kind::kVar);
  EXPECT_EQ(c.words[2].parts[1].text, "d");
  EXPECT_EQ(c.words[3].parts.size(), 3u);  // e, quoted ' ', f
  // An extglob group is one word; `!(cmd)` where a command starts is `! (cmd)`.
  auto g = shell::parse("echo @(a b|c) x; !(false)");
  ASSERT_TRUE(g) << g.error().to_string();
  const auto& e = g->items[0].pipelines[0].commands[0];
  ASSERT_EQ(e.words.size(), 3u);
  EXPECT_EQ(e.words[1].parts[0].text, "@(a b|c)");
  const auto& neg = g->items[1].pipelines[0];
  EXPECT_TRUE(neg.negate);
  EXPECT_EQ(neg.commands[0].kind, shell::Command::Kind::kSubshell);
}

}  // namespace

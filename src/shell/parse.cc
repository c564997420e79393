// Recursive-descent parser for the shell grammar (docs/shell.md "Grammar") over the lexer's
// tokens (lex.h).
//
// Hand-written: no maintained C++ library parses POSIX sh (the shells themselves are C programs
// whose parsers are welded to their executors). Everything outside the grammar is refused here
// with the construct's name, so nothing is ever silently misparsed. Every recursion goes
// through a Nest (lex.h): a hostile script cannot nest deeper than kMaxNestingDepth.
#include "shell/parse.h"

#include <algorithm>

#include "shell/budget.h"
#include "shell/lex.h"
#include "shell/test_expr.h"

namespace wasmcap::shell {

namespace detail {

namespace {

// The word's text if it is one unquoted literal, else "".
std::string plain(const Word& w) {
  if (w.parts.size() == 1 && w.parts[0].kind == WordPart::Kind::kLiteral && !w.parts[0].quoted) {
    return w.parts[0].text;
  }
  return "";
}

bool valid_name(const std::string& s) {
  if (s.empty() || !is_name_start(s[0])) return false;
  for (char c : s) {
    if (!is_name_char(c)) return false;
  }
  return true;
}

bool is_declaration_name(const std::string& w) {
  return w == "declare" || w == "typeset" || w == "local" || w == "readonly" || w == "export";
}

// Words that end a list: the parser stops there and the enclosing construct takes them.
bool is_terminator(const std::string& w) {
  return w == "then" || w == "else" || w == "elif" || w == "fi" || w == "do" || w == "done" ||
         w == "esac" || w == "}";
}

constexpr const char* kNestingError =
    "nesting deeper than 200 levels (compound commands, groups, subshells, substitutions, "
    "${...}) is not supported";

class Parser {
 public:
  // `closing`: the text is a $(...) whose ')' ends the script.
  Parser(const std::string& text, size_t pos, int line, int subst_depth, ParseCtx* pc,
         bool closing)
      : lex_(text, pos, line, subst_depth, pc), closing_(closing) {}

  const Lexer& lexer() const { return lex_; }

  Result<Script> script() {
    Script sc;
    WASMCAP_TRY(advance());
    WASMCAP_TRY_ASSIGN(sc.items, list());
    if (closing_) {
      if (!is_op(")")) {
        if (tok_.kind == Token::Kind::kEnd) {
          lex_.mark_incomplete();
          return fail("unterminated command substitution ('$(' without ')')");
        }
        return unexpected();
      }
      if (lex_.heredocs_pending()) {  // its body would have to come after the ')'
        return fail("a here-document inside '$(...)' must have its body inside the '$(...)'");
      }
      return sc;
    }
    if (tok_.kind != Token::Kind::kEnd) return unexpected();
    return sc;
  }

 private:
  bool is_op(const char* op) const { return tok_.kind == Token::Kind::kOp && tok_.op == op; }
  bool is_word(const char* w) const {
    return tok_.kind == Token::Kind::kWord && plain(tok_.word) == w;
  }

  // The word lexed as an extglob group `!(...)` (lex.cc), where a command starts.
  bool bang_group() const {
    return tok_.kind == Token::Kind::kWord && lex_.char_at(tok_.begin) == '!' &&
           lex_.char_at(tok_.begin + 1) == '(' && !tok_.word.parts.empty() &&
           tok_.word.parts[0].kind == WordPart::Kind::kLiteral && !tok_.word.parts[0].quoted;
  }

  Result<void> advance() {
    for (;;) {
      WASMCAP_TRY_ASSIGN(tok_, lex_.next());
      if (!aliasing()) return {};
      auto again = lex_.ctx()->alias.next_token(lex_, tok_);  // (after a value ending in a blank)
      if (!again) return fail(again.error().message);
      if (!*again) return {};
    }
  }

  // Alias expansion (lex.h AliasExpansion) applies to this parser's text.
  bool aliasing() const {
    const AliasExpansion& a = lex_.ctx()->alias;
    return a.table != nullptr && a.text == &lex_.source();
  }
  // The current token, when it is an unquoted word naming an alias not being expanded, is
  // replaced by the alias' value; the lexer is set back to read it (the caller lexes again).
  Result<bool> try_alias() {
    if (!aliasing()) return false;
    auto r = lex_.ctx()->alias.expand(lex_, tok_);
    if (!r) return fail(r.error().message);
    return *r;
  }
  // Where a command's name is: aliases expand (again, for the first word of a value).
  Result<void> command_word_aliases() {
    for (;;) {
      bool expanded = false;
      WASMCAP_TRY_ASSIGN(expanded, try_alias());
      if (!expanded) return {};
      WASMCAP_TRY(advance());
    }
  }
  Result<void> skip_newlines() {
    while (tok_.kind == Token::Kind::kNewline) WASMCAP_TRY(advance());
    return {};
  }

  tl::unexpected<Error> fail(const std::string& what) const {
    return make_error(ErrorCode::kInvalidArgument,
                      "line " + std::to_string(tok_.line) + ": " + what);
  }
  // A token where none fits. At the end of the text more input could fix it (an open
  // construct), so the interactive shell asks for more.
  tl::unexpected<Error> unexpected() const {
    if (tok_.kind == Token::Kind::kEnd) {
      lex_.mark_incomplete();
      return fail("unexpected end of the script (an open construct is missing its end)");
    }
    if (tok_.kind == Token::Kind::kNewline) return fail("syntax error: unexpected newline");
    if (tok_.kind == Token::Kind::kWord) {
      std::string w = plain(tok_.word);
      return fail("syntax error near '" + w + "'" +
                  (is_terminator(w) ? " (a reserved word out of place)" : ""));
    }
    if (tok_.op == ";;" || tok_.op == ";&" || tok_.op == ";;&") {
      return fail("'" + tok_.op + "' outside a case");
    }
    if (tok_.op == ";" || tok_.op == "&") {
      return fail("'" + tok_.op + "' with no command before it");
    }
    return fail("syntax error near unexpected '" + tok_.op + "'");
  }

  // Does the current token end the list being parsed?
  bool at_list_end() const {
    if (tok_.kind == Token::Kind::kEnd) return true;
    if (tok_.kind == Token::Kind::kOp) {
      return tok_.op == ")" || tok_.op == ";;" || tok_.op == ";&" || tok_.op == ";;&";
    }
    return tok_.kind == Token::Kind::kWord && is_terminator(plain(tok_.word));
  }

  // A sequence of and-or lists separated by ; & or newlines, up to a terminator (see
  // at_list_end); leading newlines are skipped.
  Result<std::vector<AndOr>> list() {
    std::vector<AndOr> items;
    ++list_depth_;
    struct Leave {
      int& d;
      ~Leave() { --d; }
    } leave{list_depth_};
    bool top = list_depth_ == 1 && !closing_;
    bool line_start = true;
    for (;;) {
      // One complete command (unit_): the top-level list ends at a newline.
      if (unit_ && top && !items.empty() && tok_.kind == Token::Kind::kNewline) return items;
      if (tok_.kind == Token::Kind::kNewline) line_start = true;
      WASMCAP_TRY(skip_newlines());
      if (at_list_end()) return items;
      AndOr ao;
      size_t begin = tok_.begin;
      int begin_line = tok_.line;
      WASMCAP_TRY_ASSIGN(ao, and_or());
      if (top && line_start) {
        ao.line_begin = begin;
        ao.line_no = begin_line;
      }
      line_start = false;
      lex_.account().take(sizeof(AndOr));
      lex_.account().take(sizeof(AndOr));
      if (is_op(";") || is_op("&")) {
        ao.background = tok_.op == "&";
        if (ao.background) {  // for `jobs`; its first line, at most 256 bytes
          std::string_view t = lex_.text(begin, tok_.begin);
          t = t.substr(0, std::min({t.find('\n'), t.find_last_not_of(" \t") + 1, size_t{256}}));
          ao.text = t;
          lex_.account().take(ao.text.size());
        }
        items.push_back(std::move(ao));
        WASMCAP_TRY(advance());
        continue;
      }
      items.push_back(std::move(ao));
      if (tok_.kind == Token::Kind::kNewline) continue;
      if (at_list_end()) return items;
      return unexpected();
    }
  }

  // A list that must hold at least one command (bodies of if, loops, groups).
  Result<std::vector<AndOr>> body(const char* construct) {
    std::vector<AndOr> items;
    WASMCAP_TRY_ASSIGN(items, list());
    if (items.empty()) {
      if (tok_.kind == Token::Kind::kEnd) return unexpected();
      return fail(std::string("empty ") + construct + " (a command is missing)");
    }
    return items;
  }

  Result<void> expect_word(const char* w, const char* construct) {
    if (!is_word(w)) {
      if (tok_.kind == Token::Kind::kEnd) return unexpected();
      return fail(std::string("'") + w + "' expected in " + construct);
    }
    return advance();
  }

  Result<AndOr> and_or() {
    AndOr ao;
    for (;;) {
      Pipeline p;
      WASMCAP_TRY_ASSIGN(p, pipeline());
      lex_.account().take(sizeof(Pipeline) + 1);
      ao.pipelines.push_back(std::move(p));
      if (is_op("&&") || is_op("||")) {
        ao.and_ops.push_back(tok_.op == "&&");
        WASMCAP_TRY(advance());
        WASMCAP_TRY(skip_newlines());
        continue;
      }
      return ao;
    }
  }

  Result<Pipeline> pipeline() {
    Pipeline p;
    if (is_word("time")) {  // `time [-p] PIPELINE`: its times on stderr after it (bash)
      p.timed = true;
      WASMCAP_TRY(advance());
      if (is_word("-p")) {
        p.time_posix = true;
        WASMCAP_TRY(advance());
      }
    }
    while (is_word("!") || bang_group()) {  // `! ! cmd` negates twice, as in bash
      p.negate = !p.negate;
      if (is_word("!")) {
        WASMCAP_TRY(advance());
      } else {
        // `!(cmd)` where a command starts is `! (cmd)` (bash without extglob), not an extglob
        // group: lexed again from its '('.
        lex_.rewind(tok_.begin + 1, tok_.line);
        WASMCAP_TRY(advance());
      }
    }
    if (!p.timed && is_word("time")) {  // `! time PIPELINE`
      p.timed = true;
      WASMCAP_TRY(advance());
    }
    for (;;) {
      Command c;
      WASMCAP_TRY_ASSIGN(c, command());
      lex_.account().take(sizeof(Command));
      p.commands.push_back(std::move(c));
      if (is_op("|&")) {  // `a |& b` is `a 2>&1 | b` (bash): after a's own redirections
        Redirect r;
        r.fd = 2;
        r.op = Redirect::Op::kDup;
        r.dup_to = 1;
        lex_.account().take(sizeof(Redirect));
        p.commands.back().redirects.push_back(std::move(r));
        tok_.op = "|";
      }
      if (is_op("|")) {
        WASMCAP_TRY(advance());
        WASMCAP_TRY(skip_newlines());
        continue;
      }
      return p;
    }
  }

  Result<Command> command() {
    Nest nest(lex_.ctx());
    if (!nest.ok()) return fail(kNestingError);
    WASMCAP_TRY(command_word_aliases());  // (an alias may open a compound command: `{`, `for`)
    Command c;
    c.line = tok_.line;
    if (tok_.kind == Token::Kind::kWord) {
      std::string w = plain(tok_.word);
      if (w == "if") return compound(std::move(c), &Parser::if_clause);
      if (w == "while" || w == "until") return compound(std::move(c), &Parser::while_clause);
      if (w == "for") return compound(std::move(c), &Parser::for_clause);
      if (w == "case") return compound(std::move(c), &Parser::case_clause);
      if (w == "{") return compound(std::move(c), &Parser::group);
      if (w == "function") return function_keyword(std::move(c));
      if (w == "[[") return compound(std::move(c), &Parser::dbracket);
      if (w == "select" || w == "coproc" || w == "time") {  // (time: only before a pipeline)
        return fail("'" + w + "' is not supported");
      }
      if (w == "then" || w == "else" || w == "elif" || w == "fi" || w == "do" ||
          w == "done" || w == "esac" || w == "}" || w == "in" || w == "]]") {
        return fail("syntax error near '" + w + "' (a reserved word out of place)");
      }
    }
    if (is_op("(")) {
      if (lex_.char_at(tok_.end) == '(') return compound(std::move(c), &Parser::arith_command);
      return compound(std::move(c), &Parser::subshell);
    }
    return simple(std::move(c));
  }

  // [[ expr ]]: bash's conditional command. `||` `&&` `!` `( )` over the operators of
  // test_expr.h, with newlines allowed between its tokens; the operands are words (expanded
  // without splitting or globbing when it runs). Parsed before anything runs, as bash does: an
  // operator from a variable is an operand, and anything that is not an expression is a syntax
  // error naming where. && and || lists are flat (kids in order), so a long chain is no deeper.
  Result<void> dbracket(Command& c) {
    c.kind = Command::Kind::kCond;
    WASMCAP_TRY(cond_next());  // [[
    CondExpr e;
    WASMCAP_TRY_ASSIGN(e, cond_or());
    if (!is_word("]]")) return cond_fail("'&&', '||' or ']]'");
    lex_.account().take(sizeof(CondExpr));
    c.cond = std::make_shared<const CondExpr>(std::move(e));
    return advance();
  }

  Result<void> cond_next() {
    WASMCAP_TRY(advance());
    return skip_newlines();
  }

  tl::unexpected<Error> cond_fail(const std::string& expected) const {
    if (tok_.kind == Token::Kind::kEnd) return unexpected();
    std::string near = tok_.kind == Token::Kind::kOp ? tok_.op : plain(tok_.word);
    return fail("syntax error in '[[ ]]'" + (near.empty() ? "" : " near '" + near + "'") +
                ": " + expected + " expected");
  }

  Result<CondExpr> cond_list(bool is_or) {
    Nest nest(lex_.ctx());
    if (!nest.ok()) return fail(kNestingError);
    CondExpr list;
    list.kind = is_or ? CondExpr::Kind::kOr : CondExpr::Kind::kAnd;
    for (;;) {
      CondExpr e;
      if (is_or) {
        WASMCAP_TRY_ASSIGN(e, cond_list(false));
      } else {
        WASMCAP_TRY_ASSIGN(e, cond_not());
      }
      lex_.account().take(sizeof(CondExpr));
      list.kids.push_back(std::move(e));
      if (!is_op(is_or ? "||" : "&&")) break;
      WASMCAP_TRY(cond_next());
    }
    if (list.kids.size() == 1) return std::move(list.kids[0]);
    return list;
  }
  Result<CondExpr> cond_or() { return cond_list(true); }

  Result<CondExpr> cond_not() {
    Nest nest(lex_.ctx());
    if (!nest.ok()) return fail(kNestingError);
    if (is_word("!")) {
      WASMCAP_TRY(cond_next());
      CondExpr e;
      e.kind = CondExpr::Kind::kNot;
      CondExpr k;
      WASMCAP_TRY_ASSIGN(k, cond_not());
      e.kids.push_back(std::move(k));
      return e;
    }
    if (is_op("(")) {
      WASMCAP_TRY(cond_next());
      CondExpr e;
      WASMCAP_TRY_ASSIGN(e, cond_or());
      if (!is_op(")")) return cond_fail("')'");
      WASMCAP_TRY(cond_next());
      return e;
    }
    if (tok_.kind != Token::Kind::kWord || is_word("]]")) return cond_fail("an expression");
    CondExpr e;
    std::string w = plain(tok_.word);
    if (is_test_unary_op(w)) {  // an unquoted operator: its operand must follow
      e.kind = CondExpr::Kind::kUnary;
      e.op = w;
      WASMCAP_TRY(advance());  // (bash skips newlines before and after a term, not inside)
      if (tok_.kind != Token::Kind::kWord || is_word("]]")) {
        return cond_fail("an operand of '" + e.op + "'");
      }
      lex_.account().take(sizeof(Word) + e.op.size());
      e.words.push_back(std::move(tok_.word));
      WASMCAP_TRY(cond_next());
      return e;
    }
    lex_.account().take(sizeof(Word));
    e.words.push_back(std::move(tok_.word));
    WASMCAP_TRY(advance());
    if (tok_.kind == Token::Kind::kWord && is_test_binary_op(plain(tok_.word), true)) {
      e.op = plain(tok_.word);
    } else if ((is_op("<") || is_op(">")) && tok_.fd < 0) {
      e.op = tok_.op;
    } else if (is_op("&&") || is_op("||") || is_op(")") || is_word("]]")) {
      return e;  // [[ w ]]: w is not empty
    } else {
      return cond_fail("a binary operator ('==', '-eq', ...), '&&', '||' or ']]'");
    }
    e.kind = CondExpr::Kind::kBinary;
    if (e.op == "=~") {
      Word re;
      WASMCAP_TRY_ASSIGN(re, lex_.regex_word());
      if (re.parts.empty() || plain(re) == "]]") {
        if (lex_.char_at(lex_.pos()) == '\0') lex_.mark_incomplete();
        return fail("syntax error in '[[ ]]': a regular expression after '=~' expected");
      }
      lex_.account().take(sizeof(Word));
      e.words.push_back(std::move(re));
      WASMCAP_TRY(cond_next());
      return e;
    }
    WASMCAP_TRY(advance());
    if (tok_.kind != Token::Kind::kWord || is_word("]]")) {
      return cond_fail("an operand of '" + e.op + "'");
    }
    lex_.account().take(sizeof(Word));
    e.words.push_back(std::move(tok_.word));
    WASMCAP_TRY(cond_next());
    return e;
  }

  // A compound command, then its redirections.
  Result<Command> compound(Command c, Result<void> (Parser::*clause)(Command&)) {
    WASMCAP_TRY((this->*clause)(c));
    WASMCAP_TRY(redirects(c));
    if (tok_.kind == Token::Kind::kWord && !at_list_end()) {
      return fail("syntax error near '" + plain(tok_.word) + "' (after a compound command)");
    }
    return c;
  }

  Result<void> redirects(Command& c) {
    while (tok_.kind == Token::Kind::kOp && is_redirect_op(tok_.op)) WASMCAP_TRY(redirect(c));
    return {};
  }

  static bool is_redirect_op(const std::string& op) {
    return op == ">" || op == ">>" || op == "<" || op == ">|" || op == "<>" || op == "<<" ||
           op == "<<-" || op == "<<<" || op == ">&" || op == "<&" || op == "&>" || op == "&>>";
  }

  Result<void> if_clause(Command& c) {
    c.kind = Command::Kind::kIf;
    WASMCAP_TRY(advance());  // if
    for (;;) {
      std::vector<AndOr> cond, then;
      WASMCAP_TRY_ASSIGN(cond, body("'if' condition"));
      WASMCAP_TRY(expect_word("then", "'if'"));
      WASMCAP_TRY_ASSIGN(then, body("'then' branch"));
      c.conds.push_back(std::move(cond));
      c.bodies.push_back(std::move(then));
      if (is_word("elif")) {
        WASMCAP_TRY(advance());
        continue;
      }
      break;
    }
    if (is_word("else")) {
      WASMCAP_TRY(advance());
      WASMCAP_TRY_ASSIGN(c.body, body("'else' branch"));
      c.has_else = true;
    }
    return expect_word("fi", "'if'");
  }

  Result<void> do_group(Command& c) {
    WASMCAP_TRY(expect_word("do", "a loop"));
    WASMCAP_TRY_ASSIGN(c.body, body("loop body"));
    return expect_word("done", "a loop");
  }

  Result<void> while_clause(Command& c) {
    c.kind = is_word("while") ? Command::Kind::kWhile : Command::Kind::kUntil;
    WASMCAP_TRY(advance());
    std::vector<AndOr> cond;
    WASMCAP_TRY_ASSIGN(cond, body("loop condition"));
    c.conds.push_back(std::move(cond));
    return do_group(c);
  }

  Result<void> for_clause(Command& c) {
    c.kind = Command::Kind::kFor;
    WASMCAP_TRY(advance());  // for
    if (is_op("(")) return arith_for(c);
    if (tok_.kind != Token::Kind::kWord || !valid_name(plain(tok_.word))) {
      if (tok_.kind == Token::Kind::kEnd) return unexpected();
      return fail("'for' needs a variable name");
    }
    c.name = plain(tok_.word);
    WASMCAP_TRY(advance());
    WASMCAP_TRY(skip_newlines());
    if (is_word("in")) {
      c.for_in = true;
      WASMCAP_TRY(advance());
      while (tok_.kind == Token::Kind::kWord) {
        lex_.account().take(sizeof(Word));
        c.words.push_back(std::move(tok_.word));
        WASMCAP_TRY(advance());
      }
      if (!is_op(";") && tok_.kind != Token::Kind::kNewline) {
        if (tok_.kind == Token::Kind::kEnd) return unexpected();
        return fail("'for ... in' list must end with ';' or a newline");
      }
      WASMCAP_TRY(advance());
    } else if (is_op(";")) {
      WASMCAP_TRY(advance());
    }
    WASMCAP_TRY(skip_newlines());
    return do_group(c);
  }

  Result<void> case_clause(Command& c) {
    c.kind = Command::Kind::kCase;
    WASMCAP_TRY(advance());  // case
    if (tok_.kind != Token::Kind::kWord) {
      if (tok_.kind == Token::Kind::kEnd) return unexpected();
      return fail("'case' needs a word");
    }
    c.words.push_back(std::move(tok_.word));
    WASMCAP_TRY(advance());
    WASMCAP_TRY(skip_newlines());
    WASMCAP_TRY(expect_word("in", "'case'"));
    for (;;) {
      WASMCAP_TRY(skip_newlines());
      if (is_word("esac")) break;
      if (tok_.kind == Token::Kind::kEnd) return unexpected();
      CaseItem item;
      if (is_op("(")) WASMCAP_TRY(advance());
      for (;;) {
        if (tok_.kind != Token::Kind::kWord) {
          if (tok_.kind == Token::Kind::kEnd) return unexpected();
          return fail("a 'case' pattern is missing");
        }
        lex_.account().take(sizeof(Word));
        item.patterns.push_back(std::move(tok_.word));
        WASMCAP_TRY(advance());
        if (is_op("|")) {
          WASMCAP_TRY(advance());
          continue;
        }
        break;
      }
      if (!is_op(")")) {
        if (tok_.kind == Token::Kind::kEnd) return unexpected();
        return fail("')' expected after a 'case' pattern");
      }
      WASMCAP_TRY(advance());
      WASMCAP_TRY_ASSIGN(item.body, list());
      lex_.account().take(sizeof(CaseItem));
      if (is_op(";;") || is_op(";&") || is_op(";;&")) {
        item.end = tok_.op == ";;"   ? CaseItem::End::kBreak
                   : tok_.op == ";&" ? CaseItem::End::kFallThrough
                                     : CaseItem::End::kTestNext;
        c.items.push_back(std::move(item));
        WASMCAP_TRY(advance());
        continue;
      }
      c.items.push_back(std::move(item));
      if (is_word("esac")) break;
      return unexpected();
    }
    return advance();  // esac
  }

  // (( expr )): the lexer reads the expression from just past "((".
  Result<void> arith_command(Command& c) {
    c.kind = Command::Kind::kArith;
    lex_.skip_to(tok_.end + 1);
    Word expr;
    WASMCAP_TRY(lex_.arith_expr(expr, false));
    lex_.account().take(sizeof(Word));
    c.words.push_back(std::move(expr));
    return advance();
  }

  // for (( init; cond; step )) [;] do body done
  Result<void> arith_for(Command& c) {
    c.kind = Command::Kind::kArithFor;
    if (lex_.char_at(tok_.end) != '(') return fail("'for (' needs '((' (for ((init; cond; step)))");
    lex_.skip_to(tok_.end + 1);
    for (int k = 0; k < 3; ++k) {
      Word expr;
      char end = 0;
      WASMCAP_TRY_ASSIGN(end, lex_.arith_expr(expr, k < 2));
      if ((k < 2) != (end == ';')) return fail("'for ((...))' needs three expressions");
      lex_.account().take(sizeof(Word));
      c.words.push_back(std::move(expr));
    }
    WASMCAP_TRY(advance());
    if (is_op(";")) WASMCAP_TRY(advance());
    WASMCAP_TRY(skip_newlines());
    if (is_word("{")) {  // bash also takes a { } body
      Command g;
      WASMCAP_TRY(group(g));
      c.body.push_back(AndOr{{Pipeline{{std::move(g)}, false, false, false}}, {}, false, {}});
      return {};
    }
    return do_group(c);
  }

  Result<void> group(Command& c) {
    c.kind = Command::Kind::kGroup;
    WASMCAP_TRY(advance());  // {
    WASMCAP_TRY_ASSIGN(c.body, body("'{ }' group"));
    return expect_word("}", "a '{ }' group");
  }

  Result<void> subshell(Command& c) {
    c.kind = Command::Kind::kSubshell;
    WASMCAP_TRY(advance());  // (
    WASMCAP_TRY_ASSIGN(c.body, body("'( )' subshell"));
    if (!is_op(")")) return tok_.kind == Token::Kind::kEnd ? unexpected()
                                                           : fail("')' expected");
    return advance();
  }

  // `function NAME [()] BODY`.
  Result<Command> function_keyword(Command c) {
    WASMCAP_TRY(advance());
    if (tok_.kind != Token::Kind::kWord) return unexpected();
    std::string name = plain(tok_.word);
    if (name.empty() || name == "{" || is_terminator(name)) return fail("bad function name");
    WASMCAP_TRY(advance());
    if (is_op("(")) {
      WASMCAP_TRY(advance());
      if (!is_op(")")) return fail("')' expected after 'function " + name + " ('");
      WASMCAP_TRY(advance());
    }
    return function_body(std::move(c), name);
  }

  Result<Command> function_body(Command c, const std::string& name) {
    if (name.empty() || is_terminator(name) || name.find('=') != std::string::npos) {
      return fail("bad function name");
    }
    c.kind = Command::Kind::kFunction;
    c.name = name;
    WASMCAP_TRY(skip_newlines());
    if (!is_word("{") && !is_op("(") && !is_word("if") && !is_word("while") &&
        !is_word("until") && !is_word("for") && !is_word("case")) {
      if (tok_.kind == Token::Kind::kEnd) return unexpected();
      return fail("a function body must be a compound command ('{ ...; }')");
    }
    lex_.account().flush();
    uint64_t since = lex_.account().charged();
    Command b;
    WASMCAP_TRY_ASSIGN(b, command());
    c.function_body = lex_.account().hold(std::move(b), since);
    return c;
  }

  // NAME=value prefixes, words and redirections, in any order; `NAME ( )` makes a function.
  Result<Command> simple(Command c) {
    for (;;) {
      if (tok_.kind == Token::Kind::kWord) {
        if (c.words.empty() && try_assignment(c)) {
          WASMCAP_TRY(advance());
          if (is_op("(") && tok_.begin == prev_end_) {
            if (!c.assign_targets.empty() && c.assign_targets.back().index) {
              return fail("syntax error: an array element cannot be assigned an array");
            }
            WASMCAP_TRY(array_literal(c.assigns.back().second));
            WASMCAP_TRY(advance());
          }
          continue;
        }
        if (c.words.empty() && aliasing()) {  // the name after assignments and redirections
          bool expanded = false;
          WASMCAP_TRY_ASSIGN(expanded, try_alias());
          if (expanded) {
            WASMCAP_TRY(advance());
            continue;
          }
        }
        lex_.account().take(sizeof(Word));
        c.words.push_back(std::move(tok_.word));
        prev_end_ = tok_.end;
        if (c.words.size() > 1 && is_declaration_name(plain(c.words[0]))) {
          declaration_tildes(c.words.back());
        }
        WASMCAP_TRY(advance());
        // declare/local/readonly/export/typeset NAME=(...): the word takes the array.
        if (is_op("(") && tok_.begin == prev_end_ && c.words.size() > 1 &&
            is_declaration_name(plain(c.words[0]))) {
          const Word& last = c.words.back();
          std::string t = last.parts.size() == 1 ? plain(last) : "";
          size_t n = 0;
          while (n < t.size() && (n == 0 ? is_name_start(t[n]) : is_name_char(t[n]))) ++n;
          if (n > 0 && (t.substr(n) == "=" || t.substr(n) == "+=")) {
            Word value;
            WASMCAP_TRY(array_literal(value));
            c.words.back().parts.push_back(std::move(value.parts[0]));
            WASMCAP_TRY(advance());
          }
        }
        continue;
      }
      if (tok_.kind == Token::Kind::kOp && is_redirect_op(tok_.op)) {
        WASMCAP_TRY(redirect(c));
        continue;
      }
      if (is_op("(") && c.words.size() == 1 && c.assigns.empty() && c.redirects.empty()) {
        std::string name = plain(c.words[0]);
        WASMCAP_TRY(advance());
        if (!is_op(")")) return fail("syntax error near '(' (a function needs '()')");
        WASMCAP_TRY(advance());
        c.words.clear();
        return function_body(std::move(c), name);
      }
      break;
    }
    if (c.words.empty() && c.assigns.empty() && c.redirects.empty()) {
      if (tok_.kind == Token::Kind::kEnd) lex_.mark_incomplete();
      if (tok_.kind == Token::Kind::kEnd || tok_.kind == Token::Kind::kNewline || is_op(")")) {
        return fail("a command is missing (after '|', '&&', '||' or '!'?)");
      }
      return unexpected();
    }
    if (is_op("(")) return fail("syntax error near unexpected '('");
    return c;
  }

  // NAME=value, NAME+=value, NAME[index]=value (NAME unquoted): an assignment prefix.
  bool try_assignment(Command& c) {
    const Word& w = tok_.word;
    if (w.parts.empty() || w.parts[0].kind != WordPart::Kind::kLiteral || w.parts[0].quoted) {
      return false;
    }
    const std::string& t = w.parts[0].text;
    size_t n = 0;
    while (n < t.size() && (n == 0 ? is_name_start(t[n]) : is_name_char(t[n]))) ++n;
    if (n == 0 || n == t.size()) return false;
    Command::AssignTarget target;
    Word value;
    std::string name = t.substr(0, n);
    if (t[n] == '[') {  // NAME[index]= : the index runs to the matching unquoted ']'
      Word index;
      int depth = 0;
      size_t k = 0, j = n + 1;
      bool found = false;
      for (; k < w.parts.size() && !found; ++k, j = 0) {
        const WordPart& p = w.parts[k];
        if (p.kind != WordPart::Kind::kLiteral || p.quoted) {
          index.parts.push_back(p);
          continue;
        }
        size_t start = j;
        for (; j < p.text.size(); ++j) {
          if (p.text[j] == '[') ++depth;
          if (p.text[j] == ']' && depth-- == 0) {
            found = true;
            break;
          }
        }
        if (j > start) {
          index.parts.push_back({WordPart::Kind::kLiteral, p.text.substr(start, j - start), false});
        }
        if (found) break;
      }
      if (!found) return false;
      const std::string& rest = w.parts[k].text;
      size_t after = j + 1;
      if (rest.compare(after, 2, "+=") == 0) {
        target.append = true;
        after += 2;
      } else if (rest.compare(after, 1, "=") == 0) {
        after += 1;
      } else {
        return false;
      }
      target.index = std::make_shared<const Word>(std::move(index));
      value.parts.push_back({WordPart::Kind::kLiteral, rest.substr(after), false});
      for (size_t m = k + 1; m < w.parts.size(); ++m) value.parts.push_back(w.parts[m]);
    } else {
      size_t eq = n;
      if (t.compare(n, 2, "+=") == 0) {
        target.append = true;
        eq = n + 1;
      }
      if (t[eq] != '=') return false;
      value = std::move(tok_.word);
      value.parts[0].text.erase(0, eq + 1);
    }
    lex_.account().take(sizeof(std::pair<std::string, Word>) + sizeof(target) + t.size());
    assignment_tildes(value);
    prev_end_ = tok_.end;
    if (target.index || target.append || !c.assign_targets.empty()) {
      c.assign_targets.resize(c.assigns.size());
      c.assign_targets.push_back(std::move(target));
    }
    c.assigns.emplace_back(std::move(name), std::move(value));
    return true;
  }

  // After NAME= (the current token is the '(' right after it): NAME=( words ), newlines and
  // comments allowed between the words. The words become the value's one kArray part.
  Result<void> array_literal(Word& value) {
    bool empty = true;
    for (const auto& p : value.parts) empty = empty && p.kind == WordPart::Kind::kLiteral && p.text.empty();
    if (!empty) return fail("syntax error near '(' (an array needs 'NAME=(...)')");
    auto elems = std::make_shared<std::vector<Word>>();
    WASMCAP_TRY(advance());
    for (;;) {
      WASMCAP_TRY(skip_newlines());
      if (is_op(")")) break;
      if (tok_.kind != Token::Kind::kWord) {
        if (tok_.kind == Token::Kind::kEnd) lex_.mark_incomplete();
        return fail("syntax error in an array ('NAME=(...)' holds words only)");
      }
      lex_.account().take(sizeof(Word));
      elems->push_back(std::move(tok_.word));
      WASMCAP_TRY(advance());
    }
    prev_end_ = tok_.end;
    value.parts.clear();
    WordPart part{WordPart::Kind::kArray, "", false};
    part.elems = std::move(elems);
    value.parts.push_back(std::move(part));
    return {};
  }

  Result<void> redirect(Command& c) {
    lex_.account().take(sizeof(Redirect));
    Redirect r;
    std::string op = tok_.op;
    bool input = op == "<" || op == "<>" || op == "<<" || op == "<<-" || op == "<<<" || op == "<&";
    const int explicit_fd = tok_.fd_var.empty() ? tok_.fd : 10;
    r.fd_var = tok_.fd_var;
    r.fd = explicit_fd >= 0 ? explicit_fd : (input ? 0 : 1);
    if (r.fd >= kMaxFds) return fail("redirection of descriptor " + std::to_string(r.fd) +
                                     " is not supported (0-" + std::to_string(kMaxFds - 1) + ")");
    WASMCAP_TRY(advance());
    if (tok_.kind != Token::Kind::kWord) {
      if (tok_.kind == Token::Kind::kEnd) lex_.mark_incomplete();
      return fail("'" + op + "' needs a file name");
    }
    if (op == ">&" || op == "<&") {
      std::string t = plain(tok_.word);
      auto number = [](std::string_view d) {
        return !d.empty() && d.find_first_not_of("0123456789") == std::string::npos;
      };
      // (a number past the table is kept as kMaxFds: "Bad file descriptor" when it runs)
      auto fd_of = [](std::string_view d) { return d.size() <= 2 ? std::stoi(std::string(d)) : kMaxFds; };
      if (t == "-") {
        r.op = Redirect::Op::kClose;
      } else if (number(t)) {
        r.op = Redirect::Op::kDup;
        r.dup_to = fd_of(t);
      } else if (t.size() > 1 && t.back() == '-' && number(std::string_view(t).substr(0, t.size() - 1))) {
        r.op = Redirect::Op::kMove;
        r.dup_to = fd_of(std::string_view(t).substr(0, t.size() - 1));
      } else if (op == ">&" && explicit_fd < 0 && !t.empty()) {
        r.op = Redirect::Op::kOutErr;  // `>&FILE` is `&>FILE` (bash)
        r.target = std::move(tok_.word);
      } else {
        // An expansion (or a quoted word): what it names is known when the command runs.
        r.op = Redirect::Op::kDupWord;
        r.out_err = op == ">&" && explicit_fd < 0;
        r.target = std::move(tok_.word);
      }
    } else if (op == "<<" || op == "<<-") {
      auto h = std::make_shared<HereDoc>();
      h->strip_tabs = op == "<<-";
      bool literal = true;
      for (const WordPart& p : tok_.word.parts) {
        if (p.kind != WordPart::Kind::kLiteral && p.kind != WordPart::Kind::kVar) {
          return fail("a here-document delimiter with a substitution is not supported");
        }
        literal = literal && p.kind == WordPart::Kind::kLiteral;
        h->quoted = h->quoted || p.quoted;
        h->delimiter += p.text;
      }
      if (!literal) {  // `<<$a`, `<<${a}`: the text as written, quotes removed, never expanded (bash)
        h->delimiter.clear();
        char q = 0;
        std::string_view raw = lex_.text(tok_.begin, tok_.end);
        for (size_t k = 0; k < raw.size(); ++k) {
          char c = raw[k];
          if (q == 0 && (c == '\'' || c == '"')) {
            q = c;
            h->quoted = true;
          } else if (c == q) {
            q = 0;
          } else if (c == '\\' && q != '\'' && k + 1 < raw.size()) {
            h->quoted = true;
            h->delimiter += raw[++k];
          } else {
            h->delimiter += c;
          }
        }
      }
      r.op = Redirect::Op::kHereDoc;
      r.heredoc = h;
      lex_.add_heredoc(std::move(h));
    } else {
      r.op = op == ">"     ? Redirect::Op::kOut
             : op == ">>"  ? Redirect::Op::kAppend
             : op == "<"   ? Redirect::Op::kIn
             : op == ">|"  ? Redirect::Op::kClobber
             : op == "<>"  ? Redirect::Op::kReadWrite
             : op == "<<<" ? Redirect::Op::kHereString
             : op == "&>"  ? Redirect::Op::kOutErr
                           : Redirect::Op::kAppendErr;
      r.target = std::move(tok_.word);
    }
    c.redirects.push_back(std::move(r));
    return advance();
  }

  Lexer lex_;
  Token tok_;
  bool closing_ = false;
  size_t prev_end_ = 0;
  int list_depth_ = 0;
  bool unit_ = false;  // one complete command (parse_one_unit)

 public:
  // One complete command: the items of a line (or of the lines an open construct on it spans),
  // up to and with its newline (the here-document bodies after it included).
  Result<Script> unit(size_t* end, int* end_line) {
    unit_ = true;
    Script sc;
    WASMCAP_TRY(advance());
    WASMCAP_TRY_ASSIGN(sc.items, list());
    if (tok_.kind != Token::Kind::kEnd && tok_.kind != Token::Kind::kNewline) return unexpected();
    *end = tok_.end;
    *end_line = lex_.line();
    return sc;
  }
};

}  // namespace

Result<Script> parse_substitution(const std::string& s, size_t& pos, int& line, int subst_depth,
                                  ParseCtx* pc) {
  Parser p(s, pos, line, subst_depth, pc, true);
  auto sc = p.script();
  if (!sc) return sc;
  pos = p.lexer().pos();  // just past the ")" (the parser's last token)
  line = p.lexer().line();
  return sc;
}

Result<Script> parse_text(const std::string& s, int line, int subst_depth, ParseCtx* pc) {
  Parser p(s, 0, line, subst_depth, pc, false);
  return p.script();
}

Result<Script> parse_one_unit(const std::string& s, int line, ParseCtx* pc, size_t* end,
                              int* end_line) {
  Parser p(s, 0, line, 0, pc, false);
  return p.unit(end, end_line);
}

}  // namespace detail

Result<Script> parse(const std::string& text, bool* incomplete, Budget* budget,
                     uint64_t* charged) {
  if (incomplete != nullptr) *incomplete = false;
  if (charged != nullptr) *charged = 0;
  detail::ParseCtx pc(budget, incomplete);
  try {
    auto sc = detail::parse_text(text, 1, 0, &pc);
    if (sc) pc.acct.flush();
    if (!sc || charged == nullptr) {
      pc.acct.release_all();
    } else {
      *charged = pc.acct.charged();
    }
    return sc;
  } catch (const LimitHit& h) {  // only with a budget
    pc.acct.release_all();
    if (h.error().code == ErrorCode::kMemoryLimit) {
      return make_error(ErrorCode::kMemoryLimit,
                        "the parsed script does not fit: " + h.error().message);
    }
    return make_error(ErrorCode::kDeadlineExceeded, h.error().message);
  }
}

}  // namespace wasmcap::shell

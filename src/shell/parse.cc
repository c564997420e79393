// Recursive-descent parser for the shell grammar (docs/shell.md "Grammar") over the lexer's
// tokens (lex.h): the script, lists, pipelines and compound commands, and the entry points
// (parse.h). The grammar made of words (simple commands, assignments, redirections, [[ ]]) is
// parse_words.cc's; the class is declared in parser.h.
//
// Hand-written: no maintained C++ library parses POSIX sh (the shells themselves are C programs
// whose parsers are welded to their executors). Everything outside the grammar is refused here
// with the construct's name, so nothing is ever silently misparsed. Every recursion goes
// through a Nest (lex.h): a hostile script cannot nest deeper than kMaxNestingDepth.
#include "shell/parse.h"

#include <algorithm>

#include "shell/budget.h"
#include "shell/lex.h"
#include "shell/parser.h"

namespace wasmcap::shell {

namespace detail {

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

bool is_terminator(const std::string& w) {
  return w == "then" || w == "else" || w == "elif" || w == "fi" || w == "do" || w == "done" ||
         w == "esac" || w == "}";
}

Result<Script> Parser::script() {
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

bool Parser::is_word(const char* w) const {
  return tok_.kind == Token::Kind::kWord && plain(tok_.word) == w;
}

bool Parser::bang_group() const {
  return tok_.kind == Token::Kind::kWord && lex_.char_at(tok_.begin) == '!' &&
         lex_.char_at(tok_.begin + 1) == '(' && !tok_.word.parts.empty() &&
         tok_.word.parts[0].kind == WordPart::Kind::kLiteral && !tok_.word.parts[0].quoted;
}

Result<void> Parser::advance() {
  for (;;) {
    WASMCAP_TRY_ASSIGN(tok_, lex_.next());
    if (!aliasing()) return {};
    auto again = lex_.ctx()->alias.next_token(lex_, tok_);  // (after a value ending in a blank)
    if (!again) return fail(again.error().message);
    if (!*again) return {};
  }
}

bool Parser::aliasing() const {
  const AliasExpansion& a = lex_.ctx()->alias;
  return a.table != nullptr && a.text == &lex_.source();
}

Result<bool> Parser::try_alias() {
  if (!aliasing()) return false;
  auto r = lex_.ctx()->alias.expand(lex_, tok_);
  if (!r) return fail(r.error().message);
  return *r;
}

Result<void> Parser::command_word_aliases() {
  for (;;) {
    bool expanded = false;
    WASMCAP_TRY_ASSIGN(expanded, try_alias());
    if (!expanded) return {};
    WASMCAP_TRY(advance());
  }
}

Result<void> Parser::skip_newlines() {
  while (tok_.kind == Token::Kind::kNewline) WASMCAP_TRY(advance());
  return {};
}

tl::unexpected<Error> Parser::fail(const std::string& what) const {
  return make_error(ErrorCode::kInvalidArgument,
                    "line " + std::to_string(tok_.line) + ": " + what);
}

tl::unexpected<Error> Parser::unexpected() const {
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

bool Parser::at_list_end() const {
  if (tok_.kind == Token::Kind::kEnd) return true;
  if (tok_.kind == Token::Kind::kOp) {
    return tok_.op == ")" || tok_.op == ";;" || tok_.op == ";&" || tok_.op == ";;&";
  }
  return tok_.kind == Token::Kind::kWord && is_terminator(plain(tok_.word));
}

Result<std::vector<AndOr>> Parser::list() {
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

Result<std::vector<AndOr>> Parser::body(const char* construct) {
  std::vector<AndOr> items;
  WASMCAP_TRY_ASSIGN(items, list());
  if (items.empty()) {
    if (tok_.kind == Token::Kind::kEnd) return unexpected();
    return fail(std::string("empty ") + construct + " (a command is missing)");
  }
  return items;
}

Result<void> Parser::expect_word(const char* w, const char* construct) {
  if (!is_word(w)) {
    if (tok_.kind == Token::Kind::kEnd) return unexpected();
    return fail(std::string("'") + w + "' expected in " + construct);
  }
  return advance();
}

Result<AndOr> Parser::and_or() {
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

Result<Pipeline> Parser::pipeline() {
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

Result<Command> Parser::command() {
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

Result<Command> Parser::compound(Command c, Result<void> (Parser::*clause)(Command&)) {
  WASMCAP_TRY((this->*clause)(c));
  WASMCAP_TRY(redirects(c));
  if (tok_.kind == Token::Kind::kWord && !at_list_end()) {
    return fail("syntax error near '" + plain(tok_.word) + "' (after a compound command)");
  }
  return c;
}

Result<void> Parser::if_clause(Command& c) {
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

Result<void> Parser::do_group(Command& c) {
  WASMCAP_TRY(expect_word("do", "a loop"));
  WASMCAP_TRY_ASSIGN(c.body, body("loop body"));
  return expect_word("done", "a loop");
}

Result<void> Parser::while_clause(Command& c) {
  c.kind = is_word("while") ? Command::Kind::kWhile : Command::Kind::kUntil;
  WASMCAP_TRY(advance());
  std::vector<AndOr> cond;
  WASMCAP_TRY_ASSIGN(cond, body("loop condition"));
  c.conds.push_back(std::move(cond));
  return do_group(c);
}

Result<void> Parser::for_clause(Command& c) {
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

Result<void> Parser::case_clause(Command& c) {
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

Result<void> Parser::arith_command(Command& c) {
  c.kind = Command::Kind::kArith;
  lex_.skip_to(tok_.end + 1);
  Word expr;
  WASMCAP_TRY(lex_.arith_expr(expr, false));
  lex_.account().take(sizeof(Word));
  c.words.push_back(std::move(expr));
  return advance();
}

Result<void> Parser::arith_for(Command& c) {
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

Result<void> Parser::group(Command& c) {
  c.kind = Command::Kind::kGroup;
  WASMCAP_TRY(advance());  // {
  WASMCAP_TRY_ASSIGN(c.body, body("'{ }' group"));
  return expect_word("}", "a '{ }' group");
}

Result<void> Parser::subshell(Command& c) {
  c.kind = Command::Kind::kSubshell;
  WASMCAP_TRY(advance());  // (
  WASMCAP_TRY_ASSIGN(c.body, body("'( )' subshell"));
  if (!is_op(")")) return tok_.kind == Token::Kind::kEnd ? unexpected()
                                                         : fail("')' expected");
  return advance();
}

Result<Command> Parser::function_keyword(Command c) {
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

Result<Command> Parser::function_body(Command c, const std::string& name) {
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

Result<Script> Parser::unit(size_t* end, int* end_line) {
  unit_ = true;
  Script sc;
  WASMCAP_TRY(advance());
  WASMCAP_TRY_ASSIGN(sc.items, list());
  if (tok_.kind != Token::Kind::kEnd && tok_.kind != Token::Kind::kNewline) return unexpected();
  *end = tok_.end;
  *end_line = lex_.line();
  return sc;
}

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

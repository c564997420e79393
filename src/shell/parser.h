// The shell's recursive-descent parser (parse.h), shared by its two halves: parse.cc (the
// script, lists, pipelines, compound commands and the entry points) and parse_words.cc (the
// grammar made of words: simple commands, assignments, array literals, redirections, and the
// expression of [[ ]]). Private to them.
#pragma once

#include <string>
#include <vector>

#include "shell/lex.h"
#include "shell/parse.h"

namespace wasmcap::shell::detail {

// The word's text if it is one unquoted literal, else "".
std::string plain(const Word& w);
bool valid_name(const std::string& s);
bool is_declaration_name(const std::string& w);
// Words that end a list: the parser stops there and the enclosing construct takes them.
bool is_terminator(const std::string& w);

inline constexpr const char* kNestingError =
    "nesting deeper than 200 levels (compound commands, groups, subshells, substitutions, "
    "${...}) is not supported";

class Parser {
 public:
  // `closing`: the text is a $(...) whose ')' ends the script.
  Parser(const std::string& text, size_t pos, int line, int subst_depth, ParseCtx* pc,
         bool closing)
      : lex_(text, pos, line, subst_depth, pc), closing_(closing) {}

  const Lexer& lexer() const { return lex_; }

  Result<Script> script();

 private:
  bool is_op(const char* op) const { return tok_.kind == Token::Kind::kOp && tok_.op == op; }
  bool is_word(const char* w) const;

  // The word lexed as an extglob group `!(...)` (lex.cc), where a command starts.
  bool bang_group() const;

  Result<void> advance();

  // Alias expansion (lex.h AliasExpansion) applies to this parser's text.
  bool aliasing() const;
  // The current token, when it is an unquoted word naming an alias not being expanded, is
  // replaced by the alias' value; the lexer is set back to read it (the caller lexes again).
  Result<bool> try_alias();
  // Where a command's name is: aliases expand (again, for the first word of a value).
  Result<void> command_word_aliases();
  Result<void> skip_newlines();

  tl::unexpected<Error> fail(const std::string& what) const;
  // A token where none fits. At the end of the text more input could fix it (an open
  // construct), so the interactive shell asks for more.
  tl::unexpected<Error> unexpected() const;

  // Does the current token end the list being parsed?
  bool at_list_end() const;

  // A sequence of and-or lists separated by ; & or newlines, up to a terminator (see
  // at_list_end); leading newlines are skipped.
  Result<std::vector<AndOr>> list();

  // A list that must hold at least one command (bodies of if, loops, groups).
  Result<std::vector<AndOr>> body(const char* construct);

  Result<void> expect_word(const char* w, const char* construct);

  Result<AndOr> and_or();

  Result<Pipeline> pipeline();

  Result<Command> command();

  // [[ expr ]]: bash's conditional command. `||` `&&` `!` `( )` over the operators of
  // test_expr.h, with newlines allowed between its tokens; the operands are words (expanded
  // without splitting or globbing when it runs). Parsed before anything runs, as bash does: an
  // operator from a variable is an operand, and anything that is not an expression is a syntax
  // error naming where. && and || lists are flat (kids in order), so a long chain is no deeper.
  Result<void> dbracket(Command& c);

  Result<void> cond_next();

  tl::unexpected<Error> cond_fail(const std::string& expected) const;

  Result<CondExpr> cond_list(bool is_or);
  Result<CondExpr> cond_or() { return cond_list(true); }

  Result<CondExpr> cond_not();

  // A compound command, then its redirections.
  Result<Command> compound(Command c, Result<void> (Parser::*clause)(Command&));

  Result<void> redirects(Command& c);

  static bool is_redirect_op(const std::string& op);

  Result<void> if_clause(Command& c);

  Result<void> do_group(Command& c);

  Result<void> while_clause(Command& c);

  Result<void> for_clause(Command& c);

  Result<void> case_clause(Command& c);

  // (( expr )): the lexer reads the expression from just past "((".
  Result<void> arith_command(Command& c);

  // for (( init; cond; step )) [;] do body done
  Result<void> arith_for(Command& c);

  Result<void> group(Command& c);

  Result<void> subshell(Command& c);

  // `function NAME [()] BODY`.
  Result<Command> function_keyword(Command c);

  Result<Command> function_body(Command c, const std::string& name);

  // NAME=value prefixes, words and redirections, in any order; `NAME ( )` makes a function.
  Result<Command> simple(Command c);

  // NAME=value, NAME+=value, NAME[index]=value (NAME unquoted): an assignment prefix.
  bool try_assignment(Command& c);

  // After NAME= (the current token is the '(' right after it): NAME=( words ), newlines and
  // comments allowed between the words. The words become the value's one kArray part.
  Result<void> array_literal(Word& value);

  Result<void> redirect(Command& c);

  Lexer lex_;
  Token tok_;
  bool closing_ = false;
  size_t prev_end_ = 0;
  int list_depth_ = 0;
  bool unit_ = false;  // one complete command (parse_one_unit)

 public:
  // One complete command: the items of a line (or of the lines an open construct on it spans),
  // up to and with its newline (the here-document bodies after it included).
  Result<Script> unit(size_t* end, int* end_line);
};

}  // namespace wasmcap::shell::detail

// The shell parser's grammar made of words (parser.h): simple commands (NAME=value prefixes,
// words and redirections in any order, `NAME ( )` function definitions), assignments and
// NAME=( ) array literals, redirections, and the expression of [[ ]] over test_expr.h's
// operators. Every recursion goes through a Nest (lex.h).
#include <algorithm>

#include "shell/lex.h"
#include "shell/parser.h"
#include "shell/test_expr.h"

namespace wasmcap::shell::detail {

Result<void> Parser::dbracket(Command& c) {
  c.kind = Command::Kind::kCond;
  WASMCAP_TRY(cond_next());  // [[
  CondExpr e;
  WASMCAP_TRY_ASSIGN(e, cond_or());
  if (!is_word("]]")) return cond_fail("'&&', '||' or ']]'");
  lex_.account().take(sizeof(CondExpr));
  c.cond = std::make_shared<const CondExpr>(std::move(e));
  return advance();
}

Result<void> Parser::cond_next() {
  WASMCAP_TRY(advance());
  return skip_newlines();
}

tl::unexpected<Error> Parser::cond_fail(const std::string& expected) const {
  if (tok_.kind == Token::Kind::kEnd) return unexpected();
  std::string near = tok_.kind == Token::Kind::kOp ? tok_.op : plain(tok_.word);
  return fail("syntax error in '[[ ]]'" + (near.empty() ? "" : " near '" + near + "'") +
              ": " + expected + " expected");
}

Result<CondExpr> Parser::cond_list(bool is_or) {
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

Result<CondExpr> Parser::cond_not() {
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

Result<void> Parser::redirects(Command& c) {
  while (tok_.kind == Token::Kind::kOp && is_redirect_op(tok_.op)) WASMCAP_TRY(redirect(c));
  return {};
}

bool Parser::is_redirect_op(const std::string& op) {
  return op == ">" || op == ">>" || op == "<" || op == ">|" || op == "<>" || op == "<<" ||
         op == "<<-" || op == "<<<" || op == ">&" || op == "<&" || op == "&>" || op == "&>>";
}

Result<Command> Parser::simple(Command c) {
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
      // An argument that looks like an assignment (NAME=v, NAME+=v, NAME[i]=v) has its value's
      // tildes expanded, as bash does outside posix mode (`make PREFIX=~/x`, `export P=~/bin`).
      if (c.words.size() > 1) assignment_like_tildes(c.words.back());
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

bool Parser::try_assignment(Command& c) {
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

Result<void> Parser::array_literal(Word& value) {
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

Result<void> Parser::redirect(Command& c) {
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

}  // namespace wasmcap::shell::detail

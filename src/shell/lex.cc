// The shell's lexer (lex.h): operators, words and their parts (quotes, parameter expansions,
// command substitutions, backticks, $'...'), here-document bodies.
#include "shell/lex.h"

#include <cctype>

#include "shell/parse.h"
#include "common/utf8.h"

namespace wasmcap::shell::detail {

bool is_name_start(char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_'; }
bool is_name_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

namespace {

bool is_meta(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '|' || c == '&' || c == ';' || c == '<' ||
         c == '>' || c == '(' || c == ')';
}

bool is_digit(char c) { return std::isdigit(static_cast<unsigned char>(c)) != 0; }

constexpr const char* kNestingError =
    "nesting deeper than 200 levels (compound commands, groups, subshells, substitutions, "
    "${...}) is not supported";

}  // namespace

bool Nest::ok() const { return pc_->nesting <= kMaxNestingDepth; }

tl::unexpected<Error> Lexer::fail(const std::string& what) const {
  return make_error(ErrorCode::kInvalidArgument, "line " + std::to_string(line_) + ": " + what);
}

Result<Token> Lexer::next() {
  for (;;) {
    while (pos_ < s_.size() && (s_[pos_] == ' ' || s_[pos_] == '\t')) ++pos_;
    if (pos_ + 1 < s_.size() && s_[pos_] == '\\' && s_[pos_ + 1] == '\n') {
      pos_ += 2;
      ++line_;
      if (pos_ == s_.size()) mark_incomplete();  // "a \<newline>" at the end: more to come
      continue;
    }
    if (pos_ < s_.size() && s_[pos_] == '#') {
      while (pos_ < s_.size() && s_[pos_] != '\n') ++pos_;
    }
    break;
  }
  Token t;
  t.line = line_;
  t.begin = pos_;
  if (pos_ >= s_.size()) {
    if (!pending_.empty()) {  // `cat <<EOF` at the very end: an empty body, as bash (warns)
      mark_incomplete();
      WASMCAP_TRY(read_heredocs());
    }
    t.end = pos_;
    return t;
  }
  char c = s_[pos_];
  if (c == '\n') {
    ++pos_;
    ++line_;
    t.kind = Token::Kind::kNewline;
    WASMCAP_TRY(read_heredocs());
    t.end = pos_;
    return t;
  }
  // {NAME} directly before a redirection operator: a named descriptor ("{fd}>file").
  if (c == '{' && is_name_start(peek(1))) {
    size_t e = pos_ + 1;
    while (e < s_.size() && is_name_char(s_[e])) ++e;
    if (e + 1 < s_.size() && s_[e] == '}' && (s_[e + 1] == '>' || s_[e + 1] == '<') &&
        !(e + 2 < s_.size() && s_[e + 2] == '(') && e - pos_ <= 256) {
      t.fd_var = s_.substr(pos_ + 1, e - pos_ - 1);
      pos_ = e + 1;
      return redirect(std::move(t));
    }
  }
  // A descriptor number directly before a redirection operator: "2>", "2>&1", "10<x".
  size_t d = pos_;
  while (d < s_.size() && is_digit(s_[d])) ++d;
  // (Not before `<(` or `>(`: `2>(list)` is the word 2 and a process substitution, as bash's.)
  if (d > pos_ && d < s_.size() && (s_[d] == '>' || s_[d] == '<') &&
      !(d + 1 < s_.size() && s_[d + 1] == '(')) {
    if (d - pos_ > 2) return fail("redirection of descriptor " + s_.substr(pos_, d - pos_) +
                                  " is not supported (0-9)");
    t.fd = std::stoi(s_.substr(pos_, d - pos_));
    pos_ = d;
    return redirect(std::move(t));
  }
  // `<(list)` and `>(list)` start a word (a process substitution), not a redirection:
  // `cat <(a) <(b)`, `tee >(a) >(b)`.
  if ((c == '<' || c == '>') && peek(1) == '(') {
    t.kind = Token::Kind::kWord;
    WASMCAP_TRY_ASSIGN(t.word, word(Mode::kNormal));
    t.end = pos_;
    return t;
  }
  if (c == '>' || c == '<') return redirect(std::move(t));
  if (is_meta(c)) return op_token(std::move(t));
  t.kind = Token::Kind::kWord;
  WASMCAP_TRY_ASSIGN(t.word, word(Mode::kNormal));
  t.end = pos_;
  return t;
}

Result<Token> Lexer::op_token(Token t) {
  t.kind = Token::Kind::kOp;
  char c = s_[pos_];
  auto take = [&](std::string_view op) {
    t.op.assign(op.data(), op.size());  // (not `= op`: GCC 12 -O3 reports a bogus -Wrestrict)
    pos_ += t.op.size();
    t.end = pos_;
    return t;
  };
  switch (c) {
    case '|':
      if (peek(1) == '|') return take("||");
      if (peek(1) == '&') return take("|&");
      return take("|");
    case '&':
      if (peek(1) == '&') return take("&&");
      if (peek(1) == '>') {
        t.fd = 1;
        return peek(2) == '>' ? take("&>>") : take("&>");
      }
      return take("&");
    case ';':
      if (peek(1) == ';') return peek(2) == '&' ? take(";;&") : take(";;");
      if (peek(1) == '&') return take(";&");
      return take(";");
    case '(':
      return take("(");
    default:
      return take(")");
  }
}

Result<Token> Lexer::redirect(Token t) {
  t.kind = Token::Kind::kOp;
  auto take = [&](std::string_view op) {
    t.op.assign(op.data(), op.size());  // (not `= op`: GCC 12 -O3 reports a bogus -Wrestrict)
    pos_ += t.op.size();
    t.end = pos_;
    return t;
  };
  if (s_[pos_] == '<') {
    if (peek(1) == '<') {
      if (peek(2) == '<') return take("<<<");
      return peek(2) == '-' ? take("<<-") : take("<<");
    }
    if (peek(1) == '>') return take("<>");
    if (peek(1) == '&') return take("<&");
    if (peek(1) == '(') return fail("process substitution ('<(...)') is not supported");
    return take("<");
  }
  if (peek(1) == '>') return take(">>");
  if (peek(1) == '|') return take(">|");
  if (peek(1) == '&') return take(">&");
  if (peek(1) == '(') return fail("process substitution ('>(...)') is not supported");
  return take(">");
}

// At a newline: the bodies of the here-documents opened on the line just ended, in order.
// Lines up to the delimiter line (tabs stripped first for <<-) form the body; a body that runs
// to the end of the text ends there, as in bash (which warns), and more input could finish it.
Result<void> Lexer::read_heredocs() {
  auto pending = std::move(pending_);
  pending_.clear();
  for (auto& h : pending) {
    std::string body;
    int body_line = line_;
    bool found = false;
    bool unterminated_line = false;  // the text ended inside the body's last line
    while (pos_ < s_.size()) {
      size_t eol = s_.find('\n', pos_);
      size_t end = eol == std::string::npos ? s_.size() : eol;
      size_t b = pos_;
      if (h->strip_tabs) {
        while (b < end && s_[b] == '\t') ++b;
      }
      std::string_view ln(s_.data() + b, end - b);
      pos_ = eol == std::string::npos ? s_.size() : eol + 1;
      if (eol != std::string::npos) ++line_;  // (the text's last line may have no newline)
      if (ln == h->delimiter) {
        found = true;
        break;
      }
      account().take(ln.size() + 1);
      body.append(ln.data(), ln.size());
      if (eol != std::string::npos) {
        body.push_back('\n');
      } else {
        unterminated_line = true;  // its newline is added after lexing (lines stay the text's)
      }
    }
    if (!found) mark_incomplete();
    h->complete = true;
    if (h->quoted) {
      if (unterminated_line) body.push_back('\n');
      account().take(sizeof(WordPart) + body.size());
      h->body.parts.push_back({WordPart::Kind::kLiteral, std::move(body), true});
      continue;
    }
    Lexer sub(body, 0, body_line, subst_depth_, pc_);
    WASMCAP_TRY_ASSIGN(h->body, sub.heredoc_body());
    if (unterminated_line) lit(h->body, '\n', true);  // as bash: every body line ends in one
  }
  return {};
}

void Lexer::lit(Word& w, char c, bool quoted) {
  if (!w.parts.empty() && w.parts.back().kind == WordPart::Kind::kLiteral &&
      w.parts.back().quoted == quoted) {
    account().take(1);
    w.parts.back().text.push_back(c);
  } else {
    account().take(sizeof(WordPart) + 1);
    w.parts.push_back({WordPart::Kind::kLiteral, std::string(1, c), quoted});
  }
}

void Lexer::lit(Word& w, const std::string& text, bool quoted) {
  for (char c : text) lit(w, c, quoted);
}

// Backslash-newline is removed wherever it appears outside single quotes, also between '$'
// and what it expands ("$\<newline>x" is $x, as in sh).
void Lexer::skip_continuations() {
  while (pos_ + 1 < s_.size() && s_[pos_] == '\\' && s_[pos_ + 1] == '\n') {
    pos_ += 2;
    ++line_;
    if (pos_ == s_.size()) mark_incomplete();
  }
}

bool Lexer::stops(char c, Mode mode) const {
  switch (mode) {
    case Mode::kNormal: return group_parens_ == 0 && is_meta(c);
    case Mode::kBrace: return c == '}';
    case Mode::kBracePattern: return c == '}' || c == '/';
    case Mode::kBraceOffset: return c == '}' || c == ':';
    case Mode::kRegex: return regex_parens_ == 0 && is_meta(c) && c != '|' && c != '(';
    case Mode::kBraceIndex: return c == ']';
  }
  return true;
}

Result<Word> Lexer::word(Mode mode) {
  Nest nest(pc_);
  if (!nest.ok()) return fail(kNestingError);
  Word w;
  // A leading unquoted ~ or ~user (then '/' or the word's end) is a tilde part.
  // (Line continuations inside are removed first, as everywhere outside quotes: before the ~
  // too, `${x:0:\<newline>~}` is `${x:0:~}`.)
  const bool tilde_mode = mode == Mode::kNormal || mode == Mode::kRegex ||
                          mode == Mode::kBrace || mode == Mode::kBracePattern;
  if (tilde_mode) skip_continuations();
  if (tilde_mode && peek(0) == '~') {
    size_t e = pos_ + 1;
    int lines = 0;
    std::string user;
    for (;;) {
      if (e + 1 < s_.size() && s_[e] == '\\' && s_[e + 1] == '\n') {
        e += 2;
        ++lines;
        continue;
      }
      if (e < s_.size() && is_tilde_char(s_[e])) {
        user.push_back(s_[e++]);
        continue;
      }
      break;
    }
    bool brace = mode == Mode::kBrace || mode == Mode::kBracePattern;
    if (e >= s_.size() || s_[e] == '/' || (brace ? s_[e] == '}' : is_meta(s_[e]))) {
      account().take(sizeof(WordPart) + user.size());
      w.parts.push_back({WordPart::Kind::kTilde, std::move(user), false});
      pos_ = e;
      line_ += lines;
    }
  }
  while (pos_ < s_.size() && (!stops(s_[pos_], mode) || proc_subst_at(mode))) {
    char c = s_[pos_];
    if (proc_subst_at(mode)) {  // `<(list)`, `>(list)`, anywhere in a word as bash's (`a<(b)`)
      bool to_list = c == '>';
      ++pos_;
      WASMCAP_TRY(substitution(w, false, WordPart::Kind::kProcSub));
      w.parts.back().to_list = to_list;
    } else if (c == '\'') {
      size_t end = s_.find('\'', pos_ + 1);
      if (end == std::string::npos) {
        mark_incomplete();
        return fail("unterminated single quote");
      }
      account().take(sizeof(WordPart) + (end - pos_));
      w.parts.push_back({WordPart::Kind::kLiteral, s_.substr(pos_ + 1, end - pos_ - 1), true});
      for (size_t k = pos_; k < end; ++k) line_ += s_[k] == '\n';
      pos_ = end + 1;
    } else if (c == '"') {
      ++pos_;
      // An empty "" still makes a (quoted, empty) part, so the word exists.
      account().take(sizeof(WordPart));
      w.parts.push_back({WordPart::Kind::kLiteral, "", true});
      WASMCAP_TRY(dquote(w, false));
    } else if (c == '\\') {
      if (pos_ + 1 >= s_.size()) {
        ++pos_;
        lit(w, '\\', true);
      } else if (s_[pos_ + 1] == '\n') {
        pos_ += 2;
        ++line_;
        if (pos_ == s_.size()) mark_incomplete();
      } else {
        lit(w, s_[pos_ + 1], true);
        pos_ += 2;
      }
    } else if (c == '$') {
      WASMCAP_TRY(dollar(w, false));
    } else if (c == '`') {
      WASMCAP_TRY(backticks(w, false));
    } else if (mode == Mode::kNormal && peek(1) == '(' &&
               (c == '?' || c == '*' || c == '+' || c == '@' || c == '!')) {
      // An extglob group `@(a|b c)`: read whole, blanks and operators included, up to its
      // matching ')' (what it means is for the pattern matcher, with `shopt -s extglob`).
      if (++group_parens_ > kMaxNestingDepth) {
        group_parens_ = 0;
        return fail(kNestingError);
      }
      lit(w, c, false);
      lit(w, '(', false);
      pos_ += 2;
    } else {
      if (c == '\n') ++line_;
      if (mode == Mode::kNormal && group_parens_ > 0 && c == '(') {
        if (++group_parens_ > kMaxNestingDepth) {
          group_parens_ = 0;
          return fail(kNestingError);
        }
      } else if (mode == Mode::kNormal && group_parens_ > 0 && c == ')') {
        --group_parens_;
      } else if (mode == Mode::kRegex && c == '(') {
        if (++regex_parens_ > kMaxNestingDepth) return fail(kNestingError);
      } else if (mode == Mode::kRegex && c == ')') {
        --regex_parens_;
      }
      lit(w, c, false);
      ++pos_;
    }
  }
  if (mode == Mode::kRegex) {
    if (regex_parens_ != 0) {
      regex_parens_ = 0;
      if (pos_ >= s_.size()) mark_incomplete();
      return fail("unterminated '(' in the regular expression of '=~'");
    }
    return w;
  }
  if (group_parens_ > 0) {
    group_parens_ = 0;
    mark_incomplete();
    return fail("unterminated extended glob group ('@(' without ')')");
  }
  if (mode != Mode::kNormal && pos_ >= s_.size()) {
    mark_incomplete();
    return fail("unterminated parameter expansion ('${' without '}')");
  }
  return w;
}

Result<Word> Lexer::regex_word() {
  for (;;) {
    while (pos_ < s_.size() && (s_[pos_] == ' ' || s_[pos_] == '\t')) ++pos_;
    if (pos_ + 1 < s_.size() && s_[pos_] == '\\' && s_[pos_ + 1] == '\n') {
      pos_ += 2;
      ++line_;
      continue;
    }
    break;
  }
  if (pos_ >= s_.size() || (is_meta(s_[pos_]) && s_[pos_] != '|' && s_[pos_] != '(')) {
    return Word{};
  }
  in_regex_ = true;
  auto w = word(Mode::kRegex);
  in_regex_ = false;
  return w;
}

Result<char> Lexer::arith_expr(Word& w, bool semicolons) {
  Nest nest(pc_);
  if (!nest.ok()) return fail(kNestingError);
  int depth = 0;
  while (pos_ < s_.size()) {
    char c = s_[pos_];
    if (c == '(') {
      if (++depth > kMaxNestingDepth) return fail(kNestingError);
    } else if (c == ')') {
      if (depth == 0) {
        if (peek(1) != ')') {
          if (pos_ + 1 >= s_.size()) break;  // `$((1+2)` at the end: more input may close it
          return fail("arithmetic expression: ')' without '('");
        }
        pos_ += 2;
        return ')';
      }
      --depth;
    } else if (c == ';' && semicolons && depth == 0) {
      ++pos_;
      return ';';
    } else if (c == '$') {
      WASMCAP_TRY(dollar(w, true));
      continue;
    } else if (c == '`') {
      WASMCAP_TRY(backticks(w, true));
      continue;
    } else if (c == '"') {
      ++pos_;
      WASMCAP_TRY(dquote(w, false));
      continue;
    } else if (c == '\\' && pos_ + 1 < s_.size()) {
      if (s_[pos_ + 1] == '\n') {
        pos_ += 2;
        ++line_;
        continue;
      }
      lit(w, s_[pos_ + 1], true);
      pos_ += 2;
      continue;
    } else if (c == '\n') {
      ++line_;
    }
    lit(w, c, true);
    ++pos_;
  }
  mark_incomplete();
  return fail("unterminated arithmetic expression ('((' without '))')");
}

Result<Word> Lexer::heredoc_body() {
  Word w;
  WASMCAP_TRY(dquote(w, true));
  return w;
}

// Inside "..." (from just past the opening quote to just past the closing one) or a
// here-document body (to the end of the text): only $ ` \ are special, and \ only before
// $ ` \ newline (and " inside quotes).
Result<void> Lexer::dquote(Word& w, bool heredoc) {
  while (pos_ < s_.size()) {
    char d = s_[pos_];
    if (d == '"' && !heredoc) {
      ++pos_;
      return {};
    }
    if (d == '`') {
      WASMCAP_TRY(backticks(w, true));
      continue;
    }
    if (d == '$') {
      WASMCAP_TRY(dollar(w, true));
      continue;
    }
    if (d == '\\' && pos_ + 1 < s_.size()) {
      char e = s_[pos_ + 1];
      if (e == '\n') {
        pos_ += 2;
        ++line_;
        continue;
      }
      if (e == '$' || e == '`' || e == '\\' || (e == '"' && !heredoc)) {
        lit(w, e, true);
        pos_ += 2;
        continue;
      }
    }
    if (d == '\n') ++line_;
    lit(w, d, true);
    ++pos_;
  }
  if (heredoc) return {};
  mark_incomplete();
  return fail("unterminated double quote");
}

// The word of "${x-w}" "${x:+w}" ... inside double quotes, up to the unquoted '}' (bash's
// rules): every character is quoted, a single quote is an ordinary character (but a '}'
// between a pair of them does not end the word: "${x-'}'}" is `'}'`), and a backslash
// escapes only $ ` " \ } and newline. The pattern operators (# % /) keep their quoting
// rules: "${x%'c d'}" removes `c d`.
Result<void> Lexer::dq_operand(Word& w) {
  bool in_single = false;
  while (pos_ < s_.size() && (in_single || s_[pos_] != '}')) {
    char c = s_[pos_];
    if (c == '\'') {
      in_single = !in_single;
      lit(w, c, true);
      ++pos_;
    } else if (c == '"') {
      ++pos_;
      account().take(sizeof(WordPart));
      w.parts.push_back({WordPart::Kind::kLiteral, "", true});
      WASMCAP_TRY(dquote(w, false));
    } else if (c == '\\' && pos_ + 1 < s_.size()) {
      char e = s_[pos_ + 1];
      if (e == '\n') {
        ++line_;
      } else if (e == '$' || e == '`' || e == '"' || e == '\\' || e == '}') {
        lit(w, e, true);
      } else {
        lit(w, '\\', true);
        lit(w, e, true);
      }
      pos_ += 2;
    } else if (c == '$') {
      WASMCAP_TRY(dollar(w, true));
    } else if (c == '`') {
      WASMCAP_TRY(backticks(w, true));
    } else {
      line_ += c == '\n';
      lit(w, c, true);
      ++pos_;
    }
  }
  if (pos_ >= s_.size()) {
    mark_incomplete();
    return fail(in_single ? "unterminated single quote"
                          : "unterminated parameter expansion ('${' without '}')");
  }
  return {};
}

// After '$': a parameter, a substitution, $'...', or a literal '$'.
Result<void> Lexer::dollar(Word& w, bool quoted) {
  ++pos_;  // '$'
  skip_continuations();
  char c = peek(0);
  if (c == '(') {
    if (peek(1) == '(') {
      Nest nest(pc_);
      if (!nest.ok()) return fail(kNestingError);
      pos_ += 2;
      Word expr;
      WASMCAP_TRY(arith_expr(expr, false));
      account().take(sizeof(WordPart) + sizeof(Word));
      WordPart part{WordPart::Kind::kArith, "", quoted};
      part.arith = std::make_shared<const Word>(std::move(expr));
      w.parts.push_back(std::move(part));
      return {};
    }
    return substitution(w, quoted);
  }
  if (c == '{') return brace_param(w, quoted);
  if (c == '\'' && !quoted) return ansi_c(w);
  if (c == '"' && !quoted) return {};  // $"..." (locale translation) is "..."
  if (c == '[') return fail("arithmetic expansion ('$[...]') is not supported; use $((...))");
  if (is_name_start(c)) {
    std::string name;
    for (;;) {
      skip_continuations();
      if (pos_ >= s_.size() || !is_name_char(s_[pos_])) break;
      name.push_back(s_[pos_++]);
    }
    account().take(sizeof(WordPart) + name.size());
    w.parts.push_back({WordPart::Kind::kVar, std::move(name), quoted});
    return {};
  }
  if (is_digit(c) || c == '@' || c == '*' || c == '#' || c == '?' || c == '$' || c == '!' ||
      c == '-') {
    ++pos_;
    account().take(sizeof(WordPart) + 1);
    w.parts.push_back({WordPart::Kind::kVar, std::string(1, c), quoted});
    return {};
  }
  // A lone '$' is literal, as in sh. It is marked quoted (it neither splits nor globs either
  // way) so that no later part can make it an expansion: `$` then `...` is not `$$(...)`.
  // At the end of a regex word or before its ')' or '|' it is the regex's anchor (unquoted).
  bool anchor = in_regex_ && !quoted &&
                (pos_ >= s_.size() || c == ')' || c == '|' || (is_meta(c) && c != '('));
  lit(w, '$', !anchor);
  return {};
}

bool Lexer::proc_subst_at(Mode mode) const {
  return mode == Mode::kNormal && group_parens_ == 0 && pos_ + 1 < s_.size() &&
         (s_[pos_] == '<' || s_[pos_] == '>') && s_[pos_ + 1] == '(';
}

Result<void> Lexer::substitution(Word& w, bool quoted, WordPart::Kind kind) {
  if (subst_depth_ + 1 > kMaxSubstitutionDepth) {
    return fail("command substitution nested deeper than " +
                std::to_string(kMaxSubstitutionDepth) + " levels is not supported");
  }
  Nest nest(pc_);
  if (!nest.ok()) return fail(kNestingError);
  size_t start = pos_ + 1;
  size_t end = start;
  int line = line_;
  Script sub;
  WASMCAP_TRY_ASSIGN(sub, parse_substitution(s_, end, line, subst_depth_ + 1, pc_));
  account().take(sizeof(WordPart) + sizeof(Script) + 64 + (end - start));
  WordPart part;
  part.kind = kind;
  part.text = s_.substr(start, end - 1 - start);
  part.quoted = quoted;
  part.script = std::make_shared<const Script>(std::move(sub));
  w.parts.push_back(std::move(part));
  pos_ = end;
  line_ = line;
  return {};
}

// `...`: the old form of $(...). Inside, a backslash before $ ` \ (and " within "...") is
// removed; then the text is parsed as a script of its own.
Result<void> Lexer::backticks(Word& w, bool quoted) {
  if (subst_depth_ + 1 > kMaxSubstitutionDepth) {
    return fail("command substitution nested deeper than " +
                std::to_string(kMaxSubstitutionDepth) + " levels is not supported");
  }
  Nest nest(pc_);
  if (!nest.ok()) return fail(kNestingError);
  int start_line = line_;
  ++pos_;
  std::string inner;
  for (;;) {
    if (pos_ >= s_.size()) {
      mark_incomplete();
      return fail("unterminated command substitution ('`' without its closing '`')");
    }
    char c = s_[pos_];
    if (c == '`') {
      ++pos_;
      break;
    }
    if (c == '\\' && pos_ + 1 < s_.size()) {
      char e = s_[pos_ + 1];
      if (e == '$' || e == '`' || e == '\\' || (quoted && e == '"')) {
        inner.push_back(e);
        pos_ += 2;
        continue;
      }
    }
    if (c == '\n') ++line_;
    inner.push_back(c);
    ++pos_;
  }
  account().take(sizeof(WordPart) + sizeof(Script) + 64 + 2 * inner.size());
  // The body is complete (its closing '`' was read): what its own parse calls unfinished (a
  // final backslash-newline) is not the script's (fuzz_shell_parser finding: `\<newline>`).
  const bool was_incomplete = pc_->incomplete != nullptr && *pc_->incomplete;
  Script sub;
  WASMCAP_TRY_ASSIGN(sub, parse_text(inner, start_line, subst_depth_ + 1, pc_));
  if (pc_->incomplete != nullptr) *pc_->incomplete = was_incomplete;
  WordPart part;
  part.kind = WordPart::Kind::kSubst;
  part.text = std::move(inner);
  part.quoted = quoted;
  part.script = std::make_shared<const Script>(std::move(sub));
  w.parts.push_back(std::move(part));
  return {};
}

// $'...': a quoted literal with C-like escapes (bash).
Result<void> Lexer::ansi_c(Word& w) {
  ++pos_;  // the quote
  std::string out;
  for (;;) {
    if (pos_ >= s_.size()) {
      mark_incomplete();
      return fail("unterminated $'...' quote");
    }
    char c = s_[pos_++];
    if (c == '\'') break;
    if (c == '\n') ++line_;
    if (c != '\\' || pos_ >= s_.size()) {
      out.push_back(c);
      continue;
    }
    char e = s_[pos_++];
    auto hex = [&](size_t max) {
      unsigned v = 0;
      size_t n = 0;
      while (n < max && pos_ < s_.size() && std::isxdigit(static_cast<unsigned char>(s_[pos_]))) {
        char h = s_[pos_++];
        v = v * 16 + static_cast<unsigned>(is_digit(h) ? h - '0' : (std::tolower(h) - 'a' + 10));
        ++n;
      }
      return n == 0 ? -1 : static_cast<int>(v);
    };
    switch (e) {
      case 'n': out.push_back('\n'); break;
      case 't': out.push_back('\t'); break;
      case 'r': out.push_back('\r'); break;
      case 'a': out.push_back('\a'); break;
      case 'b': out.push_back('\b'); break;
      case 'e': case 'E': out.push_back('\x1b'); break;
      case 'f': out.push_back('\f'); break;
      case 'v': out.push_back('\v'); break;
      case '\\': case '\'': case '"': case '?': out.push_back(e); break;
      case 'x': {
        int v = hex(2);
        if (v < 0) {
          out += "\\x";
        } else {
          out.push_back(static_cast<char>(v));
        }
        break;
      }
      case 'u':
      case 'U': {  // \uHHHH \UHHHHHHHH: the code point in UTF-8 (bash in a UTF-8 locale)
        size_t digits = pos_;
        int v = hex(e == 'u' ? 4 : 8);
        if (v < 0 || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF)) {  // kept as written
          out.push_back('\\');
          out.push_back(e);
          out.append(s_, digits, pos_ - digits);
        } else {
          utf8::append(out, static_cast<uint32_t>(v));
        }
        break;
      }
      case 'c': {  // \cX: control-X (the character masked with 0x1f)
        if (pos_ >= s_.size()) {
          out += "\\c";
          break;
        }
        char x = s_[pos_++];
        out.push_back(static_cast<char>(x & 0x1f));
        break;
      }
      case '0': case '1': case '2': case '3': case '4': case '5': case '6': case '7': {
        unsigned v = static_cast<unsigned>(e - '0');
        for (int n = 1; n < 3 && pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '7'; ++n) {
          v = v * 8 + static_cast<unsigned>(s_[pos_++] - '0');
        }
        out.push_back(static_cast<char>(v & 0xff));
        break;
      }
      default:
        out.push_back('\\');
        out.push_back(e);
    }
  }
  account().take(sizeof(WordPart) + out.size());
  w.parts.push_back({WordPart::Kind::kLiteral, std::move(out), true});
  return {};
}

// ${...}: ${NAME}, ${#NAME}, ${NAME OP WORD} with the operators of ParamOp.
Result<void> Lexer::brace_param(Word& w, bool quoted) {
  Nest nest(pc_);
  if (!nest.ok()) return fail(kNestingError);
  ++pos_;  // '{'
  auto op = std::make_shared<ParamOp>();
  std::string name;
  auto special = [](char c) {
    return c == '@' || c == '*' || c == '#' || c == '?' || c == '$' || c == '!' || c == '-';
  };
  auto read_name = [&]() {
    if (is_name_start(peek(0))) {
      while (pos_ < s_.size() && is_name_char(s_[pos_])) name.push_back(s_[pos_++]);
    } else if (is_digit(peek(0))) {
      while (pos_ < s_.size() && is_digit(s_[pos_])) name.push_back(s_[pos_++]);
    } else if (special(peek(0))) {
      name.push_back(s_[pos_++]);
    }
  };
  // ${#...}: the length of what follows, unless it is ${#} (the count) or ${#-}-like operators.
  if (peek(0) == '#' && peek(1) != '}' &&
      (is_name_start(peek(1)) || is_digit(peek(1)) || (special(peek(1)) && peek(2) == '}'))) {
    ++pos_;
    op->kind = ParamOp::Kind::kLength;
  } else if (peek(0) == '!' && (is_name_start(peek(1)) || is_digit(peek(1)) ||
                                ((peek(1) == '@' || peek(1) == '*' || peek(1) == '#') &&
                                 peek(2) == '}'))) {
    ++pos_;
    op->indirect = true;
  }
  read_name();
  if (name.empty()) {
    if (pos_ >= s_.size()) {
      mark_incomplete();
      return fail("unterminated parameter expansion ('${' without '}')");
    }
    return fail("bad substitution: '${' needs a parameter name");
  }
  if (op->indirect && is_name_start(name[0]) && (peek(0) == '*' || peek(0) == '@') &&
      peek(1) == '}') {  // ${!prefix*} ${!prefix@}
    op->indirect = false;
    op->names = true;
    op->sub = peek(0) == '@' ? ParamOp::Sub::kAll : ParamOp::Sub::kStar;
    ++pos_;
  }
  if (peek(0) == '[' && is_name_start(name[0]) && !op->names) {
    if ((peek(1) == '@' || peek(1) == '*') && peek(2) == ']') {
      op->sub = peek(1) == '@' ? ParamOp::Sub::kAll : ParamOp::Sub::kStar;
      pos_ += 3;
    } else {
      ++pos_;
      Word index;
      WASMCAP_TRY_ASSIGN(index, word(Mode::kBraceIndex));
      if (peek(0) != ']') {
        if (pos_ >= s_.size()) mark_incomplete();
        return fail("bad substitution: '${NAME[' needs its closing ']'");
      }
      ++pos_;
      op->sub = ParamOp::Sub::kIndex;
      op->index = std::make_shared<const Word>(std::move(index));
    }
    if (op->indirect) {  // ${!a[@]} ${!a[*]}: the indices
      if (op->sub == ParamOp::Sub::kIndex) {
        return fail("indirect expansion of an element ('${!NAME[i]}') is not supported");
      }
      op->indirect = false;
      op->keys = true;
    }
  }
  // `tilde_in_quotes`: the operand's leading ~ is expanded inside "..." too (bash: the patterns
  // of ${x#~} ${x%~} ${x/~/r} and the replacement of ${x/p/~}, not the words of ${x:-~}).
  auto word_arg = [&](Mode m, bool tilde_in_quotes = false) -> Result<std::shared_ptr<const Word>> {
    Word a;
    WASMCAP_TRY_ASSIGN(a, word(m));
    // Inside "...", a leading ~ of the operand stays literal: its part says so.
    if (quoted && !tilde_in_quotes && !a.parts.empty() &&
        a.parts[0].kind == WordPart::Kind::kTilde) {
      a.parts[0].quoted = true;
    }
    return std::make_shared<const Word>(std::move(a));
  };
  char c = peek(0);
  if (op->kind == ParamOp::Kind::kLength && c != '}') {
    op->bad_length = true;  // the rest is read as ${NAME...} reads it
    op->kind = ParamOp::Kind::kNone;
  }
  if (op->kind == ParamOp::Kind::kLength) {
  } else if (c == '}') {
    op->kind = ParamOp::Kind::kNone;
  } else if (c == ':') {
    // ${x:-y} ${x:=y} ${x:?y} ${x:+y}, a line continuation after the ':' removed first
    // (${x:\<newline>?r} is ${x:?r}); otherwise ${x:offset}, from the ':' again.
    const size_t at = pos_;
    const int line = line_;
    ++pos_;
    skip_continuations();
    c = peek(0);
    if (c == '-' || c == '=' || c == '?' || c == '+') {
      op->colon = true;
    } else {
      pos_ = at;
      line_ = line;
      c = ':';
    }
  }
  if (op->kind == ParamOp::Kind::kNone && c != '}') {
    if (c == '-' || c == '=' || c == '?' || c == '+') {
      op->kind = c == '-' ? ParamOp::Kind::kDefault
                 : c == '=' ? ParamOp::Kind::kAssign
                 : c == '?' ? ParamOp::Kind::kError
                            : ParamOp::Kind::kAlternative;
      ++pos_;
      if (quoted) {
        Word a;
        WASMCAP_TRY(dq_operand(a));
        op->arg = std::make_shared<const Word>(std::move(a));
      } else {
        WASMCAP_TRY_ASSIGN(op->arg, word_arg(Mode::kBrace));
      }
    } else if (c == '#' || c == '%') {
      op->kind = c == '#' ? ParamOp::Kind::kTrimPrefix : ParamOp::Kind::kTrimSuffix;
      ++pos_;
      skip_continuations();  // ${x#\<newline>#p} is ${x##p}
      if (peek(0) == c) {
        op->longest = true;
        ++pos_;
      }
      WASMCAP_TRY_ASSIGN(op->arg, word_arg(Mode::kBrace, true));
    } else if (c == '/') {
      op->kind = ParamOp::Kind::kReplace;
      ++pos_;
      skip_continuations();  // ${x/\<newline>/p} is ${x//p}
      if (peek(0) == '/') op->anchor = ParamOp::Anchor::kAll;
      if (peek(0) == '#') op->anchor = ParamOp::Anchor::kStart;
      if (peek(0) == '%') op->anchor = ParamOp::Anchor::kEnd;
      if (op->anchor != ParamOp::Anchor::kNone) ++pos_;
      // ${x///r}: after '//' a '/' starts the pattern (bash: ${x////c} replaces each '/').
      bool slash = op->anchor == ParamOp::Anchor::kAll && peek(0) == '/';
      if (slash) ++pos_;
      WASMCAP_TRY_ASSIGN(op->arg, word_arg(Mode::kBracePattern, true));
      if ((op->anchor == ParamOp::Anchor::kStart || op->anchor == ParamOp::Anchor::kEnd) &&
          !op->arg->parts.empty() && op->arg->parts[0].kind == WordPart::Kind::kTilde) {
        // bash: after the anchor '#' or '%' the ~ is not at the pattern's start: literal.
        Word a = *op->arg;
        a.parts[0] = WordPart{WordPart::Kind::kLiteral, "~" + a.parts[0].text, false};
        op->arg = std::make_shared<const Word>(std::move(a));
      }
      if (slash) {
        Word a = *op->arg;
        account().take(sizeof(WordPart) + 1);
        a.parts.insert(a.parts.begin(), WordPart{WordPart::Kind::kLiteral, "/", true});
        op->arg = std::make_shared<const Word>(std::move(a));
      }
      if (peek(0) == '/') {
        ++pos_;
        WASMCAP_TRY_ASSIGN(op->arg2, word_arg(Mode::kBrace, true));
      }
    } else if (c == ':') {
      op->kind = ParamOp::Kind::kSlice;
      ++pos_;
      WASMCAP_TRY_ASSIGN(op->arg, word_arg(Mode::kBraceOffset));
      if (peek(0) == ':') {
        ++pos_;
        WASMCAP_TRY_ASSIGN(op->arg2, word_arg(Mode::kBrace));
      }
    } else if (c == '^' || c == ',') {
      op->kind = ParamOp::Kind::kCase;
      op->case_op = c;
      ++pos_;
      skip_continuations();  // ${x,\<newline>,} is ${x,,}; ${x,\<newline>} has no pattern
      if (peek(0) == c) {
        op->longest = true;
        ++pos_;
        skip_continuations();
      }
      if (peek(0) != '}') WASMCAP_TRY_ASSIGN(op->arg, word_arg(Mode::kBrace));
    } else if (c == '@' && peek(2) == '}' &&
               std::string_view("QEPAaULuK").find(peek(1)) != std::string_view::npos &&
               peek(1) != '\0') {
      op->kind = ParamOp::Kind::kTransform;
      op->transform = peek(1);
      pos_ += 2;
    } else if (c == '@') {
      return fail(std::string("bad substitution: '${NAME@") + peek(1) +
                  "}' is not a supported transformation (Q E P A a U L u K)");
    } else if (pos_ >= s_.size()) {
      mark_incomplete();
      return fail("unterminated parameter expansion ('${' without '}')");
    } else {
      return fail(std::string("bad substitution: unknown operator '") + c + "' in '${...}'");
    }
  }
  if (peek(0) != '}') {
    if (pos_ >= s_.size()) mark_incomplete();
    return fail("unterminated parameter expansion ('${' without '}')");
  }
  ++pos_;
  account().take(sizeof(WordPart) + sizeof(ParamOp) + name.size());
  WordPart part{WordPart::Kind::kVar, std::move(name), quoted};
  if (op->kind != ParamOp::Kind::kNone || op->sub != ParamOp::Sub::kNone || op->indirect ||
      op->names) {
    part.op = std::move(op);
  }
  w.parts.push_back(std::move(part));
  return {};
}

}  // namespace wasmcap::shell::detail

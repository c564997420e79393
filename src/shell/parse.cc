// Lexer + recursive-descent parser for the shell subset (docs/shell.md "Grammar").
//
// Hand-written: no maintained C++ library parses POSIX sh (the shells themselves are C programs
// whose parsers are welded to their executors), and the subset is small. Everything outside it
// is refused here with the construct's name, so nothing is ever silently misparsed.
#include "shell/parse.h"

#include <cctype>

#include "shell/budget.h"

namespace wasmcap::shell {

namespace {

// What the AST being built costs, charged to the session's budget (if any) in chunks. Each node
// is charged twice its size and each text byte twice, for the growth of the vectors and strings
// holding them. Charge throws LimitHit past the budget (parse() turns that into an error).
class Account {
 public:
  explicit Account(Budget* b) : b_(b) {}
  void take(size_t n) {
    if (b_ == nullptr) return;
    pending_ += 2 * n;
    if (pending_ >= kChunk) flush();
  }
  void flush() {
    if (b_ == nullptr || pending_ == 0) return;
    b_->charge(pending_);
    charged_ += pending_;
    pending_ = 0;
  }
  uint64_t charged() const { return charged_; }
  void release_all() {
    if (b_ != nullptr) b_->release(charged_);
    charged_ = 0;
    pending_ = 0;
  }

 private:
  static constexpr size_t kChunk = 4096;  // one budget check per 4 KiB of AST, not per byte
  Budget* b_;
  uint64_t charged_ = 0;
  size_t pending_ = 0;
};

// Parses the script inside "$(": from `pos` (just after the parenthesis) to its matching ")".
// On success `pos` and `line` are just past the ")". Defined after Parser.
Result<Script> parse_substitution(const std::string& s, size_t& pos, int& line, int depth,
                                  bool* incomplete, Account* acct);

struct Token {
  enum class Kind { kWord, kOp, kNewline, kEnd };
  Kind kind = Kind::kEnd;
  std::string op;  // kOp: "|", "&&", "||", ";", ">", ">>", "<", ">&", ")" (closes "$(")
  int fd = -1;     // kOp redirections: explicit fd prefix, -1 if none
  std::string dup_target;  // kOp ">&": the target fd digits
  Word word;
  int line = 1;
};

bool is_name_start(char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_'; }
bool is_name_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }
bool is_meta(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '|' || c == '&' || c == ';' || c == '<' ||
         c == '>' || c == '(' || c == ')';
}

class Lexer {
 public:
  Lexer(const std::string& s, size_t pos, int line, int depth, bool* incomplete, Account* acct)
      : s_(s), pos_(pos), line_(line), depth_(depth), incomplete_(incomplete), acct_(acct) {}
  Account& account() const { return *acct_; }
  size_t pos() const { return pos_; }
  int line() const { return line_; }
  int depth() const { return depth_; }
  void mark_incomplete() {
    if (incomplete_ != nullptr) *incomplete_ = true;
  }

  Result<Token> next() {
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
    if (pos_ >= s_.size()) return t;
    char c = s_[pos_];
    if (c == '\n') {
      ++pos_;
      ++line_;
      t.kind = Token::Kind::kNewline;
      return t;
    }
    // An fd number directly before a redirection operator: "2>", "2>&1".
    if (std::isdigit(static_cast<unsigned char>(c)) && pos_ + 1 < s_.size() &&
        (s_[pos_ + 1] == '>' || s_[pos_ + 1] == '<')) {
      t.fd = c - '0';
      ++pos_;
      return redirect(t);
    }
    if (c == '>' || c == '<') return redirect(t);
    if (c == '|') {
      t.kind = Token::Kind::kOp;
      if (peek(1) == '|') {
        t.op = "||";
        pos_ += 2;
      } else if (peek(1) == '&') {
        return fail("'|&' (pipe of stderr) is not supported; use 2>&1 |");
      } else {
        t.op = "|";
        ++pos_;
      }
      return t;
    }
    if (c == '&') {
      if (peek(1) == '&') {
        t.kind = Token::Kind::kOp;
        t.op = "&&";
        pos_ += 2;
        return t;
      }
      if (peek(1) == '>') return fail("'&>' redirection is not supported; use > FILE 2>&1");
      return fail("background jobs ('&') are not supported");
    }
    if (c == ';') {
      if (peek(1) == ';') return fail("';;' (case) is not supported");
      t.kind = Token::Kind::kOp;
      t.op = ";";
      ++pos_;
      return t;
    }
    if (c == ')' && depth_ > 0) {  // closes the innermost "$("
      t.kind = Token::Kind::kOp;
      t.op = ")";
      ++pos_;
      return t;
    }
    if (c == '(' || c == ')') return fail("subshells and functions ('( )') are not supported");
    t.kind = Token::Kind::kWord;
    WASMCAP_TRY_ASSIGN(t.word, word());
    return t;
  }

 private:
  char peek(size_t k) const { return pos_ + k < s_.size() ? s_[pos_ + k] : '\0'; }

  tl::unexpected<Error> fail(const std::string& what) const {
    return make_error(ErrorCode::kInvalidArgument, "line " + std::to_string(line_) + ": " + what);
  }

  Result<Token> redirect(Token t) {
    t.kind = Token::Kind::kOp;
    char c = s_[pos_];
    if (c == '<') {
      if (peek(1) == '<') return fail("here-documents ('<<') are not supported");
      if (peek(1) == '>') return fail("'<>' redirection is not supported");
      if (peek(1) == '&') return fail("'<&' redirection is not supported");
      t.op = "<";
      ++pos_;
      return t;
    }
    if (peek(1) == '>') {
      t.op = ">>";
      pos_ += 2;
      return t;
    }
    if (peek(1) == '|') return fail("'>|' redirection is not supported; use >");
    if (peek(1) == '&') {
      pos_ += 2;
      std::string digits;
      while (pos_ < s_.size() && std::isdigit(static_cast<unsigned char>(s_[pos_]))) {
        digits.push_back(s_[pos_++]);
      }
      if (digits.empty()) {
        return fail(peek(0) == '-' ? "closing descriptors ('>&-') is not supported"
                                   : "'>&' needs a descriptor number (2>&1)");
      }
      if (pos_ < s_.size() && !is_meta(s_[pos_])) return fail("'>&' needs a descriptor number");
      t.op = ">&";
      t.dup_target = digits;
      return t;
    }
    t.op.assign(1, '>');  // (not `= ">"`: GCC 12 -O3 reports a bogus -Wrestrict there)
    ++pos_;
    return t;
  }

  void lit(Word& w, char c, bool quoted) {
    if (!w.parts.empty() && w.parts.back().kind == WordPart::Kind::kLiteral &&
        w.parts.back().quoted == quoted) {
      acct_->take(1);
      w.parts.back().text.push_back(c);
    } else {
      acct_->take(sizeof(WordPart) + 1);
      w.parts.push_back({WordPart::Kind::kLiteral, std::string(1, c), quoted});
    }
  }

  // After '$': a variable, or an error naming the unsupported expansion, or a literal '$'.
  // Backslash-newline is removed wherever it appears outside single quotes, also between '$'
  // and what it expands ("$\<newline>x" is $x, as in sh).
  void skip_continuations() {
    while (pos_ + 1 < s_.size() && s_[pos_] == '\\' && s_[pos_ + 1] == '\n') {
      pos_ += 2;
      ++line_;
      if (pos_ == s_.size()) mark_incomplete();
    }
  }

  Result<void> dollar(Word& w, bool quoted) {
    ++pos_;  // '$'
    skip_continuations();
    char c = peek(0);
    if (c == '(') {
      if (peek(1) == '(') return fail("arithmetic expansion ('$((...))') is not supported");
      if (depth_ + 1 > kMaxSubstitutionDepth) {
        return fail("command substitution nested deeper than " +
                    std::to_string(kMaxSubstitutionDepth) + " levels is not supported");
      }
      size_t start = pos_ + 1;
      size_t end = start;
      int line = line_;
      Script sub;
      WASMCAP_TRY_ASSIGN(sub, parse_substitution(s_, end, line, depth_ + 1, incomplete_, acct_));
      acct_->take(sizeof(WordPart) + sizeof(Script) + 64 + (end - start));
      WordPart part;
      part.kind = WordPart::Kind::kSubst;
      part.text = s_.substr(start, end - 1 - start);
      part.quoted = quoted;
      part.script = std::make_shared<const Script>(std::move(sub));
      w.parts.push_back(std::move(part));
      pos_ = end;
      line_ = line;
      return {};
    }
    if (c == '?') {
      ++pos_;
      acct_->take(sizeof(WordPart));
      w.parts.push_back({WordPart::Kind::kVar, "?", quoted});
      return {};
    }
    if (c == '{') {
      size_t p = pos_ + 1;
      std::string name;
      while (p < s_.size() && is_name_char(s_[p])) name.push_back(s_[p++]);
      if (name == "?" || (p < s_.size() && s_[p] == '?' && name.empty())) {
        name = "?";
        ++p;
      }
      if (name.empty() || !(is_name_start(name[0]) || name == "?") || p >= s_.size() ||
          s_[p] != '}') {
        return fail("parameter expansion beyond ${NAME} ('${...}') is not supported");
      }
      pos_ = p + 1;
      acct_->take(sizeof(WordPart) + name.size());
      w.parts.push_back({WordPart::Kind::kVar, name, quoted});
      return {};
    }
    if (is_name_start(c)) {
      std::string name;
      for (;;) {
        skip_continuations();
        if (pos_ >= s_.size() || !is_name_char(s_[pos_])) break;
        name.push_back(s_[pos_++]);
      }
      acct_->take(sizeof(WordPart) + name.size());
      w.parts.push_back({WordPart::Kind::kVar, name, quoted});
      return {};
    }
    if (std::isdigit(static_cast<unsigned char>(c)) || c == '@' || c == '*' || c == '#' ||
        c == '$' || c == '!' || c == '-') {
      return fail(std::string("special parameter '$") + c + "' is not supported");
    }
    lit(w, '$', quoted);  // a lone '$' is literal, as in sh
    return {};
  }

  Result<Word> word() {
    Word w;
    while (pos_ < s_.size() && !is_meta(s_[pos_])) {
      char c = s_[pos_];
      if (c == '\'') {
        size_t end = s_.find('\'', pos_ + 1);
        if (end == std::string::npos) {
          mark_incomplete();
          return fail("unterminated single quote");
        }
        acct_->take(sizeof(WordPart) + (end - pos_));
        w.parts.push_back({WordPart::Kind::kLiteral, s_.substr(pos_ + 1, end - pos_ - 1), true});
        for (size_t k = pos_; k < end; ++k) line_ += s_[k] == '\n';
        pos_ = end + 1;
      } else if (c == '"') {
        ++pos_;
        bool closed = false;
        // An empty "" still makes a (quoted, empty) part, so the word exists.
        acct_->take(sizeof(WordPart));
        w.parts.push_back({WordPart::Kind::kLiteral, "", true});
        while (pos_ < s_.size()) {
          char d = s_[pos_];
          if (d == '"') {
            ++pos_;
            closed = true;
            break;
          }
          if (d == '`') return fail(kBackticks);
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
            if (e == '$' || e == '`' || e == '"' || e == '\\') {
              lit(w, e, true);
              pos_ += 2;
              continue;
            }
          }
          if (d == '\n') ++line_;
          lit(w, d, true);
          ++pos_;
        }
        if (!closed) {
          mark_incomplete();
          return fail("unterminated double quote");
        }
      } else if (c == '\\') {
        if (pos_ + 1 >= s_.size()) {
          ++pos_;
          lit(w, '\\', true);
        } else if (s_[pos_ + 1] == '\n') {
          pos_ += 2;
          ++line_;
        } else {
          lit(w, s_[pos_ + 1], true);
          pos_ += 2;
        }
      } else if (c == '$') {
        WASMCAP_TRY(dollar(w, false));
      } else if (c == '`') {
        return fail(kBackticks);
      } else {
        lit(w, c, false);
        ++pos_;
      }
    }
    return w;
  }

  static constexpr const char* kBackticks =
      "command substitution with backticks ('`...`') is not supported; use $(...)";

  const std::string& s_;
  size_t pos_ = 0;
  int line_ = 1;
  int depth_ = 0;  // how many "$(" enclose this lexer's text
  bool* incomplete_ = nullptr;
  Account* acct_ = nullptr;
};

// The word's text if it is one unquoted literal, else "".
std::string plain(const Word& w) {
  if (w.parts.size() == 1 && w.parts[0].kind == WordPart::Kind::kLiteral && !w.parts[0].quoted) {
    return w.parts[0].text;
  }
  return "";
}

bool is_reserved(const std::string& s) {
  static const char* kWords[] = {"if",   "then", "else",  "elif",     "fi",     "for", "while",
                                 "until", "do",  "done",  "case",     "esac",   "in",  "function",
                                 "select", "{",  "}",     "!",        "[[",     "]]", "time",
                                 "coproc"};
  for (const char* k : kWords) {
    if (s == k) return true;
  }
  return false;
}

class Parser {
 public:
  Parser(const std::string& text, size_t pos, int line, int depth, bool* incomplete,
         Account* acct)
      : lex_(text, pos, line, depth, incomplete, acct) {}

  const Lexer& lexer() const { return lex_; }

  // The whole text (depth 0), or up to and including the ")" that closes "$(" (depth > 0).
  Result<Script> script() {
    Script sc;
    WASMCAP_TRY(advance());
    for (;;) {
      while (tok_.kind == Token::Kind::kNewline || (tok_.kind == Token::Kind::kOp && tok_.op == ";")) {
        if (tok_.kind == Token::Kind::kOp && !allow_semi_) return fail("';' with no command before it");
        WASMCAP_TRY(advance());
      }
      if (tok_.kind == Token::Kind::kEnd || closes()) break;
      AndOr ao;
      WASMCAP_TRY_ASSIGN(ao, and_or());
      lex_.account().take(sizeof(AndOr));
      sc.items.push_back(std::move(ao));
      allow_semi_ = true;
      if (tok_.kind == Token::Kind::kOp && tok_.op == ";") {
        WASMCAP_TRY(advance());
        allow_semi_ = false;
        continue;
      }
      if (tok_.kind == Token::Kind::kNewline) {
        allow_semi_ = false;
        continue;
      }
      if (tok_.kind == Token::Kind::kEnd || closes()) break;
      return fail("unexpected '" + tok_.op + "'");
    }
    if (lex_.depth() > 0 && !closes()) {
      lex_.mark_incomplete();
      return fail("unterminated command substitution ('$(' without ')')");
    }
    return sc;
  }

 private:
  bool closes() const { return tok_.kind == Token::Kind::kOp && tok_.op == ")"; }

  Result<void> advance() {
    WASMCAP_TRY_ASSIGN(tok_, lex_.next());
    return {};
  }

  tl::unexpected<Error> fail(const std::string& what) const {
    return make_error(ErrorCode::kInvalidArgument,
                      "line " + std::to_string(tok_.line) + ": " + what);
  }

  Result<AndOr> and_or() {
    AndOr ao;
    for (;;) {
      Pipeline p;
      WASMCAP_TRY_ASSIGN(p, pipeline());
      lex_.account().take(sizeof(Pipeline) + 1);
      ao.pipelines.push_back(std::move(p));
      if (tok_.kind == Token::Kind::kOp && (tok_.op == "&&" || tok_.op == "||")) {
        ao.and_ops.push_back(tok_.op == "&&");
        WASMCAP_TRY(advance());
        while (tok_.kind == Token::Kind::kNewline) WASMCAP_TRY(advance());
        continue;
      }
      return ao;
    }
  }

  Result<Pipeline> pipeline() {
    Pipeline p;
    for (;;) {
      Command c;
      WASMCAP_TRY_ASSIGN(c, command());
      lex_.account().take(sizeof(Command));
      p.commands.push_back(std::move(c));
      if (tok_.kind == Token::Kind::kOp && tok_.op == "|") {
        WASMCAP_TRY(advance());
        while (tok_.kind == Token::Kind::kNewline) WASMCAP_TRY(advance());
        continue;
      }
      return p;
    }
  }

  Result<Command> command() {
    Command c;
    for (;;) {
      if (tok_.kind == Token::Kind::kWord) {
        std::string p = plain(tok_.word);
        if (c.words.empty() && is_reserved(p)) {
          return fail("'" + p + "' is not supported (no compound commands: if/for/while/case, "
                      "brace groups, '!', '[[' or functions)");
        }
        if (c.words.empty() && !tok_.word.parts.empty() &&
            tok_.word.parts[0].kind == WordPart::Kind::kLiteral && !tok_.word.parts[0].quoted) {
          const std::string& t = tok_.word.parts[0].text;
          size_t eq = t.find('=');
          bool name = eq != std::string::npos && eq > 0 && is_name_start(t[0]);
          for (size_t k = 0; name && k < eq; ++k) name = is_name_char(t[k]);
          if (name) {
            lex_.account().take(sizeof(std::pair<std::string, Word>) + t.size());
            for (const auto& part : tok_.word.parts) {  // the copy of the word below
              lex_.account().take(sizeof(WordPart) + part.text.size());
            }
            Word value = tok_.word;
            value.parts[0].text = t.substr(eq + 1);
            c.assigns.emplace_back(t.substr(0, eq), std::move(value));
            WASMCAP_TRY(advance());
            continue;
          }
        }
        lex_.account().take(sizeof(Word));
        c.words.push_back(std::move(tok_.word));
        WASMCAP_TRY(advance());
        continue;
      }
      if (tok_.kind == Token::Kind::kOp &&
          (tok_.op == ">" || tok_.op == ">>" || tok_.op == "<" || tok_.op == ">&")) {
        lex_.account().take(sizeof(Redirect));
        Redirect r;
        r.fd = tok_.fd >= 0 ? tok_.fd : (tok_.op == "<" ? 0 : 1);
        if (r.fd > 2) return fail("redirection of descriptor " + std::to_string(r.fd) +
                                  " is not supported (0, 1, 2 only)");
        if (tok_.op == ">&") {
          r.op = Redirect::Op::kDup;
          if (tok_.dup_target.size() != 1 || tok_.dup_target[0] > '2') {
            return fail("'>&" + tok_.dup_target + "': only descriptors 1 and 2 can be duplicated");
          }
          r.dup_to = tok_.dup_target[0] - '0';
          if (r.dup_to == 0 || r.fd == 0) return fail("'>&' between 1 and 2 only");
          c.redirects.push_back(std::move(r));
          WASMCAP_TRY(advance());
          continue;
        }
        r.op = tok_.op == ">" ? Redirect::Op::kOut
               : tok_.op == ">>" ? Redirect::Op::kAppend
                                 : Redirect::Op::kIn;
        std::string op = tok_.op;
        WASMCAP_TRY(advance());
        if (tok_.kind != Token::Kind::kWord) return fail("'" + op + "' needs a file name");
        r.target = std::move(tok_.word);
        c.redirects.push_back(std::move(r));
        WASMCAP_TRY(advance());
        continue;
      }
      break;
    }
    if (c.words.empty() && c.assigns.empty() && c.redirects.empty()) {
      if (tok_.kind == Token::Kind::kEnd) lex_.mark_incomplete();
      if (tok_.kind == Token::Kind::kEnd || tok_.kind == Token::Kind::kNewline || closes()) {
        return fail("a command is missing (after '|', '&&' or '||'?)");
      }
      return fail("unexpected '" + tok_.op + "'");
    }
    return c;
  }

  Lexer lex_;
  Token tok_;
  bool allow_semi_ = false;
};

}  // namespace

namespace {

Result<Script> parse_substitution(const std::string& s, size_t& pos, int& line, int depth,
                                  bool* incomplete, Account* acct) {
  Parser p(s, pos, line, depth, incomplete, acct);
  auto sc = p.script();
  if (!sc) return sc;
  pos = p.lexer().pos();  // just past the ")" (the parser's last token)
  line = p.lexer().line();
  return sc;
}

}  // namespace

Result<Script> parse(const std::string& text, bool* incomplete, Budget* budget,
                     uint64_t* charged) {
  if (incomplete != nullptr) *incomplete = false;
  if (charged != nullptr) *charged = 0;
  Account acct(budget);
  try {
    Parser p(text, 0, 1, 0, incomplete, &acct);
    auto sc = p.script();
    if (sc) acct.flush();
    if (!sc || charged == nullptr) {
      acct.release_all();
    } else {
      *charged = acct.charged();
    }
    return sc;
  } catch (const LimitHit& h) {  // only with a budget
    acct.release_all();
    if (h.error().code == ErrorCode::kMemoryLimit) {
      return make_error(ErrorCode::kMemoryLimit,
                        "the parsed script does not fit: " + h.error().message);
    }
    return make_error(ErrorCode::kDeadlineExceeded, h.error().message);
  }
}

}  // namespace wasmcap::shell

// The shell's lexer (internal to lex.cc and the parser, parse.cc and parse_words.cc): tokens,
// words with their parts, here-document bodies. Hand-written: no maintained C++ library lexes
// POSIX sh (the shells' own lexers are welded to their parsers and executors), and every
// refusal must name its construct.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "shell/ast.h"
#include "shell/budget.h"
#include "wasmcap/error.h"

namespace wasmcap::shell::detail {

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
  // A function's body (ast.h: shared, so it outlives the script that defined it when the
  // function is still defined): what was charged since `since` (its nodes and text) moves off
  // the parse's total onto the body itself, released when the last holder drops it (the
  // session's function table on redefinition or `unset -f`, the script, a running call). Threat:
  // an `eval` loop defining functions keeps their bodies after each eval's script is freed;
  // charged to the script only, they would grow the shell's memory past the budget.
  std::shared_ptr<const Command> hold(Command c, uint64_t since) {
    flush();
    if (b_ == nullptr) return std::make_shared<const Command>(std::move(c));
    auto body = std::make_unique<const Command>(std::move(c));
    uint64_t n = charged_ - since;
    charged_ = since;  // from here the body owns n (its deleter runs even if the next line throws)
    return std::shared_ptr<const Command>(body.release(), [b = b_, n](const Command* p) {
      delete p;
      b->release(n);
    });
  }
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

class Lexer;
struct Token;

// Alias expansion while parsing (alias_parse.cc), as bash does it: a word in a command's name
// position (or after an alias whose value ends in a blank) that names an alias is replaced in
// the text by its value, which is lexed again. Only in `text` (the copy parse_unit() reads and
// rewrites; a backtick substitution's separate text is not expanded).
struct AliasExpansion {
  const AliasTable* table = nullptr;  // null: no alias expansion
  std::string* text = nullptr;
  // The aliases whose value is being read (bash's recursion guard: an alias is not expanded in
  // its own value), innermost last, each with the end of its text in `text`.
  struct Active {
    std::string name;
    size_t end;
    bool next;  // its value ends in a blank: the word after it is checked too
  };
  std::vector<Active> active;
  bool check_next = false;  // the next word is checked (an alias ending in a blank just ended)
  uint64_t added = 0;       // bytes of values put into `text` (kMaxAliasBytes)
  uint64_t moved = 0;       // bytes of `text` moved to make room (kMaxAliasMoved)

  // Ends the aliases whose text ends at or before `pos` (a token starts there).
  void settle(size_t pos);
  // Replaces [begin, end) (the word `name`) by its alias' value: false when it is no alias or
  // one being expanded; an error past the bounds.
  Result<bool> splice(const std::string& name, size_t begin, size_t end);
  // splice() for `t` when it is one unquoted literal word, then sets `lex` back to read the
  // value (true: the caller lexes again).
  Result<bool> expand(Lexer& lex, const Token& t);
  // A token was lexed: settle(), and expand it if a value ending in a blank just ended (true:
  // the caller lexes again).
  Result<bool> next_token(Lexer& lex, const Token& t);
  // Positions move by -n: the first n bytes of `text` were consumed (parse_unit()).
  void consumed(size_t n);
};

// State shared by every lexer and parser of one parse() (substitutions and here-document bodies
// get their own lexer over their own text).
struct ParseCtx {
  explicit ParseCtx(Budget* b, bool* inc) : acct(b), incomplete(inc) {}
  Account acct;
  bool* incomplete;
  int nesting = 0;  // every kind of nesting (kMaxNestingDepth)
  AliasExpansion alias;
  void mark_incomplete() {
    if (incomplete != nullptr) *incomplete = true;
  }
};

// A parse whose words live only in the caller's scope (PS4 for one trace line, a subscript read
// back by unset): what it charged to the budget is returned when the scope ends. Declared before
// the words it makes.
struct ScopedParse {
  explicit ScopedParse(Budget* b) : pc(b, nullptr) {}
  ~ScopedParse() { pc.acct.release_all(); }
  ScopedParse(const ScopedParse&) = delete;
  ScopedParse& operator=(const ScopedParse&) = delete;
  ParseCtx pc;
};

// One level of nesting for the life of the object; ok() is false past kMaxNestingDepth.
class Nest {
 public:
  explicit Nest(ParseCtx* pc) : pc_(pc) { ++pc_->nesting; }
  ~Nest() { --pc_->nesting; }
  Nest(const Nest&) = delete;
  bool ok() const;

 private:
  ParseCtx* pc_;
};

struct Token {
  enum class Kind { kWord, kOp, kNewline, kEnd };
  Kind kind = Kind::kEnd;
  std::string op;  // kOp: | |& || & && ; ;; ;& ;;& ( ) < > >> >| <> << <<- <<< >& <& &> &>>
  int fd = -1;     // redirections: the explicit descriptor prefix, -1 if none
  std::string fd_var;  // redirections: {NAME} before the operator (bash's named descriptor)
  Word word;
  int line = 1;
  size_t begin = 0, end = 0;  // its bytes in the text
};

class Lexer {
 public:
  // `subst_depth`: how many command substitutions enclose this text.
  Lexer(const std::string& s, size_t pos, int line, int subst_depth, ParseCtx* pc)
      : s_(s), pos_(pos), line_(line), subst_depth_(subst_depth), pc_(pc) {}
  Account& account() const { return pc_->acct; }
  ParseCtx* ctx() const { return pc_; }
  size_t pos() const { return pos_; }
  std::string_view text(size_t begin, size_t end) const {
    return std::string_view(s_).substr(begin, end > begin ? end - begin : 0);
  }
  int line() const { return line_; }
  const std::string& source() const { return s_; }
  int subst_depth() const { return subst_depth_; }
  char char_at(size_t p) const { return p < s_.size() ? s_[p] : '\0'; }
  void mark_incomplete() const { pc_->mark_incomplete(); }
  tl::unexpected<Error> fail(const std::string& what) const;

  Result<Token> next();
  // A here-document whose body starts after the next newline (the parser registers it when it
  // reads `<< WORD`). Bodies are read in order at that newline.
  void add_heredoc(std::shared_ptr<HereDoc> h) { pending_.push_back(std::move(h)); }
  bool heredocs_pending() const { return !pending_.empty(); }

  // Words: kNormal stops at a blank or operator character; the ${...} modes stop at an
  // unquoted '}' (and '/' for a replacement's pattern, ':' for a slice's offset); kBraceIndex
  // stops at an unquoted ']' (a subscript).
  enum class Mode { kNormal, kBrace, kBracePattern, kBraceOffset, kRegex, kBraceIndex };
  Result<Word> word(Mode mode);
  // `[[ x =~ RE ]]`'s right side, from just past `=~` (bash's rules: '|' is an ordinary
  // character, and a parenthesized group is read whole, blanks and operators included, as one
  // word). Empty (no parts) when no word follows.
  Result<Word> regex_word();
  // A here-document body: as inside "..." but '"' is an ordinary character.
  Result<Word> heredoc_body();
  // An arithmetic expression from `pos` (just past "((" or a ';' of `for ((`) to its end: a
  // ';' at parenthesis depth 0 when `semicolons`, else "))". Returns the terminator (';' or
  // ')'), `pos` just past it. `$` expansions, backticks and quotes work as inside "...".
  Result<char> arith_expr(Word& w, bool semicolons);
  void skip_to(size_t p) { pos_ = p; }
  // Lexes again from `p`, on `line` (a token's start, whose newlines are counted again).
  void rewind(size_t p, int line) {
    pos_ = p;
    line_ = line;
  }

 private:
  char peek(size_t k) const { return pos_ + k < s_.size() ? s_[pos_ + k] : '\0'; }
  Result<Token> op_token(Token t);
  Result<Token> redirect(Token t);
  Result<void> read_heredocs();
  void skip_continuations();
  void lit(Word& w, char c, bool quoted);
  void lit(Word& w, const std::string& text, bool quoted);
  Result<void> dquote(Word& w, bool heredoc);
  Result<void> dollar(Word& w, bool quoted);
  Result<void> brace_param(Word& w, bool quoted);
  Result<void> dq_operand(Word& w);
  // $(...) (pos_ at its '('), or with kProcSub `<(...)` (pos_ at its '(').
  Result<void> substitution(Word& w, bool quoted, WordPart::Kind kind = WordPart::Kind::kSubst);
  // At `<(` in an unquoted word: a process substitution starts.
  bool proc_subst_at(Mode mode) const;
  Result<void> backticks(Word& w, bool quoted);
  Result<void> ansi_c(Word& w);
  bool stops(char c, Mode mode) const;

  const std::string& s_;  // (may change under the lexer: alias expansion, AliasExpansion)
  size_t pos_ = 0;
  int line_ = 1;
  int subst_depth_ = 0;
  int regex_parens_ = 0;  // Mode::kRegex: open '(' so far
  int group_parens_ = 0;  // Mode::kNormal: open '(' of an extglob group so far
  bool in_regex_ = false;  // reading a regex word (a lone '$' is its anchor)
  ParseCtx* pc_;
  std::vector<std::shared_ptr<HereDoc>> pending_;
};

// Defined in parse.cc. The script inside "$(": from `pos` (just past the parenthesis) to its
// matching ")"; on success `pos` and `line` are just past the ")".
Result<Script> parse_substitution(const std::string& s, size_t& pos, int& line, int subst_depth,
                                  ParseCtx* pc);
// A whole text as a script (a backtick substitution's inner text).
Result<Script> parse_text(const std::string& s, int line, int subst_depth, ParseCtx* pc);
// One complete command of `s` (parse.h parse_unit): `*end` and `*end_line` are just past it.
Result<Script> parse_one_unit(const std::string& s, int line, ParseCtx* pc, size_t* end,
                              int* end_line);

bool is_name_start(char c);
bool is_name_char(char c);
// A character of a tilde-prefix after `~`: a login name's, or the + and - of ~+ ~- ~+N ~-N.
inline bool is_tilde_char(char c) { return is_name_char(c) || c == '.' || c == '-' || c == '+'; }

// assign_words.cc. An assignment's value: a ~ at its start and after each unquoted ':' is a
// tilde expansion (true when it made one); an argument NAME=value (also += and NAME[i]=)
// likewise.
bool assignment_tildes(Word& value);
void assignment_like_tildes(Word& w);

}  // namespace wasmcap::shell::detail

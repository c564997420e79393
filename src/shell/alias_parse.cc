// Alias expansion in the parser (lex.h AliasExpansion) and reading a script one complete
// command at a time (parse.h UnitReader), as bash does: bash expands an alias by pushing its
// value back into its input, so a value may open a compound command that the script's text
// closes (`alias e_='for i in 1 2; do echo $i;'` then `e_ done`), or end in an open quote.
// Here the value replaces the word in a copy of the text and is lexed again.
#include <algorithm>

#include "shell/lex.h"
#include "shell/parse.h"

namespace wasmcap::shell {

namespace detail {

void AliasExpansion::settle(size_t pos) {
  while (!active.empty() && active.back().end <= pos) {
    if (active.back().next) check_next = true;
    active.pop_back();
  }
}

Result<bool> AliasExpansion::splice(const std::string& name, size_t begin, size_t end) {
  auto it = table->find(name);
  if (it == table->end()) return false;
  for (const Active& a : active) {
    if (a.name == name) return false;  // in its own value (bash's recursion guard)
  }
  const std::string& value = it->second;
  if (active.size() >= kMaxAliasDepth) {
    return make_error(ErrorCode::kInvalidArgument,
                      "alias expansion nested deeper than " + std::to_string(kMaxAliasDepth) +
                          " aliases (each alias' value names the next)");
  }
  added += value.size();
  moved += text->size() - end;
  if (added > kMaxAliasBytes) {
    return make_error(ErrorCode::kInvalidArgument,
                      "alias expansion puts more than " + std::to_string(kMaxAliasBytes >> 20) +
                          " MiB of alias values into one command: shorten the aliases or "
                          "split the command");
  }
  if (moved > kMaxAliasMoved) {
    return make_error(ErrorCode::kInvalidArgument,
                      "alias expansion re-reads more than " +
                          std::to_string(kMaxAliasMoved >> 20) +
                          " MiB of one command's text: too many aliases in one long command; "
                          "split it over more lines");
  }
  text->replace(begin, end - begin, value);
  size_t value_end = begin + value.size();
  for (Active& a : active) {
    a.end = a.end >= end ? a.end - (end - begin) + value.size() : std::max(a.end, value_end);
  }
  bool next = !value.empty() && (value.back() == ' ' || value.back() == '\t');
  active.push_back(Active{name, value_end, next});
  return true;
}

Result<bool> AliasExpansion::expand(Lexer& lex, const Token& t) {
  if (t.kind != Token::Kind::kWord || t.word.parts.size() != 1) return false;
  const WordPart& p = t.word.parts[0];
  if (p.kind != WordPart::Kind::kLiteral || p.quoted) return false;
  if (lex.text(t.begin, t.end) != p.text) return false;  // a backslash in it: quoted
  auto r = splice(p.text, t.begin, t.end);
  if (r && *r) lex.rewind(t.begin, t.line);
  return r;
}

Result<bool> AliasExpansion::next_token(Lexer& lex, const Token& t) {
  settle(t.begin);
  if (!check_next) return false;
  auto r = expand(lex, t);
  if (r && !*r) check_next = false;  // (an alias' first word keeps it: bash checks that too)
  return r;
}

void AliasExpansion::consumed(size_t n) {
  for (Active& a : active) a.end = a.end > n ? a.end - n : 0;
  settle(0);
}

}  // namespace detail

// What stays of the aliases being expanded from one command to the next (a value with
// newlines: the rest of it is read next, its alias still being expanded).
struct UnitReader::Carry {
  std::vector<detail::AliasExpansion::Active> active;
  bool check_next = false;
};

UnitReader::UnitReader(const std::string& text, size_t pos, int line, Budget* budget)
    : text_(text), pos_(std::min(pos, text.size())), line_(line), budget_(budget),
      carry_(std::make_unique<Carry>()) {}

UnitReader::~UnitReader() = default;

bool UnitReader::done() const { return pos_ >= text_.size() && buf_.empty(); }

Result<Script> UnitReader::next(const AliasTable* aliases, uint64_t* charged) {
  *charged = 0;
  // The text to parse: what is left from the last command, then the script up to the end of a
  // line; when that holds no complete command (an open construct), twice as much, and so on.
  size_t want = 1;
  for (;;) {
    size_t upto = pos_;
    size_t lines = 0;
    while (upto < text_.size() && lines < want) {
      size_t nl = text_.find('\n', upto);
      upto = nl == std::string::npos ? text_.size() : nl + 1;
      ++lines;
    }
    std::string buf = buf_;
    buf.append(text_, pos_, upto - pos_);
    bool incomplete = false;
    detail::ParseCtx pc(budget_, &incomplete);
    pc.alias.table = aliases;
    pc.alias.text = &buf;
    pc.alias.active = carry_->active;
    pc.alias.check_next = carry_->check_next;
    size_t end = 0;
    int end_line = line_;
    Result<Script> sc;
    try {
      sc = detail::parse_one_unit(buf, line_, &pc, &end, &end_line);
      if (sc) pc.acct.flush();
    } catch (const LimitHit& h) {  // only with a budget
      pc.acct.release_all();
      if (h.error().code == ErrorCode::kMemoryLimit) {
        return make_error(ErrorCode::kMemoryLimit,
                          "the parsed script does not fit: " + h.error().message);
      }
      return make_error(ErrorCode::kDeadlineExceeded, h.error().message);
    }
    if (incomplete && upto < text_.size()) {  // more lines may complete it
      pc.acct.release_all();
      want *= 2;
      continue;
    }
    if (!sc) {
      pc.acct.release_all();
      return sc;
    }
    *charged = pc.acct.charged();
    buf_ = buf.substr(std::min(end, buf.size()));
    pos_ = upto;
    line_ = end_line;
    pc.alias.consumed(end);
    carry_->active = std::move(pc.alias.active);
    carry_->check_next = pc.alias.check_next;
    return sc;
  }
}

}  // namespace wasmcap::shell

// The parser's rewrites of assignment words (parse.cc): tilde expansion in an assignment's
// value and in an argument that looks like one, as bash does (`PATH=~/bin:~/sbin`,
// `make PREFIX=~/x`).
#include "shell/lex.h"

namespace wasmcap::shell::detail {

// An assignment's value: a ~ at its start and after each unquoted ':' (up to a '/', a ':' or
// the end) is a tilde expansion (bash: `PATH=~/bin:~/sbin`), also in the word of an unquoted
// ${x-w} ${x:=w} ... (bash: x=${u-~:~} is $HOME:$HOME). True when it made a tilde part.
bool assignment_tildes(Word& value) {
  std::vector<WordPart> out;
  bool made = false;
  for (size_t k = 0; k < value.parts.size(); ++k) {
    const WordPart& p = value.parts[k];
    using K = ParamOp::Kind;
    if (p.kind == WordPart::Kind::kVar && !p.quoted && p.op && p.op->arg &&
        (p.op->kind == K::kDefault || p.op->kind == K::kAssign || p.op->kind == K::kError ||
         p.op->kind == K::kAlternative)) {
      auto op = std::make_shared<ParamOp>(*p.op);
      Word arg = *op->arg;
      made = assignment_tildes(arg) || made;
      op->arg = std::make_shared<const Word>(std::move(arg));
      out.push_back(p);
      out.back().op = std::move(op);
      continue;
    }
    if (p.kind != WordPart::Kind::kLiteral || p.quoted ||
        p.text.find('~') == std::string::npos) {
      out.push_back(p);
      continue;
    }
    const std::string& t = p.text;
    std::string lit;
    for (size_t i = 0; i < t.size();) {
      bool boundary = i == 0 ? k == 0 : t[i - 1] == ':';
      if (boundary && t[i] == '~') {
        size_t e = i + 1;
        while (e < t.size() && is_tilde_char(t[e])) ++e;
        bool ends = e < t.size() ? t[e] == '/' || t[e] == ':' : k + 1 == value.parts.size();
        if (ends) {
          if (!lit.empty()) out.push_back({WordPart::Kind::kLiteral, std::move(lit), false});
          lit.clear();
          out.push_back({WordPart::Kind::kTilde, t.substr(i + 1, e - i - 1), false});
          made = true;
          i = e;
          continue;
        }
      }
      lit.push_back(t[i++]);
    }
    if (!lit.empty()) out.push_back({WordPart::Kind::kLiteral, std::move(lit), false});
  }
  if (out.empty()) out.push_back({WordPart::Kind::kLiteral, "", false});
  value.parts = std::move(out);
  return made;
}


// An argument NAME=value, NAME+=value or NAME[SUBSCRIPT]=value (a literal subscript without
// ']'): its value's tildes as an assignment's.
void assignment_like_tildes(Word& w) {
  if (w.parts.empty() || w.parts[0].kind != WordPart::Kind::kLiteral || w.parts[0].quoted) {
    return;
  }
  const std::string& t = w.parts[0].text;
  size_t n = 0;
  while (n < t.size() && (n == 0 ? is_name_start(t[n]) : is_name_char(t[n]))) ++n;
  if (n > 0 && n < t.size() && t[n] == '[') {
    size_t close = t.find(']', n + 1);
    if (close == std::string::npos) return;
    n = close + 1;
  }
  size_t eq = n < t.size() && t[n] == '=' ? n : t.compare(n, 2, "+=") == 0 ? n + 1 : 0;
  if (n == 0 || eq == 0) return;
  Word value = w;
  value.parts[0].text.erase(0, eq + 1);
  if (!assignment_tildes(value)) return;
  Word out;
  out.parts.push_back({WordPart::Kind::kLiteral, t.substr(0, eq + 1), false});
  for (auto& p : value.parts) out.parts.push_back(std::move(p));
  w = std::move(out);
}

}  // namespace wasmcap::shell::detail

// Brace expansion (bash): `a{b,c}d` is `abd acd`, `{1..5}`, `{a..e}`, `{01..10..3}`, nested and
// repeated braces, before any other expansion, on the unquoted text of a word only.
//
// Threat: products (`{a,b}{a,b}...` doubles per brace, `{1..999999999}`). Every partial word is
// charged to the budget as it is built, the words made are capped by --max-words, a sequence's
// length is checked before it is generated, and the deadline is checked per word.
#include <cstdlib>
#include <functional>
#include <string>

#include "shell/lex.h"
#include "shell/state.h"

namespace wasmcap::shell {

namespace {

// A word as atoms: an unquoted literal character (part == nullptr) or a whole other part.
struct Atom {
  char c = 0;
  const WordPart* part = nullptr;
};
using Atoms = Vec<Atom>;

bool is_char(const Atom& a, char c) { return a.part == nullptr && a.c == c; }

// The '}' matching the '{' at `open`, and the top-level commas between them.
bool match_brace(Ctx& ctx, const Atoms& a, size_t open, size_t* close,
                 std::vector<size_t>* commas) {
  int depth = 0;
  for (size_t i = open; i < a.size(); ++i) {
    if ((i & 4095) == 0) ctx.budget->check();  // `{{{{...` scans again from every brace
    if (is_char(a[i], '{')) ++depth;
    if (is_char(a[i], '}') && --depth == 0) {
      *close = i;
      return true;
    }
    if (depth == 1 && is_char(a[i], ',')) commas->push_back(i);
  }
  return false;
}

bool parse_int(const std::string& s, long long* v) {
  if (s.empty() || s.size() > 18) return false;
  size_t i = s[0] == '-' || s[0] == '+' ? 1 : 0;
  if (i == s.size()) return false;
  for (size_t k = i; k < s.size(); ++k) {
    if (s[k] < '0' || s[k] > '9') return false;
  }
  *v = std::strtoll(s.c_str(), nullptr, 10);
  return true;
}

bool zero_padded(const std::string& s) {
  size_t i = !s.empty() && s[0] == '-' ? 1 : 0;
  return s.size() > i + 1 && s[i] == '0';
}

// {X..Y} or {X..Y..STEP} over integers or single letters: the items, or false when the text is
// not a sequence (then the braces stay as written).
bool sequence(Ctx& ctx, const Atoms& a, size_t from, size_t to, std::vector<std::string>* items) {
  std::string text;
  for (size_t i = from; i < to; ++i) {
    if (a[i].part != nullptr) return false;
    text.push_back(a[i].c);
  }
  size_t d1 = text.find("..");
  if (d1 == std::string::npos) return false;
  std::string x = text.substr(0, d1), rest = text.substr(d1 + 2), y = rest, step_text;
  size_t d2 = rest.find("..");
  if (d2 != std::string::npos) {
    y = rest.substr(0, d2);
    step_text = rest.substr(d2 + 2);
  }
  long long step = 1;
  if (!step_text.empty() && !parse_int(step_text, &step)) return false;
  step = std::llabs(step);
  if (step == 0) step = 1;
  long long lo, hi;
  bool letters = x.size() == 1 && y.size() == 1 && std::isalpha(static_cast<unsigned char>(x[0])) &&
                 std::isalpha(static_cast<unsigned char>(y[0]));
  if (letters) {
    lo = x[0];
    hi = y[0];
  } else if (!parse_int(x, &lo) || !parse_int(y, &hi)) {
    return false;
  }
  unsigned long long span = static_cast<unsigned long long>(hi > lo ? hi - lo : lo - hi);
  ctx.budget->check_words(static_cast<size_t>(span / static_cast<unsigned long long>(step) + 1));
  size_t width = 0;
  if (!letters && (zero_padded(x) || zero_padded(y))) width = std::max(x.size(), y.size());
  long long dir = hi >= lo ? 1 : -1;
  for (long long v = lo; dir > 0 ? v <= hi : v >= hi; v += dir * step) {
    ctx.budget->check();
    if (letters) {
      items->emplace_back(1, static_cast<char>(v));
      continue;
    }
    std::string n = std::to_string(v < 0 ? -v : v);
    size_t digits = width > 0 && v < 0 ? width - 1 : width;
    if (n.size() < digits) n.insert(0, digits - n.size(), '0');
    items->push_back(v < 0 ? "-" + n : n);
  }
  return true;
}

void expand_atoms(Ctx& ctx, const Atoms& a, std::vector<Atoms>& out) {
  ctx.budget->check();
  for (size_t i = 0; i < a.size(); ++i) {
    if (!is_char(a[i], '{')) continue;
    size_t close = 0;
    std::vector<size_t> commas;
    // An unmatched '{' leaves the rest of the word as written (`{{a,b}` stays; bash would
    // give `{a {b`, the Oils spec's expectation is the word unchanged).
    if (!match_brace(ctx, a, i, &close, &commas)) break;
    std::vector<Atoms> alts;
    if (!commas.empty()) {
      size_t b = i + 1;
      commas.push_back(close);
      for (size_t c : commas) {
        alts.emplace_back(a.begin() + static_cast<long>(b), a.begin() + static_cast<long>(c),
                          a.get_allocator());
        b = c + 1;
      }
    } else {
      std::vector<std::string> items;
      if (!sequence(ctx, a, i + 1, close, &items)) continue;  // not a brace expansion: go on
      for (const auto& s : items) {
        Atoms alt(a.get_allocator());
        for (char c : s) alt.push_back({c, nullptr});
        alts.push_back(std::move(alt));
      }
    }
    for (const Atoms& alt : alts) {
      Atoms w(a.begin(), a.begin() + static_cast<long>(i), a.get_allocator());
      w.insert(w.end(), alt.begin(), alt.end());
      w.insert(w.end(), a.begin() + static_cast<long>(close) + 1, a.end());
      expand_atoms(ctx, w, out);
      ctx.budget->check_words(out.size());
    }
    return;
  }
  out.push_back(a);
}

// Tilde expansion comes after brace expansion (bash: `{a,~}/b` is `a/b $HOME/b`): a word the
// braces made that starts with an unquoted ~ or ~user, then '/' or its end, gets the tilde part
// the lexer gives such a word as written.
void leading_tilde(Word& x) {
  if (x.parts.empty() || x.parts[0].kind != WordPart::Kind::kLiteral || x.parts[0].quoted) return;
  const std::string& t = x.parts[0].text;
  if (t.empty() || t[0] != '~') return;
  size_t e = 1;
  while (e < t.size() && detail::is_tilde_char(t[e])) ++e;
  if (e < t.size() ? t[e] != '/' : x.parts.size() != 1) return;
  WordPart tilde{WordPart::Kind::kTilde, t.substr(1, e - 1), false};
  std::string rest = t.substr(e);
  if (rest.empty()) {
    x.parts[0] = std::move(tilde);
  } else {
    x.parts[0].text = std::move(rest);
    x.parts.insert(x.parts.begin(), std::move(tilde));
  }
}

}  // namespace

bool brace_expand(Ctx& ctx, const Word& w, const std::function<void(const Word&)>& each) {
  bool any = false;
  for (const WordPart& p : w.parts) {
    any = any || (p.kind == WordPart::Kind::kLiteral && !p.quoted &&
                  p.text.find('{') != std::string::npos);
  }
  if (!any) return false;
  Atoms atoms(BudgetAlloc<Atom>(ctx.budget));
  for (const WordPart& p : w.parts) {
    if (p.kind == WordPart::Kind::kLiteral && !p.quoted) {
      for (char c : p.text) atoms.push_back({c, nullptr});
    } else {
      atoms.push_back({0, &p});
    }
  }
  std::vector<Atoms> words;
  expand_atoms(ctx, atoms, words);
  if (words.size() == 1 && words[0].size() == atoms.size()) return false;  // nothing expanded
  for (const Atoms& a : words) {  // one Word at a time: the atoms are what is charged
    Word x;
    for (const Atom& at : a) {
      if (at.part != nullptr) {
        x.parts.push_back(*at.part);
      } else if (!x.parts.empty() && x.parts.back().kind == WordPart::Kind::kLiteral &&
                 !x.parts.back().quoted) {
        x.parts.back().text.push_back(at.c);
      } else {
        x.parts.push_back({WordPart::Kind::kLiteral, std::string(1, at.c), false});
      }
    }
    leading_tilde(x);
    each(x);
  }
  return true;
}

}  // namespace wasmcap::shell

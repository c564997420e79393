// The value operators of parameter expansion (param_ops.h), split from expand.cc, which builds
// the fields they go into.
#include "shell/param_ops.h"

#include <cctype>

namespace wasmcap::shell {

// ${x^p} ${x^^p} ${x,p} ${x,,p}: the first (or every) character matching p (any when p is
// empty) to upper or lower case (ASCII letters).
Str convert_case(Ctx& ctx, const Str& v, const Str& pat, const ParamOp& op, MatchWork& work) {
  Pattern p = pattern_result(Pattern::compile(pat.empty() ? std::string_view("?") : view(pat)));
  Str out = v;
  for (size_t k = 0; k < out.size(); ++k) {
    ctx.budget->check();
    std::string_view one(&out[k], 1);
    if (pattern_result(p.match(one, work))) {
      unsigned char c = static_cast<unsigned char>(out[k]);
      out[k] = static_cast<char>(op.case_op == '^' ? std::toupper(c) : std::tolower(c));
    }
    if (!op.longest) break;
  }
  return out;
}

// ${x@Q} (quoted to read back), @E (backslash escapes expanded), @P (as @E), @A (an
// assignment that recreates it), @a (its attributes), @U @u @L (case), @K (as @Q).
Str transform_value(Ctx& ctx, const State& st, const std::string& name, ParamOp::Sub sub,
                    const Str& v, char what, bool set) {
  switch (what) {
    case 'Q':
    case 'K': return ctx.str(quote_for_reuse(view(v)));
    case 'E':
    case 'P': return ctx.str(backslash_escapes(view(v)));
    case 'U':
    case 'u':
    case 'L': {
      Str out = v;
      for (size_t k = 0; k < out.size(); ++k) {
        unsigned char c = static_cast<unsigned char>(out[k]);
        out[k] = static_cast<char>(what == 'L' ? std::tolower(c) : std::toupper(c));
        if (what == 'u') break;
      }
      return out;
    }
    case 'a': {
      std::string f;
      unsigned a = attrs_of(st, name);
      if (find_array(st, name) != nullptr) f += 'a';
      if (find_assoc(st, name) != nullptr) f += 'A';
      if (a & kAttrInteger) f += 'i';
      if (a & kAttrLower) f += 'l';
      if (a & kAttrReadonly) f += 'r';
      if (a & kAttrUpper) f += 'u';
      if (st.exported.find(std::string_view(name)) != st.exported.end()) f += 'x';
      return ctx.str(f);
    }
    case 'A': {
      if (!set) return ctx.str();
      std::string line = declare_line(st, name);
      if (line.rfind("declare -- ", 0) == 0 && sub == ParamOp::Sub::kNone) {
        return ctx.str(name + "=" + quote_for_reuse(view(v)));
      }
      if (!line.empty()) line.pop_back();
      return ctx.str(line);
    }
    default: return v;
  }
}

// ${x@E}: the escapes of $'...'.
std::string backslash_escapes(std::string_view v) {
  std::string out;
  for (size_t k = 0; k < v.size(); ++k) {
    if (v[k] != '\\' || k + 1 == v.size()) {
      out.push_back(v[k]);
      continue;
    }
    char e = v[++k];
    switch (e) {
      case 'n': out.push_back('\n'); break;
      case 't': out.push_back('\t'); break;
      case 'r': out.push_back('\r'); break;
      case 'a': out.push_back('\a'); break;
      case 'b': out.push_back('\b'); break;
      case 'f': out.push_back('\f'); break;
      case 'v': out.push_back('\v'); break;
      case 'e':
      case 'E': out.push_back('\x1b'); break;
      case '\\': out.push_back('\\'); break;
      case '\'': out.push_back('\''); break;
      case '"': out.push_back('"'); break;
      default:
        if (e >= '0' && e <= '7') {
          unsigned c = static_cast<unsigned>(e - '0');
          for (int n = 1; n < 3 && k + 1 < v.size() && v[k + 1] >= '0' && v[k + 1] <= '7'; ++n) {
            c = c * 8 + static_cast<unsigned>(v[++k] - '0');
          }
          out.push_back(static_cast<char>(c & 0xff));
        } else {
          out.push_back('\\');
          out.push_back(e);
        }
    }
  }
  return out;
}

// ${x#p} ${x##p} ${x%p} ${x%%p}: the shortest or longest matching prefix or suffix removed.
Str trim_value(Ctx& ctx, const State& st, const Str& v, const Str& pat, const ParamOp& op,
               MatchWork& work) {
  PatternOptions po;
  po.utf8 = utf8_locale(st);
  po.extglob = st.opt_extglob;
  Pattern p = pattern_result(Pattern::compile(view(pat), po));
  auto len = op.longest ? Pattern::Length::kLongest : Pattern::Length::kShortest;
  std::string_view all = view(v);
  if (op.kind == ParamOp::Kind::kTrimPrefix) {
    auto n = pattern_result(p.match_prefix(all, len, work));
    return n ? ctx.str(all.substr(*n)) : v;
  }
  auto at = pattern_result(p.match_suffix(all, len, work));
  return at ? ctx.str(all.substr(0, *at)) : v;
}

Str replace_value(Ctx& ctx, const State& st, const Str& v, const Str& pat, const Str& rep,
                  const ParamOp& op, const std::vector<size_t>& match_at, MatchWork& work) {
  PatternOptions po;
  po.utf8 = utf8_locale(st);
  po.extglob = st.opt_extglob;
  Pattern p = pattern_result(Pattern::compile(view(pat), po));
  ReplaceMode mode = op.anchor == ParamOp::Anchor::kAll     ? ReplaceMode::kAll
                     : op.anchor == ParamOp::Anchor::kStart ? ReplaceMode::kPrefix
                     : op.anchor == ParamOp::Anchor::kEnd   ? ReplaceMode::kSuffix
                                                            : ReplaceMode::kFirst;
  uint64_t cap = ctx.budget->limits().memory_bytes;
  size_t max_out = cap == 0 ? SIZE_MAX : static_cast<size_t>(cap);
  std::string out =
      pattern_result(shell::replace(p, view(v), view(rep), mode, work, max_out, match_at));
  Budget::Lease held(ctx.budget, out.size());  // the plain copy, until it is in a Str
  return ctx.str(out);
}

}  // namespace wasmcap::shell

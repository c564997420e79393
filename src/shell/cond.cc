// `[[ expr ]]` (bash's conditional command), walked over the tree the parser built (ast.h
// CondExpr). Operands expand as assignments do: no field splitting, no globbing, tilde at the
// start. The right side of == = != is a pattern (its quoted characters match literally), of =~ a
// POSIX extended regular expression (its quoted characters match literally); the leaves are
// test_expr.h's, so `test` and `[[` share one implementation of every operator.
#include "shell/pattern.h"
#include "shell/regex.h"
#include "shell/state.h"
#include "shell/test_expr.h"

namespace wasmcap::shell {

namespace {

// The right side of =~: each part expanded, the quoted ones (and a tilde's directory, as bash)
// with their regex specials escaped.
Str expand_regex(Ctx& ctx, State& st, const Word& w, const Io& io) {
  Str out = ctx.str();
  for (const WordPart& p : w.parts) {
    Word one;
    one.parts.push_back(p);
    Str v = p.kind == WordPart::Kind::kLiteral ? ctx.str(p.text)
                                               : expand_string(ctx, st, one, io, nullptr);
    if (p.quoted || p.kind == WordPart::Kind::kTilde) {
      out.append(ctx.str(quote_regex(view(v))));
    } else {
      out.append(v);
    }
  }
  return out;
}

struct CondRun {
  Ctx& ctx;
  State& st;
  const Io& io;
  std::unique_ptr<TestEnv> env;
  MatchWork work{kPatternWork};

  int error(const std::string& msg) {  // (test_expr.h's messages show their operands escaped)
    emit(ctx, io.err(), "wasmcap sh: [[: " + msg + "\n");
    return 2;
  }

  // 0 true, 1 false, 2 error (stops the whole expression).
  int eval(const CondExpr& e) {
    switch (e.kind) {
      case CondExpr::Kind::kAnd:
      case CondExpr::Kind::kOr: {
        int r = 0;
        for (const CondExpr& k : e.kids) {
          ctx.budget->check();
          r = eval(k);
          if (r == 2) return 2;
          if ((r == 0) == (e.kind == CondExpr::Kind::kOr)) return r;
        }
        return r;
      }
      case CondExpr::Kind::kNot: {
        int r = eval(e.kids[0]);
        return r == 2 ? 2 : 1 - r;
      }
      case CondExpr::Kind::kWord:
        return expand_string(ctx, st, e.words[0], io, nullptr).empty() ? 1 : 0;
      case CondExpr::Kind::kUnary: {
        Str arg = expand_string(ctx, st, e.words[0], io, nullptr);
        auto r = test_unary(e.op, view(arg), *env);
        if (!r) return error(r.error().message);
        return *r ? 0 : 1;
      }
      case CondExpr::Kind::kBinary: return binary(e);
    }
    return 2;
  }

  int binary(const CondExpr& e) {
    Str lhs = expand_string(ctx, st, e.words[0], io, nullptr);
    if (e.op == "=~") {
      Str re = expand_regex(ctx, st, e.words[1], io);
      auto m = regex_match(view(lhs), view(re), st.opt_nocasematch);
      if (!m) return error(m.error().message);
      // BASH_REMATCH: the whole match, then each group (an empty array after no match). bash
      // sets it even when it is readonly; here a readonly one is left as it is.
      Vec<Str> groups(ctx.alloc());
      for (const std::string& g : m->groups) groups.push_back(ctx.str(g));
      try {
        assign_array(ctx, st, "BASH_REMATCH", groups, {}, false);
      } catch (const AssignError&) {
      }
      return m->matched ? 0 : 1;
    }
    bool pattern = e.op == "==" || e.op == "=" || e.op == "!=";
    Str rhs = pattern ? expand_pattern(ctx, st, e.words[1], io)
                      : expand_string(ctx, st, e.words[1], io, nullptr);
    BinaryOptions o;
    o.dbracket = true;
    o.work = &work;
    o.pattern.ignore_case = st.opt_nocasematch;
    o.pattern.utf8 = utf8_locale(st);
    o.pattern.extglob = true;  // bash: [[ == ]] reads extglob groups whatever the option
    auto r = test_binary(view(lhs), e.op, view(rhs), *env, o);
    if (!r) {
      if (r.error().code == ErrorCode::kFuelExhausted) {
        throw LimitHit(Error(r.error().code, "pattern: " + r.error().message), false);
      }
      return error(r.error().message);
    }
    return *r ? 0 : 1;
  }
};

}  // namespace

int run_cond(Ctx& ctx, State& st, const CondExpr& e, const Io& io) {
  CondRun run{ctx, st, io, make_test_env(ctx, st, io)};
  return run.eval(e);
}

}  // namespace wasmcap::shell

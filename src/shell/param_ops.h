// The value operators of parameter expansion (expand.cc's ${...}): functions of one value and
// the operator's pattern or replacement, with no part in building the word's fields. Each
// allocates through the session's Budget and bounds its matching by `work` (pattern.h).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "shell/ast.h"
#include "shell/pattern.h"
#include "shell/state.h"

namespace wasmcap::shell {

// ${x^p} ${x^^p} ${x,p} ${x,,p}: the first (or every) character matching p (any when p is
// empty) to upper or lower case (ASCII letters).
Str convert_case(Ctx& ctx, const Str& v, const Str& pat, const ParamOp& op, MatchWork& work);
// ${x@Q} ${x@E} ${x@P} ${x@A} ${x@a} ${x@U} ${x@u} ${x@L} ${x@K} of the value `v` of `name`
// (`sub`: how it was subscripted; `set`: whether it is set).
Str transform_value(Ctx& ctx, const State& st, const std::string& name, ParamOp::Sub sub,
                    const Str& v, char what, bool set);
// ${x@E}: the escapes of $'...'.
std::string backslash_escapes(std::string_view v);
// ${x#p} ${x##p} ${x%p} ${x%%p}: the shortest or longest matching prefix or suffix removed.
Str trim_value(Ctx& ctx, const State& st, const Str& v, const Str& pat, const ParamOp& op,
               MatchWork& work);
// ${x/p/r} ${x//p/r} ${x/#p/r} ${x/%p/r}: `rep` with the match at each offset of `match_at`
// (bash's patsub_replacement); the result is bounded by the shell's memory budget.
Str replace_value(Ctx& ctx, const State& st, const Str& v, const Str& pat, const Str& rep,
                  const ParamOp& op, const std::vector<size_t>& match_at, MatchWork& work);

}  // namespace wasmcap::shell

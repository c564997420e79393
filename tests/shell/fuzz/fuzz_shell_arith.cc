// libFuzzer target: shell arithmetic (src/shell/arith.h) on arbitrary expressions. Expressions
// come from scripts ($(( )), (( )), let, subscripts), and variables' values are expressions
// too, so the evaluator sees hostile text. Input: the expression, then NUL-separated values for
// the variables a, b and c. Beyond "no crash, no sanitizer report (UBSan: no signed overflow or
// bad shift), no hang, no stack exhaustion":
// - an error is invalid_argument (bash's messages, naming the text) or fuel_exhausted;
// - evaluation is deterministic: the same input in a fresh environment gives the same result
//   and the same variables.
#include <cstdint>
#include <cstdlib>
#include <map>
#include <string>
#include <string_view>

#include "shell/arith.h"

using namespace wasmcap;
using namespace wasmcap::shell;

namespace {
void check(bool ok) {
  if (!ok) std::abort();
}

class Env : public ArithEnv {
 public:
  std::map<std::string, std::string, std::less<>> vars;
  Result<std::optional<std::string>> get(std::string_view name) override {
    auto it = vars.find(name);
    if (it == vars.end()) return std::optional<std::string>();
    return std::optional<std::string>(it->second);
  }
  Result<void> set(std::string_view name, int64_t v) override {
    vars[std::string(name)] = std::to_string(v);
    return {};
  }
  bool is_assoc(std::string_view name) override { return name == "h"; }
  Result<std::optional<std::string>> get_element(std::string_view name,
                                                 const ArrayKey& k) override {
    return get(std::string(name) + "[" + (k.assoc ? k.key : std::to_string(k.index)) + "]");
  }
  Result<void> set_element(std::string_view name, const ArrayKey& k, int64_t v) override {
    return set(std::string(name) + "[" + (k.assoc ? k.key : std::to_string(k.index)) + "]", v);
  }
};

std::string run(std::string_view expr, const std::map<std::string, std::string, std::less<>>& vars,
                bool* ok) {
  Env env;
  env.vars = vars;
  ArithLimits lim;
  lim.max_steps = 20000;
  auto r = eval_arith(expr, env, lim);
  *ok = r.has_value();
  std::string out;
  if (r) {
    out = std::to_string(*r);
  } else {
    check(r.error().code == ErrorCode::kInvalidArgument ||
          r.error().code == ErrorCode::kFuelExhausted);
    out = r.error().message;
  }
  for (const auto& [k, v] : env.vars) out += "|" + k + "=" + v;
  return out;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  std::map<std::string, std::string, std::less<>> vars;
  size_t nul = in.find('\0');
  std::string_view expr = in.substr(0, nul);
  const char* names[] = {"a", "b", "c"};
  for (const char* name : names) {
    if (nul == std::string_view::npos) break;
    in.remove_prefix(nul + 1);
    nul = in.find('\0');
    vars[name] = std::string(in.substr(0, nul));
  }
  bool ok1 = false, ok2 = false;
  std::string first = run(expr, vars, &ok1);
  std::string second = run(expr, vars, &ok2);
  check(ok1 == ok2 && first == second);
  return 0;
}

// libFuzzer target: component values from JSON (src/component/json_val.h), the conversion every
// JSON caller of a component export (CLI, MCP tools, C API) goes through. The first input byte
// picks one of a few fixed WIT types (a record of every primitive, nested lists, variants of
// records, option<option<T>>, results, flags, list<u8>, a function's parameters); the rest is JSON
// text, parsed by parse_json_value under small bounds. Beyond "no crash, no sanitizer report, no
// abort" under -malloc_limit_mb:
// - a refusal is invalid_argument and names a JSON path ("$...: ...");
// - an accepted value is well-formed for its type (check_val: kinds, ranges, UTF-8, cases);
// - it converts back to JSON, and that JSON converts to the same value (the mapping is a bijection
//   on what it accepts, up to number spelling);
// - it converts to a typed tree (tree_val.h, the C API's values) and that tree back to the same
//   value, under the same bounds.
#include <cstdint>
#include <cstdlib>
#include <string_view>
#include <vector>

#include "component/json_val.h"
#include "component/runtime.h"
#include "component/tree_val.h"
#include "value_fixture.h"

using namespace wasmcap::component;
using wasmcap::component::fuzzing::Fixture;

namespace {

void check(bool ok) {
  if (!ok) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const Fixture fx;
  if (size < 1) return 0;
  JsonValOptions o;
  o.max_depth = 48;
  o.max_nodes = 20000;
  o.max_bytes = 1 << 16;
  auto j = parse_json_value(std::string_view(reinterpret_cast<const char*>(data + 1), size - 1), o);
  if (!j) return 0;
  const size_t pick = data[0] % (fx.types.size() + 1);
  if (pick == fx.types.size()) {
    auto args = json_to_args(fx.d, fx.func, *j, o);
    if (!args) {
      check(args.error().code == wasmcap::ErrorCode::kInvalidArgument && args.error().message.rfind("$", 0) == 0);
      return 0;
    }
    check(args->size() == fx.func.fields.size());
    for (size_t i = 0; i < args->size(); ++i) check(check_val(fx.d, (*args)[i], fx.func.fields[i].type, "arg").has_value());
    return 0;
  }
  const ValType t = fx.types[pick];
  auto v = json_to_val(fx.d, t, *j, o);
  if (!v) {
    check(v.error().code == wasmcap::ErrorCode::kInvalidArgument && v.error().message.rfind("$", 0) == 0);
    return 0;
  }
  check(check_val(fx.d, *v, t, "value").has_value());
  // Back to JSON (base64 takes 4/3 of the bytes: a wider byte bound), and again to a value.
  JsonValOptions wide = o;
  wide.max_bytes = o.max_bytes * 2;
  auto back = val_to_json(fx.d, t, *v, wide);
  check(back.has_value());
  auto again = json_to_val(fx.d, t, *back, wide);
  check(again.has_value() && *again == *v);
  auto tree = val_to_tree(fx.d, t, *v, wide);
  check(tree.has_value());
  auto from_tree = tree_to_val(fx.d, t, *tree, wide);
  check(from_tree.has_value() && *from_tree == *v);
  return 0;
}

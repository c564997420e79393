// libFuzzer target: component values from JSON (src/component/json_val.h), the conversion every
// JSON caller of a component export (CLI, MCP tools, C API) goes through. The first input byte
// picks one of a few fixed WIT types (a record of every primitive, nested lists, variants of
// records, option<option<T>>, results, flags, list<u8>, a function's parameters); the rest is JSON
// text, parsed by parse_json_value under small bounds. Beyond "no crash, no sanitizer report, no
// abort" under -malloc_limit_mb:
// - a refusal is invalid_argument and names a JSON path ("$...: ...");
// - an accepted value is well-formed for its type (check_val: kinds, ranges, UTF-8, cases);
// - it converts back to JSON, and that JSON converts to the same value (the mapping is a bijection
//   on what it accepts, up to number spelling).
#include <cstdint>
#include <cstdlib>
#include <string_view>
#include <vector>

#include "component/json_val.h"
#include "component/runtime.h"

using namespace wasmcap::component;

namespace {

void check(bool ok) {
  if (!ok) std::abort();
}

ValType prim(Prim p) { return ValType{true, p, kNone}; }

struct Fixture {
  Decoded d;
  std::vector<ValType> types;
  TypeDef func;

  ValType add(TypeDef t) {
    d.types.push_back(std::move(t));
    return ValType{false, Prim::kBool, static_cast<uint32_t>(d.types.size() - 1)};
  }
  ValType one(TypeKind k, ValType a) {
    TypeDef t;
    t.kind = k, t.has_a = true, t.a = a;
    return add(t);
  }
  ValType fields(TypeKind k, std::vector<std::pair<const char*, ValType>> fs, bool typed = true) {
    TypeDef t;
    t.kind = k;
    for (auto& [n, ty] : fs) t.fields.push_back(Field{n, typed, ty});
    return add(t);
  }

  Fixture() {
    std::vector<std::pair<const char*, ValType>> prims;
    static const char* const names[] = {"b", "s8", "u8", "s16", "u16", "s32", "u32", "s64", "u64", "f32", "f64", "c", "s"};
    for (int i = 0; i <= static_cast<int>(Prim::kString); ++i) prims.push_back({names[i], prim(static_cast<Prim>(i))});
    ValType all = fields(TypeKind::kRecord, prims);
    ValType bytes = one(TypeKind::kList, prim(Prim::kU8));
    ValType opt = one(TypeKind::kOption, prim(Prim::kU32));
    ValType optopt = one(TypeKind::kOption, opt);
    ValType flags = fields(TypeKind::kFlags, {{"r", {}}, {"w", {}}, {"x", {}}}, false);
    ValType color = fields(TypeKind::kEnum, {{"red", {}}, {"green", {}}}, false);
    ValType point = fields(TypeKind::kRecord, {{"x", prim(Prim::kF32)}, {"y", prim(Prim::kS64)}, {"tag", optopt}});
    TypeDef v;
    v.kind = TypeKind::kVariant;
    v.fields = {Field{"none", false, {}}, Field{"pt", true, point}, Field{"raw", true, bytes}, Field{"c", true, color}};
    ValType variant = add(v);
    ValType shapes = one(TypeKind::kList, variant);
    TypeDef r;
    r.kind = TypeKind::kResult, r.has_a = true, r.a = shapes, r.has_b = true, r.b = flags;
    ValType result = add(r);
    ValType tuple = fields(TypeKind::kTuple, {{"", result}, {"", prim(Prim::kChar)}, {"", optopt}});
    ValType deep = prim(Prim::kU8);
    for (int i = 0; i < 40; ++i) deep = one(TypeKind::kList, deep);
    types = {all, bytes, optopt, flags, shapes, result, tuple, deep};
    func.kind = TypeKind::kFunc;
    func.fields = {Field{"points", true, shapes}, Field{"limit", true, opt}, Field{"all", true, all}};
  }
};

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
  return 0;
}

// The fixed WIT types the value-mapping fuzz targets (fuzz_json_val, fuzz_wave) convert to: a
// record of every primitive, nested lists, variants of records, option<option<T>>, results, flags,
// list<u8>, a list 40 deep, and a function's parameters. The first input byte picks one.
#pragma once

#include <utility>
#include <vector>

#include "component/component.h"

namespace wasmcap::component::fuzzing {

inline ValType prim(Prim p) { return ValType{true, p, kNone}; }

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

}  // namespace wasmcap::component::fuzzing

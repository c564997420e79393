// Component value types built directly as a Decoded, for the value-mapping tests (json_val_test,
// wave_test): no component binary needed.
#pragma once

#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "component/component.h"

namespace wasmcap::component::testing {

inline ValType prim(Prim p) { return ValType{true, p, kNone}; }

// Types added to a Decoded one by one.
struct Types {
  Decoded d;
  ValType add(TypeDef t) {
    d.types.push_back(std::move(t));
    return ValType{false, Prim::kBool, static_cast<uint32_t>(d.types.size() - 1)};
  }
  ValType list(ValType e) {
    TypeDef t;
    t.kind = TypeKind::kList, t.has_a = true, t.a = e;
    return add(t);
  }
  ValType fields(TypeKind k, std::vector<std::pair<std::string, ValType>> fs) {
    TypeDef t;
    t.kind = k;
    for (auto& [n, ty] : fs) t.fields.push_back(Field{n, true, ty});
    return add(t);
  }
  ValType record(std::vector<std::pair<std::string, ValType>> fs) { return fields(TypeKind::kRecord, std::move(fs)); }
  ValType tuple(std::vector<ValType> ts) {
    TypeDef t;
    t.kind = TypeKind::kTuple;
    for (ValType v : ts) t.fields.push_back(Field{"", true, v});
    return add(t);
  }
  // Cases: a name and a payload type, or none (has_type false) when `has` is false.
  ValType variant(std::vector<std::tuple<std::string, bool, ValType>> cs) {
    TypeDef t;
    t.kind = TypeKind::kVariant;
    for (auto& [n, has, ty] : cs) t.fields.push_back(Field{n, has, ty});
    return add(t);
  }
  ValType labels(TypeKind k, std::vector<std::string> ls) {
    TypeDef t;
    t.kind = k;
    for (auto& n : ls) t.fields.push_back(Field{n, false, {}});
    return add(t);
  }
  ValType option(ValType e) {
    TypeDef t;
    t.kind = TypeKind::kOption, t.has_a = true, t.a = e;
    return add(t);
  }
  ValType result(bool has_ok, ValType ok, bool has_err, ValType err) {
    TypeDef t;
    t.kind = TypeKind::kResult, t.has_a = has_ok, t.a = ok, t.has_b = has_err, t.b = err;
    return add(t);
  }
  ValType alias(Prim p) {
    TypeDef t;
    t.kind = TypeKind::kPrimAlias, t.prim = p;
    return add(t);
  }
  ValType own() {
    TypeDef r;
    r.kind = TypeKind::kResource;
    ValType rt = add(r);
    TypeDef t;
    t.kind = TypeKind::kOwn, t.resource = rt.type;
    return add(t);
  }
};

}  // namespace wasmcap::component::testing

// What the conversions of component values share (json_val.cc: JSON; tree_val.cc: typed trees):
// the bounds of one conversion, the f32 range, and how fields, cases and labels are named and
// found. One copy, so the conversions cannot drift apart on a bound or a name.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "component/component.h"
#include "component/json_val.h"
#include "component/runtime.h"
#include "wasmcap/error.h"

namespace wasmcap::component::val_rules {

// The least magnitude an f32 rounds to infinity from: FLT_MAX plus half its ulp, 2^128 - 2^103
// (a tie there rounds to even, which is infinity). Below it, rounding to nearest is finite.
inline constexpr double kF32Overflow = 0x1.ffffffp+127;

inline bool is_option(const Decoded& d, ValType v) {
  Ty t = resolve(d, v);
  return !t.prim && t.def->kind == TypeKind::kOption;
}

// Up to 8 names of a type's fields/cases/labels, for messages ("x, y").
inline std::string names_of(const std::vector<Field>& fs) {
  std::string s;
  for (size_t i = 0; i < fs.size() && i < 8; ++i) {
    if (i > 0) s += ", ";
    s += fs[i].name;
  }
  if (fs.size() > 8) s += ", ... (" + std::to_string(fs.size()) + " in all)";
  return s;
}

inline int find_field(const std::vector<Field>& fs, std::string_view name) {
  for (size_t i = 0; i < fs.size(); ++i) {
    if (fs[i].name == name) return static_cast<int>(i);
  }
  return -1;
}

inline Error bad(const std::string& path, const std::string& msg) {
  return Error{ErrorCode::kInvalidArgument, path + ": " + msg};
}

// The bounds of one conversion, shared by every value it converts. `values`: what a node is
// called in messages ("JSON values", "values").
struct Budget {
  const JsonValOptions& o;
  const char* values;
  uint64_t nodes = 0, bytes = 0;

  Result<void> node(const std::string& path, uint64_t n = 1) {
    if (n > o.max_nodes || nodes > o.max_nodes - n) {
      return tl::unexpected(bad(path, "more than " + std::to_string(o.max_nodes) + " " + values +
                                          " in one conversion (JsonValOptions::max_nodes)"));
    }
    nodes += n;
    return {};
  }
  Result<void> take(const std::string& path, uint64_t n) {
    if (n > o.max_bytes || bytes > o.max_bytes - n) {
      return tl::unexpected(bad(path, "more than " + std::to_string(o.max_bytes) +
                                          " bytes of strings in one conversion (JsonValOptions::max_bytes)"));
    }
    bytes += n;
    return {};
  }
  // A list of `n` elements, each at least one value: refused here when longer than what is left,
  // before its elements are converted (each counts itself as it is).
  Result<void> fits(const std::string& path, uint64_t n) {
    if (n > o.max_nodes - nodes) return node(path, n);
    return {};
  }
  // `depth`: the containers around the container about to be entered.
  Result<void> enter(const std::string& path, size_t depth) {
    if (depth + 1 > o.max_depth) {
      return tl::unexpected(bad(path, "nested deeper than " + std::to_string(o.max_depth) +
                                          " levels (JsonValOptions::max_depth)"));
    }
    return {};
  }
};

}  // namespace wasmcap::component::val_rules

// Component-level values (layer 2 of running components, docs/components.md): what a host
// function registered with HostRegistry (host.h) takes and returns, and what an exported
// component function is called with from C++ (ComponentInstance::call, instance.h). The
// Canonical ABI (canon.cc) lifts core values and linear memory into Vals and lowers Vals back,
// checked against the function's component type.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace wasmcap::component {

struct ResourceType;  // host.h: a resource type at run time (host-defined or a guest's)

enum class ValKind : uint8_t {
  kBool, kS8, kU8, kS16, kU16, kS32, kU32, kS64, kU64, kF32, kF64, kChar, kString,
  kList, kRecord, kTuple, kVariant, kEnum, kOption, kResult, kFlags, kOwn, kBorrow,
};
const char* val_kind_name(ValKind k);

// One value. Scalars live in `bits` (integers as two's complement, bool 0/1, char the scalar
// value) or `f` (f32, f64); strings in `str` (UTF-8, whatever the guest's encoding);
// compound values in `items`: list elements, record fields and tuple elements in type order,
// the payload of a variant case / option `some` / result case (none when the case has none).
// `bits` also holds the case index of a variant or enum, 1 for `some` (0 for `none`), 1 for
// `error` (0 for `ok`), the flags as a bit set (label i is bit i), and the representation of a
// resource handle, whose type is `resource`.
struct Val {
  ValKind kind = ValKind::kBool;
  uint64_t bits = 0;
  double f = 0;
  std::string str;
  std::vector<Val> items;
  const ResourceType* resource = nullptr;

  static Val boolean(bool b) { return scalar(ValKind::kBool, b ? 1 : 0); }
  static Val s8(int8_t v) { return scalar(ValKind::kS8, static_cast<uint64_t>(int64_t{v})); }
  static Val u8(uint8_t v) { return scalar(ValKind::kU8, v); }
  static Val s16(int16_t v) { return scalar(ValKind::kS16, static_cast<uint64_t>(int64_t{v})); }
  static Val u16(uint16_t v) { return scalar(ValKind::kU16, v); }
  static Val s32(int32_t v) { return scalar(ValKind::kS32, static_cast<uint64_t>(int64_t{v})); }
  static Val u32(uint32_t v) { return scalar(ValKind::kU32, v); }
  static Val s64(int64_t v) { return scalar(ValKind::kS64, static_cast<uint64_t>(v)); }
  static Val u64(uint64_t v) { return scalar(ValKind::kU64, v); }
  static Val f32(float v) { Val x; x.kind = ValKind::kF32; x.f = v; return x; }
  static Val f64(double v) { Val x; x.kind = ValKind::kF64; x.f = v; return x; }
  static Val character(uint32_t scalar_value) { return scalar(ValKind::kChar, scalar_value); }
  static Val string(std::string s) { Val x; x.kind = ValKind::kString; x.str = std::move(s); return x; }
  static Val list(std::vector<Val> v) { return compound(ValKind::kList, 0, std::move(v)); }
  static Val record(std::vector<Val> fields) { return compound(ValKind::kRecord, 0, std::move(fields)); }
  static Val tuple(std::vector<Val> v) { return compound(ValKind::kTuple, 0, std::move(v)); }
  static Val variant(uint32_t index) { return compound(ValKind::kVariant, index, {}); }
  static Val variant(uint32_t index, Val payload) { return compound(ValKind::kVariant, index, {std::move(payload)}); }
  static Val enumeration(uint32_t index) { return scalar(ValKind::kEnum, index); }
  static Val none() { return compound(ValKind::kOption, 0, {}); }
  static Val some(Val v) { return compound(ValKind::kOption, 1, {std::move(v)}); }
  static Val ok() { return compound(ValKind::kResult, 0, {}); }
  static Val ok(Val v) { return compound(ValKind::kResult, 0, {std::move(v)}); }
  static Val err() { return compound(ValKind::kResult, 1, {}); }
  static Val err(Val v) { return compound(ValKind::kResult, 1, {std::move(v)}); }
  static Val flags(uint32_t set) { return scalar(ValKind::kFlags, set); }
  static Val own(const ResourceType* rt, uint32_t rep) { Val x = scalar(ValKind::kOwn, rep); x.resource = rt; return x; }
  static Val borrow(const ResourceType* rt, uint32_t rep) { Val x = scalar(ValKind::kBorrow, rep); x.resource = rt; return x; }

  int64_t as_signed() const { return static_cast<int64_t>(bits); }
  // A readable form for tests and messages: u32(7), string("a\n"), record{u8(1), ...}. Strings are
  // escaped (display_untrusted), so a guest's bytes never reach a terminal raw.
  std::string to_string() const;
  friend bool operator==(const Val& a, const Val& b);

 private:
  static Val scalar(ValKind k, uint64_t b) { Val x; x.kind = k; x.bits = b; return x; }
  static Val compound(ValKind k, uint64_t b, std::vector<Val> items) {
    Val x;
    x.kind = k;
    x.bits = b;
    x.items = std::move(items);
    return x;
  }
};

}  // namespace wasmcap::component

// The Canonical ABI (CanonicalABI.md of github.com/WebAssembly/component-model): flattening,
// lifting core values and linear memory into component values (val.h) and lowering them back,
// for every 0.2 value type. Every guest pointer and length is checked against the memory before
// it is used; every host allocation a guest value sizes is charged against the call's bound
// (InstantiateOptions::max_lift_bytes) before it is made; strings are validated while decoded.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <type_traits>

#include "common/utf8.h"
#include "component/runtime.h"

namespace wasmcap::component {

Ty resolve(const Decoded& d, const component::ValType& v) {
  if (v.is_prim) return Ty{true, v.prim, nullptr};
  const TypeDef* t = &d.types[v.type];
  if (t->kind == TypeKind::kPrimAlias) return Ty{true, t->prim, nullptr};
  return Ty{false, Prim::kBool, t};
}

namespace {

using CoreType = wasmcap::ValType;
using CValType = component::ValType;

uint32_t prim_size(Prim p) {
  switch (p) {
    case Prim::kBool: case Prim::kS8: case Prim::kU8: return 1;
    case Prim::kS16: case Prim::kU16: return 2;
    case Prim::kS32: case Prim::kU32: case Prim::kF32: case Prim::kChar: return 4;
    case Prim::kS64: case Prim::kU64: case Prim::kF64: return 8;
    case Prim::kString: return 8;
  }
  return 1;
}
uint32_t prim_align(Prim p) { return p == Prim::kString ? 4 : prim_size(p); }

uint64_t size_of(const Decoded& d, const CValType& v) {
  Ty t = resolve(d, v);
  return t.prim ? prim_size(t.p) : t.def->elem_size;
}
uint32_t align_of(const Decoded& d, const CValType& v) {
  Ty t = resolve(d, v);
  return t.prim ? prim_align(t.p) : t.def->align;
}
uint64_t align_to(uint64_t n, uint32_t a) { return (n + a - 1) / a * a; }

// The cases of a variant-like type (variant, option, result, enum): payload type or null.
struct Cases {
  std::vector<const CValType*> payload;
};
Cases cases_of(const TypeDef& t) {
  Cases c;
  switch (t.kind) {
    case TypeKind::kVariant:
      for (const Field& f : t.fields) c.payload.push_back(f.has_type ? &f.type : nullptr);
      break;
    case TypeKind::kEnum:
      c.payload.assign(t.fields.size(), nullptr);
      break;
    case TypeKind::kOption:
      c.payload = {nullptr, &t.a};
      break;
    case TypeKind::kResult:
      c.payload = {t.has_a ? &t.a : nullptr, t.has_b ? &t.b : nullptr};
      break;
    default: break;
  }
  return c;
}
bool is_variant_like(TypeKind k) {
  return k == TypeKind::kVariant || k == TypeKind::kEnum || k == TypeKind::kOption || k == TypeKind::kResult;
}
uint32_t disc_size(size_t n) { return n <= 256 ? 1 : n <= 65536 ? 2 : 4; }
uint32_t flags_size(size_t n) { return n <= 8 ? 1 : n <= 16 ? 2 : 4; }
uint32_t max_case_align(const Decoded& d, const Cases& c) {
  uint32_t a = 1;
  for (const CValType* p : c.payload) {
    if (p != nullptr) a = std::max(a, align_of(d, *p));
  }
  return a;
}

CoreType join(CoreType a, CoreType b) {
  if (a == b) return a;
  if ((a == CoreType::kI32 && b == CoreType::kF32) || (a == CoreType::kF32 && b == CoreType::kI32)) {
    return CoreType::kI32;
  }
  return CoreType::kI64;
}

void flatten_one(const Decoded& d, const CValType& v, std::vector<CoreType>& out, size_t cap) {
  if (out.size() > cap) return;
  Ty t = resolve(d, v);
  if (t.prim) {
    switch (t.p) {
      case Prim::kS64: case Prim::kU64: out.push_back(CoreType::kI64); return;
      case Prim::kF32: out.push_back(CoreType::kF32); return;
      case Prim::kF64: out.push_back(CoreType::kF64); return;
      case Prim::kString: out.push_back(CoreType::kI32); out.push_back(CoreType::kI32); return;
      default: out.push_back(CoreType::kI32); return;
    }
  }
  const TypeDef& def = *t.def;
  switch (def.kind) {
    case TypeKind::kList: out.push_back(CoreType::kI32); out.push_back(CoreType::kI32); return;
    case TypeKind::kRecord: case TypeKind::kTuple:
      for (const Field& f : def.fields) flatten_one(d, f.type, out, cap);
      return;
    case TypeKind::kFlags: case TypeKind::kOwn: case TypeKind::kBorrow:
      out.push_back(CoreType::kI32);
      return;
    default: break;
  }
  if (!is_variant_like(def.kind)) return;
  Cases c = cases_of(def);
  std::vector<CoreType> joined;
  for (const CValType* p : c.payload) {
    if (p == nullptr) continue;
    std::vector<CoreType> one;
    flatten_one(d, *p, one, cap);
    for (size_t i = 0; i < one.size(); ++i) {
      if (i < joined.size()) joined[i] = join(joined[i], one[i]);
      else joined.push_back(one[i]);
    }
  }
  out.push_back(CoreType::kI32);
  out.insert(out.end(), joined.begin(), joined.end());
}

std::string hexnum(uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(v));
  return buf;
}

// ---- memory access (every access bounds-checked against the memory as it is now) ----

Result<GuestMemory> memory_of(Cx& cx) {
  if (cx.memory == nullptr || cx.memory->instance == nullptr) {
    return tl::unexpected(abi_trap("the function's canon options name no memory"));
  }
  GuestMemory m = cx.memory->instance->memory();
  if (!m.valid()) return tl::unexpected(abi_trap("the canon options' memory has no bytes"));
  return m;
}

// Checks [ptr, ptr + len) is inside memory and ptr is aligned; `what` names the value.
}  // namespace

Result<GuestMemory> check_range(Cx& cx, uint64_t ptr, uint64_t len, uint32_t align, const char* what) {
  GuestMemory m{};
  WASMCAP_TRY_ASSIGN(m, memory_of(cx));
  if (align > 1 && ptr % align != 0) {
    return tl::unexpected(abi_trap(std::string(what) + " at " + hexnum(ptr) + " is not " +
                                   std::to_string(align) + "-byte aligned"));
  }
  if (!m.in_bounds(ptr, len)) {
    return tl::unexpected(abi_oob(std::string(what) + " at " + hexnum(ptr) + " of " + std::to_string(len) +
                                  " bytes is outside the guest's memory (" + std::to_string(m.size()) +
                                  " bytes)"));
  }
  return m;
}

namespace {

template <class T>
Result<T> load_int(Cx& cx, uint64_t ptr) {
  GuestMemory m{};
  WASMCAP_TRY_ASSIGN(m, check_range(cx, ptr, sizeof(T), 1, "a value"));
  T v{};
  m.load(ptr, &v);
  return v;
}
template <class T>
Result<void> store_int(Cx& cx, uint64_t ptr, T v) {
  GuestMemory m{};
  WASMCAP_TRY_ASSIGN(m, check_range(cx, ptr, sizeof(T), 1, "a value"));
  m.store(ptr, v);
  return {};
}

}  // namespace

Result<void> charge(Cx& cx, uint64_t bytes) {
  const uint64_t cap = cx.inst->shared->options.max_lift_bytes;
  if (bytes > cap || cx.host_bytes > cap - bytes) {
    return tl::unexpected(abi_trap("the values of one call would take more than the host's bound of " +
                                   std::to_string(cap) + " bytes (InstantiateOptions::max_lift_bytes)"));
  }
  cx.host_bytes += bytes;
  return {};
}

// realloc(0, 0, align, size): a new allocation in the guest, checked.
Result<uint32_t> allocate(Cx& cx, uint32_t align, uint64_t size, const char* what) {
  if (!cx.realloc) return tl::unexpected(abi_trap("the function's canon options name no realloc"));
  if (size > 0xffffffffu) return tl::unexpected(abi_trap(std::string(what) + " is too large for a 32-bit memory"));
  // Charged to the call that needs the allocation (Cx::charge): realloc is guest code of the run.
  HostContext own;
  own.limits = &cx.inst->shared->limits;
  HostContext& ctx = cx.charge != nullptr ? *cx.charge : own;
  Value args[4] = {Value::I32(0), Value::I32(0), Value::I32(align), Value::I32(static_cast<uint32_t>(size))};
  Value result;
  HostCallResult r = cx.realloc->call(ctx, args, &result);
  if (r.status == HostStatus::kExit) return tl::unexpected(abi_trap("the guest exited inside realloc"));
  if (r.status != HostStatus::kOk) return tl::unexpected(host_result_error(r));
  WASMCAP_TRY(check_range(cx, result.i32, size, align, what));
  return result.i32;
}

// ---- scalars ----

// runtime.h
Val int_val(Prim p, uint64_t raw) {
  switch (p) {
    case Prim::kBool: return Val::boolean(raw != 0);
    case Prim::kS8: return Val::s8(static_cast<int8_t>(raw));
    case Prim::kU8: return Val::u8(static_cast<uint8_t>(raw));
    case Prim::kS16: return Val::s16(static_cast<int16_t>(raw));
    case Prim::kU16: return Val::u16(static_cast<uint16_t>(raw));
    case Prim::kS32: return Val::s32(static_cast<int32_t>(raw));
    case Prim::kU32: return Val::u32(static_cast<uint32_t>(raw));
    case Prim::kS64: return Val::s64(static_cast<int64_t>(raw));
    default: return Val::u64(raw);
  }
}

namespace {

float canon_f32(float f) {
  if (!std::isnan(f)) return f;
  uint32_t bits = 0x7fc00000u;
  std::memcpy(&f, &bits, 4);
  return f;
}
double canon_f64(double f) {
  if (!std::isnan(f)) return f;
  uint64_t bits = 0x7ff8000000000000ull;
  std::memcpy(&f, &bits, 8);
  return f;
}

// An integer of width T read from memory as the Val of primitive p (int_val narrows and extends).
template <class T>
Result<Val> load_int_val(Cx& cx, Prim p, uint64_t ptr) {
  T x{};
  WASMCAP_TRY_ASSIGN(x, load_int<T>(cx, ptr));
  return int_val(p, x);
}

// A float (F: float or double) read from memory as the bits of the integer of its width, its NaNs
// made the canonical NaN.
template <class F>
Result<Val> load_float(Cx& cx, uint64_t ptr) {
  using Bits = std::conditional_t<sizeof(F) == 4, uint32_t, uint64_t>;
  Bits x{};
  WASMCAP_TRY_ASSIGN(x, load_int<Bits>(cx, ptr));
  F f;
  std::memcpy(&f, &x, sizeof f);
  if constexpr (sizeof(F) == 4) {
    return Val::f32(canon_f32(f));
  } else {
    return Val::f64(canon_f64(f));
  }
}

// A float stored as the bits of the integer of its width, its NaNs made the canonical NaN.
template <class F>
Result<void> store_float(Cx& cx, uint64_t ptr, double v) {
  using Bits = std::conditional_t<sizeof(F) == 4, uint32_t, uint64_t>;
  F f;
  if constexpr (sizeof(F) == 4) {
    f = canon_f32(static_cast<float>(v));
  } else {
    f = canon_f64(v);
  }
  Bits x;
  std::memcpy(&x, &f, sizeof x);
  return store_int<Bits>(cx, ptr, x);
}

// A flags value's or a discriminant's bits, stored in `size` bytes (1, 2 or 4).
Result<uint32_t> load_uint_of_size(Cx& cx, uint64_t ptr, uint32_t size) {
  if (size == 1) return load_int<uint8_t>(cx, ptr).map([](uint8_t x) { return uint32_t{x}; });
  if (size == 2) return load_int<uint16_t>(cx, ptr).map([](uint16_t x) { return uint32_t{x}; });
  return load_int<uint32_t>(cx, ptr);
}

Result<Val> char_val(uint32_t i) {
  if (!utf8::is_scalar_value(i)) {
    return tl::unexpected(abi_trap("char " + hexnum(i) + " is not a Unicode scalar value"));
  }
  return Val::character(i);
}

ValKind kind_of_prim(Prim p) {
  static const ValKind kinds[] = {ValKind::kBool, ValKind::kS8, ValKind::kU8, ValKind::kS16, ValKind::kU16,
                                  ValKind::kS32, ValKind::kU32, ValKind::kS64, ValKind::kU64, ValKind::kF32,
                                  ValKind::kF64, ValKind::kChar, ValKind::kString};
  return kinds[static_cast<size_t>(p)];
}

ValKind kind_of_def(TypeKind k) {
  switch (k) {
    case TypeKind::kList: return ValKind::kList;
    case TypeKind::kRecord: return ValKind::kRecord;
    case TypeKind::kTuple: return ValKind::kTuple;
    case TypeKind::kVariant: return ValKind::kVariant;
    case TypeKind::kEnum: return ValKind::kEnum;
    case TypeKind::kOption: return ValKind::kOption;
    case TypeKind::kResult: return ValKind::kResult;
    case TypeKind::kFlags: return ValKind::kFlags;
    case TypeKind::kOwn: return ValKind::kOwn;
    default: return ValKind::kBorrow;
  }
}

}  // namespace

ValKind kind_of(const Ty& t) { return t.prim ? kind_of_prim(t.p) : kind_of_def(t.def->kind); }

namespace {

std::string type_name(const Decoded& d, const CValType& v) {
  Ty t = resolve(d, v);
  return t.prim ? prim_name(t.p) : val_kind_name(kind_of_def(t.def->kind));
}

// ---- load / store ----

Result<Val> load(Cx& cx, const CValType& v, uint64_t ptr);
Result<void> store(Cx& cx, const Val& val, const CValType& v, uint64_t ptr);

Result<Val> load_list_range(Cx& cx, uint32_t ptr, uint32_t len, const CValType& elem) {
  const uint64_t size = size_of(cx.d(), elem);
  const uint64_t bytes = uint64_t{len} * size;
  if (bytes > kMaxListBytes) {
    return tl::unexpected(abi_trap("a list of " + std::to_string(len) + " elements (" + std::to_string(bytes) +
                                   " bytes) exceeds the Canonical ABI's " + std::to_string(kMaxListBytes) + " bytes"));
  }
  WASMCAP_TRY(check_range(cx, ptr, bytes, align_of(cx.d(), elem), "a list"));
  WASMCAP_TRY(charge(cx, uint64_t{len} * sizeof(Val)));
  std::vector<Val> items;
  items.reserve(len);
  for (uint32_t i = 0; i < len; ++i) {
    Val e{};
    WASMCAP_TRY_ASSIGN(e, load(cx, elem, ptr + i * size));
    items.push_back(std::move(e));
  }
  return Val::list(std::move(items));
}

Result<std::pair<uint32_t, uint32_t>> store_list_range(Cx& cx, const Val& val, const CValType& elem) {
  const uint64_t size = size_of(cx.d(), elem);
  const uint64_t bytes = uint64_t{val.items.size()} * size;
  if (bytes > kMaxListBytes) {
    return tl::unexpected(abi_trap("a list of " + std::to_string(bytes) + " bytes exceeds the Canonical ABI's " +
                                   std::to_string(kMaxListBytes)));
  }
  const uint32_t align = align_of(cx.d(), elem);
  uint32_t ptr{};
  WASMCAP_TRY_ASSIGN(ptr, allocate(cx, align, bytes, "a list"));
  for (size_t i = 0; i < val.items.size(); ++i) WASMCAP_TRY(store(cx, val.items[i], elem, ptr + i * size));
  return std::pair<uint32_t, uint32_t>{ptr, static_cast<uint32_t>(val.items.size())};
}

Result<Val> load(Cx& cx, const CValType& v, uint64_t ptr) {
  const Decoded& d = cx.d();
  Ty t = resolve(d, v);
  if (t.prim) {
    switch (t.p) {
      case Prim::kBool: case Prim::kU8: case Prim::kS8: return load_int_val<uint8_t>(cx, t.p, ptr);
      case Prim::kU16: case Prim::kS16: return load_int_val<uint16_t>(cx, t.p, ptr);
      case Prim::kU32: case Prim::kS32: return load_int_val<uint32_t>(cx, t.p, ptr);
      case Prim::kU64: case Prim::kS64: return load_int_val<uint64_t>(cx, t.p, ptr);
      case Prim::kF32: return load_float<float>(cx, ptr);
      case Prim::kF64: return load_float<double>(cx, ptr);
      case Prim::kChar: {
        uint32_t x{};
        WASMCAP_TRY_ASSIGN(x, load_int<uint32_t>(cx, ptr));
        return char_val(x);
      }
      case Prim::kString: {
        uint32_t p{};
        WASMCAP_TRY_ASSIGN(p, load_int<uint32_t>(cx, ptr));
        uint32_t n{};
        WASMCAP_TRY_ASSIGN(n, load_int<uint32_t>(cx, ptr + 4));
        return load_string_range(cx, p, n);
      }
    }
  }
  const TypeDef& def = *t.def;
  switch (def.kind) {
    case TypeKind::kList: {
      uint32_t p{};
      WASMCAP_TRY_ASSIGN(p, load_int<uint32_t>(cx, ptr));
      uint32_t n{};
      WASMCAP_TRY_ASSIGN(n, load_int<uint32_t>(cx, ptr + 4));
      return load_list_range(cx, p, n, def.a);
    }
    case TypeKind::kRecord: case TypeKind::kTuple: {
      WASMCAP_TRY(charge(cx, def.fields.size() * sizeof(Val)));
      std::vector<Val> items;
      items.reserve(def.fields.size());
      for (const Field& f : def.fields) {
        ptr = align_to(ptr, align_of(d, f.type));
        Val e{};
        WASMCAP_TRY_ASSIGN(e, load(cx, f.type, ptr));
        items.push_back(std::move(e));
        ptr += size_of(d, f.type);
      }
      return def.kind == TypeKind::kRecord ? Val::record(std::move(items)) : Val::tuple(std::move(items));
    }
    case TypeKind::kFlags: {
      uint32_t bits = 0;
      WASMCAP_TRY_ASSIGN(bits, load_uint_of_size(cx, ptr, flags_size(def.fields.size())));
      const size_t labels = def.fields.size();
      return Val::flags(labels >= 32 ? bits : bits & ((1u << labels) - 1));
    }
    case TypeKind::kOwn: case TypeKind::kBorrow: {
      uint32_t h{};
      WASMCAP_TRY_ASSIGN(h, load_int<uint32_t>(cx, ptr));
      return def.kind == TypeKind::kOwn ? lift_own(cx, h, def.resource) : lift_borrow(cx, h, def.resource);
    }
    default: break;
  }
  if (!is_variant_like(def.kind)) return tl::unexpected(abi_trap("a value of an unsupported type"));
  Cases c = cases_of(def);
  const uint32_t ds = disc_size(c.payload.size());
  uint32_t index = 0;
  WASMCAP_TRY_ASSIGN(index, load_uint_of_size(cx, ptr, ds));
  if (index >= c.payload.size()) {
    return tl::unexpected(abi_trap("case " + std::to_string(index) + " of a " + val_kind_name(kind_of_def(def.kind)) +
                                   " with " + std::to_string(c.payload.size()) + " cases"));
  }
  Val out;
  out.kind = kind_of_def(def.kind);
  out.bits = index;
  if (c.payload[index] != nullptr) {
    Val p{};
    WASMCAP_TRY_ASSIGN(p, load(cx, *c.payload[index], align_to(ptr + ds, max_case_align(d, c))));
    out.items.push_back(std::move(p));
  }
  return out;
}

Result<void> store(Cx& cx, const Val& val, const CValType& v, uint64_t ptr) {
  const Decoded& d = cx.d();
  Ty t = resolve(d, v);
  if (t.prim) {
    switch (t.p) {
      case Prim::kBool: case Prim::kU8: case Prim::kS8:
        return store_int<uint8_t>(cx, ptr, static_cast<uint8_t>(val.bits));
      case Prim::kU16: case Prim::kS16: return store_int<uint16_t>(cx, ptr, static_cast<uint16_t>(val.bits));
      case Prim::kU32: case Prim::kS32: case Prim::kChar:
        return store_int<uint32_t>(cx, ptr, static_cast<uint32_t>(val.bits));
      case Prim::kU64: case Prim::kS64: return store_int<uint64_t>(cx, ptr, val.bits);
      case Prim::kF32: return store_float<float>(cx, ptr, val.f);
      case Prim::kF64: return store_float<double>(cx, ptr, val.f);
      case Prim::kString: {
        std::pair<uint32_t, uint32_t> pl;
        WASMCAP_TRY_ASSIGN(pl, store_string_range(cx, val.str));
        WASMCAP_TRY(store_int<uint32_t>(cx, ptr, pl.first));
        return store_int<uint32_t>(cx, ptr + 4, pl.second);
      }
    }
  }
  const TypeDef& def = *t.def;
  switch (def.kind) {
    case TypeKind::kList: {
      std::pair<uint32_t, uint32_t> pl;
        WASMCAP_TRY_ASSIGN(pl, store_list_range(cx, val, def.a));
      WASMCAP_TRY(store_int<uint32_t>(cx, ptr, pl.first));
      return store_int<uint32_t>(cx, ptr + 4, pl.second);
    }
    case TypeKind::kRecord: case TypeKind::kTuple:
      for (size_t i = 0; i < def.fields.size(); ++i) {
        ptr = align_to(ptr, align_of(d, def.fields[i].type));
        WASMCAP_TRY(store(cx, val.items[i], def.fields[i].type, ptr));
        ptr += size_of(d, def.fields[i].type);
      }
      return {};
    case TypeKind::kFlags: {
      uint32_t n = flags_size(def.fields.size());
      if (n == 1) return store_int<uint8_t>(cx, ptr, static_cast<uint8_t>(val.bits));
      if (n == 2) return store_int<uint16_t>(cx, ptr, static_cast<uint16_t>(val.bits));
      return store_int<uint32_t>(cx, ptr, static_cast<uint32_t>(val.bits));
    }
    case TypeKind::kOwn: {
      uint32_t h{};
      WASMCAP_TRY_ASSIGN(h, lower_own(cx, val, def.resource));
      return store_int<uint32_t>(cx, ptr, h);
    }
    case TypeKind::kBorrow: {
      uint32_t h{};
      WASMCAP_TRY_ASSIGN(h, lower_borrow(cx, val, def.resource));
      return store_int<uint32_t>(cx, ptr, h);
    }
    default: break;
  }
  Cases c = cases_of(def);
  const uint32_t ds = disc_size(c.payload.size());
  const uint32_t index = static_cast<uint32_t>(val.bits);
  if (ds == 1) WASMCAP_TRY(store_int<uint8_t>(cx, ptr, static_cast<uint8_t>(index)));
  else if (ds == 2) WASMCAP_TRY(store_int<uint16_t>(cx, ptr, static_cast<uint16_t>(index)));
  else WASMCAP_TRY(store_int<uint32_t>(cx, ptr, index));
  if (c.payload[index] != nullptr) {
    return store(cx, val.items[0], *c.payload[index], align_to(ptr + ds, max_case_align(d, c)));
  }
  return {};
}

// ---- flat lift / lower ----

struct FlatIn {
  const Value* v;
  size_t n;
  size_t i = 0;
  Value next() { return i < n ? v[i++] : Value::I32(0); }
};

Result<Val> lift_flat(Cx& cx, const CValType& v, FlatIn& in) {
  const Decoded& d = cx.d();
  Ty t = resolve(d, v);
  if (t.prim) {
    switch (t.p) {
      case Prim::kS64: case Prim::kU64: return int_val(t.p, in.next().i64);
      case Prim::kF32: return Val::f32(canon_f32(in.next().f32));
      case Prim::kF64: return Val::f64(canon_f64(in.next().f64));
      case Prim::kChar: return char_val(in.next().i32);
      case Prim::kString: {
        uint32_t p = in.next().i32;
        uint32_t n = in.next().i32;
        return load_string_range(cx, p, n);
      }
      case Prim::kS8: return int_val(t.p, static_cast<uint64_t>(static_cast<int8_t>(in.next().i32)));
      case Prim::kS16: return int_val(t.p, static_cast<uint64_t>(static_cast<int16_t>(in.next().i32)));
      case Prim::kS32: return int_val(t.p, static_cast<uint64_t>(static_cast<int32_t>(in.next().i32)));
      default: return int_val(t.p, in.next().i32);
    }
  }
  const TypeDef& def = *t.def;
  switch (def.kind) {
    case TypeKind::kList: {
      uint32_t p = in.next().i32;
      uint32_t n = in.next().i32;
      return load_list_range(cx, p, n, def.a);
    }
    case TypeKind::kRecord: case TypeKind::kTuple: {
      std::vector<Val> items;
      for (const Field& f : def.fields) {
        Val e{};
        WASMCAP_TRY_ASSIGN(e, lift_flat(cx, f.type, in));
        items.push_back(std::move(e));
      }
      return def.kind == TypeKind::kRecord ? Val::record(std::move(items)) : Val::tuple(std::move(items));
    }
    case TypeKind::kFlags: {
      uint32_t bits = in.next().i32;
      const size_t labels = def.fields.size();
      return Val::flags(labels >= 32 ? bits : bits & ((1u << labels) - 1));
    }
    case TypeKind::kOwn: return lift_own(cx, in.next().i32, def.resource);
    case TypeKind::kBorrow: return lift_borrow(cx, in.next().i32, def.resource);
    default: break;
  }
  if (!is_variant_like(def.kind)) return tl::unexpected(abi_trap("a value of an unsupported type"));
  Cases c = cases_of(def);
  std::vector<CoreType> flat;
  flatten_one(d, v, flat, SIZE_MAX);
  const uint32_t index = in.next().i32;
  std::vector<Value> payload;
  for (size_t k = 1; k < flat.size(); ++k) payload.push_back(in.next());
  if (index >= c.payload.size()) {
    return tl::unexpected(abi_trap("case " + std::to_string(index) + " of a " + val_kind_name(kind_of_def(def.kind)) +
                                   " with " + std::to_string(c.payload.size()) + " cases"));
  }
  Val out;
  out.kind = kind_of_def(def.kind);
  out.bits = index;
  if (c.payload[index] != nullptr) {
    std::vector<CoreType> want;
    flatten_one(d, *c.payload[index], want, SIZE_MAX);
    std::vector<Value> coerced;
    for (size_t k = 0; k < want.size(); ++k) {
      CoreType have = flat[k + 1];
      Value x = payload[k];
      Value y;
      if (have == want[k]) {
        y = x;
      } else if (want[k] == CoreType::kI32) {
        y = Value::I32(static_cast<uint32_t>(x.i64));  // i64 -> i32: wrap
      } else if (want[k] == CoreType::kF32) {
        uint32_t bits = have == CoreType::kI64 ? static_cast<uint32_t>(x.i64) : x.i32;
        float f;
        std::memcpy(&f, &bits, 4);
        y = Value::F32(f);
      } else {  // f64 from i64
        double f;
        std::memcpy(&f, &x.i64, 8);
        y = Value::F64(f);
      }
      coerced.push_back(y);
    }
    FlatIn sub{coerced.data(), coerced.size()};
    Val p{};
    WASMCAP_TRY_ASSIGN(p, lift_flat(cx, *c.payload[index], sub));
    out.items.push_back(std::move(p));
  }
  return out;
}

Value value_of(CoreType t, uint64_t raw) {
  switch (t) {
    case CoreType::kI64: return Value::I64(raw);
    default: return Value::I32(static_cast<uint32_t>(raw));
  }
}

Result<void> lower_flat(Cx& cx, const Val& val, const CValType& v, std::vector<Value>& out) {
  const Decoded& d = cx.d();
  Ty t = resolve(d, v);
  if (t.prim) {
    switch (t.p) {
      case Prim::kS64: case Prim::kU64: out.push_back(Value::I64(val.bits)); return {};
      case Prim::kF32: out.push_back(Value::F32(canon_f32(static_cast<float>(val.f)))); return {};
      case Prim::kF64: out.push_back(Value::F64(canon_f64(val.f))); return {};
      case Prim::kString: {
        std::pair<uint32_t, uint32_t> pl;
        WASMCAP_TRY_ASSIGN(pl, store_string_range(cx, val.str));
        out.push_back(Value::I32(pl.first));
        out.push_back(Value::I32(pl.second));
        return {};
      }
      default: out.push_back(Value::I32(static_cast<uint32_t>(val.bits))); return {};
    }
  }
  const TypeDef& def = *t.def;
  switch (def.kind) {
    case TypeKind::kList: {
      std::pair<uint32_t, uint32_t> pl;
        WASMCAP_TRY_ASSIGN(pl, store_list_range(cx, val, def.a));
      out.push_back(Value::I32(pl.first));
      out.push_back(Value::I32(pl.second));
      return {};
    }
    case TypeKind::kRecord: case TypeKind::kTuple:
      for (size_t i = 0; i < def.fields.size(); ++i) WASMCAP_TRY(lower_flat(cx, val.items[i], def.fields[i].type, out));
      return {};
    case TypeKind::kFlags: out.push_back(Value::I32(static_cast<uint32_t>(val.bits))); return {};
    case TypeKind::kOwn: {
      uint32_t h{};
      WASMCAP_TRY_ASSIGN(h, lower_own(cx, val, def.resource));
      out.push_back(Value::I32(h));
      return {};
    }
    case TypeKind::kBorrow: {
      uint32_t h{};
      WASMCAP_TRY_ASSIGN(h, lower_borrow(cx, val, def.resource));
      out.push_back(Value::I32(h));
      return {};
    }
    default: break;
  }
  Cases c = cases_of(def);
  std::vector<CoreType> flat;
  flatten_one(d, v, flat, SIZE_MAX);
  const uint32_t index = static_cast<uint32_t>(val.bits);
  out.push_back(Value::I32(index));
  size_t k = 1;
  if (c.payload[index] != nullptr) {
    std::vector<Value> payload;
    WASMCAP_TRY(lower_flat(cx, val.items[0], *c.payload[index], payload));
    for (const Value& x : payload) {
      CoreType want = flat[k++];
      if (x.type == want) {
        out.push_back(x);
      } else if (want == CoreType::kI32) {  // f32 -> i32
        uint32_t bits;
        std::memcpy(&bits, &x.f32, 4);
        out.push_back(Value::I32(bits));
      } else {  // -> i64
        uint64_t bits = 0;
        if (x.type == CoreType::kI32) bits = x.i32;
        else if (x.type == CoreType::kF32) { uint32_t b; std::memcpy(&b, &x.f32, 4); bits = b; }
        else std::memcpy(&bits, &x.f64, 8);
        out.push_back(Value::I64(bits));
      }
    }
  }
  for (; k < flat.size(); ++k) out.push_back(value_of(flat[k], 0));
  return {};
}

// The tuple type of a parameter or result list, for spilling: its alignment and size.
std::pair<uint32_t, uint64_t> tuple_layout(const Decoded& d, const std::vector<CValType>& ts) {
  uint64_t size = 0;
  uint32_t align = 1;
  for (const CValType& t : ts) {
    uint32_t a = align_of(d, t);
    size = align_to(size, a) + size_of(d, t);
    align = std::max(align, a);
  }
  return {align, align_to(size, align)};
}

}  // namespace

Error abi_trap(std::string what) {
  return Error{ErrorCode::kTrapHost, "component: canonical ABI: " + what};
}
Error abi_oob(std::string what) {
  return Error{ErrorCode::kTrapMemoryOutOfBounds, "component: canonical ABI: " + what};
}

Error host_result_error(const HostCallResult& r) {
  if (r.status == HostStatus::kTrap) return Error{ErrorCode::kTrapHost, r.message};
  return Error{r.error_code, r.message};
}

std::vector<CoreType> flatten(const Decoded& d, const std::vector<CValType>& ts, size_t cap) {
  std::vector<CoreType> out;
  for (const CValType& t : ts) {
    if (out.size() > cap) break;
    flatten_one(d, t, out, cap);
  }
  return out;
}

FuncSig core_signature(const Decoded& d, const TypeDef& ft, bool lift) {
  std::vector<CValType> params, results;
  for (const Field& f : ft.fields) params.push_back(f.type);
  if (ft.has_a) results.push_back(ft.a);
  FuncSig sig;
  sig.params = flatten(d, params, kMaxFlatParams);
  sig.results = flatten(d, results, kMaxFlatResults);
  if (sig.params.size() > kMaxFlatParams) sig.params = {CoreType::kI32};
  if (sig.results.size() > kMaxFlatResults) {
    if (lift) {
      sig.results = {CoreType::kI32};
    } else {
      sig.params.push_back(CoreType::kI32);
      sig.results.clear();
    }
  }
  return sig;
}

Result<std::vector<Val>> lift_values(Cx& cx, const std::vector<CValType>& types, const Value* flat, size_t n,
                                     size_t max_flat) {
  const Decoded& d = cx.d();
  std::vector<Val> out;
  if (flatten(d, types, max_flat).size() > max_flat) {
    if (n == 0) return tl::unexpected(abi_trap("no pointer to values spilled to memory"));
    auto [align, size] = tuple_layout(d, types);
    uint64_t ptr = flat[0].i32;
    WASMCAP_TRY(check_range(cx, ptr, size, align, "spilled values"));
    for (const CValType& t : types) {
      ptr = align_to(ptr, align_of(d, t));
      Val v{};
      WASMCAP_TRY_ASSIGN(v, load(cx, t, ptr));
      out.push_back(std::move(v));
      ptr += size_of(d, t);
    }
    return out;
  }
  FlatIn in{flat, n};
  for (const CValType& t : types) {
    Val v{};
    WASMCAP_TRY_ASSIGN(v, lift_flat(cx, t, in));
    out.push_back(std::move(v));
  }
  return out;
}

Result<std::vector<Value>> lower_values(Cx& cx, const std::vector<CValType>& types, const std::vector<Val>& vals,
                                        size_t max_flat, const Value* out_ptr) {
  const Decoded& d = cx.d();
  std::vector<Value> out;
  if (flatten(d, types, max_flat).size() > max_flat) {
    auto [align, size] = tuple_layout(d, types);
    uint64_t ptr;
    if (out_ptr != nullptr) {
      ptr = out_ptr->i32;
    } else {
      uint32_t p{};
      WASMCAP_TRY_ASSIGN(p, allocate(cx, align, size, "spilled values"));
      ptr = p;
      out.push_back(Value::I32(p));
    }
    WASMCAP_TRY(check_range(cx, ptr, size, align, "spilled values"));
    for (size_t i = 0; i < types.size(); ++i) {
      ptr = align_to(ptr, align_of(d, types[i]));
      WASMCAP_TRY(store(cx, vals[i], types[i], ptr));
      ptr += size_of(d, types[i]);
    }
    return out;
  }
  for (size_t i = 0; i < types.size(); ++i) WASMCAP_TRY(lower_flat(cx, vals[i], types[i], out));
  return out;
}

Result<void> check_val(const Decoded& d, const Val& v, const CValType& ty, const std::string& where) {
  Ty t = resolve(d, ty);
  const ValKind want = kind_of(t);
  auto bad = [&](const std::string& why) -> Result<void> {
    return make_error(ErrorCode::kInvalidArgument, where + ": " + why);
  };
  if (v.kind != want) {
    return bad(std::string("a ") + val_kind_name(v.kind) + " given for a " + type_name(d, ty));
  }
  if (t.prim) {
    switch (t.p) {
      case Prim::kBool: return v.bits <= 1 ? Result<void>{} : bad("a bool is 0 or 1");
      case Prim::kU8: return v.bits <= 0xff ? Result<void>{} : bad("u8 out of range");
      case Prim::kU16: return v.bits <= 0xffff ? Result<void>{} : bad("u16 out of range");
      case Prim::kU32: return v.bits <= 0xffffffffu ? Result<void>{} : bad("u32 out of range");
      case Prim::kS8: return v.as_signed() >= -128 && v.as_signed() <= 127 ? Result<void>{} : bad("s8 out of range");
      case Prim::kS16:
        return v.as_signed() >= -32768 && v.as_signed() <= 32767 ? Result<void>{} : bad("s16 out of range");
      case Prim::kS32:
        return v.as_signed() >= INT32_MIN && v.as_signed() <= INT32_MAX ? Result<void>{} : bad("s32 out of range");
      case Prim::kChar:
        return utf8::is_scalar_value(v.bits) ? Result<void>{} : bad("char is not a Unicode scalar value");
      case Prim::kString:
        return valid_utf8(reinterpret_cast<const uint8_t*>(v.str.data()), v.str.size()) ? Result<void>{}
                                                                                          : bad("string is not UTF-8");
      default: return {};
    }
  }
  const TypeDef& def = *t.def;
  switch (def.kind) {
    case TypeKind::kList:
      for (size_t i = 0; i < v.items.size(); ++i) {
        WASMCAP_TRY(check_val(d, v.items[i], def.a, where + "[" + std::to_string(i) + "]"));
      }
      return {};
    case TypeKind::kRecord: case TypeKind::kTuple:
      if (v.items.size() != def.fields.size()) {
        return bad(std::to_string(v.items.size()) + " fields given for " + std::to_string(def.fields.size()));
      }
      for (size_t i = 0; i < v.items.size(); ++i) {
        WASMCAP_TRY(check_val(d, v.items[i], def.fields[i].type,
                              where + "." + (def.kind == TypeKind::kRecord ? def.fields[i].name : std::to_string(i))));
      }
      return {};
    case TypeKind::kFlags:
      return def.fields.size() >= 32 || v.bits < (uint64_t{1} << def.fields.size()) ? Result<void>{}
                                                                                  : bad("flags beyond the labels");
    case TypeKind::kOwn: case TypeKind::kBorrow:
      return v.resource != nullptr && v.bits <= 0xffffffffu ? Result<void>{} : bad("a handle without a resource type");
    default: break;
  }
  Cases c = cases_of(def);
  if (v.bits >= c.payload.size()) return bad("case " + std::to_string(v.bits) + " out of range");
  const CValType* p = c.payload[v.bits];
  if (def.kind == TypeKind::kEnum) return v.items.empty() ? Result<void>{} : bad("an enum has no payload");
  if ((p != nullptr) != (v.items.size() == 1) || v.items.size() > 1) return bad("payload does not match the case");
  if (p != nullptr) return check_val(d, v.items[0], *p, where + ".payload");
  return {};
}

}  // namespace wasmcap::component

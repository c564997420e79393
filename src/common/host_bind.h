// Host functions bound from C++ members, with each import's wasm signature derived from the
// member's parameter and result types, so a module's table of imports cannot drift from the
// functions that implement them (the WASI host, src/wasi/register.cc, and the wasmcap_https
// ABI, src/https/abi/abi.cc, both bind through it).
//
// A member that serves an import looks like
//
//   ResultT Host::name(Ctx ctx, A1 a1, A2 a2, ...);
//
// where Ctx is `const GuestMemory&` (the guest's memory as it is during the call) or
// `HostContext&` (memory, limits and fuel), each A is uint32_t/int32_t (i32), uint64_t/int64_t
// (i64), float (f32) or double (f64), and ResultT is void (no result) or one of those types, or
// an integral enum (an errno: i32 when it fits 32 bits). Binding `&Host::name` gives constant
// data: the wasm parameter and result types and one plain function that converts the call's
// Values, calls the member and stores its result. What happens around the call (a per-call
// context, ending the run) is the binding module's own callback.
#pragma once

#include <cstddef>
#include <cstdint>
#include <type_traits>
#include <utility>

#include "wasmcap/engine.h"

namespace wasmcap::host_bind {

// The wasm type a C++ parameter or result type crosses the boundary as.
template <class T>
constexpr ValType wasm_type_of() {
  if constexpr (std::is_enum_v<T>) {
    return wasm_type_of<std::underlying_type_t<T>>();
  } else if constexpr (std::is_same_v<T, float>) {
    return ValType::kF32;
  } else if constexpr (std::is_same_v<T, double>) {
    return ValType::kF64;
  } else {
    static_assert(std::is_integral_v<T> && sizeof(T) <= 8 && !std::is_same_v<T, bool>,
                  "a bound host member takes and returns 32/64-bit integers, float or double");
    return sizeof(T) <= 4 ? ValType::kI32 : ValType::kI64;
  }
}

// The C++ value of a wasm argument (its declared type is wasm_type_of<T>()).
template <class T>
T arg_as(const Value& v) {
  if constexpr (std::is_same_v<T, float>) {
    return v.f32;
  } else if constexpr (std::is_same_v<T, double>) {
    return v.f64;
  } else if constexpr (sizeof(T) <= 4) {
    return static_cast<T>(v.i32);
  } else {
    return static_cast<T>(v.i64);
  }
}

// The wasm Value of a C++ result.
template <class R>
Value result_of(R r) {
  if constexpr (std::is_enum_v<R>) {
    return result_of(static_cast<std::underlying_type_t<R>>(r));
  } else if constexpr (std::is_same_v<R, float>) {
    return Value::F32(r);
  } else if constexpr (std::is_same_v<R, double>) {
    return Value::F64(r);
  } else if constexpr (sizeof(R) <= 4) {
    return Value::I32(static_cast<uint32_t>(r));
  } else {
    return Value::I64(static_cast<uint64_t>(r));
  }
}

// The call's context as the member takes it.
template <class Ctx>
decltype(auto) context_as(HostContext& ctx) {
  if constexpr (std::is_same_v<Ctx, HostContext&>) {
    return (ctx);
  } else {
    static_assert(std::is_same_v<Ctx, const GuestMemory&>,
                  "a bound host member's first parameter is HostContext& or const GuestMemory&");
    return static_cast<const GuestMemory&>(ctx.memory);
  }
}

// Calls a bound member: converts args (as many as it has parameters), stores its result (if it
// has one) in results[0].
template <class Host>
using Invoke = void (*)(Host& host, HostContext& ctx, const Value* args, Value* results);

template <auto Method>
struct Member;

template <class Host, class R, class Ctx, class... A, R (Host::*Method)(Ctx, A...)>
struct Member<Method> {
  using HostType = Host;
  // The wasm types (one spare entry each: no zero-length arrays).
  static constexpr ValType kParams[] = {wasm_type_of<A>()..., ValType::kI32};
  static constexpr size_t kParamCount = sizeof...(A);
  static constexpr ValType kResults[] = {
      [] {
        if constexpr (std::is_void_v<R>) {
          return ValType::kI32;
        } else {
          return wasm_type_of<R>();
        }
      }()};
  static constexpr size_t kResultCount = std::is_void_v<R> ? 0 : 1;

  template <size_t... I>
  static void call(Host& host, HostContext& ctx, const Value* args, Value* results,
                   std::index_sequence<I...>) {
    (void)args;  // a member without parameters reads none
    if constexpr (std::is_void_v<R>) {
      (void)results;
      (host.*Method)(context_as<Ctx>(ctx), arg_as<A>(args[I])...);
    } else {
      results[0] = result_of((host.*Method)(context_as<Ctx>(ctx), arg_as<A>(args[I])...));
    }
  }

  static void invoke(Host& host, HostContext& ctx, const Value* args, Value* results) {
    call(host, ctx, args, results, std::index_sequence_for<A...>{});
  }
};

// One import as constant data: its name, the member that serves it, its wasm signature.
template <class Host>
struct Import {
  const char* name;
  Invoke<Host> invoke;
  const ValType* params;
  size_t param_count;
  const ValType* results;
  size_t result_count;

  FuncSig sig() const {
    FuncSig s;
    s.params.assign(params, params + param_count);
    s.results.assign(results, results + result_count);
    return s;
  }
};

}  // namespace wasmcap::host_bind

// An Import<Host> entry for member Host::MEMBER, named NAME in wasm (the same name but for an
// import whose meaning differs between two versions of one ABI: wasi_unstable's fd_seek).
#define WASMCAP_BIND_IMPORT_AS(Host, NAME, MEMBER)                                         \
  ::wasmcap::host_bind::Import<Host> {                                                     \
    #NAME, &::wasmcap::host_bind::Member<&Host::MEMBER>::invoke,                           \
        ::wasmcap::host_bind::Member<&Host::MEMBER>::kParams,                              \
        ::wasmcap::host_bind::Member<&Host::MEMBER>::kParamCount,                          \
        ::wasmcap::host_bind::Member<&Host::MEMBER>::kResults,                             \
        ::wasmcap::host_bind::Member<&Host::MEMBER>::kResultCount                          \
  }

// An Import<Host> entry for member Host::NAME, named NAME in wasm: use inside a constant table
// built from an X-macro list of names (one list, many uses).
#define WASMCAP_BIND_IMPORT(Host, NAME) WASMCAP_BIND_IMPORT_AS(Host, NAME, NAME)

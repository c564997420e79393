// What the engines that read modules with wabt share (the fast interpreter, the AOT translator and
// module description, and the tests' wabt oracle, tests/support/wabt_engine): the feature set they
// load with and the conversions from wabt's types to wasmcap's. Include only from translation
// units that already use wabt's headers (C++17).
#pragma once

#include <string>

#include "wabt/common.h"
#include "wabt/error.h"
#include "wabt/feature.h"
#include "wabt/type.h"
#include "wasmcap/engine.h"

namespace wasmcap::engine_wabt {

// WebAssembly 2.0 as current Go, Rust, C and C++ toolchains produce it. Exception handling is not
// in it: each engine says what it does with that (runs it, refuses it by name).
inline wabt::Features wasm2_features() {
  wabt::Features f;
  f.enable_mutable_globals();
  f.enable_sat_float_to_int();
  f.enable_sign_extension();
  f.enable_simd();
  f.enable_multi_value();
  f.enable_bulk_memory();
  f.enable_reference_types();
  return f;
}

inline ValType from_wabt(wabt::Type t) {
  switch (t) {
    case wabt::Type::I32: return ValType::kI32;
    case wabt::Type::I64: return ValType::kI64;
    case wabt::Type::F32: return ValType::kF32;
    case wabt::Type::F64: return ValType::kF64;
    case wabt::Type::V128: return ValType::kV128;
    case wabt::Type::FuncRef: return ValType::kFuncRef;
    default: return ValType::kExternRef;
  }
}

inline MemoryLimits limits_from(const wabt::Limits& l) {
  MemoryLimits m;
  m.min_pages = l.initial;
  m.max_pages = l.max;
  m.has_max = l.has_max;
  m.is64 = l.is_64;
  m.shared = l.is_shared;
  return m;
}

// A module wabt's reader refused: module_malformed with wabt's first error and its byte offset
// (the AOT engine's description and the wabt oracle give the same text).
inline Error invalid_module_error(const wabt::Errors& errors) {
  std::string msg = "invalid module";
  if (!errors.empty()) {
    msg += ": " + errors.front().message;
    msg += " (at byte offset " + std::to_string(errors.front().loc.offset) + ")";
  }
  return Error(ErrorCode::kModuleMalformed, std::move(msg));
}

// The refusal of a module that uses exception handling by an engine that does not run it: the
// AOT engine (its description, describe.cc) and the wabt oracle (wabt 1.0.32's interpreter runs it
// wrongly and can abort the process: an assertion in Thread::Pick when a catch lands in a
// function with declared locals; docs/fast-interp.md, "Exceptions").
inline Error exceptions_unsupported_error() {
  return Error(ErrorCode::kModuleUnsupported,
               "the module uses exception handling, which this engine does not run; run it with "
               "--engine interp");
}

inline ExternKind kind_from(wabt::ExternalKind k) {
  switch (k) {
    case wabt::ExternalKind::Func: return ExternKind::kFunc;
    case wabt::ExternalKind::Table: return ExternKind::kTable;
    case wabt::ExternalKind::Memory: return ExternKind::kMemory;
    case wabt::ExternalKind::Global: return ExternKind::kGlobal;
    case wabt::ExternalKind::Tag: return ExternKind::kTag;
  }
  return ExternKind::kFunc;
}

}  // namespace wasmcap::engine_wabt

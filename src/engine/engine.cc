#include "wasmcap/engine.h"

#include <cstdio>
#include <cstring>
#include <string>

#include "component/component.h"

namespace wasmcap {

std::string_view val_type_name(ValType t) {
  switch (t) {
    case ValType::kI32: return "i32";
    case ValType::kI64: return "i64";
    case ValType::kF32: return "f32";
    case ValType::kF64: return "f64";
    case ValType::kV128: return "v128";
    case ValType::kFuncRef: return "funcref";
    case ValType::kExternRef: return "externref";
  }
  return "?";
}

std::string_view extern_kind_name(ExternKind k) {
  switch (k) {
    case ExternKind::kFunc: return "func";
    case ExternKind::kTable: return "table";
    case ExternKind::kMemory: return "memory";
    case ExternKind::kGlobal: return "global";
    case ExternKind::kTag: return "tag";
  }
  return "?";
}

std::string FuncSig::to_string() const {
  auto list = [](const std::vector<ValType>& v) {
    std::string s = "(";
    for (size_t i = 0; i < v.size(); ++i) {
      if (i) s += ", ";
      s += val_type_name(v[i]);
    }
    return s + ")";
  };
  return list(params) + " -> " + list(results);
}

const ExportDesc* ModuleInfo::find_export(std::string_view name) const {
  for (const auto& e : exports) {
    if (e.name == name) return &e;
  }
  return nullptr;
}

Result<void> check_call_args(std::string_view export_name, const FuncSig& sig,
                             const std::vector<Value>& args) {
  if (args.size() != sig.params.size()) {
    return make_error(ErrorCode::kInvalidArgument,
                      "export " + quote_untrusted(export_name) + " takes " +
                          std::to_string(sig.params.size()) + " arguments, got " +
                          std::to_string(args.size()));
  }
  for (size_t i = 0; i < args.size(); ++i) {
    ValType want = sig.params[i];
    bool passable = want == ValType::kI32 || want == ValType::kI64 || want == ValType::kF32 ||
                    want == ValType::kF64 || want == ValType::kV128;
    if (args[i].type != want || !passable) {
      return make_error(ErrorCode::kInvalidArgument,
                        "export " + quote_untrusted(export_name) + " argument " +
                            std::to_string(i) + " must be " + std::string(val_type_name(want)) +
                            ", got " + std::string(val_type_name(args[i].type)));
    }
  }
  return {};
}

std::shared_ptr<wasmcap_memory_pool> make_memory_pool(uint64_t max_bytes) {
  auto pool = std::make_shared<wasmcap_memory_pool>();
  pool->max_pages = max_bytes / kWasmPageSize;
  return pool;
}

Error deadline_error(const ExecLimits& limits, std::string_view during) {
  const std::string where = during.empty() ? std::string() : " during " + std::string(during);
  if (limits.interrupt != nullptr && limits.interrupt->load(std::memory_order_relaxed)) {
    return Error(ErrorCode::kDeadlineExceeded, "execution interrupted by the host" + where);
  }
  return Error(ErrorCode::kDeadlineExceeded,
               "wall-clock deadline exceeded" + where + "; raise --timeout-ms");
}

void HostFuncTable::add(HostFunc f) {
  for (auto& existing : funcs_) {
    if (existing.module == f.module && existing.name == f.name) {
      existing = std::move(f);
      return;
    }
  }
  funcs_.push_back(std::move(f));
}

const HostFunc* HostFuncTable::find(std::string_view module, std::string_view name) const {
  for (const auto& f : funcs_) {
    if (f.module == module && f.name == name) return &f;
  }
  return nullptr;
}

bool HostFuncTable::has_module(std::string_view module) const {
  for (const auto& f : funcs_) {
    if (f.module == module) return true;
  }
  for (const auto& e : externs_) {
    if (e.module == module) return true;
  }
  return false;
}

void HostFuncTable::add_extern(std::string module, std::string name,
                               std::shared_ptr<SharedExtern> ext) {
  for (auto& existing : externs_) {
    if (existing.module == module && existing.name == name) {
      existing.ext = std::move(ext);
      return;
    }
  }
  externs_.push_back(NamedExtern{std::move(module), std::move(name), std::move(ext)});
}

std::shared_ptr<SharedExtern> HostFuncTable::find_extern(std::string_view module,
                                                         std::string_view name) const {
  for (const auto& e : externs_) {
    if (e.module == module && e.name == name) return e.ext;
  }
  return nullptr;
}

}  // namespace wasmcap

namespace wasmcap {

Result<void> check_module_preamble(const uint8_t* bytes, size_t size) {
  if (size < 8 || bytes == nullptr || std::memcmp(bytes, "\0asm", 4) != 0) {
    return make_error(ErrorCode::kModuleMalformed, "not a WebAssembly binary (missing \\0asm magic)");
  }
  // After the magic: a 16-bit version and a 16-bit layer, little-endian (the component model
  // split the old 32-bit version field). Core modules are version 1, layer 0.
  uint32_t version = bytes[4] | bytes[5] << 8;
  uint32_t layer = bytes[6] | bytes[7] << 8;
  if (layer == 1) {
    // A component: decoded and validated (src/component), so that a malformed one gets the
    // decoder's error and a valid one the imports a host would need. The run pipeline runs
    // components before any engine load sees them (src/runtime/component_run.cc); every other
    // front end stops here.
    char v[8];
    std::snprintf(v, sizeof v, "%02x", version);
    auto decoded = component::decode(bytes, size);
    if (!decoded) return tl::unexpected(decoded.error());
    return make_error(ErrorCode::kModuleUnsupported,
                      std::string("this is a WebAssembly component (WASI Preview 2, component binary "
                                  "version 0x") +
                          v + "): components run under `wasmcap run`, `call`, `plan`, `sh`, `mcp` "
                          "and the C API (docs/components.md); this command takes WASI Preview 1 core "
                          "modules. It needs " +
                          component::describe_imports(*decoded, 20));
  }
  if (version != 1 || layer != 0) {
    char b[16];
    std::snprintf(b, sizeof b, "0x%02x%02x%02x%02x", bytes[7], bytes[6], bytes[5], bytes[4]);
    return make_error(ErrorCode::kModuleMalformed,
                      std::string("unsupported WebAssembly binary version ") + b +
                          " (wasmcap runs core modules of version 1)");
  }
  return {};
}

}  // namespace wasmcap

#include "wasmcap/engine.h"

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
  return false;
}

}  // namespace wasmcap

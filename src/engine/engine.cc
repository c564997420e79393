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

// Runs one converted file of the WebAssembly core specification tests against a wasmcap engine.
//
// Input: the JSON command list written by wabt's `wast2json FILE.wast -o DIR/NAME.json` (plus the
// .wasm files beside it). Every command type is executed through the public Engine interface
// (load / instantiate / Instance::call / Instance::get_global), so this checks wasmcap's backend
// wrappers — value conversion, trap mapping, limits slicing, validation — not just wabt.
//
// The `spectest` host module's functions (print*) are host functions; its memory, table and
// globals are the exports of a module instantiated on the engine under test (kSpectest). A
// registered module's exported functions are linked into later modules as host functions that
// call into it, and its traps propagate with their codes; its memories, tables and globals are
// shared with the modules that import them (Instance::export_extern, HostFuncTable::add_extern).
// What the engine cannot link is SKIPPED, counted by reason, never passed: modules importing a
// kind the engine does not share (all of them on aot, tables on interp), reference-typed values
// at the host boundary, and text-format modules of assert_malformed/assert_invalid (wast2json
// leaves them as .wat; only binary ones are checked).
//
// Output: one line per failure ("FILE:LINE: problem"), then a summary line
//   "spec NAME: passed P failed F skipped S (reason=count, ...)".
// Exit status 0 when nothing failed, 1 otherwise, 2 on usage/IO errors.
//
// Usage: wasmcap-spectest --engine interp FILE.json
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "wasmcap/engine.h"
#include "wasmcap/runtime.h"

namespace {

using wasmcap::ErrorCode;
using wasmcap::Value;
using wasmcap::ValType;
using Json = nlohmann::json;

struct Counts {
  uint64_t passed = 0;
  uint64_t failed = 0;
  std::map<std::string, uint64_t> skipped;
};

// Why a value cannot cross the host boundary, or "" when it can.
std::string unsupported_value(const Json& v) {
  std::string t = v.at("type").get<std::string>();
  if (t == "i32" || t == "i64" || t == "f32" || t == "f64" || t == "v128") return "";
  return "reference values at the host boundary";
}

uint64_t parse_u64(const std::string& s) { return std::stoull(s, nullptr, 10); }

// Lane width in bytes for a v128 lane type.
int lane_bytes(const std::string& lane) {
  if (lane == "i8") return 1;
  if (lane == "i16") return 2;
  if (lane == "i32" || lane == "f32") return 4;
  return 8;  // i64, f64
}

// An argument value (no NaN patterns in arguments: wast2json writes their bits).
Value make_value(const Json& v) {
  std::string t = v.at("type").get<std::string>();
  if (t == "i32") return Value::I32(static_cast<uint32_t>(parse_u64(v.at("value"))));
  if (t == "i64") return Value::I64(parse_u64(v.at("value")));
  if (t == "f32") {
    uint32_t bits = static_cast<uint32_t>(parse_u64(v.at("value")));
    float f;
    std::memcpy(&f, &bits, 4);
    return Value::F32(f);
  }
  if (t == "f64") {
    uint64_t bits = parse_u64(v.at("value"));
    double d;
    std::memcpy(&d, &bits, 8);
    return Value::F64(d);
  }
  // v128
  std::string lane = v.at("lane_type").get<std::string>();
  int w = lane_bytes(lane);
  uint8_t bytes[16] = {};
  const Json& lanes = v.at("value");
  for (size_t i = 0; i < lanes.size(); ++i) {
    uint64_t x = parse_u64(lanes[i].get<std::string>());
    for (int b = 0; b < w; ++b) bytes[i * w + b] = static_cast<uint8_t>(x >> (8 * b));
  }
  return Value::V128(bytes);
}

bool is_canonical_nan32(uint32_t bits) { return (bits & 0x7fffffffu) == 0x7fc00000u; }
bool is_arithmetic_nan32(uint32_t bits) { return (bits & 0x7fc00000u) == 0x7fc00000u; }
bool is_canonical_nan64(uint64_t bits) {
  return (bits & 0x7fffffffffffffffull) == 0x7ff8000000000000ull;
}
bool is_arithmetic_nan64(uint64_t bits) {
  return (bits & 0x7ff8000000000000ull) == 0x7ff8000000000000ull;
}

// Checks one scalar lane/value of `width` bytes (bits in `got`) against an expected string.
bool lane_matches(const std::string& type, const std::string& expected, uint64_t got) {
  if (expected == "nan:canonical") {
    return type == "f32" ? is_canonical_nan32(static_cast<uint32_t>(got)) : is_canonical_nan64(got);
  }
  if (expected == "nan:arithmetic") {
    return type == "f32" ? is_arithmetic_nan32(static_cast<uint32_t>(got))
                         : is_arithmetic_nan64(got);
  }
  return parse_u64(expected) == got;
}

std::string value_to_string(const Value& v) {
  std::ostringstream o;
  switch (v.type) {
    case ValType::kI32: o << "i32:" << v.i32; break;
    case ValType::kI64: o << "i64:" << v.i64; break;
    case ValType::kF32: {
      uint32_t b;
      std::memcpy(&b, &v.f32, 4);
      o << "f32:0x" << std::hex << b;
      break;
    }
    case ValType::kF64: {
      uint64_t b;
      std::memcpy(&b, &v.f64, 8);
      o << "f64:0x" << std::hex << b;
      break;
    }
    case ValType::kV128: {
      o << "v128:";
      for (int i = 15; i >= 0; --i) {
        char buf[3];
        std::snprintf(buf, sizeof buf, "%02x", v.v128[i]);
        o << buf;
      }
      break;
    }
    default: o << "ref"; break;
  }
  return o.str();
}

// "" when `got` matches `expected`, else a description of the difference.
std::string check_value(const Json& expected, const Value& got) {
  std::string t = expected.at("type").get<std::string>();
  std::string want = t == "v128" ? "v128" : expected.at("value").get<std::string>();
  auto type_of = [](ValType vt) { return std::string(wasmcap::val_type_name(vt)); };
  if (type_of(got.type) != t) return "expected type " + t + ", got " + value_to_string(got);
  bool ok = true;
  if (t == "i32") ok = lane_matches(t, want, got.i32);
  if (t == "i64") ok = lane_matches(t, want, got.i64);
  if (t == "f32") {
    uint32_t b;
    std::memcpy(&b, &got.f32, 4);
    ok = lane_matches(t, want, b);
  }
  if (t == "f64") {
    uint64_t b;
    std::memcpy(&b, &got.f64, 8);
    ok = lane_matches(t, want, b);
  }
  if (t == "v128") {
    std::string lane = expected.at("lane_type").get<std::string>();
    int w = lane_bytes(lane);
    const Json& lanes = expected.at("value");
    for (size_t i = 0; i < lanes.size() && ok; ++i) {
      uint64_t x = 0;
      for (int b = 0; b < w; ++b) x |= uint64_t{got.v128[i * w + b]} << (8 * b);
      ok = lane_matches(lane, lanes[i].get<std::string>(), x);
    }
    if (!ok) return "expected " + expected.dump() + ", got " + value_to_string(got);
    return "";
  }
  return ok ? "" : "expected " + t + ":" + want + ", got " + value_to_string(got);
}

// The error codes a spec trap message may map to. The spec's texts are the contract; wasmcap's
// codes must agree with them (a wrong mapping is a failure, not a pass).
std::vector<ErrorCode> codes_for_trap_text(const std::string& text) {
  auto has = [&](const char* s) { return text.find(s) != std::string::npos; };
  if (has("integer divide by zero")) return {ErrorCode::kTrapIntegerDivideByZero};
  if (has("integer overflow")) return {ErrorCode::kTrapIntegerOverflow};
  if (has("invalid conversion")) return {ErrorCode::kTrapInvalidConversion};
  if (has("out of bounds memory access")) return {ErrorCode::kTrapMemoryOutOfBounds};
  if (has("indirect call type mismatch")) return {ErrorCode::kTrapIndirectCallMismatch};
  if (has("uninitialized element") || has("uninitialized")) {
    return {ErrorCode::kTrapIndirectCallNull};
  }
  if (has("undefined element") || has("out of bounds table access")) {
    return {ErrorCode::kTrapTableOutOfBounds};
  }
  if (has("unreachable")) return {ErrorCode::kTrapUnreachable};
  if (has("call stack exhausted")) return {ErrorCode::kTrapStackExhausted};
  return {};  // unknown text: any trap code is accepted
}

// The spectest module's memory, table and globals (the spec interpreter's values), exported by a
// module the runner instantiates on the engine under test:
//   (module (global (export "global_i32") i32 (i32.const 666))
//           (global (export "global_i64") i64 (i64.const 666))
//           (global (export "global_f32") f32 (f32.const 666.6))
//           (global (export "global_f64") f64 (f64.const 666.6))
//           (table (export "table") 10 20 funcref) (memory (export "memory") 1 2))
const uint8_t kSpectest[] = {
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x04, 0x05, 0x01, 0x70, 0x01, 0x0a, 0x14,
    0x05, 0x04, 0x01, 0x01, 0x01, 0x02, 0x06, 0x21, 0x04, 0x7f, 0x00, 0x41, 0x9a, 0x05, 0x0b,
    0x7e, 0x00, 0x42, 0x9a, 0x05, 0x0b, 0x7d, 0x00, 0x43, 0x66, 0xa6, 0x26, 0x44, 0x0b, 0x7c,
    0x00, 0x44, 0xcd, 0xcc, 0xcc, 0xcc, 0xcc, 0xd4, 0x84, 0x40, 0x0b, 0x07, 0x46, 0x06, 0x0a,
    0x67, 0x6c, 0x6f, 0x62, 0x61, 0x6c, 0x5f, 0x69, 0x33, 0x32, 0x03, 0x00, 0x0a, 0x67, 0x6c,
    0x6f, 0x62, 0x61, 0x6c, 0x5f, 0x69, 0x36, 0x34, 0x03, 0x01, 0x0a, 0x67, 0x6c, 0x6f, 0x62,
    0x61, 0x6c, 0x5f, 0x66, 0x33, 0x32, 0x03, 0x02, 0x0a, 0x67, 0x6c, 0x6f, 0x62, 0x61, 0x6c,
    0x5f, 0x66, 0x36, 0x34, 0x03, 0x03, 0x05, 0x74, 0x61, 0x62, 0x6c, 0x65, 0x01, 0x00, 0x06,
    0x6d, 0x65, 0x6d, 0x6f, 0x72, 0x79, 0x02, 0x00};

class Runner {
 public:
  Runner(wasmcap::Engine& engine, std::filesystem::path dir, std::string name)
      : engine_(engine), dir_(std::move(dir)), name_(std::move(name)) {
    add_spectest();
  }

  int run(const Json& doc) {
    for (const Json& c : doc.at("commands")) command(c);
    std::cout << "spec " << name_ << ": passed " << counts_.passed << " failed " << counts_.failed
              << " skipped " << total_skipped();
    if (!counts_.skipped.empty()) {
      std::cout << " (";
      bool first = true;
      for (const auto& [why, n] : counts_.skipped) {
        std::cout << (first ? "" : ", ") << why << "=" << n;
        first = false;
      }
      std::cout << ")";
    }
    std::cout << "\n";
    return counts_.failed == 0 ? 0 : 1;
  }

 private:
  // An instance keeps the host table it was linked against: engines hold pointers into it.
  struct Loaded {
    std::shared_ptr<wasmcap::HostFuncTable> host;
    std::shared_ptr<const wasmcap::Module> module;
    std::unique_ptr<wasmcap::Instance> instance;
  };

  uint64_t total_skipped() const {
    uint64_t n = 0;
    for (const auto& [why, k] : counts_.skipped) n += k;
    return n;
  }

  void fail(int line, const std::string& what) {
    ++counts_.failed;
    std::cout << name_ << ".wast:" << line << ": " << what << "\n";
  }
  void skip(const std::string& why) { ++counts_.skipped[why]; }

  void add_spectest() {
    auto add = [&](const char* name, std::vector<ValType> params) {
      wasmcap::HostFunc f;
      f.module = "spectest";
      f.name = name;
      f.sig.params = std::move(params);
      f.callback = [](wasmcap::HostContext&, const Value*, Value*) {
        return wasmcap::HostCallResult::ok();
      };
      host_.add(std::move(f));
    };
    add("print", {});
    add("print_i32", {ValType::kI32});
    add("print_i64", {ValType::kI64});
    add("print_f32", {ValType::kF32});
    add("print_f64", {ValType::kF64});
    add("print_i32_f32", {ValType::kI32, ValType::kF32});
    add("print_f64_f64", {ValType::kF64, ValType::kF64});
    // The memory, table and globals, from an instance of kSpectest on the engine under test;
    // the kinds it shares are the kinds modules may import (the others are skipped).
    auto mod = engine_.load(kSpectest, sizeof kSpectest);
    if (!mod) return;
    wasmcap::HostFuncTable none;
    auto inst = engine_.instantiate(*mod, none, limits_);
    if (!inst) return;
    for (const auto& e : (*mod)->info().exports) {
      auto ext = (*inst)->export_extern(e.name);
      if (!ext) continue;
      host_.add_extern("spectest", e.name, *ext);
      shared_kinds_.insert(e.kind);
    }
    spectest_ = std::move(*inst);
  }

  // Why the module's imports cannot be linked through the engine interface, or "": a memory,
  // table or global of a kind this engine does not share, or one a skipped module registered.
  std::string unlinkable_kind(const wasmcap::ModuleInfo& info) const {
    for (const auto& imp : info.imports) {
      if (imp.kind == wasmcap::ExternKind::kFunc) continue;
      if (shared_kinds_.count(imp.kind) == 0 ||
          (host_.find_extern(imp.module, imp.name) == nullptr &&
           (skipped_registered_.count(imp.module) != 0 ||
            unshared_.count(imp.module + '\0' + imp.name) != 0))) {
        return std::string(wasmcap::extern_kind_name(imp.kind)) + " imports";
      }
    }
    return "";
  }

  static std::string sig_unsupported(const wasmcap::ModuleInfo& info) {
    for (const auto& imp : info.imports) {
      for (ValType t : imp.sig.params) {
        if (t == ValType::kFuncRef || t == ValType::kExternRef) return "reference-typed imports";
      }
      for (ValType t : imp.sig.results) {
        if (t == ValType::kFuncRef || t == ValType::kExternRef) return "reference-typed imports";
      }
    }
    return "";
  }

  wasmcap::Result<std::vector<uint8_t>> read(const std::string& file) {
    return wasmcap::read_file_bytes((dir_ / file).string());
  }

  // Loads and instantiates a module command's file. On success the module becomes current
  // (and named, when the command names it).
  void module_command(const Json& c) {
    int line = c.value("line", 0);
    current_.reset();
    auto bytes = read(c.at("filename").get<std::string>());
    if (!bytes) return fail(line, bytes.error().to_string());
    auto mod = engine_.load(bytes->data(), bytes->size());
    if (!mod) return fail(line, "module did not load: " + mod.error().to_string());
    if (std::string why = unlinkable_kind((*mod)->info()); !why.empty()) {
      skip("module with " + why);
      skipped_module_ = true;
      if (c.contains("name")) named_[c["name"].get<std::string>()] = nullptr;
      return;
    }
    if (std::string why = sig_unsupported((*mod)->info()); !why.empty()) {
      skip("module with " + why);
      skipped_module_ = true;
      if (c.contains("name")) named_[c["name"].get<std::string>()] = nullptr;
      return;
    }
    auto host = std::make_shared<wasmcap::HostFuncTable>(host_);
    auto inst = engine_.instantiate(*mod, *host, limits_);
    if (!inst) return fail(line, "module did not instantiate: " + inst.error().to_string());
    ++counts_.passed;
    auto loaded = std::make_shared<Loaded>(Loaded{host, *mod, std::move(*inst)});
    instances_.push_back(loaded);
    current_ = loaded;
    skipped_module_ = false;
    if (c.contains("name")) named_[c["name"].get<std::string>()] = loaded;
  }

  // The instance an action targets; nullptr when it was skipped (the reason is recorded).
  std::shared_ptr<Loaded> target(const Json& action, int line, bool* skipped) {
    *skipped = false;
    if (action.contains("module")) {
      auto it = named_.find(action["module"].get<std::string>());
      if (it == named_.end()) {
        fail(line, "unknown module " + action["module"].get<std::string>());
        return nullptr;
      }
      if (it->second == nullptr) *skipped = true;
      return it->second;
    }
    if (current_ == nullptr && skipped_module_) *skipped = true;
    if (current_ == nullptr && !*skipped) fail(line, "no current module");
    return current_;
  }

  // Runs an action; nullopt when it was skipped or failed to start (already recorded).
  std::optional<wasmcap::Result<std::vector<Value>>> action(const Json& a, int line) {
    bool skipped = false;
    auto inst = target(a, line, &skipped);
    if (skipped) {
      skip("action on a skipped module");
      return std::nullopt;
    }
    if (inst == nullptr) return std::nullopt;
    std::string field = a.at("field").get<std::string>();
    if (a.at("type") == "get") {
      auto v = inst->instance->get_global(field);
      if (!v) return wasmcap::Result<std::vector<Value>>(tl::unexpected(v.error()));
      return wasmcap::Result<std::vector<Value>>(std::vector<Value>{*v});
    }
    std::vector<Value> args;
    for (const Json& v : a.at("args")) {
      if (std::string why = unsupported_value(v); !why.empty()) {
        skip(why);
        return std::nullopt;
      }
      args.push_back(make_value(v));
    }
    auto out = inst->instance->call(field, args);
    if (!out) return wasmcap::Result<std::vector<Value>>(tl::unexpected(out.error()));
    if (out->exited) {
      return wasmcap::Result<std::vector<Value>>(tl::unexpected(
          wasmcap::Error(ErrorCode::kInternal, "guest exited during a spec action")));
    }
    return wasmcap::Result<std::vector<Value>>(std::move(out->results));
  }

  void register_command(const Json& c) {
    std::string as = c.at("as").get<std::string>();
    std::shared_ptr<Loaded> inst;
    if (c.contains("name")) {
      auto it = named_.find(c["name"].get<std::string>());
      if (it != named_.end()) inst = it->second;
    } else {
      inst = current_;
    }
    if (inst == nullptr) {
      skip("register of a skipped module");
      skipped_registered_.insert(as);
      return;
    }
    // Each exported memory, table and global is shared as `as`.NAME (when the engine shares
    // that kind; a module importing another kind is skipped).
    for (const auto& e : inst->module->info().exports) {
      if (e.kind == wasmcap::ExternKind::kFunc || shared_kinds_.count(e.kind) == 0) continue;
      auto ext = inst->instance->export_extern(e.name);
      if (ext) {
        host_.add_extern(as, e.name, *ext);
      } else {
        unshared_.insert(as + '\0' + e.name);  // e.g. a reference-typed global
      }
    }
    // Each exported function becomes a host function `as`.NAME that calls into the instance.
    // A trap inside it ends the caller's run with the same code.
    for (const auto& e : inst->module->info().exports) {
      if (e.kind != wasmcap::ExternKind::kFunc) continue;
      wasmcap::HostFunc f;
      f.module = as;
      f.name = e.name;
      f.sig = e.sig;
      std::string field = e.name;
      std::weak_ptr<Loaded> weak = inst;
      size_t nresults = e.sig.results.size();
      f.callback = [weak, field, nresults](wasmcap::HostContext&, const Value* args,
                                           Value* results) -> wasmcap::HostCallResult {
        auto target = weak.lock();
        if (!target) return wasmcap::HostCallResult::trap("registered module is gone");
        const auto& exports = target->module->info().exports;
        const wasmcap::ExportDesc* d = nullptr;
        for (const auto& x : exports) {
          if (x.name == field && x.kind == wasmcap::ExternKind::kFunc) d = &x;
        }
        if (d == nullptr) return wasmcap::HostCallResult::trap("export vanished");
        std::vector<Value> in(args, args + d->sig.params.size());
        auto out = target->instance->call(field, in);
        if (!out) return wasmcap::HostCallResult::fail(out.error());
        if (out->results.size() != nresults) return wasmcap::HostCallResult::trap("arity");
        for (size_t i = 0; i < nresults; ++i) results[i] = out->results[i];
        return wasmcap::HostCallResult::ok();
      };
      host_.add(std::move(f));
    }
    ++counts_.passed;
  }

  // Loads (and optionally instantiates) a module that must be refused. `stage` is "load" for
  // assert_invalid/assert_malformed, "instantiate" for unlinkable/uninstantiable.
  void assert_module_fails(const Json& c, bool must_load, bool trap_expected) {
    int line = c.value("line", 0);
    if (c.value("module_type", "binary") != "binary") {
      skip("text-format module");
      return;
    }
    auto bytes = read(c.at("filename").get<std::string>());
    if (!bytes) return fail(line, bytes.error().to_string());
    auto mod = engine_.load(bytes->data(), bytes->size());
    if (!must_load) {
      if (mod) return fail(line, "module loaded but must be rejected (" + c.value("text", "") + ")");
      ++counts_.passed;
      return;
    }
    if (!mod) return fail(line, "module did not load: " + mod.error().to_string());
    if (std::string why = unlinkable_kind((*mod)->info()); !why.empty()) {
      skip("module with " + why);
      return;
    }
    auto host = std::make_shared<wasmcap::HostFuncTable>(host_);
    auto inst = engine_.instantiate(*mod, *host, limits_);
    if (inst) return fail(line, "module instantiated but must fail (" + c.value("text", "") + ")");
    if (trap_expected && !wasmcap::is_trap(inst.error().code)) {
      return fail(line, "expected a trap, got " + inst.error().to_string());
    }
    if (!trap_expected && wasmcap::is_trap(inst.error().code)) {
      return fail(line, "expected a link error, got " + inst.error().to_string());
    }
    ++counts_.passed;
  }

  void command(const Json& c) {
    std::string type = c.at("type").get<std::string>();
    int line = c.value("line", 0);
    try {
      if (type == "module") return module_command(c);
      if (type == "register") return register_command(c);
      if (type == "action") {
        auto r = action(c.at("action"), line);
        if (!r) return;
        if (!*r) return fail(line, "action failed: " + r->error().to_string());
        ++counts_.passed;
        return;
      }
      if (type == "assert_return") {
        for (const Json& v : c.at("expected")) {
          if (std::string why = unsupported_value(v); !why.empty()) return skip(why);
        }
        auto r = action(c.at("action"), line);
        if (!r) return;
        if (!*r) return fail(line, "expected values, got " + r->error().to_string());
        const Json& expected = c.at("expected");
        if ((*r)->size() != expected.size()) {
          return fail(line, "expected " + std::to_string(expected.size()) + " results, got " +
                                std::to_string((*r)->size()));
        }
        for (size_t i = 0; i < expected.size(); ++i) {
          if (std::string d = check_value(expected[i], (**r)[i]); !d.empty()) {
            return fail(line, c["action"].value("field", "") + ": result " + std::to_string(i) +
                                  ": " + d);
          }
        }
        ++counts_.passed;
        return;
      }
      if (type == "assert_trap" || type == "assert_exhaustion") {
        auto r = action(c.at("action"), line);
        if (!r) return;
        if (*r) return fail(line, "expected a trap (" + c.value("text", "") + "), got values");
        ErrorCode got = r->error().code;
        std::vector<ErrorCode> allowed = type == "assert_exhaustion"
                                             ? std::vector<ErrorCode>{ErrorCode::kTrapStackExhausted}
                                             : codes_for_trap_text(c.value("text", ""));
        if (!wasmcap::is_trap(got)) {
          return fail(line, "expected a trap (" + c.value("text", "") + "), got " +
                                r->error().to_string());
        }
        if (!allowed.empty() && std::find(allowed.begin(), allowed.end(), got) == allowed.end()) {
          return fail(line, "trap \"" + c.value("text", "") + "\" reported as " +
                                r->error().to_string());
        }
        ++counts_.passed;
        return;
      }
      if (type == "assert_invalid" || type == "assert_malformed") {
        return assert_module_fails(c, /*must_load=*/false, false);
      }
      if (type == "assert_unlinkable") return assert_module_fails(c, true, false);
      if (type == "assert_uninstantiable") return assert_module_fails(c, true, true);
      fail(line, "unknown command type " + type);
    } catch (const std::exception& e) {
      fail(line, std::string("runner error: ") + e.what());
    }
  }

  wasmcap::Engine& engine_;
  std::filesystem::path dir_;
  std::string name_;
  wasmcap::HostFuncTable host_;
  wasmcap::ExecLimits limits_;
  std::unique_ptr<wasmcap::Instance> spectest_;           // kSpectest's instance
  std::set<wasmcap::ExternKind> shared_kinds_;            // the kinds the engine shares
  std::set<std::string> skipped_registered_;              // names registered by skipped modules
  std::set<std::string> unshared_;  // "as\0name": registered exports the engine did not share
  std::vector<std::shared_ptr<Loaded>> instances_;
  std::map<std::string, std::shared_ptr<Loaded>> named_;
  std::shared_ptr<Loaded> current_;
  bool skipped_module_ = false;
  Counts counts_;
};

}  // namespace

int main(int argc, char** argv) {
  std::string engine_name = "interp";
  std::string file;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--engine" && i + 1 < argc) {
      engine_name = argv[++i];
    } else if (file.empty()) {
      file = a;
    } else {
      std::cerr << "usage: wasmcap-spectest [--engine NAME] FILE.json\n";
      return 2;
    }
  }
  if (file.empty()) {
    std::cerr << "usage: wasmcap-spectest [--engine NAME] FILE.json\n";
    return 2;
  }
  std::ifstream in(file);
  if (!in) {
    std::cerr << file << ": cannot open\n";
    return 2;
  }
  Json doc;
  try {
    doc = Json::parse(in);
  } catch (const std::exception& e) {
    std::cerr << file << ": " << e.what() << "\n";
    return 2;
  }
  auto engine = wasmcap::make_engine(engine_name);
  if (!engine) {
    std::cerr << engine.error().to_string() << "\n";
    return 2;
  }
  std::filesystem::path p(file);
  Runner runner(**engine, p.parent_path(), p.stem().string());
  return runner.run(doc);
}

// Backend 3: wasmcap's own fast interpreter (docs/fast-interp.md; why our own: fast.h).
//
// Loading: wabt's validator checks the module (no second validator); wabt's IR reader then
// reads the module *without its function bodies* (the module-level declarations); the bodies
// stay bytes. Instantiation: memory, tables, globals, segments and imports are set up here;
// each function is read into wabt's IR on its first call, translated (translate.cc), its IR
// freed, and run by exec.cc. See "Load" in docs/fast-interp.md for why and the measurements.
//
// C++17 like every translation unit that includes wabt headers (NOTES-toolchain.md).
#include <sys/mman.h>
#include <time.h>

#include <algorithm>
#include <climits>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <atomic>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include "engine/cache_files.h"
#include "engine/describe.h"
#include "engine/fast/fast.h"
#include "engine/fast/shared.h"
#include "engine/fast/translate.h"
#include "engine/fast/validate.h"
#include "engine/fast/validation_records.h"
#include "engine/host_call.h"
#include "engine/memory_slots.h"
#include "engine/wabt_shared.h"
#include "wabt/binary-reader-ir.h"
#include "wabt/binary-reader.h"
#include "wabt/feature.h"
#include "wabt/cast.h"
#include "wabt/ir.h"
#include "wasmcap/engine.h"

namespace wasmcap {
namespace fast {
namespace {

// Maximum wasm call depth and value-stack slots: the same bounds as wabt's interpreter (the tests'
// oracle, tests/support/wabt_engine), so a guest that recurses too deep traps the same way on both.
constexpr size_t kMaxCallFrames = 50000;
constexpr size_t kMaxValueSlots = 4u << 20;

using engine_wabt::from_wabt;
using engine_wabt::kind_from;
using engine_wabt::limits_from;

// Benchmark statistics (docs/fast-interp.md "Statistics for benchmarks"): with
// $WASMCAP_FAST_STATS set, load prints its phase timings and each instance prints one line to
// stderr when it is destroyed: the functions it translated, their wasm body bytes, the bytes of
// translated code, and the wall-clock time (Unix ns) at which the first guest function was
// ready to run.
bool stats_enabled() {
  static const bool on = [] {
    const char* v = std::getenv("WASMCAP_FAST_STATS");
    return v != nullptr && v[0] != '\0' && std::strcmp(v, "0") != 0;
  }();
  return on;
}

// Benchmark aid (docs/fast-interp.md "Statistics for benchmarks"): $WASMCAP_FAST_VALIDATE_THREADS
// = N (1-4) caps the threads that validate function bodies; unset, the hardware's (0).
unsigned validate_threads() {
  static const unsigned n = [] {
    const char* v = std::getenv("WASMCAP_FAST_VALIDATE_THREADS");
    if (v == nullptr || v[0] < '1' || v[0] > '4' || v[1] != '\0') return 0u;
    return static_cast<unsigned>(v[0] - '0');
  }();
  return n;
}

FuncSig sig_from(const wabt::FuncSignature& s) {
  FuncSig out;
  for (auto t : s.param_types) out.params.push_back(from_wabt(t));
  for (auto t : s.result_types) out.results.push_back(from_wabt(t));
  return out;
}

wabt::Features features() { return load_features(); }


// ---- The module's bytes, split for the lazy front end -------------------------------------
//
// At load the module is validated by wabt, then cut in two: everything but the function bodies
// (read into wabt's IR once: types, imports, functions' signatures, tables, memories, globals,
// exports, segments), and the bodies, kept as bytes. On a function's first call its body is
// read into a one-function module of its own (the function's type, the function, placeholder
// tables and memories, the data count section, the body: FastModule::read_body), translated
// and dropped. Type, function, global, tag and segment indices in the body stay indices in the
// IR, resolved against the module-level IR by the translator; wabt's reader checks only
// memory and table indices against counts, and memory.init/data.drop against the data count.
//
// Why not keep wabt's IR of every body (the previous design): it costs 100-200 bytes of host
// memory per wasm instruction for the whole run (python.wasm: ~180 MB; a 15 MB module of nested
// blocks: 2.6 GB), and building and freeing it was over half the load time (bench/notes/2026-11-23-fast-load-lazy-bodies.md,
// "fast interpreter load path").

// Unsigned LEB128 (u32) at `p`, advancing it; false past `end` or on an overlong encoding.
bool read_u32(const uint8_t*& p, const uint8_t* end, uint32_t* out) {
  uint64_t v = 0;
  for (int shift = 0; shift < 35; shift += 7) {
    if (p == end) return false;
    uint8_t b = *p++;
    v |= static_cast<uint64_t>(b & 0x7f) << shift;
    if ((b & 0x80) == 0) {
      if (v > 0xffffffffu) return false;
      *out = static_cast<uint32_t>(v);
      return true;
    }
  }
  return false;
}

void put_u32(std::vector<uint8_t>& out, uint32_t v) {
  do {
    uint8_t b = v & 0x7f;
    v >>= 7;
    out.push_back(v != 0 ? (b | 0x80) : b);
  } while (v != 0);
}

void put_section(std::vector<uint8_t>& out, uint8_t id, const uint8_t* payload, size_t n) {
  out.push_back(id);
  put_u32(out, static_cast<uint32_t>(n));
  out.insert(out.end(), payload, payload + n);
}

// A value type's one-byte binary encoding (i32 0x7f ... v128 0x7b, funcref 0x70, externref
// 0x6f): wabt's Type enum holds the negative of the byte's signed LEB value.
uint8_t type_byte(wabt::Type t) {
  return static_cast<uint8_t>(static_cast<int32_t>(static_cast<wabt::Type::Enum>(t)) & 0x7f);
}

constexpr uint8_t kWasmHeader[8] = {0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00};

// A data segment, read from the data section by split_module (not into wabt's IR: Go modules
// have up to 100,000 segments, and wabt's IR of each — a module field, an offset expression and
// a byte vector, three allocations — was most of a warm start: docs/fast-interp.md, "Load").
struct DataSeg {
  bool active = false;
  bool offset_global = false;  // offset = global `offset` (global.get), else the constant
  uint32_t offset = 0;
  uint32_t start = 0;  // bytes [start, start + size) of SplitModule::data
  uint32_t size = 0;
};

struct SplitModule {
  std::vector<uint8_t> decls;      // the module without bodies (each body is `0 locals, end`),
                                   // data and data count sections
  std::vector<uint8_t> datacount;  // the data count section's payload (empty: none)
  // The code and data sections' payloads: views of the module's bytes, which `keeper` keeps
  // (the caller's ModuleBytes::keeper; without one, copies of just these two sections).
  std::shared_ptr<const void> keeper;
  const uint8_t* code = nullptr;   // the code section's payload
  std::vector<std::pair<uint32_t, uint32_t>> bodies;  // (offset in `code`, size) per function
  const uint8_t* data = nullptr;   // the data section's payload
  std::vector<DataSeg> segments;
};

// Signed LEB128 (i32) at `p`, advancing it; false past `end` or on an overlong encoding.
bool read_s32(const uint8_t*& p, const uint8_t* end, int32_t* out) {
  int64_t v = 0;
  int shift = 0;
  for (; shift < 35; shift += 7) {
    if (p == end) return false;
    uint8_t b = *p++;
    v |= static_cast<int64_t>(b & 0x7f) << shift;
    if ((b & 0x80) == 0) {
      shift += 7;
      if (shift < 64 && (b & 0x40) != 0) v |= -(int64_t{1} << shift);
      if (v < INT32_MIN || v > INT32_MAX) return false;
      *out = static_cast<int32_t>(v);
      return true;
    }
  }
  return false;
}

// The data section's segments (a module wabt has validated, WebAssembly 2.0: one memory, offsets
// `i32.const N` or `global.get G`). False on anything else: the load then fails rather than
// guess. Linear in the section's size.
bool split_data(const uint8_t* payload, size_t n, SplitModule* out) {
  out->data = payload;
  const uint8_t* base = payload;
  const uint8_t* p = base;
  const uint8_t* end = base + n;
  uint32_t count = 0;
  if (!read_u32(p, end, &count) || count > n) return false;
  out->segments.reserve(count);
  for (uint32_t i = 0; i < count; ++i) {
    DataSeg seg;
    uint32_t flags = 0;
    if (!read_u32(p, end, &flags) || flags > 2) return false;
    if (flags != 1) {
      seg.active = true;
      uint32_t memory = 0;
      if (flags == 2 && (!read_u32(p, end, &memory) || memory != 0)) return false;
      if (p == end) return false;
      uint8_t op = *p++;
      if (op == 0x41) {  // i32.const
        int32_t v = 0;
        if (!read_s32(p, end, &v)) return false;
        seg.offset = static_cast<uint32_t>(v);
      } else if (op == 0x23) {  // global.get
        if (!read_u32(p, end, &seg.offset)) return false;
        seg.offset_global = true;
      } else {
        return false;
      }
      if (p == end || *p++ != 0x0b) return false;
    }
    if (!read_u32(p, end, &seg.size) || static_cast<size_t>(end - p) < seg.size) return false;
    seg.start = static_cast<uint32_t>(p - base);
    p += seg.size;
    out->segments.push_back(seg);
  }
  return p == end;
}

// Splits a module wabt has validated. Custom sections are dropped (no reader of ours needs
// them). Linear in the module's size. The code and data sections stay where they are when
// `keeper` keeps the bytes; without one they are copied (only they: custom sections, names and
// debug information among them, are not kept).
bool split_module(const uint8_t* bytes, size_t size, std::shared_ptr<const void> keeper,
                  SplitModule* out) {
  if (size < 8) return false;
  struct Owned {
    std::vector<uint8_t> code, data;
  };
  std::shared_ptr<Owned> owned;
  if (keeper) {
    out->keeper = std::move(keeper);
  } else {
    owned = std::make_shared<Owned>();
    out->keeper = owned;
  }
  // The section's payload where it stays: in the kept bytes, or in a copy of its own.
  auto kept = [&](std::vector<uint8_t> Owned::*copy, const uint8_t* payload, size_t n) {
    if (!owned) return payload;
    ((*owned).*copy).assign(payload, payload + n);
    return static_cast<const uint8_t*>(((*owned).*copy).data());
  };
  const uint8_t* p = bytes + 8;
  const uint8_t* end = bytes + size;
  out->decls.assign(kWasmHeader, kWasmHeader + 8);
  while (p != end) {
    uint8_t id = *p++;
    uint32_t n = 0;
    if (!read_u32(p, end, &n) || static_cast<size_t>(end - p) < n) return false;
    const uint8_t* payload = p;
    p += n;
    switch (id) {
      case 0: break;  // custom
      case 11:
        if (!split_data(kept(&Owned::data, payload, n), n, out)) return false;
        break;
      case 12: out->datacount.assign(payload, payload + n); break;
      case 10: {
        out->code = kept(&Owned::code, payload, n);
        const uint8_t* q = out->code;
        const uint8_t* qend = q + n;
        uint32_t count = 0;
        if (!read_u32(q, qend, &count) || count > n) return false;
        out->bodies.reserve(count);
        std::vector<uint8_t> stub;
        put_u32(stub, count);
        for (uint32_t i = 0; i < count; ++i) {
          uint32_t len = 0;
          if (!read_u32(q, qend, &len) || static_cast<size_t>(qend - q) < len) return false;
          out->bodies.emplace_back(static_cast<uint32_t>(q - out->code), len);
          q += len;
          stub.insert(stub.end(), {0x02, 0x00, 0x0b});  // size 2: no locals, end
        }
        put_section(out->decls, id, stub.data(), stub.size());
        break;
      }
      default: put_section(out->decls, id, payload, n); break;
    }
  }
  return true;
}

class FastModule final : public Module {
 public:
  FastModule(IrPtr ir, SplitModule split, ModuleInfo info, bool wide)
      : ir_(std::move(ir)),
        split_(std::move(split)),
        info_(std::move(info)),
        canon_(canonical_type_ids(*ir_)),
        wide_(wide) {
    // Only what a body needs is kept (docs/fast-interp.md, "Load").
    split_.decls.clear();
    split_.decls.shrink_to_fit();
  }
  const ModuleInfo& info() const override { return info_; }
  std::string_view engine() const override { return "interp"; }
  const wabt::Module& ir() const { return *ir_; }
  const std::vector<uint32_t>& canon() const { return canon_; }
  // The module uses v128: two Slots per value (simd_ops.h, docs/fast-interp.md "SIMD").
  bool wide() const { return wide_; }
  // The module uses exception handling (describe.h: what the AOT engine is told under auto).
  bool uses_exceptions() const { return exceptions_; }
  void set_uses_exceptions(bool on) { exceptions_ = on; }
  // The validating pass found every AOT translator bound held (FeatureScan::beyond_aot_bounds;
  // describe.h: what the AOT engine is told under auto).
  bool within_aot_bounds() const { return within_aot_bounds_; }
  void set_within_aot_bounds(bool on) { within_aot_bounds_ = on; }

  const SplitModule& split() const { return split_; }

  // Wasm body bytes of function `func` (module index; a defined function).
  uint32_t body_size(uint32_t func) const {
    return split_.bodies[func - ir_->num_func_imports].second;
  }

  // Reads defined function `func` (module index) into wabt's IR: a one-function module of one
  // type (the function's own), the function, placeholder tables and memories, the data count
  // section and the body. Cost: the body's size, whatever the size of the module's type
  // section: the body's block and call_indirect type indices are kept as indices (wabt's
  // reader does not resolve them; the translator looks them up in the module-level IR, like
  // calls, globals and tags), and the function's declaration is the module-level one. The body
  // was validated at load, so it always reads; if wabt's reader ever disagreed with itself,
  // the function would become `unreachable` (a trap) rather than the host aborting.
  // Defined function `func` (module index) as a one-function module of its own: one type (the
  // function's own), the function, placeholder tables and memories, the data count section and
  // `body` (its bytes; FastModule::read_body). Cost: the body's size, whatever the size of the
  // module's type section: the body's block and call_indirect type indices are kept as
  // indices (wabt's reader does not resolve them; the translator looks them up in the
  // module-level IR, like calls, globals and tags).
  std::vector<uint8_t> mini_module(uint32_t func, const uint8_t* body, size_t body_len) const {
    const wabt::Module& m = *ir_;
    const wabt::FuncSignature& sig = decl_sig(m, m.funcs[func]->decl);
    std::vector<uint8_t> tsec;
    put_u32(tsec, 1);
    tsec.push_back(0x60);
    put_u32(tsec, static_cast<uint32_t>(sig.param_types.size()));
    for (wabt::Type t : sig.param_types) tsec.push_back(type_byte(t));
    put_u32(tsec, static_cast<uint32_t>(sig.result_types.size()));
    for (wabt::Type t : sig.result_types) tsec.push_back(type_byte(t));
    std::vector<uint8_t> mini(kWasmHeader, kWasmHeader + 8);
    mini.reserve(tsec.size() + split_.datacount.size() + body_len + 64);
    put_section(mini, 1, tsec.data(), tsec.size());
    std::vector<uint8_t> fsec;
    put_u32(fsec, 1);
    put_u32(fsec, 0);
    put_section(mini, 3, fsec.data(), fsec.size());
    // wabt's reader checks memory and table indices against the module's counts: as many
    // placeholder tables and memories as the module has (their types and limits matter to
    // the validator only, which has run).
    if (!m.tables.empty()) {
      std::vector<uint8_t> tsec;
      put_u32(tsec, static_cast<uint32_t>(m.tables.size()));
      for (size_t i = 0; i < m.tables.size(); ++i) tsec.insert(tsec.end(), {0x70, 0x00, 0x00});
      put_section(mini, 4, tsec.data(), tsec.size());
    }
    if (!m.memories.empty()) {
      std::vector<uint8_t> msec;
      put_u32(msec, static_cast<uint32_t>(m.memories.size()));
      for (size_t i = 0; i < m.memories.size(); ++i) msec.insert(msec.end(), {0x00, 0x00});
      put_section(mini, 5, msec.data(), msec.size());
    }
    if (!split_.datacount.empty()) {
      put_section(mini, 12, split_.datacount.data(), split_.datacount.size());
    }
    std::vector<uint8_t> csec;
    put_u32(csec, 1);
    put_u32(csec, static_cast<uint32_t>(body_len));
    csec.insert(csec.end(), body, body + body_len);
    put_section(mini, 10, csec.data(), csec.size());
    return mini;
  }

  // Reads defined function `func` (module index) into wabt's IR, from its one-function module
  // (mini_module); the function's declaration is the module-level one. The body was validated
  // at load, so it always reads; if wabt's reader ever disagreed with itself, the function
  // would become `unreachable` (a trap) rather than the host aborting.
  IrPtr read_body(uint32_t func) const {
    const wabt::Module& m = *ir_;
    const auto& [offset, len] = split_.bodies[func - m.num_func_imports];
    const wabt::FuncDeclaration& decl = m.funcs[func]->decl;
    static const uint8_t kTrapBody[] = {0x00, 0x00, 0x0b};  // no locals, unreachable, end
    for (int attempt = 0; attempt < 2; ++attempt) {
#if !defined(NDEBUG) || defined(WASMCAP_FAST_STRICT_BODIES)
      // Debug builds (the sanitizer runs of every suite) stop here: a body that validated but
      // does not read is a bug in how the one-function module is put together.
      if (attempt == 1) {
        std::fprintf(stderr, "wasmcap: fast engine: function %u validated but does not read\n", func);
        std::abort();
      }
#endif
      const uint8_t* body = attempt == 0 ? split_.code + offset : kTrapBody;
      size_t body_len = attempt == 0 ? len : sizeof kTrapBody;
      std::vector<uint8_t> mini = mini_module(func, body, body_len);
      IrPtr out(new wabt::Module());
      wabt::Errors errors;
      wabt::ReadBinaryOptions options(features(), nullptr, false, true, false);
      if (wabt::Succeeded(
              wabt::ReadBinaryIr("function.wasm", mini.data(), mini.size(), options, &errors, out.get())) &&
          out->funcs.size() == 1) {
        out->funcs[0]->decl = decl;  // the module's type index (canonical ids, call_indirect)
        return out;
      }
    }
    std::abort();  // the trap body always reads
  }

  // Translated code shared by every instance of the module: a function is translated by the
  // first instance that calls it, and every later call of it in any instance (a shell session's
  // next command, an MCP server's next call of a prepared module) finds it here. Before, each
  // instance translated what it ran: half the CPU of a `cat` on the toolbox's module. The code
  // is immutable once made (the dispatch loop reads it through const pointers) and depends only
  // on the module and the value stack's size (a function whose locals do not fit it becomes a
  // stub that traps), so it is shared among instances with the same stack size, which is every
  // instance (kMaxValueSlots); another size translates for itself. It holds at most one
  // translation per defined function, so its memory is bounded by the module's code (as one
  // instance that ran every function held before).
  std::shared_ptr<const FuncCode> shared_code(uint32_t func, uint64_t stack_slots) const {
    std::lock_guard<std::mutex> lock(code_mu_);
    if (code_.empty() || stack_slots != code_stack_slots_) return nullptr;
    return code_[func - ir_->num_func_imports];
  }
  // Shares `code` (func's translation for `stack_slots`) unless another instance shared one
  // first; returns the one to run.
  std::shared_ptr<const FuncCode> share_code(uint32_t func, uint64_t stack_slots,
                                             std::unique_ptr<FuncCode> code) const {
    std::shared_ptr<const FuncCode> mine(std::move(code));
    std::lock_guard<std::mutex> lock(code_mu_);
    if (code_.empty()) {
      code_.resize(ir_->funcs.size() - ir_->num_func_imports);
      code_stack_slots_ = stack_slots;
    }
    if (stack_slots != code_stack_slots_) return mine;
    auto& slot = code_[func - ir_->num_func_imports];
    if (!slot) slot = std::move(mine);
    return slot;
  }

  // Translates defined function `func` without wabt's IR (translate_function_stream), or null
  // where that front end does not apply (a v128 or exception-handling module, a body it does not
  // take, more locals than `max_local_slots`): the caller then uses read_body. Same code.
  // `gate` false (tests only): try every module, to see the front end refuse what it does not
  // take.
  std::unique_ptr<FuncCode> translate_streaming(uint32_t func, uint64_t max_local_slots,
                                                bool gate = true) const {
    if (gate && (wide_ || exceptions_)) return nullptr;
    const wabt::Module& m = *ir_;
    const auto& [offset, len] = split_.bodies[func - m.num_func_imports];
    std::vector<uint8_t> mini = mini_module(func, split_.code + offset, len);
    return translate_function_stream(m, m.funcs[func]->decl, mini.data(), mini.size(),
                                     features(), canon_, max_local_slots);
  }

 private:
  IrPtr ir_;
  SplitModule split_;
  ModuleInfo info_;
  std::vector<uint32_t> canon_;
  bool wide_ = false;
  bool exceptions_ = false;
  bool within_aot_bounds_ = false;
  mutable std::mutex code_mu_;
  mutable std::vector<std::shared_ptr<const FuncCode>> code_;  // by defined function (shared_code)
  mutable uint64_t code_stack_slots_ = 0;
};

// The instances that share tables, owned together (docs/fast-interp.md, "Shared tables"): a
// table may hold a function of any instance that links it, and a call through it must find that
// instance alive, so no instance of a group is destroyed before the group. Each instance's
// Instance handle (FastInstanceHandle) holds its group; the group holds the instances (tables
// hold only raw pointers back: no cycle). Groups merge when an instance imports a table of
// another group; a merged group forwards to the one it joined (`into`), keeping it alive.
class FastInstance;
struct FastGroup {
  std::vector<std::shared_ptr<FastInstance>> members;
  std::shared_ptr<FastGroup> into;
  std::weak_ptr<FastGroup> self;
  FastGroup* root() {
    FastGroup* g = this;
    while (g->into) g = g->into.get();
    return g;
  }
};

class FastInstance final : public Instance, public Translator, public SharedCallee {
  friend class FastInstanceHandle;

 public:
  explicit FastInstance(const ExecLimits& limits) : limits_(limits) {
    rt_.limits = &limits_;
    rt_.handles->rt = &rt_;
    rt_.handles->callee = this;
    rt_.handles->self = rt_.handles;
  }
  void set_group(FastGroup* g) { group_ = g; }
  ~FastInstance() override {
    // Shared refs to our functions may live on in other instances' tables: calls through them
    // now trap (call_shared).
    rt_.handles->rt = nullptr;
    rt_.handles->callee = nullptr;
    if (stats_enabled()) print_stats();
    if (rt_.stack != nullptr) {
      wasmcap_slot_release(reinterpret_cast<uint8_t*>(rt_.stack), rt_.stack_slots * sizeof(Slot),
                           rt_.stack_slots * sizeof(Slot));
    }
  }

  std::shared_ptr<const FuncCode> translate(uint32_t func) override {
    if (auto shared = module_->shared_code(func, rt_.stack_slots)) return shared;
    return module_->share_code(func, rt_.stack_slots, translate_here(func));
  }

  std::unique_ptr<FuncCode> translate_here(uint32_t func) {
    translate_test_hooks::translations.fetch_add(1, std::memory_order_relaxed);
    // Straight from the body's bytes where the streaming front end applies (no v128, no
    // exception handling): the same code, without building and freeing wabt's IR.
    if (auto code = module_->translate_streaming(func, rt_.stack_slots / rt_.stride)) {
      if (stats_enabled()) count(func, *code);
      return code;
    }
    // The body's IR lives only while it is translated.
    IrPtr body = module_->read_body(func);
    const wabt::Func& f = *body->funcs[0];
    uint64_t nlocals = uint64_t{f.GetNumParamsAndLocals()} * rt_.stride;
    if (nlocals > rt_.stack_slots) {
      // Its locals alone do not fit the value stack (a 4-byte body can declare 2^28 locals):
      // the call traps `trap_stack_exhausted` on the frame check before any code runs, so
      // skip translating it (the translator keeps per-local state: gigabytes here).
      auto code = std::make_unique<FuncCode>();
      code->nparams = static_cast<uint32_t>(f.GetNumParams() * rt_.stride);
      code->nlocals = static_cast<uint32_t>(nlocals);
      code->frame_slots = static_cast<uint32_t>(nlocals);
      return code;
    }
    auto code = translate_function(module_->ir(), f, module_->canon(), module_->wide());
    if (stats_enabled()) count(func, *code);
    return code;
  }

  // Statistics (stats_enabled()), printed by the destructor.
  void count(uint32_t func, const FuncCode& code) {
    if (stats_.funcs == 0) {
      stats_.first_ready_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                                  std::chrono::system_clock::now().time_since_epoch())
                                  .count();
    }
    ++stats_.funcs;
    stats_.code_bytes += code.code.size() * sizeof(Word);
    stats_.wasm_bytes += module_->body_size(func);
  }
  void print_stats() const {
    std::fprintf(stderr,
                 "wasmcap-fast-stats {\"funcs_translated\": %llu, \"wasm_body_bytes\": %llu, "
                 "\"code_bytes\": %llu, \"defined_funcs\": %llu, \"first_func_ready_unix_ns\": "
                 "%lld, \"fuel_consumed\": %llu}\n",
                 static_cast<unsigned long long>(stats_.funcs),
                 static_cast<unsigned long long>(stats_.wasm_bytes),
                 static_cast<unsigned long long>(stats_.code_bytes),
                 static_cast<unsigned long long>(module_ ? module_->info().defined_funcs : 0),
                 static_cast<long long>(stats_.first_ready_ns),
                 static_cast<unsigned long long>(rt_.consumed));
  }

  Result<void> init(std::shared_ptr<const FastModule> module, const HostFuncTable& host) {
    module_ = std::move(module);
    const wabt::Module& m = module_->ir();
    rt_.translator = this;
    rt_.stride = module_->wide() ? 2 : 1;

    // Memory cap (same rule and message as the wabt oracle).
    for (size_t i = m.num_memory_imports; i < m.memories.size(); ++i) {
      const wabt::Limits& l = m.memories[i]->page_limits;
      if (l.initial > limits_.max_memory_pages) {
        return make_error(ErrorCode::kMemoryLimit,
                          "module needs " + std::to_string(l.initial) +
                              " pages of memory initially, above the limit of " +
                              std::to_string(limits_.max_memory_pages) +
                              " pages; raise --max-memory-mb");
      }
    }
    // Table cap: one element budget for all defined tables, growth room shared out equally
    // (an imported table grows within its exporter's).
    uint64_t initial_elements = 0;
    for (size_t i = m.num_table_imports; i < m.tables.size(); ++i) {
      initial_elements += m.tables[i]->elem_limits.initial;
    }
    if (initial_elements > limits_.max_table_elements) {
      return make_error(ErrorCode::kMemoryLimit,
                        "module's tables need " + std::to_string(initial_elements) +
                            " elements initially, above the limit of " +
                            std::to_string(limits_.max_table_elements));
    }

    // Imports: host functions, linked as on every engine (engine/host_call.h), and memories
    // and globals other interp instances export (shared.h).
    std::vector<std::shared_ptr<SharedExtern>> shared;
    WASMCAP_TRY_ASSIGN(rt_.hosts,
                       engine::link_host_functions(module_->info(), host, &shared, "interp"));
    rt_.global_store->assign(m.globals.size() * rt_.stride, 0);
    for (const wabt::TypeEntry* t : m.types) {
      const auto* ft = wabt::dyn_cast<wabt::FuncType>(t);
      rt_.type_sigs.push_back(ft != nullptr ? sig_from(ft->sig) : FuncSig{});
    }
    WASMCAP_TRY(link_shared(rt_, m, shared, &imported_globals_));
    // An imported table joins this instance to its exporter's group (before any element of
    // ours is stored in it: those stay callable even if this instantiation fails later).
    for (const auto& ext : shared) {
      if (ext->kind() == ExternKind::kTable) {
        join(static_cast<FastGroup*>(static_cast<const FastShared&>(*ext).group.get()));
      }
    }

    // Functions.
    rt_.funcs.resize(m.funcs.size());
    for (size_t i = 0; i < m.funcs.size(); ++i) {
      const wabt::Func* f = m.funcs[i];
      FuncEntry& fe = rt_.funcs[i];
      fe.type_id = module_->canon()[m.GetFuncTypeIndex(f->decl)];
      fe.nparams = f->GetNumParams();
      fe.nresults = f->GetNumResults();
      if (i < m.num_func_imports) fe.host = static_cast<int32_t>(i);
      else fe.defined = static_cast<uint32_t>(i - m.num_func_imports);
    }

    // Exception tags: the number of values each one carries.
    for (const wabt::Tag* t : m.tags) {
      // In slots: a module that uses v128 keeps every value in two (docs/fast-interp.md, "SIMD").
      rt_.tag_arity.push_back(static_cast<uint32_t>(decl_sig(m, t->decl).param_types.size()) *
                              (module_->wide() ? 2u : 1u));
    }

    // Stacks: reserved, touched only as deep as the guest goes. A recycled range comes zeroed
    // with its first pages still resident (engine/memory_slots.h): no faults on them.
    rt_.stack_slots = kMaxValueSlots;
    uint8_t* p = wasmcap_slot_acquire(kMaxValueSlots * sizeof(Slot), kMaxValueSlots * sizeof(Slot));
    if (p == nullptr) {
      rt_.stack_slots = 0;
      return make_error(ErrorCode::kMemoryLimit, "cannot reserve the interpreter's value stack");
    }
    rt_.stack = reinterpret_cast<Slot*>(p);
    rt_.frames.reset(new Frame[kMaxCallFrames]);
    rt_.max_frames = kMaxCallFrames;

    // Globals (an imported global's slot holds the value link_shared copied).
    std::vector<Slot>& globals = *rt_.global_store;
    for (size_t i = m.num_global_imports; i < m.globals.size(); ++i) {
      if (m.globals[i]->type == wabt::Type::V128) {
        eval_const_v128(m.globals[i]->init_expr, &globals[i * 2]);
      } else {
        globals[i * rt_.stride] = eval_const(m.globals[i]->init_expr);
      }
    }

    // Memory: reserved up to its cap, grown in place. The cap is this instance's, and stays the
    // memory's when other instances import it.
    if (m.memories.size() > m.num_memory_imports) {
      const wabt::Limits& l = m.memories[m.num_memory_imports]->page_limits;
      uint64_t max = l.has_max ? std::min<uint64_t>(l.max, 65536) : 65536;
      max = std::min<uint64_t>(max, limits_.max_memory_pages);
      WASMCAP_TRY_ASSIGN(rt_.memory, memory_create(l.initial, max, limits_.memory_pool));
      rt_.memory->has_max = l.has_max;
      rt_.memory->declared_max = l.max;
    }

    // Tables.
    if (m.tables.size() > m.num_table_imports) {
      uint64_t room = (limits_.max_table_elements - initial_elements) /
                      (m.tables.size() - m.num_table_imports);
      for (size_t i = m.num_table_imports; i < m.tables.size(); ++i) {
        const wabt::Table* t = m.tables[i];
        auto tab = std::make_shared<Table>();
        tab->elems.assign(t->elem_limits.initial, 0);
        uint64_t cap = t->elem_limits.initial + room;
        uint64_t declared = t->elem_limits.has_max ? t->elem_limits.max : 0xffffffffull;
        tab->max = std::min(cap, declared);
        tab->funcref = t->elem_type != wabt::Type::ExternRef;
        tab->has_max = t->elem_limits.has_max;
        tab->declared_max = t->elem_limits.max;
        rt_.tables.push_back(std::move(tab));
      }
    }

    // Element segments, then data segments (the order the spec applies them in).
    rt_.elems.resize(m.elem_segments.size());
    for (size_t i = 0; i < m.elem_segments.size(); ++i) {
      const wabt::ElemSegment* s = m.elem_segments[i];
      std::vector<uint64_t> refs;
      refs.reserve(s->elem_exprs.size());
      for (const wabt::ExprList& e : s->elem_exprs) refs.push_back(eval_const(e));
      if (s->kind == wabt::SegmentKind::Active) {
        uint64_t off = static_cast<uint32_t>(eval_const(s->offset));
        Table& t = *rt_.tables[m.GetTableIndex(s->table_var)];
        if (off + refs.size() > t.elems.size()) {
          return make_error(ErrorCode::kTrapTableOutOfBounds,
                            "out of bounds table access: element segment " + std::to_string(i) +
                                " does not fit its table");
        }
        for (size_t k = 0; k < refs.size(); ++k) t.elems[off + k] = table_value(rt_, t, refs[k]);
      } else if (s->kind == wabt::SegmentKind::Passive) {
        rt_.elems[i] = std::move(refs);
      }
    }
    const SplitModule& split = module_->split();
    rt_.data.resize(split.segments.size());
    for (size_t i = 0; i < split.segments.size(); ++i) {
      const DataSeg& s = split.segments[i];
      const uint8_t* bytes = split.data + s.start;
      if (s.active) {
        if (s.offset_global && uint64_t{s.offset} * rt_.stride >= globals.size()) {
          return make_error(ErrorCode::kModuleMalformed,
                            "invalid module: data segment " + std::to_string(i) +
                                " reads a global that does not exist");
        }
        uint64_t off = s.offset_global ? static_cast<uint32_t>(globals[s.offset * rt_.stride])
                                       : s.offset;
        if (!rt_.memory || off + s.size > rt_.memory->size) {
          return make_error(ErrorCode::kTrapMemoryOutOfBounds,
                            "out of bounds memory access: data segment " + std::to_string(i) +
                                " does not fit memory");
        }
        if (s.size != 0) std::memcpy(rt_.memory->base + off, bytes, s.size);
      } else {
        rt_.data[i].assign(bytes, bytes + s.size);
      }
    }

    // The start function runs metered, like every other call.
    if (!m.starts.empty()) {
      uint32_t start = m.GetFuncIndex(*m.starts.front());
      auto r = run_func(start);
      if (!r) {
        Error e = r.error();
        engine::note_memory_at_cap(&e, memory(), limits_);
        return tl::unexpected(std::move(e));
      }
      if (*r == Stop::kExit) start_exit_code_ = rt_.exit_code;
    }
    return {};
  }

  GuestMemory memory() override {
    if (!rt_.memory) return {};
    return GuestMemory(rt_.memory->base, rt_.memory->size);
  }

  Result<std::shared_ptr<SharedExtern>> export_extern(std::string_view export_name) override {
    auto ext = export_shared(rt_, module_->ir(), export_name, imported_globals_);
    if (ext && (*ext)->kind() == ExternKind::kTable) {
      auto* fs = static_cast<FastShared*>(ext->get());
      if (!fs->group) fs->group = group_->root()->self.lock();
    }
    return ext;
  }

  uint64_t fuel_consumed() const override { return rt_.consumed; }

  Stop call_from(Runtime& caller, uint32_t func, const FuncSig& sig, Slot* sp) override {
    // The callee runs on its own stacks, memory and host table; within what the caller has
    // left of its fuel and its deadline, as well as within its own.
    ExecLimits during = limits_;
    const ExecLimits& cl = *caller.limits;
    if (cl.fuel != 0) {
      const uint64_t cap = rt_.consumed + (cl.fuel - std::min(cl.fuel, caller.consumed));
      if (during.fuel == 0 || cap < during.fuel) during.fuel = cap;
    }
    during.deadline = std::min(during.deadline, cl.deadline);
    Slot* base = rt_.entry_fp != nullptr ? rt_.entry_fp : rt_.stack;
    const size_t np = sig.params.size(), nr = sig.results.size();
    if (std::max(np, nr) * rt_.stride > rt_.stack_slots - static_cast<size_t>(base - rt_.stack)) {
      caller.error = Error(ErrorCode::kTrapStackExhausted, "call stack exhausted");
      return Stop::kTrap;
    }
    // Values are `stride` slots apart on each side (1, or 2 in a module that uses v128).
    auto move_values = [](const Slot* from, uint32_t fs, Slot* to, uint32_t ts, size_t n) {
      for (size_t i = 0; i < n; ++i) {
        for (uint32_t k = 0; k < ts; ++k) to[i * ts + k] = k < fs ? from[i * fs + k] : 0;
      }
    };
    move_values(sp, caller.stride, base, rt_.stride, np);
    const uint64_t before = rt_.consumed;
    rt_.limits = &during;
    Result<Stop> r = run_func(func);
    rt_.limits = &limits_;
    caller.consumed += rt_.consumed - before;
    if (!r) {
      caller.error = r.error();
      return Stop::kTrap;
    }
    if (*r == Stop::kExit) {
      caller.exit_code = rt_.exit_code;
      return Stop::kExit;
    }
    move_values(base, rt_.stride, sp, caller.stride, nr);
    return Stop::kReturn;
  }

  Result<Value> get_global(std::string_view export_name) override {
    const wabt::Module& m = module_->ir();
    const auto& exports = module_->info().exports;
    for (size_t i = 0; i < exports.size(); ++i) {
      if (exports[i].name != export_name || exports[i].kind != ExternKind::kGlobal) continue;
      uint32_t g = m.GetGlobalIndex(m.exports[i]->var);
      wabt::Type t = m.globals[g]->type;
      if (t != wabt::Type::I32 && t != wabt::Type::I64 && t != wabt::Type::F32 &&
          t != wabt::Type::F64 && t != wabt::Type::V128) {
        return make_error(ErrorCode::kModuleUnsupported,
                          "exported global " + quote_untrusted(export_name) +
                              " holds a reference, which cannot be read from the host");
      }
      const Slot* cell = g < m.num_global_imports ? rt_.global_imports[g]
                                                  : &(*rt_.global_store)[g * rt_.stride];
      return engine::value_from_raw(from_wabt(t), cell);
    }
    return make_error(ErrorCode::kNotFound,
                      "module has no exported global " + quote_untrusted(export_name));
  }

 protected:
  // Instance::call's hooks: arguments and results are the value stack's first slots.
  const ModuleInfo& module_info() const override { return module_->info(); }
  const ExecLimits& exec_limits() const override { return limits_; }
  uint32_t raw_stride() const override { return rt_.stride; }
  bool reentrant() const override { return true; }
  Result<RunEnd> run_export(size_t index, const uint64_t* args, uint64_t* results) override {
    const wabt::Module& m = module_->ir();
    const FuncSig& sig = module_->info().exports[index].sig;
    uint32_t func = m.GetFuncIndex(m.exports[index]->var);
    // A call from a host function this instance called (re-entrant) starts above the call it
    // serves (Runtime::entry_fp); its arguments and results must fit what is left of the stack.
    Slot* base = rt_.entry_fp != nullptr ? rt_.entry_fp : rt_.stack;
    const size_t values = std::max(sig.params.size(), sig.results.size()) * rt_.stride;
    if (values > rt_.stack_slots - static_cast<size_t>(base - rt_.stack)) {
      return make_error(ErrorCode::kTrapStackExhausted, "call stack exhausted");
    }
    std::copy(args, args + sig.params.size() * rt_.stride, base);
    Stop r;
    WASMCAP_TRY_ASSIGN(r, run_func(func));
    if (r == Stop::kExit) return RunEnd{true, rt_.exit_code};
    std::copy(base, base + sig.results.size() * rt_.stride, results);
    return RunEnd{};
  }

 private:
  // Runs `func` with its arguments in rt_.stack; ok(kReturn) or ok(kExit), traps are errors.
  // A re-entrant call runs above the live frames (Runtime::entry_fp, entry_depth).
  Result<Stop> run_func(uint32_t func) {
    rt_.trap_func = -1;
    if (rt_.entry_depth == 0) {  // not re-entrant: no exception is held by a live frame
      rt_.held.clear();
      rt_.held_payload.clear();
    }
    Stop s = run(rt_, func);
    if (s != Stop::kTrap) return s;
    Error e = rt_.error;
    if (is_trap(e.code) && e.code != ErrorCode::kTrapHost && rt_.trap_func >= 0) {
      e.message += " (in function " + std::to_string(rt_.trap_func) + ")";
    }
    return tl::unexpected(e);
  }

  // Constant expressions (globals, segment offsets, element items).
  uint64_t eval_const(const wabt::ExprList& list) const {
    const wabt::Module& m = module_->ir();
    std::vector<uint64_t> st;
    for (const wabt::Expr& e : list) {
      switch (e.type()) {
        case wabt::ExprType::Const: {
          const wabt::Const& c = wabt::cast<wabt::ConstExpr>(&e)->const_;
          switch (c.type()) {
            case wabt::Type::I32: st.push_back(c.u32()); break;
            case wabt::Type::I64: st.push_back(c.u64()); break;
            case wabt::Type::F32: st.push_back(c.f32_bits()); break;
            case wabt::Type::F64: st.push_back(c.f64_bits()); break;
            default: st.push_back(0); break;
          }
          break;
        }
        case wabt::ExprType::GlobalGet:
          st.push_back((*rt_.global_store)[m.GetGlobalIndex(
                                               wabt::cast<wabt::GlobalGetExpr>(&e)->var) *
                                           rt_.stride]);
          break;
        case wabt::ExprType::RefNull: st.push_back(0); break;
        case wabt::ExprType::RefFunc:
          st.push_back(m.GetFuncIndex(wabt::cast<wabt::RefFuncExpr>(&e)->var) + 1);
          break;
        default: st.push_back(0); break;
      }
    }
    return st.empty() ? 0 : st.back();
  }
  // A v128 global's initializer: v128.const or global.get of an earlier (imported) global.
  void eval_const_v128(const wabt::ExprList& list, Slot* out) const {
    const wabt::Module& m = module_->ir();
    out[0] = out[1] = 0;
    for (const wabt::Expr& e : list) {
      if (e.type() == wabt::ExprType::Const) {
        ::v128 v = wabt::cast<wabt::ConstExpr>(&e)->const_.vec128();
        out[0] = v.u64(0);
        out[1] = v.u64(1);
      } else if (e.type() == wabt::ExprType::GlobalGet) {
        size_t g = m.GetGlobalIndex(wabt::cast<wabt::GlobalGetExpr>(&e)->var);
        out[0] = (*rt_.global_store)[g * 2];
        out[1] = (*rt_.global_store)[g * 2 + 1];
      }
    }
  }

  // This instance's group (its root after merges; the group owns this instance).
  FastGroup* group_ = nullptr;
  std::optional<int32_t> start_exit_code_;

  // Makes this instance's group and `other`'s one group.
  void join(FastGroup* other) {
    FastGroup* a = group_->root();
    FastGroup* b = other->root();
    if (a == b) return;
    for (auto& m : b->members) {
      m->group_ = a;
      a->members.push_back(std::move(m));
    }
    b->members.clear();
    b->into = a->self.lock();
  }

  ExecLimits limits_;
  struct Stats {
    uint64_t funcs = 0, wasm_bytes = 0, code_bytes = 0;
    long long first_ready_ns = 0;
  } stats_;
  Runtime rt_;
  std::shared_ptr<const FastModule> module_;
  std::vector<std::shared_ptr<FastShared>> imported_globals_;  // in import order (re-exports)
};

// This build's validator identity (validation_records.h), computed once.
const std::string& build_identity() {
  static const std::string id =
      validation_build_identity(reinterpret_cast<const void*>(&wabt::ReadBinaryIr));
  return id;
}

}  // namespace

namespace load_test_hooks {
std::atomic<uint64_t> validations{0};
}

namespace translate_test_hooks {
std::atomic<uint64_t> translations{0};

// Every defined function of `module` (loaded by this engine) translated both ways: from wabt's
// IR (read_body, translate_function) and by the streaming front end (translate_streaming).
std::string compare_front_ends(const Module& module, uint32_t* streamed, uint32_t* funcs,
                               bool gate) {
  auto* fm = dynamic_cast<const FastModule*>(&module);
  if (fm == nullptr) return "not a fast-engine module";
  const wabt::Module& m = fm->ir();
  *streamed = 0;
  *funcs = 0;
  for (uint32_t f = m.num_func_imports; f < m.funcs.size(); ++f) {
    ++*funcs;
    auto stream = fm->translate_streaming(f, kMaxValueSlots, gate);
    if (!stream) continue;
    ++*streamed;
    IrPtr body = fm->read_body(f);
    auto ir = translate_function(m, *body->funcs[0], fm->canon(), fm->wide());
    std::string at = "function " + std::to_string(f) + ": ";
    if (ir == nullptr) return at + "the IR front end refused what the streaming one took";
    if (stream->code != ir->code) {
      size_t i = 0;
      while (i < stream->code.size() && i < ir->code.size() && stream->code[i] == ir->code[i]) ++i;
      return at + "code differs at word " + std::to_string(i) + " (streamed " +
             std::to_string(stream->code.size()) + " words, IR " + std::to_string(ir->code.size()) + ")";
    }
    if (stream->nparams != ir->nparams || stream->nlocals != ir->nlocals ||
        stream->frame_slots != ir->frame_slots) {
      return at + "frame differs";
    }
    if ((stream->eh != nullptr) != (ir->eh != nullptr)) return at + "exception tables differ";
  }
  return "";
}
}  // namespace translate_test_hooks

namespace {

// The Instance an embedder holds: the instance, through its group.
class FastInstanceHandle final : public Instance {
 public:
  FastInstanceHandle(std::shared_ptr<FastGroup> group, FastInstance* inst)
      : group_(std::move(group)), inst_(inst) {
    if (inst_->start_exit_code_) set_start_exit(*inst_->start_exit_code_);
  }
  Result<Value> get_global(std::string_view name) override { return inst_->get_global(name); }
  Result<std::shared_ptr<SharedExtern>> export_extern(std::string_view name) override {
    return inst_->export_extern(name);
  }
  GuestMemory memory() override { return inst_->memory(); }
  uint64_t fuel_consumed() const override { return inst_->fuel_consumed(); }

 protected:
  const ModuleInfo& module_info() const override { return inst_->module_info(); }
  const ExecLimits& exec_limits() const override { return inst_->exec_limits(); }
  uint32_t raw_stride() const override { return inst_->raw_stride(); }
  bool reentrant() const override { return inst_->reentrant(); }
  Result<RunEnd> run_export(size_t index, const uint64_t* args, uint64_t* results) override {
    return inst_->run_export(index, args, results);
  }

 private:
  std::shared_ptr<FastGroup> group_;
  FastInstance* inst_;
};

class FastEngine final : public Engine {
 public:
  explicit FastEngine(FastOptions options) : options_(std::move(options)) {}
  // The product's one interpreter: `--engine interp`, RunReport::engine, `--json`, plan and audit
  // records all name it "interp" (its source folder and C++ names keep "fast").
  std::string_view name() const override { return "interp"; }

  // Fuel is charged per basic block (exactly: the guest never runs past its budget), the
  // deadline and interrupt are checked at least every 65,536 units, at every loop back-edge
  // and call through the same counter, and after every host call; memory and table maxima are
  // enforced by the instance. Every host function can be linked.
  CapabilitySet capabilities() const override {
#ifdef WASMCAP_BENCH_FAST_NO_FUEL
    // The bench-only build without metering (CMakeLists.txt) cannot stop guest code: it says
    // so, so a run or plan that asks for fuel or a deadline is refused instead of unbounded.
    return CapabilitySet::all().remove(Capability::kLimitFuel).remove(Capability::kLimitTimeout);
#else
    return CapabilitySet::all();
#endif
  }

  // The module's file (its record may spare hashing the bytes) and its hash, when known, come
  // with it (ModuleBytes).
  Result<std::shared_ptr<const Module>> load_module(const ModuleBytes& module) override {
    const uint8_t* bytes = module.data();
    const size_t size = module.size();
    // Magic, version, and the component-binary check with its how-to (as the wabt oracle).
    WASMCAP_TRY(check_module_preamble(bytes, size));
    // Validated-module records (docs/fast-interp.md): these exact bytes, validated before by
    // this build, are not validated again. No usable cache directory, no build identity, or no
    // trusted record: validate as usual.
    using Clock = std::chrono::steady_clock;
    auto ms_since = [](Clock::time_point t) {
      return std::chrono::duration<double, std::milli>(Clock::now() - t).count();
    };
    auto t_records = Clock::now();
    std::string dir, module_sha;
    std::optional<ValidationFacts> recorded;
    if (options_.validation_records && size >= options_.min_recorded_bytes &&
        !build_identity().empty()) {
      if (auto d = cache::open_cache_dir(options_.cache_dir)) {
        dir = std::move(*d);
        module_sha = cache::module_sha256_for_load(&dir, module);
        recorded = recorded_validation(dir, build_identity(), module_sha);
      }
    }
    const double records_ms = ms_since(t_records);  // the hash, when there is no file record
    wabt::Errors errors;
    wabt::ReadBinaryOptions options = load_options();
    // Validation: wabt's SharedValidator driven by a reader of our own that makes the calls
    // wabt's interp reader makes (validate.cc), so this engine accepts exactly the modules the
    // wabt oracle accepts (wabt's IR validator is laxer, e.g. about empty constant
    // expressions), and compiles nothing; the same pass notes v128 and unsupported features.
    // CPU time of the process (all its threads): wall time is the machine's load's business.
    auto cpu_ms = [] {
      timespec ts{};
      clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
      return static_cast<double>(ts.tv_sec) * 1e3 + static_cast<double>(ts.tv_nsec) / 1e6;
    };
    auto t0 = Clock::now();
    double c0 = cpu_ms();
    FeatureScan scan;
    // Bodies on as many threads as the hardware runs at once (at most 4), for a code section of
    // kParallelValidateThreshold bytes or more: the same verdict and error as one pass.
    std::vector<uint64_t> passes;  // instructions read per pass (stats)
    wabt::Result r = wabt::Result::Ok;
    if (recorded) {
      // Valid and supported (only those are recorded); what the validating pass noted.
      scan.simd = recorded->simd;
      scan.exceptions = recorded->exceptions;
      scan.beyond_aot_bounds = !recorded->within_aot_bounds;
    } else {
      ++load_test_hooks::validations;
      r = validate_module(bytes, size, options, &errors, &scan, validate_threads(),
                          kParallelValidateThreshold, &passes);
    }
    double validate_ms = ms_since(t0), validate_cpu_ms = cpu_ms() - c0;
    if (wabt::Failed(r)) {
      std::string msg = "invalid module";
      if (!errors.empty()) {
        msg += ": " + errors.front().message;
        msg += " (at byte offset " + std::to_string(errors.front().loc.offset) + ")";
      }
      return make_error(ErrorCode::kModuleMalformed, msg);
    }
    // The declarations into wabt's IR; the bodies stay bytes until their first call.
    auto t1 = Clock::now();
    double c1 = cpu_ms();
    SplitModule split;
    IrPtr ir(new wabt::Module());
    if (!split_module(bytes, size, module.keeper(), &split) ||
        wabt::Failed(wabt::ReadBinaryIr("module.wasm", split.decls.data(), split.decls.size(),
                                        options, &errors, ir.get())) ||
        split.bodies.size() != ir->funcs.size() - ir->num_func_imports) {
      return make_error(ErrorCode::kModuleMalformed,
                        "invalid module: its sections cannot be read again after validation");
    }
    if (stats_enabled()) {
      std::fprintf(stderr,
                   "wasmcap-fast-load {\"bytes\": %zu, \"validate_ms\": %.1f, \"ir_ms\": %.1f, "
                   "\"validate_cpu_ms\": %.1f, \"ir_cpu_ms\": %.1f, \"validate_threads\": %zu, "
                   "\"validation_record\": %d, \"records_ms\": %.1f}\n",
                   size, validate_ms, ms_since(t1), validate_cpu_ms, cpu_ms() - c1, passes.size(),
                   recorded ? 1 : 0, records_ms);
    }
    const std::string& feature = scan.unsupported;
    if (!feature.empty()) {
      return make_error(ErrorCode::kModuleUnsupported,
                        "the interpreter does not run " + feature + " yet");
    }
    const wabt::Module& m = *ir;
    ModuleInfo info;
    info.size_bytes = size;
    info.defined_funcs = static_cast<uint32_t>(m.funcs.size() - m.num_func_imports);
    for (const wabt::Import* imp : m.imports) {
      ImportDesc d;
      d.module = imp->module_name;
      d.name = imp->field_name;
      d.kind = kind_from(imp->kind());
      if (auto* fi = wabt::dyn_cast<wabt::FuncImport>(imp)) d.sig = sig_from(decl_sig(m, fi->func.decl));
      if (auto* mi = wabt::dyn_cast<wabt::MemoryImport>(imp)) d.memory = limits_from(mi->memory.page_limits);
      info.imports.push_back(std::move(d));
    }
    for (const wabt::Export* exp : m.exports) {
      ExportDesc d;
      d.name = exp->name;
      d.kind = kind_from(exp->kind);
      if (exp->kind == wabt::ExternalKind::Func) {
        d.sig = sig_from(decl_sig(m, m.GetFunc(exp->var)->decl));
      } else if (exp->kind == wabt::ExternalKind::Memory) {
        d.memory = limits_from(m.GetMemory(exp->var)->page_limits);
      }
      info.exports.push_back(std::move(d));
    }
    for (size_t i = m.num_memory_imports; i < m.memories.size(); ++i) {
      info.memories.push_back(limits_from(m.memories[i]->page_limits));
    }
    if (!recorded && !dir.empty()) {
      record_validation(dir, build_identity(), module_sha,
                        {scan.simd, scan.exceptions, !scan.beyond_aot_bounds});
    }
    auto fm = std::make_shared<FastModule>(std::move(ir), std::move(split), std::move(info), scan.simd);
    fm->set_uses_exceptions(scan.exceptions);
    fm->set_within_aot_bounds(!scan.beyond_aot_bounds);
    return std::shared_ptr<const Module>(std::move(fm));
  }

 public:

  Result<std::unique_ptr<Instance>> instantiate(std::shared_ptr<const Module> module,
                                                const HostFuncTable& host,
                                                const ExecLimits& limits) override {
    auto fm = std::dynamic_pointer_cast<const FastModule>(module);
    if (!fm) {
      return make_error(ErrorCode::kInvalidArgument,
                        "module was loaded by a different engine than \"interp\"");
    }
    auto group = std::make_shared<FastGroup>();
    group->self = group;
    auto inst = std::make_shared<FastInstance>(limits);
    inst->set_group(group.get());
    FastInstance* raw = inst.get();
    group->members.push_back(std::move(inst));
    // On failure the group (or the one it joined) keeps the instance while a shared table
    // holds one of its functions (the core spec: elements stored before a failing step stay).
    WASMCAP_TRY(raw->init(std::move(fm), host));
    return std::unique_ptr<Instance>(new FastInstanceHandle(std::move(group), raw));
  }

 private:
  FastOptions options_;
};

}  // namespace

std::optional<bool> module_uses_exceptions(const Module& module) {
  auto* fm = dynamic_cast<const FastModule*>(&module);
  if (fm == nullptr) return std::nullopt;
  return fm->uses_exceptions();
}

bool module_within_aot_bounds(const Module& module) {
  auto* fm = dynamic_cast<const FastModule*>(&module);
  return fm != nullptr && fm->within_aot_bounds();
}

}  // namespace fast

std::unique_ptr<Engine> make_fast_engine() { return make_fast_engine(FastOptions{}); }
std::unique_ptr<Engine> make_fast_engine(FastOptions options) {
  return std::make_unique<fast::FastEngine>(std::move(options));
}

}  // namespace wasmcap

// wabt's interpreter (libwabt.a) behind the Engine interface: the tests' reference oracle
// (wabt_engine.h). It was the product's first engine; since issue #29 the product ships wasmcap's
// own interpreter (`interp`) and the AOT tier, and this engine stays here, outside the library, for
// the differential tests and the fuzzer that compare against it.
//
// The one file in tests/support that includes private engine headers (src/engine/...): it is an
// engine, so it uses the engines' host-call boundary (host_call.h), bulk chunking (bulk.h) and
// wabt conversions (wabt_shared.h) as the product's engines do. Nothing else outside src/engine
// should need them.
//
// This translation unit is compiled as C++17: wabt 1.0.32's interp headers do not compile as
// C++20 with g++ 12 (see ../shared/NOTES-toolchain.md). No wabt type leaks out of this file.
#include <algorithm>
#include <cstring>
#include <map>
#include <optional>
#include <stdexcept>
#include <tuple>

#include "wabt/binary-reader.h"
#include "wabt/error-formatter.h"
#include "wabt/feature.h"
#include "wabt/interp/binary-reader-interp.h"
#include "wabt/interp/interp.h"
#include "engine/bulk.h"
#include "engine/host_call.h"
#include "engine/wabt_shared.h"
#include "wabt_engine.h"
#include "wasmcap/engine.h"

namespace wasmcap {
namespace {

namespace wi = wabt::interp;

// --- Access to three private members of wabt::interp::Thread -------------------------------
// wabt exposes Thread::Run(num_instructions) to execute a bounded slice, which is exactly what
// fuel and deadlines need, but the calls that set up the first frame (PushValues/PushCall) and
// collect the results (PopValues) are private: the public Func::Call runs to completion with no
// way to stop a runaway guest. Explicit template instantiation is exempt from access checking
// ([temp.spec.general]/6), which lets us name those members without patching wabt.
template <class Tag, typename Tag::type Member>
struct PrivateMember {
  friend typename Tag::type get(Tag) { return Member; }
};
struct PushValuesTag {
  using type = void (wi::Thread::*)(const wi::ValueTypes&, const wi::Values&);
  friend type get(PushValuesTag);
};
struct PushCallTag {
  using type = wi::RunResult (wi::Thread::*)(const wi::DefinedFunc&, wi::Trap::Ptr*);
  friend type get(PushCallTag);
};
struct PopValuesTag {
  using type = void (wi::Thread::*)(const wi::ValueTypes&, wi::Values*);
  friend type get(PopValuesTag);
};
template struct PrivateMember<PushValuesTag, &wi::Thread::PushValues>;
template struct PrivateMember<PushCallTag, &wi::Thread::PushCall>;
template struct PrivateMember<PopValuesTag, &wi::Thread::PopValues>;
// Thread sizes its call and value stacks from fixed 64 KiB defaults (about 1,600 frames), and
// traps when a vector reaches its reserved capacity. Real programs recurse deeper, so we
// reserve more; the capacity stays the bound, so runaway recursion still traps cleanly.
struct FramesTag {
  using type = std::vector<wi::Frame> wi::Thread::*;
  friend type get(FramesTag);
};
struct ValuesTag {
  using type = std::vector<wi::Value> wi::Thread::*;
  friend type get(ValuesTag);
};
template struct PrivateMember<FramesTag, &wi::Thread::frames_>;
// A trap records the call stack at the trap site; we read the innermost frame to name the
// function that trapped.
struct TrapTraceTag {
  using type = std::vector<wi::Frame> wi::Trap::*;
  friend type get(TrapTraceTag);
};
template struct PrivateMember<TrapTraceTag, &wi::Trap::trace_>;
template struct PrivateMember<ValuesTag, &wi::Thread::values_>;
// A memory's bytes: a std::vector that memory.grow resizes. Growing it by reallocation would
// briefly hold old and new buffers (about twice the cap); we reserve the cap up front instead
// (see reserve_memory_caps).
struct MemoryDataTag {
  using type = wi::Buffer wi::Memory::*;
  friend type get(MemoryDataTag);
};
template struct PrivateMember<MemoryDataTag, &wi::Memory::data_>;
// The interpreter stream of a module (its compiled code), rewritten at load so that every bulk
// instruction calls a host function of ours (see BulkSite), and an instance's function list,
// to which those host functions are appended at instantiation.
struct IstreamDataTag {
  using type = wi::Buffer wi::Istream::*;
  friend type get(IstreamDataTag);
};
template struct PrivateMember<IstreamDataTag, &wi::Istream::data_>;
struct InstanceFuncsTag {
  using type = wi::RefVec wi::Instance::*;
  friend type get(InstanceFuncsTag);
};
template struct PrivateMember<InstanceFuncsTag, &wi::Instance::funcs_>;

// Maximum wasm call depth. The frame vector starts small and is re-reserved (between
// slices, never during one) as a guest recurses deeper, up to this bound.
constexpr size_t kMaxCallFrames = 50000;
constexpr size_t kInitialCallFrames = 1024;
// Maximum operand-stack + locals slots (16 bytes each: 64 MB at most per running call).
// wabt never bounds this stack itself (it is a growing vector), so without this budget a deep
// recursion through a function with many locals could exhaust host memory.
constexpr size_t kMaxValueSlots = 4u << 20;
// Upper bound on value-stack growth by one instruction besides a call's locals: a push, or a
// host call's results.
constexpr size_t kMaxPushPerInstruction = 16;

// Instructions executed between two checks of fuel, deadline and interrupt flag. Small enough
// that a deadline is honoured within ~1 ms in the interpreter, large enough to be free.
constexpr int kSliceInstructions = 20000;

// Marker message of the trap a host function raises to unwind for proc_exit.
constexpr const char* kExitTrapMarker = "\x01wasmcap-exit";

using engine_wabt::from_wabt;
using engine_wabt::kind_from;
using engine_wabt::limits_from;

wabt::Type to_wabt(ValType t) {
  switch (t) {
    case ValType::kI32: return wabt::Type::I32;
    case ValType::kI64: return wabt::Type::I64;
    case ValType::kF32: return wabt::Type::F32;
    case ValType::kF64: return wabt::Type::F64;
    case ValType::kV128: return wabt::Type::V128;
    case ValType::kFuncRef: return wabt::Type::FuncRef;
    case ValType::kExternRef: return wabt::Type::ExternRef;
  }
  return wabt::Type::I32;
}

FuncSig sig_from(const wi::FuncType& ft) {
  FuncSig s;
  for (auto t : ft.params) s.params.push_back(from_wabt(t));
  for (auto t : ft.results) s.results.push_back(from_wabt(t));
  return s;
}

void fill_extern(const wi::ExternType& type, ExternKind* kind, FuncSig* sig, MemoryLimits* mem) {
  *kind = kind_from(type.kind);
  if (auto* ft = wabt::dyn_cast<wi::FuncType>(&type)) *sig = sig_from(*ft);
  if (auto* mt = wabt::dyn_cast<wi::MemoryType>(&type)) *mem = limits_from(mt->limits);
}

// Maps wabt's trap message to a structured trap code.
ErrorCode classify_trap(const std::string& msg) {
  auto has = [&](const char* s) { return msg.find(s) != std::string::npos; };
  if (has("unreachable")) return ErrorCode::kTrapUnreachable;
  if (has("out of bounds memory access") || has("out of bounds memory")) {
    return ErrorCode::kTrapMemoryOutOfBounds;
  }
  if (has("integer divide by zero")) return ErrorCode::kTrapIntegerDivideByZero;
  if (has("integer overflow")) return ErrorCode::kTrapIntegerOverflow;
  if (has("invalid conversion")) return ErrorCode::kTrapInvalidConversion;
  if (has("uninitialized table element") || has("null function") ||
      has("uninitialized element")) {
    return ErrorCode::kTrapIndirectCallNull;
  }
  if (has("indirect call signature mismatch") || has("signature mismatch")) {
    return ErrorCode::kTrapIndirectCallMismatch;
  }
  if (has("stack exhausted")) return ErrorCode::kTrapStackExhausted;
  if (has("out of bounds table access") || has("undefined table index")) {
    return ErrorCode::kTrapTableOutOfBounds;
  }
  return ErrorCode::kTrapOther;
}

wabt::Features all_features() { return engine_wabt::wasm2_features(); }

// True when `bytes` is valid with the exceptions feature (legacy try/catch) enabled; called
// only for a module the backend's own feature set refused, to tell "unsupported" from
// "malformed".
bool uses_exceptions(const uint8_t* bytes, size_t size) {
  wabt::Features f = all_features();
  f.enable_exceptions();
  wabt::Errors errors;
  wabt::ReadBinaryOptions options(f, nullptr, false, true, true);
  wi::ModuleDesc desc;
  return wabt::Succeeded(wi::ReadBinaryInterp("module.wasm", bytes, size, options, &errors, &desc));
}

// --- Bulk instructions: metered and interruptible (docs/security-model.md, "Bulk work") -------
//
// wabt runs memory.fill/copy/init, memory.grow and table.fill/copy/init/grow as one
// instruction: one unit of fuel and no deadline check whatever the length (4 GiB of memset for
// one unit). Thread::Run offers no hook per instruction, so at load every such instruction in
// the interpreter stream is rewritten into a call of a host function of ours, one per distinct
// (opcode, immediates): InterpCallImport and its u32 operand (8 bytes). Where the original had a
// second immediate (12 bytes) its last 4 bytes are never executed (wabt has no executable
// one-word no-op: its Nop aborts): the host function moves the caller's offset past them. The
// functions are appended to each instance's function list, past the module's own, and do the
// instruction's work with wabt's semantics (bounds checked first, same trap messages) after
// charging its bytes at kFuelBytesPerUnit, in chunks between which the deadline and interrupt
// are checked (bulk.h).
struct BulkSite {
  wabt::Opcode::Enum op;
  uint32_t a = 0, b = 0;  // the immediates (table or memory index, segment)
  bool skip4 = false;     // a 12-byte instruction: 4 bytes follow the call (see above)
};

// Rewrites `desc`'s stream; `sites` gets the host functions to append, in index order. False
// when the stream does not decode as expected (then the module is refused: never run unmetered).
bool rewrite_bulk_ops(wi::ModuleDesc& desc, std::vector<BulkSite>* sites) {
  wi::Buffer& code = desc.istream.*get(IstreamDataTag{});
  uint32_t first = static_cast<uint32_t>(desc.funcs.size());
  for (const auto& imp : desc.imports) {
    if (imp.type.type->kind == wabt::ExternalKind::Func) ++first;
  }
  std::map<std::tuple<int, uint32_t, uint32_t>, uint32_t> index;
  using Offset = wi::Istream::Offset;
  using Op = wabt::Opcode;
  const Offset end = desc.istream.end();
  for (Offset off = 0; off < end;) {
    const Offset at = off;
    wi::Instr in = desc.istream.Read(&off);
    if (off > end) return false;
    size_t want = 0;
    BulkSite site{in.op};
    switch (in.op) {
      case Op::MemoryFill:
      case Op::MemoryGrow:
      case Op::TableFill:
      case Op::TableGrow:
        want = 8;
        site.a = in.imm_u32;
        break;
      case Op::MemoryCopy:
      case Op::MemoryInit:
      case Op::TableCopy:
      case Op::TableInit:
        want = 12;
        site.a = in.imm_u32x2.fst;
        site.b = in.imm_u32x2.snd;
        site.skip4 = true;
        break;
      default: continue;
    }
    if (off - at != want) return false;
    auto [it, added] = index.try_emplace({static_cast<int>(site.op), site.a, site.b},
                                         first + static_cast<uint32_t>(sites->size()));
    if (added) sites->push_back(site);
    const wi::Istream::SerializedOpcode call = Op::InterpCallImport;
    std::memcpy(code.data() + at, &call, sizeof call);
    std::memcpy(code.data() + at + 4, &it->second, sizeof it->second);
    // (a 12-byte instruction's last 4 bytes stay: skipped by the call, never executed)
  }
  return true;
}

class InterpModule final : public Module {
 public:
  InterpModule(wi::ModuleDesc desc, ModuleInfo info, std::vector<BulkSite> bulk)
      : desc_(std::move(desc)), info_(std::move(info)), bulk_(std::move(bulk)) {
    for (const auto& f : desc_.funcs) {
      size_t n = f.type.params.size() + (f.locals.empty() ? 0 : f.locals.back().end);
      max_frame_slots_ = std::max(max_frame_slots_, n);
    }
  }
  const ModuleInfo& info() const override { return info_; }
  std::string_view engine() const override { return "wabt"; }
  const wi::ModuleDesc& desc() const { return desc_; }
  // Largest number of value-stack slots one call can allocate (params + locals).
  size_t max_frame_slots() const { return max_frame_slots_; }
  // The host functions the rewritten bulk instructions call (rewrite_bulk_ops).
  const std::vector<BulkSite>& bulk_sites() const { return bulk_; }

 private:
  wi::ModuleDesc desc_;
  ModuleInfo info_;
  std::vector<BulkSite> bulk_;
  size_t max_frame_slots_ = 0;
};

class InterpInstance final : public Instance {
 public:
  explicit InterpInstance(const ExecLimits& limits)
      : store_(all_features()), limits_(limits) {}

  Result<void> init(std::shared_ptr<const InterpModule> module, const HostFuncTable& host) {
    module_ = std::move(module);
    wi::ModuleDesc desc = module_->desc();  // per-instance copy: instances share no state

    // Memory cap: lower every defined memory's maximum to the limit, so memory.grow beyond it
    // fails inside the guest (returns -1) exactly as the spec allows.
    for (auto& m : desc.memories) {
      auto& l = m.type.limits;
      if (l.initial > limits_.max_memory_pages) {
        return make_error(ErrorCode::kMemoryLimit,
                          "module needs " + std::to_string(l.initial) +
                              " pages of memory initially, above the limit of " +
                              std::to_string(limits_.max_memory_pages) +
                              " pages; raise --max-memory-mb");
      }
      if (!l.has_max || l.max > limits_.max_memory_pages) {
        l.max = limits_.max_memory_pages;
        l.has_max = true;
      }
    }

    // The start function would run inside Instance::Instantiate with no slicing, so a looping
    // start function would escape fuel and deadline. Take it out and run it ourselves below.
    std::optional<wi::Index> start_func;
    if (!desc.starts.empty()) start_func = desc.starts.front().func_index;
    desc.starts.clear();

    // Table cap: one budget of elements for all tables together (each element costs the
    // host memory). The initial sizes must fit; the rest is shared out equally as growth
    // room, so no combination of table.grow calls can exceed the budget.
    uint64_t initial_elements = 0;
    for (const auto& t : desc.tables) initial_elements += t.type.limits.initial;
    if (initial_elements > limits_.max_table_elements) {
      return make_error(ErrorCode::kMemoryLimit,
                        "module's tables need " + std::to_string(initial_elements) +
                            " elements initially, above the limit of " +
                            std::to_string(limits_.max_table_elements));
    }
    if (!desc.tables.empty()) {
      uint64_t room = (limits_.max_table_elements - initial_elements) / desc.tables.size();
      for (auto& t : desc.tables) {
        auto& l = t.type.limits;
        uint64_t cap = l.initial + room;
        if (!l.has_max || l.max > cap) {
          l.max = cap;
          l.has_max = true;
        }
      }
    }

    wi::Module::Ptr mod = wi::Module::New(store_, std::move(desc));
    // Linked as on every engine (engine/host_call.h): the module's imports, in order, are all
    // host functions once this succeeds.
    auto linked = engine::link_host_functions(module_->info(), host);
    if (!linked) return tl::unexpected(linked.error());
    wi::RefVec imports;
    const auto& import_types = mod->import_types();
    for (size_t i = 0; i < import_types.size(); ++i) {
      auto& ft = *wabt::cast<wi::FuncType>(import_types[i].type.get());
      imports.push_back(make_host_func(ft, (*linked)[i]).ref());
    }

    wi::Trap::Ptr trap;
    instance_ = wi::Instance::Instantiate(store_, mod.ref(), imports, &trap);
    if (!instance_) {
      return trap_error(trap, "instantiation failed");
    }
    // The memory host functions see: the exported "memory", else the first memory.
    const auto& exports = mod->export_types();
    for (size_t i = 0; i < exports.size(); ++i) {
      if (exports[i].type->kind == wabt::ExternalKind::Memory && exports[i].name == "memory") {
        memory_ = store_.UnsafeGet<wi::Memory>(instance_->exports()[i]).get();
      }
    }
    if (memory_ == nullptr && !instance_->memories().empty()) {
      memory_ = store_.UnsafeGet<wi::Memory>(instance_->memories()[0]).get();
    }
    reserve_memory_caps();
    // The bulk instructions' functions, at the indices rewrite_bulk_ops gave them.
    wi::RefVec& funcs = (*instance_.get()).*get(InstanceFuncsTag{});
    for (const BulkSite& site : module_->bulk_sites()) {
      auto f = make_bulk_func(site);
      if (!f) return tl::unexpected(f.error());
      funcs.push_back(f->ref());
    }
    if (start_func) {
      auto func = store_.UnsafeGet<wi::Func>(instance_->funcs()[*start_func]);
      wi::Values none;
      if (auto r = run_func(func, {}, &none); !r) {
        Error e = r.error();
        engine::note_memory_at_cap(&e, memory(), limits_);
        return tl::unexpected(std::move(e));
      }
      // proc_exit in the start function ends the run: every later call reports that exit.
      if (exit_requested_) set_start_exit(exit_code_);
    }
    return {};
  }

  Result<Value> get_global(std::string_view export_name) override {
    const auto& exports = module_->info().exports;
    for (size_t i = 0; i < exports.size(); ++i) {
      if (exports[i].name != export_name || exports[i].kind != ExternKind::kGlobal) continue;
      auto global = store_.UnsafeGet<wi::Global>(instance_->exports()[i]);
      wabt::Type t = global->type().type;
      if (t != wabt::Type::I32 && t != wabt::Type::I64 && t != wabt::Type::F32 &&
          t != wabt::Type::F64 && t != wabt::Type::V128) {
        return make_error(ErrorCode::kModuleUnsupported,
                          "exported global " + quote_untrusted(export_name) +
                              " holds a reference, which cannot be read from the host");
      }
      return from_wabt_value(t, global->Get());
    }
    return make_error(ErrorCode::kNotFound,
                      "module has no exported global " + quote_untrusted(export_name));
  }

  GuestMemory memory() override {
    if (memory_ == nullptr) return {};
    return GuestMemory(memory_->UnsafeData(), memory_->ByteSize());
  }

  uint64_t fuel_consumed() const override { return fuel_used_; }

 protected:
  // Instance::call's hooks: raw slots two a value (v128 crosses), wabt Values in between.
  const ModuleInfo& module_info() const override { return module_->info(); }
  const ExecLimits& exec_limits() const override { return limits_; }
  uint32_t raw_stride() const override { return 2; }
  Result<RunEnd> run_export(size_t index, const uint64_t* args, uint64_t* results) override {
    auto func = store_.UnsafeGet<wi::Func>(instance_->exports()[index]);
    const wi::FuncType& ft = func->type();
    wi::Values params;
    for (size_t i = 0; i < ft.params.size(); ++i) {
      params.push_back(
          to_wabt_value(engine::value_from_raw(from_wabt(ft.params[i]), &args[2 * i])));
    }
    wi::Values out;
    if (auto rr = run_func(func, params, &out); !rr) return tl::unexpected(rr.error());
    if (exit_requested_) return RunEnd{true, exit_code_};
    for (size_t i = 0; i < out.size(); ++i) {
      engine::raw_from_value(from_wabt_value(ft.results[i], out[i]), &results[2 * i]);
    }
    return RunEnd{};
  }

 private:
  // Runs `func` under the instance's limits, in slices. Ok() also covers a guest exit
  // (exit_requested_); traps and limit violations are errors.
  Result<void> run_func(const wi::Func::Ptr& func, const wi::Values& params,
                        wi::Values* results) {
    exit_requested_ = false;
    host_error_.reset();
    const wi::FuncType& ft = func->type();
    wi::Trap::Ptr trap;
    pending_trap_ = &trap;
    struct Reset {
      wi::Trap::Ptr** p;
      ~Reset() { *p = nullptr; }
    } reset{&pending_trap_};
    wi::RunResult rr;
    if (auto* defined = wabt::dyn_cast<wi::DefinedFunc>(func.get())) {
      wi::Thread thread(store_);
      std::vector<wi::Frame>& frames = thread.*get(FramesTag{});
      std::vector<wi::Value>& values = thread.*get(ValuesTag{});
      frames.reserve(kInitialCallFrames);
      values.reserve(std::min<size_t>(kMaxValueSlots, 1u << 16));
      (thread.*get(PushValuesTag{}))(ft.params, params);
      rr = (thread.*get(PushCallTag{}))(*defined, &trap);
      const size_t per_instruction = module_->max_frame_slots() + kMaxPushPerInstruction;
      while (rr == wi::RunResult::Ok && !trap) {
        if (auto e = check_limits()) return tl::unexpected(*e);
        uint64_t slice = kSliceInstructions;
        if (limits_.fuel != 0) {
          uint64_t left = limits_.fuel - std::min(limits_.fuel, fuel_used_);
          if (left == 0) {
            return make_error(ErrorCode::kFuelExhausted,
                              "fuel exhausted after " + std::to_string(fuel_used_) +
                                  " instructions; raise --fuel");
          }
          slice = std::min(slice, left);
        }
        // Size the slice so that it cannot reach the call-stack capacity: an instruction
        // pushes at most one frame, so h-1 instructions are safe with h frames of headroom.
        // In the last frame we single-step, and the check of `trap` after every instruction
        // catches wabt's call_indirect bug (below) before anything else runs.
        if (frames.size() > frames.capacity() / 2 && frames.capacity() < kMaxCallFrames) {
          // Frames hold no pointers into the vector, so moving them between slices is safe.
          frames.reserve(std::min(kMaxCallFrames, frames.capacity() * 4));
        }
        size_t frame_room = frames.capacity() - frames.size();
        slice = frame_room <= 1 ? 1 : std::min<uint64_t>(slice, frame_room - 1);
        // Likewise for the value stack, which wabt lets grow without bound.
        if (values.size() + per_instruction > kMaxValueSlots) {
          return make_error(ErrorCode::kTrapStackExhausted,
                            "value stack exhausted (" + std::to_string(kMaxValueSlots) +
                                " slots: too deep a recursion)");
        }
        slice = std::min<uint64_t>(slice, (kMaxValueSlots - values.size()) / per_instruction);
        running_slice_ = slice;
        rr = thread.Run(static_cast<int>(slice), &trap);
        running_slice_ = 0;
        fuel_used_ += slice;
      }
      // wabt 1.0.32 bug (Thread::DoCall): when call_indirect exceeds the call-stack capacity,
      // the trap is recorded in `trap` but the RunResult says Ok and execution would continue
      // on a corrupt stack. The slicing above stops right after that one instruction; a
      // recorded trap is authoritative whatever Run() returned, and host functions refuse to
      // run once one is pending (make_host_func).
      if (trap && rr != wi::RunResult::Trap) rr = wi::RunResult::Trap;
      if (rr == wi::RunResult::Return) {
        (thread.*get(PopValuesTag{}))(ft.results, results);
      }
    } else {
      // Calling a re-exported host import directly: runs to completion (host code is ours).
      // wabt passes `results` straight to the host callback, which fills results.size()
      // values: size it to the function's arity (a Thread call would do this itself).
      results->assign(ft.results.size(), wi::Value::Make(uint64_t{0}));
      rr = func->Call(store_, params, *results, &trap) == wabt::Result::Ok
               ? wi::RunResult::Return
               : wi::RunResult::Trap;
    }
    if (exit_requested_) return {};
    if (rr == wi::RunResult::Trap) return trap_error(trap, "trap");
    if (rr == wi::RunResult::Exception) {
      // (Unreachable while exceptions stay disabled on this backend, see load().)
      return make_error(ErrorCode::kTrapUncaughtException,
                        "uncaught wasm exception: no catch handled it");
    }
    return {};
  }

  // Threat: host memory above --max-memory-mb while a guest grows its memory to the cap.
  // wabt keeps linear memory in a std::vector and memory.grow resizes it: a reallocation copies
  // the old buffer into a new one, so the host briefly holds both (about twice the cap). We
  // reserve each memory's maximum (already lowered to the cap) once, at instantiation: every
  // later grow happens in place. Reserved capacity is address space, not resident memory: only
  // pages the guest's memory actually covers are touched. Where the reservation is refused
  // (RLIMIT_AS, strict overcommit), growth falls back to wabt's reallocation.
  void reserve_memory_caps() {
#if defined(__SANITIZE_ADDRESS__)
    // Not under AddressSanitizer: its allocator writes the shadow of the whole reservation on
    // allocation and free (1/8 of it: 512 MiB and seconds for a 4 GiB cap), so the sanitizer
    // build keeps wabt's reallocating growth. (The peak-RSS test is skipped there.)
#else
    for (const wi::Ref& ref : instance_->memories()) {
      wi::Memory* mem = store_.UnsafeGet<wi::Memory>(ref).get();
      const auto& l = mem->type().limits;
      if (!l.has_max || l.max <= l.initial || l.is_64) continue;
      uint64_t bytes = std::min<uint64_t>(l.max, 65536) * kWasmPageSize;
      wi::Buffer& data = mem->*get(MemoryDataTag{});
      try {
        data.reserve(bytes);
      } catch (const std::exception&) {
        // bad_alloc / length_error: not fatal, growth reallocates as before.
      }
    }
#endif
  }

  std::optional<Error> check_limits() const {
    if (deadline_reached(limits_)) return deadline_error(limits_);
    return std::nullopt;
  }

  tl::unexpected<Error> trap_error(const wi::Trap::Ptr& trap, const char* fallback) {
    if (host_error_) return tl::unexpected(*host_error_);
    std::string msg = trap ? trap->message() : std::string(fallback);
    ErrorCode code = classify_trap(msg);
    if (trap) msg += where(*trap);
    // (Instance::call and the start function add the note on memory at its cap.)
    return tl::unexpected(Error(code, msg));
  }

  // " (in function N)" for the innermost wasm frame of a trap, or "" when unknown.
  std::string where(wi::Trap& trap) const {
    const std::vector<wi::Frame>& trace = trap.*get(TrapTraceTag{});
    for (auto it = trace.rbegin(); it != trace.rend(); ++it) {
      const wi::RefVec& funcs = instance_ ? instance_->funcs() : wi::RefVec{};
      for (size_t i = 0; i < funcs.size(); ++i) {
        if (funcs[i] == it->func) {
          // (Frame::offset is an interpreter-stream offset, meaningless to users: omitted.)
          return " (in function " + std::to_string(i) + ")";
        }
      }
    }
    return "";
  }

  static wi::Value to_wabt_value(const Value& v) {
    switch (v.type) {
      case ValType::kI32: return wi::Value::Make(v.i32);
      case ValType::kI64: return wi::Value::Make(v.i64);
      case ValType::kF32: return wi::Value::Make(v.f32);
      case ValType::kF64: return wi::Value::Make(v.f64);
      case ValType::kV128: {
        ::v128 x;
        for (int i = 0; i < 16; ++i) x.set_u8(i, v.v128[i]);
        return wi::Value::Make(x);
      }
      default: return wi::Value::Make(uint64_t{0});
    }
  }

  static Value from_wabt_value(wabt::Type t, const wi::Value& v) {
    switch (t) {
      case wabt::Type::I32: return Value::I32(v.Get<uint32_t>());
      case wabt::Type::I64: return Value::I64(v.Get<uint64_t>());
      case wabt::Type::F32: return Value::F32(v.Get<float>());
      case wabt::Type::F64: return Value::F64(v.Get<double>());
      case wabt::Type::V128: {
        ::v128 x = v.Get<::v128>();
        uint8_t bytes[16];
        for (int i = 0; i < 16; ++i) bytes[i] = x.u8(i);
        return Value::V128(bytes);
      }
      default: return Value::I64(0);
    }
  }

  // wabt's side of the host boundary (engine/host_call.h): its Values become raw slots for
  // invoke_host, and its results Values again; the outcome becomes a wabt trap to unwind with.
  wi::HostFunc::Ptr make_host_func(const wi::FuncType& ft, const HostFunc* hf) {
    return wi::HostFunc::New(
        store_, ft,
        [this, hf](wi::Thread&, const wi::Values& params, wi::Values& results,
                   wi::Trap::Ptr* out_trap) -> wabt::Result {
          // Never run host code on top of a corrupt guest stack (see run_func).
          if (pending_trap_ != nullptr && *pending_trap_) {
            *out_trap = *pending_trap_;
            return wabt::Result::Error;
          }
          const FuncSig& sig = hf->sig;
          engine::RawSlot inline_raw[16];
          std::vector<engine::RawSlot> heap_raw;
          engine::RawSlot* raw = inline_raw;
          const size_t n = std::max(sig.params.size(), sig.results.size());
          if (n > 16) {
            heap_raw.resize(n);
            raw = heap_raw.data();
          }
          for (size_t i = 0; i < sig.params.size(); ++i) {
            engine::raw_from_value(from_wabt_value(to_wabt(sig.params[i]), params[i]), &raw[i]);
          }
          engine::HostCall call;
          call.memory = memory();
          call.limits = &limits_;
          call.fuel_used = fuel_used_ + running_slice_;  // the running slice counted whole,
                                                         // as run_func will: deterministic
          engine::HostCallEnd end =
              engine::invoke_host(*hf, call, raw, raw, sizeof(engine::RawSlot));
          fuel_used_ += call.fuel_charged;
          switch (end) {
            case engine::HostCallEnd::kContinue:
              for (size_t i = 0; i < results.size(); ++i) {
                results[i] = to_wabt_value(engine::value_from_raw(sig.results[i], &raw[i]));
              }
              return wabt::Result::Ok;
            case engine::HostCallEnd::kExit:
              exit_requested_ = true;
              exit_code_ = call.exit_code;
              *out_trap = wi::Trap::New(store_, kExitTrapMarker);
              return wabt::Result::Error;
            case engine::HostCallEnd::kStop:
              host_error_ = std::move(call.error);
              *out_trap = wi::Trap::New(store_, host_error_->message);
              return wabt::Result::Error;
          }
          return wabt::Result::Error;
        });
  }

  // The host function that does bulk instruction `site` (see BulkSite).
  Result<wi::HostFunc::Ptr> make_bulk_func(const BulkSite& site) {
    using Op = wabt::Opcode;
    const wabt::Type i32 = wabt::Type::I32;
    wi::Table* table = nullptr;
    wi::Memory* memory = nullptr;
    bool is_table = site.op == Op::TableFill || site.op == Op::TableGrow ||
                    site.op == Op::TableCopy || site.op == Op::TableInit;
    if (is_table) {
      if (site.a >= instance_->tables().size()) {
        return make_error(ErrorCode::kModuleMalformed, "table index out of range");
      }
      table = store_.UnsafeGet<wi::Table>(instance_->tables()[site.a]).get();
    } else {
      if (instance_->memories().empty()) {
        return make_error(ErrorCode::kModuleMalformed, "bulk memory instruction without a memory");
      }
      memory = store_.UnsafeGet<wi::Memory>(instance_->memories()[site.a]).get();
    }
    wi::ValueTypes params{i32, i32, i32}, results;
    if (site.op == Op::MemoryGrow) params = {i32}, results = {i32};
    if (site.op == Op::TableFill) params = {i32, table->type().element, i32};
    if (site.op == Op::TableGrow) params = {table->type().element, i32}, results = {i32};
    return wi::HostFunc::New(
        store_, wi::FuncType(params, results),
        [this, site, table, memory](wi::Thread& thread, const wi::Values& args,
                                    wi::Values& out, wi::Trap::Ptr* out_trap) -> wabt::Result {
          if (pending_trap_ != nullptr && *pending_trap_) {
            *out_trap = *pending_trap_;
            return wabt::Result::Error;
          }
          if (site.skip4) {
            // The caller's frame (below ours) has its offset just past the call: skip the
            // rest of the rewritten 12-byte instruction (rewrite_bulk_ops). PushCall never
            // reallocates the frames (it traps at capacity instead).
            std::vector<wi::Frame>& frames = thread.*get(FramesTag{});
            if (frames.size() < 2) {
              *out_trap = wi::Trap::New(store_, "internal error: bulk instruction frame");
              return wabt::Result::Error;
            }
            frames[frames.size() - 2].offset += 4;
          }
          HostContext ctx;
          ctx.limits = &limits_;
          if (limits_.fuel != 0) {
            ctx.fuel_left = limits_.fuel - std::min(limits_.fuel, fuel_used_ + running_slice_);
          }
          const char* trap = nullptr;
          bool stopped = false;  // fuel, deadline or interrupt: the run ends
          // Charges the work before doing it; false: not covered (nothing done).
          auto charge = [&](uint64_t bytes) {
            if (ctx.charge_fuel(fuel_for_bytes(bytes)) && !check_limits()) return true;
            stopped = true;
            return false;
          };
          auto keep_going = [&] { return !(stopped = check_limits().has_value()); };
          auto u32_at = [&](size_t i) { return static_cast<uint64_t>(args[i].Get<uint32_t>()); };
          switch (site.op) {
            case Op::MemoryFill: {
              uint64_t d = u32_at(0), n = u32_at(2);
              if (d + n > memory->ByteSize()) {
                trap = "out of bounds memory access: memory.fill out of bounds";
              } else if (charge(n)) {
                bulk::fill(memory->UnsafeData() + d, static_cast<int>(u32_at(1) & 0xff), n,
                           keep_going);
              }
              break;
            }
            case Op::MemoryCopy: {
              uint64_t d = u32_at(0), src = u32_at(1), n = u32_at(2);
              if (d + n > memory->ByteSize() || src + n > memory->ByteSize()) {
                trap = "out of bounds memory access: memory.copy out of bound";
              } else if (charge(n)) {
                bulk::move(memory->UnsafeData() + d, memory->UnsafeData() + src, n, keep_going);
              }
              break;
            }
            case Op::MemoryInit: {
              const wi::DataSegment& seg = instance_->datas()[site.b];
              uint64_t d = u32_at(0), src = u32_at(1), n = u32_at(2);
              if (d + n > memory->ByteSize() || src + n > seg.size()) {
                trap = "out of bounds memory access: memory.init out of bounds";
              } else if (charge(n) && n != 0) {
                bulk::move(memory->UnsafeData() + d, seg.desc().data.data() + src, n, keep_going);
              }
              break;
            }
            case Op::MemoryGrow: {
              uint64_t old = memory->PageSize(), delta = u32_at(0);
              if (wabt::Failed(memory->Grow(delta))) {
                out[0] = wi::Value::Make(uint32_t{0xffffffffu});
              } else {
                out[0] = wi::Value::Make(static_cast<uint32_t>(old));
                charge(delta * kWasmPageSize);  // the pages made available (zeroed by wabt)
              }
              break;
            }
            case Op::TableFill: {
              uint64_t d = u32_at(0), n = u32_at(2);
              if (d + n > table->size()) {
                trap = "out of bounds table access: table.fill out of bounds";
              } else if (charge(n * kFuelBytesPerTableElement)) {
                (void)table->Fill(store_, static_cast<uint32_t>(d), args[1].Get<wi::Ref>(),
                                  static_cast<uint32_t>(n));
              }
              break;
            }
            case Op::TableGrow: {
              uint64_t old = table->size(), delta = u32_at(1);
              if (wabt::Failed(table->Grow(store_, static_cast<uint32_t>(delta),
                                           args[0].Get<wi::Ref>()))) {
                out[0] = wi::Value::Make(uint32_t{0xffffffffu});
              } else {
                out[0] = wi::Value::Make(static_cast<uint32_t>(old));
                charge(delta * kFuelBytesPerTableElement);
              }
              break;
            }
            case Op::TableCopy: {
              wi::Table* src_table = store_.UnsafeGet<wi::Table>(instance_->tables()[site.b]).get();
              uint64_t d = u32_at(0), src = u32_at(1), n = u32_at(2);
              if (d + n > table->size() || src + n > src_table->size()) {
                trap = "out of bounds table access: table.copy out of bounds";
              } else if (charge(n * kFuelBytesPerTableElement)) {
                (void)wi::Table::Copy(store_, *table, static_cast<uint32_t>(d), *src_table,
                                      static_cast<uint32_t>(src), static_cast<uint32_t>(n));
              }
              break;
            }
            case Op::TableInit: {
              const wi::ElemSegment& seg = instance_->elems()[site.b];
              uint64_t d = u32_at(0), src = u32_at(1), n = u32_at(2);
              if (d + n > table->size() || src + n > seg.size()) {
                trap = "out of bounds table access: table.init out of bounds";
              } else if (charge(n * kFuelBytesPerTableElement)) {
                (void)table->Init(store_, static_cast<uint32_t>(d), seg,
                                  static_cast<uint32_t>(src), static_cast<uint32_t>(n));
              }
              break;
            }
            default: trap = "internal error: not a bulk instruction"; break;
          }
          fuel_used_ += ctx.fuel_charged;
          if (trap != nullptr) {
            // The guest's frames without ours, so the trap names the function that ran the
            // instruction ("in function N"), as the instruction's own trap did.
            std::vector<wi::Frame> trace = thread.*get(FramesTag{});
            if (!trace.empty()) trace.pop_back();
            *out_trap = wi::Trap::New(store_, trap, trace);
            return wabt::Result::Error;
          }
          if (stopped) {
            host_error_ = limits_.fuel != 0 && ctx.fuel_spent()
                              ? Error(ErrorCode::kFuelExhausted,
                                      "fuel exhausted (a bulk memory or table instruction costs 1 "
                                      "unit per " + std::to_string(kFuelBytesPerUnit) +
                                          " bytes); raise --fuel")
                              : *check_limits();
            *out_trap = wi::Trap::New(store_, host_error_->message);
            return wabt::Result::Error;
          }
          return wabt::Result::Ok;
        });
  }

  wi::Store store_;
  ExecLimits limits_;
  std::shared_ptr<const InterpModule> module_;
  wi::Instance::Ptr instance_;
  wi::Memory* memory_ = nullptr;
  uint64_t fuel_used_ = 0;
  uint64_t running_slice_ = 0;  // instructions of the slice being run (counted after it)
  bool exit_requested_ = false;
  int32_t exit_code_ = 0;
  std::optional<Error> host_error_;
  wi::Trap::Ptr* pending_trap_ = nullptr;  // the trap slot of the running call, if any
};

class InterpEngine final : public Engine {
 public:
  std::string_view name() const override { return "wabt"; }

  // Limits: fuel is counted per slice, the deadline and interrupt flag are checked between
  // slices, memory maxima are lowered before instantiation. Host functions of any module can be
  // linked, so every WASI and host-API capability is servable (whether the build has the host
  // API is declared separately by host_build_capabilities()).
  CapabilitySet capabilities() const override { return CapabilitySet::all(); }

  Result<std::shared_ptr<const Module>> load_module(const ModuleBytes& module) override {
    const uint8_t* bytes = module.data();
    const size_t size = module.size();
    if (auto r = check_module_preamble(bytes, size); !r) return tl::unexpected(r.error());
    wabt::Errors errors;
    wabt::ReadBinaryOptions options(all_features(), /*log_stream=*/nullptr,
                                    /*read_debug_names=*/false, /*stop_on_first_error=*/true,
                                    /*fail_on_custom_section_error=*/true);
    wi::ModuleDesc desc;
    wabt::Result r = wi::ReadBinaryInterp("module.wasm", bytes, size, options, &errors, &desc);
    if (wabt::Failed(r) && uses_exceptions(bytes, size)) {
      // Exception handling is not enabled on this backend (wabt_shared.h says why).
      return tl::unexpected(engine_wabt::exceptions_unsupported_error());
    }
    if (wabt::Failed(r)) return tl::unexpected(engine_wabt::invalid_module_error(errors));
    ModuleInfo info;
    info.size_bytes = size;
    info.defined_funcs = static_cast<uint32_t>(desc.funcs.size());
    for (const auto& imp : desc.imports) {
      ImportDesc d;
      d.module = imp.type.module;
      d.name = imp.type.name;
      fill_extern(*imp.type.type, &d.kind, &d.sig, &d.memory);
      info.imports.push_back(std::move(d));
    }
    for (const auto& exp : desc.exports) {
      ExportDesc d;
      d.name = exp.type.name;
      fill_extern(*exp.type.type, &d.kind, &d.sig, &d.memory);
      info.exports.push_back(std::move(d));
    }
    for (const auto& m : desc.memories) info.memories.push_back(limits_from(m.type.limits));
    std::vector<BulkSite> bulk;
    if (!rewrite_bulk_ops(desc, &bulk)) {
      return make_error(ErrorCode::kModuleUnsupported,
                        "the wabt backend cannot meter this module's bulk memory instructions; "
                        "run it with --engine interp");
    }
    return std::shared_ptr<const Module>(
        std::make_shared<InterpModule>(std::move(desc), std::move(info), std::move(bulk)));
  }

  Result<std::unique_ptr<Instance>> instantiate(std::shared_ptr<const Module> module,
                                                const HostFuncTable& host,
                                                const ExecLimits& limits) override {
    auto im = std::dynamic_pointer_cast<const InterpModule>(module);
    if (!im) {
      return make_error(ErrorCode::kInvalidArgument,
                        "module was loaded by a different engine than \"wabt\"");
    }
    auto inst = std::make_unique<InterpInstance>(limits);
    if (auto r = inst->init(std::move(im), host); !r) return tl::unexpected(r.error());
    return std::unique_ptr<Instance>(std::move(inst));
  }
};

}  // namespace

namespace testing {
std::unique_ptr<Engine> make_wabt_reference_engine() { return std::make_unique<InterpEngine>(); }
}  // namespace testing

}  // namespace wasmcap

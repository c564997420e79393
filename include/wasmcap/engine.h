// The engine-neutral interface: load/validate a module, describe its imports and exports,
// instantiate it against a table of host functions, run it under limits.
//
// Every backend (wasmcap's interpreter, make_fast_engine; the AOT tier, make_aot_engine)
// implements Engine, and all host code (WASI, host APIs) is written once against HostFuncTable +
// GuestMemory. make_engine() (runtime.h) creates one by name: "interp", "aot" or "auto".
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "wasmcap/error.h"
#include "wasmcap/memory_pool.h"

namespace wasmcap {

enum class ValType : uint8_t { kI32, kI64, kF32, kF64, kV128, kFuncRef, kExternRef };
std::string_view val_type_name(ValType t);

// A WebAssembly value. v128 values may be passed to and returned from exported functions
// (Instance::call; the core spec test suite needs them); host functions take only i32/i64/f32/
// f64. Reference values are not passed across the host boundary.
struct Value {
  ValType type = ValType::kI32;
  union {
    uint32_t i32;
    uint64_t i64;
    float f32;
    double f64;
    uint8_t v128[16];  // little-endian lane bytes
  };
  Value() : v128{} {}
  static Value I32(uint32_t v) { Value x; x.type = ValType::kI32; x.i32 = v; return x; }
  static Value I64(uint64_t v) { Value x; x.type = ValType::kI64; x.i64 = v; return x; }
  static Value F32(float v) { Value x; x.type = ValType::kF32; x.f32 = v; return x; }
  static Value F64(double v) { Value x; x.type = ValType::kF64; x.f64 = v; return x; }
  static Value V128(const uint8_t (&bytes)[16]) {
    Value x;
    x.type = ValType::kV128;
    std::memcpy(x.v128, bytes, 16);
    return x;
  }
};

struct FuncSig {
  std::vector<ValType> params;
  std::vector<ValType> results;
  // "(i32, i64) -> (i32)"
  std::string to_string() const;
  friend bool operator==(const FuncSig& a, const FuncSig& b) {
    return a.params == b.params && a.results == b.results;
  }
  friend bool operator!=(const FuncSig& a, const FuncSig& b) { return !(a == b); }
};

enum class ExternKind : uint8_t { kFunc, kTable, kMemory, kGlobal, kTag };
std::string_view extern_kind_name(ExternKind k);

struct MemoryLimits {
  uint64_t min_pages = 0;
  uint64_t max_pages = 0;  // meaningful only when has_max
  bool has_max = false;
  bool is64 = false;
  bool shared = false;
};

struct ImportDesc {
  std::string module;
  std::string name;
  ExternKind kind = ExternKind::kFunc;
  FuncSig sig;          // kind == kFunc
  MemoryLimits memory;  // kind == kMemory
};

struct ExportDesc {
  std::string name;
  ExternKind kind = ExternKind::kFunc;
  FuncSig sig;          // kind == kFunc
  MemoryLimits memory;  // kind == kMemory
};

struct ModuleInfo {
  std::vector<ImportDesc> imports;
  std::vector<ExportDesc> exports;
  std::vector<MemoryLimits> memories;  // memories defined (not imported) by the module
  uint64_t size_bytes = 0;
  uint32_t defined_funcs = 0;

  const ExportDesc* find_export(std::string_view name) const;
};

constexpr uint64_t kWasmPageSize = 65536;

// Bounds-checked view of a guest's linear memory, handed to host functions.
// The view is valid for the duration of one host call (memory may grow between calls).
// All accessors are overflow-safe: an out-of-range (offset, len) yields nullptr/false,
// which host functions turn into EFAULT, never a host crash.
class GuestMemory {
 public:
  GuestMemory() = default;
  GuestMemory(uint8_t* base, uint64_t size) : base_(base), size_(size) {}

  uint64_t size() const { return size_; }
  bool valid() const { return base_ != nullptr; }

  bool in_bounds(uint64_t offset, uint64_t len) const {
    return base_ != nullptr && offset <= size_ && len <= size_ - offset;
  }
  // Pointer to [offset, offset+len), or nullptr when any byte is outside memory.
  uint8_t* range(uint64_t offset, uint64_t len) const {
    return in_bounds(offset, len) ? base_ + offset : nullptr;
  }
  // Little-endian scalar access (wasm is little-endian; so are our supported hosts).
  template <class T>
  bool load(uint64_t offset, T* out) const {
    const uint8_t* p = range(offset, sizeof(T));
    if (p == nullptr) return false;
    std::memcpy(out, p, sizeof(T));
    return true;
  }
  template <class T>
  bool store(uint64_t offset, T value) const {
    uint8_t* p = range(offset, sizeof(T));
    if (p == nullptr) return false;
    std::memcpy(p, &value, sizeof(T));
    return true;
  }

 private:
  uint8_t* base_ = nullptr;
  uint64_t size_ = 0;
};

// What a host function asks the engine to do once it returns.
enum class HostStatus : uint8_t {
  kOk,    // results are written; the guest continues
  kExit,  // the guest exits (WASI proc_exit) with exit_code
  kTrap,  // the guest traps with message (a host invariant was broken)
  kFail,  // the host ends the run with error_code (a limit hit inside a host call, ...)
};

struct HostCallResult {
  HostStatus status = HostStatus::kOk;
  int32_t exit_code = 0;
  std::string message;
  ErrorCode error_code = ErrorCode::kTrapHost;

  static HostCallResult ok() { return {}; }
  static HostCallResult exit(int32_t code) { return {HostStatus::kExit, code, {}}; }
  static HostCallResult trap(std::string msg) { return {HostStatus::kTrap, 0, std::move(msg)}; }
  static HostCallResult fail(Error e) {
    return {HostStatus::kFail, 0, std::move(e.message), e.code};
  }
};

struct ExecLimits;

// The one rate at which work the guest makes the host do is metered, whoever does it: one fuel
// unit per kFuelBytesPerUnit bytes moved or written. WASI host calls charge their transfers at
// this rate (WasiHost::charge_bytes), and every engine charges bulk instructions at it on top of
// their one unit as an instruction: memory.fill/copy/init by the bytes they touch, memory.grow by
// the bytes it makes available, table.fill/copy/init/grow by their elements at
// kFuelBytesPerTableElement bytes each (docs/security-model.md, "Bulk work and loading"). Without
// it one instruction could make the host write 4 GiB for one unit: a guest under --fuel 20000
// ran 15-35 s of memset.
inline constexpr uint64_t kFuelBytesPerUnit = 16;
// A table element counts as a reference's size (8 bytes) whatever an engine stores for it, so
// the same instruction costs the same fuel on every engine.
inline constexpr uint64_t kFuelBytesPerTableElement = 8;
// Fuel units for `bytes` of bulk work (rounded up; 0 bytes cost 0).
constexpr uint64_t fuel_for_bytes(uint64_t bytes) {
  return bytes / kFuelBytesPerUnit + (bytes % kFuelBytesPerUnit != 0 ? 1 : 0);
}

struct HostContext {
  GuestMemory memory;                  // the instance's memory, refreshed for each call
  const ExecLimits* limits = nullptr;  // the running instance's limits (deadline, interrupt)
  // Fuel for host work. The engine sets fuel_left to what is left of the run's budget when the
  // call starts (UINT64_MAX when the run is not metered); a host function adds the units its
  // work costs to fuel_charged (see charge_fuel) and stops early once it reaches fuel_left.
  // The engine adds fuel_charged to the run's consumption when the call returns, and ends the
  // run with fuel_exhausted if the budget is spent.
  uint64_t fuel_left = UINT64_MAX;
  uint64_t fuel_charged = 0;
  // Charges `units`; false once the budget is spent (the caller must stop its work).
  bool charge_fuel(uint64_t units) {
    fuel_charged = units > UINT64_MAX - fuel_charged ? UINT64_MAX : fuel_charged + units;
    return fuel_charged < fuel_left || fuel_left == UINT64_MAX;
  }
  bool fuel_spent() const { return fuel_left != UINT64_MAX && fuel_charged >= fuel_left; }
};

using HostCallback =
    std::function<HostCallResult(HostContext& ctx, const Value* args, Value* results)>;

struct HostFunc {
  std::string module;
  std::string name;
  FuncSig sig;
  HostCallback callback;
};

// A memory, table or global of one instance that other instances import: the core instances
// of a component share them (an adapter imports the main module's memory), as do the spec
// tests' registered modules. An instance hands one out with Instance::export_extern(); another
// instantiation takes it through HostFuncTable::add_extern() under the import's (module, name),
// so the importer reads and writes the exporter's storage, not a copy. The handle keeps that
// storage alive after the exporting instance is gone. Engine-specific: an engine imports only
// what an instance of the same engine exported (link_error otherwise; engine() names it).
// Limits belong to the storage, set once by the instance that defined it: a memory's cap is its
// exporter's (declared maximum and ExecLimits::max_memory_pages), whoever grows it.
class SharedExtern {
 public:
  virtual ~SharedExtern() = default;
  virtual ExternKind kind() const = 0;
  virtual std::string_view engine() const = 0;
};

// The set of host functions (and shared memories, tables, globals) an instance may import.
// One table serves every engine.
class HostFuncTable {
 public:
  // Adds or replaces (module, name).
  void add(HostFunc f);
  const HostFunc* find(std::string_view module, std::string_view name) const;
  bool has_module(std::string_view module) const;
  const std::vector<HostFunc>& funcs() const { return funcs_; }

  // Adds or replaces the memory, table or global imported as (module, name).
  void add_extern(std::string module, std::string name, std::shared_ptr<SharedExtern> ext);
  std::shared_ptr<SharedExtern> find_extern(std::string_view module, std::string_view name) const;

 private:
  struct NamedExtern {
    std::string module, name;
    std::shared_ptr<SharedExtern> ext;
  };
  std::vector<HostFunc> funcs_;
  std::vector<NamedExtern> externs_;
};

// Execution limits. Defaults are "no limit" except memory, capped at 4 GiB (wasm32's max).
struct ExecLimits {
  uint64_t max_memory_pages = 65536;
  // Cap on every table's size: table.grow beyond it fails (-1) instead of allocating host
  // memory without bound (each element costs the host 8+ bytes).
  uint64_t max_table_elements = 1u << 20;
  uint64_t fuel = 0;  // instructions (interpreter) / fuel units; 0 = unlimited
  std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max();
  // Optional cooperative cancellation from another thread; checked like the deadline.
  const std::atomic<bool>* interrupt = nullptr;
  // Optional: a pool the memory this instance defines takes its committed pages from, shared
  // with other instances (memory_pool.h). When the pool is short, memory.grow returns -1 as at
  // max_memory_pages, and an initial size that does not fit fails instantiation (memory_limit).
  std::shared_ptr<wasmcap_memory_pool> memory_pool;
};

// A pool of `max_bytes` (rounded down to whole 64 KiB pages) for ExecLimits::memory_pool.
std::shared_ptr<wasmcap_memory_pool> make_memory_pool(uint64_t max_bytes);

// True when the run under `limits` must stop: its interrupt flag is raised or its deadline has
// passed. Reads the clock only when there is a deadline. Every engine checks it before a call
// runs any code, after every host call and regularly in between (each at its own points).
inline bool deadline_reached(const ExecLimits& limits) {
  return (limits.interrupt != nullptr && limits.interrupt->load(std::memory_order_relaxed)) ||
         (limits.deadline != std::chrono::steady_clock::time_point::max() &&
          std::chrono::steady_clock::now() >= limits.deadline);
}
// The error that ends a run stopped by its interrupt flag or deadline (deadline_exceeded, saying
// which; `during`, when given, names what was running, e.g. "wasmcap_https.request"). The one
// wording for every engine and host function that stops a run for either, so a run ends with
// the same error whoever noticed.
Error deadline_error(const ExecLimits& limits, std::string_view during = {});

// Outcome of a call that did not fail: either it returned values, or the guest exited
// (WASI proc_exit) with a status.
struct CallOutcome {
  bool exited = false;
  int32_t exit_code = 0;
  std::vector<Value> results;
};

class Module {
 public:
  virtual ~Module() = default;
  virtual const ModuleInfo& info() const = 0;
  // The engine whose code runs the module's instances ("interp", "aot"): what a run reports as
  // its engine (`auto` loads a module on one of them).
  virtual std::string_view engine() const = 0;
};

// For backends: checks call arguments against an export's signature (count, then each type;
// only i32/i64/f32/f64/v128 values cross the boundary). invalid_argument naming the export, the
// position and both types. Instance::call uses it, so every engine refuses the same calls the
// same way.
Result<void> check_call_args(std::string_view export_name, const FuncSig& sig,
                             const std::vector<Value>& args);

class Instance {
 public:
  virtual ~Instance() = default;
  // Calls an exported function. Traps and limit violations are errors; proc_exit is not.
  // Arguments must match the export's parameter types (invalid_argument otherwise).
  //
  // Not virtual: the same prologue and epilogue for every engine (src/engine/instance.cc), so
  // they refuse, stop and report calls identically. In order: a start function's proc_exit is
  // reported; the export is found (no_entry_point); the arguments are checked; a call from a
  // host function into the instance running it is refused (invalid_argument) unless the engine
  // supports it (reentrant()), and calls nested through host functions beyond kMaxCallNesting
  // are refused (trap_stack_exhausted); a raised interrupt
  // or a passed deadline stops the call before any code runs (deadline_exceeded); the arguments
  // become raw slots, the engine runs the export (run_export) and its results become Values.
  // A trap with the memory at its cap says so.
  Result<CallOutcome> call(std::string_view export_name, const std::vector<Value>& args);
  // Reads an exported global (i32/i64/f32/f64/v128). Backends that cannot read globals say so
  // (module_unsupported), never return a made-up value.
  virtual Result<Value> get_global(std::string_view export_name) {
    return make_error(ErrorCode::kModuleUnsupported,
                      "this engine cannot read exported global \"" + std::string(export_name) +
                          "\"");
  }
  // The memory, table or global exported as `export_name`, for another instantiation to import
  // (SharedExtern). not_found when there is no such export; module_unsupported from an engine
  // that does not share them.
  virtual Result<std::shared_ptr<SharedExtern>> export_extern(std::string_view export_name) {
    return make_error(ErrorCode::kModuleUnsupported,
                      "this engine cannot share exported memories, tables or globals (\"" +
                          std::string(export_name) + "\")");
  }
  // The instance's memory (export "memory", else memory 0); invalid view when it has none.
  virtual GuestMemory memory() = 0;
  // Instructions / fuel units consumed so far (granularity depends on the engine).
  virtual uint64_t fuel_consumed() const = 0;

 protected:
  // --- What a backend provides under call() ---
  // How a run of an export ended without an error.
  struct RunEnd {
    bool exited = false;  // the guest called proc_exit (exit_code)
    int32_t exit_code = 0;
  };
  // The module's description (call() finds exports in it) and the instance's limits.
  virtual const ModuleInfo& module_info() const = 0;
  virtual const ExecLimits& exec_limits() const = 0;
  // Raw slots per value in the arrays run_export() takes: values are untyped 64-bit slots (an
  // i32/f32 in the low half), a v128 two of them (low half first), which needs a stride of 2.
  // A backend whose stride is 1 is never asked to pass a v128 (call() refuses such an export).
  virtual uint32_t raw_stride() const { return 1; }
  // Runs function export `index` (of module_info().exports; its signature is checked and the
  // instance is not running) with its arguments in `args` (raw_stride() slots per parameter);
  // on return its results are in `results` (the same layout, zeroed beforehand). Traps and
  // limits are errors.
  virtual Result<RunEnd> run_export(size_t index, const uint64_t* args, uint64_t* results) = 0;
  // For init: the start function called proc_exit, so every later call reports that exit.
  void set_start_exit(int32_t code) { start_exit_ = code; }
  // True when run_export() may be called while a call of this instance runs (from a host
  // function it called): the backend keeps the calls' state apart.
  virtual bool reentrant() const { return false; }

 private:
  std::optional<int32_t> start_exit_;
  uint32_t running_ = 0;  // call()s of this instance in progress (more than 1: re-entrant)
};

// The most Instance::call()s one thread runs nested through host functions (a guest calling a
// host function that calls into an instance, this one or another, ...): each level takes host
// stack, so the next is refused (trap_stack_exhausted) rather than overflow it.
inline constexpr uint32_t kMaxCallNesting = 100;

// --- Capabilities: what an engine (and this build's host) can actually provide ----------------
//
// "No silent ignore": a plan that needs a capability the chosen engine or this build cannot
// provide is refused before the module runs, never run without it. Each backend declares what it
// can enforce or serve; the host build declares which host APIs exist (host_build_capabilities()
// in wasmcap/runtime.h). The truth table is in docs/capabilities.md.
//
// X-macro: (enumerator, stable dotted name). Names match the manifest vocabulary.
#define WASMCAP_CAPABILITIES(X)        \
  X(kWasiArgs, "wasi.args")            \
  X(kWasiEnv, "wasi.env")              \
  X(kWasiClocks, "wasi.clocks")        \
  X(kWasiRandom, "wasi.random")        \
  X(kWasiStdio, "wasi.stdio")          \
  X(kWasiFs, "wasi.fs")                \
  X(kHostApiHttps, "host_api.https")   \
  X(kLimitFuel, "limits.fuel")         \
  X(kLimitTimeout, "limits.timeout")   \
  X(kLimitMemory, "limits.memory")

enum class Capability : uint8_t {
#define WASMCAP_X(e, name) e,
  WASMCAP_CAPABILITIES(WASMCAP_X)
#undef WASMCAP_X
};

// Stable name of a capability ("host_api.https", "limits.fuel", ...).
inline std::string_view capability_name(Capability c) {
  switch (c) {
#define WASMCAP_X(e, name) \
  case Capability::e:      \
    return name;
    WASMCAP_CAPABILITIES(WASMCAP_X)
#undef WASMCAP_X
  }
  return "?";
}

// True for capabilities served by host code (wasi.*, host_api.*) rather than enforced by the
// engine alone (limits.*). Host capabilities must exist both in the build and on the engine.
inline bool is_host_capability(Capability c) {
  return c != Capability::kLimitFuel && c != Capability::kLimitTimeout &&
         c != Capability::kLimitMemory;
}

// A small set of capabilities (a bit mask over Capability).
class CapabilitySet {
 public:
  CapabilitySet() = default;
  // Every capability wasmcap knows.
  static CapabilitySet all() {
    CapabilitySet s;
#define WASMCAP_X(e, name) s.add(Capability::e);
    WASMCAP_CAPABILITIES(WASMCAP_X)
#undef WASMCAP_X
    return s;
  }
  CapabilitySet& add(Capability c) {
    bits_ |= bit(c);
    return *this;
  }
  CapabilitySet& remove(Capability c) {
    bits_ &= ~bit(c);
    return *this;
  }
  bool has(Capability c) const { return (bits_ & bit(c)) != 0; }
  bool empty() const { return bits_ == 0; }
  // Members in declaration order.
  std::vector<Capability> list() const {
    std::vector<Capability> out;
#define WASMCAP_X(e, name) \
  if (has(Capability::e)) out.push_back(Capability::e);
    WASMCAP_CAPABILITIES(WASMCAP_X)
#undef WASMCAP_X
    return out;
  }
  friend bool operator==(CapabilitySet a, CapabilitySet b) { return a.bits_ == b.bits_; }
  friend bool operator!=(CapabilitySet a, CapabilitySet b) { return a.bits_ != b.bits_; }

 private:
  static uint32_t bit(Capability c) { return uint32_t{1} << static_cast<uint32_t>(c); }
  uint32_t bits_ = 0;
};

// The file a module's bytes were read from, and its identity while they were read: device,
// inode, size, and modification and status-change times in nanoseconds (read_module_file() in
// runtime.h fills it from an fstat before and after the read, and leaves it out when they
// differ). It must describe exactly the bytes it accompanies: an engine that caches per module
// may trust it to skip hashing an unchanged file (the AOT engine: docs/aot.md, "Cold start").
struct ModuleFileIdentity {
  std::string path;  // absolute
  uint64_t device = 0;
  uint64_t inode = 0;
  uint64_t size = 0;
  int64_t mtime_ns = 0;
  int64_t ctime_ns = 0;
};

// A module's bytes as a run hands them to an engine: the bytes, the file they were read from
// (when its identity held while they were read), and their sha256 — given by a caller that
// verified it (a signed manifest's), learnt by an engine from a trusted record of the unchanged
// file, or hashed once, by whichever engine or record needs it first. Every engine's load()
// takes one, so the hash is computed at most once per run and never passed around by hand.
// A view: the bytes must outlive it and every load() of it, unless a keeper holds them (then an
// engine may keep the keeper, and views of the bytes, instead of copying them: copying a module
// of megabytes into fresh pages costs milliseconds). sha256() is thread-safe.
class ModuleBytes {
 public:
  ModuleBytes(const uint8_t* data, size_t size) : data_(data), size_(size) {}
  explicit ModuleBytes(const std::vector<uint8_t>& bytes) : ModuleBytes(bytes.data(), bytes.size()) {}
  ModuleBytes(const ModuleBytes&) = delete;
  ModuleBytes& operator=(const ModuleBytes&) = delete;

  // The file the bytes were read from (read_module_file). An identity whose size is not the
  // bytes' describes other bytes, and is ignored.
  ModuleBytes& with_file(const std::optional<ModuleFileIdentity>& file);
  // The bytes' sha256 (64 lowercase hex digits) as the caller verified it: hashed from exactly
  // these bytes, or checked against a signed manifest. Anything else is ignored (hashed later).
  ModuleBytes& with_sha256(const std::string& verified_sha256);
  // What owns the bytes and keeps them unchanged for as long as it lives (shared, never written).
  ModuleBytes& with_keeper(std::shared_ptr<const void> keeper) {
    keeper_ = std::move(keeper);
    return *this;
  }

  const uint8_t* data() const { return data_; }
  // The bytes' keeper, or null: the bytes live only as long as the caller says.
  const std::shared_ptr<const void>& keeper() const { return keeper_; }
  size_t size() const { return size_; }
  const ModuleFileIdentity* file() const { return file_ ? &*file_ : nullptr; }
  // The sha256 when it is known without hashing: given, or learnt; "" otherwise.
  std::string known_sha256() const;
  // The sha256, hashing the bytes the first time it is needed and not known.
  const std::string& sha256() const;
  // For an engine that found the hash in a trusted record of the unchanged file (the caller's
  // file identity): the first known hash stays.
  void learn_sha256(const std::string& sha256) const;

 private:
  const uint8_t* data_;
  size_t size_;
  std::optional<ModuleFileIdentity> file_;
  std::shared_ptr<const void> keeper_;
  mutable std::mutex mu_;
  mutable std::string sha256_;  // set once, then never changed
};

class Engine {
 public:
  virtual ~Engine() = default;
  virtual std::string_view name() const = 0;
  // The capabilities this backend can provide: the limits it enforces (limits.*) and the host
  // functions it can link and call (wasi.*, host_api.*). Runs that need anything outside this
  // set are refused before the module is loaded (capability_unavailable). The default declares
  // nothing, so a backend that forgets to declare fails closed.
  virtual CapabilitySet capabilities() const { return CapabilitySet(); }
  // Decodes and validates a module. Malformed/unsupported input is an error, never a crash.
  // An engine that caches per module keys its records on module.sha256() (the AOT engine's
  // objects, the fast engine's validated-module records), or on the file's record.
  Result<std::shared_ptr<const Module>> load(const ModuleBytes& module) { return load_module(module); }
  Result<std::shared_ptr<const Module>> load(const uint8_t* bytes, size_t size) {
    return load_module(ModuleBytes(bytes, size));
  }
  // Links the module's imports against `host` (unknown imports or signature mismatches are
  // link errors) and instantiates it under `limits` (the memory cap applies from here on).
  virtual Result<std::unique_ptr<Instance>> instantiate(std::shared_ptr<const Module> module,
                                                        const HostFuncTable& host,
                                                        const ExecLimits& limits) = 0;

 protected:
  // What a backend provides under load().
  virtual Result<std::shared_ptr<const Module>> load_module(const ModuleBytes& module) = 0;
};

// Options of the fast interpreter (docs/fast-interp.md, "Validated-module records").
struct FastOptions {
  // Keep a record of each module this build of wasmcap validated, named by the sha256 of its
  // bytes, in the cache directory, and skip validating the same bytes again when a trusted
  // record says they are valid. Off by default for embedders; `wasmcap run` and make_engine()
  // turn it on (fast_options()). A cache directory that cannot be used means "validate".
  bool validation_records = false;
  // The cache directory; empty: AotOptions::cache_dir's default ($WASMCAP_CACHE_DIR, else
  // $XDG_CACHE_HOME/wasmcap/aot, else ~/.cache/wasmcap/aot).
  std::string cache_dir;
  // Modules smaller than this are validated every time: validating them costs about what
  // looking a record up does, and they would fill the cache directory with records.
  uint64_t min_recorded_bytes = 64 * 1024;
};

// wasmcap's own interpreter, the engine "interp" (docs/fast-interp.md): validated by wabt's
// validator, translated lazily to threaded register code; fuel charged per basic block, deadlines
// checked at loop back-edges, calls and after host calls. The first form keeps no validation
// records.
std::unique_ptr<Engine> make_fast_engine();
std::unique_ptr<Engine> make_fast_engine(FastOptions options);

// Options of the AOT backend (docs/aot.md). Empty/negative fields take their defaults.
struct AotOptions {
  // Where compiled objects are cached. Default: $WASMCAP_CACHE_DIR, else
  // $XDG_CACHE_HOME/wasmcap/aot, else ~/.cache/wasmcap/aot.
  std::string cache_dir;
  // The C compiler. Default: $WASMCAP_CC, else "cc" found in PATH.
  std::string compiler;
  // -O level for compiles (0..3). Default: $WASMCAP_AOT_OPT, else 2. Part of the cache key.
  int opt_level = -1;
  // Show a progress line on stderr (only when it is a terminal) while a compile takes long.
  bool progress = false;
  // Compile the interrupt checks (loop headers, function entries) that enforce deadlines and
  // interrupts. Only for measuring their cost: without them the engine does not declare
  // limits.timeout, so runs with a deadline or an interrupt flag are refused.
  bool interruptible = true;
  // Never compile in load(): a module without a verified object in the cache fails with
  // not_found ("no compiled object"). `--engine auto` probes the cache this way and compiles in
  // the background instead (docs/aot.md, "Engine choice").
  bool cache_only = false;

  // --- Bounds of the C compiler (docs/aot.md, "Compile bounds") ---
  // Wall-clock limit of one compile; 0 = kDefaultCompileTimeoutMs plus an allowance per MiB of
  // the module's wasm code, at most 30 min (docs/aot.md, "Compile bounds"). Past it the
  // compiler's whole process group is killed and load() fails with compile_limit.
  uint64_t compile_timeout_ms = 0;
  // Address-space limit (RLIMIT_AS and RLIMIT_DATA) of every compiler process, in MiB;
  // 0 = kDefaultCompileMemoryMb. A compiler running out of it fails load() with compile_limit.
  uint64_t compile_memory_mb = 0;
  // Compiler processes running at once for a module split into translation units (docs/aot.md,
  // "Compile at scale"); each has the memory limit above. 0 = $WASMCAP_AOT_JOBS, else the
  // number of online CPUs; at most 64.
  unsigned compile_jobs = 0;
  // Compiler processes a background compile (`--engine auto`, docs/aot.md "Background compile")
  // runs at once. 0 = half the online CPUs (at least 1), so the worker never takes every core
  // from the runs in the foreground; never more than compile_jobs/$WASMCAP_AOT_JOBS when one is
  // given; at most 64. Host config: aot.background_jobs.
  unsigned background_jobs = 0;
  // Split a module into translation units when it defines more functions than this, at most
  // this many per unit. -1 = $WASMCAP_AOT_UNIT_FUNCTIONS, else 1000; 0 = never split.
  // Part of the cache key.
  int64_t unit_functions = -1;
  // The run's deadline and interrupt flag, when a compile happens on a user's behalf inside a
  // run (run_module sets both from RunOptions): the compile is killed when either fires, and
  // load() fails with deadline_exceeded.
  std::chrono::steady_clock::time_point compile_deadline =
      std::chrono::steady_clock::time_point::max();
  const std::atomic<bool>* interrupt = nullptr;

  // --- Guest stack (docs/aot.md, "Guest stack") ---
  // Size of the stack guest code runs on, in bytes: a dedicated mapping per thread with a
  // PROT_NONE guard below it, independent of RLIMIT_STACK (`ulimit -s`). Deeper recursion traps
  // with trap_stack_exhausted. 0 = kDefaultAotStackBytes; at least 1 MiB, at most 1 GiB.
  uint64_t stack_bytes = 0;

  // --- Cache size (docs/aot.md, "Cache") ---
  // After every compile that stores an object, the least recently used objects are removed
  // (prune_cache) until the objects hold at most this many bytes; the object just compiled and
  // objects whose compile holds their lock stay. 0 = kDefaultCacheMaxBytes; UINT64_MAX = no cap.
  // Host config: aot.cache_max_mb.
  uint64_t cache_max_bytes = 0;
};

inline constexpr uint64_t kDefaultCacheMaxBytes = 2ull << 30;  // 2 GiB
inline constexpr uint64_t kDefaultCompileTimeoutMs = 120000;
inline constexpr uint64_t kDefaultCompileMemoryMb = 4096;
inline constexpr uint64_t kDefaultAotStackBytes = 8ull << 20;

// The AOT backend: wasm -> C (wabt's wasm2c writer, in-process) -> native code (the system C
// compiler), cached, run on wasmcap's own thread-safe runtime. Deadlines and interrupts are
// enforced by preempting the thread that runs guest code with SIGURG (x86-64 and AArch64 Linux;
// elsewhere by checks compiled into loop headers and function entries). A process that runs aot
// guests must not replace wasmcap's handlers for SIGURG, SIGSEGV and SIGBUS once installed
// (handlers installed before are chained to for signals that are not the guest's). Fuel is not
// available (capabilities() does not declare limits.fuel, so runs that set it are refused).
std::unique_ptr<Engine> make_aot_engine(AotOptions options = {});

// True when the AOT engine can compile modules here (its C compiler is found).
bool aot_available(const AotOptions& options = {});

// --- Engines by name (src/engine/engines.cc): the one table of product engines -----------------

// What make_engine() builds an engine with; run_module (runtime.h) fills it from RunOptions.
struct EngineConfig {
  AotOptions aot;
  // The host functions the engine's runs will link, by name and signature (none of them is
  // called): the aot engine checks a module's imports against them before compiling anything
  // (docs/aot.md, "Imports are checked first"). Asked for only by an engine that checks (building
  // the table is a cost an interpreted cold start need not pay). Null, or a null table: no early
  // check (instantiate() still links).
  std::function<std::shared_ptr<const HostFuncTable>()> link_check;
  // --- auto (src/engine/tiered; docs/aot.md, "Engine choice") ---
  // The runs need fuel, which only the interpreter meters: auto loads on the interpreter.
  bool metered = false;
  // Compile in the foreground when the cache has no object yet, instead of interpreting this
  // run and compiling in the background (`--wait-for-compile`).
  bool wait_for_compile = false;
  // One line per load saying which engine auto chose and why ("engine auto: interp (...)").
  std::function<void(const std::string&)> notice;
  // The pid of a background compile auto started for the next run.
  std::function<void(int pid)> on_background_compile;
};

// The product engines, in the order help and errors list them: "interp", "aot", "auto".
const std::vector<std::string>& engine_names();
// The fast engine's options for an engine that uses the AOT cache directory `aot.cache_dir` (and
// its defaults): validation records on, unless $WASMCAP_VALIDATION_CACHE is "0"
// (docs/fast-interp.md, "Validated-module records").
FastOptions fast_options(const AotOptions& aot);
// Creates the engine named `name`: "interp" (wasmcap's own interpreter, the default), "aot", or
// "auto" (a module runs on aot when the cache has its object, else on the interpreter while it
// compiles in the background). Unknown names are invalid_argument, listing engine_names().
Result<std::unique_ptr<Engine>> make_engine(std::string_view name, EngineConfig config);
inline Result<std::unique_ptr<Engine>> make_engine(std::string_view name, const AotOptions& aot = {}) {
  EngineConfig config;
  config.aot = aot;
  return make_engine(name, std::move(config));
}

// The directories where the engines keep this user's state (the AOT cache's objects, which runs
// load as native code, and validation records; the record key's directory), each with what it
// is: `ws create` keeps them out of workspaces (src/workspace/state_dirs.h). Paths that cannot be
// computed (no HOME) are left out; nothing is created.
struct EngineStateDir {
  std::string path;
  std::string what;
};
std::vector<EngineStateDir> engine_state_dirs();

// The AOT cache's contents (docs/aot.md, "Cache"): what `wasmcap cache list|prune|clear` show
// and remove. An object is KEY.so with its sidecars (KEY.meta, KEY.verified); records are the
// engines' smaller files (validation, module and file records, compiler identities, failed
// background compiles); temporaries are the directories of compiles in progress or killed.
struct CacheObject {
  std::string key;
  uint64_t bytes = 0;     // the object and its sidecars
  int64_t last_used = 0;  // unix seconds: the later of the object's access and change times
};
struct CacheContents {
  std::string dir;
  std::vector<CacheObject> objects;  // most recently used first
  uint64_t object_bytes = 0;
  uint64_t records = 0, record_bytes = 0;
  uint64_t temporaries = 0, temporary_bytes = 0;
};
// Lists `aot`'s cache directory (its default when empty), refused as every use of it is
// (open_cache_dir: io_error when not this user's 0700 directory).
Result<CacheContents> cache_contents(const AotOptions& aot);

struct CachePruneRule {
  // Remove objects not used for this long (0: no age rule) ...
  uint64_t unused_for_s = 0;
  // ... then the least recently used until the objects hold at most this much (UINT64_MAX: no cap).
  uint64_t max_bytes = UINT64_MAX;
  // Everything: every object, every record; and every stale temporary (as any prune).
  bool all = false;
  // An object never removed (the key of the object a compile has just stored: its run loads it).
  std::string keep;
};
struct CachePruned {
  uint64_t objects = 0, bytes = 0, records = 0, temporaries = 0;
  uint64_t busy = 0;  // objects left because a compile of the same key holds its lock
};
// Removes what `rule` selects. An object whose KEY.lock a compile holds is left (busy); a run
// that has an object loaded keeps it (unlinking does not unmap). Stale temporaries (of killed
// compiles) always go.
Result<CachePruned> prune_cache(const AotOptions& aot, const CachePruneRule& rule);

// Checks a binary's 8-byte preamble before any decoder sees it: "\0asm" then version 1, layer 0
// (a core module). A WebAssembly component (WASI Preview 2: layer 1) is module_unsupported with a
// message saying so; anything else is module_malformed. Every engine's load() calls it.
Result<void> check_module_preamble(const uint8_t* bytes, size_t size);

}  // namespace wasmcap

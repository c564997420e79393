// Backend 2: ahead-of-time compilation through wasm2c and the system C compiler.
//
// load():        validate + describe with the interpreter's loader (both engines accept and
//                describe modules identically), then find the compiled object in the cache or
//                translate + compile + store it, and dlopen it (RTLD_LOCAL).
// instantiate(): link imports against the HostFuncTable (engine/host_call.h, as every engine),
//                allocate the instance, run wasm2c's instantiation inside a trap boundary.
// run_export():  under Instance::call, run an export inside a trap boundary; a watchdog thread
//                raises the instance's interrupt flag at the deadline or on interrupt.
// dispatch():    every host call, from the runtime's C dispatcher into invoke_host.
#include <dlfcn.h>
#include <link.h>
#include <pthread.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <cstdlib>
#include <map>
#include <mutex>
#include <optional>
#include <thread>

#include "engine/aot/aot_cache.h"
#include "engine/aot/aot_link.h"
#include "engine/aot/aot_runtime.h"
#include "engine/aot/translate.h"
#include "engine/describe.h"
#include "engine/host_call.h"
#include "wasmcap/engine.h"

namespace wasmcap {
namespace {

using Clock = std::chrono::steady_clock;

// --- Watchdog: one thread per process, raising interrupt flags ----------------------------
class Watchdog {
 public:
  static Watchdog& get() {
    static Watchdog* w = new Watchdog();  // never destroyed: its thread may outlive main()
    return *w;
  }

  // `current`: the thread's current-flag slot (wasmcap_aot_current_flag_slot), whose flag is
  // raised too: an instance the call entered through a shared table (docs/aot.md, "Shared
  // tables") stops at the caller's deadline.
  uint64_t add(volatile uint32_t* flag, volatile uint32_t* volatile* current,
               Clock::time_point deadline, const std::atomic<bool>* interrupt, pthread_t thread) {
    std::lock_guard<std::mutex> lock(mu_);
    if (!started_) {
      std::thread([this] { loop(); }).detach();
      started_ = true;
    }
    uint64_t id = ++next_id_;
    entries_.push_back({id, flag, current, deadline, interrupt, thread, false});
    // Woken only when this entry needs it earlier than the loop will wake anyway: a component's
    // call makes a guarded call per realloc, and a notify each (a futex wake and a context
    // switch of this thread) cost more than the calls. The loop then re-plans with this entry.
    auto wake = deadline;
    if (interrupt != nullptr) wake = std::min(wake, Clock::now() + kInterruptPoll);
    if (wake < planned_) {
      planned_ = wake;
      cv_.notify_one();
    }
    return id;
  }

  // After remove() returns, the watchdog never touches the flag again and never signals the
  // thread again for this entry (a signal sent just before may still arrive: harmless).
  void remove(uint64_t id) {
    std::lock_guard<std::mutex> lock(mu_);
    entries_.erase(std::remove_if(entries_.begin(), entries_.end(),
                                  [&](const Entry& e) { return e.id == id; }),
                   entries_.end());
  }

 private:
  struct Entry {
    uint64_t id;
    volatile uint32_t* flag;
    volatile uint32_t* volatile* current;
    Clock::time_point deadline;
    const std::atomic<bool>* interrupt;
    pthread_t thread;  // runs the call (remove() is called by it, so it exists meanwhile)
    bool fired;
  };

  // While a fired entry is registered, its thread is signalled this often: the signal does
  // nothing while the thread is outside guest code (libc memcpy for memory.copy, a runtime
  // helper), so it is sent again until it lands in guest code or the call returns.
  static constexpr auto kResignal = std::chrono::milliseconds(2);
  // Interrupts are polled this often: the embedder's atomic cannot notify us.
  static constexpr auto kInterruptPoll = std::chrono::milliseconds(1);

  void loop() {
    std::unique_lock<std::mutex> lock(mu_);
    for (;;) {
      auto now = Clock::now();
      auto wake = Clock::time_point::max();
      for (auto& e : entries_) {
        if (!e.fired && (now >= e.deadline || (e.interrupt != nullptr &&
                                               e.interrupt->load(std::memory_order_relaxed)))) {
          // Flag first (release): the handler reads it to decide, on the guest's thread.
          __atomic_store_n(e.flag, 1u, __ATOMIC_RELEASE);
          e.fired = true;
        }
        if (e.fired) {
          // The instance the thread runs now (its callee through a shared table, if any), each
          // time: the thread may have entered one since the last signal.
          if (volatile uint32_t* cur = __atomic_load_n(e.current, __ATOMIC_ACQUIRE)) {
            __atomic_store_n(cur, 1u, __ATOMIC_RELEASE);
          }
          // Asynchronous preemption (docs/aot.md, "Deadlines"): guest code does not poll.
          wasmcap_aot_preempt(e.thread);
          wake = std::min(wake, now + kResignal);
          continue;
        }
        wake = std::min(wake, e.deadline);
        if (e.interrupt != nullptr) wake = std::min(wake, now + kInterruptPoll);
      }
      planned_ = wake;  // add() notifies only for an entry due before it
      if (wake == Clock::time_point::max()) {
        cv_.wait(lock);
      } else {
        cv_.wait_until(lock, wake);
      }
      planned_ = Clock::time_point::min();  // awake: the next pass sees every entry
    }
  }

  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Entry> entries_;
  uint64_t next_id_ = 0;
  bool started_ = false;
  // When the loop will next look at the entries (min while it runs or before it first waits).
  Clock::time_point planned_ = Clock::time_point::min();
};

// --- Loaded objects ---------------------------------------------------------------------------
struct LoadedObject {
  void* handle = nullptr;
  const wasmcap_module_desc* desc = nullptr;
  // The object's executable segment(s), [code_lo, code_hi): the preemption signal unwinds only
  // when the interrupted PC lies here (docs/aot.md, "Deadlines").
  uintptr_t code_lo = 0, code_hi = 0;
  ~LoadedObject() {
    if (handle != nullptr) dlclose(handle);
  }
};

bool same_file(int fd, const std::string& path) {
  struct stat a, b;
  return fstat(fd, &a) == 0 && stat(path.c_str(), &b) == 0 && a.st_dev == b.st_dev &&
         a.st_ino == b.st_ino;
}

// The executable PT_LOAD segments of the object that defines `sym` (found by its link map's
// load address and name), as one range. False when there is none.
bool code_range(const void* sym, uintptr_t* lo, uintptr_t* hi) {
  Dl_info info;
  struct link_map* lm = nullptr;
  if (dladdr1(sym, &info, reinterpret_cast<void**>(&lm), RTLD_DL_LINKMAP) == 0 || lm == nullptr) {
    return false;
  }
  struct Find {
    struct link_map* lm;
    uintptr_t lo = UINTPTR_MAX, hi = 0;
  } f{lm};
  dl_iterate_phdr(
      [](struct dl_phdr_info* pi, size_t, void* p) -> int {
        auto* f = static_cast<Find*>(p);
        if (pi->dlpi_addr != f->lm->l_addr || pi->dlpi_name == nullptr ||
            std::strcmp(pi->dlpi_name, f->lm->l_name) != 0) {
          return 0;
        }
        for (int i = 0; i < pi->dlpi_phnum; ++i) {
          const auto& ph = pi->dlpi_phdr[i];
          if (ph.p_type != PT_LOAD || (ph.p_flags & PF_X) == 0) continue;
          uintptr_t a = pi->dlpi_addr + ph.p_vaddr;
          f->lo = std::min(f->lo, a);
          f->hi = std::max(f->hi, a + ph.p_memsz);
        }
        return 1;
      },
      &f);
  if (f.hi <= f.lo) return false;
  *lo = f.lo;
  *hi = f.hi;
  return true;
}

// dlopen()s the verified object open as `fd` (consumed), found at `path`, and checks its ABI.
// The path is content-addressed (the cache key), which matters because glibc reuses an already
// loaded object of the same name; the descriptor must still be the file at `path` on both sides
// of dlopen, so the object loaded is the object verified.
Result<std::shared_ptr<LoadedObject>> load_object(int fd, const std::string& path) {
  auto obj = std::make_shared<LoadedObject>();
  bool same = same_file(fd, path);
  if (same) obj->handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  same = same && same_file(fd, path);
  close(fd);
  if (!same) {
    return make_error(ErrorCode::kIo, "the cached object '" + path +
                                          "' changed while it was loaded; try again");
  }
  if (obj->handle == nullptr) {
    const char* err = dlerror();
    return make_error(ErrorCode::kIo, std::string("cannot load the compiled module: ") +
                                          (err ? err : "dlopen failed"));
  }
  obj->desc = static_cast<const wasmcap_module_desc*>(dlsym(obj->handle, "wasmcap_aot_module_v1"));
  if (obj->desc == nullptr || obj->desc->abi_version != WASMCAP_AOT_ABI_VERSION ||
      obj->desc->vtable_size != sizeof(wasmcap_rt_vtable) ||
      obj->desc->desc_size != sizeof(wasmcap_module_desc)) {
    return make_error(ErrorCode::kIo,
                      "the compiled module does not match this wasmcap's AOT ABI; clear the "
                      "AOT cache directory");
  }
  // bind + init_module run once per loaded object (dlopen of an already loaded file returns the
  // same object, hence the registry below).
  if (!code_range(obj->desc, &obj->code_lo, &obj->code_hi)) {
    return make_error(ErrorCode::kIo, "cannot locate the compiled module's code in memory");
  }
  obj->desc->bind(wasmcap_aot_vtable());
  obj->desc->init_module();
  return obj;
}

std::mutex g_objects_mu;
std::map<std::string, std::weak_ptr<LoadedObject>> g_objects;  // by cache key

class AotModule final : public Module {
 public:
  AotModule(ModuleInfo info, std::shared_ptr<LoadedObject> obj, std::optional<Error> link_error)
      : info_(std::move(info)), obj_(std::move(obj)), link_error_(std::move(link_error)) {}
  const ModuleInfo& info() const override { return info_; }
  std::string_view engine() const override { return "aot"; }
  const wasmcap_module_desc* desc() const { return obj_ ? obj_->desc : nullptr; }
  uintptr_t code_lo() const { return obj_ ? obj_->code_lo : 0; }
  uintptr_t code_hi() const { return obj_ ? obj_->code_hi : 0; }
  const std::optional<Error>& link_error() const { return link_error_; }

 private:
  ModuleInfo info_;  // the interpreter's description of the module (or the cached copy of it)
  std::shared_ptr<LoadedObject> obj_;
  std::optional<Error> link_error_;  // a module the AOT tier refuses at link time, as interp does
};

ErrorCode trap_code(int trap, std::string* msg) {
  switch (trap) {
    case WASM_RT_TRAP_OOB: *msg = "out of bounds memory access"; return ErrorCode::kTrapMemoryOutOfBounds;
    case WASM_RT_TRAP_INT_OVERFLOW: *msg = "integer overflow"; return ErrorCode::kTrapIntegerOverflow;
    case WASM_RT_TRAP_DIV_BY_ZERO: *msg = "integer divide by zero"; return ErrorCode::kTrapIntegerDivideByZero;
    case WASM_RT_TRAP_INVALID_CONVERSION: *msg = "invalid conversion to integer"; return ErrorCode::kTrapInvalidConversion;
    case WASM_RT_TRAP_UNREACHABLE: *msg = "unreachable executed"; return ErrorCode::kTrapUnreachable;
    case WASM_RT_TRAP_CALL_INDIRECT:
    case WASMCAP_TRAP_INDIRECT_MISMATCH: *msg = "indirect call signature mismatch"; return ErrorCode::kTrapIndirectCallMismatch;
    case WASMCAP_TRAP_INDIRECT_NULL: *msg = "uninitialized table element"; return ErrorCode::kTrapIndirectCallNull;
    case WASMCAP_TRAP_INDIRECT_OOB: *msg = "undefined table index"; return ErrorCode::kTrapTableOutOfBounds;
    case WASMCAP_TRAP_TABLE_OOB: *msg = "out of bounds table access"; return ErrorCode::kTrapTableOutOfBounds;
    case WASM_RT_TRAP_EXHAUSTION: *msg = "call stack exhausted"; return ErrorCode::kTrapStackExhausted;
    case WASMCAP_TRAP_RESOURCE: *msg = "the host could not allocate the guest's memory or tables"; return ErrorCode::kMemoryLimit;
    case WASMCAP_TRAP_UNSUPPORTED: *msg = "a wasm feature the AOT engine does not support (exceptions)"; return ErrorCode::kModuleUnsupported;
    default: *msg = "trap " + std::to_string(trap); return ErrorCode::kTrapOther;
  }
}

// wasm2c's instance struct (its memory, tables and globals) and the storage it imports. Held
// by its AotInstance and by every handle to one of its exports (AotShared), so an importer may
// outlive the exporter: the struct is freed with the last of them.
struct AotStorage {
  std::shared_ptr<const AotModule> module;
  void* inst = nullptr;
  void* block = nullptr;  // the allocation: kInstanceHeader bytes, then `inst`
  std::vector<std::shared_ptr<SharedExtern>> imports;  // what `inst` points into
  // Pages its instance took from a memory pool (ExecLimits::memory_pool), given back with the
  // memory (the instance hands its count over when it goes; the storage may outlive it).
  std::shared_ptr<wasmcap_memory_pool> pool;
  uint64_t pool_pages = 0;
  AotStorage() = default;
  AotStorage(const AotStorage&) = delete;
  AotStorage& operator=(const AotStorage&) = delete;
  ~AotStorage() {
    if (inst != nullptr) {
      module->desc()->free_instance(inst);
      std::free(block);
    }
    wasmcap_memory_pool_give(pool.get(), pool_pages);
  }
};

// Bytes before each wasm2c instance struct; its last pointer is the instance's runtime context,
// which the runtime finds from a table element's module_instance when call_indirect lands on
// another instance's function (aot_abi.h, cross_enter; docs/aot.md "Shared tables").
constexpr size_t kInstanceHeader = 64;

class AotInstance;

// The instances that share tables, owned together (docs/aot.md, "Shared tables"), as on interp
// (FastGroup): a table may hold a function of any instance that links it, and a call through it
// must find that instance, its context and its host functions alive, so no instance of a group
// is destroyed before the group. Each embedder handle (AotInstanceHandle) holds its group, and
// so does each handle to an exported table; the group holds the instances (the instances hold
// tables only through their storage: no cycle). Groups merge when an instance imports a table
// of another group; a merged group forwards to the one it joined (`into`), keeping it alive.
struct AotGroup {
  std::vector<std::shared_ptr<AotInstance>> members;
  std::shared_ptr<AotGroup> into;
  std::weak_ptr<AotGroup> self;
  AotGroup* root() {
    AotGroup* g = this;
    while (g->into) g = g->into.get();
    return g;
  }
};

// A memory or global of an aot instance, as another aot instance imports it (docs/aot.md,
// "Shared memories and globals"): a pointer into the exporter's storage, which it keeps alive.
// A memory is the exporter's wasm_rt_memory_t: reserved once (8 GiB) and grown in place, so its
// base never moves and every instance's bounds are the same page protections; its cap
// (max_pages) was set once by the instance that allocated it.
class AotShared final : public SharedExtern {
 public:
  ExternKind kind() const override { return kind_; }
  std::string_view engine() const override { return "aot"; }

  ExternKind kind_ = ExternKind::kMemory;
  std::shared_ptr<AotStorage> owner;
  void* ptr = nullptr;      // wasm_rt_memory_t*, wasm_rt_*_table_t*, or the global's cell
  ValType type = ValType::kI32;  // a global's
  bool mut = false;
  bool has_max = false;     // a memory's or table's declared maximum (its definer's)
  uint64_t declared_max = 0;
  bool funcref = true;      // a table's element type
  std::shared_ptr<AotGroup> group;  // a table's: its exporter's group (importers join it)
};

class AotInstance final : public Instance {
  friend class AotInstanceHandle;

 public:
  AotInstance(std::shared_ptr<const AotModule> module, const ExecLimits& limits,
              uint64_t stack_bytes)
      : module_(std::move(module)), limits_(limits) {
    ctx_.host = this;
    // The guest stack's size (docs/aot.md, "Guest stack"), clamped to [1 MiB, 1 GiB].
    uint64_t s = stack_bytes == 0 ? kDefaultAotStackBytes : stack_bytes;
    ctx_.stack_size = static_cast<size_t>(std::clamp<uint64_t>(s, 1ull << 20, 1ull << 30));
  }
  ~AotInstance() override {
    // The pool pages its memories took go back with the storage (ctx_.pool is set only once
    // storage_ exists).
    if (storage_) storage_->pool_pages += ctx_.pool_pages;
  }
  AotInstance(const AotInstance&) = delete;
  AotInstance& operator=(const AotInstance&) = delete;

  void set_group(AotGroup* g) { group_ = g; }

  Result<void> init(const HostFuncTable& host) {
    const ModuleInfo& info = module_->info();
    for (const auto& m : info.memories) {
      if (m.min_pages > limits_.max_memory_pages) {
        return make_error(ErrorCode::kMemoryLimit,
                          "module needs " + std::to_string(m.min_pages) +
                              " pages of memory initially, above the limit of " +
                              std::to_string(limits_.max_memory_pages) +
                              " pages; raise --max-memory-mb");
      }
    }
    // A pool already short of a defined memory's initial size: refused with the reason before
    // any guest code runs (allocation takes the pages for good, in the runtime).
    if (const wasmcap_memory_pool* pool = limits_.memory_pool.get()) {
      for (const auto& m : info.memories) {  // the memories it defines
        const uint64_t need = m.min_pages;
        if (wasmcap_memory_pool_used(pool) + need > pool->max_pages) {
          return make_error(ErrorCode::kMemoryLimit, engine::memory_pool_short(*pool, need));
        }
      }
    }
    // Link: the same checks and messages as every engine (engine/host_call.h).
    if (module_->link_error()) return tl::unexpected(*module_->link_error());
    std::vector<std::shared_ptr<SharedExtern>> shared;
    WASMCAP_TRY_ASSIGN(imports_, engine::link_host_functions(info, host, &shared, "aot"));
    const wasmcap_module_desc* d = module_->desc();
    if (d->num_func_imports != imports_.size() || d->num_imports != info.imports.size()) {
      return make_error(ErrorCode::kInternal, "compiled module does not match its imports");
    }
    storage_ = std::make_shared<AotStorage>();
    storage_->module = module_;
    storage_->pool = limits_.memory_pool;
    WASMCAP_TRY(link_shared(info, shared));
    // Table budget, shared out as the interpreter does: initial sizes must fit, the rest is
    // growth room split equally between the tables.
    uint64_t initial = 0;
    for (uint32_t i = 0; i < d->num_tables; ++i) initial += d->table_initial[i];
    if (initial > limits_.max_table_elements) {
      return make_error(ErrorCode::kMemoryLimit,
                        "module's tables need " + std::to_string(initial) +
                            " elements initially, above the limit of " +
                            std::to_string(limits_.max_table_elements));
    }
    ctx_.table_room = d->num_tables ? (limits_.max_table_elements - initial) / d->num_tables : 0;
    ctx_.max_pages = static_cast<uint32_t>(std::min<uint64_t>(limits_.max_memory_pages, 65536));
    ctx_.pool = limits_.memory_pool.get();

    size_t size = kInstanceHeader + (d->instance_size + 63) / 64 * 64;
    void* block = std::aligned_alloc(64, size);
    if (block == nullptr) return make_error(ErrorCode::kMemoryLimit, "out of host memory");
    std::memset(block, 0, size);
    inst_ = static_cast<char*>(block) + kInstanceHeader;
    reinterpret_cast<wasmcap_aot_ctx**>(inst_)[-1] = &ctx_;
    storage_->block = block;
    storage_->inst = inst_;
    ctx_.flag = d->interrupt_flag(inst_);
    ctx_.code_lo = module_->code_lo();
    ctx_.code_hi = module_->code_hi();

    // wasm2c's instantiation runs data/element initialisation and the start function: guest
    // code, so it runs inside the trap boundary and under the deadline.
    // Its third argument: the storage of each imported memory and global, by import index.
    auto end = run_guarded(d->instantiate, &ctx_, import_storage_.data());
    if (!end) {
      Error e = end.error();
      engine::note_memory_at_cap(&e, memory(), limits_);
      return tl::unexpected(std::move(e));
    }
    if (end->exited) start_exit_ = end->exit_code;  // proc_exit in the start function
    return {};
  }

  Result<std::shared_ptr<SharedExtern>> export_extern(std::string_view name) override {
    const std::vector<ExportDesc>& exports = module_->info().exports;
    for (size_t i = 0; i < exports.size(); ++i) {
      if (exports[i].name != name) continue;
      if (exports[i].kind != ExternKind::kMemory && exports[i].kind != ExternKind::kGlobal &&
          exports[i].kind != ExternKind::kTable) {
        return make_error(ErrorCode::kInvalidArgument,
                          "export " + quote_untrusted(name) + " is not a memory, table or global");
      }
      const wasmcap_extern_desc* x = extern_desc(i);
      if (x == nullptr || (x->kind == WASMCAP_EXTERN_GLOBAL && x->type > 3)) {
        return make_error(ErrorCode::kModuleUnsupported,
                          "exported global " + quote_untrusted(name) +
                              " is of a type not shared between instances yet");
      }
      // A re-exported import is the storage it imported (its own handle).
      if (x->import >= 0) {
        if (static_cast<size_t>(x->import) >= linked_.size() || !linked_[x->import]) {
          return make_error(ErrorCode::kInternal, "compiled module does not match its exports");
        }
        if (x->kind == WASMCAP_EXTERN_TABLE) {  // the handle holds the group (linked_ does not)
          auto out = std::make_shared<AotShared>(*linked_[x->import]);
          out->group = group_->root()->self.lock();
          return std::shared_ptr<SharedExtern>(std::move(out));
        }
        return linked_[x->import];
      }
      auto out = std::make_shared<AotShared>();
      out->kind_ = exports[i].kind;
      out->owner = storage_;
      out->ptr = x->get(inst_);
      if (x->kind == WASMCAP_EXTERN_TABLE) {
        // Elements name their instance (module_instance): nothing to convert, unlike interp.
        out->funcref = x->type == 0;
        out->has_max = x->has_max != 0;
        out->declared_max = x->table_max;
        out->group = group_->root()->self.lock();
      } else if (x->kind == WASMCAP_EXTERN_GLOBAL) {
        out->type = static_cast<ValType>(x->type);
        out->mut = x->mut != 0;
      } else if (!module_->info().memories.empty()) {
        out->has_max = module_->info().memories[0].has_max;
        out->declared_max = module_->info().memories[0].max_pages;
      }
      return std::shared_ptr<SharedExtern>(std::move(out));
    }
    return make_error(ErrorCode::kNotFound, "module has no export " + quote_untrusted(name));
  }

  Result<Value> get_global(std::string_view name) override {
    const std::vector<ExportDesc>& exports = module_->info().exports;
    for (size_t i = 0; i < exports.size(); ++i) {
      if (exports[i].name != name || exports[i].kind != ExternKind::kGlobal) continue;
      const wasmcap_extern_desc* x = extern_desc(i);
      if (x == nullptr || x->type > 3) {
        return make_error(ErrorCode::kModuleUnsupported,
                          "exported global " + quote_untrusted(name) +
                              " holds a reference, which cannot be read from the host");
      }
      const void* cell = x->get(inst_);
      switch (static_cast<ValType>(x->type)) {
        case ValType::kI32: return Value::I32(*static_cast<const uint32_t*>(cell));
        case ValType::kI64: return Value::I64(*static_cast<const uint64_t*>(cell));
        case ValType::kF32: return Value::F32(*static_cast<const float*>(cell));
        default: return Value::F64(*static_cast<const double*>(cell));
      }
    }
    return make_error(ErrorCode::kNotFound,
                      "module has no exported global " + quote_untrusted(name));
  }

  GuestMemory memory() override {
    const wasmcap_module_desc* d = module_->desc();
    if (inst_ == nullptr || d->memory == nullptr) return {};
    wasm_rt_memory_t* m = d->memory(inst_);
    if (m->data == nullptr || m->pages == 0) return {};  // as the interpreter: no bytes, no view
    return GuestMemory(m->data, uint64_t{m->pages} * kWasmPageSize);
  }

  uint64_t fuel_consumed() const override { return 0; }

  // Called by wasmcap_aot_dispatch on the guest's thread: the AOT engine's stack-to-argv step.
  // The trampoline of import `index` put its arguments in `args` and takes its results from
  // `results` (wasmcap_val_t arrays, 8 bytes a value). invoke_host never throws; a non-zero
  // return makes the runtime unwind the guest (exit_requested_ or host_error_ says why).
  int dispatch(uint32_t index, const wasmcap_val_t* args, wasmcap_val_t* results) noexcept {
    // One HostCall for the instance, reused (no Error to build and destroy on every call). A
    // host call nested in another (its host function called back into this instance) reuses it
    // too, safely: invoke_host reads its inputs before the host function runs and writes its
    // outputs after it returned, and the outer call's outputs are read only after those.
    engine::HostCall& call = host_call_;
    call.memory = memory();
    call.limits = &limits_;
    switch (engine::invoke_host(*imports_[index], call, args, results, sizeof(wasmcap_val_t))) {
      case engine::HostCallEnd::kContinue: return 0;
      case engine::HostCallEnd::kExit:
        exit_requested_ = true;
        exit_code_ = call.exit_code;
        return 1;
      case engine::HostCallEnd::kStop: host_error_ = std::move(call.error); return 1;
    }
    return 1;
  }

 protected:
  // Instance::call's hooks. The compiled object names exports by position only ("e<N>"): the
  // module's names never reach its C (docs/security-model.md, "AOT translation").
  const ModuleInfo& module_info() const override { return module_->info(); }
  const ExecLimits& exec_limits() const override { return limits_; }
  Result<RunEnd> run_export(size_t index, const uint64_t* args, uint64_t* results) override {
    const wasmcap_module_desc* d = module_->desc();
    wasmcap_thunk_t thunk = nullptr;
    char generated[32];
    std::snprintf(generated, sizeof generated, "e%zu", index);
    for (uint32_t i = 0; i < d->num_exports; ++i) {
      if (std::strcmp(generated, d->exports[i].name) == 0) thunk = d->exports[i].call;
    }
    if (thunk == nullptr) {
      const ExportDesc& e = module_->info().exports[index];
      return make_error(ErrorCode::kModuleUnsupported,
                        "export " + quote_untrusted(e.name) + " has signature " +
                            e.sig.to_string() +
                            ", which the AOT engine cannot call; run with --engine interp");
    }
    // The thunk reads and writes wasmcap_val_t arrays, whose layout is a raw slot's (8 bytes a
    // value, an i32/f32 in the low half: static_assert below).
    return run_guarded(thunk, const_cast<uint64_t*>(args), results);
  }

  // Calls nested through host functions back into this instance run on top of the live call:
  // the runtime's trap boundary nests (invoke_here saves and restores the unwind target), each
  // call's outcome is its own (run_guarded), and so is each host call's (dispatch).
  bool reentrant() const override { return true; }

 private:
  // The descriptor of export `index` (a memory or a global) in the compiled object, or null.
  const wasmcap_extern_desc* extern_desc(size_t index) const {
    const wasmcap_module_desc* d = module_->desc();
    char generated[32];
    std::snprintf(generated, sizeof generated, "e%zu", index);
    for (uint32_t k = 0; k < d->num_externs; ++k) {
      if (std::strcmp(generated, d->externs[k].name) == 0) return &d->externs[k];
    }
    return nullptr;
  }

  // Links the memories and globals the module imports (`shared`: link_host_functions' result,
  // of this engine and of each import's kind, in import order): each is checked as the spec
  // links it (engine::check_memory_import / check_global_import, the rules every engine uses)
  // and its storage goes at its import index in import_storage_, which instantiation hands to
  // the compiled module. An imported memory is the memory the fault handler claims faults in
  // for this instance (ctx_.mem_base).
  Result<void> link_shared(const ModuleInfo& info,
                           const std::vector<std::shared_ptr<SharedExtern>>& shared) {
    const wasmcap_module_desc* d = module_->desc();
    import_storage_.assign(info.imports.size() + 1, nullptr);
    linked_.assign(info.imports.size(), nullptr);
    size_t next = 0;
    for (size_t i = 0; i < info.imports.size(); ++i) {
      const ImportDesc& imp = info.imports[i];
      if (imp.kind == ExternKind::kFunc) continue;
      const wasmcap_extern_desc& want = d->import_descs[i];
      if (next >= shared.size() || want.kind != static_cast<uint32_t>(imp.kind)) {
        return make_error(ErrorCode::kInternal, "compiled module does not match its imports");
      }
      auto ext = std::static_pointer_cast<AotShared>(shared[next++]);
      const std::string name = imp.module + "." + imp.name;
      if (imp.kind == ExternKind::kMemory) {
        auto* mem = static_cast<wasm_rt_memory_t*>(ext->ptr);
        WASMCAP_TRY(engine::check_memory_import(name, imp.memory, mem->pages, ext->has_max,
                                                ext->declared_max));
        ctx_.mem_base = mem->data;
      } else if (imp.kind == ExternKind::kGlobal && want.type <= 3) {
        WASMCAP_TRY(engine::check_global_import(name, static_cast<ValType>(want.type),
                                                want.mut != 0, ext->type, ext->mut));
      } else if (imp.kind == ExternKind::kTable) {
        // Funcref and externref tables have the same size field's place (wasm-rt.h).
        const uint32_t size = ext->funcref
                                  ? static_cast<wasm_rt_funcref_table_t*>(ext->ptr)->size
                                  : static_cast<wasm_rt_externref_table_t*>(ext->ptr)->size;
        WASMCAP_TRY(engine::check_table_import(name, want.type == 0, want.table_min,
                                               want.has_max != 0, want.table_max, ext->funcref,
                                               size, ext->has_max, ext->declared_max));
        if (!ext->group) {
          return make_error(ErrorCode::kInternal, "a shared table without its instances");
        }
        join(ext->group.get());
        // Kept without the group: the group owns this instance, which owns what it links.
        auto kept = std::make_shared<AotShared>(*ext);
        kept->group.reset();
        ext = std::move(kept);
      } else {
        // Reference-typed globals: load() compiled no module importing them.
        return make_error(ErrorCode::kInternal, "compiled module does not match its imports");
      }
      import_storage_[i] = ext->ptr;
      linked_[i] = ext;
      storage_->imports.push_back(ext);
    }
    return {};
  }

  // Runs a thunk with the deadline/interrupt armed, and maps how it ended. Nested calls (a host
  // function calling back into this instance) each see only their own outcome: the fields the
  // dispatcher sets for the unwinding call are cleared when it has been read.
  Result<RunEnd> run_guarded(wasmcap_thunk_t fn, void* a, void* b) {
    exit_requested_ = false;
    host_error_.reset();
    // Already interrupted or past the deadline: do not start (the interpreter checks before its
    // first slice too), even if the call would be too short for the watchdog to catch it.
    if (deadline_reached(limits_)) return tl::unexpected(deadline_error(limits_));
    if (ctx_.flag != nullptr) *ctx_.flag = 0;
    uint64_t watch = 0;
    const bool timed = limits_.deadline != Clock::time_point::max() || limits_.interrupt != nullptr;
    if (timed && ctx_.flag != nullptr) {
      watch = Watchdog::get().add(ctx_.flag, wasmcap_aot_current_flag_slot(), limits_.deadline,
                                  limits_.interrupt, pthread_self());
    }
    int rc = wasmcap_aot_invoke(&ctx_, fn, inst_, a, b);
    if (watch != 0) Watchdog::get().remove(watch);
    Result<RunEnd> end = RunEnd{};
    if (rc != 0) {
      if (auto r = outcome_error(rc); !r) {
        end = tl::unexpected(std::move(r.error()));
      } else {
        end = RunEnd{true, exit_code_};
      }
    }
    exit_requested_ = false;
    host_error_.reset();
    return end;
  }

  // Maps a non-zero trap code to an error, or Ok for a guest exit (exit_code_ set).
  Result<void> outcome_error(int rc) {
    if (rc == WASMCAP_TRAP_HOST) {
      // A host call of an instance this call entered through a shared table ended it: its
      // outcome (an exit, a host error) is this call's, and that instance goes on as before.
      auto* who = static_cast<AotInstance*>(wasmcap_aot_host_end());
      if (who != nullptr && who != this) {
        exit_requested_ = who->exit_requested_;
        exit_code_ = who->exit_code_;
        host_error_ = std::move(who->host_error_);
        who->exit_requested_ = false;
        who->host_error_.reset();
      }
      if (exit_requested_) return {};
      if (host_error_) return tl::unexpected(*host_error_);
      return make_error(ErrorCode::kTrapHost, "host function failed");
    }
    if (rc == WASMCAP_TRAP_INTERRUPTED) return tl::unexpected(deadline_error(limits_));
    std::string msg;
    ErrorCode code = trap_code(rc, &msg);
    return tl::unexpected(Error(code, msg));
  }

  // This instance's group (its root after merges; the group owns this instance).
  AotGroup* group_ = nullptr;

  // Makes this instance's group and `other`'s one group.
  void join(AotGroup* other) {
    AotGroup* a = group_->root();
    AotGroup* b = other->root();
    if (a == b) return;
    for (auto& m : b->members) {
      m->group_ = a;
      a->members.push_back(std::move(m));
    }
    b->members.clear();
    b->into = a->self.lock();
  }

  std::shared_ptr<const AotModule> module_;
  ExecLimits limits_;
  wasmcap_aot_ctx ctx_{};
  std::shared_ptr<AotStorage> storage_;  // owns inst_
  void* inst_ = nullptr;
  std::vector<void*> import_storage_;                    // by import index (+1: never empty)
  std::vector<std::shared_ptr<AotShared>> linked_;       // by import index
  std::vector<const HostFunc*> imports_;
  bool exit_requested_ = false;
  int32_t exit_code_ = 0;
  std::optional<int32_t> start_exit_;  // the handle's (set_start_exit)
  std::optional<Error> host_error_;
  engine::HostCall host_call_;  // dispatch()'s, reused
};

static_assert(sizeof(wasmcap_val_t) == sizeof(engine::RawSlot) &&
                  std::endian::native == std::endian::little,
              "AOT values are raw slots: 8 bytes, an i32/f32 in the low half");

// Translates and compiles `bytes` into the cache entry `key` (under the entry's lock; reused if
// another process stored it meanwhile). Returns the verified object's descriptor, like lookup().
Result<int> compile_into_cache(const std::string& dir, const std::string& key,
                               const aot::Toolchain& tc, const uint8_t* bytes, size_t size,
                               const AotOptions& options) {
  // The default time limit scales with the module's code (docs/aot.md, "Compile bounds").
  aot::Toolchain scaled = tc;
  scaled.limits = aot::compile_limits(options, aot::wasm_code_bytes(bytes, size));
  auto r = aot::compile_and_store(dir, key, scaled, [&]() -> Result<aot::CompileRequest> {
    aot::TranslatedModule t;
    WASMCAP_TRY_ASSIGN(t, aot::translate(bytes, size, options.interruptible, tc.unit_functions,
                                         tc.poll));
    aot::CompileRequest req;
    req.module_c = std::move(t.module_c);
    req.module_h = std::move(t.module_h);
    req.glue_c = std::move(t.glue_c);
    req.common_h = std::move(t.common_h);
    req.units = std::move(t.units);
    req.functions = t.functions;
    req.progress = options.progress;
    req.what = "module (" + std::to_string(size / 1024) + " KiB)";
    return req;
  });
  if (!r) return r;
  aot::clear_failure(dir, key);
  // The cache's size cap (docs/aot.md, "Cache"): the least recently used objects go, never the
  // one just stored (this run loads it) nor one whose compile holds its lock. The compile
  // succeeded: a prune that fails on I/O leaves the cache as it was and the run goes on.
  CachePruneRule cap;
  cap.max_bytes = options.cache_max_bytes == 0 ? kDefaultCacheMaxBytes : options.cache_max_bytes;
  cap.keep = key;
  if (cap.max_bytes != UINT64_MAX) {
    AotOptions in = options;
    in.cache_dir = dir;
    (void)prune_cache(in, cap);
  }
  return r;
}

// The Instance an embedder holds: the instance, through its group.
class AotInstanceHandle final : public Instance {
 public:
  AotInstanceHandle(std::shared_ptr<AotGroup> group, AotInstance* inst)
      : group_(std::move(group)), inst_(inst) {
    if (inst_->start_exit_) set_start_exit(*inst_->start_exit_);
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
  bool reentrant() const override { return inst_->reentrant(); }
  Result<RunEnd> run_export(size_t index, const uint64_t* args, uint64_t* results) override {
    return inst_->run_export(index, args, results);
  }

 private:
  std::shared_ptr<AotGroup> group_;
  AotInstance* inst_;
};

class AotEngine final : public Engine {
 public:
  explicit AotEngine(AotOptions options, std::shared_ptr<const HostFuncTable> link_check = nullptr,
                     AotDescribe describe = nullptr)
      : options_(std::move(options)),
        link_check_(std::move(link_check)),
        describe_(std::move(describe)) {}
  std::string_view name() const override { return "aot"; }

  // Everything but fuel: the generated code is not metered (instruction counting would cost a
  // counter update per loop iteration and call), so limits.fuel is refused, never ignored.
  CapabilitySet capabilities() const override {
    CapabilitySet s = CapabilitySet::all().remove(Capability::kLimitFuel);
    if (!options_.interruptible) s.remove(Capability::kLimitTimeout);
    return s;
  }

  Result<std::shared_ptr<const Module>> load_module(const ModuleBytes& module) override {
    const uint8_t* bytes = module.data();
    const size_t size = module.size();
    if (wasmcap_aot_init() != 0) {
      return make_error(ErrorCode::kInternal, "cannot install the AOT engine's signal handlers");
    }
    // Cold start (docs/aot.md, "Cold start"): the module description stored when these very
    // bytes were validated before (named by their sha256) replaces decoding and validating them
    // again. A cache directory that cannot be used is reported below, after validation, as
    // before; nothing here runs the compiler (the link check comes first).
    auto dir = aot::open_cache_dir(options_);
    // The module's sha256: the caller's (verified), else from the record of its unchanged file
    // when there is one (docs/aot.md, "Cold start": the one pass over the module's bytes a cached
    // run still made), else hashed; kept in `module` for the rest of the run.
    const std::string& module_sha = cache::module_sha256_for_load(dir ? &*dir : nullptr, module);
    const std::string desc_name = "module-" + module_sha;
    std::optional<ModuleInfo> info;
    if (dir) info = aot::load_module_info(*dir, desc_name);
    if (!info) {
      // Validated and described as wabt's interpreter's load() would (the tests' wabt oracle:
      // identical acceptance, errors and ModuleInfo) without building its interpreter code
      // (describe.h); under --engine auto, from the fast engine's load of the module (validated
      // once). The same pass notes whether the module is within the translator's bounds.
      bool within_bounds = false;
      auto described = describe_ ? describe_(module, &within_bounds)
                                 : describe_module(bytes, size, &within_bounds);
      // A module beyond the translator's bounds is module_unsupported (--engine auto then runs
      // it on the interpreter), before any description is stored or anything is translated.
      // The bounds' verdict comes first, as when they were checked before validating: a module
      // both invalid and beyond a bound gets the bound's error. Only when the validating pass
      // could not vouch for the bounds (it failed, or saw something beyond one) are they
      // checked here in a decoding pass of their own (docs/aot.md, "Cold start").
      if (!described || !within_bounds) {
        WASMCAP_TRY(aot::check_bounds(bytes, size));
      }
      WASMCAP_TRY(described);
      info = std::move(*described);
      if (dir) aot::store_module_info(*dir, desc_name, *info);
    }
    // Imports are checked before anything is translated or compiled: a module that cannot
    // link is not worth a compile (minutes for a big one); instantiate() reports the error,
    // the one every engine gives (engine/host_call.h, link_host_functions).
    if (link_check_) {
      if (auto linked = engine::link_host_functions(*info, *link_check_); !linked) {
        return std::shared_ptr<const Module>(
            std::make_shared<AotModule>(std::move(*info), nullptr, std::move(linked.error())));
      }
    }
    // Memories, tables and i32/i64/f32/f64 globals are imported from other aot instances
    // (docs/aot.md, "Shared memories and globals", "Shared tables"); a module importing
    // anything else (a funcref global) could never link, so it is not compiled: instantiate()
    // reports why.
    if (std::any_of(info->imports.begin(), info->imports.end(),
                    [](const ImportDesc& imp) { return imp.kind != ExternKind::kFunc; })) {
      if (auto linkable = aot::check_extern_imports(bytes, size); !linkable) {
        return std::shared_ptr<const Module>(
            std::make_shared<AotModule>(std::move(*info), nullptr, std::move(linkable.error())));
      }
    }
    Entry entry;
    WASMCAP_TRY_ASSIGN(entry, cache_entry(dir, module_sha));
    std::shared_ptr<LoadedObject> obj;
    WASMCAP_TRY_ASSIGN(obj, compiled(entry, bytes, size));
    return std::shared_ptr<const Module>(
        std::make_shared<AotModule>(std::move(*info), obj, std::nullopt));
  }

  Result<std::unique_ptr<Instance>> instantiate(std::shared_ptr<const Module> module,
                                                const HostFuncTable& host,
                                                const ExecLimits& limits) override {
    auto am = std::dynamic_pointer_cast<const AotModule>(module);
    if (!am) {
      return make_error(ErrorCode::kInvalidArgument,
                        "module was loaded by a different engine than \"aot\"");
    }
    if (am->link_error()) return tl::unexpected(*am->link_error());
    if (!options_.interruptible &&
        (limits.deadline != Clock::time_point::max() || limits.interrupt != nullptr)) {
      return make_error(ErrorCode::kCapabilityUnavailable,
                        "this aot engine was built without interrupt checks and cannot enforce a "
                        "deadline or an interrupt");
    }
    auto group = std::make_shared<AotGroup>();
    group->self = group;
    auto inst = std::make_shared<AotInstance>(std::move(am), limits, options_.stack_bytes);
    inst->set_group(group.get());
    AotInstance* raw = inst.get();
    group->members.push_back(std::move(inst));
    // On failure the group (or the one it joined) keeps the instance while a shared table may
    // hold one of its functions (the core spec: elements stored before a failing step stay).
    WASMCAP_TRY(raw->init(host));
    return std::unique_ptr<Instance>(new AotInstanceHandle(std::move(group), raw));
  }

 private:
  struct Entry {
    std::string dir;
    aot::Toolchain tc;
    std::string key;
  };

  Result<Entry> cache_entry(const Result<std::string>& dir, const std::string& module_sha) {
    WASMCAP_TRY(dir);
    aot::Toolchain tc;
    WASMCAP_TRY_ASSIGN(tc, toolchain(*dir));
    std::string key = aot::cache_key_for_module_hash(module_sha, tc);
    return Entry{*dir, std::move(tc), std::move(key)};
  }

  // The toolchain (the compiler found on PATH, its identity), resolved once per engine and cache
  // directory and reused for kToolchainReuse: a component's core modules, or a session's runs,
  // load several modules in a row, each of which would search PATH, resolve the compiler's
  // symlinks and read its identity record again. A compiler changed meanwhile is seen on the
  // first load after that.
  static constexpr auto kToolchainReuse = std::chrono::seconds(10);
  Result<aot::Toolchain> toolchain(const std::string& dir) {
    const auto now = Clock::now();
    {
      std::lock_guard<std::mutex> lock(tc_mu_);
      if (tc_memo_ && tc_memo_dir_ == dir && now < tc_memo_until_) return *tc_memo_;
    }
    aot::Toolchain tc;
    WASMCAP_TRY_ASSIGN(tc, aot::make_toolchain(options_, dir));
    std::lock_guard<std::mutex> lock(tc_mu_);
    tc_memo_ = tc;
    tc_memo_dir_ = dir;
    tc_memo_until_ = now + kToolchainReuse;
    return tc;
  }

  Result<std::shared_ptr<LoadedObject>> compiled(const Entry& entry, const uint8_t* bytes,
                                                 size_t size) {
    const std::string& key = entry.key;
    const std::string* dir = &entry.dir;
    const aot::Toolchain* tc = &entry.tc;
    auto loaded = [&key]() -> std::shared_ptr<LoadedObject> {  // under g_objects_mu
      auto it = g_objects.find(key);
      return it != g_objects.end() ? it->second.lock() : nullptr;
    };
    {
      std::lock_guard<std::mutex> lock(g_objects_mu);
      if (auto obj = loaded()) return obj;
    }
    // The lookup and the compile run without the process-wide lock: a compile takes minutes,
    // and every other load in the process (another module's, in another session or MCP call)
    // would wait for it, past its own deadline. Two loads of one module meet at the entry's
    // file lock, which the second waits for within its run's deadline (compile_and_store).
    int fd = aot::lookup(*dir, key);
    if (fd < 0 && options_.cache_only) {
      return make_error(ErrorCode::kNotFound,
                        "no compiled object for this module in the AOT cache; compile it with "
                        "`wasmcap compile`");
    }
    if (fd < 0) WASMCAP_TRY_ASSIGN(fd, compile_into_cache(*dir, key, *tc, bytes, size, options_));
    std::lock_guard<std::mutex> lock(g_objects_mu);
    if (auto obj = loaded()) {  // another thread loaded it meanwhile: one copy per process
      close(fd);
      return obj;
    }
    std::shared_ptr<LoadedObject> obj;
    WASMCAP_TRY_ASSIGN(obj, load_object(fd, *dir + "/" + key + ".so"));
    g_objects[key] = obj;
    return obj;
  }

  AotOptions options_;
  std::shared_ptr<const HostFuncTable> link_check_;
  AotDescribe describe_;
  std::mutex tc_mu_;
  std::optional<aot::Toolchain> tc_memo_;
  std::string tc_memo_dir_;
  Clock::time_point tc_memo_until_{};
};

}  // namespace

extern "C" int wasmcap_aot_dispatch(void* host, uint32_t index, const wasmcap_val_t* args,
                                    wasmcap_val_t* results) {
  return static_cast<AotInstance*>(host)->dispatch(index, args, results);
}

std::unique_ptr<Engine> make_aot_engine(AotOptions options) {
  return std::make_unique<AotEngine>(std::move(options));
}

std::unique_ptr<Engine> make_aot_engine_linked(AotOptions options,
                                               std::shared_ptr<const HostFuncTable> link_check,
                                               AotDescribe describe) {
  return std::make_unique<AotEngine>(std::move(options), std::move(link_check),
                                     std::move(describe));
}

Result<void> aot_precompile(const ModuleBytes& module, const AotOptions& options,
                            std::string* key_out) {
  const uint8_t* bytes = module.data();
  const size_t size = module.size();
  // No bounds pass of its own here: translate() (below, when there is no object yet) checks the
  // bounds first, and an object exists only for a module within them.
  std::string dir;
  WASMCAP_TRY_ASSIGN(dir, aot::open_cache_dir(options));
  aot::Toolchain tc;
  WASMCAP_TRY_ASSIGN(tc, aot::make_toolchain(options, dir));
  std::string key = aot::cache_key_for_module_hash(module.sha256(), tc);
  if (key_out != nullptr) *key_out = key;
  int fd = aot::lookup(dir, key);
  if (fd < 0) WASMCAP_TRY_ASSIGN(fd, compile_into_cache(dir, key, tc, bytes, size, options));
  close(fd);
  return {};
}

bool aot_module_has_object(const Module& module) {
  auto* m = dynamic_cast<const AotModule*>(&module);
  return m != nullptr && m->desc() != nullptr;
}

bool aot_available(const AotOptions& options) { return aot::find_compiler(options).has_value(); }

}  // namespace wasmcap

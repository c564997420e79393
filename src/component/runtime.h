// The run-time side of a component instance (layers 2 and 3, docs/components.md): the index
// spaces filled as instantiate.cc walks a component's definitions, core functions as uniform
// callables, the handle tables of resources (resources.cc), and the Canonical ABI's lift/lower
// (canon.cc) with the context it runs in. Private to src/component.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "component/component.h"
#include "component/host.h"
#include "component/instance.h"
#include "component/val.h"
#include "wasmcap/engine.h"

namespace wasmcap::component {

// The Canonical ABI's own limits (CanonicalABI.md): a string's or a list's bytes in memory, and
// the flat values passed directly before spilling to memory.
inline constexpr uint64_t kMaxStringBytes = (uint64_t{1} << 28) - 1;
inline constexpr uint64_t kMaxListBytes = (uint64_t{1} << 28) - 1;
inline constexpr size_t kMaxFlatParams = 16;
inline constexpr size_t kMaxFlatResults = 1;
inline constexpr uint32_t kMaxHandleTableSpec = (uint32_t{1} << 28) - 1;

// A core function at run time: an export of a core instance, a lowered component function, or a
// resource built-in. One shape for all, so a core instance's import is the same HostFunc whatever
// supplies it.
struct CoreFunc {
  FuncSig sig;
  std::string what;  // for messages: "core export \"f\" of core instance 2", "lowered \"log\""
  std::function<HostCallResult(HostContext& ctx, const Value* args, Value* results)> call;
};

struct CoreInst;

// An entry of any index space at run time.
struct Item {
  Sort sort = Sort::kFunc;
  // core sorts
  std::shared_ptr<CoreFunc> core_func;
  std::shared_ptr<CoreInst> core_inst;  // the instance a memory/table/global is exported from
  std::string core_name;                // ... and the name it is exported under
  // component sorts
  std::shared_ptr<struct Func> func;
  std::shared_ptr<struct CompInst> instance;
  uint32_t type = kNone;                       // a type's static id
  const ResourceType* resource = nullptr;      // a resource type's run-time identity
  const Component* component = nullptr;        // a component (or a core module's owner, unused)
  struct InstanceState* closure = nullptr;     // the instance a component definition was made in
  const CoreModule* module = nullptr;          // a core module

  static Item of(Sort s) { Item i; i.sort = s; return i; }
  static Item of_core_func(std::shared_ptr<CoreFunc> f) { Item i = of(Sort::kCoreFunc); i.core_func = std::move(f); return i; }
  static Item of_core_inst(std::shared_ptr<CoreInst> c) { Item i = of(Sort::kCoreInstance); i.core_inst = std::move(c); return i; }
  static Item of_func(std::shared_ptr<struct Func> f) { Item i = of(Sort::kFunc); i.func = std::move(f); return i; }
};

// A core instance: an engine instance, or a bag of inline exports.
struct CoreInst {
  std::unique_ptr<HostFuncTable> imports;  // outlives `instance`, which points into it
  std::unique_ptr<wasmcap::Instance> instance;
  std::shared_ptr<const Module> module;
  std::map<std::string, Item, std::less<>> inline_exports;
  std::map<std::string, std::shared_ptr<CoreFunc>, std::less<>> func_cache;
  std::string what;
};

// A component function at run time: lifted from core code, or the host's.
struct Func {
  uint32_t type = kNone;  // its kFunc TypeDef
  std::string what;
  // `ctx`: the context of the core call that lowered this call (null for a call from the host),
  // whose fuel a host function charges.
  std::function<Result<CallResult>(std::vector<Val>& args, HostContext* ctx)> call;
};

// A component instance's exports.
struct CompInst {
  std::map<std::string, Item, std::less<>> exports;
};

// One handle of a handle table (CanonicalABI.md, "Resource State").
struct Handle {
  const ResourceType* rt = nullptr;
  uint32_t rep = 0;
  bool own = false;
  uint32_t lends = 0;                 // borrows of it lent to calls in progress
  struct CallScope* scope = nullptr;  // a borrow: the call it was lent for
};

// A call in progress, for the borrow rules: borrow handles given to the callee must be dropped
// before it returns; handles lent by the caller cannot be dropped while it runs.
struct CallScope {
  uint32_t borrows = 0;
  struct InstanceState* borrow_inst = nullptr;  // whose table the borrows given to the callee are in
  std::vector<std::pair<struct InstanceState*, uint32_t>> lenders;
};

class HandleTable {
 public:
  explicit HandleTable(uint32_t max) : max_(max) { slots_.emplace_back(); }
  Result<uint32_t> add(const Handle& h);
  // The live handle at `i`, or a trap naming `what`.
  Result<Handle*> get(uint32_t i, const char* what);
  Result<Handle> remove(uint32_t i, const char* what);
  size_t live() const { return slots_.size() - 1 - free_.size(); }
  // Removes the borrow handles of a call that ended without dropping them (they would name it).
  void forget_scope(const CallScope* scope);

 private:
  std::vector<Handle> slots_;  // slot 0 is reserved (never a valid handle)
  std::vector<bool> used_{false};
  std::vector<uint32_t> free_;
  uint32_t max_;
};

// What every instance of one instantiation shares.
struct Shared {
  Engine* engine = nullptr;
  const HostRegistry* host = nullptr;
  ExecLimits limits;
  InstantiateOptions options;
  // The component's bytes (kept alive by `keeper`, never changed) and their decoding.
  const uint8_t* bytes = nullptr;
  std::shared_ptr<const void> keeper;
  // The file they were read from, when the caller knows it steady (ModuleBytes::file()): each
  // core module's bytes are then a byte range of that unchanged file, named for the cache's
  // records of module hashes (so a run hashes them once, not at every run).
  std::optional<ModuleFileIdentity> file;
  std::shared_ptr<const Decoded> decoded;
  std::map<const CoreModule*, std::shared_ptr<const Module>> modules;
  std::vector<std::unique_ptr<ResourceType>> resources;  // the guests' resource types
  uint64_t core_instances = 0;
  // Fuel the component's guest code used, summed over the calls the host made into it (a lifted
  // export called from outside, a start function): each counts the core calls nested in it
  // once, as engines charge a callee's fuel to its caller (ComponentInstance::fuel_consumed).
  uint64_t fuel_used = 0;
  // Adds an entry's fuel to fuel_used, saturating (HostContext::charge_fuel's rule).
  void add_fuel(uint64_t units) { fuel_used = units > UINT64_MAX - fuel_used ? UINT64_MAX : fuel_used + units; }
};

// One component instance.
struct InstanceState {
  Shared* shared = nullptr;
  const Component* def = nullptr;
  InstanceState* parent = nullptr;  // for outer aliases
  std::vector<Item> space[kNumSorts];
  std::unordered_map<uint32_t, const ResourceType*> resources;  // static type id -> run time
  HandleTable handles;
  std::vector<std::unique_ptr<InstanceState>> children;
  std::shared_ptr<CompInst> exports = std::make_shared<CompInst>();
  explicit InstanceState(uint32_t max_handles) : handles(max_handles) {}
};

// ---- The Canonical ABI (canon.cc) ----

// The context of one lift or lower: the instance whose handles and resource types it uses, the
// canon options (memory and realloc resolved), the call's borrow scope, and the host bytes spent.
struct Cx {
  InstanceState* inst = nullptr;
  const CanonOptions* opts = nullptr;
  CoreInst* memory = nullptr;               // the memory option's instance (memory 0 of it)
  std::shared_ptr<CoreFunc> realloc;
  CallScope* scope = nullptr;
  uint64_t host_bytes = 0;                  // host memory the values lifted so far take
  // The call whose fuel the core calls canon makes (realloc) are charged to: a lowered import's
  // (the engine adds it to the calling instance's use) or a lifted export's. Never null in use.
  HostContext* charge = nullptr;
  const Decoded& d() const { return *inst->shared->decoded; }
};

// The core value types a component value type flattens to, at most `cap` + 1 of them (enough to
// tell "more than cap").
std::vector<wasmcap::ValType> flatten(const Decoded& d, const std::vector<component::ValType>& ts, size_t cap);
// The core signature of a function type lifted (`lift` true) or lowered.
FuncSig core_signature(const Decoded& d, const TypeDef& ft, bool lift);

// Lifts the core values `flat` (in a function's parameter or result positions) into values of
// `types`, spilled in memory at flat[0] when they flatten to more than max_flat.
Result<std::vector<Val>> lift_values(Cx& cx, const std::vector<component::ValType>& types,
                                     const Value* flat, size_t n, size_t max_flat);
// Lowers `vals` into core values; when they flatten to more than max_flat they are stored in
// memory: at `out_ptr` when given (a lowered import's results), else in memory allocated with
// realloc whose address is the one core value.
Result<std::vector<Value>> lower_values(Cx& cx, const std::vector<component::ValType>& types,
                                        const std::vector<Val>& vals, size_t max_flat,
                                        const Value* out_ptr);
// Memory access for lift/lower (canon.cc): [ptr, ptr + len) inside the canon options' memory
// and ptr aligned, else a trap naming `what`; host bytes charged against max_lift_bytes; a new
// allocation through realloc(0, 0, align, size), checked like any range.
Result<GuestMemory> check_range(Cx& cx, uint64_t ptr, uint64_t len, uint32_t align, const char* what);
Result<void> charge(Cx& cx, uint64_t bytes);
Result<uint32_t> allocate(Cx& cx, uint32_t align, uint64_t size, const char* what);
// Strings (canon_string.cc): lifted from (ptr, tagged code units), stored as them.
bool valid_utf8(const uint8_t* s, size_t n);
Result<Val> load_string_range(Cx& cx, uint32_t ptr, uint32_t tagged);
Result<std::pair<uint32_t, uint32_t>> store_string_range(Cx& cx, const std::string& s);
// The Val of an integer (or bool) primitive from its bits, narrowed to the type's width
// (canon.cc; the JSON and WAVE readers build theirs with it too).
Val int_val(Prim p, uint64_t raw);
// Type-checks a host-supplied value against a type (kind, arity, ranges), without lowering it.
Result<void> check_val(const Decoded& d, const Val& v, const component::ValType& t, const std::string& where);
// A value type with its specialization removed (an alias of a primitive is that primitive): a
// primitive, or a defined type; what lifting, lowering (canon.cc) and the JSON mapping
// (json_val.cc) read types through.
struct Ty {
  bool prim = true;
  Prim p = Prim::kBool;
  const TypeDef* def = nullptr;
};
Ty resolve(const Decoded& d, const component::ValType& v);
// The value kind a value of the type has (val.h).
ValKind kind_of(const Ty& t);

// A trap of the Canonical ABI: trap_memory_out_of_bounds for a guest range outside memory,
// trap_host for every other rule, the message naming the rule.
Error abi_trap(std::string what);
Error abi_oob(std::string what);

// A HostCallResult as an Error (kOk and kExit are not errors: callers test them first).
Error host_result_error(const HostCallResult& r);

// ---- Resources (resources.cc) ----
Result<uint32_t> lower_own(Cx& cx, const Val& v, uint32_t resource_type);
Result<uint32_t> lower_borrow(Cx& cx, const Val& v, uint32_t resource_type);
Result<Val> lift_own(Cx& cx, uint32_t handle, uint32_t resource_type);
Result<Val> lift_borrow(Cx& cx, uint32_t handle, uint32_t resource_type);
// The run-time resource type of a static one in this instance (a trap when none is bound).
Result<const ResourceType*> runtime_resource(InstanceState& inst, uint32_t resource_type);
// The core built-ins resource.new / resource.drop / resource.rep of `inst` for `rt`.
std::shared_ptr<CoreFunc> resource_builtin(InstanceState& inst, CanonKind kind, const ResourceType* rt);
// Ends a call's borrow scope: releases the handles lent, traps when borrows were not dropped.
Result<void> end_scope(CallScope& scope, bool callee_side);

}  // namespace wasmcap::component

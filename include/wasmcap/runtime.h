// The embedding entry point: run a WASI command (or a reactor export) under a WASI config and
// limits, on a chosen engine. This is what `wasmcap run` does.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "wasmcap/engine.h"
#include "wasmcap/error.h"
#include "wasmcap/policy.h"
#include "wasmcap/wasi.h"

namespace wasmcap {

namespace audit {
class Sink;
}
namespace https {
class Client;
}

// A call of one function a component exports (`wasmcap call`; docs/components.md, "Calling an
// export"), instead of its wasi:cli/run: the function by its export name ("name", or
// "iface#name" for a function of an exported instance) and its arguments as one JSON object of
// its named parameters (docs/components.md, "Values as JSON").
// A component value as a typed tree, for embedders (the C API's wasmcap_val_t is one;
// docs/components.md, "Values as trees"): WIT's kinds, named where WIT names things. Nothing is
// implied by position but the order of list and tuple elements and record fields.
struct ComponentValue {
  // WIT's value kinds, in the order of the C API's wasmcap_val_kind_t.
  enum class Kind : uint8_t {
    kBool, kS8, kU8, kS16, kU16, kS32, kU32, kS64, kU64, kF32, kF64, kChar, kString,
    kList, kRecord, kTuple, kVariant, kEnum, kOption, kResult, kFlags,
  };
  Kind kind = Kind::kBool;
  // bool: 0 or 1; an integer: its value (the signed kinds' two's complement, sign-extended to
  // 64 bits); char: the Unicode scalar value; result: 0 for ok, 1 for err.
  uint64_t bits = 0;
  double f = 0;  // f32, f64
  // string: its UTF-8 bytes; variant, enum: the case's name.
  std::string text;
  // list, tuple: the elements; record: the fields' values (their names in `names`, in the same
  // order); option: none (empty) or some (the one value); result, variant: the payload, if any.
  std::vector<ComponentValue> items;
  // record: the name of each item's field; flags: the labels that are set.
  std::vector<std::string> names;
};

struct ComponentCall {
  std::string function;
  std::string args_json = "{}";
  // Set: the arguments are this WAVE text instead (the values between a call's parentheses,
  // `1, "a"`, in order; docs/components.md, "WAVE"), and the result is also given as WAVE
  // (RunReport::result_wave).
  std::optional<std::string> args_wave;
  // Set: the arguments are these values instead, one per parameter in order, each of exactly the
  // parameter's kind; the result is also given as a tree (RunReport::result_value).
  std::optional<std::vector<ComponentValue>> args_values;
};
// A call written in WAVE, `name(arg, ...)` (`wasmcap call COMPONENT 'add(1, 2)'`): the function
// and args_wave. invalid_argument when the text is not of that form; the arguments themselves
// are checked against the function's parameters by the call (check_component_call).
Result<ComponentCall> wave_call(std::string_view text);

struct RunOptions {
  // "interp" (wasmcap's interpreter), "aot", or "auto": aot when a compiled object for the module
  // is in the cache; otherwise the interpreter at once while a bounded background process
  // compiles the module for the next run (docs/aot.md, "Engine choice").
  std::string engine = "interp";
  // auto only: compile in the foreground when no object is cached (the run waits for it)
  // instead of interpreting this run (`wasmcap run --wait-for-compile`).
  bool wait_for_compile = false;
  // auto only: called once, before the module runs, with one line saying which engine runs it
  // and why (no trailing newline; `wasmcap run` prints it to stderr, `-q` silences it). Null:
  // nothing is reported (RunReport::engine still names the engine).
  std::function<void(const std::string&)> notice;
  // AOT engine: cache directory, compiler, progress line (docs/aot.md). Ignored by interp.
  AotOptions aot;
  WasiConfig wasi;
  uint64_t max_memory_bytes = 4ull << 30;  // rounded down to whole 64 KiB pages
  // Optional: linear memory shared with other runs (ExecLimits::memory_pool): the run's memory
  // takes its pages from it, within max_memory_bytes. Null: only max_memory_bytes bounds it.
  std::shared_ptr<wasmcap_memory_pool> memory_pool;
  uint64_t fuel = 0;                       // 0 = unlimited
  uint64_t timeout_ms = 0;  // wall clock of the whole run, AOT compile included; 0 = unlimited
  // Cooperative cancellation: set it (from any thread) to stop the run with deadline_exceeded.
  const std::atomic<bool>* interrupt = nullptr;
  // Export to run. "_start" for commands; reactors get "_initialize" called first.
  std::string entry = "_start";
  // Arguments for `entry` (`wasmcap run --invoke FUNC ARGS...`); checked against its signature.
  std::vector<Value> entry_args;
  // Host APIs the run may link (host_api.*; from the plan's requests). A module importing a
  // host API module ("wasmcap_*") not in this set is refused before instantiation
  // (grant_denied). Empty for flag-based runs: no host APIs without a manifest.
  CapabilitySet host_apis;
  // The plan this run enforces (`wasmcap run --manifest`); null for flag-based runs, whose
  // fields above are the whole grant. Host APIs read their effective rules from it.
  std::shared_ptr<const policy::Plan> plan;
  // A run without a plan: how the caller's front end grants a host API, named when a module
  // importing one is refused (the CLI says its --allow-https flag, the C API
  // wasmcap_config_set_plan). Empty: the refusal says a plan grants it (RunOptions::plan).
  std::string no_plan_grant;
  // Runs of an installed bundle (`wasmcap run NAME`): the SHA-256 (lowercase hex) of the module
  // bytes, verified against the signed manifest before this run; or the hash a caller computed
  // of module_bytes anyway (the CLI, for its audit record). Empty otherwise. The AOT cache and
  // the fast engine's validated-module records under auto key on this same value instead of
  // hashing the module again (engine "aot" and "auto"): it must be the SHA-256 of module_bytes.
  std::string module_sha256;
  // The file module_bytes were read from (read_module_file()), when they were: lets the AOT
  // engine skip hashing a module file that has not changed since an earlier run (docs/aot.md,
  // "Cold start"). It must describe exactly these bytes; leave it empty otherwise.
  std::optional<ModuleFileIdentity> module_file;

  // --- The https host API (linked when host_apis has host_api.https) ---
  // The client serving the wasmcap_https import. Null (the default): run_module creates one for
  // this run from plan->https and plan->network, with a fresh random invocation id and the audit
  // sinks below. Embedders may supply their own (e.g. a shared or instrumented client).
  std::shared_ptr<https::Client> https_client;
  // An extra destination for https audit events (audit::callback_sink(fn) for an in-process
  // callback, audit::stderr_sink()). Events also go to plan->audit.file when the host config
  // names one: an embedder's sink never replaces the operator's log. Used only when run_module
  // creates the client.
  std::shared_ptr<audit::Sink> audit_sink;
  // The id that ties this run's audit events together (`wasmcap run --invocation-id`, e.g. an
  // agent's tool-call id; see is_valid_invocation_id, else invalid_argument). Empty: a fresh
  // random one per run (RunReport::invocation_id says which).
  std::string invocation_id;
  // The run's own records (docs/audit.md, "run_start / run_end"): run_module writes run_start
  // before the module is loaded and run_end after the run, to the plan's audit file
  // (plan->audit.file, opened before anything runs: io_error if it cannot be) and to audit_sink,
  // whichever are set; with neither, nothing is written and nothing extra is done. Record or
  // refuse: a run_start that cannot be written whole is io_error and the module never starts; a
  // run_end that cannot be written is RunReport::audit_error (or, when the run failed anyway,
  // noted in its error's message). Front ends that record the same work in records of their own
  // (an MCP tool call, a shell command) turn this off.
  bool record_run = true;
  // A component run calls this export instead of wasi:cli/run (RunReport::result_json). Its
  // arguments are converted (check_component_call) before the component is instantiated: bad
  // ones are invalid_argument naming their JSON path, and nothing of the component runs. A core
  // module is refused (invalid_argument).
  std::optional<ComponentCall> component_call;
};

struct RunReport {
  int32_t exit_code = 0;  // the guest's exit status (0 when _start returned)
  uint64_t fuel_consumed = 0;
  double wall_ms = 0;
  std::vector<Value> results;  // what `entry` returned (empty after a guest exit)
  std::string engine;  // the engine that ran the module ("interp" or "aot"; "auto" resolved)
  // auto: the process id of the background compile this run started (0: none). It is not a
  // child of the caller (docs/aot.md, "Background compile").
  int background_compile_pid = 0;
  std::string invocation_id;  // the id in this run's records and https events
  // The run happened, but its run_end record was not written (RunOptions::record_run): the front
  // end fails the run and says so (`wasmcap run` exits 74 with a warning).
  std::optional<Error> audit_error;
  // The write budget (WasiConfig::max_write_bytes) refused at least one of this run's requests
  // (ENOSPC): run_end says so once, however many writes were refused.
  bool write_budget_refused = false;
  // RunOptions::component_call: the function's result as JSON (one line; "null" for a function
  // without one). exit_code is 1 when the result is a result<T, E>'s err case, else 0 (or the
  // status the component exited with, wasi:cli/exit, result_json then empty).
  std::string result_json;
  // ComponentCall::args_wave set: the result as WAVE ("" for a function without one).
  std::string result_wave;
  // ComponentCall::args_values set: the result as a tree (none for a function without one).
  std::optional<ComponentValue> result_value;
};

// 128 random bits as 32 lowercase hex digits (an unguessable invocation id).
Result<std::string> make_invocation_id();

// An operator-supplied invocation id: 1-128 bytes of [A-Za-z0-9._:-] (it lands in audit records
// and on command lines, so no spaces, quotes or control characters).
bool is_valid_invocation_id(std::string_view id);

// Reads a whole file (modules, manifests). Errors name the path.
Result<std::vector<uint8_t>> read_file_bytes(const std::string& path);

// A module read from a file, with the file's identity (ModuleFileIdentity) when it was the same
// before and after the read: a regular file, same device, inode, size and times. `file` is empty
// otherwise (e.g. a pipe, or a file changed while it was read); the bytes are what was read.
struct ModuleFile {
  std::vector<uint8_t> bytes;
  std::optional<ModuleFileIdentity> file;
};
// Modules are at most kMaxModuleFileBytes (1 GiB, the largest module V8 accepts): a bigger file
// (or an endless one: /dev/zero, a pipe) is module_unsupported after reading at most that much,
// and a regular file whose size says so is refused before any byte is read. `max_bytes` lowers
// the bound (tests).
inline constexpr uint64_t kMaxModuleFileBytes = uint64_t{1} << 30;
Result<ModuleFile> read_module_file(const std::string& path,
                                    uint64_t max_bytes = kMaxModuleFileBytes);

// --- The load budget (docs/security-model.md, "Bulk work and loading") ---------------------
//
// Threat: loading costs host memory and time out of proportion to a module's size: a valid
// 4 MB module of a million empty functions took 534 MB on wasmcap's interpreter and 720 MB on
// wabt's (135-180 bytes per module byte; each function is 4 bytes of wasm and a few hundred bytes
// of host structures) under --max-memory-mb 16, and ran 1.9 s past a 300 ms deadline. Before any
// engine sees a module, run_module estimates what loading it costs from its section headers
// (a pass over the sections, no decoding: estimate_load_cost) and refuses it (memory_limit)
// when that is above the load budget: the run's memory limit, at least kMinLoadBudgetBytes.
// The estimate is an upper bound of what the interpreter (interp) allocates to load and
// instantiate it, and of what wabt 1.0.32's interpreter does: the per-item costs were set from
// both while the product shipped both, and are kept as they were; wabt's interpreter is now the
// tests' reference oracle (tests/support/wabt_engine), and tests/runtime/load_budget_test.cc
// still measures both against the estimate, shape by shape (docs/fast-interp.md, "Load"). The
// deadline also covers loading: a load that ends past it ends the run (deadline_exceeded) before
// the module is instantiated.
// Embedders that call Engine::load directly apply check_load_budget themselves.
//
// The floor: ordinary programs must load under small memory limits (python.wasm, 6.8 MB, is
// estimated at about 130 MiB); the budget is the larger of it and the memory limit.
inline constexpr uint64_t kMinLoadBudgetBytes = 256ull << 20;
// Host bytes per item: the larger of the two interpreters' measured costs (interp's and the wabt
// oracle's), rounded up to a power of two (measured 2026-11-25, tests/runtime/load_budget_test.cc
// prints them; docs/fast-interp.md "Load"): interp / wabt per function 536 / 729, per type
// 386 / 196, per export 509 / 651, per global 326 / 864, per element 178 / 32, per code byte
// 1.6 / 12 (wabt's instruction stream; interp translates lazily, a few code bytes per wasm byte
// of the functions called).
inline constexpr uint64_t kLoadBytesPerModuleByte = 4;     // the bytes kept, split, copied
inline constexpr uint64_t kLoadBytesPerFunction = 1024;    // declarations, instance entries
inline constexpr uint64_t kLoadBytesPerType = 512;         // signatures (IR, interp, canonical)
inline constexpr uint64_t kLoadBytesPerEntry = 1024;       // an import, export or global
inline constexpr uint64_t kLoadBytesPerElementByte = 256;  // an element (at least one byte)
inline constexpr uint64_t kLoadBytesPerCodeByte = 16;      // instruction streams, translations
struct LoadCost {
  uint64_t module_bytes = 0;
  uint64_t functions = 0;      // declared and imported (an upper bound: all imports count)
  uint64_t types = 0;
  uint64_t entries = 0;        // imports, exports, globals
  uint64_t element_bytes = 0;  // the element section's size
  uint64_t code_bytes = 0;     // the code section's size
  uint64_t host_bytes = 0;     // the estimate (saturating)
};
// Never fails: a malformed module is estimated as far as its sections read (the engine's
// loader then says what is wrong).
LoadCost estimate_load_cost(const uint8_t* bytes, size_t size);
uint64_t load_budget_bytes(uint64_t max_memory_bytes);
// memory_limit, with the estimate, the budget and what to do, when the estimate is above
// load_budget_bytes(max_memory_bytes).
Result<void> check_load_budget(const uint8_t* bytes, size_t size, uint64_t max_memory_bytes);

// WASI 0.2 command components (docs/components.md, "Running a component"). run_module runs one
// (its wasi:cli/run#run export) on the same grants, limits and records as a core module; these
// let a front end say what a component needs before it runs.
bool is_component_binary(const uint8_t* bytes, size_t size);
struct ComponentImports {
  // The WASI 0.2 interfaces it imports, as named ("wasi:cli/environment@0.2.0"), quoted.
  std::vector<std::string> interfaces;
  // Each import the run's WASI 0.2 host does not serve: "interface#function" (or the resource,
  // or the import, for what is not an instance), quoted.
  std::vector<std::string> unserved;
  // Every import's name as the component spells it (untrusted bytes: escape before showing).
  std::vector<std::string> names;
  // The grants its imported interfaces read, each once, with the first interface (quoted) that
  // reads it: wasi:filesystem/* a directory, wasi:clocks/* a clock, wasi:random/* random,
  // wasi:cli/environment args and env, wasi:http/outgoing-handler https. Without the grant a call
  // is refused (not-capable, a trap where 0.2 has no error result, HTTP-request-denied), or for
  // args and env sees none.
  enum class Grant : uint8_t { kFs, kClocks, kRandom, kArgsEnv, kHttps };
  std::vector<std::pair<Grant, std::string>> reads;
};
// The decoder's error for a malformed component.
Result<ComponentImports> component_imports(const uint8_t* bytes, size_t size);

// `wasmcap compile`: a module, or every core module a component embeds (nested components'
// too), compiled for the aot engine into options' cache, as the aot engine's load would on a
// first run; a module already in the cache costs its hash. One entry per core module in the
// order of the binary (for a module: one, offset 0), each with the sha256 naming its object.
// The first failing load's error (a component's names the module's offset); a malformed
// component: the decoder's error.
struct CompiledModule {
  size_t offset = 0;
  size_t size = 0;
  std::string sha256;
  double seconds = 0;
};
struct CompileReport {
  bool component = false;
  std::vector<CompiledModule> modules;
};
Result<CompileReport> compile_for_aot(const uint8_t* bytes, size_t size, const AotOptions& options);

// What a component run with RunOptions::component_call checks before it instantiates anything,
// done on its own (`wasmcap call` does it before the run starts, so a refused call leaves no run
// records): the component decodes, exports `call.function` (else no_entry_point, naming
// `wasmcap call COMPONENT --list`), and `call.args_json` is a JSON object its parameters accept
// (invalid_argument, "$.PARAM...: expected ..., got ..."; the bounds of docs/components.md
// "Values as JSON"). Not a component: invalid_argument.
Result<void> check_component_call(const uint8_t* bytes, size_t size, const ComponentCall& call);

// A function a component exports, for listings (`wasmcap call --list`): its export name and
// parameter names (untrusted bytes: quote them for a terminal), and the JSON Schemas
// (2020-12) of its arguments object and of its result as `wasmcap call` prints it.
struct ComponentFunction {
  std::string name;
  std::vector<std::string> params;
  std::string signature;      // as WIT writes it: "(a: u32, b: u32) -> u32"
  std::string params_schema;  // JSON text
  std::string result_schema;  // JSON text
};
// Every function the component exports, sorted by name. The decoder's error for a malformed
// component; invalid_argument for a core module.
Result<std::vector<ComponentFunction>> component_functions(const uint8_t* bytes, size_t size);
// Both of a component (decoded once): `wasmcap inspect`. Errors as component_functions'.
struct ComponentDescription {
  ComponentImports imports;
  std::vector<ComponentFunction> functions;
};
Result<ComponentDescription> describe_component(const uint8_t* bytes, size_t size);

// Engines by name: make_engine(), engine_names() and fast_options() in wasmcap/engine.h.

// Loads, links against WASI (and, when options.host_apis has host_api.https, the wasmcap_https
// import module, docs/abi-https.md), instantiates and runs. Traps and limits are errors with their
// structured codes; a guest exit (any status) is a RunReport.
//
// https: the client is options.https_client or one created from the plan (errors before the
// module runs: no plan with https and no client → invalid_argument; an unreadable secret, CA or
// audit file → its error). In a --degrade run the import is linked as usual and the client
// refuses each call the plan does not allow (grant_denied).
//
// Before loading, the capabilities the options need (required_capabilities()) are checked
// against the engine and this build: any missing one is capability_unavailable and nothing
// runs. After loading, the module's imports are checked against options.host_apis
// (policy::check_imports; grant_denied).
Result<RunReport> run_module(const std::vector<uint8_t>& module_bytes, RunOptions options);
// The same on shared bytes: whatever of the run keeps a view of them (a component's core
// modules, an engine's loaded module) keeps them alive through the pointer instead of a copy.
// Null: invalid_argument.
Result<RunReport> run_module(std::shared_ptr<const std::vector<uint8_t>> module_bytes, RunOptions options);

// The same on a given engine (options.engine is ignored): embedders and tests with their own
// Engine implementation.
Result<RunReport> run_module(Engine& engine, const std::vector<uint8_t>& module_bytes,
                             RunOptions options);

// --- Prepared modules: load once, run many ---------------------------------------------------
//
// Loading a module (reading, validating; on aot, compiling or mapping its cached object) is
// done once by PreparedModule::prepare; each run() instantiates the loaded module afresh, so no
// run sees another's memory, globals or tables. The C API's module handle holds one
// (wasmcap_module_new); an embedder serving many calls of one plugin keeps one per module.

struct PrepareOptions {
  // "interp" or "aot". ("auto" chooses per run, as the cache fills: use run_module.)
  std::string engine = "interp";
  AotOptions aot;  // aot: cache directory, compiler, compile bounds (compile_deadline too)
  // The load budget's basis (check_load_budget): a module whose load would cost more than the
  // budget of this memory limit is refused (memory_limit) before any engine sees it. Each run
  // checks it again against the run's own limit.
  uint64_t max_memory_bytes = 4ull << 30;
  // As RunOptions::module_file / module_sha256: the file the bytes were read from, and their
  // verified sha256 (empty: taken from the cache's record of the unchanged file, or hashed once,
  // when first needed).
  std::optional<ModuleFileIdentity> module_file;
  std::string module_sha256;
};

namespace component {
struct Decoded;  // src/component/component.h: a decoded, validated component
}  // namespace component
namespace runtime_detail {
struct PreparedComponentEngines;  // src/runtime/component_run.h
}  // namespace runtime_detail

class PreparedModule {
 public:
  // Loads `bytes` on `options.engine`. Errors: the engine's load errors (malformed,
  // module_unsupported, an aot compile's), memory_limit (the load budget), invalid_argument for
  // an engine that does not prepare. A WASI 0.2 component is decoded and validated here (its
  // errors too); each run instantiates it as run_module does (docs/components.md), its core
  // modules loaded on the engine per run.
  static Result<std::shared_ptr<const PreparedModule>> prepare(std::vector<uint8_t> bytes,
                                                               const PrepareOptions& options = {});
  // The same on bytes the caller shares (never changed while anyone holds them): the prepared
  // module, and the engine's loaded module, keep them rather than copies.
  static Result<std::shared_ptr<const PreparedModule>> prepare(
      std::shared_ptr<const std::vector<uint8_t>> bytes, const PrepareOptions& options = {});
  // One run in a fresh instance, with everything run_module does but loading: the run's records,
  // the capability and import checks, limits, deadline (counted from this call) and host APIs.
  // options.engine, module_file and module_sha256 are the prepared module's. Runs may be made
  // from several threads at once.
  Result<RunReport> run(RunOptions options) const;
  // A core module's imports and exports; a component's are its own (component_functions,
  // component_imports): empty here.
  const ModuleInfo& info() const;
  bool is_component() const { return component_; }
  // check_component_call on this prepared component's decoding (made once, by prepare()): the
  // same refusals, without decoding the component again. invalid_argument for a core module.
  Result<void> check_call(const ComponentCall& call) const;
  // A component's functions (component_functions' list, from the decoding prepare() made: the
  // component is not decoded again); empty for a core module.
  std::vector<ComponentFunction> component_functions() const;
  const std::string& engine() const { return engine_name_; }  // "interp" or "aot"
  const std::string& module_sha256() const;  // hex; computed once, when first needed
  const std::vector<uint8_t>& bytes() const { return *bytes_; }

  PreparedModule(const PreparedModule&) = delete;
  PreparedModule& operator=(const PreparedModule&) = delete;
  ~PreparedModule();

 private:
  PreparedModule() = default;
  std::shared_ptr<const std::vector<uint8_t>> bytes_;
  std::string engine_name_;
  std::unique_ptr<ModuleBytes> source_;  // bytes_, with their file and hash (computed once)
  std::unique_ptr<Engine> engine_;
  std::shared_ptr<const Module> module_;  // a core module's; null for a component
  bool component_ = false;
  // A component's decoding, made once by prepare() and shared by every run (opaque here).
  std::shared_ptr<const component::Decoded> decoded_;
  // A component's engines and the core modules its runs loaded on them: loaded by the first run
  // that needs each, instantiated by every later one (opaque here).
  std::shared_ptr<runtime_detail::PreparedComponentEngines> component_engines_;
};

// What a run of `plan` checks before the module starts, done now without running anything
// (`wasmcap plan`): the module file is readable; the audit file can be opened for appending
// (an existing file is opened without creating anything; a missing one needs a writable
// directory); with https, the client can be created from the plan (every secret file readable,
// a regular file, non-empty and within its size bound; network.ca_file readable). Returns the
// checks that passed, one line each, or the first failure with the error the run would give.
Result<std::vector<std::string>> preflight_checks(const policy::Plan& plan);

// The host capabilities this build of wasmcap has: WASI args, env, clocks, random, stdio and fs,
// and host_api.https. Limits are the engine's to declare.
CapabilitySet host_build_capabilities();

// What a run with these options needs: WASI stdio/clocks/random always; args when argv has more
// than argv[0]; env/fs when given; options.host_apis; each limit that is set (memory when below
// 4 GiB).
CapabilitySet required_capabilities(const RunOptions& options);

// Run options enforcing `plan`: its fs mounts as preopens, env values, limits and host APIs, and
// `argv` (argv[0] first) as the guest's arguments.
//
// Errors (grant_denied): the plan has denials and `degrade` is false (each denial is named);
// argv has arguments beyond argv[0] but the manifest does not request args. With `degrade`,
// a denied fs request becomes a Preopen with `denied` set (every operation: ENOTCAPABLE), a
// narrowed one is mounted read-only, and other denied grants are simply absent.
// Run-level pins (`wasmcap run --clock/--random`, wasmcap_config_set_clock/_random): they only
// narrow. A "host" pin changes nothing; a denied source stays denied; otherwise the pin (fixed
// clock, seed, or deny) replaces the source. Which clocks are on (requested and granted) is
// unchanged.
void pin_clock(WasiConfig& wasi, const ClockSource& pin);
void pin_random(WasiConfig& wasi, const RandomSource& pin);

// The plan's clocks and random become o.wasi.clock/clock_wall/clock_monotonic/random.
Result<RunOptions> run_options_from_plan(std::shared_ptr<const policy::Plan> plan,
                                         std::vector<std::string> argv, bool degrade);

// --- The run pipeline: one entry point for every front end ------------------------------------
//
// `wasmcap run` (MODULE with flag grants, --manifest, an installed bundle NAME), the MCP tool
// call, `wasmcap sh`'s commands and the C API's wasmcap_run describe a run as a RunRequest and
// hand it to run_request() (or resolve_run(), then run_module / PreparedModule::run, when they
// must see the resolved run before it starts). The request names one grant source; the pipeline
// turns it into RunOptions (run_options_from_plan), narrows the limits by the operator's bounds
// (narrow_bounds: one rule, memory in bytes), applies the clock and random pins, owns the
// invocation id (the caller's, checked, or a new one) and runs; the run writes its own records
// (RunOptions::record_run). docs/architecture.md, "The run pipeline".

// Limits as bounds: absent = no bound. Memory in bytes.
struct RunBounds {
  std::optional<uint64_t> max_memory_bytes;
  std::optional<uint64_t> timeout_ms;
  std::optional<uint64_t> fuel;
  // The write budget's bytes (WasiConfig::max_write_bytes). Unlike the others it may exceed the
  // default: an operator's bound replaces WasiConfig's default, narrowed only by the plan's
  // limits.max_write_mb (resolve_run).
  std::optional<uint64_t> max_write_bytes;
};

// The one narrowing rule, limit by limit: the smaller wins; absent takes the other
// (policy::smaller_limit, which also narrows a manifest's limits by the host config's).
RunBounds narrow_bounds(const RunBounds& a, const RunBounds& b);

// A plan's limits as bounds (memory: MiB to bytes).
RunBounds bounds_of(const policy::Limits& limits);

struct RunRequest {
  // The grant source, one of:
  //  - a plan: `wasmcap run --manifest`, an MCP tool, wasmcap_config_set_plan, or an installed
  //    bundle's (registry::plan_for_installed). Its fs mounts, env, args rule, clocks, random,
  //    host APIs and limits are the run's (run_options_from_plan, with `degrade`); whatever
  //    `options` says of them is replaced. `options` must not bring directories or environment
  //    of its own (invalid_argument: one source of grants).
  //  - no plan: flag grants (`wasmcap run MODULE --dir/--env`, a shell command, a C API config
  //    without a plan): options.wasi's preopens, env, clocks and random, options.host_apis and
  //    options.plan (a host API's rules) and options' limits, as the caller set them.
  std::shared_ptr<const policy::Plan> plan;
  bool degrade = false;  // a plan with denials runs anyway (run_options_from_plan)
  // The guest's argv, argv[0] first (with a plan: arguments only when its manifest takes them).
  std::vector<std::string> argv;
  // The operator's bounds (`wasmcap run --fuel/--timeout-ms/--max-memory-mb`, the MCP server's
  // per-call limits, wasmcap_config_set_*): they narrow the grant source's limits, never widen.
  RunBounds bounds;
  // Run-level pins: they only narrow (pin_clock, pin_random). kHost: none.
  ClockSource clock_pin;
  RandomSource random_pin;
  // Everything else of the run: engine, output, stdin, entry, audit sink, record_run, the
  // invocation id (empty: a new one), the module's file and hash.
  RunOptions options;
};

// The run the request describes, without running it: the grant source resolved, the limits
// narrowed, the pins applied and options.invocation_id set (the request's, else a new random
// one). Errors: run_options_from_plan's (grant_denied), invalid_argument (directories or
// environment beside a plan; an invocation id that is_valid_invocation_id refuses), io_error
// (no randomness for an id).
Result<RunOptions> resolve_run(RunRequest request);

// The entry point: resolve_run, then the run, on the module's bytes (run_module) or on a
// prepared module (PreparedModule::run).
Result<RunReport> run_request(RunRequest request, const std::vector<uint8_t>& module_bytes);
Result<RunReport> run_request(RunRequest request, const PreparedModule& module);

// What a front end says of a run whose run_end record was not written (RunReport::audit_error):
// "the run finished (status N) but its run_end ERROR", N the guest's exit status (0-255).
std::string run_end_not_written(const RunReport& report);

}  // namespace wasmcap

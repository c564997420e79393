// The C API (include/wasmcap/wasmcap.h) over the C++ core. Every entry point catches C++
// exceptions (std::bad_alloc and the like) and turns them into an internal_error: none may cross
// the C boundary.
#include "wasmcap/wasmcap.h"

#include <atomic>
#include <cstring>
#include <exception>
#include <filesystem>
#include <memory>
#include <new>
#include <optional>
#include <string>
#include <vector>

#include "wasmcap/audit.h"
#include "wasmcap/error.h"
#include "wasmcap/policy.h"
#include "wasmcap/registry.h"
#include "common/escape.h"
#include "wasmcap/runtime.h"

// C codes are the C++ ErrorCode values plus one (0 is WASMCAP_OK). Inserting a C++ code anywhere
// but at the end would silently renumber the C ABI: these asserts stop that.
#define WASMCAP_CHECK_CODE(cxx, c) \
  static_assert(static_cast<int>(wasmcap::ErrorCode::cxx) + 1 == c, "C ABI error code moved")
WASMCAP_CHECK_CODE(kInvalidArgument, WASMCAP_ERR_INVALID_ARGUMENT);
WASMCAP_CHECK_CODE(kIo, WASMCAP_ERR_IO);
WASMCAP_CHECK_CODE(kNotFound, WASMCAP_ERR_NOT_FOUND);
WASMCAP_CHECK_CODE(kModuleMalformed, WASMCAP_ERR_MODULE_MALFORMED);
WASMCAP_CHECK_CODE(kModuleUnsupported, WASMCAP_ERR_MODULE_UNSUPPORTED);
WASMCAP_CHECK_CODE(kLinkError, WASMCAP_ERR_LINK);
WASMCAP_CHECK_CODE(kNoEntryPoint, WASMCAP_ERR_NO_ENTRY_POINT);
WASMCAP_CHECK_CODE(kTrapUnreachable, WASMCAP_ERR_TRAP_UNREACHABLE);
WASMCAP_CHECK_CODE(kTrapMemoryOutOfBounds, WASMCAP_ERR_TRAP_MEMORY_OUT_OF_BOUNDS);
WASMCAP_CHECK_CODE(kTrapTableOutOfBounds, WASMCAP_ERR_TRAP_TABLE_OUT_OF_BOUNDS);
WASMCAP_CHECK_CODE(kTrapIntegerDivideByZero, WASMCAP_ERR_TRAP_INTEGER_DIVIDE_BY_ZERO);
WASMCAP_CHECK_CODE(kTrapIntegerOverflow, WASMCAP_ERR_TRAP_INTEGER_OVERFLOW);
WASMCAP_CHECK_CODE(kTrapInvalidConversion, WASMCAP_ERR_TRAP_INVALID_CONVERSION);
WASMCAP_CHECK_CODE(kTrapIndirectCallNull, WASMCAP_ERR_TRAP_INDIRECT_CALL_NULL);
WASMCAP_CHECK_CODE(kTrapIndirectCallMismatch, WASMCAP_ERR_TRAP_INDIRECT_CALL_MISMATCH);
WASMCAP_CHECK_CODE(kTrapStackExhausted, WASMCAP_ERR_TRAP_STACK_EXHAUSTED);
WASMCAP_CHECK_CODE(kTrapHost, WASMCAP_ERR_TRAP_HOST);
WASMCAP_CHECK_CODE(kTrapOther, WASMCAP_ERR_TRAP);
WASMCAP_CHECK_CODE(kFuelExhausted, WASMCAP_ERR_FUEL_EXHAUSTED);
WASMCAP_CHECK_CODE(kDeadlineExceeded, WASMCAP_ERR_DEADLINE_EXCEEDED);
WASMCAP_CHECK_CODE(kMemoryLimit, WASMCAP_ERR_MEMORY_LIMIT);
WASMCAP_CHECK_CODE(kOutputLimit, WASMCAP_ERR_OUTPUT_LIMIT);
WASMCAP_CHECK_CODE(kManifestInvalid, WASMCAP_ERR_MANIFEST_INVALID);
WASMCAP_CHECK_CODE(kConfigInvalid, WASMCAP_ERR_CONFIG_INVALID);
WASMCAP_CHECK_CODE(kGrantDenied, WASMCAP_ERR_GRANT_DENIED);
WASMCAP_CHECK_CODE(kCapabilityUnavailable, WASMCAP_ERR_CAPABILITY_UNAVAILABLE);
WASMCAP_CHECK_CODE(kBundleInvalid, WASMCAP_ERR_BUNDLE_INVALID);
WASMCAP_CHECK_CODE(kBundleUntrusted, WASMCAP_ERR_BUNDLE_UNTRUSTED);
WASMCAP_CHECK_CODE(kBundleRevoked, WASMCAP_ERR_BUNDLE_REVOKED);
WASMCAP_CHECK_CODE(kBundleConflict, WASMCAP_ERR_BUNDLE_CONFLICT);
WASMCAP_CHECK_CODE(kInternal, WASMCAP_ERR_INTERNAL);
WASMCAP_CHECK_CODE(kCompileLimit, WASMCAP_ERR_COMPILE_LIMIT);
WASMCAP_CHECK_CODE(kWorkspaceConflict, WASMCAP_ERR_WORKSPACE_CONFLICT);
WASMCAP_CHECK_CODE(kTrapUncaughtException, WASMCAP_ERR_TRAP_UNCAUGHT_EXCEPTION);
#undef WASMCAP_CHECK_CODE

struct wasmcap_error {
  wasmcap::Error e;
};

struct wasmcap_engine {
  std::string name;
  wasmcap::AotOptions aot;
  std::unique_ptr<wasmcap::Engine> loader;  // "auto": validates its modules (the interpreter)
};

struct wasmcap_module {
  // Never changed once set (shared with the prepared module, which keeps them, not a copy).
  std::shared_ptr<const std::vector<uint8_t>> bytes;
  // The file `bytes` were read from, as read_module_file() saw it (wasmcap_module_new_from_file):
  // lets the AOT engine take the module's sha256 from the cache's record of the unchanged file
  // instead of hashing it at every load and run (docs/aot.md, "Cold start").
  std::optional<wasmcap::ModuleFileIdentity> file;
  std::vector<std::string> imports;  // "module.name"
  std::vector<std::string> exports;
  // A component's: each exported function's type as WIT writes it (parallel to exports).
  std::vector<std::string> signatures;
  // Loaded once, for the engine handle it was made with (interp, aot): runs on that engine
  // instantiate it afresh instead of loading the bytes again (runtime.h PreparedModule). Null for
  // auto, which chooses per run (the module is loaded by each run).
  std::shared_ptr<const wasmcap::PreparedModule> prepared;
  std::string prepared_engine, prepared_cache_dir;  // the engine handle's name and cache dir
};

struct wasmcap_plan {
  std::shared_ptr<wasmcap::policy::Plan> plan;
  std::string json;
};

struct wasmcap_interrupt {
  std::atomic<bool> flag{false};
};

struct wasmcap_config {
  wasmcap::WasiConfig wasi;
  bool argv0_default = true;
  std::shared_ptr<const wasmcap::policy::Plan> plan;
  bool degrade = false;
  uint64_t fuel = 0, timeout_ms = 0, max_memory_bytes = 0, max_output_bytes = 0;
  uint64_t max_write_bytes = 0;  // 0: the plan's limit, else WasiConfig's default
  std::string entry = "_start";
  wasmcap_interrupt_t* interrupt = nullptr;
  wasmcap_output_callback_t output_cb = nullptr;
  void* output_user = nullptr;
  wasmcap_audit_callback_t audit_cb = nullptr;
  void* audit_user = nullptr;
  // wasmcap_config_set_clock / _set_random: run-level pins (kHost: none).
  wasmcap::ClockSource clock_pin;
  wasmcap::RandomSource random_pin;
};

namespace {

using wasmcap::Error;
using wasmcap::ErrorCode;

wasmcap_error_t* make(ErrorCode code, std::string message) {
  try {
    return new wasmcap_error{Error(code, std::move(message))};
  } catch (...) {
    // Out of memory while reporting an error: a static error would need a different delete
    // path; return a minimal one instead (may itself be null on total exhaustion).
    return new (std::nothrow) wasmcap_error{};
  }
}

wasmcap_error_t* make(const Error& e) { return make(e.code, e.message); }

wasmcap_error_t* from_exception() {
  try {
    throw;
  } catch (const std::bad_alloc&) {
    return make(ErrorCode::kInternal, "out of memory");
  } catch (const std::exception& ex) {
    return make(ErrorCode::kInternal, ex.what());
  } catch (...) {
    return make(ErrorCode::kInternal, "unknown exception");
  }
}

wasmcap_error_t* null_arg(const char* fn, const char* what) {
  return make(ErrorCode::kInvalidArgument, std::string(fn) + ": " + what + " is NULL");
}

bool known(wasmcap_errcode_t code) {
  return code >= WASMCAP_ERR_INVALID_ARGUMENT && code <= WASMCAP_ERR_TRAP_UNCAUGHT_EXCEPTION;
}

ErrorCode to_cxx(wasmcap_errcode_t code) { return static_cast<ErrorCode>(static_cast<int>(code) - 1); }

}  // namespace

extern "C" {

const char* wasmcap_version(void) { return WASMCAP_VERSION; }
int wasmcap_version_number(void) { return WASMCAP_VERSION_NUMBER; }

// --- Errors ---------------------------------------------------------------------------------------

void wasmcap_error_delete(wasmcap_error_t* error) { delete error; }

wasmcap_errcode_t wasmcap_error_code(const wasmcap_error_t* error) {
  if (error == nullptr) return WASMCAP_OK;
  return static_cast<wasmcap_errcode_t>(static_cast<int>(error->e.code) + 1);
}

const char* wasmcap_error_message(const wasmcap_error_t* error) {
  return error == nullptr ? "" : error->e.message.c_str();
}

const char* wasmcap_errcode_name(wasmcap_errcode_t code) {
  if (code == WASMCAP_OK) return "ok";
  if (!known(code)) return "unknown";
  // error_code_name returns views of string literals: NUL-terminated.
  return wasmcap::error_code_name(to_cxx(code)).data();
}

int wasmcap_errcode_exit_status(wasmcap_errcode_t code) {
  if (code == WASMCAP_OK) return 0;
  if (!known(code)) return wasmcap::error_exit_code(ErrorCode::kInternal);
  return wasmcap::error_exit_code(to_cxx(code));
}

int wasmcap_errcode_is_trap(wasmcap_errcode_t code) {
  return known(code) && wasmcap::is_trap(to_cxx(code)) ? 1 : 0;
}

// --- Engine ---------------------------------------------------------------------------------------

wasmcap_error_t* wasmcap_engine_new(const char* name, const char* aot_cache_dir,
                                    wasmcap_engine_t** out) {
  if (out == nullptr) return null_arg("wasmcap_engine_new", "out");
  *out = nullptr;
  try {
    auto e = std::make_unique<wasmcap_engine>();
    e->name = name == nullptr ? "interp" : name;
    if (aot_cache_dir != nullptr) e->aot.cache_dir = aot_cache_dir;
    // An unknown name is refused here, with the list of engines.
    auto engine = wasmcap::make_engine(e->name, e->aot);
    if (!engine) return make(engine.error());
    // "auto" decides per run (runtime.h); its modules are validated by the interpreter's loader.
    // interp and aot modules are prepared (PreparedModule), each on an engine of its own.
    if (e->name == "auto") {
      auto loader = wasmcap::make_engine("interp", e->aot);
      if (!loader) return make(loader.error());
      e->loader = std::move(*loader);
    }
    *out = e.release();
    return nullptr;
  } catch (...) {
    return from_exception();
  }
}

void wasmcap_engine_delete(wasmcap_engine_t* engine) { delete engine; }

const char* wasmcap_engine_name(const wasmcap_engine_t* engine) {
  return engine == nullptr ? "" : engine->name.c_str();
}

// --- Module ---------------------------------------------------------------------------------------

namespace {
// Loads `m` (with its file's identity when it has one) and lists its imports and exports.
wasmcap_error_t* new_module(wasmcap_engine_t* engine, std::unique_ptr<wasmcap_module> m,
                            wasmcap_module_t** out) {
  std::shared_ptr<const wasmcap::Module> loaded;
  const wasmcap::ModuleInfo* described = nullptr;
  const bool component = wasmcap::is_component_binary(m->bytes->data(), m->bytes->size());
  std::vector<wasmcap::ComponentFunction> functions;
  if (component && engine->name != "interp" && engine->name != "aot") {
    // A WASI 0.2 component under auto: decoded and validated now (once: its functions are read
    // from the same decoding), run as run_module runs it.
    auto fns = wasmcap::component_functions(m->bytes->data(), m->bytes->size());
    if (!fns) return make(fns.error());
    functions = std::move(*fns);
  } else if (engine->name != "interp" && engine->name != "aot") {
    // auto chooses an engine per run: the module is validated (by the interpreter) and kept as
    // bytes.
    auto l = engine->loader->load(
        wasmcap::ModuleBytes(*m->bytes).with_file(m->file).with_keeper(m->bytes));
    if (!l) return make(l.error());
    loaded = std::move(*l);
    described = &loaded->info();
  } else {
    wasmcap::PrepareOptions po;
    po.engine = engine->name == "aot" ? "aot" : "interp";
    po.aot = engine->aot;
    po.module_file = m->file;
    auto p = wasmcap::PreparedModule::prepare(m->bytes, po);
    if (!p) return make(p.error());
    m->prepared = std::move(*p);
    m->prepared_engine = engine->name;
    m->prepared_cache_dir = engine->aot.cache_dir;
    described = &m->prepared->info();
    if (component) functions = m->prepared->component_functions();
  }
  if (component) {
    // A component's exports are its functions, named as `wasmcap call` names them; its imports
    // are interfaces, not "module.name" pairs: none listed (wasmcap plan names them).
    for (const auto& f : functions) {
      m->exports.push_back(f.name);
      m->signatures.push_back(f.signature);
    }
  } else {
    const wasmcap::ModuleInfo& info = *described;
    for (const auto& i : info.imports) m->imports.push_back(i.module + "." + i.name);
    for (const auto& x : info.exports) m->exports.push_back(x.name);
  }
  *out = m.release();
  return nullptr;
}
}  // namespace

wasmcap_error_t* wasmcap_module_new(wasmcap_engine_t* engine, const uint8_t* bytes, size_t len,
                                    wasmcap_module_t** out) {
  if (out == nullptr) return null_arg("wasmcap_module_new", "out");
  *out = nullptr;
  if (engine == nullptr) return null_arg("wasmcap_module_new", "engine");
  if (bytes == nullptr && len != 0) return null_arg("wasmcap_module_new", "bytes");
  try {
    auto m = std::make_unique<wasmcap_module>();
    m->bytes = std::make_shared<const std::vector<uint8_t>>(bytes, bytes + len);
    return new_module(engine, std::move(m), out);
  } catch (...) {
    return from_exception();
  }
}

wasmcap_error_t* wasmcap_module_new_from_file(wasmcap_engine_t* engine, const char* path,
                                              wasmcap_module_t** out) {
  if (out == nullptr) return null_arg("wasmcap_module_new_from_file", "out");
  *out = nullptr;
  if (path == nullptr) return null_arg("wasmcap_module_new_from_file", "path");
  try {
    if (engine == nullptr) return null_arg("wasmcap_module_new_from_file", "engine");
    auto f = wasmcap::read_module_file(path);
    if (!f) return make(f.error());
    auto m = std::make_unique<wasmcap_module>();
    m->bytes = std::make_shared<const std::vector<uint8_t>>(std::move(f->bytes));
    m->file = std::move(f->file);
    return new_module(engine, std::move(m), out);
  } catch (...) {
    return from_exception();
  }
}

void wasmcap_module_delete(wasmcap_module_t* module) { delete module; }

size_t wasmcap_module_import_count(const wasmcap_module_t* module) {
  return module == nullptr ? 0 : module->imports.size();
}
size_t wasmcap_module_export_count(const wasmcap_module_t* module) {
  return module == nullptr ? 0 : module->exports.size();
}
const char* wasmcap_module_import_name(const wasmcap_module_t* module, size_t i) {
  if (module == nullptr || i >= module->imports.size()) return nullptr;
  return module->imports[i].c_str();
}
const char* wasmcap_module_export_name(const wasmcap_module_t* module, size_t i) {
  if (module == nullptr || i >= module->exports.size()) return nullptr;
  return module->exports[i].c_str();
}
const char* wasmcap_module_export_signature(const wasmcap_module_t* module, size_t i) {
  if (module == nullptr || i >= module->signatures.size()) return nullptr;
  return module->signatures[i].c_str();
}

// --- Plan -----------------------------------------------------------------------------------------

namespace {
wasmcap_error_t* finish_plan(const wasmcap::policy::Manifest& manifest,
                             const wasmcap::policy::HostConfig& config, const std::string& dir,
                             wasmcap_plan_t** out) {
  auto p = std::make_unique<wasmcap_plan>();
  p->plan = std::make_shared<wasmcap::policy::Plan>(wasmcap::policy::make_plan(manifest, config, dir));
  p->json = wasmcap::policy::plan_to_json(*p->plan, wasmcap::policy::PlanReport{});
  *out = p.release();
  return nullptr;
}
}  // namespace

wasmcap_error_t* wasmcap_plan_new(const char* manifest_path, const char* config_path,
                                  wasmcap_plan_t** out) {
  if (out == nullptr) return null_arg("wasmcap_plan_new", "out");
  *out = nullptr;
  if (manifest_path == nullptr) return null_arg("wasmcap_plan_new", "manifest_path");
  if (config_path == nullptr) return null_arg("wasmcap_plan_new", "config_path");
  try {
    auto manifest = wasmcap::policy::load_manifest(manifest_path);
    if (!manifest) return make(manifest.error());
    auto config = wasmcap::policy::load_host_config(config_path);
    if (!config) return make(config.error());
    std::string dir = std::filesystem::path(manifest_path).parent_path().string();
    return finish_plan(*manifest, *config, dir, out);
  } catch (...) {
    return from_exception();
  }
}

wasmcap_error_t* wasmcap_plan_new_from_json(const char* manifest_json, size_t manifest_len,
                                            const char* config_json, size_t config_len,
                                            const char* manifest_dir, wasmcap_plan_t** out) {
  if (out == nullptr) return null_arg("wasmcap_plan_new_from_json", "out");
  *out = nullptr;
  if (manifest_json == nullptr) return null_arg("wasmcap_plan_new_from_json", "manifest_json");
  if (config_json == nullptr) return null_arg("wasmcap_plan_new_from_json", "config_json");
  try {
    auto manifest = wasmcap::policy::parse_manifest(std::string_view(manifest_json, manifest_len),
                                                    "manifest");
    if (!manifest) return make(manifest.error());
    auto config = wasmcap::policy::parse_host_config(std::string_view(config_json, config_len),
                                                     "host config");
    if (!config) return make(config.error());
    return finish_plan(*manifest, *config, manifest_dir == nullptr ? "" : manifest_dir, out);
  } catch (...) {
    return from_exception();
  }
}

void wasmcap_plan_delete(wasmcap_plan_t* plan) { delete plan; }

wasmcap_error_t* wasmcap_plan_check(const wasmcap_plan_t* plan) {
  if (plan == nullptr) return null_arg("wasmcap_plan_check", "plan");
  try {
    auto r = wasmcap::policy::require_fully_granted(*plan->plan);
    return r ? nullptr : make(r.error());
  } catch (...) {
    return from_exception();
  }
}

const char* wasmcap_plan_plugin(const wasmcap_plan_t* plan) {
  return plan == nullptr ? "" : plan->plan->plugin.c_str();
}
const char* wasmcap_plan_module_path(const wasmcap_plan_t* plan) {
  return plan == nullptr ? "" : plan->plan->module_path.c_str();
}
const char* wasmcap_plan_json(const wasmcap_plan_t* plan) {
  return plan == nullptr ? "" : plan->json.c_str();
}

// --- Installed bundles ----------------------------------------------------------------------------

// `wasmcap run NAME` for an embedder: the same resolve (verification), the same plan
// (registry::plan_for_installed), the module loaded from the bytes resolve() hashed. The
// registry is opened read-only: an embedder's lookup never creates or repairs anything.
wasmcap_error_t* wasmcap_installed_open(wasmcap_engine_t* engine, const char* home,
                                        const char* reference, const char* config_json,
                                        size_t config_len, int allow_untrusted,
                                        wasmcap_module_t** module_out, wasmcap_plan_t** plan_out) {
  constexpr const char* fn = "wasmcap_installed_open";
  if (module_out == nullptr) return null_arg(fn, "module_out");
  if (plan_out == nullptr) return null_arg(fn, "plan_out");
  *module_out = nullptr;
  *plan_out = nullptr;
  if (engine == nullptr) return null_arg(fn, "engine");
  if (reference == nullptr) return null_arg(fn, "reference");
  if (config_json == nullptr && config_len != 0) return null_arg(fn, "config_json");
  try {
    namespace registry = wasmcap::registry;
    auto ref = registry::parse_reference(reference);
    if (!ref) {
      return make(ErrorCode::kInvalidArgument,
                  std::string(fn) + ": '" + wasmcap::text::escape_ascii(reference, 200, "'\\") +
                      "' is not NAME or NAME@VERSION (a plugin name and a SemVer version)");
    }
    std::string dir;
    if (home != nullptr) {
      dir = home;
    } else {
      auto h = registry::default_home();
      if (!h) return make(h.error());
      dir = std::move(*h);
    }
    wasmcap::policy::HostConfig config;
    if (config_json != nullptr) {
      auto c = wasmcap::policy::parse_host_config(std::string_view(config_json, config_len),
                                                  "host config");
      if (!c) return make(c.error());
      config = std::move(*c);
    }
    auto reg = registry::Registry::open(dir, registry::Access::kReadOnly);  // refuses a relative home
    if (!reg) return make(reg.error());
    auto trust = registry::load_trust_store(dir, &config.trust);
    if (!trust) return make(trust.error());
    auto resolved = reg->resolve(ref->name, ref->version, *trust);
    if (!resolved) return make(resolved.error());
    if (!resolved->signer_trusted && allow_untrusted == 0) {
      return make(ErrorCode::kBundleUntrusted,
                  ref->name + "@" + resolved->installed.version + " is signed by key " +
                      resolved->installed.signer_id +
                      ", which is not trusted (it was installed with --allow-untrusted): trust "
                      "the key (wasmcap trust add KEY.pub) or pass allow_untrusted");
    }
    auto p = std::make_unique<wasmcap_plan>();
    p->plan = std::make_shared<wasmcap::policy::Plan>(registry::plan_for_installed(*resolved, config));
    p->json = wasmcap::policy::plan_to_json(*p->plan, wasmcap::policy::PlanReport{});
    auto m = std::make_unique<wasmcap_module>();
    m->bytes = resolved->module_bytes;  // the verified bytes, shared (never changed)
    wasmcap_module_t* module = nullptr;
    if (wasmcap_error_t* e = new_module(engine, std::move(m), &module)) return e;
    *module_out = module;
    *plan_out = p.release();
    return nullptr;
  } catch (...) {
    return from_exception();
  }
}

// --- Interrupt ------------------------------------------------------------------------------------

wasmcap_interrupt_t* wasmcap_interrupt_new(void) { return new (std::nothrow) wasmcap_interrupt; }
void wasmcap_interrupt_delete(wasmcap_interrupt_t* interrupt) { delete interrupt; }
void wasmcap_interrupt_trigger(wasmcap_interrupt_t* interrupt) {
  if (interrupt != nullptr) interrupt->flag.store(true);
}
void wasmcap_interrupt_reset(wasmcap_interrupt_t* interrupt) {
  if (interrupt != nullptr) interrupt->flag.store(false);
}

// --- Config ---------------------------------------------------------------------------------------

wasmcap_config_t* wasmcap_config_new(void) {
  try {
    auto c = std::make_unique<wasmcap_config>();
    c->wasi.args.push_back("plugin");
    c->wasi.stdin_fd = -1;
    return c.release();
  } catch (...) {
    return nullptr;
  }
}

void wasmcap_config_delete(wasmcap_config_t* config) { delete config; }

void wasmcap_config_set_plan(wasmcap_config_t* config, const wasmcap_plan_t* plan, int degrade) {
  if (config == nullptr) return;
  config->plan = plan == nullptr ? nullptr : plan->plan;  // plans are immutable once made
  config->degrade = degrade != 0;
}

wasmcap_error_t* wasmcap_config_push_arg(wasmcap_config_t* config, const char* arg) {
  if (config == nullptr) return null_arg("wasmcap_config_push_arg", "config");
  if (arg == nullptr) return null_arg("wasmcap_config_push_arg", "arg");
  try {
    if (config->argv0_default) {
      config->wasi.args.clear();
      config->argv0_default = false;
    }
    config->wasi.args.emplace_back(arg);
    return nullptr;
  } catch (...) {
    return from_exception();
  }
}

// A config with a plan takes its directories and environment from the plan only: a grant pushed
// onto it is refused at the call (one pushed before the plan was set is refused at run, by the
// pipeline).
static wasmcap_error_t* planned_config(const char* fn) {
  return make(ErrorCode::kInvalidArgument,
              std::string(fn) + ": the config enforces a plan (wasmcap_config_set_plan), whose "
                                "grants are the only ones: grant it in the plan's host config, or "
                                "use a config without a plan");
}

wasmcap_error_t* wasmcap_config_push_env(wasmcap_config_t* config, const char* name,
                                         const char* value) {
  if (config == nullptr) return null_arg("wasmcap_config_push_env", "config");
  if (name == nullptr) return null_arg("wasmcap_config_push_env", "name");
  if (value == nullptr) return null_arg("wasmcap_config_push_env", "value");
  if (*name == '\0' || std::strchr(name, '=') != nullptr) {
    return make(ErrorCode::kInvalidArgument,
                "wasmcap_config_push_env: the name must be non-empty and contain no '='");
  }
  if (config->plan) return planned_config("wasmcap_config_push_env");
  try {
    config->wasi.env.emplace_back(name, value);
    return nullptr;
  } catch (...) {
    return from_exception();
  }
}

wasmcap_error_t* wasmcap_config_push_preopen(wasmcap_config_t* config, const char* host_path,
                                             const char* guest_path, int read_only) {
  if (config == nullptr) return null_arg("wasmcap_config_push_preopen", "config");
  if (host_path == nullptr) return null_arg("wasmcap_config_push_preopen", "host_path");
  if (guest_path == nullptr) return null_arg("wasmcap_config_push_preopen", "guest_path");
  if (*host_path == '\0' || *guest_path == '\0') {
    return make(ErrorCode::kInvalidArgument,
                "wasmcap_config_push_preopen: host and guest paths must be non-empty");
  }
  if (config->plan) return planned_config("wasmcap_config_push_preopen");
  try {
    wasmcap::Preopen p;
    p.host_path = host_path;
    p.guest_path = guest_path;
    p.read_only = read_only != 0;
    config->wasi.preopens.push_back(std::move(p));
    return nullptr;
  } catch (...) {
    return from_exception();
  }
}

void wasmcap_config_set_stdio(wasmcap_config_t* config, int stdin_fd, int stdout_fd,
                              int stderr_fd) {
  if (config == nullptr) return;
  config->wasi.stdin_fd = stdin_fd;
  config->wasi.stdout_fd = stdout_fd;
  config->wasi.stderr_fd = stderr_fd;
}

void wasmcap_config_set_output_callback(wasmcap_config_t* config,
                                        wasmcap_output_callback_t callback, void* user) {
  if (config == nullptr) return;
  config->output_cb = callback;
  config->output_user = user;
}

void wasmcap_config_set_audit_callback(wasmcap_config_t* config, wasmcap_audit_callback_t callback,
                                       void* user) {
  if (config == nullptr) return;
  config->audit_cb = callback;
  config->audit_user = user;
}

void wasmcap_config_set_fuel(wasmcap_config_t* config, uint64_t fuel) {
  if (config != nullptr) config->fuel = fuel;
}
void wasmcap_config_set_timeout_ms(wasmcap_config_t* config, uint64_t timeout_ms) {
  if (config != nullptr) config->timeout_ms = timeout_ms;
}
void wasmcap_config_set_max_memory_bytes(wasmcap_config_t* config, uint64_t bytes) {
  if (config != nullptr) config->max_memory_bytes = bytes;
}
void wasmcap_config_set_max_write_bytes(wasmcap_config_t* config, uint64_t bytes) {
  if (config != nullptr) config->max_write_bytes = bytes;
}
void wasmcap_config_set_max_output_bytes(wasmcap_config_t* config, uint64_t bytes) {
  if (config != nullptr) config->max_output_bytes = bytes;
}

wasmcap_error_t* wasmcap_config_set_entry(wasmcap_config_t* config, const char* export_name) {
  if (config == nullptr) return null_arg("wasmcap_config_set_entry", "config");
  if (export_name != nullptr && *export_name == '\0') {
    return make(ErrorCode::kInvalidArgument, "wasmcap_config_set_entry: empty export name");
  }
  try {
    config->entry = export_name == nullptr ? "_start" : export_name;
    return nullptr;
  } catch (...) {
    return from_exception();
  }
}

wasmcap_error_t* wasmcap_config_set_clock(wasmcap_config_t* config, const char* spec) {
  if (config == nullptr) return null_arg("wasmcap_config_set_clock", "config");
  if (spec == nullptr) return null_arg("wasmcap_config_set_clock", "spec");
  try {
    auto c = wasmcap::parse_clock_source(spec);
    if (!c) return make(c.error().code, "wasmcap_config_set_clock: " + c.error().message);
    config->clock_pin = *c;
    return nullptr;
  } catch (...) {
    return from_exception();
  }
}

wasmcap_error_t* wasmcap_config_set_random(wasmcap_config_t* config, const char* spec) {
  if (config == nullptr) return null_arg("wasmcap_config_set_random", "config");
  if (spec == nullptr) return null_arg("wasmcap_config_set_random", "spec");
  try {
    auto r = wasmcap::parse_random_source(spec);
    if (!r) return make(r.error().code, "wasmcap_config_set_random: " + r.error().message);
    config->random_pin = *r;
    return nullptr;
  } catch (...) {
    return from_exception();
  }
}

void wasmcap_config_set_interrupt(wasmcap_config_t* config, wasmcap_interrupt_t* interrupt) {
  if (config != nullptr) config->interrupt = interrupt;
}

// --- Run ------------------------------------------------------------------------------------------

namespace {
// One run of `module` under `config` (wasmcap_run), or the call `call` of a component's export
// (wasmcap_call): its report in *report_out when not null.
wasmcap_error_t* run_with(wasmcap_engine_t* engine, const wasmcap_module_t* module,
                          const wasmcap_config_t* config, std::optional<wasmcap::ComponentCall> call,
                          wasmcap_run_result_t* result, wasmcap::RunReport* report_out) {
  // The library's run pipeline (runtime.h RunRequest): the config's plan, or its own grants,
  // narrowed by its limits and pins.
  wasmcap::RunRequest request;
  request.argv = config->wasi.args;
  wasmcap::RunOptions& opts = request.options;
  if (config->plan) {
    request.plan = config->plan;
    request.degrade = config->degrade;
    // Refused by the pipeline (one source of grants) when the config has any.
    opts.wasi.preopens = config->wasi.preopens;
    opts.wasi.env = config->wasi.env;
    auto limit = [](uint64_t v) { return v == 0 ? std::nullopt : std::optional<uint64_t>(v); };
    request.bounds.fuel = limit(config->fuel);
    request.bounds.timeout_ms = limit(config->timeout_ms);
    request.bounds.max_memory_bytes = limit(config->max_memory_bytes);
  } else {
    opts.no_plan_grant =
        "a config grants host APIs only through a plan: wasmcap_config_set_plan with a "
        "manifest requesting it under permissions.host_api";
    opts.wasi = config->wasi;
    opts.fuel = config->fuel;
    opts.timeout_ms = config->timeout_ms;
    if (config->max_memory_bytes != 0) opts.max_memory_bytes = config->max_memory_bytes;
  }
  if (config->max_write_bytes != 0) request.bounds.max_write_bytes = config->max_write_bytes;
  request.clock_pin = config->clock_pin;
  request.random_pin = config->random_pin;
  opts.wasi.stdin_fd = config->wasi.stdin_fd;
  opts.wasi.stdout_fd = config->wasi.stdout_fd;
  opts.wasi.stderr_fd = config->wasi.stderr_fd;
  opts.wasi.max_output_bytes = config->max_output_bytes;
  if (config->output_cb != nullptr) {
    auto cb = config->output_cb;
    void* user = config->output_user;
    opts.wasi.stdout_sink = [cb, user](const uint8_t* d, size_t n) { return cb(user, 1, d, n) == 0; };
    opts.wasi.stderr_sink = [cb, user](const uint8_t* d, size_t n) { return cb(user, 2, d, n) == 0; };
  }
  if (config->audit_cb != nullptr) {
    auto cb = config->audit_cb;
    void* user = config->audit_user;
    opts.audit_sink = wasmcap::audit::callback_sink(
        [cb, user](std::string_view line) { cb(user, line.data(), line.size()); });
  }
  opts.entry = config->entry;
  opts.engine = engine->name;
  opts.aot = engine->aot;
  if (config->interrupt != nullptr) opts.interrupt = &config->interrupt->flag;
  opts.module_file = module->file;
  const bool prepared = module->prepared && module->prepared_engine == engine->name &&
                        module->prepared_cache_dir == engine->aot.cache_dir;
  opts.component_call = std::move(call);
  auto report = prepared ? wasmcap::run_request(std::move(request), *module->prepared)
                         : wasmcap::run_request(std::move(request), *module->bytes);
  if (!report) return make(report.error());
  if (result != nullptr) {
    result->exit_code = report->exit_code;
    result->fuel_consumed = report->fuel_consumed;
    result->wall_ms = report->wall_ms;
  }
  if (report->audit_error) {
    // Record or refuse (docs/audit.md): the run happened (result says how it ended), but its
    // run_end record was not written, so the call fails.
    return make(ErrorCode::kIo, wasmcap::run_end_not_written(*report));
  }
  if (report_out != nullptr) *report_out = std::move(*report);
  return nullptr;
}
}  // namespace

wasmcap_error_t* wasmcap_run(wasmcap_engine_t* engine, const wasmcap_module_t* module,
                             const wasmcap_config_t* config, wasmcap_run_result_t* result) {
  if (engine == nullptr) return null_arg("wasmcap_run", "engine");
  if (module == nullptr) return null_arg("wasmcap_run", "module");
  if (config == nullptr) return null_arg("wasmcap_run", "config");
  if (result != nullptr) *result = wasmcap_run_result_t{};
  try {
    return run_with(engine, module, config, std::nullopt, result, nullptr);
  } catch (...) {
    return from_exception();
  }
}

// --- Component calls: typed values -----------------------------------------------------------------

// wasmcap_val_t is never defined: a handle is a wasmcap::ComponentValue (runtime.h), the same
// object whether it was made by wasmcap_val_new_* or is an element of another value
// (wasmcap_val_item), so a result's children need no wrappers of their own.
namespace {
using Val = wasmcap::ComponentValue;
using VKind = wasmcap::ComponentValue::Kind;
static_assert(static_cast<int>(VKind::kFlags) == WASMCAP_VAL_FLAGS, "C value kinds moved");
static_assert(static_cast<int>(VKind::kString) == WASMCAP_VAL_STRING, "C value kinds moved");

Val* mut(wasmcap_val_t* v) { return reinterpret_cast<Val*>(v); }
const Val* of(const wasmcap_val_t* v) { return reinterpret_cast<const Val*>(v); }
wasmcap_val_t* handle(Val* v) { return reinterpret_cast<wasmcap_val_t*>(v); }

wasmcap_val_t* new_val(VKind kind, uint64_t bits = 0, double f = 0) {
  Val* v = new (std::nothrow) Val();
  if (v == nullptr) return nullptr;
  v->kind = kind;
  v->bits = bits;
  v->f = f;
  return handle(v);
}
// Takes `payload` (may be null) into a new value of `kind`; null (and the payload released) when
// memory runs out.
wasmcap_val_t* with_payload(VKind kind, uint64_t bits, const char* text, wasmcap_val_t* payload) {
  std::unique_ptr<Val> p(payload ? mut(payload) : nullptr);
  try {
    auto v = std::make_unique<Val>();
    v->kind = kind;
    v->bits = bits;
    if (text != nullptr) v->text = text;
    if (p) v->items.push_back(std::move(*p));
    return handle(v.release());
  } catch (...) {
    return nullptr;
  }
}
}  // namespace

wasmcap_val_t* wasmcap_val_new_bool(int value) { return new_val(VKind::kBool, value != 0 ? 1 : 0); }
wasmcap_val_t* wasmcap_val_new_s8(int8_t value) { return new_val(VKind::kS8, static_cast<uint64_t>(int64_t{value})); }
wasmcap_val_t* wasmcap_val_new_u8(uint8_t value) { return new_val(VKind::kU8, value); }
wasmcap_val_t* wasmcap_val_new_s16(int16_t value) { return new_val(VKind::kS16, static_cast<uint64_t>(int64_t{value})); }
wasmcap_val_t* wasmcap_val_new_u16(uint16_t value) { return new_val(VKind::kU16, value); }
wasmcap_val_t* wasmcap_val_new_s32(int32_t value) { return new_val(VKind::kS32, static_cast<uint64_t>(int64_t{value})); }
wasmcap_val_t* wasmcap_val_new_u32(uint32_t value) { return new_val(VKind::kU32, value); }
wasmcap_val_t* wasmcap_val_new_s64(int64_t value) { return new_val(VKind::kS64, static_cast<uint64_t>(value)); }
wasmcap_val_t* wasmcap_val_new_u64(uint64_t value) { return new_val(VKind::kU64, value); }
wasmcap_val_t* wasmcap_val_new_f32(float value) { return new_val(VKind::kF32, 0, value); }
wasmcap_val_t* wasmcap_val_new_f64(double value) { return new_val(VKind::kF64, 0, value); }
wasmcap_val_t* wasmcap_val_new_char(uint32_t scalar_value) { return new_val(VKind::kChar, scalar_value); }
wasmcap_val_t* wasmcap_val_new_string(const char* utf8, size_t len) {
  if (utf8 == nullptr && len != 0) return nullptr;
  try {
    auto v = std::make_unique<Val>();
    v->kind = VKind::kString;
    if (len != 0) v->text.assign(utf8, len);
    return handle(v.release());
  } catch (...) {
    return nullptr;
  }
}
wasmcap_val_t* wasmcap_val_new_list(void) { return new_val(VKind::kList); }
wasmcap_val_t* wasmcap_val_new_tuple(void) { return new_val(VKind::kTuple); }
wasmcap_val_t* wasmcap_val_new_record(void) { return new_val(VKind::kRecord); }
wasmcap_val_t* wasmcap_val_new_flags(void) { return new_val(VKind::kFlags); }
wasmcap_val_t* wasmcap_val_new_variant(const char* case_name, wasmcap_val_t* payload) {
  if (case_name == nullptr) {
    wasmcap_val_delete(payload);
    return nullptr;
  }
  return with_payload(VKind::kVariant, 0, case_name, payload);
}
wasmcap_val_t* wasmcap_val_new_enum(const char* case_name) {
  if (case_name == nullptr) return nullptr;
  return with_payload(VKind::kEnum, 0, case_name, nullptr);
}
wasmcap_val_t* wasmcap_val_new_option(wasmcap_val_t* some) {
  return with_payload(VKind::kOption, 0, nullptr, some);
}
wasmcap_val_t* wasmcap_val_new_result(int is_err, wasmcap_val_t* payload) {
  return with_payload(VKind::kResult, is_err != 0 ? 1 : 0, nullptr, payload);
}

wasmcap_error_t* wasmcap_val_push(wasmcap_val_t* container, wasmcap_val_t* item) {
  std::unique_ptr<Val> it(item ? mut(item) : nullptr);
  if (container == nullptr) return null_arg("wasmcap_val_push", "container");
  if (!it) return null_arg("wasmcap_val_push", "item");
  Val* c = mut(container);
  if (c->kind != VKind::kList && c->kind != VKind::kTuple) {
    return make(ErrorCode::kInvalidArgument, "wasmcap_val_push: the container is not a list or tuple");
  }
  try {
    c->items.push_back(std::move(*it));
    return nullptr;
  } catch (...) {
    return from_exception();
  }
}

wasmcap_error_t* wasmcap_val_push_field(wasmcap_val_t* record, const char* name, wasmcap_val_t* value) {
  std::unique_ptr<Val> v(value ? mut(value) : nullptr);
  if (record == nullptr) return null_arg("wasmcap_val_push_field", "record");
  if (name == nullptr) return null_arg("wasmcap_val_push_field", "name");
  if (!v) return null_arg("wasmcap_val_push_field", "value");
  Val* r = mut(record);
  if (r->kind != VKind::kRecord) {
    return make(ErrorCode::kInvalidArgument, "wasmcap_val_push_field: the value is not a record");
  }
  try {
    r->names.emplace_back(name);
    r->items.push_back(std::move(*v));
    return nullptr;
  } catch (...) {
    if (r->names.size() > r->items.size()) r->names.pop_back();
    return from_exception();
  }
}

wasmcap_error_t* wasmcap_val_push_label(wasmcap_val_t* flags, const char* name) {
  if (flags == nullptr) return null_arg("wasmcap_val_push_label", "flags");
  if (name == nullptr) return null_arg("wasmcap_val_push_label", "name");
  Val* f = mut(flags);
  if (f->kind != VKind::kFlags) {
    return make(ErrorCode::kInvalidArgument, "wasmcap_val_push_label: the value is not flags");
  }
  try {
    f->names.emplace_back(name);
    return nullptr;
  } catch (...) {
    return from_exception();
  }
}

void wasmcap_val_delete(wasmcap_val_t* value) { delete mut(value); }

wasmcap_val_kind_t wasmcap_val_kind(const wasmcap_val_t* value) {
  return value == nullptr ? WASMCAP_VAL_BOOL : static_cast<wasmcap_val_kind_t>(of(value)->kind);
}

int64_t wasmcap_val_s64(const wasmcap_val_t* value) {
  if (value == nullptr) return 0;
  const Val& v = *of(value);
  switch (v.kind) {
    case VKind::kF32: case VKind::kF64: return static_cast<int64_t>(v.f);
    default: return v.kind <= VKind::kChar || v.kind == VKind::kResult ? static_cast<int64_t>(v.bits) : 0;
  }
}
uint64_t wasmcap_val_u64(const wasmcap_val_t* value) {
  if (value == nullptr) return 0;
  const Val& v = *of(value);
  switch (v.kind) {
    case VKind::kF32: case VKind::kF64: return static_cast<uint64_t>(v.f);
    default: return v.kind <= VKind::kChar || v.kind == VKind::kResult ? v.bits : 0;
  }
}
double wasmcap_val_f64(const wasmcap_val_t* value) {
  if (value == nullptr) return 0;
  const Val& v = *of(value);
  switch (v.kind) {
    case VKind::kF32: case VKind::kF64: return v.f;
    case VKind::kS8: case VKind::kS16: case VKind::kS32: case VKind::kS64:
      return static_cast<double>(static_cast<int64_t>(v.bits));
    default: return v.kind <= VKind::kChar || v.kind == VKind::kResult ? static_cast<double>(v.bits) : 0;
  }
}

const char* wasmcap_val_string(const wasmcap_val_t* value, size_t* len) {
  if (len != nullptr) *len = 0;
  if (value == nullptr) return nullptr;
  const Val& v = *of(value);
  if (v.kind != VKind::kString && v.kind != VKind::kVariant && v.kind != VKind::kEnum) return nullptr;
  if (len != nullptr) *len = v.text.size();
  return v.text.c_str();
}

size_t wasmcap_val_count(const wasmcap_val_t* value) {
  if (value == nullptr) return 0;
  const Val& v = *of(value);
  return v.kind == VKind::kFlags ? v.names.size() : v.items.size();
}

const wasmcap_val_t* wasmcap_val_item(const wasmcap_val_t* value, size_t i) {
  if (value == nullptr) return nullptr;
  const Val& v = *of(value);
  if (i >= v.items.size()) return nullptr;
  return reinterpret_cast<const wasmcap_val_t*>(&v.items[i]);
}

const char* wasmcap_val_name(const wasmcap_val_t* value, size_t i) {
  if (value == nullptr) return nullptr;
  const Val& v = *of(value);
  if ((v.kind != VKind::kRecord && v.kind != VKind::kFlags) || i >= v.names.size()) return nullptr;
  return v.names[i].c_str();
}

wasmcap_error_t* wasmcap_call(wasmcap_engine_t* engine, const wasmcap_module_t* module,
                              const wasmcap_config_t* config, const char* function,
                              const wasmcap_val_t* const* args, size_t nargs,
                              wasmcap_val_t** result_out, wasmcap_run_result_t* run_result) {
  if (result_out == nullptr) return null_arg("wasmcap_call", "result_out");
  *result_out = nullptr;
  if (run_result != nullptr) *run_result = wasmcap_run_result_t{};
  if (engine == nullptr) return null_arg("wasmcap_call", "engine");
  if (module == nullptr) return null_arg("wasmcap_call", "module");
  if (config == nullptr) return null_arg("wasmcap_call", "config");
  if (function == nullptr) return null_arg("wasmcap_call", "function");
  if (args == nullptr && nargs != 0) return null_arg("wasmcap_call", "args");
  try {
    wasmcap::ComponentCall call;
    call.function = function;
    call.args_values.emplace();
    call.args_values->reserve(nargs);
    for (size_t i = 0; i < nargs; ++i) {
      if (args[i] == nullptr) {
        return make(ErrorCode::kInvalidArgument, "wasmcap_call: argument " + std::to_string(i) + " is NULL");
      }
      call.args_values->push_back(*of(args[i]));
    }
    wasmcap::RunReport report;
    if (wasmcap_error_t* e = run_with(engine, module, config, std::move(call), run_result, &report)) return e;
    if (report.result_value) *result_out = handle(new Val(std::move(*report.result_value)));
    return nullptr;
  } catch (...) {
    return from_exception();
  }
}

}  // extern "C"

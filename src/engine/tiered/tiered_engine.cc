#include "engine/tiered/tiered_engine.h"

#include <string>

#include "engine/aot/aot_link.h"
#include "engine/describe.h"

namespace wasmcap {
namespace {

// True when the module has a tag section (id 13: exception handling). Walks the section headers
// only; malformed bytes are simply "no" (the engine that loads them says what is wrong).
bool has_tag_section(const uint8_t* b, size_t size) {
  size_t i = 8;
  while (i < size) {
    uint8_t id = b[i++];
    uint64_t len = 0;
    for (int shift = 0;; shift += 7) {
      if (i >= size || shift > 28) return false;
      uint8_t byte = b[i++];
      len |= static_cast<uint64_t>(byte & 0x7f) << shift;
      if ((byte & 0x80) == 0) break;
    }
    if (id == 13) return true;
    if (len > size - i) return false;
    i += len;
  }
  return false;
}

// A module as the engine that loaded it has it, with that engine (which instantiates it).
class TieredModule final : public Module {
 public:
  TieredModule(std::shared_ptr<Engine> engine, std::shared_ptr<const Module> module)
      : engine_(std::move(engine)), module_(std::move(module)) {}
  const ModuleInfo& info() const override { return module_->info(); }
  std::string_view engine() const override { return module_->engine(); }
  Engine& loader() const { return *engine_; }
  const std::shared_ptr<const Module>& inner() const { return module_; }

 private:
  std::shared_ptr<Engine> engine_;
  std::shared_ptr<const Module> module_;
};

class TieredEngine final : public Engine {
 public:
  explicit TieredEngine(EngineConfig config) : config_(std::move(config)) {}
  std::string_view name() const override { return "auto"; }

  // The interpreter's: every module it loads can run on it, and a run that needs fuel is put
  // there (config.metered). An aot engine built without interrupt checks cannot stop guest code.
  CapabilitySet capabilities() const override {
    CapabilitySet s = CapabilitySet::all();
    if (!config_.aot.interruptible) s.remove(Capability::kLimitTimeout);
    return s;
  }

  Result<std::unique_ptr<Instance>> instantiate(std::shared_ptr<const Module> module,
                                                const HostFuncTable& host,
                                                const ExecLimits& limits) override {
    auto tm = std::dynamic_pointer_cast<const TieredModule>(module);
    if (!tm) {
      return make_error(ErrorCode::kInvalidArgument,
                        "module was loaded by a different engine than \"auto\"");
    }
    return tm->loader().instantiate(tm->inner(), host, limits);
  }

 protected:
  Result<std::shared_ptr<const Module>> load_module(const ModuleBytes& module) override {
    if (config_.metered) return interpreted(module, " (fuel is metered only by the interpreter)");
    if (!aot_available(config_.aot)) {
      return interpreted(module, " (no C compiler for the aot engine)");
    }
    if (has_tag_section(module.data(), module.size())) {
      // Exception handling runs on the interpreter only (the AOT engine refuses it:
      // docs/fast-interp.md, "Exceptions"): no background compile that must fail.
      return interpreted(module, " (exception handling runs on interp only)");
    }
    AotOptions probe_options = config_.aot;
    probe_options.cache_only = !config_.wait_for_compile;
    // A module the aot engine has no description of yet (never seen) is validated once: on the
    // fast engine, which keeps it for the run if it is interpreted; the aot engine takes its
    // description from that load (describe.h). A module the fast engine refuses is described
    // by describe_module (WebAssembly 2.0's verdict and first error, without exceptions).
    // The fast engine finds its validated-module record by the hash the aot probe learnt.
    std::shared_ptr<Engine> fast = make_fast_engine(fast_options(config_.aot));
    std::shared_ptr<const Module> fast_loaded;
    AotDescribe describe = [&](const ModuleBytes& m, bool* within) {
      return describe_via_fast(*fast, m, &fast_loaded, within);
    };
    std::shared_ptr<Engine> aot = make_aot_engine_linked(
        probe_options, config_.link_check ? config_.link_check() : nullptr, describe);
    auto probe = aot->load(module);
    if (probe) {
      if (aot_module_has_object(**probe)) {
        notify(config_.wait_for_compile ? "engine auto: aot"
                                        : "engine auto: aot (compiled object from the cache)");
      }
      return wrap(std::move(aot), std::move(*probe));
    }
    const Error& e = probe.error();
    if (e.code == ErrorCode::kNotFound && probe_options.cache_only) {
      BackgroundCompile bg = start_background_compile(module, config_.aot);
      if (bg.pid != 0 && config_.on_background_compile) config_.on_background_compile(bg.pid);
      std::string why =
          bg.pid != 0
              ? "; no compiled object yet: compiling for aot in the background (pid " +
                    std::to_string(bg.pid) + "), the next run uses it"
              : "; no compiled object yet, not compiling in the background: " + bg.reason;
      return interpreted(module, why, std::move(fast), std::move(fast_loaded));
    }
    // io_error: the cache or the compiler's files could not be written or read (a full disk,
    // EIO, a cache directory refused as unsafe). That is this machine's state, not the module's:
    // auto runs it on the interpreter, saying why, as a module aot refuses (#37).
    if (e.code == ErrorCode::kModuleUnsupported || e.code == ErrorCode::kCompileLimit ||
        e.code == ErrorCode::kIo) {
      return interpreted(module, " (aot: " + e.to_string() + ")", std::move(fast),
                         std::move(fast_loaded));
    }
    return tl::unexpected(e);
  }

 private:
  void notify(const std::string& line) const {
    if (config_.notice) config_.notice(line);
  }

  std::shared_ptr<const Module> wrap(std::shared_ptr<Engine> engine,
                                     std::shared_ptr<const Module> module) const {
    return std::make_shared<TieredModule>(std::move(engine), std::move(module));
  }

  // The module on the interpreter, with `why` ending the notice line. `fast` and `fast_loaded`:
  // the fast engine and its load of the module by the aot probe's describer, when it made one.
  Result<std::shared_ptr<const Module>> interpreted(const ModuleBytes& module, const std::string& why,
                                                    std::shared_ptr<Engine> fast = nullptr,
                                                    std::shared_ptr<const Module> fast_loaded = nullptr) {
    if (!fast) fast = make_fast_engine(fast_options(config_.aot));
    if (!fast_loaded) WASMCAP_TRY_ASSIGN(fast_loaded, fast->load(module));
    notify("engine auto: interp" + why);
    return wrap(std::move(fast), std::move(fast_loaded));
  }

  EngineConfig config_;
};

}  // namespace

std::unique_ptr<Engine> make_tiered_engine(EngineConfig config) {
  return std::make_unique<TieredEngine>(std::move(config));
}

}  // namespace wasmcap

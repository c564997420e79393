// WASI 0.2 command components in the run pipeline (docs/components.md, "Running a component"):
// the WASI 0.2 host interfaces (src/wasip2) over the run's own wasi::Core, the component
// instantiated on the run's engine (src/component/instance.h), its wasi:cli/run#run called.
// runtime.cc decides everything else of the run (grants, limits, records) as for a core module.
#include <chrono>
#include "runtime/component_run.h"

#include <algorithm>
#include <optional>
#include <string_view>
#include <utility>
#include <vector>

#include "component/component.h"
#include "component/instance.h"
#include "component/json_val.h"
#include "component/tree_val.h"
#include "component/wave.h"
#include "wasip2/host.h"

namespace wasmcap {
namespace {

// The listings of ComponentImports hold at most this many names, then "... (N more)".
constexpr size_t kMaxListed = 32;

void add_listed(std::vector<std::string>& out, size_t& more, std::string name) {
  if (out.size() < kMaxListed) out.push_back(std::move(name));
  else ++more;
}

// What `host` does not serve of the component's imports, and the interfaces it imports.
ComponentImports imports_against(const component::Decoded& d, const component::HostRegistry& host) {
  using component::Sort;
  ComponentImports out;
  size_t more_unserved = 0, more_interfaces = 0;
  for (const component::Import& im : d.root.imports) {
    out.names.push_back(im.name);
    const std::string name = quote_untrusted(im.name, 128);
    if (im.desc.sort == Sort::kFunc) {
      if (host.find_function("", im.name) == nullptr) add_listed(out.unserved, more_unserved, name);
      continue;
    }
    if (im.desc.sort != Sort::kInstance || im.desc.type >= d.types.size()) {
      add_listed(out.unserved, more_unserved, name + " (" + component::sort_name(im.desc.sort) + ")");
      continue;
    }
    add_listed(out.interfaces, more_interfaces, name);
    using Grant = ComponentImports::Grant;
    static constexpr std::pair<std::string_view, Grant> kReads[] = {
        {"wasi:filesystem/", Grant::kFs},  {"wasi:clocks/", Grant::kClocks},
        {"wasi:random/", Grant::kRandom},  {"wasi:cli/environment", Grant::kArgsEnv},
        {"wasi:http/outgoing-handler", Grant::kHttps}};
    for (const auto& [prefix, grant] : kReads) {
      const bool seen = std::any_of(out.reads.begin(), out.reads.end(), [g = grant](const auto& r) { return r.first == g; });
      if (!seen && im.name.rfind(prefix, 0) == 0) out.reads.emplace_back(grant, name);
    }
    for (const component::Decl& e : d.types[im.desc.type].exports) {
      const bool missing =
          (e.desc.sort == Sort::kFunc && host.find_function(im.name, e.name) == nullptr) ||
          (e.desc.sort == Sort::kType && e.desc.sub_resource &&
           host.find_resource(im.name, e.name) == nullptr);
      if (missing) add_listed(out.unserved, more_unserved, quote_untrusted(im.name + "#" + e.name, 256));
    }
  }
  // In the grants' order, not the imports': what plan and inspect print does not depend on it.
  std::sort(out.reads.begin(), out.reads.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  if (more_unserved) out.unserved.push_back("... (" + std::to_string(more_unserved) + " more)");
  if (more_interfaces) out.interfaces.push_back("... (" + std::to_string(more_interfaces) + " more)");
  return out;
}

// wasi:cli/run@0.2.x#run among the component's exports; empty when none.
std::string run_export(const component::ComponentInstance& instance) {
  for (const std::string& f : instance.exported_functions()) {
    if (f.rfind("wasi:cli/run@0.2.", 0) == 0 && f.size() > 4 && f.compare(f.size() - 4, 4, "#run") == 0) {
      return f;
    }
  }
  return "";
}

// A call's function and arguments, from the decoded component alone: the one check of a call
// (check_component_call, and run_component before it instantiates anything).
struct PreparedCall {
  uint32_t func_type = component::kNone;
  std::vector<component::Val> args;
};

Result<PreparedCall> prepare_call(const component::Decoded& d, const ComponentCall& call) {
  PreparedCall out;
  out.func_type = component::exported_func_type(d, call.function);
  if (out.func_type == component::kNone) {
    const size_t n = component::exported_function_names(d).size();
    return make_error(ErrorCode::kNoEntryPoint,
                      "the component exports no function " + quote_untrusted(call.function, 256) +
                          (n == 0 ? std::string(" (it exports no functions at all)")
                                  : " (it exports " + std::to_string(n) +
                                        "; `wasmcap call COMPONENT --list` lists them with their "
                                        "parameters)"));
  }
  component::JsonValOptions o;
  if (call.args_values) {
    WASMCAP_TRY_ASSIGN(out.args, component::tree_to_args(d, d.types[out.func_type], *call.args_values, o));
    return out;
  }
  if (call.args_wave) {
    WASMCAP_TRY_ASSIGN(out.args, component::wave_to_args(d, d.types[out.func_type], *call.args_wave, o));
    return out;
  }
  nlohmann::json args;
  WASMCAP_TRY_ASSIGN(args, component::parse_json_value(call.args_json, o));
  WASMCAP_TRY_ASSIGN(out.args, component::json_to_args(d, d.types[out.func_type], args, o));
  return out;
}

Result<component::Decoded> decode_component(const uint8_t* bytes, size_t size) {
  if (!component::is_component(bytes, size)) {
    return make_error(ErrorCode::kInvalidArgument,
                      "not a component: `wasmcap call` calls the exports of a WebAssembly component "
                      "(a core module's exports: wasmcap run --invoke FUNC MODULE ARGS...)");
  }
  return component::decode(bytes, size);
}

}  // namespace

Result<runtime_detail::PreparedComponentEngines::Slot*> runtime_detail::PreparedComponentEngines::get(bool metered) {
  std::lock_guard<std::mutex> lock(mu_);
  Slot& s = slots_[metered ? 1 : 0];
  if (!s.engine) {
    EngineConfig config;
    config.aot = aot_;
    config.metered = metered;
    WASMCAP_TRY_ASSIGN(s.engine, make_engine(engine_name_, std::move(config)));
    s.loaded = std::make_shared<component::LoadedCoreModules>();
  }
  return &s;
}

Result<ComponentCall> wave_call(std::string_view text) {
  component::WaveCall w;
  WASMCAP_TRY_ASSIGN(w, component::split_wave_call(text));
  ComponentCall c;
  c.function = std::move(w.function);
  c.args_wave = std::move(w.args);
  return c;
}

Result<void> runtime_detail::check_call(const component::Decoded& d, const ComponentCall& call) {
  WASMCAP_TRY(prepare_call(d, call));
  return {};
}

Result<void> check_component_call(const uint8_t* bytes, size_t size, const ComponentCall& call) {
  component::Decoded d;
  WASMCAP_TRY_ASSIGN(d, decode_component(bytes, size));
  WASMCAP_TRY(prepare_call(d, call));
  return {};
}

Result<std::vector<ComponentFunction>> component_functions(const uint8_t* bytes, size_t size) {
  component::Decoded d;
  WASMCAP_TRY_ASSIGN(d, decode_component(bytes, size));
  return runtime_detail::functions_of(d);
}

Result<std::shared_ptr<const component::Decoded>> runtime_detail::decode_component_shared(const uint8_t* bytes,
                                                                                          size_t size) {
  component::Decoded d;
  WASMCAP_TRY_ASSIGN(d, component::decode(bytes, size));
  return std::make_shared<const component::Decoded>(std::move(d));
}

std::vector<ComponentFunction> runtime_detail::functions_of(const component::Decoded& d) {
  std::vector<ComponentFunction> out;
  for (const std::string& name : component::exported_function_names(d)) {
    const uint32_t t = component::exported_func_type(d, name);
    if (t == component::kNone) continue;
    const component::TypeDef& f = d.types[t];
    ComponentFunction fn;
    fn.name = name;
    for (const component::Field& p : f.fields) fn.params.push_back(p.name);
    fn.signature = component::wit_func_text(d, f);
    // Names a decoder accepted are valid UTF-8 (Explainer.md's name grammar); replace anyway.
    constexpr auto kReplace = nlohmann::json::error_handler_t::replace;
    fn.params_schema = component::params_schema(d, f).dump(-1, ' ', false, kReplace);
    fn.result_schema = component::result_schema(d, f).dump(-1, ' ', false, kReplace);
    out.push_back(std::move(fn));
  }
  return out;
}

void runtime_detail::add_wasip2_host(component::HostRegistry& host, wasi::Core& core, wasip2::HttpOptions http) {
  wasip2::add_cli_clocks_random(host, core);
  std::shared_ptr<wasip2::Objects> objects = wasip2::add_io(host, core);
  wasip2::add_filesystem(host, core, objects);
  wasip2::add_http(host, core, objects, std::move(http));
}

bool is_component_binary(const uint8_t* bytes, size_t size) {
  return component::is_component(bytes, size);
}

namespace {
ComponentImports imports_of(const component::Decoded& d) {
  // The functions a run registers; none of them is called here, so the Core has no grants.
  WasiConfig none;
  none.stdin_fd = none.stdout_fd = none.stderr_fd = -1;
  wasi::Core core(std::move(none));
  component::HostRegistry host;
  runtime_detail::add_wasip2_host(host, core);
  return imports_against(d, host);
}
}  // namespace

Result<ComponentImports> component_imports(const uint8_t* bytes, size_t size) {
  component::Decoded d;
  WASMCAP_TRY_ASSIGN(d, component::decode(bytes, size));
  return imports_of(d);
}

Result<ComponentDescription> describe_component(const uint8_t* bytes, size_t size) {
  component::Decoded d;
  WASMCAP_TRY_ASSIGN(d, decode_component(bytes, size));
  return ComponentDescription{imports_of(d), runtime_detail::functions_of(d)};
}

namespace {
void collect_modules(const component::Component& c, std::vector<component::ByteSpan>& out) {
  // Binary order: a nested component's modules where the component stands. The decoder bounds
  // the nesting depth, so the recursion is bounded too.
  size_t m = 0, k = 0;
  while (m < c.modules.size() || k < c.components.size()) {
    bool module_first = k >= c.components.size() ||
                        (m < c.modules.size() && c.modules[m].bytes.offset < c.components[k].offset);
    if (module_first) {
      out.push_back(c.modules[m++].bytes);
    } else {
      collect_modules(c.components[k++], out);
    }
  }
}
}  // namespace

Result<CompileReport> compile_for_aot(const uint8_t* bytes, size_t size, const AotOptions& options) {
  CompileReport report;
  std::vector<component::ByteSpan> ranges;
  if (component::is_component(bytes, size)) {
    component::Decoded d;
    WASMCAP_TRY_ASSIGN(d, component::decode(bytes, size));
    report.component = true;
    collect_modules(d.root, ranges);
  } else {
    ranges.push_back(component::ByteSpan{0, size});
  }
  auto engine = make_aot_engine(options);
  for (const component::ByteSpan& r : ranges) {
    ModuleBytes source(bytes + r.offset, r.size);
    auto start = std::chrono::steady_clock::now();
    auto loaded = engine->load(source);
    if (!loaded) {
      if (!report.component) return tl::unexpected(loaded.error());
      Error e = loaded.error();
      e.message = "component: core module at byte " + std::to_string(r.offset) + ": " + e.message;
      return tl::unexpected(std::move(e));
    }
    CompiledModule c;
    c.offset = r.offset;
    c.size = r.size;
    c.sha256 = source.sha256();  // the load's hash (the cache's key), not a second one
    c.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    report.modules.push_back(std::move(c));
  }
  return report;
}

Result<RunReport> runtime_detail::run_component(Engine& engine, const ModuleBytes& bytes, wasi::Core& core,
                                                const ExecLimits& limits,
                                                const std::optional<ComponentCall>& call,
                                                wasip2::HttpOptions http,
                                                std::shared_ptr<const component::Decoded> decoded,
                                                std::shared_ptr<component::LoadedCoreModules> loaded) {
  if (!decoded) WASMCAP_TRY_ASSIGN(decoded, decode_component_shared(bytes.data(), bytes.size()));
  const component::Decoded& d = *decoded;
  // A call's arguments are converted before anything is instantiated: bad input runs nothing.
  PreparedCall prepared;
  if (call) WASMCAP_TRY_ASSIGN(prepared, prepare_call(d, *call));
  component::HostRegistry host;
  add_wasip2_host(host, core, std::move(http));
  // Every import the host cannot serve, named before anything is instantiated (as `plan` does).
  ComponentImports needs = imports_against(d, host);
  if (!needs.unserved.empty()) {
    std::string list;
    for (const std::string& u : needs.unserved) list += (list.empty() ? "" : ", ") + u;
    return make_error(ErrorCode::kLinkError,
                      "the component imports what wasmcap's WASI 0.2 host does not provide: " + list +
                          " (docs/components.md lists the interfaces served)");
  }
  std::unique_ptr<component::ComponentInstance> instance;
  // Decoded once: the instance keeps this decoding (and, when the caller keeps the bytes, views
  // of them rather than a copy).
  component::InstantiateOptions io;
  io.loaded = std::move(loaded);
  auto made = component::ComponentInstance::instantiate(engine, bytes, decoded, host, limits, std::move(io));
  if (!made) {
    Error e = made.error();
    if (e.message.find("is shared only between instances of one engine") != std::string::npos) {
      e.message += ". Under --engine auto the core instances of a component may be given different "
                   "engines; run it with --engine interp (docs/components.md, \"Not yet supported\")";
    }
    return tl::unexpected(std::move(e));
  }
  instance = std::move(*made);
  if (call) {
    RunReport report;
    report.engine = std::string(engine.name());
    component::CallResult r;
    WASMCAP_TRY_ASSIGN(r, instance->call(call->function, std::move(prepared.args)));
    report.fuel_consumed = instance->fuel_consumed();
    if (r.exited) {
      report.exit_code = r.exit_code;
      return report;
    }
    nlohmann::json j;
    WASMCAP_TRY_ASSIGN(j, component::results_to_json(d, d.types[prepared.func_type], r.results));
    // One line; bytes a string holds are UTF-8 (results_to_json refuses anything else).
    report.result_json = j.dump();
    const component::TypeDef& fn = d.types[prepared.func_type];
    if (call->args_wave && fn.has_a && !r.results.empty()) {
      WASMCAP_TRY_ASSIGN(report.result_wave, component::val_to_wave(d, fn.a, r.results[0]));
    }
    if (call->args_values && fn.has_a && !r.results.empty()) {
      WASMCAP_TRY_ASSIGN(report.result_value, component::val_to_tree(d, fn.a, r.results[0]));
    }
    const bool err = !r.results.empty() && r.results[0].kind == component::ValKind::kResult &&
                     r.results[0].bits != 0;
    report.exit_code = err ? 1 : 0;
    return report;
  }
  const std::string run = run_export(*instance);
  if (run.empty()) {
    return make_error(ErrorCode::kNoEntryPoint,
                      "the component exports no wasi:cli/run@0.2.x#run: it is not a WASI 0.2 command "
                      "(wasmcap runs commands)");
  }
  RunReport report;
  report.engine = std::string(engine.name());
  component::CallResult r;
  WASMCAP_TRY_ASSIGN(r, instance->call(run, {}));
  report.fuel_consumed = instance->fuel_consumed();
  if (r.exited) {
    report.exit_code = r.exit_code;
  } else {
    // run: func() -> result: ok is status 0, err 1 (as wasi:cli/exit's exit(err)).
    const bool err = !r.results.empty() && r.results[0].kind == component::ValKind::kResult &&
                     r.results[0].bits != 0;
    report.exit_code = err ? 1 : 0;
  }
  return report;
}

}  // namespace wasmcap

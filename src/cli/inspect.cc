// `wasmcap inspect`: a module's imports, exports and memories (names are the module's
// untrusted bytes: escaped for the terminal, JSON-escaped with --json).
#include "cli/commands.h"

#include <CLI/CLI.hpp>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "wasmcap/bundle.h"
#include "wasmcap/runtime.h"

namespace wasmcap::cli {

namespace {

std::string limits_str(const MemoryLimits& m) {
  std::string s = "pages min=" + std::to_string(m.min_pages);
  s += m.has_max ? " max=" + std::to_string(m.max_pages) : " max=none";
  if (m.is64) s += " memory64";
  if (m.shared) s += " shared";
  return s;
}

nlohmann::json limits_json(const MemoryLimits& m) {
  nlohmann::json j = {{"min_pages", m.min_pages}, {"max_pages", nullptr}, {"memory64", m.is64},
                      {"shared", m.shared}};
  if (m.has_max) j["max_pages"] = m.max_pages;
  return j;
}

// A WASI 0.2 component: the interfaces it imports (and what wasmcap's host does not serve of
// them), the functions it exports with their WIT signatures, and the grants its imports read.
int inspect_component(const std::string& path, const std::vector<uint8_t>& bytes, bool json) {
  auto described = describe_component(bytes.data(), bytes.size());
  if (!described) return report_error(described.error());
  const ComponentImports* imports = &described->imports;
  const std::vector<ComponentFunction>* functions = &described->functions;
  // The grants the imports read (component_imports: those `wasmcap plan` warns of).
  std::vector<std::string> grants;
  for (const auto& read : imports->reads) {
    switch (read.first) {
      case ComponentImports::Grant::kFs: grants.push_back("fs (a directory)"); break;
      case ComponentImports::Grant::kClocks: grants.push_back("clocks"); break;
      case ComponentImports::Grant::kRandom: grants.push_back("random"); break;
      case ComponentImports::Grant::kArgsEnv: grants.push_back("args, env (if it reads them)"); break;
      case ComponentImports::Grant::kHttps: grants.push_back("host_api.https (its requests)"); break;
    }
  }
  if (json) {
    constexpr auto kReplace = nlohmann::json::error_handler_t::replace;
    nlohmann::json j = {{"component", path},          {"size_bytes", bytes.size()},
                        {"sha256", bundle::sha256_hex(bytes)}, {"imports", imports->names},
                        {"unserved", imports->unserved}, {"grants_read", grants}};
    std::string text = j.dump(2, ' ', false, kReplace);
    text.resize(text.size() - 2);  // "\n}": the exports follow
    // The schemas are JSON text the library wrote: spliced in as they are, never parsed again
    // (as `wasmcap call --list-json`: only src/common/json.cc parses).
    text += ",\n  \"exports\": [";
    for (size_t i = 0; i < functions->size(); ++i) {
      const ComponentFunction& f = (*functions)[i];
      std::string head = nlohmann::json{{"name", f.name}, {"signature", f.signature}}.dump(-1, ' ', false, kReplace);
      head.pop_back();  // the closing brace
      text += std::string(i ? "," : "") + "\n    " + head + ",\"params\":" + f.params_schema +
              ",\"result\":" + f.result_schema + "}";
    }
    text += "\n  ]\n}\n";
    std::fwrite(text.data(), 1, text.size(), stdout);
    return 0;
  }
  std::printf("component: %s (%zu bytes)\n", path.c_str(), bytes.size());
  std::printf("imports (%zu):\n", imports->names.size());
  for (const std::string& n : imports->names) std::printf("  %s\n", printable(n).c_str());
  if (!imports->unserved.empty()) {
    std::printf("not served by wasmcap's WASI 0.2 host (a run is refused):\n");
    for (const std::string& u : imports->unserved) std::printf("  %s\n", u.c_str());
  }
  std::printf("exports (%zu functions):\n", functions->size());
  for (const ComponentFunction& f : *functions) {
    std::printf("  %s%s\n", printable(f.name).c_str(), printable(f.signature).c_str());
  }
  std::printf("grants its imports read:");
  if (grants.empty()) std::printf(" none");
  for (size_t i = 0; i < grants.size(); ++i) std::printf("%s %s", i ? "," : "", grants[i].c_str());
  std::printf("\n");
  return 0;
}

int cmd_inspect(const std::string& module_path, bool json) {
  auto bytes = read_file_bytes(module_path);
  if (!bytes) return report_error(bytes.error());
  if (is_component_binary(bytes->data(), bytes->size())) return inspect_component(module_path, *bytes, json);
  auto engine = make_fast_engine();
  auto module = engine->load(bytes->data(), bytes->size());
  if (!module) return report_error(module.error());
  const ModuleInfo& info = (*module)->info();
  if (json) {
    // Names are the module's (untrusted) bytes: JSON-escaped, invalid UTF-8 replaced.
    nlohmann::json imports = nlohmann::json::array(), exports = nlohmann::json::array(),
                   memories = nlohmann::json::array();
    for (const auto& i : info.imports) {
      nlohmann::json o = {{"kind", std::string(extern_kind_name(i.kind))}, {"module", i.module},
                          {"name", i.name}};
      if (i.kind == ExternKind::kFunc) o["signature"] = i.sig.to_string();
      if (i.kind == ExternKind::kMemory) o["memory"] = limits_json(i.memory);
      imports.push_back(o);
    }
    for (const auto& e : info.exports) {
      nlohmann::json o = {{"kind", std::string(extern_kind_name(e.kind))}, {"name", e.name}};
      if (e.kind == ExternKind::kFunc) o["signature"] = e.sig.to_string();
      if (e.kind == ExternKind::kMemory) o["memory"] = limits_json(e.memory);
      exports.push_back(o);
    }
    for (const auto& m : info.memories) memories.push_back(limits_json(m));
    nlohmann::json j = {{"module", module_path},
                        {"size_bytes", info.size_bytes},
                        {"sha256", bundle::sha256_hex(*bytes)},
                        {"functions", info.defined_funcs},
                        {"imports", imports},
                        {"exports", exports},
                        {"memories", memories}};
    std::string text = j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
    std::fwrite(text.data(), 1, text.size(), stdout);
    return 0;
  }
  std::printf("module: %s (%llu bytes, %u functions)\n", module_path.c_str(),
              static_cast<unsigned long long>(info.size_bytes), info.defined_funcs);
  std::printf("imports (%zu):\n", info.imports.size());
  for (const auto& i : info.imports) {
    // Module names are untrusted text: quoted and escaped, never raw bytes on the terminal.
    std::printf("  %s %s.%s", std::string(extern_kind_name(i.kind)).c_str(),
                display_untrusted(i.module).c_str(), display_untrusted(i.name).c_str());
    if (i.kind == ExternKind::kFunc) std::printf(" %s", i.sig.to_string().c_str());
    if (i.kind == ExternKind::kMemory) std::printf(" %s", limits_str(i.memory).c_str());
    std::printf("\n");
  }
  std::printf("exports (%zu):\n", info.exports.size());
  for (const auto& e : info.exports) {
    std::printf("  %s %s", std::string(extern_kind_name(e.kind)).c_str(),
                display_untrusted(e.name).c_str());
    if (e.kind == ExternKind::kFunc) std::printf(" %s", e.sig.to_string().c_str());
    if (e.kind == ExternKind::kMemory) std::printf(" %s", limits_str(e.memory).c_str());
    std::printf("\n");
  }
  std::printf("memories (%zu):\n", info.memories.size());
  for (size_t i = 0; i < info.memories.size(); ++i) {
    std::printf("  memory %zu %s\n", i, limits_str(info.memories[i]).c_str());
  }
  return 0;
}

}  // namespace

Dispatch add_inspect_command(CLI::App& app) {
  struct Flags {
    std::string module;
    bool json = false;
  };
  auto f = std::make_shared<Flags>();
  CLI::App* inspect = app.add_subcommand("inspect", "List a module's imports, exports and memory");
  inspect->add_option("module", f->module, "The .wasm module")->required();
  inspect->add_flag("--json", f->json, "Print one JSON object (names JSON-escaped)");
  return [inspect, f]() -> std::optional<int> {
    if (!*inspect) return std::nullopt;
    set_json_errors(f->json);
    return cmd_inspect(f->module, f->json);
  };
}

}  // namespace wasmcap::cli

// `wasmcap compile`: a module compiled for the aot engine into the cache, so later runs start at
// native speed (docs/aot.md).
#include "cli/commands.h"

#include <CLI/CLI.hpp>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <chrono>

#include "common/escape.h"
#include "wasmcap/runtime.h"

namespace wasmcap::cli {

namespace {

// Compiles MODULE (or each core module of a component) for the AOT engine into the cache, so
// later runs start at native speed.
int cmd_compile(const std::string& module_path, const AotOptions& aot, bool json) {
  auto bytes = read_file_bytes(module_path);
  if (!bytes) return report_error(bytes.error());
  auto start = std::chrono::steady_clock::now();
  auto report = compile_for_aot(bytes->data(), bytes->size(), aot);
  if (!report) return report_error(report.error());
  double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (json) {
    nlohmann::json j = {{"module", module_path}, {"engine", "aot"}, {"seconds", s}, {"cached", true}};
    if (report->component) {
      nlohmann::json mods = nlohmann::json::array();
      for (const CompiledModule& m : report->modules) {
        mods.push_back({{"offset", m.offset}, {"size", m.size}, {"sha256", m.sha256}, {"seconds", m.seconds}});
      }
      j["component"] = true;
      j["core_modules"] = std::move(mods);
    } else {
      j["sha256"] = report->modules.at(0).sha256;
    }
    std::string text = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
    std::fwrite(text.data(), 1, text.size(), stdout);
    return 0;
  }
  const std::string shown = text::escape_for_terminal(module_path, text::ControlStyle::kHex);
  if (report->component && report->modules.empty()) {
    std::printf("component %s embeds no core module: nothing to compile\n", shown.c_str());
  } else if (report->component) {
    size_t n = report->modules.size();
    std::printf("compiled the %zu core module%s of component %s for the aot engine (%.2f s; cached)\n", n,
                n == 1 ? "" : "s", shown.c_str(), s);
  } else {
    std::printf("compiled %s for the aot engine (%.2f s; cached)\n", shown.c_str(), s);
  }
  return 0;
}

}  // namespace

Dispatch add_compile_command(CLI::App& app) {
  struct Flags {
    std::string module;
    bool json = false;
    AotOptions aot;
  };
  auto f = std::make_shared<Flags>();
  f->aot.progress = true;
  CLI::App* compile =
      app.add_subcommand("compile", "Precompile a module, or the core modules of a component, for the aot engine into the cache (docs/aot.md)");
  compile->add_option("module", f->module, "The .wasm module or component")->required();
  compile->add_option("--cache-dir", f->aot.cache_dir, "AOT cache directory (see run --cache-dir)");
  add_compile_bounds(compile, f->aot);
  compile->add_flag("--json", f->json, "Print the result as one JSON object");
  return [compile, f]() -> std::optional<int> {
    if (!*compile) return std::nullopt;
    set_json_errors(f->json);
    return cmd_compile(f->module, f->aot, f->json);
  };
}

}  // namespace wasmcap::cli

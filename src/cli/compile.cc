// `wasmcap compile`: a module compiled for the aot engine into the cache, so later runs start at
// native speed (docs/aot.md).
#include "cli/commands.h"

#include <CLI/CLI.hpp>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <chrono>

#include "wasmcap/runtime.h"

namespace wasmcap::cli {

namespace {

// Compiles MODULE for the AOT engine into the cache, so later runs start at native speed.
int cmd_compile(const std::string& module_path, const AotOptions& aot, bool json) {
  auto bytes = read_file_bytes(module_path);
  if (!bytes) return report_error(bytes.error());
  // The load hashes the module for the cache key; --json reports that same sha256 instead of
  // hashing the bytes a second time.
  ModuleBytes source(*bytes);
  auto engine = make_aot_engine(aot);
  auto start = std::chrono::steady_clock::now();
  auto module = engine->load(source);
  if (!module) return report_error(module.error());
  double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (json) {
    const std::string& sha = source.sha256();
    nlohmann::json j = {{"module", module_path}, {"engine", "aot"},
                        {"sha256", sha}, {"seconds", s}, {"cached", true}};
    std::string text = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
    std::fwrite(text.data(), 1, text.size(), stdout);
    return 0;
  }
  std::printf("compiled %s for the aot engine (%.2f s; cached)\n", module_path.c_str(), s);
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
      app.add_subcommand("compile", "Precompile a module for the aot engine into the cache (docs/aot.md)");
  compile->add_option("module", f->module, "The .wasm module")->required();
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

// The `wasmcap` command line. Flags are parsed here into typed options; policy decisions
// happen in the library, never in this file.
#include "cli/cli.h"

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <iostream>

#include "wasmcap/runtime.h"

namespace wasmcap::cli {

Result<Preopen> parse_dir_spec(const std::string& spec) {
  Preopen p;
  std::string s = spec;
  // Optional access suffix, only on the last part.
  auto ends_with = [&](const char* suf) {
    size_t n = std::strlen(suf);
    return s.size() > n && s.compare(s.size() - n, n, suf) == 0;
  };
  if (ends_with(":ro")) {
    p.read_only = true;
    s.resize(s.size() - 3);
  } else if (ends_with(":rw")) {
    s.resize(s.size() - 3);
  }
  size_t sep = s.find("::");
  if (sep == std::string::npos) {
    p.host_path = s;
    p.guest_path = s;
  } else {
    p.host_path = s.substr(0, sep);
    p.guest_path = s.substr(sep + 2);
  }
  if (p.host_path.empty()) {
    return make_error(ErrorCode::kInvalidArgument,
                      "--dir '" + spec + "': empty host path; use HOST[::GUEST][:ro]");
  }
  if (p.guest_path.empty()) {
    return make_error(ErrorCode::kInvalidArgument,
                      "--dir '" + spec + "': empty guest path; use HOST[::GUEST][:ro]");
  }
  return p;
}

Result<std::pair<std::string, std::string>> parse_env_spec(const std::string& spec) {
  size_t eq = spec.find('=');
  if (eq == std::string::npos || eq == 0) {
    return make_error(ErrorCode::kInvalidArgument,
                      "--env '" + spec + "': expected NAME=VALUE");
  }
  return std::make_pair(spec.substr(0, eq), spec.substr(eq + 1));
}

namespace {

int report_error(const Error& e) {
  std::fprintf(stderr, "wasmcap: error: %s\n", e.to_string().c_str());
  return error_exit_code(e.code);
}

int cmd_run(const std::string& module_path, const std::vector<std::string>& guest_args,
            const std::vector<std::string>& dirs, const std::vector<std::string>& envs,
            const std::string& engine, uint64_t fuel, uint64_t timeout_ms, uint64_t max_memory_mb,
            uint64_t max_output_bytes, const std::string& invoke, const std::string& argv0) {
  RunOptions opts;
  opts.engine = engine;
  opts.fuel = fuel;
  opts.timeout_ms = timeout_ms;
  opts.max_memory_bytes = max_memory_mb * (1ull << 20);
  opts.wasi.max_output_bytes = max_output_bytes;
  opts.wasi.stdin_fd = STDIN_FILENO;
  opts.wasi.args.push_back(argv0.empty() ? module_path : argv0);
  for (const auto& a : guest_args) opts.wasi.args.push_back(a);
  for (const auto& d : dirs) {
    auto p = parse_dir_spec(d);
    if (!p) return report_error(p.error());
    opts.wasi.preopens.push_back(*p);
  }
  for (const auto& e : envs) {
    auto kv = parse_env_spec(e);
    if (!kv) return report_error(kv.error());
    opts.wasi.env.push_back(*kv);
  }
  if (!invoke.empty()) opts.entry = invoke;
  auto bytes = read_file_bytes(module_path);
  if (!bytes) return report_error(bytes.error());
  std::fflush(stdout);
  auto report = run_module(*bytes, std::move(opts));
  if (!report) return report_error(report.error());
  return report->exit_code;
}

std::string limits_str(const MemoryLimits& m) {
  std::string s = "pages min=" + std::to_string(m.min_pages);
  s += m.has_max ? " max=" + std::to_string(m.max_pages) : " max=none";
  if (m.is64) s += " memory64";
  if (m.shared) s += " shared";
  return s;
}

int cmd_inspect(const std::string& module_path) {
  auto bytes = read_file_bytes(module_path);
  if (!bytes) return report_error(bytes.error());
  auto engine = make_interp_engine();
  auto module = engine->load(bytes->data(), bytes->size());
  if (!module) return report_error(module.error());
  const ModuleInfo& info = (*module)->info();
  std::printf("module: %s (%llu bytes, %u functions)\n", module_path.c_str(),
              static_cast<unsigned long long>(info.size_bytes), info.defined_funcs);
  std::printf("imports (%zu):\n", info.imports.size());
  for (const auto& i : info.imports) {
    std::printf("  %s %s.%s", std::string(extern_kind_name(i.kind)).c_str(), i.module.c_str(),
                i.name.c_str());
    if (i.kind == ExternKind::kFunc) std::printf(" %s", i.sig.to_string().c_str());
    if (i.kind == ExternKind::kMemory) std::printf(" %s", limits_str(i.memory).c_str());
    std::printf("\n");
  }
  std::printf("exports (%zu):\n", info.exports.size());
  for (const auto& e : info.exports) {
    std::printf("  %s %s", std::string(extern_kind_name(e.kind)).c_str(), e.name.c_str());
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

int main(int argc, char** argv) {
  CLI::App app{"wasmcap: a capability-secure WebAssembly (WASI Preview 1) runtime"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "wasmcap 0.1.0");

  std::string module_path, engine = "interp", invoke, argv0;
  std::vector<std::string> dirs, envs;
  uint64_t fuel = 0, timeout_ms = 0, max_memory_mb = 4096, max_output_bytes = 0;

  CLI::App* run = app.add_subcommand("run", "Run a WASI command module in a sandbox");
  run->add_option("--dir", dirs,
                  "Preopen a host directory: HOST[::GUEST][:ro|:rw] (GUEST defaults to HOST; "
                  ":ro makes it read-only). Repeatable.")
      ->allow_extra_args(false);
  run->add_option("--env", envs, "Give the guest an environment variable NAME=VALUE. Repeatable.")
      ->allow_extra_args(false);
  run->add_option("--engine", engine, "Engine: interp")->check(CLI::IsMember({"interp"}));
  run->add_option("--fuel", fuel, "Instruction budget (0 = unlimited)");
  run->add_option("--timeout-ms", timeout_ms, "Wall-clock deadline in ms (0 = unlimited)");
  run->add_option("--max-memory-mb", max_memory_mb, "Linear memory cap in MiB (default 4096)")
      ->check(CLI::Range(uint64_t{1}, uint64_t{4096}));
  run->add_option("--max-output-bytes", max_output_bytes,
                  "Cap on bytes written to stdout+stderr (0 = unlimited)");
  run->add_option("--invoke", invoke, "Call this export instead of _start (reactor modules)");
  run->add_option("--argv0", argv0, "argv[0] the guest sees (default: the module path)");
  run->add_option("module", module_path, "The .wasm module")->required();
  run->prefix_command();

  std::string inspect_path;
  CLI::App* inspect = app.add_subcommand("inspect", "List a module's imports, exports and memory");
  inspect->add_option("module", inspect_path, "The .wasm module")->required();

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    return code == 0 ? 0 : error_exit_code(ErrorCode::kInvalidArgument);
  }
  if (*run) {
    return cmd_run(module_path, run->remaining(), dirs, envs, engine, fuel, timeout_ms,
                   max_memory_mb, max_output_bytes, invoke, argv0);
  }
  if (*inspect) return cmd_inspect(inspect_path);
  return 0;
}

}  // namespace wasmcap::cli

#include "wasmcap/runtime.h"

#include <cerrno>
#include <cstring>
#include <fstream>

namespace wasmcap {

Result<std::vector<uint8_t>> read_file_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return make_error(errno == ENOENT ? ErrorCode::kNotFound : ErrorCode::kIo,
                      "cannot read '" + path + "': " + std::strerror(errno));
  }
  std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) return make_error(ErrorCode::kIo, "error reading '" + path + "'");
  return bytes;
}

Result<std::unique_ptr<Engine>> make_engine(const std::string& name) {
  if (name == "interp") return make_interp_engine();
  return make_error(ErrorCode::kInvalidArgument,
                    "unknown engine '" + name + "'; available engines: interp");
}

Result<RunReport> run_module(const std::vector<uint8_t>& module_bytes, RunOptions options) {
  auto start = std::chrono::steady_clock::now();
  auto engine = make_engine(options.engine);
  if (!engine) return tl::unexpected(engine.error());
  auto module = (*engine)->load(module_bytes.data(), module_bytes.size());
  if (!module) return tl::unexpected(module.error());

  ExecLimits limits;
  limits.max_memory_pages = std::min<uint64_t>(options.max_memory_bytes / kWasmPageSize, 65536);
  limits.fuel = options.fuel;
  if (options.timeout_ms != 0) {
    limits.deadline = start + std::chrono::milliseconds(options.timeout_ms);
  }

  auto host = make_wasi_host(std::move(options.wasi));
  if (!host) return tl::unexpected(host.error());
  wasi_set_deadline(**host, limits.deadline);
  HostFuncTable table;
  register_wasi(*host, table);

  auto instance = (*engine)->instantiate(*module, table, limits);
  if (!instance) return tl::unexpected(instance.error());

  const ModuleInfo& info = (*module)->info();
  if (options.entry != "_start" || info.find_export("_start") == nullptr) {
    if (const ExportDesc* init = info.find_export("_initialize");
        init != nullptr && init->kind == ExternKind::kFunc) {
      auto r = (*instance)->call("_initialize", {});
      if (!r) return tl::unexpected(r.error());
    }
  }
  auto outcome = (*instance)->call(options.entry, {});
  RunReport report;
  report.fuel_consumed = (*instance)->fuel_consumed();
  report.wall_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  if (wasi_output_limit_hit(**host)) {
    return make_error(ErrorCode::kOutputLimit,
                      "guest output exceeded the limit; raise --max-output-bytes");
  }
  if (!outcome) return tl::unexpected(outcome.error());
  if (outcome->exited) report.exit_code = outcome->exit_code;
  return report;
}

}  // namespace wasmcap

// The embedding entry point: run a WASI command (or a reactor export) under a WASI config and
// limits, on a chosen engine. This is what `wasmcap run` does.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "wasmcap/engine.h"
#include "wasmcap/error.h"
#include "wasmcap/wasi.h"

namespace wasmcap {

struct RunOptions {
  std::string engine = "interp";  // "interp" (the AOT tier arrives later)
  WasiConfig wasi;
  uint64_t max_memory_bytes = 4ull << 30;  // rounded down to whole 64 KiB pages
  uint64_t fuel = 0;                       // 0 = unlimited
  uint64_t timeout_ms = 0;                 // wall clock; 0 = unlimited
  // Export to run. "_start" for commands; reactors get "_initialize" called first.
  std::string entry = "_start";
};

struct RunReport {
  int32_t exit_code = 0;  // the guest's exit status (0 when _start returned)
  uint64_t fuel_consumed = 0;
  double wall_ms = 0;
};

// Reads a whole file (modules, manifests). Errors name the path.
Result<std::vector<uint8_t>> read_file_bytes(const std::string& path);

// Creates the engine named `name` ("interp"), or an error listing the available engines.
Result<std::unique_ptr<Engine>> make_engine(const std::string& name);

// Loads, links against WASI, instantiates and runs. Traps and limits are errors with their
// structured codes; a guest exit (any status) is a RunReport.
Result<RunReport> run_module(const std::vector<uint8_t>& module_bytes, RunOptions options);

}  // namespace wasmcap

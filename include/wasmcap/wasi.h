// WASI Preview 1 host configuration. Secure defaults: no args beyond argv[0], no environment,
// no preopened directories, stdin empty. Nothing from the host process leaks in unless the
// embedder puts it here explicitly.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "wasmcap/engine.h"
#include "wasmcap/error.h"

namespace wasmcap {

struct Preopen {
  std::string host_path;   // must exist and be a directory
  std::string guest_path;  // the name the guest sees (fd_prestat_dir_name)
  bool read_only = false;  // ro: no write/create/delete/rename/link/truncate/set-times
  // A requested-but-not-granted directory (wasmcap run --degrade): the guest sees guest_path as
  // a preopen, but it holds no host directory and no rights, so every operation on it or
  // beneath it fails with ENOTCAPABLE. host_path is ignored.
  bool denied = false;
};

// Receives guest output. Returns false to signal the sink refuses more (the guest sees EIO).
using OutputSink = std::function<bool(const uint8_t* data, size_t len)>;

struct WasiConfig {
  std::vector<std::string> args;  // argv, including argv[0]
  std::vector<std::pair<std::string, std::string>> env;
  std::vector<Preopen> preopens;

  int stdin_fd = -1;   // host fd read for guest fd 0; -1: guest reads EOF
  int stdout_fd = 1;   // host fd for guest fd 1 unless stdout_sink is set; -1: discard
  int stderr_fd = 2;   // host fd for guest fd 2 unless stderr_sink is set; -1: discard
  OutputSink stdout_sink;
  OutputSink stderr_sink;
  // Total bytes the guest may write to stdout+stderr; beyond it writes fail with EIO and the
  // run ends with output_limit. 0 = unlimited.
  uint64_t max_output_bytes = 0;

  uint32_t max_fds = 1024;  // open descriptors per instance (incl. stdio and preopens)
  // Upper bound for one fd_read/fd_write/readdir transfer, to bound host memory use.
  uint32_t max_io_bytes = 16u << 20;
};

class WasiHost;

// Creates a WASI host. Opens the preopened directories now (a missing or non-directory path
// is an error naming it).
Result<std::shared_ptr<WasiHost>> make_wasi_host(WasiConfig config);

// Binds every function of wasi_snapshot_preview1 into `table`, served by `host`.
void register_wasi(const std::shared_ptr<WasiHost>& host, HostFuncTable& table);


// The names of all wasi_snapshot_preview1 functions, in witx order.
const std::vector<std::string>& wasi_function_names();

}  // namespace wasmcap

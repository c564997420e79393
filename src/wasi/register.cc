// Binds every wasi_snapshot_preview1 import to a WasiHost member. The signature each import
// has in wasm is derived from the member's parameter types (uint32_t -> i32, uint64_t -> i64;
// common/host_bind.h, which the wasmcap_https ABI binds through too), so the table below cannot
// drift from the implementations.
#include <utility>

#include "common/host_bind.h"
#include "wasi/host.h"

namespace wasmcap {
namespace {

constexpr const char* kModule = "wasi_snapshot_preview1";
// WASI snapshot 0, from toolchains before 2020: served by the same host (abi.h says how the two
// differ), as wasmtime serves it.
constexpr const char* kUnstableModule = "wasi_unstable";

using WasiImport = host_bind::Import<WasiHost>;

// What every WASI import does around its member call: one function for all of them (not one
// closure type per import), so a run's table is built by one loop over constant data, and only
// the members a guest calls are ever touched (docs/aot.md, "Cold start": the 46 per-import
// template instantiations that built the table were a cold-start cost in page faults alone).
HostFunc bind(const std::shared_ptr<WasiHost>& host, const char* module,
              const WasiImport& import) {
  HostFunc f;
  f.module = module;
  f.name = import.name;
  f.sig = import.sig();
  WasiHost* h = host.get();
  std::shared_ptr<WasiHost> keep = host;
  host_bind::Invoke<WasiHost> invoke = import.invoke;
  f.callback = [h, keep, invoke](HostContext& ctx, const Value* args, Value* results) {
    h->begin_call(ctx);
    try {
      invoke(*h, ctx, args, results);
    } catch (...) {
      // The engine boundary turns the exception into the run's error (engine/host_call.h);
      // the host keeps no state of the failed call (its context lives on the engine's stack).
      h->end_call();
      (void)h->take_termination();
      (void)h->take_exit();
      throw;
    }
    h->end_call();
    auto t = h->take_termination();
    auto code = h->take_exit();
    if (t) return HostCallResult::fail(std::move(*t));  // a limit outranks the guest's own end
    if (code) return HostCallResult::exit(*code);
    return HostCallResult::ok();
  };
  return f;
}

// One list, many uses: registration and the names table.
#define WASMCAP_WASI_FUNCTIONS(X) \
  X(args_get)                     \
  X(args_sizes_get)               \
  X(environ_get)                  \
  X(environ_sizes_get)            \
  X(clock_res_get)                \
  X(clock_time_get)               \
  X(fd_advise)                    \
  X(fd_allocate)                  \
  X(fd_close)                     \
  X(fd_datasync)                  \
  X(fd_fdstat_get)                \
  X(fd_fdstat_set_flags)          \
  X(fd_fdstat_set_rights)         \
  X(fd_filestat_get)              \
  X(fd_filestat_set_size)         \
  X(fd_filestat_set_times)        \
  X(fd_pread)                     \
  X(fd_prestat_get)               \
  X(fd_prestat_dir_name)          \
  X(fd_pwrite)                    \
  X(fd_read)                      \
  X(fd_readdir)                   \
  X(fd_renumber)                  \
  X(fd_seek)                      \
  X(fd_sync)                      \
  X(fd_tell)                      \
  X(fd_write)                     \
  X(path_create_directory)        \
  X(path_filestat_get)            \
  X(path_filestat_set_times)      \
  X(path_link)                    \
  X(path_open)                    \
  X(path_readlink)                \
  X(path_remove_directory)        \
  X(path_rename)                  \
  X(path_symlink)                 \
  X(path_unlink_file)             \
  X(poll_oneoff)                  \
  X(proc_raise)                   \
  X(sched_yield)                  \
  X(random_get)                   \
  X(sock_accept)                  \
  X(sock_recv)                    \
  X(sock_send)                    \
  X(sock_shutdown)

// Every WASI import but proc_exit, as constant data.
constexpr WasiImport kImports[] = {
#define WASMCAP_IMPORT(name) WASMCAP_BIND_IMPORT(WasiHost, name),
    WASMCAP_WASI_FUNCTIONS(WASMCAP_IMPORT)
#undef WASMCAP_IMPORT
};

// wasi_unstable: the Preview 1 list but sock_accept (snapshot 0 has none), with the four imports
// whose whence or layout differ served by their own members.
#define WASMCAP_UNSTABLE_SAME(X) \
  X(args_get)                    \
  X(args_sizes_get)              \
  X(environ_get)                 \
  X(environ_sizes_get)           \
  X(clock_res_get)               \
  X(clock_time_get)              \
  X(fd_advise)                   \
  X(fd_allocate)                 \
  X(fd_close)                    \
  X(fd_datasync)                 \
  X(fd_fdstat_get)               \
  X(fd_fdstat_set_flags)         \
  X(fd_fdstat_set_rights)        \
  X(fd_filestat_set_size)        \
  X(fd_filestat_set_times)       \
  X(fd_pread)                    \
  X(fd_prestat_get)              \
  X(fd_prestat_dir_name)         \
  X(fd_pwrite)                   \
  X(fd_read)                     \
  X(fd_readdir)                  \
  X(fd_renumber)                 \
  X(fd_sync)                     \
  X(fd_tell)                     \
  X(fd_write)                    \
  X(path_create_directory)       \
  X(path_filestat_set_times)     \
  X(path_link)                   \
  X(path_open)                   \
  X(path_readlink)               \
  X(path_remove_directory)       \
  X(path_rename)                 \
  X(path_symlink)                \
  X(path_unlink_file)            \
  X(proc_raise)                  \
  X(sched_yield)                 \
  X(random_get)                  \
  X(sock_recv)                   \
  X(sock_send)                   \
  X(sock_shutdown)

constexpr WasiImport kUnstableImports[] = {
#define WASMCAP_IMPORT(name) WASMCAP_BIND_IMPORT(WasiHost, name),
    WASMCAP_UNSTABLE_SAME(WASMCAP_IMPORT)
#undef WASMCAP_IMPORT
    WASMCAP_BIND_IMPORT_AS(WasiHost, fd_seek, unstable_fd_seek),
    WASMCAP_BIND_IMPORT_AS(WasiHost, fd_filestat_get, unstable_fd_filestat_get),
    WASMCAP_BIND_IMPORT_AS(WasiHost, path_filestat_get, unstable_path_filestat_get),
    WASMCAP_BIND_IMPORT_AS(WasiHost, poll_oneoff, unstable_poll_oneoff),
};

// proc_exit does not return to the guest: the engine unwinds it.
HostFunc exit_function(const char* module) {
  HostFunc exit_fn;
  exit_fn.module = module;
  exit_fn.name = "proc_exit";
  exit_fn.sig = FuncSig{{ValType::kI32}, {}};
  exit_fn.callback = [](HostContext&, const Value* args, Value*) {
    return HostCallResult::exit(static_cast<int32_t>(args[0].i32));
  };
  return exit_fn;
}

}  // namespace

void register_wasi(const std::shared_ptr<WasiHost>& host, HostFuncTable& table) {
  for (const WasiImport& import : kImports) table.add(bind(host, kModule, import));
  table.add(exit_function(kModule));
  for (const WasiImport& import : kUnstableImports) {
    table.add(bind(host, kUnstableModule, import));
  }
  table.add(exit_function(kUnstableModule));
}

const std::vector<std::string>& wasi_function_names() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> v;
#define WASMCAP_NAME(name) v.push_back(#name);
    WASMCAP_WASI_FUNCTIONS(WASMCAP_NAME)
#undef WASMCAP_NAME
    v.push_back("proc_exit");
    return v;
  }();
  return names;
}

Result<std::shared_ptr<WasiHost>> make_wasi_host(WasiConfig config) {
  auto host = std::make_shared<WasiHost>(std::move(config));
  WASMCAP_TRY(host->init());
  return host;
}


}  // namespace wasmcap

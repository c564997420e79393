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

// One list, many uses: both modules' registration and the names table. Every import is served
// under wasi_snapshot_preview1 by the member of its name, and under wasi_unstable (WASI snapshot
// 0) as the entry's kind says: BOTH by that same member, OWN by its own member (the four whose
// whence or layout differ in snapshot 0, abi.h), P1_ONLY not at all (snapshot 0 has no
// sock_accept).
#define WASMCAP_WASI_FUNCTIONS(BOTH, OWN, P1_ONLY)   \
  BOTH(args_get)                                     \
  BOTH(args_sizes_get)                               \
  BOTH(environ_get)                                  \
  BOTH(environ_sizes_get)                            \
  BOTH(clock_res_get)                                \
  BOTH(clock_time_get)                               \
  BOTH(fd_advise)                                    \
  BOTH(fd_allocate)                                  \
  BOTH(fd_close)                                     \
  BOTH(fd_datasync)                                  \
  BOTH(fd_fdstat_get)                                \
  BOTH(fd_fdstat_set_flags)                          \
  BOTH(fd_fdstat_set_rights)                         \
  OWN(fd_filestat_get, unstable_fd_filestat_get)     \
  BOTH(fd_filestat_set_size)                         \
  BOTH(fd_filestat_set_times)                        \
  BOTH(fd_pread)                                     \
  BOTH(fd_prestat_get)                               \
  BOTH(fd_prestat_dir_name)                          \
  BOTH(fd_pwrite)                                    \
  BOTH(fd_read)                                      \
  BOTH(fd_readdir)                                   \
  BOTH(fd_renumber)                                  \
  OWN(fd_seek, unstable_fd_seek)                     \
  BOTH(fd_sync)                                      \
  BOTH(fd_tell)                                      \
  BOTH(fd_write)                                     \
  BOTH(path_create_directory)                        \
  OWN(path_filestat_get, unstable_path_filestat_get) \
  BOTH(path_filestat_set_times)                      \
  BOTH(path_link)                                    \
  BOTH(path_open)                                    \
  BOTH(path_readlink)                                \
  BOTH(path_remove_directory)                        \
  BOTH(path_rename)                                  \
  BOTH(path_symlink)                                 \
  BOTH(path_unlink_file)                             \
  OWN(poll_oneoff, unstable_poll_oneoff)             \
  BOTH(proc_raise)                                   \
  BOTH(sched_yield)                                  \
  BOTH(random_get)                                   \
  P1_ONLY(sock_accept)                               \
  BOTH(sock_recv)                                    \
  BOTH(sock_send)                                    \
  BOTH(sock_shutdown)

// Every Preview 1 import but proc_exit, as constant data.
#define WASMCAP_P1(name) WASMCAP_BIND_IMPORT(WasiHost, name),
#define WASMCAP_P1_OWN(name, unstable_member) WASMCAP_BIND_IMPORT(WasiHost, name),
constexpr WasiImport kImports[] = {WASMCAP_WASI_FUNCTIONS(WASMCAP_P1, WASMCAP_P1_OWN, WASMCAP_P1)};
#undef WASMCAP_P1_OWN
#undef WASMCAP_P1

// Every wasi_unstable import but proc_exit, from the same list.
#define WASMCAP_UNSTABLE(name) WASMCAP_BIND_IMPORT(WasiHost, name),
#define WASMCAP_UNSTABLE_OWN(name, member) WASMCAP_BIND_IMPORT_AS(WasiHost, name, member),
#define WASMCAP_UNSTABLE_NONE(name)
constexpr WasiImport kUnstableImports[] = {
    WASMCAP_WASI_FUNCTIONS(WASMCAP_UNSTABLE, WASMCAP_UNSTABLE_OWN, WASMCAP_UNSTABLE_NONE)};
#undef WASMCAP_UNSTABLE_NONE
#undef WASMCAP_UNSTABLE_OWN
#undef WASMCAP_UNSTABLE

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
#define WASMCAP_NAME_OWN(name, unstable_member) v.push_back(#name);
    WASMCAP_WASI_FUNCTIONS(WASMCAP_NAME, WASMCAP_NAME_OWN, WASMCAP_NAME)
#undef WASMCAP_NAME_OWN
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

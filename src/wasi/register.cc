// Binds every wasi_snapshot_preview1 import to a WasiHost member. The signature each import
// has in wasm is derived from the member's parameter types (uint32_t -> i32, uint64_t -> i64),
// so the table below cannot drift from the implementations.
#include <utility>

#include "wasi/host.h"

namespace wasmcap {
namespace {

constexpr const char* kModule = "wasi_snapshot_preview1";

template <class T>
constexpr ValType val_type_of() {
  static_assert(std::is_same_v<T, uint32_t> || std::is_same_v<T, uint64_t>);
  return std::is_same_v<T, uint32_t> ? ValType::kI32 : ValType::kI64;
}

template <class T>
T arg_as(const Value& v) {
  if constexpr (std::is_same_v<T, uint32_t>) {
    return v.i32;
  } else {
    return v.i64;
  }
}

template <auto Method>
struct Binder;

template <class... A, wasi::Errno (WasiHost::*Method)(const GuestMemory&, A...)>
struct Binder<Method> {
  static FuncSig sig() { return FuncSig{{val_type_of<A>()...}, {ValType::kI32}}; }

  template <size_t... I>
  static wasi::Errno invoke(WasiHost& host, const GuestMemory& m, const Value* args,
                            std::index_sequence<I...>) {
    return (host.*Method)(m, arg_as<A>(args[I])...);
  }

  static HostFunc make(const std::shared_ptr<WasiHost>& host, const char* name) {
    HostFunc f;
    f.module = kModule;
    f.name = name;
    f.sig = sig();
    WasiHost* h = host.get();
    std::shared_ptr<WasiHost> keep = host;
    f.callback = [h, keep](HostContext& ctx, const Value* args, Value* results) {
      h->begin_call(ctx);
      results[0] = Value::I32(invoke(*h, ctx.memory, args, std::index_sequence_for<A...>{}));
      h->end_call();
      if (auto t = h->take_termination()) return HostCallResult::fail(std::move(*t));
      return HostCallResult::ok();
    };
    return f;
  }
};

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

}  // namespace

void register_wasi(const std::shared_ptr<WasiHost>& host, HostFuncTable& table) {
#define WASMCAP_BIND(name) table.add(Binder<&WasiHost::name>::make(host, #name));
  WASMCAP_WASI_FUNCTIONS(WASMCAP_BIND)
#undef WASMCAP_BIND
  // proc_exit does not return to the guest: the engine unwinds it.
  HostFunc exit_fn;
  exit_fn.module = kModule;
  exit_fn.name = "proc_exit";
  exit_fn.sig = FuncSig{{ValType::kI32}, {}};
  exit_fn.callback = [](HostContext&, const Value* args, Value*) {
    return HostCallResult::exit(static_cast<int32_t>(args[0].i32));
  };
  table.add(std::move(exit_fn));
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
  if (auto r = host->init(); !r) return tl::unexpected(r.error());
  return host;
}


}  // namespace wasmcap

// WASI filesystem functions. (stubs: to be implemented)
#include "wasi/host.h"

namespace wasmcap {
using namespace wasi;

Errno WasiHost::fd_advise(const GuestMemory&, uint32_t, uint64_t, uint64_t, uint32_t) { return kEnosys; }
Errno WasiHost::fd_allocate(const GuestMemory&, uint32_t, uint64_t, uint64_t) { return kEnosys; }
Errno WasiHost::fd_datasync(const GuestMemory&, uint32_t) { return kEnosys; }
Errno WasiHost::fd_sync(const GuestMemory&, uint32_t) { return kEnosys; }
Errno WasiHost::fd_fdstat_set_flags(const GuestMemory&, uint32_t, uint32_t) { return kEnosys; }
Errno WasiHost::fd_fdstat_set_rights(const GuestMemory&, uint32_t, uint64_t, uint64_t) { return kEnosys; }
Errno WasiHost::fd_filestat_get(const GuestMemory&, uint32_t, uint32_t) { return kEnosys; }
Errno WasiHost::fd_filestat_set_size(const GuestMemory&, uint32_t, uint64_t) { return kEnosys; }
Errno WasiHost::fd_filestat_set_times(const GuestMemory&, uint32_t, uint64_t, uint64_t, uint32_t) { return kEnosys; }
Errno WasiHost::fd_pread(const GuestMemory&, uint32_t, uint32_t, uint32_t, uint64_t, uint32_t) { return kEnosys; }
Errno WasiHost::fd_pwrite(const GuestMemory&, uint32_t, uint32_t, uint32_t, uint64_t, uint32_t) { return kEnosys; }
Errno WasiHost::fd_readdir(const GuestMemory&, uint32_t, uint32_t, uint32_t, uint64_t, uint32_t) { return kEnosys; }
Errno WasiHost::fd_seek(const GuestMemory&, uint32_t, uint64_t, uint32_t, uint32_t) { return kEnosys; }
Errno WasiHost::fd_tell(const GuestMemory&, uint32_t, uint32_t) { return kEnosys; }
Errno WasiHost::path_create_directory(const GuestMemory&, uint32_t, uint32_t, uint32_t) { return kEnosys; }
Errno WasiHost::path_filestat_get(const GuestMemory&, uint32_t, uint32_t, uint32_t, uint32_t, uint32_t) { return kEnosys; }
Errno WasiHost::path_filestat_set_times(const GuestMemory&, uint32_t, uint32_t, uint32_t, uint32_t, uint64_t, uint64_t, uint32_t) { return kEnosys; }
Errno WasiHost::path_link(const GuestMemory&, uint32_t, uint32_t, uint32_t, uint32_t, uint32_t, uint32_t, uint32_t) { return kEnosys; }
Errno WasiHost::path_open(const GuestMemory&, uint32_t, uint32_t, uint32_t, uint32_t, uint32_t, uint64_t, uint64_t, uint32_t, uint32_t) { return kEnosys; }
Errno WasiHost::path_readlink(const GuestMemory&, uint32_t, uint32_t, uint32_t, uint32_t, uint32_t, uint32_t) { return kEnosys; }
Errno WasiHost::path_remove_directory(const GuestMemory&, uint32_t, uint32_t, uint32_t) { return kEnosys; }
Errno WasiHost::path_rename(const GuestMemory&, uint32_t, uint32_t, uint32_t, uint32_t, uint32_t, uint32_t) { return kEnosys; }
Errno WasiHost::path_symlink(const GuestMemory&, uint32_t, uint32_t, uint32_t, uint32_t, uint32_t) { return kEnosys; }
Errno WasiHost::path_unlink_file(const GuestMemory&, uint32_t, uint32_t, uint32_t) { return kEnosys; }

}  // namespace wasmcap

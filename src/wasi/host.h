// Internal: the WASI Preview 1 binding (docs/architecture.md, "The WASI host's layers"). One
// object per instance: it owns the fd table (fd numbers -> the capability layer's descriptions,
// with P1 rights) and the capability layer (core.h) every function calls. Every function takes
// the guest memory view first and returns a P1 errno; guest pointers are validated through
// GuestMemory (out of range -> EFAULT); the layer's codes become errnos through to_p1.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "wasi/abi.h"
#include "wasi/core.h"
#include "wasi/errc.h"
#include "wasmcap/engine.h"
#include "wasmcap/wasi.h"

namespace wasmcap {

namespace wasi {

// The capability layer's code as the Preview 1 errno (host.cc; one value each, kEscape is
// EPERM).
Errno to_p1(Errc e);
// A FileType as P1's filetype (a FIFO has none: unknown).
Filetype to_p1(FileType t);

// DescFlags as P1 fdflags and back.
Fdflags p1_fdflags(const DescFlags& f);
DescFlags desc_flags(Fdflags f);

// One guest fd: a reference to an open description and the rights P1 attaches to the number.
struct FdEntry {
  DescriptionRef desc;
  Rights base = 0;
  Rights inheriting = 0;
};

}  // namespace wasi

class WasiHost {
 public:
  using Errno = wasi::Errno;
  explicit WasiHost(WasiConfig config) : core_(std::move(config)) {}
  WasiHost(const WasiHost&) = delete;
  WasiHost& operator=(const WasiHost&) = delete;

  Result<void> init();  // opens preopens (Core::init), then numbers stdio and them

  // The running call's context and what it ended with (core.h).
  void begin_call(HostContext& ctx) { core_.begin_call(ctx); }
  void end_call() { core_.end_call(); }
  std::optional<Error> take_termination() { return core_.take_termination(); }
  std::optional<int32_t> take_exit() { return core_.take_exit(); }
  const WasiConfig& config() const { return core_.config(); }

  // --- wasi_snapshot_preview1 (host.cc) ---
  Errno args_get(const GuestMemory& m, uint32_t argv, uint32_t argv_buf);
  Errno args_sizes_get(const GuestMemory& m, uint32_t argc_out, uint32_t size_out);
  Errno environ_get(const GuestMemory& m, uint32_t environ, uint32_t environ_buf);
  Errno environ_sizes_get(const GuestMemory& m, uint32_t count_out, uint32_t size_out);
  Errno clock_res_get(const GuestMemory& m, uint32_t id, uint32_t out);
  Errno clock_time_get(const GuestMemory& m, uint32_t id, uint64_t precision, uint32_t out);
  Errno fd_close(const GuestMemory& m, uint32_t fd);
  Errno fd_fdstat_get(const GuestMemory& m, uint32_t fd, uint32_t out);
  Errno fd_prestat_get(const GuestMemory& m, uint32_t fd, uint32_t out);
  Errno fd_prestat_dir_name(const GuestMemory& m, uint32_t fd, uint32_t path, uint32_t len);
  Errno fd_read(const GuestMemory& m, uint32_t fd, uint32_t iovs, uint32_t iovs_len,
                uint32_t nread_out);
  Errno fd_write(const GuestMemory& m, uint32_t fd, uint32_t iovs, uint32_t iovs_len,
                 uint32_t nwritten_out);
  Errno fd_renumber(const GuestMemory& m, uint32_t from, uint32_t to);
  Errno poll_oneoff(const GuestMemory& m, uint32_t in, uint32_t out, uint32_t nsubs,
                    uint32_t nevents_out);
  Errno proc_raise(const GuestMemory& m, uint32_t sig);
  Errno sched_yield(const GuestMemory& m);
  Errno random_get(const GuestMemory& m, uint32_t buf, uint32_t len);
  Errno sock_accept(const GuestMemory& m, uint32_t fd, uint32_t flags, uint32_t out_fd);
  Errno sock_recv(const GuestMemory& m, uint32_t fd, uint32_t ri_data, uint32_t ri_data_len,
                  uint32_t ri_flags, uint32_t ro_datalen, uint32_t ro_flags);
  Errno sock_send(const GuestMemory& m, uint32_t fd, uint32_t si_data, uint32_t si_data_len,
                  uint32_t si_flags, uint32_t so_datalen);
  Errno sock_shutdown(const GuestMemory& m, uint32_t fd, uint32_t how);

  // --- filesystem (fs.cc) ---
  Errno fd_advise(const GuestMemory& m, uint32_t fd, uint64_t offset, uint64_t len,
                  uint32_t advice);
  Errno fd_allocate(const GuestMemory& m, uint32_t fd, uint64_t offset, uint64_t len);
  Errno fd_datasync(const GuestMemory& m, uint32_t fd);
  Errno fd_sync(const GuestMemory& m, uint32_t fd);
  Errno fd_fdstat_set_flags(const GuestMemory& m, uint32_t fd, uint32_t flags);
  Errno fd_fdstat_set_rights(const GuestMemory& m, uint32_t fd, uint64_t base,
                             uint64_t inheriting);
  Errno fd_filestat_get(const GuestMemory& m, uint32_t fd, uint32_t out);
  Errno fd_filestat_set_size(const GuestMemory& m, uint32_t fd, uint64_t size);
  Errno fd_filestat_set_times(const GuestMemory& m, uint32_t fd, uint64_t atim, uint64_t mtim,
                              uint32_t fst_flags);
  Errno fd_pread(const GuestMemory& m, uint32_t fd, uint32_t iovs, uint32_t iovs_len,
                 uint64_t offset, uint32_t nread_out);
  Errno fd_pwrite(const GuestMemory& m, uint32_t fd, uint32_t iovs, uint32_t iovs_len,
                  uint64_t offset, uint32_t nwritten_out);
  Errno fd_readdir(const GuestMemory& m, uint32_t fd, uint32_t buf, uint32_t buf_len,
                   uint64_t cookie, uint32_t bufused_out);
  Errno fd_seek(const GuestMemory& m, uint32_t fd, uint64_t offset, uint32_t whence,
                uint32_t newoffset_out);
  Errno fd_tell(const GuestMemory& m, uint32_t fd, uint32_t offset_out);
  Errno path_create_directory(const GuestMemory& m, uint32_t fd, uint32_t path, uint32_t len);
  Errno path_filestat_get(const GuestMemory& m, uint32_t fd, uint32_t flags, uint32_t path,
                          uint32_t len, uint32_t out);
  Errno path_filestat_set_times(const GuestMemory& m, uint32_t fd, uint32_t flags,
                                uint32_t path, uint32_t len, uint64_t atim, uint64_t mtim,
                                uint32_t fst_flags);
  Errno path_link(const GuestMemory& m, uint32_t old_fd, uint32_t old_flags, uint32_t old_path,
                  uint32_t old_len, uint32_t new_fd, uint32_t new_path, uint32_t new_len);
  Errno path_open(const GuestMemory& m, uint32_t fd, uint32_t dirflags, uint32_t path,
                  uint32_t len, uint32_t oflags, uint64_t base, uint64_t inheriting,
                  uint32_t fdflags, uint32_t fd_out);
  Errno path_readlink(const GuestMemory& m, uint32_t fd, uint32_t path, uint32_t len,
                      uint32_t buf, uint32_t buf_len, uint32_t bufused_out);
  Errno path_remove_directory(const GuestMemory& m, uint32_t fd, uint32_t path, uint32_t len);
  Errno path_rename(const GuestMemory& m, uint32_t fd, uint32_t old_path, uint32_t old_len,
                    uint32_t new_fd, uint32_t new_path, uint32_t new_len);
  Errno path_symlink(const GuestMemory& m, uint32_t old_path, uint32_t old_len, uint32_t fd,
                     uint32_t new_path, uint32_t new_len);
  Errno path_unlink_file(const GuestMemory& m, uint32_t fd, uint32_t path, uint32_t len);

  // --- wasi_unstable (WASI snapshot 0, register.cc): the imports whose constants or layouts
  // differ from Preview 1 (abi.h); every other snapshot-0 import is served by the Preview 1
  // member of the same name ---
  Errno unstable_fd_seek(const GuestMemory& m, uint32_t fd, uint64_t offset, uint32_t whence,
                         uint32_t newoffset_out);
  Errno unstable_fd_filestat_get(const GuestMemory& m, uint32_t fd, uint32_t out) {
    return fd_filestat_get_as(wasi::Snapshot::kUnstable, m, fd, out);
  }
  Errno unstable_path_filestat_get(const GuestMemory& m, uint32_t fd, uint32_t flags,
                                   uint32_t path, uint32_t len, uint32_t out) {
    return path_filestat_get_as(wasi::Snapshot::kUnstable, m, fd, flags, path, len, out);
  }
  Errno unstable_poll_oneoff(const GuestMemory& m, uint32_t in, uint32_t out, uint32_t nsubs,
                             uint32_t nevents_out) {
    return poll_oneoff_as(wasi::Snapshot::kUnstable, m, in, out, nsubs, nevents_out);
  }

  // --- helpers shared by host.cc, fs.cc and poll.cc ---
  // Looks up fd and checks it holds all of `rights`. EBADF if absent, ENOTCAPABLE if lacking.
  Errno get_fd(uint32_t fd, wasi::Rights rights, wasi::FdEntry** out);
  // Gives the lowest free guest fd to `entry` (EMFILE beyond max_fds: the entry is dropped).
  Errno alloc_fd(wasi::FdEntry entry, uint32_t* fd_out);
  // Reads an iovec array from guest memory into host slices (EFAULT on any bad pointer,
  // EINVAL past IOV_MAX); the total is capped at max_io_bytes (a short transfer).
  Errno read_iovecs(const GuestMemory& m, uint32_t iovs, uint32_t iovs_len,
                    std::vector<wasi::IoSlice>* out);
  // Copies the guest path string (EFAULT; ENAMETOOLONG past 4096 bytes; EILSEQ on a NUL or
  // invalid UTF-8).
  Errno read_path(const GuestMemory& m, uint32_t ptr, uint32_t len, std::string* out);
  wasi::Core& core() { return core_; }

 private:
  // A P1 clock id as the layer's clock (EINVAL for an unknown id), then its grant (ENOTCAPABLE).
  Errno p1_clock(uint32_t id, wasi::Clock* out) const;
  // The members behind the imports whose layout differs by snapshot (abi.h).
  Errno fd_filestat_get_as(wasi::Snapshot abi, const GuestMemory& m, uint32_t fd, uint32_t out);
  Errno path_filestat_get_as(wasi::Snapshot abi, const GuestMemory& m, uint32_t fd,
                             uint32_t flags, uint32_t path, uint32_t len, uint32_t out);
  Errno poll_oneoff_as(wasi::Snapshot abi, const GuestMemory& m, uint32_t in, uint32_t out,
                       uint32_t nsubs, uint32_t nevents_out);

  wasi::Core core_;
  std::vector<std::unique_ptr<wasi::FdEntry>> fds_;  // index = guest fd; null = free
  // The first preopen's number: 3, or one above the highest inherited descriptor.
  uint32_t preopen_base_ = 3;
};

}  // namespace wasmcap

// Internal: the WASI Preview 1 host. One object per instance; owns the fd table.
// Every function takes the guest memory view first and returns a WASI errno; guest pointers
// are validated through GuestMemory (out of range -> EFAULT).
#pragma once

#include <dirent.h>
#include <sys/uio.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "wasi/abi.h"
#include "wasi/errc.h"
#include "wasmcap/engine.h"
#include "wasmcap/wasi.h"

namespace wasmcap {

namespace wasi {

// The capability layer's code as the Preview 1 errno (host.cc; one value each, kEscape is
// EPERM).
Errno to_p1(Errc e);

enum class FdKind : uint8_t { kStdin, kStdout, kStderr, kFile, kDir };

struct FdEntry {
  FdKind kind = FdKind::kFile;
  int host_fd = -1;  // owned for kFile/kDir; stdio entries refer to WasiConfig's fds
  Filetype filetype = kFiletypeUnknown;
  Rights base = 0;
  Rights inheriting = 0;
  Fdflags flags = 0;
  bool read_only = false;     // inherited from the preopen it was opened under
  std::string preopen_name;   // set for preopened directories (fd_prestat_*)
  std::string guest_path;     // for diagnostics: guest-visible path the fd was opened with
  // Directory iteration state (fd_readdir), owned.
  DIR* dir_stream = nullptr;
  uint64_t dir_cookie = 0;  // cookie of the next entry dir_stream would return
};

}  // namespace wasi

// a + b, saturating at UINT64_MAX (the virtual clock: host.cc, poll.cc).
inline uint64_t add_sat(uint64_t a, uint64_t b) { return a > UINT64_MAX - b ? UINT64_MAX : a + b; }

class WasiHost {
 public:
  using Errno = wasi::Errno;
  explicit WasiHost(WasiConfig config);
  ~WasiHost();
  WasiHost(const WasiHost&) = delete;
  WasiHost& operator=(const WasiHost&) = delete;

  Result<void> init();  // opens preopens

  // Takes the deadline, interrupt flag and fuel of the instance making the current call, so
  // blocking calls (stdin reads, poll sleeps) end with the run and long transfers stop in the
  // middle. The engine passes its limits with every host call (HostContext); this is the only
  // way they reach the host. end_call() forgets the context (it lives on the engine's stack).
  void begin_call(HostContext& ctx) {
    if (ctx.limits != nullptr) {
      deadline_ = ctx.limits->deadline;
      interrupt_ = ctx.limits->interrupt;
    }
    ctx_ = &ctx;
  }
  void end_call() { ctx_ = nullptr; }
  // Host work is metered: one fuel unit per kHostFuelBytesPerUnit bytes moved between guest
  // memory and the host (random bytes, file and stdio data, directory entries), rounded up per
  // chunk of at most kIoChunkBytes. Long transfers run in such chunks, and between two chunks
  // the deadline, the interrupt flag and the fuel budget are checked.
  static constexpr uint64_t kHostFuelBytesPerUnit = kFuelBytesPerUnit;  // engine.h: one rate
  static constexpr uint32_t kIoChunkBytes = 1u << 20;
  // Charges the fuel for `bytes` moved; false (and termination_ set) when the budget is spent.
  bool charge_bytes(uint64_t bytes);
  // True when a long operation may do its next chunk: no deadline, interrupt or spent fuel
  // (otherwise termination_ is set and the operation must return).
  bool may_continue();
  // Under a fixed clock: true when a wait of `timeout_ns` (saturated at INT64_MAX) never ends:
  // it then blocks until the deadline or interrupt instead of moving the virtual clock.
  bool fixed_wait_never_ends(int64_t timeout_ns) const;

  // A host call that must end the run (a limit reached while inside the host: the output
  // cap, the deadline or an interrupt while blocked) records the reason here; the binding
  // layer turns it into HostCallResult::fail so the guest cannot ignore it.
  std::optional<Error> take_termination() {
    auto t = std::move(termination_);
    termination_.reset();
    return t;
  }
  // A host call that ends the run as the guest's own exit would (a write into a closed pipe
  // under WasiConfig::exit_on_broken_pipe: the status SIGPIPE gives) records the status here;
  // the binding layer turns it into HostCallResult::exit, the path proc_exit takes.
  std::optional<int32_t> take_exit() {
    auto code = exit_status_;
    exit_status_.reset();
    return code;
  }
  static constexpr int32_t kBrokenPipeExitStatus = 128 + 13;  // 128 + SIGPIPE

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

  // --- helpers shared by host.cc and fs.cc ---
  // Looks up fd and checks it holds all of `rights`. EBADF if absent, ENOTCAPABLE if lacking.
  Errno get_fd(uint32_t fd, wasi::Rights rights, wasi::FdEntry** out);
  // Allocates the lowest free guest fd (EMFILE beyond max_fds). Takes ownership of entry.
  Errno alloc_fd(wasi::FdEntry entry, uint32_t* fd_out);
  // Reads an iovec array from guest memory into host spans (EFAULT on any bad pointer,
  // EINVAL when the total would exceed max_io_bytes... caps instead).
  struct IoSlice {
    uint8_t* data;
    uint32_t len;
  };
  Errno read_iovecs(const GuestMemory& m, uint32_t iovs, uint32_t iovs_len,
                    std::vector<IoSlice>* out);
  // The same slices as host iovecs, for readv/writev/preadv/pwritev.
  static std::vector<iovec> to_host_iovecs(const std::vector<IoSlice>& slices) {
    std::vector<iovec> v;
    v.reserve(slices.size());
    for (const auto& s : slices) v.push_back({s.data, s.len});
    return v;
  }
  // Copies the guest path string (EFAULT / EILSEQ on invalid UTF-8 / EINVAL on NUL).
  Errno read_path(const GuestMemory& m, uint32_t ptr, uint32_t len, std::string* out);
  const WasiConfig& config() const { return config_; }

  static Errno errno_from_host(int err);

  // The time the *_NOW flags of fd/path_filestat_set_times stand for: UTIME_NOW under the host
  // clock, the virtual wall clock under a fixed one (one read), ENOTCAPABLE without the wall
  // clock (a file's timestamp would otherwise leak the real time the guest was not granted).
  Errno now_for_timestamps(timespec* out);

 private:
  Errno write_output(wasi::FdKind kind, const std::vector<IoSlice>& iovs, uint64_t* written);
  // A write to fd 1/2 failed with EPIPE: true (and exit_status_ set) under exit_on_broken_pipe.
  bool broken_pipe();
  // Waits until host_fd is readable, the timeout (ns, <0 = none) passes, or the run must end
  // (deadline/interrupt: sets termination_). Returns true if readable.
  bool wait_readable(int host_fd, int64_t timeout_ns);
  // Sleeps ns, waking early for deadline/interrupt (sets termination_).
  void sleep_bounded(int64_t ns);
  bool must_stop();
  // Reads/writes a file fd in chunks of kIoChunkBytes (see charge_bytes). offset < 0: at the
  // current position. Returns the host errno of the first failed chunk (0 if none) and the
  // bytes moved in *done; a short transfer ends the loop.
  int file_io(int host_fd, bool write, const std::vector<IoSlice>& slices, int64_t offset,
              bool append, uint64_t* done);
  void close_entry(wasi::FdEntry& e);
  // Checks the clock id (EINVAL) and the grant (ENOTCAPABLE); *wall says whether it is the
  // wall clock.
  Errno check_clock(uint32_t id, bool* wall) const;
  // The current reading of a checked clock. Under a fixed clock, `advance` moves the virtual
  // time on by the step after reading (clock_time_get); poll_oneoff reads without advancing.
  Errno read_clock(uint32_t id, bool wall, bool advance, uint64_t* out);
  // Fills p[0..n) from the seeded ChaCha20 stream (RandomSource::kSeed).
  void seeded_random(uint8_t* p, size_t n);

  WasiConfig config_;
  std::vector<std::unique_ptr<wasi::FdEntry>> fds_;  // index = guest fd; null = free
  std::chrono::steady_clock::time_point deadline_ = std::chrono::steady_clock::time_point::max();
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
  uint64_t output_bytes_ = 0;
  const std::atomic<bool>* interrupt_ = nullptr;
  HostContext* ctx_ = nullptr;  // the running call's context (fuel), null between calls
  std::optional<Error> termination_;
  std::optional<int32_t> exit_status_;  // see take_exit
  bool output_limit_hit_ = false;
  // Fixed clock: ns of virtual time since the run started (saturating).
  uint64_t virtual_ns_ = 0;
  // Seeded random: the ChaCha20 key, the next block's counter and the unread rest of the
  // current block.
  uint8_t seed_key_[32] = {};
  uint64_t seed_block_ = 0;
  uint8_t seed_buf_[64] = {};
  size_t seed_buf_pos_ = 64;
};

}  // namespace wasmcap

// Internal: the WASI host's ABI-neutral capability layer (docs/architecture.md, "The WASI
// host's layers").
//
// Core is what a guest may do, in host terms: open files and directories as OpenDescription
// objects (description.h) beneath the preopens, through the one path resolver (path.h); read,
// write, stat and change them; read the granted clocks and random source; see its args and
// environment. Arguments are host types (paths as std::string_view, byte slices, offsets),
// results are values or Errc codes (errc.h). It knows nothing of guest memory, fd numbers,
// rights bits or an ABI's errno numbers: the Preview 1 binding (host.h, WasiHost) reads guest
// memory, keeps the fd table and its rights, and maps Errc to P1 errnos; a WASI 0.2 binding
// maps resource handles to the same descriptions and Errc to wasi:filesystem's error-code.
//
// Every bound lives here, so it holds whichever ABI drives it: the output cap, the chunking
// of transfers with the deadline, interrupt and fuel checked between chunks, the read-only
// rule for trees, the rules for symlinks a guest creates or moves, the clock and random
// grants, the write budget (wasmcap/wasi.h WriteBudget: file growth and new entries, charged
// where the host grows a file or creates an entry).
#pragma once

#include <time.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "wasi/description.h"
#include "wasi/errc.h"
#include "wasi/path.h"
#include "wasmcap/engine.h"
#include "wasmcap/wasi.h"

namespace wasmcap::wasi {

// a + b, saturating at UINT64_MAX (the virtual clock).
inline uint64_t add_sat(uint64_t a, uint64_t b) { return a > UINT64_MAX - b ? UINT64_MAX : a + b; }

// Host memory the guest's bytes move through (for P1: guest memory behind an iovec).
struct IoSlice {
  uint8_t* data;
  uint32_t len;
};

struct Stat {
  FileType type = FileType::kUnknown;
  uint64_t dev = 0, ino = 0, nlink = 0, size = 0;
  uint64_t atim_ns = 0, mtim_ns = 0, ctim_ns = 0;
};

// A new access or modification time (set_times).
struct Timestamp {
  enum class Kind : uint8_t {
    kOmit,  // unchanged
    kNow,   // the current wall-clock time (needs the wall-clock grant; the fixed clock's time)
    kSet,   // ns since 1970
    kInvalid,  // an ABI's encoding that means nothing (P1: contradictory or unknown flags):
               // kInvalid, reported where the times are applied (after the capability checks)
  };
  Kind kind = Kind::kOmit;
  uint64_t ns = 0;
};

enum class Clock : uint8_t { kRealtime, kMonotonic, kProcessCputime, kThreadCputime };
enum class SeekFrom : uint8_t { kSet, kCur, kEnd };
enum class FileAdvice : uint8_t { kNormal, kSequential, kRandom, kWillNeed, kDontNeed, kNoReuse };

// How resolve_at treats the final component of a path.
enum class Final : uint8_t {
  // The operation acts on the directory entry itself (mkdir, unlink, rmdir, rename, symlink
  // and link's new path): never followed; a trailing slash is passed on to the kernel, whose
  // *at() calls for these never follow their last component either.
  kEntry,
  kNoFollow,  // an ABI's "do not follow symlinks" (P1 lookupflags without SYMLINK_FOLLOW)
  kFollow,    // followed, beneath the directory
};

// A path resolved beneath a directory description. Operations on it are *at() calls on
// where.dir with the final entry never followed by the kernel (docs/security-model.md).
struct PathAt {
  ResolvedPath where;
  bool read_only = false;  // the directory's (OpenDescription::read_only)
  std::string path;        // as the guest wrote it (diagnostics, a new description's name)
  // A name in the /dev preopen: no host entry (where is empty); only stat_at reads it, every
  // other operation on it is kNotCapable.
  Device device = Device::kNone;
  // /dev/fd/N: the description it names (stat_at reports that description's object).
  DescriptionRef fd_target;
  // A name of the virtual root (virtual_root.h): no host entry (where is empty). stat_at and
  // readlink read it; every change is refused as a user's change in a directory of root's
  // (Core::virtual_refusal).
  std::optional<VirtualTree::Found> virt;
  // The directory description it was resolved beneath (a preopen the path led to through the
  // virtual root, or the one it was resolved from); null for a virtual name.
  const OpenDescription* beneath = nullptr;
};

// open_at's request. read/write are the access the new description needs.
struct OpenRequest {
  bool follow = false;
  bool create = false;
  bool exclusive = false;
  bool truncate = false;
  bool directory = false;
  bool read = false;
  bool write = false;
  DescFlags flags;
};

// One directory entry (dir_next). name is valid until the next dir_* call on the description.
struct DirEntry {
  std::string_view name;
  uint64_t ino = 0;
  FileType type = FileType::kUnknown;
  uint64_t next_cookie = 0;  // resumes after this entry (dir_seek)
};

// The thread CPU-time clock guests read on this thread counts from now: the thread goes on to
// serve another caller (the MCP server keeps its call threads, mcp/workers.h), who must not see
// the CPU its earlier callers used. A thread never restarted counts from its creation.
void restart_thread_cpu_clock();

class Core {
 public:
  explicit Core(WasiConfig config);
  Core(const Core&) = delete;
  Core& operator=(const Core&) = delete;

  // Creates the stdio descriptions and opens the preopens (a missing or non-directory path is
  // an error naming it).
  Result<void> init();
  const WasiConfig& config() const { return config_; }
  // From init: stdin, stdout, stderr, then one per WasiConfig::preopens entry, in order, then
  // /dev (WasiConfig::dev_files) and "/" (WasiConfig::virtual_root).
  const DescriptionRef& stdio(int i) const { return stdio_[i]; }
  const std::vector<DescriptionRef>& preopens() const { return preopens_; }
  // From init: one per WasiConfig::inherited_fds entry, in order (a duplicate of the
  // embedder's regular file, or the null device); read_only unless it was given for writing.
  // Where the guest finds them is the binding's (P1: at their numbers, host.cc).
  const std::vector<DescriptionRef>& inherited() const { return inherited_; }

  // --- the running host call -----------------------------------------------------------------
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
  // Charges the fuel for `bytes` moved; false (and the termination set) when the budget is spent.
  bool charge_bytes(uint64_t bytes);
  // True when a long operation may do its next chunk: no deadline, interrupt or spent fuel
  // (otherwise the termination is set and the operation must return).
  bool may_continue();
  // A limit reached while inside the host (the output cap, the deadline or an interrupt while
  // blocked, the fuel): the run must end. The binding turns it into HostCallResult::fail so the
  // guest cannot ignore it; operations that see it return kInterrupted.
  bool terminating() const { return termination_.has_value(); }
  std::optional<Error> take_termination() {
    auto t = std::move(termination_);
    termination_.reset();
    return t;
  }
  // A host call that ends the run as the guest's own exit would (a write into a closed pipe
  // under WasiConfig::exit_on_broken_pipe: the status SIGPIPE gives) records the status here;
  // the binding turns it into HostCallResult::exit, the path proc_exit takes.
  std::optional<int32_t> take_exit() {
    auto code = exit_status_;
    exit_status_.reset();
    return code;
  }
  static constexpr int32_t kBrokenPipeExitStatus = 128 + 13;  // 128 + SIGPIPE

  // Waits until host_fd is readable, the timeout (ns, <0 = none) passes, or the run must end
  // (deadline/interrupt: sets the termination). Returns true if readable.
  bool wait_readable(int host_fd, int64_t timeout_ns);
  // The same for any poll(2) events (POLLOUT: a pipe with room).
  bool wait_ready(int host_fd, short events, int64_t timeout_ns);
  // Sleeps ns, waking early for deadline/interrupt (sets the termination).
  void sleep_bounded(int64_t ns);

  // --- the write budget (wasmcap/wasi.h WriteBudget) -----------------------------------------
  // WasiConfig::write_budget when the embedder shares one, else this run's own. Charged by
  // writes and pwrites past a file's end (file_io), set_size and allocate growth, and every
  // entry created (open_at with create, create_directory, symlink, link); a refusal is
  // kInsufficientSpace.
  const WriteBudget& write_budget() const { return *budget_; }

  // --- args, environment ---------------------------------------------------------------------
  const std::vector<std::string>& args() const { return config_.args; }
  std::vector<std::string> environ_strings() const;  // "KEY=value", in config order

  // --- clocks (docs/wasi-support.md#clocks-and-random) ----------------------------------------
  // kNotCapable when the clock is not granted.
  Errc check_clock(Clock c) const;
  Outcome<uint64_t> clock_resolution(Clock c) const;
  // The current reading of a granted clock. Under a fixed clock, `advance` moves the virtual
  // time on by the step after reading (a guest's read); a poll's own read does not advance.
  Outcome<uint64_t> clock_now(Clock c, bool advance);
  bool clock_is_fixed() const { return config_.clock.kind == ClockSource::Kind::kFixed; }
  // Fixed clock: a wait of timeout_ns ends at once and moves the virtual time by it.
  void advance_virtual(uint64_t ns) { virtual_ns_ = add_sat(virtual_ns_, ns); }
  // Under a fixed clock: true when a wait of `timeout_ns` (saturated at INT64_MAX) never ends:
  // it then blocks until the deadline or interrupt instead of moving the virtual clock.
  bool fixed_wait_never_ends(int64_t timeout_ns) const;

  // --- random ----------------------------------------------------------------------------------
  // kNotCapable when random is not granted (refused before anything else is looked at).
  Errc check_random() const {
    return config_.random.kind == RandomSource::Kind::kDeny ? Errc::kNotCapable : Errc::kOk;
  }
  // Fills p[0..n) from the granted source: kNotCapable when denied, kInvalid beyond
  // WasiConfig::max_io_bytes (it cannot return less than asked), kInterrupted when the run must
  // end between two chunks.
  Errc random_fill(uint8_t* p, size_t n);

  // --- reading and writing (core.cc) ----------------------------------------------------------
  // At the current position: stdin (waits, bounded by the run), stdout/stderr (through the
  // sink or host fd, under the output cap), files (in chunks). kIsDirectory on a directory.
  Outcome<uint64_t> read(OpenDescription& d, const std::vector<IoSlice>& slices);
  Outcome<uint64_t> write(OpenDescription& d, const std::vector<IoSlice>& slices);
  // At an offset (files only): check_positional first (kIsDirectory, kInvalidSeek for
  // streams, kInvalid past INT64_MAX).
  Errc check_positional(const OpenDescription& d, uint64_t offset) const;
  Outcome<uint64_t> pread(OpenDescription& d, const std::vector<IoSlice>& slices,
                          uint64_t offset);
  Outcome<uint64_t> pwrite(OpenDescription& d, const std::vector<IoSlice>& slices,
                           uint64_t offset);
  // Bytes a read at the current position would get now (a regular file's size minus the
  // position; 0 otherwise): readiness reports.
  uint64_t readable_now(const OpenDescription& d) const;

  // --- descriptions (files.cc) -----------------------------------------------------------------
  Outcome<uint64_t> seek(OpenDescription& d, int64_t offset, SeekFrom whence);
  // stdio: only the type (the host's stdio objects stay hidden).
  Outcome<Stat> stat(const OpenDescription& d) const;
  Errc set_size(OpenDescription& d, uint64_t size);
  Errc set_times(OpenDescription& d, Timestamp atime, Timestamp mtime);
  Errc advise(OpenDescription& d, uint64_t offset, uint64_t len, FileAdvice advice);
  Errc allocate(OpenDescription& d, uint64_t offset, uint64_t len);
  Errc sync(OpenDescription& d, bool data_only);
  // append and nonblock change; the sync flags cannot change on Linux (kUnsupported).
  Errc set_flags(OpenDescription& d, DescFlags flags);

  // kNotDirectory unless d is a directory backed by a host directory.
  static Errc check_listable(const OpenDescription& d);
  // Directory entries. Cookies are positions: the entry at cookie c (0-based) has
  // next_cookie c + 1. dir_seek positions the stream at `cookie` (a rewind and a metered,
  // interruptible skip unless it is there already; past the end is the end).
  Errc dir_seek(OpenDescription& d, uint64_t cookie);
  // The next entry, or false at the end. dir_unread puts the entry just read back.
  Outcome<bool> dir_next(OpenDescription& d, DirEntry* out);
  void dir_unread(OpenDescription& d);

  // --- paths beneath a directory (files.cc) ----------------------------------------------------
  // kNotDirectory unless d is a directory; kNotCapable when no host directory backs it (a
  // denied preopen).
  static Errc check_dir(const OpenDescription& d);
  // check_dir, then the path resolved beneath d (path.h resolve_path). For kNoFollow and
  // kFollow a trailing slash makes the final symlink be followed (POSIX: the path names a
  // directory), by the resolver, not by the kernel.
  Outcome<PathAt> resolve_at(const OpenDescription& d, std::string_view path, Final final);
  // Opens a regular file or directory beneath dir: a new description, read_only as dir (a
  // virtual directory: a description of its node, read only).
  Outcome<DescriptionRef> open_at(const OpenDescription& dir, std::string_view path,
                                  const OpenRequest& req);
  Outcome<Stat> stat_at(const PathAt& p) const;
  Errc set_times_at(const PathAt& p, Timestamp atime, Timestamp mtime);
  Errc create_directory(const PathAt& p);
  Errc remove_directory(const PathAt& p);
  Errc unlink_file(const PathAt& p);
  Errc rename(const PathAt& from, const PathAt& to);
  Errc link(const PathAt& from, const PathAt& to);
  // `at` was resolved beneath `dir` (an absolute target is read against dir's preopen name).
  Errc symlink(std::string_view target, const OpenDescription& dir, const PathAt& at);
  Outcome<std::string> readlink(const PathAt& p) const;

 private:
  bool must_stop();
  // A write to stdout/stderr failed with EPIPE: true (and the exit status set) under
  // exit_on_broken_pipe.
  bool broken_pipe();
  Outcome<uint64_t> write_output(OpenDescription::Kind kind, const std::vector<IoSlice>& iovs);
  // Reads/writes a file in chunks of kIoChunkBytes (see charge_bytes). offset < 0: at the
  // current position. `appends`: the description appends (O_APPEND: the kernel writes at the
  // end whatever the offset). Returns the host errno of the first failed chunk (0 if none) and
  // the bytes moved in *done; a short transfer ends the loop. A write is charged to the write
  // budget chunk by chunk (WriteBudget::reserve_write): what fits is written, ENOSPC when
  // nothing does.
  int file_io(int host_fd, bool write, const std::vector<IoSlice>& slices, int64_t offset,
              bool append, bool appends, uint64_t* done);
  // All of a file's growth to `end` bytes (set_size, allocate), or kInsufficientSpace; the
  // reservation in *reserved, to release if the call then fails.
  Errc reserve_growth(int host_fd, uint64_t end, uint64_t* reserved) {
    return errc_from_host(budget_->reserve_growth(host_fd, end, reserved));
  }
  // One new entry, or kInsufficientSpace.
  Errc reserve_entry() { return budget_->take_entry() ? Errc::kOk : Errc::kInsufficientSpace; }
  Outcome<uint64_t> file_transfer(OpenDescription& d, bool write,
                                  const std::vector<IoSlice>& slices, int64_t offset,
                                  bool append);
  // The times utimensat takes for (atime, mtime): kInvalid for Timestamp::kInvalid; kNow is
  // now_for_timestamps().
  Errc host_times(Timestamp atime, Timestamp mtime, timespec ts[2]);
  // UTIME_NOW under the host clock, the virtual wall clock under a fixed one (one read),
  // kNotCapable without the wall clock (a file's timestamp would otherwise leak the real time
  // the guest was not granted).
  Errc now_for_timestamps(timespec* out);
  // kEscape when the entry may not be moved or linked (a climbing symlink, or, whole_tree, a
  // directory holding one); see path.h.
  Errc check_movable(int dir, const std::string& name, bool whole_tree);
  void seeded_random(uint8_t* p, size_t n);
  // read/write of a /dev device (description.h Device).
  Outcome<uint64_t> device_io(OpenDescription& d, bool write, const std::vector<IoSlice>& slices);
  // The virtual root's view of `path` from `d` (virtual_root.h): when d is a virtual directory,
  // or a preopen and the path's first component (after `.`) is `..`; nullopt otherwise (and
  // without a virtual root): the path is resolved beneath d.
  std::optional<VirtualTree::Found> virtual_lookup(const OpenDescription& d,
                                                   std::string_view path) const;
  // Where `path` from `d` leads, through the virtual root as often as it passes there: a
  // virtual name (`virt`), or `path` beneath the directory description `dir`.
  struct Route {
    const OpenDescription* dir;
    std::string path;
    std::optional<VirtualTree::Found> virt;
  };
  Route route(const OpenDescription& d, std::string_view path) const;
  // What a change to a virtual name gets (kOk when p is not one): kExist for creating a name
  // that exists, kNoEntry under a missing directory, kNotDirectory beneath a command, kAccess
  // otherwise (the EACCES a user gets in /bin or /).
  static Errc virtual_refusal(const PathAt& p, bool creates);
  Outcome<DescriptionRef> open_virtual(const VirtualTree::Found& v, const OpenRequest& req);
  Stat virtual_stat(const VirtualNode& node) const;
  // open_at beneath the /dev preopen.
  Outcome<DescriptionRef> open_device(std::string_view path, const OpenRequest& req);
  // /dev/fd/N (N in decimal): the description the run started with at N (stdio, or an
  // inherited descriptor), shared as a dup shares it (BSD's and macOS's /dev/fd); null if none.
  DescriptionRef dev_fd(std::string_view path) const;
  // A pipe or stdin: waits in bounded steps (the deadline and interrupt still end the run).
  Outcome<uint64_t> stream_read(int host_fd, const std::vector<IoSlice>& slices);
  // A pipe to write (an inherited one, `nonblocking` when host_fd is our own non-blocking
  // description of it): write_pipe in chunks, as stdout's.
  Outcome<uint64_t> stream_write(int host_fd, bool nonblocking, const std::vector<IoSlice>& slices);
  // The one way a pipe is written (stdout, stderr, an inherited pipe), so that a reader that
  // stops reading cannot hold the run past its deadline (a blocked write(2) sees none):
  // [p, p + n) into host_fd, which, `nonblocking`, is our own non-blocking description of the
  // pipe (nonblocking_writer): written until EAGAIN, then waited on in the deadline's steps;
  // otherwise each write waits for room first and writes at most PIPE_BUF, which a pipe with
  // room takes without blocking. Returns 0 when all is written, the errno of a failed write,
  // or kPipeStopped when the run must end; *done is what was written either way.
  static constexpr int kPipeStopped = -1;
  int write_pipe(int host_fd, bool nonblocking, const uint8_t* p, uint64_t n, uint64_t* done);
  // A non-blocking open description of our own of the pipe host_fd, reopened through
  // /proc/self/fd (the embedder's description keeps its flags); none without /proc.
  static platform::UniqueFd nonblocking_writer(int host_fd);

  WasiConfig config_;
  DescriptionRef stdio_[3];
  std::vector<DescriptionRef> preopens_;
  // WasiConfig::virtual_root: the tree over preopens_ (mount i is preopens_[i]); null without.
  std::shared_ptr<const VirtualTree> tree_;
  std::vector<DescriptionRef> inherited_;
  std::chrono::steady_clock::time_point deadline_ = std::chrono::steady_clock::time_point::max();
  uint64_t output_bytes_ = 0;
  // Stdout and stderr when the host descriptor behind them is a pipe (init()): written by
  // write_pipe, through our own non-blocking description of it when there is one.
  struct OutPipe {
    bool pipe = false;
    platform::UniqueFd nonblocking;
  };
  OutPipe out_pipe_[2];  // stdout, stderr
  const std::atomic<bool>* interrupt_ = nullptr;
  HostContext* ctx_ = nullptr;  // the running call's context (fuel), null between calls
  std::optional<Error> termination_;
  std::optional<int32_t> exit_status_;  // see take_exit
  bool output_limit_hit_ = false;
  std::shared_ptr<WriteBudget> budget_;  // never null
  // Fixed clock: ns of virtual time since the run started (saturating).
  uint64_t virtual_ns_ = 0;
  // Seeded random: the ChaCha20 key, the next block's counter and the unread rest of the
  // current block.
  uint8_t seed_key_[32] = {};
  uint64_t seed_block_ = 0;
  uint8_t seed_buf_[64] = {};
  size_t seed_buf_pos_ = 64;
};

}  // namespace wasmcap::wasi

// WASI Preview 1 host configuration. Secure defaults: no args beyond argv[0], no environment,
// no preopened directories, stdin empty. Nothing from the host process leaks in unless the
// embedder puts it here explicitly.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
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

// Where the guest's clocks come from (docs/wasi-support.md#clocks-and-random). The default is the
// host's real clocks (a plain WasiConfig is the WASI baseline); a plan sets what its grants say.
struct ClockSource {
  enum class Kind : uint8_t {
    kHost,   // the host's clocks
    kFixed,  // a virtual clock: wall = epoch_ns + t, monotonic = t; t starts at 0 and advances
             // by step_ns after each read and by the timeout of each poll_oneoff clock wait
    kDeny,   // every clock read fails with ENOTCAPABLE
  };
  Kind kind = Kind::kHost;
  uint64_t epoch_ns = 0;       // kFixed: the wall clock's first reading (ns since 1970, UTC)
  uint64_t step_ns = 1000;     // kFixed: advance per read (0: frozen)
};
// The largest fixed-clock step: one hour per read.
constexpr uint64_t kMaxClockStepNs = 3600ull * 1000000000ull;

// Where random_get's bytes come from.
struct RandomSource {
  enum class Kind : uint8_t {
    kHost,  // the kernel's CSPRNG (getrandom)
    kSeed,  // ChaCha20 keystream keyed by SHA-256("wasmcap-random-v1:" + decimal seed), nonce 0
    kDeny,  // random_get fails with ENOTCAPABLE
  };
  Kind kind = Kind::kHost;
  uint64_t seed = 0;
};

// Receives guest output. Returns false to signal the sink refuses more (the guest sees EIO). A
// sink that fails because its reader is gone sets errno to EPIPE before returning false (see
// WasiConfig::exit_on_broken_pipe), one whose file is full (a write budget) ENOSPC, which the
// guest sees; errno is cleared before every call.
using OutputSink = std::function<bool(const uint8_t* data, size_t len)>;

// The write budget (docs/security-model.md, "Write budget"): how much a guest's writes may add
// to the host's filesystems. Two bounds: bytes, by which files grow beyond their current size
// (writes past the end, a pwrite far past it counting the whole extension, set-size growth,
// allocate), and entries created (files, directories, symlinks, hard links), each of which
// also costs kEntryBytes of the bytes. Overwriting existing bytes is free. Nothing is given
// back when files shrink or go away: the sandbox cannot see what the host really frees (another
// hard link, a descriptor still open, a workspace's shared copy), so the budget bounds the total
// growth of a run, or of everything sharing it, not the current usage. A refused request is
// ENOSPC, as on a full disk; a write writes what fits first.
//
// Thread-safe: one budget may be shared by several runs at once (a shell session's pipeline
// stages and its own redirections, WasiConfig::write_budget).
class WriteBudget {
 public:
  // What one new entry costs of the bytes (a filesystem block: an empty file still takes an
  // inode and a directory entry).
  static constexpr uint64_t kEntryBytes = 4096;
  // UINT64_MAX for either: unbounded.
  WriteBudget(uint64_t max_bytes, uint64_t max_entries)
      : max_bytes_(max_bytes), max_entries_(max_entries) {}
  WriteBudget(const WriteBudget&) = delete;
  WriteBudget& operator=(const WriteBudget&) = delete;

  // Up to `want` bytes of growth: returns the bytes granted (want when they fit, fewer when the
  // budget is nearly spent, 0 when it is spent). A shortfall counts as a refusal.
  uint64_t take_bytes(uint64_t want);
  // All of `want`, or nothing (false, a refusal).
  bool take_all_bytes(uint64_t want);
  // One new entry: one of max_entries and kEntryBytes of the bytes, or nothing (false).
  bool take_entry();
  // Returns a reservation that went unused (a write that moved fewer bytes than it reserved, a
  // create that failed): never space freed by a shrink or an unlink (see above).
  void release_bytes(uint64_t n) { bytes_.fetch_sub(n, std::memory_order_relaxed); }
  void release_entry() {
    entries_.fetch_sub(1, std::memory_order_relaxed);
    release_bytes(kEntryBytes);
  }

  // The growth of a file, the one rule for every writer (the WASI host's writes, set-size and
  // allocate; a shell's redirections): bytes beyond the file's current size, a hole before the
  // write included. FileWrite is a write of up to `want` bytes to the file `fd` at `at` (< 0:
  // its current position; `appends`: its end, as O_APPEND writes): `may` bytes of it fit (what
  // fits is written, as on a full disk), 0 with `err` ENOSPC when none do (or fstat's or
  // lseek's errno). settle_write then keeps the growth the write made and returns the rest of
  // the reservation (written < 0: the write failed).
  struct FileWrite {
    uint64_t may = 0;
    int err = 0;
    uint64_t reserved = 0, start = 0, size = 0;
  };
  FileWrite reserve_write(int fd, int64_t at, bool appends, uint64_t want);
  void settle_write(const FileWrite& w, int64_t written);
  // All of the growth that makes `fd` `end` bytes long (set-size, allocate), or nothing:
  // 0, ENOSPC or fstat's errno; the reservation in *reserved (0 when the file does not grow),
  // to release_bytes if the call then fails.
  int reserve_growth(int fd, uint64_t end, uint64_t* reserved);

  uint64_t max_bytes() const { return max_bytes_; }
  uint64_t max_entries() const { return max_entries_; }
  uint64_t bytes_used() const { return bytes_.load(std::memory_order_relaxed); }
  uint64_t entries_used() const { return entries_.load(std::memory_order_relaxed); }
  // Requests refused so far (whole or in part).
  uint64_t refusals() const { return refusals_.load(std::memory_order_relaxed); }

 private:
  static uint64_t take_upto(std::atomic<uint64_t>& used, uint64_t max, uint64_t want);

  const uint64_t max_bytes_;
  const uint64_t max_entries_;
  std::atomic<uint64_t> bytes_{0};
  std::atomic<uint64_t> entries_{0};
  std::atomic<uint64_t> refusals_{0};
};

// The defaults of WasiConfig::max_write_bytes / max_write_entries (and so of every front end:
// docs/host-config.md, "limits").
constexpr uint64_t kDefaultMaxWriteBytes = 4ull << 30;
constexpr uint64_t kDefaultMaxWriteEntries = 100000;

struct WasiConfig {
  std::vector<std::string> args;  // argv, including argv[0]
  std::vector<std::pair<std::string, std::string>> env;
  std::vector<Preopen> preopens;

  int stdin_fd = -1;   // host fd read for guest fd 0; -1: guest reads EOF
  int stdout_fd = 1;   // host fd for guest fd 1 unless stdout_sink is set; -1: discard
  int stderr_fd = 2;   // host fd for guest fd 2 unless stderr_sink is set; -1: discard
  OutputSink stdout_sink;
  OutputSink stderr_sink;
  // With a sink: the host fd it writes to, if there is one (-1: none). Only its type is used:
  // what the guest's fd_fdstat_get reports for fd 1 / 2 (a terminal there makes the guest's
  // isatty() true, so `ls` prints columns to a terminal and not into a pipe).
  int stdout_sink_fd = -1;
  int stderr_sink_fd = -1;
  // Total bytes the guest may write to stdout+stderr; beyond it writes fail with EIO and the
  // run ends with output_limit. 0 = unlimited.
  uint64_t max_output_bytes = 0;
  // A write to fd 1 or 2 or an inherited pipe whose reader is gone (the host fd's write, or
  // the sink, fails with EPIPE) ends the run as SIGPIPE would end a POSIX process: exit status
  // 141 (128 + 13), the guest gets no error to print. Off: the guest sees EPIPE (EIO from a sink) and carries on,
  // which is what `wasmcap run` does. `wasmcap sh` sets it for the tools it runs, so
  // `yes | head -1` ends quietly with 141, as in bash.
  bool exit_on_broken_pipe = false;

  // Descriptors beyond stdio that the embedder hands the guest at numbers it chooses (a shell's
  // `tool 3<file`, `tool 4>out`): each regular file's host fd is duplicated when the host
  // starts (the caller keeps and closes its own; the two share the file offset, as a child
  // process shares its parent's); host_fd -1 is the null device (reads see EOF, writes are
  // discarded); a pipe is passed for reading or for writing, not both (a shell's `<(list)` and
  // `>(list)`: read and written as stdin and stdout are, waiting in steps the deadline ends).
  // The guest's rights are the access given (read, write); write rights include truncating and
  // setting times, so a read-only one cannot change the file.
  // Numbering (docs/wasi-support.md "Inherited descriptors"): each goes at its guest_fd, every
  // other number up to the highest stays closed (EBADF), and the preopens follow the highest,
  // in order (3, 4, ... when none is inherited). A guest's libc finds its preopens by scanning
  // fd_prestat_get from 3 until EBADF, so each number below the first preopen, open or closed,
  // answers fd_prestat_get with success and a preopen type that is not a directory (1), which
  // wasi-libc and Go skip.
  struct InheritedFd {
    uint32_t guest_fd = 0;  // 3 .. max_fds-1; two with one number are refused
    int host_fd = -1;       // a regular file's descriptor, or -1 for the null device
    bool read = false;
    bool write = false;
  };
  std::vector<InheritedFd> inherited_fds;

  // The write budget of this run (WriteBudget): at most max_write_bytes of file growth and
  // max_write_entries new entries (UINT64_MAX: unbounded). Beyond them the call fails with
  // ENOSPC. write_budget, when set, is used instead: one budget shared with other runs (a shell
  // session's tools and redirections), whose own bounds apply.
  uint64_t max_write_bytes = kDefaultMaxWriteBytes;
  uint64_t max_write_entries = kDefaultMaxWriteEntries;
  std::shared_ptr<WriteBudget> write_budget;

  uint32_t max_fds = 1024;  // open descriptors per instance (incl. stdio and preopens)
  // A virtual, read-only /dev preopen after the others (docs/wasi-support.md "/dev"): null,
  // zero, urandom and random (the run's random source: a seeded run's stream, refused when
  // random is denied), and stdin, stdout, stderr (the run's own streams). No host object is
  // behind it; nothing can be created, removed or listed in it. `wasmcap sh` turns it on for
  // its tools; off by default, so a run's descriptor table is what its preopens make it.
  bool dev_files = false;
  // A virtual root (docs/wasi-support.md "The virtual root"): one more preopen, "/", after the
  // others and /dev, unless a preopen is "/" already. Its directories are the preopens' paths
  // and the directories leading to them, and /bin, /usr/bin, /usr/local/bin, which list
  // `commands` (sorted, unique; null: none) as files that cannot be opened. Nothing in it can
  // be changed, and no host object is behind it. With it, a `..` at the top of a preopen leads
  // to its parent there (`ls ..` in /work lists "/", `/tmp/../work/f` is /work's f).
  // `wasmcap sh` turns it on for its tools; off by default.
  bool virtual_root = false;
  std::shared_ptr<const std::vector<std::string>> commands;
  // Upper bound for one fd_read/fd_write/readdir transfer, to bound host memory use.
  uint32_t max_io_bytes = 16u << 20;

  // Clocks and randomness. `clock_wall` covers WASI realtime and the *_NOW flags of
  // fd/path_filestat_set_times; `clock_monotonic` covers monotonic, process_cputime_id and
  // thread_cputime_id. A clock that is off (or a kDeny source) answers ENOTCAPABLE.
  ClockSource clock;
  bool clock_wall = true;
  bool clock_monotonic = true;
  RandomSource random;
};

// "host" | "deny" | "fixed=YYYY-MM-DDTHH:MM:SS[.fraction]Z[,step=N(ns|us|ms|s)]" (UTC, years
// 1970-2200; step at most 1 h, default 1 us). invalid_argument naming the problem otherwise.
Result<ClockSource> parse_clock_source(std::string_view spec);
// "host" | "deny" | "seed=N" (N: decimal, 0 .. 2^64-1).
Result<RandomSource> parse_random_source(std::string_view spec);
// The canonical spelling of a source, as parse_*_source accepts it ("fixed=2026-01-01T00:00:00Z,step=1us").
std::string clock_source_string(const ClockSource& c);
std::string random_source_string(const RandomSource& r);

class WasiHost;

// Creates a WASI host. Opens the preopened directories now (a missing or non-directory path
// is an error naming it).
Result<std::shared_ptr<WasiHost>> make_wasi_host(WasiConfig config);

// Binds every function of wasi_snapshot_preview1 into `table`, served by `host`.
void register_wasi(const std::shared_ptr<WasiHost>& host, HostFuncTable& table);


// The names of all wasi_snapshot_preview1 functions, in witx order.
const std::vector<std::string>& wasi_function_names();

}  // namespace wasmcap

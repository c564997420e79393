// The WASI host's capability layer (core.h): set-up, the running call's limits, waiting,
// args and environment, clocks, random, and reading and writing. Operations on descriptions
// and paths are in files.cc.
#include "wasi/core.h"

#include "common/failpoint.h"

#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <sodium.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <thread>

namespace wasmcap::wasi {

using Kind = OpenDescription::Kind;

Core::Core(WasiConfig config)
    : config_(std::move(config)),
      budget_(config_.write_budget != nullptr
                  ? config_.write_budget
                  : std::make_shared<WriteBudget>(config_.max_write_bytes,
                                                  config_.max_write_entries)) {
  if (config_.random.kind == RandomSource::Kind::kSeed) {
    // The documented stream (docs/wasi-support.md#random): key = SHA-256 of the ASCII text
    // "wasmcap-random-v1:" followed by the seed in decimal; ChaCha20 (the original 64-bit-nonce
    // variant, libsodium's crypto_stream_chacha20) with an all-zero nonce, block counter from 0.
    // libsodium: a reviewed ChaCha20 and SHA-256 instead of our own. sodium_init() is
    // idempotent and thread-safe; its failure (no entropy source) does not affect these two
    // deterministic primitives, which need no initialisation.
    if (sodium_init() < 0) {
      // Only the library's own random source failed to initialise; see above.
    }
    std::string text = "wasmcap-random-v1:" + std::to_string(config_.random.seed);
    crypto_hash_sha256(seed_key_, reinterpret_cast<const unsigned char*>(text.data()), text.size());
  }
}

namespace {

// What the guest sees of a stdio stream (stat, P1 fd_fdstat_get): the type of the host
// descriptor behind it. Only a terminal is a character device: wasi-libc's isatty() is "a
// character device without seek or tell rights" (stdio has neither), so a guest must not see one
// for a file or a pipe (`python3 - < FILE` would start its interactive prompt). A regular file
// is a regular file, a socket a socket; anything else (a pipe, /dev/null and other devices, no
// descriptor at all) is of unknown type, as wasmtime reports a stdio stream that is not a
// terminal. Only the type is shown: the host object's metadata stays hidden.
FileType stdio_type(int host_fd) {
  if (host_fd < 0) return FileType::kUnknown;
  if (::isatty(host_fd) == 1) return FileType::kCharacterDevice;
  struct stat st {};
  if (::fstat(host_fd, &st) != 0) return FileType::kUnknown;
  if (S_ISREG(st.st_mode)) return FileType::kRegularFile;
  if (S_ISSOCK(st.st_mode)) return FileType::kSocket;
  return FileType::kUnknown;
}

}  // namespace

Result<void> Core::init() {
  const int out_fd = config_.stdout_sink ? config_.stdout_sink_fd : config_.stdout_fd;
  const int err_fd = config_.stderr_sink ? config_.stderr_sink_fd : config_.stderr_fd;
  stdio_[0] = std::make_shared<OpenDescription>(Kind::kStdin, platform::UniqueFd(),
                                                stdio_type(config_.stdin_fd));
  stdio_[1] = std::make_shared<OpenDescription>(Kind::kStdout, platform::UniqueFd(),
                                                stdio_type(out_fd));
  stdio_[2] = std::make_shared<OpenDescription>(Kind::kStderr, platform::UniqueFd(),
                                                stdio_type(err_fd));
  const int out_fds[2] = {config_.stdout_sink ? -1 : config_.stdout_fd,
                          config_.stderr_sink ? -1 : config_.stderr_fd};
  for (int k = 0; k < 2; ++k) {
    struct stat st {};
    if (out_fds[k] < 0 || ::fstat(out_fds[k], &st) != 0 || !S_ISFIFO(st.st_mode)) continue;
    out_pipe_[k].pipe = true;
    out_pipe_[k].nonblocking = nonblocking_writer(out_fds[k]);
  }
  // Descriptors in use: stdio, then the preopens (WasiConfig::max_fds counts them all).
  const size_t kStdio = 3;
  for (const auto& p : config_.preopens) {
    if (p.guest_path.empty()) {
      return make_error(ErrorCode::kInvalidArgument,
                        "preopen of '" + p.host_path + "' has an empty guest path");
    }
    platform::UniqueFd fd;
    if (!p.denied) {
      fd.reset(::open(p.host_path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
      if (!fd.valid()) {
        int err = errno;
        return make_error(err == ENOENT ? ErrorCode::kNotFound : ErrorCode::kIo,
                          "cannot preopen directory '" + p.host_path + "': " + strerror(err) +
                              (err == ENOTDIR ? " (it is not a directory)" : ""));
      }
    }
    if (kStdio + preopens_.size() >= config_.max_fds) {
      return make_error(ErrorCode::kInvalidArgument, "more preopens than max_fds allows");
    }
    // A denied preopen (wasmcap run --degrade): the plugin asked for this directory and was
    // not granted it. It still finds the name (so it fails where it uses it, not at startup),
    // but with no host directory every operation on it is kNotCapable (check_dir).
    auto d = std::make_shared<OpenDescription>(Kind::kDir, std::move(fd), FileType::kDirectory);
    d->read_only = p.read_only || p.denied;
    d->preopen_name = p.guest_path;
    d->guest_path = p.guest_path;
    preopens_.push_back(std::move(d));
  }
  if (config_.dev_files) {
    // The virtual /dev (WasiConfig::dev_files): no host directory; open_at serves its devices.
    if (kStdio + preopens_.size() >= config_.max_fds) {
      return make_error(ErrorCode::kInvalidArgument, "more preopens than max_fds allows");
    }
    auto d = std::make_shared<OpenDescription>(Kind::kDir, platform::UniqueFd(),
                                               FileType::kDirectory);
    d->dev_dir = true;
    d->preopen_name = std::string(kDevPath);
    d->guest_path = std::string(kDevPath);
    preopens_.push_back(std::move(d));
  }
  if (config_.virtual_root) {
    // The virtual root (WasiConfig::virtual_root, virtual_root.h) over the preopens so far:
    // a "/" preopen after them, unless one of them is "/" already (then only its `..` rule).
    std::vector<std::string_view> mounts;
    mounts.reserve(preopens_.size());
    for (const auto& p : preopens_) mounts.emplace_back(p->preopen_name);
    tree_ = std::make_shared<const VirtualTree>(mounts, config_.commands);
    if (!tree_->root_is_mount()) {
      if (kStdio + preopens_.size() >= config_.max_fds) {
        return make_error(ErrorCode::kInvalidArgument, "more preopens than max_fds allows");
      }
      auto d = std::make_shared<OpenDescription>(Kind::kDir, platform::UniqueFd(),
                                                 FileType::kDirectory);
      d->vnode = std::shared_ptr<const VirtualNode>(tree_, &tree_->root());  // (open_virtual)
      d->preopen_name = "/";
      d->guest_path = "/";
      preopens_.push_back(std::move(d));
    }
  }
  // Descriptors the embedder passes (wasi.h WasiConfig::inherited_fds): each regular file
  // duplicated (one open file, one offset, as a child shares its parent's), -1 the null device.
  for (const auto& in : config_.inherited_fds) {
    const std::string name = "inherited descriptor " + std::to_string(in.guest_fd);
    platform::UniqueFd fd(in.host_fd < 0 ? ::open("/dev/null", O_RDWR | O_CLOEXEC)
                                         : ::fcntl(in.host_fd, F_DUPFD_CLOEXEC, 0));
    if (!fd.valid()) {
      return make_error(ErrorCode::kIo, "cannot pass " + name + ": " + strerror(errno));
    }
    struct stat st {};
    if (in.host_fd >= 0 &&
        (::fstat(fd.get(), &st) != 0 ||
         !(S_ISREG(st.st_mode) || (S_ISFIFO(st.st_mode) && in.read != in.write)))) {
      return make_error(ErrorCode::kInvalidArgument,
                        name + " is not a regular file (nor a pipe passed for reading or for "
                               "writing)");
    }
    int fl = in.host_fd >= 0 ? ::fcntl(fd.get(), F_GETFL) : 0;
    auto d = std::make_shared<OpenDescription>(
        Kind::kFile, std::move(fd),
        in.host_fd < 0           ? FileType::kCharacterDevice
        : S_ISFIFO(st.st_mode) ? FileType::kFifo
                               : FileType::kRegularFile);
    d->flags.append = fl >= 0 && (fl & O_APPEND) != 0;
    d->read_only = !in.write;
    if (S_ISFIFO(st.st_mode) && in.write) d->pipe_writer = nonblocking_writer(d->fd.get());
    d->guest_path = "<" + name + ">";
    inherited_.push_back(std::move(d));
  }
  return {};
}

// --- the running call ------------------------------------------------------------------------

// Longest uninterrupted wait inside a host call: bounds how late an interrupt is noticed.
constexpr int64_t kWaitStepNs = 20'000'000;

bool Core::must_stop() {
  if (termination_) return true;
  if (interrupt_ != nullptr && interrupt_->load(std::memory_order_relaxed)) {
    termination_ = Error(ErrorCode::kDeadlineExceeded, "execution interrupted by the host");
    return true;
  }
  if (deadline_ != std::chrono::steady_clock::time_point::max() &&
      std::chrono::steady_clock::now() >= deadline_) {
    termination_ = Error(ErrorCode::kDeadlineExceeded,
                         "wall-clock deadline exceeded while the guest was blocked; raise "
                         "--timeout-ms");
    return true;
  }
  return false;
}

bool Core::charge_bytes(uint64_t bytes) {
  if (ctx_ == nullptr) return true;  // called outside an engine call (unit tests): unmetered
  uint64_t units = fuel_for_bytes(bytes);
  if (ctx_->charge_fuel(units)) return true;
  if (!termination_) {
    termination_ = Error(ErrorCode::kFuelExhausted,
                         "fuel exhausted inside a host call (host work costs 1 unit per " +
                             std::to_string(kHostFuelBytesPerUnit) +
                             " bytes moved); raise --fuel");
  }
  return false;
}

bool Core::may_continue() {
  if (must_stop()) return false;
  if (ctx_ != nullptr && ctx_->fuel_spent()) {
    charge_bytes(0);  // records the termination
    return false;
  }
  return true;
}

namespace {

// write(2) to a pipe without SIGPIPE: a guest writing after its reader left must not kill an
// embedder that has not ignored the signal (the library cannot assume it did; the CLI does).
// The signal is blocked in this thread around the write and, on EPIPE, the one it raised
// (thread-directed, so pending here) is taken; the error stays in errno.
ssize_t write_quietly(int fd, const void* p, size_t n) {
  sigset_t pipe_set, old;
  sigemptyset(&pipe_set);
  sigaddset(&pipe_set, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipe_set, &old);
  ssize_t w = ::write(fd, p, n);
  int err = errno;
  if (w < 0 && err == EPIPE && !sigismember(&old, SIGPIPE)) {
    const timespec zero{0, 0};
    sigtimedwait(&pipe_set, nullptr, &zero);
  }
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  errno = err;
  return w;
}

// now + ns without overflow: a guest may ask for INT64_MAX ns (a poll), and steady_clock's
// time_point is int64 ns since boot, so a plain sum would wrap to the past and the wait would
// end at once. Saturates at time_point::max() ("never").
std::chrono::steady_clock::time_point after_ns(int64_t ns) {
  using Clock = std::chrono::steady_clock;
  auto now = Clock::now();
  if (ns <= 0) return now;
  if (ns >= (Clock::time_point::max() - now).count()) return Clock::time_point::max();
  return now + std::chrono::nanoseconds(ns);
}

}  // namespace

bool Core::wait_readable(int host_fd, int64_t timeout_ns) {
  return wait_ready(host_fd, POLLIN, timeout_ns);
}

bool Core::wait_ready(int host_fd, short events, int64_t timeout_ns) {
  auto end = timeout_ns < 0 ? std::chrono::steady_clock::time_point::max() : after_ns(timeout_ns);
  for (;;) {
    if (must_stop()) return false;
    auto now = std::chrono::steady_clock::now();
    if (now >= end) return false;
    int64_t step = kWaitStepNs;
    if (end != std::chrono::steady_clock::time_point::max()) {
      step = std::min<int64_t>(
          step, std::chrono::duration_cast<std::chrono::nanoseconds>(end - now).count());
    }
    pollfd pfd{host_fd, events, 0};
    timespec ts{static_cast<time_t>(step / 1000000000), static_cast<long>(step % 1000000000)};
    int n = ppoll(&pfd, 1, &ts, nullptr);
    if (n > 0) return true;  // ready, EOF or error: read() or write() will tell
    if (n < 0 && errno != EINTR) return true;
  }
}

void Core::sleep_bounded(int64_t ns) {
  auto end = after_ns(ns);
  while (!must_stop()) {
    auto now = std::chrono::steady_clock::now();
    if (now >= end) return;
    std::this_thread::sleep_for(std::min<std::chrono::nanoseconds>(
        end - now, std::chrono::nanoseconds(kWaitStepNs)));
  }
}

// --- args, environment -------------------------------------------------------------------------

std::vector<std::string> Core::environ_strings() const {
  std::vector<std::string> v;
  for (const auto& [k, val] : config_.env) v.push_back(k + "=" + val);
  return v;
}

// --- clocks --------------------------------------------------------------------------------------
//
// Clocks are grants (docs/wasi-support.md#clocks-and-random): the wall clock (realtime) and the
// elapsed-time clocks (monotonic and the two CPU-time clocks) are each on or off, and come from
// the host or from a fixed virtual clock. A clock that is off answers kNotCapable, never a value.

namespace {

clockid_t host_clock(Clock c) {
  switch (c) {
    case Clock::kRealtime: return CLOCK_REALTIME;
    case Clock::kMonotonic: return CLOCK_MONOTONIC;
    case Clock::kProcessCputime: return CLOCK_PROCESS_CPUTIME_ID;
    case Clock::kThreadCputime: return CLOCK_THREAD_CPUTIME_ID;
  }
  return CLOCK_MONOTONIC;
}

uint64_t to_ns(const timespec& ts) {
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + static_cast<uint64_t>(ts.tv_nsec);
}

// This thread's CPU time when restart_thread_cpu_clock() last ran on it (0: never).
thread_local uint64_t t_thread_cpu_start_ns = 0;

}  // namespace

void restart_thread_cpu_clock() {
  timespec ts{};
  if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) == 0) t_thread_cpu_start_ns = to_ns(ts);
}

Errc Core::check_clock(Clock c) const {
  if (config_.clock.kind == ClockSource::Kind::kDeny) return Errc::kNotCapable;
  bool wall = c == Clock::kRealtime;
  if (!(wall ? config_.clock_wall : config_.clock_monotonic)) return Errc::kNotCapable;
  return Errc::kOk;
}

Outcome<uint64_t> Core::clock_resolution(Clock c) const {
  if (Errc r = check_clock(c); r != Errc::kOk) return fail(r);
  if (clock_is_fixed()) {
    return std::max<uint64_t>(config_.clock.step_ns, 1);  // the virtual clock ticks by the step
  }
  timespec ts{};
  if (clock_getres(host_clock(c), &ts) != 0) return fail(errc_from_host(errno));
  return std::max<uint64_t>(to_ns(ts), 1);
}

Outcome<uint64_t> Core::clock_now(Clock c, bool advance) {
  if (Errc r = check_clock(c); r != Errc::kOk) return fail(r);
  if (clock_is_fixed()) {
    // One virtual time for every clock: monotonic and the CPU-time clocks read it as is, the
    // wall clock reads it offset by the pinned instant. Never host time.
    uint64_t ns = c == Clock::kRealtime ? add_sat(config_.clock.epoch_ns, virtual_ns_)
                                        : virtual_ns_;
    if (advance) virtual_ns_ = add_sat(virtual_ns_, config_.clock.step_ns);
    return ns;
  }
  timespec ts{};
  if (clock_gettime(host_clock(c), &ts) != 0) return fail(errc_from_host(errno));
  uint64_t ns = to_ns(ts);
  if (c == Clock::kThreadCputime) ns = ns > t_thread_cpu_start_ns ? ns - t_thread_cpu_start_ns : 0;
  return ns;
}

bool Core::fixed_wait_never_ends(int64_t timeout_ns) const {
  // The timeout saturated (a relative UINT64_MAX, or an absolute time beyond INT64_MAX ns from
  // now), or the virtual clock (as the wall clock, epoch included) cannot reach its end.
  if (timeout_ns >= INT64_MAX) return true;
  uint64_t t = static_cast<uint64_t>(timeout_ns);
  return t > UINT64_MAX - virtual_ns_ || virtual_ns_ + t > UINT64_MAX - config_.clock.epoch_ns;
}

Errc Core::now_for_timestamps(timespec* out) {
  if (Errc r = check_clock(Clock::kRealtime); r != Errc::kOk) return r;
  if (!clock_is_fixed()) {
    out->tv_sec = 0;
    out->tv_nsec = UTIME_NOW;
    return Errc::kOk;
  }
  uint64_t ns = *clock_now(Clock::kRealtime, true);
  out->tv_sec = static_cast<time_t>(ns / 1000000000ull);
  out->tv_nsec = static_cast<long>(ns % 1000000000ull);
  return Errc::kOk;
}

// --- random ----------------------------------------------------------------------------------

Errc Core::random_fill(uint8_t* p, size_t len) {
  if (Errc r = check_random(); r != Errc::kOk) return r;
  // Threat: one call asking the kernel for gigabytes of randomness (seconds of host CPU).
  // Capped like every other transfer (a random request cannot return less than asked, so a
  // larger request is refused), and filled in chunks between which the deadline, the interrupt
  // and the fuel are checked.
  if (len > config_.max_io_bytes) return Errc::kInvalid;
  size_t done = 0;
  while (done < len) {
    if (!may_continue()) return Errc::kInterrupted;
    size_t chunk = std::min<size_t>(len - done, kIoChunkBytes);
    size_t got = 0;
    if (config_.random.kind == RandomSource::Kind::kSeed) {
      seeded_random(p + done, chunk);
      got = chunk;
    }
    while (got < chunk) {
      ssize_t n = getrandom(p + done + got, chunk - got, 0);
      if (n < 0) {
        if (errno == EINTR) continue;
        return Errc::kIo;
      }
      got += static_cast<size_t>(n);
    }
    done += chunk;
    charge_bytes(chunk);
  }
  if (termination_) return Errc::kInterrupted;
  return Errc::kOk;
}

void Core::seeded_random(uint8_t* p, size_t n) {
  static const uint8_t kNonce[crypto_stream_chacha20_NONCEBYTES] = {};
  size_t done = 0;
  // The rest of the current block first, then whole blocks straight into the destination, then
  // one more block for a tail (its unread part is kept for the next call).
  size_t from_buf = std::min(n, sizeof seed_buf_ - seed_buf_pos_);
  std::memcpy(p, seed_buf_ + seed_buf_pos_, from_buf);
  seed_buf_pos_ += from_buf;
  done += from_buf;
  size_t whole = (n - done) / 64 * 64;
  if (whole > 0) {
    std::memset(p + done, 0, whole);
    crypto_stream_chacha20_xor_ic(p + done, p + done, whole, kNonce, seed_block_, seed_key_);
    seed_block_ += whole / 64;
    done += whole;
  }
  if (done < n) {
    std::memset(seed_buf_, 0, sizeof seed_buf_);
    crypto_stream_chacha20_xor_ic(seed_buf_, seed_buf_, sizeof seed_buf_, kNonce, seed_block_,
                                  seed_key_);
    ++seed_block_;
    seed_buf_pos_ = n - done;
    std::memcpy(p + done, seed_buf_, seed_buf_pos_);
  }
}

// --- reading and writing -------------------------------------------------------------------

// The reader of stdout, stderr or an inherited pipe is gone. Under exit_on_broken_pipe the run
// ends here, as SIGPIPE ends a POSIX writer at the write that failed (even after part of the
// data went out); the error returned is never seen by the guest (the binding ends the run first).
bool Core::broken_pipe() {
  if (!config_.exit_on_broken_pipe) return false;
  exit_status_ = kBrokenPipeExitStatus;
  return true;
}

Outcome<uint64_t> Core::write_output(Kind kind, const std::vector<IoSlice>& slices) {
  const OutputSink& sink = kind == Kind::kStdout ? config_.stdout_sink : config_.stderr_sink;
  int host_fd = kind == Kind::kStdout ? config_.stdout_fd : config_.stderr_fd;
  const OutPipe& out = out_pipe_[kind == Kind::kStdout ? 0 : 1];
  const bool nonblocking = out.nonblocking.valid();
  if (nonblocking) host_fd = out.nonblocking.get();
  uint64_t written = 0;
  // Several slices of at most PIPE_BUF bytes in all go out as one write, as one writev to a
  // pipe does: musl's stdio flushes its buffer and a line as two slices, and a reader at the
  // other end of a pipe must not see half the line (`tool | read_from_fd.py 0`).
  std::vector<IoSlice> joined;
  uint8_t small[PIPE_BUF];
  uint64_t total = 0;
  for (const auto& s : slices) total += s.len;
  if (slices.size() > 1 && total <= sizeof small) {
    size_t at = 0;
    for (const auto& s : slices) {
      if (s.len > 0) std::memcpy(small + at, s.data, s.len);
      at += s.len;
    }
    joined.push_back({small, static_cast<uint32_t>(total)});
  }
  const std::vector<IoSlice>& iovs = joined.empty() ? slices : joined;
  for (const auto& s : iovs) {
    uint64_t len = s.len;
    // Output cap: a flooding guest is cut off at max_output_bytes; the runtime reports it
    // (after the bytes that still fit are written).
    bool hit = false;
    if (config_.max_output_bytes != 0) {
      uint64_t room = config_.max_output_bytes - std::min(config_.max_output_bytes, output_bytes_);
      if (len > room) {
        len = room;
        hit = true;
      }
    }
    // In chunks: the deadline, interrupt and fuel are checked between two (charge_bytes).
    for (uint64_t off = 0; off < len;) {
      if (!may_continue()) return fail(Errc::kInterrupted);
      uint64_t chunk = std::min<uint64_t>(len - off, kIoChunkBytes);
      if (sink) {
        errno = 0;  // a sink says EPIPE through errno (wasi.h OutputSink)
        if (!sink(s.data + off, chunk)) {
          const int e = errno;
          if (e == EPIPE && broken_pipe()) return fail(Errc::kPipe);
          if (written > 0) return written;
          return fail(e == ENOSPC ? Errc::kInsufficientSpace : Errc::kIo);
        }
      } else if (host_fd >= 0) {
        uint64_t done = 0;
        // A pipe's reader that stops reading must not hold the run past its deadline (a blocked
        // write(2) sees no deadline): the wait for room is in the deadline's steps, and ends
        // the write with what was written when the run must stop.
        auto stopped = [&]() -> Outcome<uint64_t> {
          output_bytes_ += done;
          written += done;
          charge_bytes(done);
          if (written > 0) return written;
          return fail(Errc::kInterrupted);
        };
        int e = 0;
        if (out.pipe) {
          e = write_pipe(host_fd, nonblocking, s.data + off, chunk, &done);
          if (e == kPipeStopped) return stopped();
        } else {
          while (done < chunk) {  // a file or a terminal
            ssize_t n = write_quietly(host_fd, s.data + off + done, chunk - done);
            if (n < 0 && errno == EINTR) continue;
            if (n < 0) {
              e = errno;
              break;
            }
            done += static_cast<uint64_t>(n);
          }
        }
        if (e != 0) {
          if (e == EPIPE && broken_pipe()) return fail(Errc::kPipe);
          if (written + done > 0) return stopped();  // report what was written
          return fail(errc_from_host(e));
        }
      }
      off += chunk;
      output_bytes_ += chunk;
      written += chunk;
      charge_bytes(chunk);
    }
    if (hit && !termination_) {
      output_limit_hit_ = true;
      termination_ = Error(ErrorCode::kOutputLimit,
                           "guest output exceeded " + std::to_string(config_.max_output_bytes) +
                               " bytes; raise --max-output-bytes");
    }
    if (output_limit_hit_) {
      if (written > 0) return written;
      return fail(Errc::kIo);
    }
  }
  return written;
}

Outcome<uint64_t> Core::device_io(OpenDescription& d, bool write,
                                   const std::vector<IoSlice>& slices) {
  uint64_t total = 0;
  for (const auto& s : slices) total += s.len;
  if (write) return total;  // discarded: no file grows, no budget is charged
  if (d.device == Device::kNull) return uint64_t{0};
  // Threat: `cat /dev/zero` reads for ever. One read gives at most kIoChunkBytes (a read may be
  // short), charged as a file's bytes are, so the fuel, the deadline and the output cap (where
  // the bytes go) end it as they end any other endless stream.
  uint64_t want = std::min<uint64_t>({total, kIoChunkBytes, config_.max_io_bytes});
  uint64_t done = 0;
  for (const auto& s : slices) {
    if (done == want) break;
    uint32_t take = static_cast<uint32_t>(std::min<uint64_t>(s.len, want - done));
    if (d.device == Device::kZero) {
      if (!may_continue()) return fail(Errc::kInterrupted);
      std::memset(s.data, 0, take);
      charge_bytes(take);
    } else if (Errc r = random_fill(s.data, take); r != Errc::kOk) {  // metered there
      return fail(r);
    }
    done += take;
  }
  if (termination_) return fail(Errc::kInterrupted);
  return done;
}

Outcome<uint64_t> Core::write(OpenDescription& d, const std::vector<IoSlice>& slices) {
  if (d.device != Device::kNone) return device_io(d, true, slices);
  if (d.kind == Kind::kStdout || d.kind == Kind::kStderr) return write_output(d.kind, slices);
  // An inherited pipe (WasiConfig::inherited_fds: a shell's `>(list)`), written as it drains.
  if (d.kind == Kind::kFile && d.type == FileType::kFifo && d.fd.valid()) {
    if (d.read_only) return fail(Errc::kBadDescriptor);
    if (d.pipe_writer.valid()) return stream_write(d.pipe_writer.get(), true, slices);
    return stream_write(d.fd.get(), false, slices);
  }
  if (d.kind == Kind::kFile) return file_transfer(d, true, slices, -1, d.flags.append);
  return fail(Errc::kIsDirectory);
}

Outcome<uint64_t> Core::stream_write(int host_fd, bool nonblocking,
                                     const std::vector<IoSlice>& slices) {
  uint64_t written = 0;
  for (const auto& s : slices) {
    // In chunks, as stdout's: the deadline, interrupt and fuel are checked between two.
    for (uint64_t off = 0; off < s.len;) {
      if (!may_continue()) break;
      uint64_t chunk = std::min<uint64_t>(s.len - off, kIoChunkBytes), done = 0;
      int e = write_pipe(host_fd, nonblocking, s.data + off, chunk, &done);
      off += done;
      written += done;
      charge_bytes(done);
      if (e == kPipeStopped) break;
      if (e != 0) {
        // EPIPE: the list has ended; SIGPIPE's end under exit_on_broken_pipe (bash: `seq 100000
        // | tee >(head -n 1)` is 141, silent), else an error the guest sees.
        if (e == EPIPE && broken_pipe()) return fail(Errc::kPipe);
        if (written > 0) return written;  // report what was written
        return fail(errc_from_host(e));
      }
    }
    if (termination_) break;
  }
  if (written > 0) return written;
  if (termination_) return fail(Errc::kInterrupted);
  return written;
}

platform::UniqueFd Core::nonblocking_writer(int host_fd) {
  // Failpoint wasi.pipe.reopen (test builds): as on a system without /proc, none.
  if (failpoint::hit("wasi.pipe.reopen") != 0) return platform::UniqueFd();
  const std::string self = "/proc/self/fd/" + std::to_string(host_fd);
  return platform::UniqueFd(::open(self.c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC));
}

int Core::write_pipe(int host_fd, bool nonblocking, const uint8_t* p, uint64_t n,
                     uint64_t* done) {
  *done = 0;
  while (*done < n) {
    uint64_t want = n - *done;
    if (!nonblocking) {
      // Wait for room, then at most PIPE_BUF, which a pipe with room takes without blocking
      // (Linux: a free page).
      if (!wait_ready(host_fd, POLLOUT, -1)) return kPipeStopped;
      want = std::min<uint64_t>(want, PIPE_BUF);
    }
    ssize_t w = write_quietly(host_fd, p + *done, want);
    if (w < 0) {
      if (errno == EINTR) continue;
      if (errno != EAGAIN) return errno;
      // Full: wait for room in the deadline's steps, then again.
      if (nonblocking && !wait_ready(host_fd, POLLOUT, -1)) return kPipeStopped;
      continue;
    }
    *done += static_cast<uint64_t>(w);
  }
  return 0;
}

Outcome<uint64_t> Core::read(OpenDescription& d, const std::vector<IoSlice>& slices) {
  if (d.device != Device::kNone) return device_io(d, false, slices);
  // An inherited pipe (WasiConfig::inherited_fds: a shell's `<(list)`) is read as stdin is.
  if (d.kind == Kind::kFile && d.type == FileType::kFifo && d.fd.valid()) {
    return stream_read(d.fd.get(), slices);
  }
  if (d.kind == Kind::kFile) {
    // Files (only regular files can be opened, see open_at) are read in chunks.
    return file_transfer(d, false, slices, -1, false);
  }
  if (d.kind != Kind::kStdin) return fail(Errc::kIsDirectory);
  if (config_.stdin_fd < 0) return uint64_t{0};  // no stdin granted: always EOF
  return stream_read(config_.stdin_fd, slices);
}

Outcome<uint64_t> Core::stream_read(int host_fd, const std::vector<IoSlice>& slices) {
  std::vector<iovec> v;
  v.reserve(slices.size());
  for (const auto& s : slices) v.push_back({s.data, s.len});
  // A read from stdin may block for ever: wait in bounded steps so the deadline and the
  // interrupt flag still end the run.
  if (!wait_readable(host_fd, -1)) return fail(Errc::kInterrupted);
  ssize_t n;
  do {
    n = ::readv(host_fd, v.data(), static_cast<int>(v.size()));
  } while (n < 0 && errno == EINTR);
  if (n < 0) return fail(errc_from_host(errno));
  charge_bytes(static_cast<uint64_t>(n));
  if (termination_) return fail(Errc::kInterrupted);
  return static_cast<uint64_t>(n);
}

Errc Core::check_positional(const OpenDescription& d, uint64_t offset) const {
  if (d.kind == Kind::kDir) return Errc::kIsDirectory;
  if (!d.is_host_file()) return Errc::kInvalidSeek;
  if (offset > INT64_MAX) return Errc::kInvalid;
  return Errc::kOk;
}

Outcome<uint64_t> Core::pread(OpenDescription& d, const std::vector<IoSlice>& slices,
                              uint64_t offset) {
  if (Errc r = check_positional(d, offset); r != Errc::kOk) return fail(r);
  return file_transfer(d, false, slices, static_cast<int64_t>(offset), false);
}

Outcome<uint64_t> Core::pwrite(OpenDescription& d, const std::vector<IoSlice>& slices,
                               uint64_t offset) {
  if (d.read_only) return fail(Errc::kNotCapable);
  if (Errc r = check_positional(d, offset); r != Errc::kOk) return fail(r);
  // Note: on an O_APPEND description Linux appends regardless of offset (the suite accepts
  // both).
  return file_transfer(d, true, slices, static_cast<int64_t>(offset), false);
}

Outcome<uint64_t> Core::file_transfer(OpenDescription& d, bool write,
                                      const std::vector<IoSlice>& slices, int64_t offset,
                                      bool append) {
  uint64_t done = 0;
  int err = file_io(d.fd.get(), write, slices, offset, append, d.flags.append, &done);
  if (termination_) return fail(Errc::kInterrupted);  // deadline, interrupt or fuel: run ends
  if (err != 0) return fail(errc_from_host(err));
  return done;
}

int Core::file_io(int host_fd, bool write, const std::vector<IoSlice>& slices, int64_t offset,
                  bool append, bool appends, uint64_t* done) {
  *done = 0;
  size_t si = 0;    // next slice
  uint32_t so = 0;  // offset in it
  std::vector<iovec> v;
  for (;;) {
    while (si < slices.size() && so >= slices[si].len) {
      ++si;
      so = 0;
    }
    if (si >= slices.size()) return 0;
    if (!may_continue()) return 0;
    if (offset >= 0 && *done > static_cast<uint64_t>(INT64_MAX - offset)) return 0;
    const off_t at = offset < 0 ? -1 : static_cast<off_t>(offset + static_cast<int64_t>(*done));
    // The next chunk: up to kIoChunkBytes across the remaining slices; a write's is cut to what
    // the write budget lets the file grow by.
    uint64_t limit = kIoChunkBytes;
    WriteBudget::FileWrite growth;
    bool cut = false;
    if (write) {
      uint64_t left = slices[si].len - so;
      for (size_t k = si + 1; k < slices.size() && left < kIoChunkBytes; ++k) left += slices[k].len;
      const uint64_t chunk = std::min<uint64_t>(left, kIoChunkBytes);
      growth = budget_->reserve_write(host_fd, at, append || appends, chunk);
      if (growth.may == 0) return *done > 0 ? 0 : growth.err;  // a full budget is a full disk
      limit = growth.may;
      cut = limit < chunk;
    }
    v.clear();
    uint64_t want = 0;
    size_t i = si;
    uint32_t o = so;
    while (i < slices.size() && want < limit) {
      uint32_t take = static_cast<uint32_t>(
          std::min<uint64_t>(slices[i].len - o, limit - want));
      if (take > 0) v.push_back({slices[i].data + o, take});
      want += take;
      o += take;
      if (o >= slices[i].len) {
        ++i;
        o = 0;
      }
    }
    const int cnt = static_cast<int>(v.size());
    ssize_t n;
    do {
      if (write && append) {
        n = ::pwritev2(host_fd, v.data(), cnt, -1, RWF_APPEND);
        if (n < 0 && errno == EOPNOTSUPP) n = ::writev(host_fd, v.data(), cnt);
      } else if (write) {
        n = at < 0 ? ::writev(host_fd, v.data(), cnt) : ::pwritev(host_fd, v.data(), cnt, at);
      } else {
        n = at < 0 ? ::readv(host_fd, v.data(), cnt) : ::preadv(host_fd, v.data(), cnt, at);
      }
    } while (n < 0 && errno == EINTR);
    const int err = n < 0 ? errno : 0;
    if (write) budget_->settle_write(growth, n);  // keeps the growth made, returns the rest
    if (n < 0) return *done > 0 ? 0 : err;  // after a partial transfer, report what moved
    *done += static_cast<uint64_t>(n);
    charge_bytes(static_cast<uint64_t>(n));
    if (static_cast<uint64_t>(n) < want) return 0;  // short: end of file, disk full, ...
    if (cut) return 0;  // the write budget took no more: the next write gets ENOSPC
    si = i;
    so = o;
  }
}

uint64_t Core::readable_now(const OpenDescription& d) const {
  if (d.kind != Kind::kFile || !d.fd.valid()) return 0;
  struct stat st {};
  off_t pos = ::lseek(d.fd.get(), 0, SEEK_CUR);
  if (::fstat(d.fd.get(), &st) == 0 && pos >= 0 && st.st_size > pos) {
    return static_cast<uint64_t>(st.st_size - pos);
  }
  return 0;
}

}  // namespace wasmcap::wasi

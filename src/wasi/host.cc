// WASI Preview 1 host: process, clocks, random, stdio, fd table, sockets. Waiting and
// poll_oneoff live in poll.cc, filesystem functions in fs.cc, registration in register.cc.
#include "wasi/host.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>
#include <thread>

namespace wasmcap {

using namespace wasi;

WasiHost::WasiHost(WasiConfig config) : config_(std::move(config)) {
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

WasiHost::~WasiHost() {
  for (auto& e : fds_) {
    if (e) close_entry(*e);
  }
}

void WasiHost::close_entry(FdEntry& e) {
  if (e.dir_stream != nullptr) {
    closedir(e.dir_stream);  // closes its own dup of host_fd
    e.dir_stream = nullptr;
  }
  if ((e.kind == FdKind::kFile || e.kind == FdKind::kDir) && e.host_fd >= 0) {
    ::close(e.host_fd);
  }
  e.host_fd = -1;
}

namespace {

// What the guest sees of a stdio stream (fd_fdstat_get, fd_filestat_get): the type of the host
// descriptor behind it. Only a terminal is a character device: wasi-libc's isatty() is "a
// character device without seek or tell rights" (stdio has neither), so a guest must not see one
// for a file or a pipe (`python3 - < FILE` would start its interactive prompt). A regular file
// is a regular file, a socket a stream socket; anything else (a pipe, /dev/null and other
// devices, no descriptor at all) is of unknown type, as wasmtime reports a stdio stream that is
// not a terminal. Only the type is shown: the host object's metadata stays hidden.
wasi::Filetype stdio_filetype(int host_fd) {
  if (host_fd < 0) return wasi::kFiletypeUnknown;
  if (::isatty(host_fd) == 1) return wasi::kFiletypeCharacterDevice;
  struct stat st {};
  if (::fstat(host_fd, &st) != 0) return wasi::kFiletypeUnknown;
  if (S_ISREG(st.st_mode)) return wasi::kFiletypeRegularFile;
  if (S_ISSOCK(st.st_mode)) return wasi::kFiletypeSocketStream;
  return wasi::kFiletypeUnknown;
}

}  // namespace

Result<void> WasiHost::init() {
  // Guest fds 0..2 are always present; rights reflect what the stream can do.
  auto stdio = [](FdKind kind, int host_fd, Rights rights) {
    auto e = std::make_unique<FdEntry>();
    e->kind = kind;
    e->filetype = stdio_filetype(host_fd);
    e->base = rights;
    e->inheriting = 0;
    return e;
  };
  const int out_fd = config_.stdout_sink ? config_.stdout_sink_fd : config_.stdout_fd;
  const int err_fd = config_.stderr_sink ? config_.stderr_sink_fd : config_.stderr_fd;
  fds_.push_back(stdio(FdKind::kStdin, config_.stdin_fd,
                       kRightFdRead | kRightPollFdReadwrite | kRightFdFilestatGet));
  fds_.push_back(stdio(FdKind::kStdout, out_fd,
                       kRightFdWrite | kRightPollFdReadwrite | kRightFdFilestatGet));
  fds_.push_back(stdio(FdKind::kStderr, err_fd,
                       kRightFdWrite | kRightPollFdReadwrite | kRightFdFilestatGet));

  for (const auto& p : config_.preopens) {
    if (p.guest_path.empty()) {
      return make_error(ErrorCode::kInvalidArgument,
                        "preopen of '" + p.host_path + "' has an empty guest path");
    }
    if (p.denied) {
      // Degraded run: the plugin asked for this directory and was not granted it. It still
      // finds the name (so it fails where it uses it, not at startup), but with no host fd and
      // zero rights every operation is refused by get_fd's rights check (ENOTCAPABLE).
      if (fds_.size() >= config_.max_fds) {
        return make_error(ErrorCode::kInvalidArgument, "more preopens than max_fds allows");
      }
      auto e = std::make_unique<FdEntry>();
      e->kind = FdKind::kDir;
      e->filetype = kFiletypeDirectory;
      e->read_only = true;
      e->preopen_name = p.guest_path;
      e->guest_path = p.guest_path;
      fds_.push_back(std::move(e));
      continue;
    }
    int fd = ::open(p.host_path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
      int err = errno;
      return make_error(err == ENOENT ? ErrorCode::kNotFound : ErrorCode::kIo,
                        "cannot preopen directory '" + p.host_path + "': " + strerror(err) +
                            (err == ENOTDIR ? " (it is not a directory)" : ""));
    }
    auto e = std::make_unique<FdEntry>();
    e->kind = FdKind::kDir;
    e->host_fd = fd;
    e->filetype = kFiletypeDirectory;
    e->base = kDirectoryRights;
    e->inheriting = kDirectoryRights | kFileRights;
    e->read_only = p.read_only;
    if (p.read_only) {
      // Read-only preopen: strip every right that could modify the tree, here and below.
      e->base &= ~kWriteRights;
      e->inheriting &= ~kWriteRights;
    }
    e->preopen_name = p.guest_path;
    e->guest_path = p.guest_path;
    if (fds_.size() >= config_.max_fds) {
      ::close(fd);
      return make_error(ErrorCode::kInvalidArgument, "more preopens than max_fds allows");
    }
    fds_.push_back(std::move(e));
  }
  return {};
}

Errno WasiHost::errno_from_host(int err) { return to_p1(errc_from_host(err)); }

Errno wasi::to_p1(Errc e) {
  switch (e) {
    case Errc::kOk: return kSuccess;
    case Errc::kTooBig: return kE2big;
    case Errc::kAccess: return kEacces;
    case Errc::kWouldBlock: return kEagain;
    case Errc::kBadDescriptor: return kEbadf;
    case Errc::kBusy: return kEbusy;
    case Errc::kCanceled: return kEcanceled;
    case Errc::kDeadlock: return kEdeadlk;
    case Errc::kQuota: return kEdquot;
    case Errc::kExist: return kEexist;
    case Errc::kFault: return kEfault;
    case Errc::kFileTooLarge: return kEfbig;
    case Errc::kIllegalByteSequence: return kEilseq;
    case Errc::kInterrupted: return kEintr;
    case Errc::kInvalid: return kEinval;
    case Errc::kIo: return kEio;
    case Errc::kIsDirectory: return kEisdir;
    case Errc::kLoop: return kEloop;
    case Errc::kTooManyOpen: return kEmfile;
    case Errc::kTooManyLinks: return kEmlink;
    case Errc::kMessageSize: return kEmsgsize;
    case Errc::kNameTooLong: return kEnametoolong;
    case Errc::kHostFileTableFull: return kEnfile;
    case Errc::kNoBuffers: return kEnobufs;
    case Errc::kNoDevice: return kEnodev;
    case Errc::kNoEntry: return kEnoent;
    case Errc::kNoLock: return kEnolck;
    case Errc::kInsufficientMemory: return kEnomem;
    case Errc::kInsufficientSpace: return kEnospc;
    case Errc::kNotImplemented: return kEnosys;
    case Errc::kNotDirectory: return kEnotdir;
    case Errc::kNotEmpty: return kEnotempty;
    case Errc::kUnsupported: return kEnotsup;
    case Errc::kNoTty: return kEnotty;
    case Errc::kNoSuchDevice: return kEnxio;
    case Errc::kOverflow: return kEoverflow;
    case Errc::kNotPermitted: return kEperm;
    case Errc::kPipe: return kEpipe;
    case Errc::kRange: return kErange;
    case Errc::kReadOnly: return kErofs;
    case Errc::kInvalidSeek: return kEspipe;
    case Errc::kStale: return kEstale;
    case Errc::kTimedOut: return kEtimedout;
    case Errc::kTextFileBusy: return kEtxtbsy;
    case Errc::kCrossDevice: return kExdev;
    case Errc::kNotCapable: return kEnotcapable;
    case Errc::kEscape: return kEperm;
    case Errc::kNotSocket: return kEnotsock;
  }
  return kEio;
}

Errno WasiHost::get_fd(uint32_t fd, Rights rights, FdEntry** out) {
  if (fd >= fds_.size() || !fds_[fd]) return kEbadf;
  FdEntry* e = fds_[fd].get();
  if ((e->base & rights) != rights) return kEnotcapable;
  *out = e;
  return kSuccess;
}

Errno WasiHost::alloc_fd(FdEntry entry, uint32_t* fd_out) {
  for (size_t i = 0; i < fds_.size(); ++i) {
    if (!fds_[i]) {
      fds_[i] = std::make_unique<FdEntry>(std::move(entry));
      *fd_out = static_cast<uint32_t>(i);
      return kSuccess;
    }
  }
  if (fds_.size() >= config_.max_fds) {
    close_entry(entry);
    return kEmfile;
  }
  fds_.push_back(std::make_unique<FdEntry>(std::move(entry)));
  *fd_out = static_cast<uint32_t>(fds_.size() - 1);
  return kSuccess;
}

Errno WasiHost::read_iovecs(const GuestMemory& m, uint32_t iovs, uint32_t iovs_len,
                            std::vector<IoSlice>* out) {
  // Guard the multiplication below and bound host-side allocation by guest memory size.
  if (iovs_len > 1024) return kEinval;  // IOV_MAX
  if (!m.in_bounds(iovs, uint64_t{iovs_len} * kIovecSize)) return kEfault;
  out->clear();
  out->reserve(iovs_len);
  uint64_t total = 0;
  for (uint32_t i = 0; i < iovs_len; ++i) {
    uint32_t buf = 0, len = 0;
    m.load(iovs + uint64_t{i} * kIovecSize, &buf);
    m.load(iovs + uint64_t{i} * kIovecSize + 4, &len);
    uint8_t* p = m.range(buf, len);
    if (p == nullptr) return kEfault;
    // Cap one transfer at max_io_bytes (a short read/write, which POSIX allows).
    uint64_t room = config_.max_io_bytes > total ? config_.max_io_bytes - total : 0;
    uint32_t take = static_cast<uint32_t>(std::min<uint64_t>(len, room));
    total += take;
    out->push_back({p, take});
  }
  return kSuccess;
}

namespace {

// Strict UTF-8 check (RFC 3629: no overlongs, no surrogates, nothing above U+10FFFF).
// Hand-written: the standard library has no validator and this is the only place we need one.
bool valid_utf8(const std::string& s) {
  size_t i = 0;
  const size_t n = s.size();
  while (i < n) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    int extra;
    uint32_t cp, min;
    if ((c & 0xE0) == 0xC0) {
      extra = 1, cp = c & 0x1F, min = 0x80;
    } else if ((c & 0xF0) == 0xE0) {
      extra = 2, cp = c & 0x0F, min = 0x800;
    } else if ((c & 0xF8) == 0xF0) {
      extra = 3, cp = c & 0x07, min = 0x10000;
    } else {
      return false;
    }
    if (i + static_cast<size_t>(extra) >= n) return false;  // truncated sequence
    for (int k = 1; k <= extra; ++k) {
      unsigned char cc = static_cast<unsigned char>(s[i + static_cast<size_t>(k)]);
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += static_cast<size_t>(extra) + 1;
  }
  return true;
}

}  // namespace

Errno WasiHost::read_path(const GuestMemory& m, uint32_t ptr, uint32_t len, std::string* out) {
  const uint8_t* p = m.range(ptr, len);
  if (p == nullptr) return kEfault;
  if (len > 4096) return kEnametoolong;
  out->assign(reinterpret_cast<const char*>(p), len);
  // A NUL would truncate the path the kernel sees: refuse instead of silently cutting it.
  if (out->find('\0') != std::string::npos) return kEilseq;
  // WASI paths are Unicode strings; invalid UTF-8 is refused rather than handed to the
  // kernel as arbitrary bytes.
  if (!valid_utf8(*out)) return kEilseq;
  return kSuccess;
}

// --- args / environ ---------------------------------------------------------------------------

namespace {

// Writes a list of NUL-terminated strings: pointers to `ptrs`, bytes to `buf`.
Errno write_string_list(const GuestMemory& m, const std::vector<std::string>& items,
                        uint32_t ptrs, uint32_t buf) {
  uint64_t size = 0;
  for (const auto& s : items) size += s.size() + 1;
  if (!m.in_bounds(ptrs, uint64_t{4} * items.size()) || !m.in_bounds(buf, size)) return kEfault;
  uint64_t off = buf;
  for (size_t i = 0; i < items.size(); ++i) {
    m.store<uint32_t>(ptrs + 4 * i, static_cast<uint32_t>(off));
    std::memcpy(m.range(off, items[i].size() + 1), items[i].c_str(), items[i].size() + 1);
    off += items[i].size() + 1;
  }
  return kSuccess;
}

Errno write_sizes(const GuestMemory& m, const std::vector<std::string>& items, uint32_t count_out,
                  uint32_t size_out) {
  uint64_t size = 0;
  for (const auto& s : items) size += s.size() + 1;
  if (!m.in_bounds(count_out, 4) || !m.in_bounds(size_out, 4)) return kEfault;
  m.store<uint32_t>(count_out, static_cast<uint32_t>(items.size()));
  m.store<uint32_t>(size_out, static_cast<uint32_t>(size));
  return kSuccess;
}

std::vector<std::string> env_strings(const WasiConfig& c) {
  std::vector<std::string> v;
  for (const auto& [k, val] : c.env) v.push_back(k + "=" + val);
  return v;
}

}  // namespace

Errno WasiHost::args_get(const GuestMemory& m, uint32_t argv, uint32_t argv_buf) {
  return write_string_list(m, config_.args, argv, argv_buf);
}
Errno WasiHost::args_sizes_get(const GuestMemory& m, uint32_t argc_out, uint32_t size_out) {
  return write_sizes(m, config_.args, argc_out, size_out);
}
Errno WasiHost::environ_get(const GuestMemory& m, uint32_t environ, uint32_t environ_buf) {
  return write_string_list(m, env_strings(config_), environ, environ_buf);
}
Errno WasiHost::environ_sizes_get(const GuestMemory& m, uint32_t count_out, uint32_t size_out) {
  return write_sizes(m, env_strings(config_), count_out, size_out);
}

// --- clocks -----------------------------------------------------------------------------------
//
// Clocks are grants (docs/wasi-support.md#clocks-and-random): the wall clock (realtime) and the
// elapsed-time clocks (monotonic and the two CPU-time clocks) are each on or off, and come from
// the host or from a fixed virtual clock. A clock that is off answers ENOTCAPABLE, never a value.

namespace {

bool host_clock(uint32_t id, clockid_t* out) {
  switch (id) {
    case kClockRealtime: *out = CLOCK_REALTIME; return true;
    case kClockMonotonic: *out = CLOCK_MONOTONIC; return true;
    case kClockProcessCputime: *out = CLOCK_PROCESS_CPUTIME_ID; return true;
    case kClockThreadCputime: *out = CLOCK_THREAD_CPUTIME_ID; return true;
    default: return false;
  }
}

uint64_t to_ns(const timespec& ts) {
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + static_cast<uint64_t>(ts.tv_nsec);
}

}  // namespace

Errno WasiHost::check_clock(uint32_t id, bool* wall) const {
  clockid_t cid;
  if (!host_clock(id, &cid)) return kEinval;
  *wall = id == kClockRealtime;
  if (config_.clock.kind == ClockSource::Kind::kDeny) return kEnotcapable;
  if (!(*wall ? config_.clock_wall : config_.clock_monotonic)) return kEnotcapable;
  return kSuccess;
}

Errno WasiHost::read_clock(uint32_t id, bool wall, bool advance, uint64_t* out) {
  if (config_.clock.kind == ClockSource::Kind::kFixed) {
    // One virtual time for every clock: monotonic and the CPU-time clocks read it as is, the
    // wall clock reads it offset by the pinned instant. Never host time.
    *out = wall ? add_sat(config_.clock.epoch_ns, virtual_ns_) : virtual_ns_;
    if (advance) virtual_ns_ = add_sat(virtual_ns_, config_.clock.step_ns);
    return kSuccess;
  }
  clockid_t cid = CLOCK_MONOTONIC;
  if (!host_clock(id, &cid)) return kEinval;
  timespec ts{};
  if (clock_gettime(cid, &ts) != 0) return errno_from_host(errno);
  *out = to_ns(ts);
  return kSuccess;
}

Errno WasiHost::now_for_timestamps(timespec* out) {
  bool wall = false;
  if (Errno r = check_clock(kClockRealtime, &wall)) return r;
  if (config_.clock.kind != ClockSource::Kind::kFixed) {
    out->tv_sec = 0;
    out->tv_nsec = UTIME_NOW;
    return kSuccess;
  }
  uint64_t ns = 0;
  read_clock(kClockRealtime, true, true, &ns);
  out->tv_sec = static_cast<time_t>(ns / 1000000000ull);
  out->tv_nsec = static_cast<long>(ns % 1000000000ull);
  return kSuccess;
}

Errno WasiHost::clock_res_get(const GuestMemory& m, uint32_t id, uint32_t out) {
  bool wall = false;
  if (Errno r = check_clock(id, &wall)) return r;
  uint64_t res = 1;
  if (config_.clock.kind == ClockSource::Kind::kFixed) {
    res = std::max<uint64_t>(config_.clock.step_ns, 1);  // the virtual clock ticks by the step
  } else {
    clockid_t cid = CLOCK_MONOTONIC;
    if (!host_clock(id, &cid)) return kEinval;
    timespec ts{};
    if (clock_getres(cid, &ts) != 0) return errno_from_host(errno);
    res = std::max<uint64_t>(to_ns(ts), 1);
  }
  return m.store<uint64_t>(out, res) ? kSuccess : kEfault;
}

Errno WasiHost::clock_time_get(const GuestMemory& m, uint32_t id, uint64_t, uint32_t out) {
  bool wall = false;
  if (Errno r = check_clock(id, &wall)) return r;
  if (!m.in_bounds(out, 8)) return kEfault;  // before reading: a fixed clock would advance
  uint64_t ns = 0;
  if (Errno r = read_clock(id, wall, true, &ns)) return r;
  return m.store<uint64_t>(out, ns) ? kSuccess : kEfault;
}

// --- fd table ---------------------------------------------------------------------------------

Errno WasiHost::fd_close(const GuestMemory&, uint32_t fd) {
  FdEntry* e = nullptr;
  if (Errno r = get_fd(fd, 0, &e)) return r;
  // Preopens may be closed like any fd (wasi-libc does so); stdio too.
  close_entry(*e);
  fds_[fd].reset();
  return kSuccess;
}

Errno WasiHost::fd_fdstat_get(const GuestMemory& m, uint32_t fd, uint32_t out) {
  FdEntry* e = nullptr;
  if (Errno r = get_fd(fd, 0, &e)) return r;
  if (!m.in_bounds(out, kFdstatSize)) return kEfault;
  uint8_t* p = m.range(out, kFdstatSize);
  std::memset(p, 0, kFdstatSize);
  m.store<uint8_t>(out, e->filetype);
  m.store<uint16_t>(out + 2, e->flags);
  m.store<uint64_t>(out + 8, e->base);
  m.store<uint64_t>(out + 16, e->inheriting);
  return kSuccess;
}

Errno WasiHost::fd_prestat_get(const GuestMemory& m, uint32_t fd, uint32_t out) {
  FdEntry* e = nullptr;
  if (Errno r = get_fd(fd, 0, &e)) return r;
  if (e->preopen_name.empty()) return kEbadf;
  if (!m.in_bounds(out, kPrestatSize)) return kEfault;
  std::memset(m.range(out, kPrestatSize), 0, kPrestatSize);
  m.store<uint8_t>(out, kPreopentypeDir);
  m.store<uint32_t>(out + 4, static_cast<uint32_t>(e->preopen_name.size()));
  return kSuccess;
}

Errno WasiHost::fd_prestat_dir_name(const GuestMemory& m, uint32_t fd, uint32_t path,
                                    uint32_t len) {
  FdEntry* e = nullptr;
  if (Errno r = get_fd(fd, 0, &e)) return r;
  if (e->preopen_name.empty()) return kEbadf;
  if (len < e->preopen_name.size()) return kEnametoolong;
  uint8_t* p = m.range(path, e->preopen_name.size());
  if (p == nullptr) return kEfault;
  std::memcpy(p, e->preopen_name.data(), e->preopen_name.size());
  return kSuccess;
}

Errno WasiHost::fd_renumber(const GuestMemory&, uint32_t from, uint32_t to) {
  FdEntry* src = nullptr;
  FdEntry* dst = nullptr;
  if (Errno r = get_fd(from, 0, &src)) return r;
  if (Errno r = get_fd(to, 0, &dst)) return r;
  if (from == to) return kSuccess;
  close_entry(*dst);
  fds_[to] = std::move(fds_[from]);
  return kSuccess;
}

// --- read / write -----------------------------------------------------------------------------

// The reader of fd 1 or 2 is gone. Under exit_on_broken_pipe the run ends here, as SIGPIPE ends
// a POSIX writer at the write that failed (even after part of the data went out); the errno
// returned is never seen by the guest (the binding layer ends the run first).
bool WasiHost::broken_pipe() {
  if (!config_.exit_on_broken_pipe) return false;
  exit_status_ = kBrokenPipeExitStatus;
  return true;
}

Errno WasiHost::write_output(FdKind kind, const std::vector<IoSlice>& iovs, uint64_t* written) {
  const OutputSink& sink = kind == FdKind::kStdout ? config_.stdout_sink : config_.stderr_sink;
  int host_fd = kind == FdKind::kStdout ? config_.stdout_fd : config_.stderr_fd;
  *written = 0;
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
      if (!may_continue()) return kEintr;
      uint64_t chunk = std::min<uint64_t>(len - off, kIoChunkBytes);
      if (sink) {
        errno = 0;  // a sink says EPIPE through errno (wasi.h OutputSink)
        if (!sink(s.data + off, chunk)) {
          if (errno == EPIPE && broken_pipe()) return kEpipe;
          if (*written > 0) return kSuccess;
          return kEio;
        }
      } else if (host_fd >= 0) {
        uint64_t done = 0;
        while (done < chunk) {
          ssize_t n = ::write(host_fd, s.data + off + done, chunk - done);
          if (n < 0) {
            if (errno == EINTR) continue;
            if (errno == EPIPE && broken_pipe()) return kEpipe;
            if (*written > 0) return kSuccess;  // report what was written
            return errno_from_host(errno);
          }
          done += static_cast<uint64_t>(n);
        }
      }
      off += chunk;
      output_bytes_ += chunk;
      *written += chunk;
      charge_bytes(chunk);
    }
    if (hit && !termination_) {
      output_limit_hit_ = true;
      termination_ = Error(ErrorCode::kOutputLimit,
                           "guest output exceeded " + std::to_string(config_.max_output_bytes) +
                               " bytes; raise --max-output-bytes");
    }
    if (output_limit_hit_) return *written > 0 ? kSuccess : kEio;
  }
  return kSuccess;
}

Errno WasiHost::fd_write(const GuestMemory& m, uint32_t fd, uint32_t iovs, uint32_t iovs_len,
                         uint32_t nwritten_out) {
  FdEntry* e = nullptr;
  if (Errno r = get_fd(fd, kRightFdWrite, &e)) return r;
  if (!m.in_bounds(nwritten_out, 4)) return kEfault;
  std::vector<IoSlice> slices;
  if (Errno r = read_iovecs(m, iovs, iovs_len, &slices)) return r;
  uint64_t written = 0;
  if (e->kind == FdKind::kStdout || e->kind == FdKind::kStderr) {
    if (Errno r = write_output(e->kind, slices, &written)) return r;
  } else if (e->kind == FdKind::kFile) {
    int err = file_io(e->host_fd, true, slices, -1, (e->flags & kFdflagAppend) != 0, &written);
    if (termination_) return kEintr;
    if (err != 0) return errno_from_host(err);
  } else {
    return kEisdir;
  }
  m.store<uint32_t>(nwritten_out, static_cast<uint32_t>(written));
  return kSuccess;
}

Errno WasiHost::fd_read(const GuestMemory& m, uint32_t fd, uint32_t iovs, uint32_t iovs_len,
                        uint32_t nread_out) {
  FdEntry* e = nullptr;
  if (Errno r = get_fd(fd, kRightFdRead, &e)) return r;
  if (!m.in_bounds(nread_out, 4)) return kEfault;
  std::vector<IoSlice> slices;
  if (Errno r = read_iovecs(m, iovs, iovs_len, &slices)) return r;
  int host_fd = -1;
  if (e->kind == FdKind::kStdin) {
    host_fd = config_.stdin_fd;
    if (host_fd < 0) {  // no stdin granted: always EOF
      m.store<uint32_t>(nread_out, 0);
      return kSuccess;
    }
  } else if (e->kind == FdKind::kFile) {
    host_fd = e->host_fd;
  } else {
    return kEisdir;
  }
  if (e->kind == FdKind::kFile) {
    // Files (only regular files can be opened, see path_open) are read in chunks.
    uint64_t done = 0;
    int err = file_io(host_fd, false, slices, -1, false, &done);
    if (termination_) return kEintr;
    if (err != 0) return errno_from_host(err);
    m.store<uint32_t>(nread_out, static_cast<uint32_t>(done));
    return kSuccess;
  }
  std::vector<iovec> v = to_host_iovecs(slices);
  // A read from stdin may block for ever: wait in bounded steps so the deadline and the
  // interrupt flag still end the run.
  if (!wait_readable(host_fd, -1)) return kEintr;
  ssize_t n;
  do {
    n = ::readv(host_fd, v.data(), static_cast<int>(v.size()));
  } while (n < 0 && errno == EINTR);
  if (n < 0) return errno_from_host(errno);
  charge_bytes(static_cast<uint64_t>(n));
  m.store<uint32_t>(nread_out, static_cast<uint32_t>(n));
  if (termination_) return kEintr;
  return kSuccess;
}

int WasiHost::file_io(int host_fd, bool write, const std::vector<IoSlice>& slices,
                      int64_t offset, bool append, uint64_t* done) {
  *done = 0;
  size_t si = 0;   // next slice
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
    // The next chunk: up to kIoChunkBytes across the remaining slices.
    v.clear();
    uint64_t want = 0;
    size_t i = si;
    uint32_t o = so;
    while (i < slices.size() && want < kIoChunkBytes) {
      uint32_t take = static_cast<uint32_t>(
          std::min<uint64_t>(slices[i].len - o, kIoChunkBytes - want));
      if (take > 0) v.push_back({slices[i].data + o, take});
      want += take;
      o += take;
      if (o >= slices[i].len) {
        ++i;
        o = 0;
      }
    }
    const int cnt = static_cast<int>(v.size());
    const off_t at = offset < 0 ? -1 : static_cast<off_t>(offset + static_cast<int64_t>(*done));
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
    if (n < 0) return *done > 0 ? 0 : errno;  // after a partial transfer, report what moved
    *done += static_cast<uint64_t>(n);
    charge_bytes(static_cast<uint64_t>(n));
    if (static_cast<uint64_t>(n) < want) return 0;  // short: end of file, disk full, ...
    si = i;
    so = o;
  }
}

// --- process, random, sockets ----------------------------------------------------------------

// Signals are not part of the sandbox: a guest cannot signal anything, itself included.
Errno WasiHost::proc_raise(const GuestMemory&, uint32_t) { return kEnosys; }

Errno WasiHost::sched_yield(const GuestMemory&) {
  std::this_thread::yield();
  return kSuccess;
}

Errno WasiHost::random_get(const GuestMemory& m, uint32_t buf, uint32_t len) {
  // Not granted: refused before anything else is looked at (a denied call costs nothing).
  if (config_.random.kind == RandomSource::Kind::kDeny) return kEnotcapable;
  uint8_t* p = m.range(buf, len);
  if (p == nullptr) return kEfault;
  // Threat: one call asking the kernel for gigabytes of randomness (seconds of host CPU).
  // Capped like every other transfer (random_get cannot return less than asked, so a larger
  // request is refused), and filled in chunks between which the deadline, the interrupt and
  // the fuel are checked.
  if (len > config_.max_io_bytes) return kEinval;
  uint32_t done = 0;
  while (done < len) {
    if (!may_continue()) return kEintr;
    uint32_t chunk = std::min<uint32_t>(len - done, kIoChunkBytes);
    uint32_t got = 0;
    if (config_.random.kind == RandomSource::Kind::kSeed) {
      seeded_random(p + done, chunk);
      got = chunk;
    }
    while (got < chunk) {
      ssize_t n = getrandom(p + done + got, chunk - got, 0);
      if (n < 0) {
        if (errno == EINTR) continue;
        return kEio;
      }
      got += static_cast<uint32_t>(n);
    }
    done += chunk;
    charge_bytes(chunk);
  }
  if (termination_) return kEintr;
  return kSuccess;
}

void WasiHost::seeded_random(uint8_t* p, size_t n) {
  static const uint8_t kNonce[crypto_stream_chacha20_NONCEBYTES] = {};
  size_t done = 0;
  // The rest of the current block first, then whole blocks straight into guest memory, then
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

// No ambient network: WASI sockets are never handed out, so every socket call sees a
// descriptor that is not a socket (or a bad one). Network access goes through host APIs.
Errno WasiHost::sock_accept(const GuestMemory&, uint32_t fd, uint32_t, uint32_t) {
  FdEntry* e = nullptr;
  if (Errno r = get_fd(fd, 0, &e)) return r;
  return kEnotsock;
}
Errno WasiHost::sock_recv(const GuestMemory&, uint32_t fd, uint32_t, uint32_t, uint32_t,
                          uint32_t, uint32_t) {
  FdEntry* e = nullptr;
  if (Errno r = get_fd(fd, 0, &e)) return r;
  return kEnotsock;
}
Errno WasiHost::sock_send(const GuestMemory&, uint32_t fd, uint32_t, uint32_t, uint32_t,
                          uint32_t) {
  FdEntry* e = nullptr;
  if (Errno r = get_fd(fd, 0, &e)) return r;
  return kEnotsock;
}
Errno WasiHost::sock_shutdown(const GuestMemory&, uint32_t fd, uint32_t) {
  FdEntry* e = nullptr;
  if (Errno r = get_fd(fd, 0, &e)) return r;
  return kEnotsock;
}

}  // namespace wasmcap

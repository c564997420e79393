// WASI Preview 1 binding: the fd table, args, environ, clocks, random, stdio, sockets, and the
// mapping of the capability layer's codes to P1 errnos. Filesystem functions are in fs.cc,
// poll_oneoff in poll.cc, registration in register.cc; what they do is the capability
// layer's (core.h).
#include "wasi/host.h"

#include <sys/stat.h>

#include <algorithm>
#include <cstring>
#include <string>
#include <thread>

namespace wasmcap {

using namespace wasi;

Result<void> WasiHost::init() {
  WASMCAP_TRY(core_.init());
  // Guest fds 0..2 are always present; rights reflect what the stream can do.
  auto stdio = [this](int i, Rights rights) {
    auto e = std::make_unique<FdEntry>();
    e->desc = core_.stdio(i);
    e->base = rights;
    e->inheriting = 0;
    return e;
  };
  fds_.push_back(stdio(0, kRightFdRead | kRightPollFdReadwrite | kRightFdFilestatGet));
  fds_.push_back(stdio(1, kRightFdWrite | kRightPollFdReadwrite | kRightFdFilestatGet));
  fds_.push_back(stdio(2, kRightFdWrite | kRightPollFdReadwrite | kRightFdFilestatGet));
  // Inherited descriptors at the numbers the embedder chose; every other number up to the
  // highest stays closed, and the preopens follow it (wasi.h WasiConfig::inherited_fds).
  const uint32_t max_fds = config().max_fds;
  for (size_t i = 0; i < core_.inherited().size(); ++i) {
    const auto& in = config().inherited_fds[i];
    if (in.guest_fd < 3 || in.guest_fd >= max_fds) {
      return make_error(ErrorCode::kInvalidArgument,
                        "inherited descriptor " + std::to_string(in.guest_fd) +
                            " is outside 3.." + std::to_string(max_fds - 1));
    }
    if (in.guest_fd < fds_.size() && fds_[in.guest_fd]) {
      return make_error(ErrorCode::kInvalidArgument,
                        "descriptor " + std::to_string(in.guest_fd) + " is inherited twice");
    }
    auto e = std::make_unique<FdEntry>();
    e->desc = core_.inherited()[i];
    // The null device: only reads and writes (its size and times are the host's).
    e->base = in.host_fd < 0 ? kRightFdRead | kRightFdWrite | kRightPollFdReadwrite |
                                   kRightFdFilestatGet | kRightFdFdstatSetFlags
                             : kFileRights;
    if (!in.read) e->base &= ~kRightFdRead;
    if (!in.write) e->base &= ~kWriteRights;
    if (fds_.size() <= in.guest_fd) fds_.resize(in.guest_fd + 1);
    fds_[in.guest_fd] = std::move(e);
  }
  preopen_base_ = static_cast<uint32_t>(fds_.size());
  // The preopens, in order (Core::init checked that they fit after stdio alone).
  for (size_t i = 0; i < core_.preopens().size(); ++i) {
    if (fds_.size() >= max_fds) {
      return make_error(ErrorCode::kInvalidArgument, "more preopens than max_fds allows");
    }
    auto e = std::make_unique<FdEntry>();
    e->desc = core_.preopens()[i];
    if (i >= config().preopens.size() || !config().preopens[i].denied) {  // (then /dev)
      // A denied preopen keeps zero rights: every operation is refused by get_fd's rights
      // check (ENOTCAPABLE).
      e->base = kDirectoryRights;
      e->inheriting = kDirectoryRights | kFileRights;
      if (e->desc->read_only) {
        // Read-only preopen: strip every right that could modify the tree, here and below.
        e->base &= ~kWriteRights;
        e->inheriting &= ~kWriteRights;
      }
    }
    fds_.push_back(std::move(e));
  }
  return {};
}

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

Filetype wasi::to_p1(FileType t) {
  switch (t) {
    case FileType::kUnknown: return kFiletypeUnknown;
    case FileType::kBlockDevice: return kFiletypeBlockDevice;
    case FileType::kCharacterDevice: return kFiletypeCharacterDevice;
    case FileType::kDirectory: return kFiletypeDirectory;
    case FileType::kRegularFile: return kFiletypeRegularFile;
    case FileType::kSocket: return kFiletypeSocketStream;
    case FileType::kSymlink: return kFiletypeSymbolicLink;
    case FileType::kFifo: return kFiletypeUnknown;  // FIFOs have no P1 filetype
  }
  return kFiletypeUnknown;
}

Fdflags wasi::p1_fdflags(const DescFlags& f) {
  return static_cast<Fdflags>((f.append ? kFdflagAppend : 0) | (f.dsync ? kFdflagDsync : 0) |
                              (f.nonblock ? kFdflagNonblock : 0) | (f.rsync ? kFdflagRsync : 0) |
                              (f.sync ? kFdflagSync : 0));
}

DescFlags wasi::desc_flags(Fdflags f) {
  DescFlags d;
  d.append = (f & kFdflagAppend) != 0;
  d.dsync = (f & kFdflagDsync) != 0;
  d.nonblock = (f & kFdflagNonblock) != 0;
  d.rsync = (f & kFdflagRsync) != 0;
  d.sync = (f & kFdflagSync) != 0;
  return d;
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
  if (fds_.size() >= config().max_fds) return kEmfile;  // the entry's description closes
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
    uint64_t room = config().max_io_bytes > total ? config().max_io_bytes - total : 0;
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

}  // namespace

Errno WasiHost::args_get(const GuestMemory& m, uint32_t argv, uint32_t argv_buf) {
  return write_string_list(m, core_.args(), argv, argv_buf);
}
Errno WasiHost::args_sizes_get(const GuestMemory& m, uint32_t argc_out, uint32_t size_out) {
  return write_sizes(m, core_.args(), argc_out, size_out);
}
Errno WasiHost::environ_get(const GuestMemory& m, uint32_t environ, uint32_t environ_buf) {
  return write_string_list(m, core_.environ_strings(), environ, environ_buf);
}
Errno WasiHost::environ_sizes_get(const GuestMemory& m, uint32_t count_out, uint32_t size_out) {
  return write_sizes(m, core_.environ_strings(), count_out, size_out);
}

// --- clocks -----------------------------------------------------------------------------------

Errno WasiHost::p1_clock(uint32_t id, Clock* out) const {
  switch (id) {
    case kClockRealtime: *out = Clock::kRealtime; break;
    case kClockMonotonic: *out = Clock::kMonotonic; break;
    case kClockProcessCputime: *out = Clock::kProcessCputime; break;
    case kClockThreadCputime: *out = Clock::kThreadCputime; break;
    default: return kEinval;
  }
  return to_p1(core_.check_clock(*out));
}

Errno WasiHost::clock_res_get(const GuestMemory& m, uint32_t id, uint32_t out) {
  Clock c;
  if (Errno r = p1_clock(id, &c)) return r;
  auto res = core_.clock_resolution(c);
  if (!res) return to_p1(res.error());
  return m.store<uint64_t>(out, *res) ? kSuccess : kEfault;
}

Errno WasiHost::clock_time_get(const GuestMemory& m, uint32_t id, uint64_t, uint32_t out) {
  Clock c;
  if (Errno r = p1_clock(id, &c)) return r;
  if (!m.in_bounds(out, 8)) return kEfault;  // before reading: a fixed clock would advance
  auto ns = core_.clock_now(c, true);
  if (!ns) return to_p1(ns.error());
  return m.store<uint64_t>(out, *ns) ? kSuccess : kEfault;
}

// --- fd table ---------------------------------------------------------------------------------

Errno WasiHost::fd_close(const GuestMemory&, uint32_t fd) {
  FdEntry* e = nullptr;
  if (Errno r = get_fd(fd, 0, &e)) return r;
  // Preopens may be closed like any fd (wasi-libc does so); stdio too.
  fds_[fd].reset();
  return kSuccess;
}

Errno WasiHost::fd_fdstat_get(const GuestMemory& m, uint32_t fd, uint32_t out) {
  FdEntry* e = nullptr;
  if (Errno r = get_fd(fd, 0, &e)) return r;
  if (!m.in_bounds(out, kFdstatSize)) return kEfault;
  uint8_t* p = m.range(out, kFdstatSize);
  std::memset(p, 0, kFdstatSize);
  m.store<uint8_t>(out, to_p1(e->desc->type));
  m.store<uint16_t>(out + 2, p1_fdflags(e->desc->flags));
  m.store<uint64_t>(out + 8, e->base);
  m.store<uint64_t>(out + 16, e->inheriting);
  return kSuccess;
}

Errno WasiHost::fd_prestat_get(const GuestMemory& m, uint32_t fd, uint32_t out) {
  FdEntry* e = nullptr;
  Errno r = get_fd(fd, 0, &e);
  if (r != kSuccess || e->desc->preopen_name.empty()) {
    // A number below the preopens (inherited, or left closed by the embedder): not a directory,
    // and not the end of a libc's scan for preopens either (wasi.h WasiConfig::inherited_fds).
    if (fd < 3 || fd >= preopen_base_) {
      if (r != kSuccess) return r;
      return kEbadf;
    }
    if (!m.in_bounds(out, kPrestatSize)) return kEfault;
    std::memset(m.range(out, kPrestatSize), 0, kPrestatSize);
    m.store<uint8_t>(out, kPreopentypeNotDir);
    return kSuccess;
  }
  const std::string& name = e->desc->preopen_name;
  if (!m.in_bounds(out, kPrestatSize)) return kEfault;
  std::memset(m.range(out, kPrestatSize), 0, kPrestatSize);
  m.store<uint8_t>(out, kPreopentypeDir);
  m.store<uint32_t>(out + 4, static_cast<uint32_t>(name.size()));
  return kSuccess;
}

Errno WasiHost::fd_prestat_dir_name(const GuestMemory& m, uint32_t fd, uint32_t path,
                                    uint32_t len) {
  FdEntry* e = nullptr;
  if (Errno r = get_fd(fd, 0, &e)) return r;
  const std::string& name = e->desc->preopen_name;
  if (name.empty()) return kEbadf;
  if (len < name.size()) return kEnametoolong;
  uint8_t* p = m.range(path, name.size());
  if (p == nullptr) return kEfault;
  std::memcpy(p, name.data(), name.size());
  return kSuccess;
}

Errno WasiHost::fd_renumber(const GuestMemory&, uint32_t from, uint32_t to) {
  FdEntry* src = nullptr;
  FdEntry* dst = nullptr;
  if (Errno r = get_fd(from, 0, &src)) return r;
  if (Errno r = get_fd(to, 0, &dst)) return r;
  if (from == to) return kSuccess;
  fds_[to] = std::move(fds_[from]);  // to's description closes unless shared
  return kSuccess;
}

// --- read / write -----------------------------------------------------------------------------

Errno WasiHost::fd_write(const GuestMemory& m, uint32_t fd, uint32_t iovs, uint32_t iovs_len,
                         uint32_t nwritten_out) {
  FdEntry* e = nullptr;
  if (Errno r = get_fd(fd, kRightFdWrite, &e)) return r;
  if (!m.in_bounds(nwritten_out, 4)) return kEfault;
  std::vector<IoSlice> slices;
  if (Errno r = read_iovecs(m, iovs, iovs_len, &slices)) return r;
  auto n = core_.write(*e->desc, slices);
  if (!n) return to_p1(n.error());
  m.store<uint32_t>(nwritten_out, static_cast<uint32_t>(*n));
  return kSuccess;
}

Errno WasiHost::fd_read(const GuestMemory& m, uint32_t fd, uint32_t iovs, uint32_t iovs_len,
                        uint32_t nread_out) {
  FdEntry* e = nullptr;
  if (Errno r = get_fd(fd, kRightFdRead, &e)) return r;
  if (!m.in_bounds(nread_out, 4)) return kEfault;
  std::vector<IoSlice> slices;
  if (Errno r = read_iovecs(m, iovs, iovs_len, &slices)) return r;
  auto n = core_.read(*e->desc, slices);
  if (!n) return to_p1(n.error());
  m.store<uint32_t>(nread_out, static_cast<uint32_t>(*n));
  return kSuccess;
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
  if (Errno r = to_p1(core_.check_random())) return r;
  uint8_t* p = m.range(buf, len);
  if (p == nullptr) return kEfault;
  return to_p1(core_.random_fill(p, len));
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

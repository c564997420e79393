// WASI filesystem functions: fd_* on files and directories, path_* beneath directory fds.
//
// Security model (each check below names the threat it stops):
//   - Capabilities: a guest reaches files only through directory fds it was given (preopens)
//     or opened beneath them. Every path is resolved by resolve_path() (path.h), which never
//     leaves the directory fd it starts from; the final entry is then operated on with *at()
//     syscalls relative to the resolved parent, never following a final symlink by itself.
//   - Rights: every call checks the fd's base rights (ENOTCAPABLE when lacking); path_open
//     grants at most the parent's inheriting rights; fd_fdstat_set_rights can only drop.
//   - Read-only preopens: their rights (and everything opened beneath them) lack every
//     modifying right (host.cc strips kWriteRights), and FdEntry::read_only is checked again
//     here before every modification. Both refusals use ENOTCAPABLE, so a guest sees the same
//     errno whichever check stops it (never EROFS: the host filesystem is not read-only).
//   - Guest memory: every pointer goes through GuestMemory (EFAULT when out of range), and
//     host-side buffers are bounded (no allocation sized by the guest).
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstring>

#include "wasi/host.h"
#include "wasi/path.h"

namespace wasmcap {
using namespace wasi;

namespace {

constexpr uint32_t kValidFdflags =
    kFdflagAppend | kFdflagDsync | kFdflagNonblock | kFdflagRsync | kFdflagSync;
constexpr uint32_t kValidOflags = kOflagCreat | kOflagDirectory | kOflagExcl | kOflagTrunc;
constexpr uint32_t kValidFstflags = kFstAtim | kFstAtimNow | kFstMtim | kFstMtimNow;
// fd_readdir checks the deadline, interrupt and fuel once per this many directory entries.
constexpr uint32_t kReaddirCheckEvery = 256;

Filetype filetype_from_mode(mode_t mode) {
  if (S_ISREG(mode)) return kFiletypeRegularFile;
  if (S_ISDIR(mode)) return kFiletypeDirectory;
  if (S_ISLNK(mode)) return kFiletypeSymbolicLink;
  if (S_ISCHR(mode)) return kFiletypeCharacterDevice;
  if (S_ISBLK(mode)) return kFiletypeBlockDevice;
  if (S_ISSOCK(mode)) return kFiletypeSocketStream;
  return kFiletypeUnknown;  // FIFOs have no WASI filetype
}

Filetype filetype_from_dirent(unsigned char t) {
  switch (t) {
    case DT_REG: return kFiletypeRegularFile;
    case DT_DIR: return kFiletypeDirectory;
    case DT_LNK: return kFiletypeSymbolicLink;
    case DT_CHR: return kFiletypeCharacterDevice;
    case DT_BLK: return kFiletypeBlockDevice;
    case DT_SOCK: return kFiletypeSocketStream;
    default: return kFiletypeUnknown;
  }
}

uint64_t to_ns(const timespec& ts) {
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + static_cast<uint64_t>(ts.tv_nsec);
}

// Caller has checked [out, out+kFilestatSize) is in bounds.
void store_filestat(const GuestMemory& m, uint32_t out, const struct stat& st) {
  std::memset(m.range(out, kFilestatSize), 0, kFilestatSize);
  m.store<uint64_t>(out + 0, static_cast<uint64_t>(st.st_dev));
  m.store<uint64_t>(out + 8, static_cast<uint64_t>(st.st_ino));
  m.store<uint8_t>(out + 16, filetype_from_mode(st.st_mode));
  m.store<uint64_t>(out + 24, static_cast<uint64_t>(st.st_nlink));
  m.store<uint64_t>(out + 32, static_cast<uint64_t>(st.st_size));
  m.store<uint64_t>(out + 40, to_ns(st.st_atim));
  m.store<uint64_t>(out + 48, to_ns(st.st_mtim));
  m.store<uint64_t>(out + 56, to_ns(st.st_ctim));
}

// WASI (atim, mtim, fst_flags) -> utimensat times. EINVAL for contradictory/unknown flags.
// The *_NOW flags stand for host.now_for_timestamps(): the pinned clock under a fixed clock,
// ENOTCAPABLE without a wall-clock grant.
Errno make_times(WasiHost& host, uint64_t atim, uint64_t mtim, uint32_t fst, timespec ts[2]) {
  if ((fst & ~kValidFstflags) != 0) return kEinval;
  if ((fst & kFstAtim) && (fst & kFstAtimNow)) return kEinval;
  if ((fst & kFstMtim) && (fst & kFstMtimNow)) return kEinval;
  timespec now_ts{};
  if (fst & (kFstAtimNow | kFstMtimNow)) {
    if (Errno r = host.now_for_timestamps(&now_ts)) return r;
  }
  auto one = [&now_ts](uint64_t t, bool set, bool now, timespec* out) {
    if (now) {
      *out = now_ts;
    } else if (set) {
      out->tv_sec = static_cast<time_t>(t / 1000000000ull);
      out->tv_nsec = static_cast<long>(t % 1000000000ull);
    } else {
      out->tv_sec = 0;
      out->tv_nsec = UTIME_OMIT;
    }
  };
  one(atim, fst & kFstAtim, fst & kFstAtimNow, &ts[0]);
  one(mtim, fst & kFstMtim, fst & kFstMtimNow, &ts[1]);
  return kSuccess;
}

bool is_host_file(const FdEntry& e) {
  return (e.kind == FdKind::kFile || e.kind == FdKind::kDir) && e.host_fd >= 0;
}

// Name to hand the kernel for syscalls that never follow their final component (mkdirat,
// unlinkat, renameat, symlinkat/linkat new path): keeping the trailing slash lets the kernel
// apply POSIX's "must be a directory" rule itself without any following.
std::string parent_op_name(const ResolvedPath& rp) {
  if (rp.trailing_slash && rp.name != ".") return rp.name + "/";
  return rp.name;
}

// For operations whose final entry we resolved with following (a trailing slash forces it):
// the path named a directory, so the entry, if it exists, must be one.
Errno require_dir_if_slash(const ResolvedPath& rp) {
  if (!rp.trailing_slash) return kSuccess;
  struct stat st {};
  if (::fstatat(rp.dir.get(), rp.name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
    return WasiHost::errno_from_host(errno);
  }
  return S_ISDIR(st.st_mode) ? kSuccess : kEnotdir;
}

// Threat: modifying a tree preopened read-only. Rights already exclude it; this second
// check keeps the guarantee even if rights were mis-granted. ENOTCAPABLE, like a missing right.
Errno deny_read_only(const FdEntry& e) { return e.read_only ? kEnotcapable : kSuccess; }

}  // namespace

// Looks up a directory fd for a path_* call: EBADF if absent, ENOTDIR if not a directory,
// ENOTCAPABLE if lacking `rights` or backed by no host directory (a denied preopen).
static Errno get_dir_fd(WasiHost& h, uint32_t fd, Rights rights, FdEntry** out) {
  FdEntry* e = nullptr;
  if (Errno r = h.get_fd(fd, 0, &e)) return r;
  if (e->kind != FdKind::kDir) return kEnotdir;
  if ((e->base & rights) != rights || e->host_fd < 0) return kEnotcapable;
  *out = e;
  return kSuccess;
}

// Threat: moving an operator-provided symlink that climbs (`sub/up -> ..`) to a shallower
// place, or linking it there, makes it point outside the preopen for host software. The entry
// `name` in `dir` may be moved (rename) or linked only if it is not such a symlink and, when
// `whole_tree` (rename of a directory), nothing beneath it is one. EPERM when it is; EXDEV
// when the tree is too large to check (kMaxMoveScanEntries: `mv` then copies instead); EINTR
// (with the run ending) when the deadline, interrupt or fuel stops the check.
static Errno check_movable(WasiHost& h, int dir, const std::string& name, bool whole_tree) {
  if (name == ".") return kSuccess;  // the kernel refuses to move "." (EBUSY/EINVAL) anyway
  struct stat st {};
  if (::fstatat(dir, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) return kSuccess;  // kernel says
  if (S_ISLNK(st.st_mode)) {
    char buf[4096];
    ssize_t n = ::readlinkat(dir, name.c_str(), buf, sizeof buf);
    if (n < 0) return WasiHost::errno_from_host(errno);
    return symlink_target_descends(std::string_view(buf, static_cast<size_t>(n))) ? kSuccess
                                                                                 : kEperm;
  }
  if (!whole_tree || !S_ISDIR(st.st_mode)) return kSuccess;
  int sub = ::openat(dir, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (sub < 0) return WasiHost::errno_from_host(errno);
  UniqueFd guard(sub);
  int err = 0;
  ScanResult r = scan_for_climbing_links(
      sub, [](void* p) { return static_cast<WasiHost*>(p)->may_continue(); }, &h, &err);
  switch (r) {
    case ScanResult::kClean: return kSuccess;
    case ScanResult::kFound: return kEperm;
    case ScanResult::kTooLarge: return kExdev;
    case ScanResult::kStopped: return kEintr;
    case ScanResult::kError: return WasiHost::errno_from_host(err);
  }
  return kEperm;
}

// How a path_* call treats the final component.
enum class Final {
  // The call acts on the directory entry itself (mkdir, unlink, rmdir, rename, symlink and
  // link's new path): never followed; a trailing slash is passed on to the kernel, whose
  // *at() calls for these never follow their last component either.
  kEntry,
  kNoFollow,  // lookupflags without SYMLINK_FOLLOW
  kFollow,    // lookupflags with SYMLINK_FOLLOW
};

// get_dir_fd + read the guest path + resolve it beneath the directory.
static Errno resolve_at(WasiHost& h, const GuestMemory& m, uint32_t fd, Rights rights,
                        uint32_t path, uint32_t len, Final final_mode, FdEntry** e,
                        ResolvedPath* rp, std::string* guest_path = nullptr) {
  if (Errno r = get_dir_fd(h, fd, rights, e)) return r;
  std::string p;
  if (Errno r = h.read_path(m, path, len, &p)) return r;
  bool follow = final_mode == Final::kFollow;
  // POSIX: a trailing slash makes the final symlink be followed (the path names a directory).
  // For calls that read through the entry (stat, open, utimes, readlink, link's old path) we
  // must not let the kernel do that following (it would not stay beneath the directory), so
  // the resolver follows instead and the caller checks for a directory.
  if (final_mode != Final::kEntry && has_trailing_slash(p)) follow = true;
  if (Errno r = to_p1(resolve_path((*e)->host_fd, p, follow, rp))) return r;
  if (guest_path != nullptr) *guest_path = std::move(p);
  return kSuccess;
}

// --- fd_* -------------------------------------------------------------------------------------

Errno WasiHost::fd_advise(const GuestMemory&, uint32_t fd, uint64_t offset, uint64_t len,
                          uint32_t advice) {
  FdEntry* e = nullptr;
  if (Errno r = get_fd(fd, kRightFdAdvise, &e)) return r;
  if (advice > kAdviceNoreuse) return kEinval;
  if (offset > INT64_MAX || len > INT64_MAX) return kEinval;
  if (!is_host_file(*e)) return kEspipe;
  if (e->kind == FdKind::kDir) return kEbadf;
  static constexpr int kHostAdvice[] = {POSIX_FADV_NORMAL,   POSIX_FADV_SEQUENTIAL,
                                        POSIX_FADV_RANDOM,   POSIX_FADV_WILLNEED,
                                        POSIX_FADV_DONTNEED, POSIX_FADV_NOREUSE};
  int err = ::posix_fadvise(e->host_fd, static_cast<off_t>(offset), static_cast<off_t>(len),
                            kHostAdvice[advice]);
  return errno_from_host(err);
}

Errno WasiHost::fd_allocate(const GuestMemory&, uint32_t fd, uint64_t offset, uint64_t len) {
  FdEntry* e = nullptr;
  if (Errno r = get_fd(fd, kRightFdAllocate, &e)) return r;
  if (Errno r = deny_read_only(*e)) return r;
  if (e->kind == FdKind::kDir) return kEisdir;
  if (!is_host_file(*e)) return kEbadf;
  // Threat: offset + len overflowing off_t (kernel UB-free, but refuse clearly).
  if (offset > INT64_MAX || len > INT64_MAX || offset > INT64_MAX - len) return kEfbig;
  if (len == 0) return kEinval;
  // fallocate(2), not posix_fallocate(3): where the filesystem cannot preallocate, glibc's
  // emulation writes a byte per block over a guest-chosen (huge) range, stalling the host.
  // Such filesystems give ENOTSUP here instead.
  if (::fallocate(e->host_fd, 0, static_cast<off_t>(offset), static_cast<off_t>(len)) != 0) {
    return errno_from_host(errno);
  }
  return kSuccess;
}

Errno WasiHost::fd_datasync(const GuestMemory&, uint32_t fd) {
  FdEntry* e = nullptr;
  if (Errno r = get_fd(fd, kRightFdDatasync, &e)) return r;
  if (!is_host_file(*e)) return kEinval;
  if (::fdatasync(e->host_fd) != 0) return errno_from_host(errno);
  return kSuccess;
}

Errno WasiHost::fd_sync(const GuestMemory&, uint32_t fd) {
  FdEntry* e = nullptr;
  if (Errno r = get_fd(fd, kRightFdSync, &e)) return r;
  if (!is_host_file(*e)) return kEinval;
  if (::fsync(e->host_fd) != 0) return errno_from_host(errno);
  return kSuccess;
}

Errno WasiHost::fd_fdstat_set_flags(const GuestMemory&, uint32_t fd, uint32_t flags) {
  FdEntry* e = nullptr;
  if (Errno r = get_fd(fd, kRightFdFdstatSetFlags, &e)) return r;
  if ((flags & ~kValidFdflags) != 0) return kEinval;
  if (!is_host_file(*e)) return kEbadf;
  // Linux cannot change O_DSYNC/O_SYNC/O_RSYNC on an open fd (F_SETFL ignores them).
  constexpr uint32_t kSyncFlags = kFdflagDsync | kFdflagRsync | kFdflagSync;
  if ((flags & kSyncFlags) != (e->flags & kSyncFlags)) return kEnotsup;
  // Threat: turning a read-only file into an appendable one is not a modification by itself
  // (the fd still lacks fd_write), so APPEND needs no extra check here.
  int fl = ::fcntl(e->host_fd, F_GETFL);
  if (fl < 0) return errno_from_host(errno);
  fl &= ~(O_APPEND | O_NONBLOCK);
  if (flags & kFdflagAppend) fl |= O_APPEND;
  if (flags & kFdflagNonblock) fl |= O_NONBLOCK;
  if (::fcntl(e->host_fd, F_SETFL, fl) != 0) return errno_from_host(errno);
  e->flags = static_cast<Fdflags>(flags);
  return kSuccess;
}

Errno WasiHost::fd_fdstat_set_rights(const GuestMemory&, uint32_t fd, uint64_t base,
                                     uint64_t inheriting) {
  FdEntry* e = nullptr;
  if (Errno r = get_fd(fd, 0, &e)) return r;
  // Threat: privilege escalation. Rights can only be dropped, never added back.
  if ((base & ~e->base) != 0 || (inheriting & ~e->inheriting) != 0) return kEnotcapable;
  e->base = base;
  e->inheriting = inheriting;
  return kSuccess;
}

Errno WasiHost::fd_filestat_get(const GuestMemory& m, uint32_t fd, uint32_t out) {
  FdEntry* e = nullptr;
  if (Errno r = get_fd(fd, kRightFdFilestatGet, &e)) return r;
  if (!m.in_bounds(out, kFilestatSize)) return kEfault;
  if (!is_host_file(*e)) {
    // stdio: only the type fdstat reports (host.cc, stdio_filetype), without exposing the
    // host's stdio objects (their device/inode numbers, sizes, times).
    std::memset(m.range(out, kFilestatSize), 0, kFilestatSize);
    m.store<uint8_t>(out + 16, e->filetype);
    return kSuccess;
  }
  struct stat st {};
  if (::fstat(e->host_fd, &st) != 0) return errno_from_host(errno);
  store_filestat(m, out, st);
  return kSuccess;
}

Errno WasiHost::fd_filestat_set_size(const GuestMemory&, uint32_t fd, uint64_t size) {
  FdEntry* e = nullptr;
  if (Errno r = get_fd(fd, kRightFdFilestatSetSize, &e)) return r;
  if (Errno r = deny_read_only(*e)) return r;
  if (e->kind == FdKind::kDir) return kEisdir;
  if (!is_host_file(*e)) return kEinval;
  if (size > INT64_MAX) return kEfbig;
  if (::ftruncate(e->host_fd, static_cast<off_t>(size)) != 0) return errno_from_host(errno);
  return kSuccess;
}

Errno WasiHost::fd_filestat_set_times(const GuestMemory&, uint32_t fd, uint64_t atim,
                                      uint64_t mtim, uint32_t fst_flags) {
  FdEntry* e = nullptr;
  if (Errno r = get_fd(fd, kRightFdFilestatSetTimes, &e)) return r;
  if (Errno r = deny_read_only(*e)) return r;
  timespec ts[2];
  if (Errno r = make_times(*this, atim, mtim, fst_flags, ts)) return r;
  if (!is_host_file(*e)) return kEbadf;
  if (::futimens(e->host_fd, ts) != 0) return errno_from_host(errno);
  return kSuccess;
}

Errno WasiHost::fd_pread(const GuestMemory& m, uint32_t fd, uint32_t iovs, uint32_t iovs_len,
                         uint64_t offset, uint32_t nread_out) {
  FdEntry* e = nullptr;
  if (Errno r = get_fd(fd, kRightFdRead | kRightFdSeek, &e)) return r;
  if (!m.in_bounds(nread_out, 4)) return kEfault;
  if (e->kind == FdKind::kDir) return kEisdir;
  if (!is_host_file(*e)) return kEspipe;
  if (offset > INT64_MAX) return kEinval;
  std::vector<IoSlice> slices;
  if (Errno r = read_iovecs(m, iovs, iovs_len, &slices)) return r;
  uint64_t done = 0;
  int err = file_io(e->host_fd, false, slices, static_cast<int64_t>(offset), false, &done);
  if (termination_) return kEintr;  // deadline, interrupt or fuel: the run ends
  if (err != 0) return errno_from_host(err);
  m.store<uint32_t>(nread_out, static_cast<uint32_t>(done));
  return kSuccess;
}

Errno WasiHost::fd_pwrite(const GuestMemory& m, uint32_t fd, uint32_t iovs, uint32_t iovs_len,
                          uint64_t offset, uint32_t nwritten_out) {
  FdEntry* e = nullptr;
  if (Errno r = get_fd(fd, kRightFdWrite | kRightFdSeek, &e)) return r;
  if (Errno r = deny_read_only(*e)) return r;
  if (!m.in_bounds(nwritten_out, 4)) return kEfault;
  if (e->kind == FdKind::kDir) return kEisdir;
  if (!is_host_file(*e)) return kEspipe;
  if (offset > INT64_MAX) return kEinval;
  std::vector<IoSlice> slices;
  if (Errno r = read_iovecs(m, iovs, iovs_len, &slices)) return r;
  // Note: on an O_APPEND fd Linux appends regardless of offset (the suite accepts both).
  uint64_t done = 0;
  int err = file_io(e->host_fd, true, slices, static_cast<int64_t>(offset), false, &done);
  if (termination_) return kEintr;  // deadline, interrupt or fuel: the run ends
  if (err != 0) return errno_from_host(err);
  m.store<uint32_t>(nwritten_out, static_cast<uint32_t>(done));
  return kSuccess;
}

Errno WasiHost::fd_readdir(const GuestMemory& m, uint32_t fd, uint32_t buf, uint32_t buf_len,
                           uint64_t cookie, uint32_t bufused_out) {
  FdEntry* e = nullptr;
  if (Errno r = get_fd(fd, kRightFdReaddir, &e)) return r;
  if (e->kind != FdKind::kDir || e->host_fd < 0) return kEnotdir;
  uint8_t* dst = m.range(buf, buf_len);
  if (dst == nullptr || !m.in_bounds(bufused_out, 4)) return kEfault;

  if (e->dir_stream == nullptr) {
    // The stream owns a duplicate, so closing the entry (closedir + close) frees both.
    int dup = ::fcntl(e->host_fd, F_DUPFD_CLOEXEC, 0);
    if (dup < 0) return errno_from_host(errno);
    DIR* d = ::fdopendir(dup);
    if (d == nullptr) {
      int err = errno;
      ::close(dup);
      return errno_from_host(err);
    }
    ::rewinddir(d);
    e->dir_stream = d;
    e->dir_cookie = 0;
  }
  DIR* d = e->dir_stream;
  // Cookies are entry positions: entry i (0-based) has d_next = i + 1; cookie c resumes at
  // entry c. A cookie other than where the stream stands rewinds and skips (bounded by the
  // directory's size; a huge cookie just reaches the end).
  if (cookie != e->dir_cookie) {
    ::rewinddir(d);
    e->dir_cookie = 0;
    while (e->dir_cookie < cookie) {
      // A skip over a huge directory is host work like a transfer: metered and interruptible.
      if (e->dir_cookie % kReaddirCheckEvery == 0 && !may_continue()) return kEintr;
      charge_bytes(kDirentSize);
      errno = 0;
      if (::readdir(d) == nullptr) {
        if (errno != 0) return errno_from_host(errno);
        break;
      }
      ++e->dir_cookie;
    }
  }

  // Entries are serialised straight into guest memory (no host buffer sized by the guest).
  // As many bytes as fit are written; a truncated last entry leaves bufused == buf_len, which
  // tells the guest to retry from that entry's cookie with a bigger buffer.
  // No byte cap here (bufused < buf_len tells the guest the directory ended, so a reply cannot
  // be cut short): the work is bounded by the directory's size, metered per entry, and the
  // deadline, interrupt and fuel are checked every kReaddirCheckEvery entries.
  uint32_t used = 0;
  uint32_t entries = 0;
  while (used < buf_len) {
    if (++entries % kReaddirCheckEvery == 0 && !may_continue()) return kEintr;
    long pos = ::telldir(d);
    errno = 0;
    struct dirent* ent = ::readdir(d);
    if (ent == nullptr) {
      if (errno != 0) return errno_from_host(errno);
      break;  // end of directory: bufused < buf_len
    }
    size_t namlen = std::strlen(ent->d_name);
    Filetype type = filetype_from_dirent(ent->d_type);
    bool dots = std::strcmp(ent->d_name, ".") == 0 || std::strcmp(ent->d_name, "..") == 0;
    if (dots) {
      // Never stat ".." (at a preopen it is outside the sandbox); it is a directory.
      type = kFiletypeDirectory;
    } else if (ent->d_type == DT_UNKNOWN) {
      struct stat st {};
      // d_name is a single component from this directory: no path resolution involved.
      if (::fstatat(e->host_fd, ent->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
        type = filetype_from_mode(st.st_mode);
      }
    }
    uint8_t header[kDirentSize] = {};
    uint64_t next = e->dir_cookie + 1;
    uint64_t ino = ent->d_ino;
    uint32_t nl = static_cast<uint32_t>(namlen);
    std::memcpy(header + 0, &next, 8);
    std::memcpy(header + 8, &ino, 8);
    std::memcpy(header + 16, &nl, 4);
    header[20] = type;
    uint64_t total = kDirentSize + namlen;
    uint32_t room = buf_len - used;
    uint32_t take = static_cast<uint32_t>(std::min<uint64_t>(total, room));
    uint32_t h = std::min<uint32_t>(take, kDirentSize);
    std::memcpy(dst + used, header, h);
    if (take > kDirentSize) std::memcpy(dst + used + kDirentSize, ent->d_name, take - kDirentSize);
    used += take;
    charge_bytes(take);
    if (take < total) {
      // Not fully delivered: leave the stream on this entry so resuming is cheap.
      ::seekdir(d, pos);
      break;
    }
    ++e->dir_cookie;
  }
  m.store<uint32_t>(bufused_out, used);
  if (termination_) return kEintr;  // fuel spent by this reply: the run ends
  return kSuccess;
}

Errno WasiHost::fd_seek(const GuestMemory& m, uint32_t fd, uint64_t offset, uint32_t whence,
                        uint32_t newoffset_out) {
  FdEntry* e = nullptr;
  // A pure "where am I" query needs only fd_tell.
  Rights need = (offset == 0 && whence == kWhenceCur) ? kRightFdTell : kRightFdSeek;
  if (Errno r = get_fd(fd, need, &e)) return r;
  if (!m.in_bounds(newoffset_out, 8)) return kEfault;
  int w;
  switch (whence) {
    case kWhenceSet: w = SEEK_SET; break;
    case kWhenceCur: w = SEEK_CUR; break;
    case kWhenceEnd: w = SEEK_END; break;
    default: return kEinval;
  }
  if (e->kind == FdKind::kDir) return kEisdir;
  if (!is_host_file(*e)) return kEspipe;
  off_t r = ::lseek(e->host_fd, static_cast<off_t>(offset), w);
  if (r < 0) return errno_from_host(errno);
  m.store<uint64_t>(newoffset_out, static_cast<uint64_t>(r));
  return kSuccess;
}

Errno WasiHost::fd_tell(const GuestMemory& m, uint32_t fd, uint32_t offset_out) {
  FdEntry* e = nullptr;
  if (Errno r = get_fd(fd, kRightFdTell, &e)) return r;
  if (!m.in_bounds(offset_out, 8)) return kEfault;
  if (e->kind == FdKind::kDir) return kEisdir;
  if (!is_host_file(*e)) return kEspipe;
  off_t r = ::lseek(e->host_fd, 0, SEEK_CUR);
  if (r < 0) return errno_from_host(errno);
  m.store<uint64_t>(offset_out, static_cast<uint64_t>(r));
  return kSuccess;
}

// --- path_* -----------------------------------------------------------------------------------

Errno WasiHost::path_create_directory(const GuestMemory& m, uint32_t fd, uint32_t path,
                                      uint32_t len) {
  FdEntry* e = nullptr;
  ResolvedPath rp;
  if (Errno r = resolve_at(*this, m, fd, kRightPathCreateDirectory, path, len, Final::kEntry, &e,
                           &rp)) {
    return r;
  }
  if (Errno r = deny_read_only(*e)) return r;
  if (::mkdirat(rp.dir.get(), parent_op_name(rp).c_str(), 0777) != 0) {
    return errno_from_host(errno);
  }
  return kSuccess;
}

Errno WasiHost::path_filestat_get(const GuestMemory& m, uint32_t fd, uint32_t flags,
                                  uint32_t path, uint32_t len, uint32_t out) {
  FdEntry* e = nullptr;
  ResolvedPath rp;
  bool follow = (flags & kLookupSymlinkFollow) != 0;
  if (Errno r = resolve_at(*this, m, fd, kRightPathFilestatGet, path, len,
                           follow ? Final::kFollow : Final::kNoFollow, &e, &rp)) {
    return r;
  }
  if (!m.in_bounds(out, kFilestatSize)) return kEfault;
  struct stat st {};
  // NOFOLLOW: any following already happened in the resolver, beneath the directory.
  if (::fstatat(rp.dir.get(), rp.name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
    return errno_from_host(errno);
  }
  if (rp.trailing_slash && !S_ISDIR(st.st_mode)) return kEnotdir;
  store_filestat(m, out, st);
  return kSuccess;
}

Errno WasiHost::path_filestat_set_times(const GuestMemory& m, uint32_t fd, uint32_t flags,
                                        uint32_t path, uint32_t len, uint64_t atim,
                                        uint64_t mtim, uint32_t fst_flags) {
  FdEntry* e = nullptr;
  ResolvedPath rp;
  bool follow = (flags & kLookupSymlinkFollow) != 0;
  if (Errno r = resolve_at(*this, m, fd, kRightPathFilestatSetTimes, path, len,
                           follow ? Final::kFollow : Final::kNoFollow, &e,
                           &rp)) {
    return r;
  }
  if (Errno r = deny_read_only(*e)) return r;
  timespec ts[2];
  if (Errno r = make_times(*this, atim, mtim, fst_flags, ts)) return r;
  if (Errno r = require_dir_if_slash(rp)) return r;
  if (::utimensat(rp.dir.get(), rp.name.c_str(), ts, AT_SYMLINK_NOFOLLOW) != 0) {
    return errno_from_host(errno);
  }
  return kSuccess;
}

Errno WasiHost::path_link(const GuestMemory& m, uint32_t old_fd, uint32_t old_flags,
                          uint32_t old_path, uint32_t old_len, uint32_t new_fd,
                          uint32_t new_path, uint32_t new_len) {
  FdEntry* oe = nullptr;
  FdEntry* ne = nullptr;
  ResolvedPath orp, nrp;
  bool follow = (old_flags & kLookupSymlinkFollow) != 0;
  if (Errno r = resolve_at(*this, m, old_fd, kRightPathLinkSource, old_path, old_len,
                           follow ? Final::kFollow : Final::kNoFollow, &oe, &orp)) {
    return r;
  }
  if (Errno r = resolve_at(*this, m, new_fd, kRightPathLinkTarget, new_path, new_len,
                           Final::kEntry, &ne, &nrp)) {
    return r;
  }
  if (Errno r = deny_read_only(*ne)) return r;
  if (Errno r = require_dir_if_slash(orp)) return r;
  if (Errno r = check_movable(*this, orp.dir.get(), orp.name, false)) return r;
  // Both ends were resolved beneath their own directory fds: the new link cannot be placed,
  // nor point, outside the sandbox. Flags 0: linkat does not follow the (already resolved)
  // old entry, so a symlink swapped in meanwhile is linked as itself, not followed.
  if (::linkat(orp.dir.get(), orp.name.c_str(), nrp.dir.get(), parent_op_name(nrp).c_str(), 0) !=
      0) {
    return errno_from_host(errno);
  }
  return kSuccess;
}

Errno WasiHost::path_open(const GuestMemory& m, uint32_t fd, uint32_t dirflags, uint32_t path,
                          uint32_t len, uint32_t oflags, uint64_t base, uint64_t inheriting,
                          uint32_t fdflags, uint32_t fd_out) {
  if (!m.in_bounds(fd_out, 4)) return kEfault;
  if ((oflags & ~kValidOflags) != 0 || (fdflags & ~kValidFdflags) != 0) return kEinval;
  Rights need = kRightPathOpen;
  if (oflags & kOflagCreat) need |= kRightPathCreateFile;
  if (oflags & kOflagTrunc) need |= kRightPathFilestatSetSize;
  FdEntry* dir = nullptr;
  if (Errno r = get_dir_fd(*this, fd, need, &dir)) return r;
  // Threat: creating or truncating in a read-only tree.
  if ((oflags & (kOflagCreat | kOflagTrunc)) != 0) {
    if (Errno r = deny_read_only(*dir)) return r;
  }
  bool follow = (dirflags & kLookupSymlinkFollow) != 0;
  // POSIX: O_CREAT|O_EXCL never follows a final symlink (the link itself makes it exist).
  if ((oflags & kOflagCreat) && (oflags & kOflagExcl)) follow = false;
  ResolvedPath rp;
  std::string guest_path;
  if (Errno r = resolve_at(*this, m, fd, need, path, len,
                           follow ? Final::kFollow : Final::kNoFollow, &dir, &rp, &guest_path)) {
    return r;
  }

  // New rights never exceed what the parent may hand down.
  Rights new_base = base & dir->inheriting;
  Rights new_inheriting = inheriting & dir->inheriting;
  if (dir->read_only) {
    new_base &= ~kWriteRights;
    new_inheriting &= ~kWriteRights;
  }
  bool rd = (new_base & (kRightFdRead | kRightFdReaddir)) != 0;
  bool wr = (new_base & (kRightFdWrite | kRightFdAllocate | kRightFdFilestatSetSize)) != 0;
  int flags = O_CLOEXEC | O_NOCTTY;
  // Threat: the resolver already followed whatever may be followed (beneath the directory);
  // O_NOFOLLOW makes the kernel refuse (ELOOP) a final symlink instead of following it, e.g.
  // one swapped in after resolution.
  flags |= O_NOFOLLOW;
  // Threat: a FIFO in the tree would block the whole runtime in open(); open non-blocking and
  // restore blocking mode afterwards unless the guest asked for NONBLOCK.
  flags |= O_NONBLOCK;
  if (oflags & kOflagCreat) flags |= O_CREAT;
  if (oflags & kOflagExcl) flags |= O_EXCL;
  if (oflags & kOflagTrunc) flags |= O_TRUNC;
  if (oflags & kOflagDirectory) flags |= O_DIRECTORY;
  if (rp.trailing_slash) {
    if (oflags & kOflagCreat) return kEisdir;  // "name/" can only be a directory
    flags |= O_DIRECTORY;
  }
  if (fdflags & kFdflagAppend) flags |= O_APPEND;
  if (fdflags & kFdflagDsync) flags |= O_DSYNC;
  if (fdflags & kFdflagRsync) flags |= O_RSYNC;
  if (fdflags & kFdflagSync) flags |= O_SYNC;
  if (flags & O_DIRECTORY) {
    // A directory cannot be opened for writing (POSIX EISDIR; the suite checks it).
    if (wr) return kEisdir;
    flags |= O_RDONLY;
  } else if (rd && wr) {
    flags |= O_RDWR;
  } else if (wr) {
    flags |= O_WRONLY;
  } else {
    flags |= O_RDONLY;
  }
  // Belt and braces for read-only trees: never a writable host fd.
  if (dir->read_only && (flags & O_ACCMODE) != O_RDONLY) return kEnotcapable;

  // Threat: special files in the tree (FIFOs, sockets, devices): open_file_or_dir (path.h)
  // opens regular files and directories only, never blocking, shared with the shell.
  UniqueFd host;
  struct stat st {};
  if (Errno r = to_p1(wasi::open_file_or_dir(rp, flags, 0666, (fdflags & kFdflagNonblock) != 0,
                                             &host, &st))) {
    return r;
  }

  FdEntry entry;
  bool is_dir = S_ISDIR(st.st_mode);
  entry.kind = is_dir ? FdKind::kDir : FdKind::kFile;
  entry.host_fd = host.release();
  entry.filetype = filetype_from_mode(st.st_mode);
  // Rights that make no sense for the file type are dropped.
  entry.base = new_base & (is_dir ? kDirectoryRights : kFileRights);
  entry.inheriting = new_inheriting;
  if (!is_dir && (flags & O_ACCMODE) == O_RDONLY) {
    // Opened read-only: no right may claim otherwise.
    entry.base &= ~(kRightFdWrite | kRightFdAllocate | kRightFdFilestatSetSize);
  }
  entry.flags = static_cast<Fdflags>(fdflags);
  entry.read_only = dir->read_only;
  entry.guest_path = std::move(guest_path);
  uint32_t new_fd = 0;
  if (Errno r = alloc_fd(std::move(entry), &new_fd)) return r;  // closes host fd on EMFILE
  m.store<uint32_t>(fd_out, new_fd);
  return kSuccess;
}

Errno WasiHost::path_readlink(const GuestMemory& m, uint32_t fd, uint32_t path, uint32_t len,
                              uint32_t buf, uint32_t buf_len, uint32_t bufused_out) {
  FdEntry* e = nullptr;
  ResolvedPath rp;
  if (Errno r = resolve_at(*this, m, fd, kRightPathReadlink, path, len, Final::kNoFollow, &e,
                           &rp)) {
    return r;
  }
  uint8_t* dst = m.range(buf, buf_len);
  if (dst == nullptr || !m.in_bounds(bufused_out, 4)) return kEfault;
  char tmp[4096];  // link targets are at most PATH_MAX
  ssize_t n = ::readlinkat(rp.dir.get(), rp.name.c_str(), tmp, sizeof tmp);
  if (n < 0) return errno_from_host(errno);
  // Too small a buffer gets the first buf_len bytes (what the WASI test suite expects).
  uint32_t take = static_cast<uint32_t>(std::min<uint64_t>(static_cast<uint64_t>(n), buf_len));
  std::memcpy(dst, tmp, take);
  m.store<uint32_t>(bufused_out, take);
  return kSuccess;
}

Errno WasiHost::path_remove_directory(const GuestMemory& m, uint32_t fd, uint32_t path,
                                      uint32_t len) {
  FdEntry* e = nullptr;
  ResolvedPath rp;
  if (Errno r = resolve_at(*this, m, fd, kRightPathRemoveDirectory, path, len, Final::kEntry, &e,
                           &rp)) {
    return r;
  }
  if (Errno r = deny_read_only(*e)) return r;
  if (::unlinkat(rp.dir.get(), parent_op_name(rp).c_str(), AT_REMOVEDIR) != 0) {
    return errno_from_host(errno);
  }
  return kSuccess;
}

Errno WasiHost::path_rename(const GuestMemory& m, uint32_t fd, uint32_t old_path,
                            uint32_t old_len, uint32_t new_fd, uint32_t new_path,
                            uint32_t new_len) {
  FdEntry* oe = nullptr;
  FdEntry* ne = nullptr;
  ResolvedPath orp, nrp;
  if (Errno r = resolve_at(*this, m, fd, kRightPathRenameSource, old_path, old_len,
                           Final::kEntry, &oe, &orp)) {
    return r;
  }
  if (Errno r = resolve_at(*this, m, new_fd, kRightPathRenameTarget, new_path, new_len,
                           Final::kEntry, &ne, &nrp)) {
    return r;
  }
  if (Errno r = deny_read_only(*oe)) return r;
  if (Errno r = deny_read_only(*ne)) return r;
  if (Errno r = check_movable(*this, orp.dir.get(), orp.name, true)) return r;
  // Both parents are beneath their directory fds, so nothing can be moved out of (or into)
  // the sandbox; renameat never follows its final components.
  if (::renameat(orp.dir.get(), parent_op_name(orp).c_str(), nrp.dir.get(),
                 parent_op_name(nrp).c_str()) != 0) {
    return errno_from_host(errno);
  }
  return kSuccess;
}

Errno WasiHost::path_symlink(const GuestMemory& m, uint32_t old_path, uint32_t old_len,
                             uint32_t fd, uint32_t new_path, uint32_t new_len) {
  std::string target;
  if (Errno r = read_path(m, old_path, old_len, &target)) return r;
  FdEntry* e = nullptr;
  ResolvedPath rp;
  if (Errno r = resolve_at(*this, m, fd, kRightPathSymlink, new_path, new_len, Final::kEntry, &e,
                           &rp)) {
    return r;
  }
  if (Errno r = deny_read_only(*e)) return r;
  // Threat: planting a link that points outside the sandbox. Our resolver would never follow
  // it, but host software sharing the directory might. A target that climbs (`..`) or is
  // absolute can be made to point outside later, by moving the link or a directory above it,
  // or by chaining links (`s/x -> ..`, `y -> s/x/../F`); so only targets that descend are
  // accepted (EPERM, the suite's errno for escapes). See path.h.
  if (target.empty()) return kEnoent;
  if (!symlink_target_descends(target)) return kEperm;
  if (rp.trailing_slash && rp.name != ".") {
    // "link/" names a directory: an existing non-directory is ENOTDIR (Linux would say
    // EEXIST); a missing one ENOENT, an existing directory EEXIST (from the kernel).
    struct stat st {};
    if (::fstatat(rp.dir.get(), rp.name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 &&
        !S_ISDIR(st.st_mode)) {
      return kEnotdir;
    }
  }
  if (::symlinkat(target.c_str(), rp.dir.get(), parent_op_name(rp).c_str()) != 0) {
    return errno_from_host(errno);
  }
  return kSuccess;
}

Errno WasiHost::path_unlink_file(const GuestMemory& m, uint32_t fd, uint32_t path,
                                 uint32_t len) {
  FdEntry* e = nullptr;
  ResolvedPath rp;
  if (Errno r = resolve_at(*this, m, fd, kRightPathUnlinkFile, path, len, Final::kEntry, &e, &rp)) {
    return r;
  }
  if (Errno r = deny_read_only(*e)) return r;
  if (::unlinkat(rp.dir.get(), parent_op_name(rp).c_str(), 0) != 0) {
    return errno_from_host(errno);
  }
  return kSuccess;
}

}  // namespace wasmcap

// WASI Preview 1 binding of the filesystem: fd_* on files and directories, path_* beneath
// directory fds. Each function checks the fd's P1 rights, reads its arguments from guest
// memory, calls the capability layer (core.h, files.cc: where the sandbox's rules are) and
// writes the results back; the layer's codes become errnos through to_p1.
//
// What stays here is P1's: rights (every call checks the fd's base rights, ENOTCAPABLE when
// lacking; path_open grants at most the parent's inheriting rights; fd_fdstat_set_rights can
// only drop), the encodings (flags, whence, advice, filestat and dirent layouts), and guest
// memory (every pointer goes through GuestMemory, EFAULT when out of range; no host buffer is
// sized by the guest).
#include <algorithm>
#include <cstring>

#include "wasi/host.h"

namespace wasmcap {
using namespace wasi;

namespace {

constexpr uint32_t kValidFdflags =
    kFdflagAppend | kFdflagDsync | kFdflagNonblock | kFdflagRsync | kFdflagSync;
constexpr uint32_t kValidOflags = kOflagCreat | kOflagDirectory | kOflagExcl | kOflagTrunc;
constexpr uint32_t kValidFstflags = kFstAtim | kFstAtimNow | kFstMtim | kFstMtimNow;
// fd_readdir checks the deadline, interrupt and fuel once per this many directory entries.
constexpr uint32_t kReaddirCheckEvery = 256;

// Caller has checked [out, out+filestat_size(abi)) is in bounds. wasi_unstable's filestat has
// a 32-bit nlink (saturated, as wasmtime's preview0 adapter does) and so every later field 8
// bytes earlier (abi.h).
void store_filestat(const GuestMemory& m, uint32_t out, const Stat& st, Snapshot abi) {
  std::memset(m.range(out, filestat_size(abi)), 0, filestat_size(abi));
  m.store<uint64_t>(out + 0, st.dev);
  m.store<uint64_t>(out + 8, st.ino);
  m.store<uint8_t>(out + 16, to_p1(st.type));
  uint32_t at = 32;  // size's offset
  if (abi == Snapshot::kUnstable) {
    m.store<uint32_t>(out + 20, static_cast<uint32_t>(std::min<uint64_t>(st.nlink, UINT32_MAX)));
    at = 24;
  } else {
    m.store<uint64_t>(out + 24, st.nlink);
  }
  m.store<uint64_t>(out + at, st.size);
  m.store<uint64_t>(out + at + 8, st.atim_ns);
  m.store<uint64_t>(out + at + 16, st.mtim_ns);
  m.store<uint64_t>(out + at + 24, st.ctim_ns);
}

// P1's (atim, mtim, fst_flags) as the layer's timestamps. Unknown or contradictory flags are
// Timestamp::kInvalid, which the layer refuses (EINVAL) after its capability checks, where
// P1 always checked them.
void p1_times(uint64_t atim, uint64_t mtim, uint32_t fst, Timestamp* a, Timestamp* m) {
  auto one = [fst](uint64_t t, uint32_t set, uint32_t now) {
    Timestamp ts;
    if ((fst & ~kValidFstflags) != 0 || ((fst & set) && (fst & now))) {
      ts.kind = Timestamp::Kind::kInvalid;
    } else if (fst & now) {
      ts.kind = Timestamp::Kind::kNow;
    } else if (fst & set) {
      ts.kind = Timestamp::Kind::kSet;
      ts.ns = t;
    }
    return ts;
  };
  *a = one(atim, kFstAtim, kFstAtimNow);
  *m = one(mtim, kFstMtim, kFstMtimNow);
}

Final final_for(uint32_t lookupflags) {
  return (lookupflags & kLookupSymlinkFollow) != 0 ? Final::kFollow : Final::kNoFollow;
}

}  // namespace

// Looks up a directory fd for a path_* call: EBADF if absent, ENOTDIR if not a directory,
// ENOTCAPABLE if lacking `rights` or backed by no host directory (a denied preopen).
static Errno get_dir_fd(WasiHost& h, uint32_t fd, Rights rights, FdEntry** out) {
  FdEntry* e = nullptr;
  if (Errno r = h.get_fd(fd, 0, &e)) return r;
  Errc dir = Core::check_dir(*e->desc);
  if (dir == Errc::kNotDirectory) return kEnotdir;
  if ((e->base & rights) != rights) return kEnotcapable;
  if (dir != Errc::kOk) return to_p1(dir);
  *out = e;
  return kSuccess;
}

// get_dir_fd + read the guest path + resolve it beneath the directory (Core::resolve_at).
static Errno resolve_at(WasiHost& h, const GuestMemory& m, uint32_t fd, Rights rights,
                        uint32_t path, uint32_t len, Final final_mode, PathAt* out) {
  FdEntry* e = nullptr;
  if (Errno r = get_dir_fd(h, fd, rights, &e)) return r;
  std::string p;
  if (Errno r = h.read_path(m, path, len, &p)) return r;
  auto at = h.core().resolve_at(*e->desc, p, final_mode);
  if (!at) return to_p1(at.error());
  *out = std::move(*at);
  return kSuccess;
}

// --- fd_* -------------------------------------------------------------------------------------

Errno WasiHost::fd_advise(const GuestMemory&, uint32_t fd, uint64_t offset, uint64_t len,
                          uint32_t advice) {
  FdEntry* e = nullptr;
  if (Errno r = get_fd(fd, kRightFdAdvise, &e)) return r;
  if (advice > kAdviceNoreuse) return kEinval;
  return to_p1(core_.advise(*e->desc, offset, len, static_cast<FileAdvice>(advice)));
}

Errno WasiHost::fd_allocate(const GuestMemory&, uint32_t fd, uint64_t offset, uint64_t len) {
  FdEntry* e = nullptr;
  if (Errno r = get_fd(fd, kRightFdAllocate, &e)) return r;
  return to_p1(core_.allocate(*e->desc, offset, len));
}

Errno WasiHost::fd_datasync(const GuestMemory&, uint32_t fd) {
  FdEntry* e = nullptr;
  if (Errno r = get_fd(fd, kRightFdDatasync, &e)) return r;
  return to_p1(core_.sync(*e->desc, true));
}

Errno WasiHost::fd_sync(const GuestMemory&, uint32_t fd) {
  FdEntry* e = nullptr;
  if (Errno r = get_fd(fd, kRightFdSync, &e)) return r;
  return to_p1(core_.sync(*e->desc, false));
}

Errno WasiHost::fd_fdstat_set_flags(const GuestMemory&, uint32_t fd, uint32_t flags) {
  FdEntry* e = nullptr;
  if (Errno r = get_fd(fd, kRightFdFdstatSetFlags, &e)) return r;
  if ((flags & ~kValidFdflags) != 0) return kEinval;
  return to_p1(core_.set_flags(*e->desc, desc_flags(static_cast<Fdflags>(flags))));
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
  return fd_filestat_get_as(Snapshot::kPreview1, m, fd, out);
}

Errno WasiHost::fd_filestat_get_as(Snapshot abi, const GuestMemory& m, uint32_t fd,
                                   uint32_t out) {
  FdEntry* e = nullptr;
  if (Errno r = get_fd(fd, kRightFdFilestatGet, &e)) return r;
  if (!m.in_bounds(out, filestat_size(abi))) return kEfault;
  auto st = core_.stat(*e->desc);
  if (!st) return to_p1(st.error());
  store_filestat(m, out, *st, abi);
  return kSuccess;
}

Errno WasiHost::fd_filestat_set_size(const GuestMemory&, uint32_t fd, uint64_t size) {
  FdEntry* e = nullptr;
  if (Errno r = get_fd(fd, kRightFdFilestatSetSize, &e)) return r;
  return to_p1(core_.set_size(*e->desc, size));
}

Errno WasiHost::fd_filestat_set_times(const GuestMemory&, uint32_t fd, uint64_t atim,
                                      uint64_t mtim, uint32_t fst_flags) {
  FdEntry* e = nullptr;
  if (Errno r = get_fd(fd, kRightFdFilestatSetTimes, &e)) return r;
  Timestamp a, t;
  p1_times(atim, mtim, fst_flags, &a, &t);
  return to_p1(core_.set_times(*e->desc, a, t));
}

Errno WasiHost::fd_pread(const GuestMemory& m, uint32_t fd, uint32_t iovs, uint32_t iovs_len,
                         uint64_t offset, uint32_t nread_out) {
  FdEntry* e = nullptr;
  if (Errno r = get_fd(fd, kRightFdRead | kRightFdSeek, &e)) return r;
  if (!m.in_bounds(nread_out, 4)) return kEfault;
  if (Errno r = to_p1(core_.check_positional(*e->desc, offset))) return r;
  std::vector<IoSlice> slices;
  if (Errno r = read_iovecs(m, iovs, iovs_len, &slices)) return r;
  auto n = core_.pread(*e->desc, slices, offset);
  if (!n) return to_p1(n.error());
  m.store<uint32_t>(nread_out, static_cast<uint32_t>(*n));
  return kSuccess;
}

Errno WasiHost::fd_pwrite(const GuestMemory& m, uint32_t fd, uint32_t iovs, uint32_t iovs_len,
                          uint64_t offset, uint32_t nwritten_out) {
  FdEntry* e = nullptr;
  if (Errno r = get_fd(fd, kRightFdWrite | kRightFdSeek, &e)) return r;
  if (!m.in_bounds(nwritten_out, 4)) return kEfault;
  if (Errno r = to_p1(core_.check_positional(*e->desc, offset))) return r;
  std::vector<IoSlice> slices;
  if (Errno r = read_iovecs(m, iovs, iovs_len, &slices)) return r;
  auto n = core_.pwrite(*e->desc, slices, offset);
  if (!n) return to_p1(n.error());
  m.store<uint32_t>(nwritten_out, static_cast<uint32_t>(*n));
  return kSuccess;
}

Errno WasiHost::fd_readdir(const GuestMemory& m, uint32_t fd, uint32_t buf, uint32_t buf_len,
                           uint64_t cookie, uint32_t bufused_out) {
  FdEntry* e = nullptr;
  if (Errno r = get_fd(fd, kRightFdReaddir, &e)) return r;
  OpenDescription& d = *e->desc;
  if (Errno r = to_p1(Core::check_listable(d))) return r;
  uint8_t* dst = m.range(buf, buf_len);
  if (dst == nullptr || !m.in_bounds(bufused_out, 4)) return kEfault;
  if (Errno r = to_p1(core_.dir_seek(d, cookie))) return r;

  // Entries are serialised straight into guest memory (no host buffer sized by the guest).
  // As many bytes as fit are written; a truncated last entry leaves bufused == buf_len, which
  // tells the guest to retry from that entry's cookie with a bigger buffer.
  // No byte cap here (bufused < buf_len tells the guest the directory ended, so a reply cannot
  // be cut short): the work is bounded by the directory's size, metered per entry, and the
  // deadline, interrupt and fuel are checked every kReaddirCheckEvery entries.
  uint32_t used = 0;
  uint32_t entries = 0;
  while (used < buf_len) {
    if (++entries % kReaddirCheckEvery == 0 && !core_.may_continue()) return kEintr;
    DirEntry ent;
    auto more = core_.dir_next(d, &ent);
    if (!more) return to_p1(more.error());
    if (!*more) break;  // end of directory: bufused < buf_len
    uint8_t header[kDirentSize] = {};
    uint64_t next = ent.next_cookie;
    uint64_t ino = ent.ino;
    uint32_t nl = static_cast<uint32_t>(ent.name.size());
    std::memcpy(header + 0, &next, 8);
    std::memcpy(header + 8, &ino, 8);
    std::memcpy(header + 16, &nl, 4);
    header[20] = to_p1(ent.type);
    uint64_t total = kDirentSize + ent.name.size();
    uint32_t room = buf_len - used;
    uint32_t take = static_cast<uint32_t>(std::min<uint64_t>(total, room));
    uint32_t h = std::min<uint32_t>(take, kDirentSize);
    std::memcpy(dst + used, header, h);
    if (take > kDirentSize) {
      std::memcpy(dst + used + kDirentSize, ent.name.data(), take - kDirentSize);
    }
    used += take;
    core_.charge_bytes(take);
    if (take < total) {
      // Not fully delivered: the next call resumes at this entry.
      core_.dir_unread(d);
      break;
    }
  }
  m.store<uint32_t>(bufused_out, used);
  if (core_.terminating()) return kEintr;  // fuel spent by this reply: the run ends
  return kSuccess;
}

Errno WasiHost::fd_seek(const GuestMemory& m, uint32_t fd, uint64_t offset, uint32_t whence,
                        uint32_t newoffset_out) {
  FdEntry* e = nullptr;
  // A pure "where am I" query needs only fd_tell.
  Rights need = (offset == 0 && whence == kWhenceCur) ? kRightFdTell : kRightFdSeek;
  if (Errno r = get_fd(fd, need, &e)) return r;
  if (!m.in_bounds(newoffset_out, 8)) return kEfault;
  SeekFrom w;
  switch (whence) {
    case kWhenceSet: w = SeekFrom::kSet; break;
    case kWhenceCur: w = SeekFrom::kCur; break;
    case kWhenceEnd: w = SeekFrom::kEnd; break;
    default: return kEinval;
  }
  auto pos = core_.seek(*e->desc, static_cast<int64_t>(offset), w);
  if (!pos) return to_p1(pos.error());
  m.store<uint64_t>(newoffset_out, *pos);
  return kSuccess;
}

// wasi_unstable numbers whence CUR, END, SET (abi.h); anything else stays invalid.
Errno WasiHost::unstable_fd_seek(const GuestMemory& m, uint32_t fd, uint64_t offset,
                                 uint32_t whence, uint32_t newoffset_out) {
  uint32_t p1;
  switch (whence) {
    case kUnstableWhenceCur: p1 = kWhenceCur; break;
    case kUnstableWhenceEnd: p1 = kWhenceEnd; break;
    case kUnstableWhenceSet: p1 = kWhenceSet; break;
    default: return kEinval;
  }
  return fd_seek(m, fd, offset, p1, newoffset_out);
}

Errno WasiHost::fd_tell(const GuestMemory& m, uint32_t fd, uint32_t offset_out) {
  FdEntry* e = nullptr;
  if (Errno r = get_fd(fd, kRightFdTell, &e)) return r;
  if (!m.in_bounds(offset_out, 8)) return kEfault;
  auto pos = core_.seek(*e->desc, 0, SeekFrom::kCur);
  if (!pos) return to_p1(pos.error());
  m.store<uint64_t>(offset_out, *pos);
  return kSuccess;
}

// --- path_* -----------------------------------------------------------------------------------

Errno WasiHost::path_create_directory(const GuestMemory& m, uint32_t fd, uint32_t path,
                                      uint32_t len) {
  PathAt p;
  if (Errno r = resolve_at(*this, m, fd, kRightPathCreateDirectory, path, len, Final::kEntry, &p)) {
    return r;
  }
  return to_p1(core_.create_directory(p));
}

Errno WasiHost::path_filestat_get(const GuestMemory& m, uint32_t fd, uint32_t flags,
                                  uint32_t path, uint32_t len, uint32_t out) {
  return path_filestat_get_as(Snapshot::kPreview1, m, fd, flags, path, len, out);
}

Errno WasiHost::path_filestat_get_as(Snapshot abi, const GuestMemory& m, uint32_t fd,
                                     uint32_t flags, uint32_t path, uint32_t len,
                                     uint32_t out) {
  PathAt p;
  if (Errno r = resolve_at(*this, m, fd, kRightPathFilestatGet, path, len, final_for(flags), &p)) {
    return r;
  }
  if (!m.in_bounds(out, filestat_size(abi))) return kEfault;
  auto st = core_.stat_at(p);
  if (!st) return to_p1(st.error());
  store_filestat(m, out, *st, abi);
  return kSuccess;
}

Errno WasiHost::path_filestat_set_times(const GuestMemory& m, uint32_t fd, uint32_t flags,
                                        uint32_t path, uint32_t len, uint64_t atim,
                                        uint64_t mtim, uint32_t fst_flags) {
  PathAt p;
  if (Errno r = resolve_at(*this, m, fd, kRightPathFilestatSetTimes, path, len, final_for(flags),
                           &p)) {
    return r;
  }
  Timestamp a, t;
  p1_times(atim, mtim, fst_flags, &a, &t);
  return to_p1(core_.set_times_at(p, a, t));
}

Errno WasiHost::path_link(const GuestMemory& m, uint32_t old_fd, uint32_t old_flags,
                          uint32_t old_path, uint32_t old_len, uint32_t new_fd,
                          uint32_t new_path, uint32_t new_len) {
  PathAt from, to;
  if (Errno r = resolve_at(*this, m, old_fd, kRightPathLinkSource, old_path, old_len,
                           final_for(old_flags), &from)) {
    return r;
  }
  if (Errno r = resolve_at(*this, m, new_fd, kRightPathLinkTarget, new_path, new_len,
                           Final::kEntry, &to)) {
    return r;
  }
  return to_p1(core_.link(from, to));
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
  std::string p;
  if (Errno r = read_path(m, path, len, &p)) return r;

  // New rights never exceed what the parent may hand down.
  Rights new_base = base & dir->inheriting;
  Rights new_inheriting = inheriting & dir->inheriting;
  if (dir->desc->read_only) {
    new_base &= ~kWriteRights;
    new_inheriting &= ~kWriteRights;
  }
  OpenRequest req;
  req.follow = (dirflags & kLookupSymlinkFollow) != 0;
  req.create = (oflags & kOflagCreat) != 0;
  req.exclusive = (oflags & kOflagExcl) != 0;
  req.truncate = (oflags & kOflagTrunc) != 0;
  req.directory = (oflags & kOflagDirectory) != 0;
  req.read = (new_base & (kRightFdRead | kRightFdReaddir)) != 0;
  req.write = (new_base & (kRightFdWrite | kRightFdAllocate | kRightFdFilestatSetSize)) != 0;
  req.flags = desc_flags(static_cast<Fdflags>(fdflags));
  auto opened = core_.open_at(*dir->desc, p, req);
  if (!opened) return to_p1(opened.error());

  FdEntry entry;
  entry.desc = std::move(*opened);
  bool is_dir = entry.desc->is_dir();
  // Rights that make no sense for the file type are dropped.
  entry.base = new_base & (is_dir ? kDirectoryRights : kFileRights);
  entry.inheriting = new_inheriting;
  if (!is_dir && !req.write) {
    // Opened read-only: no right may claim otherwise.
    entry.base &= ~(kRightFdWrite | kRightFdAllocate | kRightFdFilestatSetSize);
  }
  uint32_t new_fd = 0;
  if (Errno r = alloc_fd(std::move(entry), &new_fd)) return r;  // EMFILE: the file closes
  m.store<uint32_t>(fd_out, new_fd);
  return kSuccess;
}

Errno WasiHost::path_readlink(const GuestMemory& m, uint32_t fd, uint32_t path, uint32_t len,
                              uint32_t buf, uint32_t buf_len, uint32_t bufused_out) {
  PathAt p;
  if (Errno r = resolve_at(*this, m, fd, kRightPathReadlink, path, len, Final::kNoFollow, &p)) {
    return r;
  }
  uint8_t* dst = m.range(buf, buf_len);
  if (dst == nullptr || !m.in_bounds(bufused_out, 4)) return kEfault;
  auto target = core_.readlink(p);
  if (!target) return to_p1(target.error());
  // Too small a buffer gets the first buf_len bytes (what the WASI test suite expects).
  uint32_t take = static_cast<uint32_t>(std::min<uint64_t>(target->size(), buf_len));
  std::memcpy(dst, target->data(), take);
  m.store<uint32_t>(bufused_out, take);
  return kSuccess;
}

Errno WasiHost::path_remove_directory(const GuestMemory& m, uint32_t fd, uint32_t path,
                                      uint32_t len) {
  PathAt p;
  if (Errno r = resolve_at(*this, m, fd, kRightPathRemoveDirectory, path, len, Final::kEntry, &p)) {
    return r;
  }
  return to_p1(core_.remove_directory(p));
}

Errno WasiHost::path_rename(const GuestMemory& m, uint32_t fd, uint32_t old_path,
                            uint32_t old_len, uint32_t new_fd, uint32_t new_path,
                            uint32_t new_len) {
  PathAt from, to;
  if (Errno r = resolve_at(*this, m, fd, kRightPathRenameSource, old_path, old_len,
                           Final::kEntry, &from)) {
    return r;
  }
  if (Errno r = resolve_at(*this, m, new_fd, kRightPathRenameTarget, new_path, new_len,
                           Final::kEntry, &to)) {
    return r;
  }
  return to_p1(core_.rename(from, to));
}

Errno WasiHost::path_symlink(const GuestMemory& m, uint32_t old_path, uint32_t old_len,
                             uint32_t fd, uint32_t new_path, uint32_t new_len) {
  std::string target;
  if (Errno r = read_path(m, old_path, old_len, &target)) return r;
  PathAt p;
  if (Errno r = resolve_at(*this, m, fd, kRightPathSymlink, new_path, new_len, Final::kEntry, &p)) {
    return r;
  }
  FdEntry* e = nullptr;
  if (Errno r = get_dir_fd(*this, fd, kRightPathSymlink, &e)) return r;
  return to_p1(core_.symlink(target, *e->desc, p));
}

Errno WasiHost::path_unlink_file(const GuestMemory& m, uint32_t fd, uint32_t path,
                                 uint32_t len) {
  PathAt p;
  if (Errno r = resolve_at(*this, m, fd, kRightPathUnlinkFile, path, len, Final::kEntry, &p)) {
    return r;
  }
  return to_p1(core_.unlink_file(p));
}

}  // namespace wasmcap

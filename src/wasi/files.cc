// The capability layer's operations on descriptions and on paths beneath directories
// (core.h).
//
// Security model (each check below names the threat it stops):
//   - Capabilities: files are reached only through directory descriptions the guest was given
//     (preopens) or opened beneath them. Every path is resolved by resolve_path() (path.h),
//     which never leaves the directory it starts from; the final entry is then operated on with
//     *at() syscalls relative to the resolved parent, never following a final symlink by itself.
//   - Read-only trees: a binding's rights already exclude modifications beneath a read-only
//     preopen; OpenDescription::read_only is checked again here before every modification, so
//     the guarantee holds whatever a handle's rights say. The refusal is kNotCapable (never
//     kReadOnly: the host filesystem is not read-only).
//   - No buffer here is sized by the guest.
//   - Filling the host's disk: growth (set_size, allocate) and every entry created (open_at
//     with create, create_directory, symlink, link) are charged to the write budget first
//     (core.h, wasmcap/wasi.h WriteBudget); a refusal is kInsufficientSpace, and a call that
//     fails returns its reservation.
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>

#include "wasi/core.h"

namespace wasmcap::wasi {

using Kind = OpenDescription::Kind;

Device device_named(std::string_view name) {
  if (name == "null") return Device::kNull;
  if (name == "zero") return Device::kZero;
  if (name == "urandom" || name == "random") return Device::kRandom;
  return Device::kNone;
}

FileType file_type_from_mode(mode_t mode) {
  if (S_ISREG(mode)) return FileType::kRegularFile;
  if (S_ISDIR(mode)) return FileType::kDirectory;
  if (S_ISLNK(mode)) return FileType::kSymlink;
  if (S_ISCHR(mode)) return FileType::kCharacterDevice;
  if (S_ISBLK(mode)) return FileType::kBlockDevice;
  if (S_ISSOCK(mode)) return FileType::kSocket;
  if (S_ISFIFO(mode)) return FileType::kFifo;
  return FileType::kUnknown;
}

FileType file_type_from_dirent(unsigned char t) {
  switch (t) {
    case DT_REG: return FileType::kRegularFile;
    case DT_DIR: return FileType::kDirectory;
    case DT_LNK: return FileType::kSymlink;
    case DT_CHR: return FileType::kCharacterDevice;
    case DT_BLK: return FileType::kBlockDevice;
    case DT_SOCK: return FileType::kSocket;
    case DT_FIFO: return FileType::kFifo;
    default: return FileType::kUnknown;
  }
}

namespace {

// dir_seek charges a skipped entry as this many bytes moved (a P1 dirent header's size).
constexpr uint64_t kSkippedEntryBytes = 24;
// dir_seek checks the deadline, interrupt and fuel once per this many skipped entries.
constexpr uint64_t kSkipCheckEvery = 256;

uint64_t to_ns(const timespec& ts) {
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + static_cast<uint64_t>(ts.tv_nsec);
}

Stat stat_from(const struct stat& st) {
  Stat s;
  s.type = file_type_from_mode(st.st_mode);
  s.dev = static_cast<uint64_t>(st.st_dev);
  s.ino = static_cast<uint64_t>(st.st_ino);
  s.nlink = static_cast<uint64_t>(st.st_nlink);
  s.size = static_cast<uint64_t>(st.st_size);
  s.atim_ns = to_ns(st.st_atim);
  s.mtim_ns = to_ns(st.st_mtim);
  s.ctim_ns = to_ns(st.st_ctim);
  return s;
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
Errc require_dir_if_slash(const ResolvedPath& rp) {
  if (!rp.trailing_slash) return Errc::kOk;
  struct stat st {};
  if (::fstatat(rp.dir.get(), rp.name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
    return errc_from_host(errno);
  }
  return S_ISDIR(st.st_mode) ? Errc::kOk : Errc::kNotDirectory;
}

// Threat: modifying a tree preopened read-only (see the file comment).
Errc deny_read_only(bool read_only) { return read_only ? Errc::kNotCapable : Errc::kOk; }

Errc host_errno() { return errc_from_host(errno); }

}  // namespace

// --- descriptions --------------------------------------------------------------------------

Outcome<uint64_t> Core::seek(OpenDescription& d, int64_t offset, SeekFrom whence) {
  if (d.kind == Kind::kDir) return fail(Errc::kIsDirectory);
  if (d.device != Device::kNone) return uint64_t{0};  // Linux: a seek on these devices is 0
  if (!d.is_host_file()) return fail(Errc::kInvalidSeek);
  int w = whence == SeekFrom::kSet ? SEEK_SET : whence == SeekFrom::kCur ? SEEK_CUR : SEEK_END;
  off_t r = ::lseek(d.fd.get(), static_cast<off_t>(offset), w);
  if (r < 0) return fail(host_errno());
  return static_cast<uint64_t>(r);
}

Outcome<Stat> Core::stat(const OpenDescription& d) const {
  if (d.vnode != nullptr) return virtual_stat(*d.vnode);
  if (!d.is_host_file()) {
    // stdio: only the type (core.cc, stdio_type), without exposing the host's stdio objects
    // (their device/inode numbers, sizes, times).
    Stat s;
    s.type = d.type;
    return s;
  }
  struct stat st {};
  if (::fstat(d.fd.get(), &st) != 0) return fail(host_errno());
  return stat_from(st);
}

Errc Core::set_size(OpenDescription& d, uint64_t size) {
  if (Errc r = deny_read_only(d.read_only); r != Errc::kOk) return r;
  if (d.kind == Kind::kDir) return Errc::kIsDirectory;
  if (!d.is_host_file()) return Errc::kInvalid;
  if (size > INT64_MAX) return Errc::kFileTooLarge;
  uint64_t reserved = 0;
  if (Errc r = reserve_growth(d.fd.get(), size, &reserved); r != Errc::kOk) return r;
  if (::ftruncate(d.fd.get(), static_cast<off_t>(size)) != 0) {
    Errc r = host_errno();
    budget_->release_bytes(reserved);
    return r;
  }
  return Errc::kOk;
}

Errc Core::host_times(Timestamp atime, Timestamp mtime, timespec ts[2]) {
  using TK = Timestamp::Kind;
  if (atime.kind == TK::kInvalid || mtime.kind == TK::kInvalid) return Errc::kInvalid;
  timespec now_ts{};
  if (atime.kind == TK::kNow || mtime.kind == TK::kNow) {
    if (Errc r = now_for_timestamps(&now_ts); r != Errc::kOk) return r;
  }
  auto one = [&now_ts](Timestamp t, timespec* out) {
    if (t.kind == TK::kNow) {
      *out = now_ts;
    } else if (t.kind == TK::kSet) {
      out->tv_sec = static_cast<time_t>(t.ns / 1000000000ull);
      out->tv_nsec = static_cast<long>(t.ns % 1000000000ull);
    } else {
      out->tv_sec = 0;
      out->tv_nsec = UTIME_OMIT;
    }
  };
  one(atime, &ts[0]);
  one(mtime, &ts[1]);
  return Errc::kOk;
}

Errc Core::set_times(OpenDescription& d, Timestamp atime, Timestamp mtime) {
  if (d.vnode != nullptr) return Errc::kAccess;  // nothing virtual changes
  if (Errc r = deny_read_only(d.read_only); r != Errc::kOk) return r;
  timespec ts[2];
  if (Errc r = host_times(atime, mtime, ts); r != Errc::kOk) return r;
  if (!d.is_host_file()) return Errc::kBadDescriptor;
  if (::futimens(d.fd.get(), ts) != 0) return host_errno();
  return Errc::kOk;
}

Errc Core::advise(OpenDescription& d, uint64_t offset, uint64_t len, FileAdvice advice) {
  if (offset > INT64_MAX || len > INT64_MAX) return Errc::kInvalid;
  if (!d.is_host_file()) return Errc::kInvalidSeek;
  if (d.kind == Kind::kDir) return Errc::kBadDescriptor;
  static constexpr int kHostAdvice[] = {POSIX_FADV_NORMAL,   POSIX_FADV_SEQUENTIAL,
                                        POSIX_FADV_RANDOM,   POSIX_FADV_WILLNEED,
                                        POSIX_FADV_DONTNEED, POSIX_FADV_NOREUSE};
  return errc_from_host(::posix_fadvise(d.fd.get(), static_cast<off_t>(offset),
                                        static_cast<off_t>(len),
                                        kHostAdvice[static_cast<int>(advice)]));
}

Errc Core::allocate(OpenDescription& d, uint64_t offset, uint64_t len) {
  if (Errc r = deny_read_only(d.read_only); r != Errc::kOk) return r;
  if (d.kind == Kind::kDir) return Errc::kIsDirectory;
  if (!d.is_host_file()) return Errc::kBadDescriptor;
  // Threat: offset + len overflowing off_t (kernel UB-free, but refuse clearly).
  if (offset > INT64_MAX || len > INT64_MAX || offset > INT64_MAX - len) {
    return Errc::kFileTooLarge;
  }
  if (len == 0) return Errc::kInvalid;
  // fallocate(2), not posix_fallocate(3): where the filesystem cannot preallocate, glibc's
  // emulation writes a byte per block over a guest-chosen (huge) range, stalling the host.
  // Such filesystems give ENOTSUP here instead.
  uint64_t reserved = 0;
  if (Errc r = reserve_growth(d.fd.get(), offset + len, &reserved); r != Errc::kOk) return r;
  if (::fallocate(d.fd.get(), 0, static_cast<off_t>(offset), static_cast<off_t>(len)) != 0) {
    Errc r = host_errno();
    budget_->release_bytes(reserved);
    return r;
  }
  return Errc::kOk;
}

Errc Core::sync(OpenDescription& d, bool data_only) {
  if (!d.is_host_file()) return Errc::kInvalid;
  if ((data_only ? ::fdatasync(d.fd.get()) : ::fsync(d.fd.get())) != 0) return host_errno();
  return Errc::kOk;
}

Errc Core::set_flags(OpenDescription& d, DescFlags flags) {
  if (!d.is_host_file()) return Errc::kBadDescriptor;
  // Linux cannot change O_DSYNC/O_SYNC/O_RSYNC on an open description (F_SETFL ignores them).
  if (flags.dsync != d.flags.dsync || flags.rsync != d.flags.rsync || flags.sync != d.flags.sync) {
    return Errc::kUnsupported;
  }
  // Threat: turning a read-only file into an appendable one is not a modification by itself
  // (writing still needs write access), so append needs no extra check here.
  int fl = ::fcntl(d.fd.get(), F_GETFL);
  if (fl < 0) return host_errno();
  fl &= ~(O_APPEND | O_NONBLOCK);
  if (flags.append) fl |= O_APPEND;
  if (flags.nonblock) fl |= O_NONBLOCK;
  if (::fcntl(d.fd.get(), F_SETFL, fl) != 0) return host_errno();
  d.flags = flags;
  return Errc::kOk;
}

// --- directory entries ---------------------------------------------------------------------

Errc Core::check_listable(const OpenDescription& d) {
  return d.kind == Kind::kDir && (d.fd.valid() || d.vnode != nullptr) ? Errc::kOk
                                                                       : Errc::kNotDirectory;
}

Errc Core::dir_seek(OpenDescription& d, uint64_t cookie) {
  if (Errc r = check_listable(d); r != Errc::kOk) return r;
  if (d.vnode != nullptr) {  // a virtual directory: the cookie is the entry's index
    d.dir_cookie = std::min<uint64_t>(cookie, tree_->entry_count(*d.vnode));
    return Errc::kOk;
  }
  if (d.dir_stream == nullptr) {
    // The stream owns a duplicate, so closing the description (closedir + close) frees both.
    int dup = ::fcntl(d.fd.get(), F_DUPFD_CLOEXEC, 0);
    if (dup < 0) return host_errno();
    DIR* s = ::fdopendir(dup);
    if (s == nullptr) {
      int err = errno;
      ::close(dup);
      return errc_from_host(err);
    }
    ::rewinddir(s);
    d.dir_stream = s;
    d.dir_cookie = 0;
  }
  // A cookie other than where the stream stands rewinds and skips (bounded by the directory's
  // size; a huge cookie just reaches the end).
  if (cookie != d.dir_cookie) {
    ::rewinddir(d.dir_stream);
    d.dir_cookie = 0;
    while (d.dir_cookie < cookie) {
      // A skip over a huge directory is host work like a transfer: metered and interruptible.
      if (d.dir_cookie % kSkipCheckEvery == 0 && !may_continue()) return Errc::kInterrupted;
      charge_bytes(kSkippedEntryBytes);
      errno = 0;
      if (::readdir(d.dir_stream) == nullptr) {
        if (errno != 0) return host_errno();
        break;
      }
      ++d.dir_cookie;
    }
  }
  return Errc::kOk;
}

Outcome<bool> Core::dir_next(OpenDescription& d, DirEntry* out) {
  if (d.vnode != nullptr) {
    for (;;) {
      if (d.dir_cookie >= tree_->entry_count(*d.vnode)) return false;
      VirtualTree::Entry e = tree_->entry(*d.vnode, d.dir_cookie++);
      if (e.name.empty()) continue;  // listed elsewhere (VirtualTree::entry)
      out->name = e.name;
      out->ino = e.ino;
      out->type = e.dir ? FileType::kDirectory : FileType::kRegularFile;
      out->next_cookie = d.dir_cookie;
      return true;
    }
  }
  long pos = ::telldir(d.dir_stream);
  errno = 0;
  struct dirent* ent = ::readdir(d.dir_stream);
  if (ent == nullptr) {
    if (errno != 0) return fail(host_errno());
    return false;  // end of directory
  }
  d.dir_last_pos = pos;
  out->name = ent->d_name;
  out->ino = ent->d_ino;
  out->type = file_type_from_dirent(ent->d_type);
  if (out->name == "." || out->name == "..") {
    // Never stat ".." (at a preopen it is outside the sandbox); it is a directory.
    out->type = FileType::kDirectory;
  } else if (ent->d_type == DT_UNKNOWN) {
    struct stat st {};
    // d_name is a single component from this directory: no path resolution involved.
    if (::fstatat(d.fd.get(), ent->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
      out->type = file_type_from_mode(st.st_mode);
    }
  }
  out->next_cookie = ++d.dir_cookie;
  return true;
}

void Core::dir_unread(OpenDescription& d) {
  if (d.vnode != nullptr) {
    --d.dir_cookie;  // back on the entry just read (skipped ones are before it)
    return;
  }
  // Leave the stream on this entry so resuming from its cookie is cheap.
  ::seekdir(d.dir_stream, d.dir_last_pos);
  --d.dir_cookie;
}

// --- paths -----------------------------------------------------------------------------------

Errc Core::check_dir(const OpenDescription& d) {
  if (d.kind != Kind::kDir) return Errc::kNotDirectory;
  // (/dev and virtual directories: resolve_at, open_at)
  if (!d.fd.valid() && !d.dev_dir && d.vnode == nullptr) return Errc::kNotCapable;
  return Errc::kOk;
}

Core::Route Core::route(const OpenDescription& d, std::string_view path) const {
  Route r{&d, std::string(path), std::nullopt};
  // Each step takes at least one component of the path: as many steps as it has, no recursion.
  while (auto v = virtual_lookup(*r.dir, r.path)) {
    if (v->kind != VirtualTree::Found::Kind::kMount) {
      r.virt = std::move(v);
      break;
    }
    r.dir = preopens_[static_cast<size_t>(v->node->mount)].get();
    r.path = std::move(v->rest);
  }
  return r;
}

Outcome<PathAt> Core::resolve_at(const OpenDescription& start, std::string_view start_path,
                                 Final final) {
  Route route = this->route(start, start_path);
  if (route.virt) {
    PathAt p;
    p.virt = std::move(route.virt);
    p.read_only = true;
    p.path = std::string(start_path);
    return p;
  }
  const OpenDescription& d = *route.dir;
  std::string_view path = route.path;
  if (d.dev_dir) {
    // /dev: its devices can be looked at (stat), nothing in it changed (kEntry: created,
    // removed, renamed, linked to) and nothing else named.
    Device dev = device_named(path);
    DescriptionRef target = dev_fd(path);
    if (dev == Device::kNone && path != "stdin" && path != "stdout" && path != "stderr" &&
        target == nullptr) {
      bool itself = path.empty() || path == "." || path == "./";  // /dev is not looked into
      if (itself && final != Final::kEntry && tree_ != nullptr) {
        // Under a virtual root, /dev is one of its directories to stat (`ls -l /`).
        auto top = tree_->lookup(tree_->root(), d.preopen_name);
        if (top.kind == VirtualTree::Found::Kind::kMount) {
          PathAt p;
          p.virt = VirtualTree::Found{VirtualTree::Found::Kind::kDir, top.node, 0, {}, false};
          p.read_only = true;
          p.path = std::string(path);
          return p;
        }
      }
      return fail(final == Final::kEntry || itself ? Errc::kNotCapable : Errc::kNoEntry);
    }
    if (final == Final::kEntry) return fail(Errc::kNotCapable);
    PathAt p;
    p.device = dev == Device::kNone ? Device::kNull : dev;  // the streams: character devices
    p.path = std::string(path);
    p.fd_target = std::move(target);
    return p;
  }
  if (Errc r = check_dir(d); r != Errc::kOk) return fail(r);
  bool follow = final == Final::kFollow;
  // POSIX: a trailing slash makes the final symlink be followed (the path names a directory).
  // For calls that read through the entry (stat, open, utimes, readlink, link's old path) we
  // must not let the kernel do that following (it would not stay beneath the directory), so
  // the resolver follows instead and the operation checks for a directory.
  if (final != Final::kEntry && has_trailing_slash(path)) follow = true;
  PathAt p;
  if (Errc r = resolve_path(d.fd.get(), path, follow, &p.where); r != Errc::kOk) return fail(r);
  p.beneath = &d;
  p.read_only = d.read_only;
  p.path = std::string(path);
  return p;
}

DescriptionRef Core::dev_fd(std::string_view path) const {
  if (path.size() < 4 || path.size() > 6 || path.substr(0, 3) != "fd/") return nullptr;
  uint32_t n = 0;
  for (char c : path.substr(3)) {
    if (c < '0' || c > '9') return nullptr;
    n = n * 10 + static_cast<uint32_t>(c - '0');
  }
  if (n < 3) return stdio_[n];
  for (size_t i = 0; i < inherited_.size(); ++i) {
    if (config_.inherited_fds[i].guest_fd == n) return inherited_[i];
  }
  return nullptr;
}

Outcome<DescriptionRef> Core::open_device(std::string_view path, const OpenRequest& req) {
  Device dev = device_named(path);
  int stream = path == "stdin" ? 0 : path == "stdout" ? 1 : path == "stderr" ? 2 : -1;
  if (DescriptionRef d = dev_fd(path)) {
    // /dev/fd/N: the run's own descriptor N as it started (as /dev/stdin is 0), for the access
    // it was passed with: a shell's `<(list)` pipe, `3<file`.
    if (req.directory || has_trailing_slash(path)) return fail(Errc::kNotDirectory);
    if (req.create && req.exclusive) return fail(Errc::kExist);
    if ((req.write || req.truncate) && d->read_only) return fail(Errc::kNotCapable);
    return d;
  }
  if (dev == Device::kNone && stream < 0) {
    // Only the devices: /dev itself cannot be opened (nothing lists it), nor a new name made.
    if (path.empty() || path == "." || path == "./") return fail(Errc::kNotCapable);
    return fail(req.create ? Errc::kNotCapable : Errc::kNoEntry);
  }
  if (req.directory || has_trailing_slash(path)) return fail(Errc::kNotDirectory);
  if (req.create && req.exclusive) return fail(Errc::kExist);
  // The run's own streams, as Linux's /dev/stdin is the process's descriptor 0: the same
  // description (its writes go through the output cap, its reads wait as stdin's do).
  if (stream >= 0) return stdio_[stream];
  auto d = std::make_shared<OpenDescription>(Kind::kFile, UniqueFd(), FileType::kCharacterDevice);
  d->device = dev;
  d->guest_path = std::string(kDevPath) + "/" + std::string(path);
  return d;
}

Outcome<DescriptionRef> Core::open_at(const OpenDescription& start, std::string_view start_path,
                                      const OpenRequest& req) {
  Route route = this->route(start, start_path);
  if (route.virt) return open_virtual(*route.virt, req);
  const OpenDescription& dir = *route.dir;
  std::string_view path = route.path;
  if (dir.dev_dir) return open_device(path, req);
  if (Errc r = check_dir(dir); r != Errc::kOk) return fail(r);
  // Threat: creating or truncating in a read-only tree.
  if (req.create || req.truncate) {
    if (Errc r = deny_read_only(dir.read_only); r != Errc::kOk) return fail(r);
  }
  // POSIX: O_CREAT|O_EXCL never follows a final symlink (the link itself makes it exist).
  bool follow = req.follow && !(req.create && req.exclusive);
  auto p = resolve_at(dir, path, follow ? Final::kFollow : Final::kNoFollow);
  if (!p) return fail(p.error());
  const ResolvedPath& rp = p->where;
  int flags = O_CLOEXEC | O_NOCTTY;
  // Threat: the resolver already followed whatever may be followed (beneath the directory);
  // O_NOFOLLOW makes the kernel refuse (ELOOP) a final symlink instead of following it, e.g.
  // one swapped in after resolution.
  flags |= O_NOFOLLOW;
  // Threat: a FIFO in the tree would block the whole runtime in open(); open non-blocking and
  // restore blocking mode afterwards unless the guest asked for nonblock.
  flags |= O_NONBLOCK;
  if (req.create) flags |= O_CREAT;
  if (req.exclusive) flags |= O_EXCL;
  if (req.truncate) flags |= O_TRUNC;
  if (req.directory) flags |= O_DIRECTORY;
  if (rp.trailing_slash) {
    if (req.create) return fail(Errc::kIsDirectory);  // "name/" can only be a directory
    flags |= O_DIRECTORY;
  }
  if (req.flags.append) flags |= O_APPEND;
  if (req.flags.dsync) flags |= O_DSYNC;
  if (req.flags.rsync) flags |= O_RSYNC;
  if (req.flags.sync) flags |= O_SYNC;
  if (flags & O_DIRECTORY) {
    // A directory cannot be opened for writing (POSIX EISDIR; the suite checks it).
    if (req.write) return fail(Errc::kIsDirectory);
    flags |= O_RDONLY;
  } else if (req.read && req.write) {
    flags |= O_RDWR;
  } else if (req.write) {
    flags |= O_WRONLY;
  } else {
    flags |= O_RDONLY;
  }
  // Belt and braces for read-only trees: never a writable host fd.
  if (dir.read_only && (flags & O_ACCMODE) != O_RDONLY) return fail(Errc::kNotCapable);

  // Threat: special files in the tree (FIFOs, sockets, devices): open_file_or_dir (path.h)
  // opens regular files and directories only, never blocking, shared with the shell.
  // Threat: filling the host's inodes with empty files. A create that makes a new file is
  // charged one entry (an existing one is not; one created meanwhile by someone else is, which
  // only errs on the guest's side).
  bool charged = false;
  if (req.create) {
    struct stat before {};
    if (::fstatat(rp.dir.get(), rp.name.c_str(), &before, AT_SYMLINK_NOFOLLOW) != 0 &&
        errno == ENOENT) {
      if (Errc r = reserve_entry(); r != Errc::kOk) return fail(r);
      charged = true;
    }
  }
  UniqueFd host;
  struct stat st {};
  if (Errc r = wasi::open_file_or_dir(rp, flags, 0666, req.flags.nonblock, &host, &st);
      r != Errc::kOk) {
    if (charged) budget_->release_entry();
    return fail(r);
  }
  bool is_dir = S_ISDIR(st.st_mode);
  auto d = std::make_shared<OpenDescription>(is_dir ? Kind::kDir : Kind::kFile, std::move(host),
                                             file_type_from_mode(st.st_mode));
  d->flags = req.flags;
  d->read_only = dir.read_only;
  d->guest_path = std::move(p->path);
  return d;
}

Outcome<Stat> Core::stat_at(const PathAt& p) const {
  if (p.virt) {
    using K = VirtualTree::Found::Kind;
    switch (p.virt->kind) {
      case K::kDir: return virtual_stat(*p.virt->node);
      case K::kCommand: {
        // A command: a file of the command table, executable for all (0755 on Linux); wasi
        // shows only its type. Its size and times are nobody's.
        Stat s;
        s.type = FileType::kRegularFile;
        s.ino = tree_->command_ino(p.virt->command);
        s.nlink = 1;
        return s;
      }
      case K::kNotDir: return fail(Errc::kNotDirectory);
      default: return fail(Errc::kNoEntry);
    }
  }
  if (p.fd_target != nullptr && p.fd_target->is_host_file()) {
    // /dev/fd/N of a pipe or file: its own metadata (a pipe's inode tells two apart: GNU diff
    // takes two names with one device and inode for the same file).
    struct stat st {};
    if (::fstat(p.fd_target->fd.get(), &st) != 0) return fail(host_errno());
    return stat_from(st);
  }
  if (p.device != Device::kNone) {  // a /dev name: only its type, no host object's metadata
    Stat s;
    s.type = FileType::kCharacterDevice;
    s.nlink = 1;
    return s;
  }
  struct stat st {};
  // NOFOLLOW: any following already happened in the resolver, beneath the directory. When the
  // resolver looked at the entry itself (following), that look is the stat: one host call.
  if (p.where.final_stat) {
    st = *p.where.final_stat;
  } else if (::fstatat(p.where.dir.get(), p.where.name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
    return fail(host_errno());
  }
  if (p.where.trailing_slash && !S_ISDIR(st.st_mode)) return fail(Errc::kNotDirectory);
  return stat_from(st);
}

Errc Core::set_times_at(const PathAt& p, Timestamp atime, Timestamp mtime) {
  if (Errc r = virtual_refusal(p, false); r != Errc::kOk) return r;
  if (p.device != Device::kNone) return Errc::kNotCapable;
  if (Errc r = deny_read_only(p.read_only); r != Errc::kOk) return r;
  timespec ts[2];
  if (Errc r = host_times(atime, mtime, ts); r != Errc::kOk) return r;
  if (Errc r = require_dir_if_slash(p.where); r != Errc::kOk) return r;
  if (::utimensat(p.where.dir.get(), p.where.name.c_str(), ts, AT_SYMLINK_NOFOLLOW) != 0) {
    return host_errno();
  }
  return Errc::kOk;
}

Errc Core::create_directory(const PathAt& p) {
  if (Errc r = virtual_refusal(p, true); r != Errc::kOk) return r;
  if (Errc r = deny_read_only(p.read_only); r != Errc::kOk) return r;
  if (Errc r = reserve_entry(); r != Errc::kOk) return r;
  if (::mkdirat(p.where.dir.get(), parent_op_name(p.where).c_str(), 0777) != 0) {
    Errc r = host_errno();
    budget_->release_entry();
    return r;
  }
  return Errc::kOk;
}

Errc Core::remove_directory(const PathAt& p) {
  if (Errc r = virtual_refusal(p, false); r != Errc::kOk) return r;
  if (Errc r = deny_read_only(p.read_only); r != Errc::kOk) return r;
  if (::unlinkat(p.where.dir.get(), parent_op_name(p.where).c_str(), AT_REMOVEDIR) != 0) {
    return host_errno();
  }
  return Errc::kOk;
}

Errc Core::unlink_file(const PathAt& p) {
  if (Errc r = virtual_refusal(p, false); r != Errc::kOk) return r;
  if (Errc r = deny_read_only(p.read_only); r != Errc::kOk) return r;
  if (::unlinkat(p.where.dir.get(), parent_op_name(p.where).c_str(), 0) != 0) {
    return host_errno();
  }
  return Errc::kOk;
}

// Threat: moving an operator-provided symlink that climbs (`sub/up -> ..`) to a shallower
// place, or linking it there, makes it point outside the preopen for host software. The entry
// `name` in `dir` may be moved (rename) or linked only if it is not such a symlink and, when
// `whole_tree` (rename of a directory), nothing beneath it is one. kEscape when it is;
// kCrossDevice when the tree is too large to check (kMaxMoveScanEntries: `mv` then copies
// instead); kInterrupted (with the run ending) when the deadline, interrupt or fuel stops it.
Errc Core::check_movable(int dir, const std::string& name, bool whole_tree) {
  if (name == ".") return Errc::kOk;  // the kernel refuses to move "." (EBUSY/EINVAL) anyway
  struct stat st {};
  if (::fstatat(dir, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) return Errc::kOk;  // kernel says
  if (S_ISLNK(st.st_mode)) {
    char buf[4096];
    ssize_t n = ::readlinkat(dir, name.c_str(), buf, sizeof buf);
    if (n < 0) return host_errno();
    return symlink_target_descends(std::string_view(buf, static_cast<size_t>(n))) ? Errc::kOk
                                                                                 : Errc::kEscape;
  }
  if (!whole_tree || !S_ISDIR(st.st_mode)) return Errc::kOk;
  int sub = ::openat(dir, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (sub < 0) return host_errno();
  UniqueFd guard(sub);
  int err = 0;
  ScanResult r = scan_for_climbing_links(
      sub, [](void* c) { return static_cast<Core*>(c)->may_continue(); }, this, &err);
  switch (r) {
    case ScanResult::kClean: return Errc::kOk;
    case ScanResult::kFound: return Errc::kEscape;
    case ScanResult::kTooLarge: return Errc::kCrossDevice;
    case ScanResult::kStopped: return Errc::kInterrupted;
    case ScanResult::kError: return errc_from_host(err);
  }
  return Errc::kEscape;
}

Errc Core::rename(const PathAt& from, const PathAt& to) {
  if (Errc r = virtual_refusal(from, false); r != Errc::kOk) return r;
  // (a new name there is refused as one made; an existing one as one replaced)
  if (Errc r = virtual_refusal(to, true); r != Errc::kOk) {
    return r == Errc::kExist ? Errc::kAccess : r;
  }
  if (Errc r = deny_read_only(from.read_only); r != Errc::kOk) return r;
  if (Errc r = deny_read_only(to.read_only); r != Errc::kOk) return r;
  if (Errc r = check_movable(from.where.dir.get(), from.where.name, true); r != Errc::kOk) {
    return r;
  }
  // Both parents are beneath their directories, so nothing can be moved out of (or into) the
  // sandbox; renameat never follows its final components.
  if (::renameat(from.where.dir.get(), parent_op_name(from.where).c_str(), to.where.dir.get(),
                 parent_op_name(to.where).c_str()) != 0) {
    return host_errno();
  }
  return Errc::kOk;
}

Errc Core::link(const PathAt& from, const PathAt& to) {
  if (Errc r = virtual_refusal(from, false); r != Errc::kOk) return r;
  if (Errc r = virtual_refusal(to, true); r != Errc::kOk) return r;
  if (from.device != Device::kNone || to.device != Device::kNone) return Errc::kNotCapable;
  if (Errc r = deny_read_only(to.read_only); r != Errc::kOk) return r;
  if (Errc r = require_dir_if_slash(from.where); r != Errc::kOk) return r;
  if (Errc r = check_movable(from.where.dir.get(), from.where.name, false); r != Errc::kOk) {
    return r;
  }
  // Both ends were resolved beneath their own directories: the new link cannot be placed,
  // nor point, outside the sandbox. Flags 0: linkat does not follow the (already resolved)
  // old entry, so a symlink swapped in meanwhile is linked as itself, not followed.
  if (Errc r = reserve_entry(); r != Errc::kOk) return r;
  if (::linkat(from.where.dir.get(), from.where.name.c_str(), to.where.dir.get(),
               parent_op_name(to.where).c_str(), 0) != 0) {
    Errc r = host_errno();
    budget_->release_entry();
    return r;
  }
  return Errc::kOk;
}

Errc Core::symlink(std::string_view target, const OpenDescription& dir, const PathAt& at) {
  if (Errc r = virtual_refusal(at, true); r != Errc::kOk) return r;
  if (Errc r = deny_read_only(at.read_only); r != Errc::kOk) return r;
  // Threat: planting a link that points outside the sandbox. Our resolver would never follow
  // it, but host software sharing the directory might. A target that climbs (`..`) or is
  // absolute can be made to point outside later, by moving the link or a directory above it,
  // or by chaining links (`s/x -> ..`, `y -> s/x/../F`); so only targets that descend are
  // stored (kEscape otherwise). An absolute target beneath the link's own directory, as
  // `ln -s "$PWD/f" "$PWD/l"` writes, is stored in its descending form (`f`): the same entry for
  // the guest, and no host path at all for host software. See path.h.
  if (target.empty()) return Errc::kNoEntry;
  std::string t(target);
  if (target.front() == '/') {
    // The preopen the link's path was resolved beneath (another than dir's when the path led
    // there through the virtual root).
    const OpenDescription& base = at.beneath != nullptr ? *at.beneath : dir;
    std::optional<std::string> rel = symlink_descending_form(target, base.preopen_name, at.path);
    if (!rel) return Errc::kEscape;
    t = std::move(*rel);
  } else if (!symlink_target_descends(target)) {
    return Errc::kEscape;
  }
  const ResolvedPath& rp = at.where;
  if (rp.trailing_slash && rp.name != ".") {
    // "link/" names a directory: an existing non-directory is kNotDirectory (Linux would say
    // EEXIST); a missing one kNoEntry, an existing directory kExist (from the kernel).
    struct stat st {};
    if (::fstatat(rp.dir.get(), rp.name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 &&
        !S_ISDIR(st.st_mode)) {
      return Errc::kNotDirectory;
    }
  }
  if (Errc r = reserve_entry(); r != Errc::kOk) return r;
  if (::symlinkat(t.c_str(), rp.dir.get(), parent_op_name(rp).c_str()) != 0) {
    Errc r = host_errno();
    budget_->release_entry();
    return r;
  }
  return Errc::kOk;
}

Outcome<std::string> Core::readlink(const PathAt& p) const {
  if (p.virt) {  // nothing virtual is a symlink
    using K = VirtualTree::Found::Kind;
    K k = p.virt->kind;
    return fail(k == K::kMissing ? Errc::kNoEntry
                : k == K::kNotDir ? Errc::kNotDirectory
                                  : Errc::kInvalid);
  }
  if (p.device != Device::kNone) return fail(Errc::kInvalid);  // not a symlink
  char tmp[4096];  // link targets are at most PATH_MAX
  ssize_t n = ::readlinkat(p.where.dir.get(), p.where.name.c_str(), tmp, sizeof tmp);
  if (n < 0) return fail(host_errno());
  return std::string(tmp, static_cast<size_t>(n));
}

// --- the virtual root (virtual_root.h) ------------------------------------------------------

std::optional<VirtualTree::Found> Core::virtual_lookup(const OpenDescription& d,
                                                       std::string_view path) const {
  if (tree_ == nullptr) return std::nullopt;
  if (d.vnode != nullptr) return tree_->lookup(*d.vnode, path);
  if (d.preopen_name.empty()) return std::nullopt;  // not a preopen: its `..` is the resolver's
  if (path.find("..") == std::string_view::npos) return std::nullopt;  // (the usual path)
  // A preopen: only a path that climbs above its top (a `..` where the names before it have
  // come back to the top: `..`, `sub/../..`) goes through the tree, from the preopen's node.
  const std::vector<std::string_view> comps = platform::path_components(path);
  size_t depth = 0, climb = comps.size();
  for (size_t i = 0; i < comps.size() && climb == comps.size(); ++i) {
    if (comps[i] == "..") {
      if (depth == 0) climb = i;
      else --depth;
    } else if (comps[i] != ".") {
      ++depth;
    }
  }
  if (climb == comps.size()) return std::nullopt;
  // The names before it must be directories, not symlinks (then the lexical `..` is the
  // physical one: `sub/../..` is the top's `..`). One walk beneath d, at most kMaxClimbDepth
  // deep at once (each level one descriptor); any doubt leaves the path to the resolver, which
  // refuses the climb as ever.
  constexpr size_t kMaxClimbDepth = 32;
  std::vector<UniqueFd> walk;
  for (size_t i = 0; i < climb; ++i) {
    if (comps[i] == ".") continue;
    if (comps[i] == "..") {
      walk.pop_back();
      continue;
    }
    if (walk.size() == kMaxClimbDepth || comps[i].size() > NAME_MAX) return std::nullopt;
    std::string name(comps[i]);
    int at = walk.empty() ? d.fd.get() : walk.back().get();
    UniqueFd next(::openat(at, name.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!next.valid()) return std::nullopt;
    walk.push_back(std::move(next));
  }
  VirtualTree::Found top = tree_->lookup(tree_->root(), d.preopen_name);
  if (top.kind != VirtualTree::Found::Kind::kMount || top.rest != "." ||
      preopens_[static_cast<size_t>(top.node->mount)].get() != &d) {
    return std::nullopt;  // a preopen the tree does not hold (a relative name, or one shadowed)
  }
  std::string rest;
  for (size_t i = climb; i < comps.size(); ++i) {
    if (!rest.empty()) rest.push_back('/');
    rest.append(comps[i]);
  }
  if (has_trailing_slash(path)) rest.push_back('/');
  return tree_->lookup(*top.node, rest);
}

Errc Core::virtual_refusal(const PathAt& p, bool creates) {
  if (!p.virt) return Errc::kOk;
  using K = VirtualTree::Found::Kind;
  switch (p.virt->kind) {
    case K::kNotDir: return Errc::kNotDirectory;
    case K::kMissing: return creates && p.virt->last ? Errc::kAccess : Errc::kNoEntry;
    default: return creates ? Errc::kExist : Errc::kAccess;
  }
}

Outcome<DescriptionRef> Core::open_virtual(const VirtualTree::Found& v, const OpenRequest& req) {
  using K = VirtualTree::Found::Kind;
  switch (v.kind) {
    case K::kNotDir: return fail(Errc::kNotDirectory);
    case K::kMissing: return fail(req.create && v.last ? Errc::kAccess : Errc::kNoEntry);
    case K::kCommand:
      // Listed and stat-able, never opened: the command table has no bytes to show.
      if (req.directory) return fail(Errc::kNotDirectory);
      return fail(req.create && req.exclusive ? Errc::kExist : Errc::kAccess);
    default: break;
  }
  if (req.create && req.exclusive) return fail(Errc::kExist);
  if (req.write || req.truncate) return fail(Errc::kIsDirectory);
  auto d = std::make_shared<OpenDescription>(Kind::kDir, UniqueFd(), FileType::kDirectory);
  d->vnode = std::shared_ptr<const VirtualNode>(tree_, v.node);
  // Not read_only (a binding gives it a directory's rights): a path through it into a
  // preopen has that preopen's rules, and nothing virtual changes (virtual_refusal).
  d->guest_path = VirtualTree::path_of(*v.node);
  return d;
}

Stat Core::virtual_stat(const VirtualNode& node) const {
  Stat s;
  s.type = FileType::kDirectory;
  s.ino = node.ino;
  s.nlink = 2 + node.children.size();  // its own ".", its entry in the parent, each child's ".."
  return s;
}

}  // namespace wasmcap::wasi

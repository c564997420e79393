// Shadow workspaces: the descriptor-relative file-system primitives every part uses. Every walk
// is descriptor-relative (openat/fstatat with O_NOFOLLOW and AT_SYMLINK_NOFOLLOW), and a path
// beneath SOURCE or the tree (a change, a journal's temp file, SOURCE itself from "/") is
// resolved by the one confinement primitive (src/platform/beneath.h) with every symlink refused
// (open_parent, open_source); paths from a record are plain names only (check_rel). Also here:
// hole-aware hashing and copying (hash_fd) and the durable writes (sync_fd, write_whole,
// replace_durably, rename_noreplace) the journals and snapshots rely on.
// The component's design and the threats its checks stop: src/workspace/internal.h.

#include "workspace/internal.h"

#include "platform/beneath.h"

#include <dirent.h>
#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>
#include <stdio.h>  // renameat2, RENAME_NOREPLACE

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace wasmcap::workspace {

using namespace detail;

namespace detail {

Error io_error(const std::string& what) {
  return Error(ErrorCode::kIo, what + ": " + std::strerror(errno));
}

}  // namespace detail

namespace {

Entry::Type type_of(mode_t m) {
  if (S_ISREG(m)) return Entry::Type::kFile;
  if (S_ISDIR(m)) return Entry::Type::kDir;
  if (S_ISLNK(m)) return Entry::Type::kSymlink;
  return Entry::Type::kOther;
}

}  // namespace

namespace detail {

std::string join(const std::string& prefix, const std::string& name) {
  return prefix.empty() ? name : prefix + "/" + name;
}

std::vector<std::string> split_path(const std::string& p) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i <= p.size()) {
    size_t j = p.find('/', i);
    if (j == std::string::npos) j = p.size();
    out.push_back(p.substr(i, j - i));
    i = j + 1;
  }
  return out;
}

Result<std::vector<std::string>> list_dir(int dirfd) {
  int dup = ::dup(dirfd);
  if (dup < 0) return tl::unexpected(io_error("dup"));
  DIR* d = ::fdopendir(dup);
  if (d == nullptr) {
    ::close(dup);
    return tl::unexpected(io_error("fdopendir"));
  }
  ::rewinddir(d);
  std::vector<std::string> names;
  while (dirent* e = ::readdir(d)) {
    std::string n = e->d_name;
    if (n == "." || n == "..") continue;
    names.push_back(std::move(n));
  }
  ::closedir(d);
  std::sort(names.begin(), names.end());
  return names;
}

std::string hex(const unsigned char* p, size_t n) {
  static const char* k = "0123456789abcdef";
  std::string s;
  for (size_t i = 0; i < n; ++i) {
    s.push_back(k[p[i] >> 4]);
    s.push_back(k[p[i] & 15]);
  }
  return s;
}

// Hashes the first st_size bytes of fd (BLAKE2b-256 of the logical content, holes as the zeros
// they read as), and when out >= 0 writes a copy that keeps the holes. Hole-aware
// (SEEK_DATA/SEEK_HOLE): only data extents are read and written; a hole costs hashing from a
// static zero buffer, no I/O, and stays a hole in the copy (`out` is extended by ftruncate).
// Without hole-awareness, one guest seek past 256 MiB and a one-byte write made apply write
// 256 MiB of real blocks into SOURCE. The hash is the same as a plain read's, so snapshots
// stay comparable. The total work is bounded by the workspace's logical-size bound.
// `content` (may be null) receives the first content_cap bytes.
Result<std::string> hash_fd(int fd, int out, std::string* content, uint64_t content_cap) {
  crypto_generichash_state st;
  crypto_generichash_init(&st, nullptr, 0, 32);
  struct stat fst;
  if (::fstat(fd, &fst) != 0) return tl::unexpected(io_error("stat"));
  const uint64_t size = static_cast<uint64_t>(fst.st_size);
  static const std::vector<unsigned char> zeros(1 << 16, 0);
  std::vector<unsigned char> buf(1 << 16);
  auto take = [&](const unsigned char* p, size_t n) {
    crypto_generichash_update(&st, p, n);
    if (content != nullptr && content->size() < content_cap) {
      content->append(reinterpret_cast<const char*>(p),
                      std::min<uint64_t>(n, content_cap - content->size()));
    }
  };
  uint64_t pos = 0;
  bool seek_ok = true;  // false: the file system has no SEEK_DATA; read everything
  while (pos < size) {
    uint64_t data = pos, hole = size;
    if (seek_ok) {
      off_t d = ::lseek(fd, static_cast<off_t>(pos), SEEK_DATA);
      if (d < 0 && errno == ENXIO) {
        data = size;  // only a hole is left
      } else if (d < 0) {
        seek_ok = false;
      } else {
        data = std::min<uint64_t>(static_cast<uint64_t>(d), size);
        off_t h = ::lseek(fd, d, SEEK_HOLE);
        hole = h < 0 ? size : std::min<uint64_t>(static_cast<uint64_t>(h), size);
      }
    }
    for (; pos < data; pos += std::min<uint64_t>(data - pos, zeros.size())) {
      take(zeros.data(), std::min<uint64_t>(data - pos, zeros.size()));
    }
    while (pos < hole) {
      ssize_t n = ::pread(fd, buf.data(), std::min<uint64_t>(hole - pos, buf.size()),
                          static_cast<off_t>(pos));
      if (n < 0) {
        if (errno == EINTR) continue;
        return tl::unexpected(io_error("read"));
      }
      if (n == 0) return make_error(ErrorCode::kIo, "file shrank while being read; retry");
      take(buf.data(), static_cast<size_t>(n));
      for (ssize_t off = 0; out >= 0 && off < n;) {
        ssize_t w = ::pwrite(out, buf.data() + off, static_cast<size_t>(n - off),
                             static_cast<off_t>(pos) + off);
        if (w < 0) {
          if (errno == EINTR) continue;
          return tl::unexpected(io_error("write"));
        }
        off += w;
      }
      pos += static_cast<uint64_t>(n);
    }
  }
  if (out >= 0 && ::ftruncate(out, static_cast<off_t>(size)) != 0) {
    return tl::unexpected(io_error("extend copy"));
  }
  unsigned char h[32];
  crypto_generichash_final(&st, h, sizeof h);
  return hex(h, sizeof h);
}

Result<std::string> read_link(int dirfd, const std::string& name) {
  std::string buf(4096, '\0');
  ssize_t n = ::readlinkat(dirfd, name.c_str(), buf.data(), buf.size());
  if (n < 0) return tl::unexpected(io_error("readlink " + name));
  buf.resize(static_cast<size_t>(n));
  return buf;
}

Entry entry_from_stat(const std::string& path, const struct stat& st) {
  Entry e;
  e.path = path;
  e.type = type_of(st.st_mode);
  e.mode = st.st_mode & 07777;
  e.size = e.type == Entry::Type::kFile ? static_cast<uint64_t>(st.st_size) : 0;
  e.mtime_ns = static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
  e.ino = st.st_ino;
  return e;
}

// fsync(fd), as the failpoint `fp` lets a test fail or kill it.
Result<void> sync_fd(int fd, std::string_view fp, const std::string& what) {
  WS_FAILPOINT(fp, "sync " + what);
  if (::fsync(fd) != 0) return tl::unexpected(io_error("sync " + what));
  return {};
}

// Writes `data` to DIR/name (created or truncated, never through a link); with `sync`, fsyncs
// it. Failpoints FP.write and FP.fsync.
Result<void> write_whole(int dirfd, const std::string& name, const std::string& data,
                         const std::string& fp, bool sync) {
  WS_FAILPOINT(fp + ".write", "write " + name);
  Fd f(::openat(dirfd, name.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600));
  if (!f.valid()) return tl::unexpected(io_error("create " + name));
  for (size_t off = 0; off < data.size();) {
    ssize_t n = ::write(f.get(), data.data() + off, data.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return tl::unexpected(io_error("write " + name));
    off += static_cast<size_t>(n);
  }
  if (sync) WASMCAP_TRY(sync_fd(f.get(), fp + ".fsync", name));
  return {};
}

// Replaces DIR/name with `data` as git and SQLite do: a temp file written and fsynced, renamed
// over the old one, then the directory fsynced, so after a crash or power loss `name` is the
// old content or the new one, whole, never a torn or empty file. Failpoints FP.write,
// FP.fsync, FP.rename, FP.fsync_dir.
Result<void> replace_durably(int dirfd, const std::string& name, const std::string& data,
                             const std::string& fp) {
  const std::string tmp = name + ".tmp";
  WASMCAP_TRY(write_whole(dirfd, tmp, data, fp, true));
  WS_FAILPOINT(fp + ".rename", "rename " + tmp);
  if (::renameat(dirfd, tmp.c_str(), dirfd, name.c_str()) != 0) {
    return tl::unexpected(io_error("rename " + tmp));
  }
  return sync_fd(dirfd, fp + ".fsync_dir", "the directory of " + name);
}

// rename(2) that fails with EEXIST instead of replacing an existing (empty) directory.
int rename_noreplace(int dirfd, const std::string& from, const std::string& to) {
  int r = ::renameat2(dirfd, from.c_str(), dirfd, to.c_str(), RENAME_NOREPLACE);
  if (r != 0 && errno == EINVAL) {  // a file system without RENAME_NOREPLACE
    struct stat st;
    if (::fstatat(dirfd, to.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0) {
      errno = EEXIST;
      return -1;
    }
    r = ::renameat(dirfd, from.c_str(), dirfd, to.c_str());
  }
  return r;
}

}  // namespace detail

namespace {

// The paths apply and diff resolve beneath SOURCE or the tree come from a snapshot, a diff or a
// journal: '/'-separated plain names. Threat: a crafted or corrupted record naming `..`, `.` or
// an empty component would make the same change name another entry than the one reviewed.
Result<void> check_rel(const std::string& rel) {
  for (const std::string& p : split_path(rel)) {
    if (p.empty() || p == "." || p == "..") {
      return make_error(ErrorCode::kInvalidArgument, "bad path component in '" + rel + "'");
    }
  }
  return {};
}

}  // namespace

namespace detail {

// Opens the directory containing `rel` beneath root, never following a symlink: the platform
// resolver (src/platform/beneath.h) with Symlinks::kRefuse, so a link anywhere on the way is
// refused (ELOOP), not followed. With `create`, missing directories are made. Sets *leaf to the
// last component. With `state` (apply's writes), each directory is compared with wasmcap's
// state directories as it is opened (on_dir), and reaching into one is workspace_conflict. On
// other errors errno is left as the resolver's (callers tell a missing parent from a link).
Result<Fd> open_parent(int root, const std::string& rel, bool create, std::string* leaf,
                       const StateDirs* state) {
  WASMCAP_TRY(check_rel(rel));
  const auto parts = split_path(rel);
  platform::BeneathOptions o;
  o.symlinks = platform::Symlinks::kRefuse;
  o.make_dirs = create;
  std::string why;
  bool stat_failed = false;
  if (state != nullptr) {
    o.on_dir = [&](int dirfd, size_t i) -> int {
      struct stat st;
      if (::fstat(dirfd, &st) != 0) {
        stat_failed = true;
        return errno;
      }
      why = state->refuse_at(st, parts, i);
      return why.empty() ? 0 : EPERM;
    };
  }
  platform::Resolved r;
  int e = platform::resolve_beneath(root, rel, o, &r);
  if (!why.empty()) {
    // Appended: g++ 12 -O3 warns (-Wrestrict, a false positive) on "'" + string here.
    std::string msg = "'";
    msg += display_path(rel);
    msg += "' is ";
    msg += why;
    return make_error(ErrorCode::kWorkspaceConflict, msg);
  }
  if (e != 0) {
    errno = e;
    Error err = io_error((stat_failed ? "stat directory of " : create ? "make or open directory of "
                                                                      : "open directory of ") +
                         rel);
    errno = e;  // kept for callers that tell a missing parent from a link (probe)
    return tl::unexpected(std::move(err));
  }
  *leaf = std::move(r.name);
  return r.dir.take();
}

Probe probe(int root, const std::string& rel) {
  Probe pr;
  std::string leaf;
  auto parent = open_parent(root, rel, false, &leaf);
  if (!parent) {
    pr.parent_ok = false;
    pr.parent_missing = errno == ENOENT;
    pr.parent_problem = errno == ENOENT ? "a parent directory is missing"
                        : (errno == ENOTDIR || errno == ELOOP)
                            ? "a parent is no longer a directory (or is a symlink)"
                            : parent.error().message;
    return pr;
  }
  if (::fstatat(parent->get(), leaf.c_str(), &pr.st, AT_SYMLINK_NOFOLLOW) == 0) pr.exists = true;
  return pr;
}

Result<std::string> hash_at(int root, const std::string& rel, std::string* content,
                            struct stat* st_out) {
  std::string leaf;
  Fd parent;
  WASMCAP_TRY_ASSIGN(parent, open_parent(root, rel, false, &leaf));
  Fd f(::openat(parent.get(), leaf.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK));
  if (!f.valid()) return tl::unexpected(io_error("open " + rel));
  struct stat st;
  if (::fstat(f.get(), &st) != 0 || !S_ISREG(st.st_mode)) {
    return make_error(ErrorCode::kIo, "'" + rel + "' is not a regular file");
  }
  if (st_out != nullptr) *st_out = st;
  return hash_fd(f.get(), -1, content, kMaxDiffBytes + 1);
}

Result<Fd> open_root(const std::string& dir) {
  Fd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd.valid()) return tl::unexpected(io_error("open " + dir));
  return fd;
}

// Opens SOURCE for writing into it: from "/", one component at a time with O_NOFOLLOW, so a
// symlink put in place of SOURCE or of any ancestor since create is refused rather than followed
// (a lookup by path would send the tool's files wherever the link points), and the directory
// reached must be the one recorded at create (device and inode), so a directory moved or
// renamed into SOURCE's place is refused too. The error says which check failed.
Result<Fd> open_source(const Info& info) {
  const std::string& p = info.source;
  if (!info.has_source_id) {
    return make_error(ErrorCode::kWorkspaceConflict,
                      "the snapshot has no record of SOURCE's identity (made by an older "
                      "wasmcap); recreate the workspace with `wasmcap ws create` to apply");
  }
  if (p.empty() || p[0] != '/') {
    return make_error(ErrorCode::kWorkspaceConflict, "SOURCE '" + display_path(p) + "' is not absolute");
  }
  Fd root(::open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!root.valid()) return tl::unexpected(io_error("open /"));
  Fd dir;
  std::string rel = p.substr(1);
  if (rel.empty()) {
    dir = std::move(root);
  } else {
    // Beneath "/" with every symlink refused, SOURCE itself included (follow_final with
    // Symlinks::kRefuse): the path recorded at create is link-free (canonical), so a link on
    // it now is tampering. `..`, `.` and empty components are refused first (check_rel): the
    // recorded path names SOURCE by plain names only.
    platform::BeneathOptions o;
    o.symlinks = platform::Symlinks::kRefuse;
    o.follow_final = true;
    int err = check_rel(rel) ? platform::open_beneath(root.get(), rel, o,
                                                      O_RDONLY | O_DIRECTORY, 0, &dir)
                             : EINVAL;
    if (err != 0) {
      return make_error(ErrorCode::kWorkspaceConflict,
                        "SOURCE '" + display_path(p) + "' cannot be opened without following a "
                        "symlink (" + std::strerror(err) + "): it, or a directory above it, was "
                        "removed or replaced since the workspace was created");
    }
  }
  struct stat st;
  if (::fstat(dir.get(), &st) != 0) return tl::unexpected(io_error("stat " + p));
  if (static_cast<uint64_t>(st.st_dev) != info.source_dev ||
      static_cast<uint64_t>(st.st_ino) != info.source_ino) {
    return make_error(ErrorCode::kWorkspaceConflict,
                      "SOURCE '" + display_path(p) + "' is no longer the directory the workspace "
                      "was created from (another device/inode): it was replaced since");
  }
  return dir;
}

}  // namespace detail

}  // namespace wasmcap::workspace

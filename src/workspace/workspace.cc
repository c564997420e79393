// Shadow workspaces (include/wasmcap/workspace.h, docs/workspace.md).
//
// Design choice: a full copy of SOURCE into the workspace's tree/, made with reflinks (the
// FICLONE ioctl) where the file system supports them and a plain copy where it does not, plus a
// snapshot manifest of SOURCE. Alternatives considered:
// - overlayfs (lower = SOURCE, upper = changes): needs root or a user namespace with
//   unprivileged overlay mounts, which many hosts (containers, hardened kernels) refuse;
// - fuse-overlayfs: a kernel module + a helper daemon;
// - a copy-on-first-write layer inside the WASI host: every path operation would have to merge
//   two trees, in the most security-sensitive code we have.
// A reflinked copy needs no privilege, costs almost nothing on btrfs/xfs/bcachefs (blocks are
// shared until written), and on ext4/tmpfs degrades to a copy that is still correct. Tools then
// see tree/ through an ordinary preopen, so the WASI sandbox is unchanged.
//
// Every file-system walk here is descriptor-relative (openat/fstatat with O_NOFOLLOW and
// AT_SYMLINK_NOFOLLOW): a symlink in SOURCE or in the tree is recorded as a symlink and never
// followed, so neither copy nor apply can be redirected outside the tree they work on. A path
// beneath SOURCE or the tree (a change, a journal's temp file, SOURCE itself from "/") is
// resolved by the one confinement primitive (src/platform/beneath.h) with every symlink
// refused (open_parent, open_source).
#include "wasmcap/workspace.h"

#include "common/escape.h"
#include "common/failpoint.h"
#include "common/json.h"
#include "wasmcap/policy.h"
#include "platform/beneath.h"
#include "platform/fd.h"
#include "workspace/state_dirs.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <sodium.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <stdio.h>  // renameat2, RENAME_NOREPLACE

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <set>
#include <nlohmann/json.hpp>
#include <sstream>

namespace wasmcap::workspace {

// Declares `name` as the value of a Result expression, or propagates its error.
#define WS_LET(name, expr)                                            \
  auto name##_result_ = (expr);                                       \
  if (!name##_result_) return tl::unexpected(std::move(name##_result_).error()); \
  auto name = std::move(*name##_result_)

namespace {

constexpr size_t kMaxEntries = 500000;  // entries in one tree (bounds snapshot size)
constexpr int kMaxDepth = 128;          // directory depth (bounds open descriptors)
constexpr uint64_t kMaxDiffBytes = 4u << 20;  // larger text files: "changed", no line diff
// snapshot.json, the record of a tree (write_snapshot): kMaxEntries entries of a few hundred
// bytes each stay far below this; a larger file is not one we wrote, and is refused unread
// rather than allocated whole. Its nesting is 3 (object, entries array, entry object); the
// bound leaves room for fields added later and stops a deep-nesting bomb.
constexpr size_t kMaxSnapshotBytes = size_t{256} << 20;
constexpr size_t kMaxSnapshotDepth = 8;

// The one owning-descriptor type (src/platform/fd.h).
using Fd = platform::UniqueFd;

Error io_error(const std::string& what) {
  return Error(ErrorCode::kIo, what + ": " + std::strerror(errno));
}

// A named failpoint (src/common/failpoint.h) before the state-writing system call it stands
// for: when a test arms it with enospc/eio, the step fails as if that call had returned it.
#define WS_FAILPOINT(fp, what)                              \
  do {                                                      \
    if (int ws_fp_e_ = failpoint::hit(fp)) {                \
      errno = ws_fp_e_;                                     \
      return tl::unexpected(io_error(what));                \
    }                                                       \
  } while (0)

// Files and hidden directories in HOME/workspaces (docs/workspace.md "Interruptions").
constexpr const char* kJournalFile = "apply-journal.json";  // in NAME/, while an apply is unfinished
constexpr const char* kCreatePrefix = ".tmp-";       // .tmp-NAME-XXXX: a create copying SOURCE
constexpr const char* kDiscardPrefix = ".discard-";  // .discard-NAME-XXXX: a discard deleting
constexpr const char* kApplyTmpPrefix = ".wasmcap-apply-";  // temp files apply makes in SOURCE

Entry::Type type_of(mode_t m) {
  if (S_ISREG(m)) return Entry::Type::kFile;
  if (S_ISDIR(m)) return Entry::Type::kDir;
  if (S_ISLNK(m)) return Entry::Type::kSymlink;
  return Entry::Type::kOther;
}

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

struct WalkState {
  std::vector<Entry>* out;
  std::vector<std::string>* skipped;
  // A directory never to enter (the workspaces folder itself). A backstop: as a state
  // directory (state_dirs.h) it is left out before this is reached.
  dev_t stop_dev = 0;
  ino_t stop_ino = 0;
  bool have_stop = false;
  int copy_root = -1;  // >= 0: copy into this tree
  bool any_reflink = false, any_copy = false;
  uint64_t max_bytes = kDefaultMaxLogicalBytes;  // bound on the sum of apparent file sizes
  uint64_t total_bytes = 0;
  const StateDirs* state = nullptr;       // create: wasmcap's state directories, left out
  std::vector<std::string>* left_out = nullptr;  // ... and listed here
};

std::string mib(uint64_t b) { return std::to_string(b >> 20) + " MiB"; }

// Walks dirfd (relative path `prefix`), appending entries, hashing files and (when copying)
// mirroring the tree into dst.
Result<void> walk(int dirfd, int dst, const std::string& prefix, int depth, WalkState& ws) {
  if (depth > kMaxDepth) {
    return make_error(ErrorCode::kInvalidArgument,
                      "'" + prefix + "': directory depth over " + std::to_string(kMaxDepth));
  }
  std::vector<std::string> names;
  WASMCAP_TRY_ASSIGN(names, list_dir(dirfd));
  for (const std::string& n : names) {
    std::string path = join(prefix, n);
    struct stat st;
    if (::fstatat(dirfd, n.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
      return tl::unexpected(io_error("stat " + path));
    }
    if (ws.out->size() >= kMaxEntries) {
      return make_error(ErrorCode::kInvalidArgument,
                        "tree has more than " + std::to_string(kMaxEntries) + " entries");
    }
    // A test can stop create at any entry of the copy (kill, or a full disk).
    if (dst >= 0) WS_FAILPOINT("ws.create.copy", "copy " + display_path(path));
    Entry e = entry_from_stat(path, st);
    switch (e.type) {
      case Entry::Type::kOther:
        if (ws.skipped != nullptr) ws.skipped->push_back(path);
        continue;  // fifos, sockets, devices: never opened, never copied
      case Entry::Type::kSymlink: {
        WASMCAP_TRY_ASSIGN(e.target, read_link(dirfd, n));
        if (dst >= 0 && ::symlinkat(e.target.c_str(), dst, n.c_str()) != 0) {
          return tl::unexpected(io_error("symlink " + path));
        }
        ws.out->push_back(std::move(e));
        break;
      }
      case Entry::Type::kFile: {
        // Counted before anything is read: the apparent size, which is what hashing and a
        // copy cost, not the blocks allocated (a sparse file has almost none).
        ws.total_bytes += e.size;
        if (ws.total_bytes > ws.max_bytes) {
          return make_error(
              ErrorCode::kInvalidArgument,
              "the tree's logical size (apparent file sizes) passes its bound of " +
                  mib(ws.max_bytes) + " at '" + display_path(path) + "' (" +
                  std::to_string(e.size) + " bytes): remove or truncate large (possibly "
                  "sparse) files in the tree, or create the workspace with a larger "
                  "--max-size-mb");
        }
        Fd in(::openat(dirfd, n.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK));
        if (!in.valid()) return tl::unexpected(io_error("open " + path));
        struct stat st2;
        if (::fstat(in.get(), &st2) != 0 || st2.st_ino != st.st_ino || !S_ISREG(st2.st_mode)) {
          return make_error(ErrorCode::kIo, "'" + path + "' changed while being read; retry");
        }
        Fd out;
        bool cloned = false;
        if (dst >= 0) {
          out = Fd(::openat(dst, n.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                            0600));
          if (!out.valid()) return tl::unexpected(io_error("create copy of " + path));
          cloned = ::ioctl(out.get(), FICLONE, in.get()) == 0;
          (cloned ? ws.any_reflink : ws.any_copy) = true;
        }
        WASMCAP_TRY_ASSIGN(e.hash,
                           hash_fd(in.get(), (dst >= 0 && !cloned) ? out.get() : -1, nullptr, 0));
        if (dst >= 0) {
          ::fchmod(out.get(), e.mode & 0777);
          struct timespec ts[2] = {st.st_atim, st.st_mtim};
          ::futimens(out.get(), ts);
        }
        ws.out->push_back(std::move(e));
        break;
      }
      case Entry::Type::kDir: {
        if (ws.have_stop && st.st_dev == ws.stop_dev && st.st_ino == ws.stop_ino) {
          return make_error(ErrorCode::kInvalidArgument,
                            "'" + path + "' is the workspaces folder itself; a workspace cannot "
                            "contain its own store (move WASMCAP_HOME out of the tree)");
        }
        Fd sub(::openat(dirfd, n.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
        if (!sub.valid()) return tl::unexpected(io_error("open directory " + path));
        // wasmcap's own state (the cache, WASMCAP_HOME, ...; state_dirs.h), compared as the
        // directory is opened: never copied, so a tool neither reads it nor gets a copy that
        // apply would carry back. Nothing is recorded either, so diff shows nothing for it.
        struct stat sst;
        if (::fstat(sub.get(), &sst) != 0) return tl::unexpected(io_error("stat " + path));
        if (ws.state != nullptr && !ws.state->state_dir(sst).empty()) {
          if (ws.left_out != nullptr) ws.left_out->push_back(path);
          continue;
        }
        Fd dsub;
        if (dst >= 0) {
          if (::mkdirat(dst, n.c_str(), 0700) != 0) return tl::unexpected(io_error("mkdir " + path));
          dsub = Fd(::openat(dst, n.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
          if (!dsub.valid()) return tl::unexpected(io_error("open copy of " + path));
        }
        ws.out->push_back(e);
        auto r = walk(sub.get(), dsub.get(), path, depth + 1, ws);
        if (!r) return r;
        // Keep the owner's rwx so tools can work and discard can remove; the snapshot keeps
        // the real mode (directory modes are not compared, docs/workspace.md).
        if (dst >= 0) ::fchmod(dsub.get(), (e.mode & 0777) | 0700);
        break;
      }
    }
  }
  return {};
}

const char* kTypeNames[] = {"file", "dir", "symlink", "other"};

Entry::Type type_from_name(const std::string& s) {
  for (int i = 0; i < 4; ++i) {
    if (s == kTypeNames[i]) return static_cast<Entry::Type>(i);
  }
  return Entry::Type::kOther;
}

std::string workspaces_dir(const std::string& home) { return home + "/workspaces"; }

std::string snapshot_json(const Info& info) {
  nlohmann::json j;
  j["version"] = 1;
  j["name"] = info.name;
  j["source"] = info.source;
  j["created_unix"] = info.created_unix;
  j["copy_method"] = info.copy_method;
  j["skipped"] = info.skipped;
  j["left_out"] = info.left_out;
  j["max_bytes"] = info.max_bytes;
  if (info.has_source_id) j["source_id"] = {{"dev", info.source_dev}, {"ino", info.source_ino}};
  nlohmann::json arr = nlohmann::json::array();
  for (const Entry& e : info.entries) {
    nlohmann::json o = {{"path", e.path}, {"type", type_name(e.type)}, {"mode", e.mode},
                        {"size", e.size}, {"mtime_ns", e.mtime_ns}, {"ino", e.ino}};
    if (e.type == Entry::Type::kFile) o["hash"] = e.hash;
    if (e.type == Entry::Type::kSymlink) o["target"] = e.target;
    arr.push_back(std::move(o));
  }
  j["entries"] = std::move(arr);
  // Paths in SOURCE need not be UTF-8: replace invalid bytes rather than throw.
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
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

// Opens the directory containing `rel` beneath root, never following a symlink: the platform
// resolver (src/platform/beneath.h) with Symlinks::kRefuse, so a link anywhere on the way is
// refused (ELOOP), not followed. With `create`, missing directories are made. Sets *leaf to the
// last component. With `state` (apply's writes), each directory is compared with wasmcap's
// state directories as it is opened (on_dir), and reaching into one is workspace_conflict. On
// other errors errno is left as the resolver's (callers tell a missing parent from a link).
Result<Fd> open_parent(int root, const std::string& rel, bool create, std::string* leaf,
                       const StateDirs* state = nullptr) {
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
    return make_error(ErrorCode::kWorkspaceConflict, "'" + display_path(rel) + "' is " + why);
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
  return std::move(r.dir);
}

// lstat of `rel` beneath root (no symlink followed on the way). ENOENT → nullopt-like false.
struct Probe {
  bool exists = false;
  bool parent_ok = true;  // false: an ancestor is missing or not a real directory
  bool parent_missing = false;  // an ancestor is missing (so is the entry)
  std::string parent_problem;
  struct stat st {};
};

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
                            struct stat* st_out = nullptr) {
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

// The workspace's lock file (created on first use: workspaces made before it existed get one).
Result<Fd> open_lock(const std::string& dir) {
  Fd fd(::open((dir + "/lock").c_str(), O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600));
  if (!fd.valid()) {
    int e = errno;  // kept: ENOENT means the workspace is gone (lock_workspace)
    Error err = io_error("open " + dir + "/lock");
    errno = e;
    return tl::unexpected(std::move(err));
  }
  return fd;
}

ApplyWriteHook g_apply_hook = nullptr;
void* g_apply_hook_arg = nullptr;

bool is_binary(const std::string& s) { return s.find('\0') != std::string::npos; }

std::string no_such_workspace(const std::string& name) {
  return "no workspace '" + name + "' (see `wasmcap ws list`)";
}

// Who takes a workspace's lock: tools shared, apply and discard exclusively.
enum class LockFor { kTools, kApply, kDiscard };

// Takes workspace NAME's lock without waiting (a busy workspace is reported, not waited for
// behind a frozen prompt) and checks that it is still the lock at DIR/lock: a discard renames
// the workspace away while holding it, and whoever opened the file before that rename must not
// go on with a lock on a workspace that is gone.
Result<Fd> lock_workspace(const std::string& dir, const std::string& name, LockFor who) {
  struct stat dst;
  if (::lstat(dir.c_str(), &dst) != 0 || !S_ISDIR(dst.st_mode)) {
    return make_error(ErrorCode::kNotFound, no_such_workspace(name));
  }
  auto fd = open_lock(dir);
  if (!fd) {
    if (errno == ENOENT) return make_error(ErrorCode::kNotFound, no_such_workspace(name));
    return tl::unexpected(fd.error());
  }
  if (::flock(fd->get(), (who == LockFor::kTools ? LOCK_SH : LOCK_EX) | LOCK_NB) != 0) {
    if (errno != EWOULDBLOCK) return tl::unexpected(io_error("lock workspace " + name));
    switch (who) {
      case LockFor::kTools:
        return make_error(ErrorCode::kWorkspaceConflict,
                          "workspace '" + name + "' is being applied (`wasmcap ws apply`) or "
                          "discarded; retry when that has finished");
      case LockFor::kApply:
        return make_error(ErrorCode::kWorkspaceConflict,
                          "workspace '" + name + "' is in use by a running tool (wasmcap sh, run "
                          "or an MCP call working on it) or by another apply or discard; nothing "
                          "was written: retry when it has finished");
      case LockFor::kDiscard:
        return make_error(ErrorCode::kWorkspaceConflict,
                          "workspace '" + name + "' is in use by a running tool (wasmcap sh, run "
                          "or an MCP call working on it) or being applied; nothing was deleted: "
                          "retry when it has finished");
    }
  }
  struct stat held, now;
  if (::fstat(fd->get(), &held) != 0 || ::lstat((dir + "/lock").c_str(), &now) != 0 ||
      held.st_dev != now.st_dev || held.st_ino != now.st_ino) {
    return make_error(ErrorCode::kNotFound, no_such_workspace(name) + "; it was just discarded");
  }
  return std::move(*fd);
}

// Deletes everything beneath dirfd, a directory of ours (a workspace being discarded, a
// create's partial copy), restoring the owner's rwx on directories a tool made read-only and
// never following a symlink. Failpoint `fp` before each unlink, so a test can stop a deletion
// halfway.
Result<void> remove_contents(int dirfd, std::string_view fp) {
  WS_LET(names, list_dir(dirfd));
  for (const std::string& n : names) {
    struct stat st;
    if (::fstatat(dirfd, n.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
      if (errno == ENOENT) continue;
      return tl::unexpected(io_error("stat " + n));
    }
    const bool dir = S_ISDIR(st.st_mode);
    if (dir) {
      if ((st.st_mode & 0700) != 0700) {
        // Through an O_PATH descriptor's /proc link: the inode just checked, not a name a link
        // could be swapped onto.
        Fd p(::openat(dirfd, n.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
        std::string proc = "/proc/self/fd/" + std::to_string(p.get());
        if (!p.valid() || ::chmod(proc.c_str(), 0700) != 0) {
          return tl::unexpected(io_error("make " + n + " writable"));
        }
      }
      Fd sub(::openat(dirfd, n.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
      if (!sub.valid()) return tl::unexpected(io_error("open " + n));
      WASMCAP_TRY(remove_contents(sub.get(), fp));
    }
    WS_FAILPOINT(fp, "remove " + n);
    if (::unlinkat(dirfd, n.c_str(), dir ? AT_REMOVEDIR : 0) != 0 && errno != ENOENT) {
      return tl::unexpected(io_error("remove " + n));
    }
  }
  return {};
}

bool starts_with(const std::string& s, const char* prefix) { return s.rfind(prefix, 0) == 0; }

// Finishes what killed creates and discards left in HOME/workspaces: hidden directories
// ".tmp-NAME-*" (a partial copy of SOURCE, never usable) and ".discard-NAME-*" (a workspace
// whose name is already gone). Their owner holds a flock on the directory itself for as long
// as it works on it, so one whose lock can be taken has no owner left and is deleted, and one
// in use is left alone (as the AOT cache sweeps its tmp-* directories). Run by every `ws`
// command. Failures are not reported: what is left is swept the next time.
void sweep(int wsfd, std::string_view fp) {
  auto names = list_dir(wsfd);
  if (!names) return;
  bool synced = false;
  for (const std::string& n : *names) {
    if (!starts_with(n, kCreatePrefix) && !starts_with(n, kDiscardPrefix)) continue;
    Fd d(::openat(wsfd, n.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!d.valid() || ::flock(d.get(), LOCK_EX | LOCK_NB) != 0) continue;
    struct stat held, now;
    if (::fstat(d.get(), &held) != 0 ||
        ::fstatat(wsfd, n.c_str(), &now, AT_SYMLINK_NOFOLLOW) != 0 || held.st_ino != now.st_ino) {
      continue;  // renamed into place (a create that finished) since we listed it
    }
    // A discard whose sync failed may have a rename that is not on disk yet: sync it before
    // deleting anything, so a power loss cannot bring the workspace back with files missing.
    if (!synced && ::fsync(wsfd) != 0) return;
    synced = true;
    if (remove_contents(d.get(), fp)) ::unlinkat(wsfd, n.c_str(), AT_REMOVEDIR);
  }
}

// Opens HOME/workspaces and sweeps it, for a `ws` command; fp names the command's sweep
// failpoint. With `make`, a missing folder is made; without, it is an invalid descriptor.
Result<Fd> open_workspaces(const std::string& home, std::string_view fp, bool make = true) {
  std::string wsdir = workspaces_dir(home);
  if (make && ::mkdir(wsdir.c_str(), 0700) != 0 && errno != EEXIST) {
    return tl::unexpected(io_error("mkdir " + wsdir));
  }
  Fd fd(::open(wsdir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd.valid() && !make && errno == ENOENT) return Fd();
  if (!fd.valid()) return tl::unexpected(io_error("open " + wsdir));
  sweep(fd.get(), fp);
  return fd;
}

std::string random_hex(size_t bytes) {
  std::vector<unsigned char> r(bytes);
  randombytes_buf(r.data(), r.size());
  return hex(r.data(), r.size());
}

Change::Kind kind_from_name(const std::string& s) {
  for (auto k : {Change::Kind::kAdded, Change::Kind::kRemoved, Change::Kind::kModified,
                 Change::Kind::kModeChanged, Change::Kind::kTypeChanged}) {
    if (s == kind_name(k)) return k;
  }
  return Change::Kind::kModified;
}

// The journal of an apply (kJournalFile in the workspace's directory): the change set being
// written into SOURCE, by digest and by operation, and the temp files the apply may leave
// there. Made durable (replace_durably) before the first write into SOURCE, removed only after
// the snapshot is rewritten; while it exists SOURCE may hold any mix of old and new entries
// (each whole), tools are kept out of the tree (hold_for_tools), and the next apply finishes
// the change set and removes the temp files it names.
struct Journal {
  std::string digest;
  int64_t started_unix = 0;
  std::vector<Change> ops;        // kind, path, type, old_type, new_mode, new_hash
  std::vector<std::string> tmps;  // SOURCE-relative paths of temp files it may have made
};

std::string journal_json(const Journal& j) {
  nlohmann::json ops = nlohmann::json::array();
  for (const Change& c : j.ops) {
    ops.push_back({{"kind", kind_name(c.kind)}, {"path", c.path}, {"type", type_name(c.type)},
                   {"old_type", type_name(c.old_type)}, {"new_mode", c.new_mode},
                   {"new_hash", c.new_hash}});
  }
  return nlohmann::json({{"version", 1}, {"digest", j.digest}, {"started_unix", j.started_unix},
                         {"ops", ops}, {"tmps", j.tmps}})
      .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

// A temp file path from a journal: relative, no empty, "." or ".." component, and a leaf of
// ours, so even a damaged journal cannot make apply remove anything else.
bool valid_apply_tmp(const std::string& p) {
  auto parts = split_path(p);
  for (const auto& c : parts) {
    if (c.empty() || c == "." || c == "..") return false;
  }
  return starts_with(parts.back(), kApplyTmpPrefix);
}

// The workspace's journal, or nullopt when no apply is unfinished.
Result<std::optional<Journal>> read_journal(const std::string& dir, const std::string& name) {
  Fd f(::open((dir + "/" + kJournalFile).c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
  if (!f.valid()) {
    if (errno == ENOENT) return std::optional<Journal>();
    return tl::unexpected(io_error("open " + dir + "/" + kJournalFile));
  }
  // The journal holds one operation per change, as the snapshot holds one entry per path:
  // the snapshot's bounds are its bounds. Read at most one byte over, refused unread.
  std::string text;
  char buf[65536];
  for (ssize_t n; text.size() <= kMaxSnapshotBytes && (n = ::read(f.get(), buf, sizeof buf)) != 0;) {
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return tl::unexpected(io_error("read " + dir + "/" + kJournalFile));
    text.append(buf, static_cast<size_t>(n));
  }
  auto bad = [&](const std::string& why) {
    return make_error(ErrorCode::kIo,
                      "workspace '" + name + "': " + kJournalFile + " (the record of an "
                      "unfinished apply) is unreadable (" + display_path(why) + "); it is only ever replaced "
                      "whole, so it was damaged from outside: check SOURCE by hand against `ws "
                      "diff`, then remove the file");
  };
  auto parsed = json::parse(text, json::Limits{kMaxSnapshotBytes, kMaxSnapshotDepth});
  if (!parsed) return bad(parsed.error().to_string());
  const nlohmann::json& j = *parsed;
  if (!j.is_object() || j.value("version", 0) != 1) return bad("not a journal of this version");
  Journal out;
  try {
    out.digest = j.at("digest").get<std::string>();
    out.started_unix = j.value("started_unix", int64_t{0});
    for (const auto& o : j.at("ops")) {
      Change c;
      c.kind = kind_from_name(o.at("kind").get<std::string>());
      c.path = o.at("path").get<std::string>();
      c.type = type_from_name(o.at("type").get<std::string>());
      c.old_type = type_from_name(o.at("old_type").get<std::string>());
      c.new_mode = o.at("new_mode").get<uint32_t>();
      c.new_hash = o.at("new_hash").get<std::string>();
      out.ops.push_back(std::move(c));
    }
    for (const auto& t : j.at("tmps")) {
      std::string p = t.get<std::string>();
      if (!valid_apply_tmp(p)) return bad("a temp file path that is not one of ours");
      out.tmps.push_back(std::move(p));
    }
  } catch (const nlohmann::json::exception& e) {
    return bad(e.what());
  }
  return std::optional<Journal>(std::move(out));
}

// Removes the temp files an interrupted apply named in its journal (those it got to create)
// from SOURCE: regular files only, beneath the verified SOURCE descriptor, no link followed.
Result<void> remove_apply_tmps(int src, const Journal& j, std::string_view fp) {
  for (const std::string& t : j.tmps) {
    std::string leaf;
    auto parent = open_parent(src, t, false, &leaf);
    if (!parent) continue;  // its directory is gone, and the temp file with it
    struct stat st;
    if (::fstatat(parent->get(), leaf.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0 ||
        !S_ISREG(st.st_mode)) {
      continue;
    }
    WS_FAILPOINT(fp, "remove " + display_path(t));
    if (::unlinkat(parent->get(), leaf.c_str(), 0) != 0 && errno != ENOENT) {
      return tl::unexpected(io_error("remove " + display_path(t)));
    }
  }
  return {};
}

// Whether SOURCE already holds change c's result: for a removal, the entry (or a parent) is
// absent; for a directory, a directory is there; for a file, a regular file with the new
// content hash and permission bits. Apply counts such a change as applied (idempotence: a
// rerun after an interruption finishes the rest instead of calling its own work a conflict).
bool landed(int src, const Change& c) {
  Probe pr = probe(src, c.path);
  if (c.kind == Change::Kind::kRemoved) {
    if (pr.parent_ok) return !pr.exists;
    if (pr.parent_missing) return true;
    // An ancestor is not a directory: a file (a directory above turned into one, as this
    // change set may do) holds no entries, so the removal is done; a symlink is not counted
    // (the parent checks report it).
    auto parts = split_path(c.path);
    std::string anc;
    for (size_t i = 0; i + 1 < parts.size(); ++i) {
      anc = join(anc, parts[i]);
      Probe a = probe(src, anc);
      if (!a.exists) return a.parent_missing || a.parent_ok;
      if (!S_ISDIR(a.st.st_mode)) return !S_ISLNK(a.st.st_mode);
    }
    return false;
  }
  if (!pr.exists) return false;
  if (c.type == Entry::Type::kDir) return S_ISDIR(pr.st.st_mode);
  if (c.type != Entry::Type::kFile || !S_ISREG(pr.st.st_mode) ||
      (pr.st.st_mode & 0777) != (c.new_mode & 0777)) {
    return false;
  }
  auto h = hash_at(src, c.path, nullptr);
  return h && *h == c.new_hash;
}

// "" for a top-level path, else its parent directory's relative path.
std::string parent_rel(const std::string& p) {
  size_t slash = p.rfind('/');
  return slash == std::string::npos ? std::string() : p.substr(0, slash);
}

// Paths named in each list of an apply's stop report: enough to read at a glance, bounded so a
// stopped apply of a 500 000-change set does not print megabytes (`ws diff` marks every one).
constexpr size_t kMaxPathsListed = 50;

// Lists paths for a message: at most `cap`, escaped, then how many more.
std::string path_list(const std::vector<std::string>& paths, size_t cap = kMaxPathsListed) {
  std::string out;
  for (size_t i = 0; i < paths.size() && i < cap; ++i) out += "\n    " + display_path(paths[i]);
  if (paths.size() > cap) {
    out += "\n    ... and " + std::to_string(paths.size() - cap) + " more (`wasmcap ws diff` marks "
           "each one)";
  }
  return out;
}

}  // namespace

std::string display_path(const std::string& p) {
  return text::escape_for_terminal(p, text::ControlStyle::kHex);
}

ToolHold::~ToolHold() {
  if (fd_ >= 0) ::close(fd_);
}

ToolHold& ToolHold::operator=(ToolHold&& o) noexcept {
  if (this != &o) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = std::exchange(o.fd_, -1);
  }
  return *this;
}

Result<ToolHold> hold_for_tools(const std::string& home, const std::string& name) {
  WASMCAP_TRY(validate_name(name));
  std::string dir = workspaces_dir(home) + "/" + name;
  WS_LET(fd, lock_workspace(dir, name, LockFor::kTools));
  // An unfinished apply (killed, or stopped by a full disk) freezes the tree: the next apply
  // finishes exactly the change set it journaled, whose content comes from the tree.
  struct stat st;
  if (::lstat((dir + "/" + kJournalFile).c_str(), &st) == 0) {
    return make_error(ErrorCode::kWorkspaceConflict,
                      "an apply of workspace '" + name + "' was interrupted and SOURCE holds "
                      "part of it; tools are kept out of the tree until `wasmcap ws apply " +
                          name + "` has finished it (or `wasmcap ws discard --force " + name +
                          "` drops it)");
  }
  return ToolHold(fd.release());
}

void set_apply_write_hook_for_testing(ApplyWriteHook hook, void* arg) {
  g_apply_hook = hook;
  g_apply_hook_arg = arg;
}

const char* kind_name(Change::Kind k) {
  switch (k) {
    case Change::Kind::kAdded: return "added";
    case Change::Kind::kRemoved: return "removed";
    case Change::Kind::kModified: return "modified";
    case Change::Kind::kModeChanged: return "mode";
    case Change::Kind::kTypeChanged: return "type";
  }
  return "?";
}

const char* type_name(Entry::Type t) { return kTypeNames[static_cast<int>(t)]; }

Result<void> validate_name(const std::string& name) {
  bool ok = !name.empty() && name.size() <= 64 && std::isalnum(static_cast<unsigned char>(name[0]));
  for (char c : name) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-')) ok = false;
  }
  if (name.find("..") != std::string::npos) ok = false;
  if (!ok) {
    return make_error(ErrorCode::kInvalidArgument,
                      "workspace name must be 1-64 characters [A-Za-z0-9._-], start with a "
                      "letter or digit and contain no '..'");
  }
  return {};
}

std::string session_workspace_name(const std::string& base, const std::string& session_key) {
  if (sodium_init() < 0) return {};
  // The key is client-chosen text: it only feeds the hash, never the name or a path.
  std::string material = base;
  material.push_back('\0');
  material += session_key;
  unsigned char h[8];
  crypto_generichash(h, sizeof h, reinterpret_cast<const unsigned char*>(material.data()),
                     material.size(), nullptr, 0);
  return "s-" + hex(h, sizeof h);
}

Result<Info> session_workspace(const std::string& home, const std::string& base,
                               const std::string& session_key) {
  if (sodium_init() < 0) return make_error(ErrorCode::kInternal, "libsodium init failed");
  WASMCAP_TRY(validate_name(base));
  std::string name = session_workspace_name(base, session_key);
  // Concurrent first calls of one session in this process: one creates, the others wait.
  static std::mutex mu;
  std::lock_guard<std::mutex> lock(mu);
  if (auto existing = open(home, name)) return existing;
  Info b;
  WASMCAP_TRY_ASSIGN(b, open(home, base));
  auto made = create(home, b.source, name, b.max_bytes);  // the base's size bound
  if (!made) {
    if (auto raced = open(home, name)) return raced;  // a concurrent first call made it
  }
  return made;
}

Result<void> bind_plan(policy::Plan& plan, const std::string& home, const std::string& session_key,
                       std::vector<ToolHold>* holds) {
  for (auto& m : plan.fs) {
    // Mounts bound already (the MCP server binds per_session ones to its session copies).
    if (m.workspace.empty() || m.denied || !m.host.empty()) continue;
    Result<Info> info = m.per_session && !session_key.empty()
                            ? session_workspace(home, m.workspace, session_key)
                            : open(home, m.workspace);
    if (!info) {
      return make_error(info.error().code, "fs " + m.guest + ": workspace " + m.workspace + ": " +
                                               info.error().message);
    }
    if (holds != nullptr) {
      auto h = hold_for_tools(home, info->name);
      if (!h) {
        return make_error(h.error().code, "fs " + m.guest + ": workspace " + m.workspace + ": " +
                                              h.error().message);
      }
      holds->push_back(std::move(*h));
    }
    m.host = info->tree;
  }
  return {};
}

Result<Info> create(const std::string& home, const std::string& source, const std::string& name_in,
                    uint64_t max_bytes) {
  if (sodium_init() < 0) return make_error(ErrorCode::kInternal, "libsodium init failed");
  std::string name = name_in;
  if (name.empty()) {
    unsigned char r[4];
    randombytes_buf(r, sizeof r);
    name = "ws-" + hex(r, sizeof r);
  }
  WASMCAP_TRY(validate_name(name));
  std::error_code ec;
  // Symlinks in --from are resolved here, once, as the operator named them: the path recorded
  // is link-free, so apply can reopen it with O_NOFOLLOW on every component and treat any link
  // found there later as tampering.
  std::string src = std::filesystem::canonical(source, ec).string();
  auto root = ec ? Result<Fd>(make_error(ErrorCode::kNotFound, "")) : open_root(src);
  struct stat rst;
  if (!root || ::fstat(root->get(), &rst) != 0 || !S_ISDIR(rst.st_mode)) {
    return make_error(ErrorCode::kNotFound, "--from '" + source + "': not a directory we can open");
  }
  // Only what wasmcap creates is made private (0700): an existing WASMCAP_HOME keeps the mode
  // its owner gave it (it used to be chmodded to 0700 here).
  std::string wsdir = workspaces_dir(home);
  if (!std::filesystem::exists(std::filesystem::symlink_status(home, ec))) {
    std::filesystem::create_directories(home, ec);  // with any missing parents, as mkdir -p
    if (!ec) ::chmod(home.c_str(), 0700);
  }
  WS_LET(wsfd, open_workspaces(home, "ws.create.sweep"));
  // After HOME and its workspaces folder exist, so they are identified too.
  const StateDirs state = StateDirs::current(home);
  if (auto why = state.contains(root->get()); !why.empty()) {
    return make_error(ErrorCode::kInvalidArgument,
                      "--from '" + display_path(source) + "': " + why + "; choose another "
                      "directory");
  }
  std::string final_dir = wsdir + "/" + name;
  auto exists = [&] {
    return make_error(ErrorCode::kWorkspaceConflict,
                      "workspace '" + name + "' exists; pick another --name or `wasmcap ws discard " +
                          name + "`");
  };
  if (std::filesystem::exists(std::filesystem::symlink_status(final_dir, ec))) return exists();
  // The copy is made in a hidden directory that stays flock()ed until it is renamed into
  // place: a create that is killed leaves one nobody holds, which the next `ws` command sweeps
  // (sweep). Locked right after mkdir and checked to still be there, so a sweep that ran in
  // between (it removes what it could lock) cannot pull the directory from under the copy.
  std::string tmp_name;
  Fd tmpfd;
  // Fresh names to try: one loses only to a sweep that ran between its mkdir and its lock.
  constexpr int kTempDirAttempts = 3;
  for (int attempt = 0; attempt < kTempDirAttempts && !tmpfd.valid(); ++attempt) {
    WS_FAILPOINT("ws.create.mkdir", "mkdir " + wsdir + "/" + kCreatePrefix + name);
    tmp_name = kCreatePrefix + name + "-" + random_hex(6);
    if (::mkdirat(wsfd.get(), tmp_name.c_str(), 0700) != 0) {
      return tl::unexpected(io_error("mkdir " + wsdir + "/" + tmp_name));
    }
    Fd d(::openat(wsfd.get(), tmp_name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    struct stat held, now;
    if (d.valid() && ::flock(d.get(), LOCK_EX | LOCK_NB) == 0 && ::fstat(d.get(), &held) == 0 &&
        ::fstatat(wsfd.get(), tmp_name.c_str(), &now, AT_SYMLINK_NOFOLLOW) == 0 &&
        held.st_ino == now.st_ino) {
      tmpfd = std::move(d);
    }
  }
  if (!tmpfd.valid()) {
    return make_error(ErrorCode::kIo, "could not make and lock a temporary directory in " + wsdir +
                                          "; retry");
  }
  Info info;
  info.name = name;
  info.source = src;
  info.source_dev = static_cast<uint64_t>(rst.st_dev);
  info.source_ino = static_cast<uint64_t>(rst.st_ino);
  info.has_source_id = true;
  info.max_bytes = max_bytes == 0 ? kDefaultMaxLogicalBytes : max_bytes;
  info.created_unix = static_cast<int64_t>(std::time(nullptr));
  WalkState ws;
  ws.max_bytes = info.max_bytes;
  ws.out = &info.entries;
  ws.skipped = &info.skipped;
  ws.state = &state;
  ws.left_out = &info.left_out;
  struct stat wst;
  if (::fstat(wsfd.get(), &wst) == 0) {
    ws.have_stop = true;
    ws.stop_dev = wst.st_dev;
    ws.stop_ino = wst.st_ino;
  }
  // A failed create removes its copy (still holding the lock); if that fails too, or the
  // process is killed, the sweep of a later command does.
  auto fail = [&](Error e) -> Result<Info> {
    if (remove_contents(tmpfd.get(), "ws.create.cleanup")) {
      ::unlinkat(wsfd.get(), tmp_name.c_str(), AT_REMOVEDIR);
    }
    return tl::unexpected(std::move(e));
  };
  if (ws.have_stop && rst.st_dev == wst.st_dev && rst.st_ino == wst.st_ino) {
    return fail(Error(ErrorCode::kInvalidArgument, "--from is the workspaces folder itself"));
  }
  if (int e = failpoint::hit("ws.create.mkdir_tree"); e != 0 ||
      ::mkdirat(tmpfd.get(), "tree", 0700) != 0) {
    if (e != 0) errno = e;
    return fail(io_error("mkdir " + wsdir + "/" + tmp_name + "/tree"));
  }
  auto dst = Fd(::openat(tmpfd.get(), "tree", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!dst.valid()) return fail(io_error("open " + wsdir + "/" + tmp_name + "/tree"));
  auto r = walk(root->get(), dst.get(), "", 0, ws);
  if (!r) return fail(r.error());
  info.copy_method = ws.any_reflink ? (ws.any_copy ? "reflink+copy" : "reflink")
                                    : (ws.any_copy ? "copy" : "none");
  if (auto w = write_whole(tmpfd.get(), "snapshot.json", snapshot_json(info),
                           "ws.create.snapshot", false);
      !w) {
    return fail(w.error());
  }
  // The copy and its snapshot reach the disk before the workspace gets its name: after a power
  // loss a listed workspace is whole, never one whose files read as emptied (which diff would
  // show as changes and apply would write into SOURCE). One syncfs instead of an fsync per file.
  if (int e = failpoint::hit("ws.create.sync"); e != 0 || ::syncfs(tmpfd.get()) != 0) {
    if (e != 0) errno = e;
    return fail(io_error("sync the copy in " + wsdir + "/" + tmp_name));
  }
  if (int e = failpoint::hit("ws.create.rename");
      e != 0 || rename_noreplace(wsfd.get(), tmp_name, name) != 0) {
    if (e != 0) errno = e;
    if (errno == EEXIST || errno == ENOTEMPTY) return fail(exists().value());
    return fail(io_error("rename " + wsdir + "/" + tmp_name + " to " + name));
  }
  info.dir = final_dir;
  info.tree = final_dir + "/tree";
  if (auto sy = sync_fd(wsfd.get(), "ws.create.fsync_dir", wsdir); !sy) {
    return make_error(ErrorCode::kIo,
                      sy.error().message + ": workspace '" + name + "' was created, but its name "
                      "may not survive a power loss; if it is missing afterwards, create it again");
  }
  return info;
}

Result<Info> open(const std::string& home, const std::string& name) {
  WASMCAP_TRY(validate_name(name));
  std::string dir = workspaces_dir(home) + "/" + name;
  std::ifstream f(dir + "/snapshot.json", std::ios::binary);
  if (!f) {
    return make_error(ErrorCode::kNotFound,
                      "no workspace '" + name + "' (see `wasmcap ws list`)");
  }
  // Read at most one byte over the bound, so an oversized record is refused without being
  // held whole; parsed by the one bounded decoder (src/common/json.h).
  std::string text;
  char buf[1 << 16];
  while (text.size() <= kMaxSnapshotBytes && f.read(buf, sizeof buf).gcount() > 0) {
    text.append(buf, static_cast<size_t>(f.gcount()));
  }
  auto parsed = json::parse(text, json::Limits{kMaxSnapshotBytes, kMaxSnapshotDepth});
  if (!parsed || !parsed->is_object() || parsed->value("version", 0) != 1) {
    return make_error(ErrorCode::kIo,
                      "workspace '" + name + "': snapshot.json unreadable" +
                          (parsed ? std::string() : " (" + parsed.error().to_string() + ")"));
  }
  const nlohmann::json& j = *parsed;
  Info info;
  try {
    info.name = j.at("name").get<std::string>();
    info.source = j.at("source").get<std::string>();
    info.created_unix = j.at("created_unix").get<int64_t>();
    info.copy_method = j.value("copy_method", "");
    info.skipped = j.value("skipped", std::vector<std::string>{});
    info.left_out = j.value("left_out", std::vector<std::string>{});
    // Snapshots written before the bound existed get the default one.
    info.max_bytes = j.value("max_bytes", kDefaultMaxLogicalBytes);
    if (j.contains("source_id")) {
      info.source_dev = j.at("source_id").at("dev").get<uint64_t>();
      info.source_ino = j.at("source_id").at("ino").get<uint64_t>();
      info.has_source_id = true;
    }
    for (const auto& o : j.at("entries")) {
      Entry e;
      e.path = o.at("path").get<std::string>();
      e.type = type_from_name(o.at("type").get<std::string>());
      e.mode = o.at("mode").get<uint32_t>();
      e.size = o.at("size").get<uint64_t>();
      e.mtime_ns = o.at("mtime_ns").get<int64_t>();
      e.ino = o.at("ino").get<uint64_t>();
      e.hash = o.value("hash", "");
      e.target = o.value("target", "");
      info.entries.push_back(std::move(e));
    }
  } catch (const nlohmann::json::exception& e) {
    return make_error(ErrorCode::kIo, "workspace '" + name + "': snapshot.json: " + e.what());
  }
  info.dir = dir;
  info.tree = dir + "/tree";
  return info;
}

Result<std::vector<Info>> list(const std::string& home) {
  std::vector<Info> out;
  std::error_code ec;
  std::string wsdir = workspaces_dir(home);
  WS_LET(wsfd, open_workspaces(home, "ws.list.sweep", false));
  if (!wsfd.valid()) return out;
  std::vector<std::string> names;
  for (const auto& d : std::filesystem::directory_iterator(wsdir, ec)) {
    std::string n = d.path().filename().string();
    if (validate_name(n)) names.push_back(n);
  }
  std::sort(names.begin(), names.end());
  for (const auto& n : names) {
    auto info = open(home, n);
    if (info) out.push_back(std::move(*info));
  }
  return out;
}

namespace {

// The change set's digest: BLAKE2b-256 over every field apply acts on, each length-prefixed
// (so no two change sets serialise alike), in path order, under a versioned domain tag.
std::string change_set_digest(const std::vector<Change>& changes) {
  crypto_generichash_state st;
  crypto_generichash_init(&st, nullptr, 0, 32);
  auto field = [&](const std::string& v) {
    unsigned char len[8];
    for (int i = 0; i < 8; ++i) len[i] = static_cast<unsigned char>(uint64_t{v.size()} >> (8 * i));
    crypto_generichash_update(&st, len, sizeof len);
    crypto_generichash_update(&st, reinterpret_cast<const unsigned char*>(v.data()), v.size());
  };
  field("wasmcap workspace change set v1");
  for (const Change& c : changes) {
    field(kind_name(c.kind));
    field(c.path);
    field(type_name(c.type));
    field(type_name(c.old_type));
    field(std::to_string(c.old_mode & 07777));
    field(std::to_string(c.new_mode & 07777));
    field(c.old_hash);
    field(c.new_hash);
    field(c.old_target);
    field(c.new_target);
  }
  unsigned char h[32];
  crypto_generichash_final(&st, h, sizeof h);
  return hex(h, sizeof h);
}

// The diff of info's tree against its snapshot; src_fd (or -1) is SOURCE, for the old texts.
Result<DiffResult> diff_info(const Info& info, int src_fd) {
  WS_LET(tree, open_root(info.tree));
  std::vector<Entry> now;
  WalkState ws;
  ws.out = &now;
  ws.max_bytes = info.max_bytes;
  WASMCAP_TRY(walk(tree.get(), -1, "", 0, ws));
  std::map<std::string, const Entry*> before, after;
  for (const Entry& e : info.entries) before[e.path] = &e;
  for (const Entry& e : now) after[e.path] = &e;
  DiffResult d;
  bool stable = true;  // the texts read for display are the contents that were hashed
  auto text_diff = [&](Change& c, const std::string& old_hash) {
    std::string oldc, newc;
    if (!old_hash.empty()) {
      if (src_fd < 0) {
        c.unified = "# " + display_path(c.path) + ": SOURCE cannot be opened safely; no diff "
                    "(see `wasmcap ws apply` for why)\n";
        return;
      }
      auto h = hash_at(src_fd, c.path, &oldc);
      if (h && *h != old_hash && *h == c.new_hash) {
        c.unified = "# " + display_path(c.path) + ": SOURCE already has the new content (written "
                    "by an interrupted `ws apply`, or by hand); apply counts it as applied\n";
        return;
      }
      if (!h || *h != old_hash) {
        c.unified = "# " + display_path(c.path) + ": SOURCE changed since the workspace was created; "
                    "no diff, and apply will refuse this file\n";
        return;
      }
    }
    auto h2 = hash_at(tree.get(), c.path, &newc);
    if (!h2 || *h2 != c.new_hash) {
      // A tool changed it between the walk and now: what we would show is not what the
      // digest covers. No digest this time; the operator runs diff again.
      stable = false;
      c.unified = "# " + display_path(c.path) + ": changed while being diffed; run `ws diff` again\n";
      return;
    }
    c.binary = is_binary(oldc) || is_binary(newc);
    if (c.binary) return;
    if (oldc.size() > kMaxDiffBytes || newc.size() > kMaxDiffBytes) {
      c.unified = "# " + display_path(c.path) + ": text over " + std::to_string(kMaxDiffBytes) +
                  " bytes, no line diff\n";
      return;
    }
    c.unified = unified_diff(display_path(c.path), oldc, newc);
  };
  for (const auto& [path, b] : before) {
    auto it = after.find(path);
    if (it == after.end()) {
      Change c;
      c.kind = Change::Kind::kRemoved;
      c.path = path;
      c.type = c.old_type = b->type;
      c.old_mode = b->mode;
      c.old_hash = b->hash;
      c.old_target = b->target;
      d.changes.push_back(std::move(c));
      continue;
    }
    const Entry* a = it->second;
    Change c;
    c.path = path;
    c.type = a->type;
    c.old_type = b->type;
    c.old_mode = b->mode;
    c.new_mode = a->mode;
    c.old_hash = b->hash;
    c.new_hash = a->hash;
    c.old_target = b->target;
    c.new_target = a->target;
    if (a->type != b->type) {
      c.kind = Change::Kind::kTypeChanged;
      c.content_changed = true;
      d.changes.push_back(std::move(c));
      continue;
    }
    if (a->type == Entry::Type::kFile) {
      c.content_changed = a->hash != b->hash;
      bool mode = (a->mode & 0777) != (b->mode & 0777);
      if (!c.content_changed && !mode) continue;
      c.kind = c.content_changed ? Change::Kind::kModified : Change::Kind::kModeChanged;
      if (c.content_changed) text_diff(c, b->hash);
      d.changes.push_back(std::move(c));
    } else if (a->type == Entry::Type::kSymlink && a->target != b->target) {
      c.kind = Change::Kind::kModified;
      c.content_changed = true;
      d.changes.push_back(std::move(c));
    }
  }
  for (const auto& [path, a] : after) {
    if (before.count(path) != 0) continue;
    Change c;
    c.kind = Change::Kind::kAdded;
    c.path = path;
    c.type = c.old_type = a->type;
    c.new_mode = a->mode;
    c.new_hash = a->hash;
    c.new_target = a->target;
    c.content_changed = true;
    if (a->type == Entry::Type::kFile) text_diff(c, "");
    d.changes.push_back(std::move(c));
  }
  std::sort(d.changes.begin(), d.changes.end(),
            [](const Change& x, const Change& y) { return x.path < y.path; });
  if (stable) d.digest = change_set_digest(d.changes);
  return d;
}

}  // namespace

Result<DiffResult> diff(const std::string& home, const std::string& name) {
  if (sodium_init() < 0) return make_error(ErrorCode::kInternal, "libsodium init failed");
  WASMCAP_TRY(validate_name(name));
  WASMCAP_TRY(open_workspaces(home, "ws.diff.sweep", false));
  WS_LET(info, open(home, name));
  // For the old texts; may be gone or replaced. Reading only: a snapshot without SOURCE's
  // identity (an older version's) still shows its diff, apply refuses it.
  auto src = info.has_source_id ? open_source(info) : open_root(info.source);
  WS_LET(d, diff_info(info, src ? src->get() : -1));
  // While an apply is unfinished, each change says whether SOURCE already holds it.
  auto journal = read_journal(info.dir, name);
  if (journal && *journal && src) {
    for (Change& c : d.changes) c.in_source = landed(src->get(), c);
  }
  return d;
}

Result<ApplyResult> apply(const std::string& home, const std::string& name,
                          const ApplyOptions& opt) {
  if (sodium_init() < 0) return make_error(ErrorCode::kInternal, "libsodium init failed");
  WASMCAP_TRY(validate_name(name));
  WASMCAP_TRY(open_workspaces(home, "ws.apply.sweep", false));
  const std::string dir = workspaces_dir(home) + "/" + name;
  // Tools out of the tree for the whole apply: what is checked, digested and copied cannot
  // change underneath. Not waited for: a running tool is reported. The snapshot is read under
  // the lock, so it is the one the last apply left.
  WS_LET(lock, lock_workspace(dir, name, LockFor::kApply));
  WS_LET(info, open(home, name));
  WS_LET(dirfd, open_root(info.dir));
  WS_LET(journal, read_journal(info.dir, name));
  ApplyResult res;
  res.resumed = journal.has_value();
  auto src_r = open_source(info);
  if (!src_r) {
    if (src_r.error().code != ErrorCode::kWorkspaceConflict) return tl::unexpected(src_r.error());
    res.conflicts.push_back({".", src_r.error().message});
    return res;
  }
  Fd src = std::move(*src_r);
  // wasmcap's own state directories (state_dirs.h), as this environment names them and as
  // create left them out: SOURCE is none of them and inside none, and no change reaches into
  // one (checked for each change below, and again as each directory is opened to write).
  StateDirs state = StateDirs::current(home);
  struct stat src_st;
  if (::fstat(src.get(), &src_st) != 0) return tl::unexpected(io_error("stat " + info.source));
  for (const std::string& rel : info.left_out) {
    // Only those this environment does not name (their message names the real path).
    if (state.refuse_path(src.get(), rel).empty()) state.add_relative(src_st, rel);
  }
  if (auto why = state.contains(src.get()); !why.empty()) {
    res.conflicts.push_back({".", why + "; nothing was written"});
    return res;
  }
  // An interrupted apply's temp files go first: nothing else would remove them.
  if (journal) {
    if (auto r = remove_apply_tmps(src.get(), *journal, "ws.apply.cleanup"); !r) {
      return make_error(r.error().code,
                        r.error().message + ": removing the temp files of the interrupted apply "
                        "failed; nothing more was written into SOURCE: run `wasmcap ws apply " +
                            name + "` again");
    }
  }
  WS_LET(d, diff_info(info, src.get()));
  if (d.digest.empty()) {
    return make_error(ErrorCode::kWorkspaceConflict,
                      "the tree changed while it was being read; nothing was written: run "
                      "`wasmcap ws diff " + name + "` again");
  }
  res.digest = d.digest;
  std::string expect = opt.expect;
  for (char& ch : expect) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  // Finishing an interrupted apply: the tree is frozen (tools are refused while the journal
  // exists), so the change set is the journaled one. If it is not (the tree was written by
  // path, bypassing the lock), this is a new change set, applied only when reviewed anew.
  // An empty change set whose journaled changes are all in SOURCE is an apply stopped after
  // its snapshot was rewritten: only the journal is left to remove.
  const bool resuming = journal && journal->digest == d.digest;
  if (journal && !resuming) {
    bool finished = d.changes.empty();
    for (const Change& c : journal->ops) finished = finished && landed(src.get(), c);
    // Stopped after its snapshot was rewritten: `--expect` with the journaled digest (the
    // command line the operator reran) is the change set that was reviewed and is now in.
    if (finished && expect == journal->digest) expect.clear();
    if (!finished && expect != d.digest) {
      return make_error(ErrorCode::kWorkspaceConflict,
                        "an apply of workspace '" + name + "' was interrupted (change set " +
                            display_path(journal->digest) + ") and the tree no longer matches it (its change "
                            "set is now " + d.digest + "); nothing was written: run `wasmcap ws "
                            "diff " + name + "` (it marks what SOURCE already holds), review it, "
                            "and apply with `--expect` and the digest it prints");
    }
  }
  if (!expect.empty() && expect != d.digest) {
    return make_error(ErrorCode::kWorkspaceConflict,
                      "the change set is not the one reviewed (its digest is now " + d.digest +
                          ", --expect gave " + display_path(opt.expect) +
                          "); nothing was written: run `wasmcap ws diff " + name +
                          "` again, review it, and apply with the digest it prints");
  }
  WS_LET(tree, open_root(info.tree));
  std::map<std::string, const Entry*> snap;
  for (const Entry& e : info.entries) snap[e.path] = &e;
  std::map<std::string, const Change*> by_path;
  for (const Change& c : d.changes) by_path[c.path] = &c;
  // The inode each checked file of SOURCE had when its hash was verified: a mode change acts
  // on that inode and no other.
  std::map<std::string, std::pair<dev_t, ino_t>> verified;
  auto conflict = [&](const std::string& p, std::string why) {
    res.conflicts.push_back({p, std::move(why)});
  };
  std::vector<bool> done(d.changes.size(), false);  // SOURCE holds the change's result

  // Phase 1: check every change against SOURCE as it is now. Nothing is written here.
  for (size_t i = 0; i < d.changes.size(); ++i) {
    const Change& c = d.changes[i];
    if (auto why = state.refuse_path(src.get(), c.path); !why.empty()) {
      conflict(c.path, "it is " + why + ": remove it from the workspace's tree (or discard "
                       "the workspace) and apply again");
      continue;
    }
    bool creates = c.kind == Change::Kind::kAdded || c.kind == Change::Kind::kTypeChanged ||
                   (c.kind == Change::Kind::kModified);
    if (creates && (c.type == Entry::Type::kSymlink || c.type == Entry::Type::kOther)) {
      conflict(c.path, std::string("the workspace has a ") + type_name(c.type) +
                           " here; apply never creates symlinks or special files in SOURCE "
                           "(make it by hand if intended)");
      continue;
    }
    // Already the result (an interrupted apply wrote it, or someone made the same change by
    // hand): applied, not a conflict. So a rerun finishes an apply instead of refusing it.
    if (landed(src.get(), c)) {
      done[i] = true;
      ++res.already;
      continue;
    }
    // Every existing ancestor must be a real directory; missing ones must be additions (or,
    // while finishing an interrupted apply, a path it was turning into a directory).
    auto parts = split_path(c.path);
    std::string anc;
    bool bad = false;
    for (size_t i = 0; i + 1 < parts.size() && !bad; ++i) {
      anc = join(anc, parts[i]);
      Probe pr = probe(src.get(), anc);
      if (!pr.parent_ok) break;  // reported at the deepest ancestor that exists
      if (!pr.exists) {
        auto ch = by_path.find(anc);
        bool retyping = resuming && ch != by_path.end() &&
                        ch->second->kind == Change::Kind::kTypeChanged;
        if (snap.count(anc) != 0 && !retyping) {
          conflict(c.path, "parent '" + anc + "' was removed from SOURCE since creation");
          bad = true;
        }
        break;  // deeper ancestors cannot exist either
      }
      if (!S_ISDIR(pr.st.st_mode)) {
        auto ch = by_path.find(anc);
        bool replaced = ch != by_path.end() && ch->second->kind == Change::Kind::kTypeChanged;
        if (!replaced || snap.count(anc) == 0 || snap[anc]->ino != pr.st.st_ino) {
          conflict(c.path, "parent '" + anc + "' in SOURCE is not a directory (a symlink?)");
          bad = true;
        }
        break;
      }
    }
    if (bad) continue;
    Probe pr = probe(src.get(), c.path);
    if (c.kind == Change::Kind::kAdded) {
      if (pr.exists) conflict(c.path, "created in SOURCE since the workspace was created");
      continue;
    }
    const Entry* old = snap[c.path];
    if (!pr.exists) {
      // Finishing an interrupted apply: it removed the old entry and was stopped before
      // putting the new one in its place.
      if (resuming && c.kind == Change::Kind::kTypeChanged) continue;
      conflict(c.path, "removed from SOURCE since the workspace was created");
      continue;
    }
    Entry cur = entry_from_stat(c.path, pr.st);
    if (cur.type != old->type) {
      conflict(c.path, "its type changed in SOURCE since the workspace was created");
      continue;
    }
    if (cur.type == Entry::Type::kFile) {
      struct stat hst;
      auto h = hash_at(src.get(), c.path, nullptr, &hst);
      if (!h || *h != old->hash || cur.mode != old->mode) {
        conflict(c.path, "changed in SOURCE since the workspace was created");
        continue;
      }
      verified[c.path] = {hst.st_dev, hst.st_ino};
    } else if (cur.type == Entry::Type::kSymlink) {
      std::string leaf;
      auto parent = open_parent(src.get(), c.path, false, &leaf);
      auto t = parent ? read_link(parent->get(), leaf) : Result<std::string>(std::string());
      if (!t || *t != old->target) {
        conflict(c.path, "symlink changed in SOURCE since the workspace was created");
        continue;
      }
    } else if (cur.type == Entry::Type::kDir &&
               (c.kind == Change::Kind::kRemoved || c.kind == Change::Kind::kTypeChanged)) {
      std::string leaf;
      auto parent = open_parent(src.get(), c.path, false, &leaf);
      Fd dfd(parent ? ::openat(parent->get(), leaf.c_str(),
                               O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
                    : -1);
      auto names = dfd.valid() ? list_dir(dfd.get()) : Result<std::vector<std::string>>(
                                                        make_error(ErrorCode::kIo, "open"));
      if (!names) {
        conflict(c.path, "cannot list it in SOURCE");
        continue;
      }
      for (const auto& n : *names) {
        if (snap.count(join(c.path, n)) == 0) {
          conflict(c.path, "SOURCE has a new entry '" + n + "' inside this removed directory");
          break;
        }
      }
    }
  }
  if (!res.conflicts.empty()) return res;

  // The journal: the change set and the temp files this apply may leave in SOURCE, on disk
  // before the first write into SOURCE. Temp names are fixed here (a random token per apply,
  // one name per change) so a kill between a temp file and its rename leaves a file the next
  // apply knows to remove. The previous journal's names are kept too: their removal above was
  // not synced, and a power loss must not bring back a temp file nobody names.
  const bool writes = std::find(done.begin(), done.end(), false) != done.end();
  std::map<std::string, std::string> tmp_of;  // change path -> temp file leaf
  if (writes) {
    Journal j;
    j.digest = d.digest;
    j.started_unix = static_cast<int64_t>(std::time(nullptr));
    j.ops = d.changes;
    const std::string token = random_hex(6);
    for (size_t i = 0; i < d.changes.size(); ++i) {
      const Change& c = d.changes[i];
      if (done[i] || c.kind == Change::Kind::kRemoved || c.type != Entry::Type::kFile) continue;
      std::string leaf = kApplyTmpPrefix + token + "-" + std::to_string(i);
      tmp_of[c.path] = leaf;
      j.tmps.push_back(join(parent_rel(c.path), leaf));
    }
    if (journal) j.tmps.insert(j.tmps.end(), journal->tmps.begin(), journal->tmps.end());
    if (auto w = replace_durably(dirfd.get(), kJournalFile, journal_json(j), "ws.apply.journal");
        !w) {
      return make_error(w.error().code,
                        w.error().message + ": the apply's journal could not be written, so "
                        "nothing was written into SOURCE" +
                            (journal ? " (beyond what the interrupted apply wrote)" : "") +
                            "; fix the cause (for a full disk, free space in " + home +
                            ") and run `wasmcap ws apply " + name + "` again");
    }
  }

  // Phase 2: write. Removals of non-directories, then directories deepest first, then
  // creations and updates in path order (a parent sorts before its children). Every operation
  // is an *at() call on a directory descriptor reached from the verified SOURCE descriptor
  // with O_NOFOLLOW on each component (open_parent), on a final name it never follows:
  // unlinkat, mkdirat, renameat, and fchmod on a descriptor opened O_NOFOLLOW. Each step has a
  // failpoint (ws.apply.*) for the fault-injection tests.
  std::set<std::string> touched;  // directories whose entries changed: fsynced at the end
  auto before_write = [&](const std::string& p) {
    if (g_apply_hook != nullptr) g_apply_hook(p, g_apply_hook_arg);
  };
  auto unlink_at = [&](const std::string& p, bool dir) -> Result<void> {
    before_write(p);
    std::string leaf;
    WS_LET(parent, open_parent(src.get(), p, false, &leaf, &state));
    WS_FAILPOINT(dir ? "ws.apply.rmdir" : "ws.apply.unlink", "remove " + display_path(p));
    if (::unlinkat(parent.get(), leaf.c_str(), dir ? AT_REMOVEDIR : 0) == 0) {
      ++res.removed;
    } else if (errno != ENOENT) {
      return tl::unexpected(io_error("remove " + display_path(p)));
    }
    touched.insert(parent_rel(p));
    return {};
  };
  // A file: temp file in the same directory, filled from the tree and checked against the
  // reviewed content hash, then renamed over the target (atomic per file; a link at the
  // target is replaced, never followed, and an inode shared with another path is not touched).
  auto write_file = [&](const Change& c, int parent, const std::string& leaf) -> Result<void> {
    std::string tleaf;
    WS_LET(tparent, open_parent(tree.get(), c.path, false, &tleaf));
    Fd in(::openat(tparent.get(), tleaf.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK));
    if (!in.valid()) return tl::unexpected(io_error("open workspace copy of " + display_path(c.path)));
    struct stat ist;
    if (::fstat(in.get(), &ist) != 0 || !S_ISREG(ist.st_mode)) {
      return make_error(ErrorCode::kIo, "workspace copy of '" + display_path(c.path) + "' is not a file");
    }
    auto t = tmp_of.find(c.path);
    if (t == tmp_of.end()) return make_error(ErrorCode::kInternal, "no journaled temp name");
    const std::string& tmp = t->second;
    WS_FAILPOINT("ws.apply.tmp_create", "create temp file for " + display_path(c.path));
    Fd out(::openat(parent, tmp.c_str(), O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
    if (!out.valid()) return tl::unexpected(io_error("create temp file for " + display_path(c.path)));
    std::string why;
    Result<std::string> h = make_error(ErrorCode::kIo, "");
    if (int e = failpoint::hit("ws.apply.tmp_write")) {
      h = make_error(ErrorCode::kIo, std::strerror(e));
    } else if (::ioctl(out.get(), FICLONE, in.get()) == 0) {
      h = hash_fd(out.get(), -1, nullptr, 0);  // what was cloned is what gets renamed
    } else {
      h = hash_fd(in.get(), out.get(), nullptr, 0);  // hashes exactly the bytes it writes
    }
    int e = 0;
    if (!h) {
      why = h.error().message;
    } else if (*h != c.new_hash) {
      why = "its content is not the reviewed one (changed in the tree during apply)";
    } else if (::fchmod(out.get(), c.new_mode & 0777) != 0 ||
               (e = failpoint::hit("ws.apply.tmp_fsync")) != 0 || ::fsync(out.get()) != 0) {
      why = std::strerror(e != 0 ? e : errno);
    } else if ((e = failpoint::hit("ws.apply.rename")) != 0 ||
               ::renameat(parent, tmp.c_str(), parent, leaf.c_str()) != 0) {
      why = std::strerror(e != 0 ? e : errno);
    }
    if (!why.empty()) {
      ::unlinkat(parent, tmp.c_str(), 0);
      return make_error(ErrorCode::kIo, "write " + display_path(c.path) + ": " + why);
    }
    touched.insert(parent_rel(c.path));
    return {};
  };
  // Creations and updates of change c (not removals).
  auto put = [&](const Change& c) -> Result<void> {
    before_write(c.path);
    std::string leaf;
    WS_LET(parent, open_parent(src.get(), c.path, true, &leaf, &state));
    if (c.kind == Change::Kind::kModeChanged) {
      // fchmod on the very inode phase 1 verified, opened without following a link at the
      // leaf (fchmodat(parent, leaf, mode, 0) follows one: a link renamed over the file
      // during apply redirected the chmod to any file the operator owns). The entry is first
      // looked at through an O_PATH descriptor, which opens nothing (no device or FIFO
      // side effects), then reopened for fchmod and checked to be the same inode again.
      auto v = verified.find(c.path);
      auto same = [&](int fd, struct stat* st) {
        return fd >= 0 && ::fstat(fd, st) == 0 && S_ISREG(st->st_mode) && v != verified.end() &&
               st->st_dev == v->second.first && st->st_ino == v->second.second;
      };
      auto replaced = [&] {
        return make_error(ErrorCode::kWorkspaceConflict,
                          "chmod " + display_path(c.path) + ": it was replaced in SOURCE during "
                          "apply (it is no longer the file that was checked); the changes before "
                          "it in path order were written, nothing after it");
      };
      struct stat fst;
      Fd path_fd(::openat(parent.get(), leaf.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC));
      if (!same(path_fd.get(), &fst)) return replaced();
      if (fst.st_nlink > 1) {
        // Hard-linked: a chmod would change every other link too (possibly outside SOURCE).
        // Replace this entry with a copy carrying the new mode instead, as a content change is.
        WASMCAP_TRY(write_file(c, parent.get(), leaf));
        touched.insert(parent_rel(c.path));
      } else {
        Fd f(::openat(parent.get(), leaf.c_str(),
                      O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC));
        if (f.valid()) {
          if (!same(f.get(), &fst)) return replaced();
          WS_FAILPOINT("ws.apply.chmod", "chmod " + display_path(c.path));
          if (::fchmod(f.get(), c.new_mode & 0777) != 0 || ::fsync(f.get()) != 0) {
            return tl::unexpected(io_error("chmod " + display_path(c.path)));
          }
        } else {
          // Not readable by us (e.g. mode 0200): chmod the O_PATH descriptor's inode through
          // its /proc link, which names that inode, not a path that could be swapped.
          std::string proc = "/proc/self/fd/" + std::to_string(path_fd.get());
          if (errno != EACCES) return tl::unexpected(io_error("chmod " + display_path(c.path)));
          WS_FAILPOINT("ws.apply.chmod", "chmod " + display_path(c.path));
          if (false || ::chmod(proc.c_str(), c.new_mode & 0777) != 0) {
            return tl::unexpected(io_error("chmod " + display_path(c.path)));
          }
        }
      }
      ++res.modes_changed;
      return {};
    }
    if (c.type == Entry::Type::kDir) {
      WS_FAILPOINT("ws.apply.mkdir", "mkdir " + display_path(c.path));
      if (::mkdirat(parent.get(), leaf.c_str(), c.new_mode & 0777) != 0 && errno != EEXIST) {
        return tl::unexpected(io_error("mkdir " + display_path(c.path)));
      }
      touched.insert(parent_rel(c.path));
      ++res.dirs_created;
      return {};
    }
    WASMCAP_TRY(write_file(c, parent.get(), leaf));
    ++res.written;
    return {};
  };
  auto write_all = [&]() -> Result<void> {
    for (size_t i = 0; i < d.changes.size(); ++i) {
      const Change& c = d.changes[i];
      bool rm = c.kind == Change::Kind::kRemoved || c.kind == Change::Kind::kTypeChanged;
      if (done[i] || !rm || c.old_type == Entry::Type::kDir) continue;
      WASMCAP_TRY(unlink_at(c.path, false));
      if (c.kind == Change::Kind::kRemoved) done[i] = true;
    }
    for (size_t k = d.changes.size(); k-- > 0;) {
      const Change& c = d.changes[k];
      bool rm = c.kind == Change::Kind::kRemoved || c.kind == Change::Kind::kTypeChanged;
      if (done[k] || !rm || c.old_type != Entry::Type::kDir) continue;
      WASMCAP_TRY(unlink_at(c.path, true));
      if (c.kind == Change::Kind::kRemoved) done[k] = true;
    }
    for (size_t i = 0; i < d.changes.size(); ++i) {
      if (done[i] || d.changes[i].kind == Change::Kind::kRemoved) continue;
      WASMCAP_TRY(put(d.changes[i]));
      done[i] = true;
    }
    // Durability as git and SQLite mean it: each renamed file was fsynced before its rename,
    // and each directory whose entries changed is fsynced now, before the snapshot and the
    // journal say the apply is complete.
    for (const std::string& rel : touched) {
      Fd dfd;
      if (rel.empty()) {
        dfd = Fd(::dup(src.get()));
      } else {
        std::string leaf;
        auto par = open_parent(src.get(), rel, false, &leaf);
        if (!par) continue;  // removed later in this apply: its parent is synced instead
        dfd = Fd(::openat(par->get(), leaf.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
      }
      if (!dfd.valid()) continue;
      WASMCAP_TRY(sync_fd(dfd.get(), "ws.apply.fsync_dir",
                          "directory '" + display_path(rel.empty() ? "." : rel) + "' of SOURCE"));
    }
    return {};
  };
  if (auto w = write_all(); !w) {
    // Say exactly what landed: each change SOURCE holds now, and the rest.
    std::vector<std::string> in, out;
    for (size_t i = 0; i < d.changes.size(); ++i) {
      (done[i] ? in : out).push_back(d.changes[i].path);
    }
    return make_error(
        w.error().code,
        w.error().message + "\n  apply stopped: " + std::to_string(in.size()) + " of " +
            std::to_string(d.changes.size()) + " change(s) are in SOURCE now:" + path_list(in) +
            "\n  not applied yet:" + path_list(out) +
            "\n  Each file in SOURCE is whole (old or new). Fix the cause (for a full disk, free "
            "space) and run `wasmcap ws apply " + name + "` again: it finishes the rest. Tools "
            "are kept out of the workspace until then.");
  }
  // The applied paths are now the new baseline: refresh their snapshot entries from SOURCE so
  // the workspace stays usable (a second apply has nothing to do; later edits diff against it).
  std::map<std::string, Entry> next;
  for (const Entry& e : info.entries) next[e.path] = e;
  for (const Change& c : d.changes) {
    next.erase(c.path);
    if (c.kind == Change::Kind::kRemoved) continue;
    Probe pr = probe(src.get(), c.path);
    if (!pr.exists) continue;
    Entry e = entry_from_stat(c.path, pr.st);
    if (e.type == Entry::Type::kFile) {
      auto h = hash_at(src.get(), c.path, nullptr);
      if (h) e.hash = *h;
    }
    next[c.path] = std::move(e);
  }
  info.entries.clear();
  for (auto& [p, e] : next) info.entries.push_back(std::move(e));
  if (auto w = replace_durably(dirfd.get(), "snapshot.json", snapshot_json(info), "ws.apply.snapshot");
      !w) {
    return make_error(w.error().code,
                      w.error().message + ": every change is in SOURCE, but the workspace's "
                      "snapshot was not updated; run `wasmcap ws apply " + name + "` again to "
                      "finish (it writes nothing more into SOURCE)");
  }
  // Last, the journal goes: the apply is complete.
  if (journal || writes) {
    auto removed = [&]() -> Result<void> {
      WS_FAILPOINT("ws.apply.journal_remove", "remove the journal");
      if (::unlinkat(dirfd.get(), kJournalFile, 0) != 0 && errno != ENOENT) {
        return tl::unexpected(io_error("remove the journal"));
      }
      return {};
    };
    if (auto f = removed(); !f) {
      return make_error(f.error().code,
                        f.error().message + ": every change is in SOURCE and the snapshot is "
                        "updated; run `wasmcap ws apply " + name + "` again to finish");
    }
    if (auto f = sync_fd(dirfd.get(), "ws.apply.journal_remove.fsync_dir",
                         "the workspace directory");
        !f) {
      return make_error(f.error().code,
                        f.error().message + ": the apply is complete (every change is in SOURCE "
                        "and the snapshot is updated); only the removal of its journal may not "
                        "survive a power loss, and if the journal comes back, the next `wasmcap "
                        "ws apply " + name + "` removes it. Nothing is left to do");
    }
  }
  return res;
}

Result<void> discard(const std::string& home, const std::string& name, bool force) {
  if (sodium_init() < 0) return make_error(ErrorCode::kInternal, "libsodium init failed");
  WASMCAP_TRY(validate_name(name));
  const std::string wsdir = workspaces_dir(home), dir = wsdir + "/" + name;
  WS_LET(wsfd, open_workspaces(home, "ws.discard.sweep", false));
  if (!wsfd.valid()) return make_error(ErrorCode::kNotFound, no_such_workspace(name));
  // Tools and apply out: a tree is never deleted under a running tool.
  WS_LET(lock, lock_workspace(dir, name, LockFor::kDiscard));
  auto journal = read_journal(dir, name);
  if (!force) {
    WASMCAP_TRY(journal);
    if (*journal) {
      auto ia = interrupted_apply(home, name);
      std::string held = ia && *ia && (*ia)->problem.empty()
                             ? std::to_string((*ia)->landed.size()) + " of " +
                                   std::to_string((*ia)->landed.size() + (*ia)->pending.size()) +
                                   " of its changes"
                             : "part of its changes";
      return make_error(ErrorCode::kWorkspaceConflict,
                        "an apply of workspace '" + name + "' was interrupted and SOURCE holds " +
                            held + "; nothing was deleted: run `wasmcap ws apply " + name +
                            "` to finish it, or `wasmcap ws discard --force " + name +
                            "` to drop the workspace and leave SOURCE as it is (partly applied)");
    }
  } else if (journal && *journal) {
    // Dropping an unfinished apply: its temp files in SOURCE are ours, and nothing would name
    // them once the journal is gone.
    auto info = open(home, name);
    auto src = info ? open_source(*info) : Result<Fd>(tl::unexpected(info.error()));
    if (src) WASMCAP_TRY(remove_apply_tmps(src->get(), **journal, "ws.discard.cleanup"));
  }
  // The name goes first, in one rename to a hidden name that is synced before anything is
  // deleted: killed at any point, the workspace is either listed whole or gone from the list.
  // Deleting the tree in place (as before) left a listed workspace whose half-deleted tree
  // diff showed as removals and apply then deleted from SOURCE. The directory's own lock tells
  // a sweep that this discard is still working on it.
  Fd dfd(::openat(wsfd.get(), name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!dfd.valid()) return tl::unexpected(io_error("open " + dir));
  if (::flock(dfd.get(), LOCK_EX | LOCK_NB) != 0) {
    return make_error(ErrorCode::kWorkspaceConflict,
                      "workspace '" + name + "' is just being created or discarded; retry");
  }
  const std::string hidden = kDiscardPrefix + name + "-" + random_hex(6);
  WS_FAILPOINT("ws.discard.rename", "rename " + dir);
  if (rename_noreplace(wsfd.get(), name, hidden) != 0) {
    return tl::unexpected(io_error("rename " + dir + " to " + hidden));
  }
  if (auto sy = sync_fd(wsfd.get(), "ws.discard.fsync_dir", wsdir); !sy) {
    return make_error(sy.error().code,
                      sy.error().message + ": workspace '" + name + "' is gone from the list; "
                      "its files are left for a later `wasmcap ws` command to delete");
  }
  auto rm = remove_contents(dfd.get(), "ws.discard.remove");
  if (!rm || ::unlinkat(wsfd.get(), hidden.c_str(), AT_REMOVEDIR) != 0) {
    std::string why = rm ? std::string(std::strerror(errno)) : rm.error().message;
    return make_error(ErrorCode::kIo, "workspace '" + name + "' is discarded (gone from the "
                                      "list), but deleting its files stopped (" + why +
                                      "); a later `wasmcap ws` command finishes it");
  }
  return {};
}

Result<std::optional<InterruptedApply>> interrupted_apply(const std::string& home,
                                                          const std::string& name) {
  if (sodium_init() < 0) return make_error(ErrorCode::kInternal, "libsodium init failed");
  WASMCAP_TRY(validate_name(name));
  const std::string dir = workspaces_dir(home) + "/" + name;
  WS_LET(journal, read_journal(dir, name));
  if (!journal) return std::optional<InterruptedApply>();
  InterruptedApply ia;
  ia.digest = journal->digest;
  ia.started_unix = journal->started_unix;
  auto info = open(home, name);
  auto src = info ? open_source(*info) : Result<Fd>(tl::unexpected(info.error()));
  if (!src) {
    ia.problem = src.error().message;
  } else {
    for (const Change& c : journal->ops) {
      (landed(src->get(), c) ? ia.landed : ia.pending).push_back(c.path);
    }
  }
  return std::optional<InterruptedApply>(std::move(ia));
}

std::string escape_for_terminal(const std::string& s) {
  return text::escape_for_terminal(s, text::ControlStyle::kCaret);
}

std::string render_diff_text(const DiffResult& d, bool raw) {
  std::string out;
  for (const Change& c : d.changes) {
    std::string line = std::string(kind_name(c.kind)) + " " + type_name(c.type) + " " + display_path(c.path);
    if (c.kind == Change::Kind::kModeChanged || (c.kind == Change::Kind::kModified &&
                                                 (c.old_mode & 0777) != (c.new_mode & 0777))) {
      char buf[64];
      std::snprintf(buf, sizeof buf, " (mode %03o -> %03o)", c.old_mode & 0777, c.new_mode & 0777);
      line += buf;
    }
    if (c.kind == Change::Kind::kTypeChanged) {
      line += std::string(" (was ") + type_name(c.old_type) + ")";
    }
    if (c.binary) line += " (binary)";
    if (c.in_source) line += " (already in SOURCE)";
    out += line + "\n";
  }
  // Content is the tools' bytes: escaped for the terminal unless the caller asked for them raw.
  // Headers and notes are built from display_path() already, which escaping leaves unchanged.
  for (const Change& c : d.changes) out += raw ? c.unified : escape_for_terminal(c.unified);
  out += d.digest.empty() ? std::string("digest: none (the tree changed while it was read; run "
                                        "`ws diff` again)\n")
                          : "digest: " + d.digest + "\n";
  return out;
}

std::string render_diff_json(const DiffResult& d) {
  nlohmann::json arr = nlohmann::json::array();
  for (const Change& c : d.changes) {
    nlohmann::json o = {{"kind", kind_name(c.kind)}, {"path", c.path}, {"type", type_name(c.type)},
                        {"binary", c.binary}};
    if (c.kind == Change::Kind::kTypeChanged) o["old_type"] = type_name(c.old_type);
    if (c.kind != Change::Kind::kAdded) o["old_mode"] = c.old_mode & 07777;
    if (c.kind != Change::Kind::kRemoved) o["new_mode"] = c.new_mode & 07777;
    if (!c.unified.empty()) o["diff"] = c.unified;
    if (c.in_source) o["in_source"] = true;
    arr.push_back(std::move(o));
  }
  return nlohmann::json({{"changes", arr}, {"digest", d.digest}})
             .dump(2, ' ', false, nlohmann::json::error_handler_t::replace) +
         "\n";
}

}  // namespace wasmcap::workspace

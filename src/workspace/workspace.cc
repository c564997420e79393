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
// followed, so neither copy nor apply can be redirected outside the tree they work on.
#include "wasmcap/workspace.h"

#include "common/json.h"
#include "wasmcap/policy.h"
#include "wasi/path.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <sodium.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

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
#include <nlohmann/json.hpp>
#include <sstream>

namespace wasmcap::workspace {

// Propagates the error of a Result expression.
#define WS_TRY(expr)                                                        \
  do {                                                                      \
    auto ws_try_r_ = (expr);                                                \
    if (!ws_try_r_) return tl::unexpected(std::move(ws_try_r_).error());   \
  } while (0)
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

// The one owning-descriptor type (src/wasi/path.h), shared with the WASI layer.
using Fd = wasi::UniqueFd;

Error io_error(const std::string& what) {
  return Error(ErrorCode::kIo, what + ": " + std::strerror(errno));
}

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
  dev_t stop_dev = 0;  // a directory never to enter (the workspaces folder itself)
  ino_t stop_ino = 0;
  bool have_stop = false;
  int copy_root = -1;  // >= 0: copy into this tree
  bool any_reflink = false, any_copy = false;
  uint64_t max_bytes = kDefaultMaxLogicalBytes;  // bound on the sum of apparent file sizes
  uint64_t total_bytes = 0;
};

std::string mib(uint64_t b) { return std::to_string(b >> 20) + " MiB"; }

// Walks dirfd (relative path `prefix`), appending entries, hashing files and (when copying)
// mirroring the tree into dst.
Result<void> walk(int dirfd, int dst, const std::string& prefix, int depth, WalkState& ws) {
  if (depth > kMaxDepth) {
    return make_error(ErrorCode::kInvalidArgument,
                      "'" + prefix + "': directory depth over " + std::to_string(kMaxDepth));
  }
  auto names = list_dir(dirfd);
  if (!names) return tl::unexpected(names.error());
  for (const std::string& n : *names) {
    std::string path = join(prefix, n);
    struct stat st;
    if (::fstatat(dirfd, n.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
      return tl::unexpected(io_error("stat " + path));
    }
    if (ws.out->size() >= kMaxEntries) {
      return make_error(ErrorCode::kInvalidArgument,
                        "tree has more than " + std::to_string(kMaxEntries) + " entries");
    }
    Entry e = entry_from_stat(path, st);
    switch (e.type) {
      case Entry::Type::kOther:
        if (ws.skipped != nullptr) ws.skipped->push_back(path);
        continue;  // fifos, sockets, devices: never opened, never copied
      case Entry::Type::kSymlink: {
        auto t = read_link(dirfd, n);
        if (!t) return tl::unexpected(t.error());
        e.target = *t;
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
        auto h = hash_fd(in.get(), (dst >= 0 && !cloned) ? out.get() : -1, nullptr, 0);
        if (!h) return tl::unexpected(h.error());
        e.hash = *h;
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

Result<void> write_snapshot(const Info& info, const std::string& file) {
  nlohmann::json j;
  j["version"] = 1;
  j["name"] = info.name;
  j["source"] = info.source;
  j["created_unix"] = info.created_unix;
  j["copy_method"] = info.copy_method;
  j["skipped"] = info.skipped;
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
  std::ofstream f(file, std::ios::binary | std::ios::trunc);
  // Paths in SOURCE need not be UTF-8: replace invalid bytes rather than throw.
  f << j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  if (!f) return make_error(ErrorCode::kIo, "cannot write " + file);
  return {};
}

// Opens the directory containing `rel` beneath root, never following a symlink. With `create`,
// missing directories are made. Sets *leaf to the last component.
Result<Fd> open_parent(int root, const std::string& rel, bool create, std::string* leaf) {
  auto parts = split_path(rel);
  *leaf = parts.back();
  Fd cur(::dup(root));
  if (!cur.valid()) return tl::unexpected(io_error("dup"));
  for (size_t i = 0; i + 1 < parts.size(); ++i) {
    const std::string& p = parts[i];
    if (p.empty() || p == "." || p == "..") {
      return make_error(ErrorCode::kInvalidArgument, "bad path component in '" + rel + "'");
    }
    int fd = ::openat(cur.get(), p.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT && create) {
      if (::mkdirat(cur.get(), p.c_str(), 0755) != 0 && errno != EEXIST) {
        return tl::unexpected(io_error("mkdir " + rel));
      }
      fd = ::openat(cur.get(), p.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    }
    if (fd < 0) return tl::unexpected(io_error("open directory of " + rel));
    cur = Fd(fd);
  }
  return cur;
}

// lstat of `rel` beneath root (no symlink followed on the way). ENOENT → nullopt-like false.
struct Probe {
  bool exists = false;
  bool parent_ok = true;  // false: an ancestor is missing or not a real directory
  std::string parent_problem;
  struct stat st {};
};

Probe probe(int root, const std::string& rel) {
  Probe pr;
  std::string leaf;
  auto parent = open_parent(root, rel, false, &leaf);
  if (!parent) {
    pr.parent_ok = false;
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
  auto parent = open_parent(root, rel, false, &leaf);
  if (!parent) return tl::unexpected(parent.error());
  Fd f(::openat(parent->get(), leaf.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK));
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
    std::string leaf;
    auto parent = open_parent(root.get(), rel, false, &leaf);
    int err = errno;
    if (parent) {
      dir = Fd(::openat(parent->get(), leaf.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
      err = errno;
    }
    if (!dir.valid()) {
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
  if (!fd.valid()) return tl::unexpected(io_error("open " + dir + "/lock"));
  return fd;
}

ApplyWriteHook g_apply_hook = nullptr;
void* g_apply_hook_arg = nullptr;

bool is_binary(const std::string& s) { return s.find('\0') != std::string::npos; }

// Removes a tree we own (a workspace), restoring the owner's write bit where a tool removed it.
void remove_tree(const std::string& p) {
  std::error_code ec;
  for (auto it = std::filesystem::recursive_directory_iterator(
           p, std::filesystem::directory_options::skip_permission_denied, ec);
       !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    if (it->is_directory(ec) && !it->is_symlink(ec)) {
      ::chmod(it->path().c_str(), 0700);
    }
  }
  std::filesystem::remove_all(p, ec);
}

}  // namespace

std::string display_path(const std::string& p) {
  std::string out;
  for (unsigned char c : p) {
    if (c < 0x20 || c == 0x7f || c == '\\') {
      char buf[8];
      std::snprintf(buf, sizeof buf, c == '\\' ? "\\\\" : "\\x%02x", c);
      out += buf;
    } else {
      out.push_back(static_cast<char>(c));
    }
  }
  return out;
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
  WS_TRY(validate_name(name));
  std::string dir = workspaces_dir(home) + "/" + name;
  struct stat st;
  if (::lstat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    return make_error(ErrorCode::kNotFound, "no workspace '" + name + "' (see `wasmcap ws list`)");
  }
  WS_LET(fd, open_lock(dir));
  // Non-blocking: an apply in progress is reported, not waited for behind a frozen prompt.
  if (::flock(fd.get(), LOCK_SH | LOCK_NB) != 0) {
    if (errno == EWOULDBLOCK) {
      return make_error(ErrorCode::kWorkspaceConflict,
                        "workspace '" + name + "' is being applied (`wasmcap ws apply`); retry "
                        "when that has finished");
    }
    return tl::unexpected(io_error("lock workspace " + name));
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
  WS_TRY(validate_name(base));
  std::string name = session_workspace_name(base, session_key);
  // Concurrent first calls of one session in this process: one creates, the others wait.
  static std::mutex mu;
  std::lock_guard<std::mutex> lock(mu);
  if (auto existing = open(home, name)) return existing;
  auto b = open(home, base);
  if (!b) return tl::unexpected(b.error());
  auto made = create(home, b->source, name, b->max_bytes);  // the base's size bound
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
  WS_TRY(validate_name(name));
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
  if (::mkdir(wsdir.c_str(), 0700) != 0 && errno != EEXIST) {
    return tl::unexpected(io_error("mkdir " + wsdir));
  }
  std::string final_dir = wsdir + "/" + name;
  if (std::filesystem::exists(std::filesystem::symlink_status(final_dir, ec))) {
    return make_error(ErrorCode::kWorkspaceConflict,
                      "workspace '" + name + "' exists; pick another --name or `wasmcap ws discard " +
                          name + "`");
  }
  std::string tmp_dir = wsdir + "/.tmp-" + name + "-" + std::to_string(::getpid());
  remove_tree(tmp_dir);
  if (::mkdir(tmp_dir.c_str(), 0700) != 0 || ::mkdir((tmp_dir + "/tree").c_str(), 0700) != 0) {
    return tl::unexpected(io_error("mkdir " + tmp_dir));
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
  struct stat wst;
  if (::stat(wsdir.c_str(), &wst) == 0) {
    ws.have_stop = true;
    ws.stop_dev = wst.st_dev;
    ws.stop_ino = wst.st_ino;
  }
  auto fail = [&](Error e) -> Result<Info> {
    remove_tree(tmp_dir);
    return tl::unexpected(std::move(e));
  };
  auto dst = open_root(tmp_dir + "/tree");
  if (!dst) return fail(dst.error());
  if (ws.have_stop && rst.st_dev == wst.st_dev &&
      rst.st_ino == wst.st_ino) {
    return fail(Error(ErrorCode::kInvalidArgument, "--from is the workspaces folder itself"));
  }
  auto r = walk(root->get(), dst->get(), "", 0, ws);
  if (!r) return fail(r.error());
  info.copy_method = ws.any_reflink ? (ws.any_copy ? "reflink+copy" : "reflink")
                                    : (ws.any_copy ? "copy" : "none");
  auto w = write_snapshot(info, tmp_dir + "/snapshot.json");
  if (!w) return fail(w.error());
  if (::rename(tmp_dir.c_str(), final_dir.c_str()) != 0) {
    return fail(io_error("rename " + tmp_dir));
  }
  info.dir = final_dir;
  info.tree = final_dir + "/tree";
  return info;
}

Result<Info> open(const std::string& home, const std::string& name) {
  WS_TRY(validate_name(name));
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
  if (!std::filesystem::is_directory(wsdir, ec)) return out;
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
  WS_TRY(walk(tree.get(), -1, "", 0, ws));
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
  WS_LET(info, open(home, name));
  // For the old texts; may be gone or replaced. Reading only: a snapshot without SOURCE's
  // identity (an older version's) still shows its diff, apply refuses it.
  auto src = info.has_source_id ? open_source(info) : open_root(info.source);
  return diff_info(info, src ? src->get() : -1);
}

Result<ApplyResult> apply(const std::string& home, const std::string& name,
                          const ApplyOptions& opt) {
  if (sodium_init() < 0) return make_error(ErrorCode::kInternal, "libsodium init failed");
  WS_LET(info, open(home, name));
  // Tools out of the tree for the whole apply: what is checked, digested and copied cannot
  // change underneath. Not waited for: a running tool is reported.
  WS_LET(lock, open_lock(info.dir));
  if (::flock(lock.get(), LOCK_EX | LOCK_NB) != 0) {
    if (errno != EWOULDBLOCK) return tl::unexpected(io_error("lock workspace " + name));
    return make_error(ErrorCode::kWorkspaceConflict,
                      "workspace '" + name + "' is in use by a running tool (wasmcap sh, run or "
                      "an MCP call working on it); nothing was written: retry when it has "
                      "finished");
  }
  ApplyResult res;
  auto src_r = open_source(info);
  if (!src_r) {
    if (src_r.error().code != ErrorCode::kWorkspaceConflict) return tl::unexpected(src_r.error());
    res.conflicts.push_back({".", src_r.error().message});
    return res;
  }
  Fd src = std::move(*src_r);
  WS_LET(d, diff_info(info, src.get()));
  if (d.digest.empty()) {
    return make_error(ErrorCode::kWorkspaceConflict,
                      "the tree changed while it was being read; nothing was written: run "
                      "`wasmcap ws diff " + name + "` again");
  }
  res.digest = d.digest;
  std::string expect = opt.expect;
  for (char& ch : expect) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
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

  // Phase 1: check every change against SOURCE as it is now. Nothing is written here.
  for (const Change& c : d.changes) {
    bool creates = c.kind == Change::Kind::kAdded || c.kind == Change::Kind::kTypeChanged ||
                   (c.kind == Change::Kind::kModified);
    if (creates && (c.type == Entry::Type::kSymlink || c.type == Entry::Type::kOther)) {
      conflict(c.path, std::string("the workspace has a ") + type_name(c.type) +
                           " here; apply never creates symlinks or special files in SOURCE "
                           "(make it by hand if intended)");
      continue;
    }
    // Every existing ancestor must be a real directory; missing ones must be additions.
    auto parts = split_path(c.path);
    std::string anc;
    bool bad = false;
    for (size_t i = 0; i + 1 < parts.size() && !bad; ++i) {
      anc = join(anc, parts[i]);
      Probe pr = probe(src.get(), anc);
      if (!pr.parent_ok) break;  // reported at the deepest ancestor that exists
      if (!pr.exists) {
        if (snap.count(anc) != 0) {
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

  // Phase 2: write. Removals of non-directories, then directories deepest first, then
  // creations and updates in path order (a parent sorts before its children). Every operation
  // is an *at() call on a directory descriptor reached from the verified SOURCE descriptor
  // with O_NOFOLLOW on each component (open_parent), on a final name it never follows:
  // unlinkat, mkdirat, renameat, and fchmod on a descriptor opened O_NOFOLLOW.
  auto before_write = [&](const std::string& p) {
    if (g_apply_hook != nullptr) g_apply_hook(p, g_apply_hook_arg);
  };
  auto unlink_at = [&](const std::string& p, bool dir) -> Result<void> {
    before_write(p);
    std::string leaf;
    WS_LET(parent, open_parent(src.get(), p, false, &leaf));
    if (::unlinkat(parent.get(), leaf.c_str(), dir ? AT_REMOVEDIR : 0) != 0 && errno != ENOENT) {
      return tl::unexpected(io_error("remove " + display_path(p)));
    }
    ++res.removed;
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
    unsigned char r[6];
    randombytes_buf(r, sizeof r);
    std::string tmp = ".wasmcap-apply-" + hex(r, sizeof r);
    Fd out(::openat(parent, tmp.c_str(), O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
    if (!out.valid()) return tl::unexpected(io_error("create temp file for " + display_path(c.path)));
    std::string why;
    Result<std::string> h = make_error(ErrorCode::kIo, "");
    if (::ioctl(out.get(), FICLONE, in.get()) == 0) {
      h = hash_fd(out.get(), -1, nullptr, 0);  // what was cloned is what gets renamed
    } else {
      h = hash_fd(in.get(), out.get(), nullptr, 0);  // hashes exactly the bytes it writes
    }
    if (!h) {
      why = h.error().message;
    } else if (*h != c.new_hash) {
      why = "its content is not the reviewed one (changed in the tree during apply)";
    } else if (::fchmod(out.get(), c.new_mode & 0777) != 0 || ::fsync(out.get()) != 0) {
      why = std::strerror(errno);
    } else if (::renameat(parent, tmp.c_str(), parent, leaf.c_str()) != 0) {
      why = std::strerror(errno);
    }
    if (!why.empty()) {
      ::unlinkat(parent, tmp.c_str(), 0);
      return make_error(ErrorCode::kIo, "write " + display_path(c.path) + ": " + why);
    }
    return {};
  };
  for (const Change& c : d.changes) {
    bool rm = c.kind == Change::Kind::kRemoved || c.kind == Change::Kind::kTypeChanged;
    if (rm && c.old_type != Entry::Type::kDir) WS_TRY(unlink_at(c.path, false));
  }
  for (auto it = d.changes.rbegin(); it != d.changes.rend(); ++it) {
    bool rm = it->kind == Change::Kind::kRemoved || it->kind == Change::Kind::kTypeChanged;
    if (rm && it->old_type == Entry::Type::kDir) WS_TRY(unlink_at(it->path, true));
  }
  for (const Change& c : d.changes) {
    if (c.kind == Change::Kind::kRemoved) continue;
    before_write(c.path);
    std::string leaf;
    WS_LET(parent, open_parent(src.get(), c.path, true, &leaf));
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
        WS_TRY(write_file(c, parent.get(), leaf));
      } else {
        Fd f(::openat(parent.get(), leaf.c_str(),
                      O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC));
        if (f.valid()) {
          if (!same(f.get(), &fst)) return replaced();
          if (::fchmod(f.get(), c.new_mode & 0777) != 0) {
            return tl::unexpected(io_error("chmod " + display_path(c.path)));
          }
        } else {
          // Not readable by us (e.g. mode 0200): chmod the O_PATH descriptor's inode through
          // its /proc link, which names that inode, not a path that could be swapped.
          std::string proc = "/proc/self/fd/" + std::to_string(path_fd.get());
          if (errno != EACCES || ::chmod(proc.c_str(), c.new_mode & 0777) != 0) {
            return tl::unexpected(io_error("chmod " + display_path(c.path)));
          }
        }
      }
      ++res.modes_changed;
      continue;
    }
    if (c.type == Entry::Type::kDir) {
      if (::mkdirat(parent.get(), leaf.c_str(), c.new_mode & 0777) != 0 && errno != EEXIST) {
        return tl::unexpected(io_error("mkdir " + display_path(c.path)));
      }
      ++res.dirs_created;
      continue;
    }
    WS_TRY(write_file(c, parent.get(), leaf));
    ++res.written;
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
  WS_TRY(write_snapshot(info, info.dir + "/snapshot.json.tmp"));
  if (::rename((info.dir + "/snapshot.json.tmp").c_str(), (info.dir + "/snapshot.json").c_str()) != 0) {
    return tl::unexpected(io_error("update snapshot of " + info.name));
  }
  return res;
}

Result<void> discard(const std::string& home, const std::string& name) {
  WS_TRY(validate_name(name));
  std::string dir = workspaces_dir(home) + "/" + name;
  std::error_code ec;
  auto st = std::filesystem::symlink_status(dir, ec);
  if (ec || !std::filesystem::is_directory(st)) {
    return make_error(ErrorCode::kNotFound, "no workspace '" + name + "' (see `wasmcap ws list`)");
  }
  remove_tree(dir);
  if (std::filesystem::exists(std::filesystem::symlink_status(dir, ec))) {
    return make_error(ErrorCode::kIo, "could not remove " + dir);
  }
  return {};
}

std::string escape_for_terminal(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  const size_t n = s.size();
  auto byte = [&](size_t i) { return static_cast<unsigned char>(s[i]); };
  auto cont = [&](size_t i) { return i < n && (byte(i) & 0xC0) == 0x80; };
  for (size_t i = 0; i < n;) {
    unsigned char c = byte(i);
    if (c < 0x80) {
      if (c == '\t' || c == '\n' || (c >= 0x20 && c < 0x7f)) {
        out.push_back(static_cast<char>(c));
      } else {  // C0 control or DEL, as cat -v shows them
        out.push_back('^');
        out.push_back(c == 0x7f ? '?' : static_cast<char>(c + 0x40));
      }
      ++i;
      continue;
    }
    // A UTF-8 sequence: decoded strictly (shortest form, no surrogates, <= U+10FFFF), so a
    // terminal cannot read a control out of an over-long or broken encoding.
    size_t len = 0;
    uint32_t cp = 0;
    if (c >= 0xC2 && c <= 0xDF) {
      len = 2;
      cp = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
      len = 3;
      cp = c & 0x0F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      len = 4;
      cp = c & 0x07;
    }
    bool ok = len != 0;
    for (size_t k = 1; ok && k < len; ++k) {
      ok = cont(i + k);
      if (ok) cp = (cp << 6) | (byte(i + k) & 0x3F);
    }
    if (ok) {
      ok = !(len == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) &&
           !(len == 4 && (cp < 0x10000 || cp > 0x10FFFF));
    }
    if (!ok) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
      ++i;
      continue;
    }
    bool bidi = cp == 0x061C || cp == 0x200E || cp == 0x200F || (cp >= 0x202A && cp <= 0x202E) ||
                (cp >= 0x2066 && cp <= 0x2069);
    if ((cp >= 0x80 && cp <= 0x9F) || bidi) {
      char buf[16];
      std::snprintf(buf, sizeof buf, "<U+%04X>", static_cast<unsigned>(cp));
      out += buf;
    } else {
      out.append(s, i, len);
    }
    i += len;
  }
  return out;
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
    arr.push_back(std::move(o));
  }
  return nlohmann::json({{"changes", arr}, {"digest", d.digest}})
             .dump(2, ' ', false, nlohmann::json::error_handler_t::replace) +
         "\n";
}

}  // namespace wasmcap::workspace

// Guest path resolution beneath a preopen: openat2(RESOLVE_BENEATH) and a portable fallback.
// See path.h for the contract and the threat model.
#include "wasi/path.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <vector>

#include "wasi/host.h"

namespace wasmcap::wasi {

void UniqueFd::reset(int fd) {
  if (fd_ >= 0) ::close(fd_);
  fd_ = fd;
}

namespace {

constexpr int kUnset = -1;
std::atomic<int> g_impl{kUnset};

Errno host_err(int err) { return WasiHost::errno_from_host(err); }

long sys_openat2(int dirfd, const char* path, uint64_t flags, uint64_t resolve) {
  open_how how{};
  how.flags = flags | O_CLOEXEC;
  how.resolve = resolve;
  return ::syscall(SYS_openat2, dirfd, path, &how, sizeof how);
}

// Reads a symlink's target. `dirfd`+`name`, or an O_PATH fd of the link itself with name "".
// Targets are at most PATH_MAX by the kernel; we bound the buffer anyway.
Errno read_link(int dirfd, const char* name, std::string* out) {
  char buf[4096];
  ssize_t n = ::readlinkat(dirfd, name, buf, sizeof buf);
  if (n < 0) return host_err(errno);
  if (static_cast<size_t>(n) >= sizeof buf) return kEnametoolong;
  out->assign(buf, static_cast<size_t>(n));
  return kSuccess;
}

// Threat: a symlink whose target is absolute would restart resolution at the host's "/".
// Refused outright (EPERM), like an absolute guest path. An empty target names nothing.
Errno check_link_target(const std::string& target) {
  if (target.empty()) return kEnoent;
  if (target[0] == '/') return kEperm;
  return kSuccess;
}

Errno dup_fd(int fd, UniqueFd* out) {
  int d = ::fcntl(fd, F_DUPFD_CLOEXEC, 0);
  if (d < 0) return host_err(errno);
  out->reset(d);
  return kSuccess;
}

// --- openat2 implementation -------------------------------------------------------------------

// Opens directory `dir` (relative, possibly with `..` and symlinks) beneath root.
// Threat: every escape route (`..` above root, absolute symlinks, symlinks climbing out,
// /proc magic links, a concurrent rename moving a component out mid-walk) is caught by the
// kernel: RESOLVE_BENEATH fails the lookup with EXDEV (mapped to EPERM), and EAGAIN when a
// concurrent rename may have raced with `..` resolution (retried a bounded number of times).
Errno openat2_dir(int root, const std::string& dir, UniqueFd* out) {
  for (int attempt = 0; attempt < 16; ++attempt) {
    long fd = sys_openat2(root, dir.c_str(), O_PATH | O_DIRECTORY,
                          RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS);
    if (fd >= 0) {
      out->reset(static_cast<int>(fd));
      return kSuccess;
    }
    if (errno == EAGAIN || errno == EINTR) continue;
    if (errno == EXDEV) return kEperm;
    return host_err(errno);
  }
  return kEagain;
}

// `path` is relative, non-empty, without trailing slashes.
Errno resolve_openat2(int root, std::string path, bool follow_final, ResolvedPath* out) {
  for (int hops = 0;;) {
    size_t slash = path.rfind('/');
    std::string last = slash == std::string::npos ? path : path.substr(slash + 1);
    if (last == "." || last == "..") {
      // The path names a directory itself: resolve all of it (checked beneath root).
      out->name.assign(1, '.');  // (not = ".": works around a GCC 12 -Wrestrict false positive)
      return openat2_dir(root, path, &out->dir);
    }
    std::string dir = slash == std::string::npos ? std::string(".") : path.substr(0, slash);
    if (Errno r = openat2_dir(root, dir, &out->dir)) return r;
    out->name = last;
    if (!follow_final) return kSuccess;
    struct stat st {};
    if (::fstatat(out->dir.get(), last.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
      if (errno == ENOENT) return kSuccess;  // final entry may be created by the caller
      return host_err(errno);
    }
    if (!S_ISLNK(st.st_mode)) return kSuccess;
    // Expand the final symlink ourselves and resolve again from the root, so the target is
    // subject to the same RESOLVE_BENEATH check (a relative target full of `..` included).
    if (++hops > kMaxSymlinkHops) return kEloop;
    std::string target;
    Errno r = read_link(out->dir.get(), last.c_str(), &target);
    if (r == kEinval) continue;  // replaced by a non-link meanwhile: look again
    if (r != kSuccess) return r;
    if (Errno c = check_link_target(target)) return c;
    if (target.back() == '/') out->trailing_slash = true;  // "dir/" target: must be a dir
    while (target.size() > 1 && target.back() == '/') target.pop_back();
    if (slash == std::string::npos) {
      path = std::move(target);
    } else {
      path.resize(slash + 1);  // keep "dir/" and append the target to it
      path.append(target);
    }
  }
}

// --- fallback implementation ------------------------------------------------------------------

void push_components_front(std::deque<std::string>* q, std::string_view path) {
  std::vector<std::string> parts;
  size_t i = 0;
  while (i < path.size()) {
    size_t j = path.find('/', i);
    if (j == std::string_view::npos) j = path.size();
    if (j > i) parts.emplace_back(path.substr(i, j - i));
    i = j + 1;
  }
  for (auto it = parts.rbegin(); it != parts.rend(); ++it) q->push_front(std::move(*it));
}

// `path` is relative, non-empty, without trailing slashes.
Errno resolve_fallback(int root, std::string_view path, bool follow_final, ResolvedPath* out) {
  std::deque<std::string> comps;
  push_components_front(&comps, path);
  // Our own chain of directories from root down to the current one. Threat: asking the kernel
  // for ".." could leave the tree (a directory moved out from under us, or bind mounts);
  // popping this stack can only ever return to a directory we already walked through, and
  // popping past the root is refused.
  std::vector<UniqueFd> stack;
  auto cur = [&] { return stack.empty() ? root : stack.back().get(); };
  auto finish = [&](std::string name) -> Errno {
    out->name = std::move(name);
    if (stack.empty()) return dup_fd(root, &out->dir);
    out->dir = std::move(stack.back());
    return kSuccess;
  };
  int hops = 0;
  while (!comps.empty()) {
    std::string c = std::move(comps.front());
    comps.pop_front();
    bool last = comps.empty();
    if (c == ".") {
      if (last) return finish(".");
      continue;
    }
    if (c == "..") {
      // Threat: `..` above the preopen (directly, or via a relative symlink full of `..`).
      if (stack.empty()) return kEperm;
      stack.pop_back();
      if (last) return finish(".");
      continue;
    }
    if (last && !follow_final) return finish(std::move(c));
    // Open the entry itself, never following it. Threat (TOCTOU): if the component was
    // swapped for a symlink after some earlier check, O_NOFOLLOW | O_PATH gives us the link
    // itself and fstat below sees it as a link; nothing is followed behind our back.
    int fd = ::openat(cur(), c.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
      int err = errno;
      if (last && err == ENOENT) return finish(std::move(c));  // may be created by the caller
      return host_err(err);
    }
    UniqueFd entry(fd);
    struct stat st {};
    if (::fstat(entry.get(), &st) != 0) return host_err(errno);
    if (S_ISLNK(st.st_mode)) {
      // Threat: symlink loops and chains (bounded), absolute targets (refused), relative
      // targets climbing out (their `..` go through the stack check above).
      if (++hops > kMaxSymlinkHops) return kEloop;
      std::string target;
      if (Errno r = read_link(entry.get(), "", &target)) return r;
      if (Errno r = check_link_target(target)) return r;
      if (last && target.back() == '/') out->trailing_slash = true;
      push_components_front(&comps, target);
      if (comps.empty()) comps.push_back(".");  // unreachable: target is non-empty, relative
      continue;
    }
    if (last) return finish(std::move(c));
    if (!S_ISDIR(st.st_mode)) return kEnotdir;
    stack.push_back(std::move(entry));
  }
  return finish(".");
}

}  // namespace

void set_resolver_impl(ResolverImpl impl) { g_impl.store(static_cast<int>(impl)); }

ResolverImpl resolver_impl() {
  int v = g_impl.load();
  if (v == kUnset) {
    ResolverImpl impl = ResolverImpl::kAuto;
    if (const char* env = std::getenv("WASMCAP_PATH_RESOLVER")) {
      if (std::strcmp(env, "fallback") == 0) impl = ResolverImpl::kFallback;
      if (std::strcmp(env, "openat2") == 0) impl = ResolverImpl::kOpenat2;
    }
    int expected = kUnset;
    g_impl.compare_exchange_strong(expected, static_cast<int>(impl));
    v = g_impl.load();
  }
  return static_cast<ResolverImpl>(v);
}

bool kernel_has_openat2() {
  // Only a successful call counts: besides ENOSYS (kernel < 5.6), seccomp filters of some
  // container runtimes answer unknown syscalls with EPERM, which would otherwise make every
  // resolution fail.
  static const bool has = [] {
    long fd = sys_openat2(AT_FDCWD, "/", O_PATH | O_DIRECTORY, RESOLVE_NO_MAGICLINKS);
    if (fd >= 0) {
      ::close(static_cast<int>(fd));
      return true;
    }
    return false;
  }();
  return has;
}

Errno resolve_path(int root, std::string_view path, bool follow_final, ResolvedPath* out) {
  out->dir.reset();
  out->name.clear();
  out->trailing_slash = false;
  if (path.empty()) return kEnoent;
  // Threat: an absolute path would name the host's root, not the preopen.
  if (path.front() == '/') return kEperm;
  while (path.size() > 1 && path.back() == '/') {
    path.remove_suffix(1);
    out->trailing_slash = true;
  }
  const bool slash = out->trailing_slash;
  ResolverImpl impl = resolver_impl();
  bool auto_impl = impl == ResolverImpl::kAuto;
  if (auto_impl) impl = kernel_has_openat2() ? ResolverImpl::kOpenat2 : ResolverImpl::kFallback;
  Errno r = impl == ResolverImpl::kOpenat2
                ? resolve_openat2(root, std::string(path), follow_final, out)
                : resolve_fallback(root, path, follow_final, out);
  if (r == kEnosys && auto_impl && impl == ResolverImpl::kOpenat2) {
    // openat2 vanished after the probe (e.g. a seccomp filter installed later): fall back.
    out->dir.reset();
    out->trailing_slash = slash;
    r = resolve_fallback(root, path, follow_final, out);
  }
  if (r != kSuccess) out->dir.reset();
  return r;
}

Errno open_file_or_dir(const ResolvedPath& rp, int flags, unsigned mode, bool keep_nonblock,
                       UniqueFd* out, struct stat* st) {
  flags |= O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC;
  {
    struct stat pre {};
    if (::fstatat(rp.dir.get(), rp.name.c_str(), &pre, AT_SYMLINK_NOFOLLOW) == 0 &&
        !S_ISREG(pre.st_mode) && !S_ISDIR(pre.st_mode) && !S_ISLNK(pre.st_mode)) {
      return kEnotsup;
    }
  }
  int hfd = ::openat(rp.dir.get(), rp.name.c_str(), flags, static_cast<mode_t>(mode));
  if (hfd < 0) return host_err(errno);
  UniqueFd host(hfd);
  struct stat opened {};
  if (::fstat(host.get(), &opened) != 0) return host_err(errno);
  if (!S_ISREG(opened.st_mode) && !S_ISDIR(opened.st_mode)) return kEnotsup;
  if (!keep_nonblock) {
    int fl = ::fcntl(host.get(), F_GETFL);
    if (fl >= 0) ::fcntl(host.get(), F_SETFL, fl & ~O_NONBLOCK);
  }
  if (st != nullptr) *st = opened;
  *out = std::move(host);
  return kSuccess;
}

bool symlink_target_descends(std::string_view target) {
  if (target.empty() || target.front() == '/') return false;
  size_t i = 0;
  while (i <= target.size()) {
    size_t j = target.find('/', i);
    if (j == std::string_view::npos) j = target.size();
    if (target.substr(i, j - i) == "..") return false;
    i = j + 1;
  }
  return true;
}

ScanResult scan_for_climbing_links(int dir, bool (*keep_going)(void*), void* arg, int* err) {
  *err = 0;
  struct Level {
    DIR* d;
  };
  std::vector<Level> stack;
  auto close_all = [&] {
    for (auto& l : stack) ::closedir(l.d);
    stack.clear();
  };
  auto push = [&](int parent, const char* name) -> bool {
    int fd = ::openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
      *err = errno;
      return false;
    }
    DIR* d = ::fdopendir(fd);
    if (d == nullptr) {
      *err = errno;
      ::close(fd);
      return false;
    }
    stack.push_back({d});
    return true;
  };
  if (!push(dir, ".")) return ScanResult::kError;
  uint32_t seen = 0;
  while (!stack.empty()) {
    DIR* d = stack.back().d;
    errno = 0;
    struct dirent* ent = ::readdir(d);
    if (ent == nullptr) {
      if (errno != 0) {
        *err = errno;
        close_all();
        return ScanResult::kError;
      }
      ::closedir(d);
      stack.pop_back();
      continue;
    }
    if (std::strcmp(ent->d_name, ".") == 0 || std::strcmp(ent->d_name, "..") == 0) continue;
    if (++seen > kMaxMoveScanEntries) {
      close_all();
      return ScanResult::kTooLarge;
    }
    if (seen % 256 == 0 && !keep_going(arg)) {
      close_all();
      return ScanResult::kStopped;
    }
    unsigned char type = ent->d_type;
    if (type == DT_UNKNOWN) {
      struct stat st {};
      if (::fstatat(::dirfd(d), ent->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
      type = S_ISLNK(st.st_mode) ? DT_LNK : S_ISDIR(st.st_mode) ? DT_DIR : DT_REG;
    }
    if (type == DT_LNK) {
      char buf[4096];
      ssize_t n = ::readlinkat(::dirfd(d), ent->d_name, buf, sizeof buf);
      if (n < 0) continue;  // vanished meanwhile
      if (!symlink_target_descends(std::string_view(buf, static_cast<size_t>(n)))) {
        close_all();
        return ScanResult::kFound;
      }
    } else if (type == DT_DIR) {
      if (stack.size() >= kMaxMoveScanDepth) {
        close_all();
        return ScanResult::kTooLarge;
      }
      if (!push(::dirfd(d), ent->d_name)) {
        close_all();
        return ScanResult::kError;
      }
    }
  }
  return ScanResult::kClean;
}

}  // namespace wasmcap::wasi

// resolve_beneath: openat2(RESOLVE_BENEATH) and a portable walk with the same rules. See
// beneath.h for the contract and the threat model; each rule below names the threat it stops.
#include "platform/beneath.h"

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
#include <string>
#include <utility>
#include <vector>

namespace wasmcap::platform {

std::vector<std::string_view> path_components(std::string_view path) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < path.size()) {
    size_t j = path.find('/', i);
    if (j == std::string_view::npos) j = path.size();
    if (j > i) out.push_back(path.substr(i, j - i));
    i = j + 1;
  }
  return out;
}

namespace {

constexpr int kUnset = -1;
std::atomic<int> g_resolver{kUnset};

// openat2 answers EAGAIN when a concurrent rename may have raced with its `..` handling (it
// cannot prove the result is beneath root); the lookup is retried this many times.
constexpr int kMaxOpenat2Retries = 16;

long sys_openat2(int dirfd, const char* path, uint64_t flags, uint64_t resolve) {
  open_how how{};
  how.flags = flags | O_CLOEXEC;
  how.resolve = resolve;
  return ::syscall(SYS_openat2, dirfd, path, &how, sizeof how);
}

// Reads a symlink's target: `dirfd`+`name`, or an O_PATH descriptor of the link with name "".
// The kernel keeps targets below PATH_MAX; the buffer is bounded anyway.
int read_link(int dirfd, const char* name, std::string* out) {
  char buf[PATH_MAX];
  ssize_t n = ::readlinkat(dirfd, name, buf, sizeof buf);
  if (n < 0) return errno;
  if (static_cast<size_t>(n) >= sizeof buf) return ENAMETOOLONG;
  out->assign(buf, static_cast<size_t>(n));
  return 0;
}

// Threat: a symlink whose target is absolute would restart resolution at the host's "/".
// Refused outright, like an absolute path, even when it names something beneath root (the
// same link would lead elsewhere from another root). An empty target names nothing.
int check_link_target(const std::string& target) {
  if (target.empty()) return ENOENT;
  if (target[0] == '/') return EXDEV;
  return 0;
}

// A final symlink's target as it replaces the final component: trailing slashes removed (and
// reported: "dir/" says the entry must be a directory).
void strip_target(std::string* target, Resolved* out) {
  if (target->size() > 1 && target->back() == '/') out->trailing_slash = true;
  while (target->size() > 1 && target->back() == '/') target->pop_back();
}

// An O_PATH descriptor of root itself (never a dup: the result is the same kind of descriptor
// whichever implementation made it), or root borrowed (BeneathOptions::borrow_root).
int open_self(int root, const BeneathOptions& o, ResolvedDir* out) {
  if (o.borrow_root) {
    out->borrow(root);
    return 0;
  }
  int fd = ::openat(root, ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return errno;
  out->own(UniqueFd(fd));
  return 0;
}

// --- openat2 ------------------------------------------------------------------------------------

uint64_t resolve_flags(Symlinks s) {
  // RESOLVE_BENEATH: `..` above root, absolute paths and symlinks leading out fail (EXDEV),
  // checked by the kernel atomically with the walk (a component swapped for a symlink, or a
  // directory renamed out mid-walk, cannot lead out). RESOLVE_NO_MAGICLINKS: /proc's magic
  // links (which name objects, not paths) are never followed, should root contain them.
  uint64_t r = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
  if (s == Symlinks::kRefuse) r |= RESOLVE_NO_SYMLINKS;
  return r;
}

// Opens directory `dir` (relative, possibly with `..` and symlinks) beneath root.
int openat2_dir(int root, const std::string& dir, uint64_t resolve, ResolvedDir* out) {
  for (int attempt = 0; attempt < kMaxOpenat2Retries; ++attempt) {
    long fd = sys_openat2(root, dir.c_str(), O_PATH | O_DIRECTORY, resolve);
    if (fd >= 0) {
      out->own(UniqueFd(static_cast<int>(fd)));
      return 0;
    }
    if (errno == EAGAIN || errno == EINTR) continue;
    return errno;
  }
  return EAGAIN;
}

// `path` is relative, non-empty, without trailing slashes, at most kMaxPathBytes.
int resolve_openat2(int root, std::string path, const BeneathOptions& o, Resolved* out) {
  const uint64_t how = resolve_flags(o.symlinks);
  for (int hops = 0;;) {
    size_t slash = path.rfind('/');
    std::string last = slash == std::string::npos ? path : path.substr(slash + 1);
    if (last == "." || last == "..") {
      // The path names a directory itself: the kernel resolves all of it.
      out->name.assign(1, '.');  // (not = ".": works around a GCC 12 -Wrestrict false positive)
      return openat2_dir(root, path, how, &out->dir);
    }
    if (slash == std::string::npos) {
      // The entry is directly in root: no resolution of a directory part.
      if (int e = open_self(root, o, &out->dir)) return e;
    } else if (int e = openat2_dir(root, path.substr(0, slash), how, &out->dir)) {
      return e;
    }
    out->name = last;
    if (!o.follow_final) return 0;
    struct stat st {};
    if (::fstatat(out->dir.get(), last.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
      if (errno == ENOENT) return 0;  // the final entry may be created by the caller
      return errno;
    }
    if (!S_ISLNK(st.st_mode)) {
      out->final_stat = st;
      return 0;
    }
    if (o.symlinks == Symlinks::kRefuse) return ELOOP;
    // Expand the final symlink ourselves and resolve again from root, so the target is subject
    // to the same RESOLVE_BENEATH check (a relative target full of `..` included).
    if (++hops > kMaxSymlinkHops) return ELOOP;
    std::string target;
    int r = read_link(out->dir.get(), last.c_str(), &target);
    if (r == EINVAL) continue;  // replaced by a non-link meanwhile: look again (hops bound it)
    if (r != 0) return r;
    if (int c = check_link_target(target)) return c;
    strip_target(&target, out);
    if (slash == std::string::npos) {
      path = std::move(target);
    } else {
      path.resize(slash + 1);  // keep "dir/" and append the target to it
      path.append(target);
    }
    if (path.size() > kMaxPathBytes) return ENAMETOOLONG;
  }
}

// --- the walk -----------------------------------------------------------------------------------

void push_components_front(std::deque<std::string>* q, std::string_view path) {
  std::vector<std::string_view> parts = path_components(path);
  for (auto it = parts.rbegin(); it != parts.rend(); ++it) q->emplace_front(*it);
}

// `path` is relative, non-empty, without trailing slashes, at most kMaxPathBytes.
int resolve_walk(int root, std::string_view path, const BeneathOptions& o, Resolved* out) {
  std::deque<std::string> comps;
  push_components_front(&comps, path);
  // Our own chain of directories from root down to the current one. Threat: asking the kernel
  // for ".." could leave the tree (a directory moved out from under us, or bind mounts);
  // popping this stack can only ever return to a directory we already walked through, and
  // popping past root is refused.
  std::vector<UniqueFd> stack;
  auto cur = [&] { return stack.empty() ? root : stack.back().get(); };
  auto finish = [&](std::string name) -> int {
    out->name = std::move(name);
    if (stack.empty()) return open_self(root, o, &out->dir);
    out->dir.own(std::move(stack.back()));
    return 0;
  };
  // Counted as openat2 counts them (kMaxSymlinkHops): links in non-final positions add up over
  // the whole resolution (the kernel walks the directory part again after each expansion of
  // the final component, meeting every one of them again), final expansions separately.
  int inner_hops = 0, final_hops = 0;
  // The length of the path as openat2 would hold it: the final component replaced by each
  // final symlink's target. Its bound is kMaxPathBytes, as there.
  size_t text_len = path.size();
  size_t next = 0;  // index of the component about to be looked up (on_dir)
  while (!comps.empty()) {
    std::string c = std::move(comps.front());
    comps.pop_front();
    const bool last = comps.empty();
    if (o.on_dir) {
      if (int e = o.on_dir(cur(), next)) return e;
    }
    ++next;
    if (c == ".") {
      if (last) return finish(".");
      continue;
    }
    if (c == "..") {
      // Threat: `..` above root (directly, or through a relative symlink full of `..`).
      if (stack.empty()) return EXDEV;
      stack.pop_back();
      if (last) return finish(".");
      continue;
    }
    if (last && !o.follow_final) return finish(std::move(c));
    // Open the entry itself, never following it. Threat (TOCTOU): a component swapped for a
    // symlink after some earlier check is opened as the link itself (O_NOFOLLOW | O_PATH, which
    // opens nothing for I/O: no FIFO or device side effects), and fstat below sees a link;
    // nothing is followed behind our back.
    int fd = ::openat(cur(), c.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT && !last && o.make_dirs) {
      // A missing directory on the way: made here, then opened like any other (if something
      // else appeared there meanwhile, it is looked at like any other entry).
      if (::mkdirat(cur(), c.c_str(), 0755) != 0 && errno != EEXIST) return errno;
      fd = ::openat(cur(), c.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC);
    }
    if (fd < 0) {
      int err = errno;
      if (last && err == ENOENT) return finish(std::move(c));  // may be created by the caller
      return err;
    }
    UniqueFd entry(fd);
    struct stat st {};
    if (::fstat(entry.get(), &st) != 0) return errno;
    if (S_ISLNK(st.st_mode)) {
      if (o.symlinks == Symlinks::kRefuse) return ELOOP;
      // Threat: symlink loops and chains (bounded), absolute targets (refused), relative
      // targets climbing out (their `..` go through the stack check above).
      if (++(last ? final_hops : inner_hops) > kMaxSymlinkHops) return ELOOP;
      std::string target;
      if (int r = read_link(entry.get(), "", &target)) return r;
      if (int r = check_link_target(target)) return r;
      if (last) {
        strip_target(&target, out);
        text_len = text_len - c.size() + target.size();
        if (text_len > kMaxPathBytes) return ENAMETOOLONG;
      }
      push_components_front(&comps, target);
      continue;
    }
    if (last) {
      out->final_stat = st;
      return finish(std::move(c));
    }
    if (!S_ISDIR(st.st_mode)) return ENOTDIR;
    stack.push_back(std::move(entry));
  }
  return finish(".");  // unreachable: the loop returns at its last component
}

}  // namespace

void set_resolver(Resolver r) { g_resolver.store(static_cast<int>(r)); }

Resolver resolver() {
  int v = g_resolver.load();
  if (v == kUnset) {
    Resolver r = Resolver::kAuto;
    if (const char* env = std::getenv("WASMCAP_PATH_RESOLVER")) {
      if (std::strcmp(env, "fallback") == 0) r = Resolver::kFallback;
      if (std::strcmp(env, "openat2") == 0) r = Resolver::kOpenat2;
    }
    int expected = kUnset;
    g_resolver.compare_exchange_strong(expected, static_cast<int>(r));
    v = g_resolver.load();
  }
  return static_cast<Resolver>(v);
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

int resolve_beneath(int root, std::string_view path, const BeneathOptions& o, Resolved* out) {
  out->dir.reset();
  out->name.clear();
  out->trailing_slash = false;
  out->final_stat.reset();
  if (path.empty()) return ENOENT;
  // Threat: a NUL would end the path the kernel sees, so the kernel would resolve a shorter
  // path than the one the caller checked and shows ("a\0/../../x" is "a").
  if (path.find('\0') != std::string_view::npos) return EINVAL;
  const bool walk_only = o.make_dirs || static_cast<bool>(o.on_dir);
  if (walk_only && o.symlinks != Symlinks::kRefuse) return EINVAL;
  if (path.size() > kMaxPathBytes) return ENAMETOOLONG;
  // Threat: an absolute path would name the host's root, not root.
  if (path.front() == '/') return EXDEV;
  while (path.size() > 1 && path.back() == '/') {
    path.remove_suffix(1);
    out->trailing_slash = true;
  }
  const bool slash = out->trailing_slash;
  Resolver r = walk_only ? Resolver::kFallback : resolver();
  const bool auto_pick = r == Resolver::kAuto;
  if (auto_pick) r = kernel_has_openat2() ? Resolver::kOpenat2 : Resolver::kFallback;
  int e = r == Resolver::kOpenat2 ? resolve_openat2(root, std::string(path), o, out)
                                  : resolve_walk(root, path, o, out);
  const bool walk_again =
      r == Resolver::kOpenat2 &&
      // openat2 vanished after the probe (e.g. a seccomp filter installed later).
      ((e == ENOSYS && auto_pick) ||
       // The kernel's link count is not exact: when a lookup falls back from RCU mode to a
       // ref-counted walk (at `..` above a RESOLVE_BENEATH root, or wherever the dentry cache
       // cannot answer) it counts the links met again, so its ELOOP can come after half of
       // kMaxSymlinkHops, depending on what the cache holds. The walk counts exactly: it
       // decides every ELOOP, so both implementations answer alike whatever the cache holds.
       // (Under Symlinks::kRefuse, ELOOP means a link was met: no count involved.)
       (e == ELOOP && o.symlinks == Symlinks::kFollowBeneath));
  if (walk_again) {
    out->dir.reset();
    out->name.clear();
    out->trailing_slash = slash;
    out->final_stat.reset();
    e = resolve_walk(root, path, o, out);
  }
  if (e != 0) {
    out->dir.reset();
    out->final_stat.reset();
  }
  return e;
}

UniqueFd ResolvedDir::take() {
  if (owned_.valid() || borrowed_ < 0) return std::move(owned_);
  UniqueFd fd(::openat(borrowed_, ".", O_PATH | O_DIRECTORY | O_CLOEXEC));
  borrowed_ = -1;
  return fd;
}

int open_beneath(int root, std::string_view path, const BeneathOptions& o, int flags, mode_t mode,
                 UniqueFd* out) {
  Resolved rp;
  if (int e = resolve_beneath(root, path, o, &rp)) return e;
  if (rp.trailing_slash) {
    // "name/" names a directory: creating a file by that name is EISDIR (as open(2) says),
    // and anything else must find a directory there.
    if ((flags & O_CREAT) != 0) return EISDIR;
    flags |= O_DIRECTORY;
  }
  int fd = ::openat(rp.dir.get(), rp.name.c_str(), flags | O_NOFOLLOW | O_CLOEXEC, mode);
  if (fd < 0) return errno;
  out->reset(fd);
  return 0;
}

int open_file_or_dir(const Resolved& rp, int flags, mode_t mode, bool keep_nonblock,
                     UniqueFd* out, struct stat* st) {
  flags |= O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC;
  {
    struct stat pre {};
    bool seen = rp.final_stat.has_value();
    if (seen) {
      pre = *rp.final_stat;
    } else {
      seen = ::fstatat(rp.dir.get(), rp.name.c_str(), &pre, AT_SYMLINK_NOFOLLOW) == 0;
    }
    if (seen && !S_ISREG(pre.st_mode) && !S_ISDIR(pre.st_mode) && !S_ISLNK(pre.st_mode)) {
      return ENOTSUP;
    }
  }
  int hfd = ::openat(rp.dir.get(), rp.name.c_str(), flags, mode);
  if (hfd < 0) return errno;
  UniqueFd host(hfd);
  struct stat opened {};
  if (::fstat(host.get(), &opened) != 0) return errno;
  if (!S_ISREG(opened.st_mode) && !S_ISDIR(opened.st_mode)) return ENOTSUP;
  // The status flags are the ones it was opened with (F_SETFL changes only O_APPEND, O_ASYNC,
  // O_DIRECT, O_NOATIME and O_NONBLOCK): no F_GETFL needed to clear one.
  if (!keep_nonblock && ::fcntl(host.get(), F_SETFL, flags & ~O_NONBLOCK) != 0) return errno;
  if (st != nullptr) *st = opened;
  *out = std::move(host);
  return 0;
}

int path_beneath(int root, int dir, std::string* out) {
  std::string r;
  std::string d;
  for (auto [fd, text] : {std::pair{root, &r}, std::pair{dir, &d}}) {
    std::string proc = "/proc/self/fd/" + std::to_string(fd);
    if (int e = read_link(AT_FDCWD, proc.c_str(), text)) return e;
    // Not a path: a removed directory (" (deleted)"), or one outside this mount namespace.
    if (text->empty() || (*text)[0] != '/' || text->ends_with(" (deleted)")) return EXDEV;
  }
  if (d == r) {
    out->clear();
    return 0;
  }
  if (r == "/") r.clear();
  if (d.size() <= r.size() + 1 || d.compare(0, r.size(), r) != 0 || d[r.size()] != '/') {
    return EXDEV;
  }
  out->assign(d, r.size() + 1);
  return 0;
}

}  // namespace wasmcap::platform

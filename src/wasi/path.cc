// The WASI host's adapter of the platform layer's resolver, and the WASI rules for symlinks a
// guest creates or moves. See path.h.
#include "wasi/path.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

namespace wasmcap::wasi {

Errc errc_from_platform(int err) {
  if (err == EXDEV) return Errc::kEscape;
  return errc_from_host(err);
}

Errc resolve_path(int root, std::string_view path, bool follow_final, ResolvedPath* out) {
  platform::BeneathOptions o;
  o.symlinks = platform::Symlinks::kFollowBeneath;
  o.follow_final = follow_final;
  // A name directly in the directory (a guest's openat(dirfd, name)) borrows it: the
  // description that holds `root` outlives the operation (PathAt::beneath points at it).
  o.borrow_root = true;
  return errc_from_platform(platform::resolve_beneath(root, path, o, out));
}

Errc open_file_or_dir(const ResolvedPath& rp, int flags, unsigned mode, bool keep_nonblock,
                       UniqueFd* out, struct stat* st) {
  return errc_from_platform(platform::open_file_or_dir(rp, flags, static_cast<mode_t>(mode),
                                                        keep_nonblock, out, st));
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

namespace {

// The components of `path` without empty and `.` ones; false if one is `..`.
bool plain_components(std::string_view path, std::vector<std::string_view>* out) {
  size_t i = 0;
  while (i < path.size()) {
    size_t j = path.find('/', i);
    if (j == std::string_view::npos) j = path.size();
    std::string_view c = path.substr(i, j - i);
    if (c == "..") return false;
    if (!c.empty() && c != ".") out->push_back(c);
    i = j + 1;
  }
  return true;
}

}  // namespace

std::optional<std::string> symlink_descending_form(std::string_view target,
                                                   std::string_view preopen,
                                                   std::string_view link_path) {
  if (target.empty() || target.front() != '/' || preopen.empty() || preopen.front() != '/') {
    return std::nullopt;
  }
  std::vector<std::string_view> dir;  // the link's directory, from the guest's root
  if (!plain_components(preopen, &dir)) return std::nullopt;
  std::vector<std::string_view> link;
  if (!plain_components(link_path, &link) || link.empty()) return std::nullopt;
  dir.insert(dir.end(), link.begin(), link.end() - 1);
  std::vector<std::string_view> t;
  if (!plain_components(target, &t) || t.size() < dir.size()) return std::nullopt;
  for (size_t i = 0; i < dir.size(); ++i) {
    if (t[i] != dir[i]) return std::nullopt;
  }
  std::string rel;
  for (size_t i = dir.size(); i < t.size(); ++i) {
    if (!rel.empty()) rel += '/';
    rel += t[i];
  }
  if (rel.empty()) return std::string(".");
  if (target.back() == '/') rel += '/';
  return rel;
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

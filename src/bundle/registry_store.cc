// The registry's content store on disk (HOME/registry/store/<32 hex>/ and HOME/registry/tmp/):
// directory creation, new files written and synced, fsyncs, tree removal, store ids, and the
// garbage collection of interrupted installs. The install's staging, rename and commit order is in
// Registry::install (registry.cc); this file holds the pieces it calls.
// - make_dir: a path that exists and is not a directory is refused (a symlink is refused).
// - write_new: a new file, never following or replacing anything (O_EXCL | O_NOFOLLOW), with
//   exactly the data, synced; the failpoints registry.install.create/.write/.fsync are here.
// - remove_tree: store files are read-only, directories stay writable; it does not follow symlinks.
// - collect_garbage: every install gets a fresh store directory, so a crash leaves at worst an
//   unreferenced directory, which the next install or remove deletes (only under the exclusive
//   lock).
#include "bundle/registry_internal.h"
#include "common/failpoint.h"

#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <set>

namespace wasmcap::registry {

namespace fs = std::filesystem;

namespace detail {

// --- Files ---------------------------------------------------------------------------------------

Result<void> make_dir(const std::string& path, mode_t mode) {
  if (::mkdir(path.c_str(), mode) == 0) return {};
  if (errno != EEXIST) return io_error(path, errno);
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) return io_error(path, errno);
  if (!S_ISDIR(st.st_mode)) {
    return make_error(ErrorCode::kIo, path + ": exists and is not a directory (a symlink is refused)");
  }
  return {};
}

Result<void> fsync_path(const std::string& path, int flags) {
  int fd = ::open(path.c_str(), flags | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) return io_error(path, errno);
  int r = ::fsync(fd);
  int err = errno;
  ::close(fd);
  if (r != 0) return io_error(path, err);
  return {};
}

// Creates a new file (never following or replacing anything) with exactly `data`, synced.
Result<void> write_new(const std::string& path, const uint8_t* data, size_t size) {
  if (int e = failpoint::hit("registry.install.create")) return io_error(path, e);
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0444);
  if (fd < 0) return io_error(path, errno);
  size_t done = 0;
  while (done < size) {
    if (int e = failpoint::hit("registry.install.write")) {
      ::close(fd);
      return io_error(path, e);
    }
    ssize_t n = ::write(fd, data + done, size - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      int err = errno;
      ::close(fd);
      return io_error(path, err);
    }
    done += static_cast<size_t>(n);
  }
  if (int e = failpoint::hit("registry.install.fsync")) {
    ::close(fd);
    return io_error(path, e);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) return io_error(path, errno);
  return {};
}

void remove_tree(const std::string& path) {
  std::error_code ec;
  // Store files are read-only; directories stay writable, so remove_all succeeds. It does not
  // follow symlinks.
  fs::remove_all(path, ec);
}

std::string random_id() {
  uint8_t b[kStoreIdHexDigits / 2];
  randombytes_buf(b, sizeof b);
  return hex(b, sizeof b);
}

}  // namespace detail

// Deletes staging leftovers and store directories no row references (an interrupted install).
// Only under the exclusive lock.
void Registry::Impl::collect_garbage() {
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(tmp(), ec)) remove_tree(e.path().string());
  std::set<std::string> referenced;
  Stmt s(db, "SELECT store_id FROM bundles");
  while (s.ok() && s.step() == SQLITE_ROW) referenced.insert(s.text(0));
  if (!s.ok()) return;
  for (const auto& e : fs::directory_iterator(store(), ec)) {
    if (referenced.count(e.path().filename().string()) == 0) remove_tree(e.path().string());
  }
}

}  // namespace wasmcap::registry

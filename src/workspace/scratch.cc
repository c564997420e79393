// Private scratch directories: the /tmp of one shell session (include/wasmcap/workspace.h
// Scratch; docs/shell.md "/tmp").
//
// Each is HOME/tmp/sh-<16 hex digits>, mode 0700 (HOME/tmp too), held by its owner with a flock
// on the directory itself for as long as the session lives, exactly as a create's hidden copy in
// HOME/workspaces is (create.cc, sweep). The owner removes it when the session ends; a process
// stopped by SIGINT, SIGTERM or SIGHUP removes it from its signal thread (platform/
// signal_cleanup.h, once a front end ran run_cleanups_on_signals) before dying; what a SIGKILL
// leaves is swept by the next Scratch::create, which removes every sh-* nobody holds.
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "platform/signal_cleanup.h"
#include "workspace/internal.h"
#include "wasmcap/workspace.h"

namespace wasmcap::workspace {

using namespace detail;

namespace {

constexpr const char* kScratchPrefix = "sh-";

// Removes HOME/tmp/NAME (a directory of ours) and everything beneath it, never following a
// symlink a tool made there.
void remove_dir(int parent, const std::string& name) {
  Fd d(::openat(parent, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!d.valid()) return;
  if (remove_contents(d.get(), "ws.scratch.remove")) ::unlinkat(parent, name.c_str(), AT_REMOVEDIR);
}

void remove_path(const std::string& path) {
  size_t slash = path.rfind('/');
  std::string parent = path.substr(0, slash), name = path.substr(slash + 1);
  Fd p(::open(parent.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (p.valid()) remove_dir(p.get(), name);
}

// Removes every sh-* in HOME/tmp whose owner is gone (its flock can be taken).
void sweep_scratch(int tmpfd) {
  auto names = list_dir(tmpfd);
  if (!names) return;
  for (const std::string& n : *names) {
    if (!starts_with(n, kScratchPrefix)) continue;
    Fd d(::openat(tmpfd, n.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!d.valid() || ::flock(d.get(), LOCK_EX | LOCK_NB) != 0) continue;
    if (remove_contents(d.get(), "ws.scratch.sweep")) ::unlinkat(tmpfd, n.c_str(), AT_REMOVEDIR);
  }
}

}  // namespace

std::string scratch_parent(const std::string& home) { return home + "/tmp"; }

Result<std::unique_ptr<Scratch>> Scratch::create(const std::string& home, bool sticky) {
  const std::string parent = scratch_parent(home);
  if (::mkdir(home.c_str(), 0700) != 0 && errno != EEXIST) {
    return tl::unexpected(io_error("mkdir " + home));
  }
  if (::mkdir(parent.c_str(), 0700) != 0 && errno != EEXIST) {
    return tl::unexpected(io_error("mkdir " + parent));
  }
  Fd pfd(::open(parent.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!pfd.valid()) return tl::unexpected(io_error("open " + parent));
  struct stat pst;
  if (::fstat(pfd.get(), &pst) != 0) return tl::unexpected(io_error("stat " + parent));
  if (pst.st_uid != ::geteuid() || (pst.st_mode & 077) != 0) {
    return make_error(ErrorCode::kIo,
                      parent + " must be a directory of this user that no one else may enter "
                               "(mode 0700): fix it with chmod 700 " + parent);
  }
  sweep_scratch(pfd.get());
  auto s = std::unique_ptr<Scratch>(new Scratch());
  for (int attempt = 0;; ++attempt) {
    std::string name = kScratchPrefix + random_hex(8);
    if (::mkdirat(pfd.get(), name.c_str(), 0700) == 0) {
      s->name_ = name;
      break;
    }
    if (errno != EEXIST || attempt > 8) return tl::unexpected(io_error("mkdir " + parent + "/" + name));
  }
  s->path_ = parent + "/" + s->name_;
  Fd d(::openat(pfd.get(), s->name_.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!d.valid() || ::flock(d.get(), LOCK_EX | LOCK_NB) != 0) {
    Error e = io_error("lock " + s->path_);
    ::unlinkat(pfd.get(), s->name_.c_str(), AT_REMOVEDIR);
    return tl::unexpected(e);
  }
  if (sticky && ::fchmod(d.get(), 01700) != 0) {
    Error e = io_error("chmod " + s->path_);
    ::unlinkat(pfd.get(), s->name_.c_str(), AT_REMOVEDIR);
    return tl::unexpected(e);
  }
  s->fd_ = d.release();
  s->cleanup_id_ = platform::add_signal_cleanup([path = s->path_] { remove_path(path); });
  return s;
}

Scratch::~Scratch() {
  platform::remove_signal_cleanup(cleanup_id_);
  remove_path(path_);
  if (fd_ >= 0) ::close(fd_);
}

}  // namespace wasmcap::workspace

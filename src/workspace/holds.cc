// Shadow workspaces: the workspace lock (taken shared by every tool run on the tree, exclusively
// by apply and discard, never waited for), tool holds, per-session workspaces, and bind_plan,
// which binds a plan's workspace mounts to their trees under a hold.
//
// Tools and apply exclude each other: what apply checks, digests and copies cannot change
// underneath, and a tree is never deleted under a running tool. The lock taken is checked to
// still be the lock at NAME/lock, so whoever opened it before a discard renamed the workspace
// away does not go on. An unfinished apply (its journal exists) keeps tools out of the tree.
// The component's design and the threats its checks stop: src/workspace/internal.h.

#include "workspace/internal.h"

#include "wasmcap/policy.h"

#include <fcntl.h>
#include <sodium.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <mutex>
#include <utility>

namespace wasmcap::workspace {

using namespace detail;

namespace {

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

}  // namespace

namespace detail {

std::string no_such_workspace(const std::string& name) {
  return "no workspace '" + name + "' (see `wasmcap ws list`)";
}

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

}  // namespace detail

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
}  // namespace wasmcap::workspace

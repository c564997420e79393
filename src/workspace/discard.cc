// Shadow workspaces: `ws discard`. Tools and apply are kept out (the workspace lock): a tree is
// never deleted under a running tool. An unfinished apply is not dropped without --force, and
// with it the apply's temp files in SOURCE are removed (nothing would name them once the journal
// is gone). The name goes first, in one rename to a hidden name that is synced before anything
// is deleted: killed at any point, the workspace is either listed whole or gone from the list,
// never a listed workspace whose half-deleted tree diff shows as removals.
// The component's design and the threats its checks stop: src/workspace/internal.h.

#include "workspace/internal.h"

#include <fcntl.h>
#include <sodium.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace wasmcap::workspace {

using namespace detail;

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
}  // namespace wasmcap::workspace

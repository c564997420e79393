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
//
// This header: the shared internals of the parts of src/workspace/, the types, helpers and macros
// they share, declared in wasmcap::workspace::detail. Each helper is defined once, in the part
// named above its declaration; what only one part uses stays private to that part. The parts:
//   workspace.cc  open, list, names, the snapshot record (snapshot.json)
//   fs.cc         descriptor-relative file-system primitives: hashing, durable writes, and
//                 every path beneath SOURCE or the tree resolved with symlinks refused
//   create.cc     `ws create`: the walk and copy of SOURCE, sweeping killed creates/discards
//   holds.cc      the workspace lock, tool holds, session workspaces, bind_plan
//   changes.cc    `ws diff`: the change set of a tree against its snapshot, its digest, rendering
//   journal.cc    the journal of an apply, and what an interrupted apply left (landed)
//   apply.cc      `ws apply`: the conflict check and the write into SOURCE
//   discard.cc    `ws discard`
// (diff.cc: the line diff; state_dirs.cc: wasmcap's own state directories.)
#pragma once

#include "wasmcap/workspace.h"

#include "common/failpoint.h"
#include "platform/fd.h"
#include "workspace/state_dirs.h"

#include <sys/stat.h>
#include <sys/types.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace wasmcap::workspace {

// Declares `name` as the value of a Result expression, or propagates its error.
#define WS_LET(name, expr)                                            \
  auto name##_result_ = (expr);                                       \
  if (!name##_result_) return tl::unexpected(std::move(name##_result_).error()); \
  auto name = std::move(*name##_result_)

namespace detail {

constexpr uint64_t kMaxDiffBytes = 4u << 20;  // larger text files: "changed", no line diff
// snapshot.json, the record of a tree (write_snapshot): kMaxEntries entries of a few hundred
// bytes each stay far below this; a larger file is not one we wrote, and is refused unread
// rather than allocated whole. Its nesting is 3 (object, entries array, entry object); the
// bound leaves room for fields added later and stops a deep-nesting bomb.
constexpr size_t kMaxSnapshotBytes = size_t{256} << 20;
constexpr size_t kMaxSnapshotDepth = 8;

// The one owning-descriptor type (src/platform/fd.h).
using Fd = platform::UniqueFd;

Error io_error(const std::string& what);

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

// --- fs.cc

std::string join(const std::string& prefix, const std::string& name);
std::vector<std::string> split_path(const std::string& p);
Result<std::vector<std::string>> list_dir(int dirfd);
std::string hex(const unsigned char* p, size_t n);
Result<std::string> hash_fd(int fd, int out, std::string* content, uint64_t content_cap);
Result<std::string> read_link(int dirfd, const std::string& name);
Entry entry_from_stat(const std::string& path, const struct stat& st);
Result<void> sync_fd(int fd, std::string_view fp, const std::string& what);
Result<void> write_whole(int dirfd, const std::string& name, const std::string& data,
                         const std::string& fp, bool sync);
Result<void> replace_durably(int dirfd, const std::string& name, const std::string& data,
                             const std::string& fp);
int rename_noreplace(int dirfd, const std::string& from, const std::string& to);
Result<Fd> open_parent(int root, const std::string& rel, bool create, std::string* leaf,
                       const StateDirs* state = nullptr);

// lstat of `rel` beneath root (no symlink followed on the way). ENOENT → nullopt-like false.
struct Probe {
  bool exists = false;
  bool parent_ok = true;  // false: an ancestor is missing or not a real directory
  bool parent_missing = false;  // an ancestor is missing (so is the entry)
  std::string parent_problem;
  struct stat st {};
};

Probe probe(int root, const std::string& rel);
Result<std::string> hash_at(int root, const std::string& rel, std::string* content,
                            struct stat* st_out = nullptr);
Result<Fd> open_root(const std::string& dir);
Result<Fd> open_source(const Info& info);

// --- workspace.cc

Entry::Type type_from_name(const std::string& s);
std::string workspaces_dir(const std::string& home);
std::string snapshot_json(const Info& info);
bool starts_with(const std::string& s, const char* prefix);
std::string random_hex(size_t bytes);

// --- create.cc

class Ignore;  // ignore.h

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
  // Paths left out by .gitignore / --exclude rules (ignore.h), and whether each directory's own
  // .gitignore adds rules as the walk enters it (create; diff uses the recorded rules only).
  Ignore* ignore = nullptr;
  bool read_gitignore = false;
  size_t ignored_files = 0, ignored_dirs = 0;
  size_t reflinked = 0, copied = 0;
};

Result<void> walk(int dirfd, int dst, const std::string& prefix, int depth, WalkState& ws);
Result<void> remove_contents(int dirfd, std::string_view fp);
Result<Fd> open_workspaces(const std::string& home, std::string_view fp, bool make = true);

// --- holds.cc

std::string no_such_workspace(const std::string& name);

// Who takes a workspace's lock: tools shared, apply and discard exclusively.
enum class LockFor { kTools, kApply, kDiscard };

Result<Fd> lock_workspace(const std::string& dir, const std::string& name, LockFor who);

// --- journal.cc

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

std::string journal_json(const Journal& j);
Result<std::optional<Journal>> read_journal(const std::string& dir, const std::string& name);
Result<void> remove_apply_tmps(int src, const Journal& j, std::string_view fp);
bool landed(int src, const Change& c);

// --- changes.cc

Result<DiffResult> diff_info(const Info& info, int src_fd);

}  // namespace detail
}  // namespace wasmcap::workspace

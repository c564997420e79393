// Shadow workspaces: a copy of a real directory tree that tools work on, reviewed (diff) and
// written back (apply) by the operator. docs/workspace.md.
//
// A workspace NAME lives in HOME/workspaces/NAME/:
//   snapshot.json   what SOURCE looked like at creation (per entry: path, type, mode, size,
//                   mtime, inode, BLAKE2b-256 content hash, symlink target), SOURCE's own
//                   device/inode and the workspace's size bound
//   lock            flock(2)ed shared by every tool run on the tree, exclusively by apply and
//                   discard
//   apply-journal.json  only while an apply is unfinished: the change set being written into
//                   SOURCE and the temp files it may leave there (written and synced before
//                   the first write into SOURCE, removed after the snapshot is rewritten)
//   tree/           the copy tools see through an ordinary preopen (reflinked when the file
//                   system can, else copied). Nothing done in tree/ touches SOURCE.
//
// Rules (docs/security-model.md "Shadow workspaces"):
// - names are [A-Za-z0-9][A-Za-z0-9._-]{0,63} (no '/', no "..", no leading '.' or '-');
// - symlinks are never followed, neither in SOURCE on create nor in the tree on diff, nor in
//   SOURCE on apply: SOURCE is reopened component by component with O_NOFOLLOW and must be the
//   directory (device/inode) recorded at create; every apply operation then acts on a
//   descriptor opened O_NOFOLLOW beneath it (fchmod, renameat, unlinkat, mkdirat), never on a
//   path the kernel could resolve through a link;
// - a workspace's logical size (apparent file sizes) is bounded (Info::max_bytes), and files are
//   hashed and copied hole-aware, so a sparse file neither stalls diff nor fills SOURCE's disk;
// - apply can be bound to the reviewed change set (DiffResult::digest, ApplyOptions::expect),
//   and runs with tools kept out of the tree (ToolHold);
// - apply checks every change against SOURCE first and writes nothing when one conflicts;
//   each file is then written as a temp file + rename (atomic per file);
// - apply never creates symlinks or special files in SOURCE: such changes are refusals;
// - wasmcap's own state directories (the AOT/validation cache, $WASMCAP_HOME, the record key's
//   directory), identified by device/inode, are left out by create, and apply never writes at
//   or below one: a change that would is a conflict (src/workspace/state_dirs.h);
// - crash consistency (docs/workspace.md "Interruptions"): create builds the workspace in a
//   hidden directory it holds locked and renames it into place; discard renames the workspace
//   to a hidden name first and deletes it after; later commands sweep hidden directories
//   nobody holds. Apply is idempotent (a change SOURCE already holds counts as applied) and
//   journaled, so an apply stopped by a kill, a full disk or an I/O error is finished by the
//   next `ws apply` and reported by the other commands.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "wasmcap/error.h"

namespace wasmcap::policy {
struct Plan;
}

namespace wasmcap::workspace {

struct Entry {
  enum class Type { kFile, kDir, kSymlink, kOther };
  std::string path;  // relative, '/'-separated, no leading "./"; "" is never an entry
  Type type = Type::kFile;
  uint32_t mode = 0;  // permission bits (07777)
  uint64_t size = 0;
  int64_t mtime_ns = 0;
  uint64_t ino = 0;
  std::string hash;    // hex BLAKE2b-256 of the content (files only)
  std::string target;  // symlinks only
};

// Default bound on a workspace's logical size: the sum of its files' apparent sizes (st_size),
// what diff must hash and apply must write. A guest makes a file of any apparent size with one
// seek and a one-byte write; unbounded, a 1 TiB sparse file stalls `ws diff` for hours and apply
// would fill SOURCE's disk. 8 GiB is above the trees we expect to shadow and hashes in seconds;
// `wasmcap ws create --max-size-mb` sets another bound per workspace.
constexpr uint64_t kDefaultMaxLogicalBytes = uint64_t{8} << 30;

// A .gitignore rule `ws create` followed: the line, and the directory of its file relative to
// SOURCE ("" = SOURCE itself). Kept in the snapshot (src/workspace/ignore.h).
struct IgnoreRule {
  std::string base;
  std::string pattern;
};

struct CreateOptions {
  uint64_t max_bytes = 0;  // bound on the logical size (0: kDefaultMaxLogicalBytes)
  bool gitignore = true;   // leave out what SOURCE's .gitignore files ignore (git's rules)
  std::vector<std::string> exclude;  // gitignore patterns left out too (`--exclude`), last
};

struct Info {
  std::string name;
  std::string source;  // absolute path of the real tree, symlinks resolved at create
  // SOURCE's identity at create: apply writes only into this very directory.
  uint64_t source_dev = 0, source_ino = 0;
  bool has_source_id = false;  // false: a snapshot from an older version (apply refuses)
  uint64_t max_bytes = kDefaultMaxLogicalBytes;  // bound on the tree's logical size
  std::string dir;     // HOME/workspaces/NAME
  std::string tree;    // HOME/workspaces/NAME/tree: what tools see
  int64_t created_unix = 0;
  std::string copy_method;  // "reflink", "copy" or "reflink+copy"
  std::vector<Entry> entries;  // the snapshot, sorted by path
  std::vector<std::string> skipped;  // special files in SOURCE not copied (fifos, sockets, ...)
  // wasmcap's own state directories inside SOURCE (the cache, $WASMCAP_HOME, ...), left out of
  // the copy; apply never writes at or below them (src/workspace/state_dirs.h).
  std::vector<std::string> left_out;
  // What create left out by the rules of SOURCE's .gitignore files and --exclude (CreateOptions):
  // the rules, kept so diff and apply leave the same paths out, and how many files (or other
  // entries) and directories they matched (a directory's contents are not counted).
  std::vector<IgnoreRule> ignore;
  std::vector<std::string> exclude;
  size_t ignored_files = 0, ignored_dirs = 0;
  size_t reflinked_files = 0, copied_files = 0;  // create: how each file was copied
};

struct Change {
  enum class Kind { kAdded, kRemoved, kModified, kModeChanged, kTypeChanged };
  Kind kind = Kind::kModified;
  std::string path;
  Entry::Type type = Entry::Type::kFile;      // in the tree (kRemoved: in the snapshot)
  Entry::Type old_type = Entry::Type::kFile;  // in the snapshot (kAdded: same as type)
  uint32_t old_mode = 0, new_mode = 0;
  bool binary = false;
  bool content_changed = false;
  std::string old_hash, new_hash;      // files: BLAKE2b-256 in the snapshot / in the tree
  std::string old_target, new_target;  // symlinks
  std::string unified;  // unified diff text for text files (may be empty), bytes as in the files
  // Only while an apply of the workspace is unfinished (interrupted_apply): SOURCE already
  // holds this change's result, so the next apply counts it as applied.
  bool in_source = false;
};

struct Conflict {
  std::string path;
  std::string reason;
};

struct DiffResult {
  std::vector<Change> changes;
  // Hex BLAKE2b-256 of the change set: every change's kind, path, types, modes, old and new
  // content hashes and symlink targets, i.e. exactly what apply would write. Empty when the
  // tree changed while it was being diffed (the text shown might not be what was hashed).
  std::string digest;
};

struct ApplyOptions {
  // Non-empty: apply only if the change set's digest is this one (`ws apply --expect`), so what
  // lands is what the operator reviewed; otherwise nothing is written.
  std::string expect;
};

struct ApplyResult {
  std::vector<Conflict> conflicts;  // non-empty: nothing was written
  size_t written = 0, removed = 0, dirs_created = 0, modes_changed = 0;
  // Changes SOURCE already held (written by an interrupted apply, or made there by hand):
  // counted as applied, not as conflicts.
  size_t already = 0;
  bool resumed = false;  // this apply finished an interrupted one (its journal was found)
  std::string digest;  // of the change set that was checked (and, without conflicts, applied)
};

// A tool run's hold on a workspace: shared flock(2) on HOME/workspaces/NAME/lock. While any
// hold exists apply refuses (a tool could be writing the tree); while apply runs no hold can be
// taken. Every front end that runs tools on a tree (sh --workspace, run --workspace, workspace
// grants through bind_plan: run --config and the MCP server) takes one for the run.
class ToolHold {
 public:
  ToolHold() = default;
  explicit ToolHold(int fd) : fd_(fd) {}
  ~ToolHold();
  ToolHold(ToolHold&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
  ToolHold& operator=(ToolHold&& o) noexcept;
  ToolHold(const ToolHold&) = delete;
  ToolHold& operator=(const ToolHold&) = delete;
  bool held() const { return fd_ >= 0; }

 private:
  int fd_ = -1;
};

// Checks a workspace name; the error says what is allowed.
Result<void> validate_name(const std::string& name);

// Copies SOURCE into HOME/workspaces/NAME (NAME empty: a generated "ws-XXXXXXXX"). max_bytes
// bounds the workspace's logical size (0: kDefaultMaxLogicalBytes); a larger SOURCE is refused.
Result<Info> create(const std::string& home, const std::string& source, const std::string& name,
                    uint64_t max_bytes = 0);
// The same, leaving out what SOURCE's .gitignore files and the --exclude patterns name.
Result<Info> create(const std::string& home, const std::string& source, const std::string& name,
                    const CreateOptions& options);
Result<Info> open(const std::string& home, const std::string& name);
Result<std::vector<Info>> list(const std::string& home);
Result<DiffResult> diff(const std::string& home, const std::string& name);
// Writes the tree's changes into SOURCE, or none of them (see ApplyResult::conflicts). Errors:
// workspace_conflict when a tool holds the workspace or the digest is not opt.expect (nothing
// written), invalid_argument over the size bound. An error while writing (io: ENOSPC, EIO;
// workspace_conflict: an entry swapped during apply) says which changes landed; the journal
// stays and the next apply finishes the rest.
Result<ApplyResult> apply(const std::string& home, const std::string& name,
                          const ApplyOptions& opt = {});
// Takes a ToolHold on workspace NAME. workspace_conflict while it is being applied.
Result<ToolHold> hold_for_tools(const std::string& home, const std::string& name);
// Deletes workspace NAME: its name goes first (one rename to a hidden name, synced), the files
// after, so an interrupted discard never leaves a listed workspace with a half-deleted tree.
// Errors: workspace_conflict while a tool or apply holds it, or while an apply of it is
// unfinished (unless `force`: then the apply's temp files are removed from SOURCE and SOURCE is
// left as it is, partly applied).
Result<void> discard(const std::string& home, const std::string& name, bool force = false);

// An apply of a workspace that was stopped (killed, disk full, I/O error) before it finished.
struct InterruptedApply {
  std::string digest;  // of the change set it was writing
  int64_t started_unix = 0;
  // The change set's paths, by whether SOURCE holds the change's result now.
  std::vector<std::string> landed, pending;
  std::string problem;  // non-empty: SOURCE could not be checked (why); landed/pending empty
};
// The unfinished apply of workspace NAME, or nullopt when there is none.
Result<std::optional<InterruptedApply>> interrupted_apply(const std::string& home,
                                                          const std::string& name);

// Points each mount of `plan` granted as a workspace (policy::FsMount::workspace) at that
// workspace's tree in HOME. Errors: not_found (no such workspace: create it with
// `wasmcap ws create`), or what open() reports. Mounts that are not workspaces are untouched.
// A per_session mount with a non-empty `session_key` gets session_workspace(base, key) instead
// (created on first use); with an empty key it is the named workspace itself. Mounts whose host
// is already set are left as they are (the MCP server binds per_session mounts to the copies
// its sessions own, src/mcp/sessions.h, and then calls this for the rest).
// With `holds`, a ToolHold on each bound workspace is appended there: keep them for the run.
Result<void> bind_plan(policy::Plan& plan, const std::string& home,
                       const std::string& session_key = "", std::vector<ToolHold>* holds = nullptr);

// The name of the workspace of one session over `base`: "s-" + 16 hex digits of
// BLAKE2b(base NUL key); the key never reaches the name.
std::string session_workspace_name(const std::string& base, const std::string& session_key);

// The workspace of one session over `base`: "s-" + 16 hex digits of BLAKE2b(base, key), created
// from base's source when missing (a fresh copy of the real tree, not of base's changes).
Result<Info> session_workspace(const std::string& home, const std::string& base,
                               const std::string& session_key);

// A private scratch directory: the /tmp of one `wasmcap sh` session or MCP bash session
// (docs/shell.md "/tmp"). It is HOME/tmp/sh-<16 hex digits>, mode 0700 in a 0700 HOME/tmp:
// HOME is a wasmcap state directory (state_dirs.h), so no workspace ever copies it in or applies
// into it, and it is on disk rather than in the host's RAM-backed /tmp. It is held (flock) while
// the object lives and removed with everything in it when it is destroyed; on SIGINT, SIGTERM
// or SIGHUP too, once the front end made the process clean up on signals (the CLI's `sh` and
// `mcp` do: src/platform/signal_cleanup.h); one a SIGKILL left behind is removed by
// the next create() (every sh-* nobody holds). `sticky`: mode 01700, a system /tmp's sticky bit
// (`test -k /tmp`; the bit only restricts removal in a directory others may write, and no one
// else may enter this one).
class Scratch {
 public:
  static Result<std::unique_ptr<Scratch>> create(const std::string& home, bool sticky = false);
  ~Scratch();
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;
  const std::string& path() const { return path_; }

 private:
  Scratch() = default;
  std::string name_, path_;
  int fd_ = -1;
  uint64_t cleanup_id_ = 0;  // its registration with the signal cleanup
};
// HOME/tmp, where scratch directories live.
std::string scratch_parent(const std::string& home);

// Rendering for the CLI. The text form escapes file content for a terminal (escape_for_terminal)
// unless `raw`; paths are always shown through display_path. The last line is the digest.
std::string render_diff_text(const DiffResult& d, bool raw = false);
std::string render_diff_json(const DiffResult& d);
const char* kind_name(Change::Kind k);
const char* type_name(Entry::Type t);

// A path as shown to the operator, so a name a tool chose cannot forge diff lines, drive the
// terminal or reorder what is read: C0 controls and DEL as \xNN, '\\' as \\\\, C1 controls
// (U+0080-U+009F) and the Unicode bidirectional controls as <U+XXXX>, bytes that are not UTF-8
// as \xNN; valid UTF-8 otherwise unchanged (src/common/escape.h, ControlStyle::kHex).
std::string display_path(const std::string& p);

// Content as shown on a terminal (`ws diff` without --raw), so a tool's bytes cannot drive the
// reviewer's terminal (erase or overwrite lines, set the clipboard with OSC 52, plant OSC 8
// links) or reorder what is read: C0 controls other than TAB and LF, and DEL, in cat -v
// notation (ESC is ^[, CR is ^M, DEL is ^?); C1 controls (U+0080-U+009F) and the Unicode
// bidirectional controls (U+061C, U+200E, U+200F, U+202A-U+202E, U+2066-U+2069) as <U+XXXX>;
// bytes that are not UTF-8 as \xNN. Everything else, including valid UTF-8, is unchanged
// (src/common/escape.h, ControlStyle::kCaret).
std::string escape_for_terminal(const std::string& s);

// Test hook: called with the change's path just before apply writes it (after every check),
// so a test can swap SOURCE's entry deterministically. nullptr (the default) disables it.
using ApplyWriteHook = void (*)(const std::string& path, void* arg);
void set_apply_write_hook_for_testing(ApplyWriteHook hook, void* arg);

// Line diff used by render: a unified diff of two texts with `context` lines of context.
// Returns "" when equal. Headers "--- a/PATH" / "+++ b/PATH" are included.
std::string unified_diff(const std::string& path, const std::string& a, const std::string& b,
                         int context = 3);

}  // namespace wasmcap::workspace

// Shadow workspaces: a copy of a real directory tree that tools work on, reviewed (diff) and
// written back (apply) by the operator. docs/workspace.md.
//
// A workspace NAME lives in HOME/workspaces/NAME/:
//   snapshot.json   what SOURCE looked like at creation (per entry: path, type, mode, size,
//                   mtime, inode, BLAKE2b-256 content hash, symlink target)
//   tree/           the copy tools see through an ordinary preopen (reflinked when the file
//                   system can, else copied). Nothing done in tree/ touches SOURCE.
//
// Rules (docs/security-model.md "Shadow workspaces"):
// - names are [A-Za-z0-9][A-Za-z0-9._-]{0,63} (no '/', no "..", no leading '.' or '-');
// - symlinks are never followed, neither in SOURCE on create nor in the tree on diff, nor in
//   SOURCE on apply (every directory is opened O_NOFOLLOW from SOURCE's own descriptor);
// - apply checks every change against SOURCE first and writes nothing when one conflicts;
//   each file is then written as a temp file + rename (atomic per file);
// - apply never creates symlinks or special files in SOURCE: such changes are refusals.
#pragma once

#include <cstdint>
#include <string>
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

struct Info {
  std::string name;
  std::string source;  // absolute path of the real tree
  std::string dir;     // HOME/workspaces/NAME
  std::string tree;    // HOME/workspaces/NAME/tree: what tools see
  int64_t created_unix = 0;
  std::string copy_method;  // "reflink", "copy" or "reflink+copy"
  std::vector<Entry> entries;  // the snapshot, sorted by path
  std::vector<std::string> skipped;  // special files in SOURCE not copied (fifos, sockets, ...)
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
  std::string unified;  // unified diff text for text files (may be empty)
};

struct Conflict {
  std::string path;
  std::string reason;
};

struct DiffResult {
  std::vector<Change> changes;
};

struct ApplyResult {
  std::vector<Conflict> conflicts;  // non-empty: nothing was written
  size_t written = 0, removed = 0, dirs_created = 0, modes_changed = 0;
};

// Checks a workspace name; the error says what is allowed.
Result<void> validate_name(const std::string& name);

// Copies SOURCE into HOME/workspaces/NAME (NAME empty: a generated "ws-XXXXXXXX").
Result<Info> create(const std::string& home, const std::string& source, const std::string& name);
Result<Info> open(const std::string& home, const std::string& name);
Result<std::vector<Info>> list(const std::string& home);
Result<DiffResult> diff(const std::string& home, const std::string& name);
// Writes the tree's changes into SOURCE, or none of them (see ApplyResult::conflicts).
Result<ApplyResult> apply(const std::string& home, const std::string& name);
Result<void> discard(const std::string& home, const std::string& name);

// Points each mount of `plan` granted as a workspace (policy::FsMount::workspace) at that
// workspace's tree in HOME. Errors: not_found (no such workspace: create it with
// `wasmcap ws create`), or what open() reports. Mounts that are not workspaces are untouched.
// A per_session mount with a non-empty `session_key` gets session_workspace(base, key) instead
// (created on first use); with an empty key it is the named workspace itself. Mounts whose host
// is already set are left as they are (the MCP server binds per_session mounts to the copies
// its sessions own, src/mcp/sessions.h, and then calls this for the rest).
Result<void> bind_plan(policy::Plan& plan, const std::string& home,
                       const std::string& session_key = "");

// The name of the workspace of one session over `base`: "s-" + 16 hex digits of
// BLAKE2b(base NUL key); the key never reaches the name.
std::string session_workspace_name(const std::string& base, const std::string& session_key);

// The workspace of one session over `base`: "s-" + 16 hex digits of BLAKE2b(base, key), created
// from base's source when missing (a fresh copy of the real tree, not of base's changes).
Result<Info> session_workspace(const std::string& home, const std::string& base,
                               const std::string& session_key);

// Rendering for the CLI.
std::string render_diff_text(const DiffResult& d);
std::string render_diff_json(const DiffResult& d);
const char* kind_name(Change::Kind k);
const char* type_name(Entry::Type t);

// A path as shown to the operator: control bytes, DEL and '\\' escaped (\xNN, \\), so a name
// a tool chose cannot forge diff lines or drive the terminal.
std::string display_path(const std::string& p);

// Line diff used by render: a unified diff of two texts with `context` lines of context.
// Returns "" when equal. Headers "--- a/PATH" / "+++ b/PATH" are included.
std::string unified_diff(const std::string& path, const std::string& a, const std::string& b,
                         int context = 3);

}  // namespace wasmcap::workspace

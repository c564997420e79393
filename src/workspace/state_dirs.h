// wasmcap's own state directories, as `ws create` and `ws apply` must never touch them
// (docs/security-model.md "Shadow workspaces", docs/workspace.md "wasmcap's own state").
//
// A workspace whose SOURCE holds one of them (SOURCE is $HOME, or an ancestor of the cache or of
// $WASMCAP_HOME) would otherwise hand a tool a writable copy of it, and `ws apply` would carry
// what the tool wrote there back: an AOT object that the next run loads as native code outside
// the sandbox, or a key in the trust store. As git never lets `git apply` or a checkout write
// into .git/, apply never creates, changes, renames or removes anything at or below one of them,
// and refuses the whole change set when one change would; create leaves them out of the copy.
//
// They are identified by device/inode, compared as each directory is opened beneath SOURCE
// with O_NOFOLLOW, so no spelling (a symlink or bind mount in $XDG_CACHE_HOME, $WASMCAP_HOME
// or in SOURCE's own path) makes a state directory look like another one. One that does not
// exist yet is identified by the deepest directory above it that exists and the names below
// that (apply would have to create those very names, in that very directory, to make it).
#pragma once

#include <sys/stat.h>

#include <string>
#include <vector>

namespace wasmcap::workspace {

class StateDirs {
 public:
  // The state directories as this process's environment names them: the AOT/validation cache
  // directory and wasmcap's part of the per-user cache (cache::cache_dir_path,
  // cache::cache_root_path), the validation record key's directory (cache::record_key_dir),
  // `home` ($WASMCAP_HOME: bundles, trust keys, audit log) and its workspaces folder.
  static StateDirs current(const std::string& home);

  // Also protects `rel`, a path relative to the directory `source` (what create left out of
  // this workspace, recorded in its snapshot): the cache or home of another environment.
  void add_relative(const struct stat& source, const std::string& rel);

  // Non-empty (why) when the directory `st` is a state directory.
  std::string state_dir(const struct stat& st) const;
  // Non-empty (why) when a path whose components are `names`, having reached the directory
  // `dir` after its first `i` components, is at or below a state directory: `dir` is one, or
  // names[i..] are the missing names of one whose deepest existing directory is `dir`.
  std::string refuse_at(const struct stat& dir, const std::vector<std::string>& names,
                        size_t i) const;
  // Non-empty (why) when `rel` beneath the directory `root` is at or below a state directory:
  // each directory on the way is opened O_NOFOLLOW and compared as it is opened; the walk stops
  // where the path does not exist (what apply would create there is checked by name).
  std::string refuse_path(int root, const std::string& rel) const;
  // Non-empty (why) when the directory `dirfd` (SOURCE) is a state directory or inside one:
  // its ancestors are compared by climbing "..", not by its path.
  std::string contains(int dirfd) const;

 private:
  struct Dir {
    dev_t dev;
    ino_t ino;
    std::vector<std::string> rest;  // non-empty: missing names below the directory dev/ino
    std::string what, path;
  };
  void add(const std::string& path, const std::string& what);
  std::string why(const Dir& d) const;
  std::vector<Dir> dirs_;
};

}  // namespace wasmcap::workspace

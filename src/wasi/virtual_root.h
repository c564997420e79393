// Internal: the guest's namespace above its preopens (docs/wasi-support.md "The virtual root").
//
// A guest whose preopens are /work, /tmp and /home/user lives in a file system whose root, /home
// and /usr/bin exist too: `ls /`, `cd ..` from /work, `ls -la ~` (its `..` is /home), `test -x
// /bin/ls`. No host directory is behind these: the tree is made of the preopens' guest paths
// (each a *mount*), the command directories (/bin, /usr/bin, /usr/local/bin, listing the command
// table, never readable) and the directories leading to them, nothing else. It holds no host
// object and grants nothing: what resolves through it to a mount is resolved beneath that
// preopen by its own description and the one path resolver (path.h), with that preopen's rules.
//
// One tree, two users: the WASI host (core.h: the "/" preopen after the others, and a `..` at the
// top of a preopen) and the shell's own path resolution (src/shell/paths.cc), so a tool and the
// shell see the same names.
//
// Lookups follow what wasi-libc does with an absolute path (the preopen with the longest guest
// prefix takes the rest) and make `..` lexical wherever it stands above the preopens: the
// virtual directories have no symlinks, and a `..` at a mount's top leaves it to its virtual
// parent, as POSIX's `..` of a mounted directory does. A `..` deeper inside a preopen is the
// resolver's (physical, refused above the preopen's top).
//
// Bounds: the tree has one node per component of the mounts' paths (mounts are bounded by
// max_fds, paths by platform::kMaxPathBytes); a lookup is linear in the path's length.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace wasmcap::wasi {

struct VirtualNode {
  std::string name;  // its component ("" for the root)
  const VirtualNode* parent = nullptr;  // the root's is itself
  std::vector<std::unique_ptr<VirtualNode>> children;  // sorted by name
  int mount = -1;         // the mount at this path (its index given to the tree), -1 if none
  bool commands = false;  // a command directory: it lists the command table
  uint64_t ino = 0;       // distinct per node (and per command: VirtualTree::command_ino)

  const VirtualNode* child(std::string_view n) const;
  bool is_root() const { return parent == this; }
};

class VirtualTree {
 public:
  // `mounts`: guest paths, mount i at mounts[i] (a later mount at the same path replaces an
  // earlier one, as a later preopen does; a relative path or one with a `.` or `..` component
  // is not placed). `commands`:
  // the names the command directories list, sorted and unique (may be null: none).
  VirtualTree(const std::vector<std::string_view>& mounts,
              std::shared_ptr<const std::vector<std::string>> commands);
  VirtualTree(const VirtualTree&) = delete;
  VirtualTree& operator=(const VirtualTree&) = delete;

  const VirtualNode& root() const { return *root_; }
  // A mount at "/" itself: the whole namespace is that preopen's, nothing is virtual.
  bool root_is_mount() const { return root_->mount >= 0; }
  const std::vector<std::string>& commands() const;

  struct Found {
    enum class Kind : uint8_t {
      kDir,      // a virtual directory: `node`
      kCommand,  // a command in command directory `node`: commands()[command]
      kMount,    // beneath mount node->mount: `rest` resolves there ("." for its top)
      kMissing,  // no such name in virtual directory `node` (`last`: it was the final one)
      kNotDir,   // a command followed by more components or a trailing slash
    };
    Kind kind = Kind::kMissing;
    const VirtualNode* node = nullptr;
    size_t command = 0;
    std::string rest;
    bool last = false;
  };
  // `path` (absolute, or relative to `from`) walked through the tree. A trailing slash is kept
  // in `rest`; "" is kMissing (no name).
  Found lookup(const VirtualNode& from, std::string_view path) const;

  // A virtual directory's entries: ".", "..", its children, then the commands a command
  // directory lists (a command named as a child is not listed twice).
  struct Entry {
    std::string_view name;
    uint64_t ino = 0;
    bool dir = false;
  };
  size_t entry_count(const VirtualNode& dir) const;
  Entry entry(const VirtualNode& dir, size_t i) const;  // i < entry_count(dir)
  uint64_t command_ino(size_t i) const { return command_ino_base_ + i; }
  // The node's absolute guest path ("/", "/usr/bin").
  static std::string path_of(const VirtualNode& node);

 private:
  VirtualNode* make_path(std::string_view path);
  std::unique_ptr<VirtualNode> root_;
  std::shared_ptr<const std::vector<std::string>> commands_;
  uint64_t command_ino_base_ = 0;
};

// The directories that list the command table (and where the shell runs `/bin/NAME` as NAME).
inline constexpr std::string_view kCommandDirs[] = {"/bin", "/usr/bin", "/usr/local/bin"};

}  // namespace wasmcap::wasi

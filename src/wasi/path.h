// Internal: resolution of guest paths beneath a preopened directory.
//
// This is the sandbox boundary of the filesystem layer. A guest path is always interpreted
// relative to a directory fd the guest holds (a preopen or something opened beneath one), and
// resolution never leaves the preopen it started from:
//   - absolute paths and absolute symlink targets are refused (EPERM, what the WASI test
//     suite expects for sandbox escapes);
//   - `..` may climb only as far as the preopen (EPERM beyond);
//   - symlinks are expanded by us or by openat2(RESOLVE_BENEATH), never by a plain kernel
//     lookup that could leave the tree, and at most kMaxSymlinkHops times (ELOOP);
//   - the result is a (directory fd, final name) pair so that every operation on the final
//     entry is an *at() syscall on a directory already known to be beneath the root, with
//     AT_SYMLINK_NOFOLLOW / O_NOFOLLOW: swapping the final entry for a symlink after
//     resolution (a race) cannot make the operation follow it.
//
// Two implementations with identical results:
//   - openat2(2) with RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS resolves the directory part in
//     the kernel (race-free against concurrent renames of intermediate components);
//   - a portable fallback (kernels before 5.6, or openat2 filtered by seccomp) walks one
//     component at a time with openat(O_PATH | O_NOFOLLOW), inspects each entry through the
//     fd it opened (so a component swapped for a symlink is seen as a symlink, not followed),
//     keeps its own stack of directory fds for `..` (so it never asks the kernel for ".."),
//     and expands symlinks itself.
#pragma once

#include <sys/stat.h>

#include <string>
#include <string_view>

#include "wasi/abi.h"

namespace wasmcap::wasi {

// Owning file descriptor.
class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  ~UniqueFd() { reset(); }
  UniqueFd(UniqueFd&& o) noexcept : fd_(o.release()) {}
  UniqueFd& operator=(UniqueFd&& o) noexcept {
    if (this != &o) reset(o.release());
    return *this;
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  int release() {
    int f = fd_;
    fd_ = -1;
    return f;
  }
  void reset(int fd = -1);

 private:
  int fd_ = -1;
};

// Symlink expansions allowed in one resolution (Linux's own limit is 40).
constexpr int kMaxSymlinkHops = 40;

enum class ResolverImpl : uint8_t {
  kAuto,      // openat2 when the kernel has it, else the fallback
  kOpenat2,   // force openat2 (resolution fails with ENOSYS where the kernel lacks it)
  kFallback,  // force the component-by-component walk
};

// Process-wide choice of implementation. The default is kAuto, unless the environment
// variable WASMCAP_PATH_RESOLVER is "fallback" or "openat2" when first consulted. Tests use
// this to run the same cases through both implementations.
void set_resolver_impl(ResolverImpl impl);
ResolverImpl resolver_impl();
// True if openat2(2) works on this kernel (probed once).
bool kernel_has_openat2();

struct ResolvedPath {
  UniqueFd dir;               // O_PATH fd of the directory holding the final entry
  std::string name;           // the final entry: a plain name, or "." for `dir` itself
  bool trailing_slash = false;  // the guest path ended in '/' (the entry must be a directory)
};

// True if the guest path ends in '/', i.e. it names a directory (POSIX: trailing slashes also
// make the final symlink followed).
inline bool has_trailing_slash(std::string_view path) {
  return path.size() > 1 && path.back() == '/';
}

// Resolves `path` relative to `root` (a directory fd; the resolution never leaves it).
//
// follow_final: expand a symlink in the final position (repeatedly), still beneath root, so
// that on success `name` is not a symlink (or does not exist). Without it the final entry is
// returned as named. A final `..` or `.` is always resolved: the result is then (that
// directory, ".").
//
// The final entry need not exist (creation): only the directories leading to it must.
// Returns a WASI errno: EPERM for escapes (absolute path, `..` above root, absolute symlink),
// ELOOP after kMaxSymlinkHops, ENOENT for an empty path, ENOTDIR / ENOENT / EACCES from the
// walk.
Errno resolve_path(int root, std::string_view path, bool follow_final, ResolvedPath* out);

// Opens the entry `rp` names (as resolve_path returned it) if it is a regular file or a
// directory: the one type-checked open of the sandbox, used by WASI path_open and by the
// shell's redirections and directory listings.
//
// Threat: special files in a preopen. A preopen holds whatever the operator's tree holds, and
// anyone who can write it through another channel can mkfifo: opening or reading a FIFO (or a
// socket, a terminal, a device) blocks in the kernel where no deadline reaches, and opening a
// device can have side effects. So the entry is looked at before the open (no device is ever
// opened) and checked again on the opened fd (an entry swapped in between: O_NONBLOCK keeps
// that open from blocking); anything but a regular file or directory is kEnotsup.
// O_NOFOLLOW (the resolver already followed what may be followed), O_NONBLOCK, O_NOCTTY and
// O_CLOEXEC are always added to `flags`; the fd is put back in blocking mode unless
// `keep_nonblock`. `st` (optional) receives the opened file's fstat.
Errno open_file_or_dir(const ResolvedPath& rp, int flags, unsigned mode, bool keep_nonblock,
                       UniqueFd* out, struct stat* st = nullptr);

// --- symlinks the guest creates or moves (docs/security-model.md, "Symlinks") --------------
//
// No guest operation may leave a symlink in a preopen that resolves outside it for host
// software that later follows it (our resolver never would). A link whose target climbs (`..`)
// or is absolute changes meaning when it, or a directory above it, moves; a target that only
// descends (relative, no `..` component) stays beneath the directory holding the link wherever
// that directory goes. So:
//   - path_symlink accepts only descending targets;
//   - path_rename and path_link refuse to move or link a symlink whose target does not descend
//     (such links can only come from the operator's tree), and path_rename refuses to move a
//     directory holding one anywhere beneath it.

// True if `target` is a non-empty relative path with no `..` component.
bool symlink_target_descends(std::string_view target);

// Outcome of scan_for_climbing_links.
enum class ScanResult : uint8_t {
  kClean,     // no symlink beneath `dir` has a target that does not descend
  kFound,     // at least one does
  kTooLarge,  // more than kMaxMoveScanEntries entries or kMaxMoveScanDepth levels
  kStopped,   // keep_going() returned false (deadline, interrupt, fuel)
  kError,     // a directory could not be read (errno in *err)
};
constexpr uint32_t kMaxMoveScanEntries = 100000;
constexpr uint32_t kMaxMoveScanDepth = 64;

// Walks the tree beneath the directory fd `dir` (never following symlinks) looking for a
// symlink whose target does not descend. keep_going is called every 256 entries.
ScanResult scan_for_climbing_links(int dir, bool (*keep_going)(void*), void* arg, int* err);

}  // namespace wasmcap::wasi

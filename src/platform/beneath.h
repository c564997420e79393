// The one confinement primitive: resolve a path so that it never leaves a directory.
//
// Every path wasmcap takes from someone it does not trust is resolved here, relative to a
// directory descriptor it already holds (a WASI preopen, the shell's preopen, a workspace's
// SOURCE or tree), and the resolution never leaves that directory ("root"):
//   - an absolute path, `..` above root, and a symlink whose target is absolute or climbs out
//     are refused with EXDEV (what openat2's RESOLVE_BENEATH answers);
//   - symlinks are either followed only while they stay beneath root (Symlinks::kFollowBeneath:
//     the WASI host, the shell) or refused wherever they are on the path with ELOOP
//     (Symlinks::kRefuse, RESOLVE_NO_SYMLINKS: workspaces, which copy and apply links as links
//     and never go through one);
//   - the result is a (directory descriptor, final name) pair: every operation on the final
//     entry is an *at() call on a directory already known to be beneath root, with
//     AT_SYMLINK_NOFOLLOW / O_NOFOLLOW, so an entry swapped for a symlink after the resolution
//     (a race) is never followed.
//
// Two implementations, one set of rules (tests/platform runs every case through both, and
// fuzz_resolver compares them on every input):
//   - openat2(2) with RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS (| RESOLVE_NO_SYMLINKS) resolves
//     the directory part in the kernel, race-free against concurrent renames (EAGAIN, retried);
//   - a portable walk (kernels before 5.6, openat2 filtered by seccomp) opens one component at
//     a time with O_PATH | O_NOFOLLOW, inspects each entry through the descriptor it opened (a
//     component swapped for a symlink is seen as one, never followed), keeps its own stack of
//     directory descriptors for `..` (it never asks the kernel for ".."), and expands symlinks
//     itself. A caller that checks every directory on the way (BeneathOptions::on_dir) or makes
//     missing ones (make_dirs) always gets the walk: the kernel resolves a path in one call and
//     shows no directory in between.
//
// Errors are errno values (0 is success); the platform layer knows no WASI: the WASI host maps
// them to WASI errnos (src/wasi/path.h), the shell and workspaces to messages.
#pragma once

#include <sys/stat.h>
#include <sys/types.h>

#include <climits>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "platform/fd.h"

namespace wasmcap::platform {

// Symlink expansions allowed in one resolution: at most this many links in non-final
// positions over the whole resolution (the kernel's MAXSYMLINKS for the openat2 call that
// resolves the directory part, which meets every one of them again after each expansion of the
// final component), and separately at most this many expansions of the final component
// (follow_final). Beyond either: ELOOP. The walk counts exactly; the kernel may count a
// lookup's links twice (when it leaves RCU mode), so an ELOOP from openat2 is decided by the
// walk. Threat: symlink loops and long chains (CPU, and a stack of pending components).
constexpr int kMaxSymlinkHops = 40;

// The longest path resolved, in bytes: PATH_MAX - 1, the longest the kernel takes. Applies to
// the path as given and to every path a final symlink's expansion makes of it (the directory
// part followed by the link's target); longer is ENAMETOOLONG, in both implementations.
// Threat: unbounded work and memory for a path a guest or a chain of links makes up.
constexpr size_t kMaxPathBytes = PATH_MAX - 1;

enum class Symlinks : uint8_t {
  kFollowBeneath,  // expanded while they stay beneath root (absolute or climbing out: EXDEV)
  kRefuse,         // any symlink on the path: ELOOP (a final one only when follow_final)
};

// A `BeneathOptions::on_dir` check: called with a directory the walk holds and the index of
// the next component of the path it will look up there; returns 0 to go on, or an errno value
// that ends the resolution with it.
using DirCheck = std::function<int(int dirfd, size_t next)>;

struct BeneathOptions {
  Symlinks symlinks = Symlinks::kFollowBeneath;
  // Expand a symlink in the final position (repeatedly, still beneath root), so that on success
  // the final name is not a symlink (or does not exist). With Symlinks::kRefuse, a final
  // symlink is then ELOOP. Without it the final entry is returned as named.
  bool follow_final = false;
  // Only with Symlinks::kRefuse (else EINVAL): each missing directory on the way is made
  // (mkdirat, mode 0755 before the umask), then opened like any other, never through a link.
  bool make_dirs = false;
  // Only with Symlinks::kRefuse (else EINVAL): called on root before the first component and on
  // each directory entered, the last call being on the directory that holds the final entry;
  // `next` counts the path's components ('/'-separated, empty ones skipped) walked so far.
  // For checks of directory identity (device/inode) made as each directory is opened.
  DirCheck on_dir;
  // When the final entry is directly in root (a one-component path, as a guest walking a tree
  // with openat(dirfd, name) gives for every entry: fts, GNU grep -r, find), Resolved::dir
  // borrows root instead of opening root's own "." and closing it again. The caller must then
  // keep root open for as long as it uses the result.
  bool borrow_root = false;
};

// The directory holding a resolved entry: a descriptor the result owns, or root itself,
// borrowed (BeneathOptions::borrow_root). Either way a directory beneath root (or root).
class ResolvedDir {
 public:
  int get() const { return owned_.valid() ? owned_.get() : borrowed_; }
  bool valid() const { return get() >= 0; }
  bool borrowed() const { return !owned_.valid() && borrowed_ >= 0; }
  void reset() {
    owned_.reset();
    borrowed_ = -1;
  }
  void own(UniqueFd fd) {
    borrowed_ = -1;
    owned_ = std::move(fd);
  }
  void borrow(int fd) {
    owned_.reset();
    borrowed_ = fd;
  }
  // A descriptor the caller owns: the one held (moved out), or for a borrowed root a new O_PATH
  // descriptor of it. Invalid (errno set) when that open fails.
  UniqueFd take();

 private:
  UniqueFd owned_;
  int borrowed_ = -1;
};

struct Resolved {
  ResolvedDir dir;              // the directory holding the final entry (O_PATH, or borrowed root)
  std::string name;             // the final entry: a plain name, or "." for `dir` itself
  bool trailing_slash = false;  // the path (or a final symlink's target) ended in '/'
  // What lstat of the final entry said when the resolution looked at it (follow_final, to see
  // whether it is a symlink) and found it, not a link: open_file_or_dir's look before the open
  // then costs no second call. Empty when the resolution did not look or found nothing.
  std::optional<struct stat> final_stat;
};

// Resolves `path` beneath the directory `root` (which it does not take ownership of).
//
// A final `.` or `..` is always resolved: the result is then (that directory, "."). The final
// entry need not exist (creation); the directories leading to it must. Trailing slashes are
// removed and reported in Resolved::trailing_slash (the entry must then be a directory; the
// caller decides whether that makes it follow a final symlink, as POSIX does).
//
// Errors, checked in this order: ENOENT for an empty path; EINVAL for a path holding a NUL
// byte (the kernel would see a shorter path than the caller checked) or for options that need
// Symlinks::kRefuse; ENAMETOOLONG past kMaxPathBytes; EXDEV for an escape; ELOOP past
// kMaxSymlinkHops or for a symlink under Symlinks::kRefuse; otherwise what the kernel says of a
// component (ENOTDIR, ENOENT, EACCES, ENAMETOOLONG for a component over NAME_MAX, ...), or what
// on_dir returned. On error, `out->dir` is closed.
[[nodiscard]] int resolve_beneath(int root, std::string_view path, const BeneathOptions& opts,
                                  Resolved* out);

// resolve_beneath, then openat(2) of the final entry with `flags | O_NOFOLLOW | O_CLOEXEC`
// (the final entry is never followed by the kernel: it was followed, or refused, above).
[[nodiscard]] int open_beneath(int root, std::string_view path, const BeneathOptions& opts,
                               int flags, mode_t mode, UniqueFd* out);

// Opens the entry `rp` names (as resolve_beneath returned it) if it is a regular file or a
// directory: the one type-checked open of the sandbox, used by WASI path_open and by the
// shell's redirections and directory listings.
//
// Threat: special files in a confined tree. It holds whatever the operator's tree holds, and
// anyone who can write it through another channel can mkfifo: opening or reading a FIFO (or a
// socket, a terminal, a device) blocks in the kernel where no deadline reaches, and opening a
// device can have side effects. So the entry is looked at before the open (no device is ever
// opened; the look the resolution made, Resolved::final_stat, when it made one) and checked
// again on the opened descriptor (an entry swapped in between: O_NONBLOCK keeps that open from
// blocking); anything but a regular file or directory is ENOTSUP.
// O_NOFOLLOW, O_NONBLOCK, O_NOCTTY and O_CLOEXEC are always added to `flags`; the descriptor is
// put back in blocking mode unless `keep_nonblock`. `st` (optional) receives its fstat.
[[nodiscard]] int open_file_or_dir(const Resolved& rp, int flags, mode_t mode, bool keep_nonblock,
                                   UniqueFd* out, struct stat* st = nullptr);

// The path of the directory `dir` beneath the directory `root`, as the kernel names both (their
// /proc/self/fd links): "" for root itself, else components joined by '/' (no symlink, no
// `..`). For a physical working directory (the shell's cd -P and pwd -P) of a directory the
// resolver opened. EXDEV when `dir` is not beneath `root` (moved out since it was resolved);
// otherwise the errno of reading either link (ENOENT without /proc).
[[nodiscard]] int path_beneath(int root, int dir, std::string* out);

// The '/'-separated components of `path`, empty ones skipped, as views into it: the one
// splitter the resolver, the WASI host's virtual root and the shell's paths share.
std::vector<std::string_view> path_components(std::string_view path);

// True if `path` ends in '/' (and is not "/" itself): it names a directory.
inline bool has_trailing_slash(std::string_view path) {
  return path.size() > 1 && path.back() == '/';
}

// --- which implementation -------------------------------------------------------------------

enum class Resolver : uint8_t {
  kAuto,      // openat2 when the kernel has it, else the walk
  kOpenat2,   // force openat2 (resolutions that would use it fail with ENOSYS without it)
  kFallback,  // force the component-by-component walk
};

// Process-wide choice. The default is kAuto, unless the environment variable
// WASMCAP_PATH_RESOLVER is "fallback" or "openat2" when first consulted. Tests use this to run
// the same cases through both implementations.
void set_resolver(Resolver r);
Resolver resolver();
// True if openat2(2) works here (probed once; a seccomp filter answering EPERM counts as no).
bool kernel_has_openat2();

}  // namespace wasmcap::platform

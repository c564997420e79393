// Internal: the WASI host's view of confinement (docs/security-model.md, "Filesystem
// confinement").
//
// A guest path is always interpreted relative to a directory fd the guest holds (a preopen or
// something opened beneath one), and resolution never leaves the preopen it started from. The
// resolution itself is the platform layer's one primitive (src/platform/beneath.h: the
// kernel's resolution beneath a directory where it has one, else a portable walk; symlinks
// followed only while they stay beneath, at most platform::kMaxSymlinkHops); this header
// adapts it to WASI:
//   - its errno values become the capability layer's codes (errc.h), and an escape (an
//     absolute path, `..` above the preopen, a symlink whose target is absolute or climbs out:
//     EXDEV there) is Errc::kEscape (EPERM for Preview 1, what the WASI test suite expects);
//   - the result is a (directory fd, final name) pair, so that every operation on the final
//     entry is an *at() syscall on a directory already known to be beneath the preopen, with
//     AT_SYMLINK_NOFOLLOW / O_NOFOLLOW: swapping the final entry for a symlink after
//     resolution (a race) cannot make the operation follow it.
// It also holds the WASI-only rules for symlinks a guest creates or moves (below).
#pragma once

#include <sys/stat.h>

#include <optional>
#include <string>
#include <string_view>

#include "platform/beneath.h"
#include "platform/fd.h"
#include "wasi/errc.h"

namespace wasmcap::wasi {

using UniqueFd = platform::UniqueFd;
using ResolvedPath = platform::Resolved;  // dir, final name, trailing_slash
using platform::has_trailing_slash;
using platform::kMaxSymlinkHops;

// A platform-layer errno as the capability layer's code: EXDEV (the path leaves the directory)
// is kEscape; the rest as errc_from_host maps host errnos.
Errc errc_from_platform(int err);

// Resolves the guest path `path` relative to `root` (a directory fd; the resolution never
// leaves it): platform::resolve_beneath with symlinks followed while they stay beneath.
//
// follow_final: expand a symlink in the final position (repeatedly), still beneath root, so
// that on success `name` is not a symlink (or does not exist). Without it the final entry is
// returned as named. A final `..` or `.` is always resolved: the result is then (that
// directory, ".").
//
// The final entry need not exist (creation): only the directories leading to it must. An entry
// directly in `root` borrows it (out->dir is `root`, not a new descriptor): `root` must stay
// open while `out` is used.
// Returns kEscape for escapes (absolute path, `..` above root, absolute or climbing symlink),
// kLoop after kMaxSymlinkHops, kNoEntry for an empty path, kNameTooLong past
// platform::kMaxPathBytes, kNotDirectory / kNoEntry / kAccess from the walk.
Errc resolve_path(int root, std::string_view path, bool follow_final, ResolvedPath* out);

// platform::open_file_or_dir (only regular files and directories are ever opened; FIFOs,
// sockets and devices are kUnsupported, see there for the threat), with its errno mapped.
Errc open_file_or_dir(const ResolvedPath& rp, int flags, unsigned mode, bool keep_nonblock,
                       UniqueFd* out, struct stat* st = nullptr);

// --- symlinks the guest creates or moves (docs/security-model.md, "Symlinks") --------------
//
// No guest operation may leave a symlink in a preopen that resolves outside it for host
// software that later follows it (our resolver never would). A link whose target climbs (`..`)
// or is absolute changes meaning when it, or a directory above it, moves; a target that only
// descends (relative, no `..` component) stays beneath the directory holding the link wherever
// that directory goes. So:
//   - path_symlink accepts only descending targets, and stores an absolute target that names an
//     entry beneath the link's own directory in its descending form (symlink_descending_form);
//   - path_rename and path_link refuse to move or link a symlink whose target does not descend
//     (such links can only come from the operator's tree), and path_rename refuses to move a
//     directory holding one anywhere beneath it.

// True if `target` is a non-empty relative path with no `..` component.
bool symlink_target_descends(std::string_view target);

// The descending form of an absolute symlink target, or nullopt when it has none. `preopen` is
// the guest's absolute name of the preopen the link is made in, `link_path` the link's path
// beneath it (as the guest wrote it). A target naming the link's directory or an entry beneath
// it (`ln -s /tmp/d/f /tmp/d/l`) is the same entry as the relative remainder read from that
// directory (`f`): the directory is the one the link's path resolved to, and the remainder is
// resolved from there. Refused (nullopt): a `..` in the target or in the link's directory (a
// lexical `..` and the resolver's disagree across links), a relative or non-absolute preopen
// name, a target in another directory, another preopen or above. `.` and empty components are
// dropped; a trailing slash is kept (`f/`), the directory itself is `.`.
std::optional<std::string> symlink_descending_form(std::string_view target,
                                                   std::string_view preopen,
                                                   std::string_view link_path);

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

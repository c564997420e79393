// Files in the per-user cache directory that wasmcap trusts (docs/aot.md, "Cache" and "Cold
// start"; docs/security-model.md, "AOT cache"): the primitives every cache record shares, the
// module file records (a module file's identity -> its sha256) and the build identity that
// records which depend on wasmcap's own code name.
//
// One set of trust rules for every record, whichever engine writes it: a record is read only
// when it is a regular file (opened with O_NOFOLLOW) owned by this user and not writable by
// group or others, in a directory with the same properties (open_cache_dir), and only up to a
// bound; it is written 0600 to an O_EXCL temporary and renamed into place. Whoever could write
// such a file could already plant the AOT cache's native code.
#pragma once

#include <sys/stat.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "wasmcap/engine.h"
#include "wasmcap/error.h"

namespace wasmcap::cache {

// Lowercase hex of `n` bytes; lowercase hex sha256 of `data`: libsodium's, or from
// kLibcryptoSha256MinBytes on libcrypto's (loaded on first use; several times faster where the
// CPU has SHA extensions), the same digest either way. sha256_hex_libsodium: always libsodium's
// (tests compare the two).
inline constexpr size_t kLibcryptoSha256MinBytes = 1u << 20;
std::string hex(const unsigned char* p, size_t n);
std::string sha256_hex(const void* data, size_t n);
std::string sha256_hex_libsodium(const void* data, size_t n);
bool is_sha256_hex(std::string_view s);
// sha256_hex of a module's bytes, counted (engine_test_hooks::module_hashes): every hash of a
// module's bytes for a cache key or record goes through it.
std::string module_bytes_sha256(const uint8_t* bytes, size_t size);

// A file we may trust: regular, owned by us, not writable by group or others.
bool trusted_file(int fd);
// Reads `fd` to its end into `out`; false on a read error or past `cap` bytes.
bool read_fd(int fd, std::string* out, size_t cap);
// `path` opened O_RDONLY | O_NOFOLLOW when it is a trusted file (trusted_file); else -1.
int open_trusted(const std::string& path);
// A trusted file's content (at most `cap` bytes) and its stat; false when missing, not trusted
// (symlink, other owner, group/world-writable, not regular), unreadable or larger than `cap`.
bool read_trusted(const std::string& path, size_t cap, std::string* out, struct stat* st = nullptr);
// Creates `path` (0600, O_EXCL | O_NOFOLLOW) holding `data`; false if it exists or on error.
bool write_file(const std::string& path, const std::string& data);
// Replaces `path` with a file holding `data`: written to an O_EXCL temporary next to it
// (PATH.tmpPID, 0600, flock-ed until renamed), then renamed over it. False (nothing left
// behind) on any error; a kill leaves the temporary, for sweep_stale_temporaries.
bool replace_file(const std::string& path, const std::string& data);
// Removes the temporaries of killed replace_file calls in `dir`: PATH.tmpDIGITS files older
// than kStaleTemporarySeconds that nobody holds locked (#37: killed cache writes left them for
// good). Looks at most at kMaxSweptEntries entries.
inline constexpr long kStaleTemporarySeconds = 60;
inline constexpr size_t kMaxSweptEntries = 100000;
void sweep_stale_temporaries(const std::string& dir);
// Removes every file of `dir` whose name starts with `prefix` when there are `max` or more of
// them (records that are only saved work: the cache starts over rather than grow unbounded),
// and, in the same pass, the stale temporaries (sweep_stale_temporaries).
void bound_records(const std::string& dir, std::string_view prefix, size_t max);

// The cache directory: `option`, else $WASMCAP_CACHE_DIR, else $XDG_CACHE_HOME/wasmcap/aot,
// else ~/.cache/wasmcap/aot; created 0700 when missing. io_error when it is not a directory owned
// by this user or is group/world-writable (another user could plant files there).
Result<std::string> open_cache_dir(const std::string& option);
// Where open_cache_dir(option) looks, without creating or checking anything; and the default's
// parent, wasmcap's part of the per-user cache ($XDG_CACHE_HOME/wasmcap, else
// ~/.cache/wasmcap). `ws` keeps both out of workspaces (src/workspace/state_dirs.h): one
// function computes them, for the engines and for it.
Result<std::string> cache_dir_path(const std::string& option);
Result<std::string> cache_root_path();
// The directory of the fast engine's record key (src/engine/fast/validation_records.h):
// $XDG_RUNTIME_DIR/wasmcap, else /run/user/UID/wasmcap, else $TMPDIR-or-/tmp/wasmcap-UID.
std::string record_key_dir();

// Module file records (docs/aot.md, "Cold start"): `file-H` (H: the first 32 hex digits of the
// sha256 of the file's path) maps a module file's identity (device, inode, size, mtime and ctime
// in ns) to the sha256 of its bytes, so a later load of the unchanged file need not hash it.
// recorded_module_sha256 returns the recorded hash when the record is ours (regular, owned by
// this user, not group/world-writable, no symlink), well-formed, names exactly this path and
// identity, and was written more than 2 s after the file's last change; "" otherwise (hash as
// usual). record_module_sha256 writes one (0600, O_EXCL temporary, atomic rename, replacing the
// path's previous record) only when the file's last change is more than 2 s in the past, and
// keeps at most kMaxFileRecords of them (all others are removed when a new one would exceed it).
inline constexpr size_t kMaxFileRecords = 1000;
std::string recorded_module_sha256(const std::string& dir, const ModuleFileIdentity& file);
void record_module_sha256(const std::string& dir, const ModuleFileIdentity& file,
                          const std::string& module_sha256);
// The record's path and exact text (exposed for tests).
std::string module_file_record_path(const std::string& dir, const ModuleFileIdentity& file);
std::string module_file_record(const ModuleFileIdentity& file, const std::string& module_sha256);

// The module's sha256 for a load: known already (given by the caller, or learnt by an earlier
// load), else from the file record when `dir` has a trusted record of the module's file, else
// hashed (and then recorded for the file). The hash stays in `module` for whoever needs it next.
const std::string& module_sha256_for_load(const std::string* dir, const ModuleBytes& module);

// The GNU build ID (lowercase hex) of the loaded ELF object (executable or shared library) whose
// code contains `addr`; "" when it has none or cannot be found. A build ID is a hash the linker
// computes over the object's contents: two builds with different code have different IDs.
std::string object_build_id(const void* addr);

}  // namespace wasmcap::cache

// Validated-module records of the fast engine (docs/fast-interp.md, "Validated-module records";
// why trusting them is sound: docs/security-model.md, "AOT cache").
//
// `valid-SHA` in the cache directory (SHA: the sha256 of the module's bytes) says that this
// build of wasmcap validated exactly those bytes, found them valid and supported, and what the
// load needs from the validating pass (whether the module uses v128, exception handling, whether
// it is within the AOT translator's bounds). A later load of the same
// bytes by the same build reads it instead of validating again. Read and written under the
// AOT cache's rules (cache_files.h): a regular file of this user's, not group/world-writable,
// opened with O_NOFOLLOW, at most kMaxValidationRecordBytes, and exactly the expected text;
// written 0600 to an O_EXCL temporary and renamed. Anything else means "validate as usual".
// No wabt types here (C++20-clean): fast_engine.cc does the validating.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

namespace wasmcap::fast {

inline constexpr size_t kMaxValidationRecordBytes = 1024;  // a record is ~200 bytes
inline constexpr size_t kMaxValidationRecords = 1000;      // then the directory's start over

// The identity of this build's validator: wasmcap's version and the GNU build IDs of the
// loaded objects holding wasmcap's load code and wabt's reader (`wabt_code`, an address in
// wabt's code); "" when either object has no build ID (then no record is read or written).
std::string validation_build_identity(const void* wabt_code);

std::string validation_record_path(const std::string& dir, const std::string& module_sha256);
// What a record says besides "valid": the validating pass's facts the load needs.
struct ValidationFacts {
  bool simd = false;        // uses v128 (the wide layout)
  bool exceptions = false;  // uses exception handling (FeatureScan::exceptions)
  // Within every bound of the AOT translator (!FeatureScan::beyond_aot_bounds): what the AOT
  // engine under --engine auto is told instead of checking the bounds in a pass of its own.
  bool within_aot_bounds = false;
};
// A record's text: its facts, then "mac " and the HMAC-SHA-256 of them under this user's record
// key (record_key): the record is bound to the module's bytes (their sha256) and the build by a
// key no file in the cache directory holds, so a record written by anyone but this user's
// wasmcap (e.g. one a tool planted in a workspace copy of $HOME, carried into the cache by
// `ws apply`) is never trusted. "" when `key` is not a key.
std::string validation_record(const std::string& key, const std::string& build,
                              const std::string& module_sha256, ValidationFacts facts);
// The text the MAC covers (tests: a record without its MAC, as version 3 wrote them).
std::string validation_record_text(const std::string& build, const std::string& module_sha256,
                                   ValidationFacts facts);

// The record key: kRecordKeyBytes random bytes in `record_key_dir()/validation-record-key`,
// created on first use (0600, O_EXCL) in a directory created 0700. The directory is the user's
// runtime directory ($XDG_RUNTIME_DIR/wasmcap, else /run/user/UID/wasmcap, else
// $TMPDIR-or-/tmp/wasmcap-UID), never under $HOME, and both must be private to this user (owned,
// no access for group or others) or there is no key. nullopt (no key) means no record is read
// or written: every module is validated. A key lost at reboot (a tmpfs) costs one validation
// per module.
inline constexpr size_t kRecordKeyBytes = 32;
std::string record_key_dir();
std::optional<std::string> record_key();

// The facts of a trusted record that names exactly `build` and `module_sha256`; nullopt when
// there is none (missing, foreign, damaged, for other bytes or another build).
std::optional<ValidationFacts> recorded_validation(const std::string& dir,
                                                   const std::string& build,
                                                   const std::string& module_sha256);
// Writes the record (replacing any previous file of that name); keeps at most
// kMaxValidationRecords of them. Failures are silent: the record is only saved work.
void record_validation(const std::string& dir, const std::string& build,
                       const std::string& module_sha256, ValidationFacts facts);

// Tests: validating passes the fast engine's load has made (fast_engine.cc).
namespace load_test_hooks {
extern std::atomic<uint64_t> validations;
}

}  // namespace wasmcap::fast

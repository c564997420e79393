// Signed plugin bundles: one file holding a plugin's manifest, its module(s) and an Ed25519
// signature over the manifest's canonical JSON (RFC 8785). The manifest records each module's
// SHA-256, so the one signature covers every byte the plugin runs. Format and signing scheme:
// docs/bundles.md.
//
// Nothing inside a bundle is used before verify() has checked all of it: the container's limits
// and entry names, the signature under a trusted (and not revoked) key over the raw manifest
// bytes, that those bytes are canonical, then every module against its hash. The local registry
// of installed bundles is wasmcap/registry.h.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "wasmcap/error.h"
#include "wasmcap/policy.h"

namespace wasmcap {
namespace bundle {

// --- Limits (each refuses hostile input before it costs more than its size) --------------------

// A whole bundle file; verify_file() refuses a larger file before reading it.
constexpr uint64_t kMaxBundleBytes = uint64_t{256} << 20;
// Entries per bundle: a manifest, a signature and a handful of modules.
constexpr uint32_t kMaxEntries = 64;
// Entry names are relative paths of at most this many bytes.
constexpr size_t kMaxEntryNameBytes = 255;
// One module; wasm modules this large are not plugins.
constexpr uint64_t kMaxModuleBytes = uint64_t{128} << 20;
// The manifest entry: the same cap as any manifest document.
constexpr uint64_t kMaxManifestBytes = policy::kMaxDocumentBytes;

// Reserved entry names. Every other entry is a module listed in the manifest's "modules".
constexpr std::string_view kManifestEntry = "manifest.json";
constexpr std::string_view kSignatureEntry = "manifest.sig";

constexpr size_t kPublicKeyBytes = 32;  // Ed25519
constexpr size_t kSecretKeyBytes = 64;  // libsodium form: seed || public key
constexpr size_t kSignatureBytes = 64;
// The signature entry: the signer's public key, then the detached signature.
constexpr size_t kSignatureEntryBytes = kPublicKeyBytes + kSignatureBytes;

// --- Keys ---------------------------------------------------------------------------------------

struct PublicKey {
  std::array<uint8_t, kPublicKeyBytes> bytes{};
  // Short fingerprint for messages: the first 16 hex digits of SHA-256(public key).
  std::string id() const;
};

struct SecretKey {
  std::array<uint8_t, kSecretKeyBytes> bytes{};
  PublicKey public_key() const;
  ~SecretKey();  // wipes the key
};

// Key file texts (one line each; docs/bundles.md):
//   wasmcap-ed25519-public-v1:<64 lowercase hex>
//   wasmcap-ed25519-secret-v1:<128 lowercase hex>   (libsodium's seed || public key)
std::string public_key_text(const PublicKey& key);
// bundle_invalid for anything but exactly that line (one trailing newline allowed), or a secret
// key whose embedded public key does not match its seed.
Result<PublicKey> parse_public_key(std::string_view text);
Result<SecretKey> parse_secret_key(std::string_view text);
Result<PublicKey> load_public_key(const std::string& path);
Result<SecretKey> load_secret_key(const std::string& path);

// Generates a key pair into DIR/NAME.key (mode 0600) and DIR/NAME.pub (mode 0644), creating DIR
// when missing. Never overwrites: io_error when either file exists. Returns the public key.
Result<PublicKey> keygen(const std::string& dir, const std::string& name);

// --- Container ----------------------------------------------------------------------------------

// Entry type 1 is a regular file, the only type verify() accepts (links and directories are
// refused, so extracting a bundle can never write outside its target).
constexpr uint8_t kEntryFile = 1;

struct Entry {
  std::string name;
  std::vector<uint8_t> data;
  uint8_t type = kEntryFile;
};

// Serializes entries as they are, without any check (pack() checks first; tests use this to
// build hostile bundles).
std::vector<uint8_t> encode(const std::vector<Entry>& entries);

// Why `name` is not a valid entry name (see decode()), or nullopt.
std::optional<std::string> entry_name_problem(std::string_view name);

// Parses a container and checks its structure: magic and version, entry count, every entry's
// type, name (relative, [A-Za-z0-9._-] segments, no '.'/'..'/empty segments) and size against the
// limits above, no duplicate names, no truncation, no trailing bytes. bundle_invalid otherwise.
Result<std::vector<Entry>> decode(const std::vector<uint8_t>& bytes);

// --- Pack and verify ---------------------------------------------------------------------------

// Lowercase hex SHA-256.
std::string sha256_hex(const std::vector<uint8_t>& data);

// Ed25519 detached signature over `message` (for tests that sign hostile manifests).
std::array<uint8_t, kSignatureBytes> sign(std::string_view message, const SecretKey& key);

// Builds a bundle from a manifest file: packs the manifest's `module` plus every module its
// `modules` already names (paths relative to the manifest's directory), writes each one's
// SHA-256 into `modules`, stores the manifest in canonical form and signs that with `key`.
// manifest_invalid for an invalid manifest (or one JCS cannot represent); bundle_invalid for a
// module name that is not a valid entry name or a module over the limits; not_found / io_error.
Result<std::vector<uint8_t>> pack(const std::string& manifest_path, const SecretKey& key);
Result<void> pack_to_file(const std::string& manifest_path, const SecretKey& key,
                          const std::string& out_path);

// --- Trust ---------------------------------------------------------------------------------------

// The keys a host trusts and the keys it has revoked. Revocation wins: a revoked key is refused
// even when it is also in `trusted`, and even when untrusted signers are allowed.
struct TrustStore {
  std::vector<PublicKey> trusted;
  std::vector<PublicKey> revoked;
  std::vector<std::string> revoked_ids;  // PublicKey::id() values (16 lowercase hex digits)

  bool is_revoked(const PublicKey& key) const;
  // In `trusted` and not revoked.
  bool is_trusted(const PublicKey& key) const;
};

struct VerifyOptions {
  TrustStore trust;
  // Accept a valid signature by a key that is neither trusted nor revoked (VerifiedBundle::trusted
  // is false then). `wasmcap bundle install --allow-untrusted`.
  bool allow_untrusted = false;
};

// A manifest whose signature verified: the exact signed bytes and what they mean.
struct SignedManifest {
  policy::Manifest manifest;
  std::string manifest_jcs;  // the signed bytes, which are exactly their own canonical form
  PublicKey signer;
  bool trusted = false;  // the signer is in the trust store (false only with allow_untrusted)
};

// Checks a manifest entry and its signature entry, in this order, interpreting nothing before
// the signature holds:
// 1. the signature entry is kSignatureEntryBytes long (bundle_invalid);
// 2. the signer is not revoked (bundle_revoked, always) and is trusted, unless
//    options.allow_untrusted (bundle_untrusted; also when no key is trusted);
// 3. the Ed25519 signature verifies over the raw manifest bytes, before any JSON parsing
//    (bundle_invalid: tampered);
// 4. the bytes are strict JSON (no duplicate keys, bounded nesting) and exactly their own RFC 8785
//    canonical form (bundle_invalid);
// 5. the manifest is valid (manifest_invalid) and its `modules` names its `module`
//    (bundle_invalid).
Result<SignedManifest> verify_signed_manifest(std::string_view manifest_bytes,
                                              const std::vector<uint8_t>& signature_entry,
                                              const VerifyOptions& options);

struct VerifiedBundle {
  policy::Manifest manifest;
  std::string manifest_jcs;  // the signed bytes
  std::vector<std::pair<std::string, std::vector<uint8_t>>> modules;  // in entry-name order
  PublicKey signer;
  bool trusted = false;                 // see SignedManifest::trusted
  std::vector<uint8_t> signature_entry;  // manifest.sig as stored (signer key + signature)
};

// Verifies a bundle, in this order, and returns its contents only if all of it holds:
// 1. decode() (bundle_invalid);
// 2. manifest.json and manifest.sig present (bundle_invalid);
// 3. verify_signed_manifest() (its errors);
// 4. every module entry is listed in `modules` with a matching SHA-256 and every listed module is
//    present (bundle_invalid).
Result<VerifiedBundle> verify(const std::vector<uint8_t>& bytes, const VerifyOptions& options);
// The same with `trusted` as the trust store and no untrusted signers allowed.
Result<VerifiedBundle> verify(const std::vector<uint8_t>& bytes,
                              const std::vector<PublicKey>& trusted);
// Reads at most kMaxBundleBytes (a larger file is bundle_invalid unread), then verify().
Result<VerifiedBundle> verify_file(const std::string& path, const VerifyOptions& options);
Result<VerifiedBundle> verify_file(const std::string& path, const std::vector<PublicKey>& trusted);

// Reads a whole regular file of at most `limit` bytes (never following a symlink in the last
// component when `no_follow`); a larger file is `too_large` unread, a FIFO or device io_error
// without blocking. not_found / io_error name the path.
Result<std::vector<uint8_t>> read_file_bounded(const std::string& path, uint64_t limit,
                                               ErrorCode too_large, bool no_follow = false);

// A file's identity and times as the kernel reports them: what changes whenever its bytes, its
// name's target or its metadata change. Any write moves the mtime and the ctime; replacing the
// file changes the inode (a reused inode number comes with a new ctime); no unprivileged call
// sets a ctime (utimensat can restore an mtime and sets the ctime to now).
struct FileStamp {
  uint64_t device = 0;
  uint64_t inode = 0;
  uint64_t size = 0;
  uint32_t mode = 0;
  int64_t mtime_ns = 0;
  int64_t ctime_ns = 0;
  bool operator==(const FileStamp&) const = default;
};
// read_file_bounded, also giving the stamp of the file it read, taken from the opened
// descriptor before its first byte was read (a change during or after the read moves it), and
// in `steady` (when given) whether the descriptor's stamp after the read was the same: then the
// bytes are the stamped file's (a change while they were read would have moved it).
Result<std::vector<uint8_t>> read_file_bounded(const std::string& path, uint64_t limit,
                                               ErrorCode too_large, bool no_follow,
                                               FileStamp* stamp, bool* steady = nullptr);
// The stamp of `path` itself (a symbolic link's own, never its target's); nullopt when it cannot
// be had (missing, no permission).
std::optional<FileStamp> stamp_of(const std::string& path);

}  // namespace bundle
}  // namespace wasmcap

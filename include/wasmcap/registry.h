// The local registry of installed bundles: `wasmcap bundle install/list/remove` and
// `wasmcap run NAME[@VERSION]`. Layout, trust store and rules: docs/bundles.md.
//
// Installs verify the bundle first (signature, trust, revocation, module hashes), then stage its
// manifest, signature and modules in a temporary directory inside the registry, rename that into
// place and record it in the SQLite index in one transaction, all under an exclusive lock, so
// concurrent wasmcap processes always see a consistent registry. A run re-verifies what is stored
// (signature over the stored manifest, trust and revocation as they are now, the module's
// SHA-256), so tampering inside the registry is detected, not trusted.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "wasmcap/bundle.h"
#include "wasmcap/error.h"
#include "wasmcap/policy.h"

namespace wasmcap {
namespace registry {

// $WASMCAP_HOME, else $XDG_DATA_HOME/wasmcap, else $HOME/.local/share/wasmcap (relative values
// of the XDG variables are ignored, as the XDG spec says). invalid_argument when none is usable.
Result<std::string> default_home();

// SemVer 2.0.0 precedence of two valid versions: <0, 0 or >0. Build metadata is ignored
// (1.0.0+a and 1.0.0+b have equal precedence).
int compare_versions(std::string_view a, std::string_view b);

// "NAME" or "NAME@VERSION" (a valid plugin name and SemVer version); nullopt otherwise.
struct Reference {
  std::string name;
  std::optional<std::string> version;
};
std::optional<Reference> parse_reference(std::string_view text);

// The trust store: HOME/trust/*.pub trusted, HOME/trust/revoked/*.pub revoked, plus the host
// config's `trust` section (`config` may be null). Every listed key file must load: a broken
// trust or revocation entry is an error, never silently skipped.
Result<bundle::TrustStore> load_trust_store(const std::string& home,
                                            const policy::TrustConfig* config);

// --- Changing the trust store (`wasmcap trust`; docs/bundles.md, "Trust store") ---------------
//
// Each change holds a flock of the HOME/trust directory from its first read to its last write,
// so changes by concurrent processes are serialized, and under that lock removes the
// temporaries (`ID.pub.tmp`) a killed change left behind: no live writer can own one then. Every key file is
// written as git and SQLite write theirs (a temporary written and fsynced, renamed over the
// name, the directory fsynced): a kill or a full disk at any step leaves the old file (or none)
// under the name, never a partial one. Errors are io_error naming the file and the OS error.

// One key file of the store.
struct TrustKeyFile {
  std::string path;
  bundle::PublicKey key;
};
// HOME/trust/*.pub and HOME/trust/revoked/*.pub, each sorted by path (a key may be in both:
// revocation wins). Every *.pub must load (as load_trust_store).
struct TrustKeyFiles {
  std::vector<TrustKeyFile> trusted;
  std::vector<TrustKeyFile> revoked;
};
Result<TrustKeyFiles> list_trust_keys(const std::string& home);

struct TrustChange {
  std::string key_id;
  // The key file written (add, revoke), the one already there (`already`), or every file of the
  // key removed (remove).
  std::vector<std::string> files;
  bool already = false;  // nothing to do: trusted already (add) or revoked already (revoke)
};
// Trusts the public key `key_text` (the text of a .pub file): HOME/trust/ID.pub. bundle_revoked
// when the key is revoked (a revoked key cannot be trusted again).
Result<TrustChange> trust_add_key(const std::string& home, const std::string& key_text);
// Revokes a key, given its public key text or, for a key in the store, its id:
// HOME/trust/revoked/ID.pub is written (durably) before the trusted copy is removed, so an
// interruption in between leaves the key revoked. not_found for an id the store does not hold.
Result<TrustChange> trust_revoke_key(const std::string& home, const std::string& key_text_or_id,
                                     bool is_key_text);
// Removes the trusted key `id` (every file of it); not_found when none.
Result<TrustChange> trust_remove_key(const std::string& home, const std::string& id);
// Undoes trust_revoke_key: removes every HOME/trust/revoked/ file of the key `id` (not_found
// when none). The key is then neither revoked nor trusted: trusting it again is trust_add_key.
// A revocation in a host config (trust.revoked) is the config's, and stays.
Result<TrustChange> trust_unrevoke_key(const std::string& home, const std::string& id);

struct InstallOptions {
  bool allow_untrusted = false;  // a valid signature by an unknown (not revoked) key installs
  bool force = false;  // a downgrade, a same-version replacement or a tool-surface change installs
};

// One installed bundle, as the index records it.
struct Installed {
  std::string name;
  std::string version;
  std::string signer_key;  // 64 lowercase hex digits
  std::string signer_id;   // PublicKey::id()
  bool trusted_at_install = false;
  bool allow_untrusted = false;   // installed only because of --allow-untrusted
  bool forced_downgrade = false;  // installed below a version installed before, with --force
  bool forced_replace = false;    // replaced the same version's other content, with --force
  int64_t installed_at = 0;       // Unix seconds
  std::string source;             // the bundle file it was installed from (absolute)
  std::string manifest_sha256;    // SHA-256 of the stored (signed, canonical) manifest bytes
  std::vector<std::pair<std::string, std::string>> modules;  // path → sha256, in path order
  std::string dir;                // absolute path of its directory in the store
};

enum class InstallOutcome { kInstalled, kAlreadyInstalled, kReplaced };

// One difference in the surface an agent relies on, between the installed manifest and a new
// one (rug-pull defence, docs/bundles.md#tool-changes). `blocking` changes need --force.
struct SurfaceChange {
  std::string line;       // e.g. "tool 'ls': input_schema: '{...}' -> '{...}'" (quoted, bounded)
  // Changed tool fields, and changed requested permissions of a plugin that offers tools (in
  // either version); not tools added or removed.
  bool blocking = false;
};

// The changes from `old_manifest` to `new_manifest` (both JSON texts): requested permissions,
// and per tool every declared field (title, description, schemas, annotations, invoke), plus
// tools added or removed.
std::vector<SurfaceChange> diff_tool_surface(std::string_view old_manifest,
                                             std::string_view new_manifest);

struct InstallResult {
  Installed installed;
  InstallOutcome outcome = InstallOutcome::kInstalled;
  std::vector<std::string> replaced;  // versions whose content this install replaced (--force)
  // Tool-surface changes against the highest version installed before (all of them, blocking or
  // not). Blocking ones were accepted with --force; the install records them (tool_changes).
  std::vector<SurfaceChange> tool_changes;
};

// A bundle resolved for running, re-verified from the store.
struct Resolved {
  Installed installed;
  policy::Manifest manifest;
  std::string module_path;  // the stored file of the manifest's `module`
  // The module's bytes as verified (shared, never changed: resolves of an unchanged bundle in
  // one Registry return the same bytes); null only from resolve_manifest().
  std::shared_ptr<const std::vector<uint8_t>> module_bytes;
  std::string module_sha256;  // verified: equals SHA-256(*module_bytes) and the signed manifest
  bool signer_trusted = false;  // trusted now (false: allowed only by its --allow-untrusted install)
};

// A run of an installed bundle as a grant source (runtime.h RunRequest::plan): its verified
// manifest x `config` (policy::make_plan; module and data paths inside the installed bundle),
// running the stored module file. `wasmcap run NAME` and the MCP server's tools both use it.
policy::Plan plan_for_installed(const Resolved& resolved, const policy::HostConfig& config);

// Current trust status of an installed bundle's signer: "trusted", "revoked", "untrusted-allowed"
// (installed with --allow-untrusted and not trusted now) or "untrusted" (installed as trusted,
// its key no longer in the trust store: it will not run).
std::string trust_status(const Installed& installed, const bundle::TrustStore& trust);

// How a registry is opened (docs/bundles.md#read-only-registries).
enum class Access {
  kReadWrite,  // creates what is missing; install and remove work
  // Never writes anything below HOME: no directory or lock file is created, the lock is taken
  // shared through a read-only descriptor, the index is opened read-only (SQLite mode=ro, and
  // immutable=1 when no write-ahead log is pending), one connection per operation. Every
  // resolve still re-verifies the stored bundle. install/remove fail with io_error naming the
  // read-only registry. For N replicas sharing a read-only volume.
  kReadOnly,
  // kReadOnly when HOME/registry exists and this process may not write it (access(2) W_OK:
  // a read-only mount, or a directory owned by someone else), else kReadWrite.
  kAuto,
};

class Registry {
 public:
  // Opens the registry under `home`: HOME/registry/{index.sqlite3, lock, store/, tmp/}. Read-write
  // creates what is missing; read-only needs an existing registry (not_found otherwise).
  static Result<Registry> open(const std::string& home, Access access = Access::kReadWrite);
  ~Registry();
  Registry(Registry&&) noexcept;
  Registry& operator=(Registry&&) noexcept;

  const std::string& home() const;
  // Opened read-only (explicitly, or kAuto found the registry not writable).
  bool read_only() const;

  // Verifies `bundle_path` against `trust` (+ options.allow_untrusted), then installs it:
  // bundle_revoked / bundle_untrusted / bundle_invalid / manifest_invalid from verification;
  // bundle_conflict for a downgrade (a lower version than one installed now or before) or the
  // same version with other content (other manifest or signer), unless options.force.
  // Installing exactly what is installed already is kAlreadyInstalled and changes nothing.
  Result<InstallResult> install(const std::string& bundle_path, const bundle::TrustStore& trust,
                                const InstallOptions& options);

  // Every installed bundle, by name then version precedence.
  Result<std::vector<Installed>> list();

  // Removes NAME (every version) or NAME@VERSION; not_found when nothing matches. Returns what
  // was removed. The downgrade watermark of NAME is kept.
  Result<std::vector<Installed>> remove(std::string_view name,
                                        const std::optional<std::string>& version);

  // Resolves NAME (the highest version) or NAME@VERSION and re-verifies it (signature over the
  // stored manifest by the recorded signer, revocation and trust as `trust` says now, the
  // manifest's name and version, the module's SHA-256). not_found when not installed;
  // bundle_invalid when the store was modified; bundle_revoked / bundle_untrusted.
  // Within one Registry object, a bundle verified against the same trust store is not read and
  // hashed again while nothing it was verified from changed: every file and directory read (the
  // index, the manifest and signature, the module, the data tree) still has the identity and
  // times it had before it was read, all unchanged for over 2 s then (docs/bundles.md,
  // "Verification of installed bundles"). Anything else, and any other trust store, verifies in
  // full.
  Result<Resolved> resolve(std::string_view name, const std::optional<std::string>& version,
                           const bundle::TrustStore& trust);

  // resolve() without reading the module or the data tree: the stored manifest and signature
  // checked as resolve() checks them (index, signer, trust and revocation now, name and
  // version); module_bytes is null and module_sha256 is the signed hash the module must have.
  // For a command table (docs/shell.md "Commands"): nothing of the bundle may run before its
  // contents_check() has passed.
  Result<Resolved> resolve_manifest(std::string_view name,
                                    const std::optional<std::string>& version,
                                    const bundle::TrustStore& trust);

  // The rest of resolve() for a resolve_manifest() result, to run later (it copies what it
  // needs: it may outlive this object): under the registry's shared lock, reads the module and
  // returns its bytes once they hash to the signed SHA-256 (the bytes returned are the bytes
  // hashed), and checks the data tree file by file. bundle_invalid ("was modified in the
  // registry") when anything differs.
  std::function<Result<std::vector<uint8_t>>()> contents_check(const Resolved& resolved) const;

 private:
  struct Impl;
  explicit Registry(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace registry
}  // namespace wasmcap

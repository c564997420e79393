// The Registry's operations (docs/bundles.md#the-local-registry): install, list, remove and
// resolve, with the free functions (default home, SemVer precedence, references, loading the trust
// store). The layout on disk and the shared internals are in registry_internal.h; the index, its
// schema and Registry::open in registry_db.cc; the content store in registry_store.cc.
// - install: 1. verify completely before touching the registry (and re-check every name and size
//   it writes, so a path never comes from an unchecked string); 2. decide under the lock, in one
//   transaction; 3. stage inside the registry (same filesystem: the rename is atomic), then rename
//   into place; 4. record: the commit is the moment the install happens.
// - resolve: under the shared lock (no install or remove changes the store while its files are
//   read), a bundle modified in the registry (manifest, signature or module hashes) is refused.
#include "bundle/registry_internal.h"
#include "bundle/registry_test_hooks.h"
#include "common/failpoint.h"
#include "engine/cache_files.h"

#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <set>

#include "policy/json_doc.h"
#include "policy/syntax.h"

namespace wasmcap::registry {

namespace fs = std::filesystem;

namespace detail {

tl::unexpected<Error> io_error(const std::string& what, int err) {
  return make_error(ErrorCode::kIo, what + ": " + std::strerror(err));
}

std::string hex(const uint8_t* data, size_t n) {
  std::string out(n * 2 + 1, '\0');
  sodium_bin2hex(out.data(), out.size(), data, n);
  out.pop_back();
  return out;
}

bool is_lower_hex(std::string_view s, size_t n) {
  return s.size() == n && std::all_of(s.begin(), s.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

}  // namespace detail

namespace {

constexpr std::string_view kModulesDir = "modules";

std::string sha256_of(std::string_view s) {
  return bundle::sha256_hex(std::vector<uint8_t>(s.begin(), s.end()));
}

}  // namespace

// --- Free functions ------------------------------------------------------------------------------

Result<std::string> default_home() {
  auto absolute_env = [](const char* name) -> std::optional<std::string> {
    const char* v = std::getenv(name);
    if (v == nullptr || v[0] != '/') return std::nullopt;
    return std::string(v);
  };
  if (const char* v = std::getenv("WASMCAP_HOME"); v != nullptr && v[0] != '\0') {
    if (v[0] != '/') {
      return make_error(ErrorCode::kInvalidArgument,
                        "WASMCAP_HOME must be an absolute path, got '" + std::string(v) + "'");
    }
    return std::string(v);
  }
  if (auto xdg = absolute_env("XDG_DATA_HOME")) return *xdg + "/wasmcap";
  if (auto home = absolute_env("HOME")) return *home + "/.local/share/wasmcap";
  return make_error(ErrorCode::kInvalidArgument,
                    "cannot find the registry: set WASMCAP_HOME (or HOME) to an absolute path");
}

namespace {

// Splits a valid SemVer into its core numbers (as digit strings) and pre-release identifiers.
struct Parsed {
  std::string core[3];
  std::vector<std::string> pre;
};

Parsed parse_semver(std::string_view v) {
  Parsed p;
  size_t plus = v.find('+');
  if (plus != std::string_view::npos) v = v.substr(0, plus);
  size_t dash = v.find('-');
  std::string_view core = v.substr(0, dash);
  if (dash != std::string_view::npos) {
    std::string_view pre = v.substr(dash + 1);
    size_t start = 0;
    while (true) {
      size_t dot = pre.find('.', start);
      p.pre.emplace_back(pre.substr(start, dot == std::string_view::npos ? dot : dot - start));
      if (dot == std::string_view::npos) break;
      start = dot + 1;
    }
  }
  int i = 0;
  size_t start = 0;
  while (i < 3) {
    size_t dot = core.find('.', start);
    p.core[i++] = std::string(core.substr(start, dot == std::string_view::npos ? dot : dot - start));
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  return p;
}

bool all_digits(const std::string& s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// Numeric strings without leading zeros (SemVer forbids them) compare by length, then text.
int compare_numeric(const std::string& a, const std::string& b) {
  if (a.size() != b.size()) return a.size() < b.size() ? -1 : 1;
  return a.compare(b) < 0 ? -1 : (a == b ? 0 : 1);
}

}  // namespace

int compare_versions(std::string_view a, std::string_view b) {
  Parsed x = parse_semver(a), y = parse_semver(b);
  for (int i = 0; i < 3; ++i) {
    if (int c = compare_numeric(x.core[i], y.core[i]); c != 0) return c;
  }
  // A pre-release has lower precedence than the release.
  if (x.pre.empty() != y.pre.empty()) return x.pre.empty() ? 1 : -1;
  for (size_t i = 0; i < std::min(x.pre.size(), y.pre.size()); ++i) {
    const std::string &p = x.pre[i], &q = y.pre[i];
    bool pn = all_digits(p), qn = all_digits(q);
    int c;
    if (pn && qn) {
      c = compare_numeric(p, q);
    } else if (pn != qn) {
      c = pn ? -1 : 1;  // numeric identifiers sort before alphanumeric ones
    } else {
      c = p.compare(q) < 0 ? -1 : (p == q ? 0 : 1);
    }
    if (c != 0) return c;
  }
  if (x.pre.size() != y.pre.size()) return x.pre.size() < y.pre.size() ? -1 : 1;
  return 0;
}

std::optional<Reference> parse_reference(std::string_view text) {
  Reference r;
  size_t at = text.find('@');
  r.name = std::string(text.substr(0, at));
  if (policy::check_plugin_name(r.name)) return std::nullopt;
  if (at != std::string_view::npos) {
    std::string v(text.substr(at + 1));
    if (policy::check_semver(v)) return std::nullopt;
    r.version = std::move(v);
  }
  return r;
}

Result<bundle::TrustStore> load_trust_store(const std::string& home,
                                            const policy::TrustConfig* config) {
  bundle::TrustStore t;
  TrustKeyFiles files;
  WASMCAP_TRY_ASSIGN(files, list_trust_keys(home));
  for (const auto& f : files.trusted) t.trusted.push_back(f.key);
  for (const auto& f : files.revoked) t.revoked.push_back(f.key);
  if (config != nullptr) {
    for (const auto& path : config->keys) {
      auto k = bundle::load_public_key(path);
      if (!k) return make_error(k.error().code, "host config trust.keys: " + k.error().message);
      t.trusted.push_back(*k);
    }
    for (const auto& r : config->revoked) {
      if (is_lower_hex(r, 16)) {
        t.revoked_ids.push_back(r);
      } else if (is_lower_hex(r, 64)) {
        bundle::PublicKey k;
        sodium_hex2bin(k.bytes.data(), k.bytes.size(), r.data(), r.size(), nullptr, nullptr, nullptr);
        t.revoked.push_back(k);
      } else {
        // A revocation that cannot be read must not turn into "nothing revoked".
        auto k = bundle::load_public_key(r);
        if (!k) return make_error(k.error().code, "host config trust.revoked: " + k.error().message);
        t.revoked.push_back(*k);
      }
    }
  }
  return t;
}

std::string trust_status(const Installed& installed, const bundle::TrustStore& trust) {
  bundle::PublicKey pk;
  sodium_hex2bin(pk.bytes.data(), pk.bytes.size(), installed.signer_key.data(),
                 installed.signer_key.size(), nullptr, nullptr, nullptr);
  if (trust.is_revoked(pk)) return "revoked";
  if (trust.is_trusted(pk)) return "trusted";
  return installed.allow_untrusted ? "untrusted-allowed" : "untrusted";
}

// --- Registry ------------------------------------------------------------------------------------

Registry::Registry(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Registry::~Registry() = default;
Registry::Registry(Registry&&) noexcept = default;
Registry& Registry::operator=(Registry&&) noexcept = default;
const std::string& Registry::home() const { return impl_->home; }

bool Registry::read_only() const { return impl_->read_only; }

Result<InstallResult> Registry::install(const std::string& bundle_path,
                                        const bundle::TrustStore& trust,
                                        const InstallOptions& options) {
  Impl& r = *impl_;
  if (r.read_only) return r.refuse_write(("install " + bundle_path).c_str());
  // 1. Verify completely before touching the registry.
  bundle::VerifyOptions vo;
  vo.trust = trust;
  vo.allow_untrusted = options.allow_untrusted;
  auto verified = bundle::verify_file(bundle_path, vo);
  if (!verified) {
    Error e = verified.error();
    if (e.code == ErrorCode::kBundleUntrusted) {
      e.message = bundle_path + ": " + e.message.substr(0, e.message.find(" (no trusted keys")) +
                  "; to trust its signer, get the signer's public key and run `wasmcap trust add "
                  "SIGNER.pub` (it goes to " + r.home + "/trust/), or list it in the host "
                  "config's trust.keys; to install it anyway, use --allow-untrusted (recorded)";
    }
    return tl::unexpected(std::move(e));
  }
  bundle::VerifiedBundle b = std::move(*verified);
  // The container already refused these; install re-checks every name and size it writes, so a
  // path never comes from an unchecked string.
  for (const auto& [name, data] : b.modules) {
    if (auto problem = bundle::entry_name_problem(name)) {
      return make_error(ErrorCode::kBundleInvalid, "module " + name + ": " + *problem);
    }
    if (data.size() > bundle::kMaxModuleBytes) {
      return make_error(ErrorCode::kBundleInvalid, "module " + name + " is too large");
    }
  }

  Installed rec;
  rec.name = b.manifest.name;
  rec.version = b.manifest.version;
  rec.signer_key = hex(b.signer.bytes.data(), b.signer.bytes.size());
  rec.signer_id = b.signer.id();
  rec.trusted_at_install = b.trusted;
  rec.allow_untrusted = !b.trusted;  // only reachable with options.allow_untrusted
  rec.installed_at = static_cast<int64_t>(std::time(nullptr));
  std::error_code ec;
  rec.source = fs::absolute(bundle_path, ec).lexically_normal().string();
  rec.manifest_sha256 = sha256_of(b.manifest_jcs);
  for (const auto& [name, hash] : b.manifest.module_sha256) rec.modules.emplace_back(name, hash);
  std::string modules_text;
  for (const auto& [name, hash] : rec.modules) modules_text += name + " " + hash + "\n";

  // 2. Decide under the lock, in one transaction.
  auto lock = Lock::take(r.lock_path(), true);
  WASMCAP_TRY(lock);
  r.collect_garbage();
  WASMCAP_TRY(r.exec("BEGIN IMMEDIATE"));
  auto rollback = [&](Error e) -> Result<InstallResult> {
    (void)r.exec("ROLLBACK");
    return tl::unexpected(std::move(e));
  };
  auto existing = r.rows_for(rec.name);
  if (!existing) return rollback(existing.error());
  InstallResult result;
  std::vector<Installed> replaced;
  std::string highest;
  bool repair = false;
  for (const auto& e : *existing) {
    if (highest.empty() || compare_versions(e.version, highest) > 0) highest = e.version;
    if (compare_versions(e.version, rec.version) != 0) continue;
    if (e.version == rec.version && e.manifest_sha256 == rec.manifest_sha256 &&
        e.signer_key == rec.signer_key) {
      if (!options.force) {
        (void)r.exec("ROLLBACK");
        result.installed = e;
        result.outcome = InstallOutcome::kAlreadyInstalled;
        return result;
      }
      // --force with the same signed content: install it again, which repairs an installed copy
      // modified in the registry (runs refuse such a copy with bundle_invalid).
      repair = true;
    }
    replaced.push_back(e);
  }
  {
    Stmt s(r.db, "SELECT highest FROM watermarks WHERE name = ?1");
    if (!s.ok()) return rollback(r.db_error("select").value());
    s.bind(1, rec.name);
    if (s.step() == SQLITE_ROW) {
      std::string w = s.text(0);
      if (!policy::check_semver(w) && (highest.empty() || compare_versions(w, highest) > 0)) {
        highest = w;
      }
    }
  }
  if (!replaced.empty() && !repair) {
    if (!options.force) {
      return rollback(Error(
          ErrorCode::kBundleConflict,
          rec.name + " " + replaced.front().version +
              " is installed with other content (manifest sha256 " +
              replaced.front().manifest_sha256.substr(0, 16) + ", signer " +
              replaced.front().signer_id + "; this bundle: " + rec.manifest_sha256.substr(0, 16) +
              ", signer " + rec.signer_id +
              "); a version's content never changes silently: use --force to replace it"));
    }
    rec.forced_replace = true;
  }
  // Rug-pull defence: what tools and permissions the installed version offered is what agents
  // were shown; a bundle changing it installs only with --force, and the change is recorded.
  if (!existing->empty()) {
    const Installed* prev = &existing->front();
    for (const auto& e : *existing) {
      if (compare_versions(e.version, prev->version) > 0) prev = &e;
    }
    auto old_text = bundle::read_file_bounded(prev->dir + "/" + std::string(bundle::kManifestEntry),
                                              bundle::kMaxManifestBytes, ErrorCode::kBundleInvalid,
                                              true);
    std::string old_manifest =
        old_text ? std::string(old_text->begin(), old_text->end()) : std::string();
    result.tool_changes = diff_tool_surface(old_manifest, b.manifest_jcs);
    std::string blocking;
    for (const auto& c : result.tool_changes) {
      if (c.blocking) blocking += "\n  " + c.line;
    }
    if (!blocking.empty() && !options.force) {
      return rollback(Error(ErrorCode::kBundleConflict,
                            rec.name + " " + rec.version + " changes what " + prev->version +
                                " offered to agents:" + blocking +
                                "\nreview the change; install it with --force (recorded)"));
    }
  }
  if (!highest.empty() && compare_versions(rec.version, highest) < 0) {
    if (!options.force) {
      return rollback(Error(ErrorCode::kBundleConflict,
                            "refusing to downgrade " + rec.name + " to " + rec.version + ": " +
                                highest + " is or was installed (use --force to install an "
                                          "older version; it is recorded)"));
    }
    rec.forced_downgrade = true;
  }

  // 3. Stage inside the registry (same filesystem: the rename is atomic), then rename into place.
  std::string id = random_id();
  std::string stage = r.tmp() + "/" + id;
  std::string dest = r.store() + "/" + id;
  auto stage_all = [&]() -> Result<void> {
    WASMCAP_TRY(make_dir(stage, 0755));
    WASMCAP_TRY(write_new(stage + "/" + std::string(bundle::kManifestEntry),
                          reinterpret_cast<const uint8_t*>(b.manifest_jcs.data()),
                          b.manifest_jcs.size()));
    WASMCAP_TRY(write_new(stage + "/" + std::string(bundle::kSignatureEntry),
                          b.signature_entry.data(), b.signature_entry.size()));
    std::string mdir = stage + "/" + std::string(kModulesDir);
    WASMCAP_TRY(make_dir(mdir, 0755));
    for (const auto& [name, data] : b.modules) {
      // Parent directories one segment at a time (each a fresh real directory, never a link).
      size_t pos = 0;
      while ((pos = name.find('/', pos)) != std::string::npos) {
        WASMCAP_TRY(make_dir(mdir + "/" + name.substr(0, pos), 0755));
        ++pos;
      }
      WASMCAP_TRY(write_new(mdir + "/" + name, data.data(), data.size()));
    }
    if (int e = failpoint::hit("registry.install.fsync_stage")) return io_error(stage, e);
    WASMCAP_TRY(fsync_path(stage, O_RDONLY | O_DIRECTORY));
    if (int e = failpoint::hit("registry.install.rename")) return io_error(dest, e);
    if (::rename(stage.c_str(), dest.c_str()) != 0) return io_error(dest, errno);
    if (int e = failpoint::hit("registry.install.fsync_store")) return io_error(r.store(), e);
    return fsync_path(r.store(), O_RDONLY | O_DIRECTORY);
  };
  if (auto s = stage_all(); !s) {
    remove_tree(stage);
    remove_tree(dest);
    return rollback(s.error());
  }

  // 4. Record: the commit is the moment the install happens.
  auto record = [&]() -> Result<void> {
    for (const auto& e : replaced) {
      Stmt d(r.db, "DELETE FROM bundles WHERE name = ?1 AND version = ?2");
      d.bind(1, e.name).bind(2, e.version);
      if (d.step() != SQLITE_DONE) return r.db_error("delete");
    }
    std::string sql = std::string("INSERT INTO bundles(") + kColumns +
                      ") VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)";
    Stmt s(r.db, sql.c_str());
    s.bind(1, rec.name).bind(2, rec.version).bind(3, rec.signer_key);
    s.bind(4, int64_t{rec.trusted_at_install}).bind(5, int64_t{rec.allow_untrusted});
    s.bind(6, int64_t{rec.forced_downgrade}).bind(7, int64_t{rec.forced_replace});
    s.bind(8, rec.installed_at).bind(9, rec.source).bind(10, rec.manifest_sha256);
    s.bind(11, modules_text).bind(12, id);
    if (s.step() != SQLITE_DONE) return r.db_error("insert");
    std::string changes;
    for (const auto& c : result.tool_changes) {
      if (c.blocking) changes += c.line + "\n";
    }
    if (!changes.empty()) {
      Stmt t(r.db, "INSERT INTO tool_changes(name, version, installed_at, changes) "
                   "VALUES(?1, ?2, ?3, ?4)");
      t.bind(1, rec.name).bind(2, rec.version).bind(3, rec.installed_at).bind(4, changes);
      if (t.step() != SQLITE_DONE) return r.db_error("tool_changes");
    }
    if (highest.empty() || compare_versions(rec.version, highest) > 0) {
      Stmt w(r.db, "INSERT INTO watermarks(name, highest) VALUES(?1, ?2) "
                   "ON CONFLICT(name) DO UPDATE SET highest = excluded.highest");
      w.bind(1, rec.name).bind(2, rec.version);
      if (w.step() != SQLITE_DONE) return r.db_error("watermark");
    }
    if (int e = failpoint::hit("registry.install.commit")) return io_error(r.db_path(), e);
    return r.exec("COMMIT");
  };
  if (auto s = record(); !s) {
    (void)r.exec("ROLLBACK");
    remove_tree(dest);
    return tl::unexpected(s.error());
  }
  r.checkpoint();
  for (const auto& e : replaced) {
    (void)failpoint::hit("registry.install.remove_replaced");  // kill only: a leftover tree
    remove_tree(e.dir);
    result.replaced.push_back(e.version);
  }
  rec.dir = dest;
  result.installed = std::move(rec);
  result.outcome = replaced.empty() ? InstallOutcome::kInstalled : InstallOutcome::kReplaced;
  return result;
}

Result<std::vector<Installed>> Registry::list() {
  Impl& r = *impl_;
  auto lock = r.lock(false);
  WASMCAP_TRY(lock);
  Impl::ReadSession session(r);
  WASMCAP_TRY(session.status);
  std::string sql = std::string("SELECT ") + kColumns + " FROM bundles";
  Stmt s(r.db, sql.c_str());
  if (!s.ok()) return r.db_error("select");
  std::vector<Installed> out;
  int rc;
  while ((rc = s.step()) == SQLITE_ROW) {
    Installed i;
    WASMCAP_TRY_ASSIGN(i, r.row(s));
    out.push_back(std::move(i));
  }
  if (rc != SQLITE_DONE) return r.db_error("select");
  std::sort(out.begin(), out.end(), [](const Installed& a, const Installed& b) {
    if (a.name != b.name) return a.name < b.name;
    return compare_versions(a.version, b.version) < 0;
  });
  return out;
}

Result<std::vector<Installed>> Registry::remove(std::string_view name,
                                                const std::optional<std::string>& version) {
  Impl& r = *impl_;
  if (r.read_only) return r.refuse_write(("remove " + std::string(name)).c_str());
  auto lock = Lock::take(r.lock_path(), true);
  WASMCAP_TRY(lock);
  r.collect_garbage();
  WASMCAP_TRY(r.exec("BEGIN IMMEDIATE"));
  auto rows = r.rows_for(name);
  if (!rows) {
    (void)r.exec("ROLLBACK");
    return tl::unexpected(rows.error());
  }
  std::vector<Installed> removed;
  for (auto& e : *rows) {
    if (!version || e.version == *version) removed.push_back(std::move(e));
  }
  if (removed.empty()) {
    (void)r.exec("ROLLBACK");
    return make_error(ErrorCode::kNotFound,
                      "no installed bundle " + std::string(name) + (version ? "@" + *version : "") +
                          " (see wasmcap bundle list)");
  }
  for (const auto& e : removed) {
    Stmt d(r.db, "DELETE FROM bundles WHERE name = ?1 AND version = ?2");
    d.bind(1, e.name).bind(2, e.version);
    if (d.step() != SQLITE_DONE) {
      auto err = r.db_error("delete");
      (void)r.exec("ROLLBACK");
      return err;
    }
  }
  if (int e = failpoint::hit("registry.remove.commit")) {
    (void)r.exec("ROLLBACK");
    return io_error(r.db_path(), e);
  }
  WASMCAP_TRY(r.exec("COMMIT"));
  r.checkpoint();
  for (const auto& e : removed) {
    // After the commit the bundle is gone; a kill here leaves its tree, which no row names and
    // the next install or remove collects (collect_garbage).
    (void)failpoint::hit("registry.remove.delete_tree");
    remove_tree(e.dir);
  }
  return removed;
}

policy::Plan plan_for_installed(const Resolved& resolved, const policy::HostConfig& config) {
  policy::Plan plan = policy::make_plan(resolved.manifest, config, resolved.installed.dir + "/modules");
  plan.module_path = resolved.module_path;
  return plan;
}

namespace {

tl::unexpected<Error> tampered(const Installed& in, const std::string& what) {
  return make_error(ErrorCode::kBundleInvalid,
                    "installed bundle " + in.name + "@" + in.version + " was modified in the "
                        "registry (" + what + "); refusing to run it. Remove and re-install: "
                        "wasmcap bundle remove " + in.name + "@" + in.version);
}

// The other half, under the caller's shared lock: the module file against its signed SHA-256
// (the bytes returned are the bytes hashed: what runs is what was checked), then the data tree.
// It runs at each first use of a bundle in a `wasmcap sh` process (shell::ToolModule), and in
// resolve() unless its in-process verified state vouches for the unchanged bundle ("Verified
// state" below). Every data file is hashed each time; the module's hash may come from the AOT
// cache's `file-H` record of the unchanged file (docs/security-model.md, "Skipping the module's
// hash"): kept where the store's writers cannot write — the user's cache directory with its
// ownership checks (engine/cache_files.h), never the registry, whose threat is exactly a writer
// of the store (a record beside it would be theirs to forge) — and written and trusted only more
// than 2 s after the file's last change.
//
// `stamps` (may be null): each file and directory it reads, with its stamp from before the read
// (resolve()'s verified state).
using Stamps = std::vector<std::pair<std::string, bundle::FileStamp>>;

void add_stamp(Stamps* stamps, const std::string& path, const bundle::FileStamp& st) {
  if (stamps != nullptr) stamps->emplace_back(path, st);
}
// A path's stamp now, an absent path's the empty stamp (one that no existing file has).
bundle::FileStamp stamp_now(const std::string& path) {
  return bundle::stamp_of(path).value_or(bundle::FileStamp{});
}
// Adds `path` with its stamp now (a directory before it is listed, a file not read here).
void stamp_path(Stamps* stamps, const std::string& path) {
  if (stamps != nullptr) stamps->emplace_back(path, stamp_now(path));
}

Result<std::vector<uint8_t>> check_contents(const Installed& in, const policy::Manifest& m,
                                            const std::string& module_path,
                                            const std::string& want, Stamps* stamps = nullptr) {
  // The directory the module and the data tree are named in: an entry replaced or added there
  // moves its times.
  stamp_path(stamps, in.dir + "/" + std::string(kModulesDir));
  bundle::FileStamp read_stamp;
  bool steady = false;
  auto bytes = bundle::read_file_bounded(module_path, bundle::kMaxModuleBytes,
                                         ErrorCode::kBundleInvalid, true, &read_stamp, &steady);
  if (!bytes) return tampered(in, bytes.error().message);
  add_stamp(stamps, module_path, read_stamp);
  // The module's hash as the engines take it (cache::module_sha256_for_load): from the cache's
  // record of the unchanged file when there is one (a new process need not hash megabytes the
  // last one hashed; docs/bundles.md "Verification of installed bundles"), else computed, and
  // recorded. Only a file whose stamp held through the read is described by its identity.
  ModuleBytes module(*bytes);
  std::optional<std::string> record_dir;
  if (steady) {
    module.with_file(ModuleFileIdentity{module_path, read_stamp.device, read_stamp.inode,
                                        read_stamp.size, read_stamp.mtime_ns, read_stamp.ctime_ns});
    if (auto d = cache::open_cache_dir("")) record_dir = std::move(*d);
  }
  if (cache::module_sha256_for_load(record_dir ? &*record_dir : nullptr, module) != want) {
    return tampered(in, "module " + m.module + ": sha256 mismatch");
  }
  if (m.data) {
    // The data tree is mounted as it is in the store, so it is re-verified like the module: every
    // signed file hashes to its signed SHA-256 (opened without following a link), and the tree
    // holds nothing else (no extra file, link, or special file a store writer slipped in).
    const std::string& tree = m.data->path;
    std::string prefix = tree + "/";
    std::string root = in.dir + "/" + std::string(kModulesDir) + "/" + tree;
    size_t listed = 0;
    for (const auto& [n, h] : m.module_sha256) {
      if (n.compare(0, prefix.size(), prefix) != 0) continue;
      ++listed;
      const std::string path = in.dir + "/" + std::string(kModulesDir) + "/" + n;
      auto data = bundle::read_file_bounded(path, bundle::kMaxModuleBytes,
                                            ErrorCode::kBundleInvalid, true, &read_stamp);
      if (!data) return tampered(in, data.error().message);
      add_stamp(stamps, path, read_stamp);
      if (bundle::sha256_hex(*data) != h) {
        return tampered(in, "data file " + n + ": sha256 mismatch");
      }
    }
    std::error_code ec;
    size_t found = 0;
    // Each directory's stamp before it is listed (an entry added or removed moves it).
    stamp_path(stamps, root);
    auto st = fs::symlink_status(root, ec);
    if (ec || !fs::is_directory(st)) return tampered(in, "data tree " + tree + " is not a directory");
    fs::recursive_directory_iterator it(root, ec), end;
    for (; !ec && it != end; it.increment(ec)) {
      auto s = it->symlink_status(ec);
      if (ec) break;
      if (fs::is_directory(s)) {
        stamp_path(stamps, it->path().string());
        continue;
      }
      if (!fs::is_regular_file(s)) {
        return tampered(in, "data tree " + tree + " holds a link or special file");
      }
      if (++found > listed) break;
    }
    if (ec) return tampered(in, "data tree " + tree + ": " + ec.message());
    if (found != listed) {
      return tampered(in, "data tree " + tree + " holds files the bundle did not sign");
    }
  }
  return std::move(*bytes);
}

}  // namespace

// The signed half of resolve(), under the caller's shared lock and read session: the row, the
// stored manifest and signature against the index and the trust store, the manifest's name and
// version. Nothing of the module or the data tree is read (check_contents).
Result<Resolved> Registry::Impl::resolve_signed(std::string_view name,
                                                const std::optional<std::string>& version,
                                                const bundle::TrustStore& trust,
                                                Stamps* stamps) {
  std::vector<Installed> rows;
  WASMCAP_TRY_ASSIGN(rows, rows_for(name));
  const Installed* pick = nullptr;
  for (const auto& e : rows) {
    if (version) {
      if (e.version == *version) pick = &e;
    } else if (pick == nullptr || compare_versions(e.version, pick->version) > 0) {
      pick = &e;
    }
  }
  if (pick == nullptr) {
    std::vector<std::string> versions;
    for (const auto& e : rows) versions.push_back(e.version);
    std::sort(versions.begin(), versions.end(),
              [](const std::string& a, const std::string& b) { return compare_versions(a, b) < 0; });
    std::string have;
    for (const auto& v : versions) have += (have.empty() ? "" : ", ") + v;
    std::string what = std::string(name) + (version ? "@" + *version : "");
    std::string advice = "; installed versions: " + have;
    if (have.empty()) {
      auto near = nearest_name(name);
      advice = near ? "; did you mean " + *near + "?"
                    : "; install it with: wasmcap bundle install FILE";
    }
    return make_error(ErrorCode::kNotFound,
                      "no installed bundle " + what + advice +
                          " (see wasmcap bundle list; a module path must end in .wasm or .wat or "
                          "contain a /)");
  }
  Resolved out;
  out.installed = *pick;
  const Installed& in = out.installed;
  bundle::FileStamp read_stamp;
  auto manifest = bundle::read_file_bounded(in.dir + "/manifest.json", bundle::kMaxManifestBytes,
                                            ErrorCode::kBundleInvalid, true, &read_stamp);
  if (!manifest) return tampered(in, manifest.error().message);
  add_stamp(stamps, in.dir + "/manifest.json", read_stamp);
  auto sig = bundle::read_file_bounded(in.dir + "/manifest.sig", bundle::kSignatureEntryBytes,
                                       ErrorCode::kBundleInvalid, true, &read_stamp);
  if (!sig) return tampered(in, sig.error().message);
  add_stamp(stamps, in.dir + "/manifest.sig", read_stamp);
  std::string_view text(reinterpret_cast<const char*>(manifest->data()), manifest->size());
  if (sha256_of(text) != in.manifest_sha256) return tampered(in, "manifest.json changed");
  if (sig->size() != bundle::kSignatureEntryBytes ||
      hex(sig->data(), bundle::kPublicKeyBytes) != in.signer_key) {
    return tampered(in, "manifest.sig names another signer");
  }
  bundle::VerifyOptions vo;
  vo.trust = trust;
  vo.allow_untrusted = in.allow_untrusted;
  auto sm = bundle::verify_signed_manifest(text, *sig, vo);
  if (!sm) {
    const Error& e = sm.error();
    if (e.code == ErrorCode::kBundleRevoked) {
      return make_error(e.code, "installed bundle " + in.name + "@" + in.version + ": " +
                                    e.message + "; remove it: wasmcap bundle remove " + in.name +
                                    "@" + in.version);
    }
    if (e.code == ErrorCode::kBundleUntrusted) {
      return make_error(e.code, "installed bundle " + in.name + "@" + in.version +
                                    " was installed as trusted, but its signer " + in.signer_id +
                                    " is no longer in the trust store; restore the key, or "
                                    "re-install with --allow-untrusted");
    }
    return tampered(in, e.to_string());
  }
  if (sm->manifest.name != in.name || sm->manifest.version != in.version) {
    return tampered(in, "the manifest is " + sm->manifest.name + "@" + sm->manifest.version);
  }
  out.signer_trusted = sm->trusted;
  out.manifest = std::move(sm->manifest);
  // verify_signed_manifest checked the name is a plain relative entry name and is listed.
  for (const auto& [n, h] : out.manifest.module_sha256) {
    if (n == out.manifest.module) out.module_sha256 = h;
  }
  out.module_path = in.dir + "/" + std::string(kModulesDir) + "/" + out.manifest.module;
  return out;
}

// --- Verified state ------------------------------------------------------------------------
//
// A full verification reads the index, the manifest and its signature, the module and the data
// tree, and checks the signature (Ed25519) and every hash (SHA-256 of megabytes). Its
// conclusion holds for as long as nothing it read has changed and the trust store is the same.
// Each file and directory it read was stamped before the read (bundle::FileStamp: device, inode,
// size, mode, mtime and ctime in ns); if a later resolve finds every one of them with the same
// stamp, the bytes there are the bytes verified: a write moves the mtime and ctime, a replaced
// file has another inode (a reused number has a new ctime), an added or removed entry moves its
// directory's times, and no unprivileged call sets a ctime. Times move by clock ticks: a write
// within the tick of the stamp would not show, so a conclusion is kept only when every stamp was
// over 2 s old when taken. What remains is what controls file times: root, a changed clock, or
// the server of a network or FUSE filesystem holding the registry; the registry's own threat, a
// writer of its files, cannot hide a change. The record lives in this process only (the
// Registry object): no file on disk vouches for anything.

namespace {

std::atomic<int64_t> g_settled_ns{2000000000};
std::atomic<uint64_t> g_full_verifications{0};

int64_t now_ns() {
  struct timespec t {};
  clock_gettime(CLOCK_REALTIME, &t);
  return static_cast<int64_t>(t.tv_sec) * 1000000000 + t.tv_nsec;
}

// Every key the store holds, in its order (any change, a revocation above all, is another text).
std::string trust_fingerprint(const bundle::TrustStore& t) {
  std::string f = "trusted";
  auto add = [&f](const std::string& item) {
    f.push_back(' ');
    f.append(item);
  };
  for (const auto& k : t.trusted) add(hex(k.bytes.data(), k.bytes.size()));
  f.append("\nrevoked");
  for (const auto& k : t.revoked) add(hex(k.bytes.data(), k.bytes.size()));
  f.append("\nrevoked-ids");
  for (const auto& id : t.revoked_ids) add(id);
  return f;
}

bool settled(const Stamps& stamps, int64_t taken_ns) {
  const int64_t need = g_settled_ns.load(std::memory_order_relaxed);
  for (const auto& entry : stamps) {
    const bundle::FileStamp& st = entry.second;
    // An empty regular file's content is its size: any write that leaves bytes in it shows in
    // the size, whatever the clock tick (the index's write-ahead log, emptied and reopened by
    // every connection).
    if (S_ISREG(st.mode) && st.size == 0) continue;
    if (taken_ns - st.mtime_ns <= need || taken_ns - st.ctime_ns <= need) return false;
  }
  return true;
}

}  // namespace

namespace test_hooks {
void set_settled_ns(int64_t ns) { g_settled_ns.store(ns, std::memory_order_relaxed); }
uint64_t full_verifications() { return g_full_verifications.load(std::memory_order_relaxed); }
}  // namespace test_hooks

Result<Resolved> Registry::resolve(std::string_view name, const std::optional<std::string>& version,
                                   const bundle::TrustStore& trust) {
  Impl& r = *impl_;
  // Shared: no install or remove changes the store while its files are read.
  auto lock = r.lock(false);
  WASMCAP_TRY(lock);
  const std::string key = std::string(name) + "@" + version.value_or("");
  std::string fingerprint = trust_fingerprint(trust);
  {
    std::lock_guard<std::mutex> g(r.verified_mu);
    auto it = r.verified.find(key);
    if (it != r.verified.end()) {
      bool same = it->second.trust == fingerprint;
      for (size_t i = 0; same && i < it->second.stamps.size(); ++i) {
        same = stamp_now(it->second.stamps[i].first) == it->second.stamps[i].second;
      }
      if (same) return it->second.resolved;
      r.verified.erase(it);  // changed: verified in full below, and recorded again if it holds
    }
  }
  g_full_verifications.fetch_add(1, std::memory_order_relaxed);
  const int64_t taken = now_ns();
  Stamps stamps;
  // The index first: which version is picked and where it is stored (its write-ahead log holds
  // committed changes not yet copied into the file).
  for (const std::string& p : {r.db_path(), r.db_path() + "-wal"}) stamp_path(&stamps, p);
  Impl::ReadSession session(r);
  WASMCAP_TRY(session.status);
  Resolved out;
  WASMCAP_TRY_ASSIGN(out, r.resolve_signed(name, version, trust, &stamps));
  std::vector<uint8_t> bytes;
  WASMCAP_TRY_ASSIGN(bytes, check_contents(out.installed, out.manifest, out.module_path,
                                           out.module_sha256, &stamps));
  out.module_bytes = std::make_shared<const std::vector<uint8_t>>(std::move(bytes));
  if (settled(stamps, taken)) {
    std::lock_guard<std::mutex> g(r.verified_mu);
    r.verified[key] = Impl::Verified{std::move(fingerprint), std::move(stamps), out};
  }
  return out;
}

Result<Resolved> Registry::resolve_manifest(std::string_view name,
                                            const std::optional<std::string>& version,
                                            const bundle::TrustStore& trust) {
  Impl& r = *impl_;
  auto lock = r.lock(false);
  WASMCAP_TRY(lock);
  Impl::ReadSession session(r);
  WASMCAP_TRY(session.status);
  return r.resolve_signed(name, version, trust);
}

std::function<Result<std::vector<uint8_t>>()> Registry::contents_check(const Resolved& resolved) const {
  // Self-contained (copies, no reference to this Registry): a shell session outlives the
  // registry object its command table was built from.
  return [lock_path = impl_->lock_path(), read_only = impl_->read_only, in = resolved.installed,
          m = resolved.manifest, module_path = resolved.module_path,
          want = resolved.module_sha256]() -> Result<std::vector<uint8_t>> {
    // Shared, as resolve(): no install or remove changes the store while its files are read.
    auto lock = Lock::take(lock_path, false, read_only);
    WASMCAP_TRY(lock);
    return check_contents(in, m, module_path, want);
  };
}

}  // namespace wasmcap::registry

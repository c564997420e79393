// The registry's index (HOME/registry/index.sqlite3): libsqlite3 loaded on the first open of an
// index, not linked (a `wasmcap run` of a plain module never maps it; docs/aot.md, "Cold start"),
// the schema, the statements' column list, the checked reading of rows, and Registry::open.
// - Registry::open: schema creation is itself serialized under the exclusive lock (two first runs
//   must not race on CREATE TABLE); an index of an unknown schema version is refused.
// - row: the index is data on disk like the store, so values used as paths or keys are validated
//   before use (a malformed row is refused: the index was modified).
// - open_read_only_db: one connection per operation, opened under the shared lock and closed
//   before it is released; immutable=1 holds only while the flock keeps writers out, and a pending
//   write-ahead log is read with mode=ro instead. The path is percent-encoded for the URI ('?', '#'
//   and '%' would otherwise end or escape the path).
#include "bundle/registry_internal.h"

#include <sodium.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <filesystem>
#include <mutex>

#ifndef WASMCAP_LIBSQLITE3_SONAME
#define WASMCAP_LIBSQLITE3_SONAME "libsqlite3.so.0"
#endif

#include "common/system_lib.h"
#include "policy/json_doc.h"
#include "policy/syntax.h"

namespace wasmcap::registry::detail {

namespace {

SqliteApi g_sqlite;
const SqliteApi* g_sqlite_loaded = nullptr;
std::string g_sqlite_error;

// Loads libsqlite3 once (by the soname this build was configured against); nullptr with the
// reason in g_sqlite_error when it cannot be.
const SqliteApi* load_sqlite() {
  static std::once_flag once;
  std::call_once(once, [] {
    wasmcap::syslib::Library lib(WASMCAP_LIBSQLITE3_SONAME);
    auto get = [&](auto& fn, const char* name) { lib.get(&fn, name); };
    SqliteApi& a = g_sqlite;
    get(a.open_v2, "sqlite3_open_v2");
    get(a.prepare_v2, "sqlite3_prepare_v2");
    get(a.finalize, "sqlite3_finalize");
    get(a.bind_text, "sqlite3_bind_text");
    get(a.bind_int64, "sqlite3_bind_int64");
    get(a.step, "sqlite3_step");
    get(a.column_text, "sqlite3_column_text");
    get(a.column_bytes, "sqlite3_column_bytes");
    get(a.column_int64, "sqlite3_column_int64");
    get(a.errmsg, "sqlite3_errmsg");
    get(a.close, "sqlite3_close");
    get(a.exec, "sqlite3_exec");
    get(a.free, "sqlite3_free");
    get(a.wal_checkpoint_v2, "sqlite3_wal_checkpoint_v2");
    get(a.busy_timeout, "sqlite3_busy_timeout");
    if (lib.ok()) g_sqlite_loaded = &g_sqlite;  // the library stays open for the life of the process
    g_sqlite_error = lib.error();
  });
  return g_sqlite_loaded;
}

}  // namespace

// The loaded functions. Every use follows a successful open (sqlite_open below), which loaded
// them: a database handle cannot exist otherwise.
const SqliteApi& sq() { return g_sqlite; }

namespace {

// sqlite3_open_v2 through the loaded library; SQLITE_CANTOPEN with *db = nullptr when the
// library cannot be loaded (g_sqlite_error says why).
int sqlite_open(const char* path, sqlite3** db, int flags) {
  if (load_sqlite() == nullptr) {
    *db = nullptr;
    return SQLITE_CANTOPEN;
  }
  return g_sqlite.open_v2(path, db, flags, nullptr);
}

}  // namespace

const char* kColumns =
    "name, version, signer_key, trusted_at_install, allow_untrusted, forced_downgrade, "
    "forced_replace, installed_at, source, manifest_sha256, modules, store_id";

}  // namespace wasmcap::registry::detail

namespace wasmcap::registry {

namespace fs = std::filesystem;

namespace {

constexpr int kSchemaVersion = 1;

}  // namespace


// A row of the bundles table, checked: the index is data on disk like the store, so values
// used as paths or keys are validated before use.
Result<Installed> Registry::Impl::row(const Stmt& s) const {
  Installed i;
  i.name = s.text(0);
  i.version = s.text(1);
  i.signer_key = s.text(2);
  i.trusted_at_install = s.integer(3) != 0;
  i.allow_untrusted = s.integer(4) != 0;
  i.forced_downgrade = s.integer(5) != 0;
  i.forced_replace = s.integer(6) != 0;
  i.installed_at = s.integer(7);
  i.source = s.text(8);
  i.manifest_sha256 = s.text(9);
  std::string modules = s.text(10);
  std::string id = s.text(11);
  if (policy::check_plugin_name(i.name) || policy::check_semver(i.version) ||
      !is_lower_hex(i.signer_key, 64) || !is_lower_hex(i.manifest_sha256, 64) ||
      !is_lower_hex(id, kStoreIdHexDigits)) {
    return make_error(ErrorCode::kBundleInvalid,
                      "registry index " + root + "/index.sqlite3 holds a malformed row for " +
                          policy::quote(i.name) +
                          " (the index was modified; remove and re-install the bundle)");
  }
  bundle::PublicKey pk;
  sodium_hex2bin(pk.bytes.data(), pk.bytes.size(), i.signer_key.data(), i.signer_key.size(),
                 nullptr, nullptr, nullptr);
  i.signer_id = pk.id();
  // modules: "PATH SHA256\n" lines (for listing; runs re-verify from the signed manifest).
  size_t pos = 0;
  while (pos < modules.size()) {
    size_t nl = modules.find('\n', pos);
    if (nl == std::string::npos) nl = modules.size();
    std::string line = modules.substr(pos, nl - pos);
    size_t sp = line.rfind(' ');
    if (sp != std::string::npos) i.modules.emplace_back(line.substr(0, sp), line.substr(sp + 1));
    pos = nl + 1;
  }
  i.dir = store() + "/" + id;
  return i;
}

Result<std::vector<Installed>> Registry::Impl::rows_for(std::string_view name) {
  std::string sql = std::string("SELECT ") + kColumns + " FROM bundles WHERE name = ?1";
  Stmt s(db, sql.c_str());
  if (!s.ok()) return db_error("select");
  s.bind(1, std::string(name));
  std::vector<Installed> out;
  int rc;
  while ((rc = s.step()) == SQLITE_ROW) {
    Installed i;
    WASMCAP_TRY_ASSIGN(i, row(s));
    out.push_back(std::move(i));
  }
  if (rc != SQLITE_DONE) return db_error("select");
  return out;
}

namespace {

// Edits (insert, delete, substitute, swap of neighbours) from a to b, or `cap` + 1 when more.
// Names are at most 64 bytes (the plugin name rule), so the table is small.
size_t edit_distance(std::string_view a, std::string_view b, size_t cap) {
  if ((a.size() > b.size() ? a.size() - b.size() : b.size() - a.size()) > cap) return cap + 1;
  std::vector<std::vector<size_t>> d(a.size() + 1, std::vector<size_t>(b.size() + 1));
  for (size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
  for (size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    for (size_t j = 1; j <= b.size(); ++j) {
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1,
                          d[i - 1][j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return std::min(d[a.size()][b.size()], cap + 1);
}

}  // namespace

std::optional<std::string> Registry::Impl::nearest_name(std::string_view name) {
  if (name.empty() || name.size() > 64) return std::nullopt;  // not a bundle name
  Stmt s(db, "SELECT DISTINCT name FROM bundles ORDER BY name");
  if (!s.ok()) return std::nullopt;
  const size_t cap = std::min<size_t>(2, (name.size() - 1) / 2);
  std::optional<std::string> best;
  size_t best_d = cap + 1;
  while (s.step() == SQLITE_ROW) {
    std::string candidate = s.text(0);
    size_t dist = edit_distance(name, candidate, cap);
    if (dist < best_d) {
      best_d = dist;
      best = std::move(candidate);
    }
  }
  return best;
}

namespace {

// RFC 3986 percent-encoding of a path for an SQLite URI filename ('?', '#' and '%' would
// otherwise end or escape the path).
std::string uri_path(const std::string& path) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : path) {
    if (std::isalnum(c) || c == '/' || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

}  // namespace

Result<void> Registry::Impl::open_read_only_db() {
  close_db();
  // immutable=1 reads the database file alone: no -shm to create, no lock bytes to take (a
  // read-only mount has neither). It would ignore a pending write-ahead log, so when one holds
  // data (a writer crashed before its checkpoint, or is mid-way on a writable volume) the index is
  // opened mode=ro instead, which reads the log through its existing -shm, or fails cleanly.
  struct stat st {};
  bool wal_pending = ::stat((db_path() + "-wal").c_str(), &st) == 0 && st.st_size > 0;
  std::string uri = "file:" + uri_path(db_path()) + (wal_pending ? "?mode=ro" : "?mode=ro&immutable=1");
  int rc = sqlite_open(uri.c_str(), &db,
                       SQLITE_OPEN_READONLY | SQLITE_OPEN_URI | SQLITE_OPEN_NOFOLLOW |
                           SQLITE_OPEN_FULLMUTEX);
  if (load_sqlite() == nullptr) return make_error(ErrorCode::kIo, db_path() + ": " + g_sqlite_error);
  if (rc != SQLITE_OK) {
    auto e = db_error(wal_pending ? "open read-only (a write-ahead log is pending: open the "
                                    "registry read-write once, e.g. wasmcap bundle list, to "
                                    "checkpoint it)"
                                  : "open read-only");
    close_db();
    return e;
  }
  sq().busy_timeout(db, 30000);
  Stmt s(db, "SELECT value FROM meta WHERE key = 'schema_version'");
  if (s.step() != SQLITE_ROW || s.text(0) != std::to_string(kSchemaVersion)) {
    auto e = make_error(ErrorCode::kIo, db_path() + ": not a registry index of a known schema "
                                                    "version (written by another wasmcap version?)");
    close_db();
    return e;
  }
  return {};
}

Result<Registry> Registry::open(const std::string& home, Access access) {
  if (home.empty() || home[0] != '/') {
    return make_error(ErrorCode::kInvalidArgument, "registry home must be an absolute path");
  }
  if (sodium_init() < 0) return make_error(ErrorCode::kInternal, "libsodium failed to initialize");
  auto impl = std::make_unique<Impl>();
  impl->home = home;
  impl->root = home + "/registry";
  if (access == Access::kAuto) {
    access = Access::kReadWrite;
    struct stat st {};
    if (::stat(impl->root.c_str(), &st) == 0 && ::access(impl->root.c_str(), W_OK) != 0) {
      impl->read_only_reason = errno == EROFS ? "read-only file system" : "the directory is not "
                                                                          "writable";
      access = Access::kReadOnly;
    }
  } else if (access == Access::kReadOnly) {
    impl->read_only_reason = "read-only mode: --registry-read-only or registry.read_only";
  }
  if (access == Access::kReadOnly) {
    // Nothing is created, repaired or collected: everything below is a read.
    impl->read_only = true;
    struct stat st {};
    if (::stat(impl->db_path().c_str(), &st) != 0) {
      return make_error(ErrorCode::kNotFound,
                        "no registry index at " + impl->db_path() +
                            " (a read-only registry is populated elsewhere first, with "
                            "wasmcap bundle install)");
    }
    {
      auto lock = impl->lock(false);
      WASMCAP_TRY(lock);
      WASMCAP_TRY(impl->open_read_only_db());
      impl->close_db();
    }
    return Registry(std::move(impl));
  }
  std::error_code ec;
  fs::create_directories(home, ec);
  if (ec) return make_error(ErrorCode::kIo, home + ": " + ec.message());
  WASMCAP_TRY(make_dir(impl->root, 0755));
  WASMCAP_TRY(make_dir(impl->store(), 0755));
  WASMCAP_TRY(make_dir(impl->tmp(), 0700));
  std::string db_path = impl->db_path();
  if (sqlite_open(db_path.c_str(), &impl->db,
                  SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOFOLLOW |
                      SQLITE_OPEN_FULLMUTEX) != SQLITE_OK) {
    if (load_sqlite() == nullptr) return make_error(ErrorCode::kIo, db_path + ": " + g_sqlite_error);
    return impl->db_error("open");
  }
  // Writers are serialized by the registry lock; the timeout covers readers of other processes.
  sq().busy_timeout(impl->db, 30000);
  // Schema creation is itself serialized: two first runs must not race on CREATE TABLE.
  auto lock = Lock::take(impl->lock_path(), true);
  WASMCAP_TRY(lock);
  WASMCAP_TRY(impl->exec(
      "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
      "CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);"
      "CREATE TABLE IF NOT EXISTS bundles("
      "  name TEXT NOT NULL, version TEXT NOT NULL, signer_key TEXT NOT NULL,"
      "  trusted_at_install INTEGER NOT NULL, allow_untrusted INTEGER NOT NULL,"
      "  forced_downgrade INTEGER NOT NULL, forced_replace INTEGER NOT NULL,"
      "  installed_at INTEGER NOT NULL, source TEXT NOT NULL, manifest_sha256 TEXT NOT NULL,"
      "  modules TEXT NOT NULL, store_id TEXT NOT NULL UNIQUE,"
      "  PRIMARY KEY(name, version));"
      "CREATE TABLE IF NOT EXISTS watermarks(name TEXT PRIMARY KEY, highest TEXT NOT NULL);"
      "CREATE TABLE IF NOT EXISTS tool_changes(name TEXT NOT NULL, version TEXT NOT NULL,"
      "  installed_at INTEGER NOT NULL, changes TEXT NOT NULL);"
      "INSERT OR IGNORE INTO meta(key, value) VALUES('schema_version', '1');"));
  Stmt s(impl->db, "SELECT value FROM meta WHERE key = 'schema_version'");
  if (s.step() != SQLITE_ROW || s.text(0) != std::to_string(kSchemaVersion)) {
    return make_error(ErrorCode::kIo, db_path + ": unknown registry schema version (written by "
                                                "another wasmcap version?)");
  }
  return Registry(std::move(impl));
}

}  // namespace wasmcap::registry

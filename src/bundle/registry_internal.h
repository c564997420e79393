// The local registry (docs/bundles.md#the-local-registry). The index is SQLite: one file,
// transactions, and a schema the registry can check, instead of a directory of JSON files that
// would need its own locking and crash recovery. Files live in a content store beside it:
//   HOME/registry/index.sqlite3      the index (bundles, downgrade watermarks)
//   HOME/registry/lock               flock: exclusive for install/remove, shared for resolve/list
//   HOME/registry/store/<32 hex>/    manifest.json, manifest.sig, modules/<entry path>
//   HOME/registry/tmp/               staging; emptied under the exclusive lock
// Every install gets a fresh store directory, so the index transaction is the one atomic switch:
// a crash leaves at worst an unreferenced directory, which the next install or remove deletes.
// libsqlite3 is loaded on the first open of an index (sq() below), not linked: a `wasmcap run` of
// a plain module never maps it (docs/aot.md, "Cold start").
//
// Internal to src/bundle: what registry.cc (the Registry's operations), registry_db.cc (SQLite:
// the loader, schema, statements, the index rows) and registry_store.cc (the content store on
// disk) share. Not installed; include/wasmcap/registry.h is the public interface.
#pragma once

#include <sqlite3.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "wasmcap/registry.h"

namespace wasmcap::registry::detail {

// The SQLite functions the registry calls, from libsqlite3 loaded on first use.
struct SqliteApi {
  decltype(&::sqlite3_open_v2) open_v2;
  decltype(&::sqlite3_prepare_v2) prepare_v2;
  decltype(&::sqlite3_finalize) finalize;
  decltype(&::sqlite3_bind_text) bind_text;
  decltype(&::sqlite3_bind_int64) bind_int64;
  decltype(&::sqlite3_step) step;
  decltype(&::sqlite3_column_text) column_text;
  decltype(&::sqlite3_column_bytes) column_bytes;
  decltype(&::sqlite3_column_int64) column_int64;
  decltype(&::sqlite3_errmsg) errmsg;
  decltype(&::sqlite3_close) close;
  decltype(&::sqlite3_exec) exec;
  decltype(&::sqlite3_free) free;
  decltype(&::sqlite3_wal_checkpoint_v2) wal_checkpoint_v2;
  decltype(&::sqlite3_busy_timeout) busy_timeout;
};

// The loaded functions. Every use follows a successful open (sqlite_open, registry_db.cc), which
// loaded them: a database handle cannot exist otherwise.
const SqliteApi& sq();

constexpr size_t kStoreIdHexDigits = 32;

tl::unexpected<Error> io_error(const std::string& what, int err);
std::string hex(const uint8_t* data, size_t n);
bool is_lower_hex(std::string_view s, size_t n);

// --- Files (registry_store.cc) -------------------------------------------------------------------

Result<void> make_dir(const std::string& path, mode_t mode);
Result<void> fsync_path(const std::string& path, int flags);
// Creates a new file (never following or replacing anything) with exactly `data`, synced.
Result<void> write_new(const std::string& path, const uint8_t* data, size_t size);
void remove_tree(const std::string& path);
std::string random_id();

// An exclusive or shared flock on HOME/registry/lock for this object's lifetime.
class Lock {
 public:
  // `read_only`: the lock file is opened O_RDONLY and never created (a shared flock needs no
  // write access); a registry no writer ever locked has no lock file, and no writer to exclude.
  static Result<Lock> take(const std::string& path, bool exclusive, bool read_only = false) {
    int fd = read_only ? ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
                       : ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0 && read_only && errno == ENOENT && !exclusive) return Lock(-1);
    if (fd < 0) return io_error(path, errno);
    while (::flock(fd, exclusive ? LOCK_EX : LOCK_SH) != 0) {
      if (errno == EINTR) continue;
      int err = errno;
      ::close(fd);
      return io_error(path + " (lock)", err);
    }
    return Lock(fd);
  }
  Lock(Lock&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
  Lock& operator=(Lock&&) = delete;
  ~Lock() {
    if (fd_ >= 0) ::close(fd_);  // closing releases the flock
  }

 private:
  explicit Lock(int fd) : fd_(fd) {}
  int fd_;
};

// --- SQLite --------------------------------------------------------------------------------------

class Stmt {
 public:
  Stmt(sqlite3* db, const char* sql) : db_(db) {
    if (sq().prepare_v2(db, sql, -1, &stmt_, nullptr) != SQLITE_OK) stmt_ = nullptr;
  }
  ~Stmt() { sq().finalize(stmt_); }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;
  bool ok() const { return stmt_ != nullptr; }
  Stmt& bind(int i, const std::string& s) {
    sq().bind_text(stmt_, i, s.data(), static_cast<int>(s.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Stmt& bind(int i, int64_t v) {
    sq().bind_int64(stmt_, i, v);
    return *this;
  }
  // SQLITE_ROW, SQLITE_DONE or an error code.
  int step() { return stmt_ == nullptr ? SQLITE_ERROR : sq().step(stmt_); }
  std::string text(int col) const {
    const unsigned char* p = sq().column_text(stmt_, col);
    return p == nullptr ? std::string() : std::string(reinterpret_cast<const char*>(p),
                                                      static_cast<size_t>(sq().column_bytes(stmt_, col)));
  }
  int64_t integer(int col) const { return sq().column_int64(stmt_, col); }
  std::string error() const { return sq().errmsg(db_); }

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
};

extern const char* kColumns;  // registry_db.cc

}  // namespace wasmcap::registry::detail

namespace wasmcap::registry {

using namespace detail;  // NOLINT: internal header, included only by the registry's sources

struct Registry::Impl {
  std::string home;
  std::string root;  // HOME/registry
  bool read_only = false;
  std::string read_only_reason;  // why (for the refusal message)
  sqlite3* db = nullptr;

  ~Impl() { close_db(); }
  void close_db() {
    if (db != nullptr) sq().close(db);
    db = nullptr;
  }
  std::string lock_path() const { return root + "/lock"; }
  std::string db_path() const { return root + "/index.sqlite3"; }

  Result<Lock> lock(bool exclusive) const { return Lock::take(lock_path(), exclusive, read_only); }

  // Read-only: one connection per operation, opened under the shared lock and closed before it is
  // released. With immutable=1 SQLite takes no locks and caches pages as if the file never
  // changed, which holds only while the flock keeps writers out; a connection kept across
  // operations could mix pages from before and after an install.
  Result<void> open_read_only_db();

  tl::unexpected<Error> refuse_write(const char* what) const {
    return make_error(ErrorCode::kIo, std::string("cannot ") + what + ": the registry " + root +
                                          " is opened read-only (" + read_only_reason +
                                          "); run it where the registry is writable (the job "
                                          "that populates the volume)");
  }
  std::string store() const { return root + "/store"; }
  std::string tmp() const { return root + "/tmp"; }

  tl::unexpected<Error> db_error(const std::string& what) const {
    return make_error(ErrorCode::kIo, "registry index " + root + "/index.sqlite3: " + what + ": " +
                                          sq().errmsg(db));
  }
  Result<void> exec(const char* sql) {
    char* msg = nullptr;
    if (sq().exec(db, sql, nullptr, nullptr, &msg) != SQLITE_OK) {
      std::string m = msg != nullptr ? msg : "unknown error";
      sq().free(msg);
      return make_error(ErrorCode::kIo, "registry index " + root + "/index.sqlite3: " + m);
    }
    return {};
  }
  // A row of the bundles table, checked (registry_db.cc).
  Result<Installed> row(const Stmt& s) const;
  Result<std::vector<Installed>> rows_for(std::string_view name);  // registry_db.cc
  // The installed bundle name nearest to `name` (a typo's fix: at most 2 edits, a swap of two
  // neighbours counting one, and fewer than half of `name`'s length), or none (registry_db.cc).
  std::optional<std::string> nearest_name(std::string_view name);
  // The signed half of resolve() (registry.cc), under the caller's shared lock and read session.
  // `stamps` (may be null): the files it read, each with its stamp from before the read.
  Result<Resolved> resolve_signed(std::string_view name, const std::optional<std::string>& version,
                                  const bundle::TrustStore& trust,
                                  std::vector<std::pair<std::string, bundle::FileStamp>>* stamps = nullptr);

  // A read operation's connection: read-only registries open one per operation (under the shared
  // lock the caller holds) and close it at the end; read-write ones keep theirs.
  struct ReadSession {
    explicit ReadSession(Impl& impl) : r(impl) {
      if (r.read_only) status = r.open_read_only_db();
    }
    ~ReadSession() {
      if (r.read_only) r.close_db();
    }
    ReadSession(const ReadSession&) = delete;
    ReadSession& operator=(const ReadSession&) = delete;
    Impl& r;
    Result<void> status;
  };

  // After a commit, under the exclusive lock: copies the write-ahead log into the database file
  // and truncates it, so the directory as it is now is complete on its own (a volume snapshot or
  // a read-only mount, read with immutable=1, sees every install). Best effort: a reader of
  // another process can hold the log back, and SQLite checkpoints again later.
  void checkpoint() { (void)sq().wal_checkpoint_v2(db, nullptr, SQLITE_CHECKPOINT_TRUNCATE, nullptr, nullptr); }

  // Deletes staging leftovers and unreferenced store directories (registry_store.cc).
  void collect_garbage();

  // Verified state (registry.cc, "Verified state"; docs/bundles.md "Verification of installed
  // bundles"): what a full verification of a bundle read, each file and directory with its
  // stamp taken before it was read, and what it concluded. While every stamp still matches and
  // the trust store is the same, the stored bundle is the one verified, and resolve() returns
  // the conclusion without reading and hashing it again. One per (name, version asked, trust
  // store), for as long as this Registry lives: bounded by the installed bundles.
  struct Verified {
    std::string trust;  // trust_fingerprint() of the store it was verified against
    std::vector<std::pair<std::string, bundle::FileStamp>> stamps;
    Resolved resolved;
  };
  std::mutex verified_mu;
  std::map<std::string, Verified> verified;
};

}  // namespace wasmcap::registry

// Changes to the trust store: HOME/trust/*.pub (trusted) and HOME/trust/revoked/*.pub (revoked),
// kept as files named by key id (docs/bundles.md, "Trust store"). Reading is load_trust_store
// (registry.cc); this file writes.
//
// What each rule stops, in the order a change meets them:
// - The lock (flock of the HOME/trust directory, held for the whole change): two concurrent changes would
//   otherwise write the same ID.pub.tmp, and one could rename the other's half-written file into
//   place. Under the lock no other change is running, so every temporary found is a killed
//   change's leftover and is removed (#37: killed trust writes left ID.pub.tmp files that nothing
//   removed).
// - write_key: temporary, fsync, rename, fsync of the directory (git's and SQLite's order): a kill
//   or a full disk leaves the old file or none under the name, a power loss after the command
//   returned keeps the new one.
// - revoke writes the revocation before removing the trusted copy: an interruption leaves the key
//   both trusted and revoked, which is revoked (revocation wins everywhere).
// - The trust directories are 0700: only the owner may change what is trusted.
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "common/failpoint.h"
#include "policy/json_doc.h"
#include "wasmcap/registry.h"

namespace wasmcap::registry {

namespace fs = std::filesystem;

namespace {

// Key files in one trust directory; more than this is not a trust store (registry.cc reads the
// same bound).
constexpr size_t kMaxTrustFiles = 1024;
constexpr std::string_view kTempSuffix = ".pub.tmp";

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

tl::unexpected<Error> io_error(const std::string& what, int e) {
  return make_error(ErrorCode::kIo, what + ": " + std::strerror(e));
}

Result<void> ensure_dir(const fs::path& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return make_error(ErrorCode::kIo, "cannot create " + dir.string() + ": " + ec.message());
  ::chmod(dir.c_str(), 0700);  // only the owner may change what is trusted
  return {};
}

// fsync(2) of a directory, so the renames and unlinks in it survive a power loss.
Result<void> sync_dir(const fs::path& dir, const std::string& failpoint_name) {
  int e = failpoint::hit(failpoint_name);
  int fd = e != 0 ? -1 : ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0 && e == 0) e = errno;
  if (fd >= 0) {
    if (::fsync(fd) != 0) e = errno;
    ::close(fd);
  }
  if (e != 0) return io_error("cannot sync " + dir.string(), e);
  return {};
}

// The exclusive lock of a change, released (by close) when it goes out of scope.
class ChangeLock {
 public:
  ChangeLock() = default;
  ChangeLock(const ChangeLock&) = delete;
  ChangeLock& operator=(const ChangeLock&) = delete;
  ~ChangeLock() {
    if (fd_ >= 0) ::close(fd_);
  }
  static Result<void> take(const fs::path& trust, const std::string& op, ChangeLock* out) {
    WASMCAP_TRY(ensure_dir(trust));
    // The directory itself is the lock (flock works on a directory's descriptor): no lock file
    // joins the key files.
    const fs::path& path = trust;
    int e = failpoint::hit(op + ".lock");
    int fd = e != 0 ? -1 : ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return io_error("cannot open " + path.string(), e != 0 ? e : errno);
    while (::flock(fd, LOCK_EX) != 0) {
      if (errno != EINTR) {
        int err = errno;
        ::close(fd);
        return io_error("cannot lock " + path.string(), err);
      }
    }
    out->fd_ = fd;
    return {};
  }

 private:
  int fd_ = -1;
};

// Under the change lock: the temporaries of killed changes (nobody else can be writing one).
void sweep_temporaries(const fs::path& dir) {
  std::error_code ec;
  std::vector<fs::path> stale;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    if (ends_with(it->path().filename().string(), kTempSuffix)) stale.push_back(it->path());
    if (stale.size() > kMaxTrustFiles) break;  // the rest goes with the next change
  }
  for (const auto& p : stale) ::unlink(p.c_str());
}

// Writes a key file as the file comment says; `op` names the failpoints ("trust.add",
// "trust.revoke").
Result<void> write_key(const fs::path& path, const std::string& text, const std::string& op) {
  fs::path tmp = path;
  tmp += ".tmp";
  auto io = [&](const std::string& what, int e) {
    ::unlink(tmp.c_str());
    return make_error(ErrorCode::kIo, "cannot " + what + " " + tmp.string() + ": " + std::strerror(e) +
                                          " (nothing was changed; run the command again)");
  };
  int e = failpoint::hit(op + ".create");
  int fd = e != 0 ? -1 : ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
  if (fd < 0) return io("create", e != 0 ? e : errno);
  const char* p = text.data();
  size_t left = text.size();
  while (left > 0) {
    e = failpoint::hit(op + ".write");
    ssize_t n = e != 0 ? -1 : ::write(fd, p, left);
    if (n < 0 && e == 0 && errno == EINTR) continue;
    if (n <= 0) {
      e = e != 0 ? e : (n < 0 ? errno : EIO);
      ::close(fd);
      return io("write", e);
    }
    p += n;
    left -= static_cast<size_t>(n);
  }
  e = failpoint::hit(op + ".fsync");
  if (e == 0 && ::fsync(fd) != 0) e = errno;
  if (::close(fd) != 0 && e == 0) e = errno;
  if (e != 0) return io("sync", e);
  e = failpoint::hit(op + ".rename");
  if (e == 0 && ::rename(tmp.c_str(), path.c_str()) != 0) e = errno;
  if (e != 0) return io("rename", e);
  return sync_dir(path.parent_path(), op + ".fsync_dir");
}

// Every *.pub in `dir`, sorted (a missing directory is an empty list; a broken entry is an error,
// never skipped: a revocation that failed to load would revoke nothing).
Result<std::vector<TrustKeyFile>> key_files(const fs::path& dir) {
  std::vector<TrustKeyFile> out;
  std::error_code ec;
  if (!fs::exists(fs::symlink_status(dir, ec))) return out;
  std::vector<std::string> files;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    std::string name = e.path().filename().string();
    if (name.size() > 4 && ends_with(name, ".pub")) files.push_back(e.path().string());
    if (files.size() > kMaxTrustFiles) {
      return make_error(ErrorCode::kIo, dir.string() + ": more than 1024 key files");
    }
  }
  if (ec) return make_error(ErrorCode::kIo, dir.string() + ": " + ec.message());
  std::sort(files.begin(), files.end());
  for (const auto& f : files) {
    auto k = bundle::load_public_key(f);
    if (!k) {
      return make_error(k.error().code, "trust store: " + k.error().message +
                                            " (fix or remove the file: a trust store entry is "
                                            "never skipped)");
    }
    out.push_back({f, *k});
  }
  return out;
}

// Takes the lock, sweeps both directories, and lists the store as it is under the lock.
Result<TrustKeyFiles> begin_change(const std::string& home, const std::string& op, ChangeLock* lock) {
  const fs::path trust = fs::path(home) / "trust";
  WASMCAP_TRY(ChangeLock::take(trust, op, lock));
  sweep_temporaries(trust);
  sweep_temporaries(trust / "revoked");
  return list_trust_keys(home);
}

}  // namespace

Result<TrustKeyFiles> list_trust_keys(const std::string& home) {
  TrustKeyFiles out;
  WASMCAP_TRY_ASSIGN(out.trusted, key_files(fs::path(home) / "trust"));
  WASMCAP_TRY_ASSIGN(out.revoked, key_files(fs::path(home) / "trust" / "revoked"));
  return out;
}

Result<TrustChange> trust_add_key(const std::string& home, const std::string& key_text) {
  bundle::PublicKey key;
  WASMCAP_TRY_ASSIGN(key, bundle::parse_public_key(key_text));
  ChangeLock lock;
  TrustKeyFiles store;
  WASMCAP_TRY_ASSIGN(store, begin_change(home, "trust.add", &lock));
  for (const auto& r : store.revoked) {
    if (r.key.id() == key.id()) {
      return make_error(ErrorCode::kBundleRevoked, "key " + key.id() + " is revoked (" + r.path +
                                                       "); a revoked key cannot be trusted again");
    }
  }
  for (const auto& t : store.trusted) {
    if (t.key.id() == key.id()) return TrustChange{key.id(), {t.path}, true};
  }
  const fs::path dest = fs::path(home) / "trust" / (key.id() + ".pub");
  WASMCAP_TRY(write_key(dest, key_text, "trust.add"));
  return TrustChange{key.id(), {dest.string()}, false};
}

Result<TrustChange> trust_revoke_key(const std::string& home, const std::string& key_text_or_id,
                                     bool is_key_text) {
  ChangeLock lock;
  TrustKeyFiles store;
  WASMCAP_TRY_ASSIGN(store, begin_change(home, "trust.revoke", &lock));
  std::string id, text;
  if (is_key_text) {
    bundle::PublicKey key;
    WASMCAP_TRY_ASSIGN(key, bundle::parse_public_key(key_text_or_id));
    id = key.id();
    text = key_text_or_id;
  } else {
    id = key_text_or_id;
    for (const auto& t : store.trusted) {
      if (t.key.id() != id) continue;
      std::vector<uint8_t> bytes;
      WASMCAP_TRY_ASSIGN(bytes,
                         bundle::read_file_bounded(t.path, 4096, ErrorCode::kInvalidArgument));
      text.assign(bytes.begin(), bytes.end());
    }
    if (text.empty()) {
      // Revoked already (a revoke that was interrupted after its revoked file was in place, or
      // one run twice): there is nothing left to do.
      for (const auto& r : store.revoked) {
        if (r.key.id() == id) return TrustChange{id, {r.path}, true};
      }
      return make_error(ErrorCode::kNotFound,
                        "no trusted key with id '" + id + "'");
    }
  }
  const fs::path trust = fs::path(home) / "trust";
  WASMCAP_TRY(ensure_dir(trust / "revoked"));
  const fs::path dest = trust / "revoked" / (id + ".pub");
  WASMCAP_TRY(write_key(dest, text, "trust.revoke"));
  bool removed = false;
  for (const auto& t : store.trusted) {
    if (t.key.id() != id) continue;
    int e = failpoint::hit("trust.revoke.unlink_trusted");
    if (e == 0 && ::unlink(t.path.c_str()) != 0) e = errno;
    if (e != 0) {
      return make_error(ErrorCode::kIo, "key " + id + " is revoked (" + dest.string() +
                                            "), but its trusted copy " + t.path +
                                            " could not be removed: " + std::strerror(e) +
                                            "; run the command again");
    }
    removed = true;
  }
  if (removed) WASMCAP_TRY(sync_dir(trust, "trust.revoke.fsync_trusted_dir"));
  return TrustChange{id, {dest.string()}, false};
}

Result<TrustChange> trust_remove_key(const std::string& home, const std::string& id) {
  ChangeLock lock;
  TrustKeyFiles store;
  WASMCAP_TRY_ASSIGN(store, begin_change(home, "trust.remove", &lock));
  const fs::path trust = fs::path(home) / "trust";
  TrustChange out{id, {}, false};
  for (const auto& t : store.trusted) {
    if (t.key.id() != id) continue;
    int e = failpoint::hit("trust.remove.unlink");
    if (e == 0 && ::unlink(t.path.c_str()) != 0) e = errno;
    if (e != 0) return io_error("cannot remove " + t.path, e);
    WASMCAP_TRY(sync_dir(trust, "trust.remove.fsync_dir"));
    out.files.push_back(t.path);
  }
  if (out.files.empty()) {
    return make_error(ErrorCode::kNotFound, "no trusted key with id '" + id + "'");
  }
  return out;
}

Result<TrustChange> trust_unrevoke_key(const std::string& home, const std::string& id) {
  ChangeLock lock;
  TrustKeyFiles store;
  WASMCAP_TRY_ASSIGN(store, begin_change(home, "trust.unrevoke", &lock));
  const fs::path revoked = fs::path(home) / "trust" / "revoked";
  TrustChange out{id, {}, false};
  for (const auto& r : store.revoked) {
    if (r.key.id() != id) continue;
    int e = failpoint::hit("trust.unrevoke.unlink");
    if (e == 0 && ::unlink(r.path.c_str()) != 0) e = errno;
    if (e != 0) return io_error("cannot remove " + r.path, e);
    WASMCAP_TRY(sync_dir(revoked, "trust.unrevoke.fsync_dir"));
    out.files.push_back(r.path);
  }
  if (out.files.empty()) {
    return make_error(ErrorCode::kNotFound, "no revoked key with id '" + id + "' in " +
                                                revoked.string());
  }
  return out;
}

}  // namespace wasmcap::registry

// Trusted files in the cache directory (cache_files.h). Shared by the AOT cache (objects,
// descriptions, .verified and module file records) and the fast engine's validation records,
// so that every record is read and written under the same rules.
#include "engine/cache_files.h"

#include "common/failpoint.h"
#include "common/system_lib.h"
#include "engine/test_hooks.h"

#include <elf.h>
#include <fcntl.h>
#include <link.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sodium.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <vector>

#ifndef WASMCAP_LIBCRYPTO_SONAME
#define WASMCAP_LIBCRYPTO_SONAME "libcrypto.so.3"
#endif

namespace wasmcap::cache {
namespace {

namespace fs = std::filesystem;

std::string env_or(const char* name, const std::string& fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? std::string(v) : fallback;
}

}  // namespace

std::string hex(const unsigned char* p, size_t n) {
  static const char* d = "0123456789abcdef";
  std::string s;
  s.reserve(n * 2);
  for (size_t i = 0; i < n; ++i) {
    s += d[p[i] >> 4];
    s += d[p[i] & 15];
  }
  return s;
}

namespace {
// libcrypto's SHA-256, loaded on first use (common/system_lib.h: by soname, never a path), for
// inputs of kLibcryptoSha256MinBytes or more. Why: libsodium's SHA-256 is portable C (~0.3 GB/s
// here: 10 ms for the 2.9 MB toolbox module, hashed at every run of one of its commands), while
// OpenSSL's uses the CPU's SHA extensions where it has them (~1.6 GB/s). Loading the library
// costs ~1-2 ms (measured with the calls below, load included: 3 MB 3.8 ms against libsodium's
// 10-15 ms; 1 MiB 2.7 / 3.6-5.0 ms; 256 KiB 2.0 / 0.9-1.3 ms), so inputs under a MiB (and every
// cached hello) keep libsodium and never map it. Both compute SHA-256, so every hash is the
// same (CacheFiles.Sha256OfBigInputsIsLibsodiums).
//
// The calls: OpenSSL's low-level SHA256_Init/_Update/_Final (deprecated in 3.0, still exported)
// run the SHA extension code directly, where the one-shot SHA256() goes through EVP and first
// fetches the algorithm from a provider (~1.5 ms on its first call). The context is opaque here
// (OpenSSL's SHA256_CTX is 112 bytes; kCtxBytes leaves room). Without them, the one-shot;
// without that (or without libcrypto), libsodium.
struct Libcrypto {
  static constexpr size_t kCtxBytes = 512;
  using Init = int (*)(void*);
  using Update = int (*)(void*, const void*, size_t);
  using Final = int (*)(unsigned char*, void*);
  using OneShot = unsigned char* (*)(const unsigned char*, size_t, unsigned char*);
  Init init = nullptr;
  Update update = nullptr;
  Final finish = nullptr;
  OneShot one_shot = nullptr;

  bool hash(const void* data, size_t n, unsigned char* out) const {
    if (init != nullptr) {
      alignas(16) unsigned char ctx[kCtxBytes];
      return init(ctx) == 1 && update(ctx, data, n) == 1 && finish(out, ctx) == 1;
    }
    return one_shot != nullptr && one_shot(static_cast<const unsigned char*>(data), n, out) == out;
  }
};
const Libcrypto& libcrypto() {
  static const Libcrypto lc = [] {
    Libcrypto l;  // a symbol the library lacks (or no library) stays nullptr
    syslib::Library lib(WASMCAP_LIBCRYPTO_SONAME);
    lib.get(&l.init, "SHA256_Init");
    lib.get(&l.update, "SHA256_Update");
    lib.get(&l.finish, "SHA256_Final");
    lib.get(&l.one_shot, "SHA256");
    if (l.update == nullptr || l.finish == nullptr) l.init = nullptr;  // all three, or the one-shot
    return l;
  }();
  return lc;
}
}  // namespace

std::string sha256_hex(const void* data, size_t n) {
  unsigned char out[crypto_hash_sha256_BYTES];
  static_assert(crypto_hash_sha256_BYTES == 32, "SHA-256 digests are 32 bytes");
  if (n < kLibcryptoSha256MinBytes || !libcrypto().hash(data, n, out)) {
    crypto_hash_sha256(out, static_cast<const unsigned char*>(data), n);
  }
  return hex(out, sizeof out);
}

std::string sha256_hex_libsodium(const void* data, size_t n) {
  unsigned char out[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(out, static_cast<const unsigned char*>(data), n);
  return hex(out, sizeof out);
}

namespace {
std::atomic<uint64_t> g_module_hashes{0};  // engine_test_hooks::module_hashes()
}

std::string module_bytes_sha256(const uint8_t* bytes, size_t size) {
  g_module_hashes.fetch_add(1, std::memory_order_relaxed);
  return sha256_hex(bytes, size);
}

bool is_sha256_hex(std::string_view s) {
  return s.size() == 64 && std::all_of(s.begin(), s.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

bool trusted_file(int fd) {
  struct stat st;
  return fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_uid == geteuid() &&
         (st.st_mode & (S_IWGRP | S_IWOTH)) == 0;
}

bool read_fd(int fd, std::string* out, size_t cap) {
  out->clear();
  char buf[65536];
  for (;;) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    if (n == 0) return true;
    out->append(buf, static_cast<size_t>(n));
    if (out->size() > cap) return false;
  }
}

int open_trusted(const std::string& path) {
  int fd = open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) return -1;
  if (!trusted_file(fd)) {
    close(fd);
    return -1;
  }
  return fd;
}

bool read_trusted(const std::string& path, size_t cap, std::string* out, struct stat* st) {
  // O_NONBLOCK: a FIFO by that name must not block the load (a regular file ignores it).
  int fd = open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) return false;
  struct stat s;
  bool ok = fstat(fd, &s) == 0 && S_ISREG(s.st_mode) && s.st_uid == geteuid() &&
            (s.st_mode & (S_IWGRP | S_IWOTH)) == 0 && read_fd(fd, out, cap);
  close(fd);
  if (ok && st != nullptr) *st = s;
  return ok;
}

namespace {

// Writes all of `data` to `fd`; false with errno set on an error.
bool write_all(int fd, const std::string& data) {
  size_t off = 0;
  while (off < data.size()) {
    int fe = failpoint::hit("cache.write.data");
    ssize_t n = fe != 0 ? -1 : write(fd, data.data() + off, data.size() - off);
    if (n < 0 && fe == 0 && errno == EINTR) continue;
    if (n <= 0) {
      errno = fe != 0 ? fe : (n < 0 ? errno : EIO);
      return false;
    }
    off += static_cast<size_t>(n);
  }
  return true;
}

// O_EXCL | O_NOFOLLOW creation of a 0600 file (the failpoint's errno when it is armed).
int create_file(const std::string& path) {
  if (int e = failpoint::hit("cache.write.create")) {
    errno = e;
    return -1;
  }
  return open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
}

// NAME.tmpDIGITS: a replace_file temporary.
bool is_temporary_name(std::string_view name) {
  size_t at = name.rfind(".tmp");
  if (at == std::string_view::npos || at == 0 || at + 4 == name.size()) return false;
  return std::all_of(name.begin() + static_cast<std::ptrdiff_t>(at) + 4, name.end(),
                     [](char c) { return c >= '0' && c <= '9'; });
}

// A temporary whose writer is gone: older than kStaleTemporarySeconds (a live writer holds its
// lock from a moment after creating it: the age keeps a sweep from taking that moment) and not
// locked.
bool is_stale_temporary(const std::string& path) {
  struct stat st;
  if (lstat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return false;
  if (st.st_mtime + kStaleTemporarySeconds > time(nullptr)) return false;
  int fd = open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return false;
  bool stale = flock(fd, LOCK_EX | LOCK_NB) == 0;
  close(fd);  // drops the lock again
  return stale;
}

}  // namespace

bool write_file(const std::string& path, const std::string& data) {
  // Failpoints: the errno a failed step leaves is what the caller's io_error message shows.
  int fd = create_file(path);
  if (fd < 0) return false;
  if (!write_all(fd, data)) {
    int e = errno;
    close(fd);
    errno = e;  // the write's error, not close's
    return false;
  }
  return close(fd) == 0;
}

bool replace_file(const std::string& path, const std::string& data) {
  std::string tmp = path + ".tmp" + std::to_string(getpid());
  unlink(tmp.c_str());  // a dead process's leftover of the same pid
  // Locked from creation to rename: a sweep (sweep_stale_temporaries) never takes a temporary
  // that is being written.
  int fd = create_file(tmp);
  if (fd < 0) return false;
  bool ok = flock(fd, LOCK_EX) == 0 && write_all(fd, data);
  if (ok) {
    if (int e = failpoint::hit("cache.replace.rename")) {
      errno = e;
      ok = false;
    } else {
      ok = rename(tmp.c_str(), path.c_str()) == 0;
    }
  }
  int e = errno;
  close(fd);
  if (!ok) {
    unlink(tmp.c_str());
    errno = e;
    return false;
  }
  return true;
}

void sweep_stale_temporaries(const std::string& dir) {
  std::error_code ec;
  size_t seen = 0;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end && seen < kMaxSweptEntries;
       it.increment(ec), ++seen) {
    const std::string name = it->path().filename().string();
    if (is_temporary_name(name) && is_stale_temporary(it->path().string())) {
      unlink(it->path().c_str());
    }
  }
}

void bound_records(const std::string& dir, std::string_view prefix, size_t max) {
  std::vector<std::string> records;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    std::string name = it->path().filename().string();
    if (is_temporary_name(name)) {
      // One pass serves both: a killed writer's temporary goes with the next new record.
      if (is_stale_temporary(it->path().string())) unlink(it->path().c_str());
    } else if (name.compare(0, prefix.size(), prefix) == 0) {
      records.push_back(it->path().string());
    }
  }
  if (records.size() >= max) {
    for (const auto& r : records) unlink(r.c_str());
  }
}

Result<std::string> cache_root_path() {
  std::string xdg = env_or("XDG_CACHE_HOME", "");
  if (!xdg.empty() && xdg.front() == '/') return xdg + "/wasmcap";
  std::string home = env_or("HOME", "");
  if (home.empty()) {
    return make_error(ErrorCode::kConfigInvalid,
                      "no AOT cache directory: set --cache-dir or WASMCAP_CACHE_DIR (HOME is "
                      "not set)");
  }
  return home + "/.cache/wasmcap";
}

Result<std::string> cache_dir_path(const std::string& option) {
  if (!option.empty()) return option;
  std::string dir = env_or("WASMCAP_CACHE_DIR", "");
  if (!dir.empty()) return dir;
  auto root = cache_root_path();
  if (!root) return root;
  return *root + "/aot";
}

Result<std::string> open_cache_dir(const std::string& option) {
  auto path = cache_dir_path(option);
  if (!path) return path;
  const std::string dir = *path;
  struct stat st;
  if (lstat(dir.c_str(), &st) != 0) {
    std::error_code ec;
    fs::path p(dir);
    // Parents are created with the default umask; the cache directory itself is private.
    if (p.has_parent_path()) fs::create_directories(p.parent_path(), ec);
    if (mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
      return make_error(ErrorCode::kIo, "cannot create the AOT cache directory '" + dir +
                                            "': " + std::strerror(errno) +
                                            "; choose another one with --cache-dir");
    }
    if (lstat(dir.c_str(), &st) != 0) st.st_mode = 0;
  }
  if (!S_ISDIR(st.st_mode)) {
    return make_error(ErrorCode::kIo, "the AOT cache path '" + dir +
                                          "' is not a directory; choose another with --cache-dir");
  }
  // Whoever can write here can plant code that wasmcap would load: only a private directory.
  if (st.st_uid != geteuid() || (st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
    return make_error(ErrorCode::kIo,
                      "the AOT cache directory '" + dir +
                          "' is not owned by this user or is writable by others; fix it "
                          "(chmod 700) or choose another with --cache-dir");
  }
  return dir;
}

std::string record_key_dir() {
  // Not under $HOME: a workspace created from $HOME copies the cache directory, and with it
  // anything stored there; a tool inside it must not be able to read the key (module docs).
  const char* xdg = std::getenv("XDG_RUNTIME_DIR");
  std::string base;
  if (xdg != nullptr && xdg[0] == '/') {
    base = std::string(xdg) + "/wasmcap";
  } else {
    std::string run = "/run/user/" + std::to_string(geteuid());
    struct stat st;
    if (stat(run.c_str(), &st) == 0 && S_ISDIR(st.st_mode) && st.st_uid == geteuid()) {
      base = run + "/wasmcap";
    } else {
      const char* tmp = std::getenv("TMPDIR");
      base = std::string(tmp != nullptr && tmp[0] == '/' ? tmp : "/tmp") + "/wasmcap-" +
             std::to_string(geteuid());
    }
  }
  return base;
}

// --- Module file records ---------------------------------------------------------------------
//
// Why trusting them is sound: docs/security-model.md, "AOT cache"; the same argument as for
// KEY.verified, with the racy-timestamp rule applied both when the record is written and when
// it is read.
namespace {

constexpr int64_t kSettledNs = 2000000000;  // 2 s: far above any file timestamp granularity
constexpr size_t kMaxFileRecordBytes = 1024;  // a record is ~250 bytes

int64_t ns_of(const struct timespec& t) {
  return static_cast<int64_t>(t.tv_sec) * 1000000000 + t.tv_nsec;
}

// Everything a record says but the hash, which follows as 64 hex digits and a newline.
std::string file_record_head(const ModuleFileIdentity& file) {
  return "wasmcap-aot-module-file 1\npath " + sha256_hex(file.path.data(), file.path.size()) +
         "\nfile " + std::to_string(file.device) + " " + std::to_string(file.inode) + " " +
         std::to_string(file.size) + " " + std::to_string(file.mtime_ns) + " " +
         std::to_string(file.ctime_ns) + "\nsha256 ";
}

}  // namespace

std::string module_file_record_path(const std::string& dir, const ModuleFileIdentity& file) {
  return dir + "/file-" + sha256_hex(file.path.data(), file.path.size()).substr(0, 32);
}

std::string module_file_record(const ModuleFileIdentity& file, const std::string& module_sha256) {
  return file_record_head(file) + module_sha256 + "\n";
}

std::string recorded_module_sha256(const std::string& dir, const ModuleFileIdentity& file) {
  struct stat st;
  std::string data;
  if (!read_trusted(module_file_record_path(dir, file), kMaxFileRecordBytes, &data, &st)) {
    return "";
  }
  // Racy timestamps: a record written within 2 s of the file's last change might describe a
  // state the file has since left within the same timestamp tick; trust only settled ones.
  const int64_t written = ns_of(st.st_mtim);
  if (written - file.ctime_ns <= kSettledNs || written - file.mtime_ns <= kSettledNs) return "";
  const std::string head = file_record_head(file);
  if (data.size() != head.size() + 65 || data.compare(0, head.size(), head) != 0 ||
      data.back() != '\n') {
    return "";
  }
  std::string sha = data.substr(head.size(), 64);
  return is_sha256_hex(sha) ? sha : "";
}

void record_module_sha256(const std::string& dir, const ModuleFileIdentity& file,
                          const std::string& module_sha256) {
  if (file.path.empty() || !is_sha256_hex(module_sha256)) return;
  struct timespec now;
  if (clock_gettime(CLOCK_REALTIME, &now) != 0 || ns_of(now) - file.ctime_ns <= kSettledNs ||
      ns_of(now) - file.mtime_ns <= kSettledNs) {
    return;  // not settled yet (racy timestamps): the next load hashes and records
  }
  const std::string path = module_file_record_path(dir, file);
  struct stat st;
  // A new record: bound their number (one per module path; a cache that has seen more than
  // kMaxFileRecords module paths starts over, since each is only a saved hash).
  if (lstat(path.c_str(), &st) != 0) bound_records(dir, "file-", kMaxFileRecords);
  replace_file(path, module_file_record(file, module_sha256));
}

const std::string& module_sha256_for_load(const std::string* dir, const ModuleBytes& module) {
  const ModuleFileIdentity* file = module.file();
  if (dir != nullptr && file != nullptr && module.known_sha256().empty()) {
    module.learn_sha256(recorded_module_sha256(*dir, *file));
    if (module.known_sha256().empty()) record_module_sha256(*dir, *file, module.sha256());
  }
  return module.sha256();
}

// --- Build identity --------------------------------------------------------------------------

namespace {

struct BuildIdSearch {
  uintptr_t addr = 0;
  std::string id;
  bool found = false;
};

// The NT_GNU_BUILD_ID note among `size` bytes of notes at `p` (4-byte aligned fields).
std::string build_id_in_notes(const unsigned char* p, size_t size) {
  size_t off = 0;
  while (size - off >= sizeof(ElfW(Nhdr))) {
    ElfW(Nhdr) h;
    std::memcpy(&h, p + off, sizeof h);
    off += sizeof h;
    size_t name = (static_cast<size_t>(h.n_namesz) + 3) & ~size_t{3};
    size_t desc = (static_cast<size_t>(h.n_descsz) + 3) & ~size_t{3};
    if (name > size - off || desc > size - off - name) return "";
    if (h.n_type == NT_GNU_BUILD_ID && h.n_namesz == 4 && std::memcmp(p + off, "GNU", 4) == 0 &&
        h.n_descsz > 0) {
      return hex(p + off + name, h.n_descsz);
    }
    off += name + desc;
  }
  return "";
}

int find_build_id(struct dl_phdr_info* info, size_t, void* data) {
  auto* s = static_cast<BuildIdSearch*>(data);
  bool contains = false;
  for (int i = 0; i < info->dlpi_phnum && !contains; ++i) {
    const ElfW(Phdr)& ph = info->dlpi_phdr[i];
    uintptr_t start = info->dlpi_addr + ph.p_vaddr;
    contains = ph.p_type == PT_LOAD && s->addr >= start && s->addr - start < ph.p_memsz;
  }
  if (!contains) return 0;
  s->found = true;
  for (int i = 0; i < info->dlpi_phnum && s->id.empty(); ++i) {
    const ElfW(Phdr)& ph = info->dlpi_phdr[i];
    if (ph.p_type != PT_NOTE) continue;
    s->id = build_id_in_notes(reinterpret_cast<const unsigned char*>(info->dlpi_addr + ph.p_vaddr),
                              ph.p_memsz);
  }
  return 1;
}

}  // namespace

std::string object_build_id(const void* addr) {
  BuildIdSearch s;
  s.addr = reinterpret_cast<uintptr_t>(addr);
  dl_iterate_phdr(find_build_id, &s);
  return s.id;
}

}  // namespace wasmcap::cache

uint64_t wasmcap::engine_test_hooks::module_hashes() {
  return wasmcap::cache::g_module_hashes.load(std::memory_order_relaxed);
}

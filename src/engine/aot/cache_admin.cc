// `wasmcap cache list|prune|clear` (docs/aot.md, "Cache"): what the AOT cache directory holds,
// and its removal under the same locks the compiles take (aot_cache.cc).
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <string>

#include "engine/aot/aot_cache.h"
#include "wasmcap/engine.h"

namespace wasmcap {

namespace {

namespace fs = std::filesystem;

bool is_hex_key(std::string_view s) {
  return s.size() == 64 &&
         std::all_of(s.begin(), s.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// The records the engines keep next to the objects (aot_cache.cc, aot_engine.cc, cache_files.cc,
// validation_records.cc, aot_background.cc): removed only by `clear`.
bool is_record(const std::string& name) {
  for (const char* prefix : {"valid-", "file-", "module-", "compiler-"}) {
    if (name.rfind(prefix, 0) == 0) return true;
  }
  return ends_with(name, ".failed") && is_hex_key(name.substr(0, name.size() - 7));
}

uint64_t size_of(const fs::path& p) {
  struct stat st;
  return lstat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode) ? static_cast<uint64_t>(st.st_size) : 0;
}

uint64_t tree_bytes(const fs::path& p) {
  uint64_t n = 0;
  std::error_code ec;
  for (fs::recursive_directory_iterator it(p, fs::directory_options::none, ec), end;
       !ec && it != end; it.increment(ec)) {
    n += size_of(it->path());
  }
  return n;
}

const char* const kObjectFiles[] = {".so", ".meta", ".verified"};

}  // namespace

Result<CacheContents> cache_contents(const AotOptions& aot) {
  CacheContents out;
  WASMCAP_TRY_ASSIGN(out.dir, aot::open_cache_dir(aot));
  std::error_code ec;
  for (fs::directory_iterator it(out.dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (ends_with(name, ".so") && is_hex_key(name.substr(0, name.size() - 3))) {
      CacheObject o;
      o.key = name.substr(0, 64);
      for (const char* ext : kObjectFiles) o.bytes += size_of(out.dir + "/" + o.key + ext);
      struct stat st;
      if (lstat(it->path().c_str(), &st) == 0) o.last_used = std::max(st.st_atime, st.st_mtime);
      out.object_bytes += o.bytes;
      out.objects.push_back(std::move(o));
    } else if (is_record(name)) {
      ++out.records;
      out.record_bytes += size_of(it->path());
    } else if (name.rfind("tmp-", 0) == 0) {
      ++out.temporaries;
      out.temporary_bytes += tree_bytes(it->path());
    }
  }
  if (ec) return make_error(ErrorCode::kIo, "cannot list the AOT cache " + out.dir + ": " + ec.message());
  std::sort(out.objects.begin(), out.objects.end(), [](const CacheObject& a, const CacheObject& b) {
    return a.last_used != b.last_used ? a.last_used > b.last_used : a.key < b.key;
  });
  return out;
}

Result<CachePruned> prune_cache(const AotOptions& aot, const CachePruneRule& rule) {
  CacheContents c;
  WASMCAP_TRY_ASSIGN(c, cache_contents(aot));
  CachePruned out;
  // Killed compiles' directories first: they are nobody's.
  aot::sweep_stale_tmp(c.dir, "");
  CacheContents after;
  WASMCAP_TRY_ASSIGN(after, cache_contents(aot));
  out.temporaries = c.temporaries - std::min(c.temporaries, after.temporaries);
  const int64_t now = static_cast<int64_t>(std::time(nullptr));
  uint64_t kept = c.object_bytes;
  // Least recently used first.
  for (auto it = c.objects.rbegin(); it != c.objects.rend(); ++it) {
    const bool old = rule.unused_for_s != 0 &&
                     it->last_used + static_cast<int64_t>(rule.unused_for_s) <= now;
    if (!rule.all && !old && kept <= rule.max_bytes) continue;
    if (it->key == rule.keep) continue;
    // A compile of this key holds KEY.lock from its re-check to its rename: leave its object.
    const std::string base = c.dir + "/" + it->key;
    int lock = open((base + ".lock").c_str(), O_RDWR | O_NOFOLLOW | O_CLOEXEC);
    if (lock >= 0 && flock(lock, LOCK_EX | LOCK_NB) != 0) {
      close(lock);
      ++out.busy;
      continue;
    }
    // The sidecar first: without it the object is never loaded (docs/aot.md, "Cache").
    bool removed = true;
    for (const char* ext : {".meta", ".verified", ".so"}) {
      if (::unlink((base + ext).c_str()) != 0 && errno != ENOENT) removed = false;
    }
    if (lock >= 0) close(lock);
    if (!removed) {
      return make_error(ErrorCode::kIo, "cannot remove the cached object " + base + ".so: " +
                                            std::strerror(errno));
    }
    ++out.objects;
    out.bytes += it->bytes;
    kept -= std::min(kept, it->bytes);
  }
  if (rule.all) {
    std::error_code ec;
    for (fs::directory_iterator it(c.dir, ec), end; !ec && it != end; it.increment(ec)) {
      const std::string name = it->path().filename().string();
      if (is_record(name) && ::unlink(it->path().c_str()) == 0) ++out.records;
    }
  }
  return out;
}

}  // namespace wasmcap

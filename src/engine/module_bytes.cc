// ModuleBytes (wasmcap/engine.h): the one place a module's sha256 is computed for a run; and
// engine_state_dirs(). Both live with the cache's files (wasmcap_cache): cache keys and records
// are named by the hash (cache::module_bytes_sha256 counts every such hash for the tests), and the
// directories are the cache's.
#include "wasmcap/engine.h"

#include "engine/cache_files.h"

namespace wasmcap {

ModuleBytes& ModuleBytes::with_file(const std::optional<ModuleFileIdentity>& file) {
  if (file && file->size == size_) file_ = file;
  return *this;
}

ModuleBytes& ModuleBytes::with_sha256(const std::string& verified_sha256) {
  learn_sha256(verified_sha256);
  return *this;
}

std::string ModuleBytes::known_sha256() const {
  std::lock_guard<std::mutex> lock(mu_);
  return sha256_;
}

const std::string& ModuleBytes::sha256() const {
  std::lock_guard<std::mutex> lock(mu_);
  if (sha256_.empty()) sha256_ = cache::module_bytes_sha256(data_, size_);
  return sha256_;
}

void ModuleBytes::learn_sha256(const std::string& sha256) const {
  if (!cache::is_sha256_hex(sha256)) return;
  std::lock_guard<std::mutex> lock(mu_);
  if (sha256_.empty()) sha256_ = sha256;
}

std::vector<EngineStateDir> engine_state_dirs() {
  std::vector<EngineStateDir> dirs;
  if (auto dir = cache::cache_dir_path("")) {
    dirs.push_back({*dir, "wasmcap's cache directory (AOT objects, which runs load as native code, "
                          "and validation records)"});
  }
  if (auto root = cache::cache_root_path()) {
    dirs.push_back({*root, "wasmcap's part of the per-user cache (AOT objects, which runs load as "
                           "native code, and validation records)"});
  }
  dirs.push_back({cache::record_key_dir(), "the directory of wasmcap's validation record key"});
  return dirs;
}

}  // namespace wasmcap

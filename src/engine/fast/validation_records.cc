// Validated-module records (validation_records.h).
#include "engine/fast/validation_records.h"

#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>

#include "engine/cache_files.h"
#include "wasmcap/version.h"

namespace wasmcap::fast {

std::string record_key_dir() { return cache::record_key_dir(); }

namespace {

// A private directory or file of ours: owned by this user, no access for group or others.
bool private_to_us(const struct stat& st) {
  return st.st_uid == geteuid() && (st.st_mode & 077) == 0;
}

// Reads the key at `path` (exactly kRecordKeyBytes, private); false when absent or unusable.
bool read_key(const std::string& path, std::string* key) {
  int fd = open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return false;
  struct stat st;
  bool ok = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && private_to_us(st) &&
            cache::read_fd(fd, key, kRecordKeyBytes + 1) && key->size() == kRecordKeyBytes;
  close(fd);
  return ok;
}

}  // namespace

std::optional<std::string> record_key() {
  const std::string dir = record_key_dir();
  struct stat st;
  if (mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) return std::nullopt;
  // A directory someone else made (another user on a shared /tmp) or others can enter: no key,
  // and so no records (every module is validated).
  if (lstat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode) || !private_to_us(st)) {
    return std::nullopt;
  }
  const std::string path = dir + "/validation-record-key";
  std::string key;
  if (read_key(path, &key)) return key;
  if (sodium_init() < 0) return std::nullopt;
  key.resize(kRecordKeyBytes);
  randombytes_buf(key.data(), key.size());
  // O_EXCL: of two processes creating it at once, one wins and both use its key.
  if (cache::write_file(path, key)) return key;
  key.clear();
  if (read_key(path, &key)) return key;
  return std::nullopt;
}

std::string validation_build_identity(const void* wabt_code) {
  // This function is in the same object as the load (wasmcap's executable or libwasmcap).
  std::string own = cache::object_build_id(reinterpret_cast<const void*>(&validation_build_identity));
  std::string wabt = cache::object_build_id(wabt_code);
  if (own.empty() || wabt.empty()) return "";
  std::string id = std::string("wasmcap-") + WASMCAP_VERSION + "-" + own;
  if (wabt != own) id += "-wabt-" + wabt;  // wabt linked as a shared library
  return id;
}

std::string validation_record_path(const std::string& dir, const std::string& module_sha256) {
  return dir + "/valid-" + module_sha256;
}

std::string validation_record_text(const std::string& build, const std::string& module_sha256,
                                   ValidationFacts facts) {
  return "wasmcap-fast-validated 4\nbuild " + build + "\nsha256 " + module_sha256 +
         "\nvalid simd " + (facts.simd ? "1" : "0") + " exceptions " +
         (facts.exceptions ? "1" : "0") + " aot-bounds " + (facts.within_aot_bounds ? "1" : "0") +
         "\n";
}

std::string validation_record(const std::string& key, const std::string& build,
                              const std::string& module_sha256, ValidationFacts facts) {
  if (key.size() != kRecordKeyBytes || sodium_init() < 0) return "";
  std::string text = validation_record_text(build, module_sha256, facts);
  unsigned char mac[crypto_auth_hmacsha256_BYTES];
  crypto_auth_hmacsha256(mac, reinterpret_cast<const unsigned char*>(text.data()), text.size(),
                         reinterpret_cast<const unsigned char*>(key.data()));
  return text + "mac " + cache::hex(mac, sizeof mac) + "\n";
}

std::optional<ValidationFacts> recorded_validation(const std::string& dir,
                                                   const std::string& build,
                                                   const std::string& module_sha256) {
  if (build.empty() || !cache::is_sha256_hex(module_sha256)) return std::nullopt;
  auto key = record_key();
  if (!key) return std::nullopt;  // no key: no record is trusted
  std::string data;
  if (!cache::read_trusted(validation_record_path(dir, module_sha256), kMaxValidationRecordBytes,
                           &data)) {
    return std::nullopt;
  }
  // Exactly one of the eight texts this build writes for these bytes; nothing is parsed.
  // The MAC is compared in constant time (sodium_memcmp): a forger learns nothing from timing.
  for (int bits = 0; bits < 8; ++bits) {
    ValidationFacts f{(bits & 1) != 0, (bits & 2) != 0, (bits & 4) != 0};
    std::string want = validation_record(*key, build, module_sha256, f);
    if (!want.empty() && data.size() == want.size() &&
        sodium_memcmp(data.data(), want.data(), want.size()) == 0) {
      return f;
    }
  }
  return std::nullopt;
}

void record_validation(const std::string& dir, const std::string& build,
                       const std::string& module_sha256, ValidationFacts facts) {
  if (build.empty() || !cache::is_sha256_hex(module_sha256)) return;
  auto key = record_key();
  if (!key) return;  // no key: records are neither written nor read
  const std::string path = validation_record_path(dir, module_sha256);
  struct stat st;
  if (lstat(path.c_str(), &st) != 0) cache::bound_records(dir, "valid-", kMaxValidationRecords);
  cache::replace_file(path, validation_record(*key, build, module_sha256, facts));
}

}  // namespace wasmcap::fast

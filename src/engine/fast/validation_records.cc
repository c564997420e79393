// Validated-module records (validation_records.h).
#include "engine/fast/validation_records.h"

#include <sys/stat.h>

#include "engine/cache_files.h"
#include "wasmcap/wasmcap.h"

namespace wasmcap::fast {

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

std::string validation_record(const std::string& build, const std::string& module_sha256,
                              ValidationFacts facts) {
  return "wasmcap-fast-validated 3\nbuild " + build + "\nsha256 " + module_sha256 +
         "\nvalid simd " + (facts.simd ? "1" : "0") + " exceptions " +
         (facts.exceptions ? "1" : "0") + " aot-bounds " + (facts.within_aot_bounds ? "1" : "0") +
         "\n";
}

std::optional<ValidationFacts> recorded_validation(const std::string& dir,
                                                   const std::string& build,
                                                   const std::string& module_sha256) {
  if (build.empty() || !cache::is_sha256_hex(module_sha256)) return std::nullopt;
  std::string data;
  if (!cache::read_trusted(validation_record_path(dir, module_sha256), kMaxValidationRecordBytes,
                           &data)) {
    return std::nullopt;
  }
  // Exactly one of the eight texts this build writes for these bytes; nothing is parsed.
  for (int bits = 0; bits < 8; ++bits) {
    ValidationFacts f{(bits & 1) != 0, (bits & 2) != 0, (bits & 4) != 0};
    if (data == validation_record(build, module_sha256, f)) return f;
  }
  return std::nullopt;
}

void record_validation(const std::string& dir, const std::string& build,
                       const std::string& module_sha256, ValidationFacts facts) {
  if (build.empty() || !cache::is_sha256_hex(module_sha256)) return;
  const std::string path = validation_record_path(dir, module_sha256);
  struct stat st;
  if (lstat(path.c_str(), &st) != 0) cache::bound_records(dir, "valid-", kMaxValidationRecords);
  cache::replace_file(path, validation_record(build, module_sha256, facts));
}

}  // namespace wasmcap::fast

// Validated-module records of the fast engine (docs/fast-interp.md, "Validated-module records";
// docs/security-model.md, "AOT cache"): a module whose exact bytes this build validated before is
// not validated again. A record decides whether a module is validated at all, so every rule that
// keeps a wrong one from being trusted has a test here that fails without it. The module INVALID
// has a body that does not type-check but declarations wabt's IR reader takes: a wrongly trusted
// record makes its load succeed (OurRecordIsTrusted shows that this is what a trusted record
// does), so each refusal below is visible as "invalid module" instead.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <optional>

#include "engine/aot_bounds.h"
#include "engine/cache_files.h"
#include "engine/describe.h"
#include "engine/fast/validation_records.h"
#include "test_support.h"
#include "wasmcap/engine.h"
#include "wasmcap/runtime.h"
#include "wasmcap/version.h"

namespace wasmcap {
namespace {

namespace fs = std::filesystem;
using testing::answer_module;
using fast::load_test_hooks::validations;

// The same declarations; the body is `i32.add` on an empty stack (a validation error).
const std::vector<uint8_t> kInvalid = {0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
                                       0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7f,
                                       0x03, 0x02, 0x01, 0x00,
                                       0x07, 0x05, 0x01, 0x01, 'f', 0x00, 0x00,
                                       0x0a, 0x05, 0x01, 0x03, 0x00, 0x6a, 0x0b};

// (func (export "f") (result i32) (local v128) v128.const i32x4 1 2 3 4, local.set 0,
//  i32.const 7, local.get 0, i32x4.extract_lane 3, i32.add): 11.
std::vector<uint8_t> simd_module() {
  std::vector<uint8_t> body = {0x01, 0x01, 0x7b,  // one v128 local
                               0xfd, 0x0c, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 4, 0, 0, 0,
                               0x21, 0x00, 0x41, 0x07, 0x20, 0x00, 0xfd, 0x1b, 0x03, 0x6a, 0x0b};
  std::vector<uint8_t> m = {0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
                            0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7f,
                            0x03, 0x02, 0x01, 0x00,
                            0x07, 0x05, 0x01, 0x01, 'f', 0x00, 0x00,
                            0x0a, static_cast<uint8_t>(body.size() + 2), 0x01,
                            static_cast<uint8_t>(body.size())};
  m.insert(m.end(), body.begin(), body.end());
  return m;
}

void write_text(const fs::path& p, const std::string& s, mode_t mode = 0600) {
  fs::remove(p);
  int fd = open(p.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(write(fd, s.data(), s.size()), static_cast<ssize_t>(s.size()));
  close(fd);
  ASSERT_EQ(chmod(p.c_str(), mode), 0);  // whatever the umask
}

std::string read_text(const fs::path& p) {
  std::string s;
  int fd = open(p.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return "";
  cache::read_fd(fd, &s, 1 << 20);
  close(fd);
  return s;
}

std::string sha(const std::vector<uint8_t>& b) { return cache::sha256_hex(b.data(), b.size()); }

class FastValidationRecords : public ::testing::Test {
 protected:
  FastValidationRecords() {
    options.validation_records = true;
    options.cache_dir = cache.path().string();
    options.min_recorded_bytes = 0;
    // The record key lives in the user's runtime directory: a private one per test.
    if (const char* x = std::getenv("XDG_RUNTIME_DIR")) saved_runtime_dir = x;
    setenv("XDG_RUNTIME_DIR", runtime.path().c_str(), 1);
  }
  ~FastValidationRecords() override {
    if (saved_runtime_dir) {
      setenv("XDG_RUNTIME_DIR", saved_runtime_dir->c_str(), 1);
    } else {
      unsetenv("XDG_RUNTIME_DIR");
    }
  }
  // A genuine record (what this user's wasmcap writes: MAC under the current key).
  static std::string record(const std::string& build, const std::string& module_sha256,
                            fast::ValidationFacts facts) {
    auto key = fast::record_key();
    EXPECT_TRUE(key.has_value()) << "no record key in " << fast::record_key_dir();
    return key ? fast::validation_record(*key, build, module_sha256, facts) : "";
  }
  fs::path key_path() const { return fs::path(fast::record_key_dir()) / "validation-record-key"; }
  const std::string& build() {
    static const std::string id = [] {
      // The identity the engine computes (fast_engine.cc): ours and wabt's objects, here both
      // this test executable.
      std::string s = fast::validation_build_identity(
          reinterpret_cast<const void*>(&fast::validation_build_identity));
      return s;
    }();
    return id;
  }
  fs::path record_of(const std::vector<uint8_t>& b) {
    return fast::validation_record_path(cache.path().string(), sha(b));
  }
  // Loads `b` on a fresh engine; returns whether it loaded, and sets `validated`.
  Result<std::shared_ptr<const Module>> load(const std::vector<uint8_t>& b, bool* validated,
                                             const ModuleFileIdentity* file = nullptr) {
    auto engine = make_fast_engine(options);
    uint64_t before = validations.load();
    ModuleBytes bytes(b);
    if (file != nullptr) bytes.with_file(*file);
    auto m = engine->load(bytes);
    *validated = validations.load() != before;
    return m;
  }
  // True when `b` loads without being validated.
  bool trusted(const std::vector<uint8_t>& b) {
    bool validated = false;
    auto m = load(b, &validated);
    return m.has_value() && !validated;
  }
  // The INVALID module is refused as invalid (its record was not trusted).
  void expect_refused_invalid() {
    bool validated = false;
    auto m = load(kInvalid, &validated);
    ASSERT_FALSE(m.has_value());
    EXPECT_EQ(m.error().code, ErrorCode::kModuleMalformed);
    EXPECT_TRUE(validated);
  }

  testing::TempDir cache;
  testing::TempDir runtime;
  std::optional<std::string> saved_runtime_dir;
  FastOptions options;
};

// Calls f of a loaded module (a fast module instantiates on any fast engine).
int32_t call_f(const std::shared_ptr<const Module>& m) {
  auto inst = make_fast_engine()->instantiate(m, HostFuncTable{}, ExecLimits{});
  EXPECT_TRUE(inst.has_value());
  if (!inst) return -1;
  auto r = (*inst)->call("f", {});
  EXPECT_TRUE(r.has_value());
  return r && !r->results.empty() ? static_cast<int32_t>(r->results[0].i32) : -1;
}

TEST_F(FastValidationRecords, BuildHasAnIdentity) {
  // Without a build ID no record is ever read or written: the tests below would prove nothing.
  ASSERT_FALSE(build().empty());
  EXPECT_EQ(build().rfind(std::string("wasmcap-") + WASMCAP_VERSION + "-", 0), 0u);
}

TEST_F(FastValidationRecords, SecondLoadOfTheSameBytesIsNotValidated) {
  auto a = answer_module(1);
  bool validated = false;
  ASSERT_TRUE(load(a, &validated).has_value());
  EXPECT_TRUE(validated);
  // The record: exactly our text, a private regular file.
  EXPECT_EQ(read_text(record_of(a)), record(build(), sha(a), {false, false, true}));
  struct stat st;
  ASSERT_EQ(lstat(record_of(a).c_str(), &st), 0);
  EXPECT_TRUE(S_ISREG(st.st_mode));
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  // Then: loaded, not validated, and it runs.
  auto m = load(a, &validated);
  ASSERT_TRUE(m.has_value());
  EXPECT_FALSE(validated);
  EXPECT_EQ(call_f(*m), 1);
}

TEST_F(FastValidationRecords, SimdFlagIsRecordedAndUsed) {
  auto s = simd_module();
  bool validated = false;
  auto m = load(s, &validated);
  ASSERT_TRUE(m.has_value()) << m.error().to_string();
  EXPECT_TRUE(validated);
  EXPECT_EQ(call_f(*m), 11);
  EXPECT_EQ(read_text(record_of(s)), record(build(), sha(s), {true, false, true}));
  m = load(s, &validated);
  ASSERT_TRUE(m.has_value());
  EXPECT_FALSE(validated);
  EXPECT_EQ(call_f(*m), 11);
}

// Whether the module is within the AOT translator's bounds is recorded with it, and a load from
// the record says what the validating pass said (describe.h: --engine auto's aot probe skips its
// own bounds pass on it, docs/aot.md "Cold start"): a module beyond a bound must never come back
// from its record as within.
TEST_F(FastValidationRecords, AotBoundsVerdictIsRecordedAndUsed) {
  // answer_module(5) with one more, unused, type of `n` i32 parameters.
  auto with_params = [](uint32_t n) {
    std::vector<uint8_t> type = {0x02, 0x60, 0x00, 0x01, 0x7f, 0x60};
    for (uint32_t v = n; ; v >>= 7) {  // LEB128
      type.push_back(static_cast<uint8_t>((v & 0x7f) | (v >= 0x80 ? 0x80 : 0)));
      if (v < 0x80) break;
    }
    for (uint32_t i = 0; i < n; ++i) type.push_back(0x7f);
    type.push_back(0x00);
    std::vector<uint8_t> m = {0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01};
    for (uint32_t v = static_cast<uint32_t>(type.size()); ; v >>= 7) {
      m.push_back(static_cast<uint8_t>((v & 0x7f) | (v >= 0x80 ? 0x80 : 0)));
      if (v < 0x80) break;
    }
    m.insert(m.end(), type.begin(), type.end());
    const auto a = answer_module(5);
    m.insert(m.end(), a.begin() + 15, a.end());  // after answer_module's own type section
    return m;
  };
  const auto beyond = with_params(aot::kMaxFunctionParams + 1);
  const auto within = with_params(aot::kMaxFunctionParams);
  for (const auto* b : {&beyond, &within}) {
    const bool in = b == &within;
    bool validated = false;
    auto m = load(*b, &validated);
    ASSERT_TRUE(m.has_value()) << m.error().to_string();
    EXPECT_TRUE(validated);
    EXPECT_EQ(fast::module_within_aot_bounds(**m), in);
    EXPECT_EQ(read_text(record_of(*b)), record(build(), sha(*b), {false, false, in}));
    m = load(*b, &validated);
    ASSERT_TRUE(m.has_value());
    EXPECT_FALSE(validated);
    EXPECT_EQ(fast::module_within_aot_bounds(**m), in) << (in ? "within" : "beyond");
  }
}

TEST_F(FastValidationRecords, ExceptionsFlagIsRecordedAndUsed) {
  // (tag) (func (export "f") (result i32) try (result i32) i32.const 1 catch_all i32.const 2 end)
  const std::vector<uint8_t> eh = {0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
                                   0x01, 0x08, 0x02, 0x60, 0x00, 0x01, 0x7f, 0x60, 0x00, 0x00,
                                   0x03, 0x02, 0x01, 0x00,
                                   0x0d, 0x03, 0x01, 0x00, 0x01,
                                   0x07, 0x05, 0x01, 0x01, 'f', 0x00, 0x00,
                                   0x0a, 0x0c, 0x01, 0x0a, 0x00, 0x06, 0x7f, 0x41, 0x01, 0x19,
                                   0x41, 0x02, 0x0b, 0x0b};
  bool validated = false;
  auto m = load(eh, &validated);
  ASSERT_TRUE(m.has_value()) << m.error().to_string();
  EXPECT_TRUE(validated);
  EXPECT_EQ(fast::module_uses_exceptions(**m), std::optional<bool>(true));
  EXPECT_EQ(read_text(record_of(eh)), record(build(), sha(eh), {false, true, true}));
  m = load(eh, &validated);
  ASSERT_TRUE(m.has_value());
  EXPECT_FALSE(validated);
  EXPECT_EQ(fast::module_uses_exceptions(**m), std::optional<bool>(true));
  EXPECT_EQ(call_f(*m), 1);
  // And a module without: false from the record too.
  auto a = answer_module(1);
  ASSERT_TRUE(load(a, &validated).has_value());
  m = load(a, &validated);
  ASSERT_TRUE(m.has_value());
  EXPECT_FALSE(validated);
  EXPECT_EQ(fast::module_uses_exceptions(**m), std::optional<bool>(false));
}

TEST_F(FastValidationRecords, InvalidModuleIsNeverRecorded) {
  expect_refused_invalid();
  EXPECT_FALSE(fs::exists(record_of(kInvalid)));
  expect_refused_invalid();  // and so it is validated every time
  // A module using a feature this engine refuses (a tail call: return_call 0) is refused by
  // the validating pass and not recorded either.
  std::vector<uint8_t> tail = {0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
                               0x01, 0x04, 0x01, 0x60, 0x00, 0x00,
                               0x03, 0x02, 0x01, 0x00,
                               0x0a, 0x06, 0x01, 0x04, 0x00, 0x12, 0x00, 0x0b};
  bool validated = false;
  auto m = load(tail, &validated);
  EXPECT_FALSE(m.has_value());
  EXPECT_TRUE(validated);
  EXPECT_FALSE(fs::exists(record_of(tail)));
}

// The positive control of the refusals below: a record that is ours, well-formed and names
// exactly these bytes and this build is trusted, even for bytes that are not valid (whoever can
// write such a file can also plant the AOT cache's native code: docs/security-model.md).
TEST_F(FastValidationRecords, OurRecordIsTrusted) {
  write_text(record_of(kInvalid), record(build(), sha(kInvalid), {}));
  EXPECT_TRUE(trusted(kInvalid));
}

// A record anyone but this user's wasmcap wrote is not trusted: the text a record had before
// records carried a MAC (a private 0600 file planted in the cache directory, e.g. by a tool
// in a workspace of $HOME through `ws apply`: the fast translator then crashed on the invalid
// module it named), the text with a MAC under another key, and a genuine record once the key it
// was made with is gone. docs/security-model.md, "AOT cache".
TEST_F(FastValidationRecords, ForgedRecordIsNotTrusted) {
  const std::string text = fast::validation_record_text(build(), sha(kInvalid), {});
  write_text(record_of(kInvalid), text);
  expect_refused_invalid();
  for (const auto& f : {fast::ValidationFacts{}, fast::ValidationFacts{false, false, true}}) {
    write_text(record_of(kInvalid),
               fast::validation_record(std::string(fast::kRecordKeyBytes, 'k'), build(),
                                       sha(kInvalid), f));
    expect_refused_invalid();
  }
  // The control: the same record under this user's key is trusted...
  write_text(record_of(kInvalid), record(build(), sha(kInvalid), {}));
  EXPECT_TRUE(trusted(kInvalid));
  // ... until the key changes (a new runtime directory: after a reboot, another machine).
  fs::remove(key_path());
  expect_refused_invalid();
  // A valid module whose record no longer verifies is validated (and recorded) again.
  auto a = answer_module(9);
  ASSERT_TRUE(trusted(a) || trusted(a));
  fs::remove(key_path());
  bool validated = false;
  ASSERT_TRUE(load(a, &validated).has_value());
  EXPECT_TRUE(validated);
  EXPECT_TRUE(trusted(a));
}

// A key others can read (or a key directory others can enter) is no key: nothing is trusted
// and nothing is recorded, every module is validated.
TEST_F(FastValidationRecords, KeyReadableByOthersIsNotUsed) {
  auto a = answer_module(11);
  ASSERT_TRUE(trusted(a) || trusted(a));
  ASSERT_EQ(chmod(key_path().c_str(), 0644), 0);
  bool validated = false;
  ASSERT_TRUE(load(a, &validated).has_value());
  EXPECT_TRUE(validated) << "a record was trusted under a key others can read";
  ASSERT_EQ(chmod(key_path().c_str(), 0600), 0);
  EXPECT_TRUE(trusted(a));
  ASSERT_EQ(chmod(fast::record_key_dir().c_str(), 0755), 0);
  EXPECT_FALSE(fast::record_key().has_value());
  validated = false;
  ASSERT_TRUE(load(a, &validated).has_value());
  EXPECT_TRUE(validated);
  ASSERT_EQ(chmod(fast::record_key_dir().c_str(), 0700), 0);
}

TEST_F(FastValidationRecords, RecordForOtherBytesIsNotTrusted) {
  auto a = answer_module(1);
  ASSERT_TRUE(trusted(a) || trusted(a));  // recorded
  // A's (genuine) record under INVALID's name.
  fs::copy_file(record_of(a), record_of(kInvalid));
  expect_refused_invalid();
  // A record naming INVALID's hash, but of another build.
  write_text(record_of(kInvalid), record(build() + "0", sha(kInvalid), {}));
  expect_refused_invalid();
  write_text(record_of(kInvalid),
             record("wasmcap-0.0.9-" + std::string(40, 'a'), sha(kInvalid), {}));
  expect_refused_invalid();
}

TEST_F(FastValidationRecords, DamagedRecordIsNotTrusted) {
  const std::string good = record(build(), sha(kInvalid), {});
  // The MAC's last hex digit changed (to another digit: never the same record), a flag changed
  // under the same MAC, a flag's line damaged.
  std::string mac_digit = good;
  char& last = mac_digit[mac_digit.size() - 2];
  last = last == '0' ? '1' : '0';
  std::string flag = good;
  flag.replace(flag.find("aot-bounds 0"), 12, "aot-bounds 1");
  std::string flag_line = good;
  flag_line.replace(flag_line.find("aot-bounds 0"), 12, "aot-bounds 2");
  for (const std::string& bad :
       {good.substr(0, good.size() - 1), good + "\n", good + "x", std::string(""),
        "wasmcap-fast-validated 1" + good.substr(good.find('\n')), mac_digit, flag, flag_line,
        good.substr(0, good.size() - 2) + "1 \n", std::string(2000, 'a')}) {
    write_text(record_of(kInvalid), bad);
    expect_refused_invalid();
  }
  // A record larger than the bound, even one that starts with the right text.
  write_text(record_of(kInvalid), good + std::string(fast::kMaxValidationRecordBytes, ' '));
  expect_refused_invalid();
}

TEST_F(FastValidationRecords, ForeignRecordIsIgnored) {
  const std::string good = record(build(), sha(kInvalid), {});
  const fs::path rec = record_of(kInvalid);
  // Writable by group, by others.
  for (mode_t mode : {0620, 0602, 0660}) {
    write_text(rec, good, mode);
    expect_refused_invalid();
  }
  // Another user's.
  write_text(rec, good);
  if (geteuid() == 0) {
    ASSERT_EQ(chown(rec.c_str(), 4242, 4242), 0);
    expect_refused_invalid();
  }
  // A symlink to a good record elsewhere (O_NOFOLLOW).
  testing::TempDir other;
  write_text(other.path() / "r", good);
  fs::remove(rec);
  fs::create_symlink(other.path() / "r", rec);
  expect_refused_invalid();
  // A directory or a FIFO by that name.
  fs::remove(rec);
  fs::create_directory(rec);
  expect_refused_invalid();
  fs::remove(rec);
  ASSERT_EQ(mkfifo(rec.c_str(), 0600), 0);
  expect_refused_invalid();
  fs::remove(rec);
  // The same text as a private regular file: trusted (the control).
  write_text(rec, good);
  EXPECT_TRUE(trusted(kInvalid));
}

TEST_F(FastValidationRecords, ChangedModuleFileIsValidatedAgain) {
  // A module file (its identity as read_module_file gives it, settled timestamps): the first
  // load hashes and validates, records both; the second finds the file record (no hash) and the
  // validation record (no validation). Then the file changes to INVALID (same path and size,
  // new mtime): its old file record must not be trusted, so its bytes are hashed and validated.
  auto a = answer_module(1);
  ModuleFileIdentity file;
  file.path = "/nonexistent/m.wasm";
  file.device = 1;
  file.inode = 2;
  file.size = a.size();
  file.mtime_ns = 1000000000LL * 1000000;
  file.ctime_ns = file.mtime_ns;
  bool validated = false;
  ASSERT_TRUE(load(a, &validated, &file).has_value());
  EXPECT_TRUE(validated);
  EXPECT_EQ(cache::recorded_module_sha256(cache.path().string(), file), sha(a));
  ASSERT_TRUE(load(a, &validated, &file).has_value());
  EXPECT_FALSE(validated);
  // The file changed: new mtime (ctime), new size.
  ModuleFileIdentity changed = file;
  changed.size = kInvalid.size();
  changed.mtime_ns += 5000000000LL;
  changed.ctime_ns = changed.mtime_ns;
  auto m = load(kInvalid, &validated, &changed);
  ASSERT_FALSE(m.has_value());
  EXPECT_EQ(m.error().code, ErrorCode::kModuleMalformed);
  EXPECT_TRUE(validated);
  // Changed in the same size: only the mtime differs.
  changed = file;
  changed.mtime_ns += 7000000000LL;
  changed.ctime_ns = changed.mtime_ns;
  auto b = answer_module(2);
  ASSERT_TRUE(load(b, &validated, &changed).has_value());
  EXPECT_TRUE(validated);  // B's bytes were hashed, not taken for A's
  // A's record of the file still holds for A; but an identity whose size does not match the
  // bytes describes other bytes: INVALID with A's identity is hashed and validated.
  ASSERT_TRUE(load(a, &validated, &file).has_value());
  EXPECT_FALSE(validated);
  m = load(kInvalid, &validated, &file);
  EXPECT_FALSE(m.has_value());
  EXPECT_TRUE(validated);
}

TEST_F(FastValidationRecords, RealModuleFileChangedInPlaceIsValidatedAgain) {
  // The same through read_module_file on a real file (its record of the file is written only
  // once the file's timestamps are settled; the validation record is keyed by content anyway).
  testing::TempDir files;
  const fs::path path = files.path() / "m.wasm";
  auto a = answer_module(1);
  write_text(path, std::string(a.begin(), a.end()), 0644);
  auto f = read_module_file(path.string());
  ASSERT_TRUE(f.has_value() && f->file.has_value());
  bool validated = false;
  ASSERT_TRUE(load(f->bytes, &validated, &*f->file).has_value());
  EXPECT_TRUE(validated);
  f = read_module_file(path.string());
  ASSERT_TRUE(load(f->bytes, &validated, &*f->file).has_value());
  EXPECT_FALSE(validated);
  // Rewritten in place (same inode) with invalid bytes.
  int fd = open(path.c_str(), O_WRONLY | O_TRUNC | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(write(fd, kInvalid.data(), kInvalid.size()), static_cast<ssize_t>(kInvalid.size()));
  close(fd);
  f = read_module_file(path.string());
  auto m = load(f->bytes, &validated, f->file ? &*f->file : nullptr);
  ASSERT_FALSE(m.has_value());
  EXPECT_TRUE(validated);
}

TEST_F(FastValidationRecords, UnusableCacheDirValidatesAsBefore) {
  auto a = answer_module(1);
  // Group-writable directory: not used (neither read nor written), the load still succeeds.
  write_text(record_of(kInvalid), record(build(), sha(kInvalid), {}));
  ASSERT_EQ(chmod(cache.path().c_str(), 0770), 0);
  expect_refused_invalid();
  bool validated = false;
  ASSERT_TRUE(load(a, &validated).has_value());
  EXPECT_TRUE(validated);
  EXPECT_FALSE(fs::exists(record_of(a)));
  ASSERT_EQ(chmod(cache.path().c_str(), 0700), 0);
  // A path that is a file, or cannot be created.
  testing::TempDir other;
  write_text(other.path() / "file", "x");
  for (const fs::path& dir : {other.path() / "file", other.path() / "file" / "sub"}) {
    options.cache_dir = dir.string();
    ASSERT_TRUE(load(a, &validated).has_value());
    EXPECT_TRUE(validated);
  }
}

TEST_F(FastValidationRecords, SmallOrDisabledWritesNothing) {
  auto a = answer_module(1);
  options.min_recorded_bytes = a.size() + 1;
  bool validated = false;
  ASSERT_TRUE(load(a, &validated).has_value());
  ASSERT_TRUE(load(a, &validated).has_value());
  EXPECT_TRUE(validated);
  options.min_recorded_bytes = 0;
  options.validation_records = false;
  ASSERT_TRUE(load(a, &validated).has_value());
  EXPECT_TRUE(validated);
  EXPECT_TRUE(fs::is_empty(cache.path()));
  // make_fast_engine() keeps none; fast_options() turns them on unless
  // WASMCAP_VALIDATION_CACHE=0.
  AotOptions aot;
  aot.cache_dir = "/x";
  EXPECT_TRUE(fast_options(aot).validation_records);
  EXPECT_EQ(fast_options(aot).cache_dir, "/x");
  setenv("WASMCAP_VALIDATION_CACHE", "0", 1);
  EXPECT_FALSE(fast_options(aot).validation_records);
  unsetenv("WASMCAP_VALIDATION_CACHE");
}

TEST_F(FastValidationRecords, RecordsAreBounded) {
  for (size_t i = 0; i < fast::kMaxValidationRecords; ++i) {
    write_text(cache.path() / ("valid-" + std::to_string(i)), "x");
  }
  write_text(cache.path() / "file-keep", "x");
  auto a = answer_module(1);
  bool validated = false;
  ASSERT_TRUE(load(a, &validated).has_value());
  size_t records = 0;
  for (const auto& e : fs::directory_iterator(cache.path())) {
    if (e.path().filename().string().rfind("valid-", 0) == 0) ++records;
  }
  EXPECT_EQ(records, 1u);  // the new one
  EXPECT_TRUE(fs::exists(record_of(a)));
  EXPECT_TRUE(fs::exists(cache.path() / "file-keep"));
}

// wasmcap run: records in the cache directory (--cache-dir / $WASMCAP_CACHE_DIR), none with
// WASMCAP_VALIDATION_CACHE=0; modules below FastOptions::min_recorded_bytes are not recorded.
TEST_F(FastValidationRecords, RunModuleUsesTheCacheDirectory) {
  // A (f) with a 300 KiB custom section, so it is above the default size.
  auto big = answer_module(3);
  std::vector<uint8_t> custom = {'p', 'a', 'd'};
  custom.insert(custom.begin(), 3);
  custom.resize(custom.size() + 300 * 1024, 0);
  big.push_back(0);
  uint32_t n = static_cast<uint32_t>(custom.size());
  do {
    uint8_t byte = n & 0x7f;
    n >>= 7;
    big.push_back(n != 0 ? (byte | 0x80) : byte);
  } while (n != 0);
  big.insert(big.end(), custom.begin(), custom.end());
  RunOptions ro;
  ro.engine = "interp";
  ro.entry = "f";
  ro.aot.cache_dir = cache.path().string();
  setenv("WASMCAP_VALIDATION_CACHE", "0", 1);
  ASSERT_TRUE(run_module(big, ro).has_value());
  unsetenv("WASMCAP_VALIDATION_CACHE");
  EXPECT_FALSE(fs::exists(record_of(big)));
  uint64_t before = validations.load();
  ASSERT_TRUE(run_module(big, ro).has_value());
  EXPECT_EQ(validations.load(), before + 1);
  EXPECT_TRUE(fs::exists(record_of(big)));
  ASSERT_TRUE(run_module(big, ro).has_value());
  EXPECT_EQ(validations.load(), before + 1);
}

// Big inputs are hashed by libcrypto when it is there (cache_files.h): the digest is the same
// SHA-256 as libsodium's, at, below and above the size from which libcrypto is used, and the
// standard test vectors hold.
TEST(CacheFiles, Sha256OfBigInputsIsLibsodiums) {
  const std::string abc = "abc";
  EXPECT_EQ(cache::sha256_hex(abc.data(), abc.size()),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  std::vector<uint8_t> b(cache::kLibcryptoSha256MinBytes + 4097);
  uint64_t x = 0x9e3779b97f4a7c15ull;
  for (auto& c : b) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    c = static_cast<uint8_t>(x);
  }
  for (size_t n : {cache::kLibcryptoSha256MinBytes - 1, cache::kLibcryptoSha256MinBytes,
                   b.size()}) {
    EXPECT_EQ(cache::sha256_hex(b.data(), n), cache::sha256_hex_libsodium(b.data(), n)) << n;
  }
  const std::string million(1000000, 'a');
  EXPECT_EQ(cache::sha256_hex_libsodium(million.data(), million.size()),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

}  // namespace
}  // namespace wasmcap

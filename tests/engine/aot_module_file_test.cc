// Module file records (docs/aot.md, "Cold start"): the AOT engine finds the sha256 of a module
// read from an unchanged file in a record of the file's identity instead of hashing it. A record
// decides which compiled object runs, so every rule that keeps a wrong one from being trusted has
// a test here that fails without it. Two modules of the same size, A (f returns 1) and B (f
// returns 2), make a wrongly trusted record visible: the bytes of one run the other's object.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include "engine/aot/aot_cache.h"
#include "test_support.h"
#include "wasmcap/engine.h"
#include "wasmcap/wasmcap.h"
#include "wasmcap/runtime.h"

namespace wasmcap {
namespace {

namespace fs = std::filesystem;
using testing::answer_module;

void write_bytes(const fs::path& p, const std::vector<uint8_t>& b, bool in_place = false) {
  // in_place: rewrite the existing file (same inode); otherwise a new file.
  int fd = open(p.c_str(), O_WRONLY | O_CLOEXEC | (in_place ? O_TRUNC : O_CREAT | O_TRUNC), 0644);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(write(fd, b.data(), b.size()), static_cast<ssize_t>(b.size()));
  close(fd);
}

// Sets a file's mtime (and atime) to `sec` seconds since the epoch: its ctime becomes now.
void set_mtime(const fs::path& p, time_t sec) {
  struct timespec ts[2] = {{sec, 0}, {sec, 0}};
  ASSERT_EQ(utimensat(AT_FDCWD, p.c_str(), ts, AT_SYMLINK_NOFOLLOW), 0);
}

class AotModuleFile : public ::testing::Test {
 protected:
  void SetUp() override {
    options.cache_dir = cache.path().string();
    options.opt_level = 1;
    // Both objects (and module descriptions) in the cache: a wrongly trusted record then runs
    // the other module instead of compiling.
    for (const auto& b : {a, b}) {
      auto engine = make_aot_engine(options);
      auto m = engine->load(b.data(), b.size());
      ASSERT_TRUE(m.has_value()) << m.error().to_string();
    }
    a_sha = aot::module_sha256(a.data(), a.size());
    b_sha = aot::module_sha256(b.data(), b.size());
    module = files.path() / "m.wasm";
  }

  // Loads `module` as `wasmcap run` does (read_module_file + its identity) and calls f.
  int32_t run() {
    auto f = read_module_file(module.string());
    EXPECT_TRUE(f.has_value());
    if (!f) return -1;
    EXPECT_TRUE(f->file.has_value());
    auto engine = make_aot_engine(options);
    auto m = engine->load(ModuleBytes(f->bytes).with_file(f->file));
    EXPECT_TRUE(m.has_value()) << m.error().to_string();
    if (!m) return -1;
    auto inst = engine->instantiate(*m, {}, {});
    EXPECT_TRUE(inst.has_value()) << inst.error().to_string();
    if (!inst) return -1;
    auto r = (*inst)->call("f", {});
    EXPECT_TRUE(r.has_value()) << r.error().to_string();
    return r && !r->results.empty() ? static_cast<int32_t>(r->results[0].i32) : -1;
  }

  // (module (func (export "g") (result i32) (i32.const 7))), compiled into the cache: another
  // module than A and B, with another export name, so that which one a load went by shows.
  std::vector<uint8_t> cached_g() {
    std::vector<uint8_t> g = answer_module(7);
    g[23] = 'g';
    auto engine = make_aot_engine(options);
    auto m = engine->load(g.data(), g.size());
    EXPECT_TRUE(m.has_value()) << m.error().to_string();
    return g;
  }

  ModuleFileIdentity identity() {
    auto f = read_module_file(module.string());
    EXPECT_TRUE(f.has_value() && f->file.has_value());
    return f && f->file ? *f->file : ModuleFileIdentity{};
  }

  std::vector<fs::path> records() const {
    std::vector<fs::path> out;
    for (const auto& e : fs::directory_iterator(cache.path())) {
      if (e.path().filename().string().rfind("file-", 0) == 0) out.push_back(e.path());
    }
    return out;
  }

  // Writes `text` as the record of `id` (0600), dated 60 s after now: settled against a file
  // changed just now.
  void plant(const ModuleFileIdentity& id, const std::string& text) {
    fs::path p = aot::module_file_record_path(cache.path().string(), id);
    fs::remove(p);
    testing::write_text(p, text);
    fs::permissions(p, fs::perms::owner_read | fs::perms::owner_write, fs::perm_options::replace);
    set_mtime(p, time(nullptr) + 60);
  }

  testing::TempDir cache, files;
  AotOptions options;
  std::vector<uint8_t> a = answer_module(1), b = answer_module(2);
  std::string a_sha, b_sha;
  fs::path module;
};

// The record is made and used; a module rewritten in place keeping its size and mtime (only its
// ctime changes) runs as the new module, and its record is replaced, not added to.
TEST_F(AotModuleFile, UnchangedFileUsesItsRecordAndAnInPlaceRewriteIsHashedAgain) {
  write_bytes(module, a);
  const time_t old = time(nullptr) - 3600;
  set_mtime(module, old);
  std::this_thread::sleep_for(std::chrono::milliseconds(2200));  // the ctime settles
  EXPECT_EQ(run(), 1);
  auto recs = records();
  ASSERT_EQ(recs.size(), 1u) << "no record of a settled module file";
  EXPECT_EQ(testing::read_text(recs[0]), aot::module_file_record(identity(), a_sha));

  // The record is what the load goes by (not a hash of the bytes): with B's hash in it, A's
  // bytes run B's object. (The negative tests below rely on planting working like this.)
  plant(identity(), aot::module_file_record(identity(), b_sha));
  EXPECT_EQ(run(), 2);
  plant(identity(), aot::module_file_record(identity(), a_sha));
  EXPECT_EQ(run(), 1);

  // In place, same size, mtime restored: device, inode, size and mtime are those recorded.
  write_bytes(module, b, /*in_place=*/true);
  set_mtime(module, old);
  EXPECT_EQ(run(), 2) << "a rewritten module ran the old module's object";
  std::this_thread::sleep_for(std::chrono::milliseconds(2200));
  EXPECT_EQ(run(), 2);
  recs = records();
  ASSERT_EQ(recs.size(), 1u);
  EXPECT_EQ(testing::read_text(recs[0]), aot::module_file_record(identity(), b_sha));
}

// A file changed less than 2 s ago gets no record (a change within the same timestamp tick would
// not show), and a record written less than 2 s after the file's last change is not trusted.
TEST_F(AotModuleFile, RacyFileIsNeitherRecordedNorTrusted) {
  write_bytes(module, a);
  set_mtime(module, time(nullptr) - 3600);  // an old mtime, but the ctime is now
  EXPECT_EQ(run(), 1);
  EXPECT_TRUE(records().empty()) << "a record of a file changed just now";

  ModuleFileIdentity id = identity();
  plant(id, aot::module_file_record(id, b_sha));
  EXPECT_EQ(run(), 2) << "control: a settled record is trusted";
  fs::path p = aot::module_file_record_path(cache.path().string(), id);
  // Written within 2 s of the file's ctime (after it, before it: both racy).
  for (int64_t delta_ns : {int64_t{1500000000}, int64_t{0}, int64_t{-5000000000}}) {
    int64_t t = id.ctime_ns + delta_ns;
    struct timespec ts[2] = {{static_cast<time_t>(t / 1000000000), t % 1000000000},
                             {static_cast<time_t>(t / 1000000000), t % 1000000000}};
    ASSERT_EQ(utimensat(AT_FDCWD, p.c_str(), ts, AT_SYMLINK_NOFOLLOW), 0);
    EXPECT_EQ(run(), 1) << "a racy record was trusted (written ctime" << delta_ns << " ns)";
  }
  // The mtime counts too: a file dated into the future is racy until then.
  set_mtime(module, time(nullptr) + 3600);
  id = identity();
  plant(id, aot::module_file_record(id, b_sha));
  EXPECT_EQ(run(), 1) << "a record of a file whose mtime is after the record was trusted";
}

// Every field of the identity must match, the record must be exactly ours and well-formed, and
// it must be a file of this user's that nobody else can write; anything else: hash as usual.
TEST_F(AotModuleFile, MismatchingMalformedOrForeignRecordsAreIgnored) {
  write_bytes(module, a);
  const ModuleFileIdentity id = identity();
  const std::string good = aot::module_file_record(id, b_sha);
  plant(id, good);
  ASSERT_EQ(run(), 2) << "control: the well-formed record is trusted";

  auto with = [&](auto change) {
    ModuleFileIdentity other = id;
    change(other);
    return aot::module_file_record(other, b_sha);
  };
  const std::vector<std::pair<std::string, std::string>> bad = {
      {"device", with([](ModuleFileIdentity& i) { i.device += 1; })},
      {"inode", with([](ModuleFileIdentity& i) { i.inode += 1; })},
      {"size", with([](ModuleFileIdentity& i) { i.size += 1; })},
      {"mtime", with([](ModuleFileIdentity& i) { i.mtime_ns += 1; })},
      {"ctime", with([](ModuleFileIdentity& i) { i.ctime_ns += 1; })},
      {"path", with([](ModuleFileIdentity& i) { i.path += "x"; })},
      {"trailing bytes", good + "x"},
      {"a second hash line", good + "sha256 " + b_sha + "\n"},
      {"no final newline", good.substr(0, good.size() - 1)},
      {"short hash", good.substr(0, good.size() - 2) + "\n"},
      {"uppercase hash", good.substr(0, good.size() - 65) + "E" + b_sha.substr(1) + "\n"},
      {"not hex", good.substr(0, good.size() - 65) + "g" + b_sha.substr(1) + "\n"},
      {"other version", "wasmcap-aot-module-file 2" + good.substr(good.find('\n'))},
      {"oversized", good + std::string(100000, '\n')},
      {"empty", ""},
  };
  for (const auto& [what, text] : bad) {
    plant(id, text);
    EXPECT_EQ(run(), 1) << "trusted a record with a wrong " << what;
  }

  fs::path p = aot::module_file_record_path(cache.path().string(), id);
  plant(id, good);
  fs::permissions(p, fs::perms::group_write, fs::perm_options::add);
  EXPECT_EQ(run(), 1) << "trusted a group-writable record";
  plant(id, good);
  fs::permissions(p, fs::perms::others_write, fs::perm_options::add);
  EXPECT_EQ(run(), 1) << "trusted a world-writable record";
  if (geteuid() == 0) {
    plant(id, good);
    ASSERT_EQ(chown(p.c_str(), 65534, 65534), 0);
    EXPECT_EQ(run(), 1) << "trusted a record owned by another user";
  }
  // A symlink to a good record elsewhere (O_NOFOLLOW).
  plant(id, good);
  fs::path elsewhere = files.path() / "record";
  fs::rename(p, elsewhere);
  fs::create_symlink(elsewhere, p);
  EXPECT_EQ(run(), 1) << "followed a symlinked record";
  fs::remove(p);

  // A cache directory others can write is refused as a whole: its record is never read.
  plant(id, good);
  fs::permissions(cache.path(), fs::perms::group_write, fs::perm_options::add);
  {
    auto f = read_module_file(module.string());
    ASSERT_TRUE(f && f->file);
    auto engine = make_aot_engine(options);
    auto m = engine->load(ModuleBytes(f->bytes).with_file(f->file));
    ASSERT_FALSE(m.has_value()) << "loaded from a group-writable cache directory";
    EXPECT_EQ(m.error().code, ErrorCode::kIo);
  }
  fs::permissions(cache.path(), fs::perms::group_write, fs::perm_options::remove);
  EXPECT_EQ(run(), 2) << "control: the same record in the same directory, mode restored";
}

// One record per module path, replaced; at most kMaxFileRecords, whatever the number of paths.
TEST_F(AotModuleFile, RecordsAreBoundedInSizeAndNumber) {
  ModuleFileIdentity id;
  id.device = 1;
  id.inode = 2;
  id.size = 34;
  id.mtime_ns = id.ctime_ns = 1000000000;  // 1970: settled
  const std::string dir = cache.path().string();
  for (int i = 0; i < 3; ++i) {
    id.path = "/same/path";
    id.inode = 2 + i;
    aot::record_module_sha256(dir, id, a_sha);
  }
  EXPECT_EQ(records().size(), 1u) << "one path, one record";
  for (size_t i = 0; i < aot::kMaxFileRecords + 50; ++i) {
    id.path = "/p/" + std::to_string(i);
    aot::record_module_sha256(dir, id, a_sha);
    ASSERT_LE(records().size(), aot::kMaxFileRecords) << "after " << i + 1 << " paths";
  }
  EXPECT_FALSE(records().empty());
  EXPECT_EQ(aot::recorded_module_sha256(dir, id), a_sha);
  // A hash that is not one is never recorded.
  id.path = "/q";
  aot::record_module_sha256(dir, id, "../../x");
  EXPECT_FALSE(fs::exists(aot::module_file_record_path(dir, id)));
}

// `wasmcap run` reads the module with its identity: the second run of a settled module file
// leaves a record (the CLI's own wiring, not only the engine's).
TEST_F(AotModuleFile, CliRunRecordsTheModuleFile) {
  write_bytes(module, a);
  set_mtime(module, time(nullptr) - 3600);
  std::this_thread::sleep_for(std::chrono::milliseconds(2200));
  testing::ProcOptions po;
  po.extra_env = {{"WASMCAP_AOT_OPT", "1"}};
  auto r = testing::run_cli({"run", "--engine", "aot", "--cache-dir", cache.path().string(), "--invoke",
                             "f", module.string()},
                            po);
  ASSERT_EQ(r.exit_code, 0) << testing::describe(r);
  EXPECT_EQ(r.out, "1\n");
  auto recs = records();
  ASSERT_EQ(recs.size(), 1u) << testing::describe(r);
  EXPECT_EQ(testing::read_text(recs[0]), aot::module_file_record(identity(), a_sha));
}

// The C API's wasmcap_module_new_from_file reads the module with its identity too, and
// wasmcap_run passes it on: both loads take the module's sha256 from the record (here a planted
// one naming module G, which exports "g" where the file's module exports "f": the export list
// and a run entering "g" show which module the loads went by). Without the identity, both would
// hash the file's bytes at every load.
TEST_F(AotModuleFile, CapiModuleFromFileUsesTheRecord) {
  const std::vector<uint8_t> g = cached_g();
  write_bytes(module, a);
  set_mtime(module, time(nullptr) - 3600);
  plant(identity(), aot::module_file_record(identity(), aot::module_sha256(g.data(), g.size())));

  // The engine's options as the fixture's (opt level 1: the same cache keys).
  setenv("WASMCAP_AOT_OPT", "1", 1);
  wasmcap_engine_t* engine = nullptr;
  ASSERT_EQ(wasmcap_engine_new("aot", cache.path().c_str(), &engine), nullptr);
  wasmcap_module_t* m = nullptr;
  wasmcap_error_t* err = wasmcap_module_new_from_file(engine, module.c_str(), &m);
  ASSERT_EQ(err, nullptr) << wasmcap_error_message(err);
  ASSERT_EQ(wasmcap_module_export_count(m), 1u);
  EXPECT_STREQ(wasmcap_module_export_name(m, 0), "g") << "wasmcap_module_new_from_file hashed the file";
  wasmcap_config_t* config = wasmcap_config_new();
  ASSERT_EQ(wasmcap_config_set_entry(config, "g"), nullptr);
  wasmcap_run_result_t result{};
  err = wasmcap_run(engine, m, config, &result);
  EXPECT_EQ(err, nullptr) << "wasmcap_run hashed the file: " << wasmcap_error_message(err);
  wasmcap_error_delete(err);
  wasmcap_config_delete(config);
  wasmcap_module_delete(m);

  // wasmcap_module_new (bytes, no file) hashes: the file's own module.
  ASSERT_EQ(wasmcap_module_new(engine, a.data(), a.size(), &m), nullptr);
  ASSERT_EQ(wasmcap_module_export_count(m), 1u);
  EXPECT_STREQ(wasmcap_module_export_name(m, 0), "f");
  wasmcap_module_delete(m);
  wasmcap_engine_delete(engine);
  unsetenv("WASMCAP_AOT_OPT");
}

// An installed bundle's run (RunOptions::module_sha256: the module's sha256, verified against
// the signed manifest just before) keys the AOT cache on that hash instead of hashing the module
// again, on "aot" and "auto". Shown by a hash naming module G (exports "g") given with A's bytes:
// the run enters G's "g". A value that is not a sha256 is ignored (the bytes are hashed).
TEST_F(AotModuleFile, VerifiedBundleHashKeysTheCache) {
  const std::vector<uint8_t> g = cached_g();
  const std::string g_sha = aot::module_sha256(g.data(), g.size());
  for (const char* engine : {"aot", "auto"}) {
    RunOptions o;
    o.engine = engine;
    o.aot = options;
    o.entry = "g";
    o.module_sha256 = g_sha;
    auto r = run_module(a, o);
    ASSERT_TRUE(r.has_value()) << engine << ": the module was hashed: " << r.error().to_string();
    EXPECT_EQ(r->engine, "aot") << engine;
    o.module_sha256 = g_sha.substr(0, 63) + "X";
    r = run_module(a, o);
    ASSERT_FALSE(r.has_value()) << engine << ": a malformed hash was used";
    // Nothing is named after it (the hash names cache files: module-SHA.desc).
    for (const auto& e : fs::directory_iterator(cache.path())) {
      EXPECT_EQ(e.path().filename().string().find(o.module_sha256), std::string::npos)
          << engine << ": " << e.path();
    }
    o.entry = "f";
    r = run_module(a, o);
    EXPECT_TRUE(r.has_value()) << engine << ": " << r.error().to_string();
  }
}

}  // namespace
}  // namespace wasmcap

// The local registry: install/list/remove, the trust store and revocation, downgrade and
// same-version rules, tampering inside the registry, concurrent installs, and
// `wasmcap run NAME[@VERSION]` with operator grants from flags and the host config. Each rule's
// test asserts the exact error, so removing the rule fails it.
#include <sqlite3.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <thread>

#include "bundle/registry_test_hooks.h"
#include "engine/test_hooks.h"
#include "signing_home.h"
#include "test_support.h"
#include "wasmcap/bundle.h"
#include "wasmcap/policy.h"
#include "wasmcap/registry.h"

namespace wasmcap::registry {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;
using testing::ProcOptions;
using testing::read_text;
using testing::run_cli;
using testing::TempDir;
using testing::write_text;

class RegistryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = tmp_.path();
    testing::SigningHome h(dir_);
    home_ = h.home;
    official_ = h.official;
    other_ = h.other;
    fs::create_directories(dir_ / "ws");
    write_text(dir_ / "ws/notes.txt", "hello from the workspace\n");
  }

  // Packs plugin NAME@VERSION (module: guest `guest`, permissions `perms`) signed by `key`.
  std::string pack_bundle(const std::string& name, const std::string& version,
                          const std::string& guest, const std::string& perms,
                          const bundle::SecretKey& key, const std::string& description = "") {
    fs::path p = dir_ / ("src-" + name + "-" + version + "-" + std::to_string(counter_++));
    fs::create_directories(p);
    fs::copy_file(testing::guest_path(guest), p / "plugin.wasm");
    Json m = {{"name", name}, {"version", version}, {"module", "plugin.wasm"},
              {"permissions", Json::parse(perms)}};
    if (!description.empty()) m["description"] = description;
    write_text(p / "manifest.json", m.dump());
    std::string out = (p / "plugin.wcb").string();
    auto r = bundle::pack_to_file((p / "manifest.json").string(), key, out);
    EXPECT_TRUE(r.has_value()) << r.error().to_string();
    return out;
  }
  std::string echo(const std::string& version, const bundle::SecretKey& key,
                   const std::string& description = "") {
    return pack_bundle("echo", version, "args_env", R"({"args":true,"env":["LANG"]})", key,
                       description);
  }

  Registry reg() {
    auto r = Registry::open(home_);
    EXPECT_TRUE(r.has_value()) << r.error().to_string();
    return std::move(*r);
  }
  bundle::TrustStore trust(const policy::TrustConfig* config = nullptr) {
    auto t = load_trust_store(home_, config);
    EXPECT_TRUE(t.has_value()) << t.error().to_string();
    return t ? *t : bundle::TrustStore{};
  }
  Result<InstallResult> install(const std::string& path, bool allow_untrusted = false,
                                bool force = false) {
    InstallOptions o;
    o.allow_untrusted = allow_untrusted;
    o.force = force;
    return reg().install(path, trust(), o);
  }
  static void expect_error(const Error& e, ErrorCode code, const std::string& needle) {
    EXPECT_EQ(e.code, code) << e.to_string();
    EXPECT_NE(e.message.find(needle), std::string::npos) << "want '" << needle << "' in: " << e.message;
  }
  testing::ProcResult cli(const std::vector<std::string>& args) {
    ProcOptions o;
    o.extra_env = {{"WASMCAP_HOME", home_}};
    return run_cli(args, o);
  }
  std::vector<std::string> store_dirs() {
    std::vector<std::string> out;
    for (const auto& e : fs::directory_iterator(fs::path(home_) / "registry/store")) {
      out.push_back(e.path().string());
    }
    std::sort(out.begin(), out.end());
    return out;
  }
  // Rewrites the index's rows to name a store directory outside the store (a writer of the
  // index, not of the store).
  void point_index_outside_the_store() {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open((home_ + "/registry/index.sqlite3").c_str(), &db), SQLITE_OK);
    EXPECT_EQ(sqlite3_exec(db, "UPDATE bundles SET store_id = '../../../../etc'", nullptr, nullptr,
                           nullptr),
              SQLITE_OK);
    sqlite3_close(db);
  }
  // `r` resolves echo (the highest version) against `t` and refuses with `code` naming `needle`.
  static void expect_echo_refused(Registry& r, const bundle::TrustStore& t, ErrorCode code,
                                  const std::string& needle) {
    auto res = r.resolve("echo", std::nullopt, t);
    ASSERT_FALSE(res.has_value()) << "resolved; expected " << needle;
    expect_error(res.error(), code, needle);
  }
  std::string revoke_official_config() {
    bundle::PublicKey pk = official_.public_key();
    std::string path = (dir_ / "revoke.json").string();
    write_text(path, R"({"trust":{"revoked":[")" + pk.id() + R"("]}})");
    return path;
  }

  TempDir tmp_;
  fs::path dir_;
  std::string home_;
  bundle::SecretKey official_, other_;
  int counter_ = 0;
};

// --- Install, list, remove -----------------------------------------------------------------------

TEST_F(RegistryTest, InstallStoresVerifiedContentAndResolveReverifies) {
  std::string b = echo("1.0.0", official_);
  auto r = install(b);
  ASSERT_TRUE(r.has_value()) << r.error().to_string();
  EXPECT_EQ(r->outcome, InstallOutcome::kInstalled);
  EXPECT_EQ(r->installed.name, "echo");
  EXPECT_TRUE(r->installed.trusted_at_install);
  EXPECT_FALSE(r->installed.allow_untrusted);
  EXPECT_EQ(r->installed.source, b);
  auto module = testing::guest_bytes("args_env");
  EXPECT_EQ(read_text(r->installed.dir + "/modules/plugin.wasm"),
            std::string(module.begin(), module.end()));
  auto res = reg().resolve("echo", std::nullopt, trust());
  ASSERT_TRUE(res.has_value()) << res.error().to_string();
  EXPECT_EQ(*res->module_bytes, module);
  EXPECT_EQ(res->module_sha256, bundle::sha256_hex(module));
  EXPECT_TRUE(res->signer_trusted);
  EXPECT_EQ(res->manifest.version, "1.0.0");
  // Nothing left in staging.
  EXPECT_TRUE(fs::is_empty(fs::path(home_) / "registry/tmp"));
}

TEST_F(RegistryTest, ReinstallingTheSameBundleChangesNothing) {
  std::string b = echo("1.0.0", official_);
  ASSERT_TRUE(install(b));
  auto dirs = store_dirs();
  auto again = install(b);
  ASSERT_TRUE(again.has_value()) << again.error().to_string();
  EXPECT_EQ(again->outcome, InstallOutcome::kAlreadyInstalled);
  EXPECT_EQ(store_dirs(), dirs);
}

TEST_F(RegistryTest, InvalidBundleInstallsNothing) {
  std::string b = echo("1.0.0", official_);
  std::string data = read_text(b);
  data[data.size() - 3] ^= 1;  // inside the module
  write_text(b, data);
  auto r = install(b);
  ASSERT_FALSE(r.has_value());
  expect_error(r.error(), ErrorCode::kBundleInvalid, "sha256 mismatch");
  EXPECT_TRUE(reg().list()->empty());
  EXPECT_TRUE(store_dirs().empty());
}

TEST_F(RegistryTest, InstallRefusesTraversalLinksAndOversizedEntries) {
  auto good = bundle::decode(*wasmcap::read_file_bytes(echo("1.0.0", official_)));
  ASSERT_TRUE(good.has_value());
  struct Case {
    const char* needle;
    std::vector<uint8_t> bytes;
  };
  std::vector<Case> cases;
  for (const char* name : {"../escape.wasm", "modules/../../x", "/etc/cron.d/x"}) {
    auto es = *good;
    es.push_back(bundle::Entry{name, {1, 2, 3}, bundle::kEntryFile});
    cases.push_back({name[0] == '/' ? "absolute entry name" : "path traversal", bundle::encode(es)});
  }
  auto link = *good;
  link.push_back(bundle::Entry{"plugin2.wasm", {'/', 'e', 't', 'c'}, 2});
  cases.push_back({"only regular files", bundle::encode(link)});
  // An entry declaring more than the module limit, with no data behind it.
  auto big = bundle::encode(*good);
  big[12] = static_cast<uint8_t>(big[12] + 1);
  const std::string name = "big.wasm";
  big.push_back(bundle::kEntryFile);
  big.push_back(static_cast<uint8_t>(name.size()));
  big.push_back(0);
  big.insert(big.end(), name.begin(), name.end());
  for (int i = 0; i < 8; ++i) big.push_back(static_cast<uint8_t>((bundle::kMaxModuleBytes + 1) >> (8 * i)));
  cases.push_back({"too large", big});
  for (size_t i = 0; i < cases.size(); ++i) {
    std::string path = (dir_ / ("hostile" + std::to_string(i) + ".wcb")).string();
    write_text(path, std::string(cases[i].bytes.begin(), cases[i].bytes.end()));
    auto r = install(path, /*allow_untrusted=*/true, /*force=*/true);
    ASSERT_FALSE(r.has_value()) << cases[i].needle;
    expect_error(r.error(), ErrorCode::kBundleInvalid, cases[i].needle);
  }
  EXPECT_TRUE(reg().list()->empty());
  EXPECT_TRUE(store_dirs().empty());
  EXPECT_FALSE(fs::exists(fs::path(home_) / "escape.wasm"));
  EXPECT_FALSE(fs::exists(fs::path(home_) / "registry/escape.wasm"));
}

TEST_F(RegistryTest, RemoveOneVersionOrAll) {
  ASSERT_TRUE(install(echo("1.0.0", official_)));
  ASSERT_TRUE(install(echo("1.1.0", official_)));
  ASSERT_TRUE(install(pack_bundle("demo", "0.1.0", "demo", R"({"fs":[{"guest":"/work","access":"rw"}]})", official_)));
  auto gone = reg().remove("echo", std::string("1.0.0"));
  ASSERT_TRUE(gone.has_value()) << gone.error().to_string();
  ASSERT_EQ(gone->size(), 1u);
  EXPECT_FALSE(fs::exists((*gone)[0].dir));
  auto left = reg().list();
  ASSERT_EQ(left->size(), 2u);
  EXPECT_EQ((*left)[0].name, "demo");
  EXPECT_EQ((*left)[1].version, "1.1.0");
  auto missing = reg().remove("echo", std::string("1.0.0"));
  ASSERT_FALSE(missing.has_value());
  expect_error(missing.error(), ErrorCode::kNotFound, "no installed bundle echo@1.0.0");
  ASSERT_TRUE(reg().remove("echo", std::nullopt));
  EXPECT_EQ(reg().list()->size(), 1u);
  EXPECT_EQ(store_dirs().size(), 1u);
  auto c = cli({"bundle", "remove", "demo"});
  EXPECT_EQ(c.exit_code, 0) << testing::describe(c);
  EXPECT_NE(c.out.find("removed demo@0.1.0"), std::string::npos);
  EXPECT_TRUE(store_dirs().empty());
  auto n = cli({"bundle", "remove", "demo"});
  EXPECT_EQ(n.exit_code, 66) << testing::describe(n);
}

TEST_F(RegistryTest, ListJsonShowsTheRecord) {
  ASSERT_TRUE(install(echo("1.0.0", official_)));
  ASSERT_TRUE(install(echo("2.0.0", other_), /*allow_untrusted=*/true));
  auto c = cli({"bundle", "list", "--json"});
  ASSERT_EQ(c.exit_code, 0) << testing::describe(c);
  Json j = Json::parse(c.out);
  ASSERT_EQ(j.size(), 2u);
  EXPECT_EQ(j[0]["name"], "echo");
  EXPECT_EQ(j[0]["version"], "1.0.0");
  EXPECT_EQ(j[0]["signer_key_id"], official_.public_key().id());
  EXPECT_EQ(j[0]["trust"], "trusted");
  EXPECT_EQ(j[0]["allow_untrusted"], false);
  EXPECT_EQ(j[0]["modules"]["plugin.wasm"]["sha256"],
            bundle::sha256_hex(testing::guest_bytes("args_env")));
  EXPECT_EQ(j[0]["installed_at"].get<std::string>().size(), 20u);  // 2026-01-01T00:00:00Z
  EXPECT_EQ(j[1]["version"], "2.0.0");
  EXPECT_EQ(j[1]["trust"], "untrusted-allowed");
  EXPECT_EQ(j[1]["allow_untrusted"], true);
  EXPECT_EQ(j[1]["trusted_at_install"], false);
  auto t = cli({"bundle", "list"});
  ASSERT_EQ(t.exit_code, 0) << testing::describe(t);
  EXPECT_NE(t.out.find("allow-untrusted"), std::string::npos) << t.out;
}

// --- Trust ----------------------------------------------------------------------------------------

TEST_F(RegistryTest, UntrustedKeyIsRefusedByInstall) {
  auto r = install(echo("1.0.0", other_));
  ASSERT_FALSE(r.has_value());
  expect_error(r.error(), ErrorCode::kBundleUntrusted, "--allow-untrusted");
  EXPECT_TRUE(reg().list()->empty());
  auto c = cli({"bundle", "install", echo("1.0.0", other_)});
  EXPECT_EQ(c.exit_code, 77) << testing::describe(c);
}

TEST_F(RegistryTest, AllowUntrustedInstallsAndIsRecorded) {
  auto c = cli({"bundle", "install", "--allow-untrusted", echo("1.0.0", other_)});
  ASSERT_EQ(c.exit_code, 0) << testing::describe(c);
  // The same trust word `bundle list` shows.
  EXPECT_NE(c.out.find("(trust: untrusted-allowed"), std::string::npos) << c.out;
  auto all = reg().list();
  ASSERT_EQ(all->size(), 1u);
  EXPECT_TRUE((*all)[0].allow_untrusted);
  EXPECT_FALSE((*all)[0].trusted_at_install);
  EXPECT_EQ(trust_status((*all)[0], trust()), "untrusted-allowed");
  // It runs, with a warning.
  auto run = cli({"run", "--env", "LANG=C", "echo", "x"});
  EXPECT_EQ(run.exit_code, 0) << testing::describe(run);
  EXPECT_NE(run.err.find("not trusted"), std::string::npos) << run.err;
}

TEST_F(RegistryTest, HostConfigTrustKeysAreTrusted) {
  policy::TrustConfig config;
  config.keys = {(dir_ / "keys/other.pub").string()};
  InstallOptions o;
  auto r = reg().install(echo("1.0.0", other_), trust(&config), o);
  ASSERT_TRUE(r.has_value()) << r.error().to_string();
  EXPECT_TRUE(r->installed.trusted_at_install);
}

TEST_F(RegistryTest, RevokedKeyIsRefusedEvenWithAllowUntrusted) {
  fs::create_directories(fs::path(home_) / "trust/revoked");
  fs::copy_file(dir_ / "keys/official.pub", fs::path(home_) / "trust/revoked/official.pub");
  auto r = install(echo("1.0.0", official_), /*allow_untrusted=*/true, /*force=*/true);
  ASSERT_FALSE(r.has_value());
  expect_error(r.error(), ErrorCode::kBundleRevoked, "revoked");
  // Through the host config, by key id, on the command line.
  fs::remove(fs::path(home_) / "trust/revoked/official.pub");
  auto c = cli({"bundle", "install", "--allow-untrusted", "--force", "--config",
                revoke_official_config(), echo("1.0.0", official_)});
  EXPECT_EQ(c.exit_code, 77) << testing::describe(c);
  EXPECT_NE(c.err.find("bundle_revoked"), std::string::npos) << c.err;
  EXPECT_TRUE(reg().list()->empty());
}

TEST_F(RegistryTest, KeyRevokedAfterInstallRefusesToRun) {
  ASSERT_TRUE(install(echo("1.0.0", official_)));
  policy::TrustConfig config;
  config.revoked = {official_.public_key().id()};
  auto r = reg().resolve("echo", std::nullopt, trust(&config));
  ASSERT_FALSE(r.has_value());
  expect_error(r.error(), ErrorCode::kBundleRevoked, "wasmcap bundle remove echo@1.0.0");
  auto c = cli({"run", "--config", revoke_official_config(), "echo"});
  EXPECT_EQ(c.exit_code, 77) << testing::describe(c);
  EXPECT_NE(c.err.find("bundle_revoked"), std::string::npos) << c.err;
  EXPECT_EQ(c.out, "");  // nothing ran
  // Revoking through $WASMCAP_HOME/trust/revoked/ works without a host config.
  fs::create_directories(fs::path(home_) / "trust/revoked");
  fs::rename(fs::path(home_) / "trust/official.pub", fs::path(home_) / "trust/revoked/official.pub");
  auto d = cli({"run", "echo"});
  EXPECT_EQ(d.exit_code, 77) << testing::describe(d);
  EXPECT_NE(d.err.find("bundle_revoked"), std::string::npos) << d.err;
  auto l = cli({"bundle", "list", "--json"});
  EXPECT_EQ(Json::parse(l.out)[0]["trust"], "revoked");
}

TEST_F(RegistryTest, KeyNoLongerTrustedRefusesToRun) {
  ASSERT_TRUE(install(echo("1.0.0", official_)));
  fs::remove(fs::path(home_) / "trust/official.pub");
  auto r = reg().resolve("echo", std::nullopt, trust());
  ASSERT_FALSE(r.has_value());
  expect_error(r.error(), ErrorCode::kBundleUntrusted, "no longer in the trust store");
}

TEST_F(RegistryTest, BrokenTrustStoreEntriesAreErrorsNotSkipped) {
  write_text(fs::path(home_) / "trust/broken.pub", "not a key\n");
  auto t = load_trust_store(home_, nullptr);
  ASSERT_FALSE(t.has_value());
  expect_error(t.error(), ErrorCode::kBundleInvalid, "broken.pub");
  fs::remove(fs::path(home_) / "trust/broken.pub");
  policy::TrustConfig config;
  config.revoked = {(dir_ / "missing.pub").string()};
  auto u = load_trust_store(home_, &config);
  ASSERT_FALSE(u.has_value());
  EXPECT_EQ(u.error().code, ErrorCode::kNotFound);
}

// --- Versions -------------------------------------------------------------------------------------

TEST_F(RegistryTest, DowngradeIsRefusedAndForceIsRecorded) {
  ASSERT_TRUE(install(echo("1.2.0", official_)));
  auto r = install(echo("1.1.9", official_));
  ASSERT_FALSE(r.has_value());
  expect_error(r.error(), ErrorCode::kBundleConflict, "refusing to downgrade echo to 1.1.9: 1.2.0");
  EXPECT_EQ(reg().list()->size(), 1u);
  auto c = cli({"bundle", "install", echo("1.1.9", official_)});
  EXPECT_EQ(c.exit_code, 73) << testing::describe(c);
  auto f = install(echo("1.1.9", official_), false, /*force=*/true);
  ASSERT_TRUE(f.has_value()) << f.error().to_string();
  EXPECT_TRUE(f->installed.forced_downgrade);
  auto all = reg().list();
  ASSERT_EQ(all->size(), 2u);
  EXPECT_TRUE((*all)[0].forced_downgrade);
  EXPECT_FALSE((*all)[1].forced_downgrade);
  // A pre-release is lower than its release.
  auto pre = install(echo("1.2.0-rc.1", official_));
  ASSERT_FALSE(pre.has_value());
  EXPECT_EQ(pre.error().code, ErrorCode::kBundleConflict);
  // Upgrades need nothing.
  EXPECT_TRUE(install(echo("1.10.0", official_)));
}

TEST_F(RegistryTest, DowngradeAfterRemoveIsStillRefused) {
  ASSERT_TRUE(install(echo("2.0.0", official_)));
  ASSERT_TRUE(reg().remove("echo", std::nullopt));
  auto r = install(echo("1.0.0", official_));
  ASSERT_FALSE(r.has_value());
  expect_error(r.error(), ErrorCode::kBundleConflict, "2.0.0 is or was installed");
}

TEST_F(RegistryTest, SameVersionWithOtherContentIsRefusedUnlessForced) {
  auto first = install(echo("1.0.0", official_));
  ASSERT_TRUE(first);
  std::string changed = echo("1.0.0", official_, "same version, other manifest");
  auto r = install(changed);
  ASSERT_FALSE(r.has_value());
  expect_error(r.error(), ErrorCode::kBundleConflict, "is installed with other content");
  // Build metadata does not make it another version.
  auto meta = install(echo("1.0.0+build.7", official_));
  ASSERT_FALSE(meta.has_value());
  EXPECT_EQ(meta.error().code, ErrorCode::kBundleConflict);
  // The same manifest signed by another (allowed) key is other content too.
  auto resigned = install(echo("1.0.0", other_), /*allow_untrusted=*/true);
  ASSERT_FALSE(resigned.has_value());
  EXPECT_EQ(resigned.error().code, ErrorCode::kBundleConflict);
  auto f = install(changed, false, /*force=*/true);
  ASSERT_TRUE(f.has_value()) << f.error().to_string();
  EXPECT_EQ(f->outcome, InstallOutcome::kReplaced);
  EXPECT_TRUE(f->installed.forced_replace);
  EXPECT_FALSE(fs::exists(first->installed.dir));
  auto all = reg().list();
  ASSERT_EQ(all->size(), 1u);
  EXPECT_TRUE((*all)[0].forced_replace);
  auto res = reg().resolve("echo", std::nullopt, trust());
  ASSERT_TRUE(res.has_value()) << res.error().to_string();
  EXPECT_EQ(res->manifest.description, "same version, other manifest");
}

// --- Read-only registries (replicas sharing a read-only volume) ----------------------------------

// Every file below HOME/registry with its size and modification time.
std::map<std::string, std::pair<uintmax_t, int64_t>> snapshot(const std::string& home) {
  std::map<std::string, std::pair<uintmax_t, int64_t>> out;
  for (const auto& e : fs::recursive_directory_iterator(fs::path(home) / "registry")) {
    struct stat st {};
    ::lstat(e.path().c_str(), &st);
    out[e.path().string()] = {static_cast<uintmax_t>(st.st_size),
                              static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec};
  }
  return out;
}

TEST_F(RegistryTest, ReadOnlyOpenReadsAndVerifiesButWritesNothing) {
  ASSERT_TRUE(install(echo("1.0.0", official_)));
  ASSERT_TRUE(install(echo("1.1.0", official_)));
  // No lock file: a read-only open must not create one (nor -wal/-shm files, nor tmp/ entries).
  fs::remove(fs::path(home_) / "registry/lock");
  auto before = snapshot(home_);
  {
    auto ro = Registry::open(home_, Access::kReadOnly);
    ASSERT_TRUE(ro) << ro.error().to_string();
    EXPECT_TRUE(ro->read_only());
    auto all = ro->list();
    ASSERT_TRUE(all) << all.error().to_string();
    EXPECT_EQ(all->size(), 2u);
    auto r = ro->resolve("echo", std::nullopt, trust());
    ASSERT_TRUE(r) << r.error().to_string();
    EXPECT_EQ(r->installed.version, "1.1.0");
    EXPECT_FALSE(r->module_bytes->empty());
    auto ins = ro->install(echo("1.2.0", official_), trust(), {});
    ASSERT_FALSE(ins);
    expect_error(ins.error(), ErrorCode::kIo, "is opened read-only");
    auto rm = ro->remove("echo", std::nullopt);
    ASSERT_FALSE(rm);
    expect_error(rm.error(), ErrorCode::kIo, "is opened read-only");
  }
  EXPECT_EQ(before, snapshot(home_));
  EXPECT_FALSE(fs::exists(fs::path(home_) / "registry/lock"));
  EXPECT_FALSE(fs::exists(fs::path(home_) / "registry/index.sqlite3-shm"));
  // Verification still happens: a modified module is refused as it is read-write.
  auto stored = reg().resolve("echo", std::string("1.1.0"), trust());
  ASSERT_TRUE(stored);
  fs::permissions(stored->module_path, fs::perms::owner_write, fs::perm_options::add);
  write_text(stored->module_path, "not the signed module");
  auto ro = Registry::open(home_, Access::kReadOnly);
  ASSERT_TRUE(ro);
  auto bad = ro->resolve("echo", std::nullopt, trust());
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, ErrorCode::kBundleInvalid) << bad.error().to_string();
}

TEST_F(RegistryTest, ReadOnlyOpenOfAMissingRegistryCreatesNothing) {
  auto ro = Registry::open(home_, Access::kReadOnly);
  ASSERT_FALSE(ro);
  expect_error(ro.error(), ErrorCode::kNotFound, "no registry index");
  EXPECT_FALSE(fs::exists(fs::path(home_) / "registry"));
}

TEST_F(RegistryTest, ReadOnlySeesAWritersInstallsOnItsNextOperation) {
  ASSERT_TRUE(install(echo("1.0.0", official_)));
  auto ro = Registry::open(home_, Access::kReadOnly);
  ASSERT_TRUE(ro);
  auto r = ro->resolve("echo", std::nullopt, trust());
  ASSERT_TRUE(r);
  EXPECT_EQ(r->installed.version, "1.0.0");
  ASSERT_TRUE(install(echo("1.1.0", official_)));
  r = ro->resolve("echo", std::nullopt, trust());
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ(r->installed.version, "1.1.0");
}

TEST_F(RegistryTest, WritersCheckpointSoTheIndexFileIsCompleteOnItsOwn) {
  // A read-only mount of the volume reads index.sqlite3 with immutable=1, which ignores a
  // write-ahead log: every install and remove leaves the log empty, even while its writer lives.
  Registry w = reg();
  ASSERT_TRUE(w.install(echo("1.0.0", official_), trust(), {}));
  fs::path wal = fs::path(home_) / "registry/index.sqlite3-wal";
  EXPECT_TRUE(!fs::exists(wal) || fs::file_size(wal) == 0) << fs::file_size(wal);
  ASSERT_TRUE(w.install(echo("1.1.0", official_), trust(), {}));
  EXPECT_TRUE(!fs::exists(wal) || fs::file_size(wal) == 0) << fs::file_size(wal);
  ASSERT_TRUE(w.remove("echo", std::string("1.0.0")));
  EXPECT_TRUE(!fs::exists(wal) || fs::file_size(wal) == 0) << fs::file_size(wal);
  // And immutable readers see it, with the writer still open.
  auto ro = Registry::open(home_, Access::kReadOnly);
  ASSERT_TRUE(ro);
  auto all = ro->list();
  ASSERT_TRUE(all);
  ASSERT_EQ(all->size(), 1u);
  EXPECT_EQ(all->front().version, "1.1.0");
}

TEST_F(RegistryTest, AutoAccessIsReadOnlyWhenTheRegistryIsNotWritable) {
  ASSERT_TRUE(install(echo("1.0.0", official_)));
  auto rw = Registry::open(home_, Access::kAuto);
  ASSERT_TRUE(rw);
  EXPECT_FALSE(rw->read_only());
  if (::geteuid() == 0) GTEST_SKIP() << "root writes through modes (readonly_replicas_test.sh uses a read-only mount)";
  fs::permissions(fs::path(home_) / "registry", fs::perms::owner_write, fs::perm_options::remove);
  auto ro = Registry::open(home_, Access::kAuto);
  fs::permissions(fs::path(home_) / "registry", fs::perms::owner_write, fs::perm_options::add);
  ASSERT_TRUE(ro) << ro.error().to_string();
  EXPECT_TRUE(ro->read_only());
}

TEST(RegistryConfig, HostConfigSelectsReadOnly) {
  auto c = policy::parse_host_config(R"({"registry": {"read_only": true}})", "c.json");
  ASSERT_TRUE(c) << c.error().to_string();
  EXPECT_TRUE(c->registry.read_only);
  EXPECT_FALSE(policy::parse_host_config(R"({})", "c.json")->registry.read_only);
  EXPECT_FALSE(policy::parse_host_config(R"({"registry": {"read_only": "yes"}})", "c.json"));
  EXPECT_FALSE(policy::parse_host_config(R"({"registry": {"path": "/x"}})", "c.json"));
}

TEST(SemVer, PrecedenceFollowsTheSpec) {
  // semver.org §11 example chain, plus numeric (not text) comparison and build metadata.
  const char* chain[] = {"1.0.0-alpha",      "1.0.0-alpha.1", "1.0.0-alpha.beta", "1.0.0-beta",
                         "1.0.0-beta.2",     "1.0.0-beta.11", "1.0.0-rc.1",       "1.0.0",
                         "1.0.1",            "1.2.0",         "1.10.0",           "2.0.0",
                         "10.0.0",           "18446744073709551616.0.0"};
  for (size_t i = 0; i + 1 < std::size(chain); ++i) {
    EXPECT_LT(compare_versions(chain[i], chain[i + 1]), 0) << chain[i] << " < " << chain[i + 1];
    EXPECT_GT(compare_versions(chain[i + 1], chain[i]), 0) << chain[i + 1] << " > " << chain[i];
  }
  EXPECT_EQ(compare_versions("1.0.0+a", "1.0.0+b"), 0);
  EXPECT_EQ(compare_versions("1.0.0-rc.1+x", "1.0.0-rc.1"), 0);
}

TEST(Reference, NameAndOptionalVersion) {
  auto a = parse_reference("coreutils");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->name, "coreutils");
  EXPECT_FALSE(a->version);
  auto b = parse_reference("coreutils@1.2.3-rc.1");
  ASSERT_TRUE(b);
  EXPECT_EQ(*b->version, "1.2.3-rc.1");
  for (const char* bad : {"", "@1.0.0", "x@", "x@1", "X", "a/b", "x@1.0.0@2.0.0", "../x"}) {
    EXPECT_FALSE(parse_reference(bad)) << bad;
  }
}

// --- Tampering inside the registry -----------------------------------------------------------------

class RegistryTamperTest : public RegistryTest {
 protected:
  void SetUp() override {
    RegistryTest::SetUp();
    auto r = install(echo("1.0.0", official_));
    ASSERT_TRUE(r.has_value());
    dir_of_ = r->installed.dir;
  }
  void overwrite(const std::string& rel, const std::string& data) {
    std::string p = dir_of_ + "/" + rel;
    ::chmod(p.c_str(), 0644);
    write_text(p, data);
  }
  void expect_refused(const std::string& needle) {
    auto r = reg().resolve("echo", std::nullopt, trust());
    ASSERT_FALSE(r.has_value()) << "tampered registry accepted; expected " << needle;
    expect_error(r.error(), ErrorCode::kBundleInvalid, "was modified in the registry");
    EXPECT_NE(r.error().message.find(needle), std::string::npos) << r.error().message;
  }
  std::string dir_of_;
};

TEST_F(RegistryTamperTest, ModuleByteChangedRefusesRun) {
  std::string m = read_text(dir_of_ + "/modules/plugin.wasm");
  m[m.size() / 2] ^= 1;
  overwrite("modules/plugin.wasm", m);
  expect_refused("sha256 mismatch");
  auto c = cli({"run", "echo"});
  EXPECT_EQ(c.exit_code, 65) << testing::describe(c);
  EXPECT_NE(c.err.find("was modified in the registry"), std::string::npos) << c.err;
  EXPECT_EQ(c.out, "");
}

TEST_F(RegistryTamperTest, ModuleReplacedBySymlinkRefusesRun) {
  std::string p = dir_of_ + "/modules/plugin.wasm";
  fs::copy_file(p, dir_ / "copy.wasm");  // the same bytes, reached through a link
  fs::remove(p);
  fs::create_symlink(dir_ / "copy.wasm", p);
  expect_refused("symbolic link");
}

TEST_F(RegistryTamperTest, ModuleMissingRefusesRun) {
  fs::remove(dir_of_ + "/modules/plugin.wasm");
  expect_refused("No such file");
}

TEST_F(RegistryTamperTest, ManifestChangedRefusesRun) {
  std::string m = read_text(dir_of_ + "/manifest.json");
  size_t pos = m.find("\"args\":true");
  ASSERT_NE(pos, std::string::npos);
  m.replace(pos, 11, "\"args\":1000");
  overwrite("manifest.json", m);
  expect_refused("manifest.json changed");
}

TEST_F(RegistryTamperTest, ManifestAndIndexChangedTogetherStillFailTheSignature) {
  // An attacker who also rewrites the index's manifest hash still lacks the signature.
  std::string m = read_text(dir_of_ + "/manifest.json");
  size_t pos = m.find("LANG");
  ASSERT_NE(pos, std::string::npos);
  m.replace(pos, 4, "HOME");
  overwrite("manifest.json", m);
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((home_ + "/registry/index.sqlite3").c_str(), &db), SQLITE_OK);
  std::string sql = "UPDATE bundles SET manifest_sha256 = '" +
                    bundle::sha256_hex(std::vector<uint8_t>(m.begin(), m.end())) + "'";
  EXPECT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
  expect_refused("signature does not match");
}

TEST_F(RegistryTamperTest, IndexRowPointingOutsideTheStoreIsRefused) {
  point_index_outside_the_store();
  Registry r = reg();
  expect_echo_refused(r, trust(), ErrorCode::kBundleInvalid, "malformed row");
}

TEST_F(RegistryTamperTest, SignatureChangedRefusesRun) {
  std::string s = read_text(dir_of_ + "/manifest.sig");
  s.back() ^= 1;
  overwrite("manifest.sig", s);
  expect_refused("signature does not match");
  s.back() ^= 1;
  s[0] ^= 1;  // another signer
  overwrite("manifest.sig", s);
  expect_refused("another signer");
}

// --- Concurrency ------------------------------------------------------------------------------------

TEST_F(RegistryTest, ConcurrentInstallsLeaveAConsistentIndex) {
  std::vector<std::string> bundles = {echo("1.0.0", official_), echo("1.1.0", official_),
                                      echo("1.2.0", official_)};
  ASSERT_TRUE(Registry::open(home_));
  std::vector<testing::ProcResult> results(8);
  std::vector<std::thread> threads;
  for (size_t i = 0; i < results.size(); ++i) {
    threads.emplace_back([&, i] {
      // Installs of the same bundle race each other and installs of other versions.
      results[i] = cli({"bundle", "install", "--force", bundles[i % bundles.size()]});
    });
  }
  for (auto& t : threads) t.join();
  for (const auto& r : results) EXPECT_EQ(r.exit_code, 0) << testing::describe(r);
  auto all = reg().list();
  ASSERT_TRUE(all.has_value());
  ASSERT_EQ(all->size(), 3u);
  std::vector<std::string> dirs;
  for (const auto& i : *all) {
    dirs.push_back(i.dir);
    EXPECT_TRUE(reg().resolve(i.name, i.version, trust()).has_value()) << i.version;
  }
  std::sort(dirs.begin(), dirs.end());
  EXPECT_EQ(store_dirs(), dirs);  // every store directory is referenced, and only once
  EXPECT_TRUE(fs::is_empty(fs::path(home_) / "registry/tmp"));
}

// --- wasmcap run NAME[@VERSION] ----------------------------------------------------------------------

TEST_F(RegistryTest, RunPicksTheNewestOrTheNamedVersion) {
  // Each version requests a different variable, so the output tells which one ran.
  ASSERT_TRUE(install(pack_bundle("echo", "1.0.0", "args_env", R"({"args":true,"env":["ONE"]})", official_)));
  ASSERT_TRUE(install(pack_bundle("echo", "1.9.0", "args_env", R"({"args":true,"env":["NINE"]})", official_)));
  ASSERT_TRUE(install(pack_bundle("echo", "1.10.0", "args_env", R"({"args":true,"env":["TEN"]})", official_)));
  auto newest = cli({"run", "--env", "TEN=10", "echo", "a"});
  ASSERT_EQ(newest.exit_code, 0) << testing::describe(newest);
  EXPECT_NE(newest.out.find("env[0]=[TEN=10]"), std::string::npos) << newest.out;
  EXPECT_NE(newest.out.find("arg[0]=[echo]\narg[1]=[a]"), std::string::npos) << newest.out;
  auto named = cli({"run", "--env", "NINE=9", "echo@1.9.0"});
  ASSERT_EQ(named.exit_code, 0) << testing::describe(named);
  EXPECT_NE(named.out.find("env[0]=[NINE=9]"), std::string::npos) << named.out;
  // Granting a variable the plugin does not request gives it nothing; not granting one it
  // requests refuses the run.
  auto denied = cli({"run", "--env", "TEN=10", "echo@1.0.0"});
  EXPECT_EQ(denied.exit_code, 77) << testing::describe(denied);
  EXPECT_NE(denied.err.find("env ONE: requested, not granted"), std::string::npos) << denied.err;
  auto missing = cli({"run", "echo@2.0.0"});
  EXPECT_EQ(missing.exit_code, 66) << testing::describe(missing);
  EXPECT_NE(missing.err.find("installed versions: 1.0.0, 1.9.0, 1.10.0"), std::string::npos)
      << missing.err;
}

TEST_F(RegistryTest, RunOfAnUninstalledNameIsNotFound) {
  auto c = cli({"run", "nope"});
  EXPECT_EQ(c.exit_code, 66) << testing::describe(c);
  EXPECT_NE(c.err.find("not_found: no installed bundle nope; install it with: wasmcap bundle install"),
            std::string::npos)
      << c.err;
  // A path (a '/' or a .wasm suffix) is a module path, never a registry name.
  auto p = cli({"run", "nope.wasm"});
  EXPECT_EQ(p.exit_code, 66) << testing::describe(p);
  EXPECT_EQ(p.err.find("no installed bundle"), std::string::npos) << p.err;
  auto m = cli({"run", testing::guest_path("args_env"), "x"});
  EXPECT_EQ(m.exit_code, 0) << testing::describe(m);
}

TEST_F(RegistryTest, RunGrantsComeFromDirFlagsOrTheHostConfig) {
  ASSERT_TRUE(install(pack_bundle("demo", "1.0.0", "demo", R"({"fs":[{"guest":"/work","access":"rw"}]})", official_)));
  std::string ws = (dir_ / "ws").string();
  // Requested, not granted: refused before anything runs.
  auto none = cli({"run", "demo"});
  EXPECT_EQ(none.exit_code, 77) << testing::describe(none);
  EXPECT_NE(none.err.find("fs /work: requested rw, not granted"), std::string::npos) << none.err;
  EXPECT_FALSE(fs::exists(dir_ / "ws/report.txt"));
  // Granted read-only: narrowed, not refused: it reads, and its write fails.
  auto ro = cli({"run", "--dir", ws + "::/work:ro", "demo"});
  EXPECT_EQ(ro.exit_code, 0) << testing::describe(ro);
  EXPECT_NE(ro.out.find("read     /work/notes.txt: hello from the workspace"), std::string::npos)
      << ro.out;
  EXPECT_EQ(ro.out.find("wrote    /work/report.txt"), std::string::npos) << ro.out;
  EXPECT_FALSE(fs::exists(dir_ / "ws/report.txt"));
  // The documented form.
  auto ok = cli({"run", "--dir", ws + "::/work", "demo"});
  EXPECT_EQ(ok.exit_code, 0) << testing::describe(ok);
  EXPECT_NE(ok.out.find("read     /work/notes.txt: hello from the workspace"), std::string::npos)
      << ok.out;
  EXPECT_TRUE(fs::exists(dir_ / "ws/report.txt"));
  fs::remove(dir_ / "ws/report.txt");
  // The same grant from the host config.
  std::string config = (dir_ / "host.json").string();
  write_text(config, R"({"plugins":{"demo":{"grants":{"fs":[{"guest":"/work","host":")" + ws +
                         R"(","access":"rw"}]}}}})");
  auto cfg = cli({"run", "--config", config, "demo"});
  EXPECT_EQ(cfg.exit_code, 0) << testing::describe(cfg);
  EXPECT_TRUE(fs::exists(dir_ / "ws/report.txt"));
  // One guest path granted twice is refused, not resolved by precedence.
  auto twice = cli({"run", "--config", config, "--dir", ws + "::/work", "demo"});
  EXPECT_EQ(twice.exit_code, 64) << testing::describe(twice);
  EXPECT_NE(twice.err.find("already granted"), std::string::npos) << twice.err;
  // A host config without an entry for the plugin grants nothing.
  write_text(config, R"({"plugins":{}})");
  auto no_entry = cli({"run", "--config", config, "demo"});
  EXPECT_EQ(no_entry.exit_code, 77) << testing::describe(no_entry);
  EXPECT_NE(no_entry.err.find("plugin demo: no entry in the host config"), std::string::npos);
  // --degrade runs with the denial named.
  auto degraded = cli({"run", "--degrade", "demo"});
  EXPECT_EQ(degraded.exit_code, 2) << testing::describe(degraded);  // demo: cannot list /work
  EXPECT_NE(degraded.err.find("--degrade: fs /work"), std::string::npos) << degraded.err;
}

TEST_F(RegistryTest, RunRefusesArgumentsThePluginDoesNotRequest) {
  ASSERT_TRUE(install(pack_bundle("quiet", "1.0.0", "args_env", R"({})", official_)));
  auto ok = cli({"run", "quiet"});
  EXPECT_EQ(ok.exit_code, 0) << testing::describe(ok);
  EXPECT_NE(ok.out.find("arg[0]=[quiet]"), std::string::npos) << ok.out;
  auto args = cli({"run", "quiet", "x"});
  EXPECT_EQ(args.exit_code, 77) << testing::describe(args);
  EXPECT_NE(args.err.find("does not request args"), std::string::npos) << args.err;
}


// --- Read-only data trees (manifest "data") ---------------------------------------------------------

class RegistryDataTest : public RegistryTest {
 protected:
  // Packs `files` (path under the tree -> content) as the data tree of a core-utils bundle, mounted
  // read-only at `guest`.
  std::string pack_data(const std::map<std::string, std::string>& files,
                        const std::string& guest = "/srv", const std::string& version = "1.0.0") {
    fs::path p = dir_ / ("src-data-" + std::to_string(counter_++));
    fs::create_directories(p / "root");
    fs::copy_file(testing::guest_path("coreutils"), p / "cu.wasm");
    for (const auto& [rel, text] : files) {
      fs::create_directories((p / "root" / rel).parent_path());
      write_text(p / "root" / rel, text);
    }
    Json m = {{"name", "cu"}, {"version", version}, {"module", "cu.wasm"},
              {"data", {{"path", "root"}, {"guest", guest}}},
              {"permissions", {{"args", true}, {"fs", Json::array({{{"guest", "/work"}, {"access", "rw"}}})}}}};
    write_text(p / "manifest.json", m.dump());
    std::string out = (p / "cu.wcb").string();
    auto r = bundle::pack_to_file((p / "manifest.json").string(), official_, out);
    EXPECT_TRUE(r.has_value()) << r.error().to_string();
    return out;
  }
  std::string install_data() {
    auto r = install(pack_data({{"hello.txt", "hello from the bundle\n"},
                                {"sub/nested.txt", "nested\n"}}));
    EXPECT_TRUE(r.has_value()) << (r ? "" : r.error().to_string());
    return r ? r->installed.dir : "";
  }
  testing::ProcResult run_cu(const std::vector<std::string>& args) {
    std::vector<std::string> a{"run", "--dir", (dir_ / "ws").string() + "::/work", "cu"};
    a.insert(a.end(), args.begin(), args.end());
    return cli(a);
  }
  void expect_refused(const std::string& needle) {
    auto r = reg().resolve("cu", std::nullopt, trust());
    ASSERT_FALSE(r.has_value()) << "tampered data tree accepted; expected " << needle;
    expect_error(r.error(), ErrorCode::kBundleInvalid, "was modified in the registry");
    EXPECT_NE(r.error().message.find(needle), std::string::npos) << r.error().message;
    auto c = run_cu({"cat", "/srv/hello.txt"});
    EXPECT_EQ(c.exit_code, 65) << testing::describe(c);
    EXPECT_EQ(c.out, "");
  }
};

TEST_F(RegistryDataTest, DataTreeIsSignedAndMountedReadOnly) {
  std::string dir = install_data();
  ASSERT_FALSE(dir.empty());
  // Every data file is listed (and hashed) in the signed manifest.
  std::string manifest = read_text(dir + "/manifest.json");
  EXPECT_NE(manifest.find("\"root/hello.txt\":{\"sha256\":"), std::string::npos) << manifest;
  EXPECT_NE(manifest.find("\"root/sub/nested.txt\":{\"sha256\":"), std::string::npos) << manifest;
  auto cat = run_cu({"cat", "/srv/sub/nested.txt"});
  EXPECT_EQ(cat.exit_code, 0) << testing::describe(cat);
  EXPECT_EQ(cat.out, "nested\n");
  // Read-only whatever the grants: writing into the tree fails, and the store is unchanged.
  auto cp = run_cu({"cp", "/work/notes.txt", "/srv/new.txt"});
  EXPECT_NE(cp.exit_code, 0) << testing::describe(cp);
  EXPECT_FALSE(fs::exists(dir + "/modules/root/new.txt"));
  auto rm = run_cu({"rm", "/srv/hello.txt"});
  EXPECT_NE(rm.exit_code, 0) << testing::describe(rm);
  EXPECT_TRUE(fs::exists(dir + "/modules/root/hello.txt"));
  // The workspace grant still works beside it.
  auto ws = run_cu({"cat", "/work/notes.txt"});
  EXPECT_EQ(ws.out, "hello from the workspace\n") << testing::describe(ws);
}

TEST_F(RegistryDataTest, DataTreeCanBeTheGuestRoot) {
  ASSERT_TRUE(install(pack_data({{"etc/motd", "root tree\n"}}, "/")));
  auto cat = run_cu({"cat", "/etc/motd"});
  EXPECT_EQ(cat.exit_code, 0) << testing::describe(cat);
  EXPECT_EQ(cat.out, "root tree\n");
  auto ws = run_cu({"cat", "/work/notes.txt"});  // the nested grant wins below /work
  EXPECT_EQ(ws.out, "hello from the workspace\n") << testing::describe(ws);
}

TEST_F(RegistryDataTest, DataFileChangedRefusesRun) {
  std::string dir = install_data();
  std::string p = dir + "/modules/root/sub/nested.txt";
  ::chmod(p.c_str(), 0644);
  write_text(p, "nestEd\n");
  expect_refused("data file root/sub/nested.txt: sha256 mismatch");
}

TEST_F(RegistryDataTest, ExtraFileInTheTreeRefusesRun) {
  std::string dir = install_data();
  ::chmod((dir + "/modules/root/sub").c_str(), 0755);
  write_text(dir + "/modules/root/sub/planted.py", "import os\n");
  expect_refused("holds files the bundle did not sign");
}

TEST_F(RegistryDataTest, LinkInTheTreeRefusesRun) {
  std::string dir = install_data();
  ::chmod((dir + "/modules/root").c_str(), 0755);
  fs::create_symlink("/etc", dir + "/modules/root/etc");
  expect_refused("link or special file");
}

TEST_F(RegistryDataTest, DataFileReplacedBySymlinkRefusesRun) {
  std::string dir = install_data();
  std::string p = dir + "/modules/root/hello.txt";
  fs::copy_file(p, dir_ / "copy.txt");
  ::chmod((dir + "/modules/root").c_str(), 0755);
  fs::remove(p);
  fs::create_symlink(dir_ / "copy.txt", p);
  expect_refused("symbolic link");
}

TEST_F(RegistryDataTest, PackRefusesLinksAndEmptyTrees) {
  fs::path p = dir_ / "src-bad";
  fs::create_directories(p / "root");
  fs::copy_file(testing::guest_path("coreutils"), p / "cu.wasm");
  Json m = {{"name", "cu"}, {"version", "1.0.0"}, {"module", "cu.wasm"},
            {"data", {{"path", "root"}, {"guest", "/srv"}}}};
  write_text(p / "manifest.json", m.dump());
  auto empty = bundle::pack((p / "manifest.json").string(), official_);
  ASSERT_FALSE(empty.has_value());
  expect_error(empty.error(), ErrorCode::kBundleInvalid, "holds no file");
  fs::create_symlink("/etc/passwd", p / "root/passwd");
  auto link = bundle::pack((p / "manifest.json").string(), official_);
  ASSERT_FALSE(link.has_value());
  expect_error(link.error(), ErrorCode::kBundleInvalid, "not a regular file");
}


// --- Verified state: an unchanged bundle is not read and hashed again -------------------------
//
// One Registry keeps what a full verification concluded while every file and directory it read
// keeps its stamp (registry.cc, "Verified state"). The files must have been unchanged for a
// while when stamped: 2 s in the product, 30 ms here (test hook), with the installs 80 ms old.

class RegistryVerifiedStateTest : public RegistryDataTest {
 protected:
  void SetUp() override {
    RegistryDataTest::SetUp();
    test_hooks::set_settled_ns(30 * 1000 * 1000);
  }
  void TearDown() override { test_hooks::set_settled_ns(2000000000); }
  static void settle() { std::this_thread::sleep_for(std::chrono::milliseconds(80)); }
  // Overwrites one byte in place (same size) and puts the old mtime back: only the ctime tells.
  static void flip_byte_keep_mtime(const std::string& path) {
    struct stat st {};
    ASSERT_EQ(::stat(path.c_str(), &st), 0);
    ::chmod(path.c_str(), 0644);
    std::string data = read_text(path);
    ASSERT_FALSE(data.empty());
    char c = static_cast<char>(data[data.size() / 2] ^ 1);
    int fd = ::open(path.c_str(), O_WRONLY);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(::pwrite(fd, &c, 1, static_cast<off_t>(data.size() / 2)), 1);
    ::close(fd);
    struct timespec times[2] = {st.st_atim, st.st_mtim};
    ASSERT_EQ(::utimensat(AT_FDCWD, path.c_str(), times, 0), 0);
    struct stat after {};
    ASSERT_EQ(::stat(path.c_str(), &after), 0);
    ASSERT_EQ(after.st_size, st.st_size);
    ASSERT_EQ(after.st_mtim.tv_sec, st.st_mtim.tv_sec);
    ASSERT_EQ(after.st_mtim.tv_nsec, st.st_mtim.tv_nsec);
  }
};

TEST_F(RegistryVerifiedStateTest, AnUnchangedBundleIsVerifiedOnceAndItsBytesShared) {
  ASSERT_TRUE(install(echo("1.0.0", official_)));
  settle();
  Registry r = reg();
  uint64_t before = test_hooks::full_verifications();
  auto a = r.resolve("echo", std::nullopt, trust());
  ASSERT_TRUE(a.has_value()) << a.error().to_string();
  for (int i = 0; i < 3; ++i) {
    auto b = r.resolve("echo", std::nullopt, trust());
    ASSERT_TRUE(b.has_value()) << b.error().to_string();
    EXPECT_EQ(b->module_bytes.get(), a->module_bytes.get());  // the same verified bytes
    EXPECT_EQ(b->module_sha256, a->module_sha256);
    EXPECT_EQ(b->installed.dir, a->installed.dir);
  }
  EXPECT_EQ(test_hooks::full_verifications() - before, 1u);
  // Another Registry object (another process) verifies for itself; asking by version is
  // another question, verified once too.
  ASSERT_TRUE(reg().resolve("echo", std::nullopt, trust()));
  ASSERT_TRUE(r.resolve("echo", std::string("1.0.0"), trust()));
  ASSERT_TRUE(r.resolve("echo", std::string("1.0.0"), trust()));
  EXPECT_EQ(test_hooks::full_verifications() - before, 3u);
}

TEST_F(RegistryVerifiedStateTest, FilesChangedLessThanTheSettlingTimeAgoAreVerifiedEveryTime) {
  test_hooks::set_settled_ns(60LL * 1000 * 1000 * 1000);  // a minute: nothing is settled
  ASSERT_TRUE(install(echo("1.0.0", official_)));
  settle();
  Registry r = reg();
  uint64_t before = test_hooks::full_verifications();
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(r.resolve("echo", std::nullopt, trust()));
  EXPECT_EQ(test_hooks::full_verifications() - before, 3u);
}

TEST_F(RegistryVerifiedStateTest, EveryChangeAfterTheRecordIsVerifiedAndRefused) {
  // Each case: a fresh install, verified once by a live Registry, then one change by a writer of
  // the store; the next resolve of that same Registry must verify again and refuse.
  struct Case {
    const char* what;
    std::function<void(const std::string& dir)> change;
    std::string needle;
  };
  std::vector<Case> cases = {
      {"module byte, same size, mtime put back",
       [](const std::string& d) { flip_byte_keep_mtime(d + "/modules/cu.wasm"); }, "sha256 mismatch"},
      {"data file byte, same size, mtime put back",
       [](const std::string& d) { flip_byte_keep_mtime(d + "/modules/root/sub/nested.txt"); },
       "data file root/sub/nested.txt: sha256 mismatch"},
      {"manifest byte, same size, mtime put back",
       [](const std::string& d) { flip_byte_keep_mtime(d + "/manifest.json"); }, "manifest.json changed"},
      {"signature byte", [](const std::string& d) { flip_byte_keep_mtime(d + "/manifest.sig"); },
       "signature does not match"},
      {"file planted in the data tree",
       [](const std::string& d) {
         ::chmod((d + "/modules/root/sub").c_str(), 0755);
         write_text(d + "/modules/root/sub/planted.py", "import os\n");
       },
       "holds files the bundle did not sign"},
      {"module replaced by a link to the same bytes",
       [this](const std::string& d) {
         std::string p = d + "/modules/cu.wasm";
         fs::copy_file(p, dir_ / "copy.wasm", fs::copy_options::overwrite_existing);
         ::chmod((d + "/modules").c_str(), 0755);
         fs::remove(p);
         fs::create_symlink(dir_ / "copy.wasm", p);
       },
       "symbolic link"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.what);
    // Each case installs its own copy (another version: a fresh store directory).
    static int n = 0;
    std::string version = "1.0." + std::to_string(++n);
    auto in = install(pack_data({{"hello.txt", "hello from the bundle\n"}, {"sub/nested.txt", "nested\n"}},
                                "/srv", version));
    ASSERT_TRUE(in.has_value()) << in.error().to_string();
    settle();
    Registry r = reg();
    ASSERT_TRUE(r.resolve("cu", version, trust()));
    uint64_t before = test_hooks::full_verifications();
    ASSERT_TRUE(r.resolve("cu", version, trust()));
    ASSERT_EQ(test_hooks::full_verifications(), before) << "not from the record";
    c.change(in->installed.dir);
    auto after = r.resolve("cu", version, trust());
    EXPECT_EQ(test_hooks::full_verifications() - before, 1u);
    ASSERT_FALSE(after.has_value()) << "a changed bundle was accepted from the record";
    expect_error(after.error(), ErrorCode::kBundleInvalid, "was modified in the registry");
    EXPECT_NE(after.error().message.find(c.needle), std::string::npos) << after.error().message;
  }
}

// Another process (another Registry) need not hash the module again: its hash is taken from the
// cache's record of the unchanged file (the engines' module file records, written only in a
// private cache directory, for a file unchanged for 2 s). A module changed in place with its
// mtime put back no longer matches the record (its ctime moved): hashed, and refused. A cache
// directory others can write holds no record that is believed.
TEST_F(RegistryVerifiedStateTest, AnotherProcessTakesTheModulesHashFromTheCachesRecord) {
  // timing: the record is written only for a module file unchanged for 2 s
  TempDir cache;
  const std::string cache_dir = (cache.path() / "aot").string();
  const char* old = std::getenv("WASMCAP_CACHE_DIR");
  std::optional<std::string> saved = old ? std::optional<std::string>(old) : std::nullopt;
  ::setenv("WASMCAP_CACHE_DIR", cache_dir.c_str(), 1);
  struct Restore {
    std::optional<std::string> v;
    ~Restore() { v ? (void)::setenv("WASMCAP_CACHE_DIR", v->c_str(), 1) : (void)::unsetenv("WASMCAP_CACHE_DIR"); }
  } restore{saved};
  auto in = install(echo("1.0.0", official_));
  ASSERT_TRUE(in.has_value()) << in.error().to_string();
  std::this_thread::sleep_for(std::chrono::milliseconds(2100));
  const uint64_t h0 = engine_test_hooks::module_hashes();
  ASSERT_TRUE(reg().resolve("echo", std::nullopt, trust()));
  EXPECT_EQ(engine_test_hooks::module_hashes() - h0, 1u);
  size_t records = 0;
  for (const auto& e : fs::directory_iterator(cache_dir)) {
    records += e.path().filename().string().rfind("file-", 0) == 0 ? 1 : 0;
  }
  EXPECT_EQ(records, 1u) << "no module file record written";
  for (int i = 0; i < 2; ++i) ASSERT_TRUE(reg().resolve("echo", std::nullopt, trust()));
  EXPECT_EQ(engine_test_hooks::module_hashes() - h0, 1u) << "hashed again despite the record";
  // A cache directory writable by others: nothing in it is believed.
  ASSERT_EQ(::chmod(cache_dir.c_str(), 0777), 0);
  ASSERT_TRUE(reg().resolve("echo", std::nullopt, trust()));
  EXPECT_EQ(engine_test_hooks::module_hashes() - h0, 2u) << "a record in a shared directory was believed";
  ASSERT_EQ(::chmod(cache_dir.c_str(), 0700), 0);
  ASSERT_TRUE(reg().resolve("echo", std::nullopt, trust()));
  EXPECT_EQ(engine_test_hooks::module_hashes() - h0, 2u);
  // Changed in place, same size, mtime put back: the record no longer describes the file.
  flip_byte_keep_mtime(in->installed.dir + "/modules/plugin.wasm");
  Registry r = reg();
  expect_echo_refused(r, trust(), ErrorCode::kBundleInvalid, "sha256 mismatch");
  EXPECT_EQ(engine_test_hooks::module_hashes() - h0, 3u);
}

TEST_F(RegistryVerifiedStateTest, AnIndexChangedAfterTheRecordIsReadAgain) {
  ASSERT_TRUE(install(echo("1.0.0", official_)));
  settle();
  Registry r = reg();
  ASSERT_TRUE(r.resolve("echo", std::nullopt, trust()));
  point_index_outside_the_store();
  expect_echo_refused(r, trust(), ErrorCode::kBundleInvalid, "malformed row");
}

TEST_F(RegistryVerifiedStateTest, ASignerRevokedOrDistrustedWhileRunningIsRefusedNext) {
  ASSERT_TRUE(install(echo("1.0.0", official_)));
  settle();
  Registry r = reg();
  ASSERT_TRUE(r.resolve("echo", std::nullopt, trust()));
  ASSERT_TRUE(r.resolve("echo", std::nullopt, trust()));
  // Revoked through the host config (no file of the store or the registry changes).
  policy::TrustConfig config;
  config.revoked = {official_.public_key().id()};
  expect_echo_refused(r, trust(&config), ErrorCode::kBundleRevoked, "wasmcap bundle remove echo@1.0.0");
  ASSERT_TRUE(r.resolve("echo", std::nullopt, trust()));  // the store as it was: trusted again
  // The key removed from the store: installed as trusted, it no longer runs.
  fs::remove(fs::path(home_) / "trust/official.pub");
  expect_echo_refused(r, trust(), ErrorCode::kBundleUntrusted, "no longer in the trust store");
  // Revoked through the store's revoked/ directory.
  fs::create_directories(fs::path(home_) / "trust/revoked");
  fs::copy_file(dir_ / "keys/official.pub", fs::path(home_) / "trust/revoked/official.pub");
  expect_echo_refused(r, trust(), ErrorCode::kBundleRevoked, "revoked");
}

TEST_F(RegistryVerifiedStateTest, ARemovedAndReinstalledBundleIsVerifiedAgain) {
  ASSERT_TRUE(install(echo("1.0.0", official_)));
  settle();
  Registry r = reg();
  auto first = r.resolve("echo", std::nullopt, trust());
  ASSERT_TRUE(first.has_value());
  ASSERT_TRUE(reg().remove("echo", std::nullopt));
  expect_echo_refused(r, trust(), ErrorCode::kNotFound, "no installed bundle echo");
  // The same name and version, other content.
  ASSERT_TRUE(install(pack_bundle("echo", "1.0.0", "hello", R"({"args":true})", official_)));
  settle();
  auto again = r.resolve("echo", std::nullopt, trust());
  ASSERT_TRUE(again.has_value()) << again.error().to_string();
  EXPECT_NE(again->module_sha256, first->module_sha256);
  EXPECT_EQ(*again->module_bytes, testing::guest_bytes("hello"));
}

}  // namespace
}  // namespace wasmcap::registry

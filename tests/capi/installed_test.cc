// wasmcap_installed_open: an embedder runs an installed, signed bundle by name with the checks of
// `wasmcap run NAME` (docs/c-api.md, "Installed bundles"). Fixtures are made with the C++ bundle
// and registry API; every case then goes through the C API only. Each refusal asserts its code,
// so removing the check it covers fails the case.
#include <sys/stat.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

#include "signing_home.h"
#include "test_support.h"
#include "wasmcap/bundle.h"
#include "wasmcap/registry.h"
#include "wasmcap/wasmcap.h"

namespace wasmcap {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;
using testing::read_text;
using testing::TempDir;
using testing::write_text;

struct Opened {
  wasmcap_errcode_t code = WASMCAP_OK;
  std::string message;
  wasmcap_module_t* module = nullptr;
  wasmcap_plan_t* plan = nullptr;
  ~Opened() {
    wasmcap_module_delete(module);
    wasmcap_plan_delete(plan);
  }
};

class InstalledOpenTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = tmp_.path();
    testing::SigningHome h(dir_);
    home_ = h.home;
    official_ = h.official;
    other_ = h.other;
    ASSERT_EQ(wasmcap_engine_new("interp", nullptr, &engine_), nullptr);
  }
  void TearDown() override { wasmcap_engine_delete(engine_); }

  // Installs echo@VERSION (guest args_env: prints argv and environ) signed by `key`.
  registry::Installed install(const std::string& version, const bundle::SecretKey& key,
                              bool allow_untrusted = false) {
    fs::path p = dir_ / ("src-" + version + "-" + std::to_string(counter_++));
    fs::create_directories(p);
    fs::copy_file(testing::guest_path("args_env"), p / "plugin.wasm");
    Json m = {{"name", "echo"}, {"version", version}, {"module", "plugin.wasm"},
              {"permissions", {{"args", true}, {"env", {"LANG"}}}}};
    write_text(p / "manifest.json", m.dump());
    std::string out = (p / "plugin.wcb").string();
    auto packed = bundle::pack_to_file((p / "manifest.json").string(), key, out);
    EXPECT_TRUE(packed.has_value()) << packed.error().to_string();
    auto reg = registry::Registry::open(home_);
    EXPECT_TRUE(reg.has_value()) << reg.error().to_string();
    auto trust = registry::load_trust_store(home_, nullptr);
    EXPECT_TRUE(trust.has_value());
    registry::InstallOptions o;
    o.allow_untrusted = allow_untrusted;
    auto r = reg->install(out, *trust, o);
    EXPECT_TRUE(r.has_value()) << r.error().to_string();
    return r ? r->installed : registry::Installed{};
  }

  void open(Opened& o, const char* reference, const std::string* config = nullptr,
            int allow_untrusted = 0, const char* home = nullptr) {
    wasmcap_error_t* e = wasmcap_installed_open(
        engine_, home != nullptr ? home : home_.c_str(), reference,
        config != nullptr ? config->data() : nullptr, config != nullptr ? config->size() : 0,
        allow_untrusted, &o.module, &o.plan);
    o.code = wasmcap_error_code(e);
    o.message = wasmcap_error_message(e);
    wasmcap_error_delete(e);
    if (o.code != WASMCAP_OK) {
      EXPECT_EQ(o.module, nullptr);
      EXPECT_EQ(o.plan, nullptr);
    }
  }

  // Runs an opened bundle with the plan and `args`; returns its stdout.
  std::string run(const Opened& o, const std::vector<std::string>& args) {
    wasmcap_config_t* c = wasmcap_config_new();
    wasmcap_config_set_plan(c, o.plan, 0);
    for (const auto& a : args) EXPECT_EQ(wasmcap_config_push_arg(c, a.c_str()), nullptr);
    std::string out;
    wasmcap_config_set_output_callback(
        c,
        [](void* user, int fd, const uint8_t* data, size_t len) {
          if (fd == 1) static_cast<std::string*>(user)->append(reinterpret_cast<const char*>(data), len);
          return 0;
        },
        &out);
    wasmcap_run_result_t result{};
    wasmcap_error_t* e = wasmcap_run(engine_, o.module, c, &result);
    EXPECT_EQ(e, nullptr) << wasmcap_error_message(e);
    wasmcap_error_delete(e);
    EXPECT_EQ(result.exit_code, 0);
    wasmcap_config_delete(c);
    return out;
  }

  std::string grant_lang() const {
    return R"({"plugins":{"echo":{"grants":{"env":{"LANG":"C.UTF-8"}}}}})";
  }

  TempDir tmp_;
  fs::path dir_;
  std::string home_;
  bundle::SecretKey official_, other_;
  wasmcap_engine_t* engine_ = nullptr;
  int counter_ = 0;
};

TEST_F(InstalledOpenTest, RunsTheVerifiedModuleUnderTheHostConfigsGrants) {
  install("1.0.0", official_);
  Opened o;
  std::string config = grant_lang();
  open(o, "echo", &config);
  ASSERT_EQ(o.code, WASMCAP_OK) << o.message;
  EXPECT_STREQ(wasmcap_plan_plugin(o.plan), "echo");
  EXPECT_EQ(wasmcap_plan_check(o.plan), nullptr);
  std::string out = run(o, {"echo", "hello world"});
  EXPECT_NE(out.find("arg[1]=[hello world]"), std::string::npos) << out;
  EXPECT_NE(out.find("env[0]=[LANG=C.UTF-8]"), std::string::npos) << out;
}

TEST_F(InstalledOpenTest, NoConfigGrantsNothing) {
  install("1.0.0", official_);
  Opened o;
  open(o, "echo");
  ASSERT_EQ(o.code, WASMCAP_OK) << o.message;
  wasmcap_error_t* e = wasmcap_plan_check(o.plan);
  EXPECT_EQ(wasmcap_error_code(e), WASMCAP_ERR_GRANT_DENIED);
  EXPECT_NE(std::string(wasmcap_error_message(e)).find("LANG"), std::string::npos)
      << wasmcap_error_message(e);
  wasmcap_error_delete(e);
}

TEST_F(InstalledOpenTest, VersionedReferenceAndNotInstalled) {
  install("1.0.0", official_);
  install("1.2.0", official_);
  Opened a, b, c;
  open(a, "echo@1.0.0");
  EXPECT_EQ(a.code, WASMCAP_OK) << a.message;
  EXPECT_NE(std::string(wasmcap_plan_json(a.plan)).find("1.0.0"), std::string::npos)
      << wasmcap_plan_json(a.plan);
  open(b, "echo@9.9.9");
  EXPECT_EQ(b.code, WASMCAP_ERR_NOT_FOUND) << b.message;
  open(c, "missing");
  EXPECT_EQ(c.code, WASMCAP_ERR_NOT_FOUND) << c.message;
}

TEST_F(InstalledOpenTest, ModifiedModuleInTheStoreIsRefused) {
  registry::Installed i = install("1.0.0", official_);
  std::string p = i.dir + "/modules/plugin.wasm";
  std::string m = read_text(p);
  m[m.size() / 2] ^= 1;
  ::chmod(p.c_str(), 0644);
  write_text(p, m);
  Opened o;
  open(o, "echo");
  EXPECT_EQ(o.code, WASMCAP_ERR_BUNDLE_INVALID) << o.message;
  EXPECT_NE(o.message.find("was modified in the registry"), std::string::npos) << o.message;
}

TEST_F(InstalledOpenTest, KeyRevokedByTheHostConfigIsRefused) {
  install("1.0.0", official_);
  std::string config = R"({"trust":{"revoked":[")" + official_.public_key().id() + R"("]}})";
  Opened o;
  open(o, "echo", &config);
  EXPECT_EQ(o.code, WASMCAP_ERR_BUNDLE_REVOKED) << o.message;
}

TEST_F(InstalledOpenTest, UntrustedSignerNeedsTheCallersConsent) {
  install("1.0.0", other_, /*allow_untrusted=*/true);
  Opened refused, allowed;
  open(refused, "echo");
  EXPECT_EQ(refused.code, WASMCAP_ERR_BUNDLE_UNTRUSTED) << refused.message;
  EXPECT_NE(refused.message.find("wasmcap trust add"), std::string::npos) << refused.message;
  open(allowed, "echo", nullptr, 1);
  EXPECT_EQ(allowed.code, WASMCAP_OK) << allowed.message;
}

TEST_F(InstalledOpenTest, BadArgumentsAndAMissingRegistryWriteNothing) {
  Opened bad_ref, relative, missing;
  open(bad_ref, "../x\x1b[2J");
  EXPECT_EQ(bad_ref.code, WASMCAP_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(bad_ref.message.find('\x1b'), std::string::npos) << "unescaped: " << bad_ref.message;
  open(relative, "echo", nullptr, 0, "relative/home");
  EXPECT_EQ(relative.code, WASMCAP_ERR_INVALID_ARGUMENT) << relative.message;
  std::string empty_home = (dir_ / "empty-home").string();
  open(missing, "echo", nullptr, 0, empty_home.c_str());
  EXPECT_EQ(missing.code, WASMCAP_ERR_NOT_FOUND) << missing.message;
  EXPECT_FALSE(fs::exists(empty_home)) << "a lookup created the registry home";

  wasmcap_module_t* m = nullptr;
  wasmcap_plan_t* p = nullptr;
  for (wasmcap_error_t* e :
       {wasmcap_installed_open(nullptr, home_.c_str(), "echo", nullptr, 0, 0, &m, &p),
        wasmcap_installed_open(engine_, home_.c_str(), nullptr, nullptr, 0, 0, &m, &p),
        wasmcap_installed_open(engine_, home_.c_str(), "echo", nullptr, 5, 0, &m, &p),
        wasmcap_installed_open(engine_, home_.c_str(), "echo", nullptr, 0, 0, nullptr, &p),
        wasmcap_installed_open(engine_, home_.c_str(), "echo", nullptr, 0, 0, &m, nullptr)}) {
    EXPECT_EQ(wasmcap_error_code(e), WASMCAP_ERR_INVALID_ARGUMENT) << wasmcap_error_message(e);
    wasmcap_error_delete(e);
  }
  std::string bad_config = "{";
  Opened bad;
  open(bad, "echo", &bad_config);
  EXPECT_NE(bad.code, WASMCAP_OK);
}

}  // namespace
}  // namespace wasmcap

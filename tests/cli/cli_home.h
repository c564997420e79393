// The CLI tests' home (ecosystem_*_test.cc, first_contact_test.cc): a temporary directory that
// is also $WASMCAP_HOME for the `wasmcap` processes run through it, with a signing key and a
// signed hello bundle on demand; and the documented usage-error format.
#pragma once

#include <nlohmann/json.hpp>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "test_support.h"

namespace wasmcap::cli_test {

namespace fs = std::filesystem;
using nlohmann::json;
using testing::describe;
using testing::guest_path;
using testing::ProcResult;
using testing::run_cli;
using testing::TempDir;

inline bool starts_with(const std::string& s, const std::string& p) { return s.rfind(p, 0) == 0; }

// A temp dir that is also $WASMCAP_HOME for the commands run through it.
struct Home {
  TempDir dir;
  testing::ProcOptions opts() const {
    testing::ProcOptions o;
    o.extra_env = {{"WASMCAP_HOME", dir.str() + "/home"}};
    return o;
  }
  ProcResult cli(const std::vector<std::string>& args) const { return run_cli(args, opts()); }
  std::string path(const std::string& name) const { return dir.str() + "/" + name; }
  // A new home holding a copy of `original`'s WASMCAP_HOME (no wasmcap may be running in it).
  // The registry keeps store paths relative to the home, so the copy is a home of its own: the
  // fault tests copy one prepared home per case instead of re-running the commands that made it.
  static std::unique_ptr<Home> copy_of(const Home& original) {
    auto h = std::make_unique<Home>();
    std::error_code ec;
    fs::copy(original.path("home"), h->path("home"),
             fs::copy_options::recursive | fs::copy_options::copy_symlinks, ec);
    EXPECT_FALSE(ec) << "copy of " << original.path("home") << ": " << ec.message();
    return h;
  }
  // keys/NAME.key + .pub
  void keygen(const std::string& name) const {
    ProcResult r = cli({"bundle", "keygen", "--out", path("keys"), "--name", name});
    ASSERT_EQ(r.exit_code, 0) << describe(r);
  }
  // hello.wcb: hello.wasm signed by keys/NAME.key, with a manifest requesting args and one env.
  std::string pack_hello(const std::string& key) const {
    fs::copy_file(guest_path("hello"), path("hello.wasm"), fs::copy_options::overwrite_existing);
    testing::write_text(path("manifest.json"),
                        R"({"name":"hello","version":"1.2.3","module":"hello.wasm",)"
                        R"("description":"says \u001b[31mhello","permissions":{"args":true,"env":["WHO"]}})");
    ProcResult r = cli({"bundle", "pack", "--manifest", path("manifest.json"), "--key",
                        path("keys/" + key + ".key"), "--out", path("hello.wcb")});
    EXPECT_EQ(r.exit_code, 0) << describe(r);
    return path("hello.wcb");
  }
};

inline void expect_usage_error(const ProcResult& r, const std::string& needle) {
  EXPECT_EQ(r.exit_code, 64) << describe(r);
  EXPECT_TRUE(starts_with(r.err, "wasmcap: error: invalid_argument: ")) << r.err;
  EXPECT_NE(r.err.find(needle), std::string::npos) << r.err;
}

}  // namespace wasmcap::cli_test

// A registry home for tests of signed bundles: two signing keys ("official", trusted in
// HOME/trust, and "other", not trusted) made in `dir`, and HOME = dir/home. Shared by the
// registry tests (tests/bundle) and the C API's installed-bundle tests (tests/capi).
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "wasmcap/bundle.h"

namespace wasmcap::testing {

struct SigningHome {
  std::string home;
  bundle::SecretKey official, other;

  // Fails the calling test (ADD_FAILURE) when a key cannot be made.
  explicit SigningHome(const std::filesystem::path& dir) : home((dir / "home").string()) {
    namespace fs = std::filesystem;
    const std::string keys = (dir / "keys").string();
    for (const char* name : {"official", "other"}) {
      if (auto k = bundle::keygen(keys, name); !k) ADD_FAILURE() << k.error().to_string();
    }
    auto o = bundle::load_secret_key(keys + "/official.key");
    auto t = bundle::load_secret_key(keys + "/other.key");
    if (!o || !t) {
      ADD_FAILURE() << "signing keys did not load";
      return;
    }
    official = *o;
    other = *t;
    fs::create_directories(fs::path(home) / "trust");
    fs::copy_file(keys + "/official.pub", fs::path(home) / "trust/official.pub");
  }
};

}  // namespace wasmcap::testing

// The shadow-workspace tests' fixture (workspace_test.cc, workspace_apply_test.cc): a source
// tree of three files in a temporary directory and a home for the workspaces.
#pragma once

#include "wasmcap/workspace.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <functional>
#include <random>

#include "policy/syntax.h"
#include "test_support.h"
#include "wasmcap/policy.h"
#include "wasmcap/runtime.h"

namespace wasmcap::workspace_test {

namespace fs = std::filesystem;
using namespace wasmcap::workspace;  // (the test files: using namespace wasmcap::workspace_test)
using wasmcap::testing::read_text;
using wasmcap::testing::TempDir;
using wasmcap::testing::write_text;

struct Fixture : ::testing::Test {
  TempDir tmp;
  std::string home() { return (tmp.path() / "home").string(); }
  fs::path src() { return tmp.path() / "src"; }
  void SetUp() override {
    write_text(src() / "a.txt", "one\ntwo\nthree\n");
    write_text(src() / "sub/b.txt", "bee\n");
    write_text(src() / "bin.dat", std::string("x\0y", 3));
  }
  Info make(const std::string& name = "w1") {
    auto info = create(home(), src().string(), name);
    EXPECT_TRUE(info) << info.error().to_string();
    return info ? *info : Info{};
  }
  const Change* find(const DiffResult& d, const std::string& p) {
    for (const auto& c : d.changes) {
      if (c.path == p) return &c;
    }
    return nullptr;
  }
};

}  // namespace wasmcap::workspace_test

// The executor's test fixture (tests/shell/*_test.cc): runs a script through the library with
// one preopen (/work), capturing stdout, stderr and the audit records.
#pragma once

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "test_support.h"
#include "wasmcap/shell.h"

namespace wasmcap::shell::testing {

namespace fs = std::filesystem;

// The process's private writable mappings, in KiB: thread stacks and heap, what strict
// overcommit (vm.overcommit_memory=2) charges. Under AddressSanitizer its shadow memory and
// quarantine count too, so bounds on it hold in the Release runs only.
inline long private_writable_kib() {
  std::ifstream maps("/proc/self/maps");
  std::string line;
  long kib = 0;
  while (std::getline(maps, line)) {
    unsigned long lo = 0, hi = 0;
    char perms[5] = {};
    if (std::sscanf(line.c_str(), "%lx-%lx %4s", &lo, &hi, perms) == 3 && perms[1] == 'w' &&
        perms[3] == 'p') {
      kib += static_cast<long>((hi - lo) >> 10);
    }
  }
  return kib;
}
using wasmcap::testing::read_text;
using wasmcap::testing::TempDir;

struct ShRun {
  int code = -1;
  std::string out, err;
  Result<Outcome> result = Outcome{};
  std::vector<std::string> audit;        // shell_command records (after each command)
  std::vector<std::string> audit_start;  // shell_command_start records (before each command)
  std::vector<std::string> audit_all;    // both, in order
};

struct ShellFixture : ::testing::Test {
  TempDir tmp;
  fs::path work() { return tmp.path() / "work"; }
  void SetUp() override { fs::create_directories(work()); }
  Options opts() {
    Options o;
    Preopen p;
    p.host_path = work().string();
    p.guest_path = "/work";
    o.preopens.push_back(p);
    return o;
  }
  ShRun run(const std::string& script, Options o) {
    ShRun r;
    fs::path out = tmp.path() / "stdout", err = tmp.path() / "stderr";
    int ofd = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    int efd = ::open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    o.stdout_fd = ofd;
    o.stderr_fd = efd;
    auto mu = std::make_shared<std::mutex>();
    auto lines = std::make_shared<std::vector<std::string>>();
    o.audit = audit::callback_sink([mu, lines](std::string_view l) {
      std::lock_guard<std::mutex> lock(*mu);
      lines->emplace_back(l);
    });
    r.result = run_script(script, std::move(o));
    ::close(ofd);
    ::close(efd);
    r.code = r.result ? r.result->exit_code : -1;
    r.out = read_text(out);
    r.err = read_text(err);
    r.audit_all = *lines;
    // Sorted by a look at the compact record's event member, not a parse of every line: a
    // script of a million commands writes two million records (parsing them was a third of
    // such tests' time under the sanitizers). Tests that look inside a record parse it.
    for (const auto& l : *lines) {
      bool start = l.find("\"event\":\"shell_command_start\"") != std::string::npos;
      (start ? r.audit_start : r.audit).push_back(l);
    }
    return r;
  }
  ShRun run(const std::string& script) { return run(script, opts()); }
};

}  // namespace wasmcap::shell::testing

// Runs a script under Debian's bash (the reference shell of the differential tests of the
// shell's evaluation modules) and returns its standard output. Tests skip when bash is missing.
#pragma once

#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <fstream>
#include <optional>
#include <string>
#include <string_view>

namespace wasmcap::shell::testing {

inline constexpr const char* kBashPath = "/bin/bash";

inline bool have_bash() { return ::access(kBashPath, X_OK) == 0; }

// `text` as one single-quoted bash word.
inline std::string bash_quote(std::string_view text) {
  std::string out = "'";
  for (char c : text) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  return out + "'";
}

// The output of `script` run by bash in the C locale, or nullopt when it could not run.
inline std::optional<std::string> run_bash(const std::string& script) {
  char path[] = "/tmp/wasmcap-bash-oracle-XXXXXX";
  int fd = ::mkstemp(path);
  if (fd < 0) return std::nullopt;
  ::close(fd);
  {
    std::ofstream f(path, std::ios::binary);
    f << script;
  }
  std::string cmd = std::string("LC_ALL=C ") + kBashPath + " " + path;
  // bash must start with SIGPIPE at its default, as from a login shell: run_process
  // (test_support.h) ignores it in this process, a disposition children inherit and a
  // non-interactive shell cannot reset, and bash would then list it (`trap -- '' SIGPIPE`).
  // popen has forked when it returns, so the test's own disposition is back before it reads.
  struct sigaction dfl {}, old {};
  dfl.sa_handler = SIG_DFL;
  ::sigaction(SIGPIPE, &dfl, &old);
  FILE* p = ::popen(cmd.c_str(), "r");
  ::sigaction(SIGPIPE, &old, nullptr);
  std::optional<std::string> out;
  if (p != nullptr) {
    std::string text;
    char buf[4096];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) text.append(buf, n);
    if (::pclose(p) == 0) out = std::move(text);
  }
  ::unlink(path);
  return out;
}

}  // namespace wasmcap::shell::testing

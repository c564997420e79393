// `wasmcap setup`: the first-time setup of an installed wasmcap (docs/bundles.md, "First-time
// setup"): trust the public keys shipped with it and install the signed bundles shipped with it
// into $WASMCAP_HOME, through the same trust_add and bundle install a user would run by hand.
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "cli/ecosystem.h"

#ifndef WASMCAP_DATA_REL
#define WASMCAP_DATA_REL "../share/wasmcap"
#endif

namespace wasmcap::cli {

namespace {

namespace fs = std::filesystem;

// A directory of shipped bundles holds a few files; more than this is not one.
constexpr size_t kMaxEntries = 256;

// <directory of the executable>/WASMCAP_DATA_REL/bundles: the installed datadir, found from
// the installed bindir (never from the working directory or the environment).
Result<std::string> shipped_bundles_dir() {
  char buf[4096];
  ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0 || buf[0] != '/') {
    return make_error(ErrorCode::kNotFound,
                      "cannot locate the shipped bundles: /proc/self/exe is unreadable (give "
                      "--from DIR)");
  }
  std::string exe(buf, static_cast<size_t>(n));
  return exe.substr(0, exe.rfind('/')) + "/" WASMCAP_DATA_REL "/bundles";
}

int setup(const std::string& from) {
  std::string dir = from;
  if (dir.empty()) {
    auto d = shipped_bundles_dir();
    if (!d) return report_error(d.error());
    dir = *d;
  }
  std::vector<std::string> keys, bundles;
  std::error_code ec;
  fs::directory_iterator it(dir, ec), end;
  size_t seen = 0;
  for (; !ec && it != end; it.increment(ec)) {
    if (++seen > kMaxEntries) {
      return report_error(Error(ErrorCode::kInvalidArgument,
                                dir + " holds more than " + std::to_string(kMaxEntries) +
                                    " entries: not a directory of shipped bundles"));
    }
    if (!it->is_regular_file(ec)) continue;
    const std::string p = it->path().string();
    if (it->path().extension() == ".pub") keys.push_back(p);
    if (it->path().extension() == ".wcb") bundles.push_back(p);
  }
  if (ec || bundles.empty()) {
    return report_error(Error(
        ErrorCode::kNotFound,
        "no shipped bundles (*.wcb) in " + dir +
            (ec ? ": " + ec.message() : std::string()) +
            " (this wasmcap was installed without them: build the bundles, then cmake --install; "
            "or give --from DIR, e.g. a build's build/bundles)"));
  }
  std::sort(keys.begin(), keys.end());
  std::sort(bundles.begin(), bundles.end());
  // The keys first: each bundle install below checks its signer against the trust store.
  for (const auto& k : keys) {
    if (int rc = run_trust_add(k); rc != 0) return rc;
  }
  for (const auto& b : bundles) {
    if (int rc = run_bundle_install(b); rc != 0) return rc;
  }
  std::printf("wasmcap setup: done; try: wasmcap sh --dir .::/work -c 'ls -l /work'\n");
  return 0;
}

}  // namespace

Dispatch add_setup_command(CLI::App& app) {
  auto from = std::make_shared<std::string>();
  CLI::App* cmd = app.add_subcommand(
      "setup",
      "First-time setup: trust the public keys of the bundles shipped with wasmcap and install "
      "those bundles into $WASMCAP_HOME (docs/bundles.md, \"First-time setup\"); running it "
      "again changes nothing");
  cmd->add_option("--from", *from,
                  "Directory of the bundles (*.wcb) and their signers' public keys (*.pub) "
                  "(default: DATADIR/wasmcap/bundles of this installation)");
  return [=]() -> std::optional<int> {
    if (!*cmd) return std::nullopt;
    return setup(*from);
  };
}

}  // namespace wasmcap::cli

// The sandbox-escape harness of guest/tests/escape.c: the workspace full of traps the guest
// tries to leave through (symlinks pointing out, a secret file beside it, a read-only preopen),
// and the checks of both what the guest reports and what actually happened on the host. One
// harness for every way the guest runs: as a WASI Preview 1 module (tests/runtime/escape_test.cc)
// and wrapped as a WASI 0.2 component by jco's preview1 adapter, its paths then reaching the host
// through wasi:filesystem (tests/component/component_escape_test.cc).
#pragma once

#include <sys/stat.h>

#include <filesystem>
#include <map>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "test_paths.h"
#include "test_support.h"

namespace wasmcap::testing {

class EscapeLayout {
 public:
  static constexpr const char* kSecret = "TOP SECRET: the guest must never read or change this\n";

  // Builds the layout under `root` (an empty directory) and notes everything outside the
  // workspace, to compare after the run.
  explicit EscapeLayout(const std::filesystem::path& root) : root_(root), ws_(root / "ws"), ro_(root / "ro") {
    namespace fs = std::filesystem;
    fs::create_directories(ws_ / "sub");
    fs::create_directories(ro_ / "ro_sub");
    fs::create_directories(root_ / "outside_dir");
    fs::create_directories(root_ / "empty_outside");
    write_text(root_ / "secret.txt", kSecret);
    write_text(root_ / "outside_dir" / "file.txt", "outside file\n");
    write_text(ws_ / "inside.txt", "inside data\n");
    write_text(ws_ / "victim.txt", "victim\n");
    write_text(ws_ / "victim2.txt", "victim2\n");
    write_text(ws_ / "sub" / "nested.txt", "nested\n");
    write_text(ro_ / "ro.txt", "read only\n");
    fs::create_symlink("/etc", ws_ / "etc_link");
    fs::create_symlink("..", ws_ / "updir");
    fs::create_symlink("../../", ws_ / "up2");
    fs::create_symlink("../secret.txt", ws_ / "secret_link");
    fs::create_symlink(root_ / "secret.txt", ws_ / "abs_secret_link");
    fs::create_symlink("chain2", ws_ / "chain1");
    fs::create_symlink("chain3", ws_ / "chain2");
    fs::create_symlink("../secret.txt", ws_ / "chain3");
    fs::create_symlink("../created_by_guest.txt", ws_ / "dangle");
    fs::create_symlink(root_ / "created_abs.txt", ws_ / "dangle_abs");
    fs::create_symlink("../outside_dir", ws_ / "hidden_dir_link");
    fs::create_symlink("../../secret.txt", ws_ / "sub" / "up_link");
    fs::create_symlink("inside.txt", ws_ / "good_link");
    before_ = snapshot(root_, ws_);
    EXPECT_EQ(stat((root_ / "secret.txt").c_str(), &secret_before_), 0);
  }

  // `wasmcap run`'s arguments: the workspace read-write at /work, the read-only tree at /ro,
  // then `module` (a core module or a component).
  std::vector<std::string> run_args(const std::string& module) const {
    return {"run", "--dir", ws_.string() + "::/work", "--dir", ro_.string() + "::/ro:ro", module};
  }

  // Every attempt the guest's source names was reported refused, every control ok, exit 0; and
  // on the host: the secret unchanged and unlinked, nothing outside the workspace created,
  // changed or removed, no entry of the workspace the secret's inode.
  void check(const ProcResult& r) const {
    namespace fs = std::filesystem;
    ASSERT_TRUE(r.exited) << describe(r);

    // What the guest says: one line per attempt and control named in its source.
    const std::string src =
        read_text(fs::path(test_paths::source_dir()) / "guest" / "tests" / "escape.c");
    const auto attempts = names_in_source(src, "attempt");
    auto controls = names_in_source(src, "control");
    for (const auto& n : names_in_source(src, "control_errno")) controls.insert(n);
    ASSERT_GE(attempts.size(), 15u);
    ASSERT_GE(controls.size(), 5u);

    std::map<std::string, std::string> attempt_lines, control_lines;
    for (const auto& line : lines_of(r.out)) {
      std::smatch m;
      static const std::regex attempt_re("^ATTEMPT ([a-z0-9_]+): (.*)$");
      static const std::regex control_re("^CONTROL ([a-z0-9_]+): (.*)$");
      if (std::regex_match(line, m, attempt_re)) attempt_lines[m[1]] = m[2];
      if (std::regex_match(line, m, control_re)) control_lines[m[1]] = m[2];
    }
    std::string escaped, failed_controls;
    for (const auto& name : attempts) {
      auto it = attempt_lines.find(name);
      if (it == attempt_lines.end()) {
        ADD_FAILURE() << "attempt " << name << " was not reported";
        continue;
      }
      if (it->second.rfind("refused (", 0) != 0) escaped += "  " + name + ": " + it->second + "\n";
    }
    for (const auto& name : controls) {
      auto it = control_lines.find(name);
      if (it == control_lines.end()) {
        ADD_FAILURE() << "control " << name << " was not reported";
        continue;
      }
      if (it->second != "ok") failed_controls += "  " + name + ": " + it->second + "\n";
    }
    EXPECT_TRUE(escaped.empty()) << "ESCAPES:\n" << escaped;
    EXPECT_TRUE(failed_controls.empty())
        << "positive controls failed (the filesystem must work inside the sandbox):\n"
        << failed_controls;
    EXPECT_EQ(r.exit_code, 0) << describe(r);

    // What actually happened on the host.
    EXPECT_EQ(read_text(root_ / "secret.txt"), kSecret);
    struct stat secret_after {};
    ASSERT_EQ(stat((root_ / "secret.txt").c_str(), &secret_after), 0);
    EXPECT_EQ(secret_after.st_nlink, 1u) << "a hard link to the secret was created";
    EXPECT_EQ(secret_after.st_mtim.tv_sec, secret_before_.st_mtim.tv_sec);
    EXPECT_EQ(secret_after.st_mtim.tv_nsec, secret_before_.st_mtim.tv_nsec);
    const auto after = snapshot(root_, ws_);
    for (const auto& [path, desc] : after) {
      auto it = before_.find(path);
      if (it == before_.end()) {
        ADD_FAILURE() << "new entry outside the workspace: " << path << " (" << desc << ")";
      } else if (it->second != desc) {
        ADD_FAILURE() << "changed outside the workspace: " << path << "\n  before: " << it->second
                      << "\n  after:  " << desc;
      }
    }
    for (const auto& [path, desc] : before_) {
      if (!after.count(path)) ADD_FAILURE() << "removed outside the workspace: " << path;
    }
    for (const char* p : {"created_by_guest.txt", "created_abs.txt", "created_by_guest2.txt",
                          "libc_created.txt", "moved_out.txt", "hl_out.txt", "evil_link",
                          "newdir", "secret2.txt"}) {
      EXPECT_FALSE(fs::exists(fs::symlink_status(root_ / p))) << p;
    }
    EXPECT_FALSE(fs::exists(fs::symlink_status("/tmp_wasmcap_escape_dir")));
    // Nothing in the workspace is the secret's inode (no hard link, no rename in).
    std::error_code ec;
    for (auto it = fs::recursive_directory_iterator(ws_, ec);
         !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
      struct stat st {};
      if (lstat(it->path().c_str(), &st) == 0) {
        EXPECT_FALSE(st.st_ino == secret_after.st_ino && st.st_dev == secret_after.st_dev)
            << it->path();
      }
    }
    EXPECT_TRUE(fs::exists(ws_ / "victim2.txt"));
  }

 private:
  // Everything observable about a tree (without following symlinks), keyed by relative path.
  static std::map<std::string, std::string> snapshot(const std::filesystem::path& root,
                                                     const std::filesystem::path& skip) {
    namespace fs = std::filesystem;
    std::map<std::string, std::string> m;
    std::error_code ec;
    for (auto it = fs::recursive_directory_iterator(root, ec);
         !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
      const fs::path& p = it->path();
      if (p == skip) {
        it.disable_recursion_pending();
        continue;
      }
      struct stat st {};
      if (lstat(p.c_str(), &st) != 0) continue;
      std::string d = "mode=" + std::to_string(st.st_mode) + " nlink=" + std::to_string(st.st_nlink) +
                      " size=" + std::to_string(st.st_size) +
                      " mtime=" + std::to_string(st.st_mtim.tv_sec) + "." +
                      std::to_string(st.st_mtim.tv_nsec);
      if (S_ISLNK(st.st_mode)) {
        d += " -> " + fs::read_symlink(p, ec).string();
      } else if (S_ISREG(st.st_mode)) {
        d += " content=" + read_text(p);
      }
      m[fs::relative(p, root).string()] = d;
    }
    return m;
  }

  static std::set<std::string> names_in_source(const std::string& src, const std::string& fn) {
    std::set<std::string> names;
    std::regex re("\\b" + fn + "\\(\"([a-z0-9_]+)\"");
    for (auto it = std::sregex_iterator(src.begin(), src.end(), re); it != std::sregex_iterator();
         ++it) {
      names.insert((*it)[1]);
    }
    return names;
  }

  std::filesystem::path root_, ws_, ro_;
  std::map<std::string, std::string> before_;
  struct stat secret_before_ {};
};

}  // namespace wasmcap::testing

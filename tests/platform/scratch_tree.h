// A scratch tree for the resolver's tests and its fuzz target (no GoogleTest here: the fuzz
// target includes it too). Everything lives in a fresh directory under $TMPDIR:
//   T/outside/secret                        (must never be reachable)
//   T/root/                                 (the root resolutions start from)
//     file
//     dir/sub/file2
//     dir/link_ok      -> ../file           (stays inside)
//     dir/link_up      -> ../..             (climbs out)
//     dir/link_dotdot  -> ..                (root: fine)
//     link_dir         -> dir
//     link_etc         -> /etc              (absolute)
//     link_abs_inside  -> T/root/file       (absolute, even if inside: refused)
//     link_out         -> ../outside        (relative, out)
//     chain1 -> chain2 -> dir/chain3 -> ../../outside   (chain out)
//     chain_ok1 -> chain_ok2 -> dir/sub     (chain in)
//     loop1 <-> loop2, self -> self         (loops)
//     dangling         -> missing
//     link_file_slash  -> file/             (target names a file as a directory)
//     link_dir_slash   -> dir/              (target names a directory, with a slash)
//     deep             -> dir/sub/../../dir/sub/../..   (== root, fine)
//     dot              -> .                 (root itself)
#pragma once

#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

namespace wasmcap::platform::testing {

class ScratchTree {
 public:
  ScratchTree() {
    namespace fs = std::filesystem;
    std::string tmpl = (fs::temp_directory_path() / "wasmcap-beneath-XXXXXX").string();
    if (::mkdtemp(tmpl.data()) == nullptr) die("mkdtemp");
    top_ = tmpl;
    root_ = top_ / "root";
    fs::create_directories(top_ / "outside");
    std::ofstream(top_ / "outside" / "secret") << "secret";
    fs::create_directories(root_ / "dir" / "sub");
    std::ofstream(root_ / "file") << "file";
    std::ofstream(root_ / "dir" / "sub" / "file2") << "file2";
    link("../file", "dir/link_ok");
    link("../..", "dir/link_up");
    link("..", "dir/link_dotdot");
    link("dir", "link_dir");
    link("/etc", "link_etc");
    link((root_ / "file").string(), "link_abs_inside");
    link("../outside", "link_out");
    link("chain2", "chain1");
    link("dir/chain3", "chain2");
    link("../../outside", "dir/chain3");
    link("chain_ok2", "chain_ok1");
    link("dir/sub", "chain_ok2");
    link("loop2", "loop1");
    link("loop1", "loop2");
    link("self", "self");
    link("missing", "dangling");
    link("file/", "link_file_slash");
    link("dir/", "link_dir_slash");
    link("dir/sub/../../dir/sub/../..", "deep");
    link(".", "dot");
    root_fd_ = ::open(root_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (root_fd_ < 0) die("open root");
  }
  ~ScratchTree() {
    if (root_fd_ >= 0) ::close(root_fd_);
    std::error_code ec;
    std::filesystem::remove_all(top_, ec);
  }
  ScratchTree(const ScratchTree&) = delete;
  ScratchTree& operator=(const ScratchTree&) = delete;

  int root_fd() const { return root_fd_; }
  const std::filesystem::path& root() const { return root_; }
  const std::filesystem::path& top() const { return top_; }

  // A symlink `at` (relative to root) with target `target`.
  void link(const std::string& target, const std::string& at) const {
    std::filesystem::create_symlink(target, root_ / at);
  }

 private:
  [[noreturn]] static void die(const char* what) {
    std::perror(what);
    std::abort();
  }
  std::filesystem::path top_, root_;
  int root_fd_ = -1;
};

// True if descriptor `fd` is the file or directory at host path `p`.
inline bool same_file(int fd, const std::filesystem::path& p) {
  struct stat a {}, b {};
  if (::fstat(fd, &a) != 0 || ::stat(p.c_str(), &b) != 0) return false;
  return a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

}  // namespace wasmcap::platform::testing

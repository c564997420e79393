// Unit tests of the path resolver (src/wasi/path.h): every case runs through both
// implementations, openat2(RESOLVE_BENEATH) and the component-by-component fallback, and
// asserts the exact WASI errno.
#include "wasi/path.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

namespace wasmcap::wasi {
namespace {

namespace fs = std::filesystem;

// A scratch tree:
//   T/outside/secret                        (must never be reachable)
//   T/root/                                 (the sandbox root)
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
//     deep             -> dir/sub/../../dir/sub/../..   (== root, fine)
class ScratchTree {
 public:
  ScratchTree() {
    std::string tmpl = (fs::temp_directory_path() / "wasmcap-path-test-XXXXXX").string();
    char* d = mkdtemp(tmpl.data());
    EXPECT_NE(d, nullptr);
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
    link("dir/sub/../../dir/sub/../..", "deep");
    root_fd_ = ::open(root_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    EXPECT_GE(root_fd_, 0);
  }
  ~ScratchTree() {
    if (root_fd_ >= 0) ::close(root_fd_);
    std::error_code ec;
    fs::remove_all(top_, ec);
  }
  int root_fd() const { return root_fd_; }
  const fs::path& root() const { return root_; }
  const fs::path& top() const { return top_; }

 private:
  void link(const std::string& target, const std::string& at) {
    fs::create_symlink(target, root_ / at);
  }
  fs::path top_, root_;
  int root_fd_ = -1;
};

// "l" + number, without operator+(const char*, string) (GCC 12 -Wrestrict false positive).
std::string numbered(const char* prefix, int i) {
  std::string s(prefix);
  s.append(std::to_string(i));
  return s;
}

bool same_file(int fd, const fs::path& p) {
  struct stat a {}, b {};
  if (::fstat(fd, &a) != 0 || ::stat(p.c_str(), &b) != 0) return false;
  return a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

class PathResolverTest : public ::testing::TestWithParam<ResolverImpl> {
 protected:
  void SetUp() override {
    if (GetParam() == ResolverImpl::kOpenat2 && !kernel_has_openat2()) {
      GTEST_SKIP() << "kernel has no openat2";
    }
    saved_ = resolver_impl();
    set_resolver_impl(GetParam());
  }
  void TearDown() override { set_resolver_impl(saved_); }

  ScratchTree tree_;
  ResolverImpl saved_ = ResolverImpl::kAuto;
};

struct RejectCase {
  const char* path;
  bool follow;
  Errno want;
  const char* why;
};

// clang-format off
const RejectCase kRejections[] = {
  {"",                         false, kEnoent,  "empty path"},
  {"..",                       false, kEperm,   "parent of root"},
  {"../",                      false, kEperm,   "parent of root, trailing slash"},
  {"../root/file",             false, kEperm,   "out and back in is still out"},
  {"../outside/secret",        false, kEperm,   "sibling of root"},
  {"/etc/passwd",              false, kEperm,   "absolute path"},
  {"/",                        false, kEperm,   "host root"},
  {"//etc",                    false, kEperm,   "absolute path, doubled slash"},
  {"dir/../../outside",        false, kEperm,   "a/../../x"},
  {"dir/sub/../../../x",       false, kEperm,   "deeper a/b/../../../x"},
  {"./../x",                   false, kEperm,   "./.. climbs out"},
  {"dir/./../..",              false, kEperm,   "final .. above root"},
  {"link_etc/passwd",          false, kEperm,   "intermediate absolute symlink"},
  {"link_etc",                 true,  kEperm,   "followed absolute symlink"},
  {"link_abs_inside",          true,  kEperm,   "absolute symlink, even pointing inside"},
  {"link_out/secret",          false, kEperm,   "relative symlink out"},
  {"link_out",                 true,  kEperm,   "followed relative symlink out"},
  {"dir/link_up/outside/secret", false, kEperm, "symlink to ../.. as a component"},
  {"dir/link_up",              true,  kEperm,   "followed symlink to ../.."},
  {"link_dir/../..",           false, kEperm,   ".. after a symlinked dir"},
  {"link_dir/link_dotdot/..",  false, kEperm,   "symlink to .. then .."},
  {"chain1/secret",            false, kEperm,   "symlink chain out (intermediate)"},
  {"chain1",                   true,  kEperm,   "symlink chain out (final)"},
  {"loop1",                    true,  kEloop,   "two-link loop"},
  {"loop1/x",                  false, kEloop,   "loop as an intermediate component"},
  {"self",                     true,  kEloop,   "self loop"},
  {"self/x",                   false, kEloop,   "self loop, intermediate"},
  {"file/x",                   false, kEnotdir, "file as a directory"},
  {"link_file_slash/x",        false, kEnotdir, "symlink to file/ as a directory"},
  {"missing/x",                false, kEnoent,  "missing intermediate directory"},
  {"dangling/x",               false, kEnoent,  "dangling symlink as a directory"},
};
// clang-format on

TEST_P(PathResolverTest, Rejections) {
  for (const auto& c : kRejections) {
    ResolvedPath rp;
    Errno got = resolve_path(tree_.root_fd(), c.path, c.follow, &rp);
    EXPECT_EQ(got, c.want) << "path '" << c.path << "' (" << c.why << ") follow=" << c.follow;
    if (got != kSuccess) {
      EXPECT_FALSE(rp.dir.valid()) << c.path;
    }
  }
}

struct AcceptCase {
  const char* path;
  bool follow;
  const char* dir;   // expected parent, relative to root ("" = root)
  const char* name;  // expected final component
  bool trailing_slash;
};

// clang-format off
const AcceptCase kAcceptances[] = {
  {"file",                      false, "",        "file",      false},
  {"./file",                    false, "",        "file",      false},
  {"dir//sub///file2",          false, "dir/sub", "file2",     false},
  {"dir/sub/../sub/./file2",    false, "dir/sub", "file2",     false},
  {"link_dir/sub/file2",        false, "dir/sub", "file2",     false},
  {"dir/link_ok",               false, "dir",     "link_ok",   false},  // not followed
  {"dir/link_ok",               true,  "",        "file",      false},  // followed inside
  {"dir/link_up",               false, "dir",     "link_up",   false},  // named, not followed
  {"link_etc",                  false, "",        "link_etc",  false},
  {"link_out",                  false, "",        "link_out",  false},
  {"chain_ok1",                 true,  "dir",     "sub",       false},
  {"chain_ok1/file2",           false, "dir/sub", "file2",     false},
  {"deep",                      true,  "",        ".",         false},
  {"deep/file",                 false, "",        "file",      false},
  {"dangling",                  true,  "",        "missing",   false},  // creatable target
  {"newfile",                   false, "",        "newfile",   false},
  {".",                         false, "",        ".",         false},
  {"dir/..",                    false, "",        ".",         false},
  {"dir/sub/..",                true,  "dir",     ".",         false},
  {"dir/link_dotdot/dir",       false, "",        "dir",       false},
  {"dir/sub/",                  false, "dir",     "sub",       true},
  {"dir/sub///",                false, "dir",     "sub",       true},
  {"link_file_slash",           true,  "",        "file",      true},   // target says "dir"
};
// clang-format on

TEST_P(PathResolverTest, Acceptances) {
  for (const auto& c : kAcceptances) {
    ResolvedPath rp;
    ASSERT_EQ(resolve_path(tree_.root_fd(), c.path, c.follow, &rp), kSuccess)
        << "path '" << c.path << "' follow=" << c.follow;
    EXPECT_TRUE(same_file(rp.dir.get(), tree_.root() / c.dir)) << c.path;
    EXPECT_EQ(rp.name, c.name) << c.path;
    EXPECT_EQ(rp.trailing_slash, c.trailing_slash) << c.path;
  }
}

// The resolved directory of a deep chain of symlinks hits the hop limit, not the stack.
TEST_P(PathResolverTest, HopLimit) {
  // l0 -> l1 -> ... -> l45 -> file: more expansions than kMaxSymlinkHops.
  const int n = kMaxSymlinkHops + 5;
  for (int i = 0; i < n; ++i) {
    fs::create_symlink(numbered("l", i + 1), tree_.root() / numbered("l", i));
  }
  fs::create_symlink("file", tree_.root() / numbered("l", n));
  ResolvedPath rp;
  EXPECT_EQ(resolve_path(tree_.root_fd(), "l0", true, &rp), kEloop);
  // A chain within the limit resolves.
  std::string start = numbered("l", n - kMaxSymlinkHops + 1);
  ASSERT_EQ(resolve_path(tree_.root_fd(), start, true, &rp), kSuccess);
  EXPECT_EQ(rp.name, "file");
}

// A resolution started from a subdirectory fd treats that directory as its root.
TEST_P(PathResolverTest, SubdirectoryIsItsOwnRoot) {
  int sub = ::open((tree_.root() / "dir").c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  ASSERT_GE(sub, 0);
  ResolvedPath rp;
  EXPECT_EQ(resolve_path(sub, "../file", false, &rp), kEperm);
  EXPECT_EQ(resolve_path(sub, "link_ok", true, &rp), kEperm);  // ../file from dir's view
  EXPECT_EQ(resolve_path(sub, "link_dotdot/x", false, &rp), kEperm);
  EXPECT_EQ(resolve_path(sub, "sub/../sub/file2", false, &rp), kSuccess);
  EXPECT_EQ(rp.name, "file2");
  ::close(sub);
}

// Threat: a component swapped between a real directory and a symlink pointing out while the
// guest resolves through it. Whatever the interleaving, the result is never outside root.
TEST_P(PathResolverTest, SwappedComponentRace) {
  fs::path real = tree_.root() / "swap_real";
  fs::create_directories(real);
  std::ofstream(real / "secret") << "inside";
  fs::create_symlink("../outside", tree_.root() / "swap_link");
  fs::rename(real, tree_.root() / "swap");
  std::atomic<bool> stop{false};
  std::thread swapper([&] {
    // Atomically exchange "swap" (a directory) and "swap_link" (a symlink out), repeatedly.
    int fd = ::open(tree_.root().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    while (!stop.load()) {
      ::renameat2(fd, "swap", fd, "swap_link", RENAME_EXCHANGE);
    }
    ::close(fd);
  });
  int inside = 0;
  for (int i = 0; i < 3000; ++i) {
    ResolvedPath rp;
    Errno r = resolve_path(tree_.root_fd(), "swap/secret", true, &rp);
    if (r == kSuccess) {
      EXPECT_FALSE(same_file(rp.dir.get(), tree_.top() / "outside")) << "escaped at " << i;
      ++inside;
    } else {
      EXPECT_EQ(r, kEperm) << "iteration " << i;
    }
  }
  stop = true;
  swapper.join();
  SUCCEED() << inside << " resolutions landed inside";
}

INSTANTIATE_TEST_SUITE_P(Impl, PathResolverTest,
                         ::testing::Values(ResolverImpl::kOpenat2, ResolverImpl::kFallback),
                         [](const ::testing::TestParamInfo<ResolverImpl>& i) {
                           return i.param == ResolverImpl::kOpenat2 ? std::string("Openat2")
                                                                    : std::string("Fallback");
                         });

TEST(SymlinkTargetDescends, OnlyRelativeTargetsWithoutDotDot) {
  EXPECT_FALSE(symlink_target_descends("/etc"));
  EXPECT_FALSE(symlink_target_descends(""));
  EXPECT_FALSE(symlink_target_descends(".."));
  EXPECT_FALSE(symlink_target_descends("../x"));
  EXPECT_FALSE(symlink_target_descends("a/../b"));  // could be `a` -> deep, then .. climbs
  EXPECT_FALSE(symlink_target_descends("a/.."));
  EXPECT_FALSE(symlink_target_descends("a//../"));
  EXPECT_TRUE(symlink_target_descends("x"));
  EXPECT_TRUE(symlink_target_descends("./x//y/"));
  EXPECT_TRUE(symlink_target_descends("."));
  EXPECT_TRUE(symlink_target_descends("a/..b/c.."));  // names, not `..`
}

TEST(ScanForClimbingLinks, FindsThemAtAnyDepthAndBoundsTheWork) {
  ScratchTree tree;
  auto keep = [](void*) { return true; };
  int err = 0;
  fs::create_directories(tree.root() / "t" / "a" / "b");
  fs::create_symlink("x/y", tree.root() / "t" / "a" / "down");
  int t = ::open((tree.root() / "t").c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  ASSERT_GE(t, 0);
  EXPECT_EQ(scan_for_climbing_links(t, keep, nullptr, &err), ScanResult::kClean);
  fs::create_symlink("../../z", tree.root() / "t" / "a" / "b" / "up");
  EXPECT_EQ(scan_for_climbing_links(t, keep, nullptr, &err), ScanResult::kFound);
  fs::remove(tree.root() / "t" / "a" / "b" / "up");
  fs::path deep = tree.root() / "t";
  for (uint32_t i = 0; i <= kMaxMoveScanDepth; ++i) deep /= "d";
  fs::create_directories(deep);
  EXPECT_EQ(scan_for_climbing_links(t, keep, nullptr, &err), ScanResult::kTooLarge);
  ::close(t);
}

// The openat2 cases above skip where the kernel lacks openat2; make sure that is not because
// the probe itself is wrong on a kernel that has it (Linux >= 5.6).
TEST(ResolverImpl, ProbeFindsOpenat2OnKernelsThatHaveIt) {
  struct utsname u {};
  ASSERT_EQ(::uname(&u), 0);
  int major = 0, minor = 0;
  ASSERT_EQ(std::sscanf(u.release, "%d.%d", &major, &minor), 2) << u.release;
  if (major > 5 || (major == 5 && minor >= 6)) {
    EXPECT_TRUE(kernel_has_openat2()) << "kernel " << u.release;
  }
}

TEST(ResolverImpl, EnvironmentAndSwitch) {
  ResolverImpl saved = resolver_impl();
  set_resolver_impl(ResolverImpl::kFallback);
  EXPECT_EQ(resolver_impl(), ResolverImpl::kFallback);
  set_resolver_impl(ResolverImpl::kOpenat2);
  EXPECT_EQ(resolver_impl(), ResolverImpl::kOpenat2);
  set_resolver_impl(saved);
}

}  // namespace
}  // namespace wasmcap::wasi

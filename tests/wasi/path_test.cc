// Unit tests of the WASI host's side of path resolution (src/wasi/path.h): the platform
// resolver's errnos as the guest sees them (the resolver's own rules are tested in
// tests/platform/), and the WASI rules for symlinks a guest creates or moves.
#include "wasi/path.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <string>

#include "scratch_tree.h"
#include "wasi/host.h"

namespace wasmcap::wasi {
namespace {

namespace fs = std::filesystem;
using platform::Resolver;
using platform::testing::ScratchTree;

class WasiResolveTest : public ::testing::TestWithParam<Resolver> {
 protected:
  void SetUp() override {
    if (GetParam() == Resolver::kOpenat2 && !platform::kernel_has_openat2()) {
      GTEST_SKIP() << "kernel has no openat2";
    }
    saved_ = platform::resolver();
    platform::set_resolver(GetParam());
  }
  void TearDown() override { platform::set_resolver(saved_); }

  ScratchTree tree_;
  Resolver saved_ = Resolver::kAuto;
};

// Escapes are EPERM (what the WASI test suite expects); the rest keep their meaning.
TEST_P(WasiResolveTest, PlatformErrnosAsTheGuestSeesThem) {
  struct Case {
    const char* path;
    bool follow;
    Errno want;
  };
  const Case cases[] = {
      {"../outside/secret", false, kEperm}, {"/etc/passwd", false, kEperm},
      {"link_out", true, kEperm},           {"link_etc/passwd", false, kEperm},
      {"loop1", true, kEloop},              {"file/x", false, kEnotdir},
      {"missing/x", false, kEnoent},        {"", false, kEnoent},
      {"dir/link_ok", true, kSuccess},
  };
  for (const auto& c : cases) {
    ResolvedPath rp;
    EXPECT_EQ(to_p1(resolve_path(tree_.root_fd(), c.path, c.follow, &rp)), c.want) << c.path;
  }
  ResolvedPath rp;
  EXPECT_EQ(resolve_path(tree_.root_fd(), std::string(platform::kMaxPathBytes + 1, 'a'), false,
                         &rp),
            Errc::kNameTooLong);
  // An escape is its own code (EXDEV from the platform layer), EPERM for Preview 1; a host's
  // own EXDEV (a rename across file systems) stays cross-device.
  EXPECT_EQ(resolve_path(tree_.root_fd(), "../outside/secret", false, &rp), Errc::kEscape);
  EXPECT_EQ(errc_from_platform(EXDEV), Errc::kEscape);
  EXPECT_EQ(errc_from_host(EXDEV), Errc::kCrossDevice);
  EXPECT_EQ(to_p1(errc_from_platform(EXDEV)), kEperm);
  EXPECT_EQ(to_p1(errc_from_platform(ENOTSUP)), kEnotsup);
  EXPECT_EQ(to_p1(errc_from_platform(EAGAIN)), kEagain);
}

INSTANTIATE_TEST_SUITE_P(Impl, WasiResolveTest,
                         ::testing::Values(Resolver::kOpenat2, Resolver::kFallback),
                         [](const ::testing::TestParamInfo<Resolver>& i) {
                           return i.param == Resolver::kOpenat2 ? std::string("Openat2")
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

TEST(SymlinkDescendingForm, AbsoluteTargetsBeneathTheLinksDirectoryOnly) {
  using O = std::optional<std::string>;
  EXPECT_EQ(symlink_descending_form("/w/d/f", "/w", "d/l"), O("f"));
  EXPECT_EQ(symlink_descending_form("/w/d/e/f/", "/w", "d/l"), O("e/f/"));
  EXPECT_EQ(symlink_descending_form("/w/d", "/w", "d/l"), O("."));
  EXPECT_EQ(symlink_descending_form("/w/f", "/", "w/l"), O("f"));      // the root preopen
  EXPECT_EQ(symlink_descending_form("/a/./b//f", "/a/", "./b/l"), O("f"));
  EXPECT_EQ(symlink_descending_form("/w/f", "/w", "d/l"), std::nullopt);  // above the link
  EXPECT_EQ(symlink_descending_form("/w/d/../d/f", "/w", "d/l"), std::nullopt);
  EXPECT_EQ(symlink_descending_form("/w/d/f", "/w", "x/../d/l"), std::nullopt);
  EXPECT_EQ(symlink_descending_form("/w/d/f", "/w/..", "d/l"), std::nullopt);
  EXPECT_EQ(symlink_descending_form("/wd/f", "/w", "l"), std::nullopt);  // a name's prefix
  EXPECT_EQ(symlink_descending_form("/w/f", "w", "l"), std::nullopt);     // relative preopen
  EXPECT_EQ(symlink_descending_form("w/f", "/w", "l"), std::nullopt);     // not absolute
  EXPECT_EQ(symlink_descending_form("/w/f", "/w", ""), std::nullopt);     // no link name
  EXPECT_EQ(symlink_descending_form("/w/f", "/w", "."), std::nullopt);
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

}  // namespace
}  // namespace wasmcap::wasi

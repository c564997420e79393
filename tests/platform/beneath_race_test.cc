// Race tests of the confinement primitive (src/platform/beneath.h): another thread rearranges
// the tree while resolutions run, many times over, through both implementations and both
// symlink modes. Whatever the interleaving, nothing opened or resolved is ever outside root.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <stdio.h>  // renameat2, RENAME_EXCHANGE
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <thread>

#include "platform/beneath.h"
#include "platform/fd.h"
#include "scratch_tree.h"

namespace wasmcap::platform {
namespace {

namespace fs = std::filesystem;
using testing::ScratchTree;
using testing::same_file;

constexpr int kIterations = 20000;

// After kIterations, a race test goes on until it has seen every outcome it asserts, for at most
// this long: 20,000 resolutions take ~25 ms, and on a loaded machine the other thread can be
// off the CPU for all of them (seen once in CI-like load: one outcome only). A safety net, not
// a wait: every resolution is checked whatever happens.
constexpr auto kMaxRaceTime = std::chrono::seconds(20);

// True while iteration `i` should run: the first kIterations always; then, until `seen_all`
// or kMaxRaceTime after `start`, yielding now and then so that the other thread gets the CPU.
bool keep_racing(int i, bool seen_all, std::chrono::steady_clock::time_point start) {
  if (i < kIterations) return true;
  if (seen_all || std::chrono::steady_clock::now() - start > kMaxRaceTime) return false;
  if (i % 1000 == 0) std::this_thread::yield();
  return true;
}

// Runs `body` on a thread until destroyed (also when an ASSERT leaves the test early).
class Background {
 public:
  template <class F>
  explicit Background(F body) : thread_([this, body] {
      while (!stop_.load()) body();
    }) {}
  ~Background() {
    stop_ = true;
    thread_.join();
  }

 private:
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

struct Mode {
  Resolver resolver;
  Symlinks symlinks;
};

std::string mode_name(const Mode& m) {
  return std::string(m.resolver == Resolver::kOpenat2 ? "Openat2" : "Fallback") +
         (m.symlinks == Symlinks::kRefuse ? "RefusingSymlinks" : "FollowingBeneath");
}

class BeneathRaceTest : public ::testing::TestWithParam<Mode> {
 protected:
  void SetUp() override {
    if (GetParam().resolver == Resolver::kOpenat2 && !kernel_has_openat2()) {
      GTEST_SKIP() << "kernel has no openat2";
    }
    saved_ = resolver();
    set_resolver(GetParam().resolver);
  }
  void TearDown() override { set_resolver(saved_); }

  // The errno a resolution through a component that is, at that instant, a symlink leading out
  // must give in this mode.
  int refused() const { return GetParam().symlinks == Symlinks::kRefuse ? ELOOP : EXDEV; }

  ScratchTree tree_;
  Resolver saved_ = Resolver::kAuto;
};

// Threat: a component swapped between a real directory and a symlink leading out while the
// path is resolved and opened (a guest, or anyone else who can write the tree, racing the
// host). `swap` is exchanged atomically (RENAME_EXCHANGE) with `swap_link` -> ../outside, so at
// every instant one of them is the directory and the other the link.
TEST_P(BeneathRaceTest, DirectorySwappedForASymlinkOut) {
  fs::path real = tree_.root() / "swap_real";
  fs::create_directories(real);
  std::ofstream(real / "secret") << "inside";
  struct stat inside {};
  ASSERT_EQ(::stat((real / "secret").c_str(), &inside), 0);
  tree_.link("../outside", "swap_link");
  fs::rename(real, tree_.root() / "swap");
  const fs::path outside_secret = tree_.top() / "outside" / "secret";
  std::atomic<long> swaps{0};
  UniqueFd rootfd(::open(tree_.root().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  ASSERT_TRUE(rootfd.valid());
  auto swapper = std::make_unique<Background>([&] {
    if (::renameat2(rootfd.get(), "swap", rootfd.get(), "swap_link", RENAME_EXCHANGE) == 0) {
      ++swaps;
    }
  });
  BeneathOptions o;
  o.symlinks = GetParam().symlinks;
  o.follow_final = true;
  int opened = 0, refusals = 0;
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; keep_racing(i, opened > 0 && refusals > 0, start); ++i) {
    UniqueFd fd;
    int r = open_beneath(tree_.root_fd(), "swap/secret", o, O_RDONLY, 0, &fd);
    if (r == 0) {
      ASSERT_FALSE(same_file(fd.get(), outside_secret)) << "opened outside at iteration " << i;
      struct stat st {};
      ASSERT_EQ(::fstat(fd.get(), &st), 0);
      ASSERT_TRUE(st.st_dev == inside.st_dev && st.st_ino == inside.st_ino) << "iteration " << i;
      ++opened;
    } else {
      // `swap` was the link at that instant.
      ASSERT_EQ(r, refused()) << "iteration " << i << ": " << strerror(r);
      ++refusals;
    }
  }
  swapper.reset();
  // The race was real: both outcomes happened, with the swapper running throughout.
  EXPECT_GT(swaps.load(), 100);
  EXPECT_GT(opened, 0);
  EXPECT_GT(refusals, 0);
}

// Threat: `..` walked while the directory it starts from is moved out of root (openat2 answers
// EAGAIN when a rename may have raced with `..`; the walk pops its own stack and never asks the
// kernel for ".."). `mv/d` moves to outside/d and back: "mv/d/../f" must name mv's f and
// "mv/d/../../file" root's file, or fail; never outside's f or T's file, where the kernel's ".."
// of the moved directory leads.
TEST_P(BeneathRaceTest, DirectoryMovedOutDuringDotDot) {
  fs::create_directories(tree_.root() / "mv" / "d");
  std::ofstream(tree_.root() / "mv" / "f") << "inside";
  std::ofstream(tree_.top() / "outside" / "f") << "outside";
  std::ofstream(tree_.top() / "file") << "top";
  std::atomic<long> moves{0};
  UniqueFd mv(::open((tree_.root() / "mv").c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  UniqueFd out(::open((tree_.top() / "outside").c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  ASSERT_TRUE(mv.valid() && out.valid());
  auto mover = std::make_unique<Background>([&] {
    if (::renameat(mv.get(), "d", out.get(), "d") == 0) {
      ++moves;
      while (::renameat(out.get(), "d", mv.get(), "d") != 0) {
      }
    }
  });
  BeneathOptions o;
  o.symlinks = GetParam().symlinks;
  int landed = 0, away = 0;
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; keep_racing(i, landed > 0 && away > 0, start); ++i) {
    const bool up_one = i % 2 == 0;
    Resolved rp;
    int r = resolve_beneath(tree_.root_fd(), up_one ? "mv/d/../f" : "mv/d/../../file", o, &rp);
    if (r == 0) {
      ASSERT_TRUE(same_file(rp.dir.get(), up_one ? tree_.root() / "mv" : tree_.root()))
          << "escaped at iteration " << i;
      ++landed;
    } else {
      // d was away (ENOENT), the kernel saw the escape (EXDEV), or kept seeing renames race
      // with `..` (EAGAIN after its retries).
      ASSERT_TRUE(r == ENOENT || r == EXDEV || r == EAGAIN) << "iteration " << i << ": "
                                                            << strerror(r);
      ++away;
    }
  }
  mover.reset();
  EXPECT_GT(moves.load(), 100);
  EXPECT_GT(landed, 0);
}

INSTANTIATE_TEST_SUITE_P(Modes, BeneathRaceTest,
                         ::testing::Values(Mode{Resolver::kOpenat2, Symlinks::kFollowBeneath},
                                           Mode{Resolver::kFallback, Symlinks::kFollowBeneath},
                                           Mode{Resolver::kOpenat2, Symlinks::kRefuse},
                                           Mode{Resolver::kFallback, Symlinks::kRefuse}),
                         [](const ::testing::TestParamInfo<Mode>& i) {
                           return mode_name(i.param);
                         });

}  // namespace
}  // namespace wasmcap::platform

// Unit tests of the confinement primitive (src/platform/beneath.h). Every case runs through
// both implementations, openat2(RESOLVE_BENEATH) and the component-by-component walk, and
// asserts the exact errno: one set of rules, whichever the kernel offers.
#include "platform/beneath.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "platform/fd.h"
#include "scratch_tree.h"

namespace wasmcap::platform {
namespace {

namespace fs = std::filesystem;
using namespace std::literals;
using testing::ScratchTree;
using testing::same_file;

// "l" + number, without operator+(const char*, string) (GCC 12 -Wrestrict false positive).
std::string numbered(const char* prefix, int i) {
  std::string s(prefix);
  s.append(std::to_string(i));
  return s;
}

std::string name_of(Resolver r) {
  return r == Resolver::kOpenat2 ? std::string("Openat2") : std::string("Fallback");
}

std::string err_name(int e) {
  return e == 0 ? std::string("0") : std::string(strerrorname_np(e));
}

BeneathOptions follow(bool f, Symlinks s = Symlinks::kFollowBeneath) {
  BeneathOptions o;
  o.symlinks = s;
  o.follow_final = f;
  return o;
}

// Runs each test once per implementation.
class BeneathTest : public ::testing::TestWithParam<Resolver> {
 protected:
  void SetUp() override {
    if (GetParam() == Resolver::kOpenat2 && !kernel_has_openat2()) {
      GTEST_SKIP() << "kernel has no openat2";
    }
    saved_ = resolver();
    set_resolver(GetParam());
  }
  void TearDown() override { set_resolver(saved_); }

  int resolve(std::string_view path, const BeneathOptions& o, Resolved* rp) {
    return resolve_beneath(tree_.root_fd(), path, o, rp);
  }

  ScratchTree tree_;
  Resolver saved_ = Resolver::kAuto;
};

struct RejectCase {
  std::string_view path;
  bool follow;
  int want;
  const char* why;
};

// clang-format off
const RejectCase kRejections[] = {
  {"",                           false, ENOENT,  "empty path"},
  {"..",                         false, EXDEV,   "parent of root"},
  {"../",                        false, EXDEV,   "parent of root, trailing slash"},
  {"../root/file",               false, EXDEV,   "out and back in is still out"},
  {"../outside/secret",          false, EXDEV,   "sibling of root"},
  {"/etc/passwd",                false, EXDEV,   "absolute path"},
  {"/",                          false, EXDEV,   "host root"},
  {"//etc",                      false, EXDEV,   "absolute path, doubled slash"},
  {"/file",                      false, EXDEV,   "absolute path naming an entry of root"},
  {"dir/../../outside",          false, EXDEV,   "a/../../x"},
  {"dir/sub/../../../x",         false, EXDEV,   "deeper a/b/../../../x"},
  {"./../x",                     false, EXDEV,   "./.. climbs out"},
  {"dir/./../..",                false, EXDEV,   "final .. above root"},
  {"dir/./../../",               false, EXDEV,   "final .. above root, trailing slash"},
  {"link_etc/passwd",            false, EXDEV,   "intermediate absolute symlink"},
  {"link_etc",                   true,  EXDEV,   "followed absolute symlink"},
  {"link_abs_inside",            true,  EXDEV,   "absolute symlink, even pointing inside"},
  {"link_out/secret",            false, EXDEV,   "relative symlink out"},
  {"link_out",                   true,  EXDEV,   "followed relative symlink out"},
  {"link_out/",                  true,  EXDEV,   "followed relative symlink out, trailing slash"},
  {"dir/link_up/outside/secret", false, EXDEV,   "symlink to ../.. as a component"},
  {"dir/link_up",                true,  EXDEV,   "followed symlink to ../.."},
  {"link_dir/../..",             false, EXDEV,   ".. after a symlinked dir"},
  {"link_dir/link_dotdot/..",    false, EXDEV,   "symlink to .. then .."},
  {"chain1/secret",              false, EXDEV,   "symlink chain out (intermediate)"},
  {"chain1",                     true,  EXDEV,   "symlink chain out (final)"},
  {"loop1",                      true,  ELOOP,   "two-link loop"},
  {"loop1/",                     true,  ELOOP,   "two-link loop, trailing slash"},
  {"loop1/x",                    false, ELOOP,   "loop as an intermediate component"},
  {"self",                       true,  ELOOP,   "self loop"},
  {"self/x",                     false, ELOOP,   "self loop, intermediate"},
  {"file/x",                     false, ENOTDIR, "file as a directory"},
  {"file/x/",                    false, ENOTDIR, "file as a directory, trailing slash"},
  {"file/.",                     false, ENOTDIR, "file/. (the kernel's rule)"},
  {"file/..",                    false, ENOTDIR, "file/.. (the kernel's rule)"},
  {"link_file_slash/x",          false, ENOTDIR, "symlink to file/ as a directory"},
  {"missing/x",                  false, ENOENT,  "missing intermediate directory"},
  {"dangling/x",                 false, ENOENT,  "dangling symlink as a directory"},
  // NUL bytes: the kernel would see the path cut at the NUL ("file", "", "dir/").
  {"file\0/../../outside"sv,     false, EINVAL,  "NUL byte hiding an escape"},
  {"\0"sv,                       false, EINVAL,  "a lone NUL"},
  {"dir/\0"sv,                   true,  EINVAL,  "NUL in the final component"},
  {"/\0"sv,                      false, EINVAL,  "NUL is checked before the absolute path"},
};
// clang-format on

TEST_P(BeneathTest, Rejections) {
  for (const auto& c : kRejections) {
    Resolved rp;
    int got = resolve(c.path, follow(c.follow), &rp);
    EXPECT_EQ(got, c.want) << "path '" << c.path << "' (" << c.why << ") follow=" << c.follow
                           << ": got " << err_name(got);
    if (got != 0) {
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
  // A trailing slash alone does not follow: the caller decides (the WASI host does follow).
  {"link_out/",                 false, "",        "link_out",  true},
  {"chain_ok1",                 true,  "dir",     "sub",       false},
  {"chain_ok1/file2",           false, "dir/sub", "file2",     false},
  {"deep",                      true,  "",        ".",         false},
  {"deep/file",                 false, "",        "file",      false},
  {"dot",                       true,  "",        ".",         false},
  {"dot/dot/file",              false, "",        "file",      false},
  {"dangling",                  true,  "",        "missing",   false},  // creatable target
  {"newfile",                   false, "",        "newfile",   false},
  {"newfile",                   true,  "",        "newfile",   false},
  {".",                         false, "",        ".",         false},
  {"./",                        false, "",        ".",         true},
  {"dir/..",                    false, "",        ".",         false},
  {"dir/sub/..",                true,  "dir",     ".",         false},
  {"dir/link_dotdot/dir",       false, "",        "dir",       false},
  {"dir/sub/",                  false, "dir",     "sub",       true},
  {"dir/sub///",                false, "dir",     "sub",       true},
  {"link_file_slash",           true,  "",        "file",      true},   // target says "dir"
  {"link_dir_slash",            true,  "",        "dir",       true},
  {"file/",                     false, "",        "file",      true},   // the caller checks
};
// clang-format on

TEST_P(BeneathTest, Acceptances) {
  for (const auto& c : kAcceptances) {
    Resolved rp;
    int got = resolve(c.path, follow(c.follow), &rp);
    ASSERT_EQ(got, 0) << "path '" << c.path << "' follow=" << c.follow << ": "
                      << err_name(got);
    EXPECT_TRUE(same_file(rp.dir.get(), tree_.root() / c.dir)) << c.path;
    EXPECT_EQ(rp.name, c.name) << c.path;
    EXPECT_EQ(rp.trailing_slash, c.trailing_slash) << c.path;
    // The directory is an O_PATH descriptor whichever implementation made it.
    EXPECT_NE(::fcntl(rp.dir.get(), F_GETFL) & O_PATH, 0) << c.path;
  }
}

// Symlinks::kRefuse (RESOLVE_NO_SYMLINKS, the workspaces' mode): a link anywhere on the path is
// ELOOP, a final one only when it would be followed; escapes are still EXDEV.
TEST_P(BeneathTest, RefusingSymlinks) {
  // clang-format off
  const RejectCase rejected[] = {
    {"link_dir/sub",        false, ELOOP,   "intermediate link, even one staying inside"},
    {"link_dir",            true,  ELOOP,   "final link followed"},
    {"dir/link_ok",         true,  ELOOP,   "final link inside"},
    {"dot/file",            false, ELOOP,   "link to ."},
    {"link_etc/passwd",     false, ELOOP,   "absolute link as a component"},
    {"link_out/secret",     false, ELOOP,   "link out as a component"},
    {"dangling/x",          false, ELOOP,   "dangling link as a component"},
    {"loop1/x",             false, ELOOP,   "loop as a component"},
    {"link_dir/",           true,  ELOOP,   "final link, trailing slash"},
    {"..",                  false, EXDEV,   "parent of root"},
    {"dir/../..",           false, EXDEV,   "climbing out"},
    {"/etc",                false, EXDEV,   "absolute path"},
    {"missing/x",           false, ENOENT,  "missing directory"},
    {"file/x",              false, ENOTDIR, "file as a directory"},
    {"",                    false, ENOENT,  "empty"},
    {"dir\0/x"sv,           false, EINVAL,  "NUL byte"},
  };
  // clang-format on
  for (const auto& c : rejected) {
    Resolved rp;
    int got = resolve(c.path, follow(c.follow, Symlinks::kRefuse), &rp);
    EXPECT_EQ(got, c.want) << "path '" << c.path << "' (" << c.why << "): got " << err_name(got);
  }
  // clang-format off
  const AcceptCase accepted[] = {
    {"link_dir",             false, "",        "link_dir", false},  // named, never followed
    {"dir/link_ok",          false, "dir",     "link_ok",  false},
    {"dir/sub/file2",        false, "dir/sub", "file2",    false},
    {"dir/sub/../sub/file2", false, "dir/sub", "file2",    false},  // `..` beneath root is fine
    {"file",                 true,  "",        "file",     false},
    {"missing",              true,  "",        "missing",  false},
    {"dir/sub/",             false, "dir",     "sub",      true},
    {"dir/..",               false, "",        ".",        false},
  };
  // clang-format on
  for (const auto& c : accepted) {
    Resolved rp;
    int got = resolve(c.path, follow(c.follow, Symlinks::kRefuse), &rp);
    ASSERT_EQ(got, 0) << "path '" << c.path << "': " << err_name(got);
    EXPECT_TRUE(same_file(rp.dir.get(), tree_.root() / c.dir)) << c.path;
    EXPECT_EQ(rp.name, c.name) << c.path;
    EXPECT_EQ(rp.trailing_slash, c.trailing_slash) << c.path;
  }
}

// Threat: a long chain of links (or a loop) costs CPU and pending components. Final links: at
// most kMaxSymlinkHops expansions.
TEST_P(BeneathTest, FinalHopLimit) {
  // l0 -> l1 -> ... -> l45 -> file: more expansions than kMaxSymlinkHops.
  const int n = kMaxSymlinkHops + 5;
  for (int i = 0; i < n; ++i) tree_.link(numbered("l", i + 1), numbered("l", i));
  tree_.link("file", numbered("l", n));
  Resolved rp;
  EXPECT_EQ(resolve("l0", follow(true), &rp), ELOOP);
  // Exactly kMaxSymlinkHops expansions resolve; one more does not.
  EXPECT_EQ(resolve(numbered("l", n - kMaxSymlinkHops), follow(true), &rp), ELOOP);
  ASSERT_EQ(resolve(numbered("l", n - kMaxSymlinkHops + 1), follow(true), &rp), 0);
  EXPECT_EQ(rp.name, "file");
  // A link in a non-final position does not use up the final expansions (openat2 counts it in
  // the kernel's own budget): `dot` (-> .) then the longest chain allowed still resolves.
  // Before, the walk counted both in one budget and answered ELOOP here, openat2 did not.
  ASSERT_EQ(resolve("dot/" + numbered("l", n - kMaxSymlinkHops + 1), follow(true), &rp), 0)
      << "an intermediate link used up a final expansion";
  EXPECT_EQ(rp.name, "file");
}

// Links in non-final positions: at most kMaxSymlinkHops over the whole resolution, as the
// kernel counts them in the one openat2 call that resolves the directory part.
TEST_P(BeneathTest, IntermediateHopLimit) {
  // i0 -> i1 -> ... -> i42 -> dir, used as directories.
  const int n = kMaxSymlinkHops + 3;
  for (int i = 0; i < n; ++i) tree_.link(numbered("i", i + 1), numbered("i", i));
  tree_.link("dir", numbered("i", n));
  Resolved rp;
  // i(n-39) .. i(n): kMaxSymlinkHops links.
  ASSERT_EQ(resolve(numbered("i", n - kMaxSymlinkHops + 1) + "/sub", follow(false), &rp), 0);
  EXPECT_TRUE(same_file(rp.dir.get(), tree_.root() / "dir"));
  EXPECT_EQ(resolve(numbered("i", n - kMaxSymlinkHops) + "/sub", follow(false), &rp), ELOOP);
  EXPECT_EQ(resolve("i0/sub", follow(false), &rp), ELOOP);
}

// After a final link is expanded, openat2 resolves the whole new directory part again, meeting
// every intermediate link on it again: those add up over the resolution. m_k -> dot/m_{k+1}
// puts one more `dot` on the directory part at each final expansion.
TEST_P(BeneathTest, IntermediateLinksAddUpAcrossFinalExpansions) {
  const int n = kMaxSymlinkHops;  // m0 .. m39 are links, m40 a file
  for (int i = 0; i < n; ++i) tree_.link("dot/" + numbered("m", i + 1), numbered("m", i));
  std::ofstream(tree_.root() / numbered("m", n)) << "end";
  Resolved rp;
  // "dot/m1": 39 final expansions; the directory part ends as dot/dot/.../dot (40 links).
  ASSERT_EQ(resolve("dot/m1", follow(true), &rp), 0);
  EXPECT_EQ(rp.name, numbered("m", n));
  // "dot/m0": 40 final expansions, 41 intermediate links: ELOOP.
  EXPECT_EQ(resolve("dot/m0", follow(true), &rp), ELOOP);
}

// The kernel counts a lookup's links again when it retries the lookup out of RCU mode (it does
// at `..` above a RESOLVE_BENEATH root, and wherever the dentry cache cannot answer), so with a
// warm cache openat2 answered ELOOP after 30 links where the walk (and a cold cache) answered
// EXDEV. found by fuzz_resolver. openat2's ELOOP is now decided by the walk, whose count is
// exact: the same answer, whatever the cache holds.
TEST_P(BeneathTest, LinkCountDoesNotDependOnTheKernelsCache) {
  std::string escape, inside;
  for (int i = 0; i < 30; ++i) escape += "dot/";
  inside = escape + "dir/sub/file2";
  escape += "../x";
  Resolved rp;
  for (int round = 0; round < 3; ++round) {
    set_resolver(Resolver::kFallback);  // warms the cache along the path
    EXPECT_EQ(resolve(escape, follow(false), &rp), EXDEV);
    set_resolver(GetParam());
    EXPECT_EQ(resolve(escape, follow(false), &rp), EXDEV) << "round " << round;
    ASSERT_EQ(resolve(inside, follow(true), &rp), 0) << "round " << round;
    EXPECT_TRUE(same_file(rp.dir.get(), tree_.root() / "dir" / "sub"));
  }
}

// Threat: unbounded paths. kMaxPathBytes (PATH_MAX - 1) bounds the path as given and every path
// a final link's expansion makes of it, in both implementations.
TEST_P(BeneathTest, PathLengthLimit) {
  // "." then "/." repeated: exactly kMaxPathBytes bytes naming root.
  std::string p(".");
  while (p.size() + 2 <= kMaxPathBytes) p += "/.";
  ASSERT_EQ(p.size(), kMaxPathBytes);
  Resolved rp;
  ASSERT_EQ(resolve(p, follow(false), &rp), 0);
  EXPECT_TRUE(same_file(rp.dir.get(), tree_.root()));
  EXPECT_EQ(rp.name, ".");
  // One byte more, however it is spent: ENAMETOOLONG.
  EXPECT_EQ(resolve(p + "/", follow(false), &rp), ENAMETOOLONG);
  // "dir/.." then "/." up to kMaxPathBytes + 1 bytes. Before, openat2 refused it (the kernel
  // saw all of it: the path ends in ".") and the walk resolved it.
  std::string dots = "dir/..";
  while (dots.size() < kMaxPathBytes + 1) dots += "/.";
  ASSERT_EQ(dots.size(), kMaxPathBytes + 1);
  EXPECT_EQ(resolve(dots, follow(false), &rp), ENAMETOOLONG);
  EXPECT_EQ(resolve(std::string(kMaxPathBytes + 1, 'a'), follow(false), &rp), ENAMETOOLONG);
  // A component longer than NAME_MAX: the kernel's ENAMETOOLONG when it is looked up (a final
  // one is not looked up without follow_final: the caller's *at() call meets the limit).
  std::string huge(NAME_MAX + 1, 'n');
  EXPECT_EQ(resolve(huge + "/x", follow(false), &rp), ENAMETOOLONG);
  EXPECT_EQ(resolve(huge, follow(true), &rp), ENAMETOOLONG);
  ASSERT_EQ(resolve(huge, follow(false), &rp), 0);
  EXPECT_EQ(rp.name, huge);
}

// The bound holds for the path a final link makes: directory part + target.
TEST_P(BeneathTest, PathLengthLimitAfterAFinalLink) {
  // dir/lnk -> sub/../sub/.../sub/x; reached through "dir/" + "sub/../" * k.
  std::string target;
  for (int i = 0; i < 20; ++i) target += "sub/../";
  target += "sub/x";
  tree_.link(target, "dir/lnk");
  auto path_with = [](size_t k) {
    std::string p = "dir/";
    for (size_t i = 0; i < k; ++i) p += "sub/../";
    return p + "lnk";
  };
  auto rewritten = [&](size_t k) { return path_with(k).size() - 3 + target.size(); };
  // The largest k whose rewritten path (the path minus "lnk", plus the target) still fits.
  size_t k = 0;
  while (rewritten(k + 1) <= kMaxPathBytes) ++k;
  Resolved rp;
  ASSERT_EQ(resolve(path_with(k), follow(true), &rp), 0);
  EXPECT_TRUE(same_file(rp.dir.get(), tree_.root() / "dir" / "sub"));
  EXPECT_EQ(rp.name, "x");
  // The path itself fits; what the link makes of it does not. Before, the walk resolved both
  // and openat2 refused the second (the kernel saw a directory part over PATH_MAX).
  for (size_t more : {1, 5}) {
    ASSERT_LE(path_with(k + more).size(), kMaxPathBytes);
    ASSERT_GT(rewritten(k + more), kMaxPathBytes);
    EXPECT_EQ(resolve(path_with(k + more), follow(true), &rp), ENAMETOOLONG) << "k+" << more;
    // Not followed, the link makes nothing.
    EXPECT_EQ(resolve(path_with(k + more), follow(false), &rp), 0);
  }
}

// A resolution started from a subdirectory treats that directory as its root.
TEST_P(BeneathTest, SubdirectoryIsItsOwnRoot) {
  UniqueFd sub(::open((tree_.root() / "dir").c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  ASSERT_TRUE(sub.valid());
  Resolved rp;
  EXPECT_EQ(resolve_beneath(sub.get(), "../file", follow(false), &rp), EXDEV);
  EXPECT_EQ(resolve_beneath(sub.get(), "link_ok", follow(true), &rp), EXDEV);  // ../file
  EXPECT_EQ(resolve_beneath(sub.get(), "link_dotdot/x", follow(false), &rp), EXDEV);
  EXPECT_EQ(resolve_beneath(sub.get(), "sub/../sub/file2", follow(false), &rp), 0);
  EXPECT_EQ(rp.name, "file2");
}

// on_dir sees root first, then each directory entered, the final entry's directory last, with
// the index of the next component; its error ends the resolution.
TEST_P(BeneathTest, OnDirSeesEveryDirectoryInOrder) {
  std::vector<std::pair<std::string, size_t>> seen;
  auto where = [&](int fd) -> std::string {
    for (const char* d : {"", "dir", "dir/sub"}) {
      if (same_file(fd, tree_.root() / d)) return d;
    }
    return "?";
  };
  BeneathOptions o = follow(false, Symlinks::kRefuse);
  o.on_dir = [&](int fd, size_t next) {
    seen.emplace_back(where(fd), next);
    return 0;
  };
  Resolved rp;
  ASSERT_EQ(resolve("dir/sub/file2", o, &rp), 0);
  const std::vector<std::pair<std::string, size_t>> want = {{"", 0}, {"dir", 1}, {"dir/sub", 2}};
  EXPECT_EQ(seen, want);
  EXPECT_EQ(rp.name, "file2");
  // Refused at "dir" (index 1): nothing beneath it is looked up, and its errno is the result.
  seen.clear();
  o.on_dir = [&](int fd, size_t next) {
    seen.emplace_back(where(fd), next);
    return next == 1 ? EPERM : 0;
  };
  EXPECT_EQ(resolve("dir/sub/file2", o, &rp), EPERM);
  EXPECT_EQ(seen.size(), 2u);
  EXPECT_FALSE(rp.dir.valid());
  // Only with Symlinks::kRefuse: with links followed, "the next component" has no meaning.
  o.symlinks = Symlinks::kFollowBeneath;
  EXPECT_EQ(resolve("dir/sub/file2", o, &rp), EINVAL);
}

// make_dirs creates the missing directories on the way (not the final entry), never through a
// link, and each made directory is checked by on_dir like any other.
TEST_P(BeneathTest, MakeDirsCreatesOnlyDirectoriesOnTheWay) {
  BeneathOptions o = follow(false, Symlinks::kRefuse);
  o.make_dirs = true;
  Resolved rp;
  ASSERT_EQ(resolve("new/a/b/leaf", o, &rp), 0);
  EXPECT_TRUE(fs::is_directory(tree_.root() / "new" / "a" / "b"));
  EXPECT_FALSE(fs::exists(tree_.root() / "new" / "a" / "b" / "leaf"));
  EXPECT_TRUE(same_file(rp.dir.get(), tree_.root() / "new" / "a" / "b"));
  // Through a link: refused before anything is made behind it.
  EXPECT_EQ(resolve("link_dir/made/leaf", o, &rp), ELOOP);
  EXPECT_FALSE(fs::exists(tree_.root() / "dir" / "made"));
  // Escapes make nothing either.
  EXPECT_EQ(resolve("dir/../../made/leaf", o, &rp), EXDEV);
  EXPECT_FALSE(fs::exists(tree_.top() / "made"));
  // A check refusing a directory stops the making there.
  o.on_dir = [](int, size_t next) { return next == 2 ? EPERM : 0; };
  EXPECT_EQ(resolve("other/x/y/leaf", o, &rp), EPERM);
  EXPECT_TRUE(fs::is_directory(tree_.root() / "other" / "x"));
  EXPECT_FALSE(fs::exists(tree_.root() / "other" / "x" / "y"));
  // Only with Symlinks::kRefuse.
  o.symlinks = Symlinks::kFollowBeneath;
  o.on_dir = nullptr;
  EXPECT_EQ(resolve("more/leaf", o, &rp), EINVAL);
  EXPECT_FALSE(fs::exists(tree_.root() / "more"));
}

TEST_P(BeneathTest, OpenBeneathNeverFollowsTheFinalEntry) {
  UniqueFd fd;
  ASSERT_EQ(open_beneath(tree_.root_fd(), "link_dir/sub/file2", follow(false), O_RDONLY, 0, &fd), 0);
  EXPECT_TRUE(same_file(fd.get(), tree_.root() / "dir" / "sub" / "file2"));
  // Followed by the resolver (inside), or refused (out); never by the kernel.
  ASSERT_EQ(open_beneath(tree_.root_fd(), "dir/link_ok", follow(true), O_RDONLY, 0, &fd), 0);
  EXPECT_TRUE(same_file(fd.get(), tree_.root() / "file"));
  EXPECT_EQ(open_beneath(tree_.root_fd(), "dir/link_ok", follow(false), O_RDONLY, 0, &fd), ELOOP);
  EXPECT_EQ(open_beneath(tree_.root_fd(), "link_out", follow(true), O_RDONLY, 0, &fd), EXDEV);
  EXPECT_EQ(open_beneath(tree_.root_fd(), "dir/link_ok", follow(true, Symlinks::kRefuse),
                         O_RDONLY, 0, &fd),
            ELOOP);
  // A trailing slash names a directory.
  EXPECT_EQ(open_beneath(tree_.root_fd(), "file/", follow(true), O_RDONLY, 0, &fd), ENOTDIR);
  EXPECT_EQ(open_beneath(tree_.root_fd(), "new/", follow(true), O_WRONLY | O_CREAT, 0600, &fd),
            EISDIR);
  EXPECT_FALSE(fs::exists(tree_.root() / "new"));
  ASSERT_EQ(open_beneath(tree_.root_fd(), "link_dir_slash", follow(true), O_RDONLY, 0, &fd), 0);
  EXPECT_TRUE(same_file(fd.get(), tree_.root() / "dir"));
}

// Threat: special files in the tree. Only regular files and directories are opened; a FIFO is
// refused without blocking, a socket without connecting.
TEST_P(BeneathTest, OpenFileOrDirOpensOnlyFilesAndDirectories) {
  ASSERT_EQ(::mkfifo((tree_.root() / "fifo").c_str(), 0600), 0);
  int s = ::socket(AF_UNIX, SOCK_STREAM, 0);
  ASSERT_GE(s, 0);
  sockaddr_un sa{};
  sa.sun_family = AF_UNIX;
  std::string sock = (tree_.root() / "sock").string();
  ASSERT_LT(sock.size(), sizeof sa.sun_path);
  std::memcpy(sa.sun_path, sock.c_str(), sock.size() + 1);
  ASSERT_EQ(::bind(s, reinterpret_cast<sockaddr*>(&sa), sizeof sa), 0);
  for (const char* name : {"fifo", "sock"}) {
    Resolved rp;
    ASSERT_EQ(resolve(name, follow(true), &rp), 0);
    UniqueFd fd;
    EXPECT_EQ(open_file_or_dir(rp, O_RDONLY, 0, false, &fd), ENOTSUP) << name;
    EXPECT_FALSE(fd.valid());
  }
  ::close(s);
  Resolved rp;
  ASSERT_EQ(resolve("dir/link_ok", follow(true), &rp), 0);
  UniqueFd fd;
  struct stat st {};
  ASSERT_EQ(open_file_or_dir(rp, O_RDONLY, 0, false, &fd, &st), 0);
  EXPECT_TRUE(S_ISREG(st.st_mode));
  EXPECT_EQ(::fcntl(fd.get(), F_GETFL) & O_NONBLOCK, 0);  // blocking again
  ASSERT_EQ(resolve("dir", follow(true), &rp), 0);
  ASSERT_EQ(open_file_or_dir(rp, O_RDONLY | O_DIRECTORY, 0, true, &fd, &st), 0);
  EXPECT_TRUE(S_ISDIR(st.st_mode));
  EXPECT_NE(::fcntl(fd.get(), F_GETFL) & O_NONBLOCK, 0);  // kept, as asked
  // The final entry is never followed by the open itself.
  ASSERT_EQ(resolve("link_out", follow(false), &rp), 0);
  EXPECT_EQ(open_file_or_dir(rp, O_RDONLY, 0, false, &fd), ELOOP);
}

// borrow_root: an entry directly in root is resolved with root itself as its directory (no
// descriptor opened for it); anything deeper, and every caller that does not ask, gets a
// descriptor of its own (root stays open when the result goes).
TEST_P(BeneathTest, BorrowRootOnlyForEntriesDirectlyInRoot) {
  BeneathOptions o = follow(true);
  o.borrow_root = true;
  for (std::string_view name : {"file"sv, "missing"sv, "link_ok_top"sv, "dir/"sv}) {
    Resolved rp;
    if (name == "link_ok_top") {
      ASSERT_EQ(::symlink("file", (tree_.root() / "link_ok_top").c_str()), 0);
    }
    ASSERT_EQ(resolve(name, o, &rp), 0) << name;
    EXPECT_TRUE(rp.dir.borrowed()) << name;
    EXPECT_EQ(rp.dir.get(), tree_.root_fd()) << name;
  }
  Resolved deep;
  ASSERT_EQ(resolve("dir/sub/file2", o, &deep), 0);
  EXPECT_FALSE(deep.dir.borrowed());
  EXPECT_NE(deep.dir.get(), tree_.root_fd());
  EXPECT_TRUE(same_file(deep.dir.get(), tree_.root() / "dir" / "sub"));
  // A final link in root leading into a subdirectory: that directory, owned.
  ASSERT_EQ(::symlink("dir/sub/file2", (tree_.root() / "link_deep").c_str()), 0);
  Resolved via;
  ASSERT_EQ(resolve("link_deep", o, &via), 0);
  EXPECT_FALSE(via.dir.borrowed());
  EXPECT_TRUE(same_file(via.dir.get(), tree_.root() / "dir" / "sub"));
  EXPECT_EQ(via.name, "file2");
  {
    Resolved own;
    ASSERT_EQ(resolve("file", follow(true), &own), 0);
    EXPECT_FALSE(own.dir.borrowed());
    EXPECT_NE(own.dir.get(), tree_.root_fd());
    EXPECT_TRUE(same_file(own.dir.get(), tree_.root()));
    // take(): a borrowed root becomes a new descriptor of it; root itself stays the caller's.
    Resolved b;
    ASSERT_EQ(resolve("file", o, &b), 0);
    UniqueFd taken = b.dir.take();
    ASSERT_TRUE(taken.valid());
    EXPECT_NE(taken.get(), tree_.root_fd());
    EXPECT_TRUE(same_file(taken.get(), tree_.root()));
    EXPECT_FALSE(b.dir.valid());
  }
  struct stat st {};
  EXPECT_EQ(::fstat(tree_.root_fd(), &st), 0);  // never closed by a result that borrowed it
}

// final_stat: what the resolution saw of the final entry when it looked (follow_final), the
// entry a final link leads to, never the link; nothing when it did not look or found nothing.
TEST_P(BeneathTest, FinalStatIsTheEntryTheResolutionLookedAt) {
  struct stat want {};
  ASSERT_EQ(::stat((tree_.root() / "file").c_str(), &want), 0);
  for (std::string_view path : {"file"sv, "dir/link_ok"sv}) {
    Resolved rp;
    ASSERT_EQ(resolve(path, follow(true), &rp), 0) << path;
    ASSERT_TRUE(rp.final_stat.has_value()) << path;
    EXPECT_EQ(rp.final_stat->st_ino, want.st_ino) << path;
    EXPECT_TRUE(S_ISREG(rp.final_stat->st_mode)) << path;
  }
  Resolved rp;
  ASSERT_EQ(resolve("missing", follow(true), &rp), 0);
  EXPECT_FALSE(rp.final_stat.has_value());
  ASSERT_EQ(resolve("dir/link_ok", follow(false), &rp), 0);
  EXPECT_FALSE(rp.final_stat.has_value());
  EXPECT_EQ(resolve("link_out", follow(true), &rp), EXDEV);
  EXPECT_FALSE(rp.final_stat.has_value());
}

// open_file_or_dir takes the resolution's look as its look before the open: an entry the
// resolution saw as a special file is refused unopened (here a regular file made to look like a
// character device: the open would have succeeded), and one swapped for a FIFO after the look
// is still refused by the check on the opened descriptor, without blocking.
TEST_P(BeneathTest, OpenFileOrDirUsesTheResolutionsLook) {
  BeneathOptions o = follow(true);
  o.borrow_root = true;
  Resolved rp;
  ASSERT_EQ(resolve("file", o, &rp), 0);
  ASSERT_TRUE(rp.final_stat.has_value());
  rp.final_stat->st_mode = S_IFCHR | 0666;
  UniqueFd fd;
  EXPECT_EQ(open_file_or_dir(rp, O_RDONLY, 0, false, &fd), ENOTSUP);
  EXPECT_FALSE(fd.valid());
  ASSERT_EQ(resolve("file", o, &rp), 0);
  ASSERT_EQ(::unlink((tree_.root() / "file").c_str()), 0);
  ASSERT_EQ(::mkfifo((tree_.root() / "file").c_str(), 0600), 0);
  EXPECT_EQ(open_file_or_dir(rp, O_RDONLY, 0, false, &fd), ENOTSUP);
  EXPECT_FALSE(fd.valid());
}

// The descriptor is put back in blocking mode with the other status flags it was opened with
// (O_APPEND) kept.
TEST_P(BeneathTest, OpenFileOrDirKeepsTheStatusFlagsItWasOpenedWith) {
  BeneathOptions o = follow(true);
  o.borrow_root = true;
  Resolved rp;
  ASSERT_EQ(resolve("file", o, &rp), 0);
  UniqueFd fd;
  ASSERT_EQ(open_file_or_dir(rp, O_WRONLY | O_APPEND, 0, false, &fd), 0);
  int fl = ::fcntl(fd.get(), F_GETFL);
  EXPECT_EQ(fl & O_NONBLOCK, 0);
  EXPECT_NE(fl & O_APPEND, 0);
  EXPECT_EQ(fl & O_ACCMODE, O_WRONLY);
  ASSERT_EQ(open_file_or_dir(rp, O_RDWR, 0, true, &fd), 0);
  fl = ::fcntl(fd.get(), F_GETFL);
  EXPECT_NE(fl & O_NONBLOCK, 0);
  EXPECT_EQ(fl & O_APPEND, 0);
}

INSTANTIATE_TEST_SUITE_P(Impl, BeneathTest,
                         ::testing::Values(Resolver::kOpenat2, Resolver::kFallback),
                         [](const ::testing::TestParamInfo<Resolver>& i) {
                           return name_of(i.param);
                         });

// The openat2 cases above skip where the kernel lacks openat2; make sure that is not because
// the probe itself is wrong on a kernel that has it (Linux >= 5.6).
TEST(Resolver, ProbeFindsOpenat2OnKernelsThatHaveIt) {
  struct utsname u {};
  ASSERT_EQ(::uname(&u), 0);
  int major = 0, minor = 0;
  ASSERT_EQ(std::sscanf(u.release, "%d.%d", &major, &minor), 2) << u.release;
  if (major > 5 || (major == 5 && minor >= 6)) {
    EXPECT_TRUE(kernel_has_openat2()) << "kernel " << u.release;
  }
}

// path_beneath: the physical path of a directory the resolver opened, relative to root; a
// directory not beneath root (or root's parent) is EXDEV, never a path that climbs.
TEST(PathBeneath, NamesDirectoriesBeneathRootOnly) {
  ScratchTree t;
  std::string rel = "unset";
  EXPECT_EQ(path_beneath(t.root_fd(), t.root_fd(), &rel), 0);
  EXPECT_EQ(rel, "");
  Resolved rp;
  ASSERT_EQ(resolve_beneath(t.root_fd(), "chain_ok1", follow(true), &rp), 0);  // -> dir/sub
  UniqueFd sub(::openat(rp.dir.get(), rp.name.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  ASSERT_TRUE(sub.valid());
  EXPECT_EQ(path_beneath(t.root_fd(), sub.get(), &rel), 0);
  EXPECT_EQ(rel, "dir/sub");
  UniqueFd out(::open((t.top() / "outside").c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  UniqueFd top(::open(t.top().c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  ASSERT_TRUE(out.valid() && top.valid());
  EXPECT_EQ(path_beneath(t.root_fd(), out.get(), &rel), EXDEV);
  EXPECT_EQ(path_beneath(t.root_fd(), top.get(), &rel), EXDEV);
  // A sibling whose name starts with root's ("root2") is not beneath it.
  std::filesystem::create_directories(t.top() / "root2");
  UniqueFd sib(::open((t.top() / "root2").c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  EXPECT_EQ(path_beneath(t.root_fd(), sib.get(), &rel), EXDEV);
}

TEST(Resolver, Switch) {
  Resolver saved = resolver();
  set_resolver(Resolver::kFallback);
  EXPECT_EQ(resolver(), Resolver::kFallback);
  set_resolver(Resolver::kOpenat2);
  EXPECT_EQ(resolver(), Resolver::kOpenat2);
  set_resolver(saved);
}

}  // namespace
}  // namespace wasmcap::platform

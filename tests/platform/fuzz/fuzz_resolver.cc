// libFuzzer target: the confinement primitive (src/platform/beneath.h) on arbitrary paths,
// against a fixed scratch tree full of hostile links (tests/platform/scratch_tree.h, plus
// chains, loops and long names made here). Paths come from guests, scripts and records, so
// the resolver sees hostile bytes. The first input byte picks the options (bit 0 follow_final,
// bit 1 Symlinks::kRefuse, bit 2 an on_dir check, bit 3 borrow_root); the rest is the path
// (NUL bytes included).
// Beyond "no crash, no sanitizer report, no hang":
// - on success, the directory returned is one of root's own directories (never one outside,
//   never reached through a link under kRefuse), the name is "." or one plain component, and
//   a followed final entry is not a symlink (and the resolution's look at it, final_stat, is
//   of that entry); a borrowed directory is root, and only under borrow_root;
// - on failure no descriptor is returned;
// - every directory an on_dir check is shown is one of root's own, and the check changes
//   nothing in the result;
// - the two implementations agree: openat2 and the walk give the same errno, the same
//   directory, name and trailing slash for every input (where the kernel has openat2).
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <string_view>
#include <utility>

#include "platform/beneath.h"
#include "scratch_tree.h"

using namespace wasmcap::platform;

namespace {

void check(bool ok) {
  if (!ok) std::abort();
}

using Id = std::pair<dev_t, ino_t>;

struct World {
  testing::ScratchTree tree;
  std::set<Id> inside_dirs;  // root and every directory beneath it (links not followed)
  bool has_openat2 = kernel_has_openat2();

  World() {
    namespace fs = std::filesystem;
    const fs::path& r = tree.root();
    fs::create_directories(r / "dir" / "sub" / "deeper");
    fs::create_directories(r / std::string(NAME_MAX, 'N'));
    tree.link(std::string(NAME_MAX, 'N'), "long");
    tree.link("sub/deeper/../..", "dir/sub/up2");  // == dir/.. == root
    tree.link("../../..", "dir/sub/out3");
    tree.link("dir/sub/up2/dir", "via_up2");
    tree.link("i1", "i0");
    for (int i = 1; i < kMaxSymlinkHops + 2; ++i) {
      tree.link("i" + std::to_string(i + 1), "i" + std::to_string(i));
    }
    tree.link("dir", "i" + std::to_string(kMaxSymlinkHops + 2));
    for (int i = 0; i < kMaxSymlinkHops + 1; ++i) {
      tree.link("dot/m" + std::to_string(i + 1), "m" + std::to_string(i));
    }
    std::ofstream(r / ("m" + std::to_string(kMaxSymlinkHops + 1))) << "end";
    ::mkfifo((r / "fifo").c_str(), 0600);
    add(r);
    for (auto it = fs::recursive_directory_iterator(r); it != fs::recursive_directory_iterator();
         ++it) {
      if (it->symlink_status().type() == fs::file_type::directory) add(it->path());
    }
  }
  void add(const std::filesystem::path& p) {
    struct stat st {};
    check(::lstat(p.c_str(), &st) == 0);
    inside_dirs.insert({st.st_dev, st.st_ino});
  }
  bool inside(int fd) const {
    struct stat st {};
    return ::fstat(fd, &st) == 0 && inside_dirs.count({st.st_dev, st.st_ino}) != 0;
  }
};

World& world() {
  static World w;
  return w;
}

struct Outcome {
  int err = 0;
  Id dir{};
  std::string name;
  bool trailing_slash = false;
  bool operator==(const Outcome& o) const {
    return err == o.err && dir == o.dir && name == o.name && trailing_slash == o.trailing_slash;
  }
};

const char* describe(int err) { return err == 0 ? "ok" : strerrorname_np(err); }

Outcome run(Resolver which, std::string_view path, const BeneathOptions& o) {
  const World& w = world();
  set_resolver(which);
  Resolved rp;
  Outcome out;
  out.err = resolve_beneath(w.tree.root_fd(), path, o, &rp);
  if (out.err != 0) {
    check(!rp.dir.valid());
    return out;
  }
  check(rp.dir.valid());
  check(w.inside(rp.dir.get()));
  check(!rp.name.empty() && rp.name != ".." && rp.name.find('/') == std::string::npos);
  check(rp.name.find('\0') == std::string::npos);
  // A borrowed directory is root itself, and only when asked for.
  if (rp.dir.borrowed()) check(o.borrow_root && rp.dir.get() == w.tree.root_fd());
  if (o.follow_final) {
    struct stat st {};
    if (::fstatat(rp.dir.get(), rp.name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0) {
      check(!S_ISLNK(st.st_mode));
      // The resolution's look at the final entry, when it made one, is this entry's.
      if (rp.final_stat) {
        check(rp.final_stat->st_ino == st.st_ino && rp.final_stat->st_dev == st.st_dev);
      }
    }
  } else {
    check(!rp.final_stat);
  }
  struct stat st {};
  check(::fstat(rp.dir.get(), &st) == 0);
  out.dir = {st.st_dev, st.st_ino};
  out.name = rp.name;
  out.trailing_slash = rp.trailing_slash;
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  world();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const uint8_t flags = data[0];
  std::string_view path(reinterpret_cast<const char*>(data + 1), size - 1);
  const World& w = world();
  BeneathOptions o;
  o.follow_final = (flags & 1) != 0;
  o.symlinks = (flags & 2) != 0 ? Symlinks::kRefuse : Symlinks::kFollowBeneath;
  o.borrow_root = (flags & 8) != 0;
  Outcome walk = run(Resolver::kFallback, path, o);
  if (w.has_openat2) {
    Outcome kernel = run(Resolver::kOpenat2, path, o);
    if (!(kernel == walk)) {
      std::fprintf(stderr, "openat2 and the walk disagree: openat2 %s '%s'%s, walk %s '%s'%s\n",
                   describe(kernel.err), kernel.name.c_str(), kernel.trailing_slash ? " /" : "",
                   describe(walk.err), walk.name.c_str(), walk.trailing_slash ? " /" : "");
      std::abort();
    }
  }
  if ((flags & 4) != 0 && o.symlinks == Symlinks::kRefuse) {
    // The per-directory check sees only root's own directories, and a check that lets
    // everything through changes nothing.
    BeneathOptions checked = o;
    checked.on_dir = [&w](int fd, size_t) {
      check(w.inside(fd));
      return 0;
    };
    check(run(Resolver::kAuto, path, checked) == walk);
  }
  return 0;
}

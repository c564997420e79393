// libFuzzer target: the WASI host's paths through the virtual root (src/wasi/virtual_root.h,
// Core::route) on arbitrary bytes. Two preopens (/work and /home/user, each a scratch tree full
// of hostile links: tests/platform/scratch_tree.h), /dev and the root "/", with a command table.
// The first byte picks where the path starts (bits 0-1: /work, /home/user, /dev, "/") and what
// is done (bits 2-3: open for reading, open a directory and list it, resolve and stat, resolve
// an entry and try to make a directory there); the rest is the path, NUL bytes included.
// Beyond "no crash, no sanitizer report, no hang":
// - every host object reached (an opened descriptor, a resolved path's directory) is one of
//   the two preopens' own entries: never the trees' `outside`, never anything else;
// - a virtual description has no host descriptor, and lists at most the tree's entries;
// - nothing is made outside a preopen (a mkdir that succeeds made its directory inside one).
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <set>
#include <string>
#include <utility>

#include "scratch_tree.h"
#include "wasi/core.h"

using namespace wasmcap;
using namespace wasmcap::wasi;

namespace {

void check(bool ok) {
  if (!ok) std::abort();
}

using Id = std::pair<dev_t, ino_t>;

struct World {
  platform::testing::ScratchTree work, home;
  std::set<Id> inside;  // every entry of both roots, links not followed
  std::unique_ptr<Core> core;

  World() {
    namespace fs = std::filesystem;
    for (const fs::path& r : {work.root(), home.root()}) {
      add(r);
      for (auto it = fs::recursive_directory_iterator(r); it != fs::recursive_directory_iterator();
           ++it) {
        add(it->path());
      }
    }
    WasiConfig cfg;
    cfg.preopens.push_back({work.root().string(), "/work", false});
    cfg.preopens.push_back({home.root().string(), "/home/user", false});
    cfg.stdout_fd = cfg.stderr_fd = -1;
    cfg.dev_files = true;
    cfg.virtual_root = true;
    cfg.commands = std::make_shared<const std::vector<std::string>>(
        std::vector<std::string>{"[", "cat", "ls", "sh"});
    cfg.max_write_entries = 1u << 30;
    core = std::make_unique<Core>(cfg);
    check(core->init().has_value());
    check(core->preopens().size() == 4);
  }
  void add(const std::filesystem::path& p) {
    struct stat st {};
    check(::lstat(p.c_str(), &st) == 0);
    inside.insert({st.st_dev, st.st_ino});
  }
  void check_inside(int fd) const {
    struct stat st {};
    check(::fstat(fd, &st) == 0);
    check(inside.count({st.st_dev, st.st_ino}) == 1);
  }
};

World& world() {
  static World w;
  return w;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  World& w = world();
  Core& c = *w.core;
  const OpenDescription& start = *c.preopens()[data[0] & 3];
  const int op = (data[0] >> 2) & 3;
  std::string path(reinterpret_cast<const char*>(data + 1), size - 1);
  OpenRequest req;
  req.read = true;
  if (op <= 1) {
    req.directory = op == 1;
    req.follow = true;
    auto d = c.open_at(start, path, req);
    if (!d) return 0;
    if ((*d)->fd.valid()) {
      w.check_inside((*d)->fd.get());
      check((*d)->vnode == nullptr);
    }
    if (op == 1 && Core::check_listable(**d) == Errc::kOk) {
      size_t n = 0;
      if (c.dir_seek(**d, 0) != Errc::kOk) return 0;
      DirEntry e;
      while (c.dir_next(**d, &e).value_or(false) && ++n < 4096) {
      }
      if ((*d)->vnode != nullptr) check(n <= 2 + 8 + 4);  // ".", "..", children, commands
    }
    return 0;
  }
  auto p = c.resolve_at(start, path, op == 2 ? Final::kFollow : Final::kEntry);
  if (!p) return 0;
  if (p->virt) {
    check(!p->where.dir.valid());
    (void)c.stat_at(*p);
    if (op == 3) check(c.create_directory(*p) != Errc::kOk);  // nothing virtual is made
    return 0;
  }
  if (p->where.dir.valid()) w.check_inside(p->where.dir.get());
  if (op == 2) {
    (void)c.stat_at(*p);
  } else if (c.create_directory(*p) == Errc::kOk) {
    // Made beneath a preopen's own directory: check it, then take it away again.
    int dir = p->where.dir.get();
    std::string name = p->where.name;
    struct stat st {};
    check(::fstatat(dir, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode));
    ::unlinkat(dir, name.c_str(), AT_REMOVEDIR);
  }
  return 0;
}

// The WASI host's capability layer (src/wasi/core.h) driven directly, with host types and no
// guest memory, fd numbers or rights: what a WASI 0.2 binding will call. The rules that protect
// the host hold here on their own (a binding's rights are a second check, not the only one).
#include "wasi/core.h"
#include "thread_cpu.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <vector>

namespace wasmcap::wasi {
namespace {

namespace fs = std::filesystem;

class WasiCoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "wasmcap-core-XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    top_ = tmpl;
    root_ = top_ / "root";
    fs::create_directories(root_ / "dir");
    fs::create_directories(top_ / "outside");
    std::ofstream(root_ / "file") << "original";
    std::ofstream(top_ / "outside" / "secret") << "secret";
    fs::create_symlink("../outside", root_ / "link_out");
  }
  void TearDown() override {
    core_.reset();
    std::error_code ec;
    fs::remove_all(top_, ec);
  }
  Core& make(bool read_only, WasiConfig c = {}) {
    c.preopens.push_back({root_.string(), "root", read_only});
    c.stdout_fd = -1;
    c.stderr_fd = -1;
    core_ = std::make_unique<Core>(std::move(c));
    EXPECT_TRUE(core_->init());
    return *core_;
  }
  OpenDescription& root() { return *core_->preopens().at(0); }
  PathAt at(const std::string& path, Final f = Final::kEntry) {
    auto p = core_->resolve_at(root(), path, f);
    EXPECT_TRUE(p.has_value()) << path << ": " << errc_name(p.error());
    return p ? std::move(*p) : PathAt{};
  }
  static std::vector<IoSlice> slices(std::string& s) {
    return {{reinterpret_cast<uint8_t*>(s.data()), static_cast<uint32_t>(s.size())}};
  }

  fs::path top_, root_;
  std::unique_ptr<Core> core_;
};

TEST_F(WasiCoreTest, OpensReadsAndWritesBeneathAPreopen) {
  Core& c = make(false);
  OpenRequest req;
  req.create = true;
  req.read = true;
  req.write = true;
  auto f = c.open_at(root(), "dir/new", req);
  ASSERT_TRUE(f) << errc_name(f.error());
  EXPECT_EQ((*f)->kind, OpenDescription::Kind::kFile);
  EXPECT_EQ((*f)->guest_path, "dir/new");
  std::string text = "hello";
  auto n = c.write(**f, slices(text));
  ASSERT_TRUE(n);
  EXPECT_EQ(*n, 5u);
  std::string back(4, '\0');
  auto r = c.pread(**f, slices(back), 1);
  ASSERT_TRUE(r);
  EXPECT_EQ(back.substr(0, *r), "ello");
  auto st = c.stat(**f);
  ASSERT_TRUE(st);
  EXPECT_EQ(st->type, FileType::kRegularFile);
  EXPECT_EQ(st->size, 5u);
  // The description is shared: it stays open while any handle holds it.
  DescriptionRef other = *f;
  f->reset();
  EXPECT_TRUE(c.seek(*other, 0, SeekFrom::kSet));
  std::string again(5, '\0');
  EXPECT_EQ(c.read(*other, slices(again)).value_or(0), 5u);
  EXPECT_EQ(again, "hello");
}

TEST_F(WasiCoreTest, EscapesAreTheirOwnCode) {
  Core& c = make(false);
  OpenRequest req;
  req.read = true;
  EXPECT_EQ(c.open_at(root(), "../outside/secret", req).error(), Errc::kEscape);
  EXPECT_EQ(c.open_at(root(), "link_out/secret", req).error(), Errc::kEscape);
  EXPECT_EQ(c.open_at(root(), "/etc/passwd", req).error(), Errc::kEscape);
  EXPECT_EQ(c.resolve_at(root(), "../x", Final::kEntry).error(), Errc::kEscape);
  // A symlink the guest makes may only descend.
  EXPECT_EQ(c.symlink("../outside", root(), at("up")), Errc::kEscape);
  EXPECT_EQ(c.symlink("/etc", root(), at("abs")), Errc::kEscape);
  EXPECT_EQ(c.symlink("dir", root(), at("down")), Errc::kOk);
  // The operator's climbing link may not be moved.
  EXPECT_EQ(c.rename(at("link_out"), at("dir/moved")), Errc::kEscape);
  // Paths are resolved beneath directories only.
  auto f = c.open_at(root(), "file", req);
  ASSERT_TRUE(f);
  EXPECT_EQ(c.resolve_at(**f, "x", Final::kEntry).error(), Errc::kNotDirectory);
}

TEST_F(WasiCoreTest, ReadOnlyTreeRefusesEveryModificationWithoutAnyRights) {
  Core& c = make(true);
  OpenRequest req;
  req.read = true;
  auto f = c.open_at(root(), "file", req);
  ASSERT_TRUE(f);
  EXPECT_TRUE((*f)->read_only);
  std::string text = "x";
  EXPECT_EQ(c.pwrite(**f, slices(text), 0).error(), Errc::kNotCapable);
  EXPECT_EQ(c.set_size(**f, 0), Errc::kNotCapable);
  EXPECT_EQ(c.allocate(**f, 0, 10), Errc::kNotCapable);
  Timestamp t{Timestamp::Kind::kSet, 1};
  EXPECT_EQ(c.set_times(**f, t, t), Errc::kNotCapable);
  OpenRequest w = req;
  w.write = true;
  EXPECT_EQ(c.open_at(root(), "file", w).error(), Errc::kNotCapable);
  OpenRequest create;
  create.create = true;
  EXPECT_EQ(c.open_at(root(), "new", create).error(), Errc::kNotCapable);
  OpenRequest trunc = req;
  trunc.truncate = true;
  EXPECT_EQ(c.open_at(root(), "file", trunc).error(), Errc::kNotCapable);
  EXPECT_EQ(c.create_directory(at("made")), Errc::kNotCapable);
  EXPECT_EQ(c.unlink_file(at("file")), Errc::kNotCapable);
  EXPECT_EQ(c.remove_directory(at("dir")), Errc::kNotCapable);
  EXPECT_EQ(c.rename(at("file"), at("moved")), Errc::kNotCapable);
  EXPECT_EQ(c.link(at("file"), at("linked")), Errc::kNotCapable);
  EXPECT_EQ(c.symlink("file", root(), at("sym")), Errc::kNotCapable);
  EXPECT_EQ(c.set_times_at(at("file"), t, t), Errc::kNotCapable);
  std::ifstream in(root_ / "file");
  std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(content, "original");
  EXPECT_FALSE(fs::exists(root_ / "made"));
}

TEST_F(WasiCoreTest, DeniedPreopenIsNotCapable) {
  WasiConfig cfg;
  cfg.preopens.push_back({"", "denied", false, true});
  Core& c = make(false, cfg);
  ASSERT_EQ(c.preopens().size(), 2u);
  const OpenDescription& denied = *c.preopens()[0];
  EXPECT_EQ(denied.preopen_name, "denied");
  EXPECT_EQ(Core::check_dir(denied), Errc::kNotCapable);
  EXPECT_EQ(c.resolve_at(denied, "x", Final::kEntry).error(), Errc::kNotCapable);
}

TEST_F(WasiCoreTest, DirectoryEntriesResumeAtCookies) {
  Core& c = make(false);
  for (const char* n : {"a", "b", "c"}) std::ofstream(root_ / "dir" / n) << n;
  OpenRequest req;
  req.read = true;
  req.directory = true;
  auto d = c.open_at(root(), "dir", req);
  ASSERT_TRUE(d);
  ASSERT_EQ(c.dir_seek(**d, 0), Errc::kOk);
  std::vector<std::string> names;
  DirEntry e;
  while (c.dir_next(**d, &e).value_or(false)) {
    names.emplace_back(e.name);
    EXPECT_EQ(e.next_cookie, names.size());
    if (e.name == "." || e.name == ".." || e.name.size() == 1) {
      EXPECT_EQ(e.type, e.name.front() == '.' ? FileType::kDirectory : FileType::kRegularFile);
    }
  }
  ASSERT_EQ(names.size(), 5u);  // ., .., a, b, c
  EXPECT_EQ(std::set<std::string>(names.begin(), names.end()),
            (std::set<std::string>{".", "..", "a", "b", "c"}));
  // Resume at cookie 3: the fourth entry; an unread entry comes back.
  ASSERT_EQ(c.dir_seek(**d, 3), Errc::kOk);
  ASSERT_TRUE(c.dir_next(**d, &e).value_or(false));
  EXPECT_EQ(std::string(e.name), names[3]);
  c.dir_unread(**d);
  ASSERT_TRUE(c.dir_next(**d, &e).value_or(false));
  EXPECT_EQ(std::string(e.name), names[3]);
  EXPECT_EQ(e.next_cookie, 4u);
  // A file is not listable.
  req.directory = false;
  auto f = c.open_at(root(), "file", req);
  ASSERT_TRUE(f);
  EXPECT_EQ(c.dir_seek(**f, 0), Errc::kNotDirectory);
}

// A thread that goes on to serve another caller (the MCP server's kept threads) restarts the
// thread CPU-time clock guests read: the next guest does not see what the earlier ones used.
TEST_F(WasiCoreTest, TheThreadCpuClockCountsFromItsRestart) {
  WasiConfig cfg;
  Core c(cfg);
  testing::burn_thread_cpu_ms(100);
  auto before = c.clock_now(Clock::kThreadCputime, false);
  ASSERT_TRUE(before.has_value());
  EXPECT_GE(*before, 100000000u);
  restart_thread_cpu_clock();
  auto after = c.clock_now(Clock::kThreadCputime, false);
  ASSERT_TRUE(after.has_value());
  EXPECT_LT(*after, 50000000u) << "the thread's earlier CPU is visible";
  testing::burn_thread_cpu_ms(20);
  auto later = c.clock_now(Clock::kThreadCputime, false);
  ASSERT_TRUE(later.has_value());
  EXPECT_GE(*later, *after + 20000000u) << "the clock no longer advances";
}

TEST_F(WasiCoreTest, ClocksAndRandomAreGrants) {
  WasiConfig cfg;
  cfg.random.kind = RandomSource::Kind::kDeny;
  cfg.clock_wall = false;
  Core& denied = make(false, cfg);
  uint8_t buf[16];
  EXPECT_EQ(denied.random_fill(buf, sizeof buf), Errc::kNotCapable);
  EXPECT_EQ(denied.clock_now(Clock::kRealtime, true).error(), Errc::kNotCapable);
  EXPECT_TRUE(denied.clock_now(Clock::kMonotonic, true).has_value());

  // Seeded random and the fixed clock are the same on every run.
  WasiConfig pinned;
  pinned.random.kind = RandomSource::Kind::kSeed;
  pinned.random.seed = 7;
  pinned.clock.kind = ClockSource::Kind::kFixed;
  pinned.clock.epoch_ns = 1000;
  pinned.clock.step_ns = 10;
  Core a(pinned), b(pinned);
  uint8_t x[100], y[100];
  ASSERT_EQ(a.random_fill(x, sizeof x), Errc::kOk);
  ASSERT_EQ(b.random_fill(y, 60), Errc::kOk);
  ASSERT_EQ(b.random_fill(y + 60, 40), Errc::kOk);
  EXPECT_EQ(std::memcmp(x, y, sizeof x), 0);
  EXPECT_EQ(a.clock_now(Clock::kRealtime, true).value(), 1000u);
  EXPECT_EQ(a.clock_now(Clock::kMonotonic, false).value(), 10u);
  EXPECT_EQ(a.clock_resolution(Clock::kMonotonic).value(), 10u);
  // Beyond max_io_bytes a random request is refused (it cannot be cut short).
  WasiConfig small;
  small.max_io_bytes = 8;
  Core s(small);
  EXPECT_EQ(s.random_fill(buf, sizeof buf), Errc::kInvalid);
}

// The virtual /dev (WasiConfig::dev_files): after the preopens, only its devices open, nothing in
// it changes, no host object is behind it; writes are discarded without touching the write
// budget; /dev/urandom is the run's random stream (seeded: the same bytes) and is refused when
// random is; one read of /dev/zero or /dev/urandom gives at most one chunk.
TEST_F(WasiCoreTest, DevFilesAreVirtualDevices) {
  Core& off = make(false);
  EXPECT_EQ(off.preopens().size(), 1u);
  WasiConfig cfg;
  cfg.dev_files = true;
  cfg.max_write_bytes = 1;
  cfg.random.kind = RandomSource::Kind::kSeed;
  cfg.random.seed = 9;
  Core& c = make(false, cfg);
  ASSERT_EQ(c.preopens().size(), 2u);
  OpenDescription& dev = *c.preopens()[1];
  EXPECT_EQ(dev.preopen_name, "/dev");
  OpenRequest rd;
  rd.read = true;
  OpenRequest wr;
  wr.write = wr.create = wr.truncate = true;  // `> /dev/null` from a C program
  auto null = c.open_at(dev, "null", wr);
  ASSERT_TRUE(null) << errc_name(null.error());
  std::string text(100, 'x');
  EXPECT_EQ(c.write(**null, slices(text)).value(), 100u);
  EXPECT_EQ(c.write_budget().bytes_used(), 0u);
  EXPECT_EQ(c.read(**null, slices(text)).value(), 0u);
  EXPECT_EQ(c.stat(**null).value().type, FileType::kCharacterDevice);
  auto zero = c.open_at(dev, "zero", rd);
  ASSERT_TRUE(zero);
  std::string big(Core::kIoChunkBytes + 4096, 'x');
  EXPECT_EQ(c.read(**zero, slices(big)).value(), Core::kIoChunkBytes);
  EXPECT_EQ(big.find_first_not_of('\0'), Core::kIoChunkBytes);
  auto urandom = c.open_at(dev, "urandom", rd);
  ASSERT_TRUE(urandom);
  std::string got(40, '\0');
  EXPECT_EQ(c.read(**urandom, slices(got)).value(), 40u);
  Core same(cfg);
  uint8_t want[40];
  ASSERT_EQ(same.random_fill(want, sizeof want), Errc::kOk);
  EXPECT_EQ(std::memcmp(got.data(), want, sizeof want), 0);
  EXPECT_EQ(c.open_at(dev, "stdout", wr).value(), c.stdio(1));
  // Nothing else is there, nothing is made, /dev itself is not listed.
  EXPECT_EQ(c.open_at(dev, "sda", rd).error(), Errc::kNoEntry);
  EXPECT_EQ(c.open_at(dev, "new", wr).error(), Errc::kNotCapable);
  EXPECT_EQ(c.open_at(dev, ".", rd).error(), Errc::kNotCapable);
  EXPECT_EQ(c.open_at(dev, "../etc/passwd", rd).error(), Errc::kNoEntry);
  EXPECT_EQ(Core::check_listable(dev), Errc::kNotDirectory);
  EXPECT_EQ(c.resolve_at(dev, "null", Final::kEntry).error(), Errc::kNotCapable);
  auto p = c.resolve_at(dev, "zero", Final::kFollow);
  ASSERT_TRUE(p);
  EXPECT_EQ(c.stat_at(*p).value().type, FileType::kCharacterDevice);
  EXPECT_EQ(c.set_times_at(*p, {}, {}), Errc::kNotCapable);
  // Random denied: /dev/urandom opens (as on Linux) but gives nothing.
  cfg.random.kind = RandomSource::Kind::kDeny;
  Core& denied = make(false, cfg);
  auto u = denied.open_at(*denied.preopens()[1], "random", rd);
  ASSERT_TRUE(u);
  EXPECT_EQ(denied.read(**u, slices(got)).error(), Errc::kNotCapable);
}

// The virtual root (WasiConfig::virtual_root, src/wasi/virtual_root.h): a "/" preopen after the
// others whose directories are the preopens' paths and the command directories; a `..` at a
// preopen's top leads there (lexically, while above the preopens) and from there into another
// preopen, beneath which its own resolver and rules hold. Nothing virtual opens as a file or
// changes; nothing outside the preopens becomes reachable.
TEST_F(WasiCoreTest, VirtualRootJoinsThePreopens) {
  fs::create_directories(top_ / "home");
  fs::create_directories(top_ / "ro");
  std::ofstream(top_ / "ro" / "kept") << "kept";
  WasiConfig cfg;
  cfg.preopens.push_back({root_.string(), "/work", false});
  cfg.preopens.push_back({(top_ / "home").string(), "/home/user", false});
  cfg.preopens.push_back({(top_ / "ro").string(), "/usr/share/doc", true});
  cfg.stdout_fd = cfg.stderr_fd = -1;
  cfg.dev_files = true;
  cfg.virtual_root = true;
  cfg.commands = std::make_shared<const std::vector<std::string>>(
      std::vector<std::string>{"cat", "ls"});
  Core c(cfg);
  ASSERT_TRUE(c.init());
  ASSERT_EQ(c.preopens().size(), 5u);
  OpenDescription& work = *c.preopens()[0];
  OpenDescription& top = *c.preopens()[4];
  EXPECT_EQ(top.preopen_name, "/");
  OpenRequest rd;
  rd.read = true;
  OpenRequest dir = rd;
  dir.directory = true;
  auto names = [&](OpenDescription& d) {
    std::vector<std::string> out;
    EXPECT_EQ(c.dir_seek(d, 0), Errc::kOk);
    DirEntry e;
    while (c.dir_next(d, &e).value_or(false)) {
      out.push_back(std::string(e.name) + (e.type == FileType::kDirectory ? "/" : ""));
    }
    return out;
  };
  EXPECT_EQ(names(top), (std::vector<std::string>{"./", "../", "bin/", "dev/", "home/", "usr/",
                                                  "work/"}));
  auto bin = c.open_at(top, "usr/./bin", dir);
  ASSERT_TRUE(bin) << errc_name(bin.error());
  EXPECT_EQ(names(**bin), (std::vector<std::string>{"./", "../", "cat", "ls"}));
  EXPECT_EQ((*bin)->guest_path, "/usr/bin");
  // A listing resumed from a cookie, and an entry put back, as fd_readdir does.
  DirEntry e;
  ASSERT_EQ(c.dir_seek(**bin, 3), Errc::kOk);
  ASSERT_TRUE(c.dir_next(**bin, &e).value_or(false));
  EXPECT_EQ(e.name, "ls");
  c.dir_unread(**bin);
  ASSERT_TRUE(c.dir_next(**bin, &e).value_or(false));
  EXPECT_EQ(e.name, "ls");
  EXPECT_FALSE(c.dir_next(**bin, &e).value_or(true));
  // Commands: files, never opened; nothing beneath them.
  auto ls = c.resolve_at(top, "bin/ls", Final::kFollow);
  ASSERT_TRUE(ls);
  EXPECT_EQ(c.stat_at(*ls).value().type, FileType::kRegularFile);
  EXPECT_EQ(c.open_at(top, "bin/ls", rd).error(), Errc::kAccess);
  EXPECT_EQ(c.stat_at(c.resolve_at(top, "bin/ls/", Final::kFollow).value()).error(),
            Errc::kNotDirectory);
  EXPECT_EQ(c.stat_at(c.resolve_at(top, "bin/nope", Final::kFollow).value()).error(),
            Errc::kNoEntry);
  EXPECT_EQ(c.open_at(top, "etc/passwd", rd).error(), Errc::kNoEntry);
  // `..` at a preopen's top: its virtual parent, and on into another preopen.
  auto home = c.open_at(*c.preopens()[1], "../", dir);
  ASSERT_TRUE(home) << errc_name(home.error());
  EXPECT_EQ((*home)->guest_path, "/home");
  EXPECT_EQ(names(**home), (std::vector<std::string>{"./", "../", "user/"}));
  auto f = c.open_at(*c.preopens()[1], "./../../work/file", rd);
  ASSERT_TRUE(f) << errc_name(f.error());
  std::string got(16, '\0');
  EXPECT_EQ(c.read(**f, slices(got)).value(), 8u);
  EXPECT_EQ(got.substr(0, 8), "original");
  EXPECT_EQ(c.stat(top).value().type, FileType::kDirectory);
  EXPECT_EQ(c.stat_at(c.resolve_at(work, "..", Final::kFollow).value()).value().ino,
            c.stat(top).value().ino);
  // A `..` that climbs above the top after names that came back to it (`dir/../..`) is the
  // top's, when those names are directories; through a symlink it is the resolver's (here an
  // escape: the link's `..` is physical). The root's `..` is itself; a symlink out of a
  // preopen is refused as ever.
  fs::create_directory_symlink("dir", root_ / "dl");
  auto up = c.open_at(work, "dir/./../../home/", dir);
  ASSERT_TRUE(up) << errc_name(up.error());
  EXPECT_EQ((*up)->guest_path, "/home");
  EXPECT_EQ(c.open_at(work, "dl/../../home", dir).error(), Errc::kEscape);
  EXPECT_EQ(c.open_at(work, "nope/../../home", dir).error(), Errc::kNoEntry);
  EXPECT_EQ(c.open_at(work, "file/../../home", dir).error(), Errc::kNotDirectory);
  // The walk that checks those names holds one descriptor per level, at most 32 at once:
  // deeper, the climb is left to the resolver (an escape).
  auto deep = [](int n) {
    std::string p;
    for (int i = 0; i < n; ++i) p += "d/";
    for (int i = 0; i <= n; ++i) p += "../";
    return p + "home";
  };
  fs::create_directories(root_ / deep(33).substr(0, 66));
  EXPECT_TRUE(c.open_at(work, deep(32), dir).has_value());
  EXPECT_EQ(c.open_at(work, deep(33), dir).error(), Errc::kEscape);
  EXPECT_EQ(c.open_at(top, "work/../../../outside/secret", rd).error(), Errc::kNoEntry);
  EXPECT_EQ(c.open_at(top, "../work/link_out/secret", rd).error(), Errc::kEscape);
  // Nothing virtual changes (EACCES, EEXIST as a user gets in /); a mount reached through the
  // root keeps its own rules: /work is writable, /usr/share/doc read only.
  auto here = [&](const OpenDescription& d, const char* p) {
    return c.resolve_at(d, p, Final::kEntry).value();
  };
  EXPECT_EQ(c.create_directory(here(top, "new")), Errc::kAccess);
  EXPECT_EQ(c.create_directory(here(top, "bin")), Errc::kExist);
  EXPECT_EQ(c.create_directory(here(top, "nope/new")), Errc::kNoEntry);
  EXPECT_EQ(c.remove_directory(here(top, "home")), Errc::kAccess);
  EXPECT_EQ(c.unlink_file(here(top, "bin/ls")), Errc::kAccess);
  EXPECT_EQ(c.rename(here(work, "file"), here(work, "../file")), Errc::kAccess);
  EXPECT_EQ(c.symlink("work", top, here(top, "w")), Errc::kAccess);
  EXPECT_EQ(c.set_times(top, {}, {}), Errc::kAccess);
  OpenRequest wr;
  wr.write = wr.create = true;
  EXPECT_EQ(c.open_at(top, "new", wr).error(), Errc::kAccess);
  EXPECT_EQ(c.open_at(top, "home", wr).error(), Errc::kIsDirectory);
  EXPECT_EQ(c.create_directory(here(top, "work/made")), Errc::kOk);
  EXPECT_TRUE(fs::is_directory(root_ / "made"));
  EXPECT_EQ(c.open_at(top, "usr/share/doc/kept", wr).error(), Errc::kNotCapable);
  EXPECT_EQ(c.unlink_file(here(work, "../usr/share/doc/kept")), Errc::kNotCapable);
  EXPECT_TRUE(fs::exists(top_ / "ro" / "kept"));
  // A symlink made through the root is written in the form of the preopen it lands in.
  EXPECT_EQ(c.symlink("/home/user/f", work, here(work, "../home/user/l")), Errc::kOk);
  EXPECT_EQ(fs::read_symlink(top_ / "home" / "l").string(), "f");
  // Without the virtual root, `..` at a preopen's top is the escape it always was.
  cfg.virtual_root = false;
  Core plain(cfg);
  ASSERT_TRUE(plain.init());
  EXPECT_EQ(plain.preopens().size(), 4u);
  EXPECT_EQ(plain.open_at(*plain.preopens()[0], "../home/user", dir).error(), Errc::kEscape);
}

// /dev/fd/N (a shell's `<(list)`: `diff /dev/fd/63 /dev/fd/62`): the descriptor the run was
// given at N, the same description (a pipe passed for reading is read as stdin is), stat'ed as
// itself (two pipes have two inodes: GNU diff takes equal ones for one file and compares
// nothing), for the access it was passed with; a number the run was not given is no entry.
TEST_F(WasiCoreTest, DevFdNamesTheDescriptorsTheRunWasGiven) {
  int a[2], b[2];
  ASSERT_EQ(::pipe2(a, O_CLOEXEC), 0);
  ASSERT_EQ(::pipe2(b, O_CLOEXEC), 0);
  WasiConfig cfg;
  cfg.dev_files = true;
  WasiConfig::InheritedFd in;
  in.guest_fd = 63;
  in.host_fd = a[0];
  in.read = true;
  cfg.inherited_fds.push_back(in);
  in.guest_fd = 62;
  in.host_fd = b[0];
  cfg.inherited_fds.push_back(in);
  Core& c = make(false, cfg);
  ::close(a[0]);
  ::close(b[0]);
  OpenDescription& dev = *c.preopens()[1];
  OpenRequest rd;
  rd.read = true;
  auto f = c.open_at(dev, "fd/63", rd);
  ASSERT_TRUE(f) << errc_name(f.error());
  EXPECT_EQ(*f, c.inherited()[0]);
  ASSERT_EQ(::write(a[1], "from a", 6), 6);
  ::close(a[1]);
  std::string got(16, '\0');
  EXPECT_EQ(c.read(**f, slices(got)).value(), 6u);
  EXPECT_EQ(got.substr(0, 6), "from a");
  EXPECT_EQ(c.read(**f, slices(got)).value(), 0u);  // the writer closed: end of file
  auto p63 = c.resolve_at(dev, "fd/63", Final::kFollow);
  auto p62 = c.resolve_at(dev, "fd/62", Final::kFollow);
  ASSERT_TRUE(p63 && p62);
  Stat s63 = c.stat_at(*p63).value(), s62 = c.stat_at(*p62).value();
  EXPECT_EQ(s63.type, FileType::kFifo);
  EXPECT_EQ(s62.type, FileType::kFifo);
  EXPECT_NE(s63.ino, s62.ino);
  EXPECT_EQ(c.open_at(dev, "fd/1", rd).value(), c.stdio(1));
  OpenRequest wr;
  wr.write = true;
  EXPECT_EQ(c.open_at(dev, "fd/62", wr).error(), Errc::kNotCapable);  // passed for reading
  EXPECT_EQ(c.open_at(dev, "fd/5", rd).error(), Errc::kNoEntry);
  EXPECT_EQ(c.open_at(dev, "fd/", rd).error(), Errc::kNoEntry);
  EXPECT_EQ(c.open_at(dev, "fd/63/x", rd).error(), Errc::kNoEntry);
  EXPECT_EQ(c.resolve_at(dev, "fd/5", Final::kFollow).error(), Errc::kNoEntry);
  ::close(b[1]);
}

}  // namespace
}  // namespace wasmcap::wasi

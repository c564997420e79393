// WASI filesystem layer (src/wasi/fs.cc) driven directly through WasiHost with a host-side
// buffer as guest memory: rights, read-only preopens, sandbox escapes through every path_*
// call, guest pointers out of range, the fd limit, fd_readdir cookies and truncation.
// Every test runs with both path resolver implementations.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "wasi/host.h"
#include "wasi/path.h"

namespace wasmcap {
namespace {

namespace fs = std::filesystem;
using namespace wasi;
using platform::kernel_has_openat2;
using ResolverImpl = platform::Resolver;

constexpr uint32_t kPreopen = 3;
// Guest memory layout used by the tests.
constexpr uint32_t kOut = 0;        // scalar results
constexpr uint32_t kPath1 = 1024;   // first path string
constexpr uint32_t kPath2 = 2048;   // second path string
constexpr uint32_t kIov = 3072;     // one iovec
constexpr uint32_t kBuf = 4096;     // data buffers
constexpr uint32_t kMemSize = 1 << 16;

std::string slurp(const fs::path& p) {
  std::ifstream f(p);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

class FsHostTest : public ::testing::TestWithParam<ResolverImpl> {
 public:  // (the attack table of SymlinksNeverLeadOutForTheHost drives the helpers)
  void SetUp() override {
    if (GetParam() == ResolverImpl::kOpenat2 && !kernel_has_openat2()) {
      GTEST_SKIP() << "kernel has no openat2";
    }
    saved_ = platform::resolver();
    platform::set_resolver(GetParam());
    std::string tmpl = (fs::temp_directory_path() / "wasmcap-fs-test-XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    top_ = tmpl;
    root_ = top_ / "root";
    fs::create_directories(top_ / "outside");
    std::ofstream(top_ / "outside" / "secret") << "secret";
    fs::create_directories(root_ / "dir");
    std::ofstream(root_ / "file") << "original";
    fs::create_symlink("../outside", root_ / "link_out");
    fs::create_symlink("/etc/passwd", root_ / "link_etc");
    mem_.assign(kMemSize, 0);
  }
  void TearDown() override {
    host_.reset();
    platform::set_resolver(saved_);
    std::error_code ec;
    if (!top_.empty()) fs::remove_all(top_, ec);
  }

  void make_host(bool read_only, uint32_t max_fds = 1024, const std::string& guest = "root") {
    WasiConfig c;
    c.args = {"test"};
    c.preopens.push_back({root_.string(), guest, read_only});
    c.max_fds = max_fds;
    c.stdout_fd = -1;
    c.stderr_fd = -1;
    host_ = std::make_shared<WasiHost>(std::move(c));
    ASSERT_TRUE(host_->init());
  }

  GuestMemory mem() { return GuestMemory(mem_.data(), mem_.size()); }
  uint32_t put(uint32_t at, const std::string& s) {
    std::memcpy(mem_.data() + at, s.data(), s.size());
    return static_cast<uint32_t>(s.size());
  }
  template <class T>
  T load(uint32_t at) {
    T v;
    std::memcpy(&v, mem_.data() + at, sizeof v);
    return v;
  }

  Errno open(uint32_t dir, const std::string& path, uint32_t oflags, Rights base,
             uint32_t* fd, uint32_t lookup = 0, Rights inheriting = kAllRights) {
    uint32_t n = put(kPath1, path);
    Errno r = host_->path_open(mem(), dir, lookup, kPath1, n, oflags, base, inheriting, 0, kOut);
    if (r == kSuccess) *fd = load<uint32_t>(kOut);
    return r;
  }
  Errno write(uint32_t fd, const std::string& data) {
    put(kBuf, data);
    std::memcpy(mem_.data() + kIov, &kBuf, 4);
    uint32_t len = static_cast<uint32_t>(data.size());
    std::memcpy(mem_.data() + kIov + 4, &len, 4);
    return host_->fd_write(mem(), fd, kIov, 1, kOut);
  }
  Rights base_rights(uint32_t fd) {
    EXPECT_EQ(host_->fd_fdstat_get(mem(), fd, kOut), kSuccess);
    return load<uint64_t>(kOut + 8);
  }
  Errno path_op1(Errno (WasiHost::*op)(const GuestMemory&, uint32_t, uint32_t, uint32_t),
                 const std::string& path) {
    uint32_t n = put(kPath1, path);
    return (host_.get()->*op)(mem(), kPreopen, kPath1, n);
  }
  Errno rename(const std::string& from, const std::string& to) {
    uint32_t a = put(kPath1, from), b = put(kPath2, to);
    return host_->path_rename(mem(), kPreopen, kPath1, a, kPreopen, kPath2, b);
  }
  Errno link(const std::string& from, const std::string& to, uint32_t lookup = 0) {
    uint32_t a = put(kPath1, from), b = put(kPath2, to);
    return host_->path_link(mem(), kPreopen, lookup, kPath1, a, kPreopen, kPath2, b);
  }
  Errno symlink(const std::string& target, const std::string& at, uint32_t dir = kPreopen) {
    uint32_t a = put(kPath1, target), b = put(kPath2, at);
    return host_->path_symlink(mem(), kPath1, a, dir, kPath2, b);
  }
  Errno filestat(const std::string& path, uint32_t lookup) {
    uint32_t n = put(kPath1, path);
    return host_->path_filestat_get(mem(), kPreopen, lookup, kPath1, n, kBuf);
  }

  fs::path top_, root_;
  std::vector<uint8_t> mem_;
  std::shared_ptr<WasiHost> host_;
  ResolverImpl saved_ = ResolverImpl::kAuto;
};

// Threat: a read-only preopen being modified by any route. Every refusal is ENOTCAPABLE.
TEST_P(FsHostTest, ReadOnlyPreopenRefusesEveryModification) {
  make_host(/*read_only=*/true);
  uint32_t fd = 0;
  EXPECT_EQ(open(kPreopen, "new", kOflagCreat, kAllRights, &fd), kEnotcapable);
  EXPECT_EQ(open(kPreopen, "file", kOflagCreat, kAllRights, &fd), kEnotcapable);
  EXPECT_EQ(open(kPreopen, "file", kOflagTrunc, kAllRights, &fd), kEnotcapable);
  EXPECT_FALSE(fs::exists(root_ / "new"));

  // Asking for write rights still yields a read-only fd.
  ASSERT_EQ(open(kPreopen, "file", 0, kRightFdRead | kRightFdWrite | kRightFdSeek, &fd),
            kSuccess);
  EXPECT_EQ(base_rights(fd) & kWriteRights, 0u);
  EXPECT_EQ(write(fd, "x"), kEnotcapable);
  EXPECT_EQ(host_->fd_pwrite(mem(), fd, kIov, 1, 0, kOut), kEnotcapable);
  EXPECT_EQ(host_->fd_filestat_set_size(mem(), fd, 0), kEnotcapable);
  EXPECT_EQ(host_->fd_allocate(mem(), fd, 0, 10), kEnotcapable);
  EXPECT_EQ(host_->fd_filestat_set_times(mem(), fd, 0, 0, kFstMtimNow), kEnotcapable);

  EXPECT_EQ(path_op1(&WasiHost::path_create_directory, "newdir"), kEnotcapable);
  EXPECT_EQ(path_op1(&WasiHost::path_unlink_file, "file"), kEnotcapable);
  EXPECT_EQ(path_op1(&WasiHost::path_remove_directory, "dir"), kEnotcapable);
  EXPECT_EQ(rename("file", "moved"), kEnotcapable);
  EXPECT_EQ(link("file", "hard"), kEnotcapable);
  EXPECT_EQ(symlink("file", "soft"), kEnotcapable);
  uint32_t n = put(kPath1, "file");
  EXPECT_EQ(host_->path_filestat_set_times(mem(), kPreopen, 0, kPath1, n, 0, 0, kFstMtimNow),
            kEnotcapable);

  // A directory opened beneath it is just as read-only, whatever rights are asked for.
  uint32_t sub = 0;
  ASSERT_EQ(open(kPreopen, "dir", kOflagDirectory, kDirectoryRights, &sub), kSuccess);
  EXPECT_EQ(base_rights(sub) & kWriteRights, 0u);
  n = put(kPath1, "x");
  EXPECT_EQ(host_->path_create_directory(mem(), sub, kPath1, n), kEnotcapable);
  // And rights cannot be added back.
  EXPECT_EQ(host_->fd_fdstat_set_rights(mem(), sub, kAllRights, kAllRights), kEnotcapable);

  EXPECT_EQ(slurp(root_ / "file"), "original");
  EXPECT_TRUE(fs::exists(root_ / "dir"));
  EXPECT_FALSE(fs::exists(root_ / "newdir"));
  EXPECT_FALSE(fs::exists(root_ / "moved"));
}

// Threat: regaining a dropped right.
TEST_P(FsHostTest, RightsCanOnlyBeDropped) {
  make_host(false);
  Rights base = base_rights(kPreopen);
  Rights inh = load<uint64_t>(kOut + 16);
  ASSERT_EQ(host_->fd_fdstat_set_rights(mem(), kPreopen, base & ~kRightPathOpen, inh),
            kSuccess);
  uint32_t fd = 0;
  EXPECT_EQ(open(kPreopen, "file", 0, kRightFdRead, &fd), kEnotcapable);
  EXPECT_EQ(host_->fd_fdstat_set_rights(mem(), kPreopen, base, inh), kEnotcapable);
  EXPECT_EQ(host_->fd_fdstat_set_rights(mem(), kPreopen, base & ~kRightPathOpen,
                                        inh | (1ull << 40)),
            kEnotcapable);
}

// New fds get at most the parent's inheriting rights, and only those fitting their type.
TEST_P(FsHostTest, NewFdRightsBoundedByInheriting) {
  make_host(false);
  Rights base = base_rights(kPreopen);
  Rights inh = load<uint64_t>(kOut + 16);
  ASSERT_EQ(host_->fd_fdstat_set_rights(mem(), kPreopen, base, inh & ~kRightFdWrite), kSuccess);
  uint32_t fd = 0;
  ASSERT_EQ(open(kPreopen, "file", 0, kRightFdRead | kRightFdWrite, &fd), kSuccess);
  Rights got = base_rights(fd);
  EXPECT_EQ(got & kRightFdWrite, 0u);
  EXPECT_NE(got & kRightFdRead, 0u);
  EXPECT_EQ(write(fd, "x"), kEnotcapable);
  // Directory-only rights are not granted to a file.
  uint32_t fd2 = 0;
  ASSERT_EQ(open(kPreopen, "file", 0, kAllRights, &fd2), kSuccess);
  EXPECT_EQ(base_rights(fd2) & kRightPathOpen, 0u);
  // A file is not a directory fd.
  EXPECT_EQ(open(fd2, "x", 0, 0, &fd), kEnotdir);
  EXPECT_EQ(slurp(root_ / "file"), "original");
}

// Threat: leaving the sandbox through any path-taking call. Escapes are EPERM.
TEST_P(FsHostTest, EveryPathCallStaysBeneathThePreopen) {
  make_host(false);
  uint32_t fd = 0;
  EXPECT_EQ(open(kPreopen, "../outside/secret", 0, kRightFdRead, &fd), kEperm);
  EXPECT_EQ(open(kPreopen, "/etc/passwd", 0, kRightFdRead, &fd), kEperm);
  EXPECT_EQ(open(kPreopen, "link_out/secret", 0, kRightFdRead, &fd), kEperm);
  EXPECT_EQ(open(kPreopen, "link_etc", 0, kRightFdRead, &fd, kLookupSymlinkFollow), kEperm);
  // Without SYMLINK_FOLLOW the final symlink is not followed: ELOOP, like O_NOFOLLOW.
  EXPECT_EQ(open(kPreopen, "link_etc", 0, kRightFdRead, &fd), kEloop);
  EXPECT_EQ(open(kPreopen, "dir/../../outside/secret", kOflagCreat | kOflagTrunc,
                 kRightFdWrite, &fd),
            kEperm);
  EXPECT_EQ(filestat("link_out", kLookupSymlinkFollow), kEperm);
  ASSERT_EQ(filestat("link_out", 0), kSuccess);
  EXPECT_EQ(mem_[kBuf + 16], kFiletypeSymbolicLink);
  EXPECT_EQ(filestat("..", 0), kEperm);

  EXPECT_EQ(path_op1(&WasiHost::path_create_directory, "../made"), kEperm);
  EXPECT_EQ(path_op1(&WasiHost::path_unlink_file, "../outside/secret"), kEperm);
  EXPECT_EQ(path_op1(&WasiHost::path_unlink_file, "link_out/secret"), kEperm);
  EXPECT_EQ(path_op1(&WasiHost::path_remove_directory, "../outside"), kEperm);
  EXPECT_EQ(rename("file", "../stolen"), kEperm);
  EXPECT_EQ(rename("file", "link_out/stolen"), kEperm);
  EXPECT_EQ(rename("../outside/secret", "here"), kEperm);
  EXPECT_EQ(link("file", "../hard"), kEperm);
  EXPECT_EQ(link("../outside/secret", "hard"), kEperm);
  EXPECT_EQ(link("link_out/secret", "hard", kLookupSymlinkFollow), kEperm);
  uint32_t n = put(kPath1, "link_out");
  EXPECT_EQ(host_->path_filestat_set_times(mem(), kPreopen, kLookupSymlinkFollow, kPath1, n, 0,
                                           0, kFstMtimNow),
            kEperm);
  n = put(kPath1, "link_out/x");
  EXPECT_EQ(host_->path_readlink(mem(), kPreopen, kPath1, n, kBuf, 100, kOut), kEperm);

  // Planting links that point out is refused; so is any target that climbs (it could be made
  // to point out later, see SymlinksNeverLeadOutForTheHost); descending targets are fine.
  EXPECT_EQ(symlink("/etc/passwd", "abs"), kEperm);
  EXPECT_EQ(symlink("../outside", "rel_out"), kEperm);
  EXPECT_EQ(symlink("dir/../../outside", "rel_out2"), kEperm);
  EXPECT_EQ(symlink("../file", "dir/climbs"), kEperm);
  EXPECT_EQ(symlink("../../file", "dir/not_ok"), kEperm);
  EXPECT_EQ(symlink("dir/../file", "climbs2"), kEperm);
  EXPECT_EQ(symlink("file", "dir/../ok"), kSuccess);
  EXPECT_EQ(symlink("./dir//sub/", "ok2"), kSuccess);

  EXPECT_EQ(slurp(top_ / "outside" / "secret"), "secret");
  EXPECT_FALSE(fs::exists(top_ / "made"));
  EXPECT_FALSE(fs::exists(top_ / "stolen"));
  EXPECT_FALSE(fs::exists(top_ / "hard"));
  EXPECT_FALSE(fs::exists(root_ / "here"));
  EXPECT_FALSE(fs::exists(root_ / "hard"));
  EXPECT_EQ(slurp(root_ / "file"), "original");
}

// A trailing slash names a directory: calls reading through the entry follow a final symlink
// (beneath the preopen only); calls acting on the entry itself never do.
TEST_P(FsHostTest, TrailingSlashes) {
  fs::create_symlink("dir", root_ / "ldir");
  make_host(false);
  ASSERT_EQ(filestat("ldir/", 0), kSuccess);
  EXPECT_EQ(mem_[kBuf + 16], kFiletypeDirectory);
  EXPECT_EQ(filestat("file/", 0), kEnotdir);
  EXPECT_EQ(filestat("link_out/", 0), kEperm);  // followed because of the slash: refused
  EXPECT_EQ(filestat("link_etc/", 0), kEperm);
  uint32_t fd = 0;
  EXPECT_EQ(open(kPreopen, "file/", 0, kRightFdRead, &fd), kEnotdir);
  EXPECT_EQ(open(kPreopen, "new/", kOflagCreat, kRightFdRead, &fd), kEisdir);
  EXPECT_EQ(open(kPreopen, "link_out/", 0, kRightFdRead, &fd), kEperm);
  ASSERT_EQ(open(kPreopen, "ldir/", 0, kRightFdReaddir, &fd), kSuccess);
  // Removing "ldir/" must not remove (or unlink inside) the directory it points to.
  EXPECT_EQ(path_op1(&WasiHost::path_remove_directory, "ldir/"), kEnotdir);
  EXPECT_EQ(path_op1(&WasiHost::path_unlink_file, "ldir/"), kEnotdir);
  EXPECT_EQ(path_op1(&WasiHost::path_unlink_file, "file/"), kEnotdir);
  EXPECT_EQ(path_op1(&WasiHost::path_unlink_file, "dir/"), kEisdir);
  EXPECT_EQ(symlink("x", "file/"), kEnotdir);
  EXPECT_EQ(symlink("x", "missing/"), kEnoent);
  EXPECT_EQ(path_op1(&WasiHost::path_create_directory, "made/"), kSuccess);
  EXPECT_EQ(rename("made/", "made2/"), kSuccess);
  EXPECT_EQ(rename("file", "file2/"), kEnotdir);
  EXPECT_EQ(path_op1(&WasiHost::path_remove_directory, "made2/"), kSuccess);
  EXPECT_TRUE(fs::is_directory(root_ / "dir"));
  EXPECT_TRUE(fs::is_symlink(root_ / "ldir"));
  EXPECT_EQ(slurp(root_ / "file"), "original");
}

// Guest pointers out of range are EFAULT, never a host crash.
TEST_P(FsHostTest, BadGuestPointersAreEfault) {
  make_host(false);
  const uint32_t bad = kMemSize - 2;
  EXPECT_EQ(host_->path_open(mem(), kPreopen, 0, bad, 10, 0, kRightFdRead, 0, 0, kOut), kEfault);
  uint32_t n = put(kPath1, "file");
  EXPECT_EQ(host_->path_open(mem(), kPreopen, 0, kPath1, n, 0, kRightFdRead, 0, 0, bad), kEfault);
  EXPECT_EQ(host_->path_filestat_get(mem(), kPreopen, 0, kPath1, n, bad), kEfault);
  EXPECT_EQ(host_->path_readlink(mem(), kPreopen, kPath1, n, bad, 100, kOut), kEfault);
  EXPECT_EQ(host_->fd_readdir(mem(), kPreopen, bad, 100, 0, kOut), kEfault);
  EXPECT_EQ(host_->fd_readdir(mem(), kPreopen, kBuf, 100, 0, bad), kEfault);
  EXPECT_EQ(host_->fd_filestat_get(mem(), kPreopen, bad), kEfault);
  EXPECT_EQ(host_->path_symlink(mem(), bad, 100, kPreopen, kPath1, n), kEfault);
  EXPECT_EQ(host_->path_create_directory(mem(), kPreopen, 0xFFFFFFF0u, 0x20), kEfault);
  uint32_t fd = 0;
  ASSERT_EQ(open(kPreopen, "file", 0, kRightFdRead | kRightFdSeek | kRightFdTell, &fd),
            kSuccess);
  EXPECT_EQ(host_->fd_pread(mem(), fd, bad, 1, 0, kOut), kEfault);
  EXPECT_EQ(host_->fd_seek(mem(), fd, 0, kWhenceCur, bad), kEfault);
  EXPECT_EQ(host_->fd_tell(mem(), fd, bad), kEfault);
  // An empty GuestMemory (module without memory) is EFAULT too.
  EXPECT_EQ(host_->path_create_directory(GuestMemory(), kPreopen, 0, 1), kEfault);
}

// The fd table is bounded.
TEST_P(FsHostTest, FdTableIsBounded) {
  make_host(false, /*max_fds=*/6);  // 3 stdio + preopen + 2
  uint32_t a = 0, b = 0, c = 0;
  ASSERT_EQ(open(kPreopen, "file", 0, kRightFdRead, &a), kSuccess);
  ASSERT_EQ(open(kPreopen, "file", 0, kRightFdRead, &b), kSuccess);
  EXPECT_EQ(open(kPreopen, "file", 0, kRightFdRead, &c), kEmfile);
  EXPECT_EQ(open(kPreopen, "dir", kOflagDirectory, kDirectoryRights, &c), kEmfile);
  ASSERT_EQ(host_->fd_close(mem(), a), kSuccess);
  EXPECT_EQ(open(kPreopen, "file", 0, kRightFdRead, &c), kSuccess);
  EXPECT_EQ(c, a);
}

struct Dirent {
  uint64_t next, ino;
  uint8_t type;
  std::string name;
};

// Parses complete entries of a readdir buffer; *truncated says whether one was cut off.
std::vector<Dirent> parse_dirents(const uint8_t* p, uint32_t used, bool* truncated) {
  std::vector<Dirent> out;
  uint32_t off = 0;
  *truncated = false;
  while (off < used) {
    if (used - off < kDirentSize) {
      *truncated = true;
      break;
    }
    Dirent d;
    uint32_t namlen;
    std::memcpy(&d.next, p + off, 8);
    std::memcpy(&d.ino, p + off + 8, 8);
    std::memcpy(&namlen, p + off + 16, 4);
    d.type = p[off + 20];
    if (used - off - kDirentSize < namlen) {
      *truncated = true;
      break;
    }
    d.name.assign(reinterpret_cast<const char*>(p + off + kDirentSize), namlen);
    off += kDirentSize + namlen;
    out.push_back(d);
  }
  return out;
}

TEST_P(FsHostTest, ReaddirCookiesAndTruncation) {
  const int kFiles = 40;
  for (int i = 0; i < kFiles; ++i) {
    std::string name("f");
    name.append(std::to_string(i));  // (not "f" + ...: GCC 12 -Wrestrict false positive)
    std::ofstream(root_ / "dir" / name);
  }
  fs::create_directories(root_ / "dir" / "subdir");
  make_host(false);
  uint32_t dir = 0;
  ASSERT_EQ(open(kPreopen, "dir", kOflagDirectory, kDirectoryRights, &dir), kSuccess);

  // Whole listing in one big buffer.
  ASSERT_EQ(host_->fd_readdir(mem(), dir, kBuf, 32768, 0, kOut), kSuccess);
  uint32_t used = load<uint32_t>(kOut);
  ASSERT_LT(used, 32768u);  // everything fit: bufused < buf_len
  bool truncated = false;
  std::vector<Dirent> all = parse_dirents(mem_.data() + kBuf, used, &truncated);
  EXPECT_FALSE(truncated);
  ASSERT_EQ(all.size(), static_cast<size_t>(kFiles + 3));  // + ".", "..", "subdir"
  std::map<std::string, Dirent> by_name;
  for (size_t i = 0; i < all.size(); ++i) {
    EXPECT_EQ(all[i].next, i + 1) << "cookie = position of the next entry";
    by_name[all[i].name] = all[i];
  }
  ASSERT_TRUE(by_name.count("."));
  ASSERT_TRUE(by_name.count(".."));
  EXPECT_EQ(by_name["."].type, kFiletypeDirectory);
  EXPECT_EQ(by_name[".."].type, kFiletypeDirectory);
  EXPECT_EQ(by_name["subdir"].type, kFiletypeDirectory);
  EXPECT_EQ(by_name["f7"].type, kFiletypeRegularFile);
  struct stat st {};
  ASSERT_EQ(::stat((root_ / "dir" / "f7").c_str(), &st), 0);
  EXPECT_EQ(by_name["f7"].ino, st.st_ino);
  ASSERT_EQ(::stat((root_ / "dir").c_str(), &st), 0);
  EXPECT_EQ(by_name["."].ino, st.st_ino);

  // Small buffers: entries are cut off (bufused == buf_len), and resuming from the last
  // complete entry's cookie yields the same sequence.
  for (uint32_t buf_len : {1u, 23u, 24u, 30u, 50u, 77u, 200u}) {
    std::vector<Dirent> got;
    uint64_t cookie = 0;
    uint32_t len = buf_len;
    for (int guard = 0; guard < 10000; ++guard) {
      std::memset(mem_.data() + kBuf, 0xAA, len + 8);
      ASSERT_EQ(host_->fd_readdir(mem(), dir, kBuf, len, cookie, kOut), kSuccess);
      used = load<uint32_t>(kOut);
      ASSERT_LE(used, len);
      EXPECT_EQ(mem_[kBuf + len], 0xAA) << "wrote past buf_len";
      auto part = parse_dirents(mem_.data() + kBuf, used, &truncated);
      if (truncated) {
        EXPECT_EQ(used, len) << "a cut-off entry fills the buffer";
      }
      for (auto& d : part) got.push_back(d);
      if (!part.empty()) cookie = part.back().next;
      if (used < len) break;  // end of directory
      if (part.empty()) len *= 2;  // not even one entry fits: grow
    }
    ASSERT_EQ(got.size(), all.size()) << "buf_len " << buf_len;
    for (size_t i = 0; i < all.size(); ++i) {
      EXPECT_EQ(got[i].name, all[i].name) << "buf_len " << buf_len << " entry " << i;
      EXPECT_EQ(got[i].next, all[i].next);
    }
  }

  // Resuming at an arbitrary earlier cookie (a rewind) works too.
  ASSERT_EQ(host_->fd_readdir(mem(), dir, kBuf, 32768, 10, kOut), kSuccess);
  auto tail = parse_dirents(mem_.data() + kBuf, load<uint32_t>(kOut), &truncated);
  ASSERT_EQ(tail.size(), all.size() - 10);
  EXPECT_EQ(tail[0].name, all[10].name);
  // A cookie past the end gives nothing.
  ASSERT_EQ(host_->fd_readdir(mem(), dir, kBuf, 32768, 1u << 30, kOut), kSuccess);
  EXPECT_EQ(load<uint32_t>(kOut), 0u);
}

// Threat: a path the kernel would read differently from the guest's string (a NUL cuts it
// short; invalid UTF-8 is not a WASI string). Each is EILSEQ, and nothing is created.
TEST_P(FsHostTest, PathsMustBeValidUtf8WithoutNul) {
  make_host(false);
  uint32_t fd = 0;
  const std::vector<std::string> bad = {
      std::string("file\0/../x", 10),  // NUL
      "caf\xC3",                         // truncated 2-byte sequence
      "\xC0\xAF",                        // overlong '/'
      "\xED\xA0\x80",                    // UTF-16 surrogate
      "\xF4\x90\x80\x80",                // above U+10FFFF
      "\xFFname",                        // invalid lead byte
  };
  for (const auto& p : bad) {
    EXPECT_EQ(open(kPreopen, p, kOflagCreat, kRightFdWrite, &fd), kEilseq) << testing::PrintToString(p);
    EXPECT_EQ(path_op1(&WasiHost::path_create_directory, p), kEilseq) << testing::PrintToString(p);
  }
  // Valid multi-byte names work.
  EXPECT_EQ(open(kPreopen, "caf\xC3\xA9-\xE2\x82\xAC-\xF0\x9F\x98\x80", kOflagCreat,
                 kRightFdWrite, &fd),
            kSuccess);
  size_t entries = 0;
  for (const auto& e : fs::directory_iterator(root_)) {
    (void)e;
    ++entries;
  }
  EXPECT_EQ(entries, 5u) << "file, dir, link_out, link_etc and the one valid new file";
}

// Every symlink beneath `root` whose target, resolved by the host (realpath semantics, as host
// software reading the workspace would), lies outside `root`. (Dangling links and loops resolve
// nowhere; the attacks below aim at a file that exists, top_/F.)
std::vector<std::string> links_leading_out(const fs::path& root) {
  std::vector<std::string> out;
  const fs::path croot = fs::canonical(root);
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(root, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (!it->is_symlink()) continue;
    std::error_code rec;
    fs::path real = fs::canonical(it->path(), rec);
    if (rec) continue;
    fs::path rel = real.lexically_relative(croot);
    if (rel.empty() || *rel.begin() == "..") {
      out.push_back(it->path().lexically_relative(root).string() + " -> " +
                    fs::read_symlink(it->path()).string() + " = " + real.string());
    }
  }
  return out;
}

// Threat (issue #10 item 10): leaving a symlink in the workspace that host software (a later
// `cat ws/link`) follows outside it. Each attack sequence runs in a fresh workspace; whatever
// each step returns, no symlink in the workspace may then lead out. The refusals are checked
// too, and descending links keep working.
TEST_P(FsHostTest, SymlinksNeverLeadOutForTheHost) {
  struct Attack {
    const char* name;
    void (*prepare)(const fs::path& ws);  // the operator's tree (may hold climbing links)
    void (*run)(FsHostTest& t);
  };
  static const Attack attacks[] = {
      {"move a climbing link up", [](const fs::path&) {},
       [](FsHostTest& t) {
         t.path_op1(&WasiHost::path_create_directory, "s");
         EXPECT_EQ(t.symlink("../F", "s/x"), kEperm);
         t.rename("s/x", "x");
       }},
      {"hard-link a climbing link up", [](const fs::path&) {},
       [](FsHostTest& t) {
         t.path_op1(&WasiHost::path_create_directory, "s");
         EXPECT_EQ(t.symlink("../F", "s/x"), kEperm);
         t.link("s/x", "x");
       }},
      {"chain two lexically fine links", [](const fs::path&) {},
       [](FsHostTest& t) {
         t.path_op1(&WasiHost::path_create_directory, "s");
         EXPECT_EQ(t.symlink("..", "s/x"), kEperm);
         EXPECT_EQ(t.symlink("s/x/../F", "y"), kEperm);
       }},
      {"move the operator's climbing link up",
       [](const fs::path& ws) {
         fs::create_directories(ws / "s");
         fs::create_symlink("..", ws / "s" / "up");  // -> ws: inside
       },
       [](FsHostTest& t) {
         EXPECT_EQ(t.rename("s/up", "up"), kEperm);
         EXPECT_EQ(t.link("s/up", "up2"), kEperm);
       }},
      {"move a directory holding the operator's climbing link up",
       [](const fs::path& ws) {
         fs::create_directories(ws / "d" / "e" / "f");
         fs::create_symlink("../..", ws / "d" / "e" / "f" / "up");  // -> ws/d: inside
       },
       [](FsHostTest& t) {
         EXPECT_EQ(t.rename("d/e/f", "f"), kEperm);  // f/up would be ws/f/../.. = outside
         EXPECT_EQ(t.rename("d", "d2"), kEperm);  // conservative: any move of such a tree
       }},
      {"swap an operator's climbing link in under a descending one",
       [](const fs::path& ws) {
         fs::create_directories(ws / "s");
         fs::create_symlink("..", ws / "s" / "up");
       },
       [](FsHostTest& t) {
         EXPECT_EQ(t.symlink("d/F", "y"), kSuccess);  // descends: fine by itself
         EXPECT_EQ(t.rename("s/up", "d"), kEperm);    // d -> .. from ws: y = ws/../F
       }},
  };
  for (const auto& a : attacks) {
    SCOPED_TRACE(a.name);
    fs::path ws = top_ / "ws";
    std::error_code ec;
    fs::remove_all(ws, ec);
    fs::create_directories(ws);
    std::ofstream(top_ / "F") << "outside";  // what the attacks aim at: ws/../F
    a.prepare(ws);
    ASSERT_TRUE(links_leading_out(ws).empty()) << "the starting tree already leads out";
    root_ = ws;
    make_host(false);
    a.run(*this);
    host_.reset();
    for (const auto& l : links_leading_out(ws)) ADD_FAILURE() << "leads out: " << l;
  }
}

// Descending links are unaffected: created, moved, hard-linked, and moved with a directory.
TEST_P(FsHostTest, DescendingSymlinksStayUsable) {
  make_host(false);
  ASSERT_EQ(symlink("file", "dir/../ok"), kSuccess);
  EXPECT_EQ(fs::read_symlink(root_ / "ok"), "file");
  EXPECT_EQ(rename("ok", "dir/ok2"), kSuccess);
  EXPECT_EQ(link("dir/ok2", "ok3"), kSuccess);
  EXPECT_EQ(symlink("sub/x", "dir/ok4"), kSuccess);
  EXPECT_EQ(rename("dir", "dir2"), kSuccess);
  EXPECT_EQ(fs::read_symlink(root_ / "dir2" / "ok2"), "file");
  EXPECT_EQ(fs::read_symlink(root_ / "ok3"), "file");
}

// An absolute target naming the link's own directory or an entry beneath it (`ln -s "$PWD/f"
// "$PWD/l"`, as scripts write) is stored in its descending form: the same entry for the guest,
// a target that cannot lead out for the host. Anything else absolute stays refused.
TEST_P(FsHostTest, AbsoluteTargetsBeneathTheLinkAreStoredDescending) {
  make_host(false, 1024, "/ws/top");
  EXPECT_EQ(symlink("/ws/top/file", "l1"), kSuccess);
  EXPECT_EQ(fs::read_symlink(root_ / "l1"), "file");
  EXPECT_EQ(symlink("/ws/top/dir/x", "dir/l2"), kSuccess);  // dangling is fine, as ln -s
  EXPECT_EQ(fs::read_symlink(root_ / "dir" / "l2"), "x");
  EXPECT_EQ(symlink("//ws/./top//dir/sub/", "./dir//l3"), kSuccess);
  EXPECT_EQ(fs::read_symlink(root_ / "dir" / "l3"), "sub/");
  EXPECT_EQ(symlink("/ws/top/dir", "dir/self"), kSuccess);
  EXPECT_EQ(fs::read_symlink(root_ / "dir" / "self"), ".");
  // The guest reads the link as stored, and follows it to the same entry.
  uint32_t n = put(kPath1, "l1");
  ASSERT_EQ(host_->path_readlink(mem(), kPreopen, kPath1, n, kBuf, 100, kOut), kSuccess);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(mem_.data() + kBuf), load<uint32_t>(kOut)),
            "file");
  uint32_t fd = 0;
  ASSERT_EQ(open(kPreopen, "l1", 0, kRightFdRead, &fd, kLookupSymlinkFollow), kSuccess);

  EXPECT_EQ(symlink("/ws/top/file", "dir/up"), kEperm);         // above the link's directory
  EXPECT_EQ(symlink("/ws/top/dir/../file", "dir/l4"), kEperm);  // `..`, wherever it leads
  EXPECT_EQ(symlink("/ws/top/dir/x", "dir/../dir/l5"), kEperm);  // `..` in the link's path
  EXPECT_EQ(symlink("/ws/other/file", "l6"), kEperm);           // another preopen's name
  EXPECT_EQ(symlink("/ws/topfile", "l7"), kEperm);              // a prefix, not a directory
  EXPECT_EQ(symlink("/ws", "l8"), kEperm);
  EXPECT_EQ(symlink("/etc/passwd", "l9"), kEperm);
  for (const char* l : {"dir/up", "dir/l4", "dir/l5", "l6", "l7", "l8", "l9"}) {
    EXPECT_FALSE(fs::is_symlink(root_ / l)) << l;
  }
  host_.reset();
  make_host(false);  // a preopen with a relative name: absolute targets name nothing in it
  EXPECT_EQ(symlink("/root/file", "l10"), kEperm);
  EXPECT_EQ(symlink("root/file", "l11"), kSuccess);  // (relative: descending, as written)
}

// Threat: a FIFO (or socket) in the tree blocking the host in open() or read(). Only regular
// files and directories can be opened.
TEST_P(FsHostTest, SpecialFilesCannotBeOpened) {
  ASSERT_EQ(::mkfifo((root_ / "fifo").c_str(), 0644), 0);
  make_host(false);
  uint32_t fd = 0;
  EXPECT_EQ(open(kPreopen, "fifo", 0, kRightFdRead, &fd), kEnotsup);
  EXPECT_EQ(open(kPreopen, "fifo", 0, kRightFdWrite, &fd), kEnotsup);
  EXPECT_EQ(open(kPreopen, "fifo", kOflagCreat, kRightFdWrite, &fd), kEnotsup);
  ASSERT_EQ(filestat("fifo", 0), kSuccess);  // still visible, just not openable
  EXPECT_EQ(open(kPreopen, "file", 0, kRightFdRead, &fd), kSuccess);
  EXPECT_EQ(open(kPreopen, "dir", kOflagDirectory, kRightFdReaddir, &fd), kSuccess);
}

INSTANTIATE_TEST_SUITE_P(Impl, FsHostTest,
                         ::testing::Values(ResolverImpl::kOpenat2, ResolverImpl::kFallback),
                         [](const ::testing::TestParamInfo<ResolverImpl>& i) {
                           return i.param == ResolverImpl::kOpenat2 ? std::string("Openat2")
                                                                    : std::string("Fallback");
                         });

}  // namespace
}  // namespace wasmcap

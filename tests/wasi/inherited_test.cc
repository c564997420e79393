// Descriptors an embedder passes a guest at its numbers (WasiConfig::inherited_fds, what
// `wasmcap sh` gives a tool for `tool 3<file`): where they and the preopens go, what the numbers
// in between answer, the rights each gets, and the refusals (docs/wasi-support.md "Inherited
// descriptors"). Driven directly through WasiHost with a host buffer as guest memory.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <tuple>

#include "wasi/host.h"

namespace wasmcap {
namespace {

namespace fs = std::filesystem;
using namespace wasi;

constexpr uint32_t kOut = 0;      // scalar results
constexpr uint32_t kPath = 1024;  // a path string
constexpr uint32_t kIov = 3072;   // one iovec
constexpr uint32_t kBuf = 4096;   // data
constexpr uint32_t kMemSize = 1 << 16;

class InheritedFdTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "wasmcap-inherited-test-XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    top_ = tmpl;
    fs::create_directories(top_ / "root");
    std::ofstream(top_ / "root" / "inside") << "inside";
    std::ofstream(top_ / "in.txt") << "from the embedder";
    mem_.assign(kMemSize, 0);
  }
  void TearDown() override {
    host_.reset();
    for (int fd : host_fds_) ::close(fd);
    std::error_code ec;
    fs::remove_all(top_, ec);
  }
  int host_open(const std::string& name, int flags) {
    int fd = ::open((top_ / name).c_str(), flags | O_CLOEXEC, 0644);
    EXPECT_GE(fd, 0) << name;
    host_fds_.push_back(fd);
    return fd;
  }
  static WasiConfig::InheritedFd inherit(uint32_t guest_fd, int host_fd, bool r, bool w) {
    WasiConfig::InheritedFd in;
    in.guest_fd = guest_fd;
    in.host_fd = host_fd;
    in.read = r;
    in.write = w;
    return in;
  }
  WasiConfig config(std::vector<WasiConfig::InheritedFd> in, int preopens = 1) {
    WasiConfig c;
    c.args = {"test"};
    for (int i = 0; i < preopens; ++i) {
      c.preopens.push_back({(top_ / "root").string(), "/p" + std::to_string(i), false});
    }
    c.inherited_fds = std::move(in);
    c.stdout_fd = -1;
    c.stderr_fd = -1;
    return c;
  }
  void make(WasiConfig c) {
    host_ = std::make_shared<WasiHost>(std::move(c));
    auto r = host_->init();
    ASSERT_TRUE(r) << r.error().message;
  }
  GuestMemory mem() { return GuestMemory(mem_.data(), mem_.size()); }
  uint32_t load32(uint32_t at) {
    uint32_t v;
    std::memcpy(&v, mem_.data() + at, 4);
    return v;
  }
  void iov(uint32_t len) {
    std::memcpy(mem_.data() + kIov, &kBuf, 4);
    std::memcpy(mem_.data() + kIov + 4, &len, 4);
  }
  Errno read(uint32_t fd, std::string* got) {
    iov(256);
    Errno r = host_->fd_read(mem(), fd, kIov, 1, kOut);
    if (r == kSuccess) got->assign(reinterpret_cast<char*>(mem_.data() + kBuf), load32(kOut));
    return r;
  }
  Errno write(uint32_t fd, const std::string& s) {
    std::memcpy(mem_.data() + kBuf, s.data(), s.size());
    iov(static_cast<uint32_t>(s.size()));
    return host_->fd_write(mem(), fd, kIov, 1, kOut);
  }
  // fd_prestat_get: the errno, and the preopen type it gave.
  Errno prestat(uint32_t fd, uint8_t* tag) {
    mem_[kOut] = 0xff;
    Errno r = host_->fd_prestat_get(mem(), fd, kOut);
    *tag = mem_[kOut];
    return r;
  }
  std::string slurp(const std::string& name) {
    std::ifstream f(top_ / name);
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
  }

  fs::path top_;
  std::vector<uint8_t> mem_;
  std::vector<int> host_fds_;
  std::shared_ptr<WasiHost> host_;
};

// Each inherited descriptor at its number, every other number up to the highest closed, the
// preopens after the highest. A libc's preopen scan (fd_prestat_get from 3 until EBADF) goes
// through the numbers below the preopens (success, type 1: not a directory) and finds both
// preopens.
TEST_F(InheritedFdTest, PreopensFollowTheHighestAndTheNumbersBelowAreTheEmbedders) {
  make(config({inherit(5, host_open("in.txt", O_RDONLY), true, false), inherit(8, -1, true, true)},
              2));
  std::string got;
  ASSERT_EQ(read(5, &got), kSuccess);
  EXPECT_EQ(got, "from the embedder");
  for (uint32_t fd : {3u, 4u, 6u, 7u}) {
    EXPECT_EQ(read(fd, &got), kEbadf) << fd;  // not opened by the embedder: closed
    EXPECT_EQ(host_->fd_fdstat_get(mem(), fd, kOut), kEbadf) << fd;
  }
  // The scan, as wasi-libc does it.
  uint8_t tag = 0;
  for (uint32_t fd = 3; fd <= 8; ++fd) {
    EXPECT_EQ(prestat(fd, &tag), kSuccess) << fd;
    EXPECT_EQ(tag, kPreopentypeNotDir) << fd;
    EXPECT_EQ(host_->fd_prestat_dir_name(mem(), fd, kPath, 64), kEbadf) << fd;
  }
  for (uint32_t fd : {9u, 10u}) {
    ASSERT_EQ(prestat(fd, &tag), kSuccess) << fd;
    EXPECT_EQ(tag, kPreopentypeDir) << fd;
    ASSERT_EQ(host_->fd_prestat_dir_name(mem(), fd, kPath, 3), kSuccess);
    EXPECT_EQ(std::string(reinterpret_cast<char*>(mem_.data() + kPath), 3),
              "/p" + std::to_string(fd - 9));
  }
  EXPECT_EQ(prestat(11, &tag), kEbadf);  // the scan ends after the last preopen
  // A file the guest opens takes the lowest free number, as on POSIX.
  std::memcpy(mem_.data() + kPath, "inside", 6);
  ASSERT_EQ(host_->path_open(mem(), 9, 0, kPath, 6, 0, kRightFdRead, 0, 0, kOut), kSuccess);
  EXPECT_EQ(load32(kOut), 3u);
}

TEST_F(InheritedFdTest, WithoutInheritedDescriptorsPreopensStartAtThree) {
  make(config({}, 2));
  uint8_t tag = 0;
  ASSERT_EQ(prestat(3, &tag), kSuccess);
  EXPECT_EQ(tag, kPreopentypeDir);
  ASSERT_EQ(prestat(4, &tag), kSuccess);
  EXPECT_EQ(tag, kPreopentypeDir);
  EXPECT_EQ(prestat(5, &tag), kEbadf);
}

// Rights follow the access given: read-only cannot write, truncate or set times; write-only
// cannot read; the file offset is shared with the embedder's descriptor.
TEST_F(InheritedFdTest, RightsAreTheAccessGiven) {
  std::ofstream(top_ / "out.txt") << "";
  int ro = host_open("in.txt", O_RDONLY);
  int wo = host_open("out.txt", O_WRONLY);
  make(config({inherit(3, ro, true, false), inherit(4, wo, false, true)}));
  EXPECT_EQ(write(3, "x"), kEnotcapable);
  EXPECT_EQ(host_->fd_filestat_set_size(mem(), 3, 0), kEnotcapable);
  EXPECT_EQ(host_->fd_filestat_set_times(mem(), 3, 0, 0, 0), kEnotcapable);
  std::string got;
  EXPECT_EQ(read(4, &got), kEnotcapable);
  ASSERT_EQ(write(4, "written"), kSuccess);
  EXPECT_EQ(slurp("out.txt"), "written");
  EXPECT_EQ(::lseek(wo, 0, SEEK_CUR), 7);  // one open file, one offset
  EXPECT_EQ(slurp("in.txt"), "from the embedder");
}

TEST_F(InheritedFdTest, TheNullDeviceReadsEofAndDiscardsWrites) {
  make(config({inherit(3, -1, true, true)}));
  std::string got = "x";
  ASSERT_EQ(read(3, &got), kSuccess);
  EXPECT_EQ(got, "");
  EXPECT_EQ(write(3, "gone"), kSuccess);
  EXPECT_EQ(load32(kOut), 4u);
}

// A pipe passed for writing (a shell's `>(list)`): the guest's writes reach the reader, in
// PIPE_BUF pieces when large (all of it arrives); it has no read right; once the reader has
// left a write is EPIPE, an error the guest sees (not the end of the run).
TEST_F(InheritedFdTest, APipeToWriteTakesTheGuestsWritesUntilItsReaderLeaves) {
  int p[2];
  ASSERT_EQ(::pipe2(p, O_CLOEXEC), 0);
  make(config({inherit(3, p[1], false, true)}));
  ::close(p[1]);
  EXPECT_EQ(write(3, "to the list"), kSuccess);
  EXPECT_EQ(load32(kOut), 11u);
  std::string big(10000, 'x');
  EXPECT_EQ(write(3, big), kSuccess);
  EXPECT_EQ(load32(kOut), 10000u);
  std::string got(20000, '\0');
  size_t n = 0;
  while (n < 10011) {
    ssize_t k = ::read(p[0], got.data() + n, got.size() - n);
    ASSERT_GT(k, 0);
    n += static_cast<size_t>(k);
  }
  EXPECT_EQ(got.substr(0, 11), "to the list");
  EXPECT_EQ(got.substr(11, 10000), big);
  std::string ignored;
  EXPECT_EQ(read(3, &ignored), kEnotcapable);  // no read right
  ::close(p[0]);
  EXPECT_EQ(write(3, "gone"), kEpipe);
}

// Stdout on a pipe is written through a non-blocking description of the host's own (so a
// stalled reader cannot hold the run past its deadline: CliRun.AStalledStdoutPipeEndsAtTheDeadline):
// the embedder's description keeps its flags (no O_NONBLOCK appears on it), and a write larger
// than the pipe's buffer arrives whole and in order while the reader drains it.
TEST_F(InheritedFdTest, StdoutOnAPipeKeepsTheEmbeddersFlagsAndArrivesWhole) {
  int p[2];
  ASSERT_EQ(::pipe2(p, O_CLOEXEC), 0);
  host_fds_.push_back(p[0]);
  host_fds_.push_back(p[1]);
  const int before = ::fcntl(p[1], F_GETFL);
  auto c = config({});
  c.stdout_fd = p[1];
  make(c);
  std::string got;
  std::thread reader([&] {
    char buf[4096];
    while (got.size() < 200000) {
      ssize_t k = ::read(p[0], buf, sizeof buf);
      if (k <= 0) break;
      got.append(buf, static_cast<size_t>(k));
    }
  });
  std::string big;
  for (int i = 0; big.size() < 200000; ++i) big += std::to_string(i) + "\n";
  big.resize(200000);
  uint32_t at = 0;
  while (at < big.size()) {  // the test's memory holds one 64 KiB write at a time
    uint32_t n = std::min<uint32_t>(static_cast<uint32_t>(big.size()) - at, 60000);
    std::string part = big.substr(at, n);
    ASSERT_EQ(write(1, part), kSuccess);
    at += load32(kOut);
  }
  reader.join();
  EXPECT_EQ(got, big);
  EXPECT_EQ(::fcntl(p[1], F_GETFL), before);
  EXPECT_EQ(before & O_NONBLOCK, 0);
}

TEST_F(InheritedFdTest, RefusesBadNumbersDuplicatesAndNonFiles) {
  int f = host_open("in.txt", O_RDONLY);
  for (uint32_t n : {0u, 2u, 64u}) {
    WasiConfig c = config({inherit(n, f, true, false)});
    c.max_fds = 64;
    WasiHost h(std::move(c));
    EXPECT_FALSE(h.init()) << n;
  }
  {
    WasiHost h(config({inherit(3, f, true, false), inherit(3, f, true, false)}));
    auto r = h.init();
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().message.find("inherited twice"), std::string::npos);
  }
  int p[2];
  ASSERT_EQ(::pipe2(p, O_CLOEXEC), 0);
  host_fds_.push_back(p[0]);
  host_fds_.push_back(p[1]);
  // A pipe is passed one way (a shell's `<(list)` to read, `>(list)` to write), never both.
  EXPECT_TRUE(WasiHost(config({inherit(3, p[0], true, false)})).init());
  EXPECT_TRUE(WasiHost(config({inherit(3, p[1], false, true)})).init());
  for (auto [fd, r, w] : {std::tuple{p[0], true, true}, std::tuple{p[1], true, true}}) {
    WasiHost h(config({inherit(3, fd, r, w)}));
    auto res = h.init();
    ASSERT_FALSE(res);
    EXPECT_NE(res.error().message.find("not a regular file (nor a pipe passed for reading or "
                                       "for writing)"),
              std::string::npos);
  }
  // The preopens after the highest inherited number still count against max_fds.
  WasiConfig c = config({inherit(62, f, true, false)}, 2);
  c.max_fds = 64;
  WasiHost h(std::move(c));
  auto r = h.init();
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("max_fds"), std::string::npos);
}

}  // namespace
}  // namespace wasmcap

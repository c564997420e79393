// The write budget (wasmcap/wasi.h WriteBudget, charged in src/wasi/core.cc and files.cc): what a
// guest's writes may add to the host's filesystems. Driven through Core (what every binding calls)
// and once through the Preview 1 binding (ENOSPC at the ABI). Each rule here was checked to fail
// with its charge removed.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "wasi/core.h"
#include "wasi/host.h"

namespace wasmcap::wasi {
namespace {

namespace fs = std::filesystem;

class WriteBudgetTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "wasmcap-budget-XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    root_ = tmpl;
    std::ofstream(root_ / "file") << "0123456789";  // the operator's: 10 bytes, not charged
  }
  void TearDown() override {
    core_.reset();
    std::error_code ec;
    fs::remove_all(root_, ec);
  }
  Core& make(uint64_t max_bytes, uint64_t max_entries = kDefaultMaxWriteEntries,
             std::shared_ptr<WriteBudget> shared = nullptr) {
    WasiConfig c;
    c.preopens.push_back({root_.string(), "root", false});
    c.stdout_fd = -1;
    c.stderr_fd = -1;
    c.max_write_bytes = max_bytes;
    c.max_write_entries = max_entries;
    c.write_budget = std::move(shared);
    core_ = std::make_unique<Core>(std::move(c));
    EXPECT_TRUE(core_->init());
    return *core_;
  }
  OpenDescription& root() { return *core_->preopens().at(0); }
  PathAt at(const std::string& path) {
    auto p = core_->resolve_at(root(), path, Final::kEntry);
    EXPECT_TRUE(p.has_value()) << path;
    return p ? std::move(*p) : PathAt{};
  }
  DescriptionRef open(const std::string& path, bool create = false, bool append = false) {
    OpenRequest req;
    req.create = create;
    req.read = true;
    req.write = true;
    req.flags.append = append;
    auto f = core_->open_at(root(), path, req);
    EXPECT_TRUE(f.has_value()) << path << ": " << (f ? "" : errc_name(f.error()));
    return f ? *f : nullptr;
  }
  static std::vector<IoSlice> slices(std::string& s) {
    return {{reinterpret_cast<uint8_t*>(s.data()), static_cast<uint32_t>(s.size())}};
  }
  uint64_t size_of(const std::string& path) { return fs::file_size(root_ / path); }

  fs::path root_;
  std::unique_ptr<Core> core_;
};

// Overwriting is free; growth is charged; a write that does not all fit writes what fits (as on
// a full disk) and the next one is ENOSPC.
TEST_F(WriteBudgetTest, WritesPastTheEndAreChargedAndCutWhereTheBudgetEnds) {
  Core& c = make(6);
  auto f = open("file");
  ASSERT_TRUE(f);
  std::string over = "abcdefghij";  // 10 bytes over the 10 that exist: free
  ASSERT_EQ(c.write(*f, slices(over)).value_or(0), 10u);
  EXPECT_EQ(c.write_budget().bytes_used(), 0u);
  EXPECT_EQ(c.write_budget().refusals(), 0u);
  std::string more(10, 'x');  // 10 past the end, a budget of 6
  auto n = c.write(*f, slices(more));
  ASSERT_TRUE(n);
  EXPECT_EQ(*n, 6u);
  EXPECT_EQ(size_of("file"), 16u);
  EXPECT_EQ(c.write_budget().bytes_used(), 6u);
  EXPECT_GT(c.write_budget().refusals(), 0u);
  auto none = c.write(*f, slices(more));
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error(), Errc::kInsufficientSpace);
  EXPECT_EQ(size_of("file"), 16u);
  // Below the size it is still free.
  std::string head = "ZZ";
  EXPECT_EQ(c.pwrite(*f, slices(head), 0).value_or(0), 2u);
  // Appends grow at the end, whatever the position.
  auto app = open("file", false, true);
  EXPECT_EQ(c.write(*app, slices(head)).error(), Errc::kInsufficientSpace);
  EXPECT_EQ(c.pwrite(*app, slices(head), 0).error(), Errc::kInsufficientSpace);
  EXPECT_EQ(size_of("file"), 16u);
}

// Threat: a sparse file. A pwrite far past the end is charged the whole extension, hole
// included: nothing is written when the extension does not fit.
TEST_F(WriteBudgetTest, APwriteFarPastTheEndIsChargedTheWholeExtension) {
  Core& c = make(1 << 20);
  auto f = open("file");
  std::string x = "x";
  auto n = c.pwrite(*f, slices(x), 1ull << 40);  // at 1 TiB
  ASSERT_FALSE(n);
  EXPECT_EQ(n.error(), Errc::kInsufficientSpace);
  EXPECT_EQ(size_of("file"), 10u);
  EXPECT_EQ(c.write_budget().bytes_used(), 0u);  // the refused reservation is returned
  // A hole that fits is charged as the bytes it adds.
  ASSERT_EQ(c.pwrite(*f, slices(x), 1000).value_or(0), 1u);
  EXPECT_EQ(c.write_budget().bytes_used(), 991u);
  // Seeking past the end and writing is the same.
  ASSERT_TRUE(c.seek(*f, 1ull << 30, SeekFrom::kSet));
  EXPECT_EQ(c.write(*f, slices(x)).error(), Errc::kInsufficientSpace);
  EXPECT_EQ(size_of("file"), 1001u);
}

TEST_F(WriteBudgetTest, SetSizeAndAllocateGrowthIsCharged) {
  Core& c = make(100);
  auto f = open("file");
  EXPECT_EQ(c.set_size(*f, 5), Errc::kOk);  // shrinking is free (and gives nothing back)
  EXPECT_EQ(c.write_budget().bytes_used(), 0u);
  EXPECT_EQ(c.set_size(*f, 1ull << 40), Errc::kInsufficientSpace);
  EXPECT_EQ(size_of("file"), 5u);
  EXPECT_EQ(c.set_size(*f, 65), Errc::kOk);
  EXPECT_EQ(c.write_budget().bytes_used(), 60u);
  EXPECT_EQ(c.set_size(*f, 10), Errc::kOk);
  EXPECT_EQ(c.write_budget().bytes_used(), 60u);  // no refund: see wasi.h WriteBudget
  EXPECT_EQ(c.allocate(*f, 0, 10), Errc::kOk);    // within the size: no growth
  EXPECT_EQ(c.allocate(*f, 0, 1ull << 40), Errc::kInsufficientSpace);
  EXPECT_EQ(size_of("file"), 10u);
  Errc a = c.allocate(*f, 10, 40);
  if (a != Errc::kUnsupported) {  // tmpfs and ext4 preallocate; some filesystems cannot
    EXPECT_EQ(a, Errc::kOk);
    EXPECT_EQ(c.write_budget().bytes_used(), 100u);
    EXPECT_EQ(size_of("file"), 50u);
  }
  EXPECT_GT(c.write_budget().refusals(), 0u);
}

// Threat: millions of empty files (or directories, symlinks, hard links) filling the host's
// inodes. Each new entry counts against max_write_entries and costs kEntryBytes; an existing
// file opened with create does not.
TEST_F(WriteBudgetTest, NewEntriesAreCountedAndCostBytes) {
  Core& c = make(UINT64_MAX, 4);
  EXPECT_TRUE(open("a", true));
  EXPECT_TRUE(open("a", true));     // exists: free
  EXPECT_TRUE(open("file", true));  // the operator's: free
  EXPECT_EQ(c.create_directory(at("d")), Errc::kOk);
  EXPECT_EQ(c.symlink("a", root(), at("s")), Errc::kOk);
  EXPECT_EQ(c.link(at("a"), at("h")), Errc::kOk);
  EXPECT_EQ(c.write_budget().entries_used(), 4u);
  EXPECT_EQ(c.write_budget().bytes_used(), 4 * WriteBudget::kEntryBytes);
  EXPECT_EQ(c.write_budget().refusals(), 0u);
  OpenRequest create;
  create.create = true;
  create.write = true;
  EXPECT_EQ(c.open_at(root(), "b", create).error(), Errc::kInsufficientSpace);
  EXPECT_EQ(c.create_directory(at("d2")), Errc::kInsufficientSpace);
  EXPECT_EQ(c.symlink("a", root(), at("s2")), Errc::kInsufficientSpace);
  EXPECT_EQ(c.link(at("a"), at("h2")), Errc::kInsufficientSpace);
  for (const char* n : {"b", "d2", "s2", "h2"}) EXPECT_FALSE(fs::exists(root_ / n)) << n;
  EXPECT_GT(c.write_budget().refusals(), 0u);
  // Unlinking gives nothing back (wasi.h WriteBudget says why).
  EXPECT_EQ(c.unlink_file(at("h")), Errc::kOk);
  EXPECT_EQ(c.create_directory(at("d2")), Errc::kInsufficientSpace);
  // A create that fails for another reason returns its reservation.
  Core& d = make(UINT64_MAX, 1);
  EXPECT_EQ(d.create_directory(at("file")), Errc::kExist);
  EXPECT_EQ(d.symlink("x", root(), at("file")), Errc::kExist);
  EXPECT_EQ(d.write_budget().entries_used(), 0u);
  EXPECT_EQ(d.create_directory(at("fits")), Errc::kOk);
}

// The entries' bytes come out of the byte budget too: empty files alone can spend it.
TEST_F(WriteBudgetTest, EntriesSpendTheByteBudget) {
  Core& c = make(2 * WriteBudget::kEntryBytes + 5);
  EXPECT_TRUE(open("a", true));
  EXPECT_TRUE(open("b", true));
  OpenRequest create;
  create.create = true;
  create.write = true;
  EXPECT_EQ(c.open_at(root(), "c", create).error(), Errc::kInsufficientSpace);
  EXPECT_EQ(c.write_budget().entries_used(), 2u);  // the refused entry is not counted
  auto f = open("a");
  std::string text(10, 'y');
  EXPECT_EQ(c.write(*f, slices(text)).value_or(0), 5u);
}

// One budget shared by several runs (a shell session's tools): a new Core does not reset it, and
// runs on several threads at once never overspend it.
TEST_F(WriteBudgetTest, ASharedBudgetSpansRunsAndThreads) {
  auto shared = std::make_shared<WriteBudget>(10, UINT64_MAX);
  {
    Core& c = make(UINT64_MAX, UINT64_MAX, shared);
    auto f = open("file");
    std::string text(8, 'z');
    ASSERT_TRUE(c.pwrite(*f, slices(text), 10));
  }
  Core& c = make(UINT64_MAX, UINT64_MAX, shared);
    auto f = open("file");
  std::string text(8, 'z');
  EXPECT_EQ(c.pwrite(*f, slices(text), 18).value_or(0), 2u);
  EXPECT_EQ(shared->bytes_used(), 10u);
  EXPECT_EQ(size_of("file"), 20u);

  WriteBudget b(1000000, 1000);
  std::vector<std::thread> ts;
  std::atomic<uint64_t> got{0}, entries{0};
  for (int t = 0; t < 4; ++t) {
    ts.emplace_back([&] {
      for (int i = 0; i < 100000; ++i) got += b.take_bytes(7);
      for (int i = 0; i < 1000; ++i) entries += b.take_entry() ? 1 : 0;
    });
  }
  for (auto& t : ts) t.join();
  EXPECT_EQ(got.load() + entries.load() * WriteBudget::kEntryBytes, b.bytes_used());
  EXPECT_LE(b.bytes_used(), 1000000u);
  EXPECT_GT(b.refusals(), 0u);
}

// At the ABI: Preview 1's fd_write answers ENOSPC, after a partial write of what fits.
TEST_F(WriteBudgetTest, PreviewOneSeesEnospc) {
  WasiConfig c;
  c.preopens.push_back({root_.string(), "root", false});
  c.stdout_fd = -1;
  c.stderr_fd = -1;
  c.max_write_bytes = 4;
  auto host = std::make_shared<WasiHost>(std::move(c));
  ASSERT_TRUE(host->init());
  std::vector<uint8_t> mem(4096, 0);
  GuestMemory m(mem.data(), mem.size());
  const char path[] = "file";
  std::memcpy(mem.data() + 100, path, 4);
  ASSERT_EQ(host->path_open(m, 3, 0, 100, 4, 0, kAllRights, kAllRights, kFdflagAppend, 0),
            kSuccess);
  uint32_t fd = 0;
  std::memcpy(&fd, mem.data(), 4);
  const uint32_t iov[2] = {200, 10};
  std::memcpy(mem.data() + 300, iov, sizeof iov);
  ASSERT_EQ(host->fd_write(m, fd, 300, 1, 8), kSuccess);
  uint32_t n = 0;
  std::memcpy(&n, mem.data() + 8, 4);
  EXPECT_EQ(n, 4u);
  EXPECT_EQ(host->fd_write(m, fd, 300, 1, 8), kEnospc);
  EXPECT_EQ(size_of("file"), 14u);
}

}  // namespace
}  // namespace wasmcap::wasi

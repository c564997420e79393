// Shadow workspaces (docs/workspace.md), continued from workspace_test.cc: apply acting on
// descriptors (issue 28), wasmcap's own state dirs, SOURCE's identity, sparse files and the
// size bound, what the reviewer sees and what lands, the line diff, plans and the CLI.
#include <sys/stat.h>

#include <cstdio>

#include "workspace_fixture.h"

using namespace wasmcap;
using namespace wasmcap::workspace_test;

namespace {

// --- issue 28: apply acts on descriptors, never on paths a link can redirect -------------------

struct HookState {
  std::string at;                      // the change's path the hook acts on
  std::function<void()> act;           // what it does there (once)
  bool fired = false;
};
void run_hook(const std::string& path, void* arg) {
  auto* h = static_cast<HookState*>(arg);
  if (!h->fired && path == h->at) {
    h->fired = true;
    h->act();
  }
}
struct HookGuard {
  explicit HookGuard(HookState* h) { set_apply_write_hook_for_testing(&run_hook, h); }
  ~HookGuard() { set_apply_write_hook_for_testing(nullptr, nullptr); }
};

mode_t mode_of(const fs::path& p) {
  struct stat st;
  EXPECT_EQ(::lstat(p.c_str(), &st), 0) << p;
  return st.st_mode & 07777;
}

// A mode-only change: after every check, a symlink to an outside 0600 file is renamed over the
// file in SOURCE (deterministically, through the test hook). fchmodat(parent, leaf, mode, 0)
// followed it and made the outside file 0755; apply must refuse and leave it alone.
TEST_F(Fixture, ApplyModeChangeNeverFollowsASymlinkSwappedIn) {
  TempDir outside;
  write_text(outside.path() / "secret", "s3cret\n");
  ::chmod((outside.path() / "secret").c_str(), 0600);
  ::chmod((src() / "a.txt").c_str(), 0644);
  Info i = make();
  ::chmod((fs::path(i.tree) / "a.txt").c_str(), 0755);
  HookState h;
  h.at = "a.txt";
  h.act = [&] {
    fs::create_symlink(outside.path() / "secret", src() / ".swap");
    fs::rename(src() / ".swap", src() / "a.txt");
  };
  HookGuard g(&h);
  auto r = workspace::apply(home(), "w1");
  ASSERT_TRUE(h.fired);
  ASSERT_FALSE(r) << "the chmod went through the link";
  EXPECT_EQ(r.error().code, ErrorCode::kWorkspaceConflict);
  EXPECT_NE(r.error().message.find("replaced in SOURCE during apply"), std::string::npos)
      << r.error().message;
  EXPECT_EQ(mode_of(outside.path() / "secret"), 0600u);
  EXPECT_TRUE(fs::is_symlink(src() / "a.txt"));  // left as the attacker put it, not followed
}

// The same swap with a regular file (another inode, e.g. a hard link to an outside file) is
// refused too: the chmod acts on the inode that was checked, or on nothing.
TEST_F(Fixture, ApplyModeChangeActsOnlyOnTheCheckedInode) {
  TempDir outside;
  write_text(outside.path() / "other", "one\ntwo\nthree\n");
  ::chmod((outside.path() / "other").c_str(), 0600);
  Info i = make();
  ::chmod((fs::path(i.tree) / "a.txt").c_str(), 0750);
  HookState h;
  h.at = "a.txt";
  h.act = [&] {
    ASSERT_EQ(::link((outside.path() / "other").c_str(), (src() / ".swap").c_str()), 0);
    fs::rename(src() / ".swap", src() / "a.txt");
  };
  HookGuard g(&h);
  auto r = workspace::apply(home(), "w1");
  ASSERT_TRUE(h.fired);
  ASSERT_FALSE(r);
  EXPECT_EQ(mode_of(outside.path() / "other"), 0600u);
}

// Keep holding: SOURCE's files hard-linked to files outside it. A content change replaces the
// entry (rename), a mode change on a hard-linked file replaces it too: the outside file keeps
// its content and mode.
TEST_F(Fixture, ApplyNeverWritesThroughAHardLink) {
  TempDir outside;
  write_text(outside.path() / "x", "one\ntwo\nthree\n");
  write_text(outside.path() / "y", "bee\n");
  ::chmod((outside.path() / "x").c_str(), 0640);
  ::chmod((outside.path() / "y").c_str(), 0640);
  fs::remove(src() / "a.txt");
  fs::remove(src() / "sub/b.txt");
  ASSERT_EQ(::link((outside.path() / "x").c_str(), (src() / "a.txt").c_str()), 0);
  ASSERT_EQ(::link((outside.path() / "y").c_str(), (src() / "sub/b.txt").c_str()), 0);
  Info i = make();
  ::chmod((fs::path(i.tree) / "a.txt").c_str(), 0755);        // mode only
  write_text(fs::path(i.tree) / "sub/b.txt", "changed\n");  // content
  auto r = workspace::apply(home(), "w1");
  ASSERT_TRUE(r) << r.error().to_string();
  ASSERT_TRUE(r->conflicts.empty()) << r->conflicts[0].reason;
  EXPECT_EQ(mode_of(src() / "a.txt"), 0755u);
  EXPECT_EQ(read_text(src() / "a.txt"), "one\ntwo\nthree\n");
  EXPECT_EQ(read_text(src() / "sub/b.txt"), "changed\n");
  EXPECT_EQ(mode_of(outside.path() / "x"), 0640u);
  EXPECT_EQ(read_text(outside.path() / "y"), "bee\n");
  EXPECT_EQ(mode_of(outside.path() / "y"), 0640u);
}

// A content change whose target is swapped for a symlink during apply: the rename replaces
// the link, the link's target is never written.
TEST_F(Fixture, ApplyWriteReplacesASymlinkSwappedIn) {
  TempDir outside;
  write_text(outside.path() / "secret", "s3cret\n");
  Info i = make();
  write_text(fs::path(i.tree) / "a.txt", "mine\n");
  HookState h;
  h.at = "a.txt";
  h.act = [&] {
    fs::remove(src() / "a.txt");
    fs::create_symlink(outside.path() / "secret", src() / "a.txt");
  };
  HookGuard g(&h);
  auto r = workspace::apply(home(), "w1");
  ASSERT_TRUE(h.fired);
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ(read_text(outside.path() / "secret"), "s3cret\n");
  EXPECT_FALSE(fs::is_symlink(src() / "a.txt"));
  EXPECT_EQ(read_text(src() / "a.txt"), "mine\n");
}

// --- wasmcap's own state ----------------------------------------------------------------------

// Sets (or, with nullptr, unsets) environment variables for one test and restores them after.
class ScopedEnv {
 public:
  void set(const char* name, const char* value) {
    const char* old = std::getenv(name);
    saved_.push_back({name, old != nullptr, old != nullptr ? old : ""});
    if (value != nullptr) {
      ::setenv(name, value, 1);
    } else {
      ::unsetenv(name);
    }
  }
  ~ScopedEnv() {
    for (auto it = saved_.rbegin(); it != saved_.rend(); ++it) {
      if (it->had) {
        ::setenv(it->name.c_str(), it->value.c_str(), 1);
      } else {
        ::unsetenv(it->name.c_str());
      }
    }
  }

 private:
  struct Saved {
    std::string name;
    bool had;
    std::string value;
  };
  std::vector<Saved> saved_;
};

bool has_conflict(const ApplyResult& r, const std::string& path, const std::string& needle) {
  for (const auto& c : r.conflicts) {
    if (c.path == path && c.reason.find(needle) != std::string::npos) return true;
  }
  return false;
}

std::string conflicts_of(const ApplyResult& r) {
  std::string out;
  for (const auto& c : r.conflicts) out += c.path + ": " + c.reason + "\n";
  return out;
}

// SOURCE holds the cache ($XDG_CACHE_HOME/wasmcap: AOT objects, validation records) and
// WASMCAP_HOME (trust keys): create leaves both out and diff shows nothing for them; what a
// tool then writes at their places in the tree is refused by apply, with every other change,
// and nothing lands (it used to: the forged object was written into the real cache, where the
// next run dlopens it).
TEST_F(Fixture, StateDirsInSourceAreLeftOutAndNeverApplied) {
  ScopedEnv env;
  env.set("WASMCAP_CACHE_DIR", nullptr);
  env.set("XDG_CACHE_HOME", (src() / "cache").c_str());
  write_text(src() / "cache/wasmcap/aot/obj.so", "real object\n");
  write_text(src() / "cache/other/keep.txt", "not wasmcap's\n");
  write_text(src() / "wh/trust/operator.pub", "operator key\n");
  const std::string wh = (src() / "wh").string();
  auto info = create(wh, src().string(), "w1");
  ASSERT_TRUE(info) << info.error().to_string();
  EXPECT_EQ(info->left_out, (std::vector<std::string>{"cache/wasmcap", "wh"}));
  fs::path t = info->tree;
  EXPECT_FALSE(fs::exists(t / "cache/wasmcap"));
  EXPECT_FALSE(fs::exists(t / "wh"));
  EXPECT_EQ(read_text(t / "cache/other/keep.txt"), "not wasmcap's\n");
  auto d0 = diff(wh, "w1");
  ASSERT_TRUE(d0) << d0.error().to_string();
  EXPECT_TRUE(d0->changes.empty()) << render_diff_text(*d0);
  EXPECT_EQ(open(wh, "w1")->left_out, info->left_out);  // recorded in the snapshot

  write_text(t / "cache/wasmcap/aot/obj.so", "forged native code\n");
  write_text(t / "cache/wasmcap/aot/new.so", "forged native code\n");
  write_text(t / "wh/trust/attacker.pub", "attacker key\n");
  write_text(t / "a.txt", "legit change\n");
  auto r = workspace::apply(wh, "w1");
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_TRUE(has_conflict(*r, "cache/wasmcap/aot/new.so", "cache")) << conflicts_of(*r);
  EXPECT_TRUE(has_conflict(*r, "cache/wasmcap/aot/obj.so", "never writes")) << conflicts_of(*r);
  EXPECT_TRUE(has_conflict(*r, "wh/trust/attacker.pub", "WASMCAP_HOME")) << conflicts_of(*r);
  EXPECT_EQ(read_text(src() / "cache/wasmcap/aot/obj.so"), "real object\n");
  EXPECT_FALSE(fs::exists(src() / "cache/wasmcap/aot/new.so"));
  EXPECT_FALSE(fs::exists(src() / "wh/trust/attacker.pub"));
  EXPECT_EQ(read_text(src() / "a.txt"), "one\ntwo\nthree\n");  // the whole change set refused
  // In another environment (the cache elsewhere), what create left out is still refused: the
  // snapshot records it.
  env.set("XDG_CACHE_HOME", (tmp.path() / "elsewhere").c_str());
  auto r2 = workspace::apply(wh, "w1");
  ASSERT_TRUE(r2) << r2.error().to_string();
  EXPECT_TRUE(has_conflict(*r2, "cache/wasmcap/aot/new.so", "left out")) << conflicts_of(*r2);
  EXPECT_FALSE(fs::exists(src() / "cache/wasmcap/aot/new.so"));
  EXPECT_EQ(read_text(src() / "a.txt"), "one\ntwo\nthree\n");
}

// The cache is named only after create (a workspace made before this rule, or in another
// environment), through a symlinked spelling of SOURCE: apply compares identities, so the
// forged object is refused though the tree holds a copy of the cache, and nothing lands. The
// change sorted before it (a.txt) shows that the check comes before any write.
TEST_F(Fixture, ApplyRefusesStateDirsNamedAfterCreateThroughASymlink) {
  write_text(src() / "cache/wasmcap/aot/obj.so", "real object\n");
  Info i = make();  // the cache is elsewhere at create: copied like anything else
  ASSERT_TRUE(i.left_out.empty());
  fs::path t = i.tree;
  write_text(t / "a.txt", "legit change\n");
  write_text(t / "cache/wasmcap/aot/obj.so", "forged native code\n");
  write_text(t / "cache/wasmcap/aot/new.so", "forged native code\n");
  fs::create_directory_symlink(src(), tmp.path() / "link");
  ScopedEnv env;
  env.set("WASMCAP_CACHE_DIR", nullptr);
  env.set("XDG_CACHE_HOME", (tmp.path() / "link/cache").c_str());
  auto r = workspace::apply(home(), "w1");
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_TRUE(has_conflict(*r, "cache/wasmcap/aot/new.so", "link/cache/wasmcap"))
      << conflicts_of(*r);
  EXPECT_TRUE(has_conflict(*r, "cache/wasmcap/aot/obj.so", "cache")) << conflicts_of(*r);
  EXPECT_FALSE(has_conflict(*r, "a.txt", "")) << conflicts_of(*r);
  EXPECT_EQ(read_text(src() / "cache/wasmcap/aot/obj.so"), "real object\n");
  EXPECT_FALSE(fs::exists(src() / "cache/wasmcap/aot/new.so"));
  EXPECT_EQ(read_text(src() / "a.txt"), "one\ntwo\nthree\n");
  // WASMCAP_CACHE_DIR, spelled through the link too, is refused the same way.
  env.set("XDG_CACHE_HOME", (tmp.path() / "elsewhere").c_str());
  env.set("WASMCAP_CACHE_DIR", (tmp.path() / "link/cache/wasmcap/aot").c_str());
  auto r2 = workspace::apply(home(), "w1");
  ASSERT_TRUE(r2) << r2.error().to_string();
  EXPECT_TRUE(has_conflict(*r2, "cache/wasmcap/aot/new.so", "cache directory"))
      << conflicts_of(*r2);
  EXPECT_FALSE(fs::exists(src() / "cache/wasmcap/aot/new.so"));
  EXPECT_EQ(read_text(src() / "a.txt"), "one\ntwo\nthree\n");
}

// A state directory moved into SOURCE after every check (deterministically, through the test
// hook, before the new directory `z` is made): each directory apply opens to write is compared
// as it is opened, so the file meant for z/ is refused instead of landing in the cache.
TEST_F(Fixture, ApplyComparesEachDirectoryAsItIsOpened) {
  ScopedEnv env;
  env.set("WASMCAP_CACHE_DIR", nullptr);
  env.set("XDG_CACHE_HOME", (tmp.path() / "xc").c_str());
  fs::create_directories(tmp.path() / "xc/wasmcap/aot");
  Info i = make();
  write_text(fs::path(i.tree) / "z/forged.so", "forged native code\n");
  HookState h;
  h.at = "z";
  h.act = [&] { fs::rename(tmp.path() / "xc/wasmcap/aot", src() / "z"); };
  HookGuard g(&h);
  auto r = workspace::apply(home(), "w1");
  ASSERT_TRUE(h.fired);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kWorkspaceConflict);
  EXPECT_NE(r.error().message.find("z/forged.so"), std::string::npos) << r.error().message;
  EXPECT_FALSE(fs::exists(src() / "z/forged.so"));
}

// A bind mount of the cache directory into SOURCE (a spelling no path comparison sees): apply
// refuses what a tool wrote under it, create leaves it out. Needs a private mount namespace
// (root, or a user namespace that allows it); skipped where there is none.
TEST_F(Fixture, StateDirsAreFoundThroughABindMount) {
  ScopedEnv env;
  env.set("WASMCAP_CACHE_DIR", nullptr);
  env.set("XDG_CACHE_HOME", (tmp.path() / "xc").c_str());
  fs::path cache = tmp.path() / "xc/wasmcap/aot";
  fs::create_directories(cache);
  fs::create_directories(src() / "mnt");
  Info i = make();  // before the mount: mnt/ is an ordinary empty directory
  write_text(fs::path(i.tree) / "mnt/forged.so", "forged native code\n");
  if (::unshare(CLONE_NEWNS) != 0 ||
      ::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0 ||
      ::mount(cache.c_str(), (src() / "mnt").c_str(), nullptr, MS_BIND, nullptr) != 0) {
    GTEST_SKIP() << "no private mount namespace here: " << std::strerror(errno);
  }
  auto r = workspace::apply(home(), "w1");
  auto b = create(home(), src().string(), "w2");
  ::umount2((src() / "mnt").c_str(), MNT_DETACH);
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_TRUE(has_conflict(*r, "mnt/forged.so", "cache directory")) << conflicts_of(*r);
  EXPECT_FALSE(fs::exists(cache / "forged.so"));
  ASSERT_TRUE(b) << b.error().to_string();
  EXPECT_EQ(b->left_out, std::vector<std::string>{"mnt"});
}

// The cache does not exist yet: apply would have to create it, and never does. The names
// below the deepest existing directory are what is protected, not their ancestors: a change
// set that only makes the cache's parent applies.
TEST_F(Fixture, ApplyNeverCreatesAMissingStateDir) {
  ScopedEnv env;
  env.set("WASMCAP_CACHE_DIR", nullptr);
  env.set("XDG_CACHE_HOME", (src() / "cache").c_str());
  Info i = make();
  fs::path t = i.tree;
  write_text(t / "cache/wasmcap/aot/obj.so", "forged native code\n");
  write_text(t / "cache/ok.txt", "fine\n");
  auto r = workspace::apply(home(), "w1");
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_TRUE(has_conflict(*r, "cache/wasmcap", "per-user cache")) << conflicts_of(*r);
  EXPECT_TRUE(has_conflict(*r, "cache/wasmcap/aot/obj.so", "cache")) << conflicts_of(*r);
  EXPECT_FALSE(has_conflict(*r, "cache", "")) << conflicts_of(*r);
  EXPECT_FALSE(fs::exists(src() / "cache"));
  fs::remove_all(t / "cache/wasmcap");
  auto ok = workspace::apply(home(), "w1");
  ASSERT_TRUE(ok) << ok.error().to_string();
  EXPECT_TRUE(ok->conflicts.empty()) << conflicts_of(*ok);
  EXPECT_EQ(read_text(src() / "cache/ok.txt"), "fine\n");
  EXPECT_FALSE(fs::exists(src() / "cache/wasmcap"));
}

// SOURCE inside a state directory: create refuses it, and apply refuses a workspace whose
// SOURCE became one (by the identities of SOURCE's ancestors, not its path).
TEST_F(Fixture, SourceInsideAStateDirIsRefused) {
  ScopedEnv env;
  env.set("WASMCAP_CACHE_DIR", nullptr);
  env.set("XDG_CACHE_HOME", (tmp.path() / "xc").c_str());
  write_text(tmp.path() / "xc/wasmcap/aot/sub/f", "f\n");
  auto c = create(home(), (tmp.path() / "xc/wasmcap/aot/sub").string(), "w2");
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(c.error().message.find("cache"), std::string::npos) << c.error().message;
  fs::create_directories(home());
  auto ws = create(home(), (fs::path(home()) / "workspaces").string(), "w3");
  ASSERT_FALSE(ws);
  EXPECT_NE(ws.error().message.find("workspaces folder"), std::string::npos) << ws.error().message;
  // A workspace made while the cache was elsewhere, whose SOURCE is inside wasmcap's part of the
  // cache at apply time (named through a symlink): a conflict, nothing written.
  write_text(tmp.path() / "c/wasmcap/proj/p.txt", "p\n");
  env.set("XDG_CACHE_HOME", (tmp.path() / "xc").c_str());
  auto w = create(home(), (tmp.path() / "c/wasmcap/proj").string(), "w4");
  ASSERT_TRUE(w) << w.error().to_string();
  write_text(fs::path(w->tree) / "job.so", "forged\n");
  fs::create_directory_symlink(tmp.path() / "c", tmp.path() / "clink");
  env.set("XDG_CACHE_HOME", (tmp.path() / "clink").c_str());
  auto r = workspace::apply(home(), "w4");
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_TRUE(has_conflict(*r, ".", "SOURCE is at or below")) << conflicts_of(*r);
  EXPECT_FALSE(fs::exists(tmp.path() / "c/wasmcap/proj/job.so"));
}

// --- SOURCE's identity ---------------------------------------------------------------------------

// SOURCE replaced by a symlink to another directory after create: apply refuses (a conflict,
// nothing written), it used to write the added file into the link's target.
TEST_F(Fixture, ApplyRefusesASourceReplacedByASymlink) {
  Info i = make();
  write_text(fs::path(i.tree) / "job", "tool output\n");
  TempDir other;
  fs::rename(src(), tmp.path() / "src-moved");
  fs::create_directory_symlink(other.path(), src());
  auto r = workspace::apply(home(), "w1");
  ASSERT_TRUE(r) << r.error().to_string();
  ASSERT_EQ(r->conflicts.size(), 1u);
  EXPECT_NE(r->conflicts[0].reason.find("symlink"), std::string::npos) << r->conflicts[0].reason;
  EXPECT_FALSE(fs::exists(other.path() / "job"));
  EXPECT_FALSE(fs::exists(tmp.path() / "src-moved/job"));
}

// An ancestor of SOURCE replaced by a link, and SOURCE replaced by another real directory with
// the same content (no link anywhere): both refused, by the O_NOFOLLOW walk and by the
// device/inode recorded at create.
TEST_F(Fixture, ApplyRefusesASourceOrAncestorReplaced) {
  fs::path anc = tmp.path() / "anc";
  write_text(anc / "proj/a.txt", "a\n");
  auto made = create(home(), (anc / "proj").string(), "deep");
  ASSERT_TRUE(made) << made.error().to_string();
  write_text(fs::path(made->tree) / "job", "x\n");
  TempDir other;
  write_text(other.path() / "proj/a.txt", "a\n");
  fs::rename(anc, tmp.path() / "anc-moved");
  fs::create_directory_symlink(other.path(), anc);
  auto r = workspace::apply(home(), "deep");
  ASSERT_TRUE(r) << r.error().to_string();
  ASSERT_EQ(r->conflicts.size(), 1u);
  EXPECT_FALSE(fs::exists(other.path() / "proj/job"));

  Info i = make();
  write_text(fs::path(i.tree) / "job", "x\n");
  fs::rename(src(), tmp.path() / "src-moved");
  fs::copy(tmp.path() / "src-moved", src(), fs::copy_options::recursive);  // same content
  auto r2 = workspace::apply(home(), "w1");
  ASSERT_TRUE(r2) << r2.error().to_string();
  ASSERT_EQ(r2->conflicts.size(), 1u);
  EXPECT_NE(r2->conflicts[0].reason.find("no longer the directory"), std::string::npos)
      << r2->conflicts[0].reason;
  EXPECT_FALSE(fs::exists(src() / "job"));
  EXPECT_FALSE(fs::exists(tmp.path() / "src-moved/job"));
}

// --- sparse files and the logical-size bound -----------------------------------------------------

uint64_t allocated(const fs::path& p) {
  struct stat st;
  EXPECT_EQ(::stat(p.c_str(), &st), 0);
  return static_cast<uint64_t>(st.st_blocks) * 512;
}

void make_sparse(const fs::path& p, uint64_t offset, const std::string& tail) {
  int fd = ::open(p.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::pwrite(fd, tail.data(), tail.size(), static_cast<off_t>(offset)),
            static_cast<ssize_t>(tail.size()));
  ::close(fd);
}

// A guest seeks 16 MiB and writes a byte: create, diff and apply keep the hole (apply used to
// write 16 MiB of real blocks into SOURCE), and the hash is the plain content hash (a dense
// copy of the same bytes is no change).
TEST_F(Fixture, SparseFilesStaySparse) {
  constexpr uint64_t kOff = 16u << 20;
  make_sparse(src() / "sparse-in-source", kOff, "s");
  Info i = make();
  EXPECT_LT(allocated(fs::path(i.tree) / "sparse-in-source"), 1u << 20);
  make_sparse(fs::path(i.tree) / "hole", kOff, "x");
  ASSERT_LT(allocated(fs::path(i.tree) / "hole"), 1u << 20) << "the file system has no holes";
  auto r = workspace::apply(home(), "w1");
  ASSERT_TRUE(r) << r.error().to_string();
  ASSERT_TRUE(r->conflicts.empty());
  EXPECT_EQ(fs::file_size(src() / "hole"), kOff + 1);
  EXPECT_LT(allocated(src() / "hole"), 1u << 20) << "apply filled the hole";
  std::ifstream f(src() / "hole", std::ios::binary);
  f.seekg(static_cast<std::streamoff>(kOff - 1));
  char two[2] = {1, 1};
  f.read(two, 2);
  EXPECT_EQ(two[0], 0);
  EXPECT_EQ(two[1], 'x');
  // A sparse file in SOURCE, its tree copy rewritten dense with the same bytes: the content
  // hash (holes hash as the zeros they read as) sees no difference.
  make_sparse(src() / "small-hole", 1 << 20, "y");
  Info j = make("w2");
  write_text(fs::path(j.tree) / "small-hole", std::string(1 << 20, '\0') + "y");
  EXPECT_GE(allocated(fs::path(j.tree) / "small-hole"), 1u << 20);
  auto d2 = diff(home(), "w2");
  ASSERT_TRUE(d2);
  EXPECT_EQ(find(*d2, "small-hole"), nullptr) << render_diff_text(*d2);
}

// The logical size (apparent sizes) is bounded: scaled down to 1 MiB here. A sparse file over
// it (2 MiB apparent, one block allocated) is refused by diff and apply, before any hashing;
// a SOURCE over it is refused by create. The default bound refuses a 1 TiB sparse file (it
// used to stall diff for the time of hashing 1 TiB).
TEST_F(Fixture, LogicalSizeIsBounded) {
  auto small = create(home(), src().string(), "small", 1u << 20);
  ASSERT_TRUE(small) << small.error().to_string();
  EXPECT_EQ(open(home(), "small")->max_bytes, 1u << 20);
  write_text(fs::path(small->tree) / "a.txt", "mine\n");
  make_sparse(fs::path(small->tree) / "big", 2u << 20, "b");
  auto d = diff(home(), "small");
  ASSERT_FALSE(d);
  EXPECT_EQ(d.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(d.error().message.find("'big'"), std::string::npos) << d.error().message;
  EXPECT_NE(d.error().message.find("--max-size-mb"), std::string::npos) << d.error().message;
  auto a = workspace::apply(home(), "small");
  ASSERT_FALSE(a);
  EXPECT_EQ(read_text(src() / "a.txt"), "one\ntwo\nthree\n");
  EXPECT_FALSE(fs::exists(src() / "big"));
  make_sparse(src() / "big-source", 2u << 20, "b");
  auto refused = create(home(), src().string(), "small2", 1u << 20);
  ASSERT_FALSE(refused);
  EXPECT_FALSE(fs::exists(fs::path(home()) / "workspaces/small2"));
  fs::remove(src() / "big-source");
  // Per-session workspaces inherit their base's bound.
  auto s = session_workspace(home(), "small", "k");
  ASSERT_TRUE(s) << s.error().to_string();
  EXPECT_EQ(s->max_bytes, 1u << 20);

  Info i = make();
  EXPECT_EQ(i.max_bytes, kDefaultMaxLogicalBytes);
  int fd = ::open((fs::path(i.tree) / "tib").c_str(), O_WRONLY | O_CREAT, 0644);
  ASSERT_GE(fd, 0);
  if (::ftruncate(fd, off_t{1} << 40) != 0) {
    ::close(fd);
    GTEST_SKIP() << "the file system does not allow a 1 TiB sparse file";
  }
  ::close(fd);
  auto dt = diff(home(), "w1");
  ASSERT_FALSE(dt);
  EXPECT_NE(dt.error().message.find("'tib'"), std::string::npos) << dt.error().message;
}

// --- what the reviewer sees, and what lands -------------------------------------------------------

// Content a tool wrote cannot drive the reviewer's terminal: an added ESC[2K + CR that erased a
// line, OSC 52 (clipboard), OSC 8 (hyperlink), C1 CSI, bidi overrides and broken UTF-8 are
// shown escaped; --raw (render raw) keeps the bytes for pipes.
TEST_F(Fixture, DiffEscapesTerminalControlsInContent) {
  Info i = make();
  const std::string hostile =
      "visible\n"
      "evil line\x1b[2K\rinnocent\n"
      "\x1b]52;c;ZXZpbA==\x07\n"
      "\x1b]8;;http://x.example/\x1b\\link\x1b]8;;\x1b\\\n"
      "\xc2\x9b" "31m\xe2\x80\xae" "reversed\xff\x7f\n"
      "caf\xc3\xa9 \xe6\x97\xa5\t!\n";
  write_text(fs::path(i.tree) / "added.txt", hostile);
  write_text(fs::path(i.tree) / "a.txt", "one\ntwo\x1b[1A\x1b[2K\nthree\n");
  auto d = diff(home(), "w1");
  ASSERT_TRUE(d);
  std::string text = render_diff_text(*d);
  for (const char* bad : {"\x1b", "\r", "\x07", "\x7f", "\xc2\x9b", "\xe2\x80\xae", "\xff"}) {
    EXPECT_EQ(text.find(bad), std::string::npos) << "raw byte " << std::hex
                                                 << (0xff & static_cast<int>(bad[0])) << "\n" << text;
  }
  EXPECT_NE(text.find("+evil line^[[2K^Minnocent\n"), std::string::npos) << text;
  EXPECT_NE(text.find("+^[]52;c;ZXZpbA==^G\n"), std::string::npos) << text;
  EXPECT_NE(text.find("+^[]8;;http://x.example/^[\\link^[]8;;^[\\\n"), std::string::npos) << text;
  EXPECT_NE(text.find("+<U+009B>31m<U+202E>reversed\\xff^?\n"), std::string::npos) << text;
  EXPECT_NE(text.find("+caf\xc3\xa9 \xe6\x97\xa5\t!\n"), std::string::npos) << text;  // UTF-8 kept
  EXPECT_NE(text.find("+two^[[1A^[[2K\n"), std::string::npos) << text;
  std::string raw = render_diff_text(*d, true);
  EXPECT_NE(raw.find("+evil line\x1b[2K\rinnocent\n"), std::string::npos);
  EXPECT_EQ(escape_for_terminal("\xed\xa0\x80\xc0\xaf\xf4\x90\x80\x80"),  // surrogate, overlong
            "\\xed\\xa0\\x80\\xc0\\xaf\\xf4\\x90\\x80\\x80");
}

// File names a tool chose cannot drive or mislead the terminal either. Before the one escaper,
// display_path escaped only C0 controls, DEL and '\\', so the summary line of `ws diff` showed a
// name's bidi override (U+202E: "txt.exe" read backwards), its C1 CSI and its non-UTF-8 bytes raw
// while the same name inside the unified diff was escaped.
TEST_F(Fixture, DiffEscapesTerminalControlsInFileNames) {
  Info i = make();
  const std::string name = "invoice\xe2\x80\xae" "exe.txt\xc2\x9b" "2J\xff\x1b.md";
  write_text(fs::path(i.tree) / name, "x\n");
  auto d = diff(home(), "w1");
  ASSERT_TRUE(d);
  const std::string text = render_diff_text(*d);
  for (const char* bad : {"\x1b", "\xc2\x9b", "\xe2\x80\xae", "\xff"}) {
    EXPECT_EQ(text.find(bad), std::string::npos) << "raw byte " << std::hex
                                                 << (0xff & static_cast<int>(bad[0])) << "\n" << text;
  }
  EXPECT_NE(text.find("added file invoice<U+202E>exe.txt<U+009B>2J\\xff\\x1b.md\n"), std::string::npos)
      << text;
  EXPECT_EQ(display_path("caf\xc3\xa9/\xe6\x97\xa5 a\\b"), "caf\xc3\xa9/\xe6\x97\xa5 a\\\\b");  // UTF-8 kept
}

// `ws diff` prints the change set's digest; apply --expect applies exactly that change set:
// a tool changing a file after the review makes apply refuse with nothing written.
TEST_F(Fixture, ApplyExpectBindsTheReviewedChangeSet) {
  Info i = make();
  write_text(fs::path(i.tree) / "a.txt", "reviewed\n");
  auto d = diff(home(), "w1");
  ASSERT_TRUE(d);
  ASSERT_EQ(d->digest.size(), 64u);
  EXPECT_EQ(diff(home(), "w1")->digest, d->digest);  // deterministic
  EXPECT_NE(render_diff_text(*d).find("digest: " + d->digest + "\n"), std::string::npos);
  write_text(fs::path(i.tree) / "a.txt", "unreviewed\n");  // same size would not matter either
  ApplyOptions o;
  o.expect = d->digest;
  auto r = workspace::apply(home(), "w1", o);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kWorkspaceConflict);
  EXPECT_NE(r.error().message.find("not the one reviewed"), std::string::npos);
  EXPECT_EQ(read_text(src() / "a.txt"), "one\ntwo\nthree\n");
  // A mode change alone changes the digest too.
  auto d2 = diff(home(), "w1");
  ::chmod((fs::path(i.tree) / "a.txt").c_str(), 0700);
  EXPECT_NE(diff(home(), "w1")->digest, d2->digest);
  o.expect = diff(home(), "w1")->digest;
  auto ok = workspace::apply(home(), "w1", o);
  ASSERT_TRUE(ok) << ok.error().to_string();
  EXPECT_EQ(ok->digest, o.expect);
  EXPECT_EQ(read_text(src() / "a.txt"), "unreviewed\n");
}

// Tools are kept out during apply: a hold (what sh/run/MCP take for a run) makes apply refuse
// with nothing written, and while apply runs no hold can be taken (neither in-process nor by
// `wasmcap sh --workspace`).
TEST_F(Fixture, ApplyAndToolsExcludeEachOther) {
  Info i = make();
  write_text(fs::path(i.tree) / "a.txt", "mine\n");
  {
    policy::Plan plan;
    plan.fs.push_back(policy::FsMount{"/work", "", policy::Access::kReadWrite, false, false, "w1"});
    std::vector<ToolHold> holds;
    ASSERT_TRUE(bind_plan(plan, home(), "", &holds));
    ASSERT_EQ(holds.size(), 1u);
    auto r = workspace::apply(home(), "w1");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, ErrorCode::kWorkspaceConflict);
    EXPECT_NE(r.error().message.find("in use by a running tool"), std::string::npos);
    EXPECT_EQ(read_text(src() / "a.txt"), "one\ntwo\nthree\n");
  }
  HookState h;
  h.at = "a.txt";
  bool in_process_refused = false;
  wasmcap::testing::ProcResult sh;
  h.act = [&] {
    auto hold = hold_for_tools(home(), "w1");
    in_process_refused = !hold && hold.error().code == ErrorCode::kWorkspaceConflict;
    wasmcap::testing::ProcOptions o;
    o.extra_env.emplace_back("WASMCAP_HOME", home());
    sh = wasmcap::testing::run_cli({"sh", "--workspace", "w1", "-c", "echo hi > /work/x"}, o);
  };
  HookGuard g(&h);
  auto r = workspace::apply(home(), "w1");
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_TRUE(in_process_refused);
  EXPECT_EQ(sh.exit_code, 73) << wasmcap::testing::describe(sh);
  EXPECT_NE(sh.err.find("being applied"), std::string::npos) << sh.err;
  EXPECT_FALSE(fs::exists(fs::path(i.tree) / "x"));
  EXPECT_TRUE(hold_for_tools(home(), "w1"));  // free again after apply
}

// WASMCAP_HOME is the operator's: create makes its own folders private and leaves HOME's mode.
TEST_F(Fixture, CreateLeavesAnExistingHomeAlone) {
  fs::create_directories(home());
  ::chmod(home().c_str(), 0751);
  make();
  EXPECT_EQ(mode_of(home()), 0751u);
  EXPECT_EQ(mode_of(fs::path(home()) / "workspaces"), 0700u);
  fs::path fresh = tmp.path() / "fresh/home";
  ASSERT_TRUE(create(fresh.string(), src().string(), "f1"));
  EXPECT_EQ(mode_of(fresh), 0700u);  // made by wasmcap
}

// The CLI: diff prints the digest last; --raw keeps bytes (stdout here is a pipe); apply
// --expect with another digest is 73 and writes nothing, with the printed one it applies.
TEST_F(Fixture, CliDigestRawAndExpect) {
  wasmcap::testing::ProcOptions o;
  o.extra_env.emplace_back("WASMCAP_HOME", home());
  auto c = wasmcap::testing::run_cli(
      {"ws", "create", "--from", src().string(), "--name", "c2", "--max-size-mb", "4"}, o);
  ASSERT_EQ(c.exit_code, 0) << wasmcap::testing::describe(c);
  EXPECT_EQ(open(home(), "c2")->max_bytes, 4u << 20);
  write_text(fs::path(home()) / "workspaces/c2/tree/a.txt", "x\x1b[2Ky\n");
  auto d = wasmcap::testing::run_cli({"ws", "diff", "c2"}, o);
  ASSERT_EQ(d.exit_code, 0) << wasmcap::testing::describe(d);
  EXPECT_NE(d.out.find("+x^[[2Ky\n"), std::string::npos) << d.out;
  auto pos = d.out.rfind("digest: ");
  ASSERT_NE(pos, std::string::npos);
  std::string digest = d.out.substr(pos + 8, 64);
  EXPECT_EQ(d.out.size(), pos + 8 + 64 + 1) << "the digest is the last line";
  auto raw = wasmcap::testing::run_cli({"ws", "diff", "c2", "--raw"}, o);
  EXPECT_EQ(raw.exit_code, 0);
  EXPECT_NE(raw.out.find("+x\x1b[2Ky\n"), std::string::npos);
  // On a terminal (a pty from script(1)), --raw is refused and nothing of the content is shown.
  if (::access("/usr/bin/script", X_OK) == 0) {
    auto tty = wasmcap::testing::run_process(
        {"/usr/bin/script", "-qec", wasmcap::testing::cli_path() + " ws diff c2 --raw", "/dev/null"}, o);
    EXPECT_EQ(tty.exit_code, 64) << wasmcap::testing::describe(tty);
    EXPECT_NE(tty.out.find("stdout is a terminal"), std::string::npos) << tty.out;
    EXPECT_EQ(tty.out.find("\x1b[2K"), std::string::npos);
  }
  auto j = wasmcap::testing::run_cli({"ws", "diff", "c2", "--json"}, o);
  EXPECT_NE(j.out.find("\"digest\": \"" + digest + "\""), std::string::npos) << j.out;
  std::string wrong = digest;
  wrong[0] = wrong[0] == '0' ? '1' : '0';
  auto bad = wasmcap::testing::run_cli({"ws", "apply", "c2", "--expect", wrong}, o);
  EXPECT_EQ(bad.exit_code, 73) << wasmcap::testing::describe(bad);
  EXPECT_EQ(read_text(src() / "a.txt"), "one\ntwo\nthree\n");
  auto good = wasmcap::testing::run_cli({"ws", "apply", "c2", "--expect", digest}, o);
  EXPECT_EQ(good.exit_code, 0) << wasmcap::testing::describe(good);
  EXPECT_EQ(read_text(src() / "a.txt"), "x\x1b[2Ky\n");
}

// --- the line diff ---------------------------------------------------------------------------

TEST(UnifiedDiff, FormatMatchesGnuConventions) {
  EXPECT_EQ(unified_diff("f", "same\n", "same\n"), "");
  EXPECT_EQ(unified_diff("f", "", "a\n"), "--- a/f\n+++ b/f\n@@ -0,0 +1 @@\n+a\n");
  EXPECT_EQ(unified_diff("f", "a\n", ""), "--- a/f\n+++ b/f\n@@ -1 +0,0 @@\n-a\n");
  EXPECT_EQ(unified_diff("f", "a", "a\n"),
            "--- a/f\n+++ b/f\n@@ -1 +1 @@\n-a\n\\ No newline at end of file\n+a\n");
  // Two changes far apart: two hunks with 3 lines of context.
  std::string a, b;
  for (int k = 1; k <= 20; ++k) {
    a += std::to_string(k) + "\n";
    b += (k == 2 || k == 18 ? "x" : std::to_string(k)) + "\n";
  }
  EXPECT_EQ(unified_diff("f", a, b),
            "--- a/f\n+++ b/f\n@@ -1,5 +1,5 @@\n 1\n-2\n+x\n 3\n 4\n 5\n"
            "@@ -15,6 +15,6 @@\n 15\n 16\n 17\n-18\n+x\n 19\n 20\n");
}

// Differential: random edits, our diff fed to GNU patch must reproduce the new text, and our
// hunk headers must agree with GNU diff -u on how many lines change.
TEST(UnifiedDiff, PatchReproducesTheNewTextOnRandomEdits) {
  if (::access("/usr/bin/patch", X_OK) != 0) GTEST_SKIP() << "no /usr/bin/patch";
  TempDir tmp;
  std::mt19937 rng(1234);
  for (int round = 0; round < 40; ++round) {
    std::string a, b;
    int n = 1 + static_cast<int>(rng() % 30);
    for (int k = 0; k < n; ++k) {
      std::string line = std::string(1, static_cast<char>('a' + rng() % 4)) + "\n";
      a += line;
      int r = static_cast<int>(rng() % 6);
      if (r == 0) continue;                           // delete
      if (r == 1) b += "new" + std::to_string(k) + "\n";  // replace
      else b += line;
      if (r == 2) b += "ins\n";                       // insert
    }
    if (rng() % 5 == 0 && !b.empty()) b.pop_back();   // no newline at end
    write_text(tmp.path() / "f", a);
    std::string d = unified_diff("f", a, b);
    write_text(tmp.path() / "p.diff", d);
    int rc = std::system(("cd " + tmp.str() + " && patch -s -p1 < p.diff > /dev/null 2>&1").c_str());
    ASSERT_EQ(rc, 0) << "round " << round << "\n" << d;
    ASSERT_EQ(read_text(tmp.path() / "f"), b) << "round " << round << "\n" << d;
  }
}

// A plan's workspace grants point at the workspace's tree once bound; unbound, a run refuses
// them; a missing workspace is not_found, never some other directory.
TEST_F(Fixture, BindPlanPointsWorkspaceMountsAtTheTree) {
  Info w = make("bound");
  policy::Plan plan;
  plan.fs.push_back(policy::FsMount{"/work", "", policy::Access::kReadWrite, false, false, "bound"});
  plan.fs.push_back(policy::FsMount{"/data", "/srv/data", policy::Access::kReadOnly});
  auto unbound = std::make_shared<policy::Plan>(plan);
  auto refused = run_options_from_plan(unbound, {"x"}, false);
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message.find("not bound"), std::string::npos);
  ASSERT_TRUE(bind_plan(plan, home()));
  EXPECT_EQ(plan.fs[0].host, w.tree);
  EXPECT_EQ(plan.fs[1].host, "/srv/data");
  auto ok = run_options_from_plan(std::make_shared<policy::Plan>(plan), {"x"}, false);
  ASSERT_TRUE(ok) << ok.error().to_string();
  EXPECT_EQ(ok->wasi.preopens[0].host_path, w.tree);
  EXPECT_FALSE(ok->wasi.preopens[0].read_only);
  policy::Plan missing;
  missing.fs.push_back(policy::FsMount{"/work", "", policy::Access::kReadWrite, false, false, "nope"});
  auto m = bind_plan(missing, home());
  ASSERT_FALSE(m);
  EXPECT_EQ(m.error().code, ErrorCode::kNotFound);
  EXPECT_TRUE(missing.fs[0].host.empty());
}

// A per-session mount: each key its own workspace, made from the base's source (not from the
// base's changes), the same one again for the same key; the key never reaches the name.
TEST_F(Fixture, SessionWorkspacesAreSeparateCopiesOfTheSource) {
  Info base = make("base");
  write_text(fs::path(base.tree) / "a.txt", "changed in base\n");
  auto s1 = session_workspace(home(), "base", "../../etc/passwd\n");
  ASSERT_TRUE(s1) << s1.error().to_string();
  EXPECT_TRUE(validate_name(s1->name));
  EXPECT_EQ(s1->name.rfind("s-", 0), 0u);
  EXPECT_EQ(s1->name.size(), 18u);
  EXPECT_EQ(read_text(fs::path(s1->tree) / "a.txt"), "one\ntwo\nthree\n");
  write_text(fs::path(s1->tree) / "new.txt", "s1\n");
  auto again = session_workspace(home(), "base", "../../etc/passwd\n");
  ASSERT_TRUE(again);
  EXPECT_EQ(again->name, s1->name);
  EXPECT_TRUE(fs::exists(fs::path(again->tree) / "new.txt"));
  auto s2 = session_workspace(home(), "base", "other");
  ASSERT_TRUE(s2);
  EXPECT_NE(s2->name, s1->name);
  EXPECT_FALSE(fs::exists(fs::path(s2->tree) / "new.txt"));
  policy::Plan plan;
  plan.fs.push_back(
      policy::FsMount{"/work", "", policy::Access::kReadWrite, false, false, "base", true});
  ASSERT_TRUE(bind_plan(plan, home(), "other"));
  EXPECT_EQ(plan.fs[0].host, s2->tree);
  plan.fs[0].host.clear();
  ASSERT_TRUE(bind_plan(plan, home(), ""));  // no session: the named workspace itself
  EXPECT_EQ(plan.fs[0].host, base.tree);
  EXPECT_FALSE(session_workspace(home(), "missing", "k"));
  EXPECT_FALSE(session_workspace(home(), "../x", "k"));
}

// The host config's workspace name rule (policy, which does not link this library) and
// validate_name agree.
TEST(WorkspaceNames, HostConfigRuleAgreesWithValidateName) {
  std::vector<std::string> names = {"", ".", "..", "../x", "a/b", ".hidden", "-x", "a..b",
                                    "sp ace", "new\nline", std::string(65, 'a'),
                                    std::string(64, 'a'), "ok-1.2_x", "A", "9z", "a.b", "_x"};
  std::mt19937 rng(7);
  const std::string alphabet = "aZ09._-/ \n\x01\xff";
  for (int i = 0; i < 5000; ++i) {
    std::string n;
    for (size_t k = rng() % 8; k > 0; --k) n.push_back(alphabet[rng() % alphabet.size()]);
    names.push_back(n);
  }
  for (const auto& n : names) {
    EXPECT_EQ(static_cast<bool>(validate_name(n)), !policy::check_workspace_name(n).has_value())
        << n;
  }
}

// ws create's report on stderr: every regular file counted once as reflinked or copied (which one
// depends on the filesystem), what .gitignore left out, and each entry it skipped, its name
// escaped (a FIFO named with an escape sequence cannot reach the terminal raw).
TEST_F(Fixture, CliCreateReportsCopiesSkipsAndIgnores) {
  write_text(src() / ".gitignore", "*.log\n");
  write_text(src() / "x.log", "ignored\n");
  const fs::path fifo = src() / "pipe\x1b[2J";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  wasmcap::testing::ProcOptions o;
  o.extra_env.emplace_back("WASMCAP_HOME", home());
  auto c = wasmcap::testing::run_cli({"ws", "create", "--from", src().string(), "--name", "rep"}, o);
  ASSERT_EQ(c.exit_code, 0) << wasmcap::testing::describe(c);
  EXPECT_EQ(c.out, "rep\n");
  // a.txt, sub/b.txt, bin.dat and .gitignore: 4 regular files.
  size_t reflinked = 0, copied = 0;
  auto at = c.err.find("  files: ");
  ASSERT_NE(at, std::string::npos) << c.err;
  ASSERT_EQ(std::sscanf(c.err.c_str() + at, "  files: %zu reflinked, %zu copied", &reflinked, &copied), 2)
      << c.err;
  EXPECT_EQ(reflinked + copied, 4u) << c.err;
  EXPECT_NE(c.err.find("left out by .gitignore and --exclude: 1 file(s), 0 director(ies)"),
            std::string::npos) << c.err;
  EXPECT_NE(c.err.find("skipped (not a file, directory or symlink): "), std::string::npos) << c.err;
  EXPECT_NE(c.err.find("pipe\\x1b[2J"), std::string::npos) << c.err;
  EXPECT_EQ(c.err.find('\x1b'), std::string::npos) << "a name reached the terminal raw";
  EXPECT_FALSE(fs::exists(fs::path(home()) / "workspaces/rep/tree/x.log"));
}

// The CLI maps refusals to documented exit codes.
TEST_F(Fixture, CliExitCodes) {
  wasmcap::testing::ProcOptions o;
  o.extra_env.emplace_back("WASMCAP_HOME", home());
  auto c = wasmcap::testing::run_cli({"ws", "create", "--from", src().string(), "--name", "c1"}, o);
  ASSERT_EQ(c.exit_code, 0) << wasmcap::testing::describe(c);
  EXPECT_EQ(c.out, "c1\n");
  auto l = wasmcap::testing::run_cli({"ws", "list"}, o);
  EXPECT_EQ(l.exit_code, 0);
  EXPECT_EQ(l.out.rfind("c1\t", 0), 0u) << l.out;
  write_text(fs::path(home()) / "workspaces/c1/tree/a.txt", "cli\n");
  auto d = wasmcap::testing::run_cli({"ws", "diff", "c1"}, o);
  EXPECT_EQ(d.exit_code, 0);
  EXPECT_NE(d.out.find("-one\n"), std::string::npos) << d.out;
  auto dj = wasmcap::testing::run_cli({"ws", "diff", "c1", "--json"}, o);
  EXPECT_NE(dj.out.find("\"changes\""), std::string::npos);
  write_text(src() / "a.txt", "theirs\n");
  auto ap = wasmcap::testing::run_cli({"ws", "apply", "c1"}, o);
  EXPECT_EQ(ap.exit_code, 73) << wasmcap::testing::describe(ap);
  EXPECT_NE(ap.err.find("workspace_conflict"), std::string::npos);
  EXPECT_EQ(read_text(src() / "a.txt"), "theirs\n");
  auto bad = wasmcap::testing::run_cli({"ws", "diff", "../etc"}, o);
  EXPECT_EQ(bad.exit_code, 64);
  auto gone = wasmcap::testing::run_cli({"ws", "discard", "nope"}, o);
  EXPECT_EQ(gone.exit_code, 66);
  auto ds = wasmcap::testing::run_cli({"ws", "discard", "c1"}, o);
  EXPECT_EQ(ds.exit_code, 0);
}

}  // namespace

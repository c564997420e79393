// Shadow workspaces: every command and every refusal (docs/workspace.md); apply, state dirs, the
// diff and the CLI continue in workspace_apply_test.cc (the fixture: workspace_fixture.h).
#include "workspace_fixture.h"

using namespace wasmcap;
using namespace wasmcap::workspace_test;

namespace {

TEST_F(Fixture, CreateCopiesTheTreeAndRecordsASnapshot) {
  Info i = make();
  EXPECT_EQ(i.name, "w1");
  EXPECT_EQ(read_text(fs::path(i.tree) / "a.txt"), "one\ntwo\nthree\n");
  EXPECT_EQ(read_text(fs::path(i.tree) / "sub/b.txt"), "bee\n");
  ASSERT_EQ(i.entries.size(), 4u);  // a.txt bin.dat sub sub/b.txt
  EXPECT_EQ(i.entries[0].path, "a.txt");
  EXPECT_EQ(i.entries[0].hash.size(), 64u);
  auto again = open(home(), "w1");
  ASSERT_TRUE(again);
  EXPECT_EQ(again->entries.size(), 4u);
  EXPECT_EQ(again->source, src().string());
  auto d = diff(home(), "w1");
  ASSERT_TRUE(d);
  EXPECT_TRUE(d->changes.empty());
}

TEST_F(Fixture, GeneratedNameAndList) {
  auto i = create(home(), src().string(), "");
  ASSERT_TRUE(i);
  EXPECT_EQ(i->name.rfind("ws-", 0), 0u);
  EXPECT_TRUE(validate_name(i->name));
  make("w2");
  auto l = list(home());
  ASSERT_TRUE(l);
  ASSERT_EQ(l->size(), 2u);
  EXPECT_EQ((*l)[1].name, "ws-" + i->name.substr(3));
}

TEST_F(Fixture, ToolsWritingTheTreeNeverTouchSource) {
  Info i = make();
  write_text(fs::path(i.tree) / "a.txt", "changed\n");
  write_text(fs::path(i.tree) / "new.txt", "n\n");
  fs::remove_all(fs::path(i.tree) / "sub");
  EXPECT_EQ(read_text(src() / "a.txt"), "one\ntwo\nthree\n");
  EXPECT_TRUE(fs::exists(src() / "sub/b.txt"));
  EXPECT_FALSE(fs::exists(src() / "new.txt"));
}

TEST_F(Fixture, DiffListsEveryKindOfChange) {
  Info i = make();
  fs::path t = i.tree;
  write_text(t / "a.txt", "one\nTWO\nthree\n");
  write_text(t / "new.txt", "n\n");
  fs::remove_all(t / "sub");
  write_text(t / "bin.dat", std::string("x\0z", 3));
  ::chmod((src() / "a.txt").c_str(), 0644);
  write_text(t / "m.txt", "");  // added, then a mode change on an existing file:
  ::chmod((t / "m.txt").c_str(), 0600);
  auto d = diff(home(), "w1");
  ASSERT_TRUE(d) << d.error().to_string();
  const Change* a = find(*d, "a.txt");
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->kind, Change::Kind::kModified);
  EXPECT_EQ(a->unified,
            "--- a/a.txt\n+++ b/a.txt\n@@ -1,3 +1,3 @@\n one\n-two\n+TWO\n three\n");
  const Change* b = find(*d, "bin.dat");
  ASSERT_NE(b, nullptr);
  EXPECT_TRUE(b->binary);
  EXPECT_TRUE(b->unified.empty());
  ASSERT_NE(find(*d, "new.txt"), nullptr);
  EXPECT_EQ(find(*d, "new.txt")->kind, Change::Kind::kAdded);
  ASSERT_NE(find(*d, "sub"), nullptr);
  EXPECT_EQ(find(*d, "sub")->kind, Change::Kind::kRemoved);
  EXPECT_EQ(find(*d, "sub/b.txt")->kind, Change::Kind::kRemoved);
  std::string text = render_diff_text(*d);
  EXPECT_NE(text.find("removed dir sub\n"), std::string::npos) << text;
  EXPECT_NE(text.find("modified file bin.dat (binary)\n"), std::string::npos) << text;
  std::string json = render_diff_json(*d);
  EXPECT_NE(json.find("\"kind\": \"added\""), std::string::npos) << json;
}

TEST_F(Fixture, ModeChangeAndTypeChange) {
  Info i = make();
  ::chmod((fs::path(i.tree) / "a.txt").c_str(), 0700);
  fs::remove(fs::path(i.tree) / "bin.dat");
  fs::create_directories(fs::path(i.tree) / "bin.dat");
  write_text(fs::path(i.tree) / "bin.dat/inner", "i\n");
  auto d = diff(home(), "w1");
  ASSERT_TRUE(d);
  EXPECT_EQ(find(*d, "a.txt")->kind, Change::Kind::kModeChanged);
  EXPECT_EQ(find(*d, "bin.dat")->kind, Change::Kind::kTypeChanged);
  auto r = workspace::apply(home(), "w1");
  ASSERT_TRUE(r) << r.error().to_string();
  ASSERT_TRUE(r->conflicts.empty()) << r->conflicts[0].path << ": " << r->conflicts[0].reason;
  struct stat st;
  ASSERT_EQ(::stat((src() / "a.txt").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  EXPECT_EQ(read_text(src() / "bin.dat/inner"), "i\n");
}

TEST_F(Fixture, ApplyWritesEverythingThenHasNothingLeft) {
  Info i = make();
  fs::path t = i.tree;
  write_text(t / "a.txt", "one\nTWO\nthree\n");
  write_text(t / "deep/er/new.txt", "n\n");
  fs::remove_all(t / "sub");
  auto r = workspace::apply(home(), "w1");
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_TRUE(r->conflicts.empty());
  EXPECT_EQ(read_text(src() / "a.txt"), "one\nTWO\nthree\n");
  EXPECT_EQ(read_text(src() / "deep/er/new.txt"), "n\n");
  EXPECT_FALSE(fs::exists(src() / "sub"));
  // No temp files left behind.
  for (const auto& e : fs::recursive_directory_iterator(src())) {
    EXPECT_EQ(e.path().filename().string().rfind(".wasmcap-apply-", 0), std::string::npos);
  }
  auto d = diff(home(), "w1");
  ASSERT_TRUE(d);
  EXPECT_TRUE(d->changes.empty()) << render_diff_text(*d);
  auto r2 = workspace::apply(home(), "w1");
  ASSERT_TRUE(r2);
  EXPECT_EQ(r2->written + r2->removed, 0u);
}

// Refusal: SOURCE changed underneath. Nothing is written, not even the files that are fine.
TEST_F(Fixture, ApplyRefusesConflictsAndWritesNothing) {
  Info i = make();
  fs::path t = i.tree;
  write_text(t / "a.txt", "mine\n");
  write_text(t / "sub/b.txt", "mine too\n");
  write_text(t / "added.txt", "ws\n");
  write_text(src() / "sub/b.txt", "theirs\n");  // changed in SOURCE
  write_text(src() / "added.txt", "src\n");     // created in SOURCE
  auto r = workspace::apply(home(), "w1");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->conflicts.size(), 2u);
  EXPECT_EQ(r->conflicts[0].path, "added.txt");
  EXPECT_EQ(r->conflicts[1].path, "sub/b.txt");
  EXPECT_NE(r->conflicts[1].reason.find("changed in SOURCE"), std::string::npos);
  EXPECT_EQ(read_text(src() / "a.txt"), "one\ntwo\nthree\n");  // untouched
  EXPECT_EQ(read_text(src() / "sub/b.txt"), "theirs\n");
  EXPECT_EQ(read_text(src() / "added.txt"), "src\n");
}

// Same size and mtime, other content: the content hash catches it.
TEST_F(Fixture, ConflictDetectedByHashWhenMtimeIsRestored) {
  Info i = make();
  write_text(fs::path(i.tree) / "a.txt", "mine\n");
  struct stat st;
  ASSERT_EQ(::stat((src() / "a.txt").c_str(), &st), 0);
  write_text(src() / "a.txt", "ONE\ntwo\nthree\n");
  struct timespec ts[2] = {st.st_atim, st.st_mtim};
  ASSERT_EQ(::utimensat(AT_FDCWD, (src() / "a.txt").c_str(), ts, 0), 0);
  auto r = workspace::apply(home(), "w1");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->conflicts.size(), 1u);
  EXPECT_EQ(read_text(src() / "a.txt"), "ONE\ntwo\nthree\n");
}

TEST_F(Fixture, ApplyRefusesRemovingADirectoryThatGainedEntries) {
  Info i = make();
  fs::remove_all(fs::path(i.tree) / "sub");
  write_text(src() / "sub/late.txt", "late\n");
  auto r = workspace::apply(home(), "w1");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->conflicts.size(), 1u);
  EXPECT_EQ(r->conflicts[0].path, "sub");
  EXPECT_TRUE(fs::exists(src() / "sub/b.txt"));
}

TEST_F(Fixture, BadNamesAreRefusedEverywhere) {
  for (const std::string& n : std::vector<std::string>{"", ".", "..", "../x", "a/b", ".hidden", "-x", "a..b", "sp ace",
                        "new\nline", std::string(65, 'a')}) {
    EXPECT_FALSE(validate_name(n)) << n;
    auto c = create(home(), src().string(), n.empty() ? "/" : n);
    ASSERT_FALSE(c) << n;
    EXPECT_EQ(c.error().code, ErrorCode::kInvalidArgument);
    EXPECT_FALSE(diff(home(), n));
    EXPECT_FALSE(workspace::apply(home(), n));
    auto d = discard(home(), n);
    ASSERT_FALSE(d);
    EXPECT_EQ(d.error().code, ErrorCode::kInvalidArgument) << n;
  }
  EXPECT_TRUE(validate_name("ok-1.2_x"));
  EXPECT_TRUE(validate_name(std::string(64, 'a')));
}

TEST_F(Fixture, DuplicateNameAndDiscard) {
  make();
  auto dup = create(home(), src().string(), "w1");
  ASSERT_FALSE(dup);
  EXPECT_EQ(dup.error().code, ErrorCode::kWorkspaceConflict);
  Info i = *open(home(), "w1");
  // A tool made a directory read-only: discard still removes everything.
  fs::create_directories(fs::path(i.tree) / "ro/x");
  ::chmod((fs::path(i.tree) / "ro").c_str(), 0500);
  ASSERT_TRUE(discard(home(), "w1"));
  EXPECT_FALSE(fs::exists(i.dir));
  EXPECT_TRUE(fs::exists(src() / "a.txt"));
  auto again = discard(home(), "w1");
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, ErrorCode::kNotFound);
}

// Symlinks in SOURCE are copied as symlinks, never followed out of the tree.
TEST_F(Fixture, SymlinksAreNeverFollowedOnCreate) {
  TempDir outside;
  write_text(outside.path() / "secret", "s3cret\n");
  fs::create_directory_symlink(outside.path(), src() / "out");
  fs::create_symlink(outside.path() / "secret", src() / "secret-link");
  Info i = make();
  EXPECT_TRUE(fs::is_symlink(fs::path(i.tree) / "out"));
  EXPECT_TRUE(fs::is_symlink(fs::path(i.tree) / "secret-link"));
  for (const auto& e : i.entries) {
    EXPECT_NE(e.path, "out/secret");
  }
  auto d = diff(home(), "w1");
  ASSERT_TRUE(d);
  EXPECT_TRUE(d->changes.empty());
}

// A tool that plants a symlink in the tree cannot get it into SOURCE.
TEST_F(Fixture, ApplyNeverCreatesSymlinks) {
  Info i = make();
  fs::create_symlink("/etc/passwd", fs::path(i.tree) / "evil");
  write_text(fs::path(i.tree) / "a.txt", "fine\n");
  auto r = workspace::apply(home(), "w1");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->conflicts.size(), 1u);
  EXPECT_EQ(r->conflicts[0].path, "evil");
  EXPECT_NE(r->conflicts[0].reason.find("never creates symlinks"), std::string::npos);
  EXPECT_FALSE(fs::exists(fs::symlink_status(src() / "evil")));
  EXPECT_EQ(read_text(src() / "a.txt"), "one\ntwo\nthree\n");
}

// SOURCE's directory replaced by a symlink to elsewhere after creation: apply refuses rather
// than write through it.
TEST_F(Fixture, ApplyNeverWritesThroughASymlinkedParent) {
  Info i = make();
  write_text(fs::path(i.tree) / "sub/b.txt", "mine\n");
  write_text(fs::path(i.tree) / "sub/c.txt", "new\n");
  TempDir outside;
  write_text(outside.path() / "b.txt", "bee\n");
  fs::remove_all(src() / "sub");
  fs::create_directory_symlink(outside.path(), src() / "sub");
  auto r = workspace::apply(home(), "w1");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->conflicts.size(), 2u);
  EXPECT_EQ(read_text(outside.path() / "b.txt"), "bee\n");
  EXPECT_FALSE(fs::exists(outside.path() / "c.txt"));
}

TEST_F(Fixture, SpecialFilesAreSkipped) {
  ASSERT_EQ(::mkfifo((src() / "fifo").c_str(), 0600), 0);
  Info i = make();  // a fifo would block a naive copy forever
  ASSERT_EQ(i.skipped.size(), 1u);
  EXPECT_EQ(i.skipped[0], "fifo");
  EXPECT_FALSE(fs::exists(fs::symlink_status(fs::path(i.tree) / "fifo")));
}

// A store (WASMCAP_HOME) inside SOURCE is left out of the copy (it used to be refused): a
// workspace never holds its own store, nor the registry, keys and audit log next to it.
TEST_F(Fixture, CreateLeavesTheWorkspaceStoreOut) {
  auto r = create((src() / "home").string(), src().string(), "w1");
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ(r->left_out, std::vector<std::string>{"home"});
  EXPECT_FALSE(fs::exists(fs::path(r->tree) / "home"));
  EXPECT_TRUE(fs::exists(fs::path(r->tree) / "a.txt"));
  auto missing = create(home(), (tmp.path() / "nope").string(), "w1");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);
}

TEST_F(Fixture, HostileNamesAreEscapedInTheDiff) {
  Info i = make();
  write_text(fs::path(i.tree) / "x\n+++ b/forged\x1b[2J", "x\n");
  auto d = diff(home(), "w1");
  ASSERT_TRUE(d);
  std::string text = render_diff_text(*d);
  EXPECT_EQ(text.find("\x1b"), std::string::npos);
  EXPECT_NE(text.find("x\\x0a+++ b/forged\\x1b[2J"), std::string::npos) << text;
}


}  // namespace

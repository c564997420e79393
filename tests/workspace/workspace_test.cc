// Shadow workspaces: every command and every refusal (docs/workspace.md).
#include "wasmcap/workspace.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <random>

#include "policy/syntax.h"
#include "test_support.h"
#include "wasmcap/policy.h"
#include "wasmcap/runtime.h"

namespace fs = std::filesystem;
using namespace wasmcap;
using namespace wasmcap::workspace;
using wasmcap::testing::TempDir;

namespace {

using wasmcap::testing::read_text;
using wasmcap::testing::write_text;

struct Fixture : ::testing::Test {
  TempDir tmp;
  std::string home() { return (tmp.path() / "home").string(); }
  fs::path src() { return tmp.path() / "src"; }
  void SetUp() override {
    write_text(src() / "a.txt", "one\ntwo\nthree\n");
    write_text(src() / "sub/b.txt", "bee\n");
    write_text(src() / "bin.dat", std::string("x\0y", 3));
  }
  Info make(const std::string& name = "w1") {
    auto info = create(home(), src().string(), name);
    EXPECT_TRUE(info) << info.error().to_string();
    return info ? *info : Info{};
  }
  const Change* find(const DiffResult& d, const std::string& p) {
    for (const auto& c : d.changes) {
      if (c.path == p) return &c;
    }
    return nullptr;
  }
};

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

TEST_F(Fixture, CreateRefusesATreeHoldingTheWorkspaceStore) {
  auto r = create((src() / "home").string(), src().string(), "w1");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(r.error().message.find("workspaces folder"), std::string::npos) << r.error().message;
  EXPECT_FALSE(fs::exists(src() / "home/workspaces/w1"));
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

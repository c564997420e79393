// `ws create` leaves out what SOURCE's .gitignore files and --exclude name, with git's pattern
// semantics (compared with git itself), and diff and apply leave the same paths out.
#include "workspace_fixture.h"

#include <algorithm>
#include <set>

#include "workspace/ignore.h"

namespace wasmcap::workspace_test {
namespace {

std::set<std::string> files_of(const std::vector<Entry>& entries) {
  std::set<std::string> out;
  for (const Entry& e : entries) {
    if (e.type != Entry::Type::kDir && e.path.rfind(".git/", 0) != 0) out.insert(e.path);
  }
  return out;
}

// What git does not ignore in a fresh repository of `dir` (every file untracked): only the
// tree's .gitignore files count (no global or system excludes).
std::set<std::string> git_not_ignored(const fs::path& dir) {
  testing::ProcOptions o;
  o.cwd = dir.string();
  o.extra_env.emplace_back(std::string("HOME"), dir.string());
  o.extra_env.emplace_back(std::string("GIT_CONFIG_NOSYSTEM"), std::string("1"));
  auto init = testing::run_process({"/bin/sh", "-c", "git init -q"}, o);
  EXPECT_EQ(init.exit_code, 0) << testing::describe(init);
  auto ls = testing::run_process(
      {"/bin/sh", "-c",
       "git -c core.excludesFile=/dev/null ls-files --others --exclude-standard"}, o);
  EXPECT_EQ(ls.exit_code, 0) << testing::describe(ls);
  std::set<std::string> out;
  for (const auto& line : testing::lines_of(ls.out)) out.insert(line);
  return out;
}

TEST_F(Fixture, CreateLeavesOutWhatGitIgnores) {
  // Root and nested .gitignore files: unanchored names, anchored paths, directory-only rules,
  // ** at the start, middle and end, character sets, negation (also of a file in a directory
  // a trailing /** leaves), escapes, comments, trailing spaces.
  write_text(src() / ".gitignore",
             "# build output\n"
             "*.o\n"
             "/build/\n"
             "logs/\n"
             "!keep.o\n"
             "**/cache\n"
             "doc/**/*.tmp\n"
             "vendor/**\n"
             "!vendor/keep.txt\n"
             "data[0-9].csv\n"
             "\\#hash\n"
             "trail   \n"
             "out/\n");
  write_text(src() / "sub/.gitignore", "*.txt\n!b.txt\n/local\n");
  for (const char* f :
       {"x.o", "keep.o", "sub/y.o", "build/a", "sub/build/a", "logs/l", "sub/logs/l", "logs.txt",
        "cache/c", "sub/deep/cache/c", "doc/a.tmp", "doc/x/y/b.tmp", "doc/keep.md",
        "vendor/v.js", "vendor/keep.txt", "data1.csv", "data10.csv", "#hash", "trail",
        "sub/c.txt", "sub/local", "sub/deeper/local", "out", "sub/out/z"}) {
    write_text(src() / f, "x\n");
  }
  const std::set<std::string> git = git_not_ignored(src());
  ASSERT_FALSE(git.empty());
  CreateOptions o;
  auto info = create(home(), src().string(), "w1", o);
  ASSERT_TRUE(info) << info.error().to_string();
  EXPECT_EQ(files_of(info->entries), git);
  EXPECT_GT(info->ignored_files + info->ignored_dirs, 0u);
  // The tree holds exactly what the snapshot lists.
  EXPECT_FALSE(fs::exists(fs::path(info->tree) / "x.o"));
  EXPECT_TRUE(fs::exists(fs::path(info->tree) / "keep.o"));
  // --no-gitignore copies everything.
  o.gitignore = false;
  auto all = create(home(), src().string(), "w2", o);
  ASSERT_TRUE(all) << all.error().to_string();
  EXPECT_TRUE(files_of(all->entries).count("x.o"));
  EXPECT_EQ(all->ignored_files + all->ignored_dirs, 0u);
}

TEST_F(Fixture, ExcludePatternsComeLastAndStayOutOfDiffAndApply) {
  write_text(src() / ".gitignore", "*.log\n");
  write_text(src() / "keep.log", "k\n");
  write_text(src() / "node_modules/m/index.js", "m\n");
  CreateOptions o;
  o.exclude = {"node_modules/", "!keep.log"};
  auto info = create(home(), src().string(), "w1", o);
  ASSERT_TRUE(info) << info.error().to_string();
  auto files = files_of(info->entries);
  EXPECT_FALSE(files.count("node_modules/m/index.js"));
  EXPECT_TRUE(files.count("keep.log")) << "--exclude's ! outranks the .gitignore";
  EXPECT_EQ(info->ignored_dirs, 1u);
  // A tool writes into left-out paths and changes the tree's .gitignore: diff shows only the
  // .gitignore (the rules are the ones create used), and apply writes only that.
  write_text(fs::path(info->tree) / "node_modules/m/index.js", "changed\n");
  write_text(fs::path(info->tree) / "new.log", "n\n");
  write_text(fs::path(info->tree) / ".gitignore", "*.log\nsecret\n");
  write_text(fs::path(info->tree) / "secret", "s\n");
  auto d = workspace::diff(home(), "w1");
  ASSERT_TRUE(d) << d.error().to_string();
  std::set<std::string> changed;
  for (const auto& c : d->changes) changed.insert(c.path);
  EXPECT_EQ(changed, (std::set<std::string>{".gitignore", "secret"}));
  auto a = workspace::apply(home(), "w1");
  ASSERT_TRUE(a) << a.error().to_string();
  EXPECT_TRUE(a->conflicts.empty());
  EXPECT_EQ(read_text(src() / "node_modules/m/index.js"), "m\n");
  EXPECT_FALSE(fs::exists(src() / "new.log"));
  EXPECT_EQ(read_text(src() / "secret"), "s\n");
  // The recorded rules survive reopening the workspace.
  auto again = workspace::open(home(), "w1");
  ASSERT_TRUE(again) << again.error().to_string();
  EXPECT_EQ(again->exclude, o.exclude);
  ASSERT_EQ(again->ignore.size(), 1u);
  EXPECT_EQ(again->ignore[0].pattern, "*.log");
}

// The bounds on SOURCE's .gitignore files (ignore.h).
TEST_F(Fixture, GitignoreFilesAreBounded) {
  write_text(src() / ".gitignore", std::string(detail::Ignore::kMaxFileBytes + 1, '#'));
  auto big = create(home(), src().string(), "w1", CreateOptions{});
  ASSERT_FALSE(big);
  EXPECT_EQ(big.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(big.error().message.find("--no-gitignore"), std::string::npos) << big.error().message;
  std::string many;
  for (size_t i = 0; i <= detail::Ignore::kMaxRules; ++i) {
    many += 'f';
    many += std::to_string(i);
    many += '\n';
  }
  write_text(src() / ".gitignore", many);
  auto rules = create(home(), src().string(), "w2", CreateOptions{});
  ASSERT_FALSE(rules);
  EXPECT_NE(rules.error().message.find("rules"), std::string::npos) << rules.error().message;
  // Matching stays linear whatever the stars: a pattern that makes a backtracking matcher take
  // exponential time answers at once.
  const std::string name(200, 'a');
  std::string pat;
  for (int i = 0; i < 30; ++i) pat += "*a";
  EXPECT_FALSE(detail::glob_match(pat + "b", name));
  EXPECT_TRUE(detail::glob_match(pat, name));
  EXPECT_TRUE(detail::glob_match("[!b-z]?[a\\]]*", "ax]yz"));
}

}  // namespace
}  // namespace wasmcap::workspace_test

// The sandbox's `git`: a front end on libgit2 (README.md). Shared helpers of the subcommands.
#ifndef WASMCAP_GIT_GIT_H
#define WASMCAP_GIT_GIT_H
#include <git2.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

// Exit statuses as git's: 128 for fatal errors, 129 for usage, 1 for refusals.
#define EXIT_FATAL 128
#define EXIT_REFUSED 1

// "fatal: ..." on stderr, exit 128 (git's die()).
_Noreturn void die(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
// die() with libgit2's last error after WHAT.
_Noreturn void die_git(const char *what);
// "git: 'WHAT' is not supported in the sandbox" on stderr, exit 1.
_Noreturn void refuse(const char *what);
// die_git(WHAT) when ERR < 0.
void check(int err, const char *what);

// The repository found from the working directory (git's discovery), or die() as git does.
git_repository *open_repo(void);
// The working directory relative to the repository's work tree ("" at its top, else "dir/").
const char *cwd_prefix(git_repository *repo);

// PATH (relative to the work tree) as git prints it: relative to PREFIX (NULL: as is), C-quoted
// when it has control characters, '"', '\\' or bytes >= 0x80 (core.quotePath), and also when it
// has a space if QUOTE_SP (short status). Into OUT (static storage reused per call slot).
void put_path(FILE *out, const char *path, const char *prefix, bool quote_sp);
// As put_path into a malloc'd string.
char *path_str(const char *path, const char *prefix, bool quote_sp);

// The abbreviated object id git prints (7 hex digits, longer when ambiguous).
const char *short_id(git_repository *repo, const git_oid *id);

int cmd_init(int argc, char **argv);
int cmd_add(int argc, char **argv);
int cmd_commit(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_log(int argc, char **argv);
int cmd_ls_files(int argc, char **argv);
int cmd_diff(int argc, char **argv);
int cmd_show(int argc, char **argv);
int cmd_branch(int argc, char **argv);
int cmd_checkout(int argc, char **argv);
int cmd_switch(int argc, char **argv);
int cmd_restore(int argc, char **argv);
int cmd_grep(int argc, char **argv);
int cmd_blame(int argc, char **argv);

// Revision arguments (git_revs.c): ARG into SPEC (a single commit in SPEC->to, or a range;
// flag REV_EXCLUDED for ^A); false when ARG is a file and not a revision (a pathspec). Dies
// with git's messages; refuses the syntax libgit2 does not parse as git.
#define REV_EXCLUDED 0x100
bool parse_revision(git_repository *repo, const char *arg, bool dashdash, git_revspec *spec);
// git show REV:PATH: the object at PATH in REV's tree.
git_object *resolve_rev_path(git_repository *repo, const char *arg);
_Noreturn void die_ambiguous(const char *arg);

// The "medium" header and message of a commit (log, show); then its diff against its first
// parent: "\n" and the patch, or the diffstat when STAT (nothing for a merge or no change).
void print_commit_header(git_repository *repo, git_commit *c);
void print_commit_diff(git_repository *repo, git_commit *c, bool stat);
// "a => b", "dir/{a => b}": git's display of a rename (commit's summary, --stat).
char *rename_display(const char *a, const char *b);
// git's rename score as a libgit2 similarity metric (git_similarity.c).
extern const git_diff_similarity_metric git_rename_metric;
// git's default date: "Thu Nov 6 01:02:03 2026 +0100".
void format_date(char *out, size_t cap, const git_time *t);

// The long status (git status, and git commit with nothing to commit: COMMIT_MODE names the
// root "Initial commit" as git commit does). Returns whether anything is staged.
bool print_long_status(git_repository *repo, bool commit_mode);
// "Your branch is up to date with 'origin/x'." and the others (git_status.c); false when BRANCH
// has no upstream.
bool print_tracking(git_repository *repo, const char *branch, bool unborn);
#endif

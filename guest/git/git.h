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
// "error: ..." and "warning: ..." on stderr. These three as git's die/error/warning (its
// vreportf): control characters but tab and newline in the message are printed as '?'.
void error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void warning(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
// die()'s message without the exit (git's die_message: a hint follows).
void die_message(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
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
// when it has control characters, '"', '\\' or bytes >= 0x80 (the latter unless the repository
// sets core.quotePath false), and also when it has a space if QUOTE_SP (short status). Into
// OUT, through put_text (escaped on a terminal).
void put_path(FILE *out, const char *path, const char *prefix, bool quote_sp);
// Text from the repository (messages, names, file content) as git prints it, unless OUT is a
// terminal: then escaped as the host escapes text for one (escape_for_terminal, cat -v style):
// C0 controls but tab and newline and DEL as ^X, C1 and bidirectional controls as <U+XXXX>,
// bytes that are not UTF-8 as \xNN (README.md, "A hostile repository").
bool on_terminal(FILE *out);
void put_text(FILE *out, const char *s, size_t n);
// S as put_text would print it to OUT (S itself when OUT is not a terminal; else a copy that
// lives for the next 7 calls).
const char *term_str(FILE *out, const char *s);
// As put_path to stdout, into a malloc'd string.
char *path_str(const char *path, const char *prefix, bool quote_sp);

// The columns S takes on a terminal (wcwidth of its UTF-8 characters; its length in bytes when
// it is not UTF-8), as git's utf8_strwidth.
int display_width(const char *s);

// When the repository sets core.quotePath false: a line of libgit2's diff header (its names
// always quoted as by default) with each quoted name written as git then writes it.
char *requote_header_line(const char *line, size_t len);

// Pathspecs (git_cmds.c): git's are relative to the working directory, libgit2's to the top.
// PREFIX + ARG with "." and ".." resolved ("" for the whole tree; NULL when ARG leaves it); a
// leading ':' (git's pathspec magic) refused.
char *join_spec(const char *prefix, const char *arg);
// SPEC (from the top) matches an entry of INDEX, or when WORKDIR is given, a file in its work
// tree (libgit2's pathspec: fnmatch, a directory matches what is under it).
bool pathspec_matches(char *spec, git_index *index, git_repository *workdir);
// git's "ARG: 'ARG' is outside repository at 'TOP'" for a pathspec (PATHSPEC), else (a file
// name: blame, REV:PATH) "'ARG' is outside repository at 'TOP'"; exit 128.
_Noreturn void die_outside(git_repository *repo, const char *arg, bool pathspec);

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
// Refuses the revision syntax libgit2 reads differently from git (@{N}, :/TEXT, ^!, ...).
void refuse_rev_syntax(const char *arg);
// A path argument after the revisions without "--" (git's verify_filename): a file that exists
// or a pattern (glob characters); else git's messages (FIRST: the argument that ended the
// revisions, "ambiguous argument"; later ones "no such path"; an option: "must come before").
void verify_filename(const char *arg, bool first);
// git's looks_like_pathspec: an unescaped '*', '?' or '['.
bool looks_like_pathspec(const char *arg);

// git log's walk (git_walk.c): git's order and, when PRUNE, its history simplification for the
// paths (NPATHS 0: every path, as "-- .").
struct walk;
struct walk *walk_new(git_repository *repo, bool prune, char **paths, size_t npaths);
// A tip; EXCLUDE for ^A, the left of A..B and the merge bases of A...B.
void walk_push(struct walk *w, const git_oid *id, bool exclude);
bool walk_next(struct walk *w, git_oid *out);
void walk_free(struct walk *w);

// The "medium" header and message of a commit (log, show); then its diff against its first
// parent: "\n" and the patch, or the diffstat when STAT (nothing for a merge or no change),
// limited to PATHS (NULL or none: every path).
void print_commit_header(git_repository *repo, git_commit *c);
void print_commit_diff(git_repository *repo, git_commit *c, bool stat, const git_strarray *paths);
// "a => b", "dir/{a => b}": git's display of a rename (commit's summary, --stat).
char *rename_display(const char *a, const char *b);
// git's rename score as a libgit2 similarity metric (git_similarity.c).
extern const git_diff_similarity_metric git_rename_metric;
// git's default date: "Thu Nov 6 01:02:03 2026 +0100".
void format_date(char *out, size_t cap, const git_time *t);

// A detached HEAD as git status and git branch describe it (git's wt_status_get_detached_from):
// the latest "checkout: moving from A to B" in HEAD's reflog gives B (the name given, when it
// still names that commit, else its abbreviated id) into OUT, and AT whether HEAD is still
// there ("detached at") or has moved on ("detached from"). False when no checkout is logged.
bool detached_from(git_repository *repo, char *out, size_t cap, bool *at);

// The long status (git status, and git commit with nothing to commit: COMMIT_MODE names the
// root "Initial commit" as git commit does). Returns whether anything is staged.
bool print_long_status(git_repository *repo, bool commit_mode);
// "Your branch is up to date with 'origin/x'." and the others (git_status.c); false when BRANCH
// has no upstream.
bool print_tracking(git_repository *repo, const char *branch, bool unborn);
#endif

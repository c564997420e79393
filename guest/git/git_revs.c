// Revision arguments of log, diff and show (README.md): names, HEAD~N, HEAD^N, abbreviated ids,
// A..B, A...B, ^A, REV:PATH, resolved by libgit2's revparse; the syntax it parses differently
// from git or not at all (the reflog's @{...}, :/TEXT and ^{/TEXT} searches, A^! A^@ A^-) is
// refused. Unknown revisions and paths get git's messages.
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "git.h"


void refuse_rev_syntax(const char *arg) {
  static const char *const unsupported[] = {"@{", ":/", "^{/", "^!", "^@", "^-"};
  for (size_t i = 0; i < sizeof unsupported / sizeof unsupported[0]; i++)
    if (strstr(arg, unsupported[i]) != NULL) {
      char what[300];
      snprintf(what, sizeof what, "the revision syntax %s (in '%.200s')", unsupported[i], arg);
      refuse(what);
    }
}

_Noreturn void die_ambiguous(const char *arg) {
  die("ambiguous argument '%s': unknown revision or path not in the working tree.\n"
      "Use '--' to separate paths from revisions, like this:\n"
      "'git <command> [<revision>...] -- [<file>...]'", arg);
}

// ARG names a file in the working directory (git's verify_filename/verify_non_filename).
static bool is_file(const char *arg) {
  struct stat st;
  return arg[0] != '\0' && lstat(arg, &st) == 0;
}

bool looks_like_pathspec(const char *arg) {
  bool escaped = false;
  for (const char *p = arg; *p != '\0'; p++) {
    if (escaped) escaped = false;
    else if (*p == '\\') escaped = true;
    else if (*p == '*' || *p == '?' || *p == '[') return true;
  }
  return false;
}

void verify_filename(const char *arg, bool first) {
  if (arg[0] == '-') die("option '%s' must come before non-option arguments", arg);
  if (looks_like_pathspec(arg) || is_file(arg)) return;
  if (first) die_ambiguous(arg);
  die("%s: no such path in the working tree.\n"
      "Use 'git <command> -- <path>...' to specify paths that do not exist locally.", arg);
}

// ARG as revisions: a single commit in SPEC->to (flags GIT_REVSPEC_SINGLE), or a range. Dies as
// git when ARG is neither a revision nor a file; returns false when it is a file and not a
// revision (a pathspec: the caller refuses); dies when it is both and no "--" separates them.
bool parse_revision(git_repository *repo, const char *arg, bool dashdash, git_revspec *spec) {
  memset(spec, 0, sizeof *spec);
  refuse_rev_syntax(arg);
  const char *a = arg[0] == '^' ? arg + 1 : arg;
  int err = git_revparse(spec, repo, a);
  git_error_clear();
  if (err != 0) {
    if (dashdash) die("bad revision '%s'", arg);
    if (is_file(arg) || looks_like_pathspec(arg)) return false;
    die_ambiguous(arg);
  }
  if (!dashdash && is_file(arg)) {
    die("ambiguous argument '%s': both revision and filename\n"
        "Use '--' to separate paths from revisions, like this:\n"
        "'git <command> [<revision>...] -- [<file>...]'", arg);
  }
  // Every end must be a commit (peeled through tags).
  git_object **ends[2] = {&spec->from, &spec->to};
  if (spec->flags & GIT_REVSPEC_SINGLE) {
    spec->to = spec->from;
    spec->from = NULL;
  }
  for (int i = 0; i < 2; i++) {
    if (*ends[i] == NULL) continue;
    git_object *c = NULL;
    if (git_object_peel(&c, *ends[i], GIT_OBJECT_COMMIT) != 0) {
      git_error_clear();
      char what[300];
      snprintf(what, sizeof what, "a revision that is not a commit ('%.200s')", arg);
      refuse(what);
    }
    git_object_free(*ends[i]);
    *ends[i] = c;
  }
  if (arg[0] == '^') {
    if (!(spec->flags & GIT_REVSPEC_SINGLE)) refuse("^ before a range");
    spec->flags |= REV_EXCLUDED;
  }
  return true;
}

// git show REV:PATH — the object at PATH in REV's tree (PATH from the top, or relative to the
// working directory when it starts with ./ or ../), with git's messages.
git_object *resolve_rev_path(git_repository *repo, const char *arg) {
  const char *colon = strchr(arg, ':');
  char *rev = strndup(arg, (size_t)(colon - arg));
  if (rev == NULL) die("out of memory");
  refuse_rev_syntax(arg);
  git_object *obj = NULL, *treeish = NULL;
  if (git_revparse_single(&obj, repo, rev[0] != '\0' ? rev : "HEAD") != 0) {
    git_error_clear();
    if (rev[0] == '\0') refuse("the index as a revision (:PATH)");
    die("invalid object name '%s'.", rev);
  }
  if (rev[0] == '\0') refuse("the index as a revision (:PATH)");
  if (git_object_peel(&treeish, obj, GIT_OBJECT_TREE) != 0) die("invalid object name '%s'.", rev);
  const char *p = colon + 1;
  char *path = NULL;
  if (strncmp(p, "./", 2) == 0 || strncmp(p, "../", 3) == 0 || strcmp(p, ".") == 0 || strcmp(p, "..") == 0) {
    path = join_spec(cwd_prefix(repo), p);
    if (path == NULL) die_outside(repo, p, false);
  } else {
    path = strdup(p);
    if (path == NULL) die("out of memory");
  }
  size_t n = strlen(path);
  while (n > 0 && path[n - 1] == '/') path[--n] = '\0';
  git_object *out = NULL;
  if (path[0] == '\0') {
    out = treeish;
    treeish = NULL;
  } else {
    git_tree_entry *e = NULL;
    if (git_tree_entry_bypath(&e, (git_tree *)treeish, path) != 0) {
      git_error_clear();
      char full[4096];
      struct stat st;
      snprintf(full, sizeof full, "%s%s", git_repository_workdir(repo), path);
      if (lstat(full, &st) == 0) die("path '%s' exists on disk, but not in '%s'", path, rev);
      die("path '%s' does not exist in '%s'", path, rev);
    }
    check(git_tree_entry_to_object(&out, repo, e), "cannot read the object");
    git_tree_entry_free(e);
  }
  git_object_free(treeish);
  git_object_free(obj);
  free(path);
  free(rev);
  return out;
}

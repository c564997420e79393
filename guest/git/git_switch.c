// git checkout BRANCH, git checkout -b NAME, git checkout [--] PATHSPEC..., git switch BRANCH,
// git switch -c NAME (README.md):
// the work tree and the index updated to the branch's commit as git's two-way merge does (local
// changes carried when the branch does not touch their files, else git's refusal), HEAD moved,
// git's messages.
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "git.h"

void create_branch(git_repository *repo, const char *name);
bool current_branch(git_repository *repo, char *name, size_t cap);
char *join_spec(const char *prefix, const char *arg);

// Paths the checkout would overwrite, in git's unpack-trees error kinds: changes staged (the
// index differs from HEAD: ERROR_WOULD_OVERWRITE), in the work tree only (ERROR_NOT_UPTODATE_FILE),
// untracked files (ERROR_WOULD_LOSE_UNTRACKED_OVERWRITTEN).
struct blocked {
  git_index *index;
  git_tree *head;
  char **paths[3];
  size_t n[3], cap[3];
};

static bool staged(struct blocked *b, const char *path) {
  const git_index_entry *ie = git_index_get_bypath(b->index, path, 0);
  git_tree_entry *te = NULL;
  bool differs = ie == NULL || git_tree_entry_bypath(&te, b->head, path) != 0 ||
                 !git_oid_equal(&ie->id, git_tree_entry_id(te));
  git_error_clear();
  git_tree_entry_free(te);
  return differs;
}

static int on_conflict(git_checkout_notify_t why, const char *path, const git_diff_file *baseline,
                       const git_diff_file *target, const git_diff_file *workdir, void *payload) {
  (void)why, (void)target, (void)workdir;
  struct blocked *b = payload;
  int k = baseline == NULL ? 2 : staged(b, path) ? 0 : 1;
  if (b->n[k] == b->cap[k]) {
    b->cap[k] = b->cap[k] ? b->cap[k] * 2 : 8;
    char **np = realloc(b->paths[k], b->cap[k] * sizeof *np);
    if (np == NULL) die("out of memory");
    b->paths[k] = np;
  }
  b->paths[k][b->n[k]] = strdup(path);
  if (b->paths[k][b->n[k]++] == NULL) die("out of memory");
  return 0;
}

static int by_name(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

// git's unpack-trees errors for a checkout that would lose something, then "Aborting".
static void print_blocked(struct blocked *b) {
  static const char *const head[3] = {
      "error: Your local changes to the following files would be overwritten by checkout:\n",
      "error: Your local changes to the following files would be overwritten by checkout:\n",
      "error: The following untracked working tree files would be overwritten by checkout:\n"};
  static const char *const tail[3] = {
      "Please commit your changes or stash them before you switch branches.\n",
      "Please commit your changes or stash them before you switch branches.\n",
      "Please move or remove them before you switch branches.\n"};
  fflush(stdout);
  for (int k = 0; k < 3; k++) {
    if (b->n[k] == 0) continue;
    qsort(b->paths[k], b->n[k], sizeof *b->paths[k], by_name);
    fputs(head[k], stderr);
    for (size_t i = 0; i < b->n[k]; i++) {
      fputc('\t', stderr);
      put_path(stderr, b->paths[k][i], NULL, false);
      fputc('\n', stderr);
    }
    fputs(tail[k], stderr);
  }
  fputs("Aborting\n", stderr);
}

// What git prints after switching: the local changes against the new commit (name-status, from
// the top), on stdout.
static void show_local_changes(git_repository *repo, git_tree *tree) {
  git_diff *diff = NULL;
  git_diff_options o;
  git_diff_options_init(&o, GIT_DIFF_OPTIONS_VERSION);
  check(git_diff_tree_to_workdir_with_index(&diff, repo, tree, &o), "diff");
  for (size_t i = 0; i < git_diff_num_deltas(diff); i++) {
    const git_diff_delta *d = git_diff_get_delta(diff, i);
    char status = git_diff_status_char(d->status);
    if (status == ' ') continue;
    printf("%c\t", status);
    put_path(stdout, d->new_file.path, NULL, false);
    putchar('\n');
  }
  git_diff_free(diff);
}

// The state checkout/switch refuse: detached HEAD, an unborn branch, a merge in progress.
static void check_switchable(git_repository *repo, const char *cmd) {
  char what[128];
  if (git_repository_state(repo) != GIT_REPOSITORY_STATE_NONE) {
    snprintf(what, sizeof what, "%s during a merge, rebase, cherry-pick, revert or bisect", cmd);
    refuse(what);
  }
  if (git_repository_head_detached(repo) == 1) {
    snprintf(what, sizeof what, "%s from a detached HEAD", cmd);
    refuse(what);
  }
  if (git_repository_head_unborn(repo) == 1) {
    snprintf(what, sizeof what, "%s from a branch without commits", cmd);
    refuse(what);
  }
  git_index *index = NULL;
  check(git_repository_index(&index, repo), "cannot read the index");
  if (git_index_has_conflicts(index)) {
    snprintf(what, sizeof what, "%s with unmerged paths", cmd);
    refuse(what);
  }
  git_index_free(index);
}

// A local branch NAME exists, or there is a remote-tracking one of that name (git would create
// the local branch from it: refused).
static bool local_branch(git_repository *repo, const char *name, const char *cmd) {
  git_reference *ref = NULL;
  if (git_branch_lookup(&ref, repo, name, GIT_BRANCH_LOCAL) == 0) {
    git_reference_free(ref);
    return true;
  }
  git_error_clear();
  git_branch_iterator *it = NULL;
  git_branch_t type;
  bool remote = false;
  if (git_branch_iterator_new(&it, repo, GIT_BRANCH_REMOTE) == 0) {
    while (!remote && git_branch_next(&ref, &type, it) == 0) {
      const char *n = NULL;
      if (git_branch_name(&n, ref) == 0) {
        const char *slash = strchr(n, '/');
        if (slash != NULL && strcmp(slash + 1, name) == 0) remote = true;
      }
      git_reference_free(ref);
    }
    git_branch_iterator_free(it);
  }
  git_error_clear();
  if (remote) {
    char what[300];
    snprintf(what, sizeof what, "%s of a branch only a remote has (creating it from there)", cmd);
    refuse(what);
  }
  return false;
}

// git (2.35 and later) does not remove the working directory when the branch does not have it
// (libgit2 removes the directories that become empty): made again, empty, as git leaves it.
static void keep_cwd(git_repository *repo) {
  const char *prefix = cwd_prefix(repo);
  char dir[4096];
  int n = snprintf(dir, sizeof dir, "%s", git_repository_workdir(repo));
  for (const char *p = prefix; *p != '\0' && n > 0 && (size_t)n < sizeof dir; p++) {
    dir[n++] = *p;
    dir[n] = '\0';
    if (*p == '/') mkdir(dir, 0777);
  }
}

// Switch to the existing local branch NAME.
static int switch_to(git_repository *repo, const char *name, const char *cmd) {
  check_switchable(repo, cmd);
  char cur[1024] = "";
  current_branch(repo, cur, sizeof cur);
  char ref[1100];
  snprintf(ref, sizeof ref, "refs/heads/%s", name);
  git_object *target = NULL;
  check(git_revparse_single(&target, repo, ref), "cannot read the branch");
  git_tree *tree = NULL;
  check(git_commit_tree(&tree, (git_commit *)target), "tree");
  if (strcmp(cur, name) != 0) {
    struct blocked b = {0};
    git_object *head = NULL;
    check(git_repository_index(&b.index, repo), "cannot read the index");
    check(git_revparse_single(&head, repo, "HEAD^{tree}"), "cannot read HEAD");
    b.head = (git_tree *)head;
    git_checkout_options co = GIT_CHECKOUT_OPTIONS_INIT;
    co.checkout_strategy = GIT_CHECKOUT_SAFE;
    co.notify_flags = GIT_CHECKOUT_NOTIFY_CONFLICT;
    co.notify_cb = on_conflict;
    co.notify_payload = &b;
    int err = git_checkout_tree(repo, target, &co);
    git_index_free(b.index);
    git_object_free(head);
    if (b.n[0] + b.n[1] + b.n[2] > 0) {
      print_blocked(&b);
      return 1;
    }
    check(err, "cannot check out the branch");
    keep_cwd(repo);
    check(git_repository_set_head(repo, ref), "cannot switch to the branch");
  }
  show_local_changes(repo, tree);
  fflush(stdout);
  if (strcmp(cur, name) == 0) fprintf(stderr, "Already on '%s'\n", name);
  else fprintf(stderr, "Switched to branch '%s'\n", name);
  print_tracking(repo, name, false);
  git_tree_free(tree);
  git_object_free(target);
  return 0;
}

// checkout -b NAME / switch -c NAME: a new branch at HEAD, switched to.
static int new_branch(git_repository *repo, const char *name) {
  char ref[1100];
  snprintf(ref, sizeof ref, "refs/heads/%s", name);
  if (git_repository_head_unborn(repo) == 1) {
    // No commit yet: the new branch is only HEAD's name.
    int valid = 0;
    if (git_branch_name_is_valid(&valid, name) != 0 || !valid || name[0] == '-')
      die("'%s' is not a valid branch name", name);
    char cur[1024] = "";
    if (current_branch(repo, cur, sizeof cur) && strcmp(cur, name) == 0)
      die("a branch named '%s' already exists", name);
  } else {
    create_branch(repo, name);
  }
  check(git_repository_set_head(repo, ref), "cannot switch to the branch");
  fprintf(stderr, "Switched to a new branch '%s'\n", name);
  return 0;
}

static _Noreturn void refuse_args(const char *cmd, const char *arg) {
  char what[300];
  snprintf(what, sizeof what, "%s %.250s", cmd, arg);
  refuse(what);
}

// git checkout [--] PATHSPEC...: the files from the index (as git restore), then, without "--",
// git's "Updated N paths from the index" (N: the files written). A pathspec matching nothing:
// git's error for each, exit 1, nothing written.
static int checkout_paths(git_repository *repo, char **args, int n, bool count) {
  git_index *index = NULL;
  check(git_repository_index(&index, repo), "cannot read the index");
  if (git_index_has_conflicts(index)) refuse("checkout of paths with unmerged paths");
  const char *prefix = cwd_prefix(repo);
  char **specs = calloc((size_t)n + 1, sizeof *specs);
  if (specs == NULL) die("out of memory");
  bool all = false, missing = false;
  for (int i = 0; i < n; i++) {
    specs[i] = join_spec(prefix, args[i]);
    if (specs[i] == NULL) die("%s: '%s' is outside repository", args[i], args[i]);
    if (specs[i][0] == '\0' && git_index_entrycount(index) > 0) {
      all = true;
      continue;
    }
    git_strarray one = {&specs[i], 1};
    git_pathspec *ps = NULL;
    git_pathspec_match_list *m = NULL;
    size_t found = 0;
    check(git_pathspec_new(&ps, &one), "invalid pathspec");
    if (git_pathspec_match_index(&m, index, 0, ps) == 0) found = git_pathspec_match_list_entrycount(m);
    git_pathspec_match_list_free(m);
    git_pathspec_free(ps);
    git_error_clear();
    if (found == 0) {
      fprintf(stderr, "error: pathspec '%s' did not match any file(s) known to git\n", args[i]);
      missing = true;
    }
  }
  if (missing) return 1;
  // The files written: those whose content differs from the index's (git's count is by its
  // refreshed stat data, the same files; libgit2's checkout also rewrites files whose stat data
  // in the index is stale).
  git_diff_options o;
  git_diff_options_init(&o, GIT_DIFF_OPTIONS_VERSION);
  o.pathspec.strings = specs;
  o.pathspec.count = all ? 0 : (size_t)n;
  git_diff *diff = NULL;
  check(git_diff_index_to_workdir(&diff, repo, index, &o), "diff");
  size_t updated = git_diff_num_deltas(diff);
  git_diff_free(diff);
  git_checkout_options co = GIT_CHECKOUT_OPTIONS_INIT;
  co.checkout_strategy = GIT_CHECKOUT_FORCE;  // the index's stat data refreshed, as git's
  co.paths.strings = specs;
  co.paths.count = all ? 0 : (size_t)n;
  check(git_checkout_index(repo, index, &co), "cannot check out the paths");
  if (count) fprintf(stderr, "Updated %zu path%s from the index\n", updated, updated == 1 ? "" : "s");
  git_index_free(index);
  return 0;
}

int cmd_checkout(int argc, char **argv) {
  if (argc == 3 && strcmp(argv[1], "-b") == 0) {
    git_repository *repo = open_repo();
    int rc = new_branch(repo, argv[2]);
    git_repository_free(repo);
    return rc;
  }
  int dashdash = 0;
  for (int i = 1; i < argc && dashdash == 0; i++)
    if (strcmp(argv[i], "--") == 0) dashdash = i;
  for (int i = 1; i < (dashdash ? dashdash : argc); i++)
    if (argv[i][0] == '-') refuse_args("checkout", argv[i]);
  if (argc < 2 || dashdash > 1) refuse_args("checkout", dashdash > 1 ? "REV -- PATHSPEC (from a commit)" : "");
  git_repository *repo = open_repo();
  int rc;
  if (dashdash == 1) {
    if (argc == 2) refuse("checkout --");
    rc = checkout_paths(repo, argv + 2, argc - 2, false);
  } else if (argc == 2 && local_branch(repo, argv[1], "checkout")) {
    rc = switch_to(repo, argv[1], "checkout");
  } else {
    git_object *obj = NULL;
    if (git_revparse_single(&obj, repo, argv[1]) == 0)
      refuse(argc == 2 ? "checkout of a commit (a detached HEAD)" : "checkout REV PATHSPEC (from a commit)");
    git_error_clear();
    rc = checkout_paths(repo, argv + 1, argc - 1, true);
  }
  git_repository_free(repo);
  return rc;
}

int cmd_switch(int argc, char **argv) {
  git_repository *repo = open_repo();
  int rc;
  if (argc == 3 && (strcmp(argv[1], "-c") == 0 || strcmp(argv[1], "--create") == 0)) {
    rc = new_branch(repo, argv[2]);
  } else if (argc == 2 && argv[1][0] != '-') {
    if (local_branch(repo, argv[1], "switch")) {
      rc = switch_to(repo, argv[1], "switch");
    } else {
      git_object *obj = NULL;
      if (git_revparse_single(&obj, repo, argv[1]) == 0) {
        // git's die_expecting_a_branch: what the name is
        char ref[1100];
        git_reference *r = NULL;
        const char *kind = "commit ";
        snprintf(ref, sizeof ref, "refs/tags/%s", argv[1]);
        if (git_reference_lookup(&r, repo, ref) == 0) kind = "tag ";
        git_reference_free(r);
        r = NULL;
        snprintf(ref, sizeof ref, "refs/remotes/%s", argv[1]);
        if (git_reference_lookup(&r, repo, ref) == 0) kind = "remote branch ";
        git_reference_free(r);
        git_error_clear();
        if (strcmp(argv[1], "HEAD") == 0 || strncmp(argv[1], "refs/", 5) == 0) refuse("switch of a reference that is not a branch");
        fflush(stdout);
        fprintf(stderr, "fatal: a branch is expected, got %s'%s'\n"
                        "hint: If you want to detach HEAD at the commit, try again with the --detach option.\n",
                kind, argv[1]);
        exit(EXIT_FATAL);
      }
      die("invalid reference: %s", argv[1]);
    }
  } else {
    refuse_args("switch", argc > 1 ? argv[1] : "");
  }
  git_repository_free(repo);
  return rc;
}

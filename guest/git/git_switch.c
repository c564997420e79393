// git checkout BRANCH|COMMIT|--detach|-, git checkout -b NAME, git checkout [--] PATHSPEC...,
// git switch BRANCH|--detach|-, git switch -c NAME (README.md): the work tree and the index
// updated to the commit as git's two-way merge does (local changes carried when the switch does
// not touch their files, else git's refusal), HEAD moved onto the branch or detached, git's
// messages and its reflog entry.
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "git.h"

void create_branch(git_repository *repo, const char *name);
bool current_branch(git_repository *repo, char *name, size_t cap);

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

// git's unpack-trees errors for a checkout that would lose something, then "Aborting". Each
// list is one error() as git's display_error_msgs: the paths as they are (not quoted), so cut
// at 4096 bytes and with their control characters shown as '?' (git's vreportf).
static void print_blocked(struct blocked *b) {
  static const char *const head[3] = {
      "Your local changes to the following files would be overwritten by checkout:\n",
      "Your local changes to the following files would be overwritten by checkout:\n",
      "The following untracked working tree files would be overwritten by checkout:\n"};
  static const char *const tail[3] = {
      "Please commit your changes or stash them before you switch branches.",
      "Please commit your changes or stash them before you switch branches.",
      "Please move or remove them before you switch branches."};
  fflush(stdout);
  for (int k = 0; k < 3; k++) {
    if (b->n[k] == 0) continue;
    qsort(b->paths[k], b->n[k], sizeof *b->paths[k], by_name);
    char *list = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&list, &len);
    if (m == NULL) die("out of memory");
    for (size_t i = 0; i < b->n[k]; i++) fprintf(m, "\t%s\n", b->paths[k][i]);
    fclose(m);
    error("%s%s%s", head[k], list, tail[k]);
    free(list);
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

// The state checkout/switch refuse: an unborn branch, a merge in progress, unmerged paths.
static void check_switchable(git_repository *repo, const char *cmd) {
  char what[128];
  if (git_repository_state(repo) != GIT_REPOSITORY_STATE_NONE) {
    snprintf(what, sizeof what, "%s during a merge, rebase, cherry-pick, revert or bisect", cmd);
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

// "HEAD is now at abc1234 subject" and the others (git's describe_detached_head), on stderr.
static void describe_commit(git_repository *repo, const char *what, const git_oid *id) {
  git_commit *c = NULL;
  check(git_commit_lookup(&c, repo, id), "cannot read a commit");
  const char *summary = git_commit_summary(c);
  fprintf(stderr, "%s %s %s\n", what, short_id(repo, id), summary != NULL ? term_str(stderr, summary) : "");
  git_commit_free(c);
}

// Leaving the detached commit OLD for NEW: the commits only OLD reached (reachable from no
// reference and not from NEW) listed as git's warning (4 of them, then the last or "... and N
// more"), else "Previous HEAD position was" (git's orphaned_commit_warning, its walk).
static void orphaned_commit_warning(git_repository *repo, const git_oid *old, const git_oid *new) {
  struct walk *w = walk_new(repo, false, NULL, 0);
  walk_push(w, old, false);
  git_reference_iterator *it = NULL;
  git_reference *ref = NULL;
  check(git_reference_iterator_new(&it, repo), "references");
  while (git_reference_next(&ref, it) == 0) {
    git_object *obj = NULL;
    if (git_reference_peel(&obj, ref, GIT_OBJECT_COMMIT) == 0) walk_push(w, git_object_id(obj), true);
    git_error_clear();
    git_object_free(obj);
    git_reference_free(ref);
  }
  git_reference_iterator_free(it);
  walk_push(w, new, true);
  enum { CUTOFF = 4 };
  char *list = NULL;
  size_t len = 0;
  FILE *sb = open_memstream(&list, &len);
  if (sb == NULL) die("out of memory");
  git_oid id, last;
  size_t lost = 0;
  while (walk_next(w, &id)) {
    if (lost < CUTOFF) {
      git_commit *c = NULL;
      check(git_commit_lookup(&c, repo, &id), "cannot read a commit");
      fprintf(sb, "  %s %s\n", short_id(repo, &id), git_commit_summary(c) ? git_commit_summary(c) : "");
      git_commit_free(c);
    }
    git_oid_cpy(&last, &id);
    lost++;
  }
  if (lost > CUTOFF + 1) {
    fprintf(sb, " ... and %zu more.\n", lost - CUTOFF);
  } else if (lost == CUTOFF + 1) {
    git_commit *c = NULL;
    check(git_commit_lookup(&c, repo, &last), "cannot read a commit");
    fprintf(sb, "  %s %s\n", short_id(repo, &last), git_commit_summary(c) ? git_commit_summary(c) : "");
    git_commit_free(c);
  }
  fclose(sb);
  walk_free(w);
  if (lost == 0) {
    describe_commit(repo, "Previous HEAD position was", old);
  } else {
    fprintf(stderr, "Warning: you are leaving %zu commit%s behind, not connected to\n"
                    "any of your branches:\n\n%s\n", lost, lost == 1 ? "" : "s", term_str(stderr, list));
    fprintf(stderr, "If you want to keep %s by creating a new branch, this may be a good time\n"
                    "to do so with:\n\n git branch <new-branch-name> %s\n\n",
            lost == 1 ? "it" : "them", short_id(repo, old));
  }
  free(list);
}

// Moves HEAD, the index and the work tree to TARGET: onto the local branch NAME when BRANCH,
// else detached at TARGET (NAME as given: git's reflog and advice name it so). git's messages;
// the reflog entry "checkout: moving from OLD to NAME" as git writes it (git status reads it
// back for "HEAD detached at").
static int switch_to(git_repository *repo, const char *name, const git_oid *target_id, bool branch,
                     bool force_detach, const char *cmd) {
  check_switchable(repo, cmd);
  char cur[1024] = "";
  bool attached = current_branch(repo, cur, sizeof cur);
  git_oid old;
  check(git_reference_name_to_id(&old, repo, "HEAD"), "cannot read HEAD");
  char ref[1100];
  snprintf(ref, sizeof ref, "refs/heads/%s", name);
  git_object *target = NULL;
  check(git_object_lookup(&target, repo, target_id, GIT_OBJECT_COMMIT), "cannot read the commit");
  git_tree *tree = NULL;
  check(git_commit_tree(&tree, (git_commit *)target), "tree");
  bool same_branch = branch && attached && strcmp(cur, name) == 0;
  bool nothing = !branch && !force_detach && strcmp(name, "HEAD") == 0;  // git checkout HEAD
  if (!same_branch && !nothing) {
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
    check(err, "cannot check out the commit");
    keep_cwd(repo);
  }
  show_local_changes(repo, tree);
  fflush(stdout);
  if (!attached && !git_oid_equal(&old, target_id)) orphaned_commit_warning(repo, &old, target_id);
  if (!nothing) {  // git writes HEAD (and its reflog) for "Already on" too
    char hex[GIT_OID_HEXSZ + 1];
    git_oid_tostr(hex, sizeof hex, &old);
    char *msg = NULL;
    size_t mlen = 0;
    FILE *m = open_memstream(&msg, &mlen);
    if (m == NULL) die("out of memory");
    fprintf(m, "checkout: moving from %s to %s", attached ? cur : hex, name);
    fclose(m);
    git_reference *head = NULL;
    if (same_branch) {
      // libgit2 leaves an unchanged HEAD and its reflog alone; git logs the checkout (so that
      // "checkout -" finds it): appended here.
      git_reflog *log = NULL;
      git_signature *sig = NULL;
      if (git_signature_default(&sig, repo) != 0) check(git_signature_now(&sig, "unknown", "unknown"), "signature");
      check(git_reflog_read(&log, repo, "HEAD"), "cannot read HEAD's reflog");
      check(git_reflog_append(log, target_id, sig, msg), "cannot write HEAD's reflog");
      check(git_reflog_write(log), "cannot write HEAD's reflog");
      git_reflog_free(log);
      git_signature_free(sig);
      git_error_clear();
    } else if (branch) {
      check(git_reference_symbolic_create(&head, repo, "HEAD", ref, 1, msg), "cannot switch to the branch");
    } else {
      check(git_reference_create(&head, repo, "HEAD", target_id, 1, msg), "cannot detach HEAD");
    }
    git_reference_free(head);
    free(msg);
  }
  if (branch) {
    if (same_branch) fprintf(stderr, "Already on '%s'\n", term_str(stderr, name));
    else fprintf(stderr, "Switched to branch '%s'\n", term_str(stderr, name));
    print_tracking(repo, name, false);
  } else if (!nothing) {
    if (attached && !force_detach)
      fprintf(stderr,
              "Note: switching to '%s'.\n\n"
              "You are in 'detached HEAD' state. You can look around, make experimental\n"
              "changes and commit them, and you can discard any commits you make in this\n"
              "state without impacting any branches by switching back to a branch.\n\n"
              "If you want to create a new branch to retain commits you create, you may\n"
              "do so (now or later) by using -c with the switch command. Example:\n\n"
              "  git switch -c <new-branch-name>\n\n"
              "Or undo this operation with:\n\n"
              "  git switch -\n\n"
              "Turn off this advice by setting config variable advice.detachedHead to false\n\n",
              term_str(stderr, name));
    describe_commit(repo, "HEAD is now at", target_id);
  }
  git_tree_free(tree);
  git_object_free(target);
  return 0;
}

// git's @{-1} (checkout -, switch -): the "from" of the latest "checkout: moving from X to Y"
// in HEAD's reflog (malloc'd), or NULL.
static char *previous_checkout(git_repository *repo) {
  git_reflog *log = NULL;
  char *out = NULL;
  if (git_reflog_read(&log, repo, "HEAD") != 0) {
    git_error_clear();
    return NULL;
  }
  for (size_t i = 0; i < git_reflog_entrycount(log) && out == NULL; i++) {
    const char *msg = git_reflog_entry_message(git_reflog_entry_byindex(log, i));
    if (msg == NULL || strncmp(msg, "checkout: moving from ", 22) != 0) continue;
    const char *to = strstr(msg + 22, " to ");
    if (to == NULL) continue;
    out = strndup(msg + 22, (size_t)(to - (msg + 22)));
    if (out == NULL) die("out of memory");
    // a name check-ref-format refuses (a reflog written by hand) resolves to nothing in git
    char full[1100];
    int valid = 0;
    snprintf(full, sizeof full, "refs/heads/%s", out);
    if (git_reference_name_is_valid(&valid, full) != 0 || !valid) {
      git_error_clear();
      free(out);
      out = NULL;
      break;
    }
  }
  git_reflog_free(log);
  return out;
}

bool detached_from(git_repository *repo, char *out, size_t cap, bool *at) {
  git_reflog *log = NULL;
  bool found = false;
  if (git_reflog_read(&log, repo, "HEAD") != 0) {
    git_error_clear();
    return false;
  }
  for (size_t i = 0; i < git_reflog_entrycount(log) && !found; i++) {
    const git_reflog_entry *e = git_reflog_entry_byindex(log, i);
    const char *msg = git_reflog_entry_message(e);
    if (msg == NULL || strncmp(msg, "checkout: moving from ", 22) != 0) continue;
    const char *to = strstr(msg + 22, " to ");
    if (to == NULL) continue;
    found = true;
    to += 4;
    size_t tlen = strcspn(to, "\n");
    const git_oid *noid = git_reflog_entry_id_new(e);
    snprintf(out, cap, "%s", short_id(repo, noid));
    if (!(tlen == 4 && strncmp(to, "HEAD", 4) == 0)) {
      // git's dwim_ref: exactly one of the rules names a reference, whose commit is the one
      // checked out; named without refs/tags/ or refs/remotes/.
      static const char *const rules[] = {"%.*s", "refs/%.*s", "refs/tags/%.*s", "refs/heads/%.*s",
                                          "refs/remotes/%.*s", "refs/remotes/%.*s/HEAD"};
      char name[1200], match[1200] = "";
      int count = 0;
      for (size_t r = 0; r < sizeof rules / sizeof rules[0]; r++) {
        snprintf(name, sizeof name, rules[r], (int)tlen, to);
        git_reference *ref = NULL;
        if (git_reference_lookup(&ref, repo, name) == 0) {
          if (count++ == 0) snprintf(match, sizeof match, "%s", name);
          git_reference_free(ref);
        }
        git_error_clear();
      }
      git_object *obj = NULL;
      if (count == 1 && git_revparse_single(&obj, repo, match) == 0) {
        git_object *c = NULL;
        if (git_object_peel(&c, obj, GIT_OBJECT_COMMIT) == 0 && git_oid_equal(git_object_id(c), noid)) {
          const char *from = match;
          if (strncmp(from, "refs/tags/", 10) == 0) from += 10;
          else if (strncmp(from, "refs/remotes/", 13) == 0) from += 13;
          snprintf(out, cap, "%s", from);
        }
        git_object_free(c);
      }
      git_object_free(obj);
      git_error_clear();
    }
    git_oid head;
    *at = git_reference_name_to_id(&head, repo, "HEAD") == 0 && git_oid_equal(&head, noid);
    git_error_clear();
  }
  git_reflog_free(log);
  return found;
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
  fprintf(stderr, "Switched to a new branch '%s'\n", term_str(stderr, name));
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
    if (specs[i] == NULL) die_outside(repo, args[i], true);
    if (specs[i][0] == '\0' && git_index_entrycount(index) > 0) {
      all = true;
      continue;
    }
    if (!pathspec_matches(specs[i], index, NULL)) {
      error("pathspec '%s' did not match any file(s) known to git", args[i]);
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

// NAME as a commit to detach at (git's revision syntax, refused where libgit2 reads it
// differently), or false.
static bool commit_of(git_repository *repo, const char *name, git_oid *out) {
  refuse_rev_syntax(name);
  git_object *obj = NULL, *c = NULL;
  bool ok = git_revparse_single(&obj, repo, name) == 0 && git_object_peel(&c, obj, GIT_OBJECT_COMMIT) == 0;
  if (ok) git_oid_cpy(out, git_object_id(c));
  git_object_free(obj);
  git_object_free(c);
  git_error_clear();
  return ok;
}

// checkout/switch --detach [REV] (REV NULL: HEAD).
static int detach(git_repository *repo, const char *rev, const char *cmd) {
  git_oid id;
  if (rev == NULL) {  // HEAD, which must have a commit
    if (git_repository_head_unborn(repo) == 1) die("You are on a branch yet to be born");
    rev = "HEAD";
  }
  if (!commit_of(repo, rev, &id)) {
    if (strcmp(cmd, "switch") == 0) die("invalid reference: %s", rev);
    refuse_args("checkout --detach", rev);
  }
  return switch_to(repo, rev, &id, false, true, cmd);
}

// checkout - / switch -: where HEAD was before the latest checkout (git's @{-1}).
static int switch_back(git_repository *repo, const char *cmd) {
  char *prev = previous_checkout(repo);
  git_oid id;
  if (prev == NULL) {  // git: @{-1} resolves to nothing
    if (strcmp(cmd, "switch") == 0) die("invalid reference: @{-1}");
    fflush(stdout);
    fputs("error: pathspec '-' did not match any file(s) known to git\n", stderr);
    return 1;
  }
  int rc;
  if (local_branch(repo, prev, cmd)) {
    check(git_reference_name_to_id(&id, repo, "HEAD"), "cannot read HEAD");
    git_reference *ref = NULL;
    check(git_branch_lookup(&ref, repo, prev, GIT_BRANCH_LOCAL), "cannot read the branch");
    rc = switch_to(repo, prev, git_reference_target(ref), true, false, cmd);
    git_reference_free(ref);
  } else if (commit_of(repo, prev, &id)) {
    if (strcmp(cmd, "switch") == 0) {
      die_message("a branch is expected, got commit '%s'", prev);
      fputs("hint: If you want to detach HEAD at the commit, try again with the --detach option.\n", stderr);
      exit(EXIT_FATAL);
    }
    rc = switch_to(repo, prev, &id, false, false, cmd);
  } else {
    refuse_args(cmd, "- to where HEAD was, which is gone");
  }
  free(prev);
  return rc;
}

// The local branch NAME, switched to.
static int switch_branch(git_repository *repo, const char *name, const char *cmd) {
  git_reference *ref = NULL;
  check(git_branch_lookup(&ref, repo, name, GIT_BRANCH_LOCAL), "cannot read the branch");
  git_oid id;
  git_oid_cpy(&id, git_reference_target(ref));
  git_reference_free(ref);
  return switch_to(repo, name, &id, true, false, cmd);
}

int cmd_checkout(int argc, char **argv) {
  if (argc == 3 && strcmp(argv[1], "-b") == 0) {
    git_repository *repo = open_repo();
    int rc = new_branch(repo, argv[2]);
    git_repository_free(repo);
    return rc;
  }
  if ((argc == 2 || argc == 3) && strcmp(argv[1], "--detach") == 0) {
    git_repository *repo = open_repo();
    int rc = detach(repo, argc == 3 ? argv[2] : NULL, "checkout");
    git_repository_free(repo);
    return rc;
  }
  if (argc == 2 && strcmp(argv[1], "-") == 0) {
    git_repository *repo = open_repo();
    int rc = switch_back(repo, "checkout");
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
  git_oid id;
  if (dashdash == 1) {
    if (argc == 2) refuse("checkout --");
    rc = checkout_paths(repo, argv + 2, argc - 2, false);
  } else if (argc == 2 && local_branch(repo, argv[1], "checkout")) {
    rc = switch_branch(repo, argv[1], "checkout");
  } else if (argc == 2 && commit_of(repo, argv[1], &id)) {
    // A commit or a tag (as git, even when a file has that name): HEAD detached there.
    rc = switch_to(repo, argv[1], &id, false, false, "checkout");
  } else {
    git_object *obj = NULL;
    if (git_revparse_single(&obj, repo, argv[1]) == 0) refuse("checkout REV PATHSPEC (from a commit)");
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
  } else if ((argc == 2 || argc == 3) && (strcmp(argv[1], "--detach") == 0 || strcmp(argv[1], "-d") == 0)) {
    rc = detach(repo, argc == 3 ? argv[2] : NULL, "switch");
  } else if (argc == 2 && strcmp(argv[1], "-") == 0) {
    rc = switch_back(repo, "switch");
  } else if (argc == 2 && argv[1][0] != '-') {
    if (local_branch(repo, argv[1], "switch")) {
      rc = switch_branch(repo, argv[1], "switch");
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
        die_message("a branch is expected, got %s'%s'", kind, argv[1]);
        fputs("hint: If you want to detach HEAD at the commit, try again with the --detach option.\n", stderr);
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

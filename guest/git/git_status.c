// git status: long (default), --short/-s, --porcelain[=v1], with -b/--branch (README.md).
#include <stdlib.h>
#include <string.h>

#include "git.h"

// The branch HEAD names ("master"), or NULL when HEAD is detached.
static const char *head_branch(git_repository *repo, bool *unborn) {
  static char name[1024];
  git_reference *head = NULL;
  check(git_reference_lookup(&head, repo, "HEAD"), "cannot read HEAD");
  const char *target = git_reference_symbolic_target(head);
  *unborn = false;
  if (target == NULL) {
    git_reference_free(head);
    return NULL;
  }
  snprintf(name, sizeof name, "%s", strncmp(target, "refs/heads/", 11) == 0 ? target + 11 : target);
  git_reference_free(head);
  *unborn = git_repository_head_unborn(repo) == 1;
  return name;
}

struct tracking {
  bool has;            // an upstream is configured
  bool gone;           // ... but its ref does not exist
  char name[1024];     // "origin/master"
  size_t ahead, behind;
};

static void upstream_of(git_repository *repo, const char *branch, bool unborn, struct tracking *t) {
  memset(t, 0, sizeof *t);
  char ref[1100];
  snprintf(ref, sizeof ref, "refs/heads/%s", branch);
  git_buf up = {0};
  if (git_branch_upstream_name(&up, repo, ref) != 0) {
    git_error_clear();
    return;
  }
  t->has = true;
  const char *n = up.ptr;
  if (strncmp(n, "refs/remotes/", 13) == 0) n += 13;
  else if (strncmp(n, "refs/heads/", 11) == 0) n += 11;
  snprintf(t->name, sizeof t->name, "%s", n);
  git_oid theirs, ours;
  if (git_reference_name_to_id(&theirs, repo, up.ptr) != 0) {
    git_error_clear();
    t->gone = true;
  } else if (!unborn && git_reference_name_to_id(&ours, repo, ref) == 0) {
    check(git_graph_ahead_behind(&t->ahead, &t->behind, repo, &ours, &theirs), "ahead/behind");
  }
  git_buf_dispose(&up);
}

static git_status_list *status_list(git_repository *repo) {
  git_status_options o = GIT_STATUS_OPTIONS_INIT;
  o.show = GIT_STATUS_SHOW_INDEX_AND_WORKDIR;
  o.flags = GIT_STATUS_OPT_INCLUDE_UNTRACKED | GIT_STATUS_OPT_RENAMES_HEAD_TO_INDEX |
            GIT_STATUS_OPT_SORT_CASE_SENSITIVELY;
  git_status_list *list = NULL;
  check(git_status_list_new(&list, repo, &o), "cannot compute the status");
  size_t n = git_status_list_entrycount(list);
  for (size_t i = 0; i < n; i++)
    if (git_status_byindex(list, i)->status & GIT_STATUS_CONFLICTED) refuse("status with unmerged paths");
  return list;
}

static void check_state(git_repository *repo) {
  if (git_repository_state(repo) != GIT_REPOSITORY_STATE_NONE)
    refuse("status during a merge, rebase, cherry-pick, revert or bisect");
}

static const char *plural(size_t n) { return n == 1 ? "" : "s"; }

// git's tracking information of BRANCH (status, checkout): false when it has no upstream.
bool print_tracking(git_repository *repo, const char *branch, bool unborn) {
  struct tracking t;
  upstream_of(repo, branch, unborn, &t);
  if (!t.has) return false;
  if (t.gone) {
    printf("Your branch is based on '%s', but the upstream is gone.\n"
           "  (use \"git branch --unset-upstream\" to fixup)\n", term_str(stdout, t.name));
  } else if (t.ahead == 0 && t.behind == 0) {
    printf("Your branch is up to date with '%s'.\n", term_str(stdout, t.name));
  } else if (t.behind == 0) {
    printf("Your branch is ahead of '%s' by %zu commit%s.\n"
           "  (use \"git push\" to publish your local commits)\n", term_str(stdout, t.name), t.ahead, plural(t.ahead));
  } else if (t.ahead == 0) {
    printf("Your branch is behind '%s' by %zu commit%s, and can be fast-forwarded.\n"
           "  (use \"git pull\" to update your local branch)\n", term_str(stdout, t.name), t.behind, plural(t.behind));
  } else {
    printf("Your branch and '%s' have diverged,\n"
           "and have %zu and %zu different commits each, respectively.\n"
           "  (use \"git pull\" to merge the remote branch into yours)\n", term_str(stdout, t.name), t.ahead, t.behind);
  }
  return true;
}

bool print_long_status(git_repository *repo, bool commit_mode) {
  check_state(repo);
  bool unborn = false;
  const char *branch = head_branch(repo, &unborn);
  const char *prefix = cwd_prefix(repo);
  git_status_list *list = status_list(repo);
  size_t n = git_status_list_entrycount(list);

  if (branch != NULL) {
    printf("On branch %s\n", term_str(stdout, branch));
    if (print_tracking(repo, branch, unborn)) putchar('\n');
  } else {
    char from[1024];
    bool at = false;
    if (detached_from(repo, from, sizeof from, &at)) printf("HEAD detached %s %s\n", at ? "at" : "from", term_str(stdout, from));
    else puts("Not currently on any branch.");
  }
  if (unborn) printf("\n%s\n\n", commit_mode ? "Initial commit" : "No commits yet");

  bool staged = false, unstaged = false, untracked = false, wt_deleted = false;
  for (size_t i = 0; i < n; i++) {
    unsigned s = git_status_byindex(list, i)->status;
    if (s & (GIT_STATUS_INDEX_NEW | GIT_STATUS_INDEX_MODIFIED | GIT_STATUS_INDEX_DELETED |
             GIT_STATUS_INDEX_RENAMED | GIT_STATUS_INDEX_TYPECHANGE))
      staged = true;
    if (s & (GIT_STATUS_WT_MODIFIED | GIT_STATUS_WT_DELETED | GIT_STATUS_WT_TYPECHANGE)) unstaged = true;
    if (s & GIT_STATUS_WT_DELETED) wt_deleted = true;
    if (s & GIT_STATUS_WT_NEW) untracked = true;
  }
  if (staged) {
    printf("Changes to be committed:\n  (use \"%s\" to unstage)\n",
           unborn ? "git rm --cached <file>..." : "git restore --staged <file>...");
    for (size_t i = 0; i < n; i++) {
      const git_status_entry *e = git_status_byindex(list, i);
      const char *label = NULL;
      if (e->status & GIT_STATUS_INDEX_NEW) label = "new file:";
      else if (e->status & GIT_STATUS_INDEX_MODIFIED) label = "modified:";
      else if (e->status & GIT_STATUS_INDEX_DELETED) label = "deleted:";
      else if (e->status & GIT_STATUS_INDEX_RENAMED) label = "renamed:";
      else if (e->status & GIT_STATUS_INDEX_TYPECHANGE) label = "typechange:";
      if (label == NULL) continue;
      printf("\t%-12s", label);
      put_path(stdout, e->head_to_index->old_file.path, prefix, false);
      if (e->status & GIT_STATUS_INDEX_RENAMED) {
        fputs(" -> ", stdout);
        put_path(stdout, e->head_to_index->new_file.path, prefix, false);
      }
      putchar('\n');
    }
    putchar('\n');
  }
  if (unstaged) {
    printf("Changes not staged for commit:\n"
           "  (use \"git %s <file>...\" to update what will be committed)\n"
           "  (use \"git restore <file>...\" to discard changes in working directory)\n",
           wt_deleted ? "add/rm" : "add");
    for (size_t i = 0; i < n; i++) {
      const git_status_entry *e = git_status_byindex(list, i);
      const char *label = NULL;
      if (e->status & GIT_STATUS_WT_MODIFIED) label = "modified:";
      else if (e->status & GIT_STATUS_WT_DELETED) label = "deleted:";
      else if (e->status & GIT_STATUS_WT_TYPECHANGE) label = "typechange:";
      if (label == NULL) continue;
      printf("\t%-12s", label);
      put_path(stdout, e->index_to_workdir->old_file.path, prefix, false);
      putchar('\n');
    }
    putchar('\n');
  }
  if (untracked) {
    fputs("Untracked files:\n  (use \"git add <file>...\" to include in what will be committed)\n",
          stdout);
    for (size_t i = 0; i < n; i++) {
      const git_status_entry *e = git_status_byindex(list, i);
      if (!(e->status & GIT_STATUS_WT_NEW)) continue;
      putchar('\t');
      put_path(stdout, e->index_to_workdir->old_file.path, prefix, false);
      putchar('\n');
    }
    putchar('\n');
  }
  if (!staged) {
    if (unstaged) puts("no changes added to commit (use \"git add\" and/or \"git commit -a\")");
    else if (untracked) puts("nothing added to commit but untracked files present (use \"git add\" to track)");
    else if (unborn) puts("nothing to commit (create/copy files and use \"git add\" to track)");
    else puts("nothing to commit, working tree clean");
  }
  git_status_list_free(list);
  return staged;
}

static char index_code(unsigned s) {
  if (s & GIT_STATUS_INDEX_NEW) return 'A';
  if (s & GIT_STATUS_INDEX_MODIFIED) return 'M';
  if (s & GIT_STATUS_INDEX_DELETED) return 'D';
  if (s & GIT_STATUS_INDEX_RENAMED) return 'R';
  if (s & GIT_STATUS_INDEX_TYPECHANGE) return 'T';
  return ' ';
}

static char wt_code(unsigned s) {
  if (s & GIT_STATUS_WT_MODIFIED) return 'M';
  if (s & GIT_STATUS_WT_DELETED) return 'D';
  if (s & GIT_STATUS_WT_TYPECHANGE) return 'T';
  return ' ';
}

static void print_short_status(git_repository *repo, bool porcelain, bool branch_line) {
  check_state(repo);
  const char *prefix = porcelain ? NULL : cwd_prefix(repo);
  if (branch_line) {
    bool unborn = false;
    const char *branch = head_branch(repo, &unborn);
    struct tracking t = {0};
    if (branch != NULL) upstream_of(repo, branch, unborn, &t);
    if (branch == NULL) fputs("## HEAD (no branch)", stdout);
    else if (unborn) printf("## No commits yet on %s", term_str(stdout, branch));
    else printf("## %s", term_str(stdout, branch));
    if (t.has) {
      printf("...%s", term_str(stdout, t.name));
      if (t.gone) fputs(" [gone]", stdout);
      else if (t.ahead && t.behind) printf(" [ahead %zu, behind %zu]", t.ahead, t.behind);
      else if (t.ahead) printf(" [ahead %zu]", t.ahead);
      else if (t.behind) printf(" [behind %zu]", t.behind);
    }
    putchar('\n');
  }
  git_status_list *list = status_list(repo);
  size_t n = git_status_list_entrycount(list);
  for (int pass = 0; pass < 2; pass++) {
    for (size_t i = 0; i < n; i++) {
      const git_status_entry *e = git_status_byindex(list, i);
      bool is_new = (e->status & GIT_STATUS_WT_NEW) != 0;
      if (e->status & GIT_STATUS_IGNORED) continue;
      if (pass == 0 && is_new) continue;
      if (pass == 1 && !is_new) continue;
      if (is_new) {
        fputs("?? ", stdout);
        put_path(stdout, e->index_to_workdir->old_file.path, prefix, true);
        putchar('\n');
        continue;
      }
      char x = index_code(e->status), y = wt_code(e->status);
      if (x == ' ' && y == ' ') continue;
      printf("%c%c ", x, y);
      if (e->status & GIT_STATUS_INDEX_RENAMED) {
        put_path(stdout, e->head_to_index->old_file.path, prefix, true);
        fputs(" -> ", stdout);
        put_path(stdout, e->head_to_index->new_file.path, prefix, true);
      } else {
        const git_diff_delta *d = e->head_to_index != NULL ? e->head_to_index : e->index_to_workdir;
        put_path(stdout, d->new_file.path, prefix, true);
      }
      putchar('\n');
    }
  }
  git_status_list_free(list);
}

int cmd_status(int argc, char **argv) {
  bool shrt = false, porcelain = false, branch = false;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (strcmp(a, "-s") == 0 || strcmp(a, "--short") == 0) shrt = true;
    else if (strcmp(a, "--porcelain") == 0 || strcmp(a, "--porcelain=v1") == 0) porcelain = true;
    else if (strcmp(a, "-b") == 0 || strcmp(a, "--branch") == 0) branch = true;
    else if (strcmp(a, "-sb") == 0 || strcmp(a, "-bs") == 0) shrt = branch = true;
    else if (strcmp(a, "--long") == 0) shrt = porcelain = false;
    else {
      char what[256];
      snprintf(what, sizeof what, "status %s", a);
      refuse(what);
    }
  }
  git_repository *repo = open_repo();
  if (shrt || porcelain) print_short_status(repo, porcelain && !shrt, branch);
  else print_long_status(repo, false);
  git_repository_free(repo);
  return 0;
}

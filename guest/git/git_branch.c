// git branch [NAME | -d/-D NAME... | --show-current], git restore
// [--staged] [--worktree] PATHSPEC... (README.md).
#include <stdlib.h>
#include <string.h>

#include "git.h"


// The branch HEAD names (NULL when detached), in NAME.
bool current_branch(git_repository *repo, char *name, size_t cap) {
  git_reference *head = NULL;
  check(git_reference_lookup(&head, repo, "HEAD"), "cannot read HEAD");
  const char *t = git_reference_symbolic_target(head);
  bool ok = t != NULL && strncmp(t, "refs/heads/", 11) == 0;
  if (ok) snprintf(name, cap, "%s", t + 11);
  git_reference_free(head);
  return ok;
}

static int by_name(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static int list_branches(git_repository *repo) {
  char cur[1024] = "";
  bool detached = !current_branch(repo, cur, sizeof cur);
  // The refs git's ref-filter reads: the branches, every ref when it describes a detached HEAD.
  // In byte order (loose and packed merged), as git; a name check-ref-format refuses is left out
  // with git's warning (a repository can hold one written by hand, never by git).
  git_reference_iterator *it = NULL;
  check(git_reference_iterator_new(&it, repo), "branches");
  git_reference *ref = NULL;
  size_t n = 0, cap = 16;
  char **names = malloc(cap * sizeof *names);
  if (names == NULL) die("out of memory");
  while (git_reference_next(&ref, it) == 0) {
    const char *nm = git_reference_name(ref);
    if (!detached && strncmp(nm, "refs/heads/", 11) != 0) {
      git_reference_free(ref);
      continue;
    }
    if (n == cap) {
      char **nn = realloc(names, (cap *= 2) * sizeof *names);
      if (nn == NULL) die("out of memory");
      names = nn;
    }
    names[n] = strdup(nm);
    if (names[n++] == NULL) die("out of memory");
    git_reference_free(ref);
  }
  git_reference_iterator_free(it);
  qsort(names, n, sizeof *names, by_name);
  for (size_t i = 0; i < n; i++) {
    int valid = 0;
    if (git_reference_name_is_valid(&valid, names[i]) != 0 || !valid) {
      git_error_clear();
      warning("ignoring ref with broken name %s", names[i]);
      names[i][0] = '\0';
    }
  }
  if (detached) {  // git lists the detached HEAD first
    char from[1024];
    bool at = false;
    if (detached_from(repo, from, sizeof from, &at)) printf("* (HEAD detached %s %s)\n", at ? "at" : "from", term_str(stdout, from));
    else puts("* (no branch)");
  }
  for (size_t i = 0; i < n; i++) {
    if (strncmp(names[i], "refs/heads/", 11) == 0)
      printf("%c %s\n", strcmp(names[i] + 11, cur) == 0 ? '*' : ' ', term_str(stdout, names[i] + 11));
    free(names[i]);
  }
  free(names);
  return 0;
}

// A new branch NAME at HEAD's commit (git branch NAME, checkout -b NAME).
void create_branch(git_repository *repo, const char *name) {
  int valid = 0;
  if (git_branch_name_is_valid(&valid, name) != 0 || !valid || name[0] == '-')
    die("'%s' is not a valid branch name", name);
  git_reference *existing = NULL;
  if (git_branch_lookup(&existing, repo, name, GIT_BRANCH_LOCAL) == 0) {
    git_reference_free(existing);
    die("a branch named '%s' already exists", name);
  }
  git_error_clear();
  git_object *head = NULL;
  if (git_revparse_single(&head, repo, "HEAD^{commit}") != 0) {
    char cur[1024] = "HEAD";
    current_branch(repo, cur, sizeof cur);
    die("not a valid object name: '%s'", cur);
  }
  git_reference *ref = NULL;
  check(git_branch_create(&ref, repo, name, (git_commit *)head, 0), "cannot create the branch");
  git_reference_free(ref);
  git_object_free(head);
}

// FULL is a reference of the repository, whatever its name (libgit2 looks up valid names only).
static bool ref_exists(git_repository *repo, const char *full) {
  git_reference_iterator *it = NULL;
  git_reference *ref = NULL;
  bool found = false;
  check(git_reference_iterator_new(&it, repo), "references");
  while (!found && git_reference_next(&ref, it) == 0) {
    found = strcmp(git_reference_name(ref), full) == 0;
    git_reference_free(ref);
  }
  git_reference_iterator_free(it);
  git_error_clear();
  return found;
}

static int delete_branches(git_repository *repo, char **names, int n, bool force) {
  int rc = 0;
  char cur[1024] = "";
  bool attached = current_branch(repo, cur, sizeof cur);
  for (int i = 0; i < n; i++) {
    git_reference *ref = NULL;
    if (git_branch_lookup(&ref, repo, names[i], GIT_BRANCH_LOCAL) != 0) {
      git_error_clear();
      char full[1100];
      snprintf(full, sizeof full, "refs/heads/%s", names[i]);
      int valid = 0;
      if (git_reference_name_is_valid(&valid, full) == 0 && !valid && ref_exists(repo, full))
        refuse("branch -d of a branch whose name git's check-ref-format refuses");
      error("branch '%s' not found.", names[i]);
      rc = 1;
      continue;
    }
    if (attached && strcmp(cur, names[i]) == 0) {
      error("Cannot delete branch '%s' checked out at '%.*s'", names[i],
              (int)strlen(git_repository_workdir(repo)) - 1, git_repository_workdir(repo));
      git_reference_free(ref);
      rc = 1;
      continue;
    }
    const git_oid *tip = git_reference_target(ref);
    if (!force) {
      // Merged: the tip is HEAD's commit or an ancestor of it (no upstream: see README).
      git_buf up = {0};
      if (git_branch_upstream_name(&up, repo, git_reference_name(ref)) == 0) {
        git_buf_dispose(&up);
        refuse("branch -d of a branch with an upstream");
      }
      git_error_clear();
      git_oid head;
      bool merged = git_reference_name_to_id(&head, repo, "HEAD") == 0 &&
                    (git_oid_equal(&head, tip) || git_graph_descendant_of(repo, &head, tip) == 1);
      git_error_clear();
      if (!merged) {
        error("The branch '%s' is not fully merged.\n"
              "If you are sure you want to delete it, run 'git branch -D %s'.",
                names[i], names[i]);
        git_reference_free(ref);
        rc = 1;
        continue;
      }
    }
    char hex[GIT_OID_HEXSZ + 1];
    snprintf(hex, sizeof hex, "%s", short_id(repo, tip));
    check(git_branch_delete(ref), "cannot delete the branch");
    printf("Deleted branch %s (was %s).\n", term_str(stdout, names[i]), hex);
    git_reference_free(ref);
  }
  return rc;
}

int cmd_branch(int argc, char **argv) {
  bool del = false, force = false, show_current = false;
  int first = argc;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (strcmp(a, "-d") == 0 || strcmp(a, "--delete") == 0) del = true;
    else if (strcmp(a, "-D") == 0) del = force = true;
    else if (strcmp(a, "--show-current") == 0) show_current = true;
    else if (strcmp(a, "--list") == 0 && argc == 2) {
    } else if (a[0] != '-') {
      first = i;
      break;
    } else {
      char what[256];
      snprintf(what, sizeof what, "branch %s", a);
      refuse(what);
    }
  }
  for (int i = first; i < argc; i++)
    if (argv[i][0] == '-') refuse("branch with options after the branch name");
  git_repository *repo = open_repo();
  int rc = 0;
  if (show_current) {
    char cur[1024];
    if (first < argc || del) refuse("branch --show-current with other arguments");
    if (current_branch(repo, cur, sizeof cur)) printf("%s\n", term_str(stdout, cur));
  } else if (del) {
    if (first >= argc) die("branch name required");
    rc = delete_branches(repo, argv + first, argc - first, force);
  } else if (first >= argc) {
    rc = list_branches(repo);
  } else if (argc - first == 1) {
    create_branch(repo, argv[first]);
  } else {
    refuse("branch NAME START-POINT");
  }
  git_repository_free(repo);
  return rc;
}

int cmd_restore(int argc, char **argv) {
  bool staged = false, worktree = false, dashdash = false;
  char **specs = calloc((size_t)argc + 1, sizeof *specs);
  const char **given = calloc((size_t)argc + 1, sizeof *given);
  size_t n = 0;
  if (specs == NULL || given == NULL) die("out of memory");
  git_repository *repo = open_repo();
  const char *prefix = cwd_prefix(repo);
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (!dashdash && (strcmp(a, "--staged") == 0 || strcmp(a, "-S") == 0)) staged = true;
    else if (!dashdash && (strcmp(a, "--worktree") == 0 || strcmp(a, "-W") == 0)) worktree = true;
    else if (!dashdash && strcmp(a, "--") == 0) dashdash = true;
    else if (!dashdash && a[0] == '-') {
      char what[256];
      snprintf(what, sizeof what, "restore %s", a);
      refuse(what);
    } else {
      char *s = join_spec(prefix, a);
      if (s == NULL) die_outside(repo, a, true);
      given[n] = a;
      specs[n++] = s;
    }
  }
  if (n == 0) die("you must specify path(s) to restore");
  if (!staged) worktree = true;
  git_index *index = NULL;
  check(git_repository_index(&index, repo), "cannot read the index");
  git_object *head = NULL;
  bool unborn = git_revparse_single(&head, repo, "HEAD^{commit}") != 0;
  git_error_clear();
  if (staged && unborn) die("could not resolve HEAD");
  // Every pathspec must name something git knows (the index, or HEAD for --staged).
  git_tree *tree = NULL;
  if (!unborn) check(git_commit_tree(&tree, (git_commit *)head), "tree");
  for (size_t i = 0; i < n; i++) {
    git_strarray one = {&specs[i], 1};
    git_pathspec *ps = NULL;
    git_pathspec_match_list *m = NULL;
    size_t found = 0;
    if (specs[i][0] == '\0') continue;
    check(git_pathspec_new(&ps, &one), "invalid pathspec");
    if (git_pathspec_match_index(&m, index, 0, ps) == 0) found += git_pathspec_match_list_entrycount(m);
    git_pathspec_match_list_free(m);
    m = NULL;
    if (staged && tree != NULL && git_pathspec_match_tree(&m, tree, 0, ps) == 0)
      found += git_pathspec_match_list_entrycount(m);
    git_pathspec_match_list_free(m);
    git_pathspec_free(ps);
    git_error_clear();
    if (found == 0) {
      error("pathspec '%s' did not match any file(s) known to git", given[i]);
      return 1;
    }
  }
  git_strarray ps = {specs, n};
  for (size_t i = 0; i < n; i++)
    if (specs[i][0] == '\0') ps.count = 0;  // "." at the top: everything
  if (staged) {
    check(git_reset_default(repo, head, &ps), "cannot restore the index");
    git_index_free(index);
    check(git_repository_index(&index, repo), "cannot read the index");
  }
  if (worktree) {
    git_checkout_options co = GIT_CHECKOUT_OPTIONS_INIT;
    co.checkout_strategy = GIT_CHECKOUT_FORCE | GIT_CHECKOUT_DONT_UPDATE_INDEX;
    co.paths = ps;
    check(git_checkout_index(repo, index, &co), "cannot restore the working tree");
  }
  git_tree_free(tree);
  git_object_free(head);
  git_index_free(index);
  git_repository_free(repo);
  return 0;
}

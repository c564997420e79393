// git diff [--cached|--staged] [--stat], git show [REV] [--stat], git log -p (README.md): patches
// from libgit2's printer (git's format: xdiff hunks, the indent heuristic git 2.14+ turns on,
// renames detected as diff.renames does), the diffstat drawn as git's (80 columns, no terminal).
#include <stdlib.h>
#include <string.h>

#include "git.h"


// libgit2's file header, with git's tab after a "--- a/name" or "+++ b/name" that has a space
// (so that patch(1) sees where the name ends).
static void print_file_header(const char *s, size_t len, bool names) {
  const char *end = s + len;
  while (s < end) {
    const char *nl = memchr(s, '\n', (size_t)(end - s));
    size_t l = nl != NULL ? (size_t)(nl - s) : (size_t)(end - s);
    bool name_line = l > 4 && (memcmp(s, "--- ", 4) == 0 || memcmp(s, "+++ ", 4) == 0);
    if (name_line && !names) {
      s += l + (nl != NULL);
      continue;
    }
    char *shown = requote_header_line(s, l);
    put_text(stdout, shown, strlen(shown));
    free(shown);
    if (name_line &&
        !(l == 13 && memcmp(s + 4, "/dev/null", 9) == 0) && memchr(s + 4, ' ', l - 4) != NULL)
      putchar('\t');
    if (nl != NULL) putchar('\n');
    s += l + (nl != NULL);
  }
}

// A file's header waits for its first hunk: git prints the "---"/"+++" lines only for a file
// that has one (not for an empty file added or deleted).
static char *pending;
static size_t pending_len;

static void flush_header(bool names) {
  if (pending == NULL) return;
  print_file_header(pending, pending_len, names);
  free(pending);
  pending = NULL;
}

static int print_line(const git_diff_delta *d, const git_diff_hunk *h, const git_diff_line *l, void *p) {
  (void)d, (void)h, (void)p;
  if (l->origin == GIT_DIFF_LINE_FILE_HDR) {
    flush_header(false);
    pending = malloc(l->content_len + 1);
    if (pending == NULL) die("out of memory");
    memcpy(pending, l->content, l->content_len);
    pending_len = l->content_len;
    return 0;
  }
  flush_header(true);
  if (l->origin == GIT_DIFF_LINE_CONTEXT || l->origin == GIT_DIFF_LINE_ADDITION ||
      l->origin == GIT_DIFF_LINE_DELETION)
    putchar(l->origin);
  put_text(stdout, l->content, l->content_len);
  return 0;
}

static void diff_options(git_diff_options *o) {
  git_diff_options_init(o, GIT_DIFF_OPTIONS_VERSION);
  o->flags |= GIT_DIFF_INDENT_HEURISTIC;
  o->id_abbrev = 7;
}

static void find_renames(git_diff *diff) {
  git_diff_find_options f = GIT_DIFF_FIND_OPTIONS_INIT;
  f.flags = GIT_DIFF_FIND_RENAMES;
  f.metric = (git_diff_similarity_metric *)&git_rename_metric;
  check(git_diff_find_similar(diff, &f), "rename detection");
}

// A name's width in the stat is its bytes (git counts columns; names that are not ASCII are
// quoted here, so bytes are columns).

static int digits(size_t n) {
  int d = 1;
  while (n >= 10) n /= 10, d++;
  return d;
}

// git's diffstat (diff.c show_stats) for a width of 80 columns, then the shortstat line.
void print_stat(git_diff *diff) {
  size_t n = git_diff_num_deltas(diff);
  char **names = calloc(n + 1, sizeof *names);
  size_t *adds = calloc(n + 1, sizeof *adds), *dels = calloc(n + 1, sizeof *dels);
  bool *binary = calloc(n + 1, sizeof *binary);
  if (names == NULL || adds == NULL || dels == NULL || binary == NULL) die("out of memory");
  size_t max_len = 0, max_change = 0, total_add = 0, total_del = 0, files = 0;
  int number_width = 0;
  bool any_binary = false;
  for (size_t i = 0; i < n; i++) {
    git_patch *p = NULL;
    check(git_patch_from_diff(&p, diff, i), "diffstat");
    const git_diff_delta *d = git_patch_get_delta(p);
    size_t ctx = 0;
    check(git_patch_line_stats(&ctx, &adds[i], &dels[i], p), "diffstat");
    binary[i] = (d->flags & GIT_DIFF_FLAG_BINARY) != 0;
    if (binary[i]) any_binary = true;
    names[i] = d->status == GIT_DELTA_RENAMED || d->status == GIT_DELTA_COPIED
                   ? rename_display(d->old_file.path, d->new_file.path)
                   : path_str(d->new_file.path, NULL, false);
    size_t len = (size_t)display_width(names[i]);
    if (len > max_len) max_len = len;
    if (adds[i] + dels[i] > max_change) max_change = adds[i] + dels[i];
    total_add += adds[i];
    total_del += dels[i];
    files++;
    git_patch_free(p);
  }
  if (files == 0) {
    free(names), free(adds), free(dels), free(binary);
    return;
  }
  const int width = 80;
  number_width = digits(max_change);
  if (any_binary && number_width < 3) number_width = 3;  // "Bin"
  // The width "Bin A -> B bytes" needs, counted in the graph's part as git does.
  int bin_width = 0;
  for (size_t i = 0; i < n; i++) {
    if (!binary[i]) continue;
    git_patch *p = NULL;
    check(git_patch_from_diff(&p, diff, i), "diffstat");
    const git_diff_delta *d = git_patch_get_delta(p);
    int w = 14 + digits((size_t)d->new_file.size) + digits((size_t)d->old_file.size);
    if (w > bin_width) bin_width = w;
    git_patch_free(p);
  }
  int graph_width = (int)max_change + 4 > bin_width ? (int)max_change : bin_width - 4;
  int name_width = (int)max_len;
  if (name_width + number_width + 6 + graph_width > width) {
    if (graph_width > width * 3 / 8 - number_width - 6) {
      graph_width = width * 3 / 8 - number_width - 6;
      if (graph_width < 6) graph_width = 6;
    }
    if (name_width > width - number_width - 6 - graph_width)
      name_width = width - number_width - 6 - graph_width;
    else
      graph_width = width - number_width - 6 - name_width;
  }
  for (size_t i = 0; i < n; i++) {
    const char *name = names[i];
    size_t len = (size_t)display_width(name);
    const char *prefix = "";
    if ((int)len > name_width) {
      // "..." then the tail, cut at a '/' when one is there (git's rule; by columns).
      size_t keep = name_width > 3 ? (size_t)name_width - 3 : 0;
      while (len > keep && *name != '\0') {
        size_t step = 1;  // one UTF-8 character
        while (step < 4 && (name[step] & 0xc0) == 0x80) step++;
        char one[8] = {0};
        memcpy(one, name, step);
        size_t w = (size_t)display_width(one);
        len -= w < len ? w : len;
        name += step;
      }
      const char *slash = strchr(name, '/');
      if (slash != NULL) name = slash;
      prefix = "...";
      len = (size_t)display_width(name) + 3;
    }
    printf(" %s%s%*s |", prefix, name, name_width - (int)len, "");
    if (binary[i]) {
      git_patch *p = NULL;
      check(git_patch_from_diff(&p, diff, i), "diffstat");
      const git_diff_delta *d = git_patch_get_delta(p);
      printf(" %*s", number_width, "Bin");
      if (d->old_file.size != d->new_file.size || d->old_file.size != 0)
        printf(" %llu -> %llu bytes", (unsigned long long)d->old_file.size,
               (unsigned long long)d->new_file.size);
      putchar('\n');
      git_patch_free(p);
      continue;
    }
    size_t add = adds[i], del = dels[i], total = add + del;
    printf(" %*zu%s", number_width, total, total ? " " : "");
    if ((size_t)graph_width <= max_change && max_change > 0) {
      // git's scaling: the total scaled, then the smaller side scaled and the other the rest.
      size_t w = (size_t)graph_width;
#define SCALE(it) ((it) ? 1 + (it) * (w - 1) / max_change : 0)
      size_t st = SCALE(total);
      if (st < 2 && add && del) st = 2;
      if (add < del) {
        add = SCALE(add);
        del = st - add;
      } else {
        del = SCALE(del);
        add = st - del;
      }
#undef SCALE
    }
    for (size_t k = 0; k < add; k++) putchar('+');
    for (size_t k = 0; k < del; k++) putchar('-');
    putchar('\n');
  }
  printf(" %zu file%s changed", files, files == 1 ? "" : "s");
  if (total_add > 0 || total_del == 0) printf(", %zu insertion%s(+)", total_add, total_add == 1 ? "" : "s");
  if (total_del > 0 || total_add == 0) printf(", %zu deletion%s(-)", total_del, total_del == 1 ? "" : "s");
  putchar('\n');
  for (size_t i = 0; i < n; i++) free(names[i]);
  free(names), free(adds), free(dels), free(binary);
}

static void print_patch(git_diff *diff) {
  check(git_diff_print(diff, GIT_DIFF_FORMAT_PATCH, print_line, NULL), "diff");
  flush_header(false);
}

// The trees of a diff's revision arguments: A B, A..B (A against B), A...B (the merge base
// against B), or one revision (OLD only: against the index or the work tree).
static void diff_trees(git_repository *repo, const char **revs, int n, bool dashdash, git_tree **old, git_tree **new) {
  git_revspec s[2];
  git_object *ends[2] = {NULL, NULL};
  for (int i = 0; i < n; i++) {
    if (!parse_revision(repo, revs[i], dashdash, &s[i])) refuse("diff PATHSPEC");
    if (s[i].flags & REV_EXCLUDED) refuse("diff ^REV");
  }
  if (n == 2) {
    if (s[0].flags & GIT_REVSPEC_RANGE || s[1].flags & GIT_REVSPEC_RANGE) refuse("diff of a range and a revision");
    ends[0] = s[0].to, ends[1] = s[1].to;
  } else if (s[0].flags & GIT_REVSPEC_RANGE) {
    ends[0] = s[0].from, ends[1] = s[0].to;
    if (s[0].flags & GIT_REVSPEC_MERGE_BASE) {
      git_oidarray bases = {0};
      if (git_merge_bases(&bases, repo, git_object_id(s[0].from), git_object_id(s[0].to)) != 0) {
        git_error_clear();
        die("%s: no merge base", revs[0]);
      }
      if (bases.count > 1) refuse("diff A...B with more than one merge base");
      git_object *base = NULL;
      check(git_object_lookup(&base, repo, &bases.ids[0], GIT_OBJECT_COMMIT), "merge base");
      git_oidarray_dispose(&bases);
      ends[0] = base;
    }
  } else {
    ends[0] = s[0].to;
  }
  check(git_commit_tree(old, (git_commit *)ends[0]), "tree");
  if (ends[1] != NULL) check(git_commit_tree(new, (git_commit *)ends[1]), "tree");
}

int cmd_diff(int argc, char **argv) {
  bool cached = false, stat = false, dashdash = false;
  const char *revs[2];
  int nrevs = 0, npos = 0, npaths = 0;
  const char **pos = calloc((size_t)argc + 1, sizeof *pos);
  char **paths = calloc((size_t)argc + 1, sizeof *paths);
  const char **given = calloc((size_t)argc + 1, sizeof *given);
  if (pos == NULL || paths == NULL || given == NULL) die("out of memory");
  for (int i = 1; i < argc; i++)
    if (strcmp(argv[i], "--") == 0) {
      for (int k = i + 1; k < argc; k++) given[npaths++] = argv[k];
      dashdash = true;
      argc = i;
    }
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (a[0] != '-') {
      pos[npos++] = a;
    } else if (strcmp(a, "--cached") == 0 || strcmp(a, "--staged") == 0) cached = true;
    else if (strcmp(a, "--stat") == 0) stat = true;
    else {
      char what[256];
      snprintf(what, sizeof what, "diff %s", a);
      refuse(what);
    }
  }
  git_repository *repo = open_repo();
  // Revisions first, then (without "--": from the first file that is not a revision, each must
  // exist, as git's verify_filename) paths; "--" before the paths.
  int first_path = npos;
  for (int k = 0; k < npos && first_path == npos; k++) {
    git_revspec spec;
    if (!parse_revision(repo, pos[k], dashdash, &spec)) first_path = k;
    git_object_free(spec.from);
    git_object_free(spec.to);
  }
  for (int k = first_path; k < npos; k++) verify_filename(pos[k], k == first_path);
  if (npaths > 0 && first_path < npos) die("internal error: paths on both sides of --");
  for (int k = 0; k < npos; k++) {
    if (k < first_path) {
      if (nrevs == 2) refuse("diff of more than two revisions (combined diff)");
      revs[nrevs++] = pos[k];
    } else {
      given[npaths++] = pos[k];
    }
  }
  const char *prefix = cwd_prefix(repo);
  bool whole = false;
  for (int k = 0; k < npaths; k++) {
    paths[k] = join_spec(prefix, given[k]);
    if (paths[k] == NULL) die_outside(repo, given[k], true);
    if (paths[k][0] == '\0') whole = true;
  }
  git_index *index = NULL;
  check(git_repository_index(&index, repo), "cannot read the index");
  git_diff_options o;
  diff_options(&o);
  if (!whole) {
    o.pathspec.strings = paths;
    o.pathspec.count = (size_t)npaths;
  }
  git_diff *diff = NULL;
  git_tree *old = NULL, *new = NULL;
  if (nrevs > 0) diff_trees(repo, revs, nrevs, dashdash, &old, &new);
  if (new != NULL) {
    if (cached) refuse("diff --cached with two revisions");
    check(git_diff_tree_to_tree(&diff, repo, old, new, &o), "diff");
  } else if (old != NULL && cached) {
    check(git_diff_tree_to_index(&diff, repo, old, index, &o), "diff");
  } else if (old != NULL) {
    check(git_diff_tree_to_workdir_with_index(&diff, repo, old, &o), "diff");
  } else if (cached) {
    git_tree *head = NULL;
    git_object *obj = NULL;
    if (git_revparse_single(&obj, repo, "HEAD^{tree}") == 0) head = (git_tree *)obj;
    git_error_clear();
    check(git_diff_tree_to_index(&diff, repo, head, index, &o), "diff");
    git_tree_free(head);
  } else {
    check(git_diff_index_to_workdir(&diff, repo, index, &o), "diff");
  }
  find_renames(diff);
  if (stat) print_stat(diff);
  else print_patch(diff);
  git_diff_free(diff);
  git_tree_free(old);
  git_tree_free(new);
  git_index_free(index);
  git_repository_free(repo);
  return 0;
}

// The diff a commit introduces (against its first parent, or nothing for a root commit).
static git_diff *commit_diff(git_repository *repo, git_commit *c, const git_strarray *paths) {
  git_tree *tree = NULL, *ptree = NULL;
  git_commit *parent = NULL;
  check(git_commit_tree(&tree, c), "tree");
  if (git_commit_parentcount(c) > 0) {
    check(git_commit_parent(&parent, c, 0), "parent");
    check(git_commit_tree(&ptree, parent), "tree");
  }
  git_diff_options o;
  diff_options(&o);
  if (paths != NULL) o.pathspec = *paths;
  git_diff *diff = NULL;
  check(git_diff_tree_to_tree(&diff, repo, ptree, tree, &o), "diff");
  find_renames(diff);
  git_tree_free(tree);
  git_tree_free(ptree);
  git_commit_free(parent);
  return diff;
}

// After the message of a commit: "\n" and its patch (or stat) when it changes something.
void print_commit_diff(git_repository *repo, git_commit *c, bool stat, const git_strarray *paths) {
  if (git_commit_parentcount(c) > 1) return;  // git shows no patch for a merge in log -p
  git_diff *diff = commit_diff(repo, c, paths);
  if (git_diff_num_deltas(diff) > 0) {
    putchar('\n');
    if (stat) print_stat(diff);
    else print_patch(diff);
  }
  git_diff_free(diff);
}

int cmd_show(int argc, char **argv) {
  const char *rev = "HEAD";
  bool stat = false, have_rev = false;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (strcmp(a, "--stat") == 0) stat = true;
    else if (a[0] != '-' && !have_rev) rev = a, have_rev = true;
    else {
      char what[256];
      snprintf(what, sizeof what, "show %s", a);
      refuse(what);
    }
  }
  git_repository *repo = open_repo();
  git_object *obj = NULL;
  if (have_rev && strchr(rev, ':') != NULL) {
    // REV:PATH — a file's content as it is, a directory's entries after "tree REV:PATH".
    obj = resolve_rev_path(repo, rev);
    if (stat) refuse("show --stat of a file");
    if (git_object_type(obj) == GIT_OBJECT_BLOB) {
      put_text(stdout, git_blob_rawcontent((git_blob *)obj), (size_t)git_blob_rawsize((git_blob *)obj));
    } else if (git_object_type(obj) == GIT_OBJECT_TREE) {
      git_tree *t = (git_tree *)obj;
      printf("tree %s\n\n", term_str(stdout, rev));
      for (size_t k = 0; k < git_tree_entrycount(t); k++) {
        const git_tree_entry *e = git_tree_entry_byindex(t, k);
        put_path(stdout, git_tree_entry_name(e), NULL, false);
        fputs(git_tree_entry_type(e) == GIT_OBJECT_TREE ? "/\n" : "\n", stdout);
      }
    } else {
      refuse("show of an object that is not a commit, a file or a directory");
    }
    git_object_free(obj);
    git_repository_free(repo);
    return 0;
  }
  if (have_rev) {
    git_revspec spec;
    git_object *named = NULL;
    if (git_revparse_single(&named, repo, rev) == 0 && git_object_type(named) == GIT_OBJECT_TAG)
      refuse("show of an annotated tag");
    git_object_free(named);
    git_error_clear();
    if (!parse_revision(repo, rev, false, &spec)) refuse("show PATHSPEC");
    if (spec.flags & (GIT_REVSPEC_RANGE | REV_EXCLUDED)) refuse("show of a range");
    obj = spec.to;
  } else if (git_revparse_single(&obj, repo, rev) != 0) {
    if (!have_rev && git_repository_head_unborn(repo) == 1)
      die("your current branch '%s' does not have any commits yet", "master");
    die_ambiguous(rev);
  }
  if (git_object_type(obj) != GIT_OBJECT_COMMIT) refuse("show of an object that is not a commit");
  git_commit *c = (git_commit *)obj;
  if (git_commit_parentcount(c) > 1) refuse("show of a merge commit (combined diff)");
  print_commit_header(repo, c);
  print_commit_diff(repo, c, stat, NULL);
  git_object_free(obj);
  git_repository_free(repo);
  return 0;
}

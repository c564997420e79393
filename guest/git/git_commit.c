// git commit -m MSG [-m MSG...] [-a] [-q] (README.md): identity from GIT_AUTHOR_* /
// GIT_COMMITTER_* and the configuration (user.name, user.email), as git reads them.
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "git.h"

// A date as GIT_AUTHOR_DATE gives it: "@SECONDS [+-]HHMM", "SECONDS [+-]HHMM" or ISO 8601
// "YYYY-MM-DD[T ]HH:MM:SS [+-]HHMM" (also "+HH:MM" or "Z"). The zone defaults to +0000 (the
// sandbox's time zone is UTC). false for anything else (git accepts more: refused, not guessed).
static bool parse_tz(const char *p, int *offset) {
  while (*p == ' ') p++;
  if (*p == '\0' || strcmp(p, "Z") == 0) {
    *offset = 0;
    return true;
  }
  if ((*p != '+' && *p != '-') || !isdigit((unsigned char)p[1]) || !isdigit((unsigned char)p[2])) return false;
  int sign = *p == '-' ? -1 : 1;
  const char *m = p + 3;
  if (*m == ':') m++;
  if (!isdigit((unsigned char)m[0]) || !isdigit((unsigned char)m[1]) || m[2] != '\0') return false;
  int hh = (p[1] - '0') * 10 + (p[2] - '0'), mm = (m[0] - '0') * 10 + (m[1] - '0');
  if (hh > 14 || mm > 59) return false;
  *offset = sign * (hh * 60 + mm);
  return true;
}

static bool parse_date(const char *s, git_time *out) {
  const char *p = s[0] == '@' ? s + 1 : s;
  char *end = NULL;
  if (isdigit((unsigned char)*p)) {
    long long secs = strtoll(p, &end, 10);
    if (*end == '\0' || *end == ' ') {
      int off;
      if (!parse_tz(end, &off) || secs < 0) return false;
      out->time = secs;
      out->offset = off;
      out->sign = off < 0 ? '-' : '+';
      return true;
    }
  }
  int y, mo, d, h, mi, se, n = 0;
  if (sscanf(s, "%4d-%2d-%2d%*1[T ]%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &se, &n) != 6 || n == 0)
    return false;
  int off;
  if (!parse_tz(s + n, &off)) return false;
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 60) return false;
  struct tm tm = {.tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d, .tm_hour = h, .tm_min = mi, .tm_sec = se};
  time_t t = timegm(&tm);
  out->time = (git_time_t)t - (git_time_t)off * 60;
  out->offset = off;
  out->sign = off < 0 ? '-' : '+';
  return true;
}

static void unknown_identity(void) {
  fputs("Author identity unknown\n\n"
        "*** Please tell me who you are.\n\n"
        "Run\n\n"
        "  git config --global user.email \"you@example.com\"\n"
        "  git config --global user.name \"Your Name\"\n\n"
        "to set your account's default identity.\n"
        "Omit --global to set the identity only in this repository.\n\n",
        stderr);
  die("no email was given and auto-detection is disabled");
}

// ROLE "AUTHOR" or "COMMITTER": GIT_<ROLE>_NAME/EMAIL/DATE, else user.name/user.email and now.
static git_signature *identity(git_repository *repo, const char *role) {
  char var[64];
  git_config *cfg = NULL;
  check(git_repository_config_snapshot(&cfg, repo), "cannot read the configuration");
  const char *name = NULL, *email = NULL, *date = NULL;
  snprintf(var, sizeof var, "GIT_%s_NAME", role);
  name = getenv(var);
  snprintf(var, sizeof var, "GIT_%s_EMAIL", role);
  email = getenv(var);
  snprintf(var, sizeof var, "GIT_%s_DATE", role);
  date = getenv(var);
  if (name == NULL && git_config_get_string(&name, cfg, "user.name") != 0) name = NULL;
  if (email == NULL && git_config_get_string(&email, cfg, "user.email") != 0) email = getenv("EMAIL");
  git_error_clear();
  if (name == NULL || email == NULL) unknown_identity();
  if (name[0] == '\0') die("empty ident name (for <%s>) not allowed", email);
  git_time when = {0};
  if (date != NULL && date[0] != '\0') {
    if (!parse_date(date, &when)) die("invalid date format: %s", date);
  } else {
    when.time = (git_time_t)time(NULL);
  }
  git_signature *sig = NULL;
  check(git_signature_new(&sig, name, email, when.time, when.offset), "invalid identity");
  sig->when.sign = when.sign != 0 ? when.sign : '+';
  git_config_free(cfg);
  return sig;
}

// git's rename display: "dir/{a => b}" with the common leading directories and trailing
// components factored out.
char *rename_display(const char *a, const char *b) {
  char *qa = path_str(a, NULL, false), *qb = path_str(b, NULL, false);
  size_t la = strlen(qa), lb = strlen(qb), pfx = 0, sfx = 0;
  if (qa[0] != '"' && qb[0] != '"') {
    for (size_t i = 0; qa[i] != '\0' && qa[i] == qb[i]; i++)
      if (qa[i] == '/') pfx = i + 1;
    // Common suffix starting at a '/', not overlapping the prefix (its '/' may be shared).
    size_t adj = pfx > 0 ? 1 : 0;
    size_t i = la, j = lb;
    while (i + adj > pfx && j + adj > pfx && i > 0 && j > 0 && qa[i - 1] == qb[j - 1]) {
      i--, j--;
      if (qa[i] == '/') sfx = la - i;
    }
  }
  size_t ma = la > pfx + sfx ? la - pfx - sfx : 0, mb = lb > pfx + sfx ? lb - pfx - sfx : 0;
  char *out = malloc(la + lb + 8);
  if (out == NULL) die("out of memory");
  if (pfx + sfx > 0)
    sprintf(out, "%.*s{%.*s => %.*s}%s", (int)pfx, qa, (int)ma, qa + pfx, (int)mb, qb + pfx, qa + la - sfx);
  else
    sprintf(out, "%s => %s", qa, qb);
  free(qa);
  free(qb);
  return out;
}

// " N files changed, I insertions(+), D deletions(-)" and the summary lines, as git commit.
static void print_summary(git_repository *repo, git_tree *old_tree, git_tree *new_tree) {
  git_diff *diff = NULL;
  git_diff_options o = GIT_DIFF_OPTIONS_INIT;
  check(git_diff_tree_to_tree(&diff, repo, old_tree, new_tree, &o), "diff");
  git_diff_find_options f = GIT_DIFF_FIND_OPTIONS_INIT;
  f.flags = GIT_DIFF_FIND_RENAMES;
  f.metric = (git_diff_similarity_metric *)&git_rename_metric;
  check(git_diff_find_similar(diff, &f), "rename detection");
  git_diff_stats *stats = NULL;
  check(git_diff_get_stats(&stats, diff), "diffstat");
  size_t files = git_diff_stats_files_changed(stats), ins = git_diff_stats_insertions(stats),
         del = git_diff_stats_deletions(stats);
  printf(" %zu file%s changed", files, files == 1 ? "" : "s");
  if (ins > 0 || del == 0) printf(", %zu insertion%s(+)", ins, ins == 1 ? "" : "s");
  if (del > 0 || ins == 0) printf(", %zu deletion%s(-)", del, del == 1 ? "" : "s");
  putchar('\n');
  size_t n = git_diff_num_deltas(diff);
  for (size_t i = 0; i < n; i++) {
    const git_diff_delta *d = git_diff_get_delta(diff, i);
    if (d->status == GIT_DELTA_ADDED) {
      printf(" create mode %06o ", d->new_file.mode);
      put_path(stdout, d->new_file.path, NULL, false);
      putchar('\n');
    } else if (d->status == GIT_DELTA_DELETED) {
      printf(" delete mode %06o ", d->old_file.mode);
      put_path(stdout, d->old_file.path, NULL, false);
      putchar('\n');
    } else if (d->status == GIT_DELTA_RENAMED) {
      char *r = rename_display(d->old_file.path, d->new_file.path);
      printf(" rename %s (%d%%)\n", r, d->similarity);
      free(r);
      if (d->old_file.mode != d->new_file.mode) {
        printf(" mode change %06o => %06o ", d->old_file.mode, d->new_file.mode);
        put_path(stdout, d->new_file.path, NULL, false);
        putchar('\n');
      }
    } else if (d->status == GIT_DELTA_MODIFIED && d->old_file.mode != d->new_file.mode) {
      printf(" mode change %06o => %06o ", d->old_file.mode, d->new_file.mode);
      put_path(stdout, d->new_file.path, NULL, false);
      putchar('\n');
    }
  }
  git_diff_stats_free(stats);
  git_diff_free(diff);
}

int cmd_commit(int argc, char **argv) {
  git_buf raw = {0};
  size_t nmsg = 0;
  bool all = false, quiet = false;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i], *m = NULL;
    if ((strcmp(a, "-m") == 0 || strcmp(a, "--message") == 0) && i + 1 < argc) m = argv[++i];
    else if (strncmp(a, "--message=", 10) == 0) m = a + 10;
    else if (strncmp(a, "-m", 2) == 0 && a[2] != '\0') m = a + 2;
    else if (strcmp(a, "-am") == 0 && i + 1 < argc) all = true, m = argv[++i];
    else if (strcmp(a, "-a") == 0 || strcmp(a, "--all") == 0) all = true;
    else if (strcmp(a, "-q") == 0 || strcmp(a, "--quiet") == 0) quiet = true;
    else {
      char what[256];
      snprintf(what, sizeof what, "commit %s", a);
      refuse(what);
    }
    if (m != NULL) {
      // Several -m: paragraphs, as git joins them.
      size_t cur = raw.size;
      char *grown = realloc(raw.ptr, cur + strlen(m) + 3);
      if (grown == NULL) die("out of memory");
      raw.ptr = grown;
      raw.size = cur + (size_t)sprintf(grown + cur, "%s%s\n", nmsg > 0 ? "\n" : "", m);
      nmsg++;
    }
  }
  if (nmsg == 0) refuse("commit without -m (no editor in the sandbox)");
  git_repository *repo = open_repo();
  if (git_repository_state(repo) != GIT_REPOSITORY_STATE_NONE)
    refuse("commit during a merge, rebase, cherry-pick, revert or bisect");
  git_index *index = NULL;
  check(git_repository_index(&index, repo), "cannot read the index");
  if (git_index_has_conflicts(index)) refuse("commit with unmerged paths");
  if (all) {
    check(git_index_update_all(index, NULL, NULL, NULL), "cannot update the index");
    check(git_index_write(index), "cannot write the index");
  }
  git_buf msg = {0};
  check(git_message_prettify(&msg, raw.ptr, 0, '#'), "message");
  free(raw.ptr);

  git_oid tree_id;
  check(git_index_write_tree(&tree_id, index), "cannot write the tree");
  git_tree *tree = NULL;
  check(git_tree_lookup(&tree, repo, &tree_id), "tree");
  git_commit *parent = NULL;
  git_tree *parent_tree = NULL;
  git_reference *head = NULL;
  int err = git_repository_head(&head, repo);
  bool unborn = err == GIT_EUNBORNBRANCH;
  if (!unborn) {
    check(err, "cannot resolve HEAD");
    check(git_commit_lookup(&parent, repo, git_reference_target(head)), "cannot read HEAD");
    check(git_commit_tree(&parent_tree, parent), "cannot read HEAD's tree");
  }
  git_error_clear();
  // As git: the identity (and its date) is checked before whether there is anything to commit.
  git_signature *author = identity(repo, "AUTHOR"), *committer = identity(repo, "COMMITTER");
  bool empty = unborn ? git_index_entrycount(index) == 0 : git_oid_equal(&tree_id, git_tree_id(parent_tree));
  if (empty) {
    // As git: the status (with "Initial commit"), exit 1.
    print_long_status(repo, true);
    return 1;
  }
  if (msg.size == 0) {
    fputs("Aborting commit due to empty commit message.\n", stderr);
    return 1;
  }
  git_oid id;
  const git_commit *parents[1] = {parent};
  check(git_commit_create(&id, repo, "HEAD", author, committer, NULL, msg.ptr, tree, unborn ? 0 : 1,
                          parents),
        "cannot create the commit");
  if (!quiet) {
    git_reference *sym = NULL;
    const char *branch = "detached HEAD";  // git's summary on a detached HEAD
    if (git_reference_lookup(&sym, repo, "HEAD") == 0 && git_reference_symbolic_target(sym) != NULL) {
      branch = git_reference_symbolic_target(sym);
      if (strncmp(branch, "refs/heads/", 11) == 0) branch += 11;
    }
    git_commit *c = NULL;
    check(git_commit_lookup(&c, repo, &id), "cannot read the new commit");
    printf("[%s%s %s] %s\n", term_str(stdout, branch), unborn ? " (root-commit)" : "", short_id(repo, &id),
           term_str(stdout, git_commit_summary(c)));
    if (strcmp(author->name, committer->name) != 0 || strcmp(author->email, committer->email) != 0)
      printf(" Author: %s <%s>\n", term_str(stdout, author->name), term_str(stdout, author->email));
    print_summary(repo, parent_tree, tree);
    git_commit_free(c);
    git_reference_free(sym);
  }
  git_signature_free(author);
  git_signature_free(committer);
  git_buf_dispose(&msg);
  git_tree_free(tree);
  git_tree_free(parent_tree);
  git_commit_free(parent);
  git_reference_free(head);
  git_index_free(index);
  git_repository_free(repo);
  return 0;
}

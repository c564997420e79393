// git init, add, ls-files, log (README.md: the options each supports).
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "git.h"

char *realpath(const char *path, char *resolved);

// --- init ----------------------------------------------------------------------------------------
int cmd_init(int argc, char **argv) {
  const char *dir = ".", *branch = NULL;
  bool quiet = false, have_dir = false;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (strcmp(a, "-q") == 0 || strcmp(a, "--quiet") == 0) {
      quiet = true;
    } else if ((strcmp(a, "-b") == 0 || strcmp(a, "--initial-branch") == 0) && i + 1 < argc) {
      branch = argv[++i];
    } else if (strncmp(a, "--initial-branch=", 17) == 0) {
      branch = a + 17;
    } else if (a[0] != '-' && !have_dir) {
      dir = a;
      have_dir = true;
    } else {
      char what[256];
      snprintf(what, sizeof what, "init %s", a);
      refuse(what);
    }
  }
  git_repository *existing = NULL;
  bool reinit = git_repository_open_ext(&existing, dir, GIT_REPOSITORY_OPEN_NO_SEARCH, NULL) == 0;
  git_repository_free(existing);
  git_error_clear();

  bool hint = false;
  if (!reinit && branch == NULL) {
    git_config *cfg = NULL;
    git_buf name = {0};
    if (git_config_open_default(&cfg) == 0 &&
        git_config_get_string_buf(&name, cfg, "init.defaultBranch") != 0)
      hint = true;
    git_buf_dispose(&name);
    git_config_free(cfg);
    git_error_clear();
  }
  git_repository_init_options opts = GIT_REPOSITORY_INIT_OPTIONS_INIT;
  opts.flags = GIT_REPOSITORY_INIT_MKPATH;
  opts.initial_head = branch;
  git_repository *repo = NULL;
  check(git_repository_init_ext(&repo, dir, &opts), "cannot initialize the repository");
  if (hint && !quiet)
    fputs("hint: Using 'master' as the name for the initial branch. This default branch name\n"
          "hint: is subject to change. To configure the initial branch name to use in all\n"
          "hint: of your new repositories, which will suppress this warning, call:\n"
          "hint: \n"
          "hint: \tgit config --global init.defaultBranch <name>\n"
          "hint: \n"
          "hint: Names commonly chosen instead of 'master' are 'main', 'trunk' and\n"
          "hint: 'development'. The just-created branch can be renamed via this command:\n"
          "hint: \n"
          "hint: \tgit branch -m <name>\n",
          stderr);
  if (!quiet)
    printf("%s Git repository in %s\n", reinit ? "Reinitialized existing" : "Initialized empty",
           git_repository_path(repo));
  git_repository_free(repo);
  return 0;
}

// --- pathspecs (git.h) ---------------------------------------------------------------------------
// PREFIX + ARG with "." and ".." resolved; "" for the whole tree. NULL when ARG leaves the tree.
char *join_spec(const char *prefix, const char *arg) {
  // git reads a leading ':' as pathspec magic (":(glob)x", ":!x", ":/x"); libgit2 would take it
  // as a name.
  if (arg[0] == ':') {
    char what[300];
    snprintf(what, sizeof what, "pathspec magic ('%.200s')", arg);
    refuse(what);
  }
  size_t cap = strlen(prefix) + strlen(arg) + 2;
  char *out = malloc(cap);
  if (out == NULL) die("out of memory");
  snprintf(out, cap, "%s%s", prefix, arg);
  // Resolve components in place.
  char *src = out, *dst = out;
  while (*src != '\0') {
    char *end = strchr(src, '/');
    size_t len = end != NULL ? (size_t)(end - src) : strlen(src);
    if (len == 0 || (len == 1 && src[0] == '.')) {
      // skip
    } else if (len == 2 && src[0] == '.' && src[1] == '.') {
      if (dst == out) {
        free(out);
        return NULL;
      }
      dst--;  // the '/' after the previous component
      while (dst > out && dst[-1] != '/') dst--;
    } else {
      memmove(dst, src, len);
      dst += len;
      if (end != NULL) *dst++ = '/';
    }
    src = end != NULL ? end + 1 : src + len;
  }
  *dst = '\0';
  size_t n = strlen(out);
  if (n > 0 && out[n - 1] == '/') out[n - 1] = '\0';
  return out;
}

void die_outside(git_repository *repo, const char *arg, bool pathspec) {
  const char *top = git_repository_workdir(repo);
  int n = top != NULL ? (int)strlen(top) : 0;
  if (n > 1 && top[n - 1] == '/') n--;
  if (pathspec) die("%s: '%s' is outside repository at '%.*s'", arg, arg, n, top != NULL ? top : "");
  die("'%s' is outside repository at '%.*s'", arg, n, top != NULL ? top : "");
}

bool pathspec_matches(char *spec, git_index *index, git_repository *workdir) {
  git_strarray one = {&spec, 1};
  git_pathspec *ps = NULL;
  git_pathspec_match_list *m = NULL;
  size_t found = 0;
  check(git_pathspec_new(&ps, &one), "invalid pathspec");
  if (git_pathspec_match_index(&m, index, 0, ps) == 0) found = git_pathspec_match_list_entrycount(m);
  git_pathspec_match_list_free(m);
  m = NULL;
  if (found == 0 && workdir != NULL && git_pathspec_match_workdir(&m, workdir, 0, ps) == 0)
    found = git_pathspec_match_list_entrycount(m);
  git_pathspec_match_list_free(m);
  git_pathspec_free(ps);
  git_error_clear();
  return found > 0;
}

// --- add -----------------------------------------------------------------------------------------
int cmd_add(int argc, char **argv) {
  bool all = false, update = false, dashdash = false;
  char **specs = calloc((size_t)argc + 1, sizeof *specs);
  const char **given = calloc((size_t)argc + 1, sizeof *given);  // as typed, for messages
  size_t nspecs = 0;
  if (specs == NULL || given == NULL) die("out of memory");
  git_repository *repo = open_repo();
  const char *prefix = cwd_prefix(repo);
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (!dashdash && (strcmp(a, "-A") == 0 || strcmp(a, "--all") == 0)) {
      all = true;
    } else if (!dashdash && (strcmp(a, "-u") == 0 || strcmp(a, "--update") == 0)) {
      update = true;
    } else if (!dashdash && strcmp(a, "--") == 0) {
      dashdash = true;
    } else if (!dashdash && a[0] == '-') {
      char what[256];
      snprintf(what, sizeof what, "add %s", a);
      refuse(what);
    } else {
      char *s = join_spec(prefix, a);
      if (s == NULL) die_outside(repo, a, true);
      given[nspecs] = a;
      specs[nspecs++] = s;
    }
  }
  if (nspecs == 0 && !all && !update) {
    fputs("Nothing specified, nothing added.\n"
          "hint: Maybe you wanted to say 'git add .'?\n"
          "hint: Turn this message off by running\n"
          "hint: \"git config advice.addEmptyPathspec false\"\n",
          stderr);
    return 0;
  }
  // -A and -u without a pathspec mean the whole tree (git 2.x).
  bool whole = false;
  for (size_t i = 0; i < nspecs; i++)
    if (specs[i][0] == '\0') whole = true;
  git_index *index = NULL;
  check(git_repository_index(&index, repo), "cannot read the index");
  // Every pathspec must match something (else git adds nothing), and a named ignored file is
  // refused as git refuses it.
  char **ignored = calloc(nspecs + 1, sizeof *ignored);
  size_t nignored = 0;
  if (ignored == NULL) die("out of memory");
  // As git: the directory that all pathspecs share (up to a glob character) is read first; when
  // it does not exist, git warns (and goes on)
  if (!whole && !update && nspecs > 0) {
    size_t common = strcspn(specs[0], "*?[\\");
    for (size_t i = 1; i < nspecs; i++) {
      size_t k = 0;
      while (k < common && specs[i][k] == specs[0][k]) k++;
      common = k < strcspn(specs[i], "*?[\\") ? k : strcspn(specs[i], "*?[\\");
    }
    while (common > 0 && specs[0][common - 1] != '/') common--;
    if (common > 0) {
      char dir[PATH_MAX];
      struct stat st;
      snprintf(dir, sizeof dir, "%s%.*s", git_repository_workdir(repo), (int)common, specs[0]);
      // ... only when its first component is a directory (git's leading-path walk stops before).
      char top[PATH_MAX];
      struct stat tst;
      snprintf(top, sizeof top, "%s%.*s", git_repository_workdir(repo), (int)strcspn(specs[0], "/"), specs[0]);
      if (stat(top, &tst) == 0 && S_ISDIR(tst.st_mode) && stat(dir, &st) != 0)
        warning("could not open directory '%.*s': %s", (int)common, specs[0], strerror(errno));
    }
  }
  for (size_t i = 0; i < nspecs && !whole; i++) {
    struct stat st;
    const char *argspec = given[i];
    char full[PATH_MAX];
    snprintf(full, sizeof full, "%s%s", git_repository_workdir(repo), specs[i]);
    bool in_index = git_index_get_bypath(index, specs[i], 0) != NULL;
    if (lstat(full, &st) == 0) {
      int ign = 0;
      if (!in_index && !S_ISDIR(st.st_mode) && git_ignore_path_is_ignored(&ign, repo, specs[i]) == 0 && ign) {
        ignored[nignored++] = specs[i];
      }
      continue;
    }
    if (!pathspec_matches(specs[i], index, repo)) die("pathspec '%s' did not match any files", argspec);
  }
  git_strarray ps = {specs, whole ? 0 : nspecs};
  if (!update) check(git_index_add_all(index, &ps, GIT_INDEX_ADD_DEFAULT, NULL, NULL), "cannot add");
  check(git_index_update_all(index, &ps, NULL, NULL), "cannot update the index");
  check(git_index_write(index), "cannot write the index");
  int rc = 0;
  if (nignored > 0) {
    fputs("The following paths are ignored by one of your .gitignore files:\n", stderr);
    for (size_t i = 0; i < nignored; i++) {
      put_path(stderr, ignored[i], prefix, false);
      fputc('\n', stderr);
    }
    fputs("hint: Use -f if you really want to add them.\n"
          "hint: Turn this message off by running\n"
          "hint: \"git config advice.addIgnoredFile false\"\n",
          stderr);
    rc = 1;
  }
  git_index_free(index);
  git_repository_free(repo);
  return rc;
}

// --- ls-files ------------------------------------------------------------------------------------
int cmd_ls_files(int argc, char **argv) {
  bool stage = false;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "-s") == 0 || strcmp(argv[i], "--stage") == 0) {
      stage = true;
    } else if (strcmp(argv[i], "-c") == 0 || strcmp(argv[i], "--cached") == 0) {
      // the default
    } else {
      char what[256];
      snprintf(what, sizeof what, "ls-files %s", argv[i]);
      refuse(what);
    }
  }
  git_repository *repo = open_repo();
  const char *prefix = cwd_prefix(repo);
  size_t plen = strlen(prefix);
  git_index *index = NULL;
  check(git_repository_index(&index, repo), "cannot read the index");
  size_t n = git_index_entrycount(index);
  for (size_t i = 0; i < n; i++) {
    const git_index_entry *e = git_index_get_byindex(index, i);
    if (strncmp(e->path, prefix, plen) != 0) continue;  // only what is under the directory
    if (stage) {
      char hex[GIT_OID_HEXSZ + 1];
      git_oid_tostr(hex, sizeof hex, &e->id);
      printf("%06o %s %d\t", e->mode, hex, git_index_entry_stage(e));
    }
    put_path(stdout, e->path, prefix, false);
    putchar('\n');
  }
  git_index_free(index);
  git_repository_free(repo);
  return 0;
}

// --- log -----------------------------------------------------------------------------------------
// git's default date format: "Thu Nov 6 01:02:03 2026 +0100", in the signature's own offset.
void format_date(char *out, size_t cap, const git_time *t) {
  static const char *days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static const char *months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                 "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  time_t local = (time_t)(t->time + (git_time_t)t->offset * 60);
  struct tm tm;
  gmtime_r(&local, &tm);
  int off = t->offset < 0 ? -t->offset : t->offset;
  snprintf(out, cap, "%s %s %d %02d:%02d:%02d %d %c%02d%02d", days[tm.tm_wday], months[tm.tm_mon],
           tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, tm.tm_year + 1900,
           t->sign == '-' || t->offset < 0 ? '-' : '+', off / 60, off % 60);
}

// COUNT from "-n N", "-nN", "-N", "--max-count=N"; -1 when ARG is none of them.
static long parse_count(int argc, char **argv, int *i) {
  const char *a = argv[*i], *num = NULL;
  if (strcmp(a, "-n") == 0 || strcmp(a, "--max-count") == 0) {
    if (*i + 1 >= argc) {
      if (a[1] == 'n') {
        fputs("error: -n requires an argument\n", stderr);
        exit(EXIT_FATAL);
      }
      die("Option '--max-count' requires a value");
    }
    num = argv[++*i];
  } else if (strncmp(a, "-n", 2) == 0) {
    num = a + 2;
  } else if (strncmp(a, "--max-count=", 12) == 0) {
    num = a + 12;
  } else if (a[0] == '-' && a[1] >= '0' && a[1] <= '9') {
    num = a + 1;
  } else {
    return -1;
  }
  // As git: atoi() ("x" is 0, a negative count is no limit).
  long n = atoi(num);
  return n < 0 ? LONG_MAX : n;
  return n;
}

// git's "medium" header and message: commit, Merge:, Author:, Date:, each message line
// indented by four spaces (trailing newlines dropped).
void print_commit_header(git_repository *repo, git_commit *c) {
  char hex[GIT_OID_HEXSZ + 1], date[64];
  git_oid_tostr(hex, sizeof hex, git_commit_id(c));
  printf("commit %s\n", hex);
  unsigned np = git_commit_parentcount(c);
  if (np > 1) {
    fputs("Merge:", stdout);
    for (unsigned p = 0; p < np; p++) printf(" %s", short_id(repo, git_commit_parent_id(c, p)));
    putchar('\n');
  }
  const git_signature *a = git_commit_author(c);
  format_date(date, sizeof date, &a->when);
  printf("Author: %s <%s>\nDate:   %s\n\n", term_str(stdout, a->name), term_str(stdout, a->email), date);
  const char *msg = git_commit_message(c);
  size_t len = strlen(msg);
  while (len > 0 && msg[len - 1] == '\n') len--;
  const char *p = msg, *end = msg + len;
  while (p < end) {
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    size_t l = nl != NULL ? (size_t)(nl - p) : (size_t)(end - p);
    fputs("    ", stdout);
    put_text(stdout, p, l);
    putchar('\n');
    p += l + 1;
  }
}

// git log [OPTIONS] [REV...] [[--] PATH...]: the revisions, then (after "--", or from the first
// argument that is a file or a pattern and not a revision, as git's setup_revisions) paths
// relative to the working directory, which limit the history (git's simplification,
// git_walk.c) and the patches.
int cmd_log(int argc, char **argv) {
  bool oneline = false, patch = false, stat = false, dashdash = false;
  long max = -1;
  int end = argc;  // the "--", or argc
  for (int i = 1; i < argc && end == argc; i++)
    if (strcmp(argv[i], "--") == 0) end = i, dashdash = true;
  int *pos = calloc((size_t)argc + 1, sizeof *pos);  // indexes of the non-options before "--"
  int npos = 0;
  if (pos == NULL) die("out of memory");
  for (int i = 1; i < end; i++) {
    long n;
    if (argv[i][0] != '-') {
      pos[npos++] = i;
    } else if (strcmp(argv[i], "--oneline") == 0) {
      oneline = true;
    } else if (strcmp(argv[i], "-p") == 0 || strcmp(argv[i], "--patch") == 0 || strcmp(argv[i], "-u") == 0) {
      patch = true;
    } else if (strcmp(argv[i], "--stat") == 0) {
      stat = true;
    } else if ((n = parse_count(end, argv, &i)) >= 0) {
      max = n;
    } else {
      char what[256];
      snprintf(what, sizeof what, "log %s", argv[i]);
      refuse(what);
    }
  }
  git_repository *repo = open_repo();
  // Revisions up to the first argument that is not one (without "--"); then the paths: every
  // argument from there (each must exist or be a pattern, no options after it), and those after
  // "--". A path that is the whole tree ("." at the top) still simplifies (empty commits hidden).
  git_revspec *specs = calloc((size_t)npos + 1, sizeof *specs);
  if (specs == NULL) die("out of memory");
  int first_path = end, nrevs = 0;
  for (int k = 0; k < npos; k++) {
    if (!parse_revision(repo, argv[pos[k]], dashdash, &specs[nrevs])) {
      first_path = pos[k];
      break;
    }
    nrevs++;
  }
  for (int i = first_path; i < end; i++) verify_filename(argv[i], i == first_path);
  const char *prefix = cwd_prefix(repo);
  char **paths = calloc((size_t)argc + 1, sizeof *paths);
  size_t npaths = 0;
  bool prune = false, whole = false;
  if (paths == NULL) die("out of memory");
  for (int i = first_path; i < argc; i++) {
    if (i == end) continue;
    char *s = join_spec(prefix, argv[i]);
    if (s == NULL) die_outside(repo, argv[i], true);
    prune = true;
    if (s[0] == '\0') whole = true;
    paths[npaths++] = s;
  }
  git_strarray pathspec = {paths, whole ? 0 : npaths};
  struct walk *walk = walk_new(repo, prune, paths, pathspec.count);
  for (int r = 0; r < nrevs; r++) {
    git_revspec *spec = &specs[r];
    const git_oid *to = git_object_id(spec->to);
    if (spec->flags & GIT_REVSPEC_MERGE_BASE) {
      // A...B: what either has and not both (every merge base excluded; git's order: the
      // bases, A, B).
      const git_oid *from = git_object_id(spec->from);
      git_oidarray bases = {0};
      if (git_merge_bases(&bases, repo, from, to) == 0)
        for (size_t b = 0; b < bases.count; b++) walk_push(walk, &bases.ids[b], true);
      git_error_clear();
      git_oidarray_dispose(&bases);
      walk_push(walk, from, false);
      walk_push(walk, to, false);
    } else if (spec->flags & GIT_REVSPEC_RANGE) {
      walk_push(walk, git_object_id(spec->from), true);
      walk_push(walk, to, false);
    } else {
      walk_push(walk, to, (spec->flags & REV_EXCLUDED) != 0);
    }
    git_object_free(spec->from);
    git_object_free(spec->to);
  }
  git_reference *head = NULL;
  int err = nrevs > 0 ? 0 : git_repository_head(&head, repo);
  if (err == GIT_EUNBORNBRANCH) {
    git_reference *sym = NULL;
    const char *name = "master";
    if (git_reference_lookup(&sym, repo, "HEAD") == 0 && git_reference_symbolic_target(sym) != NULL) {
      name = git_reference_symbolic_target(sym);
      if (strncmp(name, "refs/heads/", 11) == 0) name += 11;
    }
    die("your current branch '%s' does not have any commits yet", name);
  }
  check(err, "cannot resolve HEAD");
  if (head != NULL) walk_push(walk, git_reference_target(head), false);
  git_oid id;
  long shown = 0;
  while ((max < 0 || shown < max) && walk_next(walk, &id)) {
    git_commit *c = NULL;
    check(git_commit_lookup(&c, repo, &id), "cannot read a commit");
    if (oneline) {
      const char *summary = git_commit_summary(c);
      printf("%s %s\n", short_id(repo, &id), summary != NULL ? term_str(stdout, summary) : "");
    } else {
      if (shown > 0) putchar('\n');
      print_commit_header(repo, c);
      if (patch || stat) print_commit_diff(repo, c, stat, &pathspec);
    }
    shown++;
    git_commit_free(c);
  }
  walk_free(walk);
  git_reference_free(head);
  git_repository_free(repo);
  return 0;
}

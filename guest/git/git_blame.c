// git blame [-L RANGE] [-p|--porcelain|--line-porcelain] [-s -e -n -f -l -b --root] [REV] [--]
// FILE (README.md). The history's blame is libgit2's (git_blame_file: git's algorithm without
// -M/-C, with the indent heuristic git's blame diffs with: patches/libgit2/03); without REV the
// work tree's file is blamed as git does it: its lines that HEAD's version does not have are
// "Not Committed Yet" (00000000, the time now), the others HEAD's, matched by a diff of the two
// (xdiff with the indent heuristic, the common tail trimmed as git's xdi_diff does).
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <wchar.h>

#include "git.h"


// One line of the final file: who it is blamed on.
struct bline {
  git_oid commit;    // zero: not committed yet
  const char *path;  // the path in that commit (borrowed)
  size_t orig;       // its line number there (1-based)
};

struct opts {
  bool porcelain, line_porcelain, suppress, email, number, name, longname, blank, root;
  long from, to;  // -L, 1-based, 0: not given
  const char *range;
};

static int decimal_width(size_t n) {
  int w = 1;
  while (n >= 10) n /= 10, w++;
  return w;
}

// git's utf8_strwidth: columns of a UTF-8 string (bytes when it is not UTF-8).
// The line starts of BUF (N lines; an unterminated last line counts).
static size_t *line_starts(const char *buf, size_t len, size_t *n) {
  size_t count = 0;
  for (size_t i = 0; i < len; i++)
    if (buf[i] == '\n') count++;
  if (len > 0 && buf[len - 1] != '\n') count++;
  size_t *starts = malloc((count + 1) * sizeof *starts);
  if (starts == NULL) die("out of memory");
  size_t k = 0;
  for (size_t i = 0; i < len && k < count; i++)
    if (i == 0 || buf[i - 1] == '\n') starts[k++] = i;
  starts[count] = len;
  *n = count;
  return starts;
}

// -L START,END as git's parse_range_arg (numbers and +N/-N only; regex and :funcname refused).
static const char *parse_loc(const char *spec, long begin, long *ret) {
  char *term;
  if (begin > 1 && (spec[0] == '+' || spec[0] == '-')) {
    long num = strtol(spec + 1, &term, 10);
    if (term == spec + 1) return spec;
    if (num == 0) die("-L invalid empty range");
    if (spec[0] == '-') num = -num;
    *ret = num > 0 ? begin + num - 2 : (begin + num > 0 ? begin + num : 1);
    return term;
  }
  long num = strtol(spec, &term, 10);
  if (term != spec) {
    if (num <= 0) die("-L invalid line number: %ld", num);
    *ret = num;
  }
  return term;
}

static void parse_range(struct opts *o) {
  const char *arg = o->range;
  long begin = 0, end = 0;
  char what[300];
  snprintf(what, sizeof what, "blame -L %s", arg);
  if (arg[0] == ':' || arg[0] == '/' || arg[0] == '^') refuse(what);
  arg = parse_loc(arg, 1, &begin);
  if (*arg == ',') arg = parse_loc(arg + 1, begin + 1, &end);
  if (*arg != '\0') refuse(what);
  if (begin && end && end < begin) {
    long t = begin;
    begin = end, end = t;
  }
  o->from = begin, o->to = end;
}

// The lines of NEW that OLD has (git's xdi_diff: the common tail of whole 1 KiB blocks trimmed
// first, then xdiff with the indent heuristic): MAP[i] is OLD's 1-based line for NEW's line i+1,
// 0 for a line NEW added.
struct changes {
  bool *added, *deleted;
};

static int changed_line(const git_diff_delta *d, const git_diff_hunk *h, const git_diff_line *l, void *p) {
  (void)d, (void)h;
  struct changes *c = p;
  if (l->origin == GIT_DIFF_LINE_ADDITION && l->new_lineno > 0) c->added[l->new_lineno - 1] = true;
  if (l->origin == GIT_DIFF_LINE_DELETION && l->old_lineno > 0) c->deleted[l->old_lineno - 1] = true;
  return 0;
}

static void map_lines(const char *a, size_t alen, size_t na, const char *b, size_t blen, size_t nb,
                      size_t *map) {
  const size_t blk = 1024;
  size_t trimmed = 0, recovered = 0, smaller = alen < blen ? alen : blen;
  while (blk + trimmed <= smaller && memcmp(a + alen - trimmed - blk, b + blen - trimmed - blk, blk) == 0)
    trimmed += blk;
  const char *ap = a + alen - trimmed;
  while (recovered < trimmed)
    if (ap[recovered++] == '\n') break;
  size_t cut = trimmed - recovered;
  struct changes c = {calloc(nb + 1, sizeof(bool)), calloc(na + 1, sizeof(bool))};
  if (c.added == NULL || c.deleted == NULL) die("out of memory");
  git_diff_options o;
  git_diff_options_init(&o, GIT_DIFF_OPTIONS_VERSION);
  o.context_lines = 0;
  o.flags |= GIT_DIFF_INDENT_HEURISTIC | GIT_DIFF_FORCE_TEXT;
  check(git_diff_buffers(a, alen - cut, NULL, b, blen - cut, NULL, &o, NULL, NULL, NULL, changed_line, &c),
        "diff");
  // The unchanged lines are in the same order on both sides.
  size_t j = 0;
  for (size_t i = 0; i < nb; i++) {
    while (j < na && c.deleted[j]) j++;
    if (c.added[i] || j >= na) {
      map[i] = 0;
    } else {
      map[i] = ++j;
    }
  }
  free(c.added);
  free(c.deleted);
}

// What blame prints about a commit (mailmap applied, as git's blame).
struct cinfo {
  git_oid id;
  char *author, *author_mail, *committer, *committer_mail, *summary;
  git_time author_time, committer_time;
  bool boundary, shown;
  git_oid prev;     // porcelain's "previous": the first parent that has the path
  char *prev_path;  // NULL: none
  bool many_paths;  // more than one path of this commit is shown (porcelain's "filename")
  const char *first_path;
};

static char *dup_or_die(const char *s) {
  char *d = strdup(s != NULL ? s : "");
  if (d == NULL) die("out of memory");
  return d;
}

static char *bracketed(const char *mail) {
  size_t n = strlen(mail) + 3;
  char *s = malloc(n);
  if (s == NULL) die("out of memory");
  snprintf(s, n, "<%s>", mail);
  return s;
}

static void tz_str(char *out, size_t cap, const git_time *t) {
  int off = t->offset < 0 ? -t->offset : t->offset;
  snprintf(out, cap, "%c%02d%02d", t->sign == '-' || t->offset < 0 ? '-' : '+', off / 60, off % 60);
}

// The path PATH of commit C in its parents, as git's find_origin/find_rename: the same path in
// the first parent that has it, else the path a rename came from.
static void find_previous(git_repository *repo, git_commit *c, const char *path, struct cinfo *ci) {
  unsigned np = git_commit_parentcount(c);
  for (unsigned p = 0; p < np && ci->prev_path == NULL; p++) {
    git_commit *parent = NULL;
    git_tree *pt = NULL, *t = NULL;
    git_tree_entry *e = NULL;
    if (git_commit_parent(&parent, c, p) != 0 || git_commit_tree(&pt, parent) != 0) {
      git_commit_free(parent);
      git_error_clear();
      continue;
    }
    if (git_tree_entry_bypath(&e, pt, path) == 0 && git_tree_entry_type(e) == GIT_OBJECT_BLOB) {
      git_oid_cpy(&ci->prev, git_commit_id(parent));
      ci->prev_path = dup_or_die(path);
    } else if (git_commit_tree(&t, c) == 0) {
      git_diff *diff = NULL;
      git_diff_options o;
      git_diff_options_init(&o, GIT_DIFF_OPTIONS_VERSION);
      if (git_diff_tree_to_tree(&diff, repo, pt, t, &o) == 0) {
        git_diff_find_options f = GIT_DIFF_FIND_OPTIONS_INIT;
        f.flags = GIT_DIFF_FIND_RENAMES;
        f.metric = (git_diff_similarity_metric *)&git_rename_metric;
        if (git_diff_find_similar(diff, &f) == 0) {
          for (size_t k = 0; k < git_diff_num_deltas(diff); k++) {
            const git_diff_delta *d = git_diff_get_delta(diff, k);
            if (d->status == GIT_DELTA_RENAMED && strcmp(d->new_file.path, path) == 0) {
              git_oid_cpy(&ci->prev, git_commit_id(parent));
              ci->prev_path = dup_or_die(d->old_file.path);
              break;
            }
          }
        }
      }
      git_diff_free(diff);
    }
    git_error_clear();
    git_tree_entry_free(e);
    git_tree_free(t);
    git_tree_free(pt);
    git_commit_free(parent);
  }
}

static struct cinfo *infos;
static size_t ninfos, capinfos;

static struct cinfo *info_for(git_repository *repo, git_mailmap *mm, const git_oid *id, const char *path,
                              const char *final_path, bool root, const git_oid *head) {
  for (size_t i = 0; i < ninfos; i++)
    if (git_oid_equal(&infos[i].id, id)) {
      if (strcmp(infos[i].first_path, path) != 0) infos[i].many_paths = true;
      return &infos[i];
    }
  if (ninfos == capinfos) {
    capinfos = capinfos ? capinfos * 2 : 16;
    infos = realloc(infos, capinfos * sizeof *infos);
    if (infos == NULL) die("out of memory");
  }
  struct cinfo *ci = &infos[ninfos++];
  memset(ci, 0, sizeof *ci);
  git_oid_cpy(&ci->id, id);
  ci->first_path = path;
  if (git_oid_is_zero(id)) {
    // git's fake work-tree commit: "Not Committed Yet", now, in the local zone (UTC here).
    time_t now = time(NULL);
    ci->author = dup_or_die("Not Committed Yet");
    ci->committer = dup_or_die("Not Committed Yet");
    ci->author_mail = dup_or_die("<not.committed.yet>");
    ci->committer_mail = dup_or_die("<not.committed.yet>");
    ci->author_time.time = ci->committer_time.time = (git_time_t)now;
    ci->author_time.sign = ci->committer_time.sign = '+';
    size_t n = 2 * strlen(final_path) + 32;
    ci->summary = malloc(n);
    if (ci->summary == NULL) die("out of memory");
    snprintf(ci->summary, n, "Version of %s from %s", final_path, final_path);
    if (head != NULL) {
      git_oid_cpy(&ci->prev, head);
      ci->prev_path = dup_or_die(final_path);
    }
    return ci;
  }
  git_commit *c = NULL;
  check(git_commit_lookup(&c, repo, id), "cannot read a commit");
  git_signature *a = NULL, *cm = NULL;
  check(git_commit_author_with_mailmap(&a, c, mm), "author");
  check(git_commit_committer_with_mailmap(&cm, c, mm), "committer");
  ci->author = dup_or_die(a->name);
  ci->author_mail = bracketed(a->email);
  ci->author_time = a->when;
  ci->committer = dup_or_die(cm->name);
  ci->committer_mail = bracketed(cm->email);
  ci->committer_time = cm->when;
  git_signature_free(a);
  git_signature_free(cm);
  // git's find_commit_subject: the message's first line.
  const char *msg = git_commit_message(c);
  while (*msg == '\n') msg++;
  size_t l = strcspn(msg, "\n");
  ci->summary = strndup(msg, l);
  if (ci->summary == NULL) die("out of memory");
  // A root commit is a boundary (git's "treat root commit as boundary"), unless --root.
  ci->boundary = !root && git_commit_parentcount(c) == 0;
  find_previous(repo, c, path, ci);
  git_commit_free(c);
  return ci;
}

static void porcelain_details(const struct cinfo *ci, const char *path, bool full) {
  char tz[16];
  if (full) {
    printf("author %s\nauthor-mail %s\n", term_str(stdout, ci->author), term_str(stdout, ci->author_mail));
    tz_str(tz, sizeof tz, &ci->author_time);
    printf("author-time %lld\nauthor-tz %s\n", (long long)ci->author_time.time, tz);
    printf("committer %s\ncommitter-mail %s\n", term_str(stdout, ci->committer), term_str(stdout, ci->committer_mail));
    tz_str(tz, sizeof tz, &ci->committer_time);
    printf("committer-time %lld\ncommitter-tz %s\n", (long long)ci->committer_time.time, tz);
    printf("summary %s\n", term_str(stdout, ci->summary));
    if (ci->boundary) puts("boundary");
  }
  if (full || ci->many_paths) {
    if (ci->prev_path != NULL) {
      char hex[GIT_OID_HEXSZ + 1];
      git_oid_tostr(hex, sizeof hex, &ci->prev);
      printf("previous %s ", hex);
      put_path(stdout, ci->prev_path, NULL, false);
      putchar('\n');
    }
    fputs("filename ", stdout);
    put_path(stdout, path, NULL, false);
    putchar('\n');
  }
}

// git's default date for blame: ISO 8601 in the signature's own zone.
static void iso_date(char *out, size_t cap, const git_time *t) {
  time_t local = (time_t)(t->time + (git_time_t)t->offset * 60);
  struct tm tm;
  gmtime_r(&local, &tm);
  char tz[16];
  tz_str(tz, sizeof tz, t);
  snprintf(out, cap, "%04d-%02d-%02d %02d:%02d:%02d %s", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
           tm.tm_hour, tm.tm_min, tm.tm_sec, tz);
}

static void put_line(const char *buf, const size_t *starts, size_t i) {
  put_text(stdout, buf + starts[i], starts[i + 1] - starts[i]);
  if (starts[i + 1] == starts[i] || buf[starts[i + 1] - 1] != '\n') putchar('\n');
}

int cmd_blame(int argc, char **argv) {
  struct opts o = {0};
  const char *positional[3];
  int npos = 0;
  bool dashdash = false;
  const char *file = NULL;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (dashdash) {
      if (file != NULL) refuse("blame of more than one file");
      file = a;
    } else if (strcmp(a, "--") == 0) {
      dashdash = true;
    } else if (strcmp(a, "-p") == 0 || strcmp(a, "--porcelain") == 0) {
      o.porcelain = true;
    } else if (strcmp(a, "--line-porcelain") == 0) {
      o.porcelain = o.line_porcelain = true;
    } else if (strcmp(a, "-s") == 0) {
      o.suppress = true;
    } else if (strcmp(a, "-e") == 0 || strcmp(a, "--show-email") == 0) {
      o.email = true;
    } else if (strcmp(a, "-n") == 0 || strcmp(a, "--show-number") == 0) {
      o.number = true;
    } else if (strcmp(a, "-f") == 0 || strcmp(a, "--show-name") == 0) {
      o.name = true;
    } else if (strcmp(a, "-l") == 0) {
      o.longname = true;
    } else if (strcmp(a, "-b") == 0) {
      o.blank = true;
    } else if (strcmp(a, "--root") == 0) {
      o.root = true;
    } else if (strcmp(a, "-L") == 0 && i + 1 < argc && o.range == NULL) {
      o.range = argv[++i];
    } else if (strncmp(a, "-L", 2) == 0 && a[2] != '\0' && o.range == NULL) {
      o.range = a + 2;
    } else if (a[0] == '-' && a[1] != '\0') {
      char what[256];
      snprintf(what, sizeof what, "blame %s", strcmp(a, "-L") == 0 ? "with more than one -L" : a);
      refuse(what);
    } else {
      if (npos == 2) refuse("blame of more than one file");
      positional[npos++] = a;
    }
  }
  if (o.range != NULL) parse_range(&o);
  const char *rev = NULL;
  if (file == NULL) {
    if (npos == 0) refuse("blame without a file");
    file = positional[--npos];
  }
  if (npos == 1) rev = positional[0];
  else if (npos > 1) refuse("blame of more than one file");

  git_repository *repo = open_repo();
  const char *prefix = cwd_prefix(repo);
  char *path = join_spec(prefix, file);
  if (path == NULL) die_outside(repo, file, false);
  git_object *obj = NULL;
  if (rev != NULL) {
    git_object *named = NULL;
    if (git_revparse_single(&named, repo, rev) != 0 || git_object_peel(&obj, named, GIT_OBJECT_COMMIT) != 0)
      die("bad revision '%s'", rev);
    git_object_free(named);
  } else if (git_revparse_single(&obj, repo, "HEAD^{commit}") != 0) {
    die("no such ref: HEAD");
  }
  git_error_clear();
  git_commit *commit = (git_commit *)obj;
  git_tree *tree = NULL;
  git_tree_entry *te = NULL;
  check(git_commit_tree(&tree, commit), "tree");
  if (git_tree_entry_bypath(&te, tree, path) != 0 || git_tree_entry_type(te) != GIT_OBJECT_BLOB)
    die("no such path '%s' in %s", path, rev != NULL ? rev : "HEAD");
  git_error_clear();
  git_blob *blob = NULL;
  check(git_blob_lookup(&blob, repo, git_tree_entry_id(te)), "cannot read the file");
  const char *hbuf = git_blob_rawcontent(blob);
  size_t hlen = (size_t)git_blob_rawsize(blob), hn = 0;
  free(line_starts(hbuf, hlen, &hn));

  // The final file: the work tree's (no REV) or the commit's.
  char *wbuf = NULL;
  size_t wlen = 0;
  if (rev == NULL) {
    char full[4096];
    struct stat st;
    snprintf(full, sizeof full, "%s%s", git_repository_workdir(repo), path);
    if (lstat(full, &st) != 0) die("Cannot lstat '%s': %s", path, strerror(errno));
    if (!S_ISREG(st.st_mode)) refuse("blame of a work-tree file that is not a regular file");
    FILE *f = fopen(full, "rb");
    if (f == NULL) die("cannot open '%s': %s", path, strerror(errno));
    size_t cap = (size_t)st.st_size + 1;
    wbuf = malloc(cap);
    if (wbuf == NULL) die("out of memory");
    size_t got;
    while ((got = fread(wbuf + wlen, 1, cap - wlen, f)) > 0) {
      wlen += got;
      if (wlen == cap) {
        char *nb = realloc(wbuf, cap *= 2);
        if (nb == NULL) die("out of memory");
        wbuf = nb;
      }
    }
    fclose(f);
  }
  const char *fbuf = rev == NULL ? wbuf : hbuf;
  size_t flen = rev == NULL ? wlen : hlen, fn = 0;
  size_t *fstarts = line_starts(fbuf, flen, &fn);

  long from = 1, to = (long)fn;
  if (o.range != NULL) {
    if ((fn == 0 && (o.from || o.to)) || (long)fn < o.from)
      die("file %s has only %zu line%s", path, fn, fn == 1 ? "" : "s");
    from = o.from < 1 ? 1 : o.from;
    to = o.to < 1 || (long)fn < o.to ? (long)fn : o.to;
  }

  // The commit's blame, line by line.
  struct bline *hl = calloc(hn + 1, sizeof *hl);
  if (hl == NULL) die("out of memory");
  if (hn > 0) {
    git_blame_options bo;
    git_blame_options_init(&bo, GIT_BLAME_OPTIONS_VERSION);
    git_oid_cpy(&bo.newest_commit, git_commit_id(commit));
    git_blame *blame = NULL;
    check(git_blame_file(&blame, repo, path, &bo), "blame");
    uint32_t nh = git_blame_get_hunk_count(blame);
    for (uint32_t h = 0; h < nh; h++) {
      const git_blame_hunk *bh = git_blame_get_hunk_byindex(blame, h);
      const char *hpath = dup_or_die(bh->orig_path != NULL ? bh->orig_path : path);
      for (size_t k = 0; k < bh->lines_in_hunk; k++) {
        size_t line = bh->final_start_line_number + k;
        if (line < 1 || line > hn) continue;
        git_oid_cpy(&hl[line - 1].commit, &bh->final_commit_id);
        hl[line - 1].path = hpath;
        hl[line - 1].orig = bh->orig_start_line_number + k;
      }
    }
    git_blame_free(blame);
  }
  struct bline *fl = hl;
  if (rev == NULL) {
    size_t *map = calloc(fn + 1, sizeof *map);
    fl = calloc(fn + 1, sizeof *fl);
    if (map == NULL || fl == NULL) die("out of memory");
    map_lines(hbuf, hlen, hn, fbuf, flen, fn, map);
    for (size_t i = 0; i < fn; i++) {
      if (map[i] == 0) {
        memset(&fl[i].commit, 0, sizeof fl[i].commit);
        fl[i].path = path;
        fl[i].orig = i + 1;
      } else {
        fl[i] = hl[map[i] - 1];
      }
    }
    free(map);
  }

  // The entries: runs of lines of one commit and path, consecutive there (git's coalesce).
  git_mailmap *mm = NULL;
  if (git_mailmap_from_repository(&mm, repo) != 0) git_error_clear();
  const git_oid *head_id = rev == NULL ? git_commit_id(commit) : NULL;
  struct cinfo **ci = calloc(fn + 1, sizeof *ci);
  if (ci == NULL) die("out of memory");
  size_t longest_author = 0, longest_file = 0, max_orig = 0, max_final = 0, abbrev = 7;
  bool show_name = o.name;
  for (long i = from - 1; i < to; i++) {
    bool same = i > from - 1 && git_oid_equal(&fl[i].commit, &fl[i - 1].commit) && fl[i].path == fl[i - 1].path;
    ci[i] = same ? ci[i - 1] : info_for(repo, mm, &fl[i].commit, fl[i].path, path, o.root, head_id);
    if (strcmp(fl[i].path, path) != 0) show_name = true;
    size_t w = (size_t)display_width(o.email ? ci[i]->author_mail : ci[i]->author);
    if (w > longest_author) longest_author = w;
    if (strlen(fl[i].path) > longest_file) longest_file = strlen(fl[i].path);
    if (fl[i].orig > max_orig) max_orig = fl[i].orig;
    if ((size_t)i + 1 > max_final) max_final = (size_t)i + 1;
    if (!git_oid_is_zero(&fl[i].commit)) {
      size_t l = strlen(short_id(repo, &fl[i].commit));
      if (l > abbrev) abbrev = l;
    }
  }
  abbrev += 1;  // room for the boundary's '^'
  int orig_digits = decimal_width(max_orig), final_digits = decimal_width(max_final);
  for (long i = from - 1; i < to;) {
    long end = i + 1;
    while (end < to && git_oid_equal(&fl[end].commit, &fl[i].commit) && strcmp(fl[end].path, fl[i].path) == 0 &&
           fl[end].orig == fl[end - 1].orig + 1)
      end++;
    struct cinfo *c = ci[i];
    char hex[GIT_OID_HEXSZ + 1];
    git_oid_tostr(hex, sizeof hex, &fl[i].commit);
    for (long k = i; k < end; k++) {
      if (o.porcelain) {
        if (k == i) {
          printf("%s %zu %ld %ld\n", hex, fl[k].orig, k + 1, end - i);
          porcelain_details(c, fl[k].path, !c->shown || o.line_porcelain);
          c->shown = true;
        } else {
          printf("%s %zu %ld\n", hex, fl[k].orig, k + 1);
          if (o.line_porcelain) porcelain_details(c, fl[k].path, true);
        }
        putchar('\t');
        put_line(fbuf, fstarts, (size_t)k);
        continue;
      }
      size_t length = o.longname ? GIT_OID_HEXSZ : abbrev;
      if (c->boundary) {
        if (o.blank) {
          printf("%*s", (int)length, "");
          length = 0;
        } else {
          length--;
          putchar('^');
        }
      }
      printf("%.*s", (int)length, hex);
      if (show_name) {  // git pads by bytes; escaped on a terminal, then padded
        const char *shown = term_str(stdout, fl[k].path);
        printf(" %-*.*s", (int)longest_file, shown == fl[k].path ? (int)longest_file : (int)strlen(shown), shown);
      }
      if (o.number) printf(" %*zu", orig_digits, fl[k].orig);
      if (!o.suppress) {
        const char *name = o.email ? c->author_mail : c->author;
        char date[64];
        iso_date(date, sizeof date, &c->author_time);
        printf(" (%s%*s %10s", term_str(stdout, name), (int)(longest_author - (size_t)display_width(name)), "", date);
      }
      printf(" %*ld) ", final_digits, k + 1);
      put_line(fbuf, fstarts, (size_t)k);
    }
    i = end;
  }
  git_mailmap_free(mm);
  git_blob_free(blob);
  git_tree_entry_free(te);
  git_tree_free(tree);
  git_object_free(obj);
  git_repository_free(repo);
  return 0;
}

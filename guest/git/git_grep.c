// git grep [-n -i -v -w -c -l -h -H -q -F -E -G] [-e] PATTERN... [--] [PATHSPEC...]: tracked files
// in the work tree (README.md). Regular expressions are POSIX (basic by default, -E extended) from
// wasi-libc's regcomp, as git's own are POSIX regcomp (glibc's).
#include <ctype.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "git.h"


struct grep {
  bool line_numbers, invert, word, count, names, no_names, quiet, fixed, icase;
  size_t npat;
  const char **pat;
  regex_t *re;
};

static bool is_word(unsigned char c) { return isalnum(c) || c == '_'; }

// The first match of pattern I in LINE (LEN bytes, NUL-terminated) at or after FROM: start, end.
static bool find(const struct grep *g, size_t i, const char *line, size_t len, size_t from,
                 size_t *so, size_t *eo) {
  if (g->fixed) {
    size_t pl = strlen(g->pat[i]);
    for (size_t k = from; k + pl <= len; k++) {
      bool eq = true;
      for (size_t m = 0; m < pl && eq; m++) {
        unsigned char a = (unsigned char)line[k + m], b = (unsigned char)g->pat[i][m];
        eq = g->icase ? tolower(a) == tolower(b) : a == b;
      }
      if (eq) {
        *so = k, *eo = k + pl;
        return true;
      }
    }
    return false;
  }
  regmatch_t m;
  if (from > len) return false;
  if (regexec(&g->re[i], line + from, 1, &m, from > 0 ? REG_NOTBOL : 0) != 0) return false;
  *so = from + (size_t)m.rm_so, *eo = from + (size_t)m.rm_eo;
  return true;
}

static bool line_matches(const struct grep *g, const char *line, size_t len) {
  for (size_t i = 0; i < g->npat; i++) {
    size_t from = 0, so, eo;
    while (find(g, i, line, len, from, &so, &eo)) {
      if (!g->word) return true;
      // -w: the match must stand between non-word characters; else look again one further.
      bool before = so == 0 || !is_word((unsigned char)line[so - 1]);
      bool after = eo >= len || !is_word((unsigned char)line[eo]);
      if (before && after && eo > so) return true;
      from = so + 1;
    }
  }
  return false;
}

// Greps one file's bytes; prints as git does; returns whether it matched.
// NAME is relative to the work tree, printed relative to PREFIX (the working directory).
static bool grep_buffer(const struct grep *g, const char *name, const char *prefix, char *buf,
                        size_t size) {
  bool binary = memchr(buf, 0, size < 8000 ? size : 8000) != NULL;
  size_t count = 0, lineno = 0;
  char *p = buf, *end = buf + size;
  while (p < end) {
    char *nl = memchr(p, '\n', (size_t)(end - p));
    size_t len = nl != NULL ? (size_t)(nl - p) : (size_t)(end - p);
    lineno++;
    // NUL-terminated for regexec (the last line too: the buffer has one spare byte).
    p[len] = '\0';
    bool hit = line_matches(g, p, len) != g->invert;
    if (nl != NULL) *nl = '\n';
    if (hit) {
      count++;
      if (g->quiet) return true;
      if (g->names) {
        put_path(stdout, name, prefix, false);
        putchar('\n');
        return true;
      }
      if (!g->count) {
        if (binary) {
          fputs("Binary file ", stdout);
          put_path(stdout, name, prefix, false);
          fputs(" matches\n", stdout);
          return true;
        }
        if (!g->no_names) {
          put_path(stdout, name, prefix, false);
          putchar(':');
        }
        if (g->line_numbers) printf("%zu:", lineno);
        put_text(stdout, p, len);
        putchar('\n');
      }
    }
    p += len + 1;
  }
  if (g->count && count > 0 && !g->quiet) {
    if (!g->no_names) {
      put_path(stdout, name, prefix, false);
      putchar(':');
    }
    printf("%zu\n", count);
  }
  return count > 0;
}

int cmd_grep(int argc, char **argv) {
  struct grep g = {0};
  bool extended = false, dashdash = false;
  g.pat = calloc((size_t)argc + 1, sizeof *g.pat);
  char **specs = calloc((size_t)argc + 1, sizeof *specs);
  size_t nspecs = 0;
  if (g.pat == NULL || specs == NULL) die("out of memory");
  git_repository *repo = open_repo();
  const char *prefix = cwd_prefix(repo);
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (dashdash || (a[0] != '-' && g.npat > 0)) {
      char *s = join_spec(prefix, a);
      if (s == NULL) die_outside(repo, a, true);
      // Before "--" a path must exist (else git takes it for a revision it does not know).
      char full[4096];
      struct stat st;
      snprintf(full, sizeof full, "%s%s", git_repository_workdir(repo), s);
      if (!dashdash && lstat(full, &st) != 0) {
        die_ambiguous(a);
      }
      specs[nspecs++] = s;
    } else if (strcmp(a, "--") == 0) {
      dashdash = true;
    } else if (a[0] != '-') {
      g.pat[g.npat++] = a;
    } else if (strcmp(a, "-e") == 0 && i + 1 < argc) {
      g.pat[g.npat++] = argv[++i];
    } else if (strcmp(a, "-n") == 0 || strcmp(a, "--line-number") == 0) g.line_numbers = true;
    else if (strcmp(a, "-i") == 0 || strcmp(a, "--ignore-case") == 0) g.icase = true;
    else if (strcmp(a, "-v") == 0 || strcmp(a, "--invert-match") == 0) g.invert = true;
    else if (strcmp(a, "-w") == 0 || strcmp(a, "--word-regexp") == 0) g.word = true;
    else if (strcmp(a, "-c") == 0 || strcmp(a, "--count") == 0) g.count = true;
    else if (strcmp(a, "-l") == 0 || strcmp(a, "--files-with-matches") == 0 || strcmp(a, "--name-only") == 0) g.names = true;
    else if (strcmp(a, "-h") == 0) g.no_names = true;
    else if (strcmp(a, "-H") == 0) g.no_names = false;
    else if (strcmp(a, "-q") == 0 || strcmp(a, "--quiet") == 0) g.quiet = true;
    else if (strcmp(a, "-F") == 0 || strcmp(a, "--fixed-strings") == 0) g.fixed = true;
    else if (strcmp(a, "-E") == 0 || strcmp(a, "--extended-regexp") == 0) extended = true;
    else if (strcmp(a, "-G") == 0 || strcmp(a, "--basic-regexp") == 0) extended = false;
    else if (a[1] != '-' && a[1] != '\0' && strspn(a + 1, "nivwclhHqFEG") == strlen(a + 1)) {
      // Combined short flags (-wn, -in, ...).
      for (const char *f = a + 1; *f != '\0'; f++) {
        switch (*f) {
          case 'n': g.line_numbers = true; break;
          case 'i': g.icase = true; break;
          case 'v': g.invert = true; break;
          case 'w': g.word = true; break;
          case 'c': g.count = true; break;
          case 'l': g.names = true; break;
          case 'h': g.no_names = true; break;
          case 'H': g.no_names = false; break;
          case 'q': g.quiet = true; break;
          case 'F': g.fixed = true; break;
          case 'E': extended = true; break;
          case 'G': extended = false; break;
          default: break;
        }
      }
    } else {
      char what[256];
      snprintf(what, sizeof what, "grep %s", a);
      refuse(what);
    }
  }
  if (g.npat == 0) die("no pattern given");
  if (!g.fixed) {
    g.re = calloc(g.npat, sizeof *g.re);
    if (g.re == NULL) die("out of memory");
    for (size_t i = 0; i < g.npat; i++) {
      int err = regcomp(&g.re[i], g.pat[i], (extended ? REG_EXTENDED : 0) | (g.icase ? REG_ICASE : 0) | REG_NEWLINE);
      if (err != 0) {
        refuse("grep with a pattern this regcomp does not take");
      }
    }
  }
  git_pathspec *ps = NULL;
  git_strarray arr = {specs, nspecs};
  check(git_pathspec_new(&ps, &arr), "invalid pathspec");
  git_index *index = NULL;
  check(git_repository_index(&index, repo), "cannot read the index");
  size_t plen = strlen(prefix);
  const char *wd = git_repository_workdir(repo);
  bool any = false;
  size_t n = git_index_entrycount(index);
  for (size_t i = 0; i < n; i++) {
    const git_index_entry *e = git_index_get_byindex(index, i);
    if (git_index_entry_stage(e) != 0 || e->mode == GIT_FILEMODE_COMMIT) continue;
    if (strncmp(e->path, prefix, plen) != 0) continue;
    if (nspecs > 0 && !git_pathspec_matches_path(ps, 0, e->path)) continue;
    char full[4096];
    snprintf(full, sizeof full, "%s%s", wd, e->path);
    FILE *f = fopen(full, "rb");
    if (f == NULL) continue;  // deleted in the work tree: git skips it too
    size_t cap = 65536, len = 0, got;
    char *buf = malloc(cap + 1);
    while (buf != NULL && (got = fread(buf + len, 1, cap - len, f)) > 0) {
      len += got;
      if (len == cap) {
        char *nb = realloc(buf, cap * 2 + 1);
        if (nb == NULL) die("out of memory");
        buf = nb;
        cap *= 2;
      }
    }
    fclose(f);
    if (buf == NULL) die("out of memory");
    if (grep_buffer(&g, e->path, prefix, buf, len)) any = true;
    free(buf);
    if (any && g.quiet) break;
  }
  git_pathspec_free(ps);
  git_index_free(index);
  git_repository_free(repo);
  return any ? 0 : 1;
}

// join [-i] [-t CHAR] [-1 F] [-2 F] [-j F] [-a N]... [-v N]... [-e EMPTY] [-o FORMAT]
// [--check-order|--nocheck-order] [--header] [-z] FILE1 FILE2: GNU's join in the C locale.
// The lines of one group of equal keys are held (each file's), the rest streams; the pairs of a
// group are written as GNU's are (its cartesian product, in input order).
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cu.h"

struct jfield {
  size_t off, len;
};
struct jline {
  char *buf;
  size_t len, cap;
  struct jfield *f;
  size_t nf, fcap;
};
struct jfile {
  const char *name;
  struct cu_reader r;
  struct jline **lines;  // the group being read: lines[0..count)
  size_t count, cap;
  struct jline *prev;    // the last line read (order check), or NULL
  struct jline *spare;
  unsigned long long lineno;
  int warned;
};

static int g_tab = -1;  // -1: runs of blanks
static int g_eol = '\n';
static int g_icase, g_check;  // g_check: 0 default, 1 --check-order, -1 --nocheck-order
static int g_seen_unpairable;
static size_t g_jf[2];  // join fields (0-based)
static const char *g_empty;
static int g_auto;
static size_t g_autocount[2];
struct ospec {
  int file;  // 0: the join field
  size_t field;
};
static struct ospec *g_out;
static size_t g_nout;
static struct jline g_blank;  // a line of no fields (uni_blank)

static void split(struct jline *l) {
  l->nf = 0;
  const char *p = l->buf, *lim = l->buf + l->len;
#define PUSH(b, n)                                                                  \
  do {                                                                              \
    if (l->nf == l->fcap) {                                                         \
      l->fcap = l->fcap ? 2 * l->fcap : 8;                                          \
      l->f = cu_xrealloc(l->f, l->fcap * sizeof(*l->f));                            \
    }                                                                               \
    l->f[l->nf].off = (size_t)((b) - l->buf);                                       \
    l->f[l->nf].len = (size_t)(n);                                                  \
    l->nf++;                                                                        \
  } while (0)
  if (g_tab >= 0) {
    if (p == lim) return;
    const char *sep;
    while ((sep = memchr(p, g_tab, (size_t)(lim - p))) != NULL) {
      PUSH(p, sep - p);
      p = sep + 1;
    }
    PUSH(p, lim - p);
    return;
  }
#define BLANK(c) ((c) == ' ' || (c) == '\t' || (c) == '\n')
  while (p < lim && BLANK(*p)) ++p;
  while (p < lim) {
    const char *sep = p + 1;
    while (sep < lim && !BLANK(*sep)) ++sep;
    PUSH(p, sep - p);
    if (sep == lim) return;
    p = sep + 1;
    while (p < lim && BLANK(*p)) ++p;
  }
#undef BLANK
#undef PUSH
}

static int keycmp(const struct jline *a, const struct jline *b, size_t ja, size_t jb) {
  const char *pa = NULL, *pb = NULL;
  size_t la = 0, lb = 0;
  if (ja < a->nf) {
    pa = a->buf + a->f[ja].off;
    la = a->f[ja].len;
  }
  if (jb < b->nf) {
    pb = b->buf + b->f[jb].off;
    lb = b->f[jb].len;
  }
  if (la == 0) return lb == 0 ? 0 : -1;
  if (lb == 0) return 1;
  size_t n = la < lb ? la : lb;
  int d = 0;
  if (g_icase) {
    for (size_t i = 0; i < n && d == 0; ++i) {
      d = toupper((unsigned char)pa[i]) - toupper((unsigned char)pb[i]);
    }
  } else {
    d = memcmp(pa, pb, n);
  }
  if (d) return d;
  return (la > lb) - (la < lb);
}

static void check_order(struct jfile *f, int which, const struct jline *cur) {
  if (g_check < 0 || !(g_check > 0 || g_seen_unpairable) || f->warned || f->prev == NULL) return;
  if (keycmp(f->prev, cur, g_jf[which], g_jf[which]) <= 0) return;
  fprintf(stderr, "join: %s:%llu: is not sorted: ", f->name, f->lineno);
  fwrite(cur->buf, 1, cur->len, stderr);
  fputc('\n', stderr);
  if (g_check > 0) {
    fflush(stdout);
    exit(1);
  }
  f->warned = 1;
}

// GNU's get_line: the next line of file `which` into *lp (reusing its storage). 0 at the end.
static int get_line(struct jfile *f, int which, struct jline **lp, int check) {
  struct jline *l = *lp;
  if (l != NULL && l == f->prev) {  // keep the previous line for the order check
    struct jline *t = f->spare;
    f->spare = l;
    l = t;
  }
  if (l == NULL) {
    l = cu_xmalloc(sizeof(*l));
    memset(l, 0, sizeof(*l));
  }
  *lp = l;
  char *p;
  size_t n;
  int had;
  int got = cu_reader_next(&f->r, g_eol, &p, &n, &had);
  if (got < 0) {
    cu_err(NULL, f->name, errno);
    exit(1);
  }
  if (got == 0) return 0;
  if (n > l->cap) {
    l->cap = n;
    l->buf = cu_xrealloc(l->buf, n ? n : 1);
  }
  memcpy(l->buf, p, n);
  l->len = n;
  f->lineno++;
  split(l);
  if (check) check_order(f, which, l);
  f->prev = l;
  return 1;
}

// GNU's advance_seq: `first` drops the group; then one more line appended. 0 at the end.
static int advance(struct jfile *f, int which, int first) {
  if (first) f->count = 0;
  if (f->count == f->cap) {
    f->cap = f->cap ? 2 * f->cap : 4;
    f->lines = cu_xrealloc(f->lines, f->cap * sizeof(*f->lines));
    for (size_t i = f->count; i < f->cap; ++i) f->lines[i] = NULL;
  }
  if (!get_line(f, which, &f->lines[f->count], 1)) return 0;
  f->count++;
  return 1;
}

static void prfield(size_t n, const struct jline *l) {
  if (n < l->nf && l->f[n].len) {
    cu_out(l->buf + l->f[n].off, l->f[n].len);
  } else if (g_empty) {
    fputs(g_empty, stdout);
  }
}

static void prfields(const struct jline *l, size_t jf, size_t autocount) {
  size_t nf = g_auto ? autocount : l->nf;
  char sep = g_tab < 0 ? ' ' : (char)g_tab;
  for (size_t i = 0; i < jf && i < nf; ++i) {
    putchar(sep);
    prfield(i, l);
  }
  for (size_t i = jf + 1; i < nf; ++i) {
    putchar(sep);
    prfield(i, l);
  }
}

static void prjoin(const struct jline *a, const struct jline *b) {
  char sep = g_tab < 0 ? ' ' : (char)g_tab;
  if (g_nout) {
    for (size_t k = 0; k < g_nout; ++k) {
      if (k) putchar(sep);
      if (g_out[k].file == 0) {
        if (a == &g_blank) prfield(g_jf[1], b);
        else prfield(g_jf[0], a);
      } else {
        prfield(g_out[k].field, g_out[k].file == 1 ? a : b);
      }
    }
  } else {
    if (a == &g_blank) prfield(g_jf[1], b);
    else prfield(g_jf[0], a);
    prfields(a, g_jf[0], g_autocount[0]);
    prfields(b, g_jf[1], g_autocount[1]);
  }
  putchar(g_eol);
}

static int parse_field(const char *s, size_t *out) {
  size_t v;
  if (cu_parse_count(s, &v) != 0 || v == 0 || v == SIZE_MAX) {
    cu_errx("invalid field number: '%s'", s);
    return -1;
  }
  *out = v - 1;
  return 0;
}

static int parse_format(const char *s) {
  if (strcmp(s, "auto") == 0) {
    g_auto = 1;
    return 0;
  }
  char *copy = cu_xstrdup(s), *save = NULL;
  for (char *t = strtok_r(copy, ", \t", &save); t; t = strtok_r(NULL, ", \t", &save)) {
    struct ospec o = {0, 0};
    if (strcmp(t, "0") != 0) {
      if ((t[0] != '1' && t[0] != '2') || t[1] != '.') {
        if (t[0] != '1' && t[0] != '2') cu_errx("invalid file number in field spec: '%s'", t);
        else cu_errx("invalid field specifier: '%s'", t);
        free(copy);
        return -1;
      }
      o.file = t[0] - '0';
      size_t v;
      if (cu_parse_count(t + 2, &v) != 0 || v == 0 || v == SIZE_MAX) {
        cu_errx("invalid field number: '%s'", t + 2);
        free(copy);
        return -1;
      }
      o.field = v - 1;
    }
    g_out = cu_xrealloc(g_out, (g_nout + 1) * sizeof(*g_out));
    g_out[g_nout++] = o;
  }
  free(copy);
  return 0;
}

int cu_join_tool(int argc, char **argv) {
  enum { OPT_CHECK = 256, OPT_NOCHECK, OPT_HEADER };
  static const struct option longopts[] = {{"ignore-case", no_argument, 0, 'i'},
                                           {"check-order", no_argument, 0, OPT_CHECK},
                                           {"nocheck-order", no_argument, 0, OPT_NOCHECK},
                                           {"header", no_argument, 0, OPT_HEADER},
                                           {"zero-terminated", no_argument, 0, 'z'},
                                           {0, 0, 0, 0}};
  int pr_unpaired[2] = {0, 0}, pr_paired = 1, header = 0, c;
  while ((c = getopt_long(argc, argv, "a:e:ij:1:2:o:t:v:z", longopts, NULL)) != -1) {
    switch (c) {
      case 'a':
      case 'v':
        if (strcmp(optarg, "1") != 0 && strcmp(optarg, "2") != 0) {
          cu_errx("invalid field number: '%s'", optarg);
          return 1;
        }
        pr_unpaired[optarg[0] - '1'] = 1;
        if (c == 'v') pr_paired = 0;
        break;
      case 'e': g_empty = optarg; break;
      case 'i': g_icase = 1; break;
      case 'j':
        if (parse_field(optarg, &g_jf[0]) != 0) return 1;
        g_jf[1] = g_jf[0];
        break;
      case '1':
      case '2':
        if (parse_field(optarg, &g_jf[c - '1']) != 0) return 1;
        break;
      case 'o':
        if (parse_format(optarg) != 0) return 1;
        break;
      case 't': {
        int t = (unsigned char)optarg[0];
        if (t == 0) t = '\n';  // '' : the whole line is the field
        if (optarg[0] && optarg[1]) {
          if (strcmp(optarg, "\\0") == 0) {
            t = 0;
          } else {
            cu_errx("multi-character tab '%s'", optarg);
            return 1;
          }
        }
        if (g_tab >= 0 && g_tab != t) {
          cu_errx("incompatible tabs");
          return 1;
        }
        g_tab = t;
        break;
      }
      case 'z': g_eol = '\0'; break;
      case OPT_CHECK: g_check = 1; break;
      case OPT_NOCHECK: g_check = -1; break;
      case OPT_HEADER: header = 1; break;
      default: return cu_try_help(1);
    }
  }
  if (argc - optind < 2) {
    if (argc - optind == 0) cu_errx("missing operand");
    else cu_errx("missing operand after '%s'", argv[argc - 1]);
    return cu_try_help(1);
  }
  if (argc - optind > 2) {
    cu_errx("extra operand '%s'", argv[optind + 2]);
    return cu_try_help(1);
  }
  if (g_auto && g_nout) {
    g_auto = 0;  // GNU: -o auto with a list is the list
  }
  struct jfile f[2];
  memset(f, 0, sizeof(f));
  if (strcmp(argv[optind], "-") == 0 && strcmp(argv[optind + 1], "-") == 0) {
    cu_errx("both files cannot be standard input");
    return 1;
  }
  for (int i = 0; i < 2; ++i) {
    f[i].name = argv[optind + i];
    int fd = cu_open_input(f[i].name);
    if (fd < 0) {
      cu_err(NULL, f[i].name, errno);
      return 1;
    }
    cu_reader_init(&f[i].r, fd);
  }
  advance(&f[0], 0, 1);
  advance(&f[1], 1, 1);
  if (g_auto) {
    g_autocount[0] = f[0].count ? f[0].lines[0]->nf : 0;
    g_autocount[1] = f[1].count ? f[1].lines[0]->nf : 0;
  }
  if (header && (f[0].count || f[1].count)) {
    prjoin(f[0].count ? f[0].lines[0] : &g_blank, f[1].count ? f[1].lines[0] : &g_blank);
    for (int i = 0; i < 2; ++i) {
      if (!f[i].count) continue;
      f[i].prev = NULL;  // the header is not compared with the first line
      advance(&f[i], i, 1);
    }
  }
  while (f[0].count && f[1].count) {
    int diff = keycmp(f[0].lines[0], f[1].lines[0], g_jf[0], g_jf[1]);
    if (diff != 0) {
      int i = diff < 0 ? 0 : 1;
      if (pr_unpaired[i]) {
        if (i == 0) prjoin(f[0].lines[0], &g_blank);
        else prjoin(&g_blank, f[1].lines[0]);
      }
      advance(&f[i], i, 1);
      g_seen_unpairable = 1;
      continue;
    }
    int eof1 = 0, eof2 = 0;
    do {
      if (!advance(&f[0], 0, 0)) {
        eof1 = 1;
        ++f[0].count;
        break;
      }
    } while (!keycmp(f[0].lines[f[0].count - 1], f[1].lines[0], g_jf[0], g_jf[1]));
    do {
      if (!advance(&f[1], 1, 0)) {
        eof2 = 1;
        ++f[1].count;
        break;
      }
    } while (!keycmp(f[0].lines[0], f[1].lines[f[1].count - 1], g_jf[0], g_jf[1]));
    if (pr_paired) {
      for (size_t i = 0; i + 1 < f[0].count; ++i) {
        for (size_t j = 0; j + 1 < f[1].count; ++j) prjoin(f[0].lines[i], f[1].lines[j]);
      }
    }
    int eof[2] = {eof1, eof2};
    for (int i = 0; i < 2; ++i) {
      if (!eof[i]) {
        struct jline *t = f[i].lines[0];
        f[i].lines[0] = f[i].lines[f[i].count - 1];
        f[i].lines[f[i].count - 1] = t;
        f[i].count = 1;
      } else {
        f[i].count = 0;
      }
    }
  }
  int checktail = g_check >= 0 && !(f[0].warned && f[1].warned);
  struct jline *line = NULL;
  for (int i = 0; i < 2; ++i) {
    if (!((pr_unpaired[i] || checktail) && f[i].count)) continue;
    if (pr_unpaired[i]) {
      if (i == 0) prjoin(f[0].lines[0], &g_blank);
      else prjoin(&g_blank, f[1].lines[0]);
    }
    if (f[1 - i].count) g_seen_unpairable = 1;
    while (get_line(&f[i], i, &line, 1)) {
      if (pr_unpaired[i]) {
        if (i == 0) prjoin(line, &g_blank);
        else prjoin(&g_blank, line);
      }
      if (f[i].warned && !pr_unpaired[i]) break;
    }
  }
  for (int i = 0; i < 2; ++i) cu_close_input(f[i].r.fd);
  if (fflush(stdout) != 0) {
    cu_errx("write error");
    return 1;
  }
  if (f[0].warned || f[1].warned) {
    cu_errx("input is not in sorted order");
    return 1;
  }
  return 0;
}

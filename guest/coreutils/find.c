// find [PATH...] [EXPRESSION]: -name, -iname, -path, -type [fdl], -maxdepth, -mindepth,
// -print, -print0, !/-not, -a/-and, -o/-or, ( ). Symlinks are never followed (find -P).
// Directories are walked in bytewise name order (GNU walks in directory order). -exec is run
// by `wasmcap sh` (docs/shell.md "find -exec"), with -print0 here.
#include <errno.h>
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>

#include "cu.h"

enum kind { K_TRUE, K_NAME, K_INAME, K_PATH, K_TYPE, K_PRINT, K_NOT, K_AND, K_OR };

struct node {
  enum kind kind;
  const char *arg;
  char type;
  struct node *a, *b;
};

static char **g_tok;
static int g_ntok, g_pos;
static int g_has_print;
static long g_maxdepth = -1, g_mindepth = 0;
static int g_bad;

static struct node *mk(enum kind k, struct node *a, struct node *b) {
  struct node *n = cu_xmalloc(sizeof(*n));
  memset(n, 0, sizeof(*n));
  n->kind = k;
  n->a = a;
  n->b = b;
  return n;
}

static struct node *parse_or(void);

static const char *need_arg(const char *opt) {
  if (g_pos >= g_ntok) {
    cu_errx("missing argument to '%s'", opt);
    g_bad = 1;
    return NULL;
  }
  return g_tok[g_pos++];
}

static struct node *parse_primary(void) {
  if (g_pos >= g_ntok) {
    cu_errx("expected an expression");
    g_bad = 1;
    return mk(K_TRUE, NULL, NULL);
  }
  const char *t = g_tok[g_pos++];
  if (strcmp(t, "!") == 0 || strcmp(t, "-not") == 0) return mk(K_NOT, parse_primary(), NULL);
  if (strcmp(t, "(") == 0) {
    struct node *n = parse_or();
    if (g_pos >= g_ntok || strcmp(g_tok[g_pos], ")") != 0) {
      cu_errx("missing ')'");
      g_bad = 1;
    } else {
      ++g_pos;
    }
    return n;
  }
  if (strcmp(t, "-name") == 0 || strcmp(t, "-iname") == 0 || strcmp(t, "-path") == 0 ||
      strcmp(t, "-wholename") == 0) {
    struct node *n = mk(t[1] == 'n' ? K_NAME : t[1] == 'i' ? K_INAME : K_PATH, NULL, NULL);
    n->arg = need_arg(t);
    if (n->arg == NULL) n->kind = K_TRUE;
    return n;
  }
  if (strcmp(t, "-type") == 0) {
    const char *v = need_arg(t);
    struct node *n = mk(K_TYPE, NULL, NULL);
    if (v == NULL) return n;
    if (strlen(v) != 1 || strchr("fdlpsbc", v[0]) == NULL) {
      cu_errx("unknown argument to -type: %s", v);
      g_bad = 1;
    }
    n->type = v[0];
    return n;
  }
  if (strcmp(t, "-maxdepth") == 0 || strcmp(t, "-mindepth") == 0) {
    const char *v = need_arg(t);
    char *end = NULL;
    long d = v ? strtol(v, &end, 10) : -1;
    if (v == NULL || *v == '\0' || *end != '\0' || d < 0) {
      if (v) cu_errx("invalid argument '%s' to '%s'", v, t);
      g_bad = 1;
    } else if (t[2] == 'a') {
      g_maxdepth = d;
    } else {
      g_mindepth = d;
    }
    return mk(K_TRUE, NULL, NULL);
  }
  if (strcmp(t, "-print") == 0 || strcmp(t, "-print0") == 0) {
    g_has_print = 1;
    struct node *n = mk(K_PRINT, NULL, NULL);
    n->type = t[6] == '0' ? '\0' : '\n';
    return n;
  }
  if (strcmp(t, "-true") == 0) return mk(K_TRUE, NULL, NULL);
  cu_errx("unknown predicate '%s'", t);
  g_bad = 1;
  return mk(K_TRUE, NULL, NULL);
}

static struct node *parse_and(void) {
  struct node *n = parse_primary();
  while (g_pos < g_ntok && !g_bad) {
    const char *t = g_tok[g_pos];
    if (strcmp(t, "-o") == 0 || strcmp(t, "-or") == 0 || strcmp(t, ")") == 0) break;
    if (strcmp(t, "-a") == 0 || strcmp(t, "-and") == 0) ++g_pos;
    n = mk(K_AND, n, parse_primary());
  }
  return n;
}

static struct node *parse_or(void) {
  struct node *n = parse_and();
  while (g_pos < g_ntok && !g_bad && (strcmp(g_tok[g_pos], "-o") == 0 || strcmp(g_tok[g_pos], "-or") == 0)) {
    ++g_pos;
    n = mk(K_OR, n, parse_and());
  }
  return n;
}

static char type_of(mode_t m) {
  if (S_ISDIR(m)) return 'd';
  if (S_ISLNK(m)) return 'l';
  if (S_ISFIFO(m)) return 'p';
  if (S_ISSOCK(m)) return 's';
  if (S_ISBLK(m)) return 'b';
  if (S_ISCHR(m)) return 'c';
  return 'f';
}

static int eval(const struct node *n, const char *path, const char *name, const struct stat *st) {
  switch (n->kind) {
    case K_TRUE: return 1;
    case K_NAME: return fnmatch(n->arg, name, 0) == 0;
    case K_INAME: return fnmatch(n->arg, name, FNM_CASEFOLD) == 0;
    case K_PATH: return fnmatch(n->arg, path, 0) == 0;
    case K_TYPE: return type_of(st->st_mode) == n->type;
    case K_PRINT: fputs(path, stdout); putchar(n->type); return 1;
    case K_NOT: return !eval(n->a, path, name, st);
    case K_AND: return eval(n->a, path, name, st) && eval(n->b, path, name, st);
    case K_OR: return eval(n->a, path, name, st) || eval(n->b, path, name, st);
  }
  return 0;
}

static int g_status;

static void walk(const struct node *expr, const char *path, long depth) {
  struct stat st;
  if (lstat(path, &st) != 0) {
    cu_err(NULL, path, errno);
    g_status = 1;
    return;
  }
  char *name = cu_path_base(path);
  if (depth >= g_mindepth) {
    if (eval(expr, path, name, &st) && !g_has_print) printf("%s\n", path);
  }
  free(name);
  if (!S_ISDIR(st.st_mode) || (g_maxdepth >= 0 && depth >= g_maxdepth)) return;
  struct cu_list names = {0};
  if (cu_read_dir(path, 0, &names) != 0) {
    cu_err(NULL, path, errno);
    g_status = 1;
    return;
  }
  for (size_t i = 0; i < names.n; ++i) {
    char *child = cu_join(path, names.v[i]);
    walk(expr, child, depth + 1);
    free(child);
  }
  cu_list_free(&names);
}

int cu_find(int argc, char **argv) {
  int first = 1;
  while (first < argc && argv[first][0] != '-' && strcmp(argv[first], "!") != 0 &&
         strcmp(argv[first], "(") != 0) {
    ++first;
  }
  g_tok = argv + first;
  g_ntok = argc - first;
  struct node *expr = g_ntok > 0 ? parse_or() : mk(K_TRUE, NULL, NULL);
  if (!g_bad && g_pos < g_ntok) {
    cu_errx("unexpected '%s'", g_tok[g_pos]);
    g_bad = 1;
  }
  if (g_bad) return 1;
  if (first == 1) {
    walk(expr, ".", 0);
  } else {
    for (int i = 1; i < first; ++i) walk(expr, argv[i], 0);
  }
  return g_status;
}

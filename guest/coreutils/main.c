// wasmcap core utilities: one multi-call WASI command module (README.md explains why).
//
//   coreutils TOOL [ARGS...]      e.g. wasmcap run --dir WS::/work coreutils.wasm ls -l
//   TOOL [ARGS...]                when argv[0]'s last component is a tool name (--argv0 ls)
//
// Working directory: wasi-libc emulates the cwd and starts it at "/", where no relative path
// would resolve. Before the tool runs, the cwd becomes $PWD when the environment has it (the
// operator granted it with --env PWD=/work/sub), otherwise the first preopened directory (the
// lowest fd, i.e. the first --dir / manifest fs entry). A $PWD that cannot be entered is an
// error (exit 125), never silently replaced.
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <wasi/api.h>

#include "cu.h"

const char *cu_prog = "coreutils";

struct tool {
  const char *name;
  int (*fn)(int, char **);
};

#ifdef CU_ONLY_TOOL
// Single-tool build (measure.sh compares it with the multi-call module): -DCU_ONLY_TOOL=ls
#define CU_STR2(x) #x
#define CU_STR(x) CU_STR2(x)
#define CU_FN2(x) cu_##x
#define CU_FN(x) CU_FN2(x)
static const struct tool kTools[] = {{CU_STR(CU_ONLY_TOOL), CU_FN(CU_ONLY_TOOL)}};
#else
static const struct tool kTools[] = {
    {"arch", cu_arch}, {"base64", cu_base64}, {"basename", cu_basename}, {"cat", cu_cat}, {"cksum", cu_cksum}, {"comm", cu_comm},
    {"cp", cu_cp}, {"cut", cu_cut}, {"date", cu_date}, {"dirname", cu_dirname}, {"du", cu_du}, {"egrep", cu_egrep}, {"env", cu_env},
    {"expand", cu_expand}, {"false", cu_false}, {"fgrep", cu_fgrep}, {"find", cu_find}, {"fold", cu_fold}, {"grep", cu_grep},
    {"head", cu_head}, {"hostname", cu_hostname}, {"id", cu_id}, {"join", cu_join_tool}, {"ln", cu_ln}, {"ls", cu_ls}, {"md5sum", cu_md5sum}, {"mkdir", cu_mkdir},
    {"mktemp", cu_mktemp}, {"mv", cu_mv}, {"nl", cu_nl}, {"nproc", cu_nproc}, {"od", cu_od}, {"paste", cu_paste}, {"printenv", cu_printenv}, {"pwd", cu_pwd},
    {"readlink", cu_readlink}, {"realpath", cu_realpath}, {"rev", cu_rev}, {"rm", cu_rm}, {"rmdir", cu_rmdir},
    {"sed", cu_sed}, {"seq", cu_seq}, {"sha1sum", cu_sha1sum}, {"sha256sum", cu_sha256sum},
    {"sleep", cu_sleep}, {"sort", cu_sort}, {"split", cu_split}, {"stat", cu_stat}, {"tac", cu_tac}, {"tail", cu_tail}, {"tee", cu_tee},
    {"touch", cu_touch}, {"tr", cu_tr}, {"true", cu_true}, {"uname", cu_uname}, {"unexpand", cu_unexpand}, {"uniq", cu_uniq},
    {"wc", cu_wc}, {"whoami", cu_whoami}, {"yes", cu_yes},
};
#endif

static const struct tool *find_tool(const char *name) {
  for (size_t i = 0; i < sizeof(kTools) / sizeof(kTools[0]); ++i) {
    if (strcmp(kTools[i].name, name) == 0) return &kTools[i];
  }
  return NULL;
}

static void usage(void) {
  fputs("usage: coreutils TOOL [ARGS...]\ntools:", stderr);
  for (size_t i = 0; i < sizeof(kTools) / sizeof(kTools[0]); ++i) fprintf(stderr, " %s", kTools[i].name);
  fputs("\nPaths are relative to $PWD if granted, else to the first granted directory.\n", stderr);
}

// --- the guest's view of its grants ---------------------------------------------------------

// Guest paths of the preopened directories, in fd order (read once at start-up).
static char **g_preopens;
static size_t g_npreopens;

static void load_preopens(void) {
  // Preopens are numbered from fd 3 without gaps (WASI convention); the first fd that is not
  // a preopen ends the list.
  for (__wasi_fd_t fd = 3; fd < 3 + 1024; ++fd) {
    __wasi_prestat_t ps;
    if (__wasi_fd_prestat_get(fd, &ps) != 0 || ps.tag != __WASI_PREOPENTYPE_DIR) break;
    size_t n = ps.u.dir.pr_name_len;
    char *name = cu_xmalloc(n + 1);
    if (__wasi_fd_prestat_dir_name(fd, (uint8_t *)name, n) != 0) {
      free(name);
      break;
    }
    name[n] = '\0';
    g_preopens = cu_xrealloc(g_preopens, (g_npreopens + 1) * sizeof(char *));
    g_preopens[g_npreopens++] = name;
  }
}

// True when the lexically normalized PATH lies beneath no preopened directory: the sandbox
// will refuse it (or report it missing), and the message should say why.
static int outside_grants(const char *path) {
  char *abs = cu_abspath(path);
  int outside = 1;
  for (size_t i = 0; i < g_npreopens && outside; ++i) {
    char *root = cu_abspath(g_preopens[i]);
    size_t n = strlen(root);
    if (strcmp(root, "/") == 0 || (strncmp(abs, root, n) == 0 && (abs[n] == '\0' || abs[n] == '/'))) {
      outside = 0;
    }
    free(root);
  }
  free(abs);
  return outside;
}

// --- diagnostics ----------------------------------------------------------------------------

const char *cu_strerror(int err) {
  // wasi-libc (musl) words a few errors differently from glibc; GNU's tools print glibc's.
  if (err == ELOOP) return "Too many levels of symbolic links";
  if (err == ENAMETOOLONG) return "File name too long";
  return strerror(err);
}

// GNU's quotef(): a name as the shell would need it, in single quotes when it holds a character
// special to the shell (or ':'), with $'\ooo' for bytes that are not printable ASCII.
static const char kShellSpecial[] = " \t\\\"$&'()*;<=>?[^`|!:";

// True when quotef prints NAME as it is.
static int quote_bare(const char *s) {
  if (s[0] == '\0' || s[0] == '~' || s[0] == '#') return 0;
  for (const unsigned char *p = (const unsigned char *)s; *p; ++p) {
    if (*p < 0x20 || *p > 0x7e || strchr(kShellSpecial, *p)) return 0;
  }
  return 1;
}

void cu_quote_name(FILE *f, const char *s) {
  int plain = quote_bare(s);
  int squote = 0, dq_unsafe = 0;
  for (const unsigned char *p = (const unsigned char *)s; *p; ++p) {
    if (*p < 0x20 || *p > 0x7e) dq_unsafe = 1;
    if (*p == '\'') squote = 1;
    if (strchr("$`\\\"!", *p)) dq_unsafe = 1;
  }
  if (plain) {
    fputs(s, f);
    return;
  }
  if (squote && !dq_unsafe) {
    fprintf(f, "\"%s\"", s);
    return;
  }
  int dollar = 0;
  fputc('\'', f);
  for (const unsigned char *p = (const unsigned char *)s; *p; ++p) {
    if (*p < 0x20 || *p > 0x7e) {
      if (!dollar) fputs("'$'", f);
      dollar = 1;
      const char *e = *p == '\n' ? "\\n" : *p == '\t' ? "\\t" : *p == '\r' ? "\\r" : NULL;
      if (e) fputs(e, f);
      else fprintf(f, "\\%03o", *p);
      continue;
    }
    if (dollar) fputs("''", f);
    dollar = 0;
    if (*p == '\'') fputs("'\\''", f);
    else fputc(*p, f);
  }
  fputc('\'', f);
}

void cu_quote_always(FILE *f, const char *s) {
  // quoteaf: the same quoting as quotef, and plain quotes around a name quotef leaves bare.
  if (quote_bare(s)) fprintf(f, "'%s'", s);
  else cu_quote_name(f, s);
}

void cu_err(const char *what, const char *path, int err) {
  const char *msg = cu_strerror(err);
  const char *note = "";
  if ((err == ENOENT || err == EPERM || err == ENOTCAPABLE) && outside_grants(path)) {
    note = " (outside the granted directories)";
  } else if (err == ENOTCAPABLE) {
    note = " (not allowed by the grant; read-only?)";
  }
  if (what != NULL) {
    fprintf(stderr, "%s: %s '%s': %s%s\n", cu_prog, what, path, msg, note);
  } else {
    fprintf(stderr, "%s: ", cu_prog);
    cu_quote_name(stderr, path);
    fprintf(stderr, ": %s%s\n", msg, note);
  }
}

void cu_errx(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fprintf(stderr, "%s: ", cu_prog);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
}

// --- memory and strings ---------------------------------------------------------------------

static void oom(void) {
  fprintf(stderr, "%s: out of memory\n", cu_prog);
  exit(1);
}

void *cu_xmalloc(size_t n) {
  void *p = malloc(n ? n : 1);
  if (p == NULL) oom();
  return p;
}

void *cu_xrealloc(void *p, size_t n) {
  void *q = realloc(p, n ? n : 1);
  if (q == NULL) oom();
  return q;
}

char *cu_xstrdup(const char *s) {
  size_t n = strlen(s) + 1;
  return memcpy(cu_xmalloc(n), s, n);
}

char *cu_join(const char *dir, const char *name) {
  size_t a = strlen(dir), b = strlen(name);
  int slash = a > 0 && dir[a - 1] != '/';
  char *s = cu_xmalloc(a + slash + b + 1);
  memcpy(s, dir, a);
  if (slash) s[a] = '/';
  memcpy(s + a + slash, name, b + 1);
  return s;
}

char *cu_path_base(const char *path) {
  size_t end = strlen(path);
  while (end > 1 && path[end - 1] == '/') --end;
  size_t start = end;
  while (start > 0 && path[start - 1] != '/') --start;
  if (end == 1 && path[0] == '/') start = 0;
  char *s = cu_xmalloc(end - start + 1);
  memcpy(s, path + start, end - start);
  s[end - start] = '\0';
  return s;
}

char *cu_abspath(const char *path) {
  char *cwd = getcwd(NULL, 0);
  size_t cap = (cwd ? strlen(cwd) : 1) + strlen(path) + 3;
  char *in = cu_xmalloc(cap);
  if (path[0] == '/') {
    strcpy(in, path);
  } else {
    snprintf(in, cap, "%s/%s", cwd ? cwd : "/", path);
  }
  free(cwd);
  char *out = cu_xmalloc(strlen(in) + 2);
  size_t o = 0;
  for (char *p = in; *p;) {
    while (*p == '/') ++p;
    char *seg = p;
    while (*p && *p != '/') ++p;
    size_t len = (size_t)(p - seg);
    if (len == 0 || (len == 1 && seg[0] == '.')) continue;
    if (len == 2 && seg[0] == '.' && seg[1] == '.') {
      while (o > 0 && out[o - 1] != '/') --o;
      if (o > 0) --o;
      continue;
    }
    out[o++] = '/';
    memcpy(out + o, seg, len);
    o += len;
  }
  if (o == 0) out[o++] = '/';
  out[o] = '\0';
  free(in);
  return out;
}

void cu_list_push(struct cu_list *l, char *s) {
  if (l->n == l->cap) {
    l->cap = l->cap ? l->cap * 2 : 16;
    l->v = cu_xrealloc(l->v, l->cap * sizeof(char *));
  }
  l->v[l->n++] = s;
}

void cu_list_free(struct cu_list *l) {
  for (size_t i = 0; i < l->n; ++i) free(l->v[i]);
  free(l->v);
  l->v = NULL;
  l->n = l->cap = 0;
}

static int cmp_str(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

void cu_list_sort(struct cu_list *l) {
  if (l->n > 1) qsort(l->v, l->n, sizeof(char *), cmp_str);
}

int cu_out(const void *p, size_t n) {
  return fwrite(p, 1, n, stdout) == n ? 0 : -1;
}

// --- start-up -------------------------------------------------------------------------------

// Enters $PWD, else the first preopen. Returns 0, or prints why and returns -1.
static int enter_workdir(void) {
  const char *pwd = getenv("PWD");
  if (pwd != NULL && pwd[0] != '\0') {
    // "/" with no preopen there (the shell's `cd /`): wasi-libc's cwd starts as "/", where
    // relative paths lead to the preopens by their names; chdir would look for a preopen.
    if (strcmp(pwd, "/") == 0) return 0;
    if (chdir(pwd) != 0) {
      int e = errno;
      fprintf(stderr, "coreutils: cannot enter $PWD '%s': %s%s\n", pwd, cu_strerror(e),
              outside_grants(pwd) ? " (outside the granted directories)" : "");
      return -1;
    }
    return 0;
  }
  if (g_npreopens > 0 && chdir(g_preopens[0]) != 0) {
    fprintf(stderr, "coreutils: cannot enter the granted directory '%s': %s\n", g_preopens[0],
            cu_strerror(errno));
    return -1;
  }
  return 0;  // no grants: the cwd stays "/" and every path fails as outside the grants
}

// Large stdout buffer: output in the interpreter costs per host call.
static char g_outbuf[1 << 16];

int main(int argc, char **argv) {
  const struct tool *t = NULL;
  if (argc > 0) {
    char *base = cu_path_base(argv[0]);
    t = find_tool(base);
    free(base);
  }
  if (t == NULL) {
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
      usage();
      return argc < 2 ? 2 : 0;
    }
    t = find_tool(argv[1]);
    if (t == NULL) {
      fprintf(stderr, "coreutils: '%s': no such tool\n", argv[1]);
      usage();
      return 2;
    }
    --argc;
    ++argv;
  }
  cu_prog = t->name;
  setvbuf(stdout, g_outbuf, _IOFBF, sizeof(g_outbuf));
  load_preopens();
  if (enter_workdir() != 0) return 125;
  int rc = t->fn(argc, argv);
  if (fflush(stdout) != 0 || ferror(stdout)) {
    fprintf(stderr, "%s: write error: %s\n", cu_prog, cu_strerror(errno));
    if (rc == 0) rc = 1;
  }
  return rc;
}

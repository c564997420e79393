// Small utilities: tee, basename, dirname, seq, env, yes, realpath, readlink, mktemp, sleep.
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <wasi/api.h>

#include "cu.h"

extern char **environ;

// --- tee ------------------------------------------------------------------------------------

int cu_tee(int argc, char **argv) {
  static const struct option longopts[] = {{"append", no_argument, 0, 'a'},
                                           {"ignore-interrupts", no_argument, 0, 'i'},
                                           {0, 0, 0, 0}};
  int append = 0, c;
  while ((c = getopt_long(argc, argv, "aip", longopts, NULL)) != -1) {
    switch (c) {
      case 'a': append = 1; break;
      case 'i': break;  // no signals in the sandbox
      case 'p': break;  // a closed pipe is an error either way; GNU -p only changes SIGPIPE
      default: return cu_try_help(1);
    }
  }
  int n = argc - optind, status = 0;
  int *fds = cu_xmalloc((size_t)(n + 1) * sizeof(int));
  for (int i = 0; i < n; ++i) {
    const char *path = argv[optind + i];
    // "-" is a file named "-" (POSIX; GNU tee since 8.x).
    fds[i] = open(path, O_WRONLY | O_CREAT | (append ? O_APPEND : O_TRUNC), 0666);
    if (fds[i] < 0) {
      cu_err(NULL, path, errno);
      status = 1;
    }
  }
  static char buf[1 << 16];
  fflush(stdout);
  for (;;) {
    ssize_t r = read(STDIN_FILENO, buf, sizeof(buf));
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) {
      cu_err("read error", "standard input", errno);  // GNU: "tee: read error: ..."
      status = 1;
      break;
    }
    if (r == 0) break;
    if (cu_write_fd(STDOUT_FILENO, buf, (size_t)r) != 0) {
      cu_err(NULL, "standard output", errno);
      status = 1;
      break;
    }
    for (int i = 0; i < n; ++i) {
      if (fds[i] < 0) continue;
      if (cu_write_fd(fds[i], buf, (size_t)r) != 0) {
        cu_err(NULL, argv[optind + i], errno);
        close(fds[i]);
        fds[i] = -1;
        status = 1;
      }
    }
  }
  for (int i = 0; i < n; ++i) {
    if (fds[i] >= 0 && close(fds[i]) != 0) {
      cu_err(NULL, argv[optind + i], errno);
      status = 1;
    }
  }
  free(fds);
  return status;
}

// --- basename / dirname ---------------------------------------------------------------------

static void base_of(const char *path, const char *suffix, int eol) {
  size_t end = strlen(path);
  while (end > 1 && path[end - 1] == '/') --end;
  size_t start = end;
  while (start > 0 && path[start - 1] != '/') --start;
  if (end == 1 && path[0] == '/') start = 0;
  size_t len = end - start;
  if (suffix != NULL && !(len == 1 && path[start] == '/')) {
    size_t sl = strlen(suffix);
    if (sl < len && memcmp(path + end - sl, suffix, sl) == 0) len -= sl;
  }
  cu_out(path + start, len);
  putchar(eol);
}

int cu_basename(int argc, char **argv) {
  static const struct option longopts[] = {{"multiple", no_argument, 0, 'a'},
                                           {"suffix", required_argument, 0, 's'},
                                           {"zero", no_argument, 0, 'z'},
                                           {0, 0, 0, 0}};
  int multiple = 0, eol = '\n', c;
  const char *suffix = NULL;
  while ((c = getopt_long(argc, argv, "+as:z", longopts, NULL)) != -1) {
    switch (c) {
      case 'a': multiple = 1; break;
      case 's': suffix = optarg; multiple = 1; break;
      case 'z': eol = '\0'; break;
      default: return cu_try_help(1);
    }
  }
  int n = argc - optind;
  if (n < 1) {
    cu_errx("missing operand");
    return cu_try_help(1);
  }
  if (!multiple && n > 2) {
    cu_errx("extra operand '%s'", argv[optind + 2]);
    return cu_try_help(1);
  }
  if (multiple) {
    for (int i = optind; i < argc; ++i) base_of(argv[i], suffix, eol);
  } else {
    base_of(argv[optind], n == 2 ? argv[optind + 1] : NULL, eol);
  }
  return 0;
}

int cu_dirname(int argc, char **argv) {
  static const struct option longopts[] = {{"zero", no_argument, 0, 'z'}, {0, 0, 0, 0}};
  int eol = '\n', c;
  while ((c = getopt_long(argc, argv, "z", longopts, NULL)) != -1) {
    if (c != 'z') return cu_try_help(1);
    eol = '\0';
  }
  if (optind >= argc) {
    cu_errx("missing operand");
    return cu_try_help(1);
  }
  for (int i = optind; i < argc; ++i) {
    const char *p = argv[i];
    size_t end = strlen(p);
    while (end > 1 && p[end - 1] == '/') --end;        // trailing slashes
    while (end > 0 && p[end - 1] != '/') --end;        // the last component
    while (end > 1 && p[end - 1] == '/') --end;        // slashes before it
    if (end == 0) {
      cu_out(".", 1);
    } else {
      cu_out(p, end);
    }
    putchar(eol);
  }
  return 0;
}

// --- seq ------------------------------------------------------------------------------------

struct seq_arg {
  long double v;
  int width, prec;
};

static int seq_parse(const char *s, struct seq_arg *a) {
  if (strpbrk(s, "eEpPxXiInN") != NULL) {
    cu_errx("'%s': exponents, hexadecimal, inf and nan are not supported by this seq (wasmcap "
            "coreutils)", s);
    return -2;
  }
  char *end;
  errno = 0;
  a->v = strtold(s, &end);
  if (end == s || *end != '\0' || errno == ERANGE) {
    cu_errx("invalid floating point argument: '%s'", s);
    return -1;
  }
  while (isspace((unsigned char)*s)) ++s;
  a->width = (int)strlen(s) - (*s == '+');
  const char *dot = strchr(s, '.');
  a->prec = 0;
  if (dot != NULL) {
    a->prec = (int)strlen(dot + 1);
    if (a->prec == 0) {
      a->width -= 1;
    } else if (dot == s || !isdigit((unsigned char)dot[-1])) {
      a->width += 1;
    }
  }
  return 0;
}

// A user format: exactly one floating conversion; returns it with 'L' added, or NULL.
static char *seq_format(const char *f) {
  size_t n = strlen(f);
  char *out = cu_xmalloc(n + 2);
  size_t o = 0;
  int seen = 0;
  for (size_t i = 0; i < n; ++i) {
    out[o++] = f[i];
    if (f[i] != '%') continue;
    if (f[i + 1] == '%') {
      out[o++] = f[++i];
      continue;
    }
    if (seen) {
      cu_errx("format '%s' has too many %% directives", f);
      free(out);
      return NULL;
    }
    seen = 1;
    size_t j = i + 1;
    while (f[j] && strchr("-+ #0'", f[j])) ++j;
    while (isdigit((unsigned char)f[j])) ++j;
    if (f[j] == '.') {
      ++j;
      while (isdigit((unsigned char)f[j])) ++j;
    }
    if (!f[j] || !strchr("aAeEfFgG", f[j])) {
      if (f[j]) {
        cu_errx("format '%s' has unknown %%%c directive", f, f[j]);
      } else {
        cu_errx("format '%s' ends in %%", f);
      }
      free(out);
      return NULL;
    }
    memcpy(out + o, f + i + 1, j - i - 1);
    o += j - i - 1;
    out[o++] = 'L';
    out[o++] = f[j];
    i = j;
  }
  out[o] = '\0';
  if (!seen) {
    cu_errx("format '%s' has no %% directive", f);
    free(out);
    return NULL;
  }
  return out;
}

int cu_seq(int argc, char **argv) {
  static const struct option longopts[] = {{"format", required_argument, 0, 'f'},
                                           {"separator", required_argument, 0, 's'},
                                           {"equal-width", no_argument, 0, 'w'},
                                           {0, 0, 0, 0}};
  // Negative numbers are operands, not options: stop at the first argument that is one.
  const char *fmt = NULL, *sep = "\n";
  int equal = 0, c;
  while (optind < argc) {
    const char *a = argv[optind];
    if (a[0] == '-' && (isdigit((unsigned char)a[1]) || a[1] == '.')) break;
    if ((c = getopt_long(argc, argv, "+f:s:w", longopts, NULL)) == -1) break;
    switch (c) {
      case 'f': fmt = optarg; break;
      case 's': sep = optarg; break;
      case 'w': equal = 1; break;
      default: return cu_try_help(1);
    }
  }
  int n = argc - optind;
  if (n < 1) {
    cu_errx("missing operand");
    return cu_try_help(1);
  }
  if (n > 3) {
    cu_errx("extra operand '%s'", argv[optind + 3]);
    return cu_try_help(1);
  }
  struct seq_arg first = {1, 1, 0}, step = {1, 1, 0}, last;
  int r = 0;
  if (n >= 2 && (r = seq_parse(argv[optind], &first)) != 0) return r == -1 ? cu_try_help(1) : 1;
  if (n == 3 && (r = seq_parse(argv[optind + 1], &step)) != 0) return r == -1 ? cu_try_help(1) : 1;
  if ((r = seq_parse(argv[argc - 1], &last)) != 0) return r == -1 ? cu_try_help(1) : 1;
  if (step.v == 0) {
    cu_errx("invalid Zero increment value: '%s'", argv[optind + 1]);
    return cu_try_help(1);
  }
  if (fmt && equal) {
    cu_errx("format string may not be specified when printing equal width strings");
    return cu_try_help(1);
  }
  char defmt[64], *ufmt = NULL;
  if (fmt) {
    ufmt = seq_format(fmt);
    if (ufmt == NULL) return 1;
  } else {
    int prec = first.prec > step.prec ? first.prec : step.prec;
    if (equal) {
      int fw = first.width + (prec - first.prec), lw = last.width + (prec - last.prec);
      if (last.prec && prec == 0) --lw;
      if (last.prec == 0 && prec) ++lw;
      if (first.prec == 0 && prec) ++fw;
      snprintf(defmt, sizeof(defmt), "%%0%d.%dLf", fw > lw ? fw : lw, prec);
    } else {
      snprintf(defmt, sizeof(defmt), "%%.%dLf", prec);
    }
  }
  const char *f = ufmt ? ufmt : defmt;
  // The output of the text around the conversion (its %% are one character each).
  size_t pre_len = 0, suf_len = 0;
  if (ufmt) {
    const char *q = ufmt;
    for (; *q && !(q[0] == '%' && q[1] != '%'); ++q) {
      if (q[0] == '%') ++q;
      ++pre_len;
    }
    q += strcspn(q, "aAeEfFgG") + 1;
    for (; *q; ++q) {
      if (q[0] == '%') ++q;
      ++suf_len;
    }
  }
  char cur[512], prev[512] = "";
  for (unsigned long long i = 0;; ++i) {
    long double x = first.v + (long double)i * step.v;
    if (step.v < 0 ? x < last.v : x > last.v) {
      // Past LAST: printed anyway when its text reads back as LAST's value and differs from
      // the previous number's (rounding; GNU's rule).
      snprintf(cur, sizeof(cur), f, x);
      size_t cl = strlen(cur);
      int same = 0;
      if (cl >= pre_len + suf_len) {
        char mid[512];
        memcpy(mid, cur + pre_len, cl - pre_len - suf_len);
        mid[cl - pre_len - suf_len] = '\0';
        char *end;
        long double v = strtold(mid, &end);
        same = end != mid && *end == '\0' && v == last.v;
      }
      if (i > 0 && same && strcmp(cur, prev) != 0) {
        fputs(sep, stdout);
        fputs(cur, stdout);
      }
      if (i > 0) putchar('\n');
      break;
    }
    snprintf(cur, sizeof(cur), f, x);
    if (i > 0) fputs(sep, stdout);
    if (fputs(cur, stdout) < 0) return 1;
    memcpy(prev, cur, sizeof(prev));
  }
  free(ufmt);
  return 0;
}

// --- env (printing only) --------------------------------------------------------------------

int cu_env(int argc, char **argv) {
  static const struct option longopts[] = {{"ignore-environment", no_argument, 0, 'i'},
                                           {"null", no_argument, 0, '0'},
                                           {"unset", required_argument, 0, 'u'},
                                           {0, 0, 0, 0}};
  int ignore = 0, eol = '\n', c;
  struct cu_list unset = {0};
  while ((c = getopt_long(argc, argv, "+i0u:", longopts, NULL)) != -1) {
    switch (c) {
      case 'i': ignore = 1; break;
      case '0': eol = '\0'; break;
      case 'u': cu_list_push(&unset, optarg); break;
      default: return cu_try_help(125);
    }
  }
  if (optind < argc && strcmp(argv[optind], "-") == 0) {
    ignore = 1;
    ++optind;
  }
  int first_cmd = optind;
  while (first_cmd < argc && strchr(argv[first_cmd], '=') != NULL && argv[first_cmd][0] != '=') ++first_cmd;
  if (first_cmd < argc) {
    cu_errx("running a command ('%s') is not supported by this env (wasmcap coreutils): run it "
            "directly, with NAME=value before it in the shell", argv[first_cmd]);
    return 125;
  }
  struct cu_list out = {0};
  if (!ignore) {
    for (char **e = environ; e && *e; ++e) cu_list_push(&out, cu_xstrdup(*e));
  }
  for (int i = optind; i < argc; ++i) {  // NAME=value replaces NAME in place, else appends
    size_t k = (size_t)(strchr(argv[i], '=') - argv[i]);
    size_t j = 0;
    for (; j < out.n; ++j) {
      if (strncmp(out.v[j], argv[i], k + 1) == 0) break;
    }
    if (j < out.n) {
      free(out.v[j]);
      out.v[j] = cu_xstrdup(argv[i]);
    } else {
      cu_list_push(&out, cu_xstrdup(argv[i]));
    }
  }
  for (size_t j = 0; j < out.n; ++j) {
    int skip = 0;
    size_t k = strcspn(out.v[j], "=");
    for (size_t u = 0; u < unset.n && !skip; ++u) {
      skip = strlen(unset.v[u]) == k && strncmp(out.v[j], unset.v[u], k) == 0;
    }
    if (!skip) printf("%s%c", out.v[j], eol);
  }
  cu_list_free(&out);
  free(unset.v);
  return 0;
}

// --- yes ------------------------------------------------------------------------------------

int cu_yes(int argc, char **argv) {
  int start = 1;
  if (argc > 1 && strcmp(argv[1], "--") == 0) start = 2;
  size_t len = 0;
  for (int i = start; i < argc; ++i) len += strlen(argv[i]) + 1;
  if (start >= argc) len = 2;
  static char buf[1 << 16];
  char *line = len <= sizeof(buf) ? buf : cu_xmalloc(len);
  size_t o = 0;
  if (start >= argc) {
    memcpy(line, "y\n", 2);
    o = 2;
  } else {
    for (int i = start; i < argc; ++i) {
      size_t l = strlen(argv[i]);
      memcpy(line + o, argv[i], l);
      o += l;
      line[o++] = i + 1 < argc ? ' ' : '\n';
    }
  }
  // Fill the buffer with whole copies of the line, then write it until the write fails: the
  // run's output limit, a closed pipe or the deadline ends yes. A closed pipe is its normal
  // end and stays silent (GNU's yes dies of SIGPIPE there; in wasmcap sh the write fails with
  // EPIPE or EIO).
  size_t fill = o;
  if (line == buf) {
    while (fill + o <= sizeof(buf)) {
      memcpy(buf + fill, buf, o);
      fill += o;
    }
  }
  fflush(stdout);
  for (;;) {
    if (cu_write_fd(STDOUT_FILENO, line, fill) != 0) {
      if (errno != EPIPE && errno != EIO) cu_err(NULL, "standard output", errno);
      return 1;
    }
  }
}

// --- realpath / readlink --------------------------------------------------------------------

// Resolves PATH (symlinks followed; at most 40) against the cwd. mode 'e': every component
// must exist; 'f': all but the last; 'm': none. Returns a malloc'd path or NULL (errno set).
static char *resolve(const char *path, int mode) {
  if (path[0] == '\0') {
    errno = ENOENT;
    return NULL;
  }
  char *cwd = getcwd(NULL, 0);
  size_t rcap = 64, qcap = strlen(path) + (cwd ? strlen(cwd) : 1) + 2;
  char *todo = cu_xmalloc(qcap);  // the part still to walk
  if (path[0] == '/') {
    strcpy(todo, path);
  } else {
    snprintf(todo, qcap, "%s/%s", cwd ? cwd : "/", path);
  }
  free(cwd);
  char *res = cu_xmalloc(rcap);
  strcpy(res, "/");
  int links = 0, missing = 0;
  size_t pos = 0;
  while (todo[pos]) {
    while (todo[pos] == '/') ++pos;
    if (!todo[pos]) break;
    size_t s = pos;
    while (todo[pos] && todo[pos] != '/') ++pos;
    size_t len = pos - s;
    int last = todo[pos] == '\0' || todo[pos + strspn(todo + pos, "/")] == '\0';
    int trailing_slash = last && todo[pos] == '/';
    if (len == 1 && todo[s] == '.') continue;
    if (len == 2 && todo[s] == '.' && todo[s + 1] == '.') {
      char *slash = strrchr(res, '/');
      if (slash == res) res[1] = '\0';
      else *slash = '\0';
      continue;
    }
    size_t rl = strlen(res);
    if (rl + len + 2 > rcap) {
      rcap = (rl + len + 2) * 2;
      res = cu_xrealloc(res, rcap);
    }
    if (rl > 1) res[rl++] = '/';
    memcpy(res + rl, todo + s, len);
    res[rl + len] = '\0';
    if (missing) continue;  // -m: below a missing component, lexical only
    struct stat st;
    if (lstat(res, &st) != 0) {
      if (errno == ENOENT && (mode == 'm' || (mode == 'f' && last))) {
        missing = 1;
        continue;
      }
      goto fail;
    }
    if (S_ISLNK(st.st_mode)) {
      if (++links > 40) {
        errno = ELOOP;
        goto fail;
      }
      char target[4096];
      ssize_t tl = readlink(res, target, sizeof(target) - 1);
      if (tl < 0) goto fail;
      target[tl] = '\0';
      size_t rest = strlen(todo + pos);
      char *nt = cu_xmalloc((size_t)tl + rest + 2);
      memcpy(nt, target, (size_t)tl);
      memcpy(nt + tl, todo + pos, rest + 1);
      free(todo);
      todo = nt;
      pos = 0;
      res[rl > 1 ? rl - 1 : rl] = '\0';  // back to the link's directory
      if (rl == 1) res[1] = '\0';
      if (target[0] == '/') strcpy(res, "/");
      continue;
    }
    if (!S_ISDIR(st.st_mode) && (!last || (trailing_slash && mode != 'm'))) {
      if (mode == 'm') {
        missing = 1;
        continue;
      }
      errno = ENOTDIR;
      goto fail;
    }
  }
  free(todo);
  return res;
fail:;
  int e = errno;
  free(todo);
  free(res);
  errno = e;
  return NULL;
}

static int realpath_readlink(int argc, char **argv, int is_readlink) {
  static const struct option longopts[] = {
      {"canonicalize", no_argument, 0, 'f'},         {"canonicalize-existing", no_argument, 0, 'e'},
      {"canonicalize-missing", no_argument, 0, 'm'}, {"no-newline", no_argument, 0, 'n'},
      {"quiet", no_argument, 0, 'q'},                {"silent", no_argument, 0, 's'},
      {"strip", no_argument, 0, 's'},                {"no-symlinks", no_argument, 0, 's'},
      {"verbose", no_argument, 0, 'v'},              {"zero", no_argument, 0, 'z'},
      {0, 0, 0, 0}};
  int mode = is_readlink ? 0 : 'f', quiet = is_readlink, nonl = 0, eol = '\n', strip = 0, c;
  while ((c = getopt_long(argc, argv, is_readlink ? "femnqsvz" : "emqsz", longopts, NULL)) != -1) {
    switch (c) {
      case 'f': case 'e': case 'm': mode = c; break;
      case 'n': nonl = 1; break;
      case 'q': quiet = 1; break;
      case 's':
        if (is_readlink) quiet = 1;
        else strip = 1;
        break;
      case 'v': quiet = 0; break;
      case 'z': eol = '\0'; break;
      default: return cu_try_help(1);
    }
  }
  if (optind >= argc) {
    cu_errx("missing operand");
    return cu_try_help(1);
  }
  if (nonl && argc - optind > 1) {
    cu_errx("ignoring --no-newline with multiple arguments");
    nonl = 0;
  }
  int status = 0;
  for (int i = optind; i < argc; ++i) {
    char *out = NULL;
    if (mode == 0) {
      char target[4096];
      ssize_t n = readlink(argv[i], target, sizeof(target) - 1);
      if (n >= 0) {
        target[n] = '\0';
        out = cu_xstrdup(target);
      }
    } else if (strip) {
      struct stat st;
      if (mode == 'm' || lstat(argv[i], &st) == 0 || (mode == 'f' && errno == ENOENT)) {
        out = cu_abspath(argv[i]);
      }
    } else {
      out = resolve(argv[i], mode);
    }
    if (out == NULL) {
      if (!quiet) cu_err(NULL, argv[i], errno);
      status = 1;
      continue;
    }
    fputs(out, stdout);
    if (!nonl) putchar(eol);
    free(out);
  }
  return status;
}

int cu_realpath(int argc, char **argv) { return realpath_readlink(argc, argv, 0); }
int cu_readlink(int argc, char **argv) { return realpath_readlink(argc, argv, 1); }

// --- mktemp ---------------------------------------------------------------------------------

int cu_mktemp(int argc, char **argv) {
  enum { OPT_TMPDIR = 256, OPT_SUFFIX };
  static const struct option longopts[] = {{"directory", no_argument, 0, 'd'},
                                           {"dry-run", no_argument, 0, 'u'},
                                           {"quiet", no_argument, 0, 'q'},
                                           {"tmpdir", optional_argument, 0, OPT_TMPDIR},
                                           {"suffix", required_argument, 0, OPT_SUFFIX},
                                           {0, 0, 0, 0}};
  int dir = 0, dry = 0, quiet = 0, use_tmpdir = 0, c;
  const char *tmpdir = NULL, *suffix = "";
  while ((c = getopt_long(argc, argv, "dp:qtu", longopts, NULL)) != -1) {
    switch (c) {
      case 'd': dir = 1; break;
      case 'u': dry = 1; break;
      case 'q': quiet = 1; break;
      case 'p': tmpdir = optarg; use_tmpdir = 1; break;
      case 't': use_tmpdir = 1; break;
      case OPT_TMPDIR: tmpdir = optarg; use_tmpdir = 1; break;
      case OPT_SUFFIX: suffix = optarg; break;
      default: return cu_try_help(1);
    }
  }
  if (argc - optind > 1) {
    cu_errx("too many templates");
    return cu_try_help(1);
  }
  const char *tmpl = optind < argc ? argv[optind] : "tmp.XXXXXXXXXX";
  if (optind >= argc) use_tmpdir = 1;
  if (use_tmpdir && strchr(tmpl, '/') != NULL) {
    cu_errx("invalid template, '%s', contains directory separator", tmpl);
    return 1;
  }
  if (use_tmpdir && (tmpdir == NULL || tmpdir[0] == '\0')) {
    tmpdir = getenv("TMPDIR");
    if (tmpdir == NULL || tmpdir[0] == '\0') tmpdir = "/tmp";
  }
  char *path = use_tmpdir ? cu_join(tmpdir, tmpl) : cu_xstrdup(tmpl);
  size_t plen = strlen(path), slen = strlen(suffix);
  path = cu_xrealloc(path, plen + slen + 1);
  memcpy(path + plen, suffix, slen + 1);
  size_t xs = 0;
  while (xs < plen && path[plen - 1 - xs] == 'X') ++xs;
  if (xs < 3) {
    cu_errx("too few X's in template '%s'", tmpl);  // even with -q, as GNU
    free(path);
    return 1;
  }
  static const char chars[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
  for (int attempt = 0; attempt < 100; ++attempt) {
    unsigned char rnd[256];
    size_t k = xs < sizeof(rnd) ? xs : sizeof(rnd);
    if (__wasi_random_get(rnd, k) != 0) {
      if (!quiet) cu_errx("no random source (the bundle's random grant is needed)");
      free(path);
      return 1;
    }
    for (size_t i = 0; i < xs; ++i) path[plen - xs + i] = chars[rnd[i % k] % 62];
    int r;
    if (dry) {
      struct stat st;
      r = lstat(path, &st) == 0 ? -1 : 0;
      if (r != 0) errno = EEXIST;
    } else if (dir) {
      r = mkdir(path, 0700);
    } else {
      int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
      r = fd < 0 ? -1 : 0;
      if (fd >= 0) close(fd);
    }
    if (r == 0) {
      printf("%s\n", path);
      free(path);
      return 0;
    }
    if (errno != EEXIST) break;
  }
  if (!quiet) {
    int e = errno;
    for (size_t i = 0; i < xs; ++i) path[plen - xs + i] = 'X';
    cu_err(dir ? "failed to create directory via template" : "failed to create file via template",
           path, e);
  }
  free(path);
  return 1;
}

// --- sleep ----------------------------------------------------------------------------------

int cu_sleep(int argc, char **argv) {
  if (argc > 1 && strcmp(argv[1], "--") == 0) {
    --argc;
    ++argv;
  }
  if (argc < 2) {
    cu_errx("missing operand");
    return cu_try_help(1);
  }
  for (int i = 1; i < argc; ++i) {  // no options but --help/--version: GNU's getopt messages
    const char *a = argv[i];
    if (strcmp(a, "--") == 0) break;
    if (a[0] == '-' && a[1] == '-') {
      cu_errx("unrecognized option '%s'", a);
      return cu_try_help(1);
    }
    if (a[0] == '-' && a[1] != '\0') {
      cu_errx("invalid option -- '%c'", a[1]);
      return cu_try_help(1);
    }
  }
  long double total = 0;
  int bad = 0;
  for (int i = 1; i < argc; ++i) {
    const char *s = argv[i];
    char *end;
    long double v;
    if (strcmp(s, "inf") == 0 || strcmp(s, "infinity") == 0) {
      v = INFINITY;
      end = (char *)s + strlen(s);
    } else {
      v = (isdigit((unsigned char)s[0]) || s[0] == '.') ? strtold(s, &end) : -1;
      if (v < 0) end = (char *)s;
    }
    long double mult = 1;
    if (end != s && *end && !end[1]) {
      switch (*end) {
        case 's': mult = 1; ++end; break;
        case 'm': mult = 60; ++end; break;
        case 'h': mult = 3600; ++end; break;
        case 'd': mult = 86400; ++end; break;
        default: break;
      }
    }
    if (end == s || *end || v != v) {
      cu_errx("invalid time interval '%s'", s);
      bad = 1;
      continue;
    }
    total += v * mult;
  }
  if (bad) return cu_try_help(1);
  // One relative wait on the wall clock (the bundle's clock grant); the run's deadline ends a
  // longer one, and an infinite one waits for it.
  __wasi_timestamp_t ns = total >= 1.8e10L ? UINT64_MAX : (__wasi_timestamp_t)(total * 1e9L + 0.5L);
  __wasi_subscription_t sub;
  memset(&sub, 0, sizeof(sub));
  sub.u.tag = __WASI_EVENTTYPE_CLOCK;
  sub.u.u.clock.id = __WASI_CLOCKID_REALTIME;
  sub.u.u.clock.timeout = ns;
  __wasi_event_t ev;
  __wasi_size_t nev = 0;
  if (ns == 0) return 0;
  __wasi_errno_t e = __wasi_poll_oneoff(&sub, &ev, 1, &nev);
  if (e != 0 || (nev == 1 && ev.error != 0)) {
    cu_errx("cannot sleep: %s", cu_strerror(e != 0 ? e : ev.error));
    return 1;
  }
  return 0;
}

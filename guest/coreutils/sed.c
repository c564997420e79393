// sed [-nEr] [-i] [-e SCRIPT]... [SCRIPT] [FILE...]: commands s///[gpNI], p, d, q [N], =, with
// addresses N, $, /RE/[I] and ranges A,B, negation A!cmd; ';' or newlines between commands.
// -i edits each FILE in place (written to a temporary file beside it, then renamed).
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cu.h"

enum addr_kind { A_NONE, A_LINE, A_LAST, A_RE };

struct addr {
  enum addr_kind kind;
  unsigned long line;
  regex_t *re;
};

struct cmd {
  struct addr a1, a2;
  int negate;
  char op;  // s p d q =
  // s
  regex_t *re;
  char *repl;
  int global, print;
  unsigned long nth;
  int exit_code;  // q
  // range state
  int active;
  unsigned long end_line;
};

static struct cmd *g_cmds;
static size_t g_ncmds;
static int g_ext, g_quiet;
static regex_t *g_last_re;

// --- parsing --------------------------------------------------------------------------------

static const char *g_s;  // script cursor

static int parse_fail(const char *what) {
  cu_errx("-e expression: %s", what);
  return -1;
}

// Reads a delimited regex or replacement body up to the unescaped DELIM. An escaped delimiter
// becomes the delimiter itself; in regexes "\n" becomes a newline. Brackets in a regex may
// hold the delimiter unescaped. Returns a malloc'd string or NULL.
static char *read_delimited(char delim, int is_regex) {
  size_t cap = strlen(g_s) + 1, n = 0;
  char *out = cu_xmalloc(cap + 1);
  int in_bracket = 0;
  while (*g_s) {
    char c = *g_s;
    if (c == '\\' && g_s[1]) {
      if (g_s[1] == delim) {
        out[n++] = delim;
      } else if (is_regex && g_s[1] == 'n') {
        out[n++] = '\n';
      } else {
        out[n++] = '\\';
        out[n++] = g_s[1];
      }
      g_s += 2;
      continue;
    }
    if (is_regex && !in_bracket && c == '[') {
      in_bracket = 1;
      out[n++] = c;
      ++g_s;
      // "[]..." and "[^]..." hold a literal ']' first.
      if (*g_s == '^') out[n++] = *g_s++;
      if (*g_s == ']') out[n++] = *g_s++;
      continue;
    }
    if (in_bracket && c == ']') in_bracket = 0;
    if (!in_bracket && c == delim) {
      ++g_s;
      out[n] = '\0';
      return out;
    }
    out[n++] = c;
    ++g_s;
  }
  free(out);
  return NULL;
}

static regex_t *compile_re(const char *text, int icase) {
  if (text[0] == '\0') {
    if (g_last_re == NULL) {
      parse_fail("no previous regular expression");
      return NULL;
    }
    return g_last_re;
  }
  regex_t *re = cu_xmalloc(sizeof(regex_t));
  int rc = regcomp(re, text, (g_ext ? REG_EXTENDED : 0) | (icase ? REG_ICASE : 0));
  if (rc != 0) {
    char msg[256];
    regerror(rc, re, msg, sizeof(msg));
    cu_errx("-e expression: invalid regular expression '%s': %s", text, msg);
    free(re);
    return NULL;
  }
  g_last_re = re;
  return re;
}

static int parse_addr(struct addr *a) {
  a->kind = A_NONE;
  if (*g_s >= '0' && *g_s <= '9') {
    a->kind = A_LINE;
    a->line = strtoul(g_s, (char **)&g_s, 10);
    if (a->line == 0) return parse_fail("invalid usage of line address 0");
    return 0;
  }
  if (*g_s == '$') {
    ++g_s;
    a->kind = A_LAST;
    return 0;
  }
  if (*g_s == '/' || *g_s == '\\') {
    char delim = '/';
    if (*g_s == '\\') {
      ++g_s;
      if (*g_s == '\0' || *g_s == '\n') return parse_fail("unexpected end of address");
      delim = *g_s;
    }
    ++g_s;
    char *text = read_delimited(delim, 1);
    if (text == NULL) return parse_fail("unterminated address regex");
    int icase = 0;
    if (*g_s == 'I') {
      icase = 1;
      ++g_s;
    }
    a->kind = A_RE;
    a->re = compile_re(text, icase);
    free(text);
    return a->re ? 0 : -1;
  }
  return 0;
}

static void skip_blanks(void) {
  while (*g_s == ' ' || *g_s == '\t') ++g_s;
}

static int parse_script(const char *script) {
  g_s = script;
  for (;;) {
    while (*g_s == ' ' || *g_s == '\t' || *g_s == '\n' || *g_s == ';') ++g_s;
    if (*g_s == '\0') return 0;
    if (*g_s == '#') {
      while (*g_s && *g_s != '\n') ++g_s;
      continue;
    }
    struct cmd c;
    memset(&c, 0, sizeof(c));
    if (parse_addr(&c.a1) != 0) return -1;
    if (c.a1.kind != A_NONE && *g_s == ',') {
      ++g_s;
      if (parse_addr(&c.a2) != 0) return -1;
      if (c.a2.kind == A_NONE) return parse_fail("unexpected ','");
    }
    skip_blanks();
    while (*g_s == '!') {
      c.negate = 1;
      ++g_s;
      skip_blanks();
    }
    c.op = *g_s;
    if (c.op == '\0') return parse_fail("missing command");
    ++g_s;
    switch (c.op) {
      case 'p': case 'd': case '=':
        break;
      case 'q': {
        skip_blanks();
        if (*g_s >= '0' && *g_s <= '9') c.exit_code = (int)strtol(g_s, (char **)&g_s, 10);
        break;
      }
      case 's': {
        char delim = *g_s;
        if (delim == '\0' || delim == '\n' || delim == '\\') return parse_fail("unterminated `s' command");
        ++g_s;
        char *re_text = read_delimited(delim, 1);
        if (re_text == NULL) return parse_fail("unterminated `s' command");
        c.repl = read_delimited(delim, 0);
        if (c.repl == NULL) {
          free(re_text);
          return parse_fail("unterminated `s' command");
        }
        int icase = 0;
        for (;;) {
          if (*g_s == 'g') {
            c.global = 1;
          } else if (*g_s == 'p') {
            c.print = 1;
          } else if (*g_s == 'i' || *g_s == 'I') {
            icase = 1;
          } else if (*g_s >= '1' && *g_s <= '9') {
            c.nth = strtoul(g_s, (char **)&g_s, 10);
            continue;
          } else if (*g_s == '0') {
            free(re_text);
            return parse_fail("number option to `s' command may not be zero");
          } else {
            break;
          }
          ++g_s;
        }
        c.re = compile_re(re_text, icase);
        free(re_text);
        if (c.re == NULL) return -1;
        break;
      }
      default: {
        char msg[64];
        snprintf(msg, sizeof(msg), "unknown command: `%c'", c.op);
        return parse_fail(msg);
      }
    }
    skip_blanks();
    if (*g_s == '#') continue;
    if (*g_s != '\0' && *g_s != ';' && *g_s != '\n') {
      char msg[64];
      snprintf(msg, sizeof(msg), "extra characters after command");
      return parse_fail(msg);
    }
    g_cmds = cu_xrealloc(g_cmds, (g_ncmds + 1) * sizeof(struct cmd));
    g_cmds[g_ncmds++] = c;
  }
}

// --- execution ------------------------------------------------------------------------------

struct buf {
  char *p;
  size_t n, cap;
};

static void buf_add(struct buf *b, const char *s, size_t n) {
  if (b->n + n + 1 > b->cap) {
    b->cap = (b->n + n + 1) * 2;
    b->p = cu_xrealloc(b->p, b->cap);
  }
  memcpy(b->p + b->n, s, n);
  b->n += n;
  b->p[b->n] = '\0';
}

static FILE *g_out;
static int g_missing_newline;  // the last line written had no newline (added before more output)

static void emit(const char *s, size_t n, int newline) {
  if (g_missing_newline) {
    fputc('\n', g_out);
    g_missing_newline = 0;
  }
  fwrite(s, 1, n, g_out);
  if (newline) {
    fputc('\n', g_out);
  } else {
    g_missing_newline = 1;
  }
}

static int addr_match(const struct addr *a, unsigned long line, int last, const char *ps) {
  switch (a->kind) {
    case A_NONE: return 1;
    case A_LINE: return line == a->line;
    case A_LAST: return last;
    case A_RE: return regexec(a->re, ps, 0, NULL, 0) == 0;
  }
  return 0;
}

static int selected(struct cmd *c, unsigned long line, int last, const char *ps) {
  if (c->a1.kind == A_NONE) return 1;
  if (c->a2.kind == A_NONE) return addr_match(&c->a1, line, last, ps);
  if (!c->active) {
    if (!addr_match(&c->a1, line, last, ps)) return 0;
    c->active = 1;
    // A second address that is a line number at or before this line ends the range here.
    if (c->a2.kind == A_LINE && c->a2.line <= line) c->active = 0;
    if (c->a2.kind == A_LAST && last) c->active = 0;
    return 1;
  }
  if (c->a2.kind == A_LINE) {
    if (line >= c->a2.line) c->active = 0;
    if (line > c->a2.line) return 0;
  } else if (addr_match(&c->a2, line, last, ps)) {
    c->active = 0;
  }
  return 1;
}

static void append_repl(struct buf *out, const char *repl, const char *base, const regmatch_t *m) {
  for (const char *r = repl; *r; ++r) {
    if (*r == '&') {
      buf_add(out, base + m[0].rm_so, (size_t)(m[0].rm_eo - m[0].rm_so));
    } else if (*r == '\\' && r[1]) {
      ++r;
      if (*r >= '0' && *r <= '9') {
        const regmatch_t *g = &m[*r - '0'];
        if (g->rm_so >= 0) buf_add(out, base + g->rm_so, (size_t)(g->rm_eo - g->rm_so));
      } else if (*r == 'n') {
        buf_add(out, "\n", 1);
      } else if (*r == 't') {
        buf_add(out, "\t", 1);
      } else {
        buf_add(out, r, 1);
      }
    } else {
      buf_add(out, r, 1);
    }
  }
}

// s///: returns 1 if a substitution was made (PS replaced).
static int substitute(struct cmd *c, struct buf *ps) {
  struct buf out = {0};
  buf_add(&out, "", 0);
  size_t len = ps->n, pos = 0;
  long prev_end = -1;
  unsigned long count = 0, nth = c->nth ? c->nth : 1;
  int done = 0;
  regmatch_t m[10];
  while (pos <= len && !done) {
    if (regexec(c->re, ps->p + pos, 10, m, pos > 0 ? REG_NOTBOL : 0) != 0) break;
    size_t ms = pos + (size_t)m[0].rm_so, me = pos + (size_t)m[0].rm_eo;
    if (ms == me && (long)ms == prev_end) {
      // An empty match right after the previous match is not a match (GNU, POSIX).
      if (ms >= len) break;
      buf_add(&out, ps->p + pos, ms - pos + 1);
      pos = ms + 1;
      continue;
    }
    ++count;
    if (count >= nth) {
      buf_add(&out, ps->p + pos, ms - pos);
      append_repl(&out, c->repl, ps->p + pos, m);
      if (!c->global) done = 1;
    } else {
      buf_add(&out, ps->p + pos, me - pos);
    }
    prev_end = (long)me;
    if (ms == me) {
      if (ms >= len) {
        pos = len + 1;
        break;
      }
      buf_add(&out, ps->p + ms, 1);
      pos = ms + 1;
    } else {
      pos = me;
    }
  }
  if (count < nth) {
    free(out.p);
    return 0;
  }
  if (pos < len) buf_add(&out, ps->p + pos, len - pos);
  free(ps->p);
  *ps = out;
  return 1;
}

struct line {
  const char *p;
  size_t n;
  int newline;
};

// Runs the script over LINES. Returns -1 to continue, or the exit status of a 'q'.
static int run(const struct line *lines, size_t nlines) {
  for (size_t i = 0; i < g_ncmds; ++i) g_cmds[i].active = 0;
  for (size_t li = 0; li < nlines; ++li) {
    struct buf ps = {0};
    buf_add(&ps, lines[li].p, lines[li].n);
    int nl = lines[li].newline;
    unsigned long lineno = li + 1;
    int last = li + 1 == nlines, deleted = 0, quit = -1;
    for (size_t ci = 0; ci < g_ncmds && !deleted && quit < 0; ++ci) {
      struct cmd *c = &g_cmds[ci];
      if (selected(c, lineno, last, ps.p) == c->negate) continue;
      switch (c->op) {
        case 'p': emit(ps.p, ps.n, nl); break;
        case 'd': deleted = 1; break;
        case '=': {
          if (g_missing_newline) {
            fputc('\n', g_out);
            g_missing_newline = 0;
          }
          fprintf(g_out, "%lu\n", lineno);
          break;
        }
        case 'q': quit = c->exit_code; break;
        case 's':
          if (substitute(c, &ps) && c->print) emit(ps.p, ps.n, nl);
          break;
      }
    }
    if (!deleted && !g_quiet) emit(ps.p, ps.n, nl);
    free(ps.p);
    if (quit >= 0) return quit;
  }
  return -1;
}

static void split_lines(const char *p, size_t n, struct line **v, size_t *nv) {
  size_t i = 0;
  while (i < n) {
    const char *nl = memchr(p + i, '\n', n - i);
    size_t end = nl ? (size_t)(nl - p) : n;
    *v = cu_xrealloc(*v, (*nv + 1) * sizeof(struct line));
    (*v)[*nv].p = p + i;
    (*v)[*nv].n = end - i;
    (*v)[*nv].newline = nl != NULL;
    ++*nv;
    i = end + 1;
  }
}

static int read_input(const char *path, char **buf, size_t *len) {
  if (strcmp(path, "-") == 0) return cu_read_all(STDIN_FILENO, buf, len) == 0 ? 0 : -1;
  int fd = open(path, O_RDONLY);
  if (fd < 0) return -1;
  struct stat st;
  if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
    close(fd);
    errno = EISDIR;
    return -1;
  }
  int rc = cu_read_all(fd, buf, len);
  int e = errno;
  close(fd);
  errno = e;
  return rc;
}

static int edit_in_place(const char *path) {
  char *buf;
  size_t len;
  if (read_input(path, &buf, &len) != 0) {
    cu_err("couldn't edit", path, errno);
    return 4;
  }
  char *tmp = NULL;
  int fd = -1;
  for (int attempt = 0; attempt < 100 && fd < 0; ++attempt) {
    free(tmp);
    size_t n = strlen(path) + 32;
    tmp = cu_xmalloc(n);
    snprintf(tmp, n, "%s.sed%d~", path, attempt);
    fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL, 0666);
    if (fd < 0 && errno != EEXIST) break;
  }
  if (fd < 0) {
    cu_err("couldn't open temporary file", tmp, errno);
    free(tmp);
    free(buf);
    return 4;
  }
  g_out = fdopen(fd, "w");
  g_missing_newline = 0;
  struct line *lines = NULL;
  size_t nlines = 0;
  split_lines(buf, len, &lines, &nlines);
  int q = run(lines, nlines);
  int bad = fclose(g_out) != 0;
  g_out = stdout;
  if (bad || rename(tmp, path) != 0) {
    cu_err("couldn't edit", path, errno);
    unlink(tmp);
    q = 4;
  }
  free(lines);
  free(buf);
  free(tmp);
  return q;
}

int cu_sed(int argc, char **argv) {
  static const struct option longopts[] = {{"quiet", no_argument, 0, 'n'},
                                           {"silent", no_argument, 0, 'n'},
                                           {"expression", required_argument, 0, 'e'},
                                           {"regexp-extended", no_argument, 0, 'E'},
                                           {"in-place", no_argument, 0, 'i'},
                                           {0, 0, 0, 0}};
  struct buf script = {0};
  int have_e = 0, in_place = 0, c;
  while ((c = getopt_long(argc, argv, "ne:Eri", longopts, NULL)) != -1) {
    switch (c) {
      case 'n': g_quiet = 1; break;
      case 'e':
        if (have_e) buf_add(&script, "\n", 1);
        buf_add(&script, optarg, strlen(optarg));
        have_e = 1;
        break;
      case 'E': case 'r': g_ext = 1; break;
      case 'i': in_place = 1; break;
      default:
        fprintf(stderr, "usage: sed [-nEi] [-e SCRIPT]... [SCRIPT] [FILE...]\n");
        return 1;
    }
  }
  if (!have_e) {
    if (optind >= argc) {
      fprintf(stderr, "usage: sed [-nEi] [-e SCRIPT]... [SCRIPT] [FILE...]\n");
      return 1;
    }
    buf_add(&script, argv[optind], strlen(argv[optind]));
    ++optind;
  }
  // -E given after the script still applies: compile only now.
  if (parse_script(script.p) != 0) return 1;
  g_out = stdout;
  int nops = argc - optind;
  if (in_place) {
    if (nops == 0) {
      cu_errx("no input files");
      return 1;
    }
    int status = 0;
    for (int i = optind; i < argc; ++i) {
      int q = edit_in_place(argv[i]);
      if (q == 4) {
        status = 4;
        continue;
      }
      if (q >= 0) return q;
    }
    return status;
  }
  char *dash[] = {"-", NULL};
  char **ops = nops > 0 ? argv + optind : dash;
  int n = nops > 0 ? nops : 1, status = 0;
  struct line *lines = NULL;
  size_t nlines = 0;
  char **bufs = cu_xmalloc((size_t)n * sizeof(char *));
  for (int i = 0; i < n; ++i) {
    size_t len;
    bufs[i] = NULL;
    if (read_input(ops[i], &bufs[i], &len) != 0) {
      cu_err("can't read", ops[i], errno);
      status = 2;
      continue;
    }
    // A last line without newline gets one only if more output follows (emit()).
    split_lines(bufs[i], len, &lines, &nlines);
  }
  int q = run(lines, nlines);
  return q >= 0 ? q : status;
}

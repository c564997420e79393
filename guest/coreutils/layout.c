// Line layout: fold, expand, unexpand, nl.
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cu.h"

// --- fold -----------------------------------------------------------------------------------

static size_t f_width = 80;
static int f_bytes, f_spaces;

static size_t fold_col(size_t col, unsigned char c) {
  if (f_bytes) return col + 1;
  if (c == '\b') return col > 0 ? col - 1 : 0;
  if (c == '\r') return 0;
  if (c == '\t') return col + 8 - col % 8;
  return col + 1;
}

static int fold_one(struct cu_reader *r, const char *name) {
  char *line = NULL, *p;
  size_t cap = 0, off = 0, col = 0, n;
  int had, got;
  while ((got = cu_reader_next(r, '\n', &p, &n, &had)) > 0) {
    for (size_t i = 0; i < n; ++i) {
      unsigned char c = (unsigned char)p[i];
      if (off + 2 > cap) {
        cap = cap ? cap * 2 : 256;
        line = cu_xrealloc(line, cap);
      }
      for (;;) {  // place c, breaking the line first when it would pass the width
        col = fold_col(col, c);
        if (col <= f_width) {
          line[off++] = (char)c;
          break;
        }
        if (f_spaces) {
          size_t b = off;
          while (b > 0 && line[b - 1] != ' ' && line[b - 1] != '\t') --b;
          if (b > 0) {  // break after the last blank; the rest starts the next line
            cu_out(line, b);
            putchar('\n');
            memmove(line, line + b, off - b);
            off -= b;
            col = 0;
            for (size_t k = 0; k < off; ++k) col = fold_col(col, (unsigned char)line[k]);
            continue;
          }
        }
        if (off == 0) {
          line[off++] = (char)c;
          break;
        }
        cu_out(line, off);
        putchar('\n');
        col = off = 0;
      }
    }
    if (had) {
      cu_out(line, off);
      putchar('\n');
      col = off = 0;
    }
  }
  cu_out(line, off);
  free(line);
  if (got < 0) {
    cu_err(NULL, name, errno);
    return 1;
  }
  return 0;
}

int cu_fold(int argc, char **argv) {
  static const struct option longopts[] = {{"bytes", no_argument, 0, 'b'},
                                           {"spaces", no_argument, 0, 's'},
                                           {"width", required_argument, 0, 'w'},
                                           {0, 0, 0, 0}};
  int vc = argc;
  char **v = cu_obsolete_count(&vc, argv, "-w");  // the obsolete -N is -w N
  int c;
  while ((c = getopt_long(vc, v, "bsw:", longopts, NULL)) != -1) {
    switch (c) {
      case 'b': f_bytes = 1; break;
      case 's': f_spaces = 1; break;
      case 'w':
        if (cu_parse_count(optarg, &f_width) != 0) {
          cu_errx("invalid number of columns: '%s'", optarg);
          return 1;
        }
        if (f_width == 0 || f_width == SIZE_MAX) {
          cu_errx("invalid number of columns: '%s': Numerical result out of range", optarg);
          return 1;
        }
        break;
      default: return cu_try_help(1);
    }
  }
  return cu_each_input(vc, v, fold_one);
}

// --- expand / unexpand ----------------------------------------------------------------------

static size_t *t_stops, t_nstops, t_size = 8;

// -t LIST: one size, or ascending stops separated by commas or blanks. Returns 0 or -1.
static int parse_tabs(const char *s) {
  while (*s) {
    if (*s == ',' || *s == ' ' || *s == '\t') {
      ++s;
      continue;
    }
    if (*s == '/' || *s == '+') {
      cu_errx("'%c' tab stops are not supported by this %s (wasmcap coreutils)", *s, cu_prog);
      return -1;
    }
    if (!isdigit((unsigned char)*s)) {
      size_t n = strspn(s, "0123456789,/+ \t");
      (void)n;
      cu_errx("tab size contains invalid character(s): '%s'", s);
      return -1;
    }
    size_t v = 0;
    while (isdigit((unsigned char)*s)) {
      v = v * 10 + (size_t)(*s++ - '0');
      if (v > (1u << 30)) {
        cu_errx("tab stop is too large '%s'", s);
        return -1;
      }
    }
    if (v == 0) {
      cu_errx("tab size cannot be 0");
      return -1;
    }
    if (t_nstops > 0 && v <= t_stops[t_nstops - 1]) {
      cu_errx("tab sizes must be ascending");
      return -1;
    }
    t_stops = cu_xrealloc(t_stops, (t_nstops + 1) * sizeof(size_t));
    t_stops[t_nstops++] = v;
  }
  if (t_nstops == 1) {
    t_size = t_stops[0];
    t_nstops = 0;
  }
  return 0;
}

// The next tab stop after COL; *last when COL is past the last stop of a list.
static size_t next_tab(size_t col, int *last) {
  *last = 0;
  if (t_nstops == 0) return col + t_size - col % t_size;
  for (size_t i = 0; i < t_nstops; ++i) {
    if (t_stops[i] > col) return t_stops[i];
  }
  *last = 1;
  return col + 1;
}

static int x_initial, x_all;

static int expand_one(struct cu_reader *r, const char *name) {
  char *p;
  size_t n;
  int had, got;
  while ((got = cu_reader_next(r, '\n', &p, &n, &had)) > 0) {
    size_t col = 0;
    int convert = 1;
    for (size_t i = 0; i < n; ++i) {
      unsigned char c = (unsigned char)p[i];
      if (convert) {
        if (c == '\t') {
          int last;
          size_t next = next_tab(col, &last);
          for (; col < next; ++col) putchar(' ');
          continue;
        }
        if (c == '\b') {
          col -= col > 0;
        } else {
          ++col;
        }
        convert = !x_initial || c == ' ';
      }
      putchar(c);
    }
    if (had) putchar('\n');
  }
  if (got < 0) {
    cu_err(NULL, name, errno);
    return 1;
  }
  return 0;
}

static int unexpand_one(struct cu_reader *r, const char *name) {
  char *p, *pend = NULL;
  size_t n, pcap = 0;
  int had, got;
  while ((got = cu_reader_next(r, '\n', &p, &n, &had)) > 0) {
    size_t col = 0, pending = 0;
    int convert = 1, one_before = 0, prev_blank = 1;
    if (pcap < n + 1) {
      pcap = n + 1;
      pend = cu_xrealloc(pend, pcap);
    }
    // Blanks are held back until it is known whether they reach a tab stop; the end of the
    // line counts as a non-blank (it flushes them).
    for (size_t i = 0; i <= n; ++i) {
      int end = i == n;
      unsigned char c = end ? 0 : (unsigned char)p[i];
      if (convert) {
        int blank = !end && (c == ' ' || c == '\t');
        if (blank) {
          int last;
          size_t next = next_tab(col, &last);
          if (last) convert = 0;
          if (convert) {
            if (c == '\t') {
              col = next;
              if (pending) pend[0] = '\t';
            } else {
              ++col;
              if (!(prev_blank && col == next)) {
                if (col == next) one_before = 1;
                pend[pending++] = (char)c;
                prev_blank = 1;
                continue;
              }
              pend[0] = (char)(c = '\t');
            }
            pending = (size_t)one_before;
          }
        } else if (c == '\b' && !end) {
          col -= col > 0;
        } else {
          ++col;
        }
        if (pending) {
          if (pending > 1 && one_before) pend[0] = '\t';
          cu_out(pend, pending);
          pending = 0;
          one_before = 0;
        }
        prev_blank = blank;
        if (!x_all && !blank) convert = 0;
      }
      if (!end) putchar(c);
    }
    if (had) putchar('\n');
  }
  free(pend);
  if (got < 0) {
    cu_err(NULL, name, errno);
    return 1;
  }
  return 0;
}

static int expand_main(int argc, char **argv, int un) {
  enum { OPT_FIRST_ONLY = 256 };
  static const struct option longopts[] = {{"initial", no_argument, 0, 'i'},
                                           {"tabs", required_argument, 0, 't'},
                                           {"all", no_argument, 0, 'a'},
                                           {"first-only", no_argument, 0, OPT_FIRST_ONLY},
                                           {0, 0, 0, 0}};
  int c, first_only = 0, tabs_given = 0;
  while ((c = getopt_long(argc, argv, un ? "at:" : "it:", longopts, NULL)) != -1) {
    switch (c) {
      case 'i': x_initial = 1; break;
      case 'a': x_all = 1; break;
      case OPT_FIRST_ONLY: first_only = 1; break;
      case 't':
        if (parse_tabs(optarg) != 0) return 1;
        tabs_given = 1;
        break;
      default: return cu_try_help(1);
    }
  }
  if (un && tabs_given) x_all = 1;
  if (first_only) x_all = 0;
  return cu_each_input(argc, argv, un ? unexpand_one : expand_one);
}

int cu_expand(int argc, char **argv) { return expand_main(argc, argv, 0); }
int cu_unexpand(int argc, char **argv) { return expand_main(argc, argv, 1); }

// --- nl -------------------------------------------------------------------------------------

struct nl_style {
  char kind;  // 'a', 't', 'n' or 'p'
  regex_t re;
};

static int nl_parse_style(const char *s, struct nl_style *st, const char *which) {
  if ((s[0] == 'a' || s[0] == 't' || s[0] == 'n') && s[1] == '\0') {
    st->kind = s[0];
    return 0;
  }
  if (s[0] == 'p') {
    int rc = regcomp(&st->re, s + 1, REG_NOSUB);
    if (rc != 0) {
      char msg[256];
      regerror(rc, &st->re, msg, sizeof(msg));
      cu_errx("%s", msg);
      return -1;
    }
    st->kind = 'p';
    return 0;
  }
  cu_errx("invalid %s numbering style: '%s'", which, s);
  return -1;
}

int cu_nl(int argc, char **argv) {
  static const struct option longopts[] = {
      {"body-numbering", required_argument, 0, 'b'}, {"section-delimiter", required_argument, 0, 'd'},
      {"footer-numbering", required_argument, 0, 'f'}, {"header-numbering", required_argument, 0, 'h'},
      {"line-increment", required_argument, 0, 'i'},  {"join-blank-lines", required_argument, 0, 'l'},
      {"number-format", required_argument, 0, 'n'},   {"no-renumber", no_argument, 0, 'p'},
      {"number-separator", required_argument, 0, 's'}, {"starting-line-number", required_argument, 0, 'v'},
      {"number-width", required_argument, 0, 'w'},    {0, 0, 0, 0}};
  struct nl_style styles[3];  // header, body, footer
  styles[0].kind = 'n';
  styles[1].kind = 't';
  styles[2].kind = 'n';
  char delim[3] = "\\:";
  const char *sep = "\t", *fmt = "rn";
  long long start = 1, incr = 1, join = 1, width = 6;
  int renumber = 1, c;
  while ((c = getopt_long(argc, argv, "b:d:f:h:i:l:n:ps:v:w:", longopts, NULL)) != -1) {
    char *end;
    switch (c) {
      case 'b':
      case 'h':
      case 'f': {
        int k = c == 'h' ? 0 : c == 'b' ? 1 : 2;
        if (nl_parse_style(optarg, &styles[k], k == 0 ? "header" : k == 1 ? "body" : "footer") != 0) {
          return cu_try_help(1);
        }
        break;
      }
      case 'd':
        if (optarg[0] == '\0' || strlen(optarg) > 2) {
          cu_errx("section delimiters other than one or two characters are not supported by this "
                  "nl (wasmcap coreutils)");
          return 1;
        }
        delim[0] = optarg[0];
        delim[1] = optarg[1] ? optarg[1] : ':';
        break;
      case 'n':
        if (strcmp(optarg, "ln") != 0 && strcmp(optarg, "rn") != 0 && strcmp(optarg, "rz") != 0) {
          cu_errx("invalid line numbering format: '%s'", optarg);
          return cu_try_help(1);
        }
        fmt = optarg;
        break;
      case 'p': renumber = 0; break;
      case 's': sep = optarg; break;
      case 'i':
      case 'l':
      case 'v':
      case 'w': {
        errno = 0;
        long long v = strtoll(optarg, &end, 10);
        const char *what = c == 'i' ? "line number increment" : c == 'l' ? "line number of blank lines"
                           : c == 'v' ? "starting line number" : "line number field width";
        if (end == optarg || *end || errno) {
          cu_errx("invalid %s: '%s'", what, optarg);
          return 1;
        }
        if ((c == 'w' || c == 'l') && v <= 0) {
          cu_errx("invalid %s: '%s': Numerical result out of range", what, optarg);
          return 1;
        }
        if (c == 'i' && v < 0) {
          cu_errx("invalid %s: '%s': Numerical result out of range", what, optarg);
          return 1;
        }
        if (c == 'w' && v > 1024) {
          cu_errx("a line number field width above 1024 is not supported by this nl (wasmcap "
                  "coreutils)");
          return 1;
        }
        if (c == 'i') incr = v;
        else if (c == 'l') join = v;
        else if (c == 'v') start = v;
        else width = v;
        break;
      }
      default: return cu_try_help(1);
    }
  }
  char *dash[] = {"-", NULL};
  char **ops = optind < argc ? argv + optind : dash;
  int nops = optind < argc ? argc - optind : 1, status = 0, section = 1;
  long long line_no = start, blanks = 0;
  size_t seplen = strlen(sep);
  for (int f = 0; f < nops; ++f) {
    int fd = cu_open_input(ops[f]);
    if (fd < 0) {
      cu_err(NULL, ops[f], errno);
      status = 1;
      continue;
    }
    struct cu_reader r;
    cu_reader_init(&r, fd);
    char *p, *z = NULL;
    size_t n, zcap = 0;
    int had, got;
    while ((got = cu_reader_next(&r, '\n', &p, &n, &had)) > 0) {
      // A section delimiter line: \:\:\: header, \:\: body, \: footer (printed as empty lines).
      int sect = -1;
      if (n == 6 && memcmp(p, delim, 2) == 0 && memcmp(p + 2, delim, 2) == 0 && memcmp(p + 4, delim, 2) == 0) {
        sect = 0;
      } else if (n == 4 && memcmp(p, delim, 2) == 0 && memcmp(p + 2, delim, 2) == 0) {
        sect = 1;
      } else if (n == 2 && memcmp(p, delim, 2) == 0) {
        sect = 2;
      }
      if (sect >= 0) {
        section = sect;
        if (renumber) line_no = start;
        putchar('\n');
        continue;
      }
      const struct nl_style *st = &styles[section];
      int number = 0;
      if (st->kind == 'a') {
        if (n == 0) {
          number = ++blanks >= join;
          if (number) blanks = 0;
        } else {
          blanks = 0;
          number = 1;
        }
      } else if (st->kind == 't') {
        number = n > 0;
      } else if (st->kind == 'p') {
        if (memchr(p, '\0', n) != NULL) {  // regexec stops at a NUL; GNU's matcher does not
          cu_errx("%s: a NUL byte in a line matched by -b/-h/-f pREGEX is not supported by this nl "
                  "(wasmcap coreutils)", ops[f]);
          status = 1;
          break;
        }
        if (n + 1 > zcap) {
          zcap = n + 1;
          z = cu_xrealloc(z, zcap);
        }
        memcpy(z, p, n);
        z[n] = '\0';
        number = regexec(&st->re, z, 0, NULL, 0) == 0;
      }
      if (number) {
        if (fmt[0] == 'l') printf("%-*lld", (int)width, line_no);
        else if (fmt[1] == 'z') printf("%0*lld", (int)width, line_no);
        else printf("%*lld", (int)width, line_no);
        cu_out(sep, seplen);
        line_no += incr;
      } else {
        printf("%*s", (int)(width + (long long)seplen), "");
      }
      cu_out(p, n);
      putchar('\n');
    }
    free(z);
    if (cu_end_input(&r, fd, got, ops[f]) != 0) status = 1;
  }
  return status;
}

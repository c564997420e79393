// Line filters: uniq, rev, paste, comm.
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "cu.h"

// --- uniq -----------------------------------------------------------------------------------

static size_t u_skip_fields, u_skip_chars, u_check_chars = SIZE_MAX;
static int u_ignore_case;

static int field_blank(unsigned char c) { return c == ' ' || c == '\t' || c == '\n'; }

static const char *u_field(const char *p, size_t len, size_t *flen) {
  size_t i = 0;
  for (size_t f = 0; f < u_skip_fields && i < len; ++f) {
    while (i < len && field_blank((unsigned char)p[i])) ++i;
    while (i < len && !field_blank((unsigned char)p[i])) ++i;
  }
  i = len - i < u_skip_chars ? len : i + u_skip_chars;
  *flen = len - i;
  if (*flen > u_check_chars) *flen = u_check_chars;
  return p + i;
}

static int u_different(const char *a, size_t al, const char *b, size_t bl) {
  if (al != bl) return 1;
  if (u_ignore_case) {
    for (size_t i = 0; i < al; ++i) {
      if (tolower((unsigned char)a[i]) != tolower((unsigned char)b[i])) return 1;
    }
    return 0;
  }
  return memcmp(a, b, al) != 0;
}

int cu_uniq(int argc, char **argv) {
  static const struct option longopts[] = {
      {"count", no_argument, 0, 'c'},           {"repeated", no_argument, 0, 'd'},
      {"all-repeated", optional_argument, 0, 'D'}, {"skip-fields", required_argument, 0, 'f'},
      {"ignore-case", no_argument, 0, 'i'},     {"skip-chars", required_argument, 0, 's'},
      {"unique", no_argument, 0, 'u'},          {"check-chars", required_argument, 0, 'w'},
      {"zero-terminated", no_argument, 0, 'z'}, {"group", optional_argument, 0, 'G'},
      {0, 0, 0, 0}};
  char **v = cu_obsolete_count(&argc, argv, "-f");  // the obsolete -N skips N fields (-f N)
  argv = v;
  int count = 0, only_dup = 0, only_uniq = 0, all_dup = 0, delim = '\n', c;
  while ((c = getopt_long(argc, argv, "cdDf:is:uw:z", longopts, NULL)) != -1) {
    switch (c) {
      case 'c': count = 1; break;
      case 'd': only_dup = 1; break;
      case 'D':
        if (optarg && strcmp(optarg, "none") != 0) {
          fprintf(stderr, "uniq: --all-repeated=%s is not supported by this uniq (wasmcap coreutils)\n", optarg);
          return cu_try_help(1);
        }
        all_dup = 1;
        break;
      case 'f':
      case 's':
      case 'w': {
        size_t n;
        if (cu_parse_count(optarg, &n) != 0) {
          const char *what = c == 'f' ? "number of fields to skip"
                             : c == 's' ? "number of bytes to skip" : "number of bytes to compare";
          fprintf(stderr, "uniq: %s: invalid %s\n", optarg, what);
          return 1;
        }
        if (c == 'f') u_skip_fields = n;
        else if (c == 's') u_skip_chars = n;
        else u_check_chars = n;
        break;
      }
      case 'i': u_ignore_case = 1; break;
      case 'u': only_uniq = 1; break;
      case 'z': delim = '\0'; break;
      case 'G':
        fputs("uniq: --group is not supported by this uniq (wasmcap coreutils)\n", stderr);
        return cu_try_help(1);
      default: return cu_try_help(1);
    }
  }
  int nops = argc - optind;
  if (nops > 2) {
    fprintf(stderr, "uniq: extra operand '%s'\n", argv[optind + 2]);
    return cu_try_help(1);
  }
  if (all_dup && count) {
    fputs("uniq: printing all duplicated lines and repeat counts is meaningless\n", stderr);
    return cu_try_help(1);
  }
  const char *in = nops >= 1 ? argv[optind] : "-";
  int fd = cu_open_input(in);
  if (fd < 0) {
    cu_err(NULL, in, errno);
    return 1;
  }
  FILE *out = stdout;
  if (nops == 2 && strcmp(argv[optind + 1], "-") != 0) {
    out = fopen(argv[optind + 1], "w");
    if (out == NULL) {
      cu_err(NULL, argv[optind + 1], errno);
      return 1;
    }
  }
  struct cu_reader r;
  cu_reader_init(&r, fd);
  char *prev = NULL;  // the first line of the current group (a copy)
  size_t prev_len = 0, prev_cap = 0, group = 0;
  int status = 0, printed_group = 0;
  for (;;) {
    char *p;
    size_t n;
    int had;
    int got = cu_reader_next(&r, delim, &p, &n, &had);
    if (got < 0) {
      cu_err(NULL, in, errno);
      status = 1;
      break;
    }
    if (got > 0 && group > 0) {
      size_t al, bl;
      const char *a = u_field(prev, prev_len, &al), *b = u_field(p, n, &bl);
      if (!u_different(a, al, b, bl)) {
        ++group;
        if (all_dup) {
          if (!printed_group) {
            fwrite(prev, 1, prev_len, out);
            putc(delim, out);
            printed_group = 1;
          }
          fwrite(p, 1, n, out);
          putc(delim, out);
        }
        continue;
      }
    }
    // The group that ends here.
    if (group > 0 && !all_dup && ((group == 1 && !only_dup) || (group > 1 && !only_uniq))) {
      if (count) fprintf(out, "%7zu ", group);
      fwrite(prev, 1, prev_len, out);
      putc(delim, out);
    }
    if (got == 0) break;
    if (n > prev_cap) {
      prev_cap = n;
      prev = cu_xrealloc(prev, prev_cap);
    }
    memcpy(prev, p, n);
    prev_len = n;
    group = 1;
    printed_group = 0;
  }
  cu_reader_free(&r);
  free(prev);
  cu_close_input(fd);
  if (out != stdout && fclose(out) != 0) {
    cu_err(NULL, argv[optind + 1], errno);
    status = 1;
  }
  return status;
}

// --- rev (util-linux's, in the C locale) ----------------------------------------------------

static int rev_one(struct cu_reader *r, const char *name) {
  char *p;
  size_t n, lines = 0;
  int had, got;
  const char *shown = strcmp(name, "-") == 0 ? "stdin" : name;
  while ((got = cu_reader_next(r, '\n', &p, &n, &had)) > 0) {
    // util-linux reads wide characters: a byte above 0x7f is an invalid character in the C
    // locale and ends the file, with the number of lines written so far. How its versions
    // treat a NUL inside a line differs (2.38 cuts the line there and joins the next to it), so
    // a NUL is refused rather than answered differently.
    for (size_t i = 0; i < n; ++i) {
      if ((unsigned char)p[i] > 0x7f) {
        fprintf(stderr, "rev: %s: %zu: Invalid or incomplete multibyte or wide character\n", shown, lines);
        return 1;
      }
      if (p[i] == '\0') {
        fprintf(stderr, "rev: %s: %zu: a NUL byte in a line is not supported by this rev (wasmcap "
                "coreutils)\n", shown, lines);
        return 1;
      }
    }
    for (size_t i = n; i > 0; --i) putchar(p[i - 1]);
    if (had) putchar('\n');
    ++lines;
  }
  if (got < 0) {
    cu_err(NULL, name, errno);
    return 1;
  }
  return 0;
}

// Opens a file operand ("-" is a file name to util-linux's rev). Returns the fd or -1.
static int open_plain(const char *path) {
  int fd = open(path, O_RDONLY);
  struct stat st;
  if (fd >= 0 && fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
    close(fd);
    errno = EISDIR;
    return -1;
  }
  return fd;
}

int cu_rev(int argc, char **argv) {
  if (getopt(argc, argv, "") != -1) return cu_try_help(1);
  char *dash[] = {"-", NULL};
  char **ops = optind < argc ? argv + optind : dash;
  int nops = optind < argc ? argc - optind : 1, status = 0;
  for (int i = 0; i < nops; ++i) {
    int fd = optind < argc ? open_plain(ops[i]) : STDIN_FILENO;
    if (fd < 0) {
      fprintf(stderr, "rev: cannot open %s: %s\n", ops[i], cu_strerror(errno));
      status = 1;
      continue;
    }
    struct cu_reader r;
    cu_reader_init(&r, fd);
    if (rev_one(&r, ops[i]) != 0) status = 1;
    cu_reader_free(&r);
    cu_close_input(fd);
  }
  return status;
}

// --- paste ----------------------------------------------------------------------------------

// GNU's delimiter list: \n \t \\ \0 (no delimiter) escapes; cycles through the list.
static size_t paste_delims(const char *s, char *out, int *empty) {
  size_t n = 0;
  for (; *s; ++s) {
    int e = 0;
    char c = *s;
    if (c == '\\' && s[1]) {
      ++s;
      switch (*s) {
        case 'n': c = '\n'; break;
        case 't': c = '\t'; break;
        case '0': e = 1; break;
        case 'b': c = '\b'; break;
        case 'f': c = '\f'; break;
        case 'r': c = '\r'; break;
        case 'v': c = '\v'; break;
        default: c = *s; break;
      }
    }
    out[n] = c;
    empty[n++] = e;
  }
  return n;
}

int cu_paste(int argc, char **argv) {
  static const struct option longopts[] = {{"delimiters", required_argument, 0, 'd'},
                                           {"serial", no_argument, 0, 's'},
                                           {"zero-terminated", no_argument, 0, 'z'},
                                           {0, 0, 0, 0}};
  const char *dl = "\t";
  int serial = 0, eol = '\n', c;
  while ((c = getopt_long(argc, argv, "d:sz", longopts, NULL)) != -1) {
    switch (c) {
      case 'd': dl = optarg; break;
      case 's': serial = 1; break;
      case 'z': eol = '\0'; break;
      default: return cu_try_help(1);
    }
  }
  size_t dlen = strlen(dl);
  char *delims = cu_xmalloc(dlen + 1);
  int *empty = cu_xmalloc((dlen + 1) * sizeof(int));
  size_t nd = paste_delims(dl, delims, empty);
  if (nd == 0) {  // -d '': no delimiter at all
    delims[0] = 0;
    empty[0] = 1;
    nd = 1;
  }
  char *dash[] = {"-", NULL};
  char **ops = optind < argc ? argv + optind : dash;
  int nops = optind < argc ? argc - optind : 1;
  struct cu_reader *rs = cu_xmalloc((size_t)nops * sizeof(struct cu_reader));
  int *open_ok = cu_xmalloc((size_t)nops * sizeof(int));
  struct cu_reader *stdin_reader = NULL;
  for (int i = 0; i < nops; ++i) {
    int fd = cu_open_input(ops[i]);
    if (fd < 0) {
      cu_err(NULL, ops[i], errno);
      return 1;
    }
    cu_reader_init(&rs[i], fd);
    open_ok[i] = 1;
  }
  int status = 0;
  if (serial) {
    for (int i = 0; i < nops; ++i) {
      char *p;
      size_t n, k = 0;
      int had, got, first = 1;
      while ((got = cu_reader_next(&rs[i], eol, &p, &n, &had)) > 0) {
        if (!first) {
          if (!empty[k]) putchar(delims[k]);
          k = (k + 1) % nd;
        }
        first = 0;
        cu_out(p, n);
      }
      if (got < 0) {
        cu_err(NULL, ops[i], errno);
        status = 1;
      }
      putchar(eol);
    }
  } else {
    // Several "-" operands share stdin: each reads the next line in turn.
    for (int i = 0; i < nops; ++i) {
      if (strcmp(ops[i], "-") == 0) {
        if (stdin_reader == NULL) stdin_reader = &rs[i];
      }
    }
    int *done = cu_xmalloc((size_t)nops * sizeof(int));
    memset(done, 0, (size_t)nops * sizeof(int));
    char *row = NULL;
    size_t rlen = 0, rcap = 0;
    for (;;) {
      // A row is printed unless every input has ended; an ended input is an empty field.
      int any = 0;
      size_t k = 0;
      rlen = 0;
      for (int i = 0; i < nops; ++i) {
        char *p = NULL;
        size_t n = 0;
        int had, got = 0;
        if (!done[i]) {
          got = cu_reader_next(strcmp(ops[i], "-") == 0 ? stdin_reader : &rs[i], eol, &p, &n, &had);
          if (got < 0) {
            cu_err(NULL, ops[i], errno);
            status = 1;
          }
          if (got <= 0) done[i] = 1;
        }
        if (rlen + n + 1 > rcap) {
          rcap = (rlen + n + 1) * 2;
          row = cu_xrealloc(row, rcap);
        }
        if (got > 0) {
          any = 1;
          memcpy(row + rlen, p, n);
          rlen += n;
        }
        if (i + 1 < nops) {
          if (!empty[k]) row[rlen++] = delims[k];
          k = (k + 1) % nd;
        }
      }
      if (!any) break;
      cu_out(row, rlen);
      putchar(eol);
    }
    free(row);
    free(done);
  }
  for (int i = 0; i < nops; ++i) {
    if (open_ok[i]) {
      cu_close_input(rs[i].fd);
      cu_reader_free(&rs[i]);
    }
  }
  return status;
}

// --- comm -----------------------------------------------------------------------------------

struct comm_in {
  struct cu_reader r;
  char *prev;
  size_t prev_len, prev_cap;
  char *p;
  size_t n;
  int have, warned;
};

static int bytes_cmp(const char *a, size_t al, const char *b, size_t bl) {
  int c = memcmp(a, b, al < bl ? al : bl);
  if (c) return c < 0 ? -1 : 1;
  return (al > bl) - (al < bl);
}

int cu_comm(int argc, char **argv) {
  enum { OPT_CHECK = 256, OPT_NOCHECK, OPT_DELIM, OPT_TOTAL };
  static const struct option longopts[] = {{"check-order", no_argument, 0, OPT_CHECK},
                                           {"nocheck-order", no_argument, 0, OPT_NOCHECK},
                                           {"output-delimiter", required_argument, 0, OPT_DELIM},
                                           {"total", no_argument, 0, OPT_TOTAL},
                                           {"zero-terminated", no_argument, 0, 'z'},
                                           {0, 0, 0, 0}};
  int show[4] = {0, 1, 1, 1}, check = 0, eol = '\n', c;  // check: 0 default, 1 on, -1 off
  const char *sep = "\t";
  while ((c = getopt_long(argc, argv, "123z", longopts, NULL)) != -1) {
    switch (c) {
      case '1': case '2': case '3': show[c - '0'] = 0; break;
      case 'z': eol = '\0'; break;
      case OPT_CHECK: check = 1; break;
      case OPT_NOCHECK: check = -1; break;
      case OPT_DELIM: sep = optarg[0] ? optarg : ""; break;
      case OPT_TOTAL:
        cu_errx("--total is not supported by this comm (wasmcap coreutils)");
        return cu_try_help(1);
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
  size_t seplen = sep[0] ? strlen(sep) : 1;  // an empty delimiter is a NUL byte, as GNU's
  struct comm_in in[2];
  memset(in, 0, sizeof(in));
  for (int i = 0; i < 2; ++i) {
    int fd = cu_open_input(argv[optind + i]);
    if (fd < 0) {
      cu_err(NULL, argv[optind + i], errno);
      return 1;
    }
    cu_reader_init(&in[i].r, fd);
  }
  int seen_unpairable = 0, had;
  for (int i = 0; i < 2; ++i) in[i].have = cu_reader_next(&in[i].r, eol, &in[i].p, &in[i].n, &had) > 0;
  while (in[0].have || in[1].have) {
    int order = !in[0].have ? 1 : !in[1].have ? -1 : bytes_cmp(in[0].p, in[0].n, in[1].p, in[1].n);
    int col = order == 0 ? 3 : order < 0 ? 1 : 2;
    const struct comm_in *src = order <= 0 ? &in[0] : &in[1];
    if (order != 0) seen_unpairable = 1;
    if (show[col]) {
      if (col >= 2 && show[1]) cu_out(sep, seplen);
      if (col == 3 && show[2]) cu_out(sep, seplen);
      cu_out(src->p, src->n);
      putchar(eol);
    }
    for (int i = 0; i < 2; ++i) {
      if (!((i == 0 && order <= 0) || (i == 1 && order >= 0))) continue;
      struct comm_in *f = &in[i];
      if (f->n > f->prev_cap) {
        f->prev_cap = f->n;
        f->prev = cu_xrealloc(f->prev, f->prev_cap);
      }
      memcpy(f->prev, f->p, f->n);
      f->prev_len = f->n;
      f->have = cu_reader_next(&f->r, eol, &f->p, &f->n, &had) > 0;
      if (f->have && check >= 0 && (check == 1 || seen_unpairable) && !f->warned &&
          bytes_cmp(f->prev, f->prev_len, f->p, f->n) > 0) {
        cu_errx("file %d is not in sorted order", i + 1);
        if (check == 1) return 1;
        f->warned = 1;
      }
    }
  }
  for (int i = 0; i < 2; ++i) {
    cu_close_input(in[i].r.fd);
    cu_reader_free(&in[i].r);
    free(in[i].prev);
  }
  if (in[0].warned || in[1].warned) {
    cu_errx("input is not in sorted order");
    return 1;
  }
  return 0;
}

// Line filters: uniq.
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

// "Try 'PROG --help' ..." after a usage error, GNU's second line.
static int usage_status(int status) {
  fprintf(stderr, "Try '%s --help' for more information.\n", cu_prog);
  return status;
}

// Parses a non-negative count (GNU's xstrtoumax: digits only here); SIZE_MAX when too large.
static int parse_size_arg(const char *s, size_t *out) {
  if (!isdigit((unsigned char)*s)) return -1;
  unsigned long long v = 0;
  int over = 0;
  for (; isdigit((unsigned char)*s); ++s) {
    if (v > (ULLONG_MAX - 9) / 10) over = 1;
    v = v * 10 + (unsigned long long)(*s - '0');
  }
  if (*s) return -1;
  *out = over || v > SIZE_MAX ? SIZE_MAX : (size_t)v;
  return 0;
}

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
  // The obsolete -N (skip N fields) becomes -f N.
  char **v = cu_xmalloc((size_t)(argc + 1) * 2 * sizeof(char *));
  int vc = 0;
  for (int i = 0; i < argc; ++i) {
    const char *a = argv[i];
    if (i > 0 && a[0] == '-' && isdigit((unsigned char)a[1]) && strspn(a + 1, "0123456789") == strlen(a + 1)) {
      v[vc++] = "-f";
      v[vc++] = (char *)a + 1;
    } else {
      v[vc++] = argv[i];
      if (strcmp(a, "--") == 0) {
        for (++i; i < argc; ++i) v[vc++] = argv[i];
      }
    }
  }
  v[vc] = NULL;
  argc = vc;
  argv = v;
  int count = 0, only_dup = 0, only_uniq = 0, all_dup = 0, delim = '\n', c;
  while ((c = getopt_long(argc, argv, "cdDf:is:uw:z", longopts, NULL)) != -1) {
    switch (c) {
      case 'c': count = 1; break;
      case 'd': only_dup = 1; break;
      case 'D':
        if (optarg && strcmp(optarg, "none") != 0) {
          fprintf(stderr, "uniq: --all-repeated=%s is not supported by this uniq (wasmcap coreutils)\n", optarg);
          return usage_status(1);
        }
        all_dup = 1;
        break;
      case 'f':
      case 's':
      case 'w': {
        size_t n;
        if (parse_size_arg(optarg, &n) != 0) {
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
        return usage_status(1);
      default: return usage_status(1);
    }
  }
  int nops = argc - optind;
  if (nops > 2) {
    fprintf(stderr, "uniq: extra operand '%s'\n", argv[optind + 2]);
    return usage_status(1);
  }
  if (all_dup && count) {
    fputs("uniq: printing all duplicated lines and repeat counts is meaningless\n", stderr);
    return usage_status(1);
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


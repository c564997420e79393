// cut and tr: byte-oriented, as GNU's in the C locale.
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cu.h"

// --- cut ------------------------------------------------------------------------------------

struct range {
  size_t lo, hi;  // 1-based, inclusive; hi SIZE_MAX: to the end
};

static struct range *c_ranges;
static size_t c_nranges;

static int cmp_range(const void *a, const void *b) {
  const struct range *x = a, *y = b;
  return x->lo < y->lo ? -1 : x->lo > y->lo;
}

// GNU's list syntax: N, N-M, N-, -M separated by commas or blanks. Returns 0, or prints the
// error and returns -1.
static int parse_list(const char *s, int fields) {
  const char *unit = fields ? "fields are numbered from 1" : "byte/character positions are numbered from 1";
  const char *p = s;
  for (;;) {
    size_t lo = 0, hi = 0;
    int have_lo = 0, have_hi = 0, dash = 0;
    const char *start = p;
    while (*p && *p != ',' && *p != ' ' && *p != '\t') {
      if (*p == '-') {
        if (dash) {
          cu_errx("%s", fields ? "invalid field range" : "invalid byte or character range");
          return -1;
        }
        dash = 1;
        ++p;
        continue;
      }
      if (!isdigit((unsigned char)*p)) {
        size_t n = strcspn(start, ", \t");
        cu_errx("invalid %s '%.*s'", fields ? "field value" : "byte/character position", (int)n, start);
        return -1;
      }
      const char *d = p;
      unsigned long long v = 0;
      int over = 0;
      while (isdigit((unsigned char)*p)) {
        if (v > (ULLONG_MAX - 9) / 10) over = 1;
        v = v * 10 + (unsigned long long)(*p++ - '0');
      }
      if (over || v >= SIZE_MAX) {
        cu_errx("%s '%.*s' is too large", fields ? "field number" : "byte/character offset", (int)(p - d), d);
        return -1;
      }
      if (!dash) {
        lo = (size_t)v;
        have_lo = 1;
      } else {
        hi = (size_t)v;
        have_hi = 1;
      }
    }
    if (!dash) {
      if (!have_lo || lo == 0) {
        cu_errx("%s", unit);
        return -1;
      }
      hi = lo;
    } else {
      if (!have_lo && !have_hi) {
        cu_errx("invalid range with no endpoint: -");
        return -1;
      }
      if (!have_lo) lo = 1;
      if (have_lo && lo == 0) {
        cu_errx("%s", unit);
        return -1;
      }
      if (!have_hi) hi = SIZE_MAX;
      if (have_hi && hi == 0) {
        cu_errx("%s", unit);
        return -1;
      }
      if (hi < lo) {
        cu_errx("invalid decreasing range");
        return -1;
      }
    }
    c_ranges = cu_xrealloc(c_ranges, (c_nranges + 1) * sizeof(struct range));
    c_ranges[c_nranges].lo = lo;
    c_ranges[c_nranges++].hi = hi;
    if (*p == '\0') break;
    ++p;
  }
  // Sorted; overlapping ranges merged (adjacent ones stay apart: --output-delimiter shows it).
  qsort(c_ranges, c_nranges, sizeof(struct range), cmp_range);
  size_t o = 0;
  for (size_t i = 0; i < c_nranges; ++i) {
    if (o > 0 && c_ranges[i].lo <= c_ranges[o - 1].hi) {
      if (c_ranges[i].hi > c_ranges[o - 1].hi) c_ranges[o - 1].hi = c_ranges[i].hi;
    } else {
      c_ranges[o++] = c_ranges[i];
    }
  }
  c_nranges = o;
  return 0;
}

static void complement_ranges(void) {
  struct range *v = cu_xmalloc((c_nranges + 1) * sizeof(struct range));
  size_t o = 0, next = 1;
  for (size_t i = 0; i < c_nranges; ++i) {
    if (c_ranges[i].lo > next) {
      v[o].lo = next;
      v[o++].hi = c_ranges[i].lo - 1;
    }
    next = c_ranges[i].hi == SIZE_MAX ? SIZE_MAX : c_ranges[i].hi + 1;
  }
  if (next != SIZE_MAX) {
    v[o].lo = next;
    v[o++].hi = SIZE_MAX;
  }
  free(c_ranges);
  c_ranges = v;
  c_nranges = o;
}

// Is position I (1-based, increasing per line) selected? *cur walks the ranges; *start is set
// when I begins a range.
static int selected(size_t i, size_t *cur, int *start) {
  while (*cur < c_nranges && c_ranges[*cur].hi < i) ++*cur;
  if (*cur == c_nranges || c_ranges[*cur].lo > i) return 0;
  *start = c_ranges[*cur].lo == i;
  return 1;
}

int cu_cut(int argc, char **argv) {
  enum { OPT_COMPLEMENT = 256, OPT_OUTDELIM };
  static const struct option longopts[] = {
      {"bytes", required_argument, 0, 'b'},      {"characters", required_argument, 0, 'c'},
      {"fields", required_argument, 0, 'f'},     {"delimiter", required_argument, 0, 'd'},
      {"only-delimited", no_argument, 0, 's'},   {"complement", no_argument, 0, OPT_COMPLEMENT},
      {"output-delimiter", required_argument, 0, OPT_OUTDELIM},
      {"zero-terminated", no_argument, 0, 'z'},  {0, 0, 0, 0}};
  int mode = 0, c, complement = 0, only_delim = 0, delim_given = 0, eol = '\n';
  unsigned char delim = '\t';
  const char *list = NULL, *outdelim = NULL;
  while ((c = getopt_long(argc, argv, "b:c:f:d:nsz", longopts, NULL)) != -1) {
    switch (c) {
      case 'b':
      case 'c':
      case 'f':
        if (mode) {
          cu_errx("only one list may be specified");
          return cu_try_help(1);
        }
        mode = c == 'f' ? 'f' : 'b';
        list = optarg;
        break;
      case 'd':
        if (optarg[0] && optarg[1]) {
          cu_errx("the delimiter must be a single character");
          return cu_try_help(1);
        }
        delim = (unsigned char)optarg[0];
        delim_given = 1;
        break;
      case 'n': break;
      case 's': only_delim = 1; break;
      case 'z': eol = '\0'; break;
      case OPT_COMPLEMENT: complement = 1; break;
      case OPT_OUTDELIM: outdelim = optarg; break;
      default: return cu_try_help(1);
    }
  }
  if (!mode) {
    cu_errx("you must specify a list of bytes, characters, or fields");
    return cu_try_help(1);
  }
  if (mode == 'b' && delim_given) {
    cu_errx("an input delimiter may be specified only when operating on fields");
    return cu_try_help(1);
  }
  if (mode == 'b' && only_delim) {
    cu_errx("suppressing non-delimited lines makes sense\n\tonly when operating on fields");
    return cu_try_help(1);
  }
  if (parse_list(list, mode == 'f') != 0) return cu_try_help(1);
  if (complement) complement_ranges();
  char dstr[1] = {(char)delim};
  const char *od = outdelim ? outdelim : dstr;
  size_t odlen = outdelim ? strlen(outdelim) : 1;
  if (outdelim && odlen == 0) {  // GNU: an empty output delimiter is a NUL byte
    od = "";
    odlen = 1;
  }
  char *dash[] = {"-", NULL};
  char **ops = optind < argc ? argv + optind : dash;
  int nops = optind < argc ? argc - optind : 1;
  int status = 0;
  for (int f = 0; f < nops; ++f) {
    int fd = cu_open_input(ops[f]);
    if (fd < 0) {
      cu_err(NULL, ops[f], errno);
      status = 1;
      continue;
    }
    struct cu_reader r;
    cu_reader_init(&r, fd);
    char *p;
    size_t n;
    int had, got;
    while ((got = cu_reader_next(&r, eol, &p, &n, &had)) > 0) {
      size_t cur = 0;
      int start = 0, printed = 0;
      if (mode == 'b') {
        for (size_t i = 0; i < n; ++i) {
          if (!selected(i + 1, &cur, &start)) {
            if (cur == c_nranges) break;
            continue;
          }
          if (outdelim && printed && start) cu_out(od, odlen);
          putchar(p[i]);
          printed = 1;
        }
        putchar(eol);
        continue;
      }
      const char *d = memchr(p, delim, n);
      if (d == NULL) {
        if (!only_delim) {
          cu_out(p, n);
          putchar(eol);
        }
        continue;
      }
      size_t field = 1, i = 0;
      for (;;) {
        const char *e = memchr(p + i, delim, n - i);
        size_t end = e ? (size_t)(e - p) : n;
        if (selected(field, &cur, &start)) {
          if (printed) cu_out(od, odlen);
          cu_out(p + i, end - i);
          printed = 1;
        } else if (cur == c_nranges) {
          break;
        }
        if (e == NULL) break;
        i = end + 1;
        ++field;
      }
      putchar(eol);
    }
    if (cu_end_input(&r, fd, got, ops[f]) != 0) status = 1;
  }
  return status;
}

// --- tr -------------------------------------------------------------------------------------

// An expanded set: the bytes in order, and for SET1 where each [:upper:]/[:lower:] begins.
struct set {
  unsigned char *v;
  size_t n, cap;
  int has_class, has_other_class;  // upper/lower; any other class
  size_t *case_at;                  // positions where an upper/lower class starts
  char *case_kind;                  // 'u' or 'l'
  size_t ncase;
  long repeat_at;                   // SET2: index of a [c*] fill, -1 if none
  int ends_class;                   // the last item was a character class
  int has_equiv;                    // a [=c=] appeared
};

static void set_push(struct set *s, unsigned char c) {
  if (s->n == s->cap) {
    s->cap = s->cap ? s->cap * 2 : 64;
    s->v = cu_xrealloc(s->v, s->cap);
  }
  s->v[s->n++] = c;
}

static int class_has(const char *name, int c) {
  if (strcmp(name, "alnum") == 0) return isalnum(c);
  if (strcmp(name, "alpha") == 0) return isalpha(c);
  if (strcmp(name, "blank") == 0) return c == ' ' || c == '\t';
  if (strcmp(name, "cntrl") == 0) return iscntrl(c);
  if (strcmp(name, "digit") == 0) return isdigit(c);
  if (strcmp(name, "graph") == 0) return isgraph(c);
  if (strcmp(name, "lower") == 0) return islower(c);
  if (strcmp(name, "print") == 0) return isprint(c);
  if (strcmp(name, "punct") == 0) return ispunct(c);
  if (strcmp(name, "space") == 0) return isspace(c);
  if (strcmp(name, "upper") == 0) return isupper(c);
  if (strcmp(name, "xdigit") == 0) return isxdigit(c);
  return -1;
}

// One possibly escaped byte at s[*i]; advances *i.
static unsigned char tr_char(const char *s, size_t len, size_t *i) {
  unsigned char c = (unsigned char)s[*i];
  if (c != '\\') {
    ++*i;
    return c;
  }
  if (*i + 1 == len) {
    cu_errx("warning: an unescaped backslash at end of string is not portable");
    ++*i;
    return '\\';
  }
  c = (unsigned char)s[*i + 1];
  *i += 2;
  switch (c) {
    case 'a': return '\a';
    case 'b': return '\b';
    case 'f': return '\f';
    case 'n': return '\n';
    case 'r': return '\r';
    case 't': return '\t';
    case 'v': return '\v';
    default: break;
  }
  if (c >= '0' && c <= '7') {
    unsigned v = c - '0';
    for (int k = 0; k < 2 && *i < len && s[*i] >= '0' && s[*i] <= '7'; ++k) {
      unsigned w = v * 8 + (unsigned)(s[*i] - '0');
      if (w > 0377) {
        cu_errx("warning: the ambiguous octal escape \\%o%c is being\n\tinterpreted as the 2-byte "
                "sequence \\0%o, %c", v, s[*i], v, s[*i]);
        break;
      }
      v = w;
      ++*i;
    }
    return (unsigned char)v;
  }
  return c;
}

// Expands a tr string. Returns 0, or prints the error and returns -1.
static int parse_set(const char *s, struct set *out, int is_set2) {
  memset(out, 0, sizeof(*out));
  out->repeat_at = -1;
  size_t len = strlen(s), i = 0;
  while (i < len) {
    out->ends_class = 0;
    if (s[i] == '[' && i + 1 < len && (s[i + 1] == ':' || s[i + 1] == '=')) {
      char kind = s[i + 1];
      const char *close = NULL;
      for (size_t j = i + 2; j + 1 < len; ++j) {
        if (s[j] == kind && s[j + 1] == ']') {
          close = s + j;
          break;
        }
      }
      if (close != NULL && kind == ':') {
        size_t nlen = (size_t)(close - (s + i + 2));
        char name[16];
        if (nlen == 0) {
          cu_errx("missing character class name '[::]'");
          return -1;
        }
        if (nlen >= sizeof(name)) {
          cu_errx("invalid character class '%.*s'", (int)nlen, s + i + 2);
          return -1;
        }
        memcpy(name, s + i + 2, nlen);
        name[nlen] = '\0';
        if (class_has(name, 'a') < 0) {
          cu_errx("invalid character class '%s'", name);
          return -1;
        }
        int is_case = strcmp(name, "upper") == 0 || strcmp(name, "lower") == 0;
        if (is_case) {
          out->case_at = cu_xrealloc(out->case_at, (out->ncase + 1) * sizeof(size_t));
          out->case_kind = cu_xrealloc(out->case_kind, out->ncase + 1);
          out->case_at[out->ncase] = out->n;
          out->case_kind[out->ncase++] = name[0];
          out->has_class = 1;
        } else {
          out->has_other_class = 1;
        }
        for (int c = 0; c < 256; ++c) {
          if (class_has(name, c)) set_push(out, (unsigned char)c);
        }
        i = (size_t)(close - s) + 2;
        out->ends_class = 1;
        continue;
      }
      if (close != NULL && kind == '=') {
        size_t k = i + 2;
        if (s + k == close) {
          cu_errx("missing equivalence class character '[==]'");
          return -1;
        }
        unsigned char c = tr_char(s, len, &k);
        if (s + k != close) {
          cu_errx("%.*s: equivalence class operand must be a single character",
                  (int)(close - (s + i + 2)), s + i + 2);
          return -1;
        }
        set_push(out, c);
        out->has_equiv = 1;
        i = (size_t)(close - s) + 2;
        continue;
      }
    }
    if (s[i] == '[' && i + 1 < len) {  // [c*n] / [c*]
      size_t k = i + 1;
      unsigned char c = tr_char(s, len, &k);
      if (k < len && s[k] == '*') {
        size_t e = k + 1;
        while (e < len && isdigit((unsigned char)s[e])) ++e;
        if (e < len && s[e] == ']') {
          size_t count = 0;
          int octal = s[k + 1] == '0';
          for (size_t d = k + 1; d < e; ++d) {
            if (octal && s[d] > '7') {
              cu_errx("invalid repeat count '%.*s' in [c*n] construct", (int)(e - k - 1), s + k + 1);
              return -1;
            }
            count = count * (octal ? 8 : 10) + (size_t)(s[d] - '0');
            if (count > (1 << 20)) {
              cu_errx("repeat count too large for this tr (wasmcap coreutils)");
              return -1;
            }
          }
          if (count == 0) {
            if (!is_set2) {
              cu_errx("the [c*] repeat construct may not appear in string1");
              return -1;
            }
            if (out->repeat_at >= 0) {
              cu_errx("only one [c*] repeat construct may appear in string2");
              return -1;
            }
            out->repeat_at = (long)out->n;
            set_push(out, c);  // placeholder: filled later
          } else {
            for (size_t t = 0; t < count; ++t) set_push(out, c);
          }
          i = e + 1;
          continue;
        }
      }
    }
    unsigned char c = tr_char(s, len, &i);
    if (i + 1 < len && s[i] == '-') {
      size_t k = i + 1;
      unsigned char hi = tr_char(s, len, &k);
      if (hi < c) {
        cu_errx("range-endpoints of '%.*s' are in reverse collating sequence order", (int)(k - (i - 1)), s + i - 1);
        return -1;
      }
      for (int x = c; x <= hi; ++x) set_push(out, (unsigned char)x);
      i = k;
      continue;
    }
    set_push(out, c);
  }
  return 0;
}

int cu_tr(int argc, char **argv) {
  static const struct option longopts[] = {
      {"complement", no_argument, 0, 'c'}, {"delete", no_argument, 0, 'd'},
      {"squeeze-repeats", no_argument, 0, 's'}, {"truncate-set1", no_argument, 0, 't'},
      {0, 0, 0, 0}};
  int comp = 0, del = 0, squeeze = 0, trunc = 0, c;
  while ((c = getopt_long(argc, argv, "+cCdst", longopts, NULL)) != -1) {
    switch (c) {
      case 'c': case 'C': comp = 1; break;
      case 'd': del = 1; break;
      case 's': squeeze = 1; break;
      case 't': trunc = 1; break;
      default: return cu_try_help(1);
    }
  }
  int nops = argc - optind;
  int need = (del && squeeze) || (!del && !squeeze) ? 2 : 1;
  if (nops < 1) {
    cu_errx("missing operand");
    return cu_try_help(1);
  }
  if (nops < need) {
    cu_errx("missing operand after '%s'", argv[optind]);
    fputs(squeeze ? "Two strings must be given when both deleting and squeezing repeats.\n"
                  : "Two strings must be given when translating.\n", stderr);
    return cu_try_help(1);
  }
  if (nops > need && !(squeeze && !del && nops == 2)) {
    cu_errx("extra operand '%s'", argv[optind + need]);
    if (del && !squeeze) fputs("Only one string may be given when deleting without squeezing repeats.\n", stderr);
    return cu_try_help(1);
  }
  int translate = !del && nops == 2;
  struct set s1, s2;
  memset(&s2, 0, sizeof(s2));
  if (parse_set(argv[optind], &s1, 0) != 0) return 1;
  if (nops == 2 && parse_set(argv[optind + 1], &s2, 1) != 0) return 1;
  unsigned char in1[256] = {0};
  for (size_t i = 0; i < s1.n; ++i) in1[s1.v[i]] = 1;
  if (comp) {
    s1.n = 0;
    for (int x = 0; x < 256; ++x) {
      if (!in1[x]) set_push(&s1, (unsigned char)x);
    }
    for (int x = 0; x < 256; ++x) in1[x] = !in1[x];
  }
  unsigned char map[256];
  for (int x = 0; x < 256; ++x) map[x] = (unsigned char)x;
  if (nops == 2 && !translate && s2.repeat_at >= 0) {
    cu_errx("the [c*] construct may appear in string2 only when translating");
    return 1;
  }
  if (translate) {
    if (s2.has_equiv) {
      cu_errx("[=c=] expressions may not appear in string2 when translating");
      return 1;
    }
    if (s2.has_other_class) {
      cu_errx("when translating, the only character classes that may appear in\nstring2 are 'upper' and 'lower'");
      return 1;
    }
    if (s2.ends_class && s1.n > s2.n && !trunc) {
      cu_errx("when translating with string1 longer than string2,\nthe latter string must not end "
              "with a character class");
      return 1;
    }
    if (comp && (s1.has_class || s1.has_other_class)) {
      for (size_t i = 1; i < s2.n; ++i) {
        if (s2.v[i] != s2.v[0]) {
          cu_errx("when translating with complemented character classes,\nstring2 must map all "
                  "characters in the domain to one");
          return 1;
        }
      }
    }
    for (size_t k = 0; k < s2.ncase; ++k) {  // a case class in SET2 must face one in SET1
      int ok = 0;
      for (size_t j = 0; j < s1.ncase && !comp; ++j) ok |= s1.case_at[j] == s2.case_at[k];
      if (!ok) {
        cu_errx("misaligned [:upper:] and/or [:lower:] construct");
        return 1;
      }
    }
    if (s2.repeat_at >= 0) {  // [c*] fills SET2 up to SET1's length
      size_t fill = s1.n > s2.n - 1 ? s1.n - (s2.n - 1) : 0;
      unsigned char ch = s2.v[s2.repeat_at];
      size_t tail = s2.n - (size_t)s2.repeat_at - 1;
      struct set t = s2;
      t.v = NULL;
      t.n = t.cap = 0;
      for (long i = 0; i < s2.repeat_at; ++i) set_push(&t, s2.v[i]);
      for (size_t i = 0; i < fill; ++i) set_push(&t, ch);
      for (size_t i = 0; i < tail; ++i) set_push(&t, s2.v[s2.repeat_at + 1 + (long)i]);
      free(s2.v);
      s2.v = t.v;
      s2.n = t.n;
      s2.cap = t.cap;
    }
    if (s2.n == 0 && !trunc && s1.n > 0) {
      cu_errx("when not truncating set1, string2 must be non-empty");
      return 1;
    }
    size_t n1 = trunc && s2.n < s1.n ? s2.n : s1.n;
    for (size_t i = 0; i < n1; ++i) map[s1.v[i]] = s2.v[i < s2.n ? i : s2.n - 1];
  }
  unsigned char sq[256] = {0};
  if (squeeze) {
    if (nops == 2) {
      for (size_t i = 0; i < s2.n; ++i) sq[s2.v[i]] = 1;
    } else {
      memcpy(sq, in1, sizeof(sq));
    }
  }
  static char buf[1 << 16], obuf[1 << 16];
  int last = -1;
  for (;;) {
    ssize_t r = read(STDIN_FILENO, buf, sizeof(buf));
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) {
      cu_errx("read error: %s", cu_strerror(errno));
      return 1;
    }
    if (r == 0) break;
    size_t o = 0;
    for (ssize_t i = 0; i < r; ++i) {
      unsigned char ch = (unsigned char)buf[i];
      if (del && in1[ch]) continue;
      ch = map[ch];
      if (squeeze && sq[ch] && last == ch) continue;
      last = ch;
      obuf[o++] = (char)ch;
    }
    cu_out(obuf, o);
  }
  return 0;
}

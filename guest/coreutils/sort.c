// sort: GNU sort's orderings in the C locale (README.md lists options and refusals).
//
// All input is held in memory (there are no temporary files in the sandbox): every byte held
// (the input, the line table, the merge buffer) is charged against a limit, 1 GiB or -S SIZE,
// and the sort stops with status 2 and a message past it; allocation failure (the run's
// --max-memory-mb) is the same clean error. The sort is a stable merge sort; unless -s or -u,
// lines whose keys compare equal are ordered by the whole line (GNU's last-resort comparison).
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cu.h"

#define SORT_FAILURE 2

struct key {
  size_t sword, schar, eword, echar;  // 0-based; sword SIZE_MAX: the line's start, eword: end
  int skipsblanks, skipeblanks;
  const unsigned char *ignore;  // a byte table or NULL
  int translate;                // fold lowercase to uppercase
  int numeric, general, human, month, version, random, reverse;
};

struct line {
  const char *text;
  size_t len;         // without the delimiter
  size_t kbeg, klim;  // the first key, precomputed (offsets)
  uint64_t pfx[2];    // the line's first 16 bytes, big-endian, zero-padded (line_cmp)
};

static unsigned char blanks[256], nonprinting[256], nondict[256];
static struct key *keys;
static size_t nkeys;
static int tab = -1;  // -1: fields are separated by runs of blanks
static int opt_unique, opt_stable, opt_reverse;
static size_t held, limit = (size_t)1 << 30;

static void die(const char *fmt, const char *a, const char *b) {
  fprintf(stderr, "sort: ");
  fprintf(stderr, fmt, a, b);
  fputc('\n', stderr);
  exit(SORT_FAILURE);
}

// "sort: WHAT: NAME: REASON" with NAME quoted as GNU's messages do; exits 2.
static void die_file(const char *what, const char *name, int err) {
  fprintf(stderr, "sort: %s: ", what);
  cu_quote_name(stderr, name);
  fprintf(stderr, ": %s\n", cu_strerror(err));
  exit(SORT_FAILURE);
}

static void usage_error(void) {
  fputs("Try 'sort --help' for more information.\n", stderr);
  exit(SORT_FAILURE);
}

// Charges N more bytes held, or stops the sort.
static void charge(size_t n) {
  if (n > limit || held > limit - n) {
    fprintf(stderr,
            "sort: the input needs more than %zu bytes of memory (the limit; raise it with -S SIZE "
            "or sort less at once)\n", limit);
    exit(SORT_FAILURE);
  }
  held += n;
}

static void *xalloc(void *p, size_t n) {
  void *q = realloc(p, n ? n : 1);
  if (q == NULL) {
    fputs("sort: memory exhausted (the run's memory limit)\n", stderr);
    exit(SORT_FAILURE);
  }
  return q;
}

static void init_tables(void) {
  for (int i = 0; i < 256; ++i) {
    blanks[i] = i == ' ' || i == '\t' || i == '\n';
    nonprinting[i] = !(i >= 0x20 && i < 0x7f);
    nondict[i] = !isalnum(i) && !blanks[i];
  }
}

// --- fields ---------------------------------------------------------------------------------

static size_t begfield(const char *t, size_t len, const struct key *k) {
  size_t p = 0, sword = k->sword;
  if (tab >= 0) {
    while (p < len && sword--) {
      while (p < len && (unsigned char)t[p] != tab) ++p;
      if (p < len) ++p;
    }
  } else {
    while (p < len && sword--) {
      while (p < len && blanks[(unsigned char)t[p]]) ++p;
      while (p < len && !blanks[(unsigned char)t[p]]) ++p;
    }
  }
  if (k->skipsblanks) {
    while (p < len && blanks[(unsigned char)t[p]]) ++p;
  }
  return len - p < k->schar ? len : p + k->schar;
}

static size_t limfield(const char *t, size_t len, const struct key *k) {
  size_t p = 0, eword = k->eword, echar = k->echar;
  if (echar == 0) ++eword;  // the whole end field
  if (tab >= 0) {
    while (p < len && eword--) {
      while (p < len && (unsigned char)t[p] != tab) ++p;
      if (p < len && (eword || echar)) ++p;
    }
  } else {
    while (p < len && eword--) {
      while (p < len && blanks[(unsigned char)t[p]]) ++p;
      while (p < len && !blanks[(unsigned char)t[p]]) ++p;
    }
  }
  if (echar != 0) {
    if (k->skipeblanks) {
      while (p < len && blanks[(unsigned char)t[p]]) ++p;
    }
    p = len - p < echar ? len : p + echar;
  }
  return p;
}

static void key_span(const char *t, size_t len, const struct key *k, size_t *beg, size_t *lim) {
  *lim = k->eword == SIZE_MAX ? len : limfield(t, len, k);
  if (k->sword != SIZE_MAX) {
    *beg = begfield(t, len, k);
  } else {
    size_t p = 0;
    if (k->skipsblanks) {
      while (p < *lim && blanks[(unsigned char)t[p]]) ++p;
    }
    *beg = p;
  }
  if (*lim < *beg) *lim = *beg;  // a field end before its start is an empty field
}

// --- numbers --------------------------------------------------------------------------------

struct num {
  int neg;
  const char *ip, *fp;
  size_t il, fl;  // integer digits without leading zeros, fraction without trailing zeros
};

static void parse_num(const char *s, size_t n, struct num *o) {
  size_t i = 0;
  while (i < n && blanks[(unsigned char)s[i]]) ++i;
  o->neg = 0;
  if (i < n && s[i] == '-') {
    o->neg = 1;
    ++i;
  }
  while (i < n && s[i] == '0') ++i;
  size_t st = i;
  while (i < n && isdigit((unsigned char)s[i])) ++i;
  o->ip = s + st;
  o->il = i - st;
  o->fp = s + i;
  o->fl = 0;
  if (i < n && s[i] == '.') {
    st = ++i;
    while (i < n && isdigit((unsigned char)s[i])) ++i;
    while (i > st && s[i - 1] == '0') --i;
    o->fp = s + st;
    o->fl = i - st;
  }
  if (o->il == 0 && o->fl == 0) o->neg = 0;  // -0 is 0
}

static int numcompare(const char *a, size_t la, const char *b, size_t lb) {
  struct num x, y;
  parse_num(a, la, &x);
  parse_num(b, lb, &y);
  if (x.neg != y.neg) return x.neg ? -1 : 1;
  int c;
  if (x.il != y.il) {
    c = x.il < y.il ? -1 : 1;
  } else {
    c = memcmp(x.ip, y.ip, x.il);
    if (c == 0) {
      size_t m = x.fl < y.fl ? x.fl : y.fl;
      c = memcmp(x.fp, y.fp, m);
      if (c == 0) c = (x.fl > y.fl) - (x.fl < y.fl);
    }
    c = (c > 0) - (c < 0);
  }
  return x.neg ? -c : c;
}

// GNU's SI unit order of a -h number: its suffix letter, 0 for a zero value or none.
static int unit_order(const char *s, size_t n) {
  size_t i = 0;
  while (i < n && blanks[(unsigned char)s[i]]) ++i;
  int neg = i < n && s[i] == '-';
  i += (size_t)neg;
  int nonzero = 0;
  while (i < n && isdigit((unsigned char)s[i])) nonzero |= s[i++] != '0';
  if (i < n && s[i] == '.') {
    ++i;
    while (i < n && isdigit((unsigned char)s[i])) nonzero |= s[i++] != '0';
  }
  static const char units[] = "KMGTPEZY";
  int order = 0;
  if (i < n) {
    char ch = s[i] == 'k' ? 'K' : s[i];
    const char *u = ch ? strchr(units, ch) : NULL;
    if (u != NULL) order = (int)(u - units) + 1;
  }
  if (!nonzero) order = 0;
  return neg ? -order : order;
}

// GNU sort on x86-64 converts -g keys to the 80-bit extended format (64-bit significand);
// wasm's long double is IEEE quad. Rounding the quad to 64 significant bits gives the same
// comparisons (99999999999999999999 equals 1e20 in both).
static long double to_x87(long double v) {
  if (!isfinite(v) || v == 0) return v;
  int e;
  long double m = frexpl(v, &e);
  return ldexpl(rintl(ldexpl(m, 64)), e - 64);
}

static int general_numcompare(const char *a, const char *b) {
  char *ea, *eb;
  long double x = to_x87(strtold(a, &ea)), y = to_x87(strtold(b, &eb));
  if (ea == a) return eb == b ? 0 : -1;
  if (eb == b) return 1;
  if (x < y) return -1;
  if (x > y) return 1;
  if (x == y) return 0;
  if (y == y) return -1;  // NaNs before numbers
  if (x == x) return 1;
  int sx = __builtin_signbit(x) != 0, sy = __builtin_signbit(y) != 0;  // NaN, then -NaN (x86-64)
  return sx - sy;
}

static int getmonth(const char *s, size_t n) {
  static const char *months[] = {"JAN", "FEB", "MAR", "APR", "MAY", "JUN",
                                 "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"};
  size_t i = 0;
  while (i < n && blanks[(unsigned char)s[i]]) ++i;
  if (n - i < 3) return 0;
  for (int m = 0; m < 12; ++m) {
    if (toupper((unsigned char)s[i]) == months[m][0] && toupper((unsigned char)s[i + 1]) == months[m][1] &&
        toupper((unsigned char)s[i + 2]) == months[m][2]) {
      return m + 1;
    }
  }
  return 0;
}

// --- version order (Debian's version comparison with file suffixes, as GNU's filevercmp) ---

// Length of S without its longest suffix matching (\.[A-Za-z~][A-Za-z0-9~]*)*
static size_t file_prefixlen(const char *s, size_t n) {
  size_t prefixlen = 0;
  for (size_t i = 0; i < n;) {
    prefixlen = ++i;
    while (i + 1 < n && s[i] == '.' && (isalpha((unsigned char)s[i + 1]) || s[i + 1] == '~')) {
      for (i += 2; i < n && (isalnum((unsigned char)s[i]) || s[i] == '~'); ++i) {
      }
    }
  }
  return prefixlen;
}

static int vorder(const char *s, size_t pos, size_t len) {
  if (pos == len) return -1;
  unsigned char c = (unsigned char)s[pos];
  if (isdigit(c)) return 0;
  if (isalpha(c)) return c;
  if (c == '~') return -2;
  return c + 256;
}

static int verrevcmp(const char *a, size_t al, const char *b, size_t bl) {
  size_t i = 0, j = 0;
  while (i < al || j < bl) {
    int first_diff = 0;
    while ((i < al && !isdigit((unsigned char)a[i])) || (j < bl && !isdigit((unsigned char)b[j]))) {
      int x = vorder(a, i, al), y = vorder(b, j, bl);
      if (x != y) return x - y;
      ++i;
      ++j;
    }
    while (i < al && a[i] == '0') ++i;
    while (j < bl && b[j] == '0') ++j;
    while (i < al && j < bl && isdigit((unsigned char)a[i]) && isdigit((unsigned char)b[j])) {
      if (!first_diff) first_diff = (unsigned char)a[i] - (unsigned char)b[j];
      ++i;
      ++j;
    }
    if (i < al && isdigit((unsigned char)a[i])) return 1;
    if (j < bl && isdigit((unsigned char)b[j])) return -1;
    if (first_diff) return first_diff;
  }
  return 0;
}

static int versioncompare(const char *a, size_t al, const char *b, size_t bl) {
  if (al == 0) return bl == 0 ? 0 : -1;
  if (bl == 0) return 1;
  if (a[0] == '.') {
    if (b[0] != '.') return -1;
    int adot = al == 1, bdot = bl == 1;
    if (adot) return bdot ? 0 : -1;
    if (bdot) return 1;
    int add = a[1] == '.' && al == 2, bdd = b[1] == '.' && bl == 2;
    if (add) return bdd ? 0 : -1;
    if (bdd) return 1;
  } else if (b[0] == '.') {
    return 1;
  }
  size_t ap = file_prefixlen(a, al), bp = file_prefixlen(b, bl);
  int r = verrevcmp(a, ap, b, bp);
  if (r || (ap == al && bp == bl)) return r;
  return verrevcmp(a, al, b, bl);
}

// --- comparison -----------------------------------------------------------------------------

static char *copy_a, *copy_b;  // translated / filtered keys (sized for the longest line)

static size_t filter_copy(char *dst, const char *s, size_t n, const struct key *k) {
  size_t o = 0;
  for (size_t i = 0; i < n; ++i) {
    unsigned char c = (unsigned char)s[i];
    if (k->ignore && k->ignore[c]) continue;
    dst[o++] = (char)(k->translate ? toupper(c) : c);
  }
  dst[o] = '\0';
  return o;
}

static int compare_key(const struct key *k, const char *ta, size_t la, const char *tb, size_t lb) {
  int diff;
  if (k->numeric || k->general || k->human || k->month || k->version) {
    if (k->ignore || k->translate || k->general) {
      la = filter_copy(copy_a, ta, la, k);
      lb = filter_copy(copy_b, tb, lb, k);
      ta = copy_a;
      tb = copy_b;
    }
    if (k->numeric) {
      diff = numcompare(ta, la, tb, lb);
    } else if (k->general) {
      diff = general_numcompare(ta, tb);
    } else if (k->human) {
      diff = unit_order(ta, la) - unit_order(tb, lb);
      if (!diff) diff = numcompare(ta, la, tb, lb);
    } else if (k->month) {
      diff = getmonth(ta, la) - getmonth(tb, lb);
    } else {
      diff = versioncompare(ta, la, tb, lb);
    }
  } else if (k->ignore) {
    size_t i = 0, j = 0;
    for (;;) {
      while (i < la && k->ignore[(unsigned char)ta[i]]) ++i;
      while (j < lb && k->ignore[(unsigned char)tb[j]]) ++j;
      if (!(i < la && j < lb)) break;
      unsigned char x = (unsigned char)ta[i], y = (unsigned char)tb[j];
      if (k->translate) {
        x = (unsigned char)toupper(x);
        y = (unsigned char)toupper(y);
      }
      if (x != y) return x - y;
      ++i;
      ++j;
    }
    diff = (i < la) - (j < lb);
  } else if (la == 0) {
    diff = -(lb != 0);
  } else if (lb == 0) {
    diff = 1;
  } else {
    size_t m = la < lb ? la : lb;
    if (k->translate) {
      diff = 0;
      for (size_t i = 0; i < m && !diff; ++i) {
        diff = toupper((unsigned char)ta[i]) - toupper((unsigned char)tb[i]);
      }
    } else {
      diff = memcmp(ta, tb, m);
    }
    if (!diff) diff = la < lb ? -1 : la != lb;
  }
  return diff;
}

static int keycompare(const struct line *a, const struct line *b) {
  for (size_t i = 0; i < nkeys; ++i) {
    const struct key *k = &keys[i];
    size_t ab, al, bb, bl;
    if (i == 0) {
      ab = a->kbeg, al = a->klim, bb = b->kbeg, bl = b->klim;
    } else {
      key_span(a->text, a->len, k, &ab, &al);
      key_span(b->text, b->len, k, &bb, &bl);
    }
    int diff = compare_key(k, a->text + ab, al - ab, b->text + bb, bl - bb);
    if (diff) return k->reverse ? (diff > 0 ? -1 : 1) : diff;
  }
  return 0;
}

static uint64_t load_be64(const char *p) {
  uint64_t v;
  memcpy(&v, p, sizeof v);
  return __builtin_bswap64(v);
}

// The first 16 bytes of a line as two big-endian numbers, zero-padded: they compare as the
// bytes do, and as zero is the least byte, a shorter line that is a prefix compares lower.
static void line_prefix(const char *t, size_t len, uint64_t pfx[2]) {
  if (len >= 16) {
    pfx[0] = load_be64(t);
    pfx[1] = load_be64(t + 8);
    return;
  }
  char buf[16] = {0};
  memcpy(buf, t, len);
  pfx[0] = load_be64(buf);
  pfx[1] = load_be64(buf + 8);
}

// memcmp's sign, 8 bytes at a time (wasi-libc's memcmp compares byte by byte).
static int bytes_cmp(const char *a, const char *b, size_t n) {
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t x = load_be64(a + i), y = load_be64(b + i);
    if (x != y) return x < y ? -1 : 1;
  }
  for (; i < n; ++i) {
    if (a[i] != b[i]) return (unsigned char)a[i] < (unsigned char)b[i] ? -1 : 1;
  }
  return 0;
}

// The whole lines in byte order (memcmp, then the shorter first), the prefixes first (most
// comparisons end there, without reading the lines): equal prefixes mean equal first
// min(16, length) bytes.
static inline int line_cmp(const struct line *a, const struct line *b) {
  if (a->pfx[0] != b->pfx[0]) return a->pfx[0] < b->pfx[0] ? -1 : 1;
  if (a->pfx[1] != b->pfx[1]) return a->pfx[1] < b->pfx[1] ? -1 : 1;
  size_t m = a->len < b->len ? a->len : b->len;
  if (m > 16) {
    int diff = bytes_cmp(a->text + 16, b->text + 16, m - 16);
    if (diff) return diff;
  }
  return (a->len > b->len) - (a->len < b->len);
}

__attribute__((noinline)) static int compare_keys(const struct line *a, const struct line *b) {
  int diff = keycompare(a, b);
  if (diff || opt_unique || opt_stable) return diff;
  diff = line_cmp(a, b);
  return opt_reverse ? -diff : diff;
}

// Small enough to be inlined into the sort for the common case (no keys).
static inline int compare(const struct line *a, const struct line *b) {
  if (nkeys > 0) return compare_keys(a, b);
  int diff = line_cmp(a, b);
  return opt_reverse ? -diff : diff;
}

// Stable merge sort: runs of 8 by insertion, then bottom-up merges between v and tmp.
static struct line *merge_sort(struct line *v, struct line *tmp, size_t n) {
  const size_t run = 8;
  for (size_t s = 0; s < n; s += run) {
    size_t e = s + run < n ? s + run : n;
    for (size_t i = s + 1; i < e; ++i) {
      struct line x = v[i];
      size_t j = i;
      while (j > s && compare(&v[j - 1], &x) > 0) {
        v[j] = v[j - 1];
        --j;
      }
      v[j] = x;
    }
  }
  struct line *src = v, *dst = tmp;
  for (size_t w = run; w < n; w *= 2) {
    for (size_t s = 0; s < n; s += 2 * w) {
      size_t m = s + w < n ? s + w : n, e = s + 2 * w < n ? s + 2 * w : n;
      size_t i = s, j = m, o = s;
      if (m == e || compare(&src[m - 1], &src[m]) <= 0) {  // already in order
        memcpy(dst + s, src + s, (e - s) * sizeof(struct line));
        continue;
      }
      while (i < m && j < e) dst[o++] = compare(&src[j], &src[i]) < 0 ? src[j++] : src[i++];
      while (i < m) dst[o++] = src[i++];
      while (j < e) dst[o++] = src[j++];
    }
    struct line *t = src;
    src = dst;
    dst = t;
  }
  return src;
}

// --- options --------------------------------------------------------------------------------

// Applies ordering letters from S to K; returns where they stop.
static const char *set_ordering(const char *s, struct key *k, int start, int end) {
  for (;; ++s) {
    switch (*s) {
      case 'b':
        if (start) k->skipsblanks = 1;
        if (end) k->skipeblanks = 1;
        break;
      case 'd': k->ignore = nondict; break;
      case 'f': k->translate = 1; break;
      case 'g': k->general = 1; break;
      case 'h': k->human = 1; break;
      case 'i':
        if (!k->ignore) k->ignore = nonprinting;
        break;
      case 'M': k->month = 1; break;
      case 'n': k->numeric = 1; break;
      case 'R': k->random = 1; break;
      case 'r': k->reverse = 1; break;
      case 'V': k->version = 1; break;
      default: return s;
    }
  }
}

static int default_key(const struct key *k) {
  return !(k->ignore || k->translate || k->skipsblanks || k->skipeblanks || k->numeric ||
           k->general || k->human || k->month || k->version || k->random);
}

static const char *parse_count(const char *s, size_t *v, const char *what, const char *spec) {
  if (!isdigit((unsigned char)*s)) die("%s: invalid count at start of '%s'", what, s);
  unsigned long long n = 0;
  int over = 0;
  while (isdigit((unsigned char)*s)) {
    if (n > (ULLONG_MAX - 9) / 10) over = 1;
    n = n * 10 + (unsigned long long)(*s++ - '0');
  }
  *v = over || n > SIZE_MAX ? SIZE_MAX : (size_t)n;
  (void)spec;
  return s;
}

static void parse_key(const char *spec, struct key *k) {
  memset(k, 0, sizeof(*k));
  const char *s = parse_count(spec, &k->sword, "invalid number at field start", spec);
  if (k->sword-- == 0) die("%s: invalid field specification '%s'", "field number is zero", spec);
  if (*s == '.') {
    s = parse_count(s + 1, &k->schar, "invalid number after '.'", spec);
    if (k->schar-- == 0) die("%s: invalid field specification '%s'", "character offset is zero", spec);
  }
  if (!(k->sword || k->schar)) k->sword = SIZE_MAX;
  s = set_ordering(s, k, 1, 0);
  if (*s != ',') {
    k->eword = SIZE_MAX;
    k->echar = 0;
  } else {
    s = parse_count(s + 1, &k->eword, "invalid number after ','", spec);
    if (k->eword-- == 0) die("%s: invalid field specification '%s'", "field number is zero", spec);
    if (*s == '.') s = parse_count(s + 1, &k->echar, "invalid number after '.'", spec);
    s = set_ordering(s, k, 0, 1);
  }
  if (*s) die("%s: invalid field specification '%s'", "stray character in field spec", spec);
}

static void incompatible(const struct key *k) {
  char opts[16];
  size_t o = 0;
  if (k->ignore == nondict) opts[o++] = 'd';
  if (k->translate) opts[o++] = 'f';
  if (k->general) opts[o++] = 'g';
  if (k->human) opts[o++] = 'h';
  if (k->ignore == nonprinting) opts[o++] = 'i';
  if (k->month) opts[o++] = 'M';
  if (k->numeric) opts[o++] = 'n';
  if (k->random) opts[o++] = 'R';
  if (k->version) opts[o++] = 'V';
  opts[o] = '\0';
  die("options '-%s' are incompatible%s", opts, "");
}

// -S SIZE: digits and an optional unit (b, K, M, G, T; K is the default unit, as in GNU).
static size_t parse_size(const char *s) {
  char *end;
  errno = 0;
  unsigned long long v = strtoull(s, &end, 10);
  if (end == s || !isdigit((unsigned char)*s) || errno) die("invalid -S argument '%s'%s", s, "");
  unsigned long long mult = 1024;
  if (*end) {
    const char *u = strchr("bKMGT", *end);
    if (u == NULL || end[1] != '\0') die("invalid suffix in -S argument '%s'%s", s, "");
    static const unsigned long long m[] = {1, 1ull << 10, 1ull << 20, 1ull << 30, 1ull << 40};
    mult = m[u - "bKMGT"];
  }
  if (v > SIZE_MAX / mult) return SIZE_MAX;
  return (size_t)(v * mult);
}

// --- input ----------------------------------------------------------------------------------

static char *data;
static size_t data_len, data_cap;

static void read_operand(const char *name, int delim) {
  int fd = cu_open_input(name);
  if (fd < 0) die_file("cannot read", name, errno);
  for (;;) {
    if (data_cap - data_len < (1 << 16)) {
      size_t grow = data_cap < (1 << 16) ? (1 << 16) : data_cap;
      charge(grow);
      data = xalloc(data, data_cap + grow);
      data_cap += grow;
    }
    ssize_t r = read(fd, data + data_len, data_cap - data_len - 1);  // room for a delimiter
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) die_file("read failed", name, errno);
    if (r == 0) break;
    data_len += (size_t)r;
  }
  if (data_len > 0 && data[data_len - 1] != delim) data[data_len++] = (char)delim;
  cu_close_input(fd);
}

static void write_all(FILE *out, const struct line *v, size_t n, int delim) {
  const struct line *saved = NULL;
  for (size_t i = 0; i < n; ++i) {
    if (opt_unique) {
      if (saved && compare(&v[i], saved) == 0) continue;
      saved = &v[i];
    }
    fwrite(v[i].text, 1, v[i].len + 1, out);  // the line and its delimiter (always there)
  }
  (void)delim;
}

int cu_sort(int argc, char **argv) {
  enum { OPT_DEBUG = 256, OPT_PARALLEL, OPT_FILES0, OPT_RANDSRC, OPT_SORT, OPT_BATCH, OPT_COMPRESS,
         OPT_HELP, OPT_CHECK };
  static const struct option longopts[] = {
      {"ignore-leading-blanks", no_argument, 0, 'b'}, {"check", optional_argument, 0, OPT_CHECK},
      {"dictionary-order", no_argument, 0, 'd'},      {"ignore-case", no_argument, 0, 'f'},
      {"general-numeric-sort", no_argument, 0, 'g'},  {"human-numeric-sort", no_argument, 0, 'h'},
      {"ignore-nonprinting", no_argument, 0, 'i'},    {"key", required_argument, 0, 'k'},
      {"merge", no_argument, 0, 'm'},                 {"month-sort", no_argument, 0, 'M'},
      {"numeric-sort", no_argument, 0, 'n'},          {"output", required_argument, 0, 'o'},
      {"reverse", no_argument, 0, 'r'},               {"random-sort", no_argument, 0, 'R'},
      {"stable", no_argument, 0, 's'},                {"buffer-size", required_argument, 0, 'S'},
      {"field-separator", required_argument, 0, 't'}, {"temporary-directory", required_argument, 0, 'T'},
      {"unique", no_argument, 0, 'u'},                {"version-sort", no_argument, 0, 'V'},
      {"zero-terminated", no_argument, 0, 'z'},       {"debug", no_argument, 0, OPT_DEBUG},
      {"parallel", required_argument, 0, OPT_PARALLEL}, {"files0-from", required_argument, 0, OPT_FILES0},
      {"random-source", required_argument, 0, OPT_RANDSRC}, {"sort", required_argument, 0, OPT_SORT},
      {"batch-size", required_argument, 0, OPT_BATCH}, {"compress-program", required_argument, 0, OPT_COMPRESS},
      {"help", no_argument, 0, OPT_HELP},             {0, 0, 0, 0}};
  init_tables();
  struct key gkey;
  memset(&gkey, 0, sizeof(gkey));
  int check = 0, delim = '\n', c;
  const char *outfile = NULL;
  size_t kcap = 0;
  while ((c = getopt_long(argc, argv, "bcCdfghik:mMno:rRsS:t:T:uVz", longopts, NULL)) != -1) {
    switch (c) {
      case 'b': case 'd': case 'f': case 'g': case 'h': case 'i': case 'M': case 'n': case 'r':
      case 'V': {
        char s[2] = {(char)c, 0};
        set_ordering(s, &gkey, 1, 1);
        break;
      }
      case 'c': check = 'c'; break;
      case 'C': check = 'C'; break;
      case OPT_CHECK:
        if (optarg == NULL || strcmp(optarg, "diagnose-first") == 0) {
          check = 'c';
        } else if (strcmp(optarg, "quiet") == 0 || strcmp(optarg, "silent") == 0) {
          check = 'C';
        } else {
          fprintf(stderr, "sort: invalid argument '%s' for '--check'\n", optarg);
          usage_error();
        }
        break;
      case 'k':
        if (nkeys == kcap) {
          kcap = kcap ? kcap * 2 : 4;
          keys = cu_xrealloc(keys, kcap * sizeof(struct key));
        }
        parse_key(optarg, &keys[nkeys++]);
        break;
      case 'o':
        if (outfile && strcmp(outfile, optarg) != 0) die("multiple output files specified%s%s", "", "");
        outfile = optarg;
        break;
      case 's': opt_stable = 1; break;
      case 'S': limit = parse_size(optarg); break;
      case 't':
        if (optarg[0] == '\0') die("empty tab%s%s", "", "");
        if (optarg[1] != '\0') {
          if (strcmp(optarg, "\\0") == 0) {
            tab = 0;
            break;
          }
          die("multi-character tab '%s'%s", optarg, "");
        }
        if (tab >= 0 && tab != (unsigned char)optarg[0]) die("incompatible tabs%s%s", "", "");
        tab = (unsigned char)optarg[0];
        break;
      case 'T': break;  // no temporary files are written
      case 'u': opt_unique = 1; break;
      case 'z': delim = '\0'; break;
      case OPT_PARALLEL: break;  // one thread; the output is the same
      case OPT_HELP:
        printf("Usage: sort [OPTION]... [FILE]...\n"
               "Options: -b -d -f -g -h -i -M -n -r -V -k POS1[,POS2] -t SEP -s -u -z -c -C "
               "-o FILE -S SIZE (see guest/coreutils/README.md)\n");
        return 0;
      case 'm': case 'R': case OPT_DEBUG: case OPT_FILES0: case OPT_RANDSRC: case OPT_SORT:
      case OPT_BATCH: case OPT_COMPRESS:
        fprintf(stderr, "sort: option '%s' is not supported by this sort (wasmcap coreutils)\n",
                argv[optind - 1]);
        usage_error();
        break;
      default: usage_error();
    }
  }
  // Keys without ordering options inherit the global ones; -R anywhere is refused.
  for (size_t i = 0; i < nkeys; ++i) {
    struct key *k = &keys[i];
    if (default_key(k) && !k->reverse) {
      k->ignore = gkey.ignore;
      k->translate = gkey.translate;
      k->skipsblanks = gkey.skipsblanks;
      k->skipeblanks = gkey.skipeblanks;
      k->month = gkey.month;
      k->numeric = gkey.numeric;
      k->general = gkey.general;
      k->human = gkey.human;
      k->version = gkey.version;
      k->random = gkey.random;
      k->reverse = gkey.reverse;
    }
  }
  if (nkeys == 0 && !default_key(&gkey)) {
    keys = cu_xrealloc(keys, sizeof(struct key));
    keys[0] = gkey;
    keys[0].sword = SIZE_MAX;
    keys[0].eword = SIZE_MAX;
    nkeys = 1;
  }
  opt_reverse = gkey.reverse;
  for (size_t i = 0; i < nkeys; ++i) {
    const struct key *k = &keys[i];
    if (k->numeric + k->general + k->human + k->month + (k->version | k->random | !!k->ignore) > 1) {
      incompatible(k);
    }
    if (k->random) {
      fputs("sort: option '-R' is not supported by this sort (wasmcap coreutils)\n", stderr);
      usage_error();
    }
  }
  int nfiles = argc - optind;
  char *dash[] = {"-", NULL};
  char **files = nfiles > 0 ? argv + optind : dash;
  if (nfiles == 0) nfiles = 1;
  if (check) {
    if (outfile) die("options '-%so' are incompatible%s", check == 'c' ? "c" : "C", "");
    if (nfiles > 1) die("extra operand '%s' not allowed with -%s", files[1], check == 'c' ? "c" : "C");
  }
  for (int i = 0; i < nfiles; ++i) read_operand(files[i], delim);

  // Lines.
  size_t n = 0, maxlen = 0;
  for (size_t i = 0; i < data_len;) {
    const char *d = memchr(data + i, delim, data_len - i);
    size_t e = (size_t)(d - data);
    if (e - i > maxlen) maxlen = e - i;
    ++n;
    i = e + 1;
  }
  charge(n * sizeof(struct line) * (check ? 1 : 2));
  charge(2 * (maxlen + 1));
  struct line *v = xalloc(NULL, n * sizeof(struct line));
  copy_a = xalloc(NULL, maxlen + 1);
  copy_b = xalloc(NULL, maxlen + 1);
  size_t li = 0;
  for (size_t i = 0; i < data_len; ++li) {
    const char *d = memchr(data + i, delim, data_len - i);
    struct line *l = &v[li];
    l->text = data + i;
    l->len = (size_t)(d - (data + i));
    if (nkeys > 0) key_span(l->text, l->len, &keys[0], &l->kbeg, &l->klim);
    line_prefix(l->text, l->len, l->pfx);
    i += l->len + 1;
  }

  if (check) {
    for (size_t i = 1; i < n; ++i) {
      int r = compare(&v[i - 1], &v[i]);
      if (r > 0 || (opt_unique && r == 0)) {
        if (check == 'c') {
          fprintf(stderr, "sort: %s:%zu: disorder: ", files[0], i + 1);
          fwrite(v[i].text, 1, v[i].len, stderr);
          fputc('\n', stderr);
        }
        return 1;
      }
    }
    return 0;
  }

  struct line *tmp = xalloc(NULL, n * sizeof(struct line));
  struct line *sorted = merge_sort(v, tmp, n);
  FILE *out = stdout;
  if (outfile) {
    out = fopen(outfile, "w");
    if (out == NULL) die_file("open failed", outfile, errno);
  }
  // Large writes: stdio's default buffer is 1 KiB in wasi-libc, one fd_write per KiB.
  enum { OUTBUF = 1 << 18 };
  charge(OUTBUF);
  setvbuf(out, xalloc(NULL, OUTBUF), _IOFBF, OUTBUF);
  write_all(out, sorted, n, delim);
  if (outfile && fclose(out) != 0) die_file("write failed", outfile, errno);
  return 0;
}

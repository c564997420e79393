// split: INPUT into files PREFIXaa, PREFIXab, ... of -l lines or -b bytes, named as GNU's
// (-d digits, -a suffix length; without -a the suffix widens as GNU's: ...yz, zaaa, ...).
// Memory: -b streams in 64 KiB pieces; -l holds one line at a time.
#include <errno.h>
#include <getopt.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cu.h"

struct split_out {
  const char *prefix;
  char *name;    // the current output file's name
  size_t len;    // suffix length
  int digits;    // -d
  int fixed;     // -a given: no widening
  size_t *idx;   // suffix digits, most significant first
  size_t zs;     // last-value digits moved into the prefix by widening
  int started;
  FILE *f;
};

// Moves to the next output name. Returns 0, or -1 when the suffixes are exhausted.
static int split_next_name(struct split_out *o) {
  size_t radix = o->digits ? 10 : 26;
  if (!o->started) {
    o->started = 1;
  } else {
    size_t i = o->len;
    while (i > 0 && ++o->idx[i - 1] == radix) o->idx[--i] = 0;
    if (i == 0) return -1;
    // GNU's widening (no -a): when a carry sets the first digit to its last value, that digit
    // joins the prefix and the suffix grows by one: ...yz, zaaa, ..., zyzz, zzaaaa.
    if (!o->fixed && i == 1 && o->idx[0] == radix - 1) {
      ++o->zs;
      ++o->len;
      o->idx = cu_xrealloc(o->idx, o->len * sizeof(size_t));
      memset(o->idx, 0, o->len * sizeof(size_t));
    }
  }
  size_t plen = strlen(o->prefix), n = 0;
  o->name = cu_xrealloc(o->name, plen + o->zs + o->len + 1);
  memcpy(o->name, o->prefix, plen);
  n = plen;
  for (size_t k = 0; k < o->zs; ++k) o->name[n++] = o->digits ? '9' : 'z';
  for (size_t k = 0; k < o->len; ++k) o->name[n++] = (char)((o->digits ? '0' : 'a') + o->idx[k]);
  o->name[n] = '\0';
  return 0;
}

// Closes the current file. Returns 0 or 1 (message printed).
static int split_close(struct split_out *o) {
  if (o->f == NULL) return 0;
  int bad = fclose(o->f) != 0;
  o->f = NULL;
  if (bad) cu_err(NULL, o->name, errno);
  return bad;
}

// Starts the next output file. Returns 0 or 1 (message printed).
static int split_open(struct split_out *o) {
  if (split_close(o) != 0) return 1;
  if (split_next_name(o) != 0) {
    cu_errx("output file suffixes exhausted");
    return 1;
  }
  o->f = fopen(o->name, "w");
  if (o->f == NULL) {
    cu_err(NULL, o->name, errno);
    return 1;
  }
  return 0;
}

static int split_write(struct split_out *o, const char *p, size_t n) {
  if (fwrite(p, 1, n, o->f) != n) {
    cu_err(NULL, o->name, errno);
    return 1;
  }
  return 0;
}

// GNU's counts: decimal with an optional multiplier (K M G, KB MB GB: powers of 1000, b: 512).
static int split_count(const char *s, int bytes, uint64_t *out) {
  char *end;
  if (*s < '0' || *s > '9') return -1;
  errno = 0;
  unsigned long long v = strtoull(s, &end, 10);
  if (errno != 0) return -1;
  uint64_t m = 1;
  if (bytes && *end) {
    static const char units[] = "KMGT";
    const char *u = strchr(units, *end);
    if (*end == 'b' && end[1] == '\0') m = 512;
    else if (u != NULL && (end[1] == '\0' || (end[1] == 'B' && end[2] == '\0'))) {
      for (const char *k = units; k <= u; ++k) m *= end[1] == 'B' ? 1000 : 1024;
    } else return -1;
    end += strlen(end);
  }
  if (*end || (m > 1 && v > UINT64_MAX / m)) return -1;
  *out = v * m;
  return 0;
}

int cu_split(int argc, char **argv) {
  static const struct option longopts[] = {{"lines", required_argument, 0, 'l'},
                                           {"bytes", required_argument, 0, 'b'},
                                           {"suffix-length", required_argument, 0, 'a'},
                                           {"numeric-suffixes", no_argument, 0, 'd'},
                                           {0, 0, 0, 0}};
  struct split_out o = {"x", NULL, 2, 0, 0, NULL, 0, 0, NULL};
  uint64_t lines = 1000, bytes = 0;
  int mode = 0, c;  // 'l' or 'b' once given
  while ((c = getopt_long(argc, argv, "l:b:a:d", longopts, NULL)) != -1) {
    switch (c) {
      case 'l':
      case 'b': {
        uint64_t v;
        if (mode != 0 && mode != c) {
          cu_errx("cannot split in more than one way");
          return cu_try_help(1);
        }
        mode = c;
        int bad = split_count(optarg, c == 'b', &v);
        if (bad || v == 0) {
          cu_errx("invalid number of %s: '%s'%s", c == 'l' ? "lines" : "bytes", optarg,
                  bad ? "" : ": Numerical result out of range");
          return 1;
        }
        if (c == 'l') lines = v;
        else bytes = v;
        break;
      }
      case 'a': {
        size_t n;
        // Longer than any file name a file system takes: refused before anything is allocated.
        if (cu_parse_count(optarg, &n) != 0 || n > 4096) {
          cu_errx("invalid suffix length: '%s'", optarg);
          return 1;
        }
        if (n > 0) o.len = n, o.fixed = 1;  // GNU: 0 is the default (widening) length
        break;
      }
      case 'd': o.digits = 1; break;
      default: return cu_try_help(1);
    }
  }
  if (argc - optind > 2) {
    cu_errx("extra operand '%s'", argv[optind + 2]);
    return cu_try_help(1);
  }
  const char *in = optind < argc ? argv[optind] : "-";
  if (optind + 1 < argc) o.prefix = argv[optind + 1];
  o.idx = cu_xmalloc(o.len * sizeof(size_t));
  memset(o.idx, 0, o.len * sizeof(size_t));
  int fd = cu_open_input(in);
  if (fd < 0) {
    int e = errno;
    fputs("split: cannot open ", stderr);
    cu_quote_always(stderr, in);
    fprintf(stderr, " for reading: %s\n", cu_strerror(e));
    free(o.idx);
    return 1;
  }
  int status = 0, rd = 0;
  if (mode == 'b') {
    char *buf = cu_xmalloc(1 << 16);
    uint64_t left = 0;  // bytes still owed to the current file
    for (;;) {
      ssize_t n = read(fd, buf, 1 << 16);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) rd = 1;
      if (n <= 0) break;
      for (size_t off = 0; off < (size_t)n && status == 0;) {
        if (left == 0) {
          status = split_open(&o);
          left = bytes;
          if (status) break;
        }
        size_t k = (size_t)n - off < left ? (size_t)n - off : (size_t)left;
        status = split_write(&o, buf + off, k);
        off += k;
        left -= k;
      }
      if (status) break;
    }
    free(buf);
  } else {
    struct cu_reader r;
    cu_reader_init(&r, fd);
    uint64_t left = 0;
    char *p;
    size_t n;
    int had, got;
    while (status == 0 && (got = cu_reader_next(&r, '\n', &p, &n, &had)) > 0) {
      if (left == 0) {
        status = split_open(&o);
        left = lines;
        if (status) break;
      }
      status = split_write(&o, p, n + (size_t)had);  // the record and its newline
      --left;
    }
    if (status == 0 && got < 0) rd = 1;
    cu_reader_free(&r);
  }
  if (rd) {
    int e = errno;
    fputs("split: ", stderr);
    cu_quote_name(stderr, in);
    fprintf(stderr, ": read error: %s\n", cu_strerror(e));
    status = 1;
  }
  status |= split_close(&o);
  cu_close_input(fd);
  free(o.idx);
  free(o.name);
  return status;
}

// cat, head, tail, wc, pwd.
#define _GNU_SOURCE  // memrchr
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cu.h"

// Opens an input operand ("-" is stdin). Directories are refused up front (reading one would
// fail with a less helpful errno). Returns the fd or -1 after printing the error.
static int open_input(const char *path) {
  if (strcmp(path, "-") == 0) return STDIN_FILENO;
  int fd = open(path, O_RDONLY);
  if (fd < 0) {
    cu_err(NULL, path, errno);
    return -1;
  }
  struct stat st;
  if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
    cu_err(NULL, path, EISDIR);
    close(fd);
    return -1;
  }
  return fd;
}

static void close_input(int fd) {
  if (fd != STDIN_FILENO) close(fd);
}

// --- cat ------------------------------------------------------------------------------------

int cu_cat(int argc, char **argv) {
  static const struct option longopts[] = {{0, 0, 0, 0}};
  int c;
  while ((c = getopt_long(argc, argv, "u", longopts, NULL)) != -1) {
    if (c != 'u') {
      fprintf(stderr, "usage: cat [FILE...]\n");
      return 1;
    }
  }
  char *dash[] = {"-", NULL};
  char **ops = optind < argc ? argv + optind : dash;
  int nops = optind < argc ? argc - optind : 1;
  static char buf[1 << 16];
  int status = 0;
  for (int i = 0; i < nops; ++i) {
    int fd = open_input(ops[i]);
    if (fd < 0) {
      status = 1;
      continue;
    }
    for (;;) {
      ssize_t r = read(fd, buf, sizeof(buf));
      if (r < 0) {
        if (errno == EINTR) continue;
        cu_err(NULL, ops[i], errno);
        status = 1;
        break;
      }
      if (r == 0) break;
      cu_out(buf, (size_t)r);
    }
    close_input(fd);
  }
  return status;
}

// --- head / tail ----------------------------------------------------------------------------

// Parses a count for -n/-c. `sign` receives '+', '-' or 0 for a leading sign. Suffixes are not
// supported. Returns 0 or -1.
static int parse_count(const char *s, long long *out, char *sign) {
  *sign = 0;
  if (*s == '+' || *s == '-') *sign = *s++;
  if (*s < '0' || *s > '9') return -1;
  char *end;
  errno = 0;
  unsigned long long v = strtoull(s, &end, 10);
  if (*end != '\0' || errno != 0 || v > LLONG_MAX) return -1;
  *out = (long long)v;
  return 0;
}

// Converts the historical "-5" form (head -5, tail -5) into "-n 5" by rewriting argv[1].
static char **rewrite_obsolete(int *argc, char **argv) {
  if (*argc < 2 || argv[1][0] != '-' || argv[1][1] < '0' || argv[1][1] > '9') return argv;
  for (const char *p = argv[1] + 1; *p; ++p) {
    if (*p < '0' || *p > '9') return argv;
  }
  char **v = cu_xmalloc((size_t)(*argc + 2) * sizeof(char *));
  v[0] = argv[0];
  v[1] = "-n";
  v[2] = argv[1] + 1;
  for (int i = 2; i < *argc; ++i) v[i + 1] = argv[i];
  v[*argc + 1] = NULL;
  *argc += 1;
  return v;
}

// Shared driver for head and tail: `fn` prints one input given its whole content.
typedef void (*slice_fn)(const char *buf, size_t len, long long n, char sign, int bytes);

static void head_slice(const char *buf, size_t len, long long n, char sign, int bytes) {
  if (bytes) {
    size_t k = sign == '-' ? (len > (size_t)n ? len - (size_t)n : 0) : ((size_t)n < len ? (size_t)n : len);
    cu_out(buf, k);
    return;
  }
  if (sign == '-') {
    // All but the last n lines: find where the n-th line from the end starts.
    size_t end = len;
    long long k = n;
    size_t i = len;
    if (k == 0) {
      cu_out(buf, len);
      return;
    }
    // The last line counts whether or not it ends in a newline.
    if (i > 0 && buf[i - 1] == '\n') --i;
    while (k > 0 && i > 0) {
      --i;
      if (buf[i] == '\n') {
        --k;
        if (k == 0) {
          end = i + 1;
          break;
        }
      }
    }
    if (k > 0) end = 0;
    cu_out(buf, end);
    return;
  }
  size_t i = 0;
  long long lines = 0;
  while (i < len && lines < n) {
    const char *nl = memchr(buf + i, '\n', len - i);
    size_t next = nl ? (size_t)(nl - buf) + 1 : len;
    i = next;
    ++lines;
  }
  cu_out(buf, i);
}

static void tail_slice(const char *buf, size_t len, long long n, char sign, int bytes) {
  if (bytes) {
    size_t start;
    if (sign == '+') {
      start = n > 0 ? (size_t)(n - 1) : 0;
      if (start > len) start = len;
    } else {
      start = len > (size_t)n ? len - (size_t)n : 0;
    }
    cu_out(buf + start, len - start);
    return;
  }
  if (sign == '+') {
    // From line n on (1-based; +0 is the same as +1).
    size_t i = 0;
    for (long long line = 1; line < n && i < len; ++line) {
      const char *nl = memchr(buf + i, '\n', len - i);
      i = nl ? (size_t)(nl - buf) + 1 : len;
    }
    cu_out(buf + i, len - i);
    return;
  }
  if (n == 0) return;
  size_t i = len;
  if (i > 0 && buf[i - 1] == '\n') --i;  // a final newline ends the last line, it starts none
  long long k = 0;
  const char *nl;
  size_t start = 0;
  while ((nl = memrchr(buf, '\n', i)) != NULL) {
    i = (size_t)(nl - buf);
    if (++k == n) {
      start = i + 1;
      break;
    }
  }
  cu_out(buf + start, len - start);
}

// head -n N / -c N: streams, stopping after N lines or bytes (a huge file is not read whole).
static int head_stream(int fd, long long n, int bytes) {
  static char buf[1 << 16];
  long long left = n;
  while (left > 0) {
    ssize_t r = read(fd, buf, sizeof(buf));
    if (r < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    if (r == 0) break;
    size_t take = (size_t)r;
    if (bytes) {
      if ((long long)take > left) take = (size_t)left;
      left -= (long long)take;
    } else {
      size_t i = 0;
      while (i < (size_t)r && left > 0) {
        const char *nl = memchr(buf + i, '\n', (size_t)r - i);
        if (nl == NULL) {
          i = (size_t)r;
          break;
        }
        i = (size_t)(nl - buf) + 1;
        --left;
      }
      take = i;
    }
    cu_out(buf, take);
  }
  return 0;
}

// tail -n N / -c N of a regular file: reads backwards from the end in growing chunks until
// the chunk holds N lines (or bytes), so only the end of a large file is read. Returns 1 when
// it handled the file, 0 when the input is not a seekable regular file, -1 on a read error.
static int tail_seek(int fd, long long n, int bytes) {
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size <= 0) return 0;
  off_t size = st.st_size;
  size_t chunk = 1 << 16;
  for (;;) {
    off_t start = size > (off_t)chunk ? size - (off_t)chunk : 0;
    size_t len = (size_t)(size - start), got = 0;
    char *buf = cu_xmalloc(len + 1);
    while (got < len) {
      ssize_t r = pread(fd, buf + got, len - got, start + (off_t)got);
      if (r < 0 && errno == EINTR) continue;
      if (r < 0) {
        free(buf);
        return -1;
      }
      if (r == 0) break;
      got += (size_t)r;
    }
    int enough = start == 0 || got < len;
    if (!enough && bytes) enough = (long long)got >= n;
    if (!enough) {
      // Is the n-th newline from the end (a final newline aside) inside the chunk?
      size_t end = got > 0 && buf[got - 1] == '\n' ? got - 1 : got;
      long long lines = 0;
      const char *nl;
      while (lines < n && (nl = memrchr(buf, '\n', end)) != NULL) {
        ++lines;
        end = (size_t)(nl - buf);
      }
      enough = lines >= n;
    }
    if (enough) {
      tail_slice(buf, got, n, 0, bytes);
      free(buf);
      return 1;
    }
    free(buf);
    chunk *= 4;
  }
}

static int head_tail(int argc, char **argv, slice_fn fn, int is_head) {
  static const struct option longopts[] = {{"lines", required_argument, 0, 'n'},
                                           {"bytes", required_argument, 0, 'c'},
                                           {"quiet", no_argument, 0, 'q'},
                                           {"silent", no_argument, 0, 'q'},
                                           {"verbose", no_argument, 0, 'v'},
                                           {0, 0, 0, 0}};
  argv = rewrite_obsolete(&argc, argv);
  long long n = 10;
  char sign = 0;
  int bytes = 0, quiet = 0, verbose = 0, c;
  while ((c = getopt_long(argc, argv, "n:c:qv", longopts, NULL)) != -1) {
    switch (c) {
      case 'n':
      case 'c':
        if (parse_count(optarg, &n, &sign) != 0) {
          cu_errx("invalid number of %s: '%s'", c == 'n' ? "lines" : "bytes", optarg);
          return 1;
        }
        bytes = c == 'c';
        break;
      case 'q': quiet = 1; verbose = 0; break;
      case 'v': verbose = 1; quiet = 0; break;
      default:
        fprintf(stderr, "usage: %s [-n [+|-]N] [-c [+|-]N] [-qv] [FILE...]\n", is_head ? "head" : "tail");
        return 1;
    }
  }
  // head: "-N" means all but the last N; "+N" is just N. tail: "+N" means from N; "-N" is N.
  if (is_head && sign == '+') sign = 0;
  if (!is_head && sign == '-') sign = 0;
  char *dash[] = {"-", NULL};
  char **ops = optind < argc ? argv + optind : dash;
  int nops = optind < argc ? argc - optind : 1;
  int headers = verbose || (nops > 1 && !quiet);
  int status = 0, printed = 0;
  for (int i = 0; i < nops; ++i) {
    int fd = open_input(ops[i]);
    if (fd < 0) {
      status = 1;
      continue;
    }
    if (headers) {
      printf("%s==> %s <==\n", printed ? "\n" : "",
             strcmp(ops[i], "-") == 0 ? "standard input" : ops[i]);
    }
    printed = 1;
    int done = 0;
    if (is_head && sign == 0) {
      done = head_stream(fd, n, bytes) == 0 ? 1 : -1;
    } else if (!is_head && sign == 0) {
      done = tail_seek(fd, n, bytes);
    }
    if (done == 0) {
      char *buf;
      size_t len;
      if (cu_read_all(fd, &buf, &len) == 0) {
        fn(buf, len, n, sign, bytes);
        free(buf);
        done = 1;
      } else {
        done = -1;
      }
    }
    if (done < 0) {
      cu_err("error reading", ops[i], errno);
      status = 1;
    }
    close_input(fd);
  }
  return status;
}

int cu_head(int argc, char **argv) { return head_tail(argc, argv, head_slice, 1); }
int cu_tail(int argc, char **argv) { return head_tail(argc, argv, tail_slice, 0); }

// --- wc -------------------------------------------------------------------------------------

struct counts {
  unsigned long long lines, words, bytes;
};

// The interpreter runs a byte loop at a few microseconds per byte, so the counts work on 8
// bytes at a time where they can (SWAR on 64-bit words, which wasm has natively).
static const uint64_t kOnes = 0x0101010101010101ull, kHigh = 0x8080808080808080ull,
                      kLow7 = 0x7f7f7f7f7f7f7f7full;

// High bit set in each zero byte of x, exactly (no carries between bytes).
static uint64_t zero_bytes(uint64_t x) { return ~(((x & kLow7) + kLow7) | x) & kHigh; }

unsigned long long cu_count_newlines(const char *p, size_t n) {
  unsigned long long c = 0;
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t w;
    memcpy(&w, p + i, 8);
    c += (unsigned long long)__builtin_popcountll(zero_bytes(w ^ (kOnes * '\n')));
  }
  for (; i < n; ++i) c += p[i] == '\n';
  return c;
}

// Words as GNU wc counts them in the C locale: maximal runs not broken by whitespace that
// contain at least one printable character.
static void count(const char *buf, size_t len, struct counts *c, int *in_word, int words) {
  if (!words) {
    c->lines += cu_count_newlines(buf, len);
    c->bytes += len;
    return;
  }
  size_t i = 0;
  for (;;) {
    // A block of 8 printable non-space ASCII bytes (0x21..0x7e) only continues a word.
    while (i + 8 <= len) {
      uint64_t w;
      memcpy(&w, buf + i, 8);
      uint64_t below = (w - kOnes * 0x21) & ~w & kHigh;  // some byte < 0x21 (exact test)
      if (below | (w & kHigh) | zero_bytes(w ^ (kOnes * 0x7f))) break;
      *in_word = 1;
      i += 8;
    }
    if (i >= len) break;
    size_t stop = i + 8 < len ? i + 8 : len;
    for (; i < stop; ++i) {
      unsigned char ch = (unsigned char)buf[i];
      if (ch == '\n') ++c->lines;
      if (ch == ' ' || ch == '\n' || ch == '\t' || ch == '\r' || ch == '\f' || ch == '\v') {
        if (*in_word) ++c->words;
        *in_word = 0;
      } else if (ch > 0x20 && ch < 0x7f) {
        *in_word = 1;
      }
    }
  }
  c->bytes += len;
}

static int opt_l, opt_w, opt_c;

static void print_counts(const struct counts *c, int width, const char *name) {
  const char *sep = "";
  if (opt_l) { printf("%s%*llu", sep, width, c->lines); sep = " "; }
  if (opt_w) { printf("%s%*llu", sep, width, c->words); sep = " "; }
  if (opt_c) { printf("%s%*llu", sep, width, c->bytes); }
  if (name) printf(" %s", name);
  putchar('\n');
}

int cu_wc(int argc, char **argv) {
  static const struct option longopts[] = {{"lines", no_argument, 0, 'l'},
                                           {"words", no_argument, 0, 'w'},
                                           {"bytes", no_argument, 0, 'c'},
                                           {0, 0, 0, 0}};
  int c;
  while ((c = getopt_long(argc, argv, "lwc", longopts, NULL)) != -1) {
    switch (c) {
      case 'l': opt_l = 1; break;
      case 'w': opt_w = 1; break;
      case 'c': opt_c = 1; break;
      default:
        fprintf(stderr, "usage: wc [-lwc] [FILE...]\n");
        return 1;
    }
  }
  if (!opt_l && !opt_w && !opt_c) opt_l = opt_w = opt_c = 1;
  int nops = argc - optind;
  char **ops = argv + optind;
  // Column width, as GNU computes it: 1 for a single count of a single input; otherwise wide
  // enough for the total size of the regular files, at least 7 when an input is not a regular
  // file (stdin, a pipe) whose size cannot be known in advance.
  int width = 1;
  if (!(nops <= 1 && opt_l + opt_w + opt_c == 1)) {
    if (nops == 0) {
      width = 7;
    } else {
      unsigned long long total = 0;
      int minimum = 1;
      for (int i = 0; i < nops; ++i) {
        struct stat st;
        int r = strcmp(ops[i], "-") == 0 ? fstat(STDIN_FILENO, &st) : stat(ops[i], &st);
        if (r != 0) continue;
        if (S_ISREG(st.st_mode)) {
          total += (unsigned long long)st.st_size;
        } else {
          minimum = 7;
        }
      }
      while (total >= 10) {
        total /= 10;
        ++width;
      }
      if (width < minimum) width = minimum;
    }
  }
  struct counts sum = {0, 0, 0};
  int status = 0;
  static char buf[1 << 16];
  char *dash[] = {"-", NULL};
  char **inputs = nops > 0 ? ops : dash;
  int ninputs = nops > 0 ? nops : 1;
  for (int i = 0; i < ninputs; ++i) {
    int fd = open_input(inputs[i]);
    if (fd < 0) {
      status = 1;
      continue;
    }
    struct counts cnt = {0, 0, 0};
    int in_word = 0, failed = 0;
    for (;;) {
      ssize_t r = read(fd, buf, sizeof(buf));
      if (r < 0) {
        if (errno == EINTR) continue;
        cu_err(NULL, inputs[i], errno);
        failed = 1;
        break;
      }
      if (r == 0) break;
      count(buf, (size_t)r, &cnt, &in_word, opt_w);
    }
    if (in_word) ++cnt.words;
    close_input(fd);
    if (failed) {
      status = 1;
      continue;
    }
    print_counts(&cnt, width, nops > 0 ? inputs[i] : NULL);
    sum.lines += cnt.lines;
    sum.words += cnt.words;
    sum.bytes += cnt.bytes;
  }
  if (nops > 1) print_counts(&sum, width, "total");
  return status;
}

// --- pwd ------------------------------------------------------------------------------------

int cu_pwd(int argc, char **argv) {
  static const struct option longopts[] = {{0, 0, 0, 0}};
  int c;
  while ((c = getopt_long(argc, argv, "LP", longopts, NULL)) != -1) {
    if (c != 'L' && c != 'P') {
      fprintf(stderr, "usage: pwd [-LP]\n");
      return 1;
    }
  }
  if (optind < argc) cu_errx("ignoring non-option arguments");
  char *cwd = getcwd(NULL, 0);
  if (cwd == NULL) {
    cu_errx("cannot determine the working directory: %s", cu_strerror(errno));
    return 1;
  }
  printf("%s\n", cwd);
  free(cwd);
  return 0;
}

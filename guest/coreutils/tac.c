// tac: the records of each input in reverse order.
//
// Memory stays bounded on a seekable input whatever its size or the length of its lines: it is
// scanned backwards in fixed windows, and each record is copied out by pread in fixed chunks
// (never held whole). A pipe cannot be read backwards, so it is held in memory (GNU copies it
// to a temporary file, which a sandbox may not grant); its size is bounded by the run's memory
// limit, past which the tool stops with "out of memory".
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cu.h"

enum { TAC_WINDOW = 1 << 16 };

// An input: a seekable fd, or bytes held in memory (mem != NULL).
struct tac_src {
  int fd;
  const char *mem;
};

// Reads [off, off+n) of SRC into BUF. Returns 0, or -1 with errno set.
static int tac_read(const struct tac_src *s, off_t off, char *buf, size_t n) {
  if (s->mem != NULL) {
    memcpy(buf, s->mem + off, n);
    return 0;
  }
  while (n > 0) {
    ssize_t got = pread(s->fd, buf, n, off);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) {
      if (got == 0) errno = EIO;  // the file shrank under us
      return -1;
    }
    buf += got;
    off += got;
    n -= (size_t)got;
  }
  return 0;
}

// Writes [a, b) of SRC to stdout. Returns 0, or -1 with errno set.
static int tac_copy(const struct tac_src *s, off_t a, off_t b, char *tmp) {
  if (s->mem != NULL) return cu_out(s->mem + a, (size_t)(b - a));
  while (a < b) {
    size_t n = b - a < TAC_WINDOW ? (size_t)(b - a) : TAC_WINDOW;
    if (tac_read(s, a, tmp, n) != 0 || cu_out(tmp, n) != 0) return -1;
    a += (off_t)n;
  }
  return 0;
}

// Scans SRC (SIZE bytes) from the end for SEP (LEN bytes; the rightmost match first, as GNU)
// and writes the records last first. A record ends with its separator, or (before) starts
// with it. Returns 0, or -1 with errno set.
static int tac_scan(const struct tac_src *s, off_t size, const char *sep, size_t len, int before) {
  char *win = cu_xmalloc(TAC_WINDOW + len);
  char *tmp = cu_xmalloc(TAC_WINDOW);
  off_t hi = size, limit = size, prev = size;
  int rc = 0;
  while (hi > 0 && rc == 0) {
    off_t lo = hi > TAC_WINDOW ? hi - TAC_WINDOW : 0;
    // The window reaches len-1 bytes past hi, so a separator straddling hi is seen.
    off_t end = hi + (off_t)len - 1 < size ? hi + (off_t)len - 1 : size;
    if (tac_read(s, lo, win, (size_t)(end - lo)) != 0) {
      rc = -1;
      break;
    }
    for (off_t p = end - (off_t)len; p >= lo; --p) {
      if (p + (off_t)len > limit || memcmp(win + (p - lo), sep, len) != 0) continue;
      off_t b = before ? p : p + (off_t)len;
      if (tac_copy(s, b, prev, tmp) != 0) {
        rc = -1;
        break;
      }
      prev = b;
      limit = p;
    }
    hi = lo;
  }
  if (rc == 0) rc = tac_copy(s, 0, prev, tmp);
  free(win);
  free(tmp);
  return rc;
}

static int tac_one(const char *name, const char *sep, size_t len, int before) {
  int fd = cu_open_input(name);
  if (fd < 0) {
    fprintf(stderr, "tac: failed to open ");
    cu_quote_always(stderr, name);
    fprintf(stderr, " for reading: %s\n", cu_strerror(errno));
    return 1;
  }
  const char *shown = strcmp(name, "-") == 0 ? "standard input" : name;
  struct tac_src s = {fd, NULL};
  char *all = NULL;
  off_t size = lseek(fd, 0, SEEK_END);
  int rc;
  if (size < 0) {  // a pipe: held in memory
    size_t n;
    if (cu_read_all(fd, &all, &n) != 0) {
      rc = -1;
    } else {
      s.mem = all;
      rc = tac_scan(&s, (off_t)n, sep, len, before);
    }
  } else {
    rc = tac_scan(&s, size, sep, len, before);
  }
  if (rc != 0) {
    int e = errno;
    fprintf(stderr, "tac: ");
    cu_quote_name(stderr, shown);
    fprintf(stderr, ": read error: %s\n", cu_strerror(e));
  }
  free(all);
  cu_close_input(fd);
  return rc != 0;
}

int cu_tac(int argc, char **argv) {
  static const struct option longopts[] = {{"before", no_argument, 0, 'b'},
                                           {"regex", no_argument, 0, 'r'},
                                           {"separator", required_argument, 0, 's'},
                                           {0, 0, 0, 0}};
  const char *sep = "\n";
  int before = 0, c;
  while ((c = getopt_long(argc, argv, "brs:", longopts, NULL)) != -1) {
    switch (c) {
      case 'b': before = 1; break;
      case 'r':
        fputs("tac: --regex is not supported by this tac (wasmcap coreutils)\n", stderr);
        return cu_try_help(1);
      case 's': sep = optarg; break;
      default: return cu_try_help(1);
    }
  }
  // An empty separator is GNU's NUL separator (the C string's terminator).
  size_t len = sep[0] != '\0' ? strlen(sep) : 1;
  char *dash[] = {"-", NULL};
  char **ops = optind < argc ? argv + optind : dash;
  int nops = optind < argc ? argc - optind : 1, status = 0;
  for (int i = 0; i < nops; ++i) status |= tac_one(ops[i], sep, len, before);
  return status;
}

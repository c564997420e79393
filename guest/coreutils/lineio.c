// Input shared by the text filters (sort, uniq, cut, tr, ...): opening operands and reading
// delimited records in bounded chunks.
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cu.h"

int cu_open_input(const char *path) {
  if (strcmp(path, "-") == 0) return STDIN_FILENO;
  int fd = open(path, O_RDONLY);
  if (fd < 0) return -1;
  struct stat st;
  if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
    close(fd);
    errno = EISDIR;
    return -1;
  }
  return fd;
}

void cu_close_input(int fd) {
  if (fd != STDIN_FILENO && fd >= 0) close(fd);
}

void cu_reader_init(struct cu_reader *r, int fd) {
  memset(r, 0, sizeof(*r));
  r->fd = fd;
}

void cu_reader_free(struct cu_reader *r) {
  free(r->buf);
  r->buf = NULL;
}

// Refills the buffer after the unread part; returns bytes read, 0 at end, -1 on error.
static ssize_t refill(struct cu_reader *r) {
  if (r->pos > 0) {
    memmove(r->buf, r->buf + r->pos, r->end - r->pos);
    r->end -= r->pos;
    r->pos = 0;
  }
  if (r->end == r->cap) {
    r->cap = r->cap ? r->cap * 2 : 1 << 16;
    r->buf = cu_xrealloc(r->buf, r->cap);
  }
  for (;;) {
    ssize_t n = read(r->fd, r->buf + r->end, r->cap - r->end);
    if (n < 0 && errno == EINTR) continue;
    if (n > 0) r->end += (size_t)n;
    return n;
  }
}

int cu_reader_next(struct cu_reader *r, int delim, char **p, size_t *n, int *had_delim) {
  size_t scanned = 0;  // bytes after pos already known to hold no delimiter
  for (;;) {
    char *start = r->buf + r->pos;
    size_t avail = r->end - r->pos;
    char *d = avail > scanned ? memchr(start + scanned, delim, avail - scanned) : NULL;
    if (d != NULL) {
      *p = start;
      *n = (size_t)(d - start);
      *had_delim = 1;
      r->pos += *n + 1;
      return 1;
    }
    scanned = avail;
    if (r->eof) {
      if (avail == 0) return 0;
      *p = start;
      *n = avail;
      *had_delim = 0;
      r->pos = r->end;
      return 1;
    }
    ssize_t got = refill(r);
    if (got < 0) return -1;
    if (got == 0) r->eof = 1;
  }
}

int cu_try_help(int status) {
  fprintf(stderr, "Try '%s --help' for more information.\n", cu_prog);
  return status;
}

int cu_extra_operand(const char *arg) {
  fprintf(stderr, "%s: extra operand ", cu_prog);
  cu_quote_always(stderr, arg);
  fputc('\n', stderr);
  return cu_try_help(1);
}

int cu_parse_count(const char *s, size_t *out) {
  if (*s < '0' || *s > '9') return -1;
  unsigned long long v = 0;
  int over = 0;
  for (; *s >= '0' && *s <= '9'; ++s) {
    if (v > (ULLONG_MAX - 9) / 10) over = 1;
    v = v * 10 + (unsigned long long)(*s - '0');
  }
  if (*s) return -1;
  *out = over || v > SIZE_MAX ? SIZE_MAX : (size_t)v;
  return 0;
}

int cu_end_input(struct cu_reader *r, int fd, int got, const char *name) {
  int status = 0;
  if (got < 0) {
    cu_err(NULL, name, errno);
    status = 1;
  }
  cu_reader_free(r);
  cu_close_input(fd);
  return status;
}

char **cu_obsolete_count(int *argc, char **argv, const char *opt) {
  char **v = cu_xmalloc((size_t)(*argc + 1) * 2 * sizeof(char *));
  int vc = 0;
  for (int i = 0; i < *argc; ++i) {
    char *a = argv[i];
    if (i > 0 && a[0] == '-' && isdigit((unsigned char)a[1]) && strspn(a + 1, "0123456789") == strlen(a + 1)) {
      v[vc++] = (char *)opt;
      v[vc++] = a + 1;
    } else {
      v[vc++] = a;
      if (i > 0 && strcmp(a, "--") == 0) {
        for (++i; i < *argc; ++i) v[vc++] = argv[i];
      }
    }
  }
  v[vc] = NULL;
  *argc = vc;
  return v;
}

int cu_each_input(int argc, char **argv, int (*fn)(struct cu_reader *r, const char *name)) {
  char *dash[] = {"-", NULL};
  char **ops = optind < argc ? argv + optind : dash;
  int nops = optind < argc ? argc - optind : 1, status = 0;
  for (int i = 0; i < nops; ++i) {
    int fd = cu_open_input(ops[i]);
    if (fd < 0) {
      cu_err(NULL, ops[i], errno);
      status = 1;
      continue;
    }
    struct cu_reader r;
    cu_reader_init(&r, fd);
    if (fn(&r, ops[i]) != 0) status = 1;
    cu_reader_free(&r);
    cu_close_input(fd);
  }
  return status;
}

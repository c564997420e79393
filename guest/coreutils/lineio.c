// Input shared by the text filters (sort, uniq, cut, tr, ...): opening operands and reading
// delimited records in bounded chunks.
#include <errno.h>
#include <fcntl.h>
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

// Directory listing, whole-file reads, and the copy/remove walks shared by cp, mv and rm.
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cu.h"

int cu_read_dir(const char *path, int dots, struct cu_list *out) {
  DIR *d = opendir(path);
  if (d == NULL) return -1;
  struct dirent *e;
  errno = 0;
  while ((e = readdir(d)) != NULL) {
    if (!dots && (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)) continue;
    cu_list_push(out, cu_xstrdup(e->d_name));
  }
  int err = errno;
  closedir(d);
  if (err != 0) {
    errno = err;
    return -1;
  }
  cu_list_sort(out);
  return 0;
}

int cu_read_all(int fd, char **buf, size_t *len) {
  size_t cap = 1 << 16, n = 0;
  char *b = cu_xmalloc(cap + 1);
  for (;;) {
    if (n == cap) {
      cap *= 2;
      b = cu_xrealloc(b, cap + 1);
    }
    ssize_t r = read(fd, b + n, cap - n);
    if (r < 0) {
      if (errno == EINTR) continue;
      int e = errno;
      free(b);
      errno = e;
      return -1;
    }
    if (r == 0) break;
    n += (size_t)r;
  }
  b[n] = '\0';
  *buf = b;
  *len = n;
  return 0;
}

int cu_write_fd(int fd, const void *buf, size_t n) {
  const char *p = buf;
  while (n > 0) {
    ssize_t w = write(fd, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    p += w;
    n -= (size_t)w;
  }
  return 0;
}

int cu_copy_file(const char *src, const char *dst) {
  int in = open(src, O_RDONLY);
  if (in < 0) {
    cu_err("cannot open", src, errno);
    return -1;
  }
  int out = open(dst, O_WRONLY | O_CREAT | O_TRUNC, 0666);
  if (out < 0) {
    cu_err("cannot create regular file", dst, errno);
    close(in);
    return -1;
  }
  static char buf[1 << 16];
  int rc = 0;
  for (;;) {
    ssize_t r = read(in, buf, sizeof(buf));
    if (r < 0) {
      if (errno == EINTR) continue;
      cu_err("error reading", src, errno);
      rc = -1;
      break;
    }
    if (r == 0) break;
    if (cu_write_fd(out, buf, (size_t)r) != 0) {
      cu_err("error writing", dst, errno);
      rc = -1;
      break;
    }
  }
  close(in);
  if (close(out) != 0 && rc == 0) {
    cu_err("error writing", dst, errno);
    rc = -1;
  }
  return rc;
}

// The destination directory created at the top of the current copy: a source entry with its
// identity is the copy itself (copying a directory into itself) and is never descended into.
static dev_t g_top_dev;
static ino_t g_top_ino;
static int g_have_top;

static int copy_tree_rec(const char *src, const char *dst, int follow, int no_clobber, int top) {
  struct stat st;
  if ((follow ? stat(src, &st) : lstat(src, &st)) != 0) {
    cu_err("cannot stat", src, errno);
    return 1;
  }
  if (g_have_top && st.st_dev == g_top_dev && st.st_ino == g_top_ino) {
    cu_errx("cannot copy a directory into itself: skipping '%s'", src);
    return 1;
  }
  struct stat dt;
  int dst_exists = lstat(dst, &dt) == 0;
  if (S_ISDIR(st.st_mode)) {
    if (dst_exists && !S_ISDIR(dt.st_mode)) {
      cu_errx("cannot overwrite non-directory '%s' with directory '%s'", dst, src);
      return 1;
    }
    if (!dst_exists && mkdir(dst, 0777) != 0) {
      cu_err("cannot create directory", dst, errno);
      return 1;
    }
    if (top) {
      struct stat nt;
      if (stat(dst, &nt) == 0) {
        g_top_dev = nt.st_dev;
        g_top_ino = nt.st_ino;
        g_have_top = 1;
      }
    }
    struct cu_list names = {0};
    if (cu_read_dir(src, 0, &names) != 0) {
      cu_err("cannot open directory", src, errno);
      return 1;
    }
    int rc = 0;
    for (size_t i = 0; i < names.n; ++i) {
      char *s = cu_join(src, names.v[i]);
      char *d = cu_join(dst, names.v[i]);
      rc |= copy_tree_rec(s, d, follow, no_clobber, 0);
      free(s);
      free(d);
    }
    cu_list_free(&names);
    return rc;
  }
  if (dst_exists && no_clobber) return 0;
  if (dst_exists && S_ISDIR(dt.st_mode)) {
    cu_errx("cannot overwrite directory '%s' with non-directory", dst);
    return 1;
  }
  if (S_ISLNK(st.st_mode)) {
    size_t cap = 256;
    char *target = NULL;
    ssize_t n;
    for (;;) {
      target = cu_xrealloc(target, cap);
      n = readlink(src, target, cap);
      if (n < 0 || (size_t)n < cap) break;
      cap *= 2;
    }
    if (n < 0) {
      cu_err("cannot read symbolic link", src, errno);
      free(target);
      return 1;
    }
    target[n] = '\0';
    if (dst_exists) unlink(dst);
    int rc = 0;
    if (symlink(target, dst) != 0) {
      cu_err("cannot create symbolic link", dst, errno);
      rc = 1;
    }
    free(target);
    return rc;
  }
  if (!S_ISREG(st.st_mode)) {
    cu_errx("'%s': not a regular file, directory or symbolic link; skipping", src);
    return 1;
  }
  // An existing symlink destination is written through, as GNU does (the sandbox still
  // refuses a target outside the grants); a dangling one is refused rather than created.
  if (dst_exists && S_ISLNK(dt.st_mode) && stat(dst, &dt) != 0) {
    if (errno == ENOENT) {
      cu_errx("not writing through dangling symlink '%s'", dst);
    } else {
      cu_err("cannot stat", dst, errno);  // e.g. a link the sandbox will not follow
    }
    return 1;
  }
  if (dst_exists && dt.st_dev == st.st_dev && dt.st_ino == st.st_ino) {
    cu_errx("'%s' and '%s' are the same file", src, dst);
    return 1;
  }
  return cu_copy_file(src, dst) == 0 ? 0 : 1;
}

int cu_copy_tree(const char *src, const char *dst, int follow, int no_clobber) {
  g_have_top = 0;
  int rc = copy_tree_rec(src, dst, follow, no_clobber, 1);
  g_have_top = 0;
  return rc;
}

int cu_remove_tree(const char *path, int force) {
  struct stat st;
  if (lstat(path, &st) != 0) {
    if (force && errno == ENOENT) return 0;
    cu_err("cannot remove", path, errno);
    return 1;
  }
  if (!S_ISDIR(st.st_mode)) {
    if (unlink(path) != 0 && !(force && errno == ENOENT)) {
      cu_err("cannot remove", path, errno);
      return 1;
    }
    return 0;
  }
  struct cu_list names = {0};
  if (cu_read_dir(path, 0, &names) != 0) {
    cu_err("cannot remove", path, errno);
    return 1;
  }
  int rc = 0;
  for (size_t i = 0; i < names.n; ++i) {
    char *child = cu_join(path, names.v[i]);
    rc |= cu_remove_tree(child, force);
    free(child);
  }
  cu_list_free(&names);
  if (rmdir(path) != 0) {
    // A child that could not be removed already said why.
    if (rc == 0) cu_err("cannot remove", path, errno);
    return 1;
  }
  return rc;
}

// What compat/wasi.h declares and wasi-libc lacks, for libgit2 (README.md).
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

// realpath() by name: PATH made absolute against the working directory, "." and empty
// components dropped, ".." removes the previous component (never above "/"). The result must
// exist (as realpath's does). RESOLVED, when given, has PATH_MAX bytes.
char *realpath(const char *path, char *resolved) {
  char buf[PATH_MAX];
  size_t n = 0;
  if (path == NULL || path[0] == '\0') {
    errno = path == NULL ? EINVAL : ENOENT;
    return NULL;
  }
  if (path[0] != '/') {
    if (getcwd(buf, sizeof buf) == NULL) return NULL;
    n = strlen(buf);
    if (n == 1) n = 0;  // "/": components append "/name"
  }
  const char *p = path;
  while (*p != '\0') {
    while (*p == '/') p++;
    const char *e = p;
    while (*e != '\0' && *e != '/') e++;
    size_t len = (size_t)(e - p);
    if (len == 0 || (len == 1 && p[0] == '.')) {
      // nothing
    } else if (len == 2 && p[0] == '.' && p[1] == '.') {
      while (n > 0 && buf[n - 1] != '/') n--;
      if (n > 0) n--;
    } else {
      if (n + 1 + len >= sizeof buf) {
        errno = ENAMETOOLONG;
        return NULL;
      }
      buf[n++] = '/';
      memcpy(buf + n, p, len);
      n += len;
    }
    p = e;
  }
  if (n == 0) buf[n++] = '/';
  buf[n] = '\0';
  struct stat st;
  if (stat(buf, &st) != 0) return NULL;
  if (resolved == NULL) return strdup(buf);
  memcpy(resolved, buf, n + 1);
  return resolved;
}

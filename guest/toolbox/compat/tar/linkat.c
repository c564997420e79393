/* compat/tar/linkat.c — linkat for tar's unit (build.sh build_tar links it into tar's objects,
 * where it stays local: the rest of the module keeps wasi-libc's).
 *
 * Debian 12's wasi-libc (0.0~git20220510) resolves both paths of a linkat whose directories are
 * AT_FDCWD (or whose paths are absolute) into the one static buffer of its find_relpath: the
 * new path's relative name overwrites the old one's, so `linkat(AT_FDCWD, "src/a.txt",
 * AT_FDCWD, "src/hard", 0)` asks the host to link src/hard to itself and fails with ENOENT.
 * (wasi-libc fixed it upstream in December 2025, its pull request #690.) That is GNU tar's every hard
 * link extracted without -C (extract.c: linkat (chdir_fd, ...), chdir_fd = AT_FDCWD). Here the
 * old path's directory is opened first (one resolution: the working directory joined, `..`
 * folded, as open does), and only its last component is linked from that descriptor, so each
 * path goes through the buffer alone. The sandbox's rules are the host's, unchanged: the host
 * resolves both paths beneath their descriptors' grants. No gnulib header here: gnulib's
 * unistd.h renames linkat (rpl_linkat, which calls this one). */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <wasi/libc-nocwd.h>
#include <wasi/libc.h>

int linkat(int fd1, const char *path1, int fd2, const char *path2, int flag) {
  int dir = fd1;
  const char *name = path1;
  if (fd1 == AT_FDCWD || path1[0] == '/') {
    size_t n = strlen(path1);
    if (n > 0 && path1[n - 1] == '/') {  /* a directory (or not one: ENOTDIR), as Linux says */
      dir = openat(fd1, path1, O_RDONLY | O_DIRECTORY);
      if (dir < 0) return -1;
      close(dir);
      return errno = EPERM, -1;
    }
    const char *slash = strrchr(path1, '/');
    char *parent = NULL;
    if (slash != NULL) {
      parent = slash == path1 ? strdup("/") : strndup(path1, (size_t)(slash - path1));
      if (parent == NULL) return errno = ENOMEM, -1;
      name = slash + 1;
    }
    dir = openat(fd1, parent != NULL ? parent : ".", O_RDONLY | O_DIRECTORY);
    free(parent);
    if (dir < 0) return -1;
  }
  int r = fd2 == AT_FDCWD || path2[0] == '/'
              ? __wasilibc_link_oldat(dir, name, path2, flag)
              : __wasilibc_nocwd_linkat(dir, name, fd2, path2, flag);
  if (dir != fd1) {
    int e = errno;
    close(dir);
    errno = e;
  }
  return r;
}

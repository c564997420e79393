/* wasmcap: see gzip.h. */
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>

int dup(int fd) {
  (void)fd;
  errno = ENOTSUP;
  return -1;
}
int dup2(int fd, int to) {
  if (fd == to) return fcntl(fd, F_GETFD) < 0 ? -1 : fd;
  errno = ENOTSUP;
  return -1;
}
int chmod(const char *path, mode_t mode) {
  (void)path;
  (void)mode;
  return 0;
}
int fchmod(int fd, mode_t mode) {
  (void)fd;
  (void)mode;
  return 0;
}
/* Declared present to configure (build.sh: ac_cv_func_fchdir=yes) so that gnulib does not emulate
   fchdir by wrapping open/openat/close: its openat then goes through /proc/self/fd, outside every
   preopen. Nothing in gzip calls it. */
int fchdir(int fd) {
  (void)fd;
  errno = ENOSYS;
  return -1;
}
int pipe(int fd[2]) {
  (void)fd;
  errno = ENOSYS;
  return -1;
}

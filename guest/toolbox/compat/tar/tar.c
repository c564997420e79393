/* compat/tar/tar.c — the functions compat/tar/tar.h declares (see there why each answers so). */
#include <errno.h>
#include <stddef.h>
#include <sys/types.h>

#include "tar.h"
#include <pwd.h>
#include <grp.h>

#define NOBODY 65534

uid_t getuid(void) { return NOBODY; }
uid_t geteuid(void) { return NOBODY; }
gid_t getgid(void) { return NOBODY; }
gid_t getegid(void) { return NOBODY; }
int setuid(uid_t u) { return u == NOBODY ? 0 : (errno = EPERM, -1); }
int setgid(gid_t g) { return g == NOBODY ? 0 : (errno = EPERM, -1); }
int initgroups(const char *u, gid_t g) { (void)u; (void)g; return errno = EPERM, -1; }

static mode_t mask = 022;
mode_t umask(mode_t m) {
  mode_t old = mask;
  mask = m & 0777;
  return old;
}

struct passwd *getpwuid(uid_t u) { (void)u; return NULL; }
struct passwd *getpwnam(const char *n) { (void)n; return NULL; }
struct group *getgrgid(gid_t g) { (void)g; return NULL; }
struct group *getgrnam(const char *n) { (void)n; return NULL; }

/* No owners and no permission bits in WASI: a change of owner is not permitted (tar, not root,
 * asks for none unless --same-owner); a change of mode is a no-op that succeeds, as gzip's
 * (compat/gzip.c). */
int chown(const char *p, uid_t u, gid_t g) { (void)p; (void)u; (void)g; return errno = EPERM, -1; }
int lchown(const char *p, uid_t u, gid_t g) { (void)p; (void)u; (void)g; return errno = EPERM, -1; }
int fchown(int f, uid_t u, gid_t g) { (void)f; (void)u; (void)g; return errno = EPERM, -1; }
int fchownat(int d, const char *p, uid_t u, gid_t g, int fl) {
  (void)d; (void)p; (void)u; (void)g; (void)fl;
  return errno = EPERM, -1;
}
int fchmodat(int d, const char *p, mode_t m, int fl) { (void)d; (void)p; (void)m; (void)fl; return 0; }

/* Devices and FIFOs cannot be made in WASI: "Cannot mknod: Operation not supported". */
int mknod(const char *p, mode_t m, dev_t d) { (void)p; (void)m; (void)d; return errno = ENOTSUP, -1; }
int mknodat(int f, const char *p, mode_t m, dev_t d) { (void)f; (void)p; (void)m; (void)d; return errno = ENOTSUP, -1; }
int mkfifo(const char *p, mode_t m) { (void)p; (void)m; return errno = ENOTSUP, -1; }
int mkfifoat(int f, const char *p, mode_t m) { (void)f; (void)p; (void)m; return errno = ENOTSUP, -1; }

/* No processes. */
pid_t fork(void) { return errno = ENOSYS, -1; }
int execv(const char *p, char *const a[]) { (void)p; (void)a; return errno = ENOSYS, -1; }
int execvp(const char *p, char *const a[]) { (void)p; (void)a; return errno = ENOSYS, -1; }
int execl(const char *p, const char *a, ...) { (void)p; (void)a; return errno = ENOSYS, -1; }
int execlp(const char *p, const char *a, ...) { (void)p; (void)a; return errno = ENOSYS, -1; }
pid_t waitpid(pid_t p, int *s, int o) { (void)p; (void)s; (void)o; return errno = ECHILD, -1; }
struct hostent *gethostbyname(const char *n) { (void)n; return NULL; }
int sigwait(const sigset_t *set, int *sig) { (void)set; (void)sig; return ENOSYS; }

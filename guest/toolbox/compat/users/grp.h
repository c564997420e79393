/* compat/users/grp.h — wasi-libc has no <grp.h>: the declarations. What a lookup finds is the
 * program's: nothing for tar (tar/tar.c), the sandbox's user's group for ls, cat and find
 * (coreutils/coreutils.c). */
#ifndef WASMCAP_COMPAT_GRP_H
#define WASMCAP_COMPAT_GRP_H
#include <sys/types.h>
struct group {
  char *gr_name, *gr_passwd;
  gid_t gr_gid;
  char **gr_mem;
};
struct group *getgrgid(gid_t);
struct group *getgrnam(const char *);
#endif

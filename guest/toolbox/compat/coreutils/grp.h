/* compat/coreutils/grp.h — no group database in the WASI sandbox: every lookup finds nothing
 * (coreutils.c), so ls -l prints groups as numbers. */
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

/* compat/coreutils/pwd.h — no user database in the WASI sandbox: every lookup finds nothing
 * (coreutils.c), so ls -l prints owners as numbers (gnulib's idcache, getuser: NULL). */
#ifndef WASMCAP_COMPAT_PWD_H
#define WASMCAP_COMPAT_PWD_H
#include <sys/types.h>
struct passwd {
  char *pw_name, *pw_passwd;
  uid_t pw_uid;
  gid_t pw_gid;
  char *pw_gecos, *pw_dir, *pw_shell;
};
struct passwd *getpwuid(uid_t);
struct passwd *getpwnam(const char *);
#endif

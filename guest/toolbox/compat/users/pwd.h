/* compat/users/pwd.h — wasi-libc has no <pwd.h>: the declarations. What a lookup finds is the
 * program's: nothing for tar (tar/tar.c), the sandbox's one user for ls, cat and find
 * (coreutils/coreutils.c). */
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

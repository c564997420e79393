// libgit2 looks the home directory up in the password database only when it runs setuid or in
// a macOS sandbox (sysdir.c); otherwise $HOME. WASI has no users: the lookup finds no entry.
#ifndef WASMCAP_GIT_COMPAT_PWD_H
#define WASMCAP_GIT_COMPAT_PWD_H
#include <errno.h>
#include <stddef.h>
#include <sys/types.h>

struct passwd {
  char *pw_name;
  char *pw_passwd;
  uid_t pw_uid;
  gid_t pw_gid;
  char *pw_gecos;
  char *pw_dir;
  char *pw_shell;
};
static inline int getpwuid_r(uid_t uid, struct passwd *pwd, char *buf, size_t len,
                             struct passwd **result) {
  (void)uid, (void)pwd, (void)buf, (void)len;
  *result = NULL;
  return 0;
}
#endif

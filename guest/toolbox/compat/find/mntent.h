/* wasmcap: compat/find/mntent.h — the sandbox has no mount table. gnulib's mountlist (find's
   -fstype and %F) reads the one-argument getmntent's table, MOUNTED, through fopen (no setmntent
   here); no such file is granted, so the list is empty and find says the type is unknown. Also
   what configure's test compiles (build.sh: ac_cv_func_getmntent=yes). */
#ifndef WASMCAP_COMPAT_MNTENT_H
#define WASMCAP_COMPAT_MNTENT_H
#include <stdio.h>
struct mntent {
  char *mnt_fsname, *mnt_dir, *mnt_type, *mnt_opts;
  int mnt_freq, mnt_passno;
};
#define MOUNTED "/etc/mtab"
static inline struct mntent *getmntent(FILE *f) {
  (void)f;
  return NULL;
}
#endif

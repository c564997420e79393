/* wasmcap: forced include for GNU coreutils' ls and cat, and GNU find (after compat.h and gzip.h;
   no includes: gnulib's headers want config.h first). */
#ifndef WASMCAP_TOOLBOX_COREUTILS_H
#define WASMCAP_TOOLBOX_COREUTILS_H
/* wasi-libc maps DT_* to WASI file types and has no DT_SOCK, which ls names: a value no other
   DT_ has (WASI's datagram socket type; nothing the sandbox lists is one), as compat/grep.h.
   Expanded where ls uses it, after <dirent.h>. */
#define DT_SOCK __WASI_FILETYPE_SOCKET_DGRAM
struct stat;
/* RC is stat's or lstat's result for NAME; when it is 0, fills in what WASI's filestat lacks
   (coreutils.c): the sandbox's user as owner and group, permission bits from what the grant
   allows, and an estimated block count. Returns RC (patches/coreutils/01). */
int wasmcap_stat_fill(const char *name, struct stat *st, int rc);
/* The same for fstatat's DIRFD and NAME (patches/findutils/06: find's stats and fts's). */
int wasmcap_stat_fill_at(int dirfd, const char *name, struct stat *st, int rc);
/* faccessat as the filled permission bits answer it: X_OK for directories only. */
int wasmcap_faccessat(int dirfd, const char *name, int mode, int flags);
#endif

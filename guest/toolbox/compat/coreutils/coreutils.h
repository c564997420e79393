/* wasmcap: forced include for GNU coreutils' ls and cat (after compat.h and gzip.h; no includes:
   gnulib's headers want config.h first). */
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
#endif

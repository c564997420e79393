/* compat/column/column.h — forced into every file of column's unit (build.sh build_column): what
 * util-linux's include/c.h and libsmartcols' debug set-up call and wasi-libc lacks. The sandbox's
 * process is its one user, uid and gid 1000, as compat/coreutils/ says (only the check that
 * $LIBSMARTCOLS_DEBUG is not honoured in a set-uid program reads them); changing user fails.
 * No terminal has a name (lib/ttyutils.c's get_terminal_name, compiled but not called by column). */
#ifndef WASMCAP_COMPAT_COLUMN_H
#define WASMCAP_COMPAT_COLUMN_H
#include <errno.h>
#include <sys/types.h>

static inline uid_t getuid(void) { return 1000; }
static inline uid_t geteuid(void) { return 1000; }
static inline gid_t getgid(void) { return 1000; }
static inline gid_t getegid(void) { return 1000; }
static inline int setuid(uid_t u) { (void)u; errno = EPERM; return -1; }
static inline int setgid(gid_t g) { (void)g; errno = EPERM; return -1; }
static inline char *ttyname(int fd) { (void)fd; errno = ENOTTY; return 0; }
#endif

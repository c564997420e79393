/* compat/tar/tar.h — forced into every GNU tar unit (build.sh build_tar) after compat.h and
 * gzip.h: what tar and its gnulib expect and wasi-libc lacks. tar.c defines the functions.
 *
 * - users and groups: the sandbox's process is not root (uid/gid 65534, "nobody" by number;
 *   getuid() 0 would make tar restore owners with chown, which WASI has not); no user or group
 *   database (compat/users' pwd.h, grp.h: every lookup finds nothing, so archives carry numbers
 *   unless --owner/--group name them); umask 022.
 * - processes: fork/exec/waitpid fail with ENOSYS ("Function not implemented"), so
 *   --to-command, --info-script, --checkpoint-action=exec, --rsh-command and `tar -I PROG`
 *   are refused by tar's own messages; -z runs gzip in this process (tar-wasi.c).
 * - signals: --checkpoint-action=wait=SIG waits for none (sigwait fails: ENOSYS).
 * Declarations only (no system header declaring functions here: configure's function checks
 * would see it). */
#ifndef WASMCAP_COMPAT_TAR_H
#define WASMCAP_COMPAT_TAR_H
#include <sys/types.h>
#include <__typedef_sigset_t.h> /* wasi-libc's sigset_t alone (not <signal.h>) */

uid_t getuid(void);
uid_t geteuid(void);
gid_t getgid(void);
gid_t getegid(void);
int setuid(uid_t);
int setgid(gid_t);
mode_t umask(mode_t);
int initgroups(const char *, gid_t);
int chown(const char *, uid_t, gid_t);
int lchown(const char *, uid_t, gid_t);
int fchown(int, uid_t, gid_t);
int fchownat(int, const char *, uid_t, gid_t, int);
int fchmodat(int, const char *, mode_t, int);
int mknod(const char *, mode_t, dev_t);
int mknodat(int, const char *, mode_t, dev_t);
int mkfifo(const char *, mode_t);
int mkfifoat(int, const char *, mode_t);
pid_t fork(void);
int execv(const char *, char *const[]);
int execvp(const char *, char *const[]);
int execl(const char *, const char *, ...);
int execlp(const char *, const char *, ...);
pid_t waitpid(pid_t, int *, int);
struct hostent *gethostbyname(const char *);
int sigwait(const sigset_t *, int *);
#endif

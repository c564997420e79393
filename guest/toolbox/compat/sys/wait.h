/* wasmcap: WASI has no processes; the status macros for code that never gets a status. */
#ifndef WASMCAP_COMPAT_SYS_WAIT_H
#define WASMCAP_COMPAT_SYS_WAIT_H
#include <sys/types.h>
#define WNOHANG 1
#define WIFEXITED(s) (((s) & 0x7f) == 0)
#define WEXITSTATUS(s) (((s) >> 8) & 0xff)
#define WIFSIGNALED(s) (((s) & 0x7f) != 0 && ((s) & 0x7f) != 0x7f)
#define WTERMSIG(s) ((s) & 0x7f)
#define WIFSTOPPED(s) (((s) & 0xff) == 0x7f)
#define WSTOPSIG(s) WEXITSTATUS(s)
pid_t wait(int *);
pid_t waitpid(pid_t, int *, int);
#endif

/* wasmcap: wasi-libc's emulated signals plus no-op signal blocking (no asynchronous signals). */
#include <sys/types.h>
#include_next <signal.h>
#ifndef WASMCAP_COMPAT_SIGNAL_H
#define WASMCAP_COMPAT_SIGNAL_H
#ifndef SA_RESTART
#define SA_RESTART 0
#endif
int sigemptyset(sigset_t *);
int sigfillset(sigset_t *);
int sigaddset(sigset_t *, int);
int sigdelset(sigset_t *, int);
int sigismember(const sigset_t *, int);
int sigprocmask(int, const sigset_t *, sigset_t *);
struct sigaction {
  void (*sa_handler)(int);
  sigset_t sa_mask;
  int sa_flags;
};
#ifndef SA_NOCLDSTOP
#define SA_NOCLDSTOP 1
#endif
#define SIG_BLOCK 0
#define SIG_UNBLOCK 1
#define SIG_SETMASK 2
int sigaction(int, const struct sigaction *, struct sigaction *);
int kill(pid_t, int);
#endif

/* wasmcap: what gnulib-based programs call that WASI does not have, as no-ops or refusals. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
int sigemptyset(sigset_t *s) { memset(s, 0, sizeof *s); return 0; }
int sigfillset(sigset_t *s) { memset(s, 0xff, sizeof *s); return 0; }
int sigaddset(sigset_t *s, int n) { (void)s; (void)n; return 0; }
int sigdelset(sigset_t *s, int n) { (void)s; (void)n; return 0; }
int sigismember(const sigset_t *s, int n) { (void)s; (void)n; return 0; }
int sigprocmask(int h, const sigset_t *s, sigset_t *o) { (void)h; (void)s; if (o) memset(o, 0, sizeof *o); return 0; }
int sigaction(int n, const struct sigaction *a, struct sigaction *o) { (void)n; (void)a; if (o) memset(o, 0, sizeof *o); return 0; }
int kill(pid_t p, int s) { (void)p; (void)s; errno = ENOSYS; return -1; }
void tzset(void) {}
void flockfile(FILE *f) { (void)f; }
void funlockfile(FILE *f) { (void)f; }
FILE *popen(const char *c, const char *m) { (void)c; (void)m; errno = ENOSYS; return NULL; }
int pclose(FILE *f) { (void)f; errno = ENOSYS; return -1; }
/* C11 threads for gnulib's setlocale lock: one thread, so no locking; call_once runs once. */
void call_once(int *flag, void (*f)(void)) { if (!*flag) { *flag = 1; f(); } }
int mtx_init(void *m, int t) { (void)m; (void)t; return 0; }
int mtx_lock(void *m) { (void)m; return 0; }
int mtx_unlock(void *m) { (void)m; return 0; }

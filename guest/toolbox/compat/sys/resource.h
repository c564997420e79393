/* wasmcap: WASI has no resource limits; getrlimit says "unlimited" for what it is asked. */
#ifndef WASMCAP_COMPAT_SYS_RESOURCE_H
#define WASMCAP_COMPAT_SYS_RESOURCE_H
#include <sys/time.h>
typedef unsigned long long rlim_t;
struct rlimit { rlim_t rlim_cur, rlim_max; };
#define RLIM_INFINITY (~(rlim_t)0)
#define RLIMIT_STACK 3
#define RLIMIT_NOFILE 7
#define RLIMIT_AS 9
#define RLIMIT_DATA 2
static inline int getrlimit(int r, struct rlimit *l) { (void)r; l->rlim_cur = l->rlim_max = RLIM_INFINITY; return 0; }
static inline int setrlimit(int r, const struct rlimit *l) { (void)r; (void)l; return 0; }
#endif

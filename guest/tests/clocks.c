// Reads every WASI clock through the raw API and prints key=value lines:
//   realtime=NS realtime_res=NS monotonic_ok=1 process_cputime=NS thread_cputime=NS
//   invalid_clock_errno=E invalid_res_errno=E
// Exits 1 if a valid clock fails.
#include <stdio.h>
#include <wasi/api.h>

static int bad = 0;

static unsigned long long get(__wasi_clockid_t id, const char* name) {
  __wasi_timestamp_t t = 0;
  __wasi_errno_t e = __wasi_clock_time_get(id, 1, &t);
  if (e != 0) {
    printf("%s_errno=%u\n", name, e);
    bad = 1;
  }
  return t;
}

static unsigned long long res(__wasi_clockid_t id, const char* name) {
  __wasi_timestamp_t t = 0;
  __wasi_errno_t e = __wasi_clock_res_get(id, &t);
  if (e != 0) {
    printf("%s_res_errno=%u\n", name, e);
    bad = 1;
  }
  return t;
}

int main(void) {
  printf("realtime=%llu\n", get(__WASI_CLOCKID_REALTIME, "realtime"));
  printf("realtime_res=%llu\n", res(__WASI_CLOCKID_REALTIME, "realtime"));
  printf("monotonic_res=%llu\n", res(__WASI_CLOCKID_MONOTONIC, "monotonic"));
  printf("process_cputime_res=%llu\n", res(__WASI_CLOCKID_PROCESS_CPUTIME_ID, "process"));
  printf("thread_cputime_res=%llu\n", res(__WASI_CLOCKID_THREAD_CPUTIME_ID, "thread"));

  // Monotonic: 2000 consecutive reads never go backwards.
  unsigned long long prev = get(__WASI_CLOCKID_MONOTONIC, "monotonic");
  int monotonic_ok = 1;
  for (int i = 0; i < 2000; i++) {
    unsigned long long now = get(__WASI_CLOCKID_MONOTONIC, "monotonic");
    if (now < prev) monotonic_ok = 0;
    prev = now;
  }
  printf("monotonic_ok=%d\n", monotonic_ok);
  printf("monotonic=%llu\n", prev);

  // CPU-time clocks advance while the guest computes.
  unsigned long long c0 = get(__WASI_CLOCKID_PROCESS_CPUTIME_ID, "process_cputime");
  volatile unsigned sink = 0;
  for (unsigned i = 0; i < 200000; i++) sink += i;
  unsigned long long c1 = get(__WASI_CLOCKID_PROCESS_CPUTIME_ID, "process_cputime");
  unsigned long long t1 = get(__WASI_CLOCKID_THREAD_CPUTIME_ID, "thread_cputime");
  printf("process_cputime=%llu\n", c1);
  printf("process_cputime_advanced=%d\n", c1 > c0);
  printf("thread_cputime=%llu\n", t1);

  __wasi_timestamp_t t = 0;
  printf("invalid_clock_errno=%u\n", __wasi_clock_time_get(4, 1, &t));
  printf("invalid_clock_errno_big=%u\n", __wasi_clock_time_get(0xFFFFFFFFu, 1, &t));
  printf("invalid_res_errno=%u\n", __wasi_clock_res_get(99, &t));
  return bad;
}

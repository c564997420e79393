// poll_oneoff clock subscriptions. argv[1] = milliseconds to sleep (default 100), or "forever":
// a relative timeout of UINT64_MAX ns (an infinite wait).
// Prints:
//   rel_errno=E nevents=N userdata=U type=T event_errno=E elapsed_ms=M
//   abs_errno=E abs_elapsed_ms=M  (absolute-time subscription, half the duration)
//   zero_subs_errno=E  yield_errno=E
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wasi/api.h>

static unsigned long long now_ns(void) {
  __wasi_timestamp_t t = 0;
  if (__wasi_clock_time_get(__WASI_CLOCKID_MONOTONIC, 1, &t) != 0) return 0;
  return t;
}

int main(int argc, char** argv) {
  unsigned long long ms = argc > 1 ? strtoull(argv[1], NULL, 10) : 100;
  __wasi_subscription_t sub;
  __wasi_event_t ev[2];
  __wasi_size_t n = 0;

  memset(&sub, 0, sizeof sub);
  memset(ev, 0, sizeof ev);
  sub.userdata = 0xC10C;
  sub.u.tag = __WASI_EVENTTYPE_CLOCK;
  sub.u.u.clock.id = __WASI_CLOCKID_MONOTONIC;
  sub.u.u.clock.timeout = argc > 1 && strcmp(argv[1], "forever") == 0 ? ~0ull : ms * 1000000ull;
  sub.u.u.clock.precision = 0;
  sub.u.u.clock.flags = 0;
  unsigned long long t0 = now_ns();
  __wasi_errno_t e = __wasi_poll_oneoff(&sub, ev, 1, &n);
  unsigned long long t1 = now_ns();
  printf("rel_errno=%u\n", e);
  printf("nevents=%u\n", (unsigned)n);
  printf("userdata=%llu\n", (unsigned long long)ev[0].userdata);
  printf("type=%u\n", ev[0].type);
  printf("event_errno=%u\n", ev[0].error);
  printf("elapsed_ms=%llu\n", (t1 - t0) / 1000000ull);

  // Absolute deadline on the monotonic clock.
  memset(ev, 0, sizeof ev);
  sub.userdata = 0xAB5;
  sub.u.u.clock.timeout = now_ns() + ms * 500000ull;
  sub.u.u.clock.flags = __WASI_SUBCLOCKFLAGS_SUBSCRIPTION_CLOCK_ABSTIME;
  t0 = now_ns();
  e = __wasi_poll_oneoff(&sub, ev, 1, &n);
  t1 = now_ns();
  printf("abs_errno=%u\n", e);
  printf("abs_userdata=%llu\n", (unsigned long long)ev[0].userdata);
  printf("abs_elapsed_ms=%llu\n", (t1 - t0) / 1000000ull);

  printf("zero_subs_errno=%u\n", __wasi_poll_oneoff(&sub, ev, 0, &n));
  printf("yield_errno=%u\n", __wasi_sched_yield());
  return 0;
}

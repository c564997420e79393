// Prints what the guest can learn of time and randomness, one key=value line each, for the
// determinism tests (tests/runtime/determinism_test.cc): every WASI clock (value and
// resolution, or the errno), a clock sleep through poll_oneoff, random bytes in hex (three
// calls of 32, 100 and 200 bytes: the seeded stream must continue across calls and blocks),
// and with a directory argument the mtime that fd_filestat_set_times(*_NOW) gives a new file in it.
// Never exits non-zero for a refused call: the errno is the output.
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <wasi/api.h>

static const char* kNames[] = {"realtime", "monotonic", "process_cputime", "thread_cputime"};

static void clock_line(__wasi_clockid_t id) {
  __wasi_timestamp_t t = 0;
  __wasi_errno_t e = __wasi_clock_time_get(id, 1, &t);
  if (e != 0) printf("%s_errno=%u\n", kNames[id], e);
  else printf("%s=%llu\n", kNames[id], (unsigned long long)t);
}

static void random_line(const char* name, size_t n) {
  static unsigned char buf[256];
  __wasi_errno_t e = __wasi_random_get(buf, n);
  if (e != 0) {
    printf("%s_errno=%u\n", name, e);
    return;
  }
  printf("%s=", name);
  for (size_t i = 0; i < n; i++) printf("%02x", buf[i]);
  printf("\n");
}

int main(int argc, char** argv) {
  for (__wasi_clockid_t id = 0; id < 4; id++) {
    __wasi_timestamp_t r = 0;
    __wasi_errno_t e = __wasi_clock_res_get(id, &r);
    if (e != 0) printf("%s_res_errno=%u\n", kNames[id], e);
    else printf("%s_res=%llu\n", kNames[id], (unsigned long long)r);
    clock_line(id);
  }
  clock_line(__WASI_CLOCKID_REALTIME);
  clock_line(__WASI_CLOCKID_MONOTONIC);

  // Sleep 1.5 s on the monotonic clock (relative), then read it again.
  __wasi_subscription_t sub;
  memset(&sub, 0, sizeof sub);
  sub.userdata = 7;
  sub.u.tag = __WASI_EVENTTYPE_CLOCK;
  sub.u.u.clock.id = __WASI_CLOCKID_MONOTONIC;
  sub.u.u.clock.timeout = 1500000000ull;
  __wasi_event_t ev;
  __wasi_size_t n = 0;
  __wasi_errno_t e = __wasi_poll_oneoff(&sub, &ev, 1, &n);
  printf("sleep_errno=%u events=%u event_errno=%u\n", e, (unsigned)n, n ? ev.error : 0);
  clock_line(__WASI_CLOCKID_MONOTONIC);

  random_line("random32", 32);
  random_line("random100", 100);
  random_line("random200", 200);

  if (argc > 1) {
    char path[512];
    snprintf(path, sizeof path, "%s/stamp", argv[1]);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) {
      printf("open_failed\n");
      return 0;
    }
    // The raw call: this wasi-libc's futimens/utimensat read times[] even when it is NULL
    // (they do not send the *_NOW flags for a NULL argument), so "now" is asked for directly.
    __wasi_errno_t te = __wasi_fd_filestat_set_times(
        fd, 0, 0, __WASI_FSTFLAGS_ATIM_NOW | __WASI_FSTFLAGS_MTIM_NOW);
    if (te != 0) printf("futimens_errno=%u\n", te);
    struct stat st;
    if (fstat(fd, &st) == 0) {
      printf("stamp_mtime=%lld.%09ld\n", (long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
    }
    close(fd);
  }
  return 0;
}

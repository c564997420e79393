// Guest for tests/runtime/host_work_test.cc: long host calls, in loops or alone, and special
// files. Each mode either runs until the host stops it (deadline, fuel) or prints one result.
//
//   host_hog random N          loop: random_get of N bytes
//   host_hog random_once N     one random_get of N bytes; prints "errno=E"
//   host_hog random_count K N  K random_get calls of N bytes, then exits 0
//   host_hog write PATH        loop: 16 MiB pwrite at offset 0 of PATH (created)
//   host_hog read PATH         loop: 16 MiB pread at offset 0 of PATH
//   host_hog readdir PATH      loop: reads all of directory PATH from cookie 0
//   host_hog fifo PATH         opens PATH for reading, then for writing, then reads one byte
//   host_hog poll_rel NS       one relative CLOCK_MONOTONIC subscription of NS ns (u64)
//   host_hog poll_abs NS       one absolute CLOCK_MONOTONIC subscription at NS ns (u64)
//   host_hog poll_abs_rt MS    one absolute CLOCK_REALTIME subscription MS ms from now
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <wasi/api.h>

#define BIG (16u << 20)
static uint8_t buf[BIG];

static uint64_t u64(const char* s) { return strtoull(s, NULL, 10); }

static int open_dir(const char* path) {
  int fd = open(path, O_RDONLY | O_DIRECTORY);
  if (fd < 0) {
    printf("open %s: errno=%d\n", path, errno);
    exit(2);
  }
  return fd;
}

static int poll_clock(__wasi_clockid_t id, uint64_t timeout, int abs) {
  __wasi_subscription_t sub;
  memset(&sub, 0, sizeof sub);
  sub.userdata = 42;
  sub.u.tag = __WASI_EVENTTYPE_CLOCK;
  sub.u.u.clock.id = id;
  sub.u.u.clock.timeout = timeout;
  sub.u.u.clock.flags = abs ? __WASI_SUBCLOCKFLAGS_SUBSCRIPTION_CLOCK_ABSTIME : 0;
  __wasi_event_t ev;
  __wasi_size_t n = 0;
  __wasi_errno_t e = __wasi_poll_oneoff(&sub, &ev, 1, &n);
  printf("poll errno=%d events=%u userdata=%llu\n", e, (unsigned)n,
         (unsigned long long)ev.userdata);
  return 0;
}

int main(int argc, char** argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: host_hog MODE ARG...\n");
    return 2;
  }
  const char* mode = argv[1];
  if (strcmp(mode, "random") == 0) {
    uint32_t n = (uint32_t)u64(argv[2]);
    for (;;) (void)__wasi_random_get(buf, n);
  }
  if (strcmp(mode, "random_once") == 0) {
    __wasi_errno_t e = __wasi_random_get(buf, (uint32_t)u64(argv[2]));
    printf("errno=%d\n", e);
    return 0;
  }
  if (strcmp(mode, "random_count") == 0 && argc >= 4) {
    uint64_t k = u64(argv[2]);
    uint32_t n = (uint32_t)u64(argv[3]);
    for (uint64_t i = 0; i < k; ++i) {
      if (__wasi_random_get(buf, n) != 0) return 3;
    }
    return 0;
  }
  if (strcmp(mode, "write") == 0 || strcmp(mode, "read") == 0) {
    int w = mode[0] == 'w';
    int fd = open(argv[2], w ? (O_WRONLY | O_CREAT) : O_RDONLY, 0644);
    if (fd < 0) {
      printf("open: errno=%d\n", errno);
      return 2;
    }
    __wasi_iovec_t iov = {buf, BIG};
    __wasi_ciovec_t ciov = {buf, BIG};
    __wasi_size_t n;
    for (;;) {
      if (w) {
        (void)__wasi_fd_pwrite(fd, &ciov, 1, 0, &n);
      } else {
        (void)__wasi_fd_pread(fd, &iov, 1, 0, &n);
      }
    }
  }
  if (strcmp(mode, "readdir") == 0) {
    int fd = open_dir(argv[2]);
    __wasi_size_t used;
    for (;;) (void)__wasi_fd_readdir(fd, buf, BIG, 0, &used);
  }
  if (strcmp(mode, "fifo") == 0) {
    int r = open(argv[2], O_RDONLY | O_NONBLOCK);
    if (r < 0) {
      printf("open for reading refused: errno=%d\n", errno);
      return 1;
    }
    int w = open(argv[2], O_WRONLY);
    if (w < 0) {
      printf("open for writing refused: errno=%d\n", errno);
      return 1;
    }
    // Back to blocking: wasi-libc passes the flag through fd_fdstat_set_flags.
    int fl = fcntl(r, F_GETFL);
    fcntl(r, F_SETFL, fl & ~O_NONBLOCK);
    char c;
    ssize_t n = read(r, &c, 1);  // nobody writes: blocks
    printf("read returned %d\n", (int)n);
    return 0;
  }
  if (strcmp(mode, "poll_rel") == 0) return poll_clock(__WASI_CLOCKID_MONOTONIC, u64(argv[2]), 0);
  if (strcmp(mode, "poll_abs") == 0) return poll_clock(__WASI_CLOCKID_MONOTONIC, u64(argv[2]), 1);
  if (strcmp(mode, "poll_abs_rt") == 0) {
    __wasi_timestamp_t now = 0;
    (void)__wasi_clock_time_get(__WASI_CLOCKID_REALTIME, 1, &now);
    return poll_clock(__WASI_CLOCKID_REALTIME, now + u64(argv[2]) * 1000000ull, 1);
  }
  fprintf(stderr, "unknown mode %s\n", mode);
  return 2;
}

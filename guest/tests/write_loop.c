// Writes "y\n" to stdout N times (argv[1], default 1) with write(2), then "done" to stderr and
// exits 0. A failed write prints "write error: <strerror>" to stderr and exits 3, as coreutils'
// tools report a write into a closed pipe when SIGPIPE does not end them.
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char** argv) {
  long n = argc > 1 ? atol(argv[1]) : 1;
  for (long i = 0; i < n; i++) {
    if (write(1, "y\n", 2) != 2) {
      fprintf(stderr, "write error: %s\n", strerror(errno));
      return 3;
    }
  }
  fprintf(stderr, "done\n");
  return 0;
}

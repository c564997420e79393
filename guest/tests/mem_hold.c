// Takes N MiB (argv[1], default 1) with malloc, touching every byte, then writes the line
// "holding N MiB" to stdout again and again until a write fails (the reader is gone): it holds
// the memory for as long as the next stage of its pipeline runs. Exits 1, saying so on stderr,
// when the memory cannot be had; 0 when its stdout closes.
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char** argv) {
  long mib = argc > 1 ? atol(argv[1]) : 1;
  char* volatile p = malloc((size_t)mib << 20);
  if (p == NULL) {
    fprintf(stderr, "mem_hold: cannot have %ld MiB\n", mib);
    return 1;
  }
  memset(p, 0x5A, (size_t)mib << 20);
  char line[64];
  int n = snprintf(line, sizeof line, "holding %ld MiB\n", mib);
  while (write(1, line, (size_t)n) == n) {
  }
  return p[0] == 0x5A ? 0 : 2;
}

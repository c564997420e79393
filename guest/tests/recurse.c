// Recurses argv[1] levels and prints "depth N ok". A real, non-tail recursion: the volatile
// store after the call keeps the compiler from turning it into a loop.
//   recurse N            direct calls (wasm `call`)
//   recurse N indirect   through a function pointer (wasm `call_indirect`)
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static volatile int sink;

__attribute__((noinline)) static int down(int n) {
  if (n == 0) return 0;
  int r = down(n - 1);
  sink = r;
  return r + 1;
}

static int down_indirect(int n);
static int (*volatile next)(int) = down_indirect;

__attribute__((noinline)) static int down_indirect(int n) {
  if (n == 0) return 0;
  int r = next(n - 1);
  sink = r;
  return r + 1;
}

int main(int argc, char** argv) {
  int n = argc > 1 ? atoi(argv[1]) : 1000;
  int indirect = argc > 2 && strcmp(argv[2], "indirect") == 0;
  int got = indirect ? next(n) : down(n);
  printf("depth %d ok\n", got);
  return got == n ? 0 : 1;
}

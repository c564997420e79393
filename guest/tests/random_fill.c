// Fills buffers with random_get and prints what it saw:
//   len0_errno=E  fill_errno=E  nonzero_bytes=N  distinct=1 (two 256-byte fills differ)
//   tail_untouched=1 (bytes just past the requested length are not written)
#include <stdio.h>
#include <string.h>
#include <wasi/api.h>

static unsigned char a[272], b[256];

int main(void) {
  printf("len0_errno=%u\n", __wasi_random_get(a, 0));
  memset(a, 0xEE, sizeof a);
  __wasi_errno_t e = __wasi_random_get(a, 256);
  printf("fill_errno=%u\n", e);
  e |= __wasi_random_get(b, 256);
  int nonzero = 0;
  for (int i = 0; i < 256; i++) nonzero += a[i] != 0;
  printf("nonzero_bytes=%d\n", nonzero);
  printf("distinct=%d\n", memcmp(a, b, 256) != 0);
  int tail = 1;
  for (int i = 256; i < 272; i++) tail &= a[i] == 0xEE;
  printf("tail_untouched=%d\n", tail);
  return e != 0;
}

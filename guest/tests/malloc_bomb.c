// Allocates 64 KiB blocks (touching each, keeping them all in a list so the compiler cannot
// drop the allocations) until malloc fails, then reports how much it got and exits 0: a
// well-behaved program meeting the memory cap.
//   "malloc failed cleanly after N KiB"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct block {
  struct block* next;
  char data[64 * 1024 - sizeof(struct block*)];
};

static struct block* volatile head;

int main(void) {
  size_t kib = 0;
  for (;;) {
    struct block* b = malloc(sizeof *b);
    if (b == NULL) break;
    memset(b->data, 0x5A, sizeof b->data);
    b->next = head;
    head = b;
    kib += 64;
    if (kib > (size_t)8 * 1024 * 1024) {  // 8 GiB: impossible on wasm32
      printf("malloc never failed\n");
      return 2;
    }
  }
  size_t blocks = 0;
  for (struct block* b = head; b; b = b->next) blocks += b->data[100] == 0x5A;
  printf("malloc failed cleanly after %zu KiB (%zu blocks intact)\n", kib, blocks);
  return 0;
}

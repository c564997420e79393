// git's rename score (the algorithm of git's diffcore-delta.c and diffcore-rename.c), as a
// libgit2 similarity metric, so that `similarity index N%` and which pairs are renames are
// git's: a file is cut into spans that end at a newline or after 64 bytes (in text a CR before
// LF is skipped), each span hashed into one of 107927 buckets that sums its bytes; two files
// share, per bucket, the smaller sum; the score is the shared bytes over the larger file's size,
// 0 when the sizes differ by more than the 50% git requires.
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "git.h"

#define HASHBASE 107927u

struct span_sig {
  size_t size;
  size_t n;          // buckets used, sorted by hash
  uint64_t *spans;   // hash << 32 | bytes (merged per hash)
};

static int cmp_u64(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a >> 32, y = *(const uint64_t *)b >> 32;
  return x < y ? -1 : x > y;
}

static struct span_sig *sign(const unsigned char *buf, size_t size) {
  struct span_sig *s = calloc(1, sizeof *s);
  // At most one span per byte; at least one per 64 bytes.
  uint64_t *spans = malloc((size + 1) * sizeof *spans);
  if (s == NULL || spans == NULL) {
    free(s);
    free(spans);
    return NULL;
  }
  s->size = size;
  bool text = memchr(buf, 0, size < 8000 ? size : 8000) == NULL;
  size_t used = 0;
  uint32_t a1 = 0, a2 = 0, n = 0;
  for (size_t i = 0; i < size; i++) {
    uint32_t ch = buf[i];
    if (text && ch == '\r' && i + 1 < size && buf[i + 1] == '\n') continue;
    uint32_t old1 = a1;
    a1 = (a1 << 7) ^ (a2 >> 25);
    a2 = (a2 << 7) ^ (old1 >> 25);
    a1 += ch;
    if (++n < 64 && ch != '\n') continue;
    spans[used++] = ((uint64_t)((a1 + a2 * 0x61) % HASHBASE) << 32) | n;
    n = a1 = a2 = 0;
  }
  if (n > 0) spans[used++] = ((uint64_t)((a1 + a2 * 0x61) % HASHBASE) << 32) | n;
  qsort(spans, used, sizeof *spans, cmp_u64);
  size_t out = 0;
  for (size_t i = 0; i < used; i++) {
    if (out > 0 && (spans[out - 1] >> 32) == (spans[i] >> 32))
      spans[out - 1] += spans[i] & 0xffffffffu;
    else
      spans[out++] = spans[i];
  }
  s->spans = spans;
  s->n = out;
  return s;
}

static int file_signature(void **out, const git_diff_file *file, const char *fullpath, void *payload) {
  (void)file, (void)payload;
  FILE *f = fopen(fullpath, "rb");
  if (f == NULL) return -1;
  size_t cap = 65536, len = 0;
  unsigned char *buf = malloc(cap);
  size_t got;
  while (buf != NULL && (got = fread(buf + len, 1, cap - len, f)) > 0) {
    len += got;
    if (len == cap) {
      unsigned char *nb = realloc(buf, cap * 2);
      if (nb == NULL) {
        free(buf);
        buf = NULL;
        break;
      }
      buf = nb;
      cap *= 2;
    }
  }
  fclose(f);
  if (buf == NULL) return -1;
  *out = sign(buf, len);
  free(buf);
  return *out != NULL ? 0 : -1;
}

static int buffer_signature(void **out, const git_diff_file *file, const char *buf, size_t len,
                            void *payload) {
  (void)file, (void)payload;
  *out = sign((const unsigned char *)buf, len);
  return *out != NULL ? 0 : -1;
}

static void free_signature(void *sig, void *payload) {
  (void)payload;
  struct span_sig *s = sig;
  if (s != NULL) free(s->spans);
  free(s);
}

// SCORE in percent, floored as git prints it (git: score * 100 / 60000, score = shared * 60000
// / larger size).
static int similarity(int *score, void *siga, void *sigb, void *payload) {
  (void)payload;
  const struct span_sig *a = siga, *b = sigb;
  size_t max = a->size > b->size ? a->size : b->size, min = a->size < b->size ? a->size : b->size;
  *score = 0;
  if (max == 0 || max * 30000 < (max - min) * 60000) return 0;
  uint64_t shared = 0;
  size_t i = 0, j = 0;
  while (i < a->n && j < b->n) {
    uint64_t ha = a->spans[i] >> 32, hb = b->spans[j] >> 32;
    if (ha < hb) {
      i++;
    } else if (hb < ha) {
      j++;
    } else {
      uint64_t ca = a->spans[i] & 0xffffffffu, cb = b->spans[j] & 0xffffffffu;
      shared += ca < cb ? ca : cb;
      i++, j++;
    }
  }
  uint64_t s60000 = shared * 60000 / max;
  *score = (int)(s60000 * 100 / 60000);
  return 0;
}

const git_diff_similarity_metric git_rename_metric = {file_signature, buffer_signature,
                                                      free_signature, similarity, NULL};

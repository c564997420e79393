// LZ77 compression: one unit generates ~32 KiB of semi-redundant text, compresses it with a
// greedy hash-table LZ77 (4-byte minimum match, 64 KiB window, varint-coded sequences),
// decompresses it with a bounds-checked decoder and checks the round trip. The checksum folds
// the compressed size and bytes.
#include "bench_common.h"

#define INPUT_SIZE (32 * 1024)
#define OUT_CAP (INPUT_SIZE * 2 + 64)
#define HASH_BITS 12
#define MIN_MATCH 4
#define WINDOW 65535

static uint8_t input[INPUT_SIZE], packed[OUT_CAP], unpacked[INPUT_SIZE];
static uint32_t table[1 << HASH_BITS];

static void gen_input(uint64_t* rng) {
  static const char* words[] = {"the ", "quick ", "brown ", "fox ", "jumps ", "over ", "lazy ",
                                "dog ", "wasm ", "module ", "import ", "export ", "\n"};
  size_t n = 0;
  while (n < INPUT_SIZE) {
    uint64_t r = bench_rand(rng);
    if (r % 8 == 0) {  // some incompressible bytes
      input[n++] = (uint8_t)(r >> 8);
      continue;
    }
    const char* w = words[(r >> 16) % 13];
    while (*w && n < INPUT_SIZE) input[n++] = (uint8_t)*w++;
  }
}

static inline uint32_t read32(const uint8_t* p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline uint32_t hash4(uint32_t v) { return (v * 2654435761u) >> (32 - HASH_BITS); }

static size_t put_varint(uint8_t* out, size_t o, uint32_t v) {
  while (v >= 0x80) {
    out[o++] = (uint8_t)(v | 0x80);
    v >>= 7;
  }
  out[o++] = (uint8_t)v;
  return o;
}

static size_t compress(const uint8_t* in, size_t n, uint8_t* out) {
  memset(table, 0xff, sizeof table);  // 0xffffffff = empty
  size_t o = 0, anchor = 0, i = 0;
  while (i + MIN_MATCH <= n) {
    uint32_t h = hash4(read32(in + i));
    uint32_t cand = table[h];
    table[h] = (uint32_t)i;
    if (cand != 0xffffffffu && i - cand <= WINDOW && read32(in + cand) == read32(in + i)) {
      size_t len = MIN_MATCH;
      while (i + len < n && in[cand + len] == in[i + len]) len++;
      o = put_varint(out, o, (uint32_t)(i - anchor));
      memcpy(out + o, in + anchor, i - anchor);
      o += i - anchor;
      o = put_varint(out, o, (uint32_t)(len - MIN_MATCH));
      uint32_t dist = (uint32_t)(i - cand);
      out[o++] = (uint8_t)dist;
      out[o++] = (uint8_t)(dist >> 8);
      i += len;
      anchor = i;
    } else {
      i++;
    }
  }
  o = put_varint(out, o, (uint32_t)(n - anchor));  // final literals, no match
  memcpy(out + o, in + anchor, n - anchor);
  return o + (n - anchor);
}

// Reads a varint at *p (advancing it); returns 0 when it is truncated or too long.
static int get_varint(const uint8_t* in, size_t n, size_t* p, uint32_t* v) {
  uint32_t r = 0;
  for (int shift = 0; shift < 35; shift += 7) {
    if (*p >= n) return 0;
    uint8_t b = in[(*p)++];
    r |= (uint32_t)(b & 0x7f) << shift;
    if (!(b & 0x80)) {
      *v = r;
      return 1;
    }
  }
  return 0;
}

// Returns the decoded size, or (size_t)-1 on malformed input or output overflow.
static size_t decompress(const uint8_t* in, size_t n, uint8_t* out, size_t cap) {
  size_t p = 0, o = 0;
  for (;;) {
    uint32_t lit, mlen;
    if (!get_varint(in, n, &p, &lit) || lit > n - p || lit > cap - o) return (size_t)-1;
    memcpy(out + o, in + p, lit);
    p += lit;
    o += lit;
    if (p == n) return o;
    if (!get_varint(in, n, &p, &mlen) || n - p < 2) return (size_t)-1;
    size_t len = (size_t)mlen + MIN_MATCH;
    size_t dist = (size_t)in[p] | (size_t)in[p + 1] << 8;
    p += 2;
    if (dist == 0 || dist > o || len > cap - o) return (size_t)-1;
    for (size_t k = 0; k < len; k++, o++) out[o] = out[o - dist];  // may overlap
  }
}

int main(int argc, char** argv) {
  int64_t scale = bench_scale(argc, argv);
  uint64_t rng = 1234, sum = 0;
  for (int64_t unit = 0; unit < scale; unit++) {
    gen_input(&rng);
    size_t c = compress(input, INPUT_SIZE, packed);
    size_t d = decompress(packed, c, unpacked, INPUT_SIZE);
    if (d != INPUT_SIZE || memcmp(unpacked, input, INPUT_SIZE) != 0)
      bench_fail("lz", "round trip differs");
    if (c >= INPUT_SIZE) bench_fail("lz", "input did not compress");
    sum = bench_mix(sum, c);
    sum = bench_mix_bytes(sum, packed, c);
  }
  return bench_report("lz", scale, sum);
}

// The hashes cksum -a adds to digest.c's: SHA-384 and SHA-512 (FIPS 180-4), BLAKE2b (RFC 7693,
// unkeyed, any whole number of bytes up to 64), SM3 (GB/T 32905-2016), and cksum's own sums:
// the POSIX CRC (cksum), the System V sum (sum -s) and the BSD sum (sum -r).
#include <errno.h>
#include <math.h>
#include <string.h>
#include <unistd.h>

#include "cu.h"

static uint64_t ror64(uint64_t x, int n) { return (x >> n) | (x << (64 - n)); }
static uint32_t rol32(uint32_t x, int n) { n &= 31; return n ? (x << n) | (x >> (32 - n)) : x; }
static uint64_t be64(const unsigned char *p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = v << 8 | p[i];
  return v;
}
static uint64_t le64(const unsigned char *p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = v << 8 | p[i];
  return v;
}
static uint32_t be32(const unsigned char *p) {
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

// SHA-512's constants from their definition: the first 64 bits of the fractional parts of the
// cube roots of the first 80 primes (K) and of the square roots of the first 16 primes (the
// SHA-512 and SHA-384 initial values; BLAKE2b's IV is SHA-512's). long double is IEEE quad in
// wasm32: 113 bits, of which at most 3 are the integer part, so the 64 bits taken are exact.
static uint64_t k512[80], iv512[8], iv384[8];

static uint64_t frac64(long double x) {
  long double f = x - floorl(x);
  return (uint64_t)(f * 18446744073709551616.0L);
}

static void tables64(void) {
  if (k512[0]) return;
  int primes[80], n = 0;
  for (int p = 2; n < 80; ++p) {
    int prime = 1;
    for (int d = 2; d * d <= p; ++d) prime &= p % d != 0;
    if (prime) primes[n++] = p;
  }
  for (int i = 0; i < 80; ++i) {
    long double x = cbrt((double)primes[i]);
    for (int k = 0; k < 4; ++k) x -= (x * x * x - primes[i]) / (3 * x * x);  // Newton, in quad
    k512[i] = frac64(x);
  }
  for (int i = 0; i < 8; ++i) {
    iv512[i] = frac64(sqrtl((long double)primes[i]));
    iv384[i] = frac64(sqrtl((long double)primes[i + 8]));
  }
}

struct h64 {
  int kind;          // 384, 512, 3 (SM3), CU_B2(bits)
  uint64_t h[8];     // SHA-512 / BLAKE2b state
  uint32_t v[8];     // SM3 state
  unsigned char block[128];
  size_t used, bsize;
  uint64_t total;
};

static void sha512_block(uint64_t *h, const unsigned char *p) {
  uint64_t w[80], v[8];
  for (int i = 0; i < 16; ++i) w[i] = be64(p + 8 * i);
  for (int i = 16; i < 80; ++i) {
    uint64_t s0 = ror64(w[i - 15], 1) ^ ror64(w[i - 15], 8) ^ (w[i - 15] >> 7);
    uint64_t s1 = ror64(w[i - 2], 19) ^ ror64(w[i - 2], 61) ^ (w[i - 2] >> 6);
    w[i] = w[i - 16] + s0 + w[i - 7] + s1;
  }
  memcpy(v, h, sizeof(v));
  for (int i = 0; i < 80; ++i) {
    uint64_t S1 = ror64(v[4], 14) ^ ror64(v[4], 18) ^ ror64(v[4], 41);
    uint64_t ch = (v[4] & v[5]) ^ (~v[4] & v[6]);
    uint64_t t1 = v[7] + S1 + ch + k512[i] + w[i];
    uint64_t S0 = ror64(v[0], 28) ^ ror64(v[0], 34) ^ ror64(v[0], 39);
    uint64_t maj = (v[0] & v[1]) ^ (v[0] & v[2]) ^ (v[1] & v[2]);
    memmove(v + 1, v, 7 * sizeof(uint64_t));
    v[4] += t1;
    v[0] = t1 + S0 + maj;
  }
  for (int i = 0; i < 8; ++i) h[i] += v[i];
}

static const unsigned char b2_sigma[12][16] = {
    {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15},
    {14, 10, 4, 8, 9, 15, 13, 6, 1, 12, 0, 2, 11, 7, 5, 3},
    {11, 8, 12, 0, 5, 2, 15, 13, 10, 14, 3, 6, 7, 1, 9, 4},
    {7, 9, 3, 1, 13, 12, 11, 14, 2, 6, 5, 10, 4, 0, 15, 8},
    {9, 0, 5, 7, 2, 4, 10, 15, 14, 1, 11, 12, 6, 8, 3, 13},
    {2, 12, 6, 10, 0, 11, 8, 3, 4, 13, 7, 5, 15, 14, 1, 9},
    {12, 5, 1, 15, 14, 13, 4, 10, 0, 7, 6, 3, 9, 2, 8, 11},
    {13, 11, 7, 14, 12, 1, 3, 9, 5, 0, 15, 4, 8, 6, 2, 10},
    {6, 15, 14, 9, 11, 3, 0, 8, 12, 2, 13, 7, 1, 4, 10, 5},
    {10, 2, 8, 4, 7, 6, 1, 5, 15, 11, 9, 14, 3, 12, 13, 0},
    {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15},
    {14, 10, 4, 8, 9, 15, 13, 6, 1, 12, 0, 2, 11, 7, 5, 3}};

static void b2_g(uint64_t *v, int a, int b, int c, int d, uint64_t x, uint64_t y) {
  v[a] += v[b] + x; v[d] = ror64(v[d] ^ v[a], 32);
  v[c] += v[d];     v[b] = ror64(v[b] ^ v[c], 24);
  v[a] += v[b] + y; v[d] = ror64(v[d] ^ v[a], 16);
  v[c] += v[d];     v[b] = ror64(v[b] ^ v[c], 63);
}

static void b2_compress(uint64_t *h, const unsigned char *p, uint64_t t, int last) {
  uint64_t m[16], v[16];
  for (int i = 0; i < 16; ++i) m[i] = le64(p + 8 * i);
  memcpy(v, h, 8 * sizeof(uint64_t));
  memcpy(v + 8, iv512, 8 * sizeof(uint64_t));
  v[12] ^= t;
  if (last) v[14] = ~v[14];
  for (int r = 0; r < 12; ++r) {
    const unsigned char *s = b2_sigma[r];
    b2_g(v, 0, 4, 8, 12, m[s[0]], m[s[1]]);
    b2_g(v, 1, 5, 9, 13, m[s[2]], m[s[3]]);
    b2_g(v, 2, 6, 10, 14, m[s[4]], m[s[5]]);
    b2_g(v, 3, 7, 11, 15, m[s[6]], m[s[7]]);
    b2_g(v, 0, 5, 10, 15, m[s[8]], m[s[9]]);
    b2_g(v, 1, 6, 11, 12, m[s[10]], m[s[11]]);
    b2_g(v, 2, 7, 8, 13, m[s[12]], m[s[13]]);
    b2_g(v, 3, 4, 9, 14, m[s[14]], m[s[15]]);
  }
  for (int i = 0; i < 8; ++i) h[i] ^= v[i] ^ v[i + 8];
}

static uint32_t sm3_p0(uint32_t x) { return x ^ rol32(x, 9) ^ rol32(x, 17); }
static uint32_t sm3_p1(uint32_t x) { return x ^ rol32(x, 15) ^ rol32(x, 23); }

static void sm3_block(uint32_t *h, const unsigned char *p) {
  uint32_t w[68], v[8];
  for (int i = 0; i < 16; ++i) w[i] = be32(p + 4 * i);
  for (int i = 16; i < 68; ++i)
    w[i] = sm3_p1(w[i - 16] ^ w[i - 9] ^ rol32(w[i - 3], 15)) ^ rol32(w[i - 13], 7) ^ w[i - 6];
  memcpy(v, h, sizeof(v));
  for (int j = 0; j < 64; ++j) {
    uint32_t a12 = rol32(v[0], 12);
    uint32_t ss1 = rol32(a12 + v[4] + rol32(j < 16 ? 0x79cc4519u : 0x7a879d8au, j), 7);
    uint32_t ss2 = ss1 ^ a12;
    uint32_t ff = j < 16 ? v[0] ^ v[1] ^ v[2] : (v[0] & v[1]) | (v[0] & v[2]) | (v[1] & v[2]);
    uint32_t gg = j < 16 ? v[4] ^ v[5] ^ v[6] : (v[4] & v[5]) | (~v[4] & v[6]);
    uint32_t tt1 = ff + v[3] + ss2 + (w[j] ^ w[j + 4]);
    uint32_t tt2 = gg + v[7] + ss1 + w[j];
    v[3] = v[2]; v[2] = rol32(v[1], 9); v[1] = v[0]; v[0] = tt1;
    v[7] = v[6]; v[6] = rol32(v[5], 19); v[5] = v[4]; v[4] = sm3_p0(tt2);
  }
  for (int i = 0; i < 8; ++i) h[i] ^= v[i];
}

static int is_b2(int kind) { return kind > CU_B2(0) && kind <= CU_B2(512); }

static void h64_init(struct h64 *st, int kind) {
  static const uint32_t sm3_iv[8] = {0x7380166f, 0x4914b2b9, 0x172442d7, 0xda8a0600,
                                     0xa96f30bc, 0x163138aa, 0xe38dee4d, 0xb0fb0e4e};
  tables64();
  memset(st, 0, sizeof(*st));
  st->kind = kind;
  st->bsize = kind == 3 ? 64 : 128;
  if (kind == 3) memcpy(st->v, sm3_iv, sizeof(sm3_iv));
  else memcpy(st->h, kind == 384 ? iv384 : iv512, sizeof(iv512));
  if (is_b2(kind)) st->h[0] ^= 0x01010000u ^ (uint64_t)((kind - CU_B2(0)) / 8);
}

static void h64_block(struct h64 *st, const unsigned char *p) {
  if (st->kind == 3) sm3_block(st->v, p);
  else sha512_block(st->h, p);
}

static void h64_update(struct h64 *st, const unsigned char *p, size_t n) {
  if (is_b2(st->kind)) {
    // BLAKE2b compresses the last block with the final flag: a full block waits for more input.
    while (n > 0) {
      if (st->used == 128) {
        st->total += 128;
        b2_compress(st->h, st->block, st->total, 0);
        st->used = 0;
      }
      size_t k = 128 - st->used < n ? 128 - st->used : n;
      memcpy(st->block + st->used, p, k);
      st->used += k;
      p += k;
      n -= k;
    }
    return;
  }
  st->total += n;
  size_t bs = st->bsize;
  if (st->used) {
    size_t k = bs - st->used < n ? bs - st->used : n;
    memcpy(st->block + st->used, p, k);
    st->used += k;
    p += k;
    n -= k;
    if (st->used < bs) return;
    h64_block(st, st->block);
    st->used = 0;
  }
  for (; n >= bs; p += bs, n -= bs) h64_block(st, p);
  memcpy(st->block, p, n);
  st->used = n;
}

static size_t h64_final(struct h64 *st, char *out) {
  unsigned char dig[64];
  size_t len;
  if (is_b2(st->kind)) {
    st->total += st->used;
    memset(st->block + st->used, 0, 128 - st->used);
    b2_compress(st->h, st->block, st->total, 1);
    len = (size_t)(st->kind - CU_B2(0)) / 8;
    for (size_t i = 0; i < len; ++i) dig[i] = (unsigned char)(st->h[i / 8] >> (8 * (i % 8)));
  } else {
    size_t bs = st->bsize, lenbytes = bs == 64 ? 8 : 16;
    uint64_t bits = st->total * 8, keep = st->total;
    unsigned char pad[256] = {0x80};
    size_t padlen = (st->used < bs - lenbytes ? bs - lenbytes : 2 * bs - lenbytes) - st->used;
    unsigned char lenb[16] = {0};
    for (int i = 0; i < 8; ++i) lenb[lenbytes - 1 - i] = (unsigned char)(bits >> (8 * i));
    if (lenbytes == 16) lenb[7] = (unsigned char)(st->total >> 61);
    h64_update(st, pad, padlen);
    h64_update(st, lenb, lenbytes);
    st->total = keep;
    if (st->kind == 3) {
      len = 32;
      for (int i = 0; i < 32; ++i) dig[i] = (unsigned char)(st->v[i / 4] >> (24 - 8 * (i % 4)));
    } else {
      len = st->kind == 384 ? 48 : 64;
      for (size_t i = 0; i < len; ++i) dig[i] = (unsigned char)(st->h[i / 8] >> (56 - 8 * (i % 8)));
    }
  }
  for (size_t i = 0; i < len; ++i) sprintf(out + 2 * i, "%02x", dig[i]);
  return 2 * len;
}

int cu_hash_ext_fd(int fd, int kind, char *hex) {
  struct h64 st;
  h64_init(&st, kind);
  static unsigned char buf[1 << 16];
  for (;;) {
    ssize_t r = read(fd, buf, sizeof(buf));
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return -1;
    if (r == 0) break;
    h64_update(&st, buf, (size_t)r);
  }
  h64_final(&st, hex);
  return 0;
}

// --- cksum's sums ---------------------------------------------------------------------------

// CRC-32 with the polynomial 0x04C11DB7, most significant bit first, over the data and then
// its length (least significant byte first, as few bytes as it takes), complemented: POSIX cksum.
int cu_sum_fd(int fd, int kind, uint32_t *sum, uint64_t *bytes) {
  static uint32_t table[256];
  if (table[1] == 0) {
    for (uint32_t i = 0; i < 256; ++i) {
      uint32_t c = i << 24;
      for (int k = 0; k < 8; ++k) c = c & 0x80000000u ? (c << 1) ^ 0x04c11db7u : c << 1;
      table[i] = c;
    }
  }
  static unsigned char buf[1 << 16];
  uint32_t crc = 0, s = 0, bsd = 0;
  uint64_t n = 0;
  for (;;) {
    ssize_t r = read(fd, buf, sizeof(buf));
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return -1;
    if (r == 0) break;
    n += (uint64_t)r;
    for (ssize_t i = 0; i < r; ++i) {
      if (kind == CU_CRC) crc = (crc << 8) ^ table[(crc >> 24) ^ buf[i]];
      else if (kind == CU_SYSV) s += buf[i];
      else bsd = (((bsd >> 1) + ((bsd & 1) << 15)) + buf[i]) & 0xffff;
    }
  }
  if (kind == CU_CRC) {
    for (uint64_t len = n; len; len >>= 8) crc = (crc << 8) ^ table[(crc >> 24) ^ (len & 0xff)];
    *sum = ~crc;
  } else if (kind == CU_SYSV) {
    uint32_t r = (s & 0xffff) + (s >> 16);
    *sum = (r & 0xffff) + (r >> 16);
  } else {
    *sum = bsd;
  }
  *bytes = n;
  return 0;
}

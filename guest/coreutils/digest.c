// base64, md5sum, sha1sum, sha256sum and cksum (the hashes from their specifications: RFC 1321,
// FIPS 180-4; cksum's other algorithms are hash64.c's).
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cu.h"

// --- base64 ---------------------------------------------------------------------------------

static const char kB64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static int b64_value(unsigned char c) {
  const char *p = c ? strchr(kB64, c) : NULL;
  return p ? (int)(p - kB64) : -1;
}

// Decodes one group of up to 4 characters as GNU does (gnulib's base64 context decoder): the
// bytes determined before an invalid character are still written. Returns 1 if valid.
static int b64_group(const unsigned char *in, size_t n, FILE *out) {
  if (n < 2) return 0;
  int a = b64_value(in[0]), b = b64_value(in[1]);
  if (a < 0 || b < 0) return 0;
  putc((a << 2) | (b >> 4), out);
  if (n == 2) return 0;
  if (in[2] == '=') return n == 4 && in[3] == '=';
  int c = b64_value(in[2]);
  if (c < 0) return 0;
  putc(((b << 4) & 0xf0) | (c >> 2), out);
  if (n == 3) return 0;
  if (in[3] == '=') return n == 4;
  int d = b64_value(in[3]);
  if (d < 0) return 0;
  putc(((c << 6) & 0xc0) | d, out);
  return 1;
}

static int b64_decode(int fd, int ignore_garbage) {
  static unsigned char buf[1 << 16];
  unsigned char group[4];
  size_t g = 0;
  for (;;) {
    ssize_t r = read(fd, buf, sizeof(buf));
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return -1;
    for (ssize_t i = 0; i < r; ++i) {
      unsigned char c = buf[i];
      if (c == '\n') continue;
      if (ignore_garbage && c != '=' && b64_value(c) < 0) continue;
      group[g++] = c;
      if (g == 4) {
        if (!b64_group(group, 4, stdout)) return 1;
        g = 0;
      }
    }
    if (r == 0) break;
  }
  if (g > 0 && !b64_group(group, g, stdout)) return 1;
  return 0;
}

static int b64_encode(int fd, size_t wrap) {
  static unsigned char buf[3 * (1 << 14)];
  size_t col = 0, have = 0;
  int eof = 0;
  while (!eof) {
    ssize_t r = read(fd, buf + have, sizeof(buf) - have);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return -1;
    if (r == 0) eof = 1;
    have += (size_t)r;
    size_t whole = eof ? have : have - have % 3;
    for (size_t i = 0; i < whole; i += 3) {
      size_t k = whole - i < 3 ? whole - i : 3;
      unsigned v = (unsigned)buf[i] << 16 | (k > 1 ? (unsigned)buf[i + 1] << 8 : 0) | (k > 2 ? buf[i + 2] : 0);
      char q[4] = {kB64[v >> 18], kB64[(v >> 12) & 63], k > 1 ? kB64[(v >> 6) & 63] : '=',
                   k > 2 ? kB64[v & 63] : '='};
      for (int j = 0; j < 4; ++j) {
        putchar(q[j]);
        if (wrap && ++col == wrap) {
          putchar('\n');
          col = 0;
        }
      }
    }
    memmove(buf, buf + whole, have - whole);
    have -= whole;
  }
  if (wrap && col > 0) putchar('\n');
  return 0;
}

int cu_base64(int argc, char **argv) {
  static const struct option longopts[] = {{"decode", no_argument, 0, 'd'},
                                           {"ignore-garbage", no_argument, 0, 'i'},
                                           {"wrap", required_argument, 0, 'w'},
                                           {0, 0, 0, 0}};
  int decode = 0, garbage = 0, c;
  size_t wrap = 76;
  while ((c = getopt_long(argc, argv, "diw:", longopts, NULL)) != -1) {
    switch (c) {
      case 'd': decode = 1; break;
      case 'i': garbage = 1; break;
      case 'w':
        if (cu_parse_count(optarg, &wrap) != 0) {
          cu_errx("invalid wrap size: '%s'", optarg);
          return 1;
        }
        break;
      default: return cu_try_help(1);
    }
  }
  if (argc - optind > 1) {
    cu_errx("extra operand '%s'", argv[optind + 1]);
    return cu_try_help(1);
  }
  const char *name = optind < argc ? argv[optind] : "-";
  int fd = cu_open_input(name);
  if (fd < 0) {
    cu_err(NULL, name, errno);
    return 1;
  }
  int r = decode ? b64_decode(fd, garbage) : b64_encode(fd, wrap);
  cu_close_input(fd);
  if (r < 0) {
    cu_err(NULL, name, errno);
    return 1;
  }
  if (r > 0) {
    fflush(stdout);
    cu_errx("invalid input");
    return 1;
  }
  return 0;
}

// --- hashes ---------------------------------------------------------------------------------

struct hash {
  int kind;  // 5: MD5, 1: SHA-1, 224: SHA-224, 256: SHA-256
  uint32_t h[8];
  unsigned char block[64];
  size_t used;
  uint64_t total;
};

static uint32_t rol(uint32_t x, int n) { return (x << n) | (x >> (32 - n)); }
static uint32_t ror(uint32_t x, int n) { return (x >> n) | (x << (32 - n)); }

static uint32_t md5_k[64], sha256_k[64], sha256_h0[8], sha224_h0[8];

// The constants, derived as the specifications define them: MD5's from sines, SHA-256's from
// the fractional parts of square and cube roots of the first primes (long double is IEEE quad
// in wasm32, so the 32 bits taken are exact; SHA-224's are the second 32 bits of the 9th to
// 16th primes').
static void hash_tables(void) {
  if (md5_k[0]) return;
  for (int i = 0; i < 64; ++i) md5_k[i] = (uint32_t)(fabsl(sinl((long double)(i + 1))) * 4294967296.0L);
  int primes[64], n = 0;
  for (int p = 2; n < 64; ++p) {  // 64 >= 16: SHA-224's too
    int prime = 1;
    for (int d = 2; d * d <= p; ++d) prime &= p % d != 0;
    if (prime) primes[n++] = p;
  }
  for (int i = 0; i < 64; ++i) {
    long double x = cbrt((double)primes[i]);
    for (int k = 0; k < 3; ++k) x -= (x * x * x - primes[i]) / (3 * x * x);  // Newton, in quad
    sha256_k[i] = (uint32_t)((x - floorl(x)) * 4294967296.0L);
    if (i < 8) {
      long double s = sqrtl((long double)primes[i]);
      sha256_h0[i] = (uint32_t)((s - floorl(s)) * 4294967296.0L);
      s = sqrtl((long double)primes[i + 8]);
      sha224_h0[i] = (uint32_t)(uint64_t)((s - floorl(s)) * 18446744073709551616.0L);
    }
  }
}

static void hash_init(struct hash *st, int kind) {
  static const uint32_t h0[5] = {0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476, 0xc3d2e1f0};
  hash_tables();
  memset(st, 0, sizeof(*st));
  st->kind = kind;
  if (kind == 256) memcpy(st->h, sha256_h0, sizeof(sha256_h0));
  else if (kind == 224) memcpy(st->h, sha224_h0, sizeof(sha224_h0));
  else memcpy(st->h, h0, sizeof(h0));
}

static void md5_block(uint32_t *h, const unsigned char *p) {
  static const int s[4][4] = {{7, 12, 17, 22}, {5, 9, 14, 20}, {4, 11, 16, 23}, {6, 10, 15, 21}};
  uint32_t m[16];
  for (int i = 0; i < 16; ++i) m[i] = (uint32_t)p[4 * i] | (uint32_t)p[4 * i + 1] << 8 | (uint32_t)p[4 * i + 2] << 16 | (uint32_t)p[4 * i + 3] << 24;
  uint32_t a = h[0], b = h[1], c = h[2], d = h[3];
  for (int i = 0; i < 64; ++i) {
    uint32_t f;
    int g, r = i / 16;
    if (r == 0) { f = (b & c) | (~b & d); g = i; }
    else if (r == 1) { f = (d & b) | (~d & c); g = (5 * i + 1) % 16; }
    else if (r == 2) { f = b ^ c ^ d; g = (3 * i + 5) % 16; }
    else { f = c ^ (b | ~d); g = (7 * i) % 16; }
    uint32_t t = d;
    d = c;
    c = b;
    b = b + rol(a + f + md5_k[i] + m[g], s[r][i % 4]);
    a = t;
  }
  h[0] += a; h[1] += b; h[2] += c; h[3] += d;
}

static uint32_t be32(const unsigned char *p) {
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void sha1_block(uint32_t *h, const unsigned char *p) {
  uint32_t w[80];
  for (int i = 0; i < 16; ++i) w[i] = be32(p + 4 * i);
  for (int i = 16; i < 80; ++i) w[i] = rol(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
  uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4];
  for (int i = 0; i < 80; ++i) {
    uint32_t f, k;
    if (i < 20) { f = (b & c) | (~b & d); k = 0x5a827999; }
    else if (i < 40) { f = b ^ c ^ d; k = 0x6ed9eba1; }
    else if (i < 60) { f = (b & c) | (b & d) | (c & d); k = 0x8f1bbcdc; }
    else { f = b ^ c ^ d; k = 0xca62c1d6; }
    uint32_t t = rol(a, 5) + f + e + k + w[i];
    e = d; d = c; c = rol(b, 30); b = a; a = t;
  }
  h[0] += a; h[1] += b; h[2] += c; h[3] += d; h[4] += e;
}

static void sha256_block(uint32_t *h, const unsigned char *p) {
  uint32_t w[64];
  for (int i = 0; i < 16; ++i) w[i] = be32(p + 4 * i);
  for (int i = 16; i < 64; ++i) {
    uint32_t s0 = ror(w[i - 15], 7) ^ ror(w[i - 15], 18) ^ (w[i - 15] >> 3);
    uint32_t s1 = ror(w[i - 2], 17) ^ ror(w[i - 2], 19) ^ (w[i - 2] >> 10);
    w[i] = w[i - 16] + s0 + w[i - 7] + s1;
  }
  uint32_t v[8];
  memcpy(v, h, sizeof(v));
  for (int i = 0; i < 64; ++i) {
    uint32_t S1 = ror(v[4], 6) ^ ror(v[4], 11) ^ ror(v[4], 25);
    uint32_t ch = (v[4] & v[5]) ^ (~v[4] & v[6]);
    uint32_t t1 = v[7] + S1 + ch + sha256_k[i] + w[i];
    uint32_t S0 = ror(v[0], 2) ^ ror(v[0], 13) ^ ror(v[0], 22);
    uint32_t maj = (v[0] & v[1]) ^ (v[0] & v[2]) ^ (v[1] & v[2]);
    memmove(v + 1, v, 7 * sizeof(uint32_t));
    v[4] += t1;
    v[0] = t1 + S0 + maj;
  }
  for (int i = 0; i < 8; ++i) h[i] += v[i];
}

static void hash_block(struct hash *st, const unsigned char *p) {
  if (st->kind == 5) md5_block(st->h, p);
  else if (st->kind == 1) sha1_block(st->h, p);
  else sha256_block(st->h, p);
}

static void hash_update(struct hash *st, const unsigned char *p, size_t n) {
  st->total += n;
  if (st->used) {
    size_t k = 64 - st->used < n ? 64 - st->used : n;
    memcpy(st->block + st->used, p, k);
    st->used += k;
    p += k;
    n -= k;
    if (st->used < 64) return;
    hash_block(st, st->block);
    st->used = 0;
  }
  for (; n >= 64; p += 64, n -= 64) hash_block(st, p);
  memcpy(st->block, p, n);
  st->used = n;
}

// Writes the digest as lowercase hex into out (NUL-terminated); returns its length.
static size_t hash_final(struct hash *st, char *out) {
  uint64_t bits = st->total * 8;
  unsigned char pad[72] = {0x80};
  size_t padlen = (st->used < 56 ? 56 : 120) - st->used;
  unsigned char len[8];
  for (int i = 0; i < 8; ++i) len[i] = (unsigned char)(st->kind == 5 ? bits >> (8 * i) : bits >> (56 - 8 * i));
  uint64_t keep = st->total;
  hash_update(st, pad, padlen);
  hash_update(st, len, 8);
  st->total = keep;
  int words = st->kind == 5 ? 4 : st->kind == 1 ? 5 : st->kind == 224 ? 7 : 8;
  size_t o = 0;
  for (int i = 0; i < words; ++i) {
    for (int j = 0; j < 4; ++j) {
      unsigned b = st->kind == 5 ? (st->h[i] >> (8 * j)) & 0xff : (st->h[i] >> (24 - 8 * j)) & 0xff;
      o += (size_t)sprintf(out + o, "%02x", b);
    }
  }
  return o;
}

// Hashes a file ("-": stdin). Returns 0, or -1 with errno set.
static int hash_file(const char *name, int kind, char *hex) {
  int fd = cu_open_input(name);
  if (fd < 0) return -1;
  if (kind != 5 && kind != 1 && kind != 224 && kind != 256) {  // hash64.c's
    int r = cu_hash_ext_fd(fd, kind, hex), e = errno;
    cu_close_input(fd);
    errno = e;
    return r;
  }
  struct hash st;
  hash_init(&st, kind);
  static unsigned char buf[1 << 16];
  for (;;) {
    ssize_t r = read(fd, buf, sizeof(buf));
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) {
      int e = errno;
      cu_close_input(fd);
      errno = e;
      return -1;
    }
    if (r == 0) break;
    hash_update(&st, buf, (size_t)r);
  }
  cu_close_input(fd);
  hash_final(&st, hex);
  return 0;
}

static const struct {
  int kind;
  const char *label, *name;  // the tag of --tag lines, cksum -a's name
} kAlgs[] = {{5, "MD5", "md5"},       {1, "SHA1", "sha1"},     {224, "SHA224", "sha224"},
             {256, "SHA256", "sha256"}, {384, "SHA384", "sha384"}, {512, "SHA512", "sha512"},
             {CU_B2(512), "BLAKE2b", "blake2b"}, {3, "SM3", "sm3"}};

// The tag: BLAKE2b's names its length unless it is 512 bits ("BLAKE2b-256").
static const char *hash_label(int kind) {
  static char b2[16];
  if (kind > CU_B2(0) && kind < CU_B2(512)) {
    snprintf(b2, sizeof b2, "BLAKE2b-%d", kind - CU_B2(0));
    return b2;
  }
  for (size_t i = 0; i < sizeof kAlgs / sizeof kAlgs[0]; ++i)
    if (kAlgs[i].kind == kind) return kAlgs[i].label;
  return "BLAKE2b";  // CU_B2(0): any length (cksum -a blake2b -c)
}

static size_t hex_len(int kind) {
  switch (kind) {
    case 5: return 32;
    case 1: return 40;
    case 224: return 56;
    case 256: case 3: return 64;
    case 384: return 96;
    case 512: return 128;
    default: return (size_t)(kind - CU_B2(0)) / 4;
  }
}

// A tagged line's label ("SHA256", "BLAKE2b-128") -> its kind, or 0.
static int label_kind(const char *label, size_t n) {
  for (size_t i = 0; i < sizeof kAlgs / sizeof kAlgs[0]; ++i)
    if (strlen(kAlgs[i].label) == n && memcmp(kAlgs[i].label, label, n) == 0) return kAlgs[i].kind;
  if (n > 8 && memcmp(label, "BLAKE2b-", 8) == 0 && strspn(label + 8, "0123456789") == n - 8 && n - 8 <= 3) {
    int bits = atoi(label + 8);
    if (bits > 0 && bits <= 512 && bits % 8 == 0) return CU_B2(bits);
  }
  return 0;
}

// Parses one line of a checksum file, as GNU's: leading blanks skipped; "HEX  NAME" or "HEX *NAME"
// (a leading backslash: NAME is escaped), "LABEL (NAME) = HEX", or the reversed BSD form
// "HEX NAME" — which a file may not mix with the first (*reversed: -1 unknown yet, 0 standard,
// 1 reversed; once reversed, "HEX  NAME" names " NAME"). *kind: the algorithm (md5sum's, cksum
// -a's), CU_B2(0) for BLAKE2b of any length, or 0 for cksum without -a (tagged lines only, of
// any algorithm); set to the line's. Returns the name (unescaped in place) and *hex, or NULL.
static char *parse_check_line(char *line, int *kind, char **hex, int *reversed) {
  int escaped = 0;
  while (*line == ' ' || *line == '\t') ++line;
  if (line[0] == '\\') {
    escaped = 1;
    ++line;
  }
  char *name, *open = strstr(line, " (");
  int lk = open ? label_kind(line, (size_t)(open - line)) : 0;
  if (lk != 0 && (*kind == 0 || lk == *kind || (*kind == CU_B2(0) && lk > CU_B2(0)))) {
    name = open + 2;
    char *end = strstr(name, ") = ");
    if (end == NULL) return NULL;
    char *h = end + 4;
    while (strstr(h, ") = ")) h = strstr(h, ") = ") + 4;  // the last ") = " ends the name
    end = h - 4;
    size_t hl = strlen(h);
    if (lk == CU_B2(512) && (size_t)(open - line) == 7 && hl % 2 == 0 && hl > 0 && hl <= 128)
      lk = CU_B2((int)hl * 4);  // "BLAKE2b": the length is the digest's
    if (*kind != 0 && *kind != CU_B2(0) && lk != *kind) return NULL;
    if (hl != hex_len(lk) || strspn(h, "0123456789abcdefABCDEF") != hl) return NULL;
    *end = '\0';
    *hex = h;
    *kind = lk;
  } else {
    if (*kind == 0) return NULL;
    size_t len = strlen(line), hexlen = strspn(line, "0123456789abcdefABCDEF");
    if (*kind == CU_B2(0)) {
      if (hexlen == 0 || hexlen % 2 || hexlen > 128) return NULL;
      *kind = CU_B2((int)hexlen * 4);
    }
    if (len < hexlen + 2 || hexlen != hex_len(*kind)) return NULL;
    if (line[hexlen] != ' ' && line[hexlen] != '\t') return NULL;
    line[hexlen] = '\0';
    *hex = line;
    size_t i = hexlen + 1;
    if (len - i == 1 || (line[i] != ' ' && line[i] != '*')) {
      if (*reversed == 0) return NULL;
      *reversed = 1;
    } else if (*reversed != 1) {
      *reversed = 0;
      ++i;
    }
    name = line + i;
  }
  if (escaped) {
    char *o = name;
    for (char *p = name; *p; ++p) {
      if (*p == '\\') {
        ++p;
        if (*p == 'n') *o++ = '\n';
        else if (*p == '\\') *o++ = '\\';
        else if (*p == 'r') *o++ = '\r';
        else return NULL;
      } else {
        *o++ = *p;
      }
    }
    *o = '\0';
  }
  return name[0] ? name : NULL;
}

static int check_file(const char *list, int kind, int quiet, int status_only, int warn, int strict,
                      int ignore_missing) {
  int fd = cu_open_input(list);
  if (fd < 0) {
    cu_err(NULL, list, errno);
    return 1;
  }
  const char *shown = strcmp(list, "-") == 0 ? "standard input" : list;
  struct cu_reader r;
  cu_reader_init(&r, fd);
  char *p;
  size_t n, lineno = 0, bad_format = 0, mismatched = 0, unreadable = 0, good = 0, verified = 0;
  int had, got, reversed = -1;
  while ((got = cu_reader_next(&r, '\n', &p, &n, &had)) > 0) {
    ++lineno;
    if (n > 0 && p[n - 1] == '\r') --n;
    if (n == 0 || p[0] == '#') continue;  // empty lines and comments are skipped
    char *line = cu_xmalloc(n + 1), *hex;
    memcpy(line, p, n);
    line[n] = '\0';
    int lk = kind;
    char *name = memchr(p, '\0', n) ? NULL : parse_check_line(line, &lk, &hex, &reversed);
    if (name == NULL) {
      ++bad_format;
      if (warn) {
        fprintf(stderr, "%s: ", cu_prog);
        cu_quote_name(stderr, shown);
        fprintf(stderr, ": %zu: improperly formatted %s checksum line\n", lineno, hash_label(kind));
      }
      free(line);
      continue;
    }
    ++good;
    char sum[129];
    if (hash_file(name, lk, sum) != 0) {
      int e = errno;
      if (!(ignore_missing && e == ENOENT)) {
        cu_err(NULL, name, e);
        ++unreadable;
        if (!status_only) printf("%s: FAILED open or read\n", name);
      }
      free(line);
      continue;
    }
    ++verified;
    int ok = strlen(sum) == strlen(hex);
    for (size_t i = 0; ok && sum[i]; ++i) ok = sum[i] == (hex[i] | 0x20);
    if (!ok) ++mismatched;
    if (!status_only && (!ok || !quiet)) printf("%s: %s\n", name, ok ? "OK" : "FAILED");
    free(line);
  }
  cu_reader_free(&r);
  cu_close_input(fd);
  fflush(stdout);
  if (good == 0) {
    fprintf(stderr, "%s: ", cu_prog);
    cu_quote_name(stderr, shown);
    fprintf(stderr, ": no properly formatted checksum lines found\n");
    return 1;
  }
  if (!status_only) {
    if (bad_format) {
      cu_errx("WARNING: %zu line%s improperly formatted", bad_format, bad_format == 1 ? " is" : "s are");
    }
    if (unreadable) {
      cu_errx("WARNING: %zu listed file%s could not be read", unreadable, unreadable == 1 ? "" : "s");
    }
    if (mismatched) {
      cu_errx("WARNING: %zu computed checksum%s did NOT match", mismatched, mismatched == 1 ? "" : "s");
    }
  }
  if (ignore_missing && verified == 0) {
    fprintf(stderr, "%s: ", cu_prog);
    cu_quote_name(stderr, shown);
    fprintf(stderr, ": no file was verified\n");
    return 1;
  }
  return mismatched || unreadable || (strict && bad_format) ? 1 : 0;
}

// One file's line of cksum -a bsd/sysv/crc (the name only when files were named, as GNU's).
static int sum_line(const char *name, int kind, int named, char delim) {
  int fd = cu_open_input(name);
  if (fd < 0) {
    cu_err(NULL, name, errno);
    return 1;
  }
  uint32_t sum;
  uint64_t bytes;
  if (cu_sum_fd(fd, kind, &sum, &bytes) != 0) {
    int e = errno;
    cu_close_input(fd);
    cu_err(NULL, name, e);
    return 1;
  }
  cu_close_input(fd);
  if (kind == CU_CRC) printf("%u %llu", sum, (unsigned long long)bytes);
  else if (kind == CU_SYSV) printf("%u %llu", sum, (unsigned long long)((bytes + 511) / 512));
  else printf("%05u %5llu", sum, (unsigned long long)((bytes + 1023) / 1024));
  if (named) printf(" %s", name);
  putchar(delim);
  return 0;
}

// cksum -a NAME -> its kind (as GNU's argmatch: exact names only), or prints the valid ones.
static int cksum_algorithm(const char *a) {
  static const struct {
    const char *name;
    int kind;
  } sums[] = {{"bsd", CU_BSD}, {"sysv", CU_SYSV}, {"crc", CU_CRC}};
  for (size_t i = 0; i < 3; ++i)
    if (strcmp(a, sums[i].name) == 0) return sums[i].kind;
  for (size_t i = 0; i < sizeof kAlgs / sizeof kAlgs[0]; ++i)
    if (strcmp(a, kAlgs[i].name) == 0) return kAlgs[i].kind;
  cu_errx("invalid argument '%s' for '--algorithm'", a);
  fputs("Valid arguments are:\n", stderr);
  for (size_t i = 0; i < 3; ++i) fprintf(stderr, "  - '%s'\n", sums[i].name);
  for (size_t i = 0; i < sizeof kAlgs / sizeof kAlgs[0]; ++i) fprintf(stderr, "  - '%s'\n", kAlgs[i].name);
  return 0;
}

// md5sum, sha1sum, sha256sum (cksum == 0) and cksum (GNU coreutils 9.1's: -a, -l, --untagged,
// tagged output by default, no -b/-t).
static int sum_main(int argc, char **argv, int kind, int cksum) {
  enum { OPT_TAG = 256, OPT_QUIET, OPT_STATUS, OPT_STRICT, OPT_IGNORE_MISSING, OPT_UNTAGGED };
  static const struct option longopts[] = {
      {"binary", no_argument, 0, 'b'},          {"check", no_argument, 0, 'c'},
      {"text", no_argument, 0, 't'},            {"warn", no_argument, 0, 'w'},
      {"zero", no_argument, 0, 'z'},            {"tag", no_argument, 0, OPT_TAG},
      {"quiet", no_argument, 0, OPT_QUIET},     {"status", no_argument, 0, OPT_STATUS},
      {"strict", no_argument, 0, OPT_STRICT},   {"ignore-missing", no_argument, 0, OPT_IGNORE_MISSING},
      {0, 0, 0, 0}};
  static const struct option cksum_longopts[] = {
      {"algorithm", required_argument, 0, 'a'}, {"check", no_argument, 0, 'c'},
      {"length", required_argument, 0, 'l'},    {"warn", no_argument, 0, 'w'},
      {"zero", no_argument, 0, 'z'},            {"tag", no_argument, 0, OPT_TAG},
      {"untagged", no_argument, 0, OPT_UNTAGGED}, {"quiet", no_argument, 0, OPT_QUIET},
      {"status", no_argument, 0, OPT_STATUS},   {"strict", no_argument, 0, OPT_STRICT},
      {"ignore-missing", no_argument, 0, OPT_IGNORE_MISSING}, {0, 0, 0, 0}};
  int binary = 0, check = 0, warn = 0, zero = 0, tag = cksum, quiet = 0, status_only = 0, strict = 0,
      ignore_missing = 0, c, algorithm = 0;
  const char *length = NULL;
  unsigned long long bits = 0;
  while ((c = cksum ? getopt_long(argc, argv, "a:cl:wz", cksum_longopts, NULL)
                    : getopt_long(argc, argv, "bctwz", longopts, NULL)) != -1) {
    switch (c) {
      case 'a':
        if ((kind = cksum_algorithm(optarg)) == 0) return cu_try_help(1);
        algorithm = 1;
        break;
      case 'l': {
        char *end;
        errno = 0;
        bits = strtoull(optarg, &end, 10);
        if (optarg[0] == '-' || optarg[0] == '\0' || *end || errno) {
          cu_errx("invalid length: '%s'", optarg);
          return 1;
        }
        length = optarg;
        if (bits % 8) {
          cu_errx("invalid length: '%s'", optarg);
          cu_errx("length is not a multiple of 8");
          return 1;
        }
        break;
      }
      case OPT_UNTAGGED: tag = 0; break;
      case 'b': binary = 1; break;
      case 't': binary = 0; break;
      case 'c': check = 1; break;
      case 'w': warn = 1; break;
      case 'z': zero = 1; break;
      case OPT_TAG: tag = 1; break;
      case OPT_QUIET: quiet = 1; break;
      case OPT_STATUS: status_only = 1; break;
      case OPT_STRICT: strict = 1; break;
      case OPT_IGNORE_MISSING: ignore_missing = 1; break;
      default: return cu_try_help(1);
    }
  }
  if (cksum) {
    if (length && bits && kind != CU_B2(512)) {
      cu_errx("--length is only supported with --algorithm=blake2b");
      return 1;
    }
    if (length && bits > 512) {
      cu_errx("invalid length: '%s'", length);
      cu_errx("maximum digest length for 'BLAKE2b' is 512 bits");
      return 1;
    }
    // -c: a line's BLAKE2b length is its digest's, whatever -l says (as GNU 9.1's)
    if (kind == CU_B2(512) && check) kind = CU_B2(0);
    else if (kind == CU_B2(512) && bits) kind = CU_B2((int)bits);
    if (check && !algorithm) kind = 0;  // tagged lines of any algorithm
    if (check && (kind == CU_CRC || kind == CU_SYSV || kind == CU_BSD)) {
      cu_errx("--check is not supported with --algorithm={bsd,sysv,crc}");
      return 1;
    }
  }
  if (check && tag && !cksum) {
    cu_errx("the --tag option is meaningless when verifying checksums");
    return cu_try_help(1);
  }
  if (!check && (quiet || status_only || strict || warn || ignore_missing)) {
    const char *o = ignore_missing ? "--ignore-missing" : status_only ? "--status" : quiet ? "--quiet"
                    : strict ? "--strict" : "--warn";
    cu_errx("the %s option is meaningful only when verifying checksums", o);
    return cu_try_help(1);
  }
  if (check && zero) {
    cu_errx("the -z option is not supported with --check by this %s (wasmcap coreutils)", cu_prog);
    return cu_try_help(1);
  }
  char *dash[] = {"-", NULL};
  char **ops = optind < argc ? argv + optind : dash;
  int nops = optind < argc ? argc - optind : 1, status = 0;
  for (int i = 0; i < nops; ++i) {
    if (kind == CU_CRC || kind == CU_SYSV || kind == CU_BSD) {
      status |= sum_line(ops[i], kind, optind < argc, zero ? '\0' : '\n');
      continue;
    }
    if (check) {
      if (check_file(ops[i], kind, quiet, status_only, warn, strict, ignore_missing) != 0) status = 1;
      continue;
    }
    char sum[129];
    if (hash_file(ops[i], kind, sum) != 0) {
      cu_err(NULL, ops[i], errno);
      status = 1;
      continue;
    }
    const char *name = ops[i];
    int esc = !zero && strpbrk(name, "\\\n\r") != NULL;
    if (esc) putchar('\\');
    if (tag) printf("%s (", hash_label(kind));
    else printf("%s %c", sum, binary ? '*' : ' ');
    for (const char *q = name; *q; ++q) {
      if (esc && *q == '\\') fputs("\\\\", stdout);
      else if (esc && *q == '\n') fputs("\\n", stdout);
      else if (esc && *q == '\r') fputs("\\r", stdout);
      else putchar(*q);
    }
    if (tag) printf(") = %s", sum);
    putchar(zero ? '\0' : '\n');
  }
  return status;
}

int cu_md5sum(int argc, char **argv) { return sum_main(argc, argv, 5, 0); }
int cu_sha1sum(int argc, char **argv) { return sum_main(argc, argv, 1, 0); }
int cu_sha256sum(int argc, char **argv) { return sum_main(argc, argv, 256, 0); }
int cu_cksum(int argc, char **argv) { return sum_main(argc, argv, CU_CRC, 1); }

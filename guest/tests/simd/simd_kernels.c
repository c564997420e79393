// SIMD guest (compiled with -msimd128): kernels written with wasm_simd128.h intrinsics and
// loops the compiler vectorizes, each checked against a scalar version compiled without
// vectorization. Prints one line per kernel (name, checksum, ok/MISMATCH) and exits 1 on any
// mismatch. Engines must agree on every byte of the output (tests/engine/fast_differential_test).
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <wasm_simd128.h>

#define N 1024
#define NOVEC _Pragma("clang loop vectorize(disable) interleave(disable)")

static int failures = 0;

static uint32_t fnv(const void* p, size_t n) {
  const uint8_t* b = p;
  uint32_t h = 2166136261u;
  for (size_t i = 0; i < n; ++i) h = (h ^ b[i]) * 16777619u;
  return h;
}

static void report(const char* name, const void* got, const void* want, size_t n) {
  int ok = memcmp(got, want, n) == 0;
  if (!ok) ++failures;
  printf("%-14s %08x %s\n", name, fnv(got, n), ok ? "ok" : "MISMATCH");
}

static uint32_t rng_state = 12345;
static uint32_t rnd(void) {
  rng_state = rng_state * 1103515245u + 12345u;
  return rng_state >> 8;
}

static int32_t ai[N], bi[N], ri[N], si[N];
static int16_t ah[N], bh[N], rh[N], sh[N];
static uint8_t au[N], bu[N], ru[N], su[N];
static float af[N], bf[N], rf[N], sf[N];
static double ad[N], bd[N], rd[N], sd[N];

// Auto-vectorized loops and their scalar twins.
__attribute__((noinline)) static void saxpy_vec(float a, const float* x, float* y) {
  for (int i = 0; i < N; ++i) y[i] = a * x[i] + y[i];
}
__attribute__((noinline)) static void saxpy_scalar(float a, const float* x, float* y) {
  NOVEC for (int i = 0; i < N; ++i) y[i] = a * x[i] + y[i];
}
__attribute__((noinline)) static void mix_vec(const int32_t* a, const int32_t* b, int32_t* r) {
  for (int i = 0; i < N; ++i) r[i] = (a[i] * 3 - b[i]) ^ (a[i] >> 3);
}
__attribute__((noinline)) static void mix_scalar(const int32_t* a, const int32_t* b, int32_t* r) {
  NOVEC for (int i = 0; i < N; ++i) r[i] = (a[i] * 3 - b[i]) ^ (a[i] >> 3);
}
__attribute__((noinline)) static int64_t sum_vec(const int16_t* a) {
  int64_t s = 0;
  for (int i = 0; i < N; ++i) s += a[i];
  return s;
}
__attribute__((noinline)) static int64_t sum_scalar(const int16_t* a) {
  int64_t s = 0;
  NOVEC for (int i = 0; i < N; ++i) s += a[i];
  return s;
}

static int16_t sat16(int32_t v) { return v > 32767 ? 32767 : v < -32768 ? -32768 : (int16_t)v; }
static uint8_t satu8(int v) { return v > 255 ? 255 : v < 0 ? 0 : (uint8_t)v; }

int main(void) {
  for (int i = 0; i < N; ++i) {
    ai[i] = (int32_t)rnd() - (1 << 23);
    bi[i] = (int32_t)(rnd() % 2001) - 1000;
    ah[i] = (int16_t)rnd();
    bh[i] = (int16_t)rnd();
    au[i] = (uint8_t)rnd();
    bu[i] = (uint8_t)rnd();
    af[i] = (float)((int)(rnd() % 20001) - 10000) / 64.0f;
    bf[i] = (float)((int)(rnd() % 20001) - 10000) / 128.0f;
    ad[i] = (double)((int)(rnd() % 20001) - 10000) / 32.0;
    bd[i] = (double)((int)(rnd() % 20001) - 10000) / 16.0;
  }
  af[5] = NAN;
  bf[9] = -0.0f;
  af[9] = 0.0f;

  // i32x4: mul, add, shifts, min/max, compares + bitselect.
  for (int i = 0; i < N; i += 4) {
    v128_t a = wasm_v128_load(ai + i), b = wasm_v128_load(bi + i);
    v128_t m = wasm_i32x4_add(wasm_i32x4_mul(a, b), wasm_i32x4_shl(b, 3));
    v128_t lt = wasm_i32x4_lt(a, b);
    v128_t r = wasm_v128_bitselect(wasm_i32x4_min(m, a), wasm_i32x4_max(wasm_u32x4_shr(m, 5), b), lt);
    wasm_v128_store(ri + i, r);
  }
  NOVEC for (int i = 0; i < N; ++i) {
    int32_t m = (int32_t)((uint32_t)ai[i] * (uint32_t)bi[i] + ((uint32_t)bi[i] << 3));
    int32_t lo = m < ai[i] ? m : ai[i];
    int32_t sr = (int32_t)((uint32_t)m >> 5);
    int32_t hi = sr > bi[i] ? sr : bi[i];
    si[i] = ai[i] < bi[i] ? lo : hi;
  }
  report("i32x4", ri, si, sizeof ri);

  // i16x8: saturating add/sub, q15mulr, abs, avgr.
  for (int i = 0; i < N; i += 8) {
    v128_t a = wasm_v128_load(ah + i), b = wasm_v128_load(bh + i);
    v128_t r = wasm_i16x8_add_sat(wasm_i16x8_q15mulr_sat(a, b), wasm_i16x8_sub_sat(wasm_i16x8_abs(a), b));
    wasm_v128_store(rh + i, r);
  }
  NOVEC for (int i = 0; i < N; ++i) {
    int32_t q = sat16((ah[i] * bh[i] + 0x4000) >> 15);
    int16_t absa = ah[i] == -32768 ? -32768 : (int16_t)(ah[i] < 0 ? -ah[i] : ah[i]);
    int32_t d = sat16(absa - bh[i]);
    sh[i] = sat16(q + d);
  }
  report("i16x8", rh, sh, sizeof rh);

  // i8x16: unsigned saturating add, avgr, popcnt, narrow, swizzle.
  for (int i = 0; i < N; i += 16) {
    v128_t a = wasm_v128_load(au + i), b = wasm_v128_load(bu + i);
    v128_t s = wasm_u8x16_add_sat(a, wasm_i8x16_popcnt(b));
    v128_t g = wasm_u8x16_avgr(s, b);
    v128_t idx = wasm_v128_and(a, wasm_i8x16_splat(31));  // some indices out of range: 0
    wasm_v128_store(ru + i, wasm_v128_xor(g, wasm_i8x16_swizzle(b, idx)));
  }
  NOVEC for (int i = 0; i < N; ++i) {
    uint8_t s = satu8(au[i] + __builtin_popcount(bu[i]));
    uint8_t g = (uint8_t)((s + bu[i] + 1) >> 1);
    int k = au[i] & 31;
    uint8_t sw = k < 16 ? bu[(i & ~15) + k] : 0;
    su[i] = g ^ sw;
  }
  report("i8x16", ru, su, sizeof ru);

  // Widening: dot, extmul, extadd, narrow back.
  for (int i = 0; i < N; i += 8) {
    v128_t a = wasm_v128_load(ah + i), b = wasm_v128_load(bh + i);
    v128_t dot = wasm_i32x4_dot_i16x8(a, b);
    v128_t lo = wasm_i32x4_extmul_low_i16x8(a, b), hi = wasm_i32x4_extmul_high_i16x8(a, b);
    wasm_v128_store(ri + i / 2, wasm_i32x4_add(dot, wasm_i32x4_shr(wasm_i32x4_sub(hi, lo), 7)));
    v128_t e = wasm_i32x4_extadd_pairwise_i16x8(a);
    wasm_v128_store(rh + i, wasm_i16x8_narrow_i32x4(e, wasm_i32x4_shr(dot, 8)));
  }
  NOVEC for (int i = 0; i < N; i += 8) {
    int32_t dot[4], e[4];
    for (int l = 0; l < 4; ++l) {
      dot[l] = (int32_t)((uint32_t)(ah[i + 2 * l] * bh[i + 2 * l]) +
                         (uint32_t)(ah[i + 2 * l + 1] * bh[i + 2 * l + 1]));
      int32_t lo = ah[i + l] * bh[i + l], hi = ah[i + 4 + l] * bh[i + 4 + l];
      si[i / 2 + l] = (int32_t)((uint32_t)dot[l] + (uint32_t)(((int32_t)((uint32_t)hi - (uint32_t)lo)) >> 7));
      e[l] = ah[i + 2 * l] + ah[i + 2 * l + 1];
    }
    for (int l = 0; l < 4; ++l) {
      sh[i + l] = sat16(e[l]);
      sh[i + 4 + l] = sat16(dot[l] >> 8);
    }
  }
  report("widen", ri, si, sizeof ri / 2);
  report("narrow", rh, sh, sizeof rh);

  // f32x4: arithmetic, sqrt, min/max (NaN, -0), pmin, rounding, conversions.
  for (int i = 0; i < N; i += 4) {
    v128_t a = wasm_v128_load(af + i), b = wasm_v128_load(bf + i);
    v128_t s = wasm_f32x4_add(wasm_f32x4_mul(a, b), wasm_f32x4_sqrt(wasm_f32x4_abs(b)));
    v128_t m = wasm_f32x4_min(s, wasm_f32x4_max(a, b));
    v128_t r = wasm_f32x4_add(wasm_f32x4_nearest(wasm_f32x4_div(m, wasm_f32x4_splat(3.0f))),
                              wasm_f32x4_pmin(a, b));
    wasm_v128_store(rf + i, r);
    wasm_v128_store(ri + i, wasm_i32x4_trunc_sat_f32x4(wasm_f32x4_mul(m, wasm_f32x4_splat(1e6f))));
  }
  NOVEC for (int i = 0; i < N; ++i) {
    float s = af[i] * bf[i] + sqrtf(fabsf(bf[i]));
    float mx = isnan(af[i]) || isnan(bf[i]) ? NAN : (af[i] == bf[i] ? (signbit(af[i]) ? bf[i] : af[i]) : (af[i] > bf[i] ? af[i] : bf[i]));
    float m = isnan(s) || isnan(mx) ? NAN : (s == mx ? (signbit(s) ? s : mx) : (s < mx ? s : mx));
    float pm = bf[i] < af[i] ? bf[i] : af[i];
    sf[i] = nearbyintf(m / 3.0f) + pm;
    float t = m * 1e6f;
    si[i] = isnan(t) ? 0 : t >= 2147483648.0f ? INT32_MAX : t < -2147483648.0f ? INT32_MIN : (int32_t)t;
  }
  // NaN lanes: compare as "is NaN" (the bit pattern of a computed NaN is not specified).
  for (int i = 0; i < N; ++i) {
    if (isnan(rf[i]) && isnan(sf[i])) rf[i] = sf[i] = 0;
  }
  report("f32x4", rf, sf, sizeof rf);
  report("trunc_sat", ri, si, sizeof ri);

  // f64x2 and conversions between lane types.
  for (int i = 0; i < N; i += 2) {
    v128_t a = wasm_v128_load(ad + i), b = wasm_v128_load(bd + i);
    v128_t r = wasm_f64x2_sub(wasm_f64x2_floor(wasm_f64x2_div(a, b)), wasm_f64x2_ceil(b));
    v128_t f = wasm_f32x4_demote_f64x2_zero(r);
    v128_t p = wasm_f64x2_promote_low_f32x4(f);
    wasm_v128_store(rd + i, wasm_f64x2_add(p, wasm_f64x2_convert_low_i32x4(wasm_i32x4_splat(i))));
  }
  NOVEC for (int i = 0; i < N; ++i) {
    double r = floor(ad[i] / bd[i]) - ceil(bd[i]);
    sd[i] = (double)(float)r + (double)(i & ~1);
  }
  for (int i = 0; i < N; ++i) {
    if (isnan(rd[i]) && isnan(sd[i])) rd[i] = sd[i] = 0;
  }
  report("f64x2", rd, sd, sizeof rd);

  // Lanes, shuffles, loads/stores of lanes, any/all_true, bitmask.
  uint32_t acc = 0;
  for (int i = 0; i < N; i += 16) {
    v128_t a = wasm_v128_load(au + i);
    v128_t z = wasm_v128_load32_zero(bu + i);
    v128_t sp = wasm_v128_load16_splat(bu + i + 2);
    v128_t sh2 = wasm_i8x16_shuffle(a, sp, 0, 17, 2, 19, 4, 21, 6, 23, 31, 30, 29, 28, 3, 2, 1, 0);
    sh2 = wasm_v128_load8_lane(bu + i + 7, sh2, 5);
    wasm_v128_store32_lane(ru + i, sh2, 2);
    acc = acc * 31 + (uint32_t)wasm_i8x16_bitmask(sh2) + (uint32_t)wasm_i8x16_extract_lane(sh2, 9) +
          wasm_u16x8_extract_lane(wasm_u16x8_extend_high_u8x16(a), 3) +
          (uint32_t)wasm_v128_any_true(z) * 7 + (uint32_t)wasm_i8x16_all_true(a) * 11 +
          (uint32_t)wasm_i32x4_extract_lane(wasm_i32x4_replace_lane(z, 3, (int32_t)acc), 3);
  }
  uint32_t acc2 = 0;
  NOVEC for (int i = 0; i < N; i += 16) {
    uint8_t a[16], sh2[16];
    memcpy(a, au + i, 16);
    uint8_t sp[16];
    for (int l = 0; l < 16; ++l) sp[l] = bu[i + 2 + (l & 1)];
    static const int idx[16] = {0, 17, 2, 19, 4, 21, 6, 23, 31, 30, 29, 28, 3, 2, 1, 0};
    for (int l = 0; l < 16; ++l) sh2[l] = idx[l] < 16 ? a[idx[l]] : sp[idx[l] - 16];
    sh2[5] = bu[i + 7];
    memcpy(su + i, sh2 + 8, 4);
    uint32_t mask = 0;
    int all = 1;
    for (int l = 0; l < 16; ++l) {
      mask |= (uint32_t)(sh2[l] >> 7) << l;
      all &= a[l] != 0;
    }
    uint32_t z0;
    memcpy(&z0, bu + i, 4);
    acc2 = acc2 * 31 + mask + (uint32_t)(int32_t)(int8_t)sh2[9] + a[8 + 3] + (z0 != 0) * 7 +
           (uint32_t)all * 11 + acc2;
  }
  report("lanes", &acc, &acc2, sizeof acc);
  // Only bytes 0-3 of each 16-byte block were stored: compare those.
  for (int i = 0; i < N; i += 16) memcpy(su + i + 4, ru + i + 4, 12);
  report("store_lane", ru, su, sizeof ru);

  // Auto-vectorized loops against their scalar twins.
  memcpy(rf, bf, sizeof rf);
  memcpy(sf, bf, sizeof sf);
  saxpy_vec(1.5f, af, rf);
  saxpy_scalar(1.5f, af, sf);
  for (int i = 0; i < N; ++i) {
    if (isnan(rf[i]) && isnan(sf[i])) rf[i] = sf[i] = 0;
  }
  report("saxpy", rf, sf, sizeof rf);
  mix_vec(ai, bi, ri);
  mix_scalar(ai, bi, si);
  report("mix", ri, si, sizeof ri);
  int64_t s1 = sum_vec(ah), s2 = sum_scalar(ah);
  report("sum", &s1, &s2, sizeof s1);

  printf("%s\n", failures == 0 ? "all ok" : "FAILED");
  return failures == 0 ? 0 : 1;
}

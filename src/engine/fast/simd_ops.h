// The fast interpreter's SIMD (v128) opcodes, appended after the scalar list of fast.h
// (docs/fast-interp.md, "SIMD"). Kept in their own X-macro so the scalar list stays untouched.
//
// A module that uses v128 anywhere runs in "wide" layout: every frame slot, every global and
// every argument/result position is 16 bytes (two 8-byte Slots), so a slot index in the code is
// twice the logical one. Scalar handlers are unchanged (they use the low 8 bytes); the ops
// below that end in `_v` are the wide forms of the scalar moves, which copy 16 bytes.
//
// Names are wabt's with '.' -> '_' (the translator maps wabt opcodes by name).
// Operands as in fast.h: "s" = slot index relative to fp, "k" = immediate.
#pragma once

#define WASMCAP_FAST_SIMD_OPS(X)                                                                \
  /* wide moves: as copy / copy2 / copy_n / select / global_get / global_set, 16 bytes */       \
  X(copy_v) X(copy2_v) X(copy_n_v) X(select_v) X(global_get_v) X(global_set_v)                  \
  X(v128_const) /* s dst, k low 8 bytes, k high 8 bytes */                                      \
  /* loads: s dst, s addr, k offset | store: s addr, s value, k offset */                       \
  X(v128_load) X(v128_load8x8_s) X(v128_load8x8_u) X(v128_load16x4_s) X(v128_load16x4_u)        \
  X(v128_load32x2_s) X(v128_load32x2_u) X(v128_load8_splat) X(v128_load16_splat)                \
  X(v128_load32_splat) X(v128_load64_splat) X(v128_load32_zero) X(v128_load64_zero)             \
  X(v128_store)                                                                                 \
  /* lane loads: s dst, s addr, s vector, k offset, k lane */                                   \
  /* lane stores: s addr, s vector, k offset, k lane */                                         \
  X(v128_load8_lane) X(v128_load16_lane) X(v128_load32_lane) X(v128_load64_lane)                \
  X(v128_store8_lane) X(v128_store16_lane) X(v128_store32_lane) X(v128_store64_lane)            \
  /* lanes: extract s dst, s v, k lane | replace s dst, s v, s x, k lane */                     \
  X(i8x16_extract_lane_s) X(i8x16_extract_lane_u) X(i16x8_extract_lane_s)                       \
  X(i16x8_extract_lane_u) X(i32x4_extract_lane) X(i64x2_extract_lane) X(f32x4_extract_lane)     \
  X(f64x2_extract_lane)                                                                         \
  X(i8x16_replace_lane) X(i16x8_replace_lane) X(i32x4_replace_lane) X(i64x2_replace_lane)       \
  X(f32x4_replace_lane) X(f64x2_replace_lane)                                                   \
  X(i8x16_shuffle) /* s dst, s a, s b, k lanes 0-7, k lanes 8-15 */                             \
  /* splat (unary): s dst, s x */                                                               \
  X(i8x16_splat) X(i16x8_splat) X(i32x4_splat) X(i64x2_splat) X(f32x4_splat) X(f64x2_splat)     \
  /* binary: s dst, s a, s b (shifts: b is the i32 count) */                                    \
  X(i8x16_swizzle) X(v128_and) X(v128_or) X(v128_xor) X(v128_andnot)                            \
  X(i8x16_add) X(i8x16_sub) X(i8x16_add_sat_s) X(i8x16_add_sat_u) X(i8x16_sub_sat_s)            \
  X(i8x16_sub_sat_u) X(i8x16_min_s) X(i8x16_min_u) X(i8x16_max_s) X(i8x16_max_u)                \
  X(i8x16_avgr_u) X(i8x16_narrow_i16x8_s) X(i8x16_narrow_i16x8_u)                               \
  X(i8x16_eq) X(i8x16_ne) X(i8x16_lt_s) X(i8x16_lt_u) X(i8x16_gt_s) X(i8x16_gt_u)               \
  X(i8x16_le_s) X(i8x16_le_u) X(i8x16_ge_s) X(i8x16_ge_u)                                       \
  X(i8x16_shl) X(i8x16_shr_s) X(i8x16_shr_u)                                                    \
  X(i16x8_add) X(i16x8_sub) X(i16x8_mul) X(i16x8_add_sat_s) X(i16x8_add_sat_u)                  \
  X(i16x8_sub_sat_s) X(i16x8_sub_sat_u) X(i16x8_min_s) X(i16x8_min_u) X(i16x8_max_s)            \
  X(i16x8_max_u) X(i16x8_avgr_u) X(i16x8_q15mulr_sat_s) X(i16x8_narrow_i32x4_s)                 \
  X(i16x8_narrow_i32x4_u) X(i16x8_extmul_low_i8x16_s) X(i16x8_extmul_high_i8x16_s)              \
  X(i16x8_extmul_low_i8x16_u) X(i16x8_extmul_high_i8x16_u)                                      \
  X(i16x8_eq) X(i16x8_ne) X(i16x8_lt_s) X(i16x8_lt_u) X(i16x8_gt_s) X(i16x8_gt_u)               \
  X(i16x8_le_s) X(i16x8_le_u) X(i16x8_ge_s) X(i16x8_ge_u)                                       \
  X(i16x8_shl) X(i16x8_shr_s) X(i16x8_shr_u)                                                    \
  X(i32x4_add) X(i32x4_sub) X(i32x4_mul) X(i32x4_min_s) X(i32x4_min_u) X(i32x4_max_s)           \
  X(i32x4_max_u) X(i32x4_dot_i16x8_s) X(i32x4_extmul_low_i16x8_s) X(i32x4_extmul_high_i16x8_s)  \
  X(i32x4_extmul_low_i16x8_u) X(i32x4_extmul_high_i16x8_u)                                      \
  X(i32x4_eq) X(i32x4_ne) X(i32x4_lt_s) X(i32x4_lt_u) X(i32x4_gt_s) X(i32x4_gt_u)               \
  X(i32x4_le_s) X(i32x4_le_u) X(i32x4_ge_s) X(i32x4_ge_u)                                       \
  X(i32x4_shl) X(i32x4_shr_s) X(i32x4_shr_u)                                                    \
  X(i64x2_add) X(i64x2_sub) X(i64x2_mul) X(i64x2_extmul_low_i32x4_s)                            \
  X(i64x2_extmul_high_i32x4_s) X(i64x2_extmul_low_i32x4_u) X(i64x2_extmul_high_i32x4_u)         \
  X(i64x2_eq) X(i64x2_ne) X(i64x2_lt_s) X(i64x2_gt_s) X(i64x2_le_s) X(i64x2_ge_s)               \
  X(i64x2_shl) X(i64x2_shr_s) X(i64x2_shr_u)                                                    \
  X(f32x4_add) X(f32x4_sub) X(f32x4_mul) X(f32x4_div) X(f32x4_min) X(f32x4_max)                 \
  X(f32x4_pmin) X(f32x4_pmax)                                                                   \
  X(f32x4_eq) X(f32x4_ne) X(f32x4_lt) X(f32x4_gt) X(f32x4_le) X(f32x4_ge)                       \
  X(f64x2_add) X(f64x2_sub) X(f64x2_mul) X(f64x2_div) X(f64x2_min) X(f64x2_max)                 \
  X(f64x2_pmin) X(f64x2_pmax)                                                                   \
  X(f64x2_eq) X(f64x2_ne) X(f64x2_lt) X(f64x2_gt) X(f64x2_le) X(f64x2_ge)                       \
  X(v128_bitselect) /* s dst, s a, s b, s mask */                                               \
  /* unary: s dst, s a */                                                                       \
  X(v128_not) X(i8x16_abs) X(i8x16_neg) X(i8x16_popcnt)                                         \
  X(i16x8_abs) X(i16x8_neg) X(i16x8_extend_low_i8x16_s) X(i16x8_extend_high_i8x16_s)            \
  X(i16x8_extend_low_i8x16_u) X(i16x8_extend_high_i8x16_u) X(i16x8_extadd_pairwise_i8x16_s)     \
  X(i16x8_extadd_pairwise_i8x16_u)                                                              \
  X(i32x4_abs) X(i32x4_neg) X(i32x4_extend_low_i16x8_s) X(i32x4_extend_high_i16x8_s)            \
  X(i32x4_extend_low_i16x8_u) X(i32x4_extend_high_i16x8_u) X(i32x4_extadd_pairwise_i16x8_s)     \
  X(i32x4_extadd_pairwise_i16x8_u) X(i32x4_trunc_sat_f32x4_s) X(i32x4_trunc_sat_f32x4_u)        \
  X(i32x4_trunc_sat_f64x2_s_zero) X(i32x4_trunc_sat_f64x2_u_zero)                               \
  X(i64x2_abs) X(i64x2_neg) X(i64x2_extend_low_i32x4_s) X(i64x2_extend_high_i32x4_s)            \
  X(i64x2_extend_low_i32x4_u) X(i64x2_extend_high_i32x4_u)                                      \
  X(f32x4_abs) X(f32x4_neg) X(f32x4_sqrt) X(f32x4_ceil) X(f32x4_floor) X(f32x4_trunc)           \
  X(f32x4_nearest) X(f32x4_convert_i32x4_s) X(f32x4_convert_i32x4_u) X(f32x4_demote_f64x2_zero) \
  X(f64x2_abs) X(f64x2_neg) X(f64x2_sqrt) X(f64x2_ceil) X(f64x2_floor) X(f64x2_trunc)           \
  X(f64x2_nearest) X(f64x2_convert_low_i32x4_s) X(f64x2_convert_low_i32x4_u)                    \
  X(f64x2_promote_low_f32x4)                                                                    \
  /* reductions to i32: s dst, s a */                                                           \
  X(v128_any_true) X(i8x16_all_true) X(i16x8_all_true) X(i32x4_all_true) X(i64x2_all_true)      \
  X(i8x16_bitmask) X(i16x8_bitmask) X(i32x4_bitmask) X(i64x2_bitmask)

;; SIMD seed for the fast-vs-wabt differential test (tests/engine/fast_differential_test.cc):
;; many v128 instruction kinds in small exported functions, whose mutants (a flipped byte turns
;; one SIMD opcode into another) compare the two interpreters op by op.
(module
  (memory (export "memory") 1)
  (global $g (mut v128) (v128.const i32x4 1 -2 3 -4))
  (func (export "int_arith") (param v128 v128) (result v128)
    (i32x4.add
      (i16x8.sub_sat_s (i8x16.add_sat_u (local.get 0) (local.get 1)) (i16x8.mul (local.get 0) (local.get 1)))
      (i64x2.mul (i8x16.avgr_u (local.get 1) (local.get 0)) (i32x4.min_s (local.get 0) (local.get 1)))))
  (func (export "widen") (param v128 v128) (result v128)
    (i32x4.add
      (i32x4.dot_i16x8_s (local.get 0) (local.get 1))
      (i16x8.narrow_i32x4_u
        (i32x4.extmul_high_i16x8_s (local.get 0) (local.get 1))
        (i32x4.extadd_pairwise_i16x8_u (local.get 1)))))
  (func (export "float") (param v128 v128) (result v128)
    (f32x4.add
      (f32x4.min (f32x4.sqrt (f32x4.abs (local.get 0))) (f32x4.nearest (local.get 1)))
      (f32x4.pmax (f32x4.convert_i32x4_s (local.get 0)) (f32x4.demote_f64x2_zero (local.get 1)))))
  (func (export "double") (param v128 v128) (result v128)
    (f64x2.mul
      (f64x2.max (f64x2.floor (local.get 0)) (f64x2.promote_low_f32x4 (local.get 1)))
      (f64x2.convert_low_i32x4_u (i32x4.trunc_sat_f32x4_s (local.get 1)))))
  (func (export "compare") (param v128 v128) (result v128)
    (v128.bitselect
      (i8x16.gt_s (local.get 0) (local.get 1))
      (f32x4.le (local.get 0) (local.get 1))
      (i64x2.lt_s (local.get 1) (local.get 0))))
  (func (export "shifts") (param v128 i32) (result v128)
    (v128.xor
      (i8x16.shl (local.get 0) (local.get 1))
      (i64x2.shr_s (i16x8.shr_u (local.get 0) (local.get 1)) (local.get 1))))
  (func (export "reduce") (param v128) (result i32)
    (i32.add
      (i32.add (i8x16.bitmask (local.get 0)) (i32x4.all_true (local.get 0)))
      (i32.add (v128.any_true (local.get 0)) (i16x8.bitmask (local.get 0)))))
  (func (export "lanes") (param v128 i64 f64) (result v128)
    (i8x16.shuffle 0 17 2 19 4 21 6 23 31 30 29 28 3 2 1 0
      (i64x2.replace_lane 1 (local.get 0) (local.get 1))
      (f64x2.replace_lane 0 (i8x16.swizzle (local.get 0) (i8x16.splat (i32.wrap_i64 (local.get 1)))) (local.get 2))))
  (func (export "extract") (param v128) (result i64)
    (i64.add
      (i64.extend_i32_s (i8x16.extract_lane_s 3 (local.get 0)))
      (i64.add (i64x2.extract_lane 1 (local.get 0))
               (i64.extend_i32_u (i16x8.extract_lane_u 5 (local.get 0))))))
  (func (export "memory_ops") (param i32 v128) (result v128)
    (v128.store offset=16 (local.get 0) (local.get 1))
    (v128.store8_lane 7 (i32.add (local.get 0) (i32.const 3)) (local.get 1))
    (global.set $g (i16x8.add (global.get $g) (v128.load8x8_s offset=1 (local.get 0))))
    (i32x4.add
      (v128.load32_zero (local.get 0))
      (v128.load16_lane offset=2 3 (local.get 0) (v128.load64_splat offset=8 (local.get 0)))))
  (func (export "loop") (param i32) (result v128) (local v128 v128)
    (local.set 2 (v128.const i32x4 1 1 1 1))
    (block
      (loop
        (br_if 1 (i32.eqz (local.get 0)))
        (local.set 1 (i32x4.add (local.get 1) (local.get 2)))
        (local.set 2 (i32x4.mul (local.get 2) (v128.const i32x4 3 5 7 9)))
        (local.set 0 (i32.sub (local.get 0) (i32.const 1)))
        (br 0)))
    (select (local.get 1) (local.get 2) (i32x4.extract_lane 0 (local.get 1))))
  (func (export "get_global") (result v128) (global.get $g))
)

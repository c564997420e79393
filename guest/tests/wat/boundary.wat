;; Values at the engine boundary: a re-exported host import, mixed parameter types, exported
;; globals of each scalar type, and a reference-typed global. (v128: boundary_simd.wat.)
(module
  (import "env" "seven" (func $seven (result i32)))
  (export "seven" (func $seven))
  (func (export "mix") (param i32 i64 f32 f64) (result i64)
    (i64.add (i64.extend_i32_u (local.get 0)) (local.get 1)))
  (global (export "g_i32") i32 (i32.const -5))
  (global (export "g_i64") (mut i64) (i64.const 1234567890123))
  (global (export "g_f32") f32 (f32.const 1.5))
  (global (export "g_f64") f64 (f64.const -2.25))
  (global (export "g_ref") funcref (ref.null func))
)

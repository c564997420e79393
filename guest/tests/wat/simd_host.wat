;; A module that uses v128 (so the fast engine lays it out wide, two Slots per value) calling a
;; host function with scalar arguments and returning a v128 and an i64 to the host
;; (tests/engine/fast_engine_test.cc: FastSimd.WideModuleHostCallsAndResults).
(module
  (import "env" "mix" (func $mix (param i32 i64 f64 i32) (result i64 i32)))
  (global $g (mut v128) (v128.const i64x2 5 6))
  (func $pass (param v128 i32 v128) (result v128 i32 v128)
    (local.get 2) (local.get 1) (local.get 0))
  (func (export "f") (param i32 v128 i64) (result v128 i64)
    (local $r i64)
    (global.set $g (i64x2.add (local.get 1) (global.get $g)))
    (call $mix (local.get 0) (local.get 2) (f64.const 2.5) (i32.const 9))
    (drop)
    (local.set $r)
    (call $pass (local.get 1) (i32.const 3) (global.get $g))
    (drop)
    (drop)
    (local.get $r))
)

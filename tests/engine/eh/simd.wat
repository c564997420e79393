;; Exceptions in a module that uses v128 (the fast engine's wide layout: two slots per value,
;; so a tag's payload is twice as many slots as values). Payloads mix v128 and scalars.
;; The "run" comment lines are the expectations (exceptions_test.cc).
(module
  (tag $v (param v128 i32))
  (tag $s (param i64 i32))

  (func $throw_v (param i32)
    (throw $v (i32x4.splat (local.get 0)) (i32.add (local.get 0) (i32.const 1))))
  (func $middle (param i32) (result v128)
    (call $throw_v (local.get 0))
    (v128.const i32x4 0 0 0 0))

  ;; run v128_payload i32:10 -> i32:51
  ;; lanes 10+10+10+10 from the v128, plus the i32 payload 11
  (func (export "v128_payload") (param i32) (result i32)
    (local $x v128)
    (local $n i32)
    (try
      (do (drop (call $middle (local.get 0))))
      (catch $v
        (local.set $n)
        (local.set $x)))
    (i32.add
      (i32.add (i32x4.extract_lane 0 (local.get $x)) (i32x4.extract_lane 1 (local.get $x)))
      (i32.add
        (i32.add (i32x4.extract_lane 2 (local.get $x)) (i32x4.extract_lane 3 (local.get $x)))
        (local.get $n))))

  ;; run scalar_payload_in_wide_module -> i64:12
  (func (export "scalar_payload_in_wide_module") (result i64)
    (try (result i64)
      (do (throw $s (i64.const 5) (i32.const 7)) (i64.const -1))
      (catch $s (i64.extend_i32_u) (i64.add))))

  ;; run rethrown_v128 -> i64:77
  (func (export "rethrown_v128") (result i64)
    (try (result v128 i32)
      (do
        (try (result v128 i32)
          (do (throw $v (v128.const i64x2 77 3) (i32.const 1)))
          (catch $v (drop) (drop) (rethrow 0))))
      (catch $v))
    (drop)
    (i64x2.extract_lane 0))
)

;; Runs for ages without a loop: mutual recursion a -> b -> a with two calls per level
;; (2^60 calls, never deeper than 120 frames). Stops only through the entry checks of the
;; functions on the call-graph cycle (docs/aot.md, "Where function entries are checked").
(module
  (func $a (param $n i32) (result i32)
    (if (result i32) (i32.lt_u (local.get $n) (i32.const 2))
      (then (local.get $n))
      (else (i32.add (call $b (i32.sub (local.get $n) (i32.const 1)))
                     (call $b (i32.sub (local.get $n) (i32.const 2)))))))
  (func $b (param $n i32) (result i32) (call $a (local.get $n)))
  (global $out (export "out") (mut i32) (i32.const 0))
  (func (export "_start") (global.set $out (call $a (i32.const 90)))))

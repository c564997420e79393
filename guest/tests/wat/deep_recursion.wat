;; Recursion of a chosen depth, for the AOT guest-stack tests: `down(n)` recurses n deep and
;; returns n; the fixed-depth exports are for the CLI (--invoke), `_start` never ends.
(module
  (memory 1)
  (func $down (export "down") (param i32) (result i32)
    (if (result i32) (i32.eqz (local.get 0))
      (then (i32.const 0))
      (else (i32.add (call $down (i32.sub (local.get 0) (i32.const 1))) (i32.const 1)))))
  (func (export "down_10k") (result i32) (call $down (i32.const 10000)))
  (func (export "down_100k") (result i32) (call $down (i32.const 100000)))
  (func (export "down_1m") (result i32) (call $down (i32.const 1000000)))
  (func (export "_start") (drop (call $down (i32.const -1))))
)

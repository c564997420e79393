;; State that survives only within one instance: `bump` adds one to a mutable global and to the
;; first word of memory and returns their sum (2 in a fresh instance, 4, 6, ... in a reused one).
(module
  (memory (export "memory") 1)
  (global $n (mut i32) (i32.const 0))
  (func (export "bump") (result i32)
    (global.set $n (i32.add (global.get $n) (i32.const 1)))
    (i32.store (i32.const 0) (i32.add (i32.load (i32.const 0)) (i32.const 1)))
    (i32.add (global.get $n) (i32.load (i32.const 0)))))

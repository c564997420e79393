;; Never terminates: an empty loop, as a C `for (;;) {}` compiles.
(module
  (memory (export "memory") 1)
  (func $spin (export "spin") (loop $l (br $l)))
  (func (export "_start") (call $spin))
  ;; Counts to n (about 6 instructions per iteration), for fuel accounting.
  (func (export "count") (param $n i32) (result i32)
    (local $i i32)
    (block $done
      (loop $l
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $l)))
    (local.get $i))
)

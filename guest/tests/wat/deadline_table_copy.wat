;; Never terminates, and spends nearly all its time inside table.copy (libc's memmove on aot, where
;; a preemption signal finds no guest code) over tables of a million elements together: the deadline must
;; still stop it (docs/aot.md, "Deadlines and interrupts"). Overlapping copies in both directions
;; of a funcref and an externref table.
(module
  (table $f 700000 funcref)
  (table $e 300000 externref)
  (func $g)
  (elem declare func $g)
  (func (export "_start")
    (table.fill $f (i32.const 0) (ref.func $g) (i32.const 700000))
    (loop $l
      (table.copy $f $f (i32.const 1) (i32.const 0) (i32.const 699999))
      (table.copy $f $f (i32.const 0) (i32.const 1) (i32.const 699999))
      (table.copy $e $e (i32.const 1) (i32.const 0) (i32.const 299999))
      (br $l)))
)

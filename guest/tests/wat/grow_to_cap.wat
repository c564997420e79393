;; Grows linear memory to 2048 pages (128 MiB) in two steps: 1 -> 2047 pages, then one more.
;; The last step is the one that would reallocate (and briefly double) a memory kept in a
;; growable buffer. Traps if either grow is refused. For host_work_test's peak-RSS check.
(module
  (memory 1)
  (export "memory" (memory 0))
  (func (export "_start")
    (if (i32.eq (memory.grow (i32.const 2046)) (i32.const -1)) (then unreachable))
    (if (i32.eq (memory.grow (i32.const 1)) (i32.const -1)) (then unreachable))))

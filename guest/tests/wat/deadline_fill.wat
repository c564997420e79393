;; Never terminates, and spends nearly all its time inside memory.fill and memory.copy (libc's
;; memset/memmove on aot, where a preemption signal finds no guest code): the deadline must still
;; stop it (docs/aot.md, "Deadlines").
(module
  (memory (export "memory") 1024)
  (func (export "_start")
    (loop $l
      (memory.fill (i32.const 0) (i32.const 7) (i32.const 0x4000000))
      (memory.copy (i32.const 0) (i32.const 0x2000000) (i32.const 0x2000000))
      (br $l)))
)

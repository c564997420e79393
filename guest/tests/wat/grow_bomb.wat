;; Grows memory one page at a time until memory.grow refuses (-1), then exits with the number
;; of pages it ended with (the cap). A huge single grow must also be refused.
(module
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (memory (export "memory") 1)
  (func (export "_start")
    (if (i32.ne (memory.grow (i32.const 0x10000)) (i32.const -1))
      (then (call $exit (i32.const 255))))
    (block $refused
      (loop $l
        (br_if $refused (i32.eq (memory.grow (i32.const 1)) (i32.const -1)))
        (br $l)))
    ;; the last page is usable
    (i32.store (i32.sub (i32.mul (memory.size) (i32.const 65536)) (i32.const 4)) (i32.const 1))
    (call $exit (memory.size)))
)

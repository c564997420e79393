;; Grows a funcref table by 2^28 elements (2 GiB of host memory in an interpreter that keeps
;; 8 bytes per element) and exits with 100 + table.grow's result: 99 when refused.
;; Tables live in host memory like linear memory does, so the memory cap must bound them too.
(module
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (table $t 0 funcref)
  (func (export "_start")
    (call $exit
      (i32.add (i32.const 100) (table.grow $t (ref.null func) (i32.const 0x10000000))))))

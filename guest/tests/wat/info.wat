;; A module with a known import/export/memory shape, for ModuleInfo.
(module
  (import "env" "log" (func $log (param i32 i64) (result f32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (memory (export "memory") 2 10)
  (global $g (export "counter") (mut i32) (i32.const 0))
  (table (export "tbl") 1 funcref)
  (func (export "run") (param f64) (result i32 i64) (i32.const 1) (i64.const 2))
  (func (export "_start"))
  (func $internal)
)

;; A real WASI name with the wrong signature: a link error on both engines, found before compiling.
(module
  (import "wasi_snapshot_preview1" "proc_exit" (func $f (param i64)))
  (func (export "_start") (call $f (i64.const 1))))

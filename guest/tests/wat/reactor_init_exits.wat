;; A reactor whose _initialize calls proc_exit(3): the run must end there with status 3,
;; and the invoked export must not run (it would exit 99).
(module
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (memory (export "memory") 1)
  (func (export "_initialize") (call $exit (i32.const 3)))
  (func (export "run") (call $exit (i32.const 99))))

;; A reactor: _initialize sets state that the invoked export depends on.
(module
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (memory (export "memory") 1)
  (global $state (mut i32) (i32.const 0))
  (func (export "_initialize") (global.set $state (i32.const 7)))
  (func (export "run") (call $exit (global.get $state))))

;; proc_exit with various statuses; pick one with --invoke.
(module
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (memory (export "memory") 1)
  (func (export "_start") (call $exit (i32.const 42)) (unreachable))
  (func (export "exit0") (call $exit (i32.const 0)) (unreachable))
  (func (export "exit1") (call $exit (i32.const 1)) (unreachable))
  (func (export "exit255") (call $exit (i32.const 255)) (unreachable))
  (func (export "exit256") (call $exit (i32.const 256)) (unreachable))
  (func (export "exit_neg") (call $exit (i32.const -1)) (unreachable))
  (func (export "ret")))

;; Reads stdin once (blocks until data or EOF), then exits with the byte count.
(module
  (import "wasi_snapshot_preview1" "fd_read" (func $fd_read (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "\00\01\00\00\00\01\00\00")  ;; iovec {buf=256, len=256}
  (func (export "_start")
    (drop (call $fd_read (i32.const 0) (i32.const 0) (i32.const 1) (i32.const 16)))
    (call $exit (i32.load (i32.const 16)))))

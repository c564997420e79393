;; An imported (host) function placed in a table and called through call_indirect: wasm2c 1.0.32
;; gives such table entries a wrong instance pointer (docs/aot.md, "The runtime"); the host must
;; still get the call right. Prints "indirect import ok" through fd_write called indirectly,
;; then exits 7 through proc_exit called indirectly.
(module
  (type $write_t (func (param i32 i32 i32 i32) (result i32)))
  (type $exit_t (func (param i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (type $write_t)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (type $exit_t)))
  (memory (export "memory") 1)
  (table 4 4 funcref)
  (elem (i32.const 1) func $fd_write $proc_exit)
  (data (i32.const 16) "indirect import ok\n")
  (func (export "_start")
    ;; iovec at 0: base 16, length 19
    (i32.store (i32.const 0) (i32.const 16))
    (i32.store (i32.const 4) (i32.const 19))
    (drop (call_indirect (type $write_t)
      (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8) (i32.const 1)))
    (call_indirect (type $exit_t) (i32.const 7) (i32.const 2))))

;; Writes 1 KiB to stdout 10000 times (10 MiB), ignoring errors: an output flood.
(module
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "\00\04\00\00\00\04\00\00")  ;; iovec {buf=1024, len=1024}
  (func $fill (memory.fill (i32.const 1024) (i32.const 0x41) (i32.const 1024)))
  (func (export "_start")
    (local $i i32)
    (call $fill)
    (loop $l
      (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 16)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (i32.const 10000)))))
  ;; Never stops writing, whatever fd_write returns.
  (func (export "forever")
    (call $fill)
    (loop $l
      (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 16)))
      (br $l)))
)

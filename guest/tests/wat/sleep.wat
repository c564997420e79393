;; poll_oneoff with one relative CLOCK_MONOTONIC subscription: sleeps `ns` nanoseconds.
(module
  (import "wasi_snapshot_preview1" "poll_oneoff" (func $poll (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (func $sleep (export "sleep_ns") (param $ns i64) (result i32)
    (memory.fill (i32.const 0) (i32.const 0) (i32.const 48))
    (i64.store (i32.const 0) (i64.const 0x1234))      ;; userdata
    (i32.store8 (i32.const 8) (i32.const 0))          ;; tag = clock
    (i32.store (i32.const 16) (i32.const 1))          ;; clock id = monotonic
    (i64.store (i32.const 24) (local.get $ns))        ;; timeout
    (call $poll (i32.const 0) (i32.const 64) (i32.const 1) (i32.const 128)))
  ;; Sleeps 10 s.
  (func (export "_start") (drop (call $sleep (i64.const 10000000000)))))

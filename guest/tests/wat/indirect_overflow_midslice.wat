;; Like indirect_overflow_underflow.wat, but the call that overflows the call stack is followed
;; by a loop of further calls and drops on the (now empty) value stack. An engine that stops
;; only at its next limit check (after a slice of instructions) would run this loop on a
;; corrupt stack, reading and writing host memory below the interpreter's value stack. The
;; exports differ only in how many instructions run first, so that the overflow lands at
;; different points of a slice.
(module
  (type $v_i (func (result i32)))
  (table 1 funcref)
  (elem (i32.const 0) $f)
  (global $n (mut i32) (i32.const 0))
  (global $pad (mut i32) (i32.const 0))
  (func $f (type $v_i)
    (loop $l
      (drop (call_indirect (type $v_i) (i32.const 0)))
      (global.set $n (i32.add (global.get $n) (i32.const 1)))
      (br_if $l (i32.lt_u (global.get $n) (i32.const 1000000))))
    (i32.const 0x41414141))
  (func $run (param $pad i32)
    (global.set $pad (local.get $pad))
    (block $done
      (loop $l
        (br_if $done (i32.eqz (global.get $pad)))
        (global.set $pad (i32.sub (global.get $pad) (i32.const 1)))
        (br $l)))
    (drop (call $f)))
  (func (export "_start") (call $run (i32.const 777)))
  (func (export "pad_a") (call $run (i32.const 1)))
  (func (export "pad_b") (call $run (i32.const 2500)))
  (func (export "pad_c") (call $run (i32.const 1234))))

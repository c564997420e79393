;; Unbounded recursion through call_indirect with type (i32) -> (externref). When the call
;; stack is full the call must trap; if the engine skipped the call instead, the i32 argument
;; left on the stack would be taken as a reference (a forged host pointer/index).
(module
  (type $i_r (func (param i32) (result externref)))
  (table 1 funcref)
  (table $refs 1 externref)
  (elem (i32.const 0) $f)
  (func $f (type $i_r)
    (call_indirect (type $i_r) (local.get 0) (i32.const 0)))
  (func (export "_start")
    (table.set $refs (i32.const 0) (call $f (i32.const 0x41414141)))))

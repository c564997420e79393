;; Unbounded recursion through call_indirect, where the callee type has no parameters and
;; one result. When the call stack is full the call must trap (call stack exhausted); if the
;; engine skipped the call instead, the i32.add would pop a value that is not there.
(module
  (type $v_i (func (result i32)))
  (table 1 funcref)
  (elem (i32.const 0) $f)
  (func $f (type $v_i)
    (i32.add (call_indirect (type $v_i) (i32.const 0)) (i32.const 1)))
  (func (export "_start") (drop (call $f))))

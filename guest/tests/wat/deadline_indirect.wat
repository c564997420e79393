;; Runs for ages without a loop or a direct call cycle: $g calls itself only through the table
;; (call_indirect), twice per level. Stops only through the entry check every function whose
;; address is taken gets (docs/aot.md, "Where function entries are checked").
(module
  (type $t (func (param i32) (result i32)))
  (table 1 funcref)
  (elem (i32.const 0) $g)
  (func $g (type $t) (param $n i32) (result i32)
    (if (result i32) (i32.eqz (local.get $n))
      (then (i32.const 1))
      (else (i32.add
              (call_indirect (type $t) (i32.sub (local.get $n) (i32.const 1)) (i32.const 0))
              (call_indirect (type $t) (i32.sub (local.get $n) (i32.const 1)) (i32.const 0))))))
  (global $out (export "out") (mut i32) (i32.const 0))
  (func (export "_start") (global.set $out (call $g (i32.const 80)))))

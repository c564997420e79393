;; Every bulk instruction, each exported with its length as the parameter, for the fuel and
;; deadline rules of bulk work (docs/security-model.md, "Bulk work and loading"). Memory: 1 page
;; at first, growable; tables of 16 elements; a passive data segment of 512 bytes and a passive
;; element segment of 16 functions.
(module
  (memory (export "memory") 1)
  (table $t 16 funcref)
  (table $u 16 funcref)
  (func $g)
  (elem $e func $g $g $g $g $g $g $g $g $g $g $g $g $g $g $g $g)
  (data $d "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
           "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
           "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
           "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
           "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
           "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
           "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
           "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef")
  (func (export "fill") (param $n i32)
    (memory.fill (i32.const 0) (i32.const 7) (local.get $n)))
  ;; fill from address 0 with value 7, of $n bytes, $k times
  (func (export "fill_loop") (param $n i32) (param $k i32)
    (loop $l
      (memory.fill (i32.const 0) (i32.const 7) (local.get $n))
      (br_if $l (local.tee $k (i32.sub (local.get $k) (i32.const 1))))))
  (func (export "fill_at") (param $d i32) (param $n i32)
    (memory.fill (local.get $d) (i32.const 7) (local.get $n)))
  (func (export "size") (result i32) (memory.size))
  (func (export "copy") (param $n i32)
    (memory.copy (i32.const 1) (i32.const 0) (local.get $n)))
  (func (export "init") (param $n i32)
    (memory.init $d (i32.const 0) (i32.const 0) (local.get $n)))
  (func (export "grow") (param $n i32) (result i32)
    (memory.grow (local.get $n)))
  (func (export "table_fill") (param $n i32)
    (table.fill $t (i32.const 0) (ref.func $g) (local.get $n)))
  (func (export "table_copy") (param $n i32)
    (table.copy $u $t (i32.const 0) (i32.const 0) (local.get $n)))
  (func (export "table_init") (param $n i32)
    (table.init $t $e (i32.const 0) (i32.const 0) (local.get $n)))
  (func (export "table_grow") (param $n i32) (result i32)
    (table.grow $t (ref.null func) (local.get $n)))
  (func (export "load8") (param $a i32) (result i32)
    (i32.load8_u (local.get $a)))
)

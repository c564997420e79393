;; Nested components (component_run_test.cc): one inner component instantiated twice with the
;; host's function as its import, each instance's start function run once; an inner export lowered
;; into the outer component's core code (a component-to-component call); inner instances exported.
(component
  (import "test:host/api@0.1.0" (instance $api
    (export "add" (func (param "a" u32) (param "b" u32) (result u32)))))
  (alias export $api "add" (func $host-add))
  (component $inner
    (import "add" (func $add (param "a" u32) (param "b" u32) (result u32)))
    (core func $add-low (canon lower (func $add)))
    (core module $m
      (import "h" "add" (func $add (param i32 i32) (result i32)))
      (global $g (mut i32) (i32.const 0))
      (func (export "twice") (param i32) (result i32) local.get 0 local.get 0 call $add)
      (func (export "init") global.get $g i32.const 1 i32.add global.set $g)
      (func (export "inits") (result i32) global.get $g))
    (core instance $i (instantiate $m (with "h" (instance (export "add" (func $add-low))))))
    (func $init (canon lift (core func $i "init")))
    (start $init)
    (func (export "twice") (param "x" u32) (result u32) (canon lift (core func $i "twice")))
    (func (export "inits") (result u32) (canon lift (core func $i "inits")))
  )
  (instance $a (instantiate $inner (with "add" (func $host-add))))
  (instance $b (instantiate $inner (with "add" (func $host-add))))
  (alias export $a "twice" (func $twice))
  (core func $twice-low (canon lower (func $twice)))
  (core module $outer
    (import "x" "twice" (func $t (param i32) (result i32)))
    (func (export "quad") (param i32) (result i32) local.get 0 call $t call $t))
  (core instance $o (instantiate $outer (with "x" (instance (export "twice" (func $twice-low))))))
  (func (export "quad") (param "x" u32) (result u32) (canon lift (core func $o "quad")))
  (export "a" (instance $a))
  (export "b" (instance $b))
)

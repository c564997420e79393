;; A resource the component defines (component_run_test.cc): resource.new / rep / drop, its
;; destructor, own handles given to and taken from the host, borrows of the component's own
;; resource (the representation itself) and of the host's (a borrow handle that must be dropped
;; before the call returns).
(component
  (import "test:host/api@0.1.0" (instance $api
    (export "counter" (type (sub resource)))
  ))
  (alias export $api "counter" (type $counter))
  ;; the destructor's instance: counts the reps it was called with
  (core module $impl
    (global $dtors (mut i32) (i32.const 0))
    (global $last (mut i32) (i32.const 0))
    (func (export "dtor") (param i32)
      global.get $dtors i32.const 1 i32.add global.set $dtors local.get 0 global.set $last)
    (func (export "dtors") (result i32) global.get $dtors)
    (func (export "last") (result i32) global.get $last))
  (core instance $impl (instantiate $impl))
  (type $r (resource (rep i32) (dtor (core func $impl "dtor"))))
  (export $rx "thing" (type $r))
  (core func $new (canon resource.new $r))
  (core func $rep (canon resource.rep $r))
  (core func $drop (canon resource.drop $r))
  (core func $drop-counter (canon resource.drop $counter))
  (core module $main
    (import "r" "new" (func $new (param i32) (result i32)))
    (import "r" "rep" (func $rep (param i32) (result i32)))
    (import "r" "drop" (func $drop (param i32)))
    (import "r" "drop-counter" (func $drop-counter (param i32)))
    (func (export "make") (param i32) (result i32) local.get 0 call $new)
    ;; a borrow of our own resource arrives as the rep itself
    (func (export "rep-of") (param i32) (result i32) local.get 0)
    ;; an own arrives as a handle: read its rep, drop it (the destructor runs), return the rep
    (func (export "consume") (param i32) (result i32) (local $v i32)
      local.get 0 call $rep local.set $v local.get 0 call $drop local.get $v)
    (func (export "new-and-rep") (param i32) (result i32) local.get 0 call $new call $rep)
    (func (export "rep-of-handle") (param i32) (result i32) local.get 0 call $rep)
    ;; a borrow of the host's counter is a handle: dropped or kept
    (func (export "peek-drop") (param i32) (result i32) local.get 0 call $drop-counter i32.const 1)
    (func (export "peek-keep") (param i32) (result i32) i32.const 2)
    ;; an own of the host's counter, dropped
    (func (export "take-counter") (param i32) local.get 0 call $drop-counter)
  )
  (core instance $main (instantiate $main
    (with "r" (instance (export "new" (func $new)) (export "rep" (func $rep)) (export "drop" (func $drop))
                        (export "drop-counter" (func $drop-counter))))))
  (func (export "make") (param "rep" u32) (result (own $rx)) (canon lift (core func $main "make")))
  (func (export "rep-of") (param "t" (borrow $rx)) (result u32) (canon lift (core func $main "rep-of")))
  (func (export "consume") (param "t" (own $rx)) (result u32) (canon lift (core func $main "consume")))
  (func (export "new-and-rep") (param "rep" u32) (result u32) (canon lift (core func $main "new-and-rep")))
  (func (export "rep-of-handle") (param "h" u32) (result u32) (canon lift (core func $main "rep-of-handle")))
  (func (export "peek-drop") (param "c" (borrow $counter)) (result u32) (canon lift (core func $main "peek-drop")))
  (func (export "peek-keep") (param "c" (borrow $counter)) (result u32) (canon lift (core func $main "peek-keep")))
  (func (export "take-counter") (param "c" (own $counter)) (canon lift (core func $main "take-counter")))
  (func (export "dtors") (result u32) (canon lift (core func $impl "dtors")))
  (func (export "last") (result u32) (canon lift (core func $impl "last")))
)

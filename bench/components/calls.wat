;; The component of bench/components.py's call benchmark: `echo` takes a string and a list of
;; records and returns both, lowered into the component's memory and lifted back out (the
;; Canonical ABI both ways: realloc, strings, a list of 3-field records (tuples) with a string each, a spilled
;; tuple result, post-return). A bump allocator, reset by post-return after each call.
(component
  (core module $m
    (memory (export "mem") 1)
    (global $bump (mut i32) (i32.const 1024))
    (func $realloc (export "realloc") (param $old i32) (param $old_size i32) (param $align i32) (param $size i32)
      (result i32) (local $p i32) (local $end i32)
      (local.set $p (i32.and (i32.add (global.get $bump) (i32.sub (local.get $align) (i32.const 1)))
                             (i32.sub (i32.const 0) (local.get $align))))
      (local.set $end (i32.add (local.get $p) (local.get $size)))
      (if (i32.gt_u (local.get $end) (i32.mul (memory.size) (i32.const 65536)))
        (then (if (i32.eq (memory.grow (i32.add (i32.shr_u (i32.sub (local.get $end)
                                                                     (i32.mul (memory.size) (i32.const 65536)))
                                                            (i32.const 16))
                                                (i32.const 1)))
                          (i32.const -1))
                (then unreachable))))
      (global.set $bump (local.get $end))
      (local.get $p))
    ;; (s.ptr, s.len, items.ptr, items.len) -> a pointer to the same four: the result tuple.
    (func (export "echo") (param i32 i32 i32 i32) (result i32)
      (i32.store (i32.const 0) (local.get 0))
      (i32.store (i32.const 4) (local.get 1))
      (i32.store (i32.const 8) (local.get 2))
      (i32.store (i32.const 12) (local.get 3))
      (i32.const 0))
    (func (export "post") (param i32) (global.set $bump (i32.const 1024))))
  (core instance $i (instantiate $m))
  ;; An item is a tuple (id, name, score): a record's layout in the Canonical ABI, without the
  ;; exported type name a record needs (jco transpile takes only functions and instances at the
  ;; top level).
  (type $item (tuple u32 string f64))
  (func (export "echo") (param "s" string) (param "items" (list $item)) (result (tuple string (list $item)))
    (canon lift (core func $i "echo") (memory (core memory $i "mem")) (realloc (core func $i "realloc"))
      (post-return (core func $i "post")))))

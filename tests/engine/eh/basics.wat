;; Legacy exception handling: throw/catch across frames, payloads, catch_all, nested try.
;; The "run" comment lines are the expectations (exceptions_test.cc).
(module
  (tag $e0)
  (tag $e1 (param i32))
  (tag $e2 (param i64 f64 i32))
  (memory (export "memory") 1)

  (func $throw1 (param i32) (local.get 0) (throw $e1))
  (func $middle (param i32) (result i32)
    ;; not caught here: unwinds through this frame
    (call $throw1 (i32.add (local.get 0) (i32.const 1)))
    (i32.const -1))

  ;; run across_frames i32:41 -> i32:42
  (func (export "across_frames") (param i32) (result i32)
    (try (result i32)
      (do (call $middle (local.get 0)))
      (catch $e1)))

  ;; run no_throw i32:5 -> i32:5
  (func (export "no_throw") (param i32) (result i32)
    (try (result i32)
      (do (local.get 0))
      (catch $e1 (i32.const 100) (i32.add))))

  ;; run multi_payload -> i64:7 f64:2.5 i32:9
  (func (export "multi_payload") (result i64 f64 i32)
    (try (result i64 f64 i32)
      (do (throw $e2 (i64.const 7) (f64.const 2.5) (i32.const 9)))
      (catch $e2)))

  ;; run catch_all i32:3 -> i32:103
  (func (export "catch_all") (param i32) (result i32)
    (local $x i32)
    (local.set $x (local.get 0))
    (try
      (do (local.set $x (i32.add (local.get $x) (i32.const 100))) (throw $e0))
      (catch $e1 (drop) (local.set $x (i32.const -1)))
      (catch_all))
    (local.get $x))

  ;; run select_clause i32:0 -> i32:1
  ;; run select_clause i32:1 -> i32:20
  ;; run select_clause i32:2 -> i32:1002
  (func (export "select_clause") (param i32) (result i32)
    (try (result i32)
      (do
        (if (i32.eqz (local.get 0)) (then (throw $e0)))
        (if (i32.eq (local.get 0) (i32.const 1)) (then (throw $e1 (i32.const 20))))
        (throw $e2 (i64.const 1000) (f64.const 0) (i32.const 2)))
      (catch $e0 (i32.const 1))
      (catch $e1)
      (catch $e2 (local.set 0) (drop) (i32.wrap_i64) (local.get 0) (i32.add))))

  ;; run nested i32:1 -> i32:11
  ;; run nested i32:2 -> i32:22
  (func (export "nested") (param i32) (result i32)
    (try (result i32)
      (do
        (try (result i32)
          (do
            (if (i32.eq (local.get 0) (i32.const 1)) (then (throw $e1 (i32.const 10))))
            (throw $e0))
          (catch $e1 (i32.const 1) (i32.add))))
      (catch $e0 (i32.const 22))))

  ;; run throw_in_handler -> i32:77
  (func (export "throw_in_handler") (result i32)
    ;; a throw inside a catch is not caught by the same try, but by the enclosing one
    (try (result i32)
      (do
        (try (result i32)
          (do (throw $e0))
          (catch $e0 (throw $e1 (i32.const 77)))
          (catch $e1 (drop) (i32.const -1))))
      (catch $e1)))

  ;; run stack_below i32:5 -> i32:5 i32:9 i32:3
  (func (export "stack_below") (param i32) (result i32 i32 i32)
    ;; values below the try survive the throw
    (local.get 0)
    (i32.add (local.get 0) (i32.const 4))
    (try (result i32)
      (do (call $middle (i32.const 2)))
      (catch $e1)))

  ;; run br_out_of_handler i32:4 -> i32:40
  (func (export "br_out_of_handler") (param i32) (result i32)
    (local $sum i32)
    (block $done
      (loop $again
        (try
          (do (throw $e1 (i32.const 10)))
          (catch $e1
            (local.set $sum (i32.add (local.get $sum)))
            (local.set 0 (i32.sub (local.get 0) (i32.const 1)))
            (br_if $again (local.get 0))
            (br $done)))))
    (local.get $sum))

  ;; run memory_effects -> i32:2
  (func (export "memory_effects") (result i32)
    ;; stores before the throw stay done
    (try
      (do (i32.store (i32.const 0) (i32.const 2)) (throw $e0) (i32.store (i32.const 0) (i32.const 3)))
      (catch_all))
    (i32.load (i32.const 0)))
)

;; Deep unwinding: 40,000 frames between throw and catch (no host stack growth on our side).
(module
  (tag $e (param i32))
  (func $down (param i32) (result i32)
    (if (i32.eqz (local.get 0)) (then (throw $e (i32.const 12345))))
    (i32.add (call $down (i32.sub (local.get 0) (i32.const 1))) (i32.const 1)))

  ;; run deep i32:40000 -> i32:12345
  (func (export "deep") (param i32) (result i32)
    (try (result i32) (do (call $down (local.get 0))) (catch $e)))

  ;; run deep_handlers i32:20000 -> i32:20000
  ;; every frame catches and rethrows on the way up: 20,000 catches, each adds one. (The first
  ;; throw is a direct one before the try of the same function: not caught by that try.)
  (func $up (param i32) (result i32)
    (if (i32.eqz (local.get 0)) (then (throw $e (i32.const 0))))
    (try (result i32)
      (do (call $up (i32.sub (local.get 0) (i32.const 1))))
      (catch $e (i32.const 1) (i32.add) (throw $e))))
  (func (export "deep_handlers") (param i32) (result i32)
    (try (result i32) (do (call $up (local.get 0))) (catch $e)))
)

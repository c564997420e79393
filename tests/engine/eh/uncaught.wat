;; Uncaught exceptions end the call with a trap (trap_uncaught_exception).
(module
  (tag $e (param i32))
  (global $g (mut i32) (i32.const 0))
  (func $deep (param i32)
    (if (local.get 0)
      (then (call $deep (i32.sub (local.get 0) (i32.const 1))))
      (else (throw $e (i32.const 1)))))

  ;; run uncaught -> trap_uncaught_exception
  (func (export "uncaught") (call $deep (i32.const 10)))

  ;; run wrong_tag_only -> trap_uncaught_exception
  (tag $other)
  (func (export "wrong_tag_only")
    (try (do (call $deep (i32.const 3))) (catch $other)))

  ;; run rethrown_uncaught -> trap_uncaught_exception
  (func (export "rethrown_uncaught")
    (try (do (throw $e (i32.const 2))) (catch_all (rethrow 0))))

  ;; run delegated_uncaught -> trap_uncaught_exception
  (func (export "delegated_uncaught")
    (try (do (try (do (throw $other)) (delegate 1))) (catch $other)))

  (func $set_then_throw (global.set $g (i32.const 1)) (throw $other))
  (func (export "set_then_throw") (call $set_then_throw))
  (func (export "side_effects_kept") (result i32) (global.get $g))
  ;; run set_then_throw -> trap_uncaught_exception
  ;; run side_effects_kept -> i32:1

  ;; run after_trap_still_works -> i32:5
  (func (export "after_trap_still_works") (result i32)
    (try (result i32) (do (throw $e (i32.const 5))) (catch $e)))
)

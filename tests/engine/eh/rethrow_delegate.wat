;; rethrow and delegate.
(module
  (tag $e1 (param i32))
  (tag $e2 (param i32))

  (func $thrower (param i32) (throw $e1 (local.get 0)))

  ;; run rethrow_simple i32:6 -> i32:6
  (func (export "rethrow_simple") (param i32) (result i32)
    (try (result i32)
      (do
        (try (result i32)
          (do (call $thrower (local.get 0)) (i32.const 0))
          (catch $e1 (drop) (rethrow 0))))
      (catch $e1)))

  ;; run rethrow_catch_all i32:8 -> i32:8
  (func (export "rethrow_catch_all") (param i32) (result i32)
    ;; catch_all then rethrow keeps the tag and payload it never saw
    (try (result i32)
      (do
        (try (result i32)
          (do (call $thrower (local.get 0)) (i32.const 0))
          (catch_all (rethrow 0))))
      (catch $e1)))

  ;; run rethrow_outer -> i32:1
  (func (export "rethrow_outer") (result i32)
    ;; rethrow 1 from a nested handler rethrows the outer handler's exception (e1, not e2)
    (try (result i32)
      (do
        (try (result i32)
          (do (throw $e1 (i32.const 1)))
          (catch $e1
            (drop)
            (try (result i32)
              (do (throw $e2 (i32.const 2)))
              (catch $e2 (drop) (rethrow 1))))))
      (catch $e1)
      (catch $e2 (i32.const 100) (i32.add))))

  ;; run rethrow_after_call i32:3 -> i32:3
  (func (export "rethrow_after_call") (param i32) (result i32)
    ;; the handler catches and recatches in a callee before rethrowing its own exception
    (try (result i32)
      (do
        (try (result i32)
          (do (call $thrower (local.get 0)) (i32.const 0))
          (catch $e1
            (drop)
            (drop (call $swallow (i32.const 99)))
            (rethrow 0))))
      (catch $e1)))
  (func $swallow (param i32) (result i32)
    (try (result i32)
      (do (throw $e1 (local.get 0)))
      (catch $e1)))

  ;; run delegate_to_outer i32:4 -> i32:104
  (func (export "delegate_to_outer") (param i32) (result i32)
    (try $outer (result i32)
      (do
        (try (result i32)
          (do (call $thrower (local.get 0)) (i32.const 0))
          (delegate $outer)))
      (catch $e1 (i32.const 100) (i32.add))))

  ;; run delegate_skips_block i32:4 -> i32:204
  (func (export "delegate_skips_block") (param i32) (result i32)
    ;; delegating to a plain block hands the exception to the try around that block
    (try (result i32)
      (do
        (block $b (result i32)
          (try (result i32)
            (do
              (try (result i32)
                (do (call $thrower (local.get 0)) (i32.const 0))
                (delegate $b)))
            (catch $e1 (i32.const -1) (i32.add)))))
      (catch $e1 (i32.const 200) (i32.add))))

  ;; run delegate_to_caller i32:5 -> i32:305
  (func $delegating (param i32) (result i32)
    (try (result i32)
      (do
        (try (result i32)
          (do (call $thrower (local.get 0)) (i32.const 0))
          (delegate 1)))
      (catch $e1 (i32.const -1) (i32.add))))
  (func (export "delegate_to_caller") (param i32) (result i32)
    (try (result i32)
      (do (call $delegating (local.get 0)))
      (catch $e1 (i32.const 300) (i32.add))))

  ;; run try_no_catch i32:7 -> i32:7
  (func (export "try_no_catch") (param i32) (result i32)
    (try (result i32)
      (do (try (do (call $thrower (local.get 0)))) (i32.const 0))
      (catch $e1)))
)

;; A host call that outlasts the deadline (engine tests provide "test" "slow", which sleeps
;; without looking at the deadline, and "test" "mark", which records being called). On aot the
;; preemption signal finds host code and does nothing; the runtime must stop the guest when the
;; slow call returns, before it reaches "mark" (docs/aot.md, "Deadlines").
(module
  (import "test" "slow" (func $slow))
  (import "test" "mark" (func $mark))
  (memory (export "memory") 1)
  (func (export "run")
    (call $slow)
    (call $mark)
    (loop $l (br $l)))
)

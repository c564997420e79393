;; Exceptions do not escape fuel or deadlines: a loop that throws and catches forever.
;; (Checked by the test with a fuel limit and with a deadline; no run lines.)
(module
  (tag $e (param i32))
  (func $t (param i32) (throw $e (local.get 0)))
  (func (export "spin") (result i32)
    (local $i i32)
    (loop $l
      (try
        (do (call $t (local.get $i)))
        (catch $e (local.set $i (i32.add (i32.const 1)))))
      (br $l))
    (local.get $i))
)

;; Loops of calls to host functions the engine tests provide (module "test"): a slow one, and
;; one that charges fuel for host work. For EngineLimits.*HostCall* tests.
(module
  (import "test" "slow" (func $slow))
  (import "test" "charge" (func $charge (param i32)))
  (func (export "slow_loop") (loop (call $slow) (br 0)))
  (func (export "charge_n") (param $n i32) (param $units i32)
    (block
      (loop
        (br_if 1 (i32.eqz (local.get $n)))
        (call $charge (local.get $units))
        (local.set $n (i32.sub (local.get $n) (i32.const 1)))
        (br 0)))))

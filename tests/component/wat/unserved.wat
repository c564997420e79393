;; A WASI 0.2 command importing two functions of an interface wasmcap does not serve
;; (cli_components.sh: a run and `plan` name both before anything runs).
(component
  (import "wasi:sockets/tcp@0.2.0" (instance $tcp
    (export "connect" (func))
    (export "listen" (func))
  ))
  (core func $connect (canon lower (func $tcp "connect")))
  (core module $m
    (import "tcp" "connect" (func))
    (func (export "run") (result i32) call 0 i32.const 0))
  (core instance $i (instantiate $m (with "tcp" (instance (export "connect" (func $connect))))))
  (func $run (result (result)) (canon lift (core func $i "run")))
  (instance $r (export "run" (func $run)))
  (export "wasi:cli/run@0.2.0" (instance $r))
)

;; An import no wasmcap host provides: a link error on both engines, and the aot engine must
;; report it without compiling (docs/aot.md, "Imports are checked first").
(module
  (import "env" "not_a_host_function" (func $f (param i32) (result i32)))
  (func (export "_start") (drop (call $f (i32.const 1)))))

;; Core instances sharing a memory and a global (component_run_test.cc,
;; ComponentHost.CoreInstancesShareAMemoryAndAGlobal): $main imports the memory and the bump
;; pointer of $libc, as wit-component's adapters import the main module's memory. Strings cross
;; in that one memory: the host lowers the argument through $libc's realloc, $main hands it to the
;; host's greet, whose result $libc's realloc places, and $main reads the bump pointer $libc moved.
(component
  (import "test:host/api@0.1.0" (instance $api
    (export "greet" (func (param "name" string) (result string)))))
  (core module $libc
    (memory (export "mem") 1)
    (global $bump (export "bump") (mut i32) (i32.const 1024))
    (func (export "realloc") (param i32 i32 i32 i32) (result i32) (local $p i32)
      global.get $bump local.get 2 i32.add i32.const 1 i32.sub
      local.get 2 i32.const 1 i32.sub i32.const -1 i32.xor i32.and local.set $p
      local.get $p local.get 3 i32.add global.set $bump
      local.get $p)
  )
  (core instance $libc (instantiate $libc))
  (alias core export $libc "mem" (core memory $mem))
  (alias core export $libc "realloc" (core func $realloc))
  (core func $greet (canon lower (func $api "greet") (memory $mem) (realloc $realloc)))
  (core module $main
    (import "libc" "mem" (memory 1))
    (import "libc" "bump" (global $bump (mut i32)))
    (import "api" "greet" (func $greet (param i32 i32 i32)))
    (func (export "call-greet") (param i32 i32) (result i32)
      local.get 0 local.get 1 i32.const 16 call $greet
      i32.const 16)
    (func (export "heap-top") (result i32) global.get $bump)
  )
  (core instance $main (instantiate $main
    (with "libc" (instance $libc))
    (with "api" (instance (export "greet" (func $greet))))))
  (func (export "call-greet") (param "name" string) (result string)
    (canon lift (core func $main "call-greet") (memory $mem) (realloc $realloc)))
  (func (export "heap-top") (result u32) (canon lift (core func $main "heap-top")))
)

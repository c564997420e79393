;; A component with typed exports for `wasmcap call` (cli_components.sh; docs/components.md,
;; "Calling an export"): a plain function, one returning result<s32, string> (err for a zero
;; divisor), a tuple argument, one that traps and one that never returns, and an exported
;; interface. No imports.
(component
  (core module $m
    (memory (export "mem") 1)
    (global $bump (mut i32) (i32.const 1024))
    (data (i32.const 128) "division by zero")
    (func (export "realloc") (param i32 i32 i32 i32) (result i32) (local $p i32)
      global.get $bump local.get 2 i32.add i32.const 1 i32.sub
      local.get 2 i32.const 1 i32.sub i32.const -1 i32.xor i32.and local.set $p
      local.get $p local.get 3 i32.add global.set $bump
      local.get $p)
    (func (export "add") (param i32 i32) (result i32) local.get 0 local.get 1 i32.add)
    ;; result<s32, string> at 64: discriminant (u8) at 64, payload at 68.
    (func (export "div") (param i32 i32) (result i32)
      local.get 1 i32.eqz
      if
        i32.const 64 i32.const 1 i32.store8
        i32.const 68 i32.const 128 i32.store
        i32.const 72 i32.const 16 i32.store
      else
        i32.const 64 i32.const 0 i32.store8
        i32.const 68 local.get 0 local.get 1 i32.div_s i32.store
      end
      i32.const 64)
    ;; tuple<s32, s32> flattened: x*x + y*y
    (func (export "norm2") (param i32 i32) (result i64)
      local.get 0 i64.extend_i32_s local.get 0 i64.extend_i32_s i64.mul
      local.get 1 i64.extend_i32_s local.get 1 i64.extend_i32_s i64.mul i64.add)
    (func (export "trap") unreachable)
    (func (export "spin") (loop $l br $l))
  )
  (core instance $i (instantiate $m))
  (alias core export $i "mem" (core memory $mem))
  (alias core export $i "realloc" (core func $realloc))
  (func $add (export "add") (param "a" u32) (param "b" u32) (result u32) (canon lift (core func $i "add")))
  ;; The same function in an exported interface: called as "example:call/ops#add".
  (instance $ops (export "add" (func $add)))
  (export "example:call/ops" (instance $ops))
  (func (export "div") (param "a" s32) (param "b" s32) (result (result s32 (error string)))
    (canon lift (core func $i "div") (memory $mem) (realloc $realloc)))
  (func (export "norm2") (param "p" (tuple s32 s32)) (result u64) (canon lift (core func $i "norm2")))
  (func (export "trap") (canon lift (core func $i "trap")))
  (func (export "spin") (canon lift (core func $i "spin")))
)

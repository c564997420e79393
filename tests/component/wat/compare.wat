;; Exports whose types are all anonymous, so that `jco transpile` makes them a JavaScript module:
;; component_run_test.cc calls them on wasmcap and compares with the same calls on node
;; (compare.mjs; run_components.sh runs it). (jco 1.35 does not transpile latin1+utf16.)
(component
  (core module $m
    (memory (export "mem") 1)
    (global $bump (mut i32) (i32.const 1024))
    (func $realloc (export "realloc") (param i32 i32 i32 i32) (result i32) (local $p i32)
      global.get $bump local.get 2 i32.add i32.const 1 i32.sub
      local.get 2 i32.const 1 i32.sub i32.const -1 i32.xor i32.and local.set $p
      local.get $p local.get 3 i32.add global.set $bump
      local.get 0 if local.get $p local.get 0 local.get 1 memory.copy end
      local.get $p)
    (func (export "add") (param i32 i32) (result i32) local.get 0 local.get 1 i32.add)
    (func (export "id32") (param i32) (result i32) local.get 0)
    (func (export "idf64") (param f64) (result f64) local.get 0)
    (func $ret-pair (export "ret-pair") (param i32 i32) (result i32)
      i32.const 16 local.get 0 i32.store i32.const 20 local.get 1 i32.store i32.const 16)
    (func (export "len") (param i32 i32) (result i32) local.get 1)
    (func (export "sum-list") (param i32 i32) (result i64) (local $acc i64)
      block loop local.get 1 i32.eqz br_if 1
        local.get $acc local.get 0 i32.load i64.extend_i32_u i64.add local.set $acc
        local.get 0 i32.const 4 i32.add local.set 0
        local.get 1 i32.const 1 i32.sub local.set 1 br 0 end end
      local.get $acc)
    (func (export "make-list") (param $n i32) (result i32) (local $p i32) (local $i i32)
      i32.const 0 i32.const 0 i32.const 2 local.get $n i32.const 1 i32.shl call $realloc local.set $p
      block loop local.get $i local.get $n i32.ge_u br_if 1
        local.get $p local.get $i i32.const 1 i32.shl i32.add local.get $i i32.const 7 i32.mul i32.store16
        local.get $i i32.const 1 i32.add local.set $i br 0 end end
      local.get $p local.get $n call $ret-pair)
    (func (export "swap") (param i32 i64) (result i32)
      i32.const 32 local.get 1 i64.store i32.const 40 local.get 0 i32.store8 i32.const 32)
    (func (export "echo-opt") (param i32 i64) (result i32)
      i32.const 64 local.get 0 i32.store8 i32.const 72 local.get 1 i64.store i32.const 64)
    (func (export "sum17") (param $p i32) (result i32) (local $i i32) (local $acc i32)
      block loop local.get $i i32.const 17 i32.ge_u br_if 1
        local.get $acc local.get $p local.get $i i32.const 2 i32.shl i32.add i32.load i32.add local.set $acc
        local.get $i i32.const 1 i32.add local.set $i br 0 end end
      local.get $acc)
  )
  (core instance $i (instantiate $m))
  (alias core export $i "mem" (core memory $mem))
  (alias core export $i "realloc" (core func $realloc))
  (func (export "add") (param "a" u32) (param "b" u32) (result u32) (canon lift (core func $i "add")))
  (func (export "echo-string") (param "s" string) (result string)
    (canon lift (core func $i "ret-pair") (memory $mem) (realloc $realloc)))
  (func (export "utf16-len") (param "s" string) (result u32)
    (canon lift (core func $i "len") (memory $mem) (realloc $realloc) string-encoding=utf16))
  (func (export "echo-utf16") (param "s" string) (result string)
    (canon lift (core func $i "ret-pair") (memory $mem) (realloc $realloc) string-encoding=utf16))
  (func (export "sum-list") (param "l" (list u32)) (result u64)
    (canon lift (core func $i "sum-list") (memory $mem) (realloc $realloc)))
  (func (export "make-list") (param "n" u32) (result (list u16))
    (canon lift (core func $i "make-list") (memory $mem) (realloc $realloc)))
  (func (export "swap") (param "t" (tuple u8 u64)) (result (tuple u64 u8))
    (canon lift (core func $i "swap") (memory $mem) (realloc $realloc)))
  (func (export "echo-opt") (param "o" (option u64)) (result (option u64))
    (canon lift (core func $i "echo-opt") (memory $mem) (realloc $realloc)))
  (func (export "echo-char") (param "c" char) (result char) (canon lift (core func $i "id32")))
  (func (export "u32-as-s8") (param "x" u32) (result s8) (canon lift (core func $i "id32")))
  (func (export "echo-f64") (param "x" f64) (result f64) (canon lift (core func $i "idf64")))
  (func (export "sum17") (param "a" u32) (param "b" u32) (param "c" u32) (param "d" u32) (param "e" u32)
    (param "f" u32) (param "g" u32) (param "h" u32) (param "i" u32) (param "j" u32) (param "k" u32)
    (param "l" u32) (param "m" u32) (param "n" u32) (param "o" u32) (param "p" u32) (param "q" u32)
    (result u32) (canon lift (core func $i "sum17") (memory $mem) (realloc $realloc)))
  (func (export "pair-as-string") (param "p" u32) (param "n" u32) (result string)
    (canon lift (core func $i "ret-pair") (memory $mem) (realloc $realloc)))
)

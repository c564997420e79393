;; The Canonical ABI on every 0.2 value type, through exports (component_run_test.cc): one core
;; module with a bump allocator, lifted many ways. ret-pair and id32 hand back whatever the host
;; passed, so the host can build hostile results (pointers, lengths, discriminants) on purpose.
(component
  (core module $m
    (memory (export "mem") 1)
    (global $bump (mut i32) (i32.const 1024))
    (global $posts (mut i32) (i32.const 0))
    ;; bad UTF-8 at 200, an unpaired UTF-16 surrogate at 208, "hé" in Latin-1 at 216
    (data (i32.const 200) "\ff\fe")
    (data (i32.const 208) "\00\d8\41\00")
    (data (i32.const 216) "h\e9")
    (func $realloc (export "realloc") (param i32 i32 i32 i32) (result i32) (local $p i32)
      global.get $bump local.get 2 i32.add i32.const 1 i32.sub
      local.get 2 i32.const 1 i32.sub i32.const -1 i32.xor i32.and local.set $p
      local.get $p local.get 3 i32.add global.set $bump
      local.get 0 if local.get $p local.get 0 local.get 1 memory.copy end
      local.get $p)
    (func (export "post") (param i32) global.get $posts i32.const 1 i32.add global.set $posts)
    (func (export "posts") (result i32) global.get $posts)
    (func (export "add") (param i32 i32) (result i32) local.get 0 local.get 1 i32.add)
    (func (export "id32") (param i32) (result i32) local.get 0)
    (func (export "id64") (param i64) (result i64) local.get 0)
    (func (export "idf32") (param f32) (result f32) local.get 0)
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
    ;; record {a: u8, b: u64} -> tuple<u64, u8>: (i32, i64) in, the tuple at 32
    (func (export "swap") (param i32 i64) (result i32)
      i32.const 32 local.get 1 i64.store i32.const 40 local.get 0 i32.store8 i32.const 32)
    ;; a variant of (u32 | f32 | string | none), flat (disc, i32, i32), stored at 48 as the type's layout
    (func (export "echo-v") (param i32 i32 i32) (result i32)
      i32.const 48 local.get 0 i32.store8 i32.const 52 local.get 1 i32.store
      i32.const 56 local.get 2 i32.store i32.const 48)
    ;; option<u64>, flat (disc, i64), at 64: disc u8, payload at 72
    (func (export "echo-opt") (param i32 i64) (result i32)
      i32.const 64 local.get 0 i32.store8 i32.const 72 local.get 1 i64.store i32.const 64)
    ;; result<f64, string>, flat (disc, i64 = f64 bits or ptr, i32 = len), at 80: disc, payload at 88
    (func (export "echo-res") (param i32 i64 i32) (result i32)
      i32.const 80 local.get 0 i32.store8 i32.const 88 local.get 1 i64.store
      local.get 0 if i32.const 88 local.get 1 i64.store32 i32.const 92 local.get 2 i32.store end
      i32.const 80)
    ;; 17 u32 parameters spilled to memory: one pointer in
    (func (export "sum17") (param $p i32) (result i32) (local $i i32) (local $acc i32)
      block loop local.get $i i32.const 17 i32.ge_u br_if 1
        local.get $acc local.get $p local.get $i i32.const 2 i32.shl i32.add i32.load i32.add local.set $acc
        local.get $i i32.const 1 i32.add local.set $i br 0 end end
      local.get $acc)
    ;; a list of records {name: string, n: u32}: the sum of n and of the names' lengths
    (func (export "sum-recs") (param $p i32) (param $len i32) (result i64) (local $acc i64)
      block loop local.get $len i32.eqz br_if 1
        local.get $acc local.get $p i64.load32_u offset=4 i64.add
        local.get $p i64.load32_u offset=8 i64.add local.set $acc
        local.get $p i32.const 12 i32.add local.set $p
        local.get $len i32.const 1 i32.sub local.set $len br 0 end end
      local.get $acc)
  )
  (core instance $i (instantiate $m))
  (alias core export $i "mem" (core memory $mem))
  (alias core export $i "realloc" (core func $realloc))
  (type $v (variant (case "a" u32) (case "b" f32) (case "c" string) (case "d")))
  (export $vx "v" (type $v))
  (type $rec (record (field "a" u8) (field "b" u64)))
  (export $recx "rec" (type $rec))
  (type $e (enum "red" "green" "blue"))
  (export $ex "color" (type $e))
  (type $fl (flags "x" "y" "z"))
  (export $flx "fl" (type $fl))
  (type $named (record (field "name" string) (field "n" u32)))
  (export $namedx "named" (type $named))
  (type $res (result f64 (error string)))
  (export $resx "res" (type $res))
  (func (export "add") (param "a" u32) (param "b" u32) (result u32) (canon lift (core func $i "add")))
  (func (export "echo-string") (param "s" string) (result string)
    (canon lift (core func $i "ret-pair") (memory $mem) (realloc $realloc) (post-return (core func $i "post"))))
  (func (export "posts") (result u32) (canon lift (core func $i "posts")))
  (func (export "string-len") (param "s" string) (result u32)
    (canon lift (core func $i "len") (memory $mem) (realloc $realloc)))
  (func (export "utf16-len") (param "s" string) (result u32)
    (canon lift (core func $i "len") (memory $mem) (realloc $realloc) string-encoding=utf16))
  (func (export "latin1-len") (param "s" string) (result u32)
    (canon lift (core func $i "len") (memory $mem) (realloc $realloc) string-encoding=latin1+utf16))
  (func (export "echo-utf16") (param "s" string) (result string)
    (canon lift (core func $i "ret-pair") (memory $mem) (realloc $realloc) string-encoding=utf16))
  (func (export "echo-latin1") (param "s" string) (result string)
    (canon lift (core func $i "ret-pair") (memory $mem) (realloc $realloc) string-encoding=latin1+utf16))
  (func (export "sum-list") (param "l" (list u32)) (result u64)
    (canon lift (core func $i "sum-list") (memory $mem) (realloc $realloc)))
  (func (export "make-list") (param "n" u32) (result (list u16))
    (canon lift (core func $i "make-list") (memory $mem) (realloc $realloc)))
  (func (export "swap") (param "r" $recx) (result (tuple u64 u8))
    (canon lift (core func $i "swap") (memory $mem) (realloc $realloc)))
  (func (export "echo-v") (param "v" $vx) (result $vx)
    (canon lift (core func $i "echo-v") (memory $mem) (realloc $realloc)))
  (func (export "echo-opt") (param "o" (option u64)) (result (option u64))
    (canon lift (core func $i "echo-opt") (memory $mem) (realloc $realloc)))
  (func (export "echo-res") (param "r" $resx) (result $resx)
    (canon lift (core func $i "echo-res") (memory $mem) (realloc $realloc)))
  (func (export "echo-enum") (param "e" $ex) (result $ex) (canon lift (core func $i "id32")))
  (func (export "echo-flags") (param "f" $flx) (result $flx) (canon lift (core func $i "id32")))
  (func (export "echo-char") (param "c" char) (result char) (canon lift (core func $i "id32")))
  (func (export "echo-bool") (param "b" bool) (result bool) (canon lift (core func $i "id32")))
  (func (export "echo-s8") (param "x" s8) (result s8) (canon lift (core func $i "id32")))
  (func (export "u32-as-s8") (param "x" u32) (result s8) (canon lift (core func $i "id32")))
  (func (export "echo-s64") (param "x" s64) (result s64) (canon lift (core func $i "id64")))
  (func (export "echo-f32") (param "x" f32) (result f32) (canon lift (core func $i "idf32")))
  (func (export "echo-f64") (param "x" f64) (result f64) (canon lift (core func $i "idf64")))
  (func (export "sum17") (param "a" u32) (param "b" u32) (param "c" u32) (param "d" u32) (param "e" u32)
    (param "f" u32) (param "g" u32) (param "h" u32) (param "i" u32) (param "j" u32) (param "k" u32)
    (param "l" u32) (param "m" u32) (param "n" u32) (param "o" u32) (param "p" u32) (param "q" u32)
    (result u32) (canon lift (core func $i "sum17") (memory $mem) (realloc $realloc)))
  (func (export "sum-recs") (param "l" (list $namedx)) (result u64)
    (canon lift (core func $i "sum-recs") (memory $mem) (realloc $realloc)))
  ;; hostile results built from the host's arguments
  (func (export "pair-as-string") (param "p" u32) (param "n" u32) (result string)
    (canon lift (core func $i "ret-pair") (memory $mem) (realloc $realloc)))
  (func (export "pair-as-utf16") (param "p" u32) (param "n" u32) (result string)
    (canon lift (core func $i "ret-pair") (memory $mem) (realloc $realloc) string-encoding=utf16))
  (func (export "pair-as-latin1") (param "p" u32) (param "n" u32) (result string)
    (canon lift (core func $i "ret-pair") (memory $mem) (realloc $realloc) string-encoding=latin1+utf16))
  (func (export "pair-as-list") (param "p" u32) (param "n" u32) (result (list u32))
    (canon lift (core func $i "ret-pair") (memory $mem) (realloc $realloc)))
  (func (export "pair-as-big-list") (param "p" u32) (param "n" u32) (result (list u8))
    (canon lift (core func $i "ret-pair") (memory $mem) (realloc $realloc)))
  (func (export "u32-as-char") (param "x" u32) (result char) (canon lift (core func $i "id32")))
  (func (export "u32-as-enum") (param "x" u32) (result $ex) (canon lift (core func $i "id32")))
  (func (export "u32-as-flags") (param "x" u32) (result $flx) (canon lift (core func $i "id32")))
  (func (export "u32-as-bool") (param "x" u32) (result bool) (canon lift (core func $i "id32")))
;; allocators that return memory outside memory or misaligned
  (core module $bad
    (func (export "realloc-oob") (param i32 i32 i32 i32) (result i32) i32.const 0xfffffff0)
    (func (export "realloc-odd") (param i32 i32 i32 i32) (result i32) i32.const 1))
  (core instance $bad (instantiate $bad))
  (func (export "len-oob-realloc") (param "s" string) (result u32)
    (canon lift (core func $i "len") (memory $mem) (realloc (core func $bad "realloc-oob"))))
  (func (export "sum-odd-realloc") (param "l" (list u32)) (result u64)
    (canon lift (core func $i "sum-list") (memory $mem) (realloc (core func $bad "realloc-odd"))))
)

;; Host functions and host resources (component_run_test.cc): imports of an interface the test
;; registers, lowered into core code. Memory and realloc live in a "libc" core instance of their
;; own, so lowering a result into memory never re-enters the instance that called the import.
(component
  (import "test:host/api@0.1.0" (instance $api
    (export "counter" (type (sub resource)))
    (export "add" (func (param "a" u32) (param "b" u32) (result u32)))
    (export "greet" (func (param "name" string) (result string)))
    (export "sum" (func (param "l" (list u32)) (result u64)))
    (export "log" (func (param "msg" string)))
    (export "[constructor]counter" (func (param "start" u32) (result (own 0))))
    (export "[method]counter.get" (func (param "self" (borrow 0)) (result u32)))
    (export "exit" (func (param "code" u32)))
    (export "sum17" (func (param "p0" u32) (param "p1" u32) (param "p2" u32) (param "p3" u32) (param "p4" u32) (param "p5" u32) (param "p6" u32) (param "p7" u32) (param "p8" u32) (param "p9" u32) (param "p10" u32) (param "p11" u32) (param "p12" u32) (param "p13" u32) (param "p14" u32) (param "p15" u32) (param "p16" u32) (result u32)))
    (export "div" (func (param "a" u32) (param "b" u32) (result (result u32 (error string)))))
  ))
  (alias export $api "counter" (type $counter))
  (core module $libc
    (memory (export "mem") 1)
    (global $bump (mut i32) (i32.const 1024))
    (func (export "realloc") (param i32 i32 i32 i32) (result i32) (local $p i32)
      global.get $bump local.get 2 i32.add i32.const 1 i32.sub
      local.get 2 i32.const 1 i32.sub i32.const -1 i32.xor i32.and local.set $p
      local.get $p local.get 3 i32.add global.set $bump
      local.get $p)
    (func (export "load32") (param i32) (result i32) local.get 0 i32.load)
    (func (export "store32") (param i32 i32) local.get 0 local.get 1 i32.store)
  )
  (core instance $libc (instantiate $libc))
  (alias core export $libc "mem" (core memory $mem))
  (alias core export $libc "realloc" (core func $realloc))
  (core func $add (canon lower (func $api "add")))
  (core func $greet (canon lower (func $api "greet") (memory $mem) (realloc $realloc)))
  (core func $sum (canon lower (func $api "sum") (memory $mem) (realloc $realloc)))
  (core func $log (canon lower (func $api "log") (memory $mem) (realloc $realloc)))
  (core func $new (canon lower (func $api "[constructor]counter")))
  (core func $get (canon lower (func $api "[method]counter.get")))
  (core func $drop (canon resource.drop $counter))
  (core func $exit (canon lower (func $api "exit")))
  (core func $sum17 (canon lower (func $api "sum17") (memory $mem)))
  (core func $div (canon lower (func $api "div") (memory $mem) (realloc $realloc)))
  (core module $main
    (import "api" "add" (func $add (param i32 i32) (result i32)))
    (import "api" "greet" (func $greet (param i32 i32 i32)))
    (import "api" "sum" (func $sum (param i32 i32) (result i64)))
    (import "api" "log" (func $log (param i32 i32)))
    (import "api" "new" (func $new (param i32) (result i32)))
    (import "api" "get" (func $get (param i32) (result i32)))
    (import "api" "drop" (func $drop (param i32)))
    (import "api" "exit" (func $exit (param i32)))
    (import "api" "sum17" (func $sum17 (param i32) (result i32)))
    (import "api" "div" (func $div (param i32 i32 i32)))
    (import "libc" "realloc" (func $realloc (param i32 i32 i32 i32) (result i32)))
    (import "libc" "store32" (func $store32 (param i32 i32)))
    ;; 17 parameters to the host in memory: 1..17 stored through libc
    (func (export "call-sum17") (result i32) (local $p i32) (local $i i32)
      i32.const 0 i32.const 0 i32.const 4 i32.const 68 call $realloc local.set $p
      block loop local.get $i i32.const 17 i32.ge_u br_if 1
        local.get $p local.get $i i32.const 2 i32.shl i32.add local.get $i i32.const 1 i32.add call $store32
        local.get $i i32.const 1 i32.add local.set $i br 0 end end
      local.get $p call $sum17)
    ;; a result<u32, string> from the host, written at a return area the caller passes
    (func (export "call-div") (param i32 i32) (result i32) (local $ret i32)
      i32.const 0 i32.const 0 i32.const 4 i32.const 12 call $realloc local.set $ret
      local.get 0 local.get 1 local.get $ret call $div local.get $ret)
    (func (export "call-add") (param i32 i32) (result i32) local.get 0 local.get 1 call $add)
    ;; greet(name) through the host: the result (ptr, len) is written at a return area realloc gives
    (func (export "call-greet") (param i32 i32) (result i32) (local $ret i32)
      i32.const 0 i32.const 0 i32.const 4 i32.const 8 call $realloc local.set $ret
      local.get 0 local.get 1 local.get $ret call $greet
      local.get $ret)
    (func (export "call-sum") (param i32 i32) (result i64) local.get 0 local.get 1 call $sum)
    (func (export "call-log") (param i32 i32) local.get 0 local.get 1 call $log)
    (func (export "call-log-raw") (param i32 i32) local.get 0 local.get 1 call $log)
    ;; a counter made, read through a borrow, dropped: returns what get said
    (func (export "counter") (param i32) (result i32) (local $h i32) (local $v i32)
      local.get 0 call $new local.set $h
      local.get $h call $get local.set $v
      local.get $h call $drop
      local.get $v)
    (func (export "drop-twice") (local $h i32)
      i32.const 1 call $new local.set $h
      local.get $h call $drop local.get $h call $drop)
    (func (export "get-handle") (param i32) (result i32) local.get 0 call $get)
    (func (export "leak") (param i32) (result i32) local.get 0 call $new)
    (func (export "call-exit") (param i32) local.get 0 call $exit unreachable)
  )
  (core instance $main (instantiate $main
    (with "api" (instance
      (export "add" (func $add)) (export "greet" (func $greet)) (export "sum" (func $sum))
      (export "log" (func $log)) (export "new" (func $new)) (export "get" (func $get))
      (export "drop" (func $drop)) (export "exit" (func $exit))
      (export "sum17" (func $sum17)) (export "div" (func $div))))
    (with "libc" (instance $libc))))
  (func (export "call-add") (param "a" u32) (param "b" u32) (result u32) (canon lift (core func $main "call-add")))
  (func (export "call-greet") (param "name" string) (result string)
    (canon lift (core func $main "call-greet") (memory $mem) (realloc $realloc)))
  (func (export "call-sum") (param "l" (list u32)) (result u64)
    (canon lift (core func $main "call-sum") (memory $mem) (realloc $realloc)))
  (func (export "call-log") (param "msg" string) (canon lift (core func $main "call-log") (memory $mem) (realloc $realloc)))
  ;; the raw (ptr, len) handed to the host's log as a string: hostile arguments to an import
  (func (export "call-log-raw") (param "p" u32) (param "n" u32) (canon lift (core func $main "call-log-raw")))
  (func (export "counter") (param "start" u32) (result u32) (canon lift (core func $main "counter")))
  (func (export "drop-twice") (canon lift (core func $main "drop-twice")))
  (func (export "get-handle") (param "h" u32) (result u32) (canon lift (core func $main "get-handle")))
  (func (export "leak") (param "start" u32) (result u32) (canon lift (core func $main "leak")))
  (func (export "call-exit") (param "code" u32) (canon lift (core func $main "call-exit")))
  (func (export "call-sum17") (result u32) (canon lift (core func $main "call-sum17")))
  (func (export "call-div") (param "a" u32) (param "b" u32) (result (result u32 (error string)))
    (canon lift (core func $main "call-div") (memory $mem) (realloc $realloc)))
)

;; A WASI 0.2 command (wasi:cli/run@0.2.0#run) for `wasmcap run COMPONENT` (cli_components.sh),
;; with no table shared between its core instances. What it does is its first argument:
;;   hello       "hello from a component" on stdout
;;   args        each argument on a line
;;   random      get-random-u64 and wall-clock now, in hex
;;   code        exit-with-code 7
;;   err         run returns err (status 1)
;;   trap        unreachable
;;   spin        loops forever
;;   flood       64 KiB blocks to stdout, 64 of them
(component
  (import "wasi:io/error@0.2.0" (instance $ioerr (export "error" (type (sub resource)))))
  (alias export $ioerr "error" (type $error))
  (import "wasi:io/streams@0.2.0" (instance $streams
    (alias outer 1 $error (type $e))
    (export "error" (type $err (eq $e)))
    (type $se (variant (case "last-operation-failed" (own $err)) (case "closed")))
    (export "stream-error" (type $stream-error (eq $se)))
    (export "output-stream" (type $os (sub resource)))
    (export "[method]output-stream.blocking-write-and-flush"
      (func (param "self" (borrow $os)) (param "contents" (list u8)) (result (result (error $stream-error)))))
  ))
  (alias export $streams "output-stream" (type $output-stream))
  (import "wasi:cli/stdout@0.2.0" (instance $stdout
    (alias outer 1 $output-stream (type $o))
    (export "output-stream" (type $os (eq $o)))
    (export "get-stdout" (func (result (own $os))))
  ))
  (import "wasi:cli/environment@0.2.0" (instance $env
    (export "get-arguments" (func (result (list string))))
  ))
  (import "wasi:cli/exit@0.2.0" (instance $exit
    (export "exit-with-code" (func (param "status-code" u8)))
  ))
  (import "wasi:random/random@0.2.0" (instance $random
    (export "get-random-u64" (func (result u64)))
  ))
  (import "wasi:clocks/wall-clock@0.2.0" (instance $wall
    (type $dt (record (field "seconds" u64) (field "nanoseconds" u32)))
    (export "datetime" (type $datetime (eq $dt)))
    (export "now" (func (result $datetime)))
  ))
  (core module $libc
    (memory (export "mem") 2)
    (global $bump (mut i32) (i32.const 8192))
    (func (export "realloc") (param i32 i32 i32 i32) (result i32) (local $p i32)
      global.get $bump local.get 2 i32.add i32.const 1 i32.sub
      local.get 2 i32.const 1 i32.sub i32.const -1 i32.xor i32.and local.set $p
      local.get $p local.get 3 i32.add global.set $bump
      local.get $p)
  )
  (core instance $libc (instantiate $libc))
  (alias core export $libc "mem" (core memory $mem))
  (alias core export $libc "realloc" (core func $realloc))
  (core func $write (canon lower (func $streams "[method]output-stream.blocking-write-and-flush") (memory $mem)))
  (core func $get-stdout (canon lower (func $stdout "get-stdout")))
  (core func $get-args (canon lower (func $env "get-arguments") (memory $mem) (realloc $realloc)))
  (core func $exit-with-code (canon lower (func $exit "exit-with-code")))
  (core func $rand (canon lower (func $random "get-random-u64")))
  (core func $now (canon lower (func $wall "now") (memory $mem)))
  (core func $drop (canon resource.drop $output-stream))
  (core module $main
    (import "libc" "mem" (memory 1))
    (import "wasi" "write" (func $write (param i32 i32 i32 i32)))
    (import "wasi" "get-stdout" (func $get-stdout (result i32)))
    (import "wasi" "get-args" (func $get-args (param i32)))
    (import "wasi" "exit-with-code" (func $exit-with-code (param i32)))
    (import "wasi" "rand" (func $rand (result i64)))
    (import "wasi" "now" (func $now (param i32)))
    (import "wasi" "drop" (func $drop (param i32)))
    (global $out (mut i32) (i32.const 0))
    (data (i32.const 256) "hello from a component\0a")
    (data (i32.const 300) "\0a .")
    ;; (ptr, len) to stdout; a stream error traps
    (func $print (param i32 i32)
      global.get $out local.get 0 local.get 1 i32.const 32 call $write
      i32.const 32 i32.load8_u if unreachable end)
    ;; v as 16 hex digits at 512, printed
    (func $hex (param $v i64) (local $i i32) (local $d i32)
      i32.const 15 local.set $i
      block loop
        local.get $v i64.const 15 i64.and i32.wrap_i64 local.set $d
        i32.const 512 local.get $i i32.add
        local.get $d i32.const 48 i32.add local.get $d i32.const 87 i32.add local.get $d i32.const 10 i32.lt_u select
        i32.store8
        local.get $v i64.const 4 i64.shr_u local.set $v
        local.get $i i32.eqz br_if 1
        local.get $i i32.const 1 i32.sub local.set $i
        br 0
      end end
      i32.const 512 i32.const 16 call $print)
    (func (export "run") (result i32) (local $args i32) (local $n i32) (local $i i32) (local $c i32)
      call $get-stdout global.set $out
      i32.const 16 call $get-args
      i32.const 16 i32.load local.set $args
      i32.const 20 i32.load local.set $n
      local.get $n i32.const 2 i32.lt_u if i32.const 256 i32.const 23 call $print i32.const 0 return end
      ;; the first byte of argument 1
      local.get $args i32.load offset=8 i32.load8_u local.set $c
      local.get $c i32.const 104 i32.eq if (; h ;) i32.const 256 i32.const 23 call $print end
      local.get $c i32.const 97 i32.eq if (; a ;)
        block loop
          local.get $i local.get $n i32.ge_u br_if 1
          local.get $args local.get $i i32.const 3 i32.shl i32.add local.tee $c
          i32.load local.get $c i32.load offset=4 call $print
          i32.const 300 i32.const 1 call $print
          local.get $i i32.const 1 i32.add local.set $i
          br 0
        end end
        i32.const 0 return
      end
      local.get $c i32.const 114 i32.eq if (; r ;)
        call $rand call $hex
        i32.const 301 i32.const 1 call $print
        i32.const 64 call $now
        i32.const 64 i64.load call $hex
        i32.const 302 i32.const 1 call $print
        i32.const 72 i64.load32_u call $hex
        i32.const 300 i32.const 1 call $print
      end
      local.get $c i32.const 99 i32.eq if (; c ;) i32.const 7 call $exit-with-code end
      local.get $c i32.const 101 i32.eq if (; e ;) global.get $out call $drop i32.const 1 return end
      local.get $c i32.const 116 i32.eq if (; t ;) unreachable end
      local.get $c i32.const 115 i32.eq if (; s ;) loop br 0 end end
      local.get $c i32.const 102 i32.eq if (; f ;)
        block loop
          local.get $i i32.const 64 i32.ge_u br_if 1
          i32.const 65536 i32.const 65536 call $print
          local.get $i i32.const 1 i32.add local.set $i
          br 0
        end end
      end
      global.get $out call $drop
      i32.const 0)
  )
  (core instance $m (instantiate $main
    (with "libc" (instance $libc))
    (with "wasi" (instance
      (export "write" (func $write))
      (export "get-stdout" (func $get-stdout))
      (export "get-args" (func $get-args))
      (export "exit-with-code" (func $exit-with-code))
      (export "rand" (func $rand))
      (export "now" (func $now))
      (export "drop" (func $drop))))))
  (func $run (result (result)) (canon lift (core func $m "run")))
  (instance $run-instance (export "run" (func $run)))
  (export "wasi:cli/run@0.2.0" (instance $run-instance))
)

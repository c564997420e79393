;; Sums that GCC's reassociation may reorder (the AOT compile's --param=tree-reassoc-width,
;; docs/aot.md): integer sums of loads and loop-carried values must still wrap at 2^32 / 2^64,
;; and floating-point sums must keep wasm's left-to-right order (each add rounds).
(module
  (memory 1)
  ;; 0..255: 64 i32 "round constants", near 2^32 so every sum wraps; 256..511: a schedule.
  (func $init
    (local $i i32)
    (loop $l
      (i32.store (i32.shl (local.get $i) (i32.const 2))
        (i32.sub (i32.const -16) (i32.mul (local.get $i) (i32.const 0x01010101))))
      (i32.store offset=256 (i32.shl (local.get $i) (i32.const 2))
        (i32.xor (i32.const 0x9e3779b9) (i32.mul (local.get $i) (i32.const 0x7fffffff))))
      (br_if $l (i32.ne (local.tee $i (i32.add (local.get $i) (i32.const 1))) (i32.const 64)))))
  (start $init)

  ;; SHA-256's round shape: t1 = h + S1(e) + ch(e,f,g) + K[i] + w[i]; rotate counts >= 32 too.
  (func (export "rounds") (param $e i32) (param $h i32) (result i32)
    (local $i i32) (local $f i32) (local $g i32) (local $t i32)
    (local.set $f (i32.const 0xfedcba98))
    (local.set $g (i32.const 0x01234567))
    (loop $l
      (local.set $t
        (i32.add
          (i32.add
            (i32.add
              (i32.add (local.get $h)
                (i32.xor (i32.xor (i32.rotl (local.get $e) (i32.const 26))
                                  (i32.rotl (local.get $e) (i32.const 53)))
                         (i32.rotr (local.get $e) (i32.const 57))))
              (i32.xor (i32.and (local.get $e) (local.get $f))
                       (i32.and (i32.xor (local.get $e) (i32.const -1)) (local.get $g))))
            (i32.load (local.get $i)))
          (i32.load offset=256 (local.get $i))))
      (local.set $h (local.get $g))
      (local.set $g (local.get $f))
      (local.set $f (local.get $e))
      (local.set $e (i32.add (local.get $t) (local.get $h)))
      (br_if $l (i32.ne (local.tee $i (i32.add (local.get $i) (i32.const 4))) (i32.const 256))))
    (i32.xor (local.get $e) (local.get $f)))

  ;; The same over i64 (two i32 constants per load), wrapping at 2^64.
  (func (export "rounds64") (param $e i64) (result i64)
    (local $i i32) (local $h i64)
    (local.set $h (i64.const -1))
    (loop $l
      (local.set $e
        (i64.add
          (i64.add
            (i64.add (local.get $h) (i64.rotl (local.get $e) (i64.const 83)))
            (i64.load (local.get $i)))
          (i64.load offset=256 (local.get $i))))
      (local.set $h (i64.xor (local.get $h) (local.get $e)))
      (br_if $l (i32.ne (local.tee $i (i32.add (local.get $i) (i32.const 8))) (i32.const 256))))
    (i64.add (local.get $e) (local.get $h)))

  ;; p + mem[a] + mem[b], left to right: every add rounds (1 + 2^-53 + 2^-53 = 1, not 1 + 2^-52)
  ;; and overflows where it does (1e308 + 1e308 - 1e308 = inf).
  (func (export "fsum") (param $p f64) (param $a f64) (param $b f64) (result f64)
    (f64.store (i32.const 1024) (local.get $a))
    (f64.store (i32.const 1032) (local.get $b))
    (f64.add (f64.add (local.get $p) (f64.load (i32.const 1024))) (f64.load (i32.const 1032))))
)

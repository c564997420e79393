;; Counted loops of the shapes the AOT translator versions (docs/aot.md, "Loop versioning"):
;; each export runs one loop over guest-chosen addresses and counts, so a test can start it in
;; bounds, out of bounds part-way, on addresses that wrap past 2^32, misaligned, with counts of
;; 0, 1 and 2^32-ish, and compare everything (results, traps, memory) with an interpreter.
;; Memory: 2 pages (0x20000 bytes); "hash" folds all of it.
(module
  (memory 2)

  ;; 0..0x20000: a byte pattern, so loads see data. Every byte is below 0x70, so no 4 or 8 bytes
  ;; read as a float, aligned or not, are a NaN or an infinity: where a NaN is an operand, wasm
  ;; lets the result be any NaN (engines may differ in its payload: GCC orders the operands of
  ;; a commutative add as it likes), and the tests compare memory bit for bit.
  (func $init
    (local $i i32)
    (loop $l
      (i32.store8 (local.get $i)
        (i32.and (i32.xor (local.get $i) (i32.shr_u (local.get $i) (i32.const 7))) (i32.const 0x6f)))
      (br_if $l (i32.ne (local.tee $i (i32.add (local.get $i) (i32.const 1))) (i32.const 0x20000)))))
  (start $init)

  ;; FNV-1a over memory, 8 bytes at a time (a versioned loop itself).
  (func (export "hash") (result i64)
    (local $p i32) (local $h i64)
    (local.set $h (i64.const 0xcbf29ce484222325))
    (loop $l
      (local.set $h (i64.mul (i64.xor (local.get $h) (i64.load (local.get $p)))
                             (i64.const 0x100000001b3)))
      (br_if $l (i32.ne (local.tee $p (i32.add (local.get $p) (i32.const 8))) (i32.const 0x20000))))
    (local.get $h))

  ;; matmul's inner loop: dst[j] += a * src[j], j = 0..n-1 (index IV, `!=` exit, 2x unrolled as
  ;; clang does: n must be even and >= 2 for the loop to end; odd n wraps the index).
  (func (export "axpy") (param $dst i32) (param $src i32) (param $n i32) (param $a f64)
    (local $j i32) (local $d i32)
    (loop $l
      (f64.store (local.tee $d (i32.add (local.get $dst) (i32.shl (local.get $j) (i32.const 3))))
        (f64.add (f64.mul (local.get $a)
                          (f64.load (i32.add (local.get $src) (i32.shl (local.get $j) (i32.const 3)))))
                 (f64.load (local.get $d))))
      (f64.store offset=8 (local.get $d)
        (f64.add (f64.mul (local.get $a)
                          (f64.load offset=8 (i32.add (local.get $src) (i32.shl (local.get $j) (i32.const 3)))))
                 (f64.load offset=8 (local.get $d))))
      (br_if $l (i32.ne (local.tee $j (i32.add (local.get $j) (i32.const 2))) (local.get $n)))))

  ;; A signed sum of i32 loads (a carried local), `lt_s` exit; returns the sum.
  (func (export "sum_lt_s") (param $base i32) (param $i i32) (param $n i32) (result i32)
    (local $s i32)
    (loop $l
      (local.set $s (i32.add (local.get $s)
        (i32.load offset=4 (i32.add (local.get $base) (i32.mul (local.get $i) (i32.const 4))))))
      (br_if $l (i32.lt_s (local.tee $i (i32.add (local.get $i) (i32.const 1))) (local.get $n))))
    (local.get $s))

  ;; memcpy by bytes with a count that runs down to zero (`br_if` on the value itself).
  (func (export "copy_bytes") (param $dst i32) (param $src i32) (param $n i32)
    (loop $l
      (i32.store8 (local.get $dst) (i32.load8_u (local.get $src)))
      (local.set $dst (i32.add (local.get $dst) (i32.const 1)))
      (local.set $src (i32.add (local.get $src) (i32.const 1)))
      (br_if $l (local.tee $n (i32.add (local.get $n) (i32.const -1))))))

  ;; A pointer walking down by 4 with a negative constant in the address, `gt_u` exit.
  (func (export "fill_down") (param $p i32) (param $end i32) (param $v i32)
    (loop $l
      (i32.store offset=0 (i32.add (local.get $p) (i32.const -4)) (local.get $v))
      (local.set $v (i32.add (local.get $v) (i32.const 0x01000193)))
      (br_if $l (i32.gt_u (local.tee $p (i32.add (local.get $p) (i32.const -4))) (local.get $end)))))

  ;; `le_u` with the moving side on the right (mirrored), i64 loads and 16-bit stores.
  (func (export "narrow") (param $dst i32) (param $src i32) (param $i i32) (param $last i32)
    (loop $l
      (i64.store16 (i32.add (local.get $dst) (i32.shl (local.get $i) (i32.const 1)))
        (i64.shr_u (i64.load (i32.add (local.get $src) (i32.shl (local.get $i) (i32.const 3))))
                   (i64.const 13)))
      (br_if $l (i32.ge_u (local.get $last) (local.tee $i (i32.add (local.get $i) (i32.const 1)))))))

  ;; `ge_s` down to a signed bound; sign-extending loads, conversions, select, float compare.
  (func (export "mix") (param $p i32) (param $i i32) (param $lo i32) (result f64)
    (local $acc f64) (local $x f64)
    (loop $l
      (local.set $x (f64.convert_i32_s
        (i32.load16_s offset=2 (i32.add (local.get $p) (i32.shl (local.get $i) (i32.const 2))))))
      (local.set $acc (f64.add (local.get $acc)
        (select (local.get $x) (f64.neg (local.get $x)) (f64.gt (local.get $x) (f64.const 0)))))
      (f32.store (i32.add (local.get $p) (i32.shl (local.get $i) (i32.const 2)))
        (f32.demote_f64 (f64.div (local.get $acc) (f64.const 3))))
      (br_if $l (i32.ge_s (local.tee $i (i32.add (local.get $i) (i32.const -1))) (local.get $lo))))
    (local.get $acc))

  ;; `br_if (i32.eqz (i32.ge_u ...))`: an inverted test; i64 arithmetic, rotates, 8-bit loads.
  (func (export "scramble") (param $p i32) (param $n i32) (result i64)
    (local $i i32) (local $h i64)
    (loop $l
      (local.set $h (i64.rotl (i64.xor (local.get $h)
          (i64.extend_i32_u (i32.load8_s (i32.add (local.get $p) (local.get $i)))))
        (i64.const 5)))
      (i64.store32 offset=0x10000 (i32.add (local.get $p) (i32.shl (local.get $i) (i32.const 2)))
        (local.get $h))
      (br_if $l (i32.eqz (i32.ge_u (local.tee $i (i32.add (local.get $i) (i32.const 1))) (local.get $n)))))
    (local.get $h))

  ;; A big step (2^28 bytes per iteration): the address form's slope is large.
  (func (export "stride") (param $p i32) (param $n i32) (result i32)
    (local $s i32)
    (loop $l
      (local.set $s (i32.add (local.get $s) (i32.load (local.get $p))))
      (local.set $p (i32.add (local.get $p) (i32.const 0x10000000)))
      (br_if $l (local.tee $n (i32.sub (local.get $n) (i32.const 1)))))
    (local.get $s))

  ;; The exit test's counter x is not the address: a test that wraps before it fails (x passes
  ;; 2^32, or goes below -2^31) must not be taken for one that ends the loop.
  (func (export "walk_lt_u") (param $p i32) (param $x i32) (param $y i32) (result i32)
    (loop $l
      (i32.store (local.get $p) (local.get $x))
      (local.set $p (i32.add (local.get $p) (i32.const 4)))
      (br_if $l (i32.lt_u (local.tee $x (i32.add (local.get $x) (i32.const 8))) (local.get $y))))
    (local.get $x))
  (func (export "walk_gt_s") (param $p i32) (param $x i32) (param $y i32) (result i32)
    (loop $l
      (i32.store (local.get $p) (local.get $x))
      (local.set $p (i32.add (local.get $p) (i32.const 4)))
      (br_if $l (i32.gt_s (local.tee $x (i32.add (local.get $x) (i32.const -8))) (local.get $y))))
    (local.get $x))
  (func (export "walk_ne") (param $p i32) (param $x i32) (param $y i32) (result i32)
    (loop $l
      (i32.store (local.get $p) (local.get $x))
      (local.set $p (i32.add (local.get $p) (i32.const 4)))
      (br_if $l (i32.ne (local.tee $x (i32.add (local.get $x) (i32.const 12))) (local.get $y))))
    (local.get $x))

  ;; Not versioned: a call in the body, and a branch out of it.
  (func $id (param i32) (result i32) (local.get 0))
  (func (export "with_call") (param $p i32) (param $n i32)
    (loop $l
      (i32.store (local.get $p) (call $id (local.get $n)))
      (local.set $p (i32.add (local.get $p) (i32.const 4)))
      (br_if $l (local.tee $n (i32.sub (local.get $n) (i32.const 1))))))
  (func (export "with_exit") (param $p i32) (param $n i32)
    (block $out
      (loop $l
        (br_if $out (i32.eqz (i32.load (local.get $p))))
        (i32.store (local.get $p) (local.get $n))
        (local.set $p (i32.add (local.get $p) (i32.const 4)))
        (br_if $l (local.tee $n (i32.sub (local.get $n) (i32.const 1)))))))
)

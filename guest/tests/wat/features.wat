;; Wasm 2.0 features that clang, rustc and Go emit. Each export returns 1 when the feature
;; behaved as the spec says (or a computed value the test checks).
(module
  (type $v_i (func (result i32)))
  (memory 1)
  (data $passive "\01\02\03\04\05\06\07\08")
  (table $t1 2 funcref)
  (table $t2 2 funcref)
  (elem $passive_elem func $f10 $f20)
  (elem declare func $f30)
  (func $f10 (type $v_i) (i32.const 10))
  (func $f20 (type $v_i) (i32.const 20))
  (func $f30 (type $v_i) (i32.const 30))

  ;; bulk memory: memory.init, memory.copy (overlapping), memory.fill, data.drop
  (func (export "bulk_memory") (result i32)
    (memory.init $passive (i32.const 100) (i32.const 0) (i32.const 8))
    (memory.copy (i32.const 102) (i32.const 100) (i32.const 6))   ;; overlapping move
    (memory.fill (i32.const 200) (i32.const 0xAB) (i32.const 4))
    (data.drop $passive)
    ;; expected bytes at 100: 01 02 01 02 03 04 05 06
    (i32.and
      (i32.and
        (i64.eq (i64.load (i32.const 100)) (i64.const 0x0605040302010201))
        (i32.eq (i32.load (i32.const 200)) (i32.const 0xABABABAB)))
      (i32.eq (i32.load (i32.const 204)) (i32.const 0))))
  ;; memory.init after data.drop with a non-zero length traps (segment dropped)
  (func (export "init_after_drop")
    (memory.init $passive (i32.const 0) (i32.const 0) (i32.const 1)))

  ;; sign extension
  (func (export "sign_ext") (result i32)
    (i32.and
      (i32.and
        (i32.eq (i32.extend8_s (i32.const 0x80)) (i32.const -128))
        (i32.eq (i32.extend16_s (i32.const 0x8000)) (i32.const -32768)))
      (i64.eq (i64.extend32_s (i64.const 0x80000000)) (i64.const -2147483648))))

  ;; saturating float-to-int never traps
  (func (export "sat_trunc") (result i32)
    (i32.and
      (i32.and
        (i32.eq (i32.trunc_sat_f32_s (f32.const nan)) (i32.const 0))
        (i32.eq (i32.trunc_sat_f64_s (f64.const 1e100)) (i32.const 0x7fffffff)))
      (i32.and
        (i32.eq (i32.trunc_sat_f64_u (f64.const -3)) (i32.const 0))
        (i64.eq (i64.trunc_sat_f64_s (f64.const -1e300)) (i64.const 0x8000000000000000)))))

  ;; multi-value: functions returning several values, blocks with params and results
  (func $divmod (param i32 i32) (result i32 i32)
    (i32.div_u (local.get 0) (local.get 1))
    (i32.rem_u (local.get 0) (local.get 1)))
  (func (export "multi_value") (result i32)
    (local $q i32) (local $r i32)
    (call $divmod (i32.const 17) (i32.const 5))
    (local.set $r) (local.set $q)
    (i32.const 3) (i32.const 4)
    (block (param i32 i32) (result i32) (i32.mul))   ;; 12
    (i32.add (i32.mul (local.get $q) (i32.const 100)) (local.get $r))  ;; 302
    (i32.add))  ;; 314

  ;; reference types: several tables, table.init/get/set/size/grow, ref.func, ref.is_null,
  ;; externref locals, typed select
  (func (export "reference_types") (result i32)
    (local $e externref)
    (table.init $t2 $passive_elem (i32.const 0) (i32.const 0) (i32.const 2))
    (table.set $t1 (i32.const 1) (ref.func $f30))
    (if (i32.eqz (ref.is_null (table.get $t1 (i32.const 0)))) (then (return (i32.const -1))))
    (if (i32.ne (table.grow $t1 (ref.null func) (i32.const 3)) (i32.const 2))
      (then (return (i32.const -2))))
    (if (i32.ne (table.size $t1) (i32.const 5)) (then (return (i32.const -3))))
    (if (i32.eqz (ref.is_null (local.get $e))) (then (return (i32.const -4))))
    (i32.add
      (i32.add
        (call_indirect $t2 (type $v_i) (i32.const 0))          ;; 10
        (call_indirect $t2 (type $v_i) (i32.const 1)))         ;; 20
      (i32.add
        (call_indirect $t1 (type $v_i) (i32.const 1))          ;; 30
        (select (result i32) (i32.const 100) (i32.const 200) (i32.const 1)))))  ;; 100 -> 160

  ;; SIMD (v128): enabled in the engine, used by autovectorising compilers
  (func (export "simd") (result i32)
    (i32x4.extract_lane 3
      (i32x4.add (v128.const i32x4 1 2 3 4) (v128.const i32x4 10 20 30 40))))  ;; 44
)

;; Legacy exception handling (try/catch/catch_all/delegate/rethrow/throw, tags): valid and invalid
;; modules for engine/validate_equiv (the core spec suite has no exception-handling files).
;; Converted with `wast2json --enable-exceptions`; what matters is that wabt's interp reader and
;; the fast engine's validating reader agree on each module, valid or not.

(module
  (import "env" "ext" (tag $imp (param f32)))
  (tag $e0)
  (tag $e1 (param i32))
  (tag $e2 (param i32 i64))
  (export "e1" (tag $e1))
  (func $thrower (param i32)
    local.get 0
    i32.eqz
    if
      throw $e0
    end
    local.get 0
    throw $e1)
  (func (export "catches") (param i32) (result i32)
    try (result i32)
      local.get 0
      call $thrower
      i32.const 0
    catch $e0
      i32.const 1
    catch $e1
      i32.const 2
      i32.add
    catch_all
      i32.const 3
    end)
  (func (export "rethrows") (param i32) (result i32)
    try (result i32)
      try
        local.get 0
        call $thrower
      catch_all
        rethrow 0
      end
      i32.const 0
    catch $e1
    end)
  (func (export "delegates") (param i32)
    try
      try
        local.get 0
        call $thrower
      delegate 0
    catch $e1
      drop
    end)
  (func (export "delegate_to_caller") (param i32)
    try
      local.get 0
      call $thrower
    delegate 0)
  (func (export "nested_rethrow") (result i32 i64)
    try (result i32 i64)
      i32.const 1
      i64.const 2
      throw $e2
    catch $e2
      drop
      drop
      try (result i32 i64)
        throw $e0
      catch $e0
        rethrow 1
      end
    end)
  (func (export "br_out_of_catch") (result i32)
    block $out (result i32)
      try (result i32)
        throw $e0
      catch $e0
        i32.const 7
        br $out
      end
    end)
  (func (export "empty_try")
    try
    end
    try
    catch_all
    end
    try
    delegate 0))

;; rethrow outside a catch
(assert_invalid
  (module (func try rethrow 0 end))
  "invalid rethrow depth")
;; rethrow depth past the catch
(assert_invalid
  (module (tag) (func try nop catch 0 block rethrow 2 end end))
  "invalid rethrow depth")
;; delegate depth out of range
(assert_invalid
  (module (func try nop delegate 2))
  "invalid depth")
;; throw of a tag that does not exist
(assert_invalid
  (module (tag) (func throw 3))
  "tag variable out of range")
;; catch of a tag that does not exist
(assert_invalid
  (module (tag) (func try nop catch 1 end))
  "tag variable out of range")
;; throw with an operand of the wrong type
(assert_invalid
  (module (tag (param i32)) (func i64.const 0 throw 0))
  "type mismatch")
;; try body with the wrong result type
(assert_invalid
  (module (func (result i32) try (result i32) i64.const 0 catch_all i32.const 0 end))
  "type mismatch")
;; catch body with the wrong result type
(assert_invalid
  (module (tag) (func (result i32) try (result i32) i32.const 0 catch 0 f32.const 0 end))
  "type mismatch")
;; a catch that leaves its tag's values on the stack
(assert_invalid
  (module (tag (param i32)) (func try nop catch 0 end))
  "type mismatch")
;; a tag whose type has results
(assert_invalid
  (module (type (func (result i32))) (tag (type 0)))
  "tag signature must have 0 results")
;; catch after catch_all
(assert_invalid
  (module (tag) (func try nop catch_all catch 0 end))
  "catch")
;; The next three cannot be written in the text format (the parser refuses them): binary.
;; catch outside a try: (tag) (func block catch 0 end)
(assert_invalid
  (module binary "\00asm" "\01\00\00\00" "\01\04\01\60\00\00" "\03\02\01\00" "\0d\03\01\00\00"
    "\0a\09\01\07\00\02\40\07\00\0b\0b")
  "catch")
;; delegate closing a block: (func block nop delegate 0)
(assert_invalid
  (module binary "\00asm" "\01\00\00\00" "\01\04\01\60\00\00" "\03\02\01\00"
    "\0a\09\01\07\00\02\40\01\18\00\0b")
  "delegate")
;; catch_all in an if: (func i32.const 0 if catch_all end)
(assert_invalid
  (module binary "\00asm" "\01\00\00\00" "\01\04\01\60\00\00" "\03\02\01\00"
    "\0a\0a\01\08\00\41\00\04\40\19\0b\0b")
  "catch")
;; a tag export of a tag that does not exist
(assert_invalid
  (module (tag) (export "t" (tag 1)))
  "tag variable out of range")
;; a tag with a type index out of range
(assert_invalid
  (module (type (func)) (tag (type 4)))
  "function type variable out of range")

;; v128 values at the engine boundary: parameters, results and an exported global.
(module
  (func (export "add_i32x4") (param v128 v128) (result v128)
    (i32x4.add (local.get 0) (local.get 1)))
  (global (export "g_v128") v128 (v128.const i32x4 1 2 3 4))
)

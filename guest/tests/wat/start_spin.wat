;; A wasm start function (runs during instantiation, before _start) that never terminates.
;; Fuel, deadline and interrupt must still stop it.
(module
  (func $spin (loop $l (br $l)))
  (start $spin)
  (func (export "_start"))
)

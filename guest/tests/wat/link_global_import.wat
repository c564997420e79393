(module (import "env" "g" (global i32)) (func (export "_start")))

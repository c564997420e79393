(module (import "env" "tab" (table 1 funcref)) (func (export "_start")))

(module (import "env" "mem" (memory 1)) (func (export "_start")))

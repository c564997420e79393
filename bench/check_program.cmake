# Correctness check for one benchmark program (run by ctest, see bench/CMakeLists.txt):
# the native build and `wasmcap run --engine ENGINE` on the wasm build, both at SCALE, must
# exit 0 and print the same single checksum line.
#   cmake -DNAME=.. -DNATIVE=.. -DWASM=.. -DCLI=.. -DENGINE=.. -DSCALE=.. -P check_program.cmake
foreach(v NAME NATIVE WASM CLI ENGINE SCALE)
  if(NOT DEFINED ${v})
    message(FATAL_ERROR "check_program.cmake: -D${v}=... is required")
  endif()
endforeach()

execute_process(COMMAND ${NATIVE} ${SCALE}
  RESULT_VARIABLE native_rc OUTPUT_VARIABLE native_out ERROR_VARIABLE native_err)
if(NOT native_rc EQUAL 0)
  message(FATAL_ERROR "native ${NAME} failed (${native_rc}): ${native_out}${native_err}")
endif()
if(NOT native_out MATCHES "^${NAME} scale=${SCALE} checksum=[0-9a-f]+\n$")
  message(FATAL_ERROR "native ${NAME} printed an unexpected line: '${native_out}'")
endif()

execute_process(COMMAND ${CLI} run --engine ${ENGINE} ${WASM} ${SCALE}
  RESULT_VARIABLE wasm_rc OUTPUT_VARIABLE wasm_out ERROR_VARIABLE wasm_err)
if(NOT wasm_rc EQUAL 0)
  message(FATAL_ERROR "wasmcap --engine ${ENGINE} ${NAME} failed (${wasm_rc}): ${wasm_out}${wasm_err}")
endif()
if(NOT wasm_out STREQUAL native_out)
  message(FATAL_ERROR "checksum mismatch for ${NAME} on ${ENGINE}:\n native: ${native_out} ${ENGINE}: ${wasm_out}")
endif()
message(STATUS "${NAME}: ${ENGINE} matches native: ${wasm_out}")

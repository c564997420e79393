# Checks that bench/run.py flags a runtime whose output differs from native (run by ctest, see
# bench/CMakeLists.txt): a build dir whose fib.wasm is really sieve.wasm must make the runner
# report "checksum mismatch" and exit 1.
#   cmake -DPYTHON=.. -DRUNNER=.. -DBUILD=.. -DWORK=.. -P check_runner_mismatch.cmake
foreach(v PYTHON RUNNER BUILD WORK)
  if(NOT DEFINED ${v})
    message(FATAL_ERROR "check_runner_mismatch.cmake: -D${v}=... is required")
  endif()
endforeach()

file(REMOVE_RECURSE ${WORK})
file(MAKE_DIRECTORY ${WORK}/bench/wasm)
file(CREATE_LINK ${BUILD}/bin ${WORK}/bin SYMBOLIC)
file(CREATE_LINK ${BUILD}/guest ${WORK}/guest SYMBOLIC)
file(CREATE_LINK ${BUILD}/bench/native ${WORK}/bench/native SYMBOLIC)
file(CREATE_LINK ${BUILD}/bench/wasm/sieve.wasm ${WORK}/bench/wasm/fib.wasm SYMBOLIC)

execute_process(
  COMMAND ${PYTHON} ${RUNNER} --quick --programs fib --runtimes native,interp --no-cold --quiet
          --build-dir ${WORK} --out ${WORK}/result.json
  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 1)
  message(FATAL_ERROR "runner exited ${rc}, expected 1 for a checksum mismatch:\n${out}${err}")
endif()
if(NOT out MATCHES "fib on interp: checksum mismatch")
  message(FATAL_ERROR "runner did not report the mismatch:\n${out}${err}")
endif()
file(READ ${WORK}/result.json json)
if(NOT json MATCHES "checksum mismatch")
  message(FATAL_ERROR "the JSON report does not record the mismatch")
endif()
message(STATUS "runner flagged the mismatch and exited 1")

# Builds two object targets of one layer: CONTROL must compile, PROBE must
# fail because HEADER is not found (and for no other reason). Run by CTest:
#   cmake -DBUILD_DIR=… -DCONTROL=… -DPROBE=… -DHEADER=… -P check_include_probe.cmake

execute_process(COMMAND ${CMAKE_COMMAND} --build ${BUILD_DIR} --target ${CONTROL}
                RESULT_VARIABLE control_rc OUTPUT_VARIABLE control_out ERROR_VARIABLE control_out)
if(NOT control_rc EQUAL 0)
  message(FATAL_ERROR "the control probe ${CONTROL} does not compile, so the probe proves "
                      "nothing:\n${control_out}")
endif()

execute_process(COMMAND ${CMAKE_COMMAND} --build ${BUILD_DIR} --target ${PROBE}
                RESULT_VARIABLE probe_rc OUTPUT_VARIABLE probe_out ERROR_VARIABLE probe_out)
string(REPLACE "." "\\." header_re "${HEADER}")
if(probe_rc EQUAL 0)
  message(FATAL_ERROR "${PROBE} compiled: ${HEADER} is reachable where it must not be")
endif()
# g++: "fatal error: runtime/sched.h: No such file or directory";
# clang: "fatal error: 'runtime/sched.h' file not found".
if(NOT probe_out MATCHES "${header_re}'?:? (No such file or directory|file not found)")
  message(FATAL_ERROR "${PROBE} failed for another reason than ${HEADER} not found:\n${probe_out}")
endif()
message(STATUS "${HEADER} is unreachable from ${PROBE}; ${CONTROL} compiles")

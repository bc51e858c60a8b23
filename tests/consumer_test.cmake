# SPDX-License-Identifier: MIT
# cmake -DSOURCE_DIR=... -DBUILD_DIR=... -DWORK_DIR=... -P consumer_test.cmake
# Installs this build into a scratch prefix, then configures, builds and runs
# tests/consumer against the installed package, as a user's project would.
file(REMOVE_RECURSE ${WORK_DIR})
foreach(step
    "${CMAKE_COMMAND};--install;${BUILD_DIR};--prefix;${WORK_DIR}/prefix"
    "${CMAKE_COMMAND};-S;${SOURCE_DIR}/tests/consumer;-B;${WORK_DIR}/build;-G;Ninja;-DCMAKE_BUILD_TYPE=Release;-DCMAKE_PREFIX_PATH=${WORK_DIR}/prefix"
    "${CMAKE_COMMAND};--build;${WORK_DIR}/build"
    "${WORK_DIR}/build/consumer")
  execute_process(COMMAND ${step} RESULT_VARIABLE status)
  if(NOT status EQUAL 0)
    message(FATAL_ERROR "consumer_test: '${step}' failed (${status})")
  endif()
endforeach()

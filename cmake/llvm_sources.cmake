# SPDX-License-Identifier: MIT
# convjit_llvm_sources(<target> <source>...): adds translation units that use
# LLVM's API to <target>, with LLVM's compile flags on those files only: LLVM
# is built without exceptions (and maybe RTTI), which the rest of convjit uses.
# LLVM's headers come in as system headers, so our warnings stay ours.
function(convjit_llvm_sources target)
  separate_arguments(llvm_definitions NATIVE_COMMAND "${LLVM_DEFINITIONS}")
  set(llvm_flags -fno-exceptions ${llvm_definitions})
  if(NOT LLVM_ENABLE_RTTI)
    list(APPEND llvm_flags -fno-rtti)
  endif()
  foreach(dir IN LISTS LLVM_INCLUDE_DIRS)
    list(APPEND llvm_flags -isystem ${dir})
  endforeach()
  target_sources(${target} PRIVATE ${ARGN})
  set_source_files_properties(${ARGN} TARGET_DIRECTORY ${target} PROPERTIES COMPILE_OPTIONS "${llvm_flags}")
  target_link_libraries(${target} PRIVATE LLVM)
endfunction()

# SPDX-License-Identifier: MIT
# convjit_add_model(<target> MODEL <file> [ISA avx512 avx2 scalar] [NAMESPACE <id>])
#
# Generates the model's kernels at build time (`convjit gen`), compiles each
# ISA's kernels with that ISA's flags, and links them into <target>, where they
# register themselves: dispatch finds them before any JIT. The default ISAs are
# avx512, avx2 and scalar on x86-64 with GCC or Clang, scalar elsewhere; the
# runtime picks the widest one the CPU (and CONVJIT_MAX_ISA) allows.
function(convjit_add_model target)
  cmake_parse_arguments(PARSE_ARGV 1 ARG "" "MODEL;NAMESPACE" "ISA")
  if(NOT ARG_MODEL)
    message(FATAL_ERROR "convjit_add_model(${target}): MODEL <file> is required")
  endif()
  get_filename_component(model "${ARG_MODEL}" ABSOLUTE)
  if(NOT ARG_NAMESPACE)
    get_filename_component(stem "${model}" NAME_WE)
    string(MAKE_C_IDENTIFIER "${stem}" ARG_NAMESPACE)
  endif()
  if(NOT ARG_ISA)
    set(ARG_ISA scalar)
    if(CMAKE_SYSTEM_PROCESSOR MATCHES "^(x86_64|AMD64|amd64)$" AND CMAKE_CXX_COMPILER_ID MATCHES "GNU|Clang")
      set(ARG_ISA avx512 avx2 scalar)
    endif()
  endif()
  # The flags each ISA's kernels need (also in each generated file's banner).
  set(flags_avx512 -mavx512f -mavx512bw -mavx512vl -mavx512dq -mfma)
  set(flags_avx2 -mavx2 -mfma)
  set(flags_scalar "")
  # convjit's own sanitizer builds: the generated kernels are straight-line
  # arithmetic, like the JIT code that is never instrumented; instrumenting
  # and describing them for the debugger takes minutes and gigabytes a file.
  if(CONVJIT_SANITIZE)
    set(kernel_flags -fno-sanitize=all -g0)
  endif()

  if(TARGET convjit)  # inside convjit's own build
    set(generator $<TARGET_FILE:convjit>)
    set(generator_target convjit)
  else()
    set(generator $<TARGET_FILE:convjit::convjit>)
    set(generator_target convjit::convjit)
  endif()

  set(dir "${CMAKE_CURRENT_BINARY_DIR}/convjit_${target}_${ARG_NAMESPACE}")
  set(outputs "${dir}/registry.cc")
  foreach(isa IN LISTS ARG_ISA)
    if(NOT isa MATCHES "^(avx512|avx2|scalar)$")
      message(FATAL_ERROR "convjit_add_model(${target}): unknown ISA '${isa}' (avx512, avx2, scalar)")
    endif()
    list(APPEND outputs "${dir}/kernels_${isa}.cc")
    set_source_files_properties("${dir}/kernels_${isa}.cc" PROPERTIES COMPILE_OPTIONS "${flags_${isa}};${kernel_flags}")
  endforeach()
  list(JOIN ARG_ISA "," isa_list)
  # `convjit gen` rewrites only the kernel files whose text changed; the fixed
  # outputs are touched so the build sees the step done.
  add_custom_command(OUTPUT ${outputs}
    COMMAND ${generator} gen "${model}" --out "${dir}" --isa ${isa_list} --namespace ${ARG_NAMESPACE}
    COMMAND ${CMAKE_COMMAND} -E touch ${outputs}
    DEPENDS "${model}" ${generator_target}
    COMMENT "convjit: generating the kernels of ${ARG_MODEL}"
    VERBATIM)
  target_sources(${target} PRIVATE ${outputs})
  target_link_libraries(${target} PRIVATE convjit::runtime)
endfunction()

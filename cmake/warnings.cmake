# SPDX-License-Identifier: MIT
# convjit_set_warnings(target): the project's warning set, -Werror on request.
function(convjit_set_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow
    -Wconversion -Wno-sign-conversion)
  # GCC 12 reports std::string concatenation at -O3 as overlapping memcpy (GCC
  # bug 105329), a false positive that -Werror would turn into a build failure.
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND CMAKE_CXX_COMPILER_VERSION VERSION_LESS 13)
    target_compile_options(${target} PRIVATE -Wno-restrict)
  endif()
  if(CONVJIT_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()

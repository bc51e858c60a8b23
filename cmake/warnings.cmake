# SPDX-License-Identifier: MIT
# convjit_set_warnings(target): the project's warning set, -Werror on request.
function(convjit_set_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow
    -Wconversion -Wno-sign-conversion)
  if(CONVJIT_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()

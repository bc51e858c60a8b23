# SPDX-License-Identifier: MIT
# Every dependency comes from a Debian package (build.sh installs them); nothing
# is downloaded at build time.
find_package(fmt REQUIRED)
find_package(xbyak REQUIRED)
find_package(Threads REQUIRED)
# The llvm backend: Debian's llvm-19-dev. Without it the backend declines.
find_package(LLVM 19.1 CONFIG QUIET HINTS /usr/lib/llvm-19/lib/cmake/llvm)
if(LLVM_FOUND)
  message(STATUS "convjit: LLVM ${LLVM_PACKAGE_VERSION} found: building the llvm backend")
else()
  message(STATUS "convjit: LLVM 19 not found (apt-get install llvm-19-dev): the llvm backend will decline")
endif()
if(CONVJIT_BUILD_TESTS)
  find_package(GTest REQUIRED)
endif()

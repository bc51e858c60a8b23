# SPDX-License-Identifier: MIT
# Every dependency comes from a Debian package (build.sh installs them); nothing
# is downloaded at build time.
find_package(fmt REQUIRED)
find_package(xbyak REQUIRED)
find_package(Threads REQUIRED)
if(CONVJIT_BUILD_TESTS)
  find_package(GTest REQUIRED)
endif()

# SPDX-License-Identifier: MIT
# `cmake --install`: the libraries, the headers under include/convjit, the
# convjit command and the CMake package that find_package(convjit) reads.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set_target_properties(convjit_generator PROPERTIES EXPORT_NAME generator)
set_target_properties(convjit_runtime PROPERTIES EXPORT_NAME runtime)
install(TARGETS convjit_generator convjit_runtime convjit EXPORT convjitTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
foreach(dir generator runtime)
  install(DIRECTORY ${PROJECT_SOURCE_DIR}/${dir}/ DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/convjit/${dir}
    FILES_MATCHING PATTERN "*.h")
endforeach()

set(package_dir ${CMAKE_INSTALL_LIBDIR}/cmake/convjit)
install(EXPORT convjitTargets NAMESPACE convjit:: DESTINATION ${package_dir})
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/convjitConfig.cmake.in
  ${PROJECT_BINARY_DIR}/convjitConfig.cmake INSTALL_DESTINATION ${package_dir})
write_basic_package_version_file(${PROJECT_BINARY_DIR}/convjitConfigVersion.cmake COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/convjitConfig.cmake ${PROJECT_BINARY_DIR}/convjitConfigVersion.cmake
  ${PROJECT_SOURCE_DIR}/cmake/convjit_add_model.cmake DESTINATION ${package_dir})

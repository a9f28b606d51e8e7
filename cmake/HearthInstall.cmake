# Install the library, its public headers and a CMake package so that another project can
# find_package(hearth) and link hearth::hearth.
include(CMakePackageConfigHelpers)
install(TARGETS hearth EXPORT hearthTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(DIRECTORY include/hearth DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(EXPORT hearthTargets NAMESPACE hearth:: DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/hearth)
configure_package_config_file(cmake/hearthConfig.cmake.in
  ${CMAKE_CURRENT_BINARY_DIR}/hearthConfig.cmake
  INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/hearth)
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/hearthConfigVersion.cmake
  COMPATIBILITY SameMajorVersion)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/hearthConfig.cmake
              ${CMAKE_CURRENT_BINARY_DIR}/hearthConfigVersion.cmake
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/hearth)

# Installing gofer, and the Debian packages built from the install.
#
#   cmake --install build/release --prefix /tmp/gofer            everything
#   cmake --install build/release --component dev --prefix …    headers, libraries, CMake and
#                                                                 pkg-config files (libgofer-dev)
#   cmake --install build/release --component app --prefix …    the gofer command (gofer)
#   (cd build/release && cpack -G DEB)                           the two .deb packages
#
# What a consumer gets (examples/consumer uses each, tests/install runs it):
#   find_package(gofer 0.1 CONFIG REQUIRED) → gofer::gofer (every layer) and
#     one target per layer (gofer::runtime, gofer::sync, gofer::net,
#     gofer::tls, gofer::url, gofer::http_parser, gofer::http, gofer::debug);
#     gofer-config.cmake finds their dependencies (Threads, Boost.Context,
#     fmt, OpenSSL) with find_dependency; gofer-config-version.cmake accepts
#     a request for the same major.minor (0.x minors may change the API).
#   pkg-config --cflags --libs gofer → the same, for a Makefile.
#   gofer/version.h → GOFER_VERSION_STRING and friends.
# The layers are static libraries: a program carries the gofer it was built
# with, and the packages' Depends name what it links besides.
include(CMakePackageConfigHelpers)

set(GOFER_LIBRARY_TARGETS gofer_runtime gofer_sync gofer_signal gofer_net gofer_io gofer_mime
                          gofer_tls gofer_url gofer_http_parser gofer_http gofer_debug)
set(GOFER_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/gofer)

install(TARGETS ${GOFER_LIBRARY_TARGETS} gofer_all EXPORT gofer-targets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT dev)
install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/gofer ${PROJECT_BINARY_DIR}/include/gofer
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} COMPONENT dev FILES_MATCHING PATTERN "*.h")
install(EXPORT gofer-targets NAMESPACE gofer:: DESTINATION ${GOFER_CMAKE_DIR} COMPONENT dev)
configure_package_config_file(${CMAKE_CURRENT_LIST_DIR}/gofer-config.cmake.in
                              ${PROJECT_BINARY_DIR}/gofer-config.cmake
                              INSTALL_DESTINATION ${GOFER_CMAKE_DIR})
write_basic_package_version_file(${PROJECT_BINARY_DIR}/gofer-config-version.cmake
                                 COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/gofer-config.cmake ${PROJECT_BINARY_DIR}/gofer-config-version.cmake
        DESTINATION ${GOFER_CMAKE_DIR} COMPONENT dev)

# pkg-config: the prefix is found from the .pc file's own place, so the
# same file serves /usr, a temporary --prefix and a .deb unpacked anywhere.
# Static libraries: Libs lists the layers above before those below, then
# what they link (Boost.Context has no .pc file: named here).
set(GOFER_PC_LIBS "")
foreach(t gofer_debug gofer_http gofer_http_parser gofer_mime gofer_io gofer_url gofer_tls gofer_net
          gofer_signal gofer_sync gofer_runtime)
  get_target_property(out ${t} OUTPUT_NAME)
  string(APPEND GOFER_PC_LIBS " -l${out}")
endforeach()
file(RELATIVE_PATH GOFER_PC_TO_PREFIX /${CMAKE_INSTALL_LIBDIR}/pkgconfig /)
configure_file(${CMAKE_CURRENT_LIST_DIR}/gofer.pc.in ${PROJECT_BINARY_DIR}/gofer.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/gofer.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig
        COMPONENT dev)

if(TARGET gofer)
  install(TARGETS gofer RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT app)
  install(FILES ${PROJECT_SOURCE_DIR}/deploy/systemd/gofer.service
                ${PROJECT_SOURCE_DIR}/deploy/systemd/gofer.socket
          DESTINATION lib/systemd/system COMPONENT app OPTIONAL)  # systemd looks there, not in a multiarch dir
endif()

# --- Debian packages (cpack -G DEB): libgofer-dev and gofer ---------------------
set(CPACK_PACKAGE_NAME gofer)
set(CPACK_PACKAGE_VENDOR "gofer")
set(CPACK_PACKAGE_CONTACT "gofer maintainers <gofer@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "Go's server model in C++20")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_GENERATOR DEB)
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_COMPONENTS_ALL dev app)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)  # name_version_arch.deb
set(CPACK_DEBIAN_PACKAGE_SECTION devel)
set(CPACK_DEBIAN_DEV_PACKAGE_NAME libgofer-dev)
set(CPACK_DEBIAN_DEV_PACKAGE_SECTION libdevel)
set(CPACK_COMPONENT_DEV_DESCRIPTION
    "Go's server model in C++20 - headers and static libraries
 Goroutines on an M:N scheduler, a netpoller, channels and select, a net
 package, TLS and an HTTP/1.1 and HTTP/2 server like Go's net/http, as static libraries
 with their headers, a CMake package (find_package(gofer)) and a pkg-config
 file (pkg-config gofer).")
# A program built against the static libraries links these: the -dev
# packages that hold what gofer-config.cmake and gofer.pc ask for.
set(CPACK_DEBIAN_DEV_PACKAGE_DEPENDS "libboost-context-dev (>= 1.74), libfmt-dev, libssl-dev (>= 3.0), libnghttp2-dev")
set(CPACK_DEBIAN_APP_PACKAGE_NAME gofer)
set(CPACK_DEBIAN_APP_PACKAGE_SECTION httpd)
set(CPACK_COMPONENT_APP_DESCRIPTION
    "HTTP server in Go's server model, with a look inside it
 gofer serve: an HTTP/1.1 and HTTP/2 server with health and readiness endpoints, an
 access log, graceful drain, systemd socket activation and in-place binary
 upgrade. gofer proxy: a reverse proxy to upstreams with the same. gofer top:
 a running server's goroutines, Ps and Ms in a terminal.")
# The command's shared libraries, as dpkg-shlibdeps reads them from the binary.
set(CPACK_DEBIAN_APP_PACKAGE_SHLIBDEPS ON)
include(CPack)

# examples/consumer built and run against the install, the .deb packages and
# the source tree as a subproject (not in sanitizer builds: a consumer would
# need the sanitizer's flags too).
if(GOFER_BUILD_TESTS AND GOFER_SANITIZE STREQUAL "")
  add_test(NAME install_consumer
           COMMAND ${PROJECT_SOURCE_DIR}/tests/install/run-consumer ${PROJECT_BINARY_DIR})
  set_tests_properties(install_consumer PROPERTIES TIMEOUT 900 LABELS install)
endif()

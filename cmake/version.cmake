# include/gofer/version.h, generated from project(VERSION) into the build
# tree (and installed with the public headers), so that the version a
# program was compiled against is the one CMake, pkg-config and the .deb
# packages say.
configure_file(${CMAKE_CURRENT_LIST_DIR}/version.h.in
               ${PROJECT_BINARY_DIR}/include/gofer/version.h @ONLY)

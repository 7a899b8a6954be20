# Include directories per layer: a layer sees the public headers
# (include/gofer/…), its own private headers under its own name
# ("http/conn.h" from src/http), and the runtime's upward API — never
# another layer's private headers.
#
# Each layer's private directory is a folder in the build tree holding one
# symbolic link, <layer> → src/<layer>, so that "http/conn.h" resolves for
# src/http and nothing else (a plain -I src would open every layer to every
# other). The runtime's upward API is a folder of links to seven of its
# headers, spelled "runtime/park.h" as everywhere else; the rest of
# src/runtime (sched.h, g.h, …) does not exist for the layers above.
# The test layer_include_boundaries checks it.

set(GOFER_RUNTIME_API_HEADERS park.h timer.h poll_desc.h trace.h introspect.h mstate.h fatal.h)
set(GOFER_RUNTIME_API_DIR ${PROJECT_BINARY_DIR}/include_runtime_api)

# Makes `link` a symbolic link to `target` (again, if it points elsewhere:
# a build tree reused for another checkout).
function(gofer_link_once target link)
  if(IS_SYMLINK ${link})
    file(READ_SYMLINK ${link} current)
    if(current STREQUAL target)
      return()
    endif()
    file(REMOVE ${link})
  endif()
  get_filename_component(parent ${link} DIRECTORY)
  file(MAKE_DIRECTORY ${parent})
  file(CREATE_LINK ${target} ${link} SYMBOLIC)
endfunction()

foreach(header IN LISTS GOFER_RUNTIME_API_HEADERS)
  gofer_link_once(${PROJECT_SOURCE_DIR}/src/runtime/${header}
                  ${GOFER_RUNTIME_API_DIR}/runtime/${header})
endforeach()

# The private include directory of `layer` (a folder under src/) for
# `target` (the layer's library, or one of its tests).
function(gofer_layer_private_includes target layer)
  set(dir ${PROJECT_BINARY_DIR}/include_private/${layer})
  gofer_link_once(${PROJECT_SOURCE_DIR}/src/${layer} ${dir}/${layer})
  # BEFORE: the layer's own copy of "runtime/…" wins over the API folder
  # inside the runtime.
  target_include_directories(${target} BEFORE PRIVATE ${dir})
endfunction()

# Declares `target` a layer library of the public API: the public headers
# (include/gofer/…, and the generated include/gofer/version.h) from the
# source and build trees, or from the install prefix once installed; C++20
# for whoever compiles against them; and the name a consumer links,
# gofer::<name> — the same from find_package(gofer) and from
# add_subdirectory. The layer's private directory and the runtime's upward
# API stay build-tree paths that no installed target carries.
function(gofer_public_layer target name)
  target_include_directories(${target} PUBLIC
    $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}/include>
    $<BUILD_INTERFACE:${PROJECT_BINARY_DIR}/include>
    $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>)
  target_compile_features(${target} PUBLIC cxx_std_20)
  set_target_properties(${target} PROPERTIES EXPORT_NAME ${name} OUTPUT_NAME gofer_${name})
  add_library(gofer::${name} ALIAS ${target})
endfunction()

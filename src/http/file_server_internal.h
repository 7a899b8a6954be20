// FileServer internals that tests reach directly: opening a path below a
// root directory without leaving it (src/http/file_server.cpp).
#pragma once

namespace gofer::http::detail {

// Opens `rel` (relative, no leading '/') below the directory `root_fd`,
// read-only, close-on-exec and non-blocking (a FIFO must not block the
// open), without leaving the root through ".." or symlinks. Returns the fd
// or -errno: -EXDEV for an attempt to leave the root. Uses openat2 with
// RESOLVE_BENEATH, or open_beneath_checked where openat2 is unavailable.
int open_beneath(int root_fd, const char* rel);

// The fallback: openat, then a check that the descriptor's path (from
// /proc/self/fd) lies below the root's. Symlinks inside the root that
// resolve inside it are allowed, absolute ones included.
int open_beneath_checked(int root_fd, const char* rel);

}  // namespace gofer::http::detail

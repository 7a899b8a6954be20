// gofer::http::FileServer — static files from a directory, like Go's
// http.FileServer(http.Dir(root)) and http.ServeContent.
//
//   auto files = gofer::http::file_server("www");
//   mux.handle("GET /static/", gofer::http::strip_prefix("/static", files));
//
// What a request gets (the rules are Go's unless marked):
//   - a regular file: its bytes, with Content-Type from the extension (else
//     sniffed from the first 512 bytes), Last-Modified, a strong ETag made
//     of the modification time (ns) and size, Accept-Ranges: bytes, and
//     Content-Length. The body leaves through ResponseWriter::send_file
//     (sendfile(2) on a server connection, for a file larger than 16 KiB).
//   - conditional requests (RFC 9110 §13): If-Match / If-Unmodified-Since
//     that fail -> 412; If-None-Match / If-Modified-Since that fail -> 304
//     (412 for If-None-Match on other methods).
//   - Range (RFC 9110 §14, GET only): one range -> 206 with Content-Range;
//     several -> 206 multipart/byteranges; none satisfiable -> 416 with
//     "Content-Range: bytes */size"; a malformed bytes range -> 416; another
//     unit, ranges larger in sum than the file, or more than 32 of them ->
//     the whole file (200). If-Range that does not match -> the whole file.
//   - a directory: "/dir" redirects (301) to "dir/", its index.html is
//     served if present, else an HTML listing (names escaped, sorted).
//   - ".../index.html" redirects to "./"; "/file/" redirects to "../file".
//   - methods other than GET and HEAD -> 405 (Unlike Go, which serves them).
//
// Security (stricter than Go's http.Dir): the decoded path must not contain
// a ".." segment (also as %2e%2e or with %2f), a backslash or a NUL (400);
// files are opened with openat2(RESOLVE_BENEATH) relative to the root, so
// neither ".." nor a symlink can leave it (a symlink that points outside,
// or any absolute symlink -> 404); only regular files and directories are
// served (FIFOs, devices and sockets -> 404). Kernels without openat2 fall
// back to checking the opened file's /proc/self/fd path against the root's.
//
// File system calls run inside gofer::blocking() when called on a
// goroutine (they may wait for the disk), so FileServer should be used on
// goroutines, as the server does.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "gofer/http/server.h"

namespace gofer::http {

struct FileServerOptions {
  // Directories without an index.html get a listing; false: 404 instead
  // (Unlike Go, which always lists).
  bool list_directories = true;
};

class FileServer {
 public:
  // Serves the files below `root`. The directory is opened now when it
  // exists (a later rename of it is not seen), else at each request.
  explicit FileServer(std::string root, FileServerOptions options = {});

  void operator()(ResponseWriter& w, Request& r) const;

  struct State;

 private:
  std::shared_ptr<const State> state_;
};

// Go's http.FileServer(http.Dir(root)), as a Handler.
Handler file_server(std::string root, FileServerOptions options = {});

// Go's http.ServeContent for an open file: answers `r` with the first
// `size` bytes of `fd` (read from offset 0 with pread or sendfile, not the
// file position), handling conditional and range requests. `name` gives
// the extension for the Content-Type unless the handler set one; `modtime`
// gives Last-Modified unless it is the epoch. An ETag set on w.header()
// before the call takes part in the conditions. fd stays the caller's: it
// must stay open until the handler returns.
void serve_content(ResponseWriter& w, Request& r, std::string_view name,
                   std::chrono::system_clock::time_point modtime, int fd, std::int64_t size);

// The MIME type for a file extension with its dot (".html" ->
// "text/html; charset=utf-8"), ignoring case; "" if unknown (Go's
// mime.TypeByExtension with its built-in table).
std::string_view type_by_extension(std::string_view ext);

}  // namespace gofer::http

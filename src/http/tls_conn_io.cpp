// TlsConnIO::send_file: a file's bytes through the TLS layer.
#include "http/tls_conn_io.h"

#include <unistd.h>

#include <cerrno>
#include <memory>
#include <system_error>

namespace gofer::http::detail {

Result<std::size_t> TlsConnIO::send_file(int fd, std::int64_t offset, std::size_t count) {
  // One TLS record's worth of plaintext at a time: what the layer encrypts
  // into one record, so a chunk costs one record and one send.
  constexpr std::size_t kChunk = 16 << 10;
  auto buf = std::make_unique_for_overwrite<char[]>(kChunk);
  std::size_t done = 0;
  while (done < count) {
    std::size_t want = std::min(kChunk, count - done);
    // pread blocks this M on the disk, as sendfile(2) would for a plain
    // connection; a file in the page cache does not wait.
    ssize_t n = ::pread(fd, buf.get(), want, static_cast<off_t>(offset) + static_cast<off_t>(done));
    if (n < 0) {
      if (errno == EINTR) continue;
      return {done, std::error_code(errno, std::system_category())};
    }
    if (n == 0) break;  // the file ended first
    auto [w, err] = conn_.write(std::span<const char>(buf.get(), static_cast<std::size_t>(n)));
    done += w;
    if (err) return {done, err};
  }
  return {done, {}};
}

}  // namespace gofer::http::detail

// Go's testing/iotest: readers that return data in awkward shapes, for
// testing code that reads (a parser must give the same answer whether its
// input comes whole or a byte at a time).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <span>
#include <string>
#include <string_view>

#include "gofer/error.h"
#include "gofer/net.h"

namespace gofer::iotest {

// Returns its data at most `chunk` bytes per read (Go's OneByteReader is
// chunk 1, HalfReader about half). With eof_with_data, the last bytes come
// together with EOF (Go's DataErrReader): a reader may do both at once.
class ChunkReader {
 public:
  ChunkReader(std::string_view data, std::size_t chunk, bool eof_with_data = false)
      : data_(data), chunk_(std::max<std::size_t>(chunk, 1)), eof_with_data_(eof_with_data) {}

  Result<std::size_t> read(std::span<char> buf) {
    ++reads;
    if (pos_ == data_.size()) return {0, net::errc::eof};
    std::size_t n = std::min({buf.size(), chunk_, data_.size() - pos_});
    std::memcpy(buf.data(), data_.data() + pos_, n);
    pos_ += n;
    if (eof_with_data_ && pos_ == data_.size()) return {n, net::errc::eof};
    return {n, {}};
  }

  int reads = 0;  // calls to read() so far

 private:
  std::string data_;
  std::size_t chunk_;
  bool eof_with_data_;
  std::size_t pos_ = 0;
};

}  // namespace gofer::iotest

// The io helpers (read_full, read_all, copy) and io's error category.
#include "gofer/io.h"

#include <cstring>

namespace gofer::io {
namespace {

// Go gives up on a reader that returns nothing and no error this many
// times in a row (bufio's maxConsecutiveEmptyReads).
constexpr int kMaxEmptyReads = 100;

class IoCategory final : public std::error_category {
 public:
  const char* name() const noexcept override { return "gofer.io"; }
  std::string message(int ev) const override {
    switch (static_cast<errc>(ev)) {
      case errc::unexpected_eof:
        return "unexpected EOF";
      case errc::short_write:
        return "short write";
      case errc::buffer_full:
        return "bufio: buffer full";
      case errc::no_progress:
        return "multiple Read calls return no data or error";
      case errc::invalid_unread:
        return "bufio: invalid use of unread_byte";
      case errc::too_large:
        return "read past the limit";
    }
    return "io error " + std::to_string(ev);
  }
};

}  // namespace

const std::error_category& io_category() noexcept {
  static const IoCategory category;
  return category;
}

Result<std::size_t> StringReader::read(std::span<char> buf) {
  if (s_.empty()) return {0, net::errc::eof};
  std::size_t n = std::min(buf.size(), s_.size());
  std::memcpy(buf.data(), s_.data(), n);
  s_.remove_prefix(n);
  return {n, {}};
}

Result<std::size_t> read_full(ReaderRef r, std::span<char> buf) {
  std::size_t got = 0;
  int empty = 0;
  while (got < buf.size()) {
    auto [n, err] = r.read(buf.subspan(got));
    got += n;
    if (err) {
      if (err == net::errc::eof && got > 0 && got < buf.size()) return {got, errc::unexpected_eof};
      if (got == buf.size()) return {got, {}};
      return {got, err};
    }
    empty = n == 0 ? empty + 1 : 0;
    if (empty >= kMaxEmptyReads) return {got, errc::no_progress};
  }
  return {got, {}};
}

Result<std::string> read_all(ReaderRef r, std::size_t limit) {
  std::string out;
  char buf[16384];
  int empty = 0;
  for (;;) {
    std::size_t want = sizeof buf;
    // One byte past the limit tells "exactly at it" from "beyond it".
    if (limit - out.size() < want) want = limit - out.size() + 1;
    auto [n, err] = r.read(std::span<char>(buf, want));
    if (out.size() + n > limit) {
      out.append(buf, limit - out.size());
      return {std::move(out), errc::too_large};
    }
    out.append(buf, n);
    if (err == net::errc::eof) return {std::move(out), {}};
    if (err) return {std::move(out), err};
    empty = n == 0 ? empty + 1 : 0;
    if (empty >= kMaxEmptyReads) return {std::move(out), errc::no_progress};
  }
}

Result<std::uint64_t> copy(WriterRef dst, ReaderRef src) {
  char buf[32 << 10];  // Go's io.Copy buffer
  std::uint64_t total = 0;
  int empty = 0;
  for (;;) {
    auto [n, rerr] = src.read(buf);
    if (n > 0) {
      auto [w, werr] = dst.write(std::string_view(buf, n));
      total += w;
      if (werr) return {total, werr};
      if (w != n) return {total, errc::short_write};
    }
    if (rerr == net::errc::eof) return {total, {}};
    if (rerr) return {total, rerr};
    empty = n == 0 ? empty + 1 : 0;
    if (empty >= kMaxEmptyReads) return {total, errc::no_progress};
  }
}

}  // namespace gofer::io

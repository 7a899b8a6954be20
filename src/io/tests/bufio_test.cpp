// bufio and io helpers: each test names the Go behaviour (bufio_test.go,
// io_test.go) it checks. Sources that return a few bytes at a time, or
// data and EOF together, stand in for Go's iotest readers.
#include "gofer/bufio.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "gofer/io.h"
#include "gofer/iotest.h"
#include "gofer/net.h"
#include "gofer/runtime.h"
#include "gofer/sync.h"

namespace bufio = gofer::bufio;
namespace io = gofer::io;
namespace net = gofer::net;

namespace {

using gofer::iotest::ChunkReader;

// Takes at most `limit` bytes, then fails (a peer that went away).
class LimitedWriter {
 public:
  explicit LimitedWriter(std::size_t limit) : limit_(limit) {}
  gofer::Result<std::size_t> write(std::string_view data) {
    ++writes;
    std::size_t n = std::min(data.size(), limit_ - got.size());
    got.append(data.substr(0, n));
    if (n < data.size()) return {n, std::make_error_code(std::errc::broken_pipe)};
    return {n, {}};
  }
  std::string got;
  int writes = 0;

 private:
  std::size_t limit_;
};

std::vector<std::string> lines_of(bufio::Reader& r) {
  std::vector<std::string> out;
  for (;;) {
    auto [line, err] = r.read_line();
    if (err) {
      EXPECT_EQ(err, net::errc::eof);
      return out;
    }
    EXPECT_FALSE(line.is_prefix);
    out.emplace_back(line.text);
  }
}

// Go's ReadLine: lines without "\n" or "\r\n", whatever the source's chunking;
// a last line without a newline; EOF after it.
TEST(BufioReader, ReadLineStripsLineEndingsAtEveryChunking) {
  const std::string text = "first\r\nsecond\n\nfourth\r\nlast";
  for (std::size_t chunk = 1; chunk <= text.size(); ++chunk) {
    for (bool eof_with_data : {false, true}) {
      ChunkReader src(text, chunk, eof_with_data);
      bufio::Reader r(src, 16);
      EXPECT_EQ(lines_of(r), (std::vector<std::string>{"first", "second", "", "fourth", "last"}))
          << "chunk " << chunk;
    }
  }
}

// Go's ReadLine on a line longer than the buffer: isPrefix parts, and a
// "\r" at the buffer's end is not split from its "\n".
TEST(BufioReader, ReadLineLongerThanTheBufferComesInPrefixes) {
  std::string text = std::string(15, 'a') + "\r\n" + "b\n";
  ChunkReader src(text, 64);
  bufio::Reader r(src, 16);
  auto [p1, e1] = r.read_line();
  ASSERT_FALSE(e1);
  EXPECT_TRUE(p1.is_prefix);
  EXPECT_EQ(p1.text, std::string(15, 'a'));
  auto [p2, e2] = r.read_line();
  ASSERT_FALSE(e2);
  EXPECT_FALSE(p2.is_prefix);
  EXPECT_EQ(p2.text, "");  // the "\r\n" that ended it
  auto [p3, e3] = r.read_line();
  EXPECT_EQ(p3.text, "b");
}

// Go's ReadString: includes the delimiter; at EOF, what is left and io.EOF;
// longer than the buffer is fine (it grows).
TEST(BufioReader, ReadStringIncludesTheDelimiterAndGrows) {
  std::string long_word(100, 'x');
  ChunkReader src("a,b," + long_word + ",tail", 3);
  bufio::Reader r(src, 16);
  EXPECT_EQ(r.read_string(',').value, "a,");
  EXPECT_EQ(r.read_string(',').value, "b,");
  EXPECT_EQ(r.read_string(',').value, long_word + ",");
  auto [tail, err] = r.read_string(',');
  EXPECT_EQ(tail, "tail");
  EXPECT_EQ(err, net::errc::eof);
  auto [none, again] = r.read_string(',');
  EXPECT_EQ(none, "");
  EXPECT_EQ(again, net::errc::eof);
}

// Go's ReadSlice: ErrBufferFull with the full buffer when no delimiter fits.
TEST(BufioReader, ReadSliceReportsAFullBuffer) {
  ChunkReader src(std::string(40, 'z') + "\n", 7);
  bufio::Reader r(src, 16);
  auto [s, err] = r.read_slice('\n');
  EXPECT_EQ(err, io::errc::buffer_full);
  EXPECT_EQ(s, std::string(16, 'z'));
}

// Go's Peek: does not consume; ErrBufferFull past the buffer's size; at
// EOF, what there is and EOF.
TEST(BufioReader, PeekDoesNotConsume) {
  ChunkReader src("hello world", 2);
  bufio::Reader r(src, 16);
  auto [p, err] = r.peek(5);
  ASSERT_FALSE(err);
  EXPECT_EQ(p, "hello");
  EXPECT_EQ(r.peek(17).err, io::errc::buffer_full);
  char buf[32];
  auto [n, rerr] = r.read(buf);
  ASSERT_FALSE(rerr);
  EXPECT_EQ(std::string_view(buf, n).substr(0, 5), "hello");  // the peeked bytes come first
  auto [rest, perr] = r.peek(100);
  EXPECT_TRUE(perr);
}

// Go's Read: one read of the source per call at most; a large read goes
// straight to the caller's buffer.
TEST(BufioReader, ReadMakesAtMostOneSourceRead) {
  ChunkReader src(std::string(1000, 'q'), 10);
  bufio::Reader r(src, 64);
  char small[8];
  EXPECT_EQ(r.read(small).value, 8u);
  EXPECT_EQ(src.reads, 1);
  EXPECT_EQ(r.buffered(), 2u);
  char big[128];
  EXPECT_EQ(r.read(big).value, 2u);  // the buffered bytes only
  EXPECT_EQ(src.reads, 1);
  EXPECT_EQ(r.read(big).value, 10u);  // straight from the source
  EXPECT_EQ(src.reads, 2);
  EXPECT_EQ(r.buffered(), 0u);
}

// Go's ReadByte/UnreadByte, and UnreadByte's error when nothing was read.
TEST(BufioReader, ReadByteAndUnreadByte) {
  ChunkReader src("ab", 1);
  bufio::Reader r(src);
  EXPECT_EQ(r.unread_byte(), io::errc::invalid_unread);
  EXPECT_EQ(r.read_byte().value, 'a');
  EXPECT_FALSE(r.unread_byte());
  EXPECT_EQ(r.unread_byte(), io::errc::invalid_unread);  // only once
  EXPECT_EQ(r.read_byte().value, 'a');
  EXPECT_EQ(r.read_byte().value, 'b');
  EXPECT_EQ(r.read_byte().err, net::errc::eof);
}

// Go's Discard: skips across refills; at EOF, the count skipped and EOF.
TEST(BufioReader, DiscardSkipsAcrossRefills) {
  ChunkReader src("0123456789abcdefghijXYZ", 3);
  bufio::Reader r(src, 16);
  EXPECT_EQ(r.discard(20).value, 20u);
  EXPECT_EQ(r.read_byte().value, 'X');
  auto [n, err] = r.discard(10);
  EXPECT_EQ(n, 2u);
  EXPECT_EQ(err, net::errc::eof);
}

// Go's Writer: small writes gather in the buffer, one write on Flush; a
// write larger than the buffer with nothing buffered goes straight through.
TEST(BufioWriter, GathersSmallWritesAndPassesLargeOnes) {
  LimitedWriter dst(1 << 20);
  bufio::Writer w(dst, 16);
  EXPECT_EQ(w.write("abc").value, 3u);
  EXPECT_FALSE(w.write_byte('d'));
  EXPECT_EQ(dst.writes, 0);
  EXPECT_EQ(w.buffered(), 4u);
  EXPECT_FALSE(w.flush());
  EXPECT_EQ(dst.writes, 1);
  EXPECT_EQ(dst.got, "abcd");
  std::string big(100, 'B');
  EXPECT_EQ(w.write(big).value, 100u);
  EXPECT_EQ(dst.writes, 2);  // straight through
  EXPECT_EQ(w.write("0123456789").value, 10u);
  EXPECT_EQ(w.write("0123456789").value, 10u);  // fills: 16 bytes go, 4 stay
  EXPECT_EQ(dst.writes, 3);
  EXPECT_EQ(w.buffered(), 4u);
  EXPECT_FALSE(w.flush());
  EXPECT_EQ(dst.got, "abcd" + big + "01234567890123456789");
}

// Go's Writer keeps its first error: later writes and flushes return it.
TEST(BufioWriter, FirstErrorIsSticky) {
  LimitedWriter dst(5);
  bufio::Writer w(dst, 4);
  auto [n, err] = w.write("0123456789");
  EXPECT_EQ(err, std::errc::broken_pipe);
  EXPECT_LT(n, 10u);
  EXPECT_EQ(w.flush(), std::errc::broken_pipe);
  EXPECT_EQ(w.write("x").err, std::errc::broken_pipe);
  EXPECT_EQ(w.write_byte('y'), std::errc::broken_pipe);
  w.reset(dst);
  EXPECT_FALSE(w.flush());
}

// io.ReadFull, io.ReadAll (with a limit), io.Copy.
TEST(Io, ReadFullReadAllCopy) {
  ChunkReader a("abcdef", 2);
  char buf[4];
  EXPECT_EQ(io::read_full(a, buf).value, 4u);
  auto [n, err] = io::read_full(a, buf);
  EXPECT_EQ(n, 2u);
  EXPECT_EQ(err, io::errc::unexpected_eof);
  EXPECT_EQ(io::read_full(a, buf).err, net::errc::eof);

  ChunkReader b(std::string(50, 'r'), 7);
  auto [all, aerr] = io::read_all(b);
  EXPECT_FALSE(aerr);
  EXPECT_EQ(all.size(), 50u);
  ChunkReader c(std::string(50, 'r'), 7);
  auto [cut, cerr] = io::read_all(c, 49);
  EXPECT_EQ(cerr, io::errc::too_large);
  EXPECT_EQ(cut.size(), 49u);
  ChunkReader exact(std::string(49, 'r'), 7, true);
  EXPECT_FALSE(io::read_all(exact, 49).err);

  ChunkReader d("copy me", 3, true);
  std::string out;
  io::StringWriter sink(out);
  auto [copied, err2] = io::copy(sink, d);
  EXPECT_FALSE(err2);
  EXPECT_EQ(copied, 7u);
  EXPECT_EQ(out, "copy me");
}

// The everyday use: a line protocol over a net::Conn, both directions
// buffered, between two goroutines.
TEST(Bufio, LineProtocolOverANetConn) {
  gofer::run([] {
    auto [ln, err] = net::listen("tcp", "127.0.0.1:0");
    ASSERT_FALSE(err);
    gofer::WaitGroup served;  // the server goroutine ends before the test does
    served.add(1);
    gofer::go([&ln, &served] {
      auto [c, aerr] = ln.accept();
      EXPECT_FALSE(aerr);
      EXPECT_FALSE(c.set_deadline(net::Clock::now() + std::chrono::seconds(10)));
      bufio::Reader in(c);
      bufio::Writer out(c);
      for (;;) {
        auto [line, rerr] = in.read_line();
        if (rerr) break;
        (void)out.write("echo: ");
        (void)out.write(line.text);
        (void)out.write("\n");
        if (in.buffered() == 0 && out.flush()) break;  // answer a batch at once
      }
      served.done();
    });
    auto [c, derr] = net::dial("tcp", ln.addr().to_string());
    ASSERT_FALSE(derr);
    ASSERT_FALSE(c.set_deadline(net::Clock::now() + std::chrono::seconds(10)));
    bufio::Writer out(c);
    for (int i = 0; i < 100; ++i) ASSERT_FALSE(out.write("line " + std::to_string(i) + "\r\n").err);
    ASSERT_FALSE(out.flush());
    bufio::Reader in(c);
    for (int i = 0; i < 100; ++i) {
      auto [line, rerr] = in.read_line();
      ASSERT_FALSE(rerr) << rerr.message();
      EXPECT_EQ(line.text, "echo: line " + std::to_string(i));
    }
    EXPECT_FALSE(c.close());  // the server reads EOF and returns
    served.wait();
  });
}

}  // namespace

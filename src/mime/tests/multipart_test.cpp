// multipart::Reader and read_form, each case a rule of RFC 2046 §5.1 /
// RFC 7578 or a behaviour of Go's mime/multipart (multipart_test.go,
// formdata_test.go). Bodies are fed in every chunk size from 1 byte, so a
// boundary split anywhere between reads is covered.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "gofer/io.h"
#include "gofer/iotest.h"
#include "gofer/multipart.h"
#include "gofer/runtime.h"

namespace multipart = gofer::multipart;
namespace io = gofer::io;
namespace net = gofer::net;

namespace {

using gofer::iotest::ChunkReader;

struct SeenPart {
  std::string name, file, type, body;
  bool operator==(const SeenPart&) const = default;
};

// Every part of `body`, or the error that stopped the reading.
gofer::Error read_parts(std::string_view body, std::string_view boundary, std::size_t chunk,
                        std::vector<SeenPart>& out) {
  ChunkReader src(body, chunk);
  multipart::Reader mr(src, boundary);
  for (;;) {
    auto [part, err] = mr.next_part();
    if (err == net::errc::eof) return {};
    if (err) return err;
    SeenPart seen{std::string(part->form_name()),
                  part->file_name(),
                  std::string(part->header().get("content-type")),
                  {}};
    auto [bytes, rerr] = io::read_all(*part);
    if (rerr) return rerr;
    seen.body = bytes;
    out.push_back(std::move(seen));
  }
}

const std::string kForm =
    "preamble, ignored\r\n"
    "--XyZ\r\n"
    "Content-Disposition: form-data; name=\"title\"\r\n"
    "\r\n"
    "Hello\r\nWorld\r\n"
    "--XyZ\r\n"
    "Content-Disposition: form-data; name=\"doc\"; filename=\"../../etc/a.txt\"\r\n"
    "Content-Type: text/plain\r\n"
    "\r\n"
    "line one\r\n--XyZnot-a-boundary\r\n--XyZ-x"  // data: no delimiter yet
    "\r\n--XyZ  \r\n"                             // the delimiter, with transport padding
    "Content-Disposition: form-data; name=\"empty\"\r\n"
    "\r\n"
    "\r\n"
    "--XyZ--\r\n"
    "epilogue, ignored\r\n";

TEST(Multipart, ReadsEveryPartAtEveryChunking) {
  const std::vector<SeenPart> want = {
      {"title", "", "", "Hello\r\nWorld"},
      // RFC 7578 §4.2: the file name without its directories.
      {"doc", "a.txt", "text/plain", "line one\r\n--XyZnot-a-boundary\r\n--XyZ-x"},
      {"empty", "", "", ""},
  };
  for (std::size_t chunk = 1; chunk <= kForm.size(); ++chunk) {
    std::vector<SeenPart> got;
    gofer::Error err = read_parts(kForm, "XyZ", chunk, got);
    ASSERT_FALSE(err) << "chunk " << chunk << ": " << err.message();
    EXPECT_EQ(got, want) << "chunk " << chunk;
  }
}

// Go accepts bodies whose lines end in "\n" alone when the first boundary
// line does.
TEST(Multipart, BareLineFeeds) {
  std::string body =
      "--b\nContent-Disposition: form-data; name=\"x\"\n\nvalue\n--b\n"
      "Content-Disposition: form-data; name=\"y\"\n\nother\n--b--\n";
  for (std::size_t chunk : {1u, 3u, 1000u}) {
    std::vector<SeenPart> got;
    ASSERT_FALSE(read_parts(body, "b", chunk, got));
    ASSERT_EQ(got.size(), 2u);
    EXPECT_EQ(got[0].body, "value");
    EXPECT_EQ(got[1].body, "other");
  }
}

// A part not read to its end is skipped by next_part (Go's NextPart).
TEST(Multipart, UnreadPartIsSkipped) {
  ChunkReader src(kForm, 7);
  multipart::Reader mr(src, "XyZ");
  auto [a, e1] = mr.next_part();
  ASSERT_FALSE(e1);
  char one[1];
  EXPECT_EQ(a->read(one).value, 1u);
  auto [b, e2] = mr.next_part();
  ASSERT_FALSE(e2);
  EXPECT_EQ(b->form_name(), "doc");
}

// Errors: a body cut short, junk where a delimiter must be, an empty
// boundary, a header line without a colon, a header past its limit.
TEST(Multipart, MalformedBodiesFailWithAClearError) {
  std::vector<SeenPart> got;
  EXPECT_EQ(
      read_parts("--b\r\nContent-Disposition: form-data; name=\"x\"\r\n\r\ncut sh", "b", 5, got),
      io::errc::unexpected_eof);
  got.clear();
  EXPECT_EQ(read_parts("--b\r\n\r\nv\r\n--b\r\n\r\nw\r\njunk\r\n--b--\r\n", "b", 4, got),
            gofer::Error{});  // "junk" is data of the second part
  got.clear();
  EXPECT_EQ(read_parts("--b\r\n\r\nv\r\njunk\r\n", "b", 4, got), io::errc::unexpected_eof);
  got.clear();
  EXPECT_EQ(read_parts("--b\r\n\r\nv\r\n--b--\r\n", "", 4, got), multipart::errc::boundary_empty);
  got.clear();
  EXPECT_EQ(read_parts("--b\r\nno colon here\r\n\r\nv\r\n--b--\r\n", "b", 4, got),
            multipart::errc::malformed);
  got.clear();
  EXPECT_EQ(read_parts("", "b", 4, got), io::errc::unexpected_eof);

  std::string many = "--b\r\n";
  for (int i = 0; i < 20; ++i) many += "X-F" + std::to_string(i) + ": v\r\n";
  many += "\r\nbody\r\n--b--\r\n";
  ChunkReader src(many, 64);
  multipart::Reader mr(src, "b", {.max_header_bytes = 1 << 20, .max_header_fields = 10});
  EXPECT_EQ(mr.next_part().err, multipart::errc::header_too_large);
}

std::string form_body(const std::vector<std::pair<std::string, std::string>>& values,
                      const std::string& file_name = {}, const std::string& file = {}) {
  std::string b;
  for (const auto& [k, v] : values) {
    b += "--B\r\nContent-Disposition: form-data; name=\"" + k + "\"\r\n\r\n" + v + "\r\n";
  }
  if (!file_name.empty()) {
    b += "--B\r\nContent-Disposition: form-data; name=\"upload\"; filename=\"" + file_name +
         "\"\r\nContent-Type: application/octet-stream\r\n\r\n" + file + "\r\n";
  }
  return b + "--B--\r\n";
}

// Go's ReadForm: values in Form.value (every value of a key), small files
// in memory, a file past max_memory in a temporary file with all its bytes.
TEST(MultipartForm, ValuesInMemoryLargeFilesOnDisk) {
  gofer::run([] {
    std::string big(300'000, '\0');
    for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>(i * 31 + 7);
    std::string body = form_body({{"k", "1"}, {"k", "2"}, {"other", "x y"}}, "big.bin", big);
    ChunkReader src(body, 1500);
    multipart::Reader mr(src, "B");
    auto [form, err] = mr.read_form(1000);
    ASSERT_FALSE(err) << err.message();
    EXPECT_EQ(form.value.values("k"), (std::vector<std::string>{"1", "2"}));
    EXPECT_EQ(form.value.get("other"), "x y");
    ASSERT_EQ(form.file["upload"].size(), 1u);
    const multipart::FileHeader& fh = form.file["upload"][0];
    EXPECT_EQ(fh.filename, "big.bin");
    EXPECT_EQ(fh.size, 300'000);
    EXPECT_FALSE(fh.in_memory());
    EXPECT_EQ(fh.header.get("Content-Type"), "application/octet-stream");
    multipart::File f = fh.open();
    auto [bytes, rerr] = io::read_all(f);
    ASSERT_FALSE(rerr) << rerr.message();
    EXPECT_EQ(bytes, big);
    char tail[4];
    ASSERT_EQ(f.read_at(tail, 299'996).value, 4u);
    EXPECT_EQ(std::string_view(tail, 4), std::string_view(big).substr(299'996));

    ChunkReader small_src(body, 1500);
    multipart::Reader small(small_src, "B");
    auto [in_mem, merr] = small.read_form(1 << 20);
    ASSERT_FALSE(merr);
    EXPECT_TRUE(in_mem.file["upload"][0].in_memory());
    multipart::File g = in_mem.file["upload"][0].open();
    EXPECT_EQ(io::read_all(g).value, big);
  });
}

// Go's ReadForm limits: more than 1000 parts, or values past
// max_memory + 10 MiB, is ErrMessageTooLarge.
TEST(MultipartForm, LimitsGiveMessageTooLarge) {
  std::vector<std::pair<std::string, std::string>> many(1001, {"k", "v"});
  std::string body = form_body(many);
  ChunkReader src(body, 4096);
  multipart::Reader mr(src, "B");
  EXPECT_EQ(mr.read_form(1 << 20).err, multipart::errc::message_too_large);

  std::string huge(11 << 20, 'v');
  std::string big_body = form_body({{"k", huge}});
  ChunkReader src2(big_body, 1 << 16);
  multipart::Reader mr2(src2, "B");
  EXPECT_EQ(mr2.read_form(0).err, multipart::errc::message_too_large);
}

}  // namespace

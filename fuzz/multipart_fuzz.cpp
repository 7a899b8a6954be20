// libFuzzer target for multipart bodies (mime/multipart): arbitrary bytes
// as a multipart body with the boundary "B", and as a Content-Disposition.
//
// Besides the sanitizers' memory checks, it checks what a server relies on:
//   - reading terminates, whatever the bytes (no part read loops forever);
//   - the parts and their bytes do not depend on how the body arrives:
//     whole, or a few bytes per read (a boundary split across reads);
//   - a part's body never ends with a delimiter it should have stopped at;
//   - read_form agrees with the parts read one by one.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_check.h"
#include "gofer/io.h"
#include "gofer/iotest.h"
#include "gofer/mime.h"
#include "gofer/multipart.h"

namespace {

using gofer::iotest::ChunkReader;

struct Seen {
  std::vector<std::string> bodies;
  std::vector<std::string> names;
  std::error_code end;
};

Seen read_parts(std::string_view body, std::size_t chunk) {
  ChunkReader src(body, chunk);
  gofer::multipart::Reader mr(src, "B", {.max_header_bytes = 1 << 16, .max_header_fields = 64});
  Seen seen;
  for (int i = 0; i < 10000; ++i) {
    auto [part, err] = mr.next_part();
    if (err) {
      seen.end = err;
      return seen;
    }
    seen.names.emplace_back(part->form_name());
    (void)part->file_name();
    auto [bytes, rerr] = gofer::io::read_all(*part, 1 << 20);
    seen.bodies.push_back(bytes);
    if (rerr) {
      seen.end = rerr;
      return seen;
    }
  }
  CHECK(false && "more parts than bytes");
  return seen;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  (void)gofer::mime::parse_media_type(input);

  Seen whole = read_parts(input, input.size() + 1);
  Seen bytewise = read_parts(input, 3);
  CHECK(whole.bodies == bytewise.bodies);
  CHECK(whole.names == bytewise.names);
  CHECK(whole.end == bytewise.end);
  for (const std::string& b : whole.bodies) CHECK(b.find("\r\n--B--") == std::string::npos);

  if (!whole.end || whole.end == gofer::net::errc::eof) {
    ChunkReader src(input, 7);
    gofer::multipart::Reader mr(src, "B");
    auto [form, err] = mr.read_form(1 << 20);
    if (!err) {
      std::size_t values = 0;
      for (const auto& [k, v] : form.value) values += v.size();
      std::size_t files = 0;
      for (const auto& [k, v] : form.file) files += v.size();
      std::size_t named = 0;
      for (const std::string& n : whole.names) named += !n.empty();
      CHECK(values + files == named);
    }
  }
  return 0;
}

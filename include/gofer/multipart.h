// Go's mime/multipart, the reading half: the parts of a multipart body
// (RFC 2046 §5.1) one at a time, and multipart/form-data (RFC 7578) read
// whole into a Form whose files stay in memory up to a limit and go to
// temporary files beyond it. http::Request uses both
// (multipart_reader(), parse_multipart_form()).
//
// ```cpp
// std::string body =
//     "--xyz\r\nContent-Disposition: form-data; name=\"title\"\r\n\r\nHello\r\n"
//     "--xyz\r\nContent-Disposition: form-data; name=\"doc\"; filename=\"a.txt\"\r\n"
//     "Content-Type: text/plain\r\n\r\nfile bytes\r\n--xyz--\r\n";
// gofer::io::StringReader src(body);
// gofer::multipart::Reader mr(src, "xyz");
// for (;;) {
//   auto [part, err] = mr.next_part();  // valid until the next call
//   if (err) break;                     // net::errc::eof after the last part
//   std::string name(part->form_name()), file = part->file_name();
//   auto [bytes, rerr] = gofer::io::read_all(*part, 1 << 20);
// }
// ```
//
// The rules are Go's: the preamble before the first boundary and the
// epilogue after the last are skipped; "\n" line endings are accepted when
// the first boundary line ends so; a part's body ends at CRLF "--boundary"
// followed by "--", white space or the line's end; bytes such as
// "--boundaryX" inside a body are data. file_name() keeps only the last
// path element (RFC 7578 §4.2). Limits bound what a hostile body can make
// the server hold (Go's numbers): header bytes and fields per part,
// parts per form, and memory for a form.
//
// Unlike Go: a part with "Content-Transfer-Encoding: quoted-printable" is
// returned as sent (RFC 7578 §4.7 deprecates the field; browsers do not
// send it), and a Form's temporary files have no name: they are unlinked
// at once (O_TMPFILE where the file system has it), so none is ever left
// behind, whatever happens to the process.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "gofer/bufio.h"
#include "gofer/error.h"
#include "gofer/io.h"
#include "gofer/url.h"

namespace gofer::multipart {

enum class errc {
  boundary_empty = 1,  // "multipart: boundary is empty"
  malformed,           // a line where a boundary or a part's header was expected
  header_too_large,    // a part's header past Limits (Go's "message too large")
  message_too_large,   // Go's multipart.ErrMessageTooLarge: past read_form's budget
  missing_file,        // Go's http.ErrMissingFile
};
const std::error_category& multipart_category() noexcept;
inline std::error_code make_error_code(errc e) noexcept {
  return {static_cast<int>(e), multipart_category()};
}

// A part's MIME header: fields in the order sent, names compared without
// regard to case (Go's textproto.MIMEHeader).
class Header {
 public:
  struct Field {
    std::string name;
    std::string value;
  };
  std::string_view get(std::string_view name) const;  // first value, or ""
  std::vector<std::string_view> values(std::string_view name) const;
  bool has(std::string_view name) const;
  void add(std::string name, std::string value);
  const std::vector<Field>& fields() const noexcept { return fields_; }
  std::size_t size() const noexcept { return fields_.size(); }

 private:
  std::vector<Field> fields_;
};

// What a hostile body may make the reader hold (Go's defaults).
struct Limits {
  std::size_t max_header_bytes = 10 << 20;  // one part's header, all lines (maxMIMEHeaderSize)
  std::size_t max_header_fields = 10000;    // one part's header fields (multipartmaxheaders)
  std::size_t max_parts = 1000;             // read_form: parts (multipartmaxparts)
};

class Reader;
class TempFile;  // an unnamed temporary file (src/mime/multipart_form.cpp)

// One part: its header, then its body through read().
class Part {
 public:
  const Header& header() const noexcept { return header_; }
  // The name of a "Content-Disposition: form-data" part; "" otherwise.
  std::string_view form_name() const;
  // The filename parameter's last path element ("a/b.txt" → "b.txt"), or
  // "" when there is none (Go's FileName).
  std::string file_name() const;
  // Body bytes; net::errc::eof at the boundary, io::errc::unexpected_eof
  // if the stream ends first.
  Result<std::size_t> read(std::span<char> buf);

 private:
  friend class Reader;
  explicit Part(Reader* r) : reader_(r) {}
  void parse_disposition() const;

  Reader* reader_;
  Header header_;
  std::uint64_t total_ = 0;  // body bytes handed out
  std::size_t ready_ = 0;    // buffered body bytes known to be data
  Error end_;                // what comes once ready_ is used up (eof at the boundary)
  Error read_err_;           // the source's error after the buffered bytes
  mutable bool disposition_parsed_ = false;
  mutable std::string disposition_;
  mutable std::string form_name_;
  mutable std::string file_name_;
};

// The content of an uploaded file (Go's multipart.File): in memory or in
// an unnamed temporary file. Copies share it.
class File {
 public:
  Result<std::size_t> read(std::span<char> buf);
  Result<std::size_t> read_at(std::span<char> buf, std::int64_t offset) const;
  std::int64_t size() const noexcept { return size_; }

 private:
  friend class FileHeader;
  std::shared_ptr<const std::string> memory_;
  std::shared_ptr<const TempFile> disk_;
  std::int64_t size_ = 0;
  std::int64_t pos_ = 0;
};

// An uploaded file of a Form (Go's multipart.FileHeader).
class FileHeader {
 public:
  std::string filename;  // as Part::file_name()
  Header header;         // the part's header
  std::int64_t size = 0;
  bool in_memory() const noexcept { return memory_ != nullptr; }
  // The content, to read from the start.
  File open() const;

 private:
  friend class Reader;
  std::shared_ptr<const std::string> memory_;
  std::shared_ptr<const TempFile> disk_;
};

// A multipart/form-data body read whole (Go's multipart.Form).
struct Form {
  url::Values value;  // the parts without a filename
  std::map<std::string, std::vector<FileHeader>, std::less<>> file;
  // Drops the files (their temporary files go when the last File and
  // FileHeader referring to them do). Go's RemoveAll.
  void remove_all() { file.clear(); }
};

// Go's multipart.Reader.
class Reader {
 public:
  // `src` must outlive the reader. The boundary is the Content-Type's
  // boundary parameter, without the leading "--".
  Reader(io::ReaderRef src, std::string_view boundary, Limits limits = {});
  Reader(const Reader&) = delete;
  Reader& operator=(const Reader&) = delete;

  // The next part (the rest of the previous one is skipped): valid until
  // the next call. net::errc::eof after the last part.
  Result<Part*> next_part();

  // Reads the remaining parts into a Form (Go's ReadForm): values and files
  // in memory up to max_memory bytes of file content (plus 10 MiB for the
  // values and headers, as Go), files beyond it in temporary files. Past
  // the limits: errc::message_too_large and no Form.
  Result<Form> read_form(std::int64_t max_memory);

 private:
  friend class Part;
  Error read_header(Header& h, std::size_t max_bytes, std::size_t max_fields);
  bool is_boundary_line(std::string_view line);
  bool is_final_boundary(std::string_view line) const;
  // How many of the buffered body bytes are data (Part::read).
  void scan(Part& p);

  bufio::Reader in_;
  std::string boundary_;  // "\r\n--" + boundary + "--"
  std::string_view nl_;   // "\r\n", or "\n" once the body showed it uses bare LF
  std::string_view nl_dash_boundary_, dash_boundary_dash_, dash_boundary_;
  Limits limits_;
  std::unique_ptr<Part> part_;
  std::size_t parts_read_ = 0;
};

}  // namespace gofer::multipart

template <>
struct std::is_error_code_enum<gofer::multipart::errc> : std::true_type {};

// multipart::Reader and Part: finding the boundaries of RFC 2046 §5.1 in a
// stream, with the rules of Go's mime/multipart (see multipart.h).
//
// The body of a part is read through the Reader's bufio buffer. scan()
// decides how many of the buffered bytes are certainly data: everything up
// to a delimiter ("\r\n--boundary" followed by "--", white space or the
// line end), or up to a tail that might still become one. When it cannot
// decide, Part::read makes the buffer read more. The buffer is at least
// twice the delimiter's length, so a full buffer always holds data to hand
// out.
#include <algorithm>
#include <cstring>

#include "gofer/mime.h"
#include "gofer/multipart.h"

namespace gofer::multipart {
namespace {

class MultipartCategory final : public std::error_category {
 public:
  const char* name() const noexcept override { return "gofer.multipart"; }
  std::string message(int ev) const override {
    switch (static_cast<errc>(ev)) {
      case errc::boundary_empty:
        return "multipart: boundary is empty";
      case errc::malformed:
        return "multipart: malformed part boundary or header";
      case errc::header_too_large:
        return "multipart: part header too large";
      case errc::message_too_large:
        return "multipart: message too large";
      case errc::missing_file:
        return "http: no such file";
    }
    return "multipart error " + std::to_string(ev);
  }
};

bool equal_fold(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

std::string_view skip_lwsp(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  return s;
}

std::string_view trim_lwsp(std::string_view s) {
  s = skip_lwsp(s);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// RFC 9110 §5.6.2 token characters (a header field name).
bool is_token(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    if (!alnum && std::string_view("!#$%&'*+-.^_`|~").find(c) == std::string_view::npos)
      return false;
  }
  return true;
}

// Go's filepath.Base on Unix.
std::string base_name(std::string_view path) {
  while (path.size() > 1 && path.back() == '/') path.remove_suffix(1);
  if (path == "/") return "/";
  std::size_t slash = path.rfind('/');
  if (slash != std::string_view::npos) path.remove_prefix(slash + 1);
  return path.empty() ? "." : std::string(path);
}

}  // namespace

const std::error_category& multipart_category() noexcept {
  static const MultipartCategory category;
  return category;
}

// --- Header -------------------------------------------------------------

std::string_view Header::get(std::string_view name) const {
  for (const Field& f : fields_) {
    if (equal_fold(f.name, name)) return f.value;
  }
  return {};
}

std::vector<std::string_view> Header::values(std::string_view name) const {
  std::vector<std::string_view> out;
  for (const Field& f : fields_) {
    if (equal_fold(f.name, name)) out.push_back(f.value);
  }
  return out;
}

bool Header::has(std::string_view name) const {
  return std::any_of(fields_.begin(), fields_.end(),
                     [&](const Field& f) { return equal_fold(f.name, name); });
}

void Header::add(std::string name, std::string value) {
  fields_.push_back({std::move(name), std::move(value)});
}

// --- Part ---------------------------------------------------------------

void Part::parse_disposition() const {
  if (disposition_parsed_) return;
  disposition_parsed_ = true;
  auto [cd, err] = mime::parse_media_type(header_.get("Content-Disposition"));
  if (err) return;  // as Go: no name, no filename
  disposition_ = cd.type;
  form_name_ = cd.param("name");
  if (std::string_view f = cd.param("filename"); !f.empty()) file_name_ = base_name(f);
}

std::string_view Part::form_name() const {
  parse_disposition();
  return disposition_ == "form-data" ? std::string_view(form_name_) : std::string_view{};
}

std::string Part::file_name() const {
  parse_disposition();
  return file_name_;
}

Result<std::size_t> Part::read(std::span<char> buf) {
  Reader& r = *reader_;
  while (ready_ == 0 && !end_) {
    r.scan(*this);
    if (ready_ == 0 && !end_) {
      // Undecided: the buffered bytes may start a delimiter. Read more.
      auto [more, err] = r.in_.peek(r.in_.buffered() + 1);
      if (err && err != io::errc::buffer_full) {
        read_err_ = err == net::errc::eof ? Error(io::errc::unexpected_eof) : err;
      }
    }
  }
  if (ready_ == 0) return {0, end_};
  if (buf.empty()) return {0, {}};
  std::size_t want = std::min(buf.size(), ready_);
  auto [n, err] = r.in_.read(buf.first(want));  // buffered bytes: no source read
  total_ += n;
  ready_ -= n;
  return {n, {}};
}

// --- Reader -------------------------------------------------------------

Reader::Reader(io::ReaderRef src, std::string_view boundary, Limits limits)
    : in_(src, std::max<std::size_t>(4096, 2 * boundary.size() + 64)),
      boundary_("\r\n--" + std::string(boundary) + "--"),
      limits_(limits) {
  std::string_view b = boundary_;
  nl_ = b.substr(0, 2);
  nl_dash_boundary_ = b.substr(0, b.size() - 2);
  dash_boundary_dash_ = b.substr(2);
  dash_boundary_ = b.substr(2, b.size() - 4);
}

bool Reader::is_final_boundary(std::string_view line) const {
  if (!line.starts_with(dash_boundary_dash_)) return false;
  std::string_view rest = skip_lwsp(line.substr(dash_boundary_dash_.size()));
  return rest.empty() || rest == nl_;
}

bool Reader::is_boundary_line(std::string_view line) {
  if (!line.starts_with(dash_boundary_)) return false;
  std::string_view rest = skip_lwsp(line.substr(dash_boundary_.size()));
  // The first boundary line tells whether lines end in "\n" alone.
  if (parts_read_ == 0 && rest == "\n") {
    nl_ = nl_.substr(1);
    nl_dash_boundary_ = nl_dash_boundary_.substr(1);
  }
  return rest == nl_;
}

void Reader::scan(Part& p) {
  std::string_view buf = in_.peek(in_.buffered()).value;
  const Error read_err = p.read_err_;
  // After a delimiter's prefix: +1 it is a delimiter, -1 it is not (data
  // such as "--boundaryX"), 0 more bytes are needed to tell.
  auto match_after = [&](std::string_view b, std::size_t prefix) {
    if (b.size() == prefix) return read_err ? +1 : 0;
    char c = b[prefix];
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n') return +1;
    if (c == '-') {
      if (b.size() == prefix + 1) return read_err ? -1 : 0;
      if (b[prefix + 1] == '-') return +1;
    }
    return -1;
  };
  auto decide = [&](std::size_t data, std::size_t prefix_at, std::size_t prefix_len) {
    switch (match_after(buf.substr(prefix_at), prefix_len)) {
      case -1:
        p.ready_ = prefix_at + prefix_len;
        return;
      case 0:
        p.ready_ = data;
        return;
      default:
        p.ready_ = data;
        p.end_ = net::errc::eof;
    }
  };
  if (p.total_ == 0) {
    // An empty body: the delimiter's CRLF is the one after the header.
    if (buf.starts_with(dash_boundary_)) return decide(0, 0, dash_boundary_.size());
    if (dash_boundary_.starts_with(buf)) {
      p.end_ = read_err;
      return;
    }
  }
  if (std::size_t i = buf.find(nl_dash_boundary_); i != std::string_view::npos) {
    return decide(i, i, nl_dash_boundary_.size());
  }
  if (nl_dash_boundary_.starts_with(buf)) {
    p.end_ = read_err;
    return;
  }
  // Up to a tail that may begin a delimiter, everything is data.
  std::size_t i = buf.rfind(nl_dash_boundary_[0]);
  if (i != std::string_view::npos && nl_dash_boundary_.starts_with(buf.substr(i))) {
    p.ready_ = i;
    return;
  }
  p.ready_ = buf.size();
  p.end_ = read_err;
}

Error Reader::read_header(Header& h, std::size_t max_bytes, std::size_t max_fields) {
  std::size_t budget = max_bytes;
  std::string line;
  std::string name, value;
  bool have_field = false;
  auto commit = [&]() -> Error {
    if (!have_field) return {};
    if (max_fields == 0) return errc::header_too_large;
    --max_fields;
    h.add(std::move(name), std::string(trim_lwsp(value)));
    name.clear();
    value.clear();
    have_field = false;
    return {};
  };
  for (;;) {
    line.clear();
    for (;;) {
      auto [l, err] = in_.read_line();
      if (err) return err == net::errc::eof ? Error(io::errc::unexpected_eof) : err;
      if (l.text.size() > budget) return errc::header_too_large;
      budget -= l.text.size();
      line.append(l.text);
      if (!l.is_prefix) break;
    }
    if (line.empty()) return commit();
    if (line[0] == ' ' || line[0] == '\t') {
      if (!have_field) return errc::malformed;  // a continuation with nothing to continue
      value += ' ';
      value.append(trim_lwsp(line));
      continue;
    }
    if (Error err = commit()) return err;
    std::size_t colon = line.find(':');
    if (colon == std::string::npos || !is_token(std::string_view(line).substr(0, colon))) {
      return errc::malformed;
    }
    // Each field costs its bookkeeping too (Go counts 200 bytes a field).
    if (budget < 200) return errc::header_too_large;
    budget -= 200;
    name.assign(line, 0, colon);
    value.assign(line, colon + 1);
    have_field = true;
  }
}

Result<Part*> Reader::next_part() {
  if (part_) {
    // The rest of the current part is skipped; an error shows below.
    char skip[4096];
    while (!part_->read(skip).err) {
    }
    part_.reset();
  }
  if (dash_boundary_ == "--") return {nullptr, errc::boundary_empty};
  bool expect_new_part = false;
  for (;;) {
    auto [line, err] = in_.read_slice('\n');
    if (err == net::errc::eof && is_final_boundary(line)) return {nullptr, net::errc::eof};
    if (err == net::errc::eof) return {nullptr, io::errc::unexpected_eof};
    if (err == io::errc::buffer_full) return {nullptr, errc::malformed};
    if (err) return {nullptr, err};
    if (is_boundary_line(line)) {
      ++parts_read_;
      part_.reset(new Part(this));
      if (Error herr =
              read_header(part_->header_, limits_.max_header_bytes, limits_.max_header_fields)) {
        part_.reset();
        return {nullptr, herr};
      }
      return {part_.get(), {}};
    }
    if (is_final_boundary(line)) return {nullptr, net::errc::eof};
    if (expect_new_part) return {nullptr, errc::malformed};
    if (parts_read_ == 0) continue;  // the preamble
    // The line end between a part's body and the next delimiter line.
    if (line == nl_) {
      expect_new_part = true;
      continue;
    }
    return {nullptr, errc::malformed};
  }
}

}  // namespace gofer::multipart

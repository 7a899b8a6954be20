// FileServer and serve_content: Go's net/http/fs.go (serveFile,
// serveContent, checkPreconditions, parseRange) on file descriptors.
//
// A request goes: method check -> path checks (decode, refuse "..", "\",
// NUL) -> open below the root -> redirects that make directory URLs end in
// '/' and file URLs not -> index.html or listing -> serve_content, which
// evaluates the preconditions in RFC 9110 §13.2.2's order (If-Match,
// If-Unmodified-Since, If-None-Match, If-Modified-Since, then If-Range), the
// Range header, and sends the bytes with send_file.
//
// Containment: every open goes through open_beneath(root_fd, relative
// path), which asks the kernel to resolve the path without leaving the
// root (openat2 + RESOLVE_BENEATH: ".." above the root, absolute symlinks
// and symlinks leading out all fail with EXDEV). Rejected: realpath() and a
// prefix check before open — a symlink swapped in between the check and
// the open escapes it. The fallback for kernels without openat2 checks the
// path of the descriptor actually opened instead (/proc/self/fd), which
// has no such window.
//
// The path checks before opening are defence in depth (and give 400 instead
// of 404): RESOLVE_BENEATH alone already keeps ".." inside the root.
#include "gofer/http/file_server.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "gofer/runtime.h"
#include "http/file_server_internal.h"
#include "http/http_date.h"
#include "http/pattern.h"
#include "http/sniff.h"
#include "http/syntax.h"

namespace gofer::http {

namespace {

using SysTime = std::chrono::system_clock::time_point;

// --- small helpers ------------------------------------------------------

// Runs a file system call: in gofer::blocking() on a goroutine (the disk
// may make it wait), directly elsewhere (a plain thread may block).
template <class F>
decltype(auto) fs_call(F&& f) {
  if (gofer::in_goroutine()) return gofer::blocking(std::forward<F>(f));
  return std::forward<F>(f)();
}

class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(UniqueFd&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
  UniqueFd& operator=(UniqueFd&& o) noexcept {
    if (this != &o) {
      reset();
      fd_ = std::exchange(o.fd_, -1);
    }
    return *this;
  }
  ~UniqueFd() { reset(); }
  int get() const { return fd_; }
  void reset() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_ = -1;
};

std::int64_t unix_seconds(SysTime t) {
  return std::chrono::floor<std::chrono::seconds>(t.time_since_epoch()).count();
}

// Go's isZeroTime: the zero time or the Unix epoch mean "unknown".
bool is_zero_time(SysTime t) { return t.time_since_epoch().count() == 0; }

// --- conditional requests (RFC 9110 §13) ----------------------------------

enum class Cond { none, yes, no };

// The entity-tag at the start of `s` (after whitespace), and what follows;
// {"", ""} if there is none (Go's scanETag).
std::pair<std::string_view, std::string_view> scan_etag(std::string_view s) {
  s = syntax::trim_ows(s);
  std::size_t start = s.starts_with("W/") ? 2 : 0;
  if (s.size() - start < 2 || s[start] != '"') return {};
  for (std::size_t i = start + 1; i < s.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c == '"') return {s.substr(0, i + 1), s.substr(i + 1)};
    if (!(c == 0x21 || (c >= 0x23 && c <= 0x7e) || c >= 0x80)) return {};
  }
  return {};
}

bool etag_strong_match(std::string_view a, std::string_view b) {
  return a == b && !a.empty() && a[0] == '"';
}

bool etag_weak_match(std::string_view a, std::string_view b) {
  if (a.starts_with("W/")) a.remove_prefix(2);
  if (b.starts_with("W/")) b.remove_prefix(2);
  return a == b;
}

// Walks a comma-separated list of entity-tags; `match` decides each one.
// Returns yes/no as Go's checkIfMatch / checkIfNoneMatch loops do: `star`
// for "*", `hit` when an element matches, else `miss`.
template <class Match>
Cond scan_etag_list(std::string_view list, Cond star, Cond hit, Cond miss, Match match) {
  for (;;) {
    list = syntax::trim_ows(list);
    if (list.empty()) break;
    if (list[0] == ',') {
      list.remove_prefix(1);
      continue;
    }
    if (list[0] == '*') return star;
    auto [etag, rest] = scan_etag(list);
    if (etag.empty()) break;
    if (match(etag)) return hit;
    list = rest;
  }
  return miss;
}

Cond check_if_match(ResponseWriter& w, const Request& r) {
  std::string_view im = r.header("If-Match");
  if (im.empty()) return Cond::none;
  std::string_view current = w.header().get("ETag");
  return scan_etag_list(im, Cond::yes, Cond::yes, Cond::no,
                        [&](std::string_view e) { return etag_strong_match(e, current); });
}

Cond check_if_none_match(ResponseWriter& w, const Request& r) {
  std::string_view inm = r.header("If-None-Match");
  if (inm.empty()) return Cond::none;
  std::string_view current = w.header().get("ETag");
  return scan_etag_list(inm, Cond::no, Cond::no, Cond::yes,
                        [&](std::string_view e) { return etag_weak_match(e, current); });
}

// If-Unmodified-Since (yes: not modified since) and If-Modified-Since
// (no: not modified since); Last-Modified has whole seconds, so modtime is
// truncated before comparing.
Cond check_if_unmodified_since(const Request& r, SysTime modtime) {
  std::string_view ius = r.header("If-Unmodified-Since");
  if (ius.empty() || is_zero_time(modtime)) return Cond::none;
  auto t = detail::parse_http_time(ius);
  if (!t) return Cond::none;
  return unix_seconds(modtime) <= *t ? Cond::yes : Cond::no;
}

Cond check_if_modified_since(const Request& r, SysTime modtime) {
  if (r.method != "GET" && r.method != "HEAD") return Cond::none;
  std::string_view ims = r.header("If-Modified-Since");
  if (ims.empty() || is_zero_time(modtime)) return Cond::none;
  auto t = detail::parse_http_time(ims);
  if (!t) return Cond::none;
  return unix_seconds(modtime) <= *t ? Cond::no : Cond::yes;
}

Cond check_if_range(ResponseWriter& w, const Request& r, SysTime modtime) {
  std::string_view ir = r.header("If-Range");
  if (ir.empty()) return Cond::none;
  auto [etag, rest] = scan_etag(ir);
  if (!etag.empty()) return etag_strong_match(etag, w.header().get("ETag")) ? Cond::yes : Cond::no;
  if (is_zero_time(modtime)) return Cond::no;
  auto t = detail::parse_http_time(ir);
  return t && *t == unix_seconds(modtime) ? Cond::yes : Cond::no;
}

void write_not_modified(ResponseWriter& w) {
  // RFC 9110 §15.4.5: no representation metadata beyond the validators.
  HeaderMap& h = w.header();
  h.del("Content-Type");
  h.del("Content-Length");
  h.del("Content-Encoding");
  if (h.has("ETag")) h.del("Last-Modified");
  w.write_header(status_not_modified);
}

// Evaluates the preconditions; true if the response is already written.
// `range` is set to the Range header to honour ("" if none or ignored).
bool check_preconditions(ResponseWriter& w, const Request& r, SysTime modtime, std::string_view& range) {
  Cond c = check_if_match(w, r);
  if (c == Cond::none) c = check_if_unmodified_since(r, modtime);
  if (c == Cond::no) {
    w.write_header(status_precondition_failed);
    return true;
  }
  switch (check_if_none_match(w, r)) {
    case Cond::no:
      if (r.method == "GET" || r.method == "HEAD") {
        write_not_modified(w);
      } else {
        w.write_header(status_precondition_failed);
      }
      return true;
    case Cond::none:
      if (check_if_modified_since(r, modtime) == Cond::no) {
        write_not_modified(w);
        return true;
      }
      break;
    case Cond::yes:
      break;
  }
  // Unlike Go, Range is honoured for GET only (RFC 9110 §14.2).
  range = r.method == "GET" ? r.header("Range") : std::string_view();
  if (!range.empty() && check_if_range(w, r, modtime) == Cond::no) range = {};
  return false;
}

// --- ranges (RFC 9110 §14.1) ------------------------------------------------

struct ByteRange {
  std::int64_t start;
  std::int64_t length;

  std::string content_range(std::int64_t size) const {
    std::string s = "bytes ";
    syntax::append_decimal(s, static_cast<std::uint64_t>(start));
    s += '-';
    syntax::append_decimal(s, static_cast<std::uint64_t>(start + length - 1));
    s += '/';
    syntax::append_decimal(s, static_cast<std::uint64_t>(size));
    return s;
  }
};

enum class RangeResult { ok, ignore, invalid, no_overlap };

constexpr std::size_t kMaxRanges = 32;

// Go's parseRange, except that another unit than "bytes" is ignored (RFC
// 9110 §14.2: a server MUST ignore a range unit it does not understand) and
// a zero suffix-length is unsatisfiable (§14.1.1).
RangeResult parse_range(std::string_view s, std::int64_t size, std::vector<ByteRange>& out) {
  std::size_t eq = s.find('=');
  if (eq == std::string_view::npos) return RangeResult::invalid;
  if (!equal_fold(syntax::trim_ows(s.substr(0, eq)), "bytes")) return RangeResult::ignore;
  bool no_overlap = false;
  std::string_view list = s.substr(eq + 1);
  while (!list.empty()) {
    std::size_t comma = list.find(',');
    std::string_view ra = syntax::trim_ows(list.substr(0, comma));
    list = comma == std::string_view::npos ? std::string_view() : list.substr(comma + 1);
    if (ra.empty()) continue;
    std::size_t dash = ra.find('-');
    if (dash == std::string_view::npos) return RangeResult::invalid;
    std::string_view first = syntax::trim_ows(ra.substr(0, dash));
    std::string_view last = syntax::trim_ows(ra.substr(dash + 1));
    ByteRange r{};
    if (first.empty()) {
      // suffix-range: the last `n` bytes.
      auto n = syntax::parse_decimal(last);
      if (!n) return RangeResult::invalid;
      if (*n == 0) {
        no_overlap = true;
        continue;
      }
      r.start = size - std::min(*n, size);
      r.length = size - r.start;
    } else {
      auto a = syntax::parse_decimal(first);
      if (!a) return RangeResult::invalid;
      if (*a >= size) {
        no_overlap = true;
        continue;
      }
      r.start = *a;
      if (last.empty()) {
        r.length = size - r.start;
      } else {
        auto b = syntax::parse_decimal(last);
        if (!b || *b < r.start) return RangeResult::invalid;
        r.length = std::min(*b, size - 1) - r.start + 1;
      }
    }
    out.push_back(r);
  }
  // Nothing at all ("bytes=", "bytes=,"): ignored, as Go does.
  if (out.empty()) return no_overlap ? RangeResult::no_overlap : RangeResult::ignore;
  return RangeResult::ok;
}

std::string random_boundary() {
  unsigned char raw[16];
  if (::getrandom(raw, sizeof raw, 0) != static_cast<ssize_t>(sizeof raw)) {
    // Practically unreachable; any boundary absent from the parts will do.
    auto t = std::chrono::steady_clock::now().time_since_epoch().count();
    for (std::size_t i = 0; i < sizeof raw; ++i) raw[i] = static_cast<unsigned char>(t >> (i % 8 * 8));
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string b;
  for (unsigned char c : raw) {
    b += kHex[c >> 4];
    b += kHex[c & 15];
  }
  return b;
}

// --- opening below the root -------------------------------------------------

// Set once openat2 turned out to be unavailable: ENOSYS (kernel < 5.6) or
// a seccomp filter that refuses it (EPERM even for the root itself).
// Relaxed loads and stores: a hint that orders nothing else; a thread that
// still sees false pays one more failed openat2.
std::atomic<bool> g_no_openat2{false};

// openat2 answers EAGAIN when a concurrent rename could have let ".." escape;
// retrying is the documented response, but not forever.
constexpr int kOpenat2Retries = 16;

constexpr int kOpenFlags = O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK;

// The path the kernel has for an open descriptor.
std::optional<std::string> fd_path(int fd) {
  char link[64];
  std::snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
  std::string buf(4096, '\0');
  ssize_t n = ::readlink(link, buf.data(), buf.size());
  if (n <= 0 || static_cast<std::size_t>(n) == buf.size()) return std::nullopt;
  buf.resize(static_cast<std::size_t>(n));
  return buf;
}

long openat2_beneath(int root_fd, const char* rel) {
  open_how how{};
  how.flags = kOpenFlags;
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
  return ::syscall(SYS_openat2, root_fd, rel, &how, sizeof how);
}

}  // namespace

int detail::open_beneath_checked(int root_fd, const char* rel) {
  int fd;
  do {
    fd = ::openat(root_fd, rel, kOpenFlags);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) return -errno;
  auto root = fd_path(root_fd);
  auto got = fd_path(fd);
  if (!root || !got) {
    ::close(fd);
    return -EACCES;  // cannot tell: refuse
  }
  bool inside = *got == *root ||
                (got->starts_with(*root) && (*root == "/" || (*got)[root->size()] == '/'));
  if (!inside) {
    ::close(fd);
    return -EXDEV;
  }
  return fd;
}

int detail::open_beneath(int root_fd, const char* rel) {
  if (!g_no_openat2.load(std::memory_order_relaxed)) {
    for (int attempt = 0;; ++attempt) {
      long fd = openat2_beneath(root_fd, rel);
      if (fd >= 0) return static_cast<int>(fd);
      int err = errno;
      if ((err == EINTR || err == EAGAIN) && attempt < kOpenat2Retries) continue;
      if (err != ENOSYS && err != EPERM) return -err;
      long probe = openat2_beneath(root_fd, ".");
      if (probe >= 0) {
        ::close(static_cast<int>(probe));
        return -err;  // a genuine error of this path
      }
      g_no_openat2.store(true, std::memory_order_relaxed);
      break;
    }
  }
  return open_beneath_checked(root_fd, rel);
}

namespace {

// Go's toHTTPError, with the errors that resolution below the root adds.
void fs_error(ResponseWriter& w, int err) {
  switch (err) {
    case ENOENT:
    case ENOTDIR:
    case ELOOP:
    case EXDEV:
    case ENAMETOOLONG:
      error(w, "404 page not found", status_not_found);
      return;
    case EACCES:
    case EPERM:
      error(w, "403 Forbidden", status_forbidden);
      return;
    default:
      error(w, "500 Internal Server Error", status_internal_server_error);
  }
}

// --- paths and redirects ----------------------------------------------------

// Percent-encodes all but unreserved characters and '/', so that a name is
// safe inside a URL path and an HTML attribute ("a b?#.txt" -> "a%20b%3F%23.txt").
std::string escape_path(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (char ch : s) {
    unsigned char c = static_cast<unsigned char>(ch);
    bool keep = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                c == '-' || c == '.' || c == '_' || c == '~' || c == '/';
    if (keep) {
      out += ch;
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}


// path.Base of a rooted path ("/a/b/" -> "b", "/" -> "/").
std::string_view base_name(std::string_view p) {
  while (p.size() > 1 && p.back() == '/') p.remove_suffix(1);
  if (p == "/") return p;
  std::size_t slash = p.rfind('/');
  return slash == std::string_view::npos ? p : p.substr(slash + 1);
}

// A relative redirect, so that it works below strip_prefix (Go's localRedirect).
void local_redirect(ResponseWriter& w, const Request& r, std::string location) {
  if (!r.raw_query.empty()) {
    location += '?';
    location += r.raw_query;
  }
  w.header().set("Location", location);
  w.write_header(status_moved_permanently);
}

bool has_dotdot_segment(std::string_view p) {
  std::size_t i = 0;
  while (i <= p.size()) {
    std::size_t end = p.find('/', i);
    if (end == std::string_view::npos) end = p.size();
    if (p.substr(i, end - i) == "..") return true;
    i = end + 1;
  }
  return false;
}

std::string etag_for(const struct stat& st) {
  static constexpr char kHex[] = "0123456789abcdef";
  auto hex = [](std::string& out, std::uint64_t v) {
    char buf[16];
    int n = 0;
    do {
      buf[n++] = kHex[v & 15];
      v >>= 4;
    } while (v != 0);
    while (n > 0) out += buf[--n];
  };
  std::uint64_t mtime_ns = static_cast<std::uint64_t>(st.st_mtim.tv_sec) * 1000000000ULL +
                           static_cast<std::uint64_t>(st.st_mtim.tv_nsec);
  std::string e = "\"";
  hex(e, mtime_ns);
  e += '-';
  hex(e, static_cast<std::uint64_t>(st.st_size));
  e += '"';
  return e;
}

SysTime mod_time(const struct stat& st) {
  return SysTime(std::chrono::duration_cast<SysTime::duration>(std::chrono::seconds(st.st_mtim.tv_sec) +
                                                               std::chrono::nanoseconds(st.st_mtim.tv_nsec)));
}

void set_last_modified(ResponseWriter& w, SysTime modtime) {
  if (!is_zero_time(modtime)) w.header().set("Last-Modified", detail::format_http_time(unix_seconds(modtime)));
}

// --- directory listing ------------------------------------------------------

struct DirEntry {
  std::string name;
  bool dir;
};

// Reads the entries of the open directory `fd` (Go's ReadDir: the type
// comes from d_type, symlinks are not followed). -errno on failure.
int read_dir(int fd, std::vector<DirEntry>& out) {
  int dup = ::fcntl(fd, F_DUPFD_CLOEXEC, 0);
  if (dup < 0) return -errno;
  DIR* d = ::fdopendir(dup);
  if (d == nullptr) {
    int e = errno;
    ::close(dup);
    return -e;
  }
  ::rewinddir(d);
  int result = 0;
  for (;;) {
    errno = 0;
    dirent* e = ::readdir(d);
    if (e == nullptr) {
      result = -errno;
      break;
    }
    std::string_view name = e->d_name;
    if (name == "." || name == "..") continue;
    bool dir = e->d_type == DT_DIR;
    if (e->d_type == DT_UNKNOWN) {
      struct stat st;
      dir = ::fstatat(fd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode);
    }
    out.push_back({std::string(name), dir});
  }
  ::closedir(d);
  return result;
}

void dir_list(ResponseWriter& w, int fd) {
  std::vector<DirEntry> entries;
  int err = fs_call([&] { return read_dir(fd, entries); });
  if (err != 0) {
    error(w, "Error reading directory", status_internal_server_error);
    return;
  }
  std::sort(entries.begin(), entries.end(), [](const DirEntry& a, const DirEntry& b) { return a.name < b.name; });
  std::string body = "<!doctype html>\n<meta name=\"viewport\" content=\"width=device-width\">\n<pre>\n";
  for (const DirEntry& e : entries) {
    std::string name = e.dir ? e.name + "/" : e.name;
    body += "<a href=\"";
    body += escape_path(name);
    body += "\">";
    body += html_escape(name);
    body += "</a>\n";
  }
  body += "</pre>\n";
  w.header().set("Content-Type", "text/html; charset=utf-8");
  w.write(body);
}

}  // namespace

// --- serve_content ------------------------------------------------------------

namespace {

// The Content-Type: the handler's, else by the name's extension, else
// sniffed from the first 512 bytes (Go's serveContent).
std::string content_type_for(HeaderMap& h, std::string_view name, int fd) {
  if (h.has("Content-Type")) return std::string(h.get("Content-Type"));
  std::string ctype;
  std::size_t dot = name.rfind('.');
  std::size_t slash = name.rfind('/');
  if (dot != std::string_view::npos && (slash == std::string_view::npos || dot > slash)) {
    ctype = type_by_extension(name.substr(dot));
  }
  if (ctype.empty()) {
    char buf[512];
    ssize_t n = fs_call([&] { return ::pread(fd, buf, sizeof buf, 0); });
    ctype =
        detail::detect_content_type(std::string_view(buf, n > 0 ? static_cast<std::size_t>(n) : 0));
  }
  h.set("Content-Type", ctype);
  return ctype;
}

// The ranges to send (none: the whole file). False when the request has
// been answered already (416).
bool choose_ranges(ResponseWriter& w, std::string_view range_header, std::int64_t size,
                   std::vector<ByteRange>& ranges) {
  if (range_header.empty()) return true;
  switch (parse_range(range_header, size, ranges)) {
    case RangeResult::ok:
      break;
    case RangeResult::ignore:
      ranges.clear();
      break;
    case RangeResult::no_overlap:
      if (size == 0) {
        // Some clients send a Range with every request; an empty file is
        // answered whole (Go).
        ranges.clear();
        break;
      }
      w.header().set("Content-Range", "bytes */" + std::to_string(size));
      error(w, "invalid range: failed to overlap", status_range_not_satisfiable);
      return false;
    case RangeResult::invalid:
      error(w, "invalid range", status_range_not_satisfiable);
      return false;
  }
  std::int64_t sum = 0;
  for (const ByteRange& br : ranges) sum += br.length;
  // More bytes than the file, or a swarm of tiny parts: an attack or a
  // confused client; the whole file is cheaper (RFC 9110 §14.2 allows it).
  if (sum > size || ranges.size() > kMaxRanges) ranges.clear();
  return true;
}

// A multipart/byteranges body (RFC 9110 §14.6): each part's head, the
// closing delimiter, and the body's length with the parts' bytes.
struct Multipart {
  std::string boundary;
  std::vector<std::string> part_heads;
  std::string closing;
  std::int64_t length = 0;
};

Multipart multipart_for(const std::vector<ByteRange>& ranges, std::int64_t size,
                        std::string_view ctype) {
  Multipart m;
  m.boundary = random_boundary();
  for (std::size_t i = 0; i < ranges.size(); ++i) {
    std::string head = i == 0 ? "--" : "\r\n--";
    head += m.boundary;
    head += "\r\nContent-Range: ";
    head += ranges[i].content_range(size);
    head += "\r\nContent-Type: ";
    head += ctype;
    head += "\r\n\r\n";
    m.length += static_cast<std::int64_t>(head.size()) + ranges[i].length;
    m.part_heads.push_back(std::move(head));
  }
  m.closing = "\r\n--" + m.boundary + "--\r\n";
  m.length += static_cast<std::int64_t>(m.closing.size());
  return m;
}

// The parts of a multipart body. A failed write means the client is gone:
// the rest is not sent (the server ends the connection).
void send_parts(ResponseWriter& w, int fd, const std::vector<ByteRange>& ranges,
                const Multipart& m) {
  for (std::size_t i = 0; i < ranges.size(); ++i) {
    if (w.write(m.part_heads[i]).err) return;
    auto [n, err] = w.send_file(fd, ranges[i].start, static_cast<std::size_t>(ranges[i].length));
    if (err || n != static_cast<std::size_t>(ranges[i].length)) return;
  }
  w.write(m.closing);
}

}  // namespace

void serve_content(ResponseWriter& w, Request& r, std::string_view name, SysTime modtime, int fd,
                   std::int64_t size) {
  set_last_modified(w, modtime);
  std::string_view range_header;
  if (check_preconditions(w, r, modtime, range_header)) return;
  HeaderMap& h = w.header();
  std::string ctype = content_type_for(h, name, fd);
  std::vector<ByteRange> ranges;
  if (!choose_ranges(w, range_header, size, ranges)) return;

  int code = ranges.empty() ? status_ok : status_partial_content;
  std::int64_t send_size = size;
  Multipart multipart;
  if (ranges.size() == 1) {
    send_size = ranges[0].length;
    h.set("Content-Range", ranges[0].content_range(size));
  } else if (ranges.size() > 1) {
    multipart = multipart_for(ranges, size, ctype);
    send_size = multipart.length;
    h.set("Content-Type", "multipart/byteranges; boundary=" + multipart.boundary);
  }
  h.set("Accept-Ranges", "bytes");
  // A handler that set Content-Encoding (compressing on the fly) would make
  // our length wrong; only a range response always has it (Go).
  if (!ranges.empty() || !h.has("Content-Encoding")) {
    h.set("Content-Length", std::to_string(send_size));
  }
  w.write_header(code);
  if (r.method == "HEAD") return;

  // A failed write means the client is gone; the server sees it too.
  if (ranges.empty()) {
    w.send_file(fd, 0, static_cast<std::size_t>(size));
  } else if (ranges.size() == 1) {
    w.send_file(fd, ranges[0].start, static_cast<std::size_t>(ranges[0].length));
  } else {
    send_parts(w, fd, ranges, multipart);
  }
}

// --- FileServer -----------------------------------------------------------------

struct FileServer::State {
  std::string root;
  FileServerOptions options;
  int root_fd = -1;  // O_PATH descriptor of root, or -1 if it did not open at construction

  ~State() {
    if (root_fd >= 0) ::close(root_fd);
  }
};

namespace {

int open_root(const std::string& root) {
  int fd = ::open(root.empty() ? "." : root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  return fd >= 0 ? fd : -errno;
}

// The result of the file system half of a request.
struct Opened {
  int err = 0;  // errno, when opening failed
  UniqueFd fd;
  struct stat st {};
  bool dir = false;    // the path named a directory
  bool index = false;  // then fd and st may be its index.html instead
};

Opened open_path(int root_fd, const std::string& rel, bool want_index) {
  Opened o;
  int fd = detail::open_beneath(root_fd, rel.c_str());
  if (fd < 0) {
    o.err = -fd;
    return o;
  }
  o.fd = UniqueFd(fd);
  if (::fstat(fd, &o.st) != 0) {
    o.err = errno;
    return o;
  }
  o.dir = S_ISDIR(o.st.st_mode);
  if (o.dir && want_index) {
    std::string index = rel == "." ? "index.html" : rel + "/index.html";
    int ifd = detail::open_beneath(root_fd, index.c_str());
    if (ifd >= 0) {
      UniqueFd guard(ifd);
      struct stat ist;
      if (::fstat(ifd, &ist) == 0 && S_ISREG(ist.st_mode)) {
        o.fd = std::move(guard);
        o.st = ist;
        o.index = true;
      }
    }
  }
  return o;
}

}  // namespace

FileServer::FileServer(std::string root, FileServerOptions options) {
  auto s = std::make_shared<State>();
  s->root = std::move(root);
  s->options = options;
  int fd = open_root(s->root);
  s->root_fd = fd >= 0 ? fd : -1;
  state_ = std::move(s);
}

void FileServer::operator()(ResponseWriter& w, Request& r) const {
  const State& s = *state_;
  if (r.method != "GET" && r.method != "HEAD") {
    w.header().set("Allow", "GET, HEAD");
    error(w, status_text(status_method_not_allowed), status_method_not_allowed);
    return;
  }

  std::string upath;
  if (!detail::path_unescape(r.path, upath)) {
    error(w, "invalid URL escape", status_bad_request);
    return;
  }
  if (upath.empty() || upath.front() != '/') upath.insert(upath.begin(), '/');
  if (upath.find('\0') != std::string::npos || upath.find('\\') != std::string::npos ||
      has_dotdot_segment(upath)) {
    error(w, "invalid URL path", status_bad_request);
    return;
  }
  if (upath.ends_with("/index.html")) {
    local_redirect(w, r, "./");
    return;
  }

  // The clean path ("//a/./b" -> "/a/b") relative to the root: "a/b", or "." for the root.
  std::string rel = detail::clean_path(upath).substr(1);
  while (!rel.empty() && rel.back() == '/') rel.pop_back();
  if (rel.empty()) rel.push_back('.');

  bool slash = upath.back() == '/';
  Opened o = fs_call([&] {
    UniqueFd temp_root;
    int root_fd = s.root_fd;
    if (root_fd < 0) {
      int fd = open_root(s.root);
      if (fd < 0) {
        Opened failed;
        failed.err = -fd;
        return failed;
      }
      temp_root = UniqueFd(fd);
      root_fd = fd;
    }
    return open_path(root_fd, rel, slash);
  });
  if (o.err != 0) {
    fs_error(w, o.err);
    return;
  }

  if (!o.dir && !S_ISREG(o.st.st_mode)) {
    fs_error(w, ENOENT);  // FIFOs, sockets, devices are not content
    return;
  }
  // Canonical URLs: directories end in '/', files do not.
  if (o.dir && !slash) {
    local_redirect(w, r, escape_path(base_name(upath)) + "/");
    return;
  }
  if (!o.dir && slash) {
    std::string_view base = base_name(upath);
    local_redirect(w, r, "../" + (base == "/" ? std::string() : escape_path(base)));
    return;
  }

  if (o.dir && !o.index) {
    if (!s.options.list_directories) {
      fs_error(w, ENOENT);
      return;
    }
    SysTime modtime = mod_time(o.st);
    if (check_if_modified_since(r, modtime) == Cond::no) {
      write_not_modified(w);
      return;
    }
    set_last_modified(w, modtime);
    dir_list(w, o.fd.get());
    return;
  }

  if (!w.header().has("ETag")) w.header().set("ETag", etag_for(o.st));
  std::string_view name = o.index ? std::string_view("index.html") : std::string_view(rel);
  serve_content(w, r, name, mod_time(o.st), o.fd.get(), o.st.st_size);
}

Handler file_server(std::string root, FileServerOptions options) {
  return FileServer(std::move(root), options);
}

}  // namespace gofer::http

// AccessLog: formatting a response's line, and the writer thread that takes
// the lines to the file (include/gofer/http/access_log.h).
#include "gofer/http/access_log.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <ctime>

#include <fmt/format.h>

#include "gofer/runtime.h"

namespace gofer::http {
namespace {

// A line is formatted here on the goroutine's stack; only a line longer
// than this (a huge URL or User-Agent) allocates.
using LineBuffer = fmt::basic_memory_buffer<char, 1024>;

void append(LineBuffer& out, std::string_view s) {
  out.append(s.data(), s.data() + s.size());
}

void append_uint(LineBuffer& out, std::uint64_t v) {
  fmt::format_int f(v);
  out.append(f.data(), f.data() + f.size());
}

constexpr char kHex[] = "0123456789abcdef";

// Combined Log Format's escaping, as nginx's: '"' and '\' get a backslash,
// bytes outside printable ASCII become \xHH. "-" for an empty field.
void append_clf_field(LineBuffer& out, std::string_view s) {
  if (s.empty()) {
    out.push_back('-');
    return;
  }
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(ch);
    } else if (c < 0x20 || c > 0x7e) {
      char esc[4] = {'\\', 'x', kHex[c >> 4], kHex[c & 15]};
      out.append(esc, esc + 4);
    } else {
      out.push_back(ch);
    }
  }
}

// A JSON string's contents (RFC 8259 §7); bytes outside ASCII as \u00XX so
// that the line is valid JSON (and valid UTF-8) whatever the client sent.
void append_json_string(LineBuffer& out, std::string_view s) {
  out.push_back('"');
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(ch);
    } else if (c < 0x20 || c > 0x7e) {
      char esc[6] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 15]};
      out.append(esc, esc + 6);
    } else {
      out.push_back(ch);
    }
  }
  out.push_back('"');
}

// The host part of "ip:port" / "[v6]:port" (Combined's %h is the address
// alone); a Unix socket's peer as it is.
std::string_view remote_host(std::string_view addr) {
  if (addr.starts_with('[')) {
    std::size_t end = addr.find(']');
    return end == std::string_view::npos ? addr : addr.substr(1, end - 1);
  }
  std::size_t colon = addr.rfind(':');
  return colon == std::string_view::npos ? addr : addr.substr(0, colon);
}

// The time of day formatted at most once a second per thread. Nothing in
// these functions can park, so the thread-local is used and copied out on
// the thread that formatted it.
struct SecondCache {
  std::time_t sec = -1;
  char text[40];
  std::size_t len = 0;
};

// "03/Dec/2026:13:55:36 +0000": local time and its offset, as nginx's $time_local.
__attribute__((noinline)) void append_time_local(LineBuffer& out, std::time_t now) {
  thread_local SecondCache cache;
  if (cache.sec != now) {
    std::tm tm{};
    localtime_r(&now, &tm);
    long off = tm.tm_gmtoff / 60;
    char sign = off < 0 ? '-' : '+';
    if (off < 0) off = -off;
    std::size_t n = std::strftime(cache.text, sizeof cache.text, "%d/%b/%Y:%H:%M:%S ", &tm);
    auto r = fmt::format_to_n(cache.text + n, sizeof cache.text - n, "{}{:02}{:02}", sign, off / 60,
                              off % 60);
    cache.len = n + r.size;
    cache.sec = now;
  }
  out.append(cache.text, cache.text + cache.len);
}

// "2026-12-03T13:55:36.123Z": UTC with milliseconds (RFC 3339).
__attribute__((noinline)) void append_time_utc(LineBuffer& out,
                                               std::chrono::system_clock::time_point when) {
  thread_local SecondCache cache;
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(when.time_since_epoch()).count();
  std::time_t now = static_cast<std::time_t>(ms / 1000);
  if (cache.sec != now) {
    std::tm tm{};
    gmtime_r(&now, &tm);
    cache.len = std::strftime(cache.text, sizeof cache.text, "%Y-%m-%dT%H:%M:%S", &tm);
    cache.sec = now;
  }
  out.append(cache.text, cache.text + cache.len);
  char frac[5] = {'.', static_cast<char>('0' + ms % 1000 / 100),
                  static_cast<char>('0' + ms % 100 / 10), static_cast<char>('0' + ms % 10), 'Z'};
  out.append(frac, frac + 5);
}

void format_combined(LineBuffer& out, const AccessLogEntry& e,
                     std::chrono::system_clock::time_point when) {
  append_clf_field(out, remote_host(e.remote_addr));
  append(out, " - - [");
  append_time_local(out, std::chrono::system_clock::to_time_t(when));
  append(out, "] \"");
  if (e.method.empty()) {
    out.push_back('-');  // no request line could be read
  } else {
    append_clf_field(out, e.method);
    out.push_back(' ');
    append_clf_field(out, e.target);
    out.push_back(' ');
    append_clf_field(out, e.proto);
  }
  append(out, "\" ");
  append_uint(out, static_cast<std::uint64_t>(e.status));
  out.push_back(' ');
  if (e.body_bytes == 0) {
    out.push_back('-');  // Apache's %b
  } else {
    append_uint(out, e.body_bytes);
  }
  append(out, " \"");
  append_clf_field(out, e.referer);
  append(out, "\" \"");
  append_clf_field(out, e.user_agent);
  out.push_back('"');
}

void format_json(LineBuffer& out, const AccessLogEntry& e,
                 std::chrono::system_clock::time_point when) {
  append(out, "{\"time\":\"");
  append_time_utc(out, when);
  append(out, "\",\"remote_addr\":");
  append_json_string(out, e.remote_addr);
  append(out, ",\"method\":");
  append_json_string(out, e.method);
  append(out, ",\"uri\":");
  append_json_string(out, e.target);
  append(out, ",\"proto\":");
  append_json_string(out, e.proto);
  append(out, ",\"host\":");
  append_json_string(out, e.host);
  append(out, ",\"status\":");
  append_uint(out, static_cast<std::uint64_t>(e.status));
  append(out, ",\"body_bytes\":");
  append_uint(out, e.body_bytes);
  append(out, ",\"duration_us\":");
  append_uint(out, static_cast<std::uint64_t>(e.duration.count() / 1000));
  append(out, ",\"referer\":");
  append_json_string(out, e.referer);
  append(out, ",\"user_agent\":");
  append_json_string(out, e.user_agent);
  out.push_back('}');
}

void format_into(LineBuffer& out, const AccessLogEntry& e, AccessLogFormat format,
                 std::chrono::system_clock::time_point when) {
  if (format == AccessLogFormat::json) {
    format_json(out, e, when);
  } else {
    format_combined(out, e, when);
  }
}

// The new fd, or the error. errno is read right after open(2), on the
// thread that called it (a goroutine may move on after blocking()).
Result<int> open_for_append(const std::string& path) {
  int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return {-1, Error(errno, std::system_category())};
  return {fd, {}};
}

// Runs f on this thread, inside blocking() when on a goroutine: it waits
// for the disk (or for the writer, which does).
template <class F>
decltype(auto) off_the_p(F&& f) {
  if (gofer::in_goroutine()) return gofer::blocking(std::forward<F>(f));
  return std::forward<F>(f)();
}

}  // namespace

struct AccessLog::Private {};

Result<std::shared_ptr<AccessLog>> AccessLog::open(std::string path, AccessLogOptions options) {
  if (options.buffer_bytes < 4096) options.buffer_bytes = 4096;
  if (path == "-") {
    return {std::make_shared<AccessLog>(Private{}, std::move(path), STDOUT_FILENO, false, options),
            {}};
  }
  auto [fd, err] = off_the_p([&] { return open_for_append(path); });
  if (err) return {nullptr, err};
  return {std::make_shared<AccessLog>(Private{}, std::move(path), fd, true, options), {}};
}

AccessLog::AccessLog(Private, std::string path, int fd, bool owns_fd, AccessLogOptions options)
    : path_(std::move(path)), options_(options), fd_(fd), owns_fd_(owns_fd) {
  active_.reserve(options_.buffer_bytes);
  spare_.reserve(options_.buffer_bytes);
  writer_ = std::thread([this] { writer_loop(); });
}

AccessLog::~AccessLog() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  wake_writer_.notify_one();
  writer_.join();  // it writes what is left first
  if (owns_fd_) ::close(fd_);
}

void AccessLog::record(const AccessLogEntry& entry) noexcept {
  LineBuffer line;
  format_into(line, entry, options_.format, std::chrono::system_clock::now());
  line.push_back('\n');
  append_line({line.data(), line.size()});
}

void AccessLog::append_line(std::string_view line) noexcept {
  const std::size_t half = options_.buffer_bytes / 2;
  bool wake;
  {
    // Held for a memcpy; nothing in here parks (HACKING's rule on
    // std::mutex), so a goroutine may take it.
    std::lock_guard lock(mu_);
    std::size_t before = active_.size();
    if (before + line.size() > options_.buffer_bytes) {
      dropped_.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    active_.append(line);
    // The writer waits for the first line of a batch, then for the batch to
    // fill or its time to pass: wake it at these two moments only.
    wake = before == 0 || (before < half && active_.size() >= half);
  }
  lines_.fetch_add(1, std::memory_order_relaxed);
  if (wake) wake_writer_.notify_one();
}

void AccessLog::writer_loop() {
  std::unique_lock lock(mu_);
  for (;;) {
    wake_writer_.wait(lock, [&] { return stopping_ || !active_.empty(); });
    if (active_.empty()) break;  // stopping, and everything written
    const std::size_t half = options_.buffer_bytes / 2;
    // Let a batch gather (one write(2) for many lines), unless told to hurry.
    wake_writer_.wait_for(lock, options_.flush_interval, [&] {
      return stopping_ || flush_waiters_ > 0 || active_.size() >= half;
    });
    active_.swap(spare_);
    writer_busy_ = true;
    lock.unlock();
    {
      std::lock_guard file(file_mu_);
      const char* p = spare_.data();
      std::size_t left = spare_.size();
      while (left > 0) {
        ssize_t n = ::write(fd_, p, left);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
          write_errors_.fetch_add(1, std::memory_order_relaxed);
          break;  // a full disk or a closed pipe: this batch is lost
        }
        p += n;
        left -= static_cast<std::size_t>(n);
      }
    }
    spare_.clear();
    lock.lock();
    writer_busy_ = false;
    flushed_.notify_all();
  }
  flushed_.notify_all();
}

void AccessLog::flush() {
  std::unique_lock lock(mu_);
  if (active_.empty() && !writer_busy_) return;
  ++flush_waiters_;
  wake_writer_.notify_one();
  flushed_.wait(lock, [&] { return active_.empty() && !writer_busy_; });
  --flush_waiters_;
}

Error AccessLog::reopen() {
  if (!owns_fd_) return {};  // standard output stays what it is
  return off_the_p([&] { return reopen_now(); });
}

Error AccessLog::reopen_now() {
  auto [fd, err] = open_for_append(path_);
  if (err) return err;
  // The lines recorded before the reopen go to the file they were
  // recorded for (the one logrotate moved), as a synchronous log's would.
  flush();
  int old;
  {
    std::lock_guard file(file_mu_);  // waits for a write in progress
    old = fd_;
    fd_ = fd;
  }
  ::close(old);
  return {};
}

std::string AccessLog::format_line(const AccessLogEntry& entry, AccessLogFormat format,
                                   std::chrono::system_clock::time_point when) {
  LineBuffer line;
  format_into(line, entry, format, when);
  return std::string(line.data(), line.size());
}

}  // namespace gofer::http

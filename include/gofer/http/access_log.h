// gofer::http::AccessLog — one line per response, the way nginx and Apache
// write them, without ever blocking a goroutine's thread on the disk:
//
//   auto [log, err] = gofer::http::AccessLog::open("/var/log/gofer/access.log");
//   if (err) …                                  // err.message(): "Permission denied"
//   server.access_log = log;                     // before serve()
//   …
//   (void)log->reopen();                         // on SIGUSR1, after logrotate moved the file
//
// Formats:
//   combined  Apache's Combined Log Format (nginx's "combined"):
//             127.0.0.1 - - [03/Dec/2026:13:55:36 +0000] "GET /hello HTTP/1.1" 200 13 "-"
//             "curl/7.88.1" the request line's bytes and the quoted fields escaped as nginx does:
//             '"' and '\' with a backslash, other bytes outside 0x20–0x7e as \xHH.
//   json      one object a line, every value a JSON string or number:
//             {"time":"2026-12-03T13:55:36.123Z","remote_addr":"127.0.0.1:50012",
//              "method":"GET","uri":"/hello","proto":"HTTP/1.1","host":"…",
//              "status":200,"body_bytes":13,"duration_us":41,"referer":"",
//              "user_agent":"curl/7.88.1"}
//             control characters and bytes outside ASCII as \u00XX, so that
//             every line is valid JSON whatever the client sent.
//
// How a line gets to the disk: the server formats it on the connection's
// goroutine (into a stack buffer, no allocation) and appends it to a
// bounded in-memory buffer under a lock held for a memcpy. A writer thread
// of the log's own swaps the buffer out and write(2)s it — at the latest
// flush_interval after the first line, sooner when the buffer is half full.
// When the disk cannot keep up and the buffer is full, lines are dropped
// and counted (dropped()), never waited for: a slow disk costs log lines,
// not requests. The buffer costs 2 × buffer_bytes.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

#include "gofer/error.h"
#include "gofer/net.h"

namespace gofer::http {

enum class AccessLogFormat { combined, json };

struct AccessLogOptions {
  AccessLogFormat format = AccessLogFormat::combined;
  std::size_t buffer_bytes = 1 << 20;             // lines waiting for the writer; beyond: dropped
  std::chrono::milliseconds flush_interval{100};  // the longest a line waits
};

// What the server tells the log about one response. Views: valid for the
// call only.
struct AccessLogEntry {
  std::string_view remote_addr;  // "127.0.0.1:50012" (Go's RemoteAddr)
  std::string_view method;       // empty for a request that could not be parsed
  std::string_view target;       // as sent
  std::string_view proto;        // "HTTP/1.1"
  std::string_view host;
  std::string_view referer;
  std::string_view user_agent;
  int status = 0;
  std::uint64_t body_bytes = 0;          // response body bytes sent
  std::chrono::nanoseconds duration{0};  // from a complete head to the response sent
};

class AccessLog {
 public:
  // Opens `path` for appending (created 0644 if missing), or standard
  // output for "-"; the error is open(2)'s (std::errc values).
  static Result<std::shared_ptr<AccessLog>> open(std::string path, AccessLogOptions options = {});

  // Writes what is still buffered, then stops the writer thread.
  ~AccessLog();
  AccessLog(const AccessLog&) = delete;
  AccessLog& operator=(const AccessLog&) = delete;

  // Opens the path again and writes to the new file from now on (what
  // logrotate's postrotate or `kill -USR1` asks for, as with nginx): every
  // line not yet written when it returns goes to the new file. If the path cannot be
  // opened, the old file stays in use and the error says why. Standard
  // output is not reopened. Any thread or goroutine; the open and the swap
  // run inside gofer::blocking() when called from a goroutine.
  [[nodiscard]] Error reopen();

  // The server's call, once per response; any thread or goroutine, never
  // waits for the disk.
  void record(const AccessLogEntry& entry) noexcept;
  // Appends one formatted line (ending in '\n') as record() does.
  void append_line(std::string_view line) noexcept;

  // Returns once every line recorded before the call has been handed to
  // write(2) (tests, and a program about to exit). Blocks the thread.
  void flush();

  const std::string& path() const noexcept { return path_; }
  AccessLogFormat format() const noexcept { return options_.format; }
  std::uint64_t lines() const noexcept { return lines_.load(std::memory_order_relaxed); }
  std::uint64_t dropped() const noexcept { return dropped_.load(std::memory_order_relaxed); }
  // write(2) failures (a full disk): the lines of that batch are lost.
  std::uint64_t write_errors() const noexcept {
    return write_errors_.load(std::memory_order_relaxed);
  }

  // Formats `entry` as the log's format would, without the newline
  // (tests, and programs that log elsewhere).
  static std::string format_line(const AccessLogEntry& entry, AccessLogFormat format,
                                 std::chrono::system_clock::time_point when);

  struct Private;  // construction goes through open()
  AccessLog(Private, std::string path, int fd, bool owns_fd, AccessLogOptions options);

 private:
  void writer_loop();
  [[nodiscard]] Error reopen_now();

  const std::string path_;
  const AccessLogOptions options_;

  // The file: changed by reopen under file_mu_, which the writer holds
  // while it writes. (A std::mutex: only threads outside any P wait on it —
  // the writer, and reopen inside blocking().)
  std::mutex file_mu_;
  int fd_;
  bool owns_fd_;

  // Lines waiting: appended by record() under mu_, swapped out by the
  // writer. Invariant: active_.size() <= options_.buffer_bytes.
  std::mutex mu_;
  std::condition_variable wake_writer_;
  std::condition_variable flushed_;
  std::string active_;
  std::string spare_;  // the writer's, outside mu_
  bool stopping_ = false;
  int flush_waiters_ = 0;     // callers of flush() waiting (guarded by mu_)
  bool writer_busy_ = false;  // the writer holds a batch in spare_ (guarded by mu_)

  std::atomic<std::uint64_t> lines_{0};
  std::atomic<std::uint64_t> dropped_{0};
  std::atomic<std::uint64_t> write_errors_{0};
  std::thread writer_;
};

}  // namespace gofer::http

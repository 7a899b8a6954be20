// Reader::read_form (Go's ReadForm), the budget that bounds it, and where
// file contents live: in memory, or past the budget in an unnamed
// temporary file.
//
// The budget follows Go: max_memory bytes of file content may stay in
// memory; values, names and headers have max_memory + 10 MiB between them
// (each name and file costing a fixed bookkeeping share as well). A part
// beyond it fails the whole form with message_too_large, as does the
// 1001st part. File I/O blocks a thread, so it runs inside
// gofer::blocking() when called on a goroutine.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>

#include "gofer/multipart.h"
#include "gofer/runtime.h"

namespace gofer::multipart {

// One temporary file, already unlinked: it disappears with its fd.
class TempFile {
 public:
  explicit TempFile(int fd) noexcept : fd_(fd) {}
  ~TempFile() { ::close(fd_); }
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;
  int fd() const noexcept { return fd_; }

 private:
  int fd_;
};

namespace {

constexpr std::int64_t kValueBudgetExtra = 10 << 20;  // Go: maxMemory + 10 MiB
constexpr std::int64_t kMapEntryOverhead = 200;
constexpr std::int64_t kFileHeaderSize = 100;

template <class F>
auto maybe_blocking(F&& f) {
  if (gofer::in_goroutine()) return gofer::blocking(std::forward<F>(f));
  return f();
}

Error errno_error(int e) {
  return Error(e, std::system_category());
}

Result<std::shared_ptr<TempFile>> create_temp_file() {
  return maybe_blocking([]() -> Result<std::shared_ptr<TempFile>> {
    const char* dir = std::getenv("TMPDIR");
    std::string d = dir != nullptr && *dir != '\0' ? dir : "/tmp";
    int fd = ::open(d.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    if (fd < 0) {
      // A file system without O_TMPFILE: a named file, unlinked at once.
      std::string path = d + "/multipart-XXXXXX";
      fd = ::mkostemp(path.data(), O_CLOEXEC);
      if (fd < 0) return {nullptr, errno_error(errno)};
      ::unlink(path.c_str());
    }
    return {std::make_shared<TempFile>(fd), {}};
  });
}

Error write_all(int fd, std::string_view data) {
  return maybe_blocking([&]() -> Error {
    while (!data.empty()) {
      ssize_t n = ::write(fd, data.data(), data.size());
      if (n < 0) {
        if (errno == EINTR) continue;
        return errno_error(errno);
      }
      data.remove_prefix(static_cast<std::size_t>(n));
    }
    return {};
  });
}

std::int64_t header_bytes(const Header& h) {
  std::int64_t n = 0;
  for (const Header::Field& f : h.fields()) {
    n += static_cast<std::int64_t>(f.name.size() + f.value.size()) + kMapEntryOverhead;
  }
  return n;
}

// Appends up to `limit` bytes of the part to `out`; the count read.
Result<std::int64_t> read_up_to(Part& p, std::string& out, std::int64_t limit) {
  char buf[32 << 10];
  std::int64_t total = 0;
  while (total < limit) {
    std::size_t want = static_cast<std::size_t>(std::min<std::int64_t>(sizeof buf, limit - total));
    auto [n, err] = p.read(std::span<char>(buf, want));
    out.append(buf, n);
    total += static_cast<std::int64_t>(n);
    if (err == net::errc::eof) break;
    if (err) return {total, err};
  }
  return {total, {}};
}

}  // namespace

Result<std::size_t> File::read(std::span<char> buf) {
  auto [n, err] = read_at(buf, pos_);
  pos_ += static_cast<std::int64_t>(n);
  return {n, err};
}

Result<std::size_t> File::read_at(std::span<char> buf, std::int64_t offset) const {
  if (offset >= size_) return {0, net::errc::eof};
  std::size_t want = static_cast<std::size_t>(
      std::min<std::int64_t>(static_cast<std::int64_t>(buf.size()), size_ - offset));
  if (memory_) {
    std::memcpy(buf.data(), memory_->data() + offset, want);
    return {want, {}};
  }
  return maybe_blocking([&]() -> Result<std::size_t> {
    for (;;) {
      ssize_t n = ::pread(disk_->fd(), buf.data(), want, offset);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return {0, errno_error(errno)};
      if (n == 0) return {0, io::errc::unexpected_eof};
      return {static_cast<std::size_t>(n), {}};
    }
  });
}

File FileHeader::open() const {
  File f;
  f.memory_ = memory_;
  f.disk_ = disk_;
  f.size_ = size;
  return f;
}

Result<Form> Reader::read_form(std::int64_t max_memory) {
  Form form;
  std::int64_t file_budget = max_memory == INT64_MAX ? INT64_MAX - 1 : max_memory;
  std::int64_t budget =
      max_memory > INT64_MAX - kValueBudgetExtra ? INT64_MAX : max_memory + kValueBudgetExtra;
  if (budget <= 0) budget = max_memory < 0 ? 0 : INT64_MAX;
  std::size_t parts_left = limits_.max_parts;
  std::size_t fields_left = limits_.max_header_fields;
  const Limits saved = limits_;
  struct RestoreLimits {
    Reader& r;
    Limits saved;
    ~RestoreLimits() { r.limits_ = saved; }
  } restore{*this, saved};

  for (;;) {
    // A part's header may use what is left of the budget, at most.
    limits_.max_header_bytes = static_cast<std::size_t>(
        std::min<std::int64_t>(budget, static_cast<std::int64_t>(saved.max_header_bytes)));
    limits_.max_header_fields = fields_left;
    auto [p, err] = next_part();
    if (err == net::errc::eof) break;
    if (err == errc::header_too_large) return {{}, errc::message_too_large};
    if (err) return {{}, err};
    if (parts_left == 0) return {{}, errc::message_too_large};
    --parts_left;
    std::string name(p->form_name());
    if (name.empty()) continue;
    std::string filename = p->file_name();
    budget -= static_cast<std::int64_t>(name.size()) + kMapEntryOverhead;
    if (budget < 0) return {{}, errc::message_too_large};

    std::string content;
    if (filename.empty()) {
      auto [n, rerr] = read_up_to(*p, content, budget + 1);
      if (rerr) return {{}, rerr};
      budget -= n;
      if (budget < 0) return {{}, errc::message_too_large};
      form.value.add(name, content);
      continue;
    }

    budget -= header_bytes(p->header()) + kMapEntryOverhead + kFileHeaderSize;
    if (budget < 0) return {{}, errc::message_too_large};
    fields_left -= std::min(fields_left, p->header().size());
    FileHeader fh;
    fh.filename = std::move(filename);
    fh.header = p->header();
    auto [n, rerr] = read_up_to(*p, content, file_budget + 1);
    if (rerr) return {{}, rerr};
    if (n > file_budget) {
      auto [file, ferr] = create_temp_file();
      if (ferr) return {{}, ferr};
      if (Error werr = write_all(file->fd(), content)) return {{}, werr};
      std::int64_t size = n;
      char buf[32 << 10];
      for (;;) {
        auto [m, perr] = p->read(buf);
        if (m > 0) {
          if (Error werr = write_all(file->fd(), std::string_view(buf, m))) return {{}, werr};
          size += static_cast<std::int64_t>(m);
        }
        if (perr == net::errc::eof) break;
        if (perr) return {{}, perr};
      }
      fh.size = size;
      fh.disk_ = std::move(file);
    } else {
      fh.size = n;
      file_budget -= n;
      budget -= n;
      fh.memory_ = std::make_shared<const std::string>(std::move(content));
    }
    form.file[name].push_back(std::move(fh));
  }
  return {std::move(form), {}};
}

}  // namespace gofer::multipart

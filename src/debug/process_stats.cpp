#include "debug/process_stats.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>

namespace gofer::debug::detail {
namespace {

double seconds(const timeval& tv) {
  return static_cast<double>(tv.tv_sec) + tv.tv_usec * 1e-6;
}

// The second field of /proc/self/statm: resident pages.
std::uint64_t resident_bytes() noexcept {
  int fd = ::open("/proc/self/statm", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  char buf[128];
  ssize_t n = ::read(fd, buf, sizeof buf - 1);
  ::close(fd);
  if (n <= 0) return 0;
  buf[n] = '\0';
  char* rest = nullptr;
  std::strtoull(buf, &rest, 10);  // total program size
  std::uint64_t pages = std::strtoull(rest, nullptr, 10);
  return pages * static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE));
}

int count_fds() noexcept {
  // Since Linux 6.2 the size of /proc/self/fd is the number of open fds: one
  // stat instead of a listing of up to 20,000 entries.
  struct stat st {};
  if (::stat("/proc/self/fd", &st) == 0 && st.st_size > 0) return static_cast<int>(st.st_size);
  DIR* dir = ::opendir("/proc/self/fd");
  if (dir == nullptr) return -1;
  int n = 0;
  while (dirent* e = ::readdir(dir)) {
    if (e->d_name[0] != '.') ++n;
  }
  ::closedir(dir);
  return n - 1;  // the listing's own fd
}

}  // namespace

ProcessStats process_stats() noexcept {
  ProcessStats out;
  rusage ru{};
  if (::getrusage(RUSAGE_SELF, &ru) == 0) {
    out.user_seconds = seconds(ru.ru_utime);
    out.system_seconds = seconds(ru.ru_stime);
  }
  out.rss_bytes = resident_bytes();
  out.open_fds = count_fds();
  return out;
}

}  // namespace gofer::debug::detail

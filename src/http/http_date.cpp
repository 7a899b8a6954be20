// HTTP dates (RFC 9110 §5.6.7), formatted and parsed without the C locale.
#include "http/http_date.h"

#include <chrono>
#include <string>

namespace gofer::http::detail {
namespace {
constexpr std::string_view kDayNames[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
constexpr std::string_view kMonthNames[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

constexpr std::string_view kLongDays[] = {"Sunday",   "Monday", "Tuesday", "Wednesday",
                                          "Thursday", "Friday", "Saturday"};

// A cursor over a date string; every method returns false on a mismatch.
struct DateScanner {
  std::string_view s;

  bool lit(std::string_view l) {
    if (!s.starts_with(l)) return false;
    s.remove_prefix(l.size());
    return true;
  }
  bool num(std::size_t digits, int& out) {
    if (s.size() < digits) return false;
    out = 0;
    for (std::size_t i = 0; i < digits; ++i) {
      if (s[i] < '0' || s[i] > '9') return false;
      out = out * 10 + (s[i] - '0');
    }
    s.remove_prefix(digits);
    return true;
  }
  template <std::size_t N>
  bool name(const std::string_view (&names)[N], int& out) {
    for (std::size_t i = 0; i < N; ++i) {
      if (s.starts_with(names[i])) {
        s.remove_prefix(names[i].size());
        out = static_cast<int>(i);
        return true;
      }
    }
    return false;
  }
  bool clock(int& h, int& m, int& sec) {
    return num(2, h) && lit(":") && num(2, m) && lit(":") && num(2, sec);
  }
};

std::optional<std::int64_t> to_unix(int y, int mon, int d, int h, int m, int sec) {
  using namespace std::chrono;
  year_month_day ymd{year(y), month(static_cast<unsigned>(mon + 1)), day(static_cast<unsigned>(d))};
  if (!ymd.ok() || h > 23 || m > 59 || sec > 60) return std::nullopt;
  return sys_days(ymd).time_since_epoch() / seconds(1) + h * 3600 + m * 60 + sec;
}
}  // namespace

// "Sun, 06 Nov 1994 08:49:37 GMT" (IMF-fixdate), without the locale.
std::string format_http_time(std::int64_t unix_seconds) {
  using namespace std::chrono;
  sys_seconds t{seconds(unix_seconds)};
  sys_days day = floor<days>(t);
  year_month_day ymd(day);
  hh_mm_ss hms(t - day);
  char buf[40];
  auto two = [](char* p, unsigned v) {
    p[0] = static_cast<char>('0' + v / 10);
    p[1] = static_cast<char>('0' + v % 10);
  };
  std::string out;
  out.reserve(29);
  out += kDayNames[weekday(day).c_encoding()];
  out += ", ";
  two(buf, static_cast<unsigned>(ymd.day()));
  out.append(buf, 2);
  out += ' ';
  out += kMonthNames[static_cast<unsigned>(ymd.month()) - 1];
  out += ' ';
  out += std::to_string(static_cast<int>(ymd.year()));
  out += ' ';
  two(buf, static_cast<unsigned>(hms.hours().count()));
  buf[2] = ':';
  two(buf + 3, static_cast<unsigned>(hms.minutes().count()));
  buf[5] = ':';
  two(buf + 6, static_cast<unsigned>(hms.seconds().count()));
  out.append(buf, 8);
  out += " GMT";
  return out;
}

std::optional<std::int64_t> parse_http_time(std::string_view text) {
  int wd, d, mon, y, h, m, sec;
  DateScanner a{text};
  if (a.name(kDayNames, wd) && a.lit(", ") && a.num(2, d) && a.lit(" ") &&
      a.name(kMonthNames, mon) && a.lit(" ") && a.num(4, y) && a.lit(" ") && a.clock(h, m, sec) &&
      a.lit(" GMT") && a.s.empty()) {
    return to_unix(y, mon, d, h, m, sec);
  }
  DateScanner b{text};
  if (b.name(kLongDays, wd) && b.lit(", ") && b.num(2, d) && b.lit("-") &&
      b.name(kMonthNames, mon) && b.lit("-") && b.num(2, y) && b.lit(" ") && b.clock(h, m, sec) &&
      b.lit(" GMT") && b.s.empty()) {
    return to_unix(y < 69 ? 2000 + y : 1900 + y, mon, d, h, m, sec);  // Go's two-digit-year rule
  }
  DateScanner c{text};
  if (c.name(kDayNames, wd) && c.lit(" ") && c.name(kMonthNames, mon) && c.lit(" ")) {
    if (!c.lit(" ") && !c.s.empty() && c.s[0] >= '1' && c.s[0] <= '3') {
      if (!c.num(2, d)) return std::nullopt;
    } else if (!c.num(1, d)) {
      return std::nullopt;
    }
    if (c.lit(" ") && c.clock(h, m, sec) && c.lit(" ") && c.num(4, y) && c.s.empty()) {
      return to_unix(y, mon, d, h, m, sec);
    }
  }
  return std::nullopt;
}

}  // namespace gofer::http::detail

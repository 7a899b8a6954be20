// HTTP dates (RFC 9110 §5.6.7), formatted without the C locale.
#include "http/http_date.h"

#include <chrono>
#include <string>

namespace gofer::http::detail {
namespace {
constexpr std::string_view kDayNames[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
constexpr std::string_view kMonthNames[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
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


}  // namespace gofer::http::detail

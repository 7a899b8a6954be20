// Values and the query string (application/x-www-form-urlencoded).
#include <string>

#include "gofer/url.h"
#include "url/escape.h"

namespace gofer::url {

std::string_view Values::get(std::string_view key) const {
  auto it = map_.find(key);
  if (it == map_.end() || it->second.empty()) return {};
  return it->second.front();
}

const std::vector<std::string>& Values::values(std::string_view key) const {
  static const std::vector<std::string> kNone;
  auto it = map_.find(key);
  return it == map_.end() ? kNone : it->second;
}

void Values::set(std::string_view key, std::string_view value) {
  auto it = map_.find(key);
  if (it == map_.end()) it = map_.emplace(std::string(key), std::vector<std::string>{}).first;
  it->second.assign(1, std::string(value));
}

void Values::add(std::string_view key, std::string_view value) {
  auto it = map_.find(key);
  if (it == map_.end()) it = map_.emplace(std::string(key), std::vector<std::string>{}).first;
  it->second.emplace_back(value);
}

void Values::del(std::string_view key) {
  auto it = map_.find(key);
  if (it != map_.end()) map_.erase(it);
}

bool Values::has(std::string_view key) const {
  return map_.find(key) != map_.end();
}

std::string Values::encode() const {
  std::string out;
  for (const auto& [key, values] : map_) {  // std::map: sorted by key, bytewise
    const std::string escaped_key = query_escape(key);
    for (const std::string& v : values) {
      if (!out.empty()) out.push_back('&');
      out += escaped_key;
      out.push_back('=');
      out += query_escape(v);
    }
  }
  return out;
}

Result<Values> parse_query(std::string_view query) {
  Result<Values> result;
  auto first_error = [&result](Error e) {
    if (!result.err) result.err = std::move(e);
  };
  while (!query.empty()) {
    const std::size_t amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
    // Go 1.17 stopped splitting at ';': a proxy that still does would see
    // other parameters than we do. As in Go, this error wins over a bad
    // escape, so a caller learns of the one that changes the meaning.
    if (pair.find(';') != std::string_view::npos) {
      result.err = {{}, {}, errc::semicolon_in_query, {}};
      continue;
    }
    if (pair.empty()) continue;
    const std::size_t eq = pair.find('=');
    auto key = query_unescape(pair.substr(0, eq));
    if (key.err) {
      first_error(std::move(key.err));
      continue;
    }
    auto value =
        query_unescape(eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1));
    if (value.err) {
      first_error(std::move(value.err));
      continue;
    }
    result.value.add(key.value, value.value);
  }
  return result;
}

std::string query_escape(std::string_view s) {
  return detail::escape(s, detail::Encoding::query_component);
}

Result<std::string> query_unescape(std::string_view s) {
  return detail::unescape(s, detail::Encoding::query_component);
}

std::string path_escape(std::string_view s) {
  return detail::escape(s, detail::Encoding::path_segment);
}

Result<std::string> path_unescape(std::string_view s) {
  return detail::unescape(s, detail::Encoding::path_segment);
}

}  // namespace gofer::url

// MIME types by file extension: a built-in table of the types a web site
// serves, so that answers do not depend on the host's /etc/mime.types (Go
// reads those too; a server whose Content-Types change with the machine it
// runs on is hard to reason about). Textual types carry charset=utf-8, as in
// Go's table.
#include <algorithm>
#include <array>
#include <string_view>

#include "gofer/http/file_server.h"

namespace gofer::http {

namespace {

struct MimeType {
  std::string_view ext;  // lowercase, with the dot
  std::string_view type;
};

// Sorted by extension, for the binary search.
constexpr std::array kTypes = std::to_array<MimeType>({
    {".aac", "audio/aac"},
    {".apng", "image/apng"},
    {".avif", "image/avif"},
    {".bmp", "image/bmp"},
    {".css", "text/css; charset=utf-8"},
    {".csv", "text/csv; charset=utf-8"},
    {".flac", "audio/flac"},
    {".gif", "image/gif"},
    {".gz", "application/gzip"},
    {".htm", "text/html; charset=utf-8"},
    {".html", "text/html; charset=utf-8"},
    {".ico", "image/vnd.microsoft.icon"},
    {".ics", "text/calendar; charset=utf-8"},
    {".jpeg", "image/jpeg"},
    {".jpg", "image/jpeg"},
    {".js", "text/javascript; charset=utf-8"},
    {".json", "application/json"},
    {".jsonld", "application/ld+json"},
    {".m4a", "audio/mp4"},
    {".map", "application/json"},
    {".md", "text/markdown; charset=utf-8"},
    {".mjs", "text/javascript; charset=utf-8"},
    {".mp3", "audio/mpeg"},
    {".mp4", "video/mp4"},
    {".oga", "audio/ogg"},
    {".ogg", "audio/ogg"},
    {".ogv", "video/ogg"},
    {".opus", "audio/opus"},
    {".otf", "font/otf"},
    {".pdf", "application/pdf"},
    {".png", "image/png"},
    {".rss", "application/rss+xml"},
    {".svg", "image/svg+xml"},
    {".tar", "application/x-tar"},
    {".tif", "image/tiff"},
    {".tiff", "image/tiff"},
    {".ttf", "font/ttf"},
    {".txt", "text/plain; charset=utf-8"},
    {".wasm", "application/wasm"},
    {".wav", "audio/wav"},
    {".webm", "video/webm"},
    {".webmanifest", "application/manifest+json"},
    {".webp", "image/webp"},
    {".woff", "font/woff"},
    {".woff2", "font/woff2"},
    {".xml", "text/xml; charset=utf-8"},
    {".zip", "application/zip"},
});

static_assert(std::is_sorted(kTypes.begin(), kTypes.end(),
                             [](const MimeType& a, const MimeType& b) { return a.ext < b.ext; }));

}  // namespace

std::string_view type_by_extension(std::string_view ext) {
  char lower[16];
  if (ext.size() < 2 || ext.size() > sizeof lower || ext.front() != '.') return {};
  for (std::size_t i = 0; i < ext.size(); ++i) {
    char c = ext[i];
    lower[i] = c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
  }
  std::string_view key(lower, ext.size());
  auto it = std::lower_bound(kTypes.begin(), kTypes.end(), key,
                             [](const MimeType& t, std::string_view k) { return t.ext < k; });
  return it != kTypes.end() && it->ext == key ? it->type : std::string_view();
}

}  // namespace gofer::http

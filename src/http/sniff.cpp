#include "http/sniff.h"

#include "gofer/http/parser.h"

namespace gofer::http::detail {
namespace {

bool is_ws(unsigned char c) { return c == '\t' || c == '\n' || c == '\x0c' || c == '\r' || c == ' '; }

// "<TAG" followed by a space or '>' (case-insensitive), as the sniffing
// algorithm's HTML signatures require.
bool html_tag(std::string_view d, std::string_view tag) {
  if (d.size() < tag.size() + 1) return false;
  if (!equal_fold(d.substr(0, tag.size()), tag)) return false;
  char next = d[tag.size()];
  return next == ' ' || next == '>';
}

}  // namespace

std::string_view detect_content_type(std::string_view data) {
  if (data.size() > 512) data = data.substr(0, 512);
  std::string_view d = data;
  while (!d.empty() && is_ws(static_cast<unsigned char>(d[0]))) d.remove_prefix(1);
  static constexpr std::string_view kHtml[] = {
      "<!DOCTYPE HTML", "<HTML", "<HEAD", "<SCRIPT", "<IFRAME", "<H1", "<DIV", "<FONT", "<TABLE",
      "<A", "<STYLE", "<TITLE", "<B", "<BODY", "<BR", "<P", "<!--"};
  for (std::string_view tag : kHtml) {
    if (html_tag(d, tag)) return "text/html; charset=utf-8";
  }
  if (d.starts_with("<?xml")) return "text/xml; charset=utf-8";
  if (data.starts_with("%PDF-")) return "application/pdf";
  if (data.starts_with("\x89PNG\x0D\x0A\x1A\x0A")) return "image/png";
  if (data.starts_with("GIF87a") || data.starts_with("GIF89a")) return "image/gif";
  if (data.starts_with("\xFF\xD8\xFF")) return "image/jpeg";
  if (data.starts_with(std::string_view("\x00asm", 4))) return "application/wasm";
  for (char ch : data) {
    unsigned char c = static_cast<unsigned char>(ch);
    if (c <= 0x08 || c == 0x0B || (c >= 0x0E && c <= 0x1A) || (c >= 0x1C && c <= 0x1F)) {
      return "application/octet-stream";
    }
  }
  return "text/plain; charset=utf-8";
}

}  // namespace gofer::http::detail

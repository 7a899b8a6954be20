# Builds the live page: live_page.html with its markers replaced by the
# stylesheets, the scripts and uPlot's license, written as a C++ byte array
# (kLivePage) so that the binary serves it with no file and no network.
#   cmake -DPAGE=… -DPAGE_CSS=… -DPAGE_JS=… -DUPLOT_CSS=… -DUPLOT_JS=… -DUPLOT_LICENSE=… -DOUT=… -P embed_page.cmake
foreach(var PAGE PAGE_CSS PAGE_JS UPLOT_CSS UPLOT_JS UPLOT_LICENSE OUT)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "embed_page.cmake: -D${var}= is missing")
  endif()
endforeach()

file(READ "${PAGE}" page)
foreach(part page_css page_js uplot_css uplot_js uplot_license)
  string(TOUPPER "${part}" var)
  file(READ "${${var}}" text)
  # Inlined text must not end the element it is inlined into.
  if(part MATCHES "_js$" AND text MATCHES "</[sS][cC][rR][iI][pP][tT]")
    message(FATAL_ERROR "${${var}} contains </script: it cannot be inlined in the page")
  elseif(part MATCHES "_css$" AND text MATCHES "</[sS][tT][yY][lL][eE]")
    message(FATAL_ERROR "${${var}} contains </style: it cannot be inlined in the page")
  elseif(part STREQUAL "uplot_license" AND text MATCHES "-->")
    message(FATAL_ERROR "${${var}} contains -->: it cannot go in an HTML comment")
  endif()
  string(FIND "${page}" "/*@${part}@*/" at)
  if(at EQUAL -1)
    message(FATAL_ERROR "${PAGE} has no /*@${part}@*/ marker")
  endif()
  string(REPLACE "/*@${part}@*/" "${text}" page "${page}")
endforeach()

# Bytes, not a string literal: no delimiter to collide with, no length limit.
file(WRITE "${OUT}.page" "${page}")
file(READ "${OUT}.page" hex HEX)
file(REMOVE "${OUT}.page")
string(LENGTH "${hex}" hex_length)
math(EXPR size "${hex_length} / 2")
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "'\\\\x\\1'," bytes "${hex}")
string(REGEX REPLACE "(('\\\\x[0-9a-f][0-9a-f]',){24})" "\\1\n" bytes "${bytes}")
file(WRITE "${OUT}.tmp" "// Generated at build time by src/debug/web/embed_page.cmake from
// src/debug/web/live_page.{html,css,js} and uPlot (npm): do not edit.
#include <string_view>

namespace gofer::debug::detail {
namespace {
constexpr char kBytes[${size}] = {
${bytes}};
}  // namespace

extern const std::string_view kLivePage;
const std::string_view kLivePage(kBytes, sizeof kBytes);

}  // namespace gofer::debug::detail
")
file(RENAME "${OUT}.tmp" "${OUT}")

// Field-value helpers the server shares with the parser.
#include "syntax.h"
#include "gofer/http/parser.h"

namespace gofer::http {

// #element lists (RFC 9110 §5.6.1): elements separated by commas, with
// optional whitespace around them; a recipient skips empty elements.
bool token_list_contains(std::string_view list, std::string_view token) {
  size_t i = 0;
  while (i < list.size()) {
    size_t comma = list.find(',', i);
    if (comma == std::string_view::npos) comma = list.size();
    size_t b = i;
    size_t e = comma;
    while (b < e && syntax::is_ows(list[b])) ++b;
    while (e > b && syntax::is_ows(list[e - 1])) --e;
    if (equal_fold(list.substr(b, e - b), token)) return true;
    i = comma + 1;
  }
  return false;
}

}  // namespace gofer::http

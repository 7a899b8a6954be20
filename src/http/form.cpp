// application/x-www-form-urlencoded bodies: recognising them and merging
// their values with the query's, as Go's Request.ParseForm does.
#include "gofer/http/form.h"

#include "gofer/http/parser.h"
#include "syntax.h"

namespace gofer::http {

bool is_form_urlencoded(std::string_view content_type) {
  // media-type = type "/" subtype *( OWS ";" OWS parameter ) (RFC 9110 §8.3.1)
  std::string_view media_type = content_type.substr(0, content_type.find(';'));
  while (!media_type.empty() && syntax::is_ows(media_type.front())) media_type.remove_prefix(1);
  while (!media_type.empty() && syntax::is_ows(media_type.back())) media_type.remove_suffix(1);
  return equal_fold(media_type, "application/x-www-form-urlencoded");
}

url::Values merge_form(const url::Values& post, const url::Values& query) {
  url::Values form = post;
  for (const auto& [key, values] : query) {
    for (const std::string& v : values) form.add(key, v);
  }
  return form;
}

}  // namespace gofer::http

// HTML form data in application/x-www-form-urlencoded, the pure half of Go's
// Request.ParseForm: deciding whether a body is such a form, reading it into
// url::Values, and merging it with the URL's query as Go's Request.Form does.
// Reading the body (and bounding it: Go stops at 10 MB) is the server's job.
//
//   if (is_form_urlencoded(r.header("Content-Type"))) {
//     auto [post, err] = gofer::url::parse_query(body);   // every value of a key
//     url::Values form = merge_form(post, r.url().query());
//   }
#pragma once

#include <string_view>

#include "gofer/url.h"

namespace gofer::http {

// Go's limit on a urlencoded body read by ParseForm (maxFormSize).
inline constexpr std::size_t kMaxFormBytes = 10 << 20;

// Whether a Content-Type value names application/x-www-form-urlencoded:
// the media type compared without regard to case, parameters ignored
// ("application/x-www-form-urlencoded; charset=UTF-8"). A missing
// Content-Type is not a form (Go reads it as application/octet-stream).
bool is_form_urlencoded(std::string_view content_type);

// Go's Request.Form: for each key, the body's values first, then the URL
// query's.
url::Values merge_form(const url::Values& post, const url::Values& query);

}  // namespace gofer::http

// What a Request parses on first use (server.h: url(), forms, multipart).
// Private to the http layer. A Request holds it behind a pointer that is
// null until a handler asks, so a request that asks for none of it costs
// one null check at its end.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "gofer/http/server.h"
#include "gofer/multipart.h"
#include "gofer/url.h"

namespace gofer::http::detail {

struct RequestExtras {
  // url(): parsed from these views of the request; made again when the
  // handler (or strip_prefix) changed them.
  std::optional<url::URL> url;
  std::string_view url_path, url_query;

  std::optional<url::Values> form;       // parse_form()
  std::optional<url::Values> post_form;  // parse_form()
  Error parse_form_err;                  // kept: a second parse_form returns it
  std::optional<multipart::Form> multipart_form;
  // multipart_reader(): the body read part by part (never copied by clone).
  std::unique_ptr<multipart::Reader> multipart_reader;
  bool multipart_by_reader = false;

  RequestExtras() = default;
  // A copy for clone(): everything but the streaming reader.
  RequestExtras(const RequestExtras& o)
      : url(o.url),
        form(o.form),
        post_form(o.post_form),
        parse_form_err(o.parse_form_err),
        multipart_form(o.multipart_form),
        multipart_by_reader(o.multipart_by_reader) {}
};

}  // namespace gofer::http::detail

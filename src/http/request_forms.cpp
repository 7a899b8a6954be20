// What a Request parses for a handler on first use, as Go's Request does:
// the URL, urlencoded and multipart forms, cookies; and clone(), the copy
// that owns its bytes.
#include <algorithm>

#include "gofer/http/form.h"
#include "gofer/io.h"
#include "gofer/mime.h"
#include "http/request_access.h"
#include "http/request_copy.h"
#include "http/request_extras.h"

namespace gofer::http {
namespace {

// Go's defaultMaxMemory, what FormValue and FormFile parse with.
constexpr std::int64_t kDefaultMaxMemory = 32 << 20;

bool has_form_body_method(std::string_view method) {
  return method == "POST" || method == "PUT" || method == "PATCH";
}

// Reads nothing: the body of a clone.
class EmptyBody final : public Body {
 public:
  Result<std::size_t> read(std::span<char>) override { return {0, net::errc::eof}; }
};

// A clone and the bytes its views point to, in one allocation.
struct OwnedRequest {
  detail::RequestStorage storage;
  Request request;
  EmptyBody body;
};

const url::Values& empty_values() {
  static const url::Values empty;
  return empty;
}

}  // namespace

Request::Request() = default;
Request::~Request() = default;

detail::RequestExtras& Request::extras() const {
  if (!extras_) extras_ = std::make_unique<detail::RequestExtras>();
  return *extras_;
}

void detail::RequestAccess::drop_extras(Request& r) noexcept {
  r.extras_.reset();
}

void detail::RequestAccess::copy_extras(const Request& from, Request& to) {
  if (from.extras_) to.extras_ = std::make_unique<RequestExtras>(*from.extras_);
}

const url::URL& Request::url() const {
  detail::RequestExtras& x = extras();
  auto same = [](std::string_view a, std::string_view b) {
    return a.data() == b.data() && a.size() == b.size();
  };
  if (x.url && same(x.url_path, path) && same(x.url_query, raw_query)) return *x.url;
  std::string origin(path);
  if (!raw_query.empty()) {
    origin += '?';
    origin += raw_query;
  }
  auto [u, err] = url::parse_request_uri(origin);
  if (err) {
    // A target the parser let through but Go's ParseRequestURI refuses:
    // keep it as sent rather than fail (the handler may still route it).
    u = url::URL{};
    u.path = std::string(path);
    u.raw_query = std::string(raw_query);
  }
  if (!target.empty() && target[0] != '/' && target != "*") {
    // Absolute form: the scheme and authority come from the target.
    if (auto [abs, aerr] = url::parse_request_uri(target); !aerr) {
      u.scheme = std::move(abs.scheme);
      u.host = std::move(abs.host);
      u.user = std::move(abs.user);
    }
  }
  x.url = std::move(u);
  x.url_path = path;
  x.url_query = raw_query;
  return *x.url;
}

Error Request::parse_form() {
  detail::RequestExtras& x = extras();
  if (x.form) return x.parse_form_err;
  Error err;
  url::Values post;
  std::string_view content_type = header("Content-Type");
  if (has_form_body_method(method) && !content_type.empty()) {
    auto [mt, merr] = mime::parse_media_type(content_type);
    if (merr) {
      err = merr;
    } else if (mt.type == "application/x-www-form-urlencoded") {
      auto [bytes, rerr] = io::read_all(body(), kMaxFormBytes);
      if (rerr == io::errc::too_large) {
        err = errc::post_too_large;
      } else if (rerr) {
        err = rerr;
      } else {
        auto [values, perr] = url::parse_query(bytes);
        post = std::move(values);
        if (perr) err = make_error_code(std::errc::invalid_argument);
      }
    }
  }
  auto [query_values, qerr] = url::parse_query(raw_query);
  if (qerr && !err) err = make_error_code(std::errc::invalid_argument);
  x.form = merge_form(post, query_values);
  x.post_form = std::move(post);
  x.parse_form_err = err;
  return err;
}

const url::Values& Request::form() const {
  return extras_ && extras_->form ? *extras_->form : empty_values();
}

const url::Values& Request::post_form() const {
  return extras_ && extras_->post_form ? *extras_->post_form : empty_values();
}

std::string_view Request::form_value(std::string_view key) {
  if (!extras_ || !extras_->form) (void)parse_multipart_form(kDefaultMaxMemory);  // Go ignores it
  return form().get(key);
}

std::string_view Request::post_form_value(std::string_view key) {
  if (!extras_ || !extras_->post_form) (void)parse_multipart_form(kDefaultMaxMemory);
  return post_form().get(key);
}

namespace {

// Go's multipartReader: the boundary of a multipart/form-data body.
Result<std::string> form_boundary(const Request& r) {
  std::string_view content_type = r.header("Content-Type");
  if (content_type.empty()) return {{}, errc::not_multipart};
  auto [mt, err] = mime::parse_media_type(content_type);
  if (err || mt.type != "multipart/form-data") return {{}, errc::not_multipart};
  auto it = mt.params.find("boundary");
  if (it == mt.params.end()) return {{}, errc::missing_boundary};
  return {it->second, {}};
}

}  // namespace

Error Request::parse_multipart_form(std::int64_t max_memory) {
  detail::RequestExtras& x = extras();
  if (x.multipart_by_reader) return errc::multipart_conflict;
  Error form_err;
  if (!x.form) form_err = parse_form();
  if (x.multipart_form) return {};
  auto [boundary, berr] = form_boundary(*this);
  if (berr) return berr;
  multipart::Reader mr(body(), boundary);
  auto [f, err] = mr.read_form(max_memory);
  if (err) return err;
  for (const auto& [key, values] : f.value) {
    for (const std::string& v : values) {
      x.form->add(key, v);
      x.post_form->add(key, v);
    }
  }
  x.multipart_form = std::move(f);
  return form_err;
}

const multipart::Form* Request::multipart_form() const {
  return extras_ && extras_->multipart_form ? &*extras_->multipart_form : nullptr;
}

Result<multipart::FileHeader> Request::form_file(std::string_view key) {
  detail::RequestExtras& x = extras();
  if (x.multipart_by_reader) return {{}, errc::multipart_conflict};
  if (!x.multipart_form) {
    if (Error err = parse_multipart_form(kDefaultMaxMemory); err && !x.multipart_form) {
      return {{}, err};
    }
  }
  auto it = x.multipart_form->file.find(key);
  if (it == x.multipart_form->file.end() || it->second.empty()) {
    return {{}, multipart::errc::missing_file};
  }
  return {it->second.front(), {}};
}

Result<multipart::Reader*> Request::multipart_reader() {
  detail::RequestExtras& x = extras();
  if (x.multipart_by_reader || x.multipart_form) return {nullptr, errc::multipart_conflict};
  auto [boundary, err] = form_boundary(*this);
  if (err) return {nullptr, err};
  x.multipart_by_reader = true;
  x.multipart_reader = std::make_unique<multipart::Reader>(body(), boundary);
  return {x.multipart_reader.get(), {}};
}

std::optional<Cookie> Request::cookie(std::string_view name) const {
  for (const Header& h : headers) {
    if (!equal_fold(h.name, "Cookie")) continue;
    for (Cookie& c : parse_cookies(h.value)) {
      if (c.name == name) return std::move(c);
    }
  }
  return std::nullopt;
}

std::vector<Cookie> Request::cookies() const {
  std::vector<Cookie> out;
  for (const Header& h : headers) {
    if (!equal_fold(h.name, "Cookie")) continue;
    for (Cookie& c : parse_cookies(h.value)) out.push_back(std::move(c));
  }
  return out;
}

std::shared_ptr<Request> Request::clone() const {
  auto owned = std::make_shared<OwnedRequest>();
  owned->storage.fill(*this, owned->request);
  owned->request.set_body(owned->body);
  return std::shared_ptr<Request>(owned, &owned->request);
}

std::shared_ptr<Request> Request::clone(Context ctx) const {
  std::shared_ptr<Request> r = clone();
  r->set_context(std::move(ctx));
  return r;
}

void set_cookie(ResponseWriter& w, const Cookie& cookie) {
  std::string v = format_set_cookie(cookie);
  if (!v.empty()) w.header().add("Set-Cookie", v);
}

}  // namespace gofer::http

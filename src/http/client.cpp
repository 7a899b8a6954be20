// Client (client.h): redirects and Client::timeout around a RoundTripper;
// new_request, the error values and the default transport.
//
// Client::timeout is a context deadline: execute() derives the request's
// context with it, so that it bounds the dials, the writes, the waits for
// a head and — through the body, which keeps the context's cancel until
// the body ends — the reads of the last response's body.
#include <algorithm>
#include <cctype>
#include <cstring>
#include <mutex>

#include "gofer/http/client.h"
#include "gofer/runtime.h"
#include "http/response_body.h"

namespace gofer::http {
namespace {

class ClientCategory final : public std::error_category {
 public:
  const char* name() const noexcept override { return "gofer.http.client"; }
  std::string message(int ev) const override {
    switch (static_cast<client_errc>(ev)) {
      case client_errc::unsupported_scheme:
        return "unsupported protocol scheme";
      case client_errc::missing_host:
        return "no Host in request URL";
      case client_errc::invalid_request:
        return "invalid request";
      case client_errc::malformed_response:
        return "malformed HTTP response";
      case client_errc::too_many_informational:
        return "too many 1xx informational responses";
      case client_errc::response_header_timeout:
        return "timeout awaiting response headers";
      case client_errc::client_timeout:
        return "context deadline exceeded (Client.Timeout exceeded while awaiting headers)";
      case client_errc::too_many_redirects:
        return "stopped after 10 redirects";
      case client_errc::bad_redirect:
        return "failed to parse Location header";
      case client_errc::use_last_response:
        return "use last response";
      case client_errc::body_closed:
        return "http: read on closed response body";
      case client_errc::unexpected_eof:
        return "unexpected EOF";
      case client_errc::server_closed_idle:
        return "http: server closed idle connection";
      case client_errc::body_length_mismatch:
        return "http: request body length differs from its ContentLength";
    }
    return "http client: unknown error";
  }
};

// Go's url.Error Op: "Get", "Post".
std::string op_name(std::string_view method) {
  std::string op(method);
  for (std::size_t i = 1; i < op.size(); ++i)
    op[i] = static_cast<char>(std::tolower(static_cast<unsigned char>(op[i])));
  return op;
}

bool is_redirect(int status) {
  return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

// Go's Client: a redirect's body is read (up to 2 KiB) so that its
// connection can carry the next request; a longer one is closed.
void drain_redirect_body(Response& resp) {
  char buf[2 << 10];
  std::size_t total = 0;
  while (total < sizeof buf) {
    auto [n, err] = resp.body.read(std::span<char>(buf, sizeof buf - total));
    total += n;
    if (err) break;
  }
  (void)resp.body.close();
}

ClientResult<ClientRequest> make_request(std::string_view method, std::string_view raw_url) {
  ClientResult<ClientRequest> out;
  auto [u, uerr] = url::parse(raw_url);
  if (uerr) {
    out.err = ClientError(make_error_code(client_errc::invalid_request), "parsing the URL",
                          uerr.message());
    out.err.set_request(method, raw_url);
    return out;
  }
  out.value.method = std::string(method);
  out.value.url = std::move(u);
  return out;
}

std::mutex g_default_mu;
std::shared_ptr<Transport> g_default;  // guarded by g_default_mu

}  // namespace

const std::error_category& client_category() noexcept {
  static const ClientCategory category;
  return category;
}

bool ClientError::timeout() const noexcept {
  return code_ == client_errc::response_header_timeout || code_ == client_errc::client_timeout ||
         code_ == context_errc::deadline_exceeded || code_ == net::errc::timeout;
}

std::string ClientError::message() const {
  std::string m;
  if (!op_.empty()) m.append(op_).append(" \"").append(url_).append("\": ");
  if (!where_.empty()) m.append(where_).append(": ");
  m.append(code_.message());
  if (!reason_.empty()) m.append(": ").append(reason_);
  return m;
}

void ClientError::set_request(std::string_view method, std::string_view url) {
  op_ = op_name(method);
  url_ = std::string(url);
}

Result<std::size_t> StringBody::read(std::span<char> buf) {
  if (pos_ >= data_.size()) return {0, make_error_code(net::errc::eof)};
  std::size_t n = std::min(buf.size(), data_.size() - pos_);
  std::memcpy(buf.data(), data_.data() + pos_, n);
  pos_ += n;
  return {n, {}};
}

ClientResult<ClientRequest> new_request(std::string_view method, std::string_view url,
                                        std::string body) {
  auto out = make_request(method, url);
  if (out.err || body.empty()) return out;
  out.value.content_length = static_cast<std::int64_t>(body.size());
  out.value.body = std::make_shared<StringBody>(body);
  out.value.get_body = [copy = std::move(body)] { return std::make_shared<StringBody>(copy); };
  return out;
}

ClientResult<ClientRequest> new_request(std::string_view method, std::string_view url,
                                        std::shared_ptr<Body> body, std::int64_t content_length) {
  auto out = make_request(method, url);
  if (out.err) return out;
  out.value.body = std::move(body);
  out.value.content_length = out.value.body ? content_length : 0;
  return out;
}

std::shared_ptr<Transport> default_transport() {
  std::lock_guard lock(g_default_mu);
  if (!g_default) {
    g_default = std::make_shared<Transport>();
    // The pool's timer and connections belong to this run of the runtime.
    at_main_exit([] {
      std::shared_ptr<Transport> t;
      {
        std::lock_guard l(g_default_mu);
        t = std::move(g_default);
      }
    });
  }
  return g_default;
}

ClientResult<Response> Client::execute(ClientRequest req) {
  const std::string first_method = req.method;
  const std::string first_url = req.url.to_string();
  std::shared_ptr<RoundTripper> rt = transport;
  if (!rt) rt = default_transport();

  CancelFunc timeout_cancel;
  Context timeout_ctx;
  if (timeout.count() > 0) {
    auto [tctx, tcancel] = with_timeout(req.context(), timeout);
    timeout_ctx = tctx;
    timeout_cancel = tcancel;
    req.set_context(std::move(tctx));
  }
  // Past Client::timeout, the error says so (Go: "Client.Timeout exceeded").
  auto fail = [&](ClientError err, const ClientRequest& at) {
    if (timeout.count() > 0 && timeout_ctx.err() == context_errc::deadline_exceeded &&
        (err.code() == context_errc::deadline_exceeded || err.code() == net::errc::timeout ||
         err.code() == net::errc::closed)) {
      err = ClientError(make_error_code(client_errc::client_timeout), err.where(), err.reason());
    }
    err.set_request(at.method, at.url.to_string());
    timeout_cancel();
    return ClientResult<Response>{{}, std::move(err)};
  };

  // The response returned: Client::timeout's timer lasts as long as its
  // body (or ends now, when it has none).
  auto keep_timer = [&](Response& resp) {
    if (ResponseBody::Impl* impl = resp.body.impl()) {
      impl->timeout_cancel = timeout_cancel;
      impl->timeout_is_clients = timeout.count() > 0;
    } else {
      timeout_cancel();
    }
  };

  std::vector<ClientRequest> via;
  for (;;) {
    auto [resp, err] = rt->round_trip(req);
    if (err) return fail(std::move(err), req);
    const std::string location(resp.header.get("Location"));
    if (!is_redirect(resp.status_code) || location.empty()) {
      keep_timer(resp);
      return {std::move(resp), {}};
    }
    auto [next_url, perr] = req.url.parse_reference(location);
    if (perr) {
      (void)resp.body.close();
      return fail(ClientError(make_error_code(client_errc::bad_redirect), "following the redirect",
                              perr.message()),
                  req);
    }
    ClientRequest next = req;
    next.url = std::move(next_url);
    if (resp.status_code == 307 || resp.status_code == 308) {
      // The method and body stay; a body that cannot be made again ends
      // the chain here (Go returns the 307/308 itself).
      if (req.body) {
        if (!req.get_body) {
          keep_timer(resp);
          return {std::move(resp), {}};
        }
        next.body = req.get_body();
      }
    } else {
      // 301, 302, 303: GET without a body (HEAD stays HEAD), as Go does.
      if (next.method != "GET" && next.method != "HEAD") next.method = "GET";
      next.body = nullptr;
      next.get_body = nullptr;
      next.content_length = 0;
      next.header.del("Content-Type");
      next.trailer.clear();
    }
    // Credentials do not follow a redirect to another host (Go's rule).
    if (next.url.hostname() != req.url.hostname()) {
      next.header.del("Authorization");
      next.header.del("Www-Authenticate");
      next.header.del("Cookie");
    }
    next.host.clear();
    via.push_back(std::move(req));
    Error cerr;
    if (check_redirect) {
      cerr = check_redirect(next, via);
    } else if (via.size() >= 10) {
      cerr = make_error_code(client_errc::too_many_redirects);
    }
    if (cerr == client_errc::use_last_response) {
      keep_timer(resp);
      return {std::move(resp), {}};
    }
    if (cerr) {
      (void)resp.body.close();
      return fail(ClientError(cerr, "following the redirect"), via.back());
    }
    drain_redirect_body(resp);
    req = std::move(next);
  }
}

ClientResult<Response> Client::get(std::string_view url) {
  auto [req, err] = new_request("GET", url);
  if (err) return {{}, std::move(err)};
  return execute(std::move(req));
}

ClientResult<Response> Client::head(std::string_view url) {
  auto [req, err] = new_request("HEAD", url);
  if (err) return {{}, std::move(err)};
  return execute(std::move(req));
}

ClientResult<Response> Client::post(std::string_view url, std::string_view content_type,
                                    std::string body) {
  auto [req, err] = new_request("POST", url, std::move(body));
  if (err) return {{}, std::move(err)};
  req.header.set("Content-Type", content_type);
  return execute(std::move(req));
}

ClientResult<Response> Client::post_form(std::string_view url, const url::Values& form) {
  return post(url, "application/x-www-form-urlencoded", form.encode());
}

ClientResult<Response> get(std::string_view url) {
  return Client{}.get(url);
}
ClientResult<Response> head(std::string_view url) {
  return Client{}.head(url);
}
ClientResult<Response> post(std::string_view url, std::string_view content_type, std::string body) {
  return Client{}.post(url, content_type, std::move(body));
}
ClientResult<Response> post_form(std::string_view url, const url::Values& form) {
  return Client{}.post_form(url, form);
}

}  // namespace gofer::http

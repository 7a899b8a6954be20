// Handler adapters: strip_prefix, timeout_handler, max_bytes_handler, and
// the trivial not_found_handler / redirect_handler (Go's net/http names).
//
// timeout_handler is the one with a protocol. Go's TimeoutHandler runs the
// handler on a goroutine that writes into a buffer, and the serving
// goroutine selects on "handler done" versus the context's deadline. Go
// lets the late handler keep its *Request, since the garbage collector keeps
// it alive; here the Request's views point into the connection's read
// buffer, which the next request overwrites, and its body reads from the
// connection. So the late handler gets:
//   - a copy of the request whose views point into a TimeoutState that it
//     shares (shared_ptr) with the timeout handler;
//   - a body (GuardedBody) that forwards to the real one under body_mu until
//     the timeout handler detaches it, and fails with errc::handler_timeout
//     after. Detaching takes body_mu, so it waits for a read in progress:
//     when timeout_handler returns, nothing touches the connection's body.
//   - a ResponseWriter (TimeoutWriter) that buffers into the TimeoutState
//     under mu; the timeout handler copies the buffer out, or marks it
//     timed out, under the same mu, so a write is either copied or refused.
// Rejected: waiting for the late handler to finish (the client would not get
// its 503 in time); cancelling it (C++ cannot stop a goroutine, only its
// context).
#include <exception>
#include <memory>
#include <utility>
#include <vector>

#include "gofer/chan.h"
#include "gofer/context.h"
#include "gofer/http/mux.h"
#include "gofer/runtime.h"
#include "gofer/sync.h"
#include "http/request_copy.h"

namespace gofer::http {

Handler not_found_handler() {
  return [](ResponseWriter& w, Request& r) { not_found(w, r); };
}

Handler redirect_handler(std::string url, int code) {
  return [url = std::move(url), code](ResponseWriter& w, Request& r) { redirect(w, r, url, code); };
}

Handler strip_prefix(std::string prefix, Handler handler) {
  if (prefix.empty()) return handler;
  return [prefix = std::move(prefix), handler = std::move(handler)](ResponseWriter& w, Request& r) {
    if (!r.path.starts_with(prefix)) {
      not_found(w, r);
      return;
    }
    struct Restore {
      Request& r;
      std::string_view path;
      ~Restore() { r.path = path; }
    } restore{r, r.path};
    r.path.remove_prefix(prefix.size());
    handler(w, r);
  };
}

namespace {

constexpr std::string_view kDefaultTimeoutBody =
    "<html><head><title>Timeout</title></head><body><h1>Timeout</h1></body></html>";

struct TimeoutState;

// The late-safe body of the copied request.
class GuardedBody final : public Body {
 public:
  explicit GuardedBody(TimeoutState& s) : s_(s) {}
  Result<std::size_t> read(std::span<char> buf) override;

 private:
  TimeoutState& s_;
};

// Shared by the timeout handler and the handler's goroutine.
struct TimeoutState {
  // Response side.
  gofer::Mutex mu;
  HeaderMap header;  // the handler's header (Go's tw.h); not guarded, as in Go
  std::string body;  // guarded by mu
  int code = 0;      // guarded by mu; 0 until the handler writes a status
  Error err;         // guarded by mu; set when the timeout handler gave up

  // Request side.
  gofer::Mutex body_mu;
  Body* real_body = nullptr;  // guarded by body_mu; null once detached
  detail::RequestStorage storage;
  Request request;
  GuardedBody guarded_body{*this};

  std::exception_ptr failure;  // written by the handler's goroutine before it closes `done`
};

Result<std::size_t> GuardedBody::read(std::span<char> buf) {
  std::lock_guard lock(s_.body_mu);
  if (s_.real_body == nullptr) return {0, errc::handler_timeout};
  return s_.real_body->read(buf);
}

class TimeoutWriter final : public ResponseWriter {
 public:
  explicit TimeoutWriter(TimeoutState& s) : s_(s) {}

  HeaderMap& header() override { return s_.header; }
  void write_header(int code) override {
    std::lock_guard lock(s_.mu);
    if (!s_.err && s_.code == 0) s_.code = code;
  }
  WriteResult write(std::string_view data) override {
    std::lock_guard lock(s_.mu);
    if (s_.err) return {0, s_.err};
    if (s_.code == 0) s_.code = status_ok;
    s_.body.append(data);
    return {data.size(), {}};
  }
  // Nothing can be sent before the handler has finished in time.
  Error flush() override {
    std::lock_guard lock(s_.mu);
    return s_.err;
  }

 private:
  TimeoutState& s_;
};

// Copies `from` into `to` the way Go's timeoutHandler does (dst[k] = vv):
// each name present in `from` replaces that name's values in `to`.
void copy_header(const HeaderMap& from, HeaderMap& to) {
  std::vector<std::string_view> seen;
  from.for_each([&](std::string_view name, std::string_view value) {
    bool first = true;
    for (std::string_view s : seen) {
      if (equal_fold(s, name)) first = false;
    }
    if (first) {
      seen.push_back(name);
      to.del(name);
    }
    to.add(name, value);
  });
}

}  // namespace

Handler timeout_handler(Handler handler, std::chrono::nanoseconds limit, std::string message) {
  auto shared_handler = std::make_shared<const Handler>(std::move(handler));
  if (message.empty()) message = kDefaultTimeoutBody;
  return [shared_handler, limit, message = std::move(message)](ResponseWriter& w, Request& r) {
    auto [ctx, cancel] = gofer::with_timeout(r.context(), limit);
    auto s = std::make_shared<TimeoutState>();
    s->storage.fill(r, s->request);
    s->request.set_context(ctx);
    s->request.set_body(s->guarded_body);
    s->real_body = &r.body();

    Chan<Empty> done = make_chan<Empty>();
    gofer::go([s, shared_handler, done] {
      TimeoutWriter tw(*s);
      try {
        (*shared_handler)(tw, s->request);
      } catch (...) {
        s->failure = std::current_exception();
      }
      done.close();
    });

    bool finished = false;
    gofer::select(recv_case(done, [&] { finished = true; }), recv_case(ctx.done()));
    // Both may be ready (select picks at random): a handler that finished
    // in time is answered with its own response.
    if (!finished) finished = done.try_recv().status == RecvStatus::closed;

    if (finished) {
      cancel();
      {
        std::lock_guard lock(s->body_mu);
        s->real_body = nullptr;
      }
      if (s->failure) std::rethrow_exception(s->failure);
      std::lock_guard lock(s->mu);
      copy_header(s->header, w.header());
      w.write_header(s->code == 0 ? status_ok : s->code);
      if (!s->body.empty()) w.write(s->body);
      return;
    }

    {
      std::lock_guard lock(s->mu);
      std::error_code why = ctx.err();
      if (why == context_errc::deadline_exceeded) {
        s->err = errc::handler_timeout;
        w.header().set("Content-Type", message.starts_with('<') ? "text/html; charset=utf-8"
                                                                : "text/plain; charset=utf-8");
        w.write_header(status_service_unavailable);
        w.write(message);
      } else {
        // The client went away (the parent context was cancelled): no body, as in Go.
        s->err = why;
        w.write_header(status_service_unavailable);
      }
    }
    {
      std::lock_guard lock(s->body_mu);  // waits for a read in progress
      s->real_body = nullptr;
    }
    cancel();
  };
}

namespace {

// Go's maxBytesReader.
class MaxBytesBody final : public Body {
 public:
  MaxBytesBody(Body* inner, std::int64_t limit) : inner_(inner), left_(limit) {}

  Result<std::size_t> read(std::span<char> buf) override {
    if (err_) return {0, err_};
    if (buf.empty()) return {0, {}};
    if (inner_ == nullptr) return {0, net::errc::eof};
    // One byte more than allowed is enough to tell "at the limit" from "past it".
    if (static_cast<std::uint64_t>(buf.size()) - 1 > static_cast<std::uint64_t>(left_)) {
      buf = buf.first(static_cast<std::size_t>(left_) + 1);
    }
    auto [n, err] = inner_->read(buf);
    if (static_cast<std::int64_t>(n) <= left_) {
      left_ -= static_cast<std::int64_t>(n);
      err_ = err;
      return {n, err};
    }
    n = static_cast<std::size_t>(left_);
    left_ = 0;
    err_ = errc::body_too_large;
    return {n, err_};
  }

 private:
  Body* inner_;
  std::int64_t left_;  // bytes that may still be read
  Error err_;          // sticky, as in Go
};

}  // namespace

Handler max_bytes_handler(Handler handler, std::int64_t max_bytes) {
  if (max_bytes < 0) max_bytes = 0;
  return [handler = std::move(handler), max_bytes](ResponseWriter& w, Request& r) {
    MaxBytesBody limited(&r.body(), max_bytes);
    struct Restore {
      Request& r;
      Body& body;
      ~Restore() { r.set_body(body); }
    } restore{r, r.body()};
    r.set_body(limited);
    handler(w, r);
  };
}

}  // namespace gofer::http

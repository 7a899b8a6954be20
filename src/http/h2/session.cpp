// The HTTP/2 connection loop: see session.h.
#include "http/h2/session.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>

#include "gofer/http/access_log.h"
#include "gofer/runtime.h"
#include "http/conn.h"
#include "http/server_state.h"
#include "runtime/park.h"

namespace gofer::http::detail::h2 {
namespace {

// Read size of the reader goroutine: one TLS record's worth.
constexpr std::size_t kReadSize = 16 << 10;
// Frames are gathered up to this much before a write.
constexpr std::size_t kWriteBatch = 64 << 10;
// The stream window of RFC 9113 §6.9.2's default; the connection window
// is as large as all streams' together, so one stream whose handler does
// not read cannot stall the others.
constexpr std::int32_t kStreamWindow = 65535;
constexpr std::int32_t kConnWindow =
    kStreamWindow * static_cast<std::int32_t>(kMaxConcurrentStreams);
// Handlers of reset streams may still run; a new stream beyond this many
// running handlers is refused (bounded work under rapid reset).
constexpr std::size_t kMaxHandlers = 2 * kMaxConcurrentStreams;

Session& self_of(void* p) {
  return *static_cast<Session*>(p);
}

}  // namespace

void serve(ServedConn& conn, std::string_view already_read) {
  Session session(conn);
  session.run(already_read);
}

Session::Session(ServedConn& c) : conn(c) {
  nghttp2_session_callbacks* cb = nullptr;
  nghttp2_session_callbacks_new(&cb);
  nghttp2_session_callbacks_set_on_begin_headers_callback(cb, on_begin_headers);
  nghttp2_session_callbacks_set_on_header_callback(cb, on_header);
  nghttp2_session_callbacks_set_on_frame_recv_callback(cb, on_frame_recv);
  nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cb, on_data_chunk_recv);
  nghttp2_session_callbacks_set_on_stream_close_callback(cb, on_stream_close);
  nghttp2_session_callbacks_set_on_frame_send_callback(cb, on_frame_send);
  nghttp2_option* opt = nullptr;
  nghttp2_option_new(&opt);
  // WINDOW_UPDATE only as handlers read (Stream::read).
  nghttp2_option_set_no_auto_window_update(opt, 1);
  // Closed streams are forgotten at once (no RFC 7540 priority tree).
  nghttp2_option_set_no_closed_streams(opt, 1);
  // nghttp2's floods limits, said here because the abuse tests rely on them.
  nghttp2_option_set_max_continuations(opt, 8);
  nghttp2_option_set_stream_reset_rate_limit(opt, 1000, 100);  // backstop of resets_
  nghttp2_option_set_max_outbound_ack(opt, 1000);
  nghttp2_session_server_new2(&session_, cb, this, opt);
  nghttp2_option_del(opt);
  nghttp2_session_callbacks_del(cb);
}

Session::~Session() {
  nghttp2_session_del(session_);
}

Stream* Session::stream_of(std::int32_t id) {
  return static_cast<Stream*>(nghttp2_session_get_stream_user_data(session_, id));
}

int Session::on_begin_headers(nghttp2_session* ng, const nghttp2_frame* frame, void* p) {
  Session& self = self_of(p);
  if (frame->hd.type != NGHTTP2_HEADERS || frame->headers.cat != NGHTTP2_HCAT_REQUEST) return 0;
  auto s = std::make_shared<Stream>(&self, frame->hd.stream_id);
  s->started_ns = runtime::nanotime();
  if (self.handlers_running_ >= kMaxHandlers) s->refused = true;
  nghttp2_session_set_stream_user_data(ng, frame->hd.stream_id, s.get());
  self.streams_.emplace(frame->hd.stream_id, std::move(s));
  return 0;
}

int Session::on_header(nghttp2_session*, const nghttp2_frame* frame, const std::uint8_t* name_p,
                       std::size_t namelen, const std::uint8_t* value_p, std::size_t valuelen,
                       std::uint8_t, void* p) {
  Session& self = self_of(p);
  Stream* s = self.stream_of(frame->hd.stream_id);
  if (s == nullptr || s->refused) return 0;
  std::string_view name(reinterpret_cast<const char*>(name_p), namelen);
  std::string_view value(reinterpret_cast<const char*>(value_p), valuelen);
  // RFC 9113 §6.5.2: a field's size is its name and value plus 32. Past
  // the limit nothing more is stored; the work stays bounded by the bytes
  // the client sends and by nghttp2's 4 KiB dynamic table.
  s->header_list_bytes += namelen + valuelen + 32;
  if (s->header_list_bytes > self.conn.server->max_header_bytes) s->header_list_too_large = true;
  if (s->header_list_too_large) return 0;
  if (frame->headers.cat != NGHTTP2_HCAT_REQUEST) return 0;  // trailers: not kept yet
  // nghttp2 has checked the pseudo-header fields (RFC 9113 §8.3.1): each
  // once, before the others, with valid values.
  if (name == ":method") {
    s->method = value;
  } else if (name == ":scheme") {
    s->scheme = value;
  } else if (name == ":authority") {
    s->authority = value;
  } else if (name == ":path") {
    s->path = value;
  } else if (name == "cookie") {
    // RFC 9113 §8.2.3: cookie fields may arrive split; one for the handler.
    if (!s->cookie.empty()) s->cookie += "; ";
    s->cookie += value;
  } else if (!name.empty() && name[0] != ':') {
    std::size_t at = s->arena.size();
    s->arena.append(name).append(value);
    s->field_spans.push_back({at, namelen, at + namelen, valuelen});
  }
  return 0;
}

int Session::on_frame_recv(nghttp2_session* ng, const nghttp2_frame* frame, void* p) {
  Session& self = self_of(p);
  const std::int32_t id = frame->hd.stream_id;
  const bool end_stream = (frame->hd.flags & NGHTTP2_FLAG_END_STREAM) != 0;
  bool suspicious = false;
  switch (frame->hd.type) {
    case NGHTTP2_HEADERS: {
      Stream* s = self.stream_of(id);
      if (s == nullptr) break;
      if (frame->headers.cat == NGHTTP2_HCAT_REQUEST) {
        if (end_stream) s->in_eof = true;  // before the handler exists: no lock needed
        self.start_stream(*s);
      } else if (end_stream) {  // trailers end the body
        std::lock_guard lock(self.mu);
        s->in_eof = true;
        (void)s->wake.try_send(Empty{});
      }
      break;
    }
    case NGHTTP2_DATA: {
      if (frame->hd.length == 0 && !end_stream) suspicious = true;
      if (!end_stream) break;
      Stream* s = self.stream_of(id);
      if (s == nullptr) break;
      std::lock_guard lock(self.mu);
      s->in_eof = true;
      (void)s->wake.try_send(Empty{});
      break;
    }
    case NGHTTP2_RST_STREAM:
      if (!self.resets_.take(runtime::nanotime())) self.go_away(NGHTTP2_ENHANCE_YOUR_CALM);
      break;
    case NGHTTP2_PING:
    case NGHTTP2_PRIORITY:
      suspicious = (frame->hd.flags & NGHTTP2_FLAG_ACK) == 0;
      break;
    case NGHTTP2_SETTINGS:
      suspicious = (frame->hd.flags & NGHTTP2_FLAG_ACK) == 0;
      break;
    default:
      break;
  }
  if (suspicious && !self.flood_.take(runtime::nanotime())) {
    self.go_away(NGHTTP2_ENHANCE_YOUR_CALM);
    (void)ng;
  }
  return 0;
}

int Session::on_data_chunk_recv(nghttp2_session* ng, std::uint8_t, std::int32_t id,
                                const std::uint8_t* data, std::size_t len, void* p) {
  Session& self = self_of(p);
  Stream* s = self.stream_of(id);
  if (s == nullptr || s->refused || s->handler_done_seen) {
    // Nobody will read it: give the window back at once.
    (void)nghttp2_session_consume(ng, id, len);
    return 0;
  }
  s->bytes_in += len;
  std::lock_guard lock(self.mu);
  if (s->in_off == s->in.size()) {
    s->in.clear();
    s->in_off = 0;
  }
  s->in.append(reinterpret_cast<const char*>(data), len);
  s->unacked += len;
  (void)s->wake.try_send(Empty{});
  return 0;
}

int Session::on_stream_close(nghttp2_session* ng, std::int32_t id, std::uint32_t, void* p) {
  Session& self = self_of(p);
  auto it = self.streams_.find(id);
  if (it == self.streams_.end()) return 0;
  std::shared_ptr<Stream> s = std::move(it->second);
  self.streams_.erase(it);
  s->closed = true;
  std::size_t unacked = 0;
  {
    std::lock_guard lock(self.mu);
    unacked = s->unacked;
    s->unacked = 0;
    if (!s->handler_done) {
      s->reset = true;
      (void)s->wake.try_send(Empty{});
    }
  }
  // The connection window counted the bytes no handler will read now.
  if (unacked > 0) (void)nghttp2_session_consume_connection(ng, unacked);
  s->cancel();  // Request::context(): the client went away
  self.update_idle();
  return 0;
}

int Session::on_frame_send(nghttp2_session* ng, const nghttp2_frame* frame, void* p) {
  Session& self = self_of(p);
  if ((frame->hd.type == NGHTTP2_DATA || frame->hd.type == NGHTTP2_HEADERS) &&
      (frame->hd.flags & NGHTTP2_FLAG_END_STREAM) != 0) {
    Stream* s = self.stream_of(frame->hd.stream_id);
    if (s == nullptr) return 0;
    bool body_open = false;
    {
      std::lock_guard lock(self.mu);
      body_open = !s->in_eof;
    }
    // RFC 9113 §8.1: the response is complete while the request body is
    // not; RST_STREAM(NO_ERROR) tells the client to stop sending it.
    if (body_open) (void)nghttp2_submit_rst_stream(ng, NGHTTP2_FLAG_NONE, s->id, NGHTTP2_NO_ERROR);
  }
  return 0;
}

void Session::start_stream(Stream& s) {
  std::shared_ptr<Stream> ref = streams_.at(s.id);
  if (s.refused) {
    (void)nghttp2_submit_rst_stream(session_, NGHTTP2_FLAG_NONE, s.id, NGHTTP2_REFUSED_STREAM);
    return;
  }
  if (s.header_list_too_large) {
    // RFC 6585 §5, as Go answers a request head over MaxHeaderBytes.
    std::lock_guard lock(mu);
    s.status = status_request_header_fields_too_large;
    s.response_fields = {{"content-type", "text/plain; charset=utf-8"}};
    s.out = "431 Request Header Fields Too Large\n";
    s.response_fields.emplace_back("content-length", std::to_string(s.out.size()));
    s.headers_ready = true;
    s.out_eof = true;
    s.handler_done = true;
    s.handler_done_seen = true;
    submit_response(s, /*no_body=*/false);
    return;
  }
  ServerState& st = *conn.server;
  for (const Stream::FieldSpan& f : s.field_spans) {
    s.fields.push_back({std::string_view(s.arena).substr(f.name_off, f.name_len),
                        std::string_view(s.arena).substr(f.value_off, f.value_len)});
  }
  if (!s.cookie.empty()) s.fields.push_back({"cookie", s.cookie});
  Request& r = s.request;
  r.method = s.method;
  r.target = s.path;
  r.proto_major = 2;
  r.proto_minor = 0;
  r.headers = s.fields;
  r.host = !s.authority.empty() ? std::string_view(s.authority) : r.header("Host");
  split_target(s.path, r);
  std::string_view length = r.header("content-length");
  if (s.in_eof) {
    r.content_length = 0;
  } else if (!length.empty()) {
    // nghttp2 checked it is a number and will check the DATA against it.
    r.content_length = std::strtoll(std::string(length).c_str(), nullptr, 10);
  } else {
    r.content_length = -1;
  }
  r.remote_addr = conn.remote_addr();
  r.tls = conn.tls_state();
  r.set_body(s);
  auto [ctx, cancel] = with_cancel(st.base_context);
  s.ctx = ctx;
  s.cancel = cancel;
  r.set_context(ctx);
  ++handlers_running_;
  update_idle();
  handlers_.add(1);
  gofer::go([this, ref = std::move(ref)] {
    ref->serve(conn.server->handler);
    // The last touches of the session: it waits for handlers_ before it ends.
    Session* self = this;
    self->kick.try_send(Empty{});
    self->handlers_.done();
  });
}

void Session::submit_response(Stream& s, bool no_body) {
  // Called with the response frozen (headers_ready); the fields are the
  // handler's no more. `no_body` (HEAD, 204, 304, or an empty body that
  // has ended): the HEADERS frame ends the stream.
  std::vector<nghttp2_nv> nva;
  std::string status = std::to_string(s.status);
  auto nv = [](std::string_view n, std::string_view v) {
    return nghttp2_nv{reinterpret_cast<std::uint8_t*>(const_cast<char*>(n.data())),
                      reinterpret_cast<std::uint8_t*>(const_cast<char*>(v.data())), n.size(),
                      v.size(), NGHTTP2_NV_FLAG_NONE};
  };
  nva.reserve(s.response_fields.size() + 1);
  nva.push_back(nv(":status", status));
  for (const auto& [n, v] : s.response_fields) nva.push_back(nv(n, v));
  nghttp2_data_provider provider{};
  provider.source.ptr = &s;
  provider.read_callback = read_response;
  (void)nghttp2_submit_response(session_, s.id, nva.data(), nva.size(),
                                no_body ? nullptr : &provider);
  s.response_submitted = true;
}

ssize_t Session::read_response(nghttp2_session*, std::int32_t, std::uint8_t* buf,
                               std::size_t length, std::uint32_t* data_flags,
                               nghttp2_data_source* source, void* p) {
  Session& self = self_of(p);
  auto* s = static_cast<Stream*>(source->ptr);
  std::lock_guard lock(self.mu);
  std::size_t n = std::min(length, s->out.size() - s->out_off);
  std::memcpy(buf, s->out.data() + s->out_off, n);
  s->out_off += n;
  if (s->out_off == s->out.size()) {
    s->out.clear();
    s->out_off = 0;
    if (s->out_eof) *data_flags |= NGHTTP2_DATA_FLAG_EOF;
  }
  if (n == 0 && (*data_flags & NGHTTP2_DATA_FLAG_EOF) == 0) return NGHTTP2_ERR_DEFERRED;
  s->bytes_out += n;
  (void)s->wake.try_send(Empty{});  // room in `out`: a parked write goes on
  return static_cast<ssize_t>(n);
}

void Session::handle_pending() {
  std::vector<std::shared_ptr<Stream>> batch;
  {
    std::lock_guard lock(mu);
    batch.swap(pending);
    for (auto& s : batch) s->queued = false;
  }
  for (auto& sp : batch) {
    Stream& s = *sp;
    std::size_t consumed = 0;
    bool headers_ready = false, handler_done = false, aborted = false, no_body = false;
    {
      std::lock_guard lock(mu);
      aborted = s.aborted;
      consumed = std::min(s.consumed, s.unacked);
      s.consumed = 0;
      s.unacked -= consumed;
      headers_ready = s.headers_ready;
      handler_done = s.handler_done;
      no_body = s.out_eof && s.out.size() == s.out_off;
    }
    if (!s.closed) {
      if (consumed > 0) (void)nghttp2_session_consume(session_, s.id, consumed);
      if (aborted) {
        (void)nghttp2_submit_rst_stream(session_, NGHTTP2_FLAG_NONE, s.id, NGHTTP2_INTERNAL_ERROR);
      } else if (headers_ready && !s.response_submitted) {
        submit_response(s, no_body);
      } else if (s.response_submitted) {
        (void)nghttp2_session_resume_data(session_, s.id);
      }
    }
    if (handler_done && !s.handler_done_seen) {
      s.handler_done_seen = true;
      --handlers_running_;
      record(s);
      s.cancel();
      update_idle();
    }
  }
}

void Session::record(Stream& s) {
  ServerState& st = *conn.server;
  std::int64_t took = runtime::nanotime() - s.started_ns;
  int status = s.status != 0 ? s.status : status_internal_server_error;
  st.record(s.method, status, took, s.header_list_bytes + s.bytes_in, s.body_bytes);
  if (AccessLog* log = st.access_log.get()) {
    AccessLogEntry e;
    std::string remote = conn.remote_addr().to_string();
    e.remote_addr = remote;
    e.method = s.request.method;
    e.target = s.request.target;
    e.proto = "HTTP/2.0";
    e.host = s.request.host;
    e.referer = s.request.header("referer");
    e.user_agent = s.request.header("user-agent");
    e.status = status;
    e.body_bytes = s.body_bytes;
    e.duration = std::chrono::nanoseconds(took);
    log->record(e);
  }
}

bool Session::flush() {
  for (;;) {
    const std::uint8_t* data = nullptr;
    ssize_t n = nghttp2_session_mem_send(session_, &data);
    if (n < 0) return false;
    if (n > 0) wbuf_.append(reinterpret_cast<const char*>(data), static_cast<std::size_t>(n));
    if (wbuf_.size() >= kWriteBatch || (n == 0 && !wbuf_.empty())) {
      // A peer that stops reading parks this write; Server::write_timeout,
      // when set, bounds each one (then the connection ends), and shutdown's
      // deadline closes it otherwise.
      if (auto t = conn.server->write_timeout; t.count() > 0) {
        (void)conn.io().set_write_deadline(net::Clock::now() + t);
      }
      auto [written, err] = conn.io().write(wbuf_);
      conn.server->bytes_written.fetch_add(written, std::memory_order_relaxed);
      wbuf_.clear();
      if (err) return false;
    }
    if (n == 0) return true;
  }
}

bool Session::receive(std::string_view bytes) {
  auto rv = nghttp2_session_mem_recv(session_, reinterpret_cast<const std::uint8_t*>(bytes.data()),
                                     bytes.size());
  if (rv >= 0) return true;
  // A fatal error: nghttp2 stops, and queues no GOAWAY for some (a flood of
  // ACKs or CONTINUATIONs); the client is told why before the close.
  bool flood = rv == NGHTTP2_ERR_FLOODED || rv == NGHTTP2_ERR_TOO_MANY_CONTINUATIONS;
  go_away(flood ? NGHTTP2_ENHANCE_YOUR_CALM : NGHTTP2_PROTOCOL_ERROR);
  return false;
}

void Session::go_away(std::uint32_t code) {
  (void)nghttp2_session_terminate_session(session_, code);
}

void Session::update_idle() {
  // Idle: no stream open and no handler running. Server::shutdown closes
  // idle connections; the idle timeout ends them (the reader's deadline).
  bool idle = handlers_running_ == 0 && streams_.empty();
  conn.idle.store(idle, std::memory_order_relaxed);
  if (idle == idle_armed_) return;
  idle_armed_ = idle;
  auto timeout = conn.server->idle_timeout;
  (void)conn.io().set_read_deadline(idle && timeout.count() > 0 ? net::Clock::now() + timeout
                                                                : net::Deadline{});
}

void Session::run(std::string_view already_read) {
  // SETTINGS (RFC 9113 §6.5.2), and the connection window opened to all
  // streams' windows together.
  nghttp2_settings_entry settings[] = {
      {NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, kMaxConcurrentStreams},
      {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, static_cast<std::uint32_t>(kStreamWindow)},
      {NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE,
       static_cast<std::uint32_t>(std::min<std::size_t>(conn.server->max_header_bytes, 1u << 30))},
  };
  (void)nghttp2_submit_settings(session_, NGHTTP2_FLAG_NONE, settings, std::size(settings));
  (void)nghttp2_session_set_local_window_size(session_, NGHTTP2_FLAG_NONE, 0, kConnWindow);
  update_idle();

  // The reader: bytes to the channel until an error (EOF, timeout, close).
  Chan<ReadChunk> reads = reads_;
  ConnIO& io = conn.io();
  ServerState& st = *conn.server;
  gofer::go([reads, &io, &st] {
    for (;;) {
      ReadChunk chunk;
      chunk.bytes.resize(kReadSize);
      auto [n, err] = io.read(chunk.bytes);
      chunk.bytes.resize(n);
      st.bytes_read.fetch_add(n, std::memory_order_relaxed);
      chunk.err = err;
      // A timeout is the idle deadline: the session decides (it may have
      // cleared it since); reading goes on.
      bool last = err && err != net::errc::timeout;
      reads.send(std::move(chunk));
      if (last) return;
    }
  });

  bool ok = already_read.empty() || receive(already_read);
  RecvChan<Empty> shutdown = st.base_context.done();
  while (ok) {
    handle_pending();
    if (handlers_running_ > 0) {
      // Handlers started by the last read are most likely runnable now:
      // letting them run first sends their responses in one write, not one
      // write per wake-up (a read of 100 requests had ~50 writes without).
      gofer::yield();
      handle_pending();
    }
    if (!flush()) break;
    if (!nghttp2_session_want_read(session_) && !nghttp2_session_want_write(session_)) break;
    ReadChunk chunk;
    bool got = false;
    bool shutting_down = false;
    gofer::select(recv_case(reads_,
                            [&](ReadChunk c) {
                              chunk = std::move(c);
                              got = true;
                            }),
                  recv_case(kick), recv_case(shutdown, [&] { shutting_down = true; }));
    if (shutting_down) {
      // Graceful (RFC 9113 §6.8): streams up to the last one seen finish;
      // later ones are refused by nghttp2.
      shutdown = RecvChan<Empty>();  // fires once
      draining_ = true;
      (void)nghttp2_submit_goaway(session_, NGHTTP2_FLAG_NONE,
                                  nghttp2_session_get_last_proc_stream_id(session_),
                                  NGHTTP2_NO_ERROR, nullptr, 0);
    }
    if (got) {
      if (!chunk.bytes.empty() && !receive(chunk.bytes)) break;
      if (chunk.err == net::errc::timeout) {
        if (idle_armed_) {
          // The idle timeout: say so before closing (RFC 9113 §6.8).
          (void)nghttp2_submit_goaway(session_, NGHTTP2_FLAG_NONE,
                                      nghttp2_session_get_last_proc_stream_id(session_),
                                      NGHTTP2_NO_ERROR, nullptr, 0);
          break;
        }
        // A stream started as the deadline passed: it no longer applies.
        (void)conn.io().set_read_deadline(net::Deadline{});
      } else if (chunk.err) {
        reader_done_ = true;
        break;
      }
    }
  }
  (void)flush();  // a GOAWAY nghttp2 queued on a connection error
  finish();
}

void Session::finish() {
  // Handlers still running see their stream reset; the session waits for
  // them (they reference it), then for the reader.
  {
    std::lock_guard lock(mu);
    for (auto& [id, s] : streams_) {
      if (!s->handler_done) s->reset = true;
      (void)s->wake.try_send(Empty{});
    }
  }
  for (auto& [id, s] : streams_) {
    s->cancel();
  }
  (void)conn.io().close();
  handlers_.wait();
  handle_pending();  // count and log what the handlers finished
  while (!reader_done_) {
    auto [chunk, ok] = reads_.recv();
    if (!ok || (chunk.err && chunk.err != net::errc::timeout)) reader_done_ = true;
  }
}

}  // namespace gofer::http::detail::h2

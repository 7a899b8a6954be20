// The examples of io.h, bufio.h, net.h and signal.h, as one program that CI
// compiles and runs over 127.0.0.1 (check_excerpts.cpp keeps the headers'
// copies equal to these lines).
#include <signal.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "gofer/bufio.h"
#include "gofer/chan.h"
#include "gofer/context.h"
#include "gofer/io.h"
#include "gofer/net.h"
#include "gofer/runtime.h"
#include "gofer/signal.h"

namespace {

void check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "io_net snippets: %s\n", what);
    std::exit(1);
  }
}

// clang-format off
void io_h() {
  gofer::io::StringReader src("hello, world");
  std::string copied;
  gofer::io::StringWriter dst(copied);
  auto [n, err] = gofer::io::copy(dst, src);  // n == 12, copied == "hello, world"
  check(n == 12 && !err && copied == "hello, world", "io::copy");
}

auto serve = [](gofer::net::Conn& conn) {
  gofer::bufio::Reader in(conn);
  gofer::bufio::Writer out(conn);
  for (;;) {
    auto [line, err] = in.read_line();  // without its "\n" or "\r\n"
    if (err) return;                    // net::errc::eof: the peer hung up
    if (line.is_prefix) return;         // longer than the buffer: a hostile peer
    (void)out.write("you said: ");
    (void)out.write(line.text);
    (void)out.write("\n");
    if (out.flush()) return;            // the first write error, if any
  }
};

// net.h's accept loop (not run: it serves until the process ends).
[[maybe_unused]] void net_h() {
  auto [ln, err] = gofer::net::listen("tcp", "127.0.0.1:8080");
  for (;;) {
    auto [conn, err] = ln.accept();       // parks the goroutine, not the thread
    if (err) break;
    gofer::go([c = std::move(conn)]() mutable { serve(c); });
  }
}

// net.h's split: a reader and a writer goroutine on one connection.
void split_h(gofer::net::Conn conn, gofer::Chan<std::string> in, gofer::Chan<std::string> out) {
  auto [rd, wr] = gofer::net::split(std::move(conn));
  gofer::go([rd = std::move(rd), in]() mutable {    // reader
    char buf[512];
    for (;;) {
      auto [n, err] = rd.read(buf);
      if (err) break;
      in.send(std::string(buf, n));
    }
    in.close();
  });
  gofer::go([wr = std::move(wr), out]() mutable {   // writer
    for (const std::string& msg : out)
      if (wr.write(msg).err) break;
    (void)wr.close();  // wakes the reader's read with errc::closed
  });
}

void signal_h() {
  gofer::run([] {
    auto sigs = gofer::make_chan<int>(1);
    gofer::signal::notify(sigs, SIGTERM, SIGINT);
    // ... start the work ...
    gofer::signal::stop(sigs);  // the default action again (here: before any signal came)
  });
}

void notify_context_h() {
  auto [ctx, stop] = gofer::signal::notify_context(gofer::background(), SIGUSR2);
  // ... ctx.done() is closed at the first SIGUSR2 ...
  ::raise(SIGUSR2);
  (void)ctx.done().recv();
  stop();  // ends the relaying (and cancels ctx)
}
// clang-format on

// A line through bufio's serve, then the split halves echoing a message.
void over_loopback() {
  gofer::Result<gofer::net::Listener> listened = gofer::net::listen("tcp", "127.0.0.1:0");
  gofer::net::Listener& ln = listened.value;  // (clang 14 cannot capture a structured binding)
  check(!listened.err, "listen");
  gofer::go([&ln] {
    auto [conn, aerr] = ln.accept();
    if (!aerr) serve(conn);
  });
  auto [c, derr] = gofer::net::dial("tcp", ln.addr().to_string());
  check(!derr, "dial");
  check(!c.write("hi\n").err, "write");
  (void)c.close_write();
  gofer::bufio::Reader reply(c);
  auto [line, rerr] = reply.read_line();
  check(!rerr && line.text == "you said: hi", "bufio serve");

  gofer::Result<gofer::net::Listener> listened2 = gofer::net::listen("tcp", "127.0.0.1:0");
  gofer::net::Listener& ln2 = listened2.value;
  check(!listened2.err, "listen");
  auto in = gofer::make_chan<std::string>(8), out = gofer::make_chan<std::string>(8);
  gofer::go([&ln2, in, out] {
    auto [conn, aerr] = ln2.accept();
    if (!aerr) split_h(std::move(conn), in, out);
  });
  auto [peer, perr] = gofer::net::dial("tcp", ln2.addr().to_string());
  check(!perr, "dial");
  check(!peer.write("ping").err, "write");
  std::string got;
  while (got.size() < 4) got += in.recv().value;
  check(got == "ping", "split reader");
  out.send("pong");
  out.close();  // the writer sends it, then closes the connection
  std::string back;
  char buf[16];
  for (;;) {
    auto [n, e] = peer.read(buf);
    if (e) break;
    back.append(buf, n);
  }
  check(back == "pong", "split writer");
}

}  // namespace

int main() {
  signal_h();
  gofer::run([] {
    io_h();
    notify_context_h();
    over_loopback();
  });
  std::puts("io_net snippets: ok");
  return 0;
}

// chat: a TCP chat server in Go's shape — per connection a reader goroutine
// and a writer goroutine sharing the connection (net::split), a broadcaster
// goroutine that owns the set of clients, an idle kick-out written as a
// select, and a graceful shutdown when SIGTERM or SIGINT arrives on a
// channel (signal::notify).
//
//   chat --addr 127.0.0.1:7000 --idle 300     (":7000" by default)
//   nc 127.0.0.1 7000                          (a line sent reaches everyone)
// Prints "listening on <address>" when ready (the real port for ":0"), and
// "chat: shut down" once every client was told and let go.
#include <fmt/core.h>
#include <signal.h>
#include <CLI/CLI.hpp>

#include <chrono>
#include <cstdio>
#include <map>
#include <string>

#include "gofer/bufio.h"
#include "gofer/chan.h"
#include "gofer/context.h"
#include "gofer/net.h"
#include "gofer/runtime.h"
#include "gofer/signal.h"
#include "gofer/sync.h"
#include "gofer/time.h"

namespace net = gofer::net;
using gofer::Chan;

namespace {

// What a client's writer goroutine sends. Buffered: the broadcaster never
// waits for a slow client (a message that finds the buffer full is dropped
// for that client only).
using Outbox = Chan<std::string>;
constexpr std::size_t kOutboxSize = 64;

struct Join {
  std::uint64_t id = 0;
  Outbox outbox;
};

// The broadcaster: the only goroutine that touches the client set, so it
// needs no lock (Go's "share memory by communicating"). It runs until
// `stop` closes, after the last client left, so a client's send to it
// always finds it.
struct Hub {
  Chan<Join> join = gofer::make_chan<Join>();
  Chan<std::uint64_t> leave = gofer::make_chan<std::uint64_t>();
  Chan<std::string> messages = gofer::make_chan<std::string>(64);
  Chan<gofer::Empty> stop = gofer::make_chan<gofer::Empty>();

  void run() {
    std::map<std::uint64_t, Outbox> clients;
    for (;;) {
      Join j;
      std::uint64_t gone = 0;
      std::string msg;
      switch (gofer::select(gofer::recv_to(join, j), gofer::recv_to(leave, gone),
                            gofer::recv_to(messages, msg), gofer::recv_case(stop))) {
        case 0:
          clients.emplace(j.id, j.outbox);
          break;
        case 1:
          clients.erase(gone);
          break;
        case 2:
          for (auto& [id, out] : clients) (void)out.try_send(msg);
          break;
        case 3:
          return;
      }
    }
  }
};

// One client. The reader goroutine turns the bytes into lines on a channel;
// this goroutine selects between a line, the idle timer and the server's
// shutdown; the writer goroutine writes the outbox and closes the
// connection when the outbox closes (which also ends the reader's read).
void serve_client(net::Conn conn, std::uint64_t id, Hub& hub, const gofer::Context& ctx,
                  std::chrono::milliseconds idle) {
  auto [rd, wr] = net::split(std::move(conn));
  std::string who = rd.remote_addr().to_string();
  Outbox outbox = gofer::make_chan<std::string>(kOutboxSize);
  auto lines = gofer::make_chan<std::string>();

  gofer::WaitGroup halves;
  halves.add(2);
  gofer::go([rd = std::move(rd), lines, &halves]() mutable {
    gofer::bufio::Reader in(rd);
    for (;;) {
      auto [line, err] = in.read_line();  // bounded by the reader's buffer (4 KiB)
      if (err) break;                     // EOF, reset, or the writer closed the connection
      if (line.is_prefix) break;          // a line longer than that: not a chat client
      lines.send(std::string(line.text));
    }
    lines.close();
    halves.done();
  });
  gofer::go([wr = std::move(wr), outbox, &halves]() mutable {
    for (const std::string& msg : outbox) {
      // A client that stops reading is not waited for forever (nor is shutdown).
      (void)wr.set_write_deadline(net::Clock::now() + std::chrono::seconds(10));
      if (wr.write(msg).err) break;
    }
    (void)wr.close();  // ends the reader too; errors: the peer is gone anyway
    halves.done();
  });

  hub.join.send(Join{id, outbox});
  hub.messages.send(fmt::format("* {} joined\n", who));
  gofer::Timer idle_timer(idle);
  std::string farewell;
  for (bool open = true; open;) {
    std::string line;
    bool ok = false;
    switch (gofer::select(gofer::recv_to(lines, line, ok), gofer::recv_case(idle_timer.c()),
                          gofer::recv_case(ctx.done()))) {
      case 0:
        if (!ok) {  // the client hung up
          open = false;
          break;
        }
        (void)idle_timer.reset(idle);  // whether it had fired: the select took it or not
        hub.messages.send(fmt::format("{}: {}\n", who, line));
        break;
      case 1:
        farewell = "* idle too long, bye\n";
        open = false;
        break;
      case 2:
        farewell = "* server shutting down, bye\n";
        open = false;
        break;
    }
  }
  hub.leave.send(id);
  if (!farewell.empty()) (void)outbox.try_send(farewell);
  outbox.close();  // the writer sends what is queued, then closes the connection
  // The reader may be blocked sending a line nobody will take: drain.
  for ([[maybe_unused]] const std::string& ignored : lines) {
  }
  halves.wait();
  if (!ctx.err()) hub.messages.send(fmt::format("* {} left\n", who));
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"gofer chat server: reader and writer goroutines per connection"};
  std::string addr = ":7000";
  int idle_ms = 300'000;
  app.add_option("--addr", addr, "address to listen on (host:port)")->capture_default_str();
  app.add_option("--idle", idle_ms, "ms a client may stay silent before it is sent away")
      ->capture_default_str()
      ->check(CLI::Range(1, 86'400'000));
  CLI11_PARSE(app, argc, argv);

  int rc = 0;
  gofer::run([&] {
    auto sigs = gofer::make_chan<int>(1);
    gofer::signal::notify(sigs, SIGTERM, SIGINT);
    // Named results, not structured bindings: goroutines below capture
    // them (clang 14 cannot capture a structured binding in a lambda).
    gofer::Result<net::Listener> listened = net::listen("tcp", addr);
    net::Listener& ln = listened.value;
    if (listened.err) {
      fmt::print(stderr, "chat: listen {}: {}\n", addr, listened.err.message());
      rc = 1;
      return;
    }
    fmt::print("listening on {}\n", ln.addr().to_string());
    std::fflush(stdout);

    gofer::WithCancel shutdown = gofer::with_cancel(gofer::background());
    const gofer::Context& ctx = shutdown.ctx;
    Hub hub;
    gofer::WaitGroup hub_running, clients;
    hub_running.add(1);
    gofer::go([&] {
      hub.run();
      hub_running.done();
    });
    gofer::WaitGroup accepting;
    accepting.add(1);
    gofer::go([&] {
      for (std::uint64_t id = 1;; ++id) {
        auto [conn, aerr] = ln.accept();
        if (aerr) break;  // closed: shutting down
        clients.add(1);
        gofer::go([&, id, c = std::move(conn)]() mutable {
          serve_client(std::move(c), id, hub, ctx, std::chrono::milliseconds(idle_ms));
          clients.done();
        });
      }
      accepting.done();
    });

    int sig = sigs.recv().value;  // parks until SIGTERM or SIGINT
    fmt::print("chat: signal {}, shutting down\n", sig);
    (void)ln.close();  // no new clients; accept returns errc::closed
    accepting.wait();
    shutdown.cancel();  // every client says goodbye and goes
    clients.wait();
    hub.stop.close();
    hub_running.wait();
    gofer::signal::stop(sigs);
    fmt::print("chat: shut down\n");
    std::fflush(stdout);
  });
  return rc;
}

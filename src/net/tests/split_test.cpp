// net::split: one connection shared by a reader goroutine and a writer
// goroutine, as Go programs share a net.Conn — the halves keep the
// connection alive for each other, either one's close() wakes the other
// (Go: Close unblocks a Read in another goroutine, with net.ErrClosed), and
// the connection closes when the last half goes.
#include <gtest/gtest.h>

#include <atomic>
#include <string>

#include "connected_pair.h"
#include "gofer/chan.h"
#include "gofer/net.h"
#include "gofer/runtime.h"
#include "gofer/sync.h"
#include "gofer/time.h"

namespace net = gofer::net;
using namespace std::chrono_literals;

namespace {

net::Listener loopback() {
  auto [ln, err] = net::listen("tcp", "127.0.0.1:0");
  EXPECT_FALSE(err) << err.message();
  return std::move(ln);
}

// The chat server's shape: the reader forwards lines to a channel, the
// writer sends what another channel gives it; both run at once on one
// connection, and the test does not keep the Conn alive for them.
TEST(Split, ReaderAndWriterGoroutinesShareOneConnection) {
  gofer::run(
      [] {
        net::Listener ln = loopback();
        auto [client, server] = net::test::connected_pair(ln);
        EXPECT_FALSE(client.set_deadline(net::Clock::now() + 10s));  // no hang if broken
        auto received = gofer::make_chan<std::string>(64);
        auto to_send = gofer::make_chan<std::string>(64);
        gofer::WaitGroup both;
        both.add(2);
        {
          auto [rd, wr] = net::split(std::move(server));
          EXPECT_FALSE(server);  // taken
          EXPECT_TRUE(rd);
          EXPECT_TRUE(wr);
          EXPECT_EQ(rd.remote_addr(), client.local_addr());
          gofer::go([rd = std::move(rd), received, &both]() mutable {
            char buf[256];
            for (;;) {
              auto [n, err] = rd.read(buf);
              if (err) break;
              received.send(std::string(buf, n));
            }
            received.close();
            both.done();
          });
          gofer::go([wr = std::move(wr), to_send, &both]() mutable {
            for (const std::string& msg : to_send)
              if (wr.write(msg).err) break;
            both.done();  // the last half goes with this goroutine: the connection closes
          });
        }
        // Both directions at once: the client writes while the server's writer sends.
        std::string sent_by_client, got_by_client;
        for (int i = 0; i < 100; ++i) {
          std::string m = "c" + std::to_string(i) + ";";
          sent_by_client += m;
          ASSERT_FALSE(client.write(m).err);
          to_send.send("s" + std::to_string(i) + ";");
        }
        std::string want_by_client;
        for (int i = 0; i < 100; ++i) want_by_client += "s" + std::to_string(i) + ";";
        char buf[4096];
        while (got_by_client.size() < want_by_client.size()) {
          auto [n, err] = client.read(buf);
          ASSERT_FALSE(err) << err.message();
          got_by_client.append(buf, n);
        }
        EXPECT_EQ(got_by_client, want_by_client);
        std::string got_by_server;
        while (got_by_server.size() < sent_by_client.size()) got_by_server += received.recv().value;
        EXPECT_EQ(got_by_server, sent_by_client);

        // The client hangs up: the reader sees EOF and ends; the writer ends
        // when its channel closes; then the connection is closed, so the
        // client reads EOF too.
        EXPECT_FALSE(client.close_write());
        to_send.close();
        both.wait();
        EXPECT_FALSE(received.recv().ok);
        EXPECT_EQ(client.read(buf).err, net::errc::eof);
      },
      {.procs = 2});
}

// Go: a Close from another goroutine unblocks a Read with net.ErrClosed.
// The writer half's close() is how a writer ends its reader.
TEST(Split, EitherHalfsCloseWakesTheOther) {
  gofer::run(
      [] {
        net::Listener ln = loopback();
        auto [client, server] = net::test::connected_pair(ln);
        auto [rd, wr] = net::split(std::move(server));
        auto read_err = gofer::make_chan<std::error_code>(1);
        gofer::go([rd = std::move(rd), read_err]() mutable {
          char buf[16];
          read_err.send(rd.read(buf).err);  // nothing comes: parks until the close
        });
        gofer::sleep_for(20ms);  // let it park (the close wakes it either way)
        EXPECT_FALSE(wr.close());
        EXPECT_EQ(read_err.recv().value, net::errc::closed);
        EXPECT_EQ(wr.write("late").err, net::errc::closed);
        char buf[4];
        EXPECT_EQ(client.read(buf).err, net::errc::eof);
      },
      {.procs = 2});
}

// Halves without a connection fail as an empty Conn does (Go's EINVAL for
// a nil Conn), never crash.
TEST(Split, EmptyHalvesFailLikeAnEmptyConn) {
  gofer::run([] {
    auto [rd, wr] = net::split(net::Conn());
    char buf[4];
    EXPECT_EQ(rd.read(buf).err, std::errc::invalid_argument);
    EXPECT_EQ(wr.write("x").err, std::errc::invalid_argument);
    net::ConnReader moved_to = std::move(rd);
    net::ConnReader fresh;
    EXPECT_EQ(fresh.read(buf).err, std::errc::invalid_argument);
    EXPECT_FALSE(fresh);
    EXPECT_FALSE(moved_to);
  });
}

}  // namespace

// net_test_peer: the client side of the load tests, in a process of its own
// (a process may hold at most 20,000 fds, so 10,000 connections need their
// two ends in two processes). It is spawned, not forked: a fork of a
// multi-threaded (or TSan) process may not start threads.
//
// Commands, one per line on stdin; one reply line on stdout each:
//   dial <addr> <n>                  → "connected <ok> <failed> <first error>"
//       n TCP connections (at most 512 handshakes in flight at once)
//   echo <rounds> <timeout_ms> <len> → "echoed <ok> <failed>"
//       on every open connection concurrently, `rounds` round trips of a
//       len-byte message, each read under a timeout_ms deadline; a reply
//       that timed out is still owed and read first next time
//   close_ok                          → "closed <k>"  connections whose last echo succeeded
//   close_all                         → "closed <k>"
// EOF on stdin: close everything and exit 0.
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "gofer/net.h"
#include "gofer/runtime.h"
#include "test_util.h"

namespace net = gofer::net;
using namespace gofer::net::test;

namespace {

struct Connection {
  net::Conn conn;
  std::size_t owed = 0;  // echo bytes not read yet (a timed-out round trip)
  bool last_ok = false;
  bool open = false;
};

std::vector<std::unique_ptr<Connection>> g_conns;

std::string read_line() {
  return gofer::blocking([] {
    char line[512];
    if (std::fgets(line, sizeof line, stdin) == nullptr) return std::string();
    std::string s(line);
    if (!s.empty() && s.back() == '\n') s.pop_back();
    return s.empty() ? std::string(" ") : s;
  });
}

void reply(const std::string& s) {
  std::fputs((s + "\n").c_str(), stdout);
  std::fflush(stdout);
}

void dial(const std::string& addr, int n) {
  std::atomic<int> ok{0}, failed{0};
  std::string first_error = "-";
  std::mutex mu;
  constexpr int kWave = 512;
  std::size_t base = g_conns.size();
  for (int i = 0; i < n; ++i) g_conns.push_back(std::make_unique<Connection>());
  for (int start = 0; start < n; start += kWave) {
    int count = std::min(kWave, n - start);
    Latch wave(count);
    for (int i = start; i < start + count; ++i) {
      Connection* c = g_conns[base + i].get();
      gofer::go([&, c] {
        auto [conn, err] = net::dial("tcp", addr, 30s);
        if (err) {
          failed.fetch_add(1);
          std::lock_guard lock(mu);
          if (first_error == "-") first_error = err.message();
        } else {
          c->conn = std::move(conn);
          c->open = true;
          ok.fetch_add(1);
        }
        wave.done();
      });
    }
    wave.wait();
  }
  for (char& ch : first_error) if (ch == ' ') ch = '_';
  reply("connected " + std::to_string(ok.load()) + " " + std::to_string(failed.load()) + " " + first_error);
}

bool round_trip(Connection& c, std::size_t len, std::chrono::milliseconds timeout, char pattern) {
  std::vector<char> msg(len, pattern);
  if (c.conn.write(std::span<const char>(msg)).err) return false;
  c.owed += len;
  if (c.conn.set_read_deadline(net::Clock::now() + timeout)) return false;
  char buf[4096];
  while (c.owed > 0) {
    auto [n, err] = c.conn.read(std::span<char>(buf, std::min(sizeof buf, c.owed)));
    if (err) return false;
    for (std::size_t i = 0; i < n; ++i) {
      if (buf[i] != pattern) return false;
    }
    c.owed -= n;
  }
  return true;
}

void echo(int rounds, int timeout_ms, std::size_t len) {
  std::atomic<int> ok{0}, failed{0};
  Latch all(0);
  for (std::size_t i = 0; i < g_conns.size(); ++i) {
    Connection* c = g_conns[i].get();
    if (!c->open) continue;
    all.add(1);
    gofer::go([&, c, i] {
      bool good = true;
      for (int r = 0; r < rounds && good; ++r) {
        good = round_trip(*c, len, std::chrono::milliseconds(timeout_ms), static_cast<char>('a' + i % 26));
      }
      c->last_ok = good;
      (good ? ok : failed).fetch_add(1);
      all.done();
    });
  }
  all.wait();
  reply("echoed " + std::to_string(ok.load()) + " " + std::to_string(failed.load()));
}

void close_conns(bool only_ok) {
  int k = 0;
  for (auto& c : g_conns) {
    if (c->open && (!only_ok || c->last_ok)) {
      (void)c->conn.close();  // the peer only drops it; an error changes nothing
      c->open = false;
      ++k;
    }
  }
  reply("closed " + std::to_string(k));
}

}  // namespace

int main() {
  raise_nofile();
  gofer::run([] {
    for (;;) {
      std::string line = read_line();
      if (line.empty()) break;
      char cmd[32] = {};
      char arg[256] = {};
      int a = 0, b = 0, c = 0;
      std::sscanf(line.c_str(), "%31s", cmd);
      if (std::strcmp(cmd, "dial") == 0 && std::sscanf(line.c_str(), "%*s %255s %d", arg, &a) == 2) {
        dial(arg, a);
      } else if (std::strcmp(cmd, "echo") == 0 && std::sscanf(line.c_str(), "%*s %d %d %d", &a, &b, &c) == 3) {
        echo(a, b, static_cast<std::size_t>(c));
      } else if (std::strcmp(cmd, "close_ok") == 0) {
        close_conns(true);
      } else if (std::strcmp(cmd, "close_all") == 0) {
        close_conns(false);
      } else {
        reply("error unknown command: " + line);
      }
    }
    for (auto& c : g_conns) (void)c->conn.close();  // closed already, at worst
    g_conns.clear();
  });
  return 0;
}

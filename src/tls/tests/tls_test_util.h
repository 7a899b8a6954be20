// Helpers of the tls tests: configs from the test PKI, a connected pair of
// TLS conns over loopback, and an external process (openssl s_server,
// s_client) driven through pipes and stopped by its PID.
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "gofer/net.h"
#include "gofer/runtime.h"
#include "gofer/sync.h"
#include "gofer/tls.h"
#include "pki.h"

extern char** environ;

namespace gofer::tls::test {

using namespace std::chrono_literals;

#if defined(GOFER_TSAN) || defined(GOFER_ASAN)
constexpr int kScale = 10;  // sanitizers slow every handshake down several times
#else
constexpr int kScale = 1;
#endif

inline Certificate load(const KeyPair& kp) {
  auto [cert, err] = load_x509_key_pair(kp.cert_file, kp.key_file);
  EXPECT_FALSE(err) << err.message();
  return cert;
}

inline std::shared_ptr<ServerConfig> server_config(
    std::vector<KeyPair> pairs, const std::function<void(Config&)>& adjust = {}) {
  Config c;
  for (const KeyPair& kp : pairs) c.certificates.push_back(load(kp));
  if (adjust) adjust(c);
  auto [cfg, err] = ServerConfig::load(c);
  EXPECT_FALSE(err) << err.message();
  return cfg;
}

// A client that trusts the test CA.
inline std::shared_ptr<ClientConfig> client_config(
    const std::function<void(Config&)>& adjust = {}) {
  Config c;
  c.root_ca_file = Pki::get().ca_file;
  if (adjust) adjust(c);
  auto [cfg, err] = ClientConfig::load(c);
  EXPECT_FALSE(err) << err.message();
  return cfg;
}

// A listener on an ephemeral loopback port (a named variable, not a
// structured binding, so that lambdas can capture it with clang 14). A
// failure fails the test; the Listener is then empty and accept() errs.
inline net::Listener loopback_listener() {
  auto [ln, err] = net::listen("tcp4", "127.0.0.1:0");
  EXPECT_FALSE(err) << err.message();
  return std::move(ln);
}
inline Listener loopback_listener(std::shared_ptr<const ServerConfig> config) {
  auto [ln, err] = listen("tcp4", "127.0.0.1:0", std::move(config));
  EXPECT_FALSE(err) << err.message();
  return std::move(ln);
}

// Runs `serve` on the server side of one TLS connection over loopback (in a
// goroutine) and `use` on its client side (in the caller), and waits for
// both. The client's server name is `server_name`.
inline void with_pair(std::shared_ptr<const ServerConfig> scfg,
                      std::shared_ptr<const ClientConfig> ccfg, const std::string& server_name,
                      const std::function<void(Conn&)>& serve,
                      const std::function<void(Conn&)>& use) {
  net::Listener ln = loopback_listener();
  gofer::WaitGroup wg;
  wg.add(1);
  gofer::go([&] {
    auto [nc, aerr] = ln.accept();
    EXPECT_FALSE(aerr) << aerr.message();
    if (!aerr) {
      Conn c = server(std::move(nc), scfg);
      serve(c);
    }
    wg.done();
  });
  auto [nc, derr] = net::dial("tcp4", ln.addr().to_string(), 5s);
  EXPECT_FALSE(derr) << derr.message();
  if (!derr) {
    Conn c = client(std::move(nc), ccfg, server_name);
    use(c);
  }
  wg.wait();
  (void)ln.close();
}

// Reads exactly buf.size() bytes, or fails.
inline Error read_full(Conn& c, std::span<char> buf) {
  std::size_t got = 0;
  while (got < buf.size()) {
    auto [n, err] = c.read(buf.subspan(got));
    if (err) return err;
    got += n;
  }
  return {};
}

inline std::string read_all(Conn& c, Error* end) {
  std::string out;
  char buf[4096];
  for (;;) {
    auto [n, err] = c.read(buf);
    out.append(buf, n);
    if (err) {
      *end = err;
      return out;
    }
  }
}

// A free TCP port on 127.0.0.1 (bound and released: another process could
// take it meanwhile, which the caller then sees as a failure to start).
inline int free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in sin{};
  sin.sin_family = AF_INET;
  sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&sin), sizeof sin);
  socklen_t len = sizeof sin;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&sin), &len);
  ::close(fd);
  return ntohs(sin.sin_port);
}

// A child process with its stdin and (merged) stdout/stderr on pipes;
// killed (SIGKILL) and reaped by PID on destruction. Blocking pipe I/O runs
// inside gofer::blocking() on a goroutine.
class Process {
 public:
  explicit Process(std::vector<std::string> argv) {
    int in[2], out[2];
    if (::pipe2(in, O_CLOEXEC) != 0 || ::pipe2(out, O_CLOEXEC) != 0) return;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, in[0], 0);
    posix_spawn_file_actions_adddup2(&fa, out[1], 1);
    posix_spawn_file_actions_adddup2(&fa, out[1], 2);
    std::vector<char*> args;
    for (auto& a : argv) args.push_back(a.data());
    args.push_back(nullptr);
    if (::posix_spawnp(&pid_, args[0], &fa, nullptr, args.data(), environ) != 0) pid_ = -1;
    posix_spawn_file_actions_destroy(&fa);
    ::close(in[0]);
    ::close(out[1]);
    to_ = in[1];
    from_ = out[0];
  }
  ~Process() {
    close_stdin();
    if (from_ >= 0) ::close(from_);
    stop();
  }
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  bool started() const { return pid_ > 0; }
  pid_t pid() const { return pid_; }

  void send(const std::string& s) {
    if (to_ >= 0) (void)!::write(to_, s.data(), s.size());
  }
  void close_stdin() {
    if (to_ >= 0) ::close(to_);
    to_ = -1;
  }
  // Kills and reaps the process (by its PID); idempotent.
  void stop() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }
  // Waits (up to `timeout`) until the output holds `what`; true if it does.
  bool wait_for(const std::string& what, std::chrono::milliseconds timeout = 10s) {
    auto io = [&] {
      const auto end = std::chrono::steady_clock::now() + timeout;
      while (output_.find(what) == std::string::npos) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                        end - std::chrono::steady_clock::now())
                        .count();
        if (left <= 0) return false;
        pollfd p{from_, POLLIN, 0};
        if (::poll(&p, 1, static_cast<int>(left)) <= 0) continue;
        char chunk[4096];
        ssize_t n = ::read(from_, chunk, sizeof chunk);
        if (n <= 0) return output_.find(what) != std::string::npos;
        output_.append(chunk, static_cast<std::size_t>(n));
      }
      return true;
    };
    return gofer::in_goroutine() ? gofer::blocking(io) : io();
  }
  // Waits (up to `timeout`) for the process to exit, collecting its output.
  std::string wait_exit(std::chrono::milliseconds timeout = 10s) {
    wait_for("\x01never\x02", timeout);
    return output_;
  }
  const std::string& output() const { return output_; }
  // Waits (up to `timeout`, then kills it) for the process to exit and
  // reaps it: its exit status, or -1 if a signal ended it.
  int exit_status(std::chrono::milliseconds timeout = 10s) {
    if (pid_ <= 0) return -1;
    const auto end = std::chrono::steady_clock::now() + timeout;
    int st = 0;
    while (::waitpid(pid_, &st, WNOHANG) == 0) {
      if (std::chrono::steady_clock::now() >= end) {
        stop();
        return -1;
      }
      ::usleep(10000);
    }
    pid_ = -1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  }

 private:
  pid_t pid_ = -1;
  int to_ = -1;
  int from_ = -1;
  std::string output_;
};

}  // namespace gofer::tls::test

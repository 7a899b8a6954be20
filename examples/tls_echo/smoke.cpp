// Smoke test of examples/tls_echo with OpenSSL's own tools: start it with
// --self-signed on an ephemeral port, echo a line through `openssl
// s_client`, and check that the certificate s_client received has the
// fingerprint the server printed (`openssl x509 -fingerprint -sha256`);
// then check that a missing certificate file is one line and exit code 1.
//   example_tls_echo_smoke <path of tls_echo>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

extern char** environ;

namespace {

struct Child {
  pid_t pid = -1;
  int in = -1;   // its stdin
  int out = -1;  // its stdout and stderr
};

std::vector<pid_t> g_children;

[[noreturn]] void fail(const std::string& why) {
  std::fprintf(stderr, "tls_echo smoke test: %s\n", why.c_str());
  for (pid_t p : g_children) {
    ::kill(p, SIGKILL);
    ::waitpid(p, nullptr, 0);
  }
  std::exit(1);
}

Child spawn(std::vector<std::string> argv, bool merge_stderr = true) {
  int in[2], out[2];
  if (::pipe2(in, O_CLOEXEC) != 0 || ::pipe2(out, O_CLOEXEC) != 0) fail("pipe");
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, in[0], 0);
  posix_spawn_file_actions_adddup2(&fa, out[1], 1);
  if (merge_stderr) posix_spawn_file_actions_adddup2(&fa, out[1], 2);
  std::vector<char*> args;
  for (auto& a : argv) args.push_back(a.data());
  args.push_back(nullptr);
  Child c;
  if (::posix_spawnp(&c.pid, args[0], &fa, nullptr, args.data(), environ) != 0) {
    fail("cannot start " + argv[0]);
  }
  posix_spawn_file_actions_destroy(&fa);
  ::close(in[0]);
  ::close(out[1]);
  c.in = in[1];
  c.out = out[0];
  g_children.push_back(c.pid);
  return c;
}

// Reads into `s` until it holds `what` (10 s at most) or EOF; returns it.
std::string read_until(int fd, const std::string& what, std::string&& acc = {}) {
  std::string& s = acc;
  while (s.find(what) == std::string::npos) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 10'000) <= 0) fail("waited 10 s for \"" + what + "\"; got: " + s);
    char buf[4096];
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n <= 0) break;
    s.append(buf, static_cast<std::size_t>(n));
  }
  return s;
}

int wait_exit(pid_t pid) {
  int status = 0;
  for (int i = 0; i < 1000; ++i) {
    if (::waitpid(pid, &status, WNOHANG) == pid)
      return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    ::usleep(10'000);
  }
  fail("a child did not exit within 10 s");
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) fail("usage: example_tls_echo_smoke <tls_echo>");
  Child server = spawn({argv[1], "--self-signed", "--addr", "127.0.0.1:0", "--procs", "2"});
  // "sha256 fingerprint …\nlistening on ADDR\n"
  std::string banner = read_until(server.out, "listening on ");
  while (banner.find('\n', banner.find("listening on ")) == std::string::npos) {
    banner += read_until(server.out, "\n");
  }
  const std::string fp_tag = "sha256 fingerprint ";
  auto fp_at = banner.find(fp_tag);
  if (fp_at == std::string::npos) fail("no fingerprint in: " + banner);
  const std::string fingerprint = banner.substr(fp_at + fp_tag.size(), 95);
  auto addr_at = banner.find("listening on ");
  std::string addr = banner.substr(addr_at + 13);
  addr = addr.substr(0, addr.find('\n'));

  Child client =
      spawn({"openssl", "s_client", "-connect", addr, "-servername", "localhost", "-no_ign_eof"});
  std::string out = read_until(client.out, "Verify return code");
  const std::string line = "hello through tls_echo\n";
  if (::write(client.in, line.data(), line.size()) != static_cast<ssize_t>(line.size())) {
    fail("write to s_client");
  }
  out = read_until(client.out, "\n" + line, std::move(out));
  ::close(client.in);
  wait_exit(client.pid);

  // The certificate s_client printed, fingerprinted by openssl x509.
  auto begin = out.find("-----BEGIN CERTIFICATE-----");
  auto end = out.find("-----END CERTIFICATE-----");
  if (begin == std::string::npos || end == std::string::npos) fail("no certificate in: " + out);
  std::string pem = out.substr(begin, end - begin + 26) + "\n";
  Child x509 = spawn({"openssl", "x509", "-noout", "-fingerprint", "-sha256"});
  if (::write(x509.in, pem.data(), pem.size()) != static_cast<ssize_t>(pem.size())) fail("x509");
  ::close(x509.in);
  std::string fp_out = read_until(x509.out, "\n");
  wait_exit(x509.pid);
  if (fp_out.find("=" + fingerprint) == std::string::npos) {
    fail("the server printed " + fingerprint + ", s_client got " + fp_out);
  }
  ::kill(server.pid, SIGTERM);
  ::waitpid(server.pid, nullptr, 0);

  Child bad = spawn({argv[1], "--cert", "/nonexistent/cert.pem", "--key", "/nonexistent/key.pem"});
  std::string err = read_until(bad.out, "\n");
  if (wait_exit(bad.pid) != 1) fail("a missing certificate must exit 1");
  if (err != "tls_echo: tls: open /nonexistent/cert.pem: No such file or directory\n") {
    fail("unexpected message: " + err);
  }
  std::puts("tls_echo smoke test: ok");
  return 0;
}

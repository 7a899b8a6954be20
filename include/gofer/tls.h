// gofer::tls — TLS 1.2 and 1.3 over a net::Conn, modelled on Go's crypto/tls,
// built on OpenSSL 3.
//
//   auto [cert, err] = tls::load_x509_key_pair("cert.pem", "key.pem");
//   tls::Config config;
//   config.certificates = {cert};
//   auto [server_config, cerr] = tls::ServerConfig::load(config);
//   if (cerr) { fmt::print(stderr, "{}\n", cerr.message()); return; }
//   auto [ln, lerr] = tls::listen("tcp", ":8443", server_config);
//   for (;;) {
//     auto [conn, err] = ln.accept();            // a tls::Conn; its handshake runs on first use
//     gofer::go([c = std::move(conn)]() mutable { serve(c); });
//   }
//
// A tls::Conn reads and writes like a net::Conn: the same method shapes, the
// same error values (net::errc::eof after the peer's close_notify,
// net::errc::timeout past a deadline, net::errc::closed after close()), and a
// goroutine that waits for the network parks on the netpoller — OpenSSL
// itself never blocks and never waits. How, and why, is written at the top
// of src/tls/conn.cpp.
//
// Configuration errors are values with one line that says what is wrong and
// where ("tls: open cert.pem: No such file or directory"): a server can print
// it and exit, or, on a certificate reload, keep its old certificate.
#pragma once

#include <sys/uio.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "gofer/error.h"
#include "gofer/net.h"

namespace gofer::tls {

using gofer::Error;
using gofer::Result;

// Error values of the tls layer. Network errors (eof, timeout, closed,
// reset) are net's and the system's, as from a net::Conn.
enum class errc {
  // A connection.
  truncated = 1,        // the stream ended without close_notify (unlike Go, also at a
                        // record boundary: a peer that hangs up mid-stream could have
                        // been cut off by an attacker)
  not_tls,              // the peer does not speak TLS (bad record header, wrong version)
  http_request,         // the peer sent a plaintext HTTP request to a TLS port
  handshake_failure,    // no common version, cipher suite, group or ALPN protocol
  verify_failed,        // the peer's certificate was refused (untrusted, expired, wrong
                        // host name, missing when required)
  remote_alert,         // the peer ended the connection with a fatal alert
  protocol_error,       // the peer broke the protocol (bad record MAC, decode error, …)
  missing_server_name,  // a client with neither a server name nor insecure_skip_verify
  // Loading a certificate or a configuration.
  cert_unreadable,      // the certificate file cannot be read
  key_unreadable,       // the key file cannot be read
  no_certificate,       // no PEM certificate in the input
  no_private_key,       // no PEM private key in the input
  key_mismatch,         // the private key does not belong to the certificate
  ca_unreadable,        // a CA file cannot be read or holds no certificate
  unsupported_version,  // a version other than TLS 1.2 or 1.3, or min above max
  bad_cipher_suite,     // a cipher suite OpenSSL does not know, or none left for TLS 1.2
  bad_curve,            // a group (curve) OpenSSL does not know
  bad_config,           // any other inconsistency (said by the message)
};
const std::error_category& tls_category() noexcept;
inline std::error_code make_error_code(errc e) noexcept {
  return {static_cast<int>(e), tls_category()};
}

}  // namespace gofer::tls

template <>
struct std::is_error_code_enum<gofer::tls::errc> : std::true_type {};

namespace gofer::tls {

// The result of loading a certificate or a configuration: an error value and
// the one line that tells it (Go's error string, e.g. "tls: private key
// key.pem does not match the certificate in cert.pem").
class LoadError {
 public:
  LoadError() = default;
  LoadError(errc code, std::string message) : code_(code), message_(std::move(message)) {}
  explicit operator bool() const noexcept { return static_cast<bool>(code_); }
  Error code() const noexcept { return code_; }
  const std::string& message() const noexcept { return message_; }
  friend bool operator==(const LoadError& e, errc c) noexcept { return e.code_ == c; }

 private:
  Error code_;
  std::string message_;
};

template <class T>
struct LoadResult {
  T value{};
  LoadError err{};
  explicit operator bool() const noexcept { return !err; }
};

enum class Version : std::uint16_t {
  tls12 = 0x0303,
  tls13 = 0x0304,
};
// "1.2" or "1.3" (also "TLS1.2", "tls1.3"); anything else is
// errc::unsupported_version.
LoadResult<Version> parse_version(std::string_view text);
std::string_view to_string(Version v) noexcept;  // "TLS 1.2", "TLS 1.3"

// A certificate chain and its private key (Go's tls.Certificate). Cheap to
// copy: copies share the OpenSSL objects, which never change.
class Certificate {
 public:
  Certificate() = default;
  bool empty() const noexcept { return !impl_; }

  // SHA-256 of the leaf certificate's DER, as colon-separated upper-case
  // hex ("3F:A0:…", what `openssl x509 -fingerprint -sha256` prints).
  std::string fingerprint_sha256() const;
  // The leaf's subject, RFC 2253 ("CN=localhost,O=gofer").
  std::string subject() const;
  // The DNS names the leaf is valid for (its subjectAltName; its common
  // name when it has none), lower case — what SNI is matched against.
  const std::vector<std::string>& names() const noexcept;
  // The chain (leaf first) and the key, in PEM.
  std::string cert_pem() const;
  std::string key_pem() const;

  struct Impl;
  explicit Certificate(std::shared_ptr<const Impl> impl) noexcept : impl_(std::move(impl)) {}
  const Impl* impl() const noexcept { return impl_.get(); }

 private:
  std::shared_ptr<const Impl> impl_;
};

// Go's tls.LoadX509KeyPair: a PEM certificate chain (leaf first) and its PEM
// private key. Reads the files inside gofer::blocking() when called on a
// goroutine.
LoadResult<Certificate> load_x509_key_pair(std::string_view cert_file, std::string_view key_file);
// Go's tls.X509KeyPair: the same from PEM text.
LoadResult<Certificate> x509_key_pair(std::string_view cert_pem, std::string_view key_pem);

// A self-signed certificate made in memory for local use: a new ECDSA P-256
// key, valid from an hour ago for `valid_for`, for `hosts` (DNS names and IP
// addresses; the first is also the subject's common name). Trust it on a
// client by its fingerprint or its PEM.
LoadResult<Certificate> self_signed(std::vector<std::string> hosts = {"localhost", "127.0.0.1",
                                                                      "::1"},
                                    std::chrono::hours valid_for = std::chrono::hours(24 * 365));

// Go's tls.ClientAuthType.
enum class ClientAuth {
  none,                // ask for no certificate
  request,             // ask for one, accept any or none, verify nothing
  require_any,         // require one, verify nothing
  verify_if_given,     // ask; a certificate given must verify against client_ca_file
  require_and_verify,  // require one that verifies against client_ca_file
};

class ClientSessionCache;

// What a connection is to be: Go's tls.Config, as plain values. Turned into
// the OpenSSL state that connections use by ServerConfig::load or
// ClientConfig::load, which check it and say what is wrong.
struct Config {
  // Server: the certificates to choose from by the client's SNI name (an
  // exact name or a "*.example.com" wildcard among a certificate's names());
  // the first is the default when the client sends no name or no
  // certificate matches. Certificates with different key types for one name
  // (RSA and ECDSA) are all offered, and OpenSSL picks one the client
  // supports. Client: the first is the client certificate sent when the
  // server asks for one.
  std::vector<Certificate> certificates;

  Version min_version = Version::tls12;
  Version max_version = Version::tls13;

  // OpenSSL names: TLS 1.2 suites ("ECDHE-ECDSA-AES128-GCM-SHA256") and TLS
  // 1.3 ones ("TLS_AES_128_GCM_SHA256"), in order of preference. Empty: the
  // defaults — TLS 1.2 ECDHE with AEAD only (AES-GCM, ChaCha20-Poly1305);
  // TLS 1.3 AES-128-GCM, AES-256-GCM, ChaCha20-Poly1305.
  std::vector<std::string> cipher_suites;
  // Key exchange groups, OpenSSL names ("X25519", "P-256"). Empty: X25519,
  // P-256, P-384, P-521 (Go's order).
  std::vector<std::string> curve_preferences;

  // ALPN protocols in order of preference (Go's NextProtos): "h2",
  // "http/1.1". A server picks the first of its own that the client offers;
  // with none in common the handshake fails with no_application_protocol
  // (RFC 7301), except that a client offering http/1.1 to a server that
  // speaks only h2 gets no protocol, as in Go.
  std::vector<std::string> next_protos;

  // Resumption by session tickets (TLS 1.2 and 1.3), on unless disabled.
  // Server: tickets are encrypted with keys made at load and kept across
  // certificate reloads. Client: needs a client_session_cache.
  bool session_tickets_disabled = false;

  // Server: which client certificates to ask for, and the CA file (PEM)
  // that verifies them.
  ClientAuth client_auth = ClientAuth::none;
  std::string client_ca_file;

  // Client: the name verified against the server's certificate and sent as
  // SNI (not sent for an IP address, RFC 6066). Empty: the host that dial()
  // was given.
  std::string server_name;
  // Client: PEM file of the CAs trusted for server certificates. Empty:
  // OpenSSL's default paths, i.e. the system's store.
  std::string root_ca_file;
  // Client: accept any certificate and any name. For tests and local use
  // only; never the default.
  bool insecure_skip_verify = false;
  // Client: where sessions are kept for resumption (Go's
  // ClientSessionCache); null: no resumption.
  std::shared_ptr<ClientSessionCache> client_session_cache;
};

// Go's tls.NewLRUClientSessionCache: the most recent session of up to
// `capacity` servers (keyed by server name and address). Safe to share
// between connections and threads.
class ClientSessionCache {
 public:
  explicit ClientSessionCache(std::size_t capacity = 64);
  ~ClientSessionCache();
  ClientSessionCache(const ClientSessionCache&) = delete;
  ClientSessionCache& operator=(const ClientSessionCache&) = delete;
  std::size_t size() const;

  struct Impl;
  Impl& impl() noexcept { return *impl_; }

 private:
  std::unique_ptr<Impl> impl_;
};

// A server's checked configuration, shared by its connections (and by
// threads). Its certificates can be replaced while it serves: handshakes
// that start afterwards use the new ones, connections already made keep
// theirs.
class ServerConfig {
 public:
  static LoadResult<std::shared_ptr<ServerConfig>> load(const Config& config);
  ~ServerConfig();
  ServerConfig(const ServerConfig&) = delete;
  ServerConfig& operator=(const ServerConfig&) = delete;

  // Swaps the certificates atomically (Go's GetCertificate returning the
  // new ones). On error nothing changes, and the error says why.
  LoadError set_certificates(std::vector<Certificate> certificates);
  // The certificates handshakes use now.
  std::vector<Certificate> certificates() const;

  struct Impl;
  Impl& impl() const noexcept { return *impl_; }

 private:
  explicit ServerConfig(std::unique_ptr<Impl> impl) noexcept;
  std::unique_ptr<Impl> impl_;
};

// A client's checked configuration, shared by its connections.
class ClientConfig {
 public:
  static LoadResult<std::shared_ptr<ClientConfig>> load(const Config& config);
  ~ClientConfig();
  ClientConfig(const ClientConfig&) = delete;
  ClientConfig& operator=(const ClientConfig&) = delete;

  struct Impl;
  Impl& impl() const noexcept { return *impl_; }

 private:
  explicit ClientConfig(std::unique_ptr<Impl> impl) noexcept;
  std::unique_ptr<Impl> impl_;
};

// Go's tls.ConnectionState, the parts a server or client asks about.
struct ConnectionState {
  bool handshake_complete = false;
  Version version{};
  std::string cipher_suite;              // OpenSSL's name ("TLS_AES_128_GCM_SHA256")
  std::string negotiated_protocol;       // ALPN result; empty: none
  std::string server_name;               // SNI: sent (client) or received (server)
  bool did_resume = false;               // a session ticket resumed an earlier session
  std::string peer_certificate_subject;  // RFC 2253; empty: the peer sent none
};

class Conn {
 public:
  Conn() noexcept;
  Conn(Conn&&) noexcept;
  Conn& operator=(Conn&&) noexcept;
  // Frees the OpenSSL state and closes the net::Conn (no close_notify: call
  // close() for that).
  ~Conn();

  // Runs the handshake if it has not run (Go's Handshake); read and write
  // run it first by themselves. Concurrent callers wait for one handshake.
  // The deadlines in force bound it: a handshake timeout is a deadline.
  // A failed handshake fails every later call with the same error.
  Error handshake();

  // As net::Conn::read: at least 1 byte of plaintext, parking until some
  // arrives. {0, net::errc::eof} after the peer's close_notify;
  // errc::truncated if the stream ends without it.
  Result<std::size_t> read(std::span<char> buf);
  // Encrypts and writes the whole buffer (records of up to 16 KiB); returns
  // once the ciphertext is handed to the kernel.
  Result<std::size_t> write(std::span<const char> buf);
  template <net::detail::Text S>
  Result<std::size_t> write(S&& s) {
    std::string_view v(s);
    return write(std::span<const char>(v.data(), v.size()));
  }
  // The buffers in order; small ones share a record (a response head and a
  // short body make one record and one send).
  Result<std::size_t> writev(std::span<const iovec> bufs);

  // Sends close_notify (bounded by the write deadline, or 5 s without one,
  // as in Go) if the handshake completed and no write is in flight, then
  // closes the net::Conn, waking the goroutines parked on it.
  // net::errc::closed if already closed.
  Error close();
  // Sends close_notify and keeps the connection open for reading (Go's
  // CloseWrite; unlike net::Conn's, the socket is not shut down).
  Error close_write();

  Error set_deadline(net::Deadline d);
  Error set_read_deadline(net::Deadline d);
  Error set_write_deadline(net::Deadline d);
  net::Addr local_addr() const;
  net::Addr remote_addr() const;

  ConnectionState connection_state() const;
  // What OpenSSL said about the last failure, for a log line ("certificate
  // verify failed: hostname mismatch"); empty if it said nothing.
  std::string error_detail() const;

  // Frees the ciphertext buffers and OpenSSL's record buffers while the
  // connection is idle, if they hold nothing (returns false otherwise, and
  // frees what it can). They come back, allocated anew, at the next read or
  // write. Must not race a read or write on this Conn.
  bool release_buffers();

  // As net::Conn::go_when_readable: runs `f` in a new goroutine once a read
  // would not block — at once if plaintext or ciphertext is already
  // buffered here (the socket would not report it again) — or when the read
  // deadline passes or the connection is closed.
  template <class F>
  [[gnu::noinline]] void go_when_readable(F&& f) {  // noinline: see gofer::go()
    go_when_readable_impl(gofer::detail::Task(std::forward<F>(f)), __builtin_return_address(0));
  }

  // The connection underneath (Go's NetConn); writing to it directly
  // corrupts the TLS stream.
  net::Conn& net_conn() noexcept;
  explicit operator bool() const noexcept { return static_cast<bool>(impl_); }

  struct Impl;
  explicit Conn(std::unique_ptr<Impl> impl) noexcept;

 private:
  void go_when_readable_impl(gofer::detail::Task task, void* creator_pc);
  std::unique_ptr<Impl> impl_;
};

// Go's tls.Server and tls.Client: the TLS side of an established
// connection; the handshake runs at the first read, write or handshake().
// A client's server name: `server_name` if given, else the config's.
Conn server(net::Conn conn, std::shared_ptr<const ServerConfig> config);
Conn client(net::Conn conn, std::shared_ptr<const ClientConfig> config,
            std::string_view server_name = {});

// Go's tls.DialWithDialer: dials, then runs the handshake, both within
// `timeout` (<= 0: none). The server name is the config's, else the host
// of `address`.
Result<Conn> dial(std::string_view network, std::string_view address,
                  std::shared_ptr<const ClientConfig> config,
                  std::chrono::nanoseconds timeout = {});

// Go's tls.NewListener: accept() returns a server Conn whose handshake has
// not run yet (so the accept loop never waits for a slow client).
class Listener {
 public:
  Listener() noexcept = default;
  Listener(net::Listener inner, std::shared_ptr<const ServerConfig> config) noexcept
      : inner_(std::move(inner)), config_(std::move(config)) {}
  Result<Conn> accept();
  Error close() { return inner_.close(); }
  net::Addr addr() const { return inner_.addr(); }
  net::Listener& net_listener() noexcept { return inner_; }
  const std::shared_ptr<const ServerConfig>& config() const noexcept { return config_; }

 private:
  net::Listener inner_;
  std::shared_ptr<const ServerConfig> config_;
};

// Go's tls.Listen.
Result<Listener> listen(std::string_view network, std::string_view address,
                        std::shared_ptr<const ServerConfig> config);

}  // namespace gofer::tls

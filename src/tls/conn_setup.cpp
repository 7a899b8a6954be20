// Making tls::Conns (server, client, dial, Listener) and what a Conn says
// about itself; the I/O is in conn.cpp.
#include <arpa/inet.h>
#include <openssl/x509v3.h>

#include "gofer/runtime.h"
#include "tls/certificate.h"
#include "tls/config.h"
#include "tls/conn_impl.h"

namespace gofer::tls {

using namespace detail;
using Impl = Conn::Impl;

namespace {

// A Conn whose handshake fails at once with `err` (a setup failure is
// reported where Go reports it: by Handshake, Read and Write).
Conn failed(std::unique_ptr<Impl> impl, Error err) {
  impl->handshake_err = err;
  impl->hs_state.store(2, std::memory_order_release);
  return Conn(std::move(impl));
}

// SSL_new with our BIO. False: out of memory.
bool new_ssl(Impl* impl, SSL_CTX* ctx) {
  ERR_clear_error();
  impl->ssl.reset(SSL_new(ctx));
  const bool ok = impl->ssl && attach_bio(impl);
  if (ok) SSL_set_app_data(impl->ssl.get(), impl);
  ERR_clear_error();
  return ok;
}

Error out_of_memory() {
  return std::make_error_code(std::errc::not_enough_memory);
}

}  // namespace

Conn server(net::Conn conn, std::shared_ptr<const ServerConfig> config) {
  auto impl = std::make_unique<Impl>();
  impl->net = std::move(conn);
  impl->is_server = true;
  if (!config) return failed(std::move(impl), std::make_error_code(std::errc::invalid_argument));
  impl->server_config = std::move(config);
  if (!new_ssl(impl.get(), impl->server_config->impl().ctx.get())) {
    return failed(std::move(impl), out_of_memory());
  }
  SSL_set_accept_state(impl->ssl.get());
  return Conn(std::move(impl));
}

Conn client(net::Conn conn, std::shared_ptr<const ClientConfig> config,
            std::string_view server_name) {
  auto impl = std::make_unique<Impl>();
  impl->net = std::move(conn);
  if (!config) return failed(std::move(impl), std::make_error_code(std::errc::invalid_argument));
  impl->client_config = std::move(config);
  const ClientConfig::Impl& cfg = impl->client_config->impl();
  if (!new_ssl(impl.get(), cfg.ctx.get())) return failed(std::move(impl), out_of_memory());
  SSL* ssl = impl->ssl.get();
  SSL_set_connect_state(ssl);

  const std::string name = server_name.empty() ? cfg.server_name : std::string(server_name);
  const bool ip = is_ip_literal(name);
  // RFC 6066: SNI carries host names, never IP literals.
  if (!name.empty() && !ip && SSL_set_tlsext_host_name(ssl, name.c_str()) != 1) {
    return failed(std::move(impl), out_of_memory());
  }
  if (!cfg.insecure_skip_verify) {
    if (name.empty()) return failed(std::move(impl), errc::missing_server_name);
    const int ok = ip ? X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), name.c_str())
                      : (SSL_set_hostflags(ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS),
                         SSL_set1_host(ssl, name.c_str()));
    ERR_clear_error();
    if (ok != 1) return failed(std::move(impl), out_of_memory());
  }
  if (cfg.session_cache) {
    // Go's clientSessionCacheKey: the server name, else the address.
    impl->session_cache = cfg.session_cache;
    impl->session_key = name.empty() ? impl->net.remote_addr().to_string() : name;
    if (SSL_SESSION* s = impl->session_cache->impl().get(impl->session_key)) {
      SSL_set_session(ssl, s);  // takes its own reference
      SSL_SESSION_free(s);
    }
  }
  ERR_clear_error();
  return Conn(std::move(impl));
}

Result<Conn> dial(std::string_view network, std::string_view address,
                  std::shared_ptr<const ClientConfig> config, std::chrono::nanoseconds timeout) {
  // One deadline for both steps, as Go's DialWithDialer.
  const net::Deadline deadline =
      timeout.count() > 0 ? net::Clock::now() + timeout : net::Deadline{};
  auto [nc, err] = net::dial(network, address, timeout);
  if (err) return {Conn{}, err};
  std::string name;
  if (config && config->impl().server_name.empty()) {
    if (auto [hp, herr] = net::split_host_port(address); !herr) name = std::string(hp.first);
  }
  Conn c = client(std::move(nc), std::move(config), name);
  if (deadline != net::Deadline{})
    (void)c.set_deadline(
        deadline);  // a fresh conn: fails only if closed, which the handshake reports
  if (Error e = c.handshake()) return {Conn{}, e};
  if (deadline != net::Deadline{}) (void)c.set_deadline(net::Deadline{});  // as above
  return {std::move(c), {}};
}

Result<Conn> Listener::accept() {
  auto [nc, err] = inner_.accept();
  if (err) return {Conn{}, err};
  return {server(std::move(nc), config_), {}};
}

Result<Listener> listen(std::string_view network, std::string_view address,
                        std::shared_ptr<const ServerConfig> config) {
  if (!config) return {Listener{}, std::make_error_code(std::errc::invalid_argument)};
  auto [ln, err] = net::listen(network, address);
  if (err) return {Listener{}, err};
  return {Listener(std::move(ln), std::move(config)), {}};
}

Error Conn::set_deadline(net::Deadline d) {
  return impl_ ? impl_->net.set_deadline(d) : std::make_error_code(std::errc::invalid_argument);
}
Error Conn::set_read_deadline(net::Deadline d) {
  return impl_ ? impl_->net.set_read_deadline(d)
               : std::make_error_code(std::errc::invalid_argument);
}
Error Conn::set_write_deadline(net::Deadline d) {
  return impl_ ? impl_->net.set_write_deadline(d)
               : std::make_error_code(std::errc::invalid_argument);
}
net::Addr Conn::local_addr() const {
  return impl_ ? impl_->net.local_addr() : net::Addr{};
}
net::Addr Conn::remote_addr() const {
  return impl_ ? impl_->net.remote_addr() : net::Addr{};
}

net::Conn& Conn::net_conn() noexcept {
  static net::Conn none;  // for an empty Conn: its methods say EINVAL
  return impl_ ? impl_->net : none;
}

ConnectionState Conn::connection_state() const {
  ConnectionState st;
  if (!impl_ || !impl_->ssl) return st;
  Impl& c = *impl_;
  st.handshake_complete = c.hs_state.load(std::memory_order_acquire) == 1;
  std::lock_guard lock(c.ssl_mu);
  SSL* ssl = c.ssl.get();
  if (const char* sni = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name)) st.server_name = sni;
  if (!st.handshake_complete) return st;
  st.version = static_cast<Version>(SSL_version(ssl));
  if (const SSL_CIPHER* cipher = SSL_get_current_cipher(ssl)) {
    st.cipher_suite = SSL_CIPHER_get_name(cipher);
  }
  const unsigned char* alpn = nullptr;
  unsigned alpn_len = 0;
  SSL_get0_alpn_selected(ssl, &alpn, &alpn_len);
  if (alpn != nullptr) st.negotiated_protocol.assign(reinterpret_cast<const char*>(alpn), alpn_len);
  st.did_resume = SSL_session_reused(ssl) == 1;
  if (X509* peer = SSL_get0_peer_certificate(ssl)) {
    st.peer_certificate_subject = name_rfc2253(X509_get_subject_name(peer));
  }
  ERR_clear_error();
  return st;
}

std::string Conn::error_detail() const {
  if (!impl_) return {};
  std::lock_guard lock(impl_->ssl_mu);
  return impl_->detail;
}

bool Conn::release_buffers() {
  if (!impl_) return false;
  Impl& c = *impl_;
  std::lock_guard lock(c.ssl_mu);
  bool all = c.in.release();
  all = !c.flushing && c.out.release() && all;
  if (c.ssl) all = SSL_free_buffers(c.ssl.get()) == 1 && all;
  ERR_clear_error();
  return all;
}

void Conn::go_when_readable_impl(gofer::detail::Task task, void* creator_pc) {
  if (!impl_) {
    gofer::detail::spawn(std::move(task), GoOptions{}, creator_pc);  // its read will say why
    return;
  }
  Impl& c = *impl_;
  bool buffered = false;
  if (c.ssl) {
    // Bytes already here would never be reported by the socket again.
    std::lock_guard lock(c.ssl_mu);
    buffered = !c.in.empty() || SSL_has_pending(c.ssl.get()) == 1;
  }
  if (buffered) {
    gofer::detail::spawn(std::move(task), GoOptions{}, creator_pc);
    return;
  }
  c.net.go_when_readable(std::move(task));
}

}  // namespace gofer::tls

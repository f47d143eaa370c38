#include "quic/tls_session.h"

#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/mem.h>
#include <openssl/pool.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <algorithm>
#include <cstring>

namespace wt::quic {
namespace {

static_assert(static_cast<int>(EncryptionLevel::initial) == ssl_encryption_initial);
static_assert(static_cast<int>(EncryptionLevel::early_data) == ssl_encryption_early_data);
static_assert(static_cast<int>(EncryptionLevel::handshake) == ssl_encryption_handshake);
static_assert(static_cast<int>(EncryptionLevel::application) == ssl_encryption_application);

EncryptionLevel to_level(ssl_encryption_level_t l) { return static_cast<EncryptionLevel>(l); }
ssl_encryption_level_t to_ssl(EncryptionLevel l) { return static_cast<ssl_encryption_level_t>(l); }

int session_ex_index() {
  static const int idx = SSL_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
  return idx;
}

const char* level_name(EncryptionLevel l) {
  switch (l) {
    case EncryptionLevel::initial: return "initial";
    case EncryptionLevel::early_data: return "0-RTT";
    case EncryptionLevel::handshake: return "handshake";
    case EncryptionLevel::application: return "1-RTT";
  }
  return "?";
}

int set_read_secret(SSL* ssl, ssl_encryption_level_t level, const SSL_CIPHER* cipher,
                    const uint8_t* secret, size_t len) {
  TlsSession* s = TlsSession::from_ssl(ssl);
  if (!s || len > 48) return 0;
  s->on_secret(to_level(level), SecretDirection::read, SSL_CIPHER_get_protocol_id(cipher), secret,
               len);
  return 1;
}

int set_write_secret(SSL* ssl, ssl_encryption_level_t level, const SSL_CIPHER* cipher,
                     const uint8_t* secret, size_t len) {
  TlsSession* s = TlsSession::from_ssl(ssl);
  if (!s || len > 48) return 0;
  s->on_secret(to_level(level), SecretDirection::write, SSL_CIPHER_get_protocol_id(cipher),
               secret, len);
  return 1;
}

int add_handshake_data(SSL* ssl, ssl_encryption_level_t level, const uint8_t* data, size_t len) {
  TlsSession* s = TlsSession::from_ssl(ssl);
  if (!s) return 0;
  s->on_handshake_data(to_level(level), data, len);
  return 1;
}

// The connection decides when to send; nothing to flush here.
int flush_flight(SSL*) { return 1; }

int send_alert(SSL* ssl, ssl_encryption_level_t level, uint8_t alert) {
  TlsSession* s = TlsSession::from_ssl(ssl);
  if (!s) return 0;
  s->on_alert(to_level(level), alert);
  return 1;
}

const SSL_QUIC_METHOD kQuicMethod = {set_read_secret, set_write_secret, add_handshake_data,
                                     flush_flight, send_alert};

int new_session_cb(SSL* ssl, SSL_SESSION* session) {
  if (TlsSession* s = TlsSession::from_ssl(ssl)) s->on_new_session(session);
  return 0;  // we did not take ownership
}

bool is_ip_literal(const std::string& name) {
  uint8_t buf[16];
  return inet_pton(AF_INET, name.c_str(), buf) == 1 || inet_pton(AF_INET6, name.c_str(), buf) == 1;
}

std::string name_line(X509_NAME* name) {
  if (!name) return {};
  char buf[512];
  if (!X509_NAME_oneline(name, buf, sizeof(buf))) return {};
  return buf;
}

}  // namespace

namespace detail {
void install_session_callbacks(SSL_CTX* ctx) { SSL_CTX_sess_set_new_cb(ctx, new_session_cb); }
}  // namespace detail

TlsSession* TlsSession::from_ssl(const SSL* ssl) {
  return static_cast<TlsSession*>(SSL_get_ex_data(ssl, session_ex_index()));
}

Result<std::unique_ptr<TlsSession>> TlsSession::create(std::shared_ptr<const TlsConfig> config,
                                                       const TlsSessionOptions& opts) {
  if (!config) return Error(TransportError::internal_error, "no TLS config");
  std::unique_ptr<TlsSession> s(new TlsSession(std::move(config)));
  ERR_clear_error();
  Status st = s->init(opts);
  ERR_clear_error();
  if (!st) return st.error();
  return s;
}

TlsSession::~TlsSession() {
  for (size_t i = 0; i < secrets_.size(); ++i)
    OPENSSL_cleanse(secrets_[i].bytes.data(), secrets_[i].bytes.size());
  for (size_t i = 0; i < tickets_.size(); ++i) OPENSSL_cleanse(tickets_[i].data(), tickets_[i].size());
  SSL_free(ssl_);
}

Status TlsSession::init(const TlsSessionOptions& opts) {
  ssl_ = SSL_new(config_->native_handle());
  if (!ssl_) return fail_from_ssl("SSL_new failed");
  if (!SSL_set_ex_data(ssl_, session_ex_index(), this) ||
      !SSL_set_quic_method(ssl_, &kQuicMethod))
    return fail_from_ssl("cannot configure QUIC");
  // RFC 9001 §8.2: quic_transport_parameters is extension 0x39 (57), not the
  // draft codepoint 0xffa5.
  SSL_set_quic_use_legacy_codepoint(ssl_, 0);

  if (is_server()) {
    SSL_set_accept_state(ssl_);
    if (!opts.early_data_context.empty()) WT_TRY(set_early_data_context(opts.early_data_context));
  } else {
    SSL_set_connect_state(ssl_);
    std::string name = opts.server_name.empty() ? config_->options().server_name : opts.server_name;
    if (name.size() >= 2 && name.front() == '[' && name.back() == ']')
      name = name.substr(1, name.size() - 2);
    bool verify = config_->options().verify == CertVerify::required;
    if (verify && name.empty())
      return fail_with(Error(TransportError::internal_error, "server name needed to verify"),
                       "certificate verification is required but no server name was given");
    if (!name.empty()) {
      X509_VERIFY_PARAM* param = SSL_get0_param(ssl_);
      if (is_ip_literal(name)) {
        // RFC 6066 §3: no IP literals in SNI; match iPAddress SANs instead.
        if (verify && !X509_VERIFY_PARAM_set1_ip_asc(param, name.c_str()))
          return fail_from_ssl("invalid server IP address");
      } else {
        if (!SSL_set_tlsext_host_name(ssl_, name.c_str()))
          return fail_from_ssl("invalid server name");
        if (verify && !X509_VERIFY_PARAM_set1_host(param, name.data(), name.size()))
          return fail_from_ssl("invalid server name");
      }
    }
    if (!opts.resume_session.empty()) {
      bssl::UniquePtr<SSL_SESSION> sess(SSL_SESSION_from_bytes(
          opts.resume_session.data(), opts.resume_session.size(), config_->native_handle()));
      if (!sess) return fail_from_ssl("invalid resumption session");
      if (!SSL_set_session(ssl_, sess.get())) return fail_from_ssl("cannot set session");
    }
  }
  if (!opts.transport_params.empty()) WT_TRY(set_local_transport_params(opts.transport_params));
  return {};
}

Status TlsSession::set_local_transport_params(Bytes params) {
  if (failed_) return error_;
  if (!SSL_set_quic_transport_params(ssl_, params.data(), params.size()))
    return fail_from_ssl("cannot set transport parameters");
  return {};
}

Status TlsSession::set_early_data_context(Bytes context) {
  if (failed_) return error_;
  if (!is_server()) return Error(TransportError::internal_error, "early data context is server-only");
  if (!SSL_set_quic_early_data_context(ssl_, context.data(), context.size()))
    return fail_from_ssl("cannot set early data context");
  return {};
}

Status TlsSession::provide_data(EncryptionLevel level, Bytes data) {
  if (failed_) return error_;
  if (data.empty()) return {};
  if (released_) {
    if (level != EncryptionLevel::application)
      return fail_with(Error(TransportError::protocol_violation, "CRYPTO data at unexpected level"),
                       std::string("CRYPTO data at ") + level_name(level) + " level after the handshake");
    return check_post_handshake(data);
  }
  ERR_clear_error();
  if (SSL_provide_quic_data(ssl_, to_ssl(level), data.data(), data.size())) return {};
  int reason = ERR_GET_REASON(ERR_peek_last_error());
  std::string msg = std::string("CRYPTO data rejected at ") + level_name(level) + " level";
  if (reason == SSL_R_WRONG_ENCRYPTION_LEVEL_RECEIVED) {
    // RFC 9001 §4.1.3: data at an unexpected level is a PROTOCOL_VIOLATION.
    return fail_with(Error(TransportError::protocol_violation, "CRYPTO data at unexpected level"),
                     std::move(msg));
  }
  if (reason == SSL_R_EXCESSIVE_MESSAGE_SIZE) {
    // RFC 9000 §7.5.
    return fail_with(Error(TransportError::crypto_buffer_exceeded, "CRYPTO data too large"),
                     std::move(msg));
  }
  return fail_from_ssl("CRYPTO data rejected");
}

Result<TlsProgress> TlsSession::do_handshake() {
  if (failed_) return error_;
  if (released_) return TlsProgress::complete;
  ERR_clear_error();
  if (!SSL_in_init(ssl_)) {
    // RFC 9001 §4.1.3: post-handshake messages (NewSessionTicket) arrive at 1-RTT.
    if (SSL_process_quic_post_handshake(ssl_) != 1)
      return fail_from_ssl("post-handshake message rejected");
    return TlsProgress::complete;
  }
  for (;;) {
    int rv = SSL_do_handshake(ssl_);
    if (rv == 1) {
      // Returns early, still in init, when 0-RTT (client) or half-RTT with
      // accepted early data (server) may be sent.
      if (SSL_in_init(ssl_)) return TlsProgress::early_data;
      if (alpn().empty()) {
        // RFC 9001 §8.1; BoringSSL enforces this, but never go on without it.
        Error e;
        e.code = static_cast<uint64_t>(TransportError::crypto_error_base) +
                 SSL_AD_NO_APPLICATION_PROTOCOL;
        e.detail = "no application protocol negotiated";
        return fail_with(e, e.detail);
      }
      return TlsProgress::complete;
    }
    int err = SSL_get_error(ssl_, rv);
    if (err == SSL_ERROR_WANT_READ) return TlsProgress::in_progress;
    if (err == SSL_ERROR_EARLY_DATA_REJECTED) {
      // Continue as a 1-RTT handshake on the same connection; the connection
      // drops its 0-RTT keys when it sees early_data_rejected().
      early_data_rejected_ = true;
      SSL_reset_early_data_reject(ssl_);
      continue;
    }
    return fail_from_ssl("TLS handshake failed");
  }
}

Error TlsSession::fail_from_ssl(const char* what) {
  uint32_t packed = ERR_peek_error();
  const char* reason = packed ? ERR_reason_error_string(packed) : nullptr;
  Error e;
  // RFC 9001 §4.8: a TLS alert becomes CRYPTO_ERROR 0x100 + alert; failures
  // without an alert are reported as internal_error (80).
  uint8_t alert = alert_.value_or(SSL_AD_INTERNAL_ERROR);
  e.code = static_cast<uint64_t>(TransportError::crypto_error_base) + alert;
  e.detail = reason ? reason : what;

  std::string msg = what;
  if (alert_) {
    msg += std::string(": sent alert ") + std::to_string(*alert_) + " (" +
           SSL_alert_desc_string_long(*alert_) + ")";
  }
  if (ssl_) {
    long vr = SSL_get_verify_result(ssl_);
    if (vr != X509_V_OK) msg += std::string("; certificate: ") + X509_verify_cert_error_string(vr);
  }
  while (uint32_t err = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(err, buf, sizeof(buf));
    msg += "; ";
    msg += buf;
  }
  return fail_with(e, std::move(msg));
}

Error TlsSession::fail_with(Error e, std::string message) {
  failed_ = true;
  error_ = e;
  last_error_ = std::move(message);
  ERR_clear_error();
  return e;
}

bool TlsSession::poll_secret(TlsSecret& out) {
  if (secrets_.empty()) return false;
  out = secrets_.front();
  OPENSSL_cleanse(secrets_.front().bytes.data(), secrets_.front().bytes.size());
  secrets_.pop_front();
  return true;
}

Bytes TlsSession::pending_crypto(EncryptionLevel level) const {
  const Outgoing& o = out_[static_cast<size_t>(level)];
  return Bytes{o.data}.subspan(o.consumed);
}

void TlsSession::consume_crypto(EncryptionLevel level, size_t n) {
  Outgoing& o = out_[static_cast<size_t>(level)];
  o.consumed = std::min(o.data.size(), o.consumed + n);
  if (o.consumed == o.data.size()) {
    // A flight is handed out whole: keep no buffer between flights.
    std::vector<uint8_t>().swap(o.data);
    o.consumed = 0;
  }
}

std::vector<uint8_t> TlsSession::take_crypto(EncryptionLevel level) {
  Outgoing& o = out_[static_cast<size_t>(level)];
  std::vector<uint8_t> v;
  if (o.consumed == 0) {
    v.swap(o.data);
  } else {
    v.assign(o.data.begin() + static_cast<std::ptrdiff_t>(o.consumed), o.data.end());
    o.data.clear();
  }
  o.consumed = 0;
  return v;
}

bool TlsSession::has_pending_crypto() const {
  for (const auto& o : out_)
    if (o.consumed < o.data.size()) return true;
  return false;
}

bool TlsSession::poll_session_ticket(std::vector<uint8_t>& out) {
  if (tickets_.empty()) return false;
  if (done_.leaf_in_ticket && tickets_.size() == 1) {
    // The last session that holds the peer's certificate goes.
    done_.peer_leaf = leaf_from_ticket(tickets_.front());
    done_.leaf_in_ticket = false;
  }
  out = std::move(tickets_.front());
  tickets_.pop_front();
  return true;
}

bool TlsSession::handshake_complete() const {
  return !failed_ && (released_ || !SSL_in_init(ssl_));
}

Bytes TlsSession::peer_transport_params() const {
  if (released_) return {};  // applied by the connection during the handshake
  const uint8_t* p = nullptr;
  size_t len = 0;
  SSL_get_peer_quic_transport_params(ssl_, &p, &len);
  return {p, len};
}

std::string_view TlsSession::alpn() const {
  if (released_) return done_.alpn;
  const uint8_t* p = nullptr;
  unsigned len = 0;
  SSL_get0_alpn_selected(ssl_, &p, &len);
  return {reinterpret_cast<const char*>(p), len};
}

uint16_t TlsSession::cipher_suite() const {
  if (released_) return done_.cipher_suite;
  const SSL_CIPHER* c = SSL_get_current_cipher(ssl_);
  return c ? SSL_CIPHER_get_protocol_id(c) : 0;
}

uint16_t TlsSession::key_exchange_group() const {
  return released_ ? done_.group : SSL_get_curve_id(ssl_);
}

bool TlsSession::is_resumed() const {
  return released_ ? done_.resumed : SSL_session_reused(ssl_) == 1;
}

bool TlsSession::early_data_accepted() const {
  return released_ ? done_.early_data_accepted : SSL_early_data_accepted(ssl_) == 1;
}

const char* TlsSession::early_data_reason() const {
  if (released_) return done_.early_data_reason ? done_.early_data_reason : "unknown";
  const char* r = SSL_early_data_reason_string(SSL_get_early_data_reason(ssl_));
  return r ? r : "unknown";
}

std::string_view TlsSession::server_name() const {
  if (released_) return done_.server_name;
  const char* n = SSL_get_servername(ssl_, TLSEXT_NAMETYPE_host_name);
  return n ? std::string_view(n) : std::string_view();
}

std::optional<PeerCertificate> TlsSession::peer_certificate() const {
  if (released_) {
    PeerCertificate pc;
    pc.der = done_.leaf_in_ticket ? leaf_from_ticket(tickets_.front()) : done_.peer_leaf;
    if (pc.der.empty()) return std::nullopt;
    pc.chain_length = done_.peer_chain_length;
    const uint8_t* p = pc.der.data();
    bssl::UniquePtr<X509> x(d2i_X509(nullptr, &p, static_cast<long>(pc.der.size())));
    if (x) {
      pc.subject = name_line(X509_get_subject_name(x.get()));
      pc.issuer = name_line(X509_get_issuer_name(x.get()));
    }
    ERR_clear_error();
    return pc;
  }
  const STACK_OF(CRYPTO_BUFFER)* chain = SSL_get0_peer_certificates(ssl_);
  if (!chain || sk_CRYPTO_BUFFER_num(chain) == 0) return std::nullopt;
  PeerCertificate pc;
  pc.chain_length = sk_CRYPTO_BUFFER_num(chain);
  const CRYPTO_BUFFER* leaf = sk_CRYPTO_BUFFER_value(chain, 0);
  pc.der.assign(CRYPTO_BUFFER_data(leaf), CRYPTO_BUFFER_data(leaf) + CRYPTO_BUFFER_len(leaf));
  bssl::UniquePtr<X509> x(SSL_get_peer_certificate(ssl_));
  if (x) {
    pc.subject = name_line(X509_get_subject_name(x.get()));
    pc.issuer = name_line(X509_get_issuer_name(x.get()));
  }
  return pc;
}

std::optional<uint8_t> TlsSession::alert_sent() const { return alert_; }

size_t TlsSession::max_crypto_buffer(EncryptionLevel level) const {
  // Released: messages are skipped, not buffered; one header at a time.
  if (released_) return level == EncryptionLevel::application ? ph_header_.size() : 0;
  return SSL_quic_max_handshake_flight_len(ssl_, to_ssl(level));
}

EncryptionLevel TlsSession::read_level() const {
  return released_ ? EncryptionLevel::application : to_level(SSL_quic_read_level(ssl_));
}
EncryptionLevel TlsSession::write_level() const {
  return released_ ? EncryptionLevel::application : to_level(SSL_quic_write_level(ssl_));
}

bool TlsSession::release_ssl() {
  if (released_) return true;
  if (failed_ || !ssl_ || SSL_in_init(ssl_) || !secrets_.empty() || has_pending_crypto())
    return false;
  Negotiated d;
  d.alpn = std::string(alpn());
  d.server_name = std::string(server_name());
  d.cipher_suite = cipher_suite();
  d.group = key_exchange_group();
  d.resumed = is_resumed();
  d.early_data_accepted = early_data_accepted();
  d.early_data_reason = SSL_early_data_reason_string(SSL_get_early_data_reason(ssl_));
  if (const STACK_OF(CRYPTO_BUFFER)* chain = SSL_get0_peer_certificates(ssl_);
      chain && sk_CRYPTO_BUFFER_num(chain) > 0) {
    const CRYPTO_BUFFER* leaf = sk_CRYPTO_BUFFER_value(chain, 0);
    d.peer_chain_length = sk_CRYPTO_BUFFER_num(chain);
    // Sessions from tickets carry the established session's certificates.
    if (!tickets_.empty()) {
      const std::vector<uint8_t> t = leaf_from_ticket(tickets_.front());
      d.leaf_in_ticket = t.size() == CRYPTO_BUFFER_len(leaf) &&
                         std::equal(t.begin(), t.end(), CRYPTO_BUFFER_data(leaf));
    }
    if (!d.leaf_in_ticket)
      d.peer_leaf.assign(CRYPTO_BUFFER_data(leaf), CRYPTO_BUFFER_data(leaf) + CRYPTO_BUFFER_len(leaf));
  }
  done_ = std::move(d);
  SSL_free(ssl_);
  ssl_ = nullptr;
  released_ = true;
  secrets_.shrink();
  return true;
}

std::vector<uint8_t> TlsSession::leaf_from_ticket(const std::vector<uint8_t>& ticket) const {
  std::vector<uint8_t> der;
  bssl::UniquePtr<SSL_SESSION> s(
      SSL_SESSION_from_bytes(ticket.data(), ticket.size(), config_->native_handle()));
  if (const STACK_OF(CRYPTO_BUFFER)* chain = s ? SSL_SESSION_get0_peer_certificates(s.get()) : nullptr;
      chain && sk_CRYPTO_BUFFER_num(chain) > 0) {
    const CRYPTO_BUFFER* leaf = sk_CRYPTO_BUFFER_value(chain, 0);
    der.assign(CRYPTO_BUFFER_data(leaf), CRYPTO_BUFFER_data(leaf) + CRYPTO_BUFFER_len(leaf));
  }
  ERR_clear_error();
  return der;
}

Status TlsSession::check_post_handshake(Bytes data) {
  // RFC 8446 §4: HandshakeType (1 byte) and a 24-bit length, then the body.
  while (!data.empty()) {
    if (ph_skip_ > 0) {
      const size_t n = std::min<size_t>(ph_skip_, data.size());
      ph_skip_ -= static_cast<uint32_t>(n);
      data = data.subspan(n);
      continue;
    }
    ph_header_[ph_header_len_++] = data[0];
    data = data.subspan(1);
    if (ph_header_len_ < ph_header_.size()) continue;
    ph_header_len_ = 0;
    constexpr uint8_t kNewSessionTicket = 4;
    if (is_server() || ph_header_[0] != kNewSessionTicket) {
      // RFC 9001 §6: a KeyUpdate is 0x10a; so is any message TLS would not
      // expect here (a client sends none after its Finished in QUIC).
      alert_ = SSL_AD_UNEXPECTED_MESSAGE;
      Error e;
      e.code = static_cast<uint64_t>(TransportError::crypto_error_base) + SSL_AD_UNEXPECTED_MESSAGE;
      e.detail = "unexpected post-handshake message";
      return fail_with(e, "unexpected post-handshake message type " + std::to_string(ph_header_[0]));
    }
    ph_skip_ = (uint32_t{ph_header_[1]} << 16) | (uint32_t{ph_header_[2]} << 8) | ph_header_[3];
  }
  return {};
}

void TlsSession::on_secret(EncryptionLevel level, SecretDirection dir, uint16_t suite,
                           const uint8_t* s, size_t len) {
  TlsSecret sec;
  sec.level = level;
  sec.direction = dir;
  sec.cipher_suite = suite;
  sec.length = static_cast<uint8_t>(len);
  std::memcpy(sec.bytes.data(), s, len);
  secrets_.push_back(sec);
  OPENSSL_cleanse(sec.bytes.data(), sec.bytes.size());
}

void TlsSession::on_handshake_data(EncryptionLevel level, const uint8_t* data, size_t len) {
  auto& v = out_[static_cast<size_t>(level)].data;
  v.insert(v.end(), data, data + len);
}

void TlsSession::on_alert(EncryptionLevel, uint8_t alert) {
  // RFC 9001 §4.8: the alert is not sent as TLS; it becomes the CONNECTION_CLOSE code.
  if (!alert_) alert_ = alert;
}

void TlsSession::on_new_session(SSL_SESSION* session) {
  uint8_t* buf = nullptr;
  size_t len = 0;
  if (!SSL_SESSION_to_bytes(session, &buf, &len)) {
    ERR_clear_error();
    return;
  }
  tickets_.emplace_back(buf, buf + len);
  OPENSSL_free(buf);
}

}  // namespace wt::quic

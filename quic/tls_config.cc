#include "quic/tls_config.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <sstream>

#include "quic/packet_cipher.h"
#include "quic/tls_session.h"

namespace wt::quic {
namespace {

int config_ex_index() {
  static const int idx = SSL_CTX_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
  return idx;
}

// Drains BoringSSL's thread-local error queue into `err`.
void append_ssl_errors(std::string& err) {
  while (uint32_t e = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof(buf));
    err += "; ";
    err += buf;
  }
}

Error config_error(std::string& err, const char* detail, const std::string& context = {}) {
  err = detail;
  if (!context.empty()) err += ": " + context;
  append_ssl_errors(err);
  return Error(TransportError::internal_error, detail);
}

bool read_file(const std::string& path, std::string& out) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return false;
  std::ostringstream ss;
  ss << f.rdbuf();
  out = ss.str();
  return static_cast<bool>(f) || f.eof();
}

bssl::UniquePtr<BIO> mem_bio(const std::string& s) {
  return bssl::UniquePtr<BIO>(BIO_new_mem_buf(s.data(), static_cast<int>(s.size())));
}

// Server ALPN selection in the server's preference order. RFC 9001 §8.1: no
// common protocol fails the handshake; BoringSSL turns ALERT_FATAL into
// no_application_protocol (120).
int select_alpn(SSL*, const uint8_t** out, uint8_t* out_len, const uint8_t* in, unsigned in_len,
                void* arg) {
  const auto* cfg = static_cast<const TlsConfig*>(arg);
  for (const auto& want : cfg->options().alpn) {
    unsigned i = 0;
    while (i < in_len) {
      unsigned len = in[i];
      if (len == 0 || i + 1 + len > in_len) break;  // malformed list: stop scanning
      if (len == want.size() && std::memcmp(in + i + 1, want.data(), len) == 0) {
        *out = in + i + 1;
        *out_len = static_cast<uint8_t>(len);
        return SSL_TLSEXT_ERR_OK;
      }
      i += 1 + len;
    }
  }
  return SSL_TLSEXT_ERR_ALERT_FATAL;
}

void keylog_trampoline(const SSL* ssl, const char* line) {
  auto* cfg = static_cast<const TlsConfig*>(
      SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), config_ex_index()));
  if (cfg && cfg->options().keylog) cfg->options().keylog(std::string_view(line));
}

ssl_verify_result_t accept_any_certificate(SSL*, uint8_t*) { return ssl_verify_ok; }

}  // namespace

const char* cipher_suite_name(uint16_t suite) {
  switch (suite) {
    case kTlsAes128GcmSha256: return "TLS_AES_128_GCM_SHA256";
    case kTlsAes256GcmSha384: return "TLS_AES_256_GCM_SHA384";
    case kTlsChacha20Poly1305Sha256: return "TLS_CHACHA20_POLY1305_SHA256";
    default: return "unknown";
  }
}

Result<std::shared_ptr<TlsConfig>> TlsConfig::create(const TlsConfigOptions& opts,
                                                     std::string* error_message) {
  std::shared_ptr<TlsConfig> cfg(new TlsConfig(opts));
  std::string err;
  ERR_clear_error();
  Status st = cfg->init(err);
  ERR_clear_error();
  if (error_message) *error_message = err;
  if (!st) return st.error();
  return cfg;
}

TlsConfig::~TlsConfig() { SSL_CTX_free(ctx_); }

Status TlsConfig::init(std::string& err) {
  // RFC 9001 §8.1: ALPN is mandatory for QUIC.
  if (opts_.alpn.empty()) return config_error(err, "QUIC requires at least one ALPN protocol");
  for (const auto& p : opts_.alpn) {
    if (p.empty() || p.size() > 255) return config_error(err, "invalid ALPN protocol name", p);
    alpn_wire_.push_back(static_cast<uint8_t>(p.size()));
    alpn_wire_.insert(alpn_wire_.end(), p.begin(), p.end());
  }

  ctx_ = SSL_CTX_new(TLS_method());
  if (!ctx_) return config_error(err, "SSL_CTX_new failed");
  SSL_CTX_set_ex_data(ctx_, config_ex_index(), this);
  // RFC 9001 §4.2: TLS 1.3 or later only.
  if (!SSL_CTX_set_min_proto_version(ctx_, TLS1_3_VERSION) ||
      !SSL_CTX_set_max_proto_version(ctx_, TLS1_3_VERSION))
    return config_error(err, "cannot restrict to TLS 1.3");
  if (!opts_.groups.empty() && !SSL_CTX_set1_curves_list(ctx_, opts_.groups.c_str()))
    return config_error(err, "invalid key exchange group list", opts_.groups);

  if (is_server()) {
    SSL_CTX_set_alpn_select_cb(ctx_, select_alpn, this);
  } else if (SSL_CTX_set_alpn_protos(ctx_, alpn_wire_.data(), alpn_wire_.size()) != 0) {
    return config_error(err, "cannot set ALPN protocols");
  }

  WT_TRY(load_own_certificate(err));

  bool verify_peer = !is_server() || opts_.client_auth != ClientAuth::none;
  int mode = SSL_VERIFY_NONE;
  if (is_server()) {
    if (opts_.client_auth == ClientAuth::request) mode = SSL_VERIFY_PEER;
    if (opts_.client_auth == ClientAuth::require)
      mode = SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
  } else if (opts_.verify == CertVerify::required) {
    mode = SSL_VERIFY_PEER;
  }
  if (verify_peer && opts_.verify == CertVerify::required) {
    WT_TRY(load_trust_store(err));
    SSL_CTX_set_verify(ctx_, mode, nullptr);
  } else if (is_server() && mode != SSL_VERIFY_NONE) {
    // Ask for (or insist on) a client certificate but accept any.
    SSL_CTX_set_custom_verify(ctx_, mode, accept_any_certificate);
  } else {
    SSL_CTX_set_verify(ctx_, SSL_VERIFY_NONE, nullptr);
  }

  // Sessions only resume under the same context, so that a session
  // authenticated under one client-auth policy is not reused under another.
  static const uint8_t kSidCtx[] = {'w', 't', 'c', 'p', 'p'};
  if (!SSL_CTX_set_session_id_context(ctx_, kSidCtx, sizeof(kSidCtx)))
    return config_error(err, "cannot set session id context");
  if (is_server()) {
    SSL_CTX_set_num_tickets(ctx_, opts_.session_tickets ? opts_.num_tickets : 0);
    if (opts_.session_lifetime_s != 0) {
      // RFC 8446 §4.6.1: ticket lifetime at most seven days.
      SSL_CTX_set_session_psk_dhe_timeout(ctx_, std::min<uint32_t>(opts_.session_lifetime_s,
                                                                   7 * 24 * 3600));
    }
  } else {
    // Clients keep no internal cache: tickets go to TlsSession::poll_session_ticket.
    SSL_CTX_set_session_cache_mode(
        ctx_, opts_.session_tickets ? SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL
                                    : SSL_SESS_CACHE_OFF);
  }
  detail::install_session_callbacks(ctx_);
  // RFC 9001 §4.6: 0-RTT is opt-in.
  SSL_CTX_set_early_data_enabled(ctx_, opts_.early_data ? 1 : 0);

  if (opts_.keylog) SSL_CTX_set_keylog_callback(ctx_, keylog_trampoline);
  return {};
}

Status TlsConfig::load_own_certificate(std::string& err) {
  std::string chain = opts_.cert_chain_pem;
  std::string key = opts_.private_key_pem;
  if (chain.empty() && !opts_.cert_chain_file.empty() && !read_file(opts_.cert_chain_file, chain))
    return config_error(err, "cannot read certificate file", opts_.cert_chain_file);
  if (key.empty() && !opts_.private_key_file.empty() && !read_file(opts_.private_key_file, key))
    return config_error(err, "cannot read private key file", opts_.private_key_file);
  if (chain.empty() && key.empty()) {
    if (is_server()) return config_error(err, "server needs a certificate and private key");
    return {};
  }
  if (chain.empty() || key.empty())
    return config_error(err, "certificate and private key must be given together");

  auto bio = mem_bio(chain);
  bssl::UniquePtr<X509> leaf(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  if (!leaf) return config_error(err, "cannot parse certificate PEM", opts_.cert_chain_file);
  if (!SSL_CTX_use_certificate(ctx_, leaf.get()))
    return config_error(err, "unusable certificate", opts_.cert_chain_file);
  while (bssl::UniquePtr<X509> extra{PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)}) {
    if (!SSL_CTX_add1_chain_cert(ctx_, extra.get()))
      return config_error(err, "cannot add chain certificate", opts_.cert_chain_file);
  }
  ERR_clear_error();  // the loop ends on a "no start line" error

  auto kbio = mem_bio(key);
  bssl::UniquePtr<EVP_PKEY> pkey(PEM_read_bio_PrivateKey(kbio.get(), nullptr, nullptr, nullptr));
  if (!pkey) return config_error(err, "cannot parse private key PEM", opts_.private_key_file);
  if (!X509_check_private_key(leaf.get(), pkey.get()))
    return config_error(err, "private key does not match certificate", opts_.private_key_file);
  if (!SSL_CTX_use_PrivateKey(ctx_, pkey.get()))
    return config_error(err, "unusable private key", opts_.private_key_file);
  return {};
}

Status TlsConfig::load_trust_store(std::string& err) {
  X509_STORE* store = SSL_CTX_get_cert_store(ctx_);
  if (!opts_.ca_file.empty() &&
      !X509_STORE_load_locations(store, opts_.ca_file.c_str(), nullptr))
    return config_error(err, "cannot load CA file", opts_.ca_file);
  if (!opts_.ca_pem.empty()) {
    auto bio = mem_bio(opts_.ca_pem);
    int n = 0;
    while (bssl::UniquePtr<X509> ca{PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)}) {
      if (!X509_STORE_add_cert(store, ca.get()) &&
          ERR_GET_REASON(ERR_peek_last_error()) != X509_R_CERT_ALREADY_IN_HASH_TABLE)
        return config_error(err, "cannot add CA certificate");
      ERR_clear_error();
      ++n;
    }
    ERR_clear_error();
    if (n == 0) return config_error(err, "no certificate in CA PEM");
  }
  if (opts_.ca_file.empty() && opts_.ca_pem.empty() &&
      !X509_STORE_load_locations(store, kSystemCaFile, nullptr))
    return config_error(err, "cannot load system CA store", kSystemCaFile);
  return {};
}

}  // namespace wt::quic

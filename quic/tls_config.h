// Shared TLS 1.3 configuration for QUIC (one SSL_CTX, many connections):
// ALPN, certificates, peer verification, client authentication, session
// tickets, early data and key logging. Sessions (quic/tls_session.h) hold a
// shared_ptr to the config, so it outlives every connection that uses it.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "lib/result.h"

typedef struct ssl_ctx_st SSL_CTX;

namespace wt::quic {

enum class TlsRole : uint8_t { client, server };

// How the peer's certificate is checked (like Python ssl.CERT_NONE/CERT_REQUIRED).
enum class CertVerify : uint8_t {
  none,      // accept any certificate (development; WebTransport with cert hashes)
  required,  // chain must verify against the trust store, and the name must match
};

// Server: whether to ask clients for a certificate.
enum class ClientAuth : uint8_t { none, request, require };

// Cipher suites are reported as TLS 1.3 ids (RFC 8446 §B.4; constants and
// the mapping to CipherSuite are in quic/packet_cipher.h). This BoringSSL
// cannot configure TLS 1.3 suites (cipher list functions only affect TLS 1.2,
// and it has no AES-hardware override): its client offers AES-128-GCM,
// AES-256-GCM, ChaCha20-Poly1305, with ChaCha20 first on CPUs without AES
// instructions, and its server picks from the client's offer.
// TlsSession::cipher_suite() reports the result.
const char* cipher_suite_name(uint16_t suite);  // "TLS_AES_128_GCM_SHA256", or "unknown"

struct TlsConfigOptions {
  TlsRole role = TlsRole::client;
  // RFC 9001 §8.1: QUIC requires ALPN. Client: offered in this order. Server:
  // its preference order; no overlap fails with no_application_protocol.
  std::vector<std::string> alpn;

  // Our certificate chain (leaf first) and private key, as PEM text or files
  // (text wins when both are set). Required for servers; optional for clients
  // (presented when the server asks). ECDSA and RSA keys are supported.
  std::string cert_chain_pem;
  std::string private_key_pem;
  std::string cert_chain_file;
  std::string private_key_file;

  // Verification of the peer's certificate. A client verifies the server; a
  // server verifies client certificates when client_auth != none.
  CertVerify verify = CertVerify::required;
  // Trust anchors for `required`: a PEM file and/or PEM text. If neither is
  // set, the system store (kSystemCaFile) is used.
  std::string ca_file;
  std::string ca_pem;
  ClientAuth client_auth = ClientAuth::none;  // server only

  // Client: default server name for SNI and host/IP checking when a session
  // does not name one (TlsSessionOptions::server_name).
  std::string server_name;

  // Key exchange groups in BoringSSL's syntax (e.g. "X25519:P-256"); empty:
  // BoringSSL's default (X25519, P-256, P-384).
  std::string groups;

  // Resumption: servers issue NewSessionTicket messages (`num_tickets`, 0
  // disables); clients report them through TlsSession::poll_session_ticket.
  bool session_tickets = true;
  uint8_t num_tickets = 2;
  // Server ticket lifetime; 0: BoringSSL's default (2 days). RFC 8446 §4.6.1
  // caps it at 7 days.
  uint32_t session_lifetime_s = 0;
  // 0-RTT (RFC 9001 §4.6). Servers must also set an early data context per
  // connection (TlsSession::set_early_data_context).
  bool early_data = false;

  // Receives NSS key log lines (no trailing newline), e.g. for SSLKEYLOGFILE.
  // Called from inside handshake processing; must not call back into TLS.
  std::function<void(std::string_view line)> keylog;
};

inline constexpr const char* kSystemCaFile = "/etc/ssl/certs/ca-certificates.crt";

class TlsConfig {
 public:
  // On failure the Error detail is short and static; `error_message` (if not
  // null) receives a full description (file names, BoringSSL reasons).
  static Result<std::shared_ptr<TlsConfig>> create(const TlsConfigOptions& opts,
                                                   std::string* error_message = nullptr);
  ~TlsConfig();
  TlsConfig(const TlsConfig&) = delete;
  TlsConfig& operator=(const TlsConfig&) = delete;

  TlsRole role() const { return opts_.role; }
  bool is_server() const { return opts_.role == TlsRole::server; }
  const TlsConfigOptions& options() const { return opts_; }
  // ALPN list in wire format (length-prefixed names).
  const std::vector<uint8_t>& alpn_wire() const { return alpn_wire_; }
  // For settings this wrapper does not cover. Changing it after sessions were
  // created affects new sessions only.
  SSL_CTX* native_handle() const { return ctx_; }

 private:
  explicit TlsConfig(const TlsConfigOptions& opts) : opts_(opts) {}
  Status init(std::string& err);
  Status load_own_certificate(std::string& err);
  Status load_trust_store(std::string& err);

  TlsConfigOptions opts_;
  std::vector<uint8_t> alpn_wire_;
  SSL_CTX* ctx_ = nullptr;
};

}  // namespace wt::quic

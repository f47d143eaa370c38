// One connection's TLS 1.3 handshake over BoringSSL's QUIC API (RFC 9001).
// Sans-I/O: the connection feeds CRYPTO data in order per encryption level,
// drives the handshake, pulls outgoing CRYPTO data per level, and takes the
// traffic secrets to derive packet protection keys (quic/key_schedule.h).
//
//   session->provide_data(level, bytes);      // reassembled, in order
//   auto progress = session->do_handshake();  // error: CRYPTO_ERROR 0x100+alert
//   while (session->poll_secret(s)) install keys for s.level / s.direction
//   for each level: send session->take_crypto(level) in CRYPTO frames
//
// Call do_handshake() after every provide_data(): keys for the next level
// appear only once the data at the current level is processed, and BoringSSL
// accepts data only at its current read level. After the handshake completes,
// do_handshake() processes post-handshake messages (NewSessionTicket).
//
// Once the handshake is done, release_ssl() frees the BoringSSL connection
// (most of a session's memory); what was negotiated stays readable.
#pragma once
#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lib/bytes.h"
#include "lib/result.h"
#include "quic/compact_queue.h"
#include "quic/packet_type.h"
#include "quic/tls_config.h"

typedef struct ssl_st SSL;
typedef struct ssl_session_st SSL_SESSION;

namespace wt::quic {

enum class SecretDirection : uint8_t { read, write };

// A traffic secret handed out by TLS (RFC 9001 §5.1). Initial secrets are not
// among them: those come from the connection ID (RFC 9001 §5.2).
struct TlsSecret {
  EncryptionLevel level = EncryptionLevel::initial;
  SecretDirection direction = SecretDirection::read;
  uint16_t cipher_suite = 0;  // TLS id, e.g. 0x1301; see cipher_suite_from_tls_id()
  uint8_t length = 0;         // 32 (SHA-256 suites) or 48 (SHA-384)
  std::array<uint8_t, 48> bytes{};
  Bytes secret() const { return {bytes.data(), length}; }
};

enum class TlsProgress : uint8_t {
  in_progress,  // waiting for more CRYPTO data
  // Client: 0-RTT may be sent (early_data write secret delivered). Server:
  // early data accepted; the handshake still needs the client's Finished.
  early_data,
  complete,  // RFC 9001 §4.1.1: Finished sent and peer Finished verified
};

struct PeerCertificate {
  std::vector<uint8_t> der;  // leaf certificate
  std::string subject;       // one-line form, e.g. "/O=wtcpp/CN=localhost"
  std::string issuer;
  size_t chain_length = 0;   // certificates the peer sent, leaf included
};

struct TlsSessionOptions {
  // Client: host name or IP literal (v4, v6, optionally in brackets) of the
  // server; empty: the config's server_name. A host name is sent as SNI and
  // checked against the certificate; an IP address is not sent (RFC 6066 §3)
  // and is checked against iPAddress subjectAltNames.
  std::string server_name;
  // Client: a serialized session from poll_session_ticket() to resume.
  std::vector<uint8_t> resume_session;
  // Our quic_transport_parameters (RFC 9000 §18); also settable later, but
  // before the first do_handshake() that sends ClientHello/EncryptedExtensions.
  std::vector<uint8_t> transport_params;
  // Server: 0-RTT context, see set_early_data_context().
  std::vector<uint8_t> early_data_context;
};

class TlsSession {
 public:
  static Result<std::unique_ptr<TlsSession>> create(std::shared_ptr<const TlsConfig> config,
                                                    const TlsSessionOptions& opts = {});
  ~TlsSession();
  TlsSession(const TlsSession&) = delete;
  TlsSession& operator=(const TlsSession&) = delete;

  bool is_server() const { return config_->is_server(); }
  const TlsConfig& config() const { return *config_; }

  // RFC 9001 §8.2: carried in the quic_transport_parameters extension (0x39).
  Status set_local_transport_params(Bytes params);
  // Server, RFC 9001 §4.6.1: 0-RTT is accepted only if this context equals the
  // one of the connection that issued the ticket. Put in it every transport
  // parameter the client remembers and the application's state (HTTP/3
  // SETTINGS). Empty: early data is never accepted.
  Status set_early_data_context(Bytes context);

  // Received CRYPTO data for `level`, contiguous with what was given before.
  // Errors: PROTOCOL_VIOLATION for a level TLS does not expect (RFC 9001
  // §4.1.3), CRYPTO_BUFFER_EXCEEDED when too much is buffered.
  Status provide_data(EncryptionLevel level, Bytes data);
  // Advances the handshake (or, once complete, processes post-handshake
  // messages). On failure returns CRYPTO_ERROR 0x100 + alert (RFC 9001 §4.8)
  // and stays failed.
  Result<TlsProgress> do_handshake();

  // Secrets in the order TLS released them (write before read per level).
  bool poll_secret(TlsSecret& out);

  // Outgoing CRYPTO data per level, in stream order.
  Bytes pending_crypto(EncryptionLevel level) const;
  void consume_crypto(EncryptionLevel level, size_t n);
  std::vector<uint8_t> take_crypto(EncryptionLevel level);
  bool has_pending_crypto() const;

  // Client: resumable sessions (serialized) from NewSessionTicket messages.
  bool poll_session_ticket(std::vector<uint8_t>& out);

  // State and negotiated parameters.
  bool handshake_complete() const;
  bool failed() const { return failed_; }
  Bytes peer_transport_params() const;
  std::string_view alpn() const;           // empty before negotiation
  uint16_t cipher_suite() const;           // 0 before negotiation
  uint16_t key_exchange_group() const;     // TLS group id, e.g. 29 (X25519)
  bool is_resumed() const;
  bool early_data_accepted() const;
  // Client: the server rejected 0-RTT; discard 0-RTT keys and resend as 1-RTT.
  bool early_data_rejected() const { return early_data_rejected_; }
  const char* early_data_reason() const;
  std::string_view server_name() const;    // server: SNI received, if any
  std::optional<PeerCertificate> peer_certificate() const;
  // The fatal alert we sent, if any.
  std::optional<uint8_t> alert_sent() const;
  // A readable description of the last failure.
  const std::string& last_error() const { return last_error_; }
  // RFC 9000 §7.5: how much CRYPTO data TLS may need buffered at `level`.
  size_t max_crypto_buffer(EncryptionLevel level) const;
  EncryptionLevel read_level() const;
  EncryptionLevel write_level() const;

  // After the handshake: frees the BoringSSL connection (with its session,
  // certificates and buffers) once TLS has nothing left to hand out (every
  // secret polled, all CRYPTO data taken). Everything above stays readable,
  // and tickets already received stay in poll_session_ticket(). Afterwards
  // provide_data() only checks post-handshake messages: a client skips
  // NewSessionTicket (no resumption from later tickets); anything else is an
  // unexpected_message, CRYPTO_ERROR 0x10a (RFC 9001 §6: a TLS KeyUpdate is
  // a connection error of that type). False, and nothing done, if the
  // handshake is not complete, failed, or output is pending.
  bool release_ssl();
  bool ssl_released() const { return released_; }

  // Null once released.
  SSL* native_handle() const { return ssl_; }

  // Called from BoringSSL callbacks (internal).
  void on_secret(EncryptionLevel level, SecretDirection dir, uint16_t suite, const uint8_t* s,
                 size_t len);
  void on_handshake_data(EncryptionLevel level, const uint8_t* data, size_t len);
  void on_alert(EncryptionLevel level, uint8_t alert);
  void on_new_session(SSL_SESSION* session);
  static TlsSession* from_ssl(const SSL* ssl);

 private:
  explicit TlsSession(std::shared_ptr<const TlsConfig> config) : config_(std::move(config)) {}
  Status init(const TlsSessionOptions& opts);
  Error fail_from_ssl(const char* what);
  Error fail_with(Error e, std::string message);
  Status check_post_handshake(Bytes data);  // after release_ssl()
  std::vector<uint8_t> leaf_from_ticket(const std::vector<uint8_t>& ticket) const;

  std::shared_ptr<const TlsConfig> config_;
  SSL* ssl_ = nullptr;
  CompactQueue<TlsSecret> secrets_;
  struct Outgoing {
    std::vector<uint8_t> data;
    size_t consumed = 0;
  };
  std::array<Outgoing, 4> out_;
  CompactQueue<std::vector<uint8_t>> tickets_;
  // What the handshake negotiated, kept by release_ssl().
  struct Negotiated {
    std::string alpn;
    std::string server_name;
    // DER. A client holding tickets keeps none: each serialized session
    // carries the peer's chain already (leaf_in_ticket).
    std::vector<uint8_t> peer_leaf;
    size_t peer_chain_length = 0;
    bool leaf_in_ticket = false;
    const char* early_data_reason = nullptr;  // BoringSSL's static string
    uint16_t cipher_suite = 0;
    uint16_t group = 0;
    bool resumed = false;
    bool early_data_accepted = false;
  };
  Negotiated done_;
  bool released_ = false;
  // Post-handshake messages after release: the 4-byte header being read
  // (RFC 8446 §4), then the body bytes still to skip.
  std::array<uint8_t, 4> ph_header_{};
  uint8_t ph_header_len_ = 0;
  uint32_t ph_skip_ = 0;
  std::optional<uint8_t> alert_;
  bool failed_ = false;
  bool early_data_rejected_ = false;
  Error error_;
  std::string last_error_;
};

namespace detail {
// Installs the SSL_CTX callbacks that reach TlsSession (new session tickets).
void install_session_callbacks(SSL_CTX* ctx);
}  // namespace detail

}  // namespace wt::quic

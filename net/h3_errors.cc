#include "net/h3_errors.h"

#include <fmt/core.h>
#include <openssl/ssl.h>

#include "h3/h3_error.h"
#include "lib/result.h"

namespace wt::net {

const char* failure_kind_name(H3Failure::Kind k) {
  using K = H3Failure::Kind;
  switch (k) {
    case K::none: return "none";
    case K::connect: return "connect";
    case K::tls: return "tls";
    case K::timeout: return "timeout";
    case K::closed: return "closed";
    case K::reset: return "reset";
    case K::protocol: return "protocol";
    case K::rejected: return "rejected";
    case K::cancelled: return "cancelled";
  }
  return "?";
}

namespace {

constexpr uint64_t kCryptoBase = static_cast<uint64_t>(TransportError::crypto_error_base);

bool is_tls_alert(uint64_t code, bool application) {
  return !application && code >= kCryptoBase && code < kCryptoBase + 0x100;
}

}  // namespace

std::string describe_error_code(uint64_t code, bool application) {
  if (application) {
    if (const char* n = h3::h3_error_name(code)) return fmt::format("{} ({:#x})", n, code);
    return fmt::format("application error {:#x}", code);
  }
  // RFC 9001 §4.8: CRYPTO_ERROR carries the TLS alert in its low byte.
  if (is_tls_alert(code, application)) {
    const auto alert = static_cast<int>(code - kCryptoBase);
    return fmt::format("TLS alert {} {} ({:#x})", alert, SSL_alert_desc_string_long(alert), code);
  }
  return fmt::format("{} ({:#x})", transport_error_name(code), code);
}

H3Failure failure_from_close(const quic::CloseInfo& info, bool established, const Address& peer,
                             const std::string& tls_detail) {
  using K = H3Failure::Kind;
  const std::string who = peer.valid() ? peer.to_string() : std::string("the peer");
  if (info.idle_timeout) {
    // RFC 9000 §10.1: silence for the idle timeout; before the handshake
    // that usually means nothing answers at that address.
    if (!established)
      return H3Failure::make(K::timeout, fmt::format("no response from {} (QUIC handshake timed out; "
                                                     "is an HTTP/3 server listening there?)", who));
    return H3Failure::make(K::timeout, fmt::format("connection to {} idle timeout (no packets)", who));
  }
  if (info.stateless_reset)
    return H3Failure::make(K::closed, fmt::format("{} reset the connection (stateless reset)", who));
  const std::string code = describe_error_code(info.error_code, info.application);
  const std::string reason = info.reason.empty() ? std::string() : ": " + info.reason;
  if (is_tls_alert(info.error_code, info.application)) {
    if (info.by_peer)
      return H3Failure::make(K::tls, fmt::format("TLS handshake failed: {} sent {}{}", who, code, reason),
                             info.error_code);
    std::string detail = tls_detail.empty() ? info.reason : tls_detail;
    constexpr std::string_view kPrefix = "TLS handshake failed: ";
    if (detail.compare(0, kPrefix.size(), kPrefix) == 0) detail.erase(0, kPrefix.size());
    return H3Failure::make(K::tls, fmt::format("TLS handshake with {} failed: {} ({})", who, detail, code),
                           info.error_code);
  }
  if (info.application) {
    // H3_NO_ERROR: a graceful close, a failure only for unfinished exchanges.
    if (info.error_code == h3::code(h3::H3Error::no_error))
      return H3Failure::make(K::closed, fmt::format("connection closed {} with {}{}",
                                                    info.by_peer ? "by " + who : "locally", code, reason),
                             info.error_code);
    return H3Failure::make(K::protocol, fmt::format("connection closed {} with {}{}",
                                                    info.by_peer ? "by " + who : "locally", code, reason),
                           info.error_code);
  }
  if (info.error_code == 0)
    return H3Failure::make(K::closed, fmt::format("connection closed {}{}", info.by_peer ? "by " + who : "locally",
                                                  reason));
  return H3Failure::make(K::protocol, fmt::format("QUIC connection {} closed with {}{}",
                                                  info.by_peer ? "by " + who : "to " + who, code, reason),
                         info.error_code);
}

}  // namespace wt::net

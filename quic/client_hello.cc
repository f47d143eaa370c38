#include "quic/client_hello.h"

#include <bitset>

namespace wt::quic {
namespace {

// RFC 8446 §6.2: malformed messages get the decode_error alert (50); in QUIC
// that is the crypto error 0x100 + alert (RFC 9001 §4.8).
constexpr Error decode_error(const char* detail) {
  return Error(
      static_cast<TransportError>(static_cast<uint64_t>(TransportError::crypto_error_base) + 50),
      detail);
}

// A list `T list<min..max>` of fixed-size elements, all bytes of `data`.
Result<Bytes> fixed_list(Bytes data, size_t prefix, size_t elem, size_t min_len, const char* what) {
  Reader r(data);
  size_t len = static_cast<size_t>(r.uint_n(prefix));
  Bytes body = r.bytes(len);
  if (!r.ok() || !r.empty() || len < min_len || len % elem != 0) return decode_error(what);
  return body;
}

// RFC 6066 §3: ServerNameList with at most one host_name; other name types
// carry a u16-prefixed body and are skipped.
Result<std::optional<std::string_view>> parse_server_name(Bytes data) {
  Reader r(data);
  Bytes list = r.bytes(r.u16());
  if (!r.ok() || !r.empty() || list.empty()) return decode_error("malformed server_name");
  std::optional<std::string_view> host;
  Reader l(list);
  while (!l.empty()) {
    uint8_t name_type = l.u8();
    Bytes name = l.bytes(l.u16());
    if (!l.ok()) return decode_error("malformed server_name");
    if (name_type != 0) continue;
    if (host) return decode_error("server_name: two host names");
    if (name.empty()) return decode_error("server_name: empty host name");
    host = as_string(name);
  }
  return host;
}

// RFC 7301 §3.1: ProtocolName protocol_name_list<2..2^16-1>, each <1..2^8-1>.
Result<AlpnList> parse_alpn(Bytes data) {
  Reader r(data);
  Bytes list = r.bytes(r.u16());
  if (!r.ok() || !r.empty() || list.empty()) return decode_error("malformed ALPN list");
  Reader l(list);
  while (!l.empty()) {
    size_t n = l.u8();
    l.bytes(n);
    if (!l.ok() || n == 0) return decode_error("malformed ALPN protocol name");
  }
  return AlpnList(list);
}

// RFC 8446 §4.2.8: KeyShareEntry client_shares<0..2^16-1>, key_exchange<1..2^16-1>.
Result<KeyShareList> parse_key_share(Bytes data) {
  Reader r(data);
  Bytes list = r.bytes(r.u16());
  if (!r.ok() || !r.empty()) return decode_error("malformed key_share");
  Reader l(list);
  while (!l.empty()) {
    l.u16();
    size_t n = l.u16();
    l.bytes(n);
    if (!l.ok() || n == 0) return decode_error("malformed key_share entry");
  }
  return KeyShareList(list);
}

Status parse_extension(ClientHello& ch, uint16_t type, Bytes data) {
  switch (type) {
    case tls_ext::server_name: {
      WT_ASSIGN(ch.server_name, parse_server_name(data));
      break;
    }
    case tls_ext::alpn: {
      WT_ASSIGN(ch.alpn, parse_alpn(data));
      break;
    }
    case tls_ext::supported_versions: {
      // RFC 8446 §4.2.1: ProtocolVersion versions<2..254> in a ClientHello.
      WT_ASSIGN(Bytes b, fixed_list(data, 1, 2, 2, "malformed supported_versions"));
      ch.supported_versions = U16List(b);
      break;
    }
    case tls_ext::supported_groups: {
      // RFC 8446 §4.2.7: NamedGroup named_group_list<2..2^16-1>.
      WT_ASSIGN(Bytes b, fixed_list(data, 2, 2, 2, "malformed supported_groups"));
      ch.supported_groups = U16List(b);
      break;
    }
    case tls_ext::key_share: {
      WT_ASSIGN(ch.key_shares, parse_key_share(data));
      break;
    }
    case tls_ext::signature_algorithms: {
      // RFC 8446 §4.2.3: SignatureScheme supported_signature_algorithms<2..2^16-2>.
      WT_ASSIGN(Bytes b, fixed_list(data, 2, 2, 2, "malformed signature_algorithms"));
      ch.signature_algorithms = U16List(b);
      break;
    }
    case tls_ext::quic_transport_parameters: ch.quic_transport_parameters = data; break;
    default: break;
  }
  return {};
}

}  // namespace

size_t tls_handshake_message_size(Bytes b) {
  if (b.size() < 4) return 0;
  return 4 + ((size_t{b[1]} << 16) | (size_t{b[2]} << 8) | b[3]);
}

std::optional<Bytes> ClientHello::extension(uint16_t type) const {
  for (const TlsExtension& e : extensions)
    if (e.type == type) return e.data;
  return std::nullopt;
}

Result<ClientHello> parse_client_hello(Bytes message) {
  // RFC 8446 §4: Handshake {msg_type, uint24 length, body}.
  Reader r(message);
  uint8_t msg_type = r.u8();
  uint32_t length = r.u24();
  if (!r.ok()) return decode_error("truncated handshake header");
  if (msg_type != kTlsHandshakeClientHello) return decode_error("not a ClientHello");
  if (length != r.remaining()) return decode_error("handshake length mismatch");

  // RFC 8446 §4.1.2.
  ClientHello ch;
  ch.legacy_version = r.u16();
  ch.random = r.bytes(32);
  size_t sid_len = r.u8();
  if (sid_len > 32) return decode_error("legacy_session_id longer than 32 bytes");
  ch.legacy_session_id = r.bytes(sid_len);
  size_t cs_len = r.u16();
  // CipherSuite cipher_suites<2..2^16-2>.
  if (cs_len < 2 || cs_len % 2 != 0) return decode_error("malformed cipher_suites");
  ch.cipher_suites = U16List(r.bytes(cs_len));
  size_t cm_len = r.u8();
  // opaque legacy_compression_methods<1..2^8-1>.
  if (cm_len < 1) return decode_error("no compression methods");
  ch.legacy_compression_methods = r.bytes(cm_len);
  // Extension extensions<8..2^16-1>: TLS 1.3 always sends supported_versions.
  Bytes ext = r.bytes(r.u16());
  if (!r.ok()) return decode_error("truncated ClientHello");
  if (!r.empty()) return decode_error("trailing bytes in ClientHello");
  if (ext.size() < 8) return decode_error("extension list too short");

  std::bitset<65536> seen;
  Reader er(ext);
  while (!er.empty()) {
    uint16_t type = er.u16();
    Bytes data = er.bytes(er.u16());
    if (!er.ok()) return decode_error("malformed extension list");
    // RFC 8446 §4.2: at most one extension of each type.
    if (seen.test(type)) return decode_error("duplicate extension");
    seen.set(type);
    // RFC 8446 §4.2.11: pre_shared_key MUST be the last extension.
    if (type == tls_ext::pre_shared_key && !er.empty())
      return decode_error("pre_shared_key is not the last extension");
    WT_TRY(parse_extension(ch, type, data));
  }
  ch.extensions = ExtensionList(ext);
  return ch;
}

const char* tls_extension_name(uint16_t type) {
  switch (type) {
    case 0: return "server_name";
    case 1: return "max_fragment_length";
    case 5: return "status_request";
    case 10: return "supported_groups";
    case 11: return "ec_point_formats";
    case 13: return "signature_algorithms";
    case 16: return "alpn";
    case 18: return "signed_certificate_timestamp";
    case 21: return "padding";
    case 23: return "extended_master_secret";
    case 27: return "compress_certificate";
    case 28: return "record_size_limit";
    case 35: return "session_ticket";
    case 41: return "pre_shared_key";
    case 42: return "early_data";
    case 43: return "supported_versions";
    case 44: return "cookie";
    case 45: return "psk_key_exchange_modes";
    case 49: return "post_handshake_auth";
    case 50: return "signature_algorithms_cert";
    case 51: return "key_share";
    case 57: return "quic_transport_parameters";
    case 0x4469: return "application_settings_old";
    case 0x44cd: return "application_settings";
    case 0xfe0d: return "encrypted_client_hello";
    case 0xff01: return "renegotiation_info";
    case 0xffa5: return "quic_transport_parameters_draft";
    default: return is_tls_grease(type) ? "GREASE" : nullptr;
  }
}

const char* tls_group_name(uint16_t group) {
  switch (group) {
    case 0x0017: return "secp256r1";
    case 0x0018: return "secp384r1";
    case 0x0019: return "secp521r1";
    case 0x001d: return "x25519";
    case 0x001e: return "x448";
    case 0x0100: return "ffdhe2048";
    case 0x0101: return "ffdhe3072";
    case 0x0200: return "MLKEM768";
    case 0x0201: return "MLKEM1024";
    case 0x11eb: return "SecP256r1MLKEM768";
    case 0x11ec: return "X25519MLKEM768";
    case 0x6399: return "X25519Kyber768Draft00";
    default: return is_tls_grease(group) ? "GREASE" : nullptr;
  }
}

const char* tls_cipher_suite_name(uint16_t suite) {
  switch (suite) {
    case 0x1301: return "TLS_AES_128_GCM_SHA256";
    case 0x1302: return "TLS_AES_256_GCM_SHA384";
    case 0x1303: return "TLS_CHACHA20_POLY1305_SHA256";
    case 0x1304: return "TLS_AES_128_CCM_SHA256";
    case 0x1305: return "TLS_AES_128_CCM_8_SHA256";
    default: return is_tls_grease(suite) ? "GREASE" : nullptr;
  }
}

const char* tls_signature_scheme_name(uint16_t scheme) {
  switch (scheme) {
    case 0x0201: return "rsa_pkcs1_sha1";
    case 0x0203: return "ecdsa_sha1";
    case 0x0401: return "rsa_pkcs1_sha256";
    case 0x0501: return "rsa_pkcs1_sha384";
    case 0x0601: return "rsa_pkcs1_sha512";
    case 0x0403: return "ecdsa_secp256r1_sha256";
    case 0x0503: return "ecdsa_secp384r1_sha384";
    case 0x0603: return "ecdsa_secp521r1_sha512";
    case 0x0804: return "rsa_pss_rsae_sha256";
    case 0x0805: return "rsa_pss_rsae_sha384";
    case 0x0806: return "rsa_pss_rsae_sha512";
    case 0x0807: return "ed25519";
    case 0x0808: return "ed448";
    case 0x0809: return "rsa_pss_pss_sha256";
    case 0x080a: return "rsa_pss_pss_sha384";
    case 0x080b: return "rsa_pss_pss_sha512";
    default: return is_tls_grease(scheme) ? "GREASE" : nullptr;
  }
}

}  // namespace wt::quic

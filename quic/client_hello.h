// TLS 1.3 ClientHello parsing (RFC 8446 §4.1.2) from peer bytes: for a server
// that peeks at the first flight (ALPN, SNI, transport parameters, versions)
// before starting TLS, and for the dissector. All results are views into the
// input, validated once by parse_client_hello(), so iterating them cannot fail.
#pragma once
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <optional>
#include <string_view>

#include "lib/bytes.h"
#include "lib/result.h"

namespace wt::quic {

inline constexpr uint8_t kTlsHandshakeClientHello = 1;  // RFC 8446 §4

// Extension code points (RFC 8446 §4.2 and the registries named).
namespace tls_ext {
inline constexpr uint16_t server_name = 0;                 // RFC 6066 §3
inline constexpr uint16_t supported_groups = 10;           // RFC 8446 §4.2.7
inline constexpr uint16_t signature_algorithms = 13;       // RFC 8446 §4.2.3
inline constexpr uint16_t alpn = 16;                       // RFC 7301 §3.1
inline constexpr uint16_t pre_shared_key = 41;             // RFC 8446 §4.2.11
inline constexpr uint16_t early_data = 42;                 // RFC 8446 §4.2.10
inline constexpr uint16_t supported_versions = 43;         // RFC 8446 §4.2.1
inline constexpr uint16_t psk_key_exchange_modes = 45;     // RFC 8446 §4.2.9
inline constexpr uint16_t key_share = 51;                  // RFC 8446 §4.2.8
inline constexpr uint16_t quic_transport_parameters = 57;  // RFC 9001 §8.2
}  // namespace tls_ext

inline constexpr uint16_t kTls13Version = 0x0304;

// RFC 8701: GREASE values 0x?a?a for cipher suites, groups, extensions, versions.
constexpr bool is_tls_grease(uint16_t v) {
  return (v & 0x0f0f) == 0x0a0a && (v >> 8) == (v & 0xff);
}

// Names for logs and the dissector; "GREASE" or nullptr when unknown.
const char* tls_extension_name(uint16_t type);
const char* tls_group_name(uint16_t group);
const char* tls_cipher_suite_name(uint16_t suite);
const char* tls_signature_scheme_name(uint16_t scheme);

// A forward range over validated bytes. Traits::next(Reader&) reads one item;
// the range stores no count, only the bytes.
template <class Traits>
class TlsListView {
 public:
  using value_type = typename Traits::Item;
  class iterator {
   public:
    using iterator_category = std::forward_iterator_tag;
    using value_type = typename Traits::Item;
    using difference_type = std::ptrdiff_t;
    using pointer = const value_type*;
    using reference = value_type;
    iterator() = default;
    explicit iterator(Bytes rest) : r_(rest) { advance(); }
    value_type operator*() const { return cur_; }
    iterator& operator++() {
      advance();
      return *this;
    }
    iterator operator++(int) {
      iterator t = *this;
      advance();
      return t;
    }
    friend bool operator==(const iterator& a, const iterator& b) { return a.at_ == b.at_; }

   private:
    void advance() {
      if (r_.empty() || !r_.ok()) {
        at_ = nullptr;  // end
        return;
      }
      at_ = r_.pos();
      cur_ = Traits::next(r_);
      if (!r_.ok()) at_ = nullptr;  // only a hand-built, unvalidated view
    }
    Reader r_;
    value_type cur_{};
    const uint8_t* at_ = nullptr;  // where cur_ starts; nullptr at the end
  };

  TlsListView() = default;
  explicit TlsListView(Bytes b) : b_(b) {}
  iterator begin() const { return iterator(b_); }
  iterator end() const { return iterator(); }
  bool empty() const { return b_.empty(); }
  size_t size() const {
    size_t n = 0;
    for (auto it = begin(); it != end(); ++it) ++n;
    return n;
  }
  Bytes raw() const { return b_; }  // the list body, without its length prefix

 private:
  Bytes b_;
};

struct U16Traits {
  using Item = uint16_t;
  static uint16_t next(Reader& r) { return r.u16(); }
};
// Cipher suites, groups, versions, signature schemes.
class U16List : public TlsListView<U16Traits> {
 public:
  using TlsListView::TlsListView;
  bool contains(uint16_t v) const {
    for (uint16_t x : *this)
      if (x == v) return true;
    return false;
  }
};

struct TlsExtension {
  uint16_t type = 0;
  Bytes data;
};
struct ExtensionTraits {
  using Item = TlsExtension;
  static TlsExtension next(Reader& r) {
    TlsExtension e;
    e.type = r.u16();
    e.data = r.bytes(r.u16());
    return e;
  }
};
using ExtensionList = TlsListView<ExtensionTraits>;

// RFC 7301 §3.1 ProtocolName entries.
struct AlpnTraits {
  using Item = std::string_view;
  static std::string_view next(Reader& r) { return as_string(r.bytes(r.u8())); }
};
class AlpnList : public TlsListView<AlpnTraits> {
 public:
  using TlsListView::TlsListView;
  bool contains(std::string_view p) const {
    for (std::string_view x : *this)
      if (x == p) return true;
    return false;
  }
};

// RFC 8446 §4.2.8 KeyShareEntry.
struct KeyShareEntry {
  uint16_t group = 0;
  Bytes key_exchange;
};
struct KeyShareTraits {
  using Item = KeyShareEntry;
  static KeyShareEntry next(Reader& r) {
    KeyShareEntry e;
    e.group = r.u16();
    e.key_exchange = r.bytes(r.u16());
    return e;
  }
};
using KeyShareList = TlsListView<KeyShareTraits>;

struct ClientHello {
  uint16_t legacy_version = 0;
  Bytes random;             // 32 bytes
  Bytes legacy_session_id;  // 0..32 bytes
  U16List cipher_suites;
  Bytes legacy_compression_methods;
  ExtensionList extensions;  // in wire order

  // Decoded extensions; nullopt when the extension is absent.
  std::optional<std::string_view> server_name;  // host_name (RFC 6066 §3)
  std::optional<AlpnList> alpn;
  std::optional<U16List> supported_versions;
  std::optional<U16List> supported_groups;
  std::optional<KeyShareList> key_shares;
  std::optional<U16List> signature_algorithms;
  std::optional<Bytes> quic_transport_parameters;  // raw, RFC 9001 §8.2

  // Data of the extension of this type, if present.
  std::optional<Bytes> extension(uint16_t type) const;
};

// Size of the handshake message that starts `b` (4-byte header + body), or 0
// when fewer than 4 bytes are present. For reassembling a ClientHello from
// CRYPTO frames before parsing it.
size_t tls_handshake_message_size(Bytes b);

// Parses exactly one ClientHello handshake message (header type 1, u24
// length, body; nothing after it). Malformed input: a crypto error carrying
// the TLS decode_error alert (0x100 + 50).
Result<ClientHello> parse_client_hello(Bytes message);

}  // namespace wt::quic

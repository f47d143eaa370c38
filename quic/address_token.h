// Address validation tokens (RFC 9000 §8.1.2, §8.1.3): what a server puts in
// Retry packets and NEW_TOKEN frames and later finds in a client's Initial.
// Only the issuing server can read or forge them: they are sealed with
// AES-128-GCM under a key drawn from the injected Random when the codec is
// made (so they do not outlive it; a fleet sharing tokens would share a key).
//
// Wire format (all of it opaque to the client):
//
//   type (1) | nonce (12) | sealed: version (4) | issued_ns (8) | family (1) |
//              port (2) | ip (16) | odcid_len (1) | odcid (0..20) | tag (16)
//
// The associated data is the type byte and, for Retry tokens, the Source
// Connection ID of the Retry: the client must come back with it as its DCID
// (RFC 9000 §17.2.5.2), so a token is useless with any other CID.
#pragma once
#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>

#include "lib/bytes.h"
#include "lib/clock.h"
#include "lib/result.h"
#include "quic/connection_id.h"
#include "quic/path.h"

typedef struct evp_aead_ctx_st EVP_AEAD_CTX;

namespace wt {
class Random;
}

namespace wt::quic {

// The first byte of a token: which kind of token it claims to be. Retry
// tokens and NEW_TOKEN tokens must be told apart (RFC 9000 §8.1.1): only an
// invalid Retry token justifies INVALID_TOKEN.
enum class TokenType : uint8_t { retry = 0x52, new_token = 0x4e };

struct AddressToken {
  TokenType type = TokenType::retry;
  // RFC 9369 §4, §5: tokens are valid only for the QUIC version of the
  // packets (Retry) or of the connection (NEW_TOKEN) they were issued in.
  uint32_t version = 0;
  Time issued{};
  Address address;             // the client's address when the token was issued
  ConnectionId original_dcid;  // Retry tokens: the DCID of the client's first Initial
};

inline constexpr size_t kAddressTokenOverhead = 1 + 12 + 16;  // type, nonce, tag
inline constexpr size_t kMaxAddressTokenSize =
    kAddressTokenOverhead + 4 + 8 + 1 + 2 + 16 + 1 + kMaxCidLength;

enum class TokenCheck : uint8_t {
  valid,
  malformed,      // not one of ours, tampered with, or bound to another CID
  expired,        // older than its lifetime (or issued in the future)
  wrong_address,  // issued to another client address
  wrong_version,  // issued for another QUIC version
};
const char* token_check_name(TokenCheck c);

// The type a token claims (its first byte), if it is one of ours at all.
std::optional<TokenType> peek_token_type(Bytes token);

class AddressTokenCodec {
 public:
  // Draws the sealing key from `rng`, which also supplies every nonce and
  // must outlive the codec.
  explicit AddressTokenCodec(Random& rng);
  ~AddressTokenCodec();
  AddressTokenCodec(const AddressTokenCodec&) = delete;
  AddressTokenCodec& operator=(const AddressTokenCodec&) = delete;

  // Writes a token for `t` bound to `bound_cid` (Retry: the Retry's SCID;
  // NEW_TOKEN: empty) into `out`; returns its size, 0 if `out` is too small.
  size_t seal(const AddressToken& t, Bytes bound_cid, MutBytes out);
  // Authenticates and decodes a token (no expiry or address checks).
  Result<AddressToken> open(Bytes token, Bytes bound_cid) const;

  // open(), then checks the type, version, age and address. Retry tokens
  // must match the client's address and port; NEW_TOKEN tokens only its IP
  // address, since a later connection usually comes from another port
  // (RFC 9000 §8.1.3). On `valid`, `out` holds the token.
  TokenCheck validate(Bytes token, TokenType type, Bytes bound_cid, const Address& peer,
                      uint32_t version, Time now, Duration lifetime,
                      AddressToken* out = nullptr) const;

 private:
  Random& rng_;
  EVP_AEAD_CTX* ctx_ = nullptr;
};

}  // namespace wt::quic

#include "quic/address_token.h"

#include <openssl/aead.h>
#include <openssl/mem.h>

#include <algorithm>
#include <cstring>

#include "lib/random.h"

namespace wt::quic {

namespace {
constexpr size_t kKeySize = 16;
constexpr size_t kNonceSize = 12;
constexpr size_t kTagSize = 16;
constexpr size_t kPlainSize = 4 + 8 + 1 + 2 + 16 + 1;  // before the ODCID bytes

// AAD: the type byte, then the bound CID (at most 20 bytes).
size_t make_aad(uint8_t type, Bytes bound_cid, uint8_t (&aad)[1 + kMaxCidLength]) {
  aad[0] = type;
  const size_t n = std::min(bound_cid.size(), kMaxCidLength);
  if (n) std::memcpy(aad + 1, bound_cid.data(), n);
  return 1 + n;
}
}  // namespace

const char* token_check_name(TokenCheck c) {
  switch (c) {
    case TokenCheck::valid:
      return "valid";
    case TokenCheck::malformed:
      return "malformed";
    case TokenCheck::expired:
      return "expired";
    case TokenCheck::wrong_address:
      return "wrong address";
    case TokenCheck::wrong_version:
      return "wrong version";
  }
  return "?";
}

std::optional<TokenType> peek_token_type(Bytes token) {
  if (token.size() < kAddressTokenOverhead + kPlainSize || token.size() > kMaxAddressTokenSize)
    return std::nullopt;
  switch (token[0]) {
    case static_cast<uint8_t>(TokenType::retry):
      return TokenType::retry;
    case static_cast<uint8_t>(TokenType::new_token):
      return TokenType::new_token;
    default:
      return std::nullopt;
  }
}

AddressTokenCodec::AddressTokenCodec(Random& rng) : rng_(rng) {
  uint8_t key[kKeySize];
  rng_.fill(key);
  ctx_ = EVP_AEAD_CTX_new(EVP_aead_aes_128_gcm(), key, sizeof key, kTagSize);
  OPENSSL_cleanse(key, sizeof key);
}

AddressTokenCodec::~AddressTokenCodec() {
  if (ctx_) EVP_AEAD_CTX_free(ctx_);
}

size_t AddressTokenCodec::seal(const AddressToken& t, Bytes bound_cid, MutBytes out) {
  const size_t plain_len = kPlainSize + t.original_dcid.size();
  const size_t total = 1 + kNonceSize + plain_len + kTagSize;
  if (!ctx_ || out.size() < total) return 0;
  uint8_t plain[kPlainSize + kMaxCidLength];
  Writer w{MutBytes{plain}};
  w.u32(t.version);
  w.u64(static_cast<uint64_t>(to_ns(t.issued)));
  w.u8(t.address.family);
  w.u16(t.address.port);
  w.bytes(t.address.ip);
  w.u8(static_cast<uint8_t>(t.original_dcid.size()));
  w.bytes(t.original_dcid.bytes());
  if (!w.ok() || w.written() != plain_len) return 0;

  out[0] = static_cast<uint8_t>(t.type);
  rng_.fill(out.subspan(1, kNonceSize));
  uint8_t aad[1 + kMaxCidLength];
  const size_t aad_len = make_aad(out[0], bound_cid, aad);
  size_t out_len = 0;
  if (EVP_AEAD_CTX_seal(ctx_, out.data() + 1 + kNonceSize, &out_len, plain_len + kTagSize,
                        out.data() + 1, kNonceSize, plain, plain_len, aad, aad_len) != 1 ||
      out_len != plain_len + kTagSize)
    return 0;
  return total;
}

Result<AddressToken> AddressTokenCodec::open(Bytes token, Bytes bound_cid) const {
  auto type = peek_token_type(token);
  if (!type || !ctx_) return Error(TransportError::invalid_token, "not an address token");
  uint8_t plain[kMaxAddressTokenSize];
  uint8_t aad[1 + kMaxCidLength];
  const size_t aad_len = make_aad(token[0], bound_cid, aad);
  size_t plain_len = 0;
  const Bytes sealed = token.subspan(1 + kNonceSize);
  if (EVP_AEAD_CTX_open(ctx_, plain, &plain_len, sizeof plain, token.data() + 1, kNonceSize,
                        sealed.data(), sealed.size(), aad, aad_len) != 1)
    return Error(TransportError::invalid_token, "address token fails authentication");
  Reader r{Bytes{plain, plain_len}};
  AddressToken t;
  t.type = *type;
  t.version = r.u32();
  t.issued = from_ns(static_cast<int64_t>(r.u64()));
  t.address.family = r.u8();
  t.address.port = r.u16();
  Bytes ip = r.bytes(t.address.ip.size());
  if (r.ok()) std::memcpy(t.address.ip.data(), ip.data(), ip.size());
  const size_t odcid_len = r.u8();
  Bytes odcid = r.bytes(odcid_len);
  // Only we seal tokens, so this is a decoding bug or a key collision.
  if (!r.ok() || !r.empty() || odcid_len > kMaxCidLength)
    return Error(TransportError::invalid_token, "malformed address token");
  t.original_dcid = ConnectionId(odcid);
  return t;
}

TokenCheck AddressTokenCodec::validate(Bytes token, TokenType type, Bytes bound_cid,
                                       const Address& peer, uint32_t version, Time now,
                                       Duration lifetime, AddressToken* out) const {
  if (peek_token_type(token) != type) return TokenCheck::malformed;
  auto t = open(token, bound_cid);
  if (!t) return TokenCheck::malformed;
  if (t->version != version) return TokenCheck::wrong_version;
  if (t->issued > now || now - t->issued > lifetime) return TokenCheck::expired;
  const bool same_ip = t->address.family == peer.family && t->address.ip == peer.ip;
  if (!same_ip || (type == TokenType::retry && t->address.port != peer.port))
    return TokenCheck::wrong_address;
  if (out) *out = *t;
  return TokenCheck::valid;
}

}  // namespace wt::quic

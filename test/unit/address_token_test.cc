// Address validation tokens (quic/address_token.h) and resumable session
// state (quic/session_state.h): round trips, every rejection reason, and
// malformed input.
#include <catch2/catch.hpp>

#include "lib/random.h"
#include "quic/address_token.h"
#include "quic/session_state.h"

namespace wt::quic {
namespace {

using namespace std::chrono_literals;

const Address kPeer = Address::v4(0xc0a80001, 4433);  // 192.168.0.1
const Time kNow = from_ns(5'000'000'000'000);
constexpr uint32_t kV1 = 0x00000001;

struct Sealed {
  std::array<uint8_t, kMaxAddressTokenSize> buf{};
  size_t size = 0;
  Bytes bytes() const { return {buf.data(), size}; }
  MutBytes mut() { return {buf.data(), size}; }
};

Sealed seal(AddressTokenCodec& codec, TokenType type, Bytes bound, const Address& addr = kPeer,
            Time issued = kNow) {
  AddressToken t;
  t.type = type;
  t.version = kV1;
  t.issued = issued;
  t.address = addr;
  const uint8_t odcid[] = {1, 2, 3, 4, 5, 6, 7, 8, 9};
  if (type == TokenType::retry) t.original_dcid = ConnectionId(Bytes{odcid});
  Sealed s;
  s.size = codec.seal(t, bound, MutBytes{s.buf});
  REQUIRE(s.size > 0);
  return s;
}

TEST_CASE("address token: Retry token round trip and binding", "[token]") {
  SeededRandom rng(1);
  AddressTokenCodec codec(rng);
  const uint8_t cid[] = {0xa, 0xb, 0xc, 0xd, 0xe, 0xf, 0x1, 0x2};
  auto s = seal(codec, TokenType::retry, Bytes{cid});
  CHECK(s.size == kAddressTokenOverhead + 4 + 8 + 1 + 2 + 16 + 1 + 9);
  CHECK(peek_token_type(s.bytes()) == TokenType::retry);

  AddressToken out;
  CHECK(codec.validate(s.bytes(), TokenType::retry, Bytes{cid}, kPeer, kV1, kNow + 1s, 10s, &out) ==
        TokenCheck::valid);
  CHECK(out.type == TokenType::retry);
  CHECK(out.version == kV1);
  CHECK(out.issued == kNow);
  CHECK(out.address == kPeer);
  const uint8_t odcid[] = {1, 2, 3, 4, 5, 6, 7, 8, 9};
  CHECK(out.original_dcid == ConnectionId(Bytes{odcid}));

  // Bound to the Retry's SCID: useless with any other DCID.
  const uint8_t other[] = {0xa, 0xb, 0xc, 0xd, 0xe, 0xf, 0x1, 0x3};
  CHECK(codec.validate(s.bytes(), TokenType::retry, Bytes{other}, kPeer, kV1, kNow, 10s) ==
        TokenCheck::malformed);
  // RFC 9369 §4: another QUIC version.
  CHECK(codec.validate(s.bytes(), TokenType::retry, Bytes{cid}, kPeer, 0x6b3343cf, kNow, 10s) ==
        TokenCheck::wrong_version);
  // Expired, from the future, other address, other port, wrong type.
  CHECK(codec.validate(s.bytes(), TokenType::retry, Bytes{cid}, kPeer, kV1, kNow + 11s, 10s) ==
        TokenCheck::expired);
  CHECK(codec.validate(s.bytes(), TokenType::retry, Bytes{cid}, kPeer, kV1, kNow - 1ms, 10s) ==
        TokenCheck::expired);
  CHECK(codec.validate(s.bytes(), TokenType::retry, Bytes{cid}, Address::v4(0xc0a80002, 4433), kV1,
                       kNow, 10s) == TokenCheck::wrong_address);
  CHECK(codec.validate(s.bytes(), TokenType::retry, Bytes{cid}, Address::v4(0xc0a80001, 4434), kV1,
                       kNow, 10s) == TokenCheck::wrong_address);
  CHECK(codec.validate(s.bytes(), TokenType::new_token, Bytes{cid}, kPeer, kV1, kNow, 10s) ==
        TokenCheck::malformed);
}

TEST_CASE("address token: NEW_TOKEN tokens only check the IP address", "[token]") {
  SeededRandom rng(2);
  AddressTokenCodec codec(rng);
  auto s = seal(codec, TokenType::new_token, {});
  CHECK(peek_token_type(s.bytes()) == TokenType::new_token);
  CHECK(codec.validate(s.bytes(), TokenType::new_token, {}, Address::v4(0xc0a80001, 9999), kV1,
                       kNow, 1h) == TokenCheck::valid);
  CHECK(codec.validate(s.bytes(), TokenType::new_token, {}, Address::v4(0xc0a80009, 4433), kV1,
                       kNow, 1h) == TokenCheck::wrong_address);
  Address v6;
  v6.family = 6;
  v6.port = 4433;
  v6.ip = kPeer.ip;
  CHECK(codec.validate(s.bytes(), TokenType::new_token, {}, v6, kV1, kNow, 1h) ==
        TokenCheck::wrong_address);
}

TEST_CASE("address token: tampering, truncation and other keys are rejected", "[token]") {
  SeededRandom rng(3);
  AddressTokenCodec codec(rng);
  auto s = seal(codec, TokenType::new_token, {});
  // Every single bit flip after the type byte breaks authentication; a
  // flipped type byte makes it no token of ours or of the other type.
  for (size_t i = 0; i < s.size; ++i) {
    for (int bit = 0; bit < 8; ++bit) {
      Sealed t = s;
      t.buf[i] ^= static_cast<uint8_t>(1 << bit);
      CHECK(codec.validate(t.bytes(), TokenType::new_token, {}, kPeer, kV1, kNow, 1h) ==
            TokenCheck::malformed);
    }
  }
  for (size_t n = 0; n < s.size; ++n)
    CHECK(codec.validate(s.bytes().first(n), TokenType::new_token, {}, kPeer, kV1, kNow, 1h) ==
          TokenCheck::malformed);
  // Another codec (another server, or after a restart) has another key.
  SeededRandom rng2(4);
  AddressTokenCodec other(rng2);
  CHECK(other.validate(s.bytes(), TokenType::new_token, {}, kPeer, kV1, kNow, 1h) ==
        TokenCheck::malformed);
  // Garbage of every length never validates (and never reads out of bounds).
  SeededRandom g(5);
  for (size_t n = 0; n < 200; ++n) {
    std::vector<uint8_t> junk(n);
    g.fill(junk);
    if (n) junk[0] = static_cast<uint8_t>(n % 2 ? TokenType::retry : TokenType::new_token);
    CHECK_FALSE(codec.open(Bytes{junk}, {}).ok());
  }
  // Two tokens for the same input differ (random nonce).
  auto s2 = seal(codec, TokenType::new_token, {});
  CHECK_FALSE(std::equal(s.bytes().begin(), s.bytes().end(), s2.bytes().begin(), s2.bytes().end()));
  // Too small an output buffer.
  AddressToken t;
  uint8_t small[20];
  CHECK(codec.seal(t, {}, MutBytes{small}) == 0);
}

TEST_CASE("session state: round trip keeps the remembered parameters only", "[token]") {
  TransportParameters server;
  server.initial_max_data = 1 << 20;
  server.initial_max_stream_data_bidi_local = 1000;
  server.initial_max_stream_data_bidi_remote = 2000;
  server.initial_max_stream_data_uni = 3000;
  server.initial_max_streams_bidi = 7;
  server.initial_max_streams_uni = 9;
  server.active_connection_id_limit = 5;
  server.max_datagram_frame_size = 1200;
  server.max_idle_timeout_ms = 30000;  // not remembered (RFC 9000 §7.4.1)
  server.stateless_reset_token = StatelessResetToken{};
  SessionState st;
  st.version = 0x6b3343cf;
  st.params = remembered_params(server);
  st.tls_session = {0x30, 0x82, 0x01, 0x02, 0xaa};
  CHECK(st.params.max_idle_timeout_ms == 0);
  CHECK_FALSE(st.params.stateless_reset_token);

  auto bytes = st.encode();
  REQUIRE_FALSE(bytes.empty());
  auto back = SessionState::decode(bytes);
  REQUIRE(back.ok());
  CHECK(back->version == st.version);
  CHECK(back->params == st.params);
  CHECK(back->tls_session == st.tls_session);

  // Every truncation and trailing garbage are rejected.
  for (size_t n = 0; n < bytes.size(); ++n)
    CHECK_FALSE(SessionState::decode(Bytes{bytes}.first(n)).ok());
  auto longer = bytes;
  longer.push_back(0);
  CHECK_FALSE(SessionState::decode(longer).ok());
  auto bad_magic = bytes;
  bad_magic[0] ^= 1;
  CHECK_FALSE(SessionState::decode(bad_magic).ok());
}

}  // namespace
}  // namespace wt::quic

// Test support for the hostile-input tests: an established null-cipher
// client/server pair (QuicPair) with helpers to inject crafted packets into
// one side, capture its answer, and check the CONNECTION_CLOSE on the wire
// and the close events on both sides.
#pragma once
#include <catch2/catch.hpp>

#include <functional>
#include <optional>
#include <vector>

#include "lib/varint.h"
#include "test/support/packet_forge.h"
#include "test/support/quic_pair.h"

namespace wt::test::hostile {

using namespace wt::quic;


inline constexpr uint64_t kFrameEncoding = 0x07, kProtocolViolation = 0x0a, kFlowControl = 0x03,
                   kStreamLimit = 0x04, kStreamState = 0x05, kFinalSize = 0x06,
                   kTransportParameter = 0x08, kCidLimit = 0x09, kCryptoBufferExceeded = 0x0d;

// Raw frame bytes, for frames the encoder refuses to produce.
struct Raw {
  std::vector<uint8_t> b;
  Raw& u8(uint8_t v) {
    b.push_back(v);
    return *this;
  }
  Raw& v(uint64_t x) {
    uint8_t tmp[8];
    uint8_t* e = varint_encode(tmp, x);
    b.insert(b.end(), tmp, e);
    return *this;
  }
  Raw& fill(size_t n, uint8_t byte = 0xab) {
    b.insert(b.end(), n, byte);
    return *this;
  }
  Bytes bytes() const { return Bytes{b}; }
};

enum class Side { server, client };

// An established null-cipher connection pair with both sides quiet, and
// helpers to attack one side and read its answer.
struct Hostile {
  test::QuicPair q;

  explicit Hostile(const std::function<void(test::QuicPair&)>& configure = {}) {
    q.client_cfg.conn.null_cipher = true;
    q.server_cfg.conn.null_cipher = true;
    if (configure) configure(q);
    REQUIRE(q.handshake());
    REQUIRE(q.run_until([&] { return q.cconn->handshake_confirmed(); }));
    settle();
    while (q.cconn->poll_event()) {
    }
    while (q.sconn->poll_event()) {
    }
  }

  // Runs until nothing is in flight (HANDSHAKE_DONE, NEW_CONNECTION_ID and
  // their ACKs delivered) without jumping to far-away timers.
  void settle() {
    for (int i = 0; i < 100; ++i) {
      q.flush(*q.client, true);
      q.flush(*q.server, false);
      if (q.wire.empty()) return;
      REQUIRE(q.step());
    }
    FAIL("the pair did not settle");
  }

  Connection& conn(Side s) { return s == Side::server ? *q.sconn : *q.cconn; }
  Endpoint& ep(Side s) { return s == Side::server ? *q.server : *q.client; }
  static Side other(Side s) { return s == Side::server ? Side::client : Side::server; }
  Path path_to(Side s) const {
    return s == Side::server ? Path{q.cpath.remote, q.cpath.local} : q.cpath;
  }
  // Forges 1-RTT packets addressed to `s` (to its first CID).
  test::PacketForge forge(Side s) { return test::PacketForge(conn(s).initial_scid()); }

  void inject(Side s, Datagram d) {
    REQUIRE(!d.empty());
    ep(s).receive(MutBytes{d}, path_to(s), Ecn::not_ect, q.now);
  }
  // Everything `s` wants to send now, as datagrams.
  std::vector<Datagram> capture(Side s) { return test::take_datagrams(ep(s), q.now); }
  // Length of the CIDs `s` sends to (its peer's).
  size_t dcid_len_of_output(Side s) const {
    return s == Side::server ? q.client_cfg.conn.cid_length : q.server_cfg.conn.cid_length;
  }

  // The answer of `s` to what was injected: a transport CONNECTION_CLOSE with
  // `code` (and `frame_type`, when given) on the wire; the peer, given those
  // datagrams, reports the same close as by_peer; both sides reach closed.
  void expect_close(Side s, uint64_t code, std::optional<uint64_t> frame_type = std::nullopt) {
    auto out = capture(s);
    auto close = test::find_transport_close(out, dcid_len_of_output(s));
    INFO("datagrams sent: " << out.size());
    REQUIRE(close.has_value());
    CHECK(close->packet_type == PacketType::one_rtt);
    CHECK(close->error_code == code);
    if (frame_type) CHECK(close->frame_type == *frame_type);
    check_close_events(s, code, out);
  }
  // Like expect_close, for a STREAM frame type (0x08-0x0f, flags vary).
  void expect_close_stream_frame(Side s, uint64_t code) {
    auto out = capture(s);
    auto close = test::find_transport_close(out, dcid_len_of_output(s));
    REQUIRE(close.has_value());
    CHECK(close->error_code == code);
    CHECK((close->frame_type & ~uint64_t{7}) == frame_type::stream);
    check_close_events(s, code, out);
  }

  void check_close_events(Side s, uint64_t code, std::vector<Datagram>& out) {
    // The attacked side reports its own close.
    std::optional<CloseInfo> own;
    while (auto e = conn(s).poll_event())
      if (e->type == Event::Type::connection_closed) own = e->close;
    REQUIRE(own.has_value());
    CHECK(own->error_code == code);
    CHECK_FALSE(own->by_peer);
    CHECK_FALSE(own->application);
    // The peer receives the CONNECTION_CLOSE.
    Side p = other(s);
    for (auto& d : out) ep(p).receive(MutBytes{d}, path_to(p), Ecn::not_ect, q.now);
    std::optional<CloseInfo> peer;
    while (auto e = conn(p).poll_event())
      if (e->type == Event::Type::connection_closed) peer = e->close;
    REQUIRE(peer.has_value());
    CHECK(peer->by_peer);
    CHECK(peer->error_code == code);
    CHECK_FALSE(peer->application);
    // RFC 9000 §10.2.2: a draining endpoint sends nothing.
    CHECK(conn(p).state() == Connection::State::draining);
    CHECK(capture(p).empty());
    // Closing and draining periods end (RFC 9000 §10.2).
    CHECK(q.run_until([&] { return q.cconn->is_closed() && q.sconn->is_closed(); }));
  }

  // No CONNECTION_CLOSE went out and the connection is still up.
  void expect_no_close(Side s) {
    auto out = capture(s);
    CHECK(test::find_connection_closes(out, dcid_len_of_output(s)).empty());
    CHECK(conn(s).is_established());
  }
};


}  // namespace wt::test::hostile

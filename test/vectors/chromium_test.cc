// The two Initial datagrams of a real Chromium 156 connection attempt
// (test/data/chromium156-initial-{1,2}.bin; facts in
// shared/notes/chromium-webtransport.md): a server must decrypt both with the
// Initial keys derived from their DCID, reassemble the ClientHello from
// out-of-order CRYPTO frames across the two packets, and read Chromium's
// transport parameters.
#include <catch2/catch.hpp>

#include <algorithm>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <variant>
#include <vector>

#include "quic/client_hello.h"
#include "quic/frame.h"
#include "quic/key_schedule.h"
#include "quic/packet_header.h"
#include "quic/packet_number.h"
#include "quic/packet_protection.h"
#include "quic/transport_params.h"
#include "quic/version.h"

using namespace wt;
using namespace wt::quic;

namespace {

std::vector<uint8_t> read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  REQUIRE(f.good());
  return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

// One decrypted Initial datagram; frames are views into `datagram`.
struct DecodedInitial {
  std::vector<uint8_t> datagram;
  size_t datagram_size = 0;
  size_t packet_size = 0;
  uint32_t version = 0;
  std::vector<uint8_t> dcid;
  std::vector<uint8_t> scid;
  size_t token_size = 0;
  uint64_t pn = 0;
  std::vector<Frame> frames;
};

struct Capture {
  DecodedInitial packets[2];
  std::vector<uint8_t> crypto;  // reassembled CRYPTO stream
};

// Decrypts both datagrams with the client Initial keys of the first DCID and
// reassembles the CRYPTO stream. Built once; the tests below inspect it.
const Capture& capture() {
  static const std::unique_ptr<Capture> cap = [] {
    auto c = std::make_unique<Capture>();
    std::vector<uint8_t> stream(4096);
    std::vector<bool> have(stream.size());
    uint64_t largest_pn = kNoPacketNumber;
    std::vector<uint8_t> first_dcid;
    for (int i = 0; i < 2; ++i) {
      DecodedInitial& d = c->packets[i];
      d.datagram = read_file(std::string(WT_TEST_DATA_DIR) + "/chromium156-initial-" +
                             std::to_string(i + 1) + ".bin");
      d.datagram_size = d.datagram.size();
      DatagramSplitter split(MutBytes{d.datagram}, HeaderParseOptions{});
      auto h = split.next();
      REQUIRE(h.ok());
      REQUIRE(h->type == PacketType::initial);
      // One packet per datagram (nothing coalesced after it).
      REQUIRE(split.done());
      d.packet_size = h->packet_size;
      d.version = h->version;
      d.dcid.assign(h->dcid.begin(), h->dcid.end());
      d.scid.assign(h->scid.begin(), h->scid.end());
      d.token_size = h->token.size();
      if (i == 0) first_dcid = d.dcid;
      // RFC 9001 §5.2: the client's Initial keys come from its first DCID.
      auto ciphers = make_initial_ciphers(d.version, first_dcid);
      REQUIRE(ciphers.ok());
      auto u = unprotect_packet(split.packet(), h->pn_offset, largest_pn, ciphers->client);
      REQUIRE(u.ok());
      d.pn = u->pn;
      largest_pn = std::max(largest_pn == kNoPacketNumber ? 0 : largest_pn, u->pn);
      Reader r{Bytes{u->payload}};
      while (!r.empty()) {
        auto f = decode_frame(r);
        REQUIRE(f.ok());
        if (auto* cf = std::get_if<CryptoFrame>(&*f)) {
          REQUIRE(cf->offset + cf->data.size() <= stream.size());
          for (size_t k = 0; k < cf->data.size(); ++k) {
            size_t at = static_cast<size_t>(cf->offset) + k;
            // Retransmitted or overlapping bytes must agree (RFC 9000 §19.6).
            if (have[at]) REQUIRE(stream[at] == cf->data[k]);
            stream[at] = cf->data[k];
            have[at] = true;
          }
        }
        d.frames.push_back(*f);
      }
    }
    size_t n = 0;
    while (n < have.size() && have[n]) ++n;
    // No byte beyond the contiguous prefix: nothing missing in between.
    REQUIRE(std::find(have.begin() + static_cast<std::ptrdiff_t>(n), have.end(), true) ==
            have.end());
    c->crypto.assign(stream.begin(), stream.begin() + static_cast<std::ptrdiff_t>(n));
    return c;
  }();
  return *cap;
}

template <class T>
size_t count_frames(const DecodedInitial& d) {
  return static_cast<size_t>(std::count_if(d.frames.begin(), d.frames.end(), [](const Frame& f) {
    return std::holds_alternative<T>(f);
  }));
}

const ClientHello& client_hello() {
  static const Result<ClientHello> ch = parse_client_hello(capture().crypto);
  REQUIRE(ch.ok());
  return *ch;
}

}  // namespace

TEST_CASE("chromium: packet-level facts of the two Initials", "[vectors][chromium]") {
  const Capture& c = capture();
  for (const DecodedInitial& d : c.packets) {
    CHECK(d.datagram_size == 1250);
    CHECK(d.packet_size == 1250);  // the Initial fills the datagram
    CHECK(d.version == kQuicV1);
    CHECK(d.dcid.size() == 8);
    CHECK(d.scid.empty());  // zero-length SCID
    CHECK(d.token_size == 0);
  }
  CHECK(c.packets[0].dcid == c.packets[1].dcid);
  CHECK(c.packets[0].pn == 1);  // Chromium starts at packet number 1
  CHECK(c.packets[1].pn == 2);
}

TEST_CASE("chromium: server Initial keys do not open the client's packets", "[vectors][chromium]") {
  std::vector<uint8_t> d = read_file(std::string(WT_TEST_DATA_DIR) + "/chromium156-initial-1.bin");
  auto h = parse_packet_header(d, HeaderParseOptions{});
  REQUIRE(h.ok());
  auto ciphers = make_initial_ciphers(kQuicV1, h->dcid);
  REQUIRE(ciphers.ok());
  auto u = unprotect_packet(MutBytes{d.data(), h->packet_size}, h->pn_offset, kNoPacketNumber,
                            ciphers->server);
  REQUIRE(!u.ok());
  CHECK(is_decryption_failure(u.error()));
}

TEST_CASE("chromium: frames are CRYPTO out of order, PING and PADDING", "[vectors][chromium]") {
  const Capture& c = capture();
  for (const DecodedInitial& d : c.packets) {
    INFO("packet number " << d.pn);
    for (const Frame& f : d.frames) CHECK(frame_allowed_in(frame_type_of(f), PacketType::initial));
    CHECK(count_frames<PingFrame>(d) > 0);
    CHECK(count_frames<PaddingFrame>(d) > 0);
    CHECK(count_frames<CryptoFrame>(d) > 1);
    CHECK(count_frames<CryptoFrame>(d) + count_frames<PingFrame>(d) +
              count_frames<PaddingFrame>(d) ==
          d.frames.size());
    // Within the packet, some CRYPTO frame starts below an earlier one.
    bool out_of_order = false;
    uint64_t prev = 0;
    bool first = true;
    for (const Frame& f : d.frames) {
      if (auto* cf = std::get_if<CryptoFrame>(&f)) {
        if (!first && cf->offset < prev) out_of_order = true;
        prev = cf->offset;
        first = false;
      }
    }
    CHECK(out_of_order);
  }
  // The first packet carries offset 0; the ClientHello needs both packets.
  bool first_has_start = false;
  for (const Frame& f : c.packets[0].frames)
    if (auto* cf = std::get_if<CryptoFrame>(&f)) first_has_start |= cf->offset == 0;
  CHECK(first_has_start);
  for (const DecodedInitial& d : c.packets) {
    size_t bytes = 0;
    for (const Frame& f : d.frames)
      if (auto* cf = std::get_if<CryptoFrame>(&f)) bytes += cf->data.size();
    CHECK(bytes < c.crypto.size());
  }
}

TEST_CASE("chromium: the reassembled ClientHello", "[vectors][chromium]") {
  const Capture& c = capture();
  // Exactly one handshake message fills the reassembled CRYPTO stream.
  // (The notes say "1475-byte ClientHello"; the capture's is 1477 bytes
  // including the 4-byte handshake header.)
  CHECK(tls_handshake_message_size(c.crypto) == c.crypto.size());
  CHECK(c.crypto.size() == 1477);
  const ClientHello& ch = client_hello();
  CHECK(ch.legacy_version == 0x0303);
  REQUIRE(ch.supported_versions);
  CHECK(ch.supported_versions->contains(kTls13Version));
  REQUIRE(ch.alpn);
  CHECK(ch.alpn->contains("h3"));
  CHECK(!ch.server_name);  // no SNI for an IP literal
  for (uint16_t s : {0x1301, 0x1302, 0x1303}) CHECK(ch.cipher_suites.contains(s));

  REQUIRE(ch.supported_groups);
  CHECK(std::vector<uint16_t>(ch.supported_groups->begin(), ch.supported_groups->end()) ==
        std::vector<uint16_t>{0x11ec, 0x001d, 0x0017, 0x0018});
  REQUIRE(ch.key_shares);
  std::vector<uint16_t> share_groups;
  for (const KeyShareEntry& k : *ch.key_shares) {
    share_groups.push_back(k.group);
    if (k.group == 0x001d) CHECK(k.key_exchange.size() == 32);
    if (k.group == 0x11ec) CHECK(k.key_exchange.size() == 1184 + 32);  // ML-KEM-768 ek + X25519
  }
  CHECK(share_groups == std::vector<uint16_t>{0x11ec, 0x001d});

  REQUIRE(ch.signature_algorithms);
  CHECK(ch.signature_algorithms->contains(0x0403));   // ecdsa_secp256r1_sha256
  CHECK(ch.signature_algorithms->contains(0x0503));   // ecdsa_secp384r1_sha384
  CHECK(!ch.signature_algorithms->contains(0x0807));  // no Ed25519

  CHECK(ch.extension(0x44cd));  // ALPS
  REQUIRE(ch.extension(27));    // compress_certificate: brotli (2)
  CHECK(std::vector<uint8_t>(ch.extension(27)->begin(), ch.extension(27)->end()) ==
        std::vector<uint8_t>{0x02, 0x00, 0x02});
  CHECK(ch.quic_transport_parameters);
}

TEST_CASE("chromium: transport parameters as sent by the client", "[vectors][chromium]") {
  const ClientHello& ch = client_hello();
  REQUIRE(ch.quic_transport_parameters);
  auto tp = TransportParameters::decode(*ch.quic_transport_parameters, Role::client);
  REQUIRE(tp.ok());

  // version_information: chosen v1, offering v1 and one reserved (GREASE)
  // version. On the wire the GREASE version comes first ([GREASE, 1]).
  REQUIRE(tp->version_information);
  CHECK(tp->version_information->chosen_version == kQuicV1);
  const auto& av = tp->version_information->available_versions;
  CHECK(av.size() == 2);
  CHECK(std::count(av.begin(), av.end(), kQuicV1) == 1);
  CHECK(std::count_if(av.begin(), av.end(), is_reserved_version) == 1);

  TransportParameters expect;
  expect.initial_max_data = 15728640;
  expect.initial_max_stream_data_bidi_local = 6291456;
  expect.initial_max_stream_data_bidi_remote = 6291456;
  expect.initial_max_stream_data_uni = 6291456;
  expect.initial_max_streams_bidi = 100;
  expect.initial_max_streams_uni = 103;
  expect.max_datagram_frame_size = 65536;
  expect.max_idle_timeout_ms = 30000;
  expect.max_udp_payload_size = 1472;
  expect.initial_source_connection_id = ConnectionId();  // present, zero-length
  expect.version_information = tp->version_information;  // checked above
  // Everything else at its default: no other parameter was sent.
  CHECK(*tp == expect);
  CHECK(tp->initial_source_connection_id->empty());

  // And exactly one GREASE parameter besides them.
  TransportParameterIterator it(*ch.quic_transport_parameters);
  RawTransportParameter p;
  size_t grease = 0, total = 0;
  for (;;) {
    auto more = it.next(p);
    REQUIRE(more.ok());
    if (!*more) break;
    ++total;
    grease += is_grease_transport_parameter(p.id);
  }
  CHECK(grease == 1);
  CHECK(total == 12);
}

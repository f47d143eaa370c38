// Writes the seed corpus of fuzz_unprotect: valid datagrams protected with
// the NULL cipher (zero header-protection mask, 16 zero tag bytes), so the
// fuzzer starts past the AEAD check and inside the frame decoder.
//
//   unprotect_seed_gen fuzz/corpus/unprotect
//
// The committed files in fuzz/corpus/unprotect/ are this program's output.
#include <array>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "lib/bytes.h"
#include "quic/frame.h"
#include "quic/packet_cipher.h"
#include "quic/packet_header.h"
#include "quic/packet_number.h"
#include "quic/packet_protection.h"
#include "quic/retry.h"
#include "quic/version.h"

using namespace wt;
using namespace wt::quic;

namespace {

const std::array<uint8_t, 8> kDcid{0x83, 0x94, 0xc8, 0xf0, 0x3e, 0x51, 0x57, 0x08};
const std::array<uint8_t, 8> kScid{0xc1, 0x01, 0xc2, 0x02, 0xc3, 0x03, 0xc4, 0x04};

[[noreturn]] void die(const char* what) {
  std::fprintf(stderr, "unprotect_seed_gen: %s\n", what);
  std::exit(1);
}
void need(bool ok, const char* what) {
  if (!ok) die(what);
}

// Appends packets to one datagram.
class DatagramBuilder {
 public:
  // Writes `frames` (then PADDING up to `pad_to` datagram bytes, if larger) in
  // a long header packet and protects it with the null cipher.
  void long_packet(PacketType type, uint32_t version, uint64_t pn, const std::vector<Frame>& frames,
                   size_t pad_to = 0, Bytes token = {}) {
    LongHeaderSpec spec;
    spec.type = type;
    spec.version = version;
    spec.dcid = kDcid;
    spec.scid = kScid;
    spec.token = token;
    spec.pn = pn;
    spec.pn_len = packet_number_length(pn, kNoPacketNumber);  // as if nothing was acked
    MutBytes out = room();
    auto l = encode_long_header(out, spec);
    need(l.ok(), "encode_long_header");
    size_t size = payload(out, l->header_size, l->pn_len, frames, pad_to);
    need(set_long_header_length(out, *l, size).ok(), "set_long_header_length");
    finish(out, size, l->pn_offset, pn);
  }

  void short_packet(uint64_t pn, size_t pn_len, bool key_phase, const std::vector<Frame>& frames,
                    size_t pad_to = 0) {
    ShortHeaderSpec spec;
    spec.dcid = kDcid;
    spec.pn = pn;
    spec.pn_len = pn_len;
    spec.key_phase = key_phase;
    MutBytes out = room();
    auto l = encode_short_header(out, spec);
    need(l.ok(), "encode_short_header");
    size_t size = payload(out, l->header_size, l->pn_len, frames, pad_to);
    finish(out, size, l->pn_offset, pn);
  }

  void raw(Bytes b) { d_.insert(d_.end(), b.begin(), b.end()); }
  const std::vector<uint8_t>& bytes() const { return d_; }

 private:
  MutBytes room() {
    buf_.assign(2048, 0);
    return MutBytes{buf_};
  }
  size_t payload(MutBytes out, size_t header_size, size_t pn_len, const std::vector<Frame>& frames,
                 size_t pad_to) {
    Writer w{out.subspan(header_size, out.size() - header_size - kAeadTagSize)};
    for (const Frame& f : frames) need(encode_frame(w, f), "encode_frame");
    size_t total = d_.size() + header_size + w.written() + kAeadTagSize;
    size_t pad = sample_padding_needed(pn_len, w.written());
    if (pad_to > total + pad) pad = pad_to - total;
    need(w.zeros(pad), "padding");
    return header_size + w.written() + kAeadTagSize;
  }
  void finish(MutBytes out, size_t size, size_t pn_offset, uint64_t pn) {
    MutBytes pkt = out.first(size);
    need(protect_packet(pkt, pn_offset, pn, PacketCipher::null_cipher()).ok(), "protect_packet");
    d_.insert(d_.end(), pkt.begin(), pkt.end());
  }
  std::vector<uint8_t> buf_;
  std::vector<uint8_t> d_;
};

std::vector<uint8_t> filler(size_t n, uint8_t seed) {
  std::vector<uint8_t> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = static_cast<uint8_t>(seed + i * 31);
  return v;
}

// An ACK frame from ranges, encoded by the hot-path encoder and decoded back.
Frame ack(std::vector<AckRange> ranges, uint64_t delay, const EcnCounts* ecn,
          std::vector<uint8_t>& storage) {
  storage.assign(256, 0);
  Writer w{MutBytes{storage}};
  need(encode_ack(w, ranges, delay, ecn), "encode_ack");
  Reader r{Bytes{storage.data(), w.written()}};
  auto f = decode_frame(r);
  need(f.ok(), "decode ack");
  return *f;
}

void write_file(const std::string& dir, const char* name, const std::vector<uint8_t>& d) {
  std::string path = dir + "/" + name;
  FILE* f = std::fopen(path.c_str(), "wb");
  need(f != nullptr, "cannot open output file");
  need(std::fwrite(d.data(), 1, d.size(), f) == d.size(), "write failed");
  std::fclose(f);
  std::printf("%s: %zu bytes\n", path.c_str(), d.size());
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) die("usage: unprotect_seed_gen OUTPUT_DIR");
  const std::string dir = argv[1];
  const std::vector<uint8_t> hello = filler(280, 0x16);  // stands in for a ClientHello
  const std::vector<uint8_t> data = filler(1400, 0x41);
  std::vector<uint8_t> ack1, ack2, ack3;
  const EcnCounts ecn{.ect0 = 120, .ect1 = 0, .ce = 3};

  {  // Client Initial: CRYPTO + PADDING to 1200 bytes (RFC 9000 §14.1).
    DatagramBuilder b;
    b.long_packet(PacketType::initial, kQuicV1, 0, {CryptoFrame{0, hello}}, 1200);
    write_file(dir, "initial_crypto_padding", b.bytes());
  }
  {  // QUIC v2 Initial with a token: ACK, CRYPTO at an offset, PING, PADDING.
    DatagramBuilder b;
    const auto token = filler(24, 0x70);
    b.long_packet(PacketType::initial, kQuicV2, 1,
                  {ack({{0, 0}}, 0, nullptr, ack1), CryptoFrame{280, Bytes{hello}.first(90)},
                   PingFrame{}},
                  1200, token);
    write_file(dir, "initial_v2_token", b.bytes());
  }
  {  // 1-RTT: ACK with ECN and gaps, then a STREAM frame filling the packet.
    DatagramBuilder b;
    Frame a = ack({{1000, 1010}, {990, 997}, {900, 950}, {3, 800}}, 25, &ecn, ack1);
    b.short_packet(1234, 2, true,
                   {a, StreamFrame{4, 65536, Bytes{data}.first(1100), false, true}});
    write_file(dir, "onertt_ack_stream", b.bytes());
  }
  {  // Server's first flight, coalesced: Initial + Handshake + 1-RTT whose
     // last STREAM frame has no Length (RFC 9000 §12.2, §19.8).
    DatagramBuilder b;
    b.long_packet(PacketType::initial, kQuicV1, 0,
                  {ack({{0, 0}}, 1, nullptr, ack1), CryptoFrame{0, Bytes{hello}.first(90)}});
    b.long_packet(PacketType::handshake, kQuicV1, 0,
                  {CryptoFrame{0, Bytes{data}.first(600)}});
    b.short_packet(0, 1, false,
                   {HandshakeDoneFrame{}, MaxDataFrame{1 << 20},
                    StreamFrame{3, 0, Bytes{data}.first(200), true, false}});
    write_file(dir, "coalesced_initial_handshake_onertt", b.bytes());
  }
  {  // 1-RTT carrying every frame type once.
    DatagramBuilder b;
    NewConnectionIdFrame ncid;
    ncid.sequence_number = 2;
    ncid.retire_prior_to = 1;
    ncid.connection_id = ConnectionId(std::span<const uint8_t>(kScid));
    ncid.stateless_reset_token.fill(0x5a);
    b.short_packet(77, 1, false,
                   {PingFrame{}, ack({{50, 60}, {10, 40}}, 100, &ecn, ack2),
                    ResetStreamFrame{8, 0x101, 5000}, StopSendingFrame{12, 0x102},
                    CryptoFrame{1000, Bytes{hello}.first(20)},
                    NewTokenFrame{Bytes{data}.first(30)},
                    StreamFrame{0, 0, Bytes{data}.first(10), true, true},
                    MaxDataFrame{1 << 24}, MaxStreamDataFrame{0, 1 << 20},
                    MaxStreamsFrame{true, 100}, MaxStreamsFrame{false, 50},
                    DataBlockedFrame{1 << 24}, StreamDataBlockedFrame{4, 1 << 20},
                    StreamsBlockedFrame{true, 100}, StreamsBlockedFrame{false, 50}, ncid,
                    RetireConnectionIdFrame{1},
                    PathChallengeFrame{{1, 2, 3, 4, 5, 6, 7, 8}},
                    PathResponseFrame{{8, 7, 6, 5, 4, 3, 2, 1}},
                    DatagramFrame{Bytes{data}.first(40), true},
                    ConnectionCloseFrame{true, 0x10c, 0, as_bytes("bye")},
                    PaddingFrame{5}});
    write_file(dir, "onertt_all_frames", b.bytes());
  }
  {  // 0-RTT: STREAM, MAX_DATA, DATAGRAM without Length last.
    DatagramBuilder b;
    b.long_packet(PacketType::initial, kQuicV1, 1, {CryptoFrame{0, Bytes{hello}.first(200)}});
    b.long_packet(PacketType::zero_rtt, kQuicV1, 0,
                  {StreamFrame{0, 0, Bytes{data}.first(300), false, true}, MaxDataFrame{4096},
                   DatagramFrame{Bytes{data}.first(64), false}},
                  1200);
    write_file(dir, "initial_zerortt", b.bytes());
  }
  {  // Handshake CONNECTION_CLOSE (transport, 0x1c) with a 4-byte packet number.
    DatagramBuilder b;
    b.long_packet(PacketType::handshake, kQuicV2, 0x12345678,
                  {ConnectionCloseFrame{false, 0x0a, 0x06, as_bytes("protocol violation")}});
    write_file(dir, "handshake_close", b.bytes());
  }
  {  // 1-RTT with a 4-byte packet number and a wide ACK.
    DatagramBuilder b;
    std::vector<AckRange> ranges;
    for (uint64_t i = 0; i < 32; ++i) {
      const uint64_t top = 0x40000000 - i * 1000;
      ranges.push_back({top - 10 - i, top});
    }
    b.short_packet(0x3fffff00, 4, false, {ack(ranges, 1 << 20, nullptr, ack3)});
    write_file(dir, "onertt_pn4_wide_ack", b.bytes());
  }
  {  // Version Negotiation and Retry: parsed but carry no packet number.
    std::vector<uint8_t> vn(64);
    const uint32_t versions[] = {kQuicV1, kQuicV2, 0x1a2a3a4a};
    auto n = encode_version_negotiation(MutBytes{vn}, kDcid, kScid, versions, 0x55);
    need(n.ok(), "encode_version_negotiation");
    vn.resize(*n);
    write_file(dir, "version_negotiation", vn);

    std::vector<uint8_t> retry(128);
    const auto token = filler(32, 0x99);
    auto m = encode_retry_packet(MutBytes{retry}, kQuicV1, kDcid, kScid, token, kScid);
    need(m.ok(), "encode_retry_packet");
    retry.resize(*m);
    write_file(dir, "retry", retry);
  }
  return 0;
}

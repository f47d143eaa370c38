// Test support: crafting packets by hand and reading what a connection sent.
//
// A connection configured with ConnectionConfig::null_cipher protects 1-RTT
// packets with PacketCipher::null_cipher() (plaintext, zero tag, zero header
// protection mask), so a test can build 1-RTT packets of arbitrary frames or
// raw bytes and decode the connection's 1-RTT answers. Initial packets use
// the real Initial keys (make_initial_ciphers), which a test can derive from
// the client's original DCID.
//
// Header-only and free of Catch2 so that fuzz targets can use it too.
#pragma once
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "lib/bytes.h"
#include "lib/clock.h"
#include "quic/connection_id.h"
#include "quic/endpoint.h"
#include "quic/frame.h"
#include "quic/packet_cipher.h"
#include "quic/packet_header.h"
#include "quic/packet_protection.h"
#include "quic/packet_type.h"

namespace wt::test {

using Datagram = std::vector<uint8_t>;

// The process-wide null cipher (stateless, so sharing it is safe).
inline const quic::PacketCipher& null_cipher() {
  static const quic::PacketCipher c = quic::PacketCipher::null_cipher();
  return c;
}

// Frames encoded back to back. Empty on an encoding failure (a frame that
// cannot be encoded, e.g. an empty CID): tests that want malformed frames
// write raw bytes instead.
inline std::vector<uint8_t> encode_frames(const std::vector<quic::Frame>& frames) {
  size_t n = 0;
  for (const auto& f : frames) n += quic::encoded_size(f);
  std::vector<uint8_t> out(n);
  Writer w{MutBytes{out}};
  for (const auto& f : frames)
    if (!quic::encode_frame(w, f)) return {};
  out.resize(w.written());
  return out;
}

// A 1-RTT packet (short header, RFC 9000 §17.3.1) carrying `payload` as its
// plaintext, protected with `cipher` (by default the null cipher). The
// payload may be empty (a packet without frames) or malformed: nothing is
// checked. `pn_len` is 1..4; a 4-byte packet number always satisfies the
// header protection sample size (RFC 9001 §5.4.2).
inline Datagram forge_short_packet(Bytes dcid, uint64_t pn, Bytes payload, size_t pn_len = 4,
                                   const quic::PacketCipher& cipher = null_cipher(),
                                   bool key_phase = false) {
  const size_t pad = quic::sample_padding_needed(pn_len, payload.size());
  Datagram out(1 + dcid.size() + pn_len + payload.size() + pad + quic::kAeadTagSize);
  quic::ShortHeaderSpec h;
  h.dcid = dcid;
  h.pn = pn;
  h.pn_len = pn_len;
  h.key_phase = key_phase;
  auto lay = quic::encode_short_header(MutBytes{out}, h);
  if (!lay.ok()) return {};
  std::copy(payload.begin(), payload.end(), out.begin() + static_cast<std::ptrdiff_t>(lay->header_size));
  if (!quic::protect_packet(MutBytes{out}, lay->pn_offset, pn, cipher).ok()) return {};
  return out;
}

inline Datagram forge_short_packet(Bytes dcid, uint64_t pn, const std::vector<quic::Frame>& frames) {
  auto payload = encode_frames(frames);
  return forge_short_packet(dcid, pn, Bytes{payload});
}

// A long header packet (Initial or Handshake, RFC 9000 §17.2) carrying
// `payload`, protected with `cipher`. The plaintext is padded with PADDING
// frames so that the packet is at least `min_size` bytes (1200 for a
// client's Initial, RFC 9000 §14.1).
struct LongPacketSpec {
  quic::PacketType type = quic::PacketType::initial;
  uint32_t version = 0x00000001;
  Bytes dcid;
  Bytes scid;
  Bytes token;
  uint64_t pn = 0;
  size_t pn_len = 4;
  size_t min_size = 0;
};

inline Datagram forge_long_packet(const LongPacketSpec& s, Bytes payload,
                                  const quic::PacketCipher& cipher) {
  Datagram out(std::max<size_t>(s.min_size, 64 + s.dcid.size() + s.scid.size() + s.token.size() +
                                                payload.size() + quic::kAeadTagSize));
  quic::LongHeaderSpec h;
  h.type = s.type;
  h.version = s.version;
  h.dcid = s.dcid;
  h.scid = s.scid;
  h.token = s.token;
  h.pn = s.pn;
  h.pn_len = s.pn_len;
  h.length_size = 2;
  auto lay = quic::encode_long_header(MutBytes{out}, h);
  if (!lay.ok()) return {};
  const size_t hs = lay->header_size;
  size_t body = payload.size() + quic::sample_padding_needed(s.pn_len, payload.size());
  if (hs + body + quic::kAeadTagSize < s.min_size) body = s.min_size - hs - quic::kAeadTagSize;
  const size_t total = hs + body + quic::kAeadTagSize;
  out.resize(total);
  std::fill(out.begin() + static_cast<std::ptrdiff_t>(hs), out.end(), 0);  // PADDING frames
  std::copy(payload.begin(), payload.end(), out.begin() + static_cast<std::ptrdiff_t>(hs));
  if (!quic::set_long_header_length(MutBytes{out}, *lay, total).ok()) return {};
  if (!quic::protect_packet(MutBytes{out}, lay->pn_offset, s.pn, cipher).ok()) return {};
  return out;
}

// Crafts consecutive 1-RTT packets to one connection (its CID as DCID),
// numbering them from `first_pn` up. The default starts far above anything
// a short test's real peer sends, so forged packets are never duplicates of
// real ones (4-byte packet numbers decode against any largest received).
class PacketForge {
 public:
  explicit PacketForge(const quic::ConnectionId& dcid, uint64_t first_pn = 1'000'000)
      : dcid_(dcid), pn_(first_pn) {}
  Datagram frames(const std::vector<quic::Frame>& f) {
    auto payload = encode_frames(f);
    return raw(Bytes{payload});
  }
  Datagram raw(Bytes payload) {
    return forge_short_packet(dcid_.bytes(), pn_++, payload, 4, null_cipher(), key_phase_);
  }
  Datagram raw(std::initializer_list<uint8_t> payload) {
    std::vector<uint8_t> p(payload);
    return raw(Bytes{p});
  }
  uint64_t next_pn() const { return pn_; }
  const quic::ConnectionId& dcid() const { return dcid_; }
  // The Key Phase bit of the packets that follow (RFC 9001 §6).
  void set_key_phase(bool phase) { key_phase_ = phase; }

 private:
  quic::ConnectionId dcid_;
  uint64_t pn_;
  bool key_phase_ = false;
};

// ---------------------------------------------------------------------------
// Reading a connection's output.

// Everything `ep` sends at `now` (up to `max_batches` send() calls), split
// into datagrams.
inline std::vector<Datagram> take_datagrams(quic::Endpoint& ep, Time now, size_t max_batches = 100) {
  std::vector<Datagram> out;
  std::vector<uint8_t> buf(64 * 1500);
  for (size_t i = 0; i < max_batches; ++i) {
    auto b = ep.send(MutBytes{buf}, now);
    if (!b.bytes) break;
    for (size_t off = 0; off < b.bytes; off += b.segment_size) {
      const size_t n = std::min(b.segment_size, b.bytes - off);
      out.emplace_back(buf.begin() + static_cast<std::ptrdiff_t>(off),
                       buf.begin() + static_cast<std::ptrdiff_t>(off + n));
    }
  }
  return out;
}

// One packet taken out of a datagram and opened; frames decoded from
// `plaintext` (views into it, so keep the struct alive while using them).
struct OpenedPacket {
  quic::PacketType type = quic::PacketType::one_rtt;
  uint64_t pn = 0;      // decoded as if nothing was received before
  bool key_phase = false;
  std::vector<uint8_t> plaintext;
  std::vector<quic::Frame> frames;
  bool frames_ok = true;  // every frame decoded
};

struct OpenKeys {
  const quic::PacketCipher* initial = nullptr;    // to open Initial packets
  const quic::PacketCipher* handshake = nullptr;  // to open Handshake packets
  const quic::PacketCipher* one_rtt = &null_cipher();
};

// Opens every packet of `datagrams` it has keys for; the rest are skipped.
// `short_dcid_len`: length of the receiver's CIDs (for short headers).
inline std::vector<OpenedPacket> open_packets(const std::vector<Datagram>& datagrams,
                                              size_t short_dcid_len, const OpenKeys& keys = {}) {
  std::vector<OpenedPacket> out;
  for (const Datagram& d : datagrams) {
    Datagram copy = d;  // unprotecting works in place
    quic::HeaderParseOptions opts;
    opts.short_dcid_len = short_dcid_len;
    quic::DatagramSplitter split(MutBytes{copy}, opts);
    while (!split.done()) {
      auto hdr = split.next();
      if (!hdr.ok()) break;
      const quic::PacketCipher* c = hdr->type == quic::PacketType::initial     ? keys.initial
                                    : hdr->type == quic::PacketType::handshake ? keys.handshake
                                    : hdr->type == quic::PacketType::one_rtt   ? keys.one_rtt
                                                                               : nullptr;
      if (!c) continue;
      auto up = quic::unprotect_packet(split.packet(), hdr->pn_offset, quic::kNoPacketNumber, *c);
      if (!up.ok()) continue;
      OpenedPacket p;
      p.type = hdr->type;
      p.pn = up->pn;
      p.key_phase = up->key_phase;
      p.plaintext.assign(up->payload.begin(), up->payload.end());
      Reader r{Bytes{p.plaintext}};
      while (!r.empty()) {
        auto f = quic::decode_frame(r);
        if (!f.ok()) {
          p.frames_ok = false;
          break;
        }
        p.frames.push_back(*f);
      }
      out.push_back(std::move(p));
    }
  }
  return out;
}

// A CONNECTION_CLOSE frame seen on the wire, with the packet type it came in.
struct WireClose {
  quic::PacketType packet_type = quic::PacketType::one_rtt;
  bool application = false;
  uint64_t error_code = 0;
  uint64_t frame_type = 0;
  std::string reason;
};

// Every CONNECTION_CLOSE (0x1c or 0x1d) in the packets that could be opened.
inline std::vector<WireClose> find_connection_closes(const std::vector<Datagram>& datagrams,
                                                     size_t short_dcid_len,
                                                     const OpenKeys& keys = {}) {
  std::vector<WireClose> out;
  for (const OpenedPacket& p : open_packets(datagrams, short_dcid_len, keys)) {
    for (const quic::Frame& f : p.frames) {
      if (const auto* c = std::get_if<quic::ConnectionCloseFrame>(&f)) {
        WireClose w;
        w.packet_type = p.type;
        w.application = c->application;
        w.error_code = c->error_code;
        w.frame_type = c->frame_type;
        w.reason.assign(c->reason.begin(), c->reason.end());
        out.push_back(std::move(w));
      }
    }
  }
  return out;
}

// The first transport CONNECTION_CLOSE (type 0x1c), if any.
inline std::optional<WireClose> find_transport_close(const std::vector<Datagram>& datagrams,
                                                     size_t short_dcid_len,
                                                     const OpenKeys& keys = {}) {
  for (auto& c : find_connection_closes(datagrams, short_dcid_len, keys))
    if (!c.application) return c;
  return std::nullopt;
}

}  // namespace wt::test

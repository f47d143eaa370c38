// quicdump: a dissector for raw QUIC datagrams (one UDP payload per file).
//
// Prints each packet's header, decrypts Initial packets with the Initial keys
// derived from the client's first Destination Connection ID (RFC 9001 §5.2),
// prints every frame, reassembles the CRYPTO stream of each direction and
// summarises the TLS ClientHello in it (SNI, ALPN, groups, key shares, cipher
// suites, transport parameters, each checked as a server would).
//
//   quicdump [--dcid HEX] [--short-dcid-len N] [--hex] [--payload] [FILE...]
//
// With no FILE it reads the two Chromium 156 Initials in test/data.
#include <fmt/core.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "lib/hex.h"
#include "quic/client_hello.h"
#include "quic/frame.h"
#include "quic/key_schedule.h"
#include "quic/packet_header.h"
#include "quic/packet_number.h"
#include "quic/packet_protection.h"
#include "quic/transport_params.h"
#include "quic/version.h"

#ifndef WT_DEFAULT_VECTORS_DIR
#define WT_DEFAULT_VECTORS_DIR "test/data"
#endif

using namespace wt;
using namespace wt::quic;

namespace {

struct Options {
  std::vector<std::string> files;
  std::optional<std::vector<uint8_t>> dcid;  // original DCID for Initial keys
  size_t short_dcid_len = 0;
  bool hex_input = false;
  bool dump_payload = false;
};

void usage() {
  fmt::print(stderr,
             "usage: quicdump [options] [FILE...]\n"
             "  Each FILE holds one UDP payload (a QUIC datagram). Default: the Chromium\n"
             "  156 Initials in " WT_DEFAULT_VECTORS_DIR
             ".\n"
             "  --dcid HEX            client's original DCID for the Initial keys\n"
             "                        (default: the DCID of the first Initial)\n"
             "  --short-dcid-len N    DCID length of short-header packets (default 0)\n"
             "  --hex                 FILEs contain hex text instead of bytes\n"
             "  --payload             also dump decrypted payloads in hex\n");
}

// Appends `item` to a ", "-separated list.
void add_item(std::string& list, std::string_view item) {
  if (!list.empty()) list += ", ";
  list += item;
}

std::string hex_or_empty(Bytes b) { return b.empty() ? std::string("(empty)") : to_hex(b); }

std::string version_name(uint32_t v) {
  if (v == kQuicV1) return "v1";
  if (v == kQuicV2) return "v2";
  if (is_reserved_version(v)) return fmt::format("0x{:08x} (reserved)", v);
  return fmt::format("0x{:08x}", v);
}

std::string name_or_hex(const char* name, uint16_t v) {
  return name ? fmt::format("{}", name) : fmt::format("0x{:04x}", v);
}

// A CRYPTO stream of one direction, reassembled by offset (bounded).
class CryptoStream {
 public:
  static constexpr size_t kLimit = 1 << 20;
  // False if the data lies beyond the limit or contradicts earlier bytes.
  bool add(uint64_t offset, Bytes data) {
    if (offset > kLimit || data.size() > kLimit - offset) return false;
    size_t end = static_cast<size_t>(offset) + data.size();
    if (bytes_.size() < end) {
      bytes_.resize(end);
      have_.resize(end);
    }
    bool consistent = true;
    for (size_t i = 0; i < data.size(); ++i) {
      size_t at = static_cast<size_t>(offset) + i;
      if (have_[at] && bytes_[at] != data[i]) consistent = false;
      bytes_[at] = data[i];
      have_[at] = true;
    }
    return consistent;
  }
  Bytes contiguous() const {
    size_t n = 0;
    while (n < have_.size() && have_[n]) ++n;
    return {bytes_.data(), n};
  }
  size_t received_extent() const { return bytes_.size(); }
  bool empty() const { return bytes_.empty(); }

 private:
  std::vector<uint8_t> bytes_;
  std::vector<bool> have_;
};

enum Direction { kClient = 0, kServer = 1 };
const char* direction_name(int d) { return d == kClient ? "client" : "server"; }

struct State {
  Options opts;
  std::optional<std::vector<uint8_t>> initial_dcid;
  uint64_t largest_initial_pn[2] = {kNoPacketNumber, kNoPacketNumber};
  CryptoStream crypto[2];
  size_t packets = 0;
  size_t decrypted = 0;
};

void print_frame(const Frame& frame, size_t offset) {
  std::string s = std::visit(
      [](const auto& f) -> std::string {
        using T = std::decay_t<decltype(f)>;
        if constexpr (std::is_same_v<T, PaddingFrame>) {
          return fmt::format("PADDING x{}", f.length);
        } else if constexpr (std::is_same_v<T, PingFrame>) {
          return "PING";
        } else if constexpr (std::is_same_v<T, AckFrame>) {
          std::string r =
              fmt::format("{} largest={} delay={} ranges=", f.has_ecn ? "ACK_ECN" : "ACK",
                          f.largest_acknowledged, f.ack_delay);
          bool first = true;
          for (const AckRange& a : f) {
            r += fmt::format("{}{}-{}", first ? "[" : ",", a.largest, a.smallest);
            first = false;
          }
          r += "]";
          if (f.has_ecn)
            r += fmt::format(" ect0={} ect1={} ce={}", f.ecn.ect0, f.ecn.ect1, f.ecn.ce);
          return r;
        } else if constexpr (std::is_same_v<T, ResetStreamFrame>) {
          return fmt::format("RESET_STREAM id={} error=0x{:x} final_size={}", f.stream_id,
                             f.application_error_code, f.final_size);
        } else if constexpr (std::is_same_v<T, StopSendingFrame>) {
          return fmt::format("STOP_SENDING id={} error=0x{:x}", f.stream_id,
                             f.application_error_code);
        } else if constexpr (std::is_same_v<T, CryptoFrame>) {
          return fmt::format("CRYPTO offset={} len={}", f.offset, f.data.size());
        } else if constexpr (std::is_same_v<T, NewTokenFrame>) {
          return fmt::format("NEW_TOKEN len={}", f.token.size());
        } else if constexpr (std::is_same_v<T, StreamFrame>) {
          return fmt::format("STREAM id={} offset={} len={}{}{}", f.stream_id, f.offset,
                             f.data.size(), f.fin ? " FIN" : "", f.has_length ? "" : " (to end)");
        } else if constexpr (std::is_same_v<T, MaxDataFrame>) {
          return fmt::format("MAX_DATA {}", f.maximum_data);
        } else if constexpr (std::is_same_v<T, MaxStreamDataFrame>) {
          return fmt::format("MAX_STREAM_DATA id={} max={}", f.stream_id, f.maximum_stream_data);
        } else if constexpr (std::is_same_v<T, MaxStreamsFrame>) {
          return fmt::format("MAX_STREAMS {} {}", f.bidirectional ? "bidi" : "uni",
                             f.maximum_streams);
        } else if constexpr (std::is_same_v<T, DataBlockedFrame>) {
          return fmt::format("DATA_BLOCKED {}", f.maximum_data);
        } else if constexpr (std::is_same_v<T, StreamDataBlockedFrame>) {
          return fmt::format("STREAM_DATA_BLOCKED id={} max={}", f.stream_id,
                             f.maximum_stream_data);
        } else if constexpr (std::is_same_v<T, StreamsBlockedFrame>) {
          return fmt::format("STREAMS_BLOCKED {} {}", f.bidirectional ? "bidi" : "uni",
                             f.maximum_streams);
        } else if constexpr (std::is_same_v<T, NewConnectionIdFrame>) {
          return fmt::format("NEW_CONNECTION_ID seq={} retire_prior_to={} cid={} token={}",
                             f.sequence_number, f.retire_prior_to, f.connection_id.hex(),
                             to_hex(f.stateless_reset_token));
        } else if constexpr (std::is_same_v<T, RetireConnectionIdFrame>) {
          return fmt::format("RETIRE_CONNECTION_ID seq={}", f.sequence_number);
        } else if constexpr (std::is_same_v<T, PathChallengeFrame>) {
          return fmt::format("PATH_CHALLENGE {}", to_hex(f.data));
        } else if constexpr (std::is_same_v<T, PathResponseFrame>) {
          return fmt::format("PATH_RESPONSE {}", to_hex(f.data));
        } else if constexpr (std::is_same_v<T, ConnectionCloseFrame>) {
          std::string reason(as_string(f.reason));
          if (f.application)
            return fmt::format("CONNECTION_CLOSE (application) error=0x{:x} reason=\"{}\"",
                               f.error_code, reason);
          return fmt::format("CONNECTION_CLOSE error=0x{:x} ({}) frame_type=0x{:x} reason=\"{}\"",
                             f.error_code, transport_error_name(f.error_code), f.frame_type,
                             reason);
        } else if constexpr (std::is_same_v<T, HandshakeDoneFrame>) {
          return "HANDSHAKE_DONE";
        } else if constexpr (std::is_same_v<T, DatagramFrame>) {
          return fmt::format("DATAGRAM len={}{}", f.data.size(), f.has_length ? "" : " (to end)");
        } else {
          return "?";
        }
      },
      frame);
  fmt::print("      +{:<4} {}\n", offset, s);
}

void print_frames(State& st, Bytes payload, PacketType type, int direction) {
  Reader r(payload);
  while (!r.empty()) {
    size_t at = r.offset();
    auto f = decode_frame(r);
    if (!f.ok()) {
      fmt::print("      +{:<4} frame error: {} (0x{:x}, frame type 0x{:x})\n", at, f.error().detail,
                 f.error().code, f.error().frame_type);
      return;
    }
    print_frame(*f, at);
    if (!frame_allowed_in(frame_type_of(*f), type))
      fmt::print("             ^ not allowed in a {} packet (RFC 9000 §12.4)\n",
                 packet_type_name(type));
    if (auto* c = std::get_if<CryptoFrame>(&*f);
        c && type == PacketType::initial && direction >= 0) {
      if (!st.crypto[direction].add(c->offset, c->data))
        fmt::print("             ^ CRYPTO data conflicts with earlier bytes or is out of range\n");
    }
  }
}

// Tries the client, then the server Initial keys; returns the direction, or -1.
int decrypt_initial(State& st, MutBytes packet, const PacketHeader& h, Bytes& payload,
                    uint64_t& pn) {
  if (!st.initial_dcid) return -1;
  auto ciphers = make_initial_ciphers(h.version, *st.initial_dcid);
  if (!ciphers.ok()) return -1;
  std::vector<uint8_t> original(packet.begin(), packet.end());
  for (int dir : {kClient, kServer}) {
    const PacketCipher& c = dir == kClient ? ciphers->client : ciphers->server;
    auto u = unprotect_packet(packet, h.pn_offset, st.largest_initial_pn[dir], c);
    if (u.ok()) {
      payload = u->payload;
      pn = u->pn;
      uint64_t& largest = st.largest_initial_pn[dir];
      if (largest == kNoPacketNumber || pn > largest) largest = pn;
      return dir;
    }
    std::memcpy(packet.data(), original.data(), original.size());  // undo, try the other keys
  }
  return -1;
}

void dump_datagram(State& st, MutBytes datagram) {
  HeaderParseOptions hopts;
  hopts.short_dcid_len = st.opts.short_dcid_len;
  DatagramSplitter split(datagram, hopts);
  while (!split.done()) {
    auto h = split.next();
    size_t off = split.packet_offset();
    if (!h.ok()) {
      fmt::print("  @{} packet dropped: {}\n", off, h.error().detail);
      auto inv = parse_invariant_header(Bytes{datagram.subspan(off)}, st.opts.short_dcid_len);
      if (inv.ok() && inv->long_header)
        fmt::print("    (long header, version {}, dcid {}, scid {})\n", version_name(inv->version),
                   hex_or_empty(inv->dcid), hex_or_empty(inv->scid));
      continue;
    }
    ++st.packets;
    std::string line = fmt::format("  @{} {}", off, packet_type_name(h->type));
    if (h->is_long()) line += fmt::format(" {}", version_name(h->version));
    line += fmt::format(" dcid={} ({})", hex_or_empty(h->dcid), h->dcid.size());
    if (h->is_long()) line += fmt::format(" scid={} ({})", hex_or_empty(h->scid), h->scid.size());
    if (h->type == PacketType::initial || h->type == PacketType::retry)
      line += fmt::format(" token={}", h->token.size());
    if (h->has_packet_number()) line += fmt::format(" length={}", h->length);
    line += fmt::format(" size={}", h->packet_size);
    fmt::print("{}\n", line);

    if (h->type == PacketType::version_negotiation) {
      std::string vs;
      for (size_t i = 0; i < h->version_count(); ++i) add_item(vs, version_name(h->version_at(i)));
      fmt::print("    versions: {}\n", vs);
      continue;
    }
    if (h->type == PacketType::retry) {
      fmt::print("    retry token {} integrity tag {}\n", to_hex(h->token), to_hex(h->retry_tag));
      continue;
    }
    if (h->type != PacketType::initial) {
      fmt::print("    (no keys for {} packets)\n", packet_type_name(h->type));
      continue;
    }
    // RFC 9001 §5.2: Initial keys come from the client's first DCID.
    if (!st.initial_dcid) st.initial_dcid.emplace(h->dcid.begin(), h->dcid.end());
    Bytes payload;
    uint64_t pn = 0;
    int dir = decrypt_initial(st, split.packet(), *h, payload, pn);
    if (dir < 0) {
      fmt::print("    cannot decrypt with the Initial keys of dcid {} (try --dcid)\n",
                 hex_or_empty(*st.initial_dcid));
      continue;
    }
    ++st.decrypted;
    fmt::print("    from {}: pn={} payload={} bytes\n", direction_name(dir), pn, payload.size());
    if (st.opts.dump_payload) fmt::print("    payload {}\n", to_hex(payload));
    print_frames(st, payload, h->type, dir);
  }
}

void print_transport_parameters(Bytes tp, Role sender) {
  fmt::print("  transport parameters ({} bytes):\n", tp.size());
  TransportParameterIterator it(tp);
  RawTransportParameter p;
  for (;;) {
    auto more = it.next(p);
    if (!more.ok()) {
      fmt::print("    malformed: {}\n", more.error().detail);
      break;
    }
    if (!*more) break;
    std::string value;
    Reader r(p.value);
    uint64_t v = 0;
    using Id = TransportParameterId;
    switch (static_cast<Id>(p.id)) {
      case Id::max_idle_timeout:
      case Id::max_udp_payload_size:
      case Id::initial_max_data:
      case Id::initial_max_stream_data_bidi_local:
      case Id::initial_max_stream_data_bidi_remote:
      case Id::initial_max_stream_data_uni:
      case Id::initial_max_streams_bidi:
      case Id::initial_max_streams_uni:
      case Id::ack_delay_exponent:
      case Id::max_ack_delay:
      case Id::active_connection_id_limit:
      case Id::max_datagram_frame_size:
        if (r.varint(v) && r.empty()) value = fmt::format("{}", v);
        break;
      case Id::version_information:
        if (p.value.size() >= 4 && p.value.size() % 4 == 0) {
          uint32_t chosen = r.u32();
          std::string available;
          while (!r.empty()) add_item(available, version_name(r.u32()));
          value = fmt::format("chosen {}, available [{}]", version_name(chosen), available);
        }
        break;
      case Id::disable_active_migration:
      case Id::grease_quic_bit:
        if (p.value.empty()) value = "(set)";
        break;
      default: break;
    }
    if (!value.empty() && (p.id == static_cast<uint64_t>(Id::max_idle_timeout) ||
                           p.id == static_cast<uint64_t>(Id::max_ack_delay)))
      value += " ms";
    if (value.empty()) value = p.value.empty() ? "(empty)" : to_hex(p.value);
    fmt::print("    {} (0x{:x}) = {}\n", transport_parameter_name(p.id), p.id, value);
  }
  auto d = TransportParameters::decode(tp, sender);
  if (d.ok())
    fmt::print("    valid as sent by a {}\n", sender == Role::client ? "client" : "server");
  else
    fmt::print("    INVALID as sent by a {}: {}\n", sender == Role::client ? "client" : "server",
               d.error().detail);
}

void print_u16_list(const char* label, const std::optional<U16List>& l,
                    const char* (*namer)(uint16_t)) {
  if (!l) {
    fmt::print("  {}: (absent)\n", label);
    return;
  }
  std::string s;
  for (uint16_t v : *l) add_item(s, name_or_hex(namer ? namer(v) : nullptr, v));
  fmt::print("  {}: {}\n", label, s);
}

const char* version_label(uint16_t v) {
  switch (v) {
    case 0x0304: return "TLS1.3";
    case 0x0303: return "TLS1.2";
    default: return is_tls_grease(v) ? "GREASE" : nullptr;
  }
}

void print_client_hello(Bytes msg) {
  auto r = parse_client_hello(msg);
  if (!r.ok()) {
    fmt::print("ClientHello ({} bytes): malformed: {}\n", msg.size(), r.error().detail);
    return;
  }
  const ClientHello& ch = *r;
  fmt::print("ClientHello ({} bytes): legacy_version 0x{:04x}, session_id {} bytes\n", msg.size(),
             ch.legacy_version, ch.legacy_session_id.size());
  std::string suites;
  for (uint16_t s : ch.cipher_suites) add_item(suites, name_or_hex(tls_cipher_suite_name(s), s));
  fmt::print("  cipher suites: {}\n", suites);
  std::string exts;
  size_t n = 0;
  for (const TlsExtension& e : ch.extensions) {
    exts += fmt::format("{}{}({})", n ? " " : "", name_or_hex(tls_extension_name(e.type), e.type),
                        e.data.size());
    ++n;
  }
  fmt::print("  extensions ({}): {}\n", n, exts);
  fmt::print("  SNI: {}\n", ch.server_name ? std::string(*ch.server_name) : std::string("(none)"));
  if (ch.alpn) {
    std::string a;
    for (std::string_view p : *ch.alpn) add_item(a, p);
    fmt::print("  ALPN: {}\n", a);
  } else {
    fmt::print("  ALPN: (absent)\n");
  }
  print_u16_list("supported versions", ch.supported_versions, version_label);
  print_u16_list("groups", ch.supported_groups, tls_group_name);
  if (ch.key_shares) {
    std::string k;
    for (const KeyShareEntry& e : *ch.key_shares)
      add_item(k, fmt::format("{} ({} bytes)", name_or_hex(tls_group_name(e.group), e.group),
                              e.key_exchange.size()));
    fmt::print("  key shares: {}\n", k.empty() ? "(none)" : k);
  } else {
    fmt::print("  key shares: (absent)\n");
  }
  print_u16_list("signature algorithms", ch.signature_algorithms, tls_signature_scheme_name);
  if (ch.quic_transport_parameters)
    print_transport_parameters(*ch.quic_transport_parameters, Role::client);
  else
    fmt::print("  transport parameters: MISSING (RFC 9001 §8.2: missing_extension)\n");
}

// RFC 8446 §4.1.3: the fields a server chose.
void print_server_hello(Bytes msg) {
  Reader r(msg.subspan(4));
  uint16_t legacy_version = r.u16();
  Bytes random = r.bytes(32);
  r.bytes(r.u8());  // legacy_session_id_echo
  uint16_t suite = r.u16();
  r.u8();  // legacy_compression_method
  Reader ext(r.bytes(r.u16()));
  if (!r.ok()) {
    fmt::print("ServerHello ({} bytes): malformed\n", msg.size());
    return;
  }
  // RFC 8446 §4.1.3: this random marks a HelloRetryRequest.
  static const std::vector<uint8_t> kHrr =
      hex("cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c");
  bool hrr = std::equal(random.begin(), random.end(), kHrr.begin(), kHrr.end());
  fmt::print("{} ({} bytes): legacy_version 0x{:04x}, cipher suite {}\n",
             hrr ? "HelloRetryRequest" : "ServerHello", msg.size(), legacy_version,
             name_or_hex(tls_cipher_suite_name(suite), suite));
  while (!ext.empty()) {
    uint16_t type = ext.u16();
    Reader d(ext.bytes(ext.u16()));
    if (!ext.ok()) break;
    std::string value;
    if (type == tls_ext::supported_versions && d.remaining() == 2) {
      value = fmt::format("0x{:04x}", d.u16());
    } else if (type == tls_ext::key_share && d.remaining() >= 2) {
      uint16_t g = d.u16();
      value = d.empty() ? fmt::format("{} (requested)", name_or_hex(tls_group_name(g), g))
                        : fmt::format("{} ({} bytes)", name_or_hex(tls_group_name(g), g),
                                      d.remaining() >= 2 ? d.u16() : 0);
    } else {
      value = fmt::format("{} bytes", d.remaining());
    }
    fmt::print("  {}: {}\n", name_or_hex(tls_extension_name(type), type), value);
  }
}

const char* handshake_type_name(uint8_t t) {
  switch (t) {
    case 1: return "ClientHello";
    case 2: return "ServerHello";
    case 4: return "NewSessionTicket";
    case 8: return "EncryptedExtensions";
    case 11: return "Certificate";
    case 13: return "CertificateRequest";
    case 15: return "CertificateVerify";
    case 20: return "Finished";
    default: return "unknown";
  }
}

void summarize_crypto(const State& st) {
  for (int dir : {kClient, kServer}) {
    const CryptoStream& cs = st.crypto[dir];
    if (cs.empty()) continue;
    Bytes data = cs.contiguous();
    fmt::print("\n{} Initial CRYPTO stream: {} contiguous bytes of {} received\n",
               direction_name(dir), data.size(), cs.received_extent());
    while (!data.empty()) {
      size_t size = tls_handshake_message_size(data);
      if (size == 0 || size > data.size()) {
        fmt::print("incomplete handshake message ({} of {} bytes)\n", data.size(), size);
        break;
      }
      Bytes msg = data.first(size);
      if (msg[0] == kTlsHandshakeClientHello)
        print_client_hello(msg);
      else if (msg[0] == 2)
        print_server_hello(msg);
      else
        fmt::print("{} ({} bytes)\n", handshake_type_name(msg[0]), size);
      data = data.subspan(size);
    }
  }
}

bool read_input(const std::string& path, bool hex_input, std::vector<uint8_t>& out) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return false;
  std::vector<uint8_t> raw{std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
  if (f.bad()) return false;
  if (!hex_input) {
    out = std::move(raw);
    return true;
  }
  auto h = from_hex(as_string(raw));
  if (!h) return false;
  out = std::move(*h);
  return true;
}

bool parse_args(int argc, char** argv, Options& o) {
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    auto value = [&]() -> const char* { return i + 1 < argc ? argv[++i] : nullptr; };
    if (a == "-h" || a == "--help") {
      return false;
    } else if (a == "--dcid") {
      const char* v = value();
      auto d = v ? from_hex(v) : std::nullopt;
      if (!d || d->size() > 255) return false;
      o.dcid = std::move(*d);
    } else if (a == "--short-dcid-len") {
      const char* v = value();
      if (!v) return false;
      char* end = nullptr;
      unsigned long n = std::strtoul(v, &end, 10);
      if (*end != '\0' || n > kMaxCidLength) return false;
      o.short_dcid_len = n;
    } else if (a == "--hex") {
      o.hex_input = true;
    } else if (a == "--payload") {
      o.dump_payload = true;
    } else if (a.size() > 1 && a[0] == '-') {
      return false;
    } else {
      o.files.emplace_back(a);
    }
  }
  if (o.files.empty()) {
    o.files = {WT_DEFAULT_VECTORS_DIR "/chromium156-initial-1.bin",
               WT_DEFAULT_VECTORS_DIR "/chromium156-initial-2.bin"};
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  State st;
  if (!parse_args(argc, argv, st.opts)) {
    usage();
    return 2;
  }
  st.initial_dcid = st.opts.dcid;
  int status = 0;
  for (const std::string& path : st.opts.files) {
    std::vector<uint8_t> d;
    if (!read_input(path, st.opts.hex_input, d)) {
      fmt::print(stderr, "quicdump: cannot read {}{}\n", path, st.opts.hex_input ? " as hex" : "");
      status = 1;
      continue;
    }
    fmt::print("datagram {} ({} bytes)\n", path, d.size());
    dump_datagram(st, MutBytes{d});
  }
  summarize_crypto(st);
  fmt::print("\n{} packets, {} decrypted\n", st.packets, st.decrypted);
  return status;
}

// Stateful libFuzzer target for a whole connection: a client and a server
// Endpoint that first complete a real handshake (lossless, virtual clock,
// 1-RTT under the null cipher so the fuzzer can speak 1-RTT), then run a
// sequence of records chosen by the fuzzer, interleaved with their real
// traffic:
//
//   record = [op: 1 byte][length: 2 bytes, big endian][payload: length bytes]
//
//   op % 4 == 0  a datagram to the server          (how: see below, op >> 2)
//   op % 4 == 3  a datagram to the client          (same)
//   op % 4 == 1  advance the clock by `payload` microseconds (little endian,
//                up to 8 bytes, capped at ~11 days), fire timers, and let the
//                network deliver the real traffic
//   op % 4 == 2  an action (op >> 2) % 8: 0 server send() discarded (loss),
//                1 client send() discarded, 2 client writes `payload` on a
//                stream, 3 server writes on a stream, 4 client sends a
//                DATAGRAM, 5 client opens a stream, 6 server resets / stops
//                a stream, 7 deliver the real traffic once
//
// How a datagram is made, (op >> 2) % 8:
//   0  `payload` as is (any header, any bytes)
//   1  a 1-RTT packet (null cipher) to the CID the real peer uses, with
//      `payload` as its plaintext frames and a fresh packet number (far
//      above the real sender's: the real sender will see ACKs of packets it
//      never sent, a PROTOCOL_VIOLATION, once traffic flows back)
//   2  the next real in-flight datagram for that side, `payload` XORed into it
//      (first payload byte: offset), delivered in place of the original
//   3  the last real datagram that side received, replayed
//   4, 6  the next real 1-RTT or Initial packet for that side with its
//      plaintext replaced by `payload` (same header and packet number;
//      Initial packets re-protected with the Initial keys)
//   5, 7  the same with `payload` appended to the real frames
// For datagrams, op & 0x20 makes them arrive from another address of the
// sender (a new port for the client, a new address for the server).
//
// An input whose first byte is 0xfe skips the handshake: its records start
// right after the client's connect(), to attack the handshake itself.
//
// CONNECTION_FUZZ_VERBOSE=1 prints every close with its error code.
// Checks beyond the sanitizers: no event after connection_closed; timers
// make progress (after on_timeout(now) and sending, next_timeout() > now);
// and when the fuzzer only dropped, replayed or delayed real traffic (no
// forged content), two connections that still think they are established
// can exchange a DATAGRAM each way.
// A certificate and TLS configs are made once per process; the rng is seeded
// per run, so CIDs and every run are deterministic.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <memory>
#include <optional>
#include <vector>

#include "lib/certgen.h"
#include "lib/random.h"
#include "quic/endpoint.h"
#include "quic/key_schedule.h"
#include "quic/tls_config.h"
#include "test/support/packet_forge.h"

using namespace wt;
using namespace wt::quic;

namespace {

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "connection_fuzz: %s\n", what);
  std::abort();
}

struct Tls {
  std::shared_ptr<TlsConfig> server, client;
};

const Tls& tls() {
  static const Tls t = [] {
    certgen::Options o;
    o.dns_names = {"localhost"};
    auto cert = certgen::self_signed(o);
    if (!cert.ok()) fail("certificate");
    Tls r;
    TlsConfigOptions s;
    s.role = TlsRole::server;
    s.alpn = {"fuzz"};
    s.cert_chain_pem = cert->cert_pem;
    s.private_key_pem = cert->key_pem;
    auto sc = TlsConfig::create(s);
    if (!sc.ok()) fail("server TLS config");
    r.server = *sc;
    TlsConfigOptions c;
    c.role = TlsRole::client;
    c.alpn = {"fuzz"};
    c.verify = CertVerify::none;
    auto cc = TlsConfig::create(c);
    if (!cc.ok()) fail("client TLS config");
    r.client = *cc;
    return r;
  }();
  return t;
}

// CONNECTION_FUZZ_VERBOSE=1: print every close (to see which rules a corpus reaches).
bool verbose() {
  static const bool v = std::getenv("CONNECTION_FUZZ_VERBOSE") != nullptr;
  return v;
}

constexpr size_t kCidLen = 8;
constexpr uint8_t kEarlyMode = 0xfe;
constexpr int kMaxPumpRounds = 64;

// One side of the pair with its connection and what the harness observed.
struct Side {
  std::unique_ptr<Endpoint> ep;
  Connection* conn = nullptr;
  bool closed_event = false;
  std::deque<test::Datagram> inbox;  // real traffic in flight to this side
  test::Datagram last_received;
  ConnectionId peer_dcid;            // the DCID the real peer sends to us
  uint64_t forged_pn = 1u << 30;
  bool got_live = false;
};

struct World {
  SeededRandom rng{0x5eed};
  Side server, client;
  Path cpath{Address::v4(0x7f000001, 50000), Address::v4(0x7f000002, 443)};
  Time now = from_ns(1'000'000'000);
  std::vector<uint8_t> scratch = std::vector<uint8_t>(65536);

  World() {
    EndpointConfig cfg;
    cfg.conn.rng = &rng;
    cfg.conn.null_cipher = true;
    cfg.conn.cid_length = kCidLen;
    cfg.conn.max_datagram_frame_size = 1200;
    cfg.conn.idle_timeout = std::chrono::seconds(30);
    cfg.conn.server_name = "localhost";
    // Small limits, so that the fuzzer can reach them.
    cfg.conn.initial_max_data = 64 * 1024;
    cfg.conn.initial_max_stream_data = 16 * 1024;
    cfg.conn.max_streams_bidi = 8;
    cfg.conn.max_streams_uni = 8;
    cfg.conn.tls = tls().client;
    client.ep = std::make_unique<Endpoint>(cfg);
    cfg.conn.tls = tls().server;
    cfg.server = true;
    server.ep = std::make_unique<Endpoint>(cfg);
    auto c = client.ep->connect(cpath, now);
    if (!c.ok()) fail("connect");
    client.conn = *c;
    auto k = make_initial_ciphers(client.conn->version(), client.conn->original_dcid().bytes());
    if (!k.ok()) fail("Initial keys");
    initial_keys.emplace(std::move(*k));
  }

  std::optional<InitialCiphers> initial_keys;  // from the client's original DCID

  // `alt`: as if from another address of the sender (NAT rebinding,
  // migration, or an off-path attacker's spoofed source).
  Path path_to(const Side& s, bool alt = false) const {
    if (&s == &server)
      return Path{cpath.remote, alt ? Address::v4(0x7f000001, 50001) : cpath.local};
    return alt ? Path{cpath.local, Address::v4(0x7f000003, 443)} : cpath;
  }
  Side& peer_of(Side& s) { return &s == &server ? client : server; }

  void deliver(Side& to, test::Datagram& d, bool alt_path = false) {
    to.ep->receive(MutBytes{d}, path_to(to, alt_path), Ecn::not_ect, now);
    if (!to.conn && &to == &server) to.conn = server.ep->accept();
    drain_events(to);
  }

  // Moves what `from` sends into the peer's inbox.
  void collect(Side& from) {
    Side& to = peer_of(from);
    for (auto& d : test::take_datagrams(*from.ep, now, 16)) {
      // Remember the short-header DCID the real sender uses.
      if (d.size() > kCidLen && !(d[0] & 0x80))
        to.peer_dcid = ConnectionId(Bytes{d.data() + 1, kCidLen});
      to.inbox.push_back(std::move(d));
    }
  }

  // Delivers the real traffic both ways until quiet (bounded).
  void pump() {
    for (int round = 0; round < kMaxPumpRounds; ++round) {
      collect(client);
      collect(server);
      if (client.inbox.empty() && server.inbox.empty()) return;
      for (Side* s : {&server, &client}) {
        while (!s->inbox.empty()) {
          test::Datagram d = std::move(s->inbox.front());
          s->inbox.pop_front();
          s->last_received = d;
          deliver(*s, d);
        }
      }
    }
  }

  // Fires due timers; a connection whose deadline stays at or before `now`
  // after on_timeout() and send() would spin an event loop.
  void fire_timers() {
    for (int spins = 0;; ++spins) {
      client.ep->on_timeout(now);
      server.ep->on_timeout(now);
      drain_events(client);
      drain_events(server);
      pump();
      if (std::min(client.ep->next_timeout(), server.ep->next_timeout()) > now) return;
      if (spins > 100) {
        std::fprintf(stderr, "now %lld client next %lld (state %d) server next %lld (state %d)\n",
                     static_cast<long long>(to_ns(now)),
                     static_cast<long long>(to_ns(client.ep->next_timeout())),
                     static_cast<int>(client.conn->state()),
                     static_cast<long long>(to_ns(server.ep->next_timeout())),
                     server.conn ? static_cast<int>(server.conn->state()) : -1);
        fail("timer does not advance past now (event loop would spin)");
      }
    }
  }

  void advance(Duration d) {
    const Time end = now + d;
    // Visit every deadline on the way, as an event loop would.
    for (int i = 0; i < 10000; ++i) {
      Time t = std::min(client.ep->next_timeout(), server.ep->next_timeout());
      if (t > end) break;
      now = std::max(now, t);
      fire_timers();
    }
    now = std::max(now, end);
    fire_timers();
  }

  bool up(const Side& s) const { return s.conn && s.conn->is_established() && !s.closed_event; }

  // Whether any datagram with fuzzer-made content was delivered. Without
  // integrity protection such a datagram can legitimately break the
  // connection (e.g. a NEW_CONNECTION_ID that retires every real CID), so
  // liveness is only checked when the fuzzer merely dropped, replayed or
  // delayed real traffic and used the API.
  bool forged = false;

  void check_alive() {
    if (forged || !up(client) || !up(server)) return;
    static const uint8_t kPing[4] = {'l', 'i', 'v', 'e'};
    client.got_live = server.got_live = false;
    if (!client.conn->send_datagram(Bytes{kPing}).ok() || !server.conn->send_datagram(Bytes{kPing}).ok())
      fail("send_datagram refused on an established connection");
    for (int i = 0; i < 100 && !(client.got_live && server.got_live); ++i) {
      pump();
      if (!up(client) || !up(server)) return;  // closed meanwhile (e.g. idle timeout)
      if (client.got_live && server.got_live) break;
      advance(std::chrono::milliseconds(100));
    }
    if (up(client) && up(server) && !(client.got_live && server.got_live))
      fail("established connections no longer deliver DATAGRAM frames");
  }

  void drain_events(Side& s) {
    if (!s.conn) return;
    while (auto e = s.conn->poll_event()) {
      if (s.closed_event) fail("event after connection_closed");
      switch (e->type) {
        case Event::Type::connection_closed:
          s.closed_event = true;
          if (verbose())
            std::fprintf(stderr, "closed %s: code 0x%llx frame 0x%llx%s%s: %s\n",
                         &s == &server ? "server" : "client",
                         static_cast<unsigned long long>(e->close.error_code),
                         static_cast<unsigned long long>(e->close.frame_type),
                         e->close.by_peer ? " by peer" : "",
                         e->close.idle_timeout ? " idle" : "", e->close.reason.c_str());
          break;
        case Event::Type::stream_readable:
        case Event::Type::stream_opened:
          for (int i = 0; i < 64; ++i) {
            auto r = s.conn->stream_read(e->stream_id, MutBytes{scratch});
            if (!r.ok() || r->bytes == 0) break;
          }
          break;
        case Event::Type::datagram_received:
          if (e->data.size() == 4 && std::memcmp(e->data.data(), "live", 4) == 0) s.got_live = true;
          break;
        default:
          break;
      }
    }
  }

  bool handshake() {
    for (int i = 0; i < 200; ++i) {
      pump();
      if (client.conn->is_established() && server.conn && server.conn->is_established() &&
          client.conn->handshake_confirmed())
        return true;
      Time t = std::min(client.ep->next_timeout(), server.ep->next_timeout());
      if (t == kTimeInfinite) return false;
      now = std::max(now, t);
      client.ep->on_timeout(now);
      server.ep->on_timeout(now);
    }
    return false;
  }

  // Some state worth attacking: streams with data both ways.
  void warm_up() {
    static const uint8_t kData[300] = {1, 2, 3};
    if (auto id = client.conn->open_stream(true); id.ok())
      (void)client.conn->stream_write(*id, Bytes{kData}, false);
    if (auto id = client.conn->open_stream(false); id.ok())
      (void)client.conn->stream_write(*id, Bytes{kData}, true);
    if (auto id = server.conn->open_stream(false); id.ok())
      (void)server.conn->stream_write(*id, Bytes{kData}, false);
    (void)client.conn->send_datagram(Bytes{kData, 20});
    pump();
  }

  void datagram_to(Side& to, uint8_t how, bool alt_path, Bytes payload) {
    test::Datagram d;
    switch (how) {
      case 0:
        d.assign(payload.begin(), payload.end());
        break;
      case 1: {
        ConnectionId dcid = to.peer_dcid;
        if (dcid.empty() && to.conn) dcid = to.conn->initial_scid();
        d = test::forge_short_packet(dcid.bytes(), to.forged_pn++, payload);
        break;
      }
      case 2: {
        if (to.inbox.empty()) return;
        d = std::move(to.inbox.front());
        to.inbox.pop_front();
        if (d.empty() || payload.empty()) break;
        const size_t off = payload[0] % d.size();
        for (size_t i = 1; i < payload.size() && off + i - 1 < d.size(); ++i) d[off + i - 1] ^= payload[i];
        break;
      }
      case 3:
        d = to.last_received;
        break;
      default: {
        // A real packet's header (its packet number is one the real sender
        // used, so ACKs of it stay valid) with fuzzer frames.
        test::Datagram real;
        if (!take_real(to, real)) return;
        d = (real[0] & 0x80) ? rewrite_initial(to, real, how % 2 == 1, payload)
                             : rewrite_short(real, how % 2 == 1, payload);
        break;
      }
    }
    if (d.empty()) return;
    if (how != 3) forged = true;
    deliver(to, d, alt_path);
  }

  // A 1-RTT packet with the header of `real` and `payload` as (or after,
  // with `append`) its frames.
  static test::Datagram rewrite_short(const test::Datagram& real, bool append, Bytes payload) {
    const size_t pn_len = (real[0] & 3) + 1;
    const size_t hs = 1 + kCidLen + pn_len;
    uint64_t pn = 0;
    for (size_t i = 0; i < pn_len; ++i) pn = pn << 8 | real[1 + kCidLen + i];
    std::vector<uint8_t> plain;
    if (append) plain.assign(real.begin() + static_cast<std::ptrdiff_t>(hs), real.end() - 16);
    plain.insert(plain.end(), payload.begin(), payload.end());
    return test::forge_short_packet(Bytes{real.data() + 1, kCidLen}, pn, Bytes{plain}, pn_len,
                                    test::null_cipher(), real[0] & kKeyPhaseBit);
  }

  // The same for the Initial packet that starts `real` (re-protected with
  // the Initial keys); packets coalesced after it are kept as they are.
  test::Datagram rewrite_initial(const Side& to, test::Datagram real, bool append, Bytes payload) {
    const bool to_server = &to == &server;
    const PacketCipher& key = to_server ? initial_keys->client : initial_keys->server;
    HeaderParseOptions opts;
    opts.short_dcid_len = kCidLen;
    DatagramSplitter split(MutBytes{real}, opts);
    auto hdr = split.next();
    if (!hdr.ok() || hdr->type != PacketType::initial) return {};
    const size_t first_size = split.packet().size();
    const test::Datagram rest(real.begin() + static_cast<std::ptrdiff_t>(first_size), real.end());
    // Initial packet numbers are small: decoding against "none received" is exact.
    auto up = unprotect_packet(split.packet(), hdr->pn_offset, kNoPacketNumber, key);
    if (!up.ok()) return {};
    std::vector<uint8_t> plain;
    if (append) plain.assign(up->payload.begin(), up->payload.end());
    plain.insert(plain.end(), payload.begin(), payload.end());
    test::LongPacketSpec spec;
    spec.version = hdr->version;
    spec.dcid = hdr->dcid;
    spec.scid = hdr->scid;
    spec.token = hdr->token;
    spec.pn = up->pn;
    spec.pn_len = up->pn_len;
    // RFC 9000 §14.1: a client's Initial datagram is at least 1200 bytes.
    spec.min_size = to_server && rest.size() < 1200 ? 1200 - rest.size() : 0;
    test::Datagram d = test::forge_long_packet(spec, Bytes{plain}, key);
    if (d.empty()) return {};
    d.insert(d.end(), rest.begin(), rest.end());
    return d;
  }

  // The next real 1-RTT or Initial datagram in flight to `to`, taken out of
  // its inbox. If there is none, the peer is made to send one (a 1-byte
  // DATAGRAM) when it can.
  bool take_real(Side& to, test::Datagram& out) {
    Side& from = peer_of(to);
    collect(from);
    for (int attempt = 0; attempt < 2; ++attempt) {
      for (auto it = to.inbox.begin(); it != to.inbox.end(); ++it) {
        const test::Datagram& d = *it;
        const bool short_hdr = d.size() >= 1 + kCidLen + 4 + 16 && !(d[0] & 0x80);
        const bool initial = d.size() > 7 && (d[0] & 0xb0) == 0x80;  // v1 long type 0
        if (short_hdr || initial) {
          out = std::move(*it);
          to.inbox.erase(it);
          return true;
        }
      }
      static const uint8_t kOne[1] = {0x2a};
      if (!from.conn || !from.conn->is_established() || !from.conn->send_datagram(Bytes{kOne}).ok())
        return false;
      collect(from);
    }
    return false;
  }

  // A stream ID of any type from the first payload byte; a wrong one is an
  // API error, not a crash.
  static uint64_t pick_stream(Bytes payload) { return payload.empty() ? 0 : payload[0] & 0x3f; }

  void action(uint8_t what, Bytes payload) {
    switch (what) {
      case 0: (void)test::take_datagrams(*server.ep, now, 4); break;
      case 1: (void)test::take_datagrams(*client.ep, now, 4); break;
      case 2:
        (void)client.conn->stream_write(pick_stream(payload), payload,
                                        !payload.empty() && (payload[0] & 0x80));
        break;
      case 3:
        if (server.conn)
          (void)server.conn->stream_write(pick_stream(payload), payload,
                                          !payload.empty() && (payload[0] & 0x80));
        break;
      case 4: (void)client.conn->send_datagram(payload); break;
      case 5: (void)client.conn->open_stream(payload.empty() || (payload[0] & 1)); break;
      case 6: {
        if (!server.conn) break;
        const uint64_t id = pick_stream(payload);
        if (payload.size() > 1 && (payload[1] & 1))
          (void)server.conn->stream_reset(id, payload[1]);
        else
          (void)server.conn->stream_stop_sending(id, payload.size() > 1 ? payload[1] : 0);
        break;
      }
      default: pump(); break;
    }
    drain_events(client);
    drain_events(server);
  }
};

uint64_t le_number(Bytes b) {
  uint64_t v = 0;
  for (size_t i = 0; i < b.size() && i < 8; ++i) v |= uint64_t{b[i]} << (8 * i);
  return v;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  World w;
  // A first byte of 0xfe: the records start right after the client's
  // connect(), so they can attack the handshake (Initial packets).
  const bool early = size > 0 && data[0] == kEarlyMode;
  if (early) {
    ++data;
    --size;
  } else {
    if (!w.handshake()) fail("handshake did not complete");
    w.warm_up();
  }

  Reader r{Bytes{data, size}};
  while (r.remaining() >= 3) {
    const uint8_t op = static_cast<uint8_t>(r.uint_n(1));
    const size_t len = static_cast<size_t>(r.uint_n(2));
    Bytes payload = r.bytes(std::min(len, r.remaining()));
    switch (op % 4) {
      case 0: w.datagram_to(w.server, (op >> 2) % 8, op & 0x20, payload); break;
      case 3: w.datagram_to(w.client, (op >> 2) % 8, op & 0x20, payload); break;
      case 1: {
        const uint64_t us = std::min<uint64_t>(le_number(payload), uint64_t{1} << 40);
        w.advance(std::chrono::microseconds(static_cast<int64_t>(us)));
        break;
      }
      default: w.action((op >> 2) % 8, payload); break;
    }
  }
  // Let it all play out, then check that two connections which both still
  // think they are up can still exchange a DATAGRAM each way.
  w.advance(std::chrono::seconds(1));
  w.check_alive();
  return 0;
}

// Admission of new server connections: Version Negotiation for versions we
// do not speak (RFC 9000 §6.1), address validation with Retry and tokens
// (RFC 9000 §8.1), INVALID_TOKEN for bad Retry tokens, NEW_TOKEN after the
// handshake, and the queue of these stateless packets.
#include <algorithm>
#include <cstring>

#include "lib/log.h"
#include "lib/random.h"
#include "quic/endpoint.h"
#include "quic/key_schedule.h"
#include "quic/packet_protection.h"
#include "quic/retry.h"
#include "quic/version.h"

namespace wt::quic {

namespace {
constexpr size_t kMinInitialDatagram = 1200;  // RFC 9000 §14.1
constexpr Duration kRateWindow = std::chrono::seconds(1);
}  // namespace

AddressTokenCodec& Endpoint::tokens() {
  if (!tokens_) tokens_ = std::make_unique<AddressTokenCodec>(*cfg_.conn.rng);
  return *tokens_;
}

std::vector<uint32_t> Endpoint::server_versions() const {
  std::vector<uint32_t> v;
  for (uint32_t x : cfg_.conn.versions)
    if (is_supported_version(x)) v.push_back(x);
  if (v.empty()) v = {kQuicV1, kQuicV2};
  return v;
}

// ------------------------------------------------------------ stateless queue

Endpoint::StatelessPacket* Endpoint::reserve_stateless(const Path& path) {
  if (stateless_.empty()) stateless_.resize(kMaxStatelessQueued);
  // A full queue drops: answering every spoofed datagram would make us a
  // reflector (RFC 9000 §8, §21.5).
  if (stateless_count_ == stateless_.size()) {
    ++stats_.datagrams_dropped;
    return nullptr;
  }
  StatelessPacket& p = stateless_[(stateless_head_ + stateless_count_) % stateless_.size()];
  p.path = path;
  p.size = 0;
  return &p;
}

SendBatch Endpoint::send_stateless(MutBytes out) {
  SendBatch b;
  while (stateless_count_) {
    StatelessPacket& p = stateless_[stateless_head_];
    stateless_head_ = (stateless_head_ + 1) % stateless_.size();
    --stateless_count_;
    if (p.size == 0 || p.size > out.size()) continue;
    std::memcpy(out.data(), p.data.data(), p.size);
    b.bytes = b.segment_size = p.size;
    b.path = p.path;
    break;
  }
  return b;
}

// ---------------------------------------------------- Version Negotiation

bool Endpoint::answer_unsupported_version(Bytes datagram, const Path& path) {
  if (datagram.empty() || !(datagram[0] & kHeaderFormLong)) return false;
  auto inv = parse_invariant_header(datagram, cfg_.conn.cid_length);
  if (!inv.ok() || !inv->long_header) return false;
  const auto versions = server_versions();
  if (std::find(versions.begin(), versions.end(), inv->version) != versions.end()) return false;
  // RFC 9000 §6.1: never answer a Version Negotiation packet; RFC 9000
  // §5.2.2, §14.1: only datagrams that could start a connection get one.
  if (inv->version == kVersionNegotiationVersion || !cfg_.send_version_negotiation ||
      datagram.size() < kMinInitialDatagram) {
    ++stats_.datagrams_dropped;
    return true;
  }
  StatelessPacket* p = reserve_stateless(path);
  if (!p) return true;
  // RFC 9000 §6.3: a reserved version among ours keeps clients honest.
  std::vector<uint32_t> list = versions;
  list.push_back(make_reserved_version(static_cast<uint32_t>(cfg_.conn.rng->u64())));
  // RFC 9000 §17.2.1: the CIDs are the client's, swapped.
  auto n = encode_version_negotiation(MutBytes{p->data}, inv->scid, inv->dcid, list,
                                      static_cast<uint8_t>(cfg_.conn.rng->u64()));
  if (!n.ok()) {
    ++stats_.datagrams_dropped;
    return true;
  }
  p->size = *n;
  ++stateless_count_;
  ++stats_.version_negotiations_sent;
  return true;
}

// ------------------------------------------------------ address validation

bool Endpoint::new_connection_rate_exceeded(Time now) {
  // More than N arrivals within one second: the (N+1)th most recent one
  // (kept in a ring of N+1 times) is less than a second old.
  const size_t n = cfg_.retry_above_rate;
  if (n == 0) return false;
  if (rate_ring_.size() != n + 1) {
    rate_ring_.assign(n + 1, Time{});
    rate_pos_ = rate_filled_ = 0;
  }
  rate_ring_[rate_pos_] = now;
  rate_pos_ = (rate_pos_ + 1) % rate_ring_.size();
  rate_filled_ = std::min(rate_filled_ + 1, rate_ring_.size());
  return rate_filled_ == rate_ring_.size() && now - rate_ring_[rate_pos_] < kRateWindow;
}

bool Endpoint::admit_initial(const PacketHeader& hdr, const Path& path, Time now,
                             InitialInfo& info) {
  if (!hdr.token.empty()) {
    const auto type = peek_token_type(hdr.token);
    if (type == TokenType::retry) {
      AddressToken t;
      // Bound to the Retry's SCID, which the client now sends as DCID.
      const TokenCheck check = tokens().validate(hdr.token, TokenType::retry, hdr.dcid, path.remote,
                                                 hdr.version, now, cfg_.retry_token_lifetime, &t);
      if (check == TokenCheck::valid) {
        info.retry_original_dcid = t.original_dcid;
        info.address_validated = true;
        ++stats_.tokens_accepted;
        return true;
      }
      // RFC 9000 §8.1.2: the client will not take a second Retry, so an
      // invalid Retry token ends the attempt with INVALID_TOKEN.
      log::debug("quic: Retry token rejected: {}", token_check_name(check));
      ++stats_.tokens_rejected;
      queue_invalid_token_close(hdr, path);
      return false;
    }
    if (type == TokenType::new_token) {
      // RFC 9369 §5: only for the version the token was issued in.
      if (tokens().validate(hdr.token, TokenType::new_token, {}, path.remote, hdr.version, now,
                            cfg_.new_token_lifetime) == TokenCheck::valid) {
        info.address_validated = true;
        ++stats_.tokens_accepted;
        return true;
      }
      ++stats_.tokens_rejected;
    }
    // RFC 9000 §8.1.3: otherwise proceed as if there were no token.
  }
  const bool over_rate = new_connection_rate_exceeded(now);
  if (!cfg_.retry_always && !over_rate) return true;
  queue_retry(hdr, path, now);
  return false;
}

void Endpoint::queue_retry(const PacketHeader& hdr, const Path& path, Time now) {
  Random& rng = *cfg_.conn.rng;
  // RFC 9000 §17.2.5.1: a new SCID of our choice, at least 8 bytes so the
  // client's next Initial is accepted as a new connection.
  const ConnectionId scid =
      ConnectionId::random(rng, std::clamp<size_t>(cfg_.conn.cid_length, 8, kMaxCidLength));
  AddressToken t;
  t.type = TokenType::retry;
  t.version = hdr.version;  // RFC 9369 §4: the client must not switch versions
  t.issued = now;
  t.address = path.remote;
  t.original_dcid = ConnectionId(hdr.dcid);
  uint8_t token[kMaxAddressTokenSize];
  const size_t token_len = tokens().seal(t, scid.bytes(), MutBytes{token});
  if (token_len == 0) {
    ++stats_.datagrams_dropped;
    return;
  }
  StatelessPacket* p = reserve_stateless(path);
  if (!p) return;
  auto n = encode_retry_packet(MutBytes{p->data}, hdr.version, hdr.scid, scid.bytes(),
                               Bytes{token, token_len}, hdr.dcid,
                               static_cast<uint8_t>(rng.u64() & 0x0f));
  if (!n.ok()) {
    ++stats_.datagrams_dropped;
    return;
  }
  p->size = *n;
  ++stateless_count_;
  ++stats_.retries_sent;
}

void Endpoint::queue_invalid_token_close(const PacketHeader& hdr, const Path& path) {
  // RFC 9000 §10.2.3: a CONNECTION_CLOSE (INVALID_TOKEN) in an Initial
  // packet, protected with the Initial keys of the client's DCID so the
  // client can read it; we keep no state.
  auto keys = make_initial_ciphers(hdr.version, hdr.dcid);
  if (!keys) return;
  StatelessPacket* p = reserve_stateless(path);
  if (!p) return;
  MutBytes out{p->data};
  LongHeaderSpec h;
  h.type = PacketType::initial;
  h.version = hdr.version;
  h.dcid = hdr.scid;
  h.scid = hdr.dcid;
  h.pn = 0;
  h.pn_len = 1;
  auto lay = encode_long_header(out, h);
  if (!lay.ok()) return;
  Writer w{out.subspan(lay->header_size, out.size() - lay->header_size - kAeadTagSize)};
  ConnectionCloseFrame f;
  f.error_code = static_cast<uint64_t>(TransportError::invalid_token);
  if (!encode_frame(w, f)) return;
  (void)w.zeros(sample_padding_needed(h.pn_len, w.written()));
  const size_t total = lay->header_size + w.written() + kAeadTagSize;
  if (!w.ok() || !set_long_header_length(out, *lay, total).ok() ||
      !protect_packet(out.first(total), lay->pn_offset, 0, keys->server).ok())
    return;
  p->size = total;
  ++stateless_count_;
  ++stats_.invalid_token_closes;
}

void Endpoint::after_receive(Connection& c, Time now) {
  if (!cfg_.server || !cfg_.send_new_token || !c.wants_new_token()) return;
  // RFC 9000 §8.1.3: a token for the client's next connection, bound to its
  // IP address only.
  AddressToken t;
  t.type = TokenType::new_token;
  t.version = c.version();  // RFC 9369 §5: the negotiated version
  t.issued = now;
  t.address = c.path().remote;
  uint8_t token[kMaxAddressTokenSize];
  const size_t n = tokens().seal(t, {}, MutBytes{token});
  if (n == 0) return;
  c.queue_new_token(Bytes{token, n});
  ++stats_.new_tokens_sent;
}

}  // namespace wt::quic

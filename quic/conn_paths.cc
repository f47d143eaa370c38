// Paths (RFC 9000 §8.2, §9): path validation with PATH_CHALLENGE and
// PATH_RESPONSE, the client's migration to a new local address or to the
// server's preferred address, the server following a peer that moved (NAT
// rebinding or migration), connection ID rotation on new paths (§9.5), and
// the hooks that put probes, key updates, PMTU probes and ECN marks into
// send() and run their timers.
#include <algorithm>

#include "lib/log.h"
#include "lib/random.h"
#include "quic/connection.h"
#include "quic/packet_number.h"
#include "quic/packet_protection.h"

namespace wt::quic {

namespace {
constexpr int kApp = static_cast<int>(PnSpace::application);
constexpr uint64_t kNoSeq = UINT64_MAX;
constexpr size_t kMinProbePacket = 64;  // below this a probe is not worth sending
}  // namespace

// ------------------------------------------------------------ path records

PathRecord& Connection::active_path() {
  if (paths_.empty()) {
    // Most connections never have a second path: room for more is made by
    // the first add_path(), before any record is handed out from it.
    PathRecord r;
    r.path = path_;
    r.purpose = PathRecord::Purpose::active;
    r.dcid = dcid_;
    r.dcid_seq = active_peer_seq_;
    r.validated = true;  // the handshake validated it (RFC 9000 §8.1)
    paths_.push_back(r);
    sent_synced_ = bytes_sent_;
  }
  return paths_[0];
}

PathRecord* Connection::find_path(const Path& p) {
  for (PathRecord& r : paths_)
    if (r.path == p) return &r;
  return nullptr;
}

PathRecord* Connection::add_path(const Path& p, PathRecord::Purpose purpose) {
  active_path();
  paths_.reserve(kMaxPaths + 1);  // records are referenced across later add_path() calls
  if (paths_.size() >= kMaxPaths) {
    // Forget the oldest path nobody probes; a spoofing peer cannot grow this.
    auto it = std::find_if(paths_.begin() + 1, paths_.end(), [](const PathRecord& r) {
      return r.purpose == PathRecord::Purpose::peer && !r.validating;
    });
    if (it == paths_.end())
      it = std::find_if(paths_.begin() + 1, paths_.end(),
                        [](const PathRecord& r) { return r.purpose == PathRecord::Purpose::peer; });
    if (it == paths_.end()) return nullptr;
    paths_.erase(it);
  }
  PathRecord r;
  r.path = p;
  r.purpose = purpose;
  r.dcid = dcid_;
  r.dcid_seq = active_peer_seq_;
  paths_.push_back(r);
  return &paths_.back();
}

bool Connection::pick_fresh_peer_cid(PathRecord& rec) {
  if (dcid_.empty()) {  // zero-length CIDs: nothing to rotate (RFC 9000 §9.5)
    rec.dcid = dcid_;
    rec.dcid_seq = active_peer_seq_;
    return true;
  }
  const PeerCid* best = nullptr;
  for (const PeerCid& p : peer_cids_) {
    if (p.seq == active_peer_seq_ || p.cid == dcid_) continue;
    const bool used = std::any_of(paths_.begin(), paths_.end(), [&](const PathRecord& r) {
      return &r != &rec && r.dcid_seq == p.seq;
    });
    if (!used && (!best || p.seq < best->seq)) best = &p;
  }
  if (!best) return false;
  rec.dcid = best->cid;
  rec.dcid_seq = best->seq;
  return true;
}

void Connection::retire_peer_cid(uint64_t seq) {
  if (seq == kNoSeq || seq == active_peer_seq_) return;
  auto it = std::find_if(peer_cids_.begin(), peer_cids_.end(),
                         [&](const PeerCid& p) { return p.seq == seq; });
  if (it == peer_cids_.end()) return;
  peer_cids_.erase(it);
  pending_.retire_cid_seqs.push_back(seq);  // RFC 9000 §19.16
  for (PathRecord& r : paths_)
    if (r.dcid_seq == seq) r.dcid_seq = kNoSeq;
}

bool Connection::path_validated() const {
  const bool handshake_ok = role_ == Role::client || address_validated_;
  return handshake_ok && (paths_.empty() || paths_[0].validated);
}

bool Connection::migration_pending() const {
  return std::any_of(paths_.begin(), paths_.end(), [](const PathRecord& r) {
    return r.purpose == PathRecord::Purpose::migrate || r.purpose == PathRecord::Purpose::preferred;
  });
}

void Connection::sync_path_bytes() {
  if (paths_.empty()) return;
  paths_[0].bytes_sent += bytes_sent_ - sent_synced_;
  sent_synced_ = bytes_sent_;
}

bool Connection::path_amplification_limited() const {
  // RFC 9000 §9.3: until the peer's new address is validated, send at most
  // three times what arrived from it.
  return role_ == Role::server && !paths_.empty() && !paths_[0].validated;
}

size_t Connection::path_amplification_budget() const {
  const PathRecord& a = paths_[0];
  const uint64_t sent = a.bytes_sent + (bytes_sent_ - sent_synced_);
  const uint64_t allowed = 3 * a.bytes_received;
  return allowed > sent ? static_cast<size_t>(allowed - sent) : 0;
}

bool Connection::ack_blocked_by_amplification() const {
  // Header, a small ACK frame and the AEAD tag.
  const size_t ack_packet = 1 + dcid_.size() + 4 + 16 + kAeadTagSize;
  return amplification_limited() && amplification_budget() < ack_packet;
}

// ------------------------------------------------------------ receiving

bool Connection::on_datagram_path(const Path& path, size_t bytes) {
  rx_path_ = path;
  if (!rx_path_.local.valid()) rx_path_.local = path_.local;  // a driver that does not tell
  // A client on a wildcard socket learns its address from the first
  // datagram of the server (IP_PKTINFO): without this every datagram would
  // arrive "on another path", and a PATH_CHALLENGE after a NAT rebinding
  // would go unanswered (RFC 9000 §8.2.2, §9.3.3).
  if (role_ == Role::client && !path_.local.valid() && rx_path_.local.valid() &&
      path.remote == path_.remote) {
    path_.local = rx_path_.local;
    if (!paths_.empty() && !paths_[0].path.local.valid()) paths_[0].path.local = rx_path_.local;
  }
  rx_bytes_ = bytes;
  if (rx_path_ == path_) return true;
  if (role_ == Role::client) {
    // RFC 9000 §9: a client discards packets from unknown server addresses.
    if (path.remote == path_.remote) return true;
    return std::any_of(paths_.begin(), paths_.end(),
                       [&](const PathRecord& r) { return r.path.remote == path.remote; });
  }
  // RFC 9000 §9: no migration before the handshake is confirmed; such
  // packets are dropped (without a stateless reset).
  return handshake_confirmed_;
}

void Connection::on_packet_path(Bytes dcid) {
  rx_non_probing_ = false;
  if (rx_path_ == path_) {
    PathRecord& a = active_path();
    a.bytes_received += rx_bytes_;
    rx_bytes_ = 0;
    if (role_ == Role::server &&
        (!a.has_peer_used_cid ||
         !std::equal(dcid.begin(), dcid.end(), a.peer_used_cid.bytes().begin(),
                     a.peer_used_cid.bytes().end()))) {
      a.peer_used_cid = ConnectionId(dcid);
      a.has_peer_used_cid = true;
    }
    return;
  }
  PathRecord* r = find_path(rx_path_);
  if (!r) {
    if (role_ == Role::client) return;  // e.g. late packets on our previous address
    r = add_path(rx_path_, PathRecord::Purpose::peer);
    if (!r) return;
    r->peer_used_cid = ConnectionId(dcid);
    r->has_peer_used_cid = true;
    // RFC 9000 §9.5: a peer that changed its CID for the new path gets a
    // fresh CID from us there too; after a NAT rebinding (same CID) ours
    // stays the same.
    const PathRecord& a = paths_[0];
    if (a.has_peer_used_cid && !(a.peer_used_cid == r->peer_used_cid))
      (void)pick_fresh_peer_cid(*r);
  }
  r->bytes_received += rx_bytes_;
  rx_bytes_ = 0;
}

void Connection::after_packet_path(uint64_t pn, bool largest, Time now) {
  (void)pn;
  if (role_ != Role::server || rx_path_ == path_ || !rx_non_probing_ || !largest) return;
  // RFC 9000 §9.3: the highest-numbered non-probing packet from a new
  // address: the peer moved there.
  for (size_t i = 1; i < paths_.size(); ++i) {
    if (paths_[i].path == rx_path_) {
      peer_migrated(i, now);
      return;
    }
  }
}

void Connection::on_path_challenge(const PathChallengeFrame& f, Time now) {
  PathRecord* r = rx_path_ == path_ ? &active_path() : find_path(rx_path_);
  if (!r) return;  // a client answers only on paths it uses
  // RFC 9000 §8.2.2: echo the data on the path it arrived on.
  if (r->n_responses == r->responses.size()) {
    std::rotate(r->responses.begin(), r->responses.begin() + 1, r->responses.end());
    --r->n_responses;
  }
  r->responses[r->n_responses++] = f.data;
  // A peer probing a new path will likely move there: validate it now so
  // that the move does not wait for a round trip.
  if (role_ == Role::server && r != &paths_[0] && !r->validated && !r->validating)
    start_validation(*r, now);
}

void Connection::on_path_response(const PathResponseFrame& f, Time now) {
  for (size_t i = 0; i < paths_.size(); ++i) {
    PathRecord& r = paths_[i];
    if (!r.validating) continue;
    const auto end = r.challenges.begin() + r.n_challenges;
    if (std::find(r.challenges.begin(), end, f.data) == end) continue;
    // RFC 9000 §8.2.3: a matching PATH_RESPONSE, on any path, validates
    // the path its PATH_CHALLENGE was sent on.
    r.validated = true;
    r.validating = false;
    r.challenge_due = false;
    r.n_challenges = 0;
    r.retry_at = r.deadline = kTimeInfinite;
    ++path_stats_.validations_succeeded;
    if (i == 0) {
      fallback_path_.reset();
      recovery_.set_amplification_limited(false, now);
    } else if (r.purpose == PathRecord::Purpose::migrate ||
               r.purpose == PathRecord::Purpose::preferred) {
      if (r.purpose == PathRecord::Purpose::preferred) path_stats_.preferred_address_used = true;
      switch_path(i, now);
    }
    return;
  }
  // RFC 9000 §8.2.3: anything else is ignored.
}

// ------------------------------------------------------------ validation

void Connection::start_validation(PathRecord& rec, Time now) {
  rec.validating = true;
  rec.challenge_due = true;
  rec.n_challenges = 0;
  rec.retry_at = kTimeInfinite;
  rec.retry_interval = pto();
  // RFC 9000 §8.2.4: three times the larger of the current PTO and that of
  // a new path (kInitialRtt); kTimeZero: armed when the challenge goes out.
  const Duration new_path_pto = 3 * cfg_.initial_rtt + recovery_.rtt().max_ack_delay();
  rec.deadline = now == kTimeZero ? kTimeInfinite : now + 3 * std::max(pto(), new_path_pto);
}

void Connection::validation_failed(size_t index, Time now) {
  ++path_stats_.validations_failed;
  PathRecord& r = paths_[index];
  log::debug("quic: path validation failed for {}", r.path.remote.to_string());
  if (index == 0) {
    r.validating = false;
    r.retry_at = r.deadline = kTimeInfinite;
    // RFC 9000 §9.3.2: go back to the last validated path, if any.
    if (fallback_path_) {
      for (size_t i = 1; i < paths_.size(); ++i) {
        if (paths_[i].path == *fallback_path_) {
          paths_[i].validated = true;
          if (paths_[i].dcid_seq == kNoSeq) (void)pick_fresh_peer_cid(paths_[i]);
          fallback_path_.reset();
          switch_path(i, now);
          return;
        }
      }
      fallback_path_.reset();
    }
    return;
  }
  // A CID sent on an abandoned path is not used elsewhere (RFC 9000 §9.5).
  if (r.purpose != PathRecord::Purpose::peer && r.dcid_seq != active_peer_seq_)
    retire_peer_cid(r.dcid_seq);
  paths_.erase(paths_.begin() + static_cast<ptrdiff_t>(index));
}

void Connection::switch_path(size_t index, Time now) {
  sync_path_bytes();
  PathRecord& r = paths_[index];
  const bool same = same_hosts(path_, r.path);
  paths_[0].dcid = dcid_;  // the old path keeps its CID unless it retires below
  paths_[0].dcid_seq = active_peer_seq_;
  // RFC 9000 §9.5: the new path uses its own peer CID; the old one retires.
  if (r.dcid_seq != kNoSeq && r.dcid_seq != active_peer_seq_) {
    const uint64_t old_seq = active_peer_seq_;
    dcid_ = r.dcid;
    active_peer_seq_ = r.dcid_seq;
    retire_peer_cid(old_seq);
    ++path_stats_.cids_rotated;
  }
  log::debug("quic: path {} -> {} / {}", path_.remote.to_string(), r.path.local.to_string(),
             r.path.remote.to_string());
  path_ = r.path;
  r.purpose = PathRecord::Purpose::active;
  std::swap(paths_[0], paths_[index]);
  paths_[index].purpose = PathRecord::Purpose::peer;
  if (role_ == Role::client) paths_.erase(paths_.begin() + static_cast<ptrdiff_t>(index));
  ++path_stats_.path_changes;
  reset_path_state(same, now);
}

void Connection::peer_migrated(size_t index, Time now) {
  const Path old = path_;
  const bool old_validated = paths_[0].validated;
  // The peer's address did not change (e.g. it moved to our preferred
  // address): it proved that address already.
  if (paths_[index].path.remote == old.remote) paths_[index].validated = true;
  switch_path(index, now);
  ++path_stats_.peer_migrations;
  PathRecord& a = paths_[0];
  if (a.validated) return;
  // RFC 9000 §9.3: validate the new address; until then the amplification
  // limit applies and the old path is the fallback.
  if (old_validated) fallback_path_ = old;
  if (!a.validating) start_validation(a, now);
}

void Connection::reset_path_state(bool same, Time now) {
  if (!same) {
    // RFC 9000 §9.4: a new path starts with fresh congestion control and
    // RTT estimates; the PMTU is searched again from the base.
    recovery_.congestion().reset();
    recovery_.rtt().reset();
    pacer_.set_rate(recovery_.congestion().cwnd(), recovery_.rtt().smoothed_rtt(), now);
    if (pmtud_started_) {
      pmtud_started_ = false;
      pmtud_.stop();
      set_packet_size(base_packet_size());
    }
  }
  // RFC 9000 §13.4.2: ECN is validated on every new path.
  ecn_.reset_path(cfg_.ecn);
}

Status Connection::migrate(const Address& new_local) {
  note_activity();
  if (role_ != Role::client) return Error(TransportError::internal_error, "only clients migrate");
  // RFC 9000 §9: not before the handshake is confirmed.
  if (state_ != State::established || !handshake_confirmed_)
    return Error(TransportError::internal_error, "migration before the handshake is confirmed");
  // RFC 9000 §18.2: disable_active_migration.
  if (peer_tp_.disable_active_migration)
    return Error(TransportError::internal_error, "the peer disabled active migration");
  if (new_local == path_.local)
    return Error(TransportError::internal_error, "already on this address");
  for (size_t i = paths_.size(); i-- > 1;) {
    if (paths_[i].purpose == PathRecord::Purpose::migrate) {
      retire_peer_cid(paths_[i].dcid_seq);
      paths_.erase(paths_.begin() + static_cast<ptrdiff_t>(i));
    }
  }
  PathRecord* r = add_path(Path{new_local, path_.remote}, PathRecord::Purpose::migrate);
  if (!r) return Error(TransportError::internal_error, "too many paths");
  // RFC 9000 §9.5: a new local address needs a CID not used elsewhere.
  if (!pick_fresh_peer_cid(*r)) {
    paths_.pop_back();
    return Error(TransportError::internal_error, "no unused connection ID from the peer");
  }
  start_validation(*r, kTimeZero);
  return {};
}

// ------------------------------------------------------------ preferred address

void Connection::setup_preferred_address() {
  if (role_ != Role::server || !cfg_.preferred_address || cfg_.cid_length == 0) return;
  // RFC 9000 §5.1.1: the CID in preferred_address has sequence number 1.
  ConnectionId cid = ConnectionId::random(rng_, cfg_.cid_length);
  local_cids_.push_back({next_local_seq_++, cid, stateless_reset_token(reset_key_, cid)});
  cids_added_.push_back(cid);
}

void Connection::add_preferred_address(TransportParameters& tp) const {
  if (role_ != Role::server || !cfg_.preferred_address) return;
  auto it = std::find_if(local_cids_.begin(), local_cids_.end(),
                         [](const LocalCid& c) { return c.seq == 1; });
  if (it == local_cids_.end()) return;
  const Address& a = *cfg_.preferred_address;
  PreferredAddress pa;
  if (a.family == 4) {
    std::copy(a.ip.begin(), a.ip.begin() + 4, pa.ipv4_address.begin());
    pa.ipv4_port = a.port;
  } else {
    pa.ipv6_address = a.ip;
    pa.ipv6_port = a.port;
  }
  pa.connection_id = it->cid;
  pa.stateless_reset_token = it->token;
  tp.preferred_address = pa;
}

Status Connection::on_peer_params_applied(Time now) {
  (void)now;
  if (role_ != Role::client || !peer_tp_.preferred_address) return {};
  const PreferredAddress& pa = *peer_tp_.preferred_address;
  // RFC 9000 §18.2: a preferred address needs a CID (and a server with
  // zero-length CIDs must not send one).
  if (pa.connection_id.empty() || dcid_.empty())
    return Error(TransportError::transport_parameter_error, "preferred_address without a CID");
  // RFC 9000 §5.1.1: sequence number 1, with its reset token.
  if (std::none_of(peer_cids_.begin(), peer_cids_.end(),
                   [](const PeerCid& p) { return p.seq == 1; }))
    peer_cids_.push_back({1, pa.connection_id, pa.stateless_reset_token, true});
  return {};
}

void Connection::start_preferred_address(Time now) {
  if (preferred_started_ || role_ != Role::client || !handshake_confirmed_ || !peer_tp_applied_ ||
      !peer_tp_.preferred_address || !cfg_.use_preferred_address)
    return;
  preferred_started_ = true;
  const PreferredAddress& pa = *peer_tp_.preferred_address;
  // RFC 9000 §9.6.1: the address family the client uses.
  Address to;
  const bool v4_set = pa.ipv4_port != 0 || pa.ipv4_address != std::array<uint8_t, 4>{};
  const bool v6_set = pa.ipv6_port != 0 || pa.ipv6_address != std::array<uint8_t, 16>{};
  if (path_.remote.family == 4 && v4_set) {
    to.family = 4;
    std::copy(pa.ipv4_address.begin(), pa.ipv4_address.end(), to.ip.begin());
    to.port = pa.ipv4_port;
  } else if (path_.remote.family == 6 && v6_set) {
    to.family = 6;
    to.ip = pa.ipv6_address;
    to.port = pa.ipv6_port;
  }
  if (!to.valid() || to == path_.remote) return;
  PathRecord* r = add_path(Path{path_.local, to}, PathRecord::Purpose::preferred);
  if (!r) return;
  auto it = std::find_if(peer_cids_.begin(), peer_cids_.end(),
                         [](const PeerCid& p) { return p.seq == 1; });
  if (it != peer_cids_.end() && it->seq != active_peer_seq_) {
    r->dcid = it->cid;
    r->dcid_seq = 1;
  } else if (!pick_fresh_peer_cid(*r)) {
    paths_.pop_back();
    return;
  }
  start_validation(*r, now);
}

// ------------------------------------------------------------ sending

size_t Connection::build_path_packet(MutBytes out, PathRecord& rec, size_t probe_size, Time now) {
  Space& sp = spaces_[kApp];
  if (!sp.tx || sp.discarded) return 0;
  const bool active = &rec == &paths_[0];
  const ConnectionId& dcid = active ? dcid_ : rec.dcid;
  // RFC 9000 §8.2.1, §8.2.2: datagrams with PATH_CHALLENGE or PATH_RESPONSE
  // are padded to 1200 bytes unless the amplification limit forbids it.
  size_t target = probe_size ? probe_size : kMinProbeDatagram;
  if (role_ == Role::server && !rec.validated) {
    const size_t budget = active
                              ? path_amplification_budget()
                              : (3 * rec.bytes_received > rec.bytes_sent
                                     ? static_cast<size_t>(3 * rec.bytes_received - rec.bytes_sent)
                                     : 0);
    target = std::min(target, budget);
  }
  target = std::min(target, out.size());
  if (target < kMinProbePacket || (probe_size && target < probe_size)) return 0;

  const uint64_t pn = sp.next_pn;
  const uint64_t largest_acked = recovery_.has_largest_acked(PnSpace::application)
                                     ? recovery_.largest_acked(PnSpace::application)
                                     : kNoPacketNumber;
  ShortHeaderSpec h;
  h.dcid = dcid.bytes();
  h.pn = pn;
  h.pn_len = packet_number_length(pn, largest_acked);
  h.key_phase = tx_key_phase();
  auto lay = encode_short_header(out, h);
  if (!lay.ok() || lay->header_size + kAeadTagSize + 16 > target) return 0;
  const size_t hs = lay->header_size;
  Writer w{out.subspan(hs, target - hs - kAeadTagSize)};
  SentFrames frames;
  if (probe_size) {
    // RFC 9000 §14.4: a PMTU probe is PING and PADDING.
    (void)w.u8(static_cast<uint8_t>(frame_type::ping));
    frames.push_back({SentFrame::Kind::ping});
  } else {
    for (uint8_t i = 0; i < rec.n_responses; ++i) {
      if (!encode_frame(w, PathResponseFrame{rec.responses[i]})) break;
      frames.push_back({SentFrame::Kind::path_response});
      ++path_stats_.responses_sent;
    }
    rec.n_responses = 0;  // RFC 9000 §8.2.2: never retransmitted
    if (rec.challenge_due) {
      PathData d;
      rng_.fill(d);
      if (encode_frame(w, PathChallengeFrame{d})) {
        if (rec.n_challenges == rec.challenges.size()) {
          std::rotate(rec.challenges.begin(), rec.challenges.begin() + 1, rec.challenges.end());
          --rec.n_challenges;
        }
        rec.challenges[rec.n_challenges++] = d;
        frames.push_back({SentFrame::Kind::path_challenge});
        rec.challenge_due = false;
        // RFC 9000 §8.2.1: no more often than an Initial would be resent.
        rec.retry_at = now + rec.retry_interval;
        rec.retry_interval *= 2;
        if (rec.deadline == kTimeInfinite) {
          const Duration new_path_pto = 3 * cfg_.initial_rtt + recovery_.rtt().max_ack_delay();
          rec.deadline = now + 3 * std::max(pto(), new_path_pto);
        }
        ++path_stats_.challenges_sent;
      }
    }
  }
  if (frames.empty()) return 0;
  (void)w.zeros(w.remaining());
  const size_t total = hs + w.written() + kAeadTagSize;
  if (!protect_packet(out.first(total), lay->pn_offset, pn, *sp.tx).ok()) return 0;
  ++sp.next_pn;
  if (qlog_.enabled()) qlog_.packet_sent(now, PacketType::one_rtt, pn, total, frames);
  SentPacket p;
  p.pn = pn;
  p.time_sent = now;
  p.bytes = static_cast<uint32_t>(total);
  p.ack_eliciting = true;
  p.in_flight = true;
  // Losses of probes (on another path, or of a size the path may not
  // carry) are no congestion signal (RFC 9000 §14.4).
  p.is_pmtu_probe = true;
  p.frames = std::move(frames);
  recovery_.on_packet_sent(PnSpace::application, std::move(p), now);
  ++stats_.packets_sent;
  stats_.bytes_sent += total;
  rec.bytes_sent += total;
  return total;
}

bool Connection::pre_send(MutBytes out, SendBatch& b, Time now) {
  if (state_ != State::established) return false;
  sync_path_bytes();
  maybe_update_keys(now);
  if (state_ != State::established) return false;
  start_preferred_address(now);
  pmtud_check_black_hole();
  for (PathRecord& r : paths_) {
    if (r.n_responses == 0 && !r.challenge_due) continue;
    const size_t n =
        build_path_packet(out.first(std::min(out.size(), kMinProbeDatagram)), r, 0, now);
    if (n == 0) continue;
    b.bytes = b.segment_size = n;
    b.path = r.path;
    b.ecn = Ecn::not_ect;
    return true;
  }
  if (pmtud_send_probe(out, b, now)) return true;
  b.ecn = ecn_mark();
  return false;
}

void Connection::post_send(const SendBatch& b, uint64_t first_app_pn) {
  sync_path_bytes();
  if (b.ecn != Ecn::not_ect && spaces_[kApp].next_pn > first_app_pn)
    ecn_.on_sent(first_app_pn, spaces_[kApp].next_pn - first_app_pn, b.ecn);
}

// ------------------------------------------------------------ ACKs, losses, timers

Status Connection::before_ack(PnSpace space, const AckFrame& f) {
  ack_largest_increased_ = !recovery_.has_largest_acked(space) ||
                           f.largest_acknowledged > recovery_.largest_acked(space);
  if (space != PnSpace::application) return {};
  return check_ack_key_phase(f);
}

void Connection::after_ack(PnSpace space, const AckFrame& f, Time now) {
  if (space != PnSpace::application) return;
  key_update_on_ack(f, now);
  ecn_on_ack(f);
  pmtud_on_ack();
}

void Connection::note_lost(PnSpace space, const std::vector<SentPacket>& lost) {
  if (space != PnSpace::application) return;
  for (const SentPacket& p : lost) {
    if (pmtud_.probe_outstanding() && p.pn == pmtud_.probe_pn()) pmtud_.on_probe_lost(p.pn);
    if (ecn_.was_marked(p.pn)) ecn_.on_marked_lost();
  }
}

Time Connection::aux_deadline() const {
  Time t = kp_.rx_prev ? kp_.rx_prev_discard : kTimeInfinite;
  for (const PathRecord& r : paths_) {
    if (!r.validating) continue;
    t = std::min({t, r.retry_at, r.deadline});
  }
  return t;
}

void Connection::on_aux_timeout(Time now) {
  if (kp_.rx_prev && now >= kp_.rx_prev_discard) {
    // RFC 9001 §6.5: old read keys are kept for about 3 PTO only.
    kp_.rx_prev.reset();
    kp_.rx_prev_discard = kTimeInfinite;
  }
  for (size_t i = paths_.size(); i-- > 0;) {
    PathRecord& r = paths_[i];
    if (!r.validating) continue;
    if (now >= r.deadline) {
      validation_failed(i, now);
      continue;
    }
    if (now >= r.retry_at) {
      r.challenge_due = true;
      r.retry_at = kTimeInfinite;
    }
  }
}

// ------------------------------------------------------------ stateless reset

void Connection::on_stateless_reset(Time now) {
  note_activity();
  if (state_ == State::closed || state_ == State::draining) return;
  // RFC 9000 §10.3.1: the connection ends at once, without sending.
  close_info_ = CloseInfo{};
  close_info_.stateless_reset = true;
  close_info_.by_peer = true;
  close_info_.reason = "stateless reset";
  enter_draining(now);
  finish_close();
}

void Connection::take_reset_token_changes(std::vector<StatelessResetToken>& added,
                                          std::vector<StatelessResetToken>& removed) {
  // Called for every received datagram: skip the work unless something the
  // tokens depend on changed (a token never changes for a sequence number).
  uint64_t sig = state_ == State::closed ? 1 : 2;
  sig = sig * 1000003 + active_peer_seq_;
  sig = sig * 1000003 + peer_cids_.size();
  sig = sig * 1000003 + (!peer_cids_.empty() && peer_cids_[0].has_token);
  for (const PathRecord& r : paths_) sig = sig * 1000003 + r.dcid_seq;
  if (sig == published_sig_) return;
  published_sig_ = sig;
  // RFC 9000 §10.3.1: only tokens of CIDs we send to count.
  std::array<StatelessResetToken, kMaxPaths + 1> cur;
  size_t n = 0;
  auto add = [&](uint64_t seq) {
    if (seq == kNoSeq || n == cur.size()) return;
    for (const PeerCid& p : peer_cids_) {
      if (p.seq != seq || !p.has_token) continue;
      if (std::find(cur.begin(), cur.begin() + n, p.token) == cur.begin() + n) cur[n++] = p.token;
      return;
    }
  };
  if (state_ != State::closed) {
    add(active_peer_seq_);
    for (const PathRecord& r : paths_) add(r.dcid_seq);
  }
  for (const StatelessResetToken& t : published_tokens_)
    if (std::find(cur.begin(), cur.begin() + n, t) == cur.begin() + n) removed.push_back(t);
  for (size_t i = 0; i < n; ++i)
    if (std::find(published_tokens_.begin(), published_tokens_.end(), cur[i]) ==
        published_tokens_.end())
      added.push_back(cur[i]);
  published_tokens_.assign(cur.begin(), cur.begin() + n);
}

}  // namespace wt::quic

// Connection IDs: issuing ours (NEW_CONNECTION_ID), tracking the peer's,
// retiring (RFC 9000 §5.1, §19.15, §19.16).
#include <algorithm>

#include "quic/connection.h"

namespace wt::quic {

namespace {
constexpr uint64_t kMaxIssuedCids = 8;  // we never keep more active than this
}

void Connection::issue_cids() {
  if (cfg_.cid_length == 0 || !peer_tp_applied_) return;
  const uint64_t want = std::min<uint64_t>(peer_tp_.active_connection_id_limit, kMaxIssuedCids);
  while (local_cids_.size() < want) {
    ConnectionId cid = ConnectionId::random(rng_, cfg_.cid_length);
    LocalCid c{next_local_seq_++, cid, stateless_reset_token(reset_key_, cid)};
    local_cids_.push_back(c);
    cids_added_.push_back(cid);
    pending_.new_cid_seqs.push_back(c.seq);
  }
}

Status Connection::on_new_connection_id(const NewConnectionIdFrame& f) {
  constexpr uint64_t ft = frame_type::new_connection_id;
  // RFC 9000 §19.15: a peer using zero-length CIDs cannot send this frame.
  if (dcid_.empty())
    return Error(TransportError::protocol_violation, "NEW_CONNECTION_ID with zero-length CIDs", ft);
  for (const PeerCid& p : peer_cids_) {
    if (p.seq == f.sequence_number) {
      if (p.cid == f.connection_id && (!p.has_token || p.token == f.stateless_reset_token)) return {};
      return Error(TransportError::protocol_violation, "sequence number reused for another CID", ft);
    }
  }
  if (f.sequence_number < peer_retire_prior_to_) {
    // RFC 9000 §19.15: already retired by an earlier Retire Prior To; send
    // RETIRE_CONNECTION_ID once per sequence number.
    return retire_peer_seq(f.sequence_number);
  }
  peer_cids_.push_back({f.sequence_number, f.connection_id, f.stateless_reset_token, true});
  if (f.retire_prior_to > peer_retire_prior_to_) {
    peer_retire_prior_to_ = f.retire_prior_to;
    for (auto it = peer_cids_.begin(); it != peer_cids_.end();) {
      if (it->seq < peer_retire_prior_to_) {
        WT_TRY(retire_peer_seq(it->seq));
        it = peer_cids_.erase(it);
      } else {
        ++it;
      }
    }
    WT_TRY(use_peer_cid(peer_retire_prior_to_));
  }
  // RFC 9000 §5.1.1: more active CIDs than our limit.
  if (peer_cids_.size() > local_tp_.active_connection_id_limit)
    return Error(TransportError::connection_id_limit_error, "too many connection IDs", ft);
  return {};
}

Status Connection::retire_peer_seq(uint64_t seq) {
  if (!retired_peer_seqs_.insert(seq).second) return {};
  // RFC 9000 §5.1.2: bound the retirements we track.
  if (retired_peer_seqs_.size() > 8 * std::max<uint64_t>(local_tp_.active_connection_id_limit, 2))
    return Error(TransportError::connection_id_limit_error, "too many connection IDs retired",
                 frame_type::new_connection_id);
  pending_.retire_cid_seqs.push_back(seq);
  return {};
}

Status Connection::use_peer_cid(uint64_t retire_prior_to) {
  if (active_peer_seq_ >= retire_prior_to) return {};
  auto it = std::min_element(peer_cids_.begin(), peer_cids_.end(),
                             [](const PeerCid& a, const PeerCid& b) { return a.seq < b.seq; });
  if (it == peer_cids_.end())
    return Error(TransportError::protocol_violation, "all connection IDs retired",
                 frame_type::new_connection_id);
  active_peer_seq_ = it->seq;
  dcid_ = it->cid;
  return {};
}

Status Connection::on_retire_connection_id(const RetireConnectionIdFrame& f) {
  // RFC 9000 §19.16: retiring a sequence number never issued.
  if (f.sequence_number >= next_local_seq_)
    return Error(TransportError::protocol_violation, "RETIRE_CONNECTION_ID for an unissued CID",
                 frame_type::retire_connection_id);
  auto it = std::find_if(local_cids_.begin(), local_cids_.end(),
                         [&](const LocalCid& c) { return c.seq == f.sequence_number; });
  if (it == local_cids_.end()) return {};  // already retired
  cids_removed_.push_back(it->cid);
  local_cids_.erase(it);
  issue_cids();
  return {};
}

void Connection::take_cid_changes(std::vector<ConnectionId>& added,
                                  std::vector<ConnectionId>& removed) {
  // Called for every datagram, but changes are rare: keep no storage.
  if (!cids_added_.empty()) {
    added.insert(added.end(), cids_added_.begin(), cids_added_.end());
    std::vector<ConnectionId>().swap(cids_added_);
  }
  if (!cids_removed_.empty()) {
    removed.insert(removed.end(), cids_removed_.begin(), cids_removed_.end());
    std::vector<ConnectionId>().swap(cids_removed_);
  }
}

void Connection::routing_cids(std::vector<ConnectionId>& out) const {
  out.push_back(original_dcid_);  // a server is first reached by the client's choice
  out.push_back(local_scid_);
  for (const LocalCid& c : local_cids_) out.push_back(c.cid);
  // Not yet taken by the endpoint.
  out.insert(out.end(), cids_added_.begin(), cids_added_.end());
  out.insert(out.end(), cids_removed_.begin(), cids_removed_.end());
}

}  // namespace wt::quic

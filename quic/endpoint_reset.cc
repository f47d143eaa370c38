// Stateless reset at the endpoint (RFC 9000 §10.3): the static key shared
// with the connections, recognising a reset for one of our connections
// among unroutable datagrams, and answering packets for unknown connections
// with a rate-limited reset.
#include <algorithm>

#include "lib/log.h"
#include "lib/random.h"
#include "quic/endpoint.h"
#include "quic/packet_header.h"

namespace wt::quic {

void Endpoint::init_reset_key() {
  if (!cfg_.reset_key) {
    // RFC 9000 §10.3.2: a random static key; a restarted endpoint that is
    // given the same key produces the same tokens.
    ResetKey k{};
    if (cfg_.conn.rng) cfg_.conn.rng->fill(k);
    cfg_.reset_key = k;
  }
  cfg_.conn.reset_key = cfg_.reset_key;
}

void Endpoint::sync_reset_tokens(Connection& c) {
  tokens_added_.clear();
  tokens_removed_.clear();
  c.take_reset_token_changes(tokens_added_, tokens_removed_);
  for (const auto& t : tokens_removed_) {
    auto it = by_token_.find(t);
    if (it != by_token_.end() && it->second == &c) by_token_.erase(it);
  }
  for (const auto& t : tokens_added_) by_token_[t] = &c;
  // sync_cids() just dropped these from routing.
  for (const auto& id : removed_) {
    retired_cids_[retired_pos_] = id;
    retired_pos_ = (retired_pos_ + 1) % retired_cids_.size();
  }
}

bool Endpoint::on_unroutable_short(MutBytes datagram, const Path& path, Time now) {
  if (datagram.empty() || (datagram[0] & kHeaderFormLong)) return false;
  // RFC 9000 §10.3.1: a datagram whose last 16 bytes are the reset token of
  // a CID one of our connections sends to.
  StatelessResetToken tail;
  if (stateless_reset_tail(datagram, tail)) {
    auto it = by_token_.find(tail);
    if (it != by_token_.end()) {
      Connection* c = it->second;
      ++stats_.stateless_resets_received;
      c->on_stateless_reset(now);
      sync_cids(*c);
      return true;
    }
  }
  ++stats_.datagrams_dropped;
  // RFC 9000 §10.3: tell the sender its connection is gone. The token is
  // the one the lost connection would have issued for this DCID.
  if (!cfg_.send_stateless_reset || !cfg_.conn.rng || cfg_.conn.cid_length == 0 ||
      datagram.size() < 1 + cfg_.conn.cid_length)
    return true;
  const ConnectionId dcid(Bytes(datagram).subspan(1, cfg_.conn.cid_length));
  if (std::find(retired_cids_.begin(), retired_cids_.end(), dcid) != retired_cids_.end())
    return true;
  const size_t size = stateless_reset_size(datagram.size(), *cfg_.conn.rng);
  if (size == 0 || !reset_limiter_.allow(now)) return true;
  StatelessPacket* p = reserve_stateless(path);
  if (!p) return true;
  p->size = encode_stateless_reset(MutBytes{p->data}, size,
                                   stateless_reset_token(*cfg_.reset_key, dcid), *cfg_.conn.rng);
  if (p->size == 0) return true;
  ++stateless_count_;
  ++stats_.stateless_resets_sent;
  return true;
}

}  // namespace wt::quic

// Memory of idle connections. What only the handshake needs is freed when
// it ends: the keys, CRYPTO streams and sent packets of the Initial and
// Handshake spaces when they are discarded (conn_crypto.cc), and a server's
// TLS connection when the handshake completes. What the connection might
// still need soon is freed once it has been quiet for a while (compact()):
// the client's TLS connection (it may still receive session tickets), 1-RTT
// CRYPTO streams, and the spare capacity of queues and scratch vectors.
#include <algorithm>
#include <vector>

#include "quic/connection.h"

namespace wt::quic {

namespace {

// Quiet this long (and at least 3 PTO) before compacting: a connection that
// is busy never pays for giving memory back and allocating it again.
constexpr Duration kCompactDelay = std::chrono::seconds(1);

template <class T>
void free_if_empty(std::vector<T>& v) {
  if (v.empty() && v.capacity()) std::vector<T>().swap(v);
}

}  // namespace

void Connection::arm_compaction(Time now) {
  // Only after the handshake: until then everything is in use.
  if (!handshake_confirmed_ || closing_or_closed()) return;
  compact_deadline_ = now + std::max(kCompactDelay, 3 * pto());
}

bool Connection::release_tls() {
  if (!tls_ || tls_->ssl_released()) return true;
  if (!handshake_complete_) return false;
  // A NewSessionTicket still in pieces needs TLS to be read.
  if (spaces_[static_cast<int>(PnSpace::application)].crypto_recv) return false;
  return tls_->release_ssl();
}

void Connection::compact(Time now) {
  (void)now;
  compact_deadline_ = kTimeInfinite;
  if (closing_or_closed()) return;
  // Client: by now the server's tickets have arrived (RFC 9001 §4.6.1: a
  // server sends NewSessionTicket right after the handshake); later ones are
  // skipped (quic/tls_session.h).
  (void)release_tls();
  for (Space& s : spaces_) {
    if (!s.discarded) release_crypto_streams(s);
    else s.acks = AckTracker();  // the packet that discarded it was still recorded
  }
  // RFC 9001 §4.9.3: a server keeps 0-RTT keys no longer than about 3 PTO
  // after it has 1-RTT keys.
  zero_rtt_rx_.reset();
  if (early_data_outcome_ || !early_data_attempted_) remembered_tp_.reset();  // 0-RTT is decided
  events_.shrink();
  datagrams_out_.shrink();
  free_if_empty(cids_added_);
  free_if_empty(cids_removed_);
  free_if_empty(pending_.new_cid_seqs);
  free_if_empty(pending_.retire_cid_seqs);
  free_if_empty(pending_.path_responses);
  free_if_empty(client_hello_buf_);
  std::vector<uint8_t>().swap(kp_.scratch);
  ack_outcome_.clear();
  free_if_empty(ack_outcome_.acked);
  free_if_empty(ack_outcome_.lost);
  timeout_outcome_.clear();
  free_if_empty(timeout_outcome_.lost);
}

}  // namespace wt::quic

#include "quic/pmtud.h"

#include <algorithm>

namespace wt::quic {

namespace {
// Link MTUs worth trying above the IPv6 minimum of 1280 (which the QUIC
// base of 1200 already covers): tunnels (IPsec, WireGuard, VXLAN), IPv6 in
// IPv4, PPPoE, Ethernet.
constexpr uint16_t kCommonMtus[] = {1400, 1420, 1450, 1480, 1492, 1500};
}  // namespace

void Pmtud::start(size_t base, size_t max_payload, size_t ip_overhead) {
  base_ = plpmtu_ = std::max(base, kBase);
  active_ = true;
  n_ = 0;
  for (uint16_t mtu : kCommonMtus) {
    if (mtu <= ip_overhead) continue;
    const size_t s = mtu - ip_overhead;
    if (s > base_ && s <= max_payload) cand_[n_++] = static_cast<uint16_t>(s);
  }
  // The local/peer limit itself (e.g. jumbo frames) as the largest size.
  if (max_payload > base_ && max_payload <= UINT16_MAX &&
      (n_ == 0 || cand_[n_ - 1] < max_payload)) {
    if (n_ == static_cast<int>(kMaxCandidates)) --n_;
    cand_[n_++] = static_cast<uint16_t>(max_payload);
  }
  ok_ = -1;
  bad_ = n_;
  next_ = n_ - 1;  // largest first
  attempts_ = 0;
  outstanding_ = false;
  raise_armed_ = false;
}

size_t Pmtud::probe_size(Time now) {
  if (!active_ || outstanding_ || n_ == 0) return 0;
  if (ok_ + 1 >= bad_) {
    // RFC 8899 §5.1.1: after PMTU_RAISE_TIMER, look for a larger PMTU again.
    if (!raise_armed_) {
      raise_armed_ = true;
      raise_at_ = now + kRaiseTimer;
    }
    if (now < raise_at_ || ok_ + 1 >= n_) return 0;
    bad_ = n_;
    next_ = n_ - 1;
    attempts_ = 0;
    raise_armed_ = false;
  }
  return next_ >= 0 ? cand_[next_] : 0;
}

void Pmtud::on_probe_sent(uint64_t pn, size_t size) {
  outstanding_ = true;
  probe_pn_ = pn;
  probe_size_ = size;
  ++attempts_;
  ++probes_sent_;
}

bool Pmtud::on_probe_acked(uint64_t pn) {
  if (!outstanding_ || pn != probe_pn_) return false;
  outstanding_ = false;
  attempts_ = 0;
  bool grew = false;
  if (next_ >= 0 && cand_[next_] == probe_size_) {
    ok_ = std::max(ok_, next_);
    if (cand_[ok_] > plpmtu_) {
      plpmtu_ = cand_[ok_];
      grew = true;
    }
  }
  next_step();
  return grew;
}

void Pmtud::on_probe_lost(uint64_t pn) {
  if (!outstanding_ || pn != probe_pn_) return;
  outstanding_ = false;
  // RFC 8899 §5.1.2: a size fails after MAX_PROBES lost probes.
  if (attempts_ < kMaxProbes) return;
  attempts_ = 0;
  if (next_ >= 0) bad_ = std::min(bad_, next_);
  next_step();
}

void Pmtud::on_black_hole() {
  ++black_holes_;
  plpmtu_ = base_;
  outstanding_ = false;  // whatever was in flight says nothing now
  ok_ = -1;
  bad_ = n_;
  next_ = n_ - 1;
  attempts_ = 0;
  raise_armed_ = false;
}

void Pmtud::next_step() {
  if (ok_ + 1 >= bad_) {
    next_ = -1;
    raise_armed_ = false;  // probe_size() arms the raise timer
    return;
  }
  // Binary search between the largest working and the smallest failing size.
  next_ = ok_ + (bad_ - ok_) / 2;
}

}  // namespace wt::quic

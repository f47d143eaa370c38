#include "test/sim/sim_link.h"

namespace wt::sim {

const char* drop_cause_name(DropCause c) {
  switch (c) {
    case DropCause::mtu: return "mtu";
    case DropCause::blackhole: return "blackhole";
    case DropCause::targeted: return "targeted";
    case DropCause::queue: return "queue";
    case DropCause::loss: return "loss";
  }
  return "?";
}

uint64_t LinkStats::dropped_total() const {
  uint64_t n = 0;
  for (uint64_t d : dropped_packets) n += d;
  return n;
}

Link::Link(Address from, Address to, const LinkConfig& config, uint64_t seed)
    : from_(from), to_(to), config_(config), rng_(seed) {}

void Link::drop(DropCause c, size_t bytes) {
  stats_.dropped_packets[static_cast<size_t>(c)]++;
  stats_.dropped_bytes[static_cast<size_t>(c)] += bytes;
}

Duration Link::serialization(size_t bytes) {
  // bits * 1e9 / bps with the remainder carried, so that N packets take
  // exactly N * size * 8 / bps seconds in total. Fits in 64 bits for any
  // datagram size (<= 64 KiB) and any rate below ~10^13 bit/s.
  uint64_t num = static_cast<uint64_t>(bytes) * 8 * 1'000'000'000ULL + ser_remainder_;
  ser_remainder_ = num % config_.bandwidth_bps;
  return Duration{static_cast<int64_t>(num / config_.bandwidth_bps)};
}

size_t Link::queue_bytes_at(Time now) {
  while (!queue_.empty() && queue_.front().first <= now) {
    queued_bytes_ -= queue_.front().second;
    queue_.pop_front();
  }
  return queued_bytes_;
}

Transit Link::offer(Bytes datagram, Ecn ecn, Time now) {
  const uint64_t index = stats_.offered_packets;
  const size_t size = datagram.size();
  stats_.offered_packets++;
  stats_.offered_bytes += size;
  Transit t;

  auto dropped = [&](DropCause c) {
    drop(c, size);
    t.dropped = true;
    t.cause = c;
    return t;
  };

  // Entry checks: nothing here consumes bottleneck capacity.
  if (config_.mtu && size > config_.mtu) return dropped(DropCause::mtu);
  for (const auto& [b, e] : blackholes_)
    if (now >= b && now < e) return dropped(DropCause::blackhole);
  if (drop_next_) {
    drop_next_--;
    return dropped(DropCause::targeted);
  }
  if (drop_pred_ && drop_pred_(datagram, index, now)) return dropped(DropCause::targeted);

  // Bottleneck queue (drop-tail) and serialization.
  Time departure = now;
  if (config_.bandwidth_bps) {
    size_t backlog = queue_bytes_at(now);
    if (config_.queue_bytes && backlog + size > config_.queue_bytes)
      return dropped(DropCause::queue);
    if (config_.ce_threshold_bytes && backlog > config_.ce_threshold_bytes &&
        (ecn == Ecn::ect0 || ecn == Ecn::ect1)) {
      ecn = Ecn::ce;  // RFC 3168 §5: a congested router marks instead of dropping
      stats_.ce_marked++;
    }
    Time start = std::max(now, busy_until_);
    busy_until_ = start + serialization(size);
    departure = busy_until_;
    queue_.emplace_back(departure, size);
    queued_bytes_ += size;
    if (queued_bytes_ > stats_.max_queue_bytes) stats_.max_queue_bytes = queued_bytes_;
  }

  // Random loss on the wire: the packet already used its share of the rate.
  if (config_.loss > 0 && rng_.chance(config_.loss)) return dropped(DropCause::loss);

  if (config_.bleach_ecn) ecn = Ecn::not_ect;
  t.ecn = ecn;
  t.deliver_at = departure + config_.delay;
  if (config_.reorder > 0 && rng_.chance(config_.reorder)) {
    t.deliver_at += config_.reorder_delay;
    stats_.reordered++;
  }
  if (config_.duplicate > 0 && rng_.chance(config_.duplicate)) {
    t.duplicate = true;
    t.duplicate_at = t.deliver_at + config_.duplicate_delay;
    stats_.duplicated++;
  }
  return t;
}

void Link::note_delivered(size_t bytes) {
  stats_.delivered_packets++;
  stats_.delivered_bytes += bytes;
}

}  // namespace wt::sim

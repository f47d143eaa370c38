#include "test/sim/simulator.h"

#include <fmt/core.h>

#include <algorithm>
#include <cstring>

namespace wt::sim {

const char* stop_reason_name(StopReason r) {
  switch (r) {
    case StopReason::predicate: return "predicate";
    case StopReason::deadline: return "deadline";
    case StopReason::stuck: return "stuck";
    case StopReason::livelock: return "livelock";
  }
  return "?";
}

namespace {

inline uint64_t mix(uint64_t h, uint64_t v) {
  h ^= v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
  return h * 0x100000001b3ULL;
}

}  // namespace

Simulator::Simulator(uint64_t seed, Time start) : seed_(seed), now_(start) {
  send_buf_.resize(send_buffer_size);
}

size_t Simulator::add_node(SimNode& node, const Address& addr) {
  nodes_.push_back({&node, addr});
  owner_[addr] = nodes_.size() - 1;
  return nodes_.size() - 1;
}

void Simulator::add_address(size_t node, const Address& addr) { owner_[addr] = node; }

Link& Simulator::add_link(const Address& from, const Address& to, const LinkConfig& config) {
  // Each link gets its own stream: splitmix of (simulator seed, link index).
  uint64_t seed = config.seed ? config.seed : mix(seed_, links_.size() + 1);
  auto idx = static_cast<uint32_t>(links_.size());
  links_.push_back(std::make_unique<Link>(from, to, config, seed));
  link_index_[Path{from, to}] = idx;
  return *links_.back();
}

void Simulator::add_duplex(const Address& a, const Address& b, const LinkConfig& config) {
  add_link(a, b, config);
  add_link(b, a, config);
}

Link* Simulator::link(const Address& from, const Address& to) {
  auto it = link_index_.find(Path{from, to});
  return it == link_index_.end() ? nullptr : links_[it->second].get();
}

uint32_t Simulator::alloc_slot(Bytes data) {
  uint32_t slot;
  if (!free_slots_.empty()) {
    slot = free_slots_.back();
    free_slots_.pop_back();
  } else {
    slot = static_cast<uint32_t>(slots_.size());
    slots_.emplace_back();
  }
  slots_[slot].assign(data.begin(), data.end());  // reuses the slot's capacity
  return slot;
}

void Simulator::route(const SendBatch& batch, Bytes data, size_t from_node) {
  const Address from = batch.path.local.valid() ? batch.path.local : nodes_[from_node].primary;
  const Address& to = batch.path.remote;
  auto li = link_index_.find(Path{from, to});
  const size_t seg = batch.segment_size ? batch.segment_size : data.size();
  for (size_t off = 0; off < data.size(); off += seg) {
    Bytes chunk = data.subspan(off, std::min(seg, data.size() - off));
    stats_.datagrams_sent++;
    if (li == link_index_.end() || !owner_.count(links_[li->second]->delivery_address())) {
      stats_.unroutable++;
      continue;
    }
    Link& l = *links_[li->second];
    if (send_observer_) send_observer_(Datagram{&l, Path{from, to}, chunk, batch.ecn, now_});
    Transit t = l.offer(chunk, batch.ecn, now_);
    if (t.dropped) continue;
    uint32_t slot = alloc_slot(chunk);
    if (l.mutator()) l.mutator()(MutBytes(slots_[slot]), l.offered_count() - 1, now_);
    events_.push(Event{t.deliver_at, next_seq_++, li->second, slot, t.ecn});
    if (t.duplicate) {
      uint32_t dup = alloc_slot({});
      slots_[dup] = slots_[slot];
      events_.push(Event{t.duplicate_at, next_seq_++, li->second, dup, t.ecn});
    }
  }
}

void Simulator::deliver(const Event& ev) {
  Link& l = *links_[ev.link];
  std::vector<uint8_t>& buf = slots_[ev.slot];
  auto it = owner_.find(l.delivery_address());
  if (it == owner_.end()) {
    stats_.unroutable++;
    free_slot(ev.slot);
    return;
  }
  l.note_delivered(buf.size());
  stats_.deliveries++;

  uint64_t h = mix(trace_hash_, static_cast<uint64_t>(to_ns(now_)));
  h = mix(h, (uint64_t{ev.link} << 8) | static_cast<uint64_t>(ev.ecn));
  h = mix(h, buf.size());
  size_t i = 0;
  for (; i + 8 <= buf.size(); i += 8) {
    uint64_t w;
    std::memcpy(&w, buf.data() + i, 8);
    h = mix(h, w);
  }
  for (; i < buf.size(); i++) h = mix(h, buf[i]);
  trace_hash_ = h;

  if (deliver_observer_)
    deliver_observer_(Datagram{&l, Path{l.from(), l.to()}, Bytes(buf), ev.ecn, now_});
  nodes_[it->second].node->receive(MutBytes(buf), Path{l.delivery_address(), l.apparent_source()},
                                   ev.ecn, now_);
  free_slot(ev.slot);
}

bool Simulator::step() {
  if (++stats_.steps > max_steps) return false;
  // Everything that arrives at this instant first, so a node sees a whole
  // burst (like a GRO batch) before it answers.
  while (!events_.empty() && events_.top().time <= now_) {
    Event ev = events_.top();
    events_.pop();
    deliver(ev);
  }
  for (auto& n : nodes_) {
    if (n.node->next_timeout() <= now_) {
      stats_.timeouts++;
      n.node->on_timeout(now_);
    }
  }
  if (send_buf_.size() != send_buffer_size) send_buf_.resize(send_buffer_size);
  for (size_t i = 0; i < nodes_.size(); i++) {
    for (size_t k = 0; k < max_batches_per_poll; k++) {
      SendBatch b = nodes_[i].node->send(MutBytes(send_buf_), now_);
      if (b.bytes == 0) break;
      stats_.batches++;
      route(b, Bytes(send_buf_.data(), std::min(b.bytes, send_buf_.size())), i);
    }
  }
  return true;
}

Time Simulator::next_event_time() const {
  Time next = events_.empty() ? kTimeInfinite : events_.top().time;
  for (const auto& n : nodes_) next = std::min(next, n.node->next_timeout());
  return std::max(next, now_);
}

// Moves the clock forward to `t`; false if it has been stuck at one
// instant for too many steps (livelock).
bool Simulator::advance_to(Time t) {
  if (t > now_) {
    now_ = t;
    steps_at_instant_ = 0;
    return true;
  }
  return ++steps_at_instant_ <= max_steps_per_instant;
}

bool Simulator::run_until(const std::function<bool()>& done, Time deadline) {
  steps_at_instant_ = 0;
  if (done()) {
    last_stop_ = StopReason::predicate;
    return true;
  }
  for (;;) {
    if (!step()) {
      last_stop_ = StopReason::livelock;
      return false;
    }
    if (done()) {
      last_stop_ = StopReason::predicate;
      return true;
    }
    Time next = next_event_time();
    if (next == kTimeInfinite) {
      last_stop_ = StopReason::stuck;
      return false;
    }
    if (next > deadline) {
      now_ = std::max(now_, deadline);
      last_stop_ = StopReason::deadline;
      return false;
    }
    if (!advance_to(next)) {
      last_stop_ = StopReason::livelock;
      return false;
    }
  }
}

bool Simulator::run_for(Duration d) {
  const Time end = now_ + d;
  steps_at_instant_ = 0;
  for (;;) {
    if (!step()) {
      last_stop_ = StopReason::livelock;
      return false;
    }
    Time next = next_event_time();
    if (next > end) {  // also when nothing is scheduled: time just passes
      now_ = std::max(now_, end);
      last_stop_ = StopReason::deadline;
      return true;
    }
    if (!advance_to(next)) {
      last_stop_ = StopReason::livelock;
      return false;
    }
  }
}

std::string Simulator::summary() const {
  std::string s = fmt::format("t={:.6f}s steps={} deliveries={} unroutable={}\n",
                              static_cast<double>(to_ns(now_) - to_ns(kSimEpoch)) / 1e9,
                              stats_.steps, stats_.deliveries, stats_.unroutable);
  for (const auto& l : links_) {
    const LinkStats& st = l->stats();
    s += fmt::format("  {} -> {}: offered {} ({} B) delivered {} ({} B) dup {} reord {} ce {} maxq {} B drops:",
                     l->from().to_string(), l->to().to_string(), st.offered_packets,
                     st.offered_bytes, st.delivered_packets, st.delivered_bytes, st.duplicated,
                     st.reordered, st.ce_marked, st.max_queue_bytes);
    for (size_t c = 0; c < kDropCauses; c++)
      if (st.dropped_packets[c])
        s += fmt::format(" {}={}", drop_cause_name(static_cast<DropCause>(c)),
                         st.dropped_packets[c]);
    s += '\n';
  }
  return s;
}

}  // namespace wt::sim

// Which connections the endpoint visits (quic/endpoint.h). A connection
// reports activity (a datagram or timer it handled, an application call:
// Connection::note_activity) and joins the active list; send() serves the
// active connections round robin and retires each one whose send() comes
// back empty, arming its deadline in a min-heap. Timers fire from the heap.
// So an endpoint holding many idle connections pays for the busy ones only:
// a handshake, a send() pass or a timer costs O(log connections), not
// O(connections).
#include <algorithm>

#include "quic/endpoint.h"

namespace wt::quic {

namespace {
// std::*_heap keep the largest in front: compare the other way round.
constexpr auto kLater = [](const auto& a, const auto& b) { return a.at > b.at; };
}  // namespace

void Endpoint::on_connection_activity(Connection& c) { active_.push_back(&c); }

void Endpoint::adopt(Connection& c) {
  Connection::Scheduling& s = c.scheduling();
  s.observer = this;
  if (free_slots_.empty()) {
    s.slot = static_cast<uint32_t>(slots_.size());
    slots_.push_back(&c);
  } else {
    s.slot = free_slots_.back();
    free_slots_.pop_back();
    slots_[s.slot] = &c;
  }
  // New connections have their first flight (or answer) to send.
  s.active = true;
  active_.push_back(&c);
}

SendBatch Endpoint::send_active(MutBytes out, Time now) {
  while (!active_.empty()) {
    if (active_pos_ >= active_.size()) active_pos_ = 0;
    Connection* c = active_[active_pos_];
    SendBatch b = c->send(out, now);
    if (b.bytes) {
      ++active_pos_;  // round robin among the connections with data
      return b;
    }
    // Nothing more until a datagram, a timer or the application.
    retire(active_pos_);
  }
  return {};
}

void Endpoint::retire(size_t i) {
  Connection* c = active_[i];
  active_[i] = active_.back();
  active_.pop_back();
  c->scheduling().active = false;
  arm_timer(*c);
}

void Endpoint::arm_timer(Connection& c) {
  Connection::Scheduling& s = c.scheduling();
  const Time at = c.next_timeout();
  s.timer_gen = next_gen_++;
  if (at == kTimeInfinite) return;
  timers_.push_back({at, s.timer_gen, s.slot});
  std::push_heap(timers_.begin(), timers_.end(), kLater);
  // Re-arming leaves stale entries behind: sweep them now and then.
  if (timers_.size() > conns_.size() + 64) rebuild_timers();
}

bool Endpoint::timer_current(const TimerEntry& e) const {
  const Connection* c = slots_[e.slot];
  if (!c) return false;  // freed (a reused slot has newer generations)
  const Connection::Scheduling& s = c->scheduling();
  return !s.active && s.timer_gen == e.gen;
}

void Endpoint::pop_timer() const {
  std::pop_heap(timers_.begin(), timers_.end(), kLater);
  timers_.pop_back();
}

void Endpoint::rebuild_timers() {
  // Only the current entries survive; deadlines change only with activity,
  // so a waiting connection's is still what it was when armed.
  std::vector<TimerEntry> live;
  live.reserve(conns_.size());
  for (const TimerEntry& e : timers_)
    if (timer_current(e)) live.push_back(e);
  timers_.swap(live);
  std::make_heap(timers_.begin(), timers_.end(), kLater);
}

void Endpoint::forget_scheduling(Connection& c) {
  Connection::Scheduling& s = c.scheduling();
  slots_[s.slot] = nullptr;  // its timer entries go stale
  free_slots_.push_back(s.slot);
  if (s.active) {
    auto it = std::find(active_.begin(), active_.end(), &c);
    if (it != active_.end()) {
      *it = active_.back();
      active_.pop_back();
    }
  }
  s.observer = nullptr;
}

Time Endpoint::next_timeout() const {
  Time t = kTimeInfinite;
  // Active connections are not in the heap; they are few.
  for (const Connection* c : active_) t = std::min(t, c->next_timeout());
  while (!timers_.empty() && !timer_current(timers_.front())) pop_timer();
  if (!timers_.empty()) t = std::min(t, timers_.front().at);
  return t;
}

void Endpoint::on_timeout(Time now) {
  due_.clear();
  while (!timers_.empty() && timers_.front().at <= now) {
    const TimerEntry e = timers_.front();
    pop_timer();
    if (timer_current(e)) due_.push_back(slots_[e.slot]);
  }
  for (Connection* c : active_)
    if (c->next_timeout() <= now) due_.push_back(c);
  // on_timeout() reports activity: the connection joins the active list.
  for (Connection* c : due_) {
    c->on_timeout(now);
    sync_cids(*c);
  }
}

}  // namespace wt::quic

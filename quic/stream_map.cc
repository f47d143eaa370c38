#include "quic/stream_map.h"

#include <algorithm>

namespace wt::quic {

namespace {
constexpr uint64_t kMaxStreamsBidiType = 0x12;  // RFC 9000 §19.11
constexpr uint64_t kMaxStreamsUniType = 0x13;
}  // namespace

StreamMap::StreamMap(Role local, const StreamMapConfig& config) : local_(local), config_(config) {
  config_.max_streams_bidi = std::min(config_.max_streams_bidi, kMaxStreamsPerType);
  config_.max_streams_uni = std::min(config_.max_streams_uni, kMaxStreamsPerType);
  advertised_ = {config_.max_streams_bidi, config_.max_streams_uni};
}

void StreamMap::set_peer_limits(const PeerStreamLimits& limits) {
  // RFC 9000 §7.4.1: remembered 0-RTT limits are only ever raised.
  peer_.max_stream_data_bidi_local =
      std::max(peer_.max_stream_data_bidi_local, limits.max_stream_data_bidi_local);
  peer_.max_stream_data_bidi_remote =
      std::max(peer_.max_stream_data_bidi_remote, limits.max_stream_data_bidi_remote);
  peer_.max_stream_data_uni = std::max(peer_.max_stream_data_uni, limits.max_stream_data_uni);
  for (StreamDir d : {StreamDir::bidi, StreamDir::uni}) {
    uint64_t v = d == StreamDir::bidi ? limits.max_streams_bidi : limits.max_streams_uni;
    if (v > local_limit_[idx(d)]) {
      local_limit_[idx(d)] = std::min(v, kMaxStreamsPerType);
      blocked_pending_[idx(d)] = false;
    }
  }
  for (auto& [id, s] : streams_) {
    if (!s->send) continue;
    if (!is_bidi_stream(id)) {
      s->send->on_max_stream_data(peer_.max_stream_data_uni);
    } else if (is_local_stream(id, local_)) {
      s->send->on_max_stream_data(peer_.max_stream_data_bidi_remote);
    } else {
      s->send->on_max_stream_data(peer_.max_stream_data_bidi_local);
    }
    if (s->send->wants_to_send()) scheduler_.activate(s->sched);
  }
}

Stream* StreamMap::create(uint64_t id) {
  auto s = std::make_unique<Stream>(id);
  s->sched.urgency = default_urgency_;
  s->sched.incremental = default_incremental_;
  bool local = is_local_stream(id, local_);
  // RFC 9000 §18.2: which initial_max_stream_data_* applies depends on who
  // opened the stream, from the point of view of the endpoint announcing it.
  if (is_bidi_stream(id)) {
    s->send.emplace(local ? peer_.max_stream_data_bidi_remote : peer_.max_stream_data_bidi_local,
                    config_.send_buffer, config_.send_unsent);
    s->recv.emplace(local ? config_.stream_window_bidi_local : config_.stream_window_bidi_remote,
                    config_.max_stream_window);
  } else if (local) {
    s->send.emplace(peer_.max_stream_data_uni, config_.send_buffer, config_.send_unsent);
  } else {
    s->recv.emplace(config_.stream_window_uni, config_.max_stream_window);
  }
  Stream* p = s.get();
  streams_.emplace(id, std::move(s));
  return p;
}

Stream* StreamMap::open(StreamDir dir) {
  size_t i = idx(dir);
  if (local_opened_[i] >= local_limit_[i]) {
    // RFC 9000 §4.6: SHOULD send STREAMS_BLOCKED when unable to open.
    if (blocked_at_[i] != local_limit_[i]) {
      blocked_at_[i] = local_limit_[i];
      blocked_pending_[i] = true;
    }
    return nullptr;
  }
  return create(make_stream_id(local_opened_[i]++, local_, dir));
}

uint64_t StreamMap::openable(StreamDir dir) const {
  return local_limit_[idx(dir)] - local_opened_[idx(dir)];
}

Result<bool> StreamMap::on_max_streams(StreamDir dir, uint64_t max_streams) {
  if (max_streams > kMaxStreamsPerType) {  // RFC 9000 §19.11
    return Error(TransportError::frame_encoding_error, "MAX_STREAMS above 2^60",
                 dir == StreamDir::bidi ? kMaxStreamsBidiType : kMaxStreamsUniType);
  }
  size_t i = idx(dir);
  if (max_streams <= local_limit_[i]) return false;  // RFC 9000 §19.11: ignore
  local_limit_[i] = max_streams;
  blocked_pending_[i] = false;
  return true;
}

uint64_t StreamMap::take_streams_blocked(StreamDir dir) {
  blocked_pending_[idx(dir)] = false;
  return local_limit_[idx(dir)];
}

void StreamMap::on_streams_blocked_lost(StreamDir dir, uint64_t value) {
  size_t i = idx(dir);
  if (value == local_limit_[i] && local_opened_[i] >= local_limit_[i]) blocked_pending_[i] = true;
}

Result<Stream*> StreamMap::get_for_frame_slow(uint64_t id, StreamPart part,
                                              uint64_t frame_type) {
  // RFC 9000 §19.4, §19.8, §19.13 (frames of a sender on a send-only
  // stream) and §19.5, §19.10 (frames of a receiver on a receive-only one).
  if (part == StreamPart::recv ? !can_recv_on(id, local_) : !can_send_on(id, local_)) {
    return Error(TransportError::stream_state_error,
                 part == StreamPart::recv ? "frame for a send-only stream"
                                          : "frame for a receive-only stream",
                 frame_type);
  }
  StreamDir dir = stream_dir(id);
  size_t i = idx(dir);
  uint64_t index = stream_index(id);
  if (is_local_stream(id, local_)) {
    // RFC 9000 §19.5, §19.8, §19.10: a stream of ours not yet created.
    if (index >= local_opened_[i]) {
      return Error(TransportError::stream_state_error, "frame for an unopened local stream",
                   frame_type);
    }
    return find(id);
  }
  // RFC 9000 §4.6
  if (index >= advertised_[i]) {
    return Error(TransportError::stream_limit_error, "stream limit exceeded", frame_type);
  }
  if (index < peer_opened_[i]) return find(id);
  // RFC 9000 §3.2: opening a stream opens the lower-numbered ones of its type.
  Stream* s = nullptr;
  Role peer = peer_of(local_);
  for (uint64_t k = peer_opened_[i]; k <= index; ++k) {
    s = create(make_stream_id(k, peer, dir));
    opened_.push_back(s->id());
  }
  peer_opened_[i] = index + 1;
  return s;
}

uint64_t StreamMap::pop_opened_front() {
  uint64_t id = opened_.front();
  opened_.pop_front();
  return id;
}

uint64_t StreamMap::max_streams_target(StreamDir dir) const {
  size_t i = idx(dir);
  uint64_t concurrent = i == 0 ? config_.max_streams_bidi : config_.max_streams_uni;
  return std::min(peer_closed_[i] + concurrent, kMaxStreamsPerType);
}

bool StreamMap::max_streams_pending(StreamDir dir) const {
  size_t i = idx(dir);
  if (max_streams_resend_[i]) return true;
  uint64_t concurrent = i == 0 ? config_.max_streams_bidi : config_.max_streams_uni;
  uint64_t threshold = std::max<uint64_t>(1, concurrent / 2);
  return max_streams_target(dir) - advertised_[i] >= threshold;
}

uint64_t StreamMap::take_max_streams(StreamDir dir) {
  size_t i = idx(dir);
  advertised_[i] = std::max(advertised_[i], max_streams_target(dir));
  max_streams_resend_[i] = false;
  return advertised_[i];
}

void StreamMap::on_max_streams_lost(StreamDir dir, uint64_t value) {
  // RFC 9000 §13.3: resend the current value if the lost one was the latest.
  if (value == advertised_[idx(dir)]) max_streams_resend_[idx(dir)] = true;
}

Stream* StreamMap::find_slow(uint64_t id) {
  auto it = streams_.find(id);
  if (it == streams_.end()) return nullptr;
  last_ = it->second.get();
  return last_;
}

void StreamMap::erase(Stream& s) {
  scheduler_.deactivate(s.sched);
  uint64_t id = s.id();
  if (!is_local_stream(id, local_)) ++peer_closed_[idx(stream_dir(id))];  // credit, §4.6
  if (last_ == &s) last_ = nullptr;
  streams_.erase(id);
}

void StreamMap::set_priority(Stream& s, uint8_t urgency, bool incremental) {
  scheduler_.set_priority(s.sched, urgency, incremental);
}

Stream* StreamMap::next_sendable(uint64_t conn_credit, bool* conn_blocked) {
  // Usually the stream in front can send: no walk.
  if (SchedNode* f = scheduler_.front()) {
    Stream& s = *static_cast<Stream*>(f->owner);
    if (s.send && s.send->can_send(conn_credit)) {
      if (conn_blocked) *conn_blocked = false;
      return &s;
    }
  }
  bool blocked = false;
  SchedNode* n = scheduler_.find_if([&](const SchedNode& node) {
    const Stream& s = *static_cast<const Stream*>(node.owner);
    if (!s.send) return false;
    if (s.send->can_send(conn_credit)) return true;
    if (s.send->wants_to_send()) blocked = true;  // only connection credit is missing
    return false;
  });
  if (conn_blocked) *conn_blocked = blocked;
  return n ? static_cast<Stream*>(n->owner) : nullptr;
}


Stream* StreamMap::front_control() {
  while (!control_.empty()) {
    Stream* s = find(control_.front());
    if (s && control_pending(*s)) return s;
    if (s) s->control_queued_ = false;
    control_.pop_front();
  }
  return nullptr;
}

void StreamMap::pop_control() {
  if (control_.empty()) return;
  if (Stream* s = find(control_.front())) s->control_queued_ = false;
  control_.pop_front();
}

}  // namespace wt::quic

// The streams of one connection (RFC 9000 §2-§4): opening, the peer's and
// our stream count limits (MAX_STREAMS, §4.6), lookup for incoming frames
// with the STREAM_STATE_ERROR / STREAM_LIMIT_ERROR rules, the send
// scheduler, the queue of streams owing control frames, and freeing of
// finished streams.
//
// Contract with the connection: after anything changes a stream (a frame
// received, acknowledged or lost, the application reading, writing, closing
// or resetting, a frame sent from it), call update(stream). It keeps the
// scheduler and the control queue in sync and frees the stream when both
// parts are finished; then it returns false and the Stream* is dangling.
#pragma once
#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <unordered_map>

#include "lib/result.h"
#include "quic/role.h"
#include "quic/scheduler.h"
#include "quic/stream_id.h"
#include "quic/stream_recv.h"
#include "quic/stream_send.h"

namespace wt::quic {

// What we announce and how our streams behave.
struct StreamMapConfig {
  // initial_max_streams_bidi / _uni: concurrent peer-initiated streams; the
  // limit advances as the peer's streams are closed and freed.
  uint64_t max_streams_bidi = 100;
  uint64_t max_streams_uni = 100;
  // initial_max_stream_data_bidi_local / _bidi_remote / _uni (RFC 9000 §18.2).
  uint64_t stream_window_bidi_local = 1u << 20;
  uint64_t stream_window_bidi_remote = 1u << 20;
  uint64_t stream_window_uni = 1u << 20;
  uint64_t max_stream_window = 16u << 20;  // receive window auto-tuning cap
  uint64_t send_buffer = 4u << 20;         // per stream, see SendStream
  uint64_t send_unsent = 512u << 10;       // per stream, see SendStream
};

// The peer's transport parameters that concern streams.
struct PeerStreamLimits {
  uint64_t max_streams_bidi = 0;
  uint64_t max_streams_uni = 0;
  uint64_t max_stream_data_bidi_local = 0;   // streams the peer opens
  uint64_t max_stream_data_bidi_remote = 0;  // bidi streams we open
  uint64_t max_stream_data_uni = 0;          // uni streams we open
};

// One stream: a bidirectional stream has both parts, a unidirectional one
// only the part of our side.
class Stream {
 public:
  explicit Stream(uint64_t id) : sched(id) { sched.owner = this; }
  Stream(const Stream&) = delete;
  Stream& operator=(const Stream&) = delete;

  uint64_t id() const { return sched.stream_id; }

  std::optional<SendStream> send;  // absent on a peer's uni stream
  std::optional<RecvStream> recv;  // absent on our uni stream
  SchedNode sched;                 // priority: use StreamMap::set_priority
  void* user = nullptr;            // for the layers above

 private:
  friend class StreamMap;
  bool control_queued_ = false;
};

// Which of our parts a peer frame acts on: STREAM, RESET_STREAM and
// STREAM_DATA_BLOCKED act on our receiving part; MAX_STREAM_DATA and
// STOP_SENDING on our sending part.
enum class StreamPart : uint8_t { recv, send };

class StreamMap {
 public:
  StreamMap(Role local, const StreamMapConfig& config);
  StreamMap(const StreamMap&) = delete;
  StreamMap& operator=(const StreamMap&) = delete;

  Role local_role() const { return local_; }
  // From the peer's transport parameters (or remembered ones for 0-RTT).
  // Limits only grow, also for streams already open.
  void set_peer_limits(const PeerStreamLimits& limits);

  // ---- streams we open
  // A new stream, or nullptr when the peer's MAX_STREAMS is reached; then a
  // STREAMS_BLOCKED frame is armed (once per limit, RFC 9000 §4.6).
  Stream* open(StreamDir dir);
  // How many more streams open() would grant now.
  uint64_t openable(StreamDir dir) const;
  // MAX_STREAMS from the peer (RFC 9000 §19.11). True if the limit grew.
  // FRAME_ENCODING_ERROR above 2^60.
  Result<bool> on_max_streams(StreamDir dir, uint64_t max_streams);
  bool streams_blocked_pending(StreamDir dir) const { return blocked_pending_[idx(dir)]; }
  uint64_t take_streams_blocked(StreamDir dir);  // value for STREAMS_BLOCKED
  void on_streams_blocked_lost(StreamDir dir, uint64_t value);

  // ---- streams the peer opens
  // The stream a peer frame refers to. Opens it, and lower-numbered
  // streams of its type (RFC 9000 §3.2), if new. nullptr when the stream
  // was already closed and freed: ignore the frame. Errors:
  // STREAM_STATE_ERROR for a frame on a part that does not exist (§19.4,
  // §19.5, §19.8, §19.10, §19.13) or on one of our streams not yet opened;
  // STREAM_LIMIT_ERROR beyond the limit we announced (§4.6).
  Result<Stream*> get_for_frame(uint64_t id, StreamPart part, uint64_t frame_type) {
    // A stream that exists with that part passed every check below before.
    if (last_ && last_->id() == id && (part == StreamPart::recv ? last_->recv.has_value() : last_->send.has_value()))
      return last_;
    return get_for_frame_slow(id, part, frame_type);
  }
  // IDs of streams the peer opened, in order, for "stream opened" events.
  std::optional<uint64_t> pop_opened() {
    if (opened_.empty()) return std::nullopt;
    return pop_opened_front();
  }
  // MAX_STREAMS to send: due when the peer's closed streams allow at least
  // half of the configured count more (RFC 9000 §4.6).
  bool max_streams_pending(StreamDir dir) const;
  uint64_t take_max_streams(StreamDir dir);
  void on_max_streams_lost(StreamDir dir, uint64_t value);

  // ---- all streams
  // Remembers the last stream found: frames mostly come for one stream.
  Stream* find(uint64_t id) {
    if (last_ && last_->id() == id) return last_;
    return find_slow(id);
  }
  size_t size() const { return streams_.size(); }
  // See the contract above. False when the stream was freed. Inline: it
  // runs for every frame sent or received.
  bool update(Stream& s) {
    const bool send_done = !s.send || s.send->terminal();
    const bool recv_done = !s.recv || s.recv->done();
    if (send_done && recv_done) [[unlikely]] {
      erase(s);
      return false;
    }
    if (s.send && s.send->wants_to_send()) {
      scheduler_.activate(s.sched);
    } else {
      scheduler_.deactivate(s.sched);
    }
    if (!s.control_queued_ && control_pending(s)) [[unlikely]] {
      s.control_queued_ = true;
      control_.push_back(s.id());
    }
    return true;
  }
  void set_priority(Stream& s, uint8_t urgency, bool incremental);
  // The priority streams created from now on start with.
  void set_default_priority(uint8_t urgency, bool incremental) {
    default_urgency_ = std::min<uint8_t>(urgency, Scheduler::kLevels - 1);
    default_incremental_ = incremental;
  }

  // Sending STREAM frames: the next stream, in priority order, that can
  // send something with `conn_credit` connection credit. `conn_blocked` is
  // set when a stream was passed over for lack of connection credit (arm
  // DATA_BLOCKED). After sending a frame from it, call after_send().
  Stream* next_sendable(uint64_t conn_credit, bool* conn_blocked = nullptr);
  // Rotates the stream behind its round-robin peers, then update().
  bool after_send(Stream& s) {
    scheduler_.rotate(s.sched);
    return update(s);
  }

  // Streams owing RESET_STREAM, STOP_SENDING, MAX_STREAM_DATA or
  // STREAM_DATA_BLOCKED, in FIFO order. Write what front_control() owes,
  // pop_control(), then update() it (re-queued if something did not fit).
  Stream* front_control();
  void pop_control();

  Scheduler& scheduler() { return scheduler_; }
  template <class F>
  void for_each(F&& f) {
    for (auto& [id, s] : streams_) f(*s);
  }

  // Counters.
  uint64_t local_opened(StreamDir dir) const { return local_opened_[idx(dir)]; }
  uint64_t local_limit(StreamDir dir) const { return local_limit_[idx(dir)]; }
  uint64_t peer_opened(StreamDir dir) const { return peer_opened_[idx(dir)]; }
  uint64_t peer_limit(StreamDir dir) const { return advertised_[idx(dir)]; }  // as announced

 private:
  static size_t idx(StreamDir d) { return d == StreamDir::bidi ? 0 : 1; }
  Stream* create(uint64_t id);
  void erase(Stream& s);
  Stream* find_slow(uint64_t id);
  Result<Stream*> get_for_frame_slow(uint64_t id, StreamPart part, uint64_t frame_type);
  uint64_t pop_opened_front();
  static bool control_pending(const Stream& s) {
    return (s.send && (s.send->reset_pending() || s.send->blocked_pending())) ||
           (s.recv && (s.recv->stop_sending_pending() || s.recv->window_update_pending()));
  }
  uint64_t max_streams_target(StreamDir dir) const;

  Role local_;
  StreamMapConfig config_;
  PeerStreamLimits peer_;
  Scheduler scheduler_;
  uint8_t default_urgency_ = SchedNode::kDefaultUrgency;
  bool default_incremental_ = true;
  std::unordered_map<uint64_t, std::unique_ptr<Stream>> streams_;
  Stream* last_ = nullptr;  // find()'s cache; cleared when that stream is freed
  std::deque<uint64_t> opened_;
  std::deque<uint64_t> control_;
  // Index 0: bidi, 1: uni.
  std::array<uint64_t, 2> local_opened_{};     // streams we opened
  std::array<uint64_t, 2> local_limit_{};      // the peer's MAX_STREAMS
  std::array<uint64_t, 2> blocked_at_{~uint64_t{0}, ~uint64_t{0}};
  std::array<bool, 2> blocked_pending_{};
  std::array<uint64_t, 2> peer_opened_{};      // streams the peer opened
  std::array<uint64_t, 2> peer_closed_{};      // ... and that were freed
  std::array<uint64_t, 2> advertised_{};       // our MAX_STREAMS, as sent
  std::array<bool, 2> max_streams_resend_{};
};

}  // namespace wt::quic

// The sending part of a stream (RFC 9000 §3.1): bytes the application wrote,
// held until acknowledged (§13.3), retransmitted when lost, and the stream's
// send-side flow control credit (MAX_STREAM_DATA).
//
// The application writes into a chunked buffer (no reallocation of earlier
// data). The connection asks next_frame() what to put in a STREAM frame,
// then copies the bytes with copy_data(); neither allocates. Lost ranges are
// resent before new data. Acknowledged data at the front is freed.
#pragma once
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <vector>

#include "lib/bytes.h"
#include "lib/result.h"
#include "quic/flow_control.h"
#include "quic/stream_range_set.h"

namespace wt::quic {

// Stream bytes held in chunks that grow geometrically (512 B .. 16 KiB), so
// a stream with a short message holds little memory and a bulk stream few
// large chunks. Offsets are absolute stream offsets.
class SendBuffer {
 public:
  static constexpr size_t kMinChunk = 512;
  static constexpr size_t kMaxChunk = 16 * 1024;
  static constexpr size_t kMaxSpare = 8;  // 128 KiB

  uint64_t start() const { return start_; }  // first offset held
  uint64_t end() const { return end_; }      // next offset to append
  uint64_t size() const { return end_ - start_; }

  void append(Bytes data);
  // Copies [offset, offset + out.size()) (must lie in [start(), end())).
  // Inline for the common case: the range lies in the chunk last copied from.
  void copy(uint64_t offset, MutBytes out) const {
    if (offset >= last_.offset && offset + out.size() <= last_.end && !out.empty()) {
      copy_unbounded(out.data(), last_.data + (offset - last_.offset), out.size());
      return;
    }
    copy_slow(offset, out);
  }
  // Frees the data below `offset` (whole chunks only; start() may stay lower).
  void release_before(uint64_t offset);
  // Drops everything; offsets continue from end().
  void clear();

 private:
  struct Chunk {
    uint64_t offset;
    size_t len;
    size_t cap;
    std::unique_ptr<uint8_t[]> data;
  };
  // The chunk copy() last used (end may lag behind appends to it).
  struct LastChunk {
    uint64_t offset = 0, end = 0;
    const uint8_t* data = nullptr;
  };
  static void copy_unbounded(uint8_t* dst, const uint8_t* src, size_t n);
  void copy_slow(uint64_t offset, MutBytes out) const;
  size_t find(uint64_t offset) const;  // index of the chunk holding offset
  std::deque<Chunk> chunks_;
  // Freed kMaxChunk chunks, reused: acknowledgments free a few at a time
  // and new writes take them back, without malloc.
  std::vector<std::unique_ptr<uint8_t[]>> spare_;
  mutable size_t hint_ = 0;           // chunk index of the last find()
  mutable LastChunk last_;
  uint64_t start_ = 0;
  uint64_t end_ = 0;
};

// What to put in the next STREAM frame.
struct StreamFrameSpec {
  uint64_t offset = 0;
  uint64_t length = 0;
  bool fin = false;
  // Bytes of new data, i.e. connection-level credit to consume: `length` for
  // new data, 0 for a retransmission.
  uint64_t new_bytes = 0;
};

class SendStream {
 public:
  // RFC 9000 §3.1 sending part states.
  enum class State : uint8_t { ready, send, data_sent, data_recvd, reset_sent, reset_recvd };

  // `credit`: the peer's initial MAX_STREAM_DATA for this stream;
  // `buffer_limit`: bytes held (unacknowledged) before writes are refused;
  // `unsent_limit`: bytes written but not yet sent before writes are
  // refused (like TCP_NOTSENT_LOWAT: a short backlog is still in the cache
  // when it is packetized, and costs less memory and latency).
  SendStream(uint64_t credit, uint64_t buffer_limit, uint64_t unsent_limit = ~uint64_t{0});

  State state() const { return state_; }
  // Data Recvd or Reset Recvd: nothing more will happen on this part.
  bool terminal() const { return state_ == State::data_recvd || state_ == State::reset_recvd; }

  // ---- application side
  // Appends up to writable_bytes() of `data`; returns the count accepted.
  // Fails (STREAM_STATE_ERROR, a local usage error) after close() or reset().
  Result<size_t> write(Bytes data);
  // Bytes write() would accept now.
  uint64_t writable_bytes() const;
  // Marks the end of the stream (FIN). No-op if already closed or reset.
  void close();
  bool closed() const { return fin_set_; }
  // Abandons the stream (RFC 9000 §3.1, RESET_STREAM with `error_code`).
  // False when too late or already reset (Data Recvd / Reset *).
  bool reset(uint64_t error_code);
  // True once after a write was cut short by a limit and room has opened
  // again, with at most half the unsent limit left to send (for a
  // "writable" event). Inline: the send path asks after every frame.
  bool take_writable() {
    if (!writer_blocked_) return false;
    return take_writable_slow();
  }
  // Bytes held in memory (written, not yet freed by acknowledgments).
  uint64_t buffered() const { return reset_state() ? 0 : buf_.end() - acked_end(); }
  uint64_t written() const { return buf_.end(); }

  // ---- connection side: sending STREAM frames
  // Offset the next frame would start at, or nullopt when there is nothing
  // to send with `conn_credit` connection-level credit. Use it to compute
  // the frame's header size before calling next_frame().
  std::optional<uint64_t> next_offset(uint64_t conn_credit) const {
    if (!can_send(conn_credit)) return std::nullopt;
    return lost_.empty() ? send_offset_ : lost_.front().start;
  }
  // next_offset(conn_credit).has_value(), without the optional (hot path).
  bool can_send(uint64_t conn_credit) const {
    if (reset_state() || state_ == State::data_recvd) return false;
    return !lost_.empty() || new_data_allowed(conn_credit) > 0 ||
           (fin_to_send() && send_offset_ == buf_.end());
  }
  // Something to send if connection credit were unlimited (lost data, new
  // data within the stream's credit, or a FIN): the scheduler's criterion.
  bool wants_to_send() const { return can_send(~uint64_t{0}); }
  // Picks the next frame with at most `max_len` data bytes and marks it sent.
  // Retransmissions come first and use no credit; new data is limited by the
  // stream credit and `conn_credit`. A FIN-only frame (length 0) is returned
  // even when max_len is 0. The caller then copies the data with copy_data()
  // and consumes spec.new_bytes of connection credit.
  std::optional<StreamFrameSpec> next_frame(uint64_t max_len, uint64_t conn_credit);
  // Copies stream bytes [offset, offset + out.size()) of a frame returned by
  // next_frame() (valid until the data is acknowledged).
  void copy_data(uint64_t offset, MutBytes out) const { buf_.copy(offset, out); }

  // ---- connection side: fate of sent STREAM frames
  // Returns true when this acknowledgment completes the stream (Data Recvd).
  bool on_acked(uint64_t offset, uint64_t length, bool fin);
  void on_lost(uint64_t offset, uint64_t length, bool fin);

  // ---- flow control
  // MAX_STREAM_DATA from the peer; true if the credit grew.
  bool on_max_stream_data(uint64_t limit) { return credit_.raise_limit(limit); }
  const SendCredit& credit() const { return credit_; }
  // STREAM_DATA_BLOCKED to send (RFC 9000 §19.13), once per limit.
  bool blocked_pending() const { return credit_.blocked_pending() && !reset_state(); }
  uint64_t take_blocked();
  void on_blocked_lost(uint64_t limit) { credit_.on_blocked_lost(limit); }

  // ---- reset
  // STOP_SENDING from the peer (RFC 9000 §3.5): we reset the stream with the
  // peer's error code unless all data was already acknowledged or the
  // stream was reset. Returns true when this call reset the stream.
  bool on_stop_sending(uint64_t error_code);
  bool stop_sending_received() const { return stop_sending_received_; }
  uint64_t stop_sending_code() const { return stop_sending_code_; }
  // RESET_STREAM to send (RFC 9000 §19.4).
  bool reset_pending() const { return reset_pending_; }
  struct ResetInfo {
    uint64_t error_code;
    uint64_t final_size;
  };
  ResetInfo take_reset();
  // Returns true when this acknowledgment completes the stream (Reset Recvd).
  bool on_reset_acked();
  void on_reset_lost();
  uint64_t reset_code() const { return reset_code_; }

  // Final size once known: the FIN offset after close(), or the bytes sent
  // when reset (RFC 9000 §4.5).
  std::optional<uint64_t> final_size() const;
  uint64_t max_sent() const { return send_offset_; }

 private:
  bool reset_state() const { return state_ == State::reset_sent || state_ == State::reset_recvd; }
  uint64_t acked_end() const { return acked_prefix_; }  // all bytes below are acknowledged
  // A FIN must go out at send_offset_.
  bool fin_to_send() const { return fin_set_ && !fin_sent_ && !fin_acked_; }
  bool take_writable_slow();
  uint64_t new_data_allowed(uint64_t conn_credit) const {
    return std::min({buf_.end() - send_offset_, credit_.available(), conn_credit});
  }

  SendBuffer buf_;
  // Acknowledged bytes: [0, acked_prefix_) plus the ranges in acked_, which
  // all start above acked_prefix_ (in-order acknowledgments touch no set).
  uint64_t acked_prefix_ = 0;
  StreamRangeSet acked_;
  StreamRangeSet lost_;   // sent, declared lost, not acknowledged, to resend
  SendCredit credit_;
  uint64_t buffer_limit_;
  uint64_t unsent_limit_;
  uint64_t send_offset_ = 0;  // highest offset sent (new data starts here)
  uint64_t reset_code_ = 0;
  uint64_t reset_final_size_ = 0;
  uint64_t stop_sending_code_ = 0;
  State state_ = State::ready;
  bool fin_set_ = false;
  bool fin_sent_ = false;  // a frame with FIN is in flight or acknowledged
  bool fin_acked_ = false;
  bool reset_pending_ = false;
  bool writer_blocked_ = false;
  bool stop_sending_received_ = false;
};

}  // namespace wt::quic

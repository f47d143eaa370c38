// The receiving part of a stream (RFC 9000 §3.2): reassembly of STREAM frame
// data that may arrive out of order, duplicated or overlapping, bounded by
// the stream's flow control limit (§4.1) and final size rules (§4.5).
//
// Data is copied into fixed 4 KiB chunks indexed by offset. The received
// bytes are [0, contiguous end) plus out-of-order ranges in a StreamRangeSet:
// a frame that continues the contiguous data (the common case) is appended
// without touching the set; others cost O(log n) (adjacent frames merge in
// place, in either order) and only their gaps are copied. Memory is bounded
// by the flow control window.
#pragma once
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <vector>

#include "lib/bytes.h"
#include "lib/clock.h"
#include "lib/result.h"
#include "quic/flow_control.h"
#include "quic/stream_range_set.h"

namespace wt::quic {

// Bytes at absolute stream offsets in lazily allocated 4 KiB chunks; the
// first chunk holds the read position. Freed chunks are kept for reuse (up to
// kMaxSpare), so a stream read as fast as it arrives allocates nothing.
class RecvBuffer {
 public:
  static constexpr size_t kChunk = 4096;
  static constexpr size_t kMaxSpare = 32;  // 128 KiB: a receive batch of 64 packets

  // Stores `data` at `offset` (>= the last release_before()).
  void write(uint64_t offset, Bytes data);
  // Copies [offset, offset + out.size()) (previously written).
  void read(uint64_t offset, MutBytes out) const;
  // The bytes from `offset` up to `max`, as far as one chunk goes.
  Bytes peek(uint64_t offset, uint64_t max) const;
  // Frees whole chunks below `offset`.
  void release_before(uint64_t offset);
  void clear();
  size_t chunk_count() const { return chunks_.size(); }
  size_t spare_count() const { return spare_.size(); }

 private:
  // The chunk holding `offset`, allocated if needed. In-order data fills a
  // chunk in a few writes: the last one is remembered.
  uint8_t* chunk_at(uint64_t offset) {
    const uint64_t start = offset & ~uint64_t{kChunk - 1};
    if (last_ && start == last_start_) return last_;
    return chunk_at_slow(offset);
  }
  uint8_t* chunk_at_slow(uint64_t offset);
  void recycle(std::unique_ptr<uint8_t[]> c);
  std::deque<std::unique_ptr<uint8_t[]>> chunks_;  // null: nothing received there
  std::vector<std::unique_ptr<uint8_t[]>> spare_;
  uint64_t base_ = 0;  // offset of chunks_[0], a multiple of kChunk
  uint8_t* last_ = nullptr;  // chunk_at()'s cache: the chunk at last_start_
  uint64_t last_start_ = 0;
};

class RecvStream {
 public:
  // RFC 9000 §3.2 receiving part states.
  enum class State : uint8_t { recv, size_known, data_recvd, data_read, reset_recvd, reset_read };

  // `window`: our initial MAX_STREAM_DATA for this stream; `max_window`:
  // the auto-tuning cap.
  RecvStream(uint64_t window, uint64_t max_window);

  State state() const { return state_; }
  // Nothing more for the application or the peer: Data Read, Reset Read, or
  // (after stop_sending) Data Recvd / Reset Recvd. The stream may be freed.
  bool done() const {
    switch (state_) {
      case State::data_read:
      case State::reset_read:
        return true;
      case State::data_recvd:
      case State::reset_recvd:
        return stopped_;
      default:
        return false;
    }
  }

  // Effect of a peer frame on connection-level flow control: add `received`
  // to the connection's received bytes (RecvWindow::on_received, which may
  // fail with FLOW_CONTROL_ERROR) and `released` to its consumed bytes (data
  // that will never be read: after a reset or stop_sending).
  struct FlowDelta {
    uint64_t received = 0;
    uint64_t released = 0;
  };

  // A STREAM frame (RFC 9000 §19.8). Errors: FLOW_CONTROL_ERROR (beyond our
  // limit or 2^62-1), FINAL_SIZE_ERROR (§4.5). On error the stream is
  // unchanged. Frames after a reset are checked but their data is dropped.
  Result<FlowDelta> on_stream_frame(uint64_t offset, Bytes data, bool fin);
  // A RESET_STREAM frame (RFC 9000 §19.4). Errors as above. In Data Recvd
  // the reset is ignored and the data delivered (RFC 9000 §3.2 allows
  // either). Check state() == reset_recvd afterwards for a new reset.
  Result<FlowDelta> on_reset_stream(uint64_t error_code, uint64_t final_size);

  // ---- application side. Bytes read must also be added to the
  // connection's consumed bytes (RecvWindow::on_consumed).
  struct ReadResult {
    size_t bytes = 0;
    bool fin = false;  // the end of the stream was reached (Data Read)
  };
  // Copies contiguous data into `out`. After a peer reset: an application
  // error with the peer's code (state becomes Reset Read). After
  // stop_sending(): STREAM_STATE_ERROR.
  Result<ReadResult> read(MutBytes out);
  // Zero-copy reading: the readable bytes at the read position, up to the
  // end of one chunk (may be shorter than readable_bytes()); then consume().
  Bytes peek() const;
  // Consumes up to n bytes of peek()ed data; result as read().
  ReadResult consume(size_t n);
  // Contiguous bytes readable now.
  uint64_t readable_bytes() const {
    if (stopped_ || (state_ != State::recv && state_ != State::size_known &&
                     state_ != State::data_recvd))
      return 0;
    return contiguous_end_ - read_offset_;
  }
  // Data, an unread FIN, or an unreported reset: a read would make progress.
  bool readable() const {
    if (stopped_) return false;
    if (state_ == State::reset_recvd) return true;
    if (state_ == State::data_recvd && read_offset_ == *final_size_) return true;
    return readable_bytes() > 0;
  }

  // The application no longer wants data: buffered and future data are
  // discarded, and a STOP_SENDING is armed (RFC 9000 §3.5) if the peer may
  // still send. Returns the bytes to add to the connection's consumed bytes.
  uint64_t stop_sending(uint64_t error_code);
  bool stopped() const { return stopped_; }
  // RFC 9000 §3.5/§13.3: STOP_SENDING is (re)sent only in Recv / Size Known.
  bool stop_sending_pending() const {
    return stop_pending_ && (state_ == State::recv || state_ == State::size_known);
  }
  uint64_t take_stop_sending();
  void on_stop_sending_lost();

  // ---- MAX_STREAM_DATA (RFC 9000 §4.2), only while the final size is
  // unknown (§3.2: no more credit is needed once it is).
  const RecvWindow& window() const { return window_; }
  bool window_update_pending() const {
    return state_ == State::recv && !stopped_ && window_.update_needed();
  }
  uint64_t take_window_update(Time now, Duration rtt) { return window_.take_update(now, rtt); }
  void on_window_update_lost(uint64_t limit) { window_.on_update_lost(limit); }

  // Bytes read or discarded.
  uint64_t read_offset() const { return read_offset_; }
  uint64_t highest_received() const { return window_.received(); }
  std::optional<uint64_t> final_size() const { return final_size_; }
  uint64_t reset_code() const { return reset_code_; }
  // Out-of-order bookkeeping, for tests and stats: disjoint ranges received.
  size_t range_count() const { return (contiguous_end_ > 0 ? 1 : 0) + received_.range_count(); }

 private:
  void advance(uint64_t n);
  void check_all_received();
  // Records [offset, end) as received; with `data` (starting at `offset`),
  // stores the bytes not stored before.
  void receive_range(uint64_t offset, uint64_t end, const uint8_t* data);

  RecvBuffer buf_;
  // Every byte ever received: [0, contiguous_end_) and the ranges of
  // received_, which all start above contiguous_end_.
  uint64_t contiguous_end_ = 0;
  StreamRangeSet received_;
  RecvWindow window_;
  std::optional<uint64_t> final_size_;
  uint64_t read_offset_ = 0;
  uint64_t reset_code_ = 0;
  uint64_t stop_code_ = 0;
  State state_ = State::recv;
  bool stopped_ = false;
  bool stop_pending_ = false;
};

}  // namespace wt::quic

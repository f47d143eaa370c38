#include "quic/stream_recv.h"

#include <algorithm>
#include <cstring>

#include "lib/varint.h"

namespace wt::quic {

namespace {
constexpr uint64_t kResetStreamType = 0x04;  // RFC 9000 §19.4
constexpr uint64_t kStreamType = 0x08;       // RFC 9000 §19.8

// A copy of at most one chunk. Knowing that bound, g++ inlines memcpy as
// `rep movsq`, several times slower at packet sizes than the library's
// vector copy: the empty asm hides the bound.
inline void copy_bytes(uint8_t* dst, const uint8_t* src, size_t n) {
  asm("" : "+r"(n));
  std::memcpy(dst, src, n);
}
}  // namespace

// ---- RecvBuffer

uint8_t* RecvBuffer::chunk_at_slow(uint64_t offset) {
  size_t idx = static_cast<size_t>((offset - base_) / kChunk);
  if (chunks_.size() <= idx) chunks_.resize(idx + 1);
  auto& c = chunks_[idx];
  if (!c) {
    if (!spare_.empty()) {
      c = std::move(spare_.back());
      spare_.pop_back();
    } else {
      c = std::make_unique_for_overwrite<uint8_t[]>(kChunk);
    }
  }
  last_ = c.get();
  last_start_ = base_ + idx * kChunk;
  return last_;
}

void RecvBuffer::recycle(std::unique_ptr<uint8_t[]> c) {
  if (c && spare_.size() < kMaxSpare) spare_.push_back(std::move(c));
}

void RecvBuffer::write(uint64_t offset, Bytes data) {
  while (!data.empty()) {
    size_t pos = static_cast<size_t>((offset - base_) % kChunk);
    size_t n = std::min(kChunk - pos, data.size());
    copy_bytes(chunk_at(offset) + pos, data.data(), n);
    data = data.subspan(n);
    offset += n;
  }
}

void RecvBuffer::read(uint64_t offset, MutBytes out) const {
  while (!out.empty()) {
    Bytes b = peek(offset, out.size());
    if (b.empty()) return;  // never written: callers only read received ranges
    copy_bytes(out.data(), b.data(), b.size());
    out = out.subspan(b.size());
    offset += b.size();
  }
}

Bytes RecvBuffer::peek(uint64_t offset, uint64_t max) const {
  size_t idx = static_cast<size_t>((offset - base_) / kChunk);
  size_t pos = static_cast<size_t>((offset - base_) % kChunk);
  if (max == 0 || idx >= chunks_.size() || !chunks_[idx]) return {};
  return {chunks_[idx].get() + pos, static_cast<size_t>(std::min<uint64_t>(kChunk - pos, max))};
}

void RecvBuffer::release_before(uint64_t offset) {
  while (!chunks_.empty() && base_ + kChunk <= offset) {
    if (last_ && last_ == chunks_.front().get()) last_ = nullptr;
    recycle(std::move(chunks_.front()));
    chunks_.pop_front();
    base_ += kChunk;
  }
  if (chunks_.empty()) base_ = std::max(base_, offset - offset % kChunk);
}

void RecvBuffer::clear() {
  last_ = nullptr;
  chunks_.clear();
  spare_.clear();
  spare_.shrink_to_fit();
}

// ---- RecvStream

RecvStream::RecvStream(uint64_t window, uint64_t max_window) : window_(window, max_window) {}

void RecvStream::check_all_received() {
  if (state_ == State::size_known && contiguous_end_ >= *final_size_) {
    state_ = State::data_recvd;  // RFC 9000 §3.2: "Recv All Data"
  }
}

void RecvStream::receive_range(uint64_t offset, uint64_t end, const uint8_t* data) {
  if (end <= contiguous_end_) return;  // a duplicate
  if (offset <= contiguous_end_ && received_.empty()) {
    // In order: append what is new, no range bookkeeping.
    if (data) buf_.write(contiguous_end_, Bytes{data + (contiguous_end_ - offset),
                                                static_cast<size_t>(end - contiguous_end_)});
    contiguous_end_ = end;
    return;
  }
  const uint64_t from = std::max(offset, contiguous_end_);
  if (data) {
    received_.for_each_gap(from, end, [&](uint64_t s, uint64_t e) {
      buf_.write(s, Bytes{data + (s - offset), static_cast<size_t>(e - s)});
    });
  }
  received_.insert(from, end);
  // A range that now reaches the contiguous end joins it.
  while (!received_.empty() && received_.front().start <= contiguous_end_) {
    const StreamRangeSet::Range r = received_.front();
    contiguous_end_ = std::max(contiguous_end_, r.end);
    received_.erase(r.start, r.end);
  }
}

Result<RecvStream::FlowDelta> RecvStream::on_stream_frame(uint64_t offset, Bytes data, bool fin) {
  const uint64_t len = data.size();
  // RFC 9000 §19.8: offset + length cannot exceed 2^62-1.
  if (offset > kVarintMax || len > kVarintMax - offset) {
    return Error(TransportError::flow_control_error, "stream offset beyond 2^62-1", kStreamType);
  }
  const uint64_t end = offset + len;
  const uint64_t highest = window_.received();
  // RFC 9000 §4.5: no data beyond the final size, and the final size never changes.
  if (final_size_) {
    if (end > *final_size_) {
      return Error(TransportError::final_size_error, "data beyond final size", kStreamType);
    }
    if (fin && end != *final_size_) {
      return Error(TransportError::final_size_error, "final size changed", kStreamType);
    }
  } else if (fin && end < highest) {
    return Error(TransportError::final_size_error, "final size below received data", kStreamType);
  }
  FlowDelta d;
  if (end > highest) {
    WT_TRY(window_.on_received(end - highest, kStreamType));  // RFC 9000 §4.1
    d.received = end - highest;
  }
  if (fin && !final_size_) {
    final_size_ = end;
    if (state_ == State::recv) state_ = State::size_known;
  }
  if (state_ != State::recv && state_ != State::size_known) return d;  // nothing new to store

  if (stopped_) {
    // Discarding: everything received counts as consumed at once.
    d.released = window_.received() - read_offset_;
    advance(d.released);
    receive_range(offset, end, nullptr);
  } else {
    receive_range(offset, end, data.data());
  }
  check_all_received();
  return d;
}

Result<RecvStream::FlowDelta> RecvStream::on_reset_stream(uint64_t error_code,
                                                          uint64_t final_size) {
  const uint64_t highest = window_.received();
  // RFC 9000 §4.5
  if (final_size_ && final_size != *final_size_) {
    return Error(TransportError::final_size_error, "final size changed", kResetStreamType);
  }
  if (final_size < highest) {
    return Error(TransportError::final_size_error, "final size below received data",
                 kResetStreamType);
  }
  FlowDelta d;
  if (final_size > highest) {
    // RFC 9000 §4.5: the final size counts against flow control.
    WT_TRY(window_.on_received(final_size - highest, kResetStreamType));
    d.received = final_size - highest;
  }
  final_size_ = final_size;
  if (state_ != State::recv && state_ != State::size_known) return d;
  state_ = State::reset_recvd;  // RFC 9000 §3.2: "Recv RESET_STREAM"
  reset_code_ = error_code;
  // RFC 9000 §4.5: unread bytes up to the final size release connection credit.
  d.released = final_size - read_offset_;
  read_offset_ = final_size;
  buf_.clear();
  return d;
}

void RecvStream::advance(uint64_t n) {
  read_offset_ += n;
  window_.on_consumed(n);
  buf_.release_before(read_offset_);
}

Result<RecvStream::ReadResult> RecvStream::read(MutBytes out) {
  if (state_ == State::reset_recvd || state_ == State::reset_read) {
    state_ = State::reset_read;
    return Error::app(reset_code_, "stream reset by peer");
  }
  if (stopped_) return Error(TransportError::stream_state_error, "read after stop_sending");
  size_t n = static_cast<size_t>(std::min<uint64_t>(out.size(), readable_bytes()));
  buf_.read(read_offset_, out.first(n));
  return consume(n);
}

Bytes RecvStream::peek() const { return buf_.peek(read_offset_, readable_bytes()); }

RecvStream::ReadResult RecvStream::consume(size_t n) {
  ReadResult r;
  r.bytes = static_cast<size_t>(std::min<uint64_t>(n, readable_bytes()));
  advance(r.bytes);
  if (state_ == State::data_recvd && read_offset_ == *final_size_) {
    state_ = State::data_read;  // RFC 9000 §3.2: "App Read All Data"
    buf_.clear();
  }
  r.fin = state_ == State::data_read;
  return r;
}

uint64_t RecvStream::stop_sending(uint64_t error_code) {
  if (stopped_ || state_ == State::data_read || state_ == State::reset_read) return 0;
  stopped_ = true;
  stop_code_ = error_code;
  stop_pending_ = state_ == State::recv || state_ == State::size_known;
  uint64_t released = 0;
  if (state_ != State::reset_recvd) {
    released = window_.received() - read_offset_;
    advance(released);
  }
  buf_.clear();
  return released;
}

uint64_t RecvStream::take_stop_sending() {
  stop_pending_ = false;
  return stop_code_;
}

void RecvStream::on_stop_sending_lost() {
  if (stopped_) stop_pending_ = true;
}

}  // namespace wt::quic

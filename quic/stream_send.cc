#include "quic/stream_send.h"

#include <algorithm>
#include <bit>
#include <cstring>

namespace wt::quic {

// ---- SendBuffer

void SendBuffer::append(Bytes data) {
  while (!data.empty()) {
    if (chunks_.empty() || chunks_.back().len == chunks_.back().cap) {
      size_t cap = std::max(kMinChunk, std::bit_ceil(std::min(data.size(), kMaxChunk)));
      if (!chunks_.empty()) cap = std::max(cap, std::min(kMaxChunk, chunks_.back().cap * 2));
      cap = std::min(cap, kMaxChunk);
      std::unique_ptr<uint8_t[]> mem;
      if (cap == kMaxChunk && !spare_.empty()) {
        mem = std::move(spare_.back());
        spare_.pop_back();
      } else {
        mem = std::make_unique_for_overwrite<uint8_t[]>(cap);
      }
      chunks_.push_back(Chunk{end_, 0, cap, std::move(mem)});
    }
    Chunk& c = chunks_.back();
    size_t n = std::min(c.cap - c.len, data.size());
    copy_unbounded(c.data.get() + c.len, data.data(), n);
    c.len += n;
    end_ += n;
    data = data.subspan(n);
  }
}

size_t SendBuffer::find(uint64_t offset) const {
  // Sends walk the buffer in order: try the chunk of the last lookup first.
  if (hint_ < chunks_.size()) {
    const Chunk& c = chunks_[hint_];
    if (offset >= c.offset && offset < c.offset + c.len) return hint_;
    if (hint_ + 1 < chunks_.size() && offset >= chunks_[hint_ + 1].offset &&
        offset < chunks_[hint_ + 1].offset + chunks_[hint_ + 1].len)
      return ++hint_;
  }
  auto it = std::upper_bound(chunks_.begin(), chunks_.end(), offset,
                             [](uint64_t off, const Chunk& c) { return off < c.offset; });
  hint_ = static_cast<size_t>(it - chunks_.begin()) - 1;
  return hint_;
}

void SendBuffer::copy_unbounded(uint8_t* dst, const uint8_t* src, size_t n) {
  // g++ expands a memcpy whose size it can bound as `rep movsq`, slower at
  // packet sizes than the library's vector copy: the empty asm hides n.
  asm("" : "+r"(n));
  std::memcpy(dst, src, n);
}

void SendBuffer::copy_slow(uint64_t offset, MutBytes out) const {
  if (out.empty()) return;
  for (size_t i = find(offset); !out.empty(); ++i) {
    const Chunk& c = chunks_[i];
    last_ = {c.offset, c.offset + c.len, c.data.get()};
    size_t pos = static_cast<size_t>(offset - c.offset);
    size_t n = std::min(c.len - pos, out.size());
    copy_unbounded(out.data(), c.data.get() + pos, n);
    out = out.subspan(n);
    offset += n;
  }
}

void SendBuffer::release_before(uint64_t offset) {
  while (!chunks_.empty() && chunks_.front().offset + chunks_.front().len <= offset) {
    Chunk& c = chunks_.front();
    if (last_.data == c.data.get()) last_ = {};
    if (c.cap == kMaxChunk && spare_.size() < kMaxSpare) spare_.push_back(std::move(c.data));
    chunks_.pop_front();
    hint_ = hint_ ? hint_ - 1 : 0;
  }
  start_ = chunks_.empty() ? end_ : chunks_.front().offset;
}

void SendBuffer::clear() {
  last_ = {};
  chunks_.clear();
  spare_.clear();
  spare_.shrink_to_fit();
  start_ = end_;
}

// ---- SendStream

SendStream::SendStream(uint64_t credit, uint64_t buffer_limit, uint64_t unsent_limit)
    : credit_(credit), buffer_limit_(buffer_limit), unsent_limit_(unsent_limit) {}

Result<size_t> SendStream::write(Bytes data) {
  if (reset_state()) return Error(TransportError::stream_state_error, "write after reset");
  if (fin_set_) return Error(TransportError::stream_state_error, "write after close");
  size_t n = static_cast<size_t>(std::min<uint64_t>(data.size(), writable_bytes()));
  if (n < data.size()) writer_blocked_ = true;
  buf_.append(data.first(n));
  if (buf_.end() > send_offset_ && credit_.available() == 0) credit_.on_blocked();
  return n;
}

uint64_t SendStream::writable_bytes() const {
  if (fin_set_ || reset_state()) return 0;
  const uint64_t held = buffered();
  const uint64_t room = buffer_limit_ > held ? buffer_limit_ - held : 0;
  const uint64_t unsent = buf_.end() - send_offset_;
  const uint64_t unsent_room = unsent_limit_ > unsent ? unsent_limit_ - unsent : 0;
  // RFC 9000 §19.8: stream offsets stay below 2^62.
  return std::min({room, unsent_room, kVarintMax - buf_.end()});
}

void SendStream::close() {
  if (reset_state()) return;
  fin_set_ = true;
}

bool SendStream::reset(uint64_t error_code) {
  if (reset_state() || state_ == State::data_recvd) return false;
  state_ = State::reset_sent;
  reset_code_ = error_code;
  reset_final_size_ = send_offset_;  // RFC 9000 §4.5: the credit consumed
  reset_pending_ = true;
  buf_.clear();
  lost_.clear();
  acked_.clear();
  return true;
}

bool SendStream::take_writable_slow() {
  // Half the unsent limit drained before the writer comes back, so that it
  // is not woken for every packet sent.
  if (writable_bytes() == 0 || buf_.end() - send_offset_ > unsent_limit_ / 2) return false;
  writer_blocked_ = false;
  return true;
}

std::optional<StreamFrameSpec> SendStream::next_frame(uint64_t max_len, uint64_t conn_credit) {
  if (reset_state() || state_ == State::data_recvd) return std::nullopt;
  // RFC 9000 §13.3: lost data is resent; it already counted against credit.
  if (!lost_.empty()) {
    StreamRangeSet::Range r = lost_.front();
    uint64_t len = std::min(r.end - r.start, max_len);
    if (len == 0) return std::nullopt;
    lost_.erase(r.start, r.start + len);
    StreamFrameSpec f{r.start, len, false, 0};
    if (r.start + len == buf_.end() && fin_to_send()) {
      f.fin = true;
      fin_sent_ = true;
    }
    return f;
  }
  uint64_t unsent = buf_.end() - send_offset_;
  uint64_t n = std::min(new_data_allowed(conn_credit), max_len);
  bool fin = fin_to_send() && send_offset_ + n == buf_.end();
  if (n == 0 && !fin) {
    if (unsent > 0 && credit_.available() == 0) credit_.on_blocked();
    return std::nullopt;
  }
  StreamFrameSpec f{send_offset_, n, fin, n};
  send_offset_ += n;
  credit_.consume(n);
  if (state_ == State::ready) state_ = State::send;
  if (fin) {
    fin_sent_ = true;
    state_ = State::data_sent;  // RFC 9000 §3.1: "Send STREAM + FIN"
  }
  if (send_offset_ < buf_.end() && credit_.available() == 0) credit_.on_blocked();
  return f;
}

bool SendStream::on_acked(uint64_t offset, uint64_t length, bool fin) {
  if (reset_state() || state_ == State::data_recvd) return false;
  if (length != 0) {
    const uint64_t end = offset + length;
    if (end > acked_prefix_) {
      if (offset <= acked_prefix_ && acked_.empty()) {
        acked_prefix_ = end;  // in order: the common case
      } else {
        acked_.insert(std::max(offset, acked_prefix_), end);
        while (!acked_.empty() && acked_.front().start <= acked_prefix_) {
          const StreamRangeSet::Range r = acked_.front();
          acked_prefix_ = std::max(acked_prefix_, r.end);
          acked_.erase(r.start, r.end);
        }
      }
    }
    if (!lost_.empty()) lost_.erase(offset, end);  // a spurious loss
  }
  if (fin) {
    fin_acked_ = true;
    fin_sent_ = true;
  }
  uint64_t done = acked_end();
  buf_.release_before(done);
  if (fin_acked_ && done >= buf_.end()) {
    state_ = State::data_recvd;  // RFC 9000 §3.1: "Recv All ACKs"
    buf_.clear();
    lost_.clear();
    return true;
  }
  return false;
}

void SendStream::on_lost(uint64_t offset, uint64_t length, bool fin) {
  if (reset_state() || state_ == State::data_recvd) return;
  const uint64_t end = offset + length;
  if (length != 0 && end > acked_prefix_) {
    acked_.for_each_gap(std::max(offset, acked_prefix_), end,
                        [this](uint64_t s, uint64_t e) { lost_.insert(s, e); });
  }
  if (fin && !fin_acked_) fin_sent_ = false;
}

uint64_t SendStream::take_blocked() {
  if (state_ == State::ready) state_ = State::send;  // RFC 9000 §3.1
  return credit_.take_blocked();
}

bool SendStream::on_stop_sending(uint64_t error_code) {
  stop_sending_received_ = true;
  stop_sending_code_ = error_code;
  // RFC 9000 §3.5: MUST reset in Ready or Send; in Data Sent we may defer,
  // but resetting at once frees the buffer and is simpler. The RESET_STREAM
  // SHOULD carry the STOP_SENDING error code.
  return reset(error_code);
}

SendStream::ResetInfo SendStream::take_reset() {
  reset_pending_ = false;
  return {reset_code_, reset_final_size_};
}

bool SendStream::on_reset_acked() {
  if (state_ != State::reset_sent) return false;
  state_ = State::reset_recvd;
  reset_pending_ = false;
  return true;
}

void SendStream::on_reset_lost() {
  if (state_ == State::reset_sent) reset_pending_ = true;  // RFC 9000 §13.3
}

std::optional<uint64_t> SendStream::final_size() const {
  if (reset_state()) return reset_final_size_;
  if (fin_set_) return buf_.end();
  return std::nullopt;
}

}  // namespace wt::quic

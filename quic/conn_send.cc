// Send path: datagrams built from coalesced packets of each space
// (RFC 9000 §12.2), frames chosen by priority, packets protected in place.
#include <algorithm>

#include "lib/log.h"
#include "quic/connection.h"
#include "quic/packet_number.h"
#include "quic/packet_protection.h"

namespace wt::quic {

namespace {
constexpr size_t kMinInitialDatagram = 1200;  // RFC 9000 §14.1
constexpr size_t kMinUsefulRoom = 32;
constexpr uint32_t kMaxNonElicitingRun = 16;

PacketType type_of(PnSpace s) {
  switch (s) {
    case PnSpace::initial: return PacketType::initial;
    case PnSpace::handshake: return PacketType::handshake;
    default: return PacketType::one_rtt;
  }
}
}  // namespace

SendBatch Connection::send(MutBytes out, Time now) {
  SendBatch b;
  b.path = path_;
  if (state_ == State::closed || state_ == State::draining) return b;
  // Path and PMTU probes, key updates, the ECN mark (conn_paths.cc).
  if (pre_send(out, b, now)) return b;
  const uint64_t first_app_pn = spaces_[static_cast<int>(PnSpace::application)].next_pn;
  if (state_ == State::closing) {
    if (!close_pending_) return b;
    close_pending_ = false;
    if (close_deadline_ == kTimeInfinite) close_deadline_ = now + 3 * pto();
    sending_close_ = true;
    b.bytes = b.segment_size = build_datagram(out.first(std::min(out.size(), max_packet_size_)), now);
    sending_close_ = false;
    return b;
  }
  size_t seg = 0;
  for (size_t count = 0; count < cfg_.max_packets_per_send; ++count) {
    batch_index_ = count;
    size_t limit = std::min(out.size() - b.bytes, seg ? seg : max_packet_size_);
    if (limit < kMinUsefulRoom) break;
    size_t n = build_datagram(out.subspan(b.bytes, limit), now);
    if (n == 0) break;
    if (!seg) seg = n;
    b.bytes += n;
    ++stats_.packets_sent;
    // GSO: every datagram but the last has the size of the first.
    if (n < seg || (state_ != State::established && state_ != State::handshaking)) break;
  }
  b.segment_size = seg;
  stats_.bytes_sent += b.bytes;
  post_send(b, first_app_pn);  // ECN bookkeeping, path bytes (conn_paths.cc)
  // RFC 9002 §7.8: running out of data with window to spare must not grow
  // the window.
  if (state_ == State::established && recovery_.can_send() && pacing_deadline_ == kTimeInfinite &&
      !app_has_data())
    recovery_.congestion().on_app_limited(now);
  // ... but a window the pacer holds back counts as used (RFC 9002 §7.8).
  else if (state_ == State::established && pacing_deadline_ != kTimeInfinite && recovery_.can_send() &&
           app_has_data())
    recovery_.congestion().on_pacing_limited(now);
  return b;
}

bool Connection::amplification_limited() const {
  // Also a peer's new address until it is validated (conn_paths.cc).
  return (role_ == Role::server && !address_validated_) || path_amplification_limited();
}

size_t Connection::amplification_budget() const {
  if (path_amplification_limited()) return path_amplification_budget();
  // RFC 9000 §8.1: at most three times the bytes received.
  const uint64_t allowed = 3 * bytes_received_;
  return allowed > bytes_sent_ ? static_cast<size_t>(allowed - bytes_sent_) : 0;
}

size_t Connection::build_datagram(MutBytes out, Time now) {
  size_t limit = out.size();
  if (amplification_limited()) {
    limit = std::min(limit, amplification_budget());
    recovery_.set_amplification_limited(limit < kMinInitialDatagram, now);
  }
  bool cc_allowed = sending_close_ || recovery_.can_send();
  const bool probing = std::any_of(spaces_.begin(), spaces_.end(), [](const Space& s) { return s.probes > 0; });
  if (probing) cc_allowed = true;  // RFC 9002 §7.5: probes ignore the window
  pacing_deadline_ = kTimeInfinite;
  if (cc_allowed && !probing && !sending_close_ && cfg_.pacing) {
    Time t = pacer_.next_send_time(static_cast<uint32_t>(max_packet_size_), now);
    if (t > now) {
      pacing_deadline_ = t;
      cc_allowed = false;  // ACK-only packets may still go out
    }
  }

  // After the handshake only 1-RTT packets remain: no coalescing, no padding.
  if (!sending_close_ && spaces_[0].discarded && spaces_[1].discarded) {
    size_t n = build_packet(PnSpace::application, out.first(limit), 0, cc_allowed, now);
    bytes_sent_ += n;
    return n;
  }

  // Lost Initial/Handshake CRYPTO data goes out even with a full window:
  // until the handshake is confirmed no Application PTO may fire (RFC 9002
  // §6.2.1), so 1-RTT/0-RTT bytes in flight could otherwise block the
  // client's lost Finished forever. It is a few hundred bytes.
  std::array<bool, kNumPnSpaces> cc{};
  for (int i = 0; i < kNumPnSpaces; ++i)
    cc[i] = cc_allowed || (i != static_cast<int>(PnSpace::application) && !handshake_confirmed_ &&
                           spaces_[i].tx && !spaces_[i].discarded &&
                           crypto_wants_to_send(spaces_[i]));
  std::array<bool, kNumPnSpaces> has{};
  int last = -1;
  for (int i = 0; i < kNumPnSpaces; ++i) {
    has[i] = sending_close_ ? (spaces_[i].tx && !spaces_[i].discarded)
                            : space_has_data(static_cast<PnSpace>(i), cc[i], now);
    if (has[i]) last = i;
  }
  if (last < 0) return 0;
  // RFC 9000 §14.1: datagrams with Initial packets are padded to 1200 bytes
  // (for a server: those with ack-eliciting Initials; we pad them all).
  const bool pad = has[0];
  if (pad && limit < kMinInitialDatagram) return 0;

  size_t used = 0;
  for (int i = 0; i <= last; ++i) {
    if (!has[i]) continue;
    const size_t min_size = pad && i == last && used < kMinInitialDatagram ? kMinInitialDatagram - used : 0;
    size_t n = build_packet(static_cast<PnSpace>(i), out.subspan(used, limit - used), min_size, cc[i], now);
    used += n;
    // RFC 9001 §4.9.1: a client discards Initial keys when it first sends
    // a Handshake packet.
    if (n && i == 1 && role_ == Role::client) discard_space(PnSpace::initial, now);
  }
  bytes_sent_ += used;
  return used;
}

bool Connection::space_has_data(PnSpace space, bool cc_allowed, Time now) const {
  const Space& sp = spaces_[static_cast<int>(space)];
  const bool zero_rtt = space == PnSpace::application && zero_rtt_sendable();
  if (sp.discarded || (!sp.tx && !zero_rtt)) return false;
  if (sp.acks.has_unacked() && sp.acks.ack_due(now)) return true;
  if (!cc_allowed) return false;
  if (sp.probes > 0 || crypto_wants_to_send(sp)) return true;
  return space == PnSpace::application && app_has_data();
}

bool Connection::app_has_data() const {
  const Pending& p = pending_;
  if (p.handshake_done || p.ping || !p.new_cid_seqs.empty() || !p.retire_cid_seqs.empty() ||
      !p.path_responses.empty())
    return true;
  if (!peer_tp_applied_ && !zero_rtt_sendable()) return false;
  if (conn_window_.update_needed() || conn_credit_.blocked_pending()) return true;
  auto& sm = const_cast<StreamMap&>(streams_);
  for (StreamDir d : {StreamDir::bidi, StreamDir::uni})
    if (sm.max_streams_pending(d) || sm.streams_blocked_pending(d)) return true;
  if (sm.front_control()) return true;
  if (!datagrams_out_.empty()) return true;
  return sm.next_sendable(conn_credit_.available()) != nullptr;
}

size_t Connection::build_packet(PnSpace space, MutBytes out, size_t min_size, bool cc_allowed,
                                Time now) {
  Space& sp = spaces_[static_cast<int>(space)];
  const uint64_t pn = sp.next_pn;
  const uint64_t largest_acked =
      recovery_.has_largest_acked(space) ? recovery_.largest_acked(space) : kNoPacketNumber;
  const size_t pn_len = packet_number_length(pn, largest_acked);

  // Client before 1-RTT keys: 0-RTT packets (RFC 9001 §4.6.1).
  const bool zero_rtt = space == PnSpace::application && !sp.tx;
  // Initialized from the encoder's result, not assigned: copying a Result
  // through the stack stalls on store forwarding.
  const Result<HeaderLayout> lay = [&]() -> Result<HeaderLayout> {
    if (space == PnSpace::application && !zero_rtt) {
      ShortHeaderSpec h;
      h.dcid = dcid_.bytes();
      h.pn = pn;
      h.pn_len = pn_len;
      h.key_phase = tx_key_phase();  // RFC 9001 §6 (conn_key_update.cc)
      return encode_short_header(out, h);
    }
    LongHeaderSpec h;
    h.type = zero_rtt ? PacketType::zero_rtt : type_of(space);
    h.version = crypto_version();  // a reserved version is written over it below
    h.dcid = dcid_.bytes();
    h.scid = local_scid_.bytes();
    if (space == PnSpace::initial) h.token = initial_token();  // RFC 9000 §17.2.2
    h.pn = pn;
    h.pn_len = pn_len;
    Result<HeaderLayout> l = encode_long_header(out, h);
    if (l.ok() && h.version != version_) (void)Writer{out.subspan(1, 4)}.u32(version_);
    return l;
  }();
  if (!lay.ok() || out.size() < lay->header_size + kAeadTagSize + 4) return 0;
  const size_t hs = lay->header_size;
  Writer w{out.subspan(hs, out.size() - hs - kAeadTagSize)};
  SentFrames frames;
  bool eliciting = false;
  bool ack_written = false;  // counted as sent only if the packet goes out

  if (sending_close_) {
    // RFC 9000 §10.2.3: an application close before 1-RTT becomes a
    // transport APPLICATION_ERROR without the reason.
    ConnectionCloseFrame f;
    f.application = close_error_.application;
    f.error_code = close_error_.code;
    f.frame_type = close_error_.frame_type;
    f.reason = as_bytes(close_reason_);
    if (f.application && space != PnSpace::application) {
      f.application = false;
      f.error_code = static_cast<uint64_t>(TransportError::application_error);
      f.reason = {};
    }
    if (f.reason.size() > 256) f.reason = f.reason.first(256);
    if (!encode_frame(w, f)) return 0;
  } else {
    if (sp.acks.has_unacked() && (cc_allowed || sp.acks.ack_due(now))) {
      uint64_t delay = 0;
      if (space == PnSpace::application) {
        auto us = std::chrono::duration_cast<std::chrono::microseconds>(now - sp.acks.largest_recv_time()).count();
        delay = static_cast<uint64_t>(std::max<int64_t>(us, 0)) >> cfg_.ack_delay_exponent;
      }
      const EcnCounts* ecn = sp.acks.has_ecn() ? &sp.acks.ecn() : nullptr;
      if (encode_ack_within(w, sp.acks.ranges(), delay, ecn, w.remaining()) > 0) {
        frames.push_back({SentFrame::Kind::ack, false, 0, sp.acks.largest(), 0});
        ack_written = true;
      }
    }
    if (cc_allowed) {
      if (write_crypto_frames(space, w, frames)) eliciting = true;
      if (space == PnSpace::application) write_app_frames(w, frames, now, eliciting);
      // An ACK that is not due yet rides on other frames but never goes out
      // alone (RFC 9000 §13.2.1; the ACK rate: ack_frequency.cc).
      if (ack_written && frames.size() == 1 && !eliciting && sp.probes == 0 && !sp.acks.ack_due(now))
        return 0;
      // RFC 9000 §13.2.4: a receiver that only sends ACKs makes one of them
      // ack-eliciting now and then, so its own ACK state can be pruned.
      const bool ack_only_run = space == PnSpace::application && !eliciting && !frames.empty() &&
                                sp.non_eliciting_run >= kMaxNonElicitingRun;
      if ((sp.probes > 0 || ack_only_run) && !eliciting && w.u8(static_cast<uint8_t>(frame_type::ping))) {
        frames.push_back({SentFrame::Kind::ping});
        eliciting = true;
      }
    }
  }
  if (w.written() == 0) return 0;
  if (ack_written) {
    sp.acks.on_ack_sent(now);
    ++stats_.ack_frames_sent;
  }

  const size_t payload = w.written();
  size_t padding = sample_padding_needed(pn_len, payload);
  if (hs + payload + kAeadTagSize + padding < min_size) padding = min_size - (hs + payload + kAeadTagSize);
  padding = std::min(padding, w.remaining());
  (void)w.zeros(padding);
  const size_t total = hs + w.written() + kAeadTagSize;
  if ((space != PnSpace::application || zero_rtt) && !set_long_header_length(out, *lay, total).ok())
    return 0;
  if (!protect_packet(out.first(total), lay->pn_offset, pn, zero_rtt ? *zero_rtt_tx_ : *sp.tx).ok())
    return 0;
  if (zero_rtt) ++stats_.zero_rtt_packets_sent;
  ++sp.next_pn;

  if (eliciting && sp.probes > 0) --sp.probes;
  sp.non_eliciting_run = eliciting ? 0 : sp.non_eliciting_run + 1;
  const bool in_flight = eliciting || padding > 0;
  if (qlog_.enabled())
    qlog_.packet_sent(now, zero_rtt ? PacketType::zero_rtt : type_of(space), pn, total, frames);
  SentPacket p;
  p.pn = pn;
  p.time_sent = now;
  p.bytes = static_cast<uint32_t>(total);
  p.ack_eliciting = eliciting;
  p.in_flight = in_flight;
  p.frames = std::move(frames);
  recovery_.on_packet_sent(space, std::move(p), now);
  if (in_flight) pacer_.on_packet_sent(static_cast<uint32_t>(total), now);
  if (eliciting) {
    // RFC 9000 §10.1: sending the first ack-eliciting packet after a
    // receipt restarts the idle timer.
    if (!ack_eliciting_sent_since_rx_) reset_idle_timer(now);
    ack_eliciting_sent_since_rx_ = true;
  }
  return total;
}

bool Connection::write_crypto_frames(PnSpace space, Writer& w, SentFrames& frames) {
  Space& sp = spaces_[static_cast<int>(space)];
  if (!sp.crypto_send) return false;  // holds nothing (conn_crypto.cc)
  SendStream& cs = *sp.crypto_send;
  const uint64_t base = sp.crypto_send_base;  // stream offset of cs's first byte
  bool wrote = false;
  while (w.remaining() > 8) {
    auto off = cs.next_offset(UINT64_MAX);
    if (!off) break;
    size_t max = max_crypto_data_fitting(w.remaining(), base + *off);
    if (max == 0) break;
    auto spec = cs.next_frame(max, UINT64_MAX);
    if (!spec || spec->length == 0) break;
    if (!write_crypto_frame_header(w, base + spec->offset, spec->length)) break;
    cs.copy_data(spec->offset, MutBytes{w.pos(), static_cast<size_t>(spec->length)});
    (void)w.skip(static_cast<size_t>(spec->length));
    frames.push_back({SentFrame::Kind::crypto, false, 0, base + spec->offset, spec->length});
    wrote = true;
  }
  return wrote;
}

void Connection::write_app_frames(Writer& w, SentFrames& frames, Time now, bool& eliciting) {
  // Control frames are looked for once per send() batch: they are rare, and
  // checking every source costs more than the frames themselves.
  if (batch_index_ == 0) write_control_frames(w, frames, eliciting, now);
  // DATAGRAM frames before stream data: they are the latency-sensitive kind.
  // Not in 0-RTT: the peer's DATAGRAM support is known only from its parameters.
  while (!datagrams_out_.empty() && peer_tp_applied_) {
    const auto& d = datagrams_out_.front();
    const size_t need = datagram_frame_size(d.size(), true);
    if (need > w.remaining()) {
      if (d.size() > max_datagram_payload()) {  // can never fit: drop it
        ++stats_.datagrams_dropped;
        datagrams_out_bytes_ -= d.size();
        datagrams_out_.pop_front();
        continue;
      }
      break;
    }
    (void)write_datagram_frame_header(w, d.size(), true);
    (void)w.bytes(d);
    frames.push_back({SentFrame::Kind::datagram, false, 0, 0, d.size()});
    eliciting = true;
    ++stats_.datagrams_sent;
    datagrams_out_bytes_ -= d.size();
    datagrams_out_.pop_front();
  }
  write_stream_frames(w, frames, eliciting);
}

void Connection::write_control_frames(Writer& w, SentFrames& frames, bool& eliciting, Time now) {
  using K = SentFrame::Kind;
  auto put = [&](const Frame& f, SentFrame rec) {
    if (encoded_size(f) > w.remaining()) return false;
    if (!encode_frame(w, f)) return false;
    frames.push_back(rec);
    eliciting = true;
    return true;
  };
  if (pending_.handshake_done && put(HandshakeDoneFrame{}, {K::handshake_done}))
    pending_.handshake_done = false;
  // RFC 9000 §19.7, §8.1.3: a token for the client's next connection.
  if (new_token_pending_ && put(NewTokenFrame{Bytes{new_token_out_}}, {K::new_token}))
    new_token_pending_ = false;
  while (!pending_.path_responses.empty() &&
         put(PathResponseFrame{pending_.path_responses.front()}, {K::path_response}))
    pending_.path_responses.erase(pending_.path_responses.begin());
  while (!pending_.retire_cid_seqs.empty()) {
    uint64_t seq = pending_.retire_cid_seqs.front();
    if (!put(RetireConnectionIdFrame{seq}, {K::retire_connection_id, false, seq})) break;
    pending_.retire_cid_seqs.erase(pending_.retire_cid_seqs.begin());
  }
  while (!pending_.new_cid_seqs.empty()) {
    uint64_t seq = pending_.new_cid_seqs.front();
    auto it = std::find_if(local_cids_.begin(), local_cids_.end(),
                           [&](const LocalCid& c) { return c.seq == seq; });
    if (it != local_cids_.end()) {
      NewConnectionIdFrame f{seq, 0, it->cid, it->token};
      if (!put(f, {K::new_connection_id, false, seq})) break;
    }
    pending_.new_cid_seqs.erase(pending_.new_cid_seqs.begin());
  }
  if (!peer_tp_applied_) return;
  const Duration rtt = recovery_.rtt().smoothed_rtt();
  if (conn_window_.update_needed() && w.remaining() >= 9) {
    uint64_t v = conn_window_.take_update(now, rtt);
    put(MaxDataFrame{v}, {K::max_data, false, 0, v});
  }
  if (conn_credit_.blocked_pending() && w.remaining() >= 9) {
    uint64_t v = conn_credit_.take_blocked();
    put(DataBlockedFrame{v}, {K::data_blocked, false, 0, v});
  }
  for (StreamDir d : {StreamDir::bidi, StreamDir::uni}) {
    const bool bidi = d == StreamDir::bidi;
    if (streams_.max_streams_pending(d) && w.remaining() >= 9) {
      uint64_t v = streams_.take_max_streams(d);
      put(MaxStreamsFrame{bidi, v}, {bidi ? K::max_streams_bidi : K::max_streams_uni, false, 0, v});
    }
    if (streams_.streams_blocked_pending(d) && w.remaining() >= 9) {
      uint64_t v = streams_.take_streams_blocked(d);
      put(StreamsBlockedFrame{bidi, v},
          {bidi ? K::streams_blocked_bidi : K::streams_blocked_uni, false, 0, v});
    }
  }
  // Per-stream control frames; each needs at most 25 bytes.
  while (Stream* s = streams_.front_control()) {
    if (w.remaining() < 32) break;
    const uint64_t id = s->id();
    if (s->send && s->send->reset_pending()) {
      auto r = s->send->take_reset();
      put(ResetStreamFrame{id, r.error_code, r.final_size}, {K::reset_stream, false, id});
    }
    if (s->recv && s->recv->stop_sending_pending()) {
      uint64_t code = s->recv->take_stop_sending();
      put(StopSendingFrame{id, code}, {K::stop_sending, false, id});
    }
    if (s->recv && s->recv->window_update_pending()) {
      uint64_t v = s->recv->take_window_update(now, rtt);
      put(MaxStreamDataFrame{id, v}, {K::max_stream_data, false, id, v});
    }
    if (s->send && s->send->blocked_pending()) {
      uint64_t v = s->send->take_blocked();
      put(StreamDataBlockedFrame{id, v}, {K::stream_data_blocked, false, id, v});
    }
    streams_.pop_control();
    streams_.update(*s);
  }
  if (pending_.ping && put(PingFrame{}, {K::ping})) pending_.ping = false;
}

void Connection::write_stream_frames(Writer& w, SentFrames& frames, bool& eliciting) {
  bool conn_blocked = false;
  while (w.remaining() > 16) {
    Stream* s = streams_.next_sendable(conn_credit_.available(), &conn_blocked);
    if (!s) break;
    const uint64_t id = s->id();
    auto off = s->send->next_offset(conn_credit_.available());
    if (!off) break;
    const size_t max = max_stream_data_fitting(w.remaining(), id, *off, true);
    auto spec = s->send->next_frame(max, conn_credit_.available());
    if (!spec) break;
    if (!write_stream_frame_header(w, id, spec->offset, spec->length, spec->fin, true)) break;
    s->send->copy_data(spec->offset, MutBytes{w.pos(), static_cast<size_t>(spec->length)});
    (void)w.skip(static_cast<size_t>(spec->length));
    conn_credit_.consume(spec->new_bytes);
    // Copied from a constant, then filled in place: a record built on the
    // stack and copied in stalls on store forwarding.
    static constexpr SentFrame kStreamRecord{SentFrame::Kind::stream};
    frames.push_back(kStreamRecord);
    SentFrame& rec = frames.back();
    rec.fin = spec->fin;
    rec.id = id;
    rec.offset = spec->offset;
    rec.length = spec->length;
    stats_.stream_bytes_sent += spec->length;
    eliciting = true;
    // The unsent backlog drained (SendStream's unsent limit).
    if (s->send->take_writable()) emit(Event{Event::Type::stream_writable, id});
    streams_.after_send(*s);
  }
  if (conn_blocked) conn_credit_.on_blocked();
}

}  // namespace wt::quic

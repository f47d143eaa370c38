// Handlers for received frames (RFC 9000 §19) and for the fate of the frames
// we sent (acknowledged or lost, RFC 9000 §13.3).
#include <algorithm>

#include "lib/log.h"
#include "quic/connection.h"

namespace wt::quic {

namespace {
template <class... F>
struct Overload : F... {
  using F::operator()...;
};
template <class... F>
Overload(F...) -> Overload<F...>;
}  // namespace

Status Connection::on_frame(PnSpace space, const Frame& frame, Time now) {
  return std::visit(
      Overload{
          [](const PaddingFrame&) -> Status { return {}; },
          [](const PingFrame&) -> Status { return {}; },
          [&](const AckFrame& f) { return on_ack(space, f, now); },
          [&](const CryptoFrame& f) { return on_crypto(space, f, now); },
          [&](const StreamFrame& f) { return on_stream(f); },
          [&](const ResetStreamFrame& f) { return on_reset_stream(f); },
          [&](const StopSendingFrame& f) { return on_stop_sending(f); },
          [&](const MaxStreamDataFrame& f) { return on_max_stream_data(f); },
          [&](const StreamDataBlockedFrame& f) { return on_stream_data_blocked(f); },
          [&](const MaxDataFrame& f) -> Status {
            if (conn_credit_.raise_limit(f.maximum_data)) streams_.scheduler();
            return {};
          },
          [&](const MaxStreamsFrame& f) -> Status {
            WT_TRY(streams_.on_max_streams(f.bidirectional ? StreamDir::bidi : StreamDir::uni,
                                           f.maximum_streams));
            return {};
          },
          [](const DataBlockedFrame&) -> Status { return {}; },
          [](const StreamsBlockedFrame& f) -> Status {
            // RFC 9000 §19.14: a value above 2^60 is rejected by the decoder.
            (void)f;
            return {};
          },
          [&](const NewConnectionIdFrame& f) { return on_new_connection_id(f); },
          [&](const RetireConnectionIdFrame& f) { return on_retire_connection_id(f); },
          [&](const PathChallengeFrame& f) -> Status {
            on_path_challenge(f, now);  // RFC 9000 §8.2.2 (conn_paths.cc)
            return {};
          },
          [&](const PathResponseFrame& f) -> Status {
            on_path_response(f, now);  // RFC 9000 §8.2.3 (conn_paths.cc)
            return {};
          },
          [&](const ConnectionCloseFrame& f) -> Status {
            on_connection_close(f, now);
            return {};
          },
          [&](const HandshakeDoneFrame&) -> Status {
            // RFC 9000 §19.20: only servers send HANDSHAKE_DONE.
            if (role_ == Role::server)
              return Error(TransportError::protocol_violation, "HANDSHAKE_DONE from a client",
                           frame_type::handshake_done);
            confirm_handshake(now);
            return {};
          },
          [&](const NewTokenFrame& f) -> Status {
            // RFC 9000 §19.7: only servers send NEW_TOKEN.
            if (role_ == Role::server)
              return Error(TransportError::protocol_violation, "NEW_TOKEN from a client",
                           frame_type::new_token);
            return on_new_token(f);  // conn_retry.cc
          },
          [&](const DatagramFrame& f) { return on_datagram(f); },
      },
      frame);
}

Status Connection::on_ack(PnSpace space, const AckFrame& f, Time now) {
  // RFC 9000 §19.3: ack_delay is scaled by the peer's ack_delay_exponent;
  // Initial and Handshake ACKs carry no meaningful delay (RFC 9002 §5.3).
  Duration delay{};
  if (space == PnSpace::application) {
    const uint64_t exp = peer_tp_applied_ ? peer_tp_.ack_delay_exponent : 3;
    const uint64_t us = f.ack_delay > (UINT64_MAX >> 21) ? UINT64_MAX >> 21 : f.ack_delay << exp;
    delay = std::chrono::microseconds(static_cast<int64_t>(std::min<uint64_t>(us, 1ull << 40)));
  }
  ++stats_.ack_frames_received;
  ack_outcome_.clear();
  WT_TRY(before_ack(space, f));  // key phase check (conn_paths.cc)
  AckFrame ecn_scratch;          // untrusted ECN counts stripped (conn_ecn.cc)
  WT_TRY(recovery_.on_ack_received(space, ecn_filter_ack(space, f, ecn_scratch), delay, now,
                                   ack_outcome_));
  on_packets_acked(space, ack_outcome_.acked);
  on_packets_lost(space, ack_outcome_.lost);
  after_ack(space, f, now);  // key update, ECN validation, PMTU probes (conn_paths.cc)
  pacer_.set_max_datagram_size(recovery_.congestion().max_datagram_size());  // PMTU (RFC 9002 §7.2)
  pacer_.set_rate(recovery_.congestion().cwnd(), recovery_.rtt().smoothed_rtt(), now);
  update_ack_interval();  // ack_frequency.cc
  if (qlog_.enabled()) {
    for (const SentPacket& p : ack_outcome_.lost)
      qlog_.packet_lost(now, space == PnSpace::application ? PacketType::one_rtt
                             : space == PnSpace::handshake ? PacketType::handshake : PacketType::initial, p.pn);
    const RttEstimator& r = recovery_.rtt();
    qlog_.metrics_updated(now, r.min_rtt(), r.smoothed_rtt(), r.latest_rtt(), r.rttvar(),
                          recovery_.congestion().cwnd(), recovery_.bytes_in_flight());
  }
  return {};
}

void Connection::on_packets_acked(PnSpace space, std::vector<SentPacket>& acked) {
  Space& sp = spaces_[static_cast<int>(space)];
  // Acknowledged STREAM frames of one stream are usually contiguous: merge
  // them into one range so the stream is looked up and updated once.
  struct Pending {
    uint64_t id = 0, offset = 0, length = 0;
    bool fin = false, active = false;
  } run;
  auto flush = [&] {
    if (!run.active) return;
    run.active = false;
    Stream* s = streams_.find(run.id);
    if (!s || !s->send) return;
    const bool was_done = s->send->terminal();
    s->send->on_acked(run.offset, run.length, run.fin);
    if (!was_done && s->send->state() == SendStream::State::data_recvd)
      emit(Event{Event::Type::stream_finished, run.id});
    if (s->send->take_writable()) emit(Event{Event::Type::stream_writable, run.id});
    streams_.update(*s);
  };
  for (SentPacket& p : acked) {
    for (const SentFrame& f : p.frames) {
      switch (f.kind) {
        case SentFrame::Kind::stream:
          if (run.active && run.id == f.id && run.offset + run.length == f.offset && !run.fin) {
            run.length += f.length;
            run.fin = f.fin;
          } else {
            flush();
            run = {f.id, f.offset, f.length, f.fin, true};
          }
          break;
        case SentFrame::Kind::crypto:
          crypto_on_acked(space, f);  // conn_crypto.cc
          break;
        case SentFrame::Kind::reset_stream:
          flush();
          if (Stream* s = streams_.find(f.id); s && s->send) {
            s->send->on_reset_acked();
            streams_.update(*s);
          }
          break;
        case SentFrame::Kind::ack:
          sp.acks.on_ack_acked(f.offset);
          break;
        default:
          break;
      }
    }
  }
  flush();
}

void Connection::on_packets_lost(PnSpace space, std::vector<SentPacket>& lost) {
  note_lost(space, lost);  // PMTU probes, ECN testing packets (conn_paths.cc)
  for (SentPacket& p : lost) {
    for (const SentFrame& f : p.frames) on_frame_lost(space, f);
  }
}

// RFC 9000 §13.3: what to send again when a packet is lost.
void Connection::on_frame_lost(PnSpace space, const SentFrame& f) {
  using K = SentFrame::Kind;
  switch (f.kind) {
    case K::stream:
      if (Stream* s = streams_.find(f.id); s && s->send) {
        s->send->on_lost(f.offset, f.length, f.fin);
        stats_.stream_bytes_retransmitted += f.length;
        streams_.update(*s);
      }
      break;
    case K::crypto:
      crypto_on_lost(space, f);  // conn_crypto.cc
      break;
    case K::reset_stream:
      if (Stream* s = streams_.find(f.id); s && s->send) {
        s->send->on_reset_lost();
        streams_.update(*s);
      }
      break;
    case K::stop_sending:
      if (Stream* s = streams_.find(f.id); s && s->recv) {
        s->recv->on_stop_sending_lost();
        streams_.update(*s);
      }
      break;
    case K::max_stream_data:
      if (Stream* s = streams_.find(f.id); s && s->recv) {
        s->recv->on_window_update_lost(f.offset);
        streams_.update(*s);
      }
      break;
    case K::stream_data_blocked:
      if (Stream* s = streams_.find(f.id); s && s->send) {
        s->send->on_blocked_lost(f.offset);
        streams_.update(*s);
      }
      break;
    case K::max_data: conn_window_.on_update_lost(f.offset); break;
    case K::data_blocked: conn_credit_.on_blocked_lost(f.offset); break;
    case K::max_streams_bidi: streams_.on_max_streams_lost(StreamDir::bidi, f.offset); break;
    case K::max_streams_uni: streams_.on_max_streams_lost(StreamDir::uni, f.offset); break;
    case K::streams_blocked_bidi: streams_.on_streams_blocked_lost(StreamDir::bidi, f.offset); break;
    case K::streams_blocked_uni: streams_.on_streams_blocked_lost(StreamDir::uni, f.offset); break;
    case K::new_connection_id:
      if (std::any_of(local_cids_.begin(), local_cids_.end(),
                      [&](const LocalCid& c) { return c.seq == f.id; }))
        pending_.new_cid_seqs.push_back(f.id);
      break;
    case K::retire_connection_id: pending_.retire_cid_seqs.push_back(f.id); break;
    case K::handshake_done: pending_.handshake_done = true; break;
    case K::new_token: new_token_pending_ = true; break;
    default:  // ACK, PING, PADDING, DATAGRAM, PATH_*: not retransmitted
      break;
  }
}

// on_crypto() is in conn_crypto.cc.

Status Connection::on_stream(const StreamFrame& f) {
  WT_ASSIGN(Stream* s, streams_.get_for_frame(f.stream_id, StreamPart::recv, frame_type::stream));
  if (!s) return {};  // already closed and freed
  const bool was_readable = s->recv->readable();
  WT_ASSIGN(auto delta, s->recv->on_stream_frame(f.offset, f.data, f.fin));
  WT_TRY(conn_window_.on_received(delta.received, frame_type::stream));
  conn_window_.on_consumed(delta.released);
  while (auto id = streams_.pop_opened()) emit(Event{Event::Type::stream_opened, *id});
  if (!was_readable && s->recv->readable()) emit(Event{Event::Type::stream_readable, f.stream_id});
  streams_.update(*s);
  return {};
}

Status Connection::on_reset_stream(const ResetStreamFrame& f) {
  WT_ASSIGN(Stream* s, streams_.get_for_frame(f.stream_id, StreamPart::recv, frame_type::reset_stream));
  if (!s) return {};
  const bool was_reset = s->recv->state() == RecvStream::State::reset_recvd;
  WT_ASSIGN(auto delta, s->recv->on_reset_stream(f.application_error_code, f.final_size));
  WT_TRY(conn_window_.on_received(delta.received, frame_type::reset_stream));
  conn_window_.on_consumed(delta.released);
  while (auto id = streams_.pop_opened()) emit(Event{Event::Type::stream_opened, *id});
  if (!was_reset && s->recv->state() == RecvStream::State::reset_recvd)
    emit(Event{Event::Type::stream_reset, f.stream_id, f.application_error_code});
  streams_.update(*s);
  return {};
}

Status Connection::on_stop_sending(const StopSendingFrame& f) {
  WT_ASSIGN(Stream* s, streams_.get_for_frame(f.stream_id, StreamPart::send, frame_type::stop_sending));
  if (!s) return {};
  while (auto id = streams_.pop_opened()) emit(Event{Event::Type::stream_opened, *id});
  // RFC 9000 §3.5: answer with RESET_STREAM carrying the same code.
  if (s->send->on_stop_sending(f.application_error_code))
    emit(Event{Event::Type::stop_sending, f.stream_id, f.application_error_code});
  streams_.update(*s);
  return {};
}

Status Connection::on_max_stream_data(const MaxStreamDataFrame& f) {
  WT_ASSIGN(Stream* s, streams_.get_for_frame(f.stream_id, StreamPart::send, frame_type::max_stream_data));
  if (!s) return {};
  while (auto id = streams_.pop_opened()) emit(Event{Event::Type::stream_opened, *id});
  s->send->on_max_stream_data(f.maximum_stream_data);
  if (s->send->take_writable()) emit(Event{Event::Type::stream_writable, f.stream_id});
  streams_.update(*s);
  return {};
}

Status Connection::on_stream_data_blocked(const StreamDataBlockedFrame& f) {
  WT_ASSIGN(Stream* s, streams_.get_for_frame(f.stream_id, StreamPart::recv,
                                              frame_type::stream_data_blocked));
  if (!s) return {};
  while (auto id = streams_.pop_opened()) emit(Event{Event::Type::stream_opened, *id});
  streams_.update(*s);
  return {};
}

Status Connection::on_datagram(const DatagramFrame& f) {
  // RFC 9221 §3: DATAGRAM frames we did not offer, or larger than we said.
  const uint64_t ft = f.has_length ? frame_type::datagram_len : frame_type::datagram;
  if (cfg_.max_datagram_frame_size == 0)
    return Error(TransportError::protocol_violation, "DATAGRAM frame not negotiated", ft);
  if (datagram_frame_size(f.data.size(), f.has_length) > cfg_.max_datagram_frame_size)
    return Error(TransportError::protocol_violation, "DATAGRAM frame too large", ft);
  ++stats_.datagrams_received;
  Event e{Event::Type::datagram_received};
  e.data.assign(f.data.begin(), f.data.end());
  emit(std::move(e));
  return {};
}

void Connection::on_connection_close(const ConnectionCloseFrame& f, Time now) {
  close_info_ = CloseInfo{};
  close_info_.error_code = f.error_code;
  close_info_.frame_type = f.frame_type;
  close_info_.application = f.application;
  close_info_.by_peer = true;
  close_info_.reason.assign(reinterpret_cast<const char*>(f.reason.data()), f.reason.size());
  enter_draining(now);
}

}  // namespace wt::quic

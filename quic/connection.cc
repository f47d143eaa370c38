// Connection setup, the public API, events and closing.
#include "quic/connection.h"

#include <algorithm>

#include "lib/log.h"
#include "lib/random.h"
#include "quic/key_schedule.h"
#include "quic/version.h"

namespace wt::quic {

const char* event_type_name(Event::Type t) {
  switch (t) {
    case Event::Type::handshake_done: return "handshake_done";
    case Event::Type::stream_opened: return "stream_opened";
    case Event::Type::stream_readable: return "stream_readable";
    case Event::Type::stream_writable: return "stream_writable";
    case Event::Type::stream_finished: return "stream_finished";
    case Event::Type::stream_reset: return "stream_reset";
    case Event::Type::stop_sending: return "stop_sending";
    case Event::Type::datagram_received: return "datagram_received";
    case Event::Type::connection_closed: return "connection_closed";
  }
  return "?";
}

namespace {

LossDetectorConfig recovery_config(const ConnectionConfig& c, Role role) {
  LossDetectorConfig l;
  l.is_server = role == Role::server;
  l.congestion = c.congestion_control == CongestionControl::new_reno ? CcAlgorithm::new_reno
                                                                     : CcAlgorithm::cubic;
  l.initial_rtt = c.initial_rtt;
  l.max_datagram_size = static_cast<uint32_t>(c.max_send_packet_size);
  return l;
}

StreamMapConfig stream_config(const ConnectionConfig& c) {
  StreamMapConfig s;
  s.max_streams_bidi = c.max_streams_bidi;
  s.max_streams_uni = c.max_streams_uni;
  s.stream_window_bidi_local = c.initial_max_stream_data;
  s.stream_window_bidi_remote = c.initial_max_stream_data;
  s.stream_window_uni = c.initial_max_stream_data;
  s.max_stream_window = std::max(c.max_stream_window, c.initial_max_stream_data);
  s.send_buffer = c.stream_send_buffer;
  s.send_unsent = c.stream_send_unsent;
  return s;
}

}  // namespace

Connection::Connection(const ConnectionConfig& config, Role role, const Path& path, Time now)
    : cfg_(config),
      role_(role),
      rng_(*config.rng),
      version_(config.version),
      path_(path),
      recovery_(recovery_config(config, role)),
      pacer_(static_cast<uint32_t>(config.max_send_packet_size)),
      streams_(role, stream_config(config)),
      conn_window_(config.initial_max_data, std::max(config.max_connection_window, config.initial_max_data)),
      max_packet_size_(config.max_send_packet_size),
      idle_timeout_(config.idle_timeout) {
  (void)now;
  rng_.fill(reset_key_);
  if (config.reset_key) reset_key_ = *config.reset_key;  // shared with the endpoint (RFC 9000 §10.3.2)
  for (int i = 0; i < kNumPnSpaces; ++i) {
    // CRYPTO streams are made when needed (conn_crypto.cc).
    spaces_[i].acks.set_max_ack_delay(config.max_ack_delay);
    spaces_[i].acks.set_ack_eliciting_threshold(config.ack_eliciting_threshold);
  }
  // RFC 9000 §13.2.1: Initial and Handshake packets are acknowledged at once.
  spaces_[0].acks.set_immediate(true);
  spaces_[1].acks.set_immediate(true);
  // RFC 9002 §7.8: no window growth beyond what the sender actually uses.
  recovery_.congestion().set_window_validation(true);
}

Connection::~Connection() = default;

Result<std::unique_ptr<Connection>> Connection::connect(const ConnectionConfig& config,
                                                        const Path& path, Time now) {
  if (!config.rng || !config.tls) return Error(TransportError::internal_error, "config needs rng and tls");
  // A reserved version only provokes Version Negotiation (RFC 9000 §6).
  if (!is_supported_version(config.version) && !is_reserved_version(config.version))
    return Error(TransportError::internal_error, "unsupported QUIC version");
  std::unique_ptr<Connection> c(new Connection(config, Role::client, path, now));
  WT_TRY(c->init_client(now));
  return c;
}

Result<std::unique_ptr<Connection>> Connection::accept(const ConnectionConfig& config,
                                                       const Path& path,
                                                       const InitialInfo& initial, Time now) {
  if (!config.rng || !config.tls) return Error(TransportError::internal_error, "config needs rng and tls");
  std::unique_ptr<Connection> c(new Connection(config, Role::server, path, now));
  c->apply_initial_info(initial);
  WT_TRY(c->init_server(initial, now));
  return c;
}

TransportParameters Connection::make_local_params() const {
  TransportParameters tp;
  tp.max_idle_timeout_ms = static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(cfg_.idle_timeout).count());
  tp.max_udp_payload_size = cfg_.max_udp_payload_size;
  tp.initial_max_data = cfg_.initial_max_data;
  tp.initial_max_stream_data_bidi_local = cfg_.initial_max_stream_data;
  tp.initial_max_stream_data_bidi_remote = cfg_.initial_max_stream_data;
  tp.initial_max_stream_data_uni = cfg_.initial_max_stream_data;
  tp.initial_max_streams_bidi = cfg_.max_streams_bidi;
  tp.initial_max_streams_uni = cfg_.max_streams_uni;
  tp.ack_delay_exponent = cfg_.ack_delay_exponent;
  tp.max_ack_delay_ms = static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(cfg_.max_ack_delay).count());
  tp.disable_active_migration = cfg_.disable_active_migration;
  tp.active_connection_id_limit = std::max<uint64_t>(cfg_.active_connection_id_limit, 2);
  tp.initial_source_connection_id = local_scid_;
  tp.max_datagram_frame_size = cfg_.max_datagram_frame_size;
  tp.version_information = local_version_information();
  add_preferred_address(tp);  // server (conn_paths.cc)
  return tp;
}

Status Connection::init_common(Time now) {
  if (cfg_.qlog) qlog_ = Qlog(cfg_.qlog, role_ == Role::server, original_dcid_.hex(), now);
  local_cids_.push_back({0, local_scid_, stateless_reset_token(reset_key_, local_scid_)});
  next_local_seq_ = 1;
  cids_added_.push_back(local_scid_);
  setup_preferred_address();  // its CID is sequence number 1 (conn_paths.cc)
  local_tp_ = make_local_params();
  if (role_ == Role::server) {
    local_tp_.original_destination_connection_id = original_dcid_;
    local_tp_.stateless_reset_token = local_cids_[0].token;
  }
  std::vector<uint8_t> tp(512);
  Writer w{MutBytes{tp}};
  WT_TRY(local_tp_.encode(w));
  tp.resize(w.written());

  TlsSessionOptions opts;
  opts.server_name = cfg_.server_name;
  opts.transport_params = std::move(tp);
  WT_ASSIGN(tls_, TlsSession::create(cfg_.tls, opts));
  WT_TRY(setup_tls_extensions(now));  // tokens, resumption, 0-RTT (conn_early_data.cc)

  WT_ASSIGN(auto initial, make_initial_ciphers(crypto_version(), original_dcid_.bytes()));
  Space& in = spaces_[0];
  if (role_ == Role::client) {
    in.tx.emplace(std::move(initial.client));
    in.rx.emplace(std::move(initial.server));
  } else {
    in.tx.emplace(std::move(initial.server));
    in.rx.emplace(std::move(initial.client));
  }
  recovery_.set_has_handshake_keys(false, now);
  reset_idle_timer(now);
  return drive_tls(now);
}

Status Connection::init_client(Time now) {
  // RFC 9000 §7.2: an unpredictable DCID of at least 8 bytes.
  original_dcid_ = ConnectionId::random(rng_, 8);
  dcid_ = original_dcid_;
  local_scid_ = ConnectionId::random(rng_, cfg_.cid_length);
  return init_common(now);
}

Status Connection::init_server(const InitialInfo& initial, Time now) {
  version_ = initial.version;
  original_dcid_ = initial.dcid;
  dcid_ = initial.scid;
  peer_initial_scid_ = initial.scid;
  have_peer_scid_ = true;
  peer_cids_.push_back({0, initial.scid, {}, false});
  local_scid_ = ConnectionId::random(rng_, cfg_.cid_length);
  return init_common(now);
}

// ---------------------------------------------------------------- streams

bool Connection::closing_or_closed() const {
  return state_ == State::closing || state_ == State::draining || state_ == State::closed;
}

Result<uint64_t> Connection::open_stream(bool bidirectional) {
  note_activity();
  if (closing_or_closed()) return Error(TransportError::internal_error, "connection is closed");
  Stream* s = streams_.open(bidirectional ? StreamDir::bidi : StreamDir::uni);
  if (!s) return Error(TransportError::stream_limit_error, "peer's stream limit reached (MAX_STREAMS)");
  return s->id();
}

Result<size_t> Connection::stream_write(uint64_t id, Bytes data, bool fin) {
  note_activity();
  if (closing_or_closed()) return Error(TransportError::internal_error, "connection is closed");
  Stream* s = streams_.find(id);
  if (!s || !s->send) return Error(TransportError::stream_state_error, "no send side on this stream");
  if (s->send->closed() && !data.empty())
    return Error(TransportError::stream_state_error, "stream already finished");
  WT_ASSIGN(size_t n, s->send->write(data));
  if (fin && n == data.size()) s->send->close();
  streams_.update(*s);
  return n;
}

Result<StreamRead> Connection::stream_read(uint64_t id, MutBytes out) {
  note_activity();
  Stream* s = streams_.find(id);
  if (!s || !s->recv) return Error(TransportError::stream_state_error, "no receive side on this stream");
  WT_ASSIGN(auto r, s->recv->read(out));
  conn_window_.on_consumed(r.bytes);
  streams_.update(*s);
  return StreamRead{r.bytes, r.fin};
}

Result<StreamPeek> Connection::stream_peek(uint64_t id) {
  Stream* s = streams_.find(id);
  if (!s || !s->recv) return Error(TransportError::stream_state_error, "no receive side on this stream");
  RecvStream& r = *s->recv;
  if (r.state() == RecvStream::State::reset_recvd || r.state() == RecvStream::State::reset_read || r.stopped()) {
    // As a read would: the reset's error (now Reset Read) or STREAM_STATE_ERROR.
    auto rr = r.read({});
    streams_.update(*s);
    return rr.error();
  }
  StreamPeek p;
  p.data = r.peek();
  // The FIN follows `data` when the final size is known and nothing else is
  // unread beyond it.
  p.fin = r.final_size() && r.read_offset() + p.data.size() == *r.final_size() &&
          (r.state() == RecvStream::State::data_recvd || r.state() == RecvStream::State::data_read);
  return p;
}

Result<StreamRead> Connection::stream_consume(uint64_t id, size_t n) {
  note_activity();
  Stream* s = streams_.find(id);
  if (!s || !s->recv) return Error(TransportError::stream_state_error, "no receive side on this stream");
  if (s->recv->stopped()) return Error(TransportError::stream_state_error, "read after stop_sending");
  auto r = s->recv->consume(n);
  conn_window_.on_consumed(r.bytes);
  streams_.update(*s);
  return StreamRead{r.bytes, r.fin};
}

Status Connection::stream_reset(uint64_t id, uint64_t app_error) {
  note_activity();
  Stream* s = streams_.find(id);
  if (!s || !s->send) return Error(TransportError::stream_state_error, "no send side on this stream");
  s->send->reset(app_error);
  streams_.update(*s);
  return {};
}

Status Connection::stream_stop_sending(uint64_t id, uint64_t app_error) {
  note_activity();
  Stream* s = streams_.find(id);
  if (!s || !s->recv) return Error(TransportError::stream_state_error, "no receive side on this stream");
  conn_window_.on_consumed(s->recv->stop_sending(app_error));
  streams_.update(*s);
  return {};
}

Status Connection::stream_set_priority(uint64_t id, uint8_t urgency, bool incremental) {
  note_activity();
  Stream* s = streams_.find(id);
  if (!s) return Error(TransportError::stream_state_error, "unknown stream");
  streams_.set_priority(*s, std::min<uint8_t>(urgency, 7), incremental);
  return {};
}

uint64_t Connection::stream_writable_bytes(uint64_t id) {
  Stream* s = streams_.find(id);
  return s && s->send ? s->send->writable_bytes() : 0;
}

// ---------------------------------------------------------------- datagrams

size_t Connection::max_datagram_payload() const {
  if (!peer_tp_applied_ || peer_tp_.max_datagram_frame_size == 0) return 0;
  // The frame must fit in one packet: short header + AEAD tag + frame type.
  size_t packet_room = max_packet_size_ - (1 + dcid_.size() + 4 + kAeadTagSize) - 1;
  size_t frame_room = static_cast<size_t>(std::min<uint64_t>(peer_tp_.max_datagram_frame_size, packet_room + 1)) - 1;
  return std::min(packet_room, frame_room);
}

Status Connection::send_datagram(Bytes payload) {
  note_activity();
  if (state_ != State::established && state_ != State::handshaking)
    return Error(TransportError::internal_error, "connection is closed");
  if (peer_tp_applied_ && peer_tp_.max_datagram_frame_size == 0)
    return Error(TransportError::protocol_violation, "peer does not accept DATAGRAM frames");
  if (peer_tp_applied_ && payload.size() > max_datagram_payload())
    return Error(TransportError::protocol_violation, "datagram larger than the peer accepts");
  // Unreliable by design: drop the oldest rather than buffer without bound.
  while (datagrams_out_bytes_ + payload.size() > kMaxDatagramQueueBytes && !datagrams_out_.empty()) {
    datagrams_out_bytes_ -= datagrams_out_.front().size();
    datagrams_out_.pop_front();
    ++stats_.datagrams_dropped;
  }
  datagrams_out_.emplace_back(payload.begin(), payload.end());
  datagrams_out_bytes_ += payload.size();
  return {};
}

// ---------------------------------------------------------------- events

std::optional<Event> Connection::poll_event() {
  if (events_.empty()) return std::nullopt;
  Event e = std::move(events_.front());
  events_.pop_front();
  return e;
}

void Connection::emit_closed() {
  if (closed_event_sent_) return;
  closed_event_sent_ = true;
  Event e{Event::Type::connection_closed};
  e.error_code = close_info_.error_code;
  e.close = close_info_;
  emit(std::move(e));
}

const ConnectionStats& Connection::stats() {
  const auto& rs = recovery_.stats();
  stats_.packets_lost = rs.packets_lost;
  stats_.pto_count = rs.pto_count;
  stats_.smoothed_rtt = recovery_.rtt().smoothed_rtt();
  stats_.min_rtt = recovery_.rtt().min_rtt();
  stats_.cwnd = recovery_.congestion().cwnd();
  stats_.bytes_in_flight = recovery_.bytes_in_flight();
  return stats_;
}

// ---------------------------------------------------------------- closing

void Connection::close(uint64_t app_error, std::string_view reason) {
  note_activity();
  if (closing_or_closed()) return;
  close_info_ = CloseInfo{};
  close_info_.error_code = app_error;
  close_info_.application = true;
  close_info_.reason = std::string(reason);
  enter_closing(Error::app(app_error), kTimeZero, std::string(reason));
}

void Connection::close_with_error(const Error& e, Time now) {
  if (closing_or_closed()) return;
  log::debug("quic: closing with {} ({}): {}", transport_error_name(e.code), e.code, e.detail);
  close_info_ = CloseInfo{};
  close_info_.error_code = e.code;
  close_info_.frame_type = e.frame_type;
  close_info_.application = e.application;
  close_info_.reason = e.detail;
  enter_closing(e, now, e.detail);
}

}  // namespace wt::quic

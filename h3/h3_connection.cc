// HTTP/3 session: setup, the sending API, GOAWAY, priorities, datagrams and
// events. The receive path is in h3_streams.cc.
#include "h3/h3_connection.h"

#include <algorithm>
#include <cstdlib>

#include "h3/h3_datagram.h"
#include "lib/log.h"
#include "lib/random.h"
#include "quic/stream_id.h"

namespace wt::h3 {

const char* event_type_name(Event::Type t) {
  switch (t) {
    case Event::Type::settings: return "settings";
    case Event::Type::headers: return "headers";
    case Event::Type::data: return "data";
    case Event::Type::trailers: return "trailers";
    case Event::Type::finished: return "finished";
    case Event::Type::stream_reset: return "stream_reset";
    case Event::Type::stop_sending: return "stop_sending";
    case Event::Type::stream_error: return "stream_error";
    case Event::Type::writable: return "writable";
    case Event::Type::goaway: return "goaway";
    case Event::Type::datagram: return "datagram";
    case Event::Type::extension_stream: return "extension_stream";
    case Event::Type::closed: return "closed";
  }
  return "?";
}

namespace {

Error usage(const char* detail) { return h3_error(H3Error::internal_error, detail); }

// DATA frames up to this payload size are copied together with their header
// into one QUIC write: cheaper than a second stream_write call.
constexpr size_t kCoalescedDataFrame = 4096;
constexpr size_t kSpareStreams = 64;  // recycled stream records

uint64_t decoder_section_limit(uint64_t v) {
  return v == kUnlimited ? QpackDecoder::kNoLimit : v;
}

}  // namespace

Connection::Connection(quic::Connection& quic, Config config)
    : quic_(quic),
      cfg_(std::move(config)),
      role_(quic.role()),
      decoder_(cfg_.qpack_max_table_capacity, cfg_.qpack_blocked_streams,
               decoder_section_limit(cfg_.max_field_section_size)),
      scratch_(16 * 1024) {
  local_settings_ = build_local_settings();
  // RFC 9218 §4: a request without a priority signal is urgency 3,
  // non-incremental; streams start so, and the usual request needs no
  // rescheduling. Extension streams keep QUIC's incremental default.
  quic_.set_default_stream_priority(kDefaultUrgency, false);
}

Connection::~Connection() = default;

Random& Connection::rng() { return cfg_.rng ? *cfg_.rng : *quic_.config().rng; }

Settings Connection::build_local_settings() const {
  Settings s;
  s.set(setting_id::qpack_max_table_capacity, cfg_.qpack_max_table_capacity);
  s.set(setting_id::qpack_blocked_streams, cfg_.qpack_blocked_streams);
  if (cfg_.max_field_section_size != kUnlimited)
    s.set(setting_id::max_field_section_size, cfg_.max_field_section_size);
  if (cfg_.enable_connect_protocol) s.set(setting_id::enable_connect_protocol, 1);
  // RFC 9297 §2.1.1: only with the QUIC DATAGRAM extension offered.
  if (cfg_.enable_datagrams) {
    if (quic_.config().max_datagram_frame_size > 0) s.set(setting_id::h3_datagram, 1);
    else log::warn("h3: datagrams need max_datagram_frame_size; not offering H3_DATAGRAM");
  }
  for (const auto& [id, v] : cfg_.extra_settings) s.set(id, v);
  return s;
}

uint64_t Connection::request_frame_limit() const {
  // A HEADERS frame is about as large as the field section it encodes.
  return cfg_.max_field_section_size == kUnlimited ? (1u << 20) : cfg_.max_field_section_size + 1024;
}

Connection::Stream* Connection::find(uint64_t id) {
  FoundSlot& slot = found_[found_slot(id)];
  if (slot.id == id) return slot.s;
  auto it = streams_.find(id);
  if (it == streams_.end()) return nullptr;
  slot = {id, &it->second};
  return slot.s;
}

Connection::Stream& Connection::new_stream(uint64_t id) {
  if (Stream* s = find(id)) return *s;
  Stream* s;
  if (!spare_streams_.empty()) {
    auto n = std::move(spare_streams_.back());
    spare_streams_.pop_back();
    n.key() = id;
    s = &streams_.insert(std::move(n)).position->second;
  } else {
    s = &streams_[id];
  }
  s->id = id;
  return *s;
}

void Connection::erase_stream(std::map<uint64_t, Stream>::iterator it) {
  if (held_id_ == it->first) release_held(false);
  if (FoundSlot& slot = found_[found_slot(it->first)]; slot.id == it->first) slot = FoundSlot{};
  auto n = streams_.extract(it);
  if (spare_streams_.size() < kSpareStreams) {
    n.mapped() = Stream();
    spare_streams_.push_back(std::move(n));
  }
}

// ---------------------------------------------------------------- driving

void Connection::process() {
  maybe_start();
  in_process_ = true;
  while (auto e = quic_.poll_event()) on_quic_event(*e);
  in_process_ = false;
  maybe_start();
  if (!closed_) {
    flush_qpack();
    flush_all();
    release_done_streams();
    maybe_close_after_goaway();
  }
}

void Connection::on_quic_event(const quic::Event& e) {
  using T = quic::Event::Type;
  if (e.type == T::connection_closed) {
    closed_ = true;
    if (!closed_event_) {
      closed_event_ = true;
      Event ev{Event::Type::closed};
      ev.code = e.close.error_code;
      ev.reason = e.close.reason;
      ev.by_peer = e.close.by_peer;
      emit(std::move(ev));
    }
    return;
  }
  if (closed_) return;
  switch (e.type) {
    case T::handshake_done: maybe_start(); break;
    case T::stream_opened: on_stream_opened(e.stream_id); break;
    case T::stream_readable: on_readable(e.stream_id); break;
    case T::stream_writable: on_stream_writable(e.stream_id); break;
    case T::stream_finished:
      if (Stream* s = find(e.stream_id)) s->acked = true;
      break;
    case T::stream_reset: on_peer_reset(e.stream_id, e.error_code); break;
    case T::stop_sending: on_peer_stop_sending(e.stream_id, e.error_code); break;
    case T::datagram_received: on_datagram(e.data); break;
    case T::connection_closed: break;
  }
  if (!closed_ && !in_process_) flush_qpack();
}

std::optional<Event> Connection::poll_event() {
  std::optional<Event> e;  // one move, straight into the returned object
  if (event_head_ == events_.size()) return e;
  e.emplace(std::move(events_[event_head_++]));
  if (event_head_ == events_.size()) {
    events_.clear();
    event_head_ = 0;
  } else if (event_head_ >= 64 && event_head_ * 2 >= events_.size()) {
    // Never drained to empty: drop the consumed front now and then.
    events_.erase(events_.begin(), events_.begin() + static_cast<ptrdiff_t>(event_head_));
    event_head_ = 0;
  }
  return e;
}

void Connection::close(uint64_t c, std::string_view reason) {
  if (closed_) return;
  closed_ = true;
  quic_.close(c, reason);
  if (!closed_event_) {
    closed_event_ = true;
    Event ev{Event::Type::closed};
    ev.code = c;
    ev.reason = std::string(reason);
    emit(std::move(ev));
  }
}

void Connection::fail(const Error& e) {
  if (closed_) return;
  failed_ = true;
  log::debug("h3: connection error {:#x} ({}): {}", e.code,
             h3_error_name(e.code) ? h3_error_name(e.code) : "?", e.detail);
  close(e.application ? e.code : code(H3Error::internal_error), e.detail);
}

// ---------------------------------------------------------------- setup

Result<uint64_t> Connection::open_critical_stream(uint64_t type, SendQueue& q) {
  WT_ASSIGN(uint64_t id, quic_.open_stream(false));
  std::vector<uint8_t> b;
  append_varint(b, type);
  queue(id, q, b);
  return id;
}

void Connection::maybe_start() {
  if (started_ || closed_ || !quic_.is_established()) return;
  started_ = true;
  // RFC 9114 §6.2.1: a control stream whose first frame is SETTINGS;
  // RFC 9204 §4.2: one encoder and one decoder stream.
  auto c = open_critical_stream(stream_type::control, control_out_);
  auto enc = c.ok() ? open_critical_stream(stream_type::qpack_encoder, encoder_out_) : c;
  auto dec = enc.ok() ? open_critical_stream(stream_type::qpack_decoder, decoder_out_) : enc;
  if (!dec.ok()) {
    // RFC 9114 §6.2: the peer must allow three unidirectional streams.
    fail(h3_error(H3Error::general_protocol_error, "peer allows too few unidirectional streams"));
    return;
  }
  control_id_ = *c;
  encoder_id_ = *enc;
  decoder_id_ = *dec;

  std::vector<uint8_t> b;
  uint64_t grease_id = 0, grease_val = 0;
  if (cfg_.grease) {
    // RFC 9114 §7.2.4.1: a reserved setting with any value.
    grease_id = grease_value(rng().uniform(1u << 16));
    grease_val = rng().uniform(1u << 30);
  }
  append_settings_frame(b, settings_entries(local_settings_, grease_id, grease_val));
  if (cfg_.grease) {
    // RFC 9114 §7.2.8: a reserved frame type with a short random payload.
    std::vector<uint8_t> junk(rng().uniform(8));
    rng().fill(junk);
    append_frame(b, grease_value(rng().uniform(1u << 16)), junk);
  }
  queue(control_id_, control_out_, b);

  if (cfg_.grease_stream) {
    // RFC 9114 §6.2.3: a stream of a reserved type; the peer ignores it.
    auto g = quic_.open_stream(false);
    if (g.ok()) {
      SendQueue& q = grease_out_[*g];
      std::vector<uint8_t> gb;
      append_varint(gb, grease_value(rng().uniform(1u << 16)));
      std::vector<uint8_t> junk(1 + rng().uniform(16));
      rng().fill(junk);
      append_bytes(gb, junk);
      queue(*g, q, gb);
      q.fin = true;
      flush(*g, q);
    }
  }
  flush_qpack();
  flush_all();
}

// ---------------------------------------------------------------- writing

void Connection::queue(uint64_t id, SendQueue& q, Bytes data, bool fin) {
  if (fin) q.fin = true;
  if (q.empty() && !q.fin_written) {
    q.bytes.clear();
    q.off = 0;
    auto r = quic_.stream_write(id, data, q.fin);
    if (!r.ok()) return;  // the stream was reset: nothing more goes out
    data = data.subspan(*r);
    if (data.empty() && q.fin) {
      q.fin_written = true;  // QUIC took everything, FIN included
      return;
    }
  }
  if (data.empty()) return;
  if (q.off > 0 && q.off * 2 > q.bytes.size()) {
    q.bytes.erase(q.bytes.begin(), q.bytes.begin() + static_cast<ptrdiff_t>(q.off));
    q.off = 0;
  }
  append_bytes(q.bytes, data);
}

void Connection::flush(uint64_t id, SendQueue& q) {
  if (!q.empty()) {
    // The FIN goes with the last bytes when QUIC takes them all.
    auto r = quic_.stream_write(id, Bytes{q.bytes}.subspan(q.off), q.fin && !q.fin_written);
    if (!r.ok()) {
      q.bytes.clear();
      q.off = 0;
      q.fin_written = true;
      return;
    }
    q.off += *r;
    if (q.empty()) {
      q.bytes.clear();
      q.off = 0;
      if (q.fin) q.fin_written = true;
    }
  }
  if (q.empty() && q.fin && !q.fin_written) {
    (void)quic_.stream_write(id, {}, true);
    q.fin_written = true;
  }
}

void Connection::flush_qpack() {
  if (!started_ || closed_) return;
  // RFC 9204 §2.1.2: encoder instructions are written before the field
  // sections that need them (callers flush before queuing HEADERS).
  if (encoder_.has_encoder_stream_bytes()) {
    encoder_.take_encoder_stream_bytes(qpack_out_);
    queue(encoder_id_, encoder_out_, qpack_out_);
  }
  if (decoder_.has_decoder_stream_bytes()) {
    decoder_.take_decoder_stream_bytes(qpack_out_);
    if (!qpack_out_.empty()) queue(decoder_id_, decoder_out_, qpack_out_);
  }
}

void Connection::flush_all() {
  if (!started_) return;
  flush(control_id_, control_out_);
  flush(encoder_id_, encoder_out_);
  flush(decoder_id_, decoder_out_);
  for (auto& [id, q] : grease_out_) flush(id, q);
  release_held(true);
  for (auto& [id, s] : streams_)
    if (!s.send_reset) flush(id, s.out);
}

void Connection::on_stream_writable(uint64_t id) {
  if (id == control_id_) return flush(id, control_out_);
  if (id == encoder_id_) return flush(id, encoder_out_);
  if (id == decoder_id_) return flush(id, decoder_out_);
  if (auto g = grease_out_.find(id); g != grease_out_.end()) return flush(id, g->second);
  Stream* s = find(id);
  if (!s || s->send_reset) return;
  flush(id, s->out);
  if (s->out.empty() && s->app_blocked) {
    s->app_blocked = false;
    emit(Event::Type::writable, id);
  }
}

Status Connection::write_headers(Stream& s, const HeaderList& fields, bool end_stream, bool hold) {
  // A held response goes first (trailers after it, or another stream's
  // response taking the slot).
  if (held_id_ == s.id || (hold && held_id_ != kNoStream)) release_held(true);
  // The frame is built in place: room for the longest frame header, the
  // field section after it, then the header right in front of the section.
  constexpr size_t kRoom = varint_size(frame_type::headers) + 8;
  frame_buf_.resize(kRoom);
  // Fails when the section exceeds the peer's SETTINGS_MAX_FIELD_SECTION_SIZE
  // (RFC 9114 §4.2.2); nothing is sent then.
  WT_TRY(encoder_.encode(s.id, fields, frame_buf_));
  flush_qpack();  // RFC 9204 §2.1.2: the inserts it references go first
  const uint64_t len = frame_buf_.size() - kRoom;
  const size_t header = frame_header_size(frame_type::headers, len);
  uint8_t* start = frame_buf_.data() + kRoom - header;
  varint_encode(varint_encode(start, frame_type::headers), len);
  if (end_stream) {
    s.send_closed = true;
    s.send = SendPhase::done;
  }
  const Bytes frame{start, header + static_cast<size_t>(len)};
  if (hold && s.out.empty() && !s.out.fin) {
    held_buf_.assign(frame.begin(), frame.end());  // written by the next send_data() or flush
    held_id_ = s.id;
    return {};
  }
  queue(s.id, s.out, frame, end_stream);
  return {};
}

Result<uint64_t> Connection::send_request(const HeaderList& headers, bool end_stream) {
  if (!is_client()) return usage("send_request on a server");
  if (closed_) return usage("connection closed");
  maybe_start();
  if (!started_) return usage("connection not established");
  // RFC 9114 §5.2: no new requests after GOAWAY in either direction.
  if (goaway_received_ || goaway_sent_) return h3_error(H3Error::request_rejected, "GOAWAY");
  const std::string_view method = find_field(headers, ":method").value_or("");
  if (cfg_.validate_outgoing) {
    RequestRules rules;
    // RFC 9220 §3: :protocol only once the server's SETTINGS allowed it.
    rules.connect_protocol_enabled = peer_settings_ && peer_settings_->enable_connect_protocol();
    WT_TRY(validate_request_view(headers, rules));
  }
  // RFC 9114 §4.2.2: nothing the server said it would refuse.
  if (peer_settings_ && field_section_size(headers) > peer_settings_->max_field_section_size())
    return h3_error(H3Error::message_error, "request exceeds the peer's SETTINGS_MAX_FIELD_SECTION_SIZE");
  WT_ASSIGN(uint64_t id, quic_.open_stream(true));
  Stream& s = new_stream(id);
  s.local = true;
  s.parser.set_max_payload(request_frame_limit());
  s.parser.set_external_data(true);  // DATA payloads stay in QUIC for read_data()
  s.head_request = method == "HEAD";
  s.connect_request = method == "CONNECT";
  s.send = SendPhase::body;
  // RFC 9218 §4: the priority we ask for also orders our own sending.
  apply_priority(id, priority_of(headers));
  if (auto st = write_headers(s, headers, end_stream); !st.ok()) {
    (void)quic_.stream_reset(id, code(H3Error::request_cancelled));
    (void)quic_.stream_stop_sending(id, code(H3Error::request_cancelled));
    erase_stream(streams_.find(id));
    return st.error();
  }
  return id;
}

Status Connection::send_response(uint64_t stream_id, const HeaderList& headers, bool end_stream) {
  return send_response(stream_id, headers, end_stream, false);
}

Status Connection::send_response_held(uint64_t stream_id, const HeaderList& headers) {
  return send_response(stream_id, headers, false, true);
}

void Connection::flush_held(uint64_t stream_id) {
  if (held_id_ == stream_id) release_held(true);
}

void Connection::release_held(bool write) {
  if (held_id_ == kNoStream) return;
  const uint64_t id = held_id_;
  held_id_ = kNoStream;
  if (write)
    if (Stream* s = find(id); s && !s->send_reset) queue(id, s->out, held_buf_);
  held_buf_.clear();
}

Status Connection::send_response(uint64_t stream_id, const HeaderList& headers, bool end_stream, bool hold) {
  Stream* s = find(stream_id);
  if (is_client() || !s || s->kind != Kind::request) return usage("not a request stream");
  if (s->send != SendPhase::headers || s->send_closed) return usage("response already sent");
  if (!s->request_received) return usage("no request yet");
  int status = 0;
  if (cfg_.validate_outgoing) {
    WT_ASSIGN(ResponseHead h, validate_response(headers));
    if (h.informational() && end_stream) return usage("informational response cannot end the stream");
    status = h.status;
  } else if (auto v = find_field(headers, ":status"); v && v->size() == 3) {
    for (size_t k = 0; k < v->size() && (*v)[k] >= '0' && (*v)[k] <= '9'; ++k) status = status * 10 + ((*v)[k] - '0');
  }
  const bool informational = status >= 100 && status < 200;
  WT_TRY(write_headers(*s, headers, end_stream, hold && !informational));
  if (!informational && !end_stream) {
    s->send = SendPhase::body;
    // RFC 9114 §4.4: after a 2xx to CONNECT the stream is a tunnel.
    if (s->connect_request && status >= 200 && status < 300) s->tunnel = true;
  }
  return {};
}

Result<size_t> Connection::send_data(uint64_t stream_id, Bytes data, bool fin) {
  Stream* s = find(stream_id);
  if (!s) return usage("unknown stream");
  if (s->send != SendPhase::body || s->send_closed) return usage("stream not sending a body");
  if (held_id_ == stream_id) {
    // The held HEADERS frame and a small first DATA frame in one write.
    const uint64_t room = quic_.stream_writable_bytes(stream_id);
    if (!data.empty() && data.size() <= kCoalescedDataFrame && room >= held_buf_.size() + 16 + data.size()) {
      held_id_ = kNoStream;
      uint8_t hdr[16];
      uint8_t* end = varint_encode(varint_encode(hdr, frame_type::data), data.size());
      append_bytes(held_buf_, Bytes{hdr, static_cast<size_t>(end - hdr)});
      append_bytes(held_buf_, data);
      if (fin) {
        s->send_closed = true;
        s->send = SendPhase::done;
      }
      queue(stream_id, s->out, held_buf_, fin);
      held_buf_.clear();
      return data.size();
    }
    release_held(true);
  }
  flush(stream_id, s->out);
  if (!s->out.empty()) {
    if (data.empty() && fin) {
      // Nothing to take, so the FIN applies: it follows the queued bytes.
      s->out.fin = true;
      s->send_closed = true;
      s->send = SendPhase::done;
      return size_t{0};
    }
    s->app_blocked = true;
    return size_t{0};
  }
  size_t taken = 0;
  if (!data.empty()) {
    if (s->kind == Kind::extension) {
      WT_ASSIGN(taken, quic_.stream_write(stream_id, data, false));
    } else {
      uint64_t room = quic_.stream_writable_bytes(stream_id);
      if (room == 0) {
        // Takes nothing, but makes QUIC report stream_writable later.
        (void)quic_.stream_write(stream_id, data.first(1), false);
        s->app_blocked = true;
        return size_t{0};
      }
      // One DATA frame whose payload fits the room; the few header bytes
      // that may not fit wait in the stream's queue.
      size_t n = static_cast<size_t>(std::min<uint64_t>(data.size(), room));
      const bool last = fin && n == data.size();
      uint8_t hdr[16];
      uint8_t* end = varint_encode(varint_encode(hdr, frame_type::data), n);
      Bytes header{hdr, static_cast<size_t>(end - hdr)};
      if (n <= kCoalescedDataFrame) {
        // Small: header and payload (and the FIN) in one stream_write.
        frame_buf_.assign(header.begin(), header.end());
        append_bytes(frame_buf_, data.first(n));
        queue(stream_id, s->out, frame_buf_, last);
      } else {
        queue(stream_id, s->out, header);
        queue(stream_id, s->out, data.first(n), last);
      }
      taken = n;
    }
  }
  if (taken < data.size()) {
    s->app_blocked = true;
  } else if (fin) {
    s->out.fin = true;
    s->send_closed = true;
    s->send = SendPhase::done;
    flush(stream_id, s->out);
  }
  return taken;
}

Status Connection::finish(uint64_t stream_id) {
  WT_ASSIGN(size_t n, send_data(stream_id, {}, true));
  (void)n;
  return {};
}

Status Connection::send_trailers(uint64_t stream_id, const HeaderList& trailers) {
  Stream* s = find(stream_id);
  if (!s || s->kind != Kind::request) return usage("not a request stream");
  if (s->send != SendPhase::body || s->send_closed) return usage("stream not sending a body");
  // RFC 9114 §4.4: a CONNECT tunnel carries only DATA frames.
  if (s->tunnel) return usage("no trailers on a CONNECT tunnel");
  if (cfg_.validate_outgoing) WT_TRY(validate_trailers(trailers));
  return write_headers(*s, trailers, true);
}

Status Connection::reset_stream(uint64_t stream_id, uint64_t c) {
  Stream* s = find(stream_id);
  if (!s) return usage("unknown stream");
  abort_stream(*s, c, false);
  return {};
}

Status Connection::stop_sending(uint64_t stream_id, uint64_t c) {
  Stream* s = find(stream_id);
  if (!s) return usage("unknown stream");
  if (s->recv_closed) return {};
  if (quic::can_recv_on(stream_id, role_)) (void)quic_.stream_stop_sending(stream_id, c);
  if (s->kind == Kind::request && s->recv == RecvPhase::headers) decoder_.cancel_stream(stream_id);
  s->recv_closed = true;
  s->blocked = false;
  return {};
}

// ---------------------------------------------------------------- priorities

void Connection::apply_priority(uint64_t id, const Priority& p) {
  (void)quic_.stream_set_priority(id, p.urgency, p.incremental);
  if (Stream* s = find(id)) s->priority = p;
}

std::optional<Priority> Connection::stream_priority(uint64_t id) const {
  auto it = streams_.find(id);
  return it == streams_.end() ? std::nullopt : it->second.priority;
}

Status Connection::set_priority(uint64_t stream_id, const Priority& p) {
  if (!find(stream_id)) return usage("unknown stream");
  apply_priority(stream_id, p);
  return {};
}

Status Connection::send_priority_update(uint64_t stream_id, const Priority& p) {
  Stream* s = find(stream_id);
  if (!is_client() || !s || s->kind != Kind::request) return usage("not a request of ours");
  if (!started_ || closed_) return usage("connection not ready");
  // RFC 9218 §7.1: on the control stream, naming the request stream.
  std::vector<uint8_t> b;
  append_frame(b, PriorityUpdateFrame{false, stream_id, format_priority(p)});
  queue(control_id_, control_out_, b);
  apply_priority(stream_id, p);
  return {};
}

// ---------------------------------------------------------------- datagrams

bool Connection::datagrams_enabled() const {
  return local_settings_.get(setting_id::h3_datagram) == 1 && peer_settings_ && peer_settings_->h3_datagram();
}

size_t Connection::max_datagram_payload(uint64_t stream_id) const {
  size_t m = quic_.max_datagram_payload();
  size_t o = http_datagram_overhead(stream_id);
  return m > o ? m - o : 0;
}

Status Connection::send_datagram(uint64_t stream_id, Bytes payload) {
  if (!datagrams_enabled()) return usage("HTTP datagrams not negotiated");
  Stream* s = find(stream_id);
  // RFC 9297 §2: only requests that define datagram semantics (CONNECT
  // with a protocol); §2.1: only while the stream's send side is open.
  if (!s || s->kind != Kind::request || !s->connect_request) return usage("not a CONNECT stream");
  if (s->send_closed) return usage("stream closed for sending");
  return quic_.send_datagram(encode_http_datagram(stream_id, payload));
}

void Connection::on_datagram(Bytes payload) {
  // Without our SETTINGS_H3_DATAGRAM the payload has no HTTP meaning.
  if (local_settings_.get(setting_id::h3_datagram) != 1) return;
  auto d = decode_http_datagram(payload);
  if (!d.ok()) return fail(d.error());  // RFC 9297 §2.1: H3_DATAGRAM_ERROR
  Stream* s = find(d->stream_id);
  // RFC 9297 §2.1: datagrams for streams not yet open, or closed for
  // receiving, are dropped; so are those for a request the server has not
  // read yet. A client takes them before the response, which they may
  // overtake.
  if (!s || s->kind != Kind::request || s->recv_closed || (!is_client() && !s->request_received)) return;
  // RFC 9297 §2: a request without datagram semantics (not CONNECT) is
  // aborted with H3_DATAGRAM_ERROR.
  if (!s->connect_request) return abort_stream(*s, code(H3Error::datagram_error));
  Event e{Event::Type::datagram, d->stream_id};
  e.data.assign(d->payload.begin(), d->payload.end());
  emit(std::move(e));
}

// ---------------------------------------------------------------- extensions

Result<uint64_t> Connection::open_extension_stream(bool bidirectional, uint64_t type) {
  if (closed_) return usage("connection closed");
  maybe_start();
  if (!started_) return usage("connection not established");
  WT_ASSIGN(uint64_t id, quic_.open_stream(bidirectional));
  (void)quic_.stream_set_priority(id, kDefaultUrgency, true);  // extension data shares fairly
  Stream& s = new_stream(id);
  s.local = true;
  s.kind = Kind::extension;
  s.send = SendPhase::body;
  s.recv = bidirectional ? RecvPhase::body : RecvPhase::done;
  s.recv_closed = !bidirectional;
  std::vector<uint8_t> b;
  append_varint(b, type);
  queue(id, s.out, b);
  return id;
}

// ---------------------------------------------------------------- GOAWAY

Status Connection::send_goaway() {
  if (closed_) return usage("connection closed");
  maybe_start();
  if (!started_) return usage("connection not established");
  if (goaway_sent_) return {};
  // RFC 9114 §5.2: a server names the first request stream it will not
  // process; a client names a push ID, and we allow no pushes.
  uint64_t id = 0;
  if (!is_client()) {
    id = max_request_id_ ? *max_request_id_ + 4 : 0;
    goaway_id_ = id;
  }
  std::vector<uint8_t> b;
  append_frame(b, GoawayFrame{id});
  queue(control_id_, control_out_, b);
  goaway_sent_ = true;
  maybe_close_after_goaway();
  return {};
}

void Connection::maybe_close_after_goaway() {
  if (!goaway_sent_ || closed_) return;
  for (const auto& [id, s] : streams_)
    if (s.kind == Kind::request) return;
  close(code(H3Error::no_error), "");
}

void Connection::release_done_streams() {
  for (auto it = streams_.begin(); it != streams_.end();) {
    const Stream& s = it->second;
    const uint64_t id = it->first;
    bool send_done = s.send_reset || !quic::can_send_on(id, role_) || (s.out.fin_written && s.acked);
    bool recv_done = s.recv_closed || !quic::can_recv_on(id, role_);
    if (send_done && recv_done) erase_stream(it++);
    else ++it;
  }
}

}  // namespace wt::h3

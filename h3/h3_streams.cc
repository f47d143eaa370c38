// HTTP/3 session, receive path: the peer's unidirectional streams (control,
// QPACK, extensions, unknown), request streams (frame sequence, QPACK
// decoding, message validation) and read_data().
#include <algorithm>

#include "h3/h3_connection.h"
#include "quic/stream_id.h"

namespace wt::h3 {

namespace {

bool contains(const std::vector<uint64_t>& v, uint64_t x) {
  return std::find(v.begin(), v.end(), x) != v.end();
}

// Stream errors are the ones a single request can cause; everything else
// found on a request stream is a connection error.
bool is_stream_error(const Error& e) {
  return e.application && (e.code == code(H3Error::message_error) || e.code == code(H3Error::excessive_load));
}

}  // namespace

// ---------------------------------------------------------------- new streams

void Connection::on_stream_opened(uint64_t id) {
  if (quic::is_local_stream(id, role_)) return;
  if (quic::is_bidi_stream(id)) {
    (void)accept_peer_bidi(id);
  } else if (!uni_.count(id)) {
    UniStream& u = uni_[id];
    u.parser.set_max_payload(cfg_.max_control_frame);
  }
}

Connection::Stream* Connection::accept_peer_bidi(uint64_t id) {
  if (Stream* s = find(id)) return s;
  if (quic::stream_index(id) < next_peer_bidi_) return nullptr;  // already done with it
  next_peer_bidi_ = quic::stream_index(id) + 1;
  if (is_client()) {
    // RFC 9114 §6.1: no server-initiated bidirectional streams, unless an
    // extension (e.g. WebTransport) was configured for them.
    if (cfg_.extension_bidi_types.empty()) {
      fail(h3_error(H3Error::stream_creation_error, "server-initiated bidirectional stream"));
      return nullptr;
    }
  } else {
    max_request_id_ = std::max(max_request_id_.value_or(0), id);
    // RFC 9114 §5.2: requests at or above our GOAWAY's ID are not processed.
    if (goaway_sent_ && id >= goaway_id_) {
      (void)quic_.stream_reset(id, code(H3Error::request_rejected));
      (void)quic_.stream_stop_sending(id, code(H3Error::request_rejected));
      return nullptr;
    }
  }
  Stream& s = new_stream(id);
  s.parser.set_max_payload(request_frame_limit());
  s.parser.set_external_data(true);  // DATA payloads stay in QUIC for read_data()
  s.sniffing = !cfg_.extension_bidi_types.empty();
  if (auto p = pending_priority_.find(id); p != pending_priority_.end()) {
    apply_priority(id, p->second);
    s.priority_updated = true;
    pending_priority_.erase(p);
  }
  return &s;
}

void Connection::on_readable(uint64_t id) {
  if (!quic::is_bidi_stream(id)) {
    if (quic::is_local_stream(id, role_)) return;
    auto it = uni_.find(id);
    if (it == uni_.end()) {
      Stream* s = find(id);  // a peer extension stream
      if (!s || s->recv_closed) return;
      s->quic_readable = true;
      if (!s->data_notified) {
        s->data_notified = true;
        emit(Event::Type::data, id);
      }
      return;
    }
    read_uni(id, it->second);
    return;
  }
  Stream* s = find(id);
  if (!s && !quic::is_local_stream(id, role_)) s = accept_peer_bidi(id);
  if (!s || s->recv_closed) return;
  s->quic_readable = true;
  if (s->kind == Kind::extension) {
    if (!s->data_notified) {
      s->data_notified = true;
      emit(Event::Type::data, id);
    }
    return;
  }
  pump(*s);
}

// ---------------------------------------------------------------- unidirectional

bool Connection::read_uni_type(uint64_t id, UniStream& u) {
  while (u.type_len == 0 || u.type_len < varint_size_from_first(u.type_buf[0])) {
    size_t need = u.type_len == 0 ? 1 : varint_size_from_first(u.type_buf[0]) - u.type_len;
    auto r = quic_.stream_read(id, MutBytes{u.type_buf + u.type_len, need});
    if (!r.ok()) return false;
    u.type_len += r->bytes;
    if (r->fin && (u.type_len == 0 || u.type_len < varint_size_from_first(u.type_buf[0]))) {
      // RFC 9114 §6.2: streams may end before their type; tolerate that.
      uni_.erase(id);
      return false;
    }
    u.fin = r->fin;
    if (r->bytes == 0) return false;
  }
  uint64_t type = 0;
  varint_decode(u.type_buf, u.type_buf + u.type_len, type);
  switch (type) {
    case stream_type::control:
      // RFC 9114 §6.2.1: only one control stream per peer.
      if (peer_control_) {
        fail(h3_error(H3Error::stream_creation_error, "second control stream"));
        return false;
      }
      peer_control_ = id;
      u.kind = UniKind::control;
      return true;
    case stream_type::push:
      // RFC 9114 §6.2.2: only servers push; we never sent MAX_PUSH_ID, so
      // every push ID exceeds our limit (§4.6).
      fail(is_client() ? h3_error(H3Error::id_error, "push stream without MAX_PUSH_ID")
                       : h3_error(H3Error::stream_creation_error, "push stream from a client"));
      return false;
    case stream_type::qpack_encoder:
    case stream_type::qpack_decoder: {
      // RFC 9204 §4.2: one of each.
      auto& slot = type == stream_type::qpack_encoder ? peer_encoder_ : peer_decoder_;
      if (slot) {
        fail(h3_error(H3Error::stream_creation_error, "second QPACK stream"));
        return false;
      }
      slot = id;
      u.kind = type == stream_type::qpack_encoder ? UniKind::encoder : UniKind::decoder;
      return true;
    }
    default:
      break;
  }
  if (contains(cfg_.extension_uni_types, type)) {
    const bool fin = u.fin;
    uni_.erase(id);
    Stream& s = new_stream(id);
    s.send = SendPhase::done;
    s.send_closed = true;
    start_extension_stream(s, type, fin);
    return false;
  }
  // RFC 9114 §6.2: unknown types (GREASE included) are not read; abort
  // reading with H3_STREAM_CREATION_ERROR.
  (void)quic_.stream_stop_sending(id, code(H3Error::stream_creation_error));
  uni_.erase(id);  // later events for it find nothing and are ignored
  return false;
}

void Connection::start_extension_stream(Stream& s, uint64_t type, bool fin) {
  s.kind = Kind::extension;
  if (quic::can_send_on(s.id, role_)) (void)quic_.stream_set_priority(s.id, kDefaultUrgency, true);
  s.recv = RecvPhase::body;
  Event e{Event::Type::extension_stream, s.id};
  e.code = type;
  emit(std::move(e));
  if (fin) {  // nothing after the type
    s.recv = RecvPhase::done;
    s.recv_closed = true;
    emit(Event::Type::finished, s.id);
    return;
  }
  s.quic_readable = true;
  s.data_notified = true;
  emit(Event::Type::data, s.id);
}

void Connection::read_uni(uint64_t id, UniStream& u) {
  if (u.kind == UniKind::pending) {
    if (!read_uni_type(id, u)) return;
    // RFC 9114 §6.2.1, RFC 9204 §4.2: critical streams never end.
    if (u.fin) return fail(h3_error(H3Error::closed_critical_stream, "critical stream closed"));
  }
  switch (u.kind) {
    case UniKind::control: read_control(id, u); break;
    case UniKind::encoder:
    case UniKind::decoder: read_qpack_stream(id, u); break;
    case UniKind::pending: break;
  }
}

void Connection::read_qpack_stream(uint64_t id, UniStream& u) {
  while (!closed_) {
    auto r = quic_.stream_read(id, MutBytes{scratch_});
    if (!r.ok()) return;
    if (r->bytes) {
      Bytes in{scratch_.data(), r->bytes};
      Status st = u.kind == UniKind::encoder ? decoder_.on_encoder_stream_bytes(in)
                                             : encoder_.on_decoder_stream_bytes(in);
      if (!st.ok()) return fail(st.error());  // QPACK_*_STREAM_ERROR
      if (u.kind == UniKind::encoder) retry_blocked();
    }
    // RFC 9204 §4.2: closing either QPACK stream is a connection error.
    if (r->fin) return fail(h3_error(H3Error::closed_critical_stream, "QPACK stream closed"));
    if (r->bytes < scratch_.size()) break;
  }
}

void Connection::retry_blocked() {
  for (auto& u : decoder_.take_unblocked()) {
    Stream* s = find(u.stream_id);
    if (!s || !s->blocked) continue;
    s->blocked = false;
    on_decoded(*s, std::move(u.headers));
    if (!failed_ && !s->recv_closed) pump(*s);
  }
}

// ---------------------------------------------------------------- control stream

void Connection::read_control(uint64_t id, UniStream& u) {
  while (!closed_) {
    auto r = quic_.stream_read(id, MutBytes{scratch_});
    if (!r.ok()) return;
    Bytes in{scratch_.data(), r->bytes};
    while (!closed_) {
      auto it = u.parser.next(in);
      if (!it.ok()) return fail(it.error());
      if (it->kind == FrameParser::Kind::need_more) break;
      Status st;
      if (!u.settings_seen && u.parser.frames_skipped() > 0) {
        st = h3_error(H3Error::missing_settings, "control stream must start with SETTINGS");
      } else if (it->kind == FrameParser::Kind::data) {
        st = u.settings_seen ? h3_error(H3Error::frame_unexpected, "DATA on the control stream")
                             : h3_error(H3Error::missing_settings, "control stream must start with SETTINGS");
      } else {
        st = on_control_frame(u, it->type, it->payload);
      }
      if (!st.ok()) return fail(st.error());
    }
    // RFC 9114 §6.2.1: the first frame is SETTINGS; an unknown frame or a
    // DATA header before it is H3_MISSING_SETTINGS too.
    if (!u.settings_seen && (u.parser.frames_skipped() > 0 || u.parser.data_remaining() > 0))
      return fail(h3_error(H3Error::missing_settings, "control stream must start with SETTINGS"));
    if (u.parser.data_remaining() > 0)
      return fail(h3_error(H3Error::frame_unexpected, "DATA on the control stream"));  // §7.2.1
    // RFC 9114 §6.2.1: closing the control stream is a connection error.
    if (r->fin) return fail(h3_error(H3Error::closed_critical_stream, "control stream closed"));
    if (r->bytes < scratch_.size()) break;
  }
}

Status Connection::on_control_frame(UniStream& u, uint64_t type, Bytes payload) {
  if (!u.settings_seen) {
    if (type != frame_type::settings)
      return h3_error(H3Error::missing_settings, "control stream must start with SETTINGS");
    u.settings_seen = true;
    return on_peer_settings(payload);
  }
  switch (type) {
    case frame_type::settings:  // RFC 9114 §7.2.4: exactly once
      return h3_error(H3Error::frame_unexpected, "second SETTINGS");
    case frame_type::headers:  // RFC 9114 §7.2.2
    case frame_type::push_promise:  // §7.2.5
      return h3_error(H3Error::frame_unexpected, "request frame on the control stream");
    case frame_type::goaway:
      return on_goaway(payload);
    case frame_type::max_push_id: {
      // RFC 9114 §7.2.7: only clients send it, and it never decreases.
      if (is_client()) return h3_error(H3Error::frame_unexpected, "MAX_PUSH_ID from a server");
      WT_ASSIGN(uint64_t id, decode_id_payload(payload));
      if (max_push_id_received_ && id < *max_push_id_received_)
        return h3_error(H3Error::id_error, "MAX_PUSH_ID decreased");
      max_push_id_received_ = id;
      return {};
    }
    case frame_type::cancel_push: {
      WT_ASSIGN(uint64_t id, decode_id_payload(payload));
      (void)id;
      // RFC 9114 §7.2.3: a server never promised this push; a client never
      // sent MAX_PUSH_ID, so every push ID is above its limit.
      return h3_error(H3Error::id_error, "CANCEL_PUSH for a push never allowed");
    }
    case frame_type::priority_update_request:
    case frame_type::priority_update_push:
      // RFC 9218 §7.1: only clients send PRIORITY_UPDATE.
      if (is_client()) return h3_error(H3Error::frame_unexpected, "PRIORITY_UPDATE from a server");
      return on_priority_update(type, payload);
    default:
      return {};
  }
}

Status Connection::on_peer_settings(Bytes payload) {
  WT_ASSIGN(Settings s, parse_settings(payload));
  // RFC 9297 §2.1.1: HTTP/3 datagrams ride on QUIC DATAGRAM frames; a peer
  // offering them without max_datagram_frame_size is inconsistent (an
  // H3_SETTINGS_ERROR, as other stacks treat it).
  if (s.get(setting_id::h3_datagram) == 1 && quic_.peer_params().max_datagram_frame_size == 0)
    return h3_error(H3Error::settings_error, "H3_DATAGRAM without max_datagram_frame_size");
  encoder_.set_peer_settings(s.qpack_max_table_capacity(), s.qpack_blocked_streams(),
                             s.max_field_section_size());
  peer_settings_ = std::move(s);
  emit(Event::Type::settings);
  flush_qpack();
  return {};
}

Status Connection::on_goaway(Bytes payload) {
  WT_ASSIGN(uint64_t id, decode_id_payload(payload));
  // RFC 9114 §5.2 / §7.2.6: a server names a client-initiated bidirectional
  // stream; the ID never increases.
  if (is_client() && quic::stream_type_bits(id) != 0)
    return h3_error(H3Error::id_error, "GOAWAY ID is not a request stream");
  if (goaway_received_ && id > *goaway_received_) return h3_error(H3Error::id_error, "GOAWAY ID increased");
  goaway_received_ = id;
  Event e{Event::Type::goaway};
  e.code = id;
  emit(std::move(e));
  if (is_client()) {
    // RFC 9114 §5.2: requests at or above the ID will not be processed; the
    // application may retry them elsewhere.
    for (auto& [sid, s] : streams_) {
      if (s.kind != Kind::request || sid < id || (s.recv_closed && s.send_closed)) continue;
      abort_stream(s, code(H3Error::request_cancelled), false);
      emit(Event::Type::stream_error, sid, code(H3Error::request_rejected));
    }
  }
  return {};
}

Status Connection::on_priority_update(uint64_t type, Bytes payload) {
  WT_ASSIGN(PriorityUpdateFrame f, decode_priority_update(type, payload));
  // RFC 9218 §7.2: a push ID must not exceed our limit; we allow no pushes.
  if (f.push) return h3_error(H3Error::id_error, "PRIORITY_UPDATE for a push");
  // RFC 9218 §7.1: the element is a client-initiated bidirectional stream,
  // within the stream limit we granted.
  if (quic::stream_type_bits(f.element_id) != 0)
    return h3_error(H3Error::id_error, "PRIORITY_UPDATE for a non-request stream");
  if (quic::stream_index(f.element_id) >= next_peer_bidi_ + quic_.config().max_streams_bidi)
    return h3_error(H3Error::id_error, "PRIORITY_UPDATE beyond the stream limit");
  auto p = parse_priority(f.field_value);
  if (!p) return {};  // RFC 9218 §4: an unparsable value is ignored
  if (Stream* s = find(f.element_id); s && s->kind == Kind::request) {
    apply_priority(f.element_id, *p);
    s->priority_updated = true;
  } else if (quic::stream_index(f.element_id) >= next_peer_bidi_) {
    // RFC 9218 §7.1: the stream may not be open yet; keep the latest.
    if (pending_priority_.size() < cfg_.max_pending_priority_updates || pending_priority_.count(f.element_id))
      pending_priority_[f.element_id] = *p;
  }
  return {};
}

// ---------------------------------------------------------------- request streams

bool Connection::sniff(Stream& s) {
  while (s.sniff_len == 0 || s.sniff_len < varint_size_from_first(s.sniff[0])) {
    size_t need = s.sniff_len == 0 ? 1 : varint_size_from_first(s.sniff[0]) - s.sniff_len;
    auto r = quic_.stream_read(s.id, MutBytes{s.sniff + s.sniff_len, need});
    if (!r.ok()) return false;
    s.sniff_len += r->bytes;
    if (r->fin && s.sniff_len < (s.sniff_len ? varint_size_from_first(s.sniff[0]) : 1)) {
      s.sniffing = false;
      if (s.sniff_len == 0) on_fin(s);  // an empty stream: no request
      else fail(h3_error(H3Error::frame_error, "stream ended inside a frame"));  // RFC 9114 §7.1
      return false;
    }
    if (r->fin) s.fin_pending = true;
    if (r->bytes == 0) {
      s.quic_readable = false;
      return false;
    }
  }
  uint64_t type = 0;
  varint_decode(s.sniff, s.sniff + s.sniff_len, type);
  s.sniffing = false;
  if (contains(cfg_.extension_bidi_types, type)) {
    s.send = SendPhase::body;
    const bool fin = s.fin_pending;
    s.fin_pending = false;
    start_extension_stream(s, type, fin);
    return false;
  }
  if (is_client()) {
    fail(h3_error(H3Error::stream_creation_error, "server-initiated bidirectional stream"));
    return false;
  }
  // An ordinary request: the bytes begin its first frame header.
  Bytes in{s.sniff, s.sniff_len};
  auto it = s.parser.next(in);
  (void)it;  // only a type varint: the parser needs more
  return true;
}

void Connection::pump(Stream& s) {
  while (!failed_ && !s.recv_closed && !s.blocked && s.kind == Kind::request) {
    if (s.fin_pending) return on_fin(s);
    if (s.sniffing) {
      if (!sniff(s)) return;
      continue;
    }
    if (s.parser.data_remaining() > 0) {
      // A DATA payload: the application reads it with read_data().
      if (s.quic_readable && !s.data_notified) {
        s.data_notified = true;
        emit(Event::Type::data, s.id);
      }
      return;
    }
    if (!s.quic_readable) return;
    // Frames are parsed in place in QUIC's receive buffer; a DATA payload
    // stays there for read_data() (the parser stops at it).
    auto pk = quic_.stream_peek(s.id);
    if (!pk.ok()) return;  // reset: the stream_reset event follows
    if (pk->data.empty() && !pk->fin) {
      s.quic_readable = false;
      return;
    }
    Bytes in = pk->data;
    while (!failed_ && !s.recv_closed && !s.blocked) {
      auto it = s.parser.next(in);
      Status st;
      if (!it.ok()) {
        st = it.error();
      } else if (it->kind == FrameParser::Kind::need_more) {
        break;
      } else if (it->kind == FrameParser::Kind::data) {
        st = on_data_frame_start(s, 0);  // an empty DATA frame
      } else {
        st = on_request_frame(s, it->type, it->payload);
      }
      if (!st.ok()) {
        if (is_stream_error(st.error())) abort_stream(s, st.error().code);
        else fail(st.error());
        return;
      }
    }
    if (failed_ || s.recv_closed) return;
    // What was parsed leaves QUIC's buffer (field sections are decoded by now).
    auto r = quic_.stream_consume(s.id, pk->data.size() - in.size());
    if (!r.ok()) return;
    // A DATA frame header was just read: check it before announcing data.
    if (uint64_t len = s.parser.data_remaining(); len > 0) {
      if (Status st = on_data_frame_start(s, len); !st.ok()) {
        if (is_stream_error(st.error())) abort_stream(s, st.error().code);
        else fail(st.error());
        return;
      }
    }
    if (r->fin) {
      // RFC 9204 §2.2.1: a blocked field section is still to come.
      if (s.blocked) s.fin_pending = true;
      else return on_fin(s);
    }
  }
}

Status Connection::on_data_frame_start(Stream& s, uint64_t length) {
  // RFC 9114 §4.1: DATA only between the header section and the trailers.
  if (s.recv == RecvPhase::headers) return h3_error(H3Error::frame_unexpected, "DATA before HEADERS");
  if (s.recv != RecvPhase::body) return h3_error(H3Error::frame_unexpected, "DATA after trailers");
  s.body_received += length;
  // RFC 9114 §4.1.2: more content than content-length is malformed.
  if (!s.tunnel && s.content_length && s.body_received > *s.content_length)
    return h3_error(H3Error::message_error, "DATA exceeds content-length");
  return {};
}

Status Connection::on_request_frame(Stream& s, uint64_t type, Bytes payload) {
  switch (type) {
    case frame_type::headers:
      if (s.recv == RecvPhase::body && s.tunnel)  // RFC 9114 §4.4: only DATA in a tunnel
        return h3_error(H3Error::frame_unexpected, "HEADERS in a CONNECT tunnel");
      if (s.recv == RecvPhase::trailers)  // RFC 9114 §4.1: nothing after trailers
        return h3_error(H3Error::frame_unexpected, "HEADERS after trailers");
      decode_headers(s, payload);
      return {};
    case frame_type::push_promise:
      // RFC 9114 §7.2.5: clients never push; a client never sent MAX_PUSH_ID.
      if (!is_client()) return h3_error(H3Error::frame_unexpected, "PUSH_PROMISE from a client");
      return h3_error(H3Error::id_error, "PUSH_PROMISE without MAX_PUSH_ID");
    default:
      // RFC 9114 §7.2.3/§7.2.4/§7.2.6/§7.2.7, RFC 9218 §7.1: control frames.
      return h3_error(H3Error::frame_unexpected, "control frame on a request stream");
  }
}

void Connection::decode_headers(Stream& s, Bytes block) {
  HeaderList fields;
  if (!spare_lists_.empty()) {
    fields = std::move(spare_lists_.back());
    spare_lists_.pop_back();
  }
  auto r = decoder_.decode_into(s.id, block, fields);
  if (!r.ok() || *r == QpackDecoder::Outcome::blocked) recycle(std::move(fields));
  if (!r.ok()) return on_decoded(s, r.error());
  if (*r == QpackDecoder::Outcome::blocked) {
    s.blocked = true;  // RFC 9204 §2.2.1: resumes in retry_blocked()
    return;
  }
  on_decoded(s, std::move(fields));
}

void Connection::on_decoded(Stream& s, Result<HeaderList> fields) {
  // Section Acknowledgment: process() writes them all at its end.
  if (!in_process_) flush_qpack();
  if (!fields.ok()) {
    if (is_stream_error(fields.error())) abort_stream(s, code(H3Error::message_error));
    else fail(fields.error());  // QPACK_DECOMPRESSION_FAILED
    return;
  }
  HeaderList& f = *fields;
  if (s.recv == RecvPhase::body) {
    // RFC 9114 §4.1: trailers; RFC 9114 §4.3: no pseudo-header fields.
    if (!validate_trailers(f).ok()) return abort_stream(s, code(H3Error::message_error));
    s.recv = RecvPhase::trailers;
    emit(Event::Type::trailers, s.id);
    events_.back().fields = std::move(f);
    return;
  }
  int status = 0;
  if (!is_client()) {
    RequestRules rules;
    rules.connect_protocol_enabled = cfg_.enable_connect_protocol;
    auto h = validate_request_view(f, rules);
    // RFC 9114 §4.1.2: a malformed request is a stream error H3_MESSAGE_ERROR.
    if (!h.ok()) return abort_stream(s, code(H3Error::message_error));
    s.request_received = true;
    s.connect_request = h->is_connect();
    s.tunnel = h->is_connect();
    s.content_length = h->content_length;
    // RFC 9218 §4, §7: the header (or the defaults, u=3 non-incremental)
    // sets the priority unless a PRIORITY_UPDATE already did.
    if (!s.priority_updated) apply_priority(s.id, priority_of(f));
  } else {
    auto h = validate_response(f);
    if (!h.ok()) return abort_stream(s, code(H3Error::message_error));
    status = h->status;
    if (!h->informational()) {
      // RFC 9114 §4.4: a 2xx to CONNECT makes the stream a tunnel.
      s.tunnel = s.connect_request && h->status >= 200 && h->status < 300;
      // RFC 9114 §4.1.2: responses that never have content.
      s.content_length = response_has_no_content(s.head_request, h->status) ? 0 : h->content_length;
    }
  }
  // RFC 9114 §4.1: 1xx responses come before the final one.
  if (status < 100 || status >= 200) s.recv = RecvPhase::body;
  emit(Event::Type::headers, s.id);
  Event& e = events_.back();
  e.status = status;
  e.fields = std::move(f);
}

void Connection::on_fin(Stream& s) {
  // RFC 9114 §7.1: a stream ending inside a frame is H3_FRAME_ERROR.
  if (!s.parser.at_boundary()) return fail(h3_error(H3Error::frame_error, "stream ended inside a frame"));
  if (s.recv == RecvPhase::headers) {
    // RFC 9114 §4.1.2: a request stream that ends without a request.
    return abort_stream(s, code(is_client() ? H3Error::message_error : H3Error::request_incomplete));
  }
  // RFC 9114 §4.1.2: content-length must match the DATA received.
  if (!s.tunnel && s.content_length && s.body_received != *s.content_length)
    return abort_stream(s, code(H3Error::message_error));
  s.recv = RecvPhase::done;
  s.recv_closed = true;
  emit(Event::Type::finished, s.id);
}

void Connection::abort_stream(Stream& s, uint64_t c, bool report) {
  // RFC 9114 §8: a stream error aborts both directions with the code.
  if (quic::can_send_on(s.id, role_) && !s.send_reset) {
    (void)quic_.stream_reset(s.id, c);
    s.send_reset = true;
    s.send_closed = true;
    s.send = SendPhase::done;
    s.out = SendQueue{};
    if (held_id_ == s.id) release_held(false);
  }
  if (quic::can_recv_on(s.id, role_) && !s.recv_closed) {
    (void)quic_.stream_stop_sending(s.id, c);
    // RFC 9204 §2.2.2.2: tell the encoder its section will not be read.
    if (s.kind == Kind::request && s.recv == RecvPhase::headers) decoder_.cancel_stream(s.id);
  }
  if (!s.recv_closed) {
    s.recv_failed = true;
    s.recv_error = c;
  }
  s.recv_closed = true;
  s.blocked = false;
  s.app_blocked = false;
  if (report) emit(Event::Type::stream_error, s.id, c);
}

// ---------------------------------------------------------------- peer resets

void Connection::on_peer_reset(uint64_t id, uint64_t c) {
  if ((peer_control_ && id == *peer_control_) || (peer_encoder_ && id == *peer_encoder_) ||
      (peer_decoder_ && id == *peer_decoder_))
    return fail(h3_error(H3Error::closed_critical_stream, "critical stream reset"));  // RFC 9114 §6.2.1
  if (uni_.erase(id)) return;  // RFC 9114 §6.2: tolerated before the type
  Stream* s = find(id);
  if (!s || s->recv_closed) return;
  if (s->kind == Kind::request && s->recv == RecvPhase::headers) decoder_.cancel_stream(id);
  s->recv_closed = true;
  s->recv_failed = true;
  s->recv_error = c;
  s->blocked = false;
  (void)quic_.stream_read(id, {});  // takes note of the reset so QUIC can free the stream
  emit(Event::Type::stream_reset, id, c);
}

void Connection::on_peer_stop_sending(uint64_t id, uint64_t c) {
  if (id == control_id_ || id == encoder_id_ || id == decoder_id_)
    return fail(h3_error(H3Error::closed_critical_stream, "critical stream stopped"));  // RFC 9114 §6.2.1
  Stream* s = find(id);
  if (!s || s->send_reset) return;
  // QUIC answered with RESET_STREAM (RFC 9000 §3.5).
  s->send_reset = true;
  s->send_closed = true;
  s->send = SendPhase::done;
  s->out = SendQueue{};
  if (held_id_ == id) release_held(false);
  s->app_blocked = false;
  emit(Event::Type::stop_sending, id, c);
}

// ---------------------------------------------------------------- reading

Result<DataRead> Connection::read_data(uint64_t stream_id, MutBytes out) {
  Stream* s = find(stream_id);
  if (!s) return h3_error(H3Error::internal_error, "unknown stream");
  if (s->recv_failed) return Error::app(s->recv_error, "stream reset");
  if (s->recv_closed) return DataRead{0, s->recv == RecvPhase::done};
  if (s->kind == Kind::extension) {
    auto r = quic_.stream_read(stream_id, out);
    if (!r.ok()) return r.error();
    if (r->fin) {
      s->recv_closed = true;
      s->recv = RecvPhase::done;
      emit(Event::Type::finished, stream_id);
    } else if (r->bytes < out.size()) {
      s->quic_readable = false;
      s->data_notified = false;
    }
    return DataRead{r->bytes, r->fin};
  }
  if (s->recv != RecvPhase::body || s->blocked || s->sniffing) return DataRead{};
  size_t total = 0;
  s->data_notified = true;  // no data events for what we read here
  while (total < out.size() && !s->recv_closed && !failed_) {
    uint64_t rem = s->parser.data_remaining();
    if (rem == 0) {
      pump(*s);  // trailers, the next DATA header, or the end
      if (s->parser.data_remaining() == 0) break;
      continue;
    }
    size_t n = static_cast<size_t>(std::min<uint64_t>(rem, out.size() - total));
    auto r = quic_.stream_read(stream_id, out.subspan(total, n));
    if (!r.ok()) break;
    s->parser.consume_data(r->bytes);
    total += r->bytes;
    if (r->fin) {
      on_fin(*s);
      break;
    }
    if (r->bytes < n) {
      s->quic_readable = false;
      break;
    }
  }
  const bool fin = s->recv == RecvPhase::done;
  if (total < out.size() && !fin) s->data_notified = false;  // drained: notify again
  return DataRead{total, fin};
}

}  // namespace wt::h3

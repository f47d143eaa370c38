#include "h3/h3_frame.h"

#include <algorithm>
#include <type_traits>

#include "h3/h3_error.h"

namespace wt::h3 {

uint64_t frame_type_of(const Frame& f) {
  return std::visit(
      [](const auto& x) -> uint64_t {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, DataFrame>) return frame_type::data;
        else if constexpr (std::is_same_v<T, HeadersFrame>) return frame_type::headers;
        else if constexpr (std::is_same_v<T, CancelPushFrame>) return frame_type::cancel_push;
        else if constexpr (std::is_same_v<T, SettingsFrame>) return frame_type::settings;
        else if constexpr (std::is_same_v<T, PushPromiseFrame>) return frame_type::push_promise;
        else if constexpr (std::is_same_v<T, GoawayFrame>) return frame_type::goaway;
        else if constexpr (std::is_same_v<T, MaxPushIdFrame>) return frame_type::max_push_id;
        else if constexpr (std::is_same_v<T, PriorityUpdateFrame>)
          return x.push ? frame_type::priority_update_push : frame_type::priority_update_request;
        else return x.type;
      },
      f);
}

void append_frame_header(std::vector<uint8_t>& out, uint64_t type, uint64_t length) {
  append_varint(out, type);
  append_varint(out, length);
}

void append_frame(std::vector<uint8_t>& out, uint64_t type, Bytes payload) {
  append_frame_header(out, type, payload.size());
  append_bytes(out, payload);
}

namespace {

size_t payload_size(const Frame& f) {
  return std::visit(
      [](const auto& x) -> size_t {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, DataFrame> || std::is_same_v<T, UnknownFrame>)
          return x.payload.size();
        else if constexpr (std::is_same_v<T, HeadersFrame>) return x.field_block.size();
        else if constexpr (std::is_same_v<T, CancelPushFrame> || std::is_same_v<T, MaxPushIdFrame>)
          return varint_size(x.push_id);
        else if constexpr (std::is_same_v<T, GoawayFrame>) return varint_size(x.id);
        else if constexpr (std::is_same_v<T, SettingsFrame>) {
          size_t n = 0;
          for (const Setting& s : x.entries) n += varint_size(s.id) + varint_size(s.value);
          return n;
        } else if constexpr (std::is_same_v<T, PushPromiseFrame>)
          return varint_size(x.push_id) + x.field_block.size();
        else return varint_size(x.element_id) + x.field_value.size();
      },
      f);
}

void append_payload(std::vector<uint8_t>& out, const Frame& f) {
  std::visit(
      [&](const auto& x) {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, DataFrame> || std::is_same_v<T, UnknownFrame>)
          append_bytes(out, x.payload);
        else if constexpr (std::is_same_v<T, HeadersFrame>) append_bytes(out, x.field_block);
        else if constexpr (std::is_same_v<T, CancelPushFrame> || std::is_same_v<T, MaxPushIdFrame>)
          append_varint(out, x.push_id);
        else if constexpr (std::is_same_v<T, GoawayFrame>) append_varint(out, x.id);
        else if constexpr (std::is_same_v<T, SettingsFrame>) {
          for (const Setting& s : x.entries) {
            append_varint(out, s.id);
            append_varint(out, s.value);
          }
        } else if constexpr (std::is_same_v<T, PushPromiseFrame>) {
          append_varint(out, x.push_id);
          append_bytes(out, x.field_block);
        } else {
          append_varint(out, x.element_id);
          append_bytes(out, as_bytes(x.field_value));
        }
      },
      f);
}

}  // namespace

void append_frame(std::vector<uint8_t>& out, const Frame& f) {
  append_frame_header(out, frame_type_of(f), payload_size(f));
  append_payload(out, f);
}

std::vector<uint8_t> encode_frame(const Frame& f) {
  std::vector<uint8_t> out;
  out.reserve(encoded_size(f));
  append_frame(out, f);
  return out;
}

size_t encoded_size(const Frame& f) {
  size_t n = payload_size(f);
  return frame_header_size(frame_type_of(f), n) + n;
}

// ---------------------------------------------------------------- payloads

Result<uint64_t> decode_id_payload(Bytes payload) {
  Reader r{payload};
  uint64_t id = r.varint();
  // RFC 9114 §7.1: exactly the identified fields, nothing more or less.
  if (!r.ok() || !r.empty()) return h3_error(H3Error::frame_error, "bad ID frame payload");
  return id;
}

Result<PriorityUpdateFrame> decode_priority_update(uint64_t type, Bytes payload) {
  Reader r{payload};
  PriorityUpdateFrame f;
  f.push = type == frame_type::priority_update_push;
  if (!r.varint(f.element_id)) return h3_error(H3Error::frame_error, "truncated PRIORITY_UPDATE");
  Bytes v = r.rest();
  f.field_value.assign(reinterpret_cast<const char*>(v.data()), v.size());
  return f;
}

Result<std::vector<Setting>> decode_settings_payload(Bytes payload) {
  Reader r{payload};
  std::vector<Setting> out;
  while (!r.empty()) {
    Setting s;
    // RFC 9114 §7.2.4: pairs of varints; a truncated pair is malformed.
    if (!r.varint(s.id) || !r.varint(s.value))
      return h3_error(H3Error::frame_error, "truncated SETTINGS entry");
    out.push_back(s);
  }
  return out;
}

Result<Frame> decode_frame_payload(uint64_t type, Bytes payload) {
  if (is_http2_reserved_frame(type))
    return h3_error(H3Error::frame_unexpected, "HTTP/2 frame type");  // RFC 9114 §7.2.8
  switch (type) {
    case frame_type::data:
      return Frame{DataFrame{{payload.begin(), payload.end()}}};
    case frame_type::headers:
      return Frame{HeadersFrame{{payload.begin(), payload.end()}}};
    case frame_type::cancel_push: {
      WT_ASSIGN(uint64_t id, decode_id_payload(payload));
      return Frame{CancelPushFrame{id}};
    }
    case frame_type::settings: {
      WT_ASSIGN(auto entries, decode_settings_payload(payload));
      return Frame{SettingsFrame{std::move(entries)}};
    }
    case frame_type::push_promise: {
      Reader r{payload};
      PushPromiseFrame f;
      if (!r.varint(f.push_id)) return h3_error(H3Error::frame_error, "truncated PUSH_PROMISE");
      Bytes rest = r.rest();
      f.field_block.assign(rest.begin(), rest.end());
      return Frame{std::move(f)};
    }
    case frame_type::goaway: {
      WT_ASSIGN(uint64_t id, decode_id_payload(payload));
      return Frame{GoawayFrame{id}};
    }
    case frame_type::max_push_id: {
      WT_ASSIGN(uint64_t id, decode_id_payload(payload));
      return Frame{MaxPushIdFrame{id}};
    }
    case frame_type::priority_update_request:
    case frame_type::priority_update_push: {
      WT_ASSIGN(auto f, decode_priority_update(type, payload));
      return Frame{std::move(f)};
    }
    default:
      return Frame{UnknownFrame{type, {payload.begin(), payload.end()}}};
  }
}

// ---------------------------------------------------------------- parser

uint64_t FrameParser::wanted() const {
  switch (state_) {
    case State::header:
      return hdr_.missing();
    case State::buffered:
    case State::data:
    case State::skip:
      return remaining_;
  }
  return 0;
}

void FrameParser::consume_data(uint64_t n) {
  if (state_ != State::data) return;
  remaining_ -= std::min(n, remaining_);
  if (remaining_ == 0) {
    state_ = State::header;
    hdr_.reset();
  }
}

Result<FrameParser::Item> FrameParser::start_frame() {
  hdr_.reset();
  remaining_ = length_;
  if (is_http2_reserved_frame(type_))
    return h3_error(H3Error::frame_unexpected, "HTTP/2 frame type");  // RFC 9114 §7.2.8
  if (type_ == frame_type::data) {
    if (length_ == 0) return Item{Kind::data, type_, {}, true};
    state_ = State::data;
    return Item{};
  }
  if (is_buffered_frame(type_)) {
    if (length_ > max_payload_) return h3_error(H3Error::excessive_load, "frame too large");
    if (length_ == 0) return Item{Kind::frame, type_, {}, false};
    state_ = State::buffered;
    buf_.clear();
    return Item{};
  }
  // RFC 9114 §9: unknown frame types (GREASE among them) are ignored.
  ++skipped_;
  if (length_ > 0) state_ = State::skip;
  return Item{};
}

Result<FrameParser::Item> FrameParser::next(Bytes& in) {
  while (true) {
    switch (state_) {
      case State::header: {
        if (in.empty()) return Item{};
        if (hdr_.empty() && in.size() >= 2) {
          // Fast path: the whole header is in `in` (no copy into hdr_).
          const size_t tl = varint_size_from_first(in[0]);
          if (in.size() > tl) {
            const size_t ll = varint_size_from_first(in[tl]);
            if (in.size() >= tl + ll) {
              varint_decode(in.data(), in.data() + tl, type_);
              varint_decode(in.data() + tl, in.data() + tl + ll, length_);
              in = in.subspan(tl + ll);
              WT_ASSIGN(Item it, start_frame());
              if (it.kind != Kind::need_more) return it;
              break;
            }
          }
        }
        if (!hdr_.feed(in)) break;
        type_ = hdr_.type();
        length_ = hdr_.length();
        WT_ASSIGN(Item it, start_frame());
        if (it.kind != Kind::need_more) return it;
        break;
      }
      case State::buffered: {
        if (in.empty()) return Item{};
        if (buf_.empty() && in.size() >= remaining_) {  // whole payload present: no copy
          Bytes p = in.first(static_cast<size_t>(remaining_));
          in = in.subspan(p.size());
          state_ = State::header;
          return Item{Kind::frame, type_, p, false};
        }
        size_t n = static_cast<size_t>(std::min<uint64_t>(remaining_, in.size()));
        buf_.insert(buf_.end(), in.begin(), in.begin() + static_cast<ptrdiff_t>(n));
        in = in.subspan(n);
        remaining_ -= n;
        if (remaining_ == 0) {
          state_ = State::header;
          return Item{Kind::frame, type_, Bytes{buf_}, false};
        }
        break;
      }
      case State::data: {
        if (in.empty() || external_data_) return Item{};
        size_t n = static_cast<size_t>(std::min<uint64_t>(remaining_, in.size()));
        Bytes chunk = in.first(n);
        in = in.subspan(n);
        remaining_ -= n;
        const bool end = remaining_ == 0;
        if (end) state_ = State::header;
        return Item{Kind::data, type_, chunk, end};
      }
      case State::skip: {
        if (in.empty()) return Item{};
        size_t n = static_cast<size_t>(std::min<uint64_t>(remaining_, in.size()));
        in = in.subspan(n);
        remaining_ -= n;
        if (remaining_ == 0) state_ = State::header;
        break;
      }
    }
  }
}

}  // namespace wt::h3

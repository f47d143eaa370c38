// HTTP/3 frames (RFC 9114 §7): Type (i), Length (i), Payload. Encoders
// append to a byte vector; FrameParser parses incrementally from input cut at
// arbitrary byte boundaries, streams DATA payloads without buffering, buffers
// other known frames up to a limit and skips unknown and GREASE frames.
#pragma once
#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "h3/type_length_header.h"
#include "lib/bytes.h"
#include "lib/result.h"

namespace wt::h3 {

namespace frame_type {
inline constexpr uint64_t data = 0x00;
inline constexpr uint64_t headers = 0x01;
inline constexpr uint64_t cancel_push = 0x03;
inline constexpr uint64_t settings = 0x04;
inline constexpr uint64_t push_promise = 0x05;
inline constexpr uint64_t goaway = 0x07;
inline constexpr uint64_t max_push_id = 0x0d;
inline constexpr uint64_t priority_update_request = 0xf0700;  // RFC 9218 §7.1
inline constexpr uint64_t priority_update_push = 0xf0701;
}  // namespace frame_type

// RFC 9114 §7.2.8 / §6.2.3 / §7.2.4.1 / §8.1: 0x1f * N + 0x21 is reserved in
// every registry (frame types, stream types, settings, error codes).
constexpr bool is_grease(uint64_t v) { return v >= 0x21 && (v - 0x21) % 0x1f == 0; }
// The N-th reserved value; n < 148764065110560900 keeps it a varint.
constexpr uint64_t grease_value(uint64_t n) { return 0x1f * n + 0x21; }

// RFC 9114 §7.2.8: HTTP/2 frame types without an HTTP/3 meaning (PRIORITY,
// PING, WINDOW_UPDATE, CONTINUATION) are an H3_FRAME_UNEXPECTED error.
constexpr bool is_http2_reserved_frame(uint64_t t) {
  return t == 0x02 || t == 0x06 || t == 0x08 || t == 0x09;
}

// Frames that FrameParser buffers and reports (all known types but DATA).
constexpr bool is_buffered_frame(uint64_t t) {
  switch (t) {
    case frame_type::headers:
    case frame_type::cancel_push:
    case frame_type::settings:
    case frame_type::push_promise:
    case frame_type::goaway:
    case frame_type::max_push_id:
    case frame_type::priority_update_request:
    case frame_type::priority_update_push:
      return true;
    default:
      return false;
  }
}

struct Setting {
  uint64_t id = 0;
  uint64_t value = 0;
  bool operator==(const Setting&) const = default;
};

struct DataFrame {
  std::vector<uint8_t> payload;
  bool operator==(const DataFrame&) const = default;
};
struct HeadersFrame {
  std::vector<uint8_t> field_block;  // QPACK-encoded field section
  bool operator==(const HeadersFrame&) const = default;
};
struct CancelPushFrame {
  uint64_t push_id = 0;
  bool operator==(const CancelPushFrame&) const = default;
};
struct SettingsFrame {
  std::vector<Setting> entries;  // as on the wire; see h3_settings.h for meaning
  bool operator==(const SettingsFrame&) const = default;
};
struct PushPromiseFrame {
  uint64_t push_id = 0;
  std::vector<uint8_t> field_block;
  bool operator==(const PushPromiseFrame&) const = default;
};
struct GoawayFrame {
  uint64_t id = 0;  // stream ID (from a server) or push ID (from a client)
  bool operator==(const GoawayFrame&) const = default;
};
struct MaxPushIdFrame {
  uint64_t push_id = 0;
  bool operator==(const MaxPushIdFrame&) const = default;
};
struct PriorityUpdateFrame {  // RFC 9218 §7
  bool push = false;          // 0xf0701 (push ID) rather than 0xf0700 (request stream)
  uint64_t element_id = 0;
  std::string field_value;    // Structured Fields text, e.g. "u=1, i"
  bool operator==(const PriorityUpdateFrame&) const = default;
};
struct UnknownFrame {  // extension or GREASE frame
  uint64_t type = 0;
  std::vector<uint8_t> payload;
  bool operator==(const UnknownFrame&) const = default;
};

using Frame = std::variant<DataFrame, HeadersFrame, CancelPushFrame, SettingsFrame,
                           PushPromiseFrame, GoawayFrame, MaxPushIdFrame, PriorityUpdateFrame,
                           UnknownFrame>;

uint64_t frame_type_of(const Frame& f);

// ---- encoding (appends)
inline void append_varint(std::vector<uint8_t>& out, uint64_t v) {
  uint8_t b[8];
  out.insert(out.end(), b, varint_encode(b, v));
}
inline void append_bytes(std::vector<uint8_t>& out, Bytes b) { out.insert(out.end(), b.begin(), b.end()); }

constexpr size_t frame_header_size(uint64_t type, uint64_t length) {
  return varint_size(type) + varint_size(length);
}
void append_frame_header(std::vector<uint8_t>& out, uint64_t type, uint64_t length);
// Header and payload of a frame of any type.
void append_frame(std::vector<uint8_t>& out, uint64_t type, Bytes payload);
void append_frame(std::vector<uint8_t>& out, const Frame& f);
std::vector<uint8_t> encode_frame(const Frame& f);
size_t encoded_size(const Frame& f);

// A frame's payload into a Frame. Unknown types become UnknownFrame.
// Errors (RFC 9114 §7.1): a payload with missing or extra bytes is
// H3_FRAME_ERROR; HTTP/2 reserved types are H3_FRAME_UNEXPECTED.
Result<Frame> decode_frame_payload(uint64_t type, Bytes payload);
// Single-varint payloads (CANCEL_PUSH, GOAWAY, MAX_PUSH_ID).
Result<uint64_t> decode_id_payload(Bytes payload);
Result<PriorityUpdateFrame> decode_priority_update(uint64_t type, Bytes payload);
Result<std::vector<Setting>> decode_settings_payload(Bytes payload);

// Incremental frame parser for one stream.
class FrameParser {
 public:
  static constexpr uint64_t kDefaultMaxPayload = 64 * 1024;

  enum class Kind : uint8_t {
    need_more,  // the input is used up
    frame,      // a complete buffered frame (is_buffered_frame(type))
    data,       // a chunk of a DATA frame's payload
  };
  struct Item {
    Kind kind = Kind::need_more;
    uint64_t type = 0;
    Bytes payload;     // frame: the whole payload; data: this chunk
    bool end = false;  // data: the chunk ends its DATA frame
  };

  // `max_payload` bounds every buffered frame; a longer one is
  // H3_EXCESSIVE_LOAD before any of its payload is read.
  explicit FrameParser(uint64_t max_payload = kDefaultMaxPayload) : max_payload_(max_payload) {}
  void set_max_payload(uint64_t n) { max_payload_ = n; }
  // DATA payloads are read from the transport with consume_data(): next()
  // stops (need_more) at a DATA payload instead of returning it.
  void set_external_data(bool on) { external_data_ = on; }

  // Consumes bytes from the front of `in` and returns the next item. A
  // payload view points into `in` or into the parser and is valid until the
  // next call. Unknown and GREASE frames are skipped (frames_skipped()).
  // Errors: H3_FRAME_UNEXPECTED for HTTP/2 reserved types, H3_EXCESSIVE_LOAD
  // as above. After an error the parser must not be used again.
  Result<Item> next(Bytes& in);

  // For reading DATA payloads straight from a transport: the bytes of the
  // current DATA frame not yet consumed, and consuming them without next().
  uint64_t data_remaining() const { return state_ == State::data ? remaining_ : 0; }
  void consume_data(uint64_t n);
  // How many input bytes the parser can take without crossing the end of
  // the current frame (header: the rest of the next varint).
  uint64_t wanted() const;
  // Between frames: a stream ending here ends cleanly (RFC 9114 §7.1).
  bool at_boundary() const { return state_ == State::header && hdr_.empty(); }
  uint64_t frames_skipped() const { return skipped_; }

 private:
  enum class State : uint8_t { header, buffered, data, skip };
  Result<Item> start_frame();

  uint64_t max_payload_;
  State state_ = State::header;
  TypeLengthHeader hdr_;
  uint64_t type_ = 0, length_ = 0;
  uint64_t remaining_ = 0;  // payload bytes still to come
  std::vector<uint8_t> buf_;
  uint64_t skipped_ = 0;
  bool external_data_ = false;
};

}  // namespace wt::h3

// The Capsule Protocol (RFC 9297 §3): a sequence of Type (i), Length (i),
// Value capsules carried in the data of an HTTP request stream (in HTTP/3,
// the payload of DATA frames). CapsuleParser parses incrementally from input
// cut at any byte boundary; unknown types are skipped without buffering.
#pragma once
#include <cstdint>
#include <optional>
#include <vector>

#include "h3/type_length_header.h"
#include "lib/bytes.h"
#include "lib/result.h"

namespace wt::h3 {

namespace capsule_type {
inline constexpr uint64_t datagram = 0x00;  // RFC 9297 §3.5
// WebTransport over HTTP/3 (draft-ietf-webtrans-http3).
inline constexpr uint64_t close_webtransport_session = 0x2843;
inline constexpr uint64_t drain_webtransport_session = 0x78ae;
}  // namespace capsule_type

void append_capsule(std::vector<uint8_t>& out, uint64_t type, Bytes value);
inline void append_datagram_capsule(std::vector<uint8_t>& out, Bytes payload) {
  append_capsule(out, capsule_type::datagram, payload);
}
std::vector<uint8_t> encode_capsule(uint64_t type, Bytes value);

class CapsuleParser {
 public:
  static constexpr uint64_t kDefaultMaxValue = 64 * 1024 + 64;

  struct Capsule {
    uint64_t type = 0;
    Bytes value;  // into the input or the parser; valid until the next call
  };

  // Delivers DATAGRAM capsules and the types added with deliver(); others
  // are skipped (RFC 9297 §3.2: unknown capsule types are ignored). A
  // delivered capsule longer than `max_value` is H3_EXCESSIVE_LOAD.
  explicit CapsuleParser(uint64_t max_value = kDefaultMaxValue) : max_value_(max_value) {
    types_.push_back(capsule_type::datagram);
  }
  void deliver(uint64_t type) { types_.push_back(type); }
  // Deliver every type (each bounded by max_value).
  void deliver_all() { all_ = true; }

  // Consumes input; returns a capsule, or an empty optional once `in` is used
  // up with no complete capsule. After an error the parser is unusable.
  Result<std::optional<Capsule>> next(Bytes& in);
  // The data stream ended: RFC 9297 §3.3, a truncated capsule makes the
  // message malformed (H3_MESSAGE_ERROR).
  Status finish() const;
  bool at_boundary() const { return state_ == State::header && hdr_.empty(); }
  uint64_t skipped() const { return skipped_; }

 private:
  enum class State : uint8_t { header, value, skip };
  bool wanted(uint64_t type) const;

  uint64_t max_value_;
  std::vector<uint64_t> types_;
  bool all_ = false;
  State state_ = State::header;
  TypeLengthHeader hdr_;
  uint64_t type_ = 0, remaining_ = 0;
  std::vector<uint8_t> buf_;
  uint64_t skipped_ = 0;
};

}  // namespace wt::h3

#include "h3/capsule.h"

#include <algorithm>
#include <optional>

#include "h3/h3_error.h"
#include "h3/h3_frame.h"

namespace wt::h3 {

void append_capsule(std::vector<uint8_t>& out, uint64_t type, Bytes value) {
  append_varint(out, type);
  append_varint(out, value.size());
  append_bytes(out, value);
}

std::vector<uint8_t> encode_capsule(uint64_t type, Bytes value) {
  std::vector<uint8_t> out;
  out.reserve(varint_size(type) + varint_size(value.size()) + value.size());
  append_capsule(out, type, value);
  return out;
}

bool CapsuleParser::wanted(uint64_t type) const {
  return all_ || std::find(types_.begin(), types_.end(), type) != types_.end();
}

Result<std::optional<CapsuleParser::Capsule>> CapsuleParser::next(Bytes& in) {
  using Out = std::optional<Capsule>;
  while (true) {
    switch (state_) {
      case State::header: {
        if (in.empty()) return Out{};
        if (!hdr_.feed(in)) break;
        type_ = hdr_.type();
        const uint64_t length = hdr_.length();
        remaining_ = length;
        if (!wanted(type_)) {
          ++skipped_;
          if (length) state_ = State::skip;
          break;
        }
        if (length > max_value_) return h3_error(H3Error::excessive_load, "capsule too large");
        if (length == 0) return Out{Capsule{type_, {}}};
        buf_.clear();
        state_ = State::value;
        break;
      }
      case State::value: {
        if (in.empty()) return Out{};
        if (buf_.empty() && in.size() >= remaining_) {  // all present: no copy
          Bytes v = in.first(static_cast<size_t>(remaining_));
          in = in.subspan(v.size());
          state_ = State::header;
          return Out{Capsule{type_, v}};
        }
        size_t n = static_cast<size_t>(std::min<uint64_t>(remaining_, in.size()));
        buf_.insert(buf_.end(), in.begin(), in.begin() + static_cast<ptrdiff_t>(n));
        in = in.subspan(n);
        remaining_ -= n;
        if (remaining_ == 0) {
          state_ = State::header;
          return Out{Capsule{type_, Bytes{buf_}}};
        }
        break;
      }
      case State::skip: {
        if (in.empty()) return Out{};
        size_t n = static_cast<size_t>(std::min<uint64_t>(remaining_, in.size()));
        in = in.subspan(n);
        remaining_ -= n;
        if (remaining_ == 0) state_ = State::header;
        break;
      }
    }
  }
}

Status CapsuleParser::finish() const {
  if (!at_boundary()) return h3_error(H3Error::message_error, "truncated capsule");
  return {};
}

}  // namespace wt::h3

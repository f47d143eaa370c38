// libFuzzer target for the HTTP/3 frame parser and the capsule parser, fed
// incrementally: the input is parsed whole and again in pieces whose sizes
// the first bytes choose; both runs must agree item for item (DATA chunks
// joined) and on the error. Every complete frame's payload is decoded, and
// what decodes must re-encode to the same bytes. Also exercises SETTINGS,
// HTTP datagram and priority field parsing on the raw input.
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>
#include <vector>

#include "h3/capsule.h"
#include "h3/h3_datagram.h"
#include "h3/h3_frame.h"
#include "h3/h3_settings.h"
#include "h3/priority.h"
#include "lib/bytes.h"

using namespace wt;
using namespace wt::h3;

namespace {

void check(bool ok) {
  if (!ok) std::abort();
}

struct Item {
  uint64_t type;
  std::vector<uint8_t> payload;
  bool operator==(const Item&) const = default;
};

struct Outcome {
  std::vector<Item> items;
  std::optional<uint64_t> error;  // error code, if parsing failed
  bool boundary = false;
  bool operator==(const Outcome&) const = default;
};

// Piece sizes cycle through `sizes` (each 1..16).
Outcome run_frames(Bytes input, const std::vector<size_t>& sizes, uint64_t max_payload) {
  Outcome o;
  FrameParser p(max_payload);
  bool in_data = false;
  size_t off = 0, k = 0;
  while (off < input.size()) {
    size_t n = std::min(sizes.empty() ? input.size() : sizes[k++ % sizes.size()], input.size() - off);
    Bytes in = input.subspan(off, n);
    off += n;
    while (true) {
      size_t before = in.size();
      auto it = p.next(in);
      if (!it.ok()) {
        o.error = it.error().code;
        return o;
      }
      check(in.size() <= before);
      if (it->kind == FrameParser::Kind::need_more) {
        check(in.empty());
        break;
      }
      if (it->kind == FrameParser::Kind::frame) {
        check(is_buffered_frame(it->type));
        check(it->payload.size() <= max_payload);
        o.items.push_back({it->type, {it->payload.begin(), it->payload.end()}});
        in_data = false;
      } else {
        check(it->type == frame_type::data);
        if (!in_data) o.items.push_back({frame_type::data, {}});
        o.items.back().payload.insert(o.items.back().payload.end(), it->payload.begin(), it->payload.end());
        in_data = !it->end;
      }
    }
  }
  o.boundary = p.at_boundary();
  return o;
}

// As h3::Connection reads a request stream: external DATA mode, where the
// parser stops at DATA payloads and they are taken with consume_data().
// Must agree with run_frames() on the same input.
Outcome run_frames_external(Bytes input, const std::vector<size_t>& sizes, uint64_t max_payload) {
  Outcome o;
  FrameParser p(max_payload);
  p.set_external_data(true);
  bool in_data = false;
  size_t off = 0, k = 0;
  while (off < input.size()) {
    size_t n = std::min(sizes.empty() ? input.size() : sizes[k++ % sizes.size()], input.size() - off);
    if (uint64_t rem = p.data_remaining()) {
      n = static_cast<size_t>(std::min<uint64_t>(rem, n));
      if (!in_data) o.items.push_back({frame_type::data, {}});
      o.items.back().payload.insert(o.items.back().payload.end(), input.begin() + static_cast<ptrdiff_t>(off),
                                    input.begin() + static_cast<ptrdiff_t>(off + n));
      p.consume_data(n);
      in_data = p.data_remaining() > 0;
      off += n;
      continue;
    }
    Bytes in = input.subspan(off, n);
    while (true) {
      auto it = p.next(in);
      if (!it.ok()) {
        o.error = it.error().code;
        return o;
      }
      if (it->kind == FrameParser::Kind::need_more) {
        check(in.empty() || p.data_remaining() > 0);  // only a DATA payload is left unread
        break;
      }
      if (it->kind == FrameParser::Kind::frame) {
        o.items.push_back({it->type, {it->payload.begin(), it->payload.end()}});
      } else {
        check(it->payload.empty() && it->end);  // only empty DATA frames come out
        o.items.push_back({frame_type::data, {}});
      }
      in_data = false;
    }
    off += n - in.size();
  }
  o.boundary = p.at_boundary();
  return o;
}

Outcome run_capsules(Bytes input, const std::vector<size_t>& sizes, uint64_t max_value) {
  Outcome o;
  CapsuleParser p(max_value);
  p.deliver(capsule_type::close_webtransport_session);
  size_t off = 0, k = 0;
  while (off < input.size()) {
    size_t n = std::min(sizes.empty() ? input.size() : sizes[k++ % sizes.size()], input.size() - off);
    Bytes in = input.subspan(off, n);
    off += n;
    while (true) {
      auto c = p.next(in);
      if (!c.ok()) {
        o.error = c.error().code;
        return o;
      }
      if (!*c) {
        check(in.empty());
        break;
      }
      check((*c)->type == capsule_type::datagram || (*c)->type == capsule_type::close_webtransport_session);
      check((*c)->value.size() <= max_value);
      o.items.push_back({(*c)->type, {(*c)->value.begin(), (*c)->value.end()}});
    }
  }
  o.boundary = p.at_boundary();
  check(p.finish().ok() == o.boundary);
  return o;
}

void check_payload_round_trip(const Item& it) {
  auto f = decode_frame_payload(it.type, it.payload);
  if (!f.ok()) return;
  check(frame_type_of(*f) == it.type);
  auto wire = encode_frame(*f);
  check(wire.size() == encoded_size(*f));
  Reader r{Bytes{wire}};
  check(r.varint() == it.type);
  uint64_t len = r.varint();
  check(r.ok() && len == r.remaining());
  // SETTINGS and the ID frames re-encode minimally, so compare the decoded
  // values instead of bytes.
  auto again = decode_frame_payload(it.type, r.rest());
  check(again.ok() && *again == *f);
  if (it.type == frame_type::settings) (void)settings_from_entries(std::get<SettingsFrame>(*f).entries);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  // Header: piece sizes, then the limit for buffered frames.
  std::vector<size_t> sizes;
  size_t nsizes = 1 + data[0] % 4;
  if (size < 1 + nsizes + 1) return 0;
  for (size_t i = 0; i < nsizes; ++i) sizes.push_back(1 + data[1 + i] % 16);
  uint64_t limit = 16 + uint64_t{data[1 + nsizes]} * 16;
  Bytes input{data + 2 + nsizes, size - 2 - nsizes};

  Outcome whole = run_frames(input, {}, limit);
  Outcome pieces = run_frames(input, sizes, limit);
  check(whole == pieces);
  check(run_frames_external(input, {}, limit) == whole);
  check(run_frames_external(input, sizes, limit) == whole);
  for (const Item& it : whole.items)
    if (it.type != frame_type::data) check_payload_round_trip(it);

  Outcome cw = run_capsules(input, {}, limit);
  Outcome cp = run_capsules(input, sizes, limit);
  check(cw == cp);

  auto d = decode_http_datagram(input);
  if (d.ok()) {
    check(d->stream_id % 4 == 0 && d->stream_id / 4 <= kMaxQuarterStreamId);
    check(encode_http_datagram(d->stream_id, d->payload).size() <= input.size());
  }
  auto p = parse_priority(as_string(input));
  if (p) {
    check(p->urgency <= 7);
    check(parse_priority(format_priority(*p)) == *p);
  }
  return 0;
}

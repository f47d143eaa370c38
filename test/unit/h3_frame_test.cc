// HTTP/3 frame codec, SETTINGS, capsules, HTTP datagrams, priorities and
// message validation (RFC 9114 §7, §4; RFC 9297; RFC 9218).
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "h3/capsule.h"
#include "h3/h3_datagram.h"
#include "h3/h3_error.h"
#include "h3/h3_frame.h"
#include "h3/h3_settings.h"
#include "h3/message.h"
#include "h3/priority.h"
#include "lib/hex.h"

using namespace wt;
using namespace wt::h3;

namespace {

std::vector<uint8_t> bytes_of(std::string_view s) { return {s.begin(), s.end()}; }

struct Parsed {
  uint64_t type;
  std::vector<uint8_t> payload;
  bool operator==(const Parsed&) const = default;
};

// Feeds `wire` in pieces of `step` bytes; DATA chunks are joined per frame.
Result<std::vector<Parsed>> parse_all(Bytes wire, size_t step, FrameParser& p) {
  std::vector<Parsed> out;
  bool in_data = false;
  for (size_t off = 0; off < wire.size(); off += step) {
    Bytes in = wire.subspan(off, std::min(step, wire.size() - off));
    while (true) {
      WT_ASSIGN(auto it, p.next(in));
      if (it.kind == FrameParser::Kind::need_more) break;
      if (it.kind == FrameParser::Kind::frame) {
        out.push_back({it.type, {it.payload.begin(), it.payload.end()}});
      } else {
        if (!in_data) out.push_back({frame_type::data, {}});
        out.back().payload.insert(out.back().payload.end(), it.payload.begin(), it.payload.end());
        in_data = !it.end;
      }
    }
    REQUIRE(in.empty());
  }
  return out;
}

std::vector<Frame> all_frames() {
  return {
      DataFrame{bytes_of("hello")},
      DataFrame{},
      HeadersFrame{{0x00, 0x00, 0xd1, 0xd7}},
      CancelPushFrame{7},
      SettingsFrame{{{0x01, 4096}, {0x06, 16384}, {0x07, 100}, {0x08, 1}, {0x33, 1}}},
      SettingsFrame{},
      PushPromiseFrame{kVarintMax, {0x00, 0x00, 0xc1}},
      GoawayFrame{(uint64_t{1} << 62) - 4},
      MaxPushIdFrame{16383},
      PriorityUpdateFrame{false, 4, "u=1, i"},
      PriorityUpdateFrame{true, 0, "u=7"},
      UnknownFrame{0x21, {1, 2, 3}},
      UnknownFrame{grease_value(1000), {}},
  };
}

}  // namespace

TEST_CASE("h3 frame: known encodings", "[h3]") {
  // RFC 9114 §7.2.4: SETTINGS type 0x04, length, (id, value) varint pairs.
  CHECK(to_hex(encode_frame(SettingsFrame{{{0x01, 0}, {0x07, 0}}})) == "040401000700");
  CHECK(to_hex(encode_frame(GoawayFrame{4})) == "070104");
  CHECK(to_hex(encode_frame(DataFrame{{0xaa, 0xbb}})) == "0002aabb");
  CHECK(to_hex(encode_frame(MaxPushIdFrame{64})) == "0d024040");
  // RFC 9218 §7.1: type 0xf0700 is a 4-byte varint.
  CHECK(to_hex(encode_frame(PriorityUpdateFrame{false, 0, "u=2"})) == "800f07000400753d32");
}

TEST_CASE("h3 frame: every type round-trips, whole and byte by byte", "[h3]") {
  for (const Frame& f : all_frames()) {
    auto wire = encode_frame(f);
    CHECK(wire.size() == encoded_size(f));
    // Payload decoding.
    Reader r{Bytes{wire}};
    uint64_t type = r.varint(), len = r.varint();
    REQUIRE(r.ok());
    REQUIRE(len == r.remaining());
    CHECK(type == frame_type_of(f));
    auto d = decode_frame_payload(type, r.rest());
    REQUIRE(d.ok());
    CHECK(*d == f);
    // Incremental parser, at every chunk size.
    for (size_t step : {size_t{1}, size_t{2}, size_t{3}, wire.size()}) {
      FrameParser p;
      auto items = parse_all(Bytes{wire}, step, p);
      REQUIRE(items.ok());
      CHECK(p.at_boundary());
      if (std::holds_alternative<UnknownFrame>(f)) {
        CHECK(items->empty());  // RFC 9114 §9: skipped
        CHECK(p.frames_skipped() == 1);
      } else {
        REQUIRE(items->size() == 1);
        CHECK((*items)[0].type == type);
        CHECK(Bytes{(*items)[0].payload}.size() == len);
        CHECK(std::equal((*items)[0].payload.begin(), (*items)[0].payload.end(), r.rest().begin()));
      }
    }
  }
}

TEST_CASE("h3 frame: a stream of frames with GREASE between them", "[h3]") {
  std::vector<uint8_t> wire;
  append_frame(wire, SettingsFrame{{{0x06, 100}}});
  append_frame(wire, UnknownFrame{grease_value(3), bytes_of("ignore me")});
  append_frame(wire, HeadersFrame{{1, 2, 3}});
  append_frame(wire, DataFrame{bytes_of("0123456789")});
  append_frame(wire, UnknownFrame{0x1234567, std::vector<uint8_t>(300, 0xee)});
  append_frame(wire, DataFrame{});
  append_frame(wire, HeadersFrame{{9}});
  std::vector<Parsed> want = {{frame_type::settings, {0x06, 0x40, 0x64}},
                              {frame_type::headers, {1, 2, 3}},
                              {frame_type::data, bytes_of("0123456789")},
                              {frame_type::data, {}},
                              {frame_type::headers, {9}}};
  for (size_t step = 1; step <= wire.size(); step += (step < 20 ? 1 : 97)) {
    FrameParser p;
    auto got = parse_all(Bytes{wire}, step, p);
    REQUIRE(got.ok());
    CHECK(*got == want);
    CHECK(p.frames_skipped() == 2);
  }
}

TEST_CASE("h3 frame: DATA payload read from outside the parser", "[h3]") {
  std::vector<uint8_t> wire;
  append_frame(wire, DataFrame{bytes_of("abcdef")});
  append_frame(wire, HeadersFrame{{7}});
  FrameParser p;
  // Header bytes only, as a transport reader would take them.
  CHECK(p.wanted() == 1);
  Bytes in{wire.data(), 1};
  auto it = p.next(in);
  REQUIRE(it.ok());
  CHECK(it->kind == FrameParser::Kind::need_more);
  CHECK(p.wanted() == 1);  // the length varint
  in = Bytes{wire.data() + 1, 1};
  it = p.next(in);
  REQUIRE(it.ok());
  CHECK(p.data_remaining() == 6);
  CHECK(p.wanted() == 6);
  CHECK_FALSE(p.at_boundary());
  p.consume_data(4);
  CHECK(p.data_remaining() == 2);
  p.consume_data(2);
  CHECK(p.data_remaining() == 0);
  CHECK(p.at_boundary());
  in = Bytes{wire}.subspan(8);
  it = p.next(in);
  REQUIRE(it.ok());
  CHECK(it->kind == FrameParser::Kind::frame);
  CHECK(it->type == frame_type::headers);
}

TEST_CASE("h3 frame: external DATA mode stops at payloads, whole buffer or any split", "[h3]") {
  // HEADERS, GREASE, DATA, empty DATA, DATA, HEADERS (trailers), parsed in
  // place from a transport's buffer: next() never returns a DATA payload
  // and leaves it in the input for consume_data().
  std::vector<uint8_t> wire;
  append_frame(wire, HeadersFrame{{1, 2, 3}});
  append_frame(wire, grease_value(3), bytes_of("xyz"));
  append_frame(wire, DataFrame{std::vector<uint8_t>(300, 0x55)});
  append_frame(wire, DataFrame{{}});
  append_frame(wire, DataFrame{bytes_of("tail")});
  append_frame(wire, HeadersFrame{{9}});
  for (size_t piece : {size_t{1}, size_t{2}, size_t{3}, size_t{7}, wire.size()}) {
    FrameParser p;
    p.set_external_data(true);
    size_t pos = 0;
    std::vector<std::string> seen;
    uint64_t data_bytes = 0;
    while (pos < wire.size()) {
      if (uint64_t rem = p.data_remaining()) {
        const size_t n = static_cast<size_t>(std::min<uint64_t>(rem, piece));
        p.consume_data(n);
        data_bytes += n;
        pos += n;
        continue;
      }
      Bytes in = Bytes{wire}.subspan(pos, std::min(piece, wire.size() - pos));
      const size_t before = in.size();
      while (true) {
        auto it = p.next(in);
        REQUIRE(it.ok());
        if (it->kind == FrameParser::Kind::need_more) break;
        if (it->kind == FrameParser::Kind::data) {
          CHECK(it->payload.empty());  // only an empty DATA frame comes out
          seen.push_back("data0");
        } else {
          seen.push_back("headers" + std::to_string(it->payload.size()));
        }
      }
      pos += before - in.size();
      // A payload the parser stopped at stays in `in` for consume_data().
    }
    CHECK(seen == std::vector<std::string>{"headers3", "data0", "headers1"});
    CHECK(data_bytes == 304);
    CHECK(p.at_boundary());
    CHECK(p.frames_skipped() == 1);
  }
}

TEST_CASE("h3 frame: malformed payloads are H3_FRAME_ERROR", "[h3]") {
  // RFC 9114 §7.1: missing or extra bytes in the identified fields.
  auto check_frame_error = [](uint64_t type, std::vector<uint8_t> payload) {
    auto d = decode_frame_payload(type, Bytes{payload});
    REQUIRE_FALSE(d.ok());
    CHECK(is_h3_error(d.error(), H3Error::frame_error));
  };
  check_frame_error(frame_type::goaway, {});
  check_frame_error(frame_type::goaway, {0x04, 0x00});      // extra byte
  check_frame_error(frame_type::max_push_id, {0x40});       // truncated varint
  check_frame_error(frame_type::cancel_push, {0x01, 0x01});
  check_frame_error(frame_type::settings, {0x01});          // id without value
  check_frame_error(frame_type::settings, {0x01, 0x80, 0x00});
  check_frame_error(frame_type::push_promise, {});
  check_frame_error(frame_type::priority_update_request, {});
  check_frame_error(frame_type::priority_update_push, {0xc0});
}

TEST_CASE("h3 frame: HTTP/2 frame types are H3_FRAME_UNEXPECTED", "[h3]") {
  for (uint64_t t : {0x02, 0x06, 0x08, 0x09}) {
    std::vector<uint8_t> wire;
    append_frame(wire, t, {});
    FrameParser p;
    Bytes in{wire};
    auto it = p.next(in);
    REQUIRE_FALSE(it.ok());
    CHECK(is_h3_error(it.error(), H3Error::frame_unexpected));
    CHECK_FALSE(decode_frame_payload(t, {}).ok());
  }
}

TEST_CASE("h3 frame: oversized lengths are bounded", "[h3]") {
  // A HEADERS frame claiming 2^62-1 bytes fails before any payload arrives.
  std::vector<uint8_t> wire;
  append_frame_header(wire, frame_type::headers, kVarintMax);
  FrameParser p(1000);
  Bytes in{wire};
  auto it = p.next(in);
  REQUIRE_FALSE(it.ok());
  CHECK(is_h3_error(it.error(), H3Error::excessive_load));

  // Within the limit it is fine; one byte over is not.
  std::vector<uint8_t> ok_wire;
  append_frame(ok_wire, HeadersFrame{std::vector<uint8_t>(1000, 1)});
  FrameParser p2(1000);
  in = Bytes{ok_wire};
  it = p2.next(in);
  REQUIRE(it.ok());
  CHECK(it->kind == FrameParser::Kind::frame);
  std::vector<uint8_t> big;
  append_frame(big, SettingsFrame{{{0x21, 0}}});
  FrameParser p3(1);  // the payload is 2 bytes
  in = Bytes{big};
  CHECK_FALSE(p3.next(in).ok());

  // DATA and unknown frames of any length stream or skip without buffering.
  std::vector<uint8_t> huge;
  append_frame_header(huge, frame_type::data, kVarintMax);
  FrameParser p4(10);
  in = Bytes{huge};
  it = p4.next(in);
  REQUIRE(it.ok());
  CHECK(p4.data_remaining() == kVarintMax);
  std::vector<uint8_t> unk;
  append_frame_header(unk, grease_value(5), kVarintMax);
  unk.resize(unk.size() + 5000, 0x55);
  FrameParser p5(10);
  in = Bytes{unk};
  it = p5.next(in);
  REQUIRE(it.ok());
  CHECK(it->kind == FrameParser::Kind::need_more);
  CHECK(p5.wanted() == kVarintMax - 5000);
}

TEST_CASE("h3 frame: GREASE values", "[h3]") {
  CHECK(grease_value(0) == 0x21);
  CHECK(grease_value(1) == 0x40);
  CHECK(is_grease(0x21));
  CHECK(is_grease(0x1f * 1000 + 0x21));
  CHECK_FALSE(is_grease(0x20));
  CHECK_FALSE(is_grease(0x22));
  CHECK_FALSE(is_grease(0x41));  // WebTransport's bidi signal is not reserved
}

// ---------------------------------------------------------------- SETTINGS

TEST_CASE("h3 settings: parse, GREASE ignored, unknown kept", "[h3]") {
  std::vector<uint8_t> p;
  for (auto [id, v] : std::vector<std::pair<uint64_t, uint64_t>>{
           {0x01, 4096}, {0x07, 16}, {grease_value(9), 77}, {0x06, 1000}, {0x2b603742, 1}, {0x33, 1}, {0x08, 1}}) {
    append_varint(p, id);
    append_varint(p, v);
  }
  auto s = parse_settings(Bytes{p});
  REQUIRE(s.ok());
  CHECK(s->qpack_max_table_capacity() == 4096);
  CHECK(s->qpack_blocked_streams() == 16);
  CHECK(s->max_field_section_size() == 1000);
  CHECK(s->enable_connect_protocol());
  CHECK(s->h3_datagram());
  CHECK(s->get(0x2b603742) == 1);
  CHECK_FALSE(s->has(grease_value(9)));
  // Defaults (RFC 9114 §7.2.4.1, RFC 9204 §5).
  Settings none;
  CHECK(none.qpack_max_table_capacity() == 0);
  CHECK(none.max_field_section_size() == kUnlimited);
  CHECK_FALSE(none.enable_connect_protocol());
}

TEST_CASE("h3 settings: errors", "[h3]") {
  auto err = [](std::vector<Setting> e) {
    auto r = settings_from_entries(e);
    REQUIRE_FALSE(r.ok());
    return r.error();
  };
  CHECK(is_h3_error(err({{0x01, 1}, {0x01, 1}}), H3Error::settings_error));  // duplicate
  for (uint64_t h2 : {0x00, 0x02, 0x03, 0x04, 0x05})  // RFC 9114 §7.2.4.1
    CHECK(is_h3_error(err({{h2, 0}}), H3Error::settings_error));
  CHECK(is_h3_error(err({{0x08, 2}}), H3Error::settings_error));  // RFC 9220 §3
  CHECK(is_h3_error(err({{0x33, 5}}), H3Error::settings_error));  // RFC 9297 §2.1.1
  auto trunc = parse_settings(Bytes{std::vector<uint8_t>{0x06}});
  REQUIRE_FALSE(trunc.ok());
  CHECK(is_h3_error(trunc.error(), H3Error::frame_error));
  CHECK(settings_from_entries({{0x06, 0}, {0x2b603742, 9}}).ok());
}

TEST_CASE("h3 settings: ours carry a GREASE entry and no HTTP/2 ids", "[h3]") {
  Settings s;
  s.set(setting_id::qpack_max_table_capacity, 0);
  s.set(setting_id::h3_datagram, 1);
  s.set(0x02, 1);  // never sent
  auto e = settings_entries(s, grease_value(4), 99);
  REQUIRE(e.size() == 3);
  CHECK(e[0] == Setting{0x01, 0});
  CHECK(e[1] == Setting{0x33, 1});
  CHECK(e[2] == Setting{grease_value(4), 99});
  std::vector<uint8_t> frame;
  append_settings_frame(frame, e);
  Reader r{Bytes{frame}};
  CHECK(r.varint() == frame_type::settings);
  r.varint();
  auto back = parse_settings(r.rest());
  REQUIRE(back.ok());
  CHECK(back->values.size() == 2);
}

// ---------------------------------------------------------------- capsules

TEST_CASE("h3 capsule: round trip at every chunk size; unknown skipped", "[h3]") {
  std::vector<uint8_t> wire;
  append_datagram_capsule(wire, as_bytes("first"));
  append_capsule(wire, 0x2f4f, std::vector<uint8_t>(500, 7));  // unknown
  append_capsule(wire, capsule_type::close_webtransport_session, as_bytes(std::string_view("\x00\x00\x00\x01" "bye", 7)));
  append_datagram_capsule(wire, {});
  append_datagram_capsule(wire, std::vector<uint8_t>(3000, 0xab));
  for (size_t step : {size_t{1}, size_t{2}, size_t{7}, size_t{100}, wire.size()}) {
    CapsuleParser p;
    p.deliver(capsule_type::close_webtransport_session);
    std::vector<std::pair<uint64_t, std::vector<uint8_t>>> got;
    for (size_t off = 0; off < wire.size(); off += step) {
      Bytes in = Bytes{wire}.subspan(off, std::min(step, wire.size() - off));
      while (true) {
        auto c = p.next(in);
        REQUIRE(c.ok());
        if (!*c) break;
        got.push_back({(*c)->type, {(*c)->value.begin(), (*c)->value.end()}});
      }
    }
    CHECK(p.finish().ok());
    REQUIRE(got.size() == 4);
    CHECK(got[0].first == capsule_type::datagram);
    CHECK(got[0].second == bytes_of("first"));
    CHECK(got[1].first == capsule_type::close_webtransport_session);
    CHECK(got[1].second.size() == 7);
    CHECK(got[2].second.empty());
    CHECK(got[3].second == std::vector<uint8_t>(3000, 0xab));
    CHECK(p.skipped() == 1);
  }
}

TEST_CASE("h3 capsule: truncated and oversized", "[h3]") {
  auto wire = encode_capsule(capsule_type::datagram, as_bytes("abcdef"));
  for (size_t cut = 1; cut < wire.size(); ++cut) {
    CapsuleParser p;
    Bytes in{wire.data(), cut};
    auto c = p.next(in);
    REQUIRE(c.ok());
    CHECK_FALSE(*c);
    // RFC 9297 §3.3: a data stream ending mid-capsule is malformed.
    auto f = p.finish();
    REQUIRE_FALSE(f.ok());
    CHECK(is_h3_error(f.error(), H3Error::message_error));
  }
  std::vector<uint8_t> big;
  append_varint(big, capsule_type::datagram);
  append_varint(big, kVarintMax);
  CapsuleParser p(1000);
  Bytes in{big};
  auto c = p.next(in);
  REQUIRE_FALSE(c.ok());
  CHECK(is_h3_error(c.error(), H3Error::excessive_load));
  // An unknown capsule of any length is skipped, not buffered.
  std::vector<uint8_t> unk;
  append_varint(unk, 0x3333);
  append_varint(unk, kVarintMax);
  CapsuleParser q(10);
  in = Bytes{unk};
  auto u = q.next(in);
  REQUIRE(u.ok());
  CHECK_FALSE(*u);
}

// ---------------------------------------------------------------- datagrams

TEST_CASE("h3 datagram: quarter stream ID", "[h3]") {
  auto d = encode_http_datagram(8, as_bytes("hi"));
  CHECK(to_hex(d) == "026869");  // RFC 9297 §2.1: 8 / 4 = 2
  auto back = decode_http_datagram(Bytes{d});
  REQUIRE(back.ok());
  CHECK(back->stream_id == 8);
  CHECK(as_string(back->payload) == "hi");
  auto big = encode_http_datagram(uint64_t{4} * kMaxQuarterStreamId, {});
  auto b2 = decode_http_datagram(Bytes{big});
  REQUIRE(b2.ok());
  CHECK(b2->stream_id == 4 * kMaxQuarterStreamId);
  CHECK(http_datagram_overhead(4 * 64) == 2);

  // Errors: empty, truncated varint, quarter stream ID above 2^60-1.
  for (auto bad : {std::string(""), std::string("\x40"), std::string("\xd0\x00\x00\x00\x00\x00\x00\x00", 8)}) {
    auto r = decode_http_datagram(as_bytes(bad));
    REQUIRE_FALSE(r.ok());
    CHECK(is_h3_error(r.error(), H3Error::datagram_error));
  }
}

// ---------------------------------------------------------------- priorities

TEST_CASE("h3 priority: RFC 9218 field values", "[h3]") {
  auto p = [](std::string_view v) { return parse_priority(v); };
  CHECK(p("u=3, i") == Priority{3, true});
  CHECK(p("") == Priority{3, false});
  CHECK(p("u=0") == Priority{0, false});
  CHECK(p("i, u=7") == Priority{7, true});
  CHECK(p("i=?0") == Priority{3, false});
  CHECK(p("i=?1") == Priority{3, true});
  CHECK(p("u=1;foo=bar, x=(a b);q, i") == Priority{1, true});  // unknown keys ignored
  CHECK(p("u=9") == Priority{3, false});       // §4.1: out of range ignored
  CHECK(p("u=-1") == Priority{3, false});
  CHECK(p("u=2.5") == Priority{3, false});
  CHECK(p("u=\"1\"") == Priority{3, false});
  CHECK(p("i=1") == Priority{3, false});       // §4.2: not a Boolean
  CHECK(p("u=1, u=5") == Priority{5, false});  // last value wins
  CHECK(p("u=05") == Priority{5, false});
  CHECK(p("  u=4  ") == Priority{4, false});
  // Invalid dictionaries: the field is ignored.
  CHECK_FALSE(p("u=1,"));
  CHECK_FALSE(p("U=1"));
  CHECK_FALSE(p("u=1 i"));
  CHECK_FALSE(p("u="));
  CHECK_FALSE(p("u=\"unterminated"));
  CHECK_FALSE(p(",u=1"));
  CHECK(priority_or_default("garbage!") == Priority{});
  CHECK(format_priority({3, false}) == "");
  CHECK(format_priority({1, true}) == "u=1, i");
  CHECK(format_priority({3, true}) == "i");
  CHECK(format_priority({6, false}) == "u=6");
  for (uint8_t u = 0; u < 8; ++u)
    for (bool i : {false, true}) CHECK(p(format_priority({u, i})) == Priority{u, i});
}

// ---------------------------------------------------------------- messages

namespace {

HeaderList get_request() {
  return {{":method", "GET"}, {":scheme", "https"}, {":authority", "example.com"}, {":path", "/x"},
          {"accept", "*/*"}};
}

bool request_ok(const HeaderList& h, bool connect_protocol = false) {
  auto r = validate_request(h, RequestRules{connect_protocol});
  if (!r.ok()) CHECK(is_h3_error(r.error(), H3Error::message_error));
  return r.ok();
}

}  // namespace

TEST_CASE("h3 message: requests", "[h3]") {
  CHECK(request_ok(get_request()));
  auto with = [](HeaderList h, HeaderField f) {
    h.push_back(std::move(f));
    return h;
  };
  auto without = [](HeaderList h, std::string_view name) {
    std::erase_if(h, [&](const HeaderField& f) { return f.name == name; });
    return h;
  };
  // RFC 9114 §4.3.1: required pseudo-headers.
  CHECK_FALSE(request_ok(without(get_request(), ":method")));
  CHECK_FALSE(request_ok(without(get_request(), ":scheme")));
  CHECK_FALSE(request_ok(without(get_request(), ":path")));
  CHECK_FALSE(request_ok(without(get_request(), ":authority")));
  CHECK(request_ok(with(without(get_request(), ":authority"), {"host", "example.com"})));
  CHECK_FALSE(request_ok(with(get_request(), {"host", "other.example"})));
  // §4.3: duplicates, unknown, response pseudo-headers, order.
  CHECK_FALSE(request_ok(with(get_request(), {":path", "/y"})));
  HeaderList dup = get_request();
  dup.insert(dup.begin(), {":method", "GET"});
  CHECK_FALSE(request_ok(dup));
  HeaderList unknown = get_request();
  unknown.insert(unknown.begin(), {":foo", "bar"});
  CHECK_FALSE(request_ok(unknown));
  HeaderList status = get_request();
  status.insert(status.begin(), {":status", "200"});
  CHECK_FALSE(request_ok(status));
  CHECK_FALSE(request_ok(with(get_request(), {":authority", "late"})));  // after regular fields
  // §4.2: lowercase names, valid characters; connection-specific fields.
  CHECK_FALSE(request_ok(with(get_request(), {"Accept", "x"})));
  CHECK_FALSE(request_ok(with(get_request(), {"bad name", "x"})));
  CHECK_FALSE(request_ok(with(get_request(), {"", "x"})));
  CHECK_FALSE(request_ok(with(get_request(), {"x", "a\r\nb"})));
  CHECK_FALSE(request_ok(with(get_request(), {"x", std::string("a\0b", 3)})));
  for (auto n : {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade"})
    CHECK_FALSE(request_ok(with(get_request(), {n, "x"})));
  CHECK(request_ok(with(get_request(), {"te", "trailers"})));
  CHECK_FALSE(request_ok(with(get_request(), {"te", "gzip"})));
  // Content-Length.
  auto cl = validate_request(with(get_request(), {"content-length", "42"}));
  REQUIRE(cl.ok());
  CHECK(cl->content_length == 42u);
  CHECK(request_ok(with(with(get_request(), {"content-length", "5"}), {"content-length", "5"})));
  CHECK_FALSE(request_ok(with(with(get_request(), {"content-length", "5"}), {"content-length", "6"})));
  CHECK_FALSE(request_ok(with(get_request(), {"content-length", "-1"})));
  CHECK_FALSE(request_ok(with(get_request(), {"content-length", ""})));
  CHECK_FALSE(request_ok(with(get_request(), {"content-length", "99999999999999999999"})));
  HeaderList empty_path = get_request();
  empty_path[3].value = "";
  CHECK_FALSE(request_ok(empty_path));
}

TEST_CASE("h3 message: CONNECT and extended CONNECT", "[h3]") {
  HeaderList connect = {{":method", "CONNECT"}, {":authority", "proxy.example:443"}};
  CHECK(request_ok(connect));
  auto c2 = connect;
  c2.push_back({":path", "/"});
  CHECK_FALSE(request_ok(c2));  // RFC 9114 §4.4: no :scheme or :path
  CHECK_FALSE(request_ok({{":method", "CONNECT"}}));

  HeaderList ext = {{":method", "CONNECT"}, {":protocol", "webtransport"}, {":scheme", "https"},
                    {":authority", "example.com"}, {":path", "/chat"}, {"origin", "https://example.com"}};
  // RFC 9220 §3: :protocol only when SETTINGS_ENABLE_CONNECT_PROTOCOL was sent.
  CHECK_FALSE(request_ok(ext, false));
  auto r = validate_request(ext, RequestRules{true});
  REQUIRE(r.ok());
  CHECK(r->is_extended_connect());
  CHECK(r->protocol == "webtransport");
  auto no_path = ext;
  no_path.erase(no_path.begin() + 4);
  CHECK_FALSE(request_ok(no_path, true));
  auto no_scheme = ext;
  no_scheme.erase(no_scheme.begin() + 2);
  CHECK_FALSE(request_ok(no_scheme, true));
  auto get_proto = ext;
  get_proto[0].value = "GET";
  CHECK_FALSE(request_ok(get_proto, true));  // :protocol on a non-CONNECT request
}

TEST_CASE("h3 message: responses and trailers", "[h3]") {
  auto resp = [](HeaderList h) { return validate_response(h); };
  auto ok = resp({{":status", "200"}, {"content-length", "3"}});
  REQUIRE(ok.ok());
  CHECK(ok->status == 200);
  CHECK(ok->content_length == 3u);
  auto info = resp({{":status", "103"}, {"link", "</a>"}});
  REQUIRE(info.ok());
  CHECK(info->informational());
  CHECK_FALSE(resp({}).ok());
  CHECK_FALSE(resp({{":status", "20"}}).ok());
  CHECK_FALSE(resp({{":status", "2000"}}).ok());
  CHECK_FALSE(resp({{":status", "abc"}}).ok());
  CHECK_FALSE(resp({{":status", "099"}}).ok());
  CHECK_FALSE(resp({{":status", "101"}}).ok());  // RFC 9114 §4.5
  CHECK_FALSE(resp({{":status", "200"}, {":status", "200"}}).ok());
  CHECK_FALSE(resp({{":status", "200"}, {":path", "/"}}).ok());
  CHECK_FALSE(resp({{"server", "x"}, {":status", "200"}}).ok());
  CHECK_FALSE(resp({{":status", "200"}, {"Server", "x"}}).ok());

  CHECK(validate_trailers(HeaderList{{"grpc-status", "0"}}).ok());
  CHECK(validate_trailers(HeaderList{}).ok());
  CHECK_FALSE(validate_trailers(HeaderList{{":status", "200"}}).ok());
  CHECK_FALSE(validate_trailers(HeaderList{{"transfer-encoding", "chunked"}}).ok());

  CHECK(response_has_no_content(true, 200));
  CHECK(response_has_no_content(false, 204));
  CHECK(response_has_no_content(false, 304));
  CHECK_FALSE(response_has_no_content(false, 200));
  CHECK(combined_field(HeaderList{{"a", "1"}, {"b", "x"}, {"a", "2"}}, "a") == "1, 2");
  CHECK_FALSE(combined_field(HeaderList{{"a", "1"}}, "c"));
}

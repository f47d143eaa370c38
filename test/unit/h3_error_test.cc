// HTTP/3 error handling over an in-memory QUIC pair: each violation of
// RFC 9114 / RFC 9204 / RFC 9220 / RFC 9297 is answered with its error code,
// observed on the wire by the peer (stream resets and CONNECTION_CLOSE).
#include <catch2/catch.hpp>

#include <optional>
#include <string>
#include <vector>

#include "h3/capsule.h"
#include "h3/h3_connection.h"
#include "h3/h3_datagram.h"
#include "h3/h3_frame.h"
#include "test/support/h3_pair.h"

using namespace wt;
using namespace wt::h3;
using namespace wt::test;
using wt::test::EvType;

// ---------------------------------------------------------------- stream errors

TEST_CASE("h3: malformed requests are reset with H3_MESSAGE_ERROR", "[h3]") {
  H3Pair p;
  p.ccfg.validate_outgoing = false;
  p.start();
  std::vector<HeaderList> bad = {
      {{":method", "GET"}, {":scheme", "https"}, {":authority", "localhost"}},  // no :path
      {{":method", "GET"}, {":scheme", "https"}, {":authority", "localhost"}, {":path", "/"}, {"X-Upper", "1"}},
      {{":method", "GET"}, {"accept", "*/*"}, {":scheme", "https"}, {":authority", "a"}, {":path", "/"}},
      {{":method", "GET"}, {":scheme", "https"}, {":authority", "a"}, {":path", "/"}, {":path", "/"}},
      {{":status", "200"}},
      {{":method", "GET"}, {":scheme", "https"}, {":authority", "a"}, {":path", "/"}, {"connection", "close"}},
  };
  std::vector<uint64_t> ids;
  for (const auto& h : bad) {
    auto id = p.client->send_request(h, true);
    REQUIRE(id.ok());
    ids.push_back(*id);
  }
  // And a good one between them still works.
  auto good = p.client->send_request(get_request(), true);
  REQUIRE(good.ok());
  REQUIRE(p.run_until([&] {
    for (uint64_t id : ids)
      if (!p.cfind(EvType::stream_reset, id)) return false;
    return p.sfind(EvType::headers, *good) != nullptr;
  }));
  for (uint64_t id : ids) {
    CHECK(p.cfind(EvType::stream_reset, id)->code == code(H3Error::message_error));
    CHECK(p.sfind(EvType::stream_error, id)->code == code(H3Error::message_error));
    CHECK(p.sfind(EvType::headers, id) == nullptr);
  }
  CHECK_FALSE(p.client->is_closed());
}

TEST_CASE("h3: content-length must match the DATA", "[h3]") {
  H3Pair p;
  p.ccfg.validate_outgoing = false;
  p.start();
  HeaderList req = {{":method", "POST"}, {":scheme", "https"}, {":authority", "a"}, {":path", "/"},
                    {"content-length", "10"}};
  auto shorter = p.client->send_request(req, false);
  REQUIRE(shorter.ok());
  REQUIRE(p.client->send_data(*shorter, as_bytes("12345"), true).ok());
  auto longer = p.client->send_request(req, false);
  REQUIRE(longer.ok());
  REQUIRE(p.client->send_data(*longer, as_bytes("12345678901"), true).ok());
  // The server reads the bodies: the mismatch shows at the end of the data.
  p.on_pump = [&] {
    uint8_t buf[100];
    for (uint64_t id : {*shorter, *longer})
      if (p.server->stream_exists(id)) (void)p.server->read_data(id, buf);
  };
  REQUIRE(p.run_until([&] {
    return p.cfind(EvType::stream_reset, *shorter) && p.cfind(EvType::stream_reset, *longer);
  }));
  CHECK(p.cfind(EvType::stream_reset, *shorter)->code == code(H3Error::message_error));
  CHECK(p.cfind(EvType::stream_reset, *longer)->code == code(H3Error::message_error));
}

TEST_CASE("h3: a request stream ending without a request", "[h3]") {
  H3Pair p;
  p.start();
  // RFC 9114 §4.1.2: the server answers H3_REQUEST_INCOMPLETE.
  uint64_t id = raw_stream(*p.q.cconn, true, {}, true);
  REQUIRE(p.run_until([&] { return p.sfind(EvType::stream_error, id); }));
  CHECK(p.sfind(EvType::stream_error, id)->code == code(H3Error::request_incomplete));
  CHECK_FALSE(p.server->is_closed());
}

// ---------------------------------------------------------------- connection errors

namespace {

// A server with a raw QUIC client: the client writes `bytes` on a new
// stream and the server must close the connection with `expected`.
void expect_server_closes(std::function<void(H3Pair&)> act, H3Error expected) {
  H3Pair p;
  p.client_h3 = false;
  p.start();
  act(p);
  REQUIRE(p.wait_client_closed());
  CHECK(*p.client_close_code() == code(expected));
  CHECK(p.server->is_closed());
}

std::vector<uint8_t> concat(std::vector<uint8_t> a, const std::vector<uint8_t>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

}  // namespace

TEST_CASE("h3: DATA before HEADERS is H3_FRAME_UNEXPECTED", "[h3]") {
  H3Pair p;
  p.start();
  std::vector<uint8_t> data;
  append_frame(data, DataFrame{{'h', 'i'}});
  raw_stream(*p.q.cconn, true, data, true);
  REQUIRE(p.wait_client_closed());
  CHECK(*p.client_close_code() == code(H3Error::frame_unexpected));
}

TEST_CASE("h3: control stream errors", "[h3]") {
  SECTION("second control stream") {
    H3Pair p;
    p.start();  // the H3 client opened its own control stream already
    raw_stream(*p.q.cconn, false, control_stream_with({}), false);
    REQUIRE(p.wait_client_closed());
    CHECK(*p.client_close_code() == code(H3Error::stream_creation_error));
  }
  SECTION("closing the control stream") {
    expect_server_closes([](H3Pair& p) { raw_stream(*p.q.cconn, false, control_stream_with({}), true); },
                         H3Error::closed_critical_stream);
  }
  SECTION("resetting the control stream") {
    expect_server_closes(
        [](H3Pair& p) {
          uint64_t id = raw_stream(*p.q.cconn, false, control_stream_with({}), false);
          p.run_until([&] { return p.server->settings_received(); });
          REQUIRE(p.q.cconn->stream_reset(id, 0).ok());
        },
        H3Error::closed_critical_stream);
  }
  SECTION("stopping the server's control stream") {
    H3Pair p;
    p.start();
    // The client's QPACK and control streams are 2, 6, 10; the server's 3, 7, 11.
    REQUIRE(p.q.cconn->stream_stop_sending(3, 0).ok());
    REQUIRE(p.wait_client_closed());
    CHECK(*p.client_close_code() == code(H3Error::closed_critical_stream));
  }
  SECTION("duplicate setting") {
    expect_server_closes(
        [](H3Pair& p) { raw_stream(*p.q.cconn, false, control_stream_with({{0x06, 1}, {0x06, 2}}), false); },
        H3Error::settings_error);
  }
  SECTION("HTTP/2 setting") {
    expect_server_closes(
        [](H3Pair& p) { raw_stream(*p.q.cconn, false, control_stream_with({{0x04, 100}}), false); },
        H3Error::settings_error);
  }
  SECTION("ENABLE_CONNECT_PROTOCOL = 2") {
    expect_server_closes(
        [](H3Pair& p) { raw_stream(*p.q.cconn, false, control_stream_with({{0x08, 2}}), false); },
        H3Error::settings_error);
  }
  SECTION("first frame not SETTINGS") {
    std::vector<uint8_t> b{stream_type::control};
    append_frame(b, GoawayFrame{0});
    expect_server_closes([&](H3Pair& p) { raw_stream(*p.q.cconn, false, b, false); }, H3Error::missing_settings);
  }
  SECTION("a GREASE frame before SETTINGS") {
    std::vector<uint8_t> b{stream_type::control};
    append_frame(b, UnknownFrame{grease_value(2), {1}});
    append_frame(b, SettingsFrame{});
    expect_server_closes([&](H3Pair& p) { raw_stream(*p.q.cconn, false, b, false); }, H3Error::missing_settings);
  }
  SECTION("SETTINGS twice") {
    auto b = control_stream_with({});
    append_frame(b, SettingsFrame{});
    expect_server_closes([&](H3Pair& p) { raw_stream(*p.q.cconn, false, b, false); }, H3Error::frame_unexpected);
  }
  SECTION("DATA on the control stream") {
    auto b = control_stream_with({});
    append_frame(b, DataFrame{{1, 2, 3}});
    expect_server_closes([&](H3Pair& p) { raw_stream(*p.q.cconn, false, b, false); }, H3Error::frame_unexpected);
  }
  SECTION("HEADERS on the control stream") {
    auto b = control_stream_with({});
    append_frame(b, HeadersFrame{{0, 0}});
    expect_server_closes([&](H3Pair& p) { raw_stream(*p.q.cconn, false, b, false); }, H3Error::frame_unexpected);
  }
  SECTION("an HTTP/2 frame type") {
    auto b = control_stream_with({});
    append_frame(b, 0x06, std::vector<uint8_t>(8, 0));  // PING
    expect_server_closes([&](H3Pair& p) { raw_stream(*p.q.cconn, false, b, false); }, H3Error::frame_unexpected);
  }
  SECTION("malformed GOAWAY") {
    auto b = control_stream_with({});
    append_frame(b, frame_type::goaway, std::vector<uint8_t>{0x00, 0x00});
    expect_server_closes([&](H3Pair& p) { raw_stream(*p.q.cconn, false, b, false); }, H3Error::frame_error);
  }
  SECTION("CANCEL_PUSH for a push never promised") {
    auto b = control_stream_with({});
    append_frame(b, CancelPushFrame{0});
    expect_server_closes([&](H3Pair& p) { raw_stream(*p.q.cconn, false, b, false); }, H3Error::id_error);
  }
  SECTION("MAX_PUSH_ID decreasing") {
    auto b = control_stream_with({});
    append_frame(b, MaxPushIdFrame{5});
    append_frame(b, MaxPushIdFrame{4});
    expect_server_closes([&](H3Pair& p) { raw_stream(*p.q.cconn, false, b, false); }, H3Error::id_error);
  }
  SECTION("PRIORITY_UPDATE for a unidirectional stream") {
    auto b = control_stream_with({});
    append_frame(b, PriorityUpdateFrame{false, 2, "u=1"});
    expect_server_closes([&](H3Pair& p) { raw_stream(*p.q.cconn, false, b, false); }, H3Error::id_error);
  }
  SECTION("a push stream from a client") {
    std::vector<uint8_t> b{stream_type::push, 0x00};
    expect_server_closes([&](H3Pair& p) { raw_stream(*p.q.cconn, false, b, false); },
                         H3Error::stream_creation_error);
  }
  SECTION("a second QPACK encoder stream") {
    H3Pair p;
    p.start();
    raw_stream(*p.q.cconn, false, std::vector<uint8_t>{stream_type::qpack_encoder}, false);
    REQUIRE(p.wait_client_closed());
    CHECK(*p.client_close_code() == code(H3Error::stream_creation_error));
  }
  SECTION("closing the QPACK decoder stream") {
    expect_server_closes(
        [](H3Pair& p) { raw_stream(*p.q.cconn, false, std::vector<uint8_t>{stream_type::qpack_decoder}, true); },
        H3Error::closed_critical_stream);
  }
  SECTION("a frame cut by FIN on a request stream") {
    std::vector<uint8_t> b;
    append_frame_header(b, frame_type::headers, 10);
    b.push_back(0);
    expect_server_closes([&](H3Pair& p) { raw_stream(*p.q.cconn, true, b, true); }, H3Error::frame_error);
  }
  SECTION("SETTINGS on a request stream") {
    auto b = headers_frame(0, get_request());
    append_frame(b, SettingsFrame{});
    expect_server_closes([&](H3Pair& p) { raw_stream(*p.q.cconn, true, b, false); }, H3Error::frame_unexpected);
  }
  SECTION("PUSH_PROMISE from a client") {
    auto b = headers_frame(0, get_request());
    append_frame(b, PushPromiseFrame{0, {0, 0}});
    expect_server_closes([&](H3Pair& p) { raw_stream(*p.q.cconn, true, b, false); }, H3Error::frame_unexpected);
  }
  SECTION("DATA after trailers") {
    auto b = concat(headers_frame(0, get_request()), headers_frame(0, {{"x-t", "1"}}));
    append_frame(b, DataFrame{{1}});
    expect_server_closes([&](H3Pair& p) { raw_stream(*p.q.cconn, true, b, false); }, H3Error::frame_unexpected);
  }
}

TEST_CASE("h3: unknown frames, settings and stream types are ignored", "[h3]") {
  H3Pair p;
  p.client_h3 = false;
  p.start();
  auto ctrl = control_stream_with({{grease_value(7), 1}, {0x4242, 5}});
  append_frame(ctrl, UnknownFrame{grease_value(8), {1, 2}});
  append_frame(ctrl, UnknownFrame{0xabcdef, std::vector<uint8_t>(100, 3)});
  raw_stream(*p.q.cconn, false, ctrl, false);
  // Reserved and unknown stream types: read aborted with H3_STREAM_CREATION_ERROR.
  std::vector<uint8_t> g;
  append_varint(g, grease_value(100));
  g.push_back(0x55);
  uint64_t gid = raw_stream(*p.q.cconn, false, g, false);
  // A request with GREASE frames around its HEADERS and DATA.
  std::vector<uint8_t> req;
  append_frame(req, UnknownFrame{grease_value(1), {9}});
  req = concat(req, headers_frame(8, {{":method", "POST"}, {":scheme", "https"}, {":authority", "a"}, {":path", "/"}}));
  append_frame(req, UnknownFrame{grease_value(2), {}});
  append_frame(req, DataFrame{{'o', 'k'}});
  append_frame(req, UnknownFrame{0x3f3f3f, {1, 2, 3}});
  uint64_t rid = raw_stream(*p.q.cconn, true, req, true);
  std::optional<BodyReader> rx;
  p.on_pump = [&] {
    if (!rx && p.sfind(EvType::headers, rid)) rx = BodyReader{p.server.get(), rid};
    if (rx) rx->pump();
  };
  REQUIRE(p.run_until([&] { return rx && rx->fin; }));
  CHECK(rx->got == std::vector<uint8_t>{'o', 'k'});
  REQUIRE(p.server->peer_settings());
  CHECK(p.server->peer_settings()->get(0x4242) == 5);
  bool stopped = false;
  REQUIRE(p.run_until([&] {
    for (const auto& e : p.craw)
      if (e.type == quic::Event::Type::stop_sending && e.stream_id == gid) {
        stopped = e.error_code == code(H3Error::stream_creation_error);
        return true;
      }
    return false;
  }));
  CHECK(stopped);
  CHECK_FALSE(p.server->is_closed());
}

TEST_CASE("h3: client-side errors from a misbehaving server", "[h3]") {
  SECTION("PUSH_PROMISE without MAX_PUSH_ID") {
    H3Pair p;
    p.start();
    auto id = p.client->send_request(get_request(), true);
    REQUIRE(id.ok());
    REQUIRE(p.run_until([&] { return p.sfind(EvType::headers, *id); }));
    std::vector<uint8_t> pp;
    append_frame(pp, PushPromiseFrame{0, {0, 0, 0xd1}});
    REQUIRE(p.q.sconn->stream_write(*id, pp, false).ok());
    REQUIRE(p.run_until([&] { return p.cfind(EvType::closed); }));
    CHECK(p.cfind(EvType::closed)->code == code(H3Error::id_error));
  }
  SECTION("a push stream") {
    H3Pair p;
    p.start();
    raw_stream(*p.q.sconn, false, std::vector<uint8_t>{stream_type::push, 0}, false);
    REQUIRE(p.run_until([&] { return p.cfind(EvType::closed); }));
    CHECK(p.cfind(EvType::closed)->code == code(H3Error::id_error));
  }
  SECTION("a server-initiated bidirectional stream") {
    H3Pair p;
    p.start();
    raw_stream(*p.q.sconn, true, headers_frame(1, get_request()), false);
    REQUIRE(p.run_until([&] { return p.cfind(EvType::closed); }));
    CHECK(p.cfind(EvType::closed)->code == code(H3Error::stream_creation_error));
  }
  SECTION("GOAWAY naming a non-request stream, then an increasing one") {
    for (uint64_t bad : {uint64_t{3}, uint64_t{2}}) {
      H3Pair p;
      p.start();
      // The server's own control stream (ID 3) carries the frame.
      std::vector<uint8_t> g;
      append_frame(g, GoawayFrame{bad});
      REQUIRE(p.q.sconn->stream_write(3, g, false).ok());
      REQUIRE(p.run_until([&] { return p.cfind(EvType::closed); }));
      CHECK(p.cfind(EvType::closed)->code == code(H3Error::id_error));
    }
    H3Pair p;
    p.start();
    std::vector<uint8_t> g;
    append_frame(g, GoawayFrame{4});
    append_frame(g, GoawayFrame{8});
    REQUIRE(p.q.sconn->stream_write(3, g, false).ok());
    REQUIRE(p.run_until([&] { return p.cfind(EvType::closed); }));
    CHECK(p.cfind(EvType::closed)->code == code(H3Error::id_error));
    CHECK(p.cfind(EvType::goaway)->code == 4);
  }
  SECTION("PRIORITY_UPDATE from a server") {
    H3Pair p;
    p.start();
    std::vector<uint8_t> f;
    append_frame(f, PriorityUpdateFrame{false, 0, "u=1"});
    REQUIRE(p.q.sconn->stream_write(3, f, false).ok());
    REQUIRE(p.run_until([&] { return p.cfind(EvType::closed); }));
    CHECK(p.cfind(EvType::closed)->code == code(H3Error::frame_unexpected));
  }
  SECTION("MAX_PUSH_ID from a server") {
    H3Pair p;
    p.start();
    std::vector<uint8_t> f;
    append_frame(f, MaxPushIdFrame{1});
    REQUIRE(p.q.sconn->stream_write(3, f, false).ok());
    REQUIRE(p.run_until([&] { return p.cfind(EvType::closed); }));
    CHECK(p.cfind(EvType::closed)->code == code(H3Error::frame_unexpected));
  }
  SECTION("a malformed response") {
    H3Pair p;
    p.scfg.validate_outgoing = false;
    p.start();
    auto id = p.client->send_request(get_request(), true);
    REQUIRE(id.ok());
    REQUIRE(p.run_until([&] { return p.sfind(EvType::headers, *id); }));
    REQUIRE(p.server->send_response(*id, {{":status", "2000"}}, true).ok());
    REQUIRE(p.run_until([&] { return p.cfind(EvType::stream_error, *id); }));
    CHECK(p.cfind(EvType::stream_error, *id)->code == code(H3Error::message_error));
    CHECK(p.cfind(EvType::headers, *id) == nullptr);
    CHECK_FALSE(p.client->read_data(*id, {}).ok());
  }
  SECTION("a body on a HEAD response") {
    H3Pair p;
    p.start();
    HeaderList head = get_request();
    head[0].value = "HEAD";
    auto id = p.client->send_request(head, true);
    REQUIRE(id.ok());
    REQUIRE(p.run_until([&] { return p.sfind(EvType::headers, *id); }));
    REQUIRE(p.server->send_response(*id, {{":status", "200"}, {"content-length", "5"}}, false).ok());
    REQUIRE(p.server->send_data(*id, as_bytes("hello"), true).ok());
    REQUIRE(p.run_until([&] { return p.cfind(EvType::stream_error, *id); }));
    CHECK(p.cfind(EvType::stream_error, *id)->code == code(H3Error::message_error));
  }
}

namespace {

HeaderList wt_connect() {
  return {{":method", "CONNECT"}, {":protocol", "webtransport"}, {":scheme", "https"},
          {":authority", "localhost"}, {":path", "/chat"}, {"origin", "https://localhost"}};
}

}  // namespace

TEST_CASE("h3: extended CONNECT needs the server's SETTINGS", "[h3]") {
  H3Pair p;
  p.start();  // the server did not enable it
  auto r = p.client->send_request(wt_connect(), false);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == code(H3Error::message_error));
  // Sent anyway, the server resets the stream with H3_MESSAGE_ERROR.
  H3Pair q;
  q.ccfg.validate_outgoing = false;
  q.start();
  auto id = q.client->send_request(wt_connect(), false);
  REQUIRE(id.ok());
  REQUIRE(q.run_until([&] { return q.cfind(EvType::stream_reset, *id); }));
  CHECK(q.cfind(EvType::stream_reset, *id)->code == code(H3Error::message_error));
  CHECK(q.sfind(EvType::headers, *id) == nullptr);
}

TEST_CASE("h3: a datagram with a bad quarter stream ID is H3_DATAGRAM_ERROR", "[h3]") {
  H3Pair p;
  p.scfg.enable_datagrams = true;
  p.ccfg.enable_datagrams = true;
  p.start();
  // 2^60 as a quarter stream ID is one too many (RFC 9297 §2.1).
  std::vector<uint8_t> d;
  append_varint(d, kMaxQuarterStreamId + 1);
  REQUIRE(p.q.cconn->send_datagram(d).ok());
  REQUIRE(p.wait_client_closed());
  CHECK(*p.client_close_code() == code(H3Error::datagram_error));
}

TEST_CASE("h3: H3_DATAGRAM without the QUIC DATAGRAM extension", "[h3]") {
  H3Pair p;
  p.client_h3 = false;
  p.q.client_cfg.conn.max_datagram_frame_size = 0;
  p.start();
  raw_stream(*p.q.cconn, false, control_stream_with({{setting_id::h3_datagram, 1}}), false);
  REQUIRE(p.wait_client_closed());
  CHECK(*p.client_close_code() == code(H3Error::settings_error));  // RFC 9297 §2.1.1
}


TEST_CASE("h3: field sections beyond SETTINGS_MAX_FIELD_SECTION_SIZE", "[h3]") {
  H3Pair p;
  p.scfg.max_field_section_size = 300;  // get_request() is 237
  p.start();
  // RFC 9114 §4.2.2: we do not send what the peer said it would refuse.
  HeaderList big = get_request();
  big.push_back({"x-big", std::string(300, 'a')});
  CHECK_FALSE(p.client->send_request(big, true).ok());
  auto ok = p.client->send_request(get_request(), true);
  REQUIRE(ok.ok());
  REQUIRE(p.run_until([&] { return p.sfind(EvType::headers, *ok); }));
  // A peer that sends one anyway: a HEADERS frame too large to buffer is a
  // stream error (H3_EXCESSIVE_LOAD), and the connection lives on.
  std::vector<uint8_t> huge;
  append_frame_header(huge, frame_type::headers, 100'000);
  huge.resize(huge.size() + 2000, 0);
  uint64_t id = raw_stream(*p.q.cconn, true, huge, false);
  REQUIRE(p.run_until([&] { return p.sfind(EvType::stream_error, id); }));
  CHECK(p.sfind(EvType::stream_error, id)->code == code(H3Error::excessive_load));
  // One that decodes beyond the limit: H3_MESSAGE_ERROR (RFC 9114 §4.2.2).
  HeaderList fat = get_request();
  fat.push_back({"x-fat", std::string(250, 'b')});
  uint64_t id2 = raw_stream(*p.q.cconn, true, headers_frame(id + 4, fat), true);
  REQUIRE(p.run_until([&] { return p.sfind(EvType::stream_error, id2); }));
  CHECK(p.sfind(EvType::stream_error, id2)->code == code(H3Error::message_error));
  CHECK_FALSE(p.server->is_closed());
  CHECK_FALSE(p.client->is_closed());
}

TEST_CASE("h3: a datagram for a request without datagram semantics", "[h3]") {
  H3Pair p;
  p.scfg.enable_datagrams = true;
  p.ccfg.enable_datagrams = true;
  p.start();
  auto id = p.client->send_request(get_request(), false);
  REQUIRE(id.ok());
  CHECK_FALSE(p.client->send_datagram(*id, as_bytes("x")).ok());  // RFC 9297 §2: GET has none
  REQUIRE(p.run_until([&] { return p.sfind(EvType::headers, *id); }));
  REQUIRE(p.q.cconn->send_datagram(encode_http_datagram(*id, as_bytes("x"))).ok());
  REQUIRE(p.run_until([&] { return p.cfind(EvType::stream_reset, *id); }));
  CHECK(p.cfind(EvType::stream_reset, *id)->code == code(H3Error::datagram_error));
  CHECK(p.sfind(EvType::datagram) == nullptr);
  CHECK_FALSE(p.server->is_closed());
}

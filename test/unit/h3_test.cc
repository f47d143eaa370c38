// HTTP/3 sessions over an in-memory QUIC pair: requests and responses,
// SETTINGS, GOAWAY, extended CONNECT, HTTP datagrams, capsules, extension
// streams and priorities. Error codes on the wire: h3_error_test.cc.
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

// ---------------------------------------------------------------- basics

TEST_CASE("h3: SETTINGS exchange with GREASE", "[h3]") {
  H3Pair p;
  p.scfg.extra_settings = {{setting_id::webtransport_draft02, 1}, {0x7777, 42}};
  p.scfg.enable_connect_protocol = true;
  p.scfg.max_field_section_size = 20000;
  p.scfg.qpack_max_table_capacity = 1234;
  p.ccfg.grease_stream = true;  // and a reserved-type stream, which the server ignores
  p.start();
  const Settings* cs = p.client->peer_settings();
  REQUIRE(cs);
  CHECK(cs->qpack_max_table_capacity() == 1234);
  CHECK(cs->qpack_blocked_streams() == 16);
  CHECK(cs->max_field_section_size() == 20000);
  CHECK(cs->enable_connect_protocol());
  CHECK_FALSE(cs->h3_datagram());
  CHECK(cs->get(setting_id::webtransport_draft02) == 1);
  CHECK(cs->get(0x7777) == 42);
  // Our GREASE setting never reaches the application view.
  for (const auto& [id, v] : cs->values) CHECK_FALSE(is_grease(id));
  const Settings* ss = p.server->peer_settings();
  REQUIRE(ss);
  CHECK(ss->max_field_section_size() == 64 * 1024);
  CHECK_FALSE(ss->enable_connect_protocol());
  CHECK(p.cfind(EvType::settings));
  CHECK(p.sfind(EvType::settings));
  // GREASE frames, settings and streams from both sides were ignored.
  p.settle();
  CHECK_FALSE(p.client->is_closed());
  CHECK_FALSE(p.server->is_closed());
}

TEST_CASE("h3: GET with a response body and trailers, byte-exact", "[h3]") {
  H3Pair p;
  p.start();
  auto id = p.client->send_request(get_request(), true);
  REQUIRE(id.ok());
  CHECK(*id == 0);
  REQUIRE(p.run_until([&] { return p.sfind(EvType::finished, *id); }));
  const auto* req = p.sfind(EvType::headers, *id);
  REQUIRE(req);
  CHECK(req->fields == get_request());
  // Headers, then finished: a GET without a body.
  CHECK(p.sfind(EvType::data, *id) == nullptr);

  const auto body = pattern(200'000, 7);
  HeaderList resp = {{":status", "200"}, {"content-type", "application/octet-stream"},
                     {"content-length", std::to_string(body.size())}};
  REQUIRE(p.server->send_response(*id, resp, false).ok());
  BodySender tx{p.server.get(), *id, body, HeaderList{{"x-checksum", "abc"}, {"x-more", "1"}}};
  BodyReader rx{p.client.get(), *id};
  p.on_pump = [&] {
    tx.pump();
    rx.pump();
  };
  REQUIRE(p.run_until([&] { return rx.fin; }));
  const auto* h = p.cfind(EvType::headers, *id);
  REQUIRE(h);
  CHECK(h->status == 200);
  CHECK(h->fields == resp);
  CHECK(rx.got == body);
  const auto* t = p.cfind(EvType::trailers, *id);
  REQUIRE(t);
  CHECK(t->fields == HeaderList{{"x-checksum", "abc"}, {"x-more", "1"}});
  CHECK(p.cfind(EvType::finished, *id));
  CHECK(p.count(p.cev, EvType::stream_error) == 0);
  // Both sides forget the finished stream.
  p.settle();
  CHECK_FALSE(p.client->stream_exists(*id));
  CHECK_FALSE(p.server->stream_exists(*id));
}

TEST_CASE("h3: recycle()d field lists are decoded into, with nothing left of the last message", "[h3]") {
  H3Pair p;
  p.start();
  HeaderList a = get_request("/first");
  for (int i = 0; i < 6; ++i) a.push_back({"x-extra-" + std::to_string(i), std::string(40, 'a' + i)});
  auto id_a = p.client->send_request(a, true);
  REQUIRE(id_a.ok());
  REQUIRE(p.run_until([&] { return p.sfind(EvType::headers, *id_a) != nullptr; }));
  HeaderList got_a = std::move(const_cast<h3::Event*>(p.sfind(EvType::headers, *id_a))->fields);
  CHECK(got_a == a);
  const HeaderField* buffer = got_a.data();
  p.server->recycle(std::move(got_a));
  HeaderList b = get_request("/second");
  auto id_b = p.client->send_request(b, true);
  REQUIRE(id_b.ok());
  REQUIRE(p.run_until([&] { return p.sfind(EvType::headers, *id_b) != nullptr; }));
  const HeaderList& got_b = p.sfind(EvType::headers, *id_b)->fields;
  CHECK(got_b == b);  // exactly B's fields: none of A's extras
  CHECK(got_b.data() == buffer);  // decoded into the recycled memory
  p.server->recycle(HeaderList{});  // an empty list is simply dropped
}

TEST_CASE("h3: a held response goes out with its body, after flush_held, or before trailers", "[h3]") {
  // send_response_held() keeps the HEADERS frame until the first DATA frame
  // (one QUIC write), flush_held(), trailers, finish() or process(); the
  // client sees the same response whichever way it left.
  enum Way { small_body, flushed, trailers_only, finished_empty, big_body, by_process };
  for (Way way : {small_body, flushed, trailers_only, finished_empty, big_body, by_process}) {
    CAPTURE(static_cast<int>(way));
    H3Pair p;
    p.start();
    auto id = p.client->send_request(get_request(), true);
    REQUIRE(id.ok());
    REQUIRE(p.run_until([&] { return p.sfind(EvType::finished, *id); }));
    const auto body = pattern(way == big_body ? 100'000 : way == small_body || way == flushed ? 1000 : 0, 3);
    HeaderList resp = {{":status", "200"}, {"content-length", std::to_string(body.size())}};
    REQUIRE(p.server->send_response_held(*id, resp).ok());
    // Held: nothing was given to QUIC yet.
    CHECK(p.server->send_response(*id, resp, false).ok() == false);  // one final response only
    std::optional<BodySender> tx;  // big_body: lives as long as on_pump uses it
    switch (way) {
      case small_body:
        REQUIRE(*p.server->send_data(*id, body, true) == body.size());
        break;
      case flushed:
        p.server->flush_held(*id);
        REQUIRE(*p.server->send_data(*id, body, true) == body.size());
        break;
      case trailers_only:
        REQUIRE(p.server->send_trailers(*id, {{"x-t", "1"}}).ok());
        break;
      case finished_empty:
        REQUIRE(p.server->finish(*id).ok());
        break;
      case big_body:
        tx.emplace(BodySender{p.server.get(), *id, body, {}});
        p.on_pump = [&] { tx->pump(); };
        tx->pump();
        break;
      case by_process:
        break;  // process() (run by pump) writes it; the body never comes
    }
    BodyReader rx{p.client.get(), *id};
    auto prev = p.on_pump;
    p.on_pump = [&] {
      if (prev) prev();
      rx.pump();
    };
    if (way == by_process) {
      REQUIRE(p.run_until([&] { return p.cfind(EvType::headers, *id) != nullptr; }));
      REQUIRE(p.server->finish(*id).ok());
    }
    REQUIRE(p.run_until([&] { return rx.fin || p.cfind(EvType::finished, *id); }));
    const auto* h = p.cfind(EvType::headers, *id);
    REQUIRE(h);
    CHECK(h->status == 200);
    CHECK(h->fields == resp);
    CHECK(p.cfind(EvType::finished, *id));
    CHECK(rx.got == body);
    CHECK((p.cfind(EvType::trailers, *id) != nullptr) == (way == trailers_only));
    CHECK(p.count(p.cev, EvType::stream_error) == 0);
  }
  // Two held responses: holding the second sends the first as it is.
  H3Pair p;
  p.start();
  auto a = p.client->send_request(get_request("/a"), true);
  auto b = p.client->send_request(get_request("/b"), true);
  REQUIRE((a.ok() && b.ok()));
  REQUIRE(p.run_until([&] { return p.sfind(EvType::finished, *a) && p.sfind(EvType::finished, *b); }));
  const auto body_a = pattern(500, 1), body_b = pattern(700, 2);
  REQUIRE(p.server->send_response_held(*a, {{":status", "200"}}).ok());
  REQUIRE(p.server->send_response_held(*b, {{":status", "201"}}).ok());
  REQUIRE(*p.server->send_data(*b, body_b, true) == body_b.size());
  REQUIRE(*p.server->send_data(*a, body_a, true) == body_a.size());
  BodyReader ra{p.client.get(), *a}, rb{p.client.get(), *b};
  p.on_pump = [&] {
    ra.pump();
    rb.pump();
  };
  REQUIRE(p.run_until([&] { return ra.fin && rb.fin; }));
  CHECK(p.cfind(EvType::headers, *a)->status == 200);
  CHECK(p.cfind(EvType::headers, *b)->status == 201);
  CHECK(ra.got == body_a);
  CHECK(rb.got == body_b);
}

TEST_CASE("h3: POST with backpressure in both directions and trailers", "[h3]") {
  H3Pair p;
  // Small stream windows and send buffers force short writes.
  p.q.client_cfg.conn.initial_max_stream_data = 16 * 1024;
  p.q.client_cfg.conn.max_stream_window = 16 * 1024;
  p.q.client_cfg.conn.stream_send_buffer = 8 * 1024;
  p.q.server_cfg.conn.initial_max_stream_data = 16 * 1024;
  p.q.server_cfg.conn.max_stream_window = 16 * 1024;
  p.q.server_cfg.conn.stream_send_buffer = 8 * 1024;
  p.start();
  const auto up = pattern(150'000, 1);
  HeaderList req = {{":method", "POST"}, {":scheme", "https"}, {":authority", "localhost"},
                    {":path", "/upload"}, {"content-length", std::to_string(up.size())}};
  auto id = p.client->send_request(req, false);
  REQUIRE(id.ok());
  BodySender ctx{p.client.get(), *id, up, HeaderList{{"x-sent", "150000"}}};
  std::optional<BodyReader> srx;
  std::optional<BodySender> stx;
  BodyReader crx{p.client.get(), *id, {}, false, 1000};
  p.on_pump = [&] {
    ctx.pump();
    if (!srx && p.sfind(EvType::headers, *id)) srx = BodyReader{p.server.get(), *id, {}, false, 777};
    if (srx) srx->pump();
    // Echo once the whole request is in.
    if (srx && srx->fin && !stx) {
      REQUIRE(p.server->send_response(*id, {{":status", "201"}}, false).ok());
      stx = BodySender{p.server.get(), *id, srx->got, HeaderList{{"x-echo", "yes"}}};
    }
    if (stx) stx->pump();
    crx.pump();
  };
  REQUIRE(p.run_until([&] { return crx.fin; }, std::chrono::seconds(60)));
  CHECK(srx->got == up);
  CHECK(crx.got == up);
  CHECK(ctx.short_writes > 0);
  CHECK(stx->short_writes > 0);
  CHECK(p.count(p.cev, EvType::writable) > 0);
  CHECK(p.count(p.sev, EvType::writable) > 0);
  const auto* st = p.sfind(EvType::trailers, *id);
  REQUIRE(st);
  CHECK(st->fields == HeaderList{{"x-sent", "150000"}});
  const auto* ct = p.cfind(EvType::trailers, *id);
  REQUIRE(ct);
  CHECK(ct->fields == HeaderList{{"x-echo", "yes"}});
  // Order on the server: headers, data..., trailers, finished.
  std::vector<EvType> order;
  for (const auto& e : p.sev)
    if (e.stream_id == *id && e.type != EvType::data && e.type != EvType::writable && e.type != EvType::settings)
      order.push_back(e.type);
  CHECK(order == std::vector<EvType>{EvType::headers, EvType::trailers, EvType::finished});
}

TEST_CASE("h3: finish() after a write that filled the stream still ends it", "[h3]") {
  // Regression: the DATA frame header of a write that fills the QUIC send
  // buffer waits in the stream's queue; finish() then returned success
  // without ever sending FIN.
  H3Pair p;
  p.q.server_cfg.conn.stream_send_buffer = 8 * 1024;
  p.start();
  auto id = p.client->send_request(get_request(), true);
  REQUIRE(id.ok());
  REQUIRE(p.run_until([&] { return p.sfind(EvType::finished, *id); }));
  REQUIRE(p.server->send_response(*id, {{":status", "200"}}, false).ok());
  const uint64_t room = p.server->quic().stream_writable_bytes(*id);
  REQUIRE(room > 16);
  const auto body = pattern(static_cast<size_t>(room), 3);
  auto w = p.server->send_data(*id, body, false);
  REQUIRE(w.ok());
  REQUIRE(*w == body.size());
  REQUIRE(p.server->finish(*id).ok());
  BodyReader rx{p.client.get(), *id};
  p.on_pump = [&] { rx.pump(); };
  REQUIRE(p.run_until([&] { return rx.fin; }, std::chrono::seconds(5)));
  CHECK(rx.got == body);
  CHECK(p.cfind(EvType::finished, *id));
}

TEST_CASE("h3: informational responses precede the final one", "[h3]") {
  H3Pair p;
  p.start();
  auto id = p.client->send_request(get_request(), true);
  REQUIRE(id.ok());
  REQUIRE(p.run_until([&] { return p.sfind(EvType::headers, *id); }));
  REQUIRE(p.server->send_response(*id, {{":status", "103"}, {"link", "</s.css>; rel=preload"}}, false).ok());
  CHECK_FALSE(p.server->send_data(*id, as_bytes("x"), false).ok());  // no body before the final response
  REQUIRE(p.server->send_response(*id, {{":status", "204"}}, true).ok());
  REQUIRE(p.run_until([&] { return p.cfind(EvType::finished, *id); }));
  std::vector<int> statuses;
  for (const auto& e : p.cev)
    if (e.type == EvType::headers) statuses.push_back(e.status);
  CHECK(statuses == std::vector<int>{103, 204});
}

TEST_CASE("h3: requests opened and reset by the application", "[h3]") {
  H3Pair p;
  p.start();
  auto id = p.client->send_request(get_request("/slow"), true);
  REQUIRE(id.ok());
  REQUIRE(p.run_until([&] { return p.sfind(EvType::headers, *id); }));
  REQUIRE(p.client->reset_stream(*id).ok());
  REQUIRE(p.run_until([&] { return p.sfind(EvType::stop_sending, *id); }));
  CHECK(p.sfind(EvType::stop_sending, *id)->code == code(H3Error::request_cancelled));
  // The request's FIN was read already, so the reset of the client's send
  // side does not surface; the server's response is refused.
  CHECK_FALSE(p.server->send_data(*id, as_bytes("late"), true).ok());
  CHECK_FALSE(p.server->is_closed());
}

// ---------------------------------------------------------------- GOAWAY

TEST_CASE("h3: server GOAWAY drains in-flight requests, then closes", "[h3]") {
  H3Pair p;
  p.start();
  auto a = p.client->send_request(get_request("/a"), true);
  auto b = p.client->send_request(get_request("/b"), true);
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  REQUIRE(p.run_until([&] { return p.sfind(EvType::headers, *b) && p.sfind(EvType::headers, *a); }));
  REQUIRE(p.server->send_goaway().ok());
  REQUIRE(p.run_until([&] { return p.cfind(EvType::goaway); }));
  // RFC 9114 §5.2: the first stream not processed.
  CHECK(p.cfind(EvType::goaway)->code == 8);
  CHECK(p.client->goaway_received());
  auto c = p.client->send_request(get_request("/c"), true);
  REQUIRE_FALSE(c.ok());
  CHECK(c.error().code == code(H3Error::request_rejected));
  // In-flight requests complete.
  REQUIRE(p.server->send_response(*a, {{":status", "200"}}, false).ok());
  REQUIRE(p.server->send_data(*a, as_bytes("A"), true).ok());
  p.settle();
  CHECK_FALSE(p.client->is_closed());  // /b is still open
  REQUIRE(p.server->send_response(*b, {{":status", "200"}}, false).ok());
  REQUIRE(p.server->send_data(*b, as_bytes("BB"), true).ok());
  BodyReader ra{p.client.get(), *a}, rb{p.client.get(), *b};
  p.on_pump = [&] {
    ra.pump();
    rb.pump();
  };
  REQUIRE(p.wait_client_closed());
  CHECK(*p.client_close_code() == code(H3Error::no_error));
  CHECK(p.cfind(EvType::closed)->by_peer);
  CHECK(ra.got == std::vector<uint8_t>{'A'});
  CHECK(rb.got == std::vector<uint8_t>{'B', 'B'});
  CHECK(p.cfind(EvType::finished, *a));
  CHECK(p.cfind(EvType::finished, *b));
}

TEST_CASE("h3: requests at or above the GOAWAY ID are rejected", "[h3]") {
  H3Pair p;
  p.start();
  auto a = p.client->send_request(get_request("/a"), false);
  REQUIRE(a.ok());
  REQUIRE(p.run_until([&] { return p.sfind(EvType::headers, *a); }));
  REQUIRE(p.server->send_goaway().ok());
  // A request the client sent before it saw the GOAWAY (raw, since the
  // client API refuses new requests after it).
  uint64_t late = raw_stream(*p.q.cconn, true, headers_frame(4, get_request("/late")), true);
  CHECK(late == 4);
  REQUIRE(p.run_until([&] { return p.cfind(EvType::goaway); }));
  // The client's raw stream is unknown to its H3 layer: read QUIC directly.
  REQUIRE(p.run_until([&] {
    auto r = p.q.cconn->stream_read(late, {});
    return !r.ok() && r.error().application && r.error().code == code(H3Error::request_rejected);
  }));
  CHECK(p.sfind(EvType::headers, late) == nullptr);
  // The stream ID in GOAWAY was 4: the raw request was not processed.
  CHECK(p.cfind(EvType::goaway)->code == 4);
}

TEST_CASE("h3: client GOAWAY, then close once its requests are done", "[h3]") {
  H3Pair p;
  p.start();
  auto a = p.client->send_request(get_request("/a"), true);
  REQUIRE(a.ok());
  REQUIRE(p.run_until([&] { return p.sfind(EvType::headers, *a); }));
  REQUIRE(p.client->send_goaway().ok());
  CHECK_FALSE(p.client->send_request(get_request("/b"), true).ok());
  REQUIRE(p.run_until([&] { return p.sfind(EvType::goaway); }));
  CHECK(p.sfind(EvType::goaway)->code == 0);  // a push ID: we allow none
  REQUIRE(p.server->send_response(*a, {{":status", "200"}}, true).ok());
  REQUIRE(p.run_until([&] { return p.sfind(EvType::closed); }));
  CHECK(p.sfind(EvType::closed)->code == code(H3Error::no_error));
  CHECK(p.sfind(EvType::closed)->by_peer);
  CHECK(p.cfind(EvType::finished, *a));
}

// ---------------------------------------------------------------- extended CONNECT

namespace {

HeaderList wt_connect(std::string path = "/chat") {
  return {{":method", "CONNECT"}, {":protocol", "webtransport"}, {":scheme", "https"},
          {":authority", "localhost"}, {":path", std::move(path)}, {"origin", "https://localhost"}};
}

}  // namespace

TEST_CASE("h3: extended CONNECT tunnel with datagrams and capsules", "[h3]") {
  H3Pair p;
  p.scfg.enable_connect_protocol = true;
  p.scfg.enable_datagrams = true;
  p.ccfg.enable_datagrams = true;
  p.start();
  CHECK(p.client->datagrams_enabled());
  CHECK(p.server->datagrams_enabled());
  auto id = p.client->send_request(wt_connect(), false);
  REQUIRE(id.ok());
  REQUIRE(p.run_until([&] { return p.sfind(EvType::headers, *id); }));
  CHECK(find_field(p.sfind(EvType::headers, *id)->fields, ":protocol") == "webtransport");
  REQUIRE(p.server->send_response(*id, {{":status", "200"}}, false).ok());
  REQUIRE(p.run_until([&] { return p.cfind(EvType::headers, *id); }));
  CHECK(p.cfind(EvType::headers, *id)->status == 200);
  // Trailers do not exist in a tunnel (RFC 9114 §4.4).
  CHECK_FALSE(p.client->send_trailers(*id, {{"x", "y"}}).ok());

  // HTTP datagrams both ways (RFC 9297 §2.1).
  CHECK(p.client->max_datagram_payload(*id) > 1000);
  REQUIRE(p.client->send_datagram(*id, as_bytes("ping")).ok());
  REQUIRE(p.run_until([&] { return p.sfind(EvType::datagram, *id); }));
  CHECK(p.sfind(EvType::datagram, *id)->data == std::vector<uint8_t>{'p', 'i', 'n', 'g'});
  REQUIRE(p.server->send_datagram(*id, as_bytes("pong")).ok());
  REQUIRE(p.run_until([&] { return p.cfind(EvType::datagram, *id); }));
  CHECK(p.cfind(EvType::datagram, *id)->data == std::vector<uint8_t>{'p', 'o', 'n', 'g'});
  // A datagram for a stream that does not exist is dropped.
  REQUIRE(p.q.cconn->send_datagram(encode_http_datagram(400, as_bytes("lost"))).ok());
  CHECK_FALSE(p.client->send_datagram(400, as_bytes("x")).ok());

  // Capsules in the tunnel's byte stream, written in awkward pieces.
  std::vector<uint8_t> caps;
  append_datagram_capsule(caps, as_bytes("capsule datagram"));
  append_capsule(caps, grease_value(3), std::vector<uint8_t>(40, 1));  // unknown: skipped
  append_capsule(caps, capsule_type::close_webtransport_session, as_bytes(std::string_view("\0\0\0\x07" "done", 8)));
  for (size_t off = 0; off < caps.size(); off += 5) {
    auto n = p.client->send_data(*id, Bytes{caps}.subspan(off, std::min<size_t>(5, caps.size() - off)), false);
    REQUIRE(n.ok());
    REQUIRE(*n == std::min<size_t>(5, caps.size() - off));
  }
  CapsuleParser parser;
  parser.deliver(capsule_type::close_webtransport_session);
  std::vector<std::pair<uint64_t, std::string>> got;
  p.on_pump = [&] {
    uint8_t buf[7];  // small reads: capsules straddle them
    while (true) {
      auto r = p.server->read_data(*id, buf);
      REQUIRE(r.ok());
      Bytes in{buf, r->bytes};
      while (true) {
        auto c = parser.next(in);
        REQUIRE(c.ok());
        if (!*c) break;
        got.push_back({(*c)->type, std::string(as_string((*c)->value))});
      }
      if (r->bytes < sizeof buf) break;
    }
  };
  REQUIRE(p.run_until([&] { return got.size() == 2; }));
  CHECK(got[0] == std::pair<uint64_t, std::string>{capsule_type::datagram, "capsule datagram"});
  CHECK(got[1].first == capsule_type::close_webtransport_session);
  CHECK(got[1].second == std::string("\0\0\0\x07" "done", 8));
  CHECK(parser.skipped() == 1);
  // Tunnel bytes the other way, and the end of the tunnel.
  REQUIRE(p.server->send_data(*id, as_bytes("bye"), true).ok());
  p.on_pump = nullptr;
  BodyReader rx{p.client.get(), *id};
  p.on_pump = [&] { rx.pump(); };
  REQUIRE(p.run_until([&] { return rx.fin; }));
  CHECK(rx.got == std::vector<uint8_t>{'b', 'y', 'e'});
  CHECK(p.count(p.sev, EvType::datagram) == 1);  // the one for stream 400 was dropped
  CHECK_FALSE(p.server->is_closed());
}

// ---------------------------------------------------------------- extension streams

TEST_CASE("h3: extension streams are handed over raw", "[h3]") {
  H3Pair p;
  p.scfg.extension_bidi_types = {0x41};
  p.scfg.extension_uni_types = {0x54};
  p.ccfg.extension_bidi_types = {0x41};
  p.ccfg.extension_uni_types = {0x54};
  p.start();
  // Client bidi: 0x41, then raw bytes; the server answers on it.
  auto b = p.client->open_extension_stream(true, 0x41);
  REQUIRE(b.ok());
  REQUIRE(p.client->send_data(*b, as_bytes(std::string_view("\x00hello", 6)), true).ok());
  auto u = p.server->open_extension_stream(false, 0x54);
  REQUIRE(u.ok());
  REQUIRE(p.server->send_data(*u, as_bytes("uni!"), true).ok());
  std::optional<BodyReader> sb, cu;
  p.on_pump = [&] {
    if (!sb && p.sfind(EvType::extension_stream, *b)) sb = BodyReader{p.server.get(), *b};
    if (!cu && p.cfind(EvType::extension_stream, *u)) cu = BodyReader{p.client.get(), *u};
    if (sb) sb->pump();
    if (cu) cu->pump();
  };
  REQUIRE(p.run_until([&] { return sb && sb->fin && cu && cu->fin; }));
  CHECK(p.sfind(EvType::extension_stream, *b)->code == 0x41);
  CHECK(p.cfind(EvType::extension_stream, *u)->code == 0x54);
  CHECK(as_string(sb->got) == std::string_view("\x00hello", 6));
  CHECK(as_string(cu->got) == "uni!");
  // The server replies on the bidi stream; a server-initiated bidi stream works too.
  REQUIRE(p.server->send_data(*b, as_bytes("back"), true).ok());
  auto sbidi = p.server->open_extension_stream(true, 0x41);
  REQUIRE(sbidi.ok());
  REQUIRE(p.server->send_data(*sbidi, as_bytes("srv"), true).ok());
  BodyReader cb{p.client.get(), *b};
  std::optional<BodyReader> cs;
  p.on_pump = [&] {
    cb.pump();
    if (!cs && p.cfind(EvType::extension_stream, *sbidi)) cs = BodyReader{p.client.get(), *sbidi};
    if (cs) cs->pump();
  };
  REQUIRE(p.run_until([&] { return cb.fin && cs && cs->fin; }));
  CHECK(as_string(cb.got) == "back");
  CHECK(as_string(cs->got) == "srv");
  CHECK_FALSE(p.client->is_closed());
  CHECK_FALSE(p.server->is_closed());
}

// ---------------------------------------------------------------- priorities

namespace {

// The order in which the client finished reading `ids` when the server
// writes every response at once.
std::vector<uint64_t> completion_order(H3Pair& p, const std::vector<uint64_t>& ids, size_t size) {
  REQUIRE(p.run_until([&] {
    for (uint64_t id : ids)
      if (!p.sfind(EvType::finished, id)) return false;
    return true;
  }));
  // Write everything before any packet leaves.
  for (uint64_t id : ids) {
    REQUIRE(p.server->send_response(id, {{":status", "200"}}, false).ok());
    auto n = p.server->send_data(id, pattern(size, id), true);
    REQUIRE(n.ok());
    REQUIRE(*n == size);
  }
  std::vector<BodyReader> rx;
  for (uint64_t id : ids) rx.push_back(BodyReader{p.client.get(), id});
  std::vector<uint64_t> order;
  p.on_pump = [&] {
    for (auto& r : rx) {
      bool was = r.fin;
      r.pump();
      if (r.fin && !was) order.push_back(r.id);
    }
  };
  REQUIRE(p.run_until([&] { return order.size() == ids.size(); }));
  p.on_pump = nullptr;
  return order;
}

}  // namespace

TEST_CASE("h3: the priority header orders responses", "[h3]") {
  H3Pair p;
  p.start();
  auto req = [&](std::string prio) {
    HeaderList h = get_request();
    if (!prio.empty()) h.push_back({"priority", prio});
    auto id = p.client->send_request(h, true);
    REQUIRE(id.ok());
    return *id;
  };
  uint64_t low = req("u=6"), mid = req(""), high = req("u=0"), bad = req("u=1;;");
  REQUIRE(p.run_until([&] { return p.sfind(EvType::finished, bad); }));
  CHECK(p.server->stream_priority(low) == Priority{6, false});
  CHECK(p.server->stream_priority(mid) == Priority{3, false});
  CHECK(p.server->stream_priority(high) == Priority{0, false});
  CHECK(p.server->stream_priority(bad) == Priority{3, false});  // unparsable: default
  auto order = completion_order(p, {low, mid, high}, 60'000);
  CHECK(order == std::vector<uint64_t>{high, mid, low});
}

TEST_CASE("h3: priority_of reads every priority line of a field section", "[h3]") {
  HeaderList h = get_request();
  CHECK(priority_of(h) == Priority{3, false});  // absent: RFC 9218 defaults
  h.push_back({"priority", "u=5"});
  CHECK(priority_of(h) == Priority{5, false});
  // RFC 9110 §5.3: lines combine into one dictionary; a later member wins.
  h.push_back({"priority", "i, u=2"});
  CHECK(priority_of(h) == Priority{2, true});
  // RFC 8941 §3.2: the last u wins the dictionary; out of range, it is
  // then ignored (RFC 9218 §4.1) and the default urgency applies.
  h.push_back({"priority", "u=9"});
  CHECK(priority_of(h) == Priority{3, true});
  h.push_back({"priority", "=="});  // the combined value no longer parses
  CHECK(priority_of(h) == Priority{3, false});
  CHECK(priority_of({{"priority-x", "u=1"}}) == Priority{3, false});
}

TEST_CASE("h3: PRIORITY_UPDATE overrides the header", "[h3]") {
  H3Pair p;
  p.start();
  HeaderList h = get_request();
  h.push_back({"priority", "u=1"});
  auto a = p.client->send_request(h, true);
  auto b = p.client->send_request(get_request(), true);
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  // Sent with the requests: the update may arrive before the stream opens.
  REQUIRE(p.client->send_priority_update(*a, Priority{7, false}).ok());
  REQUIRE(p.run_until([&] { return p.sfind(EvType::finished, *a) && p.sfind(EvType::finished, *b); }));
  CHECK(p.server->stream_priority(*a) == Priority{7, false});
  CHECK(p.server->stream_priority(*b) == Priority{3, false});
  // And after the stream is open.
  REQUIRE(p.client->send_priority_update(*b, Priority{5, true}).ok());
  REQUIRE(p.run_until([&] { return p.server->stream_priority(*b) == Priority{5, true}; }));
  auto order = completion_order(p, {*a, *b}, 60'000);
  CHECK(order == std::vector<uint64_t>{*b, *a});
}
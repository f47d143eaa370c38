// Test support for HTTP/3: an h3::Connection on each end of a QuicPair (or
// a raw QUIC client, to send what a correct client never would), event
// logs, and helpers that stream bodies through send_data()/read_data().
#pragma once
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdio>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "h3/h3_connection.h"
#include "h3/h3_frame.h"
#include "h3/qpack_encoder.h"
#include "lib/log.h"
#include "lib/random.h"
#include "test/support/quic_pair.h"

namespace wt::test {

using h3::Config;
using h3::HeaderList;
using EvType = h3::Event::Type;

struct H3Pair {
  test::QuicPair q;
  Config ccfg, scfg;
  bool client_h3 = true;  // false: the test speaks raw QUIC as the client
  std::unique_ptr<h3::Connection> client, server;
  std::vector<h3::Event> cev, sev;
  std::vector<quic::Event> craw;  // client QUIC events when client_h3 is false
  std::function<void()> on_pump;

  H3Pair() {
    log::init_from_env();  // WT_LOG=debug shows why a connection closed
    q.client_cfg.conn.tls = test::client_tls({"h3"});
    q.server_cfg.conn.tls = test::server_tls({"h3"});
  }

  void drain() {
    if (client)
      while (auto e = client->poll_event()) cev.push_back(std::move(*e));
    if (server)
      while (auto e = server->poll_event()) sev.push_back(std::move(*e));
  }
  void pump() {
    if (client) client->process();
    else if (q.cconn)
      while (auto e = q.cconn->poll_event()) craw.push_back(std::move(*e));
    if (!server && q.sconn) server = std::make_unique<h3::Connection>(*q.sconn, scfg);
    if (server) server->process();
    drain();
    if (on_pump) on_pump();
    drain();  // what the application's calls produced
  }
  template <class P>
  bool run_until(P pred, Duration limit = std::chrono::seconds(20)) {
    return q.run_until(
        [&] {
          pump();
          return pred();
        },
        limit);
  }
  // Lets everything in flight settle, without jumping to the idle timeout.
  void settle(Duration d = std::chrono::milliseconds(200)) {
    Time end = q.now + d;
    while (true) {
      pump();
      q.flush(*q.client, true);
      q.flush(*q.server, false);
      Time next = std::min(q.client->next_timeout(), q.server->next_timeout());
      for (const auto& w : q.wire) next = std::min(next, w.at);
      if (next > end) break;
      q.step();
    }
    pump();
  }
  void start() {
    q.start();
    if (client_h3) client = std::make_unique<h3::Connection>(*q.cconn, ccfg);
    REQUIRE(run_until([&] {
      bool up = q.cconn->is_established() && server && q.sconn->is_established();
      if (!client_h3) return up;
      return up && client->settings_received() && server->settings_received();
    }));
  }

  void dump() const {  // for debugging a failing test
    for (const auto& e : sev)
      fprintf(stderr, "server: %s stream %llu code %#llx %s\n", h3::event_type_name(e.type),
              (unsigned long long)e.stream_id, (unsigned long long)e.code, e.reason.c_str());
    for (const auto& e : cev)
      fprintf(stderr, "client: %s stream %llu code %#llx %s\n", h3::event_type_name(e.type),
              (unsigned long long)e.stream_id, (unsigned long long)e.code, e.reason.c_str());
  }

  static const h3::Event* find(const std::vector<h3::Event>& v, EvType t, std::optional<uint64_t> id = {}) {
    for (const auto& e : v)
      if (e.type == t && (!id || e.stream_id == *id)) return &e;
    return nullptr;
  }
  static size_t count(const std::vector<h3::Event>& v, EvType t) {
    return static_cast<size_t>(std::count_if(v.begin(), v.end(), [&](const auto& e) { return e.type == t; }));
  }
  const h3::Event* cfind(EvType t, std::optional<uint64_t> id = {}) const { return find(cev, t, id); }
  const h3::Event* sfind(EvType t, std::optional<uint64_t> id = {}) const { return find(sev, t, id); }

  // The error code the client saw in the server's CONNECTION_CLOSE.
  std::optional<uint64_t> client_close_code() const {
    if (client) {
      if (auto e = cfind(EvType::closed)) return e->code;
      return std::nullopt;
    }
    for (const auto& e : craw)
      if (e.type == quic::Event::Type::connection_closed) return e.close.error_code;
    return std::nullopt;
  }
  bool wait_client_closed() {
    return run_until([&] { return client_close_code().has_value(); });
  }
};

inline HeaderList get_request(std::string path = "/index.html") {
  return {{":method", "GET"}, {":scheme", "https"}, {":authority", "localhost"}, {":path", std::move(path)},
          {"user-agent", "wtcpp-test"}};
}

inline std::vector<uint8_t> pattern(size_t n, uint64_t seed) {
  SeededRandom r(seed);
  std::vector<uint8_t> v(n);
  r.fill(v);
  return v;
}

// Sends a body (and optional trailers) as backpressure allows.
struct BodySender {
  h3::Connection* c = nullptr;
  uint64_t id = 0;
  std::vector<uint8_t> data;
  std::optional<HeaderList> trailers;
  size_t off = 0;
  bool done = false;
  size_t short_writes = 0;
  void pump() {
    while (!done) {
      Bytes rest = Bytes{data}.subspan(off);
      auto r = c->send_data(id, rest, !trailers);
      REQUIRE(r.ok());
      off += *r;
      if (off < data.size()) {
        ++short_writes;
        return;
      }
      if (trailers) REQUIRE(c->send_trailers(id, *trailers).ok());
      done = true;
    }
  }
};

// Reads a body until FIN.
struct BodyReader {
  h3::Connection* c = nullptr;
  uint64_t id = 0;
  std::vector<uint8_t> got;
  bool fin = false;
  size_t chunk = 3000;
  void pump() {
    std::vector<uint8_t> buf(chunk);
    while (!fin && c->stream_exists(id)) {
      auto r = c->read_data(id, buf);
      REQUIRE(r.ok());
      got.insert(got.end(), buf.begin(), buf.begin() + static_cast<ptrdiff_t>(r->bytes));
      fin = r->fin;
      if (r->bytes < buf.size()) break;
    }
  }
};

inline std::vector<uint8_t> control_stream_with(std::vector<h3::Setting> settings) {
  std::vector<uint8_t> b;
  h3::append_varint(b, h3::stream_type::control);
  h3::append_frame(b, h3::SettingsFrame{std::move(settings)});
  return b;
}

inline uint64_t raw_stream(quic::Connection& c, bool bidi, Bytes data, bool fin) {
  auto id = c.open_stream(bidi);
  REQUIRE(id.ok());
  auto w = c.stream_write(*id, data, fin);
  REQUIRE(w.ok());
  REQUIRE(*w == data.size());
  return *id;
}

// A QPACK-encoded HEADERS frame as a peer would send it.
inline std::vector<uint8_t> headers_frame(uint64_t stream_id, const HeaderList& h) {
  h3::QpackEncoder enc;
  auto block = enc.encode(stream_id, h);
  REQUIRE(block.ok());
  std::vector<uint8_t> f;
  h3::append_frame(f, h3::HeadersFrame{*block});
  return f;
}

}  // namespace wt::test

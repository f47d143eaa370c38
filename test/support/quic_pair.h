// Test support: TLS configs with a fresh certificate, and a lossless
// in-memory driver for a client and a server endpoint.
#pragma once
#include <catch2/catch.hpp>

#include <memory>
#include <vector>

#include "lib/certgen.h"
#include "lib/random.h"
#include "quic/endpoint.h"
#include "quic/tls_config.h"

namespace wt::test {

inline const certgen::Certificate& test_certificate() {
  static certgen::Certificate cert = [] {
    certgen::Options o;
    o.dns_names = {"localhost"};
    o.ip_addresses = {"127.0.0.1"};
    auto c = certgen::self_signed(o);
    REQUIRE(c.ok());
    return *c;
  }();
  return cert;
}

inline std::shared_ptr<quic::TlsConfig> server_tls(std::vector<std::string> alpn = {"test"}) {
  quic::TlsConfigOptions o;
  o.role = quic::TlsRole::server;
  o.alpn = std::move(alpn);
  o.cert_chain_pem = test_certificate().cert_pem;
  o.private_key_pem = test_certificate().key_pem;
  auto c = quic::TlsConfig::create(o);
  REQUIRE(c.ok());
  return *c;
}

inline std::shared_ptr<quic::TlsConfig> client_tls(std::vector<std::string> alpn = {"test"}) {
  quic::TlsConfigOptions o;
  o.role = quic::TlsRole::client;
  o.alpn = std::move(alpn);
  o.verify = quic::CertVerify::none;
  auto c = quic::TlsConfig::create(o);
  REQUIRE(c.ok());
  return *c;
}

inline quic::Address addr(uint8_t last, uint16_t port) {
  return quic::Address::v4(0x7f000000u | last, port);
}

// Moves datagrams between a client and a server endpoint with no loss and a
// fixed one-way delay, on a virtual clock.
struct QuicPair {
  SeededRandom rng{1};
  quic::EndpointConfig client_cfg, server_cfg;
  std::unique_ptr<quic::Endpoint> client, server;
  quic::Connection* cconn = nullptr;
  quic::Connection* sconn = nullptr;
  quic::Path cpath{addr(1, 50000), addr(2, 443)};
  Time now = from_ns(1'000'000'000);
  Duration delay = std::chrono::milliseconds(5);
  struct InFlight {
    Time at;
    bool to_server;
    std::vector<uint8_t> data;
  };
  std::vector<InFlight> wire;
  std::vector<uint8_t> buf = std::vector<uint8_t>(64 * 1500);

  QuicPair() {
    client_cfg.conn.tls = client_tls();
    client_cfg.conn.rng = &rng;
    client_cfg.conn.max_datagram_frame_size = 1200;
    server_cfg = client_cfg;
    server_cfg.conn.tls = server_tls();
    server_cfg.server = true;
  }
  void start() {
    client = std::make_unique<quic::Endpoint>(client_cfg);
    server = std::make_unique<quic::Endpoint>(server_cfg);
    auto c = client->connect(cpath, now);
    REQUIRE(c.ok());
    cconn = *c;
  }
  void flush(quic::Endpoint& ep, bool to_server) {
    while (true) {
      auto b = ep.send(MutBytes{buf}, now);
      if (!b.bytes) break;
      for (size_t off = 0; off < b.bytes; off += b.segment_size) {
        size_t n = std::min(b.segment_size, b.bytes - off);
        wire.push_back({now + delay, to_server, {buf.begin() + off, buf.begin() + off + n}});
      }
    }
  }
  // One step: send what is ready, then advance to the next event.
  bool step() {
    flush(*client, true);
    flush(*server, false);
    Time next = std::min(client->next_timeout(), server->next_timeout());
    for (auto& w : wire) next = std::min(next, w.at);
    if (next == kTimeInfinite) return false;
    if (next > now) now = next;
    std::vector<InFlight> due;
    for (auto it = wire.begin(); it != wire.end();) {
      if (it->at <= now) {
        due.push_back(std::move(*it));
        it = wire.erase(it);
      } else {
        ++it;
      }
    }
    for (auto& d : due) {
      quic::Path p = d.to_server ? quic::Path{cpath.remote, cpath.local} : cpath;
      (d.to_server ? *server : *client).receive(MutBytes{d.data}, p, quic::Ecn::not_ect, now);
    }
    client->on_timeout(now);
    server->on_timeout(now);
    if (!sconn) sconn = server->accept();
    return true;
  }
  template <class Pred>
  bool run_until(Pred pred, Duration limit = std::chrono::seconds(60)) {
    Time end = now + limit;
    while (!pred()) {
      if (now > end || !step()) return false;
    }
    return true;
  }
  bool handshake() {
    start();
    return run_until([&] { return cconn->is_established() && sconn && sconn->is_established(); });
  }
};

}  // namespace wt::test

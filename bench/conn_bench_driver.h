// Shared by bench/conn_memory.cc and bench/handshake_rate.cc: many client
// connections against one server endpoint, in memory (sans-I/O, no sockets),
// with a real TLS 1.3 handshake (ECDSA P-256 certificate, X25519).
//
// Datagrams move in rounds: everything one side sends is queued in a flat
// buffer (no allocation per datagram) and handed to the other side at once,
// so the cost of the timing calls around each side's work is amortised over
// many connections.
#pragma once
#include <fmt/core.h>
#include <time.h>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <vector>

#include "lib/certgen.h"
#include "lib/random.h"
#include "quic/endpoint.h"
#include "quic/tls_config.h"

namespace wt::bench {

inline int64_t thread_cpu_ns() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}

inline int64_t wall_ns() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}

[[noreturn]] inline void die(const std::string& what) {
  fmt::print(stderr, "error: {}\n", what);
  std::exit(1);
}

inline const certgen::Certificate& p256_certificate() {
  static certgen::Certificate cert = [] {
    certgen::Options o;
    o.dns_names = {"localhost"};
    o.key_type = certgen::KeyType::ecdsa_p256;
    auto c = certgen::self_signed(o);
    if (!c.ok()) die("cannot make a certificate");
    return *c;
  }();
  return cert;
}

inline std::shared_ptr<quic::TlsConfig> bench_tls(bool server) {
  quic::TlsConfigOptions o;
  o.role = server ? quic::TlsRole::server : quic::TlsRole::client;
  o.alpn = {"bench"};
  o.verify = quic::CertVerify::none;
  o.groups = "X25519";
  if (server) {
    o.cert_chain_pem = p256_certificate().cert_pem;
    o.private_key_pem = p256_certificate().key_pem;
  }
  std::string err;
  auto c = quic::TlsConfig::create(o, &err);
  if (!c.ok()) die("TLS config: " + err);
  return *c;
}

// Datagrams sent by one side in one round, in one flat buffer.
class DatagramQueue {
 public:
  struct Item {
    size_t offset, length;
    quic::Path path;  // as the receiver sees it
  };
  void push(const quic::SendBatch& b, Bytes buf) {
    for (size_t off = 0; off < b.bytes; off += b.segment_size) {
      const size_t n = std::min(b.segment_size, b.bytes - off);
      items_.push_back({bytes_.size(), n, quic::Path{b.path.remote, b.path.local}});
      bytes_.insert(bytes_.end(), buf.begin() + static_cast<std::ptrdiff_t>(off),
                    buf.begin() + static_cast<std::ptrdiff_t>(off + n));
    }
  }
  bool empty() const { return items_.empty(); }
  size_t size() const { return items_.size(); }
  // Hands every queued datagram to `ep` and empties the queue.
  void deliver(quic::Endpoint& ep, Time now) {
    for (const Item& it : items_)
      ep.receive(MutBytes{bytes_.data() + it.offset, it.length}, it.path, quic::Ecn::not_ect, now);
    items_.clear();
    bytes_.clear();
  }
  void swap(DatagramQueue& o) {
    items_.swap(o.items_);
    bytes_.swap(o.bytes_);
  }

 private:
  std::vector<Item> items_;
  std::vector<uint8_t> bytes_;
};

// Pulls every batch `ep` has ready into `q`; returns the datagram count.
inline size_t drain(quic::Endpoint& ep, DatagramQueue& q, std::vector<uint8_t>& buf, Time now) {
  size_t before = q.size();
  while (true) {
    quic::SendBatch b = ep.send(MutBytes{buf}, now);
    if (!b.bytes) break;
    q.push(b, Bytes{buf.data(), b.bytes});
  }
  return q.size() - before;
}

inline quic::EndpointConfig bench_endpoint_config(bool server, Random& rng) {
  quic::EndpointConfig cfg;
  cfg.server = server;
  cfg.conn.rng = &rng;
  cfg.conn.tls = bench_tls(server);
  cfg.conn.server_name = "localhost";
  return cfg;
}

// The client address of connection i: distinct ports over a few hosts.
inline quic::Path client_path(size_t i) {
  const uint32_t host = 0x0a000000u | static_cast<uint32_t>(1 + i / 60000);
  const uint16_t port = static_cast<uint16_t>(1024 + i % 60000);
  return quic::Path{quic::Address::v4(host, port), quic::Address::v4(0x0a0000feu, 443)};
}

}  // namespace wt::bench

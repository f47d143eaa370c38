#include "test/sim/scenario.h"

#include <cstring>
#include <stdexcept>

#include "lib/certgen.h"
#include "quic/tls_config.h"

namespace wt::sim {

const char* cc_name(quic::CongestionControl cc) {
  return cc == quic::CongestionControl::new_reno ? "NewReno" : "CUBIC";
}

namespace {

inline uint64_t splitmix(uint64_t z) {
  z += 0x9e3779b97f4a7c15ULL;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

inline uint64_t pattern_word(uint64_t key, uint64_t word) {
  return splitmix(word ^ (key * 0xd1b54a32d192ed03ULL));
}

// One certificate and TLS context pair for every scenario (BoringSSL key
// generation is the slowest part of a short scenario).
const TlsPair& tls_pair() {
  static const TlsPair pair = make_tls_pair(false);
  return pair;
}

}  // namespace

TlsPair make_tls_pair(bool early_data) {
  certgen::Options o;
  o.dns_names = {"sim.test"};
  auto cert = certgen::self_signed(o);
  if (!cert) throw std::runtime_error("certgen failed");
  quic::TlsConfigOptions so;
  so.role = quic::TlsRole::server;
  so.alpn = {"wtsim"};
  so.cert_chain_pem = cert->cert_pem;
  so.private_key_pem = cert->key_pem;
  so.early_data = early_data;
  quic::TlsConfigOptions co;
  co.role = quic::TlsRole::client;
  co.alpn = {"wtsim"};
  co.verify = quic::CertVerify::none;
  co.server_name = "sim.test";
  co.early_data = early_data;
  auto s = quic::TlsConfig::create(so);
  auto c = quic::TlsConfig::create(co);
  if (!s || !c) throw std::runtime_error("TlsConfig::create failed");
  return TlsPair{*c, *s};
}

void pattern_fill(uint64_t key, uint64_t offset, MutBytes out) {
  size_t i = 0;
  while (i < out.size()) {
    uint64_t pos = offset + i;
    uint64_t w = pattern_word(key, pos >> 3);
    size_t shift = pos & 7;
    size_t n = std::min<size_t>(8 - shift, out.size() - i);
    for (size_t k = 0; k < n; k++) out[i + k] = static_cast<uint8_t>(w >> (8 * (shift + k)));
    i += n;
  }
}

size_t pattern_mismatch(uint64_t key, uint64_t offset, Bytes data) {
  uint8_t tmp[4096];
  for (size_t i = 0; i < data.size(); i += sizeof tmp) {
    size_t n = std::min(sizeof tmp, data.size() - i);
    pattern_fill(key, offset + i, MutBytes(tmp, n));
    if (std::memcmp(tmp, data.data() + i, n) != 0)
      for (size_t k = 0; k < n; k++)
        if (tmp[k] != data[i + k]) return i + k;
  }
  return SIZE_MAX;
}

PatternWriter::PatternWriter(uint64_t stream_id, uint64_t key, uint64_t total, size_t chunk)
    : id_(stream_id), key_(key), total_(total), buf_(std::min<uint64_t>(chunk, total)) {}

bool PatternWriter::write(quic::Connection& conn) {
  while (!fin_written_ && !failed_) {
    if (written_ >= buf_off_ + buf_len_) {  // refill only when consumed
      buf_off_ = written_;
      buf_len_ = static_cast<size_t>(std::min<uint64_t>(buf_.size(), total_ - written_));
      pattern_fill(key_, buf_off_, MutBytes(buf_.data(), buf_len_));
    }
    const size_t from = static_cast<size_t>(written_ - buf_off_);
    Bytes data(buf_.data() + from, buf_len_ - from);
    const bool fin = written_ + data.size() == total_;
    auto r = conn.stream_write(id_, data, fin);
    if (!r) {
      failed_ = true;
      return false;
    }
    written_ += *r;
    if (*r == data.size() && fin) fin_written_ = true;
    if (*r < data.size() || data.empty()) break;  // backpressure
  }
  return !failed_;
}

void PatternReader::read(quic::Connection& conn, MutBytes scratch) {
  while (!fin_ && !corrupt_) {
    auto r = conn.stream_read(id_, scratch);
    if (!r) {
      corrupt_ = true;
      return;
    }
    if (r->bytes &&
        pattern_mismatch(key_, received_, Bytes(scratch.data(), r->bytes)) != SIZE_MAX)
      corrupt_ = true;
    received_ += r->bytes;
    if (r->fin) fin_ = true;
    if (r->bytes == 0) return;
  }
}

Scenario::Scenario(const ScenarioOptions& o)
    : sim(o.seed), client_rng_(o.seed * 1000 + 1), server_rng_(o.seed * 1000 + 2) {
  const TlsPair& tls = tls_pair();
  auto make = [&](bool is_server) {
    quic::EndpointConfig ec;
    ec.server = is_server;
    ec.conn.tls = is_server ? tls.server : tls.client;
    ec.conn.server_name = "sim.test";
    ec.conn.rng = is_server ? &server_rng_ : &client_rng_;
    ec.conn.congestion_control = o.cc;
    if (o.tweak) o.tweak(ec.conn, is_server);
    return std::make_unique<EndpointNode>(ec);
  };
  client_ = make(false);
  server_ = make(true);
  sim.add_node(*client_, kClientAddr);
  sim.add_node(*server_, kServerAddr);
  sim.add_link(kClientAddr, kServerAddr, o.c2s);
  sim.add_link(kServerAddr, kClientAddr, o.s2c);
  client_->app = [this](Time now) { client_app(now); };
  server_->app = [this](Time now) { server_app(now); };
  start = sim.now();
  auto c = client_->endpoint().connect(Path{kClientAddr, kServerAddr}, start);
  if (!c) throw std::runtime_error("Endpoint::connect failed: " + std::string(c.error().detail));
  client_conn = *c;
}

bool Scenario::established() const {
  return client_conn && client_conn->is_established() && server_conn &&
         server_conn->is_established();
}

void Scenario::client_app(Time now) {
  if (!client_conn) return;
  while (auto ev = client_conn->poll_event()) {
    if (ev->type == quic::Event::Type::connection_closed && !client_closed) {
      client_closed = ev->close;
      client_closed_at = now;
    }
    if (on_client_event) on_client_event(*client_conn, *ev, now);
  }
  if (client_pump) client_pump(*client_conn, now);
}

void Scenario::server_app(Time now) {
  while (quic::Connection* c = server_->endpoint().accept()) {
    if (!server_conn) server_conn = c;
    accepted++;
  }
  if (!server_conn) return;
  while (auto ev = server_conn->poll_event()) {
    if (ev->type == quic::Event::Type::connection_closed && !server_closed) {
      server_closed = ev->close;
      server_closed_at = now;
    }
    if (on_server_event) on_server_event(*server_conn, *ev, now);
  }
  if (server_pump) server_pump(*server_conn, now);
}

}  // namespace wt::sim

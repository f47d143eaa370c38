// In-memory client->server bulk transfer through the whole QUIC connection
// (no sockets): separates protocol cost from crypto and I/O.
//
//   transfer [--json] [--bytes N] [--cc cubic|newreno] [--only aes|null] [--no-pmtud]
//
// Runs the same transfer twice in one process: with AES-128-GCM, and with
// the null cipher. CPU is that of sender and receiver together (one thread),
// per full-size data packet. PMTU discovery is on, as by default, so data
// packets grow from 1200 bytes to the size it settles on (1472-byte UDP
// payloads carrying ~1438 bytes of stream data with the default max_mtu);
// --no-pmtud keeps them at 1200. packet_bytes is the mean UDP payload of the
// packets counted.
#include <fmt/core.h>
#include <time.h>

#include <chrono>
#include <cstring>
#include <string>
#include <vector>

#include "lib/certgen.h"
#include "lib/random.h"
#include "quic/endpoint.h"
#include "quic/tls_config.h"

using namespace wt;
using namespace wt::quic;

namespace {

int64_t cpu_ns() {
  timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}
int64_t wall_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

std::shared_ptr<TlsConfig> make_tls(bool server, const certgen::Certificate& cert) {
  TlsConfigOptions o;
  o.role = server ? TlsRole::server : TlsRole::client;
  o.alpn = {"bench"};
  o.verify = CertVerify::none;
  if (server) {
    o.cert_chain_pem = cert.cert_pem;
    o.private_key_pem = cert.key_pem;
  }
  auto c = TlsConfig::create(o);
  if (!c.ok()) {
    fmt::print(stderr, "tls config: {}\n", c.error().detail);
    std::exit(1);
  }
  return *c;
}

struct RunResult {
  double goodput_gbps = 0;
  double cpu_ns_per_packet = 0;
  uint64_t packets = 0;
  double packet_bytes = 0;  // mean UDP payload of the packets counted
  double seconds = 0;
};

struct Options {
  uint64_t total = 512u << 20;
  CongestionControl cc = CongestionControl::cubic;
  bool pmtud = true;
};

// Delivers every datagram of a batch to the peer endpoint at once.
void deliver(const SendBatch& b, MutBytes buf, Endpoint& to, Time now) {
  for (size_t off = 0; off < b.bytes; off += b.segment_size) {
    size_t n = std::min(b.segment_size, b.bytes - off);
    Path p{b.path.remote, b.path.local};
    to.receive(buf.subspan(off, n), p, Ecn::not_ect, now);
  }
}

RunResult run(bool null_cipher, const Options& opt, const certgen::Certificate& cert) {
  const uint64_t total = opt.total;
  SeededRandom rng(99);
  EndpointConfig ccfg;
  ccfg.conn.rng = &rng;
  ccfg.conn.null_cipher = null_cipher;
  ccfg.conn.congestion_control = opt.cc;
  ccfg.conn.pmtud = opt.pmtud;
  ccfg.conn.initial_max_data = 32u << 20;
  ccfg.conn.initial_max_stream_data = 16u << 20;
  ccfg.conn.tls = make_tls(false, cert);
  EndpointConfig scfg = ccfg;
  scfg.server = true;
  scfg.conn.tls = make_tls(true, cert);
  Endpoint client(ccfg), server(scfg);
  Path path{Address::v4(0x7f000001, 40000), Address::v4(0x7f000001, 4433)};
  auto now = [] { return from_ns(wall_ns()); };
  Connection* c = *client.connect(path, now());
  Connection* s = nullptr;
  std::vector<uint8_t> cbuf(64 * 1500), sbuf(64 * 1500);
  std::vector<uint8_t> data(1 << 16, 0x5a), sink(1 << 17);
  uint64_t id = 0, written = 0, received = 0;
  bool opened = false;
  int64_t t0 = 0, cpu0 = 0;
  uint64_t pk0 = 0, bytes0 = 0;
  for (int iter = 0; received < total; ++iter) {
    Time t = now();
    SendBatch b = client.send(MutBytes{cbuf}, t);
    deliver(b, MutBytes{cbuf}, server, t);
    SendBatch r = server.send(MutBytes{sbuf}, t);
    deliver(r, MutBytes{sbuf}, client, t);
    if (!s) s = server.accept();
    if (c->is_established() && !opened) {
      id = *c->open_stream(true);
      opened = true;
      t0 = wall_ns();
      cpu0 = cpu_ns();
      pk0 = c->stats().packets_sent;
      bytes0 = c->stats().bytes_sent;
    }
    if (opened) {
      while (written < total) {
        size_t want = static_cast<size_t>(std::min<uint64_t>(data.size(), total - written));
        auto n = c->stream_write(id, Bytes{data.data(), want}, written + want == total);
        if (!n.ok() || *n == 0) break;
        written += *n;
      }
    }
    if (s && opened) {
      while (true) {
        auto rd = s->stream_read(id, MutBytes{sink});
        if (!rd.ok() || rd->bytes == 0) break;
        received += rd->bytes;
      }
    }
    Time t2 = now();
    if (client.next_timeout() <= t2) client.on_timeout(t2);
    if (server.next_timeout() <= t2) server.on_timeout(t2);
    while (c->poll_event()) {
    }
    if (s)
      while (s->poll_event()) {
      }
    if (c->is_closed()) {
      fmt::print(stderr, "connection closed: {}\n", c->close_info().reason);
      std::exit(1);
    }
  }
  RunResult res;
  res.seconds = static_cast<double>(wall_ns() - t0) / 1e9;
  res.packets = c->stats().packets_sent - pk0;
  res.packet_bytes = static_cast<double>(c->stats().bytes_sent - bytes0) /
                     static_cast<double>(std::max<uint64_t>(res.packets, 1));
  res.goodput_gbps = static_cast<double>(total) * 8 / res.seconds / 1e9;
  res.cpu_ns_per_packet = static_cast<double>(cpu_ns() - cpu0) / static_cast<double>(res.packets);
  return res;
}

}  // namespace

int main(int argc, char** argv) {
  bool json = false;
  std::string only;
  Options opt;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--json") json = true;
    else if (a == "--bytes" && i + 1 < argc) opt.total = std::stoull(argv[++i]);
    else if (a == "--only" && i + 1 < argc) only = argv[++i];
    else if (a == "--no-pmtud") opt.pmtud = false;
    else if (a == "--cc" && i + 1 < argc) opt.cc = std::string(argv[++i]) == "newreno" ? CongestionControl::new_reno : CongestionControl::cubic;
    else {
      fmt::print(stderr,
                 "usage: transfer [--json] [--bytes N] [--cc cubic|newreno] [--only aes|null] "
                 "[--no-pmtud]\n");
      return 2;
    }
  }
  const uint64_t total = opt.total;
  certgen::Options o;
  o.dns_names = {"localhost"};
  auto cert = certgen::self_signed(o);
  if (!cert.ok()) return 1;
  RunResult aes = only == "null" ? RunResult{} : run(false, opt, *cert);
  RunResult null = only == "aes" ? RunResult{} : run(true, opt, *cert);
  if (json) {
    fmt::print(
        "{{\"bytes\": {}, \"goodput_gbps_aes\": {:.3f}, \"goodput_gbps_null\": {:.3f}, "
        "\"cpu_ns_per_packet_aes\": {:.1f}, \"cpu_ns_per_packet_null\": {:.1f}, "
        "\"packets_aes\": {}, \"packets_null\": {}, \"packet_bytes\": {:.0f}, "
        "\"target_cpu_ns_per_packet_null\": 300}}\n",
        total, aes.goodput_gbps, null.goodput_gbps, aes.cpu_ns_per_packet, null.cpu_ns_per_packet,
        aes.packets, null.packets, std::max(aes.packet_bytes, null.packet_bytes));
  } else {
    fmt::print("in-memory transfer of {} MiB (client -> server, one stream), {:.0f}-byte packets\n",
               total >> 20, std::max(aes.packet_bytes, null.packet_bytes));
    fmt::print("  AES-128-GCM: {:.2f} Gbit/s, {:.0f} ns CPU per packet ({} packets)\n",
               aes.goodput_gbps, aes.cpu_ns_per_packet, aes.packets);
    fmt::print("  null cipher: {:.2f} Gbit/s, {:.0f} ns CPU per packet ({} packets)\n",
               null.goodput_gbps, null.cpu_ns_per_packet, null.packets);
  }
  return 0;
}

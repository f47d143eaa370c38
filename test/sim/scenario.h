// A client and a server quic::Endpoint joined by two simulated links, with
// hooks for application logic, plus helpers to move verifiable data.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include "lib/random.h"
#include "quic/connection.h"
#include "quic/connection_config.h"
#include "quic/connection_events.h"
#include "quic/endpoint.h"
#include "test/sim/endpoint_node.h"
#include "test/sim/simulator.h"

namespace wt::sim {

// TLS configs for simulated peers: a fresh self-signed certificate, ALPN
// "wtsim", no verification; with session tickets' early data when asked.
struct TlsPair {
  std::shared_ptr<quic::TlsConfig> client, server;
};
TlsPair make_tls_pair(bool early_data);

const char* cc_name(quic::CongestionControl cc);

// Deterministic content: the byte at `offset` of the data keyed by `key`.
// Independent of how the data is chunked, so nothing is stored twice.
void pattern_fill(uint64_t key, uint64_t offset, MutBytes out);
// Index of the first byte of `data` (at `offset`) that differs, or SIZE_MAX.
size_t pattern_mismatch(uint64_t key, uint64_t offset, Bytes data);

// Writes `total` pattern bytes (key `key`) on a stream, then FIN, as fast as
// the stream accepts them. Call write() whenever the app runs.
class PatternWriter {
 public:
  PatternWriter(uint64_t stream_id, uint64_t key, uint64_t total, size_t chunk = 64 * 1024);
  // False on a stream error (recorded in error()).
  bool write(quic::Connection& conn);
  bool done() const { return fin_written_; }
  uint64_t written() const { return written_; }
  uint64_t stream_id() const { return id_; }
  bool failed() const { return failed_; }

 private:
  uint64_t id_, key_, total_;
  uint64_t written_ = 0;
  bool fin_written_ = false;
  bool failed_ = false;
  std::vector<uint8_t> buf_;  // pattern bytes [buf_off_, buf_off_ + buf_len_)
  uint64_t buf_off_ = 0;
  size_t buf_len_ = 0;
};

// Reads a stream to its FIN and checks every byte against the pattern.
class PatternReader {
 public:
  PatternReader(uint64_t stream_id, uint64_t key) : id_(stream_id), key_(key) {}
  // Reads what is available; `scratch` is a shared buffer.
  void read(quic::Connection& conn, MutBytes scratch);
  uint64_t received() const { return received_; }
  bool fin() const { return fin_; }
  bool corrupt() const { return corrupt_; }  // mismatch or read error
  uint64_t stream_id() const { return id_; }

 private:
  uint64_t id_, key_;
  uint64_t received_ = 0;
  bool fin_ = false;
  bool corrupt_ = false;
};

struct ScenarioOptions {
  quic::CongestionControl cc = quic::CongestionControl::cubic;
  uint64_t seed = 1;
  LinkConfig c2s, s2c;  // client -> server and server -> client
  // Adjusts the connection config of each side after the defaults.
  std::function<void(quic::ConnectionConfig&, bool server)> tweak;
};

class Scenario {
 public:
  static inline const Address kClientAddr = Address::v4(0x0a000001, 50000);  // 10.0.0.1
  static inline const Address kServerAddr = Address::v4(0x0a000002, 443);    // 10.0.0.2

  // Builds both endpoints and starts the client's handshake at sim.now().
  explicit Scenario(const ScenarioOptions& options);

  Simulator sim;
  quic::Connection* client_conn = nullptr;
  quic::Connection* server_conn = nullptr;  // first accepted connection
  size_t accepted = 0;
  Time start;

  // Application hooks, run before each send() poll of that side: events
  // first (on_*_event), then the pump.
  std::function<void(quic::Connection&, const quic::Event&, Time)> on_client_event;
  std::function<void(quic::Connection&, const quic::Event&, Time)> on_server_event;
  std::function<void(quic::Connection&, Time)> client_pump, server_pump;

  // connection_closed events as seen by each side, and when.
  std::optional<quic::CloseInfo> client_closed, server_closed;
  Time client_closed_at = kTimeInfinite, server_closed_at = kTimeInfinite;

  EndpointNode& client() { return *client_; }
  EndpointNode& server() { return *server_; }
  bool established() const;
  // run_until with a deadline relative to now.
  bool run_until(const std::function<bool()>& done, Duration max) {
    return sim.run_until(done, sim.now() + max);
  }
  Duration elapsed() const { return sim.now() - start; }

 private:
  void client_app(Time now);
  void server_app(Time now);

  SeededRandom client_rng_, server_rng_;
  std::unique_ptr<EndpointNode> client_, server_;
};

}  // namespace wt::sim

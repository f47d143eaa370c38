// A client and a server endpoint in the simulator for scenarios that need
// several connections in a row from one client (resumption, NEW_TOKEN) or
// special endpoint settings (Retry, versions): every client connection runs
// one verified transfer (an upload answered by a download, both pattern
// bytes), the server answers every stream of every connection.
#pragma once
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <vector>

#include "lib/random.h"
#include "quic/endpoint.h"
#include "quic/tls_config.h"
#include "test/sim/endpoint_node.h"
#include "test/sim/scenario.h"
#include "test/sim/simulator.h"

namespace wt::sim::reconnect {

inline constexpr uint64_t kUpKey = 0x0b5e55ed;
inline constexpr uint64_t kDownKey = 0xd0ec0de;

// TLS configs with session tickets and early data enabled on both sides
// (made once; the ticket keys live in the server's SSL_CTX).
using sim::TlsPair;
const TlsPair& tls_pair();

struct ClientConn {
  quic::Connection* conn = nullptr;
  uint64_t upload = 0;
  bool start_early = false;  // open the stream before the handshake completes (0-RTT)
  std::optional<uint64_t> stream;
  std::optional<PatternWriter> writer;
  std::optional<PatternReader> reader;
  bool stream_error = false;
  bool opened_before_handshake = false;
  std::optional<quic::CloseInfo> closed;
  std::vector<std::vector<uint8_t>> tickets;  // take_session_ticket()
  std::vector<std::vector<uint8_t>> tokens;   // take_new_token()
  bool done(uint64_t download) const {
    return reader && reader->fin() && !reader->corrupt() && reader->received() == download;
  }
};

struct ServerConn {
  quic::Connection* conn = nullptr;
  struct Stream {
    PatternReader reader;
    std::optional<PatternWriter> writer;
  };
  std::map<uint64_t, Stream> streams;
  uint64_t received = 0;
  bool corrupt = false;
  bool data_before_handshake = false;  // stream bytes read while not yet established
  std::optional<quic::CloseInfo> closed;
};

struct NetOptions {
  uint64_t seed = 1;
  LinkConfig c2s, s2c;
  uint64_t download = 32 * 1024;  // server's answer on every stream
  std::function<void(quic::EndpointConfig&)> server, client;
};

class Net {
 public:
  static inline const Address kClientAddr = Address::v4(0x0a000001, 50000);
  static inline const Address kServerAddr = Address::v4(0x0a000002, 443);

  explicit Net(const NetOptions& o);

  Simulator sim;
  quic::Endpoint& client_ep() { return client_->endpoint(); }
  quic::Endpoint& server_ep() { return server_->endpoint(); }
  // The client endpoint's connection template (copy, adjust, connect()).
  quic::ConnectionConfig client_config() { return client_ep().config().conn; }

  // A new client connection at sim.now() that uploads `upload` bytes.
  ClientConn& connect(const quic::ConnectionConfig& cfg, uint64_t upload, bool start_early = false,
                      const Address& from = kClientAddr);
  std::vector<std::unique_ptr<ClientConn>> clients;
  std::vector<std::unique_ptr<ServerConn>> servers;

  bool run_until(const std::function<bool()>& done, Duration max) {
    return sim.run_until(done, sim.now() + max);
  }
  // Runs until `c`'s transfer completed (or it closed).
  bool transfer(ClientConn& c, Duration max = std::chrono::seconds(30));
  uint64_t download() const { return download_; }
  ServerConn* server_for(const ClientConn& c);  // by the client's SCID

 private:
  void client_app(Time now);
  void server_app(Time now);

  uint64_t download_;
  SeededRandom client_rng_, server_rng_;
  std::unique_ptr<EndpointNode> client_, server_;
  std::vector<uint8_t> scratch_ = std::vector<uint8_t>(64 * 1024);
};

}  // namespace wt::sim::reconnect

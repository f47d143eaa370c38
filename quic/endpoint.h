// A QUIC endpoint (sans-I/O): owns connections, routes received datagrams
// to them by destination connection ID, creates server connections for
// valid Initials and drops what it cannot route (RFC 9000 §5.2).
#pragma once
#include <memory>
#include <unordered_map>
#include <vector>

#include "quic/connection.h"

namespace wt::quic {

struct EndpointConfig {
  ConnectionConfig conn;  // template for every connection
  bool server = false;
  size_t max_connections = 100000;
};

struct EndpointStats {
  uint64_t datagrams_received = 0, datagrams_dropped = 0, connections_accepted = 0;
};

class Endpoint {
 public:
  explicit Endpoint(const EndpointConfig& config);
  ~Endpoint();

  // A client connection owned by the endpoint.
  Result<Connection*> connect(const Path& path, Time now);
  Result<Connection*> connect(const Path& path, Time now, const ConnectionConfig& config);

  void receive(MutBytes datagram, const Path& path, Ecn ecn, Time now);
  // The next batch from any connection, round robin; 0 bytes if none.
  SendBatch send(MutBytes out, Time now);
  Time next_timeout() const;
  void on_timeout(Time now);

  // Server connections created since the last call, oldest first.
  Connection* accept();
  // Frees connections that are closed.
  void remove_closed();
  size_t connection_count() const { return conns_.size(); }
  template <class F>
  void for_each(F&& f) {
    for (auto& c : conns_) f(*c);
  }
  const EndpointStats& stats() const { return stats_; }
  EndpointConfig& config() { return cfg_; }

 private:
  void sync_cids(Connection& c);
  Connection* route(Bytes datagram);

  EndpointConfig cfg_;
  std::vector<std::unique_ptr<Connection>> conns_;
  std::unordered_map<ConnectionId, Connection*, ConnectionIdHash> by_cid_;
  ConnectionId last_cid_;  // routing cache
  Connection* last_conn_ = nullptr;
  std::vector<Connection*> accepted_;
  size_t accept_pos_ = 0;
  size_t send_pos_ = 0;
  std::vector<ConnectionId> added_, removed_;
  EndpointStats stats_;
};

}  // namespace wt::quic

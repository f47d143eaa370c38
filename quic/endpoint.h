// A QUIC endpoint (sans-I/O): owns connections, routes received datagrams
// to them by destination connection ID, creates server connections for
// valid Initials and drops what it cannot route (RFC 9000 §5.2).
#pragma once
#include <array>
#include <functional>
#include <memory>
#include <optional>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "quic/address_token.h"
#include "quic/connection.h"

namespace wt::quic {

struct EndpointConfig {
  ConnectionConfig conn;  // template for every connection
  bool server = false;
  size_t max_connections = 100000;

  // --- Address validation and Version Negotiation (endpoint_admission.cc).
  // Server: answer new connections with Retry (RFC 9000 §8.1.2) always, or
  // while more than `retry_above_rate` new connections (Initials without a
  // valid token) arrived within the last second of the time passed in; 0
  // with retry_always false: never. Retry tokens expire after
  // `retry_token_lifetime`; an invalid one is answered with INVALID_TOKEN.
  bool retry_always = false;
  uint32_t retry_above_rate = 0;
  Duration retry_token_lifetime = std::chrono::seconds(10);
  // Server: a NEW_TOKEN frame after each handshake (RFC 9000 §8.1.3), valid
  // this long for the client's IP address; a client that brings it back in
  // ConnectionConfig::token is not sent a Retry.
  bool send_new_token = true;
  Duration new_token_lifetime = std::chrono::hours(24);
  // Server: answer Initials of versions we do not speak (EndpointConfig::conn
  // .versions, default v1 and v2) in datagrams of at least 1200 bytes with
  // Version Negotiation (RFC 9000 §6.1); never smaller ones.
  bool send_version_negotiation = true;
  // Per-connection qlog sinks (e.g. QLOGDIR files named by the original
  // destination connection ID), used when the connection's config has no
  // `qlog` of its own. Client connections buffer their first records until
  // their ODCID exists. Null: none.
  std::function<std::shared_ptr<QlogSink>(std::string_view odcid_hex, bool server)> qlog_factory;

  // --- Stateless reset (RFC 9000 §10.3, endpoint_reset.cc). The static key
  // of every reset token this endpoint's connections issue; unset: random
  // (from conn.rng) at construction, then stored here so that a restarted
  // endpoint given the same key can reset its old connections' peers.
  std::optional<ResetKey> reset_key;
  // Answer short-header datagrams for unknown CIDs with a stateless reset,
  // at most `stateless_reset_burst` at once and `stateless_reset_rate` per
  // second on average.
  bool send_stateless_reset = true;
  double stateless_reset_rate = 100;
  double stateless_reset_burst = 20;
};

struct EndpointStats {
  uint64_t datagrams_received = 0, datagrams_dropped = 0, connections_accepted = 0;
  // Server (endpoint_admission.cc).
  uint64_t version_negotiations_sent = 0, retries_sent = 0;
  uint64_t tokens_accepted = 0;  // Retry and NEW_TOKEN tokens that validated an address
  uint64_t tokens_rejected = 0;  // invalid, expired or misdirected tokens
  uint64_t invalid_token_closes = 0, new_tokens_sent = 0;
  // Stateless resets (endpoint_reset.cc).
  uint64_t stateless_resets_sent = 0, stateless_resets_received = 0;
};

class Endpoint final : private ConnectionObserver {
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

  // Scheduling (endpoint_schedule.cc): send() visits only connections that
  // reported activity (a datagram, a timer, an application call) until they
  // have nothing more to send; the others wait in a timer heap. With many
  // idle connections, neither send() nor the timers cost O(connections).
  struct TimerEntry {
    Time at;
    uint32_t gen;   // stale once the connection was re-armed (or freed)
    uint32_t slot;  // Scheduling::slot
  };
  void on_connection_activity(Connection& c) override;
  void adopt(Connection& c);  // a new connection of ours, active
  SendBatch send_active(MutBytes out, Time now);
  void retire(size_t active_index);  // send() came back empty
  void arm_timer(Connection& c);
  bool timer_current(const TimerEntry& e) const;
  void pop_timer() const;
  void rebuild_timers();
  void forget_scheduling(Connection& c);
  std::vector<Connection*> active_;
  size_t active_pos_ = 0;
  mutable std::vector<TimerEntry> timers_;  // min-heap on `at`, stale entries dropped lazily
  std::vector<Connection*> slots_;  // by Scheduling::slot; null: free
  std::vector<uint32_t> free_slots_;
  uint32_t next_gen_ = 1;  // wraps after 2^32 arms; stale entries live far shorter
  std::vector<Connection*> due_;

  // Version Negotiation, Retry and tokens (endpoint_admission.cc).
  static constexpr size_t kStatelessSlotSize = 600;  // VN echoes CIDs of up to 255 bytes
  static constexpr size_t kMaxStatelessQueued = 64;  // bounds what spoofed Initials cost us
  struct StatelessPacket {
    Path path;
    size_t size = 0;
    std::array<uint8_t, kStatelessSlotSize> data{};
  };
  // True if the datagram was a long header of a version we do not speak
  // (answered with Version Negotiation or dropped).
  bool answer_unsupported_version(Bytes datagram, const Path& path);
  // Token checks and Retry for a new connection's Initial; false: no
  // connection (a Retry or INVALID_TOKEN close was queued, or dropped).
  bool admit_initial(const PacketHeader& hdr, const Path& path, Time now, InitialInfo& info);
  bool new_connection_rate_exceeded(Time now);
  void queue_retry(const PacketHeader& hdr, const Path& path, Time now);
  void queue_invalid_token_close(const PacketHeader& hdr, const Path& path);
  void after_receive(Connection& c, Time now);  // NEW_TOKEN once the handshake is done
  StatelessPacket* reserve_stateless(const Path& path);
  SendBatch send_stateless(MutBytes out);
  AddressTokenCodec& tokens();
  std::vector<uint32_t> server_versions() const;

  EndpointConfig cfg_;
  std::vector<std::unique_ptr<Connection>> conns_;
  std::unordered_map<ConnectionId, Connection*, ConnectionIdHash> by_cid_;
  ConnectionId last_cid_;  // routing cache
  Connection* last_conn_ = nullptr;
  std::vector<Connection*> accepted_;
  size_t accept_pos_ = 0;
  std::vector<ConnectionId> added_, removed_;
  EndpointStats stats_;

  std::unique_ptr<AddressTokenCodec> tokens_;    // made on first use
  std::vector<StatelessPacket> stateless_;       // ring of queued VN / Retry / close packets
  size_t stateless_head_ = 0, stateless_count_ = 0;
  std::vector<Time> rate_ring_;                  // arrival times of the last N+1 new connections
  size_t rate_pos_ = 0, rate_filled_ = 0;

  // Stateless reset (endpoint_reset.cc).
  void init_reset_key();
  // A short-header datagram no CID routes: a reset for one of our
  // connections, or a packet to answer with a reset. True if it was one.
  bool on_unroutable_short(MutBytes datagram, const Path& path, Time now);
  void sync_reset_tokens(Connection& c);
  std::unordered_map<StatelessResetToken, Connection*, StatelessResetTokenHash> by_token_;
  std::vector<StatelessResetToken> tokens_added_, tokens_removed_;
  ResetRateLimiter reset_limiter_;
  // CIDs our live connections retired lately: packets still in flight to
  // them get no reset (they would only start a reset ping-pong).
  std::array<ConnectionId, 64> retired_cids_{};
  size_t retired_pos_ = 0;
};

}  // namespace wt::quic

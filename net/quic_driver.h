// The glue between the sans-I/O QUIC endpoint (quic/endpoint.h) and the UDP
// event loop (lib/io/loop.h): one QuicDriver owns one quic::Endpoint and one
// UDP socket registered with a Loop.
//
//   received GRO batch  -> Endpoint::receive, datagram by datagram
//   end of the burst    -> application events dispatched (QuicApp)
//   send slots          <- Endpoint::send batches, one GSO batch per slot
//   loop deadline        = Endpoint::next_timeout(); on_deadline -> on_timeout
//
// Tools (quicperf, interop-endpoint) and the WebTransport facade all run on
// it. Everything runs on the loop's thread; from other threads use
// loop().post() and call wake() inside the posted function.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "lib/address.h"
#include "lib/io/loop.h"
#include "lib/io/udp_socket.h"
#include "lib/result.h"
#include "quic/endpoint.h"

namespace wt::net {

// What the application does with the driver's connections. All calls run on
// the loop thread, after a burst of receives, after timers, or after wake().
class QuicApp {
 public:
  virtual ~QuicApp() = default;
  // A server connection was created by a client's first Initial.
  virtual void on_accept(quic::Connection& c, Time now) {
    (void)c;
    (void)now;
  }
  // `c` has events: poll them with c.poll_event(). Events left in the queue
  // when this returns are dropped. May write to streams, open or close
  // connections (also other ones), and call QuicDriver::connect.
  virtual void on_events(quic::Connection& c, Time now) = 0;
  // `c` is closed, its events were dispatched, and it is freed right after.
  virtual void on_removed(quic::Connection& c) { (void)c; }
  // After every dispatch round (once per burst / timer / wake-up).
  virtual void on_tick(Time now) { (void)now; }
};

struct DriverOptions {
  Address bind;  // required; port 0 picks one. A wildcard gets per-datagram local addresses.
  // More sockets for the same endpoint, e.g. a server's preferred address
  // (ConnectionConfig::preferred_address, RFC 9000 §9.6). Packets go out of
  // the socket whose address is the path's local address.
  std::vector<Address> also_bind;
  io::SocketOptions socket;
  // Closed connections are freed (and on_removed called) after dispatch.
  bool reap_closed = true;
};

struct DriverStats {
  uint64_t recv_batches = 0, recv_datagrams = 0;  // GRO batches and their datagrams
  uint64_t send_batches = 0, send_datagrams = 0, send_bytes = 0;  // GSO batches pulled
  uint64_t dispatches = 0, connections_removed = 0;
  // ACK frames of connections already removed (QuicDriver::totals() adds
  // the live ones).
  uint64_t ack_frames_sent = 0, ack_frames_received = 0;

  double send_segments_per_batch() const {
    return send_batches ? static_cast<double>(send_datagrams) / static_cast<double>(send_batches) : 0;
  }
  double recv_segments_per_batch() const {
    return recv_batches ? static_cast<double>(recv_datagrams) / static_cast<double>(recv_batches) : 0;
  }
};

class QuicDriver final : public io::UdpHandler {
 public:
  // Binds the socket and registers it with `loop`. `app` and `loop` must
  // outlive the driver.
  static Result<std::unique_ptr<QuicDriver>> create(io::Loop& loop,
                                                    const quic::EndpointConfig& config,
                                                    QuicApp& app, const DriverOptions& options);
  ~QuicDriver() override;  // unregisters the socket; connections are dropped silently
  QuicDriver(const QuicDriver&) = delete;
  QuicDriver& operator=(const QuicDriver&) = delete;

  quic::Endpoint& endpoint() { return *endpoint_; }
  io::Loop& loop() { return loop_; }
  io::SocketId socket_id() const { return socks_[0].id; }
  const Address& local_address() const { return socks_[0].local; }
  // Of DriverOptions::also_bind[i - 1]; index 0 is the main socket.
  const Address& local_address(size_t i) const { return socks_[i].local; }
  bool gso() const { return gso_; }
  bool gro() const { return gro_; }
  const DriverStats& stats() const { return stats_; }
  // stats() plus the ACK counts of the live connections.
  DriverStats totals();

  // A client connection to `remote`, with the endpoint's connection template
  // or `config`. Its Initial goes out in this loop iteration.
  Result<quic::Connection*> connect(const Address& remote);
  Result<quic::Connection*> connect(const Address& remote, const quic::ConnectionConfig& config);

  // The application acted outside a driver callback (wrote, closed, opened):
  // flush sends, re-arm the deadline and dispatch events soon.
  void wake();

  // ---- io::UdpHandler
  void on_receive(const io::DatagramBatchView& batch, Time now) override;
  void on_receive_done(Time now) override;
  size_t on_send(io::SendBuffer& out, Time now) override;
  Time next_deadline() const override;
  void on_deadline(Time now) override;

 private:
  class ExtraSocket;
  // A batch pulled for another socket than the one being filled.
  struct Handoff {
    std::vector<uint8_t> data;
    size_t segment_size;
    Address peer, local;
    Ecn ecn;
  };
  struct Sock {
    io::SocketId id;
    Address local;
    bool wildcard = false;
    std::unique_ptr<ExtraSocket> handler;  // null for the main socket (the driver itself)
    std::vector<Handoff> handoff;
  };

  QuicDriver(io::Loop& loop, QuicApp& app, const quic::EndpointConfig& config);
  void dispatch(Time now);
  void receive_on(size_t sock, const io::DatagramBatchView& batch, Time now);
  size_t send_on(size_t sock, io::SendBuffer& out, Time now);
  size_t socket_for(const quic::SendBatch& b) const;
  Address send_source(const Sock& s, const quic::SendBatch& b) const;

  io::Loop& loop_;
  QuicApp& app_;
  std::unique_ptr<quic::Endpoint> endpoint_;
  std::vector<Sock> socks_;
  bool gso_ = false, gro_ = false;
  size_t last_segment_ = 0;  // segment size of the last multi-datagram batch
  bool reap_closed_ = true;
  bool dispatch_pending_ = false;
  bool in_dispatch_ = false;
  std::vector<quic::Connection*> ready_;
  DriverStats stats_;
};

// The path a client connection uses from a socket bound to `local` towards
// `remote` (the local side is left unset on a wildcard socket: the kernel
// picks the source address).
quic::Path client_path(const Address& local, bool wildcard, const Address& remote);

}  // namespace wt::net

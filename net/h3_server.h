// An HTTP/3 server on real UDP sockets: a net::QuicApp that runs an
// h3::Connection on every accepted QUIC connection and hands each request
// to a handler made by the application's factory.
//
//   H3ServerOptions o;
//   o.endpoint.conn.tls = server_tls;          // ALPN "h3"
//   o.driver.bind = *io::parse_address("[::]:4433");
//   o.on_request = [](H3ServerExchange& x) -> std::unique_ptr<H3RequestHandler> {
//     x.respond(200, {{"content-type", "text/plain"}});
//     x.write(as_bytes("hello\n"), true);
//     return nullptr;                          // nothing more to do
//   };
//   auto server = H3Server::create(loop, std::move(o)).value();
//   loop.run();
//
// Responses stream with QUIC flow control as backpressure: write() takes
// what fits and on_writable says when more does, so a handler can send a
// large file chunk by chunk without holding it. Malformed requests never
// reach the factory: h3::Connection answers them with H3_MESSAGE_ERROR.
// shutdown() is the graceful stop (GOAWAY, open requests finish, then the
// connections close). Everything runs on the loop thread.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "h3/h3_connection.h"
#include "h3/message.h"
#include "lib/io/loop.h"
#include "net/h3_errors.h"
#include "net/h3_stream_table.h"
#include "net/quic_driver.h"

namespace wt::net {

class H3Server;
class H3ServerExchange;
namespace detail {
struct H3ServerConn;  // one connection's state inside H3Server
}

// One request's handler; the server destroys it when the exchange is over.
class H3RequestHandler {
 public:
  virtual ~H3RequestHandler() = default;
  // Request body bytes in order (valid only during the call).
  virtual void on_body(H3ServerExchange& x, Bytes chunk) { (void)x, (void)chunk; }
  // The request is complete (x.trailers() has its trailers, if any).
  virtual void on_request_end(H3ServerExchange& x) { (void)x; }
  // write() took less than offered; more fits now.
  virtual void on_writable(H3ServerExchange& x) { (void)x; }
  // The response was sent in full (FIN) and the request ended or was no
  // longer needed. Last call.
  virtual void on_complete(H3ServerExchange& x) { (void)x; }
  // The exchange broke off: the client reset the stream or stopped
  // reading, the connection closed, the server was shut down hard. Last call.
  virtual void on_abort(H3ServerExchange& x, const H3Failure& why) { (void)x, (void)why; }
};

class H3ServerExchange {
 public:
  uint64_t stream_id() const { return id_; }
  const h3::RequestHead& request() const { return head_; }  // method, path, authority, ...
  const h3::HeaderList& request_fields() const { return fields_; }
  const h3::HeaderList& trailers() const { return trailers_; }
  bool request_complete() const { return request_done_; }
  uint64_t request_body_bytes() const { return body_received_; }
  const Address& peer() const { return peer_; }
  H3Server& server() { return *server_; }

  // The response header section: ":status" is added; names must be
  // lower-case. 1xx statuses may precede the final one.
  Status respond(int status, const h3::HeaderList& fields = {}, bool end_stream = false);
  // Body bytes; returns how many were taken. Fewer than offered: wait for
  // on_writable. `fin` applies only when everything was taken.
  Result<size_t> write(Bytes data, bool fin = false);
  Status finish();
  Status send_trailers(const h3::HeaderList& trailers);  // ends the response
  // Abandons the exchange (RESET_STREAM + STOP_SENDING). No further calls.
  void reset(uint64_t code = h3::code(h3::H3Error::request_cancelled));
  // What the QUIC stream accepts now (a hint for sizing reads from disk).
  uint64_t writable_bytes() const;

  int status() const { return status_; }  // final status sent, 0 before
  uint64_t body_bytes_sent() const { return body_sent_; }
  bool response_complete() const { return response_done_; }

  void* user_data = nullptr;  // for the application

  ~H3ServerExchange();

 private:
  friend class H3Server;
  H3ServerExchange() = default;

  H3Server* server_ = nullptr;
  detail::H3ServerConn* conn_ = nullptr;  // valid while the exchange has not ended
  h3::Connection* h3_ = nullptr;
  uint64_t id_ = 0;
  Address peer_;
  h3::RequestHead head_;
  h3::HeaderList fields_, trailers_;
  std::unique_ptr<H3RequestHandler> handler_;
  int status_ = 0;
  uint64_t body_received_ = 0, body_sent_ = 0;
  bool request_done_ = false, response_done_ = false;
  bool head_sent_ = false;  // a final response's HEADERS went out
  bool in_factory_ = false;  // H3ServerOptions::on_request is running for it
  bool ended_ = false;      // on_complete / on_abort delivered (or reset)
};

// Called when a request's header section arrives. Respond now or later;
// return the handler for the rest of the exchange (its body, backpressure),
// or nullptr when the response was already sent in full (a request body is
// then not read). Returning nullptr without having responded gets a 500.
using H3RequestFactory = std::function<std::unique_ptr<H3RequestHandler>(H3ServerExchange& x)>;

struct H3ServerOptions {
  // QUIC and TLS: `conn.tls` is required (server role, ALPN "h3"); `server`
  // is set for you; `conn.rng` may be null (the server's own SystemRandom).
  quic::EndpointConfig endpoint;
  DriverOptions driver;  // `bind` is required (port 0 picks one)
  h3::Config h3;
  H3RequestFactory on_request;  // required
  // After shutdown(): connections still open this long are closed.
  Duration shutdown_timeout = std::chrono::seconds(30);

  // Connection events (optional).
  std::function<void(const Address& peer)> on_connection;
  std::function<void(const Address& peer, const H3Failure& why)> on_connection_closed;
};

struct H3ServerStats {
  uint64_t connections = 0, requests = 0, completed = 0, aborted = 0;
  uint64_t body_bytes_sent = 0, body_bytes_received = 0;
};

class H3Server final : public QuicApp {
 public:
  static Result<std::unique_ptr<H3Server>> create(io::Loop& loop, H3ServerOptions options);
  // Drops every connection without a CONNECTION_CLOSE; no handler calls.
  ~H3Server() override;
  H3Server(const H3Server&) = delete;
  H3Server& operator=(const H3Server&) = delete;

  const Address& local_address() const { return driver_->local_address(); }
  // Graceful shutdown (RFC 9114 §5.2): GOAWAY on every connection, new
  // connections refused, open requests finish, then each connection closes
  // with H3_NO_ERROR; `done` runs (on the loop thread, deferred) once no
  // connection is left, or after shutdown_timeout closed the stragglers.
  void shutdown(std::function<void()> done = {});
  bool shutting_down() const { return shutting_down_; }
  size_t connection_count() const { return conns_.size(); }
  size_t active_requests() const;
  const H3ServerStats& stats() const { return stats_; }
  QuicDriver& driver() { return *driver_; }
  io::Loop& loop() { return loop_; }

  // ---- QuicApp
  void on_accept(quic::Connection& c, Time now) override;
  void on_events(quic::Connection& c, Time now) override;
  void on_removed(quic::Connection& c) override;
  void on_tick(Time now) override;

 private:
  friend class H3ServerExchange;
  using Conn = detail::H3ServerConn;
  H3Server(io::Loop& loop, H3ServerOptions options);

  void pump(Conn& c);
  void handle(Conn& c, h3::Event& e);
  void on_request(Conn& c, h3::Event& e);
  void read_body(Conn& c, H3ServerExchange& x);
  void settle(Conn& c, H3ServerExchange& x);  // ends the exchange when both sides are done
  void abort(Conn& c, H3ServerExchange& x, const H3Failure& f);
  void abort_for(Conn& c, H3ServerExchange& x, const h3::Event& e);  // from a reset/stop/error event
  void after_api(H3ServerExchange& x);
  void end(Conn& c, H3ServerExchange& x);  // out of the live table; freed by on_tick
  void reap();
  void on_connection_closed(Conn& c);
  void check_shutdown_done();
  void force_close();

  io::Loop& loop_;
  H3ServerOptions opts_;
  std::unique_ptr<Random> own_rng_;
  std::unique_ptr<QuicDriver> driver_;
  std::unordered_map<quic::Connection*, std::unique_ptr<Conn>> conns_;
  // Connections an API call outside their pump() left with exchanges to
  // settle: on_tick pumps these, not every connection.
  std::vector<Conn*> dirty_, dirty_scratch_;
  // Ended exchanges; on_tick destroys their handlers and keeps them in
  // spare_ for reuse: a request then allocates no exchange.
  std::vector<std::unique_ptr<H3ServerExchange>> dead_, spare_, reaping_;
  std::vector<uint8_t> buf_ = std::vector<uint8_t>(64 * 1024);
  h3::HeaderList respond_fields_;  // respond()'s scratch
  bool shutting_down_ = false, shutdown_reported_ = false;
  std::function<void()> shutdown_done_;
  io::TimerId shutdown_timer_{};
  bool shutdown_timer_armed_ = false;
  H3ServerStats stats_;
};

}  // namespace wt::net

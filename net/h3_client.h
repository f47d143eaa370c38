// An HTTP/3 client on real UDP sockets: one H3Client is one QUIC connection
// to one origin (its own net::QuicDriver and socket on a lib/io Loop), with
// an h3::Connection on top. Requests are issued with a handler object that
// receives the response as it arrives; request bodies stream with
// backpressure through H3ClientStream::write and on_writable.
//
//   auto client = net::H3Client::connect(loop, server_addr, options).value();
//   MyHandler h;                                   // derives from H3ResponseHandler
//   client->request({.method = "GET", .path = "/index.html"}, h);
//   loop.run_once(...) until h saw on_complete or on_error
//
// Everything runs on the loop thread, callback based (a coroutine facade can
// wrap it). Requests may be issued before the handshake completes: they go
// out once it has. Requests the peer's stream limit holds back wait for
// MAX_STREAMS. Failures (no answer, TLS, timeouts, resets, GOAWAY, the
// connection closing) reach every affected handler's on_error with an
// H3Failure whose message says what happened.
//
// Not supported: server push (we never send MAX_PUSH_ID), requests in
// 0-RTT (h3::Connection sends requests only once the handshake is done).
#pragma once
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "h3/h3_connection.h"
#include "lib/io/loop.h"
#include "net/diagnostics.h"
#include "net/h3_errors.h"
#include "net/h3_stream_table.h"
#include "net/quic_driver.h"

namespace wt::net {

class H3Client;
class H3ClientStream;

struct H3Request {
  std::string method = "GET";
  std::string path = "/";
  std::string authority;  // empty: the client's (H3ClientOptions::authority)
  std::string scheme = "https";
  h3::HeaderList headers;  // regular fields, lower-case names (RFC 9114 §4.2)
  // A body follows through H3ClientStream::write()/finish(); otherwise the
  // HEADERS frame ends the request.
  bool has_body = false;
};

// Receives one request's response. Calls end with exactly one of
// on_complete or on_error; the stream object is invalid after that call.
// The handler must outlive the request (or the client).
class H3ResponseHandler {
 public:
  virtual ~H3ResponseHandler() = default;
  // 1xx responses (RFC 9114 §4.1), each before the final one.
  virtual void on_informational(H3ClientStream& s, int status, const h3::HeaderList& fields) {
    (void)s, (void)status, (void)fields;
  }
  // The final response's header section (fields include ":status").
  virtual void on_response(H3ClientStream& s, int status, const h3::HeaderList& fields) {
    (void)s, (void)status, (void)fields;
  }
  // Body bytes, in order; `chunk` is valid only during the call.
  virtual void on_body(H3ClientStream& s, Bytes chunk) { (void)s, (void)chunk; }
  virtual void on_trailers(H3ClientStream& s, const h3::HeaderList& trailers) { (void)s, (void)trailers; }
  // The response is complete.
  virtual void on_complete(H3ClientStream& s) { (void)s; }
  virtual void on_error(H3ClientStream& s, const H3Failure& failure) { (void)s, (void)failure; }
  // Request body: write() may take bytes now (first call right after the
  // request went out; later ones after write() took less than offered).
  virtual void on_writable(H3ClientStream& s) { (void)s; }
};

class H3ClientStream {
 public:
  static constexpr uint64_t kNotSent = ~uint64_t{0};

  uint64_t id() const { return id_; }  // kNotSent until the request went out
  bool sent() const { return id_ != kNotSent; }
  const H3Request& request() const;  // :authority filled in
  H3Client& client() { return *client_; }

  int status() const { return status_; }  // final status, 0 before the response
  const h3::HeaderList& response_fields() const { return fields_; }
  const h3::HeaderList& trailers() const { return trailers_; }
  std::optional<uint64_t> content_length() const;
  uint64_t body_bytes() const { return body_bytes_; }
  bool response_started() const { return status_ != 0; }

  // Request body bytes; returns how many were taken (0 before the request
  // went out). Fewer than offered: wait for on_writable. `fin` applies only
  // when everything was taken.
  Result<size_t> write(Bytes data, bool fin = false);
  Status finish();  // ends the request body
  bool request_complete() const { return request_done_; }

  // Flow control as backpressure: while paused no body is read, so the
  // peer stops once our stream window is used up.
  void pause_body();
  void resume_body();
  bool paused() const { return paused_; }

  // Abandons the request (RESET_STREAM / STOP_SENDING, H3_REQUEST_CANCELLED).
  // The handler gets no further calls; the stream object is freed.
  void cancel();

  void* user_data = nullptr;  // for the application

  ~H3ClientStream();

 private:
  friend class H3Client;
  explicit H3ClientStream(H3Client& c) : client_(&c) {}
  // Recycled objects keep their strings' and lists' buffers: a request
  // rebuilds head_ in place and allocates nothing in steady state.
  void set_request(H3Request&& r, const std::string& default_authority);
  void restart(H3ResponseHandler& h);  // every other field back to a new request's state
  const std::string& method() const { return head_[0].value; }
  const std::string& path() const { return head_[3].value; }

  H3Client* client_;
  H3ResponseHandler* handler_ = nullptr;
  // The request as its header section (:method, :scheme, :authority,
  // :path, then its fields): what goes out, and what request() shows.
  h3::HeaderList head_;
  bool has_body_ = false;
  bool default_authority_ = false;  // head_ holds H3Client::authority()
  mutable H3Request req_;           // request(), built from head_ on demand
  mutable bool req_built_ = false;
  uint64_t id_ = kNotSent;
  int status_ = 0;
  h3::HeaderList fields_, trailers_;
  uint64_t body_bytes_ = 0;
  bool request_done_ = false;   // FIN written, reset, or the server stopped reading
  bool response_done_ = false;  // the peer's FIN after a complete response
  bool ended_ = false;          // on_complete / on_error called (or cancelled)
  bool paused_ = false;
  bool read_pending_ = false;   // body bytes may be waiting (edge-triggered `data`)
  io::TimerId timer_{};
  bool timer_armed_ = false;
};

struct H3ClientOptions {
  // QUIC and TLS: `tls` is required (client role, ALPN "h3"); `server_name`
  // is the SNI and the name (or IP literal) the certificate must match.
  // `rng` may be null (the client then uses its own SystemRandom).
  quic::ConnectionConfig conn;
  h3::Config h3;
  // :authority of requests that name none; empty: server_name, with the
  // port when it is not 443 (IPv6 literals in brackets).
  std::string authority;
  // Local address; unset: the wildcard address of the server's family.
  Address bind;
  io::SocketOptions socket;
  // The QUIC handshake must complete within this (0: only the idle timeout).
  Duration connect_timeout = std::chrono::seconds(10);
  // Each request must complete within this from request() (0: no limit).
  Duration request_timeout = Duration::zero();
  QlogFactory qlog;  // per-connection qlog files (e.g. qlog_from_env())

  // Connection events (optional; loop thread).
  std::function<void()> on_connected;  // handshake done, ALPN h3
  std::function<void(uint64_t stream_id)> on_goaway;
  // The connection ended; `failure.ok()` after a graceful close with no
  // request left unfinished.
  std::function<void(const H3Failure& failure)> on_closed;
};

struct H3ClientStats {
  uint64_t requests = 0, completed = 0, failed = 0;
  uint64_t body_bytes_received = 0, body_bytes_sent = 0;
};

class H3Client final : public QuicApp {
 public:
  // Opens the socket and starts the handshake with `remote`. Fails only for
  // local problems (socket, configuration); a server that does not answer
  // is reported through on_closed / on_error.
  static Result<std::unique_ptr<H3Client>> connect(io::Loop& loop, const Address& remote,
                                                   H3ClientOptions options);
  // Drops the connection without a CONNECTION_CLOSE; no callbacks run. For a
  // graceful end call close() and run the loop until gone().
  ~H3Client() override;
  H3Client(const H3Client&) = delete;
  H3Client& operator=(const H3Client&) = delete;

  // Issues a request (now, or once the handshake is done). Fails at once
  // for a malformed request, after shutdown()/close(), or once closed.
  Result<H3ClientStream*> request(H3Request req, H3ResponseHandler& handler);

  // No new requests; the connection closes (H3_NO_ERROR) once the
  // outstanding ones ended.
  void shutdown();
  // Closes now: outstanding requests fail with Kind::cancelled.
  void close(uint64_t code = h3::code(h3::H3Error::no_error), std::string_view reason = "");

  bool connected() const { return connected_; }  // handshake complete
  bool closed() const { return closed_; }        // the connection ended (on_closed ran)
  bool gone() const { return quic_ == nullptr; }  // and its resources are freed
  const H3Failure& failure() const { return failure_; }  // why it closed
  size_t outstanding() const { return streams_.size() + pending_.size(); }
  const Address& remote() const { return remote_; }
  const Address& local_address() const { return driver_->local_address(); }
  const std::string& authority() const { return authority_; }
  const h3::Settings* peer_settings() const { return h3_ ? h3_->peer_settings() : nullptr; }
  bool goaway_received() const { return goaway_; }
  const H3ClientStats& stats() const { return stats_; }
  // The QUIC connection, null once gone.
  quic::Connection* quic() { return quic_; }
  QuicDriver& driver() { return *driver_; }
  io::Loop& loop() { return loop_; }
  // The latest session ticket the server sent (ConnectionConfig::
  // resume_session of a later client), if any. Resumption only: the server's
  // SETTINGS are not stored with it, and quic/ has no hook to put them in the
  // ticket or the server's 0-RTT context (RFC 9114 §7.2.4.2), so 0-RTT
  // requests are not offered.
  std::optional<std::vector<uint8_t>> take_session_ticket();

  // ---- QuicApp
  void on_events(quic::Connection& c, Time now) override;
  void on_removed(quic::Connection& c) override;
  void on_tick(Time now) override;

 private:
  friend class H3ClientStream;
  H3Client(io::Loop& loop, const Address& remote, H3ClientOptions options);

  void pump();  // h3 events -> handlers, pending requests, reaping
  void handle(h3::Event& e);
  void handle_rare(h3::Event& e, H3ClientStream* s);
  void send_pending();
  bool send_one(std::unique_ptr<H3ClientStream>& owned);
  void read_body(H3ClientStream& s);
  void on_connected();
  void on_connect_timeout();
  void on_request_timeout(H3ClientStream& s);
  void on_closed_event();
  void complete(H3ClientStream& s);
  void fail(H3ClientStream& s, const H3Failure& f);
  void end(H3ClientStream& s);
  void reap();
  void after_api();  // an API call outside a callback: pump and wake the driver
  void maybe_close_after_goaway();
  H3ClientStream* find(uint64_t id) { return streams_.find(id); }
  std::vector<H3ClientStream*> sorted_streams();  // the sent ones, by stream ID

  io::Loop& loop_;
  Address remote_;
  H3ClientOptions opts_;
  std::string authority_;
  std::unique_ptr<Random> own_rng_;
  std::unique_ptr<QuicDriver> driver_;
  quic::Connection* quic_ = nullptr;
  std::unique_ptr<h3::Connection> h3_;  // destroyed before driver_ (declared after it)

  StreamTable<H3ClientStream> streams_;                   // sent, by stream ID
  std::deque<std::unique_ptr<H3ClientStream>> pending_;   // not sent yet
  std::vector<std::unique_ptr<H3ClientStream>> dead_;     // ended, recycled by reap()
  // Kept for reuse: a request then allocates no stream object.
  std::vector<std::unique_ptr<H3ClientStream>> spare_, reaping_;
  std::optional<std::vector<uint8_t>> ticket_;
  std::vector<uint8_t> buf_ = std::vector<uint8_t>(64 * 1024);
  io::TimerId connect_timer_{};
  bool connect_timer_armed_ = false;
  bool connected_ = false, closed_ = false, goaway_ = false, shutting_down_ = false;
  bool pumping_ = false, sending_ = false;
  std::optional<H3Failure> local_failure_;  // set when we close for a reason of our own
  H3Failure failure_;
  H3ClientStats stats_;
};

// "host" or "[v6]", with ":port" unless it is `default_port`: an :authority.
std::string make_authority(const std::string& host, uint16_t port, uint16_t default_port = 443);

}  // namespace wt::net

#include "net/h3_server.h"

#include <fmt/core.h>

#include <algorithm>

#include "lib/log.h"
#include "lib/random.h"
#include "quic/tls_config.h"

namespace wt::net {

namespace {

using K = H3Failure::Kind;

constexpr size_t kMaxSpare = 256;  // exchanges kept for reuse

Error usage(const char* detail) { return h3::h3_error(h3::H3Error::internal_error, detail); }

// The head of a request h3::Connection has validated (RFC 9114 §4.3.1:
// pseudo-headers first, each once; content-length digits, repeats equal).
h3::RequestHead request_head(const h3::HeaderList& fields) {
  h3::RequestHead h;
  size_t i = 0;
  for (; i < fields.size() && !fields[i].name.empty() && fields[i].name[0] == ':'; ++i) {
    const std::string_view n = fields[i].name;
    const std::string& v = fields[i].value;
    if (n == ":method") h.method = v;
    else if (n == ":path") h.path = v;
    else if (n == ":authority") h.authority = v;
    else if (n == ":scheme") h.scheme = v;
    else if (n == ":protocol") h.protocol = v;
  }
  for (; i < fields.size(); ++i) {
    if (std::string_view{fields[i].name} != "content-length") continue;
    uint64_t len = 0;
    for (char ch : fields[i].value) {
      if (ch == ' ' || ch == '\t') continue;
      if (ch < '0' || ch > '9') break;  // "5, 5": the first value is the value
      len = len * 10 + static_cast<uint64_t>(ch - '0');
    }
    h.content_length = len;
    break;
  }
  return h;
}

}  // namespace

// ---------------------------------------------------------------- H3ServerExchange

Status H3ServerExchange::respond(int status, const h3::HeaderList& fields, bool end_stream) {
  if (ended_) return usage("exchange ended");
  if (head_sent_) return usage("response already sent");
  if (status < 100 || status > 999) return usage("bad status");
  // The server's scratch list: its strings keep their buffers across requests.
  h3::HeaderList& f = server_->respond_fields_;
  f.resize(fields.size() + 1);
  f[0].name.assign(":status");
  char digits[3] = {static_cast<char>('0' + status / 100), static_cast<char>('0' + status / 10 % 10),
                    static_cast<char>('0' + status % 10)};
  f[0].value.assign(digits, 3);
  f[0].never_index = false;
  std::copy(fields.begin(), fields.end(), f.begin() + 1);
  WT_TRY(h3_->send_response(id_, f, end_stream));
  if (status >= 200) {
    head_sent_ = true;
    status_ = status;
    if (end_stream) response_done_ = true;
  }
  server_->after_api(*this);
  return {};
}

Result<size_t> H3ServerExchange::write(Bytes data, bool fin) {
  if (ended_) return usage("exchange ended");
  if (!head_sent_ || response_done_) return usage("no response body open");
  auto r = h3_->send_data(id_, data, fin);
  if (!r.ok()) return r;
  body_sent_ += *r;
  server_->stats_.body_bytes_sent += *r;
  if (fin && *r == data.size()) response_done_ = true;
  if (response_done_) server_->after_api(*this);
  else if (!server_->pumping(quic_)) server_->driver_->wake();  // called outside the server's callbacks
  return r;
}

Status H3ServerExchange::finish() {
  WT_ASSIGN(size_t n, write({}, true));
  (void)n;
  return {};
}

Status H3ServerExchange::send_trailers(const h3::HeaderList& trailers) {
  if (ended_) return usage("exchange ended");
  if (!head_sent_ || response_done_) return usage("no response body open");
  WT_TRY(h3_->send_trailers(id_, trailers));
  response_done_ = true;
  server_->after_api(*this);
  return {};
}

void H3ServerExchange::reset(uint64_t code) {
  if (ended_) return;
  auto it = server_->conns_.find(quic_);
  if (it == server_->conns_.end()) return;
  if (h3_->stream_exists(id_)) (void)h3_->reset_stream(id_, code);
  ++server_->stats_.aborted;
  server_->end(*it->second, *this);  // no callbacks: the application asked for it
  server_->driver_->wake();
}

uint64_t H3ServerExchange::writable_bytes() const {
  return ended_ || !h3_->stream_exists(id_) ? 0 : h3_->quic().stream_writable_bytes(id_);
}

// ---------------------------------------------------------------- setup

H3Server::H3Server(io::Loop& loop, H3ServerOptions options) : loop_(loop), opts_(std::move(options)) {}

Result<std::unique_ptr<H3Server>> H3Server::create(io::Loop& loop, H3ServerOptions options) {
  if (!options.endpoint.conn.tls || !options.endpoint.conn.tls->is_server())
    return Error(TransportError::internal_error, "H3Server needs a server TLS configuration");
  if (!options.on_request) return Error(TransportError::internal_error, "H3Server needs on_request");
  if (!options.driver.bind.valid()) return Error(TransportError::internal_error, "H3Server needs a bind address");
  std::unique_ptr<H3Server> s(new H3Server(loop, std::move(options)));
  s->opts_.endpoint.server = true;
  if (!s->opts_.endpoint.conn.rng) {
    s->own_rng_ = std::make_unique<SystemRandom>();
    s->opts_.endpoint.conn.rng = s->own_rng_.get();
  }
  WT_ASSIGN(s->driver_, QuicDriver::create(loop, s->opts_.endpoint, *s, s->opts_.driver));
  return s;
}

H3Server::~H3Server() {
  if (shutdown_timer_armed_) loop_.cancel(shutdown_timer_);
  dead_.clear();
  spare_.clear();
  conns_.clear();  // h3 connections before the driver frees the QUIC ones
}

size_t H3Server::active_requests() const {
  size_t n = 0;
  for (const auto& [q, c] : conns_) n += c->exchanges.size();
  return n;
}

// ---------------------------------------------------------------- connections

void H3Server::on_accept(quic::Connection& c, Time) {
  if (shutting_down_) {
    // RFC 9114 §5.2: no new work once we are going away.
    c.close(h3::code(h3::H3Error::no_error), "server shutting down");
    return;
  }
  auto conn = std::make_unique<Conn>();
  conn->quic = &c;
  conn->peer = c.path().remote;
  conn->h3 = std::make_unique<h3::Connection>(c, opts_.h3);
  conns_[&c] = std::move(conn);
  ++stats_.connections;
  if (log::enabled(log::Level::debug)) log::debug("h3 server: connection from {}", c.path().remote.to_string());
  if (opts_.on_connection) opts_.on_connection(c.path().remote);
}

void H3Server::on_events(quic::Connection& q, Time) {
  auto it = conns_.find(&q);
  if (it == conns_.end()) return;
  Conn& c = *it->second;
  c.h3->process();
  pump(c);
}

void H3Server::on_tick(Time) {
  for (auto& [q, c] : conns_)
    if (c->settle_needed) pump(*c);
  // No handler code is on the stack here.
  reaping_.swap(dead_);  // a handler's destructor may end another exchange
  for (auto& n : reaping_) {
    *n.mapped() = H3ServerExchange();  // destroys the handler
    if (spare_.size() < kMaxSpare) spare_.push_back(std::move(n));
  }
  reaping_.clear();
}

void H3Server::on_removed(quic::Connection& q) {
  auto it = conns_.find(&q);
  if (it == conns_.end()) return;
  Conn& c = *it->second;
  if (!c.closed) {
    c.h3->process();
    pump(c);
    if (!c.closed) on_connection_closed(c);
  }
  conns_.erase(it);
  check_shutdown_done();
}

void H3Server::on_connection_closed(Conn& c) {
  if (c.closed) return;
  c.closed = true;
  H3Failure f = failure_from_close(c.quic->close_info(), c.quic->handshake_confirmed() || c.h3->started(),
                                   c.peer, c.quic->tls().last_error());
  if (log::enabled(log::Level::debug))
    log::debug("h3 server: connection from {} closed: {}", c.peer.to_string(), f.message);
  H3Failure each = f;
  if (each.kind == K::closed) each.message = "connection closed before the exchange was complete (" + f.message + ")";
  while (!c.exchanges.empty()) abort(c, *c.exchanges.begin()->second, each);
  if (f.kind == K::closed && f.code == h3::code(h3::H3Error::no_error)) f = H3Failure{};
  if (opts_.on_connection_closed) opts_.on_connection_closed(c.peer, f);
}

// ---------------------------------------------------------------- events

void H3Server::pump(Conn& c) {
  if (c.pumping) return;
  c.pumping = true;
  // Until settled: after_api() does not wake the driver while we pump.
  while (true) {
    while (auto e = c.h3->poll_event()) handle(c, *e);
    if (!c.settle_needed) break;
    c.settle_needed = false;
    c.settling.clear();
    for (auto& [id, x] : c.exchanges)
      if (x->response_done_) c.settling.push_back(x.get());
    // Handlers called by settle() may produce events (the loop goes on).
    for (H3ServerExchange* x : c.settling) settle(c, *x);
  }
  c.pumping = false;
}

void H3Server::handle(Conn& c, h3::Event& e) {
  using T = h3::Event::Type;
  if (e.type == T::closed) return on_connection_closed(c);
  if (e.type == T::headers) return on_request(c, e);
  auto it = c.exchanges.find(e.stream_id);
  if (it == c.exchanges.end()) return;
  H3ServerExchange& x = *it->second;
  switch (e.type) {
    case T::data:
      read_body(c, x);
      break;
    case T::trailers:
      x.trailers_ = std::move(e.fields);
      break;
    case T::finished:
      x.request_done_ = true;
      if (x.handler_) x.handler_->on_request_end(x);
      settle(c, x);
      break;
    case T::stream_reset:
      abort(c, x, H3Failure::make(K::reset, fmt::format("client reset the request with {}",
                                                        describe_error_code(e.code, true)),
                                  e.code));
      break;
    case T::stop_sending:
      abort(c, x, H3Failure::make(K::reset, fmt::format("client stopped reading the response ({})",
                                                        describe_error_code(e.code, true)),
                                  e.code));
      break;
    case T::stream_error:
      abort(c, x, H3Failure::make(K::protocol, fmt::format("malformed request: stream aborted with {}",
                                                           describe_error_code(e.code, true)),
                                  e.code));
      break;
    case T::writable:
      if (x.handler_ && !x.response_done_) x.handler_->on_writable(x);
      break;
    default:
      break;
  }
}

void H3Server::on_request(Conn& c, h3::Event& e) {
  std::unique_ptr<H3ServerExchange>* slot;
  if (!spare_.empty()) {
    ExchangeMap::node_type n = std::move(spare_.back());
    spare_.pop_back();
    n.key() = e.stream_id;
    auto r = c.exchanges.insert(std::move(n));
    if (!r.inserted) r.position->second = std::move(r.node.mapped());
    slot = &r.position->second;
  } else {
    slot = &c.exchanges[e.stream_id];
    *slot = std::unique_ptr<H3ServerExchange>(new H3ServerExchange());
  }
  H3ServerExchange& x = **slot;
  x.server_ = this;
  x.quic_ = c.quic;
  x.h3_ = c.h3.get();
  x.id_ = e.stream_id;
  x.peer_ = c.peer;
  x.fields_ = std::move(e.fields);
  x.head_ = request_head(x.fields_);
  ++stats_.requests;
  if (log::enabled(log::Level::debug))
    log::debug("h3 server: {} {} {} on stream {}", c.peer.to_string(), x.head_.method, x.head_.path, x.id_);
  auto handler = opts_.on_request(x);
  if (x.ended_) return;  // reset by the factory
  x.handler_ = std::move(handler);
  if (!x.handler_ && !x.response_done_) {
    if (!x.head_sent_) {
      const std::string body = "500 no handler\n";
      (void)x.respond(500, {{"content-type", "text/plain"}, {"content-length", std::to_string(body.size())}});
      (void)x.write(Bytes{reinterpret_cast<const uint8_t*>(body.data()), body.size()}, true);
    }
    if (!x.response_done_) return x.reset(h3::code(h3::H3Error::internal_error));
  }
  settle(c, x);
}

void H3Server::read_body(Conn& c, H3ServerExchange& x) {
  while (!x.ended_) {
    auto r = c.h3->read_data(x.id_, MutBytes{buf_});
    if (!r.ok()) break;  // reset: its event follows
    if (r->bytes) {
      x.body_received_ += r->bytes;
      stats_.body_bytes_received += r->bytes;
      if (x.handler_) x.handler_->on_body(x, Bytes{buf_.data(), r->bytes});
    }
    if (r->fin || r->bytes < buf_.size()) break;
  }
}

void H3Server::settle(Conn& c, H3ServerExchange& x) {
  if (x.ended_ || !x.response_done_) return;
  if (!x.request_done_) {
    // RFC 9114 §4.1: a complete response before the whole request; stop
    // reading the rest with H3_NO_ERROR.
    if (c.h3->stream_exists(x.id_)) (void)c.h3->stop_sending(x.id_, h3::code(h3::H3Error::no_error));
    x.request_done_ = true;
  }
  ++stats_.completed;
  end(c, x);
  if (x.handler_) x.handler_->on_complete(x);
}

void H3Server::abort(Conn& c, H3ServerExchange& x, const H3Failure& f) {
  if (x.ended_) return;
  // Both directions: the client's reset or STOP_SENDING ends the exchange.
  if (!c.closed && c.h3->stream_exists(x.id_)) (void)c.h3->reset_stream(x.id_, h3::code(h3::H3Error::request_cancelled));
  ++stats_.aborted;
  end(c, x);
  if (x.handler_) x.handler_->on_abort(x, f);
}

void H3Server::end(Conn& c, H3ServerExchange& x) {
  x.ended_ = true;
  auto it = c.exchanges.find(x.id_);
  if (it != c.exchanges.end() && it->second.get() == &x) dead_.push_back(c.exchanges.extract(it));
}

void H3Server::after_api(H3ServerExchange& x) {
  auto it = conns_.find(x.quic_);
  if (it == conns_.end()) return;
  // on_complete runs from the next pump, never inside the caller's write().
  it->second->settle_needed = true;
  // Inside pump() (a handler of this connection) the pump settles it and the
  // driver sends after its callback returns (net/quic_driver.cc).
  if (!it->second->pumping) driver_->wake();
}

bool H3Server::pumping(quic::Connection* q) const {
  auto it = conns_.find(q);
  return it != conns_.end() && it->second->pumping;
}

// ---------------------------------------------------------------- shutdown

void H3Server::shutdown(std::function<void()> done) {
  if (shutting_down_) return;
  shutting_down_ = true;
  shutdown_done_ = std::move(done);
  log::debug("h3 server: shutting down ({} connections)", conns_.size());
  for (auto& [q, c] : conns_) {
    if (c->closed) continue;
    // RFC 9114 §5.2: GOAWAY; h3::Connection closes once its requests are done.
    if (c->h3->started()) (void)c->h3->send_goaway();
    else c->quic->close(h3::code(h3::H3Error::no_error), "server shutting down");
    c->h3->process();
    pump(*c);
  }
  if (opts_.shutdown_timeout > Duration::zero()) {
    shutdown_timer_ = loop_.call_after(opts_.shutdown_timeout, [this] {
      shutdown_timer_armed_ = false;
      force_close();
    });
    shutdown_timer_armed_ = true;
  }
  driver_->wake();
  check_shutdown_done();
}

void H3Server::force_close() {
  log::debug("h3 server: shutdown timeout; closing {} connections", conns_.size());
  for (auto& [q, c] : conns_) {
    if (c->closed) continue;
    c->h3->close(h3::code(h3::H3Error::no_error), "server shutdown timeout");
    pump(*c);
  }
  driver_->wake();
}

void H3Server::check_shutdown_done() {
  if (!shutting_down_ || shutdown_reported_ || !conns_.empty()) return;
  shutdown_reported_ = true;
  if (shutdown_timer_armed_) {
    loop_.cancel(shutdown_timer_);
    shutdown_timer_armed_ = false;
  }
  if (shutdown_done_) loop_.defer(std::move(shutdown_done_));
}

}  // namespace wt::net

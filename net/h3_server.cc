#include "net/h3_server.h"

#include <fmt/core.h>

#include "lib/log.h"
#include "lib/random.h"
#include "quic/tls_config.h"

namespace wt::net {

namespace {

using K = H3Failure::Kind;

Error usage(const char* detail) { return h3::h3_error(h3::H3Error::internal_error, detail); }

}  // namespace

// ---------------------------------------------------------------- H3ServerExchange

Status H3ServerExchange::respond(int status, const h3::HeaderList& fields, bool end_stream) {
  if (ended_) return usage("exchange ended");
  if (head_sent_) return usage("response already sent");
  if (status < 100 || status > 999) return usage("bad status");
  h3::HeaderList f;
  f.reserve(fields.size() + 1);
  f.push_back({":status", std::to_string(status)});
  f.insert(f.end(), fields.begin(), fields.end());
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
  else server_->driver_->wake();  // when called outside the server's callbacks
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
  log::debug("h3 server: connection from {}", c.path().remote.to_string());
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
  dead_.clear();  // no handler code is on the stack here
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
  while (auto e = c.h3->poll_event()) handle(c, *e);
  if (c.settle_needed) {
    c.settle_needed = false;
    std::vector<H3ServerExchange*> done;
    for (auto& [id, x] : c.exchanges)
      if (x->response_done_) done.push_back(x.get());
    for (H3ServerExchange* x : done) settle(c, *x);
    // Handlers called by settle() may have produced events.
    while (auto e = c.h3->poll_event()) handle(c, *e);
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
  h3::RequestRules rules;
  rules.connect_protocol_enabled = opts_.h3.enable_connect_protocol;
  auto head = h3::validate_request(e.fields, rules);
  if (!head.ok()) {  // h3::Connection validated it already
    (void)c.h3->reset_stream(e.stream_id, h3::code(h3::H3Error::message_error));
    return;
  }
  auto owned = std::unique_ptr<H3ServerExchange>(new H3ServerExchange());
  H3ServerExchange& x = *owned;
  x.server_ = this;
  x.quic_ = c.quic;
  x.h3_ = c.h3.get();
  x.id_ = e.stream_id;
  x.peer_ = c.peer;
  x.head_ = std::move(*head);
  x.fields_ = std::move(e.fields);
  c.exchanges[x.id_] = std::move(owned);
  ++stats_.requests;
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
  if (it != c.exchanges.end() && it->second.get() == &x) {
    dead_.push_back(std::move(it->second));
    c.exchanges.erase(it);
  }
}

void H3Server::after_api(H3ServerExchange& x) {
  auto it = conns_.find(x.quic_);
  if (it == conns_.end()) return;
  // on_complete runs from the next pump, never inside the caller's write().
  it->second->settle_needed = true;
  driver_->wake();
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

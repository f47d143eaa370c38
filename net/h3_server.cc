#include "net/h3_server.h"

#include <fmt/core.h>

#include <algorithm>

#include "lib/log.h"
#include "lib/random.h"
#include "quic/tls_config.h"

namespace wt::net {

namespace detail {

struct H3ServerConn {
  quic::Connection* quic = nullptr;
  std::unique_ptr<h3::Connection> h3;
  Address peer;
  StreamTable<H3ServerExchange> exchanges;
  bool pumping = false;
  bool closed = false;
  bool dirty = false;  // in H3Server::dirty_
  // Exchanges whose response an API call completed, to settle by stream ID
  // in pump() (an ID no longer in `exchanges` is skipped).
  std::vector<uint64_t> settle_ids, settling;
};

}  // namespace detail

namespace {

using K = H3Failure::Kind;

constexpr size_t kMaxSpare = 256;  // exchanges kept for reuse

Error usage(const char* detail) { return h3::h3_error(h3::H3Error::internal_error, detail); }

// The head of a request h3::Connection has validated (RFC 9114 §4.3.1:
// pseudo-headers first, each once; content-length digits, repeats equal),
// into `h` of a recycled exchange: its strings keep their buffers.
void fill_request_head(const h3::HeaderList& fields, h3::RequestHead& h) {
  h.method.clear();
  h.scheme.clear();
  h.authority.clear();
  h.path.clear();
  h.protocol.clear();
  h.content_length.reset();
  size_t i = 0;
  for (; i < fields.size() && !fields[i].name.empty() && fields[i].name[0] == ':'; ++i) {
    const std::string_view n = fields[i].name;
    const std::string& v = fields[i].value;
    switch (n.size()) {  // validated: the length tells the name apart
      case 5:
        h.path.assign(v);  // :path
        break;
      case 7:
        (n[1] == 'm' ? h.method : h.scheme).assign(v);  // :method, :scheme
        break;
      case 9:
        h.protocol.assign(v);  // :protocol
        break;
      case 10:
        h.authority.assign(v);  // :authority
        break;
      default:
        break;
    }
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
}

}  // namespace

// ---------------------------------------------------------------- H3ServerExchange

H3ServerExchange::~H3ServerExchange() = default;

Status H3ServerExchange::respond(int status, const h3::HeaderList& fields, bool end_stream) {
  if (ended_) return usage("exchange ended");
  if (head_sent_) return usage("response already sent");
  if (status < 100 || status > 999) return usage("bad status");
  // The server's scratch list: its strings keep their buffers across requests.
  h3::HeaderList& f = server_->respond_fields_;
  if (f.empty()) {
    f.resize(1);
    f[0].name.assign(":status");
  }
  f.resize(fields.size() + 1);
  const char digits[3] = {static_cast<char>('0' + status / 100), static_cast<char>('0' + status / 10 % 10),
                          static_cast<char>('0' + status % 10)};
  f[0].value.assign(digits, 3);
  std::copy(fields.begin(), fields.end(), f.begin() + 1);
  // Inside the request factory a body usually follows at once: the HEADERS
  // frame waits for it (one stream write), flushed when the factory returns.
  if (in_factory_ && !end_stream && status >= 200) {
    WT_TRY(h3_->send_response_held(id_, f));
  } else {
    WT_TRY(h3_->send_response(id_, f, end_stream));
  }
  if (status >= 200) {
    head_sent_ = true;
    status_ = status;
    if (end_stream) response_done_ = true;
  }
  // Nothing to do otherwise (the factory's exchange is settled after it returns).
  if (!in_factory_ && (response_done_ || !conn_->pumping)) server_->after_api(*this);
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
  if (response_done_) {
    if (!in_factory_) server_->after_api(*this);
  } else if (!conn_->pumping) {
    server_->driver_->wake();  // called outside the server's callbacks
  }
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
  if (!in_factory_) server_->after_api(*this);
  return {};
}

void H3ServerExchange::reset(uint64_t code) {
  if (ended_) return;
  if (h3_->stream_exists(id_)) (void)h3_->reset_stream(id_, code);
  ++server_->stats_.aborted;
  server_->end(*conn_, *this);  // no callbacks: the application asked for it
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
  for (const auto& qc : conns_) n += qc.second->exchanges.size();
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
  if (!dirty_.empty()) {
    dirty_scratch_.swap(dirty_);
    for (Conn* c : dirty_scratch_) {
      c->dirty = false;
      if (!c->settle_ids.empty()) pump(*c);
    }
    dirty_scratch_.clear();
  }
  // No handler code is on the stack here.
  if (!dead_.empty()) reap();
}

void H3Server::reap() {
  reaping_.swap(dead_);  // a handler's destructor may end another exchange
  for (auto& x : reaping_) {
    x->handler_.reset();
    x->user_data = nullptr;
    if (spare_.size() < kMaxSpare) spare_.push_back(std::move(x));  // the rest is reset when reused
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
  // on_connection_closed() ended every exchange; should one be left, it
  // ends silently here: no live exchange outlives its connection (conn_).
  if (!c.exchanges.empty()) {
    std::vector<H3ServerExchange*> left;
    c.exchanges.for_each([&](H3ServerExchange& x) { left.push_back(&x); });
    for (H3ServerExchange* x : left) end(c, *x);
  }
  if (c.dirty) dirty_.erase(std::find(dirty_.begin(), dirty_.end(), &c));
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
  // In stream ID order; abort() skips any a handler ended meanwhile (ended
  // exchanges stay allocated until on_tick).
  std::vector<H3ServerExchange*> open;
  open.reserve(c.exchanges.size());
  c.exchanges.for_each([&](H3ServerExchange& x) { open.push_back(&x); });
  std::sort(open.begin(), open.end(), [](auto* a, auto* b) { return a->id_ < b->id_; });
  for (H3ServerExchange* x : open) abort(c, *x, each);
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
    if (c.settle_ids.empty()) break;
    c.settling.swap(c.settle_ids);
    // Handlers called by settle() may produce events (the loop goes on).
    for (uint64_t id : c.settling)
      if (H3ServerExchange* x = c.exchanges.find(id)) settle(c, *x);
    c.settling.clear();
  }
  c.pumping = false;
}

void H3Server::handle(Conn& c, h3::Event& e) {
  using T = h3::Event::Type;
  if (e.type == T::closed) return on_connection_closed(c);
  if (e.type == T::headers) return on_request(c, e);
  H3ServerExchange* xp = c.exchanges.find(e.stream_id);
  if (!xp) return;
  H3ServerExchange& x = *xp;
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
    case T::stop_sending:
    case T::stream_error:
      abort_for(c, x, e);
      break;
    case T::writable:
      if (x.handler_ && !x.response_done_) x.handler_->on_writable(x);
      break;
    default:
      break;
  }
}

// The client's reset or STOP_SENDING, or a malformed request: out of
// handle()'s way (its hot cases stay small).
[[gnu::noinline]] void H3Server::abort_for(Conn& c, H3ServerExchange& x, const h3::Event& e) {
  using T = h3::Event::Type;
  const std::string code = describe_error_code(e.code, true);
  if (e.type == T::stream_reset)
    abort(c, x, H3Failure::make(K::reset, fmt::format("client reset the request with {}", code), e.code));
  else if (e.type == T::stop_sending)
    abort(c, x, H3Failure::make(K::reset, fmt::format("client stopped reading the response ({})", code), e.code));
  else
    abort(c, x, H3Failure::make(K::protocol, fmt::format("malformed request: stream aborted with {}", code), e.code));
}

void H3Server::on_request(Conn& c, h3::Event& e) {
  std::unique_ptr<H3ServerExchange> owned;
  if (!spare_.empty()) {
    owned = std::move(spare_.back());
    spare_.pop_back();
  } else {
    owned = std::unique_ptr<H3ServerExchange>(new H3ServerExchange());
  }
  H3ServerExchange& x = *owned;
  // A recycled exchange: every field back to a new one's (on_tick already
  // destroyed its handler and cleared user_data).
  x.server_ = this;
  x.conn_ = &c;
  x.h3_ = c.h3.get();
  x.id_ = e.stream_id;
  x.peer_ = c.peer;
  c.h3->recycle(std::move(x.fields_));  // the last request's list: decoded into next
  x.fields_ = std::move(e.fields);
  fill_request_head(x.fields_, x.head_);
  x.trailers_.clear();
  x.status_ = 0;
  x.body_received_ = x.body_sent_ = 0;
  x.request_done_ = x.response_done_ = x.head_sent_ = x.ended_ = false;
  // A stream ID is never reused; should one be, the exchange it replaces
  // is freed by on_tick like an ended one.
  if (auto old = c.exchanges.insert(e.stream_id, std::move(owned))) {
    old->ended_ = true;
    dead_.push_back(std::move(old));
  }
  ++stats_.requests;
  if (log::enabled(log::Level::debug))
    log::debug("h3 server: {} {} {} on stream {}", c.peer.to_string(), x.head_.method, x.head_.path, x.id_);
  x.in_factory_ = true;  // settled right after it returns
  auto handler = opts_.on_request(x);
  x.in_factory_ = false;
  c.h3->flush_held(x.id_);  // a response without its body yet
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
    (void)c.h3->stop_sending(x.id_, h3::code(h3::H3Error::no_error));  // an error if the stream is gone
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
  if (auto owned = c.exchanges.take(x.id_, &x)) dead_.push_back(std::move(owned));
  // Usually settled right after the API call that queued it.
  if (!c.settle_ids.empty() && c.settle_ids.back() == x.id_) c.settle_ids.pop_back();
}

// Not for an exchange in its factory: on_request() settles it next, inside pump().
void H3Server::after_api(H3ServerExchange& x) {
  Conn& c = *x.conn_;  // x has not ended: its connection is alive
  // on_complete runs from the next pump, never inside the caller's write().
  if (x.response_done_ && (c.settle_ids.empty() || c.settle_ids.back() != x.id_)) c.settle_ids.push_back(x.id_);
  // Inside pump() (a handler of this connection) the pump settles it and the
  // driver sends after its callback returns (net/quic_driver.cc).
  if (c.pumping) return;
  if (!c.dirty && !c.settle_ids.empty()) {
    c.dirty = true;
    dirty_.push_back(&c);
  }
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

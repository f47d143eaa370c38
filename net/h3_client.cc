#include "net/h3_client.h"

#include <arpa/inet.h>
#include <fmt/core.h>

#include <algorithm>

#include "h3/message.h"
#include "lib/io/clock.h"
#include "lib/log.h"
#include "lib/random.h"
#include "quic/tls_config.h"

namespace wt::net {

namespace {

using K = H3Failure::Kind;

std::string host_of(const Address& a) {
  char buf[INET6_ADDRSTRLEN] = {};
  if (a.family == 4) inet_ntop(AF_INET, a.ip.data(), buf, sizeof buf);
  else if (a.family == 6) inet_ntop(AF_INET6, a.ip.data(), buf, sizeof buf);
  return buf;
}

constexpr size_t kMaxSpare = 256;  // streams and map nodes kept for reuse

double seconds(Duration d) { return static_cast<double>(d.count()) / 1e9; }

// content-length of a validated field section (RFC 9110 §8.6: digits;
// repeated or listed values are equal, so the first one is the value).
std::optional<uint64_t> validated_content_length(const h3::HeaderList& fields) {
  for (const h3::HeaderField& f : fields) {
    if (std::string_view{f.name} != "content-length") continue;
    uint64_t len = 0;
    for (char ch : f.value) {
      if (ch == ' ' || ch == '\t') continue;
      if (ch < '0' || ch > '9') break;
      len = len * 10 + static_cast<uint64_t>(ch - '0');
    }
    return len;
  }
  return std::nullopt;
}

}  // namespace

std::string make_authority(const std::string& host, uint16_t port, uint16_t default_port) {
  const bool v6 = host.find(':') != std::string::npos && host.front() != '[';
  std::string a;
  a.reserve(host.size() + 8);
  if (v6) a.push_back('[');
  a.append(host);
  if (v6) a.push_back(']');
  if (port != default_port) a.append(fmt::format(":{}", port));
  return a;
}

// ---------------------------------------------------------------- H3ClientStream

Result<size_t> H3ClientStream::write(Bytes data, bool fin) {
  if (!has_body_) return Error::app(h3::code(h3::H3Error::internal_error), "request has no body");
  if (ended_ || request_done_) return Error::app(h3::code(h3::H3Error::internal_error), "request body ended");
  if (!sent() || !client_->h3_) return size_t{0};
  auto r = client_->h3_->send_data(id_, data, fin);
  if (!r.ok()) return r;
  client_->stats_.body_bytes_sent += *r;
  if (fin && *r == data.size()) request_done_ = true;
  client_->after_api();
  return r;
}

Status H3ClientStream::finish() {
  WT_ASSIGN(size_t n, write({}, true));
  (void)n;
  return {};
}

void H3ClientStream::pause_body() { paused_ = true; }

void H3ClientStream::set_request(H3Request&& r, const std::string& default_authority) {
  if (head_.size() < 4) {  // a new object; recycled ones keep these names
    head_.resize(4);
    head_[0].name.assign(":method");
    head_[1].name.assign(":scheme");
    head_[2].name.assign(":authority");
    head_[3].name.assign(":path");
  }
  head_.resize(4 + r.headers.size());
  // Moves: `r` is ours (libstdc++ inlines these; assign() is a call).
  head_[0].value = std::move(r.method);
  head_[1].value = std::move(r.scheme);
  if (!r.authority.empty()) {
    head_[2].value = std::move(r.authority);
    default_authority_ = false;
  } else if (!default_authority_) {  // usually there already
    head_[2].value.assign(default_authority);
    default_authority_ = true;
  }
  head_[3].value = std::move(r.path);
  std::move(r.headers.begin(), r.headers.end(), head_.begin() + 4);
  has_body_ = r.has_body;
  req_built_ = false;
}

const H3Request& H3ClientStream::request() const {
  if (!req_built_) {
    req_.method = method();
    req_.scheme = head_[1].value;
    req_.authority = head_[2].value;
    req_.path = path();
    req_.headers.assign(head_.begin() + 4, head_.end());
    req_.has_body = has_body_;
    req_built_ = true;
  }
  return req_;
}

std::optional<uint64_t> H3ClientStream::content_length() const {
  // h3::Connection validated the response (RFC 9114 §4.1.2); HEAD, 1xx, 204
  // and 304 responses have no content.
  if (status_ == 0 || h3::response_has_no_content(method() == "HEAD", status_)) return std::nullopt;
  return validated_content_length(fields_);
}

H3ClientStream::~H3ClientStream() = default;

void H3ClientStream::restart(H3ResponseHandler& h) {
  handler_ = &h;
  id_ = kNotSent;
  status_ = 0;
  fields_.clear();
  trailers_.clear();
  body_bytes_ = 0;
  request_done_ = response_done_ = ended_ = paused_ = read_pending_ = false;
  timer_ = {};
  timer_armed_ = false;
  user_data = nullptr;
}

void H3ClientStream::resume_body() {
  if (!paused_) return;
  paused_ = false;
  if (!read_pending_ || ended_) return;
  // The `data` event came while paused: read from the loop, not from inside
  // the caller (which may be a handler of another stream).
  H3Client* c = client_;
  const uint64_t id = id_;
  c->loop_.defer([c, id] {
    if (H3ClientStream* s = c->find(id); s && !s->paused_ && !s->ended_) {
      c->read_body(*s);
      c->after_api();
    }
    c->reap();
  });
  c->driver_->wake();
}

void H3ClientStream::cancel() {
  if (ended_) return;
  H3Client& c = *client_;
  if (sent() && c.h3_ && c.h3_->stream_exists(id_))
    (void)c.h3_->reset_stream(id_, h3::code(h3::H3Error::request_cancelled));
  ended_ = true;  // no callbacks: the application asked for it
  c.end(*this);
  c.after_api();
}

// ---------------------------------------------------------------- setup

H3Client::H3Client(io::Loop& loop, const Address& remote, H3ClientOptions options)
    : loop_(loop), remote_(remote), opts_(std::move(options)) {
  if (!opts_.authority.empty()) {
    authority_ = opts_.authority;
  } else {
    authority_ = make_authority(opts_.conn.server_name.empty() ? host_of(remote_) : opts_.conn.server_name,
                                remote_.port);
  }
}

Result<std::unique_ptr<H3Client>> H3Client::connect(io::Loop& loop, const Address& remote,
                                                    H3ClientOptions options) {
  if (!options.conn.tls || options.conn.tls->is_server())
    return Error(TransportError::internal_error, "H3Client needs a client TLS configuration");
  if (!remote.valid()) return Error(TransportError::internal_error, "H3Client: no server address");
  std::unique_ptr<H3Client> c(new H3Client(loop, remote, std::move(options)));
  quic::EndpointConfig ec;
  ec.conn = c->opts_.conn;
  if (!ec.conn.rng) {
    c->own_rng_ = std::make_unique<SystemRandom>();
    ec.conn.rng = c->own_rng_.get();
  }
  ec.server = false;
  ec.qlog_factory = c->opts_.qlog;
  DriverOptions d;
  d.bind = c->opts_.bind;
  if (!d.bind.valid()) d.bind.family = remote.family;  // wildcard, any port
  d.socket = c->opts_.socket;
  WT_ASSIGN(c->driver_, QuicDriver::create(loop, ec, *c, d));
  WT_ASSIGN(c->quic_, c->driver_->connect(remote));
  h3::Config h3c = c->opts_.h3;
  // request() validated each request already (with stricter rules: no
  // :protocol), and requests are all the client sends with headers.
  h3c.validate_outgoing = false;
  c->h3_ = std::make_unique<h3::Connection>(*c->quic_, std::move(h3c));
  if (c->opts_.connect_timeout > Duration::zero()) {
    H3Client* self = c.get();
    c->connect_timer_ = loop.call_after(c->opts_.connect_timeout, [self] { self->on_connect_timeout(); });
    c->connect_timer_armed_ = true;
  }
  return c;
}

H3Client::~H3Client() {
  if (connect_timer_armed_) loop_.cancel(connect_timer_);
  auto disarm = [&](H3ClientStream& s) {
    if (s.timer_armed_) loop_.cancel(s.timer_);
  };
  streams_.for_each(disarm);
  for (auto& s : pending_) disarm(*s);
  h3_.reset();  // before the driver frees the QUIC connection it refers to
}

std::optional<std::vector<uint8_t>> H3Client::take_session_ticket() {
  if (quic_)
    if (auto t = quic_->take_session_ticket()) ticket_ = std::move(t);
  auto t = std::move(ticket_);
  ticket_.reset();
  return t;
}

// ---------------------------------------------------------------- requests

Result<H3ClientStream*> H3Client::request(H3Request req, H3ResponseHandler& handler) {
  if (closed_) return Error::app(h3::code(h3::H3Error::request_rejected), "connection closed");
  if (shutting_down_ || goaway_) return Error::app(h3::code(h3::H3Error::request_rejected), "client is shutting down");
  std::unique_ptr<H3ClientStream> s;
  if (!spare_.empty()) {
    s = std::move(spare_.back());
    spare_.pop_back();
  } else {
    s = std::unique_ptr<H3ClientStream>(new H3ClientStream(*this));
  }
  H3ClientStream* p = s.get();
  p->set_request(std::move(req), authority_);
  // Refused here rather than later in a callback: RFC 9114 §4.1.2. The
  // only check of it: h3::Connection's (validate_outgoing) is off.
  if (auto v = h3::validate_request_view(p->head_); !v.ok()) {
    if (spare_.size() < kMaxSpare) spare_.push_back(std::move(s));
    return v.error();
  }
  p->restart(handler);
  if (opts_.request_timeout > Duration::zero()) {
    p->timer_ = loop_.call_after(opts_.request_timeout, [this, p] {
      p->timer_armed_ = false;
      on_request_timeout(*p);
    });
    p->timer_armed_ = true;
  }
  ++stats_.requests;
  if (connected_ && pending_.empty() && !sending_ && h3_ && !closed_) {
    // Nothing queued ahead of it: straight out.
    sending_ = true;
    if (!send_one(s)) pending_.push_back(std::move(s));
    sending_ = false;
  } else {
    pending_.push_back(std::move(s));
  }
  if (connected_ && !pending_.empty()) send_pending();
  after_api();
  return p;
}

void H3Client::send_pending() {
  if (sending_ || !h3_ || closed_ || !connected_) return;
  sending_ = true;
  while (!pending_.empty() && !closed_) {
    auto owned = std::move(pending_.front());
    pending_.pop_front();
    if (!send_one(owned)) {
      pending_.push_front(std::move(owned));
      break;
    }
  }
  sending_ = false;
}

// Sends the request of `owned` (out of pending_): it moves to streams_, or
// fails and ends. False when the peer's stream limit holds it back (RFC
// 9000 §4.6: on_tick retries after MAX_STREAMS); `owned` is then untouched.
bool H3Client::send_one(std::unique_ptr<H3ClientStream>& owned) {
  H3ClientStream& s = *owned;
  auto id = h3_->send_request(s.head_, !s.has_body_);
  if (!id.ok()) {
    if (id.error().is(TransportError::stream_limit_error)) return false;
    const bool rejected = h3::is_h3_error(id.error(), h3::H3Error::request_rejected);
    dead_.push_back(std::move(owned));
    fail(s, H3Failure::make(rejected ? K::rejected : K::protocol,
                            fmt::format("cannot send the request: {}", id.error().detail), id.error().code));
    return true;
  }
  s.id_ = *id;
  if (!s.has_body_) s.request_done_ = true;
  if (log::enabled(log::Level::debug)) log::debug("h3 client: {} {} on stream {}", s.method(), s.path(), *id);
  // A stream ID is never reused; should one be, the object it replaces
  // is freed by reap() like an ended one.
  if (auto old = streams_.insert(*id, std::move(owned))) dead_.push_back(std::move(old));
  if (s.has_body_) s.handler_->on_writable(s);
  return true;
}

std::vector<H3ClientStream*> H3Client::sorted_streams() {
  std::vector<H3ClientStream*> v;
  v.reserve(streams_.size());
  streams_.for_each([&](H3ClientStream& s) { v.push_back(&s); });
  std::sort(v.begin(), v.end(), [](const H3ClientStream* a, const H3ClientStream* b) { return a->id_ < b->id_; });
  return v;
}

// Moves an ended stream out of the live tables; freed by reap().
void H3Client::end(H3ClientStream& s) {
  s.ended_ = true;
  if (s.timer_armed_) {
    loop_.cancel(s.timer_);
    s.timer_armed_ = false;
  }
  if (s.sent()) {
    if (auto owned = streams_.take(s.id_, &s)) dead_.push_back(std::move(owned));
  } else {
    auto it = std::find_if(pending_.begin(), pending_.end(), [&](const auto& p) { return p.get() == &s; });
    if (it != pending_.end()) {
      dead_.push_back(std::move(*it));
      pending_.erase(it);
    }
  }
}

void H3Client::complete(H3ClientStream& s) {
  if (s.ended_) return;
  // The server may answer before our body is done (RFC 9114 §4.1): stop.
  if (!s.request_done_ && h3_) (void)h3_->reset_stream(s.id_, h3::code(h3::H3Error::no_error));  // an error if gone
  s.request_done_ = true;
  ++stats_.completed;
  end(s);
  s.handler_->on_complete(s);
}

void H3Client::fail(H3ClientStream& s, const H3Failure& f) {
  if (s.ended_) return;
  if (log::enabled(log::Level::debug)) log::debug("h3 client: request {} {} failed: {}", s.method(), s.path(), f.message);
  ++stats_.failed;
  end(s);
  s.handler_->on_error(s, f);
}

// Only from loop callbacks (driver, timers, deferred work): never with
// application code on the stack, so a handler may use its stream until its
// last callback returns.
void H3Client::reap() {
  reaping_.swap(dead_);
  for (auto& s : reaping_)
    if (spare_.size() < kMaxSpare) spare_.push_back(std::move(s));  // reset when reused
  reaping_.clear();
}

void H3Client::after_api() {
  if (pumping_) return;  // the running dispatch picks everything up
  pump();
  if (driver_) driver_->wake();
}

// ---------------------------------------------------------------- driving

void H3Client::on_events(quic::Connection& c, Time) {
  if (&c != quic_ || !h3_) return;
  // Keep the ticket: the server sends it after the handshake.
  if (auto t = c.take_session_ticket()) ticket_ = std::move(t);
  h3_->process();
  pump();
}

void H3Client::on_tick(Time) {
  if (h3_ && connected_ && !pending_.empty()) {
    send_pending();
    pump();
  }
  reap();
}

void H3Client::on_removed(quic::Connection& c) {
  if (&c != quic_) return;
  if (h3_) {
    // The QUIC connection is freed right after: take what is left.
    h3_->process();
    pump();
  }
  if (!closed_) {
    pumping_ = true;  // handlers' API calls wait: the connection is going away
    on_closed_event();
    pumping_ = false;
  }
  h3_.reset();
  quic_ = nullptr;
  reap();
}

void H3Client::pump() {
  if (pumping_ || !h3_) return;
  pumping_ = true;
  if (!connected_ && !closed_ && h3_->started()) on_connected();
  while (h3_) {
    auto e = h3_->poll_event();
    if (!e) break;
    handle(*e);
  }
  pumping_ = false;
  maybe_close_after_goaway();
}

void H3Client::on_connected() {
  connected_ = true;
  if (connect_timer_armed_) {
    loop_.cancel(connect_timer_);
    connect_timer_armed_ = false;
  }
  // RFC 9114 §3.1: the server must have chosen our ALPN.
  if (quic_->alpn() != "h3") {
    local_failure_ = H3Failure::make(K::tls, fmt::format("{} chose ALPN '{}', not h3", remote_.to_string(),
                                                         std::string(quic_->alpn())));
    h3_->close(h3::code(h3::H3Error::version_fallback), "ALPN is not h3");
    return;
  }
  if (log::enabled(log::Level::debug)) log::debug("h3 client: connected to {}", remote_.to_string());
  if (opts_.on_connected) opts_.on_connected();
  send_pending();
}

// The rare events, out of handle()'s way (its hot cases stay small).
[[gnu::noinline]] void H3Client::handle_rare(h3::Event& e, H3ClientStream* s) {
  using T = h3::Event::Type;
  switch (e.type) {
    case T::closed:
      return on_closed_event();
    case T::goaway:
      goaway_ = true;
      log::debug("h3 client: GOAWAY {}", e.code);
      if (opts_.on_goaway) opts_.on_goaway(e.code);
      // RFC 9114 §5.2: no new requests on this connection.
      while (!pending_.empty())
        fail(*pending_.front(), H3Failure::make(K::rejected, "server is shutting down (GOAWAY); request not sent",
                                                h3::code(h3::H3Error::request_rejected)));
      return;
    case T::stream_reset:
      fail(*s, H3Failure::make(e.code == h3::code(h3::H3Error::request_rejected) ? K::rejected : K::reset,
                               fmt::format("server reset the stream with {}", describe_error_code(e.code, true)),
                               e.code));
      return;
    case T::stream_error:
      if (e.code == h3::code(h3::H3Error::request_rejected))
        fail(*s, H3Failure::make(K::rejected, "server is shutting down (GOAWAY); request not processed", e.code));
      else
        fail(*s, H3Failure::make(K::protocol, fmt::format("malformed response: stream aborted with {}",
                                                          describe_error_code(e.code, true)),
                                 e.code));
      return;
    default:
      return;
  }
}

void H3Client::handle(h3::Event& e) {
  using T = h3::Event::Type;
  if (e.type == T::closed || e.type == T::goaway) return handle_rare(e, nullptr);
  H3ClientStream* s = find(e.stream_id);
  if (!s || s->ended_) return;
  switch (e.type) {
    case T::headers:
      if (e.status >= 100 && e.status < 200) {
        s->handler_->on_informational(*s, e.status, e.fields);
        break;
      }
      s->status_ = e.status;
      h3_->recycle(std::move(s->fields_));  // the last response's list: decoded into next
      s->fields_ = std::move(e.fields);
      s->handler_->on_response(*s, s->status_, s->fields_);
      break;
    case T::data:
      s->read_pending_ = true;
      read_body(*s);
      break;
    case T::trailers:
      s->trailers_ = std::move(e.fields);
      s->handler_->on_trailers(*s, s->trailers_);
      break;
    case T::finished:
      s->response_done_ = true;
      complete(*s);
      break;
    case T::stream_reset:
    case T::stream_error:
      handle_rare(e, s);
      break;
    case T::stop_sending:
      // RFC 9114 §4.1: with H3_NO_ERROR the server needs no more of the body
      // and the response still counts; otherwise a reset usually follows.
      s->request_done_ = true;
      break;
    case T::writable:
      if (!s->request_done_) s->handler_->on_writable(*s);
      break;
    default:
      break;
  }
}

void H3Client::read_body(H3ClientStream& s) {
  while (!s.ended_ && h3_) {
    if (s.paused_) return;  // read_pending_ stays set for resume_body()
    auto r = h3_->read_data(s.id_, MutBytes{buf_});
    if (!r.ok()) break;  // reset or aborted: its event follows
    if (r->bytes) {
      s.body_bytes_ += r->bytes;
      stats_.body_bytes_received += r->bytes;
      s.handler_->on_body(s, Bytes{buf_.data(), r->bytes});
    }
    if (r->fin || r->bytes < buf_.size()) break;
  }
  s.read_pending_ = false;
}

// ---------------------------------------------------------------- lifetime

void H3Client::on_connect_timeout() {
  connect_timer_armed_ = false;
  if (connected_ || closed_ || !quic_) return;
  local_failure_ = H3Failure::make(
      K::timeout, fmt::format("no response from {} within {:g} s (QUIC handshake timed out; is an HTTP/3 "
                              "server listening there?)",
                              remote_.to_string(), seconds(opts_.connect_timeout)));
  quic_->close(h3::code(h3::H3Error::no_error), "connect timeout");
  if (h3_) h3_->process();
  after_api();
  reap();
}

void H3Client::on_request_timeout(H3ClientStream& s) {
  if (s.ended_) return;
  if (s.sent() && h3_ && h3_->stream_exists(s.id_))
    (void)h3_->reset_stream(s.id_, h3::code(h3::H3Error::request_cancelled));
  fail(s, H3Failure::make(K::timeout, fmt::format("request {} {} did not complete within {:g} s",
                                                  s.method(), s.path(), seconds(opts_.request_timeout))));
  after_api();
  reap();
}

void H3Client::on_closed_event() {
  if (closed_) return;
  closed_ = true;
  if (connect_timer_armed_) {
    loop_.cancel(connect_timer_);
    connect_timer_armed_ = false;
  }
  H3Failure f;
  if (local_failure_) {
    f = *local_failure_;
  } else if (quic_) {
    const auto& info = quic_->close_info();
    f = failure_from_close(info, connected_, remote_, quic_->tls().last_error());
  } else {
    f = H3Failure::make(K::closed, "connection closed");
  }
  // A graceful close with nothing left unfinished is no failure.
  const bool unfinished = !streams_.empty() || !pending_.empty();
  failure_ = f;
  if (f.kind == K::closed && f.code == h3::code(h3::H3Error::no_error) && !unfinished) failure_ = H3Failure{};
  if (f.kind == K::cancelled && !unfinished) failure_ = H3Failure{};
  log::debug("h3 client: connection closed: {}", f.message);
  H3Failure each = f;
  if (each.kind == K::closed && connected_)
    each.message = "connection closed before the response was complete (" + f.message + ")";
  // In stream ID order; fail() skips any a handler ended meanwhile (ended
  // objects stay allocated until reap()).
  for (H3ClientStream* s : sorted_streams()) fail(*s, each);
  while (!pending_.empty()) fail(*pending_.front(), each);
  if (opts_.on_closed) opts_.on_closed(failure_);
}

void H3Client::shutdown() {
  if (shutting_down_ || closed_) return;
  shutting_down_ = true;
  // Requests not sent yet will never be.
  while (!pending_.empty())
    fail(*pending_.front(), H3Failure::make(K::cancelled, "client shut down before the request was sent"));
  after_api();
}

void H3Client::maybe_close_after_goaway() {
  if (closed_ || !h3_ || !(shutting_down_ || goaway_) || !streams_.empty() || !pending_.empty()) return;
  if (!connected_) {
    // Nothing to say over HTTP/3 yet; just end the handshake.
    local_failure_ = H3Failure::make(K::cancelled, "client shut down before the handshake completed");
    quic_->close(h3::code(h3::H3Error::no_error), "");
  } else {
    h3_->close(h3::code(h3::H3Error::no_error), "");
  }
  // The closed event is handled by the next pump (close() emitted it).
  if (!pumping_) {
    h3_->process();
    pump();
  }
}

void H3Client::close(uint64_t code, std::string_view reason) {
  if (closed_ || !h3_) return;
  shutting_down_ = true;
  local_failure_ = H3Failure::make(K::cancelled, fmt::format("connection closed locally ({}{}{})",
                                                             describe_error_code(code, true),
                                                             reason.empty() ? "" : ": ", reason),
                                   code);
  if (!connected_) quic_->close(code, reason);
  else h3_->close(code, reason);
  h3_->process();
  after_api();
}

}  // namespace wt::net

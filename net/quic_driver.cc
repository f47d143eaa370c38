#include "net/quic_driver.h"

#include <algorithm>
#include <cstring>

#include "lib/io/sockaddr.h"
#include "lib/log.h"

namespace wt::net {

quic::Path client_path(const Address& local, bool wildcard, const Address& remote) {
  quic::Path p;
  if (!wildcard) p.local = local;
  p.remote = remote;
  return p;
}

// The handler of an additional socket: receives and sends go through the
// driver; the main socket alone carries the endpoint's deadline.
class QuicDriver::ExtraSocket final : public io::UdpHandler {
 public:
  ExtraSocket(QuicDriver& d, size_t index) : d_(d), index_(index) {}
  void on_receive(const io::DatagramBatchView& batch, Time now) override {
    d_.receive_on(index_, batch, now);
  }
  // The endpoint's deadline lives on the main socket: have the loop re-read
  // it after anything that may move it.
  void on_receive_done(Time now) override {
    d_.dispatch(now);
    d_.loop_.notify(d_.socks_[0].id);
  }
  size_t on_send(io::SendBuffer& out, Time now) override {
    size_t n = d_.send_on(index_, out, now);
    if (n) d_.loop_.notify(d_.socks_[0].id);
    return n;
  }
  Time next_deadline() const override { return kTimeInfinite; }
  void on_deadline(Time) override {}

 private:
  QuicDriver& d_;
  size_t index_;
};

QuicDriver::QuicDriver(io::Loop& loop, QuicApp& app, const quic::EndpointConfig& config)
    : loop_(loop), app_(app), endpoint_(std::make_unique<quic::Endpoint>(config)) {}

Result<std::unique_ptr<QuicDriver>> QuicDriver::create(io::Loop& loop,
                                                       const quic::EndpointConfig& config,
                                                       QuicApp& app, const DriverOptions& options) {
  std::unique_ptr<QuicDriver> d(new QuicDriver(loop, app, config));
  d->reap_closed_ = options.reap_closed;
  std::vector<Address> binds{options.bind};
  binds.insert(binds.end(), options.also_bind.begin(), options.also_bind.end());
  // Registered sockets are unregistered by the destructor if a later one fails.
  d->socks_.reserve(binds.size());
  for (size_t i = 0; i < binds.size(); ++i) {
    WT_ASSIGN(auto sock, io::UdpSocket::bind(binds[i], options.socket));
    Sock s;
    s.local = sock.local_address();
    s.wildcard = sock.wildcard();
    if (i == 0) {
      d->gso_ = sock.gso();
      d->gro_ = sock.gro();
    } else {
      s.handler = std::make_unique<ExtraSocket>(*d, i);
    }
    io::UdpHandler& h = i == 0 ? static_cast<io::UdpHandler&>(*d) : *s.handler;
    WT_ASSIGN(s.id, loop.add_socket(std::move(sock), h));
    d->socks_.push_back(std::move(s));
  }
  return d;
}

QuicDriver::~QuicDriver() {
  for (auto& s : socks_) loop_.remove_socket(s.id);
}

Result<quic::Connection*> QuicDriver::connect(const Address& remote) {
  return connect(remote, endpoint_->config().conn);
}

Result<quic::Connection*> QuicDriver::connect(const Address& remote,
                                              const quic::ConnectionConfig& config) {
  // The loop's clock: callbacks and code between iterations agree on it.
  Time now = io::monotonic_now();
  const Sock& s = socks_[0];
  WT_ASSIGN(auto* c, endpoint_->connect(client_path(s.local, s.wildcard, remote), now, config));
  wake();
  return c;
}

void QuicDriver::wake() {
  dispatch_pending_ = true;
  loop_.notify(socks_[0].id);
}

void QuicDriver::on_receive(const io::DatagramBatchView& batch, Time now) {
  receive_on(0, batch, now);
}

void QuicDriver::receive_on(size_t index, const io::DatagramBatchView& batch, Time now) {
  ++stats_.recv_batches;
  const Sock& s = socks_[index];
  quic::Path path;
  path.local = s.wildcard && batch.local.valid() ? batch.local : s.local;
  path.remote = batch.peer;
  const size_t n = batch.count();
  stats_.recv_datagrams += n;
  for (size_t i = 0; i < n; ++i) endpoint_->receive(batch.datagram(i), path, batch.ecn, now);
}

void QuicDriver::on_receive_done(Time now) { dispatch(now); }

void QuicDriver::on_deadline(Time now) {
  endpoint_->on_timeout(now);
  dispatch(now);
}

Time QuicDriver::next_deadline() const { return endpoint_->next_timeout(); }

size_t QuicDriver::socket_for(const quic::SendBatch& b) const {
  if (socks_.size() == 1 || !b.path.local.valid()) return 0;
  for (size_t i = 0; i < socks_.size(); ++i) {
    const Sock& s = socks_[i];
    if (s.local == b.path.local) return i;
    if (s.wildcard && s.local.port == b.path.local.port) return i;
  }
  return 0;
}

Address QuicDriver::send_source(const Sock& s, const quic::SendBatch& b) const {
  // A specific source only matters on a wildcard socket (pktinfo).
  if (!s.wildcard || !b.path.local.valid() || io::is_wildcard(b.path.local)) return {};
  return b.path.local;
}

size_t QuicDriver::on_send(io::SendBuffer& out, Time now) { return send_on(0, out, now); }

size_t QuicDriver::send_on(size_t index, io::SendBuffer& out, Time now) {
  if (dispatch_pending_) dispatch(now);
  size_t n = 0;
  Sock& self = socks_[index];
  // Batches another socket pulled for this one go first.
  while (!self.handoff.empty() && out.has_space()) {
    Handoff& h = self.handoff.front();
    std::memcpy(out.space().data(), h.data.data(), h.data.size());
    out.commit(h.data.size(), h.segment_size, h.peer, h.local, h.ecn);
    self.handoff.erase(self.handoff.begin());
    ++n;
  }
  while (out.has_space()) {
    // One batch per sendmsg: no more than one GSO send may carry, in whole
    // segments of the size the last batch had (the loop splits a batch
    // whose short last datagram would cross the limit).
    MutBytes space = out.space();
    size_t room = io::kMaxGsoBytes;
    if (last_segment_ >= 1200) room = std::min(room / last_segment_, io::kMaxGsoSegments) * last_segment_;
    space = space.first(std::min(space.size(), room));
    quic::SendBatch b = endpoint_->send(space, now);
    if (!b.bytes) break;
    const size_t count = b.datagrams();
    if (count > 1) last_segment_ = b.segment_size;
    ++stats_.send_batches;
    stats_.send_datagrams += count;
    stats_.send_bytes += b.bytes;
    const size_t target = socket_for(b);
    Sock& to = socks_[target];
    const size_t segment = count > 1 ? b.segment_size : 0;
    if (target == index) {
      out.commit(b.bytes, segment, b.path.remote, send_source(to, b), b.ecn);
      ++n;
    } else {
      // Rare (a path on another socket): copy it over and wake that socket.
      to.handoff.push_back({std::vector<uint8_t>(space.begin(), space.begin() + static_cast<long>(b.bytes)),
                            segment, b.path.remote, send_source(to, b), b.ecn});
      loop_.notify(to.id);
    }
  }
  return n;
}

DriverStats QuicDriver::totals() {
  DriverStats t = stats_;
  endpoint_->for_each([&](quic::Connection& c) {
    const quic::ConnectionStats& cs = c.stats();
    t.ack_frames_sent += cs.ack_frames_sent;
    t.ack_frames_received += cs.ack_frames_received;
  });
  return t;
}

void QuicDriver::dispatch(Time now) {
  // Re-entry (the application calling wake() from a callback) only marks
  // another round for the next on_send.
  if (in_dispatch_) {
    dispatch_pending_ = true;
    return;
  }
  in_dispatch_ = true;
  dispatch_pending_ = false;
  ++stats_.dispatches;
  while (quic::Connection* c = endpoint_->accept()) app_.on_accept(*c, now);
  // Collected first: callbacks may create connections (the endpoint's list
  // grows) but nothing is freed before the reaping below.
  ready_.clear();
  bool any_closed = false;
  endpoint_->for_each([&](quic::Connection& c) {
    if (c.has_events()) ready_.push_back(&c);
    else if (c.is_closed()) any_closed = true;
  });
  for (quic::Connection* c : ready_) {
    app_.on_events(*c, now);
    while (c->poll_event()) {
    }
    if (c->is_closed()) any_closed = true;
  }
  if (reap_closed_ && any_closed) {
    ready_.clear();
    endpoint_->for_each([&](quic::Connection& c) {
      if (c.is_closed() && !c.has_events()) ready_.push_back(&c);
    });
    for (quic::Connection* c : ready_) {
      app_.on_removed(*c);
      const quic::ConnectionStats& cs = c->stats();
      stats_.ack_frames_sent += cs.ack_frames_sent;
      stats_.ack_frames_received += cs.ack_frames_received;
    }
    stats_.connections_removed += ready_.size();
    endpoint_->remove_closed();
  }
  app_.on_tick(now);
  in_dispatch_ = false;
}

}  // namespace wt::net
